"""Logging in is unlocking: throttling, lock-out, audit of every attempt, recovery, keychain."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3

import keyring
import keyring.backends.fail
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from sqlalchemy import select

from erp_desktop.domain.errors import (
    AccountDisabled,
    KeyFileError,
    LoginLocked,
    NotACompanyFile,
    StoreError,
    UserError,
    ValidationError,
    WrongPassword,
)
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.security import LoginEvent, User
from erp_desktop.services import audit, auth, users
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.engine import connect_raw
from erp_desktop.store.keychain import UNAVAILABLE_MESSAGE, OsKeychain
from erp_desktop.store.keyfile import KeyFile, key_file_path

ADMIN = "owner"
ADMIN_PASSWORD = "correct horse battery"
RAVI_PASSWORD = "mango season 2026"
WRONG = "not my password 1"


@pytest.fixture
def login_as(company_path, config, device, clock):
    opened = []

    def do(login_name: str, password: str, path=None):
        ctx = auth.login(path or company_path, login_name, password, config=config,
                         device=device, clock=clock)
        opened.append(ctx)
        return ctx

    yield do
    for ctx in opened:
        ctx.close()


def fail(login_as, login_name: str = ADMIN, password: str = WRONG) -> None:
    with pytest.raises(WrongPassword):
        login_as(login_name, password)


def audit_actions(ctx) -> list[str]:
    with ctx.db.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def login_events(ctx) -> list[LoginEvent]:
    with ctx.db.read() as s:
        return list(s.scalars(select(LoginEvent).order_by(LoginEvent.at, LoginEvent.id)))


def on_disk(path) -> KeyFile:
    return KeyFile.load(key_file_path(path))


def database_contains(path, key: bytes, needle: str) -> list[str]:
    """Every table.column of the decrypted database whose value contains `needle`."""
    con = connect_raw(path, key)
    hits = []
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            cur = con.execute(f'SELECT * FROM "{table}"')
            cols = [d[0] for d in cur.description]
            for row in cur:
                for col, value in zip(cols, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str) and needle.casefold() in value.casefold():
                        hits.append(f"{table}.{col}")
    finally:
        con.close()
    return hits


# ----------------------------------------------------------------- logging in


def test_login_gives_a_context_and_records_the_device(login_as, device, clock):
    ctx = login_as("Owner ", ADMIN_PASSWORD)
    assert ctx.actor.login_name == ADMIN and ctx.actor.role_name == "admin"
    assert ctx.actor.can("users.manage")
    assert ctx.device.code == "A"
    (ev,) = login_events(ctx)
    assert ev.success and ev.login_name == ADMIN and ev.reason == "password"
    assert (ev.host, ev.os, ev.app_version) == (device.host, device.os, device.app_version)
    assert ev.at == clock()
    assert audit_actions(ctx)[-1] == "login.succeeded"
    last = audit.list_events(ctx)[-1]
    assert last.actor_id == ctx.actor.user_id and last.device_code == "A"
    assert last.details == {"method": "password", "host": "till-1"}
    with ctx.db.read() as s:
        assert s.get(User, ctx.actor.user_id).last_login_at == clock()


def test_wrong_password_and_unknown_login_look_the_same(login_as):
    with pytest.raises(WrongPassword) as wrong:
        login_as(ADMIN, WRONG)
    with pytest.raises(WrongPassword) as unknown:
        login_as("nobody", WRONG)
    assert str(wrong.value) == str(unknown.value) == "Wrong login name or password."


@pytest.mark.parametrize(("login_name", "password", "field"), [
    ("  ", ADMIN_PASSWORD, "login_name"), (ADMIN, "", "password")])
def test_empty_fields_are_refused_before_anything_is_tried(login_as, company_path, login_name,
                                                          password, field):
    before = key_file_path(company_path).read_bytes()
    with pytest.raises(ValidationError) as err:
        login_as(login_name, password)
    assert err.value.field == field
    assert key_file_path(company_path).read_bytes() == before  # not even counted


def test_logout_is_audited(login_as):
    ctx = login_as(ADMIN, ADMIN_PASSWORD)
    auth.logout(ctx)
    again = login_as(ADMIN, ADMIN_PASSWORD)
    assert audit_actions(again)[-3:] == ["login.succeeded", "logout", "login.succeeded"]


# ------------------------------------------------------------------ throttling


def test_after_five_failures_the_next_attempt_must_wait(login_as, company_path, clock):
    for _ in range(5):
        fail(login_as)
    with pytest.raises(LoginLocked) as err:
        login_as(ADMIN, ADMIN_PASSWORD)  # even the right password waits
    assert err.value.retry_after_seconds == 1
    assert "Try again in 1 second" in str(err.value)
    clock.advance(seconds=1)
    assert login_as(ADMIN, ADMIN_PASSWORD).actor.login_name == ADMIN
    assert on_disk(company_path).failure_count(ADMIN) == 0  # success forgets the failures


def test_ten_failures_lock_the_login_for_fifteen_minutes(login_as, company_path, clock):
    for _ in range(10):
        try:
            fail(login_as)
        except LoginLocked as exc:  # pragma: no cover - waits are advanced below
            raise AssertionError("the clock was advanced past every wait") from exc
        clock.advance(seconds=20)  # longer than any wait before the lock
    with pytest.raises(LoginLocked) as err:
        login_as(ADMIN, ADMIN_PASSWORD)
    assert 14 * 60 <= err.value.retry_after_seconds <= 15 * 60
    assert "minutes" in str(err.value)
    clock.advance(minutes=14)
    with pytest.raises(LoginLocked):
        login_as(ADMIN, ADMIN_PASSWORD)
    clock.advance(minutes=1, seconds=1)
    assert login_as(ADMIN, ADMIN_PASSWORD).actor.login_name == ADMIN


def test_the_counters_survive_a_restart(login_as, company_path, clock):
    for _ in range(5):
        fail(login_as)
    # Each login call re-reads the key file from disk, exactly as after a restart.
    assert on_disk(company_path).failure_count(ADMIN) == 5
    with pytest.raises(LoginLocked):
        login_as(ADMIN, ADMIN_PASSWORD)
    # Another login name is not slowed down by the owner's failures.
    fail(login_as, "someone-else")
    assert on_disk(company_path).failure_count("someone-else") == 1


def test_failed_attempts_reach_the_database_at_the_next_login(login_as, company_path, device,
                                                            clock):
    typed_into_login_field = "Secret Mango 42"
    for _ in range(3):
        fail(login_as)
    fail(login_as, typed_into_login_field, ADMIN_PASSWORD)
    for _ in range(2):  # the 5th failure of owner, then an attempt refused while it waits
        fail(login_as)
    with pytest.raises(LoginLocked):
        login_as(ADMIN, WRONG)
    assert on_disk(company_path).sealed_event_count() == 7
    clock.advance(seconds=5)
    ctx = login_as(ADMIN, ADMIN_PASSWORD)

    assert on_disk(company_path).sealed_event_count() == 0  # moved, not copied
    evs = login_events(ctx)
    assert [(e.login_name, e.success) for e in evs] == [
        (ADMIN, False)] * 3 + [("(unknown login)", False)] + [(ADMIN, False)] * 3 + [
        (ADMIN, True)]
    assert evs[-2].reason == "refused while locked"
    assert {(e.host, e.os, e.app_version) for e in evs} == {
        (device.host, device.os, device.app_version)}
    assert all(e.user_id == ctx.actor.user_id for e in evs if e.login_name == ADMIN)
    actions = audit_actions(ctx)
    assert actions[-8:] == ["login.failed"] * 6 + ["login.refused_locked", "login.succeeded"]
    assert audit.verify(ctx).ok

    # What was typed into the login field (often a password) is nowhere, nor the passwords.
    for secret in (typed_into_login_field, WRONG, ADMIN_PASSWORD):
        assert secret.encode() not in key_file_path(company_path).read_bytes()
        assert database_contains(company_path, ctx.vault.db_key, secret) == []
    # The database really is decrypted by that helper: it does find a known value.
    assert database_contains(company_path, ctx.vault.db_key, "Template Traders")


def test_failures_are_not_lost_when_an_open_session_changes_the_key_file(admin_ctx, login_as,
                                                                        company_path):
    # The admin's session loaded the key file at login; failures happen afterwards.
    for _ in range(3):
        fail(login_as)
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", RAVI_PASSWORD, "sales_clerk")
    kf = on_disk(company_path)
    assert kf.failure_count(ADMIN) == 3
    assert kf.sealed_event_count() == 3
    assert kf.has_user("ravi") and kf.has_user(ADMIN)


# ------------------------------------------------------------- disabled users


def test_a_disabled_user_is_refused_and_the_refusal_is_audited(admin_ctx, login_as):
    ravi = users.add_user(admin_ctx, "ravi", "Ravi Kumar", RAVI_PASSWORD, "sales_clerk")
    # Disabled in the database only (as a sync from another desktop would): the
    # password still opens the key file, the login is refused by the database.
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.get(User, ravi.id).active = False
    fail(login_as, "ravi", WRONG)
    with pytest.raises(AccountDisabled) as err:
        login_as("ravi", RAVI_PASSWORD)
    assert str(err.value) == "This login has been disabled. Ask an admin."
    assert audit_actions(admin_ctx)[-2:] == ["login.failed", "login.refused_disabled"]
    last = login_events(admin_ctx)[-1]
    assert (last.login_name, last.success, last.reason) == ("ravi", False, "disabled")
    assert on_disk(admin_ctx.path).sealed_event_count() == 0  # absorbed, and not twice
    assert audit.verify(admin_ctx).ok


# ------------------------------------------------------------------- recovery


def test_recovery_passphrase_resets_an_admins_password(login_as, company_path, config, device,
                                                       clock, recovery_passphrase):
    # Typed any old way: lower case, spaces instead of dashes.
    typed = recovery_passphrase.lower().replace("-", " ")
    ctx = auth.recover_admin(company_path, typed, ADMIN, "a brand new secret", config=config,
                             device=device, clock=clock)
    try:
        assert ctx.actor.login_name == ADMIN
        assert audit_actions(ctx)[-2:] == ["user.password_recovered", "login.succeeded"]
        assert login_events(ctx)[-1].reason == "recovery"
    finally:
        ctx.close()
    fail(login_as, ADMIN, ADMIN_PASSWORD)
    assert login_as(ADMIN, "a brand new secret").actor.login_name == ADMIN
    assert on_disk(company_path).has_recovery_slot()  # the passphrase keeps working


def test_recovery_refuses_a_non_admin(admin_ctx, company_path, config, device, clock,
                                      recovery_passphrase, login_as):
    users.add_user(admin_ctx, "ravi", "Ravi Kumar", RAVI_PASSWORD, "sales_clerk")
    with pytest.raises(UserError, match="only reset the password of an admin"):
        auth.recover_admin(company_path, recovery_passphrase, "ravi", "a brand new secret",
                           config=config, device=device, clock=clock)
    assert login_as("ravi", RAVI_PASSWORD).actor.login_name == "ravi"


def test_recovery_refuses_a_wrong_passphrase_and_a_weak_password(
        login_as, company_path, config, device, clock, recovery_passphrase):
    with pytest.raises(WrongPassword, match="recovery passphrase"):
        auth.recover_admin(company_path, "AAAAA-BBBBB", ADMIN, "a brand new secret",
                           config=config, device=device, clock=clock)
    with pytest.raises(ValidationError) as err:
        auth.recover_admin(company_path, recovery_passphrase, ADMIN, "short", config=config,
                           device=device, clock=clock)
    assert err.value.field == "password"
    assert login_as(ADMIN, ADMIN_PASSWORD).actor.login_name == ADMIN
    assert "login.failed" in audit_actions(login_as(ADMIN, ADMIN_PASSWORD))


# ----------------------------------------------------- remember this computer


class MemoryKeyring(KeyringBackend):
    """An in-memory stand-in for a real OS keychain."""

    priority = 1
    viable = False  # keep keyring's own discovery from ever choosing it

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        try:
            del self.store[(service, username)]
        except KeyError:
            raise PasswordDeleteError("not found") from None


@pytest.fixture
def use_backend():
    previous = keyring.get_keyring()

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


def test_remember_this_computer_then_log_in_without_a_password(admin_ctx, use_backend, config,
                                                             device, clock):
    memory = use_backend(MemoryKeyring())
    chain = OsKeychain()
    path = admin_ctx.path
    assert not auth.remembered_login(path, ADMIN, chain, config)
    auth.remember_on_this_computer(admin_ctx, chain)
    assert auth.remembered_login(path, "OWNER", chain, config)
    (stored,) = memory.store.values()
    assert base64.b64decode(stored) not in key_file_path(path).read_bytes()

    ctx = auth.login_with_keychain(path, ADMIN, chain, config=config, device=device,
                                   clock=clock)
    try:
        assert ctx.actor.user_id == admin_ctx.actor.user_id
        assert login_events(ctx)[-1].reason == "keychain"
        assert "login.remembered_on_device" in audit_actions(ctx)
        auth.forget_this_computer(ctx, chain)
    finally:
        ctx.close()
    assert memory.store == {}
    assert not auth.remembered_login(path, ADMIN, chain, config)
    with pytest.raises(WrongPassword, match="Use your password"):
        auth.login_with_keychain(path, ADMIN, chain, config=config, device=device, clock=clock)


def test_without_an_os_keychain_the_computer_is_not_remembered(admin_ctx, use_backend, config,
                                                               device, clock):
    use_backend(keyring.backends.fail.Keyring())
    chain = OsKeychain()
    with pytest.raises(UserError) as err:
        auth.remember_on_this_computer(admin_ctx, chain)
    assert str(err.value) == UNAVAILABLE_MESSAGE
    assert not on_disk(admin_ctx.path).has_device_slot(ADMIN)
    with pytest.raises(UserError):
        auth.login_with_keychain(admin_ctx.path, ADMIN, chain, config=config, device=device,
                                 clock=clock)


# ------------------------------------------------------ files that do not open


def test_a_missing_key_file_gives_a_plain_message(login_as, company_path):
    key_file_path(company_path).unlink()
    with pytest.raises(KeyFileError) as err:
        login_as(ADMIN, ADMIN_PASSWORD)
    assert "key file" in str(err.value) and "is missing" in str(err.value)
    assert "Restore it from a backup" in str(err.value)


def test_a_key_file_that_is_something_else_gives_a_plain_message(login_as, company_path):
    key_file_path(company_path).write_text("shopping list: rice, dal\n")
    with pytest.raises(KeyFileError, match="is not an erp_desktop key file"):
        login_as(ADMIN, ADMIN_PASSWORD)


def test_a_missing_company_file_gives_a_plain_message(login_as, tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        login_as(ADMIN, ADMIN_PASSWORD, path=tmp_path / "Nowhere.erp")


def test_a_plain_sqlite_file_is_not_a_company_file(login_as, tmp_path):
    path = tmp_path / "plain.erp"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(NotACompanyFile, match="unencrypted SQLite database"):
        login_as(ADMIN, ADMIN_PASSWORD, path=path)


@pytest.mark.parametrize("content", [b"", b"%PDF-1.7\n" + b"\x00" * 4096],
                         ids=["empty", "pdf"])
def test_a_file_of_another_type_is_not_a_company_file(login_as, company_path, tmp_path,
                                                      content):
    # The key file beside it is a real one (copied), so only the file itself is wrong.
    path = tmp_path / "other.erp"
    path.write_bytes(content)
    shutil.copyfile(key_file_path(company_path), key_file_path(path))
    with pytest.raises(NotACompanyFile) as err:
        login_as(ADMIN, ADMIN_PASSWORD, path=path)
    assert "not an erp_desktop company file" in str(err.value) or "too short" in str(err.value)
    assert path.read_bytes() == content  # left as it was


def test_a_folder_is_not_a_company_file(login_as, tmp_path):
    folder = tmp_path / "Books.erp"
    folder.mkdir()
    with pytest.raises(NotACompanyFile, match="is a folder"):
        login_as(ADMIN, ADMIN_PASSWORD, path=folder)


def test_sealed_events_hold_no_password(login_as, company_path):
    fail(login_as, ADMIN, "my very secret guess")
    raw = key_file_path(company_path).read_bytes()
    assert b"my very secret guess" not in raw
    data = json.loads(raw)
    assert len(data["sealed_events"]) == 1
    assert all(p.exists() for p in sidecar_paths(company_path)[:1])


def test_a_tampered_sealed_event_is_audited_as_unreadable(login_as, company_path):
    fail(login_as)
    path = key_file_path(company_path)
    data = json.loads(path.read_bytes())
    ct = data["sealed_events"][0]["ciphertext"]
    data["sealed_events"][0]["ciphertext"] = ("A" if ct[0] != "A" else "B") + ct[1:]
    path.write_text(json.dumps(data))
    ctx = login_as(ADMIN, ADMIN_PASSWORD)
    assert audit_actions(ctx)[-2:] == ["login.sealed_event_unreadable", "login.succeeded"]


def test_an_overflowing_event_queue_is_audited_and_does_not_block_login(login_as, company_path,
                                                                       monkeypatch, clock):
    import erp_desktop.store.keyfile as keyfile_module

    monkeypatch.setattr(keyfile_module, "MAX_SEALED_EVENTS", 2)
    for _ in range(4):
        fail(login_as, "nobody")
    ctx = login_as(ADMIN, ADMIN_PASSWORD)
    assert audit_actions(ctx)[-4:] == ["login.failed_events_dropped", "login.failed",
                                       "login.failed", "login.succeeded"]
    dropped = [e for e in audit.list_events(ctx) if e.action == "login.failed_events_dropped"]
    assert dropped[0].details == {"count": 2}
