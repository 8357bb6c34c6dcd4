"""Who may see and do what in HR and payroll: the whole matrix, role by role.

owner = admin, anita = HR manager, priya = accountant, dev = auditor,
ravi = sales clerk, sunil = storekeeper, kiran = employee (reports to meera),
meera = employee and line manager. Kiran, Meera, Anita and Priya have
employee records linked to their logins; Ravi, Sunil and Dev do not.
October 2026 is posted; November 2026 is a draft.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select

from erp_desktop.domain.errors import NotFound, PermissionDenied
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import hr, ledger, payroll
from tests.services.hr.conftest import World, structure

EVERYONE = ("owner", "anita", "priya", "dev", "ravi", "sunil", "kiran", "meera")
HR = {"owner", "anita"}


def ctx_of(w: World, who: str):
    return w.admin if who == "owner" else w.login(who)


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except PermissionDenied:
        return "denied"
    except NotFound:
        return "not found"
    return "ok"


def matrix(w: World, call: Callable[[object], object]) -> dict[str, str]:
    return {who: outcome(lambda who=who: call(ctx_of(w, who))) for who in EVERYONE}


def expect(ok: set[str], **others: str) -> dict[str, str]:
    return {who: "ok" if who in ok else others.get(who, "denied") for who in EVERYONE}


def kiran_payslip(w: World) -> payroll.PayslipRow:
    return next(s for s in payroll.list_payslips(w.admin, "2026-10")
                if s.employee_code == "EMP-002")


def test_personal_records(shared_world: World):
    w = shared_world
    kiran = w.emp["EMP-002"]
    assert matrix(w, hr.list_employees) == expect(HR)
    assert matrix(w, lambda c: hr.get_employee(c, kiran)) == expect(HR | {"kiran"})
    assert matrix(w, hr.list_departments) == expect(HR)
    # A line manager decides claims; their reports' personal records stay with HR.
    assert outcome(lambda: hr.get_employee(w.login("meera"), kiran)) == "denied"


def test_salaries(shared_world: World):
    w = shared_world
    kiran = w.emp["EMP-002"]
    assert matrix(w, lambda c: payroll.get_salary(c, kiran)) == expect(HR | {"kiran"})
    assert matrix(w, lambda c: payroll.list_components(c)) == expect(HR)
    assert matrix(w, lambda c: payroll.set_salary_structure(
        c, kiran, date(2027, 1, 1), structure(31000, 8000))) == expect(HR)


def test_runs_in_full_are_for_payroll_staff_and_totals_for_accountants(shared_world: World):
    w = shared_world
    assert matrix(w, lambda c: payroll.get_run(c, "2026-10")) == expect(HR)
    assert matrix(w, lambda c: payroll.run_totals(c, "2026-10")) == expect(HR | {"priya", "dev"})
    # A draft month is not there for totals-only readers at all.
    assert matrix(w, lambda c: payroll.run_totals(c, "2026-11")) == expect(
        HR, priya="not found", dev="not found")
    assert [r.period for r in payroll.list_runs(w.login("priya"))] == ["2026-10"]
    assert [r.period for r in payroll.list_runs(w.admin)] == ["2026-11", "2026-10"]


def test_totals_hold_nothing_personal(shared_world: World):
    totals = payroll.run_totals(shared_world.login("priya"), "2026-10")
    names = {f.name for f in dataclasses.fields(totals)}
    assert not names & {"entries", "rows", "lines", "employee_name", "employee_code"}
    text = repr(totals)
    assert "Kiran" not in text and "EMP-002" not in text
    # The ledger the accountant reads has the run's totals, one line per account.
    entry = ledger.get_entry(shared_world.login("priya"), totals.journal_entry_id)
    assert len(entry.lines) == 3 and all(ln.party_id is None for ln in entry.lines)


def test_exports_without_the_right_are_refused_and_write_nothing(shared_world: World,
                                                                tmp_path):
    w = shared_world
    assert matrix(w, lambda c: payroll.register_csv(c, "2026-10")) == expect(HR)
    assert matrix(w, lambda c: payroll.register_xlsx(c, "2026-10")) == expect(HR)
    assert matrix(w, lambda c: payroll.bank_transfer_list(c, "2026-10")) == expect(HR)
    for who in EVERYONE:
        target = tmp_path / who
        result = outcome(lambda who=who, target=target: payroll.write_payslips(
            ctx_of(w, who), "2026-10", target))
        assert result == ("ok" if who in HR else "denied")
        assert target.exists() == (who in HR)


def test_payslips(shared_world: World):
    w = shared_world
    slip = kiran_payslip(w)
    assert matrix(w, lambda c: payroll.get_payslip(c, slip.id)) == expect(HR | {"kiran"})
    assert matrix(w, lambda c: payroll.payslip_pdf(c, slip.id)) == expect(HR | {"kiran"})
    # Each sees their own payslips only; without a linked record, none.
    assert {s.employee_code for s in payroll.list_payslips(w.login("kiran"))} == {"EMP-002"}
    assert {s.employee_code for s in payroll.list_payslips(w.login("priya"))} == {"EMP-004"}
    assert payroll.list_payslips(w.login("ravi")) == []
    assert outcome(lambda: payroll.list_payslips(w.login("dev"))) == "denied"
    assert outcome(lambda: payroll.list_payslips(w.login("kiran"),
                                                 employee_id=w.emp["EMP-001"])) == "denied"
    assert len(payroll.list_payslips(w.login("anita"), "2026-10")) == 6


def test_changing_payroll_is_for_hr_only(shared_world: World):
    w = shared_world
    changes: list[Callable[[object, str], object]] = [
        lambda c, who: payroll.start_run(c, "2026-12"),
        lambda c, who: payroll.compute_run(c, "2026-11"),
        lambda c, who: payroll.submit_run(c, "2026-11"),
        lambda c, who: payroll.approve_run(c, "2026-11"),
        lambda c, who: payroll.post_run(c, "2026-11"),
        lambda c, who: payroll.mark_run_paid(c, "2026-10"),
        lambda c, who: payroll.reverse_run(c, "2026-10", "x"),
        lambda c, who: hr.add_employee(c, "EMP-900", "X Y", date(2026, 11, 1)),
        lambda c, who: hr.link_user(c, w.emp["EMP-005"], who),
    ]
    for who in EVERYONE:
        if who in HR:
            continue
        for change in changes:
            assert outcome(lambda change=change, who=who: change(ctx_of(w, who), who)) == \
                "denied", who
    assert payroll.run_totals(w.admin, "2026-11").status == "draft"
    assert payroll.run_totals(w.admin, "2026-10").status == "posted"


def test_every_refusal_is_audited(shared_world: World):
    w = shared_world

    def denials() -> int:
        with w.admin.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.action == "permission.denied")))

    before = denials()
    for who in ("priya", "ravi", "kiran"):
        outcome(lambda who=who: payroll.get_run(w.login(who), "2026-10"))
    outcome(lambda: payroll.get_salary(w.login("kiran"), w.emp["EMP-001"]))
    assert denials() == before + 4
