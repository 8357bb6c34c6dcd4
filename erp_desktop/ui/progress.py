"""Long work with a progress dialog and Cancel: backup, restore, import, export, batch print.

`run_with_progress` starts `fn(*args, token=..., **kwargs)` on the worker
(`ui.worker`), opens a window-modal `QProgressDialog` over `parent`, moves its
bar with the work's `token.report(done, total, text)` and turns Cancel into
`token.cancel()`: the work stops at its next `token.check()` (or when the
service's own `cancelled()` callback, given `lambda: token.cancelled`, says
so) and `on_cancelled` runs instead of `on_done`. The dialog closes itself
whatever the outcome. While it is open the idle lock waits (`busy_work`), so
a backup is never cut short by the screen locking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from erp_desktop.ui.worker import Task, run_in_background

_BUSY: set[int] = set()  # ids of progress runs open now (the idle lock waits for them)


def _tr(text: str) -> str:
    return QCoreApplication.translate("progress", text)


def busy_work() -> bool:
    """True while a long task with a progress dialog is running."""
    return bool(_BUSY)


@dataclass
class ProgressRun:
    task: Task
    dialog: QProgressDialog
    cancel: Callable[[], None]  # what the dialog's Cancel button does


def run_with_progress(parent: QWidget, fn: Callable[..., Any], *args: Any, title: str,
                      label: str, on_done: Callable[[Any], None],
                      on_error: Callable[[BaseException], None] | None = None,
                      on_cancelled: Callable[[], None] | None = None,
                      cancel_text: str | None = None, name: str | None = None,
                      **kwargs: Any) -> ProgressRun:
    """See the module docstring. `fn` must accept `token=` (a `CancelToken`)."""
    dialog = QProgressDialog(label, cancel_text or _tr("Cancel"), 0, 0, parent)
    dialog.setObjectName("progress")
    dialog.setWindowTitle(title)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)
    dialog.setMinimumWidth(420)
    key = id(dialog)
    _BUSY.add(key)

    def close() -> None:
        _BUSY.discard(key)
        dialog.blockSignals(True)  # closing must not read as the person's Cancel
        dialog.close()
        dialog.deleteLater()

    def progressed(done: int, total: int, text: str) -> None:
        if total > 0:
            dialog.setMaximum(total)
            dialog.setValue(min(done, total))
        if text:
            dialog.setLabelText(text)

    def finished(result: Any) -> None:
        close()
        on_done(result)

    def failed(exc: BaseException) -> None:
        close()
        if on_error is not None:
            on_error(exc)
        else:
            from erp_desktop.ui.errors import show_error

            show_error(parent, exc)

    def cancelled() -> None:
        close()
        if on_cancelled is not None:
            on_cancelled()

    task = run_in_background(fn, *args, pass_token=True, on_done=finished, on_error=failed,
                             on_progress=progressed, on_cancelled=cancelled, parent=parent,
                             name=name or getattr(fn, "__name__", "long task"), **kwargs)

    def cancel_clicked() -> None:
        dialog.setLabelText(_tr("Cancelling…"))
        dialog.setCancelButton(None)  # asked once; the work stops at its next check
        dialog.show()
        task.cancel()

    dialog.canceled.connect(cancel_clicked)
    dialog.open()
    return ProgressRun(task, dialog, cancel_clicked)
