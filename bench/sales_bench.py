"""Sales at scale: issuing, printing and finding invoices in an encrypted company file.

(a) Issuing on a file that already holds 100k invoices (1M lines): a batch of
    5-line drafts through `sales.issue_invoices` (number, stock moves at
    moving average, tax breakdown, one balanced journal entry and an audit
    event per invoice, one transaction), against the floor: raw `sqlcipher3`
    `executemany` of exactly the rows the service inserted, into a copy of the
    file taken just before. Then one invoice at the counter (`sales.sell`:
    draft, issue and cash payment in one call): median and p95.
(b) PDF: a 5-line A4 invoice through `documents.invoice.render_invoice`,
    against a bare reportlab page drawing the same text in the same embedded
    font, and against WeasyPrint rendering an equivalent HTML invoice (when
    it is installed: `pip install weasyprint`, a bench-only extra). Also a
    batch into one PDF. All in this process: never a process per invoice.
(c) With 1M invoice lines: the invoice list's first page, lookup by number,
    a customer's invoices, and the receivables reports (ageing, a month's
    sales register and tax summary), each encrypted against the same file
    exported unencrypted (ratio), through the same services.

In (a) the notes also give SQL statements per invoice (counted with
SQLAlchemy's `before_cursor_execute`; an executemany counts once), and the
counter sale is shown against the commit floor of this disk: a `BEGIN
IMMEDIATE`, one tiny insert and a `COMMIT` under the company PRAGMAs (WAL,
`synchronous=FULL`: one fsync). The app checkpoints the WAL in a background
thread (docs/decisions/0031), so the floors run with the writers' PRAGMAs
(their automatic checkpoint mark included: no checkpoint at COMMIT on either
side), and the counter is timed after the batch's pages are checkpointed.

`python -m bench.sales_bench [--quick] [--only issue|pdf|lookups]`
(quick: 10k invoices, 100k lines).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event

from bench import Figure, format_table, with_ratios
from erp_desktop.domain.ids import new_id
from erp_desktop.models.base import utcnow
from erp_desktop.models.database import Database
from erp_desktop.models.sales import Customer, DocumentTax, Invoice, InvoiceLine
from erp_desktop.services import auth, catalogue, customers, inventory, invoice_pdf, sales, taxes
from erp_desktop.services.catalogue import ProductInput
from erp_desktop.services.company import NewAdmin, NewCompany, create_company
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.services.inventory import ReceiptLine
from erp_desktop.services.sales import LineIn
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.engine import WRITER_AUTOCHECKPOINT_PAGES, connect_raw
from erp_desktop.store.keyfile import FAST_TEST_KDF

SECTION_A = "(a) issuing 5-line invoices, file with {n:,} invoices"
SECTION_A2 = "(a) one invoice at the counter (sell: draft, issue, cash payment)"
SUITES = ("issue", "pdf", "lookups")
SECTION_B = "(b) PDF invoices, 5 lines, A4"
SECTION_C = "(c) list, lookups and reports with {n:,} invoice lines (median of runs)"
PASSWORD = "correct horse battery"
ISSUED_TABLES = ("invoice", "invoice_line", "document_tax", "stock_move", "journal_entry",
                 "journal_line", "audit_event", "outbox")


def log(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


@contextmanager
def counting_statements(engine: Any) -> Iterator[list[int]]:
    """Count the SQL statements the engine sends (an executemany counts once)."""
    seen = [0]

    def count(*_args: object) -> None:
        seen[0] += 1

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


@contextmanager
def timing_commits(engine: Any) -> Iterator[list[float]]:
    """The wall time (ms) of each COMMIT the engine's connections send (bench only:
    wraps the dialect's do_commit for the duration)."""
    dialect = engine.dialect
    plain = dialect.do_commit
    times: list[float] = []

    def timed(dbapi_connection: Any) -> None:
        start = time.perf_counter()
        plain(dbapi_connection)
        times.append((time.perf_counter() - start) * 1000)

    dialect.do_commit = timed
    try:
        yield times
    finally:
        del dialect.do_commit  # the class's method again


def commit_floor_ms(root: Path, key: bytes, repeat: int) -> list[float]:
    """BEGIN IMMEDIATE, one tiny insert, COMMIT: what one durable transaction costs on
    this disk with the company PRAGMAs (WAL, synchronous=FULL)."""
    con = connect_raw(root / "floor-commit.erp", key,
                      autocheckpoint_pages=WRITER_AUTOCHECKPOINT_PAGES)
    try:
        con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
        out = []
        for i in range(repeat + 5):
            start = time.perf_counter()
            con.execute("BEGIN IMMEDIATE")
            con.execute("INSERT INTO t (v) VALUES (?)", (i.to_bytes(16, "big"),))
            con.execute("COMMIT")
            out.append((time.perf_counter() - start) * 1000)
        return out[5:]
    finally:
        con.close()


def _timed_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


@contextmanager
def workdir() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="erp-sales-bench-"))
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


class _Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _config(root: Path) -> AppConfig:
    return AppConfig(data_dir=root / "data", backup_dir=root / "backups", kdf=FAST_TEST_KDF,
                     auto_backup=False)


DEVICE = DeviceInfo("bench", "bench", "0.1.0")


# --------------------------------------------------------------------------- the file


def build_company(root: Path, n_invoices: int, lines_per: int = 10) -> tuple[Path, Context]:
    """A company with products in stock, 2,000 customers and `n_invoices` issued invoices
    (bulk-loaded with SQLAlchemy Core: realistic rows, not through the use cases)."""
    path = root / "Bench Sales.erp"
    clock = _Clock()
    ctx = create_company(path, NewCompany(legal_name="Bench Sales Pvt Ltd", state="Karnataka",
                                          state_code="29", gstin="29AAKCS4821M1ZS"),
                         NewAdmin("owner", "Bench Owner", PASSWORD), config=_config(root),
                         device=DEVICE, clock=clock).context
    taxes.seed_default_taxes(ctx)
    inventory.create_warehouse(ctx, "MAIN", "Main store")
    for i in range(50):
        catalogue.create_product(ctx, ProductInput(
            sku=f"P{i:03d}", name=f"Bench product {i} deluxe model", sale_price="499.00",
            purchase_price="300.00", tax_category=("GST18", "GST12", "GST5")[i % 3],
            hsn_sac="8516"))
    inventory.receive_stock(ctx, "MAIN", [ReceiptLine(f"P{i:03d}", 1_000_000, "300.00")
                                          for i in range(50)])
    start = time.perf_counter()
    load_invoices(ctx, n_invoices, lines_per)
    log(f"{n_invoices:,} invoices and {n_invoices * lines_per:,} lines bulk-loaded in "
        f"{time.perf_counter() - start:.0f} s")
    return path, ctx


def load_invoices(ctx: Context, n: int, lines_per: int, seed: int = 3) -> None:
    rnd = random.Random(seed)
    now = utcnow()
    actor = ctx.actor.user_id
    with ctx.db.read() as s:
        products = [(p.id, p.sku, p.name, p.tax_category_id) for p in s.execute(
            catalogue.Product.__table__.select())]  # type: ignore[attr-defined]
        rates = {r.code: r for r in taxes._rows(s)}
    entity = {"created_at": now, "updated_at": now, "updated_by": actor, "version": 1,
              "deleted_at": None}
    customers = []
    for i in range(2000):
        state = ("Karnataka", "29") if i % 4 else ("Maharashtra", "27")
        customers.append({**entity, "id": new_id(), "code": f"B{i:05d}",
                          "name": f"Bench customer {i:05d}", "name_key": f"bench customer {i:05d}",
                          "is_walk_in": False, "country": "IN", "state": state[0],
                          "state_code": state[1], "payment_terms_days": 30, "currency": "INR",
                          "active": True})
    start_day = date(2025, 4, 1)
    with ctx.db.write(actor) as s:
        conn = s.connection()
        conn.execute(Customer.__table__.insert(), customers)
        inv_rows: list[dict[str, Any]] = []
        line_rows: list[dict[str, Any]] = []
        tax_rows: list[dict[str, Any]] = []

        def flush() -> None:
            conn.execute(Invoice.__table__.insert(), inv_rows)
            conn.execute(InvoiceLine.__table__.insert(), line_rows)
            conn.execute(DocumentTax.__table__.insert(), tax_rows)
            inv_rows.clear()
            line_rows.clear()
            tax_rows.clear()

        for k in range(n):
            c = customers[rnd.randrange(len(customers))]
            inter = c["state_code"] != "29"
            day = start_day + timedelta(days=k * 580 // max(n, 1))
            inv_id = new_id()
            taxable = tax = 0
            per_rate: dict[str, list[int]] = {}
            for no in range(1, lines_per + 1):
                pid, sku, name, _cat = products[rnd.randrange(len(products))]
                rate = ("GST18", "GST12", "GST5")[int(sku[1:]) % 3]
                pct = int(rate[3:])
                qty = rnd.randint(1, 4)
                value = qty * 49900
                t = value * pct // 100
                taxable += value
                tax += t
                agg = per_rate.setdefault(rate, [0, 0])
                agg[0] += value
                agg[1] += t
                comps = [["IGST", "IGST", str(pct), t]] if inter else \
                    [["CGST", "CGST", str(pct / 2), t // 2], ["SGST", "SGST", str(pct / 2),
                                                              t - t // 2]]
                line_rows.append({**entity, "id": new_id(), "invoice_id": inv_id,
                                  "line_no": no, "product_id": pid, "description": name,
                                  "hsn_sac": "8516", "quantity": Decimal(qty), "unit": "pcs",
                                  "currency": "INR", "unit_price_minor": 49900,
                                  "tax_rate_code": rate, "tax_rate_pct": Decimal(pct),
                                  "gross_minor": value, "line_discount_minor": 0,
                                  "doc_discount_minor": 0, "taxable_minor": value,
                                  "tax_minor": t, "total_minor": value + t,
                                  "tax_detail": json.dumps(comps), "cost_minor": qty * 30000})
            for rate, (tx_val, tx) in per_rate.items():
                comps = [("IGST", tx)] if inter else [("CGST", tx // 2), ("SGST", tx - tx // 2)]
                for code, amount in comps:
                    tax_rows.append({"id": new_id(), "created_at": now, "created_by": actor,
                                     "doc_type": "invoice", "doc_id": inv_id, "doc_date": day,
                                     "currency": "INR", "rate_code": rate,
                                     "rate_name": rates[rate].name, "kind": "gst",
                                     "rate_pct": Decimal(rate[3:]), "component_code": code,
                                     "component_name": code,
                                     "component_rate_pct": Decimal(rate[3:]) / (
                                         1 if code == "IGST" else 2),
                                     "taxable_minor": tx_val, "tax_minor": amount,
                                     "account_id": None})
            total = taxable + tax
            status = "paid" if rnd.random() < 0.9 else "issued"
            inv_rows.append({**entity, "id": inv_id, "number": f"INV/2025-26/B/{k + 1:06d}",
                             "status": status, "customer_id": c["id"], "invoice_date": day,
                             "due_date": day + timedelta(days=30), "currency": "INR",
                             "prices_include_tax": False, "bill_to_name": c["name"],
                             "place_of_supply": c["state"],
                             "place_of_supply_code": c["state_code"], "inter_state": inter,
                             "rounding_level": "line", "rounding_mode": "half_up",
                             "round_off": False, "gross_minor": taxable, "discount_minor": 0,
                             "taxable_minor": taxable, "tax_minor": tax, "round_off_minor": 0,
                             "total_minor": total,
                             "paid_minor": total if status == "paid" else 0,
                             "credited_minor": 0, "cost_minor": 0, "issued_at": now,
                             "issued_by": actor, "device_code": "B",
                             "credit_limit_exceeded": False})
            if len(inv_rows) >= 5000:
                flush()
        if inv_rows:
            flush()


def _copy_file(src: Path, dst: Path) -> None:
    for s_, d in zip(sidecar_paths(src), sidecar_paths(dst), strict=True):
        if s_.exists():
            shutil.copyfile(s_, d)


def _login(path: Path, root: Path) -> Context:
    return auth.login(path, "owner", PASSWORD, config=_config(root), device=DEVICE,
                      clock=_Clock())


# --------------------------------------------------------------------------- (a) issuing


def bench_issue(root: Path, path: Path, ctx: Context, batch: int, counter: int,
                n_invoices: int) -> tuple[list[Figure], Context]:
    walk = ctx
    customer = customers.walk_in_customer(walk).id
    lines = [LineIn(f"P{i:03d}", 2) for i in (1, 7, 12, 20, 33)]
    drafts = [sales.create_draft(ctx, customer, lines).id for _ in range(batch)]
    key = ctx.vault.db_key
    ctx.close()
    floor = root / "floor.erp"
    _copy_file(path, floor)
    con = connect_raw(path, key)
    marks = {t: con.execute(f"SELECT coalesce(max(rowid), 0) FROM {t}").fetchone()[0]
             for t in ISSUED_TABLES}
    con.close()
    ctx = _login(path, root)
    with counting_statements(ctx.db.engine) as statements:
        start = time.perf_counter()
        done = sales.issue_invoices(ctx, drafts)
        service_s = time.perf_counter() - start
    assert len(done.numbers) == batch

    # the floor: the same rows, raw executemany into the copy taken before the batch
    con = connect_raw(path, key)
    rows: dict[str, tuple[list[str], list[tuple[Any, ...]]]] = {}
    for t in ISSUED_TABLES:
        cur = con.execute(f"SELECT * FROM {t} WHERE rowid > ?", (marks[t],))
        rows[t] = ([d[0] for d in cur.description], cur.fetchall())
    con.close()
    written = sum(len(r) for _, r in rows.values())
    # the writers' PRAGMAs (their automatic checkpoint mark too: the app checkpoints in a
    # background thread, so neither side pays a checkpoint at its COMMIT)
    fcon = connect_raw(floor, key, autocheckpoint_pages=WRITER_AUTOCHECKPOINT_PAGES)
    start = time.perf_counter()
    fcon.execute("BEGIN IMMEDIATE")
    for t in ("invoice", "journal_entry", "invoice_line", "document_tax", "stock_move",
              "journal_line", "audit_event", "outbox"):
        cols, data = rows[t]
        if t == "invoice":  # the drafts exist in the copy: their issued state replaces them
            fcon.executemany("DELETE FROM invoice_line WHERE invoice_id = ?",
                             [(r[cols.index("id")],) for r in data])
            fcon.executemany("DELETE FROM invoice WHERE id = ?",
                             [(r[cols.index("id")],) for r in data])
        if data:
            fcon.executemany(f"INSERT OR REPLACE INTO {t} ({', '.join(cols)}) VALUES "
                             f"({', '.join('?' for _ in cols)})", data)
    fcon.execute("COMMIT")
    floor_s = time.perf_counter() - start
    fcon.close()
    section = SECTION_A.format(n=n_invoices)
    figs = with_ratios([
        Figure(section, "raw sqlcipher3 executemany of the same rows (floor)", batch / floor_s,
               "invoices/s", note=f"{written / batch:.0f} rows per invoice"),
        Figure(section, "sales.issue_invoices, one transaction", batch / service_s,
               "invoices/s", note=f"{batch} invoices: number, 5 stock moves, tax rows, "
                                  f"journal entry, audit; {statements[0] / batch:.1f} SQL "
                                  "statements per invoice; target >= 300/s"),
    ], "raw sqlcipher3 executemany of the same rows (floor)")

    # at the counter
    def one_sale() -> None:
        sales.sell(ctx, lines, customer=customer, payment_method="cash")

    # The batch left its pages in the WAL; the background checkpointer would copy them
    # while the counter is timed (the old code's batch paid that checkpoint at its own
    # COMMIT). Checkpoint them first: the counter is timed in its steady state.
    settle = connect_raw(path, key)
    settle.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    settle.close()
    for _ in range(5):
        one_sale()
    with counting_statements(ctx.db.engine) as statements, \
            timing_commits(ctx.db.engine) as commits:
        samples = _timed_ms(one_sale, counter)
    floor_ms = commit_floor_ms(root, key, max(counter, 100))
    figs += with_ratios([
        Figure(SECTION_A2, "commit floor: BEGIN IMMEDIATE, 1 tiny insert, COMMIT (median)",
               statistics.median(floor_ms), "ms",
               note=f"p95 {_pct(floor_ms, 0.95):.2f} ms; WAL, synchronous=FULL: one fsync"),
        Figure(SECTION_A2, "sell, median", statistics.median(samples), "ms",
               note=f"{statements[0] / counter:.0f} SQL statements per sale"),
        Figure(SECTION_A2, "sell, p95", _pct(samples, 0.95), "ms",
               note=f"{counter} sales; target p95 < 20 ms"),
        Figure(SECTION_A2, "  of which its COMMIT, median", statistics.median(commits), "ms",
               note=f"p95 {_pct(commits, 0.95):.1f} ms: the sale's pages to the WAL, "
                    "fsync (checkpoints run in a background thread)"),
    ], "commit floor: BEGIN IMMEDIATE, 1 tiny insert, COMMIT (median)")
    return figs, ctx


# --------------------------------------------------------------------------- (b) PDF


def _doc_texts(doc: Any) -> list[str]:
    texts = [doc.company.trade_name or doc.company.legal_name, doc.company.legal_name,
             *doc.company.address_lines, doc.company.tax_line or "", doc.title, doc.number,
             "BILL TO", doc.customer.name, *doc.customer.address_lines, *doc.customer.tax_ids]
    for k, v in doc.details:
        texts += [k, v]
    texts += ["#", "Description", "HSN/SAC", "Qty", "Unit", "Price", "Disc.", "Tax", "Amount"]
    for ln in doc.lines:
        texts += [str(ln.no), ln.description, ln.hsn_sac or "", ln.quantity, ln.unit or "",
                  str(ln.unit_price), str(ln.discount), ln.tax_rate, str(ln.tax),
                  str(ln.amount)]
    for r in doc.tax_rows:
        texts += [r.label, r.rate, str(r.taxable), str(r.tax)]
    for t in doc.totals:
        texts += [t.label, str(t.amount)]
    texts += ["Total", str(doc.grand_total), doc.amount_in_words, doc.status or "",
              *(doc.bank_details or "").splitlines(), *(doc.terms or "").splitlines(),
              doc.footer_note, "Page 1 of 1"]
    return [t for t in texts if t]


def bare_page(texts: list[str]) -> bytes:
    """The baseline: the same strings drawn on one A4 page, same embedded font."""
    import io

    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    from erp_desktop.documents.fonts import register_fonts

    regular, bold = register_fonts()
    out = io.BytesIO()
    c = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    y = A4[1] - 40
    x = 40
    for i, text in enumerate(texts):
        c.setFont(bold if i % 7 == 0 else regular, 8)
        c.drawString(x, y, text[:90])
        x += 130
        if x > A4[0] - 150:
            x, y = 40, y - 11
    c.showPage()
    c.save()
    return out.getvalue()


def html_invoice(doc: Any) -> str:
    from erp_desktop.documents.fonts import FONT_DIR

    def esc(t: object) -> str:
        return str(t).replace("&", "&amp;").replace("<", "&lt;")

    rows = "".join(
        f"<tr><td>{ln.no}</td><td>{esc(ln.description)}</td><td>{esc(ln.hsn_sac or '')}</td>"
        f"<td class=r>{ln.quantity}</td><td>{esc(ln.unit or '')}</td>"
        f"<td class=r>{ln.unit_price}</td><td class=r>{ln.discount}</td>"
        f"<td class=r>{esc(ln.tax_rate)}<br>{ln.tax}</td><td class=r>{ln.amount}</td></tr>"
        for ln in doc.lines)
    taxes_html = "".join(f"<tr><td>{esc(r.label)}</td><td>{esc(r.rate)}</td>"
                         f"<td class=r>{r.taxable}</td><td class=r>{r.tax}</td></tr>"
                         for r in doc.tax_rows)
    totals = "".join(f"<tr><td>{esc(t.label)}</td><td class=r>{t.amount}</td></tr>"
                     for t in doc.totals)
    details = "".join(f"<tr><td>{esc(k)}</td><td><b>{esc(v)}</b></td></tr>"
                      for k, v in doc.details)
    return f"""<html><head><style>
@font-face {{ font-family: DejaVu; src: url('{(FONT_DIR / 'DejaVuSans.ttf').as_uri()}'); }}
@font-face {{ font-family: DejaVu; font-weight: bold;
             src: url('{(FONT_DIR / 'DejaVuSans-Bold.ttf').as_uri()}'); }}
@page {{ size: A4; margin: 16mm; @bottom-right {{ content: "Page " counter(page) " of "
        counter(pages); font: 7.5pt DejaVu; }} }}
body {{ font: 9pt DejaVu; color: #1a1a1a; }} h1 {{ color: #1F4E79; text-align: right; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ padding: 3pt 4pt;
border-bottom: 0.3pt solid #B8C4D0; }} th {{ background: #1F4E79; color: white; }}
.r {{ text-align: right; }}
</style></head><body>
<h2>{esc(doc.company.trade_name or doc.company.legal_name)}</h2>
<p>{'<br>'.join(esc(x) for x in doc.company.address_lines)}<br>{esc(doc.company.tax_line)}</p>
<h1>{esc(doc.title)}<br><small>{esc(doc.number)}</small></h1>
<table><tr><td>BILL TO<br><b>{esc(doc.customer.name)}</b><br>
{'<br>'.join(esc(x) for x in doc.customer.address_lines)}</td>
<td><table>{details}</table></td></tr></table>
<table><thead><tr><th>#</th><th>Description</th><th>HSN/SAC</th><th>Qty</th><th>Unit</th>
<th>Price</th><th>Disc.</th><th>Tax</th><th>Amount</th></tr></thead><tbody>{rows}</tbody>
</table>
<table><tr><td><table>{taxes_html}</table></td><td><table>{totals}
<tr><td><b>Total</b></td><td class=r><b>{doc.grand_total}</b></td></tr></table></td></tr>
</table><p>Amount in words: <b>{esc(doc.amount_in_words)}</b></p>
<p>{esc(doc.status or '')}</p><p>{esc(doc.bank_details or '')}</p>
<p>{esc(doc.terms or '')}</p></body></html>"""


def bench_pdf(ctx: Context, repeat: int) -> list[Figure]:
    from erp_desktop.documents.invoice import render_invoice, render_invoices
    from erp_desktop.services.sales_settings import read_layout

    customer = customers.walk_in_customer(ctx).id
    inv = sales.sell(ctx, [LineIn(f"P{i:03d}", 2) for i in (2, 8, 14, 21, 34)],
                     customer=customer, payment_method="upi", payment_reference="UPI 1")
    with ctx.db.read() as s:
        view = sales.invoice_view_in_session(s, inv.invoice.id)
        doc = invoice_pdf.invoice_doc(invoice_pdf._company(s), read_layout(s), view)
    texts = _doc_texts(doc)
    render_invoice(doc)  # warm: fonts registered, babel loaded
    bare_page(texts)
    # interleaved, so that load from elsewhere on the machine hits both alike
    ours_ms: list[float] = []
    bare_ms: list[float] = []
    for _ in range(repeat):
        ours_ms += _timed_ms(lambda: render_invoice(doc), 1)
        bare_ms += _timed_ms(lambda: bare_page(texts), 1)
    ours, bare = statistics.median(ours_ms), statistics.median(bare_ms)
    batch_n = max(10, repeat)
    start = time.perf_counter()
    render_invoices(iter([doc] * batch_n))
    batch_s = time.perf_counter() - start
    figs = [Figure(SECTION_B, "bare reportlab page, same text and font (baseline)",
                   1000 / bare, "PDFs/s"),
            Figure(SECTION_B, "render_invoice (A4, full layout)", 1000 / ours, "PDFs/s",
                   note="target within 1.5x of the bare page"),
            Figure(SECTION_B, f"render_invoices, {batch_n} in one PDF", batch_n / batch_s,
                   "PDFs/s")]
    try:
        import weasyprint  # a bench-only extra
    except ImportError:
        weasy_note = "WeasyPrint is not installed (pip install weasyprint): not compared"
        figs = with_ratios(figs, "bare reportlab page, same text and font (baseline)")
        figs.append(Figure(SECTION_B, "WeasyPrint, equivalent HTML", 0.0, "PDFs/s",
                           note=weasy_note))
        return figs
    html = html_invoice(doc)
    weasyprint.HTML(string=html).write_pdf()
    weasy = statistics.median(_timed_ms(lambda: weasyprint.HTML(string=html).write_pdf(),
                                        max(3, repeat // 10)))
    figs.append(Figure(SECTION_B, f"WeasyPrint {weasyprint.__version__}, equivalent HTML",
                       1000 / weasy, "PDFs/s",
                       note=f"render_invoice is {weasy / ours:.1f}x faster (target >= 10x)"))
    return with_ratios(figs, "bare reportlab page, same text and font (baseline)")


# --------------------------------------------------------------------------- (c) lookups


def plain_twin(path: Path, key: bytes, root: Path) -> Path:
    plain = root / "plain.sqlite"
    con = connect_raw(path, key)
    con.execute(f"ATTACH DATABASE '{plain}' AS plaintext KEY ''")
    con.execute("SELECT sqlcipher_export('plaintext')")
    con.execute("DETACH DATABASE plaintext")
    con.close()
    return plain


def plain_database(plain: Path, cache_kib: int) -> Database:
    engine = create_engine(f"sqlite+pysqlite:///{plain}", module=sqlite3)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_con: Any, _record: Any) -> None:
        dbapi_con.isolation_level = None
        for pragma in ("PRAGMA journal_mode = WAL", "PRAGMA temp_store = MEMORY",
                       f"PRAGMA cache_size = -{cache_kib}", "PRAGMA foreign_keys = ON"):
            dbapi_con.execute(pragma)

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "")
        conn.exec_driver_sql(f"BEGIN {mode}".strip())

    return Database(engine)


def bench_lookups(root: Path, path: Path, ctx: Context, n_lines: int,
                  runs: int) -> list[Figure]:
    plain = plain_twin(path, ctx.vault.db_key, root)
    plain_ctx = replace(ctx, db=plain_database(plain, ctx.config.cache_kib))
    rnd = random.Random(9)
    numbers = [f"INV/2025-26/B/{rnd.randint(1, 9000):06d}" for _ in range(runs)]
    codes = [f"B{rnd.randint(0, 1999):05d}" for _ in range(runs)]
    month = (date(2026, 1, 1), date(2026, 1, 31))
    cases: list[tuple[str, Callable[[Context, int], object]]] = [
        ("invoice list, first page of 50", lambda c, i: sales.list_invoices(c, limit=50)),
        ("lookup by number", lambda c, i: sales.get_invoice(c, numbers[i % len(numbers)])),
        ("a customer's invoices, first page",
         lambda c, i: sales.list_invoices(c, customer=codes[i % len(codes)], limit=50)),
        ("ageing report", lambda c, i: sales.ageing(c, date(2026, 11, 2))),
        ("sales register, one month", lambda c, i: sales.sales_register(c, *month)),
        ("tax summary, one month", lambda c, i: sales.tax_summary(c, *month)),
    ]
    section = SECTION_C.format(n=n_lines)
    figs: list[Figure] = []
    for name, fn in cases:
        per = {}
        for label, c in (("plain", plain_ctx), ("encrypted", ctx)):
            fn(c, 0)  # warm the cache as a running app has
            samples = []
            for i in range(runs):
                start = time.perf_counter()
                fn(c, i)
                samples.append((time.perf_counter() - start) * 1000)
            per[label] = (statistics.median(samples), _pct(samples, 0.95))
        enc, pl = per["encrypted"], per["plain"]
        figs.append(Figure(section, f"{name} (encrypted)", enc[0], "ms", enc[0] / pl[0],
                           f"p95 {enc[1]:.1f} ms; unencrypted {pl[0]:.1f} ms"))
    plain_ctx.db.dispose()
    return figs


# --------------------------------------------------------------------------- main


def run(quick: bool = False, only: list[str] | None = None) -> list[Figure]:
    chosen = only or list(SUITES)
    n_invoices = 10_000 if quick else 100_000
    lines_per = 10
    with workdir() as root:
        log(f"building a company file with {n_invoices:,} invoices")
        path, ctx = build_company(root, n_invoices, lines_per)
        figs: list[Figure] = []
        if "issue" in chosen:
            figs, ctx = bench_issue(root, path, ctx, batch=100 if quick else 300,
                                    counter=50 if quick else 200, n_invoices=n_invoices)
        try:
            if "pdf" in chosen:
                figs += bench_pdf(ctx, repeat=20 if quick else 50)
            if "lookups" in chosen:
                figs += bench_lookups(root, path, ctx, n_invoices * lines_per,
                                      runs=10 if quick else 25)
        finally:
            ctx.close()
    return figs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sales_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="10k invoices (100k lines) instead of 100k (1M)")
    parser.add_argument("--only", choices=SUITES, action="append",
                        help="run only this part: (a) issue, (b) pdf, (c) lookups; "
                             "may be repeated")
    args = parser.parse_args(argv)
    print(format_table(run(quick=args.quick, only=args.only)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
