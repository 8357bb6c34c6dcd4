"""Who is acting, on which company file, from which device: the `Context`.

A `Context` is made by a successful login (`services.auth`) and passed to every
use case explicitly; there is no global "current user" or "current company".
The `Vault` holds the unlocked database key and the key file, so that a use
case that adds a user or changes a password can rewrite that user's slot.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from erp_desktop.domain.errors import KeyFileError, PermissionDenied
from erp_desktop.services.config import AppConfig, DeviceInfo
from erp_desktop.store.keyfile import KeyFile

if TYPE_CHECKING:  # the ORM loads after the login window is up, not at start-up
    from erp_desktop.models.database import Database


@dataclass(frozen=True)
class Actor:
    user_id: uuid.UUID
    login_name: str
    full_name: str
    role_name: str
    permissions: frozenset[str]

    def can(self, permission: str) -> bool:
        return permission in self.permissions


class Vault:
    """The unlocked database key and the key file of an open company.

    Every change re-reads the key file from disk, applies the change and saves
    it: the copy loaded at login may be stale (a failed login at another window
    added throttle counters and sealed events since), and saving it would
    silently drop those. If saving fails, `keyfile` keeps its previous state.
    """

    def __init__(self, keyfile: KeyFile, db_key: bytes) -> None:
        self.keyfile = keyfile
        self._db_key = db_key

    @property
    def db_key(self) -> bytes:
        return self._db_key

    def _change(self, change: Callable[[KeyFile], bool]) -> None:
        fresh = KeyFile.load(self.keyfile.path, kdf=self.keyfile.kdf)
        if not fresh.key_matches(self._db_key):
            raise KeyFileError(f"The key file {fresh.path} no longer belongs to this company "
                               "file; nothing was changed. Log out and in again.")
        if change(fresh):
            fresh.save()
        self.keyfile = fresh

    def set_user_password(self, login: str, password: str) -> None:
        """Write `login`'s slot for `password` and clear its failed-login counter."""

        def change(kf: KeyFile) -> bool:
            kf.add_user_slot(login, password, self._db_key)
            kf.record_success(login)  # a new password ends a lock-out
            return True

        self._change(change)

    def remove_user(self, login: str) -> None:
        self._change(lambda kf: kf.remove_user_slot(login))

    def remove_login(self, login: str) -> None:
        """Remove every way `login` could open the file: password and device slots."""

        def change(kf: KeyFile) -> bool:
            removed_user = kf.remove_user_slot(login)
            removed_device = kf.remove_device_slot(login)
            return removed_user or removed_device

        self._change(change)

    def add_device_slot(self, label: str, secret: bytes) -> None:
        def change(kf: KeyFile) -> bool:
            kf.add_device_slot(label, secret, self._db_key)
            return True

        self._change(change)

    def remove_device_slot(self, label: str) -> None:
        self._change(lambda kf: kf.remove_device_slot(label))

    def __repr__(self) -> str:
        return f"Vault({self.keyfile.path.name}, key=<hidden>)"


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Context:
    db: Database
    path: Path
    vault: Vault
    actor: Actor
    device: DeviceInfo
    config: AppConfig
    clock: Callable[[], datetime] = system_clock
    extra: dict[str, object] = field(default_factory=dict)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().date()

    def require(self, permission: str) -> None:
        """The one authorisation call of a use case; denials are audited."""
        if self.actor.can(permission):
            return
        from erp_desktop.services import audit  # late: audit imports this module

        with self.db.write(self.actor.user_id) as session:
            audit.record(session, self, "permission.denied", details={"permission": permission})
        raise PermissionDenied(permission)

    def close(self) -> None:
        self.db.dispose()
