"""A company on disk: the encrypted database file and its key file beside it.

`create_database` makes a new file at the current schema and refuses any path
that already holds something (init never overwrites, whatever the name).
`open_database` checks the file before keying it (missing, plain SQLite, not a
company file), upgrades an older schema after a backup, and refuses a file
from a newer version untouched.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from erp_desktop.domain.errors import NotACompanyFile, StoreError
from erp_desktop.store import migrate
from erp_desktop.store.engine import (
    DEFAULT_CACHE_KIB,
    SQLITE_HEADER,
    connect_raw,
    make_engine,
    translate_os_error,
)
from erp_desktop.store.keyfile import key_file_path

COMPANY_SUFFIX = ".erp"


def sidecar_paths(db_path: Path) -> list[Path]:
    """The files that belong to one company file (database, WAL, shared memory, keys)."""
    db_path = Path(db_path)
    return [db_path, db_path.with_name(db_path.name + "-wal"),
            db_path.with_name(db_path.name + "-shm"), key_file_path(db_path)]


def check_new_path(db_path: Path) -> None:
    for p in sidecar_paths(db_path):
        if os.path.lexists(p):
            raise StoreError(f"{p} already exists. A new company file never replaces an existing "
                             "file; choose another name or folder.", field="path")
    if not db_path.parent.exists():
        raise StoreError(f"The folder {db_path.parent} does not exist.", field="path")


def create_database(db_path: Path, db_key: bytes, *, cache_kib: int = DEFAULT_CACHE_KIB) -> Engine:
    """A new, empty company database at the current schema."""
    db_path = Path(db_path)
    check_new_path(db_path)
    try:
        # O_EXCL: if another process created the name meanwhile, we fail, never overwrite.
        fd = os.open(db_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        os.close(fd)
    except OSError as exc:
        raise translate_os_error(exc, db_path) from exc
    engine = make_engine(db_path, db_key, cache_kib=cache_kib)
    try:
        migrate.upgrade(engine)
    except BaseException:
        engine.dispose()
        for p in sidecar_paths(db_path)[:3]:
            p.unlink(missing_ok=True)
        raise
    return engine


def check_company_file(db_path: Path) -> None:
    """Plain messages for a file that cannot be a company file, before any key is tried."""
    db_path = Path(db_path)
    if not db_path.exists():
        raise StoreError(f"The company file {db_path} does not exist.", field="path")
    if db_path.is_dir():
        raise NotACompanyFile(f"{db_path} is a folder, not a company file.", field="path")
    try:
        with open(db_path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise translate_os_error(exc, db_path) from exc
    if head == SQLITE_HEADER:
        raise NotACompanyFile(f"{db_path.name} is an unencrypted SQLite database, not an "
                              "erp_desktop company file.", field="path")
    if len(head) < 16:
        raise NotACompanyFile(f"{db_path.name} is empty or too short to be a company file.",
                              field="path")


def open_database(db_path: Path, db_key: bytes, *, cache_kib: int = DEFAULT_CACHE_KIB,
                  backup: Callable[[str], object] | None = None) -> Engine:
    """The engine of an existing company file, upgraded to the current schema."""
    db_path = Path(db_path)
    check_company_file(db_path)
    connect_raw(db_path, db_key, cache_kib=cache_kib).close()  # wrong key → NotACompanyFile
    engine = make_engine(db_path, db_key, cache_kib=cache_kib)
    try:
        migrate.ensure_current(engine, db_path.name, backup)
    except BaseException:
        engine.dispose()
        raise
    return engine
