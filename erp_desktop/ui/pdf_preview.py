"""A PDF preview: pages on screen, zoom, Save as PDF, and Print through the system dialog.

`PdfPreviewDialog(pdf_bytes, ...)` shows a PDF made by a service (an invoice,
a payslip, a report) page by page. Pages are rendered by PDFium
(`pypdfium2`; QtPdf is not in the PySide6 wheels for Linux) on the worker
thread into `QImage`s, at the zoom and the screen's pixel ratio, so the text is
sharp and the window never waits. Zoom: the toolbar, Ctrl++ / Ctrl+- / Ctrl+0.
Save as PDF writes the same bytes to the file the person chooses (native
dialog, written to a temporary name and then renamed). Print opens the
system print dialog (`QPrintDialog`) and paints each page, rendered at the
printer's resolution, onto the `QPrinter`.

PDFium is not thread-safe, so every call into it holds `PDFIUM_LOCK`.
`html_to_pdf` turns a small HTML report (a trial balance) into PDF bytes with
Qt's own text engine, for previews of screens that have no document service.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QMarginsF, QRect, Qt
from PySide6.QtGui import (
    QImage,
    QKeySequence,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPixmap,
    QShortcut,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.ui.icons import icon
from erp_desktop.ui.worker import CancelToken, Task, run_in_background

PDFIUM_LOCK = threading.Lock()
ZOOMS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0)
POINTS_PER_INCH = 72.0
SCREEN_DPI = 96.0


def page_count(data: bytes) -> int:
    import pypdfium2 as pdfium

    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            return len(doc)
        finally:
            doc.close()


def render_pages(data: bytes, dpi: float, *, token: CancelToken | None = None,
                 pages: list[int] | None = None) -> list[QImage]:
    """Render pages of a PDF at `dpi` into QImages (on a worker thread)."""
    import pypdfium2 as pdfium

    images: list[QImage] = []
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            numbers = pages if pages is not None else list(range(len(doc)))
            for done, number in enumerate(numbers):
                if token is not None:
                    token.check()
                    token.report(done, len(numbers))
                page = doc[number]
                bitmap = page.render(scale=dpi / POINTS_PER_INCH)
                image = QImage(bytes(bitmap.buffer), bitmap.width, bitmap.height,
                               bitmap.stride, QImage.Format.Format_BGR888).copy()
                bitmap.close()
                page.close()
                images.append(image)
        finally:
            doc.close()
    return images


def html_to_pdf(html: str, *, title: str = "", landscape: bool = False) -> bytes:
    """A small HTML document (tables, headings) as A4 PDF bytes."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(title)
    writer.setCreator("erp_desktop")
    writer.setResolution(300)
    orientation = QPageLayout.Orientation.Landscape if landscape \
        else QPageLayout.Orientation.Portrait
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), orientation,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    doc = QTextDocument()
    doc.setDocumentMargin(0)
    doc.setDefaultStyleSheet("body { font-size: 10pt; } th { text-align: left;"
                             " border-bottom: 1px solid #888; } td { padding: 2px 4px; }")
    doc.setHtml(html)
    # No page size of its own: print_() lays the text out on the writer's page in
    # points, so 10 pt text prints as 10 pt whatever the resolution.
    doc.print_(writer)
    del writer  # finishes the PDF into the buffer
    buffer.close()
    return bytes(buffer.data().data())


def write_file(path: Path, data: bytes) -> None:
    """Write to a temporary name beside `path`, then rename: never half a file."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PdfPreviewDialog(QDialog):
    """See the module docstring."""

    def __init__(self, data: bytes, *, title: str, file_name: str = "document.pdf",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.data = data
        self.file_name = file_name if file_name.lower().endswith(".pdf") else file_name + ".pdf"
        self.zoom = 1.0
        self.images: list[QImage] = []
        self.task: Task | None = None
        self.print_task: Task | None = None
        self.setWindowTitle(title)
        self.setObjectName("pdf_preview")
        self.setWindowModality(Qt.WindowModality.WindowModal)

        def tool(name: str, text: str, tip: str) -> QToolButton:
            button = QToolButton()
            button.setIcon(icon(name))
            button.setText(text)
            button.setToolTip(tip)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            return button

        self.zoom_out_button = tool("zoom_out", "", self.tr("Zoom out (Ctrl+-)"))
        self.zoom_out_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.zoom_in_button = tool("zoom_in", "", self.tr("Zoom in (Ctrl++)"))
        self.zoom_in_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.zoom_box = QComboBox()
        self.zoom_box.setObjectName("zoom")
        for z in ZOOMS:
            self.zoom_box.addItem(f"{int(z * 100)} %", z)
        self.zoom_box.setCurrentIndex(ZOOMS.index(1.0))
        self.zoom_box.currentIndexChanged.connect(
            lambda i: self.set_zoom(float(self.zoom_box.itemData(i))))
        self.zoom_out_button.clicked.connect(lambda: self.step_zoom(-1))
        self.zoom_in_button.clicked.connect(lambda: self.step_zoom(+1))
        self.pages_label = QLabel()
        self.pages_label.setObjectName("pages_label")
        self.save_button = tool("save", self.tr("Save as PDF…"), self.tr("Save a copy (Ctrl+S)"))
        self.save_button.setObjectName("save_pdf")
        self.save_button.clicked.connect(self.save_as)
        self.print_button = tool("print", self.tr("Print…"), self.tr("Print (Ctrl+P)"))
        self.print_button.setObjectName("print")
        self.print_button.clicked.connect(self.print_dialog)

        bar = QHBoxLayout()
        bar.addWidget(self.zoom_out_button)
        bar.addWidget(self.zoom_box)
        bar.addWidget(self.zoom_in_button)
        bar.addSpacing(12)
        bar.addWidget(self.pages_label)
        bar.addStretch(1)
        bar.addWidget(self.save_button)
        bar.addWidget(self.print_button)

        self.canvas = QWidget()
        self.canvas.setObjectName("pdf_pages")
        self.canvas_layout = QVBoxLayout(self.canvas)
        self.canvas_layout.setSpacing(16)
        self.canvas_layout.setContentsMargins(16, 16, 16, 16)
        self.canvas_layout.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.canvas)
        self.scroll.setWidgetResizable(True)
        self.scroll.setStyleSheet("QScrollArea { background: palette(dark); }"
                                  " QWidget#pdf_pages { background: palette(dark); }")
        self.status = QLabel()
        self.status.setObjectName("pdf_status")

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.status)
        QShortcut(QKeySequence.StandardKey.ZoomIn, self, activated=lambda: self.step_zoom(+1))
        QShortcut(QKeySequence("Ctrl+="), self, activated=lambda: self.step_zoom(+1))
        QShortcut(QKeySequence.StandardKey.ZoomOut, self, activated=lambda: self.step_zoom(-1))
        QShortcut(QKeySequence("Ctrl+0"), self, activated=lambda: self.set_zoom(1.0))
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save_as)
        QShortcut(QKeySequence("Ctrl+P"), self, activated=self.print_dialog)
        self.resize(860, 900)
        self.render()

    def done(self, result: int) -> None:  # closed, accepted or rejected: stop rendering
        if self.task is not None:
            self.task.cancel()
            self.task = None
        super().done(result)

    # ---- showing pages

    def _dpi(self) -> float:
        return SCREEN_DPI * self.zoom * self.devicePixelRatioF()

    def render(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.status.setText(self.tr("Preparing the pages…"))
        self.task = run_in_background(render_pages, self.data, self._dpi(), pass_token=True,
                                      parent=self, name="render pdf",
                                      on_done=self._rendered, on_error=self._failed)

    def _rendered(self, images: list[QImage]) -> None:
        self.task = None
        self.images = images
        while self.canvas_layout.count():
            item = self.canvas_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        ratio = self.devicePixelRatioF()
        for n, image in enumerate(images, start=1):
            pixmap = QPixmap.fromImage(image)
            pixmap.setDevicePixelRatio(ratio)
            page = QLabel()
            page.setObjectName(f"page_{n}")
            page.setPixmap(pixmap)
            page.setStyleSheet("background: white; border: 1px solid palette(shadow);")
            page.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.canvas_layout.addWidget(page, 0, Qt.AlignmentFlag.AlignHCenter)
        count = len(images)
        self.pages_label.setText(self.tr("1 page") if count == 1
                                 else self.tr("{n} pages").format(n=count))
        self.status.setText("")

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.status.setText(self.tr("This PDF cannot be shown: {reason}").format(reason=exc))

    @property
    def page_count(self) -> int:
        return len(self.images)

    def set_zoom(self, zoom: float) -> None:
        zoom = min(max(zoom, ZOOMS[0]), ZOOMS[-1])
        if abs(zoom - self.zoom) < 1e-6:
            return
        self.zoom = zoom
        nearest = min(range(len(ZOOMS)), key=lambda i: abs(ZOOMS[i] - zoom))
        self.zoom_box.blockSignals(True)
        self.zoom_box.setCurrentIndex(nearest)
        self.zoom_box.blockSignals(False)
        self.render()

    def step_zoom(self, direction: int) -> None:
        index = min(range(len(ZOOMS)), key=lambda i: abs(ZOOMS[i] - self.zoom))
        self.set_zoom(ZOOMS[max(0, min(len(ZOOMS) - 1, index + direction))])

    # ---- save and print

    def save_as(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save as PDF"), str(Path.home() / self.file_name),
            self.tr("PDF files (*.pdf)"))
        if chosen:
            self.save_to(Path(chosen))

    def save_to(self, path: Path) -> None:
        path = Path(path)
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        try:
            write_file(path, self.data)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("Cannot save"), self.tr(
                "The PDF could not be saved to {path}: {reason}").format(
                path=path, reason=exc.strerror or exc))
            return
        self.status.setText(self.tr("Saved to {path}.").format(path=path))

    def print_dialog(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.file_name)
        dialog = QPrintDialog(printer, self)
        dialog.setWindowTitle(self.tr("Print"))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.print_to(printer))
        dialog.open()

    def print_to(self, printer: QPrinter) -> Task:
        """Render every page at the printer's resolution (worker), then paint them."""
        dpi = float(min(printer.resolution(), 300))
        self.status.setText(self.tr("Printing…"))
        self.print_button.setEnabled(False)
        self.print_task = run_in_background(
            render_pages, self.data, dpi, pass_token=True, parent=self, name="render for print",
            on_done=lambda images: self._paint(printer, images),
            on_error=self._print_failed)
        return self.print_task

    def _paint(self, printer: QPrinter, images: list[QImage]) -> None:
        self.print_task = None
        self.print_button.setEnabled(True)
        painter = QPainter()
        if not painter.begin(printer):
            self.status.setText(self.tr("The printer could not be opened."))
            return
        try:
            for n, image in enumerate(images):
                if n:
                    printer.newPage()
                area = painter.viewport()
                size = image.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
                target = QRect(area.x() + (area.width() - size.width()) // 2, area.y(),
                               size.width(), size.height())
                painter.drawImage(target, image)
        finally:
            painter.end()
        self.status.setText(self.tr("Sent {n} pages to the printer.").format(n=len(images))
                            if len(images) != 1 else self.tr("Sent 1 page to the printer."))

    def _print_failed(self, exc: BaseException) -> None:
        self.print_task = None
        self.print_button.setEnabled(True)
        self.status.setText(self.tr("Printing failed: {reason}").format(reason=exc))

