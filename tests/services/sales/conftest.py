"""A small shop for the sales tests: GST rates, a warehouse, products in stock, customers.

The template company is in Karnataka (state code 29); the clock stands at
2 November 2026.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest

from erp_desktop.services import catalogue, customers, inventory, taxes
from erp_desktop.services.catalogue import ProductInput
from erp_desktop.services.context import Context
from erp_desktop.services.inventory import ReceiptLine

TODAY = date(2026, 11, 2)


@dataclass
class Shop:
    ctx: Context
    local: customers.CustomerRow  # Bengaluru, same state: CGST + SGST
    remote: customers.CustomerRow  # Mumbai, another state: IGST


@pytest.fixture
def shop(admin_ctx: Context) -> Shop:
    return make_shop(admin_ctx)


def make_shop(ctx: Context) -> Shop:
    taxes.seed_default_taxes(ctx)
    inventory.create_warehouse(ctx, "MAIN", "Main store")
    for sku, name, price, cost, cat, hsn, unit in (
            ("TV55", "55-inch LED TV", "40000.00", "30000.00", "GST18", "8528", "pcs"),
            ("KETTLE", "Electric kettle 1.5 l", "1000.00", "600.00", "GST18", "8516", "pcs"),
            ("RICE", "Basmati rice", "120.00", "90.00", "GST5", "1006", "kg"),
    ):
        catalogue.create_product(ctx, ProductInput(
            sku=sku, name=name, sale_price=price, purchase_price=cost, tax_category=cat,
            hsn_sac=hsn, unit=unit))
    catalogue.create_product(ctx, ProductInput(
        sku="INSTALL", name="Installation service", sale_price="500.00", tax_category="GST18",
        hsn_sac="998713", is_service=True))
    inventory.receive_stock(ctx, "MAIN", [ReceiptLine("TV55", 5, "30000.00"),
                                          ReceiptLine("KETTLE", 20, "600.00"),
                                          ReceiptLine("RICE", Decimal("50.000"), "90.00")])
    local = customers.create_customer(
        ctx, "Lakshmi Stores", billing_address="12 MG Road", city="Bengaluru",
        state="Karnataka", gstin="29AAKCS4821M1ZS", payment_terms_days=30, phone="98450 12345")
    remote = customers.create_customer(
        ctx, "Unique Traders", billing_address="4 Linking Road", city="Mumbai",
        gstin="27AAPFU0939F1ZV", payment_terms_days=15)
    return Shop(ctx, local, remote)


def as_role(ctx: Context, role: str) -> Context:
    """The same company file, acting with a default role's permissions."""
    from dataclasses import replace

    from erp_desktop.services.authz import DEFAULT_ROLES

    return replace(ctx, actor=replace(ctx.actor, role_name=role,
                                      permissions=DEFAULT_ROLES[role][2]))


def balances(ctx: Context, on: date = date(2026, 12, 31)) -> dict[str, Decimal]:
    """Net debit (debit - credit) per account code, from the trial balance."""
    from erp_desktop.services import ledger

    tb = ledger.trial_balance(ctx, on)
    assert tb.balanced
    return {r.code: r.debit.amount - r.credit.amount for r in tb.rows}


def moved(before: dict[str, Decimal], after: dict[str, Decimal]) -> dict[str, Decimal]:
    """What changed per account (net debit), leaving out accounts that did not move."""
    keys = set(before) | set(after)
    out = {k: after.get(k, Decimal(0)) - before.get(k, Decimal(0)) for k in keys}
    return {k: v for k, v in out.items() if v}
