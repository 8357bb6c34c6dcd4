"""A person's data: the report of every record that names them, and anonymisation that keeps
the amounts the law requires while refusing to act inside the retention period."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from erp_desktop.domain.errors import NotFound, PermissionDenied, ValidationError, WrongPassword
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.changes import OutboxEntry
from erp_desktop.models.hr import Employee, HrAttachment, Payslip
from erp_desktop.models.sales import Invoice
from erp_desktop.models.security import LoginEvent
from erp_desktop.services import audit, auth, hr, ledger, payroll, purchasing, retention, users
from erp_desktop.services.person import (
    RetentionApplies,
    anonymise_person,
    person_report,
    placeholder_for,
    write_person_report,
)
from tests.services.data.conftest import PASSWORD, World

NINE_YEARS = 9 * 366


def pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def last_event(world: World, action: str) -> AuditEvent:
    with world.admin.db.read() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                         .order_by(AuditEvent.seq.desc())).first()


def tb(world: World) -> list[tuple[str, object, object]]:
    return [(r.code, r.debit, r.credit)
            for r in ledger.trial_balance(world.admin, date(2040, 1, 1)).rows]


# ----------------------------------------------------------------- report


def test_a_customers_report_gathers_every_record_that_names_them(world: World, tmp_path: Path):
    report = person_report(world.admin, "customer", name="Meena Iyer")
    sections = {s.table: s for s in report.sections}
    assert sections["customer"].records[0].fields["email"] == "meena.iyer@example.com"
    invoices = sections["invoice"].records
    assert invoices and invoices[0].fields["bill_to_name"] == "Meena Iyer"
    assert sections["payment"].records
    assert report.last_document == date(2026, 10, 20)
    assert report.retained_until == date(2034, 10, 20)

    json_path, pdf_path = write_person_report(world.admin, "customer", tmp_path,
                                              person_id=world.ids.customers["Meena Iyer"])
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["name"] == "Meena Iyer" and data["kind"] == "customer"
    assert {s["table"] for s in data["sections"]} >= {"customer", "invoice", "payment"}
    assert pdf_path.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf_path)
    assert "Data about a person" in text and "Meena Iyer" in text
    event = last_event(world, "person.reported")
    assert "Meena" not in event.details and json.loads(event.details)["kind"] == "customer"


def test_an_employees_report_withholds_what_the_reader_may_not_see(world: World):
    report = person_report(world.login("anita"), "employee", name="EMP-002")
    sections = {s.table: s for s in report.sections}
    assert sections["hr_employee"].records[0].fields["full_name"] == "Kiran Rao"
    att = sections["hr_attachment"].records[0].fields
    assert att["filename"] == "contract.pdf" and "bytes of content" in att["data"]
    assert sections["hr_payslip"].records[0].fields["employee_name"] == "Kiran Rao"
    assert sections["journal_line"].withheld == "needs the permission ledger.view"


def test_reports_need_the_right_and_an_unambiguous_person(world: World):
    with pytest.raises(PermissionDenied):
        person_report(world.login("ravi"), "customer", name="Meena Iyer")
    with pytest.raises(PermissionDenied):  # an HR manager reports on employees, not customers
        person_report(world.login("anita"), "customer", name="Meena Iyer")
    with pytest.raises(NotFound):
        person_report(world.admin, "customer", name="Nobody Here")
    with pytest.raises(ValidationError, match="A person is a"):
        person_report(world.admin, "supplier", name="x")


def test_a_user_report_lists_logins_and_audit_events(world: World):
    world.login("priya")
    report = person_report(world.admin, "user", name="priya")
    sections = {s.table: s for s in report.sections}
    assert sections["app_user"].records[0].fields["full_name"] == "Priya Nair"
    assert sections["login_event"].records and sections["audit_event"].records


# ----------------------------------------------------------------- anonymise


def test_anonymising_a_customer_is_refused_while_records_must_be_kept(world: World):
    with pytest.raises(RetentionApplies) as caught:
        anonymise_person(world.admin, "customer", name="Meena Iyer")
    assert "8 years" in caught.value.message and "from 2034-10-21" in caught.value.message
    report = person_report(world.admin, "customer", name="Meena Iyer")
    assert not report.anonymised  # nothing changed


def test_a_customer_is_anonymised_after_retention_and_invoices_keep_their_amounts(
        world: World):
    cid = world.ids.customers["Meena Iyer"]
    with world.admin.db.read() as s:
        totals = sorted((i.number, i.total_minor) for i in s.scalars(
            select(Invoice).where(Invoice.customer_id == cid)))
    books = tb(world)
    world.clock.advance(days=NINE_YEARS)
    result = anonymise_person(world.admin, "customer", person_id=cid)
    placeholder = placeholder_for(cid)
    assert result.placeholder == placeholder and result.changed["customer"] == 1
    with world.admin.db.read() as s:
        invs = s.scalars(select(Invoice).where(Invoice.customer_id == cid)).all()
        assert {i.bill_to_name for i in invs} == {placeholder}
        assert {i.bill_to_address for i in invs} == {None}
        assert sorted((i.number, i.total_minor) for i in invs) == totals
        synced = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "invoice",
                                                     OutboxEntry.op == "update")).all()
        assert any(placeholder in o.payload for o in synced)
    assert tb(world) == books
    report = person_report(world.admin, "customer", person_id=cid)
    assert report.anonymised and report.name == placeholder
    assert "meena" not in report.to_json().casefold()
    event = last_event(world, "person.anonymised")
    assert "Meena" not in event.details and json.loads(event.details)["changed"]["invoice"]
    assert audit.verify(world.admin).ok
    with pytest.raises(ValidationError, match="already anonymised"):
        anonymise_person(world.admin, "customer", person_id=cid)


def test_a_former_employee_is_anonymised_with_payslip_amounts_kept(world: World):
    eid = world.ids.emp["EMP-002"]
    with pytest.raises(ValidationError, match="still works here"):
        anonymise_person(world.admin, "employee", person_id=eid)
    emp = hr.get_employee(world.admin, eid)
    hr.terminate_employee(world.admin, eid, emp.version, date(2026, 10, 31), "Moved away")
    world.clock.advance(days=30)
    with pytest.raises(RetentionApplies, match="from 2034-11-01"):
        anonymise_person(world.admin, "employee", person_id=eid)
    runs = [(r.period, r.gross, r.net) for r in payroll.list_runs(world.admin)]
    world.clock.advance(days=NINE_YEARS)
    due = retention.due_for_anonymisation(world.admin)
    assert [d.code for d in due] == ["EMP-002"]

    result = anonymise_person(world.admin, "employee", person_id=eid)
    assert result.attachments_erased == 1 and result.changed["hr_payslip"] == 1
    placeholder = placeholder_for(eid)
    with world.admin.db.read() as s:
        e = s.get(Employee, eid)
        assert e.full_name == placeholder and e.code == "EMP-002"
        assert (e.email, e.phone, e.bank_account_number, e.date_of_birth) == (None,) * 4
        att = s.scalars(select(HrAttachment).where(HrAttachment.owner_id == eid)).one()
        assert att.data is None and att.filename == "anonymised"
        slip = s.scalars(select(Payslip).where(Payslip.employee_id == eid)).one()
        assert slip.employee_name == placeholder and slip.bank_account_masked is None
        assert slip.net_minor > 0
    assert [(r.period, r.gross, r.net) for r in payroll.list_runs(world.admin)] == runs
    assert retention.due_for_anonymisation(world.admin) == []


def test_a_user_is_anonymised_only_once_disabled_and_then_cannot_log_in(world: World):
    uid = world.ids.users["sunil"]
    world.login("sunil").close()
    world.ctxs.pop("sunil")
    with pytest.raises(ValidationError, match="Disable this login first"):
        anonymise_person(world.admin, "user", person_id=uid)
    with pytest.raises(ValidationError, match="your own login"):
        anonymise_person(world.admin, "user", person_id=world.admin.actor.user_id)
    users.disable_user(world.admin, uid)
    result = anonymise_person(world.admin, "user", name="sunil")
    assert result.changed["app_user"] == 1 and result.changed["login_event"] >= 1
    assert any("audit events keep the login name" in k for k in result.kept)
    with world.admin.db.read() as s:
        names = set(s.scalars(select(LoginEvent.login_name).where(LoginEvent.user_id == uid)))
    assert len(names) == 1 and next(iter(names)).startswith("anon-")
    with pytest.raises(WrongPassword):
        auth.login(world.path, "sunil", PASSWORD, config=world.config, device=world.device,
                   clock=world.clock)
    assert audit.verify(world.admin).ok  # the chain was not rewritten


def test_a_vendors_contact_is_anonymised_and_the_business_stays(world: World):
    result = anonymise_person(world.admin, "vendor", name="Suresh Babu")
    vendor = purchasing.get_vendor(world.admin, "Kaveri Distributors")
    assert vendor.contact_person == result.placeholder
    assert vendor.email is None and vendor.phone is None
    assert vendor.tax_id == "29AABCK1234L1Z5"


def test_anonymising_needs_its_own_permission(world: World):
    with pytest.raises(PermissionDenied):
        anonymise_person(world.login("anita"), "employee", name="EMP-002")
