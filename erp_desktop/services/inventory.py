"""Warehouses and the stock ledger: receipts, issues, transfers, adjustments,
stock-takes, the balance cache and its check, valuation and stock reports.

Every change of stock is an append-only `StockMove` written by `move_in_session`,
which also updates the (product, warehouse) balance cache in the same
transaction and values the move by moving weighted average cost:

- a receipt adds its quantity at its own unit cost; the average becomes
  (value + received value) / (quantity + received quantity);
- an issue takes value in proportion to quantity, value x issued / on hand
  (rounded to the minor unit), so issuing the last unit empties the value
  exactly and each issue is costed at the current average.

Stock may not go below zero unless the company setting `allow_negative_stock`
is on. The use cases that change the books post one balanced entry through
`ledger.post_in_session` in the same transaction: receipts (inventory against
opening balance or another system account), issues (COGS), adjustments and
stock-takes (stock adjustments). Transfers only move stock between warehouses
(same inventory account). Sales and purchasing call `move_in_session` from
their own transactions and post their own entries.

`verify_stock` adds the moves up again and reports (or repairs) every balance
that differs. Reports read indexed queries: stock on hand and the stock card
are keyset-paged; valuation at a date sums the moves up to that date.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import Conflict, NotFound, UserError, ValidationError
from erp_desktop.domain.ids import new_id
from erp_desktop.domain.money import Money, parse_decimal, to_minor
from erp_desktop.domain.quantity import check_places, parse_quantity, qty_from_int
from erp_desktop.models.base import QuantityType, utcnow
from erp_desktop.models.changes import (
    PlainRow,
    check_before_write,
    deferring,
    insert_records,
    plain_class,
    write_plain,
)
from erp_desktop.models.company import Branch, Company, Setting
from erp_desktop.models.database import reference_cache, remember, tx_cache
from erp_desktop.models.inventory import (
    MOVE_KINDS,
    Product,
    StockBalance,
    StockMove,
    StockTake,
    StockTakeLine,
    UnitOfMeasure,
    Warehouse,
)
from erp_desktop.models.ledger import Account
from erp_desktop.models.purchasing import PurchaseOrder, PurchaseOrderLine
from erp_desktop.models.security import User
from erp_desktop.services import audit
from erp_desktop.services.catalogue import find_product_in_session
from erp_desktop.services.context import Context
from erp_desktop.services.ledger import LineInput, company_facts, post_in_session
from erp_desktop.services.numbering import next_number

ALLOW_NEGATIVE_STOCK = "allow_negative_stock"
MAX_PAGE = 5000

# Document series of the stock use cases: (doc_type, prefix).
SERIES = {
    "receipt": ("stock_receipt", "SR"),
    "issue": ("stock_issue", "SI"),
    "transfer": ("stock_transfer", "TRF"),
    "adjustment": ("stock_adjustment", "ADJ"),
    "stock_take": ("stock_take", "ST"),
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class WarehouseRow:
    id: uuid.UUID
    code: str
    name: str
    branch_code: str | None
    address: str | None
    active: bool


@dataclass(frozen=True)
class ReceiptLine:
    product: uuid.UUID | str  # id, SKU or barcode
    quantity: Decimal | str | int
    unit_cost: Decimal | str | int | Money | None = None  # None: the current average


@dataclass(frozen=True)
class IssueLine:
    product: uuid.UUID | str
    quantity: Decimal | str | int


@dataclass(frozen=True)
class MoveResult:
    id: uuid.UUID
    kind: str
    product_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    quantity: Decimal  # signed
    unit_cost: Money
    value: Money  # signed
    move_date: date
    reference: str | None


@dataclass(frozen=True)
class StockDocument:
    """What a stock use case wrote: its number, moves and journal entry."""

    number: str
    group_id: uuid.UUID
    move_date: date
    moves: list[MoveResult]
    value: Money  # net value added to stock (negative for issues)
    journal_entry_id: uuid.UUID | None
    journal_entry_number: str | None


@dataclass(frozen=True)
class BalanceRow:
    warehouse_id: uuid.UUID
    warehouse_code: str
    quantity: Decimal
    value: Money
    average_cost: Money


@dataclass(frozen=True)
class ProductStock:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    warehouses: list[BalanceRow]
    quantity: Decimal
    value: Money


@dataclass(frozen=True)
class StockOnHandRow:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    warehouse_code: str
    quantity: Decimal
    average_cost: Money
    value: Money


@dataclass(frozen=True)
class StockOnHandCursor:
    name_key: str
    product_id: uuid.UUID
    warehouse_id: uuid.UUID


@dataclass(frozen=True)
class StockOnHandPage:
    rows: list[StockOnHandRow]
    next_cursor: StockOnHandCursor | None


@dataclass(frozen=True)
class LowStockRow:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    on_hand: Decimal
    reorder_level: Decimal
    reorder_qty: Decimal
    on_order: Decimal  # still to come on open purchase orders
    suggested_qty: Decimal  # what to order now (0 when enough is already on order)


@dataclass(frozen=True)
class StockCardRow:
    move_id: uuid.UUID
    move_date: date
    kind: str
    reference: str | None
    warehouse_code: str
    quantity_in: Decimal
    quantity_out: Decimal
    unit_cost: Money
    value: Money  # signed
    balance_quantity: Decimal
    balance_value: Money
    reason: str | None
    by: str | None  # login name of who moved it


@dataclass(frozen=True)
class StockCardCursor:
    """Where a stock card page ended, with the running balance at that move."""

    move_date: date
    move_id: uuid.UUID
    balance_quantity: Decimal
    balance_value_minor: int


@dataclass(frozen=True)
class StockCardPage:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    warehouse_code: str | None  # None: all warehouses
    opening_quantity: Decimal
    opening_value: Money
    rows: list[StockCardRow]
    next_cursor: StockCardCursor | None


@dataclass(frozen=True)
class ValuationRow:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    warehouse_code: str
    quantity: Decimal
    average_cost: Money
    value: Money


@dataclass(frozen=True)
class Valuation:
    as_of: date
    rows: list[ValuationRow]
    total_value: Money


@dataclass(frozen=True)
class BalanceDifference:
    product_id: uuid.UUID
    sku: str
    warehouse_code: str
    cached_quantity: Decimal
    moves_quantity: Decimal
    cached_value: Money
    moves_value: Money


@dataclass(frozen=True)
class StockCheck:
    ok: bool
    balances_checked: int
    differences: list[BalanceDifference]
    repaired: bool


@dataclass(frozen=True)
class StockTakeLineRow:
    product_id: uuid.UUID
    sku: str
    name: str
    unit: str
    expected_qty: Decimal
    counted_qty: Decimal | None
    difference_qty: Decimal | None


@dataclass(frozen=True)
class StockTakeSheet:
    id: uuid.UUID
    number: str | None
    warehouse_code: str
    count_date: date
    status: str
    note: str | None
    lines: list[StockTakeLineRow]
    journal_entry_id: uuid.UUID | None
    version: int


# --------------------------------------------------------------------------- helpers


def _round(x: Decimal) -> int:
    return int(x.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def fmt_qty(qty: Decimal, places: int) -> str:
    return f"{qty:.{places}f}"


@dataclass
class StockBooks:
    """What every stock move needs to know about the company, read once per use case."""

    currency: str
    fy_start_month: int
    allow_negative: bool
    accounts: dict[str, uuid.UUID] = field(default_factory=dict)
    units: dict[uuid.UUID, tuple[str, int]] = field(default_factory=dict)


UNIT_KEY = "unit"  # reference cache keys: ("unit", id) -> (code, decimal places)
_ALLOW_KEY = ("setting", ALLOW_NEGATIVE_STOCK)


def stock_books(s: Session) -> StockBooks:
    if reference_cache(s) is not None:  # an issuing transaction: company and setting kept
        company = company_facts(s)
        allow = reference_cache(s).get(_ALLOW_KEY)  # type: ignore[union-attr]
        if allow is None:
            allow = remember(s, _ALLOW_KEY, _allow_negative(s))
        return StockBooks(company.base_currency, company.fiscal_year_start_month, allow)
    row = s.execute(select(Company.base_currency, Company.fiscal_year_start_month)).first()
    if row is None:
        raise NotFound("This company file has no company profile.")
    return StockBooks(row[0], row[1], _allow_negative(s))


def _allow_negative(s: Session) -> bool:
    setting = s.scalar(select(Setting.value).where(Setting.key == ALLOW_NEGATIVE_STOCK,
                                                   Setting.deleted_at.is_(None)))
    return bool(json.loads(setting)) if setting else False


def _account(s: Session, books: StockBooks, system_key: str) -> uuid.UUID:
    if system_key not in books.accounts:
        acc_id = s.scalar(select(Account.id).where(Account.system_key == system_key,
                                                   Account.deleted_at.is_(None)))
        if acc_id is None:
            raise ValidationError(f"The chart of accounts has no '{system_key}' account.")
        books.accounts[system_key] = acc_id
    return books.accounts[system_key]


def _unit(s: Session, books: StockBooks, unit_id: uuid.UUID) -> tuple[str, int]:
    if unit_id not in books.units:
        shared = reference_cache(s)
        known = shared.get((UNIT_KEY, unit_id)) if shared is not None else None
        if known is None:
            u = s.get(UnitOfMeasure, unit_id)
            assert u is not None
            known = remember(s, (UNIT_KEY, unit_id), (u.code, u.decimal_places))
        books.units[unit_id] = known
    return books.units[unit_id]


def _check_move_date(ctx: Context, value: object) -> date:
    if value is None:
        return ctx.today()
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError("The date must be a date.", field="move_date")
    if value > ctx.today():
        raise ValidationError("Stock cannot be moved on a future date.", field="move_date")
    return value


def find_warehouse_in_session(s: Session, ref: uuid.UUID | str) -> Warehouse:
    """A live warehouse by id or code (any case)."""
    wh = None
    if isinstance(ref, uuid.UUID):
        wh = s.get(Warehouse, ref)
    else:
        text = str(ref).strip()
        wh = s.scalars(select(Warehouse).where(func.upper(Warehouse.code) == text.upper())
                       ).first()
        if wh is None:
            try:
                wh = s.get(Warehouse, uuid.UUID(text))
            except ValueError:
                wh = None
    if wh is None or wh.deleted_at is not None:
        raise NotFound(f"There is no warehouse '{ref}'.", field="warehouse")
    return wh


def _doc_number(s: Session, ctx: Context, books: StockBooks, series: str, on: date) -> str:
    doc_type, prefix = SERIES[series]
    return next_number(s, doc_type, prefix, ctx.device.code, on, books.fy_start_month)


def _line_qty(value: object, places: int, unit: str, label: str = "Quantity") -> Decimal:
    qty = parse_quantity(value, "quantity")
    if qty <= 0:
        raise ValidationError(f"{label} must be greater than zero.", field="quantity")
    return check_places(qty, places, unit)


def _cost_minor(value: object, currency: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, Money):
        if value.currency != currency:
            raise ValidationError(f"The unit cost is in {value.currency}; stock is valued in "
                                  f"{currency}.", field="unit_cost")
        amount = value.amount
    else:
        amount = parse_decimal(value, "unit_cost")
    if amount < 0:
        raise ValidationError("A unit cost cannot be negative.", field="unit_cost")
    try:
        return to_minor(amount, currency)
    except ValidationError:
        raise ValidationError(f"The unit cost {amount} has more decimal places than "
                              f"{currency} allows.", field="unit_cost") from None


def move_result(m: StockMove, sku: str) -> MoveResult:
    return MoveResult(m.id, m.kind, m.product_id, sku, m.warehouse_id, m.quantity,
                      Money.from_minor(m.unit_cost_minor, m.currency),
                      Money.from_minor(m.value_minor, m.currency), m.move_date, m.reference)


# --------------------------------------------------------------------------- the one move path


def move_in_session(s: Session, ctx: Context, *, kind: str, product: Product,
                    warehouse: Warehouse, quantity: Decimal, move_date: date,
                    unit_cost_minor: int | None = None, source_type: str | None = None,
                    source_id: uuid.UUID | None = None, reference: str | None = None,
                    source_line_id: uuid.UUID | None = None, group_id: uuid.UUID | None = None,
                    reason: str | None = None, value_minor: int | None = None,
                    books: StockBooks | None = None) -> StockMove:
    """Write one stock move and update its balance, inside the caller's transaction.

    `quantity` is signed (+ in, - out). Incoming stock is valued at
    `value_minor` when given (a transfer's arriving leg carries exactly the
    value that left), else at `unit_cost_minor` (default: the current
    average); outgoing stock at the
    current average, in proportion to quantity. Refuses services, inactive
    warehouses, quantities finer than the unit allows and, unless the company
    allows it, stock going below zero. Posts nothing to the ledger: the
    calling use case posts the values it gets back.
    """
    books = books or stock_books(s)
    values = _value_move(s, books, None, MoveInput(
        kind, product, warehouse, quantity, move_date, unit_cost_minor, source_type,
        source_id, reference, source_line_id, group_id, reason, value_minor))
    for stamp in ("id", "created_at", "created_by"):  # the ORM's defaults fill them
        del values[stamp]
    move = StockMove(**values)
    s.add(move)
    return move


@dataclass(frozen=True)
class MoveInput:
    """One move for `move_rows_in_session` (the arguments of `move_in_session`)."""

    kind: str
    product: Product
    warehouse: Warehouse
    quantity: Decimal  # signed: + in, - out
    move_date: date
    unit_cost_minor: int | None = None
    source_type: str | None = None
    source_id: uuid.UUID | None = None
    reference: str | None = None
    source_line_id: uuid.UUID | None = None
    group_id: uuid.UUID | None = None
    reason: str | None = None
    value_minor: int | None = None


def move_rows_in_session(s: Session, ctx: Context, moves: Sequence[MoveInput], *,
                         books: StockBooks | None = None,
                         balances: dict[tuple[uuid.UUID, uuid.UUID], StockBalance] | None = None
                         ) -> list[dict[str, Any]]:
    """`move_in_session` for several moves at once, for posting paths that need the
    moves' values, not ORM objects (issuing invoices).

    Each move is checked and valued exactly as `move_in_session` does, in order
    (two moves of one product see each other), and the balances are updated
    the same way; the moves are written with `models.changes.insert_records`
    (one executemany, or deferred with the caller's other rows). Returns each
    move's row as written (`unit_cost_minor`, `value_minor` ...). `balances`, if
    given, is where the caller keeps the balance rows of its transaction: they
    are looked up there first (a row added earlier and not flushed yet is not
    found by `Session.get`) and the ones read or added here are put there.
    """
    books = books or stock_books(s)
    known = balances if balances is not None else {}
    rows = [_value_move(s, books, known, m) for m in moves]
    if rows:
        insert_records(s, (StockMove, rows))
    return rows


_PlainBalance = plain_class(StockBalance)
_BALANCES_OF = and_(StockBalance.warehouse_id == bindparam("warehouse_id"),
                    StockBalance.product_id.in_(bindparam("product_ids", expanding=True)))
_PLAIN_BALANCES = "inventory.balances"  # tx_cache: {(product, warehouse): plain balance}


def balances_in_session(s: Session, warehouse_id: uuid.UUID, products: Sequence[Any],
                        into: dict[tuple[uuid.UUID, uuid.UUID], Any],
                        books: StockBooks | None = None) -> None:
    """The balances of `products` in a warehouse that `into` lacks, in one query, put into
    `into` (what the moves then look up first). On an issuing path holding its rows
    deferred they are plain rows, kept for the transaction and written with its
    deferred rows (a balance never stocked yet is a new row, written then);
    otherwise the session's own objects."""
    missing = [p for p in products if (p.id, warehouse_id) not in into]
    if not missing:
        return
    if deferring(s):
        _plain_balances(s, books or stock_books(s), warehouse_id, missing, into)
        return
    for bal in s.scalars(select(StockBalance).where(
            StockBalance.warehouse_id == warehouse_id,
            StockBalance.product_id.in_([p.id for p in missing]))):
        into[(bal.product_id, bal.warehouse_id)] = bal


def _plain_balances(s: Session, books: StockBooks, warehouse_id: uuid.UUID,
                    products: Sequence[Any], into: dict[Any, Any] | None
                    ) -> dict[tuple[uuid.UUID, uuid.UUID], Any]:
    held: dict[tuple[uuid.UUID, uuid.UUID], Any] = tx_cache(s).setdefault(_PLAIN_BALANCES, {})
    wanted = [p for p in products if (p.id, warehouse_id) not in held]
    if wanted:
        for bal in _PlainBalance.read(s, _BALANCES_OF, {"warehouse_id": warehouse_id,
                                                        "product_ids": [p.id for p in wanted]}):
            held[(bal.product_id, bal.warehouse_id)] = bal
        for p in wanted:
            if (p.id, warehouse_id) not in held:  # never stocked here: a new row
                held[(p.id, warehouse_id)] = _PlainBalance.blank(
                    product_id=p.id, warehouse_id=warehouse_id, quantity=Decimal(0),
                    value_minor=0, last_unit_cost_minor=p.purchase_price_minor,
                    currency=books.currency)
        check_before_write(s, _PLAIN_BALANCES, _write_balances, ("stock_balance",))
    if into is not None:
        for p in products:
            into[(p.id, warehouse_id)] = held[(p.id, warehouse_id)]
    return held


def _write_balances(s: Session) -> None:
    write_plain(s, list(tx_cache(s).get(_PLAIN_BALANCES, {}).values()))


def _value_move(s: Session, books: StockBooks,
                balances: dict[tuple[uuid.UUID, uuid.UUID], StockBalance] | None,
                m: MoveInput) -> dict[str, Any]:
    """Check one move, update its balance and return the move's column values."""
    kind, product, warehouse, quantity = m.kind, m.product, m.warehouse, m.quantity
    if kind not in MOVE_KINDS:
        raise ValueError(f"unknown stock move kind {kind!r}")
    if product.is_service:
        raise ValidationError(f"{product.name} is a service; services have no stock.",
                              field="product")
    if not warehouse.active:
        raise ValidationError(f"Warehouse {warehouse.name} is closed (inactive).",
                              field="warehouse")
    unit, places = _unit(s, books, product.unit_id)
    if quantity == 0:
        raise ValidationError("Quantity must not be zero.", field="quantity")
    check_places(abs(quantity), places, unit)
    key = (product.id, warehouse.id)
    bal = balances.get(key) if balances is not None else None
    if bal is None or (isinstance(bal, StockBalance) and bal not in s):
        if deferring(s):  # an issuing path: the balance as a plain row (decision 0031)
            bal = _plain_balances(s, books, warehouse.id, [product], balances)[key]
        else:
            bal = s.get(StockBalance, key)
            if bal is None:
                bal = StockBalance(product_id=product.id, warehouse_id=warehouse.id,
                                   quantity=Decimal(0), value_minor=0,
                                   last_unit_cost_minor=product.purchase_price_minor,
                                   currency=books.currency)
                s.add(bal)
        if balances is not None:
            balances[key] = bal
    on_hand, value = bal.quantity, bal.value_minor
    average = _round(Decimal(value) / on_hand) if on_hand > 0 else bal.last_unit_cost_minor
    if quantity > 0:
        cost = average if m.unit_cost_minor is None else m.unit_cost_minor
        move_value = _round(quantity * cost)
        if m.value_minor is not None:
            move_value, cost = m.value_minor, _round(Decimal(m.value_minor) / quantity)
    else:
        out = -quantity
        if on_hand < out and not books.allow_negative:
            raise ValidationError(
                f"Not enough stock of {product.name} in {warehouse.name}: "
                f"{fmt_qty(on_hand, places)} {unit} available, {fmt_qty(out, places)} {unit} "
                "requested.", field="quantity")
        if on_hand >= out:
            taken = value if on_hand == out else _round(Decimal(value) * out / on_hand)
        else:  # into negative stock (allowed): what is there, the rest at the last cost
            available = max(on_hand, Decimal(0))
            taken = (value if available > 0 else 0) + _round((out - available) * average)
        move_value = -taken
        cost = _round(Decimal(taken) / out)
    if isinstance(bal, PlainRow):  # written with the transaction's deferred rows
        check_before_write(s, _PLAIN_BALANCES, _write_balances, ("stock_balance",))
    bal.quantity = on_hand + quantity
    bal.value_minor = value + move_value
    if bal.quantity > 0:
        bal.last_unit_cost_minor = _round(Decimal(bal.value_minor) / bal.quantity)
    elif quantity > 0:
        bal.last_unit_cost_minor = cost
    return {"id": None, "created_at": None, "created_by": None, "move_date": m.move_date,
            "kind": kind, "product_id": product.id, "warehouse_id": warehouse.id,
            "quantity": quantity, "unit_cost_minor": cost, "value_minor": move_value,
            "currency": books.currency, "source_type": m.source_type,
            "source_id": m.source_id, "reference": m.reference,
            "source_line_id": m.source_line_id, "group_id": m.group_id, "reason": m.reason}


def _post_values(s: Session, ctx: Context, books: StockBooks, on: date, number: str,
                 amounts: Mapping[str, int], memo: str, source_type: str,
                 source_id: uuid.UUID) -> tuple[uuid.UUID | None, str | None]:
    """Post {system account: signed amount (+ debit, - credit)} as one entry, if not zero."""
    lines = []
    for key, amount in amounts.items():
        if amount == 0:
            continue
        money = Money.from_minor(abs(amount), books.currency)
        acc = _account(s, books, key)
        lines.append(LineInput(acc, debit=money) if amount > 0 else LineInput(acc, credit=money))
    if not lines:
        return None, None
    entry = post_in_session(s, ctx, on, lines, memo, number=number, source_type=source_type,
                            source_id=source_id, audit_action=None)
    return entry.id, entry.number


def _document(s: Session, number: str, group_id: uuid.UUID, on: date, moves: list[StockMove],
              skus: dict[uuid.UUID, str], books: StockBooks, entry: tuple[uuid.UUID | None,
                                                                      str | None]
              ) -> StockDocument:
    s.flush()
    total = sum(m.value_minor for m in moves)
    return StockDocument(number, group_id, on, [move_result(m, skus[m.product_id])
                                                for m in moves],
                         Money.from_minor(total, books.currency), entry[0], entry[1])


# --------------------------------------------------------------------------- warehouses


def _warehouse_row(s: Session, w: Warehouse) -> WarehouseRow:
    branch = s.scalar(select(Branch.code).where(Branch.id == w.branch_id)) if w.branch_id \
        else None
    return WarehouseRow(w.id, w.code, w.name, branch, w.address, w.active)


def create_warehouse(ctx: Context, code: str, name: str, *, branch: str | None = None,
                     address: str | None = None) -> WarehouseRow:
    """A place where stock is kept, in a branch (default: the head office)."""
    ctx.require("inventory.products.manage")
    key = (code or "").strip().upper()
    if not key or len(key) > 10 or not key.replace("-", "").isalnum():
        raise ValidationError("A warehouse code is up to 10 letters, digits or dashes.",
                              field="code")
    label = " ".join((name or "").split())
    if not label or len(label) > 120:
        raise ValidationError("Enter the warehouse's name (up to 120 characters).",
                              field="name")
    with ctx.db.write(ctx.actor.user_id) as s:
        if s.scalar(select(Warehouse.id).where(func.upper(Warehouse.code) == key)):
            raise ValidationError(f"There is already a warehouse {key}.", field="code")
        q = select(Branch).where(Branch.deleted_at.is_(None))
        br = s.scalars(q.where(func.upper(Branch.code) == branch.strip().upper())
                       if branch else q.order_by(Branch.created_at)).first()
        if branch and br is None:
            raise ValidationError(f"There is no branch '{branch}'.", field="branch")
        w = Warehouse(code=key, name=label, branch_id=br.id if br else None,
                      address=(address or "").strip() or None, active=True)
        s.add(w)
        s.flush()
        audit.record(s, ctx, "inventory.warehouse_created", entity="warehouse", entity_id=w.id,
                     details={"code": key})
        return _warehouse_row(s, w)


def update_warehouse(ctx: Context, warehouse: uuid.UUID | str, *,
                     expected_version: int | None = None, name: str | None = None,
                     address: str | None = None, active: bool | None = None) -> WarehouseRow:
    """Rename a warehouse, change its address, close it or open it again (None: left as
    it is). Closing is refused while it holds stock, while a stock-take of it is open,
    and for the last open warehouse; its moves and documents stay as they were."""
    ctx.require("inventory.products.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        w = find_warehouse_in_session(s, warehouse)
        if expected_version is not None and w.version != expected_version:
            raise Conflict(f"Warehouse {w.code} was changed by someone else since you opened "
                           "it; reopen it and make your change again.")
        changes: dict[str, Any] = {}
        if name is not None:
            label = " ".join(name.split())
            if not label or len(label) > 120:
                raise ValidationError("Enter the warehouse's name (up to 120 characters).",
                                      field="name")
            changes["name"] = label
        if address is not None:
            changes["address"] = address.strip() or None
        if active is not None and bool(active) != w.active:
            if not active:
                _check_can_close(s, w)
            changes["active"] = bool(active)
        changed = sorted(k for k, v in changes.items() if getattr(w, k) != v)
        for k in changed:
            setattr(w, k, changes[k])
        s.flush()
        if changed:
            audit.record(s, ctx, "inventory.warehouse_updated", entity="warehouse",
                         entity_id=w.id, details={"code": w.code, "changed": changed})
        return _warehouse_row(s, w)


def _check_can_close(s: Session, w: Warehouse) -> None:
    others = s.scalar(select(func.count()).select_from(Warehouse).where(
        Warehouse.id != w.id, Warehouse.active.is_(True), Warehouse.deleted_at.is_(None)))
    if not others:
        raise ValidationError("This is the only open warehouse; a company needs one to keep "
                              "stock in.", field="active")
    holding = s.scalar(select(func.count()).select_from(StockBalance).where(
        StockBalance.warehouse_id == w.id, StockBalance.quantity != 0)) or 0
    if holding:
        raise ValidationError(
            f"{w.code} still holds stock of {holding} product{'s' if holding != 1 else ''}: "
            "transfer it to another warehouse or adjust it to zero before closing it.",
            field="active")
    if s.scalar(select(StockTake.id).where(StockTake.warehouse_id == w.id,
                                          StockTake.status == "draft").limit(1)):
        raise ValidationError(f"A stock-take of {w.code} is still open: post or cancel it "
                              "first.", field="active")


def list_warehouses(ctx: Context, *, include_inactive: bool = False) -> list[WarehouseRow]:
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        q = select(Warehouse).where(Warehouse.deleted_at.is_(None)).order_by(Warehouse.code)
        return [_warehouse_row(s, w) for w in s.scalars(q) if include_inactive or w.active]


def set_allow_negative_stock(ctx: Context, allowed: bool) -> bool:
    """The company setting that lets stock go below zero (off by default)."""
    ctx.require("settings.edit")
    with ctx.db.write(ctx.actor.user_id) as s:
        row = s.scalars(select(Setting).where(Setting.key == ALLOW_NEGATIVE_STOCK)).first()
        if row is None:
            s.add(Setting(key=ALLOW_NEGATIVE_STOCK, value=json.dumps(bool(allowed))))
        else:
            row.value = json.dumps(bool(allowed))
            row.deleted_at = None
        s.flush()
        audit.record(s, ctx, "settings.changed", entity="setting",
                     details={"key": ALLOW_NEGATIVE_STOCK, "value": bool(allowed)})
    return bool(allowed)


def allow_negative_stock(ctx: Context) -> bool:
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        return stock_books(s).allow_negative


# --------------------------------------------------------------------------- use cases


@contextmanager
def for_line(index: int) -> Iterator[None]:
    """A refusal raised for one line of a stock document names that line
    (`UserError.line`, from 0), so that a form can put the message beside it."""
    try:
        yield
    except UserError as exc:
        if exc.line is None:
            exc.line = index
        raise


def receive_stock(ctx: Context, warehouse: uuid.UUID | str, lines: Sequence[ReceiptLine], *,
                  move_date: date | None = None, note: str | None = None,
                  counter_account: str = "opening_balance") -> StockDocument:
    """Bring stock in without a purchase order (opening stock, goods found, gifts).

    Posts inventory against `counter_account` (a system account key; opening
    balance equity by default). Goods bought from a vendor come in through
    `purchasing.receive_purchase_order` or a bill instead.
    """
    ctx.require("inventory.stock.move")
    on = _check_move_date(ctx, move_date)
    if not lines:
        raise ValidationError("Add at least one product to receive.", field="lines")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = stock_books(s)
        wh = find_warehouse_in_session(s, warehouse)
        _account(s, books, counter_account)  # refuse an unknown account before any move
        number = _doc_number(s, ctx, books, "receipt", on)
        group = new_id()
        moves, skus = [], {}
        for i, line in enumerate(lines):
            with for_line(i):
                p = find_product_in_session(s, line.product)
                unit, places = _unit(s, books, p.unit_id)
                qty = _line_qty(line.quantity, places, unit)
                cost = _cost_minor(line.unit_cost, books.currency)
                moves.append(move_in_session(
                    s, ctx, kind="receipt", product=p, warehouse=wh, quantity=qty,
                    move_date=on, unit_cost_minor=cost, source_type="stock_receipt",
                    source_id=group, reference=number, group_id=group, reason=note,
                    books=books))
            skus[p.id] = p.sku
        total = sum(m.value_minor for m in moves)
        entry = _post_values(s, ctx, books, on, number, {"inventory": total,
                                                         counter_account: -total},
                             f"Stock received into {wh.code}", "stock_receipt", group)
        audit.record(s, ctx, "inventory.stock_received", entity="stock_move", entity_id=group,
                     details={"number": number, "warehouse": wh.code, "lines": len(moves),
                              "value_minor": total})
        return _document(s, number, group, on, moves, skus, books, entry)


def issue_stock(ctx: Context, warehouse: uuid.UUID | str, lines: Sequence[IssueLine], *,
                move_date: date | None = None, reason: str | None = None) -> StockDocument:
    """Take stock out at its average cost (own use, samples), posting cost of goods sold."""
    ctx.require("inventory.stock.move")
    on = _check_move_date(ctx, move_date)
    if not lines:
        raise ValidationError("Add at least one product to issue.", field="lines")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = stock_books(s)
        wh = find_warehouse_in_session(s, warehouse)
        number = _doc_number(s, ctx, books, "issue", on)
        group = new_id()
        moves, skus = [], {}
        for i, line in enumerate(lines):
            with for_line(i):
                p = find_product_in_session(s, line.product)
                unit, places = _unit(s, books, p.unit_id)
                qty = _line_qty(line.quantity, places, unit)
                moves.append(move_in_session(
                    s, ctx, kind="issue", product=p, warehouse=wh, quantity=-qty,
                    move_date=on, source_type="stock_issue", source_id=group,
                    reference=number, group_id=group, reason=(reason or "").strip() or None,
                    books=books))
            skus[p.id] = p.sku
        cost = -sum(m.value_minor for m in moves)
        entry = _post_values(s, ctx, books, on, number, {"cogs": cost, "inventory": -cost},
                             f"Stock issued from {wh.code}", "stock_issue", group)
        audit.record(s, ctx, "inventory.stock_issued", entity="stock_move", entity_id=group,
                     details={"number": number, "warehouse": wh.code, "lines": len(moves),
                              "value_minor": cost})
        return _document(s, number, group, on, moves, skus, books, entry)


def transfer_stock(ctx: Context, from_warehouse: uuid.UUID | str,
                   to_warehouse: uuid.UUID | str, lines: Sequence[IssueLine], *,
                   move_date: date | None = None, note: str | None = None) -> StockDocument:
    """Move stock between warehouses: out of one and into the other, in one transaction,
    at the source's average cost (the value travels with the goods)."""
    ctx.require("inventory.stock.move")
    on = _check_move_date(ctx, move_date)
    if not lines:
        raise ValidationError("Add at least one product to transfer.", field="lines")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = stock_books(s)
        src = find_warehouse_in_session(s, from_warehouse)
        dst = find_warehouse_in_session(s, to_warehouse)
        if src.id == dst.id:
            raise ValidationError("Choose two different warehouses for a transfer.",
                                  field="to_warehouse")
        number = _doc_number(s, ctx, books, "transfer", on)
        group = new_id()
        moves, skus = [], {}
        text = (note or "").strip() or None
        for i, line in enumerate(lines):
            with for_line(i):
                p = find_product_in_session(s, line.product)
                unit, places = _unit(s, books, p.unit_id)
                qty = _line_qty(line.quantity, places, unit)
                out = move_in_session(s, ctx, kind="transfer_out", product=p, warehouse=src,
                                      quantity=-qty, move_date=on,
                                      source_type="stock_transfer", source_id=group,
                                      reference=number, group_id=group, reason=text,
                                      books=books)
            # The goods arrive with exactly the value that left: no rounding drift.
            inn = move_in_session(s, ctx, kind="transfer_in", product=p, warehouse=dst,
                                  quantity=qty, move_date=on, value_minor=-out.value_minor,
                                  source_type="stock_transfer", source_id=group,
                                  reference=number, group_id=group, reason=text, books=books)
            moves += [out, inn]
            skus[p.id] = p.sku
        audit.record(s, ctx, "inventory.stock_transferred", entity="stock_move",
                     entity_id=group, details={"number": number, "from": src.code,
                                               "to": dst.code, "lines": len(lines)})
        return _document(s, number, group, on, moves, skus, books, (None, None))


def adjust_stock(ctx: Context, warehouse: uuid.UUID | str, product: uuid.UUID | str,
                 quantity: Decimal | str | int, reason: str, *, move_date: date | None = None,
                 unit_cost: Decimal | str | int | Money | None = None) -> StockDocument:
    """Correct stock by a signed quantity with a reason (damaged, found, expired ...).

    Stock added is valued at `unit_cost` or the current average; stock removed
    at the average. The difference in value goes to the stock adjustments account.
    """
    ctx.require("inventory.stock.move")
    on = _check_move_date(ctx, move_date)
    why = " ".join((reason or "").split())
    if not why:
        raise ValidationError("Give a reason for the adjustment (damaged, found, counted "
                              "wrong ...).", field="reason")
    qty = parse_quantity(quantity)
    if qty == 0:
        raise ValidationError("An adjustment changes stock: enter a quantity other than zero.",
                              field="quantity")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = stock_books(s)
        wh = find_warehouse_in_session(s, warehouse)
        p = find_product_in_session(s, product)
        number = _doc_number(s, ctx, books, "adjustment", on)
        group = new_id()
        move = move_in_session(s, ctx, kind="adjustment", product=p, warehouse=wh,
                               quantity=qty, move_date=on,
                               unit_cost_minor=_cost_minor(unit_cost, books.currency),
                               source_type="stock_adjustment", source_id=group,
                               reference=number, group_id=group, reason=why, books=books)
        v = move.value_minor
        entry = _post_values(s, ctx, books, on, number, {"inventory": v,
                                                         "stock_adjustment": -v},
                             f"Stock adjustment: {why}"[:200], "stock_adjustment", group)
        audit.record(s, ctx, "inventory.stock_adjusted", entity="stock_move", entity_id=group,
                     details={"number": number, "warehouse": wh.code, "quantity": qty,
                              "value_minor": v})
        return _document(s, number, group, on, [move], {p.id: p.sku}, books, entry)


# --------------------------------------------------------------------------- stock-take


def _sheet(s: Session, take: StockTake) -> StockTakeSheet:
    wh = s.get(Warehouse, take.warehouse_id)
    assert wh is not None
    rows = s.execute(
        select(StockTakeLine, Product.sku, Product.name, UnitOfMeasure.code)
        .join(Product, Product.id == StockTakeLine.product_id)
        .join(UnitOfMeasure, UnitOfMeasure.id == Product.unit_id)
        .where(StockTakeLine.stock_take_id == take.id, StockTakeLine.deleted_at.is_(None))
        .order_by(Product.name_key, Product.id)).all()
    lines = [StockTakeLineRow(ln.product_id, sku, name, unit, ln.expected_qty, ln.counted_qty,
                              ln.difference_qty) for ln, sku, name, unit in rows]
    return StockTakeSheet(take.id, take.number, wh.code, take.count_date, take.status,
                          take.note, lines, take.journal_entry_id, take.version)


def _take(s: Session, take_id: uuid.UUID) -> StockTake:
    take = s.get(StockTake, take_id)
    if take is None or take.deleted_at is not None:
        raise NotFound("That stock-take does not exist.")
    return take


def start_stock_take(ctx: Context, warehouse: uuid.UUID | str, *,
                     count_date: date | None = None,
                     products: Sequence[uuid.UUID | str] | None = None,
                     note: str | None = None) -> StockTakeSheet:
    """A count sheet listing what the books expect in a warehouse (every product
    that has stock there, or the given products)."""
    ctx.require("inventory.stock.move")
    on = _check_move_date(ctx, count_date)
    with ctx.db.write(ctx.actor.user_id) as s:
        wh = find_warehouse_in_session(s, warehouse)
        take = StockTake(warehouse_id=wh.id, count_date=on, status="draft",
                         note=(note or "").strip() or None)
        s.add(take)
        s.flush()
        if products is None:
            found = s.execute(
                select(StockBalance.product_id, StockBalance.quantity)
                .join(Product, Product.id == StockBalance.product_id)
                .where(StockBalance.warehouse_id == wh.id, Product.deleted_at.is_(None),
                       Product.is_service.is_(False),
                       or_(StockBalance.quantity != 0, Product.active.is_(True)))).all()
        else:
            found = []
            for ref in products:
                p = find_product_in_session(s, ref)
                if p.is_service:
                    raise ValidationError(f"{p.name} is a service; services are not counted.",
                                          field="products")
                bal = s.get(StockBalance, (p.id, wh.id))
                found.append((p.id, bal.quantity if bal else Decimal(0)))
        seen: set[uuid.UUID] = set()
        for pid, qty in found:
            if pid not in seen:
                seen.add(pid)
                s.add(StockTakeLine(stock_take_id=take.id, product_id=pid, expected_qty=qty))
        s.flush()
        return _sheet(s, take)


def record_counts(ctx: Context, take_id: uuid.UUID,
                  counts: Mapping[uuid.UUID | str, Decimal | str | int]) -> StockTakeSheet:
    """Enter counted quantities (products not on the sheet are added: found goods)."""
    ctx.require("inventory.stock.move")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = stock_books(s)
        take = _take(s, take_id)
        if take.status != "draft":
            raise ValidationError(f"Stock-take {take.number or ''} is {take.status}; counts "
                                  "can no longer change.".replace("  ", " "), field="status")
        for ref, value in counts.items():
            p = find_product_in_session(s, ref)
            if p.is_service:
                raise ValidationError(f"{p.name} is a service; services are not counted.",
                                      field="counts")
            unit, places = _unit(s, books, p.unit_id)
            qty = parse_quantity(value, "counted")
            if qty < 0:
                raise ValidationError(f"The count of {p.name} cannot be negative.",
                                      field="counts")
            check_places(qty, places, unit, "counts")
            line = s.scalars(select(StockTakeLine).where(
                StockTakeLine.stock_take_id == take.id, StockTakeLine.product_id == p.id)
            ).first()
            if line is None:
                bal = s.get(StockBalance, (p.id, take.warehouse_id))
                line = StockTakeLine(stock_take_id=take.id, product_id=p.id,
                                     expected_qty=bal.quantity if bal else Decimal(0))
                s.add(line)
            line.counted_qty = qty
        s.flush()
        return _sheet(s, take)


def post_stock_take(ctx: Context, take_id: uuid.UUID) -> StockTakeSheet:
    """Post the differences between counted and on-hand stock as adjustments.

    The difference is taken against the stock on hand when posting (moves made
    since the sheet was printed are respected); uncounted lines are left alone.
    Gains are valued at the average cost, losses at the average; one entry posts
    the net value to stock adjustments.
    """
    ctx.require("inventory.stock.move")
    with ctx.db.write(ctx.actor.user_id) as s:
        books = stock_books(s)
        take = _take(s, take_id)
        if take.status != "draft":
            raise ValidationError(f"Stock-take {take.number} is already {take.status}.",
                                  field="status")
        wh = s.get(Warehouse, take.warehouse_id)
        assert wh is not None
        lines = s.scalars(select(StockTakeLine).where(
            StockTakeLine.stock_take_id == take.id, StockTakeLine.deleted_at.is_(None),
            StockTakeLine.counted_qty.is_not(None))).all()
        if not lines:
            raise ValidationError("Enter at least one counted quantity before posting.",
                                  field="counts")
        on = take.count_date
        number = _doc_number(s, ctx, books, "stock_take", on)
        moves, skus = [], {}
        for ln in lines:
            p = s.get(Product, ln.product_id)
            assert p is not None and ln.counted_qty is not None
            bal = s.get(StockBalance, (p.id, wh.id))
            on_hand = bal.quantity if bal else Decimal(0)
            ln.expected_qty = on_hand
            ln.difference_qty = ln.counted_qty - on_hand
            if ln.difference_qty != 0:
                moves.append(move_in_session(
                    s, ctx, kind="stock_take", product=p, warehouse=wh,
                    quantity=ln.difference_qty, move_date=on, source_type="stock_take",
                    source_id=take.id, reference=number, source_line_id=ln.id,
                    group_id=take.id, reason=f"Stock-take {number}", books=books))
                skus[p.id] = p.sku
        net = sum(m.value_minor for m in moves)
        entry = _post_values(s, ctx, books, on, number, {"inventory": net,
                                                         "stock_adjustment": -net},
                             f"Stock-take {number} in {wh.code}", "stock_take", take.id)
        take.number = number
        take.status = "posted"
        take.posted_at = ctx.now()
        take.posted_by = ctx.actor.user_id
        take.journal_entry_id = entry[0]
        s.flush()
        audit.record(s, ctx, "inventory.stock_take_posted", entity="stock_take",
                     entity_id=take.id, details={"number": number, "warehouse": wh.code,
                                                 "counted": len(lines),
                                                 "adjusted": len(moves), "value_minor": net})
        return _sheet(s, take)


def cancel_stock_take(ctx: Context, take_id: uuid.UUID) -> StockTakeSheet:
    ctx.require("inventory.stock.move")
    with ctx.db.write(ctx.actor.user_id) as s:
        take = _take(s, take_id)
        if take.status != "draft":
            raise ValidationError(f"Stock-take {take.number} is {take.status} and cannot be "
                                  "cancelled.", field="status")
        take.status = "cancelled"
        s.flush()
        return _sheet(s, take)


def get_stock_take(ctx: Context, take_id: uuid.UUID) -> StockTakeSheet:
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        return _sheet(s, _take(s, take_id))


# --------------------------------------------------------------------------- checking the cache


def _moves_totals(s: Session) -> dict[tuple[uuid.UUID, uuid.UUID], tuple[Decimal, int]]:
    rows = s.execute(select(StockMove.product_id, StockMove.warehouse_id,
                            func.sum(StockMove.quantity), func.sum(StockMove.value_minor))
                     .group_by(StockMove.product_id, StockMove.warehouse_id))
    return {(r[0], r[1]): (r[2], int(r[3])) for r in rows}


def _differences(s: Session
                 ) -> list[tuple[tuple[uuid.UUID, uuid.UUID], Decimal, int, Decimal, int]]:
    """((product, warehouse), cached qty, cached value, moves qty, moves value) for every
    balance that disagrees with its moves, found by SQLite (one pass over the moves)."""
    M, B = StockMove, StockBalance
    none = literal(0, QuantityType())
    # Moves and balances side by side, added up per (product, warehouse) in one sort:
    # a balance without moves and moves without a balance are caught alike.
    both = union_all(
        select(M.product_id, M.warehouse_id, M.quantity.label("mq"),
               M.value_minor.label("mv"), none.label("bq"), literal(0).label("bv")),
        select(B.product_id, B.warehouse_id, none, literal(0), B.quantity, B.value_minor),
    ).subquery()
    mq, mv = func.sum(both.c.mq), func.sum(both.c.mv)
    bq, bv = func.sum(both.c.bq), func.sum(both.c.bv)
    wrong = (select(both.c.product_id, both.c.warehouse_id, bq, bv, mq, mv)
             .group_by(both.c.product_id, both.c.warehouse_id)
             .having(or_(mq != bq, mv != bv)))
    return [((r[0], r[1]), r[2], int(r[3]), r[4], int(r[5])) for r in s.execute(wrong)]


def verify_stock(ctx: Context, *, repair: bool = False) -> StockCheck:
    """Add up every move again and compare with the balance cache.

    Reports each (product, warehouse) whose cached quantity or value differs
    from its moves (`balances_checked` counts the cached balances); with
    `repair` (needs `inventory.stock.move`) rewrites those balances from the
    moves, in one transaction, and audits it.
    """
    ctx.require("inventory.stock.move" if repair else "inventory.view")
    with (ctx.db.write(ctx.actor.user_id) if repair else ctx.db.read()) as s:
        books = stock_books(s)
        diffs = _differences(s)
        checked = int(s.scalar(select(func.count()).select_from(StockBalance)) or 0)
        names = {}
        if diffs:
            pids = {d[0][0] for d in diffs}
            wids = {d[0][1] for d in diffs}
            names = dict(s.execute(select(Product.id, Product.sku)
                                   .where(Product.id.in_(pids))).all())
            names.update(s.execute(select(Warehouse.id, Warehouse.code)
                                   .where(Warehouse.id.in_(wids))).all())
        cur = books.currency
        out = [BalanceDifference(pid, names.get(pid, "?"), names.get(wid, "?"), cq, q,
                                 Money.from_minor(cv, cur), Money.from_minor(v, cur))
               for (pid, wid), cq, cv, q, v in diffs]
        out.sort(key=lambda d: (d.sku, d.warehouse_code))
        if repair and diffs:
            for (pid, wid), _cq, _cv, q, v in diffs:
                b = s.get(StockBalance, (pid, wid))
                if b is None:
                    b = StockBalance(product_id=pid, warehouse_id=wid, currency=cur,
                                     last_unit_cost_minor=0)
                    s.add(b)
                b.quantity, b.value_minor = q, v
                if q > 0:
                    b.last_unit_cost_minor = _round(Decimal(v) / q)
            s.flush()
            audit.record(s, ctx, "inventory.balances_repaired", entity="stock_balance",
                         details={"differences": len(diffs)})
        return StockCheck(not diffs, checked, out, repaired=repair and bool(diffs))


def rebuild_balances_in_session(s: Session) -> int:
    """Rewrite the whole balance cache from the moves (bulk loads, a repaired file)."""
    cur = s.scalar(select(Company.base_currency))
    s.execute(delete(StockBalance))
    rows = [{"product_id": pid, "warehouse_id": wid, "quantity": q, "value_minor": v,
             "last_unit_cost_minor": _round(Decimal(v) / q) if q > 0 else 0,
             "currency": cur, "updated_at": utcnow()}
            for (pid, wid), (q, v) in _moves_totals(s).items()]
    if rows:
        s.execute(insert(StockBalance), rows)
    return len(rows)


# --------------------------------------------------------------------------- queries


def get_stock(ctx: Context, product: uuid.UUID | str) -> ProductStock:
    """One product's stock in each warehouse, with value and average cost."""
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        books = stock_books(s)
        p = find_product_in_session(s, product)
        unit, _places = _unit(s, books, p.unit_id)
        rows = s.execute(select(StockBalance, Warehouse.code)
                         .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
                         .where(StockBalance.product_id == p.id)
                         .order_by(Warehouse.code)).all()
        cur = books.currency
        out = [BalanceRow(b.warehouse_id, code, b.quantity, Money.from_minor(b.value_minor, cur),
                          Money.from_minor(_avg(b.quantity, b.value_minor,
                                                b.last_unit_cost_minor), cur))
               for b, code in rows]
        return ProductStock(p.id, p.sku, p.name, unit, out,
                            sum((r.quantity for r in out), Decimal(0)),
                            Money.from_minor(sum(r.value.minor for r in out), cur))


def _avg(qty: Decimal, value_minor: int, fallback: int = 0) -> int:
    return _round(Decimal(value_minor) / qty) if qty > 0 else fallback


def _check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    return limit


def stock_on_hand(ctx: Context, warehouse: uuid.UUID | str | None = None, *,
                  after: StockOnHandCursor | None = None, limit: int = 500,
                  include_zero: bool = False) -> StockOnHandPage:
    """Stock on hand per product and warehouse, in product name order, a page at a time."""
    ctx.require("inventory.view")
    limit = _check_limit(limit)
    with ctx.db.read() as s:
        books = stock_books(s)
        B, P = StockBalance, Product
        held = [B.product_id == P.id]
        if warehouse is not None:
            held.append(B.warehouse_id == find_warehouse_in_session(s, warehouse).id)
        if not include_zero:
            held.append(or_(B.quantity != 0, B.value_minor != 0))
        # First the page's products, walking the product name index (each has at
        # least one row), then their balances: sorting every balance of a large
        # catalogue for one page is what this avoids.
        products = select(P.id).where(P.deleted_at.is_(None), exists().where(*held))
        if after is not None:
            products = products.where(or_(P.name_key > after.name_key,
                                          and_(P.name_key == after.name_key,
                                               P.id >= after.product_id)))
        ids = list(s.scalars(products.order_by(P.name_key, P.id).limit(limit + 1)))
        if not ids:
            return StockOnHandPage([], None)
        stmt = (select(P.id, P.sku, P.name, P.name_key, UnitOfMeasure.code.label("unit"),
                       Warehouse.id.label("wid"), Warehouse.code.label("wcode"), B.quantity,
                       B.value_minor, B.last_unit_cost_minor)
                .select_from(B).join(P, P.id == B.product_id)
                .join(Warehouse, Warehouse.id == B.warehouse_id)
                .join(UnitOfMeasure, UnitOfMeasure.id == P.unit_id)
                .where(B.product_id.in_(ids), *held[1:]))
        found = [r for r in s.execute(stmt.order_by(P.name_key, P.id, B.warehouse_id))
                 if after is None or r.id != after.product_id or r.wid > after.warehouse_id]
        more = len(found) > limit
        found = found[:limit]
        cur = books.currency
        rows = [StockOnHandRow(r.id, r.sku, r.name, r.unit, r.wcode, r.quantity,
                               Money.from_minor(_avg(r.quantity, r.value_minor,
                                                     r.last_unit_cost_minor), cur),
                               Money.from_minor(r.value_minor, cur)) for r in found]
        cursor = (StockOnHandCursor(found[-1].name_key, found[-1].id, found[-1].wid)
                  if more and found else None)
        return StockOnHandPage(rows, cursor)


def iter_stock_on_hand(ctx: Context, warehouse: uuid.UUID | str | None = None,
                       page_size: int = 2000) -> Iterator[StockOnHandRow]:
    after = None
    while True:
        page = stock_on_hand(ctx, warehouse, after=after, limit=page_size)
        yield from page.rows
        if page.next_cursor is None:
            return
        after = page.next_cursor


def low_stock(ctx: Context, warehouse: uuid.UUID | str | None = None) -> list[LowStockRow]:
    """Active stock products below their reorder level, with what to order.

    On hand is all warehouses (or one). The suggestion subtracts what open
    purchase orders still bring and orders at least the reorder quantity:
    max(reorder qty, reorder level - on hand - on order), or 0 when enough is
    already on order.
    """
    ctx.require("inventory.view")
    with ctx.db.read() as s:
        B, P = StockBalance, Product
        cond = [B.product_id == P.id]
        if warehouse is not None:
            cond.append(B.warehouse_id == find_warehouse_in_session(s, warehouse).id)
        on_hand = (select(func.coalesce(func.sum(B.quantity), 0)).where(*cond)
                   .scalar_subquery().label("on_hand"))
        inner = (select(P.id, P.sku, P.name, P.name_key, P.unit_id, P.reorder_level,
                        P.reorder_qty, on_hand)
                 .where(P.reorder_level > 0, P.active.is_(True), P.is_service.is_(False),
                        P.deleted_at.is_(None)).subquery())
        rows = s.execute(select(inner).where(inner.c.on_hand < inner.c.reorder_level)
                         .order_by(inner.c.name_key, inner.c.id)).all()
        if not rows:
            return []
        # What open orders still bring: open order lines are few next to a catalogue,
        # so one pass over them beats looking each low product up.
        on_order: dict[uuid.UUID, Decimal] = defaultdict(lambda: Decimal("0.000"))
        for pid, q, rq in s.execute(
                select(PurchaseOrderLine.product_id, PurchaseOrderLine.quantity,
                       PurchaseOrderLine.received_qty)
                .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.order_id)
                .where(PurchaseOrderLine.deleted_at.is_(None),
                       PurchaseOrder.status.in_(("ordered", "partially_received")))):
            on_order[pid] += max(q - rq, Decimal(0))
        units = dict(s.execute(select(UnitOfMeasure.id, UnitOfMeasure.code)).all())
        out = []
        for r in rows:
            have = r.on_hand if isinstance(r.on_hand, Decimal) else qty_from_int(r.on_hand)
            coming = on_order.get(r.id, Decimal("0.000"))
            short = r.reorder_level - have - coming
            suggested = max(r.reorder_qty, short) if short > 0 else Decimal("0.000")
            out.append(LowStockRow(r.id, r.sku, r.name, units.get(r.unit_id, ""), have,
                                   r.reorder_level, r.reorder_qty, coming, suggested))
        return out


def stock_card(ctx: Context, product: uuid.UUID | str, warehouse: uuid.UUID | str | None = None,
               *, date_from: date | None = None, date_to: date | None = None,
               after: StockCardCursor | None = None, limit: int = 100) -> StockCardPage:
    """Every move of a product (in one warehouse or all) in date order with the running
    balance, a keyset page at a time (pass the previous page's `next_cursor`)."""
    ctx.require("inventory.view")
    limit = _check_limit(limit)
    with ctx.db.read() as s:
        books = stock_books(s)
        cur = books.currency
        p = find_product_in_session(s, product)
        unit, _places = _unit(s, books, p.unit_id)
        wh = find_warehouse_in_session(s, warehouse) if warehouse is not None else None
        M = StockMove
        base = [M.product_id == p.id]
        if wh is not None:
            base.append(M.warehouse_id == wh.id)
        if after is not None:
            open_q, open_v = after.balance_quantity, after.balance_value_minor
        elif date_from is not None:
            q, v = s.execute(select(func.coalesce(func.sum(M.quantity), 0),
                                    func.coalesce(func.sum(M.value_minor), 0))
                             .where(*base, M.move_date < date_from)).one()
            open_q = q if isinstance(q, Decimal) else qty_from_int(q)
            open_v = int(v)
        else:
            open_q, open_v = Decimal("0.000"), 0
        stmt = (select(M.id, M.move_date, M.kind, M.reference, M.quantity, M.unit_cost_minor,
                       M.value_minor, M.reason, Warehouse.code.label("wcode"),
                       User.login_name)
                .join(Warehouse, Warehouse.id == M.warehouse_id)
                .outerjoin(User, User.id == M.created_by)
                .where(*base))
        if date_from is not None:
            stmt = stmt.where(M.move_date >= date_from)
        if date_to is not None:
            stmt = stmt.where(M.move_date <= date_to)
        if after is not None:
            stmt = stmt.where(or_(M.move_date > after.move_date,
                                  and_(M.move_date == after.move_date, M.id > after.move_id)))
        found = s.execute(stmt.order_by(M.move_date, M.id).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        run_q, run_v = open_q, open_v
        rows = []
        for r in found:
            run_q += r.quantity
            run_v += r.value_minor
            rows.append(StockCardRow(
                r.id, r.move_date, r.kind, r.reference, r.wcode,
                r.quantity if r.quantity > 0 else Decimal("0.000"),
                -r.quantity if r.quantity < 0 else Decimal("0.000"),
                Money.from_minor(r.unit_cost_minor, cur), Money.from_minor(r.value_minor, cur),
                run_q, Money.from_minor(run_v, cur), r.reason, r.login_name))
        cursor = (StockCardCursor(found[-1].move_date, found[-1].id, run_q, run_v)
                  if more and found else None)
        return StockCardPage(p.id, p.sku, p.name, unit, wh.code if wh else None, open_q,
                             Money.from_minor(open_v, cur), rows, cursor)


def iter_stock_card(ctx: Context, product: uuid.UUID | str,
                    warehouse: uuid.UUID | str | None = None, *, date_from: date | None = None,
                    date_to: date | None = None, page_size: int = 1000) -> Iterator[StockCardPage]:
    after = None
    while True:
        page = stock_card(ctx, product, warehouse, date_from=date_from, date_to=date_to,
                          after=after, limit=page_size)
        yield page
        if page.next_cursor is None:
            return
        after = page.next_cursor


def valuation(ctx: Context, as_of: date | None = None,
              warehouse: uuid.UUID | str | None = None) -> Valuation:
    """Quantity and value of stock per product and warehouse at the end of `as_of`.

    Summed from the moves dated up to that day (so a past date shows the stock
    as it was then); when nothing has moved since, the balance cache answers.
    When fewer moves come after the day than up to it (a month-end, most often),
    the moves since are taken back off the balance cache instead
    (`_valuation_sums`): the same figures, reading the smaller part of the journal.
    """
    ctx.require("inventory.view")
    on = as_of or ctx.today()
    if isinstance(on, datetime) or not isinstance(on, date):
        raise ValidationError("The valuation date must be a date.", field="as_of")
    with ctx.db.read() as s:
        books = stock_books(s)
        cur = books.currency
        wh = find_warehouse_in_session(s, warehouse) if warehouse is not None else None
        later = s.scalar(select(StockMove.id).where(StockMove.move_date > on).limit(1))
        if later is None:
            how = "balances"
        else:
            # The journal is append-only, so its largest rowid is its length (read from
            # the end of the table's B-tree); the moves after the day are counted only
            # up to half of it.
            moves = s.scalar(select(func.max(literal_column("rowid"))).select_from(StockMove))
            half = int(moves or 0) // 2
            since = s.scalar(select(func.count()).select_from(
                select(literal(1)).where(StockMove.move_date > on).limit(half + 1).subquery()))
            how = "back" if (since or 0) <= half else "forward"
        g = _valuation_sums(on, wh.id if wh is not None else None, how).subquery()
        # Names, units and the order come from SQLite with the sums: one query.
        stmt = (select(g.c.pid, g.c.q, g.c.v, Product.sku, Product.name,
                       UnitOfMeasure.code.label("unit"), Warehouse.code.label("wcode"))
                .select_from(g).join(Product, Product.id == g.c.pid)
                .join(UnitOfMeasure, UnitOfMeasure.id == Product.unit_id)
                .join(Warehouse, Warehouse.id == g.c.wid)
                .where(or_(g.c.q != 0, g.c.v != 0))
                .order_by(Product.name_key, Product.id, Warehouse.code))
        rows = []
        total = 0
        for r in s.execute(stmt):
            q = r.q if isinstance(r.q, Decimal) else qty_from_int(r.q)
            v = int(r.v)
            total += v
            rows.append(ValuationRow(r.pid, r.sku, r.name, r.unit, r.wcode, q,
                                     Money.from_minor(_avg(q, v), cur),
                                     Money.from_minor(v, cur)))
        return Valuation(on, rows, Money.from_minor(total, cur))


def _valuation_sums(on: date, warehouse_id: uuid.UUID | None, how: str) -> Any:
    """(pid, wid, q, v) per product and warehouse at the end of `on`: `how` is
    "balances" (nothing moved since: the cache), "forward" (the moves up to the day)
    or "back" (the cache less the moves after the day)."""
    B, M = StockBalance, StockMove
    if how == "balances":
        sums = select(B.product_id.label("pid"), B.warehouse_id.label("wid"),
                      B.quantity.label("q"), B.value_minor.label("v"))
        return sums.where(B.warehouse_id == warehouse_id) if warehouse_id else sums
    if how == "forward":
        sums = (select(M.product_id.label("pid"), M.warehouse_id.label("wid"),
                       func.sum(M.quantity).label("q"), func.sum(M.value_minor).label("v"))
                .where(M.move_date <= on).group_by(M.product_id, M.warehouse_id))
        return sums.where(M.warehouse_id == warehouse_id) if warehouse_id else sums
    if how != "back":
        raise ValueError(f"unknown valuation method {how!r}")
    after = (select(M.product_id.label("pid"), M.warehouse_id.label("wid"),
                    func.sum(M.quantity).label("q"), func.sum(M.value_minor).label("v"))
             .where(M.move_date > on).group_by(M.product_id, M.warehouse_id))
    if warehouse_id:
        after = after.where(M.warehouse_id == warehouse_id)
    a = after.subquery()
    sums = (select(B.product_id.label("pid"), B.warehouse_id.label("wid"),
                   (B.quantity - func.coalesce(a.c.q, 0)).label("q"),
                   (B.value_minor - func.coalesce(a.c.v, 0)).label("v"))
            .outerjoin(a, and_(a.c.pid == B.product_id, a.c.wid == B.warehouse_id)))
    return sums.where(B.warehouse_id == warehouse_id) if warehouse_id else sums


# --------------------------------------------------------------------------- CSV


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return str(value.amount)
    if isinstance(value, (Decimal, int, date, uuid.UUID)):
        return str(value)
    text = str(value)
    # A name typed as "=HYPERLINK(...)" must not run as a formula in a spreadsheet.
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows_csv(rows: Sequence[Any] | Iterator[Any], columns: Sequence[str]) -> str:
    """Report rows as CSV (money as plain decimals, text guarded against formulas)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([_csv_cell(getattr(r, c)) for c in columns])
    return out.getvalue()


STOCK_ON_HAND_COLUMNS = ("sku", "name", "warehouse_code", "quantity", "unit", "average_cost",
                         "value")
LOW_STOCK_COLUMNS = ("sku", "name", "unit", "on_hand", "reorder_level", "reorder_qty",
                     "on_order", "suggested_qty")
STOCK_CARD_COLUMNS = ("move_date", "kind", "reference", "warehouse_code", "quantity_in",
                      "quantity_out", "unit_cost", "value", "balance_quantity",
                      "balance_value", "reason", "by")
VALUATION_COLUMNS = ("sku", "name", "warehouse_code", "quantity", "unit", "average_cost",
                     "value")


def stock_card_csv(pages: Sequence[StockCardPage] | Iterator[StockCardPage]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(STOCK_CARD_COLUMNS)
    first = True
    for page in pages:
        if first:
            w.writerow(["", "opening", "", page.warehouse_code or "", "", "", "", "",
                        _csv_cell(page.opening_quantity), _csv_cell(page.opening_value), "",
                        ""])
            first = False
        for r in page.rows:
            w.writerow([_csv_cell(getattr(r, c)) for c in STOCK_CARD_COLUMNS])
    return out.getvalue()


def valuation_csv(report: Valuation) -> str:
    text = rows_csv(report.rows, VALUATION_COLUMNS)
    return text + f",Total,,,,,{_csv_cell(report.total_value)}\n"
