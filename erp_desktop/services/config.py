"""Settings of this installation (not of the company): paths, limits, tuning;
and `DeviceInfo`, this computer.

Built once by the composition root (`app.py`) from platformdirs and the
settings file; handed to services explicitly.

This module is on the start-up path (the login window is given both before it
paints), so it imports nothing heavy: not the key file module (hashing,
JSON, secrets), not SQLAlchemy. A `None` KDF or throttle means the standard
ones (`store.keyfile.DEFAULT_KDF`, `DEFAULT_THROTTLE`), which the key file
module applies itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from erp_desktop.store.keyfile import KdfParams, LoginThrottle

# The same default as store.engine.DEFAULT_CACHE_KIB, kept here as a literal so that
# building the config (first thing at start-up) does not import SQLAlchemy.
DEFAULT_CACHE_KIB = 64 * 1024


@dataclass(frozen=True)
class AppConfig:
    data_dir: Path
    backup_dir: Path
    cache_kib: int = DEFAULT_CACHE_KIB
    keep_backups: int = 10
    kdf: KdfParams | None = None  # None: the standard argon2id parameters
    throttle: LoginThrottle | None = None  # None: the standard login throttle
    auto_backup: bool = True


@dataclass(frozen=True)
class DeviceInfo:
    """This computer, as recorded with every login and audit event."""

    host: str
    os: str
    app_version: str
    code: str = "A"  # the device's number-series code inside this company file
