"""Wipe this computer: nothing of the company left on disk or in the keychain, and only when
the company's name is typed exactly."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.services import auth, backup, wipe
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.keychain import SERVICE_NAME, OsKeychain
from tests.services.data.conftest import World
from tests.store.test_keychain import MemoryKeyring


@pytest.fixture
def memory_keychain():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_prepare_offers_a_final_backup_and_export(world: World):
    plan = wipe.prepare_wipe(world.admin)
    assert plan.company_name == "Template Traders Pvt Ltd"
    assert world.path in plan.files and plan.can_export and plan.can_backup
    assert plan.suggested_export.suffix == ".json"


def test_a_wrong_name_removes_nothing(world: World, memory_keychain: MemoryKeyring):
    keychain = OsKeychain()
    auth.remember_on_this_computer(world.admin, keychain)
    for typed in ("template traders pvt ltd", "Template Traders", " Template Traders Pvt Ltd"):
        with pytest.raises(ValidationError, match="nothing was removed"):
            wipe.wipe_company(world.admin, typed, keychain)
    assert all(p.exists() for p in sidecar_paths(world.path)[::3])
    assert memory_keychain.store  # the entry is still there


def test_wiping_leaves_no_file_and_no_keychain_entry(world: World, tmp_path: Path,
                                                     memory_keychain: MemoryKeyring):
    keychain = OsKeychain()
    auth.remember_on_this_computer(world.admin, keychain)
    assert any(service == SERVICE_NAME for service, _ in memory_keychain.store)
    final = backup.create_backup(world.admin)  # what the UI and CLI offer first
    result = wipe.wipe_company(world.admin, "Template Traders Pvt Ltd", keychain)
    assert result.warnings == [] and result.keychain_entries_removed == 1
    for p in sidecar_paths(world.path):
        assert not p.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("Data Traders")) == []
    assert memory_keychain.store == {}
    assert final.exists() and result.backups_kept_in == final.parent  # backups stay


def test_wiping_needs_its_permission(world: World, memory_keychain: MemoryKeyring):
    with pytest.raises(PermissionDenied):
        wipe.prepare_wipe(world.login("priya"))
    with pytest.raises(PermissionDenied):
        wipe.wipe_company(world.login("priya"), "Template Traders Pvt Ltd", OsKeychain())
    assert world.path.exists()
