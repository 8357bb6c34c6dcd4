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
"""

from __future__ import annotations

import errno
import sqlite3
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

dbapi = sqlcipher3.dbapi2


def _key_pragma(key: bytes) -> str:
    if len(key) != 32:
        raise StoreError("A company file key must be 32 bytes.")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def connect_raw(path: Path, key: bytes, *, cache_kib: int = DEFAULT_CACHE_KIB,
                busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
                check_same_thread: bool = False) -> Any:
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
        return connect_raw(path, key, cache_kib=cache_kib, busy_timeout_ms=busy_timeout_ms)

    engine = create_engine(
        "sqlite+pysqlite:///" + path.as_posix(),
        module=dbapi,
        creator=creator,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=4,
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return engine


def looks_like_plain_sqlite(path: Path) -> bool:
    """True when the file starts with the plaintext SQLite header (unencrypted)."""
    with open(path, "rb") as fh:
        return fh.read(16) == SQLITE_HEADER


def is_sqlite_error(exc: BaseException) -> bool:
    return isinstance(exc, (dbapi.Error, sqlite3.Error))
