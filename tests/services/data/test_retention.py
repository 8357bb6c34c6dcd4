"""Retention: old login and audit events are purged, the audit chain stays verifiable from
its anchor, tampering after a purge is still caught, and the policy is a company setting."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.models.audit import AuditAnchor, AuditEvent
from erp_desktop.models.security import LoginEvent
from erp_desktop.services import audit, auth, retention
from erp_desktop.store.engine import connect_raw, dbapi
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.services.data.conftest import World


def counts(world: World) -> tuple[int, int, int]:
    with world.admin.db.read() as s:
        return (int(s.scalar(select(func.count()).select_from(LoginEvent)) or 0),
                int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0),
                int(s.scalar(select(func.min(AuditEvent.seq))) or 0))


def age_the_trail(world: World, days: int) -> None:
    """Move time on and leave a few fresh events behind (a login, a change)."""
    world.clock.advance(days=days)
    world.admin.close()
    world.admin = auth.login(world.path, ADMIN, ADMIN_PASSWORD, config=world.config,
                             device=world.device, clock=world.clock)


def test_old_login_and_audit_events_are_purged_and_the_chain_still_verifies(world: World):
    logins, events, _ = counts(world)
    age_the_trail(world, 400)
    retention.set_policy(world.admin, login_events_days=365, audit_events_days=365)
    result = retention.apply_retention(world.admin)
    assert result.login_events_purged == logins  # all from 400 days ago
    assert result.audit_events_purged == events
    assert result.anchor is not None and result.anchor[0] == events
    left_logins, _left_events, first = counts(world)
    assert left_logins == 1 and first == events + 1
    report = audit.verify(world.admin)
    assert report.ok, report.problems
    with world.admin.db.read() as s:
        anchor = s.scalars(select(AuditAnchor)).one()
        purge = s.scalars(select(AuditEvent).where(
            AuditEvent.action == audit.PURGE_ACTION)).one()
    assert (anchor.through_seq, anchor.through_hash) == result.anchor
    assert json.loads(purge.details)["through_hash"] == anchor.through_hash
    # Applying again purges nothing new, and the chain still verifies.
    again = retention.apply_retention(world.admin)
    assert (again.login_events_purged, again.audit_events_purged) == (0, 0)
    assert audit.verify(world.admin).ok


def test_recent_events_are_kept(world: World):
    before = counts(world)
    result = retention.apply_retention(world.admin)  # defaults: a year, eight years
    assert (result.login_events_purged, result.audit_events_purged) == (0, 0)
    assert counts(world)[0] == before[0] and counts(world)[2] == 1


@pytest.fixture
def purged(world: World) -> World:
    age_the_trail(world, 400)
    retention.set_policy(world.admin, audit_events_days=365)
    retention.apply_retention(world.admin)
    assert audit.verify(world.admin).ok
    return world


def test_a_row_edited_after_a_purge_is_detected(purged: World):
    con = connect_raw(purged.path, purged.admin.vault.db_key)
    try:
        con.execute("DROP TRIGGER audit_event_no_update")
        first = con.execute("SELECT min(seq) FROM audit_event").fetchone()[0]
        con.execute("UPDATE audit_event SET details = '{}' WHERE seq = ?", (first + 1,))
    finally:
        con.close()
    report = audit.verify(purged.admin)
    assert not report.ok
    assert report.problems[0].endswith("its content was changed after it was written")


def test_deleting_events_outside_a_purge_is_still_refused(purged: World):
    con = connect_raw(purged.path, purged.admin.vault.db_key)
    try:
        with pytest.raises(dbapi.Error, match="append-only"):
            con.execute("DELETE FROM audit_event")
        with pytest.raises(dbapi.Error, match="append-only"):
            con.execute("DELETE FROM audit_anchor")
        with pytest.raises(dbapi.Error, match="append-only"):
            con.execute("UPDATE audit_anchor SET through_seq = 1")
    finally:
        con.close()
    assert audit.verify(purged.admin).ok


def test_an_anchor_slipped_in_by_hand_is_not_confirmed_by_the_chain(world: World):
    """An attacker deletes the oldest events (triggers dropped) and forges an anchor."""
    with world.admin.db.read() as s:
        cut = s.scalars(select(AuditEvent).where(AuditEvent.seq == 10)).one()
    con = connect_raw(world.path, world.admin.vault.db_key)
    try:
        con.execute("DROP TRIGGER audit_event_no_delete")
        con.execute("DELETE FROM audit_event WHERE seq <= 10")
        con.execute("INSERT INTO audit_anchor (id, at, through_seq, through_hash, "
                    "purged_events) VALUES (randomblob(16), '2026-11-02 09:30:00', 10, ?, 10)",
                    (cut.hash,))
    finally:
        con.close()
    report = audit.verify(world.admin)
    assert not report.ok
    assert report.problems == ["the chain starts after event 10, but no retention event in "
                               "the trail confirms that purge"]


def test_a_broken_chain_is_not_purged(world: World):
    con = connect_raw(world.path, world.admin.vault.db_key)
    try:
        con.execute("DROP TRIGGER audit_event_no_update")
        con.execute("UPDATE audit_event SET action = 'x' WHERE seq = 3")
    finally:
        con.close()
    age_the_trail(world, 400)
    retention.set_policy(world.admin, audit_events_days=365)
    before = counts(world)[1]
    with pytest.raises(ValidationError, match="does not verify"):
        retention.apply_retention(world.admin)
    assert counts(world)[1] == before + 0  # nothing purged (the refusal rolled back)


def test_the_policy_is_a_checked_company_setting(world: World):
    assert retention.get_policy(world.admin) == retention.RetentionPolicy()
    policy = retention.set_policy(world.admin, tax_records_years=10)
    assert policy.tax_records_years == 10
    assert retention.get_policy(world.admin).tax_records_years == 10
    with pytest.raises(ValidationError, match="1 to 30 years"):
        retention.set_policy(world.admin, tax_records_years=0)
    with pytest.raises(ValidationError, match="Unknown retention settings"):
        retention.set_policy(world.admin, forever=1)
    with pytest.raises(PermissionDenied):
        retention.set_policy(world.login("priya"), login_events_days=60)


def test_applying_retention_needs_its_permission(world: World):
    with pytest.raises(PermissionDenied):
        retention.apply_retention(world.login("priya"))
