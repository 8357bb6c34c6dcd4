"""Fast bulk writes for imports: DB-native rows, outbox rows, ids in batches.

An import of 100k rows cannot afford SQLAlchemy's per-row parameter
processing (tens of microseconds a row) or one `new_id()` call per id. These
helpers let an importer build rows in the values the database stores (16-byte
ids, integer quantities, the driver's datetime text) and hand them to the
DB-API `executemany` in the caller's transaction:

- `IdBatch`: UUIDv7 ids made in one go (same layout as `domain.ids.new_id`:
  millisecond time, version 7, a counter, 62 random bits), as bytes;
- `db_value`: a constant (the batch's timestamp, the actor) converted once by
  the column's own type and then by the driver's adapter, so stored values are
  exactly what the ORM writes and no row pays for the conversion;
- `json_str` and `outbox_rows`: outbox entries byte-for-byte like
  `changes.record_bulk`'s (same payload JSON: column names, UUIDs and
  datetimes as text, sorted keys, ASCII escapes), which
  tests/services/inventory/test_bulk.py checks against record_bulk itself.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from json.encoder import encode_basestring_ascii
from typing import Any

from sqlalchemy import Column, Table
from sqlalchemy.orm import Session

from erp_desktop.models.base import utcnow
from erp_desktop.models.changes import OutboxEntry

_OUTBOX_SQL = ("INSERT INTO outbox (id, created_at, entity, entity_id, op, version, payload, "
               "actor_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")

# A JSON string literal exactly as the outbox encoder writes one (ensure_ascii).
json_str = encode_basestring_ascii

# The top byte of the random part with the RFC 4122 variant bits (10xxxxxx) set.
_VARIANT = bytes((b & 0x3F) | 0x80 for b in range(256))
# Version 7 and each value of the 12-bit counter, as the two bytes that follow the time.
_COUNTER = [(0x7000 | c).to_bytes(2, "big") for c in range(0x1000)]


def uuid_text(raw: bytes) -> str:
    """The canonical text of a 16-byte UUID (what str(uuid.UUID) gives)."""
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class IdBatch:
    """`n` new UUIDv7 ids as 16-byte values, strictly increasing within the batch."""

    def __init__(self, n: int) -> None:
        ms = time.time_ns() // 1_000_000
        noise = os.urandom(8 * n + 2)
        counter = int.from_bytes(noise[-2:], "big") & 0x07FF
        tops = noise[0:8 * n:8].translate(_VARIANT)  # first random byte of each id
        head = (ms & 0xFFFFFFFFFFFF).to_bytes(6, "big")
        out: list[bytes] = []
        append, counters = out.append, _COUNTER
        for i in range(n):
            if counter > 0x0FFF:  # counter overflow: borrow the next millisecond
                ms += 1
                counter = 0
                head = (ms & 0xFFFFFFFFFFFF).to_bytes(6, "big")
            j = 8 * i
            append(head + counters[counter] + tops[i:i + 1] + noise[j + 1:j + 8])
            counter += 1
        self.raw = out

    def __len__(self) -> int:
        return len(self.raw)


def db_value(session: Session, column: Column[Any], value: object) -> object:
    """`value` as the database stores it in `column`: the column type's bind processor,
    then the driver's own adapter (datetimes become the driver's text), once."""
    dialect = session.get_bind().dialect
    proc = column.type.bind_processor(dialect)
    value = proc(value) if proc is not None else value
    adapt = getattr(dialect.dbapi, "adapt", None)  # sqlite3's: what it does to a parameter
    if adapt is not None and isinstance(value, (datetime, date)):
        value = adapt(value)
    return value


def executemany(session: Session, sql: str, rows: Sequence[Sequence[object]]) -> None:
    """Plain DB-API executemany in the session's transaction (rows already DB-native)."""
    if rows:
        session.connection().exec_driver_sql(sql, rows if isinstance(rows, list) else list(rows))


def insert_sql(table: Table, columns: Sequence[str], verb: str = "INSERT") -> str:
    return (f"{verb} INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' * len(columns))})")


def state_json(state: dict[str, object]) -> str:
    """An outbox payload from a state whose values are already JSON types."""
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


def outbox_rows(session: Session, entity: str,
                items: Iterable[tuple[bytes, int | None, str]], op: str = "insert") -> int:
    """Outbox entries for (entity id bytes, version, payload JSON) written in bulk, in
    the caller's transaction, exactly as `changes.record_bulk` would write them."""
    items = list(items)
    if not items:
        return 0
    table = OutboxEntry.__table__
    now = db_value(session, table.c.created_at, utcnow())
    actor = session.info.get("actor_id")
    actor_b = actor.bytes if actor is not None else None
    ids = IdBatch(len(items)).raw
    executemany(session, _OUTBOX_SQL,
                [(oid, now, entity, eid, op, version, payload, actor_b)
                 for oid, (eid, version, payload) in zip(ids, items, strict=True)])
    return len(items)
