"""Receivables reports: statement, ageing, sales register and tax summary, with CSV."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal as D

import pytest

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.services import customers, sales
from erp_desktop.services.sales import Allocation, CreditLineIn, LineIn
from tests.services.sales.conftest import as_role


def _issue(shop, customer, day, *lines):
    return sales.issue_invoice(shop.ctx, sales.create_draft(
        shop.ctx, customer, list(lines), invoice_date=day).id).invoice


@pytest.fixture
def books(shop):
    """Lakshmi Stores (30 days' terms) and Unique Traders (15 days) over three months."""
    ctx = shop.ctx
    a = _issue(shop, shop.local.id, date(2026, 8, 1), LineIn("KETTLE", 1))  # 1,180, due 31 Aug
    b = _issue(shop, shop.local.id, date(2026, 9, 20), LineIn("RICE", 10))  # 1,260, due 20 Oct
    c = _issue(shop, shop.remote.id, date(2026, 10, 10), LineIn("KETTLE", 2))  # 2,360, 25 Oct
    d = _issue(shop, shop.local.id, date(2026, 10, 30), LineIn("KETTLE", 1))  # 1,180, 29 Nov
    sales.record_payment(ctx, shop.local.id, "500.00", "cash", payment_date=date(2026, 9, 1),
                         allocations=[Allocation(a.number, "500.00")])
    sales.record_payment(ctx, shop.remote.id, "2360.00", "upi", reference="u1",
                         payment_date=date(2026, 11, 1))
    sales.issue_credit_note(ctx, b.number, [CreditLineIn(1, 2)], note_date=date(2026, 10, 5))
    return a, b, c, d


def test_ageing_buckets_by_days_past_due(shop, books):
    a, b, _c, d = books
    report = sales.ageing(shop.ctx, date(2026, 11, 2))
    # Lakshmi: A 680 left, 63 days past due (61-90); B 1,260 - 252 = 1,008, 13 days (1-30);
    # D 1,180 not yet due (current). Unique: paid on 1 Nov.
    (row,) = report.rows
    assert row.customer_name == "Lakshmi Stores"
    assert (row.current.amount, row.d1_30.amount, row.d31_60.amount, row.d61_90.amount,
            row.d90_plus.amount) == (D("1180.00"), D("1008.00"), 0, D("680.00"), 0)
    assert report.totals.total.amount == D("2868.00")
    # a day before Unique paid, its invoice was 6 days overdue
    earlier = sales.ageing(shop.ctx, date(2026, 10, 31))
    unique = next(r for r in earlier.rows if r.customer_name == "Unique Traders")
    assert unique.d1_30.amount == D("2360.00")
    detail = sales.ageing(shop.ctx, date(2026, 11, 2), by_invoice=True)
    assert [(r.invoice_number, r.days_overdue) for r in detail.rows] == [
        (a.number, 63), (b.number, 13), (d.number, 0)]
    text = sales.ageing_csv(report)
    assert text.splitlines()[0] == ("customer_code,customer_name,invoice_number,due_date,"
                                    "days_overdue,current,1-30,31-60,61-90,90+,total")
    assert text.splitlines()[-1].endswith(",2868.00")


def test_customer_statement_runs_a_balance(shop, books):
    st = sales.customer_statement(shop.ctx, shop.local.id, date(2026, 9, 1),
                                  date(2026, 10, 31))
    assert st.opening_balance.amount == D("1180.00")  # invoice A in August
    assert [(r.kind, r.debit.amount, r.credit.amount, r.balance.amount) for r in st.rows] == [
        ("payment", 0, D("500.00"), D("680.00")),
        ("invoice", D("1260.00"), 0, D("1940.00")),
        ("credit_note", 0, D("252.00"), D("1688.00")),
        ("invoice", D("1180.00"), 0, D("2868.00"))]
    assert st.closing_balance.amount == D("2868.00")
    rows = list(csv.reader(io.StringIO(sales.statement_csv(st))))
    assert rows[1][3] == "Opening balance" and rows[-1][-1] == "2868.00"


def test_sales_register_and_tax_summary(shop, books):
    _a, _b, c, d = books
    ctx = shop.ctx
    reg = sales.sales_register(ctx, date(2026, 10, 1), date(2026, 10, 31))
    assert [(r.doc_type, r.number) for r in reg.rows] == [
        ("credit_note", "CN/2026-27/A/000001"), ("invoice", c.number), ("invoice", d.number)]
    assert reg.components == ["CGST", "IGST", "SGST"]
    cn_row = reg.rows[0]
    assert cn_row.total.amount == D("-252.00") and cn_row.tax_by_component["CGST"].amount == \
        D("-6.00")
    assert reg.total.amount == D("-252.00") + D("2360.00") + D("1180.00")
    text = sales.sales_register_csv(reg)
    assert text.splitlines()[0].startswith("doc_type,number,date,customer_code,customer_name,"
                                           "gstin,place_of_supply,taxable,cgst,igst,sgst,tax")
    summary = sales.tax_summary(ctx, date(2026, 8, 1), date(2026, 10, 31))
    rows = {(r.rate_code, r.component_code): r for r in summary.rows}
    gst5 = rows[("GST5", "CGST")]
    assert (gst5.invoiced_taxable.amount, gst5.invoiced_tax.amount,
            gst5.credited_taxable.amount, gst5.credited_tax.amount, gst5.net_tax.amount) == (
        D("1200.00"), D("30.00"), D("240.00"), D("6.00"), D("24.00"))
    assert rows[("GST18", "IGST")].net_tax.amount == D("360.00")
    assert rows[("GST18", "CGST")].net_tax.amount == D("180.00")  # 9 % of invoices A and D
    assert {k: v.amount for k, v in summary.tax_by_component.items()} == {
        "CGST": D("204.00"), "IGST": D("360.00"), "SGST": D("204.00")}
    assert summary.net_tax.amount == D("768.00")
    assert sales.tax_summary_csv(summary).splitlines()[-1].endswith(",768.00")


def test_csv_does_not_let_a_name_run_as_a_formula(shop):
    ctx = shop.ctx
    evil = customers.create_customer(ctx, "=HYPERLINK(\"http://x\")")
    sales.issue_invoice(ctx, sales.create_draft(ctx, evil.id, [LineIn("RICE", 1)]).id)
    text = sales.invoice_list_csv(list(sales.iter_invoices(ctx)))
    assert "'=HYPERLINK" in text


def test_report_refusals(shop):
    with pytest.raises(ValidationError, match="after the end date"):
        sales.sales_register(shop.ctx, date(2026, 11, 2), date(2026, 11, 1))
    with pytest.raises(PermissionDenied):
        sales.ageing(as_role(shop.ctx, "sales_clerk"), date(2026, 11, 2))
    assert sales.ageing(as_role(shop.ctx, "accountant"), date(2026, 11, 2)).rows == []
