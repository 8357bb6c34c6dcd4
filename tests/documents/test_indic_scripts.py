"""Names in Indian scripts on invoices, receipts, payslips and person reports.

They must print in a font that has them (the Noto Sans font of the script,
shipped with the app and embedded), shaped by HarfBuzz (conjuncts, vowel
signs), while Latin documents stay byte for byte what they were.

Text extraction of shaped text is not reliable (a conjunct is a glyph without
a character of its own), so the tests read the PDF's fonts instead: which
fonts a page uses, and which characters each font's subset holds. A shaped
name uses exactly the glyphs HarfBuzz chose for it; an unshaped one would use
the bare letters and viramas.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
from dataclasses import replace

from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import ShapedStr, shapeStr

from erp_desktop.documents import fonts
from erp_desktop.documents.base import escape
from erp_desktop.documents.invoice import render_invoice
from erp_desktop.documents.payslip import render_payslip
from erp_desktop.documents.person_report import PersonReportDoc, SectionDoc, render_person_report
from tests.documents.test_invoice_pdf import COMPANY, PartyDoc, make_doc
from tests.documents.test_payslip import DOC

CUSTOMER = "श्री गणेश ट्रेडर्स"
PRODUCT = "ಕನ್ನಡ ಪುಸ್ತಕ"
EMPLOYEE = "முருகன்"
VIRAMAS = {"\u094d", "\u0ccd", "\u0bcd"}  # Devanagari, Kannada, Tamil


def indic_invoice(page_format: str = "A4", notes: str | None = None):
    doc = make_doc(3, page_format=page_format)
    lines = (replace(doc.lines[0], description=PRODUCT), *doc.lines[1:])
    return replace(doc, customer=PartyDoc(CUSTOMER, ("12 MG Road", "Bengaluru 560001")),
                   lines=lines, notes=notes)


def used_fonts(pdf: bytes) -> dict[str, set[str]]:
    """Font name (subset prefix dropped) -> the non-ASCII characters its subset holds."""
    out: dict[str, set[str]] = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            name = str(font["/BaseFont"]).lstrip("/").split("+")[-1]
            chars = out.setdefault(name, set())
            if "/ToUnicode" in font:
                cmap = font["/ToUnicode"].get_object().get_data().decode("ascii")
                chars |= {chr(int(u, 16)) for u in re.findall(r"<[0-9A-F]{2}> <([0-9A-F]{4})>",
                                                             cmap) if int(u, 16) > 0x7F}
    return out


def shaped_chars(text: str, family: str, bold: bool = False) -> set[str]:
    """The characters (one per glyph) HarfBuzz's shaping of `text` draws in `family`."""
    shaped = shapeStr(text, fonts.face_for(family, bold), 9)
    assert isinstance(shaped, ShapedStr)  # HarfBuzz changed something: it is a complex script
    return {ch for ch in shaped if ord(ch) > 0x7F}


def is_private(ch: str) -> bool:
    """A glyph with no character of its own (a conjunct, a below-base form)."""
    return 0xE000 <= ord(ch) <= 0xF8FF


# --------------------------------------------------------------------------- runs


def test_text_is_cut_into_runs_by_script():
    dev, kan = "NotoSansDevanagari", "NotoSansKannada"
    assert fonts.script_runs("Lakshmi Stores") == [(None, "Lakshmi Stores")]
    assert fonts.script_runs(CUSTOMER) == [(dev, CUSTOMER)]
    # punctuation and digits go with the script around them: one font per word
    assert fonts.script_runs("(श्री), गली 5।") == [(dev, "(श्री), गली 5।")]
    assert fonts.script_runs("USB-केबल (2 मीटर)") == [(None, "USB-"), (dev, "केबल (2 मीटर)")]
    assert fonts.script_runs("Ravi (ರವಿ) & Co") == [(None, "Ravi "), (kan, "(ರವಿ)"),
                                                    (None, " & Co")]
    assert fonts.script_runs(f"{PRODUCT} 12") == [(kan, f"{PRODUCT} 12")]
    assert [f for f, _ in fonts.script_runs("বাংলা ਪੰਜਾਬੀ ગુજરાતી తెలుగు മലയാളം தமிழ்")
            if f] == ["NotoSansBengali", "NotoSansGurmukhi", "NotoSansGujarati",
                      "NotoSansTelugu", "NotoSansMalayalam", "NotoSansTamil"]


def test_markup_of_other_text_is_the_plain_escape():
    for text in ("Sharma Electronics & Home <Pvt> Ltd", "Ольга Петрова & Ελένη Σ.", "₹ € £ $",
                 "a\nb", ""):
        assert fonts.markup(text) == escape(text)
    assert fonts.markup(None) == ""
    assert fonts.markup("A&B (ಕನ್ನಡ)") == 'A&amp;B <font name="NotoSansKannada">(ಕನ್ನಡ)</font>'
    assert fonts.markup("श्री", bold=True) == '<font name="NotoSansDevanagari-Bold">श्री</font>'


def test_widths_are_the_shaped_widths():
    regular, _bold = fonts.register_fonts()
    assert fonts.text_width("Lakshmi", regular, 9) == stringWidth("Lakshmi", regular, 9)
    # शर्मा: the reph sits on top of the last letter, so it takes no room of its own
    shaped = fonts.text_width("शर्मा", regular, 9)
    loose = stringWidth("शर्मा", fonts.face_for("NotoSansDevanagari"), 9)
    assert 0 < shaped < loose


# --------------------------------------------------------------------------- documents


def test_invoice_prints_a_devanagari_customer_and_a_kannada_product():
    pdf = render_invoice(indic_invoice())
    used = used_fonts(pdf)
    assert {"DejaVuSans", "DejaVuSans-Bold", "NotoSansDevanagari-Bold",
            "NotoSansKannada-Regular"} <= set(used)
    # the customer's name is bold in the bill-to block; the product regular in the lines
    name = used["NotoSansDevanagari-Bold"]
    assert name == shaped_chars(CUSTOMER, "NotoSansDevanagari", bold=True)
    assert any(is_private(ch) for ch in name) and not name & VIRAMAS  # श्र and ट्र: conjuncts
    product = used["NotoSansKannada-Regular"]
    assert product == shaped_chars(PRODUCT, "NotoSansKannada")
    assert any(is_private(ch) for ch in product) and not product & VIRAMAS
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.subject.endswith(f"to {CUSTOMER}")  # searchable as typed
    text = reader.pages[0].extract_text()
    assert "गणेश" in text and "₹7,560.26" in text and "Page 1 of 1" in text


def test_thermal_receipt_shapes_through_paragraphs():
    used = used_fonts(render_invoice(indic_invoice("THERMAL")))
    assert used["NotoSansDevanagari-Regular"] == shaped_chars(CUSTOMER, "NotoSansDevanagari")
    assert used["NotoSansKannada-Regular"] == shaped_chars(PRODUCT, "NotoSansKannada")


def test_a_word_of_two_scripts_is_shaped_in_the_font_of_each():
    # reportlab alone shapes a whole word with the font of its start (DejaVu here)
    used = used_fonts(render_invoice(indic_invoice(notes="Cable: USB-केबल")))
    assert used["NotoSansDevanagari-Regular"] == shaped_chars("केबल", "NotoSansDevanagari")


def test_payslip_prints_a_tamil_name():
    pdf = render_payslip(replace(DOC, employee_name=EMPLOYEE))
    used = used_fonts(pdf)
    name = used["NotoSansTamil-Bold"]
    assert name == shaped_chars(EMPLOYEE, "NotoSansTamil", bold=True)
    assert any(is_private(ch) for ch in name)  # மு, ரு: consonant and vowel sign as one glyph
    assert "Kiran Rao" not in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_person_report_and_company_header_in_indian_scripts():
    company = replace(COMPANY, trade_name="शर्मा इलेक्ट्रॉनिक्स",
                      address_lines=("ನಂ. 42, ಜಯನಗರ",))
    pdf = render_person_report(PersonReportDoc(
        company=company, kind="customer", person_id="0190", name=CUSTOMER,
        generated_at="2 Nov 2026", generated_by="owner", retained_until=None,
        sections=[SectionDoc("Customer", "customers", None, None, [[CUSTOMER]], ["name"])]))
    used = used_fonts(pdf)
    assert {"NotoSansDevanagari-Bold", "NotoSansDevanagari-Regular",
            "NotoSansKannada-Regular"} <= set(used)
    assert shaped_chars("शर्मा इलेक्ट्रॉनिक्स", "NotoSansDevanagari", bold=True) <= \
        used["NotoSansDevanagari-Bold"]
    assert not used["NotoSansDevanagari-Bold"] & VIRAMAS


# --------------------------------------------------------------------------- bytes


_OTHER_PROCESS = """
import hashlib, sys
from tests.documents.test_indic_scripts import indic_invoice
from tests.documents.test_invoice_pdf import PartyDoc, make_doc
from tests.documents.test_payslip import DOC
from erp_desktop.documents.invoice import render_invoice
from erp_desktop.documents.payslip import render_payslip
if sys.argv[1] == "latin":
    pdfs = [render_invoice(make_doc(3)), render_payslip(DOC)]
else:
    from dataclasses import replace
    # other conjuncts first: the order glyphs are first met in must not matter
    render_payslip(replace(DOC, employee_name="க்ஷ ஸ்ரீ", department="ज्ञान द्वार ह्म"))
    render_invoice(replace(make_doc(1), customer=PartyDoc("ಕ್ಷ ಸ್ತ್ರೀ")))
    pdfs = [render_invoice(indic_invoice())]
print(" ".join(hashlib.sha256(p).hexdigest() for p in pdfs))
"""


def _in_another_process(kind: str) -> list[str]:
    return subprocess.run([sys.executable, "-c", _OTHER_PROCESS, kind], capture_output=True,
                          text=True, check=True, timeout=120).stdout.split()


def _sha(pdf: bytes) -> str:
    return hashlib.sha256(pdf).hexdigest()


def test_same_indic_input_same_bytes_whatever_was_printed_before():
    first = render_invoice(indic_invoice())
    assert render_invoice(indic_invoice()) == first
    assert render_payslip(replace(DOC, employee_name=EMPLOYEE)) == \
        render_payslip(replace(DOC, employee_name=EMPLOYEE))
    assert _in_another_process("indic") == [_sha(first)]


def test_latin_documents_are_untouched_by_the_indian_fonts():
    render_invoice(indic_invoice())  # Indian fonts registered and shaping in use here ...
    invoice, payslip = render_invoice(make_doc(3)), render_payslip(DOC)
    # ... and a process that never met them prints Latin documents to the same bytes
    assert _in_another_process("latin") == [_sha(invoice), _sha(payslip)]
    assert set(used_fonts(invoice)) == {"Helvetica", "DejaVuSans", "DejaVuSans-Bold"}
    assert set(used_fonts(render_invoice(make_doc(3, page_format="THERMAL")))) <= {
        "Helvetica", "DejaVuSans", "DejaVuSans-Bold"}
