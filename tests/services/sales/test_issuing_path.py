"""The issuing path of docs/decisions/0031: what it keeps, defers and writes by hand must
give exactly what the ORM path gave, and never outlive its transaction.

- reference rows (rates, settings, accounts, company ...) kept across transactions
  while the file's reference epoch stays the same, whoever changes them;
- rows deferred until something could read them, in foreign-key order, dropped by
  a rollback;
- plain rows (a batch's drafts, a counter sale's invoice) written with the very
  rows, versions and outbox payloads a flush writes.
"""

from __future__ import annotations

import json
import random
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.exc import StaleDataError

import erp_desktop.models.all  # noqa: F401  (every mapped class, for the payload check)
from erp_desktop.domain.errors import PostingError
from erp_desktop.models.base import Base
from erp_desktop.models.changes import (
    OutboxEntry,
    deferred_records,
    insert_new,
    insert_records,
    object_payload,
    row_payload,
    row_state,
    to_jsonable,
    update_entities,
    write_records,
)
from erp_desktop.models.company import Branch, Setting
from erp_desktop.models.database import reference_cache, use_reference_cache
from erp_desktop.models.ledger import Account, JournalEntry, JournalLine
from erp_desktop.models.sales import DocumentTax, Invoice, InvoiceLine
from erp_desktop.services import inventory, ledger, sales, sales_settings
from erp_desktop.services.sales import LineIn
from erp_desktop.store.engine import connect_raw, wal_checkpointer

# --------------------------------------------------------------------------- reference cache


def _epoch(ctx) -> int:
    with ctx.db.read() as s:
        return int(s.connection().exec_driver_sql("SELECT n FROM reference_epoch").scalar())


def test_every_change_of_reference_data_raises_the_epoch(shop):
    ctx = shop.ctx
    before = _epoch(ctx)
    sales_settings.set_tax_rounding(ctx, level="invoice")  # a setting
    after_setting = _epoch(ctx)
    inventory.create_warehouse(ctx, "BACK", "Back store")  # a warehouse
    after_warehouse = _epoch(ctx)
    assert before < after_setting < after_warehouse
    sales.sell(ctx, [LineIn("KETTLE", 1)], payment_method="cash")  # writes no reference data
    assert _epoch(ctx) == after_warehouse


def test_a_sale_sees_a_setting_changed_since_the_last_sale(shop):
    ctx = shop.ctx
    first = sales.sell(ctx, [LineIn("KETTLE", 1)], payment_method="cash")
    assert first.invoice.rounding_level == "line"
    sales_settings.set_tax_rounding(ctx, level="invoice", round_off=True)
    second = sales.sell(ctx, [LineIn("KETTLE", 1)], payment_method="cash")
    assert second.invoice.rounding_level == "invoice"
    with ctx.db.read() as s:
        stored = s.get(Invoice, second.invoice.id)
        assert (stored.rounding_level, stored.round_off) == ("invoice", True)


def test_a_rate_changed_by_another_program_reaches_the_next_sale(shop, tmp_path):
    # Not through this app: raw SQL on a connection of its own, like another process.
    ctx = shop.ctx
    first = sales.sell(ctx, [LineIn("KETTLE", 1)], payment_method="cash")
    assert first.invoice.tax.amount == D("180.00")  # GST 18 % of 1000
    con = connect_raw(ctx.db.engine.url.database, ctx.vault.db_key)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE tax_component SET rate_pct = rate_pct * 2 WHERE rate_id = "
                    "(SELECT id FROM tax_rate WHERE code = 'GST18')")
        con.execute("COMMIT")
    finally:
        con.close()
    second = sales.sell(ctx, [LineIn("KETTLE", 1)], payment_method="cash")
    assert second.invoice.tax.amount == D("360.00")


def test_a_transaction_that_changes_reference_data_leaves_the_shared_values_alone(shop):
    ctx = shop.ctx
    sales.sell(ctx, [LineIn("KETTLE", 1)], payment_method="cash")  # fills the cache
    with pytest.raises(RuntimeError), ctx.db.write(ctx.actor.user_id) as s:
        use_reference_cache(s)
        assert reference_cache(s) is not None
        row = s.scalars(select(Setting).where(Setting.key == "allow_negative_stock")).first()
        if row is None:
            s.add(Setting(key="allow_negative_stock", value="true"))
        else:
            row.value = "true"
        s.flush()
        assert reference_cache(s) is None  # its own change: read as usual from now on
        raise RuntimeError("roll it back")
    # rolled back: stock may still not go below zero, cached or not
    with pytest.raises(Exception, match="Not enough stock"):
        sales.sell(ctx, [LineIn("TV55", 50)], payment_method="cash")


def test_read_sessions_and_other_use_cases_do_not_use_the_shared_values(shop):
    ctx = shop.ctx
    with ctx.db.read() as s:
        use_reference_cache(s)
        assert reference_cache(s) is None
    with ctx.db.write(ctx.actor.user_id) as s:
        assert reference_cache(s) is None  # not opted in


# --------------------------------------------------------------------------- deferred rows


def _tax_row(ctx, doc_id: uuid.UUID) -> dict[str, object]:
    return {"id": None, "created_at": None, "created_by": None, "doc_type": "invoice",
            "doc_id": doc_id, "doc_date": date(2026, 11, 2), "currency": "INR",
            "rate_code": "GST18", "rate_name": "GST 18%", "kind": "gst", "rate_pct": D(18),
            "component_code": "CGST", "component_name": "CGST", "component_rate_pct": D(9),
            "taxable_minor": 100, "tax_minor": 9, "account_id": None}


def test_deferred_rows_are_in_the_table_before_any_query_of_it(shop):
    ctx = shop.ctx
    doc = uuid.uuid4()
    with ctx.db.write(ctx.actor.user_id) as s, deferred_records(s):
        insert_records(s, (DocumentTax, [_tax_row(ctx, doc)]))
        # not yet written: a query of another table leaves it pending
        raw = s.connection().exec_driver_sql("SELECT count(*) FROM document_tax WHERE doc_id = ?",
                                             (doc.bytes,)).scalar()
        assert raw == 0
        s.scalar(select(func.count()).select_from(Branch))
        assert s.connection().exec_driver_sql(
            "SELECT count(*) FROM document_tax WHERE doc_id = ?", (doc.bytes,)).scalar() == 0
        # an ORM query of its table writes it first
        assert s.scalar(select(func.count()).select_from(DocumentTax)
                        .where(DocumentTax.doc_id == doc)) == 1
        assert s.scalar(select(func.count()).select_from(OutboxEntry)
                        .where(OutboxEntry.entity == "document_tax")) >= 1


def test_deferred_rows_are_written_parents_first_and_vanish_with_a_rollback(shop):
    ctx = shop.ctx
    entry_id = uuid.uuid4()
    with ctx.db.read() as s:
        cash = s.scalar(select(Account.id).where(Account.system_key == "cash"))
    line = {"id": None, "created_at": None, "created_by": None, "entry_id": entry_id,
            "line_no": 1, "account_id": cash, "entry_date": date(2026, 11, 2),
            "debit_minor": 1, "credit_minor": 0, "currency": "INR", "memo": None,
            "party_type": None, "party_id": None}
    entry = {"id": entry_id, "created_at": None, "created_by": None, "number": "T/1",
             "entry_date": date(2026, 11, 2), "memo": None, "currency": "INR",
             "total_minor": 1, "source_type": None, "source_id": None,
             "reversal_of_id": None, "lock_override": False}
    with pytest.raises(RuntimeError), ctx.db.write(ctx.actor.user_id) as s:
        with deferred_records(s):
            insert_records(s, (JournalLine, [line]))  # the child first ...
            insert_records(s, (JournalEntry, [entry]))  # ... its parent later
        # written in foreign-key order when the block ended
        assert s.scalar(select(func.count()).select_from(JournalLine)
                        .where(JournalLine.entry_id == entry_id)) == 1
        raise RuntimeError("roll back")
    with ctx.db.read() as s:
        assert s.get(JournalEntry, entry_id) is None
    with ctx.db.write(ctx.actor.user_id) as s:
        with pytest.raises(RuntimeError), deferred_records(s):
            insert_records(s, (DocumentTax, [_tax_row(ctx, uuid.uuid4())]))
            raise RuntimeError("the use case fails; its rows stay pending ...")
        write_records(s)  # ... and go out with the transaction if it goes on
    with pytest.raises(RuntimeError, match="before a savepoint"), \
            ctx.db.write(ctx.actor.user_id) as s, deferred_records(s):
        insert_records(s, (DocumentTax, [_tax_row(ctx, uuid.uuid4())]))
        s.begin_nested()


def test_an_entry_number_taken_is_refused_when_its_rows_go_out(shop):
    ctx = shop.ctx
    done = sales.sell(ctx, [LineIn("KETTLE", 1)], payment_method="cash")
    with pytest.raises(PostingError, match="already a journal entry numbered"), \
            ctx.db.write(ctx.actor.user_id) as s, deferred_records(s):
        ledger.post_in_session(s, ctx, date(2026, 11, 2), [
            ledger.LineInput("1200", debit=D("1.00")), ledger.LineInput("3100", credit=D("1.00"))],
            number=done.invoice.number)


# --------------------------------------------------------------------------- rows by hand


def test_payloads_written_directly_are_the_encoder_s_for_every_table():
    values = [None, "x", "", "ünï ₹ \n\"q\"\\", 0, -5, 10**15, True, False, uuid.uuid4(),
              D("12.500"), D("-0.1"), D("1E+2"), datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
              date(2026, 3, 4), b"\x00\xff", {"b": 1, "a": [1, "x"]}, [3, None]]
    rnd = random.Random(7)
    encode = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        cols = [(a.key, a.columns[0].name) for a in mapper.column_attrs]
        for _ in range(25):
            row = {name: rnd.choice(values) for _key, name in cols}
            obj = cls()
            for key, name in cols:
                obj.__dict__[key] = row[name]
            assert object_payload(obj) == encode(row_state(obj)), cls
            state = {name: to_jsonable(row[name]) for key, name in cols
                     if key not in getattr(cls, "__outbox_exclude__", frozenset())}
            assert row_payload(cls, row) == encode(state), cls


def _stored(ctx, table: str, row_id: uuid.UUID) -> tuple[dict[str, object], list[tuple]]:
    """The row as the file holds it and its outbox entries (op, version, payload), without
    the columns that differ between two writes made at different instants."""
    with ctx.db.read() as s:
        row = dict(s.connection().exec_driver_sql(
            f"SELECT * FROM {table} WHERE id = ?", (row_id.bytes,)).mappings().one())
        out = [(o.op, o.version, json.loads(o.payload)) for o in s.scalars(
            select(OutboxEntry).where(OutboxEntry.entity_id == row_id)
            .order_by(OutboxEntry.created_at, OutboxEntry.id))]
    for gone in ("id", "created_at", "updated_at"):
        row.pop(gone, None)
        for _op, _version, payload in out:
            payload.pop(gone, None)
    return row, out


def test_insert_new_and_update_entities_write_what_a_flush_writes(shop):
    ctx = shop.ctx
    new = {"code": "BLR9", "name": "Whitefield", "state": "Karnataka", "state_code": "29"}
    by_hand, by_orm = uuid.uuid4(), uuid.uuid4()
    with ctx.db.write(ctx.actor.user_id) as s:
        insert_new(s, [Branch(id=by_hand, **new)])
    with ctx.db.write(ctx.actor.user_id) as s:
        s.add(Branch(id=by_orm, **{**new, "code": "BLR8"}))
    hand, orm = _stored(ctx, "branch", by_hand), _stored(ctx, "branch", by_orm)
    assert hand[0].pop("code") == "BLR9" and orm[0].pop("code") == "BLR8"
    for _op, _v, payload in hand[1] + orm[1]:
        payload.pop("code")
    assert hand == orm
    # a change: the same versioned UPDATE and full-state outbox row as a flush
    with ctx.db.write(ctx.actor.user_id) as s:
        loaded = dict(s.connection().execute(select(Branch.__table__).where(
            Branch.__table__.c.id == by_hand)).mappings().one())
        current = {**loaded, "name": "Whitefield 2"}
        assert update_entities(s, Branch, [(loaded, current)]) == 1
        assert current["version"] == 2
        assert update_entities(s, Branch, [(current, dict(current))]) == 0  # unchanged
    with ctx.db.write(ctx.actor.user_id) as s:
        s.get(Branch, by_orm).name = "Whitefield 2"
    hand, orm = _stored(ctx, "branch", by_hand), _stored(ctx, "branch", by_orm)
    hand[0].pop("code"), orm[0].pop("code")
    for _op, _v, payload in hand[1] + orm[1]:
        payload.pop("code")
    assert hand == orm
    assert [(op, v) for op, v, _p in hand[1]] == [("insert", 1), ("update", 2)]
    with pytest.raises(StaleDataError), ctx.db.write(ctx.actor.user_id) as s:
        update_entities(s, Branch, [(loaded, {**loaded, "name": "stale"})])  # version 1 is gone


def test_a_batch_writes_the_rows_issue_invoice_writes(shop):
    ctx = shop.ctx
    lines = [LineIn("KETTLE", 2), LineIn("RICE", "1.5"), LineIn("INSTALL", 1)]
    one = sales.create_draft(ctx, shop.local.id, lines).id
    many = [sales.create_draft(ctx, shop.local.id, lines).id for _ in range(3)]
    sales.issue_invoice(ctx, one)
    sales.issue_invoices(ctx, many)
    with ctx.db.read() as s:
        def shape(inv_id: uuid.UUID) -> tuple:
            inv = s.get(Invoice, inv_id)
            lns = s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv_id)
                            .order_by(InvoiceLine.line_no)).all()
            ops = [(o.op, o.version) for o in s.scalars(
                select(OutboxEntry).where(OutboxEntry.entity_id == inv_id)
                .order_by(OutboxEntry.created_at, OutboxEntry.id))]
            return ((inv.status, inv.version, inv.total_minor, inv.cost_minor, inv.due_date,
                     inv.bill_to_name), [(ln.version, ln.cost_minor) for ln in lns], ops)
        assert all(shape(i) == shape(one) for i in many)
    assert inventory.verify_stock(ctx).ok


# --------------------------------------------------------------------------- checkpoints


def test_checkpoints_run_in_the_background_and_stop_with_the_engine(shop):
    ctx = shop.ctx
    cp = wal_checkpointer(ctx.db.engine)
    assert cp is not None
    before = cp.checkpoints
    for _ in range(9):  # more than `every` write transactions
        sales.sell(ctx, [LineIn("RICE", "0.5")], payment_method="cash")
    for _ in range(200):
        if cp.checkpoints > before:
            break
        import time

        time.sleep(0.01)
    assert cp.checkpoints > before
    ctx.db.engine.dispose()
    assert cp._thread is None  # stopped, its connection closed
