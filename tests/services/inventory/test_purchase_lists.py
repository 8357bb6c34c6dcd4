"""The Purchases area's paged lists: vendors, orders, bills and payments, read a page at a
time with their counts, sorts, filters and search, on a real encrypted company file."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.services import purchase_lists as pl
from erp_desktop.services import purchasing
from erp_desktop.services.listing import Filters, ListSource, Sort
from erp_desktop.services.purchasing import BillLineInput, OrderLineInput, VendorInput

D = Decimal


def inr(amount: str) -> Money:
    return Money(D(amount), "INR")


def every_row(source: ListSource, filters: Filters = Filters(), sort: Sort | None = None,
              page: int = 3) -> list:
    """Every row, a small page at a time (past the middle read backwards from the end)."""
    sort = sort or source.default_sort
    total = source.count(filters)
    rows = []
    for start in range(0, total, page):
        rows += source.fetch(filters, sort, start, page, total)
    assert len(rows) == total
    return rows


@pytest.fixture
def vendors(shop):
    names = ["Bharat Fasteners", "Annapurna Rice Mills", "Chennai Cables", "Deccan Tools",
             "Eastern Hardware", "Fine Grains Co", "Gupta Traders"]
    made = {n: purchasing.create_vendor(shop, VendorInput(
        n, contact_person=f"Contact {i}", phone=f"+91 80 4000 00{i:02d}",
        city="Pune" if i % 2 else "Bengaluru", tax_id=f"29AAAAA{i:04d}A1Z5",
        payment_terms_days=15 * (i % 3))) for i, n in enumerate(names)}
    gone = made["Gupta Traders"]
    purchasing.update_vendor(shop, gone.id, version=gone.version, active=False)
    return made


@pytest.fixture
def orders(shop, vendors):
    """Eight orders over eight days: drafts, placed, part and fully received, cancelled."""
    bharat = vendors["Bharat Fasteners"].id
    rice = vendors["Annapurna Rice Mills"].id
    made = []
    for day in range(1, 9):
        vendor = bharat if day % 2 else rice
        po = purchasing.create_purchase_order(
            shop, vendor, [OrderLineInput("HB-M8", 100, "5.00"),
                           OrderLineInput("RICE-SN", 10, "50.00")],
            order_date=date(2026, 10, day), warehouse="MAIN")
        made.append(po)
    placed = [purchasing.place_order(shop, po.id) for po in made[2:7]]
    purchasing.receive_purchase_order(shop, placed[0].id)  # day 3: all in
    # day 4: the bolts (500.00 of 1000.00) in
    purchasing.receive_purchase_order(shop, placed[1].id, quantities={"HB-M8": 100})
    purchasing.receive_purchase_order(shop, placed[2].id, quantities={"RICE-SN": 1})  # 50/1000
    purchasing.cancel_purchase_order(shop, placed[4].id, "Found a cheaper vendor")
    return made


def test_vendors_in_name_order_with_paging_search_and_inactive(shop, vendors):
    source = ListSource(pl.VENDORS, shop)
    assert source.count(Filters()) == 6  # the inactive one is left out
    rows = every_row(source)
    assert [r.name for r in rows][:3] == ["Annapurna Rice Mills", "Bharat Fasteners",
                                          "Chennai Cables"]
    backwards = every_row(source, sort=Sort("name", descending=True))
    assert [r.name for r in backwards] == [r.name for r in reversed(rows)]
    assert source.count(Filters.of(include_inactive=True)) == 7
    (gupta,) = source.fetch(Filters.of("gupta", include_inactive=True), Sort("name"), 0, 10)
    assert (gupta.status, gupta.active) == ("Inactive", False)
    # every word must match, in any of the searched columns, any case
    assert [r.name for r in source.fetch(Filters.of("BENGALURU cables"), Sort("name"), 0, 10)] == [
        "Chennai Cables"]
    assert source.count(Filters.of("29AAAAA0003")) == 1
    assert source.count(Filters.of("nobody-sells-this")) == 0
    first = rows[1]
    assert (first.contact_person, first.payment_terms, first.owed) == (
        "Contact 0", "0 days", None)


def test_what_is_owed_to_each_vendor_shows_on_the_vendor_list(shop, vendors):
    bharat = vendors["Bharat Fasteners"]
    bill = purchasing.create_bill(shop, bharat.id, [BillLineInput(
        description="Courier", quantity=1, unit_cost="1200.00", account="6900")])
    source = ListSource(pl.VENDORS, shop)
    row = next(r for r in every_row(source) if r.id == bharat.id)
    assert row.owed is None  # a draft is owed to nobody
    purchasing.post_bill(shop, bill.id)
    purchasing.pay_bill(shop, bill.id, "200.00")
    row = next(r for r in every_row(source) if r.id == bharat.id)
    assert row.owed == inr("1000.00")


def test_orders_newest_first_with_status_totals_and_received_share(shop, orders):
    source = ListSource(pl.PURCHASE_ORDERS, shop)
    assert source.count(Filters()) == 8
    rows = every_row(source)
    assert [r.order_date.day for r in rows] == [8, 7, 6, 5, 4, 3, 2, 1]
    by_day = {r.order_date.day: r for r in rows}
    assert [by_day[d].status_label for d in range(1, 9)] == [
        "Draft", "Draft", "Received", "Partially received", "Partially received", "Ordered",
        "Cancelled", "Draft"]
    assert [by_day[d].received_pct for d in (1, 3, 4, 5)] == [0, 100, 50, 5]
    assert by_day[1].total == inr("1000.00") and by_day[1].vendor_name == "Bharat Fasteners"
    oldest = source.fetch(Filters(), Sort("order_date"), 0, 2, 8)
    assert [r.order_date.day for r in oldest] == [1, 2]
    numbers = every_row(source, sort=Sort("number"))
    assert [r.number for r in numbers] == sorted(r.number for r in rows)


def test_orders_filtered_by_status_vendor_search_and_what_is_left_to_bill(shop, vendors,
                                                                          orders):
    source = ListSource(pl.PURCHASE_ORDERS, shop)
    assert source.count(Filters.of(status="draft")) == 3
    assert source.count(Filters.of(status="open")) == 3  # ordered or partly received
    assert source.count(Filters.of(status="received")) == 1
    assert source.count(Filters.of(status="cancelled")) == 1
    rice = vendors["Annapurna Rice Mills"].id
    assert source.count(Filters.of(vendor_id=rice)) == 4
    assert source.count(Filters.of("annapurna", status="draft")) == 2
    (po,) = source.fetch(Filters.of(orders[4].number), Sort("order_date"), 0, 10)
    assert po.id == orders[4].id
    assert source.count(Filters.of(to_bill=True)) == 3  # days 3, 4 and 5
    purchasing.post_bill(shop, purchasing.create_bill_from_order(shop, orders[2].id).id)
    assert source.count(Filters.of(to_bill=True)) == 2
    with pytest.raises(ValidationError):
        source.count(Filters.of(status="lost"))


def test_bills_with_totals_paid_balance_and_status_filters(shop, clock, vendors, orders):
    source = ListSource(pl.BILLS, shop)
    draft = purchasing.create_bill_from_order(shop, orders[2].id, vendor_ref="BF/991")
    assert draft.number is None
    part = purchasing.post_bill(shop, purchasing.create_bill_from_order(
        shop, orders[3].id, bill_date=date(2026, 10, 5), due_date=date(2026, 10, 20)).id)
    paid = purchasing.post_bill(shop, purchasing.create_bill_from_order(
        shop, orders[4].id, bill_date=date(2026, 10, 6)).id)
    purchasing.pay_bill(shop, part.id, "100.00")
    purchasing.pay_bill(shop, paid.id)
    assert source.count(Filters()) == 3
    rows = every_row(source, page=2)
    assert [r.bill_date for r in rows] == [date(2026, 11, 2), date(2026, 10, 6),
                                           date(2026, 10, 5)]
    d, p, o = rows
    assert (d.number, d.vendor_ref, d.status_label, d.paid, d.balance) == (
        "", "BF/991", "Draft", None, None)
    assert d.total == inr("1000.00")
    assert (o.total, o.paid, o.balance, o.status_label, o.overdue) == (
        inr("500.00"), inr("100.00"), inr("400.00"), "Overdue", True)
    assert (p.paid, p.balance, p.status_label) == (inr("50.00"), inr("0.00"), "Paid")
    assert source.count(Filters.of(status="draft")) == 1
    assert source.count(Filters.of(status="unpaid")) == 1
    assert source.count(Filters.of(status="overdue")) == 1
    assert source.count(Filters.of(status="overdue", today=date(2026, 10, 20))) == 0
    assert source.count(Filters.of(status="paid")) == 1
    assert source.count(Filters.of("bf/991")) == 1
    assert source.count(Filters.of("bharat")) == 2
    by_due = every_row(source, sort=Sort("due_date"))
    assert [r.due_date for r in by_due] == sorted(r.due_date for r in rows)
    by_number = every_row(source, sort=Sort("number", descending=True))
    assert by_number[-1].number == ""  # drafts have no number yet
    with pytest.raises(ValidationError):
        source.fetch(Filters(), Sort("vendor_name"), 0, 10)


def test_payments_list_the_bills_they_settled(shop, vendors):
    bharat = vendors["Bharat Fasteners"].id
    bills = [purchasing.post_bill(shop, purchasing.create_bill(
        shop, bharat, [BillLineInput(description=f"Freight {i}", unit_cost="300.00",
                                     account="6900")], bill_date=date(2026, 10, i)).id)
             for i in (1, 2)]
    purchasing.pay_bills(shop, bharat, {bills[0].id: "300.00", bills[1].id: "100.00"},
                         payment_date=date(2026, 10, 10), reference="UTR 4471")
    purchasing.pay_bill(shop, bills[1].id, method="cash")
    source = ListSource(pl.VENDOR_PAYMENTS, shop)
    assert source.count(Filters()) == 2
    latest, first = every_row(source, page=1)
    assert (first.amount, first.reference, first.method_label) == (
        inr("400.00"), "UTR 4471", "Bank")
    assert first.bills == f"{bills[0].number}, {bills[1].number}"
    assert (latest.amount, latest.method_label, latest.bills) == (
        inr("200.00"), "Cash", bills[1].number)
    assert source.count(Filters.of(method="cash")) == 1
    assert source.count(Filters.of("4471")) == 1
    assert source.count(Filters.of(vendor_id=vendors["Deccan Tools"].id)) == 0
    oldest = source.fetch(Filters(), Sort("payment_date"), 0, 1)
    assert oldest[0].id == first.id


def test_a_role_without_purchases_sees_no_purchase_lists(shop, login_as):
    clerk = login_as("sales_clerk")
    for query in (pl.VENDORS, pl.PURCHASE_ORDERS, pl.BILLS, pl.VENDOR_PAYMENTS):
        with pytest.raises(PermissionDenied):
            query.count(clerk, Filters())
        with pytest.raises(PermissionDenied):
            query.fetch(clerk, Filters(), query.default_sort, 0, 10)
    keeper = login_as("storekeeper")
    assert pl.VENDORS.count(keeper, Filters()) == 0


def test_the_small_reads_behind_the_purchase_forms(shop, login_as):
    from erp_desktop.services import catalogue

    assert pl.purchase_currency(shop) == "INR"
    bolt = catalogue.get_product(shop, "HB-M8")
    assert pl.product_names(shop, [bolt.id, bolt.id]) == {bolt.id: "Hex bolt M8 x 40"}
    assert pl.product_names(shop, []) == {}
    accounts = pl.expense_accounts(shop)
    codes = [a.code for a in accounts]
    assert "6900" in codes and codes == sorted(codes)
    assert {a.type for a in accounts} <= {"expense", "asset"}
    assert "6000" not in codes  # a group takes no postings
    keeper = login_as("storekeeper")
    assert pl.purchase_currency(keeper) == "INR"
    with pytest.raises(PermissionDenied):
        pl.expense_accounts(keeper)  # storekeepers do not enter bills
