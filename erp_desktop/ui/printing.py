"""Printing helpers every page can share: preview a PDF, save one, print a batch.

- `preview_pdf(parent, make_bytes, title=..., file_name=...)` runs `make_bytes`
  (a service call that renders a PDF) on the worker, then opens
  `PdfPreviewDialog` over `parent` (preview, Save as PDF, Print).
- `save_pdf_as(parent, make_bytes, title=..., file_name=...)` asks where to
  save, then renders and writes the file on the worker (temporary name, then
  rename: never half a file under the chosen name).
- `batch_to_folder` / `batch_to_one_pdf` run a batch export with a progress
  dialog and Cancel (`ui.progress.run_with_progress`). The export is any
  service function taking `directory=` or `one_file=` plus the two hooks
  batch services take, `progress(done, total)` and `cancelled() -> bool`
  (`services.invoice_pdf.export_invoices`, a payslip batch ...).

Nothing here knows what is printed: the caller hands over the service call.
Each helper takes the target path as an argument too, so tests (and callers
that already know where) skip the file dialog.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QFileDialog, QWidget

from erp_desktop.ui.progress import ProgressRun, run_with_progress
from erp_desktop.ui.worker import CancelToken, Task, run_in_background


def _tr(text: str) -> str:
    return QCoreApplication.translate("printing", text)


def ask_pdf_path(parent: QWidget | None, title: str, file_name: str) -> Path | None:
    """The native Save dialog for a PDF; None when the person cancels."""
    chosen, _ = QFileDialog.getSaveFileName(parent, title, str(Path.home() / file_name),
                                            _tr("PDF files (*.pdf)"))
    if not chosen:
        return None
    path = Path(chosen)
    return path if path.suffix.lower() == ".pdf" else path.with_suffix(".pdf")


def ask_folder(parent: QWidget | None, title: str) -> Path | None:
    chosen = QFileDialog.getExistingDirectory(parent, title, str(Path.home()))
    return Path(chosen) if chosen else None


def preview_pdf(parent: QWidget, make_bytes: Callable[[], bytes], *, title: str,
                file_name: str, on_opened: Callable[[Any], None] | None = None,
                on_error: Callable[[BaseException], None] | None = None) -> Task:
    """Render off the UI thread, then open the preview (`on_opened(dialog)` after)."""

    def ready(data: bytes) -> None:
        from erp_desktop.ui.pdf_preview import PdfPreviewDialog

        dialog = PdfPreviewDialog(data, title=title, file_name=file_name, parent=parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        if on_opened is not None:
            on_opened(dialog)

    return run_in_background(make_bytes, parent=parent, name="render pdf", on_done=ready,
                             on_error=on_error)


def _write(make_bytes: Callable[[], bytes], path: Path) -> Path:
    from erp_desktop.ui.pdf_preview import write_file

    write_file(path, make_bytes())
    return path


def save_pdf_as(parent: QWidget, make_bytes: Callable[[], bytes], *, title: str,
                file_name: str, path: Path | None = None,
                on_saved: Callable[[Path], None] | None = None,
                on_error: Callable[[BaseException], None] | None = None) -> Task | None:
    """Ask where (unless `path` is given), then render and write on the worker."""
    target = path or ask_pdf_path(parent, title, file_name)
    if target is None:
        return None
    return run_in_background(_write, make_bytes, Path(target), parent=parent, name="save pdf",
                             on_done=on_saved, on_error=on_error)


def write_text_file(parent: QWidget, text: str, *, title: str, file_name: str,
                    file_filter: str, path: Path | None = None,
                    on_saved: Callable[[Path], None] | None = None) -> Task | None:
    """Save text (a CSV export) where the person chooses, atomically, off the UI thread."""
    if path is None:
        chosen, _ = QFileDialog.getSaveFileName(parent, title, str(Path.home() / file_name),
                                                file_filter)
        if not chosen:
            return None
        path = Path(chosen)
    data = text.encode("utf-8")
    return run_in_background(_write, lambda: data, Path(path), parent=parent,
                             name="save file", on_done=on_saved)


def _with_hooks(export: Callable[..., Any]) -> Callable[..., Any]:
    """`export` called with progress/cancel hooks made from the worker's token."""

    def work(*args: Any, token: CancelToken, **kwargs: Any) -> Any:
        def progress(done: int, total: int) -> None:
            token.report(done, total, _tr("{done} of {total} done…").format(
                done=done, total=total) if total else "")

        return export(*args, progress=progress, cancelled=lambda: token.cancelled, **kwargs)

    work.__name__ = getattr(export, "__name__", "batch")
    return work


def batch_to_folder(parent: QWidget, export: Callable[..., Any], *args: Any, title: str,
                    label: str, on_done: Callable[[Any], None],
                    on_cancelled: Callable[[], None] | None = None,
                    on_error: Callable[[BaseException], None] | None = None,
                    folder: Path | None = None, **kwargs: Any) -> ProgressRun | None:
    """`export(*args, directory=folder, progress=, cancelled=, **kwargs)` with a progress
    dialog; asks for the folder unless given. None when the person cancels the choice."""
    target = folder or ask_folder(parent, title)
    if target is None:
        return None
    return run_with_progress(parent, _with_hooks(export), *args, title=title, label=label,
                             on_done=on_done, on_error=on_error, on_cancelled=on_cancelled,
                             directory=Path(target), **kwargs)


def batch_to_one_pdf(parent: QWidget, export: Callable[..., Any], *args: Any, title: str,
                     label: str, file_name: str, on_done: Callable[[Any], None],
                     on_cancelled: Callable[[], None] | None = None,
                     on_error: Callable[[BaseException], None] | None = None,
                     path: Path | None = None, **kwargs: Any) -> ProgressRun | None:
    """`export(*args, one_file=path, progress=, cancelled=, **kwargs)` with a progress
    dialog; asks for the file unless given. None when the person cancels the choice."""
    target = path or ask_pdf_path(parent, title, file_name)
    if target is None:
        return None
    return run_with_progress(parent, _with_hooks(export), *args, title=title, label=label,
                             on_done=on_done, on_error=on_error, on_cancelled=on_cancelled,
                             one_file=Path(target), **kwargs)
