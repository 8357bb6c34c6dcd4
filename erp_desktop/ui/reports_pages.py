"""Reports: the books, sales, stock and payroll reports in one place.

`ReportsPage` lists on the left the reports the user's role allows
(`REPORTS`, each a `ReportSpec` naming its permission), the chosen report's
parameters on top (a period with presets, an as-of date, an account, a
customer, a payroll month) and its result in a table. A report is computed
and formatted on the worker (`ShownReport`: cells already formatted with the
company's locale, money right-aligned, totals rows bold); the UI thread only
shows it. Reports are aggregates; the two that can be long (an account's
general ledger, stock on hand) come a page at a time with Show more.

Export CSV writes exactly the text of the area service's own `*_csv`
function (the whole report, every page), Export XLSX appears where a service
offers a spreadsheet (the payroll register); both go through the native save
dialog. Print previews the table as a PDF (`ui.pdf_preview`).
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QCoreApplication,
    QDate,
    QEvent,
    QStandardPaths,
    QStringListModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.domain.numbering import fiscal_year_start
from erp_desktop.ui.icons import icon
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import (
    PageEnv,
    RowsModel,
    heading,
    hint,
    message_style,
    page_frame,
    rows_table,
)
from erp_desktop.ui.worker import Task, run_in_background

if TYPE_CHECKING:
    from erp_desktop.services.context import Context

GL_PAGE = 200  # general ledger lines per page
STOCK_PAGE = 500  # stock on hand rows per page


def _tr(text: str) -> str:
    return QCoreApplication.translate("reports", text)


def _noop(text: str) -> str:
    return text


# ============================================================ the parameters


PERIODS = (("this_month", _noop("This month")), ("last_month", _noop("Last month")),
           ("this_fy", _noop("This fiscal year")), ("last_fy", _noop("Last fiscal year")),
           ("custom", _noop("Custom dates")))


def period_dates(key: str, today: date, fy_start_month: int) -> tuple[date, date]:
    """The first and last day of a preset period around `today`."""
    first = today.replace(day=1)
    if key == "this_month":
        nxt = (first + timedelta(days=32)).replace(day=1)
        return first, nxt - timedelta(days=1)
    if key == "last_month":
        end = first - timedelta(days=1)
        return end.replace(day=1), end
    start = fiscal_year_start(today, fy_start_month)
    if key == "last_fy":
        start = fiscal_year_start(start - timedelta(days=1), fy_start_month)
    end = fiscal_year_start(start.replace(year=start.year + 1) + timedelta(days=1),
                            fy_start_month) - timedelta(days=1)
    return start, end


@dataclass(frozen=True)
class ReportParams:
    """What a report is asked for (only the fields its spec names are used)."""

    date_from: date
    date_to: date
    as_of: date
    account: str | None = None
    customer: uuid.UUID | str | None = None
    month: str | None = None
    by_invoice: bool = False
    locale: str = "en_IN"


@dataclass
class ShownReport:
    """A computed report as the table shows it: formatted cells, bold total rows."""

    columns: list[tuple[str, bool]]  # (heading, right-aligned)
    rows: list[tuple[str, ...]]
    bold: set[int]
    summary: str
    raw: Any  # the service's report (the CSV export writes it)
    subtitle: str = ""  # the period or date, for the printout
    cursor: Any = None  # where the next page starts; None once complete
    landscape: bool = False
    stretch: int = 1  # the column that takes the spare width
    pages: list[Any] = field(default_factory=list)


# ============================================================ formatting


def _money(value: Money | None, locale: str, *, blank_zero: bool = True) -> str:
    if value is None or (blank_zero and not value):
        return ""
    return format_money(value, locale)


def _date(value: date | None, locale: str) -> str:
    from erp_desktop.services.listing import format_date

    return format_date(value, locale) if value else ""


def _qty(value: Any, locale: str) -> str:
    from erp_desktop.services.listing import format_number

    return "" if value is None else format_number(value, locale)


def _range_text(p: ReportParams) -> str:
    return f"{_date(p.date_from, p.locale)} – {_date(p.date_to, p.locale)}"


def _as_of_text(day: date, locale: str) -> str:
    return _tr("As of {date}").format(date=_date(day, locale))


def _wrap(title: str, width: int = 12) -> str:
    """A long column heading on two lines (split at the space nearest its middle)."""
    if len(title) <= width or " " not in title or "\n" in title:
        return title
    middle = len(title) // 2
    cut = min((i for i, ch in enumerate(title) if ch == " "), key=lambda i: abs(i - middle))
    return title[:cut] + "\n" + title[cut + 1:]


class _Rows:
    """Collects table rows and remembers which are bold."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: list[tuple[str, ...]] = []
        self.bold: set[int] = set()

    def add(self, *cells: str, bold: bool = False) -> None:
        padded = tuple(cells) + ("",) * (self.width - len(cells))
        if bold:
            self.bold.add(len(self.rows))
        self.rows.append(padded)


# ============================================================ the reports


def _profit_and_loss(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import ledger

    r = ledger.profit_and_loss(ctx, p.date_from, p.date_to)
    out = _Rows(4)
    for title, rows, total_title, total in (
            (_tr("Income"), r.income, _tr("Total income"), r.total_income),
            (_tr("Expenses"), r.expenses, _tr("Total expenses"), r.total_expense)):
        out.add("", title, bold=True)
        for x in rows:
            out.add(x.code or "", x.name, x.group or "", _money(x.amount, p.locale))
        out.add("", total_title, "", _money(total, p.locale, blank_zero=False), bold=True)
    label = _tr("Net profit") if r.net_profit.minor >= 0 else _tr("Net loss")
    out.add("", label, "", _money(abs(r.net_profit), p.locale, blank_zero=False), bold=True)
    return ShownReport([(_tr("Code"), False), (_tr("Account"), False), (_tr("Group"), False),
                        (_tr("Amount"), True)], out.rows, out.bold,
                       _tr("{label}: {amount}").format(
                           label=label, amount=format_money(abs(r.net_profit), p.locale)),
                       r, _range_text(p))


def _balance_sheet(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import ledger

    r = ledger.balance_sheet(ctx, p.as_of)
    out = _Rows(4)
    for title, rows, total_title, total in (
            (_tr("Assets"), r.assets, _tr("Total assets"), r.total_assets),
            (_tr("Liabilities"), r.liabilities, _tr("Total liabilities"), r.total_liabilities),
            (_tr("Equity"), r.equity, _tr("Total equity"), r.total_equity)):
        out.add("", title, bold=True)
        for x in rows:
            name = _tr(x.name) if x.code is None else x.name  # computed lines are ours
            out.add(x.code or "", name, x.group or "", _money(x.amount, p.locale))
        out.add("", total_title, "", _money(total, p.locale, blank_zero=False), bold=True)
    out.add("", _tr("Total liabilities and equity"), "",
            _money(r.total_liabilities_and_equity, p.locale, blank_zero=False), bold=True)
    balanced = r.total_assets == r.total_liabilities_and_equity
    summary = (_tr("Assets equal liabilities and equity.") if balanced else
               _tr("Assets and liabilities plus equity differ: check the ledger."))
    return ShownReport([(_tr("Code"), False), (_tr("Account"), False), (_tr("Group"), False),
                        (_tr("Amount"), True)], out.rows, out.bold, summary, r,
                       _as_of_text(p.as_of, p.locale))


def _trial_balance(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import ledger

    r = ledger.trial_balance(ctx, p.as_of)
    out = _Rows(5)
    for x in r.rows:
        out.add(x.code, x.name, _tr(x.type.capitalize()), _money(x.debit, p.locale),
                _money(x.credit, p.locale))
    out.add("", _tr("Total"), "", _money(r.total_debit, p.locale, blank_zero=False),
            _money(r.total_credit, p.locale, blank_zero=False), bold=True)
    if not r.rows:
        summary = _tr("No postings up to this date yet.")
    elif r.total_debit == r.total_credit:
        summary = _tr("{n} accounts · balanced").format(n=len(r.rows))
    else:  # the ledger guarantees this never happens; say so if it does
        summary = _tr("Debits and credits differ: check the ledger.")
    return ShownReport([(_tr("Code"), False), (_tr("Account"), False), (_tr("Type"), False),
                        (_tr("Debit"), True), (_tr("Credit"), True)], out.rows, out.bold,
                       summary, r, _as_of_text(p.as_of, p.locale))


def _gl_rows(page: Any, p: ReportParams, out: _Rows) -> None:
    for x in page.rows:
        out.add(_date(x.date, p.locale), x.entry_number, x.memo or "",
                _money(x.debit, p.locale), _money(x.credit, p.locale),
                _money(x.running_balance, p.locale, blank_zero=False))


def _gl_finish(shown: ShownReport, page: Any, p: ReportParams, out: _Rows) -> ShownReport:
    if page.next_cursor is None:
        out.add("", "", _tr("Closing balance"), "", "",
                _money(page.closing_balance, p.locale, blank_zero=False), bold=True)
    lines = sum(len(x.rows) for x in shown.pages)
    shown.rows, shown.bold, shown.cursor = out.rows, out.bold, page.next_cursor
    shown.summary = (_tr("{code} · {name}: {n} lines, more to show").format(
        code=page.account_code, name=page.account_name, n=lines) if page.next_cursor else
        _tr("{code} · {name}: {n} lines · closing balance {amount}").format(
            code=page.account_code, name=page.account_name, n=lines,
            amount=format_money(page.closing_balance, p.locale)))
    return shown


def _general_ledger(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.domain.errors import ValidationError
    from erp_desktop.services import ledger

    if not p.account:
        raise ValidationError(_tr("Choose an account."), field="account")
    page = ledger.general_ledger(ctx, p.account, p.date_from, p.date_to, limit=GL_PAGE)
    out = _Rows(6)
    out.add(_date(p.date_from, p.locale), "", _tr("Opening balance"), "", "",
            _money(page.opening_balance, p.locale, blank_zero=False), bold=True)
    _gl_rows(page, p, out)
    shown = ShownReport([(_tr("Date"), False), (_tr("Entry"), False), (_tr("Memo"), False),
                         (_tr("Debit"), True), (_tr("Credit"), True), (_tr("Balance"), True)],
                        [], set(), "", page,
                        f"{page.account_code} · {page.account_name} · {_range_text(p)}",
                        stretch=2, pages=[page])
    return _gl_finish(shown, page, p, out)


def _general_ledger_more(ctx: Context, p: ReportParams, shown: ShownReport) -> ShownReport:
    from erp_desktop.services import ledger

    page = ledger.general_ledger(ctx, p.account or "", p.date_from, p.date_to,
                                 after=shown.cursor, limit=GL_PAGE)
    out = _Rows(6)
    out.rows, out.bold = list(shown.rows), set(shown.bold)
    _gl_rows(page, p, out)
    more = replace(shown, pages=[*shown.pages, page])
    return _gl_finish(more, page, p, out)


def _general_ledger_csv(ctx: Context, p: ReportParams, _shown: ShownReport) -> str:
    from erp_desktop.services import ledger

    return ledger.general_ledger_csv(ledger.iter_general_ledger(
        ctx, p.account or "", p.date_from, p.date_to))


def _sales_register(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import sales

    r = sales.sales_register(ctx, p.date_from, p.date_to)
    kinds = {"invoice": _tr("Invoice"), "credit_note": _tr("Credit note")}
    width = 8 + len(r.components)
    out = _Rows(width)
    for x in r.rows:
        out.add(_date(x.date, p.locale), x.number, x.customer_name,
                _money(x.taxable, p.locale), _money(x.tax, p.locale),
                _money(x.total, p.locale, blank_zero=False),
                *[_money(x.tax_by_component.get(c), p.locale) for c in r.components],
                x.gstin or "", kinds.get(x.doc_type, x.doc_type))
    out.add("", _tr("Total"), "", _money(r.taxable, p.locale, blank_zero=False),
            _money(r.tax, p.locale, blank_zero=False),
            _money(r.total, p.locale, blank_zero=False), bold=True)
    # The figures first, so that they show without scrolling; the components after.
    columns = [(_tr("Date"), False), (_tr("Number"), False), (_tr("Customer"), False),
               (_tr("Taxable"), True), (_tr("Tax"), True), (_tr("Total"), True),
               *[(c, True) for c in r.components], (_tr("GSTIN / VAT id"), False),
               (_tr("Document"), False)]
    invoices = sum(1 for x in r.rows if x.doc_type == "invoice")
    summary = _tr("{i} invoices, {c} credit notes · total {total}").format(
        i=invoices, c=len(r.rows) - invoices, total=format_money(r.total, p.locale))
    return ShownReport(columns, out.rows, out.bold, summary, r, _range_text(p),
                       landscape=True, stretch=2)


def _tax_summary(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import sales

    r = sales.tax_summary(ctx, p.date_from, p.date_to)
    out = _Rows(9)
    for x in r.rows:
        pct = x.component_rate if x.component_code else x.rate
        out.add(x.rate_name, x.component_name or x.component_code or "",
                _qty(pct, p.locale) + " %", _money(x.invoiced_taxable, p.locale),
                _money(x.invoiced_tax, p.locale), _money(x.credited_taxable, p.locale),
                _money(x.credited_tax, p.locale), _money(x.net_taxable, p.locale),
                _money(x.net_tax, p.locale, blank_zero=False))
    for code, amount in r.tax_by_component.items():
        out.add(_tr("Net {component}").format(component=code), "", "", "", "", "", "", "",
                _money(amount, p.locale, blank_zero=False), bold=True)
    out.add(_tr("Total net tax"), "", "", "", "", "", "", "",
            _money(r.net_tax, p.locale, blank_zero=False), bold=True)
    # two-line headings keep the nine columns within a laptop's screen
    columns = [(_tr("Tax rate"), False), (_tr("Component"), False), (_tr("Rate"), True),
               (_tr("Invoiced\ntaxable"), True), (_tr("Invoiced\ntax"), True),
               (_tr("Credited\ntaxable"), True), (_tr("Credited\ntax"), True),
               (_tr("Net\ntaxable"), True), (_tr("Net tax"), True)]
    return ShownReport(columns, out.rows, out.bold, _tr("Net output tax {amount}").format(
        amount=format_money(r.net_tax, p.locale)), r, _range_text(p), landscape=True,
        stretch=0)


def _ageing(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import sales

    r = sales.ageing(ctx, p.as_of, by_invoice=p.by_invoice)
    buckets = [(_tr("Not yet\ndue"), True), (_tr("1–30\ndays"), True),
               (_tr("31–60\ndays"), True), (_tr("61–90\ndays"), True),
               (_tr("Over 90\ndays"), True), (_tr("Total"), True)]

    def amounts(x: Any, blank: bool = True) -> list[str]:
        return [_money(v, p.locale, blank_zero=blank) for v in (
            x.current, x.d1_30, x.d31_60, x.d61_90, x.d90_plus, x.total)]

    if p.by_invoice:
        out = _Rows(10)
        for x in r.rows:
            out.add(x.customer_name, x.invoice_number or "", _date(x.due_date, p.locale),
                    str(x.days_overdue) if x.days_overdue else "", *amounts(x))
        out.add(_tr("Total"), "", "", "", *amounts(r.totals, False), bold=True)
        columns = [(_tr("Customer"), False), (_tr("Invoice"), False), (_tr("Due"), False),
                   (_tr("Days\noverdue"), True), *buckets]
        stretch = 0
    else:
        out = _Rows(8)
        for x in r.rows:
            out.add(x.customer_code, x.customer_name, *amounts(x))
        out.add("", _tr("Total"), *amounts(r.totals, False), bold=True)
        columns = [(_tr("Code"), False), (_tr("Customer"), False), *buckets]
        stretch = 1
    overdue = r.totals.total - r.totals.current
    summary = _tr("{n} customers owe {total}; {overdue} of it is overdue.").format(
        n=len({x.customer_id for x in r.rows}), total=format_money(r.totals.total, p.locale),
        overdue=format_money(overdue, p.locale))
    return ShownReport(columns, out.rows, out.bold, summary, r, _as_of_text(p.as_of, p.locale),
                       landscape=True, stretch=stretch)


def _statement(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.domain.errors import ValidationError
    from erp_desktop.services import sales

    if not p.customer:
        raise ValidationError(_tr("Choose a customer."), field="customer")
    r = sales.customer_statement(ctx, p.customer, p.date_from, p.date_to)
    kinds = {"invoice": _tr("Invoice"), "payment": _tr("Payment"),
             "credit_note": _tr("Credit note")}
    out = _Rows(7)
    out.add(_date(r.date_from, p.locale), "", "", _tr("Opening balance"), "", "",
            _money(r.opening_balance, p.locale, blank_zero=False), bold=True)
    for x in r.rows:
        out.add(_date(x.date, p.locale), kinds.get(x.kind, x.kind), x.number, x.description,
                _money(x.debit, p.locale), _money(x.credit, p.locale),
                _money(x.balance, p.locale, blank_zero=False))
    out.add(_date(r.date_to, p.locale), "", "", _tr("Closing balance"), "", "",
            _money(r.closing_balance, p.locale, blank_zero=False), bold=True)
    closing = r.closing_balance
    if closing.minor > 0:
        summary = _tr("{name} owes {amount}.")
    elif closing.minor < 0:
        summary = _tr("{name} is in credit by {amount}.")
    else:
        summary = _tr("{name} owes nothing.")
    return ShownReport([(_tr("Date"), False), (_tr("Type"), False), (_tr("Number"), False),
                        (_tr("Description"), False), (_tr("Debit"), True), (_tr("Credit"), True),
                        (_tr("Balance"), True)], out.rows, out.bold,
                       summary.format(name=r.customer_name,
                                      amount=format_money(abs(closing), p.locale)),
                       r, f"{r.customer_code} · {r.customer_name} · {_range_text(p)}", stretch=3)


def _stock_rows(page: Any, p: ReportParams, out: _Rows) -> None:
    for x in page.rows:
        out.add(x.sku, x.name, x.warehouse_code, _qty(x.quantity, p.locale), x.unit,
                _money(x.average_cost, p.locale), _money(x.value, p.locale, blank_zero=False))


_STOCK_COLUMNS = [(_noop("SKU"), False), (_noop("Product"), False), (_noop("Warehouse"), False),
                  (_noop("Quantity"), True), (_noop("Unit"), False),
                  (_noop("Average cost"), True), (_noop("Value"), True)]


def _stock_summary(n: int, more: bool) -> str:
    return (_tr("{n} rows shown, more to show").format(n=n) if more else
            _tr("{n} products and warehouses with stock").format(n=n))


def _stock_on_hand(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import inventory

    page = inventory.stock_on_hand(ctx, limit=STOCK_PAGE)
    out = _Rows(7)
    _stock_rows(page, p, out)
    return ShownReport([(_tr(t), r) for t, r in _STOCK_COLUMNS], out.rows, out.bold,
                       _stock_summary(len(out.rows), page.next_cursor is not None), page,
                       _as_of_text(ctx.today(), p.locale), cursor=page.next_cursor,
                       pages=[page])


def _stock_on_hand_more(ctx: Context, p: ReportParams, shown: ShownReport) -> ShownReport:
    from erp_desktop.services import inventory

    page = inventory.stock_on_hand(ctx, after=shown.cursor, limit=STOCK_PAGE)
    out = _Rows(7)
    out.rows, out.bold = list(shown.rows), set(shown.bold)
    _stock_rows(page, p, out)
    return replace(shown, rows=out.rows, cursor=page.next_cursor, pages=[*shown.pages, page],
                   summary=_stock_summary(len(out.rows), page.next_cursor is not None))


def _stock_on_hand_csv(ctx: Context, _p: ReportParams, _shown: ShownReport) -> str:
    from erp_desktop.services import inventory

    return inventory.rows_csv(inventory.iter_stock_on_hand(ctx),
                              inventory.STOCK_ON_HAND_COLUMNS)


def _low_stock(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import inventory

    rows = inventory.low_stock(ctx)
    out = _Rows(8)
    for x in rows:
        out.add(x.sku, x.name, x.unit, _qty(x.on_hand, p.locale), _qty(x.reorder_level, p.locale),
                _qty(x.on_order, p.locale) if x.on_order else "",
                _qty(x.suggested_qty, p.locale) if x.suggested_qty else "",
                _qty(x.reorder_qty, p.locale))
    to_order = sum(1 for x in rows if x.suggested_qty > 0)
    summary = (_tr("{n} products below their reorder level; order {k} of them now.").format(
        n=len(rows), k=to_order) if rows else _tr("No product is below its reorder level."))
    return ShownReport([(_tr("SKU"), False), (_tr("Product"), False), (_tr("Unit"), False),
                        (_tr("On hand"), True), (_tr("Reorder level"), True),
                        (_tr("On order"), True), (_tr("Order now"), True),
                        (_tr("Reorder quantity"), True)], out.rows, out.bold, summary, rows,
                       _as_of_text(ctx.today(), p.locale))


def _valuation(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.services import inventory

    r = inventory.valuation(ctx, p.as_of)
    out = _Rows(7)
    for x in r.rows:
        out.add(x.sku, x.name, x.warehouse_code, _qty(x.quantity, p.locale), x.unit,
                _money(x.average_cost, p.locale), _money(x.value, p.locale, blank_zero=False))
    out.add("", _tr("Total"), "", "", "", "", _money(r.total_value, p.locale, blank_zero=False),
            bold=True)
    return ShownReport([(_tr(t), r_) for t, r_ in _STOCK_COLUMNS], out.rows, out.bold,
                       _tr("Stock worth {amount}").format(
                           amount=format_money(r.total_value, p.locale)), r,
                       _as_of_text(p.as_of, p.locale))


def _payroll_register(ctx: Context, p: ReportParams) -> ShownReport:
    from erp_desktop.domain.errors import ValidationError
    from erp_desktop.services import payroll

    if not p.month:
        raise ValidationError(_tr("There is no payroll month to show yet."), field="month")
    r = payroll.payroll_register(ctx, p.month)
    earnings = [("earning", code, name) for code, name in r.earning_columns]
    deductions = [("deduction", code, name) for code, name in r.deduction_columns]
    width = 4 + len(earnings) + len(deductions) + 3
    out = _Rows(width)
    currency = r.totals.gross.currency
    sums: dict[tuple[str, str], Money] = {}
    for x in r.rows:
        by_code = {(ln.kind, ln.code): ln.amount for ln in x.lines}
        for key, amount in by_code.items():
            sums[key] = sums.get(key, Money.zero(currency)) + amount
        out.add(x.employee_code, x.employee_name, x.department or "",
                _qty(x.days_paid, p.locale), _money(x.gross, p.locale, blank_zero=False),
                _money(x.deductions, p.locale, blank_zero=False),
                _money(x.net, p.locale, blank_zero=False),
                *[_money(by_code.get((k, c)), p.locale) for k, c, _n in earnings],
                *[_money(by_code.get((k, c)), p.locale) for k, c, _n in deductions])
    out.add("", _tr("Total"), "", "", _money(r.totals.gross, p.locale, blank_zero=False),
            _money(r.totals.deductions, p.locale, blank_zero=False),
            _money(r.totals.net, p.locale, blank_zero=False),
            *[_money(sums.get((k, c)), p.locale) for k, c, _n in earnings],
            *[_money(sums.get((k, c)), p.locale) for k, c, _n in deductions], bold=True)
    # The totals first, so that they show without scrolling; a column per component after.
    columns = [(_tr("Code"), False), (_tr("Employee"), False), (_tr("Department"), False),
               (_tr("Days\npaid"), True), (_tr("Gross"), True), (_tr("Deductions"), True),
               (_tr("Net pay"), True), *[(_wrap(n), True) for _k, _c, n in earnings],
               *[(_wrap(n), True) for _k, _c, n in deductions]]
    summary = _tr("{period} · {status} · {n} employees · net pay {net}").format(
        period=r.totals.period_label, status=_tr(payroll.STATUS_LABELS.get(r.status, r.status)),
        n=len(r.rows),
        net=format_money(r.totals.net, p.locale))
    return ShownReport(columns, out.rows, out.bold, summary, r, r.totals.period_label,
                       landscape=True)


def _csv_of(module: str, fn_name: str) -> Callable[[Context, ReportParams, ShownReport], str]:
    """A CSV export that hands the shown report to `services.<module>.<fn_name>`
    (imported when first used, like every service this module calls)."""

    def export(_ctx: Context, _p: ReportParams, shown: ShownReport) -> str:
        import importlib

        service = importlib.import_module(f"erp_desktop.services.{module}")
        text: str = getattr(service, fn_name)(shown.raw)
        return text

    return export


def _low_stock_csv(_ctx: Context, _p: ReportParams, shown: ShownReport) -> str:
    from erp_desktop.services import inventory

    return inventory.rows_csv(shown.raw, inventory.LOW_STOCK_COLUMNS)


def _payroll_csv(ctx: Context, p: ReportParams, _shown: ShownReport) -> str:
    from erp_desktop.services import payroll

    return payroll.register_csv(ctx, p.month or "")


def _payroll_xlsx(ctx: Context, p: ReportParams, _shown: ShownReport) -> bytes:
    from erp_desktop.services import payroll

    return payroll.register_xlsx(ctx, p.month or "")


# ============================================================ the catalogue

Compute = Callable[["Context", ReportParams], ShownReport]
More = Callable[["Context", ReportParams, ShownReport], ShownReport]
Export = Callable[["Context", ReportParams, ShownReport], Any]


@dataclass(frozen=True)
class ReportSpec:
    key: str
    title: str  # English; translated when shown
    group: str
    permission: str  # the one the report's service asks for
    params: frozenset[str]  # of: period, as_of, account, customer, month, by_invoice
    description: str
    compute: Compute
    csv: Export
    file_stem: str
    more: More | None = None
    xlsx: Export | None = None


def _spec(key: str, title: str, group: str, permission: str, params: str, description: str,
          compute: Compute, csv: Export, **kw: Any) -> ReportSpec:
    return ReportSpec(key, title, group, permission, frozenset(params.split()), description,
                      compute, csv, key.replace("_", "-"), **kw)


ACCOUNTS, SALES, STOCK, PAYROLL = (_noop("Accounts"), _noop("Sales"), _noop("Stock"),
                                   _noop("Payroll"))

REPORTS: tuple[ReportSpec, ...] = (
    _spec("profit_and_loss", _noop("Profit and loss"), ACCOUNTS, "reports.financial", "period",
          _noop("Income and expenses of the period, and the profit or loss they leave."),
          _profit_and_loss, _csv_of("ledger", "profit_and_loss_csv")),
    _spec("balance_sheet", _noop("Balance sheet"), ACCOUNTS, "reports.financial", "as_of",
          _noop("What the business owns and owes at the end of a day, and the owners' equity."),
          _balance_sheet, _csv_of("ledger", "balance_sheet_csv")),
    _spec("trial_balance", _noop("Trial balance"), ACCOUNTS, "reports.financial", "as_of",
          _noop("Every account's balance up to the date, as a debit or a credit. The two "
                "totals are always equal."),
          _trial_balance, _csv_of("ledger", "trial_balance_csv")),
    _spec("general_ledger", _noop("General ledger"), ACCOUNTS, "ledger.view", "account period",
          _noop("Every line posted to one account in the period, with the running balance."),
          _general_ledger, _general_ledger_csv, more=_general_ledger_more),
    _spec("sales_register", _noop("Sales register"), SALES, "sales.reports", "period",
          _noop("Every invoice and credit note of the period (credit notes negative), with "
                "the tax of each component."),
          _sales_register, _csv_of("sales", "sales_register_csv")),
    _spec("tax_summary", _noop("Tax summary"), SALES, "sales.reports", "period",
          _noop("Output tax of the period per rate and component: invoiced, credited, net."),
          _tax_summary, _csv_of("sales", "tax_summary_csv")),
    _spec("ageing", _noop("Receivables ageing"), SALES, "sales.reports", "as_of by_invoice",
          _noop("What customers owe at the end of the day, by days past the due date."),
          _ageing, _csv_of("sales", "ageing_csv")),
    _spec("customer_statement", _noop("Customer statement"), SALES, "sales.reports",
          "customer period",
          _noop("A customer's invoices, payments and credit notes with the running balance."),
          _statement, _csv_of("sales", "statement_csv")),
    _spec("stock_on_hand", _noop("Stock on hand"), STOCK, "inventory.view", "",
          _noop("Quantity and value of every product in each warehouse now."),
          _stock_on_hand, _stock_on_hand_csv, more=_stock_on_hand_more),
    _spec("low_stock", _noop("Low stock"), STOCK, "inventory.view", "",
          _noop("Products below their reorder level, what is on order and what to order."),
          _low_stock, _low_stock_csv),
    _spec("valuation", _noop("Stock valuation"), STOCK, "inventory.view", "as_of",
          _noop("Quantity and value of stock at the end of a day, at moving average cost."),
          _valuation, _csv_of("inventory", "valuation_csv")),
    _spec("payroll_register", _noop("Payroll register"), PAYROLL, "hr.payroll.view", "month",
          _noop("Every employee's pay for the month, one column per component. Viewing it is "
                "recorded in the audit log."),
          _payroll_register, _payroll_csv, xlsx=_payroll_xlsx),
)


def available_reports(can: Callable[[str], bool]) -> list[ReportSpec]:
    """The reports a user with these permissions may run, in list order."""
    return [r for r in REPORTS if can(r.permission)]


def report_html(shown: ShownReport, title: str, company: str) -> str:
    """The shown table as a small HTML document for `html_to_pdf`."""
    head = "".join(f"<th align='{'right' if right else 'left'}'>"
                   f"{html.escape(t).replace(chr(10), '<br>')}</th>" for t, right in shown.columns)
    body = []
    for i, row in enumerate(shown.rows):
        cells = []
        for (_t, right), text in zip(shown.columns, row, strict=False):
            value = html.escape(text)
            if i in shown.bold:
                value = f"<b>{value}</b>"
            cells.append(f"<td align='{'right' if right else 'left'}'>{value}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<h2>{html.escape(company)}</h2><h3>{html.escape(title)}</h3>"
            f"<p>{html.escape(shown.subtitle)}</p>"
            "<table width='100%' cellspacing='0' cellpadding='3' border='0'>"
            f"<tr>{head}</tr>{''.join(body)}</table>")


def _export(spec: ReportSpec, fmt: str, ctx: Context, params: ReportParams, shown: ShownReport,
            path: Path) -> Path:
    """On the worker: the service's CSV text (or XLSX bytes) written to `path`."""
    from erp_desktop.ui.pdf_preview import write_file

    make = spec.xlsx if fmt == "xlsx" else spec.csv
    if make is None:
        raise ValueError(f"{spec.key} has no {fmt} export")
    data = make(ctx, params, shown)
    write_file(path, data.encode("utf-8") if isinstance(data, str) else data)
    return path


# ============================================================ widgets


class CustomerPicker(QLineEdit):
    """A customer by code or name; suggestions come from the customer list as you type."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.setObjectName("customer")
        self.setPlaceholderText(self.tr("Customer code or name…"))
        self.setClearButtonEnabled(True)
        self.choices: dict[str, uuid.UUID] = {}
        self.task: Task | None = None
        self.suggestions = QStringListModel(self)
        completer = QCompleter(self.suggestions, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.setCompleter(completer)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(250)
        self.timer.timeout.connect(self._search)
        if env.can("sales.view"):
            self.textEdited.connect(lambda _t: self.timer.start())

    def value(self) -> uuid.UUID | str | None:
        text = self.text().strip()
        if not text:
            return None
        return self.choices.get(text, text)

    def choose(self, customer_id: uuid.UUID, label: str) -> None:
        self.choices[label] = customer_id
        self.setText(label)

    def _search(self) -> None:
        text = self.text().strip()
        if not text or text in self.choices:
            return
        from erp_desktop.services import customers

        if self.task is not None:
            self.task.cancel()
        self.task = run_in_background(customers.list_customers, self.env.ctx, text, limit=20,
                                      include_inactive=True, parent=self, name="find customer",
                                      on_done=self._found, on_error=lambda _e: None)

    def _found(self, page: Any) -> None:
        self.task = None
        labels = []
        for c in page.rows:
            label = f"{c.name} ({c.code})"
            self.choices[label] = c.id
            labels.append(label)
        self.suggestions.setStringList(labels)
        if labels and self.hasFocus():
            self.completer().complete()


# ============================================================ the page


class ReportsPage(CommandPage):
    """The Reports area (see module docstring)."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.ctx = env.ctx
        self.locale = env.locale
        self.specs = available_reports(env.can)
        self.spec: ReportSpec | None = None
        self.shown: ShownReport | None = None
        self.shown_params: ReportParams | None = None
        self.task: Task | None = None
        self.export_task: Task | None = None
        self.fy_start_month = 4 if env.locale.endswith("_IN") else 1
        self._started = False
        self._accounts_loaded = False
        self._months_loaded = False
        self._filling = False
        layout = page_frame(self, self.tr("Reports"), self.tr(
            "Choose a report on the left; it is worked out as you change its dates."))

        self.list = QListWidget()
        self.list.setObjectName("report_list")
        self.list.setMinimumWidth(170)
        self.list.setMaximumWidth(240)
        self.list.setSpacing(1)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        group = None
        for spec in self.specs:
            if spec.group != group:
                group = spec.group
                head = QListWidgetItem(_tr(group).upper())
                head.setFlags(Qt.ItemFlag.NoItemFlags)
                font = QFont(self.list.font())
                font.setBold(True)
                font.setPointSizeF(font.pointSizeF() * 0.85)
                head.setFont(font)
                self.list.addItem(head)
            item = QListWidgetItem(_tr(spec.title))
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            item.setToolTip(_tr(spec.description))
            self.list.addItem(item)
        self.list.currentItemChanged.connect(lambda item, _old: self._report_changed(item))

        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(12, 0, 0, 0)
        box.setSpacing(8)
        self.title = heading("", 1.2)
        self.title.setObjectName("report_title")
        self.description = hint()
        self.description.setObjectName("report_description")
        box.addWidget(self.title)
        box.addWidget(self.description)
        box.addLayout(self._params_bar())
        box.addLayout(self._actions_bar())
        self.model = RowsModel([], self)
        self._columns: list[tuple[str, bool]] = []
        self._widths: list[int] = []
        self._stretch = 0
        self.table = rows_table(self.model)
        self.table.setObjectName("report_table")
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.viewport().installEventFilter(self)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        box.addWidget(self.table, 1)
        more = QHBoxLayout()
        self.more_button = QPushButton(icon("next"), self.tr("Show &more"))
        self.more_button.setObjectName("show_more")
        self.more_button.setToolTip(self.tr("Add the next page of lines"))
        self.more_button.clicked.connect(self.load_more)
        self.more_button.setVisible(False)
        more.addWidget(self.more_button)
        more.addStretch(1)
        box.addLayout(more)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([185, 1000])
        layout.addWidget(splitter, 1)

        self.rerun = QTimer(self)
        self.rerun.setSingleShot(True)
        self.rerun.setInterval(300)  # typing a date: work it out once the typing pauses
        self.rerun.timeout.connect(self.run_report)
        if not self.specs:
            self.title.setText(self.tr("No reports"))
            self.description.setText(self.tr("Your role does not include any report."))
            for w in (self.refresh_button, self.csv_button, self.xlsx_button, self.print_button):
                w.setEnabled(False)
        self._set_period("this_month")

    # ---- building

    def _label(self, text: str, buddy: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(buddy)
        return label

    def _date_edit(self, name: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setObjectName(name)
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")  # unambiguous in every locale
        edit.setDate(self.ctx.today())
        edit.dateChanged.connect(lambda _d: self._param_changed())
        return edit

    def _params_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.period = QComboBox()
        self.period.setObjectName("period")
        for key, text in PERIODS:
            self.period.addItem(_tr(text), key)
        self.period.setCurrentIndex(0)
        self.period.currentIndexChanged.connect(
            lambda _i: self._set_period(str(self.period.currentData())))
        self.date_from = self._date_edit("date_from")
        self.date_to = self._date_edit("date_to")
        self.as_of = self._date_edit("as_of")
        self.account = QComboBox()
        self.account.setObjectName("account")
        self.account.setMinimumContentsLength(24)
        self.account.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.account.currentIndexChanged.connect(lambda _i: self._param_changed())
        self.customer = CustomerPicker(self.env)
        self.customer.setMinimumWidth(240)
        self.customer.returnPressed.connect(self.run_report)
        self.customer.completer().activated.connect(lambda _t: self.run_report())
        self.month = QComboBox()
        self.month.setObjectName("month")
        self.month.setMinimumContentsLength(18)
        self.month.currentIndexChanged.connect(lambda _i: self._param_changed())
        self.by_invoice = QCheckBox(self.tr("One line per &invoice"))
        self.by_invoice.setObjectName("by_invoice")
        self.by_invoice.toggled.connect(lambda _b: self._param_changed())
        self.param_widgets: dict[str, list[QWidget]] = {
            "period": [self._label(self.tr("&Period:"), self.period), self.period,
                       self._label(self.tr("Fro&m:"), self.date_from), self.date_from,
                       self._label(self.tr("&To:"), self.date_to), self.date_to],
            "as_of": [self._label(self.tr("&As of:"), self.as_of), self.as_of],
            "account": [self._label(self.tr("Acc&ount:"), self.account), self.account],
            "customer": [self._label(self.tr("C&ustomer:"), self.customer), self.customer],
            "month": [self._label(self.tr("&Month:"), self.month), self.month],
            "by_invoice": [self.by_invoice],
        }
        for key in ("account", "customer", "month", "period", "as_of", "by_invoice"):
            for w in self.param_widgets[key]:
                bar.addWidget(w)
                w.setVisible(False)
        bar.addStretch(1)
        return bar

    def _actions_bar(self) -> QHBoxLayout:
        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.refresh_button = QPushButton(icon("refresh"), self.tr("&Refresh"))
        self.refresh_button.setObjectName("refresh_report")
        self.refresh_button.setToolTip(self.tr("Work the report out again (F5)"))
        self.refresh_button.clicked.connect(self.run_report)
        self.csv_button = QPushButton(icon("save"), self.tr("Export &CSV…"))
        self.csv_button.setObjectName("export_csv")
        self.csv_button.setToolTip(self.tr("Save the whole report as a CSV file"))
        self.csv_button.clicked.connect(lambda: self.choose_export("csv"))
        self.xlsx_button = QPushButton(icon("save"), self.tr("Export &XLSX…"))
        self.xlsx_button.setObjectName("export_xlsx")
        self.xlsx_button.setToolTip(self.tr("Save the report as a spreadsheet"))
        self.xlsx_button.clicked.connect(lambda: self.choose_export("xlsx"))
        self.print_button = QPushButton(icon("print"), self.tr("Pri&nt…"))
        self.print_button.setObjectName("print_report")
        self.print_button.setToolTip(self.tr("Preview, print or save as PDF (Ctrl+P)"))
        self.print_button.clicked.connect(self.print_preview)
        for b in (self.refresh_button, self.csv_button, self.xlsx_button, self.print_button):
            bar.addWidget(b)
        bar.addSpacing(8)
        self.status = QLabel()
        self.status.setObjectName("report_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar.addWidget(self.status, 1)
        self._update_buttons()
        return bar

    # ---- showing

    def on_shown(self) -> None:
        if self._started or not self.specs:
            return
        self._started = True
        if self.env.can("company.view"):
            from erp_desktop.services import company

            run_in_background(company.get_profile, self.ctx, parent=self, name="fiscal year",
                              on_done=self._profile_loaded,
                              on_error=lambda _e: self._select_first())
        else:
            self._select_first()

    def _profile_loaded(self, profile: Any) -> None:
        self.fy_start_month = int(profile.fiscal_year_start_month)
        self._set_period(str(self.period.currentData()), run=False)
        self._select_first()

    def _select_first(self) -> None:
        if self.spec is None:
            self.show_report(self.specs[0].key)

    def report_keys(self) -> list[str]:
        return [s.key for s in self.specs]

    def show_report(self, key: str) -> None:
        """Select report `key` in the list (which works it out)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == key:
                if self.list.currentItem() is item:
                    self._report_changed(item)
                else:
                    self.list.setCurrentItem(item)
                return
        raise KeyError(key)

    def _report_changed(self, item: QListWidgetItem | None) -> None:
        key = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        spec = next((s for s in self.specs if s.key == key), None)
        if spec is None:
            return
        self._started = True
        self.spec = spec
        self.title.setText(_tr(spec.title))
        self.description.setText(_tr(spec.description))
        for name, widgets in self.param_widgets.items():
            for w in widgets:
                w.setVisible(name in spec.params)
        if self.task is not None:
            self.task.cancel()
            self.task = None
        self._show(None)
        if "account" in spec.params and not self._accounts_loaded:
            self._load_accounts()
            return
        if "month" in spec.params and not self._months_loaded:
            self._load_months()
            return
        if "customer" in spec.params and self.customer.value() is None:
            self._say(self.tr("Type a customer's code or name, then press Enter."), "hint")
            self.customer.setFocus()
            return
        self.run_report()

    def _set_period(self, key: str, run: bool = True) -> None:
        custom = key == "custom"
        self.date_from.setEnabled(custom)
        self.date_to.setEnabled(custom)
        if not custom:
            start, end = period_dates(key, self.ctx.today(), self.fy_start_month)
            self._filling = True
            self.date_from.setDate(QDate(start))
            self.date_to.setDate(QDate(end))
            self._filling = False
        if run:
            self._param_changed()

    def _param_changed(self) -> None:
        if self._filling or self.spec is None:
            return
        self.rerun.start()

    def params(self) -> ReportParams:
        return ReportParams(self.date_from.date().toPython(), self.date_to.date().toPython(),
                            self.as_of.date().toPython(),
                            account=self.account.currentData() or None,
                            customer=self.customer.value(),
                            month=self.month.currentData() or None,
                            by_invoice=self.by_invoice.isChecked(), locale=self.locale)

    def run_report(self) -> None:
        """Work out the chosen report with the parameters on screen (on the worker)."""
        self.rerun.stop()
        spec = self.spec
        if spec is None:
            return
        if self.task is not None:
            self.task.cancel()
        params = self.params()
        self._say(self.tr("Working it out…"), "hint")
        self.refresh_button.setEnabled(False)
        self.task = run_in_background(spec.compute, self.ctx, params, parent=self,
                                      name=f"report {spec.key}",
                                      on_done=lambda shown: self._computed(spec, params, shown),
                                      on_error=self._failed)

    def _computed(self, spec: ReportSpec, params: ReportParams, shown: ShownReport) -> None:
        self.task = None
        self.refresh_button.setEnabled(True)
        if spec is not self.spec:
            return
        self.shown_params = params
        self._show(shown)
        self._say(shown.summary, "hint")

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.refresh_button.setEnabled(True)
        self._show(None)
        if isinstance(exc, UserError):
            self._say(exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            self._say(self.tr("The report could not be worked out."), "error")
            show_error(self, exc)

    def _show(self, shown: ShownReport | None) -> None:
        self.shown = shown
        if shown is None:
            self.model.set_rows([])
            self.more_button.setVisible(False)
            self._update_buttons()
            return
        # figures are narrow: their long headings go on two lines
        columns = [(_wrap(title) if right else title, (lambda row, i=i: row[i]), right)
                   for i, (title, right) in enumerate(shown.columns)]
        if self._columns != shown.columns:
            model = RowsModel(columns, self)
            self.table.setModel(model)
            self.model.deleteLater()
            self.model = model
            self._columns = list(shown.columns)
        self.model.set_rows(shown.rows, shown.bold)
        self._size_columns(shown)
        self.more_button.setVisible(shown.cursor is not None)
        self._update_buttons()

    def _size_columns(self, shown: ShownReport) -> None:
        """Each column as wide as its text; the spare width goes to the stretch column."""
        metrics = self.table.fontMetrics()
        bold = QFont(self.table.font())
        bold.setBold(True)
        bold_metrics = QFontMetrics(bold)
        widths = []
        for i, (title, right) in enumerate(shown.columns):
            title = _wrap(title) if right else title
            width = max(bold_metrics.horizontalAdvance(line) for line in title.split("\n"))
            for n, row in enumerate(shown.rows[:300]):
                m = bold_metrics if n in shown.bold else metrics
                width = max(width, m.horizontalAdvance(row[i]))
            widths.append(min(width + 26, 260))
        self._widths = widths
        self._stretch = shown.stretch
        self._fit_columns()

    def _fit_columns(self) -> None:
        if not self._widths:
            return
        widths = list(self._widths)
        spare = self.table.viewport().width() - sum(widths)
        if 0 <= self._stretch < len(widths):
            # the stretch column takes the spare width, or gives some up (down to a
            # readable width) so that a table that nearly fits needs no scrolling
            widths[self._stretch] = max(widths[self._stretch] + spare,
                                        min(widths[self._stretch], 140))
        header = self.table.horizontalHeader()
        for i, width in enumerate(widths):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(i, width)

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_columns()
        return super().eventFilter(watched, event)

    def _say(self, text: str, kind: str) -> None:
        self.status.setStyleSheet(message_style(kind))
        self.status.setText(text)

    def _update_buttons(self) -> None:
        ready = self.shown is not None
        spec = self.spec
        self.csv_button.setEnabled(ready)
        self.print_button.setEnabled(ready)
        self.xlsx_button.setVisible(spec is not None and spec.xlsx is not None)
        self.xlsx_button.setEnabled(ready)
        self.commands_changed.emit()

    # ---- more pages

    def load_more(self) -> None:
        spec, shown, params = self.spec, self.shown, self.shown_params
        if spec is None or spec.more is None or shown is None or shown.cursor is None \
                or params is None or self.task is not None:
            return
        self.more_button.setEnabled(False)
        self._say(self.tr("Reading more…"), "hint")

        def done(more: ShownReport) -> None:
            self.more_button.setEnabled(True)
            self._computed(spec, params, more)

        def failed(exc: BaseException) -> None:
            self.more_button.setEnabled(True)
            self._failed(exc)

        self.task = run_in_background(spec.more, self.ctx, params, shown, parent=self,
                                      name=f"report {spec.key} more", on_done=done,
                                      on_error=failed)

    # ---- parameters that come from the services

    def _load_accounts(self) -> None:
        from erp_desktop.services import ledger

        self._say(self.tr("Reading the chart of accounts…"), "hint")
        run_in_background(ledger.list_accounts, self.ctx, include_inactive=False, parent=self,
                          name="accounts", on_done=self._accounts, on_error=self._failed)

    def _accounts(self, accounts: list[Any]) -> None:
        self._accounts_loaded = True
        self._filling = True
        self.account.clear()
        for a in accounts:
            if not a.is_group:
                self.account.addItem(f"{a.code} · {a.name}", a.code)
        self._filling = False
        if self.spec is not None and "account" in self.spec.params:
            self.run_report()

    def _load_months(self) -> None:
        from erp_desktop.services import payroll

        self._say(self.tr("Reading the payroll months…"), "hint")
        run_in_background(payroll.list_runs, self.ctx, parent=self, name="payroll months",
                          on_done=self._months, on_error=self._failed)

    def _months(self, runs: list[Any]) -> None:
        from erp_desktop.services.payroll import STATUS_LABELS

        self._months_loaded = True
        self._filling = True
        self.month.clear()
        for r in runs:
            status = _tr(STATUS_LABELS.get(r.status, r.status))
            self.month.addItem(f"{r.period_label} · {status}", r.period)
        self._filling = False
        if self.spec is not None and "month" in self.spec.params:
            self.run_report()

    # ---- export and print

    def suggested_name(self, fmt: str) -> str:
        spec, params = self.spec, self.shown_params
        stem = spec.file_stem if spec is not None else "report"
        if spec is not None and params is not None:
            if "period" in spec.params:
                stem += f"-{params.date_from}-{params.date_to}"
            elif "as_of" in spec.params:
                stem += f"-{params.as_of}"
            elif "month" in spec.params and params.month:
                stem += f"-{params.month}"
        return f"{stem}.{fmt}"

    def choose_export(self, fmt: str) -> None:
        if self.shown is None:
            return
        folder = QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
        filters = (self.tr("CSV files (*.csv)") if fmt == "csv"
                   else self.tr("Excel workbooks (*.xlsx)"))
        chosen, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export report"), str(Path(folder) / self.suggested_name(fmt)), filters)
        if chosen:
            path = Path(chosen)
            if path.suffix.lower() != f".{fmt}":
                path = path.with_name(path.name + f".{fmt}")
            self.export_to(path, fmt)

    def export_to(self, path: Path, fmt: str = "csv") -> Task | None:
        """Write the shown report to `path` (on the worker) as the service's CSV or XLSX."""
        spec, shown, params = self.spec, self.shown, self.shown_params
        if spec is None or shown is None or params is None:
            return None
        if fmt == "xlsx" and spec.xlsx is None:
            return None
        self.csv_button.setEnabled(False)
        self.xlsx_button.setEnabled(False)
        self._say(self.tr("Saving…"), "hint")

        def saved(written: Path) -> None:
            self.export_task = None
            self._update_buttons()
            self._say(self.tr("Saved to {path}.").format(path=str(written)), "success")

        def failed(exc: BaseException) -> None:
            self.export_task = None
            self._update_buttons()
            if isinstance(exc, (UserError, OSError)):
                self._say(getattr(exc, "message", None) or self.tr(
                    "Could not write {path}: {reason}").format(
                        path=str(path), reason=getattr(exc, "strerror", None) or str(exc)),
                    "error")
            else:
                from erp_desktop.ui.errors import show_error

                self._say(self.tr("The report could not be saved."), "error")
                show_error(self, exc)

        self.export_task = run_in_background(_export, spec, fmt, self.ctx, params, shown,
                                             Path(path), parent=self, name=f"export {spec.key}",
                                             on_done=saved, on_error=failed)
        return self.export_task

    def print_html(self) -> str:
        spec, shown = self.spec, self.shown
        if spec is None or shown is None:
            return ""
        return report_html(shown, _tr(spec.title), self.env.company_name)

    def print_preview(self) -> Any:
        spec, shown = self.spec, self.shown
        if spec is None or shown is None:
            return None
        from erp_desktop.ui.pdf_preview import PdfPreviewDialog, html_to_pdf

        title = _tr(spec.title)
        data = html_to_pdf(self.print_html(), title=title, landscape=shown.landscape)
        dialog = PdfPreviewDialog(data, title=title, file_name=self.suggested_name("pdf"),
                                  parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    # ---- commands

    def commands(self) -> set[Command]:
        if not self.specs:
            return set()
        out = {Command.REFRESH, Command.NEXT, Command.PREVIOUS}
        if self.shown is not None:
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.run_report()
        elif command == Command.PRINT:
            self.print_preview()
        elif command in (Command.NEXT, Command.PREVIOUS):
            keys = self.report_keys()
            at = keys.index(self.spec.key) if self.spec is not None else -1
            step = 1 if command == Command.NEXT else -1
            self.show_report(keys[(at + step) % len(keys)])
