"""The dashboard's figures: today at a glance, as plain data.

Sales are read from the ledger, where every issued invoice has posted its
entry: the net credit (credits minus debits) to the income accounts with the
system keys `sales`, `service_income` and `sales_returns`, summed per day and
per month over the covering index `ix_journal_line_account_date`. Receivables
are the balance of the `receivables` account. Where the sales, inventory and
payroll modules answer, they add what only they know: the overdue part of
receivables, the products below their reorder level, payroll approved or
posted but not yet paid, and the best-selling products.

The dashboard is shown to everyone, so it asks for no single permission:
each figure is computed only when the user holds a permission that would let
them see it elsewhere (`sales.view`, `ledger.view`, `inventory.view`,
`hr.payroll.totals` ...), and is None otherwise; asking anyway would audit a
permission denial every time the clerk opens the app. An empty company gives
zeros and empty series, never an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money
from erp_desktop.models.company import Company
from erp_desktop.models.ledger import Account, JournalLine
from erp_desktop.services.context import Context

log = logging.getLogger(__name__)

SALES_KEYS = ("sales", "service_income", "sales_returns")
RECEIVABLES_KEY = "receivables"
SALES_READERS = ("sales.view", "ledger.view", "reports.financial", "sales.reports")
MONTHS = 12
TOP_PRODUCTS = 5


@dataclass(frozen=True)
class MonthSales:
    month: date  # the first day of the month
    amount: Money


@dataclass(frozen=True)
class ProductSales:
    name: str
    amount: Money  # taxable value sold in the last 12 months
    quantity: Decimal


@dataclass(frozen=True)
class Dashboard:
    as_of: date
    currency: str
    sales_today: Money | None  # None: this user may not see it
    sales_month: Money | None
    receivables: Money | None  # everything customers owe
    receivables_overdue: Money | None  # past the due date (from the sales module)
    low_stock_count: int | None
    payroll_due: Money | None  # approved or posted, not yet paid
    payroll_note: str
    monthly_sales: list[MonthSales] = field(default_factory=list)  # oldest first
    top_products: list[ProductSales] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # why a figure is missing


def _month_start(day: date, back: int = 0) -> date:
    index = day.year * 12 + (day.month - 1) - back
    return date(index // 12, index % 12 + 1, 1)


def _accounts(s: Session, keys: tuple[str, ...]) -> list[object]:
    return list(s.scalars(select(Account.id).where(Account.system_key.in_(keys))))


def _net_credit(s: Session, ids: list[object], start: date, end: date) -> int:
    if not ids:
        return 0
    total = s.scalar(select(func.coalesce(
        func.sum(JournalLine.credit_minor - JournalLine.debit_minor), 0))
        .where(JournalLine.account_id.in_(ids), JournalLine.entry_date >= start,
               JournalLine.entry_date <= end))
    return int(total or 0)


def _monthly(s: Session, ids: list[object], first: date, today: date,
             currency: str) -> list[MonthSales]:
    by_month: dict[str, int] = {}
    if ids:
        month = func.substr(JournalLine.entry_date, 1, 7)  # dates are stored as YYYY-MM-DD
        for key, amount in s.execute(
                select(month, func.sum(JournalLine.credit_minor - JournalLine.debit_minor))
                .where(JournalLine.account_id.in_(ids), JournalLine.entry_date >= first,
                       JournalLine.entry_date <= today).group_by(month)):
            by_month[str(key)] = int(amount or 0)
    out = []
    for back in range(MONTHS - 1, -1, -1):
        start = _month_start(today, back)
        out.append(MonthSales(start, Money.from_minor(by_month.get(start.strftime("%Y-%m"), 0),
                                                      currency)))
    return out


def _overdue(s: Session, today: date, currency: str) -> Money | None:
    """Overdue receivables, from the sales tables when they exist."""
    try:
        from erp_desktop.models.sales import Invoice
    except ImportError:  # the sales module is not part of this build
        return None
    open_statuses = ("issued", "partially_paid")
    overdue = s.scalar(select(func.coalesce(func.sum(
        Invoice.total_minor - Invoice.paid_minor - Invoice.credited_minor), 0))
        .where(Invoice.status.in_(open_statuses), Invoice.due_date < today))
    return Money.from_minor(int(overdue or 0), currency)


def _top_products(s: Session, today: date, first: date, currency: str) -> list[ProductSales]:
    """The best sellers by sales before tax since `first` (every invoice line read)."""
    try:
        from erp_desktop.models.sales import Invoice, InvoiceLine
    except ImportError:
        return []
    issued = ("issued", "partially_paid", "paid")
    rows = s.execute(
        select(func.max(InvoiceLine.description), func.sum(InvoiceLine.taxable_minor),
               func.sum(InvoiceLine.quantity))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(Invoice.status.in_(issued), Invoice.invoice_date >= first,
               Invoice.invoice_date <= today, InvoiceLine.deleted_at.is_(None))
        .group_by(func.coalesce(InvoiceLine.product_id, InvoiceLine.description))
        .order_by(func.sum(InvoiceLine.taxable_minor).desc()).limit(TOP_PRODUCTS)).all()
    return [ProductSales(str(name or ""), Money.from_minor(int(amount or 0), currency),
                         _quantity(qty)) for name, amount, qty in rows]


def top_products(ctx: Context) -> list[ProductSales]:
    """The best-selling products of the last twelve months, for a role that sees sales.

    Apart from `dashboard` because it reads every invoice line of the year (seconds
    on a file with a million lines): the desktop shows the cards first and the
    chart when this arrives. Empty for a role without `sales.view` (no denial is
    audited: the dashboard is everyone's first page).
    """
    if not ctx.actor.can("sales.view"):
        return []
    today = ctx.today()
    with ctx.db.read() as s:
        currency = s.scalar(select(Company.base_currency)) or "INR"
        return _top_products(s, today, _month_start(today, MONTHS - 1), currency)


def _quantity(value: object) -> Decimal:
    # SUM keeps the column's type, so quantities usually arrive as Decimals already.
    if isinstance(value, Decimal):
        return value
    from erp_desktop.domain.quantity import qty_from_int

    return qty_from_int(int(value or 0))  # type: ignore[call-overload]


def _low_stock(ctx: Context) -> int | None:
    try:
        from erp_desktop.services import inventory
    except ImportError:
        return None
    return len(inventory.low_stock(ctx))


def _payroll(ctx: Context, currency: str) -> tuple[Money | None, str]:
    try:
        from erp_desktop.services import payroll
    except ImportError:
        return None, ""
    runs = payroll.list_runs(ctx)
    due = [r for r in runs if r.status in ("approved", "posted")]
    total = Money.zero(currency)
    for run in due:
        total = total + run.net
    if due:
        labels = ", ".join(r.period_label for r in due[:2])
        return total, f"{labels}: not yet paid"
    latest = runs[0] if runs else None
    note = f"{latest.period_label}: {latest.status}" if latest is not None else "No payroll yet"
    return total, note


def dashboard(ctx: Context, *, with_top_products: bool = True) -> Dashboard:
    """Today's figures for the logged-in user (see module docstring); without the
    top products when `with_top_products` is false (see `top_products`)."""
    today = ctx.today()
    can = ctx.actor.can
    may_sales = any(can(p) for p in SALES_READERS)
    notes: list[str] = []
    with ctx.db.read() as s:
        currency = s.scalar(select(Company.base_currency)) or "INR"
        first = _month_start(today, MONTHS - 1)
        sales_today = sales_month = receivables = overdue = None
        monthly: list[MonthSales] = []
        top: list[ProductSales] = []
        if may_sales:
            ids = _accounts(s, SALES_KEYS)
            sales_today = Money.from_minor(_net_credit(s, ids, today, today), currency)
            sales_month = Money.from_minor(
                _net_credit(s, ids, _month_start(today), today), currency)
            monthly = _monthly(s, ids, first, today, currency)
            recv = _accounts(s, (RECEIVABLES_KEY,))
            receivables = Money.from_minor(-_net_credit(s, recv, date.min, today), currency)
            if can("sales.view"):
                overdue = _overdue(s, today, currency)
                if with_top_products:
                    top = _top_products(s, today, first, currency)
        else:
            notes.append("Sales figures need a role that may see sales or the ledger.")
    low = None
    if can("inventory.view"):
        try:
            low = _low_stock(ctx)
        except UserError as exc:  # e.g. the inventory tables are not ready
            notes.append(exc.message)
    payroll_due, payroll_note = None, ""
    if can("hr.payroll.view") or can("hr.payroll.totals"):
        try:
            payroll_due, payroll_note = _payroll(ctx, currency)
        except UserError as exc:
            notes.append(exc.message)
    return Dashboard(as_of=today, currency=currency, sales_today=sales_today,
                     sales_month=sales_month, receivables=receivables,
                     receivables_overdue=overdue, low_stock_count=low,
                     payroll_due=payroll_due, payroll_note=payroll_note,
                     monthly_sales=monthly, top_products=top, notes=notes)
