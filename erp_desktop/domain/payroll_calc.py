"""Monthly pay computation: plain Decimal arithmetic, no database.

Owns the pay period (one calendar month), the days an employee is paid for
(joiners and leavers pro-rated by calendar days, unpaid leave taken off), the
component rules (a fixed monthly amount, or a percentage of the sum of other
components, optionally capped), the order in which those are worked out, and
rounding. Services load an employee's salary structure, hand it over as
`ComponentRule`s and store the `Pay` that comes back; every figure here is
worked by hand in tests/services/hr/test_payroll_calc.py.

Rules of the computation, in the words a payroll clerk uses:
- A fixed component is its monthly amount x days paid / calendar days of the
  month, unless it is not pro-rated (professional tax is a flat monthly levy).
- A percentage component is that percent of the already rounded amounts of
  its base components this month (so PF follows the earned, not the agreed,
  basic), then held to its cap (PF: 12 % of basic, at most 1,800).
- Each line is rounded to the currency's minor unit once, half-up by default;
  gross, deductions and net are sums of rounded lines, so the payslip adds up.
- A month with no day paid pays nothing and deducts nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Rounding, parse_decimal, round_amount

HUNDRED = Decimal(100)
HALF_DAY = Decimal("0.5")


class Kind(StrEnum):
    EARNING = "earning"
    DEDUCTION = "deduction"


class Method(StrEnum):
    FIXED = "fixed"
    PERCENT = "percent"


@dataclass(frozen=True, order=True)
class PayPeriod:
    """A calendar month of payroll ("2026-10")."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 2000 <= self.year <= 2200:
            raise ValidationError(f"{self.year}-{self.month:02d} is not a month.", field="month")

    @classmethod
    def parse(cls, text: str) -> PayPeriod:
        """Read "2026-10" (also "2026/10", "10/2026")."""
        raw = (text or "").strip().replace("/", "-")
        parts = raw.split("-")
        try:
            if len(parts) == 2 and len(parts[0]) == 4:
                return cls(int(parts[0]), int(parts[1]))
            if len(parts) == 2 and len(parts[1]) == 4:
                return cls(int(parts[1]), int(parts[0]))
        except ValueError:
            pass
        raise ValidationError(f"'{text}' is not a month; write it as 2026-10.", field="month")

    @classmethod
    def of(cls, day: date) -> PayPeriod:
        return cls(day.year, day.month)

    @property
    def start(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def days(self) -> int:
        return calendar.monthrange(self.year, self.month)[1]

    @property
    def end(self) -> date:
        return date(self.year, self.month, self.days)

    @property
    def key(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def label(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    def next(self) -> PayPeriod:
        return PayPeriod.of(self.end + timedelta(days=1))

    def previous(self) -> PayPeriod:
        return PayPeriod.of(self.start - timedelta(days=1))

    def __str__(self) -> str:
        return self.key


def employed_days(period: PayPeriod, hire_date: date, termination_date: date | None) -> int:
    """Calendar days of the month on the payroll: from joining to the last working day."""
    first = max(hire_date, period.start)
    last = min(termination_date, period.end) if termination_date else period.end
    return max(0, (last - first).days + 1)


@dataclass(frozen=True)
class Attendance:
    days_in_month: int
    days_employed: int
    lop_days: Decimal  # loss of pay: unpaid leave, in half days
    days_paid: Decimal

    @property
    def factor(self) -> Decimal:
        """Share of a full month's fixed pay earned (exact, not rounded)."""
        return self.days_paid / Decimal(self.days_in_month)


def attendance(period: PayPeriod, hire_date: date, termination_date: date | None,
               lop_days: object = 0) -> Attendance:
    """Days paid this month; unpaid leave in whole or half days, within days employed."""
    if termination_date is not None and termination_date < hire_date:
        raise ValidationError("The leaving date is before the joining date.",
                              field="termination_date")
    lop = parse_decimal(lop_days, "unpaid leave days")
    employed = employed_days(period, hire_date, termination_date)
    if lop < 0:
        raise ValidationError("Unpaid leave days cannot be negative.", field="lop_days")
    if lop % HALF_DAY != 0:
        raise ValidationError("Unpaid leave is counted in whole or half days.", field="lop_days")
    if lop > employed:
        raise ValidationError(f"Unpaid leave ({lop.normalize():f} days) is more than the "
                              f"{employed} days employed in {period.label}.", field="lop_days")
    lop = lop.quantize(Decimal("0.1"))
    return Attendance(period.days, employed, lop, Decimal(employed) - lop)


@dataclass(frozen=True)
class ComponentRule:
    """One line of an employee's salary structure, as the computation needs it."""

    code: str
    name: str
    kind: Kind
    method: Method
    amount: Decimal = Decimal(0)  # FIXED: the full month's amount
    percent: Decimal = Decimal(0)  # PERCENT: 40 means 40 %
    base: tuple[str, ...] = ()  # PERCENT: codes whose amounts are summed
    cap: Decimal | None = None  # the most this line may be in a month
    prorate: bool = True  # FIXED: scale by days paid
    taxable: bool = True

    def __post_init__(self) -> None:
        if self.method is Method.FIXED and self.amount < 0:
            raise ValidationError(f"{self.name}: the amount cannot be negative.", field="amount")
        if self.method is Method.PERCENT:
            if not 0 <= self.percent <= 1000:
                raise ValidationError(f"{self.name}: the percentage must be between 0 and "
                                      "1000.", field="percent")
            if not self.base:
                raise ValidationError(f"{self.name}: say which components the percentage is "
                                      "of.", field="base")
            if self.code in self.base:
                raise ValidationError(f"{self.name} cannot be a percentage of itself.",
                                      field="base")
        if self.cap is not None and self.cap < 0:
            raise ValidationError(f"{self.name}: the cap cannot be negative.", field="cap")


@dataclass(frozen=True)
class OneOff:
    """A line for this month only: bonus, overtime, loan recovery, a correction,
    or an expense claim reimbursed through payroll (never pro-rated)."""

    code: str
    name: str
    kind: Kind
    amount: Decimal
    taxable: bool = True
    reimbursement: bool = False


@dataclass(frozen=True)
class PayLine:
    code: str
    name: str
    kind: Kind
    amount: Decimal
    taxable: bool = True
    one_off: bool = False
    reimbursement: bool = False


@dataclass(frozen=True)
class Pay:
    attendance: Attendance
    currency: str
    earnings: tuple[PayLine, ...]
    deductions: tuple[PayLine, ...]

    @property
    def gross(self) -> Decimal:
        """Every earning, reimbursements included (what the payslip calls gross)."""
        return sum((ln.amount for ln in self.earnings), Decimal(0))

    @property
    def reimbursements(self) -> Decimal:
        return sum((ln.amount for ln in self.earnings if ln.reimbursement), Decimal(0))

    @property
    def salary_cost(self) -> Decimal:
        """Earnings that are salary expense (gross less reimbursed expenses)."""
        return self.gross - self.reimbursements

    @property
    def taxable_gross(self) -> Decimal:
        return sum((ln.amount for ln in self.earnings if ln.taxable), Decimal(0))

    @property
    def total_deductions(self) -> Decimal:
        return sum((ln.amount for ln in self.deductions), Decimal(0))

    @property
    def net(self) -> Decimal:
        return self.gross - self.total_deductions


def order_rules(rules: list[ComponentRule] | tuple[ComponentRule, ...]) -> list[ComponentRule]:
    """Rules in an order where every percentage comes after its base components.

    Fixed components keep their given order first; a base code that is not in
    the structure counts as zero (an employee without that allowance). A loop
    (A is a percentage of B and B of A) is refused.
    """
    by_code: dict[str, ComponentRule] = {}
    for rule in rules:
        if rule.code in by_code:
            raise ValidationError(f"Component {rule.code} appears twice in the salary structure.",
                                  field="components")
        by_code[rule.code] = rule
    done: list[ComponentRule] = []
    state: dict[str, str] = {}  # code -> "visiting" | "done"

    def visit(rule: ComponentRule, path: tuple[str, ...]) -> None:
        mark = state.get(rule.code)
        if mark == "done":
            return
        if mark == "visiting":
            loop = " → ".join((*path, rule.code))
            raise ValidationError(f"Salary components depend on each other in a loop: {loop}.",
                                  field="base")
        state[rule.code] = "visiting"
        for code in rule.base:
            if code in by_code:
                visit(by_code[code], (*path, rule.code))
        state[rule.code] = "done"
        done.append(rule)

    for rule in sorted(rules, key=lambda r: r.method is Method.PERCENT):
        visit(rule, ())
    return done


def compute_pay(rules: list[ComponentRule] | tuple[ComponentRule, ...], att: Attendance,
                currency: str, *, one_offs: list[OneOff] | tuple[OneOff, ...] = (),
                rounding: Rounding = Rounding.HALF_UP) -> Pay:
    """One employee's pay for one month (see the module docstring for the rules)."""
    amounts: dict[str, Decimal] = {}
    lines: dict[str, PayLine] = {}
    for rule in order_rules(rules):
        if att.days_paid == 0:
            raw = Decimal(0)
        elif rule.method is Method.FIXED:
            raw = rule.amount * att.factor if rule.prorate else rule.amount
        else:
            base = sum((amounts.get(code, Decimal(0)) for code in rule.base), Decimal(0))
            raw = base * rule.percent / HUNDRED
        amount = round_amount(raw, currency, rounding)
        if rule.cap is not None and amount > rule.cap:
            amount = round_amount(rule.cap, currency, rounding)
        amounts[rule.code] = amount
        lines[rule.code] = PayLine(rule.code, rule.name, rule.kind, amount, rule.taxable)
    given_order = [lines[r.code] for r in rules]
    extra = []
    for one in one_offs:
        amount = parse_decimal(one.amount, "amount")
        if amount < 0:
            raise ValidationError(f"{one.name}: a one-off amount cannot be negative.",
                                  field="amount")
        extra.append(PayLine(one.code, one.name, one.kind, round_amount(amount, currency,
                                                                        rounding),
                             one.taxable, one_off=True, reimbursement=one.reimbursement))
    everything = given_order + extra
    pay = Pay(att, currency,
              tuple(ln for ln in everything if ln.kind is Kind.EARNING),
              tuple(ln for ln in everything if ln.kind is Kind.DEDUCTION))
    if pay.net < 0:
        raise ValidationError(f"Deductions ({pay.total_deductions}) are more than earnings "
                              f"({pay.gross}) this month.", field="deductions")
    return pay
