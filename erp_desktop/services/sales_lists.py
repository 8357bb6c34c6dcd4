"""The Sales area's long lists and the small reads its dialogs need.

Paged list queries (`services.listing.ListQuery`, over `list_queries.SqlListQuery`):

- `INVOICES`: quotes, drafts and issued invoices (never voided ones), newest
  first; sort by date, number or total; filters `date_from`/`date_to`,
  `status` (one of `INVOICE_STATUS_FILTERS`), `customer_id`; the search text
  matches the number, the billed name and the customer's name or code.
- `CUSTOMERS`: customers by name or code, with what each owes and holds as
  credit (read for the page's rows only); `include_inactive` filter.
- `PAYMENTS`: receipts, newest first; `method`, `customer_id`, date range.
- `CREDIT_NOTES`: credit notes, newest first; `customer_id`, date range.

The customer search is an `IN (SELECT id FROM customer WHERE ...)`, not a
join, so an unfiltered list walks its date index alone (the join is made for
the page's rows only). Each list asks for `sales.view`, like the services it
lists for.

The invoice list leaves out voided invoices with `status != 'void'` alone:
a deleted quote or draft is always voided too (`sales.delete_draft`), and
`deleted_at` is in no index of the invoice table, so asking for it made
every skipped row a read of the table. Measured on 100k invoices (1M
lines): the page in the middle of the list 100 ms → 12 ms, the count (as
`status IN (<every other status>)`, which SQLite answers from
`ix_invoice_open`) 80 ms → 28 ms.

A search reads the table for `bill_to_name`, which no index holds. Walking
the date index and reading each row's name costs a random read per invoice
until a page is full: ~200 ms for one customer's 56 invoices among 100k,
against ~60 ms for one pass over the table that collects the matching rows,
which are then taken in date order. A word found in most invoices is the
other way round (the walk stops after a page; the pass reads everything), so
`fetch` makes the pass while the number of matches is unknown (the first
page) or at most `SCAN_SEARCH_MAX`, and walks the index beyond that.

`open_invoices` and `suggest_allocation` feed the Receive payment dialog: the
invoices a customer still owes on, oldest due first (the order
`sales.record_payment` settles them in when given no allocations), and how an
amount spreads over them.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.models.sales import CreditNote, Customer, CustomerCredit, Invoice, Payment
from erp_desktop.services import customers as customer_service
from erp_desktop.services.context import Context
from erp_desktop.services.list_queries import SqlListQuery
from erp_desktop.services.listing import Column, ColumnKind, Filters, Sort
from erp_desktop.services.sales import ISSUED_STATUSES, METHOD_LABELS, OPEN_STATUSES

STATUS_LABELS = {"quote": "Quote", "draft": "Draft", "issued": "Unpaid",
                 "partially_paid": "Partly paid", "paid": "Paid", "void": "Void"}
OVERDUE_LABEL = "Overdue"

# (filter key, label): the choices of the invoice list's status filter.
INVOICE_STATUS_FILTERS: tuple[tuple[str, str], ...] = (
    ("", "All invoices"),
    ("open", "Unpaid or partly paid"),
    ("overdue", "Overdue"),
    ("issued", "Unpaid"),
    ("partially_paid", "Partly paid"),
    ("paid", "Paid"),
    ("issued_any", "Issued (any)"),
    ("draft", "Drafts"),
    ("quote", "Quotes"),
)
# Every status but void (the table's CHECK constraint lists them).
_LIVE_STATUSES = ("quote", "draft", "issued", "partially_paid", "paid")
_STATUS_SETS: dict[str, tuple[str, ...]] = {
    "open": OPEN_STATUSES, "overdue": OPEN_STATUSES, "issued_any": ISSUED_STATUSES,
    "issued": ("issued",), "partially_paid": ("partially_paid",), "paid": ("paid",),
    "draft": ("draft",), "quote": ("quote",)}


def _date_range(column: ColumnElement[Any], filters: Filters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    start, end = filters.get("date_from"), filters.get("date_to")
    for value, label in ((start, "start date"), (end, "end date")):
        if value is not None and not isinstance(value, date):
            raise ValidationError(f"The {label} must be a date.", field="date_from")
    if start is not None and end is not None and start > end:
        raise ValidationError("The start date is after the end date.", field="date_from")
    if start is not None:
        out.append(column >= start)
    if end is not None:
        out.append(column <= end)
    return out


def _customer_id(filters: Filters) -> uuid.UUID | None:
    value = filters.get("customer_id")
    if value is None or isinstance(value, uuid.UUID):
        return value
    raise ValidationError("Choose the customer from the list.", field="customer")


def _customers_matching(word: str) -> Select[Any]:
    """Ids of the customers whose name or code contains `word` (for an IN filter)."""
    return select(Customer.id).where(or_(
        Customer.name_key.contains(customer_service.name_key(word), autoescape=True),
        Customer.code.contains(word.upper(), autoescape=True)))


def _m(minor: int, currency: str) -> Money:
    return Money.from_minor(int(minor), currency)


# ------------------------------------------------------------------ invoices


@dataclass(frozen=True)
class InvoiceRow:
    id: uuid.UUID
    number: str  # "Draft" / "Quote" until issued
    status: str
    status_label: str
    invoice_date: date
    due_date: date | None
    customer_id: uuid.UUID
    customer_code: str
    customer_name: str  # as billed
    total: Money
    balance: Money  # left to pay (a draft's or quote's total)
    issued: bool
    overdue: bool = False


class Invoices(SqlListQuery):
    """Invoices, quotes and drafts (see the module docstring)."""

    name = "sales_invoices"
    permission = "sales.view"
    table = Invoice.__table__
    columns = (
        Column("number", "Number", sortable=True, width_chars=22),
        Column("invoice_date", "Date", ColumnKind.DATE, sortable=True, width_chars=12),
        Column("customer_name", "Customer", stretch=True),
        Column("status_label", "Status", width_chars=11),
        Column("due_date", "Due", ColumnKind.DATE, width_chars=12),
        Column("total", "Total", ColumnKind.MONEY, sortable=True, width_chars=15),
        Column("balance", "Balance due", ColumnKind.MONEY, width_chars=15),
    )
    default_sort = Sort("invoice_date", descending=True)

    def selected(self) -> Select[Any]:
        i = Invoice
        return select(i.id, i.number, i.status, i.invoice_date, i.due_date, i.customer_id,
                      i.bill_to_name, i.currency, i.total_minor, i.paid_minor,
                      i.credited_minor, Customer.code.label("customer_code")).select_from(
            Invoice.__table__.join(Customer.__table__, Customer.id == Invoice.customer_id))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        # date: ix_invoice_date_id (invoice_date, id); number: its unique index (+ rowid).
        # total has no index yet: SQLite sorts the matching rows (see the lead's note).
        return {"invoice_date": (Invoice.invoice_date, Invoice.id),
                "number": (Invoice.number, self.key),
                "total": (Invoice.total_minor, self.key)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        # Not deleted_at IS NULL: see the module docstring (deleted implies void).
        out: list[ColumnElement[bool]] = [Invoice.status != "void"]
        if filters.words and filters.get(_SCAN):
            # The matching rows found in one pass over the table, then taken in
            # index order (see the module docstring).
            words = Invoice.__table__.alias("invoice_words")
            out.append(self.key.in_(
                select(literal_column("invoice_words.rowid")).select_from(words)
                .where(*(_invoice_word(words.c, w) for w in filters.words))))
        else:
            out += [_invoice_word(Invoice.__table__.c, w) for w in filters.words]
        out += _date_range(Invoice.invoice_date, filters)
        status = filters.get("status") or ""
        if status:
            if status not in _STATUS_SETS:
                raise ValidationError(f"'{status}' is not an invoice status.", field="status")
            statuses = _STATUS_SETS[status]
            out.append(Invoice.status.in_(statuses) if len(statuses) > 1
                       else Invoice.status == statuses[0])
            if status == "overdue":
                today = filters.get("today")
                if not isinstance(today, date):
                    raise ValidationError("The overdue filter needs today's date.",
                                          field="status")
                out.append(Invoice.due_date < today)
        customer_id = _customer_id(filters)
        if customer_id is not None:
            out.append(Invoice.customer_id == customer_id)
        return out

    def count(self, ctx: Context, filters: Filters) -> int:
        filters = _with_today(ctx, filters)
        if filters.words:  # the search reads the table anyway: one pass over it
            return super().count(ctx, filters)
        ctx.require(self.permission)
        with ctx.db.read() as s:
            # The same rows as `status != 'void'`, asked so that SQLite counts them
            # from the status index instead of reading every row.
            conditions = [Invoice.status.in_(_LIVE_STATUSES), *self.conditions(s, filters)[1:]]
            return int(s.scalar(select(func.count()).select_from(self.from_clause())
                                .where(*conditions)) or 0)

    def fetch(self, ctx: Context, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Any]:
        filters = _with_today(ctx, filters)
        if filters.words and (total is None or total <= SCAN_SEARCH_MAX):
            filters = filters.with_extra(**{_SCAN: True})
        rows = super().fetch(ctx, filters, sort, start, limit, total)
        today = ctx.today()
        return [replace(r, status_label=OVERDUE_LABEL, overdue=True)
                if r.status in OPEN_STATUSES and r.due_date is not None and r.due_date < today
                else r for r in rows]

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        out = []
        for r in rows:
            issued = r.status in ISSUED_STATUSES
            balance = r.total_minor - r.paid_minor - r.credited_minor if issued \
                else r.total_minor
            number = r.number or STATUS_LABELS.get(r.status, r.status)
            out.append(InvoiceRow(r.id, number, r.status, STATUS_LABELS.get(r.status, r.status),
                                  r.invoice_date, r.due_date, r.customer_id, r.customer_code,
                                  r.bill_to_name, _m(r.total_minor, r.currency),
                                  _m(balance, r.currency), issued))
        return out


# A search that matches at most this many invoices (or whose count is not known
# yet: a list's first page) is read by one pass over the table; a broader one
# walks the date index, where matches are close together.
SCAN_SEARCH_MAX = 5000
_SCAN = "_scan_words"  # the filters' marker for it, set by `Invoices.fetch` only


def _invoice_word(c: Any, word: str) -> ColumnElement[bool]:
    """One search word: in the number, the billed name or the customer's name or code
    (`c`: the columns of the invoice table or of an alias of it)."""
    return or_(c.number.contains(word.upper(), autoescape=True),
               c.bill_to_name.contains(word, autoescape=True),
               c.customer_id.in_(_customers_matching(word)))


def invoice_search(text: str) -> list[ColumnElement[bool]]:
    """The conditions the invoice list's search box puts on the `invoice` table: each
    word of `text` in the number, the billed name or the customer's name or code (for
    a batch print "of the list as filtered")."""
    return [_invoice_word(Invoice.__table__.c, w) for w in Filters.of(text).words]


def _with_today(ctx: Context, filters: Filters) -> Filters:
    """The overdue filter compares with the context's today (the clock the tests move)."""
    if filters.get("status") == "overdue" and filters.get("today") is None:
        return filters.with_extra(today=ctx.today())
    return filters


# ----------------------------------------------------------------- customers


@dataclass(frozen=True)
class CustomerListRow:
    id: uuid.UUID
    code: str
    name: str
    city: str
    phone: str
    gstin: str
    status: str
    active: bool
    is_walk_in: bool
    balance: Money  # owed on open invoices
    credit: Money  # kept as credit for the customer
    version: int


class Customers(SqlListQuery):
    """Customers in name order; search name, code, phone, GSTIN or city."""

    name = "sales_customers"
    permission = "sales.view"
    table = Customer.__table__
    columns = (
        Column("code", "Code", sortable=True, width_chars=9),
        Column("name", "Name", sortable=True, stretch=True),
        Column("city", "City", width_chars=14),
        Column("phone", "Phone", width_chars=17),
        Column("gstin", "GSTIN / VAT", width_chars=17),
        Column("balance", "Balance due", ColumnKind.MONEY, width_chars=15),
        Column("credit", "Credit", ColumnKind.MONEY, width_chars=13),
    )
    default_sort = Sort("name")

    def selected(self) -> Select[Any]:
        c = Customer
        return select(c.id, c.code, c.name, c.city, c.phone, c.gstin, c.vat_id, c.active,
                      c.is_walk_in, c.currency, c.version)

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"name": (Customer.name_key, Customer.id), "code": (Customer.code,)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [Customer.deleted_at.is_(None)]
        if not filters.get("include_inactive"):
            out.append(Customer.active.is_(True))
        for word in filters.words:
            out.append(or_(
                Customer.name_key.contains(customer_service.name_key(word), autoescape=True),
                *(c.contains(w, autoescape=True) for c, w in (
                    (Customer.code, word.upper()), (Customer.phone, word),
                    (Customer.gstin, word.upper()), (Customer.vat_id, word.upper()),
                    (Customer.city, word)))))
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        ids = [r.id for r in rows]
        owed: dict[uuid.UUID, int] = {}
        credit: dict[uuid.UUID, int] = {}
        if ids:
            owed = {cid: int(v) for cid, v in session.execute(
                select(Invoice.customer_id,
                       func.sum(Invoice.total_minor - Invoice.paid_minor
                                - Invoice.credited_minor))
                .where(Invoice.customer_id.in_(ids), Invoice.status.in_(OPEN_STATUSES))
                .group_by(Invoice.customer_id)).all()}
            credit = {cid: int(v) for cid, v in session.execute(
                select(CustomerCredit.customer_id, func.sum(CustomerCredit.amount_minor))
                .where(CustomerCredit.customer_id.in_(ids))
                .group_by(CustomerCredit.customer_id)).all()}
        return [CustomerListRow(
            r.id, r.code, r.name, r.city or "", r.phone or "", r.gstin or r.vat_id or "",
            "Active" if r.active else "Inactive", bool(r.active), bool(r.is_walk_in),
            _m(owed.get(r.id, 0), r.currency), _m(credit.get(r.id, 0), r.currency), r.version)
            for r in rows]


# ------------------------------------------------------------------ payments


@dataclass(frozen=True)
class PaymentRow:
    id: uuid.UUID
    number: str
    payment_date: date
    customer_id: uuid.UUID
    customer_name: str
    method: str
    method_label: str
    reference: str
    amount: Money
    allocated: Money
    kept_as_credit: Money


class Payments(SqlListQuery):
    """Payments received (receipts), newest first; search number, reference, customer."""

    name = "sales_payments"
    permission = "sales.view"
    table = Payment.__table__
    columns = (
        Column("number", "Receipt", sortable=True, width_chars=22),
        Column("payment_date", "Date", ColumnKind.DATE, sortable=True, width_chars=12),
        Column("customer_name", "Customer", stretch=True),
        Column("method_label", "Method", width_chars=13),
        Column("reference", "Reference", width_chars=16),
        Column("amount", "Amount", ColumnKind.MONEY, width_chars=15),
        Column("kept_as_credit", "Kept as credit", ColumnKind.MONEY, width_chars=14),
    )
    default_sort = Sort("payment_date", descending=True)

    def selected(self) -> Select[Any]:
        p = Payment
        return select(p.id, p.number, p.payment_date, p.customer_id, p.method, p.reference,
                      p.currency, p.amount_minor, p.allocated_minor, p.credit_minor,
                      Customer.name.label("customer_name")).select_from(
            Payment.__table__.join(Customer.__table__, Customer.id == Payment.customer_id))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"payment_date": (Payment.payment_date, self.key),
                "number": (Payment.number,)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for word in filters.words:
            out.append(or_(Payment.number.contains(word.upper(), autoescape=True),
                           Payment.reference.contains(word, autoescape=True),
                           Payment.customer_id.in_(_customers_matching(word))))
        out += _date_range(Payment.payment_date, filters)
        method = filters.get("method")
        if method:
            if method not in METHOD_LABELS:
                raise ValidationError(f"'{method}' is not a payment method.", field="method")
            out.append(Payment.method == method)
        customer_id = _customer_id(filters)
        if customer_id is not None:
            out.append(Payment.customer_id == customer_id)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [PaymentRow(r.id, r.number, r.payment_date, r.customer_id, r.customer_name,
                           r.method, METHOD_LABELS.get(r.method, r.method), r.reference or "",
                           _m(r.amount_minor, r.currency), _m(r.allocated_minor, r.currency),
                           _m(r.credit_minor, r.currency)) for r in rows]


# -------------------------------------------------------------- credit notes


@dataclass(frozen=True)
class CreditNoteRow:
    id: uuid.UUID
    number: str
    note_date: date
    invoice_id: uuid.UUID
    invoice_number: str
    customer_id: uuid.UUID
    customer_name: str
    reason: str
    total: Money
    kept_as_credit: Money


class CreditNotes(SqlListQuery):
    """Credit notes, newest first; search number, invoice number, customer, reason."""

    name = "sales_credit_notes"
    permission = "sales.view"
    table = CreditNote.__table__
    columns = (
        Column("number", "Number", sortable=True, width_chars=22),
        Column("note_date", "Date", ColumnKind.DATE, sortable=True, width_chars=12),
        Column("invoice_number", "Against invoice", width_chars=22),
        Column("customer_name", "Customer", stretch=True),
        Column("reason", "Reason", width_chars=22),
        Column("total", "Total", ColumnKind.MONEY, width_chars=15),
    )
    default_sort = Sort("note_date", descending=True)

    def selected(self) -> Select[Any]:
        cn = CreditNote
        return select(cn.id, cn.number, cn.note_date, cn.invoice_id, cn.customer_id, cn.reason,
                      cn.currency, cn.total_minor, cn.to_credit_minor,
                      Invoice.number.label("invoice_number"),
                      Customer.name.label("customer_name")).select_from(
            CreditNote.__table__
            .join(Invoice.__table__, Invoice.id == CreditNote.invoice_id)
            .join(Customer.__table__, Customer.id == CreditNote.customer_id))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"note_date": (CreditNote.note_date, self.key),
                "number": (CreditNote.number,)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        for word in filters.words:
            out.append(or_(
                CreditNote.number.contains(word.upper(), autoescape=True),
                CreditNote.reason.contains(word, autoescape=True),
                CreditNote.invoice_id.in_(select(Invoice.id).where(
                    Invoice.number.contains(word.upper(), autoescape=True))),
                CreditNote.customer_id.in_(_customers_matching(word))))
        out += _date_range(CreditNote.note_date, filters)
        customer_id = _customer_id(filters)
        if customer_id is not None:
            out.append(CreditNote.customer_id == customer_id)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [CreditNoteRow(r.id, r.number, r.note_date, r.invoice_id, r.invoice_number or "",
                              r.customer_id, r.customer_name, r.reason or "",
                              _m(r.total_minor, r.currency), _m(r.to_credit_minor, r.currency))
                for r in rows]


# ------------------------------------------------------- receiving a payment


@dataclass(frozen=True)
class OpenInvoice:
    id: uuid.UUID
    number: str
    invoice_date: date
    due_date: date | None
    total: Money
    balance: Money


@dataclass(frozen=True)
class OpenAccount:
    """What a customer owes, invoice by invoice, and the credit they hold."""

    customer_id: uuid.UUID
    customer_name: str
    currency: str
    invoices: list[OpenInvoice]
    credit: Money


MAX_OPEN = 500  # invoices shown for allocation; older ones are settled by "oldest first"


def open_account(ctx: Context, customer: uuid.UUID | str) -> OpenAccount:
    """A customer's open invoices, oldest due first (the order payments settle them)."""
    ctx.require("sales.view")
    with ctx.db.read() as s:
        c = customer_service.find_customer(s, customer)
        rows = s.execute(
            select(Invoice.id, Invoice.number, Invoice.invoice_date, Invoice.due_date,
                   Invoice.currency, Invoice.total_minor, Invoice.paid_minor,
                   Invoice.credited_minor)
            .where(Invoice.customer_id == c.id, Invoice.status.in_(OPEN_STATUSES))
            .order_by(Invoice.due_date, Invoice.invoice_date, Invoice.number)
            .limit(MAX_OPEN)).all()
        invoices = [OpenInvoice(r.id, r.number or "", r.invoice_date, r.due_date,
                                _m(r.total_minor, r.currency),
                                _m(r.total_minor - r.paid_minor - r.credited_minor, r.currency))
                    for r in rows]
        credit = customer_service.balance_in_session(s, c.id, c.currency).credit
        return OpenAccount(c.id, c.name, c.currency,
                           [i for i in invoices if i.balance.minor > 0], credit)


def suggest_allocation(balances: Sequence[Decimal], amount: Decimal) -> list[Decimal]:
    """Spread `amount` over invoices in the order given (oldest due first): each gets
    what it still owes until the money runs out; what is left over becomes credit."""
    left = max(amount, Decimal(0))
    out = []
    for balance in balances:
        part = min(left, max(balance, Decimal(0)))
        out.append(part)
        left -= part
    return out


INVOICES = Invoices()
CUSTOMERS = Customers()
PAYMENTS = Payments()
CREDIT_NOTES = CreditNotes()
