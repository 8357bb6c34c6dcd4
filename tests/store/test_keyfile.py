"""Key file: slots, throttling, sealed events, file format and crash safety."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from erp_desktop.domain.errors import KeyFileError, LoginLocked, WrongPassword
from erp_desktop.store import atomic
from erp_desktop.store.keyfile import (
    DEFAULT_KDF,
    FAST_TEST_KDF,
    MAX_SEALED_EVENTS,
    KdfParams,
    KeyFile,
    LoginThrottle,
    generate_device_secret,
    generate_recovery_passphrase,
    key_file_path,
    normalise_recovery_passphrase,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def key_path(tmp_path: Path) -> Path:
    return key_file_path(tmp_path / "company.erp")


@pytest.fixture
def new(key_path: Path):
    """A saved key file with one user "Anna"; yields (keyfile, db_key, events_private_key)."""
    keyfile, db_key, private = KeyFile.create(key_path, FAST_TEST_KDF)
    keyfile.add_user_slot("Anna", PASSWORD, db_key)
    keyfile.save()
    return keyfile, db_key, private


def reload(path: Path) -> KeyFile:
    return KeyFile.load(path, FAST_TEST_KDF)


def temp_files(directory: Path) -> list[Path]:
    return [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# ------------------------------------------------------------------ round trips


def test_key_file_path_sits_beside_the_database(tmp_path: Path):
    assert key_file_path(tmp_path / "shop.erp") == tmp_path / "shop.erp.key"


def test_create_does_not_write_until_save(key_path: Path):
    keyfile, db_key, _ = KeyFile.create(key_path, FAST_TEST_KDF)
    assert len(db_key) == 32
    assert not key_path.exists()
    keyfile.save()
    assert key_path.exists()


def test_create_refuses_an_existing_file(new, key_path: Path):
    with pytest.raises(KeyFileError, match="A key file already exists at"):
        KeyFile.create(key_path, FAST_TEST_KDF)


def test_first_save_refuses_a_file_created_in_the_meantime(key_path: Path):
    keyfile, _, _ = KeyFile.create(key_path, FAST_TEST_KDF)
    key_path.write_bytes(b"someone else's")
    with pytest.raises(KeyFileError, match="already exists"):
        keyfile.save()
    assert key_path.read_bytes() == b"someone else's"


def test_round_trip_and_user_unlock(new, key_path: Path):
    _, db_key, _ = new
    loaded = reload(key_path)
    assert loaded.has_user("anna")
    assert loaded.user_slot_count() == 1
    assert loaded.unlock_with_password("Anna", PASSWORD) == db_key


def test_login_name_is_normalised(new, key_path: Path):
    _, db_key, _ = new
    loaded = reload(key_path)
    assert loaded.unlock_with_password("  ANNA ", PASSWORD) == db_key


def test_password_is_unicode_normalised(key_path: Path):
    keyfile, db_key, _ = KeyFile.create(key_path, FAST_TEST_KDF)
    keyfile.add_user_slot("zoe", "caf\u00e9", db_key)  # precomposed é (Windows)
    assert keyfile.unlock_with_password("zoe", "cafe\u0301") == db_key  # decomposed (macOS)


def test_wrong_password_and_unknown_user_give_the_same_message(new):
    keyfile, _, _ = new
    with pytest.raises(WrongPassword) as wrong_pw:
        keyfile.unlock_with_password("Anna", "wrong")
    with pytest.raises(WrongPassword) as unknown:
        keyfile.unlock_with_password("nobody", PASSWORD)
    assert str(wrong_pw.value) == str(unknown.value) == "Wrong login name or password."


def test_blank_login_is_just_a_wrong_login(new):
    keyfile, _, _ = new
    with pytest.raises(WrongPassword):
        keyfile.unlock_with_password("   ", PASSWORD)


def test_slot_for_another_key_is_refused(new, key_path: Path):
    keyfile, _, _ = new
    with pytest.raises(ValueError, match="not this company file's database key"):
        keyfile.add_user_slot("bob", "pw", os.urandom(32))
    assert not keyfile.has_user("bob")


def test_empty_password_is_refused(new):
    keyfile, db_key, _ = new
    with pytest.raises(ValueError):
        keyfile.add_user_slot("bob", "", db_key)


def test_remove_user_slot(new, key_path: Path):
    keyfile, db_key, _ = new
    keyfile.add_user_slot("bob", "bobs password", db_key)
    assert keyfile.remove_user_slot("BOB") is True
    assert keyfile.remove_user_slot("bob") is False
    keyfile.save()
    loaded = reload(key_path)
    assert not loaded.has_user("bob")
    with pytest.raises(WrongPassword):
        loaded.unlock_with_password("bob", "bobs password")
    assert loaded.unlock_with_password("anna", PASSWORD) == db_key


def test_password_change_replaces_the_slot(new, key_path: Path):
    keyfile, db_key, _ = new
    keyfile.add_user_slot("anna", "a new password", db_key)
    keyfile.save()
    loaded = reload(key_path)
    assert loaded.user_slot_count() == 1
    assert loaded.unlock_with_password("anna", "a new password") == db_key
    with pytest.raises(WrongPassword):
        loaded.unlock_with_password("anna", PASSWORD)


# ------------------------------------------------------------------- recovery


def test_recovery_passphrase_shape():
    passphrase = generate_recovery_passphrase()
    groups = passphrase.split("-")
    assert len(groups) == 8
    assert all(len(g) == 5 for g in groups)
    assert not set(passphrase) & set("ILOU")
    assert generate_recovery_passphrase() != passphrase


def test_recovery_unlock_with_or_without_dashes_and_lowercase(new, key_path: Path):
    keyfile, db_key, _ = new
    passphrase = generate_recovery_passphrase()
    keyfile.set_recovery_slot(passphrase, db_key)
    keyfile.save()
    loaded = reload(key_path)
    assert loaded.has_recovery_slot()
    assert loaded.unlock_with_recovery(passphrase) == db_key
    assert loaded.unlock_with_recovery(passphrase.replace("-", "")) == db_key
    assert loaded.unlock_with_recovery(passphrase.lower()) == db_key
    assert loaded.unlock_with_recovery("  " + passphrase.replace("-", " ").lower()) == db_key


def test_recovery_lookalike_letters_are_read_as_digits():
    assert normalise_recovery_passphrase("o1l-i0") == "01110"


def test_wrong_recovery_passphrase(new):
    keyfile, db_key, _ = new
    keyfile.set_recovery_slot(generate_recovery_passphrase(), db_key)
    message = "That recovery passphrase does not open this company file."
    with pytest.raises(WrongPassword, match=message):
        keyfile.unlock_with_recovery(generate_recovery_passphrase())
    with pytest.raises(WrongPassword, match=message):
        keyfile.unlock_with_recovery(" - ")


def test_recovery_slot_is_replaced_not_added(new):
    keyfile, db_key, _ = new
    first, second = generate_recovery_passphrase(), generate_recovery_passphrase()
    keyfile.set_recovery_slot(first, db_key)
    keyfile.set_recovery_slot(second, db_key)
    assert keyfile.unlock_with_recovery(second) == db_key
    with pytest.raises(WrongPassword):
        keyfile.unlock_with_recovery(first)


def test_user_password_does_not_open_recovery_slot(new):
    keyfile, db_key, _ = new
    keyfile.set_recovery_slot("ABCDE", db_key)
    with pytest.raises(WrongPassword):
        keyfile.unlock_with_password("anna", "ABCDE")


# --------------------------------------------------------------------- device


def test_device_slot_round_trip(new, key_path: Path):
    keyfile, db_key, _ = new
    secret = generate_device_secret()
    keyfile.add_device_slot("Front desk PC", secret, db_key)
    keyfile.save()
    loaded = reload(key_path)
    assert loaded.has_device_slot("front desk pc")
    assert loaded.unlock_with_device("Front desk PC", secret) == db_key
    with pytest.raises(WrongPassword):
        loaded.unlock_with_device("Front desk PC", generate_device_secret())
    with pytest.raises(WrongPassword):
        loaded.unlock_with_device("Back office PC", secret)
    assert loaded.remove_device_slot("Front desk PC") is True
    assert not loaded.has_device_slot("Front desk PC")


def test_device_secret_must_be_long(new):
    keyfile, db_key, _ = new
    with pytest.raises(ValueError):
        keyfile.add_device_slot("pc", b"short", db_key)


# ------------------------------------------------------------------- tampering


def _edit(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _flip(b64: str) -> str:
    raw = bytearray(base64.b64decode(b64))
    raw[0] ^= 0x01
    return base64.b64encode(bytes(raw)).decode()


@pytest.mark.parametrize("field", ["ciphertext", "nonce", "salt", "label_hash"])
def test_tampered_slot_does_not_open(new, key_path: Path, field: str):
    def change(data):
        data["slots"][0][field] = _flip(data["slots"][0][field])

    _edit(key_path, change)
    with pytest.raises(WrongPassword):
        reload(key_path).unlock_with_password("anna", PASSWORD)


def test_tampered_file_id_breaks_the_aad(new, key_path: Path):
    _edit(key_path, lambda d: d.update(file_id=_flip(d["file_id"])))
    with pytest.raises(WrongPassword):
        reload(key_path).unlock_with_password("anna", PASSWORD)


def test_slot_moved_to_another_kind_does_not_open(new, key_path: Path):
    keyfile, db_key, _ = new
    # The recovery secret "ABCDE" derives the same KEK a password "ABCDE" would.
    keyfile.set_recovery_slot("ABCDE", db_key)
    keyfile.save()
    data = json.loads(key_path.read_text())
    anna, recovery = data["slots"]
    data["slots"] = [dict(recovery, kind="user", label_hash=anna["label_hash"])]
    key_path.write_text(json.dumps(data))
    with pytest.raises(WrongPassword):
        reload(key_path).unlock_with_password("anna", "ABCDE")


def test_slot_copied_to_another_login_does_not_open(new, key_path: Path):
    keyfile, db_key, _ = new
    keyfile.add_user_slot("mallory", "mallorys password", db_key)
    keyfile.save()
    data = json.loads(key_path.read_text())
    anna, mallory = data["slots"]
    # Mallory puts a copy of her own slot under Anna's label, hoping to log in as
    # Anna (and be audited as Anna) with her own password.
    data["slots"] = [dict(mallory, label_hash=anna["label_hash"], id="forged"), mallory]
    key_path.write_text(json.dumps(data))
    loaded = reload(key_path)
    with pytest.raises(WrongPassword):
        loaded.unlock_with_password("anna", "mallorys password")
    assert loaded.unlock_with_password("mallory", "mallorys password") == db_key


def test_slot_copied_to_another_key_file_does_not_open(new, key_path: Path, tmp_path: Path):
    other_path = tmp_path / "other.erp.key"
    other, other_key, _ = KeyFile.create(other_path, FAST_TEST_KDF)
    other.add_user_slot("anna", "other password", other_key)
    other.save()
    ours = json.loads(key_path.read_text())
    theirs = json.loads(other_path.read_text())
    # Our Anna slot, relabelled so the other file finds it for "anna": the file id
    # bound into the AEAD (and the other file's key check) must refuse it.
    theirs["slots"] = [dict(ours["slots"][0], label_hash=theirs["slots"][0]["label_hash"])]
    other_path.write_text(json.dumps(theirs))
    with pytest.raises(WrongPassword):
        reload(other_path).unlock_with_password("anna", PASSWORD)


# ----------------------------------------------------------- nothing in clear


def test_file_does_not_reveal_login_password_or_key(new, key_path: Path):
    keyfile, db_key, _ = new
    passphrase = generate_recovery_passphrase()
    secret = generate_device_secret()
    keyfile.set_recovery_slot(passphrase, db_key)
    keyfile.add_device_slot("Anna's laptop", secret, db_key)
    keyfile.record_failure("anna", T0)
    keyfile.save()
    raw = key_path.read_bytes()
    data = json.loads(raw)
    lowered = raw.lower()
    for needle in (b"anna", PASSWORD.encode(), b"laptop"):
        assert needle not in lowered
    for secret_bytes in (db_key, secret, passphrase.encode(), passphrase.replace("-", "").encode()):
        assert secret_bytes not in raw
        assert base64.b64encode(secret_bytes) not in raw
        assert secret_bytes.hex().encode() not in lowered
    for slot in data["slots"]:
        label = base64.b64decode(slot["label_hash"])
        assert len(label) == 32
        assert b"anna" not in label.lower()


def test_same_login_hashes_differently_in_different_files(tmp_path: Path):
    labels = []
    for name in ("a.key", "b.key"):
        keyfile, db_key, _ = KeyFile.create(tmp_path / name, FAST_TEST_KDF)
        keyfile.add_user_slot("anna", PASSWORD, db_key)
        keyfile.save()
        labels.append(json.loads((tmp_path / name).read_text())["slots"][0]["label_hash"])
    assert labels[0] != labels[1]


def test_repr_hides_secrets(key_path: Path):
    created = KeyFile.create(key_path, FAST_TEST_KDF)
    created.keyfile.add_user_slot("anna", PASSWORD, created.db_key)
    text = repr(created) + repr(created.keyfile) + str(created.keyfile)
    assert "anna" not in text
    assert created.db_key.hex() not in text
    assert repr(created.db_key) not in text
    assert repr(created.events_private_key) not in text
    assert "hidden" in repr(created)


# -------------------------------------------------------------------- format


def test_missing_file(tmp_path: Path):
    path = tmp_path / "gone.erp.key"
    with pytest.raises(KeyFileError) as err:
        KeyFile.load(path)
    assert str(err.value) == (
        f"The key file {path} is missing: the company file cannot be opened without it. "
        "Restore it from a backup."
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\xff garbage", b"not json", b"[1, 2]", b'{"format": "something else"}'],
)
def test_garbage_file(key_path: Path, content: bytes):
    key_path.write_bytes(content)
    with pytest.raises(KeyFileError, match="is not an erp_desktop key file"):
        KeyFile.load(key_path)


def test_damaged_file(new, key_path: Path):
    _edit(key_path, lambda d: d.pop("slots"))
    with pytest.raises(KeyFileError, match="is damaged"):
        KeyFile.load(key_path)


def test_damaged_kdf_params(new, key_path: Path):
    def change(data):
        data["slots"][0]["kdf"]["m"] = 10**12  # would ask for an absurd amount of memory

    _edit(key_path, change)
    with pytest.raises(KeyFileError, match="is damaged"):
        KeyFile.load(key_path)


def test_newer_format_version(new, key_path: Path):
    _edit(key_path, lambda d: d.update(format_version=2))
    with pytest.raises(KeyFileError) as err:
        KeyFile.load(key_path)
    assert str(err.value) == (
        "This key file was written by a newer version of erp_desktop. Update the app to open it."
    )


def test_format_header(new, key_path: Path):
    data = json.loads(key_path.read_text())
    assert data["format"] == "erp_desktop.keyfile"
    assert data["format_version"] == 1


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_file_is_private(new, key_path: Path):
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    old_umask = os.umask(0)
    try:
        keyfile, _, _ = new
        keyfile.save()
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600


# ------------------------------------------------------------------------ KDF


def test_kdf_params_are_stored_per_slot(new, key_path: Path):
    _, db_key, _ = new
    stronger = KdfParams(time_cost=2, memory_kib=16, parallelism=1)
    loaded = KeyFile.load(key_path, stronger)
    loaded.add_user_slot("bob", "bobs password", db_key)
    loaded.save()
    data = json.loads(key_path.read_text())
    kdfs = sorted((s["kdf"]["t"], s["kdf"]["m"]) for s in data["slots"])
    assert kdfs == [(1, 8), (2, 16)]
    # Anna's old, weaker slot still opens after the default changed.
    again = KeyFile.load(key_path, stronger)
    assert again.unlock_with_password("anna", PASSWORD) == db_key
    assert again.unlock_with_password("bob", "bobs password") == db_key


def test_default_kdf_meets_owasp_minimum_and_works(key_path: Path):
    # OWASP: argon2id with at least 19 MiB and 2 passes (or 46 MiB and 1 pass).
    assert DEFAULT_KDF.memory_kib >= 19 * 1024
    assert DEFAULT_KDF.time_cost >= 2
    keyfile, db_key, _ = KeyFile.create(key_path)  # real default parameters
    assert keyfile.kdf == DEFAULT_KDF
    keyfile.add_user_slot("anna", PASSWORD, db_key)
    keyfile.save()
    started = time.perf_counter()
    assert KeyFile.load(key_path).unlock_with_password("anna", PASSWORD) == db_key
    assert time.perf_counter() - started < 10  # generous: CI machines vary


def test_kdf_params_reject_nonsense():
    with pytest.raises(ValueError):
        KdfParams(time_cost=0, memory_kib=8, parallelism=1)
    with pytest.raises(ValueError):
        KdfParams(time_cost=1, memory_kib=8, parallelism=2)  # argon2 needs 8 KiB per lane


# ------------------------------------------------------------------ throttling


POLICY = LoginThrottle()


def fail(keyfile: KeyFile, login: str, times: int, now: datetime = T0) -> None:
    for _ in range(times):
        keyfile.record_failure(login, now, POLICY)


def test_five_failures_cost_nothing_then_waiting_starts(new):
    keyfile, _, _ = new
    for _ in range(4):
        keyfile.record_failure("anna", T0, POLICY)
        keyfile.check_login_allowed("anna", T0, POLICY)
    keyfile.record_failure("anna", T0, POLICY)  # fifth
    with pytest.raises(LoginLocked) as err:
        keyfile.check_login_allowed("anna", T0, POLICY)  # the sixth attempt must wait
    assert err.value.retry_after_seconds == 1
    assert str(err.value) == "Too many failed attempts. Try again in 1 second."
    keyfile.check_login_allowed("anna", T0 + timedelta(seconds=1), POLICY)


def test_delay_doubles(new):
    keyfile, _, _ = new
    fail(keyfile, "anna", 8)
    with pytest.raises(LoginLocked) as err:
        keyfile.check_login_allowed("anna", T0, POLICY)
    assert err.value.retry_after_seconds == 8
    assert str(err.value) == "Too many failed attempts. Try again in 8 seconds."


def test_delay_is_capped():
    policy = LoginThrottle(lock_after=100)
    assert policy.delay_seconds(4) == 0
    assert policy.delay_seconds(5) == 1
    assert policy.delay_seconds(6) == 2
    assert policy.delay_seconds(50) == 60


def test_ten_failures_lock_for_15_minutes(new):
    keyfile, _, _ = new
    fail(keyfile, "anna", 10)
    with pytest.raises(LoginLocked) as err:
        keyfile.check_login_allowed("anna", T0 + timedelta(minutes=1), POLICY)
    assert err.value.retry_after_seconds == 14 * 60
    assert str(err.value) == "Too many failed attempts. Try again in 14 minutes."
    with pytest.raises(LoginLocked, match="Try again in 15 minutes"):
        keyfile.check_login_allowed("anna", T0, POLICY)
    keyfile.check_login_allowed("anna", T0 + timedelta(minutes=15), POLICY)


def test_after_a_served_lock_counting_starts_afresh(new):
    keyfile, _, _ = new
    fail(keyfile, "anna", 10)
    later = T0 + timedelta(minutes=16)
    keyfile.record_failure("anna", later, POLICY)
    assert keyfile.failure_count("anna") == 1
    keyfile.check_login_allowed("anna", later, POLICY)


def test_success_resets(new):
    keyfile, _, _ = new
    fail(keyfile, "anna", 7)
    keyfile.record_success("anna")
    assert keyfile.failure_count("anna") == 0
    keyfile.check_login_allowed("anna", T0, POLICY)


def test_other_logins_are_not_affected(new):
    keyfile, _, _ = new
    fail(keyfile, "anna", 10)
    keyfile.check_login_allowed("bob", T0, POLICY)


def test_unknown_login_is_throttled_the_same_way(new):
    keyfile, _, _ = new
    fail(keyfile, "nobody", 10)
    fail(keyfile, "anna", 10)
    with pytest.raises(LoginLocked) as unknown:
        keyfile.check_login_allowed("nobody", T0, POLICY)
    with pytest.raises(LoginLocked) as known:
        keyfile.check_login_allowed("anna", T0, POLICY)
    assert str(unknown.value) == str(known.value)
    assert unknown.value.retry_after_seconds == known.value.retry_after_seconds


def test_login_name_variants_share_one_counter(new):
    keyfile, _, _ = new
    fail(keyfile, "Anna", 5)
    fail(keyfile, " ANNA ", 5)
    assert keyfile.failure_count("anna") == 10


def test_throttle_survives_save_and_load(new, key_path: Path):
    keyfile, _, _ = new
    fail(keyfile, "anna", 10)
    fail(keyfile, "nobody", 6)
    keyfile.save()
    loaded = reload(key_path)
    assert loaded.failure_count("anna") == 10
    with pytest.raises(LoginLocked):
        loaded.check_login_allowed("anna", T0 + timedelta(minutes=5), POLICY)
    with pytest.raises(LoginLocked, match="2 seconds"):
        loaded.check_login_allowed("nobody", T0, POLICY)


def test_removing_a_user_forgets_its_counter(new):
    keyfile, _, _ = new
    fail(keyfile, "anna", 3)
    keyfile.remove_user_slot("anna")
    assert keyfile.failure_count("anna") == 0


def test_clock_set_backwards_does_not_extend_the_lock(new):
    keyfile, _, _ = new
    fail(keyfile, "anna", 10)
    yesterday = T0 - timedelta(days=1)
    with pytest.raises(LoginLocked) as err:
        keyfile.check_login_allowed("anna", yesterday, POLICY)
    assert err.value.retry_after_seconds == 15 * 60
    keyfile.check_login_allowed("anna", yesterday + timedelta(minutes=15), POLICY)


def test_naive_times_are_refused(new):
    keyfile, _, _ = new
    with pytest.raises(ValueError):
        keyfile.record_failure("anna", datetime(2025, 1, 1), POLICY)


# --------------------------------------------------------------- sealed events


def test_failures_are_sealed_for_the_database(new, key_path: Path):
    keyfile, _, private = new
    keyfile.record_failure("Anna", T0, POLICY, details={"device": "front-desk"})
    keyfile.record_failure("anna' OR 1=1", T0 + timedelta(seconds=1), POLICY)
    keyfile.save()
    raw = key_path.read_bytes()
    assert b"anna" not in raw.lower()
    assert b"front-desk" not in raw
    assert b"login_failed" not in raw

    loaded = reload(key_path)
    assert loaded.sealed_event_count() == 2
    events = loaded.take_sealed_events(private)
    assert events[0] == {
        "event": "login_failed",
        "at": T0.isoformat(),
        "login": "anna",
        "known_user": True,
        "failures": 1,
        "locked": False,
        "device": "front-desk",
    }
    # An unknown name may be a password typed into the wrong field: not kept.
    assert events[1]["login"] is None
    assert events[1]["known_user"] is False
    assert loaded.sealed_event_count() == 0
    loaded.save()
    assert reload(key_path).take_sealed_events(private) == []


def test_append_and_take_arbitrary_events(new):
    keyfile, _, private = new
    keyfile.append_sealed_event({"event": "x", "n": 1})
    keyfile.append_sealed_event({"event": "y", "n": 2})
    assert keyfile.take_sealed_events(private) == [{"event": "x", "n": 1}, {"event": "y", "n": 2}]


def test_take_needs_the_matching_private_key(new, tmp_path: Path):
    keyfile, _, _ = new
    keyfile.append_sealed_event({"event": "x"})
    _, _, other_private = KeyFile.create(tmp_path / "other.key", FAST_TEST_KDF)
    with pytest.raises(ValueError):
        keyfile.take_sealed_events(other_private)
    assert keyfile.sealed_event_count() == 1


def test_tampered_event_is_reported_not_fatal(new, key_path: Path):
    keyfile, _, private = new
    keyfile.append_sealed_event({"event": "x"})
    keyfile.append_sealed_event({"event": "y"})
    keyfile.save()

    def change(data):
        data["sealed_events"][0]["ciphertext"] = _flip(data["sealed_events"][0]["ciphertext"])

    _edit(key_path, change)
    events = reload(key_path).take_sealed_events(private)
    assert events == [{"event": "sealed_event_unreadable"}, {"event": "y"}]


def test_event_queue_is_capped(new, key_path: Path):
    keyfile, _, private = new
    for n in range(MAX_SEALED_EVENTS + 5):
        keyfile.append_sealed_event({"n": n})
    assert keyfile.sealed_event_count() == MAX_SEALED_EVENTS
    keyfile.save()
    events = reload(key_path).take_sealed_events(private)
    assert events[0] == {"event": "sealed_events_dropped", "count": 5}
    assert events[1] == {"n": 5}
    assert events[-1] == {"n": MAX_SEALED_EVENTS + 4}


# ---------------------------------------------------------------- crash safety


def test_crash_before_rename_keeps_the_old_file(new, key_path: Path, monkeypatch):
    keyfile, db_key, _ = new
    before = key_path.read_bytes()
    keyfile.remove_user_slot("anna")
    keyfile.add_user_slot("bob", "bobs password", db_key)

    def power_cut(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic.os, "replace", power_cut)
    with pytest.raises(KeyFileError, match="could not be saved"):
        keyfile.save()
    monkeypatch.undo()

    assert key_path.read_bytes() == before
    assert temp_files(key_path.parent) == []
    assert reload(key_path).unlock_with_password("anna", PASSWORD) == db_key


def test_crash_mid_write_keeps_the_old_file(new, key_path: Path, monkeypatch):
    keyfile, db_key, _ = new
    before = key_path.read_bytes()
    keyfile.add_user_slot("bob", "bobs password", db_key)
    written = []

    def disk_full(fd):
        # The bytes reached the temp file, then the disk filled up on flush.
        written.extend(p for p in key_path.parent.iterdir() if p.name.endswith(".tmp"))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "fsync", disk_full)
    with pytest.raises(KeyFileError, match="No space left on device"):
        keyfile.save()
    monkeypatch.undo()

    assert written and written[0].name.startswith(atomic.temp_name_prefix(key_path))
    assert key_path.read_bytes() == before
    assert temp_files(key_path.parent) == []
    assert reload(key_path).unlock_with_password("anna", PASSWORD) == db_key


def test_hard_kill_mid_write_keeps_the_old_file(new, key_path: Path):
    """A real crash: the process dies between writing the temp file and renaming."""
    _, db_key, _ = new
    before = key_path.read_bytes()
    script = textwrap.dedent(
        """
        import os, sys
        from pathlib import Path
        from erp_desktop.store import atomic

        def die(src, dst):
            os._exit(9)

        atomic.os.replace = die
        atomic.write_atomic(Path(sys.argv[1]), b'{"half": ')
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(key_path)],
        check=False,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 9
    assert key_path.read_bytes() == before
    assert reload(key_path).unlock_with_password("anna", PASSWORD) == db_key
    # A hard crash cannot clean up; the stray file is recognisable and harmless.
    leftovers = temp_files(key_path.parent)
    assert all(p.name.startswith(atomic.temp_name_prefix(key_path)) for p in leftovers)


def test_write_atomic_replaces_content(tmp_path: Path):
    target = tmp_path / "settings.json"
    atomic.write_atomic(target, b"one")
    atomic.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert temp_files(tmp_path) == []


def test_write_atomic_into_missing_directory_raises_oserror(tmp_path: Path):
    with pytest.raises(FileNotFoundError):
        atomic.write_atomic(tmp_path / "no" / "such" / "file", b"x")
