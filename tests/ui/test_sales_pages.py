"""The Sales area: invoices, printing and batch printing, customers, payments, credit notes."""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from erp_desktop.services import customers, invoice_pdf, sales
from erp_desktop.services import sales_lists as sl
from erp_desktop.services.sales import LineIn
from erp_desktop.ui import sales_pages
from erp_desktop.ui.pdf_preview import PdfPreviewDialog
from erp_desktop.ui.sales_pages import BatchOptions, SalesPage
from erp_desktop.ui.shortcuts import Command
from erp_desktop.ui.widgets import PageEnv
from tests.services.sales.conftest import as_role, make_shop

pytestmark = pytest.mark.ui

WAIT = 20_000
REAL_COUNTER_TAB = sales_pages._counter_tab


@pytest.fixture(autouse=True)
def _no_counter(monkeypatch):
    """The counter is a colleague's page with its own tests: a label stands in for it."""
    monkeypatch.setattr(sales_pages, "_counter_tab", lambda env: QLabel("counter"))


@pytest.fixture
def shop(admin_ctx):
    return make_shop(admin_ctx)


def issue(ctx, customer, *lines, day=None):
    draft = sales.create_draft(ctx, customer, list(lines), invoice_date=day)
    return sales.issue_invoice(ctx, draft.id).invoice


def sales_page(qtbot, open_main, ctx) -> SalesPage:
    main = open_main(ctx, area="sales")
    page = main.page("sales")
    assert isinstance(page, SalesPage)
    return page


def loaded(qtbot, panel, total: int) -> None:
    model = panel.model
    qtbot.waitUntil(lambda: model.total == total and (total == 0 or model.is_loaded(0)),
                    timeout=WAIT)


def select(qtbot, tab, number: str) -> None:
    """Select the invoice `number` in the invoices tab and wait for its detail."""
    model = tab.list.model
    row = next(i for i in range(model.rowCount()) if model.row_at(i).number == number)
    tab.list.view.select_row(row)
    qtbot.waitUntil(lambda: tab.invoice is not None and tab.invoice.number == number,
                    timeout=WAIT)


def pdf_text(data: bytes) -> str:
    import pypdfium2 as pdfium

    from erp_desktop.ui.pdf_preview import PDFIUM_LOCK

    # a preview of an earlier test may still be rendering on the pool: PDFium is not
    # thread-safe (two threads in it at once crash the process)
    with PDFIUM_LOCK:
        doc = pdfium.PdfDocument(data)
        try:
            return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
        finally:
            doc.close()


def test_tabs_follow_the_roles_permissions(qtbot, shop):
    owner = SalesPage(PageEnv(shop.ctx))
    qtbot.addWidget(owner)
    assert owner.tab_keys() == ["counter", "invoices", "customers", "payments", "credit_notes"]
    auditor = SalesPage(PageEnv(as_role(shop.ctx, "auditor")))
    qtbot.addWidget(auditor)
    assert auditor.tab_keys() == ["invoices", "customers", "payments", "credit_notes"]
    invoices = auditor.tab("invoices")
    assert invoices.pay_button.isHidden() and invoices.credit_button.isHidden()
    assert auditor.tab("customers").list.on_new is None  # reads, changes nothing
    assert Command.NEW not in auditor.tab("payments").commands()
    clerk = SalesPage(PageEnv(as_role(shop.ctx, "sales_clerk")))
    qtbot.addWidget(clerk)
    assert "counter" in clerk.tab_keys()
    assert clerk.tab("invoices").credit_button.isHidden()  # clerks do not issue credit notes
    assert not clerk.tab("invoices").pay_button.isHidden()


def test_without_the_counter_editor_the_counter_tab_says_so(qtbot, shop, monkeypatch):
    monkeypatch.setitem(sys.modules, "erp_desktop.ui.invoice_editor", None)
    widget = REAL_COUNTER_TAB(PageEnv(shop.ctx))
    qtbot.addWidget(widget)
    label = widget.findChild(QLabel, "counter_placeholder")
    assert label is not None and "Invoices tab" in label.text()


def test_invoice_list_shows_issued_invoices_with_money_right_aligned_and_filters(
        qtbot, shop, open_main):
    ctx = shop.ctx
    tv = issue(ctx, shop.remote.id, LineIn("TV55", 1), day=date(2026, 10, 10))  # 47,200
    kettle = issue(ctx, shop.local.id, LineIn("KETTLE", 2))  # 2,360
    sales.record_payment(ctx, shop.local.id, "2360.00", "cash")
    sales.create_draft(ctx, shop.local.id, [LineIn("RICE", 1)])
    page = sales_page(qtbot, open_main, ctx)
    tab = page.show_tab("invoices")
    loaded(qtbot, tab.list, 3)
    model = tab.list.model
    total_col, balance_col = model.column_index("total"), model.column_index("balance")
    rows = {model.index(i, 0).data(): i for i in range(3)}
    assert set(rows) == {tv.number, kettle.number, "Draft"}
    r = rows[tv.number]
    assert model.index(r, total_col).data() == "₹47,200.00"
    assert model.index(r, balance_col).data() == "₹47,200.00"
    assert model.index(r, total_col).data(Qt.ItemDataRole.TextAlignmentRole) \
        & Qt.AlignmentFlag.AlignRight
    assert model.index(rows[kettle.number], model.column_index("status_label")).data() == "Paid"

    tab.set_status("paid")
    qtbot.waitUntil(lambda: model.total == 1 and model.is_loaded(0), timeout=WAIT)
    assert model.row_at(0).number == kettle.number
    tab.set_status("")
    loaded(qtbot, tab.list, 3)
    page.window().run_command(Command.FIND)
    tab.list.search.setText("unique")  # the customer's name, typed
    tab.list.model.search_now()
    qtbot.waitUntil(lambda: model.total == 1 and model.is_loaded(0), timeout=WAIT)
    assert model.row_at(0).number == tv.number
    assert "1 invoice" in tab.list.status.text()

    select(qtbot, tab, tv.number)
    assert tab.lines_model.rowCount() == 1
    assert tab.lines_model.index(0, 1).data() == "55-inch LED TV"
    assert tab.lines_model.index(0, 8).data() == "₹47,200.00"
    assert [tab.tax_model.index(i, 0).data() for i in range(tab.tax_model.rowCount())] == [
        "IGST"]
    assert tab.totals.values["Balance due"].text() == "₹47,200.00"
    assert tab.pay_button.isEnabled() and tab.credit_button.isEnabled()


def test_print_preview_opens_with_the_invoices_pdf(qtbot, shop, open_main, monkeypatch):
    opened: list[PdfPreviewDialog] = []
    monkeypatch.setattr(PdfPreviewDialog, "open", lambda self: opened.append(self))
    inv = issue(shop.ctx, shop.local.id, LineIn("KETTLE", 1))
    page = sales_page(qtbot, open_main, shop.ctx)
    tab = page.show_tab("invoices")
    loaded(qtbot, tab.list, 1)
    assert Command.PRINT not in page.commands()  # nothing selected yet
    select(qtbot, tab, inv.number)
    assert Command.PRINT in page.commands()
    page.window().run_command(Command.PRINT)  # Ctrl+P
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=WAIT)
    dialog = opened[0]
    assert dialog.data.startswith(b"%PDF")
    text = pdf_text(dialog.data)
    assert inv.number in text and "TAX INVOICE" in text and "Lakshmi Stores" in text
    assert dialog.windowTitle() == f"Invoice {inv.number}"
    assert dialog.file_name == invoice_pdf.file_name(inv.number)
    qtbot.waitUntil(lambda: dialog.page_count == 1, timeout=WAIT)  # pages render too
    dialog.close()


def test_save_as_pdf_writes_the_invoice(qtbot, shop, open_main, tmp_path):
    inv = issue(shop.ctx, shop.local.id, LineIn("RICE", 2))
    page = sales_page(qtbot, open_main, shop.ctx)
    tab = page.show_tab("invoices")
    loaded(qtbot, tab.list, 1)
    select(qtbot, tab, inv.number)
    target = tmp_path / "copy.pdf"
    tab.save_pdf(target)
    qtbot.waitUntil(lambda: target.exists() and tab.notice.isVisible(), timeout=WAIT)
    assert inv.number in pdf_text(target.read_bytes())
    assert "Saved" in tab.notice.text()


def _batch(tab, ctx, *, one_file: bool) -> BatchOptions:
    return replace(tab.batch_defaults(), date_from=date(2026, 10, 1),
                   date_to=ctx.today(), one_file=one_file)


def test_batch_print_writes_one_file_per_invoice_or_one_pdf(qtbot, shop, open_main,
                                                           tmp_path):
    numbers = [issue(shop.ctx, shop.local.id, LineIn("KETTLE", 1),
                     day=date(2026, 10, 1 + i)).number for i in range(3)]
    sales.create_draft(shop.ctx, shop.local.id, [LineIn("KETTLE", 1)])  # never printed
    page = sales_page(qtbot, open_main, shop.ctx)
    tab = page.show_tab("invoices")
    loaded(qtbot, tab.list, 4)
    tab.period.set_period("last_month")  # October: the batch starts from the list's dates
    loaded(qtbot, tab.list, 3)
    dialog = tab.open_batch_dialog()
    assert (dialog.date_from.date().toPython(), dialog.date_to.date().toPython()) == (
        date(2026, 10, 1), date(2026, 10, 31))
    qtbot.waitUntil(lambda: "3 invoices" in dialog.count_label.text(), timeout=WAIT)
    assert dialog.only_search.isHidden()  # no search text: nothing to offer
    dialog.reject()
    # the list searched: the batch offers (and starts with) the invoices it shows
    tab.list.search.setText(numbers[1][-6:])
    tab.list.model.search_now()
    loaded(qtbot, tab.list, 1)
    dialog = tab.open_batch_dialog()
    assert dialog.only_search.isChecked() and not dialog.only_search.isHidden()
    qtbot.waitUntil(lambda: "1 invoice will" in dialog.count_label.text(), timeout=WAIT)
    assert dialog.options().search == numbers[1][-6:]
    dialog.only_search.setChecked(False)
    qtbot.waitUntil(lambda: "3 invoices" in dialog.count_label.text(), timeout=WAIT)
    assert dialog.options().search == ""
    dialog.reject()
    tab.list.search.setText("")
    tab.list.model.search_now()
    loaded(qtbot, tab.list, 3)

    folder = tmp_path / "each"
    folder.mkdir()
    run = tab.batch_print(_batch(tab, shop.ctx, one_file=False), target=folder)
    assert run is not None
    qtbot.waitUntil(lambda: tab.batch_run is None, timeout=WAIT)
    files = sorted(p.name for p in folder.iterdir())
    assert files == sorted(invoice_pdf.file_name(n) for n in numbers)
    assert all((folder / f).read_bytes().startswith(b"%PDF") for f in files)
    assert "Saved 3 invoices" in tab.notice.text()

    one = tmp_path / "all.pdf"
    tab.batch_print(_batch(tab, shop.ctx, one_file=True), target=one)
    qtbot.waitUntil(lambda: tab.batch_run is None, timeout=WAIT)
    text = pdf_text(one.read_bytes())
    assert all(n in text for n in numbers)


@pytest.mark.parametrize("one_file", [False, True])
def test_cancel_stops_a_batch_early_and_leaves_no_partial_file(qtbot, shop, open_main,
                                                              tmp_path, monkeypatch,
                                                              one_file):
    for i in range(5):
        issue(shop.ctx, shop.local.id, LineIn("RICE", 1), day=date(2026, 10, 1 + i))
    real = invoice_pdf.export_invoices
    reached = []

    def held(*args, progress, cancelled, **kwargs):
        def report(done, total):
            progress(done, total)
            if done == 2:  # hold the worker here until the person presses Cancel
                reached.append(done)
                deadline = time.monotonic() + 20
                while not cancelled() and time.monotonic() < deadline:
                    time.sleep(0.01)
        return real(*args, progress=report, cancelled=cancelled, **kwargs)

    monkeypatch.setattr(invoice_pdf, "export_invoices", held)
    page = sales_page(qtbot, open_main, shop.ctx)
    tab = page.show_tab("invoices")
    loaded(qtbot, tab.list, 5)
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "all.pdf" if one_file else folder
    run = tab.batch_print(_batch(tab, shop.ctx, one_file=one_file), target=target)
    assert run.dialog.isVisible()
    qtbot.waitUntil(lambda: bool(reached), timeout=WAIT)
    run.cancel()  # the progress dialog's Cancel button
    qtbot.waitUntil(lambda: tab.batch_run is None, timeout=WAIT)
    assert "cancelled" in tab.notice.text()
    left = sorted(folder.iterdir())
    if one_file:
        assert left == []  # the single PDF is not written at all
    else:
        assert len(left) == 2  # the two finished before Cancel, each whole
        assert all(p.suffix == ".pdf" and p.read_bytes().rstrip().endswith(b"%%EOF")
                   for p in left)


def test_new_customer_with_a_bad_gstin_shows_the_error_under_the_field(qtbot, shop,
                                                                      open_main):
    page = sales_page(qtbot, open_main, shop.ctx)
    tab = page.show_tab("customers")
    loaded(qtbot, tab.list, 2)
    page.window().run_command(Command.NEW)  # Ctrl+N
    qtbot.waitUntil(lambda: tab.dialog is not None, timeout=WAIT)
    dialog = tab.dialog
    dialog.form.set_value("name", "Kaveri Traders")
    dialog.form.set_value("gstin", "29AAKCS4821M1ZX")  # wrong check character
    dialog.city.setText("Mysuru")
    dialog.form.set_value("payment_terms_days", "15")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.field_error("gstin") != "", timeout=WAIT)
    assert "check character" in dialog.form.field_error("gstin")
    assert dialog.form.fields["gstin"].error.isVisible()
    assert dialog.isVisible() and dialog.form.banner_message == ""
    assert sl.CUSTOMERS.count(shop.ctx, sl.Filters()) == 2  # nothing saved

    dialog.form.set_value("gstin", "29AAKCS4821M1ZS")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    made = customers.get_customer(shop.ctx, dialog.result_value.id)
    assert (made.name, made.city, made.state, made.payment_terms_days) == (
        "Kaveri Traders", "Mysuru", "Karnataka", 15)
    loaded(qtbot, tab.list, 3)
    assert "Added Kaveri Traders" in tab.notice.text()


def test_a_customer_changed_elsewhere_meanwhile_shows_a_banner_with_reload(qtbot, shop,
                                                                          open_main):
    page = sales_page(qtbot, open_main, shop.ctx)
    tab = page.show_tab("customers")
    loaded(qtbot, tab.list, 2)
    tab.list.view.select_row(0)
    qtbot.waitUntil(lambda: tab.customer is not None, timeout=WAIT)
    tab.edit_current()
    qtbot.waitUntil(lambda: tab.dialog is not None, timeout=WAIT)
    dialog = tab.dialog
    assert dialog.form.value("name") == "Lakshmi Stores"
    customers.update_customer(shop.ctx, shop.local.id, phone="080 2222 3333")  # elsewhere
    dialog.form.set_value("notes", "Pays by cheque")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.banner_message != "", timeout=WAIT)
    assert "changed by someone else" in dialog.form.banner_message
    assert dialog.form.reload_button.isVisible()
    dialog.form.reload_button.click()
    qtbot.waitUntil(lambda: dialog.phone.text() == "080 2222 3333", timeout=WAIT)
    dialog.form.set_value("notes", "Pays by cheque")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    assert customers.get_customer(shop.ctx, shop.local.id).notes == "Pays by cheque"


def test_statement_of_the_selected_customer_exports_as_csv(qtbot, shop, open_main, tmp_path):
    inv = issue(shop.ctx, shop.local.id, LineIn("KETTLE", 1), day=date(2026, 10, 1))
    sales.record_payment(shop.ctx, shop.local.id, "500.00", "cash",
                         payment_date=date(2026, 10, 20))
    page = sales_page(qtbot, open_main, shop.ctx)
    tab = page.show_tab("customers")
    loaded(qtbot, tab.list, 2)
    tab.list.view.select_row(0)
    qtbot.waitUntil(lambda: tab.statement_model.rowCount() == 4, timeout=WAIT)
    m = tab.statement_model
    assert m.index(1, 1).data() == inv.number and m.index(1, 3).data() == "₹1,180.00"
    assert m.index(3, 2).data() == "Closing balance" and m.index(3, 5).data() == "₹680.00"
    assert "owes ₹680.00" in tab.title.text()
    target = tmp_path / "statement.csv"
    tab.export_csv(target)
    qtbot.waitUntil(target.exists, timeout=WAIT)
    lines = target.read_text().splitlines()
    assert lines[0] == "date,kind,number,description,debit,credit,balance"
    assert lines[-1].endswith(",680.00")

    issue(shop.ctx, shop.remote.id, LineIn("KETTLE", 1))  # another customer's
    tab.invoices_button.click()  # this customer's invoices, in the Invoices tab
    invoices = page.tab("invoices")
    assert page.tabs.currentWidget() is page.lazy["invoices"]
    loaded(qtbot, invoices.list, 1)
    assert invoices.list.model.row_at(0).number == inv.number
    assert invoices.customer_chip.isVisible() and "Lakshmi" in invoices.customer_chip.text()
    invoices.customer_chip.click()
    loaded(qtbot, invoices.list, 2)


def test_receive_payment_spreads_one_payment_over_two_invoices(qtbot, shop, open_main):
    ctx = shop.ctx
    a = issue(ctx, shop.local.id, LineIn("KETTLE", 1), day=date(2026, 9, 1))  # 1,180
    b = issue(ctx, shop.local.id, LineIn("RICE", 10), day=date(2026, 10, 5))  # 1,260
    page = sales_page(qtbot, open_main, ctx)
    tab = page.show_tab("payments")
    loaded(qtbot, tab.list, 0)
    page.window().run_command(Command.NEW)
    dialog = tab.list.window().findChild(sales_pages.ReceivePaymentDialog)
    assert dialog is not None
    dialog.picker.edit.setText("laksh")
    dialog.picker.search_now()
    qtbot.waitUntil(lambda: bool(dialog.picker._found), timeout=WAIT)
    dialog.picker.choose(next(iter(dialog.picker._found.values())))
    qtbot.waitUntil(lambda: dialog.account is not None, timeout=WAIT)
    assert [dialog.table.item(i, 0).text() for i in range(2)] == [a.number, b.number]
    dialog.amount.setText("3,000")
    assert [e.text() for e in dialog.edits] == ["1,180.00", "1,260.00"]  # oldest first
    assert "₹560.00 kept as credit" in dialog.summary.text()
    dialog.edits[0].setText("4,000")  # more than the payment: said at once
    assert "more than the payment" in dialog.form.field_error("grid")
    dialog.fill_oldest_first()
    assert dialog.form.field_error("grid") == ""
    dialog.method.setCurrentIndex(dialog.method.findData("upi"))
    dialog.form.set_value("reference", "UPI/88121")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    pay = sales.get_payment(ctx, dialog.result_value.id)
    assert [(x.invoice_number, x.amount.amount) for x in pay.allocations] == [
        (a.number, D("1180.00")), (b.number, D("1260.00"))]
    assert pay.kept_as_credit.amount == D("560.00") and pay.method == "upi"
    assert sales.get_invoice(ctx, b.id).status == "paid"
    loaded(qtbot, tab.list, 1)
    assert pay.number in tab.notice.text()


def test_take_payment_from_an_invoice_settles_that_invoice(qtbot, shop, open_main):
    ctx = shop.ctx
    older = issue(ctx, shop.local.id, LineIn("KETTLE", 1), day=date(2026, 9, 1))
    newer = issue(ctx, shop.local.id, LineIn("RICE", 10), day=date(2026, 10, 5))
    page = sales_page(qtbot, open_main, ctx)
    tab = page.show_tab("invoices")
    loaded(qtbot, tab.list, 2)
    select(qtbot, tab, newer.number)
    dialog = tab.take_payment()
    qtbot.waitUntil(lambda: dialog.account is not None, timeout=WAIT)
    assert dialog.amount.text() == "1,260.00"
    assert [e.text() for e in dialog.edits] == ["", "1,260.00"]  # not the older one
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    assert sales.get_invoice(ctx, newer.id).status == "paid"
    assert sales.get_invoice(ctx, older.id).status == "issued"
    qtbot.waitUntil(lambda: tab.invoice.status == "paid", timeout=WAIT)
    assert not tab.pay_button.isEnabled()
    page.show_tab("payments")  # marked stale by the payment: read again on show
    loaded(qtbot, page.tab("payments").list, 1)


def test_credit_note_from_an_invoice(qtbot, shop, open_main, monkeypatch):
    ctx = shop.ctx
    inv = issue(ctx, shop.local.id, LineIn("KETTLE", 2), LineIn("RICE", 10))
    page = sales_page(qtbot, open_main, ctx)
    tab = page.show_tab("invoices")
    loaded(qtbot, tab.list, 1)
    select(qtbot, tab, inv.number)
    dialog = tab.credit_note()
    dialog.edits[1].setText("3")
    assert "only 2 can still be credited" in dialog.form.field_error("lines")
    dialog.save()  # refused by the form's own check: nothing issued
    assert sl.CREDIT_NOTES.count(ctx, sl.Filters()) == 0
    dialog.edits[1].setText("1")
    dialog.form.set_value("reason", "Dented lid")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    note = dialog.result_value
    assert note.invoice_number == inv.number and note.total.amount == D("1180.00")
    assert [(ln.invoice_line_no, ln.quantity) for ln in note.lines] == [(1, 1)]
    qtbot.waitUntil(lambda: tab.invoice.credited.amount == D("1180.00"), timeout=WAIT)
    assert note.number in tab.notice.text()

    opened: list[PdfPreviewDialog] = []
    monkeypatch.setattr(PdfPreviewDialog, "open", lambda self: opened.append(self))
    notes = page.show_tab("credit_notes")
    loaded(qtbot, notes.list, 1)
    notes.list.view.select_row(0)
    page.window().run_command(Command.PRINT)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=WAIT)
    assert "CREDIT NOTE" in pdf_text(opened[0].data)
    opened[0].close()

    again = tab.credit_note()  # what is left: one kettle and the rice
    assert again.left == {1: D(1), 2: D("10.000")}
    again.credit_everything()
    assert [e.text() for e in again.edits.values()] == ["1", "10"]
    again.reject()
