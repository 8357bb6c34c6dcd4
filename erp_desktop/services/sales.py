"""Sales invoicing: quotes, drafts, issuing, payments, credit notes, receivables.

The invoice is a state machine (transitions only here):

    quote --convert--> draft --issue--> issued --pay--> partially_paid --pay--> paid
    quote/draft --delete--> void (tombstone)

A draft is edited freely and its totals recomputed on every change. Issuing
is one transaction: the legal number from this device's series
(`INV/2026-27/A/000042`), the customer block and tax rounding frozen on the
invoice, the stock issues at moving average cost (`inventory.move_in_session`),
the frozen tax breakdown (`DocumentTax`) and ONE balanced journal entry:

    Dr receivables (total)          Cr sales / service income (taxable value)
    Dr or Cr round-off              Cr output tax, one line per component account
    Dr cost of goods sold           Cr inventory

An issued invoice is never edited or deleted; it is corrected by a credit
note (full, or some lines), which reverses stock at the original cost and the
ledger (sales returns, tax per component, receivables or customer credit), in
its own `CN` series. Payments (cash, card, bank transfer, UPI, cheque with its
reference) get a receipt number, settle one or several invoices, and keep any
overpayment as customer credit that can later settle an invoice.

Receivables reports (customer statement, ageing, sales register, tax summary)
are read-only queries over covering indexes, with CSV writers.

Issuing is the hot path (docs/decisions/0030): nothing in it flushes on its
own; the use case flushes once (a counter sale: invoice, lines, moves,
payment in one unit of work), a batch every few invoices; reference rows
(company, accounts, rates, units, warehouse, balances) are read once per
transaction, and the append-only tax rows go out with one executemany.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain import tax as taxmath
from erp_desktop.domain.errors import Conflict, NotFound, PostingError, ValidationError
from erp_desktop.domain.gstin import state_name
from erp_desktop.domain.ids import new_id
from erp_desktop.domain.money import (
    Money,
    Rounding,
    format_money,
    from_minor,
    parse_decimal,
    to_minor,
)
from erp_desktop.domain.quantity import check_places, parse_quantity
from erp_desktop.domain.tax import RoundingLevel, TaxPolicy, compute_document, share_of
from erp_desktop.models.base import utcnow
from erp_desktop.models.changes import (
    PlainRow,
    deferred_records,
    deferring,
    insert_new,
    insert_records,
    plain_class,
    write_plain,
    write_records,
)
from erp_desktop.models.company import Company
from erp_desktop.models.database import reference_cache, remember, use_reference_cache
from erp_desktop.models.inventory import Product, StockBalance, UnitOfMeasure, Warehouse
from erp_desktop.models.ledger import Account, JournalEntry
from erp_desktop.models.sales import (
    PAYMENT_METHODS,
    CreditNote,
    CreditNoteLine,
    Customer,
    CustomerCredit,
    DocumentTax,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentAllocation,
)
from erp_desktop.models.tax import TaxCategory
from erp_desktop.models.taxes import TaxCategoryRate, TaxRate
from erp_desktop.services import audit, customers, taxes
from erp_desktop.services.catalogue import find_product_in_session
from erp_desktop.services.context import Context
from erp_desktop.services.inventory import (
    UNIT_KEY,
    MoveInput,
    balances_in_session,
    find_warehouse_in_session,
    move_in_session,
    move_rows_in_session,
    stock_books,
)
from erp_desktop.services.ledger import (
    LineInput,
    company_facts,
    post_in_session,
    post_rows_in_session,
)
from erp_desktop.services.numbering import next_number
from erp_desktop.services.sales_settings import read_tax_rounding

INVOICE_SERIES = ("invoice", "INV")
CREDIT_NOTE_SERIES = ("credit_note", "CN")
RECEIPT_SERIES = ("receipt", "RCPT")
OPEN_STATUSES = ("issued", "partially_paid")
ISSUED_STATUSES = ("issued", "partially_paid", "paid")
EDITABLE_STATUSES = ("quote", "draft")
MAX_LINES = 1000
MAX_PAGE = 1000
METHOD_LABELS = {"cash": "Cash", "card": "Card", "bank_transfer": "Bank transfer",
                 "upi": "UPI", "cheque": "Cheque"}
AGEING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


# --------------------------------------------------------------------------- input data


@dataclass(frozen=True)
class LineIn:
    """One invoice line as typed: a product (id, SKU or barcode) or free text."""

    product: uuid.UUID | str | None = None
    quantity: Decimal | str | int = Decimal(1)
    unit_price: Decimal | str | int | Money | None = None  # None: price list / product price
    description: str | None = None  # default: the product's name
    discount_percent: Decimal | str | int | None = None
    discount_amount: Decimal | str | int | Money | None = None
    tax_category: str | None = None  # code; default: the product's category
    unit: str | None = None  # free-text lines; products use their own unit
    hsn_sac: str | None = None


@dataclass(frozen=True)
class Allocation:
    invoice: uuid.UUID | str  # id or number
    amount: Decimal | str | int | Money


@dataclass(frozen=True)
class CreditLineIn:
    line_no: int  # the invoice line
    quantity: Decimal | str | int


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ComponentAmount:
    code: str
    name: str
    rate: Decimal
    amount: Money


@dataclass(frozen=True)
class InvoiceLineRow:
    line_no: int
    product_id: uuid.UUID | None
    sku: str | None
    description: str
    hsn_sac: str | None
    quantity: Decimal
    unit: str | None
    unit_price: Money
    discount_percent: Decimal | None
    discount_amount: Money | None
    tax_rate_code: str | None
    tax_rate: Decimal | None
    gross: Money
    discount: Money  # line discount plus this line's share of the invoice discount
    taxable: Money
    tax: Money
    total: Money
    components: list[ComponentAmount]
    credited_quantity: Decimal


@dataclass(frozen=True)
class TaxLine:
    rate_code: str
    rate_name: str
    kind: str
    rate: Decimal
    component_code: str | None
    component_name: str | None
    component_rate: Decimal
    taxable: Money
    tax: Money


@dataclass(frozen=True)
class SettlementRow:
    kind: str  # payment | credit | credit_note
    number: str
    date: date
    method: str | None
    reference: str | None
    amount: Money


@dataclass(frozen=True)
class InvoiceView:
    id: uuid.UUID
    number: str | None
    status: str
    customer_id: uuid.UUID
    customer_code: str
    customer_name: str
    bill_to_name: str
    bill_to_address: str | None
    ship_to_address: str | None
    bill_to_gstin: str | None
    bill_to_vat_id: str | None
    customer_phone: str | None
    customer_email: str | None
    place_of_supply: str | None
    place_of_supply_code: str | None
    inter_state: bool
    invoice_date: date
    due_date: date | None
    currency: str
    prices_include_tax: bool
    warehouse_code: str | None
    lines: list[InvoiceLineRow]
    tax_lines: list[TaxLine]
    gross: Money
    discount: Money
    document_discount: Money
    taxable: Money
    tax: Money
    round_off: Money
    total: Money
    paid: Money
    credited: Money
    balance: Money
    notes: str | None
    terms: str | None
    rounding_level: str
    rounding_mode: str
    journal_entry_number: str | None
    credit_limit_exceeded: bool
    issued_at: datetime | None
    settlements: list[SettlementRow]
    version: int

    @property
    def is_issued(self) -> bool:
        return self.status in ISSUED_STATUSES


@dataclass(frozen=True)
class IssueResult:
    invoice: InvoiceView
    credit_limit_exceeded: bool
    warnings: list[str]


@dataclass(frozen=True)
class AllocationRow:
    invoice_id: uuid.UUID
    invoice_number: str
    amount: Money
    invoice_balance: Money  # left to pay after this payment
    invoice_status: str


@dataclass(frozen=True)
class PaymentView:
    id: uuid.UUID
    number: str
    customer_id: uuid.UUID
    customer_name: str
    payment_date: date
    method: str
    reference: str | None
    amount: Money
    allocated: Money
    kept_as_credit: Money
    allocations: list[AllocationRow]
    notes: str | None
    journal_entry_number: str | None


@dataclass(frozen=True)
class CreditApplied:
    customer_id: uuid.UUID
    invoice_number: str
    amount: Money
    credit_left: Money
    invoice_status: str


@dataclass(frozen=True)
class CreditNoteLineRow:
    line_no: int
    invoice_line_no: int
    description: str
    hsn_sac: str | None
    quantity: Decimal
    unit: str | None
    unit_price: Money
    tax_rate: Decimal | None
    taxable: Money
    tax: Money
    total: Money
    components: list[ComponentAmount]


@dataclass(frozen=True)
class CreditNoteView:
    id: uuid.UUID
    number: str
    invoice_id: uuid.UUID
    invoice_number: str
    invoice_date: date
    customer_id: uuid.UUID
    customer_name: str
    bill_to_name: str
    bill_to_address: str | None
    bill_to_gstin: str | None
    place_of_supply: str | None
    place_of_supply_code: str | None
    note_date: date
    currency: str
    prices_include_tax: bool
    reason: str | None
    restocked: bool
    lines: list[CreditNoteLineRow]
    tax_lines: list[TaxLine]
    taxable: Money
    tax: Money
    round_off: Money
    total: Money
    to_invoice: Money
    to_credit: Money
    journal_entry_number: str | None


@dataclass(frozen=True)
class InvoiceCursor:
    """Where a page of invoices ended (newest first): resume strictly before this one."""

    invoice_date: date
    id: uuid.UUID


@dataclass(frozen=True)
class InvoiceListRow:
    id: uuid.UUID
    number: str | None
    status: str
    invoice_date: date
    due_date: date | None
    customer_code: str
    customer_name: str
    taxable: Money
    tax: Money
    total: Money
    balance: Money


@dataclass(frozen=True)
class InvoicePage:
    rows: list[InvoiceListRow]
    next_cursor: InvoiceCursor | None


@dataclass(frozen=True)
class StatementRow:
    date: date
    kind: str  # invoice | payment | credit_note
    number: str
    description: str
    debit: Money
    credit: Money
    balance: Money


@dataclass(frozen=True)
class Statement:
    customer_id: uuid.UUID
    customer_code: str
    customer_name: str
    date_from: date
    date_to: date
    opening_balance: Money
    rows: list[StatementRow]
    closing_balance: Money  # positive: the customer owes; negative: in credit


@dataclass(frozen=True)
class AgeingRow:
    customer_id: uuid.UUID
    customer_code: str
    customer_name: str
    current: Money
    d1_30: Money
    d31_60: Money
    d61_90: Money
    d90_plus: Money
    total: Money
    invoice_number: str | None = None  # set in the per-invoice detail
    due_date: date | None = None
    days_overdue: int | None = None


@dataclass(frozen=True)
class Ageing:
    as_of: date
    rows: list[AgeingRow]
    totals: AgeingRow


@dataclass(frozen=True)
class RegisterRow:
    doc_type: str  # invoice | credit_note
    number: str
    date: date
    customer_code: str
    customer_name: str
    gstin: str | None
    place_of_supply: str | None
    taxable: Money
    tax: Money
    round_off: Money
    total: Money
    tax_by_component: dict[str, Money]
    status: str


@dataclass(frozen=True)
class SalesRegister:
    date_from: date
    date_to: date
    rows: list[RegisterRow]
    components: list[str]
    taxable: Money
    tax: Money
    total: Money


@dataclass(frozen=True)
class TaxSummaryRow:
    rate_code: str
    rate_name: str
    kind: str
    rate: Decimal
    component_code: str | None
    component_name: str | None
    component_rate: Decimal
    invoiced_taxable: Money
    invoiced_tax: Money
    credited_taxable: Money
    credited_tax: Money
    net_taxable: Money
    net_tax: Money


@dataclass(frozen=True)
class TaxSummary:
    date_from: date
    date_to: date
    rows: list[TaxSummaryRow]
    net_tax: Money
    tax_by_component: dict[str, Money] = field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


@dataclass
class _Books:
    company: Company
    currency: str
    accounts: dict[str, uuid.UUID] = field(default_factory=dict)
    rates: dict[uuid.UUID, taxes.LoadedRate] = field(default_factory=dict)
    # caches for a run of documents in one transaction (a batch, the demo)
    rates_ready: bool = False
    default_rate: uuid.UUID | None = None
    category_rate: dict[uuid.UUID, uuid.UUID | None] = field(default_factory=dict)
    category_hsn: dict[uuid.UUID, str | None] = field(default_factory=dict)
    units: dict[uuid.UUID, tuple[str, int]] = field(default_factory=dict)
    stock: Any = None
    rounding: Any = None
    products: dict[uuid.UUID, Product] = field(default_factory=dict)
    warehouses: dict[uuid.UUID, Warehouse] = field(default_factory=dict)
    default_warehouse: Warehouse | None = None
    customers: dict[uuid.UUID, Customer] = field(default_factory=dict)
    balances: dict[tuple[uuid.UUID, uuid.UUID], StockBalance] = field(default_factory=dict)
    # Rows kept alive here stay in the session's (weak) identity map, so that
    # later `Session.get` calls of the same transaction cost no query.
    keep: list[Any] = field(default_factory=list)
    # A batch holding issued invoices as plain rows (`_PlainInvoice`) writes them here
    # before anything reads the invoice table (the credit limit check).
    before_read: Any = None


def _books(s: Session) -> _Books:
    # read once per transaction, shared with the ledger (across transactions where the
    # transaction uses the reference cache: then a `ledger.CompanyFacts`)
    company = company_facts(s)
    return _Books(company, company.base_currency)  # type: ignore[arg-type]


_MISSING: Any = object()


def _shared(s: Session, key: Any, load: Any) -> Any:
    """`load()` once, then kept across transactions if this one uses the reference cache
    (`models.database.reference_cache`: values must be plain and immutable)."""
    cache = reference_cache(s)
    if cache is None:
        return load()
    value = cache.get(key, _MISSING)
    if value is _MISSING:
        value = remember(s, key, load())
    return value


@dataclass(frozen=True)
class _WarehouseFacts:
    """A warehouse as issuing needs it (id, code, name, active), kept across transactions."""

    id: uuid.UUID
    code: str
    name: str
    active: bool

    @classmethod
    def of(cls, wh: Warehouse | None) -> _WarehouseFacts | None:
        return None if wh is None else cls(wh.id, wh.code, wh.name, wh.active)


# Customers and products as the issuing paths read them: plain rows, read with Core
# (`models.changes.PlainRow`), used read-only exactly as the ORM objects would be.
_PlainCustomer = plain_class(Customer)
_PlainProduct = plain_class(Product)
_PlainPayment = plain_class(Payment)
_PlainAllocation = plain_class(PaymentAllocation)
_PlainCredit = plain_class(CustomerCredit)
_CUSTOMER_BY_ID = Customer.id == bindparam("id")
_WALK_IN = and_(Customer.is_walk_in.is_(True), Customer.deleted_at.is_(None))


def _customer_for_sale(s: Session, customer: uuid.UUID | str | None) -> Any:
    """`customers.walk_in_in_session` / `find_customer` for a counter sale: by id or the
    walk-in customer as a plain row; anything else (a code, a name, a walk-in
    customer still to create) as those functions do it."""
    if customer in (None, ""):
        found = _PlainCustomer.read(s, _WALK_IN)  # the first, as walk_in_in_session takes it
        return found[0] if found else customers.walk_in_in_session(s)
    if isinstance(customer, uuid.UUID):
        found = _PlainCustomer.read(s, _CUSTOMER_BY_ID, {"id": customer})
        if not found or found[0].deleted_at is not None:
            raise NotFound(f"There is no customer {customer}.", field="customer")
        return found[0]
    return customers.find_customer(s, customer)


@dataclass(frozen=True)
class _PriceListFacts:
    id: uuid.UUID
    prices_include_tax: bool

    @classmethod
    def of(cls, pl: Any) -> _PriceListFacts | None:
        return None if pl is None else cls(pl.id, pl.prices_include_tax)


_SYSTEM_KEYS = ("receivables", "sales", "service_income", "tax_payable", "round_off", "cogs",
                "inventory", "cash", "bank", "customer_credit", "sales_returns")


def _load_accounts(s: Session, books: _Books) -> None:
    """The system accounts documents post to, in one query (kept in the identity map)."""
    if books.accounts:
        return

    def load() -> tuple[tuple[str, uuid.UUID], ...]:
        found = []
        for acc in s.scalars(select(Account).where(Account.system_key.in_(_SYSTEM_KEYS),
                                                   Account.deleted_at.is_(None))):
            found.append((acc.system_key, acc.id))
            books.keep.append(acc)
        return tuple(found)

    books.accounts.update(_shared(s, "sales.system_accounts", load))


def _account(s: Session, books: _Books, key: str) -> uuid.UUID:
    _load_accounts(s, books)
    if key not in books.accounts:
        acc = s.scalar(select(Account.id).where(Account.system_key == key,
                                                Account.deleted_at.is_(None)))
        if acc is None:
            raise PostingError(f"The chart of accounts has no '{key}' account.")
        books.accounts[key] = acc
    return books.accounts[key]


def _rate(s: Session, books: _Books, rate_id: uuid.UUID) -> taxes.LoadedRate:
    if rate_id not in books.rates:
        books.rates[rate_id] = _shared(s, ("sales.rate", rate_id),
                                       lambda: taxes.load_rate(s, rate_id))
    return books.rates[rate_id]


def _preload_rates(s: Session, books: _Books, rate_ids: set[Any]) -> None:
    """The rows of several rates not loaded yet, in one query: `taxes.load_rate` then
    finds each in the identity map (kept alive by `books.keep`)."""
    cache = reference_cache(s)
    missing = [r for r in rate_ids if r is not None and r not in books.rates
               and (cache is None or ("sales.rate", r) not in cache)]
    if len(missing) > 1:
        books.keep += s.scalars(select(TaxRate).where(TaxRate.id.in_(missing))).all()


def _m(minor: int, currency: str) -> Money:
    return Money.from_minor(int(minor), currency)


def _minor(amount: Decimal, currency: str) -> int:
    # to_minor refuses a finer amount exactly as Money() would; building the Money
    # first only repeated that check (a dozen times per line when issuing)
    return to_minor(amount if isinstance(amount, Decimal) else parse_decimal(amount), currency)


def _date(value: object, field: str, label: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(f"{label} must be a date.", field=field)
    return value


def _text(value: str | None, limit: int, label: str, field: str) -> str | None:
    text = (value or "").strip() or None
    if text and len(text) > limit:
        raise ValidationError(f"{label} is at most {limit} characters.", field=field)
    return text


def _amount(value: object, currency: str, field: str, label: str) -> Decimal:
    if isinstance(value, Money):
        if value.currency != currency:
            raise ValidationError(f"{label} is in {value.currency}; this invoice is in "
                                  f"{currency}.", field=field)
        return value.amount
    amount = parse_decimal(value, field)
    try:
        Money(amount, currency)
    except ValidationError:
        raise ValidationError(f"{label} {amount} has more decimal places than {currency} "
                              "allows.", field=field) from None
    return amount


def _fmt(minor: int, currency: str, books: _Books | None = None) -> str:
    locale = books.company.locale if books else "en_IN"
    return format_money(_m(minor, currency), locale)


def _find_invoice(s: Session, ref: uuid.UUID | str, *, for_update: bool = False) -> Invoice:
    inv = None
    if isinstance(ref, uuid.UUID):
        inv = s.get(Invoice, ref)
    elif isinstance(ref, str):
        text = ref.strip()
        inv = s.scalars(select(Invoice).where(Invoice.number == text.upper())).one_or_none()
        if inv is None:
            try:
                inv = s.get(Invoice, uuid.UUID(text))
            except ValueError:
                inv = None
    if inv is None or (inv.deleted_at is not None and inv.status != "void"):
        raise NotFound(f"There is no invoice {ref}.", field="invoice")
    return inv


def _label(inv: Invoice) -> str:
    if inv.number:
        return f"Invoice {inv.number}"
    return "This quote" if inv.status == "quote" else "This draft invoice"


def _require_editable(inv: Invoice) -> None:
    if inv.status in ISSUED_STATUSES:
        raise ValidationError(f"Invoice {inv.number} is issued and cannot be changed; issue a "
                              "credit note instead.", field="invoice")
    if inv.status == "void" or inv.deleted_at is not None:
        raise ValidationError(f"{_label(inv)} was deleted and cannot be changed.",
                              field="invoice")


def _live_lines(s: Session, invoice_id: uuid.UUID) -> list[InvoiceLine]:
    return list(s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id,
                                                    InvoiceLine.deleted_at.is_(None))
                          .order_by(InvoiceLine.line_no)))


def _policy(books: _Books, inv: Invoice) -> TaxPolicy:
    return TaxPolicy(currency=inv.currency, prices_include_tax=inv.prices_include_tax,
                     level=RoundingLevel(inv.rounding_level), rounding=Rounding(inv.rounding_mode),
                     round_off=inv.round_off, inter_state=inv.inter_state)


def _set_customer_block(books: _Books, inv: Invoice, c: Customer) -> None:
    """Copy the customer's details and place of supply onto the invoice."""
    company = books.company
    inv.customer_id = c.id
    inv.bill_to_name = c.name
    inv.bill_to_address = "\n".join(x for x in (
        c.billing_address, " ".join(y for y in (c.city, c.postal_code) if y) or None,
        c.state if c.state and c.state not in (c.billing_address or "") else None,
        c.country if c.country != company.country else None) if x) or None
    inv.ship_to_address = c.shipping_address
    inv.bill_to_gstin = c.gstin
    inv.bill_to_vat_id = c.vat_id
    code = c.state_code or (company.state_code if c.is_walk_in else None)
    inv.place_of_supply_code = code
    inv.place_of_supply = c.state or state_name(code) or (company.state if c.is_walk_in
                                                           else None)
    inv.inter_state = company.tax_regime == "gst" and taxmath.is_inter_state(
        company.state_code, code, company_country=company.country,
        customer_country=c.country)


def _default_warehouse(s: Session) -> Warehouse | None:
    q = select(Warehouse).where(Warehouse.deleted_at.is_(None), Warehouse.active.is_(True))
    return s.scalars(q.order_by(Warehouse.created_at, Warehouse.id).limit(1)).first()


def _unit_code(s: Session, books: _Books, unit_id: uuid.UUID) -> tuple[str, int]:
    if unit_id not in books.units:
        cache = reference_cache(s)
        known = cache.get((UNIT_KEY, unit_id)) if cache is not None else None
        if known is None:
            u = s.get(UnitOfMeasure, unit_id)
            books.keep.append(u)  # the stock move looks the same unit up again
            known = remember(s, (UNIT_KEY, unit_id), (u.code, u.decimal_places)) if u \
                else ("", 3)
        books.units[unit_id] = known
    return books.units[unit_id]


def _category_hsn(s: Session, books: _Books, category_id: uuid.UUID | None) -> str | None:
    if category_id is None:
        return None
    if category_id not in books.category_hsn:
        books.category_hsn[category_id] = _shared(
            s, ("sales.category_hsn", category_id), lambda: s.scalar(
                select(TaxCategory.hsn_sac).where(TaxCategory.id == category_id)))
    return books.category_hsn[category_id]


def _category_rate(s: Session, books: _Books, category_id: uuid.UUID) -> uuid.UUID | None:
    if category_id not in books.category_rate:
        books.category_rate[category_id] = _shared(
            s, ("sales.category_rate", category_id),
            lambda: taxes.rate_of_category(s, category_id))
    return books.category_rate[category_id]


def _price_list_of(s: Session, pl_id: uuid.UUID | None) -> Any:
    """`customers.price_list_of`, kept across transactions where the reference cache is used
    (then a `_PriceListFacts`: its id and whether prices include tax)."""
    if reference_cache(s) is None:
        return customers.price_list_of(s, pl_id)
    return _shared(s, ("sales.price_list", pl_id),
                   lambda: _PriceListFacts.of(customers.price_list_of(s, pl_id)))


# Statements the hot paths run on every sale, built once: building the expression costs
# more than running it (docs/decisions/0031).
_PRODUCT_REFS = and_(
    or_(Product.id.in_(bindparam("ids", expanding=True)),
        Product.sku_key.in_(bindparam("keys", expanding=True)),
        Product.barcode.in_(bindparam("codes", expanding=True))),
    Product.deleted_at.is_(None))
_PRODUCTS_BY_REF = select(Product).where(_PRODUCT_REFS)
_PRODUCTS_BY_ID = Product.id.in_(bindparam("ids", expanding=True))


def _prefetch_products(s: Session, lines: Sequence[LineIn]) -> dict[object, Product]:
    """The lines' products in one query (by id, SKU or barcode), keyed by the reference."""
    refs = [li.product for li in lines if isinstance(li, LineIn) and li.product not in (None, "")]
    ids = [r for r in refs if isinstance(r, uuid.UUID)]
    texts = [str(r).strip() for r in refs if not isinstance(r, uuid.UUID)]
    found: dict[object, Product] = {}
    if ids or texts:
        keys = [x.casefold() for x in texts]
        params = {"ids": ids, "keys": keys, "codes": texts}
        # an issuing path reads them as plain rows (no ORM objects to build)
        rows = _PlainProduct.read(s, _PRODUCT_REFS, params) if deferring(s) else \
            s.scalars(_PRODUCTS_BY_REF, params)
        for p in rows:
            found[p.id] = p
            found[p.sku_key] = p
            if p.barcode:
                found[p.barcode] = p
    out: dict[object, Product] = {}
    for r in refs:
        key = r if isinstance(r, uuid.UUID) else str(r).strip()
        p = found.get(key) or (found.get(key.casefold()) if isinstance(key, str) else None)
        if p is not None:
            out[r] = p
    return out


def _write_lines(s: Session, books: _Books, inv: Invoice, lines: Sequence[LineIn],
                 customer: Customer, *, new: bool = False) -> list[InvoiceLine]:
    """Resolve typed lines (product, price, rate) and store them on the draft.

    Runs without autoflush: the draft and its lines reach the database in
    one flush, by the caller, already computed.
    """
    if not lines:
        raise ValidationError("Add at least one line to the invoice.", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationError(f"An invoice has at most {MAX_LINES} lines.", field="lines")
    with s.no_autoflush:
        return _write_lines_now(s, books, inv, lines, customer, new)


def _write_lines_now(s: Session, books: _Books, inv: Invoice, lines: Sequence[LineIn],
                     customer: Customer, new: bool) -> list[InvoiceLine]:
    if not books.rates_ready:
        cache = reference_cache(s)
        if cache is None or not cache.get("sales.rates_ready"):
            taxes.ensure_rates(s)
            remember(s, "sales.rates_ready", True)
        books.rates_ready = True
    price_list = _price_list_of(s, inv.price_list_id or customer.price_list_id)
    inv.price_list_id = price_list.id if price_list else None
    inv.prices_include_tax = bool(price_list and price_list.prices_include_tax)
    existing = [] if new else _live_lines(s, inv.id)
    products = _prefetch_products(s, lines)
    cats = {p.tax_category_id for p in products.values()
            if p.tax_category_id is not None} - set(books.category_rate)
    cache = reference_cache(s)
    if cats and cache is not None:
        for cat in list(cats):
            if ("sales.category_rate", cat) in cache:
                books.category_rate[cat] = cache[("sales.category_rate", cat)]
                cats.discard(cat)
    if cats:  # what taxes.rate_of_category says for each, in one query
        found = dict(s.execute(select(TaxCategoryRate.category_id, TaxCategoryRate.rate_id)
                               .where(TaxCategoryRate.category_id.in_(cats),
                                      TaxCategoryRate.deleted_at.is_(None))).all())
        for cat in cats:
            books.category_rate[cat] = remember(s, ("sales.category_rate", cat),
                                                found.get(cat))
    rows: list[InvoiceLine] = []
    cur = inv.currency
    for no, li in enumerate(lines, start=1):
        if not isinstance(li, LineIn):
            raise ValidationError(f"Line {no}: not an invoice line.", field="lines")
        where = f"Line {no}"
        qty = parse_quantity(li.quantity)
        if qty <= 0:
            raise ValidationError(f"{where}: quantity must be greater than zero.",
                                  field="quantity")
        product = None
        if li.product not in (None, ""):
            product = products.get(li.product)
            if product is not None:
                books.products[product.id] = product
            else:
                try:
                    product = find_product_in_session(s, li.product)  # type: ignore[arg-type]
                except NotFound:
                    raise NotFound(f"{where}: there is no product '{li.product}'.",
                                   field="product") from None
            if not product.active:
                raise ValidationError(f"{where}: {product.name} is no longer sold (inactive).",
                                      field="product")
            unit, places = _unit_code(s, books, product.unit_id)
            check_places(qty, places, unit)
        else:
            unit = _text(li.unit, 10, "A unit", "unit")
        description = _text(li.description, 1000, "A line's description", "description") or (
            product.name if product else None)
        if not description:
            raise ValidationError(f"{where}: choose a product or describe the line.",
                                  field="description")
        if li.unit_price is not None:
            price = _amount(li.unit_price, cur, "unit_price", f"{where}: the price")
            if price < 0:
                raise ValidationError(f"{where}: the price cannot be negative.",
                                      field="unit_price")
            price_minor = _minor(price, cur)
        elif product is not None:
            price_minor = customers.price_in_list(s, price_list, product)
        else:
            raise ValidationError(f"{where}: enter a price.", field="unit_price")
        pct = amt_minor = None
        if li.discount_percent not in (None, "") and li.discount_amount not in (None, ""):
            raise ValidationError(f"{where}: give the discount as a percent or as an amount, "
                                  "not both.", field="discount")
        if li.discount_percent not in (None, ""):
            pct = parse_decimal(li.discount_percent, "discount_percent")
            if not Decimal(0) <= pct <= Decimal(100) or pct != pct.quantize(Decimal("0.001")):
                raise ValidationError(f"{where}: a discount percent is between 0 and 100, "
                                      "with at most three decimals.", field="discount_percent")
        elif li.discount_amount not in (None, ""):
            amt = _amount(li.discount_amount, cur, "discount_amount", f"{where}: the discount")
            if amt < 0:
                raise ValidationError(f"{where}: a discount cannot be negative.",
                                      field="discount_amount")
            amt_minor = _minor(amt, cur)
        # the tax rate: the line's category, the product's, else the regime's standard rate
        category_id = None
        if li.tax_category:
            category_id = s.scalar(select(TaxCategory.id).where(
                func.upper(TaxCategory.code) == li.tax_category.strip().upper(),
                TaxCategory.deleted_at.is_(None)))
            if category_id is None:
                raise NotFound(f"{where}: there is no tax category '{li.tax_category}'.",
                               field="tax_category")
        elif product is not None:
            category_id = product.tax_category_id
        rate_id = _category_rate(s, books, category_id) if category_id else None
        if rate_id is None and category_id is not None:
            code = s.scalar(select(TaxCategory.code).where(TaxCategory.id == category_id))
            raise ValidationError(f"{where}: the tax category {code} has no tax rate yet; set "
                                  "one under Settings > Taxes.", field="tax_category")
        if rate_id is None:
            books.default_rate = books.default_rate or _shared(
                s, "sales.default_rate", lambda: taxes.default_rate_id(s))
            rate_id = books.default_rate
        if rate_id is None:
            raise ValidationError("No tax rates are set up for this company.",
                                  field="tax_category")
        hsn = _text(li.hsn_sac, 10, "An HSN/SAC code", "hsn_sac") or (
            product.hsn_sac if product else None) or _category_hsn(s, books, category_id)
        row = existing[no - 1] if no <= len(existing) else None
        if row is None:  # added to the session by the caller
            row = (InvoiceLine if isinstance(inv, Invoice) else _PlainLine.blank)(
                id=new_id(), invoice_id=inv.id, line_no=no, currency=cur, cost_minor=0)
        rows.append(row)
        row.product_id = product.id if product else None
        row.description = description
        row.hsn_sac = hsn
        row.quantity = qty
        row.unit = unit
        row.unit_price_minor = price_minor
        row.discount_percent = pct
        row.discount_amount_minor = amt_minor
        row.tax_category_id = category_id
        row.tax_rate_id = rate_id
    for extra in existing[len(lines):]:
        extra.deleted_at = utcnow()
    return rows


def _compute(s: Session, books: _Books, inv: Invoice,
             lines: list[InvoiceLine]) -> taxmath.DocumentTax:
    """Recompute the totals of `inv` from its lines and write them onto the rows."""
    cur = inv.currency
    _preload_rates(s, books, {ln.tax_rate_id for ln in lines})
    loaded = [_rate(s, books, ln.tax_rate_id) for ln in lines]  # type: ignore[arg-type]
    # amounts straight from minor units (what Money.from_minor(...).amount gives)
    inputs = [taxmath.LineInput(
        quantity=ln.quantity, unit_price=from_minor(ln.unit_price_minor, cur),
        rate=lr.rate, discount_percent=ln.discount_percent,
        discount_amount=(from_minor(ln.discount_amount_minor, cur)
                         if ln.discount_amount_minor is not None else None))
        for ln, lr in zip(lines, loaded, strict=True)]
    doc = compute_document(
        inputs, _policy(books, inv), discount_percent=inv.discount_percent,
        discount_amount=(from_minor(inv.discount_amount_minor, cur)
                         if inv.discount_amount_minor is not None else None))
    for ln, lr, res in zip(lines, loaded, doc.lines, strict=True):
        ln.tax_rate_code = lr.rate.code
        ln.tax_rate_pct = lr.rate.total_rate(inv.inter_state)
        ln.gross_minor = _minor(res.gross, cur)
        ln.line_discount_minor = _minor(res.line_discount, cur)
        ln.doc_discount_minor = _minor(res.document_discount, cur)
        ln.taxable_minor = _minor(res.taxable, cur)
        ln.tax_minor = _minor(res.tax, cur)
        ln.total_minor = _minor(res.total, cur)
        ln.tax_detail = json.dumps([[c.code, c.name, str(c.rate), _minor(c.amount, cur)]
                                    for c in res.components], separators=(",", ":"))
    inv.gross_minor = _minor(doc.gross_total, cur)
    inv.discount_minor = _minor(doc.discount_total, cur)
    inv.taxable_minor = _minor(doc.taxable_total, cur)
    inv.tax_minor = _minor(doc.tax_total, cur)
    inv.round_off_minor = _minor(doc.round_off, cur)
    inv.total_minor = _minor(doc.grand_total, cur)
    return doc


def _apply_rounding_settings(s: Session, inv: Invoice, books: _Books | None = None) -> None:
    if books is not None:
        books.rounding = books.rounding or _shared(s, ("setting", "tax_rounding"),
                                                   lambda: read_tax_rounding(s))
        r = books.rounding
    else:
        r = read_tax_rounding(s)
    inv.rounding_level, inv.rounding_mode, inv.round_off = r.level, r.mode, r.round_off


def _doc_discount(inv: Invoice, percent: object, amount: object) -> None:
    if percent not in (None, "") and amount not in (None, ""):
        raise ValidationError("Give the invoice discount as a percent or as an amount, "
                              "not both.", field="discount")
    inv.discount_percent = None
    inv.discount_amount_minor = None
    if percent not in (None, ""):
        pct = parse_decimal(percent, "discount_percent")
        if not Decimal(0) <= pct <= Decimal(100) or pct != pct.quantize(Decimal("0.001")):
            raise ValidationError("An invoice discount percent is between 0 and 100.",
                                  field="discount_percent")
        inv.discount_percent = pct
    elif amount not in (None, ""):
        amt = _amount(amount, inv.currency, "discount_amount", "The invoice discount")
        if amt < 0:
            raise ValidationError("A discount cannot be negative.", field="discount_amount")
        inv.discount_amount_minor = _minor(amt, inv.currency)


def _due(inv: Invoice, terms_days: int) -> date:
    return inv.invoice_date + timedelta(days=terms_days)


# --------------------------------------------------------------------------- views


def _components(detail: str | None, currency: str) -> list[ComponentAmount]:
    if not detail:
        return []
    return [ComponentAmount(code, name, Decimal(rate), _m(amount, currency))
            for code, name, rate, amount in json.loads(detail)]


def _tax_lines(s: Session, doc_type: str, doc_id: uuid.UUID, currency: str) -> list[TaxLine]:
    rows = s.scalars(select(DocumentTax).where(DocumentTax.doc_id == doc_id,
                                               DocumentTax.doc_type == doc_type)).all()
    out = [TaxLine(r.rate_code, r.rate_name, r.kind, r.rate_pct, r.component_code,
                   r.component_name, r.component_rate_pct, _m(r.taxable_minor, currency),
                   _m(r.tax_minor, currency)) for r in rows]
    out.sort(key=lambda t: (t.rate, t.rate_code, t.component_code or ""))
    return out


def _draft_tax_lines(doc: taxmath.DocumentTax) -> list[TaxLine]:
    cur = doc.currency
    return [TaxLine(r.rate_code, r.rate_name, r.kind.value, r.rate, r.component_code,
                    r.component_name, r.component_rate, Money(r.taxable, cur), Money(r.tax, cur))
            for r in doc.breakdown]


def _stored_tax_lines(s: Session, books: _Books, inv: Invoice,
                      lines: list[InvoiceLine]) -> list[TaxLine]:
    """A draft's breakdown from the amounts saved on its lines (read-only)."""
    cur = inv.currency
    groups: dict[tuple[str, str | None], list[Any]] = {}
    for ln in lines:
        if ln.tax_rate_id is None:
            continue
        rate = _rate(s, books, ln.tax_rate_id).rate
        comps = json.loads(ln.tax_detail or "[]")
        total_rate = rate.total_rate(inv.inter_state)
        if not comps:
            g = groups.setdefault((rate.code, None), [rate, None, None, Decimal(0), 0, 0,
                                                      total_rate])
            g[4] += ln.taxable_minor
        for code, name, comp_rate, amount in comps:
            g = groups.setdefault((rate.code, code), [rate, code, name, Decimal(comp_rate), 0, 0,
                                                      total_rate])
            g[4] += ln.taxable_minor
            g[5] += amount
    out = [TaxLine(rate.code, rate.name, rate.kind.value, total_rate, code, name, comp_rate,
                   _m(taxable, cur), _m(tax, cur))
           for rate, code, name, comp_rate, taxable, tax, total_rate in groups.values()]
    out.sort(key=lambda t: (t.rate, t.rate_code, t.component_code or ""))
    return out


def _credited_qty(s: Session, line_ids: list[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    if not line_ids:
        return {}
    rows = s.execute(select(CreditNoteLine.invoice_line_id, CreditNoteLine.quantity)
                     .where(CreditNoteLine.invoice_line_id.in_(line_ids))).all()
    out: dict[uuid.UUID, Decimal] = defaultdict(lambda: Decimal(0))
    for lid, qty in rows:
        out[lid] += qty
    return out


def _settlements(s: Session, inv: Invoice) -> list[SettlementRow]:
    cur = inv.currency
    out: list[SettlementRow] = []
    for a, p in s.execute(select(PaymentAllocation, Payment)
                          .outerjoin(Payment, Payment.id == PaymentAllocation.payment_id)
                          .where(PaymentAllocation.invoice_id == inv.id)
                          .order_by(PaymentAllocation.allocation_date,
                                    PaymentAllocation.id)).all():
        if p is not None:
            out.append(SettlementRow("payment", p.number, a.allocation_date, p.method,
                                     p.reference, _m(a.amount_minor, cur)))
        else:
            out.append(SettlementRow("credit", "Customer credit", a.allocation_date, None,
                                     None, _m(a.amount_minor, cur)))
    for cn in s.scalars(select(CreditNote).where(CreditNote.invoice_id == inv.id)
                        .order_by(CreditNote.note_date, CreditNote.id)):
        if cn.to_invoice_minor:
            out.append(SettlementRow("credit_note", cn.number, cn.note_date, None, None,
                                     _m(cn.to_invoice_minor, cur)))
    return out


def _view(s: Session, books: _Books, inv: Invoice, lines: list[InvoiceLine] | None = None,
          doc: taxmath.DocumentTax | None = None, *, fresh: bool = False,
          journal_entry_number: str | None = None, customer: Customer | None = None,
          warehouse: Warehouse | None = None,
          settlements: list[SettlementRow] | None = None) -> InvoiceView:
    """The invoice as callers see it; `fresh` (just issued) skips what cannot exist yet
    (its only settlements are the ones given: a counter sale's payment)."""
    cur = inv.currency
    lines = lines if lines is not None else _live_lines(s, inv.id)
    c = customer if customer is not None else s.get(Customer, inv.customer_id)
    assert c is not None
    skus = {pid: p.sku for pid, p in books.products.items()}
    missing = {ln.product_id for ln in lines if ln.product_id} - set(skus)
    if missing:
        skus.update(dict(s.execute(select(Product.id, Product.sku)
                                   .where(Product.id.in_(missing))).all()))
    credited = _credited_qty(s, [ln.id for ln in lines]) \
        if inv.status in ISSUED_STATUSES and not fresh else {}
    rows = [InvoiceLineRow(
        line_no=ln.line_no, product_id=ln.product_id, sku=skus.get(ln.product_id),
        description=ln.description, hsn_sac=ln.hsn_sac, quantity=ln.quantity, unit=ln.unit,
        unit_price=_m(ln.unit_price_minor, cur), discount_percent=ln.discount_percent,
        discount_amount=(_m(ln.discount_amount_minor, cur)
                         if ln.discount_amount_minor is not None else None),
        tax_rate_code=ln.tax_rate_code, tax_rate=ln.tax_rate_pct, gross=_m(ln.gross_minor, cur),
        discount=_m(ln.line_discount_minor + ln.doc_discount_minor, cur),
        taxable=_m(ln.taxable_minor, cur), tax=_m(ln.tax_minor, cur),
        total=_m(ln.total_minor, cur), components=_components(ln.tax_detail, cur),
        credited_quantity=credited.get(ln.id, Decimal(0)))
        for ln in lines]
    if inv.status in ISSUED_STATUSES and not (fresh and doc is not None):
        tax_lines = _tax_lines(s, "invoice", inv.id, cur)
    elif doc is not None:
        tax_lines = _draft_tax_lines(doc)
    else:
        tax_lines = _stored_tax_lines(s, books, inv, lines)
    je = journal_entry_number
    if je is None and inv.status in ISSUED_STATUSES and not fresh:
        je = s.scalar(select(JournalEntry.number).where(JournalEntry.source_type == "invoice",
                                                        JournalEntry.source_id == inv.id,
                                                        JournalEntry.reversal_of_id.is_(None)))
    if warehouse is not None and warehouse.id == inv.warehouse_id:
        wh: str | None = warehouse.code
    else:
        wh = s.scalar(select(Warehouse.code).where(Warehouse.id == inv.warehouse_id)) \
            if inv.warehouse_id else None
    doc_disc = sum((ln.doc_discount_minor for ln in lines), 0)
    return InvoiceView(
        id=inv.id, number=inv.number, status=inv.status, customer_id=c.id,
        customer_code=c.code, customer_name=c.name, bill_to_name=inv.bill_to_name,
        bill_to_address=inv.bill_to_address, ship_to_address=inv.ship_to_address,
        bill_to_gstin=inv.bill_to_gstin, bill_to_vat_id=inv.bill_to_vat_id,
        customer_phone=c.phone, customer_email=c.email,
        place_of_supply=inv.place_of_supply, place_of_supply_code=inv.place_of_supply_code,
        inter_state=inv.inter_state, invoice_date=inv.invoice_date, due_date=inv.due_date,
        currency=cur, prices_include_tax=inv.prices_include_tax, warehouse_code=wh,
        lines=rows, tax_lines=tax_lines, gross=_m(inv.gross_minor, cur),
        discount=_m(inv.discount_minor, cur), document_discount=_m(doc_disc, cur),
        taxable=_m(inv.taxable_minor, cur), tax=_m(inv.tax_minor, cur),
        round_off=_m(inv.round_off_minor, cur), total=_m(inv.total_minor, cur),
        paid=_m(inv.paid_minor, cur), credited=_m(inv.credited_minor, cur),
        balance=_m(inv.balance_minor if inv.status in ISSUED_STATUSES else inv.total_minor,
                   cur),
        notes=inv.notes, terms=inv.terms, rounding_level=inv.rounding_level,
        rounding_mode=inv.rounding_mode, journal_entry_number=je,
        credit_limit_exceeded=inv.credit_limit_exceeded, issued_at=inv.issued_at,
        settlements=_settlements(s, inv) if inv.status in ISSUED_STATUSES and not fresh
        else list(settlements or []),
        version=inv.version)


# --------------------------------------------------------------------------- drafts


def _new_document(s: Session, ctx: Context, books: _Books, status: str,
                  customer: uuid.UUID | str | None, lines: Sequence[LineIn], *,
                  invoice_date: date | None, discount_percent: object,
                  discount_amount: object, notes: str | None, terms: str | None,
                  warehouse: uuid.UUID | str | None,
                  price_list: uuid.UUID | str | None, add: bool = True,
                  plain: bool = False
                  ) -> tuple[Invoice, list[InvoiceLine], taxmath.DocumentTax]:
    """A new quote or draft, computed; `add=False` leaves it out of the session (a
    counter sale writes it once it is issued, so it is written once, complete), and
    `plain` (a counter sale) builds it as plain rows (`_PlainInvoice`), not ORM objects."""
    if plain:
        c = _customer_for_sale(s, customer)
    else:
        c = customers.walk_in_in_session(s) if customer in (None, "") else \
            customers.find_customer(s, customer)  # type: ignore[arg-type]
    if not c.active:
        raise ValidationError(f"{c.name} is inactive; reactivate the customer first.",
                              field="customer")
    if c.currency != books.currency:
        raise ValidationError(f"{c.name} is billed in {c.currency}; invoices are in the "
                              f"company's currency, {books.currency}.", field="customer")
    on = _date(invoice_date if invoice_date is not None else ctx.today(), "invoice_date",
               "The invoice date")
    inv = (_PlainInvoice.blank if plain else Invoice)(
        id=new_id(), status=status, invoice_date=on, currency=books.currency,
        notes=_text(notes, 4000, "Notes", "notes"), terms=_text(terms, 4000, "Terms", "terms"),
        bill_to_name=c.name, paid_minor=0, credited_minor=0, cost_minor=0)
    _set_customer_block(books, inv, c)
    inv.due_date = _due(inv, c.payment_terms_days)
    if price_list not in (None, ""):
        inv.price_list_id = customers.find_price_list(s, price_list).id
    if warehouse not in (None, ""):
        inv.warehouse_id = find_warehouse_in_session(s, warehouse).id  # type: ignore[arg-type]
    _doc_discount(inv, discount_percent, discount_amount)
    _apply_rounding_settings(s, inv, books)
    books.keep.append(c)
    if plain:
        books.customers[c.id] = c  # issuing it next finds it here
    rows = _write_lines(s, books, inv, lines, c, new=True)
    with s.no_autoflush:
        doc = _compute(s, books, inv, rows)
    if add and not plain:
        s.add(inv)
        s.add_all(rows)
        s.flush()  # the draft and its lines, computed, in one go
    return inv, rows, doc


def create_draft(ctx: Context, customer: uuid.UUID | str | None, lines: Sequence[LineIn], *,
                 invoice_date: date | None = None,
                 discount_percent: Decimal | str | int | None = None,
                 discount_amount: Decimal | str | int | Money | None = None,
                 notes: str | None = None, terms: str | None = None,
                 warehouse: uuid.UUID | str | None = None,
                 price_list: uuid.UUID | str | None = None) -> InvoiceView:
    """A draft invoice (customer None: the walk-in cash customer); nothing is posted yet."""
    ctx.require("sales.invoice.create")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = _books(s)
        inv, rows, doc = _new_document(s, ctx, books, "draft", customer, lines,
                                       invoice_date=invoice_date,
                                       discount_percent=discount_percent,
                                       discount_amount=discount_amount, notes=notes,
                                       terms=terms, warehouse=warehouse, price_list=price_list)
        return _view(s, books, inv, rows, doc=doc)


def create_quote(ctx: Context, customer: uuid.UUID | str | None, lines: Sequence[LineIn], *,
                 quote_date: date | None = None,
                 discount_percent: Decimal | str | int | None = None,
                 discount_amount: Decimal | str | int | Money | None = None,
                 notes: str | None = None, terms: str | None = None) -> InvoiceView:
    """A quote: priced and taxed like an invoice, turned into a draft when accepted."""
    ctx.require("sales.invoice.create")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = _books(s)
        inv, rows, doc = _new_document(s, ctx, books, "quote", customer, lines,
                                       invoice_date=quote_date,
                                       discount_percent=discount_percent,
                                       discount_amount=discount_amount, notes=notes,
                                       terms=terms, warehouse=None, price_list=None)
        return _view(s, books, inv, rows, doc=doc)


def convert_quote(ctx: Context, quote_id: uuid.UUID, *,
                  invoice_date: date | None = None) -> InvoiceView:
    """The customer accepted: the quote becomes a draft invoice (dated today by default)."""
    ctx.require("sales.invoice.create")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = _books(s)
        inv = _find_invoice(s, quote_id)
        _require_editable(inv)
        if inv.status != "quote":
            raise ValidationError("Only a quote can be turned into an invoice.",
                                  field="invoice")
        inv.status = "draft"
        inv.invoice_date = _date(invoice_date or ctx.today(), "invoice_date",
                                 "The invoice date")
        c = s.get(Customer, inv.customer_id)
        assert c is not None
        inv.due_date = _due(inv, c.payment_terms_days)
        s.flush()
        return _view(s, books, inv)


_UNSET: Any = object()


def update_draft(ctx: Context, invoice_id: uuid.UUID, *, expected_version: int | None = None,
                 lines: Sequence[LineIn] | None = None,
                 customer: uuid.UUID | str | None = _UNSET,
                 invoice_date: date | None = None,
                 discount_percent: Decimal | str | int | None = _UNSET,
                 discount_amount: Decimal | str | int | Money | None = _UNSET,
                 notes: str | None = _UNSET, terms: str | None = _UNSET,
                 warehouse: uuid.UUID | str | None = _UNSET) -> InvoiceView:
    """Change a quote or draft; `lines` replaces all lines. Issued invoices are refused."""
    ctx.require("sales.invoice.create")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = _books(s)
        inv = _find_invoice(s, invoice_id)
        _require_editable(inv)
        if expected_version is not None and inv.version != expected_version:
            raise Conflict(f"{_label(inv)} was changed by someone else since you opened it; "
                           "reopen it and make your change again.")
        if customer is not _UNSET:
            c = customers.walk_in_in_session(s) if customer in (None, "") else \
                customers.find_customer(s, customer)  # type: ignore[arg-type]
            if c.currency != books.currency:
                raise ValidationError(f"{c.name} is billed in {c.currency}; invoices are in "
                                      f"{books.currency}.", field="customer")
            _set_customer_block(books, inv, c)
            inv.price_list_id = None
        if invoice_date is not None:
            inv.invoice_date = _date(invoice_date, "invoice_date", "The invoice date")
        if customer is not _UNSET or invoice_date is not None:
            c = s.get(Customer, inv.customer_id)
            assert c is not None
            inv.due_date = _due(inv, c.payment_terms_days)
        if discount_percent is not _UNSET or discount_amount is not _UNSET:
            _doc_discount(inv, None if discount_percent is _UNSET else discount_percent,
                          None if discount_amount is _UNSET else discount_amount)
        if notes is not _UNSET:
            inv.notes = _text(notes, 4000, "Notes", "notes")
        if terms is not _UNSET:
            inv.terms = _text(terms, 4000, "Terms", "terms")
        if warehouse is not _UNSET:
            inv.warehouse_id = find_warehouse_in_session(s, warehouse).id if warehouse else None
        _apply_rounding_settings(s, inv)
        if lines is not None:
            cust = s.get(Customer, inv.customer_id)
            assert cust is not None
            s.add_all(_write_lines(s, books, inv, lines, cust))
        elif customer is not _UNSET:
            # the new customer's price list decides whether prices include tax
            pl = customers.price_list_of(s, s.scalar(select(Customer.price_list_id)
                                                     .where(Customer.id == inv.customer_id)))
            inv.price_list_id = pl.id if pl else None
            inv.prices_include_tax = bool(pl and pl.prices_include_tax)
        rows = _live_lines(s, inv.id)
        doc = _compute(s, books, inv, rows)
        s.flush()
        return _view(s, books, inv, rows, doc)


def delete_draft(ctx: Context, invoice_id: uuid.UUID) -> None:
    """Delete a quote or draft (kept as a tombstone, status void). Issued: refused."""
    ctx.require("sales.invoice.create")
    with ctx.db.write(ctx.actor.user_id) as s:
        inv = _find_invoice(s, invoice_id)
        _require_editable(inv)
        inv.status = "void"
        inv.deleted_at = ctx.now()
        for ln in _live_lines(s, inv.id):
            ln.deleted_at = ctx.now()
        s.flush()
        audit.record(s, ctx, "sales.draft_deleted", entity="invoice", entity_id=inv.id)


# --------------------------------------------------------------------------- issue


def _issue_in_session(s: Session, ctx: Context, books: _Books, inv: Invoice,
                      issue_date: date | None,
                      lines: list[InvoiceLine] | None = None,
                      doc: taxmath.DocumentTax | None = None, *,
                      attach: bool = True) -> _Issued:
    """Issue `inv` in the caller's transaction. Nothing is flushed here: the caller
    flushes once (and builds the view from the returned `_Issued` if it wants one).

    `doc` is the computation of an invoice made in this same transaction a moment
    ago (a counter sale): same customer, lines and settings, so it is not redone.
    A new invoice (not in the session) is added to it, unless `attach` is False:
    then the caller writes it (`models.changes.insert_new`).
    """
    if inv.status == "quote":
        raise ValidationError("A quote is not issued; turn it into an invoice first.",
                              field="invoice")
    if inv.status in ISSUED_STATUSES:
        raise ValidationError(f"Invoice {inv.number} is already issued.", field="invoice")
    _require_editable(inv)
    with s.no_autoflush:  # the invoice's changes go out in one flush, by the caller
        return _issue_now(s, ctx, books, inv, issue_date, lines, doc, attach=attach)


@dataclass
class _Issued:
    """What issuing produced, for the caller's view (kept out of the batch path)."""

    inv: Invoice
    lines: list[InvoiceLine]
    doc: taxmath.DocumentTax
    customer: Customer
    warehouse: Warehouse | None
    entry_number: str | None
    exceeded: bool
    warnings: list[str]


def _issued_result(s: Session, books: _Books, done: _Issued,
                   settlements: list[SettlementRow] | None = None) -> IssueResult:
    """The caller-facing result, built once the transaction's changes are flushed."""
    return IssueResult(_view(s, books, done.inv, done.lines, done.doc, fresh=True,
                             journal_entry_number=done.entry_number, customer=done.customer,
                             warehouse=done.warehouse, settlements=settlements),
                       done.exceeded, done.warnings)


def _warehouse_for(s: Session, books: _Books, inv: Invoice) -> Warehouse | None:
    """The warehouse issuing takes the goods from: the invoice's, else the default one.
    Where the transaction uses the reference cache, a `_WarehouseFacts`."""
    if reference_cache(s) is not None:
        if inv.warehouse_id:
            return _shared(s, ("sales.warehouse", inv.warehouse_id),  # type: ignore[no-any-return]
                           lambda: _WarehouseFacts.of(s.get(Warehouse, inv.warehouse_id)))
        return _shared(s, "sales.default_warehouse",  # type: ignore[no-any-return]
                       lambda: _WarehouseFacts.of(_default_warehouse(s)))
    if inv.warehouse_id:
        wh = books.warehouses.get(inv.warehouse_id)
        return wh if isinstance(wh, Warehouse) and wh in s else s.get(Warehouse,
                                                                        inv.warehouse_id)
    if not isinstance(books.default_warehouse, Warehouse) or books.default_warehouse not in s:
        books.default_warehouse = _default_warehouse(s)
    return books.default_warehouse


def _issue_now(s: Session, ctx: Context, books: _Books, inv: Invoice, issue_date: date | None,
               lines: list[InvoiceLine] | None,
               doc: taxmath.DocumentTax | None = None, *, attach: bool = True) -> _Issued:
    cur = inv.currency
    # a counter sale: not in the table yet, written once, at the end, complete (an ORM
    # object out of the session, or a new plain row); a batch's plain rows are drafts
    # read from the table, written by the batch
    pending = (inv not in s) if isinstance(inv, Invoice) else inv._loaded is None
    c = books.customers.get(inv.customer_id)
    if c is None or (isinstance(c, Customer) and c not in s):
        c = s.get(Customer, inv.customer_id)
        assert c is not None
        books.customers[c.id] = c
    if c.deleted_at is not None or not c.active:
        raise ValidationError(f"{c.name} is inactive; reactivate the customer first.",
                              field="customer")
    if issue_date is not None:
        inv.invoice_date = _date(issue_date, "invoice_date", "The invoice date")
    # The customer block and tax rounding are frozen as they are now.
    _set_customer_block(books, inv, c)
    inv.due_date = _due(inv, c.payment_terms_days)
    _apply_rounding_settings(s, inv, books)
    lines = lines if lines is not None else _live_lines(s, inv.id)
    if not lines:
        raise ValidationError("An invoice needs at least one line.", field="lines")
    if doc is None or not pending or issue_date is not None:
        doc = _compute(s, books, inv, lines)
    on = inv.invoice_date
    fy = books.company.fiscal_year_start_month
    inv.number = next_number(s, INVOICE_SERIES[0], INVOICE_SERIES[1], ctx.device.code, on, fy)

    # stock: goods leave the warehouse at moving average cost
    wanted = {ln.product_id for ln in lines if ln.product_id} - set(books.products)
    if wanted:
        for p in (_PlainProduct.read(s, _PRODUCTS_BY_ID, {"ids": list(wanted)})
                  if deferring(s) else s.scalars(select(Product).where(Product.id.in_(wanted)))):
            books.products[p.id] = p
    products = books.products
    stocked = [ln for ln in lines if ln.product_id and not products[ln.product_id].is_service]
    wh = None
    if stocked:
        wh = _warehouse_for(s, books, inv)
        if wh is None:
            raise ValidationError("There is no warehouse to take the goods from; add one "
                                  "under Inventory first.", field="warehouse")
        books.warehouses[wh.id] = wh
        inv.warehouse_id = wh.id
        books.stock = books.stock or stock_books(s)
        # The balances of all the lines in one query, held for the transaction (the
        # moves below look there first: a row added by an earlier invoice of this
        # transaction and not written yet is found too).
        balances_in_session(s, wh.id, list({ln.product_id: products[ln.product_id]
                                            for ln in stocked}.values()),
                            books.balances, books.stock)
    cost_total = 0
    if stocked:
        moves = move_rows_in_session(s, ctx, [MoveInput(
            "issue", products[ln.product_id], wh, -ln.quantity, on, source_type="invoice",
            source_id=inv.id, reference=inv.number, source_line_id=ln.id)
            for ln in stocked], books=books.stock, balances=books.balances)
        for ln, move in zip(stocked, moves, strict=True):
            ln.cost_minor = -move["value_minor"]
            cost_total += ln.cost_minor
    inv.cost_minor = cost_total

    # the frozen tax breakdown, with the account each component posts to
    tax_by_account: dict[uuid.UUID, int] = defaultdict(int)
    rate_by_code = {}
    for ln in lines:
        loaded = _rate(s, books, ln.tax_rate_id)  # type: ignore[arg-type]
        rate_by_code[loaded.rate.code] = loaded
    tax_rows: list[dict[str, Any]] = []
    for r in doc.breakdown:
        acc = rate_by_code[r.rate_code].accounts.get(r.component_code) \
            if r.component_code else None
        tax_rows.append({"id": None, "created_at": None, "created_by": None,
                         "doc_type": "invoice", "doc_id": inv.id, "doc_date": on,
                         "currency": cur, "rate_code": r.rate_code, "rate_name": r.rate_name,
                         "kind": r.kind.value, "rate_pct": r.rate,
                         "component_code": r.component_code,
                         "component_name": r.component_name,
                         "component_rate_pct": r.component_rate,
                         "taxable_minor": _minor(r.taxable, cur),
                         "tax_minor": _minor(r.tax, cur), "account_id": acc})
        if acc is not None and r.tax:
            tax_by_account[acc] += _minor(r.tax, cur)
    # append-only rows nothing reads back here: written with their outbox rows at once
    insert_records(s, (DocumentTax, tax_rows))

    # credit limit: a warning, never a refusal
    warnings: list[str] = []
    exceeded = False
    if c.credit_limit_minor is not None and not c.is_walk_in:
        # what this transaction issued before (a batch) counts: write it out first
        if books.before_read is not None:
            books.before_read()
        s.flush()
        bal = customers.balance_in_session(s, c.id, cur)
        owed = bal.receivable.minor - bal.credit.minor + inv.total_minor
        if owed > c.credit_limit_minor:
            exceeded = True
            warnings.append(f"{c.name} now owes {_fmt(owed, cur, books)}, over the credit "
                            f"limit of {_fmt(c.credit_limit_minor, cur, books)}.")
    inv.credit_limit_exceeded = exceeded
    inv.status = "issued" if inv.total_minor else "paid"
    inv.issued_at = ctx.now()
    inv.issued_by = ctx.actor.user_id
    inv.device_code = ctx.device.code
    if pending and attach and isinstance(inv, Invoice):
        s.add(inv)
        s.add_all(lines)

    # one balanced entry
    income: dict[uuid.UUID, int] = defaultdict(int)
    for ln in lines:
        key = "service_income" if ln.product_id and products[ln.product_id].is_service \
            else "sales"
        income[_account(s, books, key)] += ln.taxable_minor
    entry_lines: list[LineInput] = []
    if inv.total_minor:
        entry_lines.append(LineInput(_account(s, books, "receivables"),
                                     debit=_m(inv.total_minor, cur), party_type="customer",
                                     party_id=c.id))
    entry_lines += [LineInput(acc, credit=_m(v, cur)) for acc, v in income.items() if v]
    entry_lines += [LineInput(acc, credit=_m(v, cur), memo="Output tax")
                    for acc, v in tax_by_account.items() if v]
    if inv.round_off_minor > 0:
        entry_lines.append(LineInput(_account(s, books, "round_off"),
                                     credit=_m(inv.round_off_minor, cur), memo="Round-off"))
    elif inv.round_off_minor < 0:
        entry_lines.append(LineInput(_account(s, books, "round_off"),
                                     debit=_m(-inv.round_off_minor, cur), memo="Round-off"))
    if cost_total:
        entry_lines.append(LineInput(_account(s, books, "cogs"), debit=_m(cost_total, cur),
                                     memo="Cost of goods sold"))
        entry_lines.append(LineInput(_account(s, books, "inventory"),
                                     credit=_m(cost_total, cur), memo="Cost of goods sold"))
    entry_number = None
    if len(entry_lines) >= 2:
        entry_number = post_rows_in_session(
            s, ctx, on, entry_lines, f"Sales invoice {inv.number}", number=inv.number,
            source_type="invoice", source_id=inv.id, audit_action=None).number
    audit.append(s, ctx, "sales.invoice_issued", entity="invoice", entity_id=inv.id,
                 details={"number": inv.number, "total_minor": inv.total_minor,
                          "lines": len(lines), "credit_limit_exceeded": exceeded})
    return _Issued(inv, lines, doc, c, wh, entry_number, exceeded, warnings)


def issue_invoice(ctx: Context, invoice_id: uuid.UUID | str, *,
                  invoice_date: date | None = None) -> IssueResult:
    """Issue a draft: number, stock, tax breakdown and journal entry, in one transaction."""
    ctx.require("sales.invoice.issue")
    with ctx.db.write(ctx.actor.user_id) as s, deferred_records(s):
        use_reference_cache(s)  # reference rows kept across transactions (0031)
        books = _books(s)
        inv = _find_invoice(s, invoice_id)
        done = _issue_in_session(s, ctx, books, inv, invoice_date)
        s.flush()
        return _issued_result(s, books, done)


@dataclass(frozen=True)
class BatchIssued:
    numbers: list[str]
    credit_limit_warnings: list[str]


_PREFETCH_CHUNK = 500  # ids per IN (...) query, well under SQLite's variable limit
_BATCH_WRITE = 50  # invoices per write-out in a batch


class _PlainInvoice(PlainRow):
    """An invoice row held as a plain object by the issuing paths (`models.changes.PlainRow`):
    a batch reads its drafts so, a counter sale builds its invoice so. `_issue_now`
    changes it exactly as it changes an ORM invoice."""

    __entity__ = Invoice

    @property
    def balance_minor(self) -> int:
        return self.total_minor - self.paid_minor - self.credited_minor  # type: ignore[no-any-return]


class _PlainLine(PlainRow):
    __entity__ = InvoiceLine


_DRAFTS_BY_ID = Invoice.id.in_(bindparam("ids", expanding=True))
_LINES_OF = and_(InvoiceLine.invoice_id.in_(bindparam("ids", expanding=True)),
                 InvoiceLine.deleted_at.is_(None))
_LINE_ORDER = (InvoiceLine.invoice_id, InvoiceLine.line_no)
_CUSTOMERS_BY_ID = Customer.id.in_(bindparam("ids", expanding=True))


def _prefetch_drafts(s: Session, refs: Sequence[uuid.UUID | str]
                     ) -> tuple[dict[uuid.UUID, _PlainInvoice], dict[uuid.UUID, list[_PlainLine]],
                                dict[uuid.UUID, Any]]:
    """The batch's invoices, their live lines and their customers as plain rows, in a few
    queries: the invoices by id, each invoice's lines in line order (exactly the rows
    `_find_invoice` and `_live_lines` would return) and the customers by id."""
    ids = list(dict.fromkeys(r for r in refs if isinstance(r, uuid.UUID)))
    invoices: dict[uuid.UUID, _PlainInvoice] = {}
    lines: dict[uuid.UUID, list[_PlainLine]] = {}
    for i in range(0, len(ids), _PREFETCH_CHUNK):
        chunk = {"ids": ids[i:i + _PREFETCH_CHUNK]}
        for inv in _PlainInvoice.read(s, _DRAFTS_BY_ID, chunk):
            invoices[inv.id] = inv
        for ln in _PlainLine.read(s, _LINES_OF, chunk, _LINE_ORDER):
            lines.setdefault(ln.invoice_id, []).append(ln)
    cust_ids = list({inv.customer_id for inv in invoices.values()})
    found: dict[uuid.UUID, Any] = {}
    for i in range(0, len(cust_ids), _PREFETCH_CHUNK):
        for c in _PlainCustomer.read(s, _CUSTOMERS_BY_ID,
                                     {"ids": cust_ids[i:i + _PREFETCH_CHUNK]}):
            found[c.id] = c
    return invoices, lines, found


def issue_invoices(ctx: Context, invoice_ids: Sequence[uuid.UUID | str], *,
                   invoice_date: date | None = None) -> BatchIssued:
    """Issue many drafts in one transaction (month-end billing, imports): all or none.

    Each invoice is issued exactly as `issue_invoice` would (its own number,
    stock moves, tax breakdown, journal entry and audit event); sharing one
    transaction and its caches (accounts, rates, products, drafts read in a
    few queries) makes a batch much faster than one call per invoice. A
    refusal names the invoice and writes nothing.

    The drafts are read and changed as plain rows (`_PlainInvoice`), and every
    row the batch writes goes out every few invoices, one executemany per
    table (docs/decisions/0031).
    """
    ctx.require("sales.invoice.issue")
    numbers: list[str] = []
    warnings: list[str] = []
    with ctx.db.write(ctx.actor.user_id) as s, deferred_records(s):
        use_reference_cache(s)  # reference rows kept across transactions (0031)
        books = _books(s)
        plain, plain_lines, books.customers = _prefetch_drafts(s, invoice_ids)
        issued: list[PlainRow] = []

        def write_out() -> None:
            write_plain(s, issued)
            issued.clear()
            s.flush()  # anything the unit of work holds
            write_records(s)

        books.before_read = write_out
        for ref in invoice_ids:
            inv: Any = plain.get(ref) if isinstance(ref, uuid.UUID) else None
            if inv is None:
                inv = _find_invoice(s, ref)
            elif inv.deleted_at is not None and inv.status != "void":
                raise NotFound(f"There is no invoice {ref}.", field="invoice")
            label = inv.number or f"the draft for {inv.bill_to_name} of " \
                f"{inv.invoice_date.isoformat()}"
            if isinstance(inv, PlainRow):
                lines: Any = plain_lines.pop(inv.id, []) \
                    if inv.status in EDITABLE_STATUSES else None
            else:  # found by number: as issue_invoice would
                lines = None
            try:
                done = _issue_in_session(s, ctx, books, inv, invoice_date, lines)
            except ValidationError as exc:
                raise type(exc)(f"{label}: {exc.message} Nothing was issued.",
                                field=exc.field) from exc
            numbers.append(inv.number or "")
            if isinstance(inv, PlainRow):
                issued.append(inv)
                issued += done.lines
            # bounded work per write-out
            if len(numbers) % _BATCH_WRITE == 0:
                write_out()
            warnings += done.warnings
        write_out()
    return BatchIssued(numbers, warnings)


def sell(ctx: Context, lines: Sequence[LineIn], *, customer: uuid.UUID | str | None = None,
         invoice_date: date | None = None, payment_method: str | None = None,
         payment_reference: str | None = None,
         discount_percent: Decimal | str | int | None = None,
         discount_amount: Decimal | str | int | Money | None = None,
         notes: str | None = None, warehouse: uuid.UUID | str | None = None) -> IssueResult:
    """A counter sale: draft, issue and (with `payment_method`) full payment, in one go.

    The invoice, its lines, stock moves, tax rows, payment and audit events
    reach the file in one flush, the invoice already in its final state.
    """
    ctx.require("sales.invoice.issue")
    if payment_method is not None:
        ctx.require("sales.payment.record")
    with ctx.db.write(ctx.actor.user_id) as s, deferred_records(s):
        use_reference_cache(s)  # reference rows kept across transactions (0031)
        books = _books(s)
        inv, rows, doc = _new_document(s, ctx, books, "draft", customer, lines,
                                       invoice_date=invoice_date,
                                       discount_percent=discount_percent,
                                       discount_amount=discount_amount, notes=notes,
                                       terms=None, warehouse=warehouse, price_list=None,
                                       add=False, plain=True)
        done = _issue_in_session(s, ctx, books, inv, None, rows, doc, attach=False)
        settlements = None
        with s.no_autoflush:
            if payment_method is not None and inv.balance_minor > 0:
                amount = inv.balance_minor
                pay = _pay_in_session(s, ctx, books, inv.customer_id, amount, payment_method,
                                      inv.invoice_date, payment_reference, None,
                                      [(inv, amount)], write_now=True)
                settlements = [SettlementRow("payment", pay.number, pay.payment_date,
                                             pay.method, pay.reference,
                                             _m(amount, inv.currency))]
            # the invoice and its lines, in their final state (paid), written once
            insert_new(s, [inv, *rows])
        s.flush()
        return _issued_result(s, books, done, settlements)


def get_invoice(ctx: Context, invoice: uuid.UUID | str) -> InvoiceView:
    """An invoice, quote or draft by id or number, with lines, taxes and settlements."""
    ctx.require("sales.view")
    with ctx.db.read() as s:
        books = _books(s)
        inv = _find_invoice(s, invoice)
        return _view(s, books, inv)


def invoice_view_in_session(s: Session, invoice: uuid.UUID | str,
                            books: _Books | None = None) -> InvoiceView:
    """An invoice's view inside the caller's session (PDF export, batch printing)."""
    return _view(s, books or _books(s), _find_invoice(s, invoice))


def books_in_session(s: Session) -> _Books:
    """The company and caches a run of `invoice_view_in_session` calls can share."""
    return _books(s)


def credit_note_view_in_session(s: Session, credit_note: uuid.UUID | str) -> CreditNoteView:
    return _credit_note_view(s, _find_credit_note(s, credit_note))


def payment_view_in_session(s: Session, payment: uuid.UUID | str) -> PaymentView:
    return _payment_view(s, _books(s), _find_payment(s, payment))


def list_invoices(ctx: Context, date_from: date | None = None, date_to: date | None = None, *,
                  customer: uuid.UUID | str | None = None, status: str | None = None,
                  after: InvoiceCursor | None = None, limit: int = 100) -> InvoicePage:
    """Invoices newest first, a page at a time (keyset on date and id)."""
    ctx.require("sales.view")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    with ctx.db.read() as s:
        return _list_page(s, date_from, date_to, customer, status, after, limit)


def _list_page(s: Session, date_from: date | None, date_to: date | None,
               customer: uuid.UUID | str | None, status: str | None,
               after: InvoiceCursor | None, limit: int) -> InvoicePage:
    stmt = select(Invoice.id, Invoice.number, Invoice.status, Invoice.invoice_date,
                  Invoice.due_date, Invoice.customer_id, Invoice.currency, Invoice.taxable_minor,
                  Invoice.tax_minor, Invoice.total_minor, Invoice.paid_minor,
                  Invoice.credited_minor).where(Invoice.status != "void")
    if date_from is not None:
        stmt = stmt.where(Invoice.invoice_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(Invoice.invoice_date <= date_to)
    if customer not in (None, ""):
        c = customers.find_customer(s, customer)  # type: ignore[arg-type]
        stmt = stmt.where(Invoice.customer_id == c.id)
    if status:
        stmt = stmt.where(Invoice.status == status)
    if after is not None:
        stmt = stmt.where(or_(Invoice.invoice_date < after.invoice_date,
                              and_(Invoice.invoice_date == after.invoice_date,
                                   Invoice.id < after.id)))
    found = s.execute(stmt.order_by(Invoice.invoice_date.desc(), Invoice.id.desc())
                      .limit(limit + 1)).all()
    more = len(found) > limit
    found = found[:limit]
    names = {r.id: (r.code, r.name) for r in s.execute(
        select(Customer.id, Customer.code, Customer.name)
        .where(Customer.id.in_({r.customer_id for r in found})))}
    rows = []
    for r in found:
        code, name = names[r.customer_id]
        balance = r.total_minor - r.paid_minor - r.credited_minor \
            if r.status in ISSUED_STATUSES else r.total_minor
        rows.append(InvoiceListRow(r.id, r.number, r.status, r.invoice_date, r.due_date, code,
                                   name, _m(r.taxable_minor, r.currency),
                                   _m(r.tax_minor, r.currency), _m(r.total_minor, r.currency),
                                   _m(balance, r.currency)))
    cursor = InvoiceCursor(found[-1].invoice_date, found[-1].id) if more and found else None
    return InvoicePage(rows, cursor)


def iter_invoices(ctx: Context, date_from: date | None = None, date_to: date | None = None, *,
                  customer: uuid.UUID | str | None = None, status: str | None = None,
                  page_size: int = 500) -> Iterator[InvoiceListRow]:
    """Every matching invoice, newest first, read a page at a time (for CSV)."""
    after: InvoiceCursor | None = None
    while True:
        page = list_invoices(ctx, date_from, date_to, customer=customer, status=status,
                             after=after, limit=page_size)
        yield from page.rows
        if page.next_cursor is None:
            return
        after = page.next_cursor


# --------------------------------------------------------------------------- payments


def _check_method(method: str, reference: str | None) -> tuple[str, str | None]:
    key = (method or "").strip().lower().replace(" ", "_").replace("-", "_")
    if key not in PAYMENT_METHODS:
        raise ValidationError("A payment is cash, card, bank transfer, UPI or cheque.",
                              field="method")
    ref = _text(reference, 60, "A payment reference", "reference")
    if key == "cheque" and not ref:
        raise ValidationError("Enter the cheque number (and bank) as the reference.",
                              field="reference")
    return key, ref


def _settle(inv: Invoice) -> None:
    if inv.balance_minor <= 0:
        inv.status = "paid"
    elif inv.paid_minor or inv.credited_minor:
        inv.status = "partially_paid"
    else:
        inv.status = "issued"


def _pay_in_session(s: Session, ctx: Context, books: _Books, customer_id: uuid.UUID,
                    amount_minor: int, method: str, on: date, reference: str | None,
                    notes: str | None, allocations: list[tuple[Invoice, int]], *,
                    write_now: bool = False) -> Payment:
    """Record a payment in the caller's transaction. The payment, its allocations and
    any credit are added to the session, or with `write_now` written at once as the
    unit of work would (`models.changes.insert_new`: a counter sale, whose invoice
    is written the same way, after this)."""
    cur = books.currency
    method, reference = _check_method(method, reference)
    allocated = sum(a for _, a in allocations)
    if allocated > amount_minor:
        raise ValidationError(f"The allocations add up to {_fmt(allocated, cur, books)}, more "
                              f"than the payment of {_fmt(amount_minor, cur, books)}.",
                              field="allocations")
    number = next_number(s, RECEIPT_SERIES[0], RECEIPT_SERIES[1], ctx.device.code, on,
                         books.company.fiscal_year_start_month)
    excess = amount_minor - allocated
    pay_id = new_id()  # the payment is append-only: written once its entry exists
    money_key = "cash" if method == "cash" else "bank"
    lines = [LineInput(_account(s, books, money_key), debit=_m(amount_minor, cur),
                       memo=f"{METHOD_LABELS[method]}" + (f" {reference}" if reference else ""))]
    if allocated:
        lines.append(LineInput(_account(s, books, "receivables"), credit=_m(allocated, cur),
                               party_type="customer", party_id=customer_id))
    if excess:
        lines.append(LineInput(_account(s, books, "customer_credit"), credit=_m(excess, cur),
                               memo="Kept as customer credit", party_type="customer",
                               party_id=customer_id))
    entry = post_rows_in_session(s, ctx, on, lines, f"Payment received {number}",
                                 number=number, source_type="payment", source_id=pay_id,
                                 audit_action=None)
    # written at once (a counter sale): plain rows, not ORM objects (decision 0031)
    make = {Payment: _PlainPayment.blank, PaymentAllocation: _PlainAllocation.blank,
            CustomerCredit: _PlainCredit.blank} if write_now else {}
    pay = make.get(Payment, Payment)(
        id=pay_id, number=number, customer_id=customer_id, payment_date=on, method=method,
        reference=reference, currency=cur, amount_minor=amount_minor, allocated_minor=allocated,
        credit_minor=excess, notes=notes, journal_entry_id=entry.id, device_code=ctx.device.code)
    # No flush of its own: the caller's next query or flush writes the payment and its
    # allocations together (the unit of work puts the payment first).
    new: list[Any] = [pay]
    for inv, amount in allocations:
        new.append(make.get(PaymentAllocation, PaymentAllocation)(
            invoice_id=inv.id, payment_id=pay.id, allocation_date=on, currency=cur,
            amount_minor=amount))
        inv.paid_minor += amount
        _settle(inv)
    if excess:
        new.append(make.get(CustomerCredit, CustomerCredit)(
            customer_id=customer_id, credit_date=on, currency=cur, amount_minor=excess,
            source_type="payment", source_id=pay.id, memo=f"Overpayment {number}",
            journal_entry_id=entry.id))
    if write_now:
        insert_new(s, new)
    else:
        s.add_all(new)
    audit.append(s, ctx, "sales.payment_recorded", entity="payment", entity_id=pay.id,
                 details={"number": number, "method": method, "amount_minor": amount_minor,
                          "invoices": len(allocations), "credit_minor": excess,
                          "journal_entry": entry.number})
    return pay


def _payment_view(s: Session, books: _Books, pay: Payment) -> PaymentView:
    cur = pay.currency
    c = s.get(Customer, pay.customer_id)
    assert c is not None
    rows = []
    for a, inv in s.execute(select(PaymentAllocation, Invoice)
                            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                            .where(PaymentAllocation.payment_id == pay.id)
                            .order_by(Invoice.invoice_date, Invoice.number)).all():
        rows.append(AllocationRow(inv.id, inv.number or "", _m(a.amount_minor, cur),
                                  _m(inv.balance_minor, cur), inv.status))
    je = s.scalar(select(JournalEntry.number).where(JournalEntry.id == pay.journal_entry_id)) \
        if pay.journal_entry_id else None
    return PaymentView(pay.id, pay.number, c.id, c.name, pay.payment_date, pay.method,
                       pay.reference, _m(pay.amount_minor, cur), _m(pay.allocated_minor, cur),
                       _m(pay.credit_minor, cur), rows, pay.notes, je)


def record_payment(ctx: Context, customer: uuid.UUID | str, amount: Decimal | str | int | Money,
                   method: str, *, payment_date: date | None = None,
                   reference: str | None = None,
                   allocations: Sequence[Allocation] | None = None,
                   notes: str | None = None) -> PaymentView:
    """Money received: settles the given invoices (default: oldest due first); any
    amount left over is kept as the customer's credit."""
    ctx.require("sales.payment.record")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = _books(s)
        cur = books.currency
        c = customers.find_customer(s, customer)
        value = _amount(amount, cur, "amount", "The amount")
        if value <= 0:
            raise ValidationError("A payment must be more than zero.", field="amount")
        amount_minor = _minor(value, cur)
        on = _date(payment_date if payment_date is not None else ctx.today(), "payment_date",
                   "The payment date")
        plan: list[tuple[Invoice, int]] = []
        if allocations:
            seen: set[uuid.UUID] = set()
            for a in allocations:
                inv = _find_invoice(s, a.invoice)
                if inv.customer_id != c.id:
                    raise ValidationError(f"{_label(inv)} belongs to another customer.",
                                          field="allocations")
                if inv.status not in ISSUED_STATUSES:
                    raise ValidationError(f"{_label(inv)} is not issued yet; issue it before "
                                          "taking payment against it.", field="allocations")
                if inv.id in seen:
                    raise ValidationError(f"{_label(inv)} is listed twice.",
                                          field="allocations")
                seen.add(inv.id)
                part = _minor(_amount(a.amount, cur, "allocations", "An allocation"), cur)
                if part <= 0:
                    raise ValidationError("Each allocation must be more than zero.",
                                          field="allocations")
                if inv.balance_minor <= 0:
                    raise ValidationError(f"{_label(inv)} is already paid.",
                                          field="allocations")
                if part > inv.balance_minor:
                    raise ValidationError(
                        f"{_label(inv)} has only {_fmt(inv.balance_minor, cur, books)} left to "
                        f"pay; {_fmt(part, cur, books)} is too much.", field="allocations")
                if inv.invoice_date > on:
                    raise ValidationError(f"{_label(inv)} is dated after the payment.",
                                          field="allocations")
                plan.append((inv, part))
        else:
            left = amount_minor
            for inv in s.scalars(select(Invoice).where(
                    Invoice.customer_id == c.id, Invoice.status.in_(OPEN_STATUSES),
                    Invoice.invoice_date <= on)
                    .order_by(Invoice.due_date, Invoice.invoice_date, Invoice.number)):
                if left <= 0:
                    break
                part = min(left, inv.balance_minor)
                if part > 0:
                    plan.append((inv, part))
                    left -= part
        pay = _pay_in_session(s, ctx, books, c.id, amount_minor, method, on, reference,
                              _text(notes, 1000, "Notes", "notes"), plan)
        return _payment_view(s, books, pay)


def get_payment(ctx: Context, payment: uuid.UUID | str) -> PaymentView:
    """A payment (the receipt) by id or receipt number."""
    ctx.require("sales.view")
    with ctx.db.read() as s:
        books = _books(s)
        pay = _find_payment(s, payment)
        return _payment_view(s, books, pay)


def _find_payment(s: Session, ref: uuid.UUID | str) -> Payment:
    pay = None
    if isinstance(ref, uuid.UUID):
        pay = s.get(Payment, ref)
    elif isinstance(ref, str):
        pay = s.scalars(select(Payment).where(Payment.number == ref.strip().upper())).first()
    if pay is None:
        raise NotFound(f"There is no payment {ref}.", field="payment")
    return pay


def apply_credit(ctx: Context, customer: uuid.UUID | str, invoice: uuid.UUID | str,
                 amount: Decimal | str | int | Money | None = None, *,
                 on: date | None = None) -> CreditApplied:
    """Settle an invoice from the customer's credit (all of it that fits, by default)."""
    ctx.require("sales.payment.record")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = _books(s)
        cur = books.currency
        c = customers.find_customer(s, customer)
        inv = _find_invoice(s, invoice)
        if inv.customer_id != c.id:
            raise ValidationError(f"{_label(inv)} belongs to another customer.",
                                  field="invoice")
        if inv.status not in ISSUED_STATUSES:
            raise ValidationError(f"{_label(inv)} is not issued yet.", field="invoice")
        if inv.balance_minor <= 0:
            raise ValidationError(f"{_label(inv)} is already paid.", field="invoice")
        available = customers.balance_in_session(s, c.id, cur).credit.minor
        if available <= 0:
            raise ValidationError(f"{c.name} has no credit to use.", field="amount")
        want = min(available, inv.balance_minor) if amount is None else \
            _minor(_amount(amount, cur, "amount", "The amount"), cur)
        if want <= 0:
            raise ValidationError("The amount must be more than zero.", field="amount")
        if want > available:
            raise ValidationError(f"{c.name} has only {_fmt(available, cur, books)} of credit.",
                                  field="amount")
        if want > inv.balance_minor:
            raise ValidationError(f"{_label(inv)} has only {_fmt(inv.balance_minor, cur, books)} "
                                  "left to pay.", field="amount")
        day = _date(on if on is not None else ctx.today(), "on", "The date")
        entry = post_in_session(
            s, ctx, day,
            [LineInput(_account(s, books, "customer_credit"), debit=_m(want, cur),
                       party_type="customer", party_id=c.id),
             LineInput(_account(s, books, "receivables"), credit=_m(want, cur),
                       party_type="customer", party_id=c.id)],
            f"Customer credit applied to {inv.number}", source_type="credit_applied",
            source_id=inv.id, audit_action=None)
        credit = CustomerCredit(customer_id=c.id, credit_date=day, currency=cur,
                                amount_minor=-want, source_type="applied", source_id=inv.id,
                                memo=f"Applied to {inv.number}", journal_entry_id=entry.id)
        s.add(credit)
        s.flush()
        s.add(PaymentAllocation(invoice_id=inv.id, payment_id=None, credit_id=credit.id,
                                allocation_date=day, currency=cur, amount_minor=want))
        inv.paid_minor += want
        _settle(inv)
        s.flush()
        audit.record(s, ctx, "sales.credit_applied", entity="invoice", entity_id=inv.id,
                     details={"number": inv.number, "amount_minor": want})
        return CreditApplied(c.id, inv.number or "", _m(want, cur),
                             _m(available - want, cur), inv.status)


# --------------------------------------------------------------------------- credit notes


def issue_credit_note(ctx: Context, invoice: uuid.UUID | str,
                      lines: Sequence[CreditLineIn] | None = None, *,
                      note_date: date | None = None, reason: str | None = None,
                      restock: bool = True) -> CreditNoteView:
    """Credit an issued invoice, in full (no `lines`) or some quantities of some lines.

    Reverses, in one transaction: the stock (returned at the cost it left at,
    when `restock`), the sales and output tax per component (debited to sales
    returns and the tax accounts), the round-off, and the receivable; the part
    beyond what the customer still owes is kept as customer credit.
    """
    ctx.require("sales.credit_note.issue")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = _books(s)
        inv = _find_invoice(s, invoice)
        if inv.status not in ISSUED_STATUSES:
            raise ValidationError(f"{_label(inv)} is not issued; change or delete the draft "
                                  "instead.", field="invoice")
        cur = inv.currency
        on = _date(note_date if note_date is not None else ctx.today(), "note_date",
                   "The credit note date")
        if on < inv.invoice_date:
            raise ValidationError(f"A credit note cannot be dated before the invoice "
                                  f"({inv.invoice_date.isoformat()}).", field="note_date")
        inv_lines = _live_lines(s, inv.id)
        by_no = {ln.line_no: ln for ln in inv_lines}
        done = _credited_qty(s, [ln.id for ln in inv_lines])
        wanted: dict[int, Decimal] = {}
        if lines is None:
            for ln in inv_lines:
                left = ln.quantity - done.get(ln.id, Decimal(0))
                if left > 0:
                    wanted[ln.line_no] = left
            if not wanted:
                raise ValidationError(f"Invoice {inv.number} is already credited in full.",
                                      field="invoice")
        else:
            if not lines:
                raise ValidationError("Choose at least one line to credit.", field="lines")
            for cl in lines:
                ln = by_no.get(cl.line_no)
                if ln is None:
                    raise ValidationError(f"Invoice {inv.number} has no line {cl.line_no}.",
                                          field="lines")
                if cl.line_no in wanted:
                    raise ValidationError(f"Line {cl.line_no} is listed twice.",
                                          field="lines")
                qty = parse_quantity(cl.quantity)
                if qty <= 0:
                    raise ValidationError(f"Line {cl.line_no}: the quantity to credit must be "
                                          "greater than zero.", field="quantity")
                left = ln.quantity - done.get(ln.id, Decimal(0))
                if qty > left:
                    raise ValidationError(
                        f"Line {cl.line_no} ({ln.description}): only {left.normalize():f} "
                        f"{ln.unit or ''} can still be credited.".replace("  ", " "),
                        field="quantity")
                wanted[cl.line_no] = qty
        mode = Rounding(inv.rounding_mode)
        number = next_number(s, CREDIT_NOTE_SERIES[0], CREDIT_NOTE_SERIES[1], ctx.device.code,
                             on, books.company.fiscal_year_start_month)
        cn_id = new_id()  # the note is append-only: written once, after everything is known
        products = {p.id: p for p in s.scalars(select(Product).where(
            Product.id.in_([by_no[n].product_id for n in wanted if by_no[n].product_id])))}
        wh = s.get(Warehouse, inv.warehouse_id) if inv.warehouse_id else None
        groups: dict[tuple[str, str | None], list[int]] = {}  # (rate, component): taxable, tax
        meta = {(r.rate_code, r.component_code): r for r in s.scalars(
            select(DocumentTax).where(DocumentTax.doc_type == "invoice",
                                      DocumentTax.doc_id == inv.id))}
        taxable_total = tax_total = cost_total = 0
        cn_lines: list[CreditNoteLine] = []
        stock = None
        for no, (line_no, qty) in enumerate(sorted(wanted.items()), start=1):
            ln = by_no[line_no]
            before = done.get(ln.id, Decimal(0))

            def share(total_minor: int, _ln: InvoiceLine = ln, _before: Decimal = before,
                      _qty: Decimal = qty) -> int:
                return _minor(share_of(_m(total_minor, cur).amount, _before, _qty,
                                       _ln.quantity, cur, mode), cur)

            taxable = share(ln.taxable_minor)
            comps = [[code, name, rate, share(amount)]
                     for code, name, rate, amount in json.loads(ln.tax_detail or "[]")]
            tax = sum(c[3] for c in comps)
            cost = share(ln.cost_minor) if ln.cost_minor else 0
            cn_lines.append(CreditNoteLine(
                credit_note_id=cn_id, invoice_line_id=ln.id, line_no=no,
                product_id=ln.product_id, description=ln.description, hsn_sac=ln.hsn_sac,
                quantity=qty, unit=ln.unit, currency=cur, unit_price_minor=ln.unit_price_minor,
                tax_rate_code=ln.tax_rate_code, tax_rate_pct=ln.tax_rate_pct,
                taxable_minor=taxable, tax_minor=tax, total_minor=taxable + tax,
                tax_detail=json.dumps(comps, separators=(",", ":")), cost_minor=cost))
            taxable_total += taxable
            tax_total += tax
            if not comps:
                g = groups.setdefault((ln.tax_rate_code or "", None), [0, 0])
                g[0] += taxable
            for code, _name, _rate, amount in comps:
                g = groups.setdefault((ln.tax_rate_code or "", code), [0, 0])
                g[0] += taxable
                g[1] += amount
            product = products.get(ln.product_id) if ln.product_id else None
            if restock and product is not None and not product.is_service and ln.cost_minor:
                if wh is None:
                    raise ValidationError("The invoice's warehouse no longer exists.",
                                          field="warehouse")
                stock = stock or stock_books(s)
                move_in_session(s, ctx, kind="receipt", product=product, warehouse=wh,
                                quantity=qty, move_date=on, value_minor=cost,
                                source_type="credit_note", source_id=cn_id, reference=number,
                                source_line_id=ln.id, reason="Returned by the customer",
                                books=stock)
                cost_total += cost
        # round-off: the note that completes the invoice takes what is left of it
        completes = all(ln.quantity - done.get(ln.id, Decimal(0)) - wanted.get(ln.line_no, 0)
                        == 0 for ln in inv_lines)
        before_total = taxable_total + tax_total
        round_off = 0
        if inv.round_off:
            if completes:
                prev = s.scalar(select(func.coalesce(func.sum(CreditNote.round_off_minor), 0))
                                .where(CreditNote.invoice_id == inv.id)) or 0
                round_off = inv.round_off_minor - int(prev)
            else:
                whole = _m(before_total, cur).amount.quantize(Decimal(1),
                                                              rounding=mode.decimal_mode)
                round_off = _minor(whole, cur) - before_total
        total = before_total + round_off
        to_invoice = max(0, min(total, inv.balance_minor))
        to_credit = total - to_invoice
        # the reversing entry
        entry_lines: list[LineInput] = []
        if taxable_total:
            entry_lines.append(LineInput(_account(s, books, "sales_returns"),
                                         debit=_m(taxable_total, cur),
                                         memo="Sales returned or credited"))
        tax_by_account: dict[uuid.UUID, int] = defaultdict(int)
        for key, (_t, g_tax) in groups.items():
            m = meta.get(key)
            if g_tax:
                acc = m.account_id if m and m.account_id else _account(s, books, "tax_payable")
                tax_by_account[acc] += g_tax
        entry_lines += [LineInput(acc, debit=_m(v, cur), memo="Output tax reversed")
                        for acc, v in tax_by_account.items() if v]
        if round_off > 0:
            entry_lines.append(LineInput(_account(s, books, "round_off"),
                                         debit=_m(round_off, cur), memo="Round-off"))
        elif round_off < 0:
            entry_lines.append(LineInput(_account(s, books, "round_off"),
                                         credit=_m(-round_off, cur), memo="Round-off"))
        if to_invoice:
            entry_lines.append(LineInput(_account(s, books, "receivables"),
                                         credit=_m(to_invoice, cur), party_type="customer",
                                         party_id=inv.customer_id))
        if to_credit:
            entry_lines.append(LineInput(_account(s, books, "customer_credit"),
                                         credit=_m(to_credit, cur),
                                         memo="Kept as customer credit", party_type="customer",
                                         party_id=inv.customer_id))
        if cost_total:
            entry_lines.append(LineInput(_account(s, books, "inventory"),
                                         debit=_m(cost_total, cur), memo="Goods returned"))
            entry_lines.append(LineInput(_account(s, books, "cogs"), credit=_m(cost_total, cur),
                                         memo="Goods returned"))
        entry_id = None
        if len(entry_lines) >= 2:
            entry_id = post_in_session(
                s, ctx, on, entry_lines, f"Credit note {number} against {inv.number}",
                number=number, source_type="credit_note", source_id=cn_id,
                audit_action=None).id
        cn = CreditNote(id=cn_id, number=number, invoice_id=inv.id,
                        customer_id=inv.customer_id, note_date=on, currency=cur,
                        reason=_text(reason, 1000, "The reason", "reason"), restock=restock,
                        taxable_minor=taxable_total, tax_minor=tax_total,
                        round_off_minor=round_off, total_minor=total,
                        to_invoice_minor=to_invoice, to_credit_minor=to_credit,
                        cost_minor=cost_total, journal_entry_id=entry_id,
                        device_code=ctx.device.code)
        s.add(cn)
        s.flush()
        s.add_all(cn_lines)
        for (rate_code, comp_code), (g_taxable, g_tax) in groups.items():
            m = meta.get((rate_code, comp_code))
            s.add(DocumentTax(
                doc_type="credit_note", doc_id=cn_id, doc_date=on, currency=cur,
                rate_code=rate_code, rate_name=m.rate_name if m else rate_code,
                kind=m.kind if m else "exempt", rate_pct=m.rate_pct if m else Decimal(0),
                component_code=comp_code, component_name=m.component_name if m else None,
                component_rate_pct=m.component_rate_pct if m else Decimal(0),
                taxable_minor=g_taxable, tax_minor=g_tax,
                account_id=m.account_id if m else None))
        if to_credit:
            s.add(CustomerCredit(customer_id=inv.customer_id, credit_date=on, currency=cur,
                                 amount_minor=to_credit, source_type="credit_note",
                                 source_id=cn_id, memo=f"Credit note {number}",
                                 journal_entry_id=entry_id))
        inv.credited_minor += to_invoice
        _settle(inv)
        s.flush()
        audit.record(s, ctx, "sales.credit_note_issued", entity="credit_note", entity_id=cn_id,
                     details={"number": number, "invoice": inv.number,
                              "total_minor": total, "lines": len(wanted),
                              "restock": restock})
        return _credit_note_view(s, cn)


def _find_credit_note(s: Session, ref: uuid.UUID | str) -> CreditNote:
    cn = None
    if isinstance(ref, uuid.UUID):
        cn = s.get(CreditNote, ref)
    elif isinstance(ref, str):
        cn = s.scalars(select(CreditNote).where(CreditNote.number == ref.strip().upper())
                       ).first()
    if cn is None:
        raise NotFound(f"There is no credit note {ref}.", field="credit_note")
    return cn


def _credit_note_view(s: Session, cn: CreditNote) -> CreditNoteView:
    cur = cn.currency
    inv = s.get(Invoice, cn.invoice_id)
    c = s.get(Customer, cn.customer_id)
    assert inv is not None and c is not None
    inv_line_nos = dict(s.execute(select(InvoiceLine.id, InvoiceLine.line_no).where(
        InvoiceLine.invoice_id == inv.id)).all())
    rows = [CreditNoteLineRow(
        line_no=ln.line_no, invoice_line_no=inv_line_nos.get(ln.invoice_line_id, 0),
        description=ln.description, hsn_sac=ln.hsn_sac, quantity=ln.quantity, unit=ln.unit,
        unit_price=_m(ln.unit_price_minor, cur), tax_rate=ln.tax_rate_pct,
        taxable=_m(ln.taxable_minor, cur), tax=_m(ln.tax_minor, cur),
        total=_m(ln.total_minor, cur), components=_components(ln.tax_detail, cur))
        for ln in s.scalars(select(CreditNoteLine).where(CreditNoteLine.credit_note_id == cn.id)
                            .order_by(CreditNoteLine.line_no))]
    je = s.scalar(select(JournalEntry.number).where(JournalEntry.id == cn.journal_entry_id)) \
        if cn.journal_entry_id else None
    return CreditNoteView(
        id=cn.id, number=cn.number, invoice_id=inv.id, invoice_number=inv.number or "",
        invoice_date=inv.invoice_date, customer_id=c.id, customer_name=c.name,
        bill_to_name=inv.bill_to_name, bill_to_address=inv.bill_to_address,
        bill_to_gstin=inv.bill_to_gstin, place_of_supply=inv.place_of_supply,
        place_of_supply_code=inv.place_of_supply_code, note_date=cn.note_date, currency=cur,
        prices_include_tax=inv.prices_include_tax, reason=cn.reason, restocked=cn.restock,
        lines=rows,
        tax_lines=_tax_lines(s, "credit_note", cn.id, cur), taxable=_m(cn.taxable_minor, cur),
        tax=_m(cn.tax_minor, cur), round_off=_m(cn.round_off_minor, cur),
        total=_m(cn.total_minor, cur), to_invoice=_m(cn.to_invoice_minor, cur),
        to_credit=_m(cn.to_credit_minor, cur), journal_entry_number=je)


def get_credit_note(ctx: Context, credit_note: uuid.UUID | str) -> CreditNoteView:
    ctx.require("sales.view")
    with ctx.db.read() as s:
        return _credit_note_view(s, _find_credit_note(s, credit_note))


# --------------------------------------------------------------------------- reports


def _range(date_from: object, date_to: object) -> tuple[date, date]:
    start = _date(date_from, "date_from", "The start date")
    end = _date(date_to, "date_to", "The end date")
    if start > end:
        raise ValidationError("The start date is after the end date.", field="date_from")
    return start, end


def _account_moves(s: Session, customer_id: uuid.UUID, start: date | None,
                   end: date) -> list[tuple[date, str, str, str, int, int, uuid.UUID]]:
    """(date, kind, number, description, debit, credit, id) of a customer's documents."""
    rows: list[tuple[date, str, str, str, int, int, uuid.UUID]] = []

    def dated(col: Any) -> list[Any]:
        cond = [col <= end]
        if start is not None:
            cond.append(col >= start)
        return cond

    for r in s.execute(select(Invoice.id, Invoice.number, Invoice.invoice_date,
                              Invoice.total_minor)
                       .where(Invoice.customer_id == customer_id,
                              Invoice.status.in_(ISSUED_STATUSES),
                              *dated(Invoice.invoice_date))):
        rows.append((r.invoice_date, "invoice", r.number, "Invoice", r.total_minor, 0, r.id))
    for r in s.execute(select(Payment.id, Payment.number, Payment.payment_date, Payment.method,
                              Payment.reference, Payment.amount_minor)
                       .where(Payment.customer_id == customer_id,
                              *dated(Payment.payment_date))):
        desc = f"Payment, {METHOD_LABELS.get(r.method, r.method)}" + (
            f" {r.reference}" if r.reference else "")
        rows.append((r.payment_date, "payment", r.number, desc, 0, r.amount_minor, r.id))
    for r in s.execute(select(CreditNote.id, CreditNote.number, CreditNote.note_date,
                              CreditNote.total_minor, Invoice.number.label("inv"))
                       .join(Invoice, Invoice.id == CreditNote.invoice_id)
                       .where(CreditNote.customer_id == customer_id,
                              *dated(CreditNote.note_date))):
        rows.append((r.note_date, "credit_note", r.number, f"Credit note against {r.inv}", 0,
                     r.total_minor, r.id))
    rows.sort(key=lambda x: (x[0], {"invoice": 0, "credit_note": 1, "payment": 2}[x[1]],
                             x[6]))
    return rows


def customer_statement(ctx: Context, customer: uuid.UUID | str, date_from: date,
                       date_to: date) -> Statement:
    """Invoices, payments and credit notes of a period with a running balance."""
    ctx.require("sales.reports")
    start, end = _range(date_from, date_to)
    with ctx.db.read() as s:
        c = customers.find_customer(s, customer)
        cur = c.currency
        opening = sum(d - cr for _, _, _, _, d, cr, _ in
                      _account_moves(s, c.id, None, start - timedelta(days=1)))
        running = opening
        rows = []
        for day, kind, number, desc, debit, credit, _id in _account_moves(s, c.id, start, end):
            running += debit - credit
            rows.append(StatementRow(day, kind, number, desc, _m(debit, cur), _m(credit, cur),
                                     _m(running, cur)))
        return Statement(c.id, c.code, c.name, start, end, _m(opening, cur), rows,
                         _m(running, cur))


def _bucket(days: int) -> int:
    if days <= 0:
        return 0
    if days <= 30:
        return 1
    if days <= 60:
        return 2
    if days <= 90:
        return 3
    return 4


def ageing(ctx: Context, as_of: date, *, by_invoice: bool = False) -> Ageing:
    """What customers owe at the end of `as_of`, by days past the due date.

    Payments, credits and credit notes dated after `as_of` are not counted, so
    an ageing of an earlier date reads as it did then.
    """
    ctx.require("sales.reports")
    as_of = _date(as_of, "as_of", "The date")
    with ctx.db.read() as s:
        books = _books(s)
        cur = books.currency
        # settlements dated after as_of: few for a recent date, read whole
        later: dict[uuid.UUID, int] = defaultdict(int)
        for iid, amt in s.execute(
                select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_minor))
                .where(PaymentAllocation.allocation_date > as_of)
                .group_by(PaymentAllocation.invoice_id)):
            later[iid] += int(amt)
        for iid, amt in s.execute(
                select(CreditNote.invoice_id, func.sum(CreditNote.to_invoice_minor))
                .where(CreditNote.note_date > as_of).group_by(CreditNote.invoice_id)):
            later[iid] += int(amt)
        cols = (Invoice.id, Invoice.number, Invoice.customer_id, Invoice.due_date,
                Invoice.invoice_date, Invoice.total_minor, Invoice.paid_minor,
                Invoice.credited_minor, Invoice.status)
        # open invoices: one range of the covering index ix_invoice_open
        inv_rows = list(s.execute(select(*cols).where(Invoice.status.in_(OPEN_STATUSES),
                                                      Invoice.invoice_date <= as_of)))
        # ...and those paid since as_of, which were still open then
        seen = {r.id for r in inv_rows}
        paid_since = [i for i in later if i not in seen]
        for k in range(0, len(paid_since), 500):
            inv_rows += s.execute(select(*cols).where(Invoice.id.in_(paid_since[k:k + 500]),
                                                      Invoice.status.in_(ISSUED_STATUSES),
                                                      Invoice.invoice_date <= as_of)).all()
        per_customer: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0] * 5)
        detail: list[tuple[uuid.UUID, str, date, int, int]] = []
        for r in inv_rows:
            balance = r.total_minor - r.paid_minor - r.credited_minor + later.get(r.id, 0)
            if balance <= 0:
                continue
            due = r.due_date or r.invoice_date
            days = (as_of - due).days
            b = _bucket(days)
            per_customer[r.customer_id][b] += balance
            detail.append((r.customer_id, r.number, due, days, balance))
        names = {r.id: (r.code, r.name) for r in s.execute(
            select(Customer.id, Customer.code, Customer.name)
            .where(Customer.id.in_(list(per_customer))))}

        def row(cid: uuid.UUID, buckets: list[int], **extra: Any) -> AgeingRow:
            code, name = names[cid]
            return AgeingRow(cid, code, name, *(_m(x, cur) for x in buckets),
                             _m(sum(buckets), cur), **extra)

        if by_invoice:
            rows = []
            for cid, number, due, days, balance in sorted(
                    detail, key=lambda d: (names[d[0]][1].casefold(), d[2], d[1])):
                buckets = [0] * 5
                buckets[_bucket(days)] = balance
                rows.append(row(cid, buckets, invoice_number=number, due_date=due,
                                days_overdue=max(days, 0)))
        else:
            rows = [row(cid, b) for cid, b in sorted(per_customer.items(),
                                                     key=lambda kv: names[kv[0]][1].casefold())]
        totals = [sum(b[i] for b in per_customer.values()) for i in range(5)]
        total_row = AgeingRow(uuid.UUID(int=0), "", "Total", *(_m(x, cur) for x in totals),
                              _m(sum(totals), cur))
        return Ageing(as_of, rows, total_row)


def sales_register(ctx: Context, date_from: date, date_to: date) -> SalesRegister:
    """Every invoice and credit note of a period (credit notes negative), with tax per
    component."""
    ctx.require("sales.reports")
    start, end = _range(date_from, date_to)
    with ctx.db.read() as s:
        books = _books(s)
        cur = books.currency
        comp: dict[tuple[str, uuid.UUID], dict[str, int]] = defaultdict(dict)
        for doc_type, doc_id, code, tax in s.execute(
                select(DocumentTax.doc_type, DocumentTax.doc_id, DocumentTax.component_code,
                       func.sum(DocumentTax.tax_minor))
                .where(DocumentTax.doc_date >= start, DocumentTax.doc_date <= end,
                       DocumentTax.component_code.is_not(None))
                .group_by(DocumentTax.doc_type, DocumentTax.doc_id,
                          DocumentTax.component_code)):
            comp[(doc_type, doc_id)][code] = int(tax)
        codes = sorted({k for d in comp.values() for k in d})
        cust = {r.id: r for r in s.execute(select(Customer.id, Customer.code, Customer.name))}
        rows: list[RegisterRow] = []
        for r in s.execute(select(Invoice.id, Invoice.number, Invoice.invoice_date,
                                  Invoice.customer_id, Invoice.bill_to_gstin,
                                  Invoice.place_of_supply, Invoice.taxable_minor,
                                  Invoice.tax_minor, Invoice.round_off_minor,
                                  Invoice.total_minor, Invoice.status)
                           .where(Invoice.invoice_date >= start, Invoice.invoice_date <= end,
                                  Invoice.status.in_(ISSUED_STATUSES))
                           .order_by(Invoice.invoice_date, Invoice.number)):
            c = cust[r.customer_id]
            rows.append(RegisterRow(
                "invoice", r.number, r.invoice_date, c.code, c.name, r.bill_to_gstin,
                r.place_of_supply, _m(r.taxable_minor, cur), _m(r.tax_minor, cur),
                _m(r.round_off_minor, cur), _m(r.total_minor, cur),
                {k: _m(v, cur) for k, v in comp[("invoice", r.id)].items()}, r.status))
        for r in s.execute(select(CreditNote.id, CreditNote.number, CreditNote.note_date,
                                  CreditNote.customer_id, Invoice.bill_to_gstin,
                                  Invoice.place_of_supply, CreditNote.taxable_minor,
                                  CreditNote.tax_minor, CreditNote.round_off_minor,
                                  CreditNote.total_minor)
                           .join(Invoice, Invoice.id == CreditNote.invoice_id)
                           .where(CreditNote.note_date >= start, CreditNote.note_date <= end)
                           .order_by(CreditNote.note_date, CreditNote.number)):
            c = cust[r.customer_id]
            rows.append(RegisterRow(
                "credit_note", r.number, r.note_date, c.code, c.name, r.bill_to_gstin,
                r.place_of_supply, _m(-r.taxable_minor, cur), _m(-r.tax_minor, cur),
                _m(-r.round_off_minor, cur), _m(-r.total_minor, cur),
                {k: _m(-v, cur) for k, v in comp[("credit_note", r.id)].items()}, "issued"))
        rows.sort(key=lambda x: (x.date, x.doc_type != "invoice", x.number))
        return SalesRegister(start, end, rows, codes,
                             Money.from_minor(sum(x.taxable.minor for x in rows), cur),
                             Money.from_minor(sum(x.tax.minor for x in rows), cur),
                             Money.from_minor(sum(x.total.minor for x in rows), cur))


def tax_summary(ctx: Context, date_from: date, date_to: date) -> TaxSummary:
    """Output tax of a period per rate and component: invoiced, credited, net."""
    ctx.require("sales.reports")
    start, end = _range(date_from, date_to)
    with ctx.db.read() as s:
        books = _books(s)
        cur = books.currency
        D = DocumentTax
        found = s.execute(
            select(D.doc_type, D.rate_code, D.component_code, func.sum(D.taxable_minor),
                   func.sum(D.tax_minor))
            .where(D.doc_date >= start, D.doc_date <= end)
            .group_by(D.doc_type, D.rate_code, D.component_code)).all()
        keys = {(r[1], r[2]) for r in found}
        # names and rates as last used (a rate may have been renamed since)
        meta: dict[tuple[str, str | None], Any] = {}
        for k in keys:
            meta[k] = s.execute(select(D.rate_name, D.kind, D.rate_pct, D.component_name,
                                       D.component_rate_pct)
                                .where(D.rate_code == k[0], D.component_code.is_(None)
                                       if k[1] is None else D.component_code == k[1],
                                       D.doc_date >= start, D.doc_date <= end)
                                .order_by(D.doc_date.desc()).limit(1)).first()
        amounts: dict[tuple[str, str | None], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for doc_type, rate_code, comp_code, taxable, tax in found:
            a = amounts[(rate_code, comp_code)]
            if doc_type == "invoice":
                a[0] += int(taxable)
                a[1] += int(tax)
            else:
                a[2] += int(taxable)
                a[3] += int(tax)
        rows = []
        by_comp: dict[str, int] = defaultdict(int)
        for key, (inv_taxable, inv_tax, cn_taxable, cn_tax) in amounts.items():
            m = meta[key]
            rows.append(TaxSummaryRow(
                key[0], m.rate_name, m.kind, m.rate_pct, key[1], m.component_name,
                m.component_rate_pct, _m(inv_taxable, cur), _m(inv_tax, cur),
                _m(cn_taxable, cur), _m(cn_tax, cur), _m(inv_taxable - cn_taxable, cur),
                _m(inv_tax - cn_tax, cur)))
            if key[1]:
                by_comp[key[1]] += inv_tax - cn_tax
        rows.sort(key=lambda r: (r.rate, r.rate_code, r.component_code or ""))
        return TaxSummary(start, end, rows, _m(sum(r.net_tax.minor for r in rows), cur),
                          {k: _m(v, cur) for k, v in sorted(by_comp.items())})


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (Decimal, int, date, uuid.UUID)):
        return str(value)
    text = str(value)
    # A name typed as "=HYPERLINK(...)" must not run as a formula in a spreadsheet.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv(header: Sequence[str], rows: Iterator[Sequence[object]] | list[Sequence[object]]
         ) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        w.writerow([_cell(v) for v in r])
    return out.getvalue()


INVOICE_LIST_COLUMNS = ("number", "status", "invoice_date", "due_date", "customer_code",
                        "customer_name", "taxable", "tax", "total", "balance")


def invoice_list_csv(rows: Iterator[InvoiceListRow] | list[InvoiceListRow]) -> str:
    return _csv(INVOICE_LIST_COLUMNS, ([getattr(r, c) for c in INVOICE_LIST_COLUMNS]
                                       for r in rows))


def statement_csv(st: Statement) -> str:
    rows: list[Sequence[object]] = [(st.date_from, "opening", "", "Opening balance", "", "",
                                     st.opening_balance)]
    rows += [(r.date, r.kind, r.number, r.description, r.debit, r.credit, r.balance)
             for r in st.rows]
    rows.append((st.date_to, "closing", "", "Closing balance", "", "", st.closing_balance))
    return _csv(("date", "kind", "number", "description", "debit", "credit", "balance"), rows)


def ageing_csv(report: Ageing) -> str:
    cols = ("customer_code", "customer_name", "invoice_number", "due_date", "days_overdue",
            "current", "d1_30", "d31_60", "d61_90", "d90_plus", "total")
    header = ("customer_code", "customer_name", "invoice_number", "due_date", "days_overdue",
              *AGEING_BUCKETS, "total")
    rows = [[getattr(r, c) for c in cols] for r in [*report.rows, report.totals]]
    return _csv(header, rows)


def sales_register_csv(report: SalesRegister) -> str:
    header = ("doc_type", "number", "date", "customer_code", "customer_name", "gstin",
              "place_of_supply", "taxable", *[c.lower() for c in report.components], "tax",
              "round_off", "total", "status")
    zero = Money.zero(report.taxable.currency)
    rows = [(r.doc_type, r.number, r.date, r.customer_code, r.customer_name, r.gstin,
             r.place_of_supply, r.taxable,
             *[r.tax_by_component.get(c, zero) for c in report.components], r.tax, r.round_off,
             r.total, r.status) for r in report.rows]
    rows.append(("total", "", "", "", "", "", "", report.taxable,
                 *["" for _ in report.components], report.tax, "", report.total, ""))
    return _csv(header, rows)


def tax_summary_csv(report: TaxSummary) -> str:
    header = ("rate_code", "rate_name", "rate", "component", "component_rate",
              "invoiced_taxable", "invoiced_tax", "credited_taxable", "credited_tax",
              "net_taxable", "net_tax")
    rows: list[Sequence[object]] = [
        (r.rate_code, r.rate_name, r.rate, r.component_code, r.component_rate,
         r.invoiced_taxable, r.invoiced_tax, r.credited_taxable, r.credited_tax,
         r.net_taxable, r.net_tax) for r in report.rows]
    rows.append(("total", "", "", "", "", "", "", "", "", "", report.net_tax))
    return _csv(header, rows)
