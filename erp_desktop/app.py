"""Composition root: settings, logging, then the desktop app or the CLI.

`erp-desktop` with no arguments opens the desktop app; with a subcommand it
runs the CLI. Nothing else builds settings or chooses paths.

Start-up is timed (`bench/startup_bench.py`): this module imports only what
the login window needs before it paints. The CLI starts logging first; the
desktop app starts it with its event loop, right after the login window is
shown (a record logged before then goes to stderr).
"""

from __future__ import annotations

import os
import sys
from functools import partial

from erp_desktop.services.config import AppConfig, DeviceInfo
from erp_desktop.settings import Paths, UserSettings, default_paths, load_settings


def device_info() -> DeviceInfo:
    """This computer's name and system, from the interpreter itself (the `socket` and
    `platform` modules would add ~7 ms to the start for the same two strings)."""
    from erp_desktop import __version__

    if sys.platform == "win32":
        version = sys.getwindowsversion()  # type: ignore[attr-defined,unused-ignore]
        host = os.environ.get("COMPUTERNAME", "")
        system = f"Windows {version.major}.{version.minor}.{version.build}"
    else:
        uname = os.uname()
        host, system = uname.nodename, f"{uname.sysname} {uname.release}"
    return DeviceInfo(host=host or "this computer", os=system, app_version=__version__)


def app_config(paths: Paths, settings: UserSettings) -> AppConfig:
    return AppConfig(data_dir=paths.data_dir, backup_dir=paths.backup_dir,
                     cache_kib=settings.cache_kib, keep_backups=settings.keep_backups,
                     auto_backup=settings.auto_backup)


def start_logging(paths: Paths, settings: UserSettings) -> None:
    from erp_desktop.logging_setup import setup_logging

    setup_logging(paths.log_dir, settings.log_level)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    paths = default_paths()
    settings = load_settings(paths)
    if argv:
        start_logging(paths, settings)
        from erp_desktop import cli

        return cli.run(argv, paths=paths, settings=settings, config=app_config(paths, settings),
                       device=device_info())
    from erp_desktop.ui.main import run_gui

    return run_gui(paths=paths, settings=settings, config=app_config(paths, settings),
                   device=device_info(), start_logging=partial(start_logging, paths, settings))


if __name__ == "__main__":
    sys.exit(main())
