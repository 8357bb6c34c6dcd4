"""Backup, verify, restore and automatic backups, on real SQLCipher files."""

from __future__ import annotations

import errno
import hashlib
import os
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from erp_desktop.domain.errors import (
    CorruptFile,
    DiskProblem,
    KeyFileError,
    NotACompanyFile,
    StoreError,
    UserError,
)
from erp_desktop.store import backup as backup_mod
from erp_desktop.store.backup import (
    BackupCancelled,
    auto_backup,
    backup_company,
    backup_dir_for,
    daily_backup_due,
    list_backups,
    prune_backups,
    restore_company,
    verify_backup,
)
from erp_desktop.store.engine import connect_raw
from erp_desktop.store.keyfile import FAST_TEST_KDF, KeyFile, key_file_path

LOGIN = "owner"
PASSWORD = "correct horse battery staple"
NAMES = ["Asha Traders", "Bala Stores", "Chandra & Sons"]


class Company:
    def __init__(self, path: Path, key: bytes) -> None:
        self.path = path
        self.key = key


def make_company(folder: Path, name: str = "shop.erp", rows: list[str] | None = None,
                 padding_rows: int = 0) -> Company:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / name
    keyfile, db_key, _events_private = KeyFile.create(key_file_path(db), kdf=FAST_TEST_KDF)
    keyfile.add_user_slot(LOGIN, PASSWORD, db_key)
    keyfile.save()
    con = connect_raw(db, db_key)
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        con.execute("CREATE TABLE customer(name TEXT NOT NULL)")
        con.execute("CREATE TABLE alembic_version(version_num TEXT PRIMARY KEY)")
        con.execute("INSERT INTO alembic_version VALUES ('0001')")
        con.execute("PRAGMA user_version = 7")
        con.executemany("INSERT INTO customer VALUES (?)", [(n,) for n in rows or NAMES])
        con.executemany("INSERT INTO customer VALUES (?)",
                        [(f"Padding customer {i} " + "x" * 200,) for i in range(padding_rows)])
    finally:
        con.close()
    return Company(db, db_key)


def names_in(path: Path, key: bytes) -> list[str]:
    con = connect_raw(path, key)
    try:
        return [r[0] for r in con.execute(
            "SELECT name FROM customer WHERE name NOT LIKE 'Padding%' ORDER BY rowid")]
    finally:
        con.close()


def add_customer(path: Path, key: bytes, name: str) -> None:
    con = connect_raw(path, key)
    try:
        con.execute("INSERT INTO customer VALUES (?)", (name,))
    finally:
        con.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.fixture
def company(tmp_path: Path) -> Company:
    return make_company(tmp_path / "live")


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


# ------------------------------------------------------------------------- backup


def test_backup_during_open_write_transaction_holds_only_committed_data(company, out_dir):
    writer = connect_raw(company.path, company.key)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO customer VALUES ('Uncommitted Ursula')")
        target = backup_company(company.path, company.key, out_dir / "copy.erp")
        # The writer was never blocked and can still commit.
        writer.execute("COMMIT")
    finally:
        writer.close()
    assert names_in(target, company.key) == NAMES
    assert names_in(company.path, company.key) == [*NAMES, "Uncommitted Ursula"]


def test_backup_sees_commits_up_to_its_start_and_not_after(company, out_dir):
    writer = connect_raw(company.path, company.key)
    try:
        writer.execute("INSERT INTO customer VALUES ('Committed Carla')")
        late: list[str] = []

        def progress(done: int, total: int) -> None:
            if not late:  # a commit in the middle of the copy
                writer.execute("INSERT INTO customer VALUES ('Late Lakshmi')")
                late.append("done")

        target = backup_company(company.path, company.key, out_dir / "copy.erp",
                                progress=progress, pages_per_step=1)
    finally:
        writer.close()
    assert names_in(target, company.key) == [*NAMES, "Committed Carla"]


def test_backup_opens_with_key_is_sound_and_its_key_file_unlocks(company, out_dir):
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    assert target == out_dir / "copy.erp"
    assert listing(out_dir) == {"copy.erp", "copy.erp.key"}  # one self-contained file

    verify_backup(target, company.key)
    assert names_in(target, company.key) == NAMES
    con = connect_raw(target, company.key)
    try:
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert con.execute("PRAGMA cipher_integrity_check").fetchall() == []
        assert con.execute("PRAGMA user_version").fetchone()[0] == 7
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [("0001",)]
    finally:
        con.close()

    copied = KeyFile.load(key_file_path(target))
    assert copied.unlock_with_password(LOGIN, PASSWORD) == company.key
    assert key_file_path(target).read_bytes() == key_file_path(company.path).read_bytes()
    if os.name == "posix":
        assert (target.stat().st_mode & 0o777) == 0o600
        assert (key_file_path(target).stat().st_mode & 0o777) == 0o600


def test_backup_is_not_a_byte_copy(company, out_dir):
    # Same key, but its own salt: the page ciphertexts differ from the live file's.
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    assert target.read_bytes()[:16] != company.path.read_bytes()[:16]


def test_backup_never_overwrites(company, out_dir):
    existing = out_dir / "copy.erp"
    existing.write_bytes(b"precious")
    with pytest.raises(StoreError) as caught:
        backup_company(company.path, company.key, existing)
    assert "already exists" in str(caught.value)
    assert existing.read_bytes() == b"precious"
    assert listing(out_dir) == {"copy.erp"}

    # A key file of that name alone is refused too.
    lone_key = key_file_path(out_dir / "other.erp")
    lone_key.write_bytes(b"someone's key file")
    with pytest.raises(StoreError):
        backup_company(company.path, company.key, out_dir / "other.erp")
    assert lone_key.read_bytes() == b"someone's key file"
    assert listing(out_dir) == {"copy.erp", "other.erp.key"}


def test_backup_never_overwrites_a_file_that_appears_during_the_copy(
        company, out_dir, monkeypatch):
    target = out_dir / "copy.erp"
    real_check = backup_mod._check_database

    def check_then_someone_writes_target(*args, **kwargs):
        real_check(*args, **kwargs)
        target.write_bytes(b"made by another program meanwhile")

    monkeypatch.setattr(backup_mod, "_check_database", check_then_someone_writes_target)
    with pytest.raises(StoreError):
        backup_company(company.path, company.key, target)
    assert target.read_bytes() == b"made by another program meanwhile"
    assert listing(out_dir) == {"copy.erp"}


def test_cancel_during_copy_leaves_no_file(tmp_path, out_dir):
    company = make_company(tmp_path / "live", padding_rows=500)
    calls: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))

    with pytest.raises(BackupCancelled) as caught:
        backup_company(company.path, company.key, out_dir / "copy.erp", progress=progress,
                       cancelled=lambda: len(calls) >= 2, pages_per_step=1)
    assert isinstance(caught.value, UserError)
    assert "cancelled" in str(caught.value)
    assert len(calls) == 2
    assert listing(out_dir) == set()
    assert names_in(company.path, company.key) == NAMES


def test_cancel_during_verification_leaves_no_file(tmp_path, out_dir, monkeypatch):
    company = make_company(tmp_path / "live", padding_rows=2000)
    monkeypatch.setattr(backup_mod, "_CANCEL_CHECK_OPS", 100)
    copied: list[int] = []

    def progress(done: int, total: int) -> None:
        if done == total:
            copied.append(done)

    with pytest.raises(BackupCancelled):
        backup_company(company.path, company.key, out_dir / "copy.erp", progress=progress,
                       cancelled=lambda: bool(copied))
    assert copied, "the copy finished, so the cancel came during verification"
    assert listing(out_dir) == set()


def test_cancel_before_start(company, out_dir):
    with pytest.raises(BackupCancelled):
        backup_company(company.path, company.key, out_dir / "copy.erp", cancelled=lambda: True)
    assert listing(out_dir) == set()


def test_progress_reports_pages(tmp_path, out_dir):
    company = make_company(tmp_path / "live", padding_rows=300)
    calls: list[tuple[int, int]] = []
    backup_company(company.path, company.key, out_dir / "copy.erp",
                   progress=lambda done, total: calls.append((done, total)), pages_per_step=4)
    assert len(calls) > 3
    totals = {total for _, total in calls}
    assert len(totals) == 1
    total = totals.pop()
    dones = [done for done, _ in calls]
    assert dones == sorted(dones)
    assert calls[-1] == (total, total)


def test_backup_with_wrong_key_is_refused_and_leaves_nothing(company, out_dir):
    with pytest.raises(KeyFileError):
        backup_company(company.path, os.urandom(32), out_dir / "copy.erp")
    assert listing(out_dir) == set()


def test_backup_of_missing_file_does_not_create_it(tmp_path, out_dir):
    missing = tmp_path / "nothing.erp"
    with pytest.raises(StoreError):
        backup_company(missing, os.urandom(32), out_dir / "copy.erp")
    assert not missing.exists()
    assert listing(out_dir) == set()


def test_disk_full_during_copy_gives_disk_problem_and_leaves_nothing(
        company, out_dir, monkeypatch):
    def copy_then_disk_full(source, dest, pages_per_step, on_step):
        dest.execute("CREATE TABLE half_written(x)")  # something reached the disk
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_mod, "_copy_pages", copy_then_disk_full)
    with pytest.raises(DiskProblem) as caught:
        backup_company(company.path, company.key, out_dir / "copy.erp")
    assert "full" in str(caught.value)
    assert "Errno" not in str(caught.value)
    assert listing(out_dir) == set()


def test_sqlite_reporting_disk_full_gives_disk_problem(company, out_dir, monkeypatch):
    real_copy = backup_mod._copy_pages

    def copy_into_tiny_disk(source, dest, pages_per_step, on_step):
        dest.execute("PRAGMA max_page_count = 1")  # SQLite's own SQLITE_FULL path
        real_copy(source, dest, pages_per_step, on_step)

    monkeypatch.setattr(backup_mod, "_copy_pages", copy_into_tiny_disk)
    with pytest.raises(DiskProblem):
        backup_company(company.path, company.key, out_dir / "copy.erp")
    assert listing(out_dir) == set()


def test_disk_full_writing_the_key_file_removes_the_new_backup(company, out_dir, monkeypatch):
    def no_space(path, data, mode=0o600):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_mod, "write_atomic", no_space)
    with pytest.raises(DiskProblem):
        backup_company(company.path, company.key, out_dir / "copy.erp")
    assert listing(out_dir) == set()


def test_read_only_target_folder_gives_disk_problem(company, out_dir, monkeypatch):
    def read_only(target):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(backup_mod, "_create_temp", read_only)
    with pytest.raises(DiskProblem) as caught:
        backup_company(company.path, company.key, out_dir / "copy.erp")
    assert "read-only" in str(caught.value)


def test_missing_target_folder_is_a_plain_error(company, tmp_path):
    with pytest.raises(StoreError) as caught:
        backup_company(company.path, company.key, tmp_path / "no" / "such" / "copy.erp")
    assert "does not exist" in str(caught.value)


# ------------------------------------------------------------------------- verify


def test_verify_refuses_wrong_key_foreign_empty_and_missing_files(company, out_dir, tmp_path):
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    with pytest.raises(NotACompanyFile):
        verify_backup(target, os.urandom(32))

    empty = tmp_path / "empty.erp"
    empty.write_bytes(b"")
    with pytest.raises(NotACompanyFile) as caught:
        verify_backup(empty, company.key)
    assert "empty" in str(caught.value)

    junk = tmp_path / "junk.erp"
    junk.write_bytes(os.urandom(8192))
    with pytest.raises(NotACompanyFile):
        verify_backup(junk, company.key)

    missing = tmp_path / "missing.erp"
    with pytest.raises(StoreError):
        verify_backup(missing, company.key)
    assert not missing.exists()


def flip_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 32):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_verify_finds_damage_and_truncation(tmp_path, out_dir):
    company = make_company(tmp_path / "live", padding_rows=300)
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    flipped = out_dir / "flipped.erp"
    flipped.write_bytes(target.read_bytes())
    flip_middle(flipped)
    with pytest.raises(CorruptFile) as caught:
        verify_backup(flipped, company.key)
    assert "damaged" in str(caught.value)

    # Cut at a page boundary: cipher_integrity_check alone does not see this.
    cut = out_dir / "cut.erp"
    data = target.read_bytes()
    cut.write_bytes(data[: (len(data) // 2 // 4096) * 4096])
    with pytest.raises(CorruptFile):
        verify_backup(cut, company.key)


# ------------------------------------------------------------------------ restore


def test_restore_replaces_content_and_sets_the_old_files_aside(company, out_dir):
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    add_customer(company.path, company.key, "Added After Backup")
    old_key_bytes = key_file_path(company.path).read_bytes()
    old_hash = digest(company.path)

    aside = restore_company(target, company.path, company.key)

    assert aside is not None
    assert aside.name.startswith("shop.erp.before-restore-")
    assert names_in(company.path, company.key) == NAMES
    assert KeyFile.load(key_file_path(company.path)).unlock_with_password(
        LOGIN, PASSWORD) == company.key
    # The set-aside copy is complete and opens like any company file: undo is possible.
    assert digest(aside) == old_hash
    assert key_file_path(aside).read_bytes() == old_key_bytes
    assert names_in(aside, company.key) == [*NAMES, "Added After Backup"]
    # The backup itself is untouched.
    verify_backup(target, company.key)
    assert not [p for p in company.path.parent.iterdir() if p.name.endswith(".tmp")]


def test_restore_moves_a_left_over_wal_with_the_database(company, out_dir):
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    wal = company.path.with_name(company.path.name + "-wal")
    wal.write_bytes(b"frames of a crashed session")

    aside = restore_company(target, company.path, company.key)

    assert aside is not None
    assert not wal.exists()
    assert aside.with_name(aside.name + "-wal").read_bytes() == b"frames of a crashed session"
    assert names_in(company.path, company.key) == NAMES


def test_restore_into_a_missing_company_file(company, out_dir, tmp_path):
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    fresh = tmp_path / "new-laptop" / "shop.erp"
    fresh.parent.mkdir()
    assert restore_company(target, fresh, company.key) is None
    assert names_in(fresh, company.key) == NAMES
    assert KeyFile.load(key_file_path(fresh)).key_matches(company.key)


def test_restore_of_a_corrupt_backup_is_refused_and_live_file_untouched(tmp_path, out_dir):
    company = make_company(tmp_path / "live", padding_rows=300)
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    damaged = out_dir / "damaged.erp"
    damaged.write_bytes(target.read_bytes())
    key_file_path(damaged).write_bytes(key_file_path(target).read_bytes())
    flip_middle(damaged)
    before = {p.name: digest(p) for p in company.path.parent.iterdir()}

    with pytest.raises(CorruptFile):
        restore_company(damaged, company.path, company.key)

    assert {p.name: digest(p) for p in company.path.parent.iterdir()} == before
    assert names_in(company.path, company.key)[: len(NAMES)] == NAMES


def test_restore_with_the_wrong_key_or_no_key_file_is_refused(company, out_dir):
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    before = {p.name: digest(p) for p in company.path.parent.iterdir()}
    with pytest.raises(NotACompanyFile):
        restore_company(target, company.path, os.urandom(32))
    key_file_path(target).unlink()
    with pytest.raises(KeyFileError):
        restore_company(target, company.path, company.key)
    assert {p.name: digest(p) for p in company.path.parent.iterdir()} == before


def test_restore_failing_half_way_puts_the_originals_back(company, out_dir, monkeypatch):
    target = backup_company(company.path, company.key, out_dir / "copy.erp")
    add_customer(company.path, company.key, "Added After Backup")
    before = {p.name: digest(p) for p in company.path.parent.iterdir()}

    def no_space(path, data, mode=0o600):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(backup_mod, "write_atomic", no_space)  # after the db was renamed in
    with pytest.raises(DiskProblem):
        restore_company(target, company.path, company.key)

    assert {p.name: digest(p) for p in company.path.parent.iterdir()} == before
    assert names_in(company.path, company.key) == [*NAMES, "Added After Backup"]


def test_restore_refuses_the_company_file_itself(company):
    with pytest.raises(StoreError):
        restore_company(company.path, company.path, company.key)


# -------------------------------------------------------------- automatic backups


NOW = datetime(2026, 3, 14, 9, 26, 53)


def test_auto_backup_names_and_sanitises(company, tmp_path):
    folder = tmp_path / "auto"
    path = auto_backup(company.path, company.key, folder, "Before Upgrade!", keep=5, now=NOW)
    assert path == folder / "shop-20260314-092653-before-upgrade.erp"
    assert key_file_path(path).exists()
    verify_backup(path, company.key)
    # Two in the same second do not collide.
    second = auto_backup(company.path, company.key, folder, "manual", keep=5, now=NOW)
    third = auto_backup(company.path, company.key, folder, "manual", keep=5, now=NOW)
    assert second.name == "shop-20260314-092653-manual.erp"
    assert third.name == "shop-20260314-092653-manual-2.erp"
    with pytest.raises(ValueError):
        auto_backup(company.path, company.key, folder, "!!!", keep=5, now=NOW)


def test_prune_keeps_the_newest_n_with_their_key_files(company, tmp_path):
    folder = tmp_path / "auto"
    made = [
        auto_backup(company.path, company.key, folder, reason, keep=100,
                    now=NOW + timedelta(hours=hours))
        for hours, reason in [(0, "daily"), (30, "on-close"), (5, "manual"), (50, "daily"),
                              (2, "before-upgrade-0001")]
    ]
    stranger = folder / "notes.txt"
    stranger.write_text("not a backup")

    removed = prune_backups(folder, keep=3)

    newest = [made[3], made[1], made[2]]  # +50 h, +30 h, +5 h
    assert sorted(removed) == sorted([made[0], made[4]])
    assert [info.path for info in list_backups(folder)] == newest
    expected = {p.name for p in newest} | {key_file_path(p).name for p in newest} | {"notes.txt"}
    assert listing(folder) == expected


def test_auto_backup_prunes(company, tmp_path):
    folder = tmp_path / "auto"
    for day in range(4):
        auto_backup(company.path, company.key, folder, "daily", keep=2,
                    now=NOW + timedelta(days=day))
    infos = list_backups(folder)
    assert [i.taken_at for i in infos] == [NOW + timedelta(days=3), NOW + timedelta(days=2)]
    assert all(i.reason == "daily" for i in infos)
    assert len(listing(folder)) == 4  # two backups, two key files


def test_daily_backup_due(company, tmp_path):
    folder = tmp_path / "auto"
    assert daily_backup_due(folder, NOW)  # folder does not exist yet
    auto_backup(company.path, company.key, folder, "on-close", keep=5, now=NOW)
    assert not daily_backup_due(folder, NOW)
    assert not daily_backup_due(folder, NOW + timedelta(hours=23, minutes=59))
    assert daily_backup_due(folder, NOW + timedelta(hours=24, seconds=1))
    # A backup "from the future" (the clock was set back) does not block backups.
    assert daily_backup_due(folder, NOW - timedelta(days=2))


def test_backup_dir_for_is_one_folder_per_company_file(tmp_path):
    base = tmp_path / "data" / "backups"
    first = make_company(tmp_path / "a")
    second = make_company(tmp_path / "b")  # same file name, another company
    dir_first = backup_dir_for(first.path, base)
    assert dir_first.parent == base
    assert dir_first.name.startswith("shop-")
    assert dir_first != backup_dir_for(second.path, base)
    assert dir_first == backup_dir_for(first.path, base)
    assert not dir_first.exists()
