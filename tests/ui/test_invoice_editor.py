"""The counter sale screen: scan, search, edit, live totals, issue, pay, print, warnings."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from erp_desktop.services import catalogue, inventory, sales
from erp_desktop.services.catalogue import ProductInput
from erp_desktop.services.inventory import ReceiptLine
from erp_desktop.ui import invoice_editor
from erp_desktop.ui.invoice_editor import PRICE, QTY, CounterPage
from erp_desktop.ui.shortcuts import Command
from erp_desktop.ui.widgets import PageEnv
from tests.services.sales.conftest import make_shop

pytestmark = pytest.mark.ui

BARCODE = "4006381333931"
WAIT = 15_000


@pytest.fixture
def shop(admin_ctx):
    made = make_shop(admin_ctx)  # TV55 (5 in stock), KETTLE, RICE, INSTALL; GST rates
    catalogue.create_product(admin_ctx, ProductInput(
        sku="BOLT", name="Hex bolt M8", barcode=BARCODE, sale_price="12.50",
        purchase_price="5.00", tax_category="GST18", unit="pcs"))
    inventory.receive_stock(admin_ctx, "MAIN", [ReceiptLine("BOLT", 100, "5.00")])
    return made


@pytest.fixture
def page(qtbot, shop):
    counter_page = CounterPage(PageEnv(shop.ctx, "en_IN", "Template Traders Pvt Ltd"))
    qtbot.addWidget(counter_page)
    counter_page.resize(1366, 700)
    counter_page.show()
    qtbot.waitExposed(counter_page)
    qtbot.waitUntil(lambda: counter_page._customers_loaded, timeout=WAIT)
    return counter_page


def scan(qtbot, page, text):
    qtbot.keyClicks(page.scan, text)
    qtbot.keyClick(page.scan, Qt.Key.Key_Return)


def total_shown(page):
    return page.totals.figures.get("total", "")


def edit_cell(qtbot, page, row, column, text):
    index = page.model.index(row, column)
    page.grid.setCurrentIndex(index)
    page.grid.edit(index)
    editor = page.grid.findChild(QLineEdit, f"edit_{row}_{column}")
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, text)
    qtbot.keyClick(editor, Qt.Key.Key_Return)


def test_the_scan_box_has_the_focus_and_a_scanned_barcode_adds_a_line(qtbot, page):
    qtbot.waitUntil(page.scan.hasFocus, timeout=WAIT)
    scan(qtbot, page, BARCODE)
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=WAIT)
    assert page.model.index(0, 1).data() == "Hex bolt M8  ·  BOLT"
    assert page.model.index(0, QTY).data() == "1"
    assert page.scan.text() == ""  # ready for the next scan
    qtbot.waitUntil(lambda: total_shown(page) == "₹14.76", timeout=WAIT)  # 9 % twice, rounded
    assert page.totals.figures["tax_CGST_9"] == "₹1.13"
    assert page.model.index(0, 7).data() == "₹14.76"
    assert page.model.index(0, 7).data(Qt.ItemDataRole.TextAlignmentRole) & \
        Qt.AlignmentFlag.AlignRight


def test_scanning_the_same_product_again_adds_one_more_to_its_line(qtbot, page):
    scan(qtbot, page, BARCODE)
    scan(qtbot, page, BARCODE)  # looked up in order, one after the other
    qtbot.waitUntil(lambda: bool(page.model.rows) and page.model.rows[0].quantity == 2,
                    timeout=WAIT)
    assert len(page.model.rows) == 1
    scan(qtbot, page, "kettle")  # a SKU, in any case
    scan(qtbot, page, BARCODE)  # not the last line any more: a new line
    qtbot.waitUntil(lambda: len(page.model.rows) == 3, timeout=WAIT)
    assert [r.sku for r in page.model.rows] == ["BOLT", "KETTLE", "BOLT"]
    qtbot.waitUntil(lambda: total_shown(page) == "₹1,224.26", timeout=WAIT)


def test_an_unknown_code_is_said_under_the_scan_box(qtbot, page):
    scan(qtbot, page, "0000000000")
    qtbot.waitUntil(lambda: page.form.field_error("scan") != "", timeout=WAIT)
    assert "Nothing found for “0000000000”" in page.form.field_error("scan")
    assert page.model.rows == []


def test_typed_words_offer_products_to_choose_from(qtbot, page):
    qtbot.keyClicks(page.scan, "elec ket")
    popup = page.completer.popup()
    qtbot.waitUntil(lambda: popup.isVisible() and page.completions.rowCount() == 1,
                    timeout=WAIT)
    assert page.completions.item(0).text().startswith("Electric kettle 1.5 l  ·  KETTLE")
    assert "20 pcs in stock" in page.completions.item(0).text()
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    qtbot.keyClick(popup, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=WAIT)
    assert page.model.rows[0].sku == "KETTLE" and page.scan.text() == ""
    qtbot.waitUntil(lambda: total_shown(page) == "₹1,180.00", timeout=WAIT)
    assert page.model.rows[0].quantity == 1  # chosen once
    assert not popup.isVisible()


def test_editing_quantity_and_price_in_the_grid_updates_the_totals(qtbot, page):
    scan(qtbot, page, "KETTLE")
    qtbot.waitUntil(lambda: total_shown(page) == "₹1,180.00", timeout=WAIT)
    edit_cell(qtbot, page, 0, QTY, "3")
    qtbot.waitUntil(lambda: total_shown(page) == "₹3,540.00", timeout=WAIT)
    edit_cell(qtbot, page, 0, PRICE, "1,050.50")  # as written in the company's locale
    qtbot.waitUntil(lambda: total_shown(page) == "₹3,718.78", timeout=WAIT)
    assert page.model.index(0, PRICE).data() == "₹1,050.50"
    assert page.totals.figures["subtotal"] == "₹3,151.50"
    page.grid.setFocus()
    page.grid.setCurrentIndex(page.model.index(0, 1))
    qtbot.keyClick(page.grid, Qt.Key.Key_Delete)
    assert page.model.rows == []
    qtbot.waitUntil(lambda: total_shown(page) == "", timeout=WAIT)


def test_issue_produces_the_invoice_and_shows_its_number(qtbot, page, shop):
    scan(qtbot, page, "RICE")
    scan(qtbot, page, "KETTLE")
    qtbot.waitUntil(lambda: len(page.model.rows) == 2, timeout=WAIT)
    edit_cell(qtbot, page, 0, QTY, "1.5")
    qtbot.waitUntil(lambda: total_shown(page) == "₹1,369.00", timeout=WAIT)
    page.scan.setFocus()
    qtbot.keyClick(page.scan, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: page.sale is not None, timeout=WAIT)
    number = page.sale.invoice.number
    assert number == "INV/2026-27/A/000001"
    assert f"Invoice {number} issued" in page.issued.plain()
    inv = sales.get_invoice(shop.ctx, number)
    assert inv.status == "issued" and inv.total.amount == Decimal("1369.00")
    assert [ln.quantity for ln in inv.lines] == [Decimal("1.500"), Decimal("1.000")]
    assert not page.issue_button.isEnabled() and page.pay_button.isEnabled()
    assert not page.model.flags(page.model.index(0, QTY)) & Qt.ItemFlag.ItemIsEditable

    page.run_command(Command.NEW)
    assert page.model.rows == [] and not page.issued.isVisible()
    assert page.customer.currentText() == page._walk_in.name


def test_take_payment_in_cash_marks_the_invoice_paid_and_shows_the_change(qtbot, page, shop):
    scan(qtbot, page, "KETTLE")
    qtbot.waitUntil(lambda: total_shown(page) == "₹1,180.00", timeout=WAIT)
    page.issue()
    qtbot.waitUntil(lambda: page.sale is not None, timeout=WAIT)
    dialog = page.take_payment()
    assert dialog.form.value("amount") == Decimal("1180.00")  # what is due
    dialog.amount.selectAll()
    qtbot.keyClicks(dialog.amount, "1,500")
    assert dialog.change.text() == "₹320.00"
    dialog.save()
    qtbot.waitUntil(lambda: page.sale.invoice.status == "paid", timeout=WAIT)
    assert sales.get_invoice(shop.ctx, page.sale.invoice.number).status == "paid"
    assert "change due ₹320.00" in page.issued.plain()
    assert not page.pay_button.isEnabled()


def test_take_payment_before_issuing_issues_and_pays_at_once(qtbot, page, shop):
    scan(qtbot, page, BARCODE)
    qtbot.waitUntil(lambda: total_shown(page) == "₹14.76", timeout=WAIT)
    dialog = page.take_payment()
    dialog.method.setCurrentIndex(dialog.method.findData("upi"))
    assert dialog.change.text() == "—"
    dialog.reference.setText("UPI/4471")
    dialog.save()
    qtbot.waitUntil(lambda: page.sale is not None, timeout=WAIT)
    inv = sales.get_invoice(shop.ctx, page.sale.invoice.id)
    assert inv.status == "paid" and inv.settlements[0].method == "upi"
    assert inv.settlements[0].reference == "UPI/4471"


def test_issue_and_print_issues_and_previews_the_pdf(qtbot, page, shop, monkeypatch):
    shown = []

    class FakePreview:
        def __init__(self, data, *, title, file_name, parent=None):
            shown.append((data, title, file_name))

        def open(self):
            pass

    monkeypatch.setattr(invoice_editor, "PdfPreviewDialog", FakePreview)
    scan(qtbot, page, "KETTLE")
    qtbot.waitUntil(lambda: Command.PRINT in page.commands(), timeout=WAIT)
    page.paper.setCurrentIndex(page.paper.findData("THERMAL"))
    page.run_command(Command.PRINT)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=WAIT)
    data, title, file_name = shown[0]
    number = page.sale.invoice.number
    assert data.startswith(b"%PDF") and title == f"Invoice {number}"
    assert file_name == "INV-2026-27-A-000001.pdf"
    assert sales.get_invoice(shop.ctx, number).status == "issued"
    page.run_command(Command.PRINT)  # printed again, not issued again
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=WAIT)
    assert len(sales.list_invoices(shop.ctx).rows) == 1


def test_short_stock_and_the_credit_limit_are_warned_about(qtbot, page, shop):
    from erp_desktop.services import customers

    customers.update_customer(shop.ctx, shop.local.id, credit_limit="20000")
    page.set_customer(shop.local.id, shop.local.name)
    scan(qtbot, page, "TV55")
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=WAIT)
    edit_cell(qtbot, page, 0, QTY, "6")
    qtbot.waitUntil(lambda: page.warnings.isVisible() and "Only" in page.warnings.plain(),
                    timeout=WAIT)
    text = page.warnings.plain()
    assert "With this sale Lakshmi Stores would owe ₹2,83,200.00, over the credit limit " \
           "of ₹20,000.00." in text
    assert "Only 5 pcs of 55-inch LED TV in Main store; this sale needs 6 pcs." in text
    assert page.model.rows[0].short
    assert page.issue_button.isEnabled()  # a warning does not block
    assert "limit ₹20,000.00" in page.customer_info.text()


def test_a_refusal_from_the_service_shows_under_the_grid_at_its_line(qtbot, page, shop):
    scan(qtbot, page, "RICE")
    scan(qtbot, page, "TV55")
    qtbot.waitUntil(lambda: len(page.model.rows) == 2, timeout=WAIT)
    edit_cell(qtbot, page, 1, QTY, "2.5")  # TVs are whole pieces: the preview refuses
    qtbot.waitUntil(lambda: page.form.field_error("lines") != "", timeout=WAIT)
    assert page.form.field_error("lines") == "Line 2: Quantity in pcs must be a whole number."
    assert (page.grid.currentIndex().row(), page.grid.currentIndex().column()) == (1, QTY)

    edit_cell(qtbot, page, 1, QTY, "7")  # more than the 5 in stock: issuing refuses
    qtbot.waitUntil(lambda: page.form.field_error("lines") == "", timeout=WAIT)
    page.issue()
    qtbot.waitUntil(lambda: "Not enough stock" in page.form.field_error("lines"),
                    timeout=WAIT)
    assert page.sale is None and sales.list_invoices(shop.ctx).rows == []
    assert page.grid.currentIndex().row() == 1 and page.model.bad_row == 1


def test_a_second_warehouse_lets_the_counter_sell_from_it_and_remembers(qtbot, shop, ui_state):
    inventory.create_warehouse(shop.ctx, "SHOP2", "Brigade Road branch")
    inventory.receive_stock(shop.ctx, "SHOP2", [ReceiptLine("BOLT", 7, "5.00")])

    def open_page():
        made = CounterPage(PageEnv(shop.ctx, "en_IN", "Template Traders Pvt Ltd",
                                   ui_state=ui_state))
        qtbot.addWidget(made)
        made.show()
        qtbot.waitExposed(made)
        qtbot.waitUntil(lambda: made._customers_loaded and made.warehouse.count() == 2,
                        timeout=WAIT)
        return made

    page = open_page()
    assert page.warehouse.isVisible() and page.warehouse.currentText().startswith("MAIN")
    page.warehouse.setCurrentIndex(page.warehouse.findText("SHOP2 — Brigade Road branch"))
    scan(qtbot, page, BARCODE)
    qtbot.waitUntil(lambda: len(page.model.rows) == 1, timeout=WAIT)
    edit_cell(qtbot, page, 0, QTY, "8")  # the branch holds 7: warned, as stock is short there
    qtbot.waitUntil(lambda: "Only 7 pcs of Hex bolt M8 in Brigade Road branch"
                    in page.warnings.plain(), timeout=WAIT)
    edit_cell(qtbot, page, 0, QTY, "2")
    qtbot.waitUntil(lambda: page.preview is not None and not page.preview.warnings,
                    timeout=WAIT)
    page.issue()
    qtbot.waitUntil(lambda: page.sale is not None, timeout=WAIT)
    held = {w.warehouse_code: w.quantity
            for w in inventory.get_stock(shop.ctx, "BOLT").warehouses}
    assert held == {"MAIN": Decimal(100), "SHOP2": Decimal(5)}
    page.close()
    again = open_page()  # this computer remembers where it sells from
    assert again.warehouse.currentText().startswith("SHOP2")


def test_one_warehouse_shows_no_choice(qtbot, page):
    qtbot.waitUntil(lambda: page.warehouse.count() == 1, timeout=WAIT)
    assert page.warehouse.isHidden() and page.warehouse_id() is None


def test_the_paper_chosen_at_the_counter_is_remembered_on_this_computer(qtbot, shop, ui_state):
    def open_page():
        made = CounterPage(PageEnv(shop.ctx, "en_IN", "T", ui_state=ui_state))
        qtbot.addWidget(made)
        return made

    first = open_page()
    assert first.paper.currentData() == ""  # as set for the company
    first.paper.setCurrentIndex(first.paper.findData("THERMAL"))
    assert open_page().paper.currentData() == "THERMAL"
    first.paper.setCurrentIndex(first.paper.findData(""))
    assert open_page().paper.currentData() == ""
