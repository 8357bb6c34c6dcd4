"""The invoice list reads the same rows whichever way the SQL goes (issue #6 tuning).

`sales_lists.INVOICES` leaves out deleted drafts through their void status
alone, counts the live invoices from the status index, and reads a search
either by one pass over the table (few matches, or not counted yet) or by
walking the date index (many matches). These tests say the rows are the same
either way; the timings are in `bench/ui_bench.py`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from erp_desktop.services import customers, sales
from erp_desktop.services import sales_lists as sl
from erp_desktop.services.listing import Filters, ListSource
from erp_desktop.services.sales import Allocation, LineIn
from tests.services.sales.test_sales_lists import every_row

SEARCHES = ("lakshmi", "UNIQUE", "inv", "0000", "traders 2026", "no such words")


@dataclass
class Book:
    ctx: object
    local: customers.CustomerRow
    numbers: list[str]


@pytest.fixture
def book(shop) -> Book:
    """Seven issued invoices over two months (one paid), a draft and a quote."""
    ctx, numbers = shop.ctx, []
    for i, (who, day) in enumerate(((shop.local, date(2026, 9, 1)),
                                    (shop.remote, date(2026, 9, 20)),
                                    (shop.local, date(2026, 10, 5)),
                                    (shop.remote, date(2026, 10, 5)),
                                    (shop.local, date(2026, 10, 30)),
                                    (shop.remote, date(2026, 11, 1)),
                                    (shop.local, date(2026, 11, 2)))):
        draft = sales.create_draft(ctx, who.id, [LineIn("KETTLE", 1 + i % 3)], invoice_date=day)
        numbers.append(sales.issue_invoice(ctx, draft.id).invoice.number)
    sales.create_draft(ctx, shop.local.id, [LineIn("RICE", 2)])
    sales.create_quote(ctx, shop.remote.id, [LineIn("TV55", 1)])
    sales.record_payment(ctx, shop.remote.id, "2360.00", "upi",
                         allocations=[Allocation(numbers[1], "2360.00")])
    return Book(ctx, shop.local, numbers)


def _numbers(rows):
    return [(r.number, r.invoice_date, r.status) for r in rows]


def test_a_deleted_draft_is_neither_listed_nor_counted(book):
    source = ListSource(sl.INVOICES, book.ctx)
    before = every_row(source)
    draft = sales.create_draft(book.ctx, book.local.id, [LineIn("KETTLE", 1)])
    assert source.count(Filters()) == len(before) + 1
    sales.delete_draft(book.ctx, draft.id)

    after = every_row(source)
    assert source.count(Filters()) == len(before)
    assert draft.id not in {r.id for r in after}
    assert _numbers(after) == _numbers(before)
    assert source.count(Filters.of(status="draft")) == 1  # the fixture's own draft only


@pytest.mark.parametrize("text", SEARCHES)
def test_a_search_reads_the_same_rows_by_a_pass_over_the_table_or_by_the_index(
        book, monkeypatch, text):
    source = ListSource(sl.INVOICES, book.ctx)
    filters = Filters.of(text)
    scanned = every_row(source, filters)  # few matches: one pass over the table
    first_page = source.fetch(filters, source.default_sort, 0, 3)  # count not known yet
    monkeypatch.setattr(sl, "SCAN_SEARCH_MAX", -1)  # as if thousands matched: the index
    walked = every_row(source, filters)

    assert _numbers(scanned) == _numbers(walked)
    assert _numbers(first_page) == _numbers(walked[:3])
    for sort in (sl.INVOICES.default_sort, sl.INVOICES.default_sort.reversed()):
        monkeypatch.setattr(sl, "SCAN_SEARCH_MAX", 5000)
        a = every_row(source, filters, sort=sort, page=3)
        monkeypatch.setattr(sl, "SCAN_SEARCH_MAX", -1)
        assert _numbers(a) == _numbers(every_row(source, filters, sort=sort, page=3))


def test_the_searches_find_what_a_person_would_expect(book):
    source = ListSource(sl.INVOICES, book.ctx)
    lakshmi = every_row(source, Filters.of("lakshmi"))
    assert lakshmi and {r.customer_name for r in lakshmi} == {"Lakshmi Stores"}
    assert not every_row(source, Filters.of("no such words"))
    # A number is found by any part of it, with the status filter still applied.
    number = book.numbers[1]
    found = every_row(source, Filters.of(number[-6:], status="paid"))
    assert [r.number for r in found] == [number]


def test_the_count_without_a_search_matches_the_rows_for_every_status(book):
    source = ListSource(sl.INVOICES, book.ctx)
    for key, _label in sl.INVOICE_STATUS_FILTERS:
        filters = Filters.of(status=key or None)
        assert source.count(filters) == len(every_row(source, filters)), key
