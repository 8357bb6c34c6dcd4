"""What a full export costs: rows/s and peak Python memory, per format, for invoice lines.

A company file gets N synthetic invoice lines (10 per invoice, written with Core
in one transaction), then `services.export.export_data` writes the
`invoice_line` table as CSV (zip), XLSX and JSON: once timed, once while
`tracemalloc` records the peak of Python allocations (it slows Python code
several times, so rows/s come from the first run). The peak is also taken for
a tenth of the rows: the ratio of the two shows whether memory stays flat as
the table grows (about 1.0: it does; about 10: the table is held in memory).

The XLSX writer is openpyxl's write-only mode, with pure-Python XML unless
lxml is installed: several times slower than CSV and JSON, so a million lines
take many minutes there; `--formats csv json` for a quick look.

    python -m bench.export_bench             # 1,000,000 lines
    python -m bench.export_bench --rows 100000 --formats csv json
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert

from bench import Figure, format_table
from erp_desktop.domain.ids import new_id
from erp_desktop.models.sales import Customer, Invoice, InvoiceLine
from erp_desktop.services import export
from erp_desktop.services.company import NewAdmin, NewCompany, create_company
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.store.keyfile import FAST_TEST_KDF

SECTION = "invoice_line export ({rows:,} rows)"
LINES_PER_INVOICE = 10
BATCH = 20_000


def make_company(root: Path, rows: int) -> Context:
    created = create_company(
        root / f"Bench {rows}.erp",
        NewCompany(legal_name="Bench Traders", country="IN", base_currency="INR",
                   tax_regime="gst", state="Karnataka", state_code="29"),
        NewAdmin("owner", "Bench Owner", "bench password 2026", None),
        config=AppConfig(data_dir=root / "data", backup_dir=root / "backups",
                         kdf=FAST_TEST_KDF, auto_backup=False),
        device=DeviceInfo("bench", sys.platform, "bench"))
    ctx = created.context
    now = datetime.now(UTC)
    entity = {"created_at": now, "updated_at": now, "version": 1, "deleted_at": None}
    with ctx.db.write(ctx.actor.user_id) as s:
        conn = s.connection()
        customer = new_id()
        conn.execute(insert(Customer), [{**entity, "id": customer, "code": "C00001",
                                         "name": "Bench Customer", "name_key": "bench customer",
                                         "country": "IN", "currency": "INR"}])
        invoices = (rows + LINES_PER_INVOICE - 1) // LINES_PER_INVOICE
        inv_ids = [new_id() for _ in range(invoices)]
        for i in range(0, invoices, BATCH):
            conn.execute(insert(Invoice), [
                {**entity, "id": inv_ids[n], "number": f"INV/B/{n + 1:07d}", "status": "issued",
                 "customer_id": customer, "invoice_date": date(2026, 4, 1 + n % 28),
                 "currency": "INR", "bill_to_name": "Bench Customer",
                 "total_minor": 118_000 * LINES_PER_INVOICE}
                for n in range(i, min(i + BATCH, invoices))])
        for i in range(0, rows, BATCH):
            conn.execute(insert(InvoiceLine), [
                {**entity, "id": new_id(), "invoice_id": inv_ids[n // LINES_PER_INVOICE],
                 "line_no": n % LINES_PER_INVOICE + 1, "description": f"Item {n % 997}",
                 "quantity": Decimal(1 + n % 5), "currency": "INR",
                 "unit_price_minor": 100_000 + n % 100, "taxable_minor": 100_000,
                 "tax_minor": 18_000, "total_minor": 118_000, "tax_rate_code": "GST18",
                 "tax_rate_pct": Decimal(18)}
                for n in range(i, min(i + BATCH, rows))])
    return ctx


def timed(ctx: Context, fmt: str, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    result = export.export_data(ctx, fmt, out, tables=["invoice_line"])
    return time.perf_counter() - start, result.rows


def peak_memory(ctx: Context, fmt: str, out: Path) -> int:
    tracemalloc.start()
    try:
        export.export_data(ctx, fmt, out, tables=["invoice_line"])
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--formats", nargs="+", choices=export.FORMATS,
                        default=list(export.FORMATS))
    parser.add_argument("--quick", action="store_true", help="100,000 rows")
    args = parser.parse_args(argv)
    rows = 100_000 if args.quick else args.rows
    # Both sizes span several read batches, so their peaks are comparable.
    small_rows = max(rows // 10, 4 * export.BATCH_ROWS)
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"building companies with {rows:,} and {small_rows:,} invoice lines ...",
              file=sys.stderr)
        big = make_company(root, rows)
        small = make_company(root, small_rows)
        section = SECTION.format(rows=rows)
        try:
            for fmt in args.formats:
                suffix = export.SUFFIXES[fmt]
                seconds, n = timed(big, fmt, root / f"big{suffix}")
                size = (root / f"big{suffix}").stat().st_size / 1e6
                peak = peak_memory(big, fmt, root / f"big-traced{suffix}")
                small_peak = peak_memory(small, fmt, root / f"small{suffix}")
                figures.append(Figure(section, f"{fmt}: rows/s", n / seconds, "rows/s",
                                      note=f"{seconds:.1f} s, {size:,.0f} MB file"))
                figures.append(Figure(section, f"{fmt}: peak memory", peak / 1e6, "MB",
                                      note=f"x{peak / small_peak:.2f} of the peak for "
                                           f"{small_rows:,} rows (flat: about 1)"))
        finally:
            big.close()
            small.close()
    print(format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
