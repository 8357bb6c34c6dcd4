"""The catalogue: products, categories, units of measure, tax categories, search, import.

A product has a unique SKU, an optional unique barcode (EAN-13/UPC-A, check
digit verified), a unit whose decimal places limit its quantities, prices in
the company's currency, a tax category and HSN/SAC code, reorder level and
quantity, and may be a service (no stock). Search is what a shop counter needs:
an exact SKU or barcode, or the beginnings of any words of the name, answered
from the `product_fts` index (FTS5) in name order, one keyset page at a time.

`import_products` reads CSV or XLSX through `services.importing`: the whole
file is checked first and refused with every bad row listed, unless the user
asks to skip bad rows; rows whose SKU exists update that product. Rows are
written in chunks as the database stores them, through DB-API executemany
(`models.bulk`), with their search index rows and outbox rows (payloads built
from a per-import template, byte for byte what a flush writes) in the same
transaction. Plain numbers and barcodes take fast paths that fall back to the
full rules for anything else; the products a chunk updates are found with one
indexed query; an update that leaves the indexed columns or the searched words
as they were does not rewrite those indexes. See bench/inventory_bench.py and
docs/decisions/0011 for the figures and the baseline they are read against.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Integer, and_, column, func, or_, select, table, text
from sqlalchemy.orm import Session

from erp_desktop.domain.barcodes import BARCODE_LENGTHS, normalise_barcode
from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.domain.ids import new_id
from erp_desktop.domain.money import Money, minor_exponent, parse_decimal, to_minor
from erp_desktop.domain.quantity import check_places, parse_quantity, qty_from_int, qty_to_int
from erp_desktop.domain.search import fts_query, search_text
from erp_desktop.models.base import utcnow
from erp_desktop.models.bulk import (
    IdBatch,
    db_value,
    executemany,
    json_str,
    outbox_rows,
    uuid_text,
)
from erp_desktop.models.changes import record_bulk
from erp_desktop.models.company import Company
from erp_desktop.models.inventory import (
    IndexEntry,
    Product,
    ProductCategory,
    ProductSearchKey,
    StockBalance,
    UnitOfMeasure,
    clear_search_index,
    reindex_products,
)
from erp_desktop.models.tax import TaxCategory
from erp_desktop.services import audit
from erp_desktop.services.context import Context
from erp_desktop.services.importing import (
    FieldSpec,
    ImportReport,
    ParsedRow,
    RowError,
    check_report,
    iter_file_rows,
    map_header,
    parse_bool,
    parse_rows,
    parse_text,
)

MAX_PAGE = 1000
IMPORT_BATCH = 2000

# Units a new company can use without setting anything up; created on first use.
STANDARD_UNITS: dict[str, tuple[str, int]] = {
    "pcs": ("Pieces", 0), "nos": ("Numbers", 0), "box": ("Box", 0), "pack": ("Pack", 0),
    "pair": ("Pair", 0), "set": ("Set", 0), "doz": ("Dozen", 0), "roll": ("Roll", 0),
    "kg": ("Kilogram", 3), "g": ("Gram", 0), "m": ("Metre", 2), "cm": ("Centimetre", 0),
    "l": ("Litre", 3), "ml": ("Millilitre", 0), "sqm": ("Square metre", 2),
    "hr": ("Hour", 2),
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class UnitRow:
    id: uuid.UUID
    code: str
    name: str
    decimal_places: int
    active: bool


@dataclass(frozen=True)
class CategoryRow:
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    active: bool


@dataclass(frozen=True)
class TaxCategoryRow:
    id: uuid.UUID
    code: str
    name: str
    hsn_sac: str | None
    description: str | None
    active: bool


@dataclass(frozen=True)
class ProductInput:
    """A product as typed or imported; prices in the company's currency."""

    sku: str
    name: str
    unit: str = "pcs"
    barcode: str | None = None
    category: str | None = None  # name; created when new
    sale_price: Decimal | str | int | Money = Decimal(0)
    purchase_price: Decimal | str | int | Money = Decimal(0)
    tax_category: str | None = None  # code
    hsn_sac: str | None = None
    reorder_level: Decimal | str | int = Decimal(0)
    reorder_qty: Decimal | str | int = Decimal(0)
    is_service: bool = False
    active: bool = True
    notes: str | None = None


@dataclass(frozen=True)
class ProductRow:
    id: uuid.UUID
    sku: str
    barcode: str | None
    name: str
    category_id: uuid.UUID | None
    category: str | None
    unit: str
    unit_places: int
    is_service: bool
    sale_price: Money
    purchase_price: Money
    tax_category_id: uuid.UUID | None
    tax_category: str | None
    hsn_sac: str | None  # the product's own, else its tax category's
    reorder_level: Decimal
    reorder_qty: Decimal
    active: bool
    notes: str | None
    on_hand: Decimal  # all warehouses
    version: int


@dataclass(frozen=True)
class ProductCursor:
    """Where a page of products ended (name order): resume strictly after it."""

    name_key: str
    product_id: uuid.UUID


@dataclass(frozen=True)
class ProductPage:
    rows: list[ProductRow]
    next_cursor: ProductCursor | None


# --------------------------------------------------------------------------- helpers


def base_currency(s: Session) -> str:
    cur = s.scalar(select(Company.base_currency))
    if cur is None:
        raise NotFound("This company file has no company profile.")
    return cur


def _clean(value: str | None, label: str, field: str, max_len: int,
           required: bool = False) -> str | None:
    text = " ".join((value or "").split())
    if not text:
        if required:
            raise ValidationError(f"Enter the {label}.", field=field)
        return None
    if len(text) > max_len:
        raise ValidationError(f"The {label} is at most {max_len} characters.", field=field)
    return text


def clean_sku(value: str | None) -> str:
    sku = (value or "").strip()
    if not sku:
        raise ValidationError("Enter the SKU (the product's own code).", field="sku")
    if len(sku) > 64:
        raise ValidationError("A SKU is at most 64 characters.", field="sku")
    if len(sku.split()) > 1:  # any whitespace inside (the ends are stripped)
        raise ValidationError(f"SKU '{sku}' contains spaces; use letters, digits and dashes.",
                              field="sku")
    return sku


def _price_minor(value: object, currency: str, field: str, label: str) -> int:
    if isinstance(value, Money):
        if value.currency != currency:
            raise ValidationError(f"The {label} is in {value.currency}; prices are kept in "
                                  f"{currency}.", field=field)
        amount = value.amount
    else:
        amount = parse_decimal(value if value not in (None, "") else 0, field)
    if amount < 0:
        raise ValidationError(f"The {label} cannot be negative.", field=field)
    try:
        return to_minor(amount, currency)
    except ValidationError:
        raise ValidationError(f"The {label} {amount} has more decimal places than {currency} "
                              "allows.", field=field) from None


def _qty(value: object, field: str, label: str, places: int, unit: str) -> Decimal:
    qty = parse_quantity(value if value not in (None, "") else 0, field)
    if qty < 0:
        raise ValidationError(f"The {label} cannot be negative.", field=field)
    return check_places(qty, places, unit, field)


def _hsn(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > 10 or not text.isalnum():
        raise ValidationError(f"HSN/SAC code '{text}' must be up to 10 letters or digits.",
                              field="hsn_sac")
    return text


def get_unit(s: Session, code: str, *, create_standard: bool = True) -> UnitOfMeasure:
    """The unit with this code; a standard unit (pcs, kg ...) is created on first use."""
    key = (code or "").strip().casefold()
    unit = s.scalars(select(UnitOfMeasure).where(UnitOfMeasure.code == key,
                                                 UnitOfMeasure.deleted_at.is_(None))).first()
    if unit is None and create_standard and key in STANDARD_UNITS:
        name, places = STANDARD_UNITS[key]
        unit = UnitOfMeasure(code=key, name=name, decimal_places=places, active=True)
        s.add(unit)
        s.flush()
    if unit is None:
        known = sorted(set(STANDARD_UNITS) | set(s.scalars(select(UnitOfMeasure.code))))
        raise ValidationError(f"There is no unit '{code}'. Use one of: {', '.join(known)}.",
                              field="unit")
    return unit


def _category(s: Session, name: str | None, create: bool = True) -> ProductCategory | None:
    text = _clean(name, "category", "category", 120)
    if text is None:
        return None
    cat = s.scalars(select(ProductCategory).where(
        ProductCategory.name_key == text.casefold())).first()
    if cat is None and create:
        cat = ProductCategory(name=text, name_key=text.casefold(), active=True)
        s.add(cat)
        s.flush()
    if cat is None:
        raise ValidationError(f"There is no category '{text}'.", field="category")
    return cat


def _tax_category(s: Session, code: str | None) -> TaxCategory | None:
    text = (code or "").strip()
    if not text:
        return None
    tc = s.scalars(select(TaxCategory).where(func.upper(TaxCategory.code) == text.upper(),
                                             TaxCategory.deleted_at.is_(None))).first()
    if tc is None:
        raise ValidationError(f"There is no tax category '{text}'.", field="tax_category")
    return tc


_ROW_COLS = ("id", "sku", "barcode", "name", "category_id", "is_service", "currency",
             "sale_price_minor", "purchase_price_minor", "tax_category_id", "hsn_sac",
             "reorder_level", "reorder_qty", "active", "notes", "version")


def _row_stmt() -> Any:
    """The columns of a `ProductRow` (plain columns: no ORM objects to build per row)."""
    on_hand = (select(func.coalesce(func.sum(StockBalance.quantity), 0))
               .where(StockBalance.product_id == Product.id).scalar_subquery())
    return (select(*(getattr(Product, c) for c in _ROW_COLS),
                   UnitOfMeasure.code.label("unit_code"),
                   UnitOfMeasure.decimal_places.label("unit_places"),
                   ProductCategory.name.label("category_name"),
                   TaxCategory.code.label("tax_code"), TaxCategory.hsn_sac.label("tax_hsn"),
                   on_hand.label("on_hand"))
            .join(UnitOfMeasure, UnitOfMeasure.id == Product.unit_id)
            .outerjoin(ProductCategory, ProductCategory.id == Product.category_id)
            .outerjoin(TaxCategory, TaxCategory.id == Product.tax_category_id))


def _to_row(r: Any) -> ProductRow:
    on_hand = r.on_hand
    if not isinstance(on_hand, Decimal):
        on_hand = qty_from_int(on_hand or 0)
    return ProductRow(
        id=r.id, sku=r.sku, barcode=r.barcode, name=r.name, category_id=r.category_id,
        category=r.category_name, unit=r.unit_code, unit_places=r.unit_places,
        is_service=r.is_service,
        sale_price=Money.from_minor(r.sale_price_minor, r.currency),
        purchase_price=Money.from_minor(r.purchase_price_minor, r.currency),
        tax_category_id=r.tax_category_id, tax_category=r.tax_code,
        hsn_sac=r.hsn_sac or r.tax_hsn, reorder_level=r.reorder_level,
        reorder_qty=r.reorder_qty, active=r.active, notes=r.notes, on_hand=on_hand,
        version=r.version)


def _load_row(s: Session, product_id: uuid.UUID) -> ProductRow:
    r = s.execute(_row_stmt().where(Product.id == product_id)).first()
    if r is None:
        raise NotFound("That product does not exist.")
    return _to_row(r)


def find_product_in_session(s: Session, ref: uuid.UUID | str) -> Product:
    """A live product by id, SKU (any case) or barcode."""
    product = None
    if isinstance(ref, uuid.UUID):
        product = s.get(Product, ref)
    else:
        text = str(ref).strip()
        if text:
            product = s.scalars(select(Product).where(
                or_(Product.sku_key == text.casefold(), Product.barcode == text))).first()
            if product is None:
                try:
                    product = s.get(Product, uuid.UUID(text))
                except ValueError:
                    product = None
    if product is None or product.deleted_at is not None:
        raise NotFound(f"There is no product '{ref}'.", field="product")
    return product


# --------------------------------------------------------------------------- units, categories


def list_units(ctx: Context) -> list[UnitRow]:
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        return [UnitRow(u.id, u.code, u.name, u.decimal_places, u.active) for u in s.scalars(
            select(UnitOfMeasure).where(UnitOfMeasure.deleted_at.is_(None))
            .order_by(UnitOfMeasure.code))]


def create_unit(ctx: Context, code: str, name: str, decimal_places: int) -> UnitRow:
    """A unit of measure; `decimal_places` (0-3) is how finely it may be counted."""
    ctx.require("inventory.products.manage")
    key = (code or "").strip().casefold()
    if not key or len(key) > 10 or not key.replace(".", "").isalnum():
        raise ValidationError("A unit code is up to 10 letters or digits (pcs, kg, box).",
                              field="code")
    label = _clean(name, "unit's name", "name", 60, required=True)
    if not isinstance(decimal_places, int) or not 0 <= decimal_places <= 3:
        raise ValidationError("A unit allows 0 to 3 decimal places.", field="decimal_places")
    with ctx.db.write(ctx.actor.user_id) as s:
        if s.scalar(select(UnitOfMeasure.id).where(UnitOfMeasure.code == key)):
            raise ValidationError(f"There is already a unit '{key}'.", field="code")
        u = UnitOfMeasure(code=key, name=label, decimal_places=decimal_places, active=True)
        s.add(u)
        s.flush()
        return UnitRow(u.id, u.code, u.name, u.decimal_places, u.active)


def list_categories(ctx: Context) -> list[CategoryRow]:
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        return [CategoryRow(c.id, c.name, c.parent_id, c.active) for c in s.scalars(
            select(ProductCategory).where(ProductCategory.deleted_at.is_(None))
            .order_by(ProductCategory.name_key))]


def create_category(ctx: Context, name: str, parent: str | None = None) -> CategoryRow:
    ctx.require("inventory.products.manage")
    text = _clean(name, "category's name", "name", 120, required=True)
    assert text is not None
    with ctx.db.write(ctx.actor.user_id) as s:
        if s.scalar(select(ProductCategory.id)
                    .where(ProductCategory.name_key == text.casefold())):
            raise ValidationError(f"There is already a category '{text}'.", field="name")
        parent_row = _category(s, parent, create=False) if parent else None
        c = ProductCategory(name=text, name_key=text.casefold(),
                            parent_id=parent_row.id if parent_row else None, active=True)
        s.add(c)
        s.flush()
        return CategoryRow(c.id, c.name, c.parent_id, c.active)


def list_tax_categories(ctx: Context) -> list[TaxCategoryRow]:
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        return [TaxCategoryRow(t.id, t.code, t.name, t.hsn_sac, t.description, t.active)
                for t in s.scalars(select(TaxCategory).where(TaxCategory.deleted_at.is_(None))
                                   .order_by(TaxCategory.code))]


def create_tax_category(ctx: Context, code: str, name: str, hsn_sac: str | None = None,
                        description: str | None = None) -> TaxCategoryRow:
    """A tax category products point at (rates are added by the invoicing module)."""
    ctx.require("inventory.products.manage")
    key = (code or "").strip().upper()
    if not key or len(key) > 20 or not key.replace("-", "").replace("_", "").isalnum():
        raise ValidationError("A tax category code is up to 20 letters, digits or dashes.",
                              field="code")
    label = _clean(name, "tax category's name", "name", 120, required=True)
    hsn = _hsn(hsn_sac)
    with ctx.db.write(ctx.actor.user_id) as s:
        if s.scalar(select(TaxCategory.id).where(func.upper(TaxCategory.code) == key)):
            raise ValidationError(f"There is already a tax category {key}.", field="code")
        t = TaxCategory(code=key, name=label, hsn_sac=hsn,
                        description=(description or "").strip() or None, active=True)
        s.add(t)
        s.flush()
        return TaxCategoryRow(t.id, t.code, t.name, t.hsn_sac, t.description, t.active)


# --------------------------------------------------------------------------- products


@dataclass(frozen=True)
class _Clean:
    """A product's validated values, ready for a row (no database lookups)."""

    sku: str
    name: str
    barcode: str | None
    sale_price_minor: int
    purchase_price_minor: int
    hsn_sac: str | None
    reorder_level: Decimal
    reorder_qty: Decimal
    is_service: bool
    active: bool
    notes: str | None


def _clean_product(p: ProductInput, currency: str, unit_places: int, unit_code: str) -> _Clean:
    sku = clean_sku(p.sku)
    name = _clean(p.name, "product's name", "name", 200, required=True)
    assert name is not None
    notes = (p.notes or "").strip() or None
    if notes and len(notes) > 4000:
        raise ValidationError("Notes are at most 4000 characters.", field="notes")
    return _Clean(
        sku=sku, name=name, barcode=normalise_barcode(p.barcode),
        sale_price_minor=_price_minor(p.sale_price, currency, "sale_price", "sale price"),
        purchase_price_minor=_price_minor(p.purchase_price, currency, "purchase_price",
                                          "purchase price"),
        hsn_sac=_hsn(p.hsn_sac),
        reorder_level=_qty(p.reorder_level, "reorder_level", "reorder level", unit_places,
                           unit_code),
        reorder_qty=_qty(p.reorder_qty, "reorder_qty", "reorder quantity", unit_places,
                         unit_code),
        is_service=bool(p.is_service), active=bool(p.active), notes=notes)


def _check_unique(s: Session, sku: str, barcode: str | None,
                  exclude: uuid.UUID | None = None) -> None:
    other = s.execute(select(Product.id, Product.name).where(
        Product.sku_key == sku.casefold())).first()
    if other is not None and other.id != exclude:
        raise ValidationError(f"SKU {sku} is already used by '{other.name}'.", field="sku")
    if barcode:
        other = s.execute(select(Product.id, Product.name).where(
            Product.barcode == barcode)).first()
        if other is not None and other.id != exclude:
            raise ValidationError(f"Barcode {barcode} is already used by '{other.name}'.",
                                  field="barcode")


def create_product(ctx: Context, product: ProductInput) -> ProductRow:
    """Add a product (or a service) to the catalogue."""
    ctx.require("inventory.products.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        currency = base_currency(s)
        unit = get_unit(s, product.unit)
        c = _clean_product(product, currency, unit.decimal_places, unit.code)
        _check_unique(s, c.sku, c.barcode)
        category = _category(s, product.category)
        tax = _tax_category(s, product.tax_category)
        row = Product(sku=c.sku, sku_key=c.sku.casefold(), barcode=c.barcode, name=c.name,
                      name_key=c.name.casefold(), category_id=category.id if category else None,
                      unit_id=unit.id, is_service=c.is_service, currency=currency,
                      sale_price_minor=c.sale_price_minor,
                      purchase_price_minor=c.purchase_price_minor,
                      tax_category_id=tax.id if tax else None, hsn_sac=c.hsn_sac,
                      reorder_level=c.reorder_level, reorder_qty=c.reorder_qty,
                      active=c.active, notes=c.notes)
        s.add(row)
        s.flush()
        return _load_row(s, row.id)


_EDITABLE = {"sku", "name", "unit", "barcode", "category", "sale_price", "purchase_price",
             "tax_category", "hsn_sac", "reorder_level", "reorder_qty", "is_service", "active",
             "notes"}


def update_product(ctx: Context, product_id: uuid.UUID, *, version: int,
                   **changes: Any) -> ProductRow:
    """Change a product's fields (optimistic locking on `version`).

    The unit cannot change, nor can a product become a service or stop being
    one, once stock has moved: its history is counted in the old terms.
    """
    ctx.require("inventory.products.manage")
    unknown = set(changes) - _EDITABLE
    if unknown:
        raise ValidationError(f"Unknown product fields: {', '.join(sorted(unknown))}.")
    with ctx.db.write(ctx.actor.user_id) as s:
        row = find_product_in_session(s, product_id)
        if row.version != version:
            raise Conflict(f"Product {row.sku} was changed by someone else since you opened "
                           "it. Open it again to see the change, then retry.")
        currency = row.currency
        current = s.get(UnitOfMeasure, row.unit_id)
        assert current is not None
        unit = get_unit(s, changes["unit"]) if "unit" in changes else current
        cat_name = s.scalar(select(ProductCategory.name).where(
            ProductCategory.id == row.category_id)) if row.category_id else None
        tax_code = s.scalar(select(TaxCategory.code).where(
            TaxCategory.id == row.tax_category_id)) if row.tax_category_id else None
        base = ProductInput(
            sku=row.sku, name=row.name, unit=unit.code, barcode=row.barcode, category=cat_name,
            sale_price=Money.from_minor(row.sale_price_minor, currency),
            purchase_price=Money.from_minor(row.purchase_price_minor, currency),
            tax_category=tax_code, hsn_sac=row.hsn_sac, reorder_level=row.reorder_level,
            reorder_qty=row.reorder_qty, is_service=row.is_service, active=row.active,
            notes=row.notes)
        new = replace(base, **{k: v for k, v in changes.items() if k != "unit"})
        c = _clean_product(new, currency, unit.decimal_places, unit.code)
        _check_unique(s, c.sku, c.barcode, exclude=row.id)
        moved = s.scalar(select(StockBalance.product_id)
                         .where(StockBalance.product_id == row.id).limit(1)) is not None
        if moved and unit.id != row.unit_id:
            raise ValidationError(f"{row.name} has stock history in {current.code}; its unit "
                                  "cannot change. Make a new product instead.", field="unit")
        if moved and c.is_service != row.is_service:
            raise ValidationError(f"{row.name} has stock history; it cannot become a service "
                                  "(or stop being one).", field="is_service")
        category = _category(s, new.category) if "category" in changes else None
        tax = _tax_category(s, new.tax_category) if "tax_category" in changes else None
        row.sku, row.sku_key, row.barcode = c.sku, c.sku.casefold(), c.barcode
        row.name, row.name_key = c.name, c.name.casefold()
        row.unit_id = unit.id
        if "category" in changes:
            row.category_id = category.id if category else None
        if "tax_category" in changes:
            row.tax_category_id = tax.id if tax else None
        row.sale_price_minor, row.purchase_price_minor = c.sale_price_minor, \
            c.purchase_price_minor
        row.hsn_sac, row.reorder_level, row.reorder_qty = c.hsn_sac, c.reorder_level, \
            c.reorder_qty
        row.is_service, row.active, row.notes = c.is_service, c.active, c.notes
        s.flush()
        return _load_row(s, row.id)


def get_product(ctx: Context, ref: uuid.UUID | str) -> ProductRow:
    """A product by id, SKU or barcode."""
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        return _load_row(s, find_product_in_session(s, ref).id)


def find_by_code(ctx: Context, code: str) -> ProductRow | None:
    """The product whose SKU (any case) or barcode is exactly `code` (a scanner's read)."""
    ctx.require("inventory.view")
    text = (code or "").strip()
    if not text:
        return None
    with ctx.db.read() as s:
        r = s.execute(_row_stmt().where(
            or_(Product.sku_key == text.casefold(), Product.barcode == text),
            Product.deleted_at.is_(None))).first()
        return _to_row(r) if r is not None else None


_FTS = table("product_fts", column("rowid", Integer))


def _page_ids(s: Session, match: str | None, after: ProductCursor | None, limit: int, *,
              include_inactive: bool, category_id: uuid.UUID | None,
              include_services: bool) -> list[tuple[uuid.UUID, str]]:
    """(id, name key) of one page of products in name order.

    With a search, the FTS5 table drives (its MATCH is the cheap, selective
    part) and each match is read from `product_search_key` (its name key and
    active flag), so products are only touched for the rarer filters.
    Without one, the product table's (name_key, id) index is walked.
    """
    if match:
        K = ProductSearchKey
        stmt = (select(K.product_id, K.name_key).select_from(_FTS)
                .join(K, K.key == _FTS.c.rowid)
                .where(text("product_fts MATCH :fts_query").bindparams(fts_query=match)))
        if not include_inactive:
            stmt = stmt.where(K.active.is_(True))
        if category_id is not None or not include_services:
            stmt = stmt.join(Product, Product.id == K.product_id)
        key_col, id_col = K.name_key, K.product_id
    else:
        stmt = select(Product.id, Product.name_key).where(Product.deleted_at.is_(None))
        if not include_inactive:
            stmt = stmt.where(Product.active.is_(True))
        key_col, id_col = Product.name_key, Product.id
    if not include_services:
        stmt = stmt.where(Product.is_service.is_(False))
    if category_id is not None:
        stmt = stmt.where(Product.category_id == category_id)
    if after is not None:
        stmt = stmt.where(or_(key_col > after.name_key,
                              and_(key_col == after.name_key, id_col > after.product_id)))
    return [(r[0], r[1]) for r in s.execute(stmt.order_by(key_col, id_col).limit(limit))]


def list_products(ctx: Context, search: str | None = None, after: ProductCursor | None = None,
                  limit: int = 100, *, include_inactive: bool = False,
                  category_id: uuid.UUID | None = None,
                  include_services: bool = True) -> ProductPage:
    """Products in name order, one keyset page at a time, optionally matching `search`
    (beginnings of name words, SKU or barcode; every word must match)."""
    ctx.require("inventory.view")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    match = fts_query(search)
    with ctx.db.read() as s:
        # Two steps: the page's ids from a narrow query, then the full rows of those.
        found = _page_ids(s, match, after, limit + 1, include_inactive=include_inactive,
                          category_id=category_id, include_services=include_services)
        more = len(found) > limit
        found = found[:limit]
        full = {r.id: r for r in s.execute(
            _row_stmt().where(Product.id.in_([f[0] for f in found])))} if found else {}
        rows = [_to_row(full[pid]) for pid, _ in found]
        cursor = ProductCursor(found[-1][1], found[-1][0]) if more and found else None
        return ProductPage(rows, cursor)


def search_products(ctx: Context, text: str, limit: int = 20) -> list[ProductRow]:
    """What the counter's search box shows: an exact SKU or barcode first, then names."""
    exact = find_by_code(ctx, text)
    page = list_products(ctx, text, limit=limit)
    rows = [r for r in page.rows if exact is None or r.id != exact.id]
    return [exact, *rows][:limit] if exact is not None else rows


def rebuild_search_index(ctx: Context) -> int:
    """Rewrite every product's search index rows (after a sync or a tokenizer change)."""
    ctx.require("inventory.products.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        clear_search_index(s)
        count = 0
        last: uuid.UUID | None = None
        while True:
            q = select(Product.id, Product.name, Product.sku, Product.barcode,
                       Product.deleted_at, Product.active).order_by(Product.id
                                                                    ).limit(IMPORT_BATCH)
            if last is not None:
                q = q.where(Product.id > last)
            batch = s.execute(q).all()
            if not batch:
                break
            reindex_products(s, [(r.id.bytes, None if r.deleted_at is not None else
                                  search_text(r.name, r.sku, r.barcode), r.name.casefold(),
                                  bool(r.active)) for r in batch])
            count += len(batch)
            last = batch[-1].id
        return count


# --------------------------------------------------------------------------- import
#
# An import runs once per row of files with 100k rows, so the row path is
# written for speed: each file row becomes the product row as the database
# stores it, its search words and its outbox payload, with no ORM object, no
# Decimal for plain numbers and no per-row dict beyond the parsed values;
# lookups (units, tax categories, categories, the stored form of an existing
# product's ids and dates) are made once per distinct value; the products a
# chunk updates are found with one indexed query per chunk. Anything unusual
# in a row takes the slow path through `_clean_product`, which words refusals.


def _import_barcode(text: str) -> str | None:
    """`normalise_barcode` for a file cell, with a fast path for the usual cell.

    A plain run of ASCII digits of a barcode length whose GS1 check digit
    (weights 3 and 1 from the right) is right is accepted as it is; anything
    else (spaces, dashes, another length, a wrong check digit) goes to
    `normalise_barcode`, which cleans it or words the refusal. The fast path
    accepts exactly what `normalise_barcode` accepts unchanged (tested).
    """
    if len(text) in BARCODE_LENGTHS and text.isascii() and text.isdigit():
        b = text.encode("ascii")
        weight3, weight1 = b[-2::-2], b[-3::-2]
        total = 3 * (sum(weight3) - 48 * len(weight3)) + sum(weight1) - 48 * len(weight1)
        if (10 - total % 10) % 10 == b[-1] - 48:
            return text
    return normalise_barcode(text)


def _import_fields() -> list[FieldSpec]:
    return [
        FieldSpec("sku", "SKU", required=True, parse=clean_sku,
                  aliases=("item code", "code", "product code")),
        FieldSpec("name", "Name", required=True, parse=parse_text(200, "The name"),
                  aliases=("product name", "item name", "description")),
        FieldSpec("unit", "Unit", aliases=("uom", "unit of measure")),
        FieldSpec("barcode", "Barcode", parse=_import_barcode,
                  aliases=("ean", "ean13", "ean-13", "upc", "gtin")),
        FieldSpec("category", "Category", parse=parse_text(120, "The category")),
        FieldSpec("sale_price", "Sale price", aliases=("price", "mrp", "selling price")),
        FieldSpec("purchase_price", "Purchase price", aliases=("cost", "cost price")),
        FieldSpec("tax_category", "Tax category", aliases=("tax", "tax code")),
        FieldSpec("hsn_sac", "HSN/SAC", parse=_hsn, aliases=("hsn", "sac", "hsn code")),
        FieldSpec("reorder_level", "Reorder level", aliases=("min stock", "minimum stock")),
        FieldSpec("reorder_qty", "Reorder quantity", aliases=("reorder qty",)),
        FieldSpec("is_service", "Service", parse=parse_bool, aliases=("is service",)),
        FieldSpec("active", "Active", parse=parse_bool),
        FieldSpec("notes", "Notes", parse=parse_text(4000, "Notes")),
    ]


PRODUCT_IMPORT_FIELDS = tuple(f.name for f in _import_fields())

# Rows read and written per round (one lookup query, one executemany per table).
IMPORT_CHUNK = 5000

# Column order of the rows an import writes (DB-native values, see models.bulk).
_PRODUCT_COLS = ("id", "created_at", "updated_at", "updated_by", "version", "deleted_at",
                 "sku", "sku_key", "barcode", "name", "name_key", "category_id", "unit_id",
                 "is_service", "currency", "sale_price_minor", "purchase_price_minor",
                 "tax_category_id", "hsn_sac", "reorder_level", "reorder_qty", "active", "notes")
_INSERT_PRODUCT = ("INSERT INTO product (" + ", ".join(_PRODUCT_COLS) + ") VALUES ("
                   + ", ".join("?" * len(_PRODUCT_COLS)) + ")")
_UPDATE_COLS = _PRODUCT_COLS[2:]
_UPDATE_PRODUCT = ("UPDATE product SET " + ", ".join(f"{c} = ?" for c in _UPDATE_COLS)
                   + " WHERE id = ?")
# A re-imported row whose indexed columns are as they were (the SKU key it was found
# by, barcode, name key, category) is updated without them: SQLite then leaves the
# product's indexes alone, which is most of an update's cost.
_INDEXED_COLS = ("sku_key", "barcode", "name_key", "category_id")
_NARROW_COLS = tuple(c for c in _UPDATE_COLS if c not in _INDEXED_COLS)
_UPDATE_NARROW = ("UPDATE product SET " + ", ".join(f"{c} = ?" for c in _NARROW_COLS)
                  + " WHERE id = ?")
_narrow_values = itemgetter(*(_PRODUCT_COLS.index(c) for c in _NARROW_COLS))
# The products a chunk updates, by SKU key, and who holds its barcodes: one indexed
# query each per chunk (the keys go in as one JSON array). `_Ex` names the columns.
_EXISTING = ("SELECT id, created_at, version, sku_key, barcode, category_id, unit_id, is_service, "
             "sale_price_minor, purchase_price_minor, tax_category_id, hsn_sac, reorder_level, "
             "reorder_qty, active, notes, sku, name, name_key, deleted_at FROM product "
             "WHERE sku_key IN (SELECT value FROM json_each(?))")
_BARCODE_OWNERS = ("SELECT barcode, sku_key FROM product "
                   "WHERE barcode IN (SELECT value FROM json_each(?))")


class _Ex:
    """Positions in an `_EXISTING` row."""

    ID, CREATED, VERSION, SKU_KEY, BARCODE, CATEGORY, UNIT, SERVICE, SALE, COST, TAX, HSN, \
        LEVEL, QTY, ACTIVE, NOTES, SKU, NAME, NAME_KEY, DELETED = range(20)


# The outbox payload is the product's columns in sorted order (`changes.record_bulk`'s
# JSON). Per import, the columns every row shares are written into a template once;
# each row fills the others, in this order, with JSON it encodes itself.
_PAYLOAD_SHARED = ("currency", "deleted_at", "updated_at", "updated_by")
_PAYLOAD_ROW = ("active", "barcode", "category_id", "created_at", "hsn_sac", "id", "is_service",
                "name", "name_key", "notes", "purchase_price_minor", "reorder_level",
                "reorder_qty", "sale_price_minor", "sku", "sku_key", "tax_category_id",
                "unit_id", "version")
if _PAYLOAD_ROW != tuple(c for c in sorted(_PRODUCT_COLS) if c not in _PAYLOAD_SHARED):
    raise RuntimeError("_PAYLOAD_ROW must list the product's other columns in sorted order")

_MISSING: Any = object()
_MEMO_MAX = 50_000  # distinct values remembered per kind (amounts, quantities)


def _milli_text(milli: int) -> str:
    """A stored quantity as the ORM's outbox shows it (str of a 3-place Decimal)."""
    if milli >= 0:
        return f"{milli // 1000}.{milli % 1000:03d}"
    return str(qty_from_int(milli))


class _Ref(NamedTuple):
    """An id as stored (16 bytes), as text, and as a JSON string."""

    raw: bytes
    text: str
    json: str


def _ref(value: uuid.UUID | bytes) -> _Ref:
    raw = value.bytes if isinstance(value, uuid.UUID) else bytes(value)
    text = uuid_text(raw)
    return _Ref(raw, text, f'"{text}"')


@dataclass
class _ImportState:
    """What one import run knows: lookups, the file's columns, what it has seen."""

    currency: str
    exponent: int
    actor: _Ref | None
    now_db: object  # the batch timestamp as stored
    now_json: str  # ... and as the outbox shows it (a JSON string)
    payload: str  # the outbox payload with the shared columns filled, %s for the others
    columns: dict[str, str]  # field name -> the file's column header
    units: dict[str, tuple[_Ref, int, str]]  # code -> id, places, code
    unit_codes: dict[bytes, str]
    categories: dict[str, _Ref]  # name_key -> id
    taxes: dict[str, _Ref]  # CODE -> id
    new_categories: dict[str, dict[str, Any]]
    seen_sku: dict[str, int]  # sku_key -> line
    seen_barcode: dict[str, int]  # barcode -> line
    # Answers already worked out, by the cell's text or the stored value.
    unit_memo: dict[str, tuple[_Ref, int, str] | None]
    tax_memo: dict[str, _Ref | None]
    category_memo: dict[str, _Ref]
    refs: dict[bytes, _Ref]
    created_memo: dict[object, str]
    milli_memo: dict[int, dict[str, int | None]]  # unit places -> quantity text -> stored
    milli_json: dict[int, str]  # stored quantity -> its JSON in the payload
    actor_raw: bytes | None = None
    # No product existed when the import began: no row can update one, and a clash with
    # a row written by this import is an in-file duplicate (seen_*), so no lookups.
    catalogue_was_empty: bool = False

    def col(self, field: str) -> str:
        return self.columns.get(field, field)

    def ref(self, raw: bytes) -> _Ref:
        found = self.refs.get(raw)
        if found is None:
            found = self.refs[raw] = _ref(raw)
        return found


def _payload_template(currency: str, now_json: str, actor: _Ref | None) -> str:
    shared = {"currency": json_str(currency), "deleted_at": "null", "updated_at": now_json,
              "updated_by": actor.json if actor else "null"}
    return "{" + ",".join(
        f'"{c}":' + (shared[c].replace("%", "%%") if c in shared else "%s")
        for c in sorted(_PRODUCT_COLS)) + "}"


def _import_state(s: Session, columns: dict[str, str], actor_id: uuid.UUID | None
                  ) -> _ImportState:
    currency = base_currency(s)
    exp = minor_exponent(currency)
    units = {u.code: (_ref(u.id), u.decimal_places, u.code)
             for u in s.scalars(select(UnitOfMeasure).where(UnitOfMeasure.deleted_at.is_(None)))}
    cats = {k: _ref(i) for k, i in s.execute(select(ProductCategory.name_key, ProductCategory.id)
                                             .where(ProductCategory.deleted_at.is_(None)))}
    taxes = {c.upper(): _ref(i) for c, i in s.execute(
        select(TaxCategory.code, TaxCategory.id).where(TaxCategory.deleted_at.is_(None)))}
    now = utcnow()
    actor = _ref(actor_id) if actor_id else None
    now_json = json_str(now.isoformat())
    return _ImportState(currency, exp, actor,
                        db_value(s, Product.__table__.c.created_at, now), now_json,
                        _payload_template(currency, now_json, actor), columns, units,
                        {u[0].raw: code for code, u in units.items()}, cats, taxes, {}, {}, {},
                        {}, {}, {}, {}, {}, {}, {},
                        actor.raw if actor else None,
                        s.execute(select(Product.id).limit(1)).first() is None)


def _unit_for(s: Session, st: _ImportState, code: str) -> tuple[_Ref, int, str] | None:
    key = code.strip().casefold()
    unit = st.units.get(key)
    if unit is None and key in STANDARD_UNITS:
        u = get_unit(s, key)
        unit = st.units[key] = (_ref(u.id), u.decimal_places, u.code)
        st.unit_codes[unit[0].raw] = key
    return unit


def _fast_minor(text: str, exponent: int) -> int | None:
    """A plain amount ("1234.5") in minor units without Decimal; None: use the slow path."""
    if text.__class__ is not str:
        return None
    # What `\d{1,13}(\.\d{1,exponent})?` matches (isdecimal is regex's \d), sans regex.
    whole, dot, frac = text.partition(".")
    if whole.isdecimal() and len(whole) <= 13 and (
            not dot or (frac.isdecimal() and len(frac) <= exponent)):
        return int(whole + frac.ljust(exponent, "0"))
    return None


def _fast_milli(text: str, places: int, st: _ImportState) -> int | None:
    """A plain quantity as stored (thousandths) if it fits the unit; else None."""
    memo = st.milli_memo.get(places)
    if memo is None:
        memo = st.milli_memo[places] = {}
    found = memo.get(text, _MISSING)
    if found is not _MISSING:
        return found  # type: ignore[no-any-return]
    milli = None
    if text.__class__ is str:
        # What `\d{1,12}(\.\d{1,3})?` matches, and no finer than the unit allows (else
        # the slow path says what is wrong).
        whole, dot, frac = text.partition(".")
        if whole.isdecimal() and len(whole) <= 12 and (
                not dot or (frac.isdecimal() and len(frac) <= 3
                            and len(frac.rstrip("0")) <= places)):
            milli = int(whole + frac.ljust(3, "0"))
    if len(memo) < _MEMO_MAX:
        memo[text] = milli
    return milli


def _milli_json(milli: int, st: _ImportState) -> str:
    found = st.milli_json.get(milli)
    if found is None:
        found = f'"{_milli_text(milli)}"'
        if len(st.milli_json) < _MEMO_MAX:
            st.milli_json[milli] = found
    return found


# One good file row: the product row as stored, its outbox payload, its search words.
_Built = tuple[tuple[Any, ...], str, str]


def _import_row(s: Session, values: dict[str, object], st: _ImportState, line: int,
                ex: tuple[Any, ...] | None, new_raw: bytes | None
                ) -> tuple[_Built | None, list[RowError] | None]:
    """One file row as a product row (merged over the existing product `ex`, else a new
    product with the id `new_raw`), or its problems.

    Columns missing from the file keep the existing product's values on re-import.
    Plain numbers take a fast path; anything else goes through `_clean_product`,
    which accepts what a person types and words the refusals.
    """
    get = values.get
    unit_text = get("unit") or (st.unit_codes.get(ex[_Ex.UNIT], "pcs") if ex else "pcs")
    unit = st.unit_memo.get(unit_text, _MISSING)  # type: ignore[call-overload]
    if unit is _MISSING:
        unit = st.unit_memo[unit_text] = _unit_for(s, st, str(unit_text))  # type: ignore[index]
    errors = None
    if unit is None:
        errors = [RowError(line, st.col("unit"), f"There is no unit '{unit_text}'.")]
    tax_text = get("tax_category")
    if tax_text:
        tax = st.tax_memo.get(tax_text, _MISSING)  # type: ignore[call-overload]
        if tax is _MISSING:
            tax = st.tax_memo[tax_text] = st.taxes.get(  # type: ignore[index]
                str(tax_text).strip().upper())
        if tax is None:
            errors = errors or []
            errors.append(RowError(line, st.col("tax_category"),
                                   f"There is no tax category '{tax_text}'."))
    else:
        tax = st.ref(ex[_Ex.TAX]) if ex and ex[_Ex.TAX] else None
    if errors:
        return None, errors
    places = unit[1]
    # A cell the file leaves out (or blank) keeps the existing product's value.
    text = get("sale_price", _MISSING)
    sale = (ex[_Ex.SALE] if ex else 0) if text is _MISSING else _fast_minor(text, st.exponent)  # type: ignore[arg-type]
    text = get("purchase_price", _MISSING)
    cost = (ex[_Ex.COST] if ex else 0) if text is _MISSING else _fast_minor(text, st.exponent)  # type: ignore[arg-type]
    text = get("reorder_level", _MISSING)
    level = (ex[_Ex.LEVEL] if ex else 0) if text is _MISSING else _fast_milli(
        text, places, st)  # type: ignore[arg-type]
    text = get("reorder_qty", _MISSING)
    qty = (ex[_Ex.QTY] if ex else 0) if text is _MISSING else _fast_milli(
        text, places, st)  # type: ignore[arg-type]
    name = " ".join(str(values["name"]).split())
    text = get("notes", _MISSING)
    notes = (ex[_Ex.NOTES] if ex else None) if text is _MISSING else (str(text).strip() or None)
    barcode = get("barcode", _MISSING)
    if barcode is _MISSING:
        barcode = ex[_Ex.BARCODE] if ex else None
    hsn = get("hsn_sac", _MISSING)
    if hsn is _MISSING:
        hsn = ex[_Ex.HSN] if ex else None
    text = get("is_service", _MISSING)
    is_service = (bool(ex[_Ex.SERVICE]) if ex else False) if text is _MISSING else bool(text)
    text = get("active", _MISSING)
    active = (bool(ex[_Ex.ACTIVE]) if ex else True) if text is _MISSING else bool(text)
    if sale is None or cost is None or level is None or qty is None or not name \
            or len(name) > 200:
        try:
            clean = _clean_product(ProductInput(
                sku=str(values["sku"]), name=name, unit=unit[2], barcode=barcode,  # type: ignore[arg-type]
                sale_price=values.get("sale_price", Money.from_minor(sale or 0, st.currency)),  # type: ignore[arg-type]
                purchase_price=values.get("purchase_price",
                                          Money.from_minor(cost or 0, st.currency)),  # type: ignore[arg-type]
                hsn_sac=hsn, reorder_level=values.get("reorder_level",  # type: ignore[arg-type]
                                                      qty_from_int(level or 0)),
                reorder_qty=values.get("reorder_qty", qty_from_int(qty or 0)),  # type: ignore[arg-type]
                is_service=is_service, active=active, notes=notes), st.currency, places,
                unit[2])
        except ValidationError as exc:
            return None, [RowError(line, st.col(exc.field or ""), exc.message)]
        sale, cost = clean.sale_price_minor, clean.purchase_price_minor
        level, qty = qty_to_int(clean.reorder_level), qty_to_int(clean.reorder_qty)
        name, notes = clean.name, clean.notes
    cat_text = get("category")
    if cat_text:
        cat = st.category_memo.get(cat_text)  # type: ignore[call-overload]
        if cat is None:
            cat_name = " ".join(str(cat_text).split())
            key = cat_name.casefold()
            cat = st.categories.get(key)
            if cat is None:
                cat = st.categories[key] = _ref(new_id())
                st.new_categories[key] = {"id": cat.raw, "name": cat_name, "name_key": key}
            st.category_memo[cat_text] = cat  # type: ignore[index]
    else:
        cat = st.ref(ex[_Ex.CATEGORY]) if ex and ex[_Ex.CATEGORY] else None
    sku = str(values["sku"])
    sku_key = sku.casefold()
    name_key = name.casefold()
    if ex is not None:
        raw_id, created_db, version = ex[_Ex.ID], ex[_Ex.CREATED], ex[_Ex.VERSION] + 1
        created_json = st.created_memo.get(created_db)
        if created_json is None:
            created_json = st.created_memo[created_db] = json_str(datetime.fromisoformat(
                str(created_db)).replace(tzinfo=UTC).isoformat())
    else:
        raw_id, created_db, version, created_json = new_raw, st.now_db, 1, st.now_json
    unit_ref = unit[0]
    db = (raw_id, created_db, st.now_db, st.actor_raw, version, None, sku, sku_key, barcode,
          name, name_key, cat.raw if cat else None, unit_ref.raw, is_service, st.currency, sale,
          cost, tax.raw if tax else None, hsn, level, qty, active, notes)
    h = raw_id.hex()  # type: ignore[union-attr]
    payload = st.payload % (  # the columns of _PAYLOAD_ROW, in that order
        "true" if active else "false",
        "null" if barcode is None else json_str(barcode),
        cat.json if cat else "null",
        created_json,
        "null" if hsn is None else json_str(hsn),
        f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"',  # uuid_text
        "true" if is_service else "false",
        json_str(name),
        json_str(name_key),
        "null" if notes is None else json_str(notes),
        int(cost),  # type: ignore[arg-type]
        _milli_json(level, st),  # type: ignore[arg-type]
        _milli_json(qty, st),  # type: ignore[arg-type]
        int(sale),  # type: ignore[arg-type]
        json_str(sku),
        json_str(sku_key),
        tax.json if tax else "null",
        unit_ref.json,
        version,
    )
    return (db, payload, search_text(name, sku, barcode)), None  # type: ignore[arg-type]


def _chunks(it: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for x in it:
        batch.append(x)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def import_products(ctx: Context, path: Path, *, mapping: Mapping[str, str] | None = None,
                    skip_bad_rows: bool = False, sheet: str | None = None) -> ImportReport:
    """Import products from a CSV or XLSX file (see module docstring).

    `mapping` maps file column headers to fields (`PRODUCT_IMPORT_FIELDS`);
    other columns are matched by name. Raises `ImportRefused` (carrying the
    report of every bad row) when rows are bad and `skip_bad_rows` is false;
    then nothing is written. Otherwise returns the report (bad rows skipped).
    """
    ctx.require("data.import")
    fields = _import_fields()
    report = ImportReport()
    rows = iter_file_rows(Path(path), sheet=sheet)
    header = next(rows, None)
    if header is None or not any(header):
        raise ValidationError(f"{Path(path).name} is empty: the first row must name the "
                              "columns.", field="path")
    columns = map_header(header, fields, mapping)
    # One transaction: a refused file, or any failure, leaves the catalogue untouched.
    with ctx.db.write(ctx.actor.user_id) as s:
        st = _import_state(s, {spec.name: header[i] for i, spec in columns.items()},
                           ctx.actor.user_id)
        for batch in _chunks(parse_rows(rows, header, columns, fields), IMPORT_CHUNK):
            _import_batch(s, batch, st, report, skip_bad_rows)
        check_report(report, skip_bad_rows)  # raises on bad rows: everything rolls back
        report.skipped = len(report.bad_lines)
        audit.record(s, ctx, "inventory.products_imported", entity="product",
                     details={"file": Path(path).name, "rows": report.rows,
                              "created": report.created, "updated": report.updated,
                              "skipped": report.skipped})
    return report


def _import_batch(s: Session, batch: list[ParsedRow], st: _ImportState, report: ImportReport,
                  skip_bad_rows: bool) -> None:
    report.rows += len(batch)
    conn = s.connection()
    row_keys = [str(r.values.get("sku", "")).casefold() for r in batch]
    keys = list({k for k in row_keys if k})
    existing: dict[str, tuple[Any, ...]] = {}
    barcode_owner: dict[str, str] = {}
    if not st.catalogue_was_empty:
        if keys:
            existing = {r[_Ex.SKU_KEY]: tuple(r)
                        for r in conn.exec_driver_sql(_EXISTING, (json.dumps(keys),))}
        codes = list({str(r.values["barcode"]) for r in batch if r.values.get("barcode")})
        if codes:
            barcode_owner = dict(conn.exec_driver_sql(_BARCODE_OWNERS,
                                                      (json.dumps(codes),)).all())
    fresh = iter(IdBatch(len(batch)).raw)
    new_db: list[tuple[Any, ...]] = []
    new_index: list[IndexEntry] = []
    new_outbox: list[tuple[bytes, int | None, str]] = []
    upd_full: list[tuple[Any, ...]] = []
    upd_narrow: list[tuple[Any, ...]] = []
    upd_index: list[IndexEntry] = []
    upd_outbox: list[tuple[bytes, int | None, str]] = []
    seen_sku, seen_barcode = st.seen_sku, st.seen_barcode
    for parsed, key in zip(batch, row_keys, strict=True):
        values = parsed.values
        prev = existing.get(key)
        built = None
        errors: list[RowError] | None = parsed.errors
        if not errors:
            built, errors = _import_row(s, values, st, parsed.line, prev,
                                        None if prev is not None else next(fresh))
        else:
            errors = list(errors)
        if key:
            if key in seen_sku:
                errors = errors or []
                errors.append(RowError(parsed.line, st.col("sku"),
                                       f"SKU {values['sku']} is also on line "
                                       f"{seen_sku[key]}."))
            else:
                seen_sku[key] = parsed.line
        code = values.get("barcode")
        if code:
            code = str(code)
            if code in seen_barcode:
                errors = errors or []
                errors.append(RowError(parsed.line, st.col("barcode"),
                                       f"Barcode {code} is also on line "
                                       f"{seen_barcode[code]}."))
            else:
                seen_barcode[code] = parsed.line
                owner = barcode_owner.get(code)
                if owner is not None and owner != key:
                    errors = errors or []
                    errors.append(RowError(parsed.line, st.col("barcode"),
                                           f"Barcode {code} is already used by another "
                                           "product."))
        if errors:
            report.errors.extend(errors)
            continue
        assert built is not None
        db, payload, words = built
        pid = db[0]
        if prev is None:
            new_db.append(db)
            new_index.append((pid, words, db[10], db[21]))
            new_outbox.append((pid, 1, payload))
            continue
        upd_outbox.append((pid, db[4], payload))
        if prev[_Ex.BARCODE] == db[8] and prev[_Ex.NAME_KEY] == db[10] \
                and prev[_Ex.CATEGORY] == db[11]:
            upd_narrow.append((*_narrow_values(db), pid))
        else:
            upd_full.append((*db[2:], pid))
        # The search index follows name, SKU, barcode and active (as the ORM's hook
        # does); a live product whose four are unchanged keeps its index rows.
        if prev[_Ex.DELETED] is not None or prev[_Ex.NAME] != db[9] \
                or prev[_Ex.SKU] != db[6] or prev[_Ex.BARCODE] != db[8] \
                or bool(prev[_Ex.ACTIVE]) != db[21]:
            upd_index.append((pid, words, db[10], db[21]))
    if report.errors and not skip_bad_rows:
        return  # the file will be refused; read on only to report every bad row
    _write_new_categories(s, st)
    executemany(s, _INSERT_PRODUCT, new_db)
    executemany(s, _UPDATE_PRODUCT, upd_full)
    executemany(s, _UPDATE_NARROW, upd_narrow)
    reindex_products(s, new_index, all_new=True)
    reindex_products(s, upd_index)
    # Outbox rows as changes.record_bulk writes them (same payload JSON).
    outbox_rows(s, "product", new_outbox)
    outbox_rows(s, "product", upd_outbox, op="update")
    report.created += len(new_db)
    report.updated += len(upd_outbox)


def _write_new_categories(s: Session, st: _ImportState) -> None:
    """Categories first met in this batch, written before the products that use them."""
    if not st.new_categories:
        return
    now = utcnow()
    cats = [{**c, "id": uuid.UUID(bytes=c["id"]), "created_at": now, "updated_at": now,
             "version": 1, "updated_by": st.actor and uuid.UUID(bytes=st.actor.raw),
             "deleted_at": None, "parent_id": None, "active": True}
            for c in st.new_categories.values()]
    s.connection().execute(ProductCategory.__table__.insert(), cats)
    record_bulk(s, "product_category", cats)
    st.new_categories.clear()
