"""Change tracking: the outbox, written in the same transaction as the change.

Every flush that inserts, updates or tombstones a synced record (`__outbox__`)
appends one `OutboxEntry` per record with its entity, id, version and full new
state. A rolled-back transaction therefore leaves no outbox row, and sync reads
the outbox instead of diffing tables. The same hook enforces two invariants
for every use case: append-only records (`__immutable__`) are never updated,
and no synced record is hard-deleted (tombstones only).

Posting paths that write append-only rows nobody reads back as ORM objects
(journal lines, tax rows, stock moves, audit events) use `insert_records`: one
DB-API executemany per table plus one for their outbox rows, with exactly the
values and payload a flush would have written. Outbox rows themselves always
go out that way (`_driver_insert`), never through the unit of work.

Inside `deferred_records(session)` (the issuing paths, docs/decisions/0031)
`insert_records` keeps the rows in memory instead, like the unit of work
keeps pending objects, and writes them all, one executemany per table, before
anything could need them: before any ORM query or flush of the session, at
commit, and when the block ends. A rollback forgets them. Entity rows the
caller holds as plain dicts (a batch of issued drafts) are written with
`update_entities`: the same versioned UPDATEs and outbox rows as a flush.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    inspect,
    select,
    type_coerce,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, SessionTransaction, mapped_column
from sqlalchemy.orm.attributes import get_history
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.sql.util import find_tables

from erp_desktop.domain.ids import new_id, uuid_from_int
from erp_desktop.models.base import Base, QuantityType, UTCDateTime, UUIDType, utcnow


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

    # entity_id alone (0002): UUIDv7 ids are unique across tables and time-ordered, so
    # every new entry lands at the right edge of this index (docs/decisions/0031)
    __table_args__ = (Index(None, "entity_id"),)


_UNSET: Any = object()


class ReferenceEpoch(Base):
    """One row whose `n` triggers raise on every change of a reference table (0002).

    `models.database.reference_cache` keeps what the posting paths read from those
    tables across transactions while `n` stays the same (docs/decisions/0031).
    Local to this file, never synced: every device counts its own changes.
    """

    __tablename__ = "reference_epoch"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(BigInteger)


# The tables whose every change raises the epoch (migration 0002 has the same list).
REFERENCE_TABLES = frozenset({"company", "setting", "tax_rate", "tax_component", "tax_category",
                              "tax_category_rate", "unit_of_measure", "account", "warehouse",
                              "price_list"})
Base.metadata.info.setdefault("extra_ddl", []).extend(
    [f"CREATE TRIGGER reference_epoch_{table}_{op.lower()} AFTER {op} ON {table} "
     "BEGIN UPDATE reference_epoch SET n = n + 1; END"
     for table in sorted(REFERENCE_TABLES) for op in ("INSERT", "UPDATE", "DELETE")])


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


# The payload text, written directly: exactly what `_payload_json` makes of the
# `to_jsonable` state (keys sorted, compact separators, ASCII escapes), without
# building that dict first. Values of these exact types become their JSON text
# at once; any other value takes `_payload_json(to_jsonable(value))`.
def _json_quoted(value: Any) -> str:
    return f'"{value}"'  # UUIDs and Decimals: ASCII that JSON never escapes


def _json_iso(value: Any) -> str:
    return f'"{value.isoformat()}"'


_JSON_TEXT: dict[type, Any] = {
    str: encode_basestring_ascii, int: int.__repr__, bool: lambda v: "true" if v else "false",
    type(None): lambda v: "null", uuid.UUID: _json_quoted, Decimal: _json_quoted,
    datetime: _json_iso, date: _json_iso,
}
_KEYS: dict[type, tuple[tuple[str, str, str], ...]] = {}


def _payload_keys(cls: type) -> tuple[tuple[str, str, str], ...]:
    """(attribute, column name, '"name":') of the payload columns, in key order."""
    keys = _KEYS.get(cls)
    if keys is None:
        keys = tuple((key, name, encode_basestring_ascii(name) + ":")
                     for key, name in sorted(_outbox_columns(cls), key=lambda kn: kn[1]))
        _KEYS[cls] = keys
    return keys


def _json_value(value: Any) -> str:
    text = _JSON_TEXT.get(value.__class__)
    return text(value) if text is not None else _payload_json(to_jsonable(value))  # type: ignore[no-any-return]


_UUID_JSON: dict[int, str] = {}


def _uuid_json(value: uuid.UUID) -> str:
    """'"<uuid>"', remembered: the same ids come back in row after row (the document,
    the actor, accounts, products). Keyed by the UUID's int, whose hash and equality
    are the interpreter's own (a UUID's are Python methods)."""
    key = value.int
    text = _UUID_JSON.get(key)
    if text is None:
        if len(_UUID_JSON) > 4096:
            _UUID_JSON.clear()
        text = _UUID_JSON[key] = f'"{value}"'
    return text


def _payload_writer(cls: type, by_attribute: bool) -> Any:
    """A function writing the payload of `cls` rows, made once per class: one expression
    per column, the exact types expected there turned into JSON text in line and
    anything else (another type, a subclass) through `_json_value`."""
    lines = []
    for i, (key, name, head) in enumerate(_payload_keys(cls)):
        col = inspect(cls).column_attrs[key].columns[0]
        get = f"obj.get({key!r}, _U)" if by_attribute else f"row[{name!r}]"
        kind = col.type
        if isinstance(kind, UUIDType):
            fast = "_UT(v) if v.__class__ is _UUID"
        elif isinstance(kind, (UTCDateTime, DateTime, Date)):
            fast = "f'\"{v.isoformat()}\"' if v.__class__ is _DT or v.__class__ is _D"
        elif isinstance(kind, QuantityType):
            fast = "f'\"{v}\"' if v.__class__ is _DEC"
        elif isinstance(kind, Boolean):
            fast = "('true' if v else 'false') if v.__class__ is bool"
        elif isinstance(kind, Integer):  # BigInteger too
            fast = "_INT(v) if v.__class__ is int"
        elif isinstance(kind, (String, Text)):
            fast = "_STR(v) if v.__class__ is str"
        else:
            fast = "_J(v) if False"
        lines.append(f"    v = {get}")
        if by_attribute:
            lines.append(f"    if v is _U: v = getattr(source, {key!r})")
        lines.append(f"    p{i} = {head!r} + ('null' if v is None else {fast} else _J(v))")
    parts = " + ',' + ".join(f"p{i}" for i in range(len(_payload_keys(cls))))
    arg = "source" if by_attribute else "row"
    body = [f"def payload({arg}):"]
    if by_attribute:
        body.append("    obj = source.__dict__")
    body += lines
    body.append(f"    return '{{' + {parts or repr('')} + '}}'")
    scope = {"_U": _UNSET, "_UUID": uuid.UUID, "_UT": _uuid_json, "_DT": datetime, "_D": date,
             "_DEC": Decimal,
             "_INT": int.__repr__, "_STR": encode_basestring_ascii, "_J": _json_value}
    exec("\n".join(body), scope)  # noqa: S102  (our own code, built from the mapping)
    return scope["payload"]


_WRITERS: dict[tuple[type, bool], Any] = {}


def row_payload(cls: type, row: Mapping[str, Any]) -> str:
    """The outbox payload of a row given by column name (`insert_records`, plain rows)."""
    writer = _WRITERS.get((cls, False))
    if writer is None:
        writer = _WRITERS[(cls, False)] = _payload_writer(cls, False)
    return writer(row)  # type: ignore[no-any-return]


def object_payload(obj: Any) -> str:
    """The outbox payload of a mapped object (the flush hook): `row_state`, as text."""
    cls = type(obj)
    writer = _WRITERS.get((cls, True))
    if writer is None:
        writer = _WRITERS[(cls, True)] = _payload_writer(cls, True)
    return writer(obj)  # type: ignore[no-any-return]


_INSERTS: dict[tuple[str, str], tuple[str, Any]] = {}


def _uuid_processor(proc: Any) -> Any:
    # What UUIDType's processor returns for a UUID, without its two call layers.
    def process(value: Any) -> Any:
        # (UUID.bytes is this, behind a Python-level property)
        return value.int.to_bytes(16, "big") if value.__class__ is uuid.UUID else proc(value)
    return process


def _remember_last(proc: Any) -> Any:
    # Rows written together share values (the `created_at` of a whole insert, the
    # actor): the same immutable object gives the same stored value, so it is
    # converted once. Only identity is trusted, never equality.
    # One (value, stored) pair, replaced in one step: threads share the plan.
    last: list[tuple[Any, Any]] = [(_UNSET, None)]

    def process(value: Any) -> Any:
        seen = last[0]
        if value is seen[0]:
            return seen[1]
        out = proc(value)
        last[0] = (value, out)
        return out
    return process


def _bind_processor(col: Any, dialect: Any) -> Any:
    """The column's own bind processor (None: values go to the driver as they are)."""
    proc = col.type._cached_bind_processor(dialect)
    if proc is None:
        return None
    if isinstance(col.type, UUIDType):
        return _uuid_processor(proc)
    return _remember_last(proc)


def _binder(names: Sequence[str], procs: dict[str, Any]) -> Any:
    """A function turning a row (dict by column name) into the driver's parameter tuple:
    each value through its column's bind processor (`procs`; None is bound as is),
    written out once per statement instead of looped over for every row."""
    parts = []
    scope: dict[str, Any] = {}
    for i, name in enumerate(names):
        if name in procs:
            scope[f"p{i}"] = procs[name]
            parts.append(f"(None if (v{i} := row[{name!r}]) is None else p{i}(v{i}))")
        else:
            parts.append(f"row[{name!r}]")
    exec(f"def bind(row):\n    return ({', '.join(parts)},)", scope)  # noqa: S102
    return scope["bind"]


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
        procs = {c.name: p for c in cols if (p := _bind_processor(c, dialect)) is not None}
        plan = (sql, _binder([c.name for c in cols], procs))
        _INSERTS[(table.name, dialect.name)] = plan
    sql, bind = plan
    conn.exec_driver_sql(sql, [bind(row) for row in rows])


def _write_outbox(session: Session, rows: list[dict[str, Any]]) -> None:
    _driver_insert(session, OutboxEntry.__table__, rows)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: Any, instances: Any) -> None:
    if _PENDING in session.info or _CHECKS in session.info:
        write_records(session)  # deferred rows go first: ORM rows may refer to them
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
        "payload": object_payload(obj), "actor_id": actor_id,
    } for obj, op in pending])


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop("_outbox_pending", None)
    session.info.pop(_PENDING, None)  # deferred rows go with the transaction
    session.info.pop(_CHECKS, None)


# --------------------------------------------------------------------------- deferred rows

_DEFER = "_records_defer"  # session.info: depth of deferred_records blocks
_PENDING = "_records_pending"  # session.info: {table: (cls, [rows])} in first-seen order
_OUTBOX = "outbox"  # the pending outbox rows, written after every other table


@contextmanager
def deferred_records(session: Session) -> Iterator[None]:
    """Within the block, `insert_records` keeps rows in memory until something could
    need them (see the module docstring); when the block ends they are written.

    Not inside a savepoint (rows would outlive its rollback): there, and while a
    savepoint is open, rows are written at once as usual.
    """
    info = session.info
    info[_DEFER] = info.get(_DEFER, 0) + 1
    try:
        yield
        # Reached only when the block ends normally; after an error the rows stay pending
        # like the unit of work's objects: written at commit, forgotten by a rollback.
        # Written while still deferring, so that what the checks write joins them.
        write_records(session)
    finally:
        info[_DEFER] -= 1
        if not info[_DEFER]:
            del info[_DEFER]


def deferring(session: Session) -> bool:
    """True inside `deferred_records` (and not in a savepoint): rows are kept, not written."""
    return _DEFER in session.info and not session.in_nested_transaction()


def pending_records(session: Session, cls: type) -> list[dict[str, Any]]:
    """The rows of `cls` this session holds deferred (not yet in the table)."""
    group = session.info.get(_PENDING, {}).get(cls.__tablename__)  # type: ignore[attr-defined]
    return group[1] if group else []


_ORDER: dict[str, int] = {}


def _table_order(name: str) -> int:
    """Where a table comes in the schema's dependency order (parents first)."""
    if name not in _ORDER:  # first use, or a model module imported since
        _ORDER.update((t.name, i) for i, t in enumerate(Base.metadata.sorted_tables))
    return _ORDER[name]


_CHECKS = "_records_checks"  # session.info: {key: (check, tables)} to run before rows go
_WRITING = "_records_writing"  # session.info: write_records is running


def check_before_write(session: Session, key: str, check: Any,
                       tables: tuple[str, ...] = ()) -> None:
    """Run `check(session)` before this session's deferred rows are next written (once,
    whatever the number of times it was asked for under `key`).

    A posting path that would otherwise query the table for every deferred row
    (is this number free?) asks once for all of them: an error raised fails the
    write, and so the use case, like the query would have. A path that keeps
    changed rows of `tables` in memory (plain rows: a number series, stock
    balances) writes them here; an ORM statement naming one of those tables
    runs it first, as it writes the deferred rows of a table it names.
    """
    session.info.setdefault(_CHECKS, {})[key] = (check, tables)


def pending_check(session: Session, key: str) -> Any:
    """The check registered under `key` and not run yet, or None."""
    found = session.info.get(_CHECKS, {}).get(key)
    return found[0] if found else None


def write_records(session: Session) -> None:
    """Write the session's deferred rows now: first what the checks registered with
    `check_before_write` write, then one executemany per table, parents before the
    tables whose foreign keys point at them, outbox last."""
    info = session.info
    if info.get(_WRITING):
        return  # a check writing rows of its own: they go out with this write
    info[_WRITING] = True
    try:
        while _CHECKS in info:  # a check may register another (rows it writes are checked)
            for check, _tables in info.pop(_CHECKS).values():
                check(session)
        pending = info.pop(_PENDING, None)
        if not pending:
            return
        outbox = pending.pop(_OUTBOX, None)
        for name in sorted(pending, key=_table_order):
            cls, rows = pending[name]
            _driver_insert(session, cls.__table__, rows)
        if outbox:
            _write_outbox(session, outbox[1])
    finally:
        del info[_WRITING]


@event.listens_for(Session, "do_orm_execute")
def _before_orm_statement(state: ORMExecuteState) -> None:
    # An ORM statement that names a table with deferred rows (or no table we can see:
    # text) must find them there: write them first. Others (the number series, the
    # audit chain head) leave them pending, so a sale writes its rows once.
    info = state.session.info
    pending = info.get(_PENDING)
    checks = info.get(_CHECKS)
    if not pending and not checks:
        return
    tables = {t.name for t in find_tables(state.statement, include_joins=True,
                                          include_aliases=True, include_crud=True)}
    if not tables or (pending and not tables.isdisjoint(pending)) or (checks and any(
            not tables.isdisjoint(held) for _check, held in checks.values())):
        write_records(state.session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if _PENDING in session.info or _CHECKS in session.info:
        write_records(session)


@event.listens_for(Session, "after_transaction_create")
def _no_savepoint_over_deferred(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested and (session.info.get(_PENDING) or session.info.get(_CHECKS)):
        # Its SAVEPOINT would come before rows deferred outside it; write them first
        # (write_records) before opening one. A bug, not a user error.
        raise RuntimeError("deferred records are pending: write them before a savepoint")


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


_NAMES: dict[str, frozenset[str]] = {}

# Outbox rows name their table with str(table.name): Table.name is a str subclass, which
# the driver adapts value by value (looking for __conform__) instead of binding it as is.


def insert_records(session: Session, *groups: tuple[type, list[dict[str, Any]]]) -> None:
    """Write new append-only rows (`Record`s, audit events), given as (class, rows) groups in
    insert order, with one executemany per table and one for all their outbox rows.

    For posting paths that never need the rows as ORM objects afterwards: the
    tables and the outbox get exactly what a flush of the same objects would
    write (`id`, `created_at` and `created_by` filled the same way, the same
    stored values, the same payload), at a fraction of the unit of work's cost.
    Every other column must be given: a missing one is a bug, not a default.
    Inside `deferred_records` the rows are kept and written later (module docstring).
    """
    actor_id = session.info.get("actor_id")
    now = utcnow()
    defer = deferring(session)
    if not defer:
        write_records(session)  # rows deferred earlier keep their place before these
    pending: dict[str, Any] = session.info.setdefault(_PENDING, {}) if defer else {}
    outbox: list[dict[str, Any]] = []
    for cls, rows in groups:
        if not rows:
            continue
        if not getattr(cls, "__immutable__", False):
            raise TypeError(f"{cls.__name__} is not an append-only record")
        table = cls.__table__  # type: ignore[attr-defined]
        names = _NAMES.get(table.name)
        if names is None:
            names = _NAMES[table.name] = frozenset(table.columns.keys())
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
        if defer:
            pending.setdefault(table.name, (cls, []))[1].extend(rows)
        else:
            _driver_insert(session, table, rows)
        if getattr(cls, "__outbox__", False):
            outbox += [{
                "id": new_id(), "created_at": now, "entity": str(table.name),
                "entity_id": row["id"], "op": "insert", "version": None,
                "payload": row_payload(cls, row), "actor_id": actor_id} for row in rows]
    if outbox:
        if defer:
            pending.setdefault(_OUTBOX, (OutboxEntry, []))[1].extend(outbox)
        else:
            _write_outbox(session, outbox)
    elif defer and not pending:
        del session.info[_PENDING]


def _column_default(col: Any) -> Any:
    """What the unit of work would insert for a column the object leaves unset."""
    default = col.default
    if default is None:
        return None
    if default.is_scalar:
        return default.arg
    if default.is_callable:
        return default.arg(None)  # SQLAlchemy's wrapper of a plain function takes a context
    raise TypeError(f"{col} has a default insert_new cannot compute")


def insert_new(session: Session, objects: Sequence[Any]) -> None:
    """Write new mapped objects that were never added to the session, as a flush would.

    For a posting path that builds a document as ORM objects, or as plain objects
    whose class names the mapped class in `__entity__` (their attributes by the
    same names), and writes it once, complete (a counter sale: the invoice, its
    lines, the payment). Unset columns
    get their defaults; append-only records go through `insert_records`; entities
    get `created_at`/`updated_at` now, `updated_by` the actor and version 1, and one
    outbox "insert" row each with the full state. The values written are set on
    the objects, which stay out of the session (nothing flushes them again).
    Deferred like `insert_records` inside `deferred_records`.
    """
    actor_id = session.info.get("actor_id")
    now = utcnow()
    groups: dict[type, list[tuple[Any, dict[str, Any]]]] = {}
    for obj in objects:
        # a plain object standing for a row of a mapped class names it in __entity__
        cls = getattr(type(obj), "__entity__", None) or type(obj)
        groups.setdefault(cls, []).append((obj, {}))
    entity_outbox: list[dict[str, Any]] = []
    for cls, items in groups.items():
        mapper = inspect(cls)
        attrs = [(attr.key, attr.columns[0]) for attr in mapper.column_attrs]
        immutable = getattr(cls, "__immutable__", False)
        entity = not immutable and mapper.version_id_col is not None
        for obj, row in items:
            loaded = obj.__dict__
            for key, col in attrs:
                value = loaded[key] if key in loaded else _UNSET
                if value is _UNSET or (value is None and col.default is not None
                                       and not col.default.is_scalar and not immutable):
                    # unset, or a blank plain row's None where a default is made now
                    value = None if immutable and key in ("id", "created_at", "created_by") \
                        else _column_default(col)
                row[col.name] = value
            if entity:
                row["created_at"] = row["created_at"] or now
                row["updated_at"] = now
                if row.get("updated_by") is None:
                    row["updated_by"] = actor_id
                row["version"] = 1
        rows = [row for _obj, row in items]
        if immutable:
            insert_records(session, (cls, rows))
        else:
            table = cls.__table__  # type: ignore[attr-defined]
            if deferring(session):
                pending = session.info.setdefault(_PENDING, {})
                pending.setdefault(table.name, (cls, []))[1].extend(rows)
            else:
                write_records(session)  # earlier deferred rows first
                _driver_insert(session, table, rows)
            if getattr(cls, "__outbox__", False):
                if not entity:
                    raise TypeError(f"{cls.__name__}: synced rows are entities or records")
                entity_outbox += [{
                    "id": new_id(), "created_at": now, "entity": str(table.name),
                    "entity_id": row["id"], "op": "insert", "version": 1,
                    "payload": row_payload(cls, row), "actor_id": actor_id} for row in rows]
        for obj, row in items:  # the object now holds what was written
            for key, col in attrs:
                if obj.__dict__.get(key, _UNSET) is not row[col.name]:
                    setattr(obj, key, row[col.name])
    if entity_outbox:
        if deferring(session):
            session.info.setdefault(_PENDING, {}).setdefault(_OUTBOX, (OutboxEntry, []))[1] \
                .extend(entity_outbox)
        else:
            _write_outbox(session, entity_outbox)

class PlainRow:
    """A row of a mapped table held as a plain object, by the issuing paths (0031).

    Its attributes are the mapped class's (`__entity__`), so the code that reads
    and changes ORM objects (an invoice being issued, a number series, a stock
    balance) works on it unchanged, at a fraction of the cost: no
    instrumentation, no identity map, no unit of work. It is never in the
    session; `write_plain` writes it with exactly the INSERT, versioned UPDATE
    and outbox row a flush of the ORM object would write. Subclass it per
    mapped class (`plain_class` makes one).
    """

    __entity__: ClassVar[Any] = None

    def __init__(self, values: Any) -> None:
        loaded = dict(values)
        self.__dict__.update(loaded)
        self._loaded: dict[str, Any] | None = loaded

    @classmethod
    def blank(cls, **values: Any) -> Any:
        """A new row: every column at its scalar default (None where the default is made
        when it is written: ids, timestamps), then `values`."""
        defaults = _BLANKS.get(cls.__entity__)
        if defaults is None:
            defaults = {}
            for attr in inspect(cls.__entity__).column_attrs:
                default = attr.columns[0].default
                defaults[attr.key] = default.arg if default is not None and \
                    default.is_scalar else None
            _BLANKS[cls.__entity__] = defaults
        row = cls.__new__(cls)
        row.__dict__.update(defaults)
        row.__dict__.update(values)
        row._loaded = None  # not in the table yet
        return row

    @classmethod
    def read(cls, session: Session, where: Any, params: dict[str, Any] | None = None,
             order_by: Any = None) -> list[Any]:
        """Rows of the table, as plain rows, through the session's connection (no ORM
        statement: deferred rows are not written for it; callers read rows that none
        of them concern, or keep their own in memory)."""
        plan = _READS.get((cls, where, order_by))
        if plan is None:
            attrs = inspect(cls.__entity__).column_attrs
            cols = [attr.columns[0] for attr in attrs]
            # UUID columns come as their 16 bytes and become UUIDs here (`_uuid_of`)
            stmt = select(*[type_coerce(c, LargeBinary) if isinstance(c.type, UUIDType) else c
                            for c in cols]).where(where)
            if order_by is not None:
                stmt = stmt.order_by(*order_by)
            uuids = tuple(i for i, c in enumerate(cols) if isinstance(c.type, UUIDType))
            plan = _READS[(cls, where, order_by)] = (stmt, [a.key for a in attrs], uuids)
        stmt, keys, uuids = plan
        out = []
        for row in session.connection().execute(stmt, params or {}):
            values = list(row)
            for i in uuids:
                if values[i] is not None:
                    values[i] = _uuid_of(values[i])
            out.append(cls(zip(keys, values, strict=True)))
        return out

    def pending_change(self) -> tuple[dict[str, Any] | None, dict[str, Any]]:
        """(as read or last written, or None when new; as it is now), by column."""
        keys = self._loaded if self._loaded is not None else _BLANKS[self.__entity__]
        state = self.__dict__
        return self._loaded, {k: state[k] for k in keys}


_BLANKS: dict[Any, dict[str, Any]] = {}
_READS: dict[Any, Any] = {}


def _uuid_of(raw: bytes) -> uuid.UUID:
    """uuid.UUID(bytes=raw) without its argument checks (a 16-byte value read from a
    UUID column needs none)."""
    return uuid_from_int(int.from_bytes(raw, "big"))

_PLAIN_CLASSES: dict[Any, type[PlainRow]] = {}


def plain_class(entity: type) -> type[PlainRow]:
    """The PlainRow subclass of a mapped class (made once)."""
    cls = _PLAIN_CLASSES.get(entity)
    if cls is None:
        if any(a.key != a.columns[0].name for a in inspect(entity).column_attrs):
            raise TypeError(f"{entity.__name__}: plain rows need attributes named as columns")
        cls = type(f"Plain{entity.__name__}", (PlainRow,), {"__entity__": entity})
        _PLAIN_CLASSES[entity] = cls
    return cls


def write_plain(session: Session, rows: Sequence[PlainRow]) -> None:
    """Write plain rows that are new or changed since they were read or last written, as
    a flush of the same ORM objects would: new ones with `insert_new`, versioned
    entities with `update_entities`, other tables (stock balances: no version,
    not synced) with an UPDATE by primary key of the changed columns and the
    `onupdate` ones. Afterwards each row's next change starts from what was written."""
    new = [r for r in rows if r._loaded is None]
    if new:
        insert_new(session, new)
        for r in new:
            r._loaded = dict(r.pending_change()[1])
    by_entity: dict[Any, list[PlainRow]] = {}
    fresh = {id(r) for r in new}
    for r in rows:
        if id(r) not in fresh:
            by_entity.setdefault(r.__entity__, []).append(r)
    for entity, group in by_entity.items():
        changes = [r.pending_change() for r in group]
        if inspect(entity).version_id_col is not None:
            update_entities(session, entity, changes)  # type: ignore[arg-type]
        else:
            _update_by_key(session, entity, changes)  # type: ignore[arg-type]
        for r, (_loaded, current) in zip(group, changes, strict=True):
            r.__dict__.update(current)
            r._loaded = current


def _update_by_key(session: Session, cls: Any,
                   changes: Sequence[tuple[Mapping[str, Any], dict[str, Any]]]) -> None:
    """UPDATE changed rows of an unversioned, unsynced table by primary key."""
    if getattr(cls, "__outbox__", False):
        raise TypeError(f"{cls.__name__} is synced: write it as an entity")
    table = cls.__table__
    keys = [c.name for c in table.primary_key.columns]
    stamped = {c.name for c in table.columns if c.onupdate is not None}
    now = utcnow()
    groups: dict[frozenset[str], list[dict[str, Any]]] = {}
    for loaded, current in changes:
        changed = frozenset(k for k, v in current.items()
                            if k in loaded and k not in keys and v != loaded[k])
        if changed:
            for name in stamped:
                current[name] = now
            groups.setdefault(changed | stamped, []).append(current)
    if not groups:
        return
    conn = session.connection()
    dialect = conn.dialect
    for cols, rows in groups.items():
        plan = _UPDATES.get((table.name, dialect.name, cols))
        if plan is None:
            names = [*sorted(cols), *keys]
            sql = (f"UPDATE {table.name} SET {', '.join(f'{n} = ?' for n in sorted(cols))} "
                   f"WHERE {' AND '.join(f'{k} = ?' for k in keys)}")
            procs = {n: p for n in names if (p := _bind_processor(table.c[n], dialect))}
            plan = _UPDATES[(table.name, dialect.name, cols)] = (sql, _binder(names, procs))
        sql, bind = plan
        params = [bind(row) for row in rows]
        result = conn.exec_driver_sql(sql, params)
        if result.rowcount != len(params):
            raise StaleDataError(f"UPDATE statement on table '{table.name}' expected to update "
                                 f"{len(params)} row(s); {result.rowcount} were matched.")


_UPDATES: dict[tuple[str, str, frozenset[str]], tuple[str, Any]] = {}


def update_entities(session: Session, cls: type,
                    changes: Sequence[tuple[Mapping[str, Any], dict[str, Any]]]) -> int:
    """Write changed `Entity` rows the caller holds as plain dicts, as a flush would.

    `changes` are (loaded, current) pairs keyed by column name: the row as it was
    read in this transaction and as it is to be. Columns whose value differs are
    written with `updated_at`, `updated_by` and `version` stamped onto `current`
    exactly as the unit of work stamps them (version + 1, `WHERE id = ? AND
    version = <loaded version>`; a row changed meanwhile raises StaleDataError,
    as the ORM does), one executemany per set of changed columns, and one outbox
    row per changed row with its full new state ("delete" for a tombstone).
    Unchanged rows write nothing. Returns how many rows were written.
    """
    table = cls.__table__  # type: ignore[attr-defined]
    actor_id = session.info.get("actor_id")
    now = utcnow()
    groups: dict[frozenset[str], list[tuple[Mapping[str, Any], dict[str, Any]]]] = {}
    for loaded, current in changes:
        changed = frozenset(k for k, v in current.items()
                            if k in loaded and k not in ("id", "version") and v != loaded[k])
        if not changed:
            continue
        current["updated_at"] = now
        current["updated_by"] = actor_id
        current["version"] = loaded["version"] + 1
        stamped = {"updated_at", "updated_by"} if loaded.get("updated_by") != actor_id \
            else {"updated_at"}
        groups.setdefault(changed | stamped, []).append((loaded, current))
    if not groups:
        return 0
    conn = session.connection()
    dialect = conn.dialect
    outbox: list[dict[str, Any]] = []
    for cols, rows in groups.items():
        key = (table.name, dialect.name, cols)
        plan = _UPDATES.get(key)
        if plan is None:
            names = [*sorted(cols), "version", "id"]  # then the version read (plain int)
            sql = (f"UPDATE {table.name} SET "
                   f"{', '.join(f'{n} = ?' for n in names[:-1])} WHERE id = ? AND version = ?")
            procs = {n: p for n in names if (p := _bind_processor(table.c[n], dialect))}
            plan = (sql, _binder(names, procs))
            _UPDATES[key] = plan
        sql, bind = plan
        params = [(*bind(current), loaded["version"]) for loaded, current in rows]
        result = conn.exec_driver_sql(sql, params)
        if result.rowcount != len(params):
            raise StaleDataError(f"UPDATE statement on table '{table.name}' expected to update "
                                 f"{len(params)} row(s); {result.rowcount} were matched.")
        # "delete" when this change set the tombstone, as the flush hook decides
        op = "delete" if "deleted_at" in cols else "update"
        outbox += [{
            "id": new_id(), "created_at": now, "entity": str(table.name),
            "entity_id": current["id"],
            "op": op if current.get("deleted_at") is not None else "update",
            "version": current["version"],
            "payload": row_payload(cls, current),
            "actor_id": actor_id} for _loaded, current in rows]
    if deferring(session):
        session.info.setdefault(_PENDING, {}).setdefault(_OUTBOX, (OutboxEntry, []))[1] \
            .extend(outbox)
    else:
        _write_outbox(session, outbox)
    return len(outbox)
