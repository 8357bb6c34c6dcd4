"""The paged list model: only the pages around the visible rows, off the UI thread.

A fake list source of 20,000 rows records every count and fetch, so the tests
can say exactly how much work the model asked for; waits are for states.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.services.listing import Column, ColumnKind, Filters, Sort
from erp_desktop.ui.list_page import ListPanel, PagedTableView
from erp_desktop.ui.paging import PLACEHOLDER, ROW_ROLE, PagedTableModel

pytestmark = pytest.mark.ui


@dataclass(frozen=True)
class Row:
    n: int
    name: str
    amount: Money


class FakeSource:
    """20k rows in memory; thread-safe record of what was asked."""

    columns = (Column("n", "No.", ColumnKind.NUMBER, sortable=True),
               Column("name", "Name", stretch=True),
               Column("amount", "Amount", ColumnKind.MONEY))
    default_sort = Sort("n")

    def __init__(self, rows: int = 20_000) -> None:
        self.rows = rows
        self.lock = threading.Lock()
        self.counts: list[Filters] = []
        self.fetches: list[tuple[Filters, Sort, int, int, int | None]] = []
        self.gates: dict[str, threading.Event] = {}  # search text -> hold its fetches
        self.held: list[str] = []  # search texts of fetches now waiting at their gate
        self.threads: set[threading.Thread] = set()

    def _matching(self, filters: Filters) -> list[int]:
        if not filters.text:
            return list(range(self.rows))
        return [i for i in range(self.rows) if filters.text in f"row {i} {filters.text}"]

    def count(self, filters: Filters) -> int:
        with self.lock:
            self.counts.append(filters)
            self.threads.add(threading.current_thread())
        return len(self._matching(filters))

    def fetch(self, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Row]:
        gate = self.gates.get(filters.text)
        if gate is not None:
            with self.lock:
                self.held.append(filters.text)
            assert gate.wait(10), "the test never opened the gate"
        with self.lock:
            self.fetches.append((filters, sort, start, limit, total))
            self.threads.add(threading.current_thread())
        ids = self._matching(filters)
        if sort.descending:
            ids.reverse()
        return [Row(i, f"{filters.text or 'row'} {i}", Money(Decimal(i) / 100, "INR"))
                for i in ids[start:start + limit]]

    def starts(self) -> list[int]:
        with self.lock:
            return [f[2] for f in self.fetches]


@pytest.fixture
def source() -> FakeSource:
    return FakeSource()


def shown_view(qtbot, model: PagedTableModel) -> PagedTableView:
    view = PagedTableView(model)
    model.setParent(view)  # deleted with the view, not whenever Python collects it
    qtbot.addWidget(view)
    view.resize(700, 400)  # about a dozen rows on screen
    view.show()
    model.start()
    return view


def test_twenty_thousand_rows_load_only_the_first_pages_off_the_ui_thread(qtbot, source):
    model = PagedTableModel(source, page_size=100)
    view = shown_view(qtbot, model)

    qtbot.waitUntil(lambda: model.total == 20_000 and model.is_loaded(0))
    qtbot.wait(50)  # let any further paint ask for more if it were going to
    assert model.rowCount() == 20_000
    # One page for a dozen visible rows, and then, once idle, the next one ahead.
    assert source.starts() in ([0], [0, 100])
    assert set(model.cached_pages) <= {0, 1}
    assert threading.main_thread() not in source.threads
    assert model.index(0, 1).data() == "row 0"
    assert view.isVisible()


def test_rows_show_a_placeholder_until_their_page_arrives(qtbot, source):
    source.gates[""] = threading.Event()
    model = PagedTableModel(source, page_size=100)
    view = shown_view(qtbot, model)  # noqa: F841 - kept alive while the test runs
    qtbot.waitUntil(lambda: model.total == 20_000)  # the count is not gated
    assert model.index(5, 1).data() == PLACEHOLDER
    assert model.index(5, 0).data(ROW_ROLE) is None
    source.gates[""].set()
    qtbot.waitUntil(lambda: model.index(5, 1).data() == "row 5")
    assert model.index(5, 0).data(ROW_ROLE) == Row(5, "row 5", Money(Decimal("0.05"), "INR"))


def test_jumping_to_the_end_fetches_only_the_last_page_read_backwards(qtbot, source):
    model = PagedTableModel(source, page_size=100)
    view = shown_view(qtbot, model)
    qtbot.waitUntil(lambda: model.total == 20_000 and model.is_loaded(0))
    view.setFocus()
    view.setCurrentIndex(model.index(0, 0))

    qtbot.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    assert view.currentIndex().row() == 19_999
    qtbot.waitUntil(lambda: model.is_loaded(19_999))
    assert model.index(19_999, 1).data() == "row 19999"
    starts = source.starts()
    assert 19_900 in starts
    assert len(starts) <= 4  # the first page, the last, and their neighbours ahead
    last = next(f for f in source.fetches if f[2] == 19_900)
    assert last[4] == 20_000  # the known total goes along, so the source can read backwards


def test_memory_stays_flat_while_scrolling_through_every_page(qtbot):
    source = FakeSource(rows=6_000)
    model = PagedTableModel(source, page_size=100, max_pages=4)
    view = shown_view(qtbot, model)
    qtbot.waitUntil(lambda: model.is_loaded(0))
    for row in range(0, 6_000, 100):
        view.scrollTo(model.index(row, 0), PagedTableView.ScrollHint.PositionAtTop)
        qtbot.waitUntil(lambda r=row: model.is_loaded(r))
        assert len(model.cached_pages) <= 4
    starts = source.starts()
    assert sorted(set(starts)) == list(range(0, 6_000, 100))
    assert len(starts) <= len(set(starts)) + 4  # each page about once


def test_typing_in_the_search_box_runs_one_query_once_typing_pauses(qtbot, source):
    panel = ListPanel(source, noun=("row", "rows"))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.total == 20_000)
    before = len(source.counts)

    for text in ("1", "12", "123", "1234"):
        panel.search.setText(text)  # as fast as a person types: no event loop turn between
    qtbot.waitUntil(lambda: panel.model.total is not None and panel.model.filters.text == "1234")
    qtbot.waitUntil(lambda: not panel.model.loading)
    assert [f.text for f in source.counts[before:]] == ["1234"]
    assert panel.status.text() == "20,000 rows"  # every fake row "contains" its own search


def test_a_result_asked_under_old_filters_is_never_shown(qtbot, source):
    source.gates["old"] = threading.Event()
    model = PagedTableModel(source, page_size=100, filters=Filters.of("old"))
    view = shown_view(qtbot, model)  # noqa: F841 - kept alive while the test runs
    # Counted, and its first page is running and held at the gate (a fetch still
    # queued when the filters change is cancelled before it runs: nothing to test).
    qtbot.waitUntil(lambda: model.total is not None and "old" in source.held)

    model.set_filters(Filters.of("new"))
    qtbot.waitUntil(lambda: model.is_loaded(0))
    source.gates["old"].set()  # the stale page arrives now
    qtbot.waitUntil(lambda: any(f[0].text == "old" for f in source.fetches))
    qtbot.wait(50)
    names = {model.index(r, 1).data() for r in range(20)}
    assert all(n.startswith("new") for n in names), names


def test_a_header_click_sorts_in_the_source_and_starts_over(qtbot, source):
    model = PagedTableModel(source, page_size=100)
    view = shown_view(qtbot, model)
    qtbot.waitUntil(lambda: model.is_loaded(0))
    view.sortByColumn(0, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: model.is_loaded(0) and model.index(0, 0).data() == "19,999")
    assert source.fetches[-1][1] == Sort("n", descending=True)

    view.sortByColumn(1, Qt.SortOrder.AscendingOrder)  # "Name" cannot be sorted on a long list
    qtbot.wait(50)
    assert model.sort_order == Sort("n", descending=True)
    assert all(f[1].key == "n" for f in source.fetches)
    assert view.horizontalHeader().sortIndicatorSection() == 0


def test_money_is_formatted_for_the_locale_and_numbers_align_right(qtbot, source):
    model = PagedTableModel(source, page_size=100, locale="de_DE")
    view = shown_view(qtbot, model)  # noqa: F841 - kept alive while the test runs
    qtbot.waitUntil(lambda: model.is_loaded(0))
    assert model.index(1234 % 100, 2).data() == "0,34\xa0₹"
    right = model.index(0, 2).data(Qt.ItemDataRole.TextAlignmentRole)
    assert right & Qt.AlignmentFlag.AlignRight
    assert not model.index(0, 1).data(Qt.ItemDataRole.TextAlignmentRole) \
        & Qt.AlignmentFlag.AlignRight
    assert model.headerData(2, Qt.Orientation.Horizontal,
                            Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight


def test_a_refused_page_is_said_in_the_status_line_and_not_asked_again(qtbot, source):
    def refuse(*_args, **_kwargs):
        raise ValidationError("This list cannot be sorted by Name.", field="sort")

    source.fetch = refuse  # type: ignore[method-assign]
    panel = ListPanel(source)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: "cannot be sorted" in panel.status.text())
    assert panel.model.index(0, 1).data() == ""  # no endless retries of a refused page


def test_find_next_and_previous_are_list_commands(qtbot, source):
    from erp_desktop.ui.shortcuts import Command

    panel = ListPanel(source)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.model.is_loaded(0))
    assert {Command.FIND, Command.NEXT, Command.PREVIOUS, Command.REFRESH} <= panel.commands()
    assert Command.NEW not in panel.commands()  # nobody said what "new" makes here
    panel.run_command(Command.FIND)
    assert QApplication.focusWidget() is panel.search or not panel.isActiveWindow()
    panel.run_command(Command.NEXT)
    panel.run_command(Command.NEXT)
    assert panel.view.currentIndex().row() == 1
    panel.run_command(Command.PREVIOUS)
    assert panel.current_row() == Row(0, "row 0", Money(Decimal(0), "INR"))
