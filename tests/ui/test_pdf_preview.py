"""The PDF preview: pages rendered off the UI thread, zoom, Save as PDF, Print."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from PySide6.QtPrintSupport import QPrinter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from erp_desktop.ui.pdf_preview import PdfPreviewDialog, html_to_pdf, page_count

pytestmark = pytest.mark.ui


def invoice_pdf(pages: int = 2) -> bytes:
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("Helvetica-Bold", 20)
        c.drawString(72, 770, f"TAX INVOICE INV/2026-27/A/000042 - page {n}")
        c.showPage()
    c.save()
    return buffer.getvalue()


def test_pages_are_rendered_in_the_background_and_zoom_renders_again(qtbot):
    data = invoice_pdf(2)
    dialog = PdfPreviewDialog(data, title="Invoice INV/2026-27/A/000042",
                              file_name="INV-2026-27-A-000042")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.page_count == 2, timeout=15_000)
    assert dialog.pages_label.text() == "2 pages"
    width = dialog.images[0].width()
    assert width > 700  # A4 at 96 dpi is about 794 pixels wide
    dialog.step_zoom(+1)
    qtbot.waitUntil(lambda: dialog.images and dialog.images[0].width() > width * 1.2,
                    timeout=15_000)
    assert dialog.zoom_box.currentText() == "125 %"
    assert dialog.file_name == "INV-2026-27-A-000042.pdf"


def test_save_as_pdf_writes_the_same_bytes(qtbot, tmp_path):
    data = invoice_pdf(1)
    dialog = PdfPreviewDialog(data, title="Invoice")
    qtbot.addWidget(dialog)
    target = tmp_path / "copy"
    dialog.save_to(target)
    assert (tmp_path / "copy.pdf").read_bytes() == data
    assert "Saved to" in dialog.status.text()
    assert not list(tmp_path.glob(".*.part"))


def test_print_paints_every_page_onto_the_printer(qtbot, tmp_path):
    data = invoice_pdf(3)
    dialog = PdfPreviewDialog(data, title="Invoice")
    qtbot.addWidget(dialog)
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    printer.setOutputFileName(str(out))
    dialog.print_to(printer)
    qtbot.waitUntil(lambda: "Sent 3 pages" in dialog.status.text(), timeout=30_000)
    assert len(PdfReader(out).pages) == 3


def test_a_damaged_pdf_is_said_calmly(qtbot):
    dialog = PdfPreviewDialog(b"%PDF-1.4 this is not really a pdf", title="Broken")
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: "cannot be shown" in dialog.status.text(), timeout=15_000)
    assert dialog.page_count == 0


def test_html_reports_become_pdf():
    data = html_to_pdf("<h1>Trial balance</h1><p>₹1,23,456.50</p>", title="TB")
    assert data.startswith(b"%PDF")
    assert page_count(data) == 1
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "Trial" in text and "balance" in text
