"""Expense claims: an employee's out-of-pocket expenses, approved and paid back.

    draft -submit-> submitted -approve-> approved -reimburse-> reimbursed
      ^                  |                   |
      +---reopen--- rejected             to payroll -> in_payroll -(run posted)-> paid_in_payroll

- The employee (`hr.claims.own`, login linked to their record) files a claim
  with lines (date, category, amount, description) and receipts (PDF or
  image, checked by their first bytes, at most 10 MB each), and submits it.
- Their manager approves or rejects it with a comment: a line manager for
  their direct reports, or anyone with `hr.claims.approve` (HR) for any claim.
  Nobody decides their own claim.
- The accountant (`hr.claims.reimburse`) pays it back: from the bank or cash
  (Dr the categories' expense accounts, Cr bank/cash), or sends it to the next
  payroll (Dr expense accounts, Cr expense claims payable; the run then pays
  it as a non-taxable reimbursement and clears claims payable).

Every step is audited with the claim's id and number, never amounts or names;
an illegal step is refused with the claim's current state in the message.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.domain.money import Money, parse_decimal, to_minor
from erp_desktop.models.hr import Employee, ExpenseClaim, ExpenseClaimLine, PayrollRun
from erp_desktop.models.ledger import Account
from erp_desktop.models.security import User
from erp_desktop.services import audit, ledger
from erp_desktop.services.context import Context
from erp_desktop.services.hr import (
    OWNER_CLAIM,
    AttachmentFile,
    AttachmentRow,
    attachment_rows,
    company_settings,
    employee_of_user,
    load_attachment,
    load_employee,
    store_attachment,
)
from erp_desktop.services.numbering import next_number
from erp_desktop.services.payroll import CLAIM_IN_PAYROLL, CLAIM_PAID_IN_PAYROLL, CLAIMS_ACCOUNT

DRAFT, SUBMITTED, APPROVED, REJECTED, REIMBURSED = (
    "draft", "submitted", "approved", "rejected", "reimbursed")
IN_PAYROLL, PAID_IN_PAYROLL = CLAIM_IN_PAYROLL, CLAIM_PAID_IN_PAYROLL
STATUS_LABELS = {DRAFT: "a draft", SUBMITTED: "waiting for approval", APPROVED: "approved",
                 REJECTED: "rejected", REIMBURSED: "reimbursed",
                 IN_PAYROLL: "waiting for the next payroll",
                 PAID_IN_PAYROLL: "paid with the salary"}
# The one place that says which step may follow which (the payroll run moves the last one).
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({SUBMITTED}),
    SUBMITTED: frozenset({APPROVED, REJECTED}),
    REJECTED: frozenset({DRAFT}),
    APPROVED: frozenset({REIMBURSED, IN_PAYROLL}),
    IN_PAYROLL: frozenset({PAID_IN_PAYROLL}),
    REIMBURSED: frozenset(),
    PAID_IN_PAYROLL: frozenset(),
}
_ACTIONS = {DRAFT: "reopened", SUBMITTED: "submitted", APPROVED: "approved",
            REJECTED: "rejected", REIMBURSED: "reimbursed", IN_PAYROLL: "sent to payroll",
            PAID_IN_PAYROLL: "paid with the salary"}

# Category -> (label, expense account system key).
CATEGORIES: dict[str, tuple[str, str]] = {
    "travel": ("Travel and conveyance", "travel"),
    "fuel": ("Fuel", "travel"),
    "meals": ("Meals and refreshments", "other_expenses"),
    "lodging": ("Hotel and lodging", "travel"),
    "office": ("Office supplies", "office"),
    "phone": ("Phone and internet", "utilities"),
    "other": ("Other", "other_expenses"),
}
PAID_FROM = ("bank", "cash")
CLAIM_DOC_TYPE = "expense_claim"
CLAIM_PREFIX = "EXP"
CLAIM_SOURCE = "expense_claim"
MAX_LINES = 100


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ClaimLineInput:
    expense_date: date
    category: str
    amount: object  # Decimal, or text such as "640.00"; never a float
    description: str | None = None


@dataclass(frozen=True)
class ClaimLineRow:
    line_no: int
    expense_date: date
    category: str
    category_label: str
    amount: Money
    description: str | None


@dataclass(frozen=True)
class ClaimRow:
    id: uuid.UUID
    number: str | None
    employee_id: uuid.UUID
    employee_code: str
    employee_name: str
    title: str
    status: str
    total: Money
    submitted_at: datetime | None
    decided_at: datetime | None


@dataclass(frozen=True)
class ClaimDetail:
    id: uuid.UUID
    number: str | None
    employee_id: uuid.UUID
    employee_code: str
    employee_name: str
    title: str
    status: str
    status_label: str
    total: Money
    lines: tuple[ClaimLineRow, ...]
    receipts: tuple[AttachmentRow, ...]
    submitted_at: datetime | None
    decided_by: str | None  # the decider's login name
    decided_at: datetime | None
    decision_comment: str | None
    settled_via: str | None
    settled_at: datetime | None
    journal_entry_id: uuid.UUID | None
    payroll_period: str | None
    version: int


# --------------------------------------------------------------------------- helpers


def _load(s: Session, claim_id: uuid.UUID) -> ExpenseClaim:
    claim = s.get(ExpenseClaim, claim_id) if isinstance(claim_id, uuid.UUID) else None
    if claim is None or claim.deleted_at is not None:
        raise NotFound("That expense claim does not exist.")
    return claim


def _name(claim: ExpenseClaim) -> str:
    return claim.number or f"'{claim.title}'"


def _move(claim: ExpenseClaim, to: str) -> None:
    if to not in TRANSITIONS[claim.status]:
        raise ValidationError(f"Claim {_name(claim)} is {STATUS_LABELS[claim.status]}; it cannot "
                              f"be {_ACTIONS[to]}.", field="status")
    claim.status = to


def _flush(s: Session, claim: ExpenseClaim) -> None:
    try:
        s.flush()
    except StaleDataError:
        raise Conflict(f"Claim {_name(claim)} was changed by someone else at the same time. "
                       "Reload and try again.") from None


def _check_version(claim: ExpenseClaim, version: int | None) -> None:
    if version is not None and claim.version != version:
        raise Conflict(f"Claim {_name(claim)} was changed by someone else since you opened it. "
                       "Reload and try again.")


def _row(claim: ExpenseClaim, emp: Employee) -> ClaimRow:
    return ClaimRow(claim.id, claim.number, emp.id, emp.code, emp.full_name, claim.title,
                    claim.status, claim.total, claim.submitted_at, claim.decided_at)


def _detail(s: Session, claim: ExpenseClaim) -> ClaimDetail:
    emp = s.get(Employee, claim.employee_id)
    assert emp is not None
    lines = s.scalars(select(ExpenseClaimLine).where(
        ExpenseClaimLine.claim_id == claim.id, ExpenseClaimLine.deleted_at.is_(None))
        .order_by(ExpenseClaimLine.line_no)).all()
    decider = s.scalar(select(User.login_name).where(User.id == claim.decided_by)) \
        if claim.decided_by else None
    period = s.scalar(select(PayrollRun.period).where(PayrollRun.id == claim.payroll_run_id)) \
        if claim.payroll_run_id else None
    return ClaimDetail(
        id=claim.id, number=claim.number, employee_id=emp.id, employee_code=emp.code,
        employee_name=emp.full_name, title=claim.title, status=claim.status,
        status_label=STATUS_LABELS[claim.status], total=claim.total,
        lines=tuple(ClaimLineRow(ln.line_no, ln.expense_date, ln.category,
                                 CATEGORIES.get(ln.category, (ln.category, ""))[0], ln.amount,
                                 ln.description) for ln in lines),
        receipts=attachment_rows(s, OWNER_CLAIM, claim.id), submitted_at=claim.submitted_at,
        decided_by=decider, decided_at=claim.decided_at,
        decision_comment=claim.decision_comment, settled_via=claim.settled_via,
        settled_at=claim.settled_at, journal_entry_id=claim.journal_entry_id,
        payroll_period=period, version=claim.version)


def _me(ctx: Context, s: Session) -> Employee:
    me = employee_of_user(s, ctx.actor.user_id)
    if me is None:
        raise ValidationError("Your login is not linked to an employee record, so you cannot "
                              "file expense claims yet. Ask HR to link it.")
    return me


def _own_claim(ctx: Context, s: Session, claim_id: uuid.UUID) -> ExpenseClaim:
    """A claim of the logged-in employee (refusing anybody else's as not found)."""
    me = _me(ctx, s)
    claim = _load(s, claim_id)
    if claim.employee_id != me.id:
        raise NotFound("That expense claim does not exist.")
    return claim


def _clean_title(title: str) -> str:
    text = (title or "").strip()
    if not text:
        raise ValidationError("Give the claim a title, e.g. 'Client visit to Mysuru'.",
                              field="title")
    if len(text) > 200:
        raise ValidationError("A claim title is at most 200 characters.", field="title")
    return text


def _clean_lines(lines: Sequence[ClaimLineInput], currency: str,
                 today: date) -> list[ExpenseClaimLine]:
    if not lines:
        raise ValidationError("A claim needs at least one expense line.", field="lines")
    if len(lines) > MAX_LINES:
        raise ValidationError(f"A claim holds at most {MAX_LINES} lines; split it.",
                              field="lines")
    rows = []
    for no, ln in enumerate(lines, start=1):
        if not isinstance(ln, ClaimLineInput):
            raise ValidationError(f"Line {no} is not an expense line.", field="lines")
        if isinstance(ln.expense_date, datetime) or not isinstance(ln.expense_date, date):
            raise ValidationError(f"Line {no}: the date must be a date.", field="lines")
        if ln.expense_date > today:
            raise ValidationError(f"Line {no}: the expense date is in the future.",
                                  field="lines")
        if ln.category not in CATEGORIES:
            raise ValidationError(f"Line {no}: the category is one of "
                                  f"{', '.join(CATEGORIES)}.", field="lines")
        try:
            amount = parse_decimal(ln.amount, "amount")
            minor = to_minor(amount, currency)
        except ValidationError as exc:
            raise ValidationError(f"Line {no}: {exc.message}", field="lines") from None
        if amount <= 0:
            raise ValidationError(f"Line {no}: the amount must be greater than zero.",
                                  field="lines")
        description = (ln.description or "").strip() or None
        if description is not None and len(description) > 500:
            raise ValidationError(f"Line {no}: the description is at most 500 characters.",
                                  field="lines")
        rows.append(ExpenseClaimLine(line_no=no, expense_date=ln.expense_date,
                                     category=ln.category, amount_minor=minor,
                                     currency=currency, description=description))
    return rows


def _replace_lines(ctx: Context, s: Session, claim: ExpenseClaim,
                   lines: list[ExpenseClaimLine]) -> None:
    for old in s.scalars(select(ExpenseClaimLine).where(
            ExpenseClaimLine.claim_id == claim.id, ExpenseClaimLine.deleted_at.is_(None))):
        old.deleted_at = ctx.now()
    for ln in lines:
        ln.claim_id = claim.id
        s.add(ln)
    claim.total_minor = sum(ln.amount_minor for ln in lines)


def _may_decide(ctx: Context, claim_id: uuid.UUID) -> None:
    """HR (`hr.claims.approve`) decides any claim; a line manager their reports'.

    A refusal is audited through `Context.require` before anything is changed.
    """
    if ctx.actor.can("hr.claims.approve"):
        return
    ctx.require("hr.claims.own")
    with ctx.db.read() as s:
        me = employee_of_user(s, ctx.actor.user_id)
        claim = _load(s, claim_id)
        emp = s.get(Employee, claim.employee_id)
        is_manager = me is not None and emp is not None and emp.manager_id == me.id
    if not is_manager:
        ctx.require("hr.claims.approve")  # audits the denial and raises


def _may_read(ctx: Context, s: Session, claim: ExpenseClaim) -> bool:
    if ctx.actor.can("hr.claims.approve") or ctx.actor.can("hr.claims.reimburse"):
        return True
    if not ctx.actor.can("hr.claims.own"):
        return False
    me = employee_of_user(s, ctx.actor.user_id)
    if me is None:
        return False
    if claim.employee_id == me.id:
        return True
    emp = s.get(Employee, claim.employee_id)
    return emp is not None and emp.manager_id == me.id and claim.status != DRAFT


def _require_reader(ctx: Context, claim_id: uuid.UUID) -> None:
    with ctx.db.read() as s:
        allowed = _may_read(ctx, s, _load(s, claim_id))
    if not allowed:
        ctx.require("hr.claims.approve")  # audits the denial and raises


# --------------------------------------------------------------------------- employee


def create_claim(ctx: Context, title: str, lines: Sequence[ClaimLineInput]) -> ClaimDetail:
    """A new draft claim of the logged-in employee."""
    ctx.require("hr.claims.own")
    title = _clean_title(title)
    with ctx.db.write(ctx.actor.user_id) as s:
        me = _me(ctx, s)
        currency = company_settings(s).base_currency
        rows = _clean_lines(lines, currency, ctx.today())
        claim = ExpenseClaim(employee_id=me.id, title=title, status=DRAFT, currency=currency)
        s.add(claim)
        s.flush()
        _replace_lines(ctx, s, claim, rows)
        _flush(s, claim)
        audit.record(s, ctx, "hr.claim_created", entity="hr_expense_claim", entity_id=claim.id,
                     details={"lines": len(rows)})
        return _detail(s, claim)


def update_claim(ctx: Context, claim_id: uuid.UUID, version: int, *, title: str | None = None,
                 lines: Sequence[ClaimLineInput] | None = None) -> ClaimDetail:
    """Change a draft claim's title or lines (optimistic locking on `version`)."""
    ctx.require("hr.claims.own")
    with ctx.db.write(ctx.actor.user_id) as s:
        claim = _own_claim(ctx, s, claim_id)
        _check_version(claim, version)
        if claim.status != DRAFT:
            raise ValidationError(f"Claim {_name(claim)} is {STATUS_LABELS[claim.status]}; only "
                                  "a draft can be changed.", field="status")
        if title is not None:
            claim.title = _clean_title(title)
        if lines is not None:
            _replace_lines(ctx, s, claim, _clean_lines(lines, claim.currency, ctx.today()))
        _flush(s, claim)
        audit.record(s, ctx, "hr.claim_updated", entity="hr_expense_claim", entity_id=claim.id)
        return _detail(s, claim)


def add_receipt(ctx: Context, claim_id: uuid.UUID, filename: str, data: bytes) -> AttachmentRow:
    """Attach a receipt (PDF or image, at most 10 MB) to one's own draft claim."""
    ctx.require("hr.claims.own")
    with ctx.db.write(ctx.actor.user_id) as s:
        claim = _own_claim(ctx, s, claim_id)
        if claim.status != DRAFT:
            raise ValidationError(f"Claim {_name(claim)} is {STATUS_LABELS[claim.status]}; "
                                  "receipts are added while it is a draft.", field="status")
        row = store_attachment(s, OWNER_CLAIM, claim.id, "receipt", filename, data)
        audit.record(s, ctx, "hr.claim_receipt_added", entity="hr_expense_claim",
                     entity_id=claim.id, details={"attachment_id": row.id,
                                                  "bytes": row.size_bytes})
        return AttachmentRow(row.id, row.kind, row.filename, row.content_type, row.size_bytes,
                             row.sha256, row.created_at)


def submit_claim(ctx: Context, claim_id: uuid.UUID, version: int | None = None) -> ClaimDetail:
    """Send one's own draft for approval; it gets its number (EXP/2026-27/A/000001)."""
    ctx.require("hr.claims.own")
    with ctx.db.write(ctx.actor.user_id) as s:
        claim = _own_claim(ctx, s, claim_id)
        _check_version(claim, version)
        _move(claim, SUBMITTED)
        if claim.total_minor <= 0:
            raise ValidationError("A claim needs at least one expense line.", field="lines")
        if claim.number is None:
            company = company_settings(s)
            claim.number = next_number(s, CLAIM_DOC_TYPE, CLAIM_PREFIX, ctx.device.code,
                                       ctx.today(), company.fiscal_year_start_month)
        claim.submitted_at = ctx.now()
        claim.decided_at = claim.decided_by = claim.decision_comment = None
        _flush(s, claim)
        audit.record(s, ctx, "hr.claim_submitted", entity="hr_expense_claim", entity_id=claim.id,
                     details={"number": claim.number})
        return _detail(s, claim)


def reopen_claim(ctx: Context, claim_id: uuid.UUID) -> ClaimDetail:
    """Take a rejected claim back to draft, to correct it and submit it again."""
    ctx.require("hr.claims.own")
    with ctx.db.write(ctx.actor.user_id) as s:
        claim = _own_claim(ctx, s, claim_id)
        _move(claim, DRAFT)
        _flush(s, claim)
        audit.record(s, ctx, "hr.claim_reopened", entity="hr_expense_claim", entity_id=claim.id,
                     details={"number": claim.number})
        return _detail(s, claim)


def list_my_claims(ctx: Context) -> list[ClaimRow]:
    ctx.require("hr.claims.own")
    with ctx.db.read() as s:
        me = employee_of_user(s, ctx.actor.user_id)
        if me is None:
            return []
        claims = s.scalars(select(ExpenseClaim).where(
            ExpenseClaim.employee_id == me.id, ExpenseClaim.deleted_at.is_(None))
            .order_by(ExpenseClaim.created_at.desc())).all()
        return [_row(c, me) for c in claims]


def get_claim(ctx: Context, claim_id: uuid.UUID) -> ClaimDetail:
    """A claim: its employee, their manager, HR, or the accountant."""
    _require_reader(ctx, claim_id)
    with ctx.db.read() as s:
        return _detail(s, _load(s, claim_id))


def get_receipt(ctx: Context, attachment_id: uuid.UUID) -> AttachmentFile:
    """A receipt's file, for whoever may read its claim. Every opening is audited."""
    with ctx.db.read() as s:
        row = load_attachment(s, attachment_id)
        owner_type, claim_id = row.owner_type, row.owner_id
    if owner_type != OWNER_CLAIM:
        raise NotFound("That receipt does not exist.")
    _require_reader(ctx, claim_id)
    with ctx.db.write(ctx.actor.user_id) as s:
        row = load_attachment(s, attachment_id)
        audit.record(s, ctx, "hr.claim_receipt_viewed", entity="hr_expense_claim",
                     entity_id=claim_id, details={"attachment_id": row.id})
        return AttachmentFile(row.filename, row.content_type, bytes(row.data or b""))


# --------------------------------------------------------------------------- approver


def claims_to_approve(ctx: Context) -> list[ClaimRow]:
    """Submitted claims this user may decide: HR all, a line manager their reports'."""
    everyone = ctx.actor.can("hr.claims.approve")
    if not everyone:
        ctx.require("hr.claims.own")
    with ctx.db.read() as s:
        me = employee_of_user(s, ctx.actor.user_id)
        q = (select(ExpenseClaim, Employee).join(Employee, Employee.id == ExpenseClaim.employee_id)
             .where(ExpenseClaim.status == SUBMITTED, ExpenseClaim.deleted_at.is_(None))
             .order_by(ExpenseClaim.submitted_at))
        if not everyone:
            if me is None:
                return []
            q = q.where(Employee.manager_id == me.id)
        rows = s.execute(q).all()
        return [_row(c, e) for c, e in rows if me is None or c.employee_id != me.id]


def _decide(ctx: Context, claim_id: uuid.UUID, to: str, comment: str | None,
            version: int | None) -> ClaimDetail:
    _may_decide(ctx, claim_id)
    with ctx.db.write(ctx.actor.user_id) as s:
        claim = _load(s, claim_id)
        _check_version(claim, version)
        me = employee_of_user(s, ctx.actor.user_id)
        if me is not None and claim.employee_id == me.id:
            raise ValidationError("Nobody decides their own expense claim; another approver "
                                  "must.", field="status")
        _move(claim, to)
        claim.decided_by, claim.decided_at = ctx.actor.user_id, ctx.now()
        claim.decision_comment = (comment or "").strip() or None
        _flush(s, claim)
        audit.record(s, ctx, f"hr.claim_{to}", entity="hr_expense_claim", entity_id=claim.id,
                     details={"number": claim.number,
                              "as": "hr" if ctx.actor.can("hr.claims.approve") else "manager"})
        return _detail(s, claim)


def approve_claim(ctx: Context, claim_id: uuid.UUID, comment: str | None = None,
                  version: int | None = None) -> ClaimDetail:
    return _decide(ctx, claim_id, APPROVED, comment, version)


def reject_claim(ctx: Context, claim_id: uuid.UUID, comment: str,
                 version: int | None = None) -> ClaimDetail:
    if not (comment or "").strip():
        raise ValidationError("Say why the claim is rejected, so the employee can correct it.",
                              field="comment")
    return _decide(ctx, claim_id, REJECTED, comment, version)


# --------------------------------------------------------------------------- accountant


def list_claims(ctx: Context, status: str | None = None) -> list[ClaimRow]:
    """Every claim (HR and the accountant), optionally in one state."""
    if not ctx.actor.can("hr.claims.approve"):
        ctx.require("hr.claims.reimburse")
    if status is not None and status not in TRANSITIONS:
        raise ValidationError(f"A claim's state is one of {', '.join(TRANSITIONS)}.",
                              field="status")
    with ctx.db.read() as s:
        q = (select(ExpenseClaim, Employee).join(Employee, Employee.id == ExpenseClaim.employee_id)
             .where(ExpenseClaim.deleted_at.is_(None))
             .order_by(ExpenseClaim.created_at.desc()))
        if status is not None:
            q = q.where(ExpenseClaim.status == status)
        else:
            q = q.where(ExpenseClaim.status != DRAFT)  # drafts are the employee's business
        return [_row(c, e) for c, e in s.execute(q).all()]


def _account(s: Session, key: str) -> Account:
    acc = s.scalars(select(Account).where(Account.system_key == key,
                                          Account.deleted_at.is_(None))).first()
    if acc is None:
        raise ValidationError(f"The account '{key}' is missing from the chart of accounts.",
                              field="account")
    return acc


def _expense_lines(s: Session, claim: ExpenseClaim) -> list[ledger.LineInput]:
    by_account: dict[str, int] = defaultdict(int)
    for ln in s.scalars(select(ExpenseClaimLine).where(
            ExpenseClaimLine.claim_id == claim.id, ExpenseClaimLine.deleted_at.is_(None))):
        by_account[CATEGORIES[ln.category][1]] += ln.amount_minor
    return [ledger.LineInput(_account(s, key).id,
                             debit=Money.from_minor(minor, claim.currency),
                             memo=f"Expense claim {claim.number}")
            for key, minor in sorted(by_account.items())]


def _settle(ctx: Context, claim_id: uuid.UUID, to: str, credit_key: str, on: date | None,
            version: int | None) -> ClaimDetail:
    with ctx.db.write(ctx.actor.user_id) as s:
        claim = _load(s, claim_id)
        _check_version(claim, version)
        _move(claim, to)
        emp = load_employee(s, claim.employee_id)
        day = on or ctx.today()
        if to == IN_PAYROLL and emp.termination_date is not None \
                and emp.termination_date < day:
            raise ValidationError(f"{emp.code} has left and is no longer on the payroll; "
                                  "reimburse the claim from the bank or cash instead.",
                                  field="status")
        lines = _expense_lines(s, claim)
        lines.append(ledger.LineInput(_account(s, credit_key).id, credit=claim.total,
                                      memo=f"Expense claim {claim.number}",
                                      party_type="employee", party_id=emp.id))
        memo = (f"Expense claim {claim.number} reimbursed" if to == REIMBURSED else
                f"Expense claim {claim.number}, to be paid with the salary")
        entry = ledger.post_in_session(s, ctx, day, lines, memo, source_type=CLAIM_SOURCE,
                                       source_id=claim.id)
        claim.journal_entry_id = entry.id
        claim.settled_by = ctx.actor.user_id
        claim.settled_via = credit_key if to == REIMBURSED else "payroll"
        if to == REIMBURSED:
            claim.settled_at = ctx.now()
        _flush(s, claim)
        audit.record(s, ctx, f"hr.claim_{to}", entity="hr_expense_claim", entity_id=claim.id,
                     details={"number": claim.number, "journal_entry": entry.number,
                              "via": claim.settled_via})
        return _detail(s, claim)


def reimburse_claim(ctx: Context, claim_id: uuid.UUID, paid_from: str = "bank",
                    on: date | None = None, version: int | None = None) -> ClaimDetail:
    """Pay an approved claim back now: Dr expense accounts, Cr bank or cash."""
    ctx.require("hr.claims.reimburse")
    if paid_from not in PAID_FROM:
        raise ValidationError("A claim is paid from the bank or from cash.", field="paid_from")
    return _settle(ctx, claim_id, REIMBURSED, paid_from, on, version)


def send_claim_to_payroll(ctx: Context, claim_id: uuid.UUID, on: date | None = None,
                          version: int | None = None) -> ClaimDetail:
    """Pay an approved claim with the next salary: Dr expense accounts, Cr claims payable."""
    ctx.require("hr.claims.reimburse")
    return _settle(ctx, claim_id, IN_PAYROLL, CLAIMS_ACCOUNT, on, version)
