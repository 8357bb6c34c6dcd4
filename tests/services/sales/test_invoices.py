"""Invoices: drafts, issuing (number, stock, tax, one balanced entry), and refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from erp_desktop.domain.errors import (
    NotFound,
    PeriodLocked,
    PermissionDenied,
    ValidationError,
)
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.inventory import StockMove
from erp_desktop.services import catalogue, customers, ledger, sales, sales_settings
from erp_desktop.services.sales import LineIn
from tests.services.sales.conftest import TODAY, as_role, balances, moved

R = D  # readability: amounts in rupees


def _on_hand(ctx, sku):
    return catalogue.get_product(ctx, sku).on_hand


def test_issuing_numbers_moves_stock_and_posts_one_balanced_entry(shop):
    ctx = shop.ctx
    before = balances(ctx)
    draft = sales.create_draft(ctx, shop.local.id, [
        LineIn("TV55", 1), LineIn("KETTLE", 2, discount_percent=10), LineIn("INSTALL", 1)])
    assert draft.status == "draft" and draft.number is None
    # 40,000 + (2,000 - 10 %) + 500 = 42,300 taxable; 9 % CGST and SGST = 3,807.00 each
    assert (draft.taxable.amount, draft.tax.amount, draft.total.amount) == (
        R("42300.00"), R("7614.00"), R("49914.00"))
    assert _on_hand(ctx, "TV55") == 5  # a draft moves nothing

    result = sales.issue_invoice(ctx, draft.id)
    inv = result.invoice
    assert inv.number == "INV/2026-27/A/000001"
    assert inv.status == "issued"
    assert inv.invoice_date == TODAY and inv.due_date == date(2026, 12, 2)  # 30 days' terms
    assert inv.place_of_supply_code == "29" and not inv.inter_state
    assert {(t.component_code, t.tax.amount) for t in inv.tax_lines} == {
        ("CGST", R("3807.00")), ("SGST", R("3807.00"))}
    assert _on_hand(ctx, "TV55") == 4 and _on_hand(ctx, "KETTLE") == 18
    assert _on_hand(ctx, "INSTALL") == 0  # a service has no stock
    assert moved(before, balances(ctx)) == {
        "1300": R("49914.00"),  # receivables
        "4100": R("-41800.00"),  # sales (goods)
        "4200": R("-500.00"),  # service income
        "2210": R("-3807.00"),  # output CGST
        "2220": R("-3807.00"),  # output SGST
        "5100": R("31200.00"),  # cost of goods sold: 30,000 + 2 x 600
        "1400": R("-31200.00"),  # inventory
    }
    entries = ledger.list_entries(ctx, TODAY, TODAY).rows
    assert [e.number for e in entries if e.source_type == "invoice"] == [inv.number]
    with ctx.db.read() as s:
        moves = s.scalars(select(StockMove).where(StockMove.source_id == inv.id)).all()
        assert sorted((m.quantity, m.reference) for m in moves) == [
            (D(-2), inv.number), (D(-1), inv.number)]
        events = s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity_id == str(inv.id))).all()
    assert "sales.invoice_issued" in events
    # the next invoice takes the next number
    second = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id,
                                                         [LineIn("KETTLE", 1)]).id)
    assert second.invoice.number == "INV/2026-27/A/000002"


def test_inter_state_supply_is_charged_igst(shop):
    ctx = shop.ctx
    before = balances(ctx)
    inv = sales.issue_invoice(ctx, sales.create_draft(
        ctx, shop.remote.id, [LineIn("KETTLE", 3)]).id).invoice
    assert inv.inter_state and inv.place_of_supply == "Maharashtra"
    assert [(t.component_code, t.tax.amount) for t in inv.tax_lines] == [("IGST", R("540.00"))]
    assert moved(before, balances(ctx))["2230"] == R("-540.00")  # output IGST


def test_an_issued_invoice_is_never_changed(shop):
    ctx = shop.ctx
    inv = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id,
                                                      [LineIn("KETTLE", 1)]).id).invoice
    message = (f"Invoice {inv.number} is issued and cannot be changed; issue a credit note "
               "instead.")
    with pytest.raises(ValidationError) as err:
        sales.update_draft(ctx, inv.id, lines=[LineIn("KETTLE", 5)])
    assert str(err.value) == message
    with pytest.raises(ValidationError, match="is issued and cannot be changed"):
        sales.delete_draft(ctx, inv.id)
    with pytest.raises(ValidationError, match="already issued"):
        sales.issue_invoice(ctx, inv.id)
    again = sales.get_invoice(ctx, inv.number)
    assert again.total == inv.total and again.lines[0].quantity == 1


def test_drafts_are_edited_and_deleted(shop):
    ctx = shop.ctx
    draft = sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1), LineIn("RICE", 2)])
    changed = sales.update_draft(ctx, draft.id, expected_version=draft.version,
                                 lines=[LineIn("KETTLE", 3)], notes="Deliver Monday")
    assert [ln.quantity for ln in changed.lines] == [3]
    assert changed.total.amount == R("3540.00")
    assert changed.notes == "Deliver Monday"
    with pytest.raises(Exception, match="changed by someone else"):
        sales.update_draft(ctx, draft.id, expected_version=draft.version, notes="x")
    moved_customer = sales.update_draft(ctx, draft.id, customer=shop.remote.id)
    assert moved_customer.inter_state and moved_customer.tax_lines[0].component_code == "IGST"
    sales.delete_draft(ctx, draft.id)
    assert sales.get_invoice(ctx, draft.id).status == "void"
    assert all(r.id != draft.id for r in sales.list_invoices(ctx).rows)
    with pytest.raises(ValidationError, match="deleted"):
        sales.update_draft(ctx, draft.id, notes="again")
    with pytest.raises(ValidationError, match="deleted"):
        sales.issue_invoice(ctx, draft.id)


def test_a_failed_issue_writes_nothing_and_leaves_no_gap(shop):
    ctx = shop.ctx
    before = balances(ctx)
    too_many = sales.create_draft(ctx, shop.local.id, [LineIn("TV55", 6)])  # 5 in stock
    with pytest.raises(ValidationError, match="Not enough stock of 55-inch LED TV"):
        sales.issue_invoice(ctx, too_many.id)
    still = sales.get_invoice(ctx, too_many.id)
    assert still.status == "draft" and still.number is None
    assert balances(ctx) == before
    assert _on_hand(ctx, "TV55") == 5
    ok = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id,
                                                     [LineIn("TV55", 1)]).id)
    assert ok.invoice.number == "INV/2026-27/A/000001"  # the refused one took no number


def test_issuing_into_a_locked_period_is_refused(shop):
    ctx = shop.ctx
    ledger.lock_books(ctx, date(2026, 10, 31))
    draft = sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)],
                               invoice_date=date(2026, 10, 20))
    with pytest.raises(PeriodLocked):
        sales.issue_invoice(ctx, draft.id)
    assert sales.get_invoice(ctx, draft.id).status == "draft"
    assert _on_hand(ctx, "KETTLE") == 20


def test_credit_limit_exceeded_warns_but_issues(shop):
    ctx = shop.ctx
    customers.update_customer(ctx, shop.local.id, credit_limit="10000")
    result = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id,
                                                         [LineIn("TV55", 1)]).id)
    assert result.credit_limit_exceeded
    assert result.invoice.status == "issued"
    assert "over the credit limit of ₹10,000.00" in result.warnings[0]
    small = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.remote.id,
                                                        [LineIn("KETTLE", 1)]).id)
    assert not small.credit_limit_exceeded and small.warnings == []


def test_quote_turns_into_an_invoice(shop):
    ctx = shop.ctx
    quote = sales.create_quote(ctx, shop.local.id, [LineIn("TV55", 2)],
                               quote_date=date(2026, 10, 28))
    assert quote.status == "quote"
    with pytest.raises(ValidationError, match="turn it into an invoice first"):
        sales.issue_invoice(ctx, quote.id)
    draft = sales.convert_quote(ctx, quote.id)
    assert draft.status == "draft" and draft.invoice_date == TODAY
    assert sales.issue_invoice(ctx, draft.id).invoice.number == "INV/2026-27/A/000001"


def test_counter_sale_to_the_walk_in_customer_paid_in_cash(shop):
    ctx = shop.ctx
    before = balances(ctx)
    result = sales.sell(ctx, [LineIn("RICE", "1.500"), LineIn("KETTLE", 1)],
                        payment_method="cash")
    inv = result.invoice
    assert inv.customer_name == customers.WALK_IN_NAME
    assert inv.status == "paid" and inv.balance.amount == 0
    # rice 1.5 kg x 120 = 180 + 5 % = 189; kettle 1,000 + 18 % = 1,180
    assert inv.total.amount == R("1369.00")
    change = moved(before, balances(ctx))
    assert change["1100"] == R("1369.00") and "1300" not in change  # cash, nothing owed
    assert sales.sell(ctx, [LineIn("RICE", 1)]).invoice.customer_code == \
        inv.customer_code  # one walk-in customer


def test_per_invoice_rounding_and_round_off_are_posted(shop):
    ctx = shop.ctx
    sales_settings.set_tax_rounding(ctx, level="invoice", round_off=True)
    before = balances(ctx)
    line = LineIn(description="Sample sachet", unit_price="0.70", tax_category="GST5")
    inv = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id,
                                                      [line, line, line]).id).invoice
    # per invoice: 2.5 % of 2.10 = 0.0525 -> 0.05 CGST and SGST; 2.20 -> 2.00
    assert (inv.tax.amount, inv.round_off.amount, inv.total.amount) == (
        R("0.10"), R("-0.20"), R("2.00"))
    assert inv.rounding_level == "invoice"
    change = moved(before, balances(ctx))
    assert change["4400"] == R("0.20")  # round-off: a debit
    assert change["1300"] == R("2.00")


def test_inclusive_price_list_takes_tax_out_of_the_price(shop):
    ctx = shop.ctx
    customers.create_price_list(ctx, "Retail (MRP)", prices_include_tax=True, is_default=True)
    tv = catalogue.get_product(ctx, "TV55")
    customers.set_price(ctx, "Retail (MRP)", tv.id, "47200.00")
    inv = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id,
                                                      [LineIn("TV55", 1)]).id).invoice
    assert inv.prices_include_tax
    assert inv.lines[0].unit_price.amount == R("47200.00")
    assert (inv.taxable.amount, inv.tax.amount, inv.total.amount) == (
        R("40000.00"), R("7200.00"), R("47200.00"))


def test_document_discount_is_spread_and_the_books_agree(shop):
    ctx = shop.ctx
    before = balances(ctx)
    inv = sales.issue_invoice(ctx, sales.create_draft(
        ctx, shop.local.id, [LineIn("TV55", 1), LineIn("RICE", 10)],
        discount_amount="1000.00").id).invoice
    # 1,000 over 40,000 and 1,200: 970.87 and 29.13
    assert [ln.discount.amount for ln in inv.lines] == [R("970.87"), R("29.13")]
    assert inv.taxable.amount == R("40200.00")
    change = moved(before, balances(ctx))
    tax = -(change["2210"] + change["2220"])
    assert tax == inv.tax.amount
    assert change["1300"] == inv.total.amount == inv.taxable.amount + inv.tax.amount


@pytest.mark.parametrize("line, field", [
    (LineIn("KETTLE", 0), "quantity"),
    (LineIn("KETTLE", "2.5"), "quantity"),  # pcs are whole
    (LineIn("NOPE", 1), "product"),
    (LineIn(description="Labour"), "unit_price"),
    (LineIn(quantity=1, unit_price="10"), "description"),
    (LineIn("KETTLE", 1, discount_percent=5, discount_amount=5), "discount"),
    (LineIn("KETTLE", 1, discount_percent=120), "discount_percent"),
    (LineIn("KETTLE", 1, unit_price="-1"), "unit_price"),
    (LineIn("KETTLE", 1, unit_price="1.001"), "unit_price"),
    (LineIn("KETTLE", 1, tax_category="GST99"), "tax_category"),
])
def test_bad_lines_are_refused(shop, line, field):
    with pytest.raises((ValidationError, NotFound)) as err:
        sales.create_draft(shop.ctx, shop.local.id, [line])
    assert err.value.field == field
    assert sales.list_invoices(shop.ctx).rows == []


def test_bad_documents_are_refused(shop):
    ctx = shop.ctx
    with pytest.raises(ValidationError, match="at least one line"):
        sales.create_draft(ctx, shop.local.id, [])
    with pytest.raises(NotFound):
        sales.create_draft(ctx, "Nobody Ltd", [LineIn("KETTLE", 1)])
    with pytest.raises(ValidationError, match="larger than the invoice"):
        sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)], discount_amount="5000")
    customers.update_customer(ctx, shop.local.id, active=False)
    with pytest.raises(ValidationError, match="inactive"):
        sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)])
    with pytest.raises(NotFound):
        sales.issue_invoice(ctx, "INV/2026-27/A/000999")


def test_permissions(shop):
    ctx = shop.ctx
    draft = sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)])
    employee = as_role(ctx, "employee")
    with pytest.raises(PermissionDenied):
        sales.create_draft(employee, shop.local.id, [LineIn("KETTLE", 1)])
    with pytest.raises(PermissionDenied):
        sales.get_invoice(employee, draft.id)
    storekeeper = as_role(ctx, "storekeeper")
    with pytest.raises(PermissionDenied):
        sales.issue_invoice(storekeeper, draft.id)
    clerk = as_role(ctx, "sales_clerk")
    issued = sales.issue_invoice(clerk, draft.id).invoice
    with pytest.raises(PermissionDenied):
        sales.issue_credit_note(clerk, issued.id)
    auditor = as_role(ctx, "auditor")
    assert sales.get_invoice(auditor, issued.number).number == issued.number
    with ctx.db.read() as s:
        denied = s.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "permission.denied"))
    assert denied == 4


def test_list_pages_newest_first_and_filters(shop):
    ctx = shop.ctx
    for day in (date(2026, 10, 1), date(2026, 10, 15), date(2026, 11, 1)):
        sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id, [LineIn("RICE", 1)],
                                                    invoice_date=day).id)
    sales.create_draft(ctx, shop.remote.id, [LineIn("RICE", 1)])
    first = sales.list_invoices(ctx, limit=2)
    assert [r.invoice_date for r in first.rows] == [TODAY, date(2026, 11, 1)]
    rest = sales.list_invoices(ctx, limit=2, after=first.next_cursor)
    assert [r.invoice_date for r in rest.rows] == [date(2026, 10, 15), date(2026, 10, 1)]
    assert rest.next_cursor is None
    assert len(sales.list_invoices(ctx, customer="Unique Traders").rows) == 1
    october = sales.list_invoices(ctx, date(2026, 10, 1), date(2026, 10, 31))
    assert [r.number for r in october.rows] == ["INV/2026-27/A/000002", "INV/2026-27/A/000001"]
    csv_text = sales.invoice_list_csv(list(sales.iter_invoices(ctx, page_size=1)))
    assert csv_text.splitlines()[0].startswith("number,status,invoice_date")
    assert len(csv_text.splitlines()) == 5


def test_batch_issue_is_all_or_nothing(shop):
    ctx = shop.ctx
    good = [sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)]).id for _ in range(3)]
    bad = sales.create_draft(ctx, shop.remote.id, [LineIn("TV55", 9)]).id  # only 5 in stock
    with pytest.raises(ValidationError, match=r"the draft for Unique Traders of 2026-11-02: "
                                              r"Not enough stock.*Nothing was issued"):
        sales.issue_invoices(ctx, [*good, bad])
    assert all(sales.get_invoice(ctx, i).status == "draft" for i in good)
    assert _on_hand(ctx, "KETTLE") == 20
    done = sales.issue_invoices(ctx, good)
    assert done.numbers == [f"INV/2026-27/A/00000{n}" for n in (1, 2, 3)]
    assert _on_hand(ctx, "KETTLE") == 17
