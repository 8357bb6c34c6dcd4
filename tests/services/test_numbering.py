"""Gapless legal numbers: consecutive, never repeated, no gap after a rollback."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from erp_desktop.domain.errors import ValidationError
from erp_desktop.models.company import NumberSeries
from erp_desktop.models.ledger import JournalEntry
from erp_desktop.services import ledger
from erp_desktop.services.ledger import LineInput
from erp_desktop.services.numbering import next_number

DAY = date(2026, 11, 2)  # in fiscal year 2026-27 (April start)


class Boom(Exception):
    pass


def take(ctx, doc_type="journal", prefix="JV", device="A", on=DAY, fy_month=4):
    with ctx.db.write(ctx.actor.user_id) as s:
        return next_number(s, doc_type, prefix, device, on, fy_month)


def test_numbers_are_consecutive_within_and_across_transactions(admin_ctx):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        first = [next_number(s, "journal", "JV", "A", DAY, 4) for _ in range(3)]
    assert first == ["JV/2026-27/A/000001", "JV/2026-27/A/000002", "JV/2026-27/A/000003"]
    assert take(admin_ctx) == "JV/2026-27/A/000004"


def test_a_rolled_back_transaction_leaves_no_gap(admin_ctx):
    assert take(admin_ctx) == "JV/2026-27/A/000001"
    with pytest.raises(Boom), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        assert next_number(s, "journal", "JV", "A", DAY, 4) == "JV/2026-27/A/000002"
        raise Boom
    assert take(admin_ctx) == "JV/2026-27/A/000002"


def test_a_rolled_back_posting_leaves_no_gap_in_journal_numbers(admin_ctx):
    lines = [LineInput("1100", debit="10"), LineInput("3100", credit="10")]
    first = ledger.post_entry(admin_ctx, DAY, lines)
    # A document that posts its entry and then fails rolls back its number too.
    with pytest.raises(Boom), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        taken = ledger.post_in_session(s, admin_ctx, DAY, lines, source_type="invoice")
        assert taken.number == "JV/2026-27/A/000002"
        raise Boom
    second = ledger.post_entry(admin_ctx, DAY, lines)
    assert (first.number, second.number) == ("JV/2026-27/A/000001", "JV/2026-27/A/000002")
    with admin_ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(JournalEntry)) == 2


def test_a_refused_posting_takes_no_number(admin_ctx):
    with pytest.raises(ValidationError):
        ledger.post_entry(admin_ctx, DAY, [LineInput("1100", debit="10"),
                                           LineInput("3100", credit="9")])
    ok = ledger.post_entry(admin_ctx, DAY, [LineInput("1100", debit="10"),
                                            LineInput("3100", credit="10")])
    assert ok.number == "JV/2026-27/A/000001"


def test_each_device_and_each_fiscal_year_has_its_own_series(admin_ctx):
    assert take(admin_ctx, device="A") == "JV/2026-27/A/000001"
    assert take(admin_ctx, device="B") == "JV/2026-27/B/000001"
    assert take(admin_ctx, device="A") == "JV/2026-27/A/000002"
    # 31 March 2026 belongs to 2025-26; 1 April 2026 to 2026-27.
    assert take(admin_ctx, on=date(2026, 3, 31)) == "JV/2025-26/A/000001"
    assert take(admin_ctx, on=date(2026, 4, 1)) == "JV/2026-27/A/000003"
    assert take(admin_ctx, doc_type="invoice", prefix="INV") == "INV/2026-27/A/000001"
    with admin_ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(NumberSeries)) == 4


def test_calendar_year_companies_get_a_year_token(admin_ctx):
    assert take(admin_ctx, fy_month=1, on=date(2026, 1, 1)) == "JV/2026/A/000001"
    assert take(admin_ctx, fy_month=1, on=date(2026, 12, 31)) == "JV/2026/A/000002"
    assert take(admin_ctx, fy_month=1, on=date(2027, 1, 1)) == "JV/2027/A/000001"


def test_posting_uses_this_devices_series(admin_ctx):
    import dataclasses

    till_b = dataclasses.replace(admin_ctx, device=dataclasses.replace(admin_ctx.device,
                                                                       code="B"))
    lines = [LineInput("1100", debit="1"), LineInput("3100", credit="1")]
    assert ledger.post_entry(till_b, DAY, lines).number == "JV/2026-27/B/000001"
    assert ledger.post_entry(admin_ctx, DAY, lines).number == "JV/2026-27/A/000001"


@pytest.mark.parametrize(("prefix", "code"), [("", "A"), ("J V", "A"), ("JV", ""),
                                              ("JV", "ABCDE"), ("JV", "A/B")])
def test_bad_prefix_or_device_code_is_refused(admin_ctx, prefix, code):
    with pytest.raises(ValidationError):
        take(admin_ctx, prefix=prefix, device=code)
