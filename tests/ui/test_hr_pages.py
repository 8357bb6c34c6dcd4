"""The HR area: employees and documents, salaries, a month's payroll, expense claims.

One's own claims are filed in the Me area (tests/ui/test_self_service.py has
the rest of it); HR decides them here.
"""

from __future__ import annotations

import io
import threading
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QTabWidget

from erp_desktop.services import auth, claims, hr, payroll, users
from erp_desktop.services.authz import DEFAULT_ROLES
from erp_desktop.ui import pdf_preview
from erp_desktop.ui.claims_pages import ClaimDialog, DecisionDialog
from erp_desktop.ui.common_widgets import ImageViewDialog
from erp_desktop.ui.hr_pages import EmployeeDialog, HrPage, StructureDialog
from erp_desktop.ui.payroll_pages import (
    APPROVE,
    PAID,
    PAYSLIPS,
    POST,
    REVIEW,
    AdjustmentDialog,
    UnpaidLeaveDialog,
)
from erp_desktop.ui.self_service import SelfServicePage
from erp_desktop.ui.shortcuts import Command
from erp_desktop.ui.widgets import PageEnv
from tests.services.hr.conftest import (  # noqa: F401  (hr_template is a fixture)
    hr_template,
    open_world,
    post_october,
)
from tests.ui.conftest import drain_pool

pytestmark = pytest.mark.ui

WAIT = 20_000
HR_TABS = {"Employees", "Salaries", "Payroll", "Claims to approve"}


@pytest.fixture
def world(hr_template, tmp_path, config, device, clock):  # noqa: F811
    """Six employees, logins for every role, salaries from April 2026; today 2 Nov 2026."""
    w = open_world(hr_template, tmp_path / "Staffed Traders.erp", config, device, clock)
    yield w
    drain_pool()
    w.close()


@pytest.fixture
def previews(monkeypatch):
    """Every PDF the pages would preview: (bytes, title, file name)."""
    shown = []

    class CapturedPreview:
        def __init__(self, data, *, title, file_name="document.pdf", parent=None):
            shown.append((data, title, file_name))

        def setAttribute(self, *_args):
            pass

        def open(self):
            pass

    monkeypatch.setattr(pdf_preview, "PdfPreviewDialog", CapturedPreview)
    return shown


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def hr_page(open_main, ctx):
    main = open_main(ctx, area="hr")
    return main, main.page("hr")


def png_file(path):
    image = QImage(60, 40, QImage.Format.Format_RGB32)
    image.fill(QColor("#2f6fcf"))
    assert image.save(str(path), "PNG")
    return path


# ------------------------------------------------------------------ employees


def test_an_hr_manager_adds_an_employee_through_the_dialog(qtbot, world, open_main):
    main, page = hr_page(open_main, world.login("anita"))
    assert page.tab_names() == ["Employees", "Salaries", "Payroll", "Claims to approve"]
    tab = page.show_tab("employees")
    model = tab.list.model
    qtbot.waitUntil(lambda: model.total == 6 and model.is_loaded(5), timeout=WAIT)
    assert [model.index(0, c).data() for c in range(6)] == \
        ["EMP-001", "Meera Pillai", "Sales", "Sales manager", "Current", "1 Jun 2021"]

    main.run_command(Command.NEW)
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, EmployeeDialog), timeout=WAIT)
    dialog = tab.last_dialog
    f = dialog.form
    f.fields["code"].widget.setText("EMP-007")
    f.fields["full_name"].widget.setText("Rohan Mehta")
    f.set_value("department_id", str(world.depts["Stores"]))
    f.set_value("hire_date", date(2026, 11, 2))
    dialog.birth.known.setChecked(True)
    dialog.birth.edit.setDate(date(1995, 8, 15))
    f.fields["email"].widget.setText("rohan@example.com")
    f.fields["bank_ifsc"].widget.setText("HDFC0001234")
    dialog.masked["bank_account_number"].edit.setText("50100999888777")
    dialog.masked["tax_id"].edit.setText("12345")  # not a PAN: the service says why
    dialog.save()
    qtbot.waitUntil(lambda: f.field_error("tax_id") != "", timeout=WAIT)
    assert "A PAN is ten characters" in f.field_error("tax_id")
    assert model.total == 6

    dialog.masked["tax_id"].edit.setText("abcpm1234k")
    dialog.save()
    qtbot.waitUntil(lambda: model.total == 7, timeout=WAIT)
    assert "Rohan Mehta added" in tab.message.text()
    [row] = [e for e in hr.list_employees(world.admin) if e.code == "EMP-007"]
    saved = hr.get_employee(world.admin, row.id)
    assert (saved.full_name, saved.department, saved.date_of_birth, saved.tax_id,
            saved.bank_account_number) == ("Rohan Mehta", "Stores", date(1995, 8, 15),
                                           "ABCPM1234K", "50100999888777")

    # Editing: the PAN and the account number are masked until Show is pressed.
    qtbot.waitUntil(lambda: model.is_loaded(6), timeout=WAIT)
    tab.list.view.select_row(6)
    qtbot.waitUntil(lambda: tab.panel.detail is not None
                    and tab.panel.detail.code == "EMP-007", timeout=WAIT)
    tab.edit_employee()
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, EmployeeDialog)
                    and tab.last_dialog.detail is not None, timeout=WAIT)
    edit = tab.last_dialog
    pan = edit.masked["tax_id"]
    assert pan.edit.text() == "XXXXXX234K" and pan.edit.isReadOnly()
    assert edit.masked["bank_account_number"].edit.text() == "XXXXXXXXXX8777"
    edit.form.fields["phone"].widget.setText("+91 98450 12345")
    edit.save()
    qtbot.waitUntil(lambda: "Rohan Mehta saved" in tab.message.text(), timeout=WAIT)
    again = hr.get_employee(world.admin, row.id)
    assert again.phone == "+91 98450 12345" and again.tax_id == "ABCPM1234K"


def test_a_change_made_meanwhile_is_reported_with_reload_never_overwritten(
        qtbot, world, open_main):
    _main, page = hr_page(open_main, world.login("anita"))
    tab = page.show_tab("employees")
    qtbot.waitUntil(lambda: tab.list.model.is_loaded(1), timeout=WAIT)
    tab.edit_employee(tab.list.model.row_at(1))
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, EmployeeDialog), timeout=WAIT)
    dialog = tab.last_dialog
    kiran = hr.get_employee(world.admin, world.emp["EMP-002"])
    hr.update_employee(world.admin, kiran.id, kiran.version, phone="+91 80 2222 3333")

    dialog.form.fields["email"].widget.setText("kiran.rao@example.com")
    dialog.save()
    qtbot.waitUntil(lambda: "changed by someone else" in dialog.form.banner_message,
                    timeout=WAIT)
    assert dialog.form.reload_button.isVisible()
    assert hr.get_employee(world.admin, kiran.id).email is None  # nothing overwritten
    dialog.form.reload_button.click()
    qtbot.waitUntil(lambda: dialog.form.fields["phone"].widget.text() == "+91 80 2222 3333",
                    timeout=WAIT)
    assert dialog.masked["tax_id"].edit.text() == "XXXXXX788L"
    dialog.form.fields["email"].widget.setText("kiran.rao@example.com")
    dialog.save()
    qtbot.waitUntil(lambda: "Kiran Rao saved" in tab.message.text(), timeout=WAIT)
    saved = hr.get_employee(world.admin, kiran.id)
    assert (saved.phone, saved.email) == ("+91 80 2222 3333", "kiran.rao@example.com")


def test_documents_are_attached_opened_saved_and_the_10_mb_limit_is_said(
        qtbot, world, open_main, previews, tmp_path):
    _main, page = hr_page(open_main, world.login("anita"))
    tab = page.show_tab("employees")
    qtbot.waitUntil(lambda: tab.list.model.is_loaded(1), timeout=WAIT)
    tab.list.view.select_row(1)
    panel = tab.panel
    qtbot.waitUntil(lambda: panel.detail is not None and panel.detail.code == "EMP-002",
                    timeout=WAIT)
    contract = tmp_path / "Kiran contract.pdf"
    contract.write_bytes(b"%PDF-1.4\n% a contract\n%%EOF\n")
    panel.kind.setCurrentIndex(panel.kind.findData("contract"))
    panel.attach_file(contract)
    qtbot.waitUntil(lambda: panel.documents.model.rowCount() == 1, timeout=WAIT)
    assert panel.documents.model.index(0, 0).data() == "Kiran contract.pdf"
    assert panel.documents.model.index(0, 1).data() == "Contract"

    too_big = tmp_path / "scan.pdf"
    too_big.write_bytes(b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024))
    panel.attach_file(too_big)
    qtbot.waitUntil(lambda: "at most 10 MB" in panel.status.text(), timeout=WAIT)
    assert "'scan.pdf' is 11.0 MB" in panel.status.text()
    assert len(hr.get_employee(world.admin, world.emp["EMP-002"]).attachments) == 1

    panel.documents.open_current()
    qtbot.waitUntil(lambda: len(previews) == 1, timeout=WAIT)
    assert previews[0][0] == contract.read_bytes()
    assert previews[0][2] == "Kiran contract.pdf"
    copy = tmp_path / "copy.pdf"
    panel.documents.save_to(panel.documents.current(), copy)
    qtbot.waitUntil(lambda: "Saved a copy" in panel.status.text(), timeout=WAIT)
    assert copy.read_bytes() == contract.read_bytes()


# ------------------------------------------------------------------ salaries


def test_a_new_salary_structure_is_set_for_the_selected_employee(qtbot, world, open_main):
    main, page = hr_page(open_main, world.login("anita"))
    tab = page.show_tab("salaries")
    model = tab.list.model
    qtbot.waitUntil(lambda: model.total == 6 and model.is_loaded(1), timeout=WAIT)
    tab.list.view.select_row(1)
    qtbot.waitUntil(lambda: tab.salary is not None, timeout=WAIT)
    assert tab.salary.employee_code == "EMP-002"
    # Basic 30,000 + HRA 40 % 12,000 + special 8,000; PF 12 % capped at 1,800, PT 200.
    assert tab.cards["gross"].value.text() == "₹50,000.00"
    assert tab.cards["net"].value.text() == "₹48,000.00"
    assert tab.history_model.rowCount() == 1
    assert tab.lines_model.index(1, 2).data() == "40% of BASIC"

    assert Command.NEW in main.available_commands()
    main.run_command(Command.NEW)
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, StructureDialog), timeout=WAIT)
    dialog = tab.last_dialog
    assert dialog.grid.edits[0].text() == "30,000.00"  # the current structure is the start
    dialog.form.set_value("effective_from", "2026-12-01")
    dialog.grid.set_amount("BASIC", "33,000")
    dialog.grid.set_amount("SPECIAL", "nine thousand")
    dialog.save()
    assert "not a number" in dialog.form.field_error("lines")
    dialog.grid.set_amount("SPECIAL", "9,000")
    dialog.form.fields["note"].widget.setText("Annual raise")
    dialog.save()
    qtbot.waitUntil(lambda: "applies from 1 Dec 2026" in tab.message.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: tab.history_model.rowCount() == 2, timeout=WAIT)
    assert tab.history_model.index(0, 0).data() == "1 Dec 2026"
    assert tab.history_model.index(0, 4).data() == "Annual raise"
    newest = payroll.get_salary(world.admin, world.emp["EMP-002"]).history[0]
    amounts = {ln.code: ln.amount for ln in newest.lines if ln.amount is not None}
    assert amounts["BASIC"].amount == Decimal("33000") and \
        amounts["SPECIAL"].amount == Decimal("9000")
    assert newest.note == "Annual raise"


# ------------------------------------------------------------------ payroll


def test_a_month_runs_through_the_wizard_to_posted_payslips_and_paid(
        qtbot, world, open_main, previews, tmp_path):
    main, page = hr_page(open_main, world.admin)
    tab = page.show_tab("payroll")
    qtbot.waitUntil(lambda: tab.loads >= 1, timeout=WAIT)
    assert tab.model.rowCount() == 0

    main.run_command(Command.NEW)
    wizard = tab.wizard
    assert wizard is not None and wizard.currentPage() is wizard.month_page
    month = wizard.month_page.month
    month.setCurrentIndex(month.findData("2026-10"))
    assert "No payroll for October 2026 yet" in wizard.month_page.info.text()
    wizard.next()  # computes on the worker behind a progress dialog
    qtbot.waitUntil(lambda: wizard.currentId() == REVIEW, timeout=WAIT)
    review = wizard.review_page
    assert review.entries_model.rowCount() == 6
    assert wizard.totals.status == "draft"

    review.entries.selectRow(1)  # Kiran: two days' unpaid leave
    leave = review.unpaid_leave()
    assert isinstance(leave, UnpaidLeaveDialog)
    leave.form.fields["lop_days"].widget.setText("2")
    leave.save()
    qtbot.waitUntil(lambda: wizard.detail.entries[1].lop_days == 2, timeout=WAIT)
    assert review.entries_model.index(1, 3).data() == "2"
    assert review.entries_model.index(1, 2).data() == "29 / 31"

    review.entries.selectRow(0)  # Meera: a one-off bonus
    review.add_adjustment()
    qtbot.waitUntil(lambda: isinstance(wizard.last_dialog, AdjustmentDialog), timeout=WAIT)
    bonus = wizard.last_dialog
    bonus.form.set_value("component_code", "BONUS")
    bonus.form.fields["amount"].widget.setText("5,000")
    bonus.form.fields["note"].widget.setText("Festival bonus")
    bonus.save()
    qtbot.waitUntil(lambda: bool(wizard.detail.entries[0].adjustments), timeout=WAIT)
    qtbot.waitUntil(lambda: review.adjustments.count() == 1, timeout=WAIT)
    assert "Festival bonus" in review.adjustments.item(0).text()

    wizard.next()  # submit for approval
    qtbot.waitUntil(lambda: wizard.currentId() == APPROVE, timeout=WAIT)
    assert wizard.totals.status == "review"
    wizard.next()  # approve
    qtbot.waitUntil(lambda: wizard.currentId() == POST, timeout=WAIT)
    assert wizard.totals.status == "approved"
    wizard.next()  # post
    qtbot.waitUntil(lambda: wizard.currentId() == PAYSLIPS, timeout=WAIT)
    totals = payroll.run_totals(world.admin, "2026-10")
    assert totals.status == "posted" and totals.number.startswith("PAY/2026-27/")

    slips = wizard.payslips_page
    qtbot.waitUntil(lambda: slips.model.rowCount() == 6, timeout=WAIT)
    slips.preview()
    qtbot.waitUntil(lambda: len(previews) == 1, timeout=WAIT)
    data, title, file_name = previews[0]
    assert data.startswith(b"%PDF")
    assert file_name == "payslip-2026-10-EMP-001.pdf"
    assert title == "Payslip of Meera Pillai, October 2026"
    text = pdf_text(data)
    assert "Meera Pillai" in text and "Festival bonus" not in text and "Bonus" in text

    folder = tmp_path / "payslips"
    slips.write_all_to(folder)
    qtbot.waitUntil(lambda: "Wrote 6 payslips" in slips.note.text(), timeout=WAIT)
    written = sorted(p.name for p in folder.iterdir())
    assert written == [f"payslip-2026-10-EMP-00{i}.pdf" for i in range(1, 7)]
    assert all((folder / n).read_bytes().startswith(b"%PDF") for n in written)

    register = tmp_path / "register.csv"
    slips.export_to("register_csv", register)
    qtbot.waitUntil(lambda: "Saved to" in slips.note.text(), timeout=WAIT)
    assert register.read_text(encoding="utf-8-sig").startswith("Employee code,Name,")
    bank = tmp_path / "bank.csv"
    slips.export_to("bank_csv", bank)
    qtbot.waitUntil(lambda: "Saved the bank list" in slips.note.text(), timeout=WAIT)
    assert "pay another way: EMP-006" in slips.note.text()

    wizard.next()
    qtbot.waitUntil(lambda: wizard.currentId() == PAID, timeout=WAIT)
    wizard.paid_page.mark_paid()
    qtbot.waitUntil(lambda: wizard.totals.status == "paid", timeout=WAIT)
    assert "paid on 31 Oct 2026" in wizard.paid_page.state.text()
    wizard.accept()
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1
                    and tab.model.index(0, 2).data() == "Paid", timeout=WAIT)


def test_an_hr_manager_without_the_post_permission_is_told_who_may(qtbot, world, open_main):
    from erp_desktop.services import roles

    roles.revoke(world.admin, "hr_manager", ["hr.payroll.post"])
    payroll.start_run(world.admin, "2026-10")
    payroll.submit_run(world.admin, "2026-10")
    ctx = auth.login(world.path, "anita", "staff-pass-2026!", config=world.config,
                     device=world.device, clock=world.clock)
    world.ctxs["anita-limited"] = ctx
    _main, page = hr_page(open_main, ctx)
    tab = page.show_tab("payroll")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=WAIT)
    tab.open_run()
    qtbot.waitUntil(lambda: tab.wizard is not None, timeout=WAIT)
    wizard = tab.wizard
    assert wizard.currentId() == APPROVE
    approve = wizard.approve_page
    assert not approve.isComplete()  # Approve stays greyed out
    assert approve.who.isVisibleTo(wizard)
    assert "Approve and post payroll" in approve.who.text()
    assert "HR manager" in approve.who.text() and "Owner / admin" in approve.who.text()
    assert not wizard.validateCurrentPage()
    assert payroll.run_totals(world.admin, "2026-10").status == "review"


def test_an_approved_month_sent_back_to_draft_starts_again_at_review(qtbot, world, open_main):
    payroll.start_run(world.admin, "2026-10")
    payroll.submit_run(world.admin, "2026-10")
    payroll.approve_run(world.admin, "2026-10")
    _main, page = hr_page(open_main, world.admin)
    tab = page.show_tab("payroll")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=WAIT)
    assert tab.model.index(0, 2).data() == "Approved"
    tab.open_run()
    qtbot.waitUntil(lambda: tab.wizard is not None, timeout=WAIT)
    wizard = tab.wizard
    assert wizard.currentId() == POST and wizard.post_page.back_to_draft.isVisibleTo(wizard)
    wizard.post_page.back_to_draft.click()
    qtbot.waitUntil(lambda: wizard.currentId() == REVIEW, timeout=WAIT)
    assert wizard.totals.status == "draft"
    assert wizard.review_page.leave_button.isEnabled()
    assert payroll.run_totals(world.admin, "2026-10").status == "draft"
    qtbot.waitUntil(lambda: tab.model.index(0, 2).data() == "Draft", timeout=WAIT)


def test_cancelling_the_payslip_folder_stops_and_says_how_far_it_got(
        qtbot, world, open_main, tmp_path, monkeypatch):
    post_october(world)
    release = threading.Event()
    real_pdf = payroll.payslip_pdf
    calls = []

    def slow_pdf(ctx, payslip_id):
        calls.append(payslip_id)
        if len(calls) == 2:
            assert release.wait(20)
        return real_pdf(ctx, payslip_id)

    monkeypatch.setattr(payroll, "payslip_pdf", slow_pdf)
    _main, page = hr_page(open_main, world.admin)
    tab = page.show_tab("payroll")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=WAIT)
    tab.open_run()
    qtbot.waitUntil(lambda: tab.wizard is not None, timeout=WAIT)
    slips = tab.wizard.payslips_page
    assert tab.wizard.currentId() == PAYSLIPS
    folder = tmp_path / "slips"
    run = slips.write_all_to(folder)
    qtbot.waitUntil(lambda: len(calls) == 2, timeout=WAIT)
    run.cancel()  # the dialog's Cancel
    release.set()
    qtbot.waitUntil(lambda: "Cancelled after" in slips.note.text(), timeout=WAIT)
    files = list(folder.iterdir())
    assert f"Cancelled after {len(files)} payslips" in slips.note.text()
    assert 1 <= len(files) < 5  # October pays five people (Farah left)


# ------------------------------------------------------------------ expense claims


def test_staff_file_a_claim_with_a_receipt_and_the_hr_manager_approves_it(
        qtbot, world, open_main, tmp_path):
    kiran = world.login("kiran")
    staff = SelfServicePage(PageEnv(kiran, "en_IN", "Template Traders Pvt Ltd"))
    qtbot.addWidget(staff)
    staff.resize(1366, 768)
    staff.show()
    qtbot.waitUntil(lambda: staff.my_claims is not None, timeout=WAIT)
    assert staff.tab_names() == ["My claims", "My payslips"]  # nothing of anyone else
    mine = staff.my_claims
    qtbot.waitUntil(lambda: mine.loads >= 1, timeout=WAIT)

    dialog = mine.new_claim()
    assert isinstance(dialog, ClaimDialog)
    dialog.form.fields["title"].widget.setText("Client visit to Mysuru")
    dialog.editor.set_row(0, date(2026, 10, 28), "travel", "640.50", "Cab to the client")
    dialog.editor.set_row(1, date(2026, 10, 28), "meals", "250", "Lunch")
    assert dialog.editor.total.text() == "Total 890.50"
    dialog.save()
    qtbot.waitUntil(lambda: mine.panel.detail is not None, timeout=WAIT)
    assert mine.panel.detail.status == "draft"
    assert mine.panel.lines_model.rowCount() == 2

    receipt = png_file(tmp_path / "cab receipt.png")
    mine.attach_receipt_file(receipt)
    qtbot.waitUntil(lambda: mine.panel.receipts.model.rowCount() == 1, timeout=WAIT)
    not_a_receipt = tmp_path / "notes.txt"
    not_a_receipt.write_text("taxi 640")
    mine.attach_receipt_file(not_a_receipt)
    qtbot.waitUntil(lambda: "is not a PDF or an image" in mine.message.text(), timeout=WAIT)

    mine.submit()
    qtbot.waitUntil(lambda: mine.panel.detail.status == "submitted", timeout=WAIT)
    number = mine.panel.detail.number
    assert number.startswith("EXP/2026-27/")
    assert "submitted for approval" in mine.message.text()
    assert not mine.submit_button.isEnabled() and not mine.receipt_button.isEnabled()

    _main, page = hr_page(open_main, world.login("anita"))
    tab = page.show_tab("approve_claims")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=WAIT)
    assert tab.model.index(0, 0).data() == number
    assert tab.model.index(0, 1).data() == "Kiran Rao"
    assert tab.model.index(0, 4).data() == "₹890.50"
    qtbot.waitUntil(lambda: tab.panel.receipts.model.rowCount() == 1, timeout=WAIT)
    tab.panel.receipts.open_current()
    qtbot.waitUntil(lambda: tab.panel.receipts.findChild(ImageViewDialog) is not None,
                    timeout=WAIT)
    viewer = tab.panel.receipts.findChild(ImageViewDialog)
    assert viewer.picture.pixmap() is not None and not viewer.picture.pixmap().isNull()
    viewer.close()

    decision = tab.decide(True)
    assert isinstance(decision, DecisionDialog)
    decision.form.fields["comment"].widget.setPlainText("Fine, thanks")
    decision.save()
    qtbot.waitUntil(lambda: "approved" in tab.message.text(), timeout=WAIT)
    claim = claims.get_claim(world.admin, mine.panel.detail.id)
    assert claim.status == "approved" and claim.decided_by == "anita"
    assert claim.decision_comment == "Fine, thanks"
    qtbot.waitUntil(lambda: tab.model.rowCount() == 0, timeout=WAIT)  # nothing left to decide

    mine.reload()
    qtbot.waitUntil(lambda: mine.model.rowCount() == 1
                    and mine.model.index(0, 2).data() == "Approved", timeout=WAIT)

    # The accountant (no HR area) pays it back from Accounting.
    books = open_main(world.login("priya"), area="accounting").page("accounting")
    assert books.claims is not None
    books.show_tab("claims")
    pay_back = books.claims
    qtbot.waitUntil(lambda: pay_back.model.rowCount() == 1, timeout=WAIT)
    assert pay_back.model.index(0, 0).data() == number
    qtbot.waitUntil(lambda: pay_back.panel.detail is not None, timeout=WAIT)
    dialog = pay_back.reimburse()
    assert dialog is not None
    dialog.save()
    qtbot.waitUntil(lambda: claims.get_claim(world.admin, mine.panel.detail.id).status
                    == "reimbursed", timeout=WAIT)


# ------------------------------------------------------------------ who sees HR


def test_a_sales_clerk_sees_no_hr_area_and_no_hr_tab_anywhere(qtbot, world, open_main):
    assert "sales_clerk" in DEFAULT_ROLES
    users.add_user(world.admin, "sonia", "Sonia Clerk", "counter drawer 77 ok", "sales_clerk")
    ctx = auth.login(world.path, "sonia", "counter drawer 77 ok", config=world.config,
                     device=world.device, clock=world.clock)
    world.ctxs["sonia"] = ctx
    main = open_main(ctx)
    assert "hr" not in main.area_keys()
    assert all("HR" not in main.sidebar.item(i).text() for i in range(main.sidebar.count()))
    for key in main.area_keys():
        try:
            main.page(key)
        except ModuleNotFoundError as exc:  # an area whose page is still being written
            assert exc.name and exc.name.startswith("erp_desktop.ui.")
    assert main.findChildren(HrPage) == []
    tabs = {t.tabText(i) for w in main.findChildren(QTabWidget) for t in [w]
            for i in range(t.count())}
    assert not tabs & HR_TABS
