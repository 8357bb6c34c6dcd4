"""The dashboard's figures: from the ledger, per role, and zeros for an empty company."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from erp_desktop.domain.money import Money
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import auth, ledger, users
from erp_desktop.services.dashboard import dashboard

CLERK_PASSWORD = "till drawer 42 open"


def money(text: str) -> Money:
    return Money(Decimal(text), "INR")


def test_an_empty_company_shows_zeros_and_twelve_empty_months(admin_ctx):
    d = dashboard(admin_ctx)  # the test clock says 2 Nov 2026
    assert d.as_of == date(2026, 11, 2)
    assert d.sales_today == d.sales_month == d.receivables == money("0")
    assert d.monthly_sales[0].month == date(2025, 12, 1)
    assert d.monthly_sales[-1].month == date(2026, 11, 1)
    assert all(m.amount == money("0") for m in d.monthly_sales)
    assert d.top_products == []
    assert d.low_stock_count in (0, None)


def test_sales_are_net_of_returns_and_receivables_are_the_ledger_balance(admin_ctx):
    def post(day, debit, credit, amount):
        ledger.post_entry(admin_ctx, day, [ledger.LineInput(debit, debit=Decimal(amount)),
                                           ledger.LineInput(credit, credit=Decimal(amount))])

    post(date(2026, 11, 2), "1100", "4100", "1000.00")  # cash sale today
    post(date(2026, 11, 1), "1300", "4100", "500.00")  # credit sale this month
    post(date(2026, 11, 2), "4500", "1100", "100.00")  # a return, today
    post(date(2026, 10, 15), "1300", "4200", "2000.00")  # services last month
    post(date(2025, 10, 15), "1100", "4100", "9999.00")  # older than 12 months
    d = dashboard(admin_ctx)
    assert d.sales_today == money("900.00")
    assert d.sales_month == money("1400.00")
    assert d.monthly_sales[-2].amount == money("2000.00")  # October
    assert sum((m.amount for m in d.monthly_sales), money("0")) == money("3400.00")
    assert d.receivables == money("2500.00")


def test_a_clerk_sees_sales_but_no_payroll_and_nothing_is_audited_as_denied(
        admin_ctx, company_path, config, device):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    clerk = auth.login(company_path, "ravi", CLERK_PASSWORD, config=config, device=device)
    try:
        d = dashboard(clerk)
        assert d.sales_today is not None
        assert d.payroll_due is None
        with clerk.db.read() as s:
            assert not s.scalars(select(AuditEvent).where(
                AuditEvent.action == "permission.denied")).all()
    finally:
        clerk.close()


def test_an_employee_sees_no_figures_and_is_told_why(admin_ctx, company_path, config, device):
    users.add_user(admin_ctx, "asha2", "Asha Two", CLERK_PASSWORD, "employee")
    employee = auth.login(company_path, "asha2", CLERK_PASSWORD, config=config, device=device)
    try:
        d = dashboard(employee)
        assert d.sales_today is None and d.receivables is None and d.low_stock_count is None
        assert d.monthly_sales == []
        assert d.notes
    finally:
        employee.close()
