"""The demo company's sales: customers, three and a half months of invoices and payments.

`demo_sales(ctx)` adds to Sharma Electronics & Home (after the inventory step,
whose products and stock it sells): the GST rates, the invoice layout (bank
details, terms), a dozen customers (the walk-in cash customer, Bengaluru
shops and institutions with GSTINs, buyers in Tamil Nadu, Telangana, Goa and
Kerala for IGST, a few private customers, one with a tight credit limit) and,
from 1 August to 14 November 2026, about 150 invoices: counter sales paid on
the spot (cash, card, UPI), trade invoices on 15-45 days' terms paid later by
bank transfer, UPI or cheque, in full or in part; one cheque settling three
invoices; an overpayment kept as credit and used on a later invoice; credit
notes for a cancelled order, a returned item and a price correction after
payment; invoices still open and overdue for the ageing; a quote and a draft.

Every document goes through the same services a person would use, on its
own day (the step runs on a copy of the context whose clock shows that day),
with the demo's clerks and accountant acting where their logins exist. The
choices come from a seeded random generator, so every demo file is the same.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from erp_desktop.domain.gstin import check_character
from erp_desktop.models.security import Role, User
from erp_desktop.services import catalogue, customers, inventory, sales, sales_settings, taxes
from erp_desktop.services.context import Actor, Context
from erp_desktop.services.sales import Allocation, CreditLineIn, LineIn

FIRST_DAY = date(2026, 8, 1)
LAST_DAY = date(2026, 11, 14)
SEED = 20260801

BANK_DETAILS = ("HDFC Bank, Jayanagar 4th Block branch\n"
                "Account 50200012345678  ·  IFSC HDFC0000123\n"
                "UPI sharmaelectronics@hdfcbank")
TERMS = ("Goods once sold are exchanged within 7 days with this invoice; no cash refunds.\n"
         "Warranty as per the manufacturer's card. Interest at 18% a year on overdue bills.\n"
         "Subject to Bengaluru jurisdiction.")


def _gstin(state: str, pan: str, entity: str = "1") -> str:
    first14 = f"{state}{pan}{entity}Z"
    return first14 + check_character(first14)


@dataclass(frozen=True)
class _Customer:
    key: str
    name: str
    address: str
    city: str
    state: str
    postal_code: str
    gstin: str | None = None
    phone: str | None = None
    email: str | None = None
    terms: int = 0
    credit_limit: str | None = None
    shipping: str | None = None


CUSTOMERS: tuple[_Customer, ...] = (
    _Customer("lakshmi", "Lakshmi Stores", "14, 8th Cross, Malleswaram", "Bengaluru",
              "Karnataka", "560003", _gstin("29", "AAFFL3321K"), "+91 80 2334 1188",
              "lakshmistores@example.in", terms=30, credit_limit="150000"),
    _Customer("mayura", "Hotel Mayura Residency", "Hunsur Road, Gokulam", "Mysuru",
              "Karnataka", "570002", _gstin("29", "AABCM5566Q"), "+91 821 251 7700",
              "purchase@mayuraresidency.example", terms=30,
              shipping="Hotel Mayura Residency, Stores, Hunsur Road, Mysuru 570002"),
    _Customer("greenvalley", "Green Valley Apartment Owners' Association",
              "Green Valley, 1st Main, JP Nagar 6th Phase", "Bengaluru", "Karnataka",
              "560078", None, "+91 98860 44120", terms=15),
    _Customer("stjoseph", "St. Joseph's High School", "Museum Road", "Bengaluru",
              "Karnataka", "560025", _gstin("29", "AAATS7781C"), "+91 80 2221 4432",
              terms=45),
    _Customer("chennai", "Chennai Home Mart", "112, Usman Road, T. Nagar", "Chennai",
              "Tamil Nadu", "600017", _gstin("33", "AAGFC2290L"), "+91 44 2434 9901",
              "orders@chennaihomemart.example", terms=30),
    _Customer("hyderabad", "Deccan Electricals", "Shop 5, Koti Main Road", "Hyderabad",
              "Telangana", "500095", _gstin("36", "AAHFD8812M"), "+91 40 2475 3310",
              terms=30),
    _Customer("goa", "Baga Beach Resort", "Calangute-Baga Road", "Baga", "Goa", "403516",
              None, "+91 832 227 6600", terms=15),
    _Customer("kerala", "Malabar Traders", "MG Road, Ernakulam", "Kochi", "Kerala", "682035",
              _gstin("32", "AAKFM4410P"), "+91 484 235 1177", terms=30),
    _Customer("anil", "Anil Kumar", "221, 3rd Block, Koramangala", "Bengaluru", "Karnataka",
              "560034", None, "+91 98450 77123"),
    _Customer("fatima", "Fatima Begum", "17, Frazer Town", "Bengaluru", "Karnataka", "560005",
              None, "+91 99001 23456"),
    _Customer("rohan", "Rohan Mehta", "Flat 402, Prestige Shantiniketan, Whitefield",
              "Bengaluru", "Karnataka", "560048", None, "+91 97400 55501", terms=7,
              credit_limit="5000"),
)

TRADE = ("lakshmi", "mayura", "greenvalley", "stjoseph", "chennai", "hyderabad", "goa",
         "kerala")
PRIVATE = ("anil", "fatima", "rohan")


@dataclass
class DemoSales:
    customers: int = 0
    invoices: list[str] = field(default_factory=list)
    payments: list[str] = field(default_factory=list)
    credit_notes: list[str] = field(default_factory=list)
    quotes: int = 0
    drafts: int = 0
    credit_limit_warnings: int = 0


class _Calendar:
    """The demo's clock: each document is made at 11:30 in Bengaluru on its own day."""

    def __init__(self) -> None:
        self.moment = datetime(2026, 8, 1, 6, 0, tzinfo=UTC)

    def day(self, on: date) -> date:
        self.moment = datetime(on.year, on.month, on.day, 6, 0, tzinfo=UTC)
        return on

    def __call__(self) -> datetime:
        return self.moment


def _acting(ctx: Context, login: str) -> Context:
    """The demo user `login` with their role's permissions (the owner if there is none)."""
    with ctx.db.read() as s:
        user = s.scalars(select(User).where(User.login_key == login,
                                            User.deleted_at.is_(None))).first()
        role = s.get(Role, user.role_id) if user is not None else None
        if user is None or role is None:
            return ctx
        perms = frozenset(json.loads(role.permissions))
        return replace(ctx, actor=Actor(user.id, user.login_name, user.full_name, role.name,
                                        perms))


def demo_step(ctx: Context, info: object) -> None:
    """`demo_sales` in the shape of a `services.demo` step."""
    demo_sales(ctx)


def demo_sales(ctx: Context, clock: Callable[[], datetime] | None = None) -> DemoSales:
    """Add the demo's customers, invoices, payments and credit notes (see docstring)."""
    del clock  # the documents carry the demo's fixed dates
    cal = _Calendar()
    owner = replace(ctx, clock=cal)
    clerks = [_acting(owner, "ravi"), _acting(owner, "meena")]
    accounts = _acting(owner, "priya")
    out = DemoSales()
    rng = random.Random(SEED)
    cal.day(FIRST_DAY)

    # ------------------------------------------------------------ set-up
    taxes.seed_default_taxes(owner)
    categories = {t.code for t in catalogue.list_tax_categories(owner)}
    if "SVC18" in categories:
        taxes.set_category_rate(owner, "SVC18", "GST18")
    sales_settings.set_layout(owner, bank_details=BANK_DETAILS, default_terms=TERMS,
                              footer_note="Thank you for your business.")
    ids = {}
    for c in CUSTOMERS:
        row = customers.create_customer(
            owner, c.name, billing_address=c.address, city=c.city, state=c.state,
            postal_code=c.postal_code, gstin=c.gstin, phone=c.phone, email=c.email,
            payment_terms_days=c.terms, credit_limit=c.credit_limit,
            shipping_address=c.shipping)
        ids[c.key] = row.id
    ids["walkin"] = customers.walk_in_customer(owner).id
    out.customers = len(ids)

    # what can be sold: goods in stock per store, and services
    stock: dict[str, dict[str, Decimal]] = {"JAY": {}, "IND": {}}
    for wh in stock:
        page = inventory.stock_on_hand(owner, wh, limit=1000)
        for r in page.rows:
            stock[wh][r.sku] = r.quantity
    products = {p.sku: p for p in _all_products(owner)}
    services = sorted(sku for sku, p in products.items() if p.is_service)
    # one big appliance is kept back for Rohan Mehta's story below
    big = sorted((p.sale_price.amount, sku) for sku, p in products.items()
                 if stock["JAY"].get(sku, Decimal(0)) >= 1 and p.sale_price.amount > 5000)
    reserved = big[-1][1] if big else None
    if reserved is not None:
        stock["JAY"][reserved] -= 1

    def pick_lines(wh: str, count: int, big: bool) -> list[LineIn]:
        lines: list[LineIn] = []
        skus = sorted(k for k, q in stock[wh].items() if q >= 1 and k in products)
        for sku in rng.sample(skus, min(count, len(skus))):
            p = products[sku]
            on_hand = stock[wh][sku]
            if p.unit == "m":
                qty = Decimal(min(int(on_hand), rng.choice((10, 15, 20, 25, 30, 50))))
            else:
                most = 6 if big and p.sale_price.amount < 1000 else 2
                qty = Decimal(min(int(on_hand), rng.randint(1, most)))
            if qty < 1:
                continue
            stock[wh][sku] = on_hand - qty
            disc = rng.choice((None, None, None, 5, 10)) if big else None
            lines.append(LineIn(sku, qty, discount_percent=disc))
        return lines

    payments: list[tuple[date, str, Callable[[], object]]] = []  # (day, label, action)

    def later(on: date, label: str, action: Callable[[], object]) -> None:
        payments.append((on, label, action))

    def issue(c: Context, customer: str, day: date, lines: list[LineIn], wh: str,
              **kw: object) -> sales.InvoiceView | None:
        if not lines:
            return None
        draft = sales.create_draft(c, ids[customer], lines, invoice_date=day, warehouse=wh,
                                   **kw)  # type: ignore[arg-type]
        result = sales.issue_invoice(c, draft.id)
        out.invoices.append(result.invoice.number or "")
        out.credit_limit_warnings += result.credit_limit_exceeded
        return result.invoice

    def pay(c: Context, customer: str, day: date, amount: Decimal, method: str,
            reference: str | None = None, allocations: list[Allocation] | None = None) -> None:
        p = sales.record_payment(c, ids[customer], amount, method, payment_date=day,
                                 reference=reference, allocations=allocations)
        out.payments.append(p.number)

    # ------------------------------------------------------------ the season
    day = FIRST_DAY
    cheque_no = 104520
    special: dict[str, list[sales.InvoiceView]] = {"lakshmi": [], "mayura": []}
    while day <= LAST_DAY:
        cal.day(day)
        for _label, action in sorted([(lbl, a) for d, lbl, a in payments if d == day],
                                     key=lambda x: x[0]):
            action()
        sunday = day.weekday() == 6
        count = rng.choice((0, 1, 1, 2)) if sunday else rng.choice((1, 1, 1, 2, 2))
        for _ in range(count):
            clerk = rng.choice(clerks)
            if rng.random() < 0.55:
                # a counter sale, paid on the spot
                wh = rng.choice(("JAY", "JAY", "IND"))
                lines = pick_lines(wh, rng.randint(1, 3), big=False)
                if rng.random() < 0.1 and services:
                    lines.append(LineIn(rng.choice(services), 1))
                who = rng.choice(("walkin",) * 6 + PRIVATE[:2])
                method = rng.choice(("cash", "cash", "card", "upi", "upi"))
                ref = {"card": f"POS {rng.randint(100000, 999999)}",
                       "upi": f"UPI {rng.randint(10**11, 10**12 - 1)}"}.get(method)
                if lines:
                    result = sales.sell(clerk, lines, customer=ids[who], invoice_date=day,
                                        payment_method=method, payment_reference=ref,
                                        warehouse=wh)
                    out.invoices.append(result.invoice.number or "")
                    out.payments.append(result.invoice.settlements[-1].number
                                        if result.invoice.settlements else "")
                continue
            # a trade invoice on terms
            who = rng.choice(TRADE)
            inv = issue(accounts if rng.random() < 0.5 else clerk, who, day,
                        pick_lines("JAY", rng.randint(2, 5), big=True), "JAY")
            if inv is None:
                continue
            if who in special and len(special[who]) < 3:
                special[who].append(inv)
                continue
            fate = rng.random()
            due = inv.due_date or day
            if fate < 0.5:
                when = due - timedelta(days=rng.randint(0, 10))
                method = rng.choice(("bank_transfer", "bank_transfer", "cheque", "upi"))
                cheque_no += 7
                ref = {"bank_transfer": f"NEFT {rng.randint(10**9, 10**10 - 1)}",
                       "cheque": f"Cheque {cheque_no} Canara Bank",
                       "upi": f"UPI {rng.randint(10**11, 10**12 - 1)}"}[method]
                if when <= LAST_DAY:
                    later(max(when, day), f"pay {inv.number}",
                          _bound(pay, accounts, who, max(when, day), inv.total.amount, method,
                                 ref, [Allocation(inv.number or "", inv.total.amount)]))
            elif fate < 0.7:
                when = day + timedelta(days=rng.randint(5, 20))
                half = (inv.total.amount / 2).quantize(Decimal(1))
                if when <= LAST_DAY:
                    later(when, f"part {inv.number}",
                          _bound(pay, accounts, who, when, half, "bank_transfer",
                                 f"NEFT {rng.randint(10**9, 10**10 - 1)}",
                                 [Allocation(inv.number or "", half)]))
            # else: still open (the ageing shows it)
        day += timedelta(days=1)

    # ------------------------------------------------------------ the stories
    cal.day(date(2026, 11, 5))
    lakshmi = special["lakshmi"]
    if lakshmi:
        # one cheque for three invoices
        total = sum((i.total.amount for i in lakshmi), Decimal(0))
        pay(accounts, "lakshmi", date(2026, 11, 5), total, "cheque",
            "Cheque 218844 State Bank of India",
            [Allocation(i.number or "", i.total.amount) for i in lakshmi])
    mayura = special["mayura"]
    if mayura:
        # the hotel pays a round sum: the rest is kept as credit...
        owed = sum((i.total.amount for i in mayura), Decimal(0))
        round_sum = (owed / 1000).quantize(Decimal(1)) * 1000 + 1000
        cal.day(date(2026, 11, 6))
        pay(accounts, "mayura", date(2026, 11, 6), round_sum, "bank_transfer",
            "RTGS HDFCR52026110600123",
            [Allocation(i.number or "", i.total.amount) for i in mayura])
        # ...and used on their next invoice
        cal.day(date(2026, 11, 10))
        nxt = issue(accounts, "mayura", date(2026, 11, 10), pick_lines("JAY", 2, big=True),
                    "JAY")
        if nxt is not None:
            sales.apply_credit(accounts, ids["mayura"], nxt.number or "",
                               on=date(2026, 11, 10))

    # credit notes: a cancelled order, a returned item, a price correction after payment
    listed = {r.number: r for r in sales.iter_invoices(owner, FIRST_DAY, LAST_DAY)}
    open_trade = [n for n in out.invoices[:60]
                  if listed[n].status == "issued" and listed[n].customer_code != "CASH"]
    cal.day(date(2026, 11, 11))
    if open_trade:
        cn = sales.issue_credit_note(accounts, open_trade[0], note_date=date(2026, 11, 11),
                                     reason="Order cancelled by the customer")
        out.credit_notes.append(cn.number)
    counter = [n for n in out.invoices[10:80] if listed[n].customer_code == "CASH"]
    if counter:
        v = sales.get_invoice(owner, counter[0])
        cn = sales.issue_credit_note(accounts, v.number or "",
                                     [CreditLineIn(v.lines[0].line_no, 1)],
                                     note_date=date(2026, 11, 11),
                                     reason="Returned within 7 days: not working")
        out.credit_notes.append(cn.number)
    paid_trade = [n for n in out.invoices[20:100]
                  if listed[n].status == "paid" and listed[n].customer_code != "CASH"
                  and len(sales.get_invoice(owner, n).lines) >= 2]
    if paid_trade:
        v = sales.get_invoice(owner, paid_trade[0])
        cn = sales.issue_credit_note(accounts, v.number or "",
                                     [CreditLineIn(v.lines[-1].line_no, 1)],
                                     note_date=date(2026, 11, 12), restock=False,
                                     reason="Damaged in transit; written off")
        out.credit_notes.append(cn.number)

    # Rohan Mehta buys a big appliance on 7 days' credit: over his limit (a warning)
    cal.day(date(2026, 11, 13))
    if reserved is not None:
        issue(clerks[0], "rohan", date(2026, 11, 13), [LineIn(reserved, 1)], "JAY")

    # still in the pipeline: a quote and a draft
    cal.day(LAST_DAY)
    sales.create_quote(accounts, ids["stjoseph"], [LineIn("CR-HS48", 12), LineIn("AN-REG", 12),
                                                   LineIn("SVC-FANFIT", 12)],
                       quote_date=LAST_DAY, notes="Fans for six classrooms, fitted.")
    out.quotes = 1
    sales.create_draft(clerks[1], ids["greenvalley"], [LineIn("PH-BATTEN20", 10),
                                                       LineIn("HV-MCB32", 4)],
                       invoice_date=LAST_DAY, warehouse="JAY")
    out.drafts = 1
    return out


def _bound(fn: Callable[..., None], *args: object) -> Callable[[], None]:
    return lambda: fn(*args)


def _all_products(ctx: Context) -> list[catalogue.ProductRow]:
    rows: list[catalogue.ProductRow] = []
    after = None
    while True:
        page = catalogue.list_products(ctx, after=after, limit=500)
        rows += page.rows
        if page.next_cursor is None:
            return rows
        after = page.next_cursor
