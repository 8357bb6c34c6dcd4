"""The Inventory area's paged lists: products, stock on hand, the stock card, stock moves,
warehouses and stock-takes (`services.list_queries.SqlListQuery` subclasses).

Each asks for `inventory.view`, as the inventory reports do, and reads through
an index wherever the list may grow long:

- products page in name order along `ix_product_name_key_id`, in SKU order
  along the unique SKU key, in barcode order along the unique barcode; the
  search box reads the catalogue's own FTS5 index (`product_fts`, the words
  of name, SKU and barcode; `domain.search.fts_query`), so "bol m8" finds
  "Hex bolt M8 x 40" and a scanned barcode finds its product;
- stock on hand is one row per product that holds stock (in one warehouse or
  in all), walked in product order; quantities and values are summed from the
  balance cache for the rows of the page only;
- the stock card is one product's moves in (date, id) order along
  `ix_stock_move_product_date`, each with the running balance: the balance
  before a page is one indexed sum, so any page costs what the first does;
- stock moves page by date along the move-date index (or the warehouse's).

Filters are named extras (`Filters.of(text, warehouse_id=..., low_stock=True)`);
the UI sets them, the SQL applies them.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    column,
    exists,
    false,
    func,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.domain.quantity import qty_from_int
from erp_desktop.domain.search import fts_query
from erp_desktop.models.company import Branch, Company
from erp_desktop.models.inventory import (
    Product,
    ProductCategory,
    ProductSearchKey,
    StockBalance,
    StockMove,
    StockTake,
    StockTakeLine,
    UnitOfMeasure,
    Warehouse,
)
from erp_desktop.models.security import User
from erp_desktop.services.context import Context
from erp_desktop.services.list_queries import SqlListQuery, rowid_of
from erp_desktop.services.listing import Column, ColumnKind, Filters, Sort

# What each kind of stock move is called on screen.
MOVE_KIND_LABELS: dict[str, str] = {
    "receipt": "Receipt",
    "issue": "Issue",
    "transfer_out": "Transfer out",
    "transfer_in": "Transfer in",
    "adjustment": "Adjustment",
    "stock_take": "Stock-take",
    "vendor_return": "Return to vendor",
}

STOCK_TAKE_STATUS_LABELS = {"draft": "Counting", "posted": "Posted", "cancelled": "Cancelled"}

_FTS = table("product_fts", column("rowid", Integer))


def _qty(value: object) -> Decimal:
    """A quantity summed in SQL (stored thousandths) or read through the column type."""
    if isinstance(value, Decimal):
        return value
    return qty_from_int(int(value or 0))


def _currency(session: Session) -> str:
    return session.scalar(select(Company.base_currency)) or "INR"


def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def matching_products(search: str) -> Select[Any] | None:
    """The ids of products whose name, SKU or barcode words begin with every word typed,
    from the catalogue's search index (None when nothing searchable was typed)."""
    match = fts_query(search)
    if match is None:
        return None
    K = ProductSearchKey
    return (select(K.product_id).select_from(_FTS).join(K, K.key == _FTS.c.rowid)
            .where(text("product_fts MATCH :inventory_fts").bindparams(inventory_fts=match)))


def _uuid_filter(filters: Filters, name: str) -> uuid.UUID | None:
    value = filters.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValidationError(f"The {name.replace('_id', '')} filter is not a valid id.",
                              field=name) from None


def _date_filter(filters: Filters, name: str) -> date | None:
    value = filters.get(name)
    if value is None:
        return None
    if not isinstance(value, date):
        raise ValidationError("A date filter must be a date.", field=name)
    return value


# ------------------------------------------------------------------------ products


@dataclass(frozen=True)
class ProductListRow:
    id: uuid.UUID
    sku: str
    barcode: str
    name: str
    category: str
    unit: str
    unit_places: int
    sale_price: Money
    purchase_price: Money
    on_hand: Decimal | None  # all warehouses; None for a service (no stock)
    reorder_level: Decimal | None  # None when no level is set
    reorder_qty: Decimal
    is_service: bool
    active: bool
    low: bool  # below its reorder level
    version: int


def _on_hand_of(product_id: Any, warehouse_id: uuid.UUID | None = None) -> Any:
    """Correlated sum of a product's balances (stored thousandths)."""
    cond = [StockBalance.product_id == product_id]
    if warehouse_id is not None:
        cond.append(StockBalance.warehouse_id == warehouse_id)
    return select(func.coalesce(func.sum(StockBalance.quantity), 0)).where(*cond) \
        .scalar_subquery()


class Products(SqlListQuery):
    """The catalogue: search by SKU, barcode or name words; filters `active`
    (True, False or absent for all), `low_stock`, `category_id`."""

    name = "inventory_products"
    permission = "inventory.view"
    table = Product.__table__
    columns = (
        Column("sku", "SKU", sortable=True, width_chars=12),
        Column("barcode", "Barcode", sortable=True, width_chars=14),
        Column("name", "Name", sortable=True, stretch=True),
        Column("category", "Category", width_chars=16),
        Column("unit", "Unit", width_chars=5),
        Column("sale_price", "Sale price", ColumnKind.MONEY, width_chars=11),
        Column("on_hand", "On hand", ColumnKind.QTY, width_chars=9),
        Column("reorder_level", "Reorder level", ColumnKind.QTY, width_chars=9),
    )
    default_sort = Sort("name")

    def selected(self) -> Select[Any]:
        P = Product
        return (select(P.id, P.sku, P.barcode, P.name, P.is_service, P.active, P.currency,
                       P.sale_price_minor, P.purchase_price_minor, P.reorder_level,
                       P.reorder_qty, P.version, UnitOfMeasure.code.label("unit"),
                       UnitOfMeasure.decimal_places.label("places"),
                       ProductCategory.name.label("category"),
                       _on_hand_of(P.id).label("on_hand"))
                .select_from(P.__table__)
                .join(UnitOfMeasure, UnitOfMeasure.id == P.unit_id)
                .outerjoin(ProductCategory, ProductCategory.id == P.category_id))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"name": (Product.name_key, Product.id), "sku": (Product.sku_key,),
                "barcode": (Product.barcode, self.key)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        P = Product
        out: list[ColumnElement[bool]] = [P.deleted_at.is_(None)]
        found = matching_products(filters.text)
        if found is not None:
            out.append(P.id.in_(found))
        active = filters.get("active")
        if active is not None:
            out.append(P.active.is_(bool(active)))
        if filters.get("low_stock"):
            out += [P.is_service.is_(False), P.reorder_level > 0,
                    _on_hand_of(P.id) < P.reorder_level]
        category = _uuid_filter(filters, "category_id")
        if category is not None:
            out.append(P.category_id == category)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        out = []
        for r in rows:
            on_hand = _qty(r.on_hand)
            level = r.reorder_level if r.reorder_level else None
            out.append(ProductListRow(
                r.id, r.sku, r.barcode or "", r.name, r.category or "", r.unit, r.places,
                Money.from_minor(r.sale_price_minor, r.currency),
                Money.from_minor(r.purchase_price_minor, r.currency),
                None if r.is_service else on_hand, level, r.reorder_qty, bool(r.is_service),
                bool(r.active), bool(level is not None and not r.is_service and on_hand < level),
                r.version))
        return out


# ------------------------------------------------------------------- stock on hand


@dataclass(frozen=True)
class StockOnHandListRow:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    warehouses: str  # the codes of the warehouses holding it ("MAIN, BACK")
    quantity: Decimal
    average_cost: Money
    value: Money
    low: bool


class StockOnHand(SqlListQuery):
    """Products that hold stock, with quantity, average cost and value: in the
    warehouse `warehouse_id`, or added up over every warehouse. Search as products."""

    name = "inventory_stock_on_hand"
    permission = "inventory.view"
    table = Product.__table__
    columns = (
        Column("sku", "SKU", sortable=True, width_chars=12),
        Column("name", "Product", sortable=True, stretch=True),
        Column("warehouses", "Warehouse", width_chars=12),
        Column("quantity", "On hand", ColumnKind.QTY, width_chars=10),
        Column("unit", "Unit", width_chars=5),
        Column("average_cost", "Average cost", ColumnKind.MONEY, width_chars=12),
        Column("value", "Value", ColumnKind.MONEY, width_chars=14),
    )
    default_sort = Sort("name")

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"name": (Product.name_key, Product.id), "sku": (Product.sku_key,)}

    def _where(self, filters: Filters) -> list[ColumnElement[bool]]:
        B = StockBalance
        cond = [B.product_id == Product.id]
        warehouse = _uuid_filter(filters, "warehouse_id")
        if warehouse is not None:
            cond.append(B.warehouse_id == warehouse)
        return cond

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        B = StockBalance
        out: list[ColumnElement[bool]] = [
            Product.deleted_at.is_(None),
            exists().where(*self._where(filters), or_(B.quantity != 0, B.value_minor != 0))]
        found = matching_products(filters.text)
        if found is not None:
            out.append(Product.id.in_(found))
        return out

    _filters = Filters()

    def fetch(self, ctx: Context, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Any]:
        # `selected` sums the balances the filter names: a copy per call carries the
        # filters, so the shared query object keeps no state (lists load on many threads).
        bound = copy.copy(self)
        bound._filters = filters
        return SqlListQuery.fetch(bound, ctx, filters, sort, start, limit, total)

    def selected(self) -> Select[Any]:
        B, P = StockBalance, Product
        where = self._where(self._filters)
        held = (select(func.group_concat(Warehouse.code, ", "))
                .select_from(B).join(Warehouse, Warehouse.id == B.warehouse_id)
                .where(*where, B.quantity != 0).scalar_subquery())
        return (select(P.id, P.sku, P.name, P.reorder_level, P.is_service,
                       UnitOfMeasure.code.label("unit"),
                       select(func.coalesce(func.sum(B.quantity), 0)).where(*where)
                       .scalar_subquery().label("q"),
                       select(func.coalesce(func.sum(B.value_minor), 0)).where(*where)
                       .scalar_subquery().label("v"),
                       select(func.max(B.last_unit_cost_minor)).where(*where)
                       .scalar_subquery().label("last_cost"),
                       held.label("held"))
                .select_from(P.__table__).join(UnitOfMeasure, UnitOfMeasure.id == P.unit_id))

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        cur = _currency(session)
        out = []
        for r in rows:
            q, v = _qty(r.q), int(r.v or 0)
            avg = _round(Decimal(v) / q) if q > 0 else int(r.last_cost or 0)
            level = r.reorder_level or Decimal(0)
            held = ", ".join(sorted((r.held or "").split(", "))) if r.held else ""
            out.append(StockOnHandListRow(r.id, r.sku, r.name, r.unit, held, q,
                                          Money.from_minor(avg, cur), Money.from_minor(v, cur),
                                          bool(level and q < level)))
        return out


# --------------------------------------------------------------------- stock card


@dataclass(frozen=True)
class StockCardListRow:
    move_id: uuid.UUID
    move_date: date
    kind: str
    kind_label: str
    reference: str
    warehouse_code: str
    quantity_in: Decimal | None
    quantity_out: Decimal | None
    unit_cost: Money
    value: Money  # signed
    balance_quantity: Decimal
    balance_value: Money
    reason: str
    by: str


@dataclass(frozen=True)
class _CardMove:
    id: uuid.UUID
    move_date: date
    kind: str
    reference: str | None
    warehouse_code: str
    quantity: Decimal
    unit_cost_minor: int
    value_minor: int
    reason: str | None
    by: str | None


class StockCard(SqlListQuery):
    """Every move of the product `product_id` (in `warehouse_id`, or all) in date
    order, each with the balance after it. Without a product the list is empty."""

    name = "inventory_stock_card"
    permission = "inventory.view"
    table = StockMove.__table__
    columns = (
        Column("move_date", "Date", ColumnKind.DATE, sortable=True, width_chars=11),
        Column("kind_label", "Move", width_chars=12),
        Column("reference", "Reference", width_chars=20),
        Column("warehouse_code", "Warehouse", width_chars=9),
        Column("quantity_in", "In", ColumnKind.QTY, width_chars=8),
        Column("quantity_out", "Out", ColumnKind.QTY, width_chars=8),
        Column("unit_cost", "Unit cost", ColumnKind.MONEY, width_chars=11),
        Column("balance_quantity", "Balance", ColumnKind.QTY, width_chars=9),
        Column("balance_value", "Balance value", ColumnKind.MONEY, width_chars=13),
        Column("reason", "Note", stretch=True),
    )
    default_sort = Sort("move_date")

    def selected(self) -> Select[Any]:
        M = StockMove
        return (select(M.id, M.move_date, M.kind, M.reference, M.quantity, M.unit_cost_minor,
                       M.value_minor, M.currency, M.reason, Warehouse.code.label("wcode"),
                       User.login_name)
                .select_from(M.__table__)
                .join(Warehouse, Warehouse.id == M.warehouse_id)
                .outerjoin(User, User.id == M.created_by))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"move_date": (StockMove.move_date, StockMove.id)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        product = _uuid_filter(filters, "product_id")
        if product is None:
            return [false()]
        out: list[ColumnElement[bool]] = [StockMove.product_id == product]
        warehouse = _uuid_filter(filters, "warehouse_id")
        if warehouse is not None:
            out.append(StockMove.warehouse_id == warehouse)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [_CardMove(r.id, r.move_date, r.kind, r.reference, r.wcode, _qty(r.quantity),
                          r.unit_cost_minor, r.value_minor, r.reason, r.login_name)
                for r in rows]

    def fetch(self, ctx: Context, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Any]:
        moves: list[_CardMove] = super().fetch(ctx, filters, sort, start, limit, total)
        if not moves:
            return []
        M = StockMove
        first = min(moves, key=lambda m: (m.move_date, m.id))
        with ctx.db.read() as s:
            cur = _currency(s)
            # The balance just before the page's earliest move: one range of the index.
            q, v = s.execute(
                select(func.coalesce(func.sum(M.quantity), 0),
                       func.coalesce(func.sum(M.value_minor), 0))
                .where(*self.conditions(s, filters),
                       or_(M.move_date < first.move_date,
                           and_(M.move_date == first.move_date, M.id < first.id)))).one()
        run_q, run_v = _qty(q), int(v)
        after: dict[uuid.UUID, tuple[Decimal, int]] = {}
        for m in sorted(moves, key=lambda m: (m.move_date, m.id)):
            run_q += m.quantity
            run_v += m.value_minor
            after[m.id] = (run_q, run_v)
        out = []
        for m in moves:
            bq, bv = after[m.id]
            out.append(StockCardListRow(
                m.id, m.move_date, m.kind, MOVE_KIND_LABELS.get(m.kind, m.kind),
                m.reference or "", m.warehouse_code,
                m.quantity if m.quantity > 0 else None,
                -m.quantity if m.quantity < 0 else None,
                Money.from_minor(m.unit_cost_minor, cur), Money.from_minor(m.value_minor, cur),
                bq, Money.from_minor(bv, cur), m.reason or "", m.by or ""))
        return out


# --------------------------------------------------------------------- stock moves


@dataclass(frozen=True)
class StockMoveListRow:
    id: uuid.UUID
    move_date: date
    reference: str
    kind: str
    kind_label: str
    product_id: uuid.UUID
    sku: str
    product: str
    warehouse_code: str
    quantity: Decimal  # signed
    unit: str
    unit_cost: Money
    value: Money  # signed
    reason: str


class StockMoves(SqlListQuery):
    """Every stock move, newest first; search reference or product words; filters
    `warehouse_id`, `product_id`, `kind`, `date_from`, `date_to`."""

    name = "inventory_stock_moves"
    permission = "inventory.view"
    table = StockMove.__table__
    columns = (
        Column("move_date", "Date", ColumnKind.DATE, sortable=True, width_chars=11),
        Column("reference", "Reference", width_chars=20),
        Column("kind_label", "Move", width_chars=14),
        Column("product", "Product", stretch=True),
        Column("warehouse_code", "Warehouse", width_chars=9),
        Column("quantity", "Quantity", ColumnKind.QTY, width_chars=9),
        Column("unit", "Unit", width_chars=5),
        Column("value", "Value", ColumnKind.MONEY, width_chars=13),
    )
    default_sort = Sort("move_date", descending=True)

    def selected(self) -> Select[Any]:
        M, P = StockMove, Product
        return (select(M.id, M.move_date, M.reference, M.kind, M.product_id, M.quantity,
                       M.unit_cost_minor, M.value_minor, M.currency, M.reason, P.sku,
                       P.name.label("product"), Warehouse.code.label("wcode"),
                       UnitOfMeasure.code.label("unit"))
                .select_from(M.__table__)
                .join(P, P.id == M.product_id)
                .join(Warehouse, Warehouse.id == M.warehouse_id)
                .join(UnitOfMeasure, UnitOfMeasure.id == P.unit_id))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"move_date": (StockMove.move_date, self.key)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        M = StockMove
        out: list[ColumnElement[bool]] = []
        if filters.text:
            found = matching_products(filters.text)
            by_ref = M.reference.startswith(filters.text.strip(), autoescape=True)
            out.append(or_(by_ref, M.product_id.in_(found)) if found is not None else by_ref)
        for name, col in (("warehouse_id", M.warehouse_id), ("product_id", M.product_id)):
            value = _uuid_filter(filters, name)
            if value is not None:
                out.append(col == value)
        kind = filters.get("kind")
        if kind:
            kinds = ("transfer_out", "transfer_in") if kind == "transfer" else (kind,)
            out.append(M.kind.in_(kinds))
        date_from, date_to = _date_filter(filters, "date_from"), _date_filter(filters, "date_to")
        if date_from is not None:
            out.append(M.move_date >= date_from)
        if date_to is not None:
            out.append(M.move_date <= date_to)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [StockMoveListRow(r.id, r.move_date, r.reference or "", r.kind,
                                 MOVE_KIND_LABELS.get(r.kind, r.kind), r.product_id, r.sku,
                                 r.product, r.wcode, _qty(r.quantity), r.unit,
                                 Money.from_minor(r.unit_cost_minor, r.currency),
                                 Money.from_minor(r.value_minor, r.currency), r.reason or "")
                for r in rows]


# ---------------------------------------------------------------------- warehouses


@dataclass(frozen=True)
class WarehouseListRow:
    id: uuid.UUID
    code: str
    name: str
    branch: str
    address: str
    status: str
    active: bool
    version: int


class Warehouses(SqlListQuery):
    """The warehouses (a short list: every column sorts); `include_inactive` filter."""

    name = "inventory_warehouses"
    permission = "inventory.view"
    table = Warehouse.__table__
    columns = (
        Column("code", "Code", sortable=True, width_chars=8),
        Column("name", "Name", sortable=True, width_chars=24),
        Column("branch", "Branch", width_chars=26),
        Column("address", "Address", stretch=True),
        Column("status", "Status", width_chars=9),
    )
    default_sort = Sort("code")

    def selected(self) -> Select[Any]:
        W = Warehouse
        return (select(W.id, W.code, W.name, W.address, W.active, W.version,
                       Branch.name.label("branch"), Branch.code.label("branch_code"))
                .select_from(W.__table__).outerjoin(Branch, Branch.id == W.branch_id))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"code": (Warehouse.code,), "name": (Warehouse.name, Warehouse.code)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        W = Warehouse
        out: list[ColumnElement[bool]] = [W.deleted_at.is_(None)]
        out += [or_(W.code.contains(w, autoescape=True), W.name.contains(w, autoescape=True))
                for w in filters.words]
        if not filters.get("include_inactive", True):
            out.append(W.active.is_(True))
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [WarehouseListRow(r.id, r.code, r.name,
                                 f"{r.branch_code} · {r.branch}" if r.branch_code else "",
                                 " ".join((r.address or "").split()),
                                 "Active" if r.active else "Closed", bool(r.active), r.version)
                for r in rows]


# ---------------------------------------------------------------------- stock-takes


@dataclass(frozen=True)
class StockTakeListRow:
    id: uuid.UUID
    count_date: date
    number: str
    warehouse_code: str
    status: str
    status_label: str
    lines: int
    counted: int
    note: str


class StockTakes(SqlListQuery):
    """Count sheets, newest first; `status` filter (draft, posted, cancelled).

    Sheets are few (one per count), so the count date sorts without an index.
    """

    name = "inventory_stock_takes"
    permission = "inventory.view"
    table = StockTake.__table__
    columns = (
        Column("count_date", "Date", ColumnKind.DATE, sortable=True, width_chars=11),
        Column("number", "Number", width_chars=20),
        Column("warehouse_code", "Warehouse", width_chars=9),
        Column("status_label", "Status", width_chars=9),
        Column("counted", "Counted", ColumnKind.NUMBER, width_chars=7),
        Column("lines", "Lines", ColumnKind.NUMBER, width_chars=6),
        Column("note", "Note", stretch=True),
    )
    default_sort = Sort("count_date", descending=True)

    def selected(self) -> Select[Any]:
        T, L = StockTake, StockTakeLine
        live = [L.stock_take_id == T.id, L.deleted_at.is_(None)]
        return (select(T.id, T.count_date, T.number, T.status, T.note,
                       Warehouse.code.label("wcode"),
                       select(func.count()).where(*live).scalar_subquery().label("n"),
                       select(func.count()).where(*live, L.counted_qty.is_not(None))
                       .scalar_subquery().label("counted"))
                .select_from(T.__table__).join(Warehouse, Warehouse.id == T.warehouse_id))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"count_date": (StockTake.count_date, rowid_of(StockTake.__table__))}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [StockTake.deleted_at.is_(None)]
        status = filters.get("status")
        if status:
            out.append(StockTake.status == status)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [StockTakeListRow(r.id, r.count_date, r.number or "", r.wcode, r.status,
                                 STOCK_TAKE_STATUS_LABELS.get(r.status, r.status), int(r.n),
                                 int(r.counted), r.note or "") for r in rows]


PRODUCTS = Products()
STOCK_ON_HAND = StockOnHand()
STOCK_CARD = StockCard()
STOCK_MOVES = StockMoves()
WAREHOUSES = Warehouses()
STOCK_TAKES = StockTakes()

