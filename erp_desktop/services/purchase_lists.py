"""The paged lists of the Purchases area: vendors, purchase orders, bills, vendor payments.

Each is a `services.list_queries.SqlListQuery` (count, keyset-free paging over
an index, SQL sort, filters and search as you type) asking for
`purchases.view`, like the services in `services.purchasing` they list for.
Figures that belong to a row but live in other tables (what is owed to a
vendor, how much of an order has come in, which bills a payment settled) are
read for the page's rows only, in one grouped query per page.

Filters (`listing.Filters` extras):
- vendors: `include_inactive`;
- orders: `status` (a state of `purchasing.PO_TRANSITIONS`, or "open" for
  ordered and partly received), `vendor_id`, `to_bill` (goods received and not
  billed yet);
- bills: `status` ("draft", "unpaid", "overdue", "paid", "cancelled"),
  `vendor_id`;
- payments: `method` ("bank" or "cash"), `vendor_id`.

A few small reads serve the area's forms: `purchase_currency` (what amounts
typed on an order or bill are in), `product_names` (to name a bill's product
lines) and `expense_accounts` (the accounts a bill's expense line may go to:
postable expense and asset accounts).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Select,
    exists,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import NotFound, ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.models.company import Company
from erp_desktop.models.inventory import Product
from erp_desktop.models.ledger import Account
from erp_desktop.models.purchasing import (
    PurchaseOrder,
    PurchaseOrderLine,
    Vendor,
    VendorBill,
    VendorPayment,
    VendorPaymentAllocation,
)
from erp_desktop.services.context import Context
from erp_desktop.services.list_queries import SqlListQuery, words_match
from erp_desktop.services.listing import Column, ColumnKind, Filters, Sort

ORDER_STATUS_LABELS = {
    "draft": "Draft",
    "ordered": "Ordered",
    "partially_received": "Partially received",
    "received": "Received",
    "cancelled": "Cancelled",
}
BILL_STATUS_LABELS = {
    "draft": "Draft",
    "open": "Unpaid",
    "partially_paid": "Partly paid",
    "paid": "Paid",
    "cancelled": "Cancelled",
}
BILL_FILTERS = ("draft", "unpaid", "overdue", "paid", "cancelled")
METHOD_LABELS = {"bank": "Bank", "cash": "Cash"}


def _uuid(value: Any, field: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError("That vendor does not exist.", field=field) from None


# ----------------------------------------------------------------------- vendors


@dataclass(frozen=True)
class VendorListRow:
    id: uuid.UUID
    name: str
    contact_person: str
    phone: str
    email: str
    city: str
    tax_id: str
    payment_terms: str
    payment_terms_days: int
    owed: Money | None  # the unpaid part of their posted bills (None: nothing owed)
    status: str
    active: bool
    version: int


class Vendors(SqlListQuery):
    """Vendors in name order; search name, contact, phone, e-mail, city or tax id."""

    name = "vendors"
    permission = "purchases.view"
    table = Vendor.__table__
    columns = (
        Column("name", "Vendor", sortable=True, stretch=True),
        Column("contact_person", "Contact", width_chars=14),
        Column("phone", "Phone", width_chars=15),
        Column("email", "E-mail", width_chars=20),
        Column("city", "City", width_chars=10),
        Column("tax_id", "Tax id", width_chars=17),
        Column("payment_terms", "Terms", width_chars=7),
        Column("owed", "Owed", ColumnKind.MONEY, width_chars=12),
    )
    default_sort = Sort("name")

    def selected(self) -> Select[Any]:
        v = Vendor
        return select(v.id, v.name, v.contact_person, v.phone, v.email, v.city, v.tax_id,
                      v.payment_terms_days, v.active, v.version)

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"name": (Vendor.name_key, Vendor.id)}  # ix_vendor_name_key_id

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [Vendor.deleted_at.is_(None)]
        if not filters.get("include_inactive"):
            out.append(Vendor.active.is_(True))
        out += words_match(filters.words, Vendor.name, Vendor.contact_person, Vendor.phone,
                           Vendor.email, Vendor.city, Vendor.tax_id)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        owed: dict[uuid.UUID, tuple[int, str]] = {}
        ids = [r.id for r in rows]
        if ids:
            B = VendorBill
            for vendor_id, due, currency in session.execute(
                    select(B.vendor_id, func.sum(B.total_minor - B.paid_minor - B.debited_minor),
                           func.max(B.currency))
                    .where(B.vendor_id.in_(ids), B.status == "posted",
                           B.deleted_at.is_(None))
                    .group_by(B.vendor_id)):
                owed[vendor_id] = (int(due or 0), currency)
        out = []
        for r in rows:
            due, currency = owed.get(r.id, (0, ""))
            out.append(VendorListRow(
                r.id, r.name, r.contact_person or "", r.phone or "", r.email or "",
                r.city or "", r.tax_id or "", f"{r.payment_terms_days} days",
                r.payment_terms_days, Money.from_minor(due, currency) if due else None,
                "Active" if r.active else "Inactive", bool(r.active), r.version))
        return out


# ------------------------------------------------------------------ purchase orders


@dataclass(frozen=True)
class OrderListRow:
    id: uuid.UUID
    number: str
    vendor_id: uuid.UUID
    vendor_name: str
    order_date: date
    expected_date: date | None
    status: str
    status_label: str
    total: Money
    received_pct: int  # of the order's value (of its quantity when it has no value)
    version: int


def _received_pct(ordered_value: int, received_value: int, ordered_qty: int,
                  received_qty: int) -> int:
    if ordered_value > 0:
        share = Decimal(received_value) / ordered_value
    elif ordered_qty > 0:
        share = Decimal(received_qty) / ordered_qty
    else:
        return 0
    pct = int((share * 100).to_integral_value(rounding="ROUND_FLOOR"))
    return max(0, min(pct, 100))  # 99 % stays 99 until the last piece is in


class PurchaseOrders(SqlListQuery):
    """Purchase orders, newest first; search number or vendor; status, vendor filters."""

    name = "purchase_orders"
    permission = "purchases.view"
    table = PurchaseOrder.__table__
    columns = (
        Column("number", "Number", sortable=True, width_chars=20),
        Column("vendor_name", "Vendor", stretch=True),
        Column("order_date", "Date", ColumnKind.DATE, sortable=True, width_chars=12),
        Column("expected_date", "Expected", ColumnKind.DATE, width_chars=12),
        Column("status_label", "Status", width_chars=16),
        Column("total", "Total", ColumnKind.MONEY, width_chars=14),
        Column("received_pct", "Received %", ColumnKind.NUMBER, width_chars=9),
    )
    default_sort = Sort("order_date", descending=True)

    def from_clause(self) -> FromClause:
        return PurchaseOrder.__table__.join(Vendor.__table__,
                                            Vendor.id == PurchaseOrder.vendor_id)

    def selected(self) -> Select[Any]:
        P = PurchaseOrder
        return select(P.id, P.number, P.vendor_id, Vendor.name.label("vendor_name"),
                      P.order_date, P.expected_date, P.status, P.total_minor, P.currency,
                      P.version).select_from(self.from_clause())

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"order_date": (PurchaseOrder.order_date, self.key),
                "number": (PurchaseOrder.number,)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        P = PurchaseOrder
        out: list[ColumnElement[bool]] = [P.deleted_at.is_(None)]
        out += words_match(filters.words, P.number, Vendor.name)
        status = filters.get("status")
        if status == "open":
            out.append(P.status.in_(("ordered", "partially_received")))
        elif status:
            if status not in ORDER_STATUS_LABELS:
                raise ValidationError(f"Unknown order status '{status}'.", field="status")
            out.append(P.status == status)
        vendor_id = filters.get("vendor_id")
        if vendor_id is not None:
            out.append(P.vendor_id == _uuid(vendor_id, "vendor_id"))
        if filters.get("to_bill"):
            L = PurchaseOrderLine
            out.append(exists().where(L.order_id == P.id, L.deleted_at.is_(None),
                                      L.received_qty > L.billed_qty))
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        L = PurchaseOrderLine
        qty = type_coerce(L.quantity, BigInteger)  # stored as integer thousandths
        got = type_coerce(L.received_qty, BigInteger)
        figures: dict[uuid.UUID, tuple[int, int, int, int]] = {}
        ids = [r.id for r in rows]
        if ids:
            for order_id, ov, rv, oq, rq in session.execute(
                    select(L.order_id, func.sum(qty * L.unit_cost_minor),
                           func.sum(got * L.unit_cost_minor), func.sum(qty), func.sum(got))
                    .where(L.order_id.in_(ids), L.deleted_at.is_(None))
                    .group_by(L.order_id)):
                figures[order_id] = (int(ov or 0), int(rv or 0), int(oq or 0), int(rq or 0))
        return [OrderListRow(r.id, r.number, r.vendor_id, r.vendor_name, r.order_date,
                             r.expected_date, r.status,
                             ORDER_STATUS_LABELS.get(r.status, r.status),
                             Money.from_minor(r.total_minor, r.currency),
                             _received_pct(*figures.get(r.id, (0, 0, 0, 0))), r.version)
                for r in rows]


# ------------------------------------------------------------------------- bills


@dataclass(frozen=True)
class BillListRow:
    id: uuid.UUID
    number: str  # "" for a draft (numbered when posted)
    vendor_id: uuid.UUID
    vendor_name: str
    vendor_ref: str
    bill_date: date
    due_date: date
    total: Money
    paid: Money | None  # None until posted
    balance: Money | None  # None until posted: a draft is owed to nobody
    status: str  # draft | posted | cancelled
    payment_status: str  # draft | open | partially_paid | paid | cancelled
    status_label: str
    overdue: bool
    version: int


class Bills(SqlListQuery):
    """Vendor bills, newest first; search number, vendor's number or vendor; status filter."""

    name = "vendor_bills"
    permission = "purchases.view"
    table = VendorBill.__table__
    columns = (
        Column("number", "Number", sortable=True, width_chars=20),
        Column("vendor_name", "Vendor", stretch=True),
        Column("bill_date", "Bill date", ColumnKind.DATE, sortable=True, width_chars=11),
        Column("due_date", "Due", ColumnKind.DATE, sortable=True, width_chars=11),
        Column("total", "Total", ColumnKind.MONEY, width_chars=12),
        Column("paid", "Paid", ColumnKind.MONEY, width_chars=12),
        Column("balance", "Balance", ColumnKind.MONEY, width_chars=12),
        Column("status_label", "Status", width_chars=10),
    )
    default_sort = Sort("bill_date", descending=True)

    def from_clause(self) -> FromClause:
        return VendorBill.__table__.join(Vendor.__table__, Vendor.id == VendorBill.vendor_id)

    def selected(self) -> Select[Any]:
        B = VendorBill
        return select(B.id, B.number, B.vendor_id, Vendor.name.label("vendor_name"),
                      B.vendor_ref, B.bill_date, B.due_date, B.status, B.total_minor,
                      B.paid_minor, B.debited_minor, B.currency, B.version
                      ).select_from(self.from_clause())

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"bill_date": (VendorBill.bill_date, self.key),
                "due_date": (VendorBill.due_date, self.key),
                "number": (VendorBill.number, self.key)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        B = VendorBill
        out: list[ColumnElement[bool]] = [B.deleted_at.is_(None)]
        out += words_match(filters.words, B.number, B.vendor_ref, Vendor.name)
        balance = B.total_minor - B.paid_minor - B.debited_minor
        status = filters.get("status")
        if status in ("draft", "cancelled"):
            out.append(B.status == status)
        elif status == "unpaid":
            out += [B.status == "posted", balance > 0]
        elif status == "overdue":
            today = filters.get("today")
            if not isinstance(today, date):
                raise ValidationError("Overdue bills need today's date.", field="today")
            out += [B.status == "posted", balance > 0, B.due_date < today]
        elif status == "paid":
            out += [B.status == "posted", balance <= 0]
        elif status:
            raise ValidationError(f"Unknown bill status '{status}'.", field="status")
        vendor_id = filters.get("vendor_id")
        if vendor_id is not None:
            out.append(B.vendor_id == _uuid(vendor_id, "vendor_id"))
        return out

    def count(self, ctx: Context, filters: Filters) -> int:
        return super().count(ctx, _dated(ctx, filters))

    def fetch(self, ctx: Context, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Any]:
        rows = super().fetch(ctx, _dated(ctx, filters), sort, start, limit, total)
        today = ctx.today()
        return [_with_overdue(r, today) for r in rows]

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        out = []
        for r in rows:
            balance = r.total_minor - r.paid_minor - r.debited_minor
            if r.status != "posted":
                pay = r.status
            elif balance <= 0:
                pay = "paid"
            elif r.paid_minor > 0:
                pay = "partially_paid"
            else:
                pay = "open"
            posted = r.status == "posted"
            out.append(BillListRow(
                r.id, r.number or "", r.vendor_id, r.vendor_name, r.vendor_ref or "",
                r.bill_date, r.due_date, Money.from_minor(r.total_minor, r.currency),
                Money.from_minor(r.paid_minor, r.currency) if posted else None,
                Money.from_minor(balance, r.currency) if posted else None,
                r.status, pay, BILL_STATUS_LABELS.get(pay, pay), False, r.version))
        return out


def _dated(ctx: Context, filters: Filters) -> Filters:
    """Overdue means due before the company's today, which the caller need not pass."""
    if filters.get("status") == "overdue" and filters.get("today") is None:
        return filters.with_extra(today=ctx.today())
    return filters


def _with_overdue(row: BillListRow, today: date) -> BillListRow:
    if row.balance is not None and row.balance.amount > 0 and row.due_date < today:
        return replace(row, overdue=True, status_label="Overdue")
    return row


# --------------------------------------------------------------------- payments


@dataclass(frozen=True)
class PaymentListRow:
    id: uuid.UUID
    number: str
    payment_date: date
    vendor_id: uuid.UUID
    vendor_name: str
    method: str
    method_label: str
    reference: str
    bills: str  # the bill numbers it settled, comma separated
    amount: Money


class VendorPayments(SqlListQuery):
    """Payments to vendors, newest first; search number, reference or vendor; method."""

    name = "vendor_payments"
    permission = "purchases.view"
    table = VendorPayment.__table__
    columns = (
        Column("number", "Number", sortable=True, width_chars=20),
        Column("payment_date", "Date", ColumnKind.DATE, sortable=True, width_chars=12),
        Column("vendor_name", "Vendor", stretch=True),
        Column("method_label", "Paid from", width_chars=9),
        Column("reference", "Reference", width_chars=14),
        Column("bills", "Bills", width_chars=24),
        Column("amount", "Amount", ColumnKind.MONEY, width_chars=14),
    )
    default_sort = Sort("payment_date", descending=True)

    def from_clause(self) -> FromClause:
        return VendorPayment.__table__.join(Vendor.__table__,
                                            Vendor.id == VendorPayment.vendor_id)

    def selected(self) -> Select[Any]:
        P = VendorPayment
        return select(P.id, P.number, P.payment_date, P.vendor_id,
                      Vendor.name.label("vendor_name"), P.method, P.reference,
                      P.amount_minor, P.currency).select_from(self.from_clause())

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"payment_date": (VendorPayment.payment_date, self.key),
                "number": (VendorPayment.number,)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        P = VendorPayment
        out = words_match(filters.words, P.number, P.reference, Vendor.name)
        method = filters.get("method")
        if method:
            if method not in METHOD_LABELS:
                raise ValidationError(f"Unknown payment method '{method}'.", field="method")
            out.append(P.method == method)
        vendor_id = filters.get("vendor_id")
        if vendor_id is not None:
            out.append(P.vendor_id == _uuid(vendor_id, "vendor_id"))
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        bills: dict[uuid.UUID, list[str]] = {}
        ids = [r.id for r in rows]
        if ids:
            A, B = VendorPaymentAllocation, VendorBill
            for payment_id, number in session.execute(
                    select(A.payment_id, B.number).join(B, B.id == A.bill_id)
                    .where(A.payment_id.in_(ids)).order_by(A.payment_id, B.number)):
                bills.setdefault(payment_id, []).append(number or "")
        return [PaymentListRow(r.id, r.number, r.payment_date, r.vendor_id, r.vendor_name,
                               r.method, METHOD_LABELS.get(r.method, r.method),
                               r.reference or "", ", ".join(bills.get(r.id, [])),
                               Money.from_minor(r.amount_minor, r.currency)) for r in rows]


# ------------------------------------------------------------ for the forms


@dataclass(frozen=True)
class AccountChoice:
    code: str
    name: str
    type: str


def purchase_currency(ctx: Context) -> str:
    """The currency purchases are kept in (the company's base currency)."""
    ctx.require("purchases.view")
    with ctx.db.read() as s:
        currency = s.scalar(select(Company.base_currency).where(Company.deleted_at.is_(None)))
        if currency is None:
            raise NotFound("This company file has no company profile.")
        return str(currency)


def product_names(ctx: Context, product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Product names for the lines of an order or bill being shown (id -> name)."""
    ctx.require("purchases.view")
    ids = list(dict.fromkeys(product_ids))[:1000]
    if not ids:
        return {}
    with ctx.db.read() as s:
        return {pid: name for pid, name in s.execute(
            select(Product.id, Product.name).where(Product.id.in_(ids)))}


def expense_accounts(ctx: Context) -> list[AccountChoice]:
    """The accounts a bill line without a product may be charged to, in code order."""
    ctx.require("purchases.bills.post")
    with ctx.db.read() as s:
        return [AccountChoice(code, name, kind) for code, name, kind in s.execute(
            select(Account.code, Account.name, Account.type)
            .where(Account.deleted_at.is_(None), Account.is_group.is_(False),
                   Account.active.is_(True), Account.type.in_(("expense", "asset")))
            .order_by(Account.code))]


VENDORS = Vendors()
PURCHASE_ORDERS = PurchaseOrders()
BILLS = Bills()
VENDOR_PAYMENTS = VendorPayments()
