"""The composition root and what stays off the start-up path (bench/startup_bench.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from erp_desktop.app import app_config, device_info
from erp_desktop.services.config import AppConfig
from erp_desktop.settings import Paths, UserSettings
from erp_desktop.store.keyfile import DEFAULT_KDF, DEFAULT_THROTTLE, KeyFile, LoginThrottle


def test_device_info_names_this_computer_and_its_system():
    device = device_info()
    assert device.host and device.host != "this computer"
    assert device.os.split()[0] in {"Linux", "Darwin", "Windows"} and len(device.os.split()) == 2
    assert device.app_version


def test_the_config_leaves_the_kdf_and_throttle_to_the_key_file_defaults(tmp_path: Path):
    paths = Paths(tmp_path / "d", tmp_path / "c", tmp_path / "l")
    config = app_config(paths, UserSettings(cache_kib=4096, keep_backups=3))
    assert (config.cache_kib, config.keep_backups, config.kdf, config.throttle) == \
        (4096, 3, None, None)
    new = KeyFile.create(tmp_path / "a.key", kdf=config.kdf)
    assert new.keyfile.kdf == DEFAULT_KDF  # None: the standard argon2id parameters


def test_a_none_throttle_policy_is_the_standard_one(tmp_path: Path):
    from datetime import UTC, datetime

    from erp_desktop.domain.errors import LoginLocked

    keyfile = KeyFile.create(tmp_path / "b.key").keyfile
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for _ in range(DEFAULT_THROTTLE.lock_after):
        keyfile.record_failure("someone", now, None)
    with pytest.raises(LoginLocked):  # the standard throttle locks after its failures
        keyfile.check_login_allowed("someone", now, None)
    strict = AppConfig(data_dir=tmp_path, backup_dir=tmp_path,
                       throttle=LoginThrottle(slow_after=5, lock_after=2))
    assert strict.throttle is not None and strict.throttle.lock_after == 2


def test_importing_the_app_loads_neither_the_key_file_module_nor_sqlalchemy():
    # What `erp-desktop` imports before the login window: the composition root and
    # ui.main. The key file module, SQLAlchemy, logging's handlers, socket and platform
    # come later (on the warm-up thread or after the first paint).
    code = ("import sys, erp_desktop.app, erp_desktop.ui.main; "
            "print(' '.join(sorted(sys.modules)))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                env=env, check=True).stdout.split())
    assert "erp_desktop.ui.login" in loaded
    assert not loaded & {"erp_desktop.store.keyfile", "sqlalchemy", "logging.handlers",
                         "socket", "platform", "erp_desktop.services.context",
                         "PySide6.QtSvg", "ctypes"}
