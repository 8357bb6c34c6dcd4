"""Fixtures for the Qt tests: an app controller on a fresh company file.

Every window test gets its own settings folder (settings file, window state),
and leaves no work behind: at teardown the windows are closed (which logs out
and closes the company) and the thread pool is drained before the temporary
files go away.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThreadPool

from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import DeviceInfo
from erp_desktop.settings import Paths, UserSettings
from erp_desktop.ui.main import AppController


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.ui)


def drain_pool() -> None:
    assert QThreadPool.globalInstance().waitForDone(30_000), "background work did not finish"


@pytest.fixture(autouse=True)
def _none_refcount_guard(qapp) -> None:
    """PySide6 6.12.0 on Python 3.11 drops a reference to None per void call (ui.qt_compat)."""
    from erp_desktop.ui.qt_compat import collect_garbage_on_ui_thread, guard_none_refcount

    guard_none_refcount(qapp)
    collect_garbage_on_ui_thread(qapp)  # as the app does (ui.main.make_application)


@pytest.fixture
def ui_paths(tmp_path: Path) -> Paths:
    root = tmp_path / "home"
    return Paths(root / "data", root / "config", root / "logs")


@pytest.fixture
def ui_settings(company_path: Path) -> UserSettings:
    return UserSettings(recent_files=[str(company_path)], last_company=str(company_path),
                        last_login="owner")


@pytest.fixture
def ui_state(ui_paths: Paths) -> QSettings:
    ui_paths.config_dir.mkdir(parents=True, exist_ok=True)
    return QSettings(str(ui_paths.config_dir / "window-state.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def controller(qtbot, ui_settings: UserSettings, config: AppConfig, device: DeviceInfo,
               ui_paths: Paths, ui_state: QSettings) -> Iterator[AppController]:
    ctl = AppController(settings=ui_settings, config=config, device=device, paths=ui_paths,
                        ui_state=ui_state)
    yield ctl
    drain_pool()  # a login still running would open a main window below
    qtbot.wait(0)  # deliver what the pool just finished
    if ctl.main_window is not None:
        ctl.main_window.close()  # logs out and closes the company, on the pool
    if ctl.login_window is not None:
        ctl.login_window.close()
    drain_pool()
    qtbot.wait(0)


@pytest.fixture(autouse=True)
def _no_work_left_behind(qtbot) -> Iterator[None]:
    yield
    drain_pool()


class MemoryKeychain:
    """A stand-in for the OS keychain (the `Keychain` protocol), kept in a dict."""

    def __init__(self, available: bool = True) -> None:
        self.secrets: dict[str, bytes] = {}
        self._available = available

    def get(self, name: str) -> bytes | None:
        return self.secrets.get(name)

    def set(self, name: str, secret: bytes) -> None:
        self.secrets[name] = secret

    def delete(self, name: str) -> None:
        self.secrets.pop(name, None)

    def available(self) -> bool:
        return self._available

    def reason_unavailable(self) -> str:
        return "" if self._available else "No keychain on this test computer."


@pytest.fixture
def keychain() -> MemoryKeychain:
    return MemoryKeychain()


@pytest.fixture
def open_main(qtbot, ui_state):
    """Open a main window on a context (already logged in) and close it afterwards."""
    from erp_desktop.ui.main_window import MainWindow

    made = []

    def make(ctx, *, area: str | None = None, locale: str = "en_IN", **kwargs):
        window = MainWindow(ctx, company_name="Template Traders Pvt Ltd", locale=locale,
                            ui_state=ui_state, **kwargs)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        if area is not None:
            window.show_area(area)
        made.append(window)
        return window

    yield make
    for window in made:
        window.close()
    drain_pool()
    qtbot.wait(0)
