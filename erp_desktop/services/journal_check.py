"""Check a manual journal entry as typed, by the ledger's own rules, without posting it.

The journal-entry form asks, while the accountant types, whether the entry
would post. Rather than copy the ledger's rules into the UI, `check_entry`
runs the real posting path (`ledger.post_in_session`) inside a write
transaction that is always rolled back: the number it took, the audit event
and the outbox rows vanish with it, and the answer is exactly what Post
would say. The transaction lasts a few milliseconds; the form calls it only
after typing pauses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money
from erp_desktop.services import ledger
from erp_desktop.services.context import Context


@dataclass(frozen=True)
class EntryCheck:
    ok: bool
    message: str  # the ledger's refusal, or "" when the entry would post
    field: str | None  # which part it concerns ("lines", "entry_date" ...)
    total: Money | None  # the entry's total when it would post


class _RollBack(Exception):
    def __init__(self, total: Money) -> None:
        super().__init__("roll back")
        self.total = total


def check_entry(ctx: Context, entry_date: date, lines: Sequence[ledger.LineInput],
                memo: str | None = None) -> EntryCheck:
    """Would `post_entry` accept this entry now? Never writes anything."""
    ctx.require("ledger.post")
    try:
        with ctx.db.write(ctx.actor.user_id) as s:
            result = ledger.post_in_session(s, ctx, entry_date, lines, memo,
                                            source_type=ledger.MANUAL_SOURCE,
                                            audit_action=None)
            raise _RollBack(result.total)
    except _RollBack as done:
        return EntryCheck(True, "", None, done.total)
    except UserError as exc:
        return EntryCheck(False, exc.message, exc.field, None)
