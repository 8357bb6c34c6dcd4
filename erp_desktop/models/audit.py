"""The audit trail: append-only, hash-chained security events.

Each row's `hash` is SHA-256 over the previous row's hash and this row's
canonical content, so an edited, deleted or reordered row breaks the chain
(`services.audit.verify_chain`). Triggers refuse UPDATE and DELETE.

Retention (`services.retention`) is the one controlled way to delete events:
inside its transaction it writes the highest `seq` it may delete into the
one-row `audit_purge_guard`, deletes that prefix of the chain, records where
the chain now starts in `audit_anchor` (append-only too) and empties the guard
again. Without a guard row the delete trigger refuses, as before.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.domain.ids import new_id
from erp_desktop.models.base import Base, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __immutable__ = True

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    id: Mapped[uuid.UUID] = mapped_column(unique=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str | None] = mapped_column(String(64))
    device_code: Mapped[str | None] = mapped_column(String(4))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str | None] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[str] = mapped_column(Text, default="{}")  # JSON, never personal data
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index(None, "at"), Index(None, "action"))


class AuditAnchor(Base):
    """Where the chain starts after a retention purge: the last purged event's seq and hash.

    `services.audit.verify` starts from the newest anchor; each purge also
    records its anchor in an audit event, so an anchor slipped in by hand is
    not confirmed by the chain.
    """

    __tablename__ = "audit_anchor"
    __immutable__ = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    through_seq: Mapped[int] = mapped_column(unique=True)
    through_hash: Mapped[str] = mapped_column(String(64))
    purged_events: Mapped[int]


class AuditPurgeGuard(Base):
    """Set (one row) only inside a retention purge's transaction; see module docstring."""

    __tablename__ = "audit_purge_guard"
    __hard_delete__ = True

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    through_seq: Mapped[int]


AUDIT_TRIGGERS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    # A delete passes only for the prefix a retention purge has opened in its guard row.
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "WHEN NOT EXISTS (SELECT 1 FROM audit_purge_guard WHERE OLD.seq <= through_seq) "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_anchor_no_update BEFORE UPDATE ON audit_anchor "
    "BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END",
    "CREATE TRIGGER audit_anchor_no_delete BEFORE DELETE ON audit_anchor "
    "BEGIN SELECT RAISE(ABORT, 'audit anchors are append-only'); END",
]
Base.metadata.info.setdefault("extra_ddl", []).extend(AUDIT_TRIGGERS)
