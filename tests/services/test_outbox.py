"""Change tracking: one outbox row per committed change, in the same transaction."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from erp_desktop.models.changes import ImmutableRecordError, OutboxEntry
from erp_desktop.models.company import Branch
from erp_desktop.models.ledger import JournalEntry
from erp_desktop.models.security import LoginEvent


def outbox_rows(ctx, entity_id) -> list[OutboxEntry]:
    with ctx.db.read() as s:
        return list(s.scalars(select(OutboxEntry).where(OutboxEntry.entity_id == entity_id)
                              .order_by(OutboxEntry.created_at, OutboxEntry.id)))


def outbox_total(ctx) -> int:
    with ctx.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(OutboxEntry)))


@pytest.fixture
def branch_id(admin_ctx):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        b = Branch(code="BLR2", name="Indiranagar", state="Karnataka", state_code="29")
        s.add(b)
        s.flush()
        return b.id


def test_insert_writes_one_row_with_the_full_state(admin_ctx, branch_id):
    (row,) = outbox_rows(admin_ctx, branch_id)
    assert (row.entity, row.entity_id, row.op, row.version) == ("branch", branch_id, "insert", 1)
    assert row.actor_id == admin_ctx.actor.user_id
    state = json.loads(row.payload)
    assert state["id"] == str(branch_id)
    assert (state["code"], state["name"], state["state_code"]) == ("BLR2", "Indiranagar", "29")
    assert state["version"] == 1 and state["deleted_at"] is None
    assert state["updated_by"] == str(admin_ctx.actor.user_id)


def test_the_outbox_row_is_part_of_the_same_transaction(admin_ctx):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        b = Branch(code="MYS", name="Mysuru")
        s.add(b)
        s.flush()
        # Visible inside the transaction, before any commit.
        assert s.scalar(select(func.count()).select_from(OutboxEntry)
                        .where(OutboxEntry.entity_id == b.id)) == 1
        assert outbox_rows(admin_ctx, b.id) == []  # another connection does not see it yet
    assert len(outbox_rows(admin_ctx, b.id)) == 1


def test_update_writes_one_row_with_the_full_new_state(admin_ctx, branch_id):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.get(Branch, branch_id).name = "Indiranagar 100ft Road"
    rows = outbox_rows(admin_ctx, branch_id)
    assert [(r.op, r.version) for r in rows] == [("insert", 1), ("update", 2)]
    state = json.loads(rows[-1].payload)
    # The full state, not only the changed column.
    assert (state["name"], state["code"], state["version"]) == (
        "Indiranagar 100ft Road", "BLR2", 2)


def test_an_unchanged_object_writes_nothing(admin_ctx, branch_id):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        b = s.get(Branch, branch_id)
        b.name = b.name  # assigned, but not modified
    assert len(outbox_rows(admin_ctx, branch_id)) == 1


def test_tombstone_writes_a_delete_row(admin_ctx, branch_id):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.get(Branch, branch_id).deleted_at = admin_ctx.now()
    rows = outbox_rows(admin_ctx, branch_id)
    assert [(r.op, r.version) for r in rows] == [("insert", 1), ("delete", 2)]
    assert json.loads(rows[-1].payload)["deleted_at"] is not None
    with admin_ctx.db.read() as s:
        assert s.get(Branch, branch_id) is not None  # still there, as a tombstone


def test_a_rolled_back_transaction_writes_no_outbox_row(admin_ctx, branch_id):
    before = outbox_total(admin_ctx)
    with pytest.raises(RuntimeError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.add(Branch(code="HUB", name="Hubballi"))
        s.get(Branch, branch_id).name = "Renamed"
        s.flush()  # the outbox rows exist inside the transaction...
        raise RuntimeError("the use case failed half way")
    assert outbox_total(admin_ctx) == before  # ...and vanish with it
    with admin_ctx.db.read() as s:
        assert s.scalars(select(Branch).where(Branch.code == "HUB")).first() is None
        assert s.get(Branch, branch_id).name == "Indiranagar"
    # A later, successful transaction carries no leftovers from the failed one.
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.add(Branch(code="UDU", name="Udupi"))
    assert outbox_total(admin_ctx) == before + 1


def test_hard_delete_of_an_entity_raises(admin_ctx, branch_id):
    with pytest.raises(ImmutableRecordError, match="never deleted"), \
            admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.delete(s.get(Branch, branch_id))
        s.flush()
    with admin_ctx.db.read() as s:
        assert s.get(Branch, branch_id) is not None
    assert len(outbox_rows(admin_ctx, branch_id)) == 1


@pytest.fixture
def entry_id(admin_ctx):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        je = JournalEntry(number="JV/2026-27/A/000001", entry_date=date(2026, 11, 2),
                          memo="Opening", currency="INR", total_minor=0)
        s.add(je)
        s.flush()
        return je.id


def test_a_record_is_written_once_to_the_outbox(admin_ctx, entry_id):
    (row,) = outbox_rows(admin_ctx, entry_id)
    assert (row.entity, row.op, row.version) == ("journal_entry", "insert", None)
    state = json.loads(row.payload)
    assert state["number"] == "JV/2026-27/A/000001"
    assert state["created_by"] == str(admin_ctx.actor.user_id)


def test_updating_a_record_raises(admin_ctx, entry_id):
    with pytest.raises(ImmutableRecordError, match="append-only"), \
            admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.get(JournalEntry, entry_id).memo = "Changed after posting"
        s.flush()
    with admin_ctx.db.read() as s:
        assert s.get(JournalEntry, entry_id).memo == "Opening"
    assert len(outbox_rows(admin_ctx, entry_id)) == 1


def test_deleting_a_record_raises(admin_ctx, entry_id):
    with pytest.raises(ImmutableRecordError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.delete(s.get(JournalEntry, entry_id))
        s.flush()
    with admin_ctx.db.read() as s:
        assert s.get(JournalEntry, entry_id) is not None


def test_updating_a_login_event_raises(admin_ctx):
    with admin_ctx.db.read() as s:
        event_id = s.scalars(select(LoginEvent.id)).first()
    with pytest.raises(ImmutableRecordError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.get(LoginEvent, event_id).success = False
        s.flush()
