"""The list-query protocol and the lists of today, on real encrypted company files."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import PermissionDenied, ValidationError, WrongPassword
from erp_desktop.domain.money import Money
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import auth, ledger, users
from erp_desktop.services import list_queries as lq
from erp_desktop.services.listing import (
    MAX_FETCH,
    Column,
    ColumnKind,
    Filters,
    ListSource,
    Sort,
    check_sort,
    format_cell,
    plan_window,
)

CLERK_PASSWORD = "till drawer 42 open"


def post(ctx, day: date, amount: str, memo: str) -> None:
    ledger.post_entry(ctx, day, [ledger.LineInput("1100", debit=Decimal(amount)),
                                 ledger.LineInput("4100", credit=Decimal(amount))], memo)


@pytest.fixture
def journal(admin_ctx):
    """31 entries over two months, two on the same day (the tie-breaker matters)."""
    for i in range(30):
        post(admin_ctx, date(2026, 9, 1 + i), f"{100 + i}.50", f"Counter sales {i}")
    post(admin_ctx, date(2026, 9, 15), "999.00", "Cement bags for Sharma")
    return ListSource(lq.JOURNAL_ENTRIES, admin_ctx)


def every_row(source, filters=Filters(), sort=None, page=7):
    sort = sort or source.default_sort
    total = source.count(filters)
    out = []
    for start in range(0, total, page):
        out += source.fetch(filters, sort, start, page, total)
    return out


def test_pages_read_forwards_and_backwards_give_the_same_rows(journal):
    total = journal.count(Filters())
    assert total == 31
    sort = Sort("entry_date")
    forwards = []
    for start in range(0, total, 5):
        forwards += journal.fetch(Filters(), sort, start, 5)  # no total: always forwards
    backwards = every_row(journal, sort=sort, page=5)  # past the middle: read from the end
    assert forwards == backwards
    assert [r.entry_date for r in forwards] == sorted(r.entry_date for r in forwards)
    assert len({r.id for r in forwards}) == 31  # no row twice, none missing


def test_newest_first_by_default_with_money_in_the_books_currency(journal):
    first = journal.fetch(Filters(), journal.default_sort, 0, 3, 31)
    assert first[0].entry_date == date(2026, 9, 30)
    assert first[0].total == Money(Decimal("129.50"), "INR")
    assert first[0].source == "Manual entry"
    last = journal.fetch(Filters(), journal.default_sort, 30, 1, 31)
    assert last[0].entry_date == date(2026, 9, 1)


def test_search_words_and_dates_narrow_the_list_in_sql(journal):
    assert journal.count(Filters.of("cement SHARMA")) == 1
    (row,) = journal.fetch(Filters.of("cement"), journal.default_sort, 0, 10)
    assert row.memo == "Cement bags for Sharma"
    assert journal.count(Filters.of("JV/2026-27")) == 31  # the number matches too
    assert journal.count(Filters.of("100%")) == 0  # LIKE wildcards are taken literally
    september_half = Filters.of(date_from=date(2026, 9, 10), date_to=date(2026, 9, 19))
    assert journal.count(september_half) == 11
    rows = every_row(journal, september_half)
    assert {r.entry_date for r in rows} <= {date(2026, 9, d) for d in range(10, 20)}


def test_sorting_by_number_and_refusing_a_column_without_an_index(journal):
    numbers = [r.number for r in every_row(journal, sort=Sort("number"))]
    assert numbers == sorted(numbers)
    with pytest.raises(ValidationError, match="cannot be sorted by Memo"):
        journal.fetch(Filters(), Sort("memo"), 0, 10)
    with pytest.raises(ValidationError, match="no column"):
        journal.fetch(Filters(), Sort("nonsense"), 0, 10)


def test_a_page_request_out_of_bounds_is_refused(journal):
    with pytest.raises(ValidationError):
        journal.fetch(Filters(), journal.default_sort, -1, 10)
    with pytest.raises(ValidationError):
        journal.fetch(Filters(), journal.default_sort, 0, MAX_FETCH + 1)
    assert journal.fetch(Filters(), journal.default_sort, 500, 10, 31) == []


def test_a_bad_date_filter_is_refused(journal):
    with pytest.raises(ValidationError, match="must be a date"):
        journal.count(Filters.of(date_from="2026-09-01"))


def test_a_clerk_may_not_list_the_journal_and_the_refusal_is_audited(
        admin_ctx, company_path, config, device):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    clerk = auth.login(company_path, "ravi", CLERK_PASSWORD, config=config, device=device)
    try:
        source = ListSource(lq.JOURNAL_ENTRIES, clerk)
        with pytest.raises(PermissionDenied):
            source.count(Filters())
        with pytest.raises(PermissionDenied):
            source.fetch(Filters(), source.default_sort, 0, 10)
        with pytest.raises(PermissionDenied):
            ListSource(lq.AUDIT_LOG, clerk).count(Filters())
        with clerk.db.read() as s:
            denied = [json.loads(e.details)["permission"] for e in s.scalars(
                select(AuditEvent).where(AuditEvent.action == "permission.denied"))]
        assert denied == ["ledger.view", "ledger.view", "audit.view"]
    finally:
        clerk.close()


def test_the_audit_log_lists_newest_first_and_filters_by_action(admin_ctx):
    post(admin_ctx, date(2026, 9, 1), "10.00", "One")
    source = ListSource(lq.AUDIT_LOG, admin_ctx)
    total = source.count(Filters())
    rows = every_row(source)
    assert len(rows) == total >= 3
    assert [r.seq for r in rows] == sorted((r.seq for r in rows), reverse=True)
    posted = every_row(source, Filters.of(action_prefix="ledger."))
    assert [r.action for r in posted] == ["ledger.entry_posted"]
    assert "number: JV/" in posted[0].details
    by_action = every_row(source, sort=Sort("action"))
    assert [r.action for r in by_action] == sorted(r.action for r in by_action)


def test_login_events_show_failures_and_filter_them(admin_ctx, company_path, config, device):
    with pytest.raises(WrongPassword):
        auth.login(company_path, "owner", "not the password", config=config, device=device)
    again = auth.login(company_path, "owner", "correct horse battery", config=config,
                       device=device)
    again.close()
    source = ListSource(lq.LOGIN_EVENTS, admin_ctx)
    rows = every_row(source)
    assert {r.outcome for r in rows} == {"Succeeded", "Failed"}
    assert all(isinstance(r.at, datetime) for r in rows)
    assert [r.at for r in rows] == sorted((r.at for r in rows), reverse=True)
    failed = every_row(source, Filters.of(success=False))
    assert failed and all(r.outcome == "Failed" for r in failed)
    assert failed[0].reason == "wrong password"


def test_users_and_accounts_lists(admin_ctx):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    people = ListSource(lq.USERS, admin_ctx)
    rows = every_row(people)
    assert [r.login_name for r in rows] == ["owner", "ravi"]
    assert rows[1].role_label == "Sales clerk" and rows[1].status == "Active"
    assert [r.login_name for r in every_row(people, Filters.of("clerk"))] == ["ravi"]
    by_role = every_row(people, sort=Sort("role_label", descending=True))
    assert [r.role_label for r in by_role] == ["Sales clerk", "Owner / admin"]

    accounts = ListSource(lq.ACCOUNTS, admin_ctx)
    chart = every_row(accounts)
    assert [a.code for a in chart] == sorted(a.code for a in chart)
    cash = next(a for a in chart if a.code == "1100")
    assert (cash.name, cash.parent_code, cash.status) == ("Cash in hand", "1000", "Active")
    assert next(a for a in chart if a.code == "1000").status == "Group"
    incomes = every_row(accounts, Filters.of(type="income"))
    assert {a.type for a in incomes} == {"income"}
    postable = every_row(accounts, Filters.of(postable_only=True))
    assert not any(a.is_group for a in postable)


def test_plan_window_reads_the_far_half_backwards():
    assert plan_window(0, 100, 1000) == (False, 0, 100)
    assert plan_window(400, 100, 1000) == (False, 400, 100)
    assert plan_window(900, 100, 1000) == (True, 0, 100)
    assert plan_window(950, 100, 1000) == (True, 0, 50)  # the last, short page
    assert plan_window(600, 100, None) == (False, 600, 100)  # length unknown: forwards


def test_filters_compare_by_value_and_cells_format_for_the_locale():
    assert Filters.of("  cement ", status="paid") == Filters.of("cement", status="paid")
    assert hash(Filters.of("x", a=1)) == hash(Filters.of("x", a=1))
    assert Filters.of(status=None) == Filters()
    assert Filters.of("a b").words == ["a", "b"]
    assert Filters.of("x").with_extra(status="paid").get("status") == "paid"
    money = Money(Decimal("123456.5"), "INR")
    assert format_cell(money, ColumnKind.MONEY, "en_IN") == "₹1,23,456.50"
    assert format_cell(money, ColumnKind.MONEY, "de_DE") == "123.456,50\xa0₹"
    assert format_cell(date(2026, 11, 2), ColumnKind.DATE, "en_IN") == "2 Nov 2026"
    assert format_cell(Decimal("1234.500"), ColumnKind.QTY, "en_US") == "1,234.5"
    assert format_cell(None, ColumnKind.MONEY, "en_IN") == ""
    assert ColumnKind.MONEY.right_aligned and not ColumnKind.TEXT.right_aligned
    with pytest.raises(ValidationError):
        check_sort([Column("a", "A")], Sort("a"))
