"""Payroll: salary components and structures, monthly runs, payslips, exports.

A month's run moves draft -> review -> approved -> posted -> paid (a posted,
unpaid run may instead be reversed, after which the month can be run again).
While draft, a run is computed for every employee on the payroll that month
(`domain.payroll_calc`: joiners and leavers pro-rated by calendar days,
unpaid leave entered per employee, one-off adjustments, expense claims the
accountant sent to payroll) and recomputed on every change. Sending it for
review recomputes it once more and freezes the figures: what the approver
sees is what is posted. Posting gives the run its number (PAY/2026-27/A/…),
writes the employees' payslips as append-only records and ONE balanced
journal entry through `ledger.post_in_session`:

    Dr  salary expense (per earnings account; `salaries` by default)
    Dr  expense claims payable (claims reimbursed through this run)
        Cr  salaries payable (total net pay)
        Cr  each deduction's liability (`payroll_deductions_payable` by default)

Marking it paid writes Dr salaries payable / Cr bank. The entries hold totals
only, so the ledger never shows one person's pay. A posted run is never
changed: a correction is a one-off line in a later run, or a reversal.

Access: `hr.payroll.view` sees salaries, runs, payslips and exports;
`hr.payroll.manage` changes structures and prepares runs; `hr.payroll.post`
approves, posts and pays; `hr.payroll.totals` (accountant, auditor) sees a
posted run's totals and nothing per person; an employee (`hr.claims.own`)
sees their own salary and payslips. Every view of a salary or payslip, every
salary change and every posting is audited, with ids and counts only.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from erp_desktop.documents.base import CompanyHeader
from erp_desktop.documents.payslip import PayslipDoc, PayslipLineDoc, render_payslip
from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.domain.money import Money, parse_decimal, to_minor
from erp_desktop.domain.numbering import fiscal_year_start
from erp_desktop.domain.payroll_calc import (
    Attendance,
    ComponentRule,
    Kind,
    Method,
    OneOff,
    Pay,
    PayPeriod,
    attendance,
    compute_pay,
    employed_days,
    order_rules,
)
from erp_desktop.models.company import Company
from erp_desktop.models.hr import (
    Department,
    Employee,
    ExpenseClaim,
    JobTitle,
    PayrollAdjustment,
    PayrollEntry,
    PayrollRun,
    Payslip,
    PayslipLine,
    SalaryComponent,
    SalaryStructure,
    SalaryStructureLine,
)
from erp_desktop.models.ledger import Account
from erp_desktop.services import audit, ledger
from erp_desktop.services.context import Context
from erp_desktop.services.hr import (
    company_settings,
    employee_of_user,
    load_employee,
    mask_tail,
    require_self_or,
)
from erp_desktop.services.numbering import next_number

DRAFT, REVIEW, APPROVED, POSTED, PAID, REVERSED = (
    "draft", "review", "approved", "posted", "paid", "reversed")
STATUS_LABELS = {DRAFT: "a draft", REVIEW: "in review", APPROVED: "approved", POSTED: "posted",
                 PAID: "paid", REVERSED: "reversed"}
# The one place that says which step may follow which.
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({REVIEW}),
    REVIEW: frozenset({DRAFT, APPROVED}),
    APPROVED: frozenset({DRAFT, POSTED}),
    POSTED: frozenset({PAID, REVERSED}),
    PAID: frozenset(),
    REVERSED: frozenset(),
}
_ACTIONS = {DRAFT: "sent back to draft", REVIEW: "sent for review", APPROVED: "approved",
            POSTED: "posted", PAID: "marked paid", REVERSED: "reversed"}

RUN_DOC_TYPE = "payroll_run"
RUN_PREFIX = "PAY"
RUN_SOURCE = "payroll_run"
PAYMENT_SOURCE = "payroll_payment"
REIMBURSEMENT_CODE = "REIMB"
REIMBURSEMENT_NAME = "Expense reimbursement"
SALARIES_ACCOUNT = "salaries"
NET_PAY_ACCOUNT = "salaries_payable"
DEDUCTIONS_ACCOUNT = "payroll_deductions_payable"
CLAIMS_ACCOUNT = "claims_payable"
PAYMENT_ACCOUNTS = ("bank", "cash")
# Claim states this module moves (services.claims owns the rest).
CLAIM_IN_PAYROLL = "in_payroll"
CLAIM_PAID_IN_PAYROLL = "paid_in_payroll"

# The usual Indian salary components, created by `ensure_standard_components`.
STANDARD_COMPONENTS: tuple[dict[str, object], ...] = (
    {"code": "BASIC", "name": "Basic", "kind": "earning", "method": "fixed", "sequence": 10},
    {"code": "HRA", "name": "House rent allowance", "kind": "earning", "method": "percent",
     "percent": Decimal(40), "base": ("BASIC",), "sequence": 20},
    {"code": "CONV", "name": "Conveyance allowance", "kind": "earning", "method": "fixed",
     "sequence": 30},
    {"code": "SPECIAL", "name": "Special allowance", "kind": "earning", "method": "fixed",
     "sequence": 40},
    {"code": "OT", "name": "Overtime", "kind": "earning", "method": "fixed", "prorate": False,
     "sequence": 50},
    {"code": "BONUS", "name": "Bonus", "kind": "earning", "method": "fixed", "prorate": False,
     "sequence": 60},
    {"code": "PF", "name": "Provident fund (employee)", "kind": "deduction", "method": "percent",
     "percent": Decimal(12), "base": ("BASIC",), "cap": Decimal(1800), "sequence": 110},
    {"code": "PT", "name": "Professional tax", "kind": "deduction", "method": "fixed",
     "prorate": False, "sequence": 120},
    {"code": "TDS", "name": "Income tax (TDS)", "kind": "deduction", "method": "fixed",
     "prorate": False, "sequence": 130},
    {"code": "LOAN", "name": "Loan recovery", "kind": "deduction", "method": "fixed",
     "prorate": False, "account_key": "employee_advances", "sequence": 140},
    {"code": "OTHERDED", "name": "Other deductions", "kind": "deduction", "method": "fixed",
     "prorate": False, "sequence": 150},
)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ComponentRow:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    method: str
    percent: Decimal | None
    base: tuple[str, ...]
    cap: Money | None
    prorate: bool
    taxable: bool
    account_key: str | None
    sequence: int
    active: bool
    version: int


@dataclass(frozen=True)
class StructureLineInput:
    """One line of a salary structure as entered: a fixed amount, or a percent override."""

    code: str
    amount: Decimal | str | int | None = None
    percent: Decimal | str | int | None = None


@dataclass(frozen=True)
class StructureLine:
    code: str
    name: str
    kind: str
    method: str
    amount: Money | None
    percent: Decimal | None
    base: tuple[str, ...]
    cap: Money | None


@dataclass(frozen=True)
class SalaryStructureView:
    id: uuid.UUID
    employee_id: uuid.UUID
    effective_from: date
    lines: tuple[StructureLine, ...]
    monthly_gross: Money  # a full month, no unpaid leave
    monthly_deductions: Money
    monthly_net: Money
    note: str | None
    version: int


@dataclass(frozen=True)
class SalaryView:
    employee_id: uuid.UUID
    employee_code: str
    employee_name: str
    current: SalaryStructureView | None
    history: tuple[SalaryStructureView, ...]  # newest first


@dataclass(frozen=True)
class RunTotals:
    """A run without anything personal: what an accountant may see once posted."""

    id: uuid.UUID
    period: str
    period_label: str
    status: str
    number: str | None
    pay_date: date
    employee_count: int
    gross: Money
    deductions: Money
    net: Money
    reimbursements: Money
    journal_entry_id: uuid.UUID | None
    payment_entry_id: uuid.UUID | None
    posted_at: datetime | None
    paid_on: date | None
    version: int


@dataclass(frozen=True)
class PayLineRow:
    code: str
    name: str
    kind: str
    amount: Money
    taxable: bool
    one_off: bool
    reimbursement: bool


@dataclass(frozen=True)
class AdjustmentRow:
    id: uuid.UUID
    code: str
    name: str
    kind: str
    amount: Money
    note: str | None


@dataclass(frozen=True)
class RunEntryRow:
    employee_id: uuid.UUID
    employee_code: str
    employee_name: str
    department: str | None
    designation: str | None
    days_in_month: int
    days_employed: int
    lop_days: Decimal
    days_paid: Decimal
    gross: Money
    deductions: Money
    net: Money
    reimbursements: Money
    lines: tuple[PayLineRow, ...]
    adjustments: tuple[AdjustmentRow, ...]


@dataclass(frozen=True)
class RunDetail:
    totals: RunTotals
    entries: tuple[RunEntryRow, ...]


@dataclass(frozen=True)
class PayslipRow:
    """A payslip in a list: whose and which month, no amounts."""

    id: uuid.UUID
    period: str
    period_label: str
    run_number: str | None
    run_status: str
    employee_id: uuid.UUID
    employee_code: str
    employee_name: str


@dataclass(frozen=True)
class PayslipLineView:
    code: str
    name: str
    kind: str
    amount: Money
    ytd: Money
    reimbursement: bool


@dataclass(frozen=True)
class PayslipView:
    id: uuid.UUID
    run_number: str | None
    run_status: str
    period: str
    period_label: str
    pay_date: date
    employee_id: uuid.UUID
    employee_code: str
    employee_name: str
    department: str | None
    designation: str | None
    tax_id_masked: str | None
    bank_account_masked: str | None
    days_in_month: int
    lop_days: Decimal
    days_paid: Decimal
    earnings: tuple[PayslipLineView, ...]
    deductions: tuple[PayslipLineView, ...]
    gross: Money
    total_deductions: Money
    net: Money
    ytd_gross: Money
    ytd_deductions: Money
    ytd_net: Money
    fiscal_year_start: date


@dataclass(frozen=True)
class RegisterReport:
    """The payroll register: one row per employee, one column per component."""

    period: str
    status: str
    number: str | None
    earning_columns: tuple[tuple[str, str], ...]  # (code, name)
    deduction_columns: tuple[tuple[str, str], ...]
    rows: tuple[RunEntryRow, ...]
    totals: RunTotals


@dataclass(frozen=True)
class BankTransferRow:
    employee_code: str
    beneficiary: str
    account_number: str
    ifsc: str | None
    bank_name: str | None
    amount: Money
    narration: str


@dataclass(frozen=True)
class BankTransferList:
    period: str
    number: str | None
    rows: tuple[BankTransferRow, ...]
    total: Money
    without_account: tuple[str, ...]  # employee codes to pay another way


# --------------------------------------------------------------------------- helpers


def _period(value: str | PayPeriod) -> PayPeriod:
    return value if isinstance(value, PayPeriod) else PayPeriod.parse(value)


def _money(minor: int | None, currency: str) -> Money:
    return Money.from_minor(minor or 0, currency)


def _base_codes(component: SalaryComponent) -> tuple[str, ...]:
    return tuple(c for c in (component.base_codes or "").split(",") if c)


def _component_row(c: SalaryComponent) -> ComponentRow:
    return ComponentRow(
        id=c.id, code=c.code, name=c.name, kind=c.kind, method=c.method, percent=c.percent,
        base=_base_codes(c), cap=c.cap, prorate=c.prorate, taxable=c.taxable,
        account_key=c.account_key, sequence=c.sequence, active=c.active, version=c.version)


def _components(s: Session) -> dict[str, SalaryComponent]:
    return {c.code: c for c in s.scalars(select(SalaryComponent)
                                         .where(SalaryComponent.deleted_at.is_(None)))}


def _run_for(s: Session, period: PayPeriod) -> PayrollRun | None:
    """The month's run (a reversed run no longer counts)."""
    return s.scalars(select(PayrollRun).where(
        PayrollRun.period == period.key, PayrollRun.deleted_at.is_(None),
        PayrollRun.status != REVERSED)).first()


def _need_run(s: Session, period: PayPeriod) -> PayrollRun:
    run = _run_for(s, period)
    if run is None:
        raise NotFound(f"There is no payroll run for {period.label} yet: start one first.",
                       field="month")
    return run


def _move(run: PayrollRun, to: str) -> None:
    if to not in TRANSITIONS[run.status]:
        label = PayPeriod.parse(run.period).label
        raise ValidationError(f"Payroll for {label} is {STATUS_LABELS[run.status]}; it cannot "
                              f"be {_ACTIONS[to]}.", field="status")
    run.status = to


def _flush(s: Session, what: str) -> None:
    try:
        s.flush()
    except StaleDataError:
        raise Conflict(f"{what} was changed by someone else at the same time. Reload and try "
                       "again.") from None


def _totals(run: PayrollRun) -> RunTotals:
    cur = run.currency
    return RunTotals(
        id=run.id, period=run.period, period_label=PayPeriod.parse(run.period).label,
        status=run.status, number=run.number, pay_date=run.pay_date,
        employee_count=run.employee_count, gross=_money(run.gross_minor, cur),
        deductions=_money(run.deductions_minor, cur), net=_money(run.net_minor, cur),
        reimbursements=_money(run.reimbursements_minor, cur),
        journal_entry_id=run.journal_entry_id, payment_entry_id=run.payment_entry_id,
        posted_at=run.posted_at, paid_on=run.paid_on, version=run.version)


def _resolve_account(s: Session, ref: str) -> Account | None:
    acc = s.scalars(select(Account).where(Account.system_key == ref)).first()
    if acc is None:
        acc = s.scalars(select(Account).where(Account.code == ref)).first()
    if acc is None or acc.deleted_at is not None:
        return None
    return acc


def _posting_account(s: Session, ref: str) -> Account:
    acc = _resolve_account(s, ref)
    if acc is None:
        raise ValidationError(f"The account '{ref}' that payroll posts to is missing from the "
                              "chart of accounts; restore it or change the component.",
                              field="account_key")
    return acc


# --------------------------------------------------------------------------- components


def list_components(ctx: Context, *, include_inactive: bool = False) -> list[ComponentRow]:
    ctx.require("hr.payroll.view")
    with ctx.db.read() as s:
        rows = sorted(_components(s).values(), key=lambda c: (c.sequence, c.code))
        return [_component_row(c) for c in rows if include_inactive or c.active]


def _check_component(s: Session, code: str, name: str, kind: str, method: str,
                     percent: object, base: Sequence[str], cap: object,
                     account_key: str | None, currency: str) -> tuple[Decimal | None, int | None]:
    if not code or len(code) > 20 or not code.replace("_", "").isalnum() or not code.isupper():
        raise ValidationError("A component code is up to 20 capital letters and digits, e.g. "
                              "BASIC or HRA.", field="code")
    if code == REIMBURSEMENT_CODE:
        raise ValidationError(f"{REIMBURSEMENT_CODE} is kept for expense claims paid through "
                              "payroll.", field="code")
    if not name or len(name) > 120:
        raise ValidationError("Enter the component's name (up to 120 characters).",
                              field="name")
    if kind not in (Kind.EARNING, Kind.DEDUCTION):
        raise ValidationError("A component is an earning or a deduction.", field="kind")
    if method not in (Method.FIXED, Method.PERCENT):
        raise ValidationError("A component is a fixed amount or a percentage.", field="method")
    pct = None
    if method == Method.PERCENT:
        pct = parse_decimal(percent, "percent") if percent is not None else None
        if pct is None or not 0 <= pct <= 1000:
            raise ValidationError("Give the percentage (0 to 1000).", field="percent")
        known = _components(s)
        missing = [b for b in base if b not in known]
        if not base or missing:
            raise ValidationError("Say which existing components the percentage is of"
                                  + (f" ({', '.join(missing)} do not exist)." if missing
                                     else "."), field="base")
        if code in base:
            raise ValidationError("A component cannot be a percentage of itself.", field="base")
        # The whole catalogue with this definition must still have an order to compute in.
        order_rules([ComponentRule(c.code, c.name, Kind(c.kind), Method(c.method),
                                   percent=c.percent or Decimal(0), base=_base_codes(c))
                     for c in known.values() if c.code != code]
                    + [ComponentRule(code, name, Kind(kind), Method.PERCENT, percent=pct,
                                     base=base)])
    cap_minor = None
    if cap is not None:
        cap_amount = parse_decimal(cap, "cap")
        if cap_amount < 0:
            raise ValidationError("A cap cannot be negative.", field="cap")
        cap_minor = to_minor(cap_amount, currency)
    if account_key is not None:
        acc = _resolve_account(s, account_key)
        wanted = "expense" if kind == Kind.EARNING else ("liability", "asset")
        if acc is None or acc.is_group or acc.type not in wanted:
            kind_text = "an expense" if kind == Kind.EARNING else "a liability (or advances)"
            raise ValidationError(f"'{account_key}' is not {kind_text} account.",
                                  field="account_key")
    return pct, cap_minor


def define_component(ctx: Context, code: str, name: str, kind: str, method: str, *,
                     percent: Decimal | str | int | None = None, base: Sequence[str] = (),
                     cap: Decimal | str | int | None = None, prorate: bool = True,
                     taxable: bool = True, account_key: str | None = None,
                     sequence: int = 100) -> ComponentRow:
    """Add a salary component, or change an existing one with the same code."""
    ctx.require("hr.payroll.manage")
    code = (code or "").strip().upper()
    name = (name or "").strip()
    base = tuple(b.strip().upper() for b in base if b.strip())
    with ctx.db.write(ctx.actor.user_id) as s:
        currency = company_settings(s).base_currency
        pct, cap_minor = _check_component(s, code, name, kind, method, percent, base, cap,
                                          account_key, currency)
        comp = _components(s).get(code)
        if comp is None:
            comp = SalaryComponent(code=code, currency=currency)
            s.add(comp)
        comp.name, comp.kind, comp.method = name, str(kind), str(method)
        comp.percent = pct
        comp.base_codes = ",".join(base) or None
        comp.cap_minor = cap_minor
        comp.prorate, comp.taxable = bool(prorate), bool(taxable)
        comp.account_key, comp.sequence, comp.active = account_key, int(sequence), True
        _flush(s, f"Component {code}")
        audit.record(s, ctx, "hr.component_defined", entity="hr_salary_component",
                     entity_id=comp.id, details={"code": code})
        return _component_row(comp)


def ensure_standard_components(ctx: Context) -> list[ComponentRow]:
    """Create the usual components (basic, HRA, PF ...) that do not exist yet."""
    ctx.require("hr.payroll.manage")
    with ctx.db.read() as s:
        existing = set(_components(s))
    for spec in STANDARD_COMPONENTS:
        if spec["code"] not in existing:
            define_component(ctx, **spec)  # type: ignore[arg-type]
    return list_components(ctx)


# --------------------------------------------------------------------------- structures


def _rules(s: Session, structure: SalaryStructure,
           components: dict[uuid.UUID, SalaryComponent] | None = None) -> list[ComponentRule]:
    lines = s.scalars(select(SalaryStructureLine).where(
        SalaryStructureLine.structure_id == structure.id,
        SalaryStructureLine.deleted_at.is_(None))).all()
    if components is None:
        components = {c.id: c for c in _components(s).values()}
    rules = []
    for ln in sorted(lines, key=lambda x: (components[x.component_id].sequence,
                                           components[x.component_id].code)):
        c = components[ln.component_id]
        cur = c.currency
        rules.append(ComponentRule(
            code=c.code, name=c.name, kind=Kind(c.kind), method=Method(c.method),
            amount=_money(ln.amount_minor, cur).amount,
            percent=ln.percent if ln.percent is not None else (c.percent or Decimal(0)),
            base=_base_codes(c), cap=c.cap.amount if c.cap is not None else None,
            prorate=c.prorate, taxable=c.taxable))
    return rules


_FULL_MONTH = Attendance(30, 30, Decimal(0), Decimal(30))


def _structure_view(s: Session, st: SalaryStructure) -> SalaryStructureView:
    rules = _rules(s, st)
    pay = compute_pay(rules, _FULL_MONTH, st.currency)
    comps = _components(s)
    lines = []
    for r in rules:
        c = comps[r.code]
        lines.append(StructureLine(
            code=r.code, name=r.name, kind=str(r.kind), method=str(r.method),
            amount=Money(r.amount, st.currency) if r.method is Method.FIXED else None,
            percent=r.percent if r.method is Method.PERCENT else None, base=r.base,
            cap=c.cap))
    return SalaryStructureView(
        id=st.id, employee_id=st.employee_id, effective_from=st.effective_from,
        lines=tuple(lines), monthly_gross=Money(pay.gross, st.currency),
        monthly_deductions=Money(pay.total_deductions, st.currency),
        monthly_net=Money(pay.net, st.currency), note=st.note, version=st.version)


def _structure_for(s: Session, employee_id: uuid.UUID, period: PayPeriod
                   ) -> SalaryStructure | None:
    return s.scalars(select(SalaryStructure).where(
        SalaryStructure.employee_id == employee_id, SalaryStructure.deleted_at.is_(None),
        SalaryStructure.effective_from <= period.start)
        .order_by(SalaryStructure.effective_from.desc()).limit(1)).first()


def set_salary_structure(ctx: Context, employee_id: uuid.UUID, effective_from: date,
                         lines: Sequence[StructureLineInput],
                         note: str | None = None) -> SalaryStructureView:
    """An employee's pay from the first day of a month (a raise is a new structure).

    A structure already starting that day is replaced. A month whose payroll is
    past draft keeps its figures: the change must start after it.
    """
    ctx.require("hr.payroll.manage")
    if isinstance(effective_from, datetime) or not isinstance(effective_from, date):
        raise ValidationError("The salary's start date must be a date.", field="effective_from")
    if effective_from.day != 1:
        raise ValidationError("A salary takes effect from the first day of a month; pay for "
                              "part of a month follows from the days worked.",
                              field="effective_from")
    if not lines:
        raise ValidationError("A salary structure needs at least one component.",
                              field="lines")
    with ctx.db.write(ctx.actor.user_id) as s:
        emp = load_employee(s, employee_id)
        currency = company_settings(s).base_currency
        start = PayPeriod.of(effective_from)
        frozen = s.scalars(select(PayrollRun).where(
            PayrollRun.period >= start.key, PayrollRun.deleted_at.is_(None),
            PayrollRun.status.notin_([DRAFT, REVERSED])).order_by(PayrollRun.period.desc())
        ).first()
        if frozen is not None:
            label = PayPeriod.parse(frozen.period)
            raise ValidationError(f"Payroll for {label.label} is {STATUS_LABELS[frozen.status]}; "
                                  f"a salary change can start from {label.next().label} at the "
                                  "earliest.", field="effective_from")
        comps = _components(s)
        new_lines: list[SalaryStructureLine] = []
        seen: set[str] = set()
        for given in lines:
            code = (given.code or "").strip().upper()
            comp = comps.get(code)
            if comp is None or not comp.active:
                raise ValidationError(f"There is no salary component {code}.", field="lines")
            if code in seen:
                raise ValidationError(f"{code} appears twice.", field="lines")
            seen.add(code)
            amount_minor = percent = None
            if comp.method == Method.FIXED:
                if given.amount is None:
                    raise ValidationError(f"Enter the monthly amount of {comp.name}.",
                                          field="lines")
                amount = parse_decimal(given.amount, "amount")
                if amount < 0:
                    raise ValidationError(f"{comp.name} cannot be negative.", field="lines")
                amount_minor = to_minor(amount, currency)
            elif given.percent is not None:
                percent = parse_decimal(given.percent, "percent")
            elif given.amount is not None:
                raise ValidationError(f"{comp.name} is a percentage of "
                                      f"{', '.join(_base_codes(comp))}; give a percent, not an "
                                      "amount.", field="lines")
            new_lines.append(SalaryStructureLine(component_id=comp.id, amount_minor=amount_minor,
                                                 percent=percent, currency=currency))
        if not any(comps[c].kind == Kind.EARNING for c in seen):
            raise ValidationError("A salary structure needs at least one earning.",
                                  field="lines")
        st = s.scalars(select(SalaryStructure).where(
            SalaryStructure.employee_id == emp.id,
            SalaryStructure.effective_from == effective_from)).first()
        replaced = st is not None
        if st is None:
            st = SalaryStructure(employee_id=emp.id, effective_from=effective_from,
                                 currency=currency)
            s.add(st)
        else:
            st.deleted_at = None
            for old in s.scalars(select(SalaryStructureLine).where(
                    SalaryStructureLine.structure_id == st.id,
                    SalaryStructureLine.deleted_at.is_(None))):
                old.deleted_at = ctx.now()
        st.note = (note or "").strip() or None
        s.flush()
        for ln in new_lines:
            ln.structure_id = st.id
            s.add(ln)
        _flush(s, "This salary structure")
        view = _structure_view(s, st)  # also checks the rules work (no loop, net not negative)
        audit.record(s, ctx, "hr.salary_changed", entity="hr_employee", entity_id=emp.id,
                     details={"structure_id": st.id, "effective_from": effective_from,
                              "components": sorted(seen), "replaced": replaced})
        return view


def get_salary(ctx: Context, employee_id: uuid.UUID) -> SalaryView:
    """An employee's salary and its history: payroll staff, or the employee. Audited."""
    require_self_or(ctx, "hr.payroll.view", employee_id)
    with ctx.db.write(ctx.actor.user_id) as s:
        emp = load_employee(s, employee_id)
        structures = s.scalars(select(SalaryStructure).where(
            SalaryStructure.employee_id == emp.id, SalaryStructure.deleted_at.is_(None))
            .order_by(SalaryStructure.effective_from.desc())).all()
        history = tuple(_structure_view(s, st) for st in structures)
        today = ctx.today()
        current = next((v for v in history if v.effective_from <= today), None)
        audit.record(s, ctx, "hr.salary_viewed", entity="hr_employee", entity_id=emp.id,
                     details={"structures": len(history)})
        return SalaryView(emp.id, emp.code, emp.full_name, current, history)


# --------------------------------------------------------------------------- runs: compute


def _line_json(pay: Pay) -> str:
    return json.dumps([{"code": ln.code, "name": ln.name, "kind": str(ln.kind),
                        "amount_minor": to_minor(ln.amount, pay.currency),
                        "taxable": ln.taxable, "one_off": ln.one_off,
                        "reimbursement": ln.reimbursement}
                       for ln in (*pay.earnings, *pay.deductions)], separators=(",", ":"))


def _lines_of(entry: PayrollEntry) -> tuple[PayLineRow, ...]:
    return tuple(PayLineRow(d["code"], d["name"], d["kind"],
                            _money(d["amount_minor"], entry.currency), d["taxable"],
                            d["one_off"], d["reimbursement"])
                 for d in json.loads(entry.lines or "[]"))


def _claims_for(s: Session, run: PayrollRun, employee_id: uuid.UUID) -> list[ExpenseClaim]:
    return list(s.scalars(select(ExpenseClaim).where(
        ExpenseClaim.employee_id == employee_id, ExpenseClaim.deleted_at.is_(None),
        ExpenseClaim.status == CLAIM_IN_PAYROLL,
        (ExpenseClaim.payroll_run_id.is_(None)) | (ExpenseClaim.payroll_run_id == run.id))))


def _compute(ctx: Context, s: Session, run: PayrollRun) -> None:
    """(Re)compute every entry of a draft run, keeping entered unpaid leave."""
    period = PayPeriod.parse(run.period)
    comps_by_id = {c.id: c for c in _components(s).values()}
    entries = {e.employee_id: e for e in s.scalars(
        select(PayrollEntry).where(PayrollEntry.run_id == run.id))}
    employees = s.scalars(select(Employee).where(
        Employee.deleted_at.is_(None), Employee.hire_date <= period.end,
        (Employee.termination_date.is_(None)) | (Employee.termination_date >= period.start))
        .order_by(Employee.code)).all()
    adjustments: dict[uuid.UUID, list[PayrollAdjustment]] = defaultdict(list)
    for adj in s.scalars(select(PayrollAdjustment).where(
            PayrollAdjustment.run_id == run.id, PayrollAdjustment.deleted_at.is_(None))):
        adjustments[adj.employee_id].append(adj)
    # Claims are handed out afresh: an employee who left the run gives theirs back.
    for claim in s.scalars(select(ExpenseClaim).where(ExpenseClaim.payroll_run_id == run.id)):
        claim.payroll_run_id = None
    s.flush()
    totals = {"gross": 0, "deductions": 0, "net": 0, "reimb": 0}
    included: set[uuid.UUID] = set()
    for emp in employees:
        if employed_days(period, emp.hire_date, emp.termination_date) == 0:
            continue
        st = _structure_for(s, emp.id, period)
        if st is None:
            raise ValidationError(f"{emp.code} {emp.full_name} has no salary for {period.label}; "
                                  "set their salary structure first.", field="structure")
        entry = entries.get(emp.id)
        lop = entry.lop_days if entry is not None and entry.deleted_at is None else Decimal(0)
        one_offs = []
        for adj in adjustments.get(emp.id, []):
            c = comps_by_id[adj.component_id]
            one_offs.append(OneOff(c.code, c.name, Kind(c.kind), adj.amount.amount, c.taxable))
        claims = _claims_for(s, run, emp.id)
        if claims:
            total = sum((c.total_minor for c in claims), 0)
            one_offs.append(OneOff(REIMBURSEMENT_CODE, REIMBURSEMENT_NAME, Kind.EARNING,
                                   _money(total, run.currency).amount, taxable=False,
                                   reimbursement=True))
            for c in claims:
                c.payroll_run_id = run.id
        try:
            att = attendance(period, emp.hire_date, emp.termination_date, lop)
            pay = compute_pay(_rules(s, st, comps_by_id), att, run.currency, one_offs=one_offs)
        except ValidationError as exc:
            raise ValidationError(f"{emp.code} {emp.full_name}: {exc.message}",
                                  field=exc.field) from None
        if entry is None:
            entry = PayrollEntry(run_id=run.id, employee_id=emp.id, currency=run.currency)
            s.add(entry)
        entry.deleted_at = None
        entry.lop_days = att.lop_days
        entry.days_in_month, entry.days_employed = att.days_in_month, att.days_employed
        entry.days_paid = att.days_paid
        entry.gross_minor = to_minor(pay.gross, run.currency)
        entry.deductions_minor = to_minor(pay.total_deductions, run.currency)
        entry.net_minor = to_minor(pay.net, run.currency)
        entry.reimbursements_minor = to_minor(pay.reimbursements, run.currency)
        entry.lines = _line_json(pay)
        totals["gross"] += entry.gross_minor
        totals["deductions"] += entry.deductions_minor
        totals["net"] += entry.net_minor
        totals["reimb"] += entry.reimbursements_minor
        included.add(emp.id)
    for emp_id, entry in entries.items():
        if emp_id not in included and entry.deleted_at is None:
            entry.deleted_at = ctx.now()  # no longer on this month's payroll
    run.employee_count = len(included)
    run.gross_minor, run.deductions_minor = totals["gross"], totals["deductions"]
    run.net_minor, run.reimbursements_minor = totals["net"], totals["reimb"]
    run.computed_at = ctx.now()
    _flush(s, f"Payroll for {period.label}")


def _draft(s: Session, period: PayPeriod) -> PayrollRun:
    run = _need_run(s, period)
    if run.status != DRAFT:
        raise ValidationError(f"Payroll for {period.label} is {STATUS_LABELS[run.status]}; only "
                              "a draft can be changed. Send it back to draft first."
                              if run.status in (REVIEW, APPROVED) else
                              f"Payroll for {period.label} is {STATUS_LABELS[run.status]} and "
                              "can no longer be changed; correct it in a later month's run.",
                              field="status")
    return run


def start_run(ctx: Context, month: str | PayPeriod, pay_date: date | None = None) -> RunTotals:
    """Start (or, for a draft, recompute) a month's payroll. One run per month."""
    ctx.require("hr.payroll.manage")
    period = _period(month)
    if pay_date is not None and (isinstance(pay_date, datetime)
                                 or not isinstance(pay_date, date)):
        raise ValidationError("The pay date must be a date.", field="pay_date")
    if pay_date is not None and pay_date < period.end:
        raise ValidationError(f"Salaries for {period.label} are paid on its last day or later; "
                              f"choose {period.end.isoformat()} or a later date.",
                              field="pay_date")
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _run_for(s, period)
        if run is not None and run.status != DRAFT:
            number = f" ({run.number})" if run.number else ""
            raise ValidationError(f"Payroll for {period.label} already exists{number} and is "
                                  f"{STATUS_LABELS[run.status]}; there is one payroll run per "
                                  "month.", field="month")
        created = run is None
        if run is None:
            run = PayrollRun(period=period.key, status=DRAFT,
                             currency=company_settings(s).base_currency,
                             pay_date=pay_date or period.end)
            s.add(run)
            s.flush()
        elif pay_date is not None:
            run.pay_date = pay_date
        _compute(ctx, s, run)
        audit.record(s, ctx, "hr.payroll_computed", entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "employees": run.employee_count,
                              "created": created})
        return _totals(run)


def compute_run(ctx: Context, month: str | PayPeriod) -> RunTotals:
    """Recompute a draft run (after salary, leave or employee changes)."""
    ctx.require("hr.payroll.manage")
    period = _period(month)
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _draft(s, period)
        _compute(ctx, s, run)
        audit.record(s, ctx, "hr.payroll_computed", entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "employees": run.employee_count,
                              "created": False})
        return _totals(run)


def set_unpaid_leave(ctx: Context, month: str | PayPeriod, employee_id: uuid.UUID,
                     days: Decimal | str | int) -> RunTotals:
    """Enter an employee's unpaid leave (whole or half days) and recompute the draft."""
    ctx.require("hr.payroll.manage")
    period = _period(month)
    lop = parse_decimal(days, "unpaid leave days")
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _draft(s, period)
        emp = load_employee(s, employee_id)
        entry = s.scalars(select(PayrollEntry).where(PayrollEntry.run_id == run.id,
                                                     PayrollEntry.employee_id == emp.id)).first()
        if entry is None or entry.deleted_at is not None:
            raise ValidationError(f"{emp.code} is not on the payroll for {period.label}.",
                                  field="employee_id")
        try:
            attendance(period, emp.hire_date, emp.termination_date, lop)
        except ValidationError as exc:
            raise ValidationError(f"{emp.code}: {exc.message}", field="lop_days") from None
        entry.lop_days = lop
        _compute(ctx, s, run)
        audit.record(s, ctx, "hr.payroll_leave_entered", entity="hr_payroll_run",
                     entity_id=run.id, details={"employee_id": emp.id})
        return _totals(run)


def add_adjustment(ctx: Context, month: str | PayPeriod, employee_id: uuid.UUID,
                   component_code: str, amount: Decimal | str | int,
                   note: str | None = None) -> RunTotals:
    """A one-off line this month: bonus, overtime, loan recovery, a correction."""
    ctx.require("hr.payroll.manage")
    period = _period(month)
    value = parse_decimal(amount, "amount")
    if value <= 0:
        raise ValidationError("A one-off amount must be greater than zero (a deduction is a "
                              "deduction component, not a negative earning).", field="amount")
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _draft(s, period)
        emp = load_employee(s, employee_id)
        comp = _components(s).get((component_code or "").strip().upper())
        if comp is None or not comp.active:
            raise ValidationError(f"There is no salary component {component_code}.",
                                  field="component_code")
        if comp.method != Method.FIXED:
            raise ValidationError(f"{comp.name} is worked out as a percentage; a one-off line "
                                  "must be a fixed component.", field="component_code")
        adj = PayrollAdjustment(run_id=run.id, employee_id=emp.id, component_id=comp.id,
                                amount_minor=to_minor(value, run.currency),
                                currency=run.currency, note=(note or "").strip() or None)
        s.add(adj)
        s.flush()
        _compute(ctx, s, run)
        audit.record(s, ctx, "hr.payroll_adjusted", entity="hr_payroll_run", entity_id=run.id,
                     details={"employee_id": emp.id, "component": comp.code,
                              "adjustment_id": adj.id})
        return _totals(run)


def remove_adjustment(ctx: Context, adjustment_id: uuid.UUID) -> RunTotals:
    ctx.require("hr.payroll.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        adj = s.get(PayrollAdjustment, adjustment_id) \
            if isinstance(adjustment_id, uuid.UUID) else None
        if adj is None or adj.deleted_at is not None:
            raise NotFound("That one-off line does not exist.")
        run = s.get(PayrollRun, adj.run_id)
        assert run is not None
        run = _draft(s, PayPeriod.parse(run.period))
        adj.deleted_at = ctx.now()
        _compute(ctx, s, run)
        audit.record(s, ctx, "hr.payroll_adjustment_removed", entity="hr_payroll_run",
                     entity_id=run.id, details={"adjustment_id": adj.id})
        return _totals(run)


# --------------------------------------------------------------------------- runs: workflow


def _step(ctx: Context, month: str | PayPeriod, to: str, action: str,
          version: int | None = None) -> RunTotals:
    period = _period(month)
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        if version is not None and run.version != version:
            raise Conflict(f"Payroll for {period.label} was changed by someone else since you "
                           "opened it. Reload and try again.")
        if to == REVIEW and run.status == DRAFT:
            _compute(ctx, s, run)  # review exactly what will be posted
            if run.employee_count == 0:
                raise ValidationError(f"Nobody is on the payroll for {period.label}.",
                                      field="status")
        _move(run, to)
        now = ctx.now()
        if to == REVIEW:
            run.submitted_at, run.submitted_by = now, ctx.actor.user_id
        elif to == APPROVED:
            run.approved_at, run.approved_by = now, ctx.actor.user_id
        elif to == DRAFT:
            run.approved_at = run.approved_by = None
        _flush(s, f"Payroll for {period.label}")
        audit.record(s, ctx, action, entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "employees": run.employee_count})
        return _totals(run)


def submit_run(ctx: Context, month: str | PayPeriod) -> RunTotals:
    """Draft -> review: recompute once more and freeze the figures for the approver."""
    ctx.require("hr.payroll.manage")
    return _step(ctx, month, REVIEW, "hr.payroll_submitted")


def return_run(ctx: Context, month: str | PayPeriod) -> RunTotals:
    """Review or approved -> draft, to change something."""
    ctx.require("hr.payroll.manage")
    return _step(ctx, month, DRAFT, "hr.payroll_returned")


def approve_run(ctx: Context, month: str | PayPeriod, version: int | None = None) -> RunTotals:
    """Review -> approved."""
    ctx.require("hr.payroll.post")
    return _step(ctx, month, APPROVED, "hr.payroll_approved", version)


def post_run(ctx: Context, month: str | PayPeriod) -> RunTotals:
    """Approved -> posted: number, payslips, and one balanced journal entry."""
    ctx.require("hr.payroll.post")
    period = _period(month)
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        _move(run, POSTED)
        company = company_settings(s)
        entries = s.scalars(select(PayrollEntry).where(
            PayrollEntry.run_id == run.id, PayrollEntry.deleted_at.is_(None))).all()
        if not entries or run.net_minor + run.deductions_minor == 0:
            raise ValidationError(f"There is nothing to post for {period.label}.",
                                  field="status")
        run.number = next_number(s, RUN_DOC_TYPE, RUN_PREFIX, ctx.device.code, period.end,
                                 company.fiscal_year_start_month)
        comps = _components(s)
        depts = {d.id: d.name for d in s.scalars(select(Department))}
        titles = {t.id: t.name for t in s.scalars(select(JobTitle))}
        debit: dict[str, int] = defaultdict(int)
        credit: dict[str, int] = defaultdict(int)
        for entry in entries:
            emp = s.get(Employee, entry.employee_id)
            assert emp is not None
            slip = Payslip(
                run_id=run.id, employee_id=emp.id, period=run.period, employee_code=emp.code,
                employee_name=emp.full_name,
                department=depts.get(emp.department_id) if emp.department_id else None,
                designation=titles.get(emp.job_title_id) if emp.job_title_id else None,
                tax_id_masked=mask_tail(emp.tax_id),
                bank_account_masked=mask_tail(emp.bank_account_number),
                days_in_month=entry.days_in_month, lop_days=entry.lop_days,
                days_paid=entry.days_paid, currency=run.currency,
                gross_minor=entry.gross_minor, deductions_minor=entry.deductions_minor,
                net_minor=entry.net_minor, reimbursements_minor=entry.reimbursements_minor)
            s.add(slip)
            s.flush()
            for no, line in enumerate(_lines_of(entry), start=1):
                s.add(PayslipLine(payslip_id=slip.id, line_no=no, code=line.code,
                                  name=line.name, kind=line.kind,
                                  amount_minor=line.amount.minor, currency=run.currency,
                                  taxable=line.taxable, reimbursement=line.reimbursement))
                comp = comps.get(line.code)
                if line.reimbursement:
                    debit[CLAIMS_ACCOUNT] += line.amount.minor
                elif line.kind == Kind.EARNING:
                    debit[(comp.account_key if comp else None) or SALARIES_ACCOUNT] += \
                        line.amount.minor
                else:
                    credit[(comp.account_key if comp else None) or DEDUCTIONS_ACCOUNT] += \
                        line.amount.minor
            credit[NET_PAY_ACCOUNT] += entry.net_minor
        lines = [ledger.LineInput(_posting_account(s, ref).id,
                                  debit=_money(amount, run.currency))
                 for ref, amount in sorted(debit.items()) if amount]
        lines += [ledger.LineInput(_posting_account(s, ref).id,
                                   credit=_money(amount, run.currency))
                  for ref, amount in sorted(credit.items(),
                                            key=lambda kv: (kv[0] != NET_PAY_ACCOUNT, kv[0]))
                  if amount]
        entry_result = ledger.post_in_session(
            s, ctx, period.end, lines, f"Payroll for {period.label}", number=run.number,
            source_type=RUN_SOURCE, source_id=run.id)
        run.journal_entry_id = entry_result.id
        run.posted_at, run.posted_by = ctx.now(), ctx.actor.user_id
        for claim in s.scalars(select(ExpenseClaim).where(
                ExpenseClaim.payroll_run_id == run.id, ExpenseClaim.deleted_at.is_(None),
                ExpenseClaim.status == CLAIM_IN_PAYROLL)):
            claim.status = CLAIM_PAID_IN_PAYROLL
            claim.settled_at = ctx.now()
        _flush(s, f"Payroll for {period.label}")
        audit.record(s, ctx, "hr.payroll_posted", entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "number": run.number,
                              "employees": len(entries), "journal_entry": entry_result.number})
        return _totals(run)


def mark_run_paid(ctx: Context, month: str | PayPeriod, paid_on: date | None = None,
                  from_account: str = "bank") -> RunTotals:
    """Posted -> paid: net pay leaves the bank (or cash): Dr salaries payable, Cr bank."""
    ctx.require("hr.payroll.post")
    period = _period(month)
    if from_account not in PAYMENT_ACCOUNTS:
        raise ValidationError("Salaries are paid from the bank or from cash.",
                              field="from_account")
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        _move(run, PAID)
        day = paid_on or run.pay_date
        if isinstance(day, datetime) or not isinstance(day, date):
            raise ValidationError("The payment date must be a date.", field="paid_on")
        if day < period.end:
            raise ValidationError(f"Salaries for {period.label} are paid on its last day or "
                                  f"later; choose {period.end.isoformat()} or a later date.",
                                  field="paid_on")
        result = ledger.post_in_session(
            s, ctx, day,
            [ledger.LineInput(_posting_account(s, NET_PAY_ACCOUNT).id,
                              debit=_money(run.net_minor, run.currency)),
             ledger.LineInput(_posting_account(s, from_account).id,
                              credit=_money(run.net_minor, run.currency))],
            f"Salaries paid for {period.label} ({run.number})", source_type=PAYMENT_SOURCE,
            source_id=run.id)
        run.payment_entry_id = result.id
        run.paid_on, run.paid_at, run.paid_by = day, ctx.now(), ctx.actor.user_id
        _flush(s, f"Payroll for {period.label}")
        audit.record(s, ctx, "hr.payroll_paid", entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "number": run.number,
                              "journal_entry": result.number, "from": from_account})
        return _totals(run)


def reverse_run(ctx: Context, month: str | PayPeriod, reason: str,
                on: date | None = None) -> RunTotals:
    """Cancel a posted, unpaid run: its entry is reversed and the month can be run again.

    The payslips stay on file (marked as belonging to a reversed run); claims
    it reimbursed go back to waiting for payroll. A paid run is corrected in
    a later month instead.
    """
    ctx.require("hr.payroll.post")
    period = _period(month)
    if not (reason or "").strip():
        raise ValidationError("Say why the payroll is reversed.", field="reason")
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        if run.status == PAID:
            raise ValidationError(f"Payroll for {period.label} is already paid; correct it with "
                                  "one-off lines in a later month's run.", field="status")
        _move(run, REVERSED)
        assert run.journal_entry_id is not None
        result = ledger.reverse_in_session(s, ctx, run.journal_entry_id, on or period.end,
                                           f"Reversal of payroll {run.number}: {reason.strip()}")
        for claim in s.scalars(select(ExpenseClaim).where(
                ExpenseClaim.payroll_run_id == run.id, ExpenseClaim.deleted_at.is_(None))):
            claim.status, claim.payroll_run_id, claim.settled_at = CLAIM_IN_PAYROLL, None, None
        _flush(s, f"Payroll for {period.label}")
        audit.record(s, ctx, "hr.payroll_reversed", entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "number": run.number,
                              "journal_entry": result.number})
        return _totals(run)


# --------------------------------------------------------------------------- runs: reading


def _may_see_totals(ctx: Context) -> bool:
    """True for payroll staff (any run); False for totals-only readers (posted runs)."""
    if ctx.actor.can("hr.payroll.view"):
        return True
    ctx.require("hr.payroll.totals")
    return False


def list_runs(ctx: Context) -> list[RunTotals]:
    """Every month's run, newest first; totals-only readers see posted runs only."""
    everything = _may_see_totals(ctx)
    with ctx.db.read() as s:
        runs = s.scalars(select(PayrollRun).where(PayrollRun.deleted_at.is_(None))
                         .order_by(PayrollRun.period.desc(), PayrollRun.created_at.desc())).all()
        return [_totals(r) for r in runs if everything or r.status in (POSTED, PAID)]


def run_totals(ctx: Context, month: str | PayPeriod) -> RunTotals:
    """A month's totals (no personal details); before posting for payroll staff only."""
    everything = _may_see_totals(ctx)
    period = _period(month)
    with ctx.db.read() as s:
        run = _run_for(s, period)
        if run is None or (not everything and run.status not in (POSTED, PAID)):
            raise NotFound(f"There is no posted payroll for {period.label}.", field="month")
        return _totals(run)


def _entry_rows(s: Session, run: PayrollRun) -> tuple[RunEntryRow, ...]:
    entries = s.scalars(select(PayrollEntry).where(PayrollEntry.run_id == run.id,
                                                   PayrollEntry.deleted_at.is_(None))).all()
    emps = {e.id: e for e in s.scalars(select(Employee).where(
        Employee.id.in_([x.employee_id for x in entries])))}
    depts = {d.id: d.name for d in s.scalars(select(Department))}
    titles = {t.id: t.name for t in s.scalars(select(JobTitle))}
    comps = {c.id: c for c in s.scalars(select(SalaryComponent))}
    adjustments: dict[uuid.UUID, list[AdjustmentRow]] = defaultdict(list)
    for adj in s.scalars(select(PayrollAdjustment).where(
            PayrollAdjustment.run_id == run.id, PayrollAdjustment.deleted_at.is_(None))):
        c = comps[adj.component_id]
        adjustments[adj.employee_id].append(AdjustmentRow(adj.id, c.code, c.name, c.kind,
                                                          adj.amount, adj.note))
    rows = []
    for entry in entries:
        emp = emps[entry.employee_id]
        cur = entry.currency
        rows.append(RunEntryRow(
            employee_id=emp.id, employee_code=emp.code, employee_name=emp.full_name,
            department=depts.get(emp.department_id) if emp.department_id else None,
            designation=titles.get(emp.job_title_id) if emp.job_title_id else None,
            days_in_month=entry.days_in_month, days_employed=entry.days_employed,
            lop_days=entry.lop_days, days_paid=entry.days_paid,
            gross=_money(entry.gross_minor, cur), deductions=_money(entry.deductions_minor, cur),
            net=_money(entry.net_minor, cur),
            reimbursements=_money(entry.reimbursements_minor, cur), lines=_lines_of(entry),
            adjustments=tuple(adjustments.get(emp.id, ()))))
    rows.sort(key=lambda r: r.employee_code)
    return tuple(rows)


def get_run(ctx: Context, month: str | PayPeriod) -> RunDetail:
    """A month's run with every employee's pay (payroll staff only). Audited."""
    ctx.require("hr.payroll.view")
    period = _period(month)
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        rows = _entry_rows(s, run)
        audit.record(s, ctx, "hr.salary_viewed", entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "employees": len(rows)})
        return RunDetail(_totals(run), rows)


# --------------------------------------------------------------------------- payslips


def list_payslips(ctx: Context, month: str | PayPeriod | None = None,
                  employee_id: uuid.UUID | None = None) -> list[PayslipRow]:
    """Payslips (no amounts): payroll staff see all, an employee their own."""
    if ctx.actor.can("hr.payroll.view"):
        own = None
    else:
        ctx.require("hr.claims.own")
        with ctx.db.read() as s:
            me = employee_of_user(s, ctx.actor.user_id)
        if me is None:
            return []
        if employee_id is not None and employee_id != me.id:
            ctx.require("hr.payroll.view")  # audits the denial and raises
        own = me.id
    with ctx.db.read() as s:
        q = (select(Payslip, PayrollRun.number, PayrollRun.status)
             .join(PayrollRun, PayrollRun.id == Payslip.run_id)
             .order_by(Payslip.period.desc(), Payslip.employee_code))
        if month is not None:
            q = q.where(Payslip.period == _period(month).key)
        if employee_id is not None:
            q = q.where(Payslip.employee_id == employee_id)
        if own is not None:
            q = q.where(Payslip.employee_id == own)
        return [PayslipRow(p.id, p.period, PayPeriod.parse(p.period).label, number, status,
                           p.employee_id, p.employee_code, p.employee_name)
                for p, number, status in s.execute(q).all()]


def _payslip_view(s: Session, slip: Payslip) -> PayslipView:
    run = s.get(PayrollRun, slip.run_id)
    assert run is not None
    company = s.scalars(select(Company)).one()
    period = PayPeriod.parse(slip.period)
    fy_start = fiscal_year_start(period.start, company.fiscal_year_start_month)
    fy_first = PayPeriod.of(fy_start).key
    cur = slip.currency
    # Year to date: this employee's payslips of live runs from the fiscal year's start.
    ytd_slips = s.execute(
        select(Payslip.id, Payslip.gross_minor, Payslip.deductions_minor, Payslip.net_minor)
        .join(PayrollRun, PayrollRun.id == Payslip.run_id)
        .where(Payslip.employee_id == slip.employee_id, Payslip.period >= fy_first,
               Payslip.period <= slip.period, PayrollRun.status.in_([POSTED, PAID]))).all()
    ids = [r.id for r in ytd_slips]
    if slip.id not in ids:  # a reversed run's payslip shows its own month as the year so far
        ids.append(slip.id)
        ytd_slips.append((slip.id, slip.gross_minor, slip.deductions_minor, slip.net_minor))
    ytd_by_code: dict[tuple[str, str], int] = defaultdict(int)
    for code, kind, amount in s.execute(
            select(PayslipLine.code, PayslipLine.kind, PayslipLine.amount_minor)
            .where(PayslipLine.payslip_id.in_(ids))):
        ytd_by_code[(code, kind)] += amount
    lines = s.scalars(select(PayslipLine).where(PayslipLine.payslip_id == slip.id)
                      .order_by(PayslipLine.line_no)).all()
    this_month = {(ln.code, ln.kind) for ln in lines}
    views: list[PayslipLineView] = [
        PayslipLineView(ln.code, ln.name, ln.kind, _money(ln.amount_minor, cur),
                        _money(ytd_by_code[(ln.code, ln.kind)], cur), ln.reimbursement)
        for ln in lines]
    # Components paid earlier this year but not this month still show their total so far.
    names = {(ln.code, ln.kind): (ln.name, ln.reimbursement) for ln in s.scalars(
        select(PayslipLine).where(PayslipLine.payslip_id.in_(ids)))}
    for key, total in sorted(ytd_by_code.items()):
        if key not in this_month and total:
            name, reimb = names[key]
            views.append(PayslipLineView(key[0], name, key[1], Money.zero(cur),
                                         _money(total, cur), reimb))
    return PayslipView(
        id=slip.id, run_number=run.number, run_status=run.status, period=slip.period,
        period_label=period.label, pay_date=run.pay_date, employee_id=slip.employee_id,
        employee_code=slip.employee_code, employee_name=slip.employee_name,
        department=slip.department, designation=slip.designation,
        tax_id_masked=slip.tax_id_masked, bank_account_masked=slip.bank_account_masked,
        days_in_month=slip.days_in_month, lop_days=slip.lop_days, days_paid=slip.days_paid,
        earnings=tuple(v for v in views if v.kind == Kind.EARNING),
        deductions=tuple(v for v in views if v.kind == Kind.DEDUCTION),
        gross=_money(slip.gross_minor, cur), total_deductions=_money(slip.deductions_minor, cur),
        net=_money(slip.net_minor, cur),
        ytd_gross=_money(sum(r[1] for r in ytd_slips), cur),
        ytd_deductions=_money(sum(r[2] for r in ytd_slips), cur),
        ytd_net=_money(sum(r[3] for r in ytd_slips), cur), fiscal_year_start=fy_start)


def _load_payslip(s: Session, payslip_id: uuid.UUID) -> Payslip:
    slip = s.get(Payslip, payslip_id) if isinstance(payslip_id, uuid.UUID) else None
    if slip is None:
        raise NotFound("That payslip does not exist.")
    return slip


def _payslip_owner(ctx: Context, payslip_id: uuid.UUID) -> None:
    with ctx.db.read() as s:
        owner = _load_payslip(s, payslip_id).employee_id
    require_self_or(ctx, "hr.payroll.view", owner)


def get_payslip(ctx: Context, payslip_id: uuid.UUID) -> PayslipView:
    """One payslip with year-to-date totals: payroll staff, or its employee. Audited."""
    _payslip_owner(ctx, payslip_id)
    with ctx.db.write(ctx.actor.user_id) as s:
        slip = _load_payslip(s, payslip_id)
        audit.record(s, ctx, "hr.payslip_viewed", entity="hr_payslip", entity_id=slip.id,
                     details={"period": slip.period, "as": "view"})
        return _payslip_view(s, slip)


def company_header(company: Company) -> CompanyHeader:
    """The company block printed at the top of documents."""
    place = ", ".join(x for x in (company.city, company.state, company.postal_code) if x)
    tax = []
    if company.gstin:
        tax.append(f"GSTIN {company.gstin}")
    if company.vat_id:
        tax.append(f"VAT {company.vat_id}")
    return CompanyHeader(
        legal_name=company.legal_name, trade_name=company.trade_name,
        address_lines=tuple(x for x in (company.address, place) if x),
        tax_line="  ·  ".join(tax) or None, phone=company.phone, email=company.email,
        logo_png=bytes(company.logo_png) if company.logo_png else None)


def _payslip_doc(s: Session, view: PayslipView) -> PayslipDoc:
    company = s.scalars(select(Company)).one()

    def doc_lines(lines: tuple[PayslipLineView, ...]) -> tuple[PayslipLineDoc, ...]:
        return tuple(PayslipLineDoc(v.name, v.amount.amount, v.ytd.amount) for v in lines)

    return PayslipDoc(
        company=company_header(company), currency=view.net.currency, locale=company.locale,
        period_label=view.period_label, pay_date=view.pay_date, run_number=view.run_number,
        employee_name=view.employee_name, employee_code=view.employee_code,
        department=view.department, designation=view.designation,
        tax_id_masked=view.tax_id_masked, bank_account_masked=view.bank_account_masked,
        days_in_month=view.days_in_month, days_paid=view.days_paid, lop_days=view.lop_days,
        earnings=doc_lines(view.earnings), deductions=doc_lines(view.deductions),
        gross=view.gross.amount, total_deductions=view.total_deductions.amount,
        net=view.net.amount, ytd_gross=view.ytd_gross.amount,
        ytd_deductions=view.ytd_deductions.amount, ytd_net=view.ytd_net.amount,
        cancelled=view.run_status == REVERSED)


def payslip_pdf(ctx: Context, payslip_id: uuid.UUID) -> bytes:
    """The payslip as a PDF: payroll staff, or its employee. Audited."""
    _payslip_owner(ctx, payslip_id)
    with ctx.db.write(ctx.actor.user_id) as s:
        slip = _load_payslip(s, payslip_id)
        audit.record(s, ctx, "hr.payslip_viewed", entity="hr_payslip", entity_id=slip.id,
                     details={"period": slip.period, "as": "pdf"})
        doc = _payslip_doc(s, _payslip_view(s, slip))
    return render_payslip(doc)


def payslip_file_name(row: PayslipRow | PayslipView) -> str:
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in row.employee_code)
    return f"payslip-{row.period}-{safe}.pdf"


def write_payslips(ctx: Context, month: str | PayPeriod, directory: Path) -> list[Path]:
    """Every payslip of a posted month as PDFs in `directory` (payroll staff). Audited."""
    ctx.require("hr.payroll.view")
    period = _period(month)
    directory = Path(directory)
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        if run.status not in (POSTED, PAID):
            raise ValidationError(f"Payroll for {period.label} is {STATUS_LABELS[run.status]}; "
                                  "payslips exist once it is posted.", field="month")
        slips = s.scalars(select(Payslip).where(Payslip.run_id == run.id)
                          .order_by(Payslip.employee_code)).all()
        docs = []
        for slip in slips:
            view = _payslip_view(s, slip)
            docs.append((payslip_file_name(view), _payslip_doc(s, view)))
            audit.record(s, ctx, "hr.payslip_viewed", entity="hr_payslip", entity_id=slip.id,
                         details={"period": slip.period, "as": "pdf"})
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, doc in docs:
            target = directory / name
            target.write_bytes(render_payslip(doc))
            written.append(target)
    except OSError as exc:
        raise ValidationError(f"Could not write the payslips to {directory}: "
                              f"{exc.strerror or exc}.", field="directory") from None
    return written


# --------------------------------------------------------------------------- exports


def payroll_register(ctx: Context, month: str | PayPeriod, *, audit_as: str = "view"
                     ) -> RegisterReport:
    """Every employee's pay for the month, one column per component (payroll staff)."""
    ctx.require("hr.payroll.view")
    period = _period(month)
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        rows = _entry_rows(s, run)
        comps = _components(s)
        seen: dict[tuple[str, str], str] = {}
        for row in rows:
            for ln in row.lines:
                seen.setdefault((ln.kind, ln.code), ln.name)

        def order(key: tuple[str, str]) -> tuple[int, str]:
            comp = comps.get(key[1])
            return (comp.sequence if comp else 1000, key[1])

        earning = tuple((k[1], seen[k]) for k in sorted(seen, key=order) if k[0] == Kind.EARNING)
        deduction = tuple((k[1], seen[k]) for k in sorted(seen, key=order)
                          if k[0] == Kind.DEDUCTION)
        audit.record(s, ctx, "hr.payroll_exported" if audit_as != "view" else "hr.salary_viewed",
                     entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "employees": len(rows),
                              "report": "register", "format": audit_as})
        return RegisterReport(period.key, run.status, run.number, earning, deduction, rows,
                              _totals(run))


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _text_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A name typed as "=HYPERLINK(...)" must not run as a formula in a spreadsheet.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _days(value: Decimal) -> Decimal | int:
    """30 rather than 30.000; half days keep one place (1.5)."""
    return int(value) if value == value.to_integral_value() else value.quantize(Decimal("0.1"))


def _register_table(report: RegisterReport) -> tuple[list[str], list[list[object]]]:
    header = ["Employee code", "Name", "Department", "Designation", "Days in month",
              "Unpaid leave days", "Days paid"]
    header += [name for _, name in report.earning_columns] + ["Gross"]
    header += [name for _, name in report.deduction_columns] + ["Total deductions", "Net pay"]
    table: list[list[object]] = []
    for row in report.rows:
        by_code = {(ln.kind, ln.code): ln.amount.amount for ln in row.lines}
        zero = Money.zero(row.gross.currency).amount
        cells: list[object] = [row.employee_code, row.employee_name, row.department,
                               row.designation, row.days_in_month, _days(row.lop_days),
                               _days(row.days_paid)]
        cells += [by_code.get((Kind.EARNING.value, code), zero)
                  for code, _ in report.earning_columns]
        cells.append(row.gross.amount)
        cells += [by_code.get((Kind.DEDUCTION.value, code), zero)
                  for code, _ in report.deduction_columns]
        cells += [row.deductions.amount, row.net.amount]
        table.append(cells)
    return header, table


def register_csv(ctx: Context, month: str | PayPeriod) -> str:
    report = payroll_register(ctx, month, audit_as="csv")
    header, table = _register_table(report)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for cells in table:
        writer.writerow([str(c) if isinstance(c, (Decimal, int)) else _text_cell(c)
                         for c in cells])
    return out.getvalue()


def register_xlsx(ctx: Context, month: str | PayPeriod) -> bytes:
    """The register as a spreadsheet: amounts are numbers, not text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    report = payroll_register(ctx, month, audit_as="xlsx")
    header, table = _register_table(report)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = f"Payroll {report.period}"
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    first_amount = 8  # columns after code, name, department, designation and the days
    for cells in table:
        ws.append([c if isinstance(c, (Decimal, int)) else _text_cell(c) for c in cells])
    total_row = ["Total", "", "", "", "", "", ""] + [
        sum((r[i] for r in table), Decimal(0)) for i in range(first_amount - 1, len(header))]
    ws.append(total_row)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in ws.iter_rows(min_row=2, min_col=first_amount, max_col=len(header)):
        for cell in row:
            cell.number_format = "#,##0.00"
    ws.freeze_panes = "C2"
    for col, width in zip("ABCD", (14, 28, 18, 22), strict=True):
        ws.column_dimensions[col].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def bank_transfer_list(ctx: Context, month: str | PayPeriod) -> BankTransferList:
    """Net pay per bank account for a posted month (payroll staff). Audited as an export."""
    ctx.require("hr.payroll.view")
    period = _period(month)
    with ctx.db.write(ctx.actor.user_id) as s:
        run = _need_run(s, period)
        if run.status not in (POSTED, PAID):
            raise ValidationError(f"Payroll for {period.label} is {STATUS_LABELS[run.status]}; "
                                  "post it before making the bank transfer list.",
                                  field="month")
        slips = s.scalars(select(Payslip).where(Payslip.run_id == run.id)
                          .order_by(Payslip.employee_code)).all()
        rows, missing = [], []
        total = 0
        for slip in slips:
            if slip.net_minor == 0:
                continue
            emp = s.get(Employee, slip.employee_id)
            assert emp is not None
            if not emp.bank_account_number:
                missing.append(emp.code)
                continue
            total += slip.net_minor
            rows.append(BankTransferRow(
                employee_code=emp.code, beneficiary=emp.bank_account_name or emp.full_name,
                account_number=emp.bank_account_number, ifsc=emp.bank_ifsc,
                bank_name=emp.bank_name, amount=_money(slip.net_minor, slip.currency),
                narration=f"Salary {period.label}"))
        audit.record(s, ctx, "hr.payroll_exported", entity="hr_payroll_run", entity_id=run.id,
                     details={"period": period.key, "report": "bank_list", "rows": len(rows),
                              "without_account": len(missing)})
        return BankTransferList(period.key, run.number, tuple(rows),
                                _money(total, run.currency), tuple(missing))


def bank_list_csv(bank_list: BankTransferList) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Employee code", "Beneficiary name", "Account number", "IFSC", "Bank",
                     "Amount", "Narration"])
    for r in bank_list.rows:
        writer.writerow([_text_cell(r.employee_code), _text_cell(r.beneficiary),
                         _text_cell(r.account_number), _text_cell(r.ifsc),
                         _text_cell(r.bank_name), str(r.amount.amount), _text_cell(r.narration)])
    return out.getvalue()


def write_export(path: Path, data: str | bytes) -> Path:
    """Write an export file; a refusal by the disk is a plain message."""
    path = Path(path)
    try:
        if path.parent and not path.parent.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8-sig" if path.suffix.lower() == ".csv"
                            else "utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        raise ValidationError(f"Could not write {path}: {exc.strerror or exc}.",
                              field="output") from None
    return path

