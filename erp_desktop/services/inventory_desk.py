"""What the Inventory screens need besides the area's own use cases.

- `product_form_choices` / `warehouse_form_choices`: the units, categories, tax
  categories and branches a form offers, in one read.
- `preview_product_import` reads a file's header and guesses which column
  feeds which product field; `run_product_import` runs the catalogue's import
  (`services.data_import`, the same rules as the CLI) as a dry run that is always
  rolled back, or for real, reporting progress and honouring cancel: a cancel
  at any moment rolls the one transaction back, so nothing is half written.
- `receive_stock` / `transfer_stock`: the stock use cases of `services.inventory`,
  whose refusal about one line (not enough stock, a quantity finer than the
  unit allows, an unknown product) comes back as `LineRefused` naming the line,
  so the form can show it beside that line (`services.inventory` names the
  line in the refusal itself: `UserError.line`).
- `count_line` and `post_counts`: a stock-take sheet's line for a scanned
  product, and "record these counts and post" as one transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import NotFound, UserError, ValidationError
from erp_desktop.models.company import Branch
from erp_desktop.models.database import Database
from erp_desktop.models.inventory import (
    ProductCategory,
    StockBalance,
    StockTake,
    UnitOfMeasure,
)
from erp_desktop.models.tax import TaxCategory
from erp_desktop.services import catalogue, data_import, inventory
from erp_desktop.services.catalogue import find_product_in_session
from erp_desktop.services.context import Context
from erp_desktop.services.importing import ImportRefused, iter_file_rows

Progress = Callable[[int, int, str], None]
Cancelled = Callable[[], bool]


class _SessionDb(Database):
    """Hands one open session to the use cases called inside another transaction."""

    def __init__(self, session: Session) -> None:  # no engine of its own
        self._session = session

    @contextmanager
    def write(self, actor_id: uuid.UUID | None = None) -> Iterator[Session]:
        yield self._session

    @contextmanager
    def read(self) -> Iterator[Session]:
        yield self._session

    def dispose(self) -> None:
        return None


class _RollBack(Exception):
    def __init__(self, result: Any = None) -> None:
        super().__init__("roll back")
        self.result = result


# --------------------------------------------------------------------------- form choices


@dataclass(frozen=True)
class Choice:
    key: str
    label: str


@dataclass(frozen=True)
class UnitChoice:
    code: str
    name: str
    decimal_places: int


@dataclass(frozen=True)
class ProductFormChoices:
    units: list[UnitChoice]  # the company's units and the standard ones not used yet
    categories: list[str]
    tax_categories: list[Choice]  # code, "code · name"
    currency: str


def product_form_choices(ctx: Context) -> ProductFormChoices:
    """What the product form offers in its lists, read once."""
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        units = {u.code: UnitChoice(u.code, u.name, u.decimal_places) for u in s.scalars(
            select(UnitOfMeasure).where(UnitOfMeasure.deleted_at.is_(None),
                                        UnitOfMeasure.active.is_(True)))}
        currency = catalogue.base_currency(s)
        cats = list(s.scalars(select(ProductCategory.name).where(
            ProductCategory.deleted_at.is_(None), ProductCategory.active.is_(True))
            .order_by(ProductCategory.name_key)))
        taxes = [Choice(code, f"{code} · {name}") for code, name in s.execute(
            select(TaxCategory.code, TaxCategory.name).where(
                TaxCategory.deleted_at.is_(None), TaxCategory.active.is_(True))
            .order_by(TaxCategory.code))]
    for code, (name, places) in catalogue.STANDARD_UNITS.items():
        units.setdefault(code, UnitChoice(code, name, places))
    ordered = sorted(units.values(), key=lambda u: (u.code != "pcs", u.code))
    return ProductFormChoices(ordered, cats, taxes, currency)


def warehouse_form_choices(ctx: Context) -> list[Choice]:
    """The branches a warehouse can belong to (the head office first)."""
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        return [Choice(b.code, f"{b.code} · {b.name}") for b in s.scalars(
            select(Branch).where(Branch.deleted_at.is_(None), Branch.active.is_(True))
            .order_by(Branch.created_at))]


# --------------------------------------------------------------------------- product import


@dataclass(frozen=True)
class ImportTarget:
    name: str
    label: str
    required: bool


# What each product field is called on screen, and the other headings people give it.
_TARGETS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("sku", "SKU", ("item code", "code", "product code")),
    ("name", "Name", ("product name", "item name", "description", "product")),
    ("unit", "Unit", ("uom", "unit of measure")),
    ("barcode", "Barcode", ("ean", "ean13", "ean-13", "upc", "gtin")),
    ("category", "Category", ("group",)),
    ("sale_price", "Sale price", ("price", "mrp", "selling price", "rate")),
    ("purchase_price", "Purchase price", ("cost", "cost price", "buying price")),
    ("tax_category", "Tax category", ("tax", "tax code", "gst")),
    ("hsn_sac", "HSN/SAC", ("hsn", "sac", "hsn code")),
    ("reorder_level", "Reorder level", ("min stock", "minimum stock")),
    ("reorder_qty", "Reorder quantity", ("reorder qty",)),
    ("is_service", "Service", ("is service",)),
    ("active", "Active", ()),
    ("notes", "Notes", ()),
)


def _norm(heading: str) -> str:
    return " ".join(heading.replace("_", " ").casefold().split())


@dataclass(frozen=True)
class ProductImportPreview:
    file_name: str
    header: list[str]  # the file's column headings, in file order
    targets: list[ImportTarget]
    guesses: dict[str, str | None]  # field -> the heading that feeds it (None: none)
    sample: list[list[str]]  # the first data rows, as text


def product_import_targets() -> list[ImportTarget]:
    """The product fields an import fills, in the catalogue's order."""
    required = {name for name, _label, req in data_import.import_fields("products") if req}
    known = {name for name, _l, _r in data_import.import_fields("products")}
    labels = {name: label for name, label, _a in _TARGETS}
    return [ImportTarget(name, labels.get(name, name.replace("_", " ").capitalize()),
                         name in required)
            for name in catalogue.PRODUCT_IMPORT_FIELDS if name in known]


def guess_mapping(header: Sequence[str]) -> dict[str, str | None]:
    """For each product field, the column whose heading names it (by field name,
    label or a usual alternative), each column used once."""
    spelled: dict[str, str] = {}
    for name, label, aliases in _TARGETS:
        for key in (name, label, *aliases):
            spelled.setdefault(_norm(key), name)
    out: dict[str, str | None] = {t.name: None for t in product_import_targets()}
    for heading in header:
        target = spelled.get(_norm(heading))
        if target in out and out[target] is None:
            out[target] = heading
    return out


def preview_product_import(ctx: Context, path: Path) -> ProductImportPreview:
    """The file's headings, a guess of the mapping, and its first rows."""
    ctx.require("data.import")
    path = Path(path)
    rows = iter_file_rows(path)
    try:
        header = next(rows, None)
        if header is None or not any(header):
            raise ValidationError(f"{path.name} is empty: the first row must name the columns.",
                                  field="path")
        sample = []
        for row in rows:
            if any(row):
                sample.append(row)
            if len(sample) >= 5:
                break
    finally:
        close = getattr(rows, "close", None)
        if close is not None:
            close()
    return ProductImportPreview(path.name, header, product_import_targets(),
                                guess_mapping(header), sample)


class ImportCancelled(UserError):
    """The person cancelled the import; the transaction was rolled back."""

    def __init__(self) -> None:
        super().__init__("The import was cancelled; nothing was written.")


def _count_rows(path: Path, progress: Progress | None, cancelled: Cancelled | None) -> int:
    n = 0
    for i, row in enumerate(iter_file_rows(path)):
        if i and any(row):
            n += 1
        if i % 500 == 0:
            if cancelled is not None and cancelled():
                raise ImportCancelled()
            if progress is not None and i:
                progress(0, 0, f"Reading {path.name}: {n:,} rows…")
    return n


def run_product_import(ctx: Context, path: Path, mapping: Mapping[str, str | None], *,
                       dry_run: bool = False, skip_bad_rows: bool = False,
                       progress: Progress | None = None,
                       cancelled: Cancelled | None = None) -> data_import.DataImportReport:
    """Import products from `path` with `mapping` (field -> the file's column heading).

    A dry run reads and checks everything the import would, then rolls back,
    returning the report with every bad row (line, column, reason). For real,
    bad rows refuse the file (`ImportRefused`) unless `skip_bad_rows`. Progress
    goes to `progress(done, total, text)`; once `cancelled()` says so, the next
    statement aborts and the transaction rolls back (`ImportCancelled`).
    """
    ctx.require("data.import")
    path = Path(path)
    by_column = {heading: fld for fld, heading in mapping.items() if heading}
    total = _count_rows(path, progress, cancelled)
    if progress is not None:
        progress(0, 0, (f"Checking {total:,} rows…" if dry_run else f"Importing {total:,} rows…"))

    def stop_if_cancelled(*_args: Any) -> None:
        if cancelled is not None and cancelled():
            raise ImportCancelled()

    report: data_import.DataImportReport
    try:
        with ctx.db.write(ctx.actor.user_id) as s:
            conn = s.connection()
            event.listen(conn, "before_cursor_execute", stop_if_cancelled)
            try:
                inner = replace(ctx, db=_SessionDb(s))
                try:
                    report = data_import.import_file(inner, "products", path,
                                                     mapping=by_column,
                                                     skip_bad_rows=skip_bad_rows)
                except ImportRefused as exc:
                    if not dry_run:
                        raise
                    got = exc.report
                    report = got if isinstance(got, data_import.DataImportReport) else \
                        data_import.DataImportReport(rows=got.rows, errors=got.errors)
                    report.refused = True
                    raise _RollBack(report) from None
                stop_if_cancelled()
                if dry_run:
                    raise _RollBack(report)
            finally:
                event.remove(conn, "before_cursor_execute", stop_if_cancelled)
    except _RollBack as done:
        report = done.result
        report.dry_run = True
        if report.refused:
            # Reported as what the real import would do: every good row, every bad one.
            report.skipped = 0
        return report
    if progress is not None:
        progress(total, total, report.summary())
    return report


# --------------------------------------------------------------------------- stock documents


class LineRefused(ValidationError):
    """A stock document was refused because of one of its lines (`line`, from 0)."""

    def __init__(self, message: str, line: int, line_field: str | None) -> None:
        super().__init__(message, field="lines")
        self.line = line
        self.line_field = line_field


_LINE_FIELDS = {"product", "quantity", "unit_cost", "counted"}


def _with_lines(ctx: Context, call: Callable[[Context, list[Any]], Any],
                lines: Sequence[Any]) -> Any:
    try:
        return call(ctx, list(lines))
    except UserError as exc:
        if exc.field not in _LINE_FIELDS or len(lines) == 0:
            raise
        if exc.line is None:  # the use case names the line it refuses (inventory.for_line)
            raise
        raise LineRefused(exc.message, exc.line, exc.field) from None


def receive_stock(ctx: Context, warehouse: uuid.UUID | str,
                  lines: Sequence[inventory.ReceiptLine], *, move_date: date | None = None,
                  note: str | None = None) -> inventory.StockDocument:
    """`inventory.receive_stock`, with a line's refusal as `LineRefused`."""
    ctx.require("inventory.stock.move")
    return _with_lines(ctx, lambda c, ls: inventory.receive_stock(
        c, warehouse, ls, move_date=move_date, note=note), lines)


def transfer_stock(ctx: Context, from_warehouse: uuid.UUID | str, to_warehouse: uuid.UUID | str,
                   lines: Sequence[inventory.IssueLine], *, move_date: date | None = None,
                   note: str | None = None) -> inventory.StockDocument:
    """`inventory.transfer_stock`, with a line's refusal as `LineRefused`."""
    ctx.require("inventory.stock.move")
    return _with_lines(ctx, lambda c, ls: inventory.transfer_stock(
        c, from_warehouse, to_warehouse, ls, move_date=move_date, note=note), lines)


# --------------------------------------------------------------------------- stock-take


@dataclass(frozen=True)
class CountLine:
    """A product as a stock-take sheet shows it: what the books expect there."""

    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    unit_places: int
    expected_qty: Decimal


def count_line(ctx: Context, take_id: uuid.UUID, code: str) -> CountLine:
    """The sheet line for a product scanned or typed (barcode, SKU or id) during a count."""
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        take = s.get(StockTake, take_id)
        if take is None or take.deleted_at is not None:
            raise NotFound("That stock-take does not exist.")
        p = find_product_in_session(s, code)
        if p.is_service:
            raise ValidationError(f"{p.name} is a service; services are not counted.",
                                  field="product")
        bal = s.get(StockBalance, (p.id, take.warehouse_id))
        unit = s.get(UnitOfMeasure, p.unit_id)
        assert unit is not None
        return CountLine(p.id, p.sku, p.name, unit.code, unit.decimal_places,
                         bal.quantity if bal is not None else Decimal("0.000"))


def save_counts(ctx: Context, take_id: uuid.UUID,
                counts: Mapping[uuid.UUID, Decimal | str | int]) -> inventory.StockTakeSheet:
    """`inventory.record_counts`; nothing counted yet is simply the sheet again."""
    ctx.require("inventory.stock.move")
    if not counts:
        return inventory.get_stock_take(ctx, take_id)
    return inventory.record_counts(ctx, take_id, counts)


def post_counts(ctx: Context, take_id: uuid.UUID,
                counts: Mapping[uuid.UUID, Decimal | str | int]) -> inventory.StockTakeSheet:
    """Record `counts` and post the sheet, in one transaction: the differences
    between counted and on-hand stock become adjustments (`inventory.post_stock_take`)."""
    ctx.require("inventory.stock.move")
    with ctx.db.write(ctx.actor.user_id) as s:
        inner = replace(ctx, db=_SessionDb(s))
        if counts:
            inventory.record_counts(inner, take_id, counts)
        return inventory.post_stock_take(inner, take_id)

