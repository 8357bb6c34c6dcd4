"""Employees: records, the rules on their fields, documents kept in the company file."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import Conflict, NotFound, ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.changes import OutboxEntry
from erp_desktop.services import hr
from tests.services.hr.conftest import World

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_new_employee_with_every_field(world: World):
    row = hr.add_employee(
        world.admin, "EMP-050", "  Sanjay Kulkarni ", date(2026, 11, 2),
        email="sanjay@example.com", phone="+91 98450 12345", address="7, MG Road, Mysuru",
        date_of_birth=date(1990, 5, 17), department_id=world.depts["Stores"],
        manager_id=world.emp["EMP-001"], tax_id="abcpk1234f", social_id="100200300400",
        bank_account_name="Sanjay K", bank_account_number="0012 3456 7890",
        bank_ifsc="hdfc0001234", bank_name="HDFC Bank",
        emergency_contact_name="Lata Kulkarni", emergency_contact_phone="+91 98450 54321")
    assert row.full_name == "Sanjay Kulkarni"
    assert row.tax_id == "ABCPK1234F" and row.bank_ifsc == "HDFC0001234"
    assert row.bank_account_number == "001234567890"
    assert row.department == "Stores" and row.manager == "Meera Pillai"
    listed = {e.code: e for e in hr.list_employees(world.admin)}
    assert listed["EMP-050"].active and listed["EMP-050"].job_title is None
    assert listed["EMP-002"].login_name == "kiran"
    assert {d.name: d.employee_count for d in hr.list_departments(world.admin)}["Sales"] == 3


@pytest.mark.parametrize(("fields", "message"), [
    ({"tax_id": "ABC123"}, "A PAN is ten characters"),
    ({"social_id": "12345"}, "A UAN is twelve digits"),
    ({"bank_ifsc": "HDFC1234"}, "An IFSC is eleven characters"),
    ({"bank_account_number": "12-34"}, "4 to 34 letters and digits"),
    ({"email": "not-an-email"}, "is not an email address"),
    ({"date_of_birth": date(2030, 1, 1)}, "before the joining date"),
    ({"salary": 100}, "'salary' is not a field"),
    ({"department_id": None, "manager_id": "EMP-001"}, "must be an id"),
])
def test_bad_fields_are_refused(world: World, fields, message):
    with pytest.raises(ValidationError, match=message):
        hr.add_employee(world.admin, "EMP-060", "Test Person", date(2026, 11, 2), **fields)
    assert "EMP-060" not in {e.code for e in hr.list_employees(world.admin)}


def test_codes_managers_and_versions(world: World):
    with pytest.raises(ValidationError, match="already used"):
        hr.add_employee(world.admin, "EMP-001", "Someone Else", date(2026, 11, 2))
    with pytest.raises(ValidationError, match="1 to 20 letters"):
        hr.add_employee(world.admin, "EMP 1!", "Someone Else", date(2026, 11, 2))
    meera = hr.get_employee(world.admin, world.emp["EMP-001"])
    with pytest.raises(ValidationError, match="own manager"):
        hr.update_employee(world.admin, meera.id, meera.version, manager_id=meera.id)
    with pytest.raises(ValidationError, match="circle of managers"):  # Kiran reports to Meera
        hr.update_employee(world.admin, meera.id, meera.version,
                           manager_id=world.emp["EMP-002"])
    changed = hr.update_employee(world.admin, meera.id, meera.version, phone="+91 90000 00000")
    with pytest.raises(Conflict, match="changed by someone else"):
        hr.update_employee(world.admin, meera.id, meera.version, phone="+91 1")
    with pytest.raises(ValidationError, match="Nothing to change"):
        hr.update_employee(world.admin, meera.id, changed.version)


def test_leaving_and_former_employees(world: World):
    kiran = hr.get_employee(world.admin, world.emp["EMP-002"])
    with pytest.raises(ValidationError, match="before the joining date"):
        hr.terminate_employee(world.admin, kiran.id, kiran.version, date(2020, 1, 1), "x")
    with pytest.raises(ValidationError, match="reason for leaving"):
        hr.terminate_employee(world.admin, kiran.id, kiran.version, date(2026, 10, 31), " ")
    left = hr.terminate_employee(world.admin, kiran.id, kiran.version, date(2026, 10, 31),
                                 "Higher studies")
    assert left.termination_date == date(2026, 10, 31)
    assert "EMP-002" not in {e.code for e in hr.list_employees(world.admin)}  # today: 2 Nov
    former = {e.code: e for e in hr.list_employees(world.admin, include_former=True)}
    assert not former["EMP-002"].active


def test_linking_logins(world: World):
    with pytest.raises(ValidationError, match="no user 'nobody'"):
        hr.link_user(world.admin, world.emp["EMP-005"], "nobody")
    with pytest.raises(ValidationError, match="already linked to employee EMP-002"):
        hr.link_user(world.admin, world.emp["EMP-005"], "kiran")
    row = hr.link_user(world.admin, world.emp["EMP-005"], "sunil")
    assert row.login_name == "sunil"
    assert hr.my_profile(world.login("sunil")).code == "EMP-005"
    assert hr.link_user(world.admin, world.emp["EMP-005"], None).login_name is None
    with pytest.raises(NotFound, match="not linked"):
        hr.my_profile(world.login("ravi"))


def test_documents_are_kept_encrypted_checked_and_audited(world: World):
    kiran = world.emp["EMP-002"]
    doc = hr.add_employee_document(world.admin, kiran, "C:\\scans\\offer letter.pdf", PDF,
                                   "contract")
    assert doc.filename == "offer letter.pdf" and doc.content_type == "application/pdf"
    assert doc.sha256 == hashlib.sha256(PDF).hexdigest() and doc.size_bytes == len(PDF)
    hr.add_employee_document(world.admin, kiran, "aadhaar.png", PNG, "id_scan")
    detail = hr.get_employee(world.admin, kiran)
    assert [a.kind for a in detail.attachments] == ["contract", "id_scan"]
    assert hr.get_employee_document(world.admin, doc.id).data == PDF
    # The employee may open their own documents too.
    assert hr.get_employee_document(world.login("kiran"), doc.id).data == PDF
    with world.admin.db.read() as s:
        payloads = [json.loads(p) for p in s.scalars(
            select(OutboxEntry.payload).where(OutboxEntry.entity == "hr_attachment"))]
        viewed = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "hr.attachment_viewed")).all()
    assert payloads and all("data" not in p and len(p["sha256"]) == 64 for p in payloads)
    assert len(viewed) == 2
    hr.remove_employee_document(world.admin, doc.id)
    with pytest.raises(NotFound):
        hr.get_employee_document(world.admin, doc.id)
    assert len(hr.get_employee(world.admin, kiran).attachments) == 1


def test_document_refusals_are_clear(world: World):
    kiran = world.emp["EMP-002"]
    big = b"%PDF-" + b"0" * (hr.MAX_ATTACHMENT_BYTES + 1)
    with pytest.raises(ValidationError, match=r"'scan.pdf' is 10.0 MB; an attachment can be at "
                                              r"most 10 MB"):
        hr.add_employee_document(world.admin, kiran, "scan.pdf", big)
    with pytest.raises(ValidationError, match="not a PDF or an image"):
        hr.add_employee_document(world.admin, kiran, "contract.pdf", b"PK\x03\x04 a docx")
    with pytest.raises(ValidationError, match="is empty"):
        hr.add_employee_document(world.admin, kiran, "x.pdf", b"")
    with pytest.raises(ValidationError, match="A document is one of"):
        hr.add_employee_document(world.admin, kiran, "x.pdf", PDF, "selfie")
    assert hr.get_employee(world.admin, kiran).attachments == ()
