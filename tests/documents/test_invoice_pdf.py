"""Invoice PDFs: read back (number, totals, tax lines, words), same bytes, pages, batch."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from erp_desktop.documents.base import CompanyHeader
from erp_desktop.documents.invoice import (
    Cancelled,
    InvoiceDoc,
    InvoiceOptions,
    LineDoc,
    PartyDoc,
    TaxRowDoc,
    TotalDoc,
    render_invoice,
    render_invoices,
)
from erp_desktop.domain.words import amount_in_words
from erp_desktop.models.audit import AuditEvent
from tests.services.sales.conftest import Shop, make_shop

COMPANY = CompanyHeader(
    legal_name="Sharma Electronics & Home Pvt Ltd", trade_name="Sharma Electronics & Home",
    address_lines=("No. 42, 11th Main Road, 4th Block, Jayanagar", "Bengaluru 560011",
                   "Karnataka"), tax_line="GSTIN 29AAKCS4821M1ZS", phone="+91 80 4123 4567",
    email="accounts@sharma-electronics.example")


def make_doc(lines: int = 3, currency: str = "INR", locale: str = "en_IN",
             page_format: str = "A4", number: str = "INV/2026-27/A/000042") -> InvoiceDoc:
    """An invoice of `lines` lines at 18 % (CGST + SGST), worked out here by hand."""
    rows = []
    taxable = D(0)
    for i in range(1, lines + 1):
        price = D(1000 + 37 * i).quantize(D("0.01"))
        qty = 1 + i % 3
        value = price * qty
        tax = (value * D("0.18")).quantize(D("0.01"))
        rows.append(LineDoc(i, f"Product number {i} – ‘Premium’ model", "8528", str(qty), "pcs",
                            price, D(0), "18%", tax, value + tax))
        taxable += value
    half = (taxable * D("0.09")).quantize(D("0.01"))
    total = taxable + 2 * half
    return InvoiceDoc(
        title="TAX INVOICE", number=number, company=COMPANY,
        customer=PartyDoc("Lakshmi Stores", ("12 MG Road", "Bengaluru 560001"),
                          ("GSTIN 29AAKCS4821M1ZS",), "98450 12345"),
        currency=currency, locale=locale,
        details=(("Invoice date", "2 Nov 2026"), ("Due date", "2 Dec 2026"),
                 ("Place of supply", "Karnataka (29)")),
        lines=tuple(rows),
        tax_rows=(TaxRowDoc("CGST", "9%", taxable, half), TaxRowDoc("SGST", "9%", taxable, half)),
        totals=(TotalDoc("Taxable value", taxable, True), TotalDoc("CGST", half),
                TotalDoc("SGST", half)),
        grand_total=total, amount_in_words=amount_in_words(total, currency),
        status="Balance due by 2 Dec 2026", status_warning=True,
        terms="Goods once sold are exchanged within 7 days.", bank_details="HDFC Bank\nIFSC X",
        footer_note=f"Sharma Electronics & Home  ·  Tax invoice {number}",
        options=InvoiceOptions(page_format=page_format))


def text_of(pdf: bytes) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(io.BytesIO(pdf))
    return reader, [p.extract_text() for p in reader.pages]


def flat(text: str) -> str:
    return " ".join(text.split())


def test_three_line_inr_invoice_reads_back():
    doc = make_doc(3)
    pdf = render_invoice(doc)
    reader, pages = text_of(pdf)
    assert len(pages) == 1
    page = flat(pages[0])
    assert "TAX INVOICE" in page and "INV/2026-27/A/000042" in page
    # lines: 1,037 x 2 = 2,074 ...; total 2,074 + 3,222 + 1,111 = 6,407 taxable
    assert doc.grand_total == D("7560.26")
    assert "₹7,560.26" in page
    assert "CGST 9% 6,407.00 576.63" in page
    assert "Rupees Seven Thousand Five Hundred and Sixty and Twenty-Six Paise Only" in page
    assert "Page 1 of 1" in page
    meta = reader.metadata
    assert meta.title == "Tax Invoice INV/2026-27/A/000042"
    assert meta.author == "Sharma Electronics & Home Pvt Ltd"
    assert "Lakshmi Stores" in meta.subject


def test_same_input_same_bytes():
    assert render_invoice(make_doc(3)) == render_invoice(make_doc(3))
    assert render_invoice(make_doc(3)) != render_invoice(make_doc(3, number="INV/X/1"))


def test_sixty_lines_break_pages_and_repeat_the_header():
    pdf = render_invoice(make_doc(60, "EUR", "de_DE"))
    _reader, pages = text_of(pdf)
    assert len(pages) >= 2
    for i, text in enumerate(pages, start=1):
        assert f"Page {i} of {len(pages)}" in text
        assert "Description" in text and "HSN/SAC" in text  # the table header repeats
    joined = flat(" ".join(pages))
    assert "Product number 60" in joined
    assert "€" in joined and "Euros" in joined
    assert amount_in_words(make_doc(60, "EUR").grand_total, "EUR") in joined


def test_page_formats():
    letter = PdfReader(io.BytesIO(render_invoice(make_doc(3, page_format="LETTER"))))
    assert [round(float(x)) for x in letter.pages[0].mediabox[2:]] == [612, 792]
    a4 = PdfReader(io.BytesIO(render_invoice(make_doc(3))))
    assert [round(float(x)) for x in a4.pages[0].mediabox[2:]] == [595, 842]
    thermal = PdfReader(io.BytesIO(render_invoice(make_doc(3, page_format="THERMAL"))))
    assert len(thermal.pages) == 1
    assert round(float(thermal.pages[0].mediabox[2])) == 227  # 80 mm
    assert "₹7,560.26" in flat(thermal.pages[0].extract_text())


def test_company_chooses_the_fields():
    from dataclasses import replace

    doc = make_doc(3)
    bare = replace(doc, options=InvoiceOptions(show_hsn=False, show_discount=False,
                                               show_bank_details=False, show_signature=False,
                                               accent_colour="#7A1F5C"))
    text = flat(text_of(render_invoice(bare))[1][0])
    assert "HSN/SAC" not in text and "Disc." not in text
    assert "BANK DETAILS" not in text and "Authorised signatory" not in text
    full = flat(text_of(render_invoice(doc))[1][0])
    assert "HSN/SAC" in full and "BANK DETAILS" in full and "Authorised signatory" in full


def test_batch_numbers_each_invoice_on_its_own_and_reports_progress():
    docs = [make_doc(3, number="INV/A/1"), make_doc(60, number="INV/A/2"),
            make_doc(3, number="INV/A/3")]
    seen = []
    pdf = render_invoices(iter(docs), total=3, progress=lambda d, t: seen.append((d, t)))
    _reader, pages = text_of(pdf)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert "Page 1 of 1" in pages[0] and "INV/A/1" in pages[0]
    long_pages = len(pages) - 2
    assert f"Page 1 of {long_pages}" in pages[1] and "INV/A/2" in pages[1]
    assert f"Page {long_pages} of {long_pages}" in pages[-2]
    assert "Page 1 of 1" in pages[-1] and "INV/A/3" in pages[-1]
    with pytest.raises(Cancelled):
        render_invoices(iter(docs), cancelled=lambda: len(seen) > 3,
                        progress=lambda d, t: seen.append((d, t)))


# --------------------------------------------------------------------------- through services


@pytest.fixture
def shop(admin_ctx) -> Shop:
    """The sales tests' small shop: GST rates, stock, two customers."""
    return make_shop(admin_ctx)


def test_invoice_pdf_from_the_books(shop):
    from erp_desktop.services import invoice_pdf, sales
    from erp_desktop.services.sales import LineIn

    ctx = shop.ctx
    inv = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.remote.id, [
        LineIn("TV55", 1), LineIn("KETTLE", 2, discount_percent=10)]).id).invoice
    pdf = invoice_pdf.invoice_pdf(ctx, inv.number)
    page = flat(text_of(pdf)[1][0])
    assert inv.number in page and "Unique Traders" in page
    assert "GSTIN 27AAPFU0939F1ZV" in page and "Maharashtra (27)" in page
    assert "IGST 18% 41,800.00 7,524.00" in page
    assert "₹49,324.00" in page
    assert "Rupees Forty-Nine Thousand Three Hundred and Twenty-Four Only" in page
    assert "Balance due ₹49,324.00 by 17 Nov 2026" in page
    assert invoice_pdf.invoice_pdf(ctx, inv.number) == pdf  # re-render: same bytes
    sales.record_payment(ctx, shop.remote.id, "49324", "cheque", reference="CHQ 1 SBI")
    paid = flat(text_of(invoice_pdf.invoice_pdf(ctx, inv.number))[1][0])
    assert "PAID: RCPT/2026-27/A/000001 (Cheque)" in paid
    cn = sales.issue_credit_note(ctx, inv.number, [sales.CreditLineIn(2, 1)])
    cn_text = flat(text_of(invoice_pdf.credit_note_pdf(ctx, cn.number))[1][0])
    assert "CREDIT NOTE" in cn_text and cn.number in cn_text and inv.number in cn_text
    receipt = flat(text_of(invoice_pdf.receipt_pdf(ctx, "RCPT/2026-27/A/000001"))[1][0])
    assert "PAYMENT RECEIPT" in receipt and "₹49,324.00" in receipt
    with ctx.db.read() as s:
        exports = s.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "sales.pdf_exported")).all()
    assert len(exports) == 5


def test_batch_export_streams_into_files(shop, tmp_path: Path):
    from erp_desktop.services import invoice_pdf, sales
    from erp_desktop.services.sales import LineIn

    ctx = shop.ctx
    for day in (date(2026, 10, 1), date(2026, 10, 2), date(2026, 10, 3)):
        sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id, [LineIn("RICE", 1)],
                                                    invoice_date=day).id)
    sales.create_draft(ctx, shop.local.id, [LineIn("RICE", 1)])  # drafts are not printed
    seen = []
    folder = tmp_path / "out"
    folder.mkdir()
    result = invoice_pdf.export_invoices(ctx, date(2026, 10, 1), date(2026, 10, 31),
                                         directory=folder,
                                         progress=lambda d, t: seen.append((d, t)))
    assert result.count == 3 and seen == [(1, 3), (2, 3), (3, 3)]
    assert sorted(p.name for p in folder.iterdir()) == [
        "INV-2026-27-A-000001.pdf", "INV-2026-27-A-000002.pdf", "INV-2026-27-A-000003.pdf"]
    one = tmp_path / "october.pdf"
    result = invoice_pdf.export_invoices(ctx, date(2026, 10, 1), date(2026, 10, 31),
                                         one_file=one)
    reader = PdfReader(str(one))
    assert result.count == 3 and len(reader.pages) == 3
    assert all("Page 1 of 1" in p.extract_text() for p in reader.pages)
    stop = invoice_pdf.export_invoices(ctx, date(2026, 10, 1), date(2026, 10, 31),
                                       one_file=tmp_path / "never.pdf", cancelled=lambda: True)
    assert stop.cancelled and not (tmp_path / "never.pdf").exists()
    # as the invoice list shows them for a search text (every word must match)
    found = invoice_pdf.export_invoices(ctx, date(2026, 10, 1), date(2026, 10, 31),
                                        one_file=tmp_path / "found.pdf", search=" 000002 ")
    assert found.count == 1
    assert "INV/2026-27/A/000002" in PdfReader(str(tmp_path / "found.pdf")).pages[0].extract_text()
    none = invoice_pdf.export_invoices(ctx, date(2026, 10, 1), date(2026, 10, 31),
                                       one_file=tmp_path / "none.pdf", search="000002 nobody")
    assert none.count == 0


def test_non_latin_names_and_currency_signs_go_through_the_embedded_font():
    from dataclasses import replace

    doc = replace(make_doc(3, "GBP", "en_GB"),
                  customer=PartyDoc("Ольга Петрова & Ελένη Σ.", ("Λεωφόρος 12",)),
                  amount_in_words="x")
    text = flat(text_of(render_invoice(doc))[1][0])
    assert "Ольга Петрова & Ελένη Σ." in text and "£7,560.26" in text
    page = PdfReader(io.BytesIO(render_invoice(doc))).pages[0]
    names = {str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()}
    assert any(n.endswith("+DejaVuSans") for n in names)  # an embedded subset
    assert any(n.endswith("+DejaVuSans-Bold") for n in names)


def test_the_header_wraps_a_long_address_and_takes_the_company_accent():
    from dataclasses import replace

    long_line = ("Unit 7, Ground Floor, Very Long Industrial Estate Road Name, Near The Big "
                 "Temple, Jayanagar 4th Block, Bengaluru")
    doc = replace(make_doc(2), company=replace(COMPANY, address_lines=(long_line, "Karnataka")),
                  options=InvoiceOptions(accent_colour="#8B1E3F"), warning="Copy")
    pdf = render_invoice(doc)
    _reader, pages = text_of(pdf)
    assert long_line in flat(pages[0])  # wrapped onto two lines, nothing clipped
    assert "Copy" in pages[0] and "TAX INVOICE" in pages[0]
    # the name, title and rule in the company's accent (#8B1E3F), none in the default
    content = PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data().decode("latin-1")
    assert ".545098 .117647 .247059 rg" in content  # fill: the name and the title
    assert ".545098 .117647 .247059 RG" in content  # stroke: the rule under the header
    assert ".121569 .305882 .47451" not in content  # the default accent #1F4E79


def test_reportlab_runs_with_its_c_accelerators():
    from reportlab.lib import rl_accel

    assert type(rl_accel.fp_str).__name__ == "builtin_function_or_method"
