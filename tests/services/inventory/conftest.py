"""A small shop for the inventory and purchasing tests: two warehouses, a few products.

`shop` is the owner's context on a fresh company copy with warehouses MAIN and
BACK and four products (bolts in pieces, rice by the kilogram, a cable sold by
the metre, and an installation service). `login_as(role)` adds a user with a
default role and logs them in, for the permission tests. `account_balance`
reads a system account's debit-minus-credit balance straight from the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp_desktop.models.ledger import Account, JournalLine
from erp_desktop.services import auth, catalogue, inventory, users
from erp_desktop.services.context import Context

STAFF_PASSWORD = "stock room 2026!"


@pytest.fixture
def shop(admin_ctx: Context) -> Context:
    ctx = admin_ctx
    inventory.create_warehouse(ctx, "MAIN", "Main store")
    inventory.create_warehouse(ctx, "BACK", "Back room")
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="HB-M8", name="Hex bolt M8 x 40", unit="pcs", barcode="4006381333931",
        category="Fasteners", sale_price="12.50", purchase_price="5.00", reorder_level=50,
        reorder_qty=200))
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="RICE-SN", name="Sona Masoori rice", unit="kg", category="Grocery",
        sale_price="62.00", purchase_price="48.00", reorder_level="25.5", reorder_qty=100))
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="CBL-2.5", name="Copper cable 2.5 sq mm", unit="m", category="Electrical",
        sale_price="28.00", purchase_price="19.40"))
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="SVC-INST", name="Installation visit", unit="hr", is_service=True,
        sale_price="450.00"))
    return ctx


@pytest.fixture
def login_as(shop: Context, company_path, config, device, clock
             ) -> Iterator[Callable[[str], Context]]:
    opened: list[Context] = []

    def do(role: str) -> Context:
        login = f"{role.replace('_', '')}{len(opened)}"
        users.add_user(shop, login, f"Test {role}", STAFF_PASSWORD, role)
        ctx = auth.login(company_path, login, STAFF_PASSWORD, config=config, device=device,
                         clock=clock)
        opened.append(ctx)
        return ctx

    yield do
    for ctx in opened:
        ctx.close()


def account_balance(ctx: Context, system_key: str) -> Decimal:
    """Debit minus credit of a system account, in currency units."""
    with ctx.db.read() as s:
        dr, cr = s.execute(
            select(func.coalesce(func.sum(JournalLine.debit_minor), 0),
                   func.coalesce(func.sum(JournalLine.credit_minor), 0))
            .join(Account, Account.id == JournalLine.account_id)
            .where(Account.system_key == system_key)).one()
    return (Decimal(dr) - Decimal(cr)) / 100


def stock_value(ctx: Context) -> Decimal:
    return inventory.valuation(ctx).total_value.amount
