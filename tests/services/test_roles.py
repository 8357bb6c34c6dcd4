"""Roles: granting and revoking permissions, with the guards against locking everyone out."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import auth, roles, users
from erp_desktop.services.authz import DEFAULT_ROLES, PERMISSIONS
from erp_desktop.services.users import LAST_ADMIN_MESSAGE

RAVI_PASSWORD = "mango season 2026"


@pytest.fixture
def login_as(company_path, config, device, clock):
    opened = []

    def do(login_name: str, password: str):
        ctx = auth.login(company_path, login_name, password, config=config, device=device,
                         clock=clock)
        opened.append(ctx)
        return ctx

    yield do
    for ctx in opened:
        ctx.close()


@pytest.fixture
def ravi(admin_ctx):
    return users.add_user(admin_ctx, "ravi", "Ravi Kumar", RAVI_PASSWORD, "sales_clerk")


def role_events(ctx, action: str = "role.permissions_changed") -> list[dict]:
    with ctx.db.read() as s:
        return [json.loads(e.details) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


# -------------------------------------------------------------------- reading


def test_list_permissions_is_the_catalogue():
    listed = roles.list_permissions()
    assert listed == list(PERMISSIONS.items())
    assert ("users.manage", PERMISSIONS["users.manage"]) in listed


def test_a_new_company_has_the_default_roles(admin_ctx, ravi):
    rows = {r.name: r for r in roles.list_roles(admin_ctx)}
    assert set(rows) == set(DEFAULT_ROLES)
    for name, (label, _desc, perms) in DEFAULT_ROLES.items():
        assert rows[name].label == label
        assert rows[name].permissions == perms
        assert rows[name].builtin
    assert rows["admin"].user_count == 1
    assert rows["sales_clerk"].user_count == 1
    assert rows["auditor"].user_count == 0


def test_get_role_by_name_or_id(admin_ctx):
    by_name = roles.get_role(admin_ctx, "accountant")
    assert roles.get_role(admin_ctx, by_name.id) == by_name
    with pytest.raises(NotFound):
        roles.get_role(admin_ctx, "emperor")


# ------------------------------------------------------------------- creating


def test_create_role(admin_ctx, ravi):
    row = roles.create_role(admin_ctx, "cashier", "Cashier", ["sales.view",
                                                               "sales.payment.record"])
    assert row.permissions == {"sales.view", "sales.payment.record"}
    assert not row.builtin and row.user_count == 0 and row.version == 1
    assert role_events(admin_ctx, "role.created") == [
        {"role": "cashier", "permissions": ["sales.payment.record", "sales.view"]}]
    users.set_role(admin_ctx, ravi.id, "cashier")
    assert roles.get_role(admin_ctx, "cashier").user_count == 1


@pytest.mark.parametrize(("name", "label", "perms", "field"), [
    ("Cashier", "Cashier", [], "name"),
    ("c", "Cashier", [], "name"),
    ("cash desk", "Cashier", [], "name"),
    ("accountant", "Another", [], "name"),  # exists
    ("cashier", " ", [], "label"),
    ("cashier", "Cashier", ["sales.view", "sales.steal", "admin.everything"], "permissions"),
    ("cashier", "Cashier", "sales.view", "permissions"),  # a bare string, not a list
])
def test_create_role_refuses_bad_input(admin_ctx, name, label, perms, field):
    with pytest.raises(ValidationError) as err:
        roles.create_role(admin_ctx, name, label, perms)
    assert err.value.field == field
    assert len(roles.list_roles(admin_ctx)) == len(DEFAULT_ROLES)
    assert role_events(admin_ctx, "role.created") == []


def test_unknown_permissions_are_listed_by_name(admin_ctx):
    with pytest.raises(ValidationError) as err:
        roles.grant(admin_ctx, "employee", ["sales.view", "sales.steal", "admin.everything"])
    assert str(err.value) == "Unknown permissions: admin.everything, sales.steal."
    assert roles.get_role(admin_ctx, "employee").permissions == {"hr.claims.own"}


# ------------------------------------------------------------- grant, revoke


def test_grant_and_revoke_are_audited_with_what_changed(admin_ctx):
    row = roles.grant(admin_ctx, "employee", ["company.view", "hr.claims.own"])
    assert row.permissions == {"company.view", "hr.claims.own"}
    assert row.version == 2
    row = roles.revoke(admin_ctx, "employee", ["hr.claims.own", "sales.view"])
    assert row.permissions == {"company.view"}
    assert role_events(admin_ctx) == [
        {"role": "employee", "added": ["company.view"], "removed": []},
        {"role": "employee", "added": [], "removed": ["hr.claims.own"]},
    ]


def test_a_change_that_changes_nothing_is_not_audited(admin_ctx):
    row = roles.grant(admin_ctx, "employee", ["hr.claims.own"])
    assert row.version == 1
    assert role_events(admin_ctx) == []


def test_unknown_role_is_not_found(admin_ctx):
    with pytest.raises(NotFound):
        roles.grant(admin_ctx, "emperor", ["sales.view"])


@pytest.mark.parametrize("perm", ["users.manage", "roles.manage"])
def test_the_admin_role_keeps_users_manage_and_roles_manage(admin_ctx, perm):
    with pytest.raises(ValidationError) as err:
        roles.revoke(admin_ctx, "admin", [perm, "sales.view"])
    assert perm in str(err.value)
    assert roles.get_role(admin_ctx, "admin").permissions == DEFAULT_ROLES["admin"][2]
    with pytest.raises(ValidationError):
        roles.set_permissions(admin_ctx, "admin", ["company.view"],
                              roles.get_role(admin_ctx, "admin").version)
    assert role_events(admin_ctx) == []


def test_the_admin_role_can_lose_other_permissions(admin_ctx):
    row = roles.revoke(admin_ctx, "admin", ["hr.payroll.view"])
    assert "hr.payroll.view" not in row.permissions and "users.manage" in row.permissions


def test_no_change_may_leave_the_company_without_an_active_admin(admin_ctx):
    # The owner moves to a custom role that can manage users and roles...
    roles.create_role(admin_ctx, "boss", "Boss", ["users.manage", "roles.manage",
                                                   "roles.view"])
    users.set_role(admin_ctx, admin_ctx.actor.user_id, "boss")
    # ...so taking users.manage from that role would leave nobody to manage users.
    with pytest.raises(ValidationError) as err:
        roles.revoke(admin_ctx, "boss", ["users.manage"])
    assert str(err.value) == LAST_ADMIN_MESSAGE
    assert "users.manage" in roles.get_role(admin_ctx, "boss").permissions


def test_set_permissions_with_optimistic_locking(admin_ctx):
    opened = roles.get_role(admin_ctx, "storekeeper")
    row = roles.set_permissions(admin_ctx, "storekeeper", ["inventory.view", "company.view"],
                                opened.version)
    assert row.permissions == {"inventory.view", "company.view"}
    with pytest.raises(Conflict) as err:
        roles.set_permissions(admin_ctx, "storekeeper", ["inventory.view"], opened.version)
    assert "was changed by someone else since you opened it. Reload and try again." in str(
        err.value)
    assert roles.get_role(admin_ctx, "storekeeper").permissions == {"inventory.view",
                                                                    "company.view"}


def test_a_role_change_applies_at_the_users_next_login(admin_ctx, ravi, login_as):
    open_session = login_as("ravi", RAVI_PASSWORD)
    roles.grant(admin_ctx, "sales_clerk", ["users.view"])
    with pytest.raises(PermissionDenied):
        users.list_users(open_session)
    assert [r.login_name for r in users.list_users(login_as("ravi", RAVI_PASSWORD))] == [
        "owner", "ravi"]
    roles.revoke(admin_ctx, "sales_clerk", ["users.view"])
    with pytest.raises(PermissionDenied):
        users.list_users(login_as("ravi", RAVI_PASSWORD))


def test_only_roles_manage_changes_roles(admin_ctx, ravi, login_as):
    clerk = login_as("ravi", RAVI_PASSWORD)
    with pytest.raises(PermissionDenied):
        roles.grant(clerk, "sales_clerk", ["users.manage"])
    with pytest.raises(PermissionDenied):  # refused before the names are even looked at
        roles.grant(clerk, "sales_clerk", ["no.such.permission"])
    with pytest.raises(PermissionDenied):
        roles.list_roles(clerk)
    assert roles.get_role(admin_ctx, "sales_clerk").permissions == DEFAULT_ROLES[
        "sales_clerk"][2]
