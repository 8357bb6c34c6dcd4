"""Logging in is unlocking: a user's password opens their key slot.

`login` checks the throttle kept in the key file (slower after 5 failures,
locked for 15 minutes after 10: the counters must survive a restart and the
database cannot be read before the key is known), unwraps the database key,
opens and upgrades the file, moves the sealed failed-login events from the
key file into the audit trail, and returns the user's `Context`. Every
attempt, good or bad, is recorded with time and device.

The recovery passphrase opens the file for an admin who forgot their
password (`recover_admin`); "unlock with this computer" keeps a secret in the
OS keychain that opens the file as one remembered user (`login_with_keychain`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import (
    AccountDisabled,
    KeyFileError,
    LoginLocked,
    NotFound,
    UserError,
    ValidationError,
    WrongPassword,
)
from erp_desktop.domain.passwords import check_password
from erp_desktop.models.company import Device, LocalSecret
from erp_desktop.models.database import Database
from erp_desktop.models.security import LoginEvent, Role, User
from erp_desktop.services import audit
from erp_desktop.services.company import EVENTS_KEY, THIS_DEVICE
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Actor, Context, DeviceInfo, Vault, system_clock
from erp_desktop.store import backup as store_backup
from erp_desktop.store.company_file import check_company_file, open_database
from erp_desktop.store.keychain import Keychain
from erp_desktop.store.keyfile import (
    KeyFile,
    generate_device_secret,
    key_file_path,
    normalise_login,
)

Clock = Callable[[], datetime]


def _device_details(device: DeviceInfo) -> dict[str, str]:
    return {"host": device.host, "os": device.os, "app_version": device.app_version}


def _load_keyfile(path: Path, config: AppConfig) -> KeyFile:
    check_company_file(path)
    return KeyFile.load(key_file_path(path), kdf=config.kdf)


def _open(path: Path, db_key: bytes, config: AppConfig, clock: Clock) -> Database:
    def backup_before_upgrade(reason: str) -> object:
        folder = store_backup.backup_dir_for(path, config.backup_dir)
        return store_backup.auto_backup(path, db_key, folder, reason, config.keep_backups, clock())

    engine = open_database(path, db_key, cache_kib=config.cache_kib,
                           backup=backup_before_upgrade if config.auto_backup else None)
    return Database(engine)


def _actor_for(session: Session, user: User) -> Actor:
    role = session.get(Role, user.role_id)
    live = role is not None and role.deleted_at is None
    perms = frozenset(json.loads(role.permissions)) if live else frozenset()
    return Actor(user.id, user.login_name, user.full_name, role.name if role else "", perms)


def _this_device(session: Session, device: DeviceInfo) -> DeviceInfo:
    secret = session.get(LocalSecret, THIS_DEVICE)
    if secret is None:
        return device
    row = session.get(Device, uuid.UUID(bytes=bytes(secret.value)))
    if row is None:
        return device
    return DeviceInfo(host=device.host, os=device.os, app_version=device.app_version,
                      code=row.code)


def _absorb_sealed_events(session: Session, keyfile: KeyFile, now: datetime) -> int:
    """Move the login events sealed in the key file into the database.

    Besides failed passwords the queue can hold attempts refused during a
    lock-out, a count of events dropped when the queue overflowed, and events
    that no longer decrypt (the key file was tampered with); each is audited.
    """
    if not keyfile.sealed_event_count():
        return 0
    secret = session.get(LocalSecret, EVENTS_KEY)
    if secret is None:
        return 0
    events = keyfile.take_sealed_events(bytes(secret.value))
    for ev in events:
        kind = ev.get("event")
        if kind == "sealed_events_dropped":
            audit.record(session, None, "login.failed_events_dropped", at=now,
                         details={"count": ev.get("count")})
            continue
        if kind not in ("login_failed", "login_refused_locked") or "at" not in ev:
            audit.record(session, None, "login.sealed_event_unreadable", at=now)
            continue
        at = datetime.fromisoformat(ev["at"])
        login = ev.get("login")
        user = session.scalars(
            select(User).where(User.login_key == login)).first() if login else None
        if kind == "login_refused_locked":
            reason, action = "refused while locked", "login.refused_locked"
        else:
            reason = "wrong password, now locked" if ev.get("locked") else "wrong password"
            action = "login.failed"
        session.add(LoginEvent(
            at=at, login_name=login or "(unknown login)", user_id=user.id if user else None,
            success=False, reason=reason, host=ev.get("host"), os=ev.get("os"),
            app_version=ev.get("app_version")))
        audit.record(session, None, action, entity="user",
                     entity_id=user.id if user else None, at=at,
                     actor_id=user.id if user else None, actor_name=login,
                     details={"failures": ev.get("failures"), "locked": ev.get("locked"),
                              "known_user": ev.get("known_user"), "host": ev.get("host")})
    return len(events)


def _finish_login(db: Database, keyfile: KeyFile, login_key: str, device: DeviceInfo,
                  clock: Clock, method: str) -> tuple[Actor, DeviceInfo]:
    refusal: UserError | None = None
    with db.write() as s:
        _absorb_sealed_events(s, keyfile, clock())
        user = s.scalars(select(User).where(User.login_key == login_key)).first()
        dev = _this_device(s, device)
        if user is None or user.deleted_at is not None:
            # A slot without a user row (e.g. the row was rolled back): refuse like
            # any wrong login, but keep the absorbed events (committed below).
            refusal = WrongPassword("Wrong login name or password.")
        elif not user.active:
            s.add(LoginEvent(at=clock(), login_name=user.login_name, user_id=user.id,
                             success=False, reason="disabled", **_device_details(device)))
            audit.record(s, None, "login.refused_disabled", entity="user", entity_id=user.id,
                         actor_id=user.id, actor_name=user.login_name, device_code=dev.code,
                         at=clock(), details={"host": device.host})
            refusal = AccountDisabled("This login has been disabled. Ask an admin.")
        else:
            s.info["actor_id"] = user.id
            user.last_login_at = clock()
            s.add(LoginEvent(at=clock(), login_name=user.login_name, user_id=user.id,
                             success=True, reason=method, **_device_details(device)))
            audit.record(s, None, "login.succeeded", entity="user", entity_id=user.id,
                         actor_id=user.id, actor_name=user.login_name, device_code=dev.code,
                         at=clock(), details={"method": method, "host": device.host})
            actor = _actor_for(s, user)
    # The sealed events now live in the database: drop them from the key file,
    # also when the login is refused (the refusal itself is committed above).
    keyfile.save()
    if refusal is not None:
        raise refusal
    return actor, dev


def _check_not_locked(keyfile: KeyFile, login_name: str, now: datetime, config: AppConfig,
                      device: DeviceInfo) -> None:
    """Refuse a locked login; the refused attempt is sealed for the audit trail too."""
    try:
        keyfile.check_login_allowed(login_name, now, config.throttle)
    except LoginLocked:
        known = keyfile.has_user(login_name)
        keyfile.append_sealed_event({
            **_device_details(device), "event": "login_refused_locked", "at": now.isoformat(),
            "login": normalise_login(login_name) if known else None, "known_user": known,
            "failures": keyfile.failure_count(login_name), "locked": True})
        keyfile.save()
        raise


def login(path: Path, login_name: str, password: str, *, config: AppConfig,
          device: DeviceInfo, clock: Clock = system_clock) -> Context:
    """Unlock the company file with a user's password and log them in."""
    path = Path(path)
    if not login_name.strip():
        raise ValidationError("Enter your login name.", field="login_name")
    if not password:
        raise ValidationError("Enter your password.", field="password")
    keyfile = _load_keyfile(path, config)
    now = clock()
    _check_not_locked(keyfile, login_name, now, config, device)
    try:
        db_key = keyfile.unlock_with_password(login_name, password)
    except WrongPassword:
        keyfile.record_failure(login_name, now, config.throttle, details=_device_details(device))
        keyfile.save()
        raise
    keyfile.record_success(login_name)
    db = _open(path, db_key, config, clock)
    try:
        actor, dev = _finish_login(db, keyfile, normalise_login(login_name), device, clock,
                                   "password")
    except BaseException:
        db.dispose()
        raise
    return Context(db=db, path=path, vault=Vault(keyfile, db_key), actor=actor, device=dev,
                   config=config, clock=clock)


def recover_admin(path: Path, passphrase: str, login_name: str, new_password: str, *,
                  config: AppConfig, device: DeviceInfo, clock: Clock = system_clock) -> Context:
    """Open the file with the recovery passphrase and set a new password for an admin."""
    path = Path(path)
    keyfile = _load_keyfile(path, config)
    now = clock()
    _check_not_locked(keyfile, "(recovery)", now, config, device)
    try:
        db_key = keyfile.unlock_with_recovery(passphrase)
    except WrongPassword:
        keyfile.record_failure("(recovery)", now, config.throttle,
                               details=_device_details(device))
        keyfile.save()
        raise
    keyfile.record_success("(recovery)")
    db = _open(path, db_key, config, clock)
    try:
        with db.read() as s:
            user = s.scalars(select(User).where(
                User.login_key == _login_key_or_blank(login_name))).first()
            if user is None or user.deleted_at is not None or not user.active:
                raise NotFound(f"There is no active user '{login_name}'.", field="login_name")
            actor = _actor_for(s, user)
        if not actor.can("users.manage"):
            raise UserError("The recovery passphrase can only reset the password of an admin.",
                            field="login_name")
        check_password(new_password, user.login_name)
        with db.write(user.id) as s:
            u = s.get(User, user.id)
            u.password_changed_at = clock()
            audit.record(s, None, "user.password_recovered", entity="user", entity_id=user.id,
                         actor_id=user.id, actor_name=user.login_name, at=clock(),
                         details={"host": device.host})
            # Last in the transaction: if the key file cannot be saved, nothing is
            # recorded as recovered.
            keyfile.add_user_slot(user.login_name, new_password, db_key)
            keyfile.record_success(user.login_name)
            keyfile.save()
        actor, dev = _finish_login(db, keyfile, user.login_key, device, clock, "recovery")
    except BaseException:
        db.dispose()
        raise
    return Context(db=db, path=path, vault=Vault(keyfile, db_key), actor=actor, device=dev,
                   config=config, clock=clock)


def _login_key_or_blank(login_name: str) -> str:
    try:
        return normalise_login(login_name)
    except ValueError:
        return ""


def _keychain_name(keyfile: KeyFile, login_key: str) -> str:
    return f"{keyfile.keychain_entry_name}:{login_key}"


def remember_on_this_computer(ctx: Context, keychain: Keychain) -> None:
    """Keep a secret in the OS keychain that opens this file as the current user."""
    if not keychain.available():
        raise UserError(keychain.reason_unavailable())
    login_key = normalise_login(ctx.actor.login_name)
    secret = generate_device_secret()
    keychain.set(_keychain_name(ctx.vault.keyfile, login_key), secret)
    ctx.vault.add_device_slot(login_key, secret)
    with ctx.db.write(ctx.actor.user_id) as s:
        audit.record(s, ctx, "login.remembered_on_device", entity="user",
                     entity_id=ctx.actor.user_id, details={"host": ctx.device.host})


def forget_this_computer(ctx: Context, keychain: Keychain) -> None:
    login_key = normalise_login(ctx.actor.login_name)
    if keychain.available():
        keychain.delete(_keychain_name(ctx.vault.keyfile, login_key))
    ctx.vault.remove_device_slot(login_key)
    with ctx.db.write(ctx.actor.user_id) as s:
        audit.record(s, ctx, "login.forgotten_on_device", entity="user",
                     entity_id=ctx.actor.user_id, details={"host": ctx.device.host})


def remembered_login(path: Path, login_name: str, keychain: Keychain, config: AppConfig) -> bool:
    """True when this computer can open the file as `login_name` without a password."""
    try:
        keyfile = _load_keyfile(Path(path), config)
    except (KeyFileError, UserError):
        return False
    login_key = _login_key_or_blank(login_name)
    try:
        return keychain.available() and keyfile.has_device_slot(login_key) and \
            keychain.get(_keychain_name(keyfile, login_key)) is not None
    except (UserError, ValueError):  # a locked keychain: offer the password instead
        return False


def login_with_keychain(path: Path, login_name: str, keychain: Keychain, *, config: AppConfig,
                        device: DeviceInfo, clock: Clock = system_clock) -> Context:
    path = Path(path)
    if not keychain.available():
        raise UserError(keychain.reason_unavailable())
    keyfile = _load_keyfile(path, config)
    login_key = _login_key_or_blank(login_name)
    if not login_key:
        raise ValidationError("Enter your login name.", field="login_name")
    secret = keychain.get(_keychain_name(keyfile, login_key))
    if secret is None or not keyfile.has_device_slot(login_key):
        raise WrongPassword("This computer does not remember that login. Use your password.")
    db_key = keyfile.unlock_with_device(login_key, secret)
    db = _open(path, db_key, config, clock)
    try:
        actor, dev = _finish_login(db, keyfile, login_key, device, clock, "keychain")
    except BaseException:
        db.dispose()
        raise
    return Context(db=db, path=path, vault=Vault(keyfile, db_key), actor=actor, device=dev,
                   config=config, clock=clock)


def logout(ctx: Context) -> None:
    with ctx.db.write(ctx.actor.user_id) as s:
        audit.record(s, ctx, "logout", entity="user", entity_id=ctx.actor.user_id)
    ctx.close()
