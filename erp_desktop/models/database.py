"""The unit of work: one session and one transaction per use case.

`Database.write()` begins `BEGIN IMMEDIATE` (one writer at a time, queued on
the busy timeout) and commits when the block ends, or rolls everything back
when it raises: a use case is all written or not at all. `Database.read()` is
for list and report queries. Worker threads call these on their own thread,
so each gets its own session and connection; sessions are never shared.

`tx_cache(session)` is a memo that lives exactly as long as one transaction
(or savepoint): the posting path keeps there what it would otherwise look up
again for every document of a batch (the audit chain head, number series,
accounts). It is safe because a writer holds `BEGIN IMMEDIATE` for the whole
transaction, so nothing outside this session changes those rows meanwhile;
it is emptied whenever a transaction or savepoint ends, committed or not.

`reference_cache(session)` goes one step further for the issuing paths
(docs/decisions/0031): what they read from the reference tables (company,
settings, tax rates, units, accounts, warehouses, price lists) is kept on the
`Database` across write transactions, as plain immutable values, for as long
as the file's reference epoch (`models.changes.ReferenceEpoch`, raised by
triggers on every change of those tables, whoever makes it) stays the same.
A transaction opts in with `use_reference_cache`, which reads the epoch once;
a transaction that changes reference data itself stops using the shared
values and never adds to them (`remember`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, sessionmaker

# (importing changes also registers the outbox hooks)
from erp_desktop.models.changes import REFERENCE_TABLES

_TX_CACHE = "_tx_cache"
_REF = "_reference_cache"  # session.info of write sessions: the Database's ReferenceCache
_REF_ON = "reference.on"  # tx_cache: this transaction uses the shared values
_REF_CHANGED = "_reference_changed"  # session.info: this transaction wrote reference data


def tx_cache(session: Session) -> dict[Any, Any]:
    """A dict private to the session's current transaction (see module docstring).

    Hold ORM objects there only while they are in the session: callers check
    `obj in session` before trusting one (`expunge_all` can detach them).
    """
    cache: dict[Any, Any] = session.info.setdefault(_TX_CACHE, {})
    return cache


@event.listens_for(Session, "after_transaction_end")
def _forget_tx_cache(session: Session, transaction: SessionTransaction) -> None:
    # The real transaction's end, or a savepoint's (a rolled-back savepoint may have
    # taken back an audit event or a number the cache remembers); not the inner
    # "subtransaction" every flush opens and closes.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_TX_CACHE, None)
    if transaction.parent is None:
        session.info.pop(_REF_CHANGED, None)


class ReferenceCache:
    """Reference values kept across write transactions (see module docstring).

    Used only inside write transactions, which `BEGIN IMMEDIATE` serialises
    across threads and processes, so no two transactions use it at once.
    """

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.values: dict[Any, Any] = {}


def _is_reference(obj: Any) -> bool:
    return getattr(type(obj), "__tablename__", None) in REFERENCE_TABLES


def _writes_reference(session: Session) -> bool:
    """The session holds new, changed or deleted reference rows not flushed yet."""
    return any(_is_reference(o) for o in session.new) or \
        any(_is_reference(o) for o in session.deleted) or \
        any(_is_reference(o) for o in session.dirty)


@event.listens_for(Session, "before_flush")
def _note_reference_writes(session: Session, flush_context: Any, instances: Any) -> None:
    if _REF in session.info and _writes_reference(session):
        session.info[_REF_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_reference_dml(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and _REF in state.session.info:
        mapper = state.bind_mapper
        if mapper is None or mapper.local_table.name in REFERENCE_TABLES:
            state.session.info[_REF_CHANGED] = True


def use_reference_cache(session: Session) -> None:
    """Let this write transaction use the values shared across transactions.

    Reads the reference epoch once; if it moved since the values were read,
    they are dropped. Outside a `Database.write` session (reads, a dry run),
    or once the transaction has written reference data, it does nothing and
    `reference_cache` stays None.
    """
    shared: ReferenceCache | None = session.info.get(_REF)
    tx = tx_cache(session)
    if shared is None or _REF_ON in tx or session.info.get(_REF_CHANGED):
        return
    if _writes_reference(session):
        return
    epoch = session.connection().exec_driver_sql("SELECT n FROM reference_epoch").scalar()
    if epoch != shared.epoch:
        shared.values.clear()
        shared.epoch = epoch
    tx[_REF_ON] = True


def reference_cache(session: Session) -> dict[Any, Any] | None:
    """The shared reference values this transaction may use, or None (read as usual).

    Hold only plain immutable values there, and add them with `remember`.
    """
    tx = session.info.get(_TX_CACHE)
    if not tx or not tx.get(_REF_ON) or session.info.get(_REF_CHANGED):
        return None
    shared: ReferenceCache = session.info[_REF]
    return shared.values


def remember(session: Session, key: Any, value: Any) -> Any:
    """Keep `value` (read in this transaction) for later transactions, unless this
    transaction has changed reference data, flushed or not; returns `value`."""
    cache = reference_cache(session)
    if cache is not None and not _writes_reference(session):
        cache[key] = value
    return value


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._write = sessionmaker(writer, expire_on_commit=False, autoflush=True)
        self._reference = ReferenceCache()

    @contextmanager
    def write(self, actor_id: uuid.UUID | None = None) -> Iterator[Session]:
        with self._write() as session:
            session.info["actor_id"] = actor_id
            session.info[_REF] = self._reference
            with session.begin():
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
