"""Property: whatever balanced entries are posted, the books stay in balance.

Hypothesis posts random balanced entries across random (leaf) accounts and
dates; after each batch the trial balance at a random date must match the
entries dated up to then, net to zero, and the balance sheet must balance.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from erp_desktop.domain.chart import SMALL_BUSINESS_CHART
from erp_desktop.domain.numbering import fiscal_year_start
from erp_desktop.services import ledger
from erp_desktop.services.ledger import LineInput

LEAVES = [a.code for a in SMALL_BUSINESS_CHART if not a.is_group]
FIRST_DAY = date(2025, 4, 1)
DAYS = 700  # two fiscal years and a bit, so earlier-years' earnings show up too


@st.composite
def balanced_entries(draw: st.DrawFn) -> tuple[date, list[tuple[str, int, int]]]:
    """A date and lines (account, debit minor, credit minor) whose sides are equal."""
    day = FIRST_DAY + timedelta(days=draw(st.integers(0, DAYS)))
    debits = draw(st.lists(st.integers(1, 5_000_000), min_size=1, max_size=3))
    total = sum(debits)
    n_credits = draw(st.integers(1, min(3, total)))
    cuts = sorted(draw(st.lists(st.integers(1, total - 1), min_size=n_credits - 1,
                                max_size=n_credits - 1, unique=True))) if total > 1 else []
    credits = [b - a for a, b in zip([0, *cuts], [*cuts, total], strict=True)]
    accounts = draw(st.lists(st.sampled_from(LEAVES), min_size=len(debits) + len(credits),
                             max_size=len(debits) + len(credits)))
    sides = [(d, 0) for d in debits] + [(0, c) for c in credits]
    lines = [(acc, d, c) for acc, (d, c) in zip(accounts, sides, strict=True)]
    return day, draw(st.permutations(lines))


def rupees(minor: int) -> Decimal:
    return Decimal(minor).scaleb(-2)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(balanced_entries(), min_size=1, max_size=4),
       as_of_offset=st.integers(0, DAYS))
def test_random_balanced_entries_keep_the_books_balanced(admin_ctx, batch, as_of_offset):
    # The company file lives across examples: keep what was posted so far beside it.
    posted: list[tuple[date, str, int, int]] = admin_ctx.extra.setdefault("posted", [])
    for day, lines in batch:
        ledger.post_entry(admin_ctx, day, [LineInput(acc, debit=rupees(d), credit=rupees(c))
                                           for acc, d, c in lines])
        posted.extend((day, acc, d, c) for acc, d, c in lines)

    as_of = FIRST_DAY + timedelta(days=as_of_offset)
    expected: dict[str, int] = {}
    for day, acc, d, c in posted:
        if day <= as_of:
            expected[acc] = expected.get(acc, 0) + d - c
    expected = {k: v for k, v in expected.items() if v}

    tb = ledger.trial_balance(admin_ctx, as_of)
    got = {r.code: int((r.debit.amount - r.credit.amount).scaleb(2)) for r in tb.rows}
    assert got == expected
    assert tb.total_debit == tb.total_credit
    assert sum(got.values()) == 0

    bs = ledger.balance_sheet(admin_ctx, as_of)
    assert bs.total_assets == bs.total_liabilities_and_equity
    assert sum((r.amount.amount for r in bs.equity), Decimal(0)) == bs.total_equity.amount

    fy = fiscal_year_start(as_of, 4)
    earnings = next(r for r in bs.equity if r.name == ledger.CURRENT_YEAR_EARNINGS)
    assert ledger.profit_and_loss(admin_ctx, fy, as_of).net_profit == earnings.amount
