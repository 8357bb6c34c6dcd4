"""Hand-worked tax examples for every regime (domain.tax), to the paisa and the cent.

Each expected figure below was worked out by hand first; comments show the
arithmetic so that a failure says which step went wrong.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Rounding
from erp_desktop.domain.tax import (
    DEFAULT_RATES,
    LineInput,
    RoundingLevel,
    TaxPolicy,
    compute_document,
    is_inter_state,
    share_of,
)

RATES = {r.code: r for regime in DEFAULT_RATES.values() for r in regime}
GST18, GST5, GST12 = RATES["GST18"], RATES["GST5"], RATES["GST12"]
VAT20, VAT5 = RATES["VAT20"], RATES["VAT5"]


def line(qty, price, rate, **kw):
    return LineInput(D(qty), D(price), rate, **kw)


def breakdown(doc):
    return {(r.rate_code, r.component_code): (r.taxable, r.tax) for r in doc.breakdown}


def test_gst_intra_state_exclusive_with_line_discount():
    # 2 x 1,000.00 less 10 % = 1,800.00 taxable; CGST 9 % = 162.00; SGST 9 % = 162.00
    # 3 x 333.33 = 999.99 taxable; CGST 2.5 % = 24.99975 -> 25.00; SGST the same
    doc = compute_document([line(2, "1000.00", GST18, discount_percent=D(10)),
                            line(3, "333.33", GST5)], TaxPolicy("INR"))
    a, b = doc.lines
    assert (a.gross, a.line_discount, a.taxable, a.tax, a.total) == (
        D("2000.00"), D("200.00"), D("1800.00"), D("324.00"), D("2124.00"))
    assert [(c.code, c.amount) for c in a.components] == [("CGST", D("162.00")),
                                                          ("SGST", D("162.00"))]
    assert (b.taxable, b.tax, b.total) == (D("999.99"), D("50.00"), D("1049.99"))
    assert doc.taxable_total == D("2799.99")
    assert doc.tax_total == D("374.00")
    assert doc.grand_total == D("3173.99")
    assert doc.round_off == D("0.00")
    assert breakdown(doc) == {
        ("GST18", "CGST"): (D("1800.00"), D("162.00")),
        ("GST18", "SGST"): (D("1800.00"), D("162.00")),
        ("GST5", "CGST"): (D("999.99"), D("25.00")),
        ("GST5", "SGST"): (D("999.99"), D("25.00"))}


def test_gst_inter_state_uses_igst_only():
    # IGST 18 % of 1,800.00 = 324.00; IGST 5 % of 999.99 = 49.9995 -> 50.00
    doc = compute_document([line(2, "1000.00", GST18, discount_percent=D(10)),
                            line(3, "333.33", GST5)], TaxPolicy("INR", inter_state=True))
    assert breakdown(doc) == {("GST18", "IGST"): (D("1800.00"), D("324.00")),
                              ("GST5", "IGST"): (D("999.99"), D("50.00"))}
    assert doc.grand_total == D("3173.99")
    assert all(r.rate in (D(18), D(5)) for r in doc.breakdown)


def test_round_off_to_whole_rupees():
    # 3,173.99 -> 3,174.00 (+0.01); 1,015.20 -> 1,015.00 (-0.20)
    doc = compute_document([line(2, "1000.00", GST18, discount_percent=D(10)),
                            line(3, "333.33", GST5)], TaxPolicy("INR", round_off=True))
    assert (doc.total_before_round_off, doc.round_off, doc.grand_total) == (
        D("3173.99"), D("0.01"), D("3174.00"))
    doc = compute_document([line(1, "600.00", GST18), line(1, "400.00", GST5)],
                           TaxPolicy("INR", round_off=True), discount_amount=D("100.00"))
    assert (doc.total_before_round_off, doc.round_off, doc.grand_total) == (
        D("1015.20"), D("-0.20"), D("1015.00"))


def test_round_off_half_even_at_fifty_paise():
    # a total of exactly 100.50: half-up goes to 101, half-even to 100 (even)
    exempt = RATES["EXEMPT"]
    up = compute_document([line(1, "100.50", exempt)], TaxPolicy("INR", round_off=True))
    even = compute_document([line(1, "100.50", exempt)],
                            TaxPolicy("INR", round_off=True, rounding=Rounding.HALF_EVEN))
    assert (up.grand_total, up.round_off) == (D("101.00"), D("0.50"))
    assert (even.grand_total, even.round_off) == (D("100.00"), D("-0.50"))


def test_per_line_and_per_invoice_rounding_differ_as_worked():
    # Three lines of 0.70 at GST 5 % inside the state:
    # per line: CGST 2.5 % of 0.70 = 0.0175 -> 0.02, three times = 0.06 (SGST the same)
    # per invoice: CGST 2.5 % of 2.10 = 0.0525 -> 0.05, spread 0.02 + 0.02 + 0.01
    lines = [line(1, "0.70", GST5)] * 3
    per_line = compute_document(lines, TaxPolicy("INR", level=RoundingLevel.LINE))
    per_invoice = compute_document(lines, TaxPolicy("INR", level=RoundingLevel.INVOICE))
    assert per_line.tax_total == D("0.12")
    assert per_invoice.tax_total == D("0.10")
    assert breakdown(per_invoice)[("GST5", "CGST")] == (D("2.10"), D("0.05"))
    assert [ln.components[0].amount for ln in per_invoice.lines] == [
        D("0.02"), D("0.02"), D("0.01")]
    assert sum((ln.tax for ln in per_invoice.lines), D(0)) == per_invoice.tax_total


def test_half_up_and_half_even_on_a_half_cent():
    # VAT 5 % of 0.50 = 0.025: half-up 0.03, half-even 0.02
    up = compute_document([line(1, "0.50", VAT5)], TaxPolicy("EUR"))
    even = compute_document([line(1, "0.50", VAT5)],
                            TaxPolicy("EUR", rounding=Rounding.HALF_EVEN))
    assert up.tax_total == D("0.03")
    assert even.tax_total == D("0.02")


def test_vat_tax_inclusive_prices():
    # 12.00 incl. 20 %: 12.00 x 100 / 120 = 10.00 net, VAT 2.00
    # 3 x 9.99 = 29.97 incl.: 29.97 / 1.2 = 24.975 -> 24.98 net, VAT 4.99
    doc = compute_document([line(1, "12.00", VAT20), line(3, "9.99", VAT20)],
                           TaxPolicy("EUR", prices_include_tax=True))
    a, b = doc.lines
    assert (a.taxable, a.tax, a.total) == (D("10.00"), D("2.00"), D("12.00"))
    assert (b.taxable, b.tax, b.total) == (D("24.98"), D("4.99"), D("29.97"))
    assert doc.grand_total == D("41.97")  # what the customer pays: the shelf prices
    assert breakdown(doc) == {("VAT20", "VAT"): (D("34.98"), D("6.99"))}


def test_vat_inclusive_per_invoice_rounding():
    # per invoice: 41.97 / 1.2 = 34.975 -> 34.98 net, VAT 6.99, spread over the lines
    doc = compute_document([line(1, "12.00", VAT20), line(3, "9.99", VAT20)],
                           TaxPolicy("EUR", prices_include_tax=True,
                                     level=RoundingLevel.INVOICE))
    assert doc.taxable_total == D("34.98")
    assert doc.tax_total == D("6.99")
    assert doc.grand_total == D("41.97")
    assert [ln.total for ln in doc.lines] == [D("12.00"), D("29.97")]


def test_gst_inclusive_splits_cgst_and_sgst():
    # 1,180.00 incl. 18 % = 1,000.00 + CGST 90.00 + SGST 90.00
    # 499.00 incl. 18 % = 422.8813 -> 422.88 + 76.12 (38.06 + 38.06)
    # 10.02 incl. 12 % = 8.9464 -> 8.95 + 1.07: CGST 0.54, SGST 0.53 (exact split)
    doc = compute_document([line(1, "1180.00", GST18), line(1, "499.00", GST18),
                            line(1, "10.02", GST12)],
                           TaxPolicy("INR", prices_include_tax=True))
    a, b, c = doc.lines
    assert (a.taxable, [x.amount for x in a.components]) == (D("1000.00"),
                                                             [D("90.00"), D("90.00")])
    assert (b.taxable, [x.amount for x in b.components]) == (D("422.88"),
                                                             [D("38.06"), D("38.06")])
    assert (c.taxable, [x.amount for x in c.components]) == (D("8.95"),
                                                             [D("0.54"), D("0.53")])
    assert doc.grand_total == D("1689.02")


def test_document_discount_is_spread_before_tax():
    # 600 + 400 less 100 -> 540 (18 %) + 360 (5 %)
    # tax: 540 x 18 % = 97.20 (48.60 + 48.60); 360 x 5 % = 18.00 (9.00 + 9.00)
    for kw in ({"discount_amount": D("100.00")}, {"discount_percent": D(10)}):
        doc = compute_document([line(1, "600.00", GST18), line(1, "400.00", GST5)],
                               TaxPolicy("INR"), **kw)
        assert [ln.document_discount for ln in doc.lines] == [D("60.00"), D("40.00")]
        assert [ln.taxable for ln in doc.lines] == [D("540.00"), D("360.00")]
        assert doc.tax_total == D("115.20")
        assert doc.discount_total == D("100.00")
        assert doc.grand_total == D("1015.20")


def test_document_discount_remainder_goes_to_the_largest_share():
    # 10.00 over three equal lines: 3.34 + 3.33 + 3.33, never 9.99 or 10.02
    doc = compute_document([line(1, "100.00", VAT20)] * 3, TaxPolicy("EUR"),
                           discount_amount=D("10.00"))
    assert [ln.document_discount for ln in doc.lines] == [D("3.34"), D("3.33"), D("3.33")]
    assert doc.taxable_total == D("290.00")


def test_line_discount_as_amount_and_inclusive_discounts():
    # inclusive 1,180.00 less 118.00 = 1,062.00 incl. = 900.00 + 81.00 + 81.00
    doc = compute_document([line(1, "1180.00", GST18, discount_amount=D("118.00"))],
                           TaxPolicy("INR", prices_include_tax=True))
    assert (doc.taxable_total, doc.tax_total, doc.grand_total) == (
        D("900.00"), D("162.00"), D("1062.00"))


def test_us_sales_tax_components():
    # 100.00 x (4 % state + 4.5 % city + 0.375 % transit) = 4.00 + 4.50 + 0.375 -> 0.38
    doc = compute_document([line(1, "100.00", RATES["ST"])], TaxPolicy("USD"))
    assert [(c.code, c.amount) for c in doc.lines[0].components] == [
        ("STATE", D("4.00")), ("CITY", D("4.50")), ("MCTD", D("0.38"))]
    assert doc.grand_total == D("108.88")


def test_zero_rated_and_exempt_show_their_taxable_value():
    doc = compute_document([line(2, "50.00", RATES["ZERO"]), line(1, "30.00", RATES["EXEMPT"]),
                            line(1, "100.00", RATES["GST0"])], TaxPolicy("INR"))
    assert doc.tax_total == D("0.00")
    rows = breakdown(doc)
    assert rows[("ZERO", None)] == (D("100.00"), D("0.00"))
    assert rows[("EXEMPT", None)] == (D("30.00"), D("0.00"))
    assert rows[("GST0", "CGST")] == (D("100.00"), D("0.00"))
    assert doc.grand_total == D("230.00")


def test_fractional_quantity_rounds_the_gross():
    # 1.250 kg x 99.99 = 124.9875 -> 124.99
    doc = compute_document([line("1.250", "99.99", RATES["EXEMPT"])], TaxPolicy("INR"))
    assert doc.lines[0].gross == D("124.99")


@pytest.mark.parametrize("bad, field", [
    (dict(quantity=D(0)), "quantity"),
    (dict(quantity=D(-1)), "quantity"),
    (dict(unit_price=D("-1.00")), "unit_price"),
    (dict(unit_price=D("1.005")), "unit_price"),
    (dict(discount_percent=D(101)), "discount_percent"),
    (dict(discount_amount=D("20.01")), "discount_amount"),
    (dict(discount_amount=D("-1")), "discount_amount"),
    (dict(discount_percent=D(5), discount_amount=D(1)), "discount"),
])
def test_bad_lines_are_refused(bad, field):
    args = dict(quantity=D(2), unit_price=D("10.00"), rate=GST18) | bad
    with pytest.raises(ValidationError) as err:
        compute_document([LineInput(**args)], TaxPolicy("INR"))
    assert err.value.field == field


def test_bad_documents_are_refused():
    with pytest.raises(ValidationError):
        compute_document([], TaxPolicy("INR"))
    with pytest.raises(ValidationError, match="larger than the invoice"):
        compute_document([line(1, "10.00", GST18)], TaxPolicy("INR"),
                         discount_amount=D("10.01"))
    with pytest.raises(ValidationError, match="not both"):
        compute_document([line(1, "10.00", GST18)], TaxPolicy("INR"),
                         discount_amount=D(1), discount_percent=D(1))
    with pytest.raises(ValidationError):
        compute_document([line(1, "10.00", GST18)], TaxPolicy("INR"),
                         discount_percent=D(-1))


def test_place_of_supply():
    assert not is_inter_state("29", "29")
    assert is_inter_state("29", "27")
    assert not is_inter_state("29", None)  # walk-in: the company's own state
    assert is_inter_state("29", None, company_country="IN", customer_country="DE")


def test_credit_share_adds_up_exactly():
    # 100.00 over 3 units, credited one at a time: 33.33 + 33.34 + 33.33
    parts = [share_of(D("100.00"), D(i), D(1), D(3), "INR") for i in range(3)]
    assert parts == [D("33.33"), D("33.34"), D("33.33")]
    assert sum(parts) == D("100.00")
