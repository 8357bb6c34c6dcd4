"""The journal list on a big company file: first rows, jump to the end, flat memory.

Builds a company file with 1M journal lines (500k balanced entries of two
lines, bulk-inserted through SQLAlchemy Core's connection, bypassing the use
cases), logs in, and measures in this process, with the window shown
(QT_QPA_PLATFORM=offscreen unless a display is set):

- time to first rows: from building the journal list (`ListPanel` over
  `list_queries.JOURNAL_ENTRIES`) and showing it, to the first paint after its
  first page arrived; against the same window with an empty model, built and
  shown the same way, to its first paint (the ratio is the price of the data);
- jump to the last row: Ctrl+End on the table, to the paint after the last
  page arrived;
- memory after scrolling through every page: Python heap (tracemalloc) and
  RSS, after the first page and after visiting every page of the list, with
  the model's page cache (12 pages of 100 rows) the only thing that holds rows.

Prints figures and ratios only; nothing is asserted.
`python -m bench.ui_bench [--quick] [--lines N]`.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench import Figure, format_table, with_ratios

SECTION_A = "(a) journal list: time to first rows (ms), against an empty-model window"
SECTION_B = "(b) journal list: jump to the last row (Ctrl+End)"
SECTION_C = "(c) memory while scrolling through every page"
PASSWORD = "bench password 2026"


def _build(root: Path, lines: int) -> tuple[Path, object]:
    from sqlalchemy import select

    from erp_desktop.domain.ids import new_id
    from erp_desktop.models.ledger import Account
    from erp_desktop.services.company import NewAdmin, NewCompany, create_company
    from erp_desktop.services.config import AppConfig
    from erp_desktop.services.context import DeviceInfo
    from erp_desktop.store.keyfile import FAST_TEST_KDF

    config = AppConfig(data_dir=root / "data", backup_dir=root / "backups", kdf=FAST_TEST_KDF,
                       auto_backup=False)
    path = root / "Big Books.erp"
    created = create_company(path, NewCompany("Big Books Pvt Ltd"),
                             NewAdmin("owner", "Owner", PASSWORD), config=config,
                             device=DeviceInfo("bench", "bench", "0"))
    ctx = created.context
    with ctx.db.read() as s:
        accounts = {a.code: a.id.bytes for a in s.scalars(select(Account))}
    entries = lines // 2
    start = date(2021, 4, 1)
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    entry_sql = ("INSERT INTO journal_entry (id, number, entry_date, memo, currency, "
                 "total_minor, source_type, lock_override, created_at) "
                 "VALUES (?, ?, ?, ?, 'INR', ?, 'journal', 0, ?)")
    line_sql = ("INSERT INTO journal_line (id, entry_id, line_no, account_id, entry_date, "
                "debit_minor, credit_minor, currency, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'INR', ?)")
    batch = 20_000
    cash, sales = accounts["1100"], accounts["4100"]
    with ctx.db.engine.begin() as con:
        for first in range(0, entries, batch):
            es, ls = [], []
            for i in range(first, min(entries, first + batch)):
                day = (start + timedelta(days=i * 2000 // entries)).isoformat()
                eid = new_id().bytes
                amount = 100 + (i * 7919) % 1_000_000
                es.append((eid, f"JV/BENCH/A/{i:07d}", day, f"Counter sales {i}", amount, now))
                ls.append((new_id().bytes, eid, 1, cash, day, amount, 0, now))
                ls.append((new_id().bytes, eid, 2, sales, day, 0, amount, now))
            con.exec_driver_sql(entry_sql, es)
            con.exec_driver_sql(line_sql, ls)
    ctx.close()
    return path, config


def _spin(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


class _Waiter:
    """Runs the event loop until a condition holds, looked at every 2 ms by one timer
    that lives as long as the bench (a busy Python poll would take the GIL from the
    worker thread and slow what is measured)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QEventLoop, QTimer

        self.loop = QEventLoop()
        self.timer = QTimer()
        self.timer.setInterval(2)
        self.timer.timeout.connect(self._tick)
        self.condition: Callable[[], bool] = lambda: True
        self.deadline = 0.0

    def _tick(self) -> None:
        if self.condition() or time.monotonic() > self.deadline:
            self.loop.quit()

    def wait(self, condition: Callable[[], bool], timeout_s: float) -> None:
        if condition():
            return
        self.condition, self.deadline = condition, time.monotonic() + timeout_s
        self.timer.start()
        self.loop.exec()
        self.timer.stop()
        if not condition():
            raise TimeoutError("the list did not answer in time")


_WAITER: list[_Waiter] = []


def _wait(condition: Callable[[], bool], timeout_s: float = 60.0) -> None:
    if not _WAITER:
        _WAITER.append(_Waiter())
    _WAITER[0].wait(condition, timeout_s)


class _Paints:
    """Counts paint events of a widget (the table's viewport), and notes the moment of
    the first paint at which `ready()` holds (the rows it waits for are there)."""

    def __init__(self, widget: object, ready: Callable[[], bool] = lambda: True) -> None:
        from PySide6.QtCore import QEvent, QObject

        outer = self

        class Filter(QObject):
            def eventFilter(self, obj: object, event: QEvent) -> bool:
                if event.type() == QEvent.Type.Paint:
                    outer.count += 1
                    if outer.ready_at is None and outer.ready():
                        outer.ready_at = time.perf_counter()
                return False

        self.count = 0
        self.ready = ready
        self.ready_at: float | None = None
        self.filter = Filter()
        widget.installEventFilter(self.filter)  # type: ignore[attr-defined]


def _rss_mib() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak is the best we have
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _empty_window_ms() -> float:
    from PySide6.QtGui import QStandardItemModel
    from PySide6.QtWidgets import QLineEdit, QTableView, QVBoxLayout, QWidget

    start = time.perf_counter()
    window = QWidget()
    layout = QVBoxLayout(window)
    layout.addWidget(QLineEdit())
    view = QTableView()
    model = QStandardItemModel(0, 5)
    view.setModel(model)
    layout.addWidget(view)
    paints = _Paints(view.viewport())
    window.resize(1200, 700)
    window.show()
    _wait(lambda: paints.count > 0)
    elapsed = (time.perf_counter() - start) * 1000
    window.close()
    window.deleteLater()
    return elapsed


def run(quick: bool = False, lines: int | None = None,
        report: Callable[[list[Figure]], None] | None = None) -> list[Figure]:
    """Measure; `report` gets the figures of each section as soon as they exist."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from erp_desktop.services import auth, list_queries
    from erp_desktop.services.context import DeviceInfo
    from erp_desktop.services.listing import ListSource
    from erp_desktop.ui.list_page import ListPanel
    from erp_desktop.ui.main import make_application

    app = make_application([sys.argv[0]])
    lines = lines or (100_000 if quick else 1_000_000)
    root = Path(tempfile.mkdtemp(prefix="erp-ui-bench-"))
    try:
        print(f"  … building a company file with {lines:,} journal lines", file=sys.stderr,
              flush=True)
        started = time.perf_counter()
        path, config = _build(root, lines)
        print(f"  … built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        ctx = auth.login(path, "owner", PASSWORD, config=config,  # type: ignore[arg-type]
                         device=DeviceInfo("bench", "bench", "0"))
        try:
            # Warm both paths once (imports, babel's locale data, the page cache).
            _empty_window_ms()
            warm = ListPanel(ListSource(list_queries.JOURNAL_ENTRIES, ctx))
            warm.show()
            _wait(lambda: warm.model.is_loaded(0) and warm.model.total is not None)
            warm.close()
            warm.deleteLater()
            _spin(50)

            empty_ms = min(_empty_window_ms() for _ in range(3))
            firsts = []
            for _ in range(3):
                start = time.perf_counter()
                panel = ListPanel(ListSource(list_queries.JOURNAL_ENTRIES, ctx),
                                  noun=("entry", "entries"))
                paints = _Paints(panel.view.viewport(),
                                 lambda p=panel: p.model.is_loaded(0))
                panel.resize(1200, 700)
                panel.show()
                _wait(lambda pt=paints: pt.ready_at is not None)
                firsts.append((paints.ready_at - start) * 1000)  # type: ignore[operator]
                _wait(lambda p=panel: p.model.total is not None)
                total = panel.model.total
                panel.close()
                panel.deleteLater()
                _spin(20)
            first_ms = min(firsts)
            figures = with_ratios([
                Figure(SECTION_A, "empty-model window, first paint", empty_ms, "ms"),
                Figure(SECTION_A, "journal list, first rows painted", first_ms, "ms",
                       note=f"{total:,} entries"),
            ], "empty-model window, first paint")

            if report is not None:
                report(figures)

            # (b) and (c): one panel, Ctrl+End, then every page.
            tracemalloc.start()
            panel = ListPanel(ListSource(list_queries.JOURNAL_ENTRIES, ctx))
            panel.resize(1200, 700)
            panel.show()
            model, view = panel.model, panel.view
            _wait(lambda: model.is_loaded(0) and model.total is not None)
            total = model.total or 0
            view.setFocus()
            view.setCurrentIndex(model.index(0, 0))
            _spin(20)
            end_paints = _Paints(view.viewport(), lambda: model.is_loaded(total - 1))
            start = time.perf_counter()
            QTest.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
            _wait(lambda: end_paints.ready_at is not None)
            jump_ms = (end_paints.ready_at - start) * 1000  # type: ignore[operator]
            fetches_for_jump = model.fetches_started
            figures += with_ratios([
                Figure(SECTION_B, "first rows painted (above)", first_ms, "ms"),
                Figure(SECTION_B, "Ctrl+End to the last row painted", jump_ms, "ms",
                       note=f"{fetches_for_jump} page fetches in all"),
            ], "first rows painted (above)")

            # A short window for the walk through every page: the same model and
            # cache, but each frame paints a few rows instead of a screenful.
            panel.resize(1200, 240)
            if report is not None:
                report(figures[-2:])
            view.scrollToTop()
            _wait(lambda: model.is_loaded(0))
            heap_first = tracemalloc.get_traced_memory()[0] / 2**20
            rss_first = _rss_mib()
            page = model.page_size
            started = time.perf_counter()
            for row in range(0, total, page):
                view.scrollTo(model.index(row, 0), view.ScrollHint.PositionAtTop)
                _wait(lambda r=row: model.is_loaded(r))
            scroll_s = time.perf_counter() - started
            _spin(50)
            heap_all = tracemalloc.get_traced_memory()[0] / 2**20
            rss_all = _rss_mib()
            tracemalloc.stop()
            pages = (total + page - 1) // page
            figures += with_ratios([
                Figure(SECTION_C, "Python heap after the first page", heap_first, "MiB"),
                Figure(SECTION_C, "Python heap after every page", heap_all, "MiB",
                       note=f"{pages:,} pages in {scroll_s:.0f} s, "
                            f"{len(model.cached_pages)} cached"),
            ], "Python heap after the first page")
            figures += with_ratios([
                Figure(SECTION_C, "RSS after the first page", rss_first, "MiB"),
                Figure(SECTION_C, "RSS after every page", rss_all, "MiB"),
            ], "RSS after the first page")
            if report is not None:
                report(figures[-4:])
            panel.close()
            panel.deleteLater()
            _spin(20)
            return figures
        finally:
            ctx.close()
    finally:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(30_000)
        shutil.rmtree(root, ignore_errors=True)
        del app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ui_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k journal lines")
    parser.add_argument("--lines", type=int, help="journal lines to build (default 1M)")
    args = parser.parse_args(argv)
    def report(section: list[Figure]) -> None:  # as each section is done
        print()
        print(format_table(section), flush=True)

    run(quick=args.quick, lines=args.lines, report=report)
    print()
    print("ratios are value / the section's x1.00 line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
