"""The Sales area's paged lists: invoices, customers, payments, credit notes, open accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal as D

import pytest

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.services import customers, sales
from erp_desktop.services import sales_lists as sl
from erp_desktop.services.listing import Filters, ListSource, Sort
from erp_desktop.services.sales import Allocation, CreditLineIn, LineIn
from tests.services.sales.conftest import as_role


@dataclass
class Book:
    ctx: object
    local: customers.CustomerRow
    remote: customers.CustomerRow
    numbers: list[str]  # the issued invoices a..e


def _issue(ctx, customer, *lines, day):
    draft = sales.create_draft(ctx, customer, list(lines), invoice_date=day)
    return sales.issue_invoice(ctx, draft.id).invoice


@pytest.fixture
def book(shop) -> Book:
    """Five issued invoices (one overdue, one paid, one partly paid, one partly credited),
    a draft and a quote; two payments and a credit note."""
    ctx, local, remote = shop.ctx, shop.local.id, shop.remote.id
    a = _issue(ctx, local, LineIn("KETTLE", 1), day=date(2026, 9, 1))  # 1,180, due 1 Oct
    b = _issue(ctx, local, LineIn("RICE", 10), day=date(2026, 10, 5))  # 1,260, due 4 Nov
    c = _issue(ctx, remote, LineIn("TV55", 1), day=date(2026, 10, 10))  # 47,200, paid
    d = _issue(ctx, remote, LineIn("KETTLE", 2), day=date(2026, 11, 2))  # 2,360, part paid
    e = _issue(ctx, local, LineIn("KETTLE", 3), day=date(2026, 11, 2))  # 3,540, 1 credited
    sales.create_draft(ctx, local, [LineIn("KETTLE", 1)])
    sales.create_quote(ctx, remote, [LineIn("TV55", 2)])
    sales.record_payment(ctx, remote, "47200.00", "bank_transfer", reference="NEFT 991",
                         allocations=[Allocation(c.number, "47200.00")])
    sales.record_payment(ctx, remote, "1000.00", "upi", reference="UPI/77",
                         allocations=[Allocation(d.number, "1000.00")])
    sales.issue_credit_note(ctx, e.number, [CreditLineIn(1, 1)], reason="Dented")
    return Book(ctx, shop.local, shop.remote, [a.number, b.number, c.number, d.number,
                                               e.number])


def every_row(source, filters=Filters(), sort=None, page=2):
    sort = sort or source.default_sort
    total = source.count(filters)
    rows = []
    for start in range(0, total, page):
        rows += source.fetch(filters, sort, start, page, total)
    assert len(rows) == total
    return rows


def test_invoices_count_and_filter_by_status_dates_and_customer(book):
    source = ListSource(sl.INVOICES, book.ctx)
    assert source.count(Filters()) == 7  # five issued, a draft and a quote
    counts = {key: source.count(Filters.of(status=key)) for key, _ in sl.INVOICE_STATUS_FILTERS}
    assert counts == {"": 7, "open": 4, "overdue": 1, "issued": 2, "partially_paid": 2,
                      "paid": 1, "issued_any": 5, "draft": 1, "quote": 1}
    october = Filters.of(date_from=date(2026, 10, 1), date_to=date(2026, 10, 31))
    assert [r.number for r in every_row(source, october)] == [book.numbers[2], book.numbers[1]]
    mine = Filters.of(customer_id=book.remote.id)
    assert {r.number for r in every_row(source, mine)} == {book.numbers[2], book.numbers[3],
                                                           "Quote"}
    with pytest.raises(ValidationError, match="start date is after"):
        source.count(Filters.of(date_from=date(2026, 11, 1), date_to=date(2026, 10, 1)))
    with pytest.raises(ValidationError, match="not an invoice status"):
        source.count(Filters.of(status="lost"))


def test_invoice_search_matches_customer_name_code_and_number_as_typed(book):
    source = ListSource(sl.INVOICES, book.ctx)
    assert source.count(Filters.of("lakshmi")) == 4  # a, b, e and the draft
    assert source.count(Filters.of(book.remote.code.lower())) == 3
    only = every_row(source, Filters.of("000003"))
    assert [r.number for r in only] == [book.numbers[2]]
    assert source.count(Filters.of("unique 000004")) == 1  # every word must match
    assert source.count(Filters.of("100%_")) == 0  # LIKE wildcards are taken literally


def test_invoice_rows_carry_balance_due_and_an_overdue_status(book):
    rows = {r.number: r for r in every_row(ListSource(sl.INVOICES, book.ctx))}
    a, b, c, d, e = (rows[n] for n in book.numbers)
    assert (a.status_label, a.overdue, a.balance.amount) == ("Overdue", True, D("1180.00"))
    assert (b.status_label, b.overdue) == ("Unpaid", False)  # due 4 Nov, today is 2 Nov
    assert (c.status_label, c.balance.amount) == ("Paid", D("0.00"))
    assert (d.status_label, d.total.amount, d.balance.amount) == (
        "Partly paid", D("2360.00"), D("1360.00"))
    assert e.balance.amount == D("2360.00")  # 3,540 less the 1,180 credit note
    assert rows["Draft"].balance.amount == D("1180.00") and not rows["Draft"].issued
    assert a.customer_name == "Lakshmi Stores" and a.customer_code == book.local.code


@pytest.mark.parametrize("key", ["invoice_date", "number", "total"])
@pytest.mark.parametrize("descending", [False, True])
def test_invoice_sorts_in_sql_and_pages_read_backwards_agree(book, key, descending):
    source = ListSource(sl.INVOICES, book.ctx)
    sort = Sort(key, descending)
    one_by_one = every_row(source, sort=sort, page=1)
    assert every_row(source, sort=sort, page=3) == one_by_one
    # asked without the total, every page is read forwards: the same rows
    forwards = []
    for start in range(0, 7, 2):
        forwards += source.fetch(Filters(), sort, start, 2)
    assert forwards == one_by_one
    values = {"invoice_date": lambda r: (r.invoice_date, r.id),
              "number": lambda r: r.number if r.issued else "",
              "total": lambda r: r.total.minor}[key]
    assert [values(r) for r in one_by_one] == sorted((values(r) for r in one_by_one),
                                                     reverse=descending)


def test_lists_refuse_a_sort_the_database_cannot_do_cheaply(book):
    with pytest.raises(ValidationError, match="cannot be sorted by Customer"):
        sl.INVOICES.fetch(book.ctx, Filters(), Sort("customer_name"), 0, 10)
    with pytest.raises(ValidationError, match="cannot be sorted by Amount"):
        sl.PAYMENTS.fetch(book.ctx, Filters(), Sort("amount"), 0, 10)


def test_customers_list_with_balances_search_and_inactive(book):
    source = ListSource(sl.CUSTOMERS, book.ctx)
    rows = every_row(source)
    assert [r.name for r in rows] == ["Lakshmi Stores", "Unique Traders"]
    local, remote = rows
    assert local.balance.amount == D("1180.00") + D("1260.00") + D("2360.00")
    assert remote.balance.amount == D("1360.00") and remote.credit.amount == 0
    assert local.gstin == "29AAKCS4821M1ZS" and local.city == "Bengaluru"
    assert [r.name for r in every_row(source, Filters.of("98450"))] == ["Lakshmi Stores"]
    assert [r.name for r in every_row(source, Filters.of("27aapfu"))] == ["Unique Traders"]
    assert [r.code for r in every_row(source, sort=Sort("code", True))] == sorted(
        [local.code, remote.code], reverse=True)
    customers.update_customer(book.ctx, book.remote.id, active=False)
    assert source.count(Filters()) == 1
    assert source.count(Filters.of(include_inactive=True)) == 2


def test_overpayment_shows_as_credit_in_the_customers_list(book):
    sales.record_payment(book.ctx, book.remote.id, "2000.00", "cash")  # owes 1,360
    remote = next(r for r in every_row(ListSource(sl.CUSTOMERS, book.ctx))
                  if r.id == book.remote.id)
    assert remote.balance.amount == 0 and remote.credit.amount == D("640.00")


def test_payments_list_filters_and_searches(book):
    source = ListSource(sl.PAYMENTS, book.ctx)
    rows = every_row(source)
    assert [(r.method_label, r.amount.amount) for r in rows] == [
        ("UPI", D("1000.00")), ("Bank transfer", D("47200.00"))]  # newest first
    assert rows[0].number == "RCPT/2026-27/A/000002"
    assert source.count(Filters.of(method="upi")) == 1
    assert source.count(Filters.of("neft")) == 1
    assert source.count(Filters.of("unique")) == 2
    assert source.count(Filters.of(customer_id=book.local.id)) == 0
    assert source.count(Filters.of(date_from=date(2026, 11, 3))) == 0
    with pytest.raises(ValidationError, match="not a payment method"):
        source.count(Filters.of(method="barter"))


def test_credit_notes_list(book):
    source = ListSource(sl.CREDIT_NOTES, book.ctx)
    [row] = every_row(source)
    assert (row.number, row.invoice_number, row.customer_name, row.reason) == (
        "CN/2026-27/A/000001", book.numbers[4], "Lakshmi Stores", "Dented")
    assert row.total.amount == D("1180.00")
    assert source.count(Filters.of(book.numbers[4][-6:])) == 1
    assert source.count(Filters.of("unique")) == 0


def test_open_account_lists_what_is_owed_oldest_due_first(book):
    account = sl.open_account(book.ctx, book.local.id)
    assert [i.number for i in account.invoices] == [book.numbers[0], book.numbers[1],
                                                   book.numbers[4]]
    assert [i.balance.amount for i in account.invoices] == [D("1180.00"), D("1260.00"),
                                                           D("2360.00")]
    assert account.credit.amount == 0
    assert sl.suggest_allocation([D("1180"), D("1260"), D("2360")], D("3000")) == [
        D("1180"), D("1260"), D("560")]
    assert sl.suggest_allocation([D("100"), D("50")], D("500")) == [D("100"), D("50")]
    assert sl.suggest_allocation([D("100")], D("-5")) == [D("0")]


def test_every_list_asks_for_sales_view(book):
    storekeeper = as_role(book.ctx, "storekeeper")
    for query in (sl.INVOICES, sl.CUSTOMERS, sl.PAYMENTS, sl.CREDIT_NOTES):
        with pytest.raises(PermissionDenied):
            query.count(storekeeper, Filters())
        with pytest.raises(PermissionDenied):
            query.fetch(storekeeper, Filters(), query.default_sort, 0, 10)
    with pytest.raises(PermissionDenied):
        sl.open_account(storekeeper, book.local.id)
    clerk = as_role(book.ctx, "sales_clerk")
    assert sl.INVOICES.count(clerk, Filters()) == 7
