"""Checking a journal entry as typed: the ledger's own answer, and nothing written."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp_desktop.domain.errors import PermissionDenied
from erp_desktop.services import audit, auth, ledger, users
from erp_desktop.services.journal_check import check_entry


def lines(debit: str, credit: str) -> list[ledger.LineInput]:
    return [ledger.LineInput("1100", debit=Decimal(debit)),
            ledger.LineInput("4100", credit=Decimal(credit))]


def test_a_balanced_entry_would_post_and_nothing_is_written(admin_ctx):
    events = len(audit.list_events(admin_ctx))
    result = check_entry(admin_ctx, date(2026, 11, 2), lines("100", "100"), "Sale")
    assert result.ok and result.total.amount == Decimal("100.00")
    assert ledger.list_entries(admin_ctx).rows == []
    assert len(audit.list_events(admin_ctx)) == events
    posted = ledger.post_entry(admin_ctx, date(2026, 11, 2), lines("100", "100"))
    assert posted.number.endswith("000001")  # the check took no number from the series


def test_the_refusals_are_the_ledgers(admin_ctx):
    result = check_entry(admin_ctx, date(2026, 11, 2), lines("100", "90"))
    assert not result.ok and result.field == "lines"
    assert result.message.startswith("The entry does not balance")
    ledger.lock_books(admin_ctx, date(2026, 10, 31))
    locked = check_entry(admin_ctx, date(2026, 10, 1), lines("5", "5"))
    assert (locked.ok, locked.field) == (False, "entry_date")


def test_only_who_may_post_may_check(admin_ctx, company_path, config, device):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", "till drawer 42 open", "sales_clerk")
    clerk = auth.login(company_path, "ravi", "till drawer 42 open", config=config,
                       device=device)
    try:
        with pytest.raises(PermissionDenied):
            check_entry(clerk, date(2026, 11, 2), lines("1", "1"))
    finally:
        clerk.close()
