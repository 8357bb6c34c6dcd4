"""Inventory at scale: 100k products and 1M stock moves in an encrypted company file.

(a) Product import: `catalogue.import_products` reading a 100k-row CSV (parse,
    validate, write products with their search index and outbox rows, one
    transaction) against two floors, both raw `sqlcipher3` `executemany` of
    ready-made rows into a new file of the same kind (same schema, same
    PRAGMAs): the import's product rows alone (the issue's floor), and every
    row the import wrote (product, search key, FTS row, outbox row with the
    full JSON state, categories), read back from the company file after the
    import. Target: at least 1/3 of the second (docs/decisions/0011).
(b) Counter search over the 100k products (SKU, barcode, name-word prefixes).
    Target: well under 50 ms.
(c) With 1M stock moves (bulk-loaded, balances rebuilt): one product's
    balance plus the first page of its stock card (target under 20 ms), the
    whole low-stock report (target under 500 ms), posting one receipt through
    `inventory.receive_stock` (one transaction, with its journal entry and
    audit event), and, for information, valuation at a past date and
    `verify_stock` over all moves.

Every figure goes through the services a user's click would call (permission
check, session, plain dataclasses back). `python -m bench.inventory_bench
[--quick]` runs it alone (quick: 10k products, 100k moves).
"""

from __future__ import annotations

import argparse
import csv
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench import Figure, format_table, with_ratios
from erp_desktop.domain.barcodes import with_check_digit
from erp_desktop.domain.ids import new_id
from erp_desktop.domain.search import search_text
from erp_desktop.models.base import utcnow
from erp_desktop.models.inventory import Product, StockMove, UnitOfMeasure, Warehouse
from erp_desktop.services import catalogue, inventory
from erp_desktop.services.company import NewAdmin, NewCompany, create_company
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.store.company_file import create_database
from erp_desktop.store.engine import connect_raw
from erp_desktop.store.keyfile import FAST_TEST_KDF

SECTION_A = "(a) product import into an encrypted file"
SECTION_B = "(b) counter search, 100k products (median / p95 of each query kind)"
SECTION_C = "(c) stock queries and posting with 1M moves"

BRANDS = ("Philips", "Havells", "Crompton", "Bajaj", "Usha", "Prestige", "Pigeon", "Finolex",
          "Anchor", "Duracell", "Eveready", "Syska", "Milton", "Borosil", "Godrej", "Wipro",
          "Orient", "Polycab", "Legrand", "Schneider", "Panasonic", "Hindware", "Cello",
          "Butterfly", "Kent", "Eureka", "Voltas", "Blue Star", "Luminous", "Microtek")
ITEMS = ("LED bulb", "LED batten", "ceiling fan", "table fan", "exhaust fan", "mixer grinder",
         "induction cooktop", "electric kettle", "dry iron", "steam iron", "toaster",
         "pressure cooker", "non-stick tawa", "kadai", "steel flask", "water bottle",
         "glass jug", "house wire", "extension board", "MCB", "RCCB", "modular switch",
         "socket", "fan regulator", "door bell", "alkaline battery", "coin cell", "padlock",
         "room heater", "storage geyser", "instant geyser", "beard trimmer", "hair dryer",
         "water purifier", "inverter battery", "UPS", "LED panel", "street light",
         "emergency lamp", "torch", "cooler", "air fryer", "sandwich maker", "rice cooker",
         "juicer", "hand blender", "chimney", "hob", "vacuum cleaner", "wall clock")
SPECS = ("white", "black", "grey", "blue", "red", "silver", "gold", "brown", "ivory", "steel",
         "9W", "12W", "20W", "40W", "750W", "1000W", "1200W", "2000W", "1 litre", "1.5 litre",
         "3 litre", "5 litre", "48 inch", "16 inch", "2.5 sq mm", "4 sq mm", "6A", "16A",
         "32A", "pack of 4", "pack of 10", "deluxe", "pro", "plus", "eco", "smart", "mini")



def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def _timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


@contextmanager
def workdir() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="erp-inventory-bench-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _config(root: Path) -> AppConfig:
    return AppConfig(data_dir=root / "data", backup_dir=root / "backups", kdf=FAST_TEST_KDF,
                     auto_backup=False)


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _company(root: Path) -> Context:
    created = create_company(
        root / "Bench Traders.erp",
        NewCompany(legal_name="Bench Traders Pvt Ltd", state="Karnataka", state_code="29"),
        NewAdmin("owner", "Bench Owner", "correct horse battery"),
        config=_config(root), device=DeviceInfo("bench", "bench", "0.1.0"), clock=_Clock())
    return created.context


# --------------------------------------------------------------------------- data


def product_rows(n: int, seed: int = 7) -> list[tuple[str, ...]]:
    """(sku, name, unit, barcode, category, sale, cost, reorder level, reorder qty)."""
    rnd = random.Random(seed)
    rows = []
    for i in range(n):
        brand, item = rnd.choice(BRANDS), rnd.choice(ITEMS)
        spec = " ".join(rnd.sample(SPECS, 2))
        model = f"{brand[:2].upper()}{rnd.randint(100, 9999)}"
        cost = Decimal(rnd.randint(2000, 900000)) / 100
        sale = (cost * Decimal("1.32")).quantize(Decimal("0.01"))
        level = rnd.choice((0, 5, 10, 20, 50))
        rows.append((f"P{i:06d}", f"{brand} {item} {spec} {model}", "pcs",
                     with_check_digit(f"890{i:09d}"), item.split()[-1].title(), str(sale),
                     str(cost), str(level), str(level * 3)))
    return rows


def write_csv(path: Path, rows: list[tuple[str, ...]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["SKU", "Name", "Unit", "Barcode", "Category", "Sale price",
                    "Purchase price", "Reorder level", "Reorder quantity"])
        w.writerows(rows)


# --------------------------------------------------------------------------- (a) import


def bench_import(root: Path, ctx: Context, n: int) -> tuple[list[Figure], list[tuple[str, ...]]]:
    rows = product_rows(n)
    path = root / "products.csv"
    write_csv(path, rows)

    import_s, import_cpu = _clocked(lambda: catalogue.import_products(ctx, path), n, "created")
    written = _written_by_import(ctx)
    pragmas = _company_pragmas(ctx)
    _settle(ctx)
    product_s, product_cpu = _clocked(lambda: _raw_products_only(root, written, pragmas))
    all_s, all_cpu = _clocked(lambda: _raw_everything(root, written, pragmas))
    _settle(ctx)
    # Re-importing the same file updates every product by SKU.
    reimport_s, reimport_cpu = _clocked(lambda: catalogue.import_products(ctx, path), n,
                                        "updated")

    def against(seconds: float, cpu: float) -> str:
        return (f"x{product_s / seconds:.2f} of product rows only; by CPU time "
                f"x{all_cpu / cpu:.2f} of all rows, x{product_cpu / cpu:.2f} of product rows")

    figures = [
        Figure(SECTION_A, "raw executemany, product rows only", n / product_s, "rows/s",
               note=f"the issue's floor: the import's product rows, ready-made; "
                    f"{product_cpu:.1f} s CPU"),
        Figure(SECTION_A, "raw executemany, every row an import writes", n / all_s, "rows/s",
               note=f"the target's baseline (0011): the import's own rows (product, search "
                    f"key, FTS, outbox, categories), ready-made; {all_cpu:.1f} s CPU"),
        Figure(SECTION_A, "import_products from CSV", n / import_s, "rows/s",
               note=f"target x0.33 (line above); {against(import_s, import_cpu)}"),
        Figure(SECTION_A, "re-import (update by SKU)", n / reimport_s, "rows/s",
               note=f"same file again: every row an update; {against(reimport_s, reimport_cpu)}"),
    ]
    return with_ratios(figures, "raw executemany, every row an import writes"), rows


def _clocked(fn: Callable[[], object], n: int | None = None, counted: str = "") -> tuple[
        float, float]:
    """Wall and CPU seconds of `fn` (CPU: this thread's, where the import and the raw
    writes run; on a shared machine it moves far less than the wall clock)."""
    wall, cpu = time.perf_counter(), time.thread_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    if counted:
        assert getattr(result, counted) == n, result.summary()  # type: ignore[attr-defined]
    return wall, cpu


@dataclass
class _Written:
    """Every row the first import wrote, as stored, in the order it wrote them."""

    units: list[tuple[object, ...]]
    categories: list[tuple[object, ...]]
    category_outbox: list[tuple[object, ...]]
    products: list[tuple[object, ...]]
    search_keys: list[tuple[object, ...]]
    fts: list[tuple[int, str]]
    product_outbox: list[tuple[object, ...]]


_PRODUCT_COLUMNS = catalogue._PRODUCT_COLS
_UNIT_COLUMNS = ("id", "created_at", "updated_at", "updated_by", "version", "deleted_at", "code",
                 "name", "decimal_places", "active")
_CATEGORY_COLUMNS = ("id", "created_at", "updated_at", "updated_by", "version", "deleted_at",
                     "name", "name_key", "parent_id", "active")
_OUTBOX_COLUMNS = ("id", "created_at", "entity", "entity_id", "op", "version", "payload",
                   "actor_id")


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _written_by_import(ctx: Context) -> _Written:
    """Read back, as stored (driver values, no type processing), what the import wrote."""
    with ctx.db.read() as s:
        conn = s.connection()

        def rows(sql: str) -> list[tuple[object, ...]]:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]

        products = rows(f"SELECT {', '.join(_PRODUCT_COLUMNS)} FROM product ORDER BY rowid")
        name, sku, barcode = (_PRODUCT_COLUMNS.index(c) for c in ("name", "sku", "barcode"))
        keys = dict(rows("SELECT product_id, key FROM product_search_key"))
        return _Written(
            units=rows(f"SELECT {', '.join(_UNIT_COLUMNS)} FROM unit_of_measure"),
            categories=rows(f"SELECT {', '.join(_CATEGORY_COLUMNS)} FROM product_category "
                            "ORDER BY rowid"),
            category_outbox=rows(f"SELECT {', '.join(_OUTBOX_COLUMNS)} FROM outbox "
                                 "WHERE entity = 'product_category' ORDER BY rowid"),
            products=products,
            search_keys=rows("SELECT key, product_id, name_key, active FROM product_search_key "
                             "ORDER BY key"),
            # The FTS table is contentless: its words are the import's search_text again.
            fts=[(keys[p[0]], search_text(p[name], p[sku], p[barcode])) for p in products],
            product_outbox=rows(f"SELECT {', '.join(_OUTBOX_COLUMNS)} FROM outbox "
                                "WHERE entity = 'product' ORDER BY rowid"))


# Connection settings that change what a write costs; the floors copy the company
# connection's values, so that raw and import run under the same PRAGMAs.
_PRAGMAS = ("cache_size", "synchronous", "secure_delete", "foreign_keys", "temp_store",
            "wal_autocheckpoint")


def _fresh_file(root: Path, name: str, written: _Written, pragmas: dict[str, object]) -> object:
    """A new company-schema file, with the import's units, opened like the company file."""
    path = root / name
    key = bytes(range(32))
    create_database(path, key).dispose()
    con = connect_raw(path, key)
    for pragma, value in pragmas.items():
        con.execute(f"PRAGMA {pragma} = {int(value)}")  # type: ignore[call-overload]
    con.executemany(_insert("unit_of_measure", _UNIT_COLUMNS), written.units)
    return con


def _settle(ctx: Context) -> None:
    """Checkpoint the company file's WAL now, untimed, so that no checkpoint of the
    import's pages (a background one, or the next writer's) runs during a floor."""
    raw = ctx.db.engine.raw_connection()  # type: ignore[attr-defined]
    try:
        raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    finally:
        raw.close()


def _company_pragmas(ctx: Context) -> dict[str, object]:
    with ctx.db.read() as s:
        conn = s.connection()
        return {p: conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in _PRAGMAS}


def _raw_products_only(root: Path, written: _Written, pragmas: dict[str, object]) -> float:
    """Seconds for raw executemany of the import's product rows alone (categories and
    units already there), in one transaction: the floor the issue names."""
    con: Any = _fresh_file(root, "raw-products.erp", written, pragmas)
    con.executemany(_insert("product_category", _CATEGORY_COLUMNS), written.categories)
    chunk = catalogue.IMPORT_CHUNK
    sql = _insert("product", _PRODUCT_COLUMNS)
    start = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    for i in range(0, len(written.products), chunk):
        con.executemany(sql, written.products[i:i + chunk])
    con.execute("COMMIT")
    took = time.perf_counter() - start
    con.close()
    return took


def _raw_everything(root: Path, written: _Written, pragmas: dict[str, object]) -> float:
    """Seconds for raw executemany of every row the import wrote, as it wrote them
    (categories and their outbox rows, then per chunk the products, their search
    keys, FTS rows and outbox rows), in one transaction: the like-for-like floor."""
    con: Any = _fresh_file(root, "raw-all.erp", written, pragmas)
    chunk = catalogue.IMPORT_CHUNK
    tables = (
        (_insert("product", _PRODUCT_COLUMNS), written.products),
        ("INSERT INTO product_search_key (key, product_id, name_key, active) "
         "VALUES (?, ?, ?, ?)", written.search_keys),
        ("INSERT INTO product_fts (rowid, words) VALUES (?, ?)", written.fts),
        (_insert("outbox", _OUTBOX_COLUMNS), written.product_outbox),
    )
    start = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    con.executemany(_insert("product_category", _CATEGORY_COLUMNS), written.categories)
    con.executemany(_insert("outbox", _OUTBOX_COLUMNS), written.category_outbox)
    for i in range(0, len(written.products), chunk):
        for sql, data in tables:
            con.executemany(sql, data[i:i + chunk])
    con.execute("COMMIT")
    took = time.perf_counter() - start
    con.close()
    return took


# --------------------------------------------------------------------------- (b) search


def bench_search(ctx: Context, rows: list[tuple[str, ...]]) -> list[Figure]:
    rnd = random.Random(3)
    picks = [rnd.choice(rows) for _ in range(60)]
    kinds: dict[str, list[str]] = {
        "exact SKU": [r[0] for r in picks],
        "exact barcode": [r[3] for r in picks],
        "one word, 3 letters": [r[1].split()[1][:3] for r in picks],
        "two word prefixes": [f"{r[1].split()[0][:4]} {r[1].split()[2][:3]}" for r in picks],
        "model number": [r[1].split()[-1] for r in picks],
    }
    figures = []
    for kind, queries in kinds.items():
        samples = []
        for q in queries:
            start = time.perf_counter()
            page = catalogue.list_products(ctx, q, limit=50)
            samples.append((time.perf_counter() - start) * 1000)
            assert page.rows, q
        figures.append(Figure(SECTION_B, kind, statistics.median(samples), "ms",
                              note=f"p95 {_percentile(samples, 0.95):.1f} ms"))
    samples = _timed(lambda: catalogue.search_products(ctx, picks[0][3]), 30)
    figures.append(Figure(SECTION_B, "counter box (code first, then names)",
                          statistics.median(samples), "ms",
                          note=f"p95 {_percentile(samples, 0.95):.1f} ms"))
    return figures


# --------------------------------------------------------------------------- (c) stock


def load_moves(ctx: Context, n_moves: int, days: int = 730, seed: int = 11) -> int:
    """Bulk-load `n_moves` consistent moves (receipts first, issues at the running
    average, never below zero) spread over `days`, interleaved across products as
    a real shop's would be, then rebuild the balance cache from them."""
    rnd = random.Random(seed)
    with ctx.db.read() as s:
        products = [(r.id, r.purchase_price_minor) for r in s.execute(
            Product.__table__.select().with_only_columns(Product.id,
                                                         Product.purchase_price_minor))]
        warehouses = [w for (w,) in s.execute(Warehouse.__table__.select()
                                              .with_only_columns(Warehouse.id))]
    state: dict[tuple[object, object], list[int]] = {}  # (p, w) -> [qty milli, value minor]
    end = date(2026, 11, 1)
    per_day = max(1, n_moves // days)
    table = StockMove.__table__
    actor = ctx.actor.user_id
    written = 0
    batch: list[dict[str, object]] = []
    with ctx.db.write(actor) as s:
        conn = s.connection()
        for day_no in range(days):
            on = end - timedelta(days=days - day_no)
            for _ in range(per_day):
                pid, cost = rnd.choice(products)
                wid = warehouses[0] if rnd.random() < 0.7 else warehouses[1]
                qty_milli, value = state.setdefault((pid, wid), [0, 0])
                if qty_milli <= 0 or rnd.random() < 0.35:
                    q = rnd.randint(5, 60) * 1000
                    unit = max(1, cost + rnd.randint(-cost // 10 - 1, cost // 10 + 1))
                    v = q * unit // 1000
                    kind = "receipt"
                else:
                    q = -min(qty_milli, rnd.randint(1, 8) * 1000)
                    v = -(value if -q == qty_milli else value * -q // qty_milli)
                    unit = abs(v) * 1000 // abs(q)
                    kind = "issue"
                state[(pid, wid)] = [qty_milli + q, value + v]
                batch.append({"id": new_id(), "created_at": utcnow(), "created_by": actor,
                              "move_date": on, "kind": kind, "product_id": pid,
                              "warehouse_id": wid, "quantity": Decimal(q) / 1000,
                              "unit_cost_minor": unit, "value_minor": v, "currency": "INR",
                              "source_type": "bench", "reference": f"B{day_no}"})
                if len(batch) >= 20_000:
                    conn.execute(table.insert(), batch)
                    written += len(batch)
                    batch = []
        if batch:
            conn.execute(table.insert(), batch)
            written += len(batch)
        inventory.rebuild_balances_in_session(s)
    return written


def bench_stock(ctx: Context, rows: list[tuple[str, ...]], n_moves: int) -> list[Figure]:
    start = time.perf_counter()
    written = load_moves(ctx, n_moves)
    load_s = time.perf_counter() - start
    print(f"  … {written:,} stock moves bulk-loaded in {load_s:.0f} s", file=sys.stderr,
          flush=True)
    rnd = random.Random(5)
    skus = [rnd.choice(rows)[0] for _ in range(200)]

    def card(sku: str) -> None:
        inventory.get_stock(ctx, sku)
        inventory.stock_card(ctx, sku, limit=100)

    samples = []
    for sku in skus:
        t = time.perf_counter()
        card(sku)
        samples.append((time.perf_counter() - t) * 1000)
    figures = [Figure(SECTION_C, "one product: balance + stock card page 1",
                      statistics.median(samples), "ms",
                      note=f"p95 {_percentile(samples, 0.95):.1f} ms; target < 20 ms")]
    low_samples = _timed(lambda: inventory.low_stock(ctx), 5)
    n_low = len(inventory.low_stock(ctx))
    figures.append(Figure(SECTION_C, "low-stock report, whole catalogue",
                          statistics.median(low_samples), "ms",
                          note=f"{n_low:,} rows; target < 500 ms"))
    soh = _timed(lambda: inventory.stock_on_hand(ctx, limit=500), 5)
    figures.append(Figure(SECTION_C, "stock on hand, first page of 500",
                          statistics.median(soh), "ms"))
    post = []
    for i in range(100):
        sku = skus[i % len(skus)]
        t = time.perf_counter()
        inventory.receive_stock(ctx, "W1", [inventory.ReceiptLine(sku, 5, "10.00")])
        post.append((time.perf_counter() - t) * 1000)
    figures.append(Figure(SECTION_C, "post one receipt (moves, entry, audit)",
                          statistics.median(post), "ms",
                          note=f"p95 {_percentile(post, 0.95):.1f} ms; synchronous=FULL"))
    today = _timed(lambda: inventory.valuation(ctx), 3)
    figures.append(Figure(SECTION_C, "valuation today", statistics.median(today), "ms",
                          note="the balances: the floor for a report of every product"))
    past = _timed(lambda: inventory.valuation(ctx, date(2025, 11, 1)), 1)
    figures.append(Figure(SECTION_C, "valuation a year back (half the moves)", past[0], "ms",
                          note="summed forward from the moves up to the day"))
    month_end = _timed(lambda: inventory.valuation(ctx, date(2026, 9, 30)), 3)
    figures.append(Figure(SECTION_C, "valuation at last month-end", statistics.median(month_end),
                          "ms", note="the balances less the moves since"))
    check = _timed(lambda: inventory.verify_stock(ctx), 1)
    ok = inventory.verify_stock(ctx).ok
    figures.append(Figure(SECTION_C, "verify_stock (rebuild from all moves)", check[0], "ms",
                          note="balances agree" if ok else "DIFFERENCES FOUND"))
    return figures


def run(quick: bool = False) -> list[Figure]:
    n_products = 10_000 if quick else 100_000
    n_moves = 100_000 if quick else 1_000_000
    with workdir() as root:
        ctx = _company(root)
        try:
            with ctx.db.write(ctx.actor.user_id) as s:
                s.add(UnitOfMeasure(code="pcs", name="Pieces", decimal_places=0))
            inventory.create_warehouse(ctx, "W1", "Main warehouse")
            inventory.create_warehouse(ctx, "W2", "Second warehouse")
            print(f"  … importing {n_products:,} products", file=sys.stderr, flush=True)
            figures, rows = bench_import(root, ctx, n_products)
            figures += bench_search(ctx, rows)
            figures += bench_stock(ctx, rows, n_moves)
        finally:
            ctx.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inventory_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="10k products and 100k moves instead of 100k and 1M")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    figures = run(quick=args.quick)
    print(format_table(figures))
    print(f"\nratios are value / the section's x1.00 line; took "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
