"""Credit notes: full or partial, reversing stock and ledger, exact to the paisa."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from erp_desktop.domain.errors import ValidationError
from erp_desktop.services import catalogue, customers, sales, sales_settings
from erp_desktop.services.sales import CreditLineIn, LineIn
from tests.services.sales.conftest import balances, moved


def _issue(shop, *lines, customer=None):
    draft = sales.create_draft(shop.ctx, customer or shop.local.id, list(lines))
    return sales.issue_invoice(shop.ctx, draft.id).invoice


def test_full_credit_note_reverses_stock_and_ledger(shop):
    ctx = shop.ctx
    start = balances(ctx)
    inv = _issue(shop, LineIn("TV55", 1), LineIn("KETTLE", 2, discount_percent=10))
    after_invoice = balances(ctx)
    cn = sales.issue_credit_note(ctx, inv.number, reason="Customer cancelled the order")
    assert cn.number == "CN/2026-27/A/000001"
    assert cn.total == inv.total and cn.to_invoice == inv.total
    assert [ln.quantity for ln in cn.lines] == [1, 2]
    assert catalogue.get_product(ctx, "TV55").on_hand == 5
    assert catalogue.get_product(ctx, "KETTLE").on_hand == 20
    change = moved(after_invoice, balances(ctx))
    assert change == {
        "4500": inv.taxable.amount,  # sales returns
        "2210": inv.tax.amount / 2, "2220": inv.tax.amount / 2,  # output tax reversed
        "1300": -inv.total.amount,  # nothing owed any more
        "1400": D("31200.00"), "5100": D("-31200.00"),  # goods back at their cost
    }
    overall = moved(start, balances(ctx))
    assert {k: v for k, v in overall.items() if k not in ("4100", "4500")} == {}
    assert overall["4100"] == -overall["4500"]
    settled = sales.get_invoice(ctx, inv.id)
    assert settled.status == "paid" and settled.balance.amount == 0
    assert settled.settlements[-1].number == cn.number
    with pytest.raises(ValidationError, match="already credited in full"):
        sales.issue_credit_note(ctx, inv.number)


def test_partial_credits_add_up_to_the_line_exactly(shop):
    ctx = shop.ctx
    # 3 x 333.33 at 18 %: 999.99 taxable, CGST 90.00 (89.9991), SGST 90.00
    inv = _issue(shop, LineIn(description="Wall bracket", quantity=3, unit_price="333.33",
                              tax_category="GST18"), LineIn("KETTLE", 1))
    line = inv.lines[0]
    parts = [sales.issue_credit_note(ctx, inv.number, [CreditLineIn(1, 1)]) for _ in range(3)]
    assert [p.number[-6:] for p in parts] == ["000001", "000002", "000003"]
    assert sum(p.taxable.amount for p in parts) == line.taxable.amount
    assert sum(p.total.amount for p in parts) == line.total.amount
    assert sum((p.tax_lines[0].tax.amount for p in parts), D(0)) == D("90.00")
    with pytest.raises(ValidationError, match=r"only 0 can still be credited"):
        sales.issue_credit_note(ctx, inv.number, [CreditLineIn(1, 1)])
    left = sales.get_invoice(ctx, inv.id)
    assert left.lines[0].credited_quantity == 3 and left.lines[1].credited_quantity == 0
    assert left.balance == inv.total - line.total


def test_credit_after_payment_becomes_customer_credit(shop):
    ctx = shop.ctx
    inv = _issue(shop, LineIn("KETTLE", 2))  # 2,360.00
    sales.record_payment(ctx, shop.local.id, "2360.00", "cash")
    before = balances(ctx)
    cn = sales.issue_credit_note(ctx, inv.number, [CreditLineIn(1, 1)], restock=False,
                                 reason="Damaged in transit")
    assert (cn.to_invoice.amount, cn.to_credit.amount) == (D("0.00"), D("1180.00"))
    assert customers.customer_balance(ctx, shop.local.id).credit.amount == D("1180.00")
    change = moved(before, balances(ctx))
    assert change == {"4500": D("1000.00"), "2210": D("90.00"), "2220": D("90.00"),
                      "2400": D("-1180.00")}  # no stock came back (restock=False)
    assert catalogue.get_product(ctx, "KETTLE").on_hand == 18


def test_round_off_is_reversed_exactly_over_several_notes(shop):
    ctx = shop.ctx
    sales_settings.set_tax_rounding(ctx, round_off=True)
    inv = _issue(shop, LineIn("RICE", "1.333"), LineIn("RICE", "2.111"))
    assert inv.round_off.amount != 0
    first = sales.issue_credit_note(ctx, inv.number, [CreditLineIn(1, "1.333")])
    second = sales.issue_credit_note(ctx, inv.number)
    assert first.total.amount == first.total.amount.to_integral_value()
    assert first.total + second.total == inv.total
    assert first.round_off + second.round_off == inv.round_off


def test_credit_note_refusals(shop):
    ctx = shop.ctx
    inv = _issue(shop, LineIn("KETTLE", 2))
    draft = sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)])
    with pytest.raises(ValidationError, match="not issued"):
        sales.issue_credit_note(ctx, draft.id)
    with pytest.raises(ValidationError, match="no line 5"):
        sales.issue_credit_note(ctx, inv.number, [CreditLineIn(5, 1)])
    with pytest.raises(ValidationError, match="only 2 pcs can still be credited"):
        sales.issue_credit_note(ctx, inv.number, [CreditLineIn(1, 3)])
    with pytest.raises(ValidationError, match="listed twice"):
        sales.issue_credit_note(ctx, inv.number, [CreditLineIn(1, 1), CreditLineIn(1, 1)])
    with pytest.raises(ValidationError, match="greater than zero"):
        sales.issue_credit_note(ctx, inv.number, [CreditLineIn(1, 0)])
    with pytest.raises(ValidationError, match="before the invoice"):
        sales.issue_credit_note(ctx, inv.number, note_date=date(2026, 10, 1))
    with pytest.raises(ValidationError, match="at least one line"):
        sales.issue_credit_note(ctx, inv.number, [])
    assert sales.issue_credit_note(ctx, inv.number).number == "CN/2026-27/A/000001"
