"""Settings of this installation (not of the company): paths, limits, tuning.

Built once by the composition root (`app.py`) from platformdirs and the
settings file; handed to services explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from erp_desktop.store.keyfile import DEFAULT_KDF, DEFAULT_THROTTLE, KdfParams, LoginThrottle

# The same default as store.engine.DEFAULT_CACHE_KIB, kept here as a literal so that
# building the config (first thing at start-up) does not import SQLAlchemy.
DEFAULT_CACHE_KIB = 64 * 1024


@dataclass(frozen=True)
class AppConfig:
    data_dir: Path
    backup_dir: Path
    cache_kib: int = DEFAULT_CACHE_KIB
    keep_backups: int = 10
    kdf: KdfParams = DEFAULT_KDF
    throttle: LoginThrottle = field(default_factory=lambda: DEFAULT_THROTTLE)
    auto_backup: bool = True
