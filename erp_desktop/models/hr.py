"""HR and payroll tables: employees, attachments, salary structures, payroll runs,
payslips and expense claims.

Everything here is personal data of the most sensitive kind; who may read it
is decided in `services.hr`, `services.payroll` and `services.claims`, never
here. Draft payroll (runs, their per-employee working rows, one-off
adjustments) is mutable; a posted run's payslips and lines are append-only
`Record`s, corrected only in a later run or by a reversal. Attachment bytes
live in `hr_attachment.data` inside the encrypted file, loaded only on demand
and left out of the outbox payload (the sha256 identifies them).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.models.base import Base, Entity, Record, money_property


class Department(Entity, Base):
    __tablename__ = "hr_department"

    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(Text)


class JobTitle(Entity, Base):
    __tablename__ = "hr_job_title"

    name: Mapped[str] = mapped_column(String(120))


class Employee(Entity, Base):
    __tablename__ = "hr_employee"
    __table_args__ = (Index(None, "department_id"), Index(None, "manager_id"))

    code: Mapped[str] = mapped_column(String(20), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(Text)
    date_of_birth: Mapped[date | None]
    job_title_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hr_job_title.id"))
    department_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hr_department.id"))
    manager_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hr_employee.id"))
    hire_date: Mapped[date]
    termination_date: Mapped[date | None]  # last working day
    termination_reason: Mapped[str | None] = mapped_column(Text)
    bank_account_name: Mapped[str | None] = mapped_column(String(200))
    bank_account_number: Mapped[str | None] = mapped_column(String(40))
    bank_ifsc: Mapped[str | None] = mapped_column(String(20))
    bank_name: Mapped[str | None] = mapped_column(String(120))
    tax_id: Mapped[str | None] = mapped_column(String(20))  # PAN in India
    social_id: Mapped[str | None] = mapped_column(String(20))  # UAN (provident fund) in India
    emergency_contact_name: Mapped[str | None] = mapped_column(String(200))
    emergency_contact_phone: Mapped[str | None] = mapped_column(String(40))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), unique=True)


class HrAttachment(Entity, Base):
    """A file kept with an employee (contract, id scan) or a claim (receipt)."""

    __tablename__ = "hr_attachment"
    __table_args__ = (Index(None, "owner_type", "owner_id"),)
    # The bytes stay in this encrypted file; the change feed carries the digest only.
    __outbox_exclude__ = frozenset({"data"})

    owner_type: Mapped[str] = mapped_column(String(12))  # employee | claim
    owner_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(20))  # contract | id_scan | receipt | other
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(80))
    size_bytes: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class SalaryComponent(Entity, Base):
    """A company-wide pay line: basic, HRA, PF ... and how it is worked out."""

    __tablename__ = "hr_salary_component"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))  # earning | deduction
    method: Mapped[str] = mapped_column(String(10))  # fixed | percent
    percent: Mapped[Decimal | None]
    base_codes: Mapped[str | None] = mapped_column(String(200))  # "BASIC,DA"
    cap_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    prorate: Mapped[bool] = mapped_column(default=True)
    taxable: Mapped[bool] = mapped_column(default=True)
    account_key: Mapped[str | None] = mapped_column(String(40))  # deductions: liability account
    sequence: Mapped[int] = mapped_column(default=100)
    active: Mapped[bool] = mapped_column(default=True)

    cap = money_property("cap_minor")


class SalaryStructure(Entity, Base):
    """An employee's pay from a date (the first of a month) until the next one."""

    __tablename__ = "hr_salary_structure"
    __table_args__ = (Index(None, "employee_id", "effective_from", unique=True),)

    employee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_employee.id"))
    effective_from: Mapped[date]
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)


class SalaryStructureLine(Entity, Base):
    __tablename__ = "hr_salary_structure_line"
    __table_args__ = (Index(None, "structure_id"),)

    structure_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_salary_structure.id"))
    component_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_salary_component.id"))
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)  # fixed components
    percent: Mapped[Decimal | None]  # overrides the component's percent
    currency: Mapped[str] = mapped_column(String(3))

    amount = money_property("amount_minor")


class PayrollRun(Entity, Base):
    """One month's payroll: draft -> review -> approved -> posted -> paid."""

    __tablename__ = "hr_payroll_run"
    __table_args__ = (Index(None, "period"),)

    period: Mapped[str] = mapped_column(String(7))  # "2026-10"
    status: Mapped[str] = mapped_column(String(10))
    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given at posting
    currency: Mapped[str] = mapped_column(String(3))
    pay_date: Mapped[date]
    employee_count: Mapped[int] = mapped_column(default=0)
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    deductions_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    net_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reimbursements_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    computed_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]
    submitted_by: Mapped[uuid.UUID | None]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[uuid.UUID | None]
    posted_at: Mapped[datetime | None]
    posted_by: Mapped[uuid.UUID | None]
    paid_at: Mapped[datetime | None]
    paid_by: Mapped[uuid.UUID | None]
    paid_on: Mapped[date | None]
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))
    payment_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))

    gross = money_property("gross_minor")
    deductions = money_property("deductions_minor")
    net = money_property("net_minor")
    reimbursements = money_property("reimbursements_minor")


class PayrollEntry(Entity, Base):
    """A draft run's working row for one employee, recomputed until approval."""

    __tablename__ = "hr_payroll_entry"
    __table_args__ = (Index(None, "run_id", "employee_id", unique=True),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_payroll_run.id"))
    employee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_employee.id"))
    lop_days: Mapped[Decimal] = mapped_column(default=Decimal(0))
    days_in_month: Mapped[int]
    days_employed: Mapped[int]
    days_paid: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    gross_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    deductions_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    net_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    reimbursements_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    lines: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the computed pay lines


class PayrollAdjustment(Entity, Base):
    """A one-off line for one employee in one draft run (bonus, correction ...)."""

    __tablename__ = "hr_payroll_adjustment"
    __table_args__ = (Index(None, "run_id"),)

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_payroll_run.id"))
    employee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_employee.id"))
    component_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_salary_component.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    note: Mapped[str | None] = mapped_column(Text)

    amount = money_property("amount_minor")


class Payslip(Record, Base):
    """A posted run's payslip: frozen figures and the employee as they were."""

    __tablename__ = "hr_payslip"
    __table_args__ = (Index(None, "run_id", "employee_id", unique=True),
                      Index(None, "employee_id", "period"))

    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_payroll_run.id"))
    employee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_employee.id"))
    period: Mapped[str] = mapped_column(String(7))
    employee_code: Mapped[str] = mapped_column(String(20))
    employee_name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(120))
    designation: Mapped[str | None] = mapped_column(String(120))
    tax_id_masked: Mapped[str | None] = mapped_column(String(20))
    bank_account_masked: Mapped[str | None] = mapped_column(String(40))
    days_in_month: Mapped[int]
    lop_days: Mapped[Decimal]
    days_paid: Mapped[Decimal]
    currency: Mapped[str] = mapped_column(String(3))
    gross_minor: Mapped[int] = mapped_column(BigInteger)
    deductions_minor: Mapped[int] = mapped_column(BigInteger)
    net_minor: Mapped[int] = mapped_column(BigInteger)
    reimbursements_minor: Mapped[int] = mapped_column(BigInteger, default=0)


class PayslipLine(Record, Base):
    __tablename__ = "hr_payslip_line"
    __table_args__ = (Index(None, "payslip_id"),)

    payslip_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_payslip.id"))
    line_no: Mapped[int]
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(10))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    taxable: Mapped[bool] = mapped_column(default=True)
    reimbursement: Mapped[bool] = mapped_column(default=False)

    amount = money_property("amount_minor")


class ExpenseClaim(Entity, Base):
    """draft -> submitted -> approved | rejected; approved -> reimbursed | payroll -> paid."""

    __tablename__ = "hr_expense_claim"
    __table_args__ = (Index(None, "employee_id", "status"), Index(None, "status"))

    number: Mapped[str | None] = mapped_column(String(40), unique=True)  # given on submit
    employee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_employee.id"))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    submitted_at: Mapped[datetime | None]
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)
    settled_by: Mapped[uuid.UUID | None]
    settled_at: Mapped[datetime | None]
    settled_via: Mapped[str | None] = mapped_column(String(10))  # bank | cash | payroll
    journal_entry_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))
    payroll_run_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hr_payroll_run.id"))

    total = money_property("total_minor")


class ExpenseClaimLine(Entity, Base):
    __tablename__ = "hr_expense_claim_line"
    __table_args__ = (Index(None, "claim_id"),)

    claim_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hr_expense_claim.id"))
    line_no: Mapped[int]
    expense_date: Mapped[date]
    category: Mapped[str] = mapped_column(String(20))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    description: Mapped[str | None] = mapped_column(Text)

    amount = money_property("amount_minor")
