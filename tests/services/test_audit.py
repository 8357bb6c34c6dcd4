"""The audit trail: a hash chain that notices edited, deleted and reordered rows."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import audit
from erp_desktop.store.engine import connect_raw, dbapi


@pytest.fixture
def busy_ctx(admin_ctx):
    """A company with a few hundred events: logins, changes and a batch in one transaction."""
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        for i in range(120):
            audit.record(s, admin_ctx, "test.event", entity="thing", entity_id=i,
                         details={"n": i, "note": "ünïcode ✓"})
    for i in range(20):
        admin_ctx.clock.advance(seconds=1)
        with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
            audit.record(s, admin_ctx, "test.single", details={"i": i})
    return admin_ctx


@pytest.fixture
def raw(busy_ctx):
    """A keyed DB-API connection with the append-only triggers dropped (an attacker's view)."""
    con = connect_raw(busy_ctx.path, busy_ctx.vault.db_key)
    con.execute("DROP TRIGGER audit_event_no_update")
    con.execute("DROP TRIGGER audit_event_no_delete")
    yield con
    con.close()


def test_the_chain_verifies_after_many_events(busy_ctx):
    report = audit.verify(busy_ctx)
    assert report.ok and report.problems == []
    with busy_ctx.db.read() as s:
        last = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert report.checked == last.seq == audit.event_count(s)
        assert report.head_hash == last.hash
        # Small batches cross many batch boundaries and give the same answer.
        assert audit.verify_chain(s, batch=7) == report


def test_each_event_links_to_the_one_before(busy_ctx):
    with busy_ctx.db.read() as s:
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert rows[0].seq == 1 and rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash and b.seq == a.seq + 1
               for a, b in itertools.pairwise(rows))


def test_an_edited_row_is_detected(busy_ctx, raw):
    raw.execute("UPDATE audit_event SET details = ? WHERE seq = 5", (json.dumps({"n": 999}),))
    report = audit.verify(busy_ctx)
    assert not report.ok
    assert report.problems == ["event 5: its content was changed after it was written"]


@pytest.mark.parametrize("column, value", [
    ("action", "test.harmless"), ("actor_name", "someone-else"), ("at", "2020-01-01 00:00:00"),
    ("entity_id", "42"), ("device_code", "Z")])
def test_any_edited_column_is_detected(busy_ctx, raw, column, value):
    raw.execute(f"UPDATE audit_event SET {column} = ? WHERE seq = 10", (value,))
    report = audit.verify(busy_ctx)
    assert report.problems == ["event 10: its content was changed after it was written"]


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(busy_ctx, raw):
    # A careful forger recomputes the edited row's own hash; the next row still
    # points at the old one.
    with busy_ctx.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.seq == 7)).one()
        forged_details = json.dumps({"n": 0})
        content = audit._canonical(ev.seq, ev.id, ev.at, ev.actor_id, ev.actor_name,
                                   ev.device_code, ev.action, ev.entity, ev.entity_id,
                                   forged_details)
        new_hash = audit.chain_hash(ev.prev_hash, content)
    raw.execute("UPDATE audit_event SET details = ?, hash = ? WHERE seq = 7",
                (forged_details, new_hash))
    report = audit.verify(busy_ctx)
    assert report.problems == [
        "event 8: does not follow the event before it (deleted or reordered)"]


def test_a_deleted_middle_row_is_detected(busy_ctx, raw):
    raw.execute("DELETE FROM audit_event WHERE seq = 100")
    report = audit.verify(busy_ctx)
    assert not report.ok
    assert report.problems == [
        "events 100..100 are missing (deleted)",
        "event 101: does not follow the event before it (deleted or reordered)",
    ]


def test_deleted_first_rows_are_detected(busy_ctx, raw):
    raw.execute("DELETE FROM audit_event WHERE seq <= 2")
    report = audit.verify(busy_ctx)
    assert report.problems == [
        "events 1..2 are missing (deleted)",
        "event 3: does not follow the event before it (deleted or reordered)",
    ]


def test_a_purge_kept_as_an_anchor_is_accepted(busy_ctx, raw):
    with busy_ctx.db.read() as s:
        purged_head = s.scalars(select(AuditEvent).where(AuditEvent.seq == 10)).one().hash
    raw.execute("DELETE FROM audit_event WHERE seq <= 10")
    with busy_ctx.db.read() as s:
        assert audit.verify_chain(s, anchor=(10, purged_head)).ok
        assert not audit.verify_chain(s, anchor=(9, purged_head)).ok
        assert not audit.verify_chain(s, anchor=(10, "f" * 64)).ok


def test_swapped_rows_are_detected(busy_ctx, raw):
    raw.execute("UPDATE audit_event SET seq = -1 WHERE seq = 40")
    raw.execute("UPDATE audit_event SET seq = 40 WHERE seq = 41")
    raw.execute("UPDATE audit_event SET seq = 41 WHERE seq = -1")
    report = audit.verify(busy_ctx)
    assert not report.ok
    assert any(p.startswith("event 40:") for p in report.problems)
    assert any(p.startswith("event 41:") for p in report.problems)
    assert all(p.startswith(("event 40:", "event 41:", "event 42:")) for p in report.problems)


def test_the_triggers_refuse_update_and_delete(busy_ctx):
    con = connect_raw(busy_ctx.path, busy_ctx.vault.db_key)
    try:
        with pytest.raises(dbapi.DatabaseError, match="append-only"):
            con.execute("UPDATE audit_event SET details = '{}' WHERE seq = 3")
        with pytest.raises(dbapi.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit_event WHERE seq = 3")
        with pytest.raises(dbapi.DatabaseError, match="append-only"):
            con.execute("DELETE FROM audit_event")
    finally:
        con.close()
    assert audit.verify(busy_ctx).ok


def test_the_orm_cannot_change_an_event_either(busy_ctx):
    with pytest.raises(Exception, match="append-only"), \
            busy_ctx.db.write(busy_ctx.actor.user_id) as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.seq == 3)).one()
        ev.details = "{}"
        s.flush()
    assert audit.verify(busy_ctx).ok


def test_an_event_belongs_to_the_transaction_that_wrote_it(admin_ctx):
    with admin_ctx.db.read() as s:
        before = audit.event_count(s)
    with pytest.raises(RuntimeError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        audit.record(s, admin_ctx, "test.rolled_back")
        raise RuntimeError("the change failed")
    with admin_ctx.db.read() as s:
        assert audit.event_count(s) == before
    assert audit.verify(admin_ctx).ok


# ---------------------------------------------------------------- reading


def test_list_events_pages_in_chain_order(busy_ctx):
    first = audit.list_events(busy_ctx, limit=50)
    assert [e.seq for e in first] == list(range(1, 51))
    second = audit.list_events(busy_ctx, after_seq=first[-1].seq, limit=50)
    assert [e.seq for e in second] == list(range(51, 101))
    everything = audit.list_events(busy_ctx, limit=5000)  # capped at the page maximum
    assert len(everything) == audit.verify(busy_ctx).checked
    ev = next(e for e in everything if e.action == "test.event")
    assert ev.details == {"n": 0, "note": "ünïcode ✓"}
    assert ev.actor_name == "owner" and ev.device_code == "A" and ev.entity == "thing"
    singles = audit.list_events(busy_ctx, action_prefix="test.single")
    assert [e.details["i"] for e in singles] == list(range(20))


def test_list_events_refuses_an_empty_page(admin_ctx):
    with pytest.raises(ValidationError):
        audit.list_events(admin_ctx, limit=0)


def test_login_events_page_newest_first(admin_ctx, company_path, config, device, clock):
    from erp_desktop.services import auth

    for _ in range(4):  # several logins at the same instant: the cursor must not skip any
        auth.login(company_path, "owner", "correct horse battery", config=config,
                   device=device, clock=clock).close()
    rows = audit.list_login_events(admin_ctx, limit=2)
    rest = audit.list_login_events(admin_ctx, before=rows[-1], limit=100)
    assert len(rows) + len(rest) == 5
    assert len({r.id for r in rows + rest}) == 5
    assert all(r.success and r.host == "till-1" for r in rows + rest)
