"""The login window and the main window, as a person meets them.

Each test drives the real windows on a real encrypted company file; waits are
for states (`qtbot.waitUntil`), never for a number of seconds.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication

from erp_desktop.services import audit, auth, users
from erp_desktop.services.authz import DEFAULT_ROLES
from erp_desktop.services.context import Actor, Context
from erp_desktop.store.keyfile import LoginThrottle
from erp_desktop.ui.errors import UnexpectedErrorDialog
from erp_desktop.ui.main_window import MainWindow, visible_areas
from tests.conftest import ADMIN_PASSWORD
from tests.ui.conftest import drain_pool

pytestmark = pytest.mark.ui

CLERK_PASSWORD = "till drawer 42 open"


def log_in(qtbot, window, login: str, password: str) -> None:
    window.login_name.setText(login)
    window.password.setText(password)
    qtbot.mouseClick(window.login_button, Qt.MouseButton.LeftButton)


def wait_for_main(qtbot, controller) -> MainWindow:
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=15_000)
    return controller.main_window


def sidebar_titles(window: MainWindow) -> list[str]:
    return [window.sidebar.item(i).text() for i in range(window.sidebar.count())]


def test_wrong_password_shows_the_message_under_the_fields_and_opens_nothing(qtbot, controller):
    window = controller.show_login()
    log_in(qtbot, window, "owner", "not the password")

    qtbot.waitUntil(lambda: window.error.isVisible(), timeout=15_000)
    assert window.error.text() == "Wrong login name or password."
    assert controller.main_window is None
    assert window.isVisible()
    assert window.password.text() == ""  # cleared for the next try
    assert window.login_button.isEnabled()
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, MainWindow) and w.isVisible()]


def test_the_right_password_opens_the_main_window_with_admin_and_accounting(
        qtbot, controller, ui_paths, company_path):
    window = controller.show_login()
    log_in(qtbot, window, "owner", ADMIN_PASSWORD)

    main = wait_for_main(qtbot, controller)
    assert main.isVisible()
    assert controller.login_window is None  # closed and deleted
    assert main.windowTitle() == "Template Traders Pvt Ltd — erp_desktop"
    titles = sidebar_titles(main)
    assert "Admin" in titles and "Accounting" in titles and "HR" in titles
    assert titles[0] == "Dashboard"
    assert main.status_user.text() == "Asha Owner"
    assert main.status_role.text() == "Owner / admin"
    assert main.status_company.text() == "Template Traders Pvt Ltd"
    assert main.status_sync.text() == "Sync: off"
    # The company file and login are remembered for next time (no password).
    saved = json.loads(ui_paths.settings_file.read_text(encoding="utf-8"))
    assert saved["last_company"] == str(company_path.resolve())
    assert saved["last_login"] == "owner"
    assert ADMIN_PASSWORD not in ui_paths.settings_file.read_text(encoding="utf-8")


def test_a_sales_clerk_sees_no_hr_and_no_admin(qtbot, controller, admin_ctx):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    window = controller.show_login()
    log_in(qtbot, window, "ravi", CLERK_PASSWORD)

    main = wait_for_main(qtbot, controller)
    titles = sidebar_titles(main)
    assert "HR" not in titles
    assert "Admin" not in titles
    assert "Accounting" not in titles
    assert {"Dashboard", "Sales", "Inventory"} <= set(titles)
    assert main.status_role.text() == "Sales clerk"


def test_sidebar_follows_each_default_role():
    def keys(role: str) -> set[str]:
        return {a.key for a in visible_areas(DEFAULT_ROLES[role][2])}

    assert {"hr", "admin", "accounting"} <= keys("admin")
    assert "hr" in keys("hr_manager") and "accounting" not in keys("hr_manager")
    assert "accounting" in keys("accountant") and "hr" not in keys("accountant")
    assert keys("employee") == {"dashboard", "me", "settings"}  # own claims and payslips
    assert "hr" not in keys("auditor")  # no personal HR details for the auditor


def test_login_runs_off_the_ui_thread_and_the_window_stays_responsive(
        qtbot, controller, monkeypatch):
    real_login = auth.login
    started = threading.Event()
    release = threading.Event()
    seen: dict[str, object] = {}

    def slow_login(*args, **kwargs):
        seen["thread"] = threading.current_thread()
        started.set()
        assert release.wait(15), "the test never released the login"
        return real_login(*args, **kwargs)

    monkeypatch.setattr(auth, "login", slow_login)
    window = controller.show_login()
    log_in(qtbot, window, "owner", ADMIN_PASSWORD)

    # The login is now blocked on the worker thread, and the UI thread still
    # runs its event loop (waitUntil needs it) and shows that it is busy.
    qtbot.waitUntil(started.is_set, timeout=15_000)
    qtbot.waitUntil(lambda: window.busy.isVisible())
    assert not window.login_button.isEnabled()
    assert window.login_button.text() == "Logging in…"
    assert seen["thread"] is not threading.main_thread()
    window.submit()  # a second click while busy starts nothing
    release.set()

    main = wait_for_main(qtbot, controller)
    assert main.isVisible()


def test_a_locked_login_says_how_long_to_wait(qtbot, controller, config):
    controller.config = replace(config, throttle=LoginThrottle(slow_after=5, lock_after=2))
    window = controller.show_login()
    for _ in range(2):
        log_in(qtbot, window, "owner", "wrong guess again")
        qtbot.waitUntil(lambda: window.task is None and window.error.isVisible(),
                        timeout=15_000)
    log_in(qtbot, window, "owner", ADMIN_PASSWORD)  # right password, but locked now
    qtbot.waitUntil(lambda: "Too many failed attempts" in window.error.text(), timeout=15_000)
    assert "Try again in 15 minutes" in window.error.text()
    assert controller.main_window is None


def test_a_file_that_is_not_a_company_file_is_refused_calmly(qtbot, controller, tmp_path):
    stray = tmp_path / "holiday photos.erp"
    stray.write_bytes(b"\x89PNG not a database at all, just some bytes")
    window = controller.show_login()
    window.set_company(stray)
    log_in(qtbot, window, "owner", ADMIN_PASSWORD)

    qtbot.waitUntil(lambda: window.error.isVisible(), timeout=15_000)
    assert "holiday photos.erp" in window.error.text() or "key file" in window.error.text()
    assert controller.main_window is None


def test_missing_fields_are_asked_for_before_any_work_starts(qtbot, controller):
    window = controller.show_login()
    window.login_name.setText("")
    window.submit()
    assert window.task is None
    assert window.error.text() == "Enter your login name."
    window.login_name.setText("owner")
    window.submit()
    assert window.task is None
    assert window.error.text() == "Enter your password."


def test_an_unexpected_failure_says_something_went_wrong_with_details(
        qtbot, controller, monkeypatch):
    def broken_login(*args, **kwargs):
        raise RuntimeError("disk controller on fire")

    monkeypatch.setattr(auth, "login", broken_login)
    window = controller.show_login()
    log_in(qtbot, window, "owner", ADMIN_PASSWORD)

    qtbot.waitUntil(lambda: window.error.isVisible(), timeout=15_000)
    assert window.error.text() == "Something went wrong while opening the company file."
    dialogs = [w for w in QApplication.topLevelWidgets()
               if isinstance(w, UnexpectedErrorDialog) and w.isVisible()]
    assert len(dialogs) == 1
    assert "disk controller on fire" in dialogs[0].details
    assert "RuntimeError" in dialogs[0].details  # the traceback, to copy
    assert not dialogs[0].details_view.isVisible()  # one click away, not in the face
    dialogs[0].close()


def test_ctrl_l_logs_out_back_to_the_login_window(qtbot, controller, company_path, config,
                                                   device, monkeypatch):
    closed = []
    real_close = Context.close
    monkeypatch.setattr(Context, "close", lambda self: (closed.append(self), real_close(self)))
    window = controller.show_login()
    log_in(qtbot, window, "owner", ADMIN_PASSWORD)
    main = wait_for_main(qtbot, controller)
    ctx = main.ctx
    assert main.logout_action.shortcut() == QKeySequence("Ctrl+L")

    main.logout_action.trigger()
    qtbot.waitUntil(lambda: controller.login_window is not None
                    and controller.login_window.isVisible())
    assert controller.main_window is None
    assert not main.isVisible()
    assert "logged out" in controller.login_window.error.text()
    drain_pool()  # the logout runs on the pool
    assert any(c is ctx for c in closed)

    # The logout was audited and the company closed.
    again = auth.login(company_path, "owner", ADMIN_PASSWORD, config=config, device=device)
    try:
        events = audit.list_events(again, action_prefix="logout")
        assert [e.actor_name for e in events] == ["owner"]
    finally:
        again.close()


def test_admin_lists_users_and_verifies_the_audit_log(qtbot, admin_ctx, ui_state):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    main = MainWindow(admin_ctx, company_name="Template Traders Pvt Ltd", ui_state=ui_state)
    qtbot.addWidget(main)
    main.show()
    main.show_area("admin")
    page = main.page("admin")
    model = page.users.model
    qtbot.waitUntil(lambda: model.total == 2 and model.is_loaded(1), timeout=15_000)
    logins = [model.index(r, 0).data() for r in range(2)]
    assert logins == ["owner", "ravi"]
    assert model.index(1, 2).data() == "Sales clerk"

    audit_tab = page.show_tab("audit")
    qtbot.mouseClick(audit_tab.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "intact" in audit_tab.verify_result.text(), timeout=15_000)
    assert audit_tab.verify_button.isEnabled()


def test_an_auditor_without_users_view_has_no_admin_and_a_refused_report_is_shown(
        qtbot, admin_ctx, ui_state):
    # A custom role with ledger.view but not reports.financial: the Accounting
    # page says so instead of calling a service that would refuse.
    actor = admin_ctx.actor
    restricted = replace(admin_ctx, actor=Actor(actor.user_id, actor.login_name,
                                                actor.full_name, "bookkeeper",
                                                frozenset({"ledger.view"})))
    main = MainWindow(restricted, company_name="Template Traders Pvt Ltd", ui_state=ui_state)
    qtbot.addWidget(main)
    assert main.area_keys() == ["dashboard", "accounting", "settings"]
    assert main.status_role.text() == "bookkeeper"
    tb = main.page("accounting").trial_balance
    assert not tb.table.isEnabled()
    assert "does not include" in tb.status.text()


def test_window_geometry_and_area_are_restored(qtbot, admin_ctx, ui_state):
    first = MainWindow(admin_ctx, company_name="Acme", ui_state=ui_state)
    qtbot.addWidget(first)
    first.show()
    smallest = first.minimumSizeHint()
    # Inside the offscreen screen (800x600; restoring clamps to the screen), at least the
    # smallest the window can be, and unlike the default 1200x760.
    first.resize(max(700, smallest.width()) + 2, max(500, smallest.height()) + 4)
    first.show_area("sales")
    first.save_state()

    second = MainWindow(admin_ctx, company_name="Acme", ui_state=ui_state)
    qtbot.addWidget(second)
    assert second.current_area() == "sales"
    assert second.size() == first.size()
    assert second.size().height() == max(500, smallest.height()) + 4  # not the default 760


def test_recent_company_files_fill_the_chooser(qtbot, controller, company_path, tmp_path):
    other = tmp_path / "Second Shop.erp"
    controller.settings = replace(controller.settings,
                                  recent_files=[str(company_path), str(other)])
    window = controller.show_login()
    assert window.company.count() == 2
    assert window.selected_path() == Path(company_path)
    assert window.company.itemText(1) == "Second Shop"
    window.company.setCurrentIndex(1)
    assert "not found" in window.company_path.text()
    assert window.login_name.text() == "owner"
    assert window.password.echoMode() == window.password.EchoMode.Password


def test_closing_backs_up_and_the_first_login_of_the_day_takes_a_daily_copy(
        company_path, device, clock, tmp_path):
    """The GUI's automatic backups: daily at login, and when the company is closed."""
    from dataclasses import replace as _replace

    from erp_desktop.services import auth
    from erp_desktop.services import backup as backup_service
    from erp_desktop.store import backup as store_backup
    from erp_desktop.ui.login import daily_backup
    from erp_desktop.ui.main import end_session
    from tests.conftest import ADMIN, ADMIN_PASSWORD, make_config

    config = _replace(make_config(tmp_path), auto_backup=True)
    ctx = auth.login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device,
                     clock=clock)
    folder = backup_service.default_backup_folder(ctx)
    daily_backup(ctx)
    daily_backup(ctx)  # only one a day
    assert [b.reason for b in store_backup.list_backups(folder)] == ["daily"]
    end_session(ctx)
    assert sorted(b.reason for b in store_backup.list_backups(folder)) == ["daily", "on-close"]
