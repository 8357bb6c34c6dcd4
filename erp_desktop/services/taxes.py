"""Tax rates per company: configure them, seed the defaults, resolve a line's rate.

A new company has no rates; the first sale (or the demo, or the admin) seeds
the defaults of the company's regime (`domain.tax.DEFAULT_RATES`): GST 0, 5,
12, 18 and 28 % with CGST/SGST/IGST, zero-rated and exempt; VAT standard,
reduced and zero; a US-style sales tax. Seeding also opens one output-tax
account per component (CGST payable, SGST payable ...) so the tax summary and
the ledger agree per component, and gives each rate a tax category of the
same code for products to point at.

Inside a transaction, `rate_of_category` and `load_rate` turn the stored rows
into the `domain.tax.Rate` the computation needs, with the account each
component posts to.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import NotFound, ValidationError
from erp_desktop.domain.money import parse_decimal
from erp_desktop.domain.tax import DEFAULT_RATES, Component, Rate, Scope, TaxKind
from erp_desktop.models.company import Company
from erp_desktop.models.ledger import Account
from erp_desktop.models.tax import TaxCategory
from erp_desktop.models.taxes import TaxCategoryRate, TaxComponent, TaxRate
from erp_desktop.services import audit
from erp_desktop.services.context import Context

TAX_PAYABLE_KEY = "tax_payable"
# Output-tax accounts opened per component code when rates are seeded.
_COMPONENT_ACCOUNTS: dict[str, tuple[str, str]] = {
    "CGST": ("2210", "Output CGST payable"),
    "SGST": ("2220", "Output SGST payable"),
    "IGST": ("2230", "Output IGST payable"),
    "VAT": ("2240", "Output VAT payable"),
    "STATE": ("2250", "State sales tax payable"),
    "CITY": ("2260", "City sales tax payable"),
    "MCTD": ("2270", "Transit district tax payable"),
}


@dataclass(frozen=True)
class ComponentRow:
    code: str
    name: str
    rate: Decimal
    scope: str
    account_code: str | None


@dataclass(frozen=True)
class TaxRateRow:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    rate: Decimal  # the headline rate (18 for CGST 9 + SGST 9 / IGST 18)
    active: bool
    components: list[ComponentRow]
    categories: list[str]  # codes of the tax categories sold at this rate


@dataclass(frozen=True)
class ComponentInput:
    code: str
    name: str
    rate: Decimal | str | int
    scope: str = "any"
    account_code: str | None = None


@dataclass(frozen=True)
class LoadedRate:
    """A rate ready for `domain.tax`, with the account each component posts to."""

    id: uuid.UUID
    rate: Rate
    accounts: dict[str, uuid.UUID]  # component code -> account id


# ------------------------------------------------------------------ in-session helpers


def _fallback_account(s: Session) -> uuid.UUID:
    acc = s.scalar(select(Account.id).where(Account.system_key == TAX_PAYABLE_KEY))
    if acc is None:
        raise NotFound("The chart of accounts has no tax payable account.")
    return acc


def load_rate(s: Session, rate_id: uuid.UUID) -> LoadedRate:
    row = s.get(TaxRate, rate_id)
    if row is None or row.deleted_at is not None:
        raise NotFound("That tax rate does not exist.")
    comps = s.scalars(select(TaxComponent).where(TaxComponent.rate_id == row.id,
                                                 TaxComponent.deleted_at.is_(None))
                      .order_by(TaxComponent.seq)).all()
    fallback: uuid.UUID | None = None
    accounts: dict[str, uuid.UUID] = {}
    for c in comps:
        if c.account_id is None:
            fallback = fallback or _fallback_account(s)
        accounts[c.code] = c.account_id or fallback  # type: ignore[assignment]
    rate = Rate(row.code, row.name, TaxKind(row.kind),
                tuple(Component(c.code, c.name, c.rate_pct, Scope(c.scope)) for c in comps))
    return LoadedRate(row.id, rate, accounts)


def rate_of_category(s: Session, category_id: uuid.UUID | None) -> uuid.UUID | None:
    if category_id is None:
        return None
    return s.scalar(select(TaxCategoryRate.rate_id)
                    .where(TaxCategoryRate.category_id == category_id,
                           TaxCategoryRate.deleted_at.is_(None)))


def find_rate_id(s: Session, code: str) -> uuid.UUID | None:
    return s.scalar(select(TaxRate.id).where(TaxRate.code == code.strip().upper(),
                                             TaxRate.deleted_at.is_(None)))


def default_rate_id(s: Session) -> uuid.UUID | None:
    """The rate for a free-text line with no category: the regime's standard rate."""
    regime = s.scalar(select(Company.tax_regime)) or "none"
    preferred = {"gst": "GST18", "vat": "VAT20", "sales_tax": "ST", "none": "NONE"}
    rid = find_rate_id(s, preferred.get(regime, "NONE"))
    if rid is None:
        rid = s.scalar(select(TaxRate.id).where(TaxRate.deleted_at.is_(None),
                                                TaxRate.active.is_(True))
                       .order_by(TaxRate.code).limit(1))
    return rid


def _component_account(s: Session, code: str) -> uuid.UUID:
    """The output-tax account of a component code, opened under Liabilities if missing."""
    key = f"tax_payable_{code.lower()}"
    existing = s.scalar(select(Account.id).where(Account.system_key == key))
    if existing is not None:
        return existing
    spec = _COMPONENT_ACCOUNTS.get(code)
    if spec is None:
        return _fallback_account(s)
    number, name = spec
    if s.scalar(select(Account.id).where(Account.code == number)) is not None:
        return _fallback_account(s)  # the company used that code for something else
    parent = s.scalar(select(Account.parent_id).where(Account.system_key == TAX_PAYABLE_KEY))
    acc = Account(code=number, name=name, type="liability", parent_id=parent, system_key=key,
                  is_group=False)
    s.add(acc)
    s.flush()
    return acc.id


def seed_in_session(s: Session, regime: str | None = None) -> list[str]:
    """Create the regime's default rates that are missing; returns the codes created."""
    regime = regime or s.scalar(select(Company.tax_regime)) or "none"
    if regime not in DEFAULT_RATES:
        raise ValidationError(f"There are no default rates for the tax regime '{regime}'.",
                              field="regime")
    created: list[str] = []
    for rate in DEFAULT_RATES[regime]:
        if find_rate_id(s, rate.code) is not None:
            continue
        row = TaxRate(code=rate.code, name=rate.name, kind=rate.kind.value, active=True)
        s.add(row)
        s.flush()
        for seq, c in enumerate(rate.components, start=1):
            s.add(TaxComponent(rate_id=row.id, seq=seq, code=c.code, name=c.name,
                               rate_pct=c.rate, scope=c.scope.value,
                               account_id=_component_account(s, c.code)))
        cat = s.scalars(select(TaxCategory).where(TaxCategory.code == rate.code)).one_or_none()
        if cat is None:
            cat = TaxCategory(code=rate.code, name=rate.name, active=True)
            s.add(cat)
            s.flush()
        if s.scalar(select(TaxCategoryRate.id)
                    .where(TaxCategoryRate.category_id == cat.id)) is None:
            s.add(TaxCategoryRate(category_id=cat.id, rate_id=row.id))
        created.append(rate.code)
    s.flush()
    return created


def ensure_rates(s: Session) -> None:
    """Seed the defaults on first use (a company that has never configured a rate)."""
    if s.scalar(select(TaxRate.id).limit(1)) is None:
        seed_in_session(s)


# ------------------------------------------------------------------ use cases


def _rows(s: Session) -> list[TaxRateRow]:
    rates = s.scalars(select(TaxRate).where(TaxRate.deleted_at.is_(None))
                      .order_by(TaxRate.code)).all()
    comps = s.scalars(select(TaxComponent).where(TaxComponent.deleted_at.is_(None))
                      .order_by(TaxComponent.seq)).all()
    codes = dict(s.execute(select(Account.id, Account.code)).all())
    links = s.execute(select(TaxCategoryRate.rate_id, TaxCategory.code)
                      .join(TaxCategory, TaxCategory.id == TaxCategoryRate.category_id)
                      .where(TaxCategoryRate.deleted_at.is_(None))
                      .order_by(TaxCategory.code)).all()
    out = []
    for r in rates:
        mine = [c for c in comps if c.rate_id == r.id]
        domain_rate = Rate(r.code, r.name, TaxKind(r.kind),
                           tuple(Component(c.code, c.name, c.rate_pct, Scope(c.scope))
                                 for c in mine))
        out.append(TaxRateRow(
            id=r.id, code=r.code, name=r.name, kind=r.kind, rate=domain_rate.headline,
            active=r.active,
            components=[ComponentRow(c.code, c.name, c.rate_pct, c.scope,
                                     codes.get(c.account_id) if c.account_id else None)
                        for c in mine],
            categories=[code for rid, code in links if rid == r.id]))
    return out


def list_tax_rates(ctx: Context) -> list[TaxRateRow]:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        return _rows(s)


def seed_default_taxes(ctx: Context, regime: str | None = None) -> list[str]:
    """Add the default rates of the company's (or the given) regime; returns codes added."""
    ctx.require("settings.edit")
    with ctx.db.write(ctx.actor.user_id) as s:
        created = seed_in_session(s, regime)
        if created:
            audit.record(s, ctx, "tax.rates_seeded", entity="tax_rate",
                         details={"codes": created})
        return created


def _check_components(components: list[ComponentInput], kind: TaxKind) -> list[ComponentInput]:
    seen: set[tuple[str, str]] = set()
    out = []
    for c in components:
        code = (c.code or "").strip().upper()
        if not code or len(code) > 12 or not code.replace("_", "").isalnum():
            raise ValidationError("A tax component code is up to 12 letters or digits "
                                  "(CGST, VAT).", field="components")
        name = (c.name or "").strip() or code
        rate = parse_decimal(c.rate, "rate")
        if rate < 0 or rate > 100:
            raise ValidationError(f"The {code} rate must be between 0 and 100 percent.",
                                  field="components")
        if rate != rate.quantize(Decimal("0.001")):
            raise ValidationError(f"The {code} rate has more than three decimal places.",
                                  field="components")
        if c.scope not in ("intra", "inter", "any"):
            raise ValidationError("A component applies 'intra' (inside the state), 'inter' "
                                  "(across states) or 'any'.", field="components")
        if (code, c.scope) in seen:
            raise ValidationError(f"The component {code} is listed twice.", field="components")
        seen.add((code, c.scope))
        out.append(ComponentInput(code, name, rate, c.scope, c.account_code))
    if kind in (TaxKind.ZERO_RATED, TaxKind.EXEMPT) and any(
            Decimal(c.rate) for c in out):
        raise ValidationError("A zero-rated or exempt rate charges no tax.", field="components")
    if kind is TaxKind.GST and out:
        intra = sum((Decimal(c.rate) for c in out if c.scope == "intra"), Decimal(0))
        inter = sum((Decimal(c.rate) for c in out if c.scope == "inter"), Decimal(0))
        if intra != inter:
            raise ValidationError(f"Inside the state the components add up to {intra}%, "
                                  f"across states to {inter}%: a GST rate is the same both "
                                  "ways.", field="components")
    return out


def save_tax_rate(ctx: Context, code: str, name: str, kind: str,
                  components: list[ComponentInput], *, active: bool = True) -> TaxRateRow:
    """Create a rate, or change one (issued invoices keep the rate they used)."""
    ctx.require("settings.edit")
    code = (code or "").strip().upper()
    if not code or len(code) > 20 or not code.replace("_", "").replace("-", "").isalnum():
        raise ValidationError("A tax rate code is up to 20 letters or digits (GST18).",
                              field="code")
    name = (name or "").strip()
    if not name:
        raise ValidationError("Name the tax rate (e.g. GST 18%).", field="name")
    try:
        tax_kind = TaxKind(kind)
    except ValueError:
        raise ValidationError("The kind of a tax rate is gst, vat, sales_tax, zero_rated or "
                              "exempt.", field="kind") from None
    clean = _check_components(list(components), tax_kind)
    with ctx.db.write(ctx.actor.user_id) as s:
        row = s.scalars(select(TaxRate).where(TaxRate.code == code)).one_or_none()
        created = row is None
        if row is None:
            row = TaxRate(code=code, name=name, kind=tax_kind.value, active=active)
            s.add(row)
            s.flush()
        else:
            row.name, row.kind, row.active, row.deleted_at = name, tax_kind.value, active, None
            for old in s.scalars(select(TaxComponent).where(TaxComponent.rate_id == row.id,
                                                            TaxComponent.deleted_at.is_(None))):
                old.deleted_at = ctx.now()
        for seq, c in enumerate(clean, start=1):
            if c.account_code:
                acc = s.scalar(select(Account.id).where(Account.code == c.account_code.strip()))
                if acc is None:
                    raise ValidationError(f"There is no account {c.account_code}.",
                                          field="components")
            else:
                acc = _component_account(s, c.code)
            s.add(TaxComponent(rate_id=row.id, seq=seq, code=c.code, name=c.name,
                               rate_pct=Decimal(c.rate), scope=c.scope, account_id=acc))
        s.flush()
        audit.record(s, ctx, "tax.rate_created" if created else "tax.rate_changed",
                     entity="tax_rate", entity_id=row.id,
                     details={"code": code, "components": [c.code for c in clean]})
        return next(r for r in _rows(s) if r.id == row.id)


def set_category_rate(ctx: Context, category_code: str, rate_code: str) -> TaxRateRow:
    """Sell a tax category's products at this rate from now on."""
    ctx.require("settings.edit")
    with ctx.db.write(ctx.actor.user_id) as s:
        cat = s.scalars(select(TaxCategory).where(
            TaxCategory.code == (category_code or "").strip(),
            TaxCategory.deleted_at.is_(None))).one_or_none()
        if cat is None:
            raise NotFound(f"There is no tax category {category_code}.", field="category")
        rate_id = find_rate_id(s, rate_code or "")
        if rate_id is None:
            raise NotFound(f"There is no tax rate {rate_code}.", field="rate")
        link = s.scalars(select(TaxCategoryRate)
                         .where(TaxCategoryRate.category_id == cat.id)).one_or_none()
        if link is None:
            s.add(TaxCategoryRate(category_id=cat.id, rate_id=rate_id))
        else:
            link.rate_id, link.deleted_at = rate_id, None
        s.flush()
        audit.record(s, ctx, "tax.category_rate_set", entity="tax_category", entity_id=cat.id,
                     details={"category": cat.code, "rate": rate_code.strip().upper()})
        return next(r for r in _rows(s) if r.id == rate_id)
