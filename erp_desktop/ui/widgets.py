"""Small shared pieces of the pages: headings, hints, cards, a table of plain rows.

`PageEnv` is what every area page is built with: the logged-in context, the
company's locale and name, and hooks back to the main window (`request`) for
the few things a page cannot do alone (restore a backup: the company must be
closed first). `page_frame` gives a page its heading, subtitle and margins.
`RowsModel` shows a short list of plain rows that is loaded whole (a trial
balance, a role's users); long lists use `ui.paging.PagedTableModel`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QTableView, QVBoxLayout, QWidget

from erp_desktop.ui.list_page import style_table
from erp_desktop.ui.theme import tones

if TYPE_CHECKING:
    from erp_desktop.services.context import Context

PAGE_MARGINS = (28, 22, 28, 18)


@dataclass
class PageEnv:
    """What an area page is built with (see module docstring)."""

    ctx: Context
    locale: str = "en_IN"
    company_name: str = ""
    request: Callable[[str, Any], None] = field(default=lambda _what, _payload: None)
    keychain: Any = None  # a services.keychain_access.Keychain; None: the OS keychain
    idle_lock_minutes: int = 15  # this installation's auto-lock (0: never)
    ui_state: Any = None  # a QSettings for this computer's choices (None: not remembered)

    def can(self, permission: str) -> bool:
        return self.ctx.actor.can(permission)


def heading(text: str, scale: float = 1.5) -> QLabel:
    label = QLabel(text)
    label.setObjectName("heading")
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    label.setFont(font)
    return label


def hint(text: str = "", *, wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("color: palette(placeholder-text);")
    label.setWordWrap(wrap)
    return label


def page_frame(page: QWidget, title: str, subtitle: str = "") -> QVBoxLayout:
    """The page's vertical layout, already holding its heading and subtitle."""
    layout = QVBoxLayout(page)
    layout.setContentsMargins(*PAGE_MARGINS)
    layout.setSpacing(10)
    layout.addWidget(heading(title))
    if subtitle:
        layout.addWidget(hint(subtitle))
    return layout


def message_style(kind: str) -> str:
    """A label's style sheet for an error, success or warning message."""
    tone = tones()
    color = {"error": tone.error, "success": tone.success, "warning": tone.warning}.get(kind)
    return f"color: {color};" if color else "color: palette(placeholder-text);"


class Card(QFrame):
    """A raised box with a caption and a big figure (dashboard)."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        tone = tones()
        self.setStyleSheet(f"QFrame#card {{ background: {tone.card}; border: 1px solid "
                           f"{tone.card_border}; border-radius: 6px; }}")
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("color: palette(placeholder-text);")
        self.caption.setWordWrap(True)
        self.value = QLabel("…")
        self.value.setObjectName("card_value")
        font = QFont(self.value.font())
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel()
        self.note.setStyleSheet("color: palette(placeholder-text);")
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(4)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(100)

    def set(self, value: str, note: str = "") -> None:
        self.value.setText(value)
        self.note.setText(note)
        self.note.setVisible(bool(note))


class RowsModel(QAbstractTableModel):
    """A read-only table of plain rows: columns are (title, getter, align right?)."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[Any], str], bool]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Any] = []
        self._bold_rows: set[int] = set()

    def set_rows(self, rows: Sequence[Any], bold_rows: set[int] | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._bold_rows = set(bold_rows or ())
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    @property
    def rows(self) -> list[Any]:
        return list(self._rows)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        _title, getter, right = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return getter(self._rows[index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and index.row() in self._bold_rows:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section][0]
        if role == Qt.ItemDataRole.TextAlignmentRole and self._columns[section][2]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def rows_table(model: QAbstractTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    style_table(view)
    return view
