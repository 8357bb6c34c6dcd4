"""Backup and restore use cases: on demand, daily, on close, and restore from a file.

The file work (an online, verified, encrypted copy; a restore that sets the
current files aside so it can be undone) is `store.backup`'s. This module adds
who may do it, where backups go by default (a folder per company under the
configured backup folder), the automatic-backup policy of `AppConfig`
(`auto_backup`, `keep_backups`) and the audit events `backup.created` and
`backup.restored`.

Restore cannot ask the live company who may restore: the live file may be the
very thing that is broken, and after the restore the backup's users are the
ones that count. So a restore is authorised by an admin login *of the backup*:
their password unlocks the backup's key file, and their role in the backup
must grant `backup.restore`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from erp_desktop.domain.errors import (
    AccountDisabled,
    KeyFileError,
    NotACompanyFile,
    PermissionDenied,
    StoreError,
    ValidationError,
    WrongPassword,
)
from erp_desktop.services import audit, auth
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo, system_clock
from erp_desktop.store import backup as store_backup
from erp_desktop.store.engine import dbapi, is_sqlite_error
from erp_desktop.store.keyfile import KeyFile, key_file_path

Progress = Callable[[int, int], None]
Cancelled = Callable[[], bool]


@dataclass(frozen=True)
class RestoredCompany:
    path: Path
    backup: Path
    set_aside: Path | None  # the replaced files, kept so the restore can be undone


def default_backup_folder(ctx: Context) -> Path:
    """Where this company's backups go unless the person chooses a file."""
    return store_backup.backup_dir_for(ctx.path, ctx.config.backup_dir)


def _audit_created(ctx: Context, target: Path, reason: str) -> None:
    with ctx.db.write(ctx.actor.user_id) as s:
        # The event follows the copy, so the backup does not hold it; recording it
        # first would claim a backup that a full disk may yet refuse.
        audit.record(s, ctx, "backup.created", entity="backup",
                     details={"reason": reason, "file": target.name,
                              "bytes": target.stat().st_size})


def create_backup(ctx: Context, target: Path | None = None, progress: Progress | None = None,
                  cancelled: Cancelled | None = None) -> Path:
    """Back up the open company to `target` (a new file), or into the company's
    backup folder (pruned to `keep_backups`) when no target is given."""
    ctx.require("backup.create")
    if target is None:
        path = store_backup.auto_backup(ctx.path, ctx.vault.db_key, default_backup_folder(ctx),
                                        "manual", ctx.config.keep_backups, ctx.now(),
                                        progress=progress, cancelled=cancelled)
    else:
        target = Path(target)
        if target.suffix.lower() != store_backup.BACKUP_SUFFIX:
            raise ValidationError(
                f"A backup file name must end in {store_backup.BACKUP_SUFFIX}, "
                f"for example {target.stem or 'backup'}{store_backup.BACKUP_SUFFIX}.",
                field="target")
        if not target.parent.is_dir():
            raise ValidationError(f"The folder {target.parent} does not exist.", field="target")
        path = store_backup.backup_company(ctx.path, ctx.vault.db_key, target,
                                           progress=progress, cancelled=cancelled)
    _audit_created(ctx, path, "manual")
    return path


def _automatic(ctx: Context, reason: str, progress: Progress | None,
               cancelled: Cancelled | None) -> Path:
    path = store_backup.auto_backup(ctx.path, ctx.vault.db_key, default_backup_folder(ctx),
                                    reason, ctx.config.keep_backups, ctx.now(),
                                    progress=progress, cancelled=cancelled)
    _audit_created(ctx, path, reason)
    return path


def on_close_backup(ctx: Context, progress: Progress | None = None,
                    cancelled: Cancelled | None = None) -> Path | None:
    """The backup taken when a user who may back up closes the company.

    Skipped (None) when automatic backups are off or the user lacks
    `backup.create`; no permission denial is audited, nothing was asked for.
    """
    if not ctx.config.auto_backup or not ctx.actor.can("backup.create"):
        return None
    return _automatic(ctx, "on-close", progress, cancelled)


def daily_backup_if_due(ctx: Context, progress: Progress | None = None,
                        cancelled: Cancelled | None = None) -> Path | None:
    """A backup when the company's folder has none from the last 24 hours.

    Taken whoever is logged in (when `auto_backup` is on): a shop where only
    clerks open the app still gets its daily safety copy, and the copy, under
    the same key in the app's own folder, opens for nobody who could not
    already log in to the company.
    """
    if not ctx.config.auto_backup:
        return None
    if not store_backup.daily_backup_due(default_backup_folder(ctx), ctx.now()):
        return None
    return _automatic(ctx, "daily", progress, cancelled)


# ------------------------------------------------------------------------ restore


def _role_permissions_in(backup: Path, db_key: bytes, login_key: str) -> tuple[bool, str] | None:
    """(active, permissions JSON) of a live user of the backup, read-only, or None.

    Plain SQL on a read-only connection: opening the backup through the ORM
    would upgrade an older backup in place, and a backup is never changed.
    """
    uri = Path(os.path.abspath(backup)).as_uri() + "?mode=ro"
    try:
        con = dbapi.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except Exception as exc:
        if is_sqlite_error(exc):
            raise StoreError(f"{backup.name} cannot be read ({exc}).") from exc
        raise
    try:
        con.execute("PRAGMA cipher_log_level = NONE")
        con.execute(f"PRAGMA key = \"x'{db_key.hex()}'\"")
        row: Any = con.execute(
            "SELECT u.active, r.permissions FROM app_user u JOIN role r ON r.id = u.role_id "
            "WHERE u.login_key = ? AND u.deleted_at IS NULL AND r.deleted_at IS NULL",
            (login_key,)).fetchone()
    except Exception as exc:
        if is_sqlite_error(exc):
            raise NotACompanyFile(f"{backup.name} is not a readable erp_desktop backup: it is "
                                  "damaged or from another program.") from exc
        raise
    finally:
        con.close()
    return None if row is None else (bool(row[0]), str(row[1] or "[]"))


def _check_same_company(company_path: Path, backup_keyfile: KeyFile) -> None:
    try:
        live = KeyFile.load(key_file_path(company_path))
    except KeyFileError:
        return  # no readable live key file: nothing to confuse the backup with
    if live.file_id != backup_keyfile.file_id:
        raise ValidationError(
            "This backup belongs to a different company file. Restore it as a new company "
            "file (choose a path where no company file exists) instead of replacing this one.",
            field="backup")


def restore_backup(company_path: Path, backup_path: Path, login_name: str, password: str, *,
                   config: AppConfig, device: DeviceInfo,
                   clock: Callable[[], datetime] = system_clock) -> RestoredCompany:
    """Put the backup `backup_path` in place of `company_path`.

    `login_name`/`password` must be an active admin (a role granting
    `backup.restore`) *in the backup*. Every connection to `company_path` must
    be closed. The replaced files are set aside (`RestoredCompany.set_aside`);
    the restore is audited in the restored file, by that admin.
    """
    company_path, backup_path = Path(company_path), Path(backup_path)
    if not login_name.strip():
        raise ValidationError("Enter the login name of an admin of the backup.",
                              field="login_name")
    if not password:
        raise ValidationError("Enter the password that admin had when the backup was taken.",
                              field="password")
    if not backup_path.is_file():
        raise StoreError(f"The backup {backup_path} does not exist.", field="backup")
    backup_keyfile = KeyFile.load(key_file_path(backup_path), kdf=config.kdf)
    _check_same_company(company_path, backup_keyfile)
    try:
        db_key = backup_keyfile.unlock_with_password(login_name, password)
    except WrongPassword:
        raise WrongPassword("That login name and password do not open this backup. Use the "
                            "password the admin had when the backup was taken.") from None
    store_backup.verify_backup(backup_path, db_key)
    found = _role_permissions_in(backup_path, db_key, login_name.strip().casefold())
    if found is None:
        raise WrongPassword("That login name and password do not open this backup.")
    active, permissions = found
    if not active:
        raise AccountDisabled("That login is disabled in the backup.")
    if "backup.restore" not in json.loads(permissions):
        raise PermissionDenied("backup.restore",
                               "Only an admin of the backup (with the right to restore) can "
                               "restore it.")

    set_aside = store_backup.restore_company(backup_path, company_path, db_key)

    # Logging in to the restored file checks it opens end to end (and upgrades
    # an older backup, after its own safety copy) and gives the audit its actor.
    ctx = auth.login(company_path, login_name, password, config=config, device=device,
                     clock=clock)
    try:
        with ctx.db.write(ctx.actor.user_id) as s:
            audit.record(s, ctx, "backup.restored", entity="backup",
                         details={"file": backup_path.name,
                                  "set_aside": set_aside.name if set_aside else None})
    finally:
        ctx.close()
    return RestoredCompany(path=company_path, backup=backup_path, set_aside=set_aside)
