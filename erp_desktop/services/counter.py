"""The shop counter: find a product by scan or name, price a sale as it is typed, issue,
take payment and print.

The counter sale screen (`ui.invoice_editor`) asks these things of this module
(each takes the counter's `warehouse`, one of `warehouses()`; None: the default):

- `lookup`: what a scanned barcode, a typed SKU or the beginnings of name words
  find (`catalogue.find_by_code` first, else `catalogue.list_products`), with
  the sale price, unit, tax category and the stock on hand in the counter's
  warehouse (the one issuing takes the goods from).
- `preview`: the totals and tax breakdown of the sale as typed, computed by
  the very code that issues (`sales`: the customer's price list, the tax
  category's rate, intra/inter-state supply, the company's tax rounding and
  round-off), in a read transaction that is always rolled back, so nothing is
  ever written. Warnings come with it: the customer would go over the credit
  limit, a line needs more stock than the warehouse holds. Neither stops the
  clerk; issuing refuses what the rules refuse (stock below zero when the
  company does not allow it).
- `issue` (through `sales.sell`, with or without the payment in the same
  transaction), `take_payment` (through `sales.record_payment`, with the change
  due on cash) and `invoice_pdf` (through `invoice_pdf.invoice_pdf`, A4 or the
  80 mm receipt as the company's layout says, or as the clerk chooses).

A refusal about one line names it in `field` as `lines[i].<field>` (i counted
from 0, as the lines were given; the message says "Line i+1"), so the screen
can point at the cell.

`sales` has no public "price this sale without saving it" entry point yet;
`_price_sale` below calls its private draft builder (`_new_document` with
`add=False`, exactly what `sales.sell` runs first), its view and its choice of
warehouse, and `_counter_warehouse` its default warehouse. Those two are the
only places that do: when `sales` grows public functions for them, only they
change.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import NotFound, UserError, ValidationError
from erp_desktop.domain.money import Money, format_money, parse_decimal
from erp_desktop.domain.quantity import check_places, parse_quantity
from erp_desktop.domain.words import amount_in_words
from erp_desktop.models.inventory import StockBalance, UnitOfMeasure, Warehouse
from erp_desktop.services import catalogue, customers, inventory, sales
from erp_desktop.services import invoice_pdf as pdfs
from erp_desktop.services.catalogue import find_product_in_session
from erp_desktop.services.context import Context

PAYMENT_METHODS = ("cash", "card", "upi", "bank_transfer", "cheque")
MAX_HITS = 50
_LINE_PREFIX = re.compile(r"^Line (\d+):")
_LINE_FIELDS = {"product", "quantity", "unit_price", "discount_percent", "discount_amount",
                "discount", "tax_category", "description"}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class CounterLine:
    """One line of the sale as the clerk has it: a product (id, SKU or barcode), a
    quantity, and optionally a price typed over the list price and a discount."""

    product: uuid.UUID | str
    quantity: Decimal | str | int = Decimal(1)
    unit_price: Decimal | str | None = None  # None: the customer's price list / product price
    discount_percent: Decimal | str | None = None


@dataclass(frozen=True)
class ProductHit:
    id: uuid.UUID
    sku: str
    barcode: str | None
    name: str
    unit: str
    unit_places: int
    sale_price: Money
    tax_category: str | None
    hsn_sac: str | None
    is_service: bool
    active: bool
    on_hand: Decimal | None  # in the counter's warehouse; None for a service
    warehouse_code: str | None
    exact: bool  # found by its barcode or SKU (a scan), not by name


@dataclass(frozen=True)
class PreviewLine:
    index: int  # position in the lines given, from 0
    product_id: uuid.UUID | None
    sku: str | None
    name: str
    unit: str | None
    unit_places: int
    quantity: Decimal
    unit_price: Money  # the price charged (typed, or from the price list)
    discount_percent: Decimal | None
    tax_code: str | None
    tax_rate: Decimal | None
    discount: Money
    taxable: Money
    tax: Money
    total: Money
    on_hand: Decimal | None  # in the counter's warehouse; None for a service
    short: bool  # this product needs more than the warehouse holds


@dataclass(frozen=True)
class TaxTotal:
    """One line of the totals panel: a tax component at one rate (CGST 9 %)."""

    code: str
    name: str
    rate: Decimal
    taxable: Money
    amount: Money


@dataclass(frozen=True)
class CounterWarning:
    kind: str  # credit_limit | short_stock
    message: str
    lines: tuple[int, ...] = ()  # indices of the lines it is about
    blocks_issue: bool = False  # issuing will be refused as things stand


@dataclass(frozen=True)
class CounterPreview:
    customer_id: uuid.UUID
    customer_name: str
    is_walk_in: bool
    currency: str
    prices_include_tax: bool
    inter_state: bool
    place_of_supply: str | None
    warehouse_code: str | None
    warehouse_name: str | None
    lines: list[PreviewLine]
    gross: Money  # quantity x price, before discounts
    discount: Money
    taxable: Money
    tax: Money
    round_off: Money
    total: Money
    tax_lines: list[sales.TaxLine]  # per rate and component, as the invoice will keep them
    taxes: list[TaxTotal]  # per component and rate, for the totals panel
    amount_in_words: str
    balance: Money  # what the customer owes before this sale (negative: in credit)
    credit_limit: Money | None
    warnings: list[CounterWarning]


@dataclass(frozen=True)
class CounterPayment:
    """Money taken at the counter: the method, what was handed over and the change."""

    method: str
    tendered: Decimal | str | int | Money
    reference: str | None = None


@dataclass(frozen=True)
class CounterSale:
    invoice: sales.InvoiceView
    warnings: list[str]
    receipt_number: str | None
    paid: Money  # taken now
    change_due: Money  # cash handed back


@dataclass(frozen=True)
class CounterPdf:
    data: bytes
    file_name: str
    title: str


# --------------------------------------------------------------------------- helpers


class _RollBack(Exception):
    """Ends a read transaction without keeping anything, carrying the result out."""

    def __init__(self, result: Any) -> None:
        super().__init__("roll back")
        self.result = result


def _at_line(exc: UserError, index: int) -> UserError:
    """The same refusal, naming line `index` in its field."""
    return type(exc)(exc.message, field=f"lines[{index}].{exc.field or 'product'}")


def _locate(exc: UserError, names: Sequence[str]) -> UserError:
    """Point a refusal of `sales` at its line: "Line 3: ..." or a product named in it."""
    if (exc.field or "").startswith("lines["):
        return exc
    found = _LINE_PREFIX.match(exc.message)
    if found and exc.field in _LINE_FIELDS:
        index = int(found.group(1)) - 1
        if 0 <= index < len(names):
            return _at_line(exc, index)
    if exc.field in ("quantity", "product"):
        for index, name in enumerate(names):
            if name and f" {name} " in f" {exc.message} ".replace(":", " ").replace(".", " "):
                return _at_line(exc, index)
    return exc


@dataclass(frozen=True)
class _Checked:
    """A line's product, as plain values (they outlive the transaction that read them)."""

    product_id: uuid.UUID
    sku: str
    name: str
    is_service: bool
    unit: str
    places: int
    quantity: Decimal


def _check_lines(s: Session, lines: Sequence[CounterLine]) -> list[_Checked]:
    """What the screen can be told line by line before pricing: each line names a
    product that exists, a quantity above zero in its unit's decimals, numbers."""
    if not lines:
        raise ValidationError("Scan or choose at least one product.", field="lines")
    if len(lines) > sales.MAX_LINES:
        raise ValidationError(f"A sale has at most {sales.MAX_LINES} lines.", field="lines")
    units: dict[uuid.UUID, tuple[str, int]] = {}
    out = []
    for i, line in enumerate(lines):
        where = f"Line {i + 1}"
        if not isinstance(line, CounterLine):
            raise ValidationError(f"{where}: not a counter line.", field=f"lines[{i}]")
        if line.product in (None, ""):
            raise ValidationError(f"{where}: choose a product.", field=f"lines[{i}].product")
        try:
            product = find_product_in_session(s, line.product)
        except NotFound:
            raise NotFound(f"{where}: there is no product '{line.product}'.",
                           field=f"lines[{i}].product") from None
        if product.unit_id not in units:
            u = s.get(UnitOfMeasure, product.unit_id)
            units[product.unit_id] = (u.code, u.decimal_places) if u else ("", 3)
        unit, places = units[product.unit_id]
        field = f"lines[{i}].quantity"
        try:
            qty = parse_quantity(line.quantity, field)
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc.message}", field=field) from None
        if qty <= 0:
            raise ValidationError(f"{where}: the quantity must be greater than zero.",
                                  field=field)
        try:
            check_places(qty, places, unit, field)
        except ValidationError as exc:
            raise ValidationError(f"{where}: {exc.message}", field=field) from None
        for name, value in (("unit_price", line.unit_price),
                            ("discount_percent", line.discount_percent)):
            if value not in (None, "") and not isinstance(value, Money):
                try:
                    parse_decimal(value, name)
                except ValidationError:
                    raise ValidationError(f"{where}: “{value}” is not a number.",
                                          field=f"lines[{i}].{name}") from None
        out.append(_Checked(product.id, product.sku, product.name, product.is_service, unit,
                            places, qty))
    return out


def _line_in(line: CounterLine, checked: _Checked) -> sales.LineIn:
    return sales.LineIn(product=checked.product_id, quantity=line.quantity,
                        unit_price=None if line.unit_price in (None, "") else line.unit_price,
                        discount_percent=(None if line.discount_percent in (None, "")
                                          else line.discount_percent))


def _price_sale(s: Session, ctx: Context, customer: uuid.UUID | str | None,
                lines: list[sales.LineIn], *, invoice_date: date | None,
                discount_percent: object, discount_amount: object,
                warehouse: uuid.UUID | str | None
                ) -> tuple[Any, sales.InvoiceView, Any, Warehouse | None]:
    """The sale priced by `sales` exactly as `sales.sell` prices it, kept out of the
    session (see module docstring): (books, view, customer row, warehouse)."""
    books = sales.books_in_session(s)
    inv, rows, doc = sales._new_document(  # the private entry: see module docstring
        s, ctx, books, "draft", customer, lines, invoice_date=invoice_date,
        discount_percent=discount_percent, discount_amount=discount_amount, notes=None,
        terms=None, warehouse=warehouse, price_list=None, add=False)
    view = sales._view(s, books, inv, rows, doc=doc)
    wh = sales._warehouse_for(s, books, inv)
    cust = customers.find_customer(s, inv.customer_id)
    return books, view, cust, wh


def _qty_text(qty: Decimal, places: int) -> str:
    return f"{qty:,.{places}f}"


@dataclass(frozen=True)
class CounterWarehouse:
    """A warehouse a counter may sell from."""

    id: uuid.UUID
    code: str
    name: str
    default: bool  # the one a sale takes goods from when none is chosen


def warehouses(ctx: Context) -> list[CounterWarehouse]:
    """The active warehouses a counter sale may take goods from, by code (for the
    counter's "Sell from" choice: a branch's desk sells from its own store). Asked
    with the permission to sell, not to manage stock: a clerk may choose."""
    ctx.require("sales.invoice.create")
    with ctx.db.read() as s:
        default = _counter_warehouse(s, None)
        q = (select(Warehouse.id, Warehouse.code, Warehouse.name)
             .where(Warehouse.deleted_at.is_(None), Warehouse.active.is_(True))
             .order_by(Warehouse.code))
        return [CounterWarehouse(r.id, r.code, r.name, default is not None and r.id == default.id)
                for r in s.execute(q)]


def _counter_warehouse(s: Session, warehouse: uuid.UUID | str | None) -> Warehouse | None:
    """The warehouse a counter sale takes goods from: the one asked for, else the one
    `sales` uses by default (the first active warehouse)."""
    if warehouse not in (None, ""):
        return inventory.find_warehouse_in_session(s, warehouse)  # type: ignore[arg-type]
    return sales._default_warehouse(s)  # the private entry: see module docstring


def _on_hand(s: Session, warehouse: Warehouse | None,
             product_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Decimal]:
    if warehouse is None or not product_ids:
        return {}
    rows = s.execute(select(StockBalance.product_id, StockBalance.quantity).where(
        StockBalance.warehouse_id == warehouse.id,
        StockBalance.product_id.in_(list(set(product_ids))))).all()
    return {pid: qty for pid, qty in rows}


# --------------------------------------------------------------------------- lookup


def lookup(ctx: Context, code_or_words: str, *, warehouse: uuid.UUID | str | None = None,
           limit: int = 12) -> list[ProductHit]:
    """What the counter's scan box finds: the product whose barcode or SKU is exactly
    the text (a scan), else the active products whose name words begin with the
    typed words, in name order."""
    ctx.require("sales.invoice.create")
    text = (code_or_words or "").strip()
    if not text:
        return []
    if not isinstance(limit, int) or not 1 <= limit <= MAX_HITS:
        raise ValidationError(f"Ask for 1 to {MAX_HITS} products.", field="limit")
    exact = catalogue.find_by_code(ctx, text)
    rows = [exact] if exact is not None else catalogue.list_products(ctx, text,
                                                                     limit=limit).rows
    if not rows:
        return []
    with ctx.db.read() as s:
        wh = _counter_warehouse(s, warehouse)
        stock = _on_hand(s, wh, [r.id for r in rows if not r.is_service])
        code = wh.code if wh is not None else None
    return [ProductHit(
        id=r.id, sku=r.sku, barcode=r.barcode, name=r.name, unit=r.unit,
        unit_places=r.unit_places, sale_price=r.sale_price, tax_category=r.tax_category,
        hsn_sac=r.hsn_sac, is_service=r.is_service, active=r.active,
        on_hand=None if r.is_service else stock.get(r.id, Decimal(0)).quantize(
            Decimal(1).scaleb(-r.unit_places)),
        warehouse_code=code, exact=exact is not None) for r in rows]


# --------------------------------------------------------------------------- preview


def preview(ctx: Context, customer: uuid.UUID | str | None, lines: Sequence[CounterLine], *,
            warehouse: uuid.UUID | str | None = None, invoice_date: date | None = None,
            discount_percent: Decimal | str | None = None,
            discount_amount: Decimal | str | None = None) -> CounterPreview:
    """The sale as typed, priced and taxed as issuing would, with its warnings; writes
    nothing (customer None: the walk-in cash customer)."""
    ctx.require("sales.invoice.create")
    try:
        with ctx.db.read() as s:
            result = _preview_in_session(s, ctx, customer, lines, warehouse=warehouse,
                                         invoice_date=invoice_date,
                                         discount_percent=discount_percent,
                                         discount_amount=discount_amount)
            raise _RollBack(result)  # whatever pricing touched (a first walk-in) goes too
    except _RollBack as done:
        return done.result


def _preview_in_session(s: Session, ctx: Context, customer: uuid.UUID | str | None,
                        lines: Sequence[CounterLine], *, warehouse: uuid.UUID | str | None,
                        invoice_date: date | None, discount_percent: object,
                        discount_amount: object) -> CounterPreview:
    checked = _check_lines(s, lines)
    names = [c.name for c in checked]
    try:
        books, view, cust, wh = _price_sale(
            s, ctx, customer, [_line_in(li, c) for li, c in zip(lines, checked,
                                                                        strict=True)],
            invoice_date=invoice_date, discount_percent=discount_percent,
            discount_amount=discount_amount, warehouse=warehouse)
    except UserError as exc:
        raise _locate(exc, names) from None
    cur = view.currency
    locale = books.company.locale or "en_IN"
    stocked = [c.product_id for c in checked if not c.is_service]
    stock = _on_hand(s, wh, stocked)
    needed: dict[uuid.UUID, Decimal] = {}
    for c in checked:
        if not c.is_service:
            needed[c.product_id] = needed.get(c.product_id, Decimal(0)) + c.quantity
    short = {pid for pid, qty in needed.items() if qty > stock.get(pid, Decimal(0))}
    allow_negative = inventory.stock_books(s).allow_negative

    out_lines = []
    for i, (c, row) in enumerate(zip(checked, view.lines, strict=True)):
        out_lines.append(PreviewLine(
            index=i, product_id=c.product_id, sku=c.sku, name=row.description, unit=row.unit,
            unit_places=c.places, quantity=row.quantity, unit_price=row.unit_price,
            discount_percent=row.discount_percent, tax_code=row.tax_rate_code,
            tax_rate=row.tax_rate, discount=row.discount, taxable=row.taxable, tax=row.tax,
            total=row.total,
            on_hand=None if c.is_service else stock.get(c.product_id, Decimal(0)).quantize(
                Decimal(1).scaleb(-c.places)),
            short=c.product_id in short))

    warnings: list[CounterWarning] = []
    balance_row = customers.balance_in_session(s, cust.id, cur)
    balance = balance_row.receivable - balance_row.credit
    limit = Money.from_minor(cust.credit_limit_minor, cur) \
        if cust.credit_limit_minor is not None else None
    if limit is not None and not cust.is_walk_in:
        owed = balance + view.total
        if owed > limit:
            owes = (f"{cust.name} owes {format_money(balance, locale)}; with this sale "
                    if balance.amount > 0 else f"With this sale {cust.name} would owe ")
            warnings.append(CounterWarning(
                "credit_limit", f"{owes}{format_money(owed, locale)}, over the credit limit "
                f"of {format_money(limit, locale)}."))
    where = wh.name if wh is not None else "the warehouse"
    for pid in needed:
        if pid not in short:
            continue
        idx = tuple(c_i for c_i, c in enumerate(checked) if c.product_id == pid)
        c = checked[idx[0]]
        have = stock.get(pid, Decimal(0))
        text = (f"Only {_qty_text(max(have, Decimal(0)), c.places)} {c.unit} of "
                f"{c.name} in {where}; this sale needs "
                f"{_qty_text(needed[pid], c.places)} {c.unit}.")
        if not allow_negative:
            text += " Issuing will be refused until stock is received."
        warnings.append(CounterWarning("short_stock", text, idx, not allow_negative))

    taxes: dict[tuple[str, Decimal], list[Any]] = {}
    for t in view.tax_lines:
        if t.component_code is None:
            continue
        key = (t.component_code, t.component_rate)
        entry = taxes.setdefault(key, [t.component_name or t.component_code,
                                       Money.zero(cur), Money.zero(cur)])
        entry[1] = entry[1] + t.taxable
        entry[2] = entry[2] + t.tax
    tax_totals = [TaxTotal(code, name, rate, taxable, amount)
                  for (code, rate), (name, taxable, amount) in taxes.items()]
    tax_totals.sort(key=lambda t: (-t.rate, t.code))
    return CounterPreview(
        customer_id=cust.id, customer_name=cust.name, is_walk_in=cust.is_walk_in,
        currency=cur, prices_include_tax=view.prices_include_tax,
        inter_state=view.inter_state, place_of_supply=view.place_of_supply,
        warehouse_code=wh.code if wh is not None else None,
        warehouse_name=wh.name if wh is not None else None, lines=out_lines,
        gross=view.gross, discount=view.discount, taxable=view.taxable, tax=view.tax,
        round_off=view.round_off, total=view.total, tax_lines=list(view.tax_lines),
        taxes=tax_totals, amount_in_words=amount_in_words(view.total.amount, cur),
        balance=balance, credit_limit=limit, warnings=warnings)


# --------------------------------------------------------------------------- issue, pay, print


def _tendered(value: Decimal | str | int | Money, currency: str) -> Decimal:
    if isinstance(value, Money):
        if value.currency != currency:
            raise ValidationError(f"The amount is in {value.currency}; the sale is in "
                                  f"{currency}.", field="amount")
        return value.amount
    amount = parse_decimal(value, "amount")
    try:
        Money(amount, currency)
    except ValidationError:
        raise ValidationError(f"The amount {amount} has more decimal places than {currency} "
                              "allows.", field="amount") from None
    return amount


def _method(method: str) -> str:
    key = (method or "").strip().lower().replace(" ", "_").replace("-", "_")
    if key not in PAYMENT_METHODS:
        raise ValidationError("A payment is cash, card, UPI, bank transfer or cheque.",
                              field="method")
    return key


def issue(ctx: Context, customer: uuid.UUID | str | None, lines: Sequence[CounterLine], *,
          payment: CounterPayment | None = None, warehouse: uuid.UUID | str | None = None,
          discount_percent: Decimal | str | None = None,
          discount_amount: Decimal | str | None = None,
          notes: str | None = None) -> CounterSale:
    """Issue the sale (`sales.sell`): number, stock, tax and ledger in one transaction.

    With `payment` covering the total, the payment is recorded in the same
    transaction (cash may be more than the total: the change is handed back).
    A payment of less than the total issues the invoice and then records the
    part payment (`take_payment`).
    """
    ctx.require("sales.invoice.issue")
    method = _method(payment.method) if payment is not None else None
    try:
        with ctx.db.read() as s:
            checked = _check_lines(s, lines)
            names = [c.name for c in checked]
            books = sales.books_in_session(s)
            locale = books.company.locale or "en_IN"
            currency = books.currency
            total = None
            if payment is not None:  # what the sale comes to, priced as sell will price it
                try:
                    total = _price_sale(
                        s, ctx, customer, [_line_in(li, c)
                                           for li, c in zip(lines, checked, strict=True)],
                        invoice_date=None, discount_percent=discount_percent,
                        discount_amount=discount_amount, warehouse=warehouse)[1].total
                except UserError as exc:
                    raise _locate(exc, names) from None
            raise _RollBack((checked, names, locale, currency, total))
    except _RollBack as done:
        checked, names, locale, currency, total = done.result
    pay_now = method
    tendered = None
    if payment is not None and method is not None:
        tendered = _tendered(payment.tendered, currency)
        if tendered <= 0:
            raise ValidationError("The amount taken must be more than zero.", field="amount")
        if method == "cheque" and not (payment.reference or "").strip():
            raise ValidationError("Enter the cheque number (and bank) as the reference.",
                                  field="reference")
        if method != "cash" and tendered > total.amount:
            raise ValidationError(
                f"A {_METHOD_NAMES[method]} payment cannot be more than the "
                f"{format_money(total, locale)} due.", field="amount")
        if tendered < total.amount:
            pay_now = None  # a part payment: recorded once the invoice is issued
    sale_lines = [_line_in(li, c) for li, c in zip(lines, checked, strict=True)]
    try:
        result = sales.sell(ctx, sale_lines, customer=customer, payment_method=pay_now,
                            payment_reference=payment.reference if payment else None,
                            discount_percent=discount_percent,
                            discount_amount=discount_amount, notes=notes, warehouse=warehouse)
    except UserError as exc:
        raise _locate(exc, names) from None
    inv = result.invoice
    zero = Money.zero(inv.currency)
    if tendered is None or method is None or payment is None:
        return CounterSale(inv, result.warnings, None, zero, zero)
    if pay_now is None:
        taken = take_payment(ctx, inv.id, CounterPayment(method, tendered, payment.reference))
        return CounterSale(taken.invoice, result.warnings, taken.receipt_number, taken.paid,
                           taken.change_due)
    settled = next((x for x in inv.settlements if x.kind == "payment"), None)
    paid = settled.amount if settled is not None else zero
    change = Money(tendered, inv.currency) - paid if tendered > paid.amount else zero
    return CounterSale(inv, result.warnings, settled.number if settled else None, paid, change)


_METHOD_NAMES = {"cash": "cash", "card": "card", "upi": "UPI", "bank_transfer": "bank transfer",
                 "cheque": "cheque"}


def take_payment(ctx: Context, invoice: uuid.UUID | str, payment: CounterPayment) -> CounterSale:
    """Take money for an issued invoice (`sales.record_payment`): all or part of what is
    left to pay. Cash over the balance is change handed back; other methods cannot
    pay more than the balance."""
    ctx.require("sales.payment.record")
    method = _method(payment.method)
    with ctx.db.read() as s:
        inv = sales.invoice_view_in_session(s, invoice)
        locale = sales.books_in_session(s).company.locale or "en_IN"
    if not inv.is_issued:
        raise ValidationError("Issue the invoice before taking payment for it.",
                              field="invoice")
    tendered = _tendered(payment.tendered, inv.currency)
    if tendered <= 0:
        raise ValidationError("The amount taken must be more than zero.", field="amount")
    balance = inv.balance.amount
    if balance <= 0:
        raise ValidationError(f"Invoice {inv.number} is already paid.", field="invoice")
    if method != "cash" and tendered > balance:
        raise ValidationError(
            f"A {_METHOD_NAMES[method]} payment cannot be more than the "
            f"{format_money(inv.balance, locale)} left to pay.", field="amount")
    amount = min(tendered, balance)
    pay = sales.record_payment(ctx, inv.customer_id, amount, method,
                               reference=payment.reference,
                               allocations=[sales.Allocation(inv.id, amount)])
    with ctx.db.read() as s:
        after = sales.invoice_view_in_session(s, inv.id)
    return CounterSale(after, [], pay.number, pay.amount,
                       Money(tendered - amount, inv.currency))


def invoice_pdf(ctx: Context, invoice: uuid.UUID | str, *,
                page_format: str | None = None) -> CounterPdf:
    """The invoice to hand over as PDF: A4 or the 80 mm receipt as the company's layout
    says, unless `page_format` (A4, LETTER, THERMAL) says otherwise."""
    ctx.require("sales.view")
    fmt = (page_format or "").strip().upper() or None
    data = pdfs.invoice_pdf(ctx, invoice, page_format=fmt)
    with ctx.db.read() as s:
        number = sales.invoice_view_in_session(s, invoice).number or "draft"
    return CounterPdf(data, pdfs.file_name(number), f"Invoice {number}")
