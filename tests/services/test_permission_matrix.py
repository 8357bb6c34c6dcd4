"""The role x action matrix: every default role against one use case per permission.

`USE_CASES` maps a permission to a representative use case that asks for it.
Add a row when a module gains use cases (the ledger, sales, HR ...): the test
then checks every default role against it. A role may run the use case exactly
when it holds the permission; otherwise PermissionDenied, and the denial is
in the audit trail.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import PermissionDenied
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import audit, auth, company, roles, users
from erp_desktop.services.authz import DEFAULT_ROLES, PERMISSIONS
from erp_desktop.services.context import Context

_new_logins = itertools.count(1)

USE_CASES: dict[str, Callable[[Context], object]] = {
    "users.view": lambda ctx: users.list_users(ctx),
    "users.manage": lambda ctx: users.add_user(ctx, f"new-{next(_new_logins)}", "New Person",
                                               "a long fresh secret", "employee"),
    "roles.view": lambda ctx: roles.list_roles(ctx),
    "roles.manage": lambda ctx: roles.grant(ctx, "employee", ["company.view"]),
    "company.view": lambda ctx: company.get_profile(ctx),
    "company.edit": lambda ctx: company.update_profile(ctx, city="Mysuru"),
    "audit.view": lambda ctx: audit.list_events(ctx),
    "audit.verify": lambda ctx: audit.verify(ctx),
}

MATRIX_PASSWORD = "matrix test password"


def test_every_use_case_names_a_real_permission():
    assert set(USE_CASES) <= set(PERMISSIONS)


def denials(ctx: Context) -> list[AuditEvent]:
    with ctx.db.read() as s:
        return list(s.scalars(select(AuditEvent)
                              .where(AuditEvent.action == "permission.denied")))


@pytest.fixture
def role_ctx(admin_ctx, company_path, config, device, clock, request):
    """A user of the role under test, logged in (permissions read from the file)."""
    role = request.param
    users.add_user(admin_ctx, f"as-{role}", f"Matrix {role}", MATRIX_PASSWORD, role)
    ctx = auth.login(company_path, f"as-{role}", MATRIX_PASSWORD, config=config, device=device,
                     clock=clock)
    yield ctx
    ctx.close()


@pytest.mark.parametrize("permission", sorted(USE_CASES))
@pytest.mark.parametrize("role_ctx", sorted(DEFAULT_ROLES), indirect=True)
def test_role_may_run_use_case_exactly_when_it_holds_the_permission(role_ctx, permission):
    role = role_ctx.actor.role_name
    allowed = permission in DEFAULT_ROLES[role][2]
    assert role_ctx.actor.can(permission) == allowed  # the file's roles are the defaults
    use_case = USE_CASES[permission]
    if allowed:
        use_case(role_ctx)
        assert denials(role_ctx) == []
    else:
        with pytest.raises(PermissionDenied) as err:
            use_case(role_ctx)
        assert err.value.permission == permission
        (ev,) = denials(role_ctx)
        assert ev.actor_id == role_ctx.actor.user_id
        assert ev.actor_name == f"as-{role}"
        assert json.loads(ev.details) == {"permission": permission}
