"""Roles: named sets of permissions that admins can create and change.

A new company starts with the default roles of `services.authz`; admins grant
and revoke permissions from there. Two guards stop a company from locking
itself out: the `admin` role always keeps `users.manage` and `roles.manage`,
and no change may leave the file without an active user who can manage users.

A logged-in user's permissions were read at login (`Actor.permissions`):
changing a role applies to its users at their next login.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.models.security import Role, User
from erp_desktop.services import audit
from erp_desktop.services.authz import PERMISSIONS, check_permission_names
from erp_desktop.services.context import Context
from erp_desktop.services.users import LAST_ADMIN_MESSAGE, active_admin_ids, role_permissions

ADMIN_ROLE = "admin"
# What the admin role can never lose: without them nobody could repair roles or users.
ADMIN_KEEPS = frozenset({"users.manage", "roles.manage"})

_ROLE_NAME = re.compile(r"[a-z][a-z0-9_]{1,39}")


@dataclass(frozen=True)
class RoleRow:
    id: uuid.UUID
    name: str
    label: str
    description: str | None
    permissions: frozenset[str]
    builtin: bool
    user_count: int  # users holding the role, active or disabled
    version: int


def list_permissions() -> list[tuple[str, str]]:
    """Every permission a role can grant, with what it allows, in catalogue order."""
    return list(PERMISSIONS.items())


def _user_counts(session: Session) -> dict[uuid.UUID, int]:
    rows = session.execute(select(User.role_id, func.count()).where(User.deleted_at.is_(None))
                           .group_by(User.role_id)).all()
    return {role_id: int(n) for role_id, n in rows}


def _row(role: Role, user_count: int) -> RoleRow:
    return RoleRow(id=role.id, name=role.name, label=role.label, description=role.description,
                   permissions=role_permissions(role), builtin=role.builtin,
                   user_count=user_count, version=role.version)


def _row_of(session: Session, role: Role) -> RoleRow:
    return _row(role, _user_counts(session).get(role.id, 0))


def _load(session: Session, role: str | uuid.UUID) -> Role:
    if isinstance(role, uuid.UUID):
        row = session.get(Role, role)
    else:
        row = session.scalars(select(Role).where(Role.name == (role or "").strip())).first()
    if row is None or row.deleted_at is not None:
        raise NotFound(f"There is no role '{role}'.", field="role_name")
    return row


def _permission_set(permissions: Iterable[str]) -> frozenset[str]:
    if isinstance(permissions, str):  # "a,b" or one name passed bare: a caller's slip
        raise ValidationError("Give the permissions as a list of names.", field="permissions")
    names = frozenset(p.strip() for p in permissions)
    unknown = check_permission_names(names)
    if unknown:
        raise ValidationError(f"Unknown permissions: {', '.join(unknown)}.", field="permissions")
    return names


# ----------------------------------------------------------------------- queries


def list_roles(ctx: Context) -> list[RoleRow]:
    ctx.require("roles.view")
    with ctx.db.read() as s:
        counts = _user_counts(s)
        roles = s.scalars(select(Role).where(Role.deleted_at.is_(None)).order_by(Role.name))
        return [_row(r, counts.get(r.id, 0)) for r in roles]


def get_role(ctx: Context, role: str | uuid.UUID) -> RoleRow:
    """One role, by name or id."""
    ctx.require("roles.view")
    with ctx.db.read() as s:
        return _row_of(s, _load(s, role))


# ------------------------------------------------------------------- use cases


def create_role(ctx: Context, name: str, label: str, permissions: Iterable[str], *,
                description: str | None = None) -> RoleRow:
    ctx.require("roles.manage")
    name = (name or "").strip()
    if not _ROLE_NAME.fullmatch(name):
        raise ValidationError("A role name is 2 to 40 lowercase letters, digits and _, "
                              "starting with a letter (e.g. cashier).", field="name")
    label = (label or "").strip()
    if not label or len(label) > 80:
        raise ValidationError("Enter a label of up to 80 characters (e.g. Cashier).",
                              field="label")
    perms = _permission_set(permissions)
    with ctx.db.write(ctx.actor.user_id) as s:
        # Tombstoned roles count: the name is unique in the table.
        if s.scalars(select(Role).where(Role.name == name)).first() is not None:
            raise ValidationError(f"There is already a role '{name}'.", field="name")
        role = Role(name=name, label=label, description=(description or "").strip() or None,
                    permissions=json.dumps(sorted(perms)), builtin=False)
        s.add(role)
        s.flush()
        audit.record(s, ctx, "role.created", entity="role", entity_id=role.id,
                     details={"role": name, "permissions": sorted(perms)})
        return _row(role, 0)


def _change(ctx: Context, role_name: str, new: Callable[[frozenset[str]], frozenset[str]],
            version: int | None = None) -> RoleRow:
    """Apply `new(current)` to a role's permissions under the lock-out guards."""
    with ctx.db.write(ctx.actor.user_id) as s:
        role = _load(s, role_name)
        if version is not None and role.version != version:
            raise Conflict(f"Role '{role.name}' was changed by someone else since you opened "
                           "it. Reload and try again.")
        before = role_permissions(role)
        after = new(before)
        added, removed = sorted(after - before), sorted(before - after)
        if not added and not removed:
            return _row_of(s, role)
        lost = ADMIN_KEEPS & set(removed)
        if role.name == ADMIN_ROLE and lost:
            raise ValidationError(
                f"The admin role must keep {' and '.join(sorted(ADMIN_KEEPS))}, or nobody could "
                f"manage users and roles (refused: {', '.join(sorted(lost))}).",
                field="permissions")
        role.permissions = json.dumps(sorted(after))
        try:
            s.flush()
        except StaleDataError:
            raise Conflict(f"Role '{role.name}' was changed by someone else since you opened "
                           "it. Reload and try again.") from None
        if not active_admin_ids(s):
            raise ValidationError(LAST_ADMIN_MESSAGE, field="permissions")
        audit.record(s, ctx, "role.permissions_changed", entity="role", entity_id=role.id,
                     details={"role": role.name, "added": added, "removed": removed})
        return _row_of(s, role)


def grant(ctx: Context, role_name: str, permissions: Iterable[str]) -> RoleRow:
    """Add permissions to a role (its users get them at their next login)."""
    ctx.require("roles.manage")
    extra = _permission_set(permissions)
    return _change(ctx, role_name, lambda current: current | extra)


def revoke(ctx: Context, role_name: str, permissions: Iterable[str]) -> RoleRow:
    """Take permissions away from a role (from its users' next login)."""
    ctx.require("roles.manage")
    gone = _permission_set(permissions)
    return _change(ctx, role_name, lambda current: current - gone)


def set_permissions(ctx: Context, role_name: str, permissions: Iterable[str],
                    version: int) -> RoleRow:
    """Replace a role's permissions as edited in the role editor (optimistic locking)."""
    ctx.require("roles.manage")
    exact = _permission_set(permissions)
    return _change(ctx, role_name, lambda _current: exact, version)
