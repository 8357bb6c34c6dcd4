"""The demo company's people: staff, salaries, six months of payroll, expense claims.

`demo_hr(ctx, clock)` is a step of `services.demo` (run as the owner, after the
demo logins exist). Sixteen employees across the two shops, the store room,
service and the office; standard Indian components (basic, HRA 40 % of basic,
special and conveyance allowances, PF 12 % of basic capped at 1,800,
professional tax for those earning 25,000 or more, TDS); raises from July and
August; a joiner in June and September and a leaver in August. Payroll runs
May to October 2026: May to September posted and paid on the 1st of the next
month, October left in review for the demo user to approve. Unpaid leave,
overtime, a festival bonus and a salary-advance recovery appear along the
way, and there are expense claims in every state.

Everything goes through the services, acting as the person who would do it:
Anita (HR) keeps records and prepares payroll, the owner approves and posts
it, Priya (accounts) settles claims, and each employee files their own. The
demo acts as those users with their roles' permissions (as a login would give)
rather than logging in with their passwords, which would add key derivations
and login events to every demo file. Dates and amounts are fixed, so every
demo file has the same payroll.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal

from reportlab.platypus import Paragraph
from sqlalchemy import select

from erp_desktop.documents.base import build_pdf, styles
from erp_desktop.domain.payroll_calc import PayPeriod
from erp_desktop.models.security import Role, User
from erp_desktop.services import claims, hr, ledger, payroll
from erp_desktop.services.context import Actor, Context
from erp_desktop.services.ledger import LineInput

# The demo's "today" unless a clock is given; HR events happen up to LAST_DEMO_DAY.
DEMO_NOW = datetime(2026, 11, 15, 10, 0, tzinfo=UTC)
LAST_DEMO_DAY = date(2026, 11, 1)
APRIL = date(2026, 4, 1)
MONTHS = ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")
LEFT_IN_REVIEW = "2026-10"

DEPARTMENTS = ("Sales, Jayanagar", "Sales, Indiranagar", "Stores and delivery",
               "Service and repairs", "Accounts", "HR and administration")
JOB_TITLES = ("Store manager", "Senior sales associate", "Sales associate", "Cashier",
              "Storekeeper", "Delivery executive", "Service technician", "Accountant",
              "HR manager", "Office assistant")


@dataclass(frozen=True)
class Person:
    code: str
    name: str
    department: str
    title: str
    hired: date
    basic: int
    special: int
    conveyance: int = 0
    tds: int = 0
    manager: str | None = None  # employee code
    login: str | None = None
    pan: str | None = None
    uan: str | None = None
    bank: tuple[str, str, str] | None = None  # account number, IFSC, bank name
    born: date | None = None
    phone: str | None = None


STAFF: tuple[Person, ...] = (
    Person("SE-001", "Suresh Menon", "Sales, Jayanagar", "Store manager", date(2020, 1, 6),
           24000, 8000, tds=800, pan="AJMPM4521K", uan="100456789012",
           bank=("50100112233445", "HDFC0000523", "HDFC Bank"), born=date(1984, 7, 12),
           phone="+91 98450 11223"),
    Person("SE-002", "Kavitha Reddy", "Sales, Indiranagar", "Store manager", date(2022, 8, 1),
           22000, 7000, tds=500, pan="BQKPR7734D", uan="100456789013",
           bank=("918010044556677", "UTIB0000009", "Axis Bank"), born=date(1988, 3, 2),
           phone="+91 99001 22334"),
    Person("SE-003", "Anita Desai", "HR and administration", "HR manager", date(2021, 6, 14),
           22000, 7500, tds=600, login="anita", pan="AXDPD2210F", uan="100456789014",
           bank=("002301556677", "ICIC0000023", "ICICI Bank"), born=date(1986, 11, 23),
           phone="+91 98860 33445"),
    Person("SE-004", "Priya Nair", "Accounts", "Accountant", date(2022, 2, 1), 20000, 6000,
           tds=300, login="priya", pan="CGNPN5567H", uan="100456789015",
           bank=("39876543210", "SBIN0040277", "State Bank of India"), born=date(1990, 5, 30),
           phone="+91 97400 44556"),
    Person("SE-005", "Ravi Kumar", "Sales, Jayanagar", "Senior sales associate",
           date(2021, 3, 15), 14000, 3500, manager="SE-001", login="ravi", pan="DKRPK8890L",
           uan="100456789016", bank=("50100223344556", "HDFC0000523", "HDFC Bank"),
           born=date(1993, 9, 8), phone="+91 96320 55667"),
    Person("SE-006", "Meena Iyer", "Sales, Indiranagar", "Sales associate", date(2023, 1, 9),
           12500, 3000, manager="SE-002", login="meena", pan="EMIPI3345B", uan="100456789017",
           bank=("1122334455", "KKBK0008067", "Kotak Mahindra Bank"), born=date(1997, 1, 19),
           phone="+91 90080 66778"),
    Person("SE-007", "Kiran Rao", "Sales, Jayanagar", "Sales associate", date(2024, 3, 11),
           12000, 3000, manager="SE-005", login="kiran", pan="FKRPR6612M", uan="100456789018",
           bank=("002301554521", "ICIC0000023", "ICICI Bank"), born=date(1998, 2, 14),
           phone="+91 98451 77889"),
    Person("SE-008", "Sunil Gowda", "Stores and delivery", "Storekeeper", date(2021, 11, 22),
           13500, 3500, login="sunil", pan="GSGPG1198C", uan="100456789019",
           bank=("64012345678", "SBIN0040277", "State Bank of India"), born=date(1989, 6, 4),
           phone="+91 94480 88990"),
    Person("SE-009", "Mohammed Irfan", "Stores and delivery", "Delivery executive",
           date(2023, 5, 2), 11000, 2500, conveyance=1600, manager="SE-008",
           pan="HMIPI4456N", uan="100456789020", bank=("50100334455667", "HDFC0000523",
                                                       "HDFC Bank"), born=date(1995, 12, 1)),
    Person("SE-010", "Lakshmi Narayan", "Sales, Jayanagar", "Cashier", date(2022, 10, 10),
           11500, 2800, manager="SE-001", pan="JLNPN7789P", uan="100456789021",
           bank=("2233445566", "CNRB0000412", "Canara Bank"), born=date(1996, 8, 15)),
    Person("SE-011", "Arjun Patil", "Service and repairs", "Service technician",
           date(2020, 9, 1), 16000, 4500, pan="KAPPP2234Q", uan="100456789022",
           bank=("918010055667788", "UTIB0000009", "Axis Bank"), born=date(1991, 4, 27)),
    Person("SE-012", "Deepa Krishnan", "Sales, Indiranagar", "Sales associate",
           date(2025, 2, 17), 11500, 2800, manager="SE-002", pan="LDKPK5501R",
           uan="100456789023", bank=("3344556677", "KKBK0008067", "Kotak Mahindra Bank"),
           born=date(1999, 10, 3)),
    Person("SE-013", "Venkatesh Hegde", "Stores and delivery", "Delivery executive",
           date(2024, 7, 1), 10500, 2300, conveyance=1600, manager="SE-008",
           pan="MVHPH6678S", uan="100456789024", bank=("75012345678", "SBIN0040277",
                                                       "State Bank of India"),
           born=date(1994, 2, 28)),
    Person("SE-014", "Pooja Shetty", "Sales, Indiranagar", "Cashier", date(2026, 6, 15),
           11000, 2500, manager="SE-002", pan="NPSPS8890T", uan="100456789025",
           bank=("4455667788", "CNRB0000412", "Canara Bank"), born=date(2000, 7, 21)),
    Person("SE-015", "Naveen Kumar", "Service and repairs", "Service technician",
           date(2026, 9, 7), 14500, 4000, manager="SE-011", pan="PNKPK1123U",
           uan="100456789026", bank=("50100445566778", "HDFC0000523", "HDFC Bank"),
           born=date(1997, 5, 9)),
    Person("SE-016", "Fatima Sheikh", "HR and administration", "Office assistant",
           date(2023, 9, 4), 10500, 2200, manager="SE-003", pan="QFSPS3345V",
           uan="100456789027", bank=("5566778899", "KKBK0008067", "Kotak Mahindra Bank"),
           born=date(1998, 12, 12)),
)
# Raises: (code, effective from, basic, special).
RAISES = (("SE-007", date(2026, 7, 1), 13000, 3200), ("SE-011", date(2026, 8, 1), 17500, 5000))
LEAVER = ("SE-013", date(2026, 8, 20), "Moved back to his home town, Udupi")
# Unpaid leave: month -> [(code, days)].
UNPAID = {"2026-06": [("SE-005", "1")], "2026-08": [("SE-006", "2.5")],
          "2026-09": [("SE-010", "3")], "2026-10": [("SE-007", "1")]}
# One-off lines: month -> [(code, component, amount, note)].
ONE_OFFS: dict[str, list[tuple[str, str, str, str]]] = {
    "2026-08": [("SE-009", "LOAN", "1000", "Salary advance recovery, 1 of 3")],
    "2026-09": [("SE-009", "LOAN", "1000", "Salary advance recovery, 2 of 3"),
                ("SE-008", "OT", "1800", "Quarterly stock-take, two Sundays")],
    "2026-10": [("SE-009", "LOAN", "1000", "Salary advance recovery, 3 of 3")] + [
        (code, "BONUS", "3000", "Dussehra and Deepavali bonus")
        for code in ("SE-005", "SE-006", "SE-007", "SE-010", "SE-012", "SE-014")],
}
PT_THRESHOLD = 25000  # Karnataka: professional tax from a monthly gross of 25,000


@dataclass(frozen=True)
class DemoHr:
    employees: int
    runs: dict[str, str]  # month -> status
    claims: dict[str, int]  # status -> count


def _lines(p: Person, basic: int, special: int) -> list[payroll.StructureLineInput]:
    lines = [payroll.StructureLineInput("BASIC", Decimal(basic)),
             payroll.StructureLineInput("HRA"),
             payroll.StructureLineInput("SPECIAL", Decimal(special)),
             payroll.StructureLineInput("PF")]
    if p.conveyance:
        lines.insert(2, payroll.StructureLineInput("CONV", Decimal(p.conveyance)))
    gross = Decimal(basic) * Decimal("1.4") + special + p.conveyance
    if gross >= PT_THRESHOLD:
        lines.append(payroll.StructureLineInput("PT", Decimal(200)))
    if p.tds:
        lines.append(payroll.StructureLineInput("TDS", Decimal(p.tds)))
    return lines


def _acting_as(ctx: Context, login: str, clock: Callable[[], datetime]) -> Context | None:
    """A context for a demo user with their role's permissions, as a login would give."""
    with ctx.db.read() as s:
        user = s.scalars(select(User).where(User.login_key == login,
                                            User.deleted_at.is_(None))).first()
        if user is None:
            return None
        role = s.get(Role, user.role_id)
        perms = frozenset(json.loads(role.permissions)) if role else frozenset()
        actor = Actor(user.id, user.login_name, user.full_name, role.name if role else "", perms)
    return replace(ctx, actor=actor, clock=clock)


def _receipt(shop: str, what: str, amount: str, day: date) -> bytes:
    st = styles()
    story = [Paragraph(shop, st["company"]), Paragraph(f"Receipt, {day.isoformat()}", st["bold"]),
             Paragraph(f"{what}: Rs. {amount}", st["base"]),
             Paragraph("Paid in cash. Thank you!", st["small"])]
    return build_pdf(story, title=f"Receipt {shop}", author=shop, subject="Receipt",
                     footer_note=shop)


def _fixed_now() -> datetime:
    return DEMO_NOW


def demo_step(ctx: Context, info: object) -> None:
    """`demo_hr` in the shape of a `services.demo` step (`Step`)."""
    demo_hr(ctx)


def demo_hr(ctx: Context, clock: Callable[[], datetime] | None = None) -> DemoHr:
    """Add the demo's staff, salaries, payroll May-October 2026 and expense claims."""
    if clock is None or clock().date() < LAST_DEMO_DAY:
        clock = _fixed_now  # every demo file numbers its claims the same way
    owner = replace(ctx, clock=clock)
    people = {p.code: p for p in STAFF}
    acting = {login: _acting_as(owner, login, clock)
              for login in ("anita", "priya", "sunil", "kiran", "ravi", "meena")}
    hr_ctx = acting["anita"] or owner
    accounts = acting["priya"] or owner

    # ------------------------------------------------------------- records
    depts = {name: hr.add_department(hr_ctx, name).id for name in DEPARTMENTS}
    titles = {name: hr.add_job_title(hr_ctx, name).id for name in JOB_TITLES}
    ids: dict[str, uuid.UUID] = {}
    for p in STAFF:
        extra: dict[str, object] = {}
        if p.bank:
            extra.update(bank_account_number=p.bank[0], bank_ifsc=p.bank[1],
                         bank_name=p.bank[2], bank_account_name=p.name)
        first = p.name.split()[0].lower()
        row = hr.add_employee(
            hr_ctx, p.code, p.name, p.hired, department_id=depts[p.department],
            job_title_id=titles[p.title], manager_id=ids.get(p.manager) if p.manager else None,
            tax_id=p.pan, social_id=p.uan, date_of_birth=p.born, phone=p.phone,
            email=f"{first}@sharma-electronics.example",
            address="Bengaluru, Karnataka", **extra)
        ids[p.code] = row.id
        if p.login and acting.get(p.login) is not None:
            hr.link_user(hr_ctx, row.id, p.login)
    payroll.ensure_standard_components(hr_ctx)
    for p in STAFF:
        start = max(APRIL, date(p.hired.year, p.hired.month, 1))
        payroll.set_salary_structure(hr_ctx, ids[p.code], start,
                                     _lines(p, p.basic, p.special), note="Salary on joining"
                                     if start > APRIL else "Salary for 2026-27")
    for code, on, basic, special in RAISES:
        payroll.set_salary_structure(hr_ctx, ids[code], on,
                                     _lines(people[code], basic, special),
                                     note="Annual raise")
    leaver = hr.get_employee(hr_ctx, ids[LEAVER[0]])
    hr.terminate_employee(hr_ctx, leaver.id, leaver.version, LEAVER[1], LEAVER[2])
    # A salary advance, recovered from August to October through payroll.
    ledger.post_entry(owner, date(2026, 7, 20), [
        LineInput("1700", debit=Decimal(3000), party_type="employee",
                  party_id=ids["SE-009"]),
        LineInput("1200", credit=Decimal(3000))], "Salary advance to SE-009")

    # ------------------------------------------------------------- claims, payroll
    def file(login: str, title: str, lines: list[claims.ClaimLineInput],
             receipt: tuple[str, str] | None = None) -> claims.ClaimDetail | None:
        who = acting.get(login)
        if who is None:
            return None
        claim = claims.create_claim(who, title, lines)
        if receipt is not None:
            shop, what = receipt
            total = f"{sum(Decimal(str(ln.amount)) for ln in lines):.2f}"
            claims.add_receipt(who, claim.id, f"receipt-{lines[0].expense_date}.pdf",
                               _receipt(shop, what, total, lines[0].expense_date))
        return claims.submit_claim(who, claim.id)

    def line(day: date, category: str, amount: str, text: str) -> claims.ClaimLineInput:
        return claims.ClaimLineInput(day, category, amount, text)

    waiting: list[uuid.UUID] = []

    def month_claims(month: str) -> None:
        if month == "2026-06":
            c = file("kiran", "Home delivery follow-up, Banashankari",
                     [line(date(2026, 6, 12), "travel", "320", "Auto-rickshaw, both ways")],
                     ("Auto fare", "Auto-rickshaw fare"))
            if c:
                claims.approve_claim(hr_ctx, c.id, "Approved")
                claims.reimburse_claim(accounts, c.id, "cash", date(2026, 6, 16))
        elif month == "2026-07":
            c = file("ravi", "Stock transfer to the Indiranagar store",
                     [line(date(2026, 7, 18), "travel", "540", "Tempo hire for the TVs"),
                      line(date(2026, 7, 18), "meals", "210", "Lunch for two loaders")],
                     ("Sri Ganesh Transport", "Tempo hire and lunch"))
            if c:
                claims.approve_claim(hr_ctx, c.id)
                claims.send_claim_to_payroll(accounts, c.id, date(2026, 7, 25))
        elif month == "2026-08":
            c = file("kiran", "Delivery to a customer in Electronic City",
                     [line(date(2026, 8, 8), "travel", "460", "Cab back after the delivery")],
                     ("Namma Yatri", "Cab fare"))
            if c and acting.get("ravi") is not None:
                # Ravi is Kiran's line manager: he decides it, not HR.
                claims.approve_claim(acting["ravi"], c.id, "Customer confirmed the delivery")
                claims.reimburse_claim(accounts, c.id, "bank", date(2026, 8, 12))
            c = file("meena", "Mobile recharge for store WhatsApp orders",
                     [line(date(2026, 8, 21), "phone", "599", "Prepaid recharge, 84 days")])
            if c:
                claims.reject_claim(hr_ctx, c.id, "The store's phone bills are paid by the "
                                                  "company directly; please hand the bill to "
                                                  "accounts.")
        elif month == "2026-09":
            c = file("sunil", "Packing material bought locally",
                     [line(date(2026, 9, 26), "office", "1240", "Bubble wrap and cartons")],
                     ("Lakshmi Packaging, KR Market", "Bubble wrap, cartons"))
            if c:
                claims.approve_claim(hr_ctx, c.id)
                waiting.append(c.id)
        elif month == "2026-10":
            for claim_id in waiting:  # approved in September, paid with October's salary
                claims.send_claim_to_payroll(accounts, claim_id, date(2026, 10, 5))
            c = file("priya", "Courier of GST papers to the CA",
                     [line(date(2026, 10, 16), "office", "350", "DTDC courier")],
                     ("DTDC Jayanagar", "Courier"))
            if c:
                claims.approve_claim(hr_ctx, c.id, "OK")
            file("kiran", "Deepavali display decorations",
                 [line(date(2026, 10, 24), "office", "860", "Lights and rangoli colours")],
                 ("Gandhi Bazaar Stores", "Decorations"))
            anita = acting.get("anita")
            if anita is not None:
                claims.create_claim(anita, "Interview refreshments",
                                    [line(date(2026, 10, 29), "meals", "640",
                                          "Tea and snacks, four candidates")])

    for month in MONTHS:
        month_claims(month)
        period = PayPeriod.parse(month)
        # Salaries are paid on the 1st for the month before.
        payroll.start_run(hr_ctx, month, pay_date=period.next().start)
        for code, days in UNPAID.get(month, []):
            payroll.set_unpaid_leave(hr_ctx, month, ids[code], days)
        for code, component, amount, note in ONE_OFFS.get(month, []):
            payroll.add_adjustment(hr_ctx, month, ids[code], component,
                                   amount, note)
        payroll.submit_run(hr_ctx, month)
        if month == LEFT_IN_REVIEW:
            continue
        payroll.approve_run(owner, month)
        payroll.post_run(owner, month)
        payroll.mark_run_paid(owner, month)

    runs = {r.period: r.status for r in payroll.list_runs(owner)}
    states = Counter(c.status for c in claims.list_claims(owner))
    anita = acting.get("anita")
    if anita is not None:
        states.update(c.status for c in claims.list_my_claims(anita) if c.status == "draft")
    return DemoHr(len(STAFF), runs, dict(states))

