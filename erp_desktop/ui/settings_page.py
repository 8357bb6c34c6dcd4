"""Settings: your password, whether this computer may open the file without it,
and after how many idle minutes this computer locks the company (the "You"
tab); the company's own settings (the "Company" tab, `ui.company_settings`,
for those who may see them).

Changing the password runs `users.change_own_password` (the current password
must open the key file; the new one rewrites this user's key slot). "Unlock
with this computer" keeps a secret in the operating system's keychain
(`services.keychain_access`): where no usable keychain exists the page says
why and offers nothing, as the security model asks. The idle lock is a
setting of this installation (`settings.idle_lock_minutes`, checked by
`settings.check_idle_lock_minutes`); the page asks the main window to apply it,
and the app controller restarts its idle watcher and saves the settings file.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.settings import IDLE_LOCK_MAX_MINUTES, check_idle_lock_minutes
from erp_desktop.ui.admin_pages import add_password_fields
from erp_desktop.ui.company_settings import CompanySettingsPanel
from erp_desktop.ui.forms import Form
from erp_desktop.ui.icons import icon
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import PageEnv, heading, hint, message_style, page_frame
from erp_desktop.ui.worker import run_in_background


class SettingsPage(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        outer = page_frame(self, self.tr("Settings"), self.tr(
            "Your password, this computer, when it locks itself, and the company's settings."))
        # Two tabs: "You" (this person and this computer) and "Company" (ui.company_settings,
        # for those who may see the company's settings).
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settings_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setTabBarAutoHide(True)
        you = QWidget()
        you.setObjectName("settings_you")
        layout = QVBoxLayout(you)
        layout.setContentsMargins(2, 12, 12, 0)
        layout.setSpacing(10)
        layout.addWidget(heading(self.tr("Your password"), 1.15))
        self.form = Form(self, locale=env.locale)
        self.form.add_text("old_password", self.tr("Current password"), required=True,
                           password=True)
        add_password_fields(self.form, label=self.tr("New password"))
        self.form.alias("new_password", "password")
        self.form.widget.setMaximumWidth(620)
        layout.addWidget(self.form.widget)
        row = QHBoxLayout()
        self.change_button = QPushButton(icon("key"), self.tr("Change password"))
        self.change_button.setObjectName("change_password")
        self.change_button.clicked.connect(self.change_password)
        row.addWidget(self.change_button)
        self.password_result = QLabel()
        self.password_result.setObjectName("password_result")
        row.addWidget(self.password_result, 1)
        layout.addLayout(row)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(heading(self.tr("This computer"), 1.15))
        layout.addWidget(hint(self.tr(
            "This computer can remember you, so that you open the company file without "
            "typing your password. The secret is kept in the system keychain, which is "
            "protected by your computer login; use it only on a computer nobody else uses.")))
        self.computer_status = QLabel(self.tr("Checking…"))
        self.computer_status.setObjectName("computer_status")
        self.computer_status.setWordWrap(True)
        self.remember_button = QPushButton(icon("lock"), self.tr("Remember me here"))
        self.remember_button.setObjectName("remember")
        self.remember_button.clicked.connect(self.remember)
        self.forget_button = QPushButton(icon("close"), self.tr("Forget this computer"))
        self.forget_button.setObjectName("forget")
        self.forget_button.clicked.connect(self.forget)
        buttons = QHBoxLayout()
        buttons.addWidget(self.remember_button)
        buttons.addWidget(self.forget_button)
        buttons.addStretch(1)
        layout.addWidget(self.computer_status)
        layout.addLayout(buttons)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(heading(self.tr("Lock when idle"), 1.15))
        layout.addWidget(hint(self.tr(
            "After this many minutes without a key press or a click, this computer closes "
            "the company and asks for the password again. A running backup or export is "
            "never cut short.")))
        idle_row = QHBoxLayout()
        idle_label = QLabel(self.tr("&Lock after"))
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setObjectName("idle_lock_minutes")
        self.idle_minutes.setRange(0, IDLE_LOCK_MAX_MINUTES)
        self.idle_minutes.setSpecialValueText(self.tr("Never"))
        self.idle_minutes.setSuffix(self.tr(" minutes"))
        self.idle_minutes.setValue(env.idle_lock_minutes)
        self.idle_minutes.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.idle_minutes.setMinimumWidth(140)
        idle_label.setBuddy(self.idle_minutes)
        self.idle_apply = QPushButton(icon("lock"), self.tr("Apply"))
        self.idle_apply.setObjectName("idle_apply")
        self.idle_apply.clicked.connect(self.apply_idle_lock)
        self.idle_result = QLabel()
        self.idle_result.setObjectName("idle_result")
        idle_row.addWidget(idle_label)
        idle_row.addWidget(self.idle_minutes)
        idle_row.addWidget(self.idle_apply)
        idle_row.addWidget(self.idle_result, 1)
        layout.addLayout(idle_row)
        layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidgetResizable(True)
        scroll.setWidget(you)
        self.you = scroll
        self.tabs.addTab(scroll, icon("user"), self.tr("&You"))
        self.company: CompanySettingsPanel | None = None
        if env.can("company.view"):
            self.company = CompanySettingsPanel(env)
            self.company.commands_changed.connect(self.commands_changed)
            self.tabs.addTab(self.company, icon("company"), self.tr("&Company"))
        self.tabs.currentChanged.connect(self._tab_changed)
        outer.addWidget(self.tabs, 1)
        self.remember_button.setEnabled(False)
        self.forget_button.setEnabled(False)
        self._loaded = False

    def on_shown(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.check_computer()
        if self.delegate_to() is not None:
            self.company.on_shown()  # type: ignore[union-attr]

    def _tab_changed(self, _index: int) -> None:
        self.on_shown()
        self.commands_changed.emit()

    def show_company(self) -> CompanySettingsPanel:
        """Bring the Company tab to the front (KeyError when this person may not see it)."""
        if self.company is None:
            raise KeyError("company")
        self.tabs.setCurrentWidget(self.company)
        return self.company

    def delegate_to(self) -> CommandPage | None:
        company = self.company
        return company if company is not None and self.tabs.currentWidget() is company \
            else None

    def commands(self) -> set[Command]:
        target = self.delegate_to()
        return target.commands() if target is not None else {Command.SAVE}

    def run_command(self, command: Command) -> None:
        target = self.delegate_to()
        if target is not None:
            super().run_command(command)
        elif command == Command.SAVE:
            self.change_password()

    # ---- password

    def change_password(self) -> None:
        from erp_desktop.services import users

        self.form.submit(users.change_own_password, self.env.ctx,
                         self.form.raw("old_password"), self.form.raw("password"),
                         on_done=self._changed)

    def _changed(self, _result: Any) -> None:
        self.form.set_values({"old_password": "", "password": "", "confirm": ""})
        self.password_result.setStyleSheet(message_style("success"))
        self.password_result.setText(self.tr("Your password was changed."))

    # ---- idle lock

    def apply_idle_lock(self) -> None:
        try:
            minutes = check_idle_lock_minutes(self.idle_minutes.value())
        except UserError as exc:
            self.idle_result.setStyleSheet(message_style("error"))
            self.idle_result.setText(exc.message)
            return
        self.env.request("idle_lock_minutes", minutes)
        self.idle_result.setStyleSheet(message_style("success"))
        self.idle_result.setText(
            self.tr("This computer now locks after {n} minutes without use.").format(n=minutes)
            if minutes else self.tr("This computer no longer locks by itself."))

    # ---- this computer

    def check_computer(self) -> None:
        from erp_desktop.services import keychain_access

        ctx = self.env.ctx

        def status() -> tuple[Any, bool]:
            state = keychain_access.keychain_status(self.env.keychain)
            remembered = state.available and keychain_access.is_remembered(
                ctx.path, ctx.actor.login_name, ctx.config, self.env.keychain)
            return state, remembered

        run_in_background(status, parent=self, name="keychain status",
                          on_done=self._computer_checked, on_error=self._computer_failed)

    def _computer_checked(self, result: tuple[Any, bool]) -> None:
        state, remembered = result
        if not state.available:
            self.computer_status.setStyleSheet(message_style("warning"))
            self.computer_status.setText(state.reason)
            self.remember_button.setEnabled(False)
            self.forget_button.setEnabled(False)
            return
        self.computer_status.setStyleSheet("")
        self.computer_status.setText(
            self.tr("This computer remembers you: you can unlock without your password.")
            if remembered else self.tr("This computer does not remember you."))
        self.remember_button.setEnabled(not remembered)
        self.forget_button.setEnabled(remembered)

    def _computer_failed(self, exc: BaseException) -> None:
        self.computer_status.setStyleSheet(message_style("error"))
        self.computer_status.setText(exc.message if isinstance(exc, UserError) else str(exc))

    def remember(self) -> None:
        from erp_desktop.services import keychain_access

        self.remember_button.setEnabled(False)
        run_in_background(keychain_access.remember, self.env.ctx, self.env.keychain,
                          parent=self, name="remember", on_done=lambda _r: self.check_computer(),
                          on_error=self._computer_failed)

    def forget(self) -> None:
        from erp_desktop.services import keychain_access

        self.forget_button.setEnabled(False)
        run_in_background(keychain_access.forget, self.env.ctx, self.env.keychain,
                          parent=self, name="forget", on_done=lambda _r: self.check_computer(),
                          on_error=self._computer_failed)

