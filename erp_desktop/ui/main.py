"""Start the desktop app: the QApplication, the login window, then the main window.

`run_gui` is called by the composition root (`app.py`) with everything built
there. `AppController` owns the one open company at a time: it shows the
login window, swaps it for the main window on success, and on logout (Ctrl+L)
or when the main window is closed logs out on a worker thread (an audited
event, then the company is closed) and, for a logout, shows the login window
again. Nothing here is global: the controller holds the `Context` of the
logged-in user and hands it to the main window.

After `settings.idle_lock_minutes` without a key press or a click
(`ui.idle_lock`), the controller locks: the same as a logout, with a message
saying why. An admin's restore (Admin → Backup and restore) comes here too:
the company must be closed before its file is replaced, so the controller
closes the main window, logs out and restores on one worker task, and shows
the login window with the outcome.

The day's automatic backup (`ui.login.daily_backup`) starts on a worker once
the main window is shown, not before it: on a company with a million invoice
lines the copy takes a minute. Closing the company cancels it.

Startup stays quick because only Qt and the light UI modules are imported
before the login window is painted; the services are imported on a worker
thread while the person types (`LoginWindow.warm_up`).
"""

from __future__ import annotations

import logging
import sys
import traceback
import weakref
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject, QSettings, QThreadPool, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from erp_desktop.settings import APP_AUTHOR, APP_NAME, Paths, UserSettings
from erp_desktop.ui.login import LoginOutcome, LoginWindow, daily_backup
from erp_desktop.ui.theme import FUSION_FROM_START, apply_theme, confirm_theme
from erp_desktop.ui.worker import Task, run_in_background

if TYPE_CHECKING:
    from erp_desktop.services.config import AppConfig
    from erp_desktop.services.context import Context, DeviceInfo
    from erp_desktop.ui.idle_lock import IdleWatcher
    from erp_desktop.ui.main_window import MainWindow

log = logging.getLogger(__name__)

# How long quitting waits for work still running (a logout's audit event, a
# report being computed) before the process ends anyway.
SHUTDOWN_WAIT_MS = 10_000
# Worker threads: list pages, a count and a report load side by side, and a
# backup must not hold them all up, even on a two-core machine.
MIN_WORKER_THREADS = 4


# The main window's modules are imported on the UI thread (they define Qt classes)
# this long after the login window's first paint, while the
# person types, instead of after "Log in".
WARM_UI_DELAY_MS = 300


def _warm_main_window() -> None:
    import erp_desktop.ui.dashboard
    import erp_desktop.ui.main_window  # noqa: F401


def ui_state_for(paths: Paths | None) -> QSettings:
    """Window geometry and similar UI state, kept with this installation's settings
    (so `ERP_DESKTOP_HOME` moves it too); the platform's default store otherwise."""
    if paths is None:
        return QSettings()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    return QSettings(str(paths.config_dir / "window-state.ini"), QSettings.Format.IniFormat)


def end_session(ctx: Context) -> None:
    """Back up (on close), log out (audited) and close the company file (worker thread)."""
    from erp_desktop.services import auth, backup

    try:
        try:
            backup.on_close_backup(ctx)  # skipped unless auto backups are on and allowed
        except Exception:
            log.warning("the backup on close failed", exc_info=True)
        auth.logout(ctx)
    finally:
        ctx.close()  # also when the audit write failed: never leave the file open


def end_session_and_restore(ctx: Context, request: object, *, config: AppConfig,
                            device: DeviceInfo) -> object:
    """Log out, close the company, then put the backup in its place (worker thread)."""
    from erp_desktop.services import backup

    path = ctx.path
    try:
        end_session(ctx)
    except Exception:  # the company is closed either way (end_session's finally)
        log.warning("logout before restore failed", exc_info=True)
    return backup.restore_backup(path, request.backup, request.login_name,  # type: ignore[attr-defined]
                                 request.password, config=config,  # type: ignore[attr-defined]
                                 device=device)


class AppController(QObject):
    """One login window or one main window at a time (see module docstring)."""

    def __init__(self, *, settings: UserSettings, config: AppConfig, device: DeviceInfo,
                 paths: Paths | None = None, ui_state: QSettings | None = None,
                 keychain: object | None = None, idle_lock_ms: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.config = config
        self.device = device
        self.paths = paths
        self.keychain = keychain  # None: the OS keychain
        self.ui_state = ui_state if ui_state is not None else ui_state_for(paths)
        self.login_window: LoginWindow | None = None
        self.main_window: MainWindow | None = None
        self.idle: IdleWatcher | None = None
        # None: from the settings; tests give a few milliseconds.
        self.idle_lock_ms = idle_lock_ms
        self._skip_end_session = False
        self.backup_task: Task | None = None  # the day's backup, while it runs
        self._backups_started = 0

    def _idle_limit_ms(self) -> int:
        if self.idle_lock_ms is not None:
            return self.idle_lock_ms
        return int(max(0, self.settings.idle_lock_minutes) * 60_000)

    def show_login(self, message: str | None = None, *, error: bool = False) -> LoginWindow:
        window = LoginWindow(settings=self.settings, config=self.config, device=self.device,
                             paths=self.paths, keychain=self.keychain)
        if message:
            window.show_message(message, error=error)
        window.logged_in.connect(self._logged_in)
        window.show()
        window.raise_()
        window.activateWindow()
        self.login_window = window
        # once the window is on the screen, not before: a warm-up thread importing the
        # services would hold the GIL the first paint is waiting for
        window.painted.connect(window.warm_up)
        window.painted.connect(partial(QTimer.singleShot, WARM_UI_DELAY_MS, _warm_main_window))
        return window

    def _logged_in(self, outcome: LoginOutcome) -> None:
        from erp_desktop.ui.main_window import MainWindow

        self.settings = outcome.settings
        window = MainWindow(outcome.context, company_name=outcome.company_name,
                            locale=outcome.locale, ui_state=self.ui_state,
                            keychain=self.keychain,
                            idle_lock_minutes=self.settings.idle_lock_minutes)
        window.logout_requested.connect(self.logout)
        window.closed.connect(self._main_closed)
        window.restore_requested.connect(self.restore)
        window.idle_lock_changed.connect(self.set_idle_lock_minutes)
        if outcome.note:
            window.statusBar().showMessage(outcome.note, 15_000)
        self.main_window = window
        self._start_idle()
        window.show()  # shown before the login window closes: never zero windows
        window.raise_()
        window.activateWindow()
        if self.login_window is not None:
            self.login_window.close()
            self.login_window.deleteLater()
            self.login_window = None
        self._start_daily_backup(outcome.context)

    def _start_daily_backup(self, ctx: Context) -> None:
        self._backups_started += 1
        # A weak reference: the task is the controller's child, and a connection of
        # the child holding the parent's last reference would delete the parent
        # while the child is being deleted.
        ended = partial(_backup_ended, weakref.ref(self), self._backups_started)
        self.backup_task = run_in_background(
            daily_backup, ctx, pass_token=True, parent=self, name="daily backup",
            on_done=ended, on_error=ended, on_cancelled=ended)

    def _cancel_backup(self) -> None:
        """The company is being closed: stop the day's backup at its next step."""
        if self.backup_task is not None:
            self.backup_task.cancel()
            self.backup_task = None

    def logout(self, message: str | None = None) -> None:
        """Ctrl+L: close the company and return to the login window."""
        window = self.main_window
        if window is None:
            return
        # The login window first, so the app never has zero windows and quits.
        self.show_login(message or self.tr("You have logged out of {company}.").format(
            company=window.company_name))
        window.close()  # -> closed -> _main_closed ends the session

    def lock(self) -> None:
        """Idle too long: the same as a logout, saying why."""
        window = self.main_window
        if window is None:
            return
        minutes = max(1, round(self._idle_limit_ms() / 60_000))
        self.logout(self.tr(
            "{company} was locked after {n} minutes without use. Log in to continue.").format(
            company=window.company_name, n=minutes))

    def _start_idle(self) -> None:
        limit = self._idle_limit_ms()
        if limit > 0:
            from erp_desktop.ui.idle_lock import IdleWatcher

            self.idle = IdleWatcher(limit, self)
            self.idle.idle.connect(self.lock)
            self.idle.start()

    def set_idle_lock_minutes(self, minutes: int) -> None:
        """Settings page: a new auto-lock period, kept for this installation."""
        from erp_desktop.settings import save_settings

        self.settings = replace(self.settings, idle_lock_minutes=minutes)
        self.idle_lock_ms = None  # the settings decide from now on
        self._stop_idle()
        if self.main_window is not None:
            self._start_idle()
        if self.paths is not None:
            run_in_background(save_settings, self.paths, self.settings, parent=self,
                              name="save settings",
                              on_error=lambda exc: log.warning("settings not saved: %s", exc))

    def _stop_idle(self) -> None:
        if self.idle is not None:
            self.idle.stop()
            self.idle.deleteLater()
            self.idle = None

    def restore(self, request: object) -> None:
        """Close the company, restore the backup over it, then offer the login window."""
        window = self.main_window
        if window is None:
            return
        ctx = window.ctx
        login = self.show_login(self.tr("Restoring {company} from the backup…").format(
            company=window.company_name))
        login._set_busy(True)
        self._cancel_backup()
        self._skip_end_session = True  # the restore task logs out first itself
        window.close()

        def done(result: object) -> None:
            login._set_busy(False)
            aside = getattr(result, "set_aside", None)
            text = self.tr("Restored from {backup}.").format(
                backup=Path(getattr(result, "backup", "")).name)
            if aside is not None:
                text += " " + self.tr("The replaced file was kept as {name}.").format(
                    name=Path(aside).name)
            login.show_message(text + " " + self.tr("Log in to continue."), error=False)

        def failed(exc: BaseException) -> None:
            login._set_busy(False)
            login.show_message(getattr(exc, "message", "") or self.tr(
                "The restore failed; the company file was left as it was."))

        run_in_background(end_session_and_restore, ctx, request, config=self.config,
                          device=self.device, parent=self, name="restore", on_done=done,
                          on_error=failed)

    def _main_closed(self) -> None:
        window = self.main_window
        if window is None:
            return
        self.main_window = None
        self._stop_idle()
        self._cancel_backup()
        ctx = window.ctx
        window.deleteLater()
        if self._skip_end_session:
            self._skip_end_session = False
            return
        run_in_background(end_session, ctx, parent=self, name="logout",
                          on_error=lambda exc: log.warning("logout failed: %s", exc))

    def shutdown(self, wait_ms: int = SHUTDOWN_WAIT_MS) -> None:
        """Let running work (a logout's audit event above all) finish."""
        if self.main_window is not None:  # the app was quit another way
            self.main_window.close()
        if not QThreadPool.globalInstance().waitForDone(wait_ms):
            log.warning("background work still running at exit")


def _backup_ended(controller: weakref.ref[AppController], number: int,
                  *_result: object) -> None:
    ctl = controller()
    if ctl is not None and number == ctl._backups_started:  # not an earlier login's
        ctl.backup_task = None


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
    if isinstance(existing, QApplication):
        app = existing
    else:
        # Fusion from the start (`ui.theme`): asking for the style later (app.style(),
        # setStyle) hands Python a QStyle, whose enums alone cost ~10 ms of start-up.
        app = QApplication([*(argv if argv is not None else sys.argv[:1]), "-style", "Fusion"])
        app.setProperty(FUSION_FROM_START, True)
    QCoreApplication.setOrganizationName(APP_AUTHOR)
    QCoreApplication.setApplicationName(APP_NAME)
    from erp_desktop import __version__

    QCoreApplication.setApplicationVersion(__version__)
    from erp_desktop.ui.qt_compat import collect_garbage_on_ui_thread, guard_none_refcount

    guard_none_refcount(app, now=False)  # PySide6 6.12.0 on Python 3.11: see ui.qt_compat
    collect_garbage_on_ui_thread(app)  # never a Qt object freed by a worker's collection
    pool = QThreadPool.globalInstance()
    pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_WORKER_THREADS))
    return app


def run_gui(*, paths: Paths, settings: UserSettings, config: AppConfig,
            device: DeviceInfo, start_logging: Callable[[], None] | None = None) -> int:
    """Run the desktop app until its last window closes; returns the exit code.

    `start_logging` runs once the login window is painted: the log file's set-up is
    not on the way to the first paint."""
    app = make_application()
    _install_excepthook(app)

    state = ui_state_for(paths)
    theme = state.value("theme")
    apply_theme(app, theme if theme in ("light", "dark") else "system")
    controller = AppController(settings=settings, config=config, device=device, paths=paths,
                               ui_state=state)
    window = controller.show_login()
    window.painted.connect(confirm_theme)  # the quick guess at the OS's scheme, checked
    if start_logging is not None:
        window.painted.connect(start_logging)
    code = app.exec()
    controller.shutdown()
    return int(code)


def top_level_windows() -> list[QWidget]:
    """Visible top-level windows (for tests and screenshots)."""
    return [w for w in QApplication.topLevelWidgets() if w.isVisible() and w.isWindow()]
