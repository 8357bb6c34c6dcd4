"""The Purchases area as a shop owner uses it: a vendor, an order placed and received in two
deliveries, its bill posted and paid in two payments, and the refusals along the way.

Data is built through the services; what the page does is checked through them too."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from erp_desktop.services import catalogue, inventory, purchasing, users
from erp_desktop.services.auth import login
from erp_desktop.services.purchasing import BillLineInput, OrderLineInput, VendorInput
from erp_desktop.ui.purchase_pages import (
    BillFromOrderDialog,
    OrderDialog,
    PayDialog,
    ReceiveDialog,
    VendorDialog,
)
from erp_desktop.ui.shortcuts import Command

pytestmark = pytest.mark.ui

D = Decimal
WAIT = 15_000
STAFF_PASSWORD = "stock room 2026!"


@pytest.fixture
def store(admin_ctx):
    """Warehouses MAIN and BACK, bolts (with a barcode) and rice."""
    ctx = admin_ctx
    inventory.create_warehouse(ctx, "MAIN", "Main store")
    inventory.create_warehouse(ctx, "BACK", "Back room")
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="HB-M8", name="Hex bolt M8 x 40", unit="pcs", barcode="4006381333931",
        sale_price="12.50", purchase_price="5.00"))
    catalogue.create_product(ctx, catalogue.ProductInput(
        sku="RICE-SN", name="Sona Masoori rice", unit="kg", sale_price="62.00",
        purchase_price="48.00"))
    return ctx


@pytest.fixture
def vendor(store):
    return purchasing.create_vendor(store, VendorInput(
        "Bharat Fasteners Pvt Ltd", contact_person="Imran Shaikh", city="Bengaluru",
        payment_terms_days=30))


def page_of(open_main, ctx, tab: str):
    main = open_main(ctx, area="purchases")
    page = main.page("purchases")
    page.show_tab(tab)
    return main, page


def on_hand(ctx, sku: str, warehouse: str) -> Decimal:
    stock = inventory.get_stock(ctx, sku)
    return next((w.quantity for w in stock.warehouses if w.warehouse_code == warehouse), D(0))


def wait_rows(qtbot, panel, n: int) -> None:
    qtbot.waitUntil(lambda: panel.model.total == n and (n == 0 or panel.model.is_loaded(n - 1)),
                    timeout=WAIT)


def select(qtbot, panel, row: int = 0):
    panel.view.select_row(row)
    qtbot.waitUntil(lambda: panel.current_row() is not None, timeout=WAIT)
    return panel.current_row()


def save_and_accept(qtbot, dialog) -> None:
    """Save, and wait until the service took it and the dialog closed."""
    with qtbot.waitSignal(dialog.accepted, timeout=WAIT):
        dialog.save()


# ------------------------------------------------------------------------- vendors


def test_a_bad_email_is_shown_next_to_the_field_and_the_vendor_is_added_once_fixed(
        qtbot, store, open_main):
    main, page = page_of(open_main, store, "vendors")
    tab = page.vendors
    wait_rows(qtbot, tab.list, 0)
    assert Command.NEW in main.available_commands()
    main.run_command(Command.NEW)
    dialog = tab.last_dialog
    assert isinstance(dialog, VendorDialog)
    fields = dialog.form.fields
    fields["name"].widget.setText("Kaveri Paints")
    fields["email"].widget.setText("orders at kaveri")
    fields["tax_id"].widget.setText("29AAKCK1234L1Z2")
    fields["bank_code"].widget.setText("CNRB0000412")
    fields["payment_terms_days"].widget.setText("45")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.field_error("email") != "", timeout=WAIT)
    assert dialog.form.field_error("email") == "'orders at kaveri' is not an email address."
    assert dialog.form.field_error("name") == ""
    assert dialog.isVisible() and purchasing.list_vendors(store).rows == []

    fields["email"].widget.setText("orders@kaveri.example")
    save_and_accept(qtbot, dialog)
    wait_rows(qtbot, tab.list, 1)
    assert tab.message.text() == "Vendor Kaveri Paints added."
    saved = purchasing.get_vendor(store, "Kaveri Paints")
    assert (saved.email, saved.tax_id, saved.bank_code, saved.payment_terms_days) == (
        "orders@kaveri.example", "29AAKCK1234L1Z2", "CNRB0000412", 45)

    tab.list.search.setText("kaveri")  # search as you type
    qtbot.waitUntil(lambda: tab.list.model.filters.text == "kaveri", timeout=WAIT)
    wait_rows(qtbot, tab.list, 1)
    tab.list.search.setText("nobody")
    qtbot.waitUntil(lambda: tab.list.model.total == 0, timeout=WAIT)
    assert "No vendors match" in tab.list.status.text()


def test_a_vendor_changed_meanwhile_is_a_banner_with_reload(qtbot, store, vendor, open_main):
    _main, page = page_of(open_main, store, "vendors")
    tab = page.vendors
    wait_rows(qtbot, tab.list, 1)
    tab.edit_vendor(select(qtbot, tab.list))
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, VendorDialog), timeout=WAIT)
    dialog = tab.last_dialog
    assert dialog.form.value("contact_person") == "Imran Shaikh"
    purchasing.update_vendor(store, vendor.id, version=vendor.version, phone="080 1111")
    dialog.form.fields["contact_person"].widget.setText("Farah Shaikh")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.banner_message != "", timeout=WAIT)
    assert "changed by someone else" in dialog.form.banner_message
    assert dialog.form.reload_button.isVisible()
    assert purchasing.get_vendor(store, vendor.id).contact_person == "Imran Shaikh"
    dialog.form.reload_button.click()
    qtbot.waitUntil(lambda: dialog.form.value("phone") == "080 1111", timeout=WAIT)
    dialog.form.fields["contact_person"].widget.setText("Farah Shaikh")
    save_and_accept(qtbot, dialog)
    after = purchasing.get_vendor(store, vendor.id)
    assert (after.contact_person, after.phone) == ("Farah Shaikh", "080 1111")


# -------------------------------------------------------------------------- orders


def test_an_order_is_typed_placed_and_received_in_two_deliveries(qtbot, store, vendor,
                                                                 open_main):
    _main, page = page_of(open_main, store, "orders")
    tab = page.orders
    wait_rows(qtbot, tab.list, 0)
    dialog = tab.new_order()
    assert isinstance(dialog, OrderDialog)
    dialog.vendor.setText("bhar")
    dialog.vendor.search_now()  # what a pause in typing does
    qtbot.waitUntil(lambda: "Bharat Fasteners Pvt Ltd" in dialog.vendor._items, timeout=WAIT)
    dialog.vendor.pick("Bharat Fasteners Pvt Ltd")
    editor = dialog.editor
    bolts = editor.lines[0]
    qtbot.keyClicks(bolts.product, "4006381333931")  # a scanner types the code, then Enter
    qtbot.keyClick(bolts.product, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bolts.cost.text() == "5.00", timeout=WAIT)
    assert bolts.product.text() == "HB-M8 · Hex bolt M8 x 40"
    assert dialog.isVisible() and dialog.result_value is None  # Enter did not save
    bolts.product.setText("0000000")
    bolts.product.enter()
    qtbot.waitUntil(lambda: dialog.editor.problem() is not None, timeout=WAIT)
    assert "No product has the code “0000000”" in dialog.editor.problem()
    bolts.product.setText("4006381333931")
    bolts.product.enter()
    qtbot.waitUntil(lambda: dialog.editor.problem() is None, timeout=WAIT)
    bolts.quantity.setText("100")
    bolts.tax.setText("18")
    rice = editor.add_row()
    rice.product.setText("sona")
    rice.product.search_now()
    qtbot.waitUntil(lambda: "RICE-SN · Sona Masoori rice" in rice.product._items,
                    timeout=WAIT)
    rice.product.pick("RICE-SN · Sona Masoori rice")
    assert rice.cost.text() == "48.00"
    rice.quantity.setText("50")
    rice.tax.setText("5")
    assert "Total ₹3,110.00" in editor.totals.text()  # 590.00 + 2,520.00
    dialog.warehouse.setCurrentIndex(dialog.warehouse.findData("MAIN"))
    dialog.expected.set_value(date(2026, 10, 1))  # before the order: the service says so
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.field_error("expected_date") != "", timeout=WAIT)
    assert dialog.form.field_error("expected_date") == \
        "The expected date is before the order date."
    dialog.expected.set_value(date(2026, 11, 9))
    save_and_accept(qtbot, dialog)
    wait_rows(qtbot, tab.list, 1)
    (po,) = purchasing.list_purchase_orders(store).rows
    assert (po.status, po.total.amount) == ("draft", D("3110.00"))
    assert purchasing.get_purchase_order(store, po.id).expected_date == date(2026, 11, 9)

    row = select(qtbot, tab.list)
    assert tab.place_action.isEnabled() and not tab.receive_action.isEnabled()
    qtbot.waitUntil(lambda: tab.lines_model.rowCount() == 3, timeout=WAIT)  # 2 lines + total
    tab.place_order(row)
    qtbot.waitUntil(lambda: "placed with" in tab.message.text(), timeout=WAIT)
    assert purchasing.get_purchase_order(store, po.id).status == "ordered"
    qtbot.waitUntil(lambda: tab.list.current_row() is not None
                    and tab.list.current_row().status == "ordered", timeout=WAIT)
    assert tab.receive_action.isEnabled() and not tab.place_action.isEnabled()

    # The first delivery: 40 bolts and 10 kg of rice, into the back room.
    tab.receive()
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, ReceiveDialog), timeout=WAIT)
    receive = tab.last_dialog
    qtbot.waitUntil(lambda: receive.warehouse.findData("BACK") >= 0, timeout=WAIT)
    assert receive.warehouse.currentData() == "MAIN"  # where the order said
    receive.warehouse.setCurrentIndex(receive.warehouse.findData("BACK"))
    receive.grid.set_quantity(0, "40")
    receive.grid.set_quantity(1, "10")
    save_and_accept(qtbot, receive)
    assert on_hand(store, "HB-M8", "BACK") == D("40")
    assert on_hand(store, "RICE-SN", "BACK") == D("10")
    order = purchasing.get_purchase_order(store, po.id)
    assert order.status == "partially_received"
    assert [ln.remaining_qty for ln in order.lines] == [D("60"), D("40")]
    qtbot.waitUntil(lambda: "is partially received" in tab.message.text(), timeout=WAIT)
    qtbot.waitUntil(lambda: tab.list.current_row() is not None
                    and tab.list.current_row().received_pct == 23, timeout=WAIT)  # 680/2,900

    # The rest: what is open fills in with one button.
    tab.receive()
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, ReceiveDialog)
                    and tab.last_dialog is not receive, timeout=WAIT)
    rest = tab.last_dialog
    qtbot.waitUntil(lambda: rest.warehouse.findData("MAIN") >= 0, timeout=WAIT)
    rest.grid.all_button.click()
    assert [e.text() for e in rest.grid.edits] == ["60", "40"]
    save_and_accept(qtbot, rest)
    assert on_hand(store, "HB-M8", "MAIN") == D("60")
    assert purchasing.get_purchase_order(store, po.id).status == "received"
    qtbot.waitUntil(lambda: tab.list.current_row() is not None
                    and tab.list.current_row().status_label == "Received", timeout=WAIT)
    assert not tab.receive_action.isEnabled() and not tab.cancel_action.isEnabled()


def test_receiving_more_than_is_open_is_refused_under_the_lines(qtbot, store, vendor,
                                                                open_main):
    po = purchasing.place_order(store, purchasing.create_purchase_order(
        store, vendor.id, [OrderLineInput("HB-M8", 10, "5.00")]).id)
    _main, page = page_of(open_main, store, "orders")
    tab = page.orders
    wait_rows(qtbot, tab.list, 1)
    tab.receive(select(qtbot, tab.list))
    qtbot.waitUntil(lambda: isinstance(tab.last_dialog, ReceiveDialog), timeout=WAIT)
    dialog = tab.last_dialog
    qtbot.waitUntil(lambda: dialog.warehouse.findData("MAIN") >= 0, timeout=WAIT)
    dialog.warehouse.setCurrentIndex(dialog.warehouse.findData("MAIN"))
    dialog.grid.set_quantity(0, "12")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.field_error("lines") != "", timeout=WAIT)
    assert "Only 10 pcs of Hex bolt M8 x 40 remain to be received" in \
        dialog.form.field_error("lines")
    dialog.grid.set_quantity(0, "ten")
    assert not dialog.form.validate()
    assert "is not a quantity" in dialog.form.field_error("lines")
    assert purchasing.get_purchase_order(store, po.id).status == "ordered"
    assert on_hand(store, "HB-M8", "MAIN") == D(0)


def test_orders_filter_by_status(qtbot, store, vendor, open_main):
    for qty in (1, 2, 3):
        po = purchasing.create_purchase_order(store, vendor.id,
                                              [OrderLineInput("HB-M8", qty, "5.00")])
        if qty > 1:
            purchasing.place_order(store, po.id)
    _main, page = page_of(open_main, store, "orders")
    tab = page.orders
    wait_rows(qtbot, tab.list, 3)
    tab.status.setCurrentIndex(tab.status.findData("draft"))
    wait_rows(qtbot, tab.list, 1)
    tab.status.setCurrentIndex(tab.status.findData("open"))
    wait_rows(qtbot, tab.list, 2)
    assert tab.list.model.index(0, tab.list.model.column_index("status_label")).data() == \
        "Ordered"


# --------------------------------------------------------------------- bills, pay


@pytest.fixture
def received(store, vendor):
    """A placed order of 100 bolts at 5.00 + 18 % (590.00), all received into MAIN."""
    po = purchasing.create_purchase_order(store, vendor.id,
                                          [OrderLineInput("HB-M8", 100, "5.00", 18)],
                                          warehouse="MAIN")
    purchasing.place_order(store, po.id)
    purchasing.receive_purchase_order(store, po.id)
    return purchasing.get_purchase_order(store, po.id)


def test_bill_from_the_order_posted_then_paid_in_part_and_in_full(qtbot, store, received,
                                                                  open_main):
    _main, page = page_of(open_main, store, "orders")
    orders = page.orders
    wait_rows(qtbot, orders.list, 1)
    row = select(qtbot, orders.list)
    assert orders.bill_action.isEnabled()
    dialog = orders.bill_order(row)
    assert isinstance(dialog, BillFromOrderDialog)
    dialog.form.fields["vendor_ref"].widget.setText("BF/2291")
    save_and_accept(qtbot, dialog)
    (draft,) = purchasing.list_bills(store).rows
    assert (draft.status, draft.vendor_ref, draft.total.amount) == (
        "draft", "BF/2291", D("590.00"))

    page.show_tab("bills")
    bills = page.bills
    wait_rows(qtbot, bills.list, 1)
    row = select(qtbot, bills.list)
    assert bills.post_action.isEnabled() and not bills.pay_action.isEnabled()
    qtbot.waitUntil(lambda: bills.lines_model.rowCount() == 2, timeout=WAIT)
    assert bills.lines_model.index(0, 0).data() == "HB-M8 · Hex bolt M8 x 40"
    box = bills.post_bill(row)
    assert "can only be corrected by a debit note" in box.text()
    box.close()
    bills.post_now(row)
    qtbot.waitUntil(lambda: "posted: ₹590.00 owed to Bharat Fasteners" in
                    bills.message.text(), timeout=WAIT)
    bill = purchasing.get_bill(store, draft.id)
    assert bill.status == "posted" and bill.number == "BILL/2026-27/A/000001"
    qtbot.waitUntil(lambda: bills.list.current_row() is not None
                    and bills.list.current_row().status == "posted", timeout=WAIT)

    # A posted bill cannot be edited: the service says so, in its words.
    bills.edit_bill()
    qtbot.waitUntil(lambda: "cannot be changed" in bills.message.text(), timeout=WAIT)
    assert bills.message.text() == (
        "Bill BILL/2026-27/A/000001 is posted and cannot be changed. Correct it with a "
        "debit note.")

    # Pay 200.00 of it now.
    assert bills.pay_action.isEnabled()
    bills.pay_bill()
    qtbot.waitUntil(lambda: isinstance(bills.last_dialog, PayDialog), timeout=WAIT)
    pay = bills.last_dialog
    qtbot.waitUntil(lambda: len(pay.grid.edits) == 1, timeout=WAIT)
    assert pay.grid.edits[0].text() == "590.00"  # the bill's balance, to start from
    pay.grid.set_amount(0, "600")
    pay.save()
    qtbot.waitUntil(lambda: pay.form.field_error("bills") != "", timeout=WAIT)
    assert pay.form.field_error("bills") == (
        "Bill BILL/2026-27/A/000001 has only ₹590.00 left to pay; ₹600.00 is more than that.")
    pay.grid.set_amount(0, "200")
    pay.form.fields["reference"].widget.setText("UTR 88121")
    assert "₹200.00" in pay.grid.total.text()
    save_and_accept(qtbot, pay)
    bill = purchasing.get_bill(store, draft.id)
    assert (bill.paid.amount, bill.balance_due.amount, bill.payment_status) == (
        D("200.00"), D("390.00"), "partially_paid")
    qtbot.waitUntil(lambda: bills.list.current_row() is not None
                    and bills.list.current_row().status_label == "Partly paid", timeout=WAIT)

    # The rest from the Payments tab: choose the vendor, pay all in full, from the cash box.
    page.show_tab("payments")
    payments = page.payments
    wait_rows(qtbot, payments.list, 1)
    rest = payments.pay_vendor()
    rest.vendor.setText("Bharat")
    rest.vendor.search_now()
    qtbot.waitUntil(lambda: "Bharat Fasteners Pvt Ltd" in rest.vendor._items, timeout=WAIT)
    rest.vendor.pick("Bharat Fasteners Pvt Ltd")
    qtbot.waitUntil(lambda: len(rest.grid.edits) == 1, timeout=WAIT)
    rest.grid.full_button.click()
    assert rest.grid.edits[0].text() == "390.00"
    rest.form.set_value("method", "cash")
    save_and_accept(qtbot, rest)
    bill = purchasing.get_bill(store, draft.id)
    assert (bill.balance_due.amount, bill.payment_status) == (D("0.00"), "paid")
    wait_rows(qtbot, payments.list, 2)
    assert payments.message.text().startswith("Payment VP/2026-27/A/000002: ₹390.00 to "
                                              "Bharat Fasteners Pvt Ltd")
    first = payments.list.model.row_at(1)
    assert (first.reference, first.method_label, first.bills) == (
        "UTR 88121", "Bank", "BILL/2026-27/A/000001")


def test_a_bill_typed_on_its_own_with_an_expense_line_and_a_debit_note(qtbot, store, vendor,
                                                                        open_main):
    _main, page = page_of(open_main, store, "bills")
    bills = page.bills
    wait_rows(qtbot, bills.list, 0)
    dialog = bills.new_bill()
    dialog.vendor.setText("Bharat Fasteners Pvt Ltd")
    qtbot.waitUntil(lambda: dialog.editor.accounts != [], timeout=WAIT)
    qtbot.waitUntil(lambda: dialog.warehouse.findData("MAIN") >= 0, timeout=WAIT)
    dialog.warehouse.setCurrentIndex(dialog.warehouse.findData("MAIN"))
    dialog.editor.set_line(0, product="HB-M8", quantity="20", cost="5.50", tax="18")
    dialog.editor.set_line(1, description="Delivery by tempo", cost="450", tax="18",
                           account="6900")
    assert not dialog.editor.lines[0].account.isEnabled()  # a product line has no account
    save_and_accept(qtbot, dialog)
    (draft,) = purchasing.list_bills(store).rows
    assert draft.total.amount == D("660.80")  # 110.00 + 450.00 + 18 % tax
    assert draft.due_date == date(2026, 12, 2)  # left to the vendor's 30 days
    bill = purchasing.post_bill(store, draft.id)
    assert on_hand(store, "HB-M8", "MAIN") == D("20")

    bills.list.refresh()
    wait_rows(qtbot, bills.list, 1)
    row = select(qtbot, bills.list)
    qtbot.waitUntil(lambda: bills.list.current_row().status == "posted", timeout=WAIT)
    assert bills.debit_action.isEnabled() and not bills.post_action.isEnabled()
    bills.debit_note(row)
    qtbot.waitUntil(lambda: bills.last_dialog is not dialog and bills.last_dialog is not None,
                    timeout=WAIT)
    note = bills.last_dialog
    note.grid.edits[0].setText("5")
    note.save()
    qtbot.waitUntil(lambda: note.form.field_error("reason") != "", timeout=WAIT)
    note.form.fields["reason"].widget.setText("Five bolts rusted")
    save_and_accept(qtbot, note)
    after = purchasing.get_bill(store, bill.id)
    assert after.debited.amount == D("32.45")  # 5 x 5.50 + 18 %
    assert on_hand(store, "HB-M8", "MAIN") == D("15")


def test_each_role_sees_the_actions_it_may_take(qtbot, store, vendor, open_main,
                                                company_path, config, device, clock):
    purchasing.post_bill(store, purchasing.create_bill(store, vendor.id, [BillLineInput(
        description="Courier", unit_cost="100", account="6900")], bill_date=date(2026, 11, 1)
    ).id)
    users.add_user(store, "keeper", "Store Keeper", STAFF_PASSWORD, "storekeeper")
    keeper = login(company_path, "keeper", STAFF_PASSWORD, config=config, device=device,
                   clock=clock)
    try:
        _main, page = page_of(open_main, keeper, "bills")
        wait_rows(qtbot, page.bills.list, 1)
        assert page.bills.list.buttons == []  # sees bills, may not post or pay them
        assert [b.defaultAction().objectName() for b in page.orders.list.buttons] == [
            "new_order", "edit_order", "place_order", "receive_order", "cancel_order"]
        assert [b.defaultAction().objectName() for b in page.vendors.list.buttons] == [
            "new_vendor", "edit_vendor"]
        assert page.payments.list.buttons == []
    finally:
        keeper.close()
