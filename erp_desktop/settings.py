"""Per-user paths and settings of this installation (platformdirs, JSON file).

Company files live in the user data dir, settings in the config dir, logs in
the log dir, on Windows, macOS and Linux alike. The settings file holds no
secret: recent company files, the last login name, tuning and backup options.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from platformdirs import PlatformDirs

APP_NAME = "erp_desktop"
APP_AUTHOR = "erp_desktop"


@dataclass
class Paths:
    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def companies_dir(self) -> Path:
        return self.data_dir / "companies"

    @property
    def backup_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.json"


def default_paths() -> Paths:
    """Standard per-user folders; ERP_DESKTOP_HOME moves them all (tests, portable use)."""
    home = os.environ.get("ERP_DESKTOP_HOME")
    if home:
        root = Path(home)
        return Paths(root / "data", root / "config", root / "logs")
    dirs = PlatformDirs(APP_NAME, APP_AUTHOR)
    return Paths(Path(dirs.user_data_dir), Path(dirs.user_config_dir), Path(dirs.user_log_dir))


@dataclass
class UserSettings:
    recent_files: list[str] = field(default_factory=list)
    last_company: str | None = None
    last_login: str | None = None
    cache_kib: int = 64 * 1024
    keep_backups: int = 10
    auto_backup: bool = True
    idle_lock_minutes: int = 15
    log_level: str = "INFO"

    def remember_company(self, path: Path, login: str | None = None) -> None:
        text = str(Path(path).resolve())
        self.recent_files = [text, *[p for p in self.recent_files if p != text][:9]]
        self.last_company = text
        if login:
            self.last_login = login


IDLE_LOCK_MAX_MINUTES = 240


def check_idle_lock_minutes(value: object) -> int:
    """The idle lock in whole minutes: 0 (never) or 1 to 240, else a ValidationError."""
    from erp_desktop.domain.errors import ValidationError

    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("Type the number of minutes as a whole number.",
                              field="idle_lock_minutes")
    if not 0 <= value <= IDLE_LOCK_MAX_MINUTES:
        raise ValidationError(
            f"Lock after 1 to {IDLE_LOCK_MAX_MINUTES} minutes without use, or 0 for never.",
            field="idle_lock_minutes")
    return value


def load_settings(paths: Paths) -> UserSettings:
    try:
        raw = json.loads(paths.settings_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return UserSettings()
    known = {k: v for k, v in raw.items() if k in UserSettings.__dataclass_fields__}
    try:
        return UserSettings(**known)
    except TypeError:
        return UserSettings()


def save_settings(paths: Paths, settings: UserSettings) -> None:
    from erp_desktop.store.atomic import write_atomic

    paths.config_dir.mkdir(parents=True, exist_ok=True)
    data = json.dumps(asdict(settings), indent=2).encode("utf-8")
    write_atomic(paths.settings_file, data, mode=0o600)
