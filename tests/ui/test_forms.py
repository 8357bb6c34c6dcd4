"""Forms: checks as you type, a service's refusal under its field, a conflict with Reload."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from erp_desktop.domain.errors import ValidationError
from erp_desktop.services import users
from erp_desktop.ui.admin_pages import EditUserDialog, UserDialog
from erp_desktop.ui.forms import Form, parse_number
from erp_desktop.ui.widgets import PageEnv

pytestmark = pytest.mark.ui

CLERK_PASSWORD = "till drawer 42 open"


def test_fields_check_as_you_type_and_required_waits_until_touched(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    form = Form(host, locale="en_IN")
    name = form.add_text("name", "Name", required=True)
    price = form.add_decimal("price", "Price", places=2, minimum=Decimal(0))
    qty = form.add_integer("qty", "Quantity", minimum=1)
    host.show()

    assert form.field_error("name") == ""  # untouched: no red before typing
    qtbot.keyClicks(price, "12a")
    assert form.field_error("price") == "Enter a number, such as 1,250.50."
    price.setText("1,23,456.505")
    assert form.field_error("price") == "Use at most 2 decimal places."
    price.setText("-1")
    assert form.field_error("price") == "Enter 0 or more."
    price.setText("1,23,456.50")
    assert form.field_error("price") == ""
    qty.setText("2.5")
    assert form.field_error("qty") == "Enter a whole number."
    qty.setText("3")

    assert not form.validate()  # the name is required
    assert form.field_error("name") == "Enter name."
    qtbot.keyClicks(name, "Cement")
    assert form.validate()
    assert form.values() == {"name": "Cement", "price": Decimal("123456.50"), "qty": 3}


def test_numbers_are_read_in_the_company_locale_never_as_floats():
    assert parse_number("1,23,456.50", "en_IN") == Decimal("123456.50")
    assert parse_number("1.234,50", "de_DE") == Decimal("1234.50")
    with pytest.raises(ValueError):
        parse_number("twelve", "en_IN")


def test_tab_order_follows_the_form(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    form = Form(host)
    first = form.add_text("a", "A")
    second = form.add_decimal("b", "B")
    third = form.add_check("c", "C")
    host.show()
    assert first.nextInFocusChain() is not None
    chain, widget = [], first
    for _ in range(40):
        widget = widget.nextInFocusChain()
        if widget in (second, third):
            chain.append(widget)
        if len(chain) == 2:
            break
    assert chain == [second, third]


def test_a_refusal_with_a_field_shows_under_that_field_and_others_in_the_banner(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    form = Form(host)
    form.add_text("login_name", "Login name")
    form.add_widget("grid", "Lines", QWidget())
    form.alias("lines", "grid")
    host.show()
    form.show_error(ValidationError("There is already a user 'ravi'.", field="login_name"))
    assert form.field_error("login_name") == "There is already a user 'ravi'."
    assert form.banner_message == ""
    form.show_error(ValidationError("The entry does not balance.", field="lines"))
    assert form.field_error("grid") == "The entry does not balance."
    form.show_error(ValidationError("This login has been disabled."))
    assert form.banner_message == "This login has been disabled."
    assert not form.reload_button.isVisible()


def test_adding_a_user_whose_login_exists_shows_the_services_refusal_under_the_login(
        qtbot, admin_ctx):
    dialog = UserDialog(PageEnv(admin_ctx), [("sales_clerk", "Sales clerk")])
    qtbot.addWidget(dialog)
    dialog.show()
    f = dialog.form.fields
    f["login_name"].widget.setText("OWNER")  # logins compare without case
    f["full_name"].widget.setText("Someone Else")
    f["password"].widget.setText(CLERK_PASSWORD)
    f["confirm"].widget.setText(CLERK_PASSWORD)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    qtbot.waitUntil(lambda: dialog.form.field_error("login_name") != "", timeout=15_000)
    assert dialog.form.field_error("login_name") == "There is already a user 'owner'."
    assert dialog.isVisible()  # nothing saved, the dialog stays for a correction
    assert dialog.save_button.isEnabled()
    assert [u.login_name for u in users.list_users(admin_ctx)] == ["owner"]


def test_a_weak_password_is_refused_by_the_service_next_to_the_password(qtbot, admin_ctx):
    dialog = UserDialog(PageEnv(admin_ctx), [("sales_clerk", "Sales clerk")])
    qtbot.addWidget(dialog)
    dialog.show()
    f = dialog.form.fields
    f["login_name"].widget.setText("ravi")
    f["full_name"].widget.setText("Ravi Kumar")
    f["password"].widget.setText("short")
    assert "weak" in dialog.findChild(QWidget, "strength").text()
    f["confirm"].widget.setText("shortx")
    assert not dialog.form.validate()
    assert dialog.form.field_error("confirm") == "The two passwords differ."
    f["confirm"].widget.setText("short")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.field_error("password") != "", timeout=15_000)
    assert "at least 10 characters" in dialog.form.field_error("password")


def test_a_record_changed_elsewhere_is_reported_with_reload_never_overwritten(
        qtbot, admin_ctx):
    ravi = users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    dialog = EditUserDialog(PageEnv(admin_ctx), ravi)
    qtbot.addWidget(dialog)
    dialog.show()
    # Meanwhile another admin (another window) renames him.
    users.update_user(admin_ctx, ravi.id, ravi.version, full_name="Ravi K. (accounts)")

    dialog.form.fields["full_name"].widget.setText("Ravi Kumar Sr")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.banner_message != "", timeout=15_000)
    assert "changed by someone else" in dialog.form.banner_message
    assert dialog.form.reload_button.isVisible()
    assert dialog.isVisible()
    (now,) = [u for u in users.list_users(admin_ctx) if u.login_name == "ravi"]
    assert now.full_name == "Ravi K. (accounts)"  # the other change stands

    qtbot.mouseClick(dialog.form.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.value("full_name") == "Ravi K. (accounts)",
                    timeout=15_000)
    assert dialog.version == now.version
    dialog.form.fields["phone"].widget.setText("+91 98450 00000")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result() == dialog.DialogCode.Accepted, timeout=15_000)
    (saved,) = [u for u in users.list_users(admin_ctx) if u.login_name == "ravi"]
    assert (saved.full_name, saved.phone) == ("Ravi K. (accounts)", "+91 98450 00000")


def test_a_multiline_fields_caption_is_as_tall_as_the_field_not_its_default_hint(qtbot):
    from PySide6.QtWidgets import QLabel, QWidget

    parent = QWidget()
    qtbot.addWidget(parent)
    form = Form(parent)
    edit = form.add_multiline("address", "Address", lines=3)
    caption = form.layout.labelForField(form.fields["address"].row)
    assert isinstance(caption, QLabel)
    assert caption.height() <= edit.maximumHeight()
    assert caption.maximumHeight() <= edit.maximumHeight()


def test_a_choice_finds_an_equal_uuid_not_only_the_same_object(qtbot):
    import uuid

    parent = QWidget()
    qtbot.addWidget(parent)
    form = Form(parent)
    first, second = uuid.uuid4(), uuid.uuid4()
    form.add_choice("warehouse", "Warehouse", [(first, "Main"), (second, "Back")],
                    value=uuid.UUID(str(second)))
    assert form.value("warehouse") == second
    form.set_value("warehouse", uuid.UUID(str(first)))
    assert form.value("warehouse") == first
