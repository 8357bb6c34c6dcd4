"""The unit of work: one session and one transaction per use case.

`Database.write()` begins `BEGIN IMMEDIATE` (one writer at a time, queued on
the busy timeout) and commits when the block ends, or rolls everything back
when it raises: a use case is all written or not at all. `Database.read()` is
for list and report queries. Worker threads call these on their own thread,
so each gets its own session and connection; sessions are never shared.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import erp_desktop.models.changes  # noqa: F401  (registers the outbox hooks)


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
