"""The long lists on a big company file: first rows, jump to the end, search, flat memory.

Two company files, each built once per run (bulk-inserted with SQLAlchemy
Core, bypassing the use cases; the build time is printed on its own):

- 1M journal lines (500k balanced entries of two lines): the journal list
  (`ListPanel` over `list_queries.JOURNAL_ENTRIES`);
- 1M invoice lines (100k invoices of 10 lines, `bench.sales_bench.build_company`):
  the invoice list (`ListPanel` over `sales_lists.INVOICES`, built with the
  arguments `ui.sales_pages.InvoicesTab` gives it and its default filters: all
  dates, every status).

For each list, in this process, with the window shown (QT_QPA_PLATFORM=offscreen
unless a display is set):

- time to first rows: from building the panel and showing it, to the first
  paint after its first page arrived; against the same window with an empty
  model, built and shown the same way, to its first paint (the ratio is the
  price of the data); best of three, the median in the note;
- jump to the last row: the list started over at the top, then Ctrl+End on
  the table, to the paint after the last page arrived (best of three);
- (invoices) a search typed into the search box: from the last key press to
  the paint of the first matching rows (the 250 ms debounce included; the
  note gives the time from the debounce firing), for a narrow search (one
  customer's invoices: fewer than a page, so the whole list is looked at) and
  a broader one (several pages), then Ctrl+End in the broader result;
- memory after scrolling through every page: Python heap (tracemalloc, on for
  this walk only: it slows every allocation) and RSS, after the first page,
  once the model's page cache (12 pages of 100 rows) is full (the x1.00
  line), half-way and at the end. Flat means the last two stay near the
  first full cache whatever the list's length. RSS also holds SQLite's own
  page cache (`AppConfig.cache_kib`, per connection), which fills as the
  walk reads the file.

Then (unless `--no-startup`) start-up to the main window on the invoice file
(`bench.startup_bench.main_window_figures`): fresh interpreters, launch to the
painted login window and login submit to the main window painted with its
dashboard figures, against a bare QMainWindow launched the same way.

Prints figures and ratios only; nothing is asserted.
`python -m bench.ui_bench [--quick] [--lines N] [--invoices N] [--only journal|invoices]
[--company-dir DIR] [--no-startup]` (quick: 100k journal lines, 10k invoices of
10 lines). `--company-dir` keeps the invoice file in DIR and reuses it on the
next run (for working on the list code; a fresh file otherwise).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Figure, format_table, with_ratios

SECTION_A = "(a) journal list: time to first rows (ms), against an empty-model window"
SECTION_B = "(b) journal list: jump to the last row (Ctrl+End)"
SECTION_C = "(c) journal list: memory while scrolling through every page"
SECTION_D = "(d) invoice list: time to first rows (ms), against an empty-model window"
SECTION_E = "(e) invoice list: jump to the last row (Ctrl+End)"
SECTION_F = "(f) invoice list: memory while scrolling through every page"
SECTION_G = "(g) invoice list: a search typed, to its first rows"
PASSWORD = "bench password 2026"
LISTS = ("journal", "invoices")
NARROW_SEARCH = "01234"  # one customer's name and code, and a few numbers
BROAD_SEARCH = "0123"  # eleven customers and a hundred-odd numbers: several pages


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


# ------------------------------------------------------------------ measuring a list


def _close(panel: Any) -> None:
    panel.close()
    panel.deleteLater()
    _spin(20)


def _first_rows(make_panel: Callable[[], Any], repeat: int = 3) -> tuple[list[float], int]:
    """Build and show a panel `repeat` times: ms to the paint with the first page in."""
    firsts = []
    total = 0
    for _ in range(repeat):
        start = time.perf_counter()
        panel = make_panel()
        paints = _Paints(panel.view.viewport(), lambda p=panel: p.model.is_loaded(0))
        panel.resize(1200, 700)
        panel.show()
        _wait(lambda pt=paints: pt.ready_at is not None)
        firsts.append((paints.ready_at - start) * 1000)  # type: ignore[operator]
        _wait(lambda p=panel: p.model.total is not None)
        total = panel.model.total or 0
        _close(panel)
    return firsts, total


def _jump_to_end(panel: Any) -> tuple[float, int]:
    """Start the shown panel's list over at the top, then Ctrl+End: (ms to the paint
    with the last row, page fetches since the start)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    model, view = panel.model, panel.view
    view.scrollToTop()  # before reloading, so the old end is not painted and asked for
    panel.refresh()
    _wait(lambda: model.is_loaded(0) and model.total is not None)
    before = model.fetches_started
    total = model.total or 0
    view.setFocus()
    view.setCurrentIndex(model.index(0, 0))
    _spin(20)
    end_paints = _Paints(view.viewport(), lambda: model.is_loaded(total - 1))
    start = time.perf_counter()
    QTest.keyClick(view, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
    _wait(lambda: end_paints.ready_at is not None)
    return ((end_paints.ready_at - start) * 1000,  # type: ignore[operator]
            model.fetches_started - before)


def _search(panel: Any, text: str) -> tuple[float, float, int]:
    """Type `text` into the search box: (ms from the last key to the first matching rows
    painted, ms from the debounce firing to that paint, matching rows)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    model = panel.model
    panel.search.setFocus()
    panel.search.clear()
    model.search_now()
    _wait(lambda: model.filters.text == "" and model.is_loaded(0) and model.total is not None)
    _spin(20)
    fired: list[float] = []
    model.modelReset.connect(lambda: fired.append(time.perf_counter()))
    paints = _Paints(panel.view.viewport(),
                     lambda: model.filters.text == text and model.total is not None
                     and (model.total == 0 or model.is_loaded(0)))
    QTest.keyClicks(panel.search, text)
    typed = time.perf_counter()
    _wait(lambda: paints.ready_at is not None)
    shown = paints.ready_at or typed
    debounced = fired[-1] if fired else typed
    model.modelReset.disconnect()
    panel.view.setFocus(Qt.FocusReason.OtherFocusReason)
    return (shown - typed) * 1000, (shown - debounced) * 1000, model.total or 0


def _scroll_memory(panel: Any, section: str, report: Callable[[list[Figure]], None] | None
                   ) -> list[Figure]:
    """Visit every page of the shown panel's list (tracemalloc already started)."""
    model, view = panel.model, panel.view
    # A short window for the walk through every page: the same model and cache,
    # but each frame paints a few rows instead of a screenful.
    panel.resize(1200, 240)
    view.scrollToTop()
    _wait(lambda: model.is_loaded(0) and model.total is not None)
    total = model.total or 0
    heap_first = tracemalloc.get_traced_memory()[0] / 2**10
    rss_first = _rss_mib()
    page = model.page_size
    full_at = model.max_pages * page  # from here on the page cache holds all it may
    half_at = (total // 2) // page * page
    heap_full = rss_full = heap_half = rss_half = 0.0
    started = time.perf_counter()
    for row in range(0, total, page):
        view.scrollTo(model.index(row, 0), view.ScrollHint.PositionAtTop)
        _wait(lambda r=row: model.is_loaded(r))
        if row == full_at:
            heap_full = tracemalloc.get_traced_memory()[0] / 2**10
            rss_full = _rss_mib()
        if row == half_at:
            heap_half = tracemalloc.get_traced_memory()[0] / 2**10
            rss_half = _rss_mib()
    scroll_s = time.perf_counter() - started
    _spin(50)
    heap_all = tracemalloc.get_traced_memory()[0] / 2**10
    rss_all = _rss_mib()
    pages = (total + page - 1) // page
    if not heap_full:  # a list shorter than the cache
        heap_full, rss_full = heap_all, rss_all
    if not heap_half:
        heap_half, rss_half = heap_all, rss_all
    figures = with_ratios([
        Figure(section, "Python heap after the first page", heap_first, "KiB"),
        Figure(section, f"Python heap after {model.max_pages + 1} pages (cache full)",
               heap_full, "KiB"),
        Figure(section, "Python heap after half the pages", heap_half, "KiB"),
        Figure(section, "Python heap after every page", heap_all, "KiB",
               note=f"{pages:,} pages in {scroll_s:.0f} s with tracemalloc on, "
                    f"{len(model.cached_pages)} cached"),
    ], f"Python heap after {model.max_pages + 1} pages (cache full)")
    figures += with_ratios([
        Figure(section, "RSS after the first page", rss_first, "MiB"),
        Figure(section, f"RSS after {model.max_pages + 1} pages (cache full)", rss_full, "MiB"),
        Figure(section, "RSS after half the pages", rss_half, "MiB"),
        Figure(section, "RSS after every page", rss_all, "MiB",
               note="SQLite's page cache fills too (AppConfig.cache_kib per connection)"),
    ], f"RSS after {model.max_pages + 1} pages (cache full)")
    if report is not None:
        report(figures)
    return figures


def _med(samples: list[float]) -> str:
    return f"median {statistics.median(samples):.0f} ms of {len(samples)}"


def _bench_list(label: str, sections: tuple[str, str, str], make_panel: Callable[[], Any],
                noun: str, empty_ms: float, report: Callable[[list[Figure]], None] | None
                ) -> list[Figure]:
    """First rows (against `empty_ms`), Ctrl+End, then memory through every page."""
    first_section, jump_section, memory_section = sections
    warm = make_panel()  # imports, babel's locale data, the SQLite page cache
    warm.show()
    _wait(lambda: warm.model.is_loaded(0) and warm.model.total is not None)
    _close(warm)
    firsts, total = _first_rows(make_panel)
    first_ms = min(firsts)
    figures = with_ratios([
        Figure(first_section, "empty-model window, first paint", empty_ms, "ms"),
        Figure(first_section, f"{label}, first rows painted", first_ms, "ms",
               note=f"{total:,} {noun}; {_med(firsts)}"),
    ], "empty-model window, first paint")
    if report is not None:
        report(figures)

    panel = make_panel()
    panel.resize(1200, 700)
    panel.show()
    jumps = []
    fetches = 0
    for _ in range(3):  # started over each time: nothing of the end cached
        jump_ms, fetches = _jump_to_end(panel)
        jumps.append(jump_ms)
    _close(panel)
    jump = with_ratios([
        Figure(jump_section, "first rows painted (above)", first_ms, "ms"),
        Figure(jump_section, "Ctrl+End to the last row painted", min(jumps), "ms",
               note=f"{fetches} page fetches for the jump; {_med(jumps)}"),
    ], "first rows painted (above)")
    if report is not None:
        report(jump)
    figures += jump

    tracemalloc.start()  # after the timings: tracing slows every allocation
    try:
        panel = make_panel()
        panel.resize(1200, 700)
        panel.show()
        memory = _scroll_memory(panel, memory_section, report)
        _close(panel)
    finally:
        tracemalloc.stop()
    return figures + memory


def _bench_searches(make_panel: Callable[[], Any], first_ms: float,
                    report: Callable[[list[Figure]], None] | None) -> list[Figure]:
    panel = make_panel()
    panel.resize(1200, 700)
    panel.show()
    rows: list[Figure] = [Figure(SECTION_G, "first rows painted, no search (above)", first_ms,
                                 "ms")]
    for text, kind in ((NARROW_SEARCH, "narrow"), (BROAD_SEARCH, "broad")):
        runs = [_search(panel, text) for _ in range(3)]
        typed = [r[0] for r in runs]
        after = [r[1] for r in runs]
        rows.append(Figure(SECTION_G, f"“{text}” typed → first rows painted", min(typed), "ms",
                           note=f"{kind}: {runs[0][2]:,} invoices; {_med(typed)}; "
                                f"{min(after):.0f} ms after the debounce"))
    if panel.model.filters.text == BROAD_SEARCH and \
            (panel.model.total or 0) > panel.model.page_size:  # else no jump to make
        jumps = []
        for _ in range(3):
            jump_ms, _fetches = _jump_to_end(panel)
            jumps.append(jump_ms)
        rows.append(Figure(SECTION_G, f"“{BROAD_SEARCH}”: Ctrl+End to the last row painted",
                           min(jumps), "ms", note=_med(jumps)))
    _close(panel)
    figures = with_ratios(rows, "first rows painted, no search (above)")
    if report is not None:
        report(figures)
    return figures


def _build_invoices(root: Path, invoices: int, keep: Path | None) -> tuple[Path, Path]:
    """(the company file, its folder): built by sales_bench, or the one kept in `keep`."""
    from bench import sales_bench

    folder = keep or root / "invoices"
    path = folder / "Bench Sales.erp"
    if keep is not None and path.exists():
        print(f"  … reusing {path}", file=sys.stderr, flush=True)
        return path, folder
    folder.mkdir(parents=True, exist_ok=True)
    print(f"  … building a company file with {invoices:,} invoices of 10 lines",
          file=sys.stderr, flush=True)
    started = time.perf_counter()
    built, ctx = sales_bench.build_company(folder, invoices, 10)
    ctx.close()
    print(f"  … built in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return built, folder


# ------------------------------------------------------------------ the suite


def run(quick: bool = False, lines: int | None = None, invoices: int | None = None,
        only: list[str] | None = None, company_dir: Path | None = None,
        startup: bool = True, report: Callable[[list[Figure]], None] | None = None
        ) -> list[Figure]:
    """Measure; `report` gets the figures of each section as soon as they exist."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from erp_desktop.services import auth, list_queries, sales_lists
    from erp_desktop.services.context import DeviceInfo
    from erp_desktop.services.listing import ListSource
    from erp_desktop.ui.list_page import ListPanel
    from erp_desktop.ui.main import make_application

    chosen = only or list(LISTS)
    app = make_application([sys.argv[0]])
    lines = lines or (100_000 if quick else 1_000_000)
    invoices = invoices or (10_000 if quick else 100_000)
    root = Path(tempfile.mkdtemp(prefix="erp-ui-bench-"))
    figures: list[Figure] = []
    try:
        _empty_window_ms()  # warm Qt's paths once
        empty_ms = min(_empty_window_ms() for _ in range(3))
        if "journal" in chosen:
            print(f"  … building a company file with {lines:,} journal lines",
                  file=sys.stderr, flush=True)
            started = time.perf_counter()
            path, config = _build(root, lines)
            print(f"  … built in {time.perf_counter() - started:.0f} s", file=sys.stderr,
                  flush=True)
            ctx = auth.login(path, "owner", PASSWORD, config=config,  # type: ignore[arg-type]
                             device=DeviceInfo("bench", "bench", "0"))
            try:
                figures += _bench_list(
                    "journal list", (SECTION_A, SECTION_B, SECTION_C),
                    lambda: ListPanel(ListSource(list_queries.JOURNAL_ENTRIES, ctx),
                                      noun=("entry", "entries")),
                    "entries", empty_ms, report)
            finally:
                ctx.close()
        if "invoices" in chosen:
            from bench import sales_bench

            path, folder = _build_invoices(root, invoices, company_dir)
            ctx = sales_bench._login(path, folder)

            def invoice_panel() -> Any:  # as ui.sales_pages.InvoicesTab builds it
                return ListPanel(ListSource(sales_lists.INVOICES, ctx), locale="en_IN",
                                 noun=("invoice", "invoices"),
                                 search_hint="Search number or customer…")

            try:
                invoice_figures = _bench_list(
                    "invoice list", (SECTION_D, SECTION_E, SECTION_F), invoice_panel,
                    "invoices", empty_ms, report)
                first_ms = next(f.value for f in invoice_figures
                                if f.name == "invoice list, first rows painted")
                figures += invoice_figures
                figures += _bench_searches(invoice_panel, first_ms, report)
            finally:
                ctx.close()
            if startup:
                from bench import startup_bench

                print("  … start-up to the main window: fresh interpreters",
                      file=sys.stderr, flush=True)
                start_figures = startup_bench.main_window_figures(
                    path, "owner", sales_bench.PASSWORD)
                if report is not None:
                    report(start_figures)
                figures += start_figures
        return figures
    finally:
        from PySide6.QtCore import QThreadPool

        QThreadPool.globalInstance().waitForDone(30_000)
        shutil.rmtree(root, ignore_errors=True)
        del app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ui_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="100k journal lines, 10k invoices (100k invoice lines)")
    parser.add_argument("--lines", type=int, help="journal lines to build (default 1M)")
    parser.add_argument("--invoices", type=int,
                        help="invoices of 10 lines to build (default 100k: 1M lines)")
    parser.add_argument("--only", choices=LISTS, action="append",
                        help="measure only this list (may be repeated)")
    parser.add_argument("--company-dir", type=Path,
                        help="keep the invoice company file here and reuse it next time")
    parser.add_argument("--no-startup", action="store_true",
                        help="skip start-up to the main window on the invoice file")
    args = parser.parse_args(argv)

    def report(section: list[Figure]) -> None:  # as each section is done
        print()
        print(format_table(section), flush=True)

    run(quick=args.quick, lines=args.lines, invoices=args.invoices, only=args.only,
        company_dir=args.company_dir, startup=not args.no_startup, report=report)
    print()
    print("ratios are value / the section's x1.00 line")
    return 0


if __name__ == "__main__":
    sys.exit(main())
