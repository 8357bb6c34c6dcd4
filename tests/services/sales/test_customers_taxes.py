"""Customers (GSTIN, place of supply, terms, limits), price lists and tax rate setup."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from erp_desktop.models.ledger import Account
from erp_desktop.services import customers, sales, taxes
from erp_desktop.services.sales import LineIn
from erp_desktop.services.taxes import ComponentInput
from tests.services.sales.conftest import as_role


def test_gstin_sets_the_place_of_supply(admin_ctx):
    c = customers.create_customer(admin_ctx, "Unique Traders", gstin=" 27aapfu0939f1zv ")
    assert (c.gstin, c.state_code, c.state) == ("27AAPFU0939F1ZV", "27", "Maharashtra")
    assert c.code == "C00001" and c.currency == "INR" and c.country == "IN"
    by_name = customers.create_customer(admin_ctx, "Chennai Mart", state="Tamil Nadu")
    assert by_name.state_code == "33"


@pytest.mark.parametrize("kwargs, field, message", [
    (dict(gstin="27AAPFU0939F1ZW"), "gstin", "check character"),
    (dict(gstin="27AAPFU0939F1Z"), "gstin", "15 characters"),
    (dict(gstin="27AAPFU0939F1ZV", state="Karnataka"), "gstin", "registered in Maharashtra"),
    (dict(state_code="77"), "state_code", "not a GST state code"),
    (dict(payment_terms_days=400), "payment_terms_days", "0 to 365"),
    (dict(credit_limit="-5"), "credit_limit", "negative"),
    (dict(country="India"), "country", "two-letter"),
    (dict(price_list="Wholesale"), "price_list", "no price list"),
])
def test_bad_customers_are_refused(admin_ctx, kwargs, field, message):
    with pytest.raises((ValidationError, NotFound), match=message) as err:
        customers.create_customer(admin_ctx, "Someone", **kwargs)
    assert err.value.field == field
    assert customers.list_customers(admin_ctx).rows == []


def test_update_find_and_optimistic_locking(admin_ctx):
    ctx = admin_ctx
    c = customers.create_customer(ctx, "Lakshmi Stores", phone="98450 12345", state="Karnataka")
    changed = customers.update_customer(ctx, c.id, expected_version=c.version,
                                        gstin="27AAPFU0939F1ZV", payment_terms_days=45)
    assert changed.state_code == "27" and changed.payment_terms_days == 45
    with pytest.raises(Conflict):
        customers.update_customer(ctx, c.id, expected_version=c.version, notes="late")
    with pytest.raises(ValidationError, match="Unknown customer fields"):
        customers.update_customer(ctx, c.id, colour="red")
    with pytest.raises(ValidationError, match="Enter the customer's name"):
        customers.update_customer(ctx, c.id, name="  ")
    assert customers.get_customer(ctx, "lakshmi stores").id == c.id
    assert [r.name for r in customers.list_customers(ctx, "98450").rows] == ["Lakshmi Stores"]
    customers.create_customer(ctx, "Lakshmi Stores")
    with pytest.raises(ValidationError, match="More than one customer"):
        customers.get_customer(ctx, "Lakshmi Stores")


def test_walk_in_customer_exists_once(admin_ctx):
    a = customers.walk_in_customer(admin_ctx)
    b = customers.walk_in_customer(admin_ctx)
    assert a.id == b.id and a.is_walk_in and a.code == "CASH"
    assert a.state_code == "29"  # the company's own state: CGST + SGST at the counter


def test_customer_permissions(admin_ctx):
    with pytest.raises(PermissionDenied):
        customers.create_customer(as_role(admin_ctx, "storekeeper"), "X")
    clerk = customers.create_customer(as_role(admin_ctx, "sales_clerk"), "Walk-up Ltd")
    assert clerk.name == "Walk-up Ltd"


def test_default_rates_are_seeded_once_with_accounts_per_component(admin_ctx):
    ctx = admin_ctx
    created = taxes.seed_default_taxes(ctx)
    assert created == ["GST0", "GST5", "GST12", "GST18", "GST28", "ZERO", "EXEMPT"]
    assert taxes.seed_default_taxes(ctx) == []
    rates = {r.code: r for r in taxes.list_tax_rates(ctx)}
    gst18 = rates["GST18"]
    assert gst18.rate == 18 and gst18.categories == ["GST18"]
    assert [(c.code, c.rate, c.scope, c.account_code) for c in gst18.components] == [
        ("CGST", D(9), "intra", "2210"), ("SGST", D(9), "intra", "2220"),
        ("IGST", D(18), "inter", "2230")]
    with ctx.db.read() as s:
        names = dict(s.execute(select(Account.code, Account.name)
                               .where(Account.code.in_(["2210", "2220", "2230"]))).all())
    assert names == {"2210": "Output CGST payable", "2220": "Output SGST payable",
                     "2230": "Output IGST payable"}


def test_first_sale_seeds_the_rates(admin_ctx):
    # no seeding by hand: a free-text line at the regime's standard rate
    d = sales.create_draft(admin_ctx, None, [LineIn(description="Repair", unit_price="100")])
    assert d.lines[0].tax_rate_code == "GST18" and d.total.amount == D("118.00")


def test_configure_a_rate_and_a_category(admin_ctx):
    ctx = admin_ctx
    taxes.seed_default_taxes(ctx)
    row = taxes.save_tax_rate(ctx, "GST3", "GST 3% (gold)", "gst", [
        ComponentInput("CGST", "CGST", "1.5", "intra"),
        ComponentInput("SGST", "SGST", "1.5", "intra"),
        ComponentInput("IGST", "IGST", "3", "inter")])
    assert row.rate == 3 and row.components[0].account_code == "2210"
    from erp_desktop.services import catalogue

    catalogue.create_tax_category(ctx, "GOLD", "Gold jewellery", hsn_sac="7113")
    linked = taxes.set_category_rate(ctx, "GOLD", "GST3")
    assert linked.categories == ["GOLD"]
    with pytest.raises(ValidationError, match="same both ways"):
        taxes.save_tax_rate(ctx, "BAD", "Bad", "gst", [
            ComponentInput("CGST", "CGST", "9", "intra"), ComponentInput("IGST", "IGST", "12",
                                                                         "inter")])
    with pytest.raises(ValidationError, match="charges no tax"):
        taxes.save_tax_rate(ctx, "EX2", "Exempt", "exempt", [ComponentInput("VAT", "VAT", "5")])
    with pytest.raises(ValidationError, match="between 0 and 100"):
        taxes.save_tax_rate(ctx, "VATX", "VAT", "vat", [ComponentInput("VAT", "VAT", "120")])
    with pytest.raises(NotFound):
        taxes.set_category_rate(ctx, "GOLD", "GST99")
    with pytest.raises(PermissionDenied):
        taxes.save_tax_rate(as_role(ctx, "accountant"), "GST3", "x", "gst", [])
