"""Schema upgrades: an older file is backed up then upgraded; a newer one is refused untouched."""

import hashlib
import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from erp_desktop.domain.errors import NewerVersion
from erp_desktop.services.auth import login
from erp_desktop.store import backup as store_backup
from erp_desktop.store import migrate
from erp_desktop.store.engine import connect_raw
from erp_desktop.store.keyfile import KeyFile, key_file_path
from tests.conftest import ADMIN, ADMIN_PASSWORD

HEAD = migrate.head_revision()  # the released ladder's top; the test revision goes above it
NEXT_REVISION = f'''"""Test-only: add a column.

Revision ID: 9002
Revises: {HEAD}
"""
import sqlalchemy as sa
from alembic import op

revision = "9002"
down_revision = "{HEAD}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("branch") as batch:
        batch.add_column(sa.Column("test_note", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("branch") as batch:
        batch.drop_column("test_note")
'''


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _db_key(company_path: Path) -> bytes:
    return KeyFile.load(key_file_path(company_path)).unlock_with_password(ADMIN, ADMIN_PASSWORD)


def test_new_company_is_at_the_head_revision(admin_ctx):
    assert migrate.current_revision(admin_ctx.db.engine) == migrate.head_revision()
    tables = set(inspect(admin_ctx.db.engine).get_table_names())
    assert {"company", "app_user", "audit_event", "journal_line", "outbox"} <= tables


def test_older_file_is_backed_up_then_upgraded(company_path, config, device, clock, tmp_path,
                                               monkeypatch):
    ladder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, ladder)
    (ladder / "versions" / "9002_test_note.py").write_text(NEXT_REVISION)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", ladder)

    ctx = login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device, clock=clock)
    try:
        assert migrate.current_revision(ctx.db.engine) == "9002"
        cols = {c["name"] for c in inspect(ctx.db.engine).get_columns("branch")}
        assert "test_note" in cols
    finally:
        ctx.close()
    folder = store_backup.backup_dir_for(company_path, config.backup_dir)
    backups = store_backup.list_backups(folder)
    assert [b.reason for b in backups] == [f"before-upgrade-{HEAD}"]
    # The backup is the file as it was: still at the head, and it opens with the same key.
    con = connect_raw(backups[0].path, _db_key(company_path))
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
    finally:
        con.close()


def test_file_from_a_newer_version_is_refused_and_left_untouched(company_path, config, device,
                                                                clock):
    con = connect_raw(company_path, _db_key(company_path))
    con.execute("UPDATE alembic_version SET version_num = 'ffff_future'")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    before = _digest(company_path)
    with pytest.raises(NewerVersion, match="newer version of erp_desktop"):
        login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device, clock=clock)
    assert _digest(company_path) == before


def test_upgrade_is_one_transaction(company_path, config, device, clock, tmp_path, monkeypatch):
    """A migration that fails half-way leaves the file at its old revision."""
    ladder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, ladder)
    broken = NEXT_REVISION.replace(
        '        batch.add_column(sa.Column("test_note", sa.String(40), nullable=True))',
        '        batch.add_column(sa.Column("test_note", sa.String(40), nullable=True))\n'
        '    op.execute("SELECT no_such_function()")')
    (ladder / "versions" / "9002_test_note.py").write_text(broken)
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", ladder)
    with pytest.raises(Exception, match="no_such_function"):
        login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device, clock=clock)
    con = connect_raw(company_path, _db_key(company_path))
    try:
        assert con.execute("SELECT version_num FROM alembic_version").fetchone()[0] == HEAD
        cols = [r[1] for r in con.execute(text("PRAGMA table_info(branch)").text).fetchall()]
        assert "test_note" not in cols
    finally:
        con.close()
