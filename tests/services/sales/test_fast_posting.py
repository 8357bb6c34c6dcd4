"""The fast posting path (docs/decisions/0030): the same rows, the same chain, no gaps.

Issuing keeps per-transaction caches (audit head, number series, accounts),
writes append-only rows with one executemany, and flushes a batch every few
invoices. These tests pin what must not change because of that.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal as D

from sqlalchemy import func, select

from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.changes import OutboxEntry, insert_records
from erp_desktop.models.inventory import StockBalance, StockMove
from erp_desktop.models.sales import DocumentTax
from erp_desktop.services import audit, catalogue, inventory, sales
from erp_desktop.services.catalogue import ProductInput
from erp_desktop.services.numbering import next_number
from erp_desktop.services.sales import LineIn


def test_a_batch_selling_a_never_stocked_product_twice_writes_one_balance(shop):
    # The first invoice creates the product's stock balance row; the second must find
    # it, although the batch flushes only every few invoices.
    ctx = shop.ctx
    inventory.set_allow_negative_stock(ctx, True)
    catalogue.create_product(ctx, ProductInput(sku="FAN", name="Ceiling fan",
                                               sale_price="2000.00", purchase_price="1500.00",
                                               tax_category="GST18"))
    drafts = [sales.create_draft(ctx, shop.local.id, [LineIn("FAN", 1)]).id for _ in range(3)]
    done = sales.issue_invoices(ctx, drafts)
    assert len(done.numbers) == 3
    with ctx.db.read() as s:
        product_id = s.scalar(select(StockMove.product_id).where(StockMove.reference ==
                                                                 done.numbers[0]))
        rows = s.scalars(select(StockBalance).where(StockBalance.product_id == product_id)).all()
        assert [r.quantity for r in rows] == [D(-3)]
        assert s.scalar(select(func.count()).select_from(StockMove)
                        .where(StockMove.product_id == product_id)) == 3


def test_the_audit_chain_holds_after_a_batch_and_counter_sales(shop):
    ctx = shop.ctx
    drafts = [sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 1)]).id for _ in range(4)]
    sales.issue_invoices(ctx, drafts)
    for _ in range(2):
        sales.sell(ctx, [LineIn("RICE", "1.5")], payment_method="cash")
    report = audit.verify(ctx)
    assert report.ok, report.problems
    with ctx.db.read() as s:
        actions = [a for (a,) in s.execute(select(AuditEvent.action)
                                           .order_by(AuditEvent.seq.desc()).limit(8))]
    assert actions[:4] == ["sales.payment_recorded", "sales.invoice_issued"] * 2


def test_a_rolled_back_savepoint_takes_its_audit_event_and_number_back(shop):
    # The head and the series are remembered per transaction; a savepoint that rolls
    # back must not leave them pointing at what it took back.
    ctx = shop.ctx
    on = date(2026, 11, 2)
    with ctx.db.write(ctx.actor.user_id) as s:
        first = audit.record(s, ctx, "test.before")
        n1 = next_number(s, "test", "TST", "A", on, 4)
        try:
            with s.begin_nested():
                audit.record(s, ctx, "test.rolled_back")
                next_number(s, "test", "TST", "A", on, 4)
                raise RuntimeError("roll the savepoint back")
        except RuntimeError:
            pass
        after = audit.record(s, ctx, "test.after")
        n2 = next_number(s, "test", "TST", "A", on, 4)
    assert (n1, n2) == ("TST/2026-27/A/000001", "TST/2026-27/A/000002")
    assert (after.seq, after.prev_hash) == (first.seq + 1, first.hash)
    assert audit.verify(ctx).ok


def test_insert_records_writes_what_a_flush_writes(shop):
    ctx = shop.ctx
    stamp = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    values = {"created_at": stamp, "created_by": ctx.actor.user_id, "doc_type": "invoice",
              "doc_id": uuid.uuid4(), "doc_date": date(2026, 11, 2), "currency": "INR",
              "rate_code": "GST18", "rate_name": "GST 18%", "kind": "gst",
              "rate_pct": D(18), "component_code": "CGST", "component_name": "CGST",
              "component_rate_pct": D(9), "taxable_minor": 100000, "tax_minor": 9000,
              "account_id": None}
    core_id, orm_id = uuid.uuid4(), uuid.uuid4()
    with ctx.db.write(ctx.actor.user_id) as s:
        insert_records(s, (DocumentTax, [{"id": core_id, **values}]))
    with ctx.db.write(ctx.actor.user_id) as s:
        s.add(DocumentTax(id=orm_id, **values))

    def stored(row_id: uuid.UUID) -> tuple[dict[str, object], dict[str, object], str]:
        """The row as the file holds it, and its outbox entry, both without the id."""
        with ctx.db.read() as s:
            row = dict(s.connection().exec_driver_sql(
                "SELECT * FROM document_tax WHERE id = ?", (row_id.bytes,)).mappings().one())
            assert row.pop("id") == row_id.bytes
            out = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_id == row_id)).one()
            payload = json.loads(out.payload)
            assert payload.pop("id") == str(row_id)
            return row, payload, out.op

    assert stored(core_id) == stored(orm_id)


def test_a_counter_sale_reaches_the_outbox_once_in_its_final_state(shop):
    ctx = shop.ctx
    sold = sales.sell(ctx, [LineIn("KETTLE", 2)], payment_method="upi",
                      payment_reference="UPI 77")
    assert sold.invoice.status == "paid" and sold.invoice.version == 1
    assert [(r.kind, r.number) for r in sold.invoice.settlements] == [
        ("payment", sales.get_invoice(ctx, sold.invoice.id).settlements[0].number)]
    with ctx.db.read() as s:
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.entity_id == sold.invoice.id)).all()
    assert [(r.op, r.version) for r in rows] == [("insert", 1)]
    state = json.loads(rows[0].payload)
    assert (state["status"], state["paid_minor"]) == ("paid", sold.invoice.total.minor)
    assert sold.invoice == sales.get_invoice(ctx, sold.invoice.id)
