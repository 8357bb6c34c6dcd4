"""Customers and price lists.

A customer has a billing and shipping address, a state (the place of supply
that decides CGST + SGST or IGST), tax ids (a GSTIN is checked for format,
state code and check character when given), payment terms (days until an
invoice is due), an optional credit limit (issuing past it warns, it does not
refuse), a price list and notes. One walk-in "Cash customer" exists for
counter sales; `walk_in_customer` finds or creates it.

A price list says whether its prices include tax; an item overrides a
product's own sale price.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.domain.gstin import (
    state_code_for_name,
    state_code_of,
    state_name,
    validate_gstin,
)
from erp_desktop.domain.money import Money, normalise_currency, parse_decimal
from erp_desktop.models.company import Company
from erp_desktop.models.inventory import Product
from erp_desktop.models.sales import Customer, CustomerCredit, Invoice, PriceList, PriceListItem
from erp_desktop.services import audit
from erp_desktop.services.context import Context

WALK_IN_CODE = "CASH"
WALK_IN_NAME = "Cash customer"
MAX_PAGE = 500
OPEN_STATUSES = ("issued", "partially_paid")


@dataclass(frozen=True)
class CustomerRow:
    id: uuid.UUID
    code: str
    name: str
    is_walk_in: bool
    billing_address: str | None
    shipping_address: str | None
    city: str | None
    state: str | None
    state_code: str | None
    postal_code: str | None
    country: str
    gstin: str | None
    vat_id: str | None
    email: str | None
    phone: str | None
    payment_terms_days: int
    currency: str
    credit_limit: Money | None
    price_list: str | None
    notes: str | None
    active: bool
    version: int


@dataclass(frozen=True)
class CustomerCursor:
    name_key: str
    id: uuid.UUID


@dataclass(frozen=True)
class CustomerPage:
    rows: list[CustomerRow]
    next_cursor: CustomerCursor | None


@dataclass(frozen=True)
class CustomerBalance:
    customer_id: uuid.UUID
    receivable: Money  # open invoices, less payments and credit notes applied
    credit: Money  # kept as credit (overpayments, credit notes on paid invoices)


@dataclass(frozen=True)
class PriceListRow:
    id: uuid.UUID
    name: str
    currency: str
    prices_include_tax: bool
    is_default: bool
    active: bool


_TEXT_FIELDS = {"billing_address": 1000, "shipping_address": 1000, "city": 100, "state": 100,
                "postal_code": 20, "email": 200, "phone": 40, "notes": 4000, "vat_id": 20,
                "state_code": 8}
_EDITABLE = {"name", "billing_address", "shipping_address", "city", "state", "state_code",
             "postal_code", "country", "gstin", "vat_id", "email", "phone",
             "payment_terms_days", "credit_limit", "price_list", "notes", "active", "currency"}


def name_key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold().strip()


def _row(c: Customer, price_list: str | None) -> CustomerRow:
    return CustomerRow(
        id=c.id, code=c.code, name=c.name, is_walk_in=c.is_walk_in,
        billing_address=c.billing_address, shipping_address=c.shipping_address, city=c.city,
        state=c.state, state_code=c.state_code, postal_code=c.postal_code, country=c.country,
        gstin=c.gstin, vat_id=c.vat_id, email=c.email, phone=c.phone,
        payment_terms_days=c.payment_terms_days, currency=c.currency,
        credit_limit=c.credit_limit, price_list=price_list, notes=c.notes, active=c.active,
        version=c.version)


def _price_list_name(s: Session, pl_id: uuid.UUID | None) -> str | None:
    return s.scalar(select(PriceList.name).where(PriceList.id == pl_id)) if pl_id else None


def _company(s: Session) -> Company:
    row = s.scalars(select(Company)).first()
    if row is None:
        raise NotFound("This company file has no company profile.")
    return row


def _clean(s: Session, values: dict[str, object], company: Company) -> dict[str, object]:
    """Validate and normalise customer fields (name, tax ids, state, terms, limit)."""
    out: dict[str, object] = {}
    for key, value in values.items():
        if key in _TEXT_FIELDS:
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{key.replace('_', ' ').capitalize()} must be text.",
                                      field=key)
            text = (value or "").strip() or None
            if text and len(text) > _TEXT_FIELDS[key]:
                raise ValidationError(f"{key.replace('_', ' ').capitalize()} is at most "
                                      f"{_TEXT_FIELDS[key]} characters.", field=key)
            out[key] = text
        elif key == "name":
            name = (value or "").strip() if isinstance(value, str) else ""
            if not name:
                raise ValidationError("Enter the customer's name.", field="name")
            if len(name) > 200:
                raise ValidationError("A customer name is at most 200 characters.",
                                      field="name")
            out["name"] = name
        elif key == "country":
            if not isinstance(value, str) or len(value.strip()) != 2 or \
                    not value.strip().isalpha():
                raise ValidationError("Country is a two-letter code such as IN, DE or US.",
                                      field="country")
            out["country"] = value.strip().upper()
        elif key == "currency":
            out["currency"] = normalise_currency(str(value or ""))
        elif key == "gstin":
            text = (value or "").strip() if isinstance(value, str) else ""
            out["gstin"] = validate_gstin(text) if text else None
        elif key == "payment_terms_days":
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
                raise ValidationError("Payment terms are 0 to 365 days.",
                                      field="payment_terms_days")
            out[key] = value
        elif key == "credit_limit":
            if value is None or value == "":
                out[key] = None
            else:
                amount = value.amount if isinstance(value, Money) else parse_decimal(
                    value, "credit_limit")
                if amount < 0:
                    raise ValidationError("A credit limit cannot be negative.",
                                          field="credit_limit")
                out[key] = amount
        elif key == "price_list":
            if value in (None, ""):
                out["price_list_id"] = None
            else:
                pl = find_price_list(s, value)
                out["price_list_id"] = pl.id
        elif key == "active":
            if not isinstance(value, bool):
                raise ValidationError("Active is yes or no.", field="active")
            out[key] = value
        else:
            raise ValidationError(f"Unknown customer field '{key}'.", field=key)
    return out


def _settle_state(values: dict[str, object], country: str) -> None:
    """Derive the GST state code from the GSTIN or the state's name, and check they agree."""
    if country != "IN":
        return
    gstin = values.get("gstin")
    code = values.get("state_code")
    if isinstance(code, str):
        code = code.zfill(2)
        if state_name(code) is None:
            raise ValidationError(f"{code} is not a GST state code.", field="state_code")
        values["state_code"] = code
    if not code and isinstance(values.get("state"), str):
        code = state_code_for_name(values["state"])  # type: ignore[arg-type]
        values["state_code"] = code
    if isinstance(gstin, str):
        from_gstin = state_code_of(gstin)
        if code and code != from_gstin:
            raise ValidationError(
                f"The GSTIN {gstin} is registered in {state_name(from_gstin)} "
                f"({from_gstin}), but the customer's state is {state_name(str(code))} "
                f"({code}). Correct one of them.", field="gstin")
        values["state_code"] = from_gstin
        if not values.get("state"):
            values["state"] = state_name(from_gstin)
    if values.get("state_code") and not values.get("state"):
        values["state"] = state_name(str(values["state_code"]))


def _next_code(s: Session) -> str:
    count = s.scalar(select(func.count()).select_from(Customer)) or 0
    n = int(count) + 1
    while s.scalar(select(Customer.id).where(Customer.code == f"C{n:05d}")) is not None:
        n += 1
    return f"C{n:05d}"


def _set_money(c: Customer, values: dict[str, object]) -> None:
    if "credit_limit" in values:
        amount = values.pop("credit_limit")
        c.credit_limit = None if amount is None else Money.of(amount, c.currency)


def create_customer(ctx: Context, name: str, *, code: str | None = None,
                    billing_address: str | None = None, shipping_address: str | None = None,
                    city: str | None = None, state: str | None = None,
                    state_code: str | None = None, postal_code: str | None = None,
                    country: str | None = None, gstin: str | None = None,
                    vat_id: str | None = None, email: str | None = None,
                    phone: str | None = None, payment_terms_days: int = 0,
                    credit_limit: Decimal | Money | str | None = None,
                    price_list: str | uuid.UUID | None = None, notes: str | None = None,
                    currency: str | None = None) -> CustomerRow:
    """Add a customer (GSTIN checked, place of supply taken from it or from the state)."""
    ctx.require("sales.customers.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        company = _company(s)
        values = _clean(s, {
            "name": name, "billing_address": billing_address,
            "shipping_address": shipping_address, "city": city, "state": state,
            "state_code": state_code, "postal_code": postal_code,
            "country": country or company.country, "gstin": gstin, "vat_id": vat_id,
            "email": email, "phone": phone, "payment_terms_days": payment_terms_days,
            "credit_limit": credit_limit, "price_list": price_list, "notes": notes,
            "currency": currency or company.base_currency}, company)
        _settle_state(values, str(values["country"]))
        code = (code or "").strip().upper() or _next_code(s)
        if len(code) > 20 or not code.replace("-", "").isalnum():
            raise ValidationError("A customer code is up to 20 letters or digits.",
                                  field="code")
        if s.scalar(select(Customer.id).where(Customer.code == code)) is not None:
            raise ValidationError(f"There is already a customer with the code {code}.",
                                  field="code")
        c = Customer(code=code, name_key=name_key(str(values["name"])), is_walk_in=False,
                     active=True, currency=str(values.pop("currency")))
        _set_money(c, values)
        for k, v in values.items():
            setattr(c, k, v)
        s.add(c)
        s.flush()
        audit.record(s, ctx, "customer.created", entity="customer", entity_id=c.id,
                     details={"code": code})
        return _row(c, _price_list_name(s, c.price_list_id))


def _get(s: Session, customer: uuid.UUID | str) -> Customer:
    c = None
    if isinstance(customer, uuid.UUID):
        c = s.get(Customer, customer)
    elif isinstance(customer, str):
        text = customer.strip()
        c = s.scalars(select(Customer).where(Customer.code == text.upper())).one_or_none()
        if c is None:
            found = s.scalars(select(Customer).where(Customer.name_key == name_key(text),
                                                     Customer.deleted_at.is_(None))
                              .limit(2)).all()
            if len(found) > 1:
                raise ValidationError(f"More than one customer is called '{text}'; use the "
                                      "customer code.", field="customer")
            c = found[0] if found else None
    if c is None or c.deleted_at is not None:
        raise NotFound(f"There is no customer {customer}.", field="customer")
    return c


def find_customer(s: Session, customer: uuid.UUID | str) -> Customer:
    """The customer by id, code or exact name (in-session, for other sales services)."""
    return _get(s, customer)


def update_customer(ctx: Context, customer: uuid.UUID | str,
                    expected_version: int | None = None, **changes: object) -> CustomerRow:
    """Change a customer; issued invoices keep the details they were issued with."""
    ctx.require("sales.customers.manage")
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationError(f"Unknown customer fields: {', '.join(sorted(unknown))}.",
                              field=sorted(unknown)[0])
    with ctx.db.write(ctx.actor.user_id) as s:
        c = _get(s, customer)
        if expected_version is not None and c.version != expected_version:
            raise Conflict(f"{c.name} was changed by someone else since you opened it; "
                           "reopen it and make your change again.")
        company = _company(s)
        values = _clean(s, dict(changes), company)
        if "currency" in values and values["currency"] != c.currency:
            has_docs = s.scalar(select(Invoice.id).where(Invoice.customer_id == c.id).limit(1))
            if has_docs:
                raise ValidationError("The currency of a customer with invoices cannot change.",
                                      field="currency")
            c.currency = str(values["currency"])
        values.pop("currency", None)
        merged = {"gstin": c.gstin, "state": c.state, "state_code": c.state_code}
        if "gstin" in values or "state" in values or "state_code" in values:
            if "state" in values and "state_code" not in values:
                merged["state_code"] = None  # recomputed from the new state
            if values.get("gstin") and "state" not in values and "state_code" not in values:
                merged["state"] = merged["state_code"] = None  # a new GSTIN brings its state
            merged.update({k: values[k] for k in ("gstin", "state", "state_code")
                           if k in values})
            _settle_state(merged, str(values.get("country", c.country)))
            values.update(merged)
        _set_money(c, values)
        if "name" in values:
            c.name_key = name_key(str(values["name"]))
        changed = sorted(k for k, v in values.items() if getattr(c, k) != v)
        for k in changed:
            setattr(c, k, values[k])
        s.flush()
        if changed or "credit_limit" in changes:
            audit.record(s, ctx, "customer.updated", entity="customer", entity_id=c.id,
                         details={"fields": sorted(set(changed) | ({"credit_limit"} & set(
                             changes)))})
        return _row(c, _price_list_name(s, c.price_list_id))


def get_customer(ctx: Context, customer: uuid.UUID | str) -> CustomerRow:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        c = _get(s, customer)
        return _row(c, _price_list_name(s, c.price_list_id))


def list_customers(ctx: Context, search: str | None = None, *,
                   after: CustomerCursor | None = None, limit: int = 100,
                   include_inactive: bool = False) -> CustomerPage:
    """Customers in name order, a page at a time; `search` matches name, code, phone, GSTIN."""
    ctx.require("sales.view")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    with ctx.db.read() as s:
        stmt = select(Customer).where(Customer.deleted_at.is_(None))
        if not include_inactive:
            stmt = stmt.where(Customer.active.is_(True))
        if search and search.strip():
            text = search.strip()
            like = f"%{name_key(text)}%"
            stmt = stmt.where(or_(Customer.name_key.like(like), Customer.code == text.upper(),
                                  Customer.phone.like(f"%{text}%"),
                                  Customer.gstin == text.upper()))
        if after is not None:
            stmt = stmt.where(or_(Customer.name_key > after.name_key,
                                  and_(Customer.name_key == after.name_key,
                                       Customer.id > after.id)))
        found = s.scalars(stmt.order_by(Customer.name_key, Customer.id).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        names = dict(s.execute(select(PriceList.id, PriceList.name)).all())
        rows = [_row(c, names.get(c.price_list_id)) for c in found]
        cursor = CustomerCursor(found[-1].name_key, found[-1].id) if more and found else None
        return CustomerPage(rows, cursor)


_WALK_IN = select(Customer).where(Customer.is_walk_in.is_(True),
                                  Customer.deleted_at.is_(None)).limit(1)


def walk_in_in_session(s: Session) -> Customer:
    """The walk-in cash customer, created on first use."""
    c = s.scalars(_WALK_IN).first()
    if c is not None:
        return c
    company = _company(s)
    code = WALK_IN_CODE if s.scalar(select(Customer.id).where(
        Customer.code == WALK_IN_CODE)) is None else _next_code(s)
    c = Customer(code=code, name=WALK_IN_NAME, name_key=name_key(WALK_IN_NAME), is_walk_in=True,
                 country=company.country, currency=company.base_currency,
                 state=company.state, state_code=company.state_code, payment_terms_days=0,
                 active=True)
    s.add(c)
    s.flush()
    return c


def walk_in_customer(ctx: Context) -> CustomerRow:
    """The counter's cash customer (created the first time it is asked for)."""
    ctx.require("sales.view")
    with ctx.db.write(ctx.actor.user_id) as s:
        return _row(walk_in_in_session(s), None)


def balance_in_session(s: Session, customer_id: uuid.UUID, currency: str) -> CustomerBalance:
    open_minor = s.scalar(
        select(func.coalesce(func.sum(Invoice.total_minor - Invoice.paid_minor
                                      - Invoice.credited_minor), 0))
        .where(Invoice.customer_id == customer_id, Invoice.status.in_(OPEN_STATUSES))) or 0
    credit = s.scalar(select(func.coalesce(func.sum(CustomerCredit.amount_minor), 0))
                      .where(CustomerCredit.customer_id == customer_id)) or 0
    return CustomerBalance(customer_id, Money.from_minor(int(open_minor), currency),
                           Money.from_minor(int(credit), currency))


def customer_balance(ctx: Context, customer: uuid.UUID | str) -> CustomerBalance:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        c = _get(s, customer)
        return balance_in_session(s, c.id, c.currency)


# ------------------------------------------------------------------ price lists


def find_price_list(s: Session, ref: object) -> PriceList:
    pl = None
    if isinstance(ref, uuid.UUID):
        pl = s.get(PriceList, ref)
    elif isinstance(ref, str):
        pl = s.scalars(select(PriceList).where(PriceList.name == ref.strip())).one_or_none()
    if pl is None or pl.deleted_at is not None:
        raise NotFound(f"There is no price list {ref}.", field="price_list")
    return pl


def _pl_row(pl: PriceList) -> PriceListRow:
    return PriceListRow(pl.id, pl.name, pl.currency, pl.prices_include_tax, pl.is_default,
                        pl.active)


def create_price_list(ctx: Context, name: str, *, prices_include_tax: bool,
                      currency: str | None = None, is_default: bool = False) -> PriceListRow:
    """A price list; with `prices_include_tax` its prices are what the customer pays."""
    ctx.require("sales.customers.manage")
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise ValidationError("Name the price list (up to 80 characters).", field="name")
    with ctx.db.write(ctx.actor.user_id) as s:
        if s.scalar(select(PriceList.id).where(PriceList.name == name)) is not None:
            raise ValidationError(f"There is already a price list called {name}.",
                                  field="name")
        cur = normalise_currency(currency or _company(s).base_currency)
        if is_default:
            for other in s.scalars(select(PriceList).where(PriceList.is_default.is_(True))):
                other.is_default = False
        pl = PriceList(name=name, currency=cur, prices_include_tax=bool(prices_include_tax),
                       is_default=is_default, active=True)
        s.add(pl)
        s.flush()
        audit.record(s, ctx, "price_list.created", entity="price_list", entity_id=pl.id,
                     details={"inclusive": pl.prices_include_tax})
        return _pl_row(pl)


def set_price(ctx: Context, price_list: str | uuid.UUID, product_id: uuid.UUID,
              price: Decimal | str | int) -> PriceListRow:
    """Set one product's price in a price list."""
    ctx.require("sales.customers.manage")
    amount = parse_decimal(price, "price")
    if amount < 0:
        raise ValidationError("A price cannot be negative.", field="price")
    with ctx.db.write(ctx.actor.user_id) as s:
        pl = find_price_list(s, price_list)
        product = s.get(Product, product_id)
        if product is None or product.deleted_at is not None:
            raise NotFound("That product does not exist.", field="product")
        money = Money(amount, pl.currency)
        item = s.scalars(select(PriceListItem).where(
            PriceListItem.price_list_id == pl.id,
            PriceListItem.product_id == product_id)).one_or_none()
        if item is None:
            s.add(PriceListItem(price_list_id=pl.id, product_id=product_id,
                                currency=pl.currency, price_minor=money.minor))
        else:
            item.price_minor, item.deleted_at = money.minor, None
        s.flush()
        return _pl_row(pl)


def list_price_lists(ctx: Context) -> list[PriceListRow]:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        return [_pl_row(pl) for pl in s.scalars(
            select(PriceList).where(PriceList.deleted_at.is_(None)).order_by(PriceList.name))]


def price_list_of(s: Session, pl_id: uuid.UUID | None) -> PriceList | None:
    """The customer's price list, else the default one (in-session helper)."""
    if pl_id is not None:
        pl = s.get(PriceList, pl_id)
        if pl is not None and pl.deleted_at is None and pl.active:
            return pl
    return s.scalars(select(PriceList).where(PriceList.is_default.is_(True),
                                             PriceList.deleted_at.is_(None),
                                             PriceList.active.is_(True)).limit(1)).first()


def price_in_list(s: Session, pl: PriceList | None, product: Product) -> int:
    """A product's price in minor units: the list's item, else the product's sale price."""
    if pl is not None:
        minor = s.scalar(select(PriceListItem.price_minor).where(
            PriceListItem.price_list_id == pl.id, PriceListItem.product_id == product.id,
            PriceListItem.deleted_at.is_(None)))
        if minor is not None:
            return int(minor)
    return int(product.sale_price_minor)
