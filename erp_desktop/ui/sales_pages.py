"""Sales: the counter, invoices, customers, payments and credit notes.

`SalesPage` is a tab per job the role allows (like `AccountingPage`); each
tab is built the first time it comes on screen (`_LazyTab`), and the common
commands go to the tab on top. The Counter tab is `ui.invoice_editor.
CounterPage`, imported only when that tab is built.

- Invoices: a paged list (`services.sales_lists.INVOICES`: period, status,
  search as you type by number or customer) over the selected invoice's
  lines, tax breakdown and settlements, with Preview / Print (Ctrl+P), Save as
  PDF, Take payment, Credit note and Batch print (one PDF, or a file per
  invoice in a folder, with progress and Cancel).
- Customers: a paged list, New / Edit (`CustomerDialog`: a refused GSTIN shows
  under its field, a change made elsewhere meanwhile as a banner with Reload),
  the selected customer's balance and statement with CSV export.
- Payments: receipts; Receive payment (`ReceivePaymentDialog`: one payment
  spread over a customer's open invoices, the rest kept as credit); receipt PDF.
- Credit notes: the list, preview and print.

Every read and write runs on the worker (`ui.worker`, `Form.submit`,
`ui.printing`); what a change touched is read again when its tab next shows.
"""

from __future__ import annotations

import html
import itertools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError, ValidationError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.services import sales_lists
from erp_desktop.services.listing import Filters, ListSource, Sort, format_date, format_number
from erp_desktop.ui import printing
from erp_desktop.ui.forms import FormDialog, parse_number
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import ListPanel
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.theme import tones
from erp_desktop.ui.widgets import PageEnv, RowsModel, hint, message_style, page_frame, rows_table
from erp_desktop.ui.worker import Task, run_in_background


def _tr(text: str) -> str:
    return QCoreApplication.translate("sales", text)


def _money(value: Money | None, locale: str, *, blank_zero: bool = False) -> str:
    if value is None or (blank_zero and not value):
        return ""
    return format_money(value, locale)


def _qty(value: Decimal, locale: str) -> str:
    q = value.normalize()
    return format_number(q.quantize(Decimal(1)) if q == q.to_integral_value() else q, locale)


def _amount_text(value: Decimal, locale: str) -> str:
    """An amount to edit, in the locale's digits with two decimals ("4,37,662.50")."""
    from babel import Locale
    from babel.numbers import format_decimal

    pattern = Locale.parse(locale).decimal_formats[None].pattern.split(";")[0]
    return format_decimal(value, format=pattern.split(".")[0] + ".00", locale=locale)


def _grid_table(columns: list[str], right: set[int]) -> QTableWidget:
    """A small grid of a dialog with a typed column: headings over their figures."""
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(columns)
    table.verticalHeader().setVisible(False)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setShowGrid(False)
    table.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft
                                                 | Qt.AlignmentFlag.AlignVCenter)
    for column in right:
        item = table.horizontalHeaderItem(column)
        if item is not None:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return table


def _pct(rate: Decimal | None) -> str:
    return "" if rate is None else f"{rate.normalize():f} %"


def _show_failure(parent: QWidget, exc: BaseException, title: str | None = None) -> None:
    from erp_desktop.ui.errors import show_error

    show_error(parent, exc, title)


def _button(name: str, text: str, icon_name: str, tip: str) -> QPushButton:
    button = QPushButton(icon(icon_name), text)
    button.setObjectName(name)
    button.setToolTip(tip)
    return button


def _notice() -> QLabel:
    """A one-line message under a list ("Receipt RCPT/… recorded. Print it")."""
    label = QLabel()
    label.setObjectName("notice")
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    label.setVisible(False)
    return label


def _say(label: QLabel, text: str, kind: str = "success") -> None:
    label.setStyleSheet(message_style(kind))
    label.setText(text)
    label.setVisible(bool(text))


def _chain_tabs(widgets: list[QWidget]) -> None:
    """Tab moves through `widgets` in this order (fields inside rows of several)."""
    for a, b in itertools.pairwise(widgets):
        QWidget.setTabOrder(a, b)


def _fit_caption(form: Any, name: str) -> None:
    """A multi-line field's caption as tall as the field (Form sizes it from the field's
    size hint, which ignores the fixed height: the row would stand ~190 px tall)."""
    f = form.fields[name]
    caption = form.layout.labelForField(f.row)
    if isinstance(caption, QLabel):
        caption.setFixedHeight(f.widget.maximumHeight())
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)


def _size_columns(view: Any, widths: dict[int, int], stretch: int) -> None:
    header = view.horizontalHeader()
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    for column, width in widths.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width)


# ====================================================================== pieces


PERIODS = (("all", "All dates"), ("today", "Today"), ("this_month", "This month"),
           ("last_month", "Last month"), ("last_90", "Last 90 days"),
           ("this_year", "This calendar year"), ("custom", "Custom dates…"))


def period_range(key: str, today: date) -> tuple[date | None, date | None]:
    """The dates a period choice of the filter bar stands for."""
    first = today.replace(day=1)
    if key == "today":
        return today, today
    if key == "this_month":
        return first, None
    if key == "last_month":
        end = first - timedelta(days=1)
        return end.replace(day=1), end
    if key == "last_90":
        return today - timedelta(days=90), None
    if key == "this_year":
        return today.replace(month=1, day=1), None
    return None, None


def _date_edit(name: str, value: date) -> QDateEdit:
    edit = QDateEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("d MMM yyyy")  # unambiguous in every locale
    edit.setDate(QDate(value))
    return edit


class PeriodFilter(QWidget):
    """A period choice; "Custom dates…" shows a from and a to date. `changed()` when
    the range changes; `range()` is (from, to), either None for open-ended."""

    changed = Signal()

    def __init__(self, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.today = today
        self.combo = QComboBox()
        self.combo.setObjectName("period")
        self.combo.setToolTip(self.tr("Show the records of a period"))
        for key, text in PERIODS:
            self.combo.addItem(_tr(text), key)
        self.date_from = _date_edit("date_from", today.replace(day=1))
        self.date_to = _date_edit("date_to", today)
        self.dash = QLabel("–")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.combo)
        layout.addWidget(self.date_from)
        layout.addWidget(self.dash)
        layout.addWidget(self.date_to)
        self._show_dates(False)
        self.combo.currentIndexChanged.connect(self._period_changed)
        self.date_from.dateChanged.connect(lambda _d: self.changed.emit())
        self.date_to.dateChanged.connect(lambda _d: self.changed.emit())

    def _show_dates(self, shown: bool) -> None:
        for w in (self.date_from, self.dash, self.date_to):
            w.setVisible(shown)

    def _period_changed(self) -> None:
        self._show_dates(self.combo.currentData() == "custom")
        self.changed.emit()

    def set_period(self, key: str) -> None:
        self.combo.setCurrentIndex(max(0, self.combo.findData(key)))

    def range(self) -> tuple[date | None, date | None]:
        key = str(self.combo.currentData())
        if key == "custom":
            return self.date_from.date().toPython(), self.date_to.date().toPython()
        return period_range(key, self.today)


class CustomerPicker(QWidget):
    """Type part of a name, code, phone or GSTIN; pick from what the list query finds.
    `chosen(row)` when a customer is picked (None when the text no longer names one)."""

    chosen = Signal(object)

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.row: Any = None  # the CustomerListRow picked, or a (id, name) preset
        self.customer_id: uuid.UUID | None = None
        self._label = ""
        self._found: dict[str, Any] = {}
        self.task: Task | None = None
        self.edit = QLineEdit()
        self.edit.setObjectName("customer_search")
        self.edit.setPlaceholderText(self.tr("Type a name, code, phone or GSTIN…"))
        self.edit.setClearButtonEnabled(True)
        self.edit.addAction(icon("find"), QLineEdit.ActionPosition.LeadingPosition)
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setWidget(self.edit)
        self.completer.activated.connect(self._activated)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(200)
        self.timer.timeout.connect(self.search_now)
        self.edit.textEdited.connect(self._typed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self.setFocusProxy(self.edit)

    def _typed(self, text: str) -> None:
        if self.customer_id is not None and text != self._label:
            self.customer_id = None
            self.row = None
            self.chosen.emit(None)
        self.timer.start()

    def search_now(self) -> None:
        self.timer.stop()
        text = self.edit.text().strip()
        if not text:
            return
        if self.task is not None:
            self.task.cancel()
        self.task = run_in_background(
            sales_lists.CUSTOMERS.fetch, self.env.ctx, Filters.of(text), Sort("name"), 0, 20,
            parent=self, name="find customers", on_done=self._found_rows,
            on_error=lambda exc: None)

    def _found_rows(self, rows: list[Any]) -> None:
        self.task = None
        self._found = {self.label_of(r): r for r in rows}
        self.model.setStringList(list(self._found))
        if rows and self.edit.hasFocus():
            self.completer.complete()

    @staticmethod
    def label_of(row: Any) -> str:
        return f"{row.name} ({row.code})"

    def _activated(self, text: str) -> None:
        row = self._found.get(text)
        if row is not None:
            self.choose(row)

    def choose(self, row: Any) -> None:
        """Pick a customer (a list row with id, name and code)."""
        self.row = row
        self.customer_id = row.id
        self._label = self.label_of(row)
        self.edit.setText(self._label)
        self.chosen.emit(row)

    def value(self) -> Any:
        """The chosen customer's id; the typed text while none is chosen ("" if empty)."""
        return self.customer_id if self.customer_id is not None else self.edit.text().strip()


class TotalsBox(QFrame):
    """The figures of a document, right-aligned under each other (the last one bold)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("totals")
        tone = tones()
        self.setStyleSheet(f"QFrame#totals {{ background: {tone.card}; border: 1px solid "
                           f"{tone.card_border}; border-radius: 6px; }}")
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(14, 10, 14, 10)
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(4)
        self.values: dict[str, QLabel] = {}
        self.setMinimumWidth(270)

    def set_rows(self, rows: list[tuple[str, str, bool]]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.values = {}
        for n, (caption, value, strong) in enumerate(rows):
            left = QLabel(caption)
            right = QLabel(value)
            right.setObjectName(f"total_{n}")
            right.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            right.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if strong:
                font = right.font()
                font.setBold(True)
                left.setFont(font)
                right.setFont(font)
            self.grid.addWidget(left, n, 0)
            self.grid.addWidget(right, n, 1)
            self.values[caption] = right
        self.grid.setRowStretch(len(rows), 1)


class _LazyTab(CommandPage):
    """A tab whose page is built when it first comes on screen (see the module docstring)."""

    def __init__(self, key: str, factory: Callable[[], QWidget],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.factory = factory
        self.content: QWidget | None = None
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 8, 0, 0)

    def build(self) -> QWidget:
        if self.content is None:
            self.content = self.factory()
            self.layout_.addWidget(self.content)
            if isinstance(self.content, CommandPage):
                self.content.commands_changed.connect(self.commands_changed)
            self.setFocusProxy(self.content)
        return self.content

    def on_shown(self) -> None:
        content = self.build()
        if isinstance(content, CommandPage):
            content.on_shown()

    def delegate_to(self) -> CommandPage | None:
        return self.content if isinstance(self.content, CommandPage) else None


def _counter_tab(env: PageEnv) -> QWidget:
    """The counter sale editor, imported only when its tab is first shown."""
    try:
        from erp_desktop.ui.invoice_editor import CounterPage
    except ModuleNotFoundError as exc:
        if exc.name != "erp_desktop.ui.invoice_editor":
            raise  # the editor exists but something it needs is missing: a real bug
        placeholder = QWidget()
        box = QVBoxLayout(placeholder)
        label = QLabel(_tr("The counter opens here in a coming version. Meanwhile, sell "
                           "from the command line or look up invoices in the Invoices tab."))
        label.setObjectName("counter_placeholder")
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("color: palette(placeholder-text);")
        box.addWidget(label, 1)
        return placeholder
    return CounterPage(env)


class _ListTab(CommandPage):
    """What the list tabs share: a stale flag (data changed elsewhere) and `changed`."""

    data_changed = Signal(str)  # the tab's key; the page marks the other tabs stale
    key = ""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.stale = False
        self.list: ListPanel

    def mark_stale(self) -> None:
        self.stale = True

    def on_shown(self) -> None:
        if self.stale:
            self.stale = False
            self.refresh()

    def refresh(self) -> None:
        self.list.refresh()

    def _changed_data(self) -> None:
        self.refresh()
        self.data_changed.emit(self.key)


# ==================================================================== invoices


@dataclass(frozen=True)
class _LineCells:
    no: str
    item: str
    hsn: str
    qty: str
    rate: str
    discount: str
    tax_rate: str
    tax: str
    amount: str


@dataclass(frozen=True)
class _TaxCells:
    name: str
    rate: str
    taxable: str
    tax: str


@dataclass(frozen=True)
class _SettlementCells:
    kind: str
    number: str
    date: str
    method: str
    amount: str


_SETTLEMENT_KINDS = {"payment": "Payment", "credit": "Customer credit",
                     "credit_note": "Credit note"}


@dataclass(frozen=True)
class BatchOptions:
    """What to print in a batch (the filtered list's dates, status and customer)."""

    date_from: date
    date_to: date
    status: str | None  # issued | partially_paid | paid | None for every issued one
    customer_id: uuid.UUID | None
    customer_name: str
    one_file: bool
    page_format: str | None
    search: str = ""  # the list's search text ("" : every invoice the filters let through)


class InvoicesTab(_ListTab):
    """Invoices (paged) over the selected invoice's lines, taxes and settlements."""

    key = "invoices"

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, parent)
        self.invoice: Any = None  # the sales.InvoiceView shown
        self.detail_task: Task | None = None
        self.batch_run: Any = None  # the ProgressRun of a batch print
        self.customer_id: uuid.UUID | None = None
        self.customer_name = ""

        self.period = PeriodFilter(env.ctx.today())
        self.period.changed.connect(self._filters_changed)
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("status_filter")
        self.status_filter.setToolTip(self.tr("Show invoices in one state"))
        for key, text in sales_lists.INVOICE_STATUS_FILTERS:
            self.status_filter.addItem(_tr(text), key)
        self.status_filter.currentIndexChanged.connect(self._filters_changed)
        self.customer_chip = QPushButton(icon("close"), "")
        self.customer_chip.setObjectName("customer_chip")
        self.customer_chip.setToolTip(self.tr("Show every customer's invoices again"))
        self.customer_chip.setVisible(False)
        self.customer_chip.clicked.connect(lambda: self.set_customer(None))
        self.batch_action = QAction(icon("print"), self.tr("Batch print…"), self)
        self.batch_action.setObjectName("batch_print")
        self.batch_action.setToolTip(self.tr(
            "Save the issued invoices of the chosen dates as one PDF or a file each"))
        self.batch_action.triggered.connect(self.open_batch_dialog)
        self.list = ListPanel(ListSource(sales_lists.INVOICES, env.ctx), locale=env.locale,
                              noun=(self.tr("invoice"), self.tr("invoices")),
                              search_hint=self.tr("Search number or customer…"),
                              extra=[self.period, self.status_filter, self.customer_chip],
                              actions=[self.batch_action])
        self.list.setObjectName("invoice_list")
        self.list.current_row_changed.connect(self._show_invoice)
        self.list.row_activated.connect(lambda _row: self.preview())
        self.list.commands_changed.connect(self.commands_changed)

        # ---- the selected invoice
        self.title = QLabel(self.tr("Select an invoice to see its lines, taxes and payments."))
        self.title.setObjectName("invoice_title")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.preview_button = _button("preview", self.tr("&Preview / print"), "print",
                                      self.tr("Preview the invoice, print it (Ctrl+P)"))
        self.preview_button.clicked.connect(self.preview)
        self.save_button = _button("save_pdf", self.tr("Save as PDF…"), "pdf",
                                   self.tr("Save the invoice as a PDF file"))
        self.save_button.clicked.connect(self.save_pdf)
        self.pay_button = _button("take_payment", self.tr("Take pa&yment…"), "payment",
                                  self.tr("Record money received against this invoice"))
        self.pay_button.clicked.connect(self.take_payment)
        self.pay_button.setVisible(env.can("sales.payment.record"))
        self.credit_button = _button("credit_note", self.tr("Credit &note…"), "credit_note",
                                     self.tr("Credit some or all of this invoice"))
        self.credit_button.clicked.connect(self.credit_note)
        self.credit_button.setVisible(env.can("sales.credit_note.issue"))
        self.notice = _notice()
        self.notice.linkActivated.connect(self._notice_link)

        self.lines_model = RowsModel([
            (self.tr("#"), lambda r: r.no, True), (self.tr("Item"), lambda r: r.item, False),
            (self.tr("HSN/SAC"), lambda r: r.hsn, False), (self.tr("Qty"), lambda r: r.qty, True),
            (self.tr("Rate"), lambda r: r.rate, True),
            (self.tr("Discount"), lambda r: r.discount, True),
            (self.tr("Tax %"), lambda r: r.tax_rate, True), (self.tr("Tax"), lambda r: r.tax, True),
            (self.tr("Amount"), lambda r: r.amount, True)], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("invoice_lines")
        _size_columns(self.lines, {0: 34, 2: 76, 3: 74, 4: 100, 5: 84, 6: 58, 7: 92, 8: 110}, 1)
        self.tax_model = RowsModel([
            (self.tr("Tax"), lambda r: r.name, False), (self.tr("Rate"), lambda r: r.rate, True),
            (self.tr("Taxable value"), lambda r: r.taxable, True),
            (self.tr("Tax"), lambda r: r.tax, True)], self)
        self.taxes = rows_table(self.tax_model)
        self.taxes.setObjectName("invoice_taxes")
        _size_columns(self.taxes, {1: 80, 2: 150, 3: 130}, 0)
        self.settlement_model = RowsModel([
            (self.tr("Kind"), lambda r: r.kind, False),
            (self.tr("Number"), lambda r: r.number, False),
            (self.tr("Date"), lambda r: r.date, False),
            (self.tr("Method"), lambda r: r.method, False),
            (self.tr("Amount"), lambda r: r.amount, True)], self)
        self.settlements = rows_table(self.settlement_model)
        self.settlements.setObjectName("invoice_payments")
        _size_columns(self.settlements, {0: 120, 2: 110, 3: 170, 4: 130}, 1)
        self.detail_tabs = QTabWidget()
        self.detail_tabs.setObjectName("invoice_detail_tabs")
        self.detail_tabs.addTab(self.lines, self.tr("Lines"))
        self.detail_tabs.addTab(self.taxes, self.tr("Tax"))
        self.detail_tabs.addTab(self.settlements, self.tr("Payments"))
        self.totals = TotalsBox()

        detail = QWidget()
        box = QVBoxLayout(detail)
        box.setContentsMargins(0, 6, 0, 0)
        box.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        for b in (self.preview_button, self.save_button, self.pay_button, self.credit_button):
            top.addWidget(b)
        box.addLayout(top)
        body = QHBoxLayout()
        body.addWidget(self.detail_tabs, 1)
        body.addWidget(self.totals, 0)
        box.addLayout(body, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 4)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.notice)
        self.setFocusProxy(self.list)
        self._show_actions()

    # ---- filters

    def _filters_changed(self) -> None:
        date_from, date_to = self.period.range()
        self.list.set_filters(self.list.model.filters.with_extra(
            date_from=date_from, date_to=date_to,
            status=self.status_filter.currentData() or None, customer_id=self.customer_id))

    def set_status(self, key: str) -> None:
        self.status_filter.setCurrentIndex(max(0, self.status_filter.findData(key)))

    def set_customer(self, customer_id: uuid.UUID | None, name: str = "") -> None:
        """Show one customer's invoices (None: everyone's again)."""
        self.customer_id = customer_id
        self.customer_name = name if customer_id is not None else ""
        self.customer_chip.setText(self.tr("Customer: {name}").format(name=name))
        self.customer_chip.setVisible(customer_id is not None)
        self._filters_changed()

    # ---- the selected invoice

    def _show_invoice(self, row: Any) -> None:
        if row is None:
            return
        if self.invoice is not None and self.invoice.id == row.id:
            return
        self.load_invoice(row.id, row.number)

    def load_invoice(self, invoice_id: uuid.UUID, label: str = "") -> None:
        from erp_desktop.services import sales

        if self.detail_task is not None:
            self.detail_task.cancel()
        self.title.setText(self.tr("Loading {number}…").format(number=label))
        self.detail_task = run_in_background(sales.get_invoice, self.env.ctx, invoice_id,
                                             parent=self, name="invoice detail",
                                             on_done=self._invoice_loaded,
                                             on_error=self._invoice_failed)

    def _invoice_loaded(self, v: Any) -> None:
        self.detail_task = None
        self.invoice = v
        locale = self.env.locale
        self.lines_model.set_rows([_LineCells(
            str(ln.line_no), ln.description, ln.hsn_sac or "",
            _qty(ln.quantity, locale) + (f" {ln.unit}" if ln.unit else ""),
            _money(ln.unit_price, locale), _money(ln.discount, locale, blank_zero=True),
            _pct(ln.tax_rate), _money(ln.tax, locale), _money(ln.total, locale))
            for ln in v.lines])
        self.tax_model.set_rows([_TaxCells(
            t.component_name or t.rate_name, _pct(t.component_rate if t.component_code
                                                  else t.rate),
            _money(t.taxable, locale), _money(t.tax, locale)) for t in v.tax_lines])
        self.settlement_model.set_rows([_SettlementCells(
            _tr(_SETTLEMENT_KINDS.get(s.kind, s.kind)), s.number, format_date(s.date, locale),
            " ".join(x for x in (_method_label(s.method), s.reference or "") if x),
            _money(s.amount, locale)) for s in v.settlements])
        self.detail_tabs.setTabText(2, self.tr("Payments ({n})").format(n=len(v.settlements))
                                    if v.settlements else self.tr("Payments"))
        rows: list[tuple[str, str, bool]] = [(self.tr("Taxable value"),
                                              _money(v.taxable, locale), False),
                                             (self.tr("Tax"), _money(v.tax, locale), False)]
        if v.round_off:
            rows.append((self.tr("Round off"), _money(v.round_off, locale), False))
        rows.append((self.tr("Total"), _money(v.total, locale), True))
        if v.is_issued:
            if v.paid:
                rows.append((self.tr("Paid"), _money(v.paid, locale), False))
            if v.credited:
                rows.append((self.tr("Credited"), _money(v.credited, locale), False))
            rows.append((self.tr("Balance due"), _money(v.balance, locale), True))
        self.totals.set_rows(rows)
        status = sales_lists.STATUS_LABELS.get(v.status, v.status)
        parts = [f"<b>{html.escape(v.number or _tr(status))}</b>",
                 html.escape(v.bill_to_name), format_date(v.invoice_date, locale),
                 html.escape(_tr(status))]
        if v.due_date and v.is_issued and v.status != "paid":
            parts.append(self.tr("due {date}").format(date=format_date(v.due_date, locale)))
        self.title.setText(" · ".join(parts))
        self._show_actions()
        self.commands_changed.emit()

    def _invoice_failed(self, exc: BaseException) -> None:
        self.detail_task = None
        if isinstance(exc, UserError):
            self.title.setText(html.escape(exc.message))
        else:
            self.title.setText(self.tr("This invoice could not be read."))
            _show_failure(self, exc)

    def _show_actions(self) -> None:
        v = self.invoice
        self.preview_button.setEnabled(v is not None)
        self.save_button.setEnabled(v is not None)
        self.pay_button.setEnabled(v is not None and v.is_issued and v.balance.minor > 0)
        self.credit_button.setEnabled(v is not None and v.is_issued and any(
            ln.quantity > ln.credited_quantity for ln in v.lines))

    def _reload_invoice(self) -> None:
        if self.invoice is not None:
            self.load_invoice(self.invoice.id, self.invoice.number or "")

    def refresh(self) -> None:
        super().refresh()
        self._reload_invoice()

    # ---- commands

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def commands(self) -> set[Command]:
        out = self.list.commands()
        if self.invoice is not None:
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.PRINT:
            self.preview()
        elif command == Command.REFRESH:
            self.refresh()
        else:
            self.list.run_command(command)

    # ---- printing

    def _pdf_name(self) -> str:
        from erp_desktop.services.invoice_pdf import file_name

        v = self.invoice
        return file_name(v.number or f"{v.status}-{v.invoice_date.isoformat()}")

    def preview(self) -> Task | None:
        v = self.invoice
        if v is None:
            return None
        from erp_desktop.services import invoice_pdf

        ctx, invoice_id = self.env.ctx, v.id
        return printing.preview_pdf(
            self, lambda: invoice_pdf.invoice_pdf(ctx, invoice_id),
            title=self.tr("Invoice {number}").format(number=v.number or _tr("draft")),
            file_name=self._pdf_name())

    def save_pdf(self, path: Path | None = None) -> Task | None:
        v = self.invoice
        if v is None:
            return None
        from erp_desktop.services import invoice_pdf

        ctx, invoice_id = self.env.ctx, v.id
        return printing.save_pdf_as(
            self, lambda: invoice_pdf.invoice_pdf(ctx, invoice_id),
            title=self.tr("Save invoice as PDF"), file_name=self._pdf_name(), path=path,
            on_saved=lambda p: _say(self.notice, self.tr("Saved {path}.").format(
                path=html.escape(str(p)))),
            on_error=lambda exc: _show_failure(self, exc, self.tr("Cannot save")))

    # ---- batch printing

    def batch_defaults(self) -> BatchOptions:
        today = self.env.ctx.today()
        date_from, date_to = self.period.range()
        status = self.status_filter.currentData()
        return BatchOptions(
            date_from=date_from or today.replace(day=1), date_to=date_to or today,
            status=status if status in ("issued", "partially_paid", "paid") else None,
            customer_id=self.customer_id, customer_name=self.customer_name, one_file=True,
            page_format=None, search=self.list.search.text().strip())

    def open_batch_dialog(self) -> BatchPrintDialog:
        dialog = BatchPrintDialog(self.env, self.batch_defaults(), parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.chosen.connect(self.batch_print)
        dialog.open()
        return dialog

    def batch_print(self, options: BatchOptions, target: Path | None = None) -> Any:
        """Print the batch into one PDF or a folder (asked for unless `target`)."""
        from erp_desktop.services import invoice_pdf

        kwargs: dict[str, Any] = {"customer": options.customer_id, "status": options.status,
                                  "page_format": options.page_format, "search": options.search}
        title = self.tr("Batch print invoices")
        label = self.tr("Preparing the invoices of {start} to {end}…").format(
            start=format_date(options.date_from, self.env.locale),
            end=format_date(options.date_to, self.env.locale))
        if options.one_file:
            name = f"invoices-{options.date_from.isoformat()}-{options.date_to.isoformat()}.pdf"
            self.batch_run = printing.batch_to_one_pdf(
                self, invoice_pdf.export_invoices, self.env.ctx, options.date_from,
                options.date_to, title=title, label=label, file_name=name,
                on_done=self._batch_done, on_cancelled=self._batch_cancelled,
                on_error=self._batch_failed, path=target, **kwargs)
        else:
            self.batch_run = printing.batch_to_folder(
                self, invoice_pdf.export_invoices, self.env.ctx, options.date_from,
                options.date_to, title=title, label=label, on_done=self._batch_done,
                on_cancelled=self._batch_cancelled, on_error=self._batch_failed,
                folder=target, **kwargs)
        return self.batch_run

    def _batch_done(self, result: Any) -> None:
        self.batch_run = None
        if result.count == 0:
            _say(self.notice, self.tr("No issued invoices in those dates: nothing was saved."),
                 "warning")
        elif len(result.files) == 1 and result.count > 1:
            _say(self.notice, self.tr("Saved {n} invoices in {path}.").format(
                n=result.count, path=html.escape(str(result.files[0]))))
        elif result.count == 1:
            _say(self.notice, self.tr("Saved 1 invoice: {path}.").format(
                path=html.escape(str(result.files[0]))))
        else:
            _say(self.notice, self.tr("Saved {n} invoices, a file each, in {path}.").format(
                n=result.count, path=html.escape(str(result.files[0].parent))))

    def _batch_cancelled(self) -> None:
        self.batch_run = None
        _say(self.notice, self.tr("Batch printing was cancelled. Invoices already saved as "
                                  "their own files were kept whole; a single PDF is not "
                                  "written."), "warning")

    def _batch_failed(self, exc: BaseException) -> None:
        self.batch_run = None
        _show_failure(self, exc, self.tr("Batch printing stopped"))

    # ---- payment and credit note

    def take_payment(self) -> ReceivePaymentDialog | None:
        v = self.invoice
        if v is None or not v.is_issued:
            return None
        dialog = ReceivePaymentDialog(self.env, parent=self)
        dialog.preset(v.customer_id, v.customer_name, v.customer_code, invoice_id=v.id,
                      amount=v.balance.amount)
        dialog.accepted.connect(lambda: self._paid(dialog.result_value))
        dialog.open()
        return dialog

    def _paid(self, payment: Any) -> None:
        _say(self.notice, self.tr("Receipt {number} recorded. <a href='receipt:{id}'>Print "
                                  "the receipt</a>").format(number=html.escape(payment.number),
                                                            id=payment.id))
        self._changed_data()

    def credit_note(self) -> CreditNoteDialog | None:
        v = self.invoice
        if v is None or not v.is_issued:
            return None
        dialog = CreditNoteDialog(self.env, v, parent=self)
        dialog.accepted.connect(lambda: self._credited(dialog.result_value))
        dialog.open()
        return dialog

    def _credited(self, note: Any) -> None:
        _say(self.notice, self.tr("Credit note {number} issued for {total}. "
                                  "<a href='credit_note:{id}'>Print it</a>").format(
            number=html.escape(note.number), total=_money(note.total, self.env.locale),
            id=note.id))
        self._changed_data()

    def _notice_link(self, link: str) -> None:
        kind, _, ref = link.partition(":")
        if kind == "receipt":
            preview_receipt(self, self.env, uuid.UUID(ref), "")
        elif kind == "credit_note":
            preview_credit_note(self, self.env, uuid.UUID(ref), "")


def _method_label(method: str | None) -> str:
    from erp_desktop.services.sales import METHOD_LABELS

    return _tr(METHOD_LABELS.get(method or "", method or ""))


def preview_receipt(parent: QWidget, env: PageEnv, payment_id: uuid.UUID,
                    number: str) -> Task:
    from erp_desktop.services import invoice_pdf

    ctx = env.ctx
    return printing.preview_pdf(parent, lambda: invoice_pdf.receipt_pdf(ctx, payment_id),
                                title=_tr("Receipt {number}").format(number=number).strip(),
                                file_name=invoice_pdf.file_name(number or "receipt"))


def preview_credit_note(parent: QWidget, env: PageEnv, note_id: uuid.UUID,
                        number: str) -> Task:
    from erp_desktop.services import invoice_pdf

    ctx = env.ctx
    return printing.preview_pdf(parent, lambda: invoice_pdf.credit_note_pdf(ctx, note_id),
                                title=_tr("Credit note {number}").format(number=number).strip(),
                                file_name=invoice_pdf.file_name(number or "credit-note"))


class BatchPrintDialog(QDialog):
    """Dates, status, paper and where to: one PDF or a file per invoice in a folder.
    Shows how many invoices that is before anything starts; `chosen(options)`."""

    chosen = Signal(object)

    def __init__(self, env: PageEnv, defaults: BatchOptions,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services.invoice_pdf import PAGE_FORMATS

        self.env = env
        self.defaults = defaults
        self.count_task: Task | None = None
        self.setWindowTitle(self.tr("Batch print invoices"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.date_from = _date_edit("batch_from", defaults.date_from)
        self.date_to = _date_edit("batch_to", defaults.date_to)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("–"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        label = QLabel(self.tr("&Dates:"))
        label.setBuddy(self.date_from)
        form.addRow(label, dates)
        self.status = QComboBox()
        self.status.setObjectName("batch_status")
        for key, text in (("", self.tr("Every issued invoice")), ("issued", self.tr("Unpaid")),
                          ("partially_paid", self.tr("Partly paid")), ("paid", self.tr("Paid"))):
            self.status.addItem(text, key)
        self.status.setCurrentIndex(max(0, self.status.findData(defaults.status or "")))
        form.addRow(self.tr("&Status:"), self.status)
        self.only_customer = QCheckBox(self.tr("Only {name}").format(name=defaults.customer_name))
        self.only_customer.setObjectName("only_customer")
        self.only_customer.setChecked(defaults.customer_id is not None)
        self.only_customer.setVisible(defaults.customer_id is not None)
        if defaults.customer_id is not None:
            form.addRow(self.tr("Customer:"), self.only_customer)
        self.only_search = QCheckBox(self.tr("Only those matching “{text}”").format(
            text=defaults.search))
        self.only_search.setObjectName("only_search")
        self.only_search.setToolTip(self.tr("The invoices the list shows for its search text"))
        self.only_search.setChecked(bool(defaults.search))
        if defaults.search:
            form.addRow(self.tr("Search:"), self.only_search)
        else:
            self.only_search.hide()
        self.paper = QComboBox()
        self.paper.setObjectName("paper")
        self.paper.addItem(self.tr("As in the invoice settings"), None)
        for fmt in PAGE_FORMATS:
            self.paper.addItem({"A4": "A4", "LETTER": self.tr("US Letter"),
                                "THERMAL": self.tr("Receipt roll (thermal)")}.get(fmt, fmt), fmt)
        form.addRow(self.tr("&Paper:"), self.paper)
        self.one_file = QRadioButton(self.tr("One PDF &file with every invoice"))
        self.one_file.setObjectName("one_file")
        self.per_invoice = QRadioButton(self.tr("One PDF per invoice, in a &folder"))
        self.per_invoice.setObjectName("per_invoice")
        group = QButtonGroup(self)
        group.addButton(self.one_file)
        group.addButton(self.per_invoice)
        (self.one_file if defaults.one_file else self.per_invoice).setChecked(True)
        where = QVBoxLayout()
        where.addWidget(self.one_file)
        where.addWidget(self.per_invoice)
        form.addRow(self.tr("Save as:"), where)
        self.count_label = hint(self.tr("Counting…"))
        self.count_label.setObjectName("batch_count")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.go = self.buttons.addButton(self.tr("Save PDF…"),
                                         QDialogButtonBox.ButtonRole.AcceptRole)
        self.go.setObjectName("go")
        self.go.setIcon(icon("pdf"))
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.addWidget(hint(self.tr("Issued invoices only, oldest first.")))
        layout.addLayout(form)
        layout.addWidget(self.count_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)
        for w in (self.date_from, self.date_to):
            w.dateChanged.connect(lambda _d: self.count())
        self.status.currentIndexChanged.connect(lambda _i: self.count())
        self.only_customer.toggled.connect(lambda _on: self.count())
        self.only_search.toggled.connect(lambda _on: self.count())
        self.count()

    def options(self) -> BatchOptions:
        only = self.only_customer.isChecked() and self.defaults.customer_id is not None
        return BatchOptions(self.date_from.date().toPython(), self.date_to.date().toPython(),
                            self.status.currentData() or None,
                            self.defaults.customer_id if only else None,
                            self.defaults.customer_name if only else "",
                            self.one_file.isChecked(), self.paper.currentData(),
                            self.defaults.search if self.only_search.isChecked() else "")

    def count(self) -> None:
        o = self.options()
        if self.count_task is not None:
            self.count_task.cancel()
        filters = Filters.of(o.search, date_from=o.date_from, date_to=o.date_to,
                             status=o.status or "issued_any", customer_id=o.customer_id)
        self.count_label.setText(self.tr("Counting…"))
        self.count_task = run_in_background(sales_lists.INVOICES.count, self.env.ctx, filters,
                                            parent=self, name="count batch",
                                            on_done=self._counted, on_error=self._count_failed)

    def _counted(self, n: int) -> None:
        self.count_task = None
        self.count_label.setStyleSheet(message_style("" if n else "warning"))
        self.count_label.setText(self.tr("1 invoice will be saved.") if n == 1 else
                                 self.tr("{n} invoices will be saved.").format(n=f"{n:,}")
                                 if n else self.tr("No issued invoices in these dates."))
        self.go.setEnabled(n > 0)

    def _count_failed(self, exc: BaseException) -> None:
        self.count_task = None
        self.count_label.setStyleSheet(message_style("error"))
        self.count_label.setText(exc.message if isinstance(exc, UserError)
                                 else self.tr("The invoices could not be counted."))
        self.go.setEnabled(False)

    def _accept(self) -> None:
        options = self.options()
        self.accept()
        self.chosen.emit(options)


# ============================================================== credit notes


class CreditNoteDialog(FormDialog):
    """Choose how much of each line of an issued invoice comes back; date, reason, restock."""

    QTY_COLUMN = 4

    def __init__(self, env: PageEnv, invoice: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Credit note for {number}").format(number=invoice.number),
                         locale=env.locale, parent=parent, save_text=_tr("Issue credit note"),
                         intro=_tr("Credit note against {number} for {customer}. Enter how "
                                   "much of each line comes back; lines left empty are not "
                                   "credited.").format(number=invoice.number,
                                                       customer=invoice.bill_to_name))
        self.env = env
        self.invoice = invoice
        self.edits: dict[int, QLineEdit] = {}
        self.left: dict[int, Decimal] = {}
        grid = QWidget()
        box = QVBoxLayout(grid)
        box.setContentsMargins(0, 0, 0, 0)
        self.table = _grid_table([self.tr("#"), self.tr("Item"), self.tr("Sold"),
                                  self.tr("Credited"), self.tr("Credit now"), self.tr("Rate")],
                                 {0, 2, 3, 4, 5})
        self.table.setObjectName("credit_lines")
        _size_columns(self.table, {0: 36, 2: 80, 3: 80, 4: 110, 5: 110}, 1)
        locale = env.locale
        for ln in invoice.lines:
            row = self.table.rowCount()
            self.table.insertRow(row)
            left = ln.quantity - ln.credited_quantity
            self.left[ln.line_no] = left
            unit = f" {ln.unit}" if ln.unit else ""
            for column, text in ((0, str(ln.line_no)), (1, ln.description),
                                 (2, _qty(ln.quantity, locale) + unit),
                                 (3, _qty(ln.credited_quantity, locale) if ln.credited_quantity
                                  else ""), (5, _money(ln.unit_price, locale))):
                item = QTableWidgetItem(text)
                if column != 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            edit = QLineEdit()
            edit.setObjectName(f"credit_qty_{ln.line_no}")
            edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            edit.setPlaceholderText(self.tr("up to {n}").format(n=_qty(left, locale))
                                    if left > 0 else "–")
            edit.setToolTip(self.tr("Up to {n} can still be credited").format(
                n=_qty(left, locale)))
            edit.setEnabled(left > 0)
            edit.textChanged.connect(lambda _t: self.form.field_changed("lines"))
            self.table.setCellWidget(row, self.QTY_COLUMN, edit)
            self.edits[ln.line_no] = edit
        self.table.setMinimumHeight(min(60 + 34 * len(invoice.lines), 260))
        self.all_button = QPushButton(self.tr("Credit &everything left"))
        self.all_button.setObjectName("credit_all")
        self.all_button.clicked.connect(self.credit_everything)
        below = QHBoxLayout()
        below.addWidget(self.all_button)
        below.addStretch(1)
        box.addWidget(self.table, 1)
        box.addLayout(below)
        self.form.add_widget("lines", self.tr("Lines"), grid, value=self.quantities,
                             checks=[self._check_lines], stretch=True)
        self.form.alias("quantity", "lines")
        self.date = self.form.add_date("note_date", self.tr("&Date"), value=env.ctx.today())
        self.form.add_text("reason", self.tr("&Reason"), max_length=1000,
                           placeholder=self.tr("Returned damaged, price corrected …"))
        self.form.add_check("restock", self.tr("Goods &came back: return them to stock"),
                            value=True)
        _chain_tabs([self.date, self.form.fields["reason"].widget,
                     self.form.fields["restock"].widget, *self.edits.values(), self.all_button,
                     self.save_button])
        first = next((e for e in self.edits.values() if e.isEnabled()), None)
        if first is not None:
            first.setFocus()
        self.resize(720, 520)

    def quantities(self) -> dict[int, str]:
        return {no: e.text().strip() for no, e in self.edits.items() if e.text().strip()}

    def _check_lines(self, value: Any) -> str | None:
        for no, text in (value or {}).items():
            try:
                qty = parse_number(text, self.env.locale)
            except ValueError:
                return self.tr("Line {no}: enter a quantity, such as 1 or 2.5.").format(no=no)
            if qty < 0:
                return self.tr("Line {no}: the quantity cannot be negative.").format(no=no)
            if qty > self.left[no]:
                return self.tr("Line {no}: only {n} can still be credited.").format(
                    no=no, n=_qty(self.left[no], self.env.locale))
        return None

    def credit_everything(self) -> None:
        for no, edit in self.edits.items():
            if self.left[no] > 0:
                edit.setText(_qty(self.left[no], self.env.locale))

    def save(self) -> None:
        from erp_desktop.services import sales

        v = self.form.values()
        lines = []
        if self.form.is_valid():
            lines = [sales.CreditLineIn(no, parse_number(text, self.env.locale))
                     for no, text in (v["lines"] or {}).items()
                     if parse_number(text, self.env.locale) != 0]
        self.form.submit(sales.issue_credit_note, self.env.ctx, self.invoice.id, lines,
                         note_date=v["note_date"], reason=v["reason"] or None,
                         restock=v["restock"], on_done=self.saved)


class CreditNotesTab(_ListTab):
    """Credit notes; preview, print, save as PDF."""

    key = "credit_notes"

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, parent)
        self.period = PeriodFilter(env.ctx.today())
        self.period.changed.connect(self._filters_changed)
        self.preview_action = QAction(icon("print"), self.tr("Preview / print"), self)
        self.preview_action.setObjectName("preview_credit_note")
        self.preview_action.setToolTip(self.tr("Preview the credit note, print it (Ctrl+P)"))
        self.preview_action.triggered.connect(self.preview)
        self.save_action = QAction(icon("pdf"), self.tr("Save as PDF…"), self)
        self.save_action.setObjectName("save_credit_note")
        self.save_action.triggered.connect(self.save_pdf)
        self.list = ListPanel(ListSource(sales_lists.CREDIT_NOTES, env.ctx), locale=env.locale,
                              noun=(self.tr("credit note"), self.tr("credit notes")),
                              search_hint=self.tr("Search number, invoice, customer…"),
                              extra=[self.period],
                              actions=[self.preview_action, self.save_action])
        self.list.row_activated.connect(lambda _row: self.preview())
        self.list.commands_changed.connect(self._selection_changed)
        self.notice = _notice()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.notice)
        layout.addWidget(hint(self.tr(
            "A credit note is issued from its invoice (Invoices tab, Credit note…). "
            "Double-click one here to see or print it.")))
        self.setFocusProxy(self.list)
        self._selection_changed()

    def _filters_changed(self) -> None:
        date_from, date_to = self.period.range()
        self.list.set_filters(self.list.model.filters.with_extra(date_from=date_from,
                                                                 date_to=date_to))

    def _selection_changed(self) -> None:
        has = self.list.current_row() is not None
        self.preview_action.setEnabled(has)
        self.save_action.setEnabled(has)
        self.commands_changed.emit()

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def commands(self) -> set[Command]:
        out = self.list.commands()
        if self.list.current_row() is not None:
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.PRINT:
            self.preview()
        else:
            self.list.run_command(command)

    def preview(self) -> Task | None:
        row = self.list.current_row()
        if row is None:
            return None
        return preview_credit_note(self, self.env, row.id, row.number)

    def save_pdf(self, path: Path | None = None) -> Task | None:
        row = self.list.current_row()
        if row is None:
            return None
        from erp_desktop.services import invoice_pdf

        ctx, note_id = self.env.ctx, row.id
        return printing.save_pdf_as(
            self, lambda: invoice_pdf.credit_note_pdf(ctx, note_id),
            title=self.tr("Save credit note as PDF"), file_name=invoice_pdf.file_name(row.number),
            path=path, on_saved=lambda p: _say(self.notice, self.tr("Saved {path}.").format(
                path=html.escape(str(p)))))


# =================================================================== payments


class ReceivePaymentDialog(FormDialog):
    """Money received from a customer, spread over their open invoices.

    Choosing the customer lists what they owe, oldest due first; typing the
    amount fills "Pay now" oldest first (`sales_lists.suggest_allocation`)
    until a figure is typed by hand ("Oldest first" fills again). What is not
    allocated is kept as the customer's credit. `sales.record_payment` decides.
    """

    PAY_COLUMN = 4

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Receive payment"), locale=env.locale, parent=parent,
                         save_text=_tr("Record payment"))
        from erp_desktop.services.sales import METHOD_LABELS

        self.env = env
        self.account: Any = None  # sales_lists.OpenAccount of the chosen customer
        self.account_task: Task | None = None
        self.manual = False  # "Pay now" typed by hand: typing the amount leaves it alone
        self.edits: list[QLineEdit] = []
        self._filling = False
        self._wanted: dict[uuid.UUID, Decimal] = {}  # preset allocation (take payment)

        self.picker = CustomerPicker(env)
        self.picker.chosen.connect(self._customer_chosen)
        self.form.add_widget("customer", self.tr("&Customer"), self.picker,
                             value=self.picker.value,
                             checks=[lambda v: None if isinstance(v, uuid.UUID) else self.tr(
                                 "Choose the customer from the list.")])
        self.amount = self.form.add_decimal("amount", self.tr("&Amount"), required=True,
                                            minimum=Decimal("0.01"), placeholder="0.00")
        self.amount.textChanged.connect(lambda _t: self._amount_changed())
        self.form.add_date("payment_date", self.tr("&Date"), value=env.ctx.today())
        self.method = self.form.add_choice("method", self.tr("&Method"),
                                           [(k, _tr(v)) for k, v in METHOD_LABELS.items()])
        self.form.add_text("reference", self.tr("&Reference"), max_length=60,
                           placeholder=self.tr("UPI / card slip / cheque number and bank"))

        grid = QWidget()
        box = QVBoxLayout(grid)
        box.setContentsMargins(0, 0, 0, 0)
        self.table = _grid_table([self.tr("Invoice"), self.tr("Date"), self.tr("Due"),
                                  self.tr("Balance due"), self.tr("Pay now")], {3, 4})
        self.table.setObjectName("allocations")
        _size_columns(self.table, {1: 110, 2: 110, 3: 140, 4: 140}, 0)
        self.table.setMinimumHeight(150)
        self.oldest_button = QPushButton(self.tr("&Oldest first"))
        self.oldest_button.setObjectName("oldest_first")
        self.oldest_button.setToolTip(self.tr("Settle the oldest invoices first with the amount"))
        self.oldest_button.clicked.connect(self.fill_oldest_first)
        self.summary = QLabel()
        self.summary.setObjectName("allocation_summary")
        self.summary.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.summary.setWordWrap(True)
        below = QHBoxLayout()
        below.addWidget(self.oldest_button)
        below.addWidget(self.summary, 1)
        box.addWidget(self.table, 1)
        box.addLayout(below)
        self.form.add_widget("grid", self.tr("Settles"), grid, value=self.allocations_text,
                             checks=[self._check_allocations], stretch=True)
        self.form.alias("allocations", "grid")
        self.form.alias("on", "payment_date")
        self._summarise()
        self.resize(760, 600)

    # ---- the customer and their invoices

    def preset(self, customer_id: uuid.UUID, name: str, code: str, *,
               invoice_id: uuid.UUID | None = None, amount: Decimal | None = None) -> None:
        """Start with a customer (and one invoice's balance to take), as from an invoice."""
        if invoice_id is not None and amount is not None:
            self._wanted = {invoice_id: amount}
        if amount is not None:
            self.amount.setText(_amount_text(amount, self.env.locale))
        self.picker.choose(_Picked(customer_id, name, code))

    def _customer_chosen(self, row: Any) -> None:
        self.form.field_changed("customer")
        self.account = None
        self._fill_table([])
        if row is None:
            return
        if self.account_task is not None:
            self.account_task.cancel()
        self.summary.setText(self.tr("Reading what {name} owes…").format(name=row.name))
        self.account_task = run_in_background(sales_lists.open_account, self.env.ctx, row.id,
                                              parent=self, name="open invoices",
                                              on_done=self._account_loaded,
                                              on_error=self.form.show_error)

    def _account_loaded(self, account: Any) -> None:
        self.account_task = None
        self.account = account
        self._fill_table(account.invoices)
        if self._wanted:
            self.manual = True
            self._set_amounts([self._wanted.get(i.id, Decimal(0)) for i in account.invoices])
            self._wanted = {}
        else:
            self.manual = False
            self.fill_oldest_first()
        self._summarise()

    def _fill_table(self, invoices: list[Any]) -> None:
        locale = self.env.locale
        self.table.setRowCount(0)
        self.edits = []
        for inv in invoices:
            row = self.table.rowCount()
            self.table.insertRow(row)
            cells = (inv.number, format_date(inv.invoice_date, locale),
                     format_date(inv.due_date, locale) if inv.due_date else "",
                     _money(inv.balance, locale))
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if column == 2 and inv.due_date is not None \
                        and inv.due_date < self.env.ctx.today():
                    item.setForeground(QBrush(QColor(tones().error)))
                    item.setToolTip(self.tr("Overdue"))
                self.table.setItem(row, column, item)
            edit = QLineEdit()
            edit.setObjectName(f"pay_{row}")
            edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            edit.setPlaceholderText("0.00")
            edit.textEdited.connect(lambda _t: self._typed_allocation())
            edit.textChanged.connect(lambda _t: self._allocation_changed())
            self.table.setCellWidget(row, self.PAY_COLUMN, edit)
            self.edits.append(edit)
        fields = self.form.fields
        _chain_tabs([self.picker.edit, self.amount, fields["payment_date"].widget, self.method,
                     fields["reference"].widget, *self.edits, self.oldest_button,
                     self.save_button])
        self._summarise()

    # ---- amounts

    def _number(self, text: str) -> Decimal | None:
        try:
            return parse_number(text, self.env.locale) if text.strip() else Decimal(0)
        except ValueError:
            return None

    def _amount_value(self) -> Decimal:
        value = self._number(self.amount.text())
        return value if value is not None else Decimal(0)

    def _amount_changed(self) -> None:
        if not self.manual:
            self.fill_oldest_first()
        self._summarise()

    def _typed_allocation(self) -> None:
        if not self._filling:
            self.manual = True

    def _allocation_changed(self) -> None:
        self.form.field_changed("grid")
        self._summarise()

    def _set_amounts(self, amounts: list[Decimal]) -> None:
        self._filling = True
        try:
            for edit, amount in zip(self.edits, amounts, strict=False):
                edit.setText(_amount_text(amount, self.env.locale) if amount > 0 else "")
        finally:
            self._filling = False

    def fill_oldest_first(self) -> None:
        if self.account is None:
            return
        self.manual = False
        balances = [i.balance.amount for i in self.account.invoices]
        self._set_amounts(sales_lists.suggest_allocation(balances, self._amount_value()))
        self._summarise()

    def allocations_text(self) -> list[str]:
        return [e.text().strip() for e in self.edits]

    def allocated(self) -> Decimal:
        total = Decimal(0)
        for e in self.edits:
            value = self._number(e.text())
            total += value if value is not None else Decimal(0)
        return total

    def _check_allocations(self, texts: Any) -> str | None:
        for n, text in enumerate(texts or []):
            value = self._number(text)
            if value is None or value < 0:
                inv = self.account.invoices[n] if self.account is not None else None
                return self.tr("Enter an amount for {number}, such as 1,250.50.").format(
                    number=inv.number if inv else n + 1)
        if self.allocated() > self._amount_value() and self._amount_value() > 0:
            return self.tr("The invoices take more than the payment; lower one of them or "
                           "raise the amount.")
        return None

    def _summarise(self) -> None:
        if self.account is None:
            currency = None
        else:
            currency = self.account.currency
        amount, allocated = self._amount_value(), self.allocated()
        if currency is None:
            self.summary.setText(self.tr("Choose the customer to see their open invoices."))
            self.summary.setStyleSheet(message_style(""))
            return
        locale = self.env.locale
        credit = amount - allocated

        def m(value: Decimal) -> str:
            return format_money(Money(value, currency), locale)

        parts = [self.tr("Allocated {amount}").format(amount=m(allocated))]
        if credit > 0:
            parts.append(self.tr("{amount} kept as credit").format(amount=m(credit)))
        elif credit < 0:
            parts.append(self.tr("{amount} more than the payment").format(amount=m(-credit)))
        if not self.account.invoices:
            parts = [self.tr("{name} owes nothing now: the whole payment is kept as "
                             "credit.").format(name=self.account.customer_name)]
        elif self.account.credit:
            parts.append(self.tr("already holds {amount} of credit").format(
                amount=format_money(self.account.credit, locale)))
        self.summary.setText(" · ".join(parts))
        self.summary.setStyleSheet(message_style("error" if credit < 0 else ""))

    # ---- saving

    def save(self) -> None:
        from erp_desktop.services import sales

        if not self.form.validate():
            return
        v = self.form.values()
        if not isinstance(v["customer"], uuid.UUID):
            self.form.show_error(ValidationError(self.tr("Choose the customer who paid."),
                                                 field="customer"))
            return
        allocations = []
        if self.account is not None:
            for inv, edit in zip(self.account.invoices, self.edits, strict=False):
                value = self._number(edit.text()) or Decimal(0)
                if value > 0:
                    allocations.append(sales.Allocation(inv.id, value))
        if self.account is not None and self.account.invoices and not allocations:
            self.form.show_error(ValidationError(self.tr(
                "Choose what this payment settles (Oldest first fills it in)."), field="grid"))
            return
        self.form.submit(sales.record_payment, self.env.ctx, v["customer"], v["amount"],
                         v["method"], payment_date=v["payment_date"],
                         reference=v["reference"] or None, allocations=allocations or None,
                         on_done=self.saved, validate=False)


@dataclass(frozen=True)
class _Picked:
    """A customer named by the caller (not from a search): what `CustomerPicker` needs."""

    id: uuid.UUID
    name: str
    code: str


class PaymentsTab(_ListTab):
    """Payments received; Receive payment; the receipt as PDF."""

    key = "payments"

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, parent)
        from erp_desktop.services.sales import METHOD_LABELS

        self.may_record = env.can("sales.payment.record")
        self.period = PeriodFilter(env.ctx.today())
        self.period.changed.connect(self._filters_changed)
        self.method = QComboBox()
        self.method.setObjectName("method_filter")
        self.method.addItem(self.tr("Any method"), "")
        for key, text in METHOD_LABELS.items():
            self.method.addItem(_tr(text), key)
        self.method.currentIndexChanged.connect(self._filters_changed)
        self.receive_action = QAction(icon("payment"), self.tr("Receive payment…"), self)
        self.receive_action.setObjectName("receive_payment")
        self.receive_action.setToolTip(self.tr("Record money received from a customer (Ctrl+N)"))
        self.receive_action.triggered.connect(self.receive_payment)
        self.receipt_action = QAction(icon("print"), self.tr("Receipt"), self)
        self.receipt_action.setObjectName("print_receipt")
        self.receipt_action.setToolTip(self.tr("Preview and print the receipt (Ctrl+P)"))
        self.receipt_action.triggered.connect(self.preview_receipt)
        actions = [self.receipt_action] + ([self.receive_action] if self.may_record else [])
        self.list = ListPanel(ListSource(sales_lists.PAYMENTS, env.ctx), locale=env.locale,
                              noun=(self.tr("payment"), self.tr("payments")),
                              search_hint=self.tr("Search receipt, reference, customer…"),
                              extra=[self.period, self.method], actions=actions,
                              on_new=self.receive_payment if self.may_record else None)
        self.list.row_activated.connect(lambda _row: self.preview_receipt())
        self.list.commands_changed.connect(self._selection_changed)
        self.notice = _notice()
        self.notice.linkActivated.connect(self._notice_link)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.notice)
        self.setFocusProxy(self.list)
        self._selection_changed()

    def _filters_changed(self) -> None:
        date_from, date_to = self.period.range()
        self.list.set_filters(self.list.model.filters.with_extra(
            date_from=date_from, date_to=date_to, method=self.method.currentData() or None))

    def _selection_changed(self) -> None:
        self.receipt_action.setEnabled(self.list.current_row() is not None)
        self.commands_changed.emit()

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def commands(self) -> set[Command]:
        out = self.list.commands()
        if self.list.current_row() is not None:
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.PRINT:
            self.preview_receipt()
        else:
            self.list.run_command(command)

    def receive_payment(self, customer: Any = None) -> ReceivePaymentDialog:
        dialog = ReceivePaymentDialog(self.env, parent=self)
        if customer is not None:
            dialog.preset(customer.id, customer.name, customer.code)
        dialog.accepted.connect(lambda: self._recorded(dialog.result_value))
        dialog.open()
        return dialog

    def _recorded(self, payment: Any) -> None:
        _say(self.notice, self.tr("Receipt {number} recorded for {amount}. "
                                  "<a href='receipt:{id}'>Print the receipt</a>").format(
            number=html.escape(payment.number), amount=_money(payment.amount, self.env.locale),
            id=payment.id))
        self._changed_data()

    def _notice_link(self, link: str) -> None:
        kind, _, ref = link.partition(":")
        if kind == "receipt":
            preview_receipt(self, self.env, uuid.UUID(ref), "")

    def preview_receipt(self) -> Task | None:
        row = self.list.current_row()
        if row is None:
            return None
        return preview_receipt(self, self.env, row.id, row.number)


# ================================================================== customers


@dataclass(frozen=True)
class _StatementCells:
    date: str
    number: str
    description: str
    debit: str
    credit: str
    balance: str


class CustomerDialog(FormDialog):
    """A new customer, or a change to one: every field `services.customers` keeps."""

    def __init__(self, env: PageEnv, row: Any = None, price_lists: list[Any] | None = None,
                 parent: QWidget | None = None) -> None:
        title = _tr("New customer") if row is None else _tr("Customer {code}").format(
            code=row.code)
        super().__init__(title, locale=env.locale, parent=parent,
                         save_text=_tr("Add customer") if row is None else None)
        self.env = env
        self.row = row
        self.version = row.version if row is not None else None
        f = self.form
        f.add_text("name", self.tr("&Name"), required=True, max_length=200)
        if row is None:
            f.add_text("code", self.tr("C&ode"), max_length=20,
                       placeholder=self.tr("Given automatically (C00001 …)"))
        f.add_multiline("billing_address", self.tr("&Billing address"), lines=2)
        f.add_multiline("shipping_address", self.tr("S&hipping address"), lines=2,
                        placeholder=self.tr("Leave empty when it is the billing address"))
        place = QWidget()
        line = QHBoxLayout(place)
        line.setContentsMargins(0, 0, 0, 0)
        self.city = QLineEdit()
        self.city.setObjectName("city")
        self.city.setPlaceholderText(self.tr("City"))
        self.city.setMaxLength(100)
        self.state = QLineEdit()
        self.state.setObjectName("state")
        self.state.setPlaceholderText(self.tr("State (from the GSTIN if empty)"))
        self.state.setMaxLength(100)
        self.postal = QLineEdit()
        self.postal.setObjectName("postal_code")
        self.postal.setPlaceholderText(self.tr("PIN / postcode"))
        self.postal.setMaxLength(20)
        self.postal.setMaximumWidth(120)
        line.addWidget(self.city, 3)
        line.addWidget(self.state, 4)
        line.addWidget(self.postal, 2)
        f.add_widget("place", self.tr("City, state"), place,
                     value=lambda: (self.city.text(), self.state.text(), self.postal.text()))
        for service_field in ("city", "state", "state_code", "postal_code"):
            f.alias(service_field, "place")
        country = QWidget()
        line = QHBoxLayout(country)
        line.setContentsMargins(0, 0, 0, 0)
        self.country = QLineEdit()
        self.country.setObjectName("country")
        self.country.setMaxLength(2)
        self.country.setMaximumWidth(60)
        self.country.setPlaceholderText(self.tr("IN"))
        self.country.setToolTip(self.tr("Two letters: IN, DE, US …"))
        self.currency = QLineEdit()
        self.currency.setObjectName("currency")
        self.currency.setMaxLength(3)
        self.currency.setMaximumWidth(70)
        self.currency.setPlaceholderText(self.tr("INR"))
        self.currency.setToolTip(self.tr("The customer's currency (the company's if empty)"))
        currency_label = QLabel(self.tr("C&urrency"))
        currency_label.setBuddy(self.currency)
        line.addWidget(self.country)
        line.addSpacing(12)
        line.addWidget(currency_label)
        line.addWidget(self.currency)
        line.addStretch(1)
        f.add_widget("country_currency", self.tr("Countr&y"), country,
                     value=lambda: (self.country.text(), self.currency.text()))
        f.alias("country", "country_currency")
        f.alias("currency", "country_currency")
        f.add_text("gstin", self.tr("&GSTIN"), max_length=15,
                   placeholder=self.tr("15 characters, e.g. 29AAKCS4821M1ZS"))
        f.add_text("vat_id", self.tr("&VAT ID"), max_length=20)
        contact = QWidget()
        line = QHBoxLayout(contact)
        line.setContentsMargins(0, 0, 0, 0)
        self.phone = QLineEdit()
        self.phone.setObjectName("phone")
        self.phone.setPlaceholderText(self.tr("Phone"))
        self.phone.setMaxLength(40)
        self.email = QLineEdit()
        self.email.setObjectName("email")
        self.email.setPlaceholderText(self.tr("E-mail"))
        self.email.setMaxLength(200)
        line.addWidget(self.phone, 2)
        line.addWidget(self.email, 3)
        f.add_widget("contact", self.tr("&Phone, e-mail"), contact,
                     value=lambda: (self.phone.text(), self.email.text()))
        f.alias("phone", "contact")
        f.alias("email", "contact")
        f.add_integer("payment_terms_days", self.tr("Payment &terms (days)"), value=0,
                      minimum=0, maximum=365)
        f.add_decimal("credit_limit", self.tr("Credit &limit"), minimum=Decimal(0),
                      placeholder=self.tr("No limit"))
        self.price_list = f.add_choice("price_list", self.tr("P&rice list"),
                                       [("", self.tr("The default price list"))])
        for pl in price_lists or []:
            self.price_list.addItem(pl.name + ("" if pl.active else self.tr(" (inactive)")),
                                    pl.name)
        f.add_multiline("notes", self.tr("N&otes"), lines=2)
        if row is not None:
            f.add_check("active", self.tr("&Active (can be invoiced)"), value=row.active)
        w = f.fields
        chain = [w["name"].widget, *([w["code"].widget] if row is None else []),
                 w["billing_address"].widget, w["shipping_address"].widget, self.city,
                 self.state, self.postal, self.country, self.currency, w["gstin"].widget,
                 w["vat_id"].widget, self.phone, self.email, w["payment_terms_days"].widget,
                 w["credit_limit"].widget, self.price_list, w["notes"].widget,
                 *([w["active"].widget] if row is not None else []), self.save_button]
        for name in ("billing_address", "shipping_address", "notes"):
            _fit_caption(f, name)
        place.setFocusProxy(self.city)
        country.setFocusProxy(self.country)
        contact.setFocusProxy(self.phone)
        _chain_tabs(chain)
        f.reload_requested.connect(self.reload)
        if row is not None:
            self._fill(row)
        self.setMinimumWidth(600)

    def _fill(self, row: Any) -> None:
        self.form.set_values({
            "name": row.name, "billing_address": row.billing_address or "",
            "shipping_address": row.shipping_address or "",
            "gstin": row.gstin or "", "vat_id": row.vat_id or "",
            "payment_terms_days": row.payment_terms_days,
            "credit_limit": "" if row.credit_limit is None else f"{row.credit_limit.amount:f}",
            "price_list": row.price_list or "", "notes": row.notes or "",
            "active": row.active})
        self.city.setText(row.city or "")
        self.state.setText(row.state or "")
        self.postal.setText(row.postal_code or "")
        self.country.setText(row.country or "")
        self.currency.setText(row.currency or "")
        self.phone.setText(row.phone or "")
        self.email.setText(row.email or "")

    def field_values(self) -> dict[str, Any]:
        """The fields as the service takes them (empty text: None)."""
        v = self.form.values()

        def text(value: str) -> str | None:
            return value.strip() or None

        out: dict[str, Any] = {
            "name": v["name"], "billing_address": text(v["billing_address"]),
            "shipping_address": text(v["shipping_address"]), "city": text(self.city.text()),
            "state": text(self.state.text()), "postal_code": text(self.postal.text()),
            "country": text(self.country.text().upper()),
            "currency": text(self.currency.text().upper()), "gstin": text(v["gstin"]),
            "vat_id": text(v["vat_id"]), "phone": text(self.phone.text()),
            "email": text(self.email.text()),
            "payment_terms_days": v["payment_terms_days"] or 0,
            "credit_limit": v["credit_limit"], "price_list": v["price_list"] or None,
            "notes": text(v["notes"])}
        if self.row is not None:
            out["active"] = v["active"]
        return out

    def changes(self) -> dict[str, Any]:
        """What differs from the customer as read (an edit sends only that)."""
        r = self.row
        before = {"name": r.name, "billing_address": r.billing_address,
                  "shipping_address": r.shipping_address, "city": r.city, "state": r.state,
                  "postal_code": r.postal_code, "country": r.country, "currency": r.currency,
                  "gstin": r.gstin, "vat_id": r.vat_id, "phone": r.phone, "email": r.email,
                  "payment_terms_days": r.payment_terms_days,
                  "credit_limit": None if r.credit_limit is None else r.credit_limit.amount,
                  "price_list": r.price_list, "notes": r.notes, "active": r.active}
        return {k: v for k, v in self.field_values().items() if before.get(k) != v}

    def save(self) -> None:
        from erp_desktop.services import customers

        if not self.form.validate():
            return
        values = self.field_values()
        if self.row is None:
            code = self.form.value("code") or None
            self.form.submit(customers.create_customer, self.env.ctx, code=code,
                             on_done=self.saved, validate=False, **values)
            return
        changes = self.changes()
        if not changes:
            self.saved(self.row)
            return
        self.form.submit(customers.update_customer, self.env.ctx, self.row.id,
                         expected_version=self.version, on_done=self.saved, validate=False,
                         **changes)

    def reload(self) -> None:
        from erp_desktop.services import customers

        if self.row is None:
            return
        run_in_background(customers.get_customer, self.env.ctx, self.row.id, parent=self,
                          name="reload customer", on_done=self._reloaded,
                          on_error=self.form.show_error)

    def _reloaded(self, row: Any) -> None:
        self.row = row
        self.version = row.version
        self._fill(row)


class CustomersTab(_ListTab):
    """Customers (paged) over the selected customer's balance and statement."""

    key = "customers"

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, parent)
        self.may_edit = env.can("sales.customers.manage")
        self.may_report = env.can("sales.reports")
        self.customer: Any = None  # the CustomerListRow selected
        self.statement: Any = None
        self.statement_task: Task | None = None
        self.show_invoices: Callable[[Any], None] | None = None
        self.receive_from: Callable[[Any], None] | None = None
        self.dialog: CustomerDialog | None = None  # the New / Edit dialog opened last
        self.inactive = QCheckBox(self.tr("Show &inactive"))
        self.inactive.setObjectName("show_inactive")
        self.inactive.toggled.connect(lambda on: self.list.set_filters(
            self.list.model.filters.with_extra(include_inactive=True if on else None)))
        self.new_action = QAction(icon("new"), self.tr("New customer"), self)
        self.new_action.setObjectName("new_customer")
        self.new_action.setToolTip(self.tr("Add a customer (Ctrl+N)"))
        self.new_action.triggered.connect(self.new_customer)
        self.edit_action = QAction(icon("edit"), self.tr("Edit…"), self)
        self.edit_action.setObjectName("edit_customer")
        self.edit_action.setToolTip(self.tr("Change the selected customer (Enter)"))
        self.edit_action.triggered.connect(self.edit_current)
        actions = [self.edit_action, self.new_action] if self.may_edit else []
        self.list = ListPanel(ListSource(sales_lists.CUSTOMERS, env.ctx), locale=env.locale,
                              noun=(self.tr("customer"), self.tr("customers")),
                              search_hint=self.tr("Search name, code, phone, GSTIN…"),
                              extra=[self.inactive], actions=actions,
                              on_new=self.new_customer if self.may_edit else None)
        self.list.row_activated.connect(self.edit_customer)
        self.list.current_row_changed.connect(self._customer_selected)
        self.list.commands_changed.connect(self.commands_changed)

        # ---- the selected customer
        self.title = QLabel(self.tr("Select a customer to see their statement."))
        self.title.setObjectName("customer_title")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.invoices_button = _button("customer_invoices", self.tr("Invoices"), "sales",
                                       self.tr("Show this customer's invoices"))
        self.invoices_button.clicked.connect(
            lambda: self.show_invoices(self.customer) if self.show_invoices and self.customer
            else None)
        self.pay_button = _button("customer_payment", self.tr("Receive payment…"), "payment",
                                  self.tr("Record money received from this customer"))
        self.pay_button.clicked.connect(
            lambda: self.receive_from(self.customer) if self.receive_from and self.customer
            else None)
        self.pay_button.setVisible(env.can("sales.payment.record"))
        today = env.ctx.today()
        start = (today.replace(day=1) - timedelta(days=62)).replace(day=1)
        self.date_from = _date_edit("statement_from", start)
        self.date_to = _date_edit("statement_to", today)
        self.date_from.dateChanged.connect(lambda _d: self.load_statement())
        self.date_to.dateChanged.connect(lambda _d: self.load_statement())
        self.csv_button = _button("statement_csv", self.tr("Export CSV…"), "save",
                                  self.tr("Save the statement as a CSV file"))
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.statement_model = RowsModel([
            (self.tr("Date"), lambda r: r.date, False),
            (self.tr("Number"), lambda r: r.number, False),
            (self.tr("Details"), lambda r: r.description, False),
            (self.tr("Debit"), lambda r: r.debit, True),
            (self.tr("Credit"), lambda r: r.credit, True),
            (self.tr("Balance"), lambda r: r.balance, True)], self)
        self.statement_view = rows_table(self.statement_model)
        self.statement_view.setObjectName("statement")
        _size_columns(self.statement_view, {0: 110, 1: 200, 3: 130, 4: 130, 5: 140}, 2)
        self.statement_note = hint(wrap=False)
        self.statement_note.setObjectName("statement_note")
        self.notice = _notice()

        detail = QWidget()
        box = QVBoxLayout(detail)
        box.setContentsMargins(0, 6, 0, 0)
        box.setSpacing(6)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.invoices_button)
        top.addWidget(self.pay_button)
        box.addLayout(top)
        bar = QHBoxLayout()
        caption = QLabel(self.tr("&Statement from"))
        caption.setBuddy(self.date_from)
        bar.addWidget(caption)
        bar.addWidget(self.date_from)
        to = QLabel(self.tr("to"))
        bar.addWidget(to)
        bar.addWidget(self.date_to)
        bar.addWidget(self.statement_note, 1)
        bar.addWidget(self.csv_button)
        box.addLayout(bar)
        box.addWidget(self.statement_view, 1)
        if not self.may_report:
            for w in (caption, to, self.date_from, self.date_to, self.csv_button,
                      self.statement_note, self.statement_view):
                w.setVisible(False)
            box.addWidget(hint(self.tr("Your role does not include statements; the balance "
                                       "is shown above.")))
            box.addStretch(1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.notice)
        self.setFocusProxy(self.list)
        self._show_actions()

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def _show_actions(self) -> None:
        has = self.customer is not None
        self.edit_action.setEnabled(has)
        self.invoices_button.setEnabled(has)
        self.pay_button.setEnabled(has)
        self.csv_button.setEnabled(self.statement is not None)

    # ---- selection and statement

    def _customer_selected(self, row: Any) -> None:
        if row is None:
            return
        self.customer = row
        locale = self.env.locale
        parts = [f"<b>{html.escape(row.name)}</b>", html.escape(row.code)]
        if row.balance:
            parts.append(self.tr("owes {amount}").format(amount=_money(row.balance, locale)))
        else:
            parts.append(self.tr("owes nothing"))
        if row.credit:
            parts.append(self.tr("holds {amount} of credit").format(
                amount=_money(row.credit, locale)))
        self.title.setText(" · ".join(parts))
        self._show_actions()
        self.load_statement()

    def load_statement(self) -> None:
        if self.customer is None or not self.may_report:
            return
        from erp_desktop.services import sales

        if self.statement_task is not None:
            self.statement_task.cancel()
        self.statement_note.setStyleSheet(message_style(""))
        self.statement_note.setText(self.tr("Loading…"))
        self.statement_task = run_in_background(
            sales.customer_statement, self.env.ctx, self.customer.id,
            self.date_from.date().toPython(), self.date_to.date().toPython(), parent=self,
            name="statement", on_done=self._statement_loaded, on_error=self._statement_failed)

    def _statement_loaded(self, st: Any) -> None:
        self.statement_task = None
        self.statement = st
        locale = self.env.locale
        rows = [_StatementCells(format_date(st.date_from, locale), "", self.tr("Opening balance"),
                                "", "", _money(st.opening_balance, locale))]
        rows += [_StatementCells(format_date(r.date, locale), r.number, _tr(r.description),
                                 _money(r.debit, locale, blank_zero=True),
                                 _money(r.credit, locale, blank_zero=True),
                                 _money(r.balance, locale)) for r in st.rows]
        rows.append(_StatementCells(format_date(st.date_to, locale), "",
                                    self.tr("Closing balance"), "", "",
                                    _money(st.closing_balance, locale)))
        self.statement_model.set_rows(rows, bold_rows={0, len(rows) - 1})
        n = len(st.rows)
        self.statement_note.setText(self.tr("1 entry") if n == 1 else
                                    self.tr("{n} entries").format(n=n))
        self._show_actions()

    def _statement_failed(self, exc: BaseException) -> None:
        self.statement_task = None
        self.statement = None
        self.statement_model.set_rows([])
        self.statement_note.setStyleSheet(message_style("error"))
        self.statement_note.setText(exc.message if isinstance(exc, UserError)
                                    else self.tr("The statement could not be read."))
        if not isinstance(exc, UserError):
            _show_failure(self, exc)
        self._show_actions()

    def export_csv(self, path: Path | None = None) -> Task | None:
        st = self.statement
        if st is None:
            return None
        from erp_desktop.services import sales

        name = f"statement-{st.customer_code}-{st.date_from.isoformat()}-" \
               f"{st.date_to.isoformat()}.csv"
        return printing.write_text_file(
            self, sales.statement_csv(st), title=self.tr("Export statement"), file_name=name,
            file_filter=self.tr("CSV files (*.csv)"), path=path,
            on_saved=lambda p: _say(self.notice, self.tr("Saved {path}.").format(
                path=html.escape(str(p)))))

    # ---- new and edit

    def new_customer(self) -> None:
        from erp_desktop.services import customers

        run_in_background(customers.list_price_lists, self.env.ctx, parent=self,
                          name="price lists", on_done=lambda pls: self._open_dialog(None, pls))

    def edit_current(self) -> None:
        self.edit_customer(self.customer)

    def edit_customer(self, row: Any) -> None:
        if not self.may_edit or row is None:
            return
        from erp_desktop.services import customers

        def both(ctx: Any, customer_id: uuid.UUID) -> tuple[Any, Any]:
            return customers.get_customer(ctx, customer_id), customers.list_price_lists(ctx)

        run_in_background(both, self.env.ctx, row.id, parent=self, name="open customer",
                          on_done=lambda got: self._open_dialog(*got))

    def _open_dialog(self, row: Any, price_lists: list[Any]) -> CustomerDialog:
        dialog = CustomerDialog(self.env, row, price_lists, parent=self)
        dialog.accepted.connect(lambda: self._saved(dialog.result_value, row is None))
        dialog.open()
        self.dialog = dialog
        return dialog

    def _saved(self, row: Any, new: bool) -> None:
        _say(self.notice, (self.tr("Added {name} ({code}).") if new else
                           self.tr("Saved {name}.")).format(name=html.escape(row.name),
                                                            code=html.escape(row.code)))
        self._changed_data()


# ================================================================ the area page


TABS = (("counter", "Counter", "counter"), ("invoices", "Invoices", "sales"),
        ("customers", "Customers", "customers"), ("payments", "Payments", "payment"),
        ("credit_notes", "Credit notes", "credit_note"))


class SalesPage(CommandPage):
    """The Sales area: a tab per job the role allows (see the module docstring)."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        layout = page_frame(self, self.tr("Sales"), self.tr(
            "Sell at the counter, find and print invoices, customers and their statements, "
            "payments received and credit notes."))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("sales_tabs")
        self.tabs.setDocumentMode(True)
        self.lazy: dict[str, _LazyTab] = {}
        allowed = {
            "counter": env.can("sales.invoice.issue") or env.can("sales.invoice.create"),
            "invoices": env.can("sales.view"), "customers": env.can("sales.view"),
            "payments": env.can("sales.view"), "credit_notes": env.can("sales.view")}
        factories: dict[str, Callable[[], QWidget]] = {
            "counter": lambda: _counter_tab(env), "invoices": self._invoices,
            "customers": self._customers, "payments": self._payments,
            "credit_notes": self._credit_notes}
        for key, title, icon_name in TABS:
            if not allowed[key]:
                continue
            tab = _LazyTab(key, factories[key])
            tab.setObjectName(f"tab_{key}")
            tab.commands_changed.connect(self.commands_changed)
            self.lazy[key] = tab
            self.tabs.addTab(tab, icon(icon_name), _tr(title))
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)

    # ---- the tabs' pages

    def _invoices(self) -> QWidget:
        tab = InvoicesTab(self.env)
        tab.data_changed.connect(self._data_changed)
        return tab

    def _customers(self) -> QWidget:
        tab = CustomersTab(self.env)
        tab.data_changed.connect(self._data_changed)
        tab.show_invoices = lambda row: self.show_invoices_of(row.id, row.name)
        tab.receive_from = self._receive_from
        return tab

    def _payments(self) -> QWidget:
        tab = PaymentsTab(self.env)
        tab.data_changed.connect(self._data_changed)
        return tab

    def _credit_notes(self) -> QWidget:
        tab = CreditNotesTab(self.env)
        tab.data_changed.connect(self._data_changed)
        return tab

    def _data_changed(self, source: str) -> None:
        """A payment, credit note or customer was saved: the other lists read again when
        they next show."""
        for key, lazy in self.lazy.items():
            if key != source and isinstance(lazy.content, _ListTab):
                lazy.content.mark_stale()

    def _receive_from(self, row: Any) -> None:
        payments = self.tab("payments")
        if isinstance(payments, PaymentsTab):
            payments.receive_payment(row)

    def tab_keys(self) -> list[str]:
        return list(self.lazy)

    def tab(self, key: str) -> QWidget:
        """The page of tab `key`, built if it was not yet (KeyError if not allowed)."""
        return self.lazy[key].build()

    def show_tab(self, key: str) -> QWidget:
        lazy = self.lazy[key]
        self.tabs.setCurrentWidget(lazy)
        lazy.on_shown()
        return lazy.build()

    def show_invoices_of(self, customer_id: uuid.UUID, name: str) -> None:
        invoices = self.show_tab("invoices")
        if isinstance(invoices, InvoicesTab):
            invoices.set_customer(customer_id, name)

    # ---- commands

    def _tab_changed(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        if isinstance(current, CommandPage):
            current.on_shown()
        self.commands_changed.emit()

    def on_shown(self) -> None:
        self._tab_changed(self.tabs.currentIndex())

    def delegate_to(self) -> CommandPage | None:
        current = self.tabs.currentWidget()
        return current if isinstance(current, CommandPage) else None
