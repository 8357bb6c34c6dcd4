"""The demo company: Sharma Electronics & Home, a small retailer in Bengaluru.

`create_demo_company` builds a believable company file to explore and to
test by hand: an Indian private limited company (GST, INR, April fiscal
year) with a head office and an Indiranagar store, one login per default
role (demo passwords, listed in the README), the owner's capital and a few
months of rent, utilities, cash sales and bank deposits, so the trial
balance, profit and loss and balance sheet show something real.

It is a list of steps (`STEPS`), each a function of the logged-in owner's
`Context` and the shared `DemoInfo` under construction, all going through the
same services a person would use. Products, invoices and employees arrive as
further steps. Dates and amounts are fixed (April to mid-November 2026), so
every demo file has the same books.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from erp_desktop.models.company import Branch
from erp_desktop.services import audit, demo_hr, demo_inventory, demo_sales, ledger, users
from erp_desktop.services.company import NewAdmin, NewCompany, create_company
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo, system_clock
from erp_desktop.services.ledger import LineInput
from erp_desktop.store.company_file import sidecar_paths

DEMO_FILE_NAME = "Sharma Electronics (demo).erp"
COMPANY_NAME = "Sharma Electronics & Home Pvt Ltd"
TRADE_NAME = "Sharma Electronics & Home"
OWNER_LOGIN = "owner"
# The demo's books run from the start of fiscal year 2026-27 to this day.
FIRST_DAY = date(2026, 4, 1)
LAST_DAY = date(2026, 11, 15)


@dataclass(frozen=True)
class DemoUser:
    login: str
    full_name: str
    role: str
    password: str  # demo only: printed by the CLI and listed in the README


# Passwords pass domain.passwords (ten characters or more, not containing the login).
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser(OWNER_LOGIN, "Rajesh Sharma", "admin", "admin-demo-2026"),
    DemoUser("priya", "Priya Nair", "accountant", "accounts-demo-2026"),
    DemoUser("ravi", "Ravi Kumar", "sales_clerk", "sales1-demo-2026"),
    DemoUser("meena", "Meena Iyer", "sales_clerk", "sales2-demo-2026"),
    DemoUser("sunil", "Sunil Gowda", "storekeeper", "stores-demo-2026"),
    DemoUser("anita", "Anita Desai", "hr_manager", "people-demo-2026"),
    DemoUser("kiran", "Kiran Rao", "employee", "staff-demo-2026"),
    DemoUser("dev", "Dev Malhotra", "auditor", "audit-demo-2026"),
)

DEMO_PROFILE = NewCompany(
    legal_name=COMPANY_NAME, trade_name=TRADE_NAME, country="IN", base_currency="INR",
    tax_regime="gst", fiscal_year_start_month=4, locale="en_IN", state="Karnataka",
    state_code="29", address="No. 42, 11th Main Road, 4th Block, Jayanagar", city="Bengaluru",
    postal_code="560011", phone="+91 80 4123 4567", email="accounts@sharma-electronics.example",
    # State 29, PAN AAKCS4821M (a company, 'C'), registration 1, 'Z', check character.
    gstin="29AAKCS4821M1ZS")


@dataclass
class DemoInfo:
    path: Path
    company_name: str
    owner_login: str
    users: tuple[DemoUser, ...]
    recovery_passphrase: str
    branches: list[str] = field(default_factory=list)
    journal_entries: int = 0


Step = Callable[[Context, DemoInfo], None]


# ------------------------------------------------------------------------ steps


def add_branches(ctx: Context, info: DemoInfo) -> None:
    """Name the head office and open the Indiranagar store."""
    ctx.require("company.edit")
    with ctx.db.write(ctx.actor.user_id) as s:
        head = s.scalars(select(Branch).where(Branch.code == "HO")).one()
        head.name = "Head office, Jayanagar"
        head.address = DEMO_PROFILE.address
        store = Branch(code="IND", name="Indiranagar store",
                       address="No. 7, 100 Feet Road, HAL 2nd Stage, Indiranagar, Bengaluru "
                               "560038", state="Karnataka", state_code="29")
        s.add(store)
        s.flush()
        audit.record(s, ctx, "branch.created", entity="branch", entity_id=store.id,
                     details={"code": store.code})
    info.branches = [head.name, store.name]


def add_users(ctx: Context, info: DemoInfo) -> None:
    """One login per default role (the owner exists already)."""
    for u in info.users:
        if u.login != OWNER_LOGIN:
            users.add_user(ctx, u.login, u.full_name, u.password, u.role)


def _post(ctx: Context, info: DemoInfo, on: date, memo: str,
          *lines: tuple[str, int, int]) -> None:
    ledger.post_entry(ctx, on, [LineInput(code, debit=Decimal(dr), credit=Decimal(cr))
                                for code, dr, cr in lines], memo)
    info.journal_entries += 1


def post_opening_balances(ctx: Context, info: DemoInfo) -> None:
    """The owner's capital in the bank, a cash float, and the shop fittings."""
    _post(ctx, info, FIRST_DAY, "Owner's capital introduced",
          ("1200", 2_500_000, 0), ("3100", 0, 2_500_000))
    _post(ctx, info, FIRST_DAY, "Cash withdrawn for the counter float",
          ("1100", 50_000, 0), ("1200", 0, 50_000))
    _post(ctx, info, date(2026, 4, 2), "Display racks and billing counters, Indiranagar",
          ("1800", 285_000, 0), ("1200", 0, 285_000))


# Per month of the demo: counter sales before GST for the 1st-15th and the
# 16th-month end, and the electricity bill. November stops on the 15th.
_MONTHS: tuple[tuple[int, int, int, int], ...] = (
    # (month, sales first half, sales second half, electricity)
    (4, 1_249_600, 1_427_200, 14_230),
    (5, 1_194_400, 1_364_800, 17_860),
    (6, 1_105_200, 1_223_600, 16_410),
    (7, 1_059_200, 1_158_000, 13_980),
    (8, 1_206_800, 1_473_600, 13_540),
    (9, 1_340_800, 1_610_400, 14_120),
    (10, 1_827_600, 2_449_200, 15_870),  # Dussehra and Deepavali
    (11, 1_594_000, 0, 0),
)
_GST_RATE = Decimal("0.18")
_COST_SHARE = Decimal("0.68")  # stock bought for a half-month, as a share of its sales
_SALARIES = 162_000  # seven staff across the two shops, paid on the 1st for the month before
_RENT = 85_000
INVOICING_FROM_MONTH = 8  # August: the month the shop started invoicing in the app


def _gst(amount: int) -> int:
    return int((Decimal(amount) * _GST_RATE).quantize(Decimal(1)))


def _cost(sales: int) -> int:
    return int((Decimal(sales) * _COST_SHARE).quantize(Decimal(100)))


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def _purchase(ctx: Context, info: DemoInfo, on: date, sales: int) -> None:
    cost = _cost(sales)
    _post(ctx, info, on, "Stock bought from the distributor (paid by bank transfer)",
          ("5100", cost, 0), ("1500", _gst(cost), 0), ("1200", 0, cost + _gst(cost)))


def _counter_sales(ctx: Context, info: DemoInfo, on: date, net: int,
                   label: str = "Counter sales summary") -> None:
    tax = _gst(net)
    _post(ctx, info, on, label, ("1100", net + tax, 0), ("4100", 0, net),
          ("2200", 0, tax))
    # The takings go to the bank the same day; the counter float stays.
    _post(ctx, info, on, "Cash deposited at the bank", ("1200", net + tax, 0),
          ("1100", 0, net + tax))


# From August the shop invoices in the app (services.demo_sales) and buys its
# stock through purchase orders (services.demo_inventory); the small cash sales
# still written on paper cash memos at the counters are entered as before, as a
# half-monthly summary, at this share of the month's takings (so the sales chart
# shows one business, not a shop that shrank tenfold the month it moved).
_PAPER_MEMO_SHARE = Decimal("0.9")


def _paper_memos(amount: int) -> int:
    return int((Decimal(amount) * _PAPER_MEMO_SHARE).quantize(Decimal(100)))


def post_monthly_entries(ctx: Context, info: DemoInfo) -> None:
    """Stock purchases, rent, salaries, electricity, sales, GST and bank charges."""
    year = FIRST_DAY.year
    previous: tuple[int, int, int, int] | None = None
    for month, whole_first, whole_second, electricity in _MONTHS:
        # Until July every sale was summarised here; from August only the paper memos.
        in_app = month >= INVOICING_FROM_MONTH
        first_half = _paper_memos(whole_first) if in_app else whole_first
        second_half = _paper_memos(whole_second) if in_app else whole_second
        _purchase(ctx, info, date(year, month, 3), first_half)
        _post(ctx, info, date(year, month, 5), "Shop rent, Jayanagar and Indiranagar",
              ("6200", _RENT, 0), ("1200", 0, _RENT))
        if previous is not None and month == 5:
            # April's salaries; from May on payroll runs post them (services.demo_hr).
            _post(ctx, info, date(year, month, 1), "Salaries for the previous month",
                  ("6100", _SALARIES, 0), ("1200", 0, _SALARIES))
        if previous is not None:
            # Last month's GST on the summarised sales, output less input tax, paid
            # before the 20th (GSTR-3B).
            output = _gst(previous[1]) + _gst(previous[2])
            paid_input = _gst(_cost(previous[1])) + _gst(_cost(previous[2]))
            _post(ctx, info, date(year, month, 11), "GST paid for the previous month",
                  ("2200", output, 0), ("1500", 0, paid_input), ("1200", 0, output - paid_input))
        if electricity:
            _post(ctx, info, date(year, month, 12), "BESCOM electricity bill",
                  ("6300", electricity, 0), ("1200", 0, electricity))
        _post(ctx, info, date(year, month, 14), "Bank charges and card terminal rent",
              ("6600", 1_180, 0), ("1200", 0, 1_180))
        label = "Cash memo sales summary" if in_app else "Counter sales summary"
        _counter_sales(ctx, info, date(year, month, 15), first_half, label)
        if second_half:
            _purchase(ctx, info, date(year, month, 17), second_half)
            _counter_sales(ctx, info, _month_end(year, month), second_half, label)
        previous = (month, first_half, second_half, electricity)


STEPS: list[tuple[str, Step]] = [
    ("branches", add_branches),
    ("users", add_users),
    ("opening balances", post_opening_balances),
    ("stock and purchasing", lambda ctx, info: demo_inventory.demo_inventory(ctx)),
    ("monthly entries", post_monthly_entries),
    ("employees and payroll", demo_hr.demo_step),
    ("customers and invoices", demo_sales.demo_step),
]


def create_demo_company(path: Path, *, config: AppConfig, device: DeviceInfo,
                        clock: Callable[[], datetime] = system_clock) -> DemoInfo:
    """Create the demo company file at `path` (which must not exist yet)."""
    owner = DEMO_USERS[0]
    created = create_company(Path(path), DEMO_PROFILE,
                             NewAdmin(owner.login, owner.full_name, owner.password,
                                      "rajesh@sharma-electronics.example"),
                             config=config, device=device, clock=clock)
    ctx = created.context
    info = DemoInfo(path=Path(path), company_name=TRADE_NAME, owner_login=owner.login,
                    users=DEMO_USERS, recovery_passphrase=created.recovery_passphrase)
    try:
        for _name, step in STEPS:
            step(ctx, info)
    except BaseException:
        # A half-built demo would be taken for a finished one by `demo --if-missing`.
        ctx.close()
        for p in sidecar_paths(Path(path)):
            p.unlink(missing_ok=True)
        raise
    ctx.close()
    return info
