"""Expense claims: Kiran files, Meera (his manager) decides, Priya pays it back."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import NotFound, PermissionDenied, ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import claims, ledger, payroll
from tests.services.hr.conftest import World, terminate_farah

RECEIPT = b"\xff\xd8\xff\xe0" + b"\x00" * 128  # a JPEG's first bytes


def lines(*amounts: str) -> list[claims.ClaimLineInput]:
    cats = ["travel", "meals", "office", "phone"]
    return [claims.ClaimLineInput(date(2026, 10, 20 + i), cats[i % 4], a, f"Expense {i}")
            for i, a in enumerate(amounts)]


def filed(w: World, *amounts: str) -> claims.ClaimDetail:
    kiran = w.login("kiran")
    claim = claims.create_claim(kiran, "Client visit to Mysuru", lines(*amounts))
    claims.add_receipt(kiran, claim.id, "bus-ticket.jpg", RECEIPT)
    return claims.submit_claim(kiran, claim.id)


def test_claim_reimbursed_from_the_bank(world: World):
    kiran, meera, priya = world.login("kiran"), world.login("meera"), world.login("priya")
    claim = claims.create_claim(kiran, "Client visit to Mysuru", lines("1250.00", "340.50"))
    assert claim.status == "draft" and claim.total == Money(D("1590.50"), "INR")
    claim = claims.update_claim(kiran, claim.id, claim.version,
                                lines=lines("1250.00", "340.50", "99"))
    receipt = claims.add_receipt(kiran, claim.id, "ticket.jpg", RECEIPT)
    assert receipt.content_type == "image/jpeg"
    claim = claims.submit_claim(kiran, claim.id)
    assert claim.number == "EXP/2026-27/A/000001" and claim.status == "submitted"
    assert [c.id for c in claims.claims_to_approve(meera)] == [claim.id]
    assert claims.get_receipt(meera, receipt.id).data == RECEIPT
    claim = claims.approve_claim(meera, claim.id, "OK, client visit confirmed")
    assert (claim.status, claim.decided_by) == ("approved", "meera")
    assert [c.id for c in claims.list_claims(priya, "approved")] == [claim.id]
    claim = claims.reimburse_claim(priya, claim.id, "bank", date(2026, 11, 2))
    assert claim.status == "reimbursed" and claim.settled_via == "bank"
    entry = ledger.get_entry(world.admin, claim.journal_entry_id)
    got = {(ln.account_code, (ln.debit or ln.credit).amount, bool(ln.debit))
           for ln in entry.lines}
    assert got == {("6400", D("1250.00"), True), ("6900", D("340.50"), True),
                   ("6500", D("99.00"), True), ("1200", D("1689.50"), False)}
    with world.admin.db.read() as s:
        actions = [a for a in s.scalars(select(AuditEvent.action).where(
            AuditEvent.action.like("hr.claim_%")).order_by(AuditEvent.seq))]
    assert actions == ["hr.claim_created", "hr.claim_updated", "hr.claim_receipt_added",
                       "hr.claim_submitted", "hr.claim_receipt_viewed", "hr.claim_approved",
                       "hr.claim_reimbursed"]


def test_claim_paid_through_the_next_payroll(world: World):
    claim = filed(world, "640.00")
    claims.approve_claim(world.login("anita"), claim.id)  # HR may decide any claim
    queued = claims.send_claim_to_payroll(world.login("priya"), claim.id, date(2026, 10, 28))
    assert queued.status == "in_payroll"
    entry = ledger.get_entry(world.admin, queued.journal_entry_id)
    assert {(ln.account_code, bool(ln.credit)) for ln in entry.lines} == {
        ("6400", False), ("2320", True)}

    terminate_farah(world)
    payroll.start_run(world.admin, "2026-10")
    kiran = next(e for e in payroll.get_run(world.admin, "2026-10").entries
                 if e.employee_code == "EMP-002")
    reimb = next(ln for ln in kiran.lines if ln.code == "REIMB")
    assert (reimb.amount.amount, reimb.taxable, reimb.reimbursement) == (D("640.00"), False,
                                                                         True)
    assert kiran.net == Money(D("48640.00"), "INR")  # 48,000 salary + 640 claim
    assert claims.get_claim(world.admin, claim.id).payroll_period == "2026-10"
    payroll.submit_run(world.admin, "2026-10")
    payroll.approve_run(world.admin, "2026-10")
    posted = payroll.post_run(world.admin, "2026-10")
    assert posted.reimbursements == Money(D("640.00"), "INR")
    lines_ = {(ln.account_code, bool(ln.debit)): (ln.debit or ln.credit).amount
              for ln in ledger.get_entry(world.admin, posted.journal_entry_id).lines}
    assert lines_[("2320", True)] == D("640.00")  # claims payable cleared by the run
    assert lines_[("6100", True)] == posted.gross.amount - D("640.00")  # salary cost only
    assert claims.get_claim(world.admin, claim.id).status == "paid_in_payroll"
    tb = ledger.trial_balance(world.admin, date(2026, 10, 31))
    assert "2320" not in {r.code for r in tb.rows}  # nets to zero


def test_rejected_with_a_comment_then_corrected_and_resubmitted(world: World):
    kiran, meera = world.login("kiran"), world.login("meera")
    claim = filed(world, "4000")
    with pytest.raises(ValidationError, match="Say why"):
        claims.reject_claim(meera, claim.id, "  ")
    claim = claims.reject_claim(meera, claim.id, "Please attach the hotel bill")
    assert claim.status == "rejected" and claim.decision_comment == "Please attach the hotel bill"
    claim = claims.reopen_claim(kiran, claim.id)
    claim = claims.update_claim(kiran, claim.id, claim.version, lines=lines("3500"))
    claim = claims.submit_claim(kiran, claim.id)
    assert claim.number == "EXP/2026-27/A/000001"  # keeps its number
    assert claim.decision_comment is None


def test_illegal_steps_are_refused_clearly(world: World):
    kiran, priya = world.login("kiran"), world.login("priya")
    claim = filed(world, "500")
    with pytest.raises(ValidationError, match="waiting for approval; it cannot be reimbursed"):
        claims.reimburse_claim(priya, claim.id)
    with pytest.raises(ValidationError, match="only a draft can be changed"):
        claims.update_claim(kiran, claim.id, claim.version, title="New")
    with pytest.raises(ValidationError, match="waiting for approval; it cannot be submitted"):
        claims.submit_claim(kiran, claim.id)
    with pytest.raises(ValidationError, match="receipts are added while it is a draft"):
        claims.add_receipt(kiran, claim.id, "late.jpg", RECEIPT)
    claims.approve_claim(world.login("anita"), claim.id)
    with pytest.raises(ValidationError, match="approved; it cannot be rejected"):
        claims.reject_claim(world.login("anita"), claim.id, "changed my mind")
    claims.reimburse_claim(priya, claim.id, "cash")
    with pytest.raises(ValidationError, match="reimbursed; it cannot be sent to payroll"):
        claims.send_claim_to_payroll(priya, claim.id)
    with pytest.raises(ValidationError, match="bank or from cash"):
        claims.reimburse_claim(priya, claim.id, "card")


def test_bad_lines_and_receipts(world: World):
    kiran = world.login("kiran")
    bad = [
        ([claims.ClaimLineInput(date(2026, 12, 1), "travel", "10")], "in the future"),
        ([claims.ClaimLineInput(date(2026, 10, 1), "casino", "10")], "category is one of"),
        ([claims.ClaimLineInput(date(2026, 10, 1), "travel", "0")], "greater than zero"),
        ([claims.ClaimLineInput(date(2026, 10, 1), "travel", "1.234")], "decimal places"),
        ([claims.ClaimLineInput(date(2026, 10, 1), "travel", 10.5)], "not as a float"),
        ([], "at least one expense line"),
    ]
    for given, message in bad:
        with pytest.raises(ValidationError, match=message):
            claims.create_claim(kiran, "Trip", given)
    claim = claims.create_claim(kiran, "Trip", lines("100"))
    with pytest.raises(ValidationError, match="not a PDF or an image"):
        claims.add_receipt(kiran, claim.id, "receipt.jpg", b"<html>not an image</html>")
    with pytest.raises(ValidationError, match="not linked to an employee"):
        claims.create_claim(world.login("ravi"), "Trip", lines("100"))


def test_who_may_decide_and_read(world: World):
    claim = filed(world, "800")
    # Anita is HR: she decides anyone's claims. Priya is neither HR nor Kiran's manager.
    priya = world.login("priya")
    assert claims.claims_to_approve(world.login("anita"))[0].id == claim.id
    assert claims.claims_to_approve(world.login("kiran")) == []
    with pytest.raises(PermissionDenied):
        claims.approve_claim(world.login("ravi"), claim.id)
    with pytest.raises(NotFound):  # not Kiran's: nobody else edits his claims
        claims.update_claim(world.login("meera"), claim.id, claim.version, title="x")
    # Kiran's claim is readable by him, his manager, HR and the accountant.
    for login in ("kiran", "meera", "anita", "priya"):
        assert claims.get_claim(world.login(login), claim.id).id == claim.id
    for login in ("ravi", "sunil"):
        with pytest.raises(PermissionDenied):
            claims.get_claim(world.login(login), claim.id)
    assert priya.actor.can("hr.claims.reimburse")


def test_nobody_decides_their_own_claim(world: World):
    meera = world.login("meera")
    claim = claims.create_claim(meera, "Team lunch", lines("2400"))
    claim = claims.submit_claim(meera, claim.id)
    with pytest.raises(PermissionDenied):  # Meera has no manager and is not HR
        claims.approve_claim(meera, claim.id)
    anita = world.login("anita")
    own = claims.submit_claim(anita, claims.create_claim(anita, "Printer ink", lines("900")).id)
    with pytest.raises(ValidationError, match="Nobody decides their own"):
        claims.approve_claim(anita, own.id)
    assert claims.approve_claim(anita, claim.id).status == "approved"


def test_a_leaver_is_not_paid_through_payroll(world: World):
    claim = filed(world, "300")
    claims.approve_claim(world.login("meera"), claim.id)
    from erp_desktop.services import hr

    kiran = hr.get_employee(world.admin, world.emp["EMP-002"])
    hr.terminate_employee(world.admin, kiran.id, kiran.version, date(2026, 10, 31), "Left")
    with pytest.raises(ValidationError, match="has left"):
        claims.send_claim_to_payroll(world.login("priya"), claim.id)
    assert claims.get_claim(world.admin, claim.id).status == "approved"  # nothing half done


def test_claims_in_every_state(world: World):
    kiran, meera, priya = world.login("kiran"), world.login("meera"), world.login("priya")
    claims.create_claim(kiran, "Draft", lines("10"))
    filed(world, "20")
    claims.reject_claim(meera, filed(world, "30").id, "No receipt")
    claims.approve_claim(meera, filed(world, "40").id)
    claims.reimburse_claim(priya, claims.approve_claim(meera, filed(world, "50").id).id)
    claims.send_claim_to_payroll(priya, claims.approve_claim(meera, filed(world, "60").id).id)
    mine = claims.list_my_claims(kiran)
    assert sorted(c.status for c in mine) == sorted(
        ["draft", "submitted", "rejected", "approved", "reimbursed", "in_payroll"])
    assert "draft" not in {c.status for c in claims.list_claims(priya)}
    with pytest.raises(ValidationError, match="state is one of"):
        claims.list_claims(priya, "lost")
