"""Admin pages: users, the role editor, the audit log, backup with Cancel, restore."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton

from erp_desktop.services import audit, auth, backup, ledger, roles, users
from erp_desktop.ui import worker
from erp_desktop.ui.admin_pages import PasswordDialog, RestoreRequest, UserDialog
from erp_desktop.ui.shortcuts import Command
from tests.conftest import ADMIN_PASSWORD
from tests.ui.conftest import drain_pool

pytestmark = pytest.mark.ui

CLERK_PASSWORD = "till drawer 42 open"


def admin_page(open_main, ctx):
    main = open_main(ctx, area="admin")
    return main, main.page("admin")


def test_users_are_listed_and_a_new_user_is_added_from_the_list(qtbot, admin_ctx, open_main):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("users")
    qtbot.waitUntil(lambda: tab.model.total == 2 and tab.model.is_loaded(1), timeout=15_000)
    assert [tab.model.index(r, 0).data() for r in range(2)] == ["owner", "ravi"]
    assert tab.model.index(1, 2).data() == "Sales clerk"
    assert Command.NEW in main.available_commands()

    main.run_command(Command.NEW)  # Ctrl+N: the roles load, then the dialog opens
    qtbot.waitUntil(lambda: tab.findChild(UserDialog) is not None, timeout=15_000)
    dialog = tab.findChild(UserDialog)
    f = dialog.form.fields
    f["login_name"].widget.setText("meena")
    f["full_name"].widget.setText("Meena Iyer")
    dialog.form.set_value("role_name", "accountant")
    f["password"].widget.setText("ledger lines 2026 ok")
    f["confirm"].widget.setText("ledger lines 2026 ok")
    dialog.save()
    qtbot.waitUntil(lambda: tab.model.total == 3, timeout=15_000)
    assert "meena added" in tab.message.text()
    assert [u.role_name for u in users.list_users(admin_ctx) if u.login_name == "meena"] \
        == ["accountant"]


def test_reset_password_and_disable_go_through_the_services(qtbot, admin_ctx, open_main,
                                                             company_path, config, device):
    ravi = users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("users")
    qtbot.waitUntil(lambda: tab.model.total == 2 and tab.model.is_loaded(1), timeout=15_000)
    tab.list.view.select_row(1)
    assert tab.password_action.isEnabled() and tab.disable_action.text() == "Disable"

    dialog = tab.reset_password()
    assert isinstance(dialog, PasswordDialog)
    dialog.form.fields["password"].widget.setText("a brand new secret")
    dialog.form.fields["confirm"].widget.setText("a brand new secret")
    dialog.save()
    qtbot.waitUntil(lambda: "was changed" in tab.message.text(), timeout=15_000)
    auth.login(company_path, "ravi", "a brand new secret", config=config,
               device=device).close()

    qtbot.waitUntil(lambda: tab.model.is_loaded(1), timeout=15_000)  # the list was re-read
    tab.list.view.select_row(1)
    tab.disable(tab.list.current_row())
    qtbot.waitUntil(lambda: "is disabled" in tab.message.text(), timeout=15_000)
    assert not next(u for u in users.list_users(admin_ctx) if u.id == ravi.id).active
    qtbot.waitUntil(lambda: tab.model.is_loaded(1) and tab.model.index(1, 3).data()
                    == "Disabled", timeout=15_000)


def test_the_last_admin_cannot_be_disabled_and_the_page_says_why(qtbot, admin_ctx,
                                                                  open_main):
    other = users.add_user(admin_ctx, "asha2", "Asha Two", CLERK_PASSWORD, "admin")
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("users")
    users.disable_user(admin_ctx, other.id)
    qtbot.waitUntil(lambda: tab.model.total == 2, timeout=15_000)
    me = next(u for u in users.list_users(admin_ctx) if u.login_name == "owner")
    tab.disable(me)
    qtbot.waitUntil(lambda: tab.message.text() != "", timeout=15_000)
    assert tab.message.text() == "You cannot disable your own login."


def test_the_role_editor_changes_permissions_through_the_service(qtbot, admin_ctx,
                                                                 open_main):
    main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("roles")
    qtbot.waitUntil(lambda: len(tab.roles) == 7, timeout=15_000)
    tab.select_role("sales_clerk")
    assert tab.title.text() == "Sales clerk"
    assert tab.tree.items["sales.payment.record"].checkState(0) == Qt.CheckState.Checked
    assert Command.SAVE not in main.available_commands()

    tab.tree.set_permission("sales.payment.record", False)
    tab.tree.set_permission("inventory.stock.move", True)
    assert tab.dirty and Command.SAVE in main.available_commands()
    main.run_command(Command.SAVE)
    qtbot.waitUntil(lambda: "Saved" in tab.status.text(), timeout=15_000)

    clerk = roles.get_role(admin_ctx, "sales_clerk")
    assert "sales.payment.record" not in clerk.permissions
    assert "inventory.stock.move" in clerk.permissions
    events = audit.list_events(admin_ctx, action_prefix="role.permissions_changed")
    assert events[-1].details == {"role": "sales_clerk", "added": ["inventory.stock.move"],
                                  "removed": ["sales.payment.record"]}
    assert not tab.dirty


def test_the_role_editor_reports_a_change_made_meanwhile_with_reload(qtbot, admin_ctx,
                                                                     open_main):
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("roles")
    qtbot.waitUntil(lambda: len(tab.roles) == 7, timeout=15_000)
    tab.select_role("storekeeper")
    roles.grant(admin_ctx, "storekeeper", ["sales.view"])  # another admin, meanwhile
    tab.tree.set_permission("reports.financial", True)
    tab.save()
    qtbot.waitUntil(lambda: tab.form.banner_message != "", timeout=15_000)
    assert "changed by someone else" in tab.form.banner_message
    assert "reports.financial" not in roles.get_role(admin_ctx, "storekeeper").permissions

    qtbot.mouseClick(tab.form.reload_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: tab.role is not None and "sales.view" in tab.role.permissions,
                    timeout=15_000)
    assert tab.tree.items["sales.view"].checkState(0) == Qt.CheckState.Checked
    assert tab.role.name == "storekeeper"


def test_the_admin_role_keeps_users_manage_and_the_editor_shows_the_refusal(
        qtbot, admin_ctx, open_main):
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("roles")
    qtbot.waitUntil(lambda: len(tab.roles) == 7, timeout=15_000)
    tab.select_role("admin")
    tab.tree.set_permission("users.manage", False)
    tab.save()
    qtbot.waitUntil(lambda: tab.form.field_error("permissions") != "", timeout=15_000)
    assert "must keep" in tab.form.field_error("permissions")


def test_the_audit_log_is_paged_and_verified(qtbot, admin_ctx, open_main):
    ledger.post_entry(admin_ctx, date(2026, 11, 2), [
        ledger.LineInput("1100", debit=Decimal("10")),
        ledger.LineInput("4100", credit=Decimal("10"))], "Sale")
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("audit")
    qtbot.waitUntil(lambda: tab.list.model.is_loaded(0), timeout=15_000)
    assert tab.list.model.index(0, 3).data() == "ledger.entry_posted"  # newest first
    qtbot.mouseClick(tab.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "intact" in tab.verify_result.text(), timeout=15_000)
    assert tab.verify_button.isEnabled()


def test_login_history_filters_failed_attempts(qtbot, admin_ctx, open_main, company_path,
                                               config, device):
    with pytest.raises(auth.WrongPassword):
        auth.login(company_path, "owner", "wrong", config=config, device=device)
    # A failed attempt is sealed in the key file until the next login brings it in.
    auth.login(company_path, "owner", ADMIN_PASSWORD, config=config, device=device).close()
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("logins")
    qtbot.waitUntil(lambda: tab.list.model.total is not None, timeout=15_000)
    tab.outcome.setCurrentIndex(1)  # failed only
    qtbot.waitUntil(lambda: tab.list.model.total == 1 and tab.list.model.is_loaded(0),
                    timeout=15_000)
    assert tab.list.model.index(0, 2).data() == "Failed"


def test_a_backup_runs_with_a_progress_dialog_and_writes_a_file(qtbot, admin_ctx, open_main):
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("backup")
    tab.start_backup(None)
    qtbot.waitUntil(lambda: "Backed up to" in tab.result.text(), timeout=30_000)
    files = list(backup.default_backup_folder(admin_ctx).glob("*.erp"))
    assert len(files) == 1
    assert tab.backup_button.isEnabled()
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, QProgressDialog) and w.isVisible()]


def test_cancelling_a_backup_leaves_no_file(qtbot, admin_ctx, open_main, monkeypatch,
                                            tmp_path):
    reached, release = threading.Event(), threading.Event()
    real_report = worker.CancelToken.report

    def held_report(self, done, total, text=""):
        # The backup's first progress report waits here until the test has pressed Cancel.
        if not reached.is_set():
            reached.set()
            assert release.wait(15)
        real_report(self, done, total, text)

    monkeypatch.setattr(worker.CancelToken, "report", held_report)
    _main, page = admin_page(open_main, admin_ctx)
    tab = page.show_tab("backup")
    target = tmp_path / "shop-backup.erp"
    run = tab.start_backup(target)
    assert run.dialog.isVisible() and run.dialog.windowTitle() == "Backing up"
    assert reached.wait(15)
    cancel = next(b for b in run.dialog.findChildren(QPushButton) if b.text() == "Cancel")
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert run.task.token.cancelled
    release.set()
    qtbot.waitUntil(lambda: "cancelled" in tab.result.text(), timeout=30_000)

    assert not target.exists()
    assert not list(tmp_path.glob("shop-backup*"))  # no partial file, no key file
    assert audit.list_events(admin_ctx, action_prefix="backup.") == []


def test_restore_closes_the_company_and_returns_to_the_login_window(
        qtbot, controller, admin_ctx, company_path, config, device, tmp_path):
    saved = backup.create_backup(admin_ctx, tmp_path / "before.erp")
    admin_ctx.close()
    window = controller.show_login()
    window.login_name.setText("owner")
    window.password.setText(ADMIN_PASSWORD)
    window.submit()
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=15_000)
    main = controller.main_window
    ledger.post_entry(main.ctx, date(2026, 11, 2), [
        ledger.LineInput("1100", debit=Decimal("77")),
        ledger.LineInput("4100", credit=Decimal("77"))], "After the backup")

    main.restore_requested.emit(RestoreRequest(saved, "owner", ADMIN_PASSWORD))
    qtbot.waitUntil(lambda: controller.main_window is None, timeout=15_000)
    login = controller.login_window
    qtbot.waitUntil(lambda: "Restored from before.erp" in login.error.text(), timeout=30_000)
    drain_pool()
    ctx = auth.login(company_path, "owner", ADMIN_PASSWORD, config=config, device=device)
    try:
        assert ledger.list_entries(ctx).rows == []  # the entry made after the backup is gone
        assert audit.list_events(ctx, action_prefix="backup.restored")
    finally:
        ctx.close()
