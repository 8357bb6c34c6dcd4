"""The Me area: one's own expense claims and payslips, and a line manager's claims to decide.

Ravi (sales clerk) is linked to a new employee record, EMP-007, reporting to
Meera; Sunil (storekeeper) has no employee record; Meera (employee role) is
the line manager of Kiran, Farah and Ravi; Anita is the HR manager.
"""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QTabWidget, QWidget

from erp_desktop.domain.money import format_money
from erp_desktop.services import claims, hr, payroll
from erp_desktop.ui import pdf_preview
from erp_desktop.ui.claims_pages import ClaimDialog, DecisionDialog
from erp_desktop.ui.hr_pages import HrPage
from erp_desktop.ui.payroll_pages import PayrollTab, PayrollWizard
from erp_desktop.ui.self_service import SelfServicePage
from erp_desktop.ui.shortcuts import Command
from erp_desktop.ui.worker import Task
from tests.services.hr.conftest import (  # noqa: F401  (hr_template is a fixture)
    APRIL,
    hr_template,
    open_world,
    post_october,
    structure,
)
from tests.ui.conftest import drain_pool

pytestmark = pytest.mark.ui

WAIT = 20_000
NOT_LINKED = "Your login is not linked to an employee record; ask HR to link it."


@pytest.fixture
def world(hr_template, tmp_path, config, device, clock):  # noqa: F811
    """The staffed company with Ravi the sales clerk on the payroll; October 2026 posted."""
    w = open_world(hr_template, tmp_path / "Staffed Traders.erp", config, device, clock)
    ravi = hr.add_employee(w.admin, "EMP-007", "Ravi Kumar", date(2025, 5, 5),
                           department_id=w.depts["Sales"], manager_id=w.emp["EMP-001"],
                           bank_account_number="7766554433", bank_ifsc="HDFC0001234")
    w.emp["EMP-007"] = ravi.id
    hr.link_user(w.admin, ravi.id, "ravi")
    payroll.set_salary_structure(w.admin, ravi.id, APRIL, structure(18000, 4000))
    post_october(w)
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


def png_file(path):
    image = QImage(60, 40, QImage.Format.Format_RGB32)
    image.fill(QColor("#2f6fcf"))
    assert image.save(str(path), "PNG")
    return path


def me_page(qtbot, open_main, ctx):
    main = open_main(ctx, area="me")
    page = main.page("me")
    assert isinstance(page, SelfServicePage)
    qtbot.waitUntil(lambda: page.record is not None, timeout=WAIT)
    return main, page


def shown_text(page: QWidget) -> str:
    """The text of every label, button and field on screen in `page`, lower case."""
    parts = []
    for w in page.findChildren(QWidget):
        text = getattr(w, "text", None)
        if callable(text) and w.isVisibleTo(page) and isinstance(value := text(), str):
            parts.append(value)
    return " ".join(parts).lower()


def slip_of(w, code: str):
    return next(p for p in payroll.list_payslips(w.admin, "2026-10") if p.employee_code == code)


def test_a_sales_clerk_files_a_claim_and_sees_only_their_own_payslip(
        qtbot, world, open_main, previews, tmp_path):
    main, page = me_page(qtbot, open_main, world.login("ravi"))
    assert "me" in main.area_keys() and "hr" not in main.area_keys()
    assert page.tab_names() == ["My claims", "My payslips"]
    assert page.title_label.text() == "My claims and payslips"
    assert "Ravi Kumar · EMP-007" in page.about.text()
    assert "ravi kumar" in shown_text(page)  # the scan below reads what is on screen

    # A claim with a receipt, submitted to Meera.
    mine = page.show_tab("my_claims")
    qtbot.waitUntil(lambda: mine.loads >= 1, timeout=WAIT)
    dialog = mine.new_claim()
    assert isinstance(dialog, ClaimDialog)
    dialog.form.fields["title"].widget.setText("Courier to a customer")
    dialog.editor.set_row(0, date(2026, 10, 30), "travel", "180", "Courier to Jayanagar")
    dialog.save()
    qtbot.waitUntil(lambda: mine.panel.detail is not None, timeout=WAIT)
    mine.attach_receipt_file(png_file(tmp_path / "courier slip.png"))
    qtbot.waitUntil(lambda: mine.panel.receipts.model.rowCount() == 1, timeout=WAIT)
    mine.submit()
    qtbot.waitUntil(lambda: mine.panel.detail.status == "submitted", timeout=WAIT)
    filed = claims.get_claim(world.admin, mine.panel.detail.id)
    assert (filed.employee_code, filed.total.amount, len(filed.receipts)) == \
        ("EMP-007", Decimal("180.00"), 1)

    # The October payslip: his alone, with his figures, previewed as a PDF.
    slips = page.show_tab("payslips")
    qtbot.waitUntil(lambda: slips.loads >= 1, timeout=WAIT)
    assert slips.model.rowCount() == 1
    own = payroll.get_payslip(world.admin, slip_of(world, "EMP-007").id)
    assert [slips.model.index(0, c).data() for c in (0, 2, 6)] == \
        ["October 2026", "Posted", format_money(own.net, "en_IN")]
    slips.preview()
    qtbot.waitUntil(lambda: len(previews) == 1, timeout=WAIT)
    data, title, file_name = previews[0]
    assert (title, file_name) == ("Your payslip, October 2026", "payslip-2026-10-EMP-007.pdf")
    text = pdf_text(data)
    assert "Ravi Kumar" in text and "Kiran Rao" not in text

    copy = tmp_path / "my payslip.pdf"
    slips.save_to(slips.current(), copy)
    qtbot.waitUntil(lambda: "Saved to" in slips.message.text(), timeout=WAIT)
    assert copy.read_bytes().startswith(b"%PDF")

    # Someone else's payslip is refused, even asked for by id.
    kirans = dataclasses.replace(slips.current(), id=slip_of(world, "EMP-002").id)
    slips.preview(kirans)
    qtbot.waitUntil(lambda: "not yours" in slips.message.text(), timeout=WAIT)
    assert len(previews) == 1

    # And still no HR area and no payroll anywhere.
    for key in main.area_keys():
        main.show_area(key)
        shown = main.page(key)
        qtbot.waitUntil(lambda page=shown: not any(t.running for t in page.findChildren(Task)),
                        timeout=WAIT)
        assert "payroll" not in shown_text(shown), key
    assert main.findChildren(HrPage) == [] and main.findChildren(PayrollTab) == []
    assert main.findChildren(PayrollWizard) == []
    tabs = {t.tabText(i) for t in main.findChildren(QTabWidget) for i in range(t.count())}
    assert not tabs & {"Employees", "Salaries", "Payroll", "Claims to approve"}


def test_a_login_without_an_employee_record_is_told_plainly(qtbot, world, open_main):
    main, page = me_page(qtbot, open_main, world.login("sunil"))
    qtbot.waitUntil(lambda: page.notice.isVisible(), timeout=WAIT)
    assert page.notice.text() == NOT_LINKED
    assert page.tabs.count() == 0 and not page.tabs.isVisible()
    assert page.my_claims is None and page.payslips is None
    assert "payslip" not in shown_text(page)  # nothing is promised that is not there

    # HR links the login; Refresh (F5) brings the person's claims and payslips.
    hr.link_user(world.admin, world.emp["EMP-005"], "sunil")
    assert Command.REFRESH in main.available_commands()
    main.run_command(Command.REFRESH)
    qtbot.waitUntil(lambda: page.payslips is not None, timeout=WAIT)
    assert not page.notice.isVisible() and page.tab_names() == ["My claims", "My payslips"]
    qtbot.waitUntil(lambda: page.my_claims.loads >= 1, timeout=WAIT)
    page.show_tab("payslips")
    qtbot.waitUntil(lambda: page.payslips.model.rowCount() == 1, timeout=WAIT)
    assert page.payslips.model.index(0, 0).data() == "October 2026"


def test_a_line_manager_decides_a_reports_claim_in_the_me_area(qtbot, world, open_main):
    kiran = world.login("kiran")
    claim = claims.create_claim(kiran, "Client visit to Mysuru", [claims.ClaimLineInput(
        date(2026, 10, 28), "travel", "640.50", "Cab to the client")])
    claim = claims.submit_claim(kiran, claim.id)

    main, page = me_page(qtbot, open_main, world.login("meera"))
    assert "hr" not in main.area_keys()  # an employee role: no HR area
    assert page.tab_names() == ["My claims", "My payslips", "Claims to approve"]
    tab = page.show_tab("approve_claims")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=WAIT)
    assert [tab.model.index(0, c).data() for c in (0, 1, 4)] == \
        [claim.number, "Kiran Rao", "₹640.50"]
    assert not tab.show_box.isVisibleTo(tab) and not tab.reimburse_button.isVisibleTo(tab)
    qtbot.waitUntil(lambda: tab.panel.detail is not None, timeout=WAIT)
    decision = tab.decide(True)
    assert isinstance(decision, DecisionDialog)
    decision.save()
    qtbot.waitUntil(lambda: "approved" in tab.message.text(), timeout=WAIT)
    decided = claims.get_claim(world.admin, claim.id)
    assert (decided.status, decided.decided_by) == ("approved", "meera")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 0, timeout=WAIT)

    # Kiran manages nobody; Anita decides claims in the HR area, not here.
    _m, kirans = me_page(qtbot, open_main, kiran)
    assert kirans.tab_names() == ["My claims", "My payslips"]
    _m, anitas = me_page(qtbot, open_main, world.login("anita"))
    assert anitas.tab_names() == ["My claims", "My payslips"]
