"""One SQLAlchemy engine per company file, over SQLCipher 4 with a raw key.

The 256-bit key is given raw (`x'…'`), so opening a connection derives no key:
the slow password KDF runs once, at login, in `keyfile`. Every connection gets
the same PRAGMAs: WAL (readers never block the writer), `synchronous=FULL` (a
committed sale survives a power cut), `secure_delete` (deleted rows are zeroed),
`temp_store=MEMORY` (no plaintext temp files), a page cache sized by a setting
(SQLCipher decrypts a page on every cache miss, see bench/) and a busy timeout.

Transactions are begun explicitly: `BEGIN IMMEDIATE` for units of work that
write (so two writers queue on the busy timeout instead of failing to upgrade a
read lock), plain `BEGIN` for readers.

WAL checkpoints (copying committed pages from the WAL into the file) run off
the writers' path (docs/decisions/0031): each engine has a `WalCheckpointer`,
a thread with its own connection that runs a PASSIVE checkpoint once writes
pause (a quarter of a second without a commit: between two sales at a
counter), or after every 32 write transactions of a burst, so a sale's COMMIT
never pays for one. The writers' own automatic checkpoint stays as a safety net at a
higher mark (`WRITER_AUTOCHECKPOINT_PAGES`) for when that thread falls behind.
"""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
import weakref
from pathlib import Path
from typing import Any

import sqlcipher3
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.pool import QueuePool

from erp_desktop.domain.errors import (
    CorruptFile,
    DiskProblem,
    NotACompanyFile,
    StoreError,
)

DEFAULT_CACHE_KIB = 64 * 1024
DEFAULT_BUSY_TIMEOUT_MS = 10_000
SQLITE_HEADER = b"SQLite format 3\x00"
# SQLite's own default: a connection that commits past this many WAL pages checkpoints.
DEFAULT_AUTOCHECKPOINT_PAGES = 1000
# With a background checkpointer the writers checkpoint only when it has fallen far behind.
WRITER_AUTOCHECKPOINT_PAGES = 8000

dbapi = sqlcipher3.dbapi2
log = logging.getLogger(__name__)


def _key_pragma(key: bytes) -> str:
    if len(key) != 32:
        raise StoreError("A company file key must be 32 bytes.")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def connect_raw(path: Path, key: bytes, *, cache_kib: int = DEFAULT_CACHE_KIB,
                busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                check_same_thread: bool = False,
                autocheckpoint_pages: int = DEFAULT_AUTOCHECKPOINT_PAGES) -> Any:
    """A keyed DB-API connection with the company PRAGMAs, autocommit mode.

    Raises NotACompanyFile when the key does not open the file (a wrong key and
    a foreign file look the same to SQLCipher).
    """
    try:
        con = dbapi.connect(str(path), isolation_level=None, check_same_thread=check_same_thread,
                            timeout=busy_timeout_ms / 1000)
    except dbapi.OperationalError as exc:
        raise translate_os_error(exc, path) from exc
    try:
        con.execute("PRAGMA cipher_log_level = NONE")
        con.execute(_key_pragma(key))
        try:
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except dbapi.DatabaseError as exc:
            raise NotACompanyFile(
                f"{path.name} cannot be opened with this key: it is not an erp_desktop company "
                "file, or it belongs to another key file.") from exc
        for pragma in (
            "PRAGMA foreign_keys = ON",
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = FULL",
            "PRAGMA secure_delete = ON",
            "PRAGMA temp_store = MEMORY",
            f"PRAGMA cache_size = -{int(cache_kib)}",
            f"PRAGMA busy_timeout = {int(busy_timeout_ms)}",
            f"PRAGMA wal_autocheckpoint = {int(autocheckpoint_pages)}",
        ):
            con.execute(pragma)
    except BaseException:
        con.close()
        raise
    return con


def translate_os_error(exc: BaseException, path: Path) -> StoreError:
    """A plain message for the disk problems a user can meet."""
    text = str(exc).lower()
    code = getattr(exc, "errno", None)
    if code == errno.ENOSPC or "full" in text:
        return DiskProblem(f"The disk holding {path.name} is full. Free some space and try again.")
    read_only = "readonly" in text or "read-only" in text
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or read_only:
        return DiskProblem(f"{path.name} is on a read-only disk or folder, or you lack permission "
                           "to write there.")
    if "unable to open" in text or code == errno.ENOENT:
        return StoreError(f"{path} cannot be opened: the file or its folder does not exist.")
    if "malformed" in text or "corrupt" in text:
        return CorruptFile(f"{path.name} is damaged. Restore it from a backup.")
    return StoreError(f"{path.name}: {exc}")


def make_engine(path: Path, key: bytes, *, cache_kib: int = DEFAULT_CACHE_KIB,
                busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, pool_size: int = 4) -> Engine:
    """The one engine for a company file; connections are keyed on creation."""
    path = Path(path)

    def creator() -> Any:
        return connect_raw(path, key, cache_kib=cache_kib, busy_timeout_ms=busy_timeout_ms,
                           autocheckpoint_pages=WRITER_AUTOCHECKPOINT_PAGES)

    engine = create_engine(
        "sqlite+pysqlite:///" + path.as_posix(),
        module=dbapi,
        creator=creator,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=4,
        pool_pre_ping=False,
        # The connection used last first: its page cache is warm. A connection whose
        # file another one has written since reads (and decrypts) its pages again.
        pool_use_lifo=True,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    checkpointer = WalCheckpointer(path, key, busy_timeout_ms=busy_timeout_ms)
    _CHECKPOINTERS[engine] = checkpointer

    @event.listens_for(engine, "commit")
    def _committed(conn: Any) -> None:
        # Fired as a transaction commits; only writers (BEGIN IMMEDIATE) add WAL pages.
        if conn.get_execution_options().get("sqlite_begin") == "IMMEDIATE":
            checkpointer.wrote()

    @event.listens_for(engine, "engine_disposed")
    def _disposed(_engine: Any) -> None:
        checkpointer.close()  # its connection too: a disposed engine leaves the file closed

    return engine


_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = \
    weakref.WeakKeyDictionary()


def wal_checkpointer(engine: Engine) -> WalCheckpointer | None:
    """The background checkpointer of an engine made by `make_engine` (None otherwise)."""
    return _CHECKPOINTERS.get(engine)


class WalCheckpointer:
    """PASSIVE WAL checkpoints in a thread of their own (see module docstring).

    `wrote()` is called as each write transaction commits. After `every`
    commits, or once commits have paused for `quiet_s` seconds, the thread
    checkpoints through its own connection: it copies what no reader still
    needs and never blocks a writer (PASSIVE). The thread starts with the first
    write and stops, closing its connection, with `close()` (the engine's
    dispose); the next write starts it again. A failed checkpoint is logged and
    left to the next one, or to the writers' own safety net.
    """

    def __init__(self, path: Path, key: bytes, *, every: int = 32, quiet_s: float = 0.25,
                 busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> None:
        self._path = path
        self._key = key
        self._every = every
        self._quiet_s = quiet_s
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._pending = 0  # write transactions since the last checkpoint
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._failed_at: float | None = None
        self.checkpoints = 0  # how many ran (for tests and benchmarks)

    def wrote(self) -> None:
        with self._lock:
            self._pending += 1
            if self._failed_at is not None and time.monotonic() - self._failed_at < 30:
                return  # it failed a moment ago: the writers checkpoint meanwhile
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name="wal-checkpoint",
                                                daemon=True)
                self._thread.start()
            self._wake.notify()

    def close(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping = True
            self._wake.notify()
        if thread is not None:
            thread.join()

    def _due(self) -> bool:
        """Wait (lock held) until a checkpoint is due; False when stopping."""
        while not self._stopping:
            if self._pending >= self._every:
                return True
            if self._pending:
                seen = self._pending
                self._wake.wait(self._quiet_s)
                if self._pending == seen and not self._stopping:
                    return True  # writes paused
            else:
                self._wake.wait()
        return False

    def _run(self) -> None:
        con = None
        try:
            while True:
                with self._lock:
                    if not self._due():
                        return
                    self._pending = 0
                if con is None:
                    con = connect_raw(self._path, self._key, cache_kib=1024,
                                      busy_timeout_ms=self._busy_timeout_ms)
                con.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.checkpoints += 1
        except Exception:  # the writers' own checkpoint is the safety net
            log.warning("background WAL checkpoint failed", exc_info=True)
            self._failed_at = time.monotonic()
        finally:
            if con is not None:
                con.close()


def looks_like_plain_sqlite(path: Path) -> bool:
    """True when the file starts with the plaintext SQLite header (unencrypted)."""
    with open(path, "rb") as fh:
        return fh.read(16) == SQLITE_HEADER


def is_sqlite_error(exc: BaseException) -> bool:
    return isinstance(exc, (dbapi.Error, sqlite3.Error))
