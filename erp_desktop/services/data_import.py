"""Importing a business's data: master data from CSV/XLSX, and a whole JSON export.

Per-kind imports (`import_file`): customers, vendors, products, opening stock,
opening balances and employees, read through `services.importing` (header
mapping, parsing, a report of every bad row with its line, column and
reason). Each kind runs in ONE write transaction and goes through the use
cases of its own area (`customers.create_customer`, `hr.add_employee`,
`inventory.receive_stock`, `ledger.post_in_session` ...): the same rules,
permissions and audit events as typing the records in by hand. The area's
use cases are given a context whose database hands out that one open
session, each row inside a savepoint, so a bad row is undone alone and
reported, and the file as a whole is all-or-nothing: bad rows refuse the file
(`ImportRefused`, nothing written) unless `skip_bad_rows` is set. A dry run
does all of it in a transaction that is always rolled back, so it finds every
problem the real import would and writes nothing.

Re-importing is idempotent by natural key: customer code (or name and tax
id), vendor name (and tax id), product SKU, employee code, (SKU, warehouse)
for opening stock, account code for opening balances; rows that change
nothing are counted as unchanged.

`import_json_export` restores a complete JSON export (`services.export`)
into a new, empty company file: every table in foreign-key order, ids kept,
in one transaction, checked against the export's row counts and checksums.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import PermissionDenied, UserError, ValidationError
from erp_desktop.domain.money import Money, from_minor, parse_decimal, to_minor
from erp_desktop.models.base import Base
from erp_desktop.models.changes import record_bulk
from erp_desktop.models.company import Device, LocalSecret
from erp_desktop.models.database import Database
from erp_desktop.models.hr import Department, Employee, JobTitle
from erp_desktop.models.inventory import StockMove
from erp_desktop.models.ledger import Account, JournalEntry, JournalLine
from erp_desktop.models.purchasing import Vendor
from erp_desktop.models.sales import Customer
from erp_desktop.models.security import Role, User
from erp_desktop.services import audit, catalogue, customers, hr, inventory, ledger, purchasing
from erp_desktop.services.company import THIS_DEVICE
from erp_desktop.services.context import Context
from erp_desktop.services.export import FORMAT_NAME, SCHEMA_VERSION, canonical_line, rule_for
from erp_desktop.services.importing import (
    FieldSpec,
    ImportRefused,
    ImportReport,
    ParsedRow,
    RowError,
    check_report,
    iter_file_rows,
    map_header,
    parse_bool,
    parse_date,
    parse_rows,
    parse_text,
)
from erp_desktop.store import migrate

OPENING_STOCK_NOTE = "Opening stock (import)"
OPENING_BALANCE_SOURCE = "opening_balance"
RESTORE_BATCH = 5000

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]


# --------------------------------------------------------------------------- reports


@dataclass
class DataImportReport(ImportReport):
    """`ImportReport` plus what a re-import left alone, and whether it was a dry run."""

    kind: str = ""
    unchanged: int = 0
    dry_run: bool = False

    def summary(self) -> str:
        if self.refused:
            text = super().summary()
        else:
            text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
            if self.skipped:
                text += f", {self.skipped} bad rows skipped"
            text += "."
        if self.dry_run:
            text = "Dry run (nothing was written): " + text
        return text


# --------------------------------------------------------------------------- databases


class _OneSession(Database):
    """Hands the caller's open session to nested use cases instead of a new transaction."""

    def __init__(self, session: Session) -> None:  # no engine of its own
        self._session = session

    @contextmanager
    def write(self, actor_id: uuid.UUID | None = None) -> Iterator[Session]:
        yield self._session

    @contextmanager
    def read(self) -> Iterator[Session]:
        yield self._session

    def dispose(self) -> None:  # the outer context owns the engine
        return None


class _RollbackDatabase(Database):
    """A write transaction that is always rolled back: the dry run."""

    @contextmanager
    def write(self, actor_id: uuid.UUID | None = None) -> Iterator[Session]:
        with self._write() as session:
            session.info["actor_id"] = actor_id
            trans = session.begin()
            try:
                yield session
            finally:
                trans.rollback()

    def dispose(self) -> None:
        return None


# --------------------------------------------------------------------------- kinds


def _parse_int(label: str, low: int, high: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise ValidationError(f"'{text}' is not a whole number.") from None
        if not low <= value <= high:
            raise ValidationError(f"{label} is {low} to {high}.")
        return value

    return parse


def _parse_amount(text: str) -> Decimal:
    try:
        return parse_decimal(text, "amount")
    except ValidationError:
        raise ValidationError(f"'{text}' is not a number.") from None


def _text(n: int, label: str) -> Callable[[str], str]:
    return parse_text(n, label)


@dataclass(frozen=True)
class ImportKind:
    name: str
    label: str
    permission: str  # the area's own permission, besides data.import
    fields: tuple[FieldSpec, ...]
    key: tuple[str, ...]  # fields that identify a row (duplicates in one file are refused)


_CUSTOMER_FIELDS = (
    FieldSpec("code", "Code", parse=_text(20, "The code"), aliases=("customer code",)),
    FieldSpec("name", "Name", required=True, parse=_text(200, "The name"),
              aliases=("customer", "customer name")),
    FieldSpec("gstin", "GSTIN", aliases=("gst", "gst number")),
    FieldSpec("vat_id", "VAT id", aliases=("vat", "vat number", "tax id")),
    FieldSpec("email", "Email", aliases=("e-mail",)),
    FieldSpec("phone", "Phone", aliases=("mobile", "telephone")),
    FieldSpec("billing_address", "Billing address", aliases=("address",)),
    FieldSpec("shipping_address", "Shipping address"),
    FieldSpec("city", "City"),
    FieldSpec("state", "State"),
    FieldSpec("state_code", "State code"),
    FieldSpec("postal_code", "Postal code", aliases=("pin", "pin code", "zip")),
    FieldSpec("country", "Country"),
    FieldSpec("currency", "Currency"),
    FieldSpec("payment_terms_days", "Payment terms", parse=_parse_int("Payment terms", 0, 365),
              aliases=("terms", "payment terms days")),
    FieldSpec("credit_limit", "Credit limit", parse=_parse_amount),
    FieldSpec("price_list", "Price list"),
    FieldSpec("notes", "Notes"),
    FieldSpec("active", "Active", parse=parse_bool),
)

_VENDOR_FIELDS = (
    FieldSpec("name", "Name", required=True, parse=_text(200, "The name"),
              aliases=("vendor", "vendor name", "supplier")),
    FieldSpec("tax_id", "Tax id", aliases=("gstin", "vat", "vat id", "gst number")),
    FieldSpec("contact_person", "Contact person", aliases=("contact",)),
    FieldSpec("email", "Email", aliases=("e-mail",)),
    FieldSpec("phone", "Phone", aliases=("mobile", "telephone")),
    FieldSpec("address", "Address"),
    FieldSpec("city", "City"),
    FieldSpec("state", "State"),
    FieldSpec("state_code", "State code"),
    FieldSpec("country", "Country"),
    FieldSpec("payment_terms_days", "Payment terms", parse=_parse_int("Payment terms", 0, 365),
              aliases=("terms", "payment terms days")),
    FieldSpec("bank_name", "Bank name", aliases=("bank",)),
    FieldSpec("bank_account", "Bank account", aliases=("account number",)),
    FieldSpec("bank_code", "Bank code", aliases=("ifsc", "iban", "bic", "swift")),
    FieldSpec("notes", "Notes"),
    FieldSpec("active", "Active", parse=parse_bool),
)

_EMPLOYEE_FIELDS = (
    FieldSpec("code", "Employee code", required=True, parse=_text(20, "The employee code"),
              aliases=("code", "emp code", "employee id")),
    FieldSpec("full_name", "Full name", parse=_text(200, "The name"), aliases=("name",)),
    FieldSpec("hire_date", "Joining date", parse=parse_date,
              aliases=("hire date", "date of joining", "doj")),
    FieldSpec("email", "Email", aliases=("e-mail",)),
    FieldSpec("phone", "Phone", aliases=("mobile",)),
    FieldSpec("address", "Address"),
    FieldSpec("date_of_birth", "Date of birth", parse=parse_date, aliases=("dob", "birth date")),
    FieldSpec("department", "Department", parse=_text(120, "The department")),
    FieldSpec("job_title", "Job title", parse=_text(120, "The job title"),
              aliases=("designation", "title")),
    FieldSpec("manager", "Manager code", aliases=("manager",)),
    FieldSpec("termination_date", "Leaving date", parse=parse_date,
              aliases=("termination date", "last working day")),
    FieldSpec("termination_reason", "Reason for leaving"),
    FieldSpec("bank_account_name", "Account holder", aliases=("bank account name",)),
    FieldSpec("bank_account_number", "Bank account number", aliases=("account number",)),
    FieldSpec("bank_ifsc", "IFSC", aliases=("bank ifsc",)),
    FieldSpec("bank_name", "Bank name", aliases=("bank",)),
    FieldSpec("tax_id", "PAN", aliases=("tax id",)),
    FieldSpec("social_id", "UAN", aliases=("social id", "pf number")),
    FieldSpec("emergency_contact_name", "Emergency contact"),
    FieldSpec("emergency_contact_phone", "Emergency contact phone"),
)

_OPENING_STOCK_FIELDS = (
    FieldSpec("sku", "SKU", required=True, aliases=("item code", "product", "product code")),
    FieldSpec("warehouse", "Warehouse", required=True, aliases=("warehouse code", "location")),
    FieldSpec("quantity", "Quantity", required=True, parse=_parse_amount, aliases=("qty",)),
    FieldSpec("unit_cost", "Unit cost", parse=_parse_amount, aliases=("cost", "rate")),
)

_OPENING_BALANCE_FIELDS = (
    FieldSpec("account", "Account", required=True, aliases=("account code", "code")),
    FieldSpec("debit", "Debit", parse=_parse_amount, aliases=("dr",)),
    FieldSpec("credit", "Credit", parse=_parse_amount, aliases=("cr",)),
    FieldSpec("memo", "Memo", parse=_text(200, "The memo"), aliases=("narration",)),
)

KINDS: dict[str, ImportKind] = {k.name: k for k in (
    ImportKind("customers", "customers", "sales.customers.manage", _CUSTOMER_FIELDS,
               ("code",)),
    ImportKind("vendors", "vendors", "purchases.manage", _VENDOR_FIELDS, ("name",)),
    ImportKind("products", "products", "inventory.products.manage", (), ("sku",)),
    ImportKind("opening_stock", "opening stock", "inventory.stock.move", _OPENING_STOCK_FIELDS,
               ("sku", "warehouse")),
    ImportKind("opening_balances", "opening balances", "ledger.post", _OPENING_BALANCE_FIELDS,
               ("account",)),
    ImportKind("employees", "employees", "hr.employees.manage", _EMPLOYEE_FIELDS, ("code",)),
)}


def import_fields(kind: str) -> list[tuple[str, str, bool]]:
    """(field, label, required) of a kind, for the mapping dialog and `--map`."""
    k = _kind(kind)
    if k.name == "products":
        return [(n, n.replace("_", " ").capitalize(), n in ("sku", "name"))
                for n in catalogue.PRODUCT_IMPORT_FIELDS]
    return [(f.name, f.label, f.required) for f in k.fields]


def _kind(kind: str) -> ImportKind:
    key = (kind or "").strip().lower().replace("-", "_").replace(" ", "_")
    if key not in KINDS:
        raise ValidationError(f"Import one of: {', '.join(KINDS)}; '{kind}' is not one of them.",
                              field="kind")
    return KINDS[key]


# --------------------------------------------------------------------------- running


@dataclass
class _Run:
    """One import: the open session, the nested context, the file's columns, the report."""

    ctx: Context  # the importer's, for audit
    inner: Context  # nested use cases run on the open session
    s: Session
    columns: dict[str, str]  # field -> the file's header
    report: DataImportReport
    on: date
    seen: dict[tuple[Any, ...], int] = field(default_factory=dict)
    progress: Callable[[int, int, str], None] | None = None
    cancelled: Callable[[], bool] | None = None

    def col(self, name: str | None) -> str:
        if not name:
            return ""
        return self.columns.get(name, name)

    def bad(self, line: int, column: str | None, reason: str) -> None:
        self.report.errors.append(RowError(line, self.col(column), reason))

    def duplicate(self, row: ParsedRow, key: tuple[str, ...], values: tuple[Any, ...]) -> bool:
        if any(v in (None, "") for v in values):
            return False
        norm = tuple(str(v).casefold() for v in values)
        if norm in self.seen:
            self.bad(row.line, key[0], f"{' / '.join(str(v) for v in values)} is also on line "
                                       f"{self.seen[norm]}.")
            return True
        self.seen[norm] = row.line
        return False

    def attempt(self, row: ParsedRow, action: Callable[[], str]) -> None:
        """Run one row's use case in a savepoint; count its outcome or report its error."""
        try:
            with self.s.begin_nested():
                outcome = action()
        except PermissionDenied:
            raise  # checked up front; a denial here is a whole-file refusal
        except UserError as exc:
            self.bad(row.line, exc.field, exc.message)
            return
        if outcome == "created":
            self.report.created += 1
        elif outcome == "updated":
            self.report.updated += 1
        else:
            self.report.unchanged += 1


PROGRESS_EVERY = 200  # rows between progress reports


class ImportCancelled(UserError):
    """The person cancelled the import; the transaction was rolled back."""


def import_file(ctx: Context, kind: str, path: Path, *, mapping: Mapping[str, str] | None = None,
                dry_run: bool = False, skip_bad_rows: bool = False, sheet: str | None = None,
                on: date | None = None,
                progress: Callable[[int, int, str], None] | None = None,
                cancelled: Callable[[], bool] | None = None) -> DataImportReport:
    """Import `kind` (see `KINDS`) from a CSV or XLSX file.

    `mapping` maps the file's column headers to field names (`import_fields`);
    other columns are matched by name. `on` dates opening stock and balances
    (default today). Bad rows refuse the file (`ImportRefused`, whose `report`
    lists every one) unless `skip_bad_rows`; a dry run returns that report
    instead of raising, and never writes. `progress(rows_read, 0, text)` is called
    every few hundred rows (the total is not known while the file streams); when
    `cancelled()` turns true the import stops with `ImportCancelled` and nothing
    is written (products import in one step and check it only before they start).
    """
    k = _kind(kind)
    ctx.require("data.import")
    ctx.require(k.permission)
    path = Path(path)
    on = on or ctx.today()
    if isinstance(on, datetime) or not isinstance(on, date):
        raise ValidationError("The date must be a date.", field="on")
    report = DataImportReport(kind=k.name, dry_run=dry_run)
    db: Database = _RollbackDatabase(ctx.db.engine) if dry_run else ctx.db
    try:
        with db.write(ctx.actor.user_id) as s:
            inner = replace(ctx, db=_OneSession(s))
            if cancelled is not None and cancelled():
                raise ImportCancelled("The import was cancelled; nothing was imported.")
            if k.name == "products":
                _products(inner, path, mapping, skip_bad_rows, sheet, report)
            else:
                rows = iter_file_rows(path, sheet=sheet)
                header = next(rows, None)
                if header is None or not any(header):
                    raise ValidationError(f"{path.name} is empty: the first row must name the "
                                          "columns.", field="path")
                columns = map_header(header, k.fields, mapping)
                run = _Run(ctx, inner, s, {spec.name: header[i] for i, spec in columns.items()},
                           report, on, progress=progress, cancelled=cancelled)
                _HANDLERS[k.name](run, parse_rows(rows, header, columns, k.fields))
                check_report(report, skip_bad_rows)
                report.skipped = len(report.bad_lines)
            audit.record(s, ctx, "data.imported", details={
                "kind": k.name, "file": path.name, "rows": report.rows,
                "created": report.created, "updated": report.updated,
                "unchanged": report.unchanged, "skipped": report.skipped, "dry_run": dry_run})
    except ImportRefused as exc:
        if not dry_run:
            raise
        exc.report.refused = True
        return report if exc.report is report else _adopt(report, exc.report)
    return report


def _adopt(report: DataImportReport, other: ImportReport) -> DataImportReport:
    report.rows, report.created, report.updated = other.rows, other.created, other.updated
    report.skipped, report.errors, report.refused = other.skipped, other.errors, other.refused
    return report


def _rows(run: _Run, rows: Iterator[ParsedRow], key: tuple[str, ...]) -> Iterator[ParsedRow]:
    """Count rows, report parse errors and in-file duplicates; yield the rows worth trying."""
    for row in rows:
        run.report.rows += 1
        if run.cancelled is not None and run.cancelled():
            raise ImportCancelled("The import was cancelled; nothing was imported.")
        if run.progress is not None and run.report.rows % PROGRESS_EVERY == 0:
            run.progress(run.report.rows, 0, f"{run.report.rows:,} rows read")
        if row.errors:
            run.report.errors.extend(row.errors)
            continue
        if run.duplicate(row, key, tuple(row.values.get(f) for f in key)):
            continue
        yield row


# --------------------------------------------------------------------------- products


def _products(inner: Context, path: Path, mapping: Mapping[str, str] | None,
              skip_bad_rows: bool, sheet: str | None, report: DataImportReport) -> None:
    """The catalogue's own bulk import, inside this transaction."""
    try:
        got = catalogue.import_products(inner, path, mapping=mapping,
                                        skip_bad_rows=skip_bad_rows, sheet=sheet)
    except ImportRefused as exc:
        _adopt(report, exc.report)
        raise ImportRefused(report) from None
    _adopt(report, got)


# --------------------------------------------------------------------------- customers


def _find_customer(s: Session, values: Mapping[str, Any]) -> Customer | None:
    code = str(values.get("code") or "").strip().upper()
    if code:
        return s.scalars(select(Customer).where(Customer.code == code)).first()
    key = customers.name_key(str(values["name"]))
    tax = str(values.get("gstin") or values.get("vat_id") or "").strip().upper() or None
    for c in s.scalars(select(Customer).where(Customer.name_key == key,
                                              Customer.deleted_at.is_(None))):
        if tax is None or tax in ((c.gstin or "").upper(), (c.vat_id or "").upper()):
            return c
    return None


def _customers(run: _Run, rows: Iterator[ParsedRow]) -> None:
    for row in _rows(run, rows, ("code",)):
        values = dict(row.values)
        if not values.get("code") and run.duplicate(
                row, ("name", "gstin"), (values.get("name"),
                                         values.get("gstin") or values.get("vat_id"))):
            continue  # the same name and tax id twice, without codes to tell them apart

        def action(values: dict[str, Any] = values) -> str:
            existing = _find_customer(run.s, values)
            if existing is None:
                name = values.pop("name")
                customers.create_customer(run.inner, name, **values)
                return "created"
            if existing.deleted_at is not None:
                raise ValidationError(f"Customer {existing.code} was deleted; restore it "
                                      "before importing it again.", field="code")
            values.pop("code", None)
            before = existing.version
            row_after = customers.update_customer(run.inner, existing.id, **values)
            return "updated" if row_after.version != before else "unchanged"

        run.attempt(row, action)


# --------------------------------------------------------------------------- vendors


def _vendors(run: _Run, rows: Iterator[ParsedRow]) -> None:
    for row in _rows(run, rows, ("name",)):
        values = dict(row.values)

        def action(values: dict[str, Any] = values) -> str:
            name = " ".join(str(values["name"]).split())
            existing = run.s.scalars(select(Vendor).where(
                Vendor.name_key == name.casefold(), Vendor.deleted_at.is_(None))).first()
            tax = values.get("tax_id")
            if existing is None:
                purchasing.create_vendor(run.inner, purchasing.VendorInput(**values))
                return "created"
            if tax and existing.tax_id and str(tax).replace(" ", "").upper() != \
                    existing.tax_id.replace(" ", "").upper():
                raise ValidationError(f"There is already a vendor named {existing.name} with "
                                      f"another tax id ({existing.tax_id}).", field="tax_id")
            before = existing.version
            changes = {k: v for k, v in values.items() if getattr(existing, k, None) != v}
            if not changes:
                return "unchanged"
            after = purchasing.update_vendor(run.inner, existing.id, version=before, **changes)
            return "updated" if after.version != before else "unchanged"

        run.attempt(row, action)


# --------------------------------------------------------------------------- employees


def _named(s: Session, model: type[Department] | type[JobTitle], name: str) -> uuid.UUID | None:
    return s.scalar(select(model.id).where(func.lower(model.name) == name.strip().lower(),
                                           model.deleted_at.is_(None)))


def _employees(run: _Run, rows: Iterator[ParsedRow]) -> None:
    for row in _rows(run, rows, ("code",)):
        values = dict(row.values)

        def action(values: dict[str, Any] = values) -> str:
            s = run.s
            code = str(values.pop("code")).strip()
            dept = values.pop("department", None)
            if dept:
                values["department_id"] = _named(s, Department, dept) or \
                    hr.add_department(run.inner, dept).id
            title = values.pop("job_title", None)
            if title:
                values["job_title_id"] = _named(s, JobTitle, title) or \
                    hr.add_job_title(run.inner, title).id
            manager = values.pop("manager", None)
            if manager:
                boss = s.scalar(select(Employee.id).where(Employee.code == str(manager).strip(),
                                                          Employee.deleted_at.is_(None)))
                if boss is None:
                    raise ValidationError(f"There is no employee {manager} to be the manager "
                                          "(list managers above their reports).",
                                          field="manager")
                values["manager_id"] = boss
            existing = s.scalars(select(Employee).where(Employee.code == code)).first()
            if existing is None:
                if not values.get("full_name"):
                    raise ValidationError("A new employee needs a full name.", field="full_name")
                if not values.get("hire_date"):
                    raise ValidationError("A new employee needs a joining date.",
                                          field="hire_date")
                name, hired = values.pop("full_name"), values.pop("hire_date")
                hr.add_employee(run.inner, code, name, hired, **values)
                return "created"
            if existing.deleted_at is not None:
                raise ValidationError(f"Employee {code} was deleted.", field="code")
            changes = {k: v for k, v in values.items() if getattr(existing, k, None) != v}
            if not changes:
                return "unchanged"
            before = existing.version
            after = hr.update_employee(run.inner, existing.id, before, **changes)
            return "updated" if after.version != before else "unchanged"

        run.attempt(row, action)


# --------------------------------------------------------------------------- opening stock


def _opening_stock(run: _Run, rows: Iterator[ParsedRow]) -> None:
    s = run.s
    currency = catalogue.base_currency(s)
    per_warehouse: dict[uuid.UUID, list[tuple[ParsedRow, inventory.ReceiptLine]]] = {}
    for row in _rows(run, rows, ("sku", "warehouse")):
        v = row.values
        try:
            product = catalogue.find_product_in_session(s, str(v["sku"]))
        except UserError as exc:
            run.bad(row.line, "sku", exc.message)
            continue
        try:
            wh = inventory.find_warehouse_in_session(s, str(v["warehouse"]))
        except UserError as exc:
            run.bad(row.line, "warehouse", exc.message)
            continue
        qty = v["quantity"]
        if product.is_service:
            run.bad(row.line, "sku", f"{product.sku} is a service; services have no stock.")
            continue
        if not isinstance(qty, Decimal) or qty <= 0:
            run.bad(row.line, "quantity", "Opening stock must be more than zero.")
            continue
        cost = v.get("unit_cost")
        if isinstance(cost, Decimal) and cost < 0:
            run.bad(row.line, "unit_cost", "A unit cost cannot be negative.")
            continue
        earlier = s.execute(select(StockMove.quantity, StockMove.unit_cost_minor).where(
            StockMove.product_id == product.id, StockMove.warehouse_id == wh.id,
            StockMove.source_type == "stock_receipt",
            StockMove.reason == OPENING_STOCK_NOTE)).first()
        if earlier is not None:
            same_cost = cost is None or Money.of(cost, currency).minor == earlier[1]
            if earlier[0] == qty and same_cost:
                run.report.unchanged += 1
                continue
            run.bad(row.line, "quantity", f"{product.sku} already has opening stock of "
                                          f"{earlier[0]} in {wh.code}; correct it with a stock "
                                          "adjustment.")
            continue
        per_warehouse.setdefault(wh.id, []).append(
            (row, inventory.ReceiptLine(product.id, qty, cost)))
    for wh_id, lines in per_warehouse.items():
        first = lines[0][0]
        try:
            with s.begin_nested():
                inventory.receive_stock(run.inner, wh_id, [ln for _, ln in lines],
                                        move_date=run.on, note=OPENING_STOCK_NOTE)
        except PermissionDenied:
            raise
        except UserError as exc:
            run.bad(first.line, exc.field if exc.field in run.columns else None, exc.message)
            continue
        run.report.created += len(lines)


# --------------------------------------------------------------------------- opening balances


def _opening_entry(s: Session) -> JournalEntry | None:
    """The opening-balance entry in force: posted by an import and not reversed."""
    reversed_ids = select(JournalEntry.reversal_of_id).where(
        JournalEntry.reversal_of_id.is_not(None))
    return s.scalars(select(JournalEntry).where(
        JournalEntry.source_type == OPENING_BALANCE_SOURCE,
        JournalEntry.reversal_of_id.is_(None),
        JournalEntry.id.not_in(reversed_ids)).order_by(JournalEntry.created_at.desc())).first()


def _opening_balances(run: _Run, rows: Iterator[ParsedRow]) -> None:
    s = run.s
    equity = s.scalar(select(Account.code).where(Account.system_key == "opening_balance"))
    if equity is None:
        raise ValidationError("The chart of accounts has no opening balance equity account.")
    lines: list[ledger.LineInput] = []
    wanted: dict[uuid.UUID, int] = {}
    first_line = None
    currency = catalogue.base_currency(s)
    for row in _rows(run, rows, ("account",)):
        v = row.values
        first_line = first_line or row.line
        acc = s.scalars(select(Account).where(Account.code == str(v["account"]).strip(),
                                              Account.deleted_at.is_(None))).first()
        if acc is None:
            run.bad(row.line, "account", f"There is no account {v['account']}.")
            continue
        if acc.is_group:
            run.bad(row.line, "account", f"{acc.code} {acc.name} is a group; give the opening "
                                         "balance of an account under it.")
            continue
        debit, credit = v.get("debit") or Decimal(0), v.get("credit") or Decimal(0)
        problem = None
        if debit < 0 or credit < 0:
            problem = "Debits and credits are positive; use the other column."
        elif debit and credit:
            problem = "Give a debit or a credit, not both."
        elif not debit and not credit:
            problem = "Give a debit or a credit."
        if problem:
            run.bad(row.line, "debit", problem)
            continue
        try:
            net = to_minor(debit, currency) - to_minor(credit, currency)
        except ValidationError as exc:
            run.bad(row.line, "debit" if debit else "credit", exc.message)
            continue
        wanted[acc.id] = wanted.get(acc.id, 0) + net
        lines.append(ledger.LineInput(acc.id, debit=debit, credit=credit, memo=v.get("memo")))
    if run.report.errors or not lines:
        return
    total = sum(wanted.values())
    if total:
        eq_id = s.scalar(select(Account.id).where(Account.code == equity))
        assert eq_id is not None
        lines.append(_balancing(equity, total, currency))
        wanted[eq_id] = wanted.get(eq_id, 0) - total
    current = _opening_entry(s)
    if current is not None:
        had: dict[uuid.UUID, int] = {}
        for ln in s.scalars(select(JournalLine).where(JournalLine.entry_id == current.id)):
            had[ln.account_id] = had.get(ln.account_id, 0) + ln.debit_minor - ln.credit_minor
        if {k: v for k, v in had.items() if v} == {k: v for k, v in wanted.items() if v}:
            run.report.unchanged += len(lines) - (1 if total else 0)
            return
    try:
        with s.begin_nested():
            if current is not None:
                # The books are append-only: a new set of opening balances replaces the
                # old one by reversing it, on the same day as the new entry.
                ledger.reverse_in_session(s, run.inner, current.id,
                                          on=max(run.on, current.entry_date),
                                          memo="Opening balances replaced by a new import")
            ledger.post_in_session(s, run.inner, run.on, lines, "Opening balances (import)",
                                   source_type=OPENING_BALANCE_SOURCE)
    except PermissionDenied:
        raise
    except UserError as exc:
        run.bad(first_line or 2, None, exc.message)
        return
    count = len(lines) - (1 if total else 0)
    if current is not None:
        run.report.updated += count
    else:
        run.report.created += count


def _balancing(equity_code: str, total_minor: int, currency: str) -> ledger.LineInput:
    amount = from_minor(abs(total_minor), currency)
    if total_minor > 0:  # more debits than credits: the difference is credited to equity
        return ledger.LineInput(equity_code, credit=amount, memo="Opening balance equity")
    return ledger.LineInput(equity_code, debit=amount, memo="Opening balance equity")


_HANDLERS: dict[str, Callable[[_Run, Iterator[ParsedRow]], None]] = {
    "customers": _customers,
    "vendors": _vendors,
    "employees": _employees,
    "opening_stock": _opening_stock,
    "opening_balances": _opening_balances,
}


# --------------------------------------------------------------------------- JSON export reader


class _Bad(Exception):
    pass


class _JsonStream:
    """Reads one JSON document value by value, holding about a megabyte at a time.

    The export is one document that may be larger than memory; this walks its
    structure and decodes one row at a time with `json.JSONDecoder.raw_decode`.
    """

    CHUNK = 1 << 20

    def __init__(self, fh: IO[str]) -> None:
        self.fh = fh
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self.fh.read(self.CHUNK)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            n = len(self.buf)
            while self.pos < n and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < n:
                return self.buf[self.pos]
            if not self._fill():
                return ""

    def expect(self, ch: str) -> None:
        got = self.peek()
        if got != ch:
            raise _Bad(f"expected '{ch}', found '{got or 'the end of the file'}'")
        self.pos += 1

    def skip(self, ch: str) -> bool:
        if self.peek() == ch:
            self.pos += 1
            return True
        return False

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                val, end = self.decoder.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if not self._fill():
                    raise _Bad("a value is cut off or malformed") from None
                continue
            if end >= len(self.buf) and not self.eof and self._fill():
                continue  # a number at the end of the buffer may go on in the next chunk
            self.pos = end
            return val


@dataclass
class ExportTable:
    name: str
    columns: list[str]
    rows: Iterator[list[Any]]


class JsonExportReader:
    """A JSON export, read as it streams: `header`, then `tables()`, then `check()`."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ValidationError(f"The file {self.path} does not exist.", field="path")
        self.fh = open(self.path, encoding="utf-8")
        self.js = _JsonStream(self.fh)
        self.counts: dict[str, int] = {}
        self.hashes: dict[str, str] = {}
        self.manifest: dict[str, Any] | None = None
        try:
            self.js.expect("{")
            meta: dict[str, Any] = {}
            while True:
                key = self.js.value()
                self.js.expect(":")
                if key == "data":
                    break
                meta[key] = self.js.value()
                if not self.js.skip(","):
                    raise _Bad("the document has no data")
        except (_Bad, UnicodeDecodeError) as exc:
            self.close()
            raise self._damaged(str(exc)) from None
        if meta.get("format") != FORMAT_NAME:
            self.close()
            raise ValidationError(f"{self.path.name} is not an erp_desktop JSON export.",
                                  field="path")
        if meta.get("schema_version") != SCHEMA_VERSION:
            self.close()
            raise ValidationError(f"{self.path.name} is an export of format version "
                                  f"{meta.get('schema_version')}; this app reads version "
                                  f"{SCHEMA_VERSION}.", field="path")
        self.header: dict[str, Any] = meta.get("header") or {}

    def _damaged(self, why: str) -> ValidationError:
        return ValidationError(f"{self.path.name} is damaged or not a complete export ({why}).",
                               field="path")

    def tables(self) -> Iterator[ExportTable]:
        try:
            self.js.expect("{")
            if self.js.skip("}"):
                return
            while True:
                name = self.js.value()
                self.js.expect(":")
                self.js.expect("{")
                columns: list[str] | None = None
                while True:
                    key = self.js.value()
                    self.js.expect(":")
                    if key == "columns":
                        columns = self.js.value()
                    elif key == "rows":
                        if columns is None:
                            raise _Bad(f"table {name} lists rows before columns")
                        yield ExportTable(name, columns, self._rows(name, columns))
                    else:
                        self.js.value()
                    if not self.js.skip(","):
                        break
                self.js.expect("}")
                if not self.js.skip(","):
                    break
            self.js.expect("}")
            if self.js.skip(","):
                key = self.js.value()
                self.js.expect(":")
                if key == "manifest":
                    self.manifest = self.js.value()
        except (_Bad, UnicodeDecodeError) as exc:
            raise self._damaged(str(exc)) from None

    def _rows(self, name: str, columns: list[str]) -> Iterator[list[Any]]:
        digest = hashlib.sha256(canonical_line(columns))
        count = 0
        try:
            self.js.expect("[")
            if not self.js.skip("]"):
                while True:
                    row = self.js.value()
                    if not isinstance(row, list) or len(row) != len(columns):
                        raise _Bad(f"a row of {name} does not fit its columns")
                    digest.update(canonical_line(row))
                    count += 1
                    yield row
                    if not self.js.skip(","):
                        break
                self.js.expect("]")
        except (_Bad, UnicodeDecodeError) as exc:
            raise self._damaged(str(exc)) from None
        self.counts[name] = count
        self.hashes[name] = digest.hexdigest()

    def check(self) -> None:
        """Compare what was read with the manifest at the end; raise if anything differs."""
        if self.manifest is None:
            raise self._damaged("the manifest at its end is missing")
        for t in self.manifest.get("tables", []):
            name = t.get("name")
            if name not in self.counts:
                raise self._damaged(f"table {name} is missing")
            if self.counts[name] != t.get("rows"):
                raise self._damaged(f"table {name} has {self.counts[name]} rows, the manifest "
                                    f"says {t.get('rows')}")
            if self.hashes[name] != t.get("sha256"):
                raise self._damaged(f"table {name} does not match its checksum")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.fh.close()


def read_json_export(path: Path) -> Iterator[tuple[str, list[Any]]]:
    """Every (table, row) of a JSON export, checked against its manifest at the end."""
    reader = JsonExportReader(path)
    try:
        for table in reader.tables():
            for row in table.rows:
                yield table.name, row
        reader.check()
    finally:
        reader.close()


# --------------------------------------------------------------------------- restore


def _from_json(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "uuid":
        return uuid.UUID(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "qty":
        return Decimal(value)
    if kind == "bytes":
        return base64.b64decode(value)
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("not a boolean")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("not a whole number")
        return value
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


@dataclass(frozen=True)
class RestoreResult:
    path: Path
    tables: int
    rows: int
    users_without_password: list[str]  # logins to give a password (users.reset_password)
    relogin_required: bool  # the importing user's record was replaced: log in again


def _check_new_file(s: Session) -> None:
    """Posted documents (append-only tables) must be empty: only a new file is overwritten."""
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if not getattr(cls, "__immutable__", False) or getattr(cls, "__hard_delete__", False):
            continue
        if cls.__tablename__ in ("audit_event", "audit_anchor"):
            continue
        if s.scalar(select(func.count()).select_from(mapper.local_table)):
            raise ValidationError(
                "A JSON export is restored only into a new, empty company file; this one "
                f"already has posted records ({cls.__tablename__}). Create a new company file "
                "and restore into it.", field="path")
    if (s.scalar(select(func.count()).select_from(User)) or 0) > 1:
        raise ValidationError("A JSON export is restored only into a new company file with "
                              "just its first admin; this one has more users.", field="path")


def import_json_export(ctx: Context, path: Path, *, progress: Progress | None = None,
                       cancelled: Cancelled | None = None) -> RestoreResult:
    """Restore a complete JSON export into this new company file (see module docstring).

    Every table is replaced by the export's rows, ids kept, in one transaction
    with foreign keys checked at commit; the audit trail of this file stays
    (the old trail is kept in the export). The admin doing it keeps their
    login; the export's other users exist but need a password
    (`RestoreResult.users_without_password`). Anything wrong (damaged file,
    wrong version, not a new file, a checksum): nothing is written.
    """
    ctx.require("data.import")
    ctx.require("backup.restore")
    reader = JsonExportReader(Path(path))
    try:
        return _restore(ctx, reader, progress, cancelled)
    finally:
        reader.close()


def _restore(ctx: Context, reader: JsonExportReader, progress: Progress | None,
             cancelled: Cancelled | None) -> RestoreResult:
    header = reader.header
    name = reader.path.name
    if not header.get("complete"):
        raise ValidationError(f"{name} was made by a user who could not see every table; a "
                              "restore needs a complete export, made by an admin.", field="path")
    here = migrate.current_revision(ctx.db.engine)
    if header.get("schema_revision") != here:
        raise ValidationError(f"{name} was made by another version of the app (schema "
                              f"{header.get('schema_revision')}, this file {here}); open it "
                              "with that version.", field="path")
    listed = {t["name"]: t for t in header.get("tables", [])}
    tables = Base.metadata.tables
    unknown = sorted(set(listed) - set(tables))
    if unknown:
        raise ValidationError(f"{name} has tables this app does not know: "
                              f"{', '.join(unknown)}.", field="path")
    restorable = [t for t in Base.metadata.sorted_tables if t.name in listed and _restores(t.name)]
    outbox_tables = {m.local_table.name for m in Base.registry.mappers
                     if getattr(m.class_, "__outbox__", False)}
    total = sum(int(listed[t.name].get("rows", 0)) for t in restorable)
    login_key = ctx.actor.login_name.casefold()
    rows_done = 0
    try:
        with ctx.db.write(ctx.actor.user_id) as s:
            _check_new_file(s)
            me = s.get(User, ctx.actor.user_id)
            me_row = {c.name: getattr(me, c.key) for c in User.__table__.columns} if me else None
            secret = s.get(LocalSecret, THIS_DEVICE)
            my_device_id = uuid.UUID(bytes=bytes(secret.value)) if secret else None
            dev = s.get(Device, my_device_id) if my_device_id else None
            dev_row = {c.name: getattr(dev, c.key) for c in Device.__table__.columns} \
                if dev else None
            s.expunge_all()
            conn = s.connection()
            # Rows of one table can point at each other (a parent account, a reversed
            # entry): foreign keys are checked once, at commit.
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            wipe = {t.name for t in restorable} | {"outbox"}
            for table in reversed(Base.metadata.sorted_tables):
                if table.name in wipe:
                    conn.execute(table.delete())
            by_name = {t.name: t for t in restorable}
            for part in reader.tables():
                table = by_name.get(part.name)
                if table is None:
                    for _ in part.rows:  # read (and checksum) what is not restored
                        pass
                    continue
                missing = [c for c in part.columns if c not in table.c]
                if missing or len(part.columns) != len(table.c):
                    raise ValidationError(f"{name}: the columns of {part.name} do not match this "
                                          "app's.", field="path")
                kinds = listed[part.name].get("kinds") or []
                if len(kinds) != len(part.columns):
                    raise ValidationError(f"{name}: table {part.name} lacks its column kinds.",
                                          field="path")
                batch: list[dict[str, Any]] = []
                for raw in part.rows:
                    try:
                        batch.append({c: _from_json(k, v)
                                      for c, k, v in zip(part.columns, kinds, raw, strict=True)})
                    except (ValueError, TypeError) as exc:
                        raise ValidationError(f"{name}: a row of {part.name} holds a bad value "
                                              f"({exc}).", field="path") from None
                    if len(batch) >= RESTORE_BATCH:
                        rows_done += _insert(s, table, batch, table.name in outbox_tables)
                        batch = []
                        if cancelled is not None and cancelled():
                            raise ValidationError("The restore was cancelled; nothing was "
                                                  "written.")
                        if progress:
                            progress(rows_done, total, part.name)
                if batch:
                    rows_done += _insert(s, table, batch, table.name in outbox_tables)
                if progress:
                    progress(rows_done, total, part.name)
            reader.check()
            relogin, no_password = _fix_people_and_device(s, ctx, login_key, me_row, dev_row,
                                                          secret is not None)
            # The search index is derived data, outside the export: built afresh.
            catalogue.rebuild_search_index(replace(ctx, db=_OneSession(s)))
            audit.record(s, ctx, "data.restored", details={
                "file": name, "tables": len(restorable), "rows": rows_done,
                "source_company": (header.get("company") or {}).get("id"),
                "source_created_at": header.get("created_at")})
    except IntegrityError as exc:
        raise ValidationError(f"{name} does not hold together (a record points at one that "
                              "is not in the export); nothing was restored.",
                              field="path") from exc
    return RestoreResult(reader.path, len(restorable), rows_done, no_password, relogin)


def _restores(table_name: str) -> bool:
    rule = rule_for(table_name)
    return rule is not None and not rule.local_only and rule.restore


def _insert(s: Session, table: Any, rows: list[dict[str, Any]], outbox: bool) -> int:
    s.connection().execute(table.insert(), rows)
    if outbox:
        record_bulk(s, table.name, rows)
    return len(rows)


def _fix_people_and_device(s: Session, ctx: Context, login_key: str,
                           me_row: dict[str, Any] | None, dev_row: dict[str, Any] | None,
                           has_secret: bool) -> tuple[bool, list[str]]:
    """Keep the restoring admin able to log in, and this computer's device known."""
    conn = s.connection()
    relogin = False
    mine = s.scalars(select(User).where(User.login_key == login_key)).first()
    if mine is None and me_row is not None:
        admin_role = s.scalar(select(Role.id).where(Role.name == "admin"))
        if admin_role is None:
            raise ValidationError("The export has no admin role to give the person restoring "
                                  "it; nothing was restored.")
        conn.execute(User.__table__.insert(), [{**me_row, "role_id": admin_role}])
        record_bulk(s, "app_user", [{**me_row, "role_id": admin_role}])
    elif mine is not None and mine.id != ctx.actor.user_id:
        relogin = True
    others = [u for u in s.scalars(select(User.login_name).where(User.login_key != login_key,
                                                                 User.deleted_at.is_(None)))]
    if has_secret:
        secret = s.get(LocalSecret, THIS_DEVICE)
        assert secret is not None
        current = s.get(Device, uuid.UUID(bytes=bytes(secret.value)))
        if current is None:
            same_code = s.scalars(select(Device).where(Device.code == ctx.device.code)).first()
            if same_code is not None:
                secret.value = same_code.id.bytes
            elif dev_row is not None:
                row = {**dev_row, "branch_id": None}
                conn.execute(Device.__table__.insert(), [row])
                record_bulk(s, "device", [row])
            s.flush()
    s.expire_all()
    return relogin, sorted(others)


__all__ = [
    "KINDS", "DataImportReport", "ExportTable", "ImportKind", "JsonExportReader",
    "RestoreResult", "import_fields", "import_file", "import_json_export", "read_json_export",
]
