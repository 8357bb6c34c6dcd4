"""Employees: departments, job titles, personal records, documents, the user link.

Who sees what (enforced here, tested in tests/services/hr/test_access.py):
- `hr.employees.view` (HR manager, admin): every employee's personal record;
  `hr.employees.manage`: add and change them, attach documents, link logins.
- Anyone with `hr.claims.own` whose login is linked to an employee record
  sees that one record (their own profile), and nobody else's.
- Everyone else (accountant, auditor, clerks, storekeeper) sees no personal
  record at all. Salaries are not part of these records: they live in
  `services.payroll`, behind `hr.payroll.view`.

Documents (contracts, id scans, receipts) are kept inside the encrypted
company file in `hr_attachment`, at most `MAX_ATTACHMENT_BYTES` each, PDF or
image as told by their first bytes (not by their name). The helpers
`store_attachment`, `employee_of_user` and `mask_tail` are shared with
`services.payroll` and `services.claims`. Audit details name fields and ids,
never values: no names, numbers or amounts.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePath, PureWindowsPath

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.models.company import Company
from erp_desktop.models.hr import Department, Employee, HrAttachment, JobTitle
from erp_desktop.models.security import User
from erp_desktop.services import audit
from erp_desktop.services.context import Context

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
EMPLOYEE_KINDS = ("contract", "id_scan", "certificate", "other")
OWNER_EMPLOYEE = "employee"
OWNER_CLAIM = "claim"

# Field name -> (label, maximum length) for the text fields of an employee.
_TEXT_FIELDS: dict[str, tuple[str, int]] = {
    "full_name": ("Full name", 200),
    "email": ("Email", 200),
    "phone": ("Phone", 40),
    "address": ("Address", 1000),
    "termination_reason": ("Reason for leaving", 1000),
    "bank_account_name": ("Account holder's name", 200),
    "bank_account_number": ("Bank account number", 40),
    "bank_ifsc": ("IFSC", 20),
    "bank_name": ("Bank name", 120),
    "tax_id": ("PAN", 20),
    "social_id": ("UAN", 20),
    "emergency_contact_name": ("Emergency contact", 200),
    "emergency_contact_phone": ("Emergency contact's phone", 40),
}
_DATE_FIELDS = {"date_of_birth": "Date of birth", "hire_date": "Joining date",
                "termination_date": "Leaving date"}
_ID_FIELDS = {"department_id", "job_title_id", "manager_id"}
EDITABLE_FIELDS = frozenset({"code", *_TEXT_FIELDS, *_DATE_FIELDS, *_ID_FIELDS})

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/_-]{0,19}")
_PAN = re.compile(r"[A-Z]{5}[0-9]{4}[A-Z]")
_UAN = re.compile(r"[0-9]{12}")
_IFSC = re.compile(r"[A-Z]{4}0[A-Z0-9]{6}")
_ACCOUNT = re.compile(r"[A-Za-z0-9]{4,34}")

# First bytes -> (content type, what people call it). Only what a scan or a phone makes.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class DepartmentRow:
    id: uuid.UUID
    name: str
    description: str | None
    employee_count: int
    version: int


@dataclass(frozen=True)
class JobTitleRow:
    id: uuid.UUID
    name: str
    version: int


@dataclass(frozen=True)
class AttachmentRow:
    id: uuid.UUID
    kind: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    added_at: datetime


@dataclass(frozen=True)
class AttachmentFile:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class EmployeeRow:
    """A line of the employee list: who and where, no personal details, no pay."""

    id: uuid.UUID
    code: str
    full_name: str
    department: str | None
    job_title: str | None
    manager: str | None
    hire_date: date
    termination_date: date | None
    active: bool
    login_name: str | None
    version: int


@dataclass(frozen=True)
class EmployeeDetail:
    """An employee's personal record (never their pay)."""

    id: uuid.UUID
    code: str
    full_name: str
    email: str | None
    phone: str | None
    address: str | None
    date_of_birth: date | None
    department_id: uuid.UUID | None
    department: str | None
    job_title_id: uuid.UUID | None
    job_title: str | None
    manager_id: uuid.UUID | None
    manager: str | None
    hire_date: date
    termination_date: date | None
    termination_reason: str | None
    bank_account_name: str | None
    bank_account_number: str | None
    bank_ifsc: str | None
    bank_name: str | None
    tax_id: str | None
    social_id: str | None
    emergency_contact_name: str | None
    emergency_contact_phone: str | None
    user_id: uuid.UUID | None
    login_name: str | None
    attachments: tuple[AttachmentRow, ...]
    version: int


# --------------------------------------------------------------------------- shared helpers


def mask_tail(value: str | None, keep: int = 4) -> str | None:
    """'ABCPK1234F' -> 'XXXXXX234F': enough to recognise, not enough to use."""
    if not value:
        return None
    text = value.replace(" ", "")
    if len(text) <= keep:
        return "X" * len(text)
    return "X" * (len(text) - keep) + text[-keep:]


def employee_of_user(s: Session, user_id: uuid.UUID) -> Employee | None:
    """The employee record linked to a login, if any."""
    return s.scalars(select(Employee).where(Employee.user_id == user_id,
                                            Employee.deleted_at.is_(None))).first()


def own_employee_id(ctx: Context) -> uuid.UUID | None:
    with ctx.db.read() as s:
        emp = employee_of_user(s, ctx.actor.user_id)
        return emp.id if emp else None


def require_self_or(ctx: Context, permission: str, employee_id: uuid.UUID) -> bool:
    """Allow `permission` holders, or the employee themself (self-service).

    Returns True when access is by self-service. A refusal is audited (through
    `Context.require`) and raised before any data is read.
    """
    if ctx.actor.can(permission):
        return False
    # Self-service needs a role that allows it and a login linked to this employee;
    # otherwise the refusal names the permission that would have allowed it.
    if not ctx.actor.can("hr.claims.own") or own_employee_id(ctx) != employee_id:
        ctx.require(permission)  # audits the denial and raises
    return True


def company_settings(s: Session) -> Company:
    company = s.scalars(select(Company)).first()
    if company is None:
        raise NotFound("This company file has no company profile.")
    return company


def sniff_content_type(data: bytes) -> str | None:
    for magic, content_type in _MAGIC:
        if data.startswith(magic):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def clean_filename(filename: str) -> str:
    # Only the last part of a path, whichever system it came from.
    name = PureWindowsPath(PurePath(filename or "").name).name.strip()
    name = "".join(c for c in name if c.isprintable())
    if not name:
        raise ValidationError("The file needs a name.", field="filename")
    return name[-255:]


def check_attachment(filename: str, data: bytes) -> tuple[str, str]:
    """(clean file name, content type), or a clear refusal: size first, then type."""
    name = clean_filename(filename)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValidationError("The file's contents are missing.", field="data")
    data = bytes(data)
    if not data:
        raise ValidationError(f"'{name}' is empty.", field="data")
    if len(data) > MAX_ATTACHMENT_BYTES:
        mb = len(data) / (1024 * 1024)
        limit = MAX_ATTACHMENT_BYTES // (1024 * 1024)
        raise ValidationError(f"'{name}' is {mb:.1f} MB; an attachment can be at most {limit} "
                              "MB. Scan it at a lower resolution or split it into parts.",
                              field="data")
    content_type = sniff_content_type(data)
    if content_type is None:
        raise ValidationError(f"'{name}' is not a PDF or an image (PNG, JPEG, GIF, WebP, "
                              "TIFF); only those can be attached.", field="data")
    return name, content_type


def store_attachment(s: Session, owner_type: str, owner_id: uuid.UUID, kind: str,
                     filename: str, data: bytes) -> HrAttachment:
    """Keep a checked file inside the company file, in the caller's transaction."""
    name, content_type = check_attachment(filename, data)
    blob = bytes(data)
    row = HrAttachment(owner_type=owner_type, owner_id=owner_id, kind=kind, filename=name,
                       content_type=content_type, size_bytes=len(blob),
                       sha256=hashlib.sha256(blob).hexdigest(), data=blob)
    s.add(row)
    s.flush()
    return row


def attachment_rows(s: Session, owner_type: str, owner_id: uuid.UUID
                    ) -> tuple[AttachmentRow, ...]:
    rows = s.execute(
        select(HrAttachment.id, HrAttachment.kind, HrAttachment.filename,
               HrAttachment.content_type, HrAttachment.size_bytes, HrAttachment.sha256,
               HrAttachment.created_at)
        .where(HrAttachment.owner_type == owner_type, HrAttachment.owner_id == owner_id,
               HrAttachment.deleted_at.is_(None))
        .order_by(HrAttachment.created_at, HrAttachment.id)).all()
    return tuple(AttachmentRow(r.id, r.kind, r.filename, r.content_type, r.size_bytes, r.sha256,
                               r.created_at) for r in rows)


def load_attachment(s: Session, attachment_id: uuid.UUID) -> HrAttachment:
    row = s.get(HrAttachment, attachment_id) if isinstance(attachment_id, uuid.UUID) else None
    if row is None or row.deleted_at is not None:
        raise NotFound("That attachment does not exist (it may have been removed).")
    return row


def load_employee(s: Session, employee_id: uuid.UUID) -> Employee:
    emp = s.get(Employee, employee_id) if isinstance(employee_id, uuid.UUID) else None
    if emp is None or emp.deleted_at is not None:
        raise NotFound("That employee does not exist.")
    return emp


def employee_by_code(s: Session, code: str) -> Employee:
    emp = s.scalars(select(Employee).where(Employee.code == (code or "").strip(),
                                           Employee.deleted_at.is_(None))).first()
    if emp is None:
        raise NotFound(f"There is no employee with the code '{code}'.", field="code")
    return emp


def is_employed_on(emp: Employee, day: date) -> bool:
    return emp.hire_date <= day and (emp.termination_date is None or emp.termination_date >= day)


# --------------------------------------------------------------------------- internals


def _names(s: Session, model: type[Department] | type[JobTitle]) -> dict[uuid.UUID, str]:
    return {r.id: r.name for r in s.execute(select(model.id, model.name))}


def _detail(s: Session, emp: Employee) -> EmployeeDetail:
    dept = s.get(Department, emp.department_id) if emp.department_id else None
    title = s.get(JobTitle, emp.job_title_id) if emp.job_title_id else None
    manager = s.get(Employee, emp.manager_id) if emp.manager_id else None
    login = s.scalar(select(User.login_name).where(User.id == emp.user_id)) if emp.user_id \
        else None
    return EmployeeDetail(
        id=emp.id, code=emp.code, full_name=emp.full_name, email=emp.email, phone=emp.phone,
        address=emp.address, date_of_birth=emp.date_of_birth, department_id=emp.department_id,
        department=dept.name if dept else None, job_title_id=emp.job_title_id,
        job_title=title.name if title else None, manager_id=emp.manager_id,
        manager=manager.full_name if manager else None, hire_date=emp.hire_date,
        termination_date=emp.termination_date, termination_reason=emp.termination_reason,
        bank_account_name=emp.bank_account_name, bank_account_number=emp.bank_account_number,
        bank_ifsc=emp.bank_ifsc, bank_name=emp.bank_name, tax_id=emp.tax_id,
        social_id=emp.social_id, emergency_contact_name=emp.emergency_contact_name,
        emergency_contact_phone=emp.emergency_contact_phone, user_id=emp.user_id,
        login_name=login, attachments=attachment_rows(s, OWNER_EMPLOYEE, emp.id),
        version=emp.version)


def _clean_name(value: object, field: str, label: str, limit: int = 120) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text:
        raise ValidationError(f"Enter the {label}.", field=field)
    if len(text) > limit:
        raise ValidationError(f"The {label} is at most {limit} characters.", field=field)
    return text


def _clean_fields(s: Session, fields: dict[str, object]) -> dict[str, object]:
    """Validate employee fields; returns stored values (None for blanks)."""
    india = company_settings(s).country == "IN"
    clean: dict[str, object] = {}
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS:
            raise ValidationError(f"'{name}' is not a field of an employee.", field=name)
        if name == "code":
            code = value.strip() if isinstance(value, str) else ""
            if not _CODE.fullmatch(code):
                raise ValidationError("An employee code is 1 to 20 letters, digits, / _ or -, "
                                      "e.g. EMP-007.", field="code")
            clean[name] = code
        elif name in _TEXT_FIELDS:
            label, limit = _TEXT_FIELDS[name]
            if value is not None and not isinstance(value, str):
                raise ValidationError(f"{label} must be text.", field=name)
            text = (value or "").strip() or None
            if text is not None and len(text) > limit:
                raise ValidationError(f"{label} is at most {limit} characters.", field=name)
            clean[name] = text
        elif name in _DATE_FIELDS:
            if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
                raise ValidationError(f"{_DATE_FIELDS[name]} must be a date.", field=name)
            clean[name] = value
        else:
            if value is not None and not isinstance(value, uuid.UUID):
                raise ValidationError(f"'{name}' must be an id.", field=name)
            clean[name] = value
    if "full_name" in clean and clean["full_name"] is None:
        raise ValidationError("Enter the employee's full name.", field="full_name")
    if "hire_date" in clean and clean["hire_date"] is None:
        raise ValidationError("Enter the joining date.", field="hire_date")
    email = clean.get("email")
    if isinstance(email, str):
        local, at, domain = email.partition("@")
        if not at or not local or "." not in domain or " " in email:
            raise ValidationError(f"'{email}' is not an email address.", field="email")
    for name in ("tax_id", "social_id", "bank_ifsc", "bank_account_number"):
        if isinstance(clean.get(name), str):
            clean[name] = str(clean[name]).upper().replace(" ", "")
    if india:
        if isinstance(clean.get("tax_id"), str) and not _PAN.fullmatch(str(clean["tax_id"])):
            raise ValidationError("A PAN is ten characters: five letters, four digits, a letter "
                                  "(e.g. ABCPK1234F).", field="tax_id")
        if isinstance(clean.get("social_id"), str) and not _UAN.fullmatch(
                str(clean["social_id"])):
            raise ValidationError("A UAN is twelve digits.", field="social_id")
        if isinstance(clean.get("bank_ifsc"), str) and not _IFSC.fullmatch(
                str(clean["bank_ifsc"])):
            raise ValidationError("An IFSC is eleven characters, e.g. HDFC0001234.",
                                  field="bank_ifsc")
    account = clean.get("bank_account_number")
    if isinstance(account, str) and not _ACCOUNT.fullmatch(account):
        raise ValidationError("A bank account number is 4 to 34 letters and digits.",
                              field="bank_account_number")
    return clean


def _apply(s: Session, emp: Employee, clean: dict[str, object]) -> list[str]:
    """Set fields after the cross-field checks; returns the names that changed."""
    merged = {k: clean.get(k, getattr(emp, k)) for k in EDITABLE_FIELDS}
    hire = merged["hire_date"]
    assert isinstance(hire, date)
    dob = merged["date_of_birth"]
    if isinstance(dob, date) and dob >= hire:
        raise ValidationError("The date of birth must be before the joining date.",
                              field="date_of_birth")
    leave = merged["termination_date"]
    if isinstance(leave, date) and leave < hire:
        raise ValidationError("The leaving date cannot be before the joining date.",
                              field="termination_date")
    if leave is None and "termination_date" in clean:
        clean.setdefault("termination_reason", None)
    if clean.get("code") is not None and clean["code"] != emp.code:
        taken = s.scalar(select(Employee.id).where(Employee.code == clean["code"]))
        if taken is not None:
            raise ValidationError(f"The employee code {clean['code']} is already used.",
                                  field="code")
    for key, model, what in (("department_id", Department, "department"),
                             ("job_title_id", JobTitle, "job title")):
        ref = clean.get(key)
        if ref is not None:
            row = s.get(model, ref)
            if row is None or row.deleted_at is not None:
                raise ValidationError(f"That {what} does not exist.", field=key)
    manager_id = clean.get("manager_id")
    if manager_id is not None:
        if manager_id == emp.id:
            raise ValidationError("An employee cannot be their own manager.", field="manager_id")
        seen = {emp.id}
        current = s.get(Employee, manager_id)
        if current is None or current.deleted_at is not None:
            raise ValidationError("That manager is not an employee.", field="manager_id")
        while current is not None:
            if current.id in seen:
                raise ValidationError("That would make a circle of managers.",
                                      field="manager_id")
            seen.add(current.id)
            current = s.get(Employee, current.manager_id) if current.manager_id else None
    changed = sorted(k for k, v in clean.items() if getattr(emp, k) != v)
    for k in changed:
        setattr(emp, k, clean[k])
    return changed


def _flush(s: Session, emp: Employee) -> None:
    try:
        s.flush()
    except StaleDataError:
        raise Conflict(f"Employee {emp.code} was changed by someone else since you opened it. "
                       "Reload and try again.") from None


# --------------------------------------------------------------------------- departments


def list_departments(ctx: Context) -> list[DepartmentRow]:
    ctx.require("hr.employees.view")
    with ctx.db.read() as s:
        counts = dict(s.execute(
            select(Employee.department_id, func.count())
            .where(Employee.deleted_at.is_(None), Employee.termination_date.is_(None))
            .group_by(Employee.department_id)).all())
        rows = s.scalars(select(Department).where(Department.deleted_at.is_(None))
                         .order_by(Department.name)).all()
        return [DepartmentRow(d.id, d.name, d.description, int(counts.get(d.id, 0)), d.version)
                for d in rows]


def add_department(ctx: Context, name: str, description: str | None = None) -> DepartmentRow:
    ctx.require("hr.employees.manage")
    name = _clean_name(name, "name", "department's name")
    with ctx.db.write(ctx.actor.user_id) as s:
        taken = s.scalar(select(Department.id).where(
            func.lower(Department.name) == name.lower(), Department.deleted_at.is_(None)))
        if taken is not None:
            raise ValidationError(f"There is already a department '{name}'.", field="name")
        dept = Department(name=name, description=(description or "").strip() or None)
        s.add(dept)
        s.flush()
        audit.record(s, ctx, "hr.department_added", entity="hr_department", entity_id=dept.id)
        return DepartmentRow(dept.id, dept.name, dept.description, 0, dept.version)


def list_job_titles(ctx: Context) -> list[JobTitleRow]:
    ctx.require("hr.employees.view")
    with ctx.db.read() as s:
        rows = s.scalars(select(JobTitle).where(JobTitle.deleted_at.is_(None))
                         .order_by(JobTitle.name)).all()
        return [JobTitleRow(t.id, t.name, t.version) for t in rows]


def add_job_title(ctx: Context, name: str) -> JobTitleRow:
    ctx.require("hr.employees.manage")
    name = _clean_name(name, "name", "job title")
    with ctx.db.write(ctx.actor.user_id) as s:
        taken = s.scalar(select(JobTitle.id).where(
            func.lower(JobTitle.name) == name.lower(), JobTitle.deleted_at.is_(None)))
        if taken is not None:
            raise ValidationError(f"There is already a job title '{name}'.", field="name")
        title = JobTitle(name=name)
        s.add(title)
        s.flush()
        audit.record(s, ctx, "hr.job_title_added", entity="hr_job_title", entity_id=title.id)
        return JobTitleRow(title.id, title.name, title.version)


# --------------------------------------------------------------------------- employees


def list_employees(ctx: Context, *, include_former: bool = False,
                   department_id: uuid.UUID | None = None) -> list[EmployeeRow]:
    """The employee list (HR only): current employees, or everyone ever employed."""
    ctx.require("hr.employees.view")
    today = ctx.today()
    with ctx.db.read() as s:
        depts = _names(s, Department)
        titles = _names(s, JobTitle)
        q = select(Employee).where(Employee.deleted_at.is_(None)).order_by(Employee.code)
        if department_id is not None:
            q = q.where(Employee.department_id == department_id)
        emps = s.scalars(q).all()
        names = {e.id: e.full_name for e in emps}
        logins = dict(s.execute(select(User.id, User.login_name)).all())
        rows = []
        for e in emps:
            active = e.termination_date is None or e.termination_date >= today
            if not active and not include_former:
                continue
            manager = names.get(e.manager_id) if e.manager_id else None
            if e.manager_id and manager is None:
                manager = s.scalar(select(Employee.full_name).where(Employee.id == e.manager_id))
            rows.append(EmployeeRow(
                id=e.id, code=e.code, full_name=e.full_name,
                department=depts.get(e.department_id) if e.department_id else None,
                job_title=titles.get(e.job_title_id) if e.job_title_id else None,
                manager=manager, hire_date=e.hire_date, termination_date=e.termination_date,
                active=active, login_name=logins.get(e.user_id) if e.user_id else None,
                version=e.version))
        return rows


def get_employee(ctx: Context, employee_id: uuid.UUID) -> EmployeeDetail:
    """One personal record: HR sees anyone's, an employee their own."""
    require_self_or(ctx, "hr.employees.view", employee_id)
    with ctx.db.read() as s:
        return _detail(s, load_employee(s, employee_id))


def my_profile(ctx: Context) -> EmployeeDetail:
    """The logged-in user's own employee record (self-service)."""
    ctx.require("hr.claims.own")
    with ctx.db.read() as s:
        emp = employee_of_user(s, ctx.actor.user_id)
        if emp is None:
            raise NotFound("Your login is not linked to an employee record. Ask HR to link it.")
        return _detail(s, emp)


def add_employee(ctx: Context, code: str, full_name: str, hire_date: date,
                 **fields: object) -> EmployeeDetail:
    """A new employee; any field of `EDITABLE_FIELDS` may be given by name."""
    ctx.require("hr.employees.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        clean = _clean_fields(s, {"code": code, "full_name": full_name, "hire_date": hire_date,
                                  **fields})
        if clean.get("termination_date") is not None:
            raise ValidationError("A new employee cannot have a leaving date yet.",
                                  field="termination_date")
        taken = s.scalar(select(Employee.id).where(Employee.code == clean["code"]))
        if taken is not None:
            raise ValidationError(f"The employee code {clean['code']} is already used.",
                                  field="code")
        emp = Employee(code=clean["code"], full_name=clean["full_name"], hire_date=hire_date)
        s.add(emp)
        s.flush()
        _apply(s, emp, clean)
        _flush(s, emp)
        audit.record(s, ctx, "hr.employee_added", entity="hr_employee", entity_id=emp.id,
                     details={"fields": sorted(k for k, v in clean.items() if v is not None)})
        return _detail(s, emp)


def update_employee(ctx: Context, employee_id: uuid.UUID, version: int,
                    **fields: object) -> EmployeeDetail:
    """Change an employee's record (optimistic locking on `version`)."""
    ctx.require("hr.employees.manage")
    if not fields:
        raise ValidationError("Nothing to change.")
    with ctx.db.write(ctx.actor.user_id) as s:
        emp = load_employee(s, employee_id)
        if emp.version != version:
            raise Conflict(f"Employee {emp.code} was changed by someone else since you opened "
                           "it. Reload and try again.")
        clean = _clean_fields(s, fields)
        changed = _apply(s, emp, clean)
        if changed:
            _flush(s, emp)
            audit.record(s, ctx, "hr.employee_updated", entity="hr_employee", entity_id=emp.id,
                         details={"fields": changed})
        return _detail(s, emp)


def terminate_employee(ctx: Context, employee_id: uuid.UUID, version: int, last_day: date,
                       reason: str) -> EmployeeDetail:
    """Record that an employee leaves: `last_day` is their last working day."""
    ctx.require("hr.employees.manage")
    reason = _clean_name(reason, "termination_reason", "reason for leaving", 1000)
    with ctx.db.write(ctx.actor.user_id) as s:
        emp = load_employee(s, employee_id)
        if emp.version != version:
            raise Conflict(f"Employee {emp.code} was changed by someone else since you opened "
                           "it. Reload and try again.")
        clean = _clean_fields(s, {"termination_date": last_day, "termination_reason": reason})
        if clean["termination_date"] is None:
            raise ValidationError("Enter the last working day.", field="termination_date")
        _apply(s, emp, clean)
        _flush(s, emp)
        audit.record(s, ctx, "hr.employee_terminated", entity="hr_employee", entity_id=emp.id)
        return _detail(s, emp)


def link_user(ctx: Context, employee_id: uuid.UUID, login_name: str | None) -> EmployeeDetail:
    """Link an employee to a login (self-service), or unlink with None."""
    ctx.require("hr.employees.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        emp = load_employee(s, employee_id)
        user_id = None
        if login_name is not None and login_name.strip():
            user = s.scalars(select(User).where(User.login_key == login_name.strip().casefold(),
                                                User.deleted_at.is_(None))).first()
            if user is None:
                raise ValidationError(f"There is no user '{login_name.strip()}'.",
                                      field="login_name")
            other = employee_of_user(s, user.id)
            if other is not None and other.id != emp.id:
                raise ValidationError(f"The login '{user.login_name}' is already linked to "
                                      f"employee {other.code}.", field="login_name")
            user_id = user.id
        if emp.user_id != user_id:
            emp.user_id = user_id
            _flush(s, emp)
            audit.record(s, ctx, "hr.employee_linked" if user_id else "hr.employee_unlinked",
                         entity="hr_employee", entity_id=emp.id,
                         details={"user_id": user_id})
        return _detail(s, emp)


# --------------------------------------------------------------------------- attachments


def add_employee_document(ctx: Context, employee_id: uuid.UUID, filename: str, data: bytes,
                          kind: str = "other") -> AttachmentRow:
    """Keep a contract, an id scan ... with the employee, inside the company file."""
    ctx.require("hr.employees.manage")
    if kind not in EMPLOYEE_KINDS:
        raise ValidationError(f"A document is one of: {', '.join(EMPLOYEE_KINDS)}.",
                              field="kind")
    with ctx.db.write(ctx.actor.user_id) as s:
        emp = load_employee(s, employee_id)
        row = store_attachment(s, OWNER_EMPLOYEE, emp.id, kind, filename, data)
        audit.record(s, ctx, "hr.attachment_added", entity="hr_attachment", entity_id=row.id,
                     details={"owner": OWNER_EMPLOYEE, "owner_id": emp.id, "kind": kind,
                              "bytes": row.size_bytes})
        return AttachmentRow(row.id, row.kind, row.filename, row.content_type, row.size_bytes,
                             row.sha256, row.created_at)


def get_employee_document(ctx: Context, attachment_id: uuid.UUID) -> AttachmentFile:
    """An employee's document: HR, or the employee themself. Every opening is audited."""
    with ctx.db.read() as s:
        row = load_attachment(s, attachment_id)
        owner_type, owner_id = row.owner_type, row.owner_id
    if owner_type != OWNER_EMPLOYEE:
        raise NotFound("That attachment does not exist (it may have been removed).")
    require_self_or(ctx, "hr.employees.view", owner_id)
    with ctx.db.write(ctx.actor.user_id) as s:
        row = load_attachment(s, attachment_id)
        audit.record(s, ctx, "hr.attachment_viewed", entity="hr_attachment", entity_id=row.id,
                     details={"owner": owner_type, "owner_id": owner_id})
        return AttachmentFile(row.filename, row.content_type, bytes(row.data or b""))


def remove_employee_document(ctx: Context, attachment_id: uuid.UUID) -> None:
    """Remove a document; its bytes are erased, the record of it stays (tombstone)."""
    ctx.require("hr.employees.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        row = load_attachment(s, attachment_id)
        if row.owner_type != OWNER_EMPLOYEE:
            raise NotFound("That attachment does not exist (it may have been removed).")
        row.deleted_at = ctx.now()
        row.data = None
        s.flush()
        audit.record(s, ctx, "hr.attachment_removed", entity="hr_attachment", entity_id=row.id,
                     details={"owner": row.owner_type, "owner_id": row.owner_id})
