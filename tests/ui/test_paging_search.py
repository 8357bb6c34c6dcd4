"""The paged model's cheaper paths (issue #6): a search's count after its first page,
and cell texts remembered instead of formatted again.

A fake source of 1,000 numbered rows records every count and fetch in order;
waits are for states.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest

from erp_desktop.domain.money import Money
from erp_desktop.services.listing import Column, ColumnKind, Filters, Sort, format_row
from erp_desktop.ui import paging
from erp_desktop.ui.paging import PagedTableModel, _CellTexts
from tests.ui.test_paging import shown_view

pytestmark = pytest.mark.ui


@dataclass(frozen=True)
class Row:
    n: int
    day: date
    amount: Money


class NumberedRows:
    """Rows 0..999; a search keeps the rows whose number contains the text."""

    columns = (Column("n", "No.", ColumnKind.NUMBER, sortable=True),
               Column("day", "Date", ColumnKind.DATE),
               Column("amount", "Amount", ColumnKind.MONEY))
    default_sort = Sort("n")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, str]] = []  # ("count" | "fetch", search text)

    def _matching(self, filters: Filters) -> list[int]:
        return [i for i in range(1000) if filters.text in str(i)]

    def count(self, filters: Filters) -> int:
        with self.lock:
            self.calls.append(("count", filters.text))
        return len(self._matching(filters))

    def fetch(self, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Row]:
        with self.lock:
            self.calls.append(("fetch", filters.text))
        return [Row(i, date(2026, 1, 1) + timedelta(days=i % 7),
                    Money(Decimal(i % 5), "INR"))
                for i in self._matching(filters)[start:start + limit]]

    def asked(self, text: str) -> list[str]:
        with self.lock:
            return [kind for kind, t in self.calls if t == text]


def test_a_search_whose_first_page_is_short_is_never_counted(qtbot):
    source = NumberedRows()
    model = PagedTableModel(source, page_size=100)
    view = shown_view(qtbot, model)  # noqa: F841 - kept alive while the test runs
    qtbot.waitUntil(lambda: model.total == 1000)

    model.set_filters(Filters.of("999"))
    qtbot.waitUntil(lambda: model.total == 1 and not model.loading)
    assert model.index(0, 0).data() == "999"
    assert source.asked("999") == ["fetch"]  # one short page: the whole answer


def test_a_broad_search_is_counted_after_its_first_page(qtbot):
    source = NumberedRows()
    model = PagedTableModel(source, page_size=100)
    view = shown_view(qtbot, model)  # noqa: F841
    qtbot.waitUntil(lambda: model.total == 1000)

    model.set_filters(Filters.of("1"))
    qtbot.waitUntil(lambda: model.total is not None and not model.loading)
    assert model.total == len([i for i in range(1000) if "1" in str(i)])
    assert source.asked("1")[:2] == ["fetch", "count"]


def test_without_a_search_the_count_and_the_first_page_start_together(qtbot):
    source = NumberedRows()
    model = PagedTableModel(source, page_size=100)
    view = shown_view(qtbot, model)  # noqa: F841
    qtbot.waitUntil(lambda: model.total == 1000 and model.is_loaded(0))
    assert source.asked("")[:2] in (["count", "fetch"], ["fetch", "count"])
    assert model.counts_started == 1


def test_remembered_cell_texts_read_as_freshly_formatted_ones():
    source = NumberedRows()
    texts = _CellTexts("en_IN")
    rows = source.fetch(Filters(), source.default_sort, 0, 200)
    assert [texts.row(r, source.columns) for r in rows] == \
        [format_row(r, source.columns, "en_IN") for r in rows]
    # 7 dates and 5 amounts down 200 rows: each formatted once
    assert len(texts.texts) == 12
    assert texts.row(rows[3], source.columns)[2] == "₹3.00"


def test_the_remembered_texts_stay_bounded(monkeypatch):
    monkeypatch.setattr(paging, "_MEMO_MAX", 50)
    texts = _CellTexts("en_IN")
    columns = (Column("amount", "Amount", ColumnKind.MONEY),)
    for i in range(500):
        texts.row(Row(i, date(2026, 1, 1), Money(Decimal(i), "INR")), columns)
        assert len(texts.texts) <= 50
