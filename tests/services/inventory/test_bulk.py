"""The fast import path writes exactly what the ORM and `record_bulk` would write."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from erp_desktop.models.bulk import IdBatch, outbox_rows, state_json, uuid_text
from erp_desktop.models.changes import OutboxEntry, record_bulk
from erp_desktop.models.inventory import Product
from erp_desktop.services import catalogue


def test_id_batches_are_uuid7_increasing_and_unique():
    raw = IdBatch(5000).raw
    ids = [uuid.UUID(bytes=b) for b in raw]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert raw == sorted(raw) and len(set(raw)) == 5000
    assert uuid_text(raw[0]) == str(ids[0])


def test_outbox_rows_match_record_bulk(admin_ctx):
    state = {"id": uuid.UUID("01a204d8-2d03-77fb-8bdf-56eb654ef48b"), "name": "Bulb",
             "reorder_level": Decimal("20.000"), "active": True, "notes": None}
    jsonable = {**state, "id": str(state["id"]), "reorder_level": "20.000"}
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        record_bulk(s, "thing", [state], op="update")
        outbox_rows(s, "thing", [(state["id"].bytes, None, state_json(jsonable))], op="update")
    with admin_ctx.db.read() as s:
        a, b = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "thing")
                         .order_by(OutboxEntry.id)).all()
    assert (a.entity_id, a.op, a.version, a.payload, a.actor_id) == (
        b.entity_id, b.op, b.version, b.payload, b.actor_id)


def test_an_imported_product_reads_back_like_one_made_by_hand(admin_ctx, tmp_path):
    path = tmp_path / "one.csv"
    path.write_text("SKU,Name,Unit,Barcode,Category,Sale price,Purchase price,Reorder level\n"
                    "IMP-1,Imported bulb,kg,4006381333931,Lighting,110.5,72,2.5\n",
                    encoding="utf-8")
    catalogue.import_products(admin_ctx, path)
    by_hand = catalogue.create_product(admin_ctx, catalogue.ProductInput(
        sku="HAND-1", name="Hand made bulb", unit="kg", category="Lighting",
        sale_price="110.50", purchase_price="72", reorder_level="2.5"))
    imported = catalogue.get_product(admin_ctx, "IMP-1")
    assert (imported.sale_price, imported.purchase_price, imported.reorder_level,
            imported.unit, imported.category_id, imported.version) == (
        by_hand.sale_price, by_hand.purchase_price, by_hand.reorder_level, by_hand.unit,
        by_hand.category_id, 1)
    with admin_ctx.db.read() as s:
        rows = {o.entity_id: json.loads(o.payload) for o in s.scalars(
            select(OutboxEntry).where(OutboxEntry.entity == "product"))}
        orm = s.get(Product, imported.id)
        assert orm is not None and orm.created_at.tzinfo is not None
    mine, theirs = rows[imported.id], rows[by_hand.id]
    assert set(mine) == set(theirs)
    for key in ("sale_price_minor", "purchase_price_minor", "reorder_level", "reorder_qty",
                "currency", "active", "is_service", "unit_id", "category_id", "version",
                "deleted_at", "updated_by"):
        assert mine[key] == theirs[key], key
    for stamp in (mine["created_at"], theirs["created_at"]):  # the same ISO form, in UTC
        assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0)
        assert stamp.endswith("+00:00") and "T" in stamp
