"""Backup use cases: who may back up and restore, where backups go, what is audited."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import pytest
from sqlalchemy import select

from erp_desktop.domain.errors import (
    AccountDisabled,
    PermissionDenied,
    StoreError,
    ValidationError,
    WrongPassword,
)
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import auth, users
from erp_desktop.services import backup as backup_service
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.keyfile import key_file_path
from tests.conftest import ADMIN, ADMIN_PASSWORD

CLERK_PASSWORD = "mango season 2026"


def events(ctx, action: str) -> list[dict]:
    with ctx.db.read() as s:
        return [json.loads(e.details) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq))]


def files_of(path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sidecar_paths(path) if p.exists()}


@pytest.fixture
def clerk_ctx(admin_ctx, company_path, config, device, clock):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", CLERK_PASSWORD, "sales_clerk")
    ctx = auth.login(company_path, "ravi", CLERK_PASSWORD, config=config, device=device,
                     clock=clock)
    yield ctx
    ctx.close()


def test_create_backup_goes_to_the_company_folder_and_is_audited(admin_ctx, config):
    path = backup_service.create_backup(admin_ctx)
    assert path.parent == backup_service.default_backup_folder(admin_ctx)
    assert path.parent.parent == config.backup_dir
    assert key_file_path(path).exists()
    [event] = events(admin_ctx, "backup.created")
    assert event["reason"] == "manual" and event["file"] == path.name


def test_create_backup_to_a_chosen_file(admin_ctx, tmp_path):
    target = tmp_path / "year-end.erp"
    assert backup_service.create_backup(admin_ctx, target) == target
    with pytest.raises(ValidationError):
        backup_service.create_backup(admin_ctx, tmp_path / "year-end.zip")
    with pytest.raises(ValidationError):
        backup_service.create_backup(admin_ctx, tmp_path / "no such folder" / "b.erp")


def test_a_sales_clerk_may_not_back_up(clerk_ctx, admin_ctx):
    with pytest.raises(PermissionDenied):
        backup_service.create_backup(clerk_ctx)
    assert events(admin_ctx, "backup.created") == []
    assert backup_service.on_close_backup(clerk_ctx) is None  # skipped, not refused


def test_on_close_backup_follows_the_setting(admin_ctx):
    assert backup_service.on_close_backup(admin_ctx) is not None
    admin_ctx.config = replace(admin_ctx.config, auto_backup=False)
    assert backup_service.on_close_backup(admin_ctx) is None
    assert backup_service.daily_backup_if_due(admin_ctx) is None


def test_the_daily_backup_is_taken_once_a_day_for_any_user(clerk_ctx, clock):
    first = backup_service.daily_backup_if_due(clerk_ctx)
    assert first is not None and "daily" in first.name
    assert backup_service.daily_backup_if_due(clerk_ctx) is None
    clock.advance(hours=25)
    assert backup_service.daily_backup_if_due(clerk_ctx) is not None


def _backup_then_change(admin_ctx, tmp_path):
    backup = backup_service.create_backup(admin_ctx, tmp_path / "snapshot.erp")
    users.add_user(admin_ctx, "late", "Late Comer", "added after the backup", "employee")
    admin_ctx.close()
    return backup


def test_restore_puts_the_backup_back_and_audits_it(admin_ctx, company_path, tmp_path, config,
                                                    device, clock):
    backup = _backup_then_change(admin_ctx, tmp_path)
    result = backup_service.restore_backup(company_path, backup, ADMIN, ADMIN_PASSWORD,
                                           config=config, device=device, clock=clock)
    assert result.set_aside is not None and result.set_aside.exists()
    ctx = auth.login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device,
                     clock=clock)
    try:
        assert "late" not in {u.login_name for u in users.list_users(ctx)}
        [event] = events(ctx, "backup.restored")
        assert event["file"] == "snapshot.erp"
    finally:
        ctx.close()
    # The replaced file still opens, with the user added after the backup.
    old = auth.login(result.set_aside, "late", "added after the backup", config=config,
                     device=device, clock=clock)
    old.close()


def test_restore_refuses_a_user_who_is_not_an_admin_in_the_backup(clerk_ctx, admin_ctx,
                                                                  company_path, tmp_path,
                                                                  config, device, clock):
    clerk_ctx.close()
    backup = _backup_then_change(admin_ctx, tmp_path)
    before = files_of(company_path)
    with pytest.raises(PermissionDenied):
        backup_service.restore_backup(company_path, backup, "ravi", CLERK_PASSWORD,
                                      config=config, device=device, clock=clock)
    with pytest.raises(WrongPassword):
        backup_service.restore_backup(company_path, backup, ADMIN, "not the password",
                                      config=config, device=device, clock=clock)
    with pytest.raises(WrongPassword):  # added after the backup: unknown to it
        backup_service.restore_backup(company_path, backup, "late", "added after the backup",
                                      config=config, device=device, clock=clock)
    assert files_of(company_path) == before


def test_restore_refuses_a_login_disabled_in_the_backup(admin_ctx, company_path, tmp_path,
                                                        config, device, clock):
    row = users.add_user(admin_ctx, "asha", "Asha Admin", "second admin 2026", "admin")
    users.disable_user(admin_ctx, row.id)
    backup = backup_service.create_backup(admin_ctx, tmp_path / "snap.erp")
    admin_ctx.close()
    # The disabled user's slot is gone from the backup's key file too: a wrong password.
    with pytest.raises((WrongPassword, AccountDisabled)):
        backup_service.restore_backup(company_path, backup, "asha", "second admin 2026",
                                      config=config, device=device, clock=clock)


def test_restore_refuses_another_companys_backup(admin_ctx, company_path, tmp_path, config,
                                                 device, clock, template_company):
    admin_ctx.close()
    # A company file made separately (its own key file id), backed up.
    from erp_desktop.services.company import NewAdmin, NewCompany, create_company

    other = create_company(tmp_path / "other.erp", NewCompany(legal_name="Other Co"),
                           NewAdmin(ADMIN, "Other Owner", ADMIN_PASSWORD), config=config,
                           device=device, clock=clock)
    backup = backup_service.create_backup(other.context, tmp_path / "other-backup.erp")
    other.context.close()
    before = files_of(company_path)
    with pytest.raises(ValidationError, match="different company"):
        backup_service.restore_backup(company_path, backup, ADMIN, ADMIN_PASSWORD,
                                      config=config, device=device, clock=clock)
    assert files_of(company_path) == before

    # Restoring it where no company file exists is fine.
    fresh = tmp_path / "restored" / "other.erp"
    fresh.parent.mkdir()
    result = backup_service.restore_backup(fresh, backup, ADMIN, ADMIN_PASSWORD, config=config,
                                           device=device, clock=clock)
    assert result.set_aside is None and fresh.exists()


def test_restore_of_a_damaged_backup_changes_nothing(admin_ctx, company_path, tmp_path, config,
                                                     device, clock):
    backup = _backup_then_change(admin_ctx, tmp_path)
    broken = tmp_path / "broken.erp"
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0xFF
    broken.write_bytes(bytes(data))
    shutil.copyfile(key_file_path(backup), key_file_path(broken))
    before = files_of(company_path)
    with pytest.raises(StoreError) as caught:
        backup_service.restore_backup(company_path, broken, ADMIN, ADMIN_PASSWORD, config=config,
                                      device=device, clock=clock)
    assert "damaged" in str(caught.value)
    assert files_of(company_path) == before
