"""Admin read-outs: what a company file holds, and the tail of its audit log.

`company_info` answers "which file is this and is it healthy" without any
secret: the profile, schema revision, size on disk, number of users, the audit
chain's head hash (what sync anchors on the server), and whether this computer
remembers the login. `latest_audit_events` is the tail of the audit log, and
`journal_entry_id` finds an entry by the number people quote.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from erp_desktop.domain.errors import NotFound, ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.ledger import JournalEntry
from erp_desktop.models.security import User
from erp_desktop.services import audit, auth
from erp_desktop.services.company import CompanyProfile, get_profile
from erp_desktop.services.context import Context
from erp_desktop.store import migrate
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.keychain import Keychain


@dataclass(frozen=True)
class CompanyInfo:
    path: Path
    profile: CompanyProfile
    schema_revision: str | None
    latest_schema_revision: str
    file_bytes: int  # database, write-ahead log and key file together
    user_count: int  # live (not deleted) users, active or disabled
    active_user_count: int
    audit_events: int
    audit_head_hash: str
    remembered_on_this_computer: bool


def company_info(ctx: Context, keychain: Keychain | None = None) -> CompanyInfo:
    """The company file at a glance (see module docstring); no secrets."""
    profile = get_profile(ctx)  # requires company.view
    size = sum(p.stat().st_size for p in sidecar_paths(ctx.path) if p.exists())
    with ctx.db.read() as s:
        users = s.execute(select(func.count(), func.count().filter(User.active.is_(True)))
                          .where(User.deleted_at.is_(None))).one()
        head = s.execute(select(AuditEvent.hash).order_by(AuditEvent.seq.desc())
                         .limit(1)).scalar()
        events = audit.event_count(s)
    remembered = keychain is not None and auth.remembered_login(
        ctx.path, ctx.actor.login_name, keychain, ctx.config)
    return CompanyInfo(path=ctx.path, profile=profile,
                       schema_revision=migrate.current_revision(ctx.db.engine),
                       latest_schema_revision=migrate.head_revision(), file_bytes=size,
                       user_count=int(users[0] or 0), active_user_count=int(users[1] or 0),
                       audit_events=events, audit_head_hash=head or audit.GENESIS,
                       remembered_on_this_computer=remembered)


def latest_audit_events(ctx: Context, limit: int = 50) -> list[audit.AuditEventRow]:
    """The newest `limit` audit events, in chain order (oldest of them first)."""
    ctx.require("audit.view")
    if limit < 1:
        raise ValidationError("Show at least one event.", field="limit")
    with ctx.db.read() as s:
        head = s.scalar(select(func.max(AuditEvent.seq))) or 0
    return audit.list_events(ctx, after_seq=max(0, head - limit), limit=limit)


def journal_entry_id(ctx: Context, number: str) -> uuid.UUID:
    """The id of the journal entry with the legal number `number` (e.g. JV/2026-27/A/000012)."""
    ctx.require("ledger.view")
    text = (number or "").strip()
    with ctx.db.read() as s:
        found = s.scalar(select(JournalEntry.id).where(JournalEntry.number == text))
    if found is None:
        raise NotFound(f"There is no journal entry numbered '{text}'.", field="number")
    return found
