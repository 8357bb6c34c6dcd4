"""Users of a company file: add, change, reset, disable, re-enable, change role.

A user's password *is* their key slot in the key file (see `store.keyfile`):
adding a user, changing or resetting a password writes that slot, and
disabling a user removes it (and any "remember this computer" slot of that
login), so a disabled user cannot even decrypt the file. The slot is written
last inside the use case's transaction: if the key file cannot be saved, the
transaction rolls back and nothing is half done.

An "admin" here is an active user whose role grants `users.manage` (such a
user can give themselves any role). The last one can neither be disabled nor
lose that right, so the company can never lock itself out.

Permissions are read once, at login (`Actor.permissions`): a role change takes
effect at the user's next login, not in a session that is already open.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from erp_desktop.domain.errors import Conflict, NotFound, ValidationError, WrongPassword
from erp_desktop.domain.passwords import check_password
from erp_desktop.models.security import Role, User
from erp_desktop.services import audit
from erp_desktop.services.company import validate_login_name
from erp_desktop.services.context import Context
from erp_desktop.store.keyfile import normalise_login

ADMIN_PERMISSION = "users.manage"
LAST_ADMIN_MESSAGE = "At least one active admin must remain."

# Editable through update_user, with their length limits. The login name is not
# here: it labels the user's key slot, which only their password can re-seal.
_PROFILE_FIELDS = {"full_name": 200, "email": 200, "phone": 40, "job_title": 120,
                   "department": 120}


@dataclass(frozen=True)
class UserRow:
    id: uuid.UUID
    login_name: str
    full_name: str
    email: str | None
    phone: str | None
    job_title: str | None
    department: str | None
    active: bool
    role_name: str
    role_label: str
    last_login_at: datetime | None
    version: int


def _row(user: User, role: Role | None) -> UserRow:
    return UserRow(id=user.id, login_name=user.login_name, full_name=user.full_name,
                   email=user.email, phone=user.phone, job_title=user.job_title,
                   department=user.department, active=user.active,
                   role_name=role.name if role else "", role_label=role.label if role else "",
                   last_login_at=user.last_login_at, version=user.version)


def role_permissions(role: Role | None) -> frozenset[str]:
    if role is None or role.deleted_at is not None:
        return frozenset()
    return frozenset(json.loads(role.permissions or "[]"))


def active_admin_ids(session: Session) -> set[uuid.UUID]:
    """Active users whose role lets them manage users (and so everything else)."""
    rows = session.execute(
        select(User.id, Role).join(Role, Role.id == User.role_id)
        .where(User.active.is_(True), User.deleted_at.is_(None))).all()
    return {uid for uid, role in rows if ADMIN_PERMISSION in role_permissions(role)}


def _load(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None or user.deleted_at is not None:
        raise NotFound("That user does not exist (it may have been removed).")
    return user


def _role_by_name(session: Session, role_name: str) -> Role:
    role = session.scalars(select(Role).where(Role.name == (role_name or "").strip(),
                                              Role.deleted_at.is_(None))).first()
    if role is None:
        raise ValidationError(f"There is no role '{role_name}'.", field="role_name")
    return role


def _clean_profile(fields: dict[str, object]) -> dict[str, str | None]:
    clean: dict[str, str | None] = {}
    for name, value in fields.items():
        if name not in _PROFILE_FIELDS:
            raise ValidationError(f"'{name}' cannot be changed here.", field=name)
        if value is not None and not isinstance(value, str):
            raise ValidationError(f"{name.replace('_', ' ').capitalize()} must be text.",
                                  field=name)
        text = (value or "").strip() or None
        if text is not None and len(text) > _PROFILE_FIELDS[name]:
            raise ValidationError(f"{name.replace('_', ' ').capitalize()} is at most "
                                  f"{_PROFILE_FIELDS[name]} characters.", field=name)
        clean[name] = text
    if "full_name" in clean and clean["full_name"] is None:
        raise ValidationError("Enter the person's full name.", field="full_name")
    email = clean.get("email")
    if email is not None:
        local, at, domain = email.partition("@")
        if not at or not local or "." not in domain or " " in email:
            raise ValidationError(f"'{email}' is not an email address.", field="email")
    return clean


def _flush(session: Session, user: User) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise _stale(user) from None


def _stale(user: User) -> Conflict:
    return Conflict(f"User '{user.login_name}' was changed by someone else since you opened it. "
                    "Reload and try again.")


def _check_new_password(password: str, login_name: str) -> None:
    if not isinstance(password, str):
        raise ValidationError("Enter a password.", field="password")
    check_password(password, login_name)


# ----------------------------------------------------------------------- queries


def list_users(ctx: Context, include_inactive: bool = True) -> list[UserRow]:
    ctx.require("users.view")
    q = (select(User, Role).join(Role, Role.id == User.role_id)
         .where(User.deleted_at.is_(None)).order_by(User.login_key))
    if not include_inactive:
        q = q.where(User.active.is_(True))
    with ctx.db.read() as s:
        return [_row(u, r) for u, r in s.execute(q).all()]


def get_user(ctx: Context, user_id: uuid.UUID) -> UserRow:
    ctx.require("users.view")
    with ctx.db.read() as s:
        user = _load(s, user_id)
        return _row(user, s.get(Role, user.role_id))


# ------------------------------------------------------------------- use cases


def add_user(ctx: Context, login_name: str, full_name: str, password: str, role_name: str, *,
             email: str | None = None, phone: str | None = None, job_title: str | None = None,
             department: str | None = None) -> UserRow:
    """A new login with its own password (its own key slot)."""
    ctx.require("users.manage")
    login = validate_login_name(login_name)
    profile = _clean_profile({"full_name": full_name, "email": email, "phone": phone,
                              "job_title": job_title, "department": department})
    _check_new_password(password, login)
    with ctx.db.write(ctx.actor.user_id) as s:
        key = normalise_login(login)
        # Tombstoned users count too: their login name stays theirs in the history.
        existing = s.scalars(select(User).where(User.login_key == key)).first()
        if existing is not None:
            raise ValidationError(f"There is already a user '{existing.login_name}'.",
                                  field="login_name")
        role = _role_by_name(s, role_name)
        user = User(login_name=login, login_key=key, role_id=role.id, active=True,
                    password_changed_at=ctx.now(), **profile)
        s.add(user)
        s.flush()
        audit.record(s, ctx, "user.added", entity="user", entity_id=user.id,
                     details={"role": role.name})
        row = _row(user, role)
        ctx.vault.set_user_password(login, password)  # last: a failure rolls back
    return row


def change_own_password(ctx: Context, old_password: str, new_password: str) -> None:
    """The logged-in user changes their own password.

    No permission is asked for: every user owns their password (a role without
    any permission still logs in). The old password must open the key file.
    """
    login = ctx.actor.login_name
    try:
        ctx.vault.keyfile.unlock_with_password(login, old_password or "")
    except WrongPassword:
        with ctx.db.write(ctx.actor.user_id) as s:
            audit.record(s, ctx, "user.password_change_refused", entity="user",
                         entity_id=ctx.actor.user_id)
        raise WrongPassword("Your current password is not correct.",
                            field="old_password") from None
    _check_new_password(new_password, login)
    if new_password == old_password:
        raise ValidationError("The new password must differ from the current one.",
                              field="password")
    with ctx.db.write(ctx.actor.user_id) as s:
        user = _load(s, ctx.actor.user_id)
        if not user.active:
            raise ValidationError("This login has been disabled. Ask an admin.")
        user.password_changed_at = ctx.now()
        audit.record(s, ctx, "user.password_changed", entity="user", entity_id=user.id)
        s.flush()
        ctx.vault.set_user_password(user.login_name, new_password)


def reset_password(ctx: Context, user_id: uuid.UUID, new_password: str) -> UserRow:
    """An admin sets a new password for someone (the old one stops working)."""
    ctx.require("users.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        user = _load(s, user_id)
        if not user.active:
            raise ValidationError(f"User '{user.login_name}' is disabled; enable the login to "
                                  "give it a new password.")
        _check_new_password(new_password, user.login_name)
        user.password_changed_at = ctx.now()
        audit.record(s, ctx, "user.password_reset", entity="user", entity_id=user.id)
        _flush(s, user)
        row = _row(user, s.get(Role, user.role_id))
        ctx.vault.set_user_password(user.login_name, new_password)
    return row


def update_user(ctx: Context, user_id: uuid.UUID, version: int, **fields: object) -> UserRow:
    """Change name and contact details (optimistic locking on `version`)."""
    ctx.require("users.manage")
    if not fields:
        raise ValidationError("Nothing to change.")
    clean = _clean_profile(fields)
    with ctx.db.write(ctx.actor.user_id) as s:
        user = _load(s, user_id)
        if user.version != version:
            raise _stale(user)
        changed = sorted(k for k, v in clean.items() if getattr(user, k) != v)
        for k in changed:
            setattr(user, k, clean[k])
        if changed:
            audit.record(s, ctx, "user.updated", entity="user", entity_id=user.id,
                         details={"fields": changed})
            _flush(s, user)
        return _row(user, s.get(Role, user.role_id))


def set_role(ctx: Context, user_id: uuid.UUID, role_name: str) -> UserRow:
    """Give a user another role; it takes effect at their next login."""
    ctx.require("users.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        user = _load(s, user_id)
        new_role = _role_by_name(s, role_name)
        old_role = s.get(Role, user.role_id)
        if old_role is not None and old_role.id == new_role.id:
            return _row(user, new_role)
        admins = active_admin_ids(s)
        if (user.id in admins and ADMIN_PERMISSION not in role_permissions(new_role)
                and len(admins) == 1):
            raise ValidationError(LAST_ADMIN_MESSAGE, field="role_name")
        user.role_id = new_role.id
        audit.record(s, ctx, "user.role_changed", entity="user", entity_id=user.id,
                     details={"from": old_role.name if old_role else None,
                              "to": new_role.name})
        _flush(s, user)
        return _row(user, new_role)


def disable_user(ctx: Context, user_id: uuid.UUID) -> UserRow:
    """Stop a login: it can no longer unlock the file (its slots are removed)."""
    ctx.require("users.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        user = _load(s, user_id)
        role = s.get(Role, user.role_id)
        if user.id == ctx.actor.user_id:
            raise ValidationError("You cannot disable your own login.")
        if not user.active:
            return _row(user, role)
        admins = active_admin_ids(s)
        if user.id in admins and len(admins) == 1:
            raise ValidationError(LAST_ADMIN_MESSAGE)
        user.active = False
        audit.record(s, ctx, "user.disabled", entity="user", entity_id=user.id)
        _flush(s, user)
        row = _row(user, role)
        ctx.vault.remove_login(user.login_name)
    return row


def enable_user(ctx: Context, user_id: uuid.UUID, new_password: str) -> UserRow:
    """Let a disabled login back in, with a new password (its slot was removed)."""
    ctx.require("users.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        user = _load(s, user_id)
        if user.active:
            raise ValidationError(f"User '{user.login_name}' is already active; reset the "
                                  "password instead.")
        _check_new_password(new_password, user.login_name)
        user.active = True
        user.password_changed_at = ctx.now()
        audit.record(s, ctx, "user.enabled", entity="user", entity_id=user.id)
        _flush(s, user)
        row = _row(user, s.get(Role, user.role_id))
        ctx.vault.set_user_password(user.login_name, new_password)
    return row
