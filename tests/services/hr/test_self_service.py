"""Self-service: each person sees their own record and payslips, never anyone else's.

Kiran (employee) reports to Meera (employee, line manager of Kiran and Farah);
Anita is the HR manager and an employee herself; Ravi (sales clerk) has no
employee record; Dev (auditor) may not file claims at all.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import PermissionDenied
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import claims, payroll, self_service
from tests.services.hr.conftest import World, post_october, terminate_farah


def audit_events(w: World, prefix: str) -> list[AuditEvent]:
    with w.admin.db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action.like(f"{prefix}%"))
                              .order_by(AuditEvent.seq)))


def test_my_record_says_who_the_login_is_and_whether_they_manage_anyone(world: World):
    kiran = self_service.my_record(world.login("kiran"))
    assert (kiran.linked, kiran.employee_code, kiran.full_name) == (True, "EMP-002", "Kiran Rao")
    assert not kiran.is_line_manager

    meera = self_service.my_record(world.login("meera"))
    assert meera.employee_id == world.emp["EMP-001"]
    assert (meera.direct_reports, meera.claims_waiting) == (2, 0)  # Kiran and Farah
    assert meera.is_line_manager

    ravi = self_service.my_record(world.login("ravi"))
    assert not ravi.linked and not ravi.is_line_manager and ravi.full_name is None


def test_a_leaver_no_longer_counts_but_a_claim_they_left_waiting_does(world: World):
    kiran = world.login("kiran")
    claim = claims.create_claim(kiran, "Cab", [claims.ClaimLineInput(
        date(2026, 10, 28), "travel", "420", "Cab to the client")])
    claims.submit_claim(kiran, claim.id)
    terminate_farah(world)  # left on 20 Oct; today is 2 Nov
    assert self_service.my_record(world.login("meera")).direct_reports == 1
    assert self_service.my_record(world.login("meera")).claims_waiting == 1


def test_self_service_needs_the_own_claims_permission_and_the_refusal_is_audited(
        world: World):
    for call in (self_service.my_record, self_service.my_payslips):
        with pytest.raises(PermissionDenied):
            call(world.login("dev"))  # the auditor files no claims and has no payslips here
    denials = [json.loads(e.details) for e in audit_events(world, "permission.denied")]
    assert denials[-2:] == [{"permission": "hr.claims.own"}] * 2


def test_each_person_lists_only_their_own_payslips_with_their_figures(world: World):
    post_october(world)
    [mine] = self_service.my_payslips(world.login("kiran"))
    slip = payroll.get_payslip(world.admin, mine.id)
    assert slip.employee_code == "EMP-002"
    assert (mine.period, mine.period_label, mine.run_status) == ("2026-10", "October 2026",
                                                                 "posted")
    assert (mine.gross, mine.deductions, mine.net) == (slip.gross, slip.total_deductions,
                                                       slip.net)
    assert mine.run_number == slip.run_number and mine.pay_date == date(2026, 10, 31)
    assert mine.file_name == "payslip-2026-10-EMP-002.pdf"

    # HR sees everyone's payslips in the HR area, but here only her own.
    anita = world.login("anita")
    assert len(payroll.list_payslips(anita, "2026-10")) == 6
    assert [p.id for p in self_service.my_payslips(anita)] == [
        p.id for p in payroll.list_payslips(anita, "2026-10", world.emp["EMP-003"])]
    assert self_service.my_payslips(world.login("ravi")) == []  # no employee record


def test_a_payslip_pdf_is_the_persons_own_and_anyone_elses_is_refused_and_audited(
        world: World):
    post_october(world)
    kiran, anita, ravi = world.login("kiran"), world.login("anita"), world.login("ravi")
    [mine] = self_service.my_payslips(kiran)
    data = self_service.my_payslip_pdf(kiran, mine.id)
    assert data.startswith(b"%PDF")
    viewed = audit_events(world, "hr.payslip_viewed")
    assert viewed[-1].entity_id == str(mine.id) and viewed[-1].actor_name == "kiran"

    meeras = next(p for p in payroll.list_payslips(world.admin, "2026-10")
                  if p.employee_code == "EMP-001")
    with pytest.raises(PermissionDenied, match="not yours"):
        self_service.my_payslip_pdf(kiran, meeras.id)
    with pytest.raises(PermissionDenied, match="not yours"):  # HR too: not in the Me area
        self_service.my_payslip_pdf(anita, mine.id)
    with pytest.raises(PermissionDenied, match="not linked to an employee record"):
        self_service.my_payslip_pdf(ravi, mine.id)
    refused = audit_events(world, "hr.payslip_refused")
    assert [(e.actor_name, e.entity_id) for e in refused] == [
        ("kiran", str(meeras.id)), ("anita", str(mine.id)), ("ravi", str(mine.id))]
    assert len(audit_events(world, "hr.payslip_viewed")) == len(viewed)  # nothing shown


def test_a_reversed_months_payslip_stays_listed_as_cancelled_beside_the_new_one(
        world: World):
    post_october(world)
    payroll.reverse_run(world.admin, "2026-10", "Wrong leave for Kiran", date(2026, 10, 31))
    payroll.start_run(world.admin, "2026-10")
    payroll.submit_run(world.admin, "2026-10")
    payroll.approve_run(world.admin, "2026-10")
    payroll.post_run(world.admin, "2026-10")
    rows = self_service.my_payslips(world.login("kiran"))
    assert [r.run_status for r in rows] == ["posted", "reversed"]  # the live one first
    assert rows[0].run_number != rows[1].run_number
