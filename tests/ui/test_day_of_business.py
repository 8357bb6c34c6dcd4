"""A shop owner's day, through the windows only: log in, add a product, receive it by
scanning, sell it at the counter by scanning, take the cash, print the invoice, and see
the sale on the dashboard — then a clerk logs in and finds no HR or payroll anywhere.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QWidget

from erp_desktop.services import inventory, sales, users
from erp_desktop.ui import invoice_editor
from erp_desktop.ui.shortcuts import Command
from tests.conftest import ADMIN_PASSWORD
from tests.ui.conftest import drain_pool
from tests.ui.test_shell import log_in

pytestmark = pytest.mark.ui

WAIT = 20_000
BARCODE = "8901030865275"  # a valid EAN-13
CLERK_PASSWORD = "counter two 77 open"


def _choose(combo: QComboBox, text_start: str) -> None:
    for i in range(combo.count()):
        if combo.itemText(i).startswith(text_start):
            combo.setCurrentIndex(i)
            return
    shown = [combo.itemText(i) for i in range(combo.count())]
    raise AssertionError(f"no {text_start!r} in {shown}")


def _scan(qtbot, edit, code: str) -> None:
    edit.setFocus()
    qtbot.keyClicks(edit, code)
    qtbot.keyClick(edit, Qt.Key.Key_Return)


def test_a_day_at_the_shop_through_the_windows(qtbot, controller, monkeypatch):
    main = log_in(qtbot, controller, "owner", ADMIN_PASSWORD)
    inventory.create_warehouse(main.ctx, "SHOP", "Shop floor")  # set up once, long ago

    # 1. A new product, typed into the product dialog.
    main.show_area("inventory")
    stock_page = main.page("inventory")
    stock_page.show_tab("products")
    products = stock_page.products
    products.new_product()
    qtbot.waitUntil(lambda: getattr(products, "dialog", None) is not None
                    and products.dialog.isVisible(), timeout=WAIT)
    dialog = products.dialog
    dialog.form.set_values({"sku": "TB-PASTE", "name": "Herbal toothpaste 150 g",
                            "barcode": BARCODE, "unit": "pcs", "sale_price": "95.00",
                            "purchase_price": "61.00", "reorder_level": "10"})
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)

    # 2. The delivery arrives: a receipt, scanned.
    stock_page.show_tab("movements")
    receipt = stock_page.movements.receive()
    qtbot.waitUntil(lambda: receipt.warehouse.count() >= 1, timeout=WAIT)
    _choose(receipt.warehouse, "SHOP")
    _scan(qtbot, receipt.editor.picker.edit, BARCODE)
    qtbot.waitUntil(lambda: len(receipt.editor.lines) == 1, timeout=WAIT)
    receipt.editor.lines[0].qty.setText("24")
    receipt.save()
    qtbot.waitUntil(lambda: receipt.result_value is not None, timeout=WAIT)
    assert inventory.get_stock(main.ctx, "TB-PASTE").quantity == Decimal(24)

    # 3. A customer at the counter: two tubes scanned, issued and printed, paid in cash.
    printed: list[bytes] = []

    class Preview:
        def __init__(self, data, *, title, file_name, parent=None):
            printed.append(data)

        def open(self) -> None:
            pass

    monkeypatch.setattr(invoice_editor, "PdfPreviewDialog", Preview)
    main.show_area("sales")
    counter = main.page("sales").show_tab("counter")
    qtbot.waitUntil(lambda: counter._customers_loaded, timeout=WAIT)
    _scan(qtbot, counter.scan, BARCODE)
    _scan(qtbot, counter.scan, BARCODE)
    # 95.00 x 2 and GST at 18 % (the product's default tax category), CGST + SGST.
    qtbot.waitUntil(lambda: counter.totals.figures.get("total") == "₹224.20", timeout=WAIT)
    assert counter.totals.figures["tax_CGST_9"] == counter.totals.figures["tax_SGST_9"] \
        == "₹17.10"
    main.run_command(Command.PRINT)  # Ctrl+P: issue and print
    qtbot.waitUntil(lambda: counter.sale is not None and len(printed) == 1, timeout=WAIT)
    number = counter.sale.invoice.number
    assert printed[0].startswith(b"%PDF")
    pay = counter.take_payment()
    pay.amount.selectAll()
    qtbot.keyClicks(pay.amount, "250")
    assert pay.change.text() == "₹25.80"
    pay.save()
    qtbot.waitUntil(lambda: counter.sale.invoice.status == "paid", timeout=WAIT)
    assert sales.get_invoice(main.ctx, number).status == "paid"
    assert inventory.get_stock(main.ctx, "TB-PASTE").quantity == Decimal(22)

    # 4. The dashboard shows today's sales (before tax).
    main.show_area("dashboard")
    board = main.page("dashboard")
    board.reload()
    qtbot.waitUntil(lambda: board.cards["sales_today"].value.text() == "₹190.00", timeout=WAIT)

    # 5. The evening clerk: no HR, no payroll, anywhere.
    users.add_user(main.ctx, "asha", "Asha Clerk", CLERK_PASSWORD, "sales_clerk")
    main.close()
    drain_pool()
    qtbot.wait(0)
    clerk = log_in(qtbot, controller, "asha", CLERK_PASSWORD)
    areas = {a.key for a in clerk.areas}
    assert "hr" not in areas and "sales" in areas
    for area in clerk.areas:
        clerk.show_area(area.key)
        page = clerk.page(area.key)
        qtbot.wait(200)  # let the page fill in what it loads
        texts = " ".join(w.text() for w in page.findChildren(QWidget)
                         if w.isVisible() and hasattr(w, "text")
                         and isinstance(w.text(), str)).lower()
        assert "payroll" not in texts and "payslip" not in texts, area.key
