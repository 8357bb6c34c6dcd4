"""The dashboard's top products: their own query, after the cards."""

from __future__ import annotations

from decimal import Decimal

from erp_desktop.services import dashboard, sales
from erp_desktop.services.sales import LineIn
from tests.services.sales.conftest import Shop


def test_top_products_come_on_their_own_and_rank_by_sales_before_tax(shop: Shop):
    sales.sell(shop.ctx, [LineIn("KETTLE", 3)], payment_method="cash")
    sales.sell(shop.ctx, [LineIn("TV55", 1), LineIn("KETTLE", 1)], payment_method="cash")

    cards = dashboard.dashboard(shop.ctx, with_top_products=False)
    assert cards.top_products == [] and cards.sales_today is not None
    top = dashboard.top_products(shop.ctx)
    # The television (one, at a high price) outsells four kettles.
    assert [p.quantity for p in top] == [Decimal(1), Decimal(4)]
    assert top[0].amount.amount > top[1].amount.amount > 0
    assert dashboard.dashboard(shop.ctx).top_products == top  # the one-call form agrees
