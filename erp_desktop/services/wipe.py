"""Wipe this computer: remove the company file, its WAL, shared memory, key file and
keychain entries, so that nothing readable of the company is left behind.

Two steps, so the UI and the CLI can offer a final export and backup first:
`prepare_wipe` says what will be removed, whether this user may take a final
export and backup, and where they would go; `wipe_company` does it, only when
the company's legal name is typed exactly. Backups already taken are not
touched (they are the copy the person chose to keep, encrypted under the same
passwords); the result names their folder.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from erp_desktop.domain.errors import UserError, ValidationError
from erp_desktop.models.company import Company
from erp_desktop.models.security import User
from erp_desktop.services import audit
from erp_desktop.services.backup import default_backup_folder
from erp_desktop.services.context import Context
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.keychain import Keychain


@dataclass(frozen=True)
class WipePlan:
    company_name: str  # what the person must type, exactly
    files: list[Path]  # that exist now and will be removed
    keychain_entries: int  # "unlock with this computer" entries that may exist
    can_export: bool  # may take a final export (data.export)
    can_backup: bool  # may take a final backup (backup.create)
    backup_folder: Path
    suggested_export: Path


@dataclass(frozen=True)
class WipeResult:
    removed_files: list[Path]
    keychain_entries_removed: int
    backups_kept_in: Path
    warnings: list[str]


def _keychain_names(ctx: Context) -> list[str]:
    # Every login this file has known: a removed user may still have left an entry.
    with ctx.db.read() as s:
        keys = sorted(set(s.scalars(select(User.login_key))))
    prefix = ctx.vault.keyfile.keychain_entry_name
    return [f"{prefix}:{k}" for k in keys]


def prepare_wipe(ctx: Context) -> WipePlan:
    """What `wipe_company` would remove, and the final export and backup to offer first."""
    ctx.require("company.wipe")
    with ctx.db.read() as s:
        name = s.scalar(select(Company.legal_name)) or ""
    folder = default_backup_folder(ctx)
    stamp = ctx.now().strftime("%Y%m%d-%H%M")
    return WipePlan(name, [p for p in sidecar_paths(ctx.path) if p.exists()],
                    len(_keychain_names(ctx)), ctx.actor.can("data.export"),
                    ctx.actor.can("backup.create"), folder,
                    folder / f"{ctx.path.stem} final export {stamp}.json")


def _shred_key_file(path: Path) -> None:
    """Overwrite the key file before removing it: its slots are what unlock the data."""
    try:
        size = path.stat().st_size
        with open(path, "r+b") as fh:
            fh.write(secrets.token_bytes(size))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError:
        pass  # removing it below is what counts
    path.unlink(missing_ok=True)


def wipe_company(ctx: Context, typed_name: str, keychain: Keychain) -> WipeResult:
    """Remove the company from this computer when `typed_name` is its legal name exactly.

    Closes `ctx` (the company is gone afterwards). Refused, with nothing
    removed, when the name differs.
    """
    ctx.require("company.wipe")
    with ctx.db.read() as s:
        name = s.scalar(select(Company.legal_name)) or ""
    if typed_name != name:
        raise ValidationError("The name typed is not the company's name exactly (letters, "
                              "spaces and capitals count); nothing was removed.",
                              field="company_name")
    names = _keychain_names(ctx)
    with ctx.db.write(ctx.actor.user_id) as s:
        # Kept by any copy taken before (the final backup); it also marks an attempt
        # that could not finish (a file another program holds open).
        audit.record(s, ctx, "company.wiped", entity="company",
                     details={"files": len(sidecar_paths(ctx.path)),
                              "keychain_entries": len(names)})
    folder = default_backup_folder(ctx)
    ctx.close()
    removed: list[Path] = []
    warnings: list[str] = []
    db, wal, shm, key = sidecar_paths(ctx.path)
    for path in (db, wal, shm):
        if path.exists():
            try:
                path.unlink()
                removed.append(path)
            except OSError as exc:
                warnings.append(f"{path} could not be removed ({exc.strerror}); close every "
                                "program using it and delete it by hand.")
    if key.exists():
        _shred_key_file(key)
        if key.exists():
            warnings.append(f"{key} could not be removed; delete it by hand.")
        else:
            removed.append(key)
    gone = 0
    if keychain.available():
        for entry in names:
            try:
                if keychain.get(entry) is not None:
                    keychain.delete(entry)
                    gone += 1
            except UserError as exc:
                warnings.append(exc.message)
                break
    return WipeResult(removed, gone, folder, warnings)
