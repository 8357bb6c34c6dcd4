"""Proofs that company data is unreadable on disk without the key.

A known marker is committed while the connection stays open (so the WAL file
holds it too) and a backup is taken; then every file is searched for it.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from erp_desktop.domain.errors import NotACompanyFile, StoreError
from erp_desktop.store.backup import backup_company, verify_backup
from erp_desktop.store.engine import SQLITE_HEADER, connect_raw
from erp_desktop.store.keyfile import FAST_TEST_KDF, KeyFile, key_file_path

MARKER = "Zebulon Quartermain"
PASSWORD = "a password that must not leak"


@dataclass
class Scene:
    db: Path
    wal: Path
    key: bytes
    backup: Path
    con: Any  # the still-open connection


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    db = tmp_path / "company.erp"
    keyfile, db_key, _events_private = KeyFile.create(key_file_path(db), kdf=FAST_TEST_KDF)
    keyfile.add_user_slot("owner", PASSWORD, db_key)
    keyfile.save()
    con = connect_raw(db, db_key)
    try:
        con.execute("CREATE TABLE customer(name TEXT NOT NULL, note TEXT)")
        con.execute("BEGIN IMMEDIATE")
        con.execute("INSERT INTO customer VALUES (?, ?)", (MARKER, f"note about {MARKER}"))
        con.execute("COMMIT")
        wal = db.with_name(db.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0, "the WAL must hold the commit"
        backup_dir = tmp_path / "backups"
        backup_dir.mkdir()
        backup = backup_company(db, db_key, backup_dir / "company-copy.erp")
        yield Scene(db=db, wal=wal, key=db_key, backup=backup, con=con)
    finally:
        con.close()


def test_marker_is_readable_with_the_key(scene):
    # The search below would prove nothing if the marker had not been written.
    assert scene.con.execute("SELECT name FROM customer").fetchall() == [(MARKER,)]
    check = connect_raw(scene.backup, scene.key)
    try:
        assert check.execute("SELECT name FROM customer").fetchall() == [(MARKER,)]
    finally:
        check.close()


def test_database_has_no_plain_sqlite_header(scene):
    assert not scene.db.read_bytes().startswith(SQLITE_HEADER)
    assert not scene.backup.read_bytes().startswith(SQLITE_HEADER)


def test_plain_sqlite_cannot_read_it(scene):
    for path in (scene.db, scene.backup):
        plain = sqlite3.connect(path)
        try:
            with pytest.raises(sqlite3.DatabaseError):
                plain.execute("SELECT * FROM sqlite_master").fetchall()
        finally:
            plain.close()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16-le", "utf-16-be"])
def test_marker_is_in_no_file_on_disk(scene, encoding):
    needle = MARKER.encode(encoding)
    files = {
        "database": scene.db,
        "wal": scene.wal,
        "backup": scene.backup,
        "key file": key_file_path(scene.db),
        "backup key file": key_file_path(scene.backup),
    }
    for label, path in files.items():
        data = path.read_bytes()
        assert data, f"{label} is empty, so the search proves nothing"
        assert needle not in data, f"{MARKER!r} ({encoding}) found in the {label}"
    # Nor in anything else SQLite left beside the files (temp files, journals).
    for folder in {scene.db.parent, scene.backup.parent}:
        for path in folder.iterdir():
            if path.is_file():
                assert needle not in path.read_bytes(), f"found in {path.name}"


def test_password_and_key_are_not_in_the_key_file(scene):
    data = key_file_path(scene.db).read_bytes()
    assert PASSWORD.encode() not in data
    assert scene.key not in data
    assert scene.key.hex().encode() not in data


def assert_plain(message: str) -> None:
    print(f"message shown to the person: {message}")
    assert message.strip()
    for technical in ("Traceback", "sqlcipher", "HMAC", "DatabaseError", "Errno", "x'", "0x"):
        assert technical not in message, f"technical detail {technical!r} in: {message}"


def test_wrong_key_gives_a_plain_message(scene):
    wrong = bytes(b ^ 0x5A for b in scene.key)
    with pytest.raises(NotACompanyFile) as caught:
        connect_raw(scene.db, wrong)
    message = str(caught.value)
    assert_plain(message)
    assert scene.key.hex() not in message and wrong.hex() not in message
    assert scene.db.name in message

    with pytest.raises(NotACompanyFile) as caught:
        verify_backup(scene.backup, wrong)
    assert_plain(str(caught.value))


def test_plain_sqlite_and_random_files_are_not_company_files(tmp_path, scene):
    plain = tmp_path / "plain.sqlite"
    con = sqlite3.connect(plain)
    con.execute("CREATE TABLE customer(name TEXT)")
    con.execute("INSERT INTO customer VALUES ('someone')")
    con.commit()
    con.close()
    noise = tmp_path / "noise.erp"
    noise.write_bytes(os.urandom(64 * 1024))

    for path in (plain, noise):
        before = path.read_bytes()
        with pytest.raises(NotACompanyFile) as caught:
            connect_raw(path, scene.key)
        assert_plain(str(caught.value))
        with pytest.raises(StoreError) as caught:
            verify_backup(path, scene.key)
        assert isinstance(caught.value, NotACompanyFile)
        assert_plain(str(caught.value))
        assert path.read_bytes() == before, "a foreign file must be left as it was"


def test_cipher_version_is_4(scene):
    version = scene.con.execute("PRAGMA cipher_version").fetchone()[0]
    assert version.split(".")[0] == "4", version


def test_page_hmac_is_on(scene):
    # Tampering is detected per page (SQLCipher 4's default HMAC-SHA512).
    assert scene.con.execute("PRAGMA cipher_integrity_check").fetchall() == []
    assert scene.con.execute("PRAGMA cipher_hmac_algorithm").fetchone()[0] == "HMAC_SHA512"
