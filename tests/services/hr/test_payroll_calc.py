"""The pay computation against examples worked by hand (figures in the comments)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Rounding
from erp_desktop.domain.payroll_calc import (
    ComponentRule,
    Kind,
    Method,
    OneOff,
    PayPeriod,
    attendance,
    compute_pay,
    employed_days,
    order_rules,
)

OCT = PayPeriod(2026, 10)  # 31 days
SEP = PayPeriod(2026, 9)  # 30 days
E, X = Kind.EARNING, Kind.DEDUCTION


def structure(basic: str, special: str) -> list[ComponentRule]:
    """The demo company's usual structure."""
    return [
        ComponentRule("BASIC", "Basic", E, Method.FIXED, amount=D(basic)),
        ComponentRule("HRA", "House rent allowance", E, Method.PERCENT, percent=D(40),
                      base=("BASIC",)),
        ComponentRule("SPECIAL", "Special allowance", E, Method.FIXED, amount=D(special)),
        ComponentRule("PF", "Provident fund", X, Method.PERCENT, percent=D(12), base=("BASIC",),
                      cap=D(1800)),
        ComponentRule("PT", "Professional tax", X, Method.FIXED, amount=D(200), prorate=False),
    ]


def amounts(pay) -> dict[str, D]:
    return {ln.code: ln.amount for ln in (*pay.earnings, *pay.deductions)}


def test_period_parsing_and_calendar():
    assert PayPeriod.parse("2026-10") == OCT
    assert PayPeriod.parse("10/2026") == OCT
    assert OCT.days == 31 and SEP.days == 30 and PayPeriod(2028, 2).days == 29
    assert OCT.start == date(2026, 10, 1) and OCT.end == date(2026, 10, 31)
    assert OCT.label == "October 2026" and str(OCT) == "2026-10"
    assert PayPeriod(2026, 12).next() == PayPeriod(2027, 1)
    assert PayPeriod(2026, 1).previous() == PayPeriod(2025, 12)
    for bad in ("2026-13", "October", "", "2026-1x"):
        with pytest.raises(ValidationError):
            PayPeriod.parse(bad)


def test_full_month_cap_applies_to_provident_fund():
    # Basic 30,000; HRA 40 % = 12,000; special 8,000 -> gross 50,000.
    # PF 12 % of 30,000 = 3,600, capped at 1,800; PT 200 -> deductions 2,000; net 48,000.
    pay = compute_pay(structure("30000", "8000"), attendance(OCT, date(2020, 1, 6), None), "INR")
    assert amounts(pay) == {"BASIC": D("30000.00"), "HRA": D("12000.00"),
                            "SPECIAL": D("8000.00"), "PF": D("1800.00"), "PT": D("200.00")}
    assert pay.gross == D("50000.00")
    assert pay.total_deductions == D("2000.00")
    assert pay.net == D("48000.00")
    assert pay.attendance.days_paid == 31


def test_joiner_is_pro_rated_by_calendar_days():
    # Joins 10 Oct: paid 22 of 31 days.
    # Basic 30,000 x 22/31 = 21,290.3225.. -> 21,290.32
    # HRA 40 % of 21,290.32 = 8,516.128 -> 8,516.13
    # Special 8,000 x 22/31 = 5,677.4193.. -> 5,677.42      gross 35,483.87
    # PF 12 % of 21,290.32 = 2,554.84 -> cap 1,800; PT 200   net 33,483.87
    att = attendance(OCT, date(2026, 10, 10), None)
    assert (att.days_employed, att.days_paid) == (22, D(22))
    pay = compute_pay(structure("30000", "8000"), att, "INR")
    assert amounts(pay) == {"BASIC": D("21290.32"), "HRA": D("8516.13"),
                            "SPECIAL": D("5677.42"), "PF": D("1800.00"), "PT": D("200.00")}
    assert pay.gross == D("35483.87")
    assert pay.net == D("33483.87")


def test_leaver_with_unpaid_leave_below_the_cap():
    # Leaves on 20 Sep (last working day), 1.5 days unpaid: paid 18.5 of 30 days.
    # Basic 12,000 x 18.5/30 = 7,400.00; HRA 40 % = 2,960.00; special 3,000 x 18.5/30 = 1,850.00
    # gross 12,210.00. PF 12 % of 7,400 = 888.00 (under the cap); PT 200; net 11,122.00
    att = attendance(SEP, date(2024, 3, 1), date(2026, 9, 20), D("1.5"))
    assert (att.days_employed, att.lop_days, att.days_paid) == (20, D("1.5"), D("18.5"))
    pay = compute_pay(structure("12000", "3000"), att, "INR")
    assert amounts(pay) == {"BASIC": D("7400.00"), "HRA": D("2960.00"), "SPECIAL": D("1850.00"),
                            "PF": D("888.00"), "PT": D("200.00")}
    assert pay.gross == D("12210.00") and pay.net == D("11122.00")


def test_unpaid_leave_in_a_full_month():
    # 2 days unpaid in September: 28/30. Basic 12,000 -> 11,200; HRA 4,480; special 2,800
    # gross 18,480; PF 1,344; PT 200; net 16,936.
    pay = compute_pay(structure("12000", "3000"), attendance(SEP, date(2024, 3, 1), None, 2),
                      "INR")
    assert amounts(pay)["BASIC"] == D("11200.00")
    assert pay.gross == D("18480.00") and pay.total_deductions == D("1544.00")
    assert pay.net == D("16936.00")


def test_percentage_of_several_components_is_computed_after_them_whatever_the_order():
    # Bonus is 10 % of (basic + special) even though it is listed first:
    # basic 20,000 + special 5,000 = 25,000 -> bonus 2,500.
    rules = [
        ComponentRule("BONUS", "Bonus", E, Method.PERCENT, percent=D(10),
                      base=("BASIC", "SPECIAL")),
        ComponentRule("BASIC", "Basic", E, Method.FIXED, amount=D(20000)),
        ComponentRule("SPECIAL", "Special", E, Method.FIXED, amount=D(5000)),
    ]
    pay = compute_pay(rules, attendance(OCT, date(2020, 1, 1), None), "INR")
    assert amounts(pay)["BONUS"] == D("2500.00")
    assert [ln.code for ln in pay.earnings] == ["BONUS", "BASIC", "SPECIAL"]  # as listed


def test_a_base_missing_from_the_structure_counts_as_zero():
    rules = [ComponentRule("BASIC", "Basic", E, Method.FIXED, amount=D(1000)),
             ComponentRule("PF", "PF", X, Method.PERCENT, percent=D(12), base=("BASIC", "DA"))]
    pay = compute_pay(rules, attendance(OCT, date(2020, 1, 1), None), "INR")
    assert amounts(pay)["PF"] == D("120.00")


def test_rounding_half_up_or_half_even_once_per_line():
    # 12.5 % of 100.04 = 12.505: half-up 12.51, half-even 12.50.
    rules = [ComponentRule("BASIC", "Basic", E, Method.FIXED, amount=D("100.04")),
             ComponentRule("X", "X", E, Method.PERCENT, percent=D("12.5"), base=("BASIC",))]
    att = attendance(OCT, date(2020, 1, 1), None)
    assert amounts(compute_pay(rules, att, "INR"))["X"] == D("12.51")
    assert amounts(compute_pay(rules, att, "INR", rounding=Rounding.HALF_EVEN))["X"] == D("12.50")


def test_one_offs_are_not_pro_rated_and_reimbursements_are_not_salary_cost():
    # Half month (joins 16 Oct: 16/31). Basic 31,000 x 16/31 = 16,000.
    # Overtime 1,234.50 and a reimbursed claim 640 are paid in full; loan recovery 1,000.
    rules = [ComponentRule("BASIC", "Basic", E, Method.FIXED, amount=D(31000))]
    pay = compute_pay(rules, attendance(OCT, date(2026, 10, 16), None), "INR", one_offs=[
        OneOff("OT", "Overtime", E, D("1234.50")),
        OneOff("REIMB", "Expense reimbursement", E, D(640), taxable=False, reimbursement=True),
        OneOff("LOAN", "Loan recovery", X, D(1000)),
    ])
    assert pay.gross == D("17874.50")
    assert pay.reimbursements == D("640.00")
    assert pay.salary_cost == D("17234.50")
    assert pay.taxable_gross == D("17234.50")
    assert pay.net == D("16874.50")
    assert [ln.one_off for ln in pay.earnings] == [False, True, True]


def test_no_day_paid_pays_and_deducts_nothing():
    att = attendance(SEP, date(2024, 1, 1), None, 30)
    pay = compute_pay(structure("30000", "8000"), att, "INR")
    assert pay.gross == 0 and pay.total_deductions == 0 and pay.net == 0


def test_employed_days_edges():
    assert employed_days(OCT, date(2026, 11, 1), None) == 0  # joins next month
    assert employed_days(OCT, date(2020, 1, 1), date(2026, 9, 30)) == 0  # left last month
    assert employed_days(OCT, date(2026, 10, 31), None) == 1
    assert employed_days(OCT, date(2026, 10, 5), date(2026, 10, 5)) == 1


def test_bad_attendance_is_refused():
    with pytest.raises(ValidationError, match="more than the 22 days"):
        attendance(OCT, date(2026, 10, 10), None, 23)
    with pytest.raises(ValidationError, match="half days"):
        attendance(OCT, date(2020, 1, 1), None, D("1.25"))
    with pytest.raises(ValidationError, match="negative"):
        attendance(OCT, date(2020, 1, 1), None, -1)
    with pytest.raises(ValidationError, match="not as a float"):
        attendance(OCT, date(2020, 1, 1), None, 1.5)
    with pytest.raises(ValidationError, match="before the joining date"):
        attendance(OCT, date(2026, 10, 10), date(2026, 10, 1))


def test_bad_rules_are_refused():
    with pytest.raises(ValidationError, match="loop"):
        order_rules([
            ComponentRule("A", "A", E, Method.PERCENT, percent=D(10), base=("B",)),
            ComponentRule("B", "B", E, Method.PERCENT, percent=D(10), base=("A",)),
        ])
    with pytest.raises(ValidationError, match="itself"):
        ComponentRule("A", "A", E, Method.PERCENT, percent=D(10), base=("A",))
    with pytest.raises(ValidationError, match="which components"):
        ComponentRule("A", "A", E, Method.PERCENT, percent=D(10))
    with pytest.raises(ValidationError, match="twice"):
        order_rules([ComponentRule("A", "A", E, Method.FIXED, amount=D(1))] * 2)
    with pytest.raises(ValidationError, match="negative"):
        ComponentRule("A", "A", E, Method.FIXED, amount=D(-1))


def test_deductions_above_earnings_are_refused():
    rules = [ComponentRule("BASIC", "Basic", E, Method.FIXED, amount=D(100)),
             ComponentRule("LOAN", "Loan", X, Method.FIXED, amount=D(500), prorate=False)]
    with pytest.raises(ValidationError, match="more than earnings"):
        compute_pay(rules, attendance(OCT, date(2020, 1, 1), None), "INR")
