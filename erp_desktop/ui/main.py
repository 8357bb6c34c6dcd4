"""Start the desktop app: the QApplication, the login window, then the main window.

`run_gui` is called by the composition root (`app.py`) with everything built
there. `AppController` owns the one open company at a time: it shows the
login window, swaps it for the main window on success, and on logout (Ctrl+L)
or when the main window is closed logs out on a worker thread (an audited
event, then the company is closed) and, for a logout, shows the login window
again. Nothing here is global: the controller holds the `Context` of the
logged-in user and hands it to the main window.

Startup stays quick because only Qt and the light UI modules are imported
before the login window is painted; the services are imported on a worker
thread while the person types (`LoginWindow.warm_up`).
"""

from __future__ import annotations

import logging
import sys
import traceback
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from erp_desktop.settings import APP_AUTHOR, APP_NAME, Paths, UserSettings
from erp_desktop.ui.login import LoginOutcome, LoginWindow
from erp_desktop.ui.worker import run_in_background

if TYPE_CHECKING:
    from erp_desktop.services.config import AppConfig
    from erp_desktop.services.context import Context, DeviceInfo
    from erp_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# How long quitting waits for work still running (a logout's audit event, a
# report being computed) before the process ends anyway.
SHUTDOWN_WAIT_MS = 10_000


def ui_state_for(paths: Paths | None) -> QSettings:
    """Window geometry and similar UI state, kept with this installation's settings
    (so `ERP_DESKTOP_HOME` moves it too); the platform's default store otherwise."""
    if paths is None:
        return QSettings()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    return QSettings(str(paths.config_dir / "window-state.ini"), QSettings.Format.IniFormat)


def end_session(ctx: Context) -> None:
    """Log out (audited) and close the company file. Runs on a worker thread."""
    from erp_desktop.services import auth

    try:
        auth.logout(ctx)
    finally:
        ctx.close()  # also when the audit write failed: never leave the file open


class AppController(QObject):
    """One login window or one main window at a time (see module docstring)."""

    def __init__(self, *, settings: UserSettings, config: AppConfig, device: DeviceInfo,
                 paths: Paths | None = None, ui_state: QSettings | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.config = config
        self.device = device
        self.paths = paths
        self.ui_state = ui_state if ui_state is not None else ui_state_for(paths)
        self.login_window: LoginWindow | None = None
        self.main_window: MainWindow | None = None

    def show_login(self, message: str | None = None) -> LoginWindow:
        window = LoginWindow(settings=self.settings, config=self.config, device=self.device,
                             paths=self.paths)
        if message:
            window.show_message(message, error=False)
        window.logged_in.connect(self._logged_in)
        window.show()
        window.raise_()
        window.activateWindow()
        self.login_window = window
        QTimer.singleShot(0, window.warm_up)
        return window

    def _logged_in(self, outcome: LoginOutcome) -> None:
        from erp_desktop.ui.main_window import MainWindow

        self.settings = outcome.settings
        window = MainWindow(outcome.context, company_name=outcome.company_name,
                            locale=outcome.locale, ui_state=self.ui_state)
        window.logout_requested.connect(self.logout)
        window.closed.connect(self._main_closed)
        self.main_window = window
        window.show()  # shown before the login window closes: never zero windows
        window.raise_()
        window.activateWindow()
        if self.login_window is not None:
            self.login_window.close()
            self.login_window.deleteLater()
            self.login_window = None

    def logout(self) -> None:
        """Ctrl+L: close the company and return to the login window."""
        window = self.main_window
        if window is None:
            return
        # The login window first, so the app never has zero windows and quits.
        self.show_login(self.tr("You have logged out of {company}.").format(
            company=window.company_name))
        window.close()  # -> closed -> _main_closed ends the session

    def _main_closed(self) -> None:
        window = self.main_window
        if window is None:
            return
        self.main_window = None
        ctx = window.ctx
        window.deleteLater()
        run_in_background(end_session, ctx, parent=self, name="logout",
                          on_error=lambda exc: log.warning("logout failed: %s", exc))

    def shutdown(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """Let running work (a logout's audit event above all) finish."""
        if self.main_window is not None:  # the app was quit another way
            self.main_window.close()
        if not QThreadPool.globalInstance().waitForDone(wait_ms):
            log.warning("background work still running at exit")


def _install_excepthook(app: QApplication) -> None:
    """A bug in a slot on the UI thread: log it and say so, instead of dying quietly."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous(kind, exc, tb)
            return
        log.error("unexpected error on the UI thread:\n%s",
                  "".join(traceback.format_exception(kind, exc, tb)))
        try:
            from erp_desktop.ui.errors import show_error

            show_error(app.activeWindow(), exc)
        except Exception:  # the hook itself must never raise
            previous(kind, exc, tb)

    sys.excepthook = hook


def make_application(argv: list[str] | None = None) -> QApplication:
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(
        argv if argv is not None else sys.argv[:1])
    QCoreApplication.setOrganizationName(APP_AUTHOR)
    QCoreApplication.setApplicationName(APP_NAME)
    from erp_desktop import __version__

    QCoreApplication.setApplicationVersion(__version__)
    return app


def run_gui(*, paths: Paths, settings: UserSettings, config: AppConfig,
            device: DeviceInfo) -> int:
    """Run the desktop app until its last window closes; returns the exit code."""
    app = make_application()
    _install_excepthook(app)
    controller = AppController(settings=settings, config=config, device=device, paths=paths)
    controller.show_login()
    code = app.exec()
    controller.shutdown()
    return int(code)


def top_level_windows() -> list[QWidget]:
    """Visible top-level windows (for tests and screenshots)."""
    return [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()]
