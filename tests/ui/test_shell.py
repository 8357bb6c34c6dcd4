"""The shell: create-company wizard, idle lock, unlock with this computer, recovery,
what each role sees, toolbar commands, themes and icons."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWizard

from erp_desktop.services import audit, auth, users
from erp_desktop.services.context import Context
from erp_desktop.store.keyfile import KeyFile, key_file_path
from erp_desktop.ui.company_wizard import CompanyWizard, file_name_for
from erp_desktop.ui.icons import icon, icon_names
from erp_desktop.ui.main_window import MainWindow
from erp_desktop.ui.recovery import RecoveryDialog
from erp_desktop.ui.shortcuts import COMMANDS, Command
from erp_desktop.ui.theme import DARK, LIGHT, apply_theme, current_scheme
from tests.conftest import ADMIN_PASSWORD
from tests.ui.conftest import drain_pool

pytestmark = pytest.mark.ui

CLERK_PASSWORD = "till drawer 42 open"


def log_in(qtbot, controller, login: str, password: str) -> MainWindow:
    window = controller.login_window or controller.show_login()
    window.login_name.setText(login)
    window.password.setText(password)
    window.submit()
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=15_000)
    return controller.main_window


def test_the_wizard_creates_a_company_and_shows_the_passphrase_once(
        qtbot, controller, ui_paths, config):
    login = controller.show_login()
    wizard = login.create_company()
    assert isinstance(wizard, CompanyWizard)

    company = wizard.company_page
    assert not company.isComplete()  # no name yet
    company.name.setText("Mehta Hardware & Sons")
    company.form.set_value("country", "GB")
    assert company.form.value("currency") == "GBP"  # the country suggests its currency
    assert company.form.value("tax_regime") == "vat"
    company.form.set_value("country", "IN")
    assert company.values()["currency"] == "INR" and company.values()["fy_month"] == 4
    wizard.next()
    admin = wizard.admin_page
    assert wizard.currentPage() is admin
    f = admin.form.fields
    f["full_name"].widget.setText("Kiran Mehta")
    f["login_name"].widget.setText("kiran")
    f["password"].widget.setText("short")
    assert "weak" in admin.findChild(QLabel, "strength").text()
    f["password"].widget.setText("hammer nails and glue 2026")
    f["confirm"].widget.setText("hammer nails and glue 2026")
    assert admin.isComplete()
    wizard.next()
    assert wizard.currentPage() is wizard.file_page
    target = Path(wizard.file_page.target())
    assert target == ui_paths.companies_dir / "Mehta Hardware & Sons.erp"

    wizard.next()  # "Create company": runs on the worker, then moves on by itself
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.passphrase_page, timeout=30_000)
    passphrase = wizard.shown_passphrase
    assert len(passphrase) >= 40
    assert not wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.reject()  # Esc or Cancel: refused once the company exists
    assert wizard.isVisible()
    wizard.passphrase_page.written.setChecked(True)
    assert wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
    wizard.accept()

    main = controller.main_window
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=15_000)
    main = controller.main_window
    assert main.company_name == "Mehta Hardware & Sons"
    assert main.ctx.actor.login_name == "kiran"
    assert wizard.shown_passphrase == ""  # shown once, then gone from the window
    assert controller.settings.last_company == str(target.resolve())
    # The passphrase shown is the one that opens the recovery slot.
    KeyFile.load(key_file_path(target), kdf=config.kdf).unlock_with_recovery(passphrase)


def test_closing_the_wizard_before_creating_leaves_nothing(qtbot, controller, ui_paths):
    login = controller.show_login()
    wizard = login.create_company()
    wizard.company_page.name.setText("Never Made Ltd")
    wizard.reject()
    assert not wizard.isVisible()
    assert not ui_paths.companies_dir.exists() or not list(ui_paths.companies_dir.iterdir())
    assert file_name_for('A/B: "C"') == "AB C.erp"


def test_idle_lock_returns_to_the_login_window_and_closes_the_context(
        qtbot, ui_settings, config, device, ui_paths, ui_state, monkeypatch):
    from erp_desktop.ui.main import AppController

    closed = []
    real_close = Context.close
    monkeypatch.setattr(Context, "close", lambda self: (closed.append(self), real_close(self)))
    controller = AppController(settings=ui_settings, config=config, device=device,
                               paths=ui_paths, ui_state=ui_state, idle_lock_ms=2_000)
    try:
        main = log_in(qtbot, controller, "owner", ADMIN_PASSWORD)
        ctx = main.ctx
        assert controller.idle is not None and controller.idle.active
        qtbot.waitUntil(lambda: controller.main_window is None, timeout=15_000)
        login = controller.login_window
        assert login is not None and login.isVisible()
        assert "locked after" in login.error.text()
        drain_pool()
        assert any(c is ctx for c in closed)
        assert controller.idle is None
    finally:
        drain_pool()
        qtbot.wait(0)
        if controller.main_window is not None:
            controller.main_window.close()
        if controller.login_window is not None:
            controller.login_window.close()
        drain_pool()


def test_activity_keeps_the_lock_away(qtbot):
    from erp_desktop.ui.idle_lock import IdleWatcher

    watcher = IdleWatcher(10_000)
    watcher.start()
    try:
        watcher._last -= 9.0  # nine seconds without input
        assert watcher.idle_ms() >= 9_000
        QApplication.instance().sendEvent(
            QApplication.instance(), __import__("PySide6.QtGui").QtGui.QKeyEvent(
                __import__("PySide6.QtCore").QtCore.QEvent.Type.KeyPress, Qt.Key.Key_A,
                Qt.KeyboardModifier.NoModifier, "a"))
        assert watcher.idle_ms() < 1_000
    finally:
        watcher.stop()


def test_remember_me_then_unlock_with_this_computer(qtbot, controller, keychain,
                                                    company_path, config, device):
    controller.keychain = keychain
    login = controller.show_login()
    login.check_keychain()
    qtbot.waitUntil(lambda: login.remember.isEnabled(), timeout=15_000)
    assert not login.unlock_button.isVisibleTo(login)
    login.remember.setChecked(True)
    main = log_in(qtbot, controller, "owner", ADMIN_PASSWORD)
    assert keychain.secrets  # the device secret went to the keychain, not to a file

    controller.logout()
    login = controller.login_window
    login.check_keychain()
    qtbot.waitUntil(lambda: login.unlock_button.isVisibleTo(login), timeout=15_000)
    qtbot.mouseClick(login.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=15_000)
    assert controller.main_window is not main
    drain_pool()
    methods = [e.details.get("method") for e in audit.list_events(
        controller.main_window.ctx, action_prefix="login.succeeded")]
    assert methods[-1] == "keychain"


def test_without_a_keychain_remember_me_is_not_offered(qtbot, controller):
    from tests.ui.conftest import MemoryKeychain

    controller.keychain = MemoryKeychain(available=False)
    login = controller.show_login()
    login.check_keychain()
    qtbot.waitUntil(lambda: login.keychain_task is None, timeout=15_000)
    assert not login.remember.isEnabled()
    assert "No keychain" in login.remember.toolTip()


def test_forgot_password_with_the_recovery_passphrase(qtbot, controller, recovery_passphrase,
                                                      company_path, config, device):
    login = controller.show_login()
    dialog = login.forgot_password()
    assert isinstance(dialog, RecoveryDialog)
    f = dialog.form.fields
    f["passphrase"].widget.setPlainText("not the words at all")
    f["login_name"].widget.setText("owner")
    f["password"].widget.setText("a fresh start 2026")
    f["confirm"].widget.setText("a fresh start 2026")
    dialog.save()
    qtbot.waitUntil(lambda: bool(dialog.form.banner_message
                                 or dialog.form.field_error("passphrase")), timeout=15_000)
    assert controller.main_window is None

    f["passphrase"].widget.setPlainText(recovery_passphrase)
    dialog.save()
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=15_000)
    assert controller.main_window.ctx.actor.login_name == "owner"
    with pytest.raises(auth.WrongPassword):
        auth.login(company_path, "owner", ADMIN_PASSWORD, config=config, device=device)


def test_a_sales_clerk_sees_neither_admin_nor_hr_nor_the_journal(qtbot, controller, admin_ctx):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    main = log_in(qtbot, controller, "ravi", CLERK_PASSWORD)
    keys = main.area_keys()
    assert "admin" not in keys and "hr" not in keys and "accounting" not in keys
    assert keys[0] == "dashboard"
    dashboard = main.page("dashboard")
    qtbot.waitUntil(lambda: dashboard.data is not None, timeout=15_000)
    assert not dashboard.cards["payroll"].isVisibleTo(dashboard)  # no payroll figures
    assert dashboard.cards["sales_today"].isVisibleTo(dashboard)
    with pytest.raises(ValueError):
        main.page("admin")


def test_toolbar_commands_follow_the_page_and_keys_are_the_common_ones(qtbot, admin_ctx,
                                                                      open_main):
    main = open_main(admin_ctx, area="settings")
    keys = {c: [k for k in COMMANDS[c].keys] for c in Command}
    assert keys[Command.NEW] == ["Ctrl+N"] and keys[Command.FIND] == ["Ctrl+F"]
    assert keys[Command.SAVE] == ["Ctrl+S"] and keys[Command.PRINT] == ["Ctrl+P"]
    assert keys[Command.NEXT] == ["Ctrl+PgDown", "Alt+Right"]
    assert keys[Command.LOGOUT] == ["Ctrl+L"]
    actions = main.actions_by_command
    assert not actions[Command.FIND].isEnabled()  # settings has no list
    main.show_area("admin")
    users_tab = main.page("admin").users
    qtbot.waitUntil(lambda: users_tab.model.total is not None, timeout=15_000)
    assert actions[Command.FIND].isEnabled() and actions[Command.NEW].isEnabled()
    actions[Command.FIND].trigger()
    assert users_tab.list.search.hasFocus() or not main.isActiveWindow()
    assert actions[Command.LOGOUT].isEnabled()


def test_light_and_dark_palettes_and_icons_that_follow_them(qtbot):
    app = QApplication.instance()
    try:
        assert apply_theme(app, DARK) == DARK
        dark_window = app.palette().color(QPalette.ColorRole.Window)
        dark_icon = icon("dashboard").pixmap(QSize(24, 24)).toImage()
        assert current_scheme() == DARK and app.style().name().lower() == "fusion"
        assert apply_theme(app, LIGHT) == LIGHT
        light_window = app.palette().color(QPalette.ColorRole.Window)
        light_icon = icon("dashboard").pixmap(QSize(24, 24)).toImage()
        assert dark_window.lightness() < 80 < 200 < light_window.lightness()
        assert dark_icon != light_icon  # the same SVG, drawn in each palette's text colour
        big = icon("print").pixmap(QSize(96, 96))
        assert big.size() == QSize(96, 96) and not big.isNull()  # crisp at any size
        assert {"dashboard", "sales", "admin", "new", "find", "save", "print"} <= \
            set(icon_names())
    finally:
        apply_theme(app, LIGHT)


def test_the_settings_page_changes_the_idle_lock_and_keeps_it(qtbot, controller, ui_paths):
    from erp_desktop.settings import load_settings

    main = log_in(qtbot, controller, "owner", ADMIN_PASSWORD)
    assert controller.idle is not None and controller.idle.limit_ms == 15 * 60_000
    main.show_area("settings")
    page = main.page("settings")
    assert page.idle_minutes.value() == 15

    page.idle_minutes.setValue(5)
    page.idle_apply.click()
    assert controller.idle is not None and controller.idle.limit_ms == 5 * 60_000
    assert "5 minutes" in page.idle_result.text()
    drain_pool()
    assert load_settings(ui_paths).idle_lock_minutes == 5

    page.idle_minutes.setValue(0)  # "Never"
    page.idle_apply.click()
    assert controller.idle is None
    drain_pool()
    assert load_settings(ui_paths).idle_lock_minutes == 0


def test_the_first_paint_guesses_the_os_scheme_quickly_and_checks_it_after(qtbot,
                                                                          monkeypatch):
    from erp_desktop.ui import theme

    app = QApplication.instance()
    try:
        # Windows: the registry value Qt reads itself ("apps use the light theme")
        assert theme.quick_system_scheme(app, "win32", lambda: False) == DARK
        assert theme.quick_system_scheme(app, "win32", lambda: True) == LIGHT
        # elsewhere, or an unreadable registry: the palette in place (the platform's
        # at start-up; here the one just applied)
        apply_theme(app, DARK)
        assert theme.quick_system_scheme(app, "darwin") == DARK
        assert theme.quick_system_scheme(app, "win32", lambda: None) == DARK
        apply_theme(app, LIGHT)
        assert theme.quick_system_scheme(app, "darwin") == LIGHT
        # following the OS: once painted, Qt's own answer wins when it has one
        app.setProperty("erp_theme_mode", theme.SYSTEM)
        monkeypatch.setattr(theme, "_qt_scheme", lambda: None)
        theme.confirm_theme()
        assert current_scheme() == LIGHT  # Qt does not know: the guess stays
        monkeypatch.setattr(theme, "_qt_scheme", lambda: DARK)
        theme.confirm_theme()
        assert current_scheme() == DARK
        app.setProperty("erp_theme_mode", LIGHT)  # a forced scheme is left alone
        monkeypatch.setattr(theme, "_qt_scheme", lambda: LIGHT)
        theme.confirm_theme()
        assert current_scheme() == DARK
    finally:
        apply_theme(app, LIGHT)


def test_the_login_window_finishes_its_set_up_after_its_first_paint(qtbot, controller):
    window = controller.show_login()
    selectable = Qt.TextInteractionFlag.TextSelectableByMouse
    qtbot.waitSignal(window.painted, timeout=5_000).wait()  # shown: the first paint comes
    assert window.company_path.textInteractionFlags() & selectable
    assert window.error.textInteractionFlags() & selectable
    assert window.forgot_button.cursor().shape() == Qt.CursorShape.PointingHandCursor
    window.update()  # later paints emit nothing
    with qtbot.assertNotEmitted(window.painted, wait=200):
        window.repaint()
