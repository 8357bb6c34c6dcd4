"""The audit trail: append-only, hash-chained security events.

Each row's `hash` is SHA-256 over the previous row's hash and this row's
canonical content, so an edited, deleted or reordered row breaks the chain
(`services.audit.verify_chain`). Triggers refuse UPDATE and DELETE.
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


AUDIT_TRIGGERS = [
    "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
    "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END",
]
Base.metadata.info.setdefault("extra_ddl", []).extend(AUDIT_TRIGGERS)
