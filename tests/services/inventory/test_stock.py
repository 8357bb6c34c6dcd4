"""The stock ledger: moves, moving average cost, refusals, the books, and the balance cache."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp_desktop.domain.errors import NotFound, PermissionDenied, ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.inventory import StockBalance, StockMove
from erp_desktop.services import inventory
from erp_desktop.services.inventory import IssueLine, ReceiptLine
from erp_desktop.store.engine import connect_raw
from tests.services.inventory.conftest import account_balance, stock_value

D = Decimal


def moves_count(ctx) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(func.count()).select_from(StockMove))


def on_hand(ctx, sku: str, wh: str) -> Decimal:
    rows = {b.warehouse_code: b.quantity for b in inventory.get_stock(ctx, sku).warehouses}
    return rows.get(wh, D(0))


# --------------------------------------------------------------------------- average cost


def test_moving_average_cost_worked_by_hand(shop):
    # 10 @ 5.00 = 50.00; 20 @ 6.50 = 130.00 -> 30 pcs worth 180.00, average 6.00
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")])
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 20, "6.50")])
    # issue 7 at the average: 180.00 * 7 / 30 = 42.00 -> 23 pcs worth 138.00
    doc = inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 7)])
    assert doc.moves[0].unit_cost.amount == D("6.00")
    assert doc.moves[0].value.amount == D("-42.00")
    # 7 more @ 8.00 = 56.00 -> 30 pcs worth 194.00, average 6.4666... (6.47 shown)
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 7, "8.00")])
    # issue 10: 194.00 * 10 / 30 = 64.666... -> 64.67 (half up); 20 left worth 129.33
    doc = inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 10)])
    assert doc.moves[0].value.amount == D("-64.67")
    stock = inventory.get_stock(shop, "HB-M8")
    assert stock.quantity == D(20) and stock.value.amount == D("129.33")
    assert stock.warehouses[0].average_cost.amount == D("6.47")  # 129.33 / 20 = 6.4665
    # issuing the last 20 takes exactly what is left: no paisa stays behind
    doc = inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 20)])
    assert doc.moves[0].value.amount == D("-129.33")
    assert inventory.get_stock(shop, "HB-M8").value.amount == D("0.00")


def test_receipt_without_a_cost_comes_in_at_the_average(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("RICE-SN", "12.5", "48.00")])
    doc = inventory.receive_stock(shop, "MAIN", [ReceiptLine("RICE-SN", "2.250")])
    assert doc.moves[0].unit_cost.amount == D("48.00")
    assert doc.moves[0].value.amount == D("108.00")


def test_quantities_respect_the_units_decimal_places(shop):
    with pytest.raises(ValidationError, match="whole number"):
        inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", "2.5", "5")])
    with pytest.raises(ValidationError, match="at most 2 decimal places"):
        inventory.receive_stock(shop, "MAIN", [ReceiptLine("CBL-2.5", "1.005", "19")])
    with pytest.raises(ValidationError, match="greater than zero"):
        inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 0, "5")])
    doc = inventory.receive_stock(shop, "MAIN", [ReceiptLine("RICE-SN", "0.125", "48")])
    assert doc.moves[0].value.amount == D("6.00")
    assert moves_count(shop) == 1


def test_services_have_no_stock(shop):
    with pytest.raises(ValidationError, match="is a service") as e:
        inventory.receive_stock(shop, "MAIN", [ReceiptLine("SVC-INST", 1, "100")])
    assert e.value.field == "product"


def test_future_dates_and_unknown_places_are_refused(shop, clock):
    with pytest.raises(ValidationError, match="future"):
        inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 1, "5")],
                                move_date=clock.now.date() + timedelta(days=1))
    with pytest.raises(NotFound, match="no warehouse 'ATTIC'"):
        inventory.receive_stock(shop, "ATTIC", [ReceiptLine("HB-M8", 1, "5")])
    with pytest.raises(NotFound, match="no product"):
        inventory.receive_stock(shop, "MAIN", [ReceiptLine("NOPE", 1, "5")])
    assert moves_count(shop) == 0


# --------------------------------------------------------------------------- negative stock


def test_negative_stock_is_refused_with_product_warehouse_and_quantities(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 3, "5.00")])
    with pytest.raises(ValidationError) as e:
        inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 5)])
    assert e.value.message == ("Not enough stock of Hex bolt M8 x 40 in Main store: 3 pcs "
                               "available, 5 pcs requested.")
    assert e.value.field == "quantity"
    assert on_hand(shop, "HB-M8", "MAIN") == D(3)
    with pytest.raises(ValidationError, match=r"0\.000 kg available, 1\.250 kg requested"):
        inventory.issue_stock(shop, "BACK", [IssueLine("RICE-SN", "1.25")])


def test_the_company_may_allow_negative_stock(shop):
    assert inventory.allow_negative_stock(shop) is False
    inventory.set_allow_negative_stock(shop, True)
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 3, "5.00")])
    doc = inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 5)])
    # 3 on hand worth 15.00 plus 2 more at the last cost 5.00
    assert doc.moves[0].value.amount == D("-25.00")
    assert on_hand(shop, "HB-M8", "MAIN") == D(-2)
    assert inventory.verify_stock(shop).ok
    inventory.set_allow_negative_stock(shop, False)
    with pytest.raises(ValidationError, match="-2 pcs available"):
        inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 1)])


# --------------------------------------------------------------------------- transfers, adjustments


def test_transfer_moves_quantity_and_value_in_one_document(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 30, "6.00"),
                                           ReceiptLine("RICE-SN", 10, "48.00")])
    doc = inventory.transfer_stock(shop, "MAIN", "BACK", [IssueLine("HB-M8", 12),
                                                          IssueLine("RICE-SN", "2.5")])
    assert doc.number.startswith("TRF/")
    assert [m.kind for m in doc.moves] == ["transfer_out", "transfer_in"] * 2
    assert doc.value.amount == D(0)  # what left one warehouse arrived in the other
    assert on_hand(shop, "HB-M8", "MAIN") == D(18) and on_hand(shop, "HB-M8", "BACK") == D(12)
    assert inventory.get_stock(shop, "HB-M8").value.amount == D("180.00")
    assert doc.journal_entry_id is None  # same inventory account: nothing to post


def test_a_transfer_that_fails_on_any_line_writes_nothing(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 30, "6.00"),
                                           ReceiptLine("RICE-SN", 2, "48.00")])
    before = moves_count(shop)
    with pytest.raises(ValidationError, match="Not enough stock of Sona Masoori rice"):
        inventory.transfer_stock(shop, "MAIN", "BACK", [IssueLine("HB-M8", 12),
                                                        IssueLine("RICE-SN", 5)])
    assert moves_count(shop) == before
    assert on_hand(shop, "HB-M8", "MAIN") == D(30) and on_hand(shop, "HB-M8", "BACK") == D(0)
    with pytest.raises(ValidationError, match="two different warehouses"):
        inventory.transfer_stock(shop, "MAIN", "main", [IssueLine("HB-M8", 1)])


def test_adjustments_need_a_reason_and_post_the_difference(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "6.00")])
    for reason in ("", "   "):
        with pytest.raises(ValidationError, match="reason") as e:
            inventory.adjust_stock(shop, "MAIN", "HB-M8", -2, reason)
        assert e.value.field == "reason"
    with pytest.raises(ValidationError, match="other than zero"):
        inventory.adjust_stock(shop, "MAIN", "HB-M8", 0, "nothing")
    doc = inventory.adjust_stock(shop, "MAIN", "HB-M8", -2, "Two bent in the rack")
    assert doc.number.startswith("ADJ/") and doc.value.amount == D("-12.00")
    assert account_balance(shop, "stock_adjustment") == D("12.00")  # a loss (debit)
    doc = inventory.adjust_stock(shop, "MAIN", "HB-M8", 1, "Found behind the counter")
    assert doc.value.amount == D("6.00")
    assert account_balance(shop, "stock_adjustment") == D("6.00")
    assert on_hand(shop, "HB-M8", "MAIN") == D(9)


# --------------------------------------------------------------------------- the books


def test_stock_postings_keep_the_inventory_account_equal_to_the_valuation(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 100, "5.00")])
    assert account_balance(shop, "inventory") == D("500.00")
    assert account_balance(shop, "opening_balance") == D("-500.00")  # a credit
    inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 40)], reason="Own workshop")
    assert account_balance(shop, "cogs") == D("200.00")
    inventory.transfer_stock(shop, "MAIN", "BACK", [IssueLine("HB-M8", 10)])
    inventory.adjust_stock(shop, "BACK", "HB-M8", -1, "Lost")
    assert account_balance(shop, "inventory") == stock_value(shop) == D("295.00")
    # every entry balances: the inventory postings net out against their counter-accounts
    total = sum(account_balance(shop, k) for k in
                ("inventory", "opening_balance", "cogs", "stock_adjustment"))
    assert total == 0


def test_stock_documents_are_numbered_and_audited(shop):
    a = inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 1, "5")])
    b = inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 1, "5")])
    assert (a.number, b.number) == ("SR/2026-27/A/000001", "SR/2026-27/A/000002")
    assert a.journal_entry_number == a.number
    with shop.db.read() as s:
        actions = s.scalars(select(AuditEvent.action)).all()
    assert actions.count("inventory.stock_received") == 2


# --------------------------------------------------------------------------- stock-take


def test_stock_take_posts_counted_differences_as_adjustments(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 20, "6.00"),
                                           ReceiptLine("RICE-SN", 10, "48.00")])
    sheet = inventory.start_stock_take(shop, "MAIN")
    assert {(ln.sku, ln.expected_qty) for ln in sheet.lines} == {("HB-M8", D(20)),
                                                                 ("RICE-SN", D(10))}
    # a sale happens while counting: the difference is taken against stock when posting
    inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 2)])
    sheet = inventory.record_counts(shop, sheet.id, {"HB-M8": 17, "RICE-SN": "10.000",
                                                     "CBL-2.5": "4.5"})
    with pytest.raises(ValidationError, match="service"):
        inventory.record_counts(shop, sheet.id, {"SVC-INST": 1})
    with pytest.raises(ValidationError, match="cannot be negative"):
        inventory.record_counts(shop, sheet.id, {"HB-M8": -1})
    posted = inventory.post_stock_take(shop, sheet.id)
    assert posted.status == "posted" and posted.number.startswith("ST/")
    diffs = {ln.sku: ln.difference_qty for ln in posted.lines}
    assert diffs == {"HB-M8": D(-1), "RICE-SN": D(0), "CBL-2.5": D("4.5")}
    assert on_hand(shop, "HB-M8", "MAIN") == D(17)
    assert on_hand(shop, "CBL-2.5", "MAIN") == D("4.5")  # found goods, at the last cost 19.40
    # -1 bolt at 6.00 and +4.5 m cable at 19.40 (87.30): net gain 81.30
    assert account_balance(shop, "stock_adjustment") == D("-81.30")
    with pytest.raises(ValidationError, match="already posted"):
        inventory.post_stock_take(shop, sheet.id)
    with pytest.raises(ValidationError, match="no longer change"):
        inventory.record_counts(shop, sheet.id, {"HB-M8": 1})


def test_a_stock_take_without_counts_cannot_be_posted(shop):
    sheet = inventory.start_stock_take(shop, "BACK", products=["HB-M8"])
    with pytest.raises(ValidationError, match="at least one counted"):
        inventory.post_stock_take(shop, sheet.id)
    assert inventory.cancel_stock_take(shop, sheet.id).status == "cancelled"


# --------------------------------------------------------------------------- the cache


def test_verify_stock_catches_a_corrupted_balance_and_repairs_it(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")])
    inventory.receive_stock(shop, "BACK", [ReceiptLine("RICE-SN", 3, "48.00")])
    assert inventory.verify_stock(shop).ok
    # Someone edits the file behind the app's back.
    con = connect_raw(shop.path, shop.vault.db_key)
    try:
        con.execute("UPDATE stock_balance SET quantity = quantity + 5000, "
                    "value_minor = value_minor + 1 WHERE quantity = 10000")
    finally:
        con.close()
    check = inventory.verify_stock(shop)
    assert not check.ok and check.balances_checked == 2
    [d] = check.differences
    assert (d.sku, d.warehouse_code) == ("HB-M8", "MAIN")
    assert (d.cached_quantity, d.moves_quantity) == (D(15), D(10))
    assert (d.cached_value.amount, d.moves_value.amount) == (D("50.01"), D("50.00"))
    fixed = inventory.verify_stock(shop, repair=True)
    assert fixed.repaired and inventory.verify_stock(shop).ok
    assert on_hand(shop, "HB-M8", "MAIN") == D(10)


def test_a_missing_balance_row_is_caught_too(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")])
    with shop.db.write() as s:
        s.execute(StockBalance.__table__.delete())
    check = inventory.verify_stock(shop)
    assert [(d.cached_quantity, d.moves_quantity) for d in check.differences] == [(D(0), D(10))]


def test_stock_moves_are_append_only(shop):
    from erp_desktop.models.changes import ImmutableRecordError

    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")])
    with pytest.raises(ImmutableRecordError), shop.db.write() as s:
        s.scalars(select(StockMove)).one().quantity = D(11)
    with pytest.raises(ImmutableRecordError), shop.db.write() as s:
        s.delete(s.scalars(select(StockMove)).one())


# --------------------------------------------------------------------------- reports


def test_valuation_at_a_past_date_comes_from_the_moves(shop, clock):
    today = clock.now.date()
    week_ago, yesterday = today - timedelta(days=7), today - timedelta(days=1)
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")],
                            move_date=week_ago)
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "7.00")],
                            move_date=yesterday)
    inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 5)])  # today, at 6.00
    then = inventory.valuation(shop, week_ago)
    assert [(r.sku, r.quantity, r.value.amount) for r in then.rows] == [
        ("HB-M8", D(10), D("50.00"))]
    assert inventory.valuation(shop, yesterday).total_value.amount == D("120.00")
    now = inventory.valuation(shop, today)
    assert now.total_value.amount == D("90.00") and now.rows[0].average_cost.amount == D("6.00")
    assert inventory.valuation(shop, week_ago - timedelta(days=1)).rows == []
    assert inventory.valuation(shop, today, "BACK").rows == []


def test_stock_card_shows_every_move_with_a_running_balance_page_by_page(shop, clock):
    today = clock.now.date()
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")],
                            move_date=today - timedelta(days=3))
    for _ in range(4):
        inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 1)])
    inventory.transfer_stock(shop, "MAIN", "BACK", [IssueLine("HB-M8", 2)])
    first = inventory.stock_card(shop, "HB-M8", limit=3)
    assert [r.kind for r in first.rows] == ["receipt", "issue", "issue"]
    assert [r.balance_quantity for r in first.rows] == [D(10), D(9), D(8)]
    assert first.rows[0].by == "owner" and first.rows[0].reference.startswith("SR/")
    second = inventory.stock_card(shop, "HB-M8", after=first.next_cursor, limit=3)
    assert [r.balance_quantity for r in second.rows] == [D(7), D(6), D(4)]
    third = inventory.stock_card(shop, "HB-M8", after=second.next_cursor, limit=3)
    assert [(r.kind, r.balance_quantity) for r in third.rows] == [("transfer_in", D(6))]
    assert third.next_cursor is None
    back = inventory.stock_card(shop, "HB-M8", "BACK")
    assert [(r.quantity_in, r.balance_quantity) for r in back.rows] == [(D(2), D(2))]
    recent = inventory.stock_card(shop, "HB-M8", "MAIN", date_from=today)
    assert recent.opening_quantity == D(10) and recent.opening_value.amount == D("50.00")
    assert len(recent.rows) == 5
    csv_text = inventory.stock_card_csv(inventory.iter_stock_card(shop, "HB-M8", page_size=2))
    assert csv_text.count("\n") == 1 + 1 + 7  # header, opening, seven moves


def test_stock_on_hand_and_low_stock_with_suggested_order(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 30, "5.00"),
                                           ReceiptLine("RICE-SN", 40, "48.00")])
    inventory.receive_stock(shop, "BACK", [ReceiptLine("HB-M8", 5, "5.00")])
    page = inventory.stock_on_hand(shop)
    # product name order; within a product, warehouse ids (MAIN was made first)
    assert [(r.sku, r.warehouse_code, r.quantity) for r in page.rows] == [
        ("HB-M8", "MAIN", D(30)), ("HB-M8", "BACK", D(5)), ("RICE-SN", "MAIN", D(40))]
    one = inventory.stock_on_hand(shop, limit=1)
    two = inventory.stock_on_hand(shop, after=one.next_cursor, limit=5)
    assert len(one.rows) + len(two.rows) == 3 and two.next_cursor is None
    assert [r.sku for r in inventory.stock_on_hand(shop, "BACK").rows] == ["HB-M8"]
    # bolts: 35 on hand, level 50, reorder 200 -> order 200; rice: 40 >= 25.5 -> fine
    low = inventory.low_stock(shop)
    assert [(r.sku, r.on_hand, r.suggested_qty) for r in low] == [("HB-M8", D(35), D(200))]
    # in BACK alone the bolts are lower still; rice has none there
    back = {r.sku: r.on_hand for r in inventory.low_stock(shop, "BACK")}
    assert back == {"HB-M8": D(5), "RICE-SN": D(0)}
    csv_text = inventory.rows_csv(low, inventory.LOW_STOCK_COLUMNS)
    assert csv_text.splitlines()[1].startswith("HB-M8,Hex bolt M8 x 40,pcs,35.000,50.000")


def test_a_sales_clerk_cannot_move_stock_and_the_denial_is_audited(shop, login_as):
    clerk = login_as("sales_clerk")
    with pytest.raises(PermissionDenied):
        inventory.receive_stock(clerk, "MAIN", [ReceiptLine("HB-M8", 10, "5")])
    with pytest.raises(PermissionDenied):
        inventory.adjust_stock(clerk, "MAIN", "HB-M8", 5, "free bolts")
    with pytest.raises(PermissionDenied):
        inventory.verify_stock(clerk, repair=True)
    assert inventory.verify_stock(clerk).ok  # reading is allowed
    with shop.db.read() as s:
        denied = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "permission.denied")).all()
    assert len(denied) == 3
    assert moves_count(shop) == 0
    keeper = login_as("storekeeper")
    inventory.receive_stock(keeper, "MAIN", [ReceiptLine("HB-M8", 10, "5")])
    assert on_hand(shop, "HB-M8", "MAIN") == D(10)


def test_warehouses(shop):
    assert [w.code for w in inventory.list_warehouses(shop)] == ["BACK", "MAIN"]
    assert inventory.list_warehouses(shop)[0].branch_code == "HO"
    with pytest.raises(ValidationError, match="already a warehouse"):
        inventory.create_warehouse(shop, "main", "Another main")
    with pytest.raises(ValidationError, match="no branch"):
        inventory.create_warehouse(shop, "W2", "Second", branch="XX")


def test_a_refused_line_is_named_by_the_use_case_itself(shop):
    from erp_desktop.domain.errors import UserError

    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 3, "5.00")])
    with pytest.raises(UserError) as short:
        inventory.transfer_stock(shop, "MAIN", "BACK", [IssueLine("HB-M8", 2),
                                                       IssueLine("HB-M8", 2)])
    assert short.value.line == 1 and short.value.field == "quantity"
    with pytest.raises(UserError) as finer:
        inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 1), IssueLine("HB-M8", "0.5")])
    assert finer.value.line == 1
    with pytest.raises(NotFound) as unknown:
        inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 1), ReceiptLine("NOPE", 1)])
    assert unknown.value.line == 1 and unknown.value.field == "product"
    with pytest.raises(ValidationError) as whole:  # not about a line: no line named
        inventory.transfer_stock(shop, "MAIN", "MAIN", [IssueLine("HB-M8", 1)])
    assert whole.value.line is None
    assert inventory.get_stock(shop, "HB-M8").quantity == Decimal(3)  # nothing moved


def test_a_warehouse_is_renamed_closed_and_opened_again(shop):
    from erp_desktop.domain.errors import Conflict
    from erp_desktop.models.audit import AuditEvent

    back = next(w for w in inventory.list_warehouses(shop) if w.code == "BACK")
    renamed = inventory.update_warehouse(shop, "back", name="  Back   room, upstairs ",
                                         address="1st floor")
    assert (renamed.name, renamed.address, renamed.active) == ("Back room, upstairs",
                                                              "1st floor", True)
    inventory.receive_stock(shop, "BACK", [ReceiptLine("HB-M8", 4, "5.00")])
    with pytest.raises(ValidationError) as holding:
        inventory.update_warehouse(shop, back.id, active=False)
    assert holding.value.field == "active" and "holds stock of 1 product" in \
        holding.value.message
    inventory.transfer_stock(shop, "BACK", "MAIN", [IssueLine("HB-M8", 4)])
    closed = inventory.update_warehouse(shop, back.id, active=False)
    assert not closed.active
    assert [w.code for w in inventory.list_warehouses(shop)] == ["MAIN"]
    with pytest.raises(ValidationError, match="closed"):  # nothing moves in or out of it
        inventory.receive_stock(shop, "BACK", [ReceiptLine("HB-M8", 1, "5.00")])
    with pytest.raises(ValidationError, match="only open warehouse"):
        inventory.update_warehouse(shop, "MAIN", active=False)
    assert inventory.update_warehouse(shop, "BACK", active=True).active
    inventory.start_stock_take(shop, "BACK")
    with pytest.raises(ValidationError, match="stock-take of BACK is still open"):
        inventory.update_warehouse(shop, "BACK", active=False)
    # a stale form is told, not obeyed; an empty name is refused
    with shop.db.read() as s:
        from erp_desktop.models.inventory import Warehouse

        version = s.get(Warehouse, back.id).version
    with pytest.raises(Conflict):
        inventory.update_warehouse(shop, back.id, expected_version=version - 1, name="X")
    with pytest.raises(ValidationError) as empty:
        inventory.update_warehouse(shop, back.id, expected_version=version, name="  ")
    assert empty.value.field == "name"
    with shop.db.read() as s:
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "inventory.warehouse_updated")).all()
    assert len(actions) == 3  # renamed, closed, opened again


def test_valuation_taken_forward_or_back_from_the_balances_agrees(shop, clock):
    import random

    from erp_desktop.services.inventory import _valuation_sums

    today = clock.now.date()
    rnd = random.Random(7)
    for day in range(30, 0, -1):  # a month of receipts, issues and transfers
        on = today - timedelta(days=day)
        inventory.receive_stock(shop, rnd.choice(["MAIN", "BACK"]), [
            ReceiptLine(rnd.choice(["HB-M8", "RICE-SN"]), rnd.randint(5, 20),
                        f"{rnd.randint(4, 60)}.{rnd.randint(0, 99):02d}")], move_date=on)
        bolts = {w.warehouse_code: w.quantity
                 for w in inventory.get_stock(shop, "HB-M8").warehouses}
        if day % 3 == 0 and bolts.get("MAIN", 0) >= 1:
            inventory.issue_stock(shop, "MAIN", [IssueLine("HB-M8", 1)], move_date=on)
        rice = {w.warehouse_code: w.quantity
                for w in inventory.get_stock(shop, "RICE-SN").warehouses}
        if day % 7 == 0 and rice.get("BACK", 0) >= 2:
            inventory.transfer_stock(shop, "BACK", "MAIN", [IssueLine("RICE-SN", "1.5")],
                                     move_date=on)

    def rows(on, wid, how):
        with shop.db.read() as s:
            out = {}
            for r in s.execute(_valuation_sums(on, wid, how)):
                q = r.q if isinstance(r.q, D) else inventory.qty_from_int(r.q)
                if q or r.v:
                    out[(r.pid, r.wid)] = (q, int(r.v))
            return out

    main = next(w.id for w in inventory.list_warehouses(shop) if w.code == "MAIN")
    for back in (25, 12, 3, 1):
        on = today - timedelta(days=back)
        for wid in (None, main):
            assert rows(on, wid, "back") == rows(on, wid, "forward"), (back, wid)
    # and through the use case, at a month-end-like date near today (taken back)
    recent = today - timedelta(days=2)
    assert inventory.valuation(shop, recent).total_value.amount == sum(
        (v for _q, v in rows(recent, None, "forward").values()), 0) / D(100)
