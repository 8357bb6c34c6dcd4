"""Self-service: what the logged-in person sees of their own employment (the Me area).

Every function needs `hr.claims.own` ("File and see one's own expense claims
and payslips") and reaches only the employee record linked to the login
(`hr.link_user`), whatever else the role allows: an HR manager's own
payslips here are theirs alone, never the whole payroll.

- `my_record`: whether the login is linked to an employee record, whose, and
  whether they are a line manager (current direct reports, or reports' claims
  waiting for them), so the Me area knows what to offer.
- `my_payslips`: the person's payslips with their own figures, newest first.
- `my_payslip_pdf`: one of them as a PDF (audited as every payslip view is,
  through `payroll.payslip_pdf`). Asking for someone else's payslip is
  refused and audited, even for payroll staff, who use the HR area for that.

Expense claims need nothing more: `services.claims` already keeps an
employee to their own claims and a line manager to their reports'.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select

from erp_desktop.domain.errors import PermissionDenied
from erp_desktop.domain.money import Money
from erp_desktop.domain.payroll_calc import PayPeriod
from erp_desktop.models.hr import Employee, ExpenseClaim, PayrollRun, Payslip
from erp_desktop.services import audit, payroll
from erp_desktop.services.context import Context
from erp_desktop.services.hr import employee_of_user

NOT_LINKED = "Your login is not linked to an employee record; ask HR to link it."


@dataclass(frozen=True)
class MyRecord:
    """Who the logged-in person is as an employee, if anyone."""

    employee_id: uuid.UUID | None
    employee_code: str | None
    full_name: str | None
    direct_reports: int  # current employees whose manager this person is
    claims_waiting: int  # their reports' claims submitted and not yet decided

    @property
    def linked(self) -> bool:
        return self.employee_id is not None

    @property
    def is_line_manager(self) -> bool:
        return self.direct_reports > 0 or self.claims_waiting > 0


@dataclass(frozen=True)
class MyPayslipRow:
    """One of the person's own payslips, with its figures."""

    id: uuid.UUID
    period: str
    period_label: str
    run_number: str | None
    run_status: str  # posted | paid | reversed (a reversed run's payslip is cancelled)
    pay_date: date
    paid_on: date | None
    gross: Money
    deductions: Money
    net: Money
    file_name: str


def my_record(ctx: Context) -> MyRecord:
    """The employee record linked to this login (or none), and whether they manage anyone."""
    ctx.require("hr.claims.own")
    today = ctx.today()
    with ctx.db.read() as s:
        me = employee_of_user(s, ctx.actor.user_id)
        if me is None:
            return MyRecord(None, None, None, 0, 0)
        reports = s.scalar(select(func.count()).select_from(Employee).where(
            Employee.manager_id == me.id, Employee.deleted_at.is_(None),
            or_(Employee.termination_date.is_(None), Employee.termination_date >= today)))
        waiting = s.scalar(
            select(func.count()).select_from(ExpenseClaim)
            .join(Employee, Employee.id == ExpenseClaim.employee_id)
            .where(Employee.manager_id == me.id, ExpenseClaim.status == "submitted",
                   ExpenseClaim.deleted_at.is_(None)))
        return MyRecord(me.id, me.code, me.full_name, int(reports or 0), int(waiting or 0))


def my_payslips(ctx: Context) -> list[MyPayslipRow]:
    """The person's own payslips, newest first (none when the login is not linked)."""
    ctx.require("hr.claims.own")
    with ctx.db.read() as s:
        me = employee_of_user(s, ctx.actor.user_id)
        if me is None:
            return []
        rows = s.execute(
            select(Payslip, PayrollRun.number, PayrollRun.status, PayrollRun.pay_date,
                   PayrollRun.paid_on)
            .join(PayrollRun, PayrollRun.id == Payslip.run_id)
            .where(Payslip.employee_id == me.id, PayrollRun.deleted_at.is_(None))
            .order_by(Payslip.period.desc(), PayrollRun.created_at.desc())).all()
        out = []
        for slip, number, status, pay_date, paid_on in rows:
            label = PayPeriod.parse(slip.period).label
            listed = payroll.PayslipRow(slip.id, slip.period, label, number, status,
                                        slip.employee_id, slip.employee_code,
                                        slip.employee_name)
            out.append(MyPayslipRow(
                slip.id, slip.period, label, number, status, pay_date, paid_on,
                Money.from_minor(slip.gross_minor, slip.currency),
                Money.from_minor(slip.deductions_minor, slip.currency),
                Money.from_minor(slip.net_minor, slip.currency),
                payroll.payslip_file_name(listed)))
        return out


def my_payslip_pdf(ctx: Context, payslip_id: uuid.UUID) -> bytes:
    """One of the person's own payslips as a PDF; anybody else's is refused (audited)."""
    ctx.require("hr.claims.own")
    with ctx.db.read() as s:
        me = employee_of_user(s, ctx.actor.user_id)
        slip = s.get(Payslip, payslip_id) if isinstance(payslip_id, uuid.UUID) else None
        owner = slip.employee_id if slip is not None else None
    if me is None or owner != me.id:
        with ctx.db.write(ctx.actor.user_id) as s:
            audit.record(s, ctx, "hr.payslip_refused", entity="hr_payslip",
                         entity_id=payslip_id if isinstance(payslip_id, uuid.UUID) else None,
                         details={"as": "self", "linked": me is not None})
        raise PermissionDenied("hr.claims.own", NOT_LINKED if me is None else
                               "That payslip is not yours: you can see only your own here.")
    return payroll.payslip_pdf(ctx, payslip_id)
