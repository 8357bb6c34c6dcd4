"""The catalogue and the stock ledger: products, units, categories, warehouses,
stock moves, the balance cache, the product search index and stock-takes.

- `StockMove` is append-only (`Record`): every change of stock is one signed
  move with its unit cost and value; nothing else changes stock.
- `StockBalance` is a cache per (product, warehouse), written in the same
  transaction as the moves and rebuilt from them by `services.inventory`. It
  is local to this file (not synced): every device derives it from the moves.
- The product search index is an FTS5 table (`product_fts`, created by
  `PRODUCT_FTS_DDL`) holding the words of each product's name, SKU and
  barcode (`domain.search`), keyed through `ProductSearchKey`. Any ORM flush
  of a product keeps it current in the same transaction (hooks below); bulk
  Core writers (imports, sync) call `reindex_products`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from erp_desktop.domain.ids import new_id
from erp_desktop.domain.search import TOKEN_CHARS, search_text
from erp_desktop.models.base import Base, Entity, Record, money_property, utcnow

MOVE_KINDS = ("receipt", "issue", "transfer_out", "transfer_in", "adjustment", "stock_take",
              "vendor_return")


class UnitOfMeasure(Entity, Base):
    """pcs, kg, m, l, box ...: how a product is counted and how finely."""

    __tablename__ = "unit_of_measure"

    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    decimal_places: Mapped[int] = mapped_column(default=0)  # 0 for pcs, 3 for kg
    active: Mapped[bool] = mapped_column(default=True)


class ProductCategory(Entity, Base):
    __tablename__ = "product_category"

    name: Mapped[str] = mapped_column(String(120))
    name_key: Mapped[str] = mapped_column(String(120), unique=True)  # casefolded
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product_category.id"))
    active: Mapped[bool] = mapped_column(default=True)


class Product(Entity, Base):
    """A thing the business buys or sells; services (`is_service`) carry no stock."""

    __tablename__ = "product"
    __table_args__ = (
        Index("ix_product_name_key_id", "name_key", "id"),  # keyset pages in name order
        Index(None, "category_id"),
    )

    sku: Mapped[str] = mapped_column(String(64))
    sku_key: Mapped[str] = mapped_column(String(64), unique=True)  # casefolded SKU
    barcode: Mapped[str | None] = mapped_column(String(14), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))  # casefolded, for sorting
    category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("product_category.id"))
    unit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("unit_of_measure.id"))
    is_service: Mapped[bool] = mapped_column(default=False)
    currency: Mapped[str] = mapped_column(String(3))
    sale_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    purchase_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_category_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tax_category.id"))
    hsn_sac: Mapped[str | None] = mapped_column(String(10))
    reorder_level: Mapped[Decimal] = mapped_column(default=Decimal(0))
    reorder_qty: Mapped[Decimal] = mapped_column(default=Decimal(0))
    active: Mapped[bool] = mapped_column(default=True)
    notes: Mapped[str | None] = mapped_column(Text)

    sale_price = money_property("sale_price_minor")
    purchase_price = money_property("purchase_price_minor")


class ProductSearchKey(Base):
    """The search index's integer key of each product (see module docstring).

    FTS5 rows are keyed by an integer; products by a UUID. An explicit INTEGER
    PRIMARY KEY survives VACUUM and backups unchanged (a plain rowid may not).
    Local to this file, like the index: never synced, rebuilt at will.
    """

    __tablename__ = "product_search_key"
    __hard_delete__ = True

    key: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    # Copies of what a search page filters and sorts on, so that a search reads
    # the FTS index and this table only, never the product rows it will not show.
    name_key: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)


# The search index: contentless FTS5 (the words live in `product` only), rows
# deletable by key, prefix indexes for two and three letters (what people type
# first). See domain.search for the words and the query.
PRODUCT_FTS_DDL = (
    "CREATE VIRTUAL TABLE product_fts USING fts5(words, content='', contentless_delete=1, "
    "detail=none, prefix='2 3', tokenize=\"unicode61 remove_diacritics 2 tokenchars "
    f"'{TOKEN_CHARS}'\")")
Base.metadata.info.setdefault("extra_ddl", []).append(PRODUCT_FTS_DDL)


class Warehouse(Entity, Base):
    __tablename__ = "warehouse"

    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branch.id"))
    address: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)


class StockMove(Record, Base):
    """One signed change of one product's stock in one warehouse, with its value.

    `value_minor` is the signed value the move adds to (receipts) or takes
    from (issues) the warehouse's stock value; `unit_cost_minor` is what one
    unit cost (the receipt price, or the moving average at an issue). The
    journal entry a move's value went to has the move's source_type/source_id.
    """

    __tablename__ = "stock_move"
    __table_args__ = (
        Index("ix_stock_move_product_date", "product_id", "move_date", "id"),
        Index(None, "warehouse_id", "move_date"),
        Index(None, "move_date"),
        Index(None, "source_type", "source_id"),
    )

    move_date: Mapped[date]
    kind: Mapped[str] = mapped_column(String(16))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    quantity: Mapped[Decimal]  # signed: + in, - out
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger)
    value_minor: Mapped[int] = mapped_column(BigInteger)  # signed like quantity
    currency: Mapped[str] = mapped_column(String(3))
    source_type: Mapped[str | None] = mapped_column(String(30))
    source_id: Mapped[uuid.UUID | None]
    reference: Mapped[str | None] = mapped_column(String(40))  # the source's number, shown
    source_line_id: Mapped[uuid.UUID | None]
    group_id: Mapped[uuid.UUID | None]  # ties the two legs of a transfer, a stock-take's moves
    reason: Mapped[str | None] = mapped_column(Text)

    unit_cost = money_property("unit_cost_minor")
    value = money_property("value_minor")


class StockBalance(Base):
    """Cache: on-hand quantity and value per product and warehouse (see docstring)."""

    __tablename__ = "stock_balance"
    __table_args__ = (Index(None, "warehouse_id"), {"sqlite_with_rowid": False})

    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"), primary_key=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"),
                                                    primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(default=Decimal(0))
    value_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    # The last average unit cost, kept when the quantity reaches zero so that the
    # next adjustment (or an issue into negative stock) still has a cost.
    last_unit_cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StockTake(Entity, Base):
    """A count sheet for one warehouse: expected against counted, then posted."""

    __tablename__ = "stock_take"

    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given when posted
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    count_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="draft")  # draft|posted|cancelled
    note: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    posted_by: Mapped[uuid.UUID | None]
    journal_entry_id: Mapped[uuid.UUID | None]


class StockTakeLine(Entity, Base):
    __tablename__ = "stock_take_line"
    __table_args__ = (Index(None, "stock_take_id", "product_id", unique=True),)

    stock_take_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("stock_take.id"))
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("product.id"))
    expected_qty: Mapped[Decimal]  # on hand when the sheet was made (again when posted)
    counted_qty: Mapped[Decimal | None]
    difference_qty: Mapped[Decimal | None]  # counted - on hand, set when posted


# --------------------------------------------------------------------------- search index


IndexEntry = tuple[bytes, str | None, str, bool]  # id, words (None: out), name_key, active


def reindex_products(session: Session, items: Sequence[IndexEntry], *,
                     all_new: bool = False) -> None:
    """Rewrite the index rows of products, in the caller's transaction.

    `items` are (product id bytes, indexed text from `domain.search.search_text`
    or None for a product that leaves the index, name key, active); `all_new`:
    none of them is indexed yet. Plain DB-API executemany: an import of 100k
    products would spend most of its time here otherwise.
    """
    if not items:
        return
    conn = session.connection()
    keys: dict[bytes, int] = {}
    ids = [it[0] for it in items]
    for i in range(0, 0 if all_new else len(ids), 500):
        chunk = ids[i:i + 500]
        keys.update(conn.exec_driver_sql(
            "SELECT product_id, key FROM product_search_key WHERE product_id IN "
            f"({', '.join('?' * len(chunk))})", tuple(chunk)).all())
    if keys:
        conn.exec_driver_sql("DELETE FROM product_fts WHERE rowid = ?",
                             [(k,) for k in keys.values()])
    missing = [pid for pid in dict.fromkeys(ids) if pid not in keys]
    if missing:
        # Keys are taken under the write lock (BEGIN IMMEDIATE): no one else can race.
        top = conn.exec_driver_sql("SELECT coalesce(max(key), 0) FROM product_search_key"
                                   ).scalar() or 0
        keys.update({pid: top + n for n, pid in enumerate(missing, start=1)})
    conn.exec_driver_sql("INSERT OR REPLACE INTO product_search_key (key, product_id, name_key, "
                         "active) VALUES (?, ?, ?, ?)",
                         [(keys[pid], pid, name_key, active)
                          for pid, _, name_key, active in items])
    rows = [(keys[pid], words) for pid, words, _, _ in items if words is not None]
    if rows:
        conn.exec_driver_sql("INSERT INTO product_fts (rowid, words) VALUES (?, ?)", rows)


def index_entry(product: Product) -> IndexEntry:
    words = None if product.deleted_at is not None else search_text(
        product.name, product.sku, product.barcode)
    return product.id.bytes, words, product.name.casefold(), bool(product.active)


def clear_search_index(session: Session) -> None:
    session.connection().exec_driver_sql(
        "INSERT INTO product_fts (product_fts) VALUES ('delete-all')")


_SEARCHED = ("name", "sku", "barcode", "deleted_at", "active")


@event.listens_for(Session, "before_flush")
def _collect_products(session: Session, flush_context: Any, instances: Any) -> None:
    pending: dict[uuid.UUID, Product] = session.info.setdefault("_product_reindex", {})
    for obj in session.new:
        if isinstance(obj, Product):
            if obj.id is None:
                obj.id = new_id()
            pending[obj.id] = obj
    for obj in session.dirty:
        if isinstance(obj, Product) and obj.id not in pending:
            state = inspect(obj)
            if any(state.attrs[a].history.has_changes() for a in _SEARCHED):
                pending[obj.id] = obj


@event.listens_for(Session, "after_flush")
def _index_products(session: Session, flush_context: Any) -> None:
    pending: dict[uuid.UUID, Product] = session.info.pop("_product_reindex", {})
    if pending:
        reindex_products(session, [index_entry(p) for p in pending.values()])


@event.listens_for(Session, "after_rollback")
def _forget_products(session: Session) -> None:
    session.info.pop("_product_reindex", None)
