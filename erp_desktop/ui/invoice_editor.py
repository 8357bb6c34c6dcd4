"""The counter sale screen: scan, price as you go, issue, take payment, print.

`CounterPage` is the Sales area's "Counter" tab. The scan box has the focus:
a barcode scanner types the code and Enter, which adds the product (or adds
one more when it is already the last line); a SKU typed and Enter does the
same; words typed show a completion popup of matching products (name, SKU,
price, stock), asked of `services.counter.lookup` on the worker once typing
pauses, older answers ignored. Scans are looked up one after another, so fast
scanning keeps its order.

The grid holds product, quantity, unit, price, discount %, tax and amount;
quantity, price and discount are edited in place (numbers as the company's
locale writes them; an empty price goes back to the price list) and Delete
removes a line. Every change asks `counter.preview` on the worker, after a
short pause, for the totals and tax breakdown computed by the same code that
issues; an answer to an older state of the sale is dropped. Its warnings
(credit limit, short stock) show in a banner and never block: issuing is
refused only when the service refuses, and its refusal about a line shows
under the grid with that cell selected.

Issue (Ctrl+Enter) and Issue and print (Ctrl+P, the PDF in `PdfPreviewDialog`
to print or save) run through `Form.submit`; the invoice number then shows at
the top. Take payment opens `PaymentDialog` (cash, card, UPI, bank transfer
or cheque with its reference; the amount defaults to what is due; cash shows
the change), which issues and pays at once when the sale is not issued yet.
New sale (Ctrl+N) starts over.

With more than one active warehouse, "Sell from" chooses where the goods come
from (stock on hand, short-stock warnings and issuing all follow it); this
computer remembers the choice per company file (`PageEnv.ui_state`), and the
paper the counter prints on (an 80 mm receipt printer at the till).
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPaintEvent,
    QPalette,
    QShortcut,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.services import counter
from erp_desktop.ui.forms import Form, FormDialog, parse_number
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import style_table
from erp_desktop.ui.pdf_preview import PdfPreviewDialog
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.theme import tones
from erp_desktop.ui.widgets import PageEnv, hint
from erp_desktop.ui.worker import Task, run_in_background

log = logging.getLogger(__name__)

PREVIEW_DELAY_MS = 250
SEARCH_DELAY_MS = 250
_LINE_FIELD = re.compile(r"^lines\[(\d+)\](?:\.(\w+))?$")


def _tr(text: str) -> str:
    return QCoreApplication.translate("counter", text)


def _noop(text: str) -> str:
    """Marks a string for translation where it is defined; `_tr` translates it when shown."""
    return text


PAPERS = (("", _noop("As set for the company")), ("A4", _noop("A4")),
          ("THERMAL", _noop("80 mm receipt")))
PAPER_KEY = "counter/paper"  # in PageEnv.ui_state: this computer's choice
METHODS = (("cash", _noop("Cash")), ("card", _noop("Card")), ("upi", _noop("UPI")),
           ("bank_transfer", _noop("Bank transfer")), ("cheque", _noop("Cheque")))


def _number(value: Decimal, places: int, locale: str, *, grouped: bool = True) -> str:
    from babel.numbers import format_decimal

    pattern = ("#,##0" if grouped else "0") + ("." + "0" * places if places else "")
    return format_decimal(value, format=pattern, locale=locale)


def _money(value: Decimal | Money | None, currency: str, locale: str) -> str:
    if value is None:
        return ""
    try:
        money = value if isinstance(value, Money) else Money(value, currency)
        return format_money(money, locale)
    except UserError:  # finer than the currency allows: the preview will say so
        return _number(Decimal(value if not isinstance(value, Money) else value.amount),
                       3, locale)


def _rate(rate: Decimal) -> str:
    return f"{rate.normalize():f} %"


# =================================================================== the lines


@dataclass
class SaleRow:
    """One line of the sale on screen."""

    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    places: int
    quantity: Decimal
    list_price: Money  # the product's or price list's price (from lookup, then preview)
    price: Decimal | None = None  # typed over the list price
    discount: Decimal | None = None  # percent
    tax: str = ""
    amount: Money | None = None  # from the preview
    on_hand: Decimal | None = None
    short: bool = False

    def counter_line(self) -> counter.CounterLine:
        return counter.CounterLine(self.product_id, self.quantity, unit_price=self.price,
                                   discount_percent=self.discount)


COLUMNS = (_noop("#"), _noop("Product"), _noop("Qty"), _noop("Unit"), _noop("Price"),
           _noop("Disc %"), _noop("Tax"), _noop("Amount"))
QTY, PRICE, DISCOUNT = 2, 4, 5
EDITABLE = (QTY, PRICE, DISCOUNT)
RIGHT = (0, QTY, PRICE, DISCOUNT, 6, 7)


class LinesModel(QAbstractTableModel):
    """The sale's lines; quantity, price and discount are editable (see module docstring)."""

    lines_changed = Signal()
    edit_refused = Signal(int, int, str)  # row, column, message

    def __init__(self, locale: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.locale = locale
        self.rows: list[SaleRow] = []
        self.editable = True
        self.bad_row: int | None = None  # the row a refusal is about

    # ---- shape

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _tr(COLUMNS[section])
        if role == Qt.ItemDataRole.TextAlignmentRole and section in RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = super().flags(index)
        if index.isValid() and self.editable and index.column() in EDITABLE:
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    # ---- reading

    def _display(self, row: SaleRow, r: int, column: int) -> str:
        currency = row.list_price.currency
        if column == 0:
            return str(r + 1)
        if column == 1:
            return f"{row.name}  ·  {row.sku}"
        if column == QTY:
            return _number(row.quantity, row.places, self.locale)
        if column == 3:
            return row.unit
        if column == PRICE:
            return _money(row.price if row.price is not None else row.list_price, currency,
                          self.locale)
        if column == DISCOUNT:
            return "" if row.discount is None else _number(row.discount.normalize(), max(
                0, -int(row.discount.normalize().as_tuple().exponent)), self.locale)
        if column == 6:
            return row.tax
        return _money(row.amount, currency, self.locale) if row.amount is not None else "…"

    def _edit_text(self, row: SaleRow, column: int) -> str:
        if column == QTY:
            return _number(row.quantity, row.places, self.locale, grouped=False)
        if column == PRICE:
            value = row.price if row.price is not None else row.list_price.amount
            return _number(value, max(2, -int(value.as_tuple().exponent)), self.locale,
                           grouped=False)
        if column == DISCOUNT and row.discount is not None:
            return _number(row.discount.normalize(), max(
                0, -int(row.discount.normalize().as_tuple().exponent)), self.locale,
                grouped=False)
        return ""

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row, column = self.rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, index.row(), column)
        if role == Qt.ItemDataRole.EditRole:
            return self._edit_text(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if column in RIGHT \
                else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            if column == QTY and row.short:
                return QColor(tones().warning)
            if index.row() == self.bad_row:
                return QColor(tones().error)
            if column == PRICE and row.price is None:
                return None
        if role == Qt.ItemDataRole.FontRole and column == 7:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == QTY and row.on_hand is not None:
                return _tr("{n} {unit} in stock").format(
                    n=_number(row.on_hand, row.places, self.locale), unit=row.unit)
            if column == PRICE:
                return _tr("Typed over the list price; clear it to go back") \
                    if row.price is not None else _tr("The customer's list price")
        return None

    # ---- editing

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or not self.editable:
            return False
        row, column = self.rows[index.row()], index.column()
        text = str(value or "").strip()
        number: Decimal | None = None
        if text:
            try:
                number = parse_number(text, self.locale)
            except ValueError:
                self.edit_refused.emit(index.row(), column, _tr(
                    "Line {n}: “{text}” is not a number.").format(n=index.row() + 1, text=text))
                return False
        if column == QTY:
            if number is None:
                self.edit_refused.emit(index.row(), column, _tr(
                    "Line {n}: enter a quantity, or press Delete to remove the line.").format(
                        n=index.row() + 1))
                return False
            row.quantity = number
        elif column == PRICE:
            row.price = number
        elif column == DISCOUNT:
            row.discount = number if number else None
        else:
            return False
        row.amount = None
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), 7))
        self.lines_changed.emit()
        return True

    def add(self, hit: counter.ProductHit) -> int:
        """Add one of `hit`: one more on the last line when it is the same product."""
        if self.rows and self.rows[-1].product_id == hit.id:
            r = len(self.rows) - 1
            self.rows[r].quantity += 1
            self.rows[r].amount = None
            self.dataChanged.emit(self.index(r, 0), self.index(r, 7))
        else:
            r = len(self.rows)
            self.beginInsertRows(QModelIndex(), r, r)
            self.rows.append(SaleRow(hit.id, hit.sku, hit.name, hit.unit, hit.unit_places,
                                     Decimal(1), hit.sale_price, tax=hit.tax_category or "",
                                     on_hand=hit.on_hand))
            self.endInsertRows()
        self.lines_changed.emit()
        return r

    def remove(self, r: int) -> None:
        if 0 <= r < len(self.rows):
            self.beginRemoveRows(QModelIndex(), r, r)
            del self.rows[r]
            self.endRemoveRows()
            self.bad_row = None
            self.lines_changed.emit()

    def clear(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.bad_row = None
        self.editable = True
        self.endResetModel()
        self.lines_changed.emit()

    def apply_preview(self, preview: counter.CounterPreview) -> None:
        """Prices, tax and amounts as the service priced them (same lines, same order)."""
        for row, line in zip(self.rows, preview.lines, strict=False):
            row.list_price = line.unit_price if row.price is None else row.list_price
            row.tax = _rate(line.tax_rate) if line.tax_rate is not None else ""
            row.amount = line.total
            row.on_hand = line.on_hand
            row.short = line.short
        self.bad_row = None
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 7))

    def mark_bad(self, r: int | None) -> None:
        self.bad_row = r
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 7))

    def counter_lines(self) -> list[counter.CounterLine]:
        return [row.counter_line() for row in self.rows]


class _NumberDelegate(QStyledItemDelegate):
    """Right-aligned line edits for the numbers of the grid."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: QModelIndex | QPersistentModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName(f"edit_{index.row()}_{index.column()}")
        editor.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        editor.setFrame(False)
        return editor


class LinesView(QTableView):
    """The grid: Delete removes the current line; Enter or typing edits a number."""

    def __init__(self, model: LinesModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setModel(model)
        style_table(self)
        self.setObjectName("lines_grid")
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed
                             | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setItemDelegate(_NumberDelegate(self))
        self.setTabKeyNavigation(False)  # Tab leaves the grid, as in every other field
        header = self.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 34), (QTY, 84), (3, 52), (PRICE, 118), (DISCOUNT, 72),
                              (6, 64), (7, 128)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if isinstance(model, LinesModel) and not model.rows:
            painter = QPainter(self.viewport())
            painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.viewport().rect().adjusted(24, 24, -24, -24),
                             int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                             _tr("Scan a barcode, or type a SKU or a few letters of a name "
                                 "in the box above, to add the first line."))
            painter.end()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        model = self.model()
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and \
                self.state() != QAbstractItemView.State.EditingState and \
                isinstance(model, LinesModel) and model.editable:
            current = self.currentIndex()
            if current.isValid():
                model.remove(current.row())
                if model.rows:
                    self.setCurrentIndex(model.index(min(current.row(), len(model.rows) - 1),
                                                     QTY))
                return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                self.state() != QAbstractItemView.State.EditingState and \
                not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            current = self.currentIndex()
            if current.isValid() and current.flags() & Qt.ItemFlag.ItemIsEditable:
                self.edit(current)
                return
        super().keyPressEvent(event)


# =================================================================== panels


class TotalsPanel(QFrame):
    """Subtotal, discount, taxable value, each tax component, round-off, grand total."""

    def __init__(self, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.locale = locale
        self.setObjectName("totals")
        tone = tones()
        self.setStyleSheet(f"QFrame#totals {{ background: {tone.card}; border: 1px solid "
                           f"{tone.card_border}; border-radius: 6px; }}")
        self.setMinimumWidth(290)
        self.setMaximumWidth(340)
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(6)
        self.grid.setColumnStretch(0, 1)
        self.total_caption = QLabel(_tr("Total"))
        self.total = QLabel()
        self.total.setObjectName("grand_total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.total.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.total.font())
        font.setPointSizeF(font.pointSizeF() * 1.9)
        font.setBold(True)
        self.total.setFont(font)
        caption_font = QFont(self.total_caption.font())
        caption_font.setBold(True)
        caption_font.setPointSizeF(caption_font.pointSizeF() * 1.15)
        self.total_caption.setFont(caption_font)
        self.words = QLabel()
        self.words.setObjectName("amount_in_words")
        self.words.setWordWrap(True)
        self.words.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.words.setStyleSheet("color: palette(placeholder-text);")
        self.note = QLabel()
        self.note.setObjectName("totals_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 14)
        layout.setSpacing(8)
        layout.addLayout(self.grid)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {tone.card_border};")
        layout.addWidget(line)
        row = QHBoxLayout()
        row.addWidget(self.total_caption, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self.total, 1)
        layout.addLayout(row)
        layout.addWidget(self.words)
        layout.addStretch(1)
        layout.addWidget(self.note)
        self.figures: dict[str, str] = {}
        self.show_empty()

    def _set_rows(self, rows: list[tuple[str, str, str]]) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.figures = {}
        for r, (key, caption, value) in enumerate(rows):
            name = QLabel(caption)
            figure = QLabel(value)
            figure.setObjectName(f"total_{key}")
            figure.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.grid.addWidget(name, r, 0)
            self.grid.addWidget(figure, r, 1)
            self.figures[key] = value

    def show_empty(self) -> None:
        self._set_rows([("subtotal", _tr("Subtotal"), "—"), ("tax", _tr("Tax"), "—")])
        self.total.setText("—")
        self.total.setStyleSheet("color: palette(placeholder-text);")
        self.words.setText("")
        self.note.setText("")
        self.figures["total"] = ""

    def show_stale(self) -> None:
        """The figures no longer match the lines (a refusal, or a change being priced)."""
        self.total.setStyleSheet("color: palette(placeholder-text);")

    def show_preview(self, p: counter.CounterPreview) -> None:
        loc, cur = self.locale, p.currency
        rows = [("subtotal", _tr("Subtotal"), format_money(p.gross, loc))]
        if p.discount:
            rows.append(("discount", _tr("Discount"), format_money(-p.discount, loc)))
        if p.taxable != p.gross:
            rows.append(("taxable", _tr("Taxable value"), format_money(p.taxable, loc)))
        for t in p.taxes:
            rows.append((f"tax_{t.code}_{t.rate.normalize():f}",
                         f"{t.name} {_rate(t.rate)}", format_money(t.amount, loc)))
        if not p.taxes:
            rows.append(("tax", _tr("Tax"), format_money(p.tax, loc)))
        if p.round_off:
            rows.append(("round_off", _tr("Round-off"), format_money(p.round_off, loc)))
        self._set_rows(rows)
        self.total.setStyleSheet("")
        self.total.setText(format_money(p.total, loc))
        self.figures["total"] = self.total.text()
        self.words.setText(p.amount_in_words)
        notes = []
        if p.prices_include_tax:
            notes.append(_tr("Prices include tax."))
        notes.append(_tr("Inter-state supply (IGST) to {place}.").format(
            place=p.place_of_supply or "?") if p.inter_state else
            _tr("Supply within {place}.").format(place=p.place_of_supply or _tr("the state"))
            if cur == "INR" else "")
        self.note.setText(" ".join(n for n in notes if n))


class Banner(QFrame):
    """A coloured box with an icon and a few lines of text (warnings, the issued number)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.icon = QLabel()
        self.text = QLabel()
        self.text.setObjectName(f"{name}_text")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 7, 10, 7)
        row.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)
        self.setVisible(False)

    def show_text(self, rich: str, kind: str) -> None:
        tone = tones()
        color = {"error": tone.error, "success": tone.success,
                 "warning": tone.warning}.get(kind, "palette(window-text)")
        self.setStyleSheet(f"QFrame#{self.objectName()} {{ border: 1px solid {color}; "
                           f"border-radius: 4px; background: {tone.card}; }} "
                           f"QLabel#{self.objectName()}_text {{ color: {color}; }}")
        self.icon.setPixmap(icon("warning" if kind != "success" else "enable",
                                 color).pixmap(20, 20))
        self.text.setText(rich)
        self.setVisible(True)

    def plain(self) -> str:
        if not self.isVisible():
            return ""
        return re.sub(r"<[^>]+>", "", self.text.text().replace("<br>", "\n"))


class _CounterForm(Form):
    """A `Form` whose refusals about a line (`lines[2].quantity`) go under the grid."""

    line_refused = Signal(int, str)  # row, field

    def show_error(self, exc: BaseException) -> None:
        if isinstance(exc, UserError):
            found = _LINE_FIELD.match(exc.field or "")
            if found:
                self.line_refused.emit(int(found.group(1)), found.group(2) or "")
                exc = UserError(exc.message, field="lines")
            elif exc.field in ("quantity", "product", "unit_price", "discount_percent"):
                exc = UserError(exc.message, field="lines")
        super().show_error(exc)

    def clear_field(self, name: str) -> None:
        f = self.fields[name]
        f.touched = True
        self.field_changed(name)


# =================================================================== payment


class PaymentDialog(FormDialog):
    """Take money: method, reference, amount (what is due by default), change for cash.

    `submit(payment)` is the use case to run with the `CounterPayment` typed:
    issue-and-pay for a sale not issued yet, else a payment for the invoice.
    """

    def __init__(self, env: PageEnv, due: Money,
                 submit: Callable[[counter.CounterPayment], counter.CounterSale],
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("Take payment"), locale=env.locale, parent=parent,
                         save_text=_tr("Take payment"),
                         intro="<span style='font-size: 14pt;'>" + html.escape(_tr(
                             "To pay: {due}").format(due=format_money(due, env.locale)))
                         + "</span>")
        self.env = env
        self.due = due
        self._submit = submit
        self.method = self.form.add_choice("method", _tr("&Method"),
                                           [(k, _tr(v)) for k, v in METHODS], value="cash")
        self.reference = self.form.add_text(
            "reference", _tr("&Reference"), max_length=60,
            placeholder=_tr("Card slip, UPI ref., cheque no. and bank"))
        self.amount = self.form.add_decimal(
            "amount", _tr("&Amount received"), required=True,
            value=_number(due.amount, 2, env.locale), places=2, minimum=Decimal("0.01"))
        self.change = QLabel()
        self.change.setObjectName("change_due")
        font = QFont(self.change.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.change.setFont(font)
        self.change.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form.add_widget("change", _tr("Change due"), self.change)
        self.form.changed.connect(self._update)
        self._update()
        self.amount.selectAll()
        self.amount.setFocus()

    def _update(self) -> None:
        cash = self.form.value("method") == "cash"
        self.reference.setEnabled(not cash)
        try:
            amount = self.form.value("amount")
        except ValueError:
            amount = None
        change = (amount - self.due.amount) if cash and amount is not None else Decimal(0)
        self.change.setText(format_money(Money.of(max(change, Decimal(0)).quantize(
            Decimal("0.01")), self.due.currency), self.env.locale) if cash else "—")

    def payment(self) -> counter.CounterPayment:
        return counter.CounterPayment(str(self.form.value("method")),
                                      self.form.value("amount"),
                                      self.form.value("reference") or None)

    def save(self) -> None:
        self.form.submit(self._submit, self.payment(), on_done=self.saved)


# =================================================================== the page


def _issue_and_print(ctx: Any, customer: uuid.UUID | None, lines: list[counter.CounterLine],
                     page_format: str | None, warehouse: uuid.UUID | None = None
                     ) -> tuple[counter.CounterSale, counter.CounterPdf]:
    """On the worker: issue, then the invoice's PDF (two use cases, one after the other)."""
    sale = counter.issue(ctx, customer, lines, warehouse=warehouse)
    return sale, counter.invoice_pdf(ctx, sale.invoice.id, page_format=page_format)


class CounterPage(CommandPage):
    """The counter sale screen; see the module docstring."""

    sale_issued = Signal(object)  # the CounterSale, after Issue or Take payment

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.setObjectName("counter_page")
        self.currency = "INR"
        self.sale: counter.CounterSale | None = None
        self.preview: counter.CounterPreview | None = None
        self.preview_task: Task | None = None
        self._preview_gen = 0
        self._search_gen = 0
        self._hits: list[counter.ProductHit] = []
        self._scans: deque[str] = deque()
        self.scan_task: Task | None = None
        self._walk_in: Any = None
        self._customers_loaded = False
        self.pdf_dialog: Any = None
        self.payment_dialog: PaymentDialog | None = None

        self.form = _CounterForm(self, locale=env.locale)
        self.form.line_refused.connect(self._line_refused)

        # customer
        self.customer = QComboBox()
        self.customer.setObjectName("customer_box")
        self.customer.setEditable(True)
        self.customer.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.customer.setMinimumWidth(320)
        self.customer.lineEdit().setPlaceholderText(_tr("Name, code, phone or GSTIN"))
        self.customer.setToolTip(_tr("Who is buying; the walk-in cash customer by default"))
        self.customer.currentIndexChanged.connect(self._customer_changed)
        self.customer.lineEdit().textEdited.connect(lambda _t: self.customer_timer.start())
        self.customer_info = hint(wrap=False)
        self.customer_info.setObjectName("customer_info")
        customer_row = QWidget()
        box = QHBoxLayout(customer_row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.customer)
        box.addWidget(self.customer_info, 1)
        # where the goods come from: shown when the company has more than one warehouse,
        # remembered for this computer (a branch's desk sells from its own store)
        self.warehouse_label = QLabel(_tr("Sell fro&m"))
        self.warehouse = QComboBox()
        self.warehouse.setObjectName("counter_warehouse")
        self.warehouse.setToolTip(_tr("The warehouse this sale takes the goods from; "
                                      "remembered on this computer"))
        self.warehouse_label.setBuddy(self.warehouse)
        for w in (self.warehouse_label, self.warehouse):
            w.hide()
            box.addWidget(w)
        self.warehouse.currentIndexChanged.connect(self._warehouse_changed)
        customer_row.setFocusProxy(self.customer)
        self.customer_timer = QTimer(self)
        self.customer_timer.setSingleShot(True)
        self.customer_timer.setInterval(SEARCH_DELAY_MS)
        self.customer_timer.timeout.connect(self._search_customers)

        # scan / search
        self.scan = QLineEdit()
        self.scan.setObjectName("scan")
        self.scan.setPlaceholderText(_tr(
            "Scan a barcode, or type a SKU and press Enter, or type a name…"))
        self.scan.setClearButtonEnabled(True)
        self.scan.returnPressed.connect(self._scan_entered)
        self.scan.textEdited.connect(self._scan_edited)
        self.completions = QStandardItemModel(self)
        self.completer = QCompleter(self.completions, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setWidget(self.scan)  # not setCompleter: Enter stays ours
        self.completer.setMaxVisibleItems(10)
        self.completer.activated[QModelIndex].connect(self._completion_chosen)
        self.completer.popup().setObjectName("scan_popup")
        self.search_timer = QTimer(self)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.search_timer.timeout.connect(self._search_products)

        # the lines and totals
        self.model = LinesModel(env.locale, self)
        self.model.lines_changed.connect(self._lines_changed)
        self.model.edit_refused.connect(self._edit_refused)
        self.grid = LinesView(self.model)
        self.grid.setMinimumHeight(160)
        self.warnings = Banner("warnings")
        self.totals = TotalsPanel(env.locale)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.setSpacing(6)
        left_box.addWidget(self.warnings)
        left_box.addWidget(self.grid, 1)
        lines_area = QWidget()
        lines_area.setObjectName("lines_area")
        area_box = QHBoxLayout(lines_area)
        area_box.setContentsMargins(0, 0, 0, 0)
        area_box.setSpacing(12)
        area_box.addWidget(left, 1)
        area_box.addWidget(self.totals)
        lines_area.setFocusProxy(self.grid)

        self.form.add_widget("customer", _tr("&Customer"), customer_row,
                             value=lambda: self.customer.currentData())
        self.form.add_widget("scan", _tr("&Scan or search"), self.scan)
        self.form.add_widget("lines", "", lines_area, value=self.model.counter_lines,
                             stretch=True)
        self.form.alias("invoice", "lines")

        # the issued invoice
        self.issued = Banner("issued")
        self.issued.text.setObjectName("issued_text")

        # buttons
        self.new_button = QPushButton(icon("new"), _tr("&New sale"))
        self.new_button.setObjectName("new_sale")
        self.new_button.setToolTip(_tr("Clear the screen for the next customer (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_sale)
        self.paper = QComboBox()
        self.paper.setObjectName("paper")
        for key, text in PAPERS:
            self.paper.addItem(_tr(text), key)
        self.paper.setToolTip(_tr("The paper the invoice is printed on; remembered on this "
                                  "computer (a counter with a receipt printer)"))
        saved = env.ui_state.value(PAPER_KEY) if env.ui_state is not None else None
        if saved:
            self.paper.setCurrentIndex(max(0, self.paper.findData(saved)))
        self.paper.currentIndexChanged.connect(self._paper_changed)
        self.pay_button = QPushButton(icon("balance"), _tr("&Take payment…"))
        self.pay_button.setObjectName("take_payment")
        self.pay_button.setToolTip(_tr("Cash, card, UPI, bank transfer or cheque"))
        self.pay_button.clicked.connect(self.take_payment)
        self.print_button = QPushButton(icon("print"), _tr("Issue and &print"))
        self.print_button.setObjectName("issue_and_print")
        self.print_button.setToolTip(_tr("Issue, then preview to print or save (Ctrl+P)"))
        self.print_button.clicked.connect(self.issue_and_print)
        self.issue_button = QPushButton(icon("enable"), _tr("&Issue"))
        self.issue_button.setObjectName("issue")
        self.issue_button.setToolTip(_tr("Issue the invoice (Ctrl+Enter)"))
        self.issue_button.setDefault(False)
        self.issue_button.clicked.connect(self.issue)
        bold = QFont(self.issue_button.font())
        bold.setBold(True)
        self.issue_button.setFont(bold)
        for button in (self.pay_button, self.print_button, self.issue_button):
            button.setMinimumHeight(34)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel(_tr("Paper:")))
        buttons.addWidget(self.paper)
        buttons.addSpacing(12)
        buttons.addWidget(self.pay_button)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.issue_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.issued)
        layout.addWidget(self.form.widget, 1)
        layout.addLayout(buttons)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, activated=self.issue,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QWidget.setTabOrder(self.customer, self.scan)
        QWidget.setTabOrder(self.scan, self.grid)
        QWidget.setTabOrder(self.grid, self.issue_button)
        QWidget.setTabOrder(self.issue_button, self.print_button)
        QWidget.setTabOrder(self.print_button, self.pay_button)
        QWidget.setTabOrder(self.pay_button, self.paper)
        QWidget.setTabOrder(self.paper, self.new_button)

        self.preview_timer = QTimer(self)
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self.preview_now)
        self.form.busy_changed.connect(lambda _busy: self._update_buttons())
        self._update_buttons()
        self._load_customers()
        self._load_warehouses()

    # ---------------------------------------------------------------- commands

    def commands(self) -> set[Command]:
        out = {Command.NEW, Command.FIND}
        if self.sale is not None or (self.model.rows and self.env.can("sales.invoice.issue")):
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.NEW:
            self.new_sale()
        elif command == Command.PRINT:
            self.issue_and_print()
        elif command == Command.FIND:
            self.scan.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.scan.selectAll()

    def on_shown(self) -> None:
        if not self.scan.hasFocus() and self.scan.isEnabled():
            self.scan.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.on_shown)

    # ---------------------------------------------------------------- warehouse

    def _warehouse_key(self) -> str:
        return f"counter/warehouse/{self.env.ctx.path.stem}"

    def _load_warehouses(self) -> None:
        run_in_background(counter.warehouses, self.env.ctx, parent=self,
                          name="counter warehouses", on_done=self._warehouses_loaded,
                          on_error=lambda exc: log.warning("counter warehouses: %s", exc))

    def _warehouses_loaded(self, rows: list[counter.CounterWarehouse]) -> None:
        state = self.env.ui_state
        remembered = state.value(self._warehouse_key()) if state is not None else None
        self.warehouse.blockSignals(True)
        self.warehouse.clear()
        for w in rows:
            self.warehouse.addItem(f"{w.code} — {w.name}", w.id)
        index = next((i for i, w in enumerate(rows) if w.code == remembered),
                     next((i for i, w in enumerate(rows) if w.default), 0))
        self.warehouse.setCurrentIndex(index)
        self.warehouse.blockSignals(False)
        several = len(rows) > 1
        self.warehouse_label.setVisible(several)
        self.warehouse.setVisible(several)

    def _paper_changed(self, _index: int) -> None:
        if self.env.ui_state is not None:
            self.env.ui_state.setValue(PAPER_KEY, self.paper.currentData() or "")

    def warehouse_id(self) -> uuid.UUID | None:
        """The warehouse chosen to sell from; None: the company's default."""
        data = self.warehouse.currentData() if self.warehouse.count() > 1 else None
        return data if isinstance(data, uuid.UUID) else None

    def _warehouse_changed(self, _index: int) -> None:
        state = self.env.ui_state
        code = self.warehouse.currentText().split(" — ", 1)[0]
        if state is not None and code:
            state.setValue(self._warehouse_key(), code)
        self._preview_gen += 1  # stock on hand is the new warehouse's
        self.preview_now()

    # ---------------------------------------------------------------- customers

    def _load_customers(self) -> None:
        from erp_desktop.services import customers

        def load(ctx: Any) -> tuple[Any, list[Any]]:
            walk_in = customers.walk_in_customer(ctx)
            return walk_in, customers.list_customers(ctx, limit=200).rows

        run_in_background(load, self.env.ctx, parent=self, name="counter customers",
                          on_done=self._customers_arrived, on_error=self.form.show_error)

    def _customers_arrived(self, result: tuple[Any, list[Any]]) -> None:
        walk_in, rows = result
        self._walk_in = walk_in
        self.customer.blockSignals(True)
        self.customer.clear()
        self.customer.addItem(walk_in.name, walk_in.id)
        self._merge_customers(rows)
        self.customer.setCurrentIndex(0)
        completer = self.customer.completer()
        if completer is not None:
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.customer.blockSignals(False)
        self._customers_loaded = True
        self._customer_changed()

    def _merge_customers(self, rows: list[Any]) -> None:
        for c in rows:
            if self.customer.findData(c.id) < 0 and not c.is_walk_in:
                self.customer.addItem(f"{c.name}  ·  {c.code}", c.id)

    def _search_customers(self) -> None:
        from erp_desktop.services import customers

        text = self.customer.currentText().strip()
        if len(text) < 2:
            return
        run_in_background(customers.list_customers, self.env.ctx, text, limit=50,
                          parent=self, name="counter customer search",
                          on_done=lambda page: self._customers_found(text, page.rows),
                          on_error=lambda _e: None)

    def _customers_found(self, text: str, rows: list[Any]) -> None:
        if self.customer.currentText().strip() != text:
            return
        keep = self.customer.currentText()
        self.customer.blockSignals(True)
        self._merge_customers(rows)
        self.customer.setEditText(keep)
        self.customer.blockSignals(False)

    def customer_id(self) -> uuid.UUID | None:
        data = self.customer.currentData()
        return data if isinstance(data, uuid.UUID) else None

    def set_customer(self, customer_id: uuid.UUID, label: str = "") -> None:
        index = self.customer.findData(customer_id)
        if index < 0:
            self.customer.addItem(label or str(customer_id), customer_id)
            index = self.customer.count() - 1
        self.customer.setCurrentIndex(index)

    def _customer_changed(self, _index: int = -1) -> None:
        if not self._customers_loaded:
            return
        self.customer_info.setText("")
        self.schedule_preview()

    # ---------------------------------------------------------------- scanning

    def _scan_edited(self, text: str) -> None:
        self._search_gen += 1
        self.form.clear_field("scan")
        if len(text.strip()) >= 2:
            self.search_timer.start()
        else:
            self.search_timer.stop()
            self.completer.popup().hide()

    def _search_products(self) -> None:
        text = self.scan.text().strip()
        if len(text) < 2:
            return
        self._search_gen += 1
        gen = self._search_gen
        run_in_background(counter.lookup, self.env.ctx, text,
                          warehouse=self.warehouse_id(), parent=self, name="counter search",
                          on_done=lambda hits: self._search_done(gen, text, hits),
                          on_error=lambda _e: None)

    def _search_done(self, gen: int, text: str, hits: list[counter.ProductHit]) -> None:
        if gen != self._search_gen or self.scan.text().strip() != text:
            return  # typed on since: an answer to an older question
        self._show_hits(hits)

    def _show_hits(self, hits: list[counter.ProductHit]) -> None:
        self._hits = list(hits)
        self.completions.clear()
        for hit in hits:
            stock = "" if hit.on_hand is None else "  ·  " + _tr("{n} {unit} in stock").format(
                n=_number(hit.on_hand, hit.unit_places, self.env.locale), unit=hit.unit)
            item = QStandardItem(f"{hit.name}  ·  {hit.sku}  ·  "
                                 f"{format_money(hit.sale_price, self.env.locale)}{stock}")
            item.setEditable(False)
            self.completions.appendRow(item)
        if hits:
            self.completer.complete()
        else:
            self.completer.popup().hide()

    def _completion_chosen(self, index: QModelIndex) -> None:
        # Enter on the popup reaches both `_scan_entered` and the completer's own
        # activation: the first one takes the hits, the second finds none.
        if 0 <= index.row() < len(self._hits):
            hit = self._hits[index.row()]
            self._hits = []
            self._search_gen += 1
            self.scan.clear()
            self.add_product(hit)

    def _scan_entered(self) -> None:
        popup = self.completer.popup()
        if popup.isVisible():
            current = popup.currentIndex()
            popup.hide()
            if current.isValid() and popup.selectionModel().isSelected(current):
                self._completion_chosen(current)
                return
        text = self.scan.text().strip()
        if not text:
            return
        self.search_timer.stop()
        self._search_gen += 1
        self.scan.clear()
        self._scans.append(text)
        self._next_scan()

    def _next_scan(self) -> None:
        if self.scan_task is not None or not self._scans:
            return
        text = self._scans.popleft()
        self.scan_task = run_in_background(
            counter.lookup, self.env.ctx, text, warehouse=self.warehouse_id(), parent=self,
            name="counter scan",
            on_done=lambda hits: self._scanned(text, hits),
            on_error=self._scan_failed)

    def _scanned(self, text: str, hits: list[counter.ProductHit]) -> None:
        self.scan_task = None
        if len(hits) == 1 or (hits and hits[0].exact):
            self.add_product(hits[0])
        elif hits:
            self.scan.setText(text)
            self._show_hits(hits)
            self.form.show_error(UserError(_tr(
                "Several products match “{text}”; choose one.").format(text=text),
                field="scan"))
        else:
            self.form.show_error(UserError(_tr(
                "Nothing found for “{text}”: no barcode, SKU or product name.").format(
                    text=text), field="scan"))
            self.scan.setFocus()
        self._next_scan()

    def _scan_failed(self, exc: BaseException) -> None:
        self.scan_task = None
        self._scans.clear()
        self.form.show_error(exc)

    def add_product(self, hit: counter.ProductHit) -> None:
        if self.sale is not None:
            self.new_sale()
        if not hit.active:
            self.form.show_error(UserError(_tr("{name} is no longer sold.").format(
                name=hit.name), field="scan"))
            return
        self.currency = hit.sale_price.currency
        self.form.clear_field("scan")
        row = self.model.add(hit)
        # the line to edit next when Tab reaches the grid; not highlighted meanwhile
        self.grid.selectionModel().setCurrentIndex(
            self.model.index(row, QTY), QItemSelectionModel.SelectionFlag.NoUpdate)
        self.grid.scrollTo(self.model.index(row, QTY))
        self.scan.setFocus()

    # ---------------------------------------------------------------- grid

    def _edit_refused(self, row: int, column: int, message: str) -> None:
        self.model.mark_bad(row)
        self.form.show_error(UserError(message, field="lines"))
        self.grid.setCurrentIndex(self.model.index(row, column))

    def _line_refused(self, row: int, field: str) -> None:
        column = {"quantity": QTY, "unit_price": PRICE, "discount_percent": DISCOUNT,
                  "discount_amount": DISCOUNT, "discount": DISCOUNT}.get(field, 1)
        if 0 <= row < len(self.model.rows):
            self.model.mark_bad(row)
            self.grid.setCurrentIndex(self.model.index(row, column))
            self.grid.scrollTo(self.model.index(row, column))

    def _lines_changed(self) -> None:
        self._update_buttons()
        self.commands_changed.emit()
        self.schedule_preview()

    # ---------------------------------------------------------------- preview

    def schedule_preview(self) -> None:
        self._preview_gen += 1  # whatever is on its way now answers an older sale
        if self.sale is not None:
            return
        self.preview = None  # until the new one arrives: no payment against old figures
        if not self.model.rows:
            self.preview_timer.stop()
            self.preview = None
            self.totals.show_empty()
            self.warnings.setVisible(False)
            self.form.clear_field("lines")
            return
        self.totals.show_stale()
        self.preview_timer.start()

    def preview_now(self) -> Task | None:
        """Price the sale as it is on screen (on the worker; older answers dropped)."""
        self.preview_timer.stop()
        if self.sale is not None or not self.model.rows or not self._customers_loaded:
            return None
        gen = self._preview_gen
        self.preview_task = run_in_background(
            counter.preview, self.env.ctx, self.customer_id(), self.model.counter_lines(),
            warehouse=self.warehouse_id(), parent=self, name="counter preview",
            on_done=lambda p: self._previewed(gen, p),
            on_error=lambda exc: self._preview_failed(gen, exc))
        return self.preview_task

    def _previewed(self, gen: int, preview: counter.CounterPreview) -> None:
        if gen != self._preview_gen or self.sale is not None:
            return
        self.preview = preview
        self.model.apply_preview(preview)
        self.totals.show_preview(preview)
        self.form.clear_field("lines")
        self._show_warnings(preview)
        self._show_customer(preview)

    def _preview_failed(self, gen: int, exc: BaseException) -> None:
        if gen != self._preview_gen or self.sale is not None:
            return
        self.preview = None
        self.totals.show_stale()
        self.warnings.setVisible(False)
        self.form.show_error(exc)

    def _show_warnings(self, preview: counter.CounterPreview) -> None:
        if not preview.warnings:
            self.warnings.setVisible(False)
            return
        self.warnings.show_text("<br>".join(html.escape(w.message) for w in preview.warnings),
                                "warning")

    def _show_customer(self, p: counter.CounterPreview) -> None:
        loc = self.env.locale
        if p.is_walk_in:
            self.customer_info.setText(_tr("Cash sale"))
            return
        parts = [_tr("Owes {amount}").format(amount=format_money(p.balance, loc))
                 if p.balance.amount > 0 else _tr("Owes nothing")]
        if p.credit_limit is not None:
            parts.append(_tr("limit {amount}").format(amount=format_money(p.credit_limit, loc)))
        self.customer_info.setText("  ·  ".join(parts))

    # ---------------------------------------------------------------- issue, pay, print

    def _update_buttons(self) -> None:
        busy = self.form.busy
        has_lines = bool(self.model.rows)
        open_sale = self.sale is None
        can_issue = self.env.can("sales.invoice.issue")
        self.issue_button.setEnabled(not busy and open_sale and has_lines and can_issue)
        self.print_button.setEnabled(not busy and ((open_sale and has_lines and can_issue)
                                                   or not open_sale))
        self.print_button.setText(_tr("Issue and &print") if open_sale else _tr("&Print again"))
        due = self.sale is not None and self.sale.invoice.balance.amount > 0
        self.pay_button.setEnabled(not busy and self.env.can("sales.payment.record") and (
            due or (open_sale and has_lines and can_issue)))

    def issue(self) -> Task | None:
        """Issue the sale on screen (Ctrl+Enter)."""
        if self.sale is not None or not self.model.rows or self.form.busy:
            return None
        if self.grid.state() == QAbstractItemView.State.EditingState:
            self.grid.setFocus()  # commits the cell being typed
        self.preview_timer.stop()
        self._preview_gen += 1
        return self.form.submit(counter.issue, self.env.ctx, self.customer_id(),
                                self.model.counter_lines(), warehouse=self.warehouse_id(),
                                on_done=self._issued)

    def issue_and_print(self) -> Task | None:
        """Issue (unless issued already), then show the invoice to print or save (Ctrl+P)."""
        if self.form.busy:
            return None
        page_format = self.paper.currentData() or None
        if self.sale is not None:
            return run_in_background(counter.invoice_pdf, self.env.ctx, self.sale.invoice.id,
                                     page_format=page_format, parent=self,
                                     name="counter invoice pdf", on_done=self._show_pdf,
                                     on_error=self.form.show_error)
        if not self.model.rows:
            return None
        self.preview_timer.stop()
        self._preview_gen += 1
        return self.form.submit(_issue_and_print, self.env.ctx, self.customer_id(),
                                self.model.counter_lines(), page_format, self.warehouse_id(),
                                on_done=self._issued_and_printed)

    def take_payment(self) -> PaymentDialog | None:
        """Open the payment dialog: for the issued invoice, or to issue and pay at once."""
        if self.form.busy:
            return None
        if self.sale is not None:
            due = self.sale.invoice.balance
            invoice_id = self.sale.invoice.id

            def submit(payment: counter.CounterPayment) -> counter.CounterSale:
                return counter.take_payment(self.env.ctx, invoice_id, payment)
        else:
            if not self.model.rows:
                return None
            if self.preview is None:
                self.form.show_error(UserError(_tr(
                    "The total is still being worked out; try again in a moment."),
                    field="lines"))
                self.preview_now()
                return None
            due = self.preview.total
            ctx, customer, lines = self.env.ctx, self.customer_id(), self.model.counter_lines()
            warehouse = self.warehouse_id()

            def submit(payment: counter.CounterPayment) -> counter.CounterSale:
                return counter.issue(ctx, customer, lines, payment=payment,
                                     warehouse=warehouse)
        dialog = PaymentDialog(self.env, due, submit, parent=self)
        dialog.setObjectName("payment_dialog")
        dialog.accepted.connect(lambda: self._paid(dialog.result_value))
        self.payment_dialog = dialog
        dialog.open()
        return dialog

    def _paid(self, sale: counter.CounterSale | None) -> None:
        if sale is not None:
            if self.sale is not None and not sale.warnings:
                sale = replace(sale, warnings=self.sale.warnings)
            self._issued(sale)

    def _issued(self, sale: counter.CounterSale) -> None:
        self.sale = sale
        self._preview_gen += 1
        self.model.editable = False
        self.model.mark_bad(None)
        self.grid.clearSelection()
        self.scan.setEnabled(False)
        self.customer.setEnabled(False)
        self.warnings.setVisible(False)  # what still applies is said in the issued banner
        self.customer_info.setText("")
        inv = sale.invoice
        loc = self.env.locale
        lines = [f"<span style='font-size: 15pt; font-weight: bold;'>"
                 f"{html.escape(_tr('Invoice {number} issued').format(number=inv.number))}"
                 f"</span>"]
        state = [_tr("Total {amount}").format(amount=format_money(inv.total, loc))]
        if inv.status == "paid":
            state.append(_tr("paid"))
        elif inv.balance != inv.total:
            state.append(_tr("{amount} left to pay").format(
                amount=format_money(inv.balance, loc)))
        else:
            state.append(_tr("not paid yet"))
        if sale.receipt_number:
            state.append(_tr("receipt {number}").format(number=sale.receipt_number))
        if sale.change_due.amount > 0:
            state.append("<b>" + html.escape(_tr("change due {amount}").format(
                amount=format_money(sale.change_due, loc))) + "</b>")
        lines.append(" · ".join(state))
        lines += [html.escape(w) for w in sale.warnings]
        self.issued.show_text("<br>".join(lines), "success")
        self.totals.note.setText(_tr("Ctrl+N starts the next sale."))
        self._update_buttons()
        self.commands_changed.emit()
        self.sale_issued.emit(sale)
        (self.pay_button if self.pay_button.isEnabled() else self.new_button).setFocus()

    def _issued_and_printed(self, result: tuple[counter.CounterSale, counter.CounterPdf]
                            ) -> None:
        sale, pdf = result
        self._issued(sale)
        self._show_pdf(pdf)

    def _show_pdf(self, pdf: counter.CounterPdf) -> None:
        dialog = PdfPreviewDialog(pdf.data, title=pdf.title, file_name=pdf.file_name,
                                  parent=self)
        self.pdf_dialog = dialog
        dialog.open()

    def new_sale(self) -> None:
        """Clear the screen for the next customer (Ctrl+N)."""
        if self.form.busy:
            return
        self.sale = None
        self.preview = None
        self._scans.clear()
        self.issued.setVisible(False)
        self.warnings.setVisible(False)
        self.form.clear_errors()
        self.scan.setEnabled(True)
        self.customer.setEnabled(True)
        self.scan.clear()
        self.completer.popup().hide()
        self.model.clear()
        if self._walk_in is not None:
            index = self.customer.findData(self._walk_in.id)
            if index >= 0:
                self.customer.setCurrentIndex(index)
        self.totals.show_empty()
        self._update_buttons()
        self.commands_changed.emit()
        self.scan.setFocus(Qt.FocusReason.OtherFocusReason)

