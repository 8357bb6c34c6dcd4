"""A month of payroll for a small shop, figures checked by hand.

October 2026 has 31 days. Meera, Anita and Priya work the whole month; Kiran
takes 2 days of unpaid leave (29/31); Vikram joins on the 10th (22/31); Farah
leaves on the 20th (20/31). HRA is 40 % of the earned basic, PF 12 % of it
capped at 1,800, professional tax a flat 200.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from erp_desktop.domain.errors import NotFound, PeriodLocked, ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.changes import ImmutableRecordError
from erp_desktop.models.hr import PayslipLine
from erp_desktop.services import hr, ledger, payroll
from tests.services.hr.conftest import World, post_october, structure, terminate_farah


def inr(text: str) -> Money:
    return Money(D(text), "INR")


def entry_by_code(detail: payroll.RunDetail) -> dict[str, payroll.RunEntryRow]:
    return {e.employee_code: e for e in detail.entries}


def amounts(row: payroll.RunEntryRow) -> dict[str, D]:
    return {ln.code: ln.amount.amount for ln in row.lines}


def test_october_payroll_matches_the_hand_worked_figures(world: World):
    terminate_farah(world)
    totals = payroll.start_run(world.admin, "2026-10")
    assert totals.status == "draft" and totals.employee_count == 6
    payroll.set_unpaid_leave(world.admin, "2026-10", world.emp["EMP-002"], 2)
    detail = payroll.get_run(world.admin, "2026-10")
    rows = entry_by_code(detail)

    meera = rows["EMP-001"]  # 40,000 + 16,000 + 12,000; PF capped 1,800, PT 200, TDS 2,500
    assert amounts(meera) == {"BASIC": D("40000.00"), "HRA": D("16000.00"),
                              "SPECIAL": D("12000.00"), "PF": D("1800.00"), "PT": D("200.00"),
                              "TDS": D("2500.00")}
    assert (meera.gross, meera.deductions, meera.net) == (inr("68000"), inr("4500"),
                                                          inr("63500"))

    kiran = rows["EMP-002"]  # 29/31: 28,064.52 + 11,225.81 + 7,483.87 = 46,774.20
    assert (kiran.lop_days, kiran.days_paid) == (D(2), D(29))
    assert amounts(kiran) == {"BASIC": D("28064.52"), "HRA": D("11225.81"),
                              "SPECIAL": D("7483.87"), "PF": D("1800.00"), "PT": D("200.00")}
    assert (kiran.gross, kiran.net) == (inr("46774.20"), inr("44774.20"))

    vikram = rows["EMP-005"]  # joins 10 Oct: 22/31
    assert (vikram.days_employed, vikram.gross, vikram.net) == (22, inr("35483.87"),
                                                                inr("33483.87"))

    farah = rows["EMP-006"]  # leaves 20 Oct: 7,741.94 + 3,096.78 + 1,935.48; PF 929.03
    assert amounts(farah) == {"BASIC": D("7741.94"), "HRA": D("3096.78"),
                              "SPECIAL": D("1935.48"), "PF": D("929.03"), "PT": D("200.00")}
    assert (farah.gross, farah.deductions, farah.net) == (inr("12774.20"), inr("1129.03"),
                                                          inr("11645.17"))

    t = detail.totals
    assert (t.gross, t.deductions, t.net) == (inr("275832.27"), inr("16129.03"),
                                              inr("259703.24"))


def test_posting_writes_one_balanced_entry_and_payslips(world: World):
    totals = post_october(world)
    assert totals.status == "posted"
    assert totals.number == "PAY/2026-27/A/000001"
    entry = ledger.get_entry(world.admin, totals.journal_entry_id)
    assert entry.number == totals.number and entry.entry_date == date(2026, 10, 31)
    lines = {(ln.account_code, "dr" if ln.debit else "cr"): (ln.debit or ln.credit).amount
             for ln in entry.lines}
    assert lines == {("6100", "dr"): D("275832.27"), ("2300", "cr"): D("259703.24"),
                     ("2310", "cr"): D("16129.03")}
    # Totals only: the ledger never shows one person's pay.
    assert all(ln.party_id is None for ln in entry.lines)
    slips = payroll.list_payslips(world.admin, "2026-10")
    assert [s.employee_code for s in slips] == [f"EMP-00{i}" for i in range(1, 7)]
    tb = ledger.trial_balance(world.admin, date(2026, 10, 31))
    assert tb.balanced


def test_a_posted_run_cannot_change_and_there_is_one_run_per_month(world: World):
    post_october(world)
    with pytest.raises(ValidationError, match="one payroll run per month"):
        payroll.start_run(world.admin, "2026-10")
    with pytest.raises(ValidationError, match="can no longer be changed"):
        payroll.set_unpaid_leave(world.admin, "2026-10", world.emp["EMP-001"], 1)
    with pytest.raises(ValidationError, match="posted; it cannot be approved"):
        payroll.approve_run(world.admin, "2026-10")
    with pytest.raises(ValidationError, match="can start from November 2026"):
        payroll.set_salary_structure(world.admin, world.emp["EMP-002"], date(2026, 10, 1),
                                     structure(33000, 8000))
    # The payslip lines are append-only records.
    with world.admin.db.write(world.admin.actor.user_id) as s:
        line = s.scalars(select(PayslipLine)).first()
        line.amount_minor += 100
        with pytest.raises(ImmutableRecordError):
            s.flush()
        s.rollback()


def test_workflow_refuses_illegal_steps_with_clear_messages(world: World):
    with pytest.raises(NotFound, match="no payroll run for October 2026 yet: start one first"):
        payroll.submit_run(world.admin, "2026-10")
    payroll.start_run(world.admin, "2026-10")
    with pytest.raises(ValidationError, match="a draft; it cannot be posted"):
        payroll.post_run(world.admin, "2026-10")
    with pytest.raises(ValidationError, match="a draft; it cannot be approved"):
        payroll.approve_run(world.admin, "2026-10")
    payroll.submit_run(world.admin, "2026-10")
    with pytest.raises(ValidationError, match="only a draft can be changed"):
        payroll.set_unpaid_leave(world.admin, "2026-10", world.emp["EMP-002"], 1)
    with pytest.raises(ValidationError, match="in review; it cannot be marked paid"):
        payroll.mark_run_paid(world.admin, "2026-10")
    payroll.return_run(world.admin, "2026-10")
    payroll.set_unpaid_leave(world.admin, "2026-10", world.emp["EMP-002"], D("1.5"))
    with pytest.raises(ValidationError, match="more than the 22 days"):
        payroll.set_unpaid_leave(world.admin, "2026-10", world.emp["EMP-005"], 23)
    with pytest.raises(ValidationError, match="is not a month"):
        payroll.start_run(world.admin, "2026-13")
    with pytest.raises(ValidationError, match="last day or later"):
        payroll.start_run(world.admin, "2026-10", pay_date=date(2026, 10, 15))


def test_an_employee_without_a_salary_is_named(world: World):
    hr.add_employee(world.admin, "EMP-099", "Naveen Shetty", date(2026, 10, 1))
    with pytest.raises(ValidationError, match="EMP-099 Naveen Shetty has no salary"):
        payroll.start_run(world.admin, "2026-10")


def test_mark_paid_clears_net_pay_from_the_bank(world: World):
    post_october(world)
    with pytest.raises(ValidationError, match="last day or later"):
        payroll.mark_run_paid(world.admin, "2026-10", date(2026, 10, 30))
    paid = payroll.mark_run_paid(world.admin, "2026-10", date(2026, 11, 1))
    assert paid.status == "paid" and paid.paid_on == date(2026, 11, 1)
    entry = ledger.get_entry(world.admin, paid.payment_entry_id)
    assert {(ln.account_code, (ln.debit or ln.credit).amount) for ln in entry.lines} == {
        ("2300", D("259703.24")), ("1200", D("259703.24"))}
    with pytest.raises(ValidationError, match="paid; it cannot be marked paid"):
        payroll.mark_run_paid(world.admin, "2026-10")
    with pytest.raises(ValidationError, match="already paid"):
        payroll.reverse_run(world.admin, "2026-10", "wrong leave")


def test_a_raise_applies_from_its_month_and_ytd_adds_up(world: World):
    post_october(world)
    payroll.set_salary_structure(world.admin, world.emp["EMP-002"], date(2026, 11, 1),
                                 structure(33000, 8000), note="Annual raise")
    world.clock.advance(days=30)  # early December
    payroll.start_run(world.admin, "2026-11")
    payroll.submit_run(world.admin, "2026-11")
    payroll.approve_run(world.admin, "2026-11")
    payroll.post_run(world.admin, "2026-11")
    kiran_nov = next(s for s in payroll.list_payslips(world.admin, "2026-11")
                     if s.employee_code == "EMP-002")
    view = payroll.get_payslip(world.admin, kiran_nov.id)
    earn = {e.code: e for e in view.earnings}
    # November, 30 days, full month: basic 33,000, HRA 13,200, special 8,000 = 54,200.
    assert earn["BASIC"].amount == inr("33000")
    assert view.gross == inr("54200") and view.net == inr("52200")
    # Year to date (fiscal year from April; only Oct and Nov were run here).
    assert earn["BASIC"].ytd == inr("61064.52")
    assert view.ytd_gross == inr("100974.20")  # 46,774.20 + 54,200
    assert view.ytd_net == inr("96974.20")
    assert view.fiscal_year_start == date(2026, 4, 1)
    salary = payroll.get_salary(world.admin, world.emp["EMP-002"])
    assert [s.effective_from for s in salary.history] == [date(2026, 11, 1), APRIL_1]
    assert salary.current.monthly_gross == inr("54200")


APRIL_1 = date(2026, 4, 1)


def test_salary_structure_refusals(world: World):
    emp = world.emp["EMP-002"]
    with pytest.raises(ValidationError, match="first day of a month"):
        payroll.set_salary_structure(world.admin, emp, date(2026, 11, 15), structure(1, 1))
    with pytest.raises(ValidationError, match="no salary component XYZ"):
        payroll.set_salary_structure(world.admin, emp, date(2026, 11, 1),
                                     [payroll.StructureLineInput("XYZ", 10)])
    with pytest.raises(ValidationError, match="Enter the monthly amount of Basic"):
        payroll.set_salary_structure(world.admin, emp, date(2026, 11, 1),
                                     [payroll.StructureLineInput("BASIC")])
    with pytest.raises(ValidationError, match="more than earnings"):
        payroll.set_salary_structure(world.admin, emp, date(2026, 11, 1), [
            payroll.StructureLineInput("BASIC", 100),
            payroll.StructureLineInput("LOAN", 5000)])
    with pytest.raises(ValidationError, match="at least one earning"):
        payroll.set_salary_structure(world.admin, emp, date(2026, 11, 1),
                                     [payroll.StructureLineInput("PT", 200)])
    with pytest.raises(ValidationError, match="not as a float"):
        payroll.set_salary_structure(world.admin, emp, date(2026, 11, 1),
                                     [payroll.StructureLineInput("BASIC", 1000.5)])


def test_components_percentages_and_caps(world: World):
    row = payroll.define_component(world.admin, "ESI", "Employee state insurance", "deduction",
                                   "percent", percent="0.75", base=["BASIC", "HRA", "SPECIAL"],
                                   cap=500)
    assert row.base == ("BASIC", "HRA", "SPECIAL") and row.cap == inr("500")
    with pytest.raises(ValidationError, match="do not exist"):
        payroll.define_component(world.admin, "X1", "X", "earning", "percent", percent=5,
                                 base=["NOPE"])
    with pytest.raises(ValidationError, match="depend on each other in a loop"):
        payroll.define_component(world.admin, "BASIC", "Basic", "earning", "percent",
                                 percent=10, base=["ESI"])
    with pytest.raises(ValidationError, match="kept for expense claims"):
        payroll.define_component(world.admin, "REIMB", "X", "earning", "fixed")
    with pytest.raises(ValidationError, match="not a liability"):
        payroll.define_component(world.admin, "X2", "X", "deduction", "fixed",
                                 account_key="sales")
    # Kiran with ESI: 0.75 % of 30,000 + 12,000 + 8,000 = 375.00 (under the 500 cap).
    view = payroll.set_salary_structure(world.admin, world.emp["EMP-002"], date(2026, 11, 1),
                                        [*structure(30000, 8000),
                                         payroll.StructureLineInput("ESI")])
    esi = next(ln for ln in view.lines if ln.code == "ESI")
    assert esi.percent == D("0.750") and esi.cap == inr("500")
    assert view.monthly_deductions == inr("2375")  # PF 1,800 + PT 200 + ESI 375


def test_adjustments_and_reversal_then_rerun(world: World):
    terminate_farah(world)
    payroll.start_run(world.admin, "2026-10")
    payroll.add_adjustment(world.admin, "2026-10", world.emp["EMP-001"], "BONUS", "5000",
                           "Festival bonus")
    payroll.add_adjustment(world.admin, "2026-10", world.emp["EMP-001"], "LOAN", "2000")
    with pytest.raises(ValidationError, match="percentage"):
        payroll.add_adjustment(world.admin, "2026-10", world.emp["EMP-001"], "HRA", "10")
    with pytest.raises(ValidationError, match="greater than zero"):
        payroll.add_adjustment(world.admin, "2026-10", world.emp["EMP-001"], "BONUS", "-1")
    meera = entry_by_code(payroll.get_run(world.admin, "2026-10"))["EMP-001"]
    assert amounts(meera)["BONUS"] == D("5000.00") and amounts(meera)["LOAN"] == D("2000.00")
    assert meera.net == inr("66500")  # 63,500 + 5,000 - 2,000
    assert {a.code for a in meera.adjustments} == {"BONUS", "LOAN"}
    payroll.submit_run(world.admin, "2026-10")
    payroll.approve_run(world.admin, "2026-10")
    posted = payroll.post_run(world.admin, "2026-10")
    entry = ledger.get_entry(world.admin, posted.journal_entry_id)
    # Loan recovery credits employee advances, not the deductions payable account.
    assert ("1700", D("2000.00")) in {(ln.account_code, ln.credit.amount) for ln in entry.lines}

    reversed_ = payroll.reverse_run(world.admin, "2026-10", "Bonus entered twice")
    assert reversed_.status == "reversed"
    again = payroll.start_run(world.admin, "2026-10")
    assert again.id != posted.id and again.status == "draft"
    # Kiran has no unpaid leave here: 275,832.27 + 3,225.80. The bonus stayed behind.
    assert again.gross == inr("279058.07")
    payroll.submit_run(world.admin, "2026-10")
    payroll.approve_run(world.admin, "2026-10")
    assert payroll.post_run(world.admin, "2026-10").number == "PAY/2026-27/A/000002"
    tb = ledger.trial_balance(world.admin, date(2026, 10, 31))
    salaries = next(r for r in tb.rows if r.code == "6100")
    assert salaries.debit == inr("279058.07")  # the reversed run nets to nothing


def test_posting_into_locked_books_is_refused_and_nothing_is_written(world: World):
    terminate_farah(world)
    payroll.start_run(world.admin, "2026-10")
    payroll.submit_run(world.admin, "2026-10")
    payroll.approve_run(world.admin, "2026-10")
    ledger.lock_books(world.admin, date(2026, 10, 31))
    with pytest.raises(PeriodLocked):
        payroll.post_run(world.admin, "2026-10")
    assert payroll.run_totals(world.admin, "2026-10").status == "approved"
    assert payroll.list_payslips(world.admin, "2026-10") == []


def test_register_and_bank_list_exports(world: World, tmp_path):
    post_october(world)
    text = payroll.register_csv(world.admin, "2026-10")
    rows = list(csv.DictReader(io.StringIO(text)))
    kiran = next(r for r in rows if r["Employee code"] == "EMP-002")
    assert kiran["Basic"] == "28064.52" and kiran["Net pay"] == "44774.20"
    assert kiran["Unpaid leave days"] == "2" and kiran["Days paid"] == "29"
    assert sum(D(r["Net pay"]) for r in rows) == D("259703.24")

    data = payroll.register_xlsx(world.admin, "2026-10")
    ws = load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    net_col = header.index("Net pay") + 1
    values = [ws.cell(row=r, column=net_col) for r in range(2, ws.max_row + 1)]
    assert all(c.data_type == "n" for c in values)  # numbers, not text
    assert D(str(values[-1].value)) == D("259703.24")  # the totals row

    bank = payroll.bank_transfer_list(world.admin, "2026-10")
    assert bank.without_account == ("EMP-006",)  # Farah has no bank account on file
    assert bank.total == inr("248058.07")  # 259,703.24 - 11,645.17
    out = payroll.write_export(tmp_path / "bank.csv", payroll.bank_list_csv(bank))
    lines = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert lines[0][:3] == ["Employee code", "Beneficiary name", "Account number"]
    assert ["EMP-002", "Kiran Rao", "002301554521", "ICIC0000023", "ICICI Bank", "44774.20",
            "Salary October 2026"] in lines


def test_payslip_pdfs_are_written_for_a_posted_month(world: World, tmp_path):
    payroll.start_run(world.admin, "2026-10")
    with pytest.raises(ValidationError, match="once it is posted"):
        payroll.write_payslips(world.admin, "2026-10", tmp_path)
    payroll.submit_run(world.admin, "2026-10")
    payroll.approve_run(world.admin, "2026-10")
    payroll.post_run(world.admin, "2026-10")
    files = payroll.write_payslips(world.admin, "2026-10", tmp_path / "slips")
    assert [f.name for f in files][:2] == ["payslip-2026-10-EMP-001.pdf",
                                          "payslip-2026-10-EMP-002.pdf"]
    assert all(f.read_bytes().startswith(b"%PDF") for f in files)


def test_audit_records_views_changes_and_postings_without_amounts_or_names(world: World):
    post_october(world)
    payroll.get_salary(world.admin, world.emp["EMP-002"])
    slip = next(s for s in payroll.list_payslips(world.admin, "2026-10")
                if s.employee_code == "EMP-002")
    payroll.get_payslip(world.admin, slip.id)
    payroll.payslip_pdf(world.admin, slip.id)
    with world.admin.db.read() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.like("hr.%"))).all()
    actions = [e.action for e in events]
    assert actions.count("hr.salary_changed") == 6
    assert "hr.salary_viewed" in actions and "hr.payroll_posted" in actions
    assert actions.count("hr.payslip_viewed") == 2
    text = " ".join(e.details for e in events)
    for secret in ("Kiran", "Rao", "44774", "30000", "BKRPR7788L", "002301554521"):
        assert secret not in text
    posted = next(e for e in events if e.action == "hr.payroll_posted")
    assert json.loads(posted.details)["number"] == "PAY/2026-27/A/000001"
