"""The payslip PDF, read back: what it says, its metadata, and same input -> same bytes."""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

from pypdf import PdfReader

from erp_desktop.documents.base import CompanyHeader, amount_text, money_text
from erp_desktop.documents.payslip import PayslipDoc, PayslipLineDoc, render_payslip
from erp_desktop.domain.words import amount_in_words

DOC = PayslipDoc(
    company=CompanyHeader("Sharma Electronics & Home Pvt Ltd", "Sharma Electronics & Home",
                          ("No. 42, 11th Main Road, Jayanagar", "Bengaluru, Karnataka, 560011"),
                          "GSTIN 29AAKCS4821M1ZS", "+91 80 4123 4567", "hr@example.com"),
    currency="INR", locale="en_IN", period_label="October 2026", pay_date=date(2026, 10, 31),
    run_number="PAY/2026-27/A/000006", employee_name="Kiran Rao", employee_code="EMP-002",
    department="Sales", designation="Sales associate", tax_id_masked="XXXXXX788L",
    bank_account_masked="XXXXXXXX4521", days_in_month=31, days_paid=D(29), lop_days=D(2),
    earnings=(PayslipLineDoc("Basic", D("28064.52"), D("178064.52")),
              PayslipLineDoc("House rent allowance", D("11225.81"), D("71225.81")),
              PayslipLineDoc("Special allowance", D("7483.87"), D("47483.87")),
              PayslipLineDoc("Bonus", D("0"), D("5000.00"))),
    deductions=(PayslipLineDoc("Provident fund (employee)", D("1800.00"), D("12600.00")),
                PayslipLineDoc("Professional tax", D("200.00"), D("1400.00"))),
    gross=D("46774.20"), total_deductions=D("2000.00"), net=D("44774.20"),
    ytd_gross=D("301774.20"), ytd_deductions=D("14000.00"), ytd_net=D("287774.20"))


def text_of(pdf: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages), reader


def test_the_payslip_says_what_it_must():
    text, reader = text_of(render_payslip(DOC))
    assert len(reader.pages) == 1
    for expected in ("PAYSLIP", "October 2026", "PAY/2026-27/A/000006", "Kiran Rao", "EMP-002",
                     "Sales associate", "XXXXXX788L", "XXXXXXXX4521", "28,064.52",
                     "1,78,064.52", "46,774.20", "2,000.00", "₹44,774.20",
                     "Rupees Forty-Four Thousand Seven Hundred and Seventy-Four and Twenty "
                     "Paise Only", "This is a computer-generated payslip", "Page 1 of 1",
                     "GSTIN 29AAKCS4821M1ZS", "Bonus", "5,000.00"):
        assert expected in " ".join(text.split()), expected
    meta = reader.metadata
    assert meta.title == "Payslip October 2026 - EMP-002"
    assert meta.author == "Sharma Electronics & Home Pvt Ltd"
    assert meta.subject == "Payslip for October 2026"


def test_same_input_same_bytes_even_in_another_process():
    first = render_payslip(DOC)
    assert render_payslip(DOC) == first
    assert render_payslip(replace(DOC, net=D("44774.21"))) != first
    code = ("from tests.documents.test_payslip import DOC;"
            "from erp_desktop.documents.payslip import render_payslip;"
            "import hashlib; print(hashlib.sha256(render_payslip(DOC)).hexdigest())")
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, timeout=60).stdout.strip()
    assert other == hashlib.sha256(first).hexdigest()


def test_a_cancelled_payslip_says_so():
    text, _ = text_of(render_payslip(replace(DOC, cancelled=True)))
    assert "CANCELLED" in text


def test_long_payslips_get_page_numbers_on_every_page():
    many = tuple(PayslipLineDoc(f"Allowance {i}", D(100), D(600)) for i in range(90))
    text, reader = text_of(render_payslip(replace(DOC, earnings=many)))
    assert len(reader.pages) == 3
    assert "Page 1 of 3" in text and "Page 3 of 3" in text


def test_money_formatting_and_words():
    assert amount_text(D("12345678.5"), "INR", "en_IN") == "1,23,45,678.50"
    assert amount_text(D("1234.5"), "EUR", "de_DE") == "1.234,50"
    assert amount_text(D("1234"), "JPY", "ja_JP") == "1,234"
    assert money_text(D("1234.5"), "EUR", "de_DE") == "1.234,50\xa0€"
    # The payslip says the net pay in words as invoices do (domain.words).
    assert amount_in_words(D("100000"), "INR") == "Rupees One Lakh Only"
    assert amount_in_words(D("0.50"), "INR") == "Fifty Paise Only"
    assert amount_in_words(D("1234.50"), "EUR").startswith("One Thousand Two Hundred")
