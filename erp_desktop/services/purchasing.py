"""Purchasing: vendors, purchase orders and receiving, vendor bills, debit notes, payments.

A purchase order is a state machine whose allowed moves live in one place,
`PO_TRANSITIONS`; every change of state is recorded with who and when.
Receiving goods (all that is left, or part of it, into a chosen warehouse)
writes stock receipts at the order's unit cost and posts nothing: the books
see the goods when the vendor's bill is posted.

A vendor bill is a draft until posted. Posting gives it its number (`BILL/…`)
and writes one balanced entry: payables credited (with the vendor as party),
inventory debited for stock lines, the expense account for service and
expense lines, and input tax. A bill made from an order bills goods already
received (at the order's cost), so inventory in the books follows the stock
ledger; a bill on its own may bring stock in itself (it writes the receipt).
A posted bill never changes; a debit note corrects it, returning goods to the
vendor (stock out at its average cost, the difference to stock adjustments)
and reversing the payable and input tax. Payments settle one or several bills,
fully or in part, from the bank or the cash box.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.domain.ids import new_id
from erp_desktop.domain.money import Money, format_money, parse_decimal, to_minor
from erp_desktop.domain.quantity import check_places, parse_quantity
from erp_desktop.models.base import utcnow
from erp_desktop.models.company import Company
from erp_desktop.models.inventory import Product, UnitOfMeasure, Warehouse
from erp_desktop.models.ledger import Account
from erp_desktop.models.purchasing import (
    DebitNote,
    DebitNoteLine,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseOrderEvent,
    PurchaseOrderLine,
    Vendor,
    VendorBill,
    VendorBillLine,
    VendorPayment,
    VendorPaymentAllocation,
)
from erp_desktop.models.security import User
from erp_desktop.services import audit
from erp_desktop.services.catalogue import find_product_in_session
from erp_desktop.services.context import Context
from erp_desktop.services.inventory import (
    MoveResult,
    find_warehouse_in_session,
    fmt_qty,
    move_in_session,
    move_result,
    stock_books,
)
from erp_desktop.services.ledger import LineInput, post_in_session
from erp_desktop.services.numbering import next_number

MAX_PAGE = 1000
PAYMENT_METHODS = {"bank": "bank", "cash": "cash"}  # method -> system account key

# The purchase order state machine: from -> the states it may move to.
PO_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"ordered", "cancelled"}),
    "ordered": frozenset({"partially_received", "received", "cancelled"}),
    "partially_received": frozenset({"received"}),
    "received": frozenset(),
    "cancelled": frozenset(),
}
PO_LABELS = {"draft": "a draft", "ordered": "ordered", "partially_received": "partly received",
             "received": "fully received", "cancelled": "cancelled"}

SERIES = {"order": ("purchase_order", "PO"), "receipt": ("goods_receipt", "GRN"),
          "bill": ("vendor_bill", "BILL"), "debit_note": ("debit_note", "DN"),
          "payment": ("vendor_payment", "VP")}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class VendorInput:
    name: str
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    city: str | None = None
    state: str | None = None
    state_code: str | None = None
    country: str | None = None
    tax_id: str | None = None
    payment_terms_days: int = 30
    bank_name: str | None = None
    bank_account: str | None = None
    bank_code: str | None = None
    notes: str | None = None
    active: bool = True


@dataclass(frozen=True)
class VendorRow:
    id: uuid.UUID
    name: str
    contact_person: str | None
    email: str | None
    phone: str | None
    address: str | None
    city: str | None
    state: str | None
    state_code: str | None
    country: str | None
    tax_id: str | None
    payment_terms_days: int
    bank_name: str | None
    bank_account: str | None
    bank_code: str | None
    notes: str | None
    active: bool
    version: int


@dataclass(frozen=True)
class VendorCursor:
    name_key: str
    vendor_id: uuid.UUID


@dataclass(frozen=True)
class VendorPage:
    rows: list[VendorRow]
    next_cursor: VendorCursor | None


@dataclass(frozen=True)
class OrderLineInput:
    product: uuid.UUID | str  # id, SKU or barcode
    quantity: Decimal | str | int
    unit_cost: Decimal | str | int | Money | None = None  # default: the product's purchase price
    tax_rate: Decimal | str | int = Decimal(0)  # percent
    description: str | None = None


@dataclass(frozen=True)
class OrderLineRow:
    id: uuid.UUID
    line_no: int
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    description: str | None
    quantity: Decimal
    unit_cost: Money
    tax_rate: Decimal
    net: Money
    tax: Money
    received_qty: Decimal
    billed_qty: Decimal
    remaining_qty: Decimal  # still to receive


@dataclass(frozen=True)
class OrderEventRow:
    from_status: str | None
    to_status: str
    at: datetime
    by: str | None
    note: str | None


@dataclass(frozen=True)
class PurchaseOrderView:
    id: uuid.UUID
    number: str
    vendor_id: uuid.UUID
    vendor_name: str
    order_date: date
    expected_date: date | None
    status: str
    warehouse_code: str | None
    subtotal: Money
    tax: Money
    total: Money
    notes: str | None
    lines: list[OrderLineRow]
    events: list[OrderEventRow]
    version: int


@dataclass(frozen=True)
class OrderSummary:
    id: uuid.UUID
    number: str
    vendor_name: str
    order_date: date
    status: str
    total: Money


@dataclass(frozen=True)
class OrderCursor:
    order_date: date
    order_id: uuid.UUID


@dataclass(frozen=True)
class OrderPage:
    rows: list[OrderSummary]
    next_cursor: OrderCursor | None


@dataclass(frozen=True)
class GoodsReceiptView:
    id: uuid.UUID
    number: str
    order_id: uuid.UUID
    order_number: str
    order_status: str
    warehouse_code: str
    receipt_date: date
    moves: list[MoveResult]
    value: Money


@dataclass(frozen=True)
class BillLineInput:
    """A bill line: a product (stock or service) or an expense account, and its amounts."""

    product: uuid.UUID | str | None = None
    quantity: Decimal | str | int = Decimal(1)
    unit_cost: Decimal | str | int | Money | None = None  # default: the product's purchase price
    tax_rate: Decimal | str | int = Decimal(0)
    description: str | None = None
    account: str | None = None  # account code for an expense line (default: purchases)
    order_line_id: uuid.UUID | None = None


@dataclass(frozen=True)
class BillLineRow:
    id: uuid.UUID
    line_no: int
    product_id: uuid.UUID | None
    sku: str | None
    account_code: str | None
    description: str | None
    quantity: Decimal
    unit_cost: Money
    tax_rate: Decimal
    net: Money
    tax: Money
    returned_qty: Decimal
    order_line_id: uuid.UUID | None


@dataclass(frozen=True)
class BillView:
    id: uuid.UUID
    number: str | None
    vendor_id: uuid.UUID
    vendor_name: str
    vendor_ref: str | None
    order_number: str | None
    warehouse_code: str | None
    bill_date: date
    due_date: date
    status: str  # draft | posted | cancelled
    payment_status: str  # draft | open | partially_paid | paid | cancelled
    subtotal: Money
    tax: Money
    total: Money
    paid: Money
    debited: Money
    balance_due: Money
    notes: str | None
    lines: list[BillLineRow]
    journal_entry_id: uuid.UUID | None
    version: int


@dataclass(frozen=True)
class BillSummary:
    id: uuid.UUID
    number: str | None
    vendor_name: str
    vendor_ref: str | None
    bill_date: date
    due_date: date
    status: str
    payment_status: str
    total: Money
    balance_due: Money


@dataclass(frozen=True)
class BillCursor:
    bill_date: date
    bill_id: uuid.UUID


@dataclass(frozen=True)
class BillPage:
    rows: list[BillSummary]
    next_cursor: BillCursor | None


@dataclass(frozen=True)
class DebitNoteLineInput:
    bill_line_id: uuid.UUID
    quantity: Decimal | str | int
    warehouse: uuid.UUID | str | None = None  # where returned goods leave from


@dataclass(frozen=True)
class DebitNoteView:
    id: uuid.UUID
    number: str
    bill_id: uuid.UUID
    bill_number: str
    note_date: date
    reason: str
    subtotal: Money
    tax: Money
    total: Money
    moves: list[MoveResult]
    journal_entry_id: uuid.UUID | None


@dataclass(frozen=True)
class PaymentView:
    id: uuid.UUID
    number: str
    vendor_id: uuid.UUID
    vendor_name: str
    payment_date: date
    method: str
    amount: Money
    reference: str | None
    allocations: list[tuple[str, Money]]  # (bill number, amount)
    journal_entry_id: uuid.UUID | None


# --------------------------------------------------------------------------- helpers


def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class _Co:
    currency: str
    locale: str
    fy_start_month: int


def _company(s: Session) -> _Co:
    row = s.execute(select(Company.base_currency, Company.locale,
                           Company.fiscal_year_start_month)).first()
    if row is None:
        raise NotFound("This company file has no company profile.")
    return _Co(*row)


def _money(minor: int, co: _Co) -> Money:
    return Money.from_minor(minor, co.currency)


def _shown(minor: int, co: _Co) -> str:
    return format_money(Money.from_minor(minor, co.currency), co.locale)


def _number(s: Session, ctx: Context, co: _Co, kind: str, on: date) -> str:
    doc_type, prefix = SERIES[kind]
    return next_number(s, doc_type, prefix, ctx.device.code, on, co.fy_start_month)


def _date(ctx: Context, value: object, field: str, label: str) -> date:
    if value is None:
        return ctx.today()
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(f"{label} must be a date.", field=field)
    return value


def _rate_bp(value: object) -> int:
    rate = parse_decimal(value if value not in (None, "") else 0, "tax_rate")
    if rate < 0 or rate > 100:
        raise ValidationError("A tax rate is a percentage from 0 to 100.", field="tax_rate")
    bp = rate * 100
    if bp != bp.to_integral_value():
        raise ValidationError("A tax rate has at most two decimal places (e.g. 2.5 or 18).",
                              field="tax_rate")
    return int(bp)


def _bp_rate(bp: int) -> Decimal:
    return (Decimal(bp) / 100).quantize(Decimal("0.01"))


def _cost(value: object, co: _Co, default: int | None) -> int:
    if value is None or value == "":
        if default is None:
            raise ValidationError("Enter the unit cost.", field="unit_cost")
        return default
    if isinstance(value, Money):
        if value.currency != co.currency:
            raise ValidationError(f"The unit cost is in {value.currency}; purchases are kept "
                                  f"in {co.currency}.", field="unit_cost")
        amount = value.amount
    else:
        amount = parse_decimal(value, "unit_cost")
    if amount < 0:
        raise ValidationError("A unit cost cannot be negative.", field="unit_cost")
    try:
        return to_minor(amount, co.currency)
    except ValidationError:
        raise ValidationError(f"The unit cost {amount} has more decimal places than "
                              f"{co.currency} allows.", field="unit_cost") from None


def _amount(value: object, co: _Co) -> int:
    """A payment amount in minor units (refuses floats, extra decimals, zero or less)."""
    if isinstance(value, Money):
        if value.currency != co.currency:
            raise ValidationError(f"The amount is in {value.currency}; payments are made in "
                                  f"{co.currency}.", field="amount")
        amount = value.amount
    else:
        amount = parse_decimal(value, "amount")
    if amount <= 0:
        raise ValidationError("A payment amount must be greater than zero.", field="amount")
    try:
        return to_minor(amount, co.currency)
    except ValidationError:
        raise ValidationError(f"The amount {amount} has more decimal places than "
                              f"{co.currency} allows.", field="amount") from None


def _amounts(qty: Decimal, cost_minor: int, bp: int) -> tuple[int, int]:
    net = _round(qty * cost_minor)
    return net, _round(Decimal(net) * bp / 10000)


def _unit_of(s: Session, product: Product) -> tuple[str, int]:
    u = s.get(UnitOfMeasure, product.unit_id)
    assert u is not None
    return u.code, u.decimal_places


def _qty(value: object, places: int, unit: str) -> Decimal:
    qty = parse_quantity(value, "quantity")
    if qty <= 0:
        raise ValidationError("Quantity must be greater than zero.", field="quantity")
    return check_places(qty, places, unit)


def _account_by_key(s: Session, key: str) -> uuid.UUID:
    acc = s.scalar(select(Account.id).where(Account.system_key == key,
                                            Account.deleted_at.is_(None)))
    if acc is None:
        raise ValidationError(f"The chart of accounts has no '{key}' account.")
    return acc


def _post(s: Session, ctx: Context, on: date, number: str, co: _Co,
          amounts: Sequence[tuple[uuid.UUID, int, uuid.UUID | None]], memo: str,
          source_type: str, source_id: uuid.UUID) -> uuid.UUID | None:
    """Post (account, signed amount (+ debit), vendor party or None) lines as one entry."""
    merged: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {}
    for acc, amount, party in amounts:
        merged[(acc, party)] = merged.get((acc, party), 0) + amount
    lines = []
    for (acc, party), amount in merged.items():
        if amount == 0:
            continue
        m = _money(abs(amount), co)
        kw: dict[str, Any] = {"party_type": "vendor", "party_id": party} if party else {}
        lines.append(LineInput(acc, debit=m, **kw) if amount > 0
                     else LineInput(acc, credit=m, **kw))
    if not lines:
        return None
    entry = post_in_session(s, ctx, on, lines, memo, number=number, source_type=source_type,
                            source_id=source_id, audit_action=None)
    return entry.id


# --------------------------------------------------------------------------- vendors


def _vendor_row(v: Vendor) -> VendorRow:
    return VendorRow(v.id, v.name, v.contact_person, v.email, v.phone, v.address, v.city,
                     v.state, v.state_code, v.country, v.tax_id, v.payment_terms_days,
                     v.bank_name, v.bank_account, v.bank_code, v.notes, v.active, v.version)


def _text(value: str | None, label: str, field: str, max_len: int,
          required: bool = False) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise ValidationError(f"Enter the {label}.", field=field)
        return None
    if len(text) > max_len:
        raise ValidationError(f"The {label} is at most {max_len} characters.", field=field)
    return text


def _clean_vendor(v: VendorInput) -> dict[str, Any]:
    email = _text(v.email, "email address", "email", 200)
    if email and ("@" not in email or "." not in email.rsplit("@", 1)[-1] or " " in email):
        raise ValidationError(f"'{email}' is not an email address.", field="email")
    terms = v.payment_terms_days
    if not isinstance(terms, int) or isinstance(terms, bool) or not 0 <= terms <= 365:
        raise ValidationError("Payment terms are 0 to 365 days.", field="payment_terms_days")
    country = (v.country or "").strip().upper() or None
    if country and (len(country) != 2 or not country.isalpha()):
        raise ValidationError("Country is a two-letter code such as IN, DE or US.",
                              field="country")
    name = _text(v.name, "vendor's name", "name", 200, required=True)
    assert name is not None
    address = (v.address or "").strip() or None
    return {
        "name": name, "name_key": name.casefold(),
        "contact_person": _text(v.contact_person, "contact person", "contact_person", 200),
        "email": email, "phone": _text(v.phone, "phone number", "phone", 40),
        "address": address, "city": _text(v.city, "city", "city", 100),
        "state": _text(v.state, "state", "state", 100),
        "state_code": _text(v.state_code, "state code", "state_code", 8), "country": country,
        "tax_id": _text(v.tax_id, "tax id", "tax_id", 40), "payment_terms_days": terms,
        "bank_name": _text(v.bank_name, "bank name", "bank_name", 120),
        "bank_account": _text(v.bank_account, "bank account", "bank_account", 40),
        "bank_code": _text(v.bank_code, "bank code", "bank_code", 20),
        "notes": (v.notes or "").strip() or None, "active": bool(v.active),
    }


def _vendor(s: Session, ref: uuid.UUID | str) -> Vendor:
    v = None
    if isinstance(ref, uuid.UUID):
        v = s.get(Vendor, ref)
    else:
        text = " ".join(str(ref).split())
        v = s.scalars(select(Vendor).where(Vendor.name_key == text.casefold(),
                                           Vendor.deleted_at.is_(None))).first()
        if v is None:
            try:
                v = s.get(Vendor, uuid.UUID(text))
            except ValueError:
                v = None
    if v is None or v.deleted_at is not None:
        raise NotFound(f"There is no vendor '{ref}'.", field="vendor")
    return v


def create_vendor(ctx: Context, vendor: VendorInput) -> VendorRow:
    ctx.require("purchases.manage")
    values = _clean_vendor(vendor)
    with ctx.db.write(ctx.actor.user_id) as s:
        if s.scalar(select(Vendor.id).where(Vendor.name_key == values["name_key"],
                                            Vendor.deleted_at.is_(None))):
            raise ValidationError(f"There is already a vendor named {values['name']}.",
                                  field="name")
        v = Vendor(**values)
        s.add(v)
        s.flush()
        audit.record(s, ctx, "purchases.vendor_created", entity="vendor", entity_id=v.id)
        return _vendor_row(v)


def update_vendor(ctx: Context, vendor_id: uuid.UUID, *, version: int,
                  **changes: Any) -> VendorRow:
    ctx.require("purchases.manage")
    allowed = set(VendorInput.__dataclass_fields__)
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Unknown vendor fields: {', '.join(sorted(unknown))}.")
    with ctx.db.write(ctx.actor.user_id) as s:
        v = _vendor(s, vendor_id)
        if v.version != version:
            raise Conflict(f"Vendor {v.name} was changed by someone else since you opened it. "
                           "Open it again to see the change, then retry.")
        current = VendorInput(**{f: getattr(v, f) for f in allowed})
        values = _clean_vendor(replace(current, **changes))
        if values["name_key"] != v.name_key and s.scalar(
                select(Vendor.id).where(Vendor.name_key == values["name_key"],
                                        Vendor.id != v.id, Vendor.deleted_at.is_(None))):
            raise ValidationError(f"There is already a vendor named {values['name']}.",
                                  field="name")
        for k, val in values.items():
            setattr(v, k, val)
        s.flush()
        audit.record(s, ctx, "purchases.vendor_updated", entity="vendor", entity_id=v.id,
                     details={"fields": sorted(changes)})
        return _vendor_row(v)


def get_vendor(ctx: Context, ref: uuid.UUID | str) -> VendorRow:
    ctx.require("purchases.view")
    with ctx.db.read() as s:
        return _vendor_row(_vendor(s, ref))


def list_vendors(ctx: Context, search: str | None = None, after: VendorCursor | None = None,
                 limit: int = 100, *, include_inactive: bool = False) -> VendorPage:
    """Vendors in name order, a page at a time; `search` matches the start of the name."""
    ctx.require("purchases.view")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    with ctx.db.read() as s:
        stmt = select(Vendor).where(Vendor.deleted_at.is_(None))
        text = " ".join((search or "").split()).casefold()
        if text:
            stmt = stmt.where(Vendor.name_key >= text, Vendor.name_key < text + "\U0010ffff")
        if not include_inactive:
            stmt = stmt.where(Vendor.active.is_(True))
        if after is not None:
            stmt = stmt.where(or_(Vendor.name_key > after.name_key,
                                  and_(Vendor.name_key == after.name_key,
                                       Vendor.id > after.vendor_id)))
        found = s.scalars(stmt.order_by(Vendor.name_key, Vendor.id).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        cursor = VendorCursor(found[-1].name_key, found[-1].id) if more and found else None
        return VendorPage([_vendor_row(v) for v in found], cursor)


# --------------------------------------------------------------------------- purchase orders


def _order(s: Session, order_id: uuid.UUID) -> PurchaseOrder:
    po = s.get(PurchaseOrder, order_id) if isinstance(order_id, uuid.UUID) else None
    if po is None or po.deleted_at is not None:
        raise NotFound("That purchase order does not exist.")
    return po


def _transition(s: Session, ctx: Context, po: PurchaseOrder, to: str,
                note: str | None = None) -> None:
    """Move an order to `to` if the state machine allows it, recording who and when."""
    if to == po.status:
        return
    if to not in PO_TRANSITIONS[po.status]:
        raise ValidationError(f"Purchase order {po.number} is {PO_LABELS[po.status]}; it "
                              f"cannot become {PO_LABELS[to]}.", field="status")
    s.add(PurchaseOrderEvent(order_id=po.id, from_status=po.status, to_status=to, note=note,
                             created_at=ctx.now()))
    po.status = to


def _order_lines(s: Session, po: PurchaseOrder) -> list[PurchaseOrderLine]:
    return list(s.scalars(select(PurchaseOrderLine).where(
        PurchaseOrderLine.order_id == po.id, PurchaseOrderLine.deleted_at.is_(None))
        .order_by(PurchaseOrderLine.line_no)))


def _order_view(s: Session, po: PurchaseOrder) -> PurchaseOrderView:
    co = _company(s)
    vendor = s.get(Vendor, po.vendor_id)
    assert vendor is not None
    wh = s.get(Warehouse, po.warehouse_id) if po.warehouse_id else None
    lines = []
    for ln in _order_lines(s, po):
        p = s.get(Product, ln.product_id)
        assert p is not None
        unit, _ = _unit_of(s, p)
        net, tax = _amounts(ln.quantity, ln.unit_cost_minor, ln.tax_rate_bp)
        lines.append(OrderLineRow(
            ln.id, ln.line_no, p.id, p.sku, p.name, unit, ln.description, ln.quantity,
            _money(ln.unit_cost_minor, co), _bp_rate(ln.tax_rate_bp), _money(net, co),
            _money(tax, co), ln.received_qty, ln.billed_qty,
            max(ln.quantity - ln.received_qty, Decimal("0.000"))))
    events = [OrderEventRow(e.from_status, e.to_status, e.created_at, login, e.note)
              for e, login in s.execute(
                  select(PurchaseOrderEvent, User.login_name)
                  .outerjoin(User, User.id == PurchaseOrderEvent.created_by)
                  .where(PurchaseOrderEvent.order_id == po.id)
                  .order_by(PurchaseOrderEvent.created_at, PurchaseOrderEvent.id))]
    return PurchaseOrderView(po.id, po.number, vendor.id, vendor.name, po.order_date,
                             po.expected_date, po.status, wh.code if wh else None,
                             _money(po.subtotal_minor, co), _money(po.tax_minor, co),
                             _money(po.total_minor, co), po.notes, lines, events, po.version)


def _write_order_lines(s: Session, po: PurchaseOrder, lines: Sequence[OrderLineInput],
                       co: _Co) -> None:
    if not lines:
        raise ValidationError("Add at least one product to the order.", field="lines")
    for old in _order_lines(s, po):
        old.deleted_at = utcnow()
    subtotal = tax_total = 0
    for no, line in enumerate(lines, start=1):
        p = find_product_in_session(s, line.product)
        if p.is_service:
            raise ValidationError(f"{p.name} is a service; order it on a bill instead.",
                                  field="lines")
        unit, places = _unit_of(s, p)
        qty = _qty(line.quantity, places, unit)
        cost = _cost(line.unit_cost, co, p.purchase_price_minor)
        bp = _rate_bp(line.tax_rate)
        net, tax = _amounts(qty, cost, bp)
        subtotal += net
        tax_total += tax
        s.add(PurchaseOrderLine(order_id=po.id, line_no=no, product_id=p.id,
                                description=(line.description or "").strip() or None,
                                quantity=qty, unit_cost_minor=cost, tax_rate_bp=bp,
                                currency=co.currency, received_qty=Decimal(0),
                                billed_qty=Decimal(0)))
    po.subtotal_minor, po.tax_minor, po.total_minor = subtotal, tax_total, subtotal + tax_total


def create_purchase_order(ctx: Context, vendor: uuid.UUID | str,
                          lines: Sequence[OrderLineInput], *, order_date: date | None = None,
                          expected_date: date | None = None,
                          warehouse: uuid.UUID | str | None = None,
                          notes: str | None = None) -> PurchaseOrderView:
    """A draft purchase order, numbered PO/…, editable until it is placed."""
    ctx.require("purchases.manage")
    on = _date(ctx, order_date, "order_date", "The order date")
    if expected_date is not None and expected_date < on:
        raise ValidationError("The expected date is before the order date.",
                              field="expected_date")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        v = _vendor(s, vendor)
        if not v.active:
            raise ValidationError(f"Vendor {v.name} is inactive.", field="vendor")
        wh = find_warehouse_in_session(s, warehouse) if warehouse is not None else None
        po = PurchaseOrder(number=_number(s, ctx, co, "order", on), vendor_id=v.id,
                           order_date=on, expected_date=expected_date, status="draft",
                           warehouse_id=wh.id if wh else None, currency=co.currency,
                           notes=(notes or "").strip() or None)
        s.add(po)
        s.flush()
        s.add(PurchaseOrderEvent(order_id=po.id, from_status=None, to_status="draft",
                                 created_at=ctx.now()))
        _write_order_lines(s, po, lines, co)
        s.flush()
        return _order_view(s, po)


def update_purchase_order(ctx: Context, order_id: uuid.UUID, *, version: int,
                          lines: Sequence[OrderLineInput] | None = None,
                          expected_date: date | None = None,
                          warehouse: uuid.UUID | str | None = None,
                          notes: str | None = None) -> PurchaseOrderView:
    """Change a draft order (lines, expected date, warehouse, notes)."""
    ctx.require("purchases.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        po = _order(s, order_id)
        if po.status != "draft":
            raise ValidationError(f"Purchase order {po.number} is {PO_LABELS[po.status]}; only "
                                  "a draft can be changed.", field="status")
        if po.version != version:
            raise Conflict(f"Purchase order {po.number} was changed by someone else since you "
                           "opened it. Open it again to see the change, then retry.")
        if lines is not None:
            _write_order_lines(s, po, lines, co)
        if expected_date is not None:
            if expected_date < po.order_date:
                raise ValidationError("The expected date is before the order date.",
                                      field="expected_date")
            po.expected_date = expected_date
        if warehouse is not None:
            po.warehouse_id = find_warehouse_in_session(s, warehouse).id
        if notes is not None:
            po.notes = notes.strip() or None
        s.flush()
        return _order_view(s, po)


def place_order(ctx: Context, order_id: uuid.UUID, note: str | None = None
                ) -> PurchaseOrderView:
    """Send a draft order to the vendor: draft -> ordered."""
    ctx.require("purchases.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        po = _order(s, order_id)
        _transition(s, ctx, po, "ordered", note)
        s.flush()
        audit.record(s, ctx, "purchases.order_placed", entity="purchase_order",
                     entity_id=po.id, details={"number": po.number, "total_minor":
                                               po.total_minor})
        return _order_view(s, po)


def cancel_purchase_order(ctx: Context, order_id: uuid.UUID, reason: str | None = None
                          ) -> PurchaseOrderView:
    """Cancel an order nothing has been received on (a draft or an ordered one)."""
    ctx.require("purchases.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        po = _order(s, order_id)
        _transition(s, ctx, po, "cancelled", (reason or "").strip() or None)
        s.flush()
        audit.record(s, ctx, "purchases.order_cancelled", entity="purchase_order",
                     entity_id=po.id, details={"number": po.number})
        return _order_view(s, po)


def receive_purchase_order(ctx: Context, order_id: uuid.UUID, *,
                           warehouse: uuid.UUID | str | None = None,
                           quantities: Mapping[uuid.UUID | str, Decimal | str | int] | None
                           = None, receipt_date: date | None = None,
                           vendor_ref: str | None = None,
                           note: str | None = None) -> GoodsReceiptView:
    """Receive goods on an order into a warehouse: everything still to come, or the given
    quantities per order line (by line id or product SKU). Stock comes in at the
    order's unit cost; the order becomes partly or fully received."""
    ctx.require("purchases.manage")
    on = _date(ctx, receipt_date, "receipt_date", "The receipt date")
    if on > ctx.today():
        raise ValidationError("Goods cannot be received on a future date.",
                              field="receipt_date")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        po = _order(s, order_id)
        if po.status not in ("ordered", "partially_received"):
            hint = " Place the order first." if po.status == "draft" else ""
            raise ValidationError(f"Purchase order {po.number} is {PO_LABELS[po.status]}; "
                                  f"goods cannot be received on it.{hint}", field="status")
        if warehouse is None and po.warehouse_id is None:
            raise ValidationError("Choose the warehouse the goods go into.", field="warehouse")
        wh = find_warehouse_in_session(s, warehouse if warehouse is not None
                                       else po.warehouse_id or "")
        lines = _order_lines(s, po)
        wanted = _receive_plan(s, lines, quantities)
        if not wanted:
            raise ValidationError("Enter a quantity to receive for at least one line.",
                                  field="quantities")
        books = stock_books(s)
        receipt = GoodsReceipt(number=_number(s, ctx, co, "receipt", on), order_id=po.id,
                               vendor_id=po.vendor_id, warehouse_id=wh.id, receipt_date=on,
                               vendor_ref=_text(vendor_ref, "delivery note number",
                                                "vendor_ref", 60),
                               note=(note or "").strip() or None)
        s.add(receipt)
        s.flush()
        moves = []
        for ln, qty in wanted:
            p = s.get(Product, ln.product_id)
            assert p is not None
            unit, places = _unit_of(s, p)
            check_places(qty, places, unit)
            left = ln.quantity - ln.received_qty
            if qty > left:
                raise ValidationError(
                    f"Only {fmt_qty(left, places)} {unit} of {p.name} remain to be received on "
                    f"{po.number}; {fmt_qty(qty, places)} {unit} were entered.",
                    field="quantities")
            m = move_in_session(s, ctx, kind="receipt", product=p, warehouse=wh, quantity=qty,
                                move_date=on, unit_cost_minor=ln.unit_cost_minor,
                                source_type="goods_receipt", source_id=receipt.id,
                                reference=receipt.number, source_line_id=ln.id, books=books)
            ln.received_qty = ln.received_qty + qty
            moves.append((m, p.sku))
        done = all(ln.received_qty >= ln.quantity for ln in lines)
        _transition(s, ctx, po, "received" if done else "partially_received",
                    f"Goods receipt {receipt.number}")
        s.flush()
        audit.record(s, ctx, "purchases.goods_received", entity="goods_receipt",
                     entity_id=receipt.id, details={"number": receipt.number,
                                                    "order": po.number, "warehouse": wh.code,
                                                    "lines": len(moves)})
        results = [move_result(m, sku) for m, sku in moves]
        return GoodsReceiptView(receipt.id, receipt.number, po.id, po.number, po.status,
                                wh.code, on, results,
                                _money(sum(m.value_minor for m, _ in moves), co))


def _receive_plan(s: Session, lines: list[PurchaseOrderLine],
                  quantities: Mapping[uuid.UUID | str, Any] | None
                  ) -> list[tuple[PurchaseOrderLine, Decimal]]:
    if quantities is None:
        return [(ln, ln.quantity - ln.received_qty) for ln in lines
                if ln.quantity > ln.received_qty]
    by_id = {ln.id: ln for ln in lines}
    plan: list[tuple[PurchaseOrderLine, Decimal]] = []
    for ref, value in quantities.items():
        ln = by_id.get(ref) if isinstance(ref, uuid.UUID) else None
        if ln is None:
            p = find_product_in_session(s, ref)
            ln = next((x for x in lines if x.product_id == p.id
                       and x.quantity > x.received_qty), None) or next(
                (x for x in lines if x.product_id == p.id), None)
            if ln is None:
                raise ValidationError(f"{p.name} is not on this order.", field="quantities")
        qty = parse_quantity(value, "quantities")
        if qty < 0:
            raise ValidationError("A received quantity cannot be negative.",
                                  field="quantities")
        if qty > 0:
            plan.append((ln, qty))
    return plan


def get_purchase_order(ctx: Context, order_id: uuid.UUID) -> PurchaseOrderView:
    ctx.require("purchases.view")
    with ctx.db.read() as s:
        return _order_view(s, _order(s, order_id))


def list_purchase_orders(ctx: Context, *, status: str | None = None,
                         vendor: uuid.UUID | str | None = None,
                         after: OrderCursor | None = None, limit: int = 100) -> OrderPage:
    """Orders, newest first, a page at a time."""
    ctx.require("purchases.view")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    if status is not None and status not in PO_TRANSITIONS:
        raise ValidationError(f"Unknown order status '{status}'.", field="status")
    with ctx.db.read() as s:
        co = _company(s)
        P = PurchaseOrder
        stmt = select(P, Vendor.name).join(Vendor, Vendor.id == P.vendor_id).where(
            P.deleted_at.is_(None))
        if status is not None:
            stmt = stmt.where(P.status == status)
        if vendor is not None:
            stmt = stmt.where(P.vendor_id == _vendor(s, vendor).id)
        if after is not None:
            stmt = stmt.where(or_(P.order_date < after.order_date,
                                  and_(P.order_date == after.order_date, P.id < after.order_id)))
        found = s.execute(stmt.order_by(P.order_date.desc(), P.id.desc()).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        rows = [OrderSummary(po.id, po.number, name, po.order_date, po.status,
                             _money(po.total_minor, co)) for po, name in found]
        cursor = OrderCursor(found[-1][0].order_date, found[-1][0].id) if more and found \
            else None
        return OrderPage(rows, cursor)


# --------------------------------------------------------------------------- bills


def _bill(s: Session, bill_id: uuid.UUID) -> VendorBill:
    bill = s.get(VendorBill, bill_id) if isinstance(bill_id, uuid.UUID) else None
    if bill is None or bill.deleted_at is not None:
        raise NotFound("That bill does not exist.")
    return bill


def _balance_minor(b: VendorBill) -> int:
    return b.total_minor - b.paid_minor - b.debited_minor


def _payment_status(b: VendorBill) -> str:
    if b.status != "posted":
        return b.status
    if _balance_minor(b) <= 0:
        return "paid"
    if b.paid_minor > 0:
        return "partially_paid"
    return "open"


def _bill_lines(s: Session, bill: VendorBill) -> list[VendorBillLine]:
    return list(s.scalars(select(VendorBillLine).where(
        VendorBillLine.bill_id == bill.id, VendorBillLine.deleted_at.is_(None))
        .order_by(VendorBillLine.line_no)))


def _bill_view(s: Session, bill: VendorBill) -> BillView:
    co = _company(s)
    vendor = s.get(Vendor, bill.vendor_id)
    assert vendor is not None
    order_no = s.scalar(select(PurchaseOrder.number).where(
        PurchaseOrder.id == bill.order_id)) if bill.order_id else None
    wh = s.get(Warehouse, bill.warehouse_id) if bill.warehouse_id else None
    rows = []
    for ln in _bill_lines(s, bill):
        sku = s.scalar(select(Product.sku).where(Product.id == ln.product_id)) \
            if ln.product_id else None
        code = s.scalar(select(Account.code).where(Account.id == ln.account_id)) \
            if ln.account_id else None
        rows.append(BillLineRow(ln.id, ln.line_no, ln.product_id, sku, code, ln.description,
                                ln.quantity, _money(ln.unit_cost_minor, co),
                                _bp_rate(ln.tax_rate_bp), _money(ln.net_minor, co),
                                _money(ln.tax_minor, co), ln.returned_qty, ln.order_line_id))
    return BillView(bill.id, bill.number, vendor.id, vendor.name, bill.vendor_ref, order_no,
                    wh.code if wh else None, bill.bill_date, bill.due_date, bill.status,
                    _payment_status(bill), _money(bill.subtotal_minor, co),
                    _money(bill.tax_minor, co), _money(bill.total_minor, co),
                    _money(bill.paid_minor, co), _money(bill.debited_minor, co),
                    _money(_balance_minor(bill), co), bill.notes, rows, bill.journal_entry_id,
                    bill.version)


def _write_bill_lines(s: Session, bill: VendorBill, lines: Sequence[BillLineInput],
                      co: _Co) -> None:
    if not lines:
        raise ValidationError("Add at least one line to the bill.", field="lines")
    for old in _bill_lines(s, bill):
        old.deleted_at = utcnow()
    order_lines: dict[uuid.UUID, PurchaseOrderLine] = {}
    if bill.order_id is not None:
        po = s.get(PurchaseOrder, bill.order_id)
        assert po is not None
        order_lines = {ln.id: ln for ln in _order_lines(s, po)}
    subtotal = tax_total = 0
    for no, line in enumerate(lines, start=1):
        product = find_product_in_session(s, line.product) if line.product else None
        account_id = None
        if line.order_line_id is not None:
            ol = order_lines.get(line.order_line_id)
            if ol is None:
                raise ValidationError(f"Line {no} points at an order line that is not on this "
                                      "bill's order.", field="lines")
            if product is not None and product.id != ol.product_id:
                raise ValidationError(f"Line {no}: the product differs from the order line's.",
                                      field="lines")
            product = s.get(Product, ol.product_id)
        if product is None:
            code = (line.account or "").strip()
            acc = s.scalars(select(Account).where(Account.code == code)).first() if code \
                else s.get(Account, _account_by_key(s, "purchases_expense"))
            if acc is None or acc.deleted_at is not None:
                raise ValidationError(f"Line {no}: there is no account {code}.", field="lines")
            if acc.is_group or acc.type not in ("expense", "asset"):
                raise ValidationError(f"Line {no}: {acc.code} {acc.name} cannot take a "
                                      "purchase; choose an expense or asset account.",
                                      field="lines")
            account_id = acc.id
            places, unit = 3, "units"
        else:
            unit, places = _unit_of(s, product)
            if line.account:
                raise ValidationError(f"Line {no}: a product line posts to the product's "
                                      "account; leave the account empty.", field="lines")
        qty = _qty(line.quantity, places, unit)
        default_cost = (order_lines[line.order_line_id].unit_cost_minor
                        if line.order_line_id is not None
                        else product.purchase_price_minor if product is not None else None)
        cost = _cost(line.unit_cost, co, default_cost)
        bp = _rate_bp(line.tax_rate)
        net, tax = _amounts(qty, cost, bp)
        if product is None and not (line.description or "").strip():
            raise ValidationError(f"Line {no}: describe the expense.", field="lines")
        subtotal += net
        tax_total += tax
        s.add(VendorBillLine(bill_id=bill.id, line_no=no,
                             product_id=product.id if product else None,
                             order_line_id=line.order_line_id, account_id=account_id,
                             description=(line.description or "").strip() or None,
                             quantity=qty, unit_cost_minor=cost, tax_rate_bp=bp, net_minor=net,
                             tax_minor=tax, currency=co.currency, returned_qty=Decimal(0)))
    bill.subtotal_minor, bill.tax_minor = subtotal, tax_total
    bill.total_minor = subtotal + tax_total


def create_bill(ctx: Context, vendor: uuid.UUID | str, lines: Sequence[BillLineInput], *,
                bill_date: date | None = None, due_date: date | None = None,
                vendor_ref: str | None = None, warehouse: uuid.UUID | str | None = None,
                notes: str | None = None) -> BillView:
    """A draft bill on its own (no order). Stock product lines are received into
    `warehouse` when the bill is posted; other lines go to an expense account."""
    ctx.require("purchases.bills.post")
    on = _date(ctx, bill_date, "bill_date", "The bill date")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        v = _vendor(s, vendor)
        wh = find_warehouse_in_session(s, warehouse) if warehouse is not None else None
        due = due_date or on + timedelta(days=v.payment_terms_days)
        if due < on:
            raise ValidationError("The due date is before the bill date.", field="due_date")
        bill = VendorBill(vendor_id=v.id, vendor_ref=_text(vendor_ref, "vendor's bill number",
                                                           "vendor_ref", 60),
                          warehouse_id=wh.id if wh else None, bill_date=on, due_date=due,
                          status="draft", currency=co.currency, paid_minor=0, debited_minor=0,
                          notes=(notes or "").strip() or None)
        s.add(bill)
        s.flush()
        _write_bill_lines(s, bill, lines, co)
        s.flush()
        return _bill_view(s, bill)


def create_bill_from_order(ctx: Context, order_id: uuid.UUID, *, bill_date: date | None = None,
                           vendor_ref: str | None = None, due_date: date | None = None
                           ) -> BillView:
    """A draft bill for the goods received on an order and not billed yet, at the
    order's costs and tax rates."""
    ctx.require("purchases.bills.post")
    on = _date(ctx, bill_date, "bill_date", "The bill date")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        po = _order(s, order_id)
        if po.status in ("draft", "cancelled"):
            raise ValidationError(f"Purchase order {po.number} is {PO_LABELS[po.status]}; "
                                  "there is nothing to bill.", field="status")
        lines = [BillLineInput(order_line_id=ln.id, quantity=ln.received_qty - ln.billed_qty,
                               unit_cost=_money(ln.unit_cost_minor, co),
                               tax_rate=_bp_rate(ln.tax_rate_bp), description=ln.description)
                 for ln in _order_lines(s, po) if ln.received_qty > ln.billed_qty]
        if not lines:
            raise ValidationError(f"Everything received on {po.number} has been billed; "
                                  "receive more goods first.", field="order")
        v = s.get(Vendor, po.vendor_id)
        assert v is not None
        due = due_date or on + timedelta(days=v.payment_terms_days)
        bill = VendorBill(vendor_id=v.id, order_id=po.id, warehouse_id=po.warehouse_id,
                          vendor_ref=_text(vendor_ref, "vendor's bill number", "vendor_ref",
                                           60), bill_date=on, due_date=due, status="draft",
                          currency=co.currency, paid_minor=0, debited_minor=0)
        s.add(bill)
        s.flush()
        _write_bill_lines(s, bill, lines, co)
        s.flush()
        return _bill_view(s, bill)


def _refuse_posted(bill: VendorBill) -> None:
    if bill.status == "posted":
        raise ValidationError(f"Bill {bill.number} is posted and cannot be changed. Correct it "
                              "with a debit note.", field="status")
    if bill.status != "draft":
        raise ValidationError(f"This bill is {bill.status} and cannot be changed.",
                              field="status")


def update_bill(ctx: Context, bill_id: uuid.UUID, *, version: int,
                lines: Sequence[BillLineInput] | None = None, bill_date: date | None = None,
                due_date: date | None = None, vendor_ref: str | None = None,
                warehouse: uuid.UUID | str | None = None, notes: str | None = None) -> BillView:
    """Change a draft bill. A posted bill is refused: it is corrected by a debit note."""
    ctx.require("purchases.bills.post")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        bill = _bill(s, bill_id)
        _refuse_posted(bill)
        if bill.version != version:
            raise Conflict("This bill was changed by someone else since you opened it. Open it "
                           "again to see the change, then retry.")
        if lines is not None:
            _write_bill_lines(s, bill, lines, co)
        if bill_date is not None:
            bill.bill_date = _date(ctx, bill_date, "bill_date", "The bill date")
        if due_date is not None:
            bill.due_date = due_date
        if bill.due_date < bill.bill_date:
            raise ValidationError("The due date is before the bill date.", field="due_date")
        if vendor_ref is not None:
            bill.vendor_ref = _text(vendor_ref, "vendor's bill number", "vendor_ref", 60)
        if warehouse is not None:
            bill.warehouse_id = find_warehouse_in_session(s, warehouse).id
        if notes is not None:
            bill.notes = notes.strip() or None
        s.flush()
        return _bill_view(s, bill)


def cancel_bill(ctx: Context, bill_id: uuid.UUID) -> BillView:
    """Drop a draft bill (it stays on file as cancelled; a posted bill needs a debit note)."""
    ctx.require("purchases.bills.post")
    with ctx.db.write(ctx.actor.user_id) as s:
        bill = _bill(s, bill_id)
        _refuse_posted(bill)
        bill.status = "cancelled"
        s.flush()
        return _bill_view(s, bill)


def post_bill(ctx: Context, bill_id: uuid.UUID) -> BillView:
    """Post a draft bill: its number, stock received for stand-alone stock lines, and
    one balanced entry (payables; inventory or expense; input tax)."""
    ctx.require("purchases.bills.post")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        bill = _bill(s, bill_id)
        _refuse_posted(bill)
        lines = _bill_lines(s, bill)
        if not lines:
            raise ValidationError("The bill has no lines.", field="lines")
        if bill.bill_date > ctx.today():
            raise ValidationError("A bill cannot be posted with a date in the future.",
                                  field="bill_date")
        v = s.get(Vendor, bill.vendor_id)
        assert v is not None
        number = _number(s, ctx, co, "bill", bill.bill_date)
        books = stock_books(s)
        inventory = _account_by_key(s, "inventory")
        expense = _account_by_key(s, "purchases_expense")
        adjustment = _account_by_key(s, "stock_adjustment")
        amounts: list[tuple[uuid.UUID, int, uuid.UUID | None]] = []
        wh = s.get(Warehouse, bill.warehouse_id) if bill.warehouse_id else None
        for ln in lines:
            p = s.get(Product, ln.product_id) if ln.product_id else None
            if p is None:
                amounts.append((ln.account_id or expense, ln.net_minor, None))
                continue
            if p.is_service:
                amounts.append((expense, ln.net_minor, None))
                continue
            unit, places = _unit_of(s, p)
            if ln.order_line_id is not None:
                ol = s.get(PurchaseOrderLine, ln.order_line_id)
                assert ol is not None
                left = ol.received_qty - ol.billed_qty
                if ln.quantity > left:
                    raise ValidationError(
                        f"Only {fmt_qty(left, places)} {unit} of {p.name} have been received "
                        f"and not billed yet; the bill has {fmt_qty(ln.quantity, places)} "
                        f"{unit}. Receive the goods first.", field="lines")
                ol.billed_qty = ol.billed_qty + ln.quantity
                # The goods came in at the order's cost; a billed price that differs
                # goes to stock adjustments, so inventory in the books stays equal
                # to the stock ledger's value.
                received_value = _round(ln.quantity * ol.unit_cost_minor)
                amounts.append((inventory, received_value, None))
                amounts.append((adjustment, ln.net_minor - received_value, None))
                continue
            else:
                if wh is None:
                    raise ValidationError("Choose the warehouse that received the goods on this "
                                          "bill.", field="warehouse")
                move_in_session(s, ctx, kind="receipt", product=p, warehouse=wh,
                                quantity=ln.quantity, move_date=bill.bill_date,
                                value_minor=ln.net_minor, source_type="vendor_bill",
                                source_id=bill.id, reference=number, source_line_id=ln.id,
                                books=books)
            amounts.append((inventory, ln.net_minor, None))
        amounts.append((_account_by_key(s, "tax_receivable"), bill.tax_minor, None))
        amounts.append((_account_by_key(s, "payables"), -bill.total_minor, v.id))
        bill.journal_entry_id = _post(s, ctx, bill.bill_date, number, co, amounts,
                                      f"Bill {bill.vendor_ref or ''} from {v.name}".replace(
                                          "  ", " ")[:200], "vendor_bill", bill.id)
        bill.number = number
        bill.status = "posted"
        bill.posted_at = ctx.now()
        bill.posted_by = ctx.actor.user_id
        s.flush()
        audit.record(s, ctx, "purchases.bill_posted", entity="vendor_bill", entity_id=bill.id,
                     details={"number": number, "total_minor": bill.total_minor,
                              "lines": len(lines)})
        return _bill_view(s, bill)


def get_bill(ctx: Context, bill_id: uuid.UUID) -> BillView:
    ctx.require("purchases.view")
    with ctx.db.read() as s:
        return _bill_view(s, _bill(s, bill_id))


def list_bills(ctx: Context, *, vendor: uuid.UUID | str | None = None,
               unpaid_only: bool = False, after: BillCursor | None = None,
               limit: int = 100) -> BillPage:
    """Bills, newest first, a page at a time (optionally one vendor's, or only unpaid)."""
    ctx.require("purchases.view")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    with ctx.db.read() as s:
        co = _company(s)
        B = VendorBill
        stmt = select(B, Vendor.name).join(Vendor, Vendor.id == B.vendor_id).where(
            B.deleted_at.is_(None))
        if vendor is not None:
            stmt = stmt.where(B.vendor_id == _vendor(s, vendor).id)
        if unpaid_only:
            stmt = stmt.where(B.status == "posted",
                              B.total_minor - B.paid_minor - B.debited_minor > 0)
        if after is not None:
            stmt = stmt.where(or_(B.bill_date < after.bill_date,
                                  and_(B.bill_date == after.bill_date, B.id < after.bill_id)))
        found = s.execute(stmt.order_by(B.bill_date.desc(), B.id.desc()).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        rows = [BillSummary(b.id, b.number, name, b.vendor_ref, b.bill_date, b.due_date,
                            b.status, _payment_status(b), _money(b.total_minor, co),
                            _money(_balance_minor(b), co)) for b, name in found]
        cursor = BillCursor(found[-1][0].bill_date, found[-1][0].id) if more and found else None
        return BillPage(rows, cursor)


# --------------------------------------------------------------------------- debit notes


def create_debit_note(ctx: Context, bill_id: uuid.UUID, lines: Sequence[DebitNoteLineInput],
                      reason: str, *, note_date: date | None = None) -> DebitNoteView:
    """Correct a posted bill: take back (part of) its lines.

    Stock lines return goods to the vendor: stock leaves the warehouse at its
    average cost and any difference from the billed cost goes to stock
    adjustments. Expense lines reduce the expense. The payable and the input
    tax are reversed in proportion; the bill's balance falls by the note's total.
    """
    ctx.require("purchases.bills.post")
    on = _date(ctx, note_date, "note_date", "The debit note date")
    why = " ".join((reason or "").split())
    if not why:
        raise ValidationError("Give the reason for the debit note (goods returned, price "
                              "corrected ...).", field="reason")
    if not lines:
        raise ValidationError("Choose at least one bill line to take back.", field="lines")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        bill = _bill(s, bill_id)
        if bill.status != "posted":
            raise ValidationError("Only a posted bill is corrected by a debit note; change the "
                                  "draft instead.", field="status")
        if on < bill.bill_date:
            raise ValidationError("A debit note cannot be dated before its bill.",
                                  field="note_date")
        v = s.get(Vendor, bill.vendor_id)
        assert v is not None
        bill_lines = {ln.id: ln for ln in _bill_lines(s, bill)}
        number = _number(s, ctx, co, "debit_note", on)
        note = DebitNote(id=new_id(), number=number, bill_id=bill.id, vendor_id=v.id, note_date=on,
                         reason=why, currency=co.currency, subtotal_minor=0, tax_minor=0,
                         total_minor=0)
        books = stock_books(s)
        inventory = _account_by_key(s, "inventory")
        expense = _account_by_key(s, "purchases_expense")
        adjustment = _account_by_key(s, "stock_adjustment")
        amounts: list[tuple[uuid.UUID, int, uuid.UUID | None]] = []
        rows: list[DebitNoteLine] = []
        moves = []
        subtotal = tax_total = 0
        for dl in lines:
            ln = bill_lines.get(dl.bill_line_id)
            if ln is None:
                raise ValidationError("A debit note line points at a line that is not on this "
                                      "bill.", field="lines")
            p = s.get(Product, ln.product_id) if ln.product_id else None
            unit, places = _unit_of(s, p) if p is not None else ("units", 3)
            qty = _qty(dl.quantity, places, unit)
            left = ln.quantity - ln.returned_qty
            if qty > left:
                what = p.name if p is not None else (ln.description or "this line")
                raise ValidationError(f"Only {fmt_qty(left, places)} {unit} of {what} are left "
                                      f"on bill {bill.number} to take back.", field="lines")
            if qty == left:  # the last of the line: exactly what is left, no rounding drift
                done_net, done_tax = _returned(s, ln.id)
                net, tax = ln.net_minor - done_net, ln.tax_minor - done_tax
            else:
                net = _round(Decimal(ln.net_minor) * qty / ln.quantity)
                tax = _round(Decimal(ln.tax_minor) * qty / ln.quantity)
            ln.returned_qty = ln.returned_qty + qty
            wh_id = None
            if p is not None and not p.is_service:
                wh = _return_warehouse(s, bill, ln, dl.warehouse)
                wh_id = wh.id
                m = move_in_session(s, ctx, kind="vendor_return", product=p, warehouse=wh,
                                    quantity=-qty, move_date=on, source_type="debit_note",
                                    source_id=note.id, reference=number,
                                    source_line_id=ln.id, reason=why, books=books)
                moves.append((m, p.sku))
                amounts.append((inventory, m.value_minor, None))  # stock value out (negative)
                amounts.append((adjustment, -m.value_minor - net, None))
            else:
                amounts.append((ln.account_id or expense, -net, None))
            subtotal += net
            tax_total += tax
            rows.append(DebitNoteLine(bill_line_id=ln.id, product_id=ln.product_id,
                                      warehouse_id=wh_id, quantity=qty,
                                      unit_cost_minor=ln.unit_cost_minor, net_minor=net,
                                      tax_minor=tax, currency=co.currency))
        note.subtotal_minor, note.tax_minor = subtotal, tax_total
        note.total_minor = subtotal + tax_total
        amounts.append((_account_by_key(s, "tax_receivable"), -tax_total, None))
        amounts.append((_account_by_key(s, "payables"), note.total_minor, v.id))
        entry_id = _post(s, ctx, on, number, co, amounts, f"Debit note on {bill.number}: {why}"
                         [:200], "debit_note", note.id)
        note.journal_entry_id = entry_id
        s.add(note)
        s.flush()
        for r in rows:
            r.debit_note_id = note.id
            s.add(r)
        bill.debited_minor = bill.debited_minor + note.total_minor
        s.flush()
        audit.record(s, ctx, "purchases.debit_note_posted", entity="debit_note",
                     entity_id=note.id, details={"number": number, "bill": bill.number,
                                                 "total_minor": note.total_minor})
        return DebitNoteView(note.id, number, bill.id, bill.number or "", on, why,
                             _money(subtotal, co), _money(tax_total, co),
                             _money(note.total_minor, co),
                             [move_result(m, sku) for m, sku in moves], entry_id)


def _returned(s: Session, bill_line_id: uuid.UUID) -> tuple[int, int]:
    net, tax = s.execute(select(func.coalesce(func.sum(DebitNoteLine.net_minor), 0),
                                func.coalesce(func.sum(DebitNoteLine.tax_minor), 0))
                         .where(DebitNoteLine.bill_line_id == bill_line_id)).one()
    return int(net), int(tax)


def _return_warehouse(s: Session, bill: VendorBill, line: VendorBillLine,
                      ref: uuid.UUID | str | None) -> Warehouse:
    if ref is not None:
        return find_warehouse_in_session(s, ref)
    if bill.warehouse_id is not None:
        wh = s.get(Warehouse, bill.warehouse_id)
        assert wh is not None
        return wh
    if line.order_line_id is not None:  # the warehouse the order's goods went into
        wid = s.scalar(select(GoodsReceipt.warehouse_id)
                       .where(GoodsReceipt.order_id == bill.order_id)
                       .order_by(GoodsReceipt.created_at.desc()).limit(1))
        if wid is not None:
            wh = s.get(Warehouse, wid)
            assert wh is not None
            return wh
    raise ValidationError("Choose the warehouse the goods are returned from.",
                          field="warehouse")


# --------------------------------------------------------------------------- payments


def pay_bills(ctx: Context, vendor: uuid.UUID | str,
              allocations: Mapping[uuid.UUID, Decimal | str | int | Money], *,
              method: str = "bank", payment_date: date | None = None,
              reference: str | None = None) -> PaymentView:
    """Pay a vendor: one payment settling one or several of their posted bills, each
    fully or in part (never more than is due)."""
    ctx.require("purchases.payments")
    on = _date(ctx, payment_date, "payment_date", "The payment date")
    if method not in PAYMENT_METHODS:
        raise ValidationError("Pay from the bank or the cash box (method 'bank' or 'cash').",
                              field="method")
    if not allocations:
        raise ValidationError("Choose at least one bill to pay.", field="allocations")
    with ctx.db.write(ctx.actor.user_id) as s:
        co = _company(s)
        v = _vendor(s, vendor)
        plan: list[tuple[VendorBill, int]] = []
        for bill_id, value in allocations.items():
            bill = _bill(s, bill_id)
            if bill.vendor_id != v.id:
                raise ValidationError(f"Bill {bill.number or '(draft)'} is not from {v.name}.",
                                      field="allocations")
            if bill.status != "posted":
                raise ValidationError("Only posted bills can be paid; post the bill first.",
                                      field="allocations")
            amount = _amount(value, co)
            if amount <= 0:
                raise ValidationError("A payment amount must be greater than zero.",
                                      field="allocations")
            due = _balance_minor(bill)
            if due <= 0:
                raise ValidationError(f"Bill {bill.number} is already paid.",
                                      field="allocations")
            if amount > due:
                raise ValidationError(f"Bill {bill.number} has only {_shown(due, co)} left to "
                                      f"pay; {_shown(amount, co)} is more than that.",
                                      field="allocations")
            plan.append((bill, amount))
        total = sum(a for _, a in plan)
        number = _number(s, ctx, co, "payment", on)
        pay = VendorPayment(id=new_id(), number=number, vendor_id=v.id, payment_date=on,
                            method=method, amount_minor=total, currency=co.currency,
                            reference=_text(reference, "reference", "reference", 60))
        entry_id = _post(s, ctx, on, number, co,
                         [(_account_by_key(s, "payables"), total, v.id),
                          (_account_by_key(s, PAYMENT_METHODS[method]), -total, None)],
                         f"Payment to {v.name}"[:200], "vendor_payment", pay.id)
        pay.journal_entry_id = entry_id
        s.add(pay)
        s.flush()
        for bill, amount in plan:
            s.add(VendorPaymentAllocation(payment_id=pay.id, bill_id=bill.id,
                                          amount_minor=amount, currency=co.currency))
            bill.paid_minor = bill.paid_minor + amount
        s.flush()
        audit.record(s, ctx, "purchases.payment_posted", entity="vendor_payment",
                     entity_id=pay.id, details={"number": number, "amount_minor": total,
                                                "bills": len(plan), "method": method})
        return PaymentView(pay.id, number, v.id, v.name, on, method, _money(total, co),
                           pay.reference, [(b.number or "", _money(a, co)) for b, a in plan],
                           entry_id)


def pay_bill(ctx: Context, bill_id: uuid.UUID,
             amount: Decimal | str | int | Money | None = None, *, method: str = "bank",
             payment_date: date | None = None, reference: str | None = None) -> PaymentView:
    """Pay one bill, in full (no amount) or in part."""
    ctx.require("purchases.payments")
    with ctx.db.read() as s:
        co = _company(s)
        bill = _bill(s, bill_id)
        vendor_id = bill.vendor_id
        due = _balance_minor(bill)
    value = amount if amount is not None else _money(max(due, 0), co)
    return pay_bills(ctx, vendor_id, {bill_id: value}, method=method,
                     payment_date=payment_date, reference=reference)


def vendor_balance(ctx: Context, vendor: uuid.UUID | str) -> Money:
    """What is owed to a vendor: the unpaid part of their posted bills."""
    ctx.require("purchases.view")
    with ctx.db.read() as s:
        co = _company(s)
        v = _vendor(s, vendor)
        B = VendorBill
        due = s.scalar(select(func.coalesce(func.sum(B.total_minor - B.paid_minor
                                                     - B.debited_minor), 0))
                       .where(B.vendor_id == v.id, B.status == "posted"))
        return _money(int(due or 0), co)
