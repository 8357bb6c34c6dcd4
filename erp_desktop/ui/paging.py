"""`PagedTableModel`: a Qt table model over a service's list query, a page at a time.

The model knows how many rows match (one `count` query) and holds only a few
pages of them: when a view paints a row whose page is not loaded, `data()`
answers "…" and asks for the page. Requests are coalesced (a paint asks for
each missing page once, on the next turn of the event loop), the newest
wishes are served first (scrolling fast through a million rows does not queue
every page it passed), at most `max_in_flight` pages load at a time, and each
loads on the worker (`ui.worker.run_in_background`) where its cells are also
formatted, so painting never formats money. Loaded pages live in a small LRU
cache (`max_pages`): memory stays flat however far the list is scrolled.

Sorting (a header click calls `sort`) and filtering (`set_filters`, or
`set_search_text`, debounced so that typing "cement" runs one query, not six)
happen in SQL: the model only starts over. Every request carries the
generation it was made in; a page or count that arrives after the filter or
sort changed is dropped, never shown. The first page and the count load side
by side; whichever comes first, rows appear as soon as the first page is in.
A search is different: the words match no index, so its count and its first
page both read the whole table, and run side by side they slow each other
down on a small machine (measured on 100k invoices: the first page of a
one-customer search took 360 ms next to its count, ~150 ms alone). For a
search the count waits for the first page (at most `SEARCH_COUNT_DELAY_MS`),
and a short first page is the whole count, so it is not asked at all.

The source is a `services.listing.RowSource` (a `ListQuery` bound to the
logged-in context); the model never sees a session or a query.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from erp_desktop.domain.money import Money
from erp_desktop.services.listing import Column, ColumnKind, Filters, RowSource, Sort, format_cell
from erp_desktop.ui.worker import Task, run_in_background

log = logging.getLogger(__name__)

PLACEHOLDER = "…"
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # data(index, ROW_ROLE): the row dataclass, or None
SEARCH_DEBOUNCE_MS = 250
SEARCH_COUNT_DELAY_MS = 400  # a search's count waits this long for its first page

# data() runs for every role of every visible cell at every paint: the roles are
# compared as plain ints, and the ones this model never answers leave at once.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ROW = int(ROW_ROLE)
_ANSWERED = frozenset({_DISPLAY, _TOOLTIP, _ALIGNMENT, _FOREGROUND, _ROW})
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


@dataclass(frozen=True)
class _Page:
    rows: list[Any]
    cells: list[tuple[str, ...]]


# Formatting through babel costs more than reading the page (measured on 100
# invoice rows: ~20 ms against ~11 ms for the query), and it holds the GIL that
# the UI thread needs to paint. Dates and amounts repeat a lot down a list (a
# day's invoices, "₹0.00" left to pay), so their texts are remembered per model.
_MEMO_KINDS = frozenset({ColumnKind.MONEY, ColumnKind.DATE, ColumnKind.DATETIME})
_MEMO_TYPES = (Money, date)  # datetime is a date; equal values always read the same
_MEMO_MAX = 2048  # about 0.8 MB at most


class _CellTexts:
    """Cell texts of one model's locale, remembered by (kind, type, value) for the kinds
    whose equal values always format alike. Used from worker threads: the dict's own
    operations are atomic, and a miss formats the cell again, which is harmless."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.texts: dict[tuple[ColumnKind, type, Any], str] = {}

    def row(self, row: Any, columns: Sequence[Column]) -> tuple[str, ...]:
        locale, texts = self.locale, self.texts
        out = []
        for column in columns:
            value = getattr(row, column.key, None)
            kind = column.kind
            if kind in _MEMO_KINDS and isinstance(value, _MEMO_TYPES):
                key = (kind, type(value), value)
                text = texts.get(key)
                if text is None:
                    if len(texts) >= _MEMO_MAX:
                        texts.clear()  # a long list of distinct amounts: start again
                    text = texts[key] = format_cell(value, kind, locale)
                out.append(text)
            else:
                out.append(format_cell(value, kind, locale))
        return tuple(out)


def _load_page(source: RowSource, filters: Filters, sort: Sort, start: int, limit: int,
               total: int | None, columns: Sequence[Column], texts: _CellTexts) -> _Page:
    """Runs on a worker thread: read one page and format its cells."""
    rows = list(source.fetch(filters, sort, start, limit, total))
    return _Page(rows, [texts.row(r, columns) for r in rows])


def column_title(column: Column) -> str:
    return QCoreApplication.translate("lists", column.title)


class PagedTableModel(QAbstractTableModel):
    """See the module docstring. Signals: `count_changed(int)` when the number of
    matching rows is known, `loading_changed(bool)`, `failed(exception)`."""

    count_changed = Signal(int)
    loading_changed = Signal(bool)
    failed = Signal(object)

    def __init__(self, source: RowSource, *, locale: str = "en_IN", page_size: int = 100,
                 max_pages: int = 12, max_in_flight: int = 2,
                 debounce_ms: int = SEARCH_DEBOUNCE_MS, filters: Filters | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        if page_size < 1 or max_pages < 2 or max_in_flight < 1:
            raise ValueError("page_size >= 1, max_pages >= 2 and max_in_flight >= 1")
        self.source = source
        self.columns: tuple[Column, ...] = tuple(source.columns)
        self._alignments = [self._alignment(c) for c in self.columns]
        self._stretch = [c.stretch for c in self.columns]
        self.locale = locale
        self._texts = _CellTexts(locale)
        self.page_size = page_size
        self.max_pages = max_pages
        self.max_in_flight = max_in_flight
        self._filters = filters or Filters()
        self._sort = source.default_sort
        self._generation = 0
        self._count: int | None = None
        self._shown = 0  # what rowCount() reports
        self._pages: OrderedDict[int, _Page] = OrderedDict()
        self._in_flight: dict[int, Task] = {}
        self._wanted: list[int] = []  # most recent wish last
        self._prefetch: list[int] = []  # neighbours of the page loaded last
        self._prefetched: set[int] = set()  # in flight only because they were prefetched
        self._failed_pages: set[int] = set()
        self._count_task: Task | None = None
        self._count_asked = False  # this generation's count has been started (or is known)
        self._started = False
        # Counters for tests and the bench: how much work the model asked for.
        self.fetches_started = 0
        self.counts_started = 0

        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self._flush)
        self._pending_text: str | None = None
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(debounce_ms)
        self._search_timer.timeout.connect(self.search_now)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(SEARCH_COUNT_DELAY_MS)
        self._count_timer.timeout.connect(self._start_count)

    # ------------------------------------------------------------ the state

    @property
    def filters(self) -> Filters:
        return self._filters

    @property
    def sort_order(self) -> Sort:
        return self._sort

    @property
    def total(self) -> int | None:
        """The number of matching rows, once the count has arrived."""
        return self._count

    @property
    def loading(self) -> bool:
        return (self._count_task is not None or bool(self._in_flight)
                or self._count_timer.isActive())

    @property
    def cached_pages(self) -> list[int]:
        return list(self._pages)

    def row_at(self, row: int) -> Any | None:
        """The row dataclass at `row`, or None while its page is not loaded."""
        page = self._pages.get(row // self.page_size)
        if page is None:
            return None
        offset = row % self.page_size
        return page.rows[offset] if offset < len(page.rows) else None

    def is_loaded(self, row: int) -> bool:
        return self.row_at(row) is not None

    def column_index(self, key: str) -> int:
        return next(i for i, c in enumerate(self.columns) if c.key == key)

    # ------------------------------------------------------------ changing what is shown

    def start(self) -> None:
        """Load for the first time (a page calls it when first shown)."""
        if not self._started:
            self.reload()

    def set_filters(self, filters: Filters) -> None:
        self._search_timer.stop()
        self._pending_text = None
        if filters != self._filters or not self._started:
            self._filters = filters
            self.reload()

    def set_search_text(self, text: str) -> None:
        """The search box changed: search once typing pauses (debounced)."""
        self._pending_text = text
        self._search_timer.start()

    def search_now(self) -> None:
        """Apply a pending search text at once (Enter in the search box)."""
        self._search_timer.stop()
        if self._pending_text is None:
            return
        text, self._pending_text = self._pending_text, None
        self.set_filters(self._filters.with_text(text))

    def set_sort(self, sort: Sort) -> None:
        if sort != self._sort:
            self._sort = sort
            self.reload()

    def reload(self) -> None:
        """Start over: count again and load the pages the view asks for."""
        self._started = True
        self._generation += 1
        for task in [*self._in_flight.values(), self._count_task]:
            if task is not None:
                task.cancel()
        self._in_flight.clear()
        self._count_task = None
        self._wanted.clear()
        self._prefetch.clear()
        self._prefetched.clear()
        self._failed_pages.clear()
        self.beginResetModel()
        self._pages.clear()
        self._count = None
        self._shown = 0
        self.endResetModel()
        self.loading_changed.emit(True)
        self._count_asked = False
        self._count_timer.stop()
        if self._filters.text:
            self._count_timer.start()  # a search: the first page first (module docstring)
        else:
            self._start_count()
        self._want(0)

    def _start_count(self) -> None:
        self._count_timer.stop()
        if self._count_asked or self._count is not None:
            return
        self._count_asked = True
        generation = self._generation
        self.counts_started += 1
        self._count_task = run_in_background(
            self.source.count, self._filters, parent=self, name="count rows",
            on_done=partial(self._count_loaded, generation),
            on_error=partial(self._count_failed, generation))

    # ------------------------------------------------------------ Qt model

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._shown

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = _DISPLAY) -> Any:
        role = int(role)
        if role not in _ANSWERED or not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == _ALIGNMENT:
            return self._alignments[col]
        number = row // self.page_size
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)  # recently painted: keep it
        offset = row - number * self.page_size
        if role == _DISPLAY:
            if page is None:
                if number not in self._failed_pages:
                    self._want(number)
                    return PLACEHOLDER
                return ""
            cells = page.cells
            return cells[offset][col] if offset < len(cells) else ""
        if role == _TOOLTIP:
            if page is None or offset >= len(page.cells) or not self._stretch[col]:
                return None
            text = page.cells[offset][col]
            return text if len(text) > 40 else None
        if role == _ROW:
            return page.rows[offset] if page is not None and offset < len(page.rows) else None
        if role == _FOREGROUND and page is None:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                return app.palette().brush(QPalette.ColorRole.PlaceholderText)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column_title(column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(column)
        if role == Qt.ItemDataRole.ToolTipRole and column.sortable:
            return QCoreApplication.translate("lists", "Click to sort by {column}").format(
                column=column_title(column))
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns) or not self.columns[column].sortable:
            return  # the view puts its indicator back (see ui.list_page)
        self.set_sort(Sort(self.columns[column].key,
                           order == Qt.SortOrder.DescendingOrder))

    @staticmethod
    def _alignment(column: Column) -> int:
        horizontal = Qt.AlignmentFlag.AlignRight if column.kind.right_aligned \
            else Qt.AlignmentFlag.AlignLeft
        return int(horizontal | Qt.AlignmentFlag.AlignVCenter)

    # ------------------------------------------------------------ loading pages

    def _want(self, number: int) -> None:
        if number in self._pages or number in self._in_flight:
            return
        if number in self._prefetch:
            self._prefetch.remove(number)
        if number in self._wanted:
            self._wanted.remove(number)
        self._wanted.append(number)
        # Only the newest wishes matter: rows scrolled past are not painted any more,
        # and a later paint asks again for what is still on screen.
        del self._wanted[:-(self.max_in_flight * 3)]
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _flush(self) -> None:
        while self._wanted and len(self._in_flight) < self.max_in_flight:
            number = self._wanted.pop()  # the newest first
            if number in self._pages or number in self._in_flight:
                continue
            if self._count is not None and number * self.page_size >= max(self._count, 1):
                continue  # the list shrank meanwhile
            self._start_fetch(number)
        # Only when nothing on screen waits: a neighbour page, one at a time.
        while self._prefetch and not self._in_flight and not self._wanted:
            number = self._prefetch.pop(0)
            if number not in self._pages:
                self._prefetched.add(number)
                self._start_fetch(number)

    def _start_fetch(self, number: int) -> None:
        generation = self._generation
        self.fetches_started += 1
        self._in_flight[number] = run_in_background(
            _load_page, self.source, self._filters, self._sort, number * self.page_size,
            self.page_size, self._count, self.columns, self._texts, parent=self,
            name="load list page", on_done=partial(self._page_loaded, generation, number),
            on_error=partial(self._page_failed, generation, number))

    def _page_loaded(self, generation: int, number: int, page: _Page) -> None:
        if generation != self._generation:
            return  # asked under other filters or another sort: never shown
        self._in_flight.pop(number, None)
        self._pages[number] = page
        self._pages.move_to_end(number)
        while len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)
        first = number * self.page_size
        if self._count is None:
            # The count is still running: show what is known to exist already.
            if number == 0 and len(page.rows) < self.page_size:
                self._count = len(page.rows)  # a short first page is the whole list
                self._count_timer.stop()  # a search's count is not needed any more
                self._set_shown(self._count)
                self.count_changed.emit(self._count)
            else:
                self._set_shown(max(self._shown, first + len(page.rows)))
                if number == 0:
                    self._start_count()  # a search's count, now that the first rows are in
        last = min(first + len(page.rows), self._shown) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
        if number in self._prefetched:
            self._prefetched.discard(number)  # a prefetched page does not prefetch further
        else:
            self._prefetch_around(number)
        self._after_step()

    def _prefetch_around(self, number: int) -> None:
        """Ask for the pages on both sides too, behind what is on screen: scrolling on
        by a page then finds its rows already there."""
        if self._count is None:
            return
        pages = (self._count + self.page_size - 1) // self.page_size
        self._prefetch = [near for near in (number + 1, number - 1)
                          if 0 <= near < pages and near not in self._pages
                          and near not in self._failed_pages]

    def _page_failed(self, generation: int, number: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._in_flight.pop(number, None)
        self._prefetched.discard(number)
        self._failed_pages.add(number)  # not asked again until the next reload
        first = number * self.page_size
        last = min(first + self.page_size, self._shown) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.columns) - 1))
        self.failed.emit(exc)
        self._after_step()

    def _count_loaded(self, generation: int, count: int) -> None:
        if generation != self._generation:
            return
        self._count_task = None
        self._count = int(count)
        self._set_shown(self._count)
        self.count_changed.emit(self._count)
        self._after_step()

    def _count_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._count_task = None
        self.failed.emit(exc)
        self._after_step()

    def _after_step(self) -> None:
        self._flush()
        if not self.loading:
            self.loading_changed.emit(False)

    def _set_shown(self, rows: int) -> None:
        if rows > self._shown:
            self.beginInsertRows(QModelIndex(), self._shown, rows - 1)
            self._shown = rows
            self.endInsertRows()
        elif rows < self._shown:
            self.beginRemoveRows(QModelIndex(), rows, self._shown - 1)
            self._shown = rows
            self.endRemoveRows()
