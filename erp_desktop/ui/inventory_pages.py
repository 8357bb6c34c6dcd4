"""Inventory: products, stock, stock moves and their documents, stock-takes, warehouses.

`InventoryPage` is a tab per screen; the common commands go to the tab on top.
Every list is a `ListPanel` over `services.inventory_lists` (paged in SQL,
searched through the catalogue's index as you type), every change a
`FormDialog` whose use case runs on the worker and whose refusal lands beside
the field, or the document line, it concerns (`services.inventory_desk`
names the line). Products are entered by scanning a barcode (the scanner
types it and presses Enter) or by typing a SKU or the start of a name and
choosing from the suggestions (`ProductPicker`); a scan of a product already
on a receipt, transfer or count sheet adds one more. The product import reads
the file's header, guesses the column of each field, shows the bad rows of a
dry run and then imports all rows or the good ones, with a progress dialog and
Cancel (`ui.progress.run_with_progress`). Tabs and buttons follow the user's
permissions; the services refuse the rest anyway.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDir, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeyEvent,
    QKeySequence,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QCompleter,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.barcodes import normalise_barcode
from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.services.listing import Filters, ListSource, format_date, format_number
from erp_desktop.ui.forms import FormDialog, parse_number
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import ListPanel, style_table
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.theme import tones
from erp_desktop.ui.widgets import PageEnv, RowsModel, hint, message_style, page_frame, rows_table
from erp_desktop.ui.worker import CancelToken, Task, run_in_background

SUGGEST_DELAY_MS = 250


def _tr(text: str) -> str:
    return QCoreApplication.translate("inventory", text)


def _noop(text: str) -> str:
    return text


def _qty(value: Decimal | None, locale: str) -> str:
    return "" if value is None else format_number(value, locale)


def _money(value: Money | None, locale: str) -> str:
    return "" if value is None else format_money(value, locale)


def _plain(value: Decimal) -> str:
    """A number as a person types it back (no grouping, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return text if text not in ("-0", "") else "0"


def _warehouse_items(warehouses: Sequence[Any]) -> list[tuple[Any, str]]:
    return [(w.id, f"{w.code} · {w.name}") for w in warehouses if w.active]


def _fill_combo(combo: QComboBox, items: Sequence[tuple[Any, str]], *,
                first: tuple[Any, str] | None = None) -> None:
    keep = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    if first is not None:
        combo.addItem(first[1], first[0])
    for data, text in items:
        combo.addItem(text, data)
    index = combo.findData(keep)
    combo.setCurrentIndex(index if index >= 0 else 0)
    combo.blockSignals(False)


def _show_failure(widget: QWidget, label: QLabel, exc: BaseException, fallback: str) -> None:
    """A refusal in `label`; a bug as a bug (with details to copy)."""
    label.setStyleSheet(message_style("error"))
    if isinstance(exc, UserError):
        label.setText(exc.message)
        return
    from erp_desktop.ui.errors import show_error

    label.setText(fallback)
    show_error(widget, exc)


def _ask(parent: QWidget, title: str, text: str, yes: str, then: Callable[[], None]) -> QMessageBox:
    """A window-modal question; `then` runs when the person confirms."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel,
                      parent)
    confirm = box.addButton(yes, QMessageBox.ButtonRole.AcceptRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.buttonClicked.connect(lambda button: then() if button is confirm else None)
    box.open()
    return box


def _level_caption(form: Any, name: str, widget: QWidget) -> None:
    """Make a field's caption as tall as `widget` (its first line), so that it stands
    level with it: `Form` sizes captions by the field's size hint, which for a text box
    or a compound field is far taller than what is shown."""
    caption = form.layout.labelForField(form.fields[name].row)
    if isinstance(caption, QLabel):
        caption.setFixedHeight(widget.sizeHint().height())


# =================================================================== product entry


class EnterEdit(QLineEdit):
    """A line edit that keeps Enter to itself: a scanner's Enter (or one after a
    quantity) must never press the dialog's Save. `enter` is emitted with it."""

    enter = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().keyPressEvent(event)  # returnPressed, editingFinished
            event.accept()
            self.enter.emit()
            return
        super().keyPressEvent(event)


class ProductPicker(QWidget):
    """Scan a barcode (the scanner types it, then Enter) or type a SKU or the start of
    a name: suggestions appear as you type, Enter takes an exact code or the only
    match. `picked(product_row)` for each product chosen; the box clears for the next."""

    picked = Signal(object)

    def __init__(self, env: PageEnv, *, placeholder: str | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.lookups = 0  # lookups still running (a fast scanner may queue several)
        self.edit = EnterEdit()
        self.edit.setObjectName("scan")
        self.edit.setClearButtonEnabled(True)
        self.edit.addAction(icon("barcode"), QLineEdit.ActionPosition.LeadingPosition)
        self.edit.setPlaceholderText(placeholder or _tr(
            "Scan a barcode, or type a SKU or name and press Enter"))
        self.edit.setToolTip(_tr("A scanner types the barcode and presses Enter; "
                                 "each scan adds one"))
        self.suggestions = QStandardItemModel(self)
        self.completer = QCompleter(self.suggestions, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(10)
        self.completer.setWidget(self.edit)
        self.completer.activated[QModelIndex].connect(self._chosen)
        self.note = QLabel()
        self.note.setObjectName("scan_note")
        self.note.setWordWrap(True)
        self.note.setVisible(False)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SUGGEST_DELAY_MS)
        self.timer.timeout.connect(self._suggest)
        self._suggest_task: Task | None = None
        self.edit.textEdited.connect(self._typed)
        self.edit.returnPressed.connect(self.lookup_now)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.note)
        self.setFocusProxy(self.edit)

    def show_note(self, text: str, kind: str = "hint") -> None:
        self.note.setStyleSheet(message_style(kind))
        self.note.setText(text)
        self.note.setVisible(bool(text))

    def _typed(self, text: str) -> None:
        self.show_note("")
        if len(text.strip()) >= 2:
            self.timer.start()
        else:
            self.timer.stop()
            self.completer.popup().hide()

    def _suggest(self) -> None:
        from erp_desktop.services import catalogue

        text = self.edit.text().strip()
        if not text:
            return
        if self._suggest_task is not None:
            self._suggest_task.cancel()
        self._suggest_task = run_in_background(
            catalogue.search_products, self.env.ctx, text, 12, parent=self,
            name="product suggestions", on_done=partial(self._suggested, text),
            on_error=lambda _exc: None)

    def _suggested(self, text: str, rows: list[Any]) -> None:
        self._suggest_task = None
        if self.edit.text().strip() != text:
            return  # typed on meanwhile: a newer wish counts
        self._fill(rows)
        if rows and self.edit.hasFocus():
            self.completer.complete()

    def _fill(self, rows: Sequence[Any]) -> None:
        self.suggestions.clear()
        for row in rows:
            extra = f"  ({row.barcode})" if row.barcode else ""
            item = QStandardItem(f"{row.sku} · {row.name}{extra}")
            item.setData(row, Qt.ItemDataRole.UserRole)
            self.suggestions.appendRow(item)

    def _chosen(self, index: QModelIndex) -> None:
        row = index.data(Qt.ItemDataRole.UserRole)
        if row is not None:
            self._pick(row)

    def lookup_now(self) -> None:
        """Enter: the exact SKU or barcode typed (a scan), else the only match."""
        from erp_desktop.services import catalogue

        text = self.edit.text().strip()
        if not text:
            return
        self.timer.stop()
        if self._suggest_task is not None:
            self._suggest_task.cancel()
            self._suggest_task = None
        self.edit.clear()  # ready for the next scan at once
        self.lookups += 1
        run_in_background(catalogue.search_products, self.env.ctx, text, 12, parent=self,
                          name="find product", on_done=partial(self._looked_up, text),
                          on_error=self._failed)

    def _looked_up(self, text: str, rows: list[Any]) -> None:
        self.lookups -= 1
        key = text.casefold()
        exact = [r for r in rows if r.sku.casefold() == key or (r.barcode or "") == text]
        if exact or len(rows) == 1:
            self._pick((exact or rows)[0])
        elif rows:
            self.edit.setText(text)
            self._fill(rows)
            self.completer.complete()
            self.show_note(_tr("{n} products match “{text}”: choose one.").format(
                n=len(rows), text=text))
        else:
            self.edit.setText(text)
            self.edit.selectAll()
            self.show_note(_tr("No product has the code or name “{text}”.").format(text=text),
                           "error")

    def _failed(self, exc: BaseException) -> None:
        self.lookups -= 1
        if isinstance(exc, UserError):
            self.show_note(exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            show_error(self, exc)

    def _pick(self, row: Any) -> None:
        self.completer.popup().hide()
        # The completer writes its text into the box after this: clear it afterwards.
        QTimer.singleShot(0, self.edit.clear)
        self.edit.clear()
        self.show_note("")
        self.picked.emit(row)


# =================================================================== document lines


@dataclass
class _Line:
    product: Any  # catalogue.ProductRow
    box: QWidget
    title: QLabel
    qty: QLineEdit
    unit: QLabel
    cost: QLineEdit | None
    remove: QToolButton
    error: QLabel


class StockLinesEditor(QWidget):
    """The lines of a receipt or transfer: product, quantity, unit (cost on receipts).

    Products come from the `ProductPicker` above the lines; picking one already
    listed adds one to its quantity. A refusal about one line is shown under it
    (`show_line_error`).
    """

    changed = Signal()
    QTY_WIDTH = 110
    UNIT_WIDTH = 56
    COST_WIDTH = 130
    REMOVE_WIDTH = 30

    def __init__(self, env: PageEnv, *, with_cost: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.with_cost = with_cost
        self.lines: list[_Line] = []
        self.picker = ProductPicker(env)
        self.picker.picked.connect(self.add_product)

        head = QWidget()
        row = QHBoxLayout(head)
        row.setContentsMargins(8, 0, 8, 0)
        row.addWidget(self._heading(_tr("Product")), 1)
        row.addWidget(self._heading(_tr("Quantity"), self.QTY_WIDTH, right=True))
        row.addWidget(self._heading(_tr("Unit"), self.UNIT_WIDTH))
        if with_cost:
            row.addWidget(self._heading(_tr("Unit cost"), self.COST_WIDTH, right=True))
        row.addSpacing(self.REMOVE_WIDTH + 6)

        self.body = QWidget()
        self.body.setObjectName("lines_body")
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(8, 6, 8, 6)
        self.body_layout.setSpacing(4)
        self.empty = hint(_tr("No lines yet. Scan a barcode or type a SKU or name above and "
                              "press Enter; each scan adds one."))
        self.empty.setObjectName("lines_empty")
        self.body_layout.addWidget(self.empty)
        self.body_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("lines_area")
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.body)
        self.scroll.setMinimumHeight(170)
        self.scroll.setFrameShape(QFrame.Shape.StyledPanel)
        self.totals = QLabel()
        self.totals.setObjectName("lines_totals")
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.picker)
        layout.addWidget(head)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.totals)
        self.setFocusProxy(self.picker)
        self._update_totals()

    def _heading(self, text: str, width: int | None = None, right: bool = False) -> QLabel:
        label = QLabel(text)
        label.setStyleSheet("color: palette(placeholder-text); font-weight: bold;")
        if width is not None:
            label.setFixedWidth(width)
        if right:
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return label

    # ---- lines

    def add_product(self, product: Any) -> int:
        """Add a line for `product`, or one more of it when it is listed already."""
        for i, line in enumerate(self.lines):
            if line.product.id == product.id:
                try:
                    qty = parse_number(line.qty.text(), self.env.locale)
                except ValueError:
                    qty = Decimal(0)
                line.qty.setText(_plain(qty + 1))
                self.picker.show_note(_tr("{sku}: {qty} {unit}").format(
                    sku=product.sku, qty=_plain(qty + 1), unit=product.unit))
                self.scroll.ensureWidgetVisible(line.box)
                return i
        index = len(self.lines)
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        title = QLabel(f"<b>{_esc(product.sku)}</b> · {_esc(product.name)}")
        title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        title.setToolTip(product.barcode or "")
        qty = EnterEdit("1")
        qty.enter.connect(self._back_to_scan)
        qty.setFixedWidth(self.QTY_WIDTH)
        qty.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        qty.setAccessibleName(_tr("Quantity of {sku}").format(sku=product.sku))
        unit = QLabel(product.unit)
        unit.setFixedWidth(self.UNIT_WIDTH)
        cost = None
        col = 0
        grid.addWidget(title, 0, col)
        grid.setColumnStretch(0, 1)
        grid.addWidget(qty, 0, col + 1)
        grid.addWidget(unit, 0, col + 2)
        if self.with_cost:
            price = product.purchase_price
            cost = EnterEdit(str(price.amount) if price.amount else "")
            cost.enter.connect(self._back_to_scan)
            cost.setPlaceholderText(_tr("average"))
            cost.setToolTip(_tr("What one unit cost; empty: the current average cost"))
            cost.setFixedWidth(self.COST_WIDTH)
            cost.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(cost, 0, col + 3)
        remove = QToolButton()
        remove.setIcon(icon("close"))
        remove.setToolTip(_tr("Remove this line"))
        remove.setFixedWidth(self.REMOVE_WIDTH)
        remove.setAutoRaise(True)
        grid.addWidget(remove, 0, 4 if self.with_cost else 3)
        error = QLabel()
        error.setWordWrap(True)
        error.setVisible(False)
        error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(error, 1, 0, 1, 5 if self.with_cost else 4)
        line = _Line(product, box, title, qty, unit, cost, remove, error)
        remove.clicked.connect(lambda: self.remove_line(self.lines.index(line)))
        for edit in (qty, cost):
            if edit is not None:
                edit.textChanged.connect(lambda _t, ln=line: self._line_changed(ln))
        self.body_layout.insertWidget(self.body_layout.count() - 1, box)
        self.lines.append(line)
        self._renumber()
        self.empty.setVisible(False)
        QTimer.singleShot(0, lambda: self.scroll.ensureWidgetVisible(box))
        self._changed()
        return index

    def _back_to_scan(self) -> None:
        self.picker.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def remove_line(self, index: int) -> None:
        if not 0 <= index < len(self.lines):
            return
        line = self.lines.pop(index)
        line.box.hide()
        line.box.deleteLater()
        self._renumber()
        self.empty.setVisible(not self.lines)
        self._changed()

    def clear(self) -> None:
        while self.lines:
            self.remove_line(len(self.lines) - 1)

    def _renumber(self) -> None:
        chain: list[QWidget] = [self.picker.edit]
        for i, line in enumerate(self.lines):
            line.qty.setObjectName(f"qty_{i}")
            line.error.setObjectName(f"line_error_{i}")
            line.remove.setObjectName(f"remove_{i}")
            chain.append(line.qty)
            if line.cost is not None:
                line.cost.setObjectName(f"cost_{i}")
                chain.append(line.cost)
            chain.append(line.remove)
        for a, b in itertools.pairwise(chain):
            QWidget.setTabOrder(a, b)

    def _line_changed(self, line: _Line) -> None:
        self._set_line_error(line, "")
        self._changed()

    def _changed(self) -> None:
        self._update_totals()
        self.changed.emit()

    def _update_totals(self) -> None:
        if not self.lines:
            self.totals.setText("")
            return
        count = Decimal(0)
        value = Decimal(0)
        currency = None
        for line in self.lines:
            try:
                qty = parse_number(line.qty.text(), self.env.locale)
            except ValueError:
                continue
            count += qty
            if line.cost is not None:
                currency = line.product.purchase_price.currency
                try:
                    value += qty * parse_number(line.cost.text(), self.env.locale)
                except ValueError:
                    pass
        n = len(self.lines)
        text = (_tr("1 line") if n == 1 else _tr("{n} lines").format(n=n)) + " · " + \
            _tr("{qty} in all").format(qty=format_number(count, self.env.locale))
        if currency is not None and value:
            try:
                text += " · " + format_money(Money.of(value, currency), self.env.locale)
            except UserError:
                pass
        self.totals.setText(text)

    # ---- values and messages

    def values(self) -> list[tuple[uuid.UUID, Decimal | None, Decimal | None]]:
        """(product id, quantity, unit cost) per line; None where nothing usable was typed."""
        out = []
        for line in self.lines:
            try:
                qty: Decimal | None = parse_number(line.qty.text(), self.env.locale)
            except ValueError:
                qty = None
            cost: Decimal | None = None
            if line.cost is not None and line.cost.text().strip():
                try:
                    cost = parse_number(line.cost.text(), self.env.locale)
                except ValueError:
                    cost = None
            out.append((line.product.id, qty, cost))
        return out

    def problem(self) -> str | None:
        """What the form can tell without the services: no lines, a number that is not one."""
        if not self.lines:
            return _tr("Add at least one product.")
        for i, line in enumerate(self.lines, start=1):
            for edit, what in ((line.qty, _tr("quantity")), (line.cost, _tr("unit cost"))):
                if edit is None or (edit is line.cost and not edit.text().strip()):
                    continue
                try:
                    parse_number(edit.text(), self.env.locale)
                except ValueError:
                    return _tr("Line {n}: the {what} “{text}” is not a number.").format(
                        n=i, what=what, text=edit.text())
        return None

    def _set_line_error(self, line: _Line, message: str, field: str | None = None) -> None:
        line.error.setStyleSheet(f"color: {tones().error};")
        line.error.setText(message)
        line.error.setVisible(bool(message))
        for edit in (line.qty, line.cost):
            if edit is not None:
                bad = bool(message) and (field != "unit_cost") == (edit is line.qty)
                edit.setProperty("erp_invalid", bad)
                edit.setAccessibleDescription(message if bad else "")

    def show_line_error(self, index: int, message: str, field: str | None = None) -> None:
        """A refusal about line `index` (from 0), under that line; its field takes the focus."""
        for i, line in enumerate(self.lines):
            self._set_line_error(line, message if i == index else "", field)
        if 0 <= index < len(self.lines):
            line = self.lines[index]
            target = line.cost if field == "unit_cost" and line.cost is not None else line.qty
            self.scroll.ensureWidgetVisible(line.box)
            target.setFocus(Qt.FocusReason.OtherFocusReason)
            target.selectAll()

    def line_error(self, index: int) -> str:
        line = self.lines[index]
        return line.error.text() if not line.error.isHidden() else ""


def _esc(text: str) -> str:
    import html

    return html.escape(text or "")


class _LinesDialog(FormDialog):
    """The frame of a receipt and a transfer: warehouses, date, note, lines."""

    def __init__(self, env: PageEnv, title: str, *, intro: str, save_text: str,
                 with_cost: bool, parent: QWidget | None = None) -> None:
        super().__init__(title, locale=env.locale, intro=intro, save_text=save_text,
                         parent=parent)
        self.env = env
        self.warehouses: list[Any] = []
        self.build()
        self.date = self.form.add_date("move_date", _tr("Date"), value=env.ctx.today())
        self.date.setMaximumWidth(200)
        self.note = self.form.add_text("note", _tr("Note"), max_length=200,
                                       placeholder=_tr("Optional: why, or the paper's number"))
        self.editor = StockLinesEditor(env, with_cost=with_cost)
        self.form.add_widget("lines", _tr("Lines"), self.editor, value=self.editor.values,
                             checks=[lambda _v: self.editor.problem()], stretch=True)
        self.editor.changed.connect(lambda: self.form.field_changed("lines"))
        self.resize(880, 640)
        self.save_task: Task | None = None
        from erp_desktop.services import inventory

        run_in_background(inventory.list_warehouses, env.ctx, parent=self, name="warehouses",
                          on_done=self._warehouses_loaded, on_error=self.form.show_error)

    def build(self) -> None:
        raise NotImplementedError

    def combos(self) -> list[QComboBox]:
        raise NotImplementedError

    def _warehouses_loaded(self, rows: list[Any]) -> None:
        self.warehouses = [w for w in rows if w.active]
        for i, combo in enumerate(self.combos()):
            _fill_combo(combo, _warehouse_items(self.warehouses))
            if i < combo.count():
                combo.setCurrentIndex(min(i, combo.count() - 1))
        self.editor.picker.edit.setFocus()

    def _failed(self, exc: BaseException) -> None:
        from erp_desktop.services.inventory_desk import LineRefused

        if isinstance(exc, LineRefused):
            # The form put it under the lines; beside its own line is where it belongs.
            self.form.fields["lines"].error.setVisible(False)
            self.editor.show_line_error(exc.line, exc.message, exc.line_field)

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Task | None:
        for line in self.editor.lines:
            self.editor._set_line_error(line, "")
        task = self.form.submit(fn, *args, on_done=self.saved, **kwargs)
        if task is not None:
            task.failed.connect(self._failed)
        self.save_task = task
        return task


class ReceiptDialog(_LinesDialog):
    """Stock received without a purchase order (opening stock, goods found, gifts)."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, _tr("Receive stock"), intro=_tr(
            "Stock that comes in without a purchase order: opening stock, goods found, "
            "gifts. Goods bought from a vendor are received on their purchase order."),
            save_text=_tr("Receive"), with_cost=True, parent=parent)

    def build(self) -> None:
        self.warehouse = self.form.add_choice("warehouse", _tr("Into warehouse"), [])

    def combos(self) -> list[QComboBox]:
        return [self.warehouse]

    def save(self) -> None:
        from erp_desktop.services import inventory, inventory_desk

        lines = [inventory.ReceiptLine(pid, qty if qty is not None else "", cost)
                 for pid, qty, cost in self.editor.values()]
        self.submit(inventory_desk.receive_stock, self.env.ctx, self.warehouse.currentData(),
                    lines, move_date=self.date.date().toPython(),
                    note=self.note.text().strip() or None)


class TransferDialog(_LinesDialog):
    """Stock moved from one warehouse to another, at the source's average cost."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, _tr("Transfer stock"), intro=_tr(
            "Move goods between warehouses. The value travels with them at the average cost "
            "of the warehouse they leave."), save_text=_tr("Transfer"), with_cost=False,
            parent=parent)

    def build(self) -> None:
        self.source = self.form.add_choice("from_warehouse", _tr("From warehouse"), [])
        self.target = self.form.add_choice("to_warehouse", _tr("To warehouse"), [])
        self.form.alias("warehouse", "from_warehouse")

    def combos(self) -> list[QComboBox]:
        return [self.source, self.target]

    def save(self) -> None:
        from erp_desktop.services import inventory, inventory_desk

        lines = [inventory.IssueLine(pid, qty if qty is not None else "")
                 for pid, qty, _cost in self.editor.values()]
        self.submit(inventory_desk.transfer_stock, self.env.ctx, self.source.currentData(),
                    self.target.currentData(), lines, move_date=self.date.date().toPython(),
                    note=self.note.text().strip() or None)


class ChosenProduct(QWidget):
    """One product for a form (an adjustment): the picker, then what was picked."""

    changed = Signal()

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.product: Any = None
        self.picker = ProductPicker(env)
        self.picker.picked.connect(self.choose)
        self.label = QLabel(_tr("No product chosen yet."))
        self.label.setObjectName("chosen_product")
        self.label.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.picker)
        layout.addWidget(self.label)
        self.setFocusProxy(self.picker)

    def choose(self, product: Any) -> None:
        self.product = product
        on_hand = "" if product.is_service else _tr(" · {qty} {unit} in all warehouses").format(
            qty=format_number(product.on_hand, self.picker.env.locale), unit=product.unit)
        self.label.setStyleSheet("")
        self.label.setText(f"<b>{_esc(product.sku)}</b> · {_esc(product.name)}"
                           f"{_esc(on_hand)}")
        self.changed.emit()

    def value(self) -> uuid.UUID | None:
        return self.product.id if self.product is not None else None


class AdjustmentDialog(FormDialog):
    """Correct one product's stock in one warehouse by a signed quantity, with a reason."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Adjust stock"), locale=env.locale, save_text=_tr("Adjust"),
                         intro=_tr("Correct stock that was damaged, lost, expired or found. "
                                   "The difference in value goes to stock adjustments."),
                         parent=parent)
        self.env = env
        self.warehouse = self.form.add_choice("warehouse", _tr("Warehouse"), [])
        self.chosen = ChosenProduct(env)
        self.form.add_widget("product", _tr("Product"), self.chosen, value=self.chosen.value)
        self.chosen.changed.connect(lambda: self.form.field_changed("product"))
        self.quantity = self.form.add_decimal(
            "quantity", _tr("Change"), required=True, places=3,
            placeholder=_tr("-2 removes two, 5 adds five"),
            checks=[lambda v: _tr("Enter a change other than zero.") if v == 0 else None])
        self.reason = self.form.add_text("reason", _tr("Reason"), required=True,
                                         max_length=200,
                                         placeholder=_tr("Damaged, expired, found, counted "
                                                         "wrong…"))
        self.cost = self.form.add_decimal("unit_cost", _tr("Unit cost"), places=4,
                                          minimum=Decimal(0),
                                          placeholder=_tr("for stock added; empty: average"))
        self.date = self.form.add_date("move_date", _tr("Date"), value=env.ctx.today())
        self.date.setMaximumWidth(200)
        _level_caption(self.form, "product", self.chosen.picker.edit)
        self.resize(620, self.sizeHint().height() + 40)
        from erp_desktop.services import inventory

        run_in_background(inventory.list_warehouses, env.ctx, parent=self, name="warehouses",
                          on_done=lambda rows: _fill_combo(self.warehouse,
                                                           _warehouse_items(rows)),
                          on_error=self.form.show_error)

    def save(self) -> None:
        from erp_desktop.domain.errors import ValidationError
        from erp_desktop.services import inventory

        if self.chosen.value() is None:
            self.form.validate()
            self.form.show_error(ValidationError(
                _tr("Choose the product: scan it or type its SKU or name."), field="product"))
            return
        v = self.form.values()
        self.form.submit(inventory.adjust_stock, self.env.ctx, v["warehouse"], v["product"],
                         v["quantity"] if v["quantity"] is not None else "", v["reason"],
                         move_date=v["move_date"], unit_cost=v["unit_cost"],
                         on_done=self.saved)


# =================================================================== products


class ProductDialog(FormDialog):
    """A new product, or the changes to one (optimistic locking: a change made
    meanwhile elsewhere is reported with Reload, never overwritten)."""

    def __init__(self, env: PageEnv, choices: Any, product: Any = None,
                 parent: QWidget | None = None) -> None:
        title = _tr("New product") if product is None else \
            _tr("Product {sku}").format(sku=product.sku)
        super().__init__(title, locale=env.locale, parent=parent,
                         save_text=_tr("Add product") if product is None else None)
        self.env = env
        self.product = product
        self.version = product.version if product is not None else None
        f = self.form
        self.sku = f.add_text("sku", _tr("SKU"), required=True, max_length=64,
                              placeholder=_tr("The shop's own code, e.g. HB-M8"))
        f.add_text("name", _tr("Name"), required=True, max_length=200)
        self.barcode = f.add_text("barcode", _tr("Barcode"), max_length=20,
                                  placeholder=_tr("EAN-13, UPC-A or EAN-8: scan it here"),
                                  checks=[self._barcode_problem])
        f.add_choice("unit", _tr("Unit"), [(u.code, f"{u.code} · {u.name}")
                                           for u in choices.units], value="pcs")
        self.category = f.add_choice("category", _tr("Category"),
                                     [("", "")] + [(c, c) for c in choices.categories],
                                     editable=True)
        self.category.lineEdit().setPlaceholderText(_tr("Choose, or type a new one"))
        self.category.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        places = 2 if choices.currency not in ("JPY", "KRW") else 0
        for name, label in (("sale_price", _tr("Sale price")),
                            ("purchase_price", _tr("Purchase price"))):
            f.add_decimal(name, f"{label} ({choices.currency})", places=places,
                          minimum=Decimal(0), placeholder="0.00")
        f.add_choice("tax_category", _tr("Tax category"),
                     [("", _tr("(none)"))] + [(t.key, t.label) for t in choices.tax_categories])
        f.add_text("hsn_sac", _tr("HSN/SAC code"), max_length=10,
                   placeholder=_tr("Empty: the tax category's"))
        f.add_decimal("reorder_level", _tr("Reorder level"), places=3, minimum=Decimal(0),
                      placeholder="0")
        f.add_decimal("reorder_qty", _tr("Reorder quantity"), places=3, minimum=Decimal(0),
                      placeholder="0")
        f.add_check("is_service", _tr("A service (no stock is kept)"))
        f.add_check("active", _tr("Active (can be sold and bought)"), value=True)
        notes = f.add_multiline("notes", _tr("Notes"), lines=2)
        notes.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        _level_caption(f, "notes", self.sku)
        f.reload_requested.connect(self.reload)
        if product is not None:
            self._show(product)
        self.resize(560, self.sizeHint().height() + 48)  # room for a message or two

    def _barcode_problem(self, value: str) -> str | None:
        try:
            normalise_barcode(value)
        except UserError as exc:
            return exc.message
        return None

    def _show(self, p: Any) -> None:
        self.version = p.version
        # A unit or tax category no longer offered (made inactive) is still this
        # product's: list it, so that saving never changes it silently.
        for name, value in (("unit", p.unit), ("tax_category", p.tax_category)):
            combo = self.form.fields[name].widget
            if value and isinstance(combo, QComboBox) and combo.findData(value) < 0:
                combo.addItem(value, value)
        self.form.set_values({
            "sku": p.sku, "name": p.name, "barcode": p.barcode or "", "unit": p.unit,
            "category": p.category or "", "sale_price": _plain(p.sale_price.amount),
            "purchase_price": _plain(p.purchase_price.amount),
            "tax_category": p.tax_category or "", "hsn_sac": p.hsn_sac or "",
            "reorder_level": _plain(p.reorder_level), "reorder_qty": _plain(p.reorder_qty),
            "is_service": p.is_service, "active": p.active, "notes": p.notes or ""})

    def reload(self) -> None:
        from erp_desktop.services import catalogue

        if self.product is None:
            return
        run_in_background(catalogue.get_product, self.env.ctx, self.product.id, parent=self,
                          name="reload product", on_done=self._reloaded,
                          on_error=self.form.show_error)

    def _reloaded(self, product: Any) -> None:
        self.product = product
        self._show(product)

    def save(self) -> None:
        from erp_desktop.services import catalogue

        v = self.form.values()
        fields = {
            "sku": v["sku"], "name": v["name"], "barcode": v["barcode"] or None,
            "unit": v["unit"], "category": (v["category"] or "").strip() or None,
            "sale_price": v["sale_price"] or Decimal(0),
            "purchase_price": v["purchase_price"] or Decimal(0),
            "tax_category": v["tax_category"] or None, "hsn_sac": v["hsn_sac"] or None,
            "reorder_level": v["reorder_level"] or Decimal(0),
            "reorder_qty": v["reorder_qty"] or Decimal(0),
            "is_service": v["is_service"], "active": v["active"], "notes": v["notes"] or None}
        if self.product is None:
            self.form.submit(catalogue.create_product, self.env.ctx,
                             catalogue.ProductInput(**fields), on_done=self.saved)
        else:
            self.form.submit(catalogue.update_product, self.env.ctx, self.product.id,
                             version=self.version, on_done=self.saved, **fields)


class ImportProductsDialog(QDialog):
    """Choose a CSV or XLSX file, map its columns, check it (a dry run listing every bad
    row), then import all rows or the good ones, with progress and Cancel."""

    imported = Signal(object)  # the report of an import that was written

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.setWindowTitle(_tr("Import products"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.preview: Any = None
        self.report: Any = None  # the last dry run's, for the mapping it was made with
        self.checked_mapping: dict[str, str | None] | None = None
        self.run: Any = None
        self._late: Any = None
        self.combos: dict[str, QComboBox] = {}

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        intro = hint(_tr(
            "Products are matched by SKU: a row whose SKU exists updates that product, "
            "others are added. Check the file first: nothing is written until you import."))
        layout.addWidget(intro)

        row = QHBoxLayout()
        file_label = QLabel(_tr("&File:"))
        self.path = EnterEdit()
        self.path.setObjectName("import_path")
        self.path.setPlaceholderText(_tr("A .csv or .xlsx file whose first row names the "
                                         "columns"))
        self.path.editingFinished.connect(self.load_preview)
        file_label.setBuddy(self.path)
        self.browse = QPushButton(_tr("&Browse…"))
        self.browse.setObjectName("browse")
        self.browse.clicked.connect(self.choose_file)
        row.addWidget(file_label)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        layout.addLayout(row)

        self.mapping_box = QFrame()
        self.mapping_box.setObjectName("mapping")
        self.mapping_box.setFrameShape(QFrame.Shape.StyledPanel)
        self.mapping_grid = QGridLayout(self.mapping_box)
        self.mapping_grid.setContentsMargins(12, 10, 12, 10)
        self.mapping_grid.setHorizontalSpacing(10)
        self.mapping_grid.setVerticalSpacing(6)
        self.mapping_note = hint(_tr("Choose a file to see its columns."))
        self.mapping_grid.addWidget(self.mapping_note, 0, 0, 1, 4)
        layout.addWidget(self.mapping_box)

        actions = QHBoxLayout()
        self.check_button = QPushButton(icon("verify"), _tr("&Check file"))
        self.check_button.setObjectName("check")
        self.check_button.setToolTip(_tr("Read every row and list the bad ones; writes "
                                         "nothing"))
        self.check_button.clicked.connect(self.check)
        self.import_button = QPushButton(icon("import"), _tr("&Import all rows"))
        self.import_button.setObjectName("import_all")
        self.import_button.clicked.connect(lambda: self.import_rows(skip_bad_rows=False))
        self.skip_button = QPushButton(_tr("Import &without bad rows"))
        self.skip_button.setObjectName("import_good")
        self.skip_button.clicked.connect(lambda: self.import_rows(skip_bad_rows=True))
        for button in (self.check_button, self.import_button, self.skip_button):
            button.setEnabled(False)
            actions.addWidget(button)
        actions.addStretch(1)
        layout.addLayout(actions)

        self.status = QLabel()
        self.status.setObjectName("import_status")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.bad_model = RowsModel([
            (_tr("Line"), lambda e: str(e.line), True),
            (_tr("Column"), lambda e: e.column or _tr("(row)"), False),
            (_tr("Problem"), lambda e: e.reason, False),
        ], self)
        self.bad_rows = rows_table(self.bad_model)
        self.bad_rows.setObjectName("bad_rows")
        header = self.bad_rows.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(0, 70)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 150)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.bad_rows.setWordWrap(True)
        layout.addWidget(self.bad_rows, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(860, 660)

    # ---- the file and its columns

    def choose_file(self) -> None:
        start = str(Path(self.path.text()).parent) if self.path.text() else QDir.homePath()
        chosen, _ = QFileDialog.getOpenFileName(
            self, _tr("Choose the products file"), start,
            _tr("Spreadsheets (*.csv *.xlsx);;CSV files (*.csv);;Excel files (*.xlsx)"))
        if chosen:
            self.path.setText(QDir.toNativeSeparators(chosen))
            self.load_preview()

    def load_preview(self) -> None:
        from erp_desktop.services import inventory_desk

        text = self.path.text().strip()
        if not text or (self.preview is not None and self._preview_path == text):
            return
        self._preview_path = text
        self._set_status(_tr("Reading the columns…"))
        run_in_background(inventory_desk.preview_product_import, self.env.ctx, Path(text),
                          parent=self, name="import preview", on_done=self._previewed,
                          on_error=self._preview_failed)

    _preview_path = ""

    def _preview_failed(self, exc: BaseException) -> None:
        self.preview = None
        self._preview_path = ""
        self.check_button.setEnabled(False)
        _show_failure(self, self.status, exc, _tr("The file could not be read."))

    def _previewed(self, preview: Any) -> None:
        self.preview = preview
        self.report = None
        while self.mapping_grid.count():
            item = self.mapping_grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()
        self.combos.clear()
        half = (len(preview.targets) + 1) // 2
        for i, target in enumerate(preview.targets):
            combo = QComboBox()
            combo.setObjectName(f"map_{target.name}")
            combo.addItem(_tr("(not in the file)"), None)
            for heading in preview.header:
                if heading:
                    combo.addItem(heading, heading)
            guess = preview.guesses.get(target.name)
            combo.setCurrentIndex(max(0, combo.findData(guess)) if guess else 0)
            combo.currentIndexChanged.connect(self._mapping_changed)
            label = QLabel(_tr(target.label) + (" *" if target.required else ""))
            label.setBuddy(combo)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            r, c = (i, 0) if i < half else (i - half, 2)
            self.mapping_grid.addWidget(label, r, c)
            self.mapping_grid.addWidget(combo, r, c + 1)
            self.combos[target.name] = combo
        self.mapping_grid.setColumnStretch(1, 1)
        self.mapping_grid.setColumnStretch(3, 1)
        self.bad_model.set_rows([])
        self._set_status(_tr("{file}: {n} columns. Check that each field takes the right "
                             "column, then Check file.").format(file=preview.file_name,
                                                                n=len(preview.header)))
        self._mapping_changed()

    def mapping(self) -> dict[str, str | None]:
        return {name: combo.currentData() for name, combo in self.combos.items()}

    def _mapping_changed(self) -> None:
        ready = self.preview is not None and all(
            self.combos[t.name].currentData() for t in self.preview.targets if t.required)
        self.check_button.setEnabled(ready)
        checked = self.report is not None and self.checked_mapping == self.mapping()
        may_all = checked and not self.report.errors
        may_good = checked and bool(self.report.errors) and \
            len(self.report.bad_lines) < self.report.rows
        self.import_button.setEnabled(bool(may_all))
        self.skip_button.setEnabled(bool(may_good))
        if self.preview is not None and not ready:
            self._set_status(_tr("Choose the columns of the fields marked *."), "error")

    # ---- checking and importing

    def _start(self, *, dry_run: bool, skip_bad_rows: bool) -> Any:
        from erp_desktop.ui.progress import run_with_progress

        mapping = self.mapping()
        self._late = None
        for button in (self.check_button, self.import_button, self.skip_button, self.browse):
            button.setEnabled(False)
        title = _tr("Checking products") if dry_run else _tr("Importing products")
        self._set_status(_tr("Checking the file…") if dry_run else _tr("Importing…"))
        self.run = run_with_progress(
            self, _import_job, self.env.ctx, Path(self.path.text().strip()), mapping,
            dry_run=dry_run, skip_bad_rows=skip_bad_rows, title=title,
            label=_tr("Reading {file}…").format(file=Path(self.path.text()).name),
            on_done=partial(self._finished, mapping), on_error=self._failed,
            on_cancelled=self._cancelled, discard=self._finished_anyway, name=title)
        return self.run

    def check(self) -> Any:
        """The dry run: every row read and checked, every bad one listed, nothing written."""
        return self._start(dry_run=True, skip_bad_rows=False)

    def import_rows(self, *, skip_bad_rows: bool) -> Any:
        return self._start(dry_run=False, skip_bad_rows=skip_bad_rows)

    def _done_running(self) -> None:
        self.run = None
        self.browse.setEnabled(True)
        self._mapping_changed()

    def _show_bad_rows(self, errors: Sequence[Any]) -> None:
        self.bad_model.set_rows(errors)
        # Long reasons wrap onto a second line while the list is short enough to measure.
        mode = QHeaderView.ResizeMode.ResizeToContents if len(errors) <= 300 \
            else QHeaderView.ResizeMode.Fixed
        self.bad_rows.verticalHeader().setSectionResizeMode(mode)

    def _finished(self, mapping: dict[str, str | None], report: Any) -> None:
        self._show_bad_rows(report.errors)
        if report.dry_run:
            self.report = report
            self.checked_mapping = mapping
            if report.errors:
                good = report.rows - len(report.bad_lines)
                text = _tr("{bad} of {rows} rows have problems (listed below). Fix the file "
                           "and check again, or import without them: {good}.").format(
                    bad=len(report.bad_lines), rows=report.rows,
                    good=_tr("1 good row") if good == 1 else
                    _tr("{n} good rows").format(n=good))
                self._set_status(text, "warning")
            else:
                self._set_status(_tr("All {rows} rows are fine: {created} new, {updated} "
                                     "updated. Import when ready.").format(
                    rows=report.rows, created=report.created, updated=report.updated),
                    "success")
        else:
            self.report = None
            self._set_status(_tr("Imported: {summary}").format(summary=report.summary()),
                             "success")
            self.imported.emit(report)
        self._done_running()

    def _finished_anyway(self, report: Any) -> None:
        """Cancel came after the import had finished: it was written (on the worker)."""
        self._late = report

    def _failed(self, exc: BaseException) -> None:
        report = getattr(exc, "report", None)
        if report is not None:
            self._show_bad_rows(report.errors)
        _show_failure(self, self.status, exc, _tr("The import failed; nothing was written."))
        self._done_running()

    def _cancelled(self) -> None:
        late = self._late
        if late is not None and not late.dry_run:
            self._set_status(_tr("Cancel came too late: the import had already finished. "
                                 "{summary}").format(summary=late.summary()), "warning")
            self.imported.emit(late)
        else:
            self._set_status(_tr("Cancelled; nothing was written."), "warning")
        self._done_running()

    def _set_status(self, text: str, kind: str = "hint") -> None:
        self.status.setStyleSheet(message_style(kind))
        self.status.setText(text)

    def reject(self) -> None:
        if self.run is not None:
            self.run.cancel()
        super().reject()


def _import_job(ctx: Any, path: Path, mapping: dict[str, str | None], *, dry_run: bool,
                skip_bad_rows: bool, token: CancelToken) -> Any:
    """On the worker: the import, reporting progress and stopping on Cancel."""
    from erp_desktop.services import inventory_desk

    return inventory_desk.run_product_import(ctx, path, mapping, dry_run=dry_run,
                                             skip_bad_rows=skip_bad_rows,
                                             progress=token.report,
                                             cancelled=lambda: token.cancelled)


class ProductsTab(CommandPage):
    """The catalogue: search as you type, filters, New/Edit, Import, stock card."""

    open_card = Signal(object)  # a product row: show its stock card

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import inventory_lists

        self.env = env
        self.may_edit = env.can("inventory.products.manage")
        self.may_import = self.may_edit and env.can("data.import")
        self.choices: Any = None
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("status_filter")
        for key, text in ((True, _tr("Active")), (False, _tr("Inactive")),
                          ("all", _tr("All products"))):
            self.status_filter.addItem(text, key)
        self.status_filter.setToolTip(_tr("Show active, inactive or all products"))
        self.status_filter.currentIndexChanged.connect(self._filters_changed)
        self.low_only = QCheckBox(_tr("&Low stock"))
        self.low_only.setObjectName("low_stock")
        self.low_only.setToolTip(_tr("Only products below their reorder level"))
        self.low_only.toggled.connect(self._filters_changed)
        self.category = QComboBox()
        self.category.setObjectName("category_filter")
        self.category.addItem(_tr("All categories"), None)
        self.category.setMinimumContentsLength(14)
        self.category.currentIndexChanged.connect(self._filters_changed)

        self.edit_action = QAction(icon("edit"), _tr("&Edit…"), self)
        self.edit_action.setObjectName("edit_product")
        self.edit_action.setToolTip(_tr("Change the selected product (Enter)"))
        self.edit_action.triggered.connect(lambda: self.edit_product(self.list.current_row()))
        self.import_action = QAction(icon("import"), _tr("&Import…"), self)
        self.import_action.setObjectName("import_products")
        self.import_action.setToolTip(_tr("Add or update products from a CSV or Excel file"))
        self.import_action.triggered.connect(self.import_products)
        self.card_action = QAction(icon("journal"), _tr("Stock &card"), self)
        self.card_action.setObjectName("stock_card")
        self.card_action.setToolTip(_tr("Every move of the selected product"))
        self.card_action.triggered.connect(
            lambda: self.open_card.emit(self.list.current_row()) if self.list.current_row()
            else None)
        self.new_action = QAction(icon("new"), _tr("&New product…"), self)
        self.new_action.setObjectName("new_product")
        self.new_action.setToolTip(_tr("Add a product (Ctrl+N)"))
        self.new_action.triggered.connect(self.new_product)
        actions = [self.card_action]
        if self.may_edit:
            actions.insert(0, self.edit_action)
        if self.may_import:
            actions.append(self.import_action)
        if self.may_edit:
            actions.append(self.new_action)
        self.list = ListPanel(ListSource(inventory_lists.PRODUCTS, env.ctx), locale=env.locale,
                              noun=(_tr("product"), _tr("products")),
                              search_hint=_tr("Search SKU, barcode or name…"),
                              filters=Filters.of(active=True),
                              extra=[self.status_filter, self.low_only, self.category],
                              actions=actions,
                              on_new=self.new_product if self.may_edit else None)
        self.list.row_activated.connect(self._activated)
        self.list.commands_changed.connect(self.commands_changed)
        self.list.current_row_changed.connect(self._selection_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.list)
        self._selection_changed(None)
        self._loaded = False

    def on_shown(self) -> None:
        if not self._loaded:
            self._loaded = True
            from erp_desktop.services import catalogue

            run_in_background(catalogue.list_categories, self.env.ctx, parent=self,
                              name="categories", on_done=self._categories,
                              on_error=lambda _e: None)

    def _categories(self, rows: list[Any]) -> None:
        _fill_combo(self.category, [(c.id, c.name) for c in rows if c.active],
                    first=(None, _tr("All categories")))

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def _filters_changed(self) -> None:
        status = self.status_filter.currentData()
        self.list.set_filters(Filters.of(
            active=None if status == "all" else status,
            low_stock=True if self.low_only.isChecked() else None,
            category_id=self.category.currentData()))

    def _selection_changed(self, row: Any) -> None:
        self.edit_action.setEnabled(row is not None)
        self.card_action.setEnabled(row is not None and not getattr(row, "is_service", True))

    def _activated(self, row: Any) -> None:
        if self.may_edit:
            self.edit_product(row)
        elif row is not None and not row.is_service:
            self.open_card.emit(row)

    def new_product(self) -> None:
        from erp_desktop.services import inventory_desk

        run_in_background(inventory_desk.product_form_choices, self.env.ctx, parent=self,
                          name="product form", on_done=lambda c: self._open(c, None))

    def edit_product(self, row: Any) -> None:
        if row is None or not self.may_edit:
            return
        from erp_desktop.services import inventory_desk

        def both() -> tuple[Any, Any]:
            from erp_desktop.services import catalogue

            return (inventory_desk.product_form_choices(self.env.ctx),
                    catalogue.get_product(self.env.ctx, row.id))

        run_in_background(both, parent=self, name="product form",
                          on_done=lambda got: self._open(*got))

    def _open(self, choices: Any, product: Any) -> ProductDialog:
        self.choices = choices
        self.dialog = ProductDialog(self.env, choices, product, parent=self)
        self.dialog.accepted.connect(self._saved)
        self.dialog.open()
        return self.dialog

    def _saved(self) -> None:
        self.list.refresh()
        self._loaded = False
        self.on_shown()

    def import_products(self) -> ImportProductsDialog:
        dialog = ImportProductsDialog(self.env, parent=self)
        dialog.imported.connect(lambda _r: self._saved())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.import_dialog = dialog
        return dialog


# =================================================================== stock


@dataclass(frozen=True)
class _Cells:
    cells: tuple[str, ...]
    row: Any = None


def _cells_model(titles: Sequence[tuple[str, bool]], parent: QWidget) -> RowsModel:
    return RowsModel([(title, (lambda r, i=i: r.cells[i]), right)
                      for i, (title, right) in enumerate(titles)], parent)


class _WarehouseFilter(QComboBox):
    """"All warehouses" or one; filled from the services on first show."""

    def __init__(self, env: PageEnv, *, all_text: str | None = None) -> None:
        super().__init__()
        self.env = env
        self.setObjectName("warehouse_filter")
        self.addItem(all_text or _tr("All warehouses"), None)
        self.setMinimumContentsLength(14)
        self.setToolTip(_tr("One warehouse, or all of them"))
        self._asked = False

    def load(self) -> None:
        if self._asked:
            return
        self._asked = True
        from erp_desktop.services import inventory

        run_in_background(inventory.list_warehouses, self.env.ctx, parent=self,
                          name="warehouses", on_error=lambda _e: None,
                          on_done=lambda rows: _fill_combo(
                              self, _warehouse_items(rows), first=(None, self.itemText(0))))


class OnHandView(CommandPage):
    """Stock on hand per product, in one warehouse or all (paged)."""

    open_card = Signal(object)

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import inventory_lists

        self.warehouse = _WarehouseFilter(env)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.list.set_filters(
            Filters.of(warehouse_id=self.warehouse.currentData())))
        self.list = ListPanel(ListSource(inventory_lists.STOCK_ON_HAND, env.ctx),
                              locale=env.locale, noun=(_tr("product in stock"),
                                                       _tr("products in stock")),
                              search_hint=_tr("Search SKU, barcode or name…"),
                              extra=[self.warehouse])
        self.list.row_activated.connect(self.open_card)
        self.list.commands_changed.connect(self.commands_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addWidget(hint(_tr("Double-click a product (or press Enter) for its stock "
                                  "card.")))

    def on_shown(self) -> None:
        self.warehouse.load()

    def delegate_to(self) -> CommandPage | None:
        return self.list


class LowStockView(CommandPage):
    """Products below their reorder level, with what to order (open orders counted)."""

    open_card = Signal(object)

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.task: Task | None = None
        self._loaded = False
        self.warehouse = _WarehouseFilter(env)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.reload())
        refresh = QPushButton(icon("refresh"), _tr("&Refresh"))
        refresh.clicked.connect(self.reload)
        self.status = hint(wrap=False)
        self.status.setObjectName("low_status")
        bar = QHBoxLayout()
        bar.addWidget(self.warehouse)
        bar.addWidget(refresh)
        bar.addStretch(1)
        bar.addWidget(self.status)
        self.model = _cells_model([(_tr("SKU"), False), (_tr("Product"), False),
                                   (_tr("On hand"), True), (_tr("Unit"), False),
                                   (_tr("Reorder level"), True), (_tr("On order"), True),
                                   (_tr("Suggested order"), True)], self)
        self.table = rows_table(self.model)
        self.table.setObjectName("low_stock_table")
        _size(self.table, [110, None, 90, 60, 110, 90, 130])
        self.table.doubleClicked.connect(
            lambda index: self.open_card.emit(self.model.row_at(index.row()).row))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint(_tr("Suggested order: at least the reorder quantity, and "
                                  "nothing while open purchase orders already cover it.")))

    def on_shown(self) -> None:
        self.warehouse.load()
        if not self._loaded:
            self._loaded = True
            self.reload()

    def commands(self) -> set[Command]:
        return {Command.REFRESH}

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.reload()

    def reload(self) -> None:
        from erp_desktop.services import inventory

        if self.task is not None:
            self.task.cancel()
        self.status.setText(_tr("Loading…"))
        self.task = run_in_background(inventory.low_stock, self.env.ctx,
                                      self.warehouse.currentData(), parent=self,
                                      name="low stock", on_done=self._loaded_rows,
                                      on_error=lambda e: _show_failure(
                                          self, self.status, e, _tr("Could not read stock.")))

    def _loaded_rows(self, rows: list[Any]) -> None:
        self.task = None
        loc = self.env.locale
        self.model.set_rows([_Cells((r.sku, r.name, _qty(r.on_hand, loc), r.unit,
                                     _qty(r.reorder_level, loc), _qty(r.on_order, loc),
                                     _qty(r.suggested_qty, loc)), r) for r in rows])
        self.status.setStyleSheet(message_style("hint"))
        self.status.setText(_tr("{n} products below their reorder level").format(n=len(rows))
                            if rows else _tr("Nothing is below its reorder level."))


def _size(table: Any, widths: Sequence[int | None]) -> None:
    header = table.horizontalHeader()
    for i, width in enumerate(widths):
        if width is None:
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch)
        else:
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(i, width)


class StockCardView(CommandPage):
    """One product's moves with the running balance (paged), in one warehouse or all."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import inventory_lists

        self.env = env
        self.product: Any = None
        self.picker = ProductPicker(env, placeholder=_tr(
            "Scan or type the product whose moves to show, then Enter"))
        self.picker.setMinimumWidth(360)
        self.picker.picked.connect(self.show_product)
        self.warehouse = _WarehouseFilter(env)
        self.warehouse.currentIndexChanged.connect(lambda _i: self._apply())
        self.title = QLabel(_tr("Choose a product to see every move of it, with the "
                                "balance after each."))
        self.title.setObjectName("card_title")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.list = ListPanel(ListSource(inventory_lists.STOCK_CARD, env.ctx),
                              locale=env.locale, noun=(_tr("move"), _tr("moves")))
        self.list.search.setVisible(False)  # the product picker chooses what is shown
        self.list.commands_changed.connect(self.commands_changed)
        bar = QHBoxLayout()
        bar.addWidget(self.picker, 2)
        bar.addWidget(self.warehouse)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)

    def on_shown(self) -> None:
        self.warehouse.load()

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def commands(self) -> set[Command]:
        return self.list.commands() | {Command.FIND}

    def run_command(self, command: Command) -> None:
        if command == Command.FIND:
            self.picker.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif command in self.list.commands():
            self.list.run_command(command)

    def show_product(self, product: Any) -> None:
        """Show the card of `product` (any row with id, sku, name)."""
        self.product = product
        self._apply()

    def _apply(self) -> None:
        if self.product is None:
            return
        p = self.product
        where = self.warehouse.currentText() if self.warehouse.currentData() else \
            _tr("all warehouses")
        self.title.setText(_tr("<b>{sku}</b> · {name} — every move in {where}, oldest "
                               "first").format(sku=_esc(p.sku), name=_esc(p.name),
                                               where=_esc(where)))
        self.list.set_filters(Filters.of(product_id=p.id,
                                         warehouse_id=self.warehouse.currentData()))


class ValuationView(CommandPage):
    """What stock was worth at the end of a day, per product and warehouse."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.task: Task | None = None
        self._loaded = False
        as_of_label = QLabel(_tr("&As of:"))
        self.as_of = QDateEdit()
        self.as_of.setObjectName("valuation_date")
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("d MMM yyyy")
        self.as_of.setDate(env.ctx.today())
        self.as_of.dateChanged.connect(lambda _d: self.reload())
        as_of_label.setBuddy(self.as_of)
        self.warehouse = _WarehouseFilter(env)
        self.warehouse.currentIndexChanged.connect(lambda _i: self.reload())
        self.total = QLabel()
        self.total.setObjectName("valuation_total")
        font = self.total.font()
        font.setBold(True)
        self.total.setFont(font)
        bar = QHBoxLayout()
        bar.addWidget(as_of_label)
        bar.addWidget(self.as_of)
        bar.addWidget(self.warehouse)
        bar.addStretch(1)
        bar.addWidget(self.total)
        self.model = _cells_model([(_tr("SKU"), False), (_tr("Product"), False),
                                   (_tr("Warehouse"), False), (_tr("Quantity"), True),
                                   (_tr("Unit"), False), (_tr("Average cost"), True),
                                   (_tr("Value"), True)], self)
        self.table = rows_table(self.model)
        self.table.setObjectName("valuation_table")
        _size(self.table, [110, None, 100, 100, 60, 130, 150])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)

    def on_shown(self) -> None:
        self.warehouse.load()
        if not self._loaded:
            self._loaded = True
            self.reload()

    def commands(self) -> set[Command]:
        return {Command.REFRESH}

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.reload()

    def reload(self) -> None:
        from erp_desktop.services import inventory

        if self.task is not None:
            self.task.cancel()
        self.total.setText(_tr("Loading…"))
        self.task = run_in_background(
            inventory.valuation, self.env.ctx, self.as_of.date().toPython(),
            self.warehouse.currentData(), parent=self, name="valuation",
            on_done=self._loaded_rows,
            on_error=lambda e: _show_failure(self, self.total, e,
                                             _tr("The valuation could not be computed.")))

    def _loaded_rows(self, report: Any) -> None:
        self.task = None
        loc = self.env.locale
        rows = [_Cells((r.sku, r.name, r.warehouse_code, _qty(r.quantity, loc), r.unit,
                        _money(r.average_cost, loc), _money(r.value, loc)), r)
                for r in report.rows]
        rows.append(_Cells(("", _tr("Total"), "", "", "", "",
                            _money(report.total_value, loc))))
        self.model.set_rows(rows, bold_rows={len(rows) - 1})
        self.total.setStyleSheet("")
        self.total.setText(_tr("Stock value on {date}: {value}").format(
            date=format_date(report.as_of, loc), value=_money(report.total_value, loc)))


class StockTab(CommandPage):
    """Stock on hand, low stock, a product's stock card, valuation at a date."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on_hand = OnHandView(env)
        self.low = LowStockView(env)
        self.card = StockCardView(env)
        self.valuation = ValuationView(env)
        self.on_hand.open_card.connect(self.open_card)
        self.low.open_card.connect(self.open_card)
        self.stack = QStackedWidget()
        self.group = QButtonGroup(self)
        bar = QHBoxLayout()
        bar.setSpacing(0)
        self.views = [(self.on_hand, _tr("On &hand")), (self.low, _tr("Lo&w stock")),
                      (self.card, _tr("Stock &card")), (self.valuation, _tr("&Valuation"))]
        self.buttons: list[QToolButton] = []
        for i, (view, text) in enumerate(self.views):
            button = QToolButton()
            button.setText(text)
            button.setCheckable(True)
            button.setObjectName(f"view_{i}")
            button.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            button.setMinimumWidth(110)
            self.group.addButton(button, i)
            bar.addWidget(button)
            self.buttons.append(button)
            self.stack.addWidget(view)
            view.commands_changed.connect(self.commands_changed)
        bar.addStretch(1)
        self.buttons[0].setChecked(True)
        self.group.idClicked.connect(self.show_view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

    def show_view(self, index: int) -> None:
        self.buttons[index].setChecked(True)
        self.stack.setCurrentIndex(index)
        current = self.stack.currentWidget()
        if isinstance(current, CommandPage):
            current.on_shown()
        self.commands_changed.emit()

    def on_shown(self) -> None:
        self.show_view(self.stack.currentIndex())

    def delegate_to(self) -> CommandPage | None:
        current = self.stack.currentWidget()
        return current if isinstance(current, CommandPage) else None

    def open_card(self, product: Any) -> None:
        if product is None:
            return
        self.show_view(2)
        self.card.show_product(_ProductRef(getattr(product, "product_id", None) or product.id,
                                           product.sku, product.name))


@dataclass(frozen=True)
class _ProductRef:
    id: uuid.UUID
    sku: str
    name: str


# =================================================================== movements


MOVE_KINDS = ((None, _noop("All moves")), ("receipt", _noop("Receipts")),
              ("issue", _noop("Issues")), ("transfer", _noop("Transfers")),
              ("adjustment", _noop("Adjustments")), ("stock_take", _noop("Stock-takes")),
              ("vendor_return", _noop("Returns to vendors")))


def _period(key: str, today: date) -> dict[str, date | None]:
    first = today.replace(day=1)
    if key == "this_month":
        return {"date_from": first, "date_to": None}
    if key == "last_month":
        end = first - timedelta(days=1)
        return {"date_from": end.replace(day=1), "date_to": end}
    if key == "last_30":
        return {"date_from": today - timedelta(days=30), "date_to": None}
    return {"date_from": None, "date_to": None}


class MovementsTab(CommandPage):
    """Every stock move (paged), and the documents that make them."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import inventory_lists

        self.env = env
        self.may_move = env.can("inventory.stock.move")
        self.warehouse = _WarehouseFilter(env)
        self.warehouse.currentIndexChanged.connect(self._filters_changed)
        self.kind = QComboBox()
        self.kind.setObjectName("kind_filter")
        for key, text in MOVE_KINDS:
            self.kind.addItem(_tr(text), key)
        self.kind.currentIndexChanged.connect(self._filters_changed)
        self.period = QComboBox()
        self.period.setObjectName("period_filter")
        for key, text in (("all", _tr("All dates")), ("this_month", _tr("This month")),
                          ("last_month", _tr("Last month")), ("last_30", _tr("Last 30 days"))):
            self.period.addItem(text, key)
        self.period.currentIndexChanged.connect(self._filters_changed)
        self.receive_action = QAction(icon("receive"), _tr("&Receive…"), self)
        self.receive_action.setObjectName("receive")
        self.receive_action.setToolTip(_tr("Receive stock without a purchase order (Ctrl+N)"))
        self.receive_action.triggered.connect(self.receive)
        self.transfer_action = QAction(icon("transfer"), _tr("&Transfer…"), self)
        self.transfer_action.setObjectName("transfer")
        self.transfer_action.setToolTip(_tr("Move stock to another warehouse"))
        self.transfer_action.triggered.connect(self.transfer)
        self.adjust_action = QAction(icon("adjust"), _tr("&Adjust…"), self)
        self.adjust_action.setObjectName("adjust")
        self.adjust_action.setToolTip(_tr("Correct damaged, lost or found stock"))
        self.adjust_action.triggered.connect(self.adjust)
        actions = [self.receive_action, self.transfer_action, self.adjust_action] \
            if self.may_move else []
        self.list = ListPanel(ListSource(inventory_lists.STOCK_MOVES, env.ctx),
                              locale=env.locale, noun=(_tr("move"), _tr("moves")),
                              search_hint=_tr("Search reference or product…"),
                              extra=[self.warehouse, self.kind, self.period], actions=actions,
                              on_new=self.receive if self.may_move else None)
        self.list.commands_changed.connect(self.commands_changed)
        self.result = QLabel()
        self.result.setObjectName("move_result")
        self.result.setWordWrap(True)
        self.result.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.result)
        layout.addWidget(self.list, 1)

    def on_shown(self) -> None:
        self.warehouse.load()

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def _filters_changed(self) -> None:
        self.list.set_filters(Filters.of(
            warehouse_id=self.warehouse.currentData(), kind=self.kind.currentData(),
            **_period(str(self.period.currentData()), self.env.ctx.today())))

    def _open(self, dialog: FormDialog) -> Any:
        dialog.accepted.connect(lambda: self._done(dialog.result_value))
        dialog.open()
        self.dialog = dialog
        return dialog

    def receive(self) -> ReceiptDialog:
        return self._open(ReceiptDialog(self.env, parent=self))

    def transfer(self) -> TransferDialog:
        return self._open(TransferDialog(self.env, parent=self))

    def adjust(self) -> AdjustmentDialog:
        return self._open(AdjustmentDialog(self.env, parent=self))

    def _done(self, doc: Any) -> None:
        if doc is not None:
            value = "" if not doc.value else " · " + _money(doc.value, self.env.locale)
            self.result.setStyleSheet(message_style("success"))
            self.result.setText(_tr("Saved {number}: {n} moves{value}.").format(
                number=doc.number, n=len(doc.moves), value=value))
            self.result.setVisible(True)
        self.list.refresh()


# =================================================================== stock-take


class StartStockTakeDialog(FormDialog):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Start a stock-take"), locale=env.locale, parent=parent,
                         save_text=_tr("Start"), intro=_tr(
                             "A count sheet lists what the books expect in the warehouse. "
                             "Count, type or scan the quantities, then post: the "
                             "differences become adjustments."))
        self.env = env
        self.warehouse = self.form.add_choice("warehouse", _tr("Warehouse"), [])
        self.date = self.form.add_date("count_date", _tr("Count date"), value=env.ctx.today())
        self.date.setMaximumWidth(200)
        self.form.alias("move_date", "count_date")
        self.form.add_text("note", _tr("Note"), max_length=200,
                           placeholder=_tr("e.g. Year-end count, aisle 3"))
        from erp_desktop.services import inventory

        run_in_background(inventory.list_warehouses, env.ctx, parent=self, name="warehouses",
                          on_done=lambda rows: _fill_combo(self.warehouse,
                                                           _warehouse_items(rows)),
                          on_error=self.form.show_error)

    def save(self) -> None:
        from erp_desktop.services import inventory

        v = self.form.values()
        self.form.submit(inventory.start_stock_take, self.env.ctx, v["warehouse"],
                         count_date=v["count_date"], note=v["note"] or None,
                         on_done=self.saved)


class CountSheet(QWidget):
    """A stock-take sheet: expected against counted, the difference as you type or scan."""

    SKU, NAME, UNIT, EXPECTED, COUNTED, DIFF = range(6)
    changed = Signal()

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.sheet: Any = None
        self.dirty = False
        self._filling = False
        self.rows: dict[uuid.UUID, int] = {}
        self.places: dict[uuid.UUID, int] = {}
        self.expected: dict[uuid.UUID, Decimal] = {}
        self.title = QLabel(_tr("Open a sheet from the list, or start a new stock-take."))
        self.title.setObjectName("sheet_title")
        self.title.setWordWrap(True)
        self.picker = ProductPicker(env, placeholder=_tr(
            "Scan each item (adds one), or type a SKU or name and press Enter"))
        self.picker.picked.connect(self.scanned)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("count_grid")
        self.table.setHorizontalHeaderLabels([_tr("SKU"), _tr("Product"), _tr("Unit"),
                                              _tr("Expected"), _tr("Counted"),
                                              _tr("Difference")])
        style_table(self.table)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        _size(self.table, [110, None, 60, 100, 100, 100])
        for column in (self.EXPECTED, self.COUNTED, self.DIFF):
            item = self.table.horizontalHeaderItem(column)
            if item is not None:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.itemChanged.connect(self._item_changed)
        self.summary = QLabel()
        self.summary.setObjectName("sheet_summary")
        self.status = QLabel()
        self.status.setObjectName("sheet_status")
        self.status.setWordWrap(True)
        self.save_button = QPushButton(icon("save"), _tr("&Save counts"))
        self.save_button.setObjectName("save_counts")
        self.save_button.setToolTip(_tr("Keep the counts so far; post later (Ctrl+S)"))
        self.post_button = QPushButton(icon("enable"), _tr("&Post…"))
        self.post_button.setObjectName("post_take")
        self.post_button.setToolTip(_tr("Post the differences as stock adjustments"))
        self.cancel_button = QPushButton(icon("close"), _tr("Cancel s&heet…"))
        self.cancel_button.setObjectName("cancel_take")
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.post_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.picker)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.show_sheet(None)

    @property
    def editable(self) -> bool:
        return self.sheet is not None and self.sheet.status == "draft"

    def show_sheet(self, sheet: Any) -> None:
        self.sheet = sheet
        self.dirty = False
        self._filling = True
        self.table.setRowCount(0)
        self.rows.clear()
        self.places.clear()
        self.expected.clear()
        if sheet is not None:
            for line in sheet.lines:
                self._add_row(line.product_id, line.sku, line.name, line.unit,
                              line.expected_qty, line.counted_qty, None)
            status = {"draft": _tr("counting"), "posted": _tr("posted"),
                      "cancelled": _tr("cancelled")}.get(sheet.status, sheet.status)
            number = sheet.number or _tr("(numbered when posted)")
            self.title.setText(_tr("<b>Stock-take {number}</b> · {warehouse} · {date} · "
                                   "{status}").format(number=_esc(number),
                                                      warehouse=_esc(sheet.warehouse_code),
                                                      date=format_date(sheet.count_date,
                                                                       self.env.locale),
                                                      status=status))
        self._filling = False
        editable = self.editable
        self.picker.setEnabled(editable)
        for button in (self.save_button, self.post_button, self.cancel_button):
            button.setEnabled(editable)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers if editable
                                   else QAbstractItemView.EditTrigger.NoEditTriggers)
        self._update_summary()
        self.changed.emit()

    def _item(self, text: str, right: bool = False, editable: bool = False) -> QTableWidgetItem:
        item = QTableWidgetItem(text)
        flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if editable:
            flags |= Qt.ItemFlag.ItemIsEditable
        item.setFlags(flags)
        if right:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return item

    def _add_row(self, product_id: uuid.UUID, sku: str, name: str, unit: str,
                 expected: Decimal, counted: Decimal | None, places: int | None) -> int:
        loc = self.env.locale
        row = self.table.rowCount()
        self.table.insertRow(row)
        was = self._filling
        self._filling = True
        self.table.setItem(row, self.SKU, self._item(sku))
        self.table.setItem(row, self.NAME, self._item(name))
        self.table.setItem(row, self.UNIT, self._item(unit))
        self.table.setItem(row, self.EXPECTED, self._item(format_number(expected, loc), True))
        self.table.setItem(row, self.COUNTED, self._item(
            "" if counted is None else _plain(counted), True, editable=True))
        self.table.setItem(row, self.DIFF, self._item("", True))
        self.table.item(row, self.SKU).setData(Qt.ItemDataRole.UserRole, product_id)
        self._filling = was
        self.rows[product_id] = row
        self.expected[product_id] = expected
        if places is not None:
            self.places[product_id] = places
        self._show_difference(row)
        return row

    def _counted(self, row: int) -> Decimal | None:
        item = self.table.item(row, self.COUNTED)
        text = item.text().strip() if item is not None else ""
        if not text:
            return None
        return parse_number(text, self.env.locale)

    def _show_difference(self, row: int) -> None:
        pid = self.table.item(row, self.SKU).data(Qt.ItemDataRole.UserRole)
        cell = self.table.item(row, self.DIFF)
        counted_item = self.table.item(row, self.COUNTED)
        tone = tones()
        was = self._filling
        self._filling = True
        try:
            counted = self._counted(row)
        except ValueError:
            cell.setText(_tr("not a number"))
            cell.setForeground(QColor(tone.error))
            counted_item.setForeground(QColor(tone.error))
            self._filling = was
            return
        counted_item.setForeground(self.table.palette().text())
        if counted is None:
            cell.setText("")
        else:
            diff = counted - self.expected[pid]
            text = format_number(diff, self.env.locale)
            cell.setText(("+" + text) if diff > 0 else text.replace("-", "−"))
            cell.setForeground(QColor(tone.success if diff > 0 else tone.error) if diff
                               else self.table.palette().text())
        self._filling = was

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling or item.column() != self.COUNTED:
            return
        self.dirty = True
        self._show_difference(item.row())
        self._update_summary()
        self.changed.emit()

    def _update_summary(self) -> None:
        if self.sheet is None:
            self.summary.setText("")
            return
        counted = differ = 0
        for row in range(self.table.rowCount()):
            try:
                value = self._counted(row)
            except ValueError:
                continue
            if value is None:
                continue
            counted += 1
            pid = self.table.item(row, self.SKU).data(Qt.ItemDataRole.UserRole)
            if value != self.expected[pid]:
                differ += 1
        text = _tr("{counted} of {lines} lines counted · {differ} differ").format(
            counted=counted, lines=self.table.rowCount(), differ=differ)
        if self.dirty:
            text += " · " + _tr("not saved yet")
        self.summary.setText(text)

    def set_count(self, product_id: uuid.UUID, value: Decimal) -> None:
        row = self.rows[product_id]
        self.table.item(row, self.COUNTED).setText(_plain(value))  # itemChanged does the rest

    def scanned(self, product: Any) -> None:
        """One more of `product` counted: its line +1 (a new line for goods found)."""
        if not self.editable:
            return
        row = self.rows.get(product.id)
        if row is not None:
            try:
                now = self._counted(row) or Decimal(0)
            except ValueError:
                now = Decimal(0)
            self.set_count(product.id, now + 1)
            self._focus_row(row)
            self.picker.show_note(_tr("{sku}: {qty} counted").format(
                sku=product.sku, qty=_plain(now + 1)))
            return
        from erp_desktop.services import inventory_desk

        run_in_background(inventory_desk.count_line, self.env.ctx, self.sheet.id,
                          str(product.id), parent=self, name="count line",
                          on_done=self._found_line,
                          on_error=lambda e: self.picker.show_note(
                              e.message if isinstance(e, UserError) else str(e), "error"))

    def _found_line(self, line: Any) -> None:
        if line.product_id in self.rows:  # two scans of a new product crossed
            self.scanned(_ProductRef(line.product_id, line.sku, line.name))
            return
        row = self._add_row(line.product_id, line.sku, line.name, line.unit, line.expected_qty,
                            Decimal(1), line.unit_places)
        self.dirty = True
        self._focus_row(row)
        self.picker.show_note(_tr("{sku} was not on the sheet: added, 1 counted.").format(
            sku=line.sku), "warning")
        self._update_summary()
        self.changed.emit()

    def _focus_row(self, row: int) -> None:
        self.table.selectRow(row)
        self.table.scrollToItem(self.table.item(row, self.COUNTED))

    def counts(self) -> dict[uuid.UUID, Decimal]:
        """Every counted quantity (lines left empty are not counted); ValueError if one
        is not a number."""
        out = {}
        for row in range(self.table.rowCount()):
            value = self._counted(row)
            if value is not None:
                out[self.table.item(row, self.SKU).data(Qt.ItemDataRole.UserRole)] = value
        return out

    def difference_text(self, product_id: uuid.UUID) -> str:
        return self.table.item(self.rows[product_id], self.DIFF).text()


class StockTakeTab(CommandPage):
    """Count sheets (paged) above the sheet being counted."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import inventory_lists

        self.env = env
        self.may_count = env.can("inventory.stock.move")
        self.task: Task | None = None
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("take_status_filter")
        for key, text in ((None, _tr("All sheets")), ("draft", _tr("Counting")),
                          ("posted", _tr("Posted")), ("cancelled", _tr("Cancelled"))):
            self.status_filter.addItem(text, key)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.list.set_filters(
            Filters.of(status=self.status_filter.currentData())))
        self.start_action = QAction(icon("stocktake"), _tr("&Start stock-take…"), self)
        self.start_action.setObjectName("start_take")
        self.start_action.setToolTip(_tr("A new count sheet for a warehouse (Ctrl+N)"))
        self.start_action.triggered.connect(self.start)
        self.list = ListPanel(ListSource(inventory_lists.STOCK_TAKES, env.ctx),
                              locale=env.locale, noun=(_tr("sheet"), _tr("sheets")),
                              extra=[self.status_filter],
                              actions=[self.start_action] if self.may_count else [],
                              on_new=self.start if self.may_count else None)
        self.list.search.setVisible(False)
        self.list.current_row_changed.connect(self._row_changed)
        self.list.commands_changed.connect(self.commands_changed)
        self.sheet = CountSheet(env)
        self.sheet.changed.connect(self.commands_changed)
        self.sheet.save_button.clicked.connect(self.save_counts)
        self.sheet.post_button.clicked.connect(self.post)
        self.sheet.cancel_button.clicked.connect(self.cancel_sheet)
        for w in (self.sheet.save_button, self.sheet.post_button, self.sheet.cancel_button,
                  self.sheet.picker):
            w.setVisible(self.may_count)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(self.sheet)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([180, 460])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(splitter)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.post)

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def commands(self) -> set[Command]:
        out = self.list.commands()
        if self.may_count and self.sheet.editable:
            out.add(Command.SAVE)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.SAVE:
            self.save_counts()
        elif command == Command.FIND and self.sheet.editable:
            self.sheet.picker.edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        elif command in self.list.commands():
            self.list.run_command(command)

    def _row_changed(self, row: Any) -> None:
        if row is None or (self.sheet.sheet is not None and self.sheet.sheet.id == row.id):
            return
        self.open_sheet(row.id)

    def open_sheet(self, take_id: uuid.UUID) -> None:
        from erp_desktop.services import inventory

        if self.sheet.dirty and self.sheet.sheet is not None and \
                self.sheet.sheet.id != take_id:
            self._say(_tr("The counts of the sheet you left were not saved."), "warning")
        self.task = run_in_background(inventory.get_stock_take, self.env.ctx, take_id,
                                      parent=self, name="stock-take", on_done=self._opened,
                                      on_error=self._failed)

    def _opened(self, sheet: Any) -> None:
        self.task = None
        self.sheet.show_sheet(sheet)
        if self.sheet.editable:
            self.sheet.picker.edit.setFocus()

    def start(self) -> StartStockTakeDialog:
        dialog = StartStockTakeDialog(self.env, parent=self)
        dialog.accepted.connect(lambda: self._started(dialog.result_value))
        dialog.open()
        self.dialog = dialog
        return dialog

    def _started(self, sheet: Any) -> None:
        self._opened(sheet)
        self._say(_tr("Sheet started with {n} lines. Scan or type the counts.").format(
            n=len(sheet.lines)), "hint")
        self.list.refresh()

    def _counts(self) -> dict[uuid.UUID, Decimal] | None:
        try:
            return self.sheet.counts()
        except ValueError:
            self._say(_tr("A counted quantity is not a number: correct it first."), "error")
            return None

    def save_counts(self) -> None:
        from erp_desktop.services import inventory_desk

        counts = self._counts()
        if counts is None or not self.sheet.editable or self.task is not None:
            return
        self._say(_tr("Saving…"), "hint")
        self.task = run_in_background(inventory_desk.save_counts, self.env.ctx,
                                      self.sheet.sheet.id, counts, parent=self,
                                      name="save counts", on_done=self._saved,
                                      on_error=self._failed)

    def _saved(self, sheet: Any) -> None:
        self._opened(sheet)
        self._say(_tr("Counts saved."), "success")
        self.list.refresh()

    def post(self) -> None:
        if not self.sheet.editable or self._counts() is None:
            return
        _ask(self, _tr("Post stock-take"), _tr(
            "Post the differences between counted and on-hand stock as adjustments? Lines "
            "left empty are not changed. A posted sheet cannot be changed."), _tr("Post"),
            self.post_now)

    def post_now(self) -> None:
        """Record the counts and post the sheet (after the person confirmed)."""
        from erp_desktop.services import inventory_desk

        counts = self._counts()
        if counts is None or not self.sheet.editable or self.task is not None:
            return
        self._say(_tr("Posting…"), "hint")
        self.task = run_in_background(inventory_desk.post_counts, self.env.ctx,
                                      self.sheet.sheet.id, counts, parent=self,
                                      name="post stock-take", on_done=self._posted,
                                      on_error=self._failed)

    def _posted(self, sheet: Any) -> None:
        self._opened(sheet)
        changed = sum(1 for ln in sheet.lines if ln.difference_qty)
        self._say(_tr("Posted {number}: {n} adjustments.").format(number=sheet.number,
                                                                 n=changed), "success")
        self.list.refresh()

    def cancel_sheet(self) -> None:
        if not self.sheet.editable:
            return
        _ask(self, _tr("Cancel stock-take"), _tr(
            "Cancel this count sheet? Nothing is posted and its counts are kept only for "
            "the record."), _tr("Cancel sheet"), self.cancel_now)

    def cancel_now(self) -> None:
        from erp_desktop.services import inventory

        if not self.sheet.editable or self.task is not None:
            return
        self.task = run_in_background(inventory.cancel_stock_take, self.env.ctx,
                                      self.sheet.sheet.id, parent=self, name="cancel take",
                                      on_done=self._cancelled, on_error=self._failed)

    def _cancelled(self, sheet: Any) -> None:
        self._opened(sheet)
        self._say(_tr("Sheet cancelled."), "warning")
        self.list.refresh()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        _show_failure(self, self.sheet.status, exc, _tr("That did not work; nothing was "
                                                        "changed."))

    def _say(self, text: str, kind: str) -> None:
        self.sheet.status.setStyleSheet(message_style(kind))
        self.sheet.status.setText(text)


# =================================================================== warehouses


class WarehouseDialog(FormDialog):
    """A new warehouse, or a change to one (`row`, a list row): its name and address,
    and whether it is open (the service refuses to close one that holds stock)."""

    def __init__(self, env: PageEnv, row: Any = None, parent: QWidget | None = None) -> None:
        title = _tr("New warehouse") if row is None else _tr("Warehouse {code}").format(
            code=row.code)
        super().__init__(title, locale=env.locale, parent=parent,
                         save_text=_tr("Add warehouse") if row is None else None)
        self.env = env
        self.row = row
        if row is None:
            self.form.add_text("code", _tr("Code"), required=True, max_length=10,
                               placeholder=_tr("Short, e.g. MAIN or GODOWN2"))
        self.form.add_text("name", _tr("Name"), required=True, max_length=120,
                           value=row.name if row is not None else "")
        if row is None:
            self.branch = self.form.add_choice("branch", _tr("Branch"), [])
        address = self.form.add_multiline("address", _tr("Address"), lines=3,
                                          value=row.address if row is not None else "")
        address.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        _level_caption(self.form, "address", self.form.fields["name"].widget)
        if row is not None:
            self.active = self.form.add_check(
                "active", _tr("&Open: stock can be received into it and sold from it"),
                value=row.active)
            return
        from erp_desktop.services import inventory_desk

        run_in_background(inventory_desk.warehouse_form_choices, env.ctx, parent=self,
                          name="branches", on_error=self.form.show_error,
                          on_done=lambda rows: _fill_combo(
                              self.branch, [(b.key, b.label) for b in rows]))

    def save(self) -> None:
        from erp_desktop.services import inventory

        v = self.form.values()
        if self.row is not None:
            self.form.submit(inventory.update_warehouse, self.env.ctx, self.row.id,
                             expected_version=self.row.version, name=v["name"],
                             address=v["address"] or "", active=bool(v["active"]),
                             on_done=self.saved)
            return
        self.form.submit(inventory.create_warehouse, self.env.ctx, v["code"], v["name"],
                         branch=v["branch"] or None, address=v["address"] or None,
                         on_done=self.saved)


class WarehousesTab(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import inventory_lists

        self.env = env
        self.may_add = env.can("inventory.products.manage")
        self.new_action = QAction(icon("warehouse"), _tr("&New warehouse…"), self)
        self.new_action.setObjectName("new_warehouse")
        self.new_action.setToolTip(_tr("Add a place where stock is kept (Ctrl+N)"))
        self.new_action.triggered.connect(self.new_warehouse)
        self.list = ListPanel(ListSource(inventory_lists.WAREHOUSES, env.ctx),
                              locale=env.locale, noun=(_tr("warehouse"), _tr("warehouses")),
                              search_hint=_tr("Search code or name…"),
                              actions=[self.new_action] if self.may_add else [],
                              on_new=self.new_warehouse if self.may_add else None)
        self.list.commands_changed.connect(self.commands_changed)
        if self.may_add:
            self.list.row_activated.connect(self.edit_warehouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.list)

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def new_warehouse(self) -> WarehouseDialog:
        dialog = WarehouseDialog(self.env, parent=self)
        dialog.accepted.connect(self.list.refresh)
        dialog.open()
        self.dialog = dialog
        return dialog

    def edit_warehouse(self, row: Any) -> WarehouseDialog | None:
        """Enter or a double-click on a warehouse: rename it, or close or open it."""
        if row is None or not self.may_add:
            return None
        dialog = WarehouseDialog(self.env, row, parent=self)
        dialog.accepted.connect(self.list.refresh)
        dialog.open()
        self.dialog = dialog
        return dialog


# =================================================================== the area page


class InventoryPage(CommandPage):
    """The Inventory area: products, stock, movements, stock-takes, warehouses."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        layout = page_frame(self, _tr("Inventory"), _tr(
            "Products and barcodes, stock in each warehouse, receipts, transfers, "
            "adjustments and stock-takes."))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("inventory_tabs")
        self.tabs.setDocumentMode(True)
        self.products = ProductsTab(env)
        self.stock = StockTab(env)
        self.movements = MovementsTab(env)
        self.stock_take = StockTakeTab(env)
        self.warehouses = WarehousesTab(env)
        self.tabs.addTab(self.products, icon("inventory"), _tr("Products"))
        self.tabs.addTab(self.stock, icon("balance"), _tr("Stock"))
        self.tabs.addTab(self.movements, icon("transfer"), _tr("Movements"))
        self.tabs.addTab(self.stock_take, icon("stocktake"), _tr("Stock-take"))
        self.tabs.addTab(self.warehouses, icon("warehouse"), _tr("Warehouses"))
        for tab in (self.products, self.stock, self.movements, self.stock_take,
                    self.warehouses):
            tab.commands_changed.connect(self.commands_changed)
        self.products.open_card.connect(self.open_stock_card)
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)

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

    def show_tab(self, name: str) -> CommandPage:
        widget = {"products": self.products, "stock": self.stock,
                  "movements": self.movements, "stock_take": self.stock_take,
                  "warehouses": self.warehouses}[name]
        self.tabs.setCurrentWidget(widget)
        return widget

    def open_stock_card(self, product: Any) -> None:
        if product is None:
            return
        self.show_tab("stock")
        self.stock.open_card(product)
