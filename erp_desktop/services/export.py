"""Full data export: every table the user may see, as CSV (zip), XLSX or JSON.

The registry `TABLE_RULES` classifies every table of `Base.metadata`: the
permission needed to see it, the columns that are personal HR data (they also
need `hr.employees.view`), and the local-only tables that are never exported
(secrets, the outbox, the purge guard, the derived search index). A table
without a rule falls back to the view permission of its area by name prefix
(`PREFIX_VIEW`) at run time, and fails `test_every_table_is_classified`, so a
new table cannot reach an export unclassified. An export by a user without HR
rights therefore holds no personal HR data and no salaries: those tables are
skipped, those columns stripped, and the manifest says which and why.

Formats:
- CSV: a zip with one UTF-8 file per table (optionally with a BOM, for Excel)
  and `manifest.json`. Values are exact (money as `*_minor` integers beside
  the currency); text that a spreadsheet would run as a formula is prefixed
  with an apostrophe.
- XLSX: one workbook (openpyxl write-only, inline strings: memory stays flat),
  a `manifest` sheet then a sheet per table with typed cells: numbers as
  numbers, dates as dates, money (`*_minor` + currency) as decimal amounts
  with two decimals, ids as text. A table longer than a sheet continues on
  `name (2)`.
- JSON: one document (`schema_version`), written row by row: a header
  (tables, columns, row counts) first, the rows, the manifest (checksums) at
  the end. `services.data_import.import_json_export` restores it.

Every export reads one snapshot (one read transaction) by keyset pages of
`BATCH_ROWS`, reports `progress(done, total, table)`, honours `cancelled()`,
writes a temporary file renamed into place only when complete, and is audited
with its scope (format, tables, whether HR data was included), never content.
Checksums: `sha256` of each table's header and rows as canonical JSON lines
(the values before formatting, so the same snapshot has the same checksum in
every format), and for CSV also the sha256 of each file's bytes.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import io
import json
import os
import re
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Integer,
    LargeBinary,
    String,
    Table,
    func,
    literal,
    select,
)
from sqlalchemy import tuple_ as sql_tuple
from sqlalchemy.orm import Session

import erp_desktop
import erp_desktop.models.all  # registers every table on Base.metadata
from erp_desktop.domain.errors import UserError, ValidationError
from erp_desktop.domain.money import from_minor
from erp_desktop.models.base import Base, QuantityType, UTCDateTime, UUIDType
from erp_desktop.models.changes import to_jsonable
from erp_desktop.models.company import Company
from erp_desktop.services import audit
from erp_desktop.services.context import Context
from erp_desktop.store import migrate

FORMATS = ("csv", "xlsx", "json")
SUFFIXES = {"csv": ".zip", "xlsx": ".xlsx", "json": ".json"}
FORMAT_NAME = "erp_desktop.export"
SCHEMA_VERSION = 1
BATCH_ROWS = 5000
XLSX_MAX_ROWS = 1_048_575  # a sheet's rows, less the header
XLSX_MAX_TEXT = 32_767  # characters a spreadsheet cell holds
HR_VIEW = "hr.employees.view"
PAYROLL_VIEW = "hr.payroll.view"

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class TableRule:
    """Who may see a table in an export, and which of its columns are personal HR data.

    `view` None: a local-only table, never exported (`note` says why).
    `personal`: columns left out unless the user also has `hr.employees.view`.
    `restore`: whether `import_json_export` writes it into the new file.
    """

    view: str | None
    personal: frozenset[str] = frozenset()
    restore: bool = True
    note: str = ""

    @property
    def local_only(self) -> bool:
        return self.view is None


def _r(view: str | None, *, personal: Sequence[str] = (), restore: bool = True,
       note: str = "") -> TableRule:
    return TableRule(view, frozenset(personal), restore, note)


_PAYSLIP_PERSONAL = ("employee_name", "department", "designation", "tax_id_masked",
                     "bank_account_masked")

TABLE_RULES: dict[str, TableRule] = {
    # company and administration
    "company": _r("company.view"),
    "branch": _r("company.view"),
    "device": _r("company.view"),
    "setting": _r("company.view"),
    "number_series": _r("company.view"),
    "role": _r("roles.view"),
    "app_user": _r("users.view"),
    "audit_event": _r("audit.view", restore=False,
                      note="the new file keeps its own audit trail; the old one stays in the "
                           "export"),
    "audit_anchor": _r("audit.view", restore=False, note="belongs to the old audit trail"),
    "login_event": _r("audit.view", restore=False, note="belongs to the old audit trail"),
    "local_secret": _r(None, note="secrets that never leave the encrypted file"),
    "outbox": _r(None, note="the sync queue of this computer"),
    "audit_purge_guard": _r(None, note="empty outside a retention purge"),
    "reference_epoch": _r(None, note="a counter that tells this file's caches when "
                                     "reference data changed"),
    # accounting and taxes
    "account": _r("ledger.view"),
    "journal_entry": _r("ledger.view"),
    "journal_line": _r("ledger.view"),
    "tax_rate": _r("company.view"),
    "tax_component": _r("company.view"),
    "tax_category_rate": _r("company.view"),
    # inventory
    "tax_category": _r("inventory.view"),
    "unit_of_measure": _r("inventory.view"),
    "product_category": _r("inventory.view"),
    "product": _r("inventory.view"),
    "product_search_key": _r(None, note="keys of the search index derived from products, "
                                        "rebuilt on restore"),
    "warehouse": _r("inventory.view"),
    "stock_move": _r("inventory.view"),
    "stock_balance": _r("inventory.view"),
    "stock_take": _r("inventory.view"),
    "stock_take_line": _r("inventory.view"),
    # purchasing
    "vendor": _r("purchases.view"),
    "purchase_order": _r("purchases.view"),
    "purchase_order_line": _r("purchases.view"),
    "purchase_order_event": _r("purchases.view"),
    "goods_receipt": _r("purchases.view"),
    "vendor_bill": _r("purchases.view"),
    "vendor_bill_line": _r("purchases.view"),
    "debit_note": _r("purchases.view"),
    "debit_note_line": _r("purchases.view"),
    "vendor_payment": _r("purchases.view"),
    "vendor_payment_allocation": _r("purchases.view"),
    # sales
    "price_list": _r("sales.view"),
    "price_list_item": _r("sales.view"),
    "customer": _r("sales.view"),
    "invoice": _r("sales.view"),
    "invoice_line": _r("sales.view"),
    "document_tax": _r("sales.view"),
    "payment": _r("sales.view"),
    "payment_allocation": _r("sales.view"),
    "customer_credit": _r("sales.view"),
    "credit_note": _r("sales.view"),
    "credit_note_line": _r("sales.view"),
    # HR: personal records
    "hr_department": _r(HR_VIEW),
    "hr_job_title": _r(HR_VIEW),
    "hr_employee": _r(HR_VIEW),
    "hr_attachment": _r(HR_VIEW),
    "hr_expense_claim": _r(HR_VIEW),
    "hr_expense_claim_line": _r(HR_VIEW),
    # HR: pay. Company-wide run totals and pay components are not personal.
    "hr_salary_component": _r("hr.payroll.totals"),
    "hr_payroll_run": _r("hr.payroll.totals"),
    "hr_salary_structure": _r(PAYROLL_VIEW),
    "hr_salary_structure_line": _r(PAYROLL_VIEW),
    "hr_payroll_entry": _r(PAYROLL_VIEW),
    "hr_payroll_adjustment": _r(PAYROLL_VIEW),
    "hr_payslip": _r(PAYROLL_VIEW, personal=_PAYSLIP_PERSONAL),
    "hr_payslip_line": _r(PAYROLL_VIEW),
}

# Fallback for a table without a rule (and a failing test): the area's view
# permission by name prefix, most specific first. No match: never exported.
PREFIX_VIEW: tuple[tuple[str, str], ...] = (
    ("hr_payslip", PAYROLL_VIEW), ("hr_salary", PAYROLL_VIEW), ("hr_payroll", PAYROLL_VIEW),
    ("hr_", HR_VIEW), ("journal_", "ledger.view"), ("account", "ledger.view"),
    ("audit_", "audit.view"), ("login_", "audit.view"), ("stock_", "inventory.view"),
    ("product", "inventory.view"), ("warehouse", "inventory.view"),
    ("purchase_", "purchases.view"), ("vendor", "purchases.view"),
    ("goods_", "purchases.view"), ("debit_note", "purchases.view"),
    ("invoice", "sales.view"), ("customer", "sales.view"), ("payment", "sales.view"),
    ("credit_note", "sales.view"), ("price_list", "sales.view"), ("tax_", "company.view"),
)


def rule_for(table_name: str) -> TableRule | None:
    """The table's rule; for an unclassified table the prefix fallback (or None: never)."""
    rule = TABLE_RULES.get(table_name)
    if rule is not None:
        return rule
    for prefix, view in PREFIX_VIEW:
        if table_name.startswith(prefix):
            return TableRule(view, note="not yet classified; by its name's area")
    return None


def unclassified_tables() -> list[str]:
    """Tables of the schema without an explicit rule (a test keeps this empty)."""
    return [t.name for t in Base.metadata.sorted_tables if t.name not in TABLE_RULES]


# --------------------------------------------------------------------------- columns


def column_kind(col: Column[Any]) -> str:
    """How a column's values are written and read back: uuid, datetime, date, qty,
    bool, int, bytes or text."""
    t = col.type
    if isinstance(t, UUIDType):
        return "uuid"
    if isinstance(t, UTCDateTime):
        return "datetime"
    if isinstance(t, QuantityType):
        return "qty"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, Boolean):
        return "bool"
    if isinstance(t, Integer):
        return "int"
    if isinstance(t, LargeBinary):
        return "bytes"
    if isinstance(t, String):
        return "text"
    return "text"


def money_columns(table: Table) -> set[str]:
    """`*_minor` integer columns of a table that has a currency column."""
    if "currency" not in table.c:
        return set()
    return {c.name for c in table.columns
            if c.name.endswith("_minor") and column_kind(c) == "int"}


@dataclass
class TablePlan:
    """One table of one export: which columns, how many rows."""

    table: Table
    columns: list[Column[Any]]
    kinds: list[str]
    stripped: list[str]  # left out: the user may not see them
    omitted: list[str]  # left out of this format (binary content outside JSON)
    rows: int = 0

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


@dataclass(frozen=True)
class SkippedTable:
    name: str
    reason: str


@dataclass(frozen=True)
class ExportScope:
    """What an export by this user would hold (for the UI to show before exporting)."""

    tables: list[str]
    skipped: list[SkippedTable]
    stripped_columns: dict[str, list[str]]
    hr_personal_data: bool
    salaries: bool
    complete: bool  # every exportable table and column is included


@dataclass(frozen=True)
class TableSummary:
    name: str
    rows: int
    columns: list[str]
    sha256: str
    file: str | None = None
    file_sha256: str | None = None


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    tables: list[TableSummary]
    skipped: list[SkippedTable]
    stripped_columns: dict[str, list[str]]
    hr_personal_data: bool
    salaries: bool
    complete: bool
    rows: int
    manifest: dict[str, Any]


class ExportCancelled(UserError):
    """The person cancelled the export; nothing was written."""


def _scope(ctx: Context, fmt: str, only: Sequence[str] | None = None
           ) -> tuple[list[TablePlan], list[SkippedTable]]:
    plans: list[TablePlan] = []
    skipped: list[SkippedTable] = []
    wanted = set(only) if only else None
    for table in Base.metadata.sorted_tables:
        if wanted is not None and table.name not in wanted:
            continue
        rule = rule_for(table.name)
        if rule is None:
            skipped.append(SkippedTable(table.name, "not classified for export"))
            continue
        if rule.local_only:
            continue  # never part of any export: not "skipped" for this user
        if not ctx.actor.can(rule.view or ""):
            skipped.append(SkippedTable(table.name, f"needs the permission {rule.view}"))
            continue
        cols, kinds, stripped, omitted = [], [], [], []
        for col in table.columns:
            if col.name in rule.personal and not ctx.actor.can(HR_VIEW):
                stripped.append(col.name)
                continue
            kind = column_kind(col)
            if kind == "bytes" and fmt != "json":
                omitted.append(col.name)
                continue
            cols.append(col)
            kinds.append(kind)
        plans.append(TablePlan(table, cols, kinds, stripped, omitted))
    if wanted is not None:
        unknown = wanted - {t.name for t in Base.metadata.sorted_tables}
        if unknown:
            raise ValidationError(f"There is no table {', '.join(sorted(unknown))}.",
                                  field="tables")
    return plans, skipped


def _hr_flags(plans: Sequence[TablePlan]) -> tuple[bool, bool]:
    hr = salaries = False
    for p in plans:
        rule = rule_for(p.name)
        if rule is None:
            continue
        if rule.view == HR_VIEW or (rule.personal and not p.stripped):
            hr = True
        if rule.view == PAYROLL_VIEW:
            salaries = True
    return hr, salaries


def export_scope(ctx: Context) -> ExportScope:
    """What `export_data` would include for this user, without reading any row."""
    ctx.require("data.export")
    plans, skipped = _scope(ctx, "json")
    hr, salaries = _hr_flags(plans)
    return ExportScope([p.name for p in plans], skipped,
                       {p.name: p.stripped for p in plans if p.stripped}, hr, salaries,
                       not skipped and not any(p.stripped for p in plans))


# --------------------------------------------------------------------------- reading


def _pk(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns)


def iter_table(s: Session, plan: TablePlan, batch_rows: int = BATCH_ROWS
               ) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows in primary-key order, a keyset page at a time (never all at once).

    Rows hold the exported columns followed by the primary key columns (used
    for the next page and dropped by callers via `len(plan.columns)`).
    """
    pk = _pk(plan.table)
    n = len(plan.columns)
    stmt = select(*plan.columns, *pk).order_by(*pk).limit(batch_rows)
    last: tuple[Any, ...] | None = None
    conn = s.connection()
    while True:
        q = stmt
        if last is not None:
            # Bound with the key columns' own types (a UUID is stored as 16 bytes).
            q = q.where(pk[0] > literal(last[0], pk[0].type)) if len(pk) == 1 else \
                q.where(sql_tuple(*pk) > sql_tuple(*(literal(v, c.type)
                                                      for c, v in zip(pk, last, strict=True))))
        rows = [tuple(r) for r in conn.execute(q)]
        if not rows:
            return
        if rows[-1][n:] == last:
            raise RuntimeError(f"keyset paging of {plan.name} did not advance")
        last = rows[-1][n:]
        yield [r[:n] for r in rows]
        if len(rows) < batch_rows:
            return


def canonical_text(values: Sequence[Any]) -> str:
    """One row (or the header) as canonical JSON: what checksums are taken over, and
    exactly the row as the JSON format writes it."""
    return json.dumps([to_jsonable(v) for v in values], separators=(",", ":"),
                      ensure_ascii=False)


def canonical_line(values: Sequence[Any]) -> bytes:
    return (canonical_text(values) + "\n").encode()


# --------------------------------------------------------------------------- writers


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_text(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "bool":
        return "true" if value else "false"
    if kind == "datetime":
        return value.isoformat()
    if kind == "text":
        text = str(value)
        # A spreadsheet would run "=..." as a formula: keep it text.
        return "'" + text if text.startswith(_FORMULA_START) else text
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


class _Writer:
    """One export format: tables in, one file out."""

    def __init__(self, tmp: Path, bom: bool) -> None:
        self.tmp = tmp
        self.bom = bom

    def begin(self, plans: Sequence[TablePlan], header: dict[str, Any]) -> None: ...

    def begin_table(self, plan: TablePlan) -> None: ...

    def rows(self, plan: TablePlan, rows: list[tuple[Any, ...]], texts: list[str]) -> None:
        ...

    def end_table(self, plan: TablePlan) -> tuple[str | None, str | None]:
        return None, None

    def finish(self, manifest: dict[str, Any]) -> None: ...

    def abort(self) -> None: ...


class _CsvZipWriter(_Writer):
    def begin(self, plans: Sequence[TablePlan], header: dict[str, Any]) -> None:
        self.zf = zipfile.ZipFile(self.tmp, "w", compression=zipfile.ZIP_DEFLATED,
                                  allowZip64=True)

    def begin_table(self, plan: TablePlan) -> None:
        self.file = f"{plan.name}.csv"
        self.entry: IO[bytes] = self.zf.open(self.file, "w", force_zip64=True)
        self.hash = hashlib.sha256()
        self._write([plan.column_names], ["text"] * len(plan.columns),
                    b"\xef\xbb\xbf" if self.bom else b"")

    def _write(self, rows: Sequence[Sequence[Any]], kinds: Sequence[str],
               prefix: bytes = b"") -> None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerows([csv_text(v, k) for v, k in zip(r, kinds, strict=True)] for r in rows)
        data = prefix + buf.getvalue().encode("utf-8")
        self.entry.write(data)
        self.hash.update(data)

    def rows(self, plan: TablePlan, rows: list[tuple[Any, ...]], texts: list[str]) -> None:
        self._write(rows, plan.kinds)

    def end_table(self, plan: TablePlan) -> tuple[str | None, str | None]:
        self.entry.close()
        return self.file, self.hash.hexdigest()

    def finish(self, manifest: dict[str, Any]) -> None:
        self.zf.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        self.zf.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.zf.close()


class _XlsxWriter(_Writer):
    """openpyxl write-only: rows stream to temporary files, strings are inline (no
    shared-strings table growing with every id), so memory stays flat."""

    def begin(self, plans: Sequence[TablePlan], header: dict[str, Any]) -> None:
        from openpyxl import Workbook  # late: openpyxl is slow to import
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.Cell = WriteOnlyCell
        self.bold = Font(bold=True)
        self.wb = Workbook(write_only=True)
        self.manifest_ws = self.wb.create_sheet("manifest")  # first sheet, filled last
        self.taken = {"manifest"}

    def _sheet(self, plan: TablePlan, part: int) -> Any:
        base = plan.name[:31]
        title = base if part == 1 else f"{plan.name[:24]} ({part})"
        while title in self.taken:
            title = f"{title[:28]}_{len(self.taken)}"
        self.taken.add(title)
        ws = self.wb.create_sheet(title)
        header = []
        money = money_columns(plan.table)
        for name in plan.column_names:
            label = name[:-len("_minor")] if name in money else name
            cell = self.Cell(ws, value=label)
            cell.font = self.bold
            header.append(cell)
        ws.append(header)
        return ws

    def begin_table(self, plan: TablePlan) -> None:
        self.part = 1
        self.ws = self._sheet(plan, 1)
        self.in_sheet = 0
        money = money_columns(plan.table)
        cur = plan.column_names.index("currency") if "currency" in plan.column_names else None
        self.money_at = {i for i, n in enumerate(plan.column_names) if n in money} \
            if cur is not None else set()
        self.currency_at = cur

    def _cell(self, value: Any, kind: str, money: bool, currency: str | None) -> Any:
        if value is None:
            return None
        if money and currency:
            cell = self.Cell(self.ws, value=from_minor(value, currency))
            cell.number_format = "#,##0.00"
            return cell
        if kind == "datetime":
            return value.replace(tzinfo=None)  # stored in UTC; Excel has no time zones
        if kind == "uuid":
            return str(value)
        if kind == "text":
            text = str(value)
            if _ILLEGAL_XML.search(text):
                text = _ILLEGAL_XML.sub("", text)
            if len(text) > XLSX_MAX_TEXT:
                text = text[:XLSX_MAX_TEXT]
            if text.startswith("="):
                cell = self.Cell(self.ws, value=text)
                cell.data_type = "s"  # text, never a formula
                return cell
            return text
        return value  # int, qty (Decimal), bool, date: typed cells as they are

    def rows(self, plan: TablePlan, rows: list[tuple[Any, ...]], texts: list[str]) -> None:
        kinds = plan.kinds
        money_at = self.money_at
        cur = self.currency_at
        for r in rows:
            if self.in_sheet >= XLSX_MAX_ROWS:
                self.part += 1
                self.ws = self._sheet(plan, self.part)
                self.in_sheet = 0
            currency = r[cur] if cur is not None else None
            self.ws.append([self._cell(v, kinds[i], i in money_at, currency)
                            for i, v in enumerate(r)])
            self.in_sheet += 1

    def finish(self, manifest: dict[str, Any]) -> None:
        ws = self.manifest_ws
        for key in ("format", "schema_version", "export_format", "company", "created_at",
                    "created_by", "app_version", "schema_revision", "complete",
                    "hr_personal_data", "salaries"):
            ws.append([key, json.dumps(manifest.get(key), ensure_ascii=False)
                       if isinstance(manifest.get(key), (dict, list, bool)) or
                       manifest.get(key) is None else manifest.get(key)])
        ws.append([])
        ws.append(["table", "rows", "sha256", "stripped columns", "omitted columns"])
        for t in manifest["tables"]:
            ws.append([t["name"], t["rows"], t["sha256"], ", ".join(t["stripped_columns"]),
                       ", ".join(t["omitted_columns"])])
        for sk in manifest["skipped"]:
            ws.append([sk["name"], None, None, f"not exported: {sk['reason']}"])
        self.wb.save(self.tmp)

    def abort(self) -> None:
        # Saving is the public way to finish the sheets' streams and remove their
        # temporary files; the caller deletes the partial workbook.
        with contextlib.suppress(Exception):
            self.wb.save(self.tmp)


class _JsonWriter(_Writer):
    """One JSON document, written as it goes: header, data (a row per line), manifest."""

    def begin(self, plans: Sequence[TablePlan], header: dict[str, Any]) -> None:
        self.fh = open(self.tmp, "w", encoding="utf-8", newline="\n")
        self.fh.write('{"format":' + json.dumps(FORMAT_NAME) + ',"schema_version":'
                      + str(SCHEMA_VERSION) + ',\n"header":'
                      + json.dumps(header, ensure_ascii=False) + ',\n"data":{')
        self.first_table = True

    def begin_table(self, plan: TablePlan) -> None:
        self.fh.write(("\n" if self.first_table else ",\n") + json.dumps(plan.name)
                      + ':{"columns":' + json.dumps(plan.column_names) + ',"rows":[')
        self.first_table = False
        self.first_row = True

    def rows(self, plan: TablePlan, rows: list[tuple[Any, ...]], texts: list[str]) -> None:
        if not texts:
            return
        self.fh.write(("\n" if self.first_row else ",\n") + ",\n".join(texts))
        self.first_row = False

    def end_table(self, plan: TablePlan) -> tuple[str | None, str | None]:
        self.fh.write("\n]}")
        return None, None

    def finish(self, manifest: dict[str, Any]) -> None:
        self.fh.write('\n},\n"manifest":' + json.dumps(manifest, ensure_ascii=False) + "}\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()


_WRITERS: dict[str, type[_Writer]] = {"csv": _CsvZipWriter, "xlsx": _XlsxWriter,
                                      "json": _JsonWriter}


# --------------------------------------------------------------------------- export


def _check_target(fmt: str, path: Path) -> Path:
    if fmt not in FORMATS:
        raise ValidationError(f"Export as {', '.join(FORMATS)}; '{fmt}' is not one of them.",
                              field="format")
    path = Path(path).expanduser()
    suffix = SUFFIXES[fmt]
    if path.suffix.lower() != suffix:
        raise ValidationError(f"A {fmt.upper()} export is a {suffix} file; name it for "
                              f"example {path.stem or 'export'}{suffix}.", field="path")
    if path.exists():
        raise ValidationError(f"{path} already exists; choose a new file name (an export "
                              "never replaces a file).", field="path")
    if not path.parent.is_dir():
        raise ValidationError(f"The folder {path.parent} does not exist.", field="path")
    return path


def export_data(ctx: Context, fmt: str, path: Path, *, bom: bool = False,
                tables: Sequence[str] | None = None, progress: Progress | None = None,
                cancelled: Cancelled | None = None,
                batch_rows: int = BATCH_ROWS) -> ExportResult:
    """Export every table this user may see (or `tables`) to a new file at `path`.

    `fmt` is csv (a .zip), xlsx or json; `bom` puts a byte-order mark at the
    start of each CSV file so that Excel reads UTF-8. Raises `ExportCancelled`
    when `cancelled()` turns true; no file is left behind then, nor on error.
    """
    ctx.require("data.export")
    fmt = (fmt or "").strip().lower()
    path = _check_target(fmt, path)
    if batch_rows < 1:
        raise ValidationError("Read at least one row at a time.", field="batch_rows")
    plans, skipped = _scope(ctx, fmt, tables)
    hr, salaries = _hr_flags(plans)
    complete = tables is None and not skipped and not any(p.stripped for p in plans)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.partial")
    writer = _WRITERS[fmt](tmp, bom)
    summaries: list[TableSummary] = []
    try:
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)  # personal data inside
        os.close(fd)
        with ctx.db.read() as s:  # one snapshot: the export is consistent across tables
            company = s.execute(select(Company.id, Company.legal_name)).first()
            for p in plans:
                p.rows = int(s.scalar(select(func.count()).select_from(p.table)) or 0)
            total = sum(p.rows for p in plans)
            header = {
                "export_format": fmt,
                "company": {"id": str(company[0]), "legal_name": company[1]}
                if company else None,
                "created_at": ctx.now().isoformat(),
                "created_by": ctx.actor.login_name,
                "app_version": erp_desktop.__version__,
                "schema_revision": migrate.current_revision(ctx.db.engine),
                "complete": complete, "hr_personal_data": hr, "salaries": salaries,
                "tables": [{"name": p.name, "rows": p.rows, "columns": p.column_names,
                            "kinds": p.kinds} for p in plans],
            }
            writer.begin(plans, header)
            done = 0
            if progress:
                progress(0, total, "")
            for p in plans:
                writer.begin_table(p)
                digest = hashlib.sha256(canonical_line(p.column_names))
                count = 0
                for batch in iter_table(s, p, batch_rows):
                    if cancelled is not None and cancelled():
                        raise ExportCancelled("The export was cancelled; no file was written.")
                    texts = [canonical_text(r) for r in batch]
                    digest.update(("\n".join(texts) + "\n").encode())
                    writer.rows(p, batch, texts)
                    count += len(batch)
                    done += len(batch)
                    if progress:
                        progress(done, total, p.name)
                file, file_hash = writer.end_table(p)
                p.rows = count
                summaries.append(TableSummary(p.name, count, p.column_names, digest.hexdigest(),
                                              file, file_hash))
        manifest = _manifest(header, plans, summaries, skipped)
        writer.finish(manifest)
        os.replace(tmp, path)
    except BaseException:
        writer.abort()
        tmp.unlink(missing_ok=True)
        raise
    result = ExportResult(path, fmt, summaries, skipped,
                          {p.name: p.stripped for p in plans if p.stripped}, hr, salaries,
                          complete, sum(t.rows for t in summaries), manifest)
    with ctx.db.write(ctx.actor.user_id) as s:
        # After the file exists: the event never claims an export a full disk refused.
        audit.record(s, ctx, "data.exported", details={
            "format": fmt, "file": path.name, "tables": [t.name for t in summaries],
            "skipped": [t.name for t in skipped], "rows": result.rows,
            "hr_personal_data": hr, "salaries": salaries, "complete": complete})
    return result


def _manifest(header: dict[str, Any], plans: Sequence[TablePlan],
              summaries: Sequence[TableSummary], skipped: Sequence[SkippedTable]
              ) -> dict[str, Any]:
    by_name = {p.name: p for p in plans}
    tables = []
    for t in summaries:
        p = by_name[t.name]
        entry: dict[str, Any] = {"name": t.name, "rows": t.rows, "columns": t.columns,
                                 "kinds": p.kinds, "sha256": t.sha256,
                                 "stripped_columns": p.stripped, "omitted_columns": p.omitted}
        if t.file:
            entry["file"] = t.file
            entry["file_sha256"] = t.file_sha256
        tables.append(entry)
    notes = ["sha256: of each table's header and rows as canonical JSON lines, values as "
             "stored (money in minor units), the same in every format"]
    if header["export_format"] == "csv":
        notes.append("csv: money as integer minor units (*_minor) beside the currency; text "
                     "starting with = + - @ has a leading apostrophe")
    if header["export_format"] == "xlsx":
        notes.append("xlsx: money as amounts with two decimals; times in UTC")
    if any(p.omitted for p in plans):
        notes.append("binary content (attachments, logo) is only in the JSON format")
    return {"format": FORMAT_NAME, "schema_version": SCHEMA_VERSION, **header,
            "tables": tables,
            "skipped": [{"name": s.name, "reason": s.reason} for s in skipped],
            "notes": notes}


# --------------------------------------------------------------------------- checking


def _check_csv_zip(path: Path) -> list[str]:
    problems: list[str] = []
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        for t in manifest["tables"]:
            data = zf.read(t["file"])
            if hashlib.sha256(data).hexdigest() != t["file_sha256"]:
                problems.append(f"{t['file']}: its checksum does not match the manifest")
            text = data.decode("utf-8-sig")
            rows = list(csv.reader(io.StringIO(text)))
            if len(rows) - 1 != t["rows"]:
                problems.append(f"{t['file']}: {len(rows) - 1} rows, the manifest says "
                                f"{t['rows']}")
    return problems


def verify_export(path: Path) -> list[str]:
    """Problems found re-checking a CSV (zip) or JSON export against its manifest."""
    path = Path(path)
    if path.suffix.lower() == ".zip":
        return _check_csv_zip(path)
    if path.suffix.lower() == ".json":
        from erp_desktop.services.data_import import read_json_export

        problems: list[str] = []
        try:
            for _ in read_json_export(path):
                pass
        except ValidationError as exc:
            problems.append(exc.message)
        return problems
    raise ValidationError("Only CSV (.zip) and JSON exports carry checksums to check.",
                          field="path")


__all__ = [
    "BATCH_ROWS", "FORMATS", "PREFIX_VIEW", "TABLE_RULES", "ExportCancelled", "ExportResult",
    "ExportScope", "SkippedTable", "TablePlan", "TableRule", "TableSummary", "canonical_line",
    "column_kind", "export_data", "export_scope", "iter_table", "money_columns", "rule_for",
    "unclassified_tables", "verify_export",
]
