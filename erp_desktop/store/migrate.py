"""Schema versions of a company file: check, back up, upgrade.

Opening a file runs `ensure_current`: a file at the current schema opens as
is; an older one is backed up first (the caller's `backup` callable) and then
upgraded in one transaction; a file whose revision this app does not know was
written by a newer version and is refused, untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from erp_desktop.domain.errors import NewerVersion

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None, **attributes: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    cfg.attributes.update(attributes)
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations folder has no revisions"
    return head


def known_revisions() -> set[str]:
    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, target: str = "head") -> None:
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), target)


def ensure_current(engine: Engine, file_name: str,
                   backup: Callable[[str], object] | None = None) -> bool:
    """Bring the file to the current schema; True when it was upgraded."""
    current = current_revision(engine)
    head = head_revision()
    if current == head:
        return False
    if current is not None and current not in known_revisions():
        raise NewerVersion(
            f"{file_name} was saved by a newer version of erp_desktop. Update the app to open it; "
            "the file has not been changed.")
    if current is not None and backup is not None:
        backup(f"before-upgrade-{current}")
    upgrade(engine)
    return True
