"""The Inventory area's paged lists: count, paging (both ends), sort, filters, search."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.services import catalogue, inventory
from erp_desktop.services.inventory import IssueLine, ReceiptLine
from erp_desktop.services.inventory_lists import (
    PRODUCTS,
    STOCK_CARD,
    STOCK_MOVES,
    STOCK_ON_HAND,
    STOCK_TAKES,
    WAREHOUSES,
)
from erp_desktop.services.listing import Filters, ListQuery, Sort

D = Decimal


def every_row(query, ctx, filters=Filters(), sort=None, page=3):
    """All rows, read a page at a time from the front."""
    sort = sort or query.default_sort
    out, start = [], 0
    while True:
        rows = query.fetch(ctx, filters, sort, start, page)
        out += rows
        if len(rows) < page:
            return out
        start += page


def more_products(ctx, n: int) -> None:
    for i in range(n):
        catalogue.create_product(ctx, catalogue.ProductInput(
            sku=f"NUT-{i:02d}", name=f"Wing nut {i:02d}", unit="pcs", category="Fasteners",
            sale_price="3.00", reorder_level=10 if i % 2 else 0, active=i != 3))


def skus(rows) -> list[str]:
    return [r.sku for r in rows]


# --------------------------------------------------------------------------- products


def test_products_count_sort_and_page_from_either_end(shop):
    assert isinstance(PRODUCTS, ListQuery)
    more_products(shop, 12)
    assert PRODUCTS.count(shop, Filters()) == 16
    by_name = every_row(PRODUCTS, shop)
    names = [r.name for r in by_name]
    assert names == sorted(names, key=str.casefold) and len(names) == 16
    assert names[0] == "Copper cable 2.5 sq mm"
    # A page past the middle is read backwards from the end: the same rows.
    tail = PRODUCTS.fetch(shop, Filters(), PRODUCTS.default_sort, 13, 3, total=16)
    assert [r.name for r in tail] == names[13:16]
    by_sku = every_row(PRODUCTS, shop, sort=Sort("sku", descending=True), page=5)
    assert skus(by_sku) == sorted(skus(by_sku), key=str.casefold, reverse=True)
    barcode_first = PRODUCTS.fetch(shop, Filters(), Sort("barcode", descending=True), 0, 1)
    assert barcode_first[0].barcode == "4006381333931"


def test_product_rows_carry_price_unit_category_and_stock(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 30, "5.00")])
    inventory.receive_stock(shop, "BACK", [ReceiptLine("HB-M8", 12, "5.00")])
    row = PRODUCTS.fetch(shop, Filters.of("HB-M8"), PRODUCTS.default_sort, 0, 10)[0]
    assert (row.sku, row.unit, row.category) == ("HB-M8", "pcs", "Fasteners")
    assert row.sale_price.amount == D("12.50") and row.sale_price.currency == "INR"
    assert row.on_hand == D(42) and row.reorder_level == D(50) and row.low
    service = PRODUCTS.fetch(shop, Filters.of("installation"), PRODUCTS.default_sort, 0, 10)[0]
    assert service.is_service and service.on_hand is None and not service.low


@pytest.mark.parametrize(("typed", "expected"), [
    ("bol m8", ["HB-M8"]),  # the beginnings of name words, in any order
    ("m8 HEX", ["HB-M8"]),
    ("4006381333931", ["HB-M8"]),  # a scanned barcode
    ("hb-m8", ["HB-M8"]),  # a SKU
    ("rice", ["RICE-SN"]),
    ("2.5", ["CBL-2.5"]),
    ("cable rice", []),  # every word must match
    ("\"unclosed OR", []),  # typed quotes and operators are plain text
])
def test_products_search_by_sku_barcode_and_name_words(shop, typed, expected):
    filters = Filters.of(typed)
    assert skus(PRODUCTS.fetch(shop, filters, PRODUCTS.default_sort, 0, 50)) == expected
    assert PRODUCTS.count(shop, filters) == len(expected)


def test_a_renamed_product_is_found_by_its_new_name(shop):
    row = catalogue.get_product(shop, "RICE-SN")
    catalogue.update_product(shop, row.id, version=row.version, name="Basmati rice premium")
    assert skus(PRODUCTS.fetch(shop, Filters.of("basm"), PRODUCTS.default_sort, 0, 5)) == \
        ["RICE-SN"]
    assert PRODUCTS.count(shop, Filters.of("sona")) == 0


def test_products_filter_active_low_stock_and_category(shop):
    more_products(shop, 6)  # NUT-03 inactive; odd ones have a reorder level of 10
    assert PRODUCTS.count(shop, Filters.of(active=True)) == 9
    assert skus(every_row(PRODUCTS, shop, Filters.of(active=False))) == ["NUT-03"]
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("NUT-01", 25, "1.00"),
                                           ReceiptLine("HB-M8", 10, "5.00")])
    low = every_row(PRODUCTS, shop, Filters.of(low_stock=True))
    # HB-M8 (10 < 50), rice (0 < 25.5), NUT-03 and NUT-05 (0 < 10); not NUT-01 (25 >= 10)
    assert sorted(skus(low)) == ["HB-M8", "NUT-03", "NUT-05", "RICE-SN"]
    assert all(r.low for r in low)
    assert PRODUCTS.count(shop, Filters.of(low_stock=True, active=True)) == 3
    fasteners = next(c for c in catalogue.list_categories(shop) if c.name == "Fasteners")
    in_cat = Filters.of(category_id=fasteners.id)
    assert PRODUCTS.count(shop, in_cat) == 7
    assert PRODUCTS.count(shop, Filters.of("wing 05", category_id=fasteners.id)) == 1
    with pytest.raises(ValidationError):
        PRODUCTS.count(shop, Filters.of(category_id="not an id"))


def test_lists_refuse_a_sort_they_cannot_do_by_index(shop):
    with pytest.raises(ValidationError, match="cannot be sorted"):
        PRODUCTS.fetch(shop, Filters(), Sort("on_hand"), 0, 10)
    with pytest.raises(ValidationError):
        PRODUCTS.fetch(shop, Filters(), PRODUCTS.default_sort, 0, 0)


def test_lists_need_the_inventory_view_permission(shop, login_as):
    hr = login_as("hr_manager")
    for query in (PRODUCTS, STOCK_ON_HAND, STOCK_CARD, STOCK_MOVES, WAREHOUSES, STOCK_TAKES):
        with pytest.raises(PermissionDenied):
            query.count(hr, Filters())
    clerk = login_as("sales_clerk")
    assert PRODUCTS.count(clerk, Filters()) == 4


# --------------------------------------------------------------------------- stock on hand


def test_stock_on_hand_per_warehouse_and_over_all(shop):
    wh = {w.code: w.id for w in inventory.list_warehouses(shop)}
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00"),
                                           ReceiptLine("RICE-SN", "20.5", "48.00")])
    inventory.receive_stock(shop, "BACK", [ReceiptLine("HB-M8", 10, "6.00")])
    inventory.issue_stock(shop, "MAIN", [IssueLine("RICE-SN", "20.5")])  # none left in MAIN

    every = every_row(STOCK_ON_HAND, shop)
    assert [(r.sku, r.quantity, r.warehouses) for r in every] == [("HB-M8", D(20), "BACK, MAIN")]
    assert every[0].value.amount == D("110.00") and every[0].average_cost.amount == D("5.50")
    assert every[0].low  # 20 < 50

    main = every_row(STOCK_ON_HAND, shop, Filters.of(warehouse_id=wh["MAIN"]))
    assert [(r.sku, r.quantity, r.warehouses, r.value.amount) for r in main] == [
        ("HB-M8", D(10), "MAIN", D("50.00"))]
    assert STOCK_ON_HAND.count(shop, Filters.of(warehouse_id=wh["BACK"])) == 1
    assert STOCK_ON_HAND.count(shop, Filters.of("rice")) == 0  # sold out everywhere
    assert STOCK_ON_HAND.count(shop, Filters.of("bolt", warehouse_id=wh["BACK"])) == 1


def test_stock_on_hand_pages_in_name_and_sku_order(shop):
    more_products(shop, 7)
    inventory.receive_stock(shop, "MAIN", [ReceiptLine(f"NUT-{i:02d}", i + 1, "1.00")
                                           for i in range(7)])
    assert STOCK_ON_HAND.count(shop, Filters()) == 7
    rows = every_row(STOCK_ON_HAND, shop, sort=Sort("sku", descending=True), page=2)
    assert skus(rows) == [f"NUT-{i:02d}" for i in range(6, -1, -1)]
    assert [r.quantity for r in rows] == [D(i) for i in range(7, 0, -1)]
    tail = STOCK_ON_HAND.fetch(shop, Filters(), Sort("name"), 5, 2, total=7)
    assert skus(tail) == ["NUT-05", "NUT-06"]


# --------------------------------------------------------------------------- stock card


def card_history(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")],
                            move_date=date(2026, 10, 1))
    inventory.receive_stock(shop, "BACK", [ReceiptLine("HB-M8", 4, "6.00")],
                            move_date=date(2026, 10, 3))
    inventory.transfer_stock(shop, "MAIN", "BACK", [IssueLine("HB-M8", 3)],
                             move_date=date(2026, 10, 5))
    inventory.adjust_stock(shop, "MAIN", "HB-M8", -2, "Damaged", move_date=date(2026, 10, 7))
    inventory.issue_stock(shop, "BACK", [IssueLine("HB-M8", 1)])  # today, 2 Nov


def test_the_stock_card_shows_every_move_with_the_running_balance(shop):
    card_history(shop)
    pid = catalogue.get_product(shop, "HB-M8").id
    filters = Filters.of(product_id=pid)
    assert STOCK_CARD.count(shop, filters) == 6
    rows = every_row(STOCK_CARD, shop, filters, page=4)
    assert [(r.move_date.day, r.kind, r.quantity_in, r.quantity_out, r.balance_quantity)
            for r in rows] == [
        (1, "receipt", D(10), None, D(10)),
        (3, "receipt", D(4), None, D(14)),
        (5, "transfer_out", None, D(3), D(11)),
        (5, "transfer_in", D(3), None, D(14)),
        (7, "adjustment", None, D(2), D(12)),
        (2, "issue", None, D(1), D(11)),
    ]
    assert rows[-1].move_date == date(2026, 11, 2)
    assert rows[0].balance_value.amount == D("50.00")
    assert rows[1].balance_value.amount == D("74.00")
    assert rows[4].reason == "Damaged" and rows[4].kind_label == "Adjustment"
    assert rows[0].reference.startswith("SR") and rows[0].by == "owner"
    # The balance of the last move is the stock on hand, value and all.
    stock = inventory.get_stock(shop, "HB-M8")
    assert rows[-1].balance_quantity == stock.quantity
    assert rows[-1].balance_value == stock.value

    # Any page, from either end and in either order, carries the same balances.
    later = STOCK_CARD.fetch(shop, filters, STOCK_CARD.default_sort, 4, 2, total=6)
    assert [r.balance_quantity for r in later] == [D(12), D(11)]
    newest = STOCK_CARD.fetch(shop, filters, Sort("move_date", descending=True), 1, 3)
    assert [r.balance_quantity for r in newest] == [D(12), D(14), D(11)]


def test_the_stock_card_of_one_warehouse(shop):
    card_history(shop)
    pid = catalogue.get_product(shop, "HB-M8").id
    back = next(w.id for w in inventory.list_warehouses(shop) if w.code == "BACK")
    rows = every_row(STOCK_CARD, shop, Filters.of(product_id=pid, warehouse_id=back))
    assert [r.balance_quantity for r in rows] == [D(4), D(7), D(6)]
    assert {r.warehouse_code for r in rows} == {"BACK"}
    assert STOCK_CARD.count(shop, Filters()) == 0  # no product chosen yet: nothing
    assert STOCK_CARD.fetch(shop, Filters(), STOCK_CARD.default_sort, 0, 10) == []


# --------------------------------------------------------------------------- stock moves


def test_stock_moves_newest_first_with_filters_and_search(shop):
    card_history(shop)
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("RICE-SN", "5.5", "48.00")],
                            move_date=date(2026, 10, 2))
    assert STOCK_MOVES.count(shop, Filters()) == 7
    rows = every_row(STOCK_MOVES, shop, page=3)
    assert [r.move_date for r in rows] == sorted((r.move_date for r in rows), reverse=True)
    assert rows[0].kind == "issue" and rows[0].quantity == D(-1)
    assert rows[0].value.amount < 0 and rows[0].unit == "pcs"

    wh = {w.code: w.id for w in inventory.list_warehouses(shop)}
    assert STOCK_MOVES.count(shop, Filters.of(warehouse_id=wh["BACK"])) == 3
    assert STOCK_MOVES.count(shop, Filters.of(kind="transfer")) == 2
    assert STOCK_MOVES.count(shop, Filters.of(kind="receipt")) == 3
    assert STOCK_MOVES.count(shop, Filters.of(date_from=date(2026, 10, 3),
                                              date_to=date(2026, 10, 5))) == 3
    rice = catalogue.get_product(shop, "RICE-SN").id
    assert skus(every_row(STOCK_MOVES, shop, Filters.of(product_id=rice))) == ["RICE-SN"]
    assert STOCK_MOVES.count(shop, Filters.of("sona")) == 1  # product words
    adj = next(r for r in rows if r.kind == "adjustment")
    assert skus(every_row(STOCK_MOVES, shop, Filters.of(adj.reference))) == ["HB-M8"]
    oldest = STOCK_MOVES.fetch(shop, Filters(), STOCK_MOVES.default_sort, 6, 1, total=7)
    assert oldest[0].move_date == date(2026, 10, 1)
    with pytest.raises(ValidationError):
        STOCK_MOVES.count(shop, Filters.of(date_from="yesterday"))


# --------------------------------------------------------------------------- warehouses, takes


def test_warehouses_list_sorts_and_searches(shop):
    inventory.create_warehouse(shop, "ANNEX", "Annexe godown", address="Plot 4\nPeenya")
    rows = every_row(WAREHOUSES, shop)
    assert [r.code for r in rows] == ["ANNEX", "BACK", "MAIN"]
    assert rows[0].address == "Plot 4 Peenya" and rows[0].status == "Active"
    assert rows[0].branch  # the head office, by default
    assert [r.name for r in every_row(WAREHOUSES, shop, sort=Sort("name"))] == [
        "Annexe godown", "Back room", "Main store"]
    assert WAREHOUSES.count(shop, Filters.of("godown")) == 1


def test_stock_takes_list_with_counts_and_status(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00"),
                                           ReceiptLine("RICE-SN", 5, "48.00")])
    first = inventory.start_stock_take(shop, "MAIN", note="Year end")
    inventory.record_counts(shop, first.id, {"HB-M8": 9})
    inventory.post_stock_take(shop, first.id)
    inventory.start_stock_take(shop, "MAIN")
    rows = every_row(STOCK_TAKES, shop)
    assert [(r.status_label, r.lines, r.counted) for r in rows] == [
        ("Counting", 2, 0), ("Posted", 2, 1)]
    assert rows[1].number.startswith("ST") and rows[1].note == "Year end"
    assert STOCK_TAKES.count(shop, Filters.of(status="draft")) == 1
