"""Purchases: vendors, purchase orders and receiving, vendor bills and debit notes, payments.

`PurchasesPage` is a tab per kind of record; the common commands (New, Find,
Refresh, Next/Previous) go to the tab on top. Every list is a paged
`ListPanel` over `services.purchase_lists` (search as you type, a filter, SQL
sort); beside the search box sit the actions the user's role allows, enabled
for the selected row's state (the services refuse the rest anyway, and a
refusal is shown under the list in their words).

Orders and bills show the selected document's lines below the list. Products
are entered on a line by SKU or name with completion as you type, or by a
barcode scanner (Enter looks the code up). Receiving lists each line's open
quantity and takes all or part of it into a chosen warehouse; a bill is made
from an order's received goods or typed on its own (stock lines or expense
accounts, input tax); posting makes it final and a debit note corrects it. A
payment settles one or several of a vendor's open bills, fully or in part.
Every dialog is a `FormDialog`: a refusal appears under the field it
concerns, and a change made meanwhile by someone else is a banner with Reload.
"""

from __future__ import annotations

import html
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import partial
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, QStringListModel, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.services.listing import ListSource, format_date, format_number
from erp_desktop.ui.forms import FormDialog, parse_number
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import ListPanel
from erp_desktop.ui.shortcuts import CommandPage
from erp_desktop.ui.widgets import (
    PageEnv,
    RowsModel,
    hint,
    message_style,
    page_frame,
    rows_table,
)
from erp_desktop.ui.worker import Task, run_in_background

CENT = Decimal("0.01")


def _tr(text: str) -> str:
    return QCoreApplication.translate("purchases", text)


def _noop(text: str) -> str:
    return text


ORDER_FILTERS = (("", _noop("All orders")), ("open", _noop("To receive")),
                 ("draft", _noop("Drafts")), ("ordered", _noop("Ordered")),
                 ("partially_received", _noop("Partially received")),
                 ("received", _noop("Received")), ("cancelled", _noop("Cancelled")))
BILL_FILTERS = (("", _noop("All bills")), ("unpaid", _noop("Unpaid")),
                ("overdue", _noop("Overdue")), ("draft", _noop("Drafts")),
                ("paid", _noop("Paid")), ("cancelled", _noop("Cancelled")))
ORDER_STATES = {"draft": _noop("draft"), "ordered": _noop("ordered"),
                "partially_received": _noop("partially received"),
                "received": _noop("received"), "cancelled": _noop("cancelled")}
BILL_STATES = {"draft": _noop("draft"), "open": _noop("posted, unpaid"),
               "partially_paid": _noop("posted, partly paid"), "paid": _noop("posted, paid"),
               "cancelled": _noop("cancelled")}


# =================================================================== helpers


def qty_text(value: Decimal) -> str:
    """A quantity as a person types it: no trailing zeros, no separators."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def qty_shown(value: Decimal, locale: str) -> str:
    return format_number(Decimal(qty_text(value)), locale)


def money_text(value: Money | None, locale: str) -> str:
    return "" if value is None else format_money(value, locale)


def amount_text(value: Decimal, currency: str | None, locale: str) -> str:
    """A computed amount for display while typing (the service rounds the real one)."""
    value = value.quantize(CENT, rounding=ROUND_HALF_UP)
    if currency:
        try:
            return format_money(Money(value, currency), locale)
        except UserError:
            pass
    return format_number(value, locale)


def read_number(edit: QLineEdit, locale: str) -> Decimal | None:
    """The number typed in `edit` (None when empty); ValueError when it is not one."""
    text = edit.text().strip()
    if not text:
        return None
    return parse_number(text, locale)


class OptionalDate(QWidget):
    """A date that may be left out: a date edit beside a check box saying what then."""

    changed = Signal()

    def __init__(self, none_text: str, default: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("d MMM yyyy")  # unambiguous in every locale
        self.edit.setDate(QDate(default))
        self.edit.setFixedWidth(220)  # as wide as the other date fields
        self.none = QCheckBox(none_text)
        self.none.setChecked(True)
        self.edit.setEnabled(False)
        self.none.toggled.connect(lambda on: (self.edit.setEnabled(not on), self.changed.emit()))
        self.edit.dateChanged.connect(lambda _d: self.changed.emit())
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit)
        row.addWidget(self.none)
        row.addStretch(1)
        self.setFocusProxy(self.edit)
        QWidget.setTabOrder(self.edit, self.none)

    def value(self) -> date | None:
        return None if self.none.isChecked() else self.edit.date().toPython()

    def set_value(self, value: date | None) -> None:
        self.none.setChecked(value is None)
        if value is not None:
            self.edit.setDate(QDate(value))


def number_edit(placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    edit.setPlaceholderText(placeholder)
    edit.setMaxLength(24)
    return edit


def grid(headers: Sequence[str], right: Sequence[int] = ()) -> QTableWidget:
    """A table of cell widgets (lines being typed): no selection, headings over figures."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
    table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    table.setShowGrid(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    header = table.horizontalHeader()
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    for column in right:
        item = table.horizontalHeaderItem(column)
        if item is not None:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    table.verticalHeader().setDefaultSectionSize(34)
    return table


def figure(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    label.setContentsMargins(6, 0, 6, 0)
    return label


def size_columns(table: QTableWidget, widths: Sequence[int | None]) -> None:
    """Fixed widths in pixels; None stretches."""
    header = table.horizontalHeader()
    for column, width in enumerate(widths):
        if width is None:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        else:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, width)


def chain_tabs(widgets: Sequence[QWidget]) -> None:
    for a, b in itertools.pairwise(widgets):
        QWidget.setTabOrder(a, b)


class LookupEdit(QLineEdit):
    """A line edit that completes as you type from a service search, on the worker.

    `search(text)` returns rows, `label_of(row)` names them; picking one from
    the list (or typing a label exactly) chooses it (`chosen(row)`). Enter on
    text that is no label asks `resolve(text)` (an exact code: a scanned
    barcode, a SKU); nothing found is `not_found(text)`.
    """

    chosen = Signal(object)
    not_found = Signal(str)
    DELAY_MS = 250

    def __init__(self, search: Callable[[str], Sequence[Any]], label_of: Callable[[Any], str],
                 resolve: Callable[[str], Any] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self._label_of = label_of
        self._resolve = resolve
        self.payload: Any = None
        self._chosen_text: str | None = None
        self._items: dict[str, Any] = {}
        self._task: Task | None = None
        self._model = QStringListModel(self)
        self._completer = QCompleter(self._model, self)
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.activated[str].connect(self.pick)
        self.setCompleter(self._completer)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(self.DELAY_MS)
        self._timer.timeout.connect(self.search_now)
        self.textEdited.connect(lambda _t: self._timer.start())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter looks the code up here (a scanner ends each barcode with it); it must not
        # reach the dialog, whose default button would save the half-typed document.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) \
                and not self._completer.popup().isVisible():
            self.enter()
            event.accept()
            return
        super().keyPressEvent(event)

    def search_now(self) -> None:
        self._timer.stop()
        text = self.text().strip()
        if not text or text == self._chosen_text:
            return
        if self._task is not None:
            self._task.cancel()
        self._task = run_in_background(self._search, text, parent=self, name="lookup",
                                       on_done=partial(self._found, text),
                                       on_error=lambda _exc: setattr(self, "_task", None))

    def _found(self, text: str, rows: Sequence[Any]) -> None:
        self._task = None
        if text != self.text().strip():
            return  # typed on meanwhile: a newer search follows
        self._items = {self._label_of(r): r for r in rows}
        self._model.setStringList(list(self._items))
        if rows and self.hasFocus():
            self._completer.complete()

    def pick(self, label: str) -> None:
        """Choose the listed row named `label` (what picking it from the list does)."""
        row = self._items.get(label)
        if row is not None:
            self.choose(row)

    def choose(self, row: Any) -> None:
        self.payload = row
        self._chosen_text = self._label_of(row)
        self._items.setdefault(self._chosen_text, row)
        self.setText(self._chosen_text)
        self._completer.popup().hide()
        self.chosen.emit(row)

    def enter(self) -> None:
        """Enter: take the label typed or listed, or look the text up as a code."""
        text = self.text().strip()
        if not text:
            return
        if self.payload is not None and text == self._chosen_text:
            self.chosen.emit(self.payload)  # Enter again: move on
            return
        if text in self._items:
            self.pick(text)
            return
        if self._resolve is None:
            return
        self._timer.stop()
        run_in_background(self._resolve, text, parent=self, name="look up code",
                          on_done=partial(self._resolved, text),
                          on_error=lambda _exc: self.not_found.emit(text))

    def _resolved(self, text: str, row: Any) -> None:
        if text != self.text().strip():
            return
        if row is None:
            self.not_found.emit(text)
        else:
            self.choose(row)

    def value(self) -> Any:
        """The chosen row, while the text still names it; else None."""
        if self.payload is not None and self.text().strip() == self._chosen_text:
            return self.payload
        return None

    def reset(self) -> None:
        self.payload = None
        self._chosen_text = None
        self.clear()


def vendor_lookup(env: PageEnv) -> LookupEdit:
    from erp_desktop.services import purchasing

    def search(text: str) -> list[Any]:
        return purchasing.list_vendors(env.ctx, text, limit=20).rows

    edit = LookupEdit(search, lambda v: v.name)
    edit.setPlaceholderText(_tr("Start typing the vendor's name"))
    return edit


def vendor_ref(edit: LookupEdit) -> uuid.UUID | str:
    chosen = edit.value()
    return chosen.id if chosen is not None else edit.text().strip()


def product_lookup(env: PageEnv) -> LookupEdit:
    from erp_desktop.services import catalogue

    edit = LookupEdit(lambda text: catalogue.search_products(env.ctx, text, 15),
                      lambda p: f"{p.sku} · {p.name}",
                      lambda code: catalogue.find_by_code(env.ctx, code))
    edit.setPlaceholderText(_tr("SKU, name or scan a barcode"))
    return edit


def product_ref(edit: LookupEdit) -> str:
    chosen = edit.value()
    if chosen is not None:
        return str(chosen.sku)
    text = edit.text().strip()
    return text.split(" · ", 1)[0].strip() if " · " in text else text


def load_bill(ctx: Any, bill_id: uuid.UUID) -> tuple[Any, dict[uuid.UUID, str]]:
    """A bill and the names of its products (on the worker: two reads)."""
    from erp_desktop.services import purchase_lists, purchasing

    bill = purchasing.get_bill(ctx, bill_id)
    return bill, purchase_lists.product_names(
        ctx, [ln.product_id for ln in bill.lines if ln.product_id is not None])


def line_label(line: Any, names: dict[uuid.UUID, str]) -> str:
    """What a bill line is: "SKU · product name", or "account · description"."""
    if line.sku:
        name = names.get(line.product_id) or line.description or ""
        return f"{line.sku} · {name}" if name else line.sku
    return " · ".join(x for x in (line.account_code or "", line.description or "") if x)


def tidy_multiline(form: Any, name: str) -> None:
    """Keep a multi-line field's caption as tall as the field (not its default hint)."""
    f = form.fields[name]
    caption = form.layout.labelForField(f.row)
    if isinstance(caption, QLabel):
        caption.setFixedHeight(f.widget.height())
        caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)


def load_warehouses(env: PageEnv, combo: QComboBox, parent: QWidget, keep: str | None = None,
                    done: Callable[[], None] | None = None) -> None:
    """Fill `combo` with the warehouses (code as data) after its first, empty item."""
    from erp_desktop.services import inventory

    def loaded(rows: list[Any]) -> None:
        current = keep if keep is not None else combo.currentData()
        while combo.count() > 1:
            combo.removeItem(1)
        for w in rows:
            combo.addItem(f"{w.code} · {w.name}", w.code)
        index = combo.findData(current) if current else -1
        if index >= 0:
            combo.setCurrentIndex(index)
        elif combo.count() == 2 and not combo.itemData(0):
            combo.setCurrentIndex(1)  # one warehouse: the obvious choice
        if done is not None:
            done()

    run_in_background(inventory.list_warehouses, env.ctx, parent=parent, name="warehouses",
                      on_done=loaded, on_error=lambda _exc: None)


# ============================================================ lines of a document


@dataclass
class _Line:
    product: LookupEdit
    account: QComboBox | None
    description: QLineEdit | None
    quantity: QLineEdit
    cost: QLineEdit
    tax: QLineEdit
    amount: QLabel
    order_line_id: uuid.UUID | None = None

    def widgets(self) -> list[QWidget]:
        out: list[QWidget] = [self.product]
        if self.account is not None:
            out.append(self.account)
        if self.description is not None:
            out.append(self.description)
        return [*out, self.quantity, self.cost, self.tax]


class LinesEditor(QWidget):
    """The lines of an order (product, quantity, unit cost, tax %) or of a bill (also an
    expense account and a description); amounts and totals follow the typing."""

    changed = Signal()

    def __init__(self, env: PageEnv, *, bill: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.bill = bill
        self.currency: str | None = None
        self.accounts: list[tuple[str, str]] = []  # (code, "code · name")
        self.lookup_problem: str | None = None
        self.lines: list[_Line] = []
        headers = [self.tr("Product")]
        if bill:
            headers += [self.tr("Expense account"), self.tr("Description")]
        headers += [self.tr("Quantity"), self.tr("Unit cost"), self.tr("Tax %"),
                    self.tr("Amount")]
        n = len(headers)
        self.table = grid(headers, right=(n - 4, n - 3, n - 2, n - 1))
        self.table.setObjectName("lines_grid")
        widths: list[int | None] = [None] + ([190, 170] if bill else []) + [90, 110, 70, 130]
        size_columns(self.table, widths)
        self.table.setMinimumHeight(170)
        self.add_button = QPushButton(icon("new"), self.tr("Add line"))
        self.add_button.setObjectName("add_line")
        self.add_button.setToolTip(self.tr("Add a line (Ctrl+Enter)"))
        self.add_button.clicked.connect(lambda: self.add_row(focus=True))
        self.remove_button = QPushButton(icon("close"), self.tr("Remove line"))
        self.remove_button.setObjectName("remove_line")
        self.remove_button.clicked.connect(self.remove_current)
        self.totals = QLabel()
        self.totals.setObjectName("totals")
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.totals)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=lambda: self.add_row(focus=True))
        self.add_row()
        self._update()

    # ---- rows

    def add_row(self, focus: bool = False) -> _Line:
        row = self.table.rowCount()
        self.table.insertRow(row)
        product = product_lookup(self.env)
        product.setObjectName(f"product_{row}")
        account = description = None
        if self.bill:
            account = QComboBox()
            account.setObjectName(f"account_{row}")
            account.setToolTip(self.tr("For a line without a product: the expense it is"))
            self._fill_accounts(account)
            description = QLineEdit()
            description.setObjectName(f"description_{row}")
            description.setPlaceholderText(self.tr("What was bought"))
        quantity = number_edit("1" if self.bill else "")
        quantity.setObjectName(f"quantity_{row}")
        cost = number_edit("0.00")
        cost.setObjectName(f"cost_{row}")
        tax = number_edit("0")
        tax.setObjectName(f"tax_{row}")
        amount = figure()
        line = _Line(product, account, description, quantity, cost, tax, amount)
        self.lines.append(line)
        for column, widget in enumerate([*line.widgets(), amount]):
            self.table.setCellWidget(row, column, widget)
        product.chosen.connect(partial(self._product_chosen, line))
        product.not_found.connect(self._not_found)
        product.textEdited.connect(lambda _t: self._typing_again())
        product.textChanged.connect(lambda _t: self._product_typed(line))
        for edit in (quantity, cost, tax, description):
            if edit is not None:
                edit.textChanged.connect(lambda _t: self._update())
        if account is not None:
            account.currentIndexChanged.connect(lambda _i: self._update())
        self._chain()
        if focus:
            product.setFocus()
        self._update()
        return line

    def remove_current(self) -> None:
        focused = self.focusWidget()
        index = len(self.lines) - 1
        for i, line in enumerate(self.lines):
            if focused in line.widgets():
                index = i
        if len(self.lines) > 1 and index >= 0:
            self.table.removeRow(index)
            del self.lines[index]
            self._chain()
            self._update()

    def clear_rows(self) -> None:
        while self.table.rowCount():
            self.table.removeRow(0)
        self.lines.clear()

    def _chain(self) -> None:
        widgets: list[QWidget] = []
        for line in self.lines:
            widgets += line.widgets()
        chain_tabs([*widgets, self.add_button, self.remove_button])

    def first_widget(self) -> QWidget:
        return self.lines[0].product

    def set_line(self, index: int, *, product: str = "", quantity: str = "", cost: str = "",
                 tax: str = "", description: str = "", account: str = "",
                 order_line_id: uuid.UUID | None = None, fixed: bool = False) -> _Line:
        """Fill line `index` (added as needed); `fixed`: the product cannot be changed."""
        while len(self.lines) <= index:
            self.add_row()
        line = self.lines[index]
        line.product.setText(product)
        line.product.setReadOnly(fixed)
        line.order_line_id = order_line_id
        line.quantity.setText(quantity)
        line.cost.setText(cost)
        line.tax.setText(tax)
        if line.description is not None:
            line.description.setText(description)
        if line.account is not None:
            i = line.account.findData(account)
            line.account.setCurrentIndex(max(i, 0))
        self._product_typed(line)
        self._update()
        return line

    # ---- products and accounts

    def set_accounts(self, accounts: list[tuple[str, str]]) -> None:
        self.accounts = accounts
        for line in self.lines:
            if line.account is not None:
                keep = line.account.currentData()
                line.account.blockSignals(True)
                self._fill_accounts(line.account)
                i = line.account.findData(keep)
                line.account.setCurrentIndex(max(i, 0))
                line.account.blockSignals(False)

    def _fill_accounts(self, combo: QComboBox) -> None:
        combo.clear()
        combo.addItem(self.tr("Purchases (non-stock)"), "")
        for code, text in self.accounts:
            combo.addItem(text, code)

    def _product_chosen(self, line: _Line, product: Any) -> None:
        self.lookup_problem = None
        if self.currency is None:
            self.currency = product.purchase_price.currency
        if not line.cost.text().strip():
            line.cost.setText(str(product.purchase_price.amount))
        line.quantity.setPlaceholderText(product.unit)
        if line.description is not None and not line.description.text().strip():
            line.description.setPlaceholderText(product.name)
        self._product_typed(line)
        line.quantity.setFocus()
        line.quantity.selectAll()
        self._update()

    def _product_typed(self, line: _Line) -> None:
        """A product line posts to the product's account: the expense account stands aside."""
        if line.account is not None:
            has_product = bool(line.product.text().strip())
            if has_product:
                line.account.setCurrentIndex(0)
            line.account.setEnabled(not has_product)

    def _typing_again(self) -> None:
        if self.lookup_problem is not None:
            self.lookup_problem = None
            self.changed.emit()

    def _not_found(self, text: str) -> None:
        self.lookup_problem = self.tr("No product has the code “{code}”. Type part of its "
                                      "name or SKU and pick it from the list.").format(code=text)
        self.changed.emit()

    # ---- values

    def problem(self) -> str | None:
        """What the form can tell without the services: numbers that are not numbers."""
        for i, line in enumerate(self.lines, start=1):
            for edit, what in ((line.quantity, self.tr("quantity")),
                               (line.cost, self.tr("unit cost")),
                               (line.tax, self.tr("tax rate"))):
                try:
                    read_number(edit, self.env.locale)
                except ValueError:
                    return self.tr("Line {n}: the {what} “{text}” is not a number.").format(
                        n=i, what=what, text=edit.text())
        return self.lookup_problem

    def _filled(self) -> list[_Line]:
        out = []
        for line in self.lines:
            texts = [line.product.text(), line.quantity.text(), line.cost.text()]
            if line.description is not None:
                texts.append(line.description.text())
            if line.account is not None and line.account.currentData():
                texts.append("account")
            if any(t.strip() for t in texts):
                out.append(line)
        return out

    def _number(self, edit: QLineEdit) -> Decimal | str | None:
        try:
            return read_number(edit, self.env.locale)
        except ValueError:
            return edit.text()  # the form's own check stops it before the service sees it

    def order_lines(self) -> list[Any]:
        from erp_desktop.services.purchasing import OrderLineInput

        return [OrderLineInput(product_ref(line.product),
                               self._number(line.quantity) or "",
                               self._number(line.cost),
                               self._number(line.tax) or Decimal(0))
                for line in self._filled()]

    def bill_lines(self) -> list[Any]:
        from erp_desktop.services.purchasing import BillLineInput

        out = []
        for line in self._filled():
            assert line.account is not None and line.description is not None
            product = product_ref(line.product) or None
            out.append(BillLineInput(
                product=product if line.order_line_id is None else None,
                quantity=self._number(line.quantity) or Decimal(1),
                unit_cost=self._number(line.cost),
                tax_rate=self._number(line.tax) or Decimal(0),
                description=line.description.text().strip() or None,
                account=(line.account.currentData() or None) if not product else None,
                order_line_id=line.order_line_id))
        return out

    def _update(self) -> None:
        subtotal = tax_total = Decimal(0)
        for line in self.lines:
            try:
                qty = read_number(line.quantity, self.env.locale)
                cost = read_number(line.cost, self.env.locale)
                rate = read_number(line.tax, self.env.locale) or Decimal(0)
            except ValueError:
                line.amount.setText("")
                continue
            if qty is None and self.bill and cost is not None:
                qty = Decimal(1)
            if qty is None or cost is None:
                line.amount.setText("")
                continue
            net = (qty * cost).quantize(CENT, rounding=ROUND_HALF_UP)
            tax = (net * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP)
            subtotal += net
            tax_total += tax
            line.amount.setText(amount_text(net, self.currency, self.env.locale))
        locale = self.env.locale
        self.totals.setText(self.tr("Subtotal {s} · Tax {t} · <b>Total {x}</b>").format(
            s=amount_text(subtotal, self.currency, locale),
            t=amount_text(tax_total, self.currency, locale),
            x=amount_text(subtotal + tax_total, self.currency, locale)))
        self.changed.emit()


# ===================================================================== vendors


VENDOR_FIELDS = ("name", "contact_person", "email", "phone", "address", "city", "state",
                 "state_code", "country", "tax_id", "payment_terms_days", "bank_name",
                 "bank_account", "bank_code", "notes")


class VendorDialog(FormDialog):
    """A new vendor, or a vendor's details (optimistic locking: Reload on a conflict)."""

    def __init__(self, env: PageEnv, vendor: Any = None, parent: QWidget | None = None) -> None:
        title = _tr("New vendor") if vendor is None else _tr("Vendor {name}").format(
            name=vendor.name)
        super().__init__(title, locale=env.locale, parent=parent,
                         save_text=_tr("Add vendor") if vendor is None else None)
        self.env = env
        self.vendor_id: uuid.UUID | None = vendor.id if vendor is not None else None
        self.version: int = vendor.version if vendor is not None else 0
        f = self.form
        f.add_text("name", _tr("Name"), required=True, max_length=200,
                   placeholder=_tr("Bharat Fasteners Pvt Ltd"))
        f.add_text("contact_person", _tr("Contact person"), max_length=200)
        f.add_text("email", _tr("E-mail"), max_length=200, placeholder="sales@example.com")
        f.add_text("phone", _tr("Phone"), max_length=40)
        f.add_multiline("address", _tr("Address"), lines=2)
        f.add_text("city", _tr("City"), max_length=100)
        f.add_text("state", _tr("State"), max_length=100)
        f.add_text("state_code", _tr("State code"), max_length=8, placeholder="29")
        f.add_text("country", _tr("Country"), max_length=2, placeholder="IN")
        f.add_text("tax_id", _tr("Tax id (GSTIN / VAT)"), max_length=40)
        f.add_integer("payment_terms_days", _tr("Payment terms (days)"), value=30, minimum=0,
                      maximum=365)
        f.add_text("bank_name", _tr("Bank"), max_length=120)
        f.add_text("bank_account", _tr("Bank account"), max_length=40)
        f.add_text("bank_code", _tr("Bank code (IFSC / BIC)"), max_length=20)
        f.add_multiline("notes", _tr("Notes"), lines=2)
        if vendor is not None:
            f.add_check("active", _tr("Active (can be ordered from)"), value=vendor.active)
            self._fill(vendor)
        tidy_multiline(f, "address")
        tidy_multiline(f, "notes")
        for name in ("state_code", "country", "payment_terms_days"):
            widget = f.fields[name].widget
            widget.setMaximumWidth(120)
        f.reload_requested.connect(self.reload)
        self.resize(560, 640)

    def _fill(self, vendor: Any) -> None:
        values = {n: getattr(vendor, n) for n in VENDOR_FIELDS}
        values["active"] = vendor.active
        self.form.set_values(values)

    def reload(self) -> None:
        from erp_desktop.services import purchasing

        if self.vendor_id is None:
            return
        run_in_background(purchasing.get_vendor, self.env.ctx, self.vendor_id, parent=self,
                          name="reload vendor", on_done=self._reloaded,
                          on_error=self.form.show_error)

    def _reloaded(self, vendor: Any) -> None:
        self.version = vendor.version
        self._fill(vendor)
        self.form.show_banner(_tr("Reloaded: these are the details as saved now."),
                              kind="success")

    def _values(self) -> dict[str, Any]:
        v = self.form.values()
        out = {n: (v[n] or None) for n in VENDOR_FIELDS if n != "payment_terms_days"}
        out["name"] = v["name"]
        terms = v["payment_terms_days"]
        out["payment_terms_days"] = 30 if terms is None else terms
        return out

    def save(self) -> None:
        from erp_desktop.services import purchasing

        values = self._values()
        if self.vendor_id is None:
            self.form.submit(purchasing.create_vendor, self.env.ctx,
                             purchasing.VendorInput(**values), on_done=self.saved)
        else:
            values["active"] = self.form.value("active")
            self.form.submit(purchasing.update_vendor, self.env.ctx, self.vendor_id,
                             version=self.version, **values, on_done=self.saved)


# =============================================================== shared tab shape


class _ListTab(CommandPage):
    """A paged list with its actions, a message line, and an optional detail below."""

    data_changed = Signal()

    def _build(self, query: Any, *, noun: tuple[str, str], search_hint: str,
               extra: Sequence[QWidget] = (), actions: Sequence[QAction] = (),
               on_new: Callable[[], Any] | None = None, detail: QWidget | None = None,
               filters: Any = None) -> None:
        self.list = ListPanel(ListSource(query, self.env.ctx), locale=self.env.locale,
                              noun=noun, search_hint=search_hint, extra=extra, actions=actions,
                              on_new=on_new, filters=filters)
        self.list.current_row_changed.connect(self._selection)
        self.list.commands_changed.connect(self.commands_changed)
        self._keep: uuid.UUID | None = None  # the row to select again once reloaded
        self.list.model.dataChanged.connect(lambda *_a: self._reselect())
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        if detail is None:
            layout.addWidget(self.list, 1)
        else:
            splitter = QSplitter(Qt.Orientation.Vertical)
            splitter.addWidget(self.list)
            splitter.addWidget(detail)
            splitter.setStretchFactor(0, 3)
            splitter.setStretchFactor(1, 2)
            splitter.setChildrenCollapsible(False)
            layout.addWidget(splitter, 1)
        layout.addWidget(self.message)

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def _selection(self, row: Any) -> None:
        """The selected row changed: enable the actions that fit it."""

    def action(self, name: str, icon_name: str, text: str, tip: str,
               slot: Callable[[], Any]) -> QAction:
        act = QAction(icon(icon_name), text, self)
        act.setObjectName(name)
        act.setToolTip(tip)
        act.triggered.connect(lambda: slot())
        return act

    def say(self, text: str, kind: str = "success") -> None:
        self.message.setStyleSheet(message_style(kind))
        self.message.setText(text)

    def failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserError):
            self.say(exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            self.say(self.tr("Something went wrong; nothing was changed."), "error")
            show_error(self, exc)

    def changed(self) -> None:
        """Something was written: read the list again and tell the other tabs."""
        row = self.list.current_row()
        self._keep = getattr(row, "id", None)
        self.list.refresh()
        self.data_changed.emit()

    def _reselect(self) -> None:
        """After a reload, select the row that was selected (if it is still listed)."""
        if self._keep is None:
            return
        model = self.list.model
        size = model.page_size
        for page in sorted(model.cached_pages):
            for i in range(page * size, min((page + 1) * size, model.rowCount())):
                row = model.row_at(i)
                if row is not None and row.id == self._keep:
                    self._keep = None
                    self.list.view.select_row(i)
                    return
        if 0 in model.cached_pages:
            self._keep = None  # not on the first page any more: leave the selection

    def run(self, fn: Callable[..., Any], *args: Any, done: Callable[[Any], str],
            name: str, **kwargs: Any) -> Task:
        """Run a use case on the worker; say what it did, or its refusal."""
        def finished(result: Any) -> None:
            self.say(done(result))
            self.changed()

        return run_in_background(partial(fn, *args, **kwargs), parent=self, name=name,
                                 on_done=finished, on_error=self.failed)

    def open_dialog(self, dialog: FormDialog, done: Callable[[Any], str]) -> FormDialog:
        def accepted() -> None:
            self.say(done(dialog.result_value))
            self.changed()

        dialog.accepted.connect(accepted)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.last_dialog = dialog
        return dialog

    def confirm(self, title: str, text: str, yes: str, then: Callable[[], Any]) -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Question, title, text,
                          QMessageBox.StandardButton.Cancel, self)
        button = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda clicked: then() if clicked is button else None)
        box.open()
        return box


class VendorsTab(_ListTab):
    """Vendors (paged, search as you type) with New and Edit for those who may."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import purchase_lists

        self.env = env
        self.last_dialog: FormDialog | None = None
        self.may_manage = env.can("purchases.manage")
        self.inactive = QCheckBox(self.tr("Show inactive"))
        self.inactive.setObjectName("show_inactive")
        self.inactive.toggled.connect(lambda on: self.list.set_filters(
            self.list.model.filters.with_extra(include_inactive=on or None)))
        self.new_action = self.action("new_vendor", "new", self.tr("New vendor…"),
                                      self.tr("Add a vendor (Ctrl+N)"), self.new_vendor)
        self.edit_action = self.action("edit_vendor", "edit", self.tr("Edit…"),
                                       self.tr("Change the selected vendor's details"),
                                       self.edit_vendor)
        actions = [self.new_action, self.edit_action] if self.may_manage else []
        self._build(purchase_lists.VENDORS, noun=(self.tr("vendor"), self.tr("vendors")),
                    search_hint=self.tr("Search name, contact, phone, city, tax id…"),
                    extra=[self.inactive], actions=actions,
                    on_new=self.new_vendor if self.may_manage else None)
        self.list.row_activated.connect(lambda row: self.edit_vendor(row))
        self._selection(None)

    def _selection(self, row: Any) -> None:
        self.edit_action.setEnabled(row is not None and self.may_manage)

    def new_vendor(self) -> FormDialog:
        return self.open_dialog(VendorDialog(self.env, parent=self),
                                lambda v: self.tr("Vendor {name} added.").format(name=v.name))

    def edit_vendor(self, row: Any = None) -> Task | None:
        row = row or self.list.current_row()
        if row is None or not self.may_manage:
            return None
        from erp_desktop.services import purchasing

        return run_in_background(
            purchasing.get_vendor, self.env.ctx, row.id, parent=self, name="vendor",
            on_error=self.failed, on_done=lambda v: self.open_dialog(
                VendorDialog(self.env, v, parent=self),
                lambda saved: self.tr("Vendor {name} saved.").format(name=saved.name)))


# ============================================================== purchase orders


class OrderDialog(FormDialog):
    """A new purchase order, or a draft's changes: vendor, expected date, lines."""

    def __init__(self, env: PageEnv, order: Any = None, parent: QWidget | None = None) -> None:
        title = _tr("New purchase order") if order is None else _tr(
            "Purchase order {number}").format(number=order.number)
        super().__init__(title, locale=env.locale, parent=parent, save_text=_tr("Save draft"),
                         intro=_tr("A draft can be changed until it is placed with the vendor."))
        self.env = env
        self.order = order
        self.vendor = vendor_lookup(env)
        self.form.add_widget("vendor", _tr("Vendor"), self.vendor,
                             value=lambda: vendor_ref(self.vendor))
        self.form.fields["vendor"].required = True
        self.vendor.textChanged.connect(lambda _t: self.form.field_changed("vendor"))
        self.expected = OptionalDate(_tr("Not agreed yet"), env.ctx.today())
        self.form.add_widget("expected_date", _tr("Expected by"), self.expected,
                             value=self.expected.value)
        self.expected.changed.connect(lambda: self.form.field_changed("expected_date"))
        self.warehouse = self.form.add_choice("warehouse", _tr("Deliver to"),
                                              [("", _tr("(choose when receiving)"))])
        self.form.add_text("notes", _tr("Notes"), max_length=500)
        self.editor = LinesEditor(env)
        self.form.add_widget("lines", _tr("Lines"), self.editor, value=self.editor.order_lines,
                             checks=[lambda _v: self.editor.problem()], stretch=True)
        self.editor.changed.connect(lambda: self.form.field_changed("lines"))
        for name in ("product", "quantity", "unit_cost", "tax_rate"):
            self.form.alias(name, "lines")
        self.form.reload_requested.connect(self.reload)
        self.resize(900, 600)
        load_warehouses(env, self.warehouse, self,
                        keep=order.warehouse_code if order is not None else None)
        run_in_background(_currency, env.ctx, parent=self, name="currency",
                          on_done=self._currency, on_error=lambda _e: None)
        if order is not None:
            self._fill(order)
        chain_tabs([self.vendor, self.expected.edit, self.expected.none, self.warehouse,
                    self.form.fields["notes"].widget, self.editor.first_widget()])

    def _currency(self, currency: str) -> None:
        self.editor.currency = currency
        self.editor._update()

    def _fill(self, order: Any) -> None:
        self.vendor.setText(order.vendor_name)
        self.vendor.setReadOnly(True)  # an order's vendor is fixed; cancel it to reorder
        self.expected.set_value(order.expected_date)
        self.form.set_value("notes", order.notes or "")
        self.editor.clear_rows()
        for i, ln in enumerate(order.lines):
            self.editor.set_line(i, product=f"{ln.sku} · {ln.name}",
                                 quantity=qty_text(ln.quantity), cost=str(ln.unit_cost.amount),
                                 tax=qty_text(ln.tax_rate))
        if not order.lines:
            self.editor.add_row()
        self.editor.currency = order.total.currency
        self.editor._update()

    def reload(self) -> None:
        from erp_desktop.services import purchasing

        if self.order is None:
            return
        run_in_background(purchasing.get_purchase_order, self.env.ctx, self.order.id,
                          parent=self, name="reload order", on_done=self._reloaded,
                          on_error=self.form.show_error)

    def _reloaded(self, order: Any) -> None:
        self.order = order
        self._fill(order)
        self.form.show_banner(_tr("Reloaded: this is the order as saved now."), kind="success")

    def save(self) -> None:
        from erp_desktop.services import purchasing

        warehouse = self.warehouse.currentData() or None
        expected = self.expected.value()
        notes = self.form.value("notes")
        if self.order is None:
            self.form.submit(purchasing.create_purchase_order, self.env.ctx,
                             vendor_ref(self.vendor), self.editor.order_lines(),
                             expected_date=expected, warehouse=warehouse,
                             notes=notes or None, on_done=self.saved)
        else:
            self.form.submit(purchasing.update_purchase_order, self.env.ctx, self.order.id,
                             version=self.order.version, lines=self.editor.order_lines(),
                             expected_date=expected, warehouse=warehouse, notes=notes,
                             on_done=self.saved)


def _currency(ctx: Any) -> str:
    from erp_desktop.services import purchase_lists

    return purchase_lists.purchase_currency(ctx)


class ReceiveGrid(QWidget):
    """An order's lines with what is still open; how much comes in now, per line."""

    changed = Signal()

    def __init__(self, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.locale = locale
        self.lines: list[Any] = []
        self.edits: list[QLineEdit] = []
        self.table = grid([self.tr("Product"), self.tr("Ordered"), self.tr("Received"),
                           self.tr("Open"), self.tr("Receive now")], right=(1, 2, 3, 4))
        self.table.setObjectName("receive_grid")
        size_columns(self.table, [None, 90, 90, 90, 120])
        self.all_button = QPushButton(icon("receive"), self.tr("Receive all that is open"))
        self.all_button.setObjectName("receive_all")
        self.all_button.clicked.connect(self.fill_open)
        self.clear_button = QPushButton(self.tr("Clear"))
        self.clear_button.clicked.connect(lambda: [e.clear() for e in self.edits])
        buttons = QHBoxLayout()
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

    def set_lines(self, lines: Sequence[Any]) -> None:
        self.lines = list(lines)
        self.edits = []
        self.table.setRowCount(0)
        for row, ln in enumerate(self.lines):
            self.table.insertRow(row)
            name = QLabel(f"{ln.sku} · {ln.name}")
            name.setContentsMargins(6, 0, 6, 0)
            self.table.setCellWidget(row, 0, name)
            for column, value in ((1, ln.quantity), (2, ln.received_qty),
                                  (3, ln.remaining_qty)):
                self.table.setCellWidget(row, column, figure(
                    f"{qty_shown(value, self.locale)} {ln.unit}"))
            edit = number_edit(qty_text(ln.remaining_qty) if ln.remaining_qty > 0 else "—")
            edit.setObjectName(f"receive_{row}")
            edit.setEnabled(ln.remaining_qty > 0)
            edit.textChanged.connect(lambda _t: self.changed.emit())
            self.table.setCellWidget(row, 4, edit)
            self.edits.append(edit)
        chain_tabs([*self.edits, self.all_button, self.clear_button])

    def fill_open(self) -> None:
        for ln, edit in zip(self.lines, self.edits, strict=True):
            edit.setText(qty_text(ln.remaining_qty) if ln.remaining_qty > 0 else "")

    def set_quantity(self, row: int, text: str) -> None:
        self.edits[row].setText(text)

    def problem(self) -> str | None:
        for ln, edit in zip(self.lines, self.edits, strict=True):
            try:
                read_number(edit, self.locale)
            except ValueError:
                return self.tr("{product}: “{text}” is not a quantity.").format(
                    product=ln.name, text=edit.text())
        return None

    def quantities(self) -> dict[uuid.UUID, Decimal]:
        out: dict[uuid.UUID, Decimal] = {}
        for ln, edit in zip(self.lines, self.edits, strict=True):
            try:
                qty = read_number(edit, self.locale)
            except ValueError:
                continue
            if qty:
                out[ln.id] = qty
        return out


class ReceiveDialog(FormDialog):
    """Receive goods on a placed order: all that is open or part of it, into a warehouse."""

    def __init__(self, env: PageEnv, order: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Receive goods on {number}").format(number=order.number),
                         locale=env.locale, parent=parent, save_text=_tr("Receive"),
                         intro=_tr("Goods from {vendor}. Stock comes in at the order's cost; "
                                   "what is not received now stays open on the order.").format(
                             vendor=order.vendor_name))
        self.env = env
        self.order = order
        self.warehouse = self.form.add_choice("warehouse", _tr("Into warehouse"),
                                              [("", _tr("(choose)"))])
        self.form.fields["warehouse"].required = True
        self.form.add_date("receipt_date", _tr("Received on"),
                           value=env.ctx.today()).setMaximumWidth(200)
        self.form.add_text("vendor_ref", _tr("Delivery note no."), max_length=60)
        self.grid = ReceiveGrid(env.locale)
        self.grid.set_lines(order.lines)
        self.form.add_widget("lines", _tr("What came in"), self.grid,
                             value=self.grid.quantities,
                             checks=[lambda _v: self.grid.problem()], stretch=True)
        self.grid.changed.connect(lambda: self.form.field_changed("lines"))
        self.form.alias("quantities", "lines")
        self.resize(760, 500)
        load_warehouses(env, self.warehouse, self, keep=order.warehouse_code)

    def save(self) -> None:
        from erp_desktop.services import purchasing

        v = self.form.values()
        self.form.submit(purchasing.receive_purchase_order, self.env.ctx, self.order.id,
                         warehouse=v["warehouse"] or None, quantities=self.grid.quantities(),
                         receipt_date=v["receipt_date"], vendor_ref=v["vendor_ref"] or None,
                         on_done=self.saved)


class CancelOrderDialog(FormDialog):
    def __init__(self, env: PageEnv, order: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Cancel {number}").format(number=order.number), locale=env.locale,
                         parent=parent, save_text=_tr("Cancel order"),
                         intro=_tr("The order stays on file as cancelled; nothing can be "
                                   "received on it afterwards."))
        self.env = env
        self.order_id = order.id
        self.form.add_text("reason", _tr("Reason"), max_length=300,
                           placeholder=_tr("Found a cheaper vendor"))
        self.buttons.button(self.buttons.StandardButton.Cancel).setText(_tr("Keep order"))

    def save(self) -> None:
        from erp_desktop.services import purchasing

        self.form.submit(purchasing.cancel_purchase_order, self.env.ctx, self.order_id,
                         self.form.value("reason") or None, on_done=self.saved)


@dataclass(frozen=True)
class _OrderLineShown:
    product: str
    ordered: str
    received: str
    open: str
    cost: str
    amount: str


class OrdersTab(_ListTab):
    """Purchase orders (paged, by status) above the selected order's lines."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import purchase_lists

        self.env = env
        self.last_dialog: FormDialog | None = None
        self.order: Any = None
        self.detail_task: Task | None = None
        self.may_manage = env.can("purchases.manage")
        self.may_bill = env.can("purchases.bills.post")
        self.status = QComboBox()
        self.status.setObjectName("status_filter")
        for key, text in ORDER_FILTERS:
            self.status.addItem(_tr(text), key)
        self.status.setToolTip(self.tr("Show the orders in one state"))
        self.status.currentIndexChanged.connect(lambda _i: self.list.set_filters(
            self.list.model.filters.with_extra(status=self.status.currentData() or None)))
        self.new_action = self.action("new_order", "new", self.tr("New order…"),
                                      self.tr("Start a purchase order (Ctrl+N)"),
                                      self.new_order)
        self.edit_action = self.action("edit_order", "edit", self.tr("Edit…"),
                                       self.tr("Change the draft order"), self.edit_order)
        self.place_action = self.action("place_order", "enable", self.tr("Place"),
                                        self.tr("Send the draft to the vendor: it becomes "
                                                "ordered"), self.place_order)
        self.receive_action = self.action("receive_order", "receive", self.tr("Receive…"),
                                          self.tr("Receive goods on the order into a "
                                                  "warehouse"), self.receive)
        self.bill_action = self.action("bill_order", "bill", self.tr("Bill…"),
                                       self.tr("Make a draft bill for the goods received and "
                                               "not billed yet"), self.bill_order)
        self.cancel_action = self.action("cancel_order", "close", self.tr("Cancel order…"),
                                         self.tr("Cancel an order nothing was received on"),
                                         self.cancel_order)
        actions = []
        if self.may_manage:
            actions += [self.new_action, self.edit_action, self.place_action,
                        self.receive_action]
        if self.may_bill:
            actions.append(self.bill_action)
        if self.may_manage:
            actions.append(self.cancel_action)

        self.detail_title = QLabel(self.tr("Select an order to see its lines."))
        self.detail_title.setObjectName("order_title")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.history = hint()
        self.history.setObjectName("order_history")
        self.lines_model = RowsModel([
            (self.tr("Product"), lambda r: r.product, False),
            (self.tr("Ordered"), lambda r: r.ordered, True),
            (self.tr("Received"), lambda r: r.received, True),
            (self.tr("Open"), lambda r: r.open, True),
            (self.tr("Unit cost"), lambda r: r.cost, True),
            (self.tr("Amount"), lambda r: r.amount, True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("order_lines")
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 6):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, 130)
        detail = QWidget()
        box = QVBoxLayout(detail)
        box.setContentsMargins(0, 6, 0, 0)
        box.addWidget(self.detail_title)
        box.addWidget(self.lines, 1)
        box.addWidget(self.history)
        self._build(purchase_lists.PURCHASE_ORDERS,
                    noun=(self.tr("order"), self.tr("orders")),
                    search_hint=self.tr("Search number or vendor…"), extra=[self.status],
                    actions=actions, on_new=self.new_order if self.may_manage else None,
                    detail=detail)
        self.list.row_activated.connect(lambda row: self.edit_order(row))
        self._selection(None)

    def _selection(self, row: Any) -> None:
        status = row.status if row is not None else None
        self.edit_action.setEnabled(self.may_manage and status == "draft")
        self.place_action.setEnabled(self.may_manage and status == "draft")
        self.receive_action.setEnabled(self.may_manage and status in (
            "ordered", "partially_received"))
        self.bill_action.setEnabled(self.may_bill and status in (
            "ordered", "partially_received", "received"))
        self.cancel_action.setEnabled(self.may_manage and status in ("draft", "ordered"))
        if row is not None:
            self.show_order(row.id)

    # ---- the detail

    def show_order(self, order_id: uuid.UUID) -> None:
        if self.order is not None and self.order.id == order_id and self.detail_task is None:
            return
        from erp_desktop.services import purchasing

        if self.detail_task is not None:
            self.detail_task.cancel()
        self.detail_task = run_in_background(
            purchasing.get_purchase_order, self.env.ctx, order_id, parent=self,
            name="purchase order", on_done=self._order_loaded, on_error=self._detail_failed)

    def _order_loaded(self, order: Any) -> None:
        self.detail_task = None
        self.order = order
        locale = self.env.locale
        rows = [_OrderLineShown(
            f"{ln.sku} · {ln.name}", f"{qty_shown(ln.quantity, locale)} {ln.unit}",
            qty_shown(ln.received_qty, locale), qty_shown(ln.remaining_qty, locale),
            format_money(ln.unit_cost, locale), format_money(ln.net, locale))
            for ln in order.lines]
        rows.append(_OrderLineShown(self.tr("Total (tax {tax})").format(
            tax=format_money(order.tax, locale)), "", "", "", "",
            format_money(order.total, locale)))
        self.lines_model.set_rows(rows, bold_rows={len(rows) - 1})
        parts = [f"<b>{html.escape(order.number)}</b>", html.escape(order.vendor_name),
                 self.tr("ordered {date}").format(date=format_date(order.order_date, locale)),
                 f"<b>{html.escape(_tr(ORDER_STATES.get(order.status, order.status)))}</b>"]
        if order.expected_date:
            parts.append(self.tr("expected {date}").format(
                date=format_date(order.expected_date, locale)))
        if order.warehouse_code:
            parts.append(self.tr("into {code}").format(code=html.escape(order.warehouse_code)))
        self.detail_title.setText(" · ".join(parts))
        steps = [self.tr("{state} by {who}").format(
            state=_tr(ORDER_STATES.get(e.to_status, e.to_status)), who=e.by or "?")
            + (f" ({e.note})" if e.note else "") for e in order.events]
        self.history.setText(self.tr("History: {steps}").format(steps=" → ".join(steps)))

    def _detail_failed(self, exc: BaseException) -> None:
        self.detail_task = None
        if isinstance(exc, UserError):
            self.detail_title.setText(html.escape(exc.message))
        else:
            self.failed(exc)

    def changed(self) -> None:
        self.order = None
        super().changed()
        row = self.list.current_row()
        if row is not None:
            self.show_order(row.id)

    # ---- actions

    def _row(self, row: Any) -> Any:
        return row or self.list.current_row()

    def new_order(self) -> FormDialog:
        return self.open_dialog(OrderDialog(self.env, parent=self), lambda po: self.tr(
            "Draft {number} saved. Place it when it is ready.").format(number=po.number))

    def _with_order(self, row: Any, then: Callable[[Any], Any]) -> Task | None:
        row = self._row(row)
        if row is None:
            return None
        from erp_desktop.services import purchasing

        return run_in_background(purchasing.get_purchase_order, self.env.ctx, row.id,
                                 parent=self, name="purchase order", on_done=then,
                                 on_error=self.failed)

    def edit_order(self, row: Any = None) -> Task | None:
        row = self._row(row)
        if row is None or not self.may_manage or row.status != "draft":
            return None
        return self._with_order(row, lambda po: self.open_dialog(
            OrderDialog(self.env, po, parent=self),
            lambda saved: self.tr("{number} saved.").format(number=saved.number)))

    def place_order(self, row: Any = None) -> Task | None:
        row = self._row(row)
        if row is None:
            return None
        from erp_desktop.services import purchasing

        return self.run(purchasing.place_order, self.env.ctx, row.id, name="place order",
                        done=lambda po: self.tr("{number} placed with {vendor}.").format(
                            number=po.number, vendor=po.vendor_name))

    def receive(self, row: Any = None) -> Task | None:
        return self._with_order(row, lambda po: self.open_dialog(
            ReceiveDialog(self.env, po, parent=self), self._received_text))

    def _received_text(self, receipt: Any) -> str:
        state = _tr(ORDER_STATES.get(receipt.order_status, receipt.order_status))
        return self.tr("{number}: goods worth {value} received into {warehouse}; {order} is "
                       "{state}.").format(number=receipt.number,
                                          value=format_money(receipt.value, self.env.locale),
                                          warehouse=receipt.warehouse_code,
                                          order=receipt.order_number, state=state)

    def bill_order(self, row: Any = None) -> FormDialog | None:
        row = self._row(row)
        if row is None:
            return None
        return self.open_dialog(BillFromOrderDialog(self.env, row, parent=self),
                                self._bill_made)

    def _bill_made(self, bill: Any) -> str:
        return self.tr("Draft bill for {order} made ({total}); check it and post it on the "
                       "Bills tab.").format(order=bill.order_number,
                                            total=format_money(bill.total, self.env.locale))

    def cancel_order(self, row: Any = None) -> FormDialog | None:
        row = self._row(row)
        if row is None:
            return None
        return self.open_dialog(CancelOrderDialog(self.env, row, parent=self),
                                lambda po: self.tr("{number} cancelled.").format(
                                    number=po.number))


# ======================================================================= bills


class BillDialog(FormDialog):
    """A bill typed on its own, or a draft bill's changes (also one made from an order)."""

    def __init__(self, env: PageEnv, bill: Any = None, names: dict[uuid.UUID, str] | None = None,
                 parent: QWidget | None = None) -> None:
        if bill is None:
            title = _tr("New bill")
        else:
            title = _tr("Draft bill from {vendor}").format(vendor=bill.vendor_name)
        super().__init__(title, locale=env.locale, parent=parent, save_text=_tr("Save draft"),
                         intro=_tr("Stock lines need a product; other lines go to an expense "
                                   "account. Nothing reaches the books until the bill is "
                                   "posted."))
        self.env = env
        self.bill = bill
        self.vendor = vendor_lookup(env)
        self.form.add_widget("vendor", _tr("Vendor"), self.vendor,
                             value=lambda: vendor_ref(self.vendor))
        self.form.fields["vendor"].required = True
        self.vendor.textChanged.connect(lambda _t: self.form.field_changed("vendor"))
        self.form.add_text("vendor_ref", _tr("Vendor's bill no."), max_length=60)
        self.form.add_date("bill_date", _tr("Bill date"),
                           value=env.ctx.today()).setMaximumWidth(220)
        self.due = OptionalDate(_tr("By the vendor's payment terms"), env.ctx.today())
        self.form.add_widget("due_date", _tr("Due"), self.due, value=self.due.value)
        self.due.changed.connect(lambda: self.form.field_changed("due_date"))
        self.warehouse = self.form.add_choice("warehouse", _tr("Stock goes into"),
                                              [("", _tr("(no stock lines)"))])
        self.form.add_text("notes", _tr("Notes"), max_length=500)
        self.editor = LinesEditor(env, bill=True)
        self.form.add_widget("lines", _tr("Lines"), self.editor, value=self.editor.bill_lines,
                             checks=[lambda _v: self.editor.problem()], stretch=True)
        self.editor.changed.connect(lambda: self.form.field_changed("lines"))
        for name in ("product", "quantity", "unit_cost", "tax_rate", "account"):
            self.form.alias(name, "lines")
        self.form.reload_requested.connect(self.reload)
        self.resize(1080, 640)
        load_warehouses(env, self.warehouse, self,
                        keep=bill.warehouse_code if bill is not None else None)
        run_in_background(_currency, env.ctx, parent=self, name="currency",
                          on_done=self._currency, on_error=lambda _e: None)
        self._load_accounts()
        if bill is not None:
            self._fill(bill, names or {})

    def _currency(self, currency: str) -> None:
        self.editor.currency = currency
        self.editor._update()

    def _load_accounts(self) -> None:
        from erp_desktop.services import purchase_lists

        run_in_background(purchase_lists.expense_accounts, self.env.ctx, parent=self,
                          name="expense accounts", on_error=lambda _e: None,
                          on_done=lambda rows: self.editor.set_accounts(
                              [(a.code, f"{a.code} · {a.name}") for a in rows]))

    def _fill(self, bill: Any, names: dict[uuid.UUID, str]) -> None:
        self.vendor.setText(bill.vendor_name)
        self.vendor.setReadOnly(True)
        self.form.set_value("vendor_ref", bill.vendor_ref or "")
        self.form.set_value("bill_date", bill.bill_date)
        self.due.set_value(bill.due_date)
        self.form.set_value("notes", bill.notes or "")
        self.editor.clear_rows()
        for i, ln in enumerate(bill.lines):
            self.editor.set_line(
                i, product=line_label(ln, names) if ln.sku else "",
                quantity=qty_text(ln.quantity),
                cost=str(ln.unit_cost.amount), tax=qty_text(ln.tax_rate),
                description=ln.description or "", account=ln.account_code or "",
                order_line_id=ln.order_line_id, fixed=ln.order_line_id is not None)
        if not bill.lines:
            self.editor.add_row()
        self.editor.currency = bill.total.currency
        self.editor._update()

    def reload(self) -> None:
        if self.bill is None:
            return
        run_in_background(load_bill, self.env.ctx, self.bill.id, parent=self,
                          name="reload bill", on_done=self._reloaded,
                          on_error=self.form.show_error)

    def _reloaded(self, loaded: tuple[Any, dict[uuid.UUID, str]]) -> None:
        self.bill, names = loaded
        self._fill(self.bill, names)
        self.form.show_banner(_tr("Reloaded: this is the bill as saved now."), kind="success")

    def save(self) -> None:
        from erp_desktop.services import purchasing

        v = self.form.values()
        common = {"bill_date": v["bill_date"], "due_date": self.due.value(),
                  "vendor_ref": v["vendor_ref"] or None,
                  "warehouse": v["warehouse"] or None}
        if self.bill is None:
            self.form.submit(purchasing.create_bill, self.env.ctx, vendor_ref(self.vendor),
                             self.editor.bill_lines(), notes=v["notes"] or None, **common,
                             on_done=self.saved)
        else:
            common["vendor_ref"] = v["vendor_ref"]
            self.form.submit(purchasing.update_bill, self.env.ctx, self.bill.id,
                             version=self.bill.version, lines=self.editor.bill_lines(),
                             notes=v["notes"], **common, on_done=self.saved)


class BillFromOrderDialog(FormDialog):
    """A draft bill for what was received on an order and not billed yet."""

    def __init__(self, env: PageEnv, order: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Bill from a purchase order"), locale=env.locale, parent=parent,
                         save_text=_tr("Make draft bill"), intro=_tr(
                             "The bill takes the goods received on the order and not billed "
                             "yet, at the order's costs and tax rates. Check it against the "
                             "vendor's paper, then post it."))
        self.env = env
        self.orders = self.form.add_choice("order", _tr("Order"), [])
        self.form.fields["order"].required = True
        if order is not None:
            self.orders.addItem(f"{order.number} · {order.vendor_name}", order.id)
        self.form.add_text("vendor_ref", _tr("Vendor's bill no."), max_length=60)
        self.form.add_date("bill_date", _tr("Bill date"),
                           value=env.ctx.today()).setMaximumWidth(220)
        self.resize(560, 300)
        if order is None:
            self._load_orders()

    def _load_orders(self) -> None:
        from erp_desktop.services import purchase_lists
        from erp_desktop.services.listing import Filters

        query = purchase_lists.PURCHASE_ORDERS
        run_in_background(query.fetch, self.env.ctx, Filters.of(to_bill=True),
                          query.default_sort, 0, 500, parent=self, name="orders to bill",
                          on_done=self._orders_loaded, on_error=self.form.show_error)

    def _orders_loaded(self, rows: list[Any]) -> None:
        self.orders.clear()
        for r in rows:
            self.orders.addItem(f"{r.number} · {r.vendor_name}", r.id)
        if not rows:
            self.form.show_banner(_tr("No order has goods received and not billed yet."),
                                  kind="warning")

    def save(self) -> None:
        from erp_desktop.services import purchasing

        v = self.form.values()
        self.form.submit(purchasing.create_bill_from_order, self.env.ctx, v["order"],
                         bill_date=v["bill_date"], vendor_ref=v["vendor_ref"] or None,
                         on_done=self.saved)


class TakeBackGrid(QWidget):
    """A posted bill's lines and how much of each a debit note takes back."""

    changed = Signal()

    def __init__(self, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.locale = locale
        self.lines: list[Any] = []
        self.edits: list[QLineEdit] = []
        self.table = grid([self.tr("Line"), self.tr("Billed"), self.tr("Returned"),
                           self.tr("Amount"), self.tr("Take back")], right=(1, 2, 3, 4))
        self.table.setObjectName("take_back_grid")
        size_columns(self.table, [None, 80, 80, 120, 110])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)

    def set_lines(self, lines: Sequence[Any], names: dict[uuid.UUID, str]) -> None:
        self.lines = list(lines)
        self.edits = []
        self.table.setRowCount(0)
        for row, ln in enumerate(self.lines):
            self.table.insertRow(row)
            name = QLabel(line_label(ln, names))
            name.setContentsMargins(6, 0, 6, 0)
            self.table.setCellWidget(row, 0, name)
            self.table.setCellWidget(row, 1, figure(qty_shown(ln.quantity, self.locale)))
            self.table.setCellWidget(row, 2, figure(qty_shown(ln.returned_qty, self.locale)))
            self.table.setCellWidget(row, 3, figure(format_money(ln.net, self.locale)))
            left = ln.quantity - ln.returned_qty
            edit = number_edit(qty_text(left) if left > 0 else "—")
            edit.setObjectName(f"take_back_{row}")
            edit.setEnabled(left > 0)
            edit.textChanged.connect(lambda _t: self.changed.emit())
            self.table.setCellWidget(row, 4, edit)
            self.edits.append(edit)
        chain_tabs(self.edits)

    def problem(self) -> str | None:
        for i, edit in enumerate(self.edits, start=1):
            try:
                read_number(edit, self.locale)
            except ValueError:
                return self.tr("Line {n}: “{text}” is not a quantity.").format(
                    n=i, text=edit.text())
        return None

    def taken(self, warehouse: str | None) -> list[Any]:
        from erp_desktop.services.purchasing import DebitNoteLineInput

        out = []
        for ln, edit in zip(self.lines, self.edits, strict=True):
            try:
                qty = read_number(edit, self.locale)
            except ValueError:
                continue
            if qty:
                out.append(DebitNoteLineInput(ln.id, qty, warehouse if ln.sku else None))
        return out


class DebitNoteDialog(FormDialog):
    """Correct a posted bill: goods returned or an amount taken back."""

    def __init__(self, env: PageEnv, bill: Any, names: dict[uuid.UUID, str] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("Debit note on {number}").format(number=bill.number),
                         locale=env.locale, parent=parent, save_text=_tr("Post debit note"),
                         intro=_tr("A posted bill is never changed. A debit note takes back "
                                   "goods returned to {vendor} (stock goes out) or an amount "
                                   "overcharged, and lowers what is owed.").format(
                             vendor=bill.vendor_name))
        self.env = env
        self.bill = bill
        self.form.add_text("reason", _tr("Reason"), required=True, max_length=300,
                           placeholder=_tr("Damaged goods returned"))
        self.form.add_date("note_date", _tr("Date"), value=env.ctx.today()).setMaximumWidth(220)
        self.warehouse = self.form.add_choice("warehouse", _tr("Goods leave from"),
                                              [("", _tr("(where they were received)"))])
        self.grid = TakeBackGrid(env.locale)
        self.grid.set_lines(bill.lines, names or {})
        self.form.add_widget("lines", _tr("Take back"), self.grid,
                             value=lambda: self.grid.taken(None),
                             checks=[lambda _v: self.grid.problem()], stretch=True)
        self.grid.changed.connect(lambda: self.form.field_changed("lines"))
        self.form.alias("quantity", "lines")
        self.resize(760, 480)
        load_warehouses(env, self.warehouse, self, keep="")

    def save(self) -> None:
        from erp_desktop.services import purchasing

        v = self.form.values()
        self.form.submit(purchasing.create_debit_note, self.env.ctx, self.bill.id,
                         self.grid.taken(v["warehouse"] or None), v["reason"],
                         note_date=v["note_date"], on_done=self.saved)


class PayGrid(QWidget):
    """A vendor's open bills and how much of each this payment settles."""

    changed = Signal()

    def __init__(self, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.locale = locale
        self.bills: list[Any] = []
        self.edits: list[QLineEdit] = []
        self.table = grid([self.tr("Bill"), self.tr("Vendor's no."), self.tr("Due"),
                           self.tr("Balance"), self.tr("Pay now")], right=(3, 4))
        self.table.setObjectName("pay_grid")
        size_columns(self.table, [None, 120, 110, 130, 130])
        self.full_button = QPushButton(icon("pay"), self.tr("Pay all in full"))
        self.full_button.setObjectName("pay_in_full")
        self.full_button.clicked.connect(self.fill_full)
        self.total = QLabel()
        self.total.setObjectName("pay_total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.empty = hint(self.tr("Choose a vendor to see their unpaid bills."))
        buttons = QHBoxLayout()
        buttons.addWidget(self.full_button)
        buttons.addStretch(1)
        buttons.addWidget(self.total)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)
        self.currency: str | None = None

    def set_bills(self, bills: Sequence[Any], amounts: dict[uuid.UUID, str] | None = None
                  ) -> None:
        self.bills = list(bills)
        self.edits = []
        self.table.setRowCount(0)
        for row, b in enumerate(self.bills):
            self.table.insertRow(row)
            self.currency = b.balance_due.currency
            for column, text in ((0, b.number or ""), (1, b.vendor_ref or ""),
                                 (2, format_date(b.due_date, self.locale))):
                label = QLabel(text)
                label.setContentsMargins(6, 0, 6, 0)
                self.table.setCellWidget(row, column, label)
            self.table.setCellWidget(row, 3, figure(format_money(b.balance_due, self.locale)))
            edit = number_edit("0.00")
            edit.setObjectName(f"pay_{row}")
            edit.setText((amounts or {}).get(b.id, ""))
            edit.textChanged.connect(lambda _t: self._update())
            self.table.setCellWidget(row, 4, edit)
            self.edits.append(edit)
        self.empty.setText(self.tr("This vendor has no unpaid bills.") if not self.bills
                           else "")
        self.empty.setVisible(not self.bills)
        chain_tabs([*self.edits, self.full_button])
        self._update()

    def fill_full(self) -> None:
        for b, edit in zip(self.bills, self.edits, strict=True):
            edit.setText(str(b.balance_due.amount))

    def set_amount(self, row: int, text: str) -> None:
        self.edits[row].setText(text)

    def problem(self) -> str | None:
        for b, edit in zip(self.bills, self.edits, strict=True):
            try:
                read_number(edit, self.locale)
            except ValueError:
                return self.tr("{bill}: “{text}” is not an amount.").format(
                    bill=b.number, text=edit.text())
        return None

    def allocations(self) -> dict[uuid.UUID, Decimal]:
        out: dict[uuid.UUID, Decimal] = {}
        for b, edit in zip(self.bills, self.edits, strict=True):
            try:
                amount = read_number(edit, self.locale)
            except ValueError:
                continue
            if amount:
                out[b.id] = amount
        return out

    def _update(self) -> None:
        total = sum(self.allocations().values(), Decimal(0))
        self.total.setText(self.tr("Paying <b>{total}</b>").format(
            total=amount_text(total, self.currency, self.locale)))
        self.changed.emit()


class PayDialog(FormDialog):
    """Pay a vendor: one payment settling one or several open bills, fully or in part."""

    def __init__(self, env: PageEnv, *, vendor: Any = None, bill_id: uuid.UUID | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("Pay a vendor"), locale=env.locale, parent=parent,
                         save_text=_tr("Pay"), intro=_tr(
                             "Enter what this payment settles on each bill; a bill paid in "
                             "part stays open for the rest."))
        self.env = env
        self.bill_id = bill_id
        self.task: Task | None = None
        self.vendor = vendor_lookup(env)
        self.form.add_widget("vendor", _tr("Vendor"), self.vendor,
                             value=lambda: vendor_ref(self.vendor))
        self.form.fields["vendor"].required = True
        self.vendor.chosen.connect(lambda v: self.load_bills(v.id))
        self.vendor.textChanged.connect(lambda _t: self.form.field_changed("vendor"))
        self.form.add_choice("method", _tr("Paid from"), [("bank", _tr("Bank")),
                                                          ("cash", _tr("Cash box"))])
        self.form.add_date("payment_date", _tr("Date"),
                           value=env.ctx.today()).setMaximumWidth(220)
        self.form.add_text("reference", _tr("Reference"), max_length=60,
                           placeholder=_tr("Cheque or transfer (UTR) number"))
        self.grid = PayGrid(env.locale)
        self.form.add_widget("bills", _tr("Bills"), self.grid, value=self.grid.allocations,
                             checks=[lambda _v: self.grid.problem()], stretch=True)
        self.grid.changed.connect(lambda: self.form.field_changed("bills"))
        self.form.alias("allocations", "bills")
        self.form.alias("amount", "bills")
        self.resize(760, 520)
        if vendor is not None:
            self.vendor.choose(vendor)

    def load_bills(self, vendor_id: uuid.UUID) -> None:
        from erp_desktop.services import purchasing

        if self.task is not None:
            self.task.cancel()
        self.task = run_in_background(
            purchasing.list_bills, self.env.ctx, vendor=vendor_id, unpaid_only=True,
            limit=1000, parent=self, name="open bills", on_done=self._bills_loaded,
            on_error=self.form.show_error)

    def _bills_loaded(self, page: Any) -> None:
        self.task = None
        bills = sorted(page.rows, key=lambda b: (b.due_date, b.number or ""))
        amounts = {b.id: str(b.balance_due.amount) for b in bills if b.id == self.bill_id}
        self.grid.set_bills(bills, amounts)

    def save(self) -> None:
        from erp_desktop.services import purchasing

        v = self.form.values()
        self.form.submit(purchasing.pay_bills, self.env.ctx, vendor_ref(self.vendor),
                         self.grid.allocations(), method=v["method"],
                         payment_date=v["payment_date"], reference=v["reference"] or None,
                         on_done=self.saved)


@dataclass(frozen=True)
class _BillLineShown:
    item: str
    quantity: str
    cost: str
    tax: str
    amount: str
    returned: str


class BillsTab(_ListTab):
    """Vendor bills (paged, by status) above the selected bill's lines."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import purchase_lists

        self.env = env
        self.last_dialog: FormDialog | None = None
        self.bill: Any = None
        self.detail_task: Task | None = None
        self.may_post = env.can("purchases.bills.post")
        self.may_pay = env.can("purchases.payments")
        self.status = QComboBox()
        self.status.setObjectName("status_filter")
        for key, text in BILL_FILTERS:
            self.status.addItem(_tr(text), key)
        self.status.setToolTip(self.tr("Show the bills in one state"))
        self.status.currentIndexChanged.connect(lambda _i: self.list.set_filters(
            self.list.model.filters.with_extra(status=self.status.currentData() or None)))
        self.new_action = self.action("new_bill", "new", self.tr("New bill…"),
                                      self.tr("Type a vendor's bill without an order (Ctrl+N)"),
                                      self.new_bill)
        self.from_order_action = self.action("bill_from_order", "purchases",
                                             self.tr("From order…"),
                                             self.tr("Bill the goods received on an order"),
                                             self.bill_from_order)
        self.edit_action = self.action("edit_bill", "edit", self.tr("Edit…"),
                                       self.tr("Change a draft bill"), self.edit_bill)
        self.post_action = self.action("post_bill", "enable", self.tr("Post…"),
                                       self.tr("Post the draft: it gets its number and "
                                               "reaches the books, and cannot change "
                                               "afterwards"), self.post_bill)
        self.debit_action = self.action("debit_note", "reverse", self.tr("Debit note…"),
                                        self.tr("Correct a posted bill: goods returned or "
                                                "an amount taken back"), self.debit_note)
        self.pay_action = self.action("pay_bill", "pay", self.tr("Pay…"),
                                      self.tr("Pay this bill, fully or in part"),
                                      self.pay_bill)
        actions = []
        if self.may_post:
            actions += [self.new_action, self.from_order_action, self.edit_action,
                        self.post_action, self.debit_action]
        if self.may_pay:
            actions.append(self.pay_action)

        self.detail_title = QLabel(self.tr("Select a bill to see its lines."))
        self.detail_title.setObjectName("bill_title")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.lines_model = RowsModel([
            (self.tr("Item"), lambda r: r.item, False),
            (self.tr("Quantity"), lambda r: r.quantity, True),
            (self.tr("Unit cost"), lambda r: r.cost, True),
            (self.tr("Tax"), lambda r: r.tax, True),
            (self.tr("Amount"), lambda r: r.amount, True),
            (self.tr("Returned"), lambda r: r.returned, True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("bill_lines")
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 6):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, 120)
        detail = QWidget()
        box = QVBoxLayout(detail)
        box.setContentsMargins(0, 6, 0, 0)
        box.addWidget(self.detail_title)
        box.addWidget(self.lines, 1)
        self._build(purchase_lists.BILLS, noun=(self.tr("bill"), self.tr("bills")),
                    search_hint=self.tr("Search number, vendor's no. or vendor…"),
                    extra=[self.status], actions=actions,
                    on_new=self.new_bill if self.may_post else None, detail=detail)
        self.list.row_activated.connect(lambda row: self.edit_bill(row))
        self._selection(None)

    def _selection(self, row: Any) -> None:
        status = row.status if row is not None else None
        self.edit_action.setEnabled(self.may_post and row is not None)
        self.post_action.setEnabled(self.may_post and status == "draft")
        self.debit_action.setEnabled(self.may_post and status == "posted")
        self.pay_action.setEnabled(self.may_pay and row is not None
                                   and row.balance is not None and row.balance.amount > 0)
        if row is not None:
            self.show_bill(row.id)

    # ---- the detail

    def show_bill(self, bill_id: uuid.UUID) -> None:
        if self.bill is not None and self.bill.id == bill_id and self.detail_task is None:
            return
        if self.detail_task is not None:
            self.detail_task.cancel()
        self.detail_task = run_in_background(
            load_bill, self.env.ctx, bill_id, parent=self, name="bill",
            on_done=self._bill_loaded, on_error=self._detail_failed)

    def _bill_loaded(self, loaded: tuple[Any, dict[uuid.UUID, str]]) -> None:
        self.detail_task = None
        bill, names = loaded
        self.bill = bill
        locale = self.env.locale
        rows = []
        for ln in bill.lines:
            rows.append(_BillLineShown(
                line_label(ln, names), qty_shown(ln.quantity, locale),
                format_money(ln.unit_cost, locale),
                format_money(ln.tax, locale) if ln.tax else "",
                format_money(ln.net, locale),
                qty_shown(ln.returned_qty, locale) if ln.returned_qty else ""))
        rows.append(_BillLineShown(self.tr("Total"), "", "", format_money(bill.tax, locale),
                                   format_money(bill.total, locale), ""))
        self.lines_model.set_rows(rows, bold_rows={len(rows) - 1})
        parts = [f"<b>{html.escape(bill.number or self.tr('Draft'))}</b>",
                 html.escape(bill.vendor_name),
                 f"<b>{html.escape(_tr(BILL_STATES.get(bill.payment_status, bill.status)))}</b>",
                 self.tr("due {date}").format(date=format_date(bill.due_date, locale))]
        if bill.order_number:
            parts.append(self.tr("for {order}").format(order=html.escape(bill.order_number)))
        if bill.status == "posted":
            parts.append(self.tr("paid {paid} · debit notes {debited} · balance {due}").format(
                paid=format_money(bill.paid, locale), debited=format_money(bill.debited, locale),
                due=format_money(bill.balance_due, locale)))
        self.detail_title.setText(" · ".join(parts))

    def _detail_failed(self, exc: BaseException) -> None:
        self.detail_task = None
        if isinstance(exc, UserError):
            self.detail_title.setText(html.escape(exc.message))
        else:
            self.failed(exc)

    def changed(self) -> None:
        self.bill = None
        super().changed()
        row = self.list.current_row()
        if row is not None:
            self.show_bill(row.id)

    # ---- actions

    def _row(self, row: Any) -> Any:
        return row or self.list.current_row()

    def new_bill(self) -> FormDialog:
        return self.open_dialog(BillDialog(self.env, parent=self), lambda b: self.tr(
            "Draft bill from {vendor} saved ({total}). Post it when it matches the vendor's "
            "paper.").format(vendor=b.vendor_name, total=format_money(b.total, self.env.locale)))

    def bill_from_order(self) -> FormDialog:
        return self.open_dialog(BillFromOrderDialog(self.env, parent=self), lambda b: self.tr(
            "Draft bill for {order} made ({total}).").format(
            order=b.order_number, total=format_money(b.total, self.env.locale)))

    def edit_bill(self, row: Any = None) -> Task | None:
        """A draft opens for changes; a posted bill is refused by the service, in its words."""
        row = self._row(row)
        if row is None or not self.may_post:
            return None
        from erp_desktop.services import purchasing

        if row.status != "draft":
            # Ask the service itself, so the refusal (and the way to correct a posted
            # bill) is said in one place: it refuses before it reads any change.
            return run_in_background(purchasing.update_bill, self.env.ctx, row.id,
                                     version=row.version, parent=self, name="edit bill",
                                     on_done=lambda _b: self.changed(),
                                     on_error=self.failed)
        return run_in_background(load_bill, self.env.ctx, row.id, parent=self,
                                 name="bill", on_error=self.failed, on_done=lambda b: (
                                     self.open_dialog(BillDialog(self.env, *b, parent=self),
                                                      lambda saved: self.tr(
                                                          "Draft bill saved ({total}).").format(
                                                          total=format_money(
                                                              saved.total, self.env.locale)))))

    def post_bill(self, row: Any = None) -> QMessageBox | None:
        row = self._row(row)
        if row is None:
            return None
        return self.confirm(self.tr("Post bill"), self.tr(
            "Post the bill from {vendor} for {total}? It gets its number and reaches the "
            "books; afterwards it can only be corrected by a debit note.").format(
            vendor=row.vendor_name, total=format_money(row.total, self.env.locale)),
            self.tr("Post"), lambda: self.post_now(row))

    def post_now(self, row: Any = None) -> Task | None:
        row = self._row(row)
        if row is None:
            return None
        from erp_desktop.services import purchasing

        return self.run(purchasing.post_bill, self.env.ctx, row.id, name="post bill",
                        done=lambda b: self.tr("Bill {number} posted: {total} owed to "
                                               "{vendor}, due {due}.").format(
                            number=b.number, total=format_money(b.total, self.env.locale),
                            vendor=b.vendor_name, due=format_date(b.due_date,
                                                                  self.env.locale)))

    def debit_note(self, row: Any = None) -> Task | None:
        row = self._row(row)
        if row is None:
            return None

        return run_in_background(
            load_bill, self.env.ctx, row.id, parent=self, name="bill",
            on_error=self.failed, on_done=lambda b: self.open_dialog(
                DebitNoteDialog(self.env, *b, parent=self), lambda n: self.tr(
                    "Debit note {number} posted: {total} off {bill}.").format(
                    number=n.number, total=format_money(n.total, self.env.locale),
                    bill=n.bill_number)))

    def pay_bill(self, row: Any = None) -> Task | None:
        row = self._row(row)
        if row is None:
            return None
        from erp_desktop.services import purchasing

        return run_in_background(
            purchasing.get_vendor, self.env.ctx, row.vendor_id, parent=self, name="vendor",
            on_error=self.failed, on_done=lambda v: self.open_dialog(
                PayDialog(self.env, vendor=v, bill_id=row.id, parent=self),
                partial(paid_text, self.env.locale)))


def paid_text(locale: str, payment: Any) -> str:
    bills = ", ".join(number for number, _amount in payment.allocations)
    return _tr("Payment {number}: {amount} to {vendor} for {bills}.").format(
        number=payment.number, amount=format_money(payment.amount, locale),
        vendor=payment.vendor_name, bills=bills)


# ==================================================================== payments


class PaymentsTab(_ListTab):
    """Payments made to vendors (paged); Pay vendor for those who may."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import purchase_lists

        self.env = env
        self.last_dialog: FormDialog | None = None
        self.may_pay = env.can("purchases.payments")
        self.method = QComboBox()
        self.method.setObjectName("method_filter")
        for key, text in (("", self.tr("Bank and cash")), ("bank", self.tr("Bank")),
                          ("cash", self.tr("Cash box"))):
            self.method.addItem(text, key)
        self.method.currentIndexChanged.connect(lambda _i: self.list.set_filters(
            self.list.model.filters.with_extra(method=self.method.currentData() or None)))
        self.pay_action = self.action("pay_vendor", "pay", self.tr("Pay vendor…"),
                                      self.tr("Pay one or several of a vendor's bills "
                                              "(Ctrl+N)"), self.pay_vendor)
        self._build(purchase_lists.VENDOR_PAYMENTS,
                    noun=(self.tr("payment"), self.tr("payments")),
                    search_hint=self.tr("Search number, reference or vendor…"),
                    extra=[self.method], actions=[self.pay_action] if self.may_pay else [],
                    on_new=self.pay_vendor if self.may_pay else None)

    def pay_vendor(self) -> FormDialog:
        return self.open_dialog(PayDialog(self.env, parent=self),
                                partial(paid_text, self.env.locale))


# ================================================================ the area page


class PurchasesPage(CommandPage):
    """The Purchases area: vendors, purchase orders, bills, vendor payments."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        layout = page_frame(self, self.tr("Purchases"), self.tr(
            "Vendors, purchase orders and goods received, vendor bills and payments."))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("purchases_tabs")
        self.tabs.setDocumentMode(True)
        self.vendors = VendorsTab(env)
        self.orders = OrdersTab(env)
        self.bills = BillsTab(env)
        self.payments = PaymentsTab(env)
        self.tabs.addTab(self.orders, icon("purchases"), self.tr("Purchase orders"))
        self.tabs.addTab(self.bills, icon("bill"), self.tr("Bills"))
        self.tabs.addTab(self.payments, icon("pay"), self.tr("Payments"))
        self.tabs.addTab(self.vendors, icon("user"), self.tr("Vendors"))
        self.all_tabs: list[_ListTab] = [self.orders, self.bills, self.payments, self.vendors]
        for tab in self.all_tabs:
            tab.commands_changed.connect(self.commands_changed)
            tab.data_changed.connect(partial(self._data_changed, tab))
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)

    def _data_changed(self, source: _ListTab) -> None:
        """A write on one tab may change the others' rows (a receipt, a bill, a payment)."""
        for tab in self.all_tabs:
            if tab is not source:
                tab.list.refresh()

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

    def show_tab(self, name: str) -> None:
        widget = {"vendors": self.vendors, "orders": self.orders, "bills": self.bills,
                  "payments": self.payments}[name]
        self.tabs.setCurrentWidget(widget)
