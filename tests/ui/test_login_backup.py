"""The day's automatic backup no longer holds up the main window (issue #6).

On a company with a million invoice lines the copy takes a minute: the login
gathers what the main window needs without it, and the app controller starts
it on a worker once the main window is shown; closing the company cancels it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt

from erp_desktop.services import auth
from erp_desktop.services import backup as backup_service
from erp_desktop.settings import UserSettings
from erp_desktop.store import backup as store_backup
from erp_desktop.ui.login import daily_backup, outcome_for
from erp_desktop.ui.worker import CancelToken
from tests.conftest import ADMIN, ADMIN_PASSWORD

pytestmark = pytest.mark.ui


def _reasons(ctx) -> list[str]:
    return [b.reason for b in store_backup.list_backups(backup_service.default_backup_folder(ctx))]


def test_logging_in_gathers_the_outcome_without_taking_the_backup(
        company_path, config, device, clock):
    ctx = auth.login(company_path, ADMIN, ADMIN_PASSWORD,
                     config=replace(config, auto_backup=True), device=device, clock=clock)
    try:
        outcome = outcome_for(ctx, company_path, UserSettings(), None)
        assert outcome.context is ctx
        assert _reasons(ctx) == []  # due, but left to the controller
        daily_backup(ctx)
        assert _reasons(ctx) == ["daily"]
    finally:
        ctx.close()


def test_a_cancelled_daily_backup_writes_nothing_and_raises_nothing(
        company_path, config, device, clock):
    ctx = auth.login(company_path, ADMIN, ADMIN_PASSWORD,
                     config=replace(config, auto_backup=True), device=device, clock=clock)
    try:
        token = CancelToken()
        token.cancel()  # the company was closed before the copy started
        daily_backup(ctx, token)
        folder = backup_service.default_backup_folder(ctx)
        assert _reasons(ctx) == []
        assert not folder.exists() or not [p for p in folder.iterdir() if p.is_file()]
    finally:
        ctx.close()


def test_the_days_backup_is_taken_once_the_main_window_is_open(qtbot, controller,
                                                               company_path):
    controller.config = replace(controller.config, auto_backup=True)
    window = controller.show_login()
    window.set_company(company_path)
    window.login_name.setText(ADMIN)
    window.password.setText(ADMIN_PASSWORD)
    qtbot.mouseClick(window.login_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.main_window is not None, timeout=15_000)
    ctx = controller.main_window.ctx
    qtbot.waitUntil(lambda: controller.backup_task is None, timeout=30_000)
    assert _reasons(ctx) == ["daily"]
