""""Forgot password?": the recovery passphrase opens the file and sets an admin's password.

`RecoveryDialog` asks for the recovery passphrase shown when the company was
created, the admin's login name and a new password, and runs
`services.auth.recover_admin` on the worker (failed attempts count towards
the same lock-out as passwords). On success the admin is logged in:
`recovered(LoginOutcome)`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from erp_desktop.settings import Paths, UserSettings
from erp_desktop.ui.admin_pages import add_password_fields
from erp_desktop.ui.forms import FormDialog

if TYPE_CHECKING:
    from erp_desktop.services.config import AppConfig
    from erp_desktop.services.context import DeviceInfo
    from erp_desktop.ui.login import LoginOutcome


def recover(path: Path, passphrase: str, login_name: str, new_password: str, *,
            config: AppConfig, device: DeviceInfo, settings: UserSettings,
            paths: Paths | None) -> LoginOutcome:
    """Runs on the worker: recover, then gather what the main window needs."""
    from erp_desktop.services import auth
    from erp_desktop.ui.login import outcome_for

    ctx = auth.recover_admin(path, passphrase, login_name, new_password, config=config,
                             device=device)
    return outcome_for(ctx, path, settings, paths)


class RecoveryDialog(FormDialog):
    recovered = Signal(object)

    def __init__(self, path: Path, *, login_name: str = "", config: AppConfig,
                 device: DeviceInfo, settings: UserSettings, paths: Paths | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Forgot your password?"), parent=parent,
                         save_text=self.tr("Set the new password"), intro=self.tr(
                             "An admin can set a new password with the recovery passphrase "
                             "that was shown when the company was created. Other users: ask "
                             "an admin to reset your password."))
        self.path = Path(path)
        self.config = config
        self.device = device
        self.settings = settings
        self.paths = paths
        self.form.add_multiline("passphrase", self.tr("Recovery passphrase"), required=True,
                                lines=2, placeholder=self.tr("as written down: ABCDE-FGHIJ-…"))
        self.form.add_text("login_name", self.tr("Admin login"), value=login_name,
                           required=True, max_length=64)
        add_password_fields(self.form, label=self.tr("New password"))
        self.form.alias("new_password", "password")

    def save(self) -> None:
        self.form.submit(recover, self.path, self.form.value("passphrase"),
                         self.form.value("login_name"), self.form.raw("password"),
                         config=self.config, device=self.device,
                         settings=replace(self.settings,
                                          recent_files=list(self.settings.recent_files)),
                         paths=self.paths, on_done=self._done,
                         discard=lambda outcome: outcome.context.close())

    def _done(self, outcome: Any) -> None:
        self.result_value = outcome
        self.accept()
        self.recovered.emit(outcome)
