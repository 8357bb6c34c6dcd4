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
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

import erp_desktop.models.changes  # noqa: F401  (registers the outbox hooks)

_TX_CACHE = "_tx_cache"


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


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        writer = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._read = sessionmaker(engine, expire_on_commit=False, autoflush=True)
        self._write = sessionmaker(writer, expire_on_commit=False, autoflush=True)

    @contextmanager
    def write(self, actor_id: uuid.UUID | None = None) -> Iterator[Session]:
        with self._write() as session:
            session.info["actor_id"] = actor_id
            with session.begin():
                yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
