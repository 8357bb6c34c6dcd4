"""Change tracking: the outbox, written in the same transaction as the change.

Every flush that inserts, updates or tombstones a synced record (`__outbox__`)
appends one `OutboxEntry` per record with its entity, id, version and full new
state. A rolled-back transaction therefore leaves no outbox row, and sync reads
the outbox instead of diffing tables. The same hook enforces two invariants
for every use case: append-only records (`__immutable__`) are never updated,
and no synced record is hard-deleted (tombstones only).

Posting paths that write append-only rows nobody reads back as ORM objects
(journal lines, tax rows, audit events) use `insert_records`: one DB-API
executemany per table plus one for their outbox rows, with exactly the values
and payload a flush would have written. Outbox rows themselves always go out
that way (`_driver_insert`), never through the unit of work.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Index, String, Text, event, inspect
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import get_history

from erp_desktop.domain.ids import new_id
from erp_desktop.models.base import Base, UUIDType, utcnow


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


def _iso(value: datetime | date) -> str:
    return value.isoformat()


# Exact types seen on every flush, converted without walking the isinstance chain
# below; anything else (subclasses included) takes that chain, as before.
_FAST: dict[type, Any] = {uuid.UUID: str, datetime: _iso, date: _iso, Decimal: str}


def to_jsonable(value: Any) -> Any:
    kind = type(value)
    if value is None or kind is str or kind is int or kind is bool:
        return value
    fast = _FAST.get(kind)
    if fast is not None:
        return fast(value)
    if isinstance(value, (str, int, bool)):
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


# The payload encoder, built once (json.dumps with options builds one per call).
_payload_json = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode

_COLUMNS: dict[type, tuple[tuple[str, str], ...]] = {}


def _outbox_columns(cls: type) -> tuple[tuple[str, str], ...]:
    """(attribute, column name) of a mapped class's payload, computed once per class."""
    cols = _COLUMNS.get(cls)
    if cols is None:
        exclude = getattr(cls, "__outbox_exclude__", frozenset())
        cols = tuple((attr.key, attr.columns[0].name)
                     for attr in inspect(cls).column_attrs if attr.key not in exclude)
        _COLUMNS[cls] = cols
    return cols


def row_state(obj: Any) -> dict[str, Any]:
    """Column values of a mapped object, keyed by column name, JSON-ready."""
    loaded = obj.__dict__  # after a flush every written column is there; else load it
    return {name: to_jsonable(loaded[key] if key in loaded else getattr(obj, key))
            for key, name in _outbox_columns(type(obj))}


_INSERTS: dict[tuple[str, str], tuple[str, Any, tuple[tuple[int, Any], ...]]] = {}


def _uuid_processor(proc: Any) -> Any:
    # What UUIDType's processor returns for a UUID, without its two call layers.
    def process(value: Any) -> Any:
        return value.bytes if value.__class__ is uuid.UUID else proc(value)
    return process


def _driver_insert(session: Session, table: Any, rows: list[dict[str, Any]]) -> None:
    """INSERT `rows` (dicts keyed by column name) with one DB-API executemany.

    Each value goes through its column's own bind processor, so the table gets
    exactly what SQLAlchemy would have written; what is skipped is the
    per-statement and per-row machinery of the ORM and of Core compilation.
    """
    conn = session.connection()
    dialect = conn.dialect
    plan = _INSERTS.get((table.name, dialect.name))
    if plan is None:
        cols = tuple(table.columns)
        sql = (f"INSERT INTO {table.name} ({', '.join(c.name for c in cols)}) "
               f"VALUES ({', '.join('?' for _ in cols)})")
        procs = []
        for i, col in enumerate(cols):
            proc = col.type._cached_bind_processor(dialect)
            if proc is not None:
                procs.append((i, _uuid_processor(proc) if isinstance(col.type, UUIDType)
                              else proc))
        plan = (sql, itemgetter(*(c.name for c in cols)), tuple(procs))
        _INSERTS[(table.name, dialect.name)] = plan
    sql, values_of, procs = plan
    params = []
    for row in rows:
        values = list(values_of(row))
        for i, proc in procs:
            if values[i] is not None:
                values[i] = proc(values[i])
        params.append(tuple(values))
    conn.exec_driver_sql(sql, params)


def _write_outbox(session: Session, rows: list[dict[str, Any]]) -> None:
    _driver_insert(session, OutboxEntry.__table__, rows)


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
        # get_history, not inspect(obj).attrs: that builds a view of every attribute
        hist = get_history(obj, "deleted_at") if hasattr(obj, "deleted_at") else None
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
    now = utcnow()  # one instant for the whole flush
    _write_outbox(session, [{
        "id": new_id(), "created_at": now, "entity": type(obj).__tablename__,
        "entity_id": obj.id, "op": op, "version": getattr(obj, "version", None),
        "payload": _payload_json(row_state(obj)), "actor_id": actor_id,
    } for obj, op in pending])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("_outbox_pending", None)


def record_bulk(session: Session, entity: str, states: list[dict[str, Any]],
                op: str = "insert") -> None:
    """Outbox rows for records written in bulk with Core (imports), same transaction."""
    if not states:
        return
    actor_id = session.info.get("actor_id")
    _write_outbox(session, [{
        "id": new_id(), "created_at": utcnow(), "entity": entity,
        "entity_id": s["id"] if isinstance(s["id"], uuid.UUID) else uuid.UUID(str(s["id"])),
        "op": op, "version": s.get("version"),
        "payload": _payload_json(to_jsonable(s)),
        "actor_id": actor_id,
    } for s in states])


def insert_records(session: Session, *groups: tuple[type, list[dict[str, Any]]]) -> None:
    """Write new append-only rows (`Record`s, audit events), given as (class, rows) groups in
    insert order, with one executemany per table and one for all their outbox rows.

    For posting paths that never need the rows as ORM objects afterwards: the
    tables and the outbox get exactly what a flush of the same objects would
    write (`id`, `created_at` and `created_by` filled the same way, the same
    stored values, the same payload), at a fraction of the unit of work's cost.
    Every other column must be given: a missing one is a bug, not a default.
    """
    actor_id = session.info.get("actor_id")
    now = utcnow()
    outbox: list[dict[str, Any]] = []
    for cls, rows in groups:
        if not rows:
            continue
        if not getattr(cls, "__immutable__", False):
            raise TypeError(f"{cls.__name__} is not an append-only record")
        table = cls.__table__  # type: ignore[attr-defined]
        names = set(table.columns.keys())
        stamped = "created_at" in names
        for row in rows:
            if row.get("id") is None:
                row["id"] = new_id()
            if stamped:
                if row.get("created_at") is None:
                    row["created_at"] = now
                if row.get("created_by") is None:
                    row["created_by"] = actor_id
            if row.keys() != names:
                raise TypeError(f"{cls.__name__} rows need exactly the columns "
                                f"{sorted(names)}; got {sorted(row)}")
        _driver_insert(session, table, rows)
        if getattr(cls, "__outbox__", False):
            cols = _outbox_columns(cls)
            outbox += [{
                "id": new_id(), "created_at": now, "entity": table.name,
                "entity_id": row["id"], "op": "insert", "version": None,
                "payload": _payload_json({name: to_jsonable(row[name]) for _key, name in cols}),
                "actor_id": actor_id} for row in rows]
    if outbox:
        _write_outbox(session, outbox)
