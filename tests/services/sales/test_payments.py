"""Payments: every method, partial, across invoices, overpayment kept as credit."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from erp_desktop.domain.errors import ValidationError
from erp_desktop.services import customers, sales
from erp_desktop.services.sales import Allocation, LineIn
from tests.services.sales.conftest import balances, moved


def _issue(shop, customer, *lines, day=None):
    draft = sales.create_draft(shop.ctx, customer, list(lines), invoice_date=day)
    return sales.issue_invoice(shop.ctx, draft.id).invoice


def test_partial_payments_move_the_status(shop):
    ctx = shop.ctx
    inv = _issue(shop, shop.local.id, LineIn("KETTLE", 2))  # 2,360.00
    p1 = sales.record_payment(ctx, shop.local.id, "1000.00", "upi", reference="UPI/4471")
    assert p1.number == "RCPT/2026-27/A/000001"
    assert p1.allocations[0].invoice_number == inv.number
    assert sales.get_invoice(ctx, inv.id).status == "partially_paid"
    assert sales.get_invoice(ctx, inv.id).balance.amount == D("1360.00")
    p2 = sales.record_payment(ctx, shop.local.id, "1360.00", "card", reference="VISA 4242")
    assert p2.number == "RCPT/2026-27/A/000002"
    done = sales.get_invoice(ctx, inv.id)
    assert done.status == "paid" and done.balance.amount == 0
    assert [(s.number, s.method, s.amount.amount) for s in done.settlements] == [
        (p1.number, "upi", D("1000.00")), (p2.number, "card", D("1360.00"))]
    with pytest.raises(ValidationError, match="already paid"):
        sales.record_payment(ctx, shop.local.id, "1", "cash",
                             allocations=[Allocation(inv.number, "1")])


def test_one_payment_settles_several_invoices(shop):
    ctx = shop.ctx
    a = _issue(shop, shop.local.id, LineIn("KETTLE", 1), day=date(2026, 10, 1))  # 1,180
    b = _issue(shop, shop.local.id, LineIn("RICE", 10), day=date(2026, 10, 5))  # 1,260
    c = _issue(shop, shop.local.id, LineIn("KETTLE", 1))  # 1,180
    pay = sales.record_payment(ctx, shop.local.id, "2000.00", "bank_transfer",
                               reference="NEFT HDFC00042",
                               allocations=[Allocation(a.number, "1180.00"),
                                            Allocation(c.number, "820.00")])
    assert [(x.invoice_number, x.amount.amount, x.invoice_status) for x in pay.allocations] == [
        (a.number, D("1180.00"), "paid"), (c.number, D("820.00"), "partially_paid")]
    assert sales.get_invoice(ctx, b.id).status == "issued"
    # without allocations: the oldest due first
    auto = sales.record_payment(ctx, shop.local.id, "1500.00", "cash")
    assert [(x.invoice_number, x.amount.amount) for x in auto.allocations] == [
        (b.number, D("1260.00")), (c.number, D("240.00"))]


def test_overpayment_is_kept_as_credit_and_used_later(shop):
    ctx = shop.ctx
    inv = _issue(shop, shop.local.id, LineIn("KETTLE", 1))  # 1,180
    before = balances(ctx)
    pay = sales.record_payment(ctx, shop.local.id, "2000.00", "cash")
    assert (pay.allocated.amount, pay.kept_as_credit.amount) == (D("1180.00"), D("820.00"))
    assert moved(before, balances(ctx)) == {"1100": D("2000.00"), "1300": D("-1180.00"),
                                            "2400": D("-820.00")}
    assert customers.customer_balance(ctx, shop.local.id).credit.amount == D("820.00")
    assert sales.get_invoice(ctx, inv.id).status == "paid"
    nxt = _issue(shop, shop.local.id, LineIn("KETTLE", 1))
    used = sales.apply_credit(ctx, shop.local.id, nxt.number)
    assert (used.amount.amount, used.credit_left.amount) == (D("820.00"), D("0.00"))
    assert used.invoice_status == "partially_paid"
    assert sales.get_invoice(ctx, nxt.id).balance.amount == D("360.00")
    with pytest.raises(ValidationError, match="no credit"):
        sales.apply_credit(ctx, shop.local.id, nxt.number)


@pytest.mark.parametrize("method, reference, account", [
    ("cash", None, "1100"), ("card", "VISA 4242", "1200"), ("bank_transfer", "NEFT 1", "1200"),
    ("UPI", "upi-88", "1200"), ("cheque", "CHQ 004512 SBI", "1200")])
def test_every_method_reaches_the_right_account(shop, method, reference, account):
    ctx = shop.ctx
    _issue(shop, shop.local.id, LineIn("KETTLE", 1))
    before = balances(ctx)
    pay = sales.record_payment(ctx, shop.local.id, "1180.00", method, reference=reference)
    assert pay.method == method.lower()
    assert moved(before, balances(ctx)) == {account: D("1180.00"), "1300": D("-1180.00")}


def test_payment_refusals(shop):
    ctx = shop.ctx
    inv = _issue(shop, shop.local.id, LineIn("KETTLE", 1))
    other = _issue(shop, shop.remote.id, LineIn("KETTLE", 1))
    draft = sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)])
    cases = [
        (dict(amount="0", method="cash"), "more than zero"),
        (dict(amount="10", method="bitcoin"), "cash, card, bank transfer, UPI or cheque"),
        (dict(amount="10", method="cheque"), "cheque number"),
        (dict(amount="10.001", method="cash"), "decimal places"),
        (dict(amount="2000", method="cash", allocations=[Allocation(inv.number, "1500")]),
         "only ₹1,180.00 left to pay"),
        (dict(amount="100", method="cash", allocations=[Allocation(inv.number, "150")]),
         "more than the payment"),
        (dict(amount="100", method="cash", allocations=[Allocation(other.number, "50")]),
         "another customer"),
        (dict(amount="100", method="cash", allocations=[Allocation(draft.id, "50")]),
         "not issued yet"),
        (dict(amount="100", method="cash", allocations=[Allocation(inv.number, "50"),
                                                        Allocation(inv.number, "50")]),
         "listed twice"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValidationError, match=message):
            sales.record_payment(ctx, shop.local.id, **kwargs)
    assert sales.get_invoice(ctx, inv.id).paid.amount == 0
    assert sales.record_payment(ctx, shop.local.id, "1", "cash").number == \
        "RCPT/2026-27/A/000001"  # the refusals used no receipt number
