"""The demo's shop floor: a believable catalogue, two stores and every purchasing state."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp_desktop.domain.barcodes import normalise_barcode
from erp_desktop.services import catalogue, inventory, ledger, purchasing
from erp_desktop.services.demo_inventory import CATALOGUE, demo_inventory
from tests.services.inventory.conftest import account_balance


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The step run once on a fresh company (module scope: the tests only read)."""
    from erp_desktop.services.company import NewAdmin, NewCompany, create_company
    from erp_desktop.services.context import DeviceInfo
    from tests.conftest import FakeClock, make_config

    root = tmp_path_factory.mktemp("demo-inv")
    created = create_company(root / "shop.erp", NewCompany("Demo Shop Pvt Ltd"),
                             NewAdmin("owner", "Owner", "correct horse battery"),
                             config=make_config(root), device=DeviceInfo("t", "o", "0.1"),
                             clock=FakeClock())
    ctx = created.context
    info = demo_inventory(ctx, ctx.clock)
    yield ctx, info
    ctx.close()


def test_catalogue_is_big_and_believable(demo):
    ctx, info = demo
    assert info.products >= 50 and info.vendors >= 5
    rows = catalogue.list_products(ctx, limit=200).rows
    assert len(rows) == info.products
    assert len({r.category for r in rows}) >= 8
    codes = [r.barcode for r in rows if r.barcode]
    assert len(codes) == len(CATALOGUE) and len(set(codes)) == len(codes)
    assert all(normalise_barcode(c) == c and len(c) == 13 for c in codes)
    assert [r.sku for r in catalogue.list_products(ctx, "philips led").rows] == [
        "PH-BATTEN20", "PH-LED12", "PH-LED9"]


def test_two_stores_with_stock_and_a_clean_check(demo):
    ctx, _ = demo
    assert [w.code for w in inventory.list_warehouses(ctx)] == ["IND", "JAY"]
    assert inventory.verify_stock(ctx).ok
    codes = {r.warehouse_code for r in inventory.stock_on_hand(ctx, limit=2000).rows}
    assert codes == {"IND", "JAY"}
    low = {r.sku for r in inventory.low_stock(ctx)}  # something to reorder on the dashboard
    assert {"PH-TRIM", "GD-LOCK"} <= low


def test_every_purchase_order_state_is_there(demo):
    ctx, info = demo
    states = {purchasing.list_purchase_orders(ctx, status=s).rows[0].number: s
              for s in ("draft", "ordered", "partially_received", "received", "cancelled")}
    assert len(states) == 5
    assert set(states) <= set(info.orders.values())
    statuses = {b.payment_status for b in purchasing.list_bills(ctx).rows}
    assert {"paid", "partially_paid", "open"} <= statuses


def test_the_books_agree_with_the_stock(demo):
    ctx, info = demo
    as_of = date(2026, 11, 15)
    assert inventory.valuation(ctx, as_of).total_value.amount == info.stock_value
    assert account_balance(ctx, "inventory") == info.stock_value
    assert ledger.trial_balance(ctx, as_of).balanced
    assert info.stock_value > Decimal("500000")
