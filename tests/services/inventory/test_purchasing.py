"""Purchasing: vendors, the purchase order state machine, receiving, bills, debit notes,
payments, and what each of them does to stock and to the books."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import Conflict, PermissionDenied, ValidationError
from erp_desktop.models.ledger import JournalEntry, JournalLine
from erp_desktop.services import inventory, purchasing
from erp_desktop.services.purchasing import (
    BillLineInput,
    DebitNoteLineInput,
    OrderLineInput,
    VendorInput,
)
from tests.services.inventory.conftest import account_balance, stock_value

D = Decimal


@pytest.fixture
def vendor(shop):
    return purchasing.create_vendor(shop, VendorInput(
        "Bharat Fasteners Pvt Ltd", contact_person="Imran Shaikh",
        email="sales@bharatfasteners.example", phone="+91 80 4123 9876",
        address="14 Industrial Estate, Peenya", city="Bengaluru", state="Karnataka",
        state_code="29", country="IN", tax_id="29AABCB1234K1Z3", payment_terms_days=30,
        bank_name="Canara Bank", bank_account="0412201001234", bank_code="CNRB0000412"))


@pytest.fixture
def order(shop, vendor):
    """Placed: 100 bolts at 5.00 (18 % tax) and 50 kg rice at 48.00 (5 %), into MAIN."""
    po = purchasing.create_purchase_order(
        shop, vendor.id, [OrderLineInput("HB-M8", 100, "5.00", 18),
                          OrderLineInput("RICE-SN", 50, "48.00", 5)], warehouse="MAIN")
    return purchasing.place_order(shop, po.id)


# --------------------------------------------------------------------------- vendors


def test_vendor_details_and_refusals(shop, vendor):
    v = purchasing.get_vendor(shop, "bharat fasteners pvt ltd")
    assert v.tax_id == "29AABCB1234K1Z3" and v.bank_code == "CNRB0000412"
    for bad, field in ((VendorInput(""), "name"),
                       (VendorInput("X", email="not-an-email"), "email"),
                       (VendorInput("X", payment_terms_days=400), "payment_terms_days"),
                       (VendorInput("X", country="India"), "country"),
                       (VendorInput("BHARAT FASTENERS PVT LTD"), "name")):
        with pytest.raises(ValidationError) as e:
            purchasing.create_vendor(shop, bad)
        assert e.value.field == field
    changed = purchasing.update_vendor(shop, v.id, version=v.version, payment_terms_days=45)
    assert changed.payment_terms_days == 45
    with pytest.raises(Conflict):
        purchasing.update_vendor(shop, v.id, version=v.version, phone="1")
    assert [r.name for r in purchasing.list_vendors(shop, "bha").rows] == [v.name]
    assert purchasing.list_vendors(shop, "zzz").rows == []


# --------------------------------------------------------------------------- orders


def test_order_totals_and_its_history_of_states(shop, order):
    # 100 x 5.00 = 500.00 + 90.00 tax; 50 x 48.00 = 2400.00 + 120.00 tax
    assert order.subtotal.amount == D("2900.00") and order.tax.amount == D("210.00")
    assert order.total.amount == D("3110.00")
    assert order.number == "PO/2026-27/A/000001" and order.status == "ordered"
    assert [(e.from_status, e.to_status, e.by) for e in order.events] == [
        (None, "draft", "owner"), ("draft", "ordered", "owner")]


@pytest.mark.parametrize("steps, action, words", [
    ([], "receive", "is a draft; goods cannot be received on it. Place the order first."),
    (["place", "cancel"], "place", "is cancelled; it cannot become ordered"),
    (["place", "cancel"], "receive", "is cancelled; goods cannot be received"),
    (["place", "receive_all"], "cancel", "is fully received; it cannot become cancelled"),
    (["place", "receive_some"], "cancel", "is partly received; it cannot become cancelled"),
    (["place"], "place", None),  # placing twice is not a change of state
    (["place"], "edit", "only a draft can be changed"),
])
def test_purchase_order_state_machine_refuses_illegal_moves(shop, vendor, steps, action,
                                                            words):
    po = purchasing.create_purchase_order(shop, vendor.id,
                                          [OrderLineInput("HB-M8", 10, "5.00")],
                                          warehouse="MAIN")
    acts = {
        "place": lambda: purchasing.place_order(shop, po.id),
        "cancel": lambda: purchasing.cancel_purchase_order(shop, po.id, "No longer needed"),
        "receive": lambda: purchasing.receive_purchase_order(shop, po.id),
        "receive_all": lambda: purchasing.receive_purchase_order(shop, po.id),
        "receive_some": lambda: purchasing.receive_purchase_order(shop, po.id,
                                                                  quantities={"HB-M8": 4}),
        "edit": lambda: purchasing.update_purchase_order(
            shop, po.id, version=purchasing.get_purchase_order(shop, po.id).version,
            notes="more"),
    }
    for step in steps:
        acts[step]()
    before = purchasing.get_purchase_order(shop, po.id)
    if words is None:
        assert acts[action]().status == before.status
        return
    with pytest.raises(ValidationError) as e:
        acts[action]()
    assert words in e.value.message
    after = purchasing.get_purchase_order(shop, po.id)
    assert (after.status, after.events) == (before.status, before.events)


def test_state_machine_lives_in_one_table():
    assert purchasing.PO_TRANSITIONS["received"] == frozenset()
    assert purchasing.PO_TRANSITIONS["cancelled"] == frozenset()
    assert "cancelled" not in purchasing.PO_TRANSITIONS["partially_received"]


def test_draft_orders_can_be_edited(shop, vendor):
    po = purchasing.create_purchase_order(shop, vendor.id,
                                          [OrderLineInput("HB-M8", 10)])  # product's cost
    assert po.lines[0].unit_cost.amount == D("5.00")
    po = purchasing.update_purchase_order(shop, po.id, version=po.version,
                                          lines=[OrderLineInput("RICE-SN", "12.5", "47.50")])
    assert [(ln.sku, ln.quantity, ln.net.amount) for ln in po.lines] == [
        ("RICE-SN", D("12.5"), D("593.75"))]
    with pytest.raises(ValidationError, match="service"):
        purchasing.update_purchase_order(shop, po.id, version=po.version,
                                         lines=[OrderLineInput("SVC-INST", 1, "1")])
    with pytest.raises(ValidationError, match="at least one product"):
        purchasing.update_purchase_order(shop, po.id, version=po.version, lines=[])
    with pytest.raises(ValidationError, match="tax rate"):
        purchasing.update_purchase_order(shop, po.id, version=po.version,
                                         lines=[OrderLineInput("HB-M8", 1, "1", "18.005")])


# --------------------------------------------------------------------------- receiving


def test_partial_receiving_into_chosen_warehouses(shop, order):
    first = purchasing.receive_purchase_order(shop, order.id, warehouse="BACK",
                                              quantities={"HB-M8": 40}, vendor_ref="DC-118")
    assert first.order_status == "partially_received"
    assert first.number.startswith("GRN/") and first.warehouse_code == "BACK"
    assert [(m.sku, m.quantity, m.unit_cost.amount) for m in first.moves] == [
        ("HB-M8", D(40), D("5.00"))]
    po = purchasing.get_purchase_order(shop, order.id)
    assert {ln.sku: ln.remaining_qty for ln in po.lines} == {"HB-M8": D(60),
                                                             "RICE-SN": D(50)}
    with pytest.raises(ValidationError, match="Only 60 pcs of Hex bolt M8 x 40 remain to be "
                                              "received"):
        purchasing.receive_purchase_order(shop, order.id, quantities={"HB-M8": 61})
    second = purchasing.receive_purchase_order(shop, order.id)  # the rest, into MAIN
    assert second.order_status == "received"
    assert {(m.sku, m.quantity) for m in second.moves} == {("HB-M8", D(60)),
                                                           ("RICE-SN", D(50))}
    stock = {(r.sku, r.warehouse_code): r.quantity for r in inventory.stock_on_hand(shop).rows}
    assert stock == {("HB-M8", "BACK"): D(40), ("HB-M8", "MAIN"): D(60),
                     ("RICE-SN", "MAIN"): D(50)}
    assert [e.to_status for e in purchasing.get_purchase_order(shop, order.id).events] == [
        "draft", "ordered", "partially_received", "received"]
    # receiving posts nothing: the books see the goods with the bill
    assert account_balance(shop, "inventory") == 0


def test_on_order_quantities_reduce_the_low_stock_suggestion(shop, vendor):
    po = purchasing.create_purchase_order(shop, vendor.id, [OrderLineInput("HB-M8", 30)],
                                          warehouse="MAIN")
    [row] = [r for r in inventory.low_stock(shop) if r.sku == "HB-M8"]
    assert (row.on_order, row.suggested_qty) == (D(0), D(200))  # a draft is not on order
    purchasing.place_order(shop, po.id)
    [row] = [r for r in inventory.low_stock(shop) if r.sku == "HB-M8"]
    assert (row.on_order, row.suggested_qty) == (D(30), D(200))  # 50 - 30 = 20 < 200
    purchasing.receive_purchase_order(shop, po.id, quantities={"HB-M8": 10})
    [row] = [r for r in inventory.low_stock(shop) if r.sku == "HB-M8"]
    assert (row.on_hand, row.on_order) == (D(10), D(20))


# --------------------------------------------------------------------------- bills


def test_bill_from_an_order_bills_received_goods_in_one_balanced_entry(shop, order, vendor):
    purchasing.receive_purchase_order(shop, order.id, quantities={"HB-M8": 40})
    draft = purchasing.create_bill_from_order(shop, order.id, vendor_ref="BF/2026/991")
    assert draft.status == "draft" and draft.number is None
    assert [(ln.sku, ln.quantity) for ln in draft.lines] == [("HB-M8", D(40))]
    bill = purchasing.post_bill(shop, draft.id)
    assert bill.number == "BILL/2026-27/A/000001" and bill.payment_status == "open"
    assert (bill.subtotal.amount, bill.tax.amount, bill.total.amount) == (
        D("200.00"), D("36.00"), D("236.00"))
    with shop.db.read() as s:
        entry = s.scalars(select(JournalEntry).where(JournalEntry.number == bill.number)).one()
        lines = s.scalars(select(JournalLine).where(JournalLine.entry_id == entry.id)).all()
    assert sum(ln.debit_minor for ln in lines) == sum(ln.credit_minor for ln in lines) == 23600
    payable = [ln for ln in lines if ln.credit_minor]
    assert [(ln.party_type, ln.party_id) for ln in payable] == [("vendor", vendor.id)]
    assert account_balance(shop, "inventory") == D("200.00") == stock_value(shop)
    assert account_balance(shop, "tax_receivable") == D("36.00")
    assert account_balance(shop, "payables") == D("-236.00")
    with pytest.raises(ValidationError, match="has been billed; receive more goods first"):
        purchasing.create_bill_from_order(shop, order.id)
    po = purchasing.get_purchase_order(shop, order.id)
    assert {ln.sku: ln.billed_qty for ln in po.lines} == {"HB-M8": D(40), "RICE-SN": D(0)}


def test_a_bill_cannot_bill_more_than_was_received(shop, order):
    purchasing.receive_purchase_order(shop, order.id, quantities={"HB-M8": 40})
    draft = purchasing.create_bill_from_order(shop, order.id)
    ol = draft.lines[0].order_line_id
    draft = purchasing.update_bill(shop, draft.id, version=draft.version,
                                   lines=[BillLineInput(order_line_id=ol, quantity=41)])
    with pytest.raises(ValidationError, match="Only 40 pcs of Hex bolt M8 x 40 have been "
                                              "received and not billed yet"):
        purchasing.post_bill(shop, draft.id)
    assert purchasing.get_bill(shop, draft.id).status == "draft"
    assert account_balance(shop, "payables") == 0


def test_a_billed_price_differing_from_the_order_goes_to_stock_adjustments(shop, order):
    purchasing.receive_purchase_order(shop, order.id, quantities={"HB-M8": 10})
    draft = purchasing.create_bill_from_order(shop, order.id)
    draft = purchasing.update_bill(shop, draft.id, version=draft.version, lines=[
        BillLineInput(order_line_id=draft.lines[0].order_line_id, quantity=10,
                      unit_cost="5.20", tax_rate=18)])
    purchasing.post_bill(shop, draft.id)
    assert account_balance(shop, "inventory") == D("50.00") == stock_value(shop)
    assert account_balance(shop, "stock_adjustment") == D("2.00")


def test_a_posted_bill_is_immutable(shop, order):
    purchasing.receive_purchase_order(shop, order.id)
    bill = purchasing.post_bill(shop, purchasing.create_bill_from_order(shop, order.id).id)
    with pytest.raises(ValidationError) as e:
        purchasing.update_bill(shop, bill.id, version=bill.version, notes="edited")
    assert e.value.message == (f"Bill {bill.number} is posted and cannot be changed. Correct "
                               "it with a debit note.")
    with pytest.raises(ValidationError, match="posted and cannot be changed"):
        purchasing.post_bill(shop, bill.id)
    with pytest.raises(ValidationError, match="posted and cannot be changed"):
        purchasing.cancel_bill(shop, bill.id)
    assert purchasing.get_bill(shop, bill.id) == bill


def test_standalone_bill_with_stock_service_and_expense_lines(shop, vendor):
    draft = purchasing.create_bill(shop, vendor.id, [
        BillLineInput("CBL-2.5", "25.5", "20.00", 18),  # 510.00 + 91.80, into BACK
        BillLineInput("SVC-INST", 2, "300.00", 18, description="Site survey"),  # expense
        BillLineInput(None, 1, "150.00", 0, description="Courier", account="6500"),
    ], warehouse="BACK", vendor_ref="INV-5521")
    assert draft.due_date.toordinal() - draft.bill_date.toordinal() == 30
    bill = purchasing.post_bill(shop, draft.id)
    assert bill.total.amount == D("510.00") + D("91.80") + D("600.00") + D("108.00") + D(
        "150.00")
    assert inventory.get_stock(shop, "CBL-2.5").warehouses[0].warehouse_code == "BACK"
    assert stock_value(shop) == D("510.00") == account_balance(shop, "inventory")
    assert account_balance(shop, "purchases_expense") == D("600.00")
    assert account_balance(shop, "tax_receivable") == D("199.80")
    assert account_balance(shop, "payables") == -bill.total.amount


@pytest.mark.parametrize("line, words", [
    (BillLineInput(None, 1, "10"), "describe the expense"),
    (BillLineInput(None, 1, "10", description="x", account="4100"), "cannot take a purchase"),
    (BillLineInput(None, 1, "10", description="x", account="9999"), "no account 9999"),
    (BillLineInput("HB-M8", 1, "10", account="6500"), "leave the account empty"),
    (BillLineInput("HB-M8", "1.5", "10"), "whole number"),
])
def test_bad_bill_lines_are_refused(shop, vendor, line, words):
    with pytest.raises(ValidationError, match=words):
        purchasing.create_bill(shop, vendor.id, [line], warehouse="MAIN")
    assert purchasing.list_bills(shop).rows == []


def test_a_standalone_stock_bill_needs_a_warehouse(shop, vendor):
    draft = purchasing.create_bill(shop, vendor.id, [BillLineInput("HB-M8", 5, "5")])
    with pytest.raises(ValidationError, match="Choose the warehouse"):
        purchasing.post_bill(shop, draft.id)
    assert stock_value(shop) == 0


# --------------------------------------------------------------------------- debit notes


def test_debit_note_returns_goods_and_reverses_the_ledger(shop, order):
    purchasing.receive_purchase_order(shop, order.id, quantities={"HB-M8": 40})
    bill = purchasing.post_bill(shop, purchasing.create_bill_from_order(shop, order.id).id)
    with pytest.raises(ValidationError, match="reason"):
        purchasing.create_debit_note(shop, bill.id, [DebitNoteLineInput(bill.lines[0].id, 4)],
                                     " ")
    with pytest.raises(ValidationError, match="Only 40 pcs of Hex bolt M8 x 40 are left"):
        purchasing.create_debit_note(shop, bill.id, [DebitNoteLineInput(bill.lines[0].id, 41)],
                                     "Too many")
    note = purchasing.create_debit_note(shop, bill.id,
                                        [DebitNoteLineInput(bill.lines[0].id, 4)],
                                        "Four bolts rusty")
    assert note.number == "DN/2026-27/A/000001"
    assert (note.subtotal.amount, note.tax.amount, note.total.amount) == (
        D("20.00"), D("3.60"), D("23.60"))
    assert [(m.kind, m.quantity, m.value.amount) for m in note.moves] == [
        ("vendor_return", D(-4), D("-20.00"))]
    assert inventory.get_stock(shop, "HB-M8").quantity == D(36)
    assert account_balance(shop, "inventory") == D("180.00") == stock_value(shop)
    assert account_balance(shop, "tax_receivable") == D("32.40")
    assert account_balance(shop, "payables") == D("-212.40")
    after = purchasing.get_bill(shop, bill.id)
    assert after.balance_due.amount == D("212.40") and after.debited.amount == D("23.60")
    assert after.lines[0].returned_qty == D(4)
    # the rest of the line: exactly what is left, with no rounding left behind
    purchasing.create_debit_note(shop, bill.id, [DebitNoteLineInput(bill.lines[0].id, 36)],
                                 "Whole lot rejected")
    assert purchasing.get_bill(shop, bill.id).balance_due.amount == D(0)
    assert account_balance(shop, "payables") == account_balance(shop, "inventory") == 0


def test_returning_goods_bought_at_another_average_books_the_difference(shop, order):
    inventory.receive_stock(shop, "MAIN", [inventory.ReceiptLine("HB-M8", 60, "6.00")])
    purchasing.receive_purchase_order(shop, order.id, quantities={"HB-M8": 40})
    bill = purchasing.post_bill(shop, purchasing.create_bill_from_order(shop, order.id).id)
    # 60 @ 6.00 + 40 @ 5.00 = 560.00 for 100: average 5.60; return 10 billed at 5.00
    note = purchasing.create_debit_note(shop, bill.id,
                                        [DebitNoteLineInput(bill.lines[0].id, 10)], "Wrong size")
    assert note.moves[0].value.amount == D("-56.00")
    assert account_balance(shop, "stock_adjustment") == D("6.00")
    # the books: 360.00 opening + 200.00 billed - 56.00 returned = 504.00, as in stock
    assert account_balance(shop, "inventory") == D("504.00") == stock_value(shop)


def test_a_draft_bill_is_not_corrected_by_a_debit_note(shop, vendor):
    draft = purchasing.create_bill(shop, vendor.id, [BillLineInput("HB-M8", 5, "5")],
                                   warehouse="MAIN")
    with pytest.raises(ValidationError, match="Only a posted bill"):
        purchasing.create_debit_note(shop, draft.id,
                                     [DebitNoteLineInput(draft.lines[0].id, 1)], "x")


# --------------------------------------------------------------------------- payments


def test_partial_then_full_payment_and_the_bill_status(shop, order, vendor):
    purchasing.receive_purchase_order(shop, order.id)
    bill = purchasing.post_bill(shop, purchasing.create_bill_from_order(shop, order.id).id)
    assert bill.total.amount == D("3110.00")
    pay = purchasing.pay_bill(shop, bill.id, "1000.00", method="cash", reference="Voucher 12")
    assert pay.number == "VP/2026-27/A/000001"
    assert purchasing.get_bill(shop, bill.id).payment_status == "partially_paid"
    assert account_balance(shop, "cash") == D("-1000.00")
    with pytest.raises(ValidationError, match=r"has only ₹2,110\.00 left to pay"):
        purchasing.pay_bill(shop, bill.id, "2110.01")
    purchasing.pay_bill(shop, bill.id)  # the rest, from the bank
    done = purchasing.get_bill(shop, bill.id)
    assert done.payment_status == "paid" and done.balance_due.amount == D(0)
    assert account_balance(shop, "bank") == D("-2110.00")
    assert account_balance(shop, "payables") == 0
    assert purchasing.vendor_balance(shop, vendor.id).amount == 0
    with pytest.raises(ValidationError, match="already paid"):
        purchasing.pay_bill(shop, bill.id, "1")


def test_one_payment_settles_several_bills(shop, vendor):
    bills = []
    for cost in ("100.00", "250.00"):
        draft = purchasing.create_bill(shop, vendor.id, [BillLineInput(
            None, 1, cost, description="Maintenance", account="6500")])
        bills.append(purchasing.post_bill(shop, draft.id))
    assert purchasing.vendor_balance(shop, vendor.id).amount == D("350.00")
    pay = purchasing.pay_bills(shop, vendor.id, {bills[0].id: "100", bills[1].id: "50"})
    assert pay.amount.amount == D("150.00") and len(pay.allocations) == 2
    assert [purchasing.get_bill(shop, b.id).payment_status for b in bills] == [
        "paid", "partially_paid"]
    assert [r.number for r in purchasing.list_bills(shop, unpaid_only=True).rows] == [
        bills[1].number]


@pytest.mark.parametrize("amount, method, words", [
    ("0", "bank", "greater than zero"),
    ("-5", "bank", "greater than zero"),
    ("1.001", "bank", "decimal places"),
    ("10", "cheque", "bank or the cash box"),
])
def test_bad_payments_are_refused(shop, vendor, amount, method, words):
    draft = purchasing.create_bill(shop, vendor.id, [BillLineInput(
        None, 1, "100.00", description="Repairs", account="6500")])
    bill = purchasing.post_bill(shop, draft.id)
    with pytest.raises(ValidationError, match=words):
        purchasing.pay_bill(shop, bill.id, amount, method=method)
    assert purchasing.get_bill(shop, bill.id).paid.amount == 0


def test_paying_a_draft_or_another_vendors_bill_is_refused(shop, vendor):
    other = purchasing.create_vendor(shop, VendorInput("Deccan Grains"))
    draft = purchasing.create_bill(shop, vendor.id, [BillLineInput(
        None, 1, "100.00", description="Repairs", account="6500")])
    with pytest.raises(ValidationError, match="post the bill first"):
        purchasing.pay_bill(shop, draft.id, "10")
    bill = purchasing.post_bill(shop, draft.id)
    with pytest.raises(ValidationError, match="is not from Deccan Grains"):
        purchasing.pay_bills(shop, other.id, {bill.id: "10"})


# --------------------------------------------------------------------------- permissions


def test_each_role_does_only_its_part_of_purchasing(shop, order, login_as):
    keeper = login_as("storekeeper")
    accountant = login_as("accountant")
    clerk = login_as("sales_clerk")
    purchasing.receive_purchase_order(keeper, order.id, quantities={"HB-M8": 10})
    with pytest.raises(PermissionDenied):
        purchasing.create_bill_from_order(keeper, order.id)
    with pytest.raises(PermissionDenied):
        purchasing.receive_purchase_order(accountant, order.id)
    bill = purchasing.post_bill(accountant,
                                purchasing.create_bill_from_order(accountant, order.id).id)
    with pytest.raises(PermissionDenied):
        purchasing.pay_bill(keeper, bill.id)
    purchasing.pay_bill(accountant, bill.id)
    for action in (lambda: purchasing.create_vendor(clerk, VendorInput("Sneaky Supplies")),
                   lambda: purchasing.get_purchase_order(clerk, order.id),
                   lambda: purchasing.cancel_purchase_order(clerk, order.id)):
        with pytest.raises(PermissionDenied):
            action()
