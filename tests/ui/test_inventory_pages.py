"""Inventory pages: products by dialog and search, scanning into a receipt, a refused
transfer beside its line, a scanned stock-take, the stock card, the import dialog."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QComboBox

from erp_desktop.services import auth, catalogue, inventory, users
from erp_desktop.services.inventory import ReceiptLine
from erp_desktop.services.listing import Filters
from erp_desktop.ui.inventory_pages import ImportProductsDialog, InventoryPage
from erp_desktop.ui.shortcuts import Command

pytestmark = pytest.mark.ui

D = Decimal
BOLT_BARCODE = "4006381333931"
WAIT = 15_000


def make_shop(ctx) -> None:
    inventory.create_warehouse(ctx, "MAIN", "Main store")
    inventory.create_warehouse(ctx, "BACK", "Back room")
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="HB-M8", name="Hex bolt M8 x 40", unit="pcs", barcode=BOLT_BARCODE,
        category="Fasteners", sale_price="12.50", purchase_price="5.00", reorder_level=50,
        reorder_qty=200))
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="RICE-SN", name="Sona Masoori rice", unit="kg", category="Grocery",
        sale_price="62.00", purchase_price="48.00"))


def inventory_page(qtbot, open_main, ctx, tab: str) -> InventoryPage:
    main = open_main(ctx, area="inventory")
    page = main.page("inventory")
    assert isinstance(page, InventoryPage)
    page.show_tab(tab)
    return page


def scan(qtbot, picker, code: str) -> None:
    picker.edit.setFocus()
    qtbot.keyClicks(picker.edit, code)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)


def choose(combo: QComboBox, text_start: str) -> None:
    for i in range(combo.count()):
        if combo.itemText(i).startswith(text_start):
            combo.setCurrentIndex(i)
            return
    shown = [combo.itemText(i) for i in range(combo.count())]
    raise AssertionError(f"no {text_start!r} in {shown}")


def loaded(qtbot, model, total: int) -> None:
    qtbot.waitUntil(lambda: model.total == total and (total == 0 or model.is_loaded(total - 1)),
                    timeout=WAIT)


def cell(model, row: int, key: str) -> str:
    return model.index(row, model.column_index(key)).data()


# --------------------------------------------------------------------------- products


def product_dialog(qtbot, page):
    tab = page.products
    tab.new_product()
    qtbot.waitUntil(lambda: getattr(tab, "dialog", None) is not None and
                    tab.dialog.isVisible(), timeout=WAIT)
    return tab.dialog


def test_a_product_added_in_the_dialog_is_found_by_search(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    page = inventory_page(qtbot, open_main, admin_ctx, "products")
    model = page.products.list.model
    loaded(qtbot, model, 2)
    assert cell(model, 0, "name") == "Hex bolt M8 x 40"
    assert cell(model, 0, "sale_price") == "₹12.50"
    assert model.index(0, model.column_index("sale_price")).data(
        Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight

    dialog = product_dialog(qtbot, page)
    form = dialog.form
    form.set_values({"sku": "WN-M6", "name": "Wing nut M6 zinc", "barcode": "8901234567890",
                     "sale_price": "4.50", "purchase_price": "1.20", "reorder_level": "100",
                     "category": "Fasteners", "unit": "pcs"})
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    assert dialog.result_value.sku == "WN-M6" and dialog.result_value.category == "Fasteners"

    page.products.list.search.setText("wing m6")
    model.search_now()
    loaded(qtbot, model, 1)
    assert cell(model, 0, "sku") == "WN-M6"
    assert cell(model, 0, "barcode") == "8901234567890"
    page.products.list.search.setText("8901234567890")  # a scanner in the search box
    model.search_now()
    loaded(qtbot, model, 1)
    assert cell(model, 0, "name") == "Wing nut M6 zinc"


def test_a_bad_barcode_is_shown_next_to_the_field(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    page = inventory_page(qtbot, open_main, admin_ctx, "products")
    dialog = product_dialog(qtbot, page)
    form = dialog.form
    form.set_values({"sku": "X-1", "name": "Something"})
    qtbot.keyClicks(dialog.barcode, "4006381333932")  # a typing slip in the last digit
    assert "check digit should be 1" in form.field_error("barcode")
    dialog.save()  # refused by the form: nothing is asked of the services
    assert form.task is None and dialog.isVisible()

    dialog.barcode.setText(BOLT_BARCODE)  # valid, but the bolt's
    dialog.save()
    qtbot.waitUntil(lambda: "already used" in form.field_error("barcode"), timeout=WAIT)
    assert "Hex bolt M8 x 40" in form.field_error("barcode")
    assert form.banner_message == ""
    assert catalogue.find_by_code(admin_ctx, "X-1") is None


def test_editing_a_product_changed_meanwhile_shows_a_conflict(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    page = inventory_page(qtbot, open_main, admin_ctx, "products")
    loaded(qtbot, page.products.list.model, 2)
    row = page.products.list.model.row_at(0)
    page.products.edit_product(row)
    qtbot.waitUntil(lambda: getattr(page.products, "dialog", None) is not None, timeout=WAIT)
    dialog = page.products.dialog
    assert dialog.form.value("sku") == "HB-M8" and dialog.form.value("sale_price") == D("12.5")
    current = catalogue.get_product(admin_ctx, "HB-M8")
    catalogue.update_product(admin_ctx, current.id, version=current.version, name="Hex bolt B")
    dialog.form.set_value("sale_price", "13")
    dialog.save()
    qtbot.waitUntil(lambda: "changed by someone else" in dialog.form.banner_message,
                    timeout=WAIT)
    assert dialog.form.reload_button.isVisible()


def test_a_warehouse_is_renamed_and_closing_one_with_stock_is_refused_beside_the_box(
        qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    inventory.receive_stock(admin_ctx, "BACK", [ReceiptLine("HB-M8", 2, "5.00")])
    page = inventory_page(qtbot, open_main, admin_ctx, "warehouses")
    model = page.warehouses.list.model
    loaded(qtbot, model, 2)
    back = next(model.row_at(i) for i in range(2) if model.row_at(i).code == "BACK")
    dialog = page.warehouses.edit_warehouse(back)
    assert dialog.windowTitle() == "Warehouse BACK" and dialog.active.isChecked()
    dialog.form.set_value("name", "Back room, upstairs")
    dialog.active.setChecked(False)
    dialog.save()
    qtbot.waitUntil(lambda: "holds stock" in dialog.form.field_error("active"), timeout=WAIT)
    assert dialog.isVisible()  # nothing saved: one transaction, refused whole
    assert next(w for w in inventory.list_warehouses(admin_ctx) if w.code == "BACK").name \
        == "Back room"
    dialog.active.setChecked(True)
    dialog.save()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT)
    qtbot.waitUntil(lambda: any(model.row_at(i).name == "Back room, upstairs"
                                for i in range(2) if model.is_loaded(i)), timeout=WAIT)


# --------------------------------------------------------------------------- documents


def test_stock_is_received_by_scanning_barcodes_into_the_receipt(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    page = inventory_page(qtbot, open_main, admin_ctx, "movements")
    dialog = page.movements.receive()
    qtbot.waitUntil(lambda: dialog.warehouse.count() == 2, timeout=WAIT)
    choose(dialog.warehouse, "MAIN")
    picker = dialog.editor.picker
    scan(qtbot, picker, BOLT_BARCODE)
    qtbot.waitUntil(lambda: len(dialog.editor.lines) == 1, timeout=WAIT)
    scan(qtbot, picker, BOLT_BARCODE)  # the same item again: one more
    qtbot.waitUntil(lambda: dialog.editor.lines[0].qty.text() == "2", timeout=WAIT)
    assert dialog.editor.lines[0].cost.text() == "5.00"  # the purchase price, to change
    scan(qtbot, picker, "rice-sn")  # a SKU typed by hand
    qtbot.waitUntil(lambda: len(dialog.editor.lines) == 2, timeout=WAIT)
    dialog.editor.lines[1].qty.setText("12.5")
    assert "₹610.00" in dialog.editor.totals.text()  # 2 x 5 + 12.5 x 48
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)

    assert inventory.get_stock(admin_ctx, "HB-M8").quantity == D(2)
    assert inventory.get_stock(admin_ctx, "RICE-SN").quantity == D("12.5")
    assert page.movements.result.text().startswith("Saved SR")
    model = page.movements.list.model
    loaded(qtbot, model, 2)
    assert {cell(model, r, "product") for r in range(2)} == {"Hex bolt M8 x 40",
                                                             "Sona Masoori rice"}


def test_a_product_is_chosen_from_the_suggestions_while_typing(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    catalogue.create_product(admin_ctx, catalogue.ProductInput(sku="HN-M8", name="Hex nut M8"))
    page = inventory_page(qtbot, open_main, admin_ctx, "movements")
    dialog = page.movements.receive()
    picker = dialog.editor.picker
    qtbot.keyClicks(picker.edit, "masoori")  # the middle word of the name
    qtbot.waitUntil(lambda: picker.suggestions.rowCount() == 1, timeout=WAIT)
    assert picker.suggestions.index(0, 0).data() == "RICE-SN · Sona Masoori rice"
    picker.completer.activated[QModelIndex].emit(picker.suggestions.index(0, 0))
    assert [ln.product.sku for ln in dialog.editor.lines] == ["RICE-SN"]
    assert dialog.editor.lines[0].unit.text() == "kg"
    qtbot.waitUntil(lambda: picker.edit.text() == "", timeout=WAIT)

    qtbot.keyClicks(picker.edit, "hex")  # Enter on a word two products share: choose one
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "products match" in picker.note.text(), timeout=WAIT)
    assert picker.suggestions.rowCount() == 2 and len(dialog.editor.lines) == 1


def test_an_unknown_code_is_said_under_the_scan_box(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    page = inventory_page(qtbot, open_main, admin_ctx, "movements")
    dialog = page.movements.receive()
    scan(qtbot, dialog.editor.picker, "9999")
    qtbot.waitUntil(lambda: "No product" in dialog.editor.picker.note.text(), timeout=WAIT)
    assert dialog.editor.lines == []
    dialog.save()
    assert dialog.form.field_error("lines") == "Add at least one product."


def test_a_transfer_refused_for_negative_stock_says_so_beside_the_line(
        qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    inventory.receive_stock(admin_ctx, "MAIN", [ReceiptLine("HB-M8", 3, "5.00"),
                                                ReceiptLine("RICE-SN", 10, "48.00")])
    page = inventory_page(qtbot, open_main, admin_ctx, "movements")
    dialog = page.movements.transfer()
    qtbot.waitUntil(lambda: dialog.target.count() == 2, timeout=WAIT)
    choose(dialog.source, "MAIN")
    choose(dialog.target, "BACK")
    scan(qtbot, dialog.editor.picker, "RICE-SN")
    qtbot.waitUntil(lambda: len(dialog.editor.lines) == 1, timeout=WAIT)
    scan(qtbot, dialog.editor.picker, BOLT_BARCODE)
    qtbot.waitUntil(lambda: len(dialog.editor.lines) == 2, timeout=WAIT)
    dialog.editor.lines[1].qty.setText("5")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.editor.line_error(1) != "", timeout=WAIT)
    assert dialog.editor.line_error(1) == (
        "Not enough stock of Hex bolt M8 x 40 in Main store: 3 pcs available, 5 pcs "
        "requested.")
    assert dialog.editor.line_error(0) == ""
    assert not dialog.form.fields["lines"].error.isVisible()
    assert dialog.isVisible() and dialog.editor.lines[1].qty.hasFocus()
    assert inventory.get_stock(admin_ctx, "HB-M8").quantity == D(3)

    dialog.editor.lines[1].qty.setText("3")  # typing clears the message
    assert dialog.editor.line_error(1) == ""
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    stock = {w.warehouse_code: w.quantity
             for w in inventory.get_stock(admin_ctx, "HB-M8").warehouses}
    assert stock == {"MAIN": D(0), "BACK": D(3)}


def test_an_adjustment_refused_for_negative_stock_shows_under_the_quantity(
        qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    inventory.receive_stock(admin_ctx, "MAIN", [ReceiptLine("HB-M8", 3, "5.00")])
    page = inventory_page(qtbot, open_main, admin_ctx, "movements")
    dialog = page.movements.adjust()
    qtbot.waitUntil(lambda: dialog.warehouse.count() == 2, timeout=WAIT)
    choose(dialog.warehouse, "MAIN")
    scan(qtbot, dialog.chosen.picker, BOLT_BARCODE)
    qtbot.waitUntil(lambda: dialog.chosen.value() is not None, timeout=WAIT)
    dialog.form.set_values({"quantity": "-4", "reason": "Rusted"})
    dialog.save()
    qtbot.waitUntil(lambda: "3 pcs available" in dialog.form.field_error("quantity"),
                    timeout=WAIT)
    dialog.form.set_value("quantity", "-2")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result_value is not None, timeout=WAIT)
    assert inventory.get_stock(admin_ctx, "HB-M8").quantity == D(1)


# --------------------------------------------------------------------------- stock-take


def test_a_stock_take_with_scanned_counts_posts_an_adjustment(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    inventory.receive_stock(admin_ctx, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")])
    page = inventory_page(qtbot, open_main, admin_ctx, "stock_take")
    tab = page.stock_take
    dialog = tab.start()
    qtbot.waitUntil(lambda: dialog.warehouse.count() == 2, timeout=WAIT)
    choose(dialog.warehouse, "MAIN")
    dialog.save()
    qtbot.waitUntil(lambda: tab.sheet.editable, timeout=WAIT)
    bolt = catalogue.get_product(admin_ctx, "HB-M8").id
    assert tab.sheet.expected == {bolt: D(10)}
    for _ in range(3):
        scan(qtbot, tab.sheet.picker, BOLT_BARCODE)
    qtbot.waitUntil(lambda: tab.sheet.counts() == {bolt: D(3)}, timeout=WAIT)
    assert tab.sheet.difference_text(bolt) == "−7"
    scan(qtbot, tab.sheet.picker, "RICE-SN")  # found goods: not on the sheet
    rice = catalogue.get_product(admin_ctx, "RICE-SN").id
    qtbot.waitUntil(lambda: rice in tab.sheet.counts(), timeout=WAIT)
    assert tab.sheet.difference_text(rice) == "+1"
    assert "2 of 2 lines counted · 2 differ" in tab.sheet.summary.text()

    tab.post_now()
    qtbot.waitUntil(lambda: tab.sheet.sheet.status == "posted", timeout=WAIT)
    assert tab.sheet.status.text().startswith("Posted ST")
    assert not tab.sheet.editable and not tab.sheet.post_button.isEnabled()
    assert inventory.get_stock(admin_ctx, "HB-M8").quantity == D(3)
    assert inventory.get_stock(admin_ctx, "RICE-SN").quantity == D(1)
    loaded(qtbot, tab.list.model, 1)
    assert cell(tab.list.model, 0, "status_label") == "Posted"


# --------------------------------------------------------------------------- stock


def test_the_stock_card_shows_the_running_balance(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    inventory.receive_stock(admin_ctx, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")],
                            move_date=date(2026, 10, 1))
    inventory.transfer_stock(admin_ctx, "MAIN", "BACK", [inventory.IssueLine("HB-M8", 4)],
                             move_date=date(2026, 10, 2))
    inventory.adjust_stock(admin_ctx, "BACK", "HB-M8", -1, "Damaged",
                           move_date=date(2026, 10, 3))
    page = inventory_page(qtbot, open_main, admin_ctx, "products")
    products = page.products.list.model
    loaded(qtbot, products, 2)
    page.products.list.view.select_row(0)
    page.products.card_action.trigger()
    card = page.stock.card
    assert page.tabs.currentWidget() is page.stock and page.stock.stack.currentWidget() is card
    model = card.list.model
    loaded(qtbot, model, 4)
    assert [cell(model, r, "balance_quantity") for r in range(4)] == ["10", "6", "10", "9"]
    assert [cell(model, r, "kind_label") for r in range(4)] == [
        "Receipt", "Transfer out", "Transfer in", "Adjustment"]
    assert cell(model, 3, "balance_value") == "₹45.00"
    assert cell(model, 3, "quantity_out") == "1" and cell(model, 3, "quantity_in") == ""
    assert "Hex bolt M8 x 40" in card.title.text()

    qtbot.waitUntil(lambda: card.warehouse.count() == 3, timeout=WAIT)
    choose(card.warehouse, "BACK")
    loaded(qtbot, model, 2)
    assert [cell(model, r, "balance_quantity") for r in range(2)] == ["4", "3"]


def test_stock_on_hand_low_stock_and_valuation_views(qtbot, admin_ctx, open_main):
    make_shop(admin_ctx)
    inventory.receive_stock(admin_ctx, "MAIN", [ReceiptLine("HB-M8", 10, "5.00"),
                                                ReceiptLine("RICE-SN", "2.5", "48.00")])
    page = inventory_page(qtbot, open_main, admin_ctx, "stock")
    model = page.stock.on_hand.list.model
    loaded(qtbot, model, 2)
    assert cell(model, 0, "value") == "₹50.00" and cell(model, 1, "quantity") == "2.5"
    page.stock.show_view(1)
    low = page.stock.low.model
    qtbot.waitUntil(lambda: low.rowCount() == 1, timeout=WAIT)
    assert low.index(0, 6).data() == "200"  # max(reorder qty, 50 - 10)
    page.stock.show_view(3)
    valuation = page.stock.valuation
    qtbot.waitUntil(lambda: valuation.model.rowCount() == 3, timeout=WAIT)
    assert valuation.model.index(2, 6).data() == "₹170.00"
    assert "₹170.00" in valuation.total.text()


# --------------------------------------------------------------------------- import


IMPORT_FILE = """Item code,Product name,UOM,EAN,Price
LED-9W,Philips LED bulb 9W,pcs,8718696822821,110.00
LED-12W,Bulb with a bad barcode,pcs,8718696822822,145
FAN-1,Ceiling fan,pcs,,1450
"""


def test_the_import_dialog_lists_bad_rows_and_cancel_writes_nothing(
        qtbot, admin_ctx, open_main, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(IMPORT_FILE, encoding="utf-8")
    page = inventory_page(qtbot, open_main, admin_ctx, "products")
    dialog = page.products.import_products()
    assert isinstance(dialog, ImportProductsDialog)
    dialog.path.setText(str(path))
    dialog.load_preview()
    qtbot.waitUntil(lambda: "sku" in dialog.combos, timeout=WAIT)
    assert dialog.combos["sku"].currentText() == "Item code"
    assert dialog.combos["barcode"].currentText() == "EAN"
    assert dialog.combos["sale_price"].currentText() == "Price"
    assert not dialog.import_button.isEnabled()  # check first

    dialog.check()
    qtbot.waitUntil(lambda: dialog.bad_model.rowCount() == 1 and dialog.run is None,
                    timeout=WAIT)
    bad = dialog.bad_model
    assert (bad.index(0, 0).data(), bad.index(0, 1).data()) == ("3", "EAN")
    assert "check digit" in bad.index(0, 2).data()
    assert "1 of 3 rows have problems" in dialog.status.text()
    assert dialog.skip_button.isEnabled() and not dialog.import_button.isEnabled()
    assert catalogue.find_by_code(admin_ctx, "LED-9W") is None

    run = dialog.import_rows(skip_bad_rows=True)
    run.cancel()  # the progress dialog's Cancel
    qtbot.waitUntil(lambda: dialog.run is None, timeout=WAIT)
    assert dialog.status.text() == "Cancelled; nothing was written."
    assert catalogue.find_by_code(admin_ctx, "LED-9W") is None

    dialog.import_rows(skip_bad_rows=True)
    qtbot.waitUntil(lambda: dialog.run is None, timeout=WAIT)
    assert dialog.status.text().startswith("Imported: 2 created")
    assert catalogue.find_by_code(admin_ctx, "FAN-1").name == "Ceiling fan"
    loaded(qtbot, page.products.list.model, 2)


def test_changing_the_mapping_asks_for_a_new_check(qtbot, admin_ctx, open_main, tmp_path):
    path = tmp_path / "good.csv"
    path.write_text("Code,Title\nA-1,First thing\n", encoding="utf-8")
    page = inventory_page(qtbot, open_main, admin_ctx, "products")
    dialog = page.products.import_products()
    dialog.path.setText(str(path))
    dialog.load_preview()
    qtbot.waitUntil(lambda: "name" in dialog.combos, timeout=WAIT)
    assert dialog.combos["name"].currentIndex() == 0 and not dialog.check_button.isEnabled()
    choose(dialog.combos["name"], "Title")
    assert dialog.check_button.isEnabled()
    dialog.check()
    qtbot.waitUntil(lambda: dialog.import_button.isEnabled(), timeout=WAIT)
    choose(dialog.combos["notes"], "Title")
    assert not dialog.import_button.isEnabled()


# --------------------------------------------------------------------------- permissions


def test_a_sales_clerk_sees_stock_but_cannot_change_it(
        qtbot, admin_ctx, open_main, company_path, config, device, clock):
    make_shop(admin_ctx)
    users.add_user(admin_ctx, "clerk", "Counter clerk", "a counter secret 2026!", "sales_clerk")
    clerk = auth.login(company_path, "clerk", "a counter secret 2026!", config=config,
                       device=device, clock=clock)
    try:
        page = inventory_page(qtbot, open_main, clerk, "products")
        assert page.products.list.on_new is None and not page.products.may_import
        assert Command.NEW not in page.commands()
        loaded(qtbot, page.products.list.model, 2)
        page.show_tab("movements")
        assert page.movements.list.buttons == [] and Command.NEW not in page.commands()
        page.show_tab("stock_take")
        assert not page.stock_take.sheet.save_button.isVisibleTo(page)
        page.show_tab("warehouses")
        loaded(qtbot, page.warehouses.list.model, 2)
        assert page.warehouses.list.on_new is None
        assert page.products.list.model.source.count(Filters()) == 2
    finally:
        clerk.close()
