"""Composition root: settings, logging, then the desktop app or the CLI.

`erp-desktop` with no arguments opens the desktop app; with a subcommand it
runs the CLI. Nothing else builds settings or chooses paths.
"""

from __future__ import annotations

import platform
import socket
import sys

from erp_desktop import __version__
from erp_desktop.logging_setup import setup_logging
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import DeviceInfo
from erp_desktop.settings import Paths, UserSettings, default_paths, load_settings


def device_info() -> DeviceInfo:
    return DeviceInfo(host=socket.gethostname() or "this computer",
                      os=f"{platform.system()} {platform.release()}".strip(),
                      app_version=__version__)


def app_config(paths: Paths, settings: UserSettings) -> AppConfig:
    return AppConfig(data_dir=paths.data_dir, backup_dir=paths.backup_dir,
                     cache_kib=settings.cache_kib, keep_backups=settings.keep_backups,
                     auto_backup=settings.auto_backup)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    paths = default_paths()
    settings = load_settings(paths)
    setup_logging(paths.log_dir, settings.log_level)
    if argv:
        from erp_desktop import cli

        return cli.run(argv, paths=paths, settings=settings, config=app_config(paths, settings),
                       device=device_info())
    from erp_desktop.ui.main import run_gui

    return run_gui(paths=paths, settings=settings, config=app_config(paths, settings),
                   device=device_info())


if __name__ == "__main__":
    sys.exit(main())
