"""Backups of a company file, verified, and restore with an undo.

A backup is a second SQLCipher file encrypted with the *same* raw key, plus a
copy of the key file beside it (`key_file_path(backup)`), so whoever can log in
to the company can open its backups and nobody else can.

`backup_company` runs while the app has the database open: it copies pages with
SQLite's online backup API between two keyed connections (SQLCipher decrypts
each page from the source and encrypts it for the destination). The source
connection holds one read transaction for the whole copy, so the backup is one
consistent snapshot of *committed* data and writers in other connections are
never blocked (WAL) and never force the copy to restart. The copy goes to a
hidden temporary name in the target folder, is checked (`cipher_integrity_check`
and `integrity_check`, opened with the key), fsynced, and only then given its
real name, without ever replacing an existing file. A cancel, a full disk or
any other failure leaves no file behind.

`restore_company` puts a backup in place of the company file. The files it
replaces (database, `-wal`, `-shm`, `-journal` and key file) are moved aside as
one set named `<file>.before-restore-<timestamp>`, which opens like any company
file, so a restore can be undone; if anything fails the originals are put back.

Automatic backups live in a folder per company file (`backup_dir_for`), named
`<stem>-<YYYYmmdd-HHMMSS>-<reason>.erp`, and are pruned to the newest N.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from erp_desktop.domain.errors import (
    CorruptFile,
    KeyFileError,
    NotACompanyFile,
    StoreError,
    UserError,
)
from erp_desktop.store.atomic import temp_name_prefix, write_atomic
from erp_desktop.store.engine import (
    connect_raw,
    dbapi,
    is_sqlite_error,
    looks_like_plain_sqlite,
    translate_os_error,
)
from erp_desktop.store.keyfile import KeyFile, key_file_path

__all__ = [
    "BACKUP_SUFFIX",
    "DEFAULT_PAGES_PER_STEP",
    "BackupCancelled",
    "BackupInfo",
    "auto_backup",
    "backup_company",
    "backup_dir_for",
    "daily_backup_due",
    "list_backups",
    "prune_backups",
    "restore_company",
    "verify_backup",
]

BACKUP_SUFFIX = ".erp"
# 256 pages of 4 KiB = 1 MiB per step: frequent enough progress and cancel
# checks, few enough steps that the per-step overhead does not matter.
DEFAULT_PAGES_PER_STEP = 256
# Verification runs SQLite's progress handler every this many VM steps, to
# notice a cancel during a long integrity check.
_CANCEL_CHECK_OPS = 10_000
_STAMP_FORMAT = "%Y%m%d-%H%M%S"
_SIDECARS = ("-wal", "-shm", "-journal")
_MAX_REASON_CHARS = 40
# <stem>-<YYYYmmdd-HHMMSS>-<reason>.erp; the stem is greedy so that a stem with
# dashes parses, the stamp is the last date-like group before the reason.
_BACKUP_NAME = re.compile(
    r"^(?P<stem>.+)-(?P<stamp>\d{8}-\d{6})-(?P<reason>[a-z0-9]+(?:-[a-z0-9]+)*)"
    + re.escape(BACKUP_SUFFIX)
    + r"$"
)
# A backup dated a little in the future still counts as recent (clock skew);
# one far in the future (the clock was set back) does not block daily backups.
_FUTURE_TOLERANCE = timedelta(minutes=5)
# ERROR_SHARING_VIOLATION, ERROR_LOCK_VIOLATION: Windows refuses to move a file
# another process holds open.
_WINDOWS_SHARING_ERRORS = frozenset({32, 33})


class BackupCancelled(UserError):
    """The person cancelled a backup; nothing was written."""


class _Cancel(Exception):
    """Raised inside SQLite callbacks to stop the copy or the check."""


@dataclass(frozen=True)
class BackupInfo:
    """One automatic backup found in a backup folder."""

    path: Path
    taken_at: datetime
    reason: str


# ------------------------------------------------------------------------- backup


def backup_company(db_path: Path, db_key: bytes, target: Path, *,
                   progress: Callable[[int, int], None] | None = None,
                   cancelled: Callable[[], bool] | None = None,
                   pages_per_step: int = DEFAULT_PAGES_PER_STEP) -> Path:
    """Copy the company file `db_path` (which may be open) to the new file `target`.

    `progress(done_pages, total_pages)` is called after every step of the copy;
    `cancelled()` is polled between steps and during verification, and when it
    returns True the partial file is removed and BackupCancelled is raised.
    The key file is copied to `key_file_path(target)`. Returns `target`.
    """
    db_path, target = Path(db_path), Path(target)
    if pages_per_step < 1:
        raise ValueError("pages_per_step must be at least 1")
    _refuse_existing(target)
    _require_file(db_path)
    key_bytes = _read_key_file(db_path, db_key)
    is_cancelled = cancelled or (lambda: False)
    if is_cancelled():
        raise _cancelled()

    # Opened before any file is created, so a wrong key leaves nothing behind.
    source = connect_raw(db_path, db_key)
    tmp: Path | None = None
    placed: list[Path] = []
    try:
        try:
            tmp = _create_temp(target)
            dest = _open_keyed(tmp, db_key)
            try:
                # One read transaction for the whole copy: a consistent snapshot
                # that concurrent commits neither block nor restart.
                source.execute("BEGIN")
                source.execute("SELECT count(*) FROM sqlite_master").fetchone()

                def on_step(remaining: int, total: int) -> None:
                    if progress is not None:
                        progress(total - remaining, total)
                    if is_cancelled():
                        raise _Cancel

                _copy_pages(source, dest, pages_per_step, on_step)
                # A backup is one self-contained file, not a WAL set.
                dest.execute("PRAGMA journal_mode = DELETE").fetchone()
            finally:
                dest.close()
                with contextlib.suppress(Exception):
                    source.execute("ROLLBACK")
            _check_database(tmp, db_key, target.name, is_cancelled)
            _fsync_file(tmp)
            _rename_no_replace(tmp, target)
            placed.append(target)
            tmp = None
            _fsync_dir(target.parent)
            write_atomic(key_file_path(target), key_bytes)
            placed.append(key_file_path(target))
        except _Cancel:
            raise _cancelled() from None
        except OSError as exc:
            raise translate_os_error(exc, target) from exc
        except Exception as exc:
            if not is_sqlite_error(exc):
                raise
            if _is_interrupt(exc):
                raise _cancelled() from None
            raise _copy_error(exc, db_path, target) from exc
    except BaseException:
        if tmp is not None:
            _remove_database_files(tmp)
        for path in placed:
            _remove_quietly(path)
        raise
    finally:
        source.close()
    return target


def _copy_pages(source: Any, dest: Any, pages_per_step: int,
                on_step: Callable[[int, int], None]) -> None:
    """SQLite's online backup from `source` to `dest` (both keyed connections).

    `on_step(remaining, total)` runs after every step; an exception from it
    aborts the copy (and is re-raised).
    """
    source.backup(dest, pages=pages_per_step,
                  progress=lambda _status, remaining, total: on_step(remaining, total))


def _copy_error(exc: BaseException, db_path: Path, target: Path) -> StoreError:
    text = str(exc).lower()
    if "malformed" in text or "not a database" in text:
        # Reading the source is what finds damage; the new file is not checked yet.
        return CorruptFile(f"{db_path.name} is damaged, so it could not be backed up. "
                           "Restore it from an earlier backup.")
    return translate_os_error(exc, target)


def _cancelled() -> BackupCancelled:
    return BackupCancelled("The backup was cancelled. No backup file was written.")


# ------------------------------------------------------------------------- verify


def verify_backup(path: Path, db_key: bytes) -> None:
    """Check that `path` is a sound company file (or backup) opened by `db_key`.

    Raises NotACompanyFile when the key does not open it (a foreign file, a
    plain SQLite file, another company's file, or a damaged first page) and
    CorruptFile when it opens but is damaged. The file is not changed.
    """
    path = Path(path)
    _require_file(path)
    _check_database(path, db_key, path.name, lambda: False)


def _check_database(path: Path, db_key: bytes, shown_name: str,
                    cancelled: Callable[[], bool]) -> None:
    """The checks behind verify_backup; `shown_name` is the name used in messages."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise translate_os_error(exc, path) from exc
    if size == 0:
        # SQLCipher opens an empty file with any key, as an empty database.
        raise NotACompanyFile(f"{shown_name} is empty: it is not an erp_desktop company file "
                              "or backup.")
    if looks_like_plain_sqlite(path):
        raise NotACompanyFile(f"{shown_name} is not encrypted, so it is not an erp_desktop "
                              "company file or backup.")
    try:
        con = _open_keyed(path, db_key, create=False)
    except Exception as exc:
        if is_sqlite_error(exc):
            raise translate_os_error(exc, path) from exc
        raise
    damaged = CorruptFile(f"{shown_name} is damaged and cannot be used. "
                          "Choose another backup.")
    try:
        try:
            tables = con.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        except dbapi.DatabaseError as exc:
            if "not a database" in str(exc).lower():
                raise NotACompanyFile(
                    f"{shown_name} cannot be opened with this company's key: it is not a "
                    "backup of this company file, or it is damaged.") from None
            raise _read_error(exc, path, damaged) from None
        if not tables:
            raise NotACompanyFile(f"{shown_name} holds no data: it is not an erp_desktop "
                                  "company file or backup.")
        con.set_progress_handler(lambda: 1 if cancelled() else 0, _CANCEL_CHECK_OPS)
        try:
            # Page by page HMAC check first (names the damaged page), then the
            # b-tree check, which also finds a file cut short at a page boundary.
            if con.execute("PRAGMA cipher_integrity_check").fetchall():
                raise damaged
            if con.execute("PRAGMA integrity_check").fetchall() != [("ok",)]:
                raise damaged
        except dbapi.DatabaseError as exc:
            if _is_interrupt(exc):
                raise _Cancel from None
            raise _read_error(exc, path, damaged) from None
    finally:
        con.close()


def _read_error(exc: BaseException, path: Path, damaged: CorruptFile) -> StoreError:
    """Damage reads as `damaged`; anything else (an I/O or permission error) is
    described as the disk problem it is."""
    text = str(exc).lower()
    if "malformed" in text or "corrupt" in text or "not a database" in text:
        return damaged
    return translate_os_error(exc, path)


# ------------------------------------------------------------------------ restore


def restore_company(backup_path: Path, db_path: Path, db_key_for_backup: bytes) -> Path | None:
    """Replace the company file `db_path` with the backup `backup_path`.

    The caller must have closed every connection to `db_path` (disposed the
    engine). The backup and its key file are checked first; the current files
    are moved aside as `<db name>.before-restore-<timestamp>` (with `-wal`,
    `-shm` and `.key` beside it, so it opens as a company file) and the path of
    that set-aside database is returned, or None when there was no current file.
    If anything fails the original files are put back and nothing else changes.
    """
    backup_path, db_path = Path(backup_path), Path(db_path)
    _require_file(backup_path)
    if db_path.exists() and os.path.samefile(backup_path, db_path):
        raise StoreError(f"{backup_path.name} is the company file itself. Choose a backup.")
    verify_backup(backup_path, db_key_for_backup)
    key_bytes = _read_key_file(backup_path, db_key_for_backup)

    live_key = key_file_path(db_path)
    live_files = [db_path, *(_sidecar(db_path, s) for s in _SIDECARS), live_key]
    aside = _free_aside_name(db_path, datetime.now().strftime(_STAMP_FORMAT))
    aside_files = [aside, *(_sidecar(aside, s) for s in _SIDECARS), key_file_path(aside)]

    tmp: Path | None = None
    moved: list[tuple[Path, Path]] = []
    placed: list[Path] = []
    try:
        try:
            tmp = _create_temp(db_path)
            _copy_file(backup_path, tmp)
            _check_database(tmp, db_key_for_backup, backup_path.name, lambda: False)
            for live, set_aside in zip(live_files, aside_files, strict=True):
                if os.path.lexists(live):
                    os.rename(live, set_aside)
                    moved.append((live, set_aside))
            _rename_no_replace(tmp, db_path)
            placed.append(db_path)
            tmp = None
            write_atomic(live_key, key_bytes)
            placed.append(live_key)
            _fsync_dir(db_path.parent)
        except OSError as exc:
            if getattr(exc, "winerror", None) in _WINDOWS_SHARING_ERRORS:
                raise StoreError(f"{db_path.name} is still open in this or another program. "
                                 "Close it and try the restore again.") from exc
            raise translate_os_error(exc, db_path) from exc
        except Exception as exc:
            if is_sqlite_error(exc):
                raise translate_os_error(exc, db_path) from exc
            raise
    except BaseException as failure:
        if tmp is not None:
            _remove_database_files(tmp)
        for path in placed:
            _remove_quietly(path)
        not_restored = _put_back(moved)
        if not_restored:
            raise StoreError(
                f"The restore failed and the original company file could not be put back "
                f"automatically. It is kept, unchanged, as {aside}. ({failure})") from failure
        raise
    return aside if moved and moved[0][0] == db_path else None


def _free_aside_name(db_path: Path, stamp: str) -> Path:
    base = f"{db_path.name}.before-restore-{stamp}"
    candidate = db_path.with_name(base)
    counter = 2
    while any(os.path.lexists(p) for p in _set_of(candidate)):
        candidate = db_path.with_name(f"{base}-{counter}")
        counter += 1
    return candidate


def _set_of(db_path: Path) -> list[Path]:
    return [db_path, *(_sidecar(db_path, s) for s in _SIDECARS), key_file_path(db_path)]


def _put_back(moved: list[tuple[Path, Path]]) -> list[Path]:
    """Undo the moves; returns the set-aside files that could not be moved back."""
    failed: list[Path] = []
    for live, set_aside in reversed(moved):
        try:
            if os.path.lexists(live):
                os.unlink(live)
            os.rename(set_aside, live)
        except OSError:
            failed.append(set_aside)
    return failed


def _copy_file(source: Path, dest: Path) -> None:
    """Copy `source` over the (empty, just created) `dest` and fsync it."""
    with open(source, "rb") as src, open(dest, "r+b") as out:
        while chunk := src.read(1024 * 1024):
            out.write(chunk)
        out.truncate()
        out.flush()
        os.fsync(out.fileno())


# ---------------------------------------------------------------- automatic backups


def backup_dir_for(db_path: Path, base_dir: Path) -> Path:
    """The folder under `base_dir` that holds the automatic backups of `db_path`.

    Named `<stem>-<tag>`: the tag is the key file's random id, so two company
    files with the same name never share (and prune) one folder, while moving a
    company file keeps its folder. Without a readable key file the tag comes
    from the file's full path instead. The folder is not created here.
    """
    db_path = Path(db_path)
    try:
        tag = KeyFile.load(key_file_path(db_path)).file_id[:12]
    except KeyFileError:
        absolute = os.path.normcase(str(db_path.resolve()))
        tag = hashlib.sha256(absolute.encode("utf-8")).hexdigest()[:12]
    return Path(base_dir) / f"{db_path.stem}-{tag}"


def auto_backup(db_path: Path, db_key: bytes, backup_dir: Path, reason: str, keep: int,
                now: datetime, *,
                progress: Callable[[int, int], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> Path:
    """Back up `db_path` into `backup_dir` as `<stem>-<YYYYmmdd-HHMMSS>-<reason>.erp`,
    then keep only the newest `keep` backups there. Returns the new backup.

    `reason` is sanitised to lowercase letters, digits and dashes ("daily",
    "on-close", "before-upgrade-0001", "manual"). `now` is the local wall-clock
    time (an aware datetime is converted to local time).
    """
    if keep < 1:
        raise ValueError("keep must be at least 1")
    db_path, backup_dir = Path(db_path), Path(backup_dir)
    tag = _sanitise_reason(reason)
    stamp = _wall_clock(now).strftime(_STAMP_FORMAT)
    try:
        backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise translate_os_error(exc, backup_dir) from exc
    target = backup_dir / f"{db_path.stem}-{stamp}-{tag}{BACKUP_SUFFIX}"
    counter = 2
    while os.path.lexists(target) or os.path.lexists(key_file_path(target)):
        target = backup_dir / f"{db_path.stem}-{stamp}-{tag}-{counter}{BACKUP_SUFFIX}"
        counter += 1
    backup_company(db_path, db_key, target, progress=progress, cancelled=cancelled)
    prune_backups(backup_dir, keep)
    return target


def list_backups(backup_dir: Path) -> list[BackupInfo]:
    """The automatic backups in `backup_dir`, newest first (by the name's time)."""
    found: list[BackupInfo] = []
    for path in _iter_dir(Path(backup_dir)):
        match = _BACKUP_NAME.match(path.name)
        if match is None or not path.is_file():
            continue
        try:
            taken_at = datetime.strptime(match["stamp"], _STAMP_FORMAT)
        except ValueError:
            continue
        found.append(BackupInfo(path=path, taken_at=taken_at, reason=match["reason"]))
    found.sort(key=lambda info: (info.taken_at, info.path.name), reverse=True)
    return found


def prune_backups(backup_dir: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` backups in `backup_dir`, with their key
    files. Files not named like a backup are left alone. Returns what was deleted;
    a file that cannot be deleted (e.g. open elsewhere) is skipped."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    removed: list[Path] = []
    for info in list_backups(backup_dir)[keep:]:
        try:
            os.unlink(info.path)
        except OSError:
            continue
        removed.append(info.path)
        for extra in (key_file_path(info.path), *(_sidecar(info.path, s) for s in _SIDECARS)):
            _remove_quietly(extra)
    return removed


def daily_backup_due(backup_dir: Path, now: datetime) -> bool:
    """True when `backup_dir` holds no backup (of any reason) from the last 24 hours."""
    wall = _wall_clock(now)
    for info in list_backups(backup_dir):
        if wall - timedelta(hours=24) < info.taken_at <= wall + _FUTURE_TOLERANCE:
            return False
    return True


def _sanitise_reason(reason: str) -> str:
    cleaned = re.sub(r"[^a-z0-9]+", "-", reason.lower()).strip("-")[:_MAX_REASON_CHARS]
    cleaned = cleaned.strip("-")
    if not cleaned:
        raise ValueError("a backup reason must contain letters or digits")
    return cleaned


def _wall_clock(now: datetime) -> datetime:
    if now.tzinfo is not None and now.utcoffset() is not None:
        return now.astimezone().replace(tzinfo=None)
    return now


def _iter_dir(directory: Path) -> Iterator[Path]:
    try:
        yield from directory.iterdir()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise translate_os_error(exc, directory) from exc


# -------------------------------------------------------------------- file helpers


def _refuse_existing(target: Path) -> None:
    for path in (target, key_file_path(target)):
        if os.path.lexists(path):
            raise StoreError(f"A file named {path.name} already exists in {path.parent}. "
                             "Choose another name; existing files are never replaced.")


def _require_file(path: Path) -> None:
    # Checked before connecting: SQLite would create a missing file.
    if not path.is_file():
        raise StoreError(f"{path} cannot be opened: the file does not exist.")


def _read_key_file(db_path: Path, db_key: bytes) -> bytes:
    """The key file beside `db_path`, as bytes, after checking it holds `db_key`."""
    path = key_file_path(db_path)
    keyfile = KeyFile.load(path)  # raises a plain KeyFileError when missing or damaged
    if not keyfile.key_matches(db_key):
        raise KeyFileError(f"The key file {path.name} does not belong to {db_path.name}, so "
                           "nobody could log in to the copy. Nothing was changed.")
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"The key file {path} cannot be read "
                           f"({exc.strerror or exc}).") from exc


def _create_temp(target: Path) -> Path:
    """A new, empty, private file with a hidden temporary name beside `target`."""
    tmp = target.with_name(f"{temp_name_prefix(target)}{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    os.close(os.open(tmp, flags, 0o600))
    return tmp


def _open_keyed(path: Path, db_key: bytes, *, create: bool = True) -> Any:
    """A keyed connection with no other PRAGMAs (so the file's journal mode is
    left alone). With `create=False` a missing file is an error, not created."""
    if len(db_key) != 32:
        raise StoreError("A company file key must be 32 bytes.")
    if create:
        con = dbapi.connect(str(path), isolation_level=None, check_same_thread=False)
    else:
        uri = Path(os.path.abspath(path)).as_uri() + "?mode=rw"
        con = dbapi.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    try:
        con.execute("PRAGMA cipher_log_level = NONE")
        con.execute(f"PRAGMA key = \"x'{db_key.hex()}'\"")
        con.execute("PRAGMA temp_store = MEMORY")
    except BaseException:
        con.close()
        raise
    return con


def _rename_no_replace(source: Path, target: Path) -> None:
    """Give `source` the name `target`, refusing (StoreError) if `target` exists.

    A hard link is atomic and never replaces; where the file system has no hard
    links, fall back to check-then-rename.
    """
    try:
        os.link(source, target)
    except FileExistsError:
        _refuse_existing(target)
        raise
    except OSError as exc:
        if exc.errno not in {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV,
                             errno.ENOSYS, errno.EMLINK}:
            raise
        _refuse_existing(target)
        os.rename(source, target)  # on Windows this too refuses an existing target
        return
    os.unlink(source)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


def _sidecar(db_path: Path, suffix: str) -> Path:
    return db_path.with_name(db_path.name + suffix)


def _remove_database_files(path: Path) -> None:
    for candidate in (path, *(_sidecar(path, s) for s in _SIDECARS)):
        _remove_quietly(candidate)


def _remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, OSError):
        os.unlink(path)


def _is_interrupt(exc: BaseException) -> bool:
    return "interrupted" in str(exc).lower()
