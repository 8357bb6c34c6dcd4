"""A list screen: search box, paged table, status line; the pieces every list reuses.

`PagedTableView` is a `QTableView` set up for a `PagedTableModel`: fixed row
heights (so a million rows cost nothing to lay out), sorting by header click
(only on the columns the query can sort by an index; a click elsewhere puts
the indicator back), columns sized from the query's width hints, Enter or a
double-click to open the current row (`row_activated(row)`).

`ListPanel` puts a search box over the view (typing searches, debounced;
Enter searches at once; Ctrl+F comes here), an optional row of extra filter
widgets and buttons, and a status line ("12,345 entries", "Loading…", "No
entries match “cement”", or the error that stopped a page). It is a
`CommandPage`: Find, Refresh, Next/Previous record, and New/Print when the
owner passes `on_new`/`on_print`.

Building a new list is three lines:

    panel = ListPanel(ListSource(MY_QUERY, ctx), locale=locale,
                      noun=(tr("product"), tr("products")), on_new=self.new_product)
    panel.row_activated.connect(self.open_product)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QFontMetrics, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.services.listing import Filters, RowSource
from erp_desktop.ui.icons import icon
from erp_desktop.ui.paging import PagedTableModel
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.theme import tones

TABLE_STYLE = (
    "QTableView { border: 1px solid palette(mid); border-radius: 4px; }"
    "QTableView::item { padding: 0px 8px; }"
    "QHeaderView::section { padding: 4px 8px; border: none;"
    " border-bottom: 1px solid palette(mid); background: palette(window); }")


def style_table(view: QTableView) -> None:
    """The look shared by every table: rows selected whole, no grid, padded cells."""
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setStyleSheet(TABLE_STYLE)
    view.verticalHeader().setVisible(False)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setSectionsMovable(False)
    rows = view.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(QFontMetrics(view.font()).height() + 12)


class PagedTableView(QTableView):
    """See the module docstring. `row_activated(row)` on Enter or double-click."""

    row_activated = Signal(object)
    current_row_changed = Signal(object)

    def __init__(self, model: PagedTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paged = model
        self.setModel(model)
        style_table(self)
        self.setSortingEnabled(False)  # enabled below, once the indicator is right
        self._size_columns()
        self._show_sort()
        self.setSortingEnabled(True)
        self.horizontalHeader().sortIndicatorChanged.connect(self._sort_clicked)
        self.doubleClicked.connect(self._activated)
        self.selectionModel().currentRowChanged.connect(self._current_changed)
        model.modelReset.connect(self._show_sort)
        model.dataChanged.connect(self._data_arrived)

    def _size_columns(self) -> None:
        header = self.horizontalHeader()
        metrics = QFontMetrics(self.font())
        char = metrics.horizontalAdvance("0")
        stretched = False
        for i, column in enumerate(self.paged.columns):
            if column.stretch and not stretched:
                header.setSectionResizeMode(i, QHeaderView.ResizeMode.Stretch)
                stretched = True
                continue
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.Interactive)
            chars = column.width_chars or 14
            title = metrics.horizontalAdvance(self.paged.headerData(
                i, Qt.Orientation.Horizontal) or "") + 40  # room for the sort arrow
            header.resizeSection(i, max(chars * char + 18, title))
        if not stretched:
            header.setStretchLastSection(True)

    def _show_sort(self) -> None:
        sort = self.paged.sort_order
        header = self.horizontalHeader()
        try:
            column = self.paged.column_index(sort.key)
        except StopIteration:
            return
        order = Qt.SortOrder.DescendingOrder if sort.descending else Qt.SortOrder.AscendingOrder
        if header.sortIndicatorSection() != column or header.sortIndicatorOrder() != order:
            header.blockSignals(True)
            header.setSortIndicator(column, order)
            header.blockSignals(False)

    def _sort_clicked(self, column: int, _order: Qt.SortOrder) -> None:
        if not self.paged.columns[column].sortable:
            self._show_sort()  # this column cannot be sorted on a long list

    def _activated(self, index: QModelIndex) -> None:
        row = self.paged.row_at(index.row())
        if row is not None:
            self.row_activated.emit(row)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_row_changed.emit(self.paged.row_at(current.row())
                                      if current.isValid() else None)

    def _data_arrived(self, top_left: QModelIndex, bottom_right: QModelIndex) -> None:
        current = self.currentIndex()
        if current.isValid() and top_left.row() <= current.row() <= bottom_right.row():
            self.current_row_changed.emit(self.paged.row_at(current.row()))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._activated(self.currentIndex())
            return
        super().keyPressEvent(event)

    def current_row(self) -> Any | None:
        index = self.currentIndex()
        return self.paged.row_at(index.row()) if index.isValid() else None

    def select_row(self, row: int) -> None:
        if not 0 <= row < self.paged.rowCount():
            return
        index = self.paged.index(row, 0)
        self.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.scrollTo(index)

    def step(self, delta: int) -> None:
        """Next (+1) or previous (-1) record; from nothing selected, the first."""
        current = self.currentIndex()
        target = 0 if not current.isValid() else current.row() + delta
        self.select_row(max(0, min(target, self.paged.rowCount() - 1)))

    def jump_to_end(self) -> None:
        self.select_row(self.paged.rowCount() - 1)


class ListPanel(CommandPage):
    """Search box + paged table + status line (see module docstring)."""

    row_activated = Signal(object)
    current_row_changed = Signal(object)

    def __init__(self, source: RowSource, *, locale: str = "en_IN",
                 noun: tuple[str, str] = ("row", "rows"), search_hint: str | None = None,
                 filters: Filters | None = None, extra: Sequence[QWidget] = (),
                 actions: Sequence[QAction] = (), on_new: Callable[[], None] | None = None,
                 on_print: Callable[[], None] | None = None, page_size: int = 100,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.noun = noun
        self.on_new = on_new
        self.on_print = on_print
        self.model = PagedTableModel(source, locale=locale, page_size=page_size,
                                     filters=filters, parent=self)
        self.search = QLineEdit()
        self.search.setObjectName("search")
        self.search.setClearButtonEnabled(True)
        self.search.addAction(icon("find"), QLineEdit.ActionPosition.LeadingPosition)
        self.search.setPlaceholderText(search_hint or self.tr("Search…"))
        self.search.setToolTip(self.tr("Type to search; the list follows as you type (Ctrl+F)"))
        self.search.textChanged.connect(self.model.set_search_text)
        self.search.returnPressed.connect(self.model.search_now)
        self.search.setMinimumWidth(220)
        self.search.setMaximumWidth(420)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.search, 2)
        for widget in extra:
            bar.addWidget(widget)
        bar.addStretch(1)
        self.buttons: list[QWidget] = []
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            bar.addWidget(button)
            self.buttons.append(button)

        self.view = PagedTableView(self.model)
        self.view.setObjectName("list")
        self.view.row_activated.connect(self.row_activated)
        self.view.current_row_changed.connect(self._current_changed)
        self.status = QLabel()
        self.status.setObjectName("list_status")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setStyleSheet("color: palette(placeholder-text);")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        self.setFocusProxy(self.view)
        QWidget.setTabOrder(self.search, self.view)

        self.model.count_changed.connect(self._update_status)
        self.model.loading_changed.connect(lambda _busy: self._update_status())
        self.model.failed.connect(self._failed)
        self.model.modelReset.connect(self._update_status)
        self.model.modelReset.connect(self.commands_changed)
        self.model.count_changed.connect(lambda _n: self.commands_changed.emit())
        self._error: str | None = None

    # ---- loading

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.model.start()

    def refresh(self) -> None:
        self._error = None
        self.model.reload()

    def set_filters(self, filters: Filters) -> None:
        self._error = None
        self.model.set_filters(filters.with_text(self.search.text()))

    def current_row(self) -> Any | None:
        return self.view.current_row()

    def _current_changed(self, row: Any) -> None:
        self.current_row_changed.emit(row)
        self.commands_changed.emit()

    # ---- the status line

    def _count_text(self, n: int) -> str:
        singular, plural = self.noun
        if n == 1:
            return self.tr("1 {noun}").format(noun=singular)
        return self.tr("{n} {nouns}").format(n=f"{n:,}", nouns=plural)

    def _update_status(self) -> None:
        tone = tones()
        if self._error:
            self.status.setStyleSheet(f"color: {tone.error};")
            self.status.setText(self._error)
            return
        self.status.setStyleSheet("color: palette(placeholder-text);")
        total = self.model.total
        text = self.model.filters.text
        if total is None:
            self.status.setText(self.tr("Loading…"))
        elif total == 0 and text:
            self.status.setText(self.tr("No {nouns} match “{text}”.").format(
                nouns=self.noun[1], text=text))
        elif total == 0:
            self.status.setText(self.tr("No {nouns} yet.").format(nouns=self.noun[1]))
        else:
            self.status.setText(self._count_text(total))

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, UserError):
            self._error = exc.message
        else:
            from erp_desktop.ui.errors import show_error

            self._error = self.tr("The list could not be read.")
            show_error(self, exc)
        self._update_status()

    # ---- commands

    def commands(self) -> set[Command]:
        out = {Command.FIND, Command.REFRESH}
        if self.model.rowCount() > 0:
            out |= {Command.NEXT, Command.PREVIOUS}
        if self.on_new is not None:
            out.add(Command.NEW)
        if self.on_print is not None:
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.FIND:
            self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.search.selectAll()
        elif command == Command.REFRESH:
            self.refresh()
        elif command == Command.NEXT:
            self.view.step(+1)
            self.view.setFocus()
        elif command == Command.PREVIOUS:
            self.view.step(-1)
            self.view.setFocus()
        elif command == Command.NEW and self.on_new is not None:
            self.on_new()
        elif command == Command.PRINT and self.on_print is not None:
            self.on_print()
