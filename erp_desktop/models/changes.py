"""Change tracking: the outbox, written in the same transaction as the change.

Every flush that inserts, updates or tombstones a synced record (`__outbox__`)
appends one `OutboxEntry` per record with its entity, id, version and full new
state. A rolled-back transaction therefore leaves no outbox row, and sync reads
the outbox instead of diffing tables. The same hook enforces two invariants
for every use case: append-only records (`__immutable__`) are never updated,
and no synced record is hard-deleted (tombstones only).
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, String, Text, event, insert, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_desktop.domain.ids import new_id
from erp_desktop.models.base import Base, utcnow


class OutboxEntry(Base):
    __tablename__ = "outbox"
    __hard_delete__ = True  # rows leave once the cloud tenant has acknowledged them

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[uuid.UUID]
    op: Mapped[str] = mapped_column(String(8))  # insert | update | delete (tombstone)
    version: Mapped[int | None]
    payload: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[uuid.UUID | None]

    __table_args__ = (Index(None, "entity", "entity_id"),)


class ImmutableRecordError(RuntimeError):
    """A bug: code tried to change or delete an append-only record."""


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, bool)):
        return value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, float):
        raise TypeError("floats are never stored")
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return str(value)


def row_state(obj: Any) -> dict[str, Any]:
    """Column values of a mapped object, keyed by column name, JSON-ready."""
    mapper = inspect(obj).mapper
    exclude = getattr(type(obj), "__outbox_exclude__", frozenset())
    state: dict[str, Any] = {}
    for attr in mapper.column_attrs:
        col = attr.columns[0]
        if attr.key in exclude:
            continue
        state[col.name] = to_jsonable(getattr(obj, attr.key))
    return state


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    actor_id = session.info.get("actor_id")
    for obj in session.deleted:
        cls = type(obj)
        if getattr(cls, "__outbox__", False) and not getattr(cls, "__hard_delete__", False):
            raise ImmutableRecordError(
                f"{cls.__name__} rows are never deleted; set deleted_at (tombstone) or reverse it")
    pending: list[tuple[Any, str]] = session.info.setdefault("_outbox_pending", [])
    for obj in session.new:
        if getattr(type(obj), "__outbox__", False):
            if hasattr(obj, "created_by") and obj.created_by is None:
                obj.created_by = actor_id
            if hasattr(obj, "updated_by") and obj.updated_by is None:
                obj.updated_by = actor_id
            pending.append((obj, "insert"))
    for obj in session.dirty:
        cls = type(obj)
        if not session.is_modified(obj):
            continue
        if getattr(cls, "__immutable__", False):
            raise ImmutableRecordError(
                f"{cls.__name__} is append-only; correct it with a reversing record")
        if not getattr(cls, "__outbox__", False):
            continue
        hist = inspect(obj).attrs.deleted_at.history if hasattr(obj, "deleted_at") else None
        op = "delete" if hist is not None and hist.added and hist.added[0] is not None else "update"
        if hasattr(obj, "updated_by"):
            obj.updated_by = actor_id
        pending.append((obj, op))


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, flush_context: Any) -> None:
    pending = session.info.pop("_outbox_pending", [])
    if not pending:
        return
    actor_id = session.info.get("actor_id")
    rows = []
    for obj, op in pending:
        state = row_state(obj)
        rows.append({
            "id": new_id(), "created_at": utcnow(), "entity": type(obj).__tablename__,
            "entity_id": obj.id, "op": op, "version": getattr(obj, "version", None),
            "payload": json.dumps(state, sort_keys=True, separators=(",", ":")),
            "actor_id": actor_id,
        })
    session.execute(insert(OutboxEntry), rows)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("_outbox_pending", None)


def record_bulk(session: Session, entity: str, states: list[dict[str, Any]],
                op: str = "insert") -> None:
    """Outbox rows for records written in bulk with Core (imports), same transaction."""
    if not states:
        return
    actor_id = session.info.get("actor_id")
    session.execute(insert(OutboxEntry), [{
        "id": new_id(), "created_at": utcnow(), "entity": entity,
        "entity_id": s["id"] if isinstance(s["id"], uuid.UUID) else uuid.UUID(str(s["id"])),
        "op": op, "version": s.get("version"),
        "payload": json.dumps(to_jsonable(s), sort_keys=True, separators=(",", ":")),
        "actor_id": actor_id,
    } for s in states])
