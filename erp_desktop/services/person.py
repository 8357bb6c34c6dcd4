"""A person's data: one report of every record that names them, and anonymisation.

A person is a customer, a vendor's contact, an employee or a user. The
registry `REFERENCES` lists, per kind, every table and column that holds the
person's id (or names them), which of its columns are personal, and whether
the table is a legally retained document (issued invoices, payments,
payslips) whose amounts must stay. `person_report` gathers every such record
(plus free-text memos that mention the person's name) into plain data,
rendered as JSON and as a PDF (`documents.person_report`).

`anonymise_person` replaces personal fields by a placeholder
("Anonymised person 7F3A", derived from the id, so it is stable) and erases
attachments' content, leaving every amount, date, number and link as it was.
It is refused while the retention period of the company's policy
(`services.retention`, `tax_records_years` after the person's last document)
runs, for a current employee, and for an active or one's own login.

Two kinds of records are append-only and still name a person:
- Payslips (`hr_payslip`) copy the employee's name and masked ids when posted.
  Anonymisation is the one controlled change to them: a Core UPDATE of those
  columns only (the ORM refuses any change to a posted record), written to the
  outbox like any change, amounts untouched.
- The audit trail (`audit_event.actor_name`) and posted journal memos are
  hash-chained or trigger-protected and are NOT rewritten: the audit trail
  holds a login name, not a full name, and is removed by the retention purge;
  memos naming the person are listed in the report for a person to see. The
  result of an anonymisation says what was left and why.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import NotFound, ValidationError
from erp_desktop.models.base import Base, utcnow
from erp_desktop.models.changes import record_bulk, to_jsonable
from erp_desktop.models.company import Company
from erp_desktop.services import audit
from erp_desktop.services.context import Context
from erp_desktop.services.retention import add_years, policy_in_session

KINDS = ("customer", "vendor", "employee", "user")
PLACEHOLDER = "Anonymised person"
VIEW_PERMISSION = {"customer": "sales.view", "vendor": "purchases.view",
                   "employee": "hr.employees.view", "user": "users.view"}


@dataclass(frozen=True)
class Ref:
    """Rows of `table` that concern the person: `column` holds their id."""

    table: str
    column: str
    label: str
    personal: tuple[str, ...] = ()  # replaced or cleared when anonymised
    placeholder: tuple[str, ...] = ()  # of `personal`: get the placeholder (not NULL)
    retained: bool = False  # a legally retained document: its amounts stay
    extra: tuple[tuple[str, str], ...] = ()  # more conditions: (column, value)
    permission: str | None = None  # needed to see this section in a report
    note: str = ""


REFERENCES: dict[str, tuple[Ref, ...]] = {
    "customer": (
        Ref("customer", "id", "Customer record",
            ("name", "billing_address", "shipping_address", "city", "postal_code", "email",
             "phone", "gstin", "vat_id", "notes"), ("name",)),
        Ref("invoice", "customer_id", "Invoices, quotes and drafts",
            ("bill_to_name", "bill_to_address", "ship_to_address", "bill_to_gstin",
             "bill_to_vat_id", "notes"), ("bill_to_name",), retained=True),
        Ref("payment", "customer_id", "Payments received", ("notes",), retained=True),
        Ref("credit_note", "customer_id", "Credit notes", retained=True),
        Ref("customer_credit", "customer_id", "Customer credit", retained=True),
        Ref("journal_line", "party_id", "Ledger lines", extra=(("party_type", "customer"),),
            retained=True, permission="ledger.view"),
    ),
    "vendor": (
        Ref("vendor", "id", "Vendor record (the contact person)",
            ("contact_person", "email", "phone", "notes"), ("contact_person",)),
        Ref("purchase_order", "vendor_id", "Purchase orders", retained=True),
        Ref("goods_receipt", "vendor_id", "Goods received", retained=True),
        Ref("vendor_bill", "vendor_id", "Vendor bills", retained=True),
        Ref("debit_note", "vendor_id", "Debit notes", retained=True),
        Ref("vendor_payment", "vendor_id", "Payments to the vendor", retained=True),
        Ref("journal_line", "party_id", "Ledger lines", extra=(("party_type", "vendor"),),
            retained=True, permission="ledger.view"),
    ),
    "employee": (
        Ref("hr_employee", "id", "Employee record",
            ("full_name", "email", "phone", "address", "date_of_birth", "termination_reason",
             "bank_account_name", "bank_account_number", "bank_ifsc", "bank_name", "tax_id",
             "social_id", "emergency_contact_name", "emergency_contact_phone"),
            ("full_name",)),
        Ref("hr_attachment", "owner_id", "Documents kept with the employee",
            ("filename", "data"), extra=(("owner_type", "employee"),)),
        Ref("hr_salary_structure", "employee_id", "Salary structures",
            permission="hr.payroll.view"),
        Ref("hr_payroll_entry", "employee_id", "Payroll working rows",
            permission="hr.payroll.view"),
        Ref("hr_payroll_adjustment", "employee_id", "Payroll adjustments", ("note",),
            permission="hr.payroll.view"),
        Ref("hr_payslip", "employee_id", "Payslips",
            ("employee_name", "tax_id_masked", "bank_account_masked"), ("employee_name",),
            retained=True, permission="hr.payroll.view",
            note="posted payslips keep their amounts"),
        Ref("hr_expense_claim", "employee_id", "Expense claims", ("decision_comment",),
            retained=True),
        Ref("journal_line", "party_id", "Ledger lines", extra=(("party_type", "employee"),),
            retained=True, permission="ledger.view"),
    ),
    "user": (
        Ref("app_user", "id", "User record",
            ("full_name", "email", "phone", "job_title", "department"), ("full_name",)),
        Ref("hr_employee", "user_id", "Employee record linked to the login",
            permission="hr.employees.view"),
        Ref("login_event", "user_id", "Login attempts", permission="audit.view"),
        Ref("audit_event", "actor_id", "Audit trail (actions taken)", permission="audit.view",
            note="the audit trail is hash-chained and is not rewritten; it is removed by the "
                 "retention purge"),
    ),
}

# Free text that may mention a person by name: shown in the report, never rewritten
# (posted entries are append-only).
MEMO_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("journal_entry", "memo", "ledger.view"),
    ("journal_line", "memo", "ledger.view"),
)

# Documents whose date starts the retention period, per kind: (table, id column, date
# column, extra condition column, allowed values)
LAST_DOCUMENT: dict[str, tuple[tuple[str, str, str, str | None, tuple[str, ...]], ...]] = {
    "customer": (("invoice", "customer_id", "invoice_date", "status",
                  ("issued", "partially_paid", "paid")),
                 ("payment", "customer_id", "payment_date", None, ()),
                 ("credit_note", "customer_id", "note_date", None, ())),
    "vendor": (("vendor_bill", "vendor_id", "bill_date", "status", ("posted",)),
               ("vendor_payment", "vendor_id", "payment_date", None, ()),
               ("debit_note", "vendor_id", "note_date", None, ()),
               ("goods_receipt", "vendor_id", "receipt_date", None, ())),
    "employee": (("hr_payslip", "employee_id", "period", None, ()),
                 ("journal_line", "party_id", "entry_date", None, ())),
    "user": (),
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class PersonRecord:
    table: str
    id: str
    fields: dict[str, Any]  # JSON-ready values


@dataclass(frozen=True)
class PersonSection:
    table: str
    label: str
    records: list[PersonRecord]
    note: str = ""
    withheld: str | None = None  # why this section is not shown (a permission)


@dataclass(frozen=True)
class PersonReport:
    kind: str
    person_id: uuid.UUID
    name: str
    company: str
    generated_at: datetime
    generated_by: str
    sections: list[PersonSection]
    last_document: date | None
    retained_until: date | None
    anonymised: bool

    def to_json(self) -> str:
        return json.dumps({
            "kind": self.kind, "person_id": str(self.person_id), "name": self.name,
            "company": self.company, "generated_at": self.generated_at.isoformat(),
            "generated_by": self.generated_by,
            "last_document": self.last_document.isoformat() if self.last_document else None,
            "retained_until": self.retained_until.isoformat() if self.retained_until else None,
            "anonymised": self.anonymised,
            "sections": [{"table": s.table, "label": s.label, "note": s.note or None,
                          "withheld": s.withheld,
                          "records": [{"id": r.id, **r.fields} for r in s.records]}
                         for s in self.sections],
        }, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class AnonymisationResult:
    kind: str
    person_id: uuid.UUID
    placeholder: str
    changed: dict[str, int]  # table -> rows changed
    attachments_erased: int
    kept: list[str] = field(default_factory=list)  # what still names the person, and why


class RetentionApplies(ValidationError):
    """The law still requires keeping this person's records as they are."""


# --------------------------------------------------------------------------- helpers


def placeholder_for(person_id: uuid.UUID) -> str:
    tag = hashlib.sha256(person_id.bytes).hexdigest()[:4].upper()
    return f"{PLACEHOLDER} {tag}"


def is_anonymised_name(name: str | None) -> bool:
    return bool(name) and str(name).startswith(PLACEHOLDER + " ")


def _table(name: str) -> Table | None:
    return Base.metadata.tables.get(name)


def _kind(kind: str) -> str:
    k = (kind or "").strip().lower()
    if k not in KINDS:
        raise ValidationError(f"A person is a {', '.join(KINDS)}; '{kind}' is not one of them.",
                              field="kind")
    return k


_NAME_COLUMNS = {"customer": ("code", "name", "name_key"), "vendor": ("name", "contact_person"),
                 "employee": ("code", "full_name"), "user": ("login_name", "full_name")}
_SHOWN_NAME = {"customer": "name", "vendor": "contact_person", "employee": "full_name",
               "user": "full_name"}


def find_person(s: Session, kind: str, *, person_id: uuid.UUID | str | None = None,
                name: str | None = None) -> tuple[uuid.UUID, str]:
    """(id, name) of one person by id, or by code / login / exact name (any case)."""
    kind = _kind(kind)
    table = _table(REFERENCES[kind][0].table)
    if table is None:
        raise NotFound(f"This company file keeps no {kind}s.")
    shown = table.c[_SHOWN_NAME[kind]]
    fallback = table.c["name"] if kind == "vendor" else shown
    if person_id is not None:
        try:
            pid = person_id if isinstance(person_id, uuid.UUID) else uuid.UUID(str(person_id))
        except ValueError:
            raise ValidationError(f"'{person_id}' is not an id.", field="id") from None
        row = s.execute(select(table.c.id, shown, fallback).where(table.c.id == pid)).first()
        if row is None:
            raise NotFound(f"There is no {kind} with the id {pid}.", field="id")
        return row[0], row[1] or row[2]
    text_ = " ".join((name or "").split())
    if not text_:
        raise ValidationError(f"Give the {kind}'s id or name.", field="name")
    conds = [func.lower(table.c[c]) == text_.casefold() for c in _NAME_COLUMNS[kind]]
    rows = s.execute(select(table.c.id, shown, fallback).where(or_(*conds)).limit(3)).all()
    if not rows:
        raise NotFound(f"There is no {kind} called '{text_}'.", field="name")
    if len(rows) > 1:
        raise ValidationError(f"More than one {kind} is called '{text_}'; give the id instead "
                              f"({', '.join(str(r[0]) for r in rows)}).", field="name")
    return rows[0][0], rows[0][1] or rows[0][2]


def _where(table: Table, ref: Ref, person_id: uuid.UUID) -> Any:
    conds = [table.c[ref.column] == person_id]
    conds += [table.c[c] == v for c, v in ref.extra]
    return and_(*conds)


def last_document_date(s: Session, kind: str, person_id: uuid.UUID) -> date | None:
    """The date of the person's newest legally retained document, or None."""
    best: date | None = None
    for table_name, col, date_col, cond_col, allowed in LAST_DOCUMENT[kind]:
        table = _table(table_name)
        if table is None:
            continue
        q = select(func.max(table.c[date_col])).where(table.c[col] == person_id)
        if cond_col:
            q = q.where(table.c[cond_col].in_(allowed))
        if table_name == "journal_line":
            q = q.where(table.c.party_type == kind)
        value = s.scalar(q)
        if value is None:
            continue
        if isinstance(value, str):  # a payslip's period "2026-10": its month's end
            y, m = (int(x) for x in value.split("-"))
            value = date(y, m, calendar.monthrange(y, m)[1])
        if isinstance(value, datetime):
            value = value.date()
        best = value if best is None or value > best else best
    return best


def _claim_attachments(s: Session, employee_id: uuid.UUID) -> list[uuid.UUID]:
    claims, att = _table("hr_expense_claim"), _table("hr_attachment")
    if claims is None or att is None:
        return []
    ids = select(claims.c.id).where(claims.c.employee_id == employee_id)
    return [r[0] for r in s.execute(select(att.c.id).where(att.c.owner_type == "claim",
                                                           att.c.owner_id.in_(ids)))]


def _jsonable_row(table: Table, row: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for col in table.columns:
        value = row._mapping[col.name]
        if isinstance(value, (bytes, bytearray, memoryview)):
            out[col.name] = f"({len(bytes(value))} bytes of content)"
        else:
            out[col.name] = to_jsonable(value)
    return out


# --------------------------------------------------------------------------- report


def person_report(ctx: Context, kind: str, *, person_id: uuid.UUID | str | None = None,
                  name: str | None = None) -> PersonReport:
    """Every record that names the person, across all areas (sections the user may not
    see are listed as withheld, with the permission they need). Audited."""
    kind = _kind(kind)
    ctx.require("person.report")
    ctx.require(VIEW_PERMISSION[kind])
    with ctx.db.write(ctx.actor.user_id) as s:
        pid, shown = find_person(s, kind, person_id=person_id, name=name)
        sections: list[PersonSection] = []
        for ref in REFERENCES[kind]:
            table = _table(ref.table)
            if table is None:
                continue
            if ref.permission and not ctx.actor.can(ref.permission):
                sections.append(PersonSection(ref.table, ref.label, [], ref.note,
                                              withheld=f"needs the permission {ref.permission}"))
                continue
            q = select(table).where(_where(table, ref, pid))
            rows = [PersonRecord(ref.table, str(r._mapping[_pk(table)]), _jsonable_row(table, r))
                    for r in s.execute(q.order_by(*table.primary_key.columns))]
            sections.append(PersonSection(ref.table, ref.label, rows, ref.note))
        if kind == "employee":
            claim_att = _claim_attachments(s, pid)
            att = _table("hr_attachment")
            if claim_att and att is not None:
                rows = [PersonRecord("hr_attachment", str(r.id), _jsonable_row(att, r))
                        for r in s.execute(select(att).where(att.c.id.in_(claim_att)))]
                sections.append(PersonSection("hr_attachment", "Receipts of expense claims",
                                              rows))
        sections.extend(_mentions(ctx, s, shown))
        last = last_document_date(s, kind, pid)
        policy = policy_in_session(s)
        company = s.scalar(select(Company.legal_name)) or ""
        audit.record(s, ctx, "person.reported", entity=REFERENCES[kind][0].table, entity_id=pid,
                     details={"kind": kind, "records": sum(len(x.records) for x in sections),
                              "withheld": [x.table for x in sections if x.withheld]})
        return PersonReport(kind, pid, shown, company, ctx.now(), ctx.actor.login_name, sections,
                            last, add_years(last, policy.tax_records_years) if last else None,
                            is_anonymised_name(shown))


def _pk(table: Table) -> str:
    return next(iter(table.primary_key.columns)).name


def _mentions(ctx: Context, s: Session, name: str | None) -> list[PersonSection]:
    """Memos that mention the person's full name (short names would match too much)."""
    if not name or len(name) < 5 or is_anonymised_name(name):
        return []
    out = []
    pattern = f"%{name.replace('%', '').replace('_', '').casefold()}%"
    for table_name, column, permission in MEMO_COLUMNS:
        table = _table(table_name)
        if table is None or not ctx.actor.can(permission):
            continue
        q = select(table).where(func.lower(table.c[column]).like(pattern)).limit(1000)
        rows = [PersonRecord(table_name, str(r._mapping[_pk(table)]), _jsonable_row(table, r))
                for r in s.execute(q)]
        if rows:
            out.append(PersonSection(table_name, f"Mentions in {table_name.replace('_', ' ')} "
                                                 f"{column}s", rows,
                                     "posted entries are append-only and are not rewritten"))
    return out


def write_person_report(ctx: Context, kind: str, directory: Path, *,
                        person_id: uuid.UUID | str | None = None,
                        name: str | None = None) -> tuple[Path, Path]:
    """The report as JSON and PDF files in `directory`; returns (json, pdf)."""
    from erp_desktop.documents.person_report import render_person_report

    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise ValidationError(f"The folder {directory} does not exist.", field="directory")
    report = person_report(ctx, kind, person_id=person_id, name=name)
    with ctx.db.read() as s:
        company = s.scalars(select(Company)).first()
        from erp_desktop.services.payroll import company_header

        header = company_header(company) if company else None
    stem = f"person-{report.kind}-{str(report.person_id)[:8]}"
    json_path = directory / f"{stem}.json"
    pdf_path = directory / f"{stem}.pdf"
    json_path.write_text(report.to_json(), encoding="utf-8")
    pdf_path.write_bytes(render_person_report(_doc(report, header)))
    return json_path, pdf_path


def _doc(report: PersonReport, header: Any) -> Any:
    from erp_desktop.documents.base import CompanyHeader
    from erp_desktop.documents.person_report import PersonReportDoc, SectionDoc

    sections = []
    for sec in report.sections:
        columns: list[str] = []
        for r in sec.records:
            for k in r.fields:
                if k not in columns:
                    columns.append(k)
        sections.append(SectionDoc(sec.label, sec.table, sec.note or None, sec.withheld,
                                   [[("" if r.fields.get(c) is None else str(r.fields.get(c)))
                                     for c in columns] for r in sec.records], columns))
    return PersonReportDoc(
        company=header or CompanyHeader(legal_name=report.company),
        kind=report.kind, person_id=str(report.person_id), name=report.name,
        generated_at=report.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        generated_by=report.generated_by,
        retained_until=report.retained_until.isoformat() if report.retained_until else None,
        sections=sections)


# --------------------------------------------------------------------------- anonymise


def anonymise_person(ctx: Context, kind: str, *, person_id: uuid.UUID | str | None = None,
                     name: str | None = None) -> AnonymisationResult:
    """Replace the person's personal data by a placeholder (see module docstring)."""
    kind = _kind(kind)
    ctx.require("person.anonymise")
    old_login: str | None = None
    with ctx.db.write(ctx.actor.user_id) as s:
        pid, shown = find_person(s, kind, person_id=person_id, name=name)
        if is_anonymised_name(shown):
            raise ValidationError(f"This {kind} is already anonymised.", field="id")
        _check_may_anonymise(ctx, s, kind, pid)
        placeholder = placeholder_for(pid)
        changed: dict[str, int] = {}
        for ref in REFERENCES[kind]:
            table = _table(ref.table)
            if table is None or not ref.personal:
                continue
            if kind == "user" and ref.table == "app_user":
                old_login = s.scalar(select(table.c.login_name).where(table.c.id == pid))
            values = {c: (placeholder if c in ref.placeholder else None) for c in ref.personal
                      if c in table.c and c != "data"}
            if ref.table == "hr_attachment":
                values = {"filename": "anonymised", "data": None}
            values.update(_extra_values(kind, ref.table, pid, placeholder, table))
            n = _update(s, table, _where(table, ref, pid), values)
            if n:
                changed[ref.table] = changed.get(ref.table, 0) + n
        erased = changed.get("hr_attachment", 0)
        if kind == "employee":
            claim_att = _claim_attachments(s, pid)
            att = _table("hr_attachment")
            if claim_att and att is not None:
                n = _update(s, att, att.c.id.in_(claim_att), {"filename": "anonymised",
                                                              "data": None})
                erased += n
                changed["hr_attachment"] = changed.get("hr_attachment", 0) + n
        if kind == "user":
            login = _login_for(pid)
            le = _table("login_event")
            if le is not None:
                n = s.execute(update(le).where(le.c.user_id == pid)
                              .values(login_name=login)).rowcount or 0
                if n:
                    changed["login_event"] = n
        kept = _kept(ctx, s, kind, pid, shown)
        audit.record(s, ctx, "person.anonymised", entity=REFERENCES[kind][0].table,
                     entity_id=pid, details={"kind": kind, "changed": changed,
                                             "attachments_erased": erased})
    if old_login:
        # The login can no longer open the file: its key slots go with its name.
        ctx.vault.remove_login(old_login)
    return AnonymisationResult(kind, pid, placeholder, changed, erased, kept)


def _login_for(pid: uuid.UUID) -> str:
    return "anon-" + hashlib.sha256(pid.bytes).hexdigest()[:8]


def _extra_values(kind: str, table_name: str, pid: uuid.UUID, placeholder: str,
                  table: Table) -> dict[str, Any]:
    """Columns derived from the personal ones (search keys, logins) or switched off."""
    extra: dict[str, Any] = {}
    if table_name == "customer":
        extra = {"name_key": placeholder.casefold(), "active": False}
    elif kind == "user" and table_name == "app_user":
        extra = {"login_name": _login_for(pid), "login_key": _login_for(pid), "active": False}
    return {k: v for k, v in extra.items() if k in table.c}


def _update(s: Session, table: Table, where: Any, values: dict[str, Any]) -> int:
    """Change personal columns of the matching rows, bump versions, feed the outbox.

    Core, not the ORM: posted records (payslips) refuse ORM changes, and this is
    the one change they allow (personal columns only, amounts untouched).
    """
    if not values:
        return 0
    ids = [r[0] for r in s.execute(select(table.c.id).where(where))]
    if not ids:
        return 0
    stamp: dict[str, Any] = {}
    if "version" in table.c:
        stamp["version"] = table.c.version + 1
    if "updated_at" in table.c:
        stamp["updated_at"] = utcnow()
    if "updated_by" in table.c:
        stamp["updated_by"] = s.info.get("actor_id")
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        s.execute(update(table).where(table.c.id.in_(chunk)).values(**values, **stamp))
    s.expire_all()  # objects loaded earlier in this session hold the old values
    mapper = next((m for m in Base.registry.mappers if m.local_table is table), None)
    if mapper is not None and getattr(mapper.class_, "__outbox__", False):
        exclude = getattr(mapper.class_, "__outbox_exclude__", frozenset())
        for i in range(0, len(ids), 500):
            rows = s.execute(select(table).where(table.c.id.in_(ids[i:i + 500]))).all()
            record_bulk(s, table.name, [{k: v for k, v in r._mapping.items()
                                         if k not in exclude} for r in rows], op="update")
    return len(ids)


def _check_may_anonymise(ctx: Context, s: Session, kind: str, pid: uuid.UUID) -> None:
    today = ctx.today()
    if kind == "employee":
        emp = _table("hr_employee")
        assert emp is not None
        left = s.scalar(select(emp.c.termination_date).where(emp.c.id == pid))
        if left is None:
            raise ValidationError("This person still works here: record their leaving date "
                                  "before anonymising them.", field="id")
        if left >= today:
            raise ValidationError(f"This employee's last working day ({left.isoformat()}) "
                                  "has not passed yet.", field="id")
    if kind == "user":
        if pid == ctx.actor.user_id:
            raise ValidationError("You cannot anonymise your own login.", field="id")
        users = _table("app_user")
        assert users is not None
        if s.scalar(select(users.c.active).where(users.c.id == pid)):
            raise ValidationError("Disable this login first; an active login is not "
                                  "anonymised.", field="id")
    last = last_document_date(s, kind, pid)
    if kind == "employee":
        emp = _table("hr_employee")
        assert emp is not None
        left = s.scalar(select(emp.c.termination_date).where(emp.c.id == pid))
        last = max(d for d in (last, left) if d is not None) if (last or left) else None
    if last is None:
        return
    years = policy_in_session(s).tax_records_years
    until = add_years(last, years)
    if today <= until:
        raise RetentionApplies(
            f"The law requires keeping this {kind}'s records for {years} years after their "
            f"last document ({last.isoformat()}): they can be anonymised from "
            f"{date.fromordinal(until.toordinal() + 1).isoformat()}. Until then nothing is "
            "changed.", field="id")


def _kept(ctx: Context, s: Session, kind: str, pid: uuid.UUID, name: str) -> list[str]:
    kept = []
    if kind == "user":
        ae = _table("audit_event")
        if ae is not None and s.scalar(select(func.count()).select_from(ae)
                                       .where(ae.c.actor_id == pid)):
            kept.append("audit events keep the login name they were recorded with (the "
                        "trail is hash-chained); the retention purge removes them in time")
        emp = _table("hr_employee")
        if emp is not None and s.scalar(select(emp.c.id).where(emp.c.user_id == pid)):
            kept.append("the employee record linked to this login is a separate person "
                        "record; anonymise the employee too")
    for section in _mentions(ctx, s, name):
        kept.append(f"{len(section.records)} {section.table.replace('_', ' ')} memo(s) mention "
                    "the name; posted entries are append-only")
    return kept


__all__ = [
    "KINDS", "REFERENCES", "AnonymisationResult", "PersonRecord", "PersonReport",
    "PersonSection", "Ref", "RetentionApplies", "anonymise_person", "find_person",
    "is_anonymised_name", "last_document_date", "person_report", "placeholder_for",
    "write_person_report",
]
