"""The login window: choose a company file, give a login name and password.

Logging in unlocks the file (argon2id, about a fifth of a second), opens and
perhaps upgrades it, and reads the company profile: all of it runs on a
worker thread (`open_company`), so the window keeps painting and answers. A
refusal from the service (wrong password, a locked login, a file that is not
a company file, a damaged key file) is shown under the fields; on success the
window emits `logged_in` with a `LoginOutcome` and the app controller
(`ui.main`) swaps it for the main window.

Besides the password the window offers: "Remember me on this computer" (a
secret in the OS keychain, `services.keychain_access`; offered only where a
real keychain exists) and "Unlock with this computer" once it remembers the
chosen login; "Forgot password?" (the recovery passphrase, `ui.recovery`);
and "Create a company…" (`ui.company_wizard`). Each of them ends, like a
password login, in `logged_in(LoginOutcome)`.

This module stays light to import: the services (SQLAlchemy, argon2, ...) are
imported on the worker thread, warmed up right after the window is shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QDir, QTimer, Signal
from PySide6.QtGui import QFont, QPaintEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import LoginLocked, UserError
from erp_desktop.settings import Paths, UserSettings, save_settings
from erp_desktop.ui.icons import icon
from erp_desktop.ui.theme import tones
from erp_desktop.ui.worker import CancelToken, Task, run_in_background

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from erp_desktop.services.config import AppConfig
    from erp_desktop.services.context import Context, DeviceInfo

log = logging.getLogger(__name__)

HINT_STYLE = "color: palette(placeholder-text);"
# Qt.ItemDataRole.ToolTipRole. The C++ parameter is a plain int, and naming the enum
# would load PySide's `Qt` namespace (all its enums, ~20 ms) before the first paint:
# this module uses `QtCore.Qt` only once the window is painted (see `painted`).
TOOLTIP_ROLE = 3


@dataclass(frozen=True)
class LoginOutcome:
    """What a successful login hands to the main window."""

    context: Context
    company_name: str  # the legal name, or the file name for a user who may not see the profile
    locale: str  # for money and dates, from the company profile
    settings: UserSettings  # the updated settings (recent files, last login), already saved
    note: str = ""  # something to tell after the login (the keychain refused to remember)


def open_company(path: Path, login_name: str, password: str, *, config: AppConfig,
                 device: DeviceInfo, settings: UserSettings,
                 paths: Paths | None, remember: bool = False,
                 keychain: object | None = None) -> LoginOutcome:
    """Log in and gather what the main window needs. Runs on a worker thread.

    `settings` is this thread's own copy; the updated copy comes back in the
    outcome, so no mutable object is shared with the UI thread. With
    `remember`, this computer then remembers the login in the OS keychain.
    """
    from erp_desktop.services import auth

    ctx = auth.login(path, login_name, password, config=config, device=device)
    outcome = outcome_for(ctx, path, settings, paths)
    if remember:
        from erp_desktop.domain.errors import UserError as _UserError
        from erp_desktop.services import keychain_access

        try:
            keychain_access.remember(ctx, keychain)  # type: ignore[arg-type]
        except _UserError as exc:  # the login itself worked; say why it is not remembered
            return replace(outcome, note=exc.message)
        except BaseException:
            ctx.close()
            raise
    return outcome


def open_with_keychain(path: Path, login_name: str, *, config: AppConfig, device: DeviceInfo,
                       settings: UserSettings, paths: Paths | None,
                       keychain: object | None = None) -> LoginOutcome:
    """Log in with the secret this computer keeps (worker thread)."""
    from erp_desktop.services import keychain_access

    ctx = keychain_access.log_in(path, login_name, config=config, device=device,
                                 keychain=keychain)  # type: ignore[arg-type]
    return outcome_for(ctx, path, settings, paths)


def keychain_state(path: Path | None, login_name: str, *, config: AppConfig,
                   keychain: object | None = None) -> tuple[bool, str, bool]:
    """(keychain usable, why not, remembers this login) for the chosen file (worker)."""
    from erp_desktop.services import keychain_access

    status = keychain_access.keychain_status(keychain)  # type: ignore[arg-type]
    remembered = bool(status.available and path is not None and login_name.strip()
                      and keychain_access.is_remembered(path, login_name.strip(), config,
                                                        keychain))  # type: ignore[arg-type]
    return status.available, status.reason, remembered


def daily_backup(ctx: Context, token: CancelToken | None = None) -> None:
    """The daily safety copy, taken at the first login of the day (worker thread).

    The app controller starts it once the main window is shown: copying a
    big company file takes a minute, which nobody should wait for before
    working. A failed backup must not keep anyone out of the company: it is
    logged; a cancelled one (the company was closed first) is simply not there.
    """
    from erp_desktop.services import backup

    cancelled = (lambda: token.cancelled) if token is not None else None
    try:
        backup.daily_backup_if_due(ctx, cancelled=cancelled)
    except Exception as exc:
        if isinstance(exc, UserError) and token is not None and token.cancelled:
            log.info("the daily backup was cancelled: the company was closed")
        else:
            log.warning("the daily backup failed", exc_info=True)


def outcome_for(ctx: Context, path: Path, settings: UserSettings,
                paths: Paths | None) -> LoginOutcome:
    """What the main window needs after any kind of login (worker thread)."""
    from erp_desktop.services import company

    try:
        name, locale = Path(path).stem, "en_IN"
        # An employee's role may not include company.view; asking anyway would
        # audit a permission denial at every one of their logins.
        if ctx.actor.can("company.view"):
            profile = company.get_profile(ctx)
            name, locale = profile.legal_name, profile.locale or locale
    except BaseException:
        ctx.close()
        raise
    updated = replace(settings, recent_files=list(settings.recent_files))
    updated.remember_company(Path(path), ctx.actor.login_name)
    if paths is not None:
        try:
            save_settings(paths, updated)
        except OSError:  # the login itself worked; remembering the file is a nicety
            log.warning("could not save the settings file", exc_info=True)
    return LoginOutcome(ctx, name, locale, updated)


def _close_outcome(outcome: LoginOutcome) -> None:
    """A login finished after its window was closed: close the company again."""
    outcome.context.close()


def _warm_imports() -> None:
    """Import the services while the person types, so "Log in" starts at once and the
    dashboard's figures follow without waiting for imports (`services.warmup`)."""
    from erp_desktop.services.warmup import warm_up

    warm_up()


class LoginWindow(QWidget):
    """See the module docstring. `logged_in(LoginOutcome)` on success."""

    logged_in = Signal(object)
    # Once, right after the first paint: the time to start what the window does not need
    # to be seen (the services' warm-up, the log file, ...).
    painted = Signal()

    def __init__(self, *, settings: UserSettings, config: AppConfig, device: DeviceInfo,
                 paths: Paths | None = None, message: str | None = None,
                 keychain: object | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keychain = keychain  # None: the OS keychain (tests pass an in-memory one)
        self.keychain_ok = False
        self.remembered = False
        self.keychain_task: Task | None = None
        self.dialog: QWidget | None = None
        self.settings = settings
        self.config = config
        self.device = device
        self.paths = paths
        self.task: Task | None = None
        self._locked_seconds = 0
        self._lock_timer = QTimer(self)
        self._lock_timer.setInterval(1000)
        self._lock_timer.timeout.connect(self._tick_lock)
        self._keychain_timer = QTimer(self)  # re-ask the keychain once typing pauses
        self._keychain_timer.setSingleShot(True)
        self._keychain_timer.setInterval(400)
        self._keychain_timer.timeout.connect(self.check_keychain)

        self.setWindowTitle(self.tr("Log in — erp_desktop"))
        self.setObjectName("LoginWindow")
        self.setWindowIcon(icon("company"))

        title = QLabel(self.tr("erp_desktop"))
        font = QFont(title.font())
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel(self.tr("Open your company file and log in."))
        subtitle.setStyleSheet(HINT_STYLE)

        self.company = QComboBox()
        self.company.setObjectName("company")
        self.company.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.company.setMinimumContentsLength(24)
        self.company.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.company.currentIndexChanged.connect(self._company_changed)
        self.open_button = QPushButton(self.tr("Open…"))
        self.open_button.setObjectName("open")
        self.open_button.setToolTip(self.tr("Choose a company file on this computer"))
        self.open_button.clicked.connect(self.choose_file)
        company_row = QHBoxLayout()
        company_row.setContentsMargins(0, 0, 0, 0)
        company_row.addWidget(self.company, 1)
        company_row.addWidget(self.open_button)
        self.company_path = QLabel()
        self.company_path.setObjectName("company_path")
        self.company_path.setStyleSheet(HINT_STYLE)
        self.company_path.setWordWrap(True)

        self.login_name = QLineEdit(settings.last_login or "")
        self.login_name.setObjectName("login_name")
        self.login_name.setMaxLength(64)
        self.login_name.returnPressed.connect(self.submit)
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.returnPressed.connect(self.submit)

        self.remember = QCheckBox(self.tr("&Remember me on this computer"))
        self.remember.setObjectName("remember")
        self.remember.setToolTip(self.tr(
            "Keep a key in this computer's keychain, so that next time you can unlock "
            "without typing your password"))
        self.remember.setEnabled(False)
        self.unlock_button = QPushButton(icon("lock"), self.tr("&Unlock with this computer"))
        self.unlock_button.setObjectName("unlock")
        self.unlock_button.setToolTip(self.tr(
            "This computer remembers the login: open the file without the password"))
        self.unlock_button.clicked.connect(self.unlock_with_keychain)
        self.unlock_button.setVisible(False)
        self.forgot_button = QPushButton(self.tr("Forgot password?"))
        self.forgot_button.setObjectName("forgot")
        self.forgot_button.setFlat(True)
        self.forgot_button.clicked.connect(self.forgot_password)
        self.create_button = QPushButton(icon("new"), self.tr("Create a company…"))
        self.create_button.setObjectName("create_company")
        self.create_button.setToolTip(self.tr("Start a new company file"))
        self.create_button.clicked.connect(self.create_company)

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)

        self.busy = QProgressBar()
        self.busy.setObjectName("busy")
        self.busy.setRange(0, 0)  # indeterminate: unlocking reports no steps
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.setVisible(False)
        self.login_button = QPushButton(self.tr("Log in"))
        self.login_button.setObjectName("login")
        self.login_button.setDefault(True)
        self.login_button.setAutoDefault(True)
        self.login_button.clicked.connect(self.submit)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow(self.tr("Company &file:"), company_row)
        form.addRow("", self.company_path)
        form.addRow(self.tr("&Login name:"), self.login_name)
        form.addRow(self.tr("&Password:"), self.password)
        remember_row = QHBoxLayout()
        remember_row.setContentsMargins(0, 0, 0, 0)
        remember_row.addWidget(self.remember)
        remember_row.addStretch(1)
        remember_row.addWidget(self.forgot_button)
        form.addRow("", remember_row)
        form.addRow("", self.error)
        # The buddy of "Company file" is the combo (the row holds a layout).
        label = form.labelForField(company_row)
        if isinstance(label, QLabel):
            label.setBuddy(self.company)

        buttons = QHBoxLayout()
        buttons.addWidget(self.create_button)
        buttons.addWidget(self.busy, 1)
        buttons.addStretch(0)
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.login_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addSpacing(8)
        layout.addLayout(form)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.setMinimumWidth(520)

        self._fill_companies()
        if message:
            self.show_message(message)
        QWidget.setTabOrder(self.company, self.open_button)
        QWidget.setTabOrder(self.open_button, self.login_name)
        QWidget.setTabOrder(self.login_name, self.password)
        QWidget.setTabOrder(self.password, self.remember)
        QWidget.setTabOrder(self.remember, self.forgot_button)
        QWidget.setTabOrder(self.forgot_button, self.login_button)
        QWidget.setTabOrder(self.login_button, self.unlock_button)
        QWidget.setTabOrder(self.unlock_button, self.create_button)
        self.login_name.textChanged.connect(lambda _t: self._keychain_timer.start())
        (self.password if self.login_name.text() else self.login_name).setFocus()
        self._painted = False
        self.painted.connect(self._finish_setup)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.painted.emit)  # after this paint is on the screen

    def _finish_setup(self) -> None:
        """What the first paint does not need (it would load the `Qt` namespace)."""
        selectable = QtCore.Qt.TextInteractionFlag.TextSelectableByMouse
        self.company_path.setTextInteractionFlags(selectable)
        self.error.setTextInteractionFlags(selectable)
        self.forgot_button.setCursor(QtCore.Qt.CursorShape.PointingHandCursor)

    # ---- company files

    def _fill_companies(self) -> None:
        seen: list[str] = []
        for text in [*self.settings.recent_files, self.settings.last_company]:
            if text and text not in seen:
                seen.append(text)
        for text in seen:
            self._add_company(Path(text))
        if self.settings.last_company:
            index = self.company.findData(self.settings.last_company)
            self.company.setCurrentIndex(max(index, 0))
        self._company_changed()

    def _add_company(self, path: Path) -> int:
        text = str(path)
        index = self.company.findData(text)
        if index < 0:
            self.company.addItem(path.stem, text)
            index = self.company.count() - 1
            self.company.setItemData(index, text, TOOLTIP_ROLE)
        return index

    def _company_changed(self) -> None:
        path = self.selected_path()
        if path is None:
            self.company_path.setText(self.tr("No company file yet: click “Open…” to choose one."))
        elif not path.exists():
            self.company_path.setText(self.tr("{path} (not found)").format(
                path=QDir.toNativeSeparators(str(path))))
        else:
            self.company_path.setText(QDir.toNativeSeparators(str(path)))
        if hasattr(self, "_keychain_timer"):
            self._keychain_timer.start()

    def selected_path(self) -> Path | None:
        data = self.company.currentData()
        return Path(data) if data else None

    def set_company(self, path: Path) -> None:
        """Select `path`, adding it to the list when it is new."""
        self.company.setCurrentIndex(self._add_company(Path(path)))
        self._company_changed()

    def choose_file(self) -> None:
        from PySide6.QtWidgets import QFileDialog  # late: its enums cost start-up time

        current = self.selected_path()
        if current is not None:
            start = str(current.parent)
        elif self.paths is not None:
            start = str(self.paths.companies_dir)
        else:
            start = QDir.homePath()
        chosen, _ = QFileDialog.getOpenFileName(
            self, self.tr("Open company file"), start,
            self.tr("Company files (*.erp);;All files (*)"))
        if chosen:
            self.set_company(Path(chosen))
            self.clear_message()
            (self.password if self.login_name.text() else self.login_name).setFocus()

    # ---- logging in

    @property
    def busy_now(self) -> bool:
        return self.task is not None

    def submit(self) -> None:
        if self.task is not None:
            return
        path = self.selected_path()
        if path is None:
            self.show_message(self.tr("Choose a company file first."))
            self.open_button.setFocus()
            return
        if not self.login_name.text().strip():
            self.show_message(self.tr("Enter your login name."))
            self.login_name.setFocus()
            return
        if not self.password.text():
            self.show_message(self.tr("Enter your password."))
            self.password.setFocus()
            return
        self.clear_message()
        self._set_busy(True)
        self.task = run_in_background(
            open_company, path, self.login_name.text().strip(), self.password.text(),
            config=self.config, device=self.device,
            settings=replace(self.settings, recent_files=list(self.settings.recent_files)),
            paths=self.paths, remember=self.remember.isChecked() and self.keychain_ok,
            keychain=self.keychain, on_done=self._succeeded, on_error=self._failed,
            parent=self, discard=_close_outcome, name="login")

    def unlock_with_keychain(self) -> None:
        """Open the file with the secret this computer keeps for the login."""
        if self.task is not None:
            return
        path = self.selected_path()
        if path is None or not self.login_name.text().strip():
            return
        self.clear_message()
        self._set_busy(True)
        self.task = run_in_background(
            open_with_keychain, path, self.login_name.text().strip(), config=self.config,
            device=self.device,
            settings=replace(self.settings, recent_files=list(self.settings.recent_files)),
            paths=self.paths, keychain=self.keychain, on_done=self._succeeded,
            on_error=self._failed, parent=self, discard=_close_outcome, name="keychain login")

    def check_keychain(self) -> None:
        """Ask (on the worker) whether a keychain exists and remembers this login."""
        if self.keychain_task is not None:
            self.keychain_task.cancel()
        self.keychain_task = run_in_background(
            keychain_state, self.selected_path(), self.login_name.text(), config=self.config,
            keychain=self.keychain, parent=self, name="keychain state",
            on_done=self._keychain_checked,
            on_error=lambda exc: log.warning("keychain check failed: %s", exc))

    def _keychain_checked(self, state: tuple[bool, str, bool]) -> None:
        self.keychain_task = None
        available, reason, remembered = state
        self.keychain_ok = available
        self.remembered = remembered
        self.remember.setEnabled(available and self.task is None)
        self.remember.setToolTip(reason or self.tr(
            "Keep a key in this computer's keychain, so that next time you can unlock "
            "without typing your password"))
        if not available:
            self.remember.setChecked(False)
        self.unlock_button.setVisible(remembered)
        if remembered:
            self.unlock_button.setDefault(False)

    def forgot_password(self) -> QWidget | None:
        path = self.selected_path()
        if path is None:
            self.show_message(self.tr("Choose the company file first."))
            return None
        from erp_desktop.ui.recovery import RecoveryDialog

        dialog = RecoveryDialog(path, login_name=self.login_name.text().strip(),
                                config=self.config, device=self.device, settings=self.settings,
                                paths=self.paths, parent=self)
        dialog.recovered.connect(self._succeeded_elsewhere)
        dialog.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.dialog = dialog
        return dialog

    def create_company(self) -> QWidget:
        from erp_desktop.ui.company_wizard import CompanyWizard

        wizard = CompanyWizard(config=self.config, device=self.device, settings=self.settings,
                               paths=self.paths, parent=self)
        wizard.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        wizard.created.connect(self._succeeded_elsewhere)
        wizard.setAttribute(QtCore.Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.open()
        self.dialog = wizard
        return wizard

    def _succeeded_elsewhere(self, outcome: LoginOutcome) -> None:
        """A wizard or the recovery dialog logged someone in."""
        self.dialog = None
        self.settings = outcome.settings
        self.logged_in.emit(outcome)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.company, self.open_button, self.login_name, self.password,
                       self.unlock_button, self.create_button, self.forgot_button):
            widget.setEnabled(not busy)
        self.remember.setEnabled(not busy and self.keychain_ok)
        self.login_button.setEnabled(not busy)
        self.login_button.setText(self.tr("Logging in…") if busy else self.tr("Log in"))
        self.busy.setVisible(busy)

    def _succeeded(self, outcome: LoginOutcome) -> None:
        self.task = None
        self.password.clear()
        self.settings = outcome.settings
        self._set_busy(False)
        self.logged_in.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self._set_busy(False)
        self.password.clear()
        if isinstance(exc, LoginLocked):
            self._start_lock_countdown(exc)
        elif isinstance(exc, UserError):
            self.show_message(exc.message)
            self._focus_field(exc.field)
        else:
            from erp_desktop.ui.errors import show_error

            self.show_message(self.tr("Something went wrong while opening the company file."))
            show_error(self, exc)
            self.password.setFocus()

    def _focus_field(self, field: str | None) -> None:
        widget = {"login_name": self.login_name, "path": self.company}.get(field or "")
        (widget or self.password).setFocus()

    def _start_lock_countdown(self, exc: LoginLocked) -> None:
        self.show_message(exc.message)
        self._locked_seconds = max(1, int(exc.retry_after_seconds))
        self._lock_timer.start()
        self.password.setFocus()

    def _tick_lock(self) -> None:
        self._locked_seconds -= 1
        if self._locked_seconds <= 0:
            self._lock_timer.stop()
            self.show_message(self.tr("You can try again now."), error=False)
            return
        self.show_message(self._wait_text(self._locked_seconds))

    def _wait_text(self, seconds: int) -> str:
        if seconds >= 60:
            minutes = -(-seconds // 60)
            if minutes == 1:
                return self.tr("Too many failed attempts. Try again in 1 minute.")
            return self.tr("Too many failed attempts. Try again in {n} minutes.").format(n=minutes)
        if seconds == 1:
            return self.tr("Too many failed attempts. Try again in 1 second.")
        return self.tr("Too many failed attempts. Try again in {n} seconds.").format(n=seconds)

    # ---- the message under the fields

    def show_message(self, text: str, *, error: bool = True) -> None:
        self.error.setStyleSheet(f"color: {tones().error};" if error else HINT_STYLE)
        self.error.setText(text)
        self.error.setVisible(bool(text))
        self.error.setAccessibleDescription(text)

    def clear_message(self) -> None:
        self._lock_timer.stop()
        self.show_message("")

    def warm_up(self) -> None:
        """Start importing the services in the background (call once shown)."""
        run_in_background(_warm_imports, parent=self, name="warm imports",
                          on_error=lambda exc: log.warning("warm-up import failed: %s", exc))
        self.check_keychain()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.task is not None:
            self.task.cancel()  # a login finishing later closes its company again
        self._lock_timer.stop()
        self._keychain_timer.stop()
        super().closeEvent(event)
