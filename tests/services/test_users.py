"""Users: every change is a key-slot change too, and every refusal leaves nothing behind."""

from __future__ import annotations

import json
import uuid

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError
from sqlalchemy import select

from erp_desktop.domain.errors import (
    AccountDisabled,
    Conflict,
    KeyFileError,
    LoginLocked,
    NotFound,
    PermissionDenied,
    ValidationError,
    WrongPassword,
)
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.security import User
from erp_desktop.services import auth, users
from erp_desktop.services.users import LAST_ADMIN_MESSAGE
from erp_desktop.store.keychain import OsKeychain
from erp_desktop.store.keyfile import KeyFile, key_file_path

ADMIN = "owner"
ADMIN_PASSWORD = "correct horse battery"
RAVI_PASSWORD = "mango season 2026"


@pytest.fixture
def login_as(company_path, config, device, clock):
    opened = []

    def do(login_name: str, password: str):
        ctx = auth.login(company_path, login_name, password, config=config, device=device,
                         clock=clock)
        opened.append(ctx)
        return ctx

    yield do
    for ctx in opened:
        ctx.close()


@pytest.fixture
def ravi(admin_ctx):
    return users.add_user(admin_ctx, "ravi", "Ravi Kumar", RAVI_PASSWORD, "sales_clerk",
                          email="ravi@example.com", job_title="Counter")


def disk_keyfile(ctx) -> KeyFile:
    return KeyFile.load(key_file_path(ctx.path), kdf=ctx.config.kdf)


def events(ctx, action: str) -> list[AuditEvent]:
    with ctx.db.read() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action)
                              .order_by(AuditEvent.seq)))


def user_count(ctx) -> int:
    with ctx.db.read() as s:
        return len(s.scalars(select(User)).all())


@pytest.fixture
def key_file_cannot_be_saved(monkeypatch):
    def refuse(self) -> None:
        raise KeyFileError("The key file could not be saved (disk full). Nothing was changed.")

    monkeypatch.setattr(KeyFile, "save", refuse)


# ------------------------------------------------------------------- listing


def test_list_and_get_users(admin_ctx, ravi):
    rows = users.list_users(admin_ctx)
    assert [r.login_name for r in rows] == ["owner", "ravi"]
    owner = rows[0]
    assert owner.role_name == "admin" and owner.role_label == "Owner / admin"
    assert owner.last_login_at is not None  # the fixture logged in
    got = users.get_user(admin_ctx, ravi.id)
    assert got == ravi
    assert (got.full_name, got.email, got.job_title, got.active) == (
        "Ravi Kumar", "ravi@example.com", "Counter", True)
    assert got.role_name == "sales_clerk" and got.version == 1


def test_get_unknown_user_is_not_found(admin_ctx):
    with pytest.raises(NotFound):
        users.get_user(admin_ctx, uuid.uuid4())


def test_list_can_leave_out_disabled_users(admin_ctx, ravi):
    users.disable_user(admin_ctx, ravi.id)
    assert [r.login_name for r in users.list_users(admin_ctx)] == ["owner", "ravi"]
    assert [r.login_name for r in users.list_users(admin_ctx, include_inactive=False)] == [
        "owner"]


# ------------------------------------------------------------------- add_user


def test_new_user_can_log_in_with_their_password(admin_ctx, ravi, login_as):
    assert disk_keyfile(admin_ctx).has_user("ravi")
    ctx = login_as("Ravi", RAVI_PASSWORD)  # login names are not case-sensitive
    assert ctx.actor.user_id == ravi.id
    assert ctx.actor.role_name == "sales_clerk"
    assert ctx.actor.can("sales.invoice.issue") and not ctx.actor.can("users.manage")


def test_add_user_is_audited_without_personal_data(admin_ctx, ravi):
    (ev,) = events(admin_ctx, "user.added")
    assert ev.entity_id == str(ravi.id) and ev.actor_name == "owner"
    assert json.loads(ev.details) == {"role": "sales_clerk"}
    assert "Ravi" not in ev.details and "example.com" not in ev.details


def test_login_names_are_unique_whatever_the_case(admin_ctx, ravi):
    with pytest.raises(ValidationError) as err:
        users.add_user(admin_ctx, " RAVI ", "Another Ravi", "another good secret", "employee")
    assert str(err.value) == "There is already a user 'ravi'."
    assert err.value.field == "login_name"
    assert user_count(admin_ctx) == 2


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"login_name": "ravi kumar"}, "login_name"),
    ({"login_name": ""}, "login_name"),
    ({"login_name": "x" * 65}, "login_name"),
    ({"full_name": "  "}, "full_name"),
    ({"password": "short"}, "password"),
    ({"password": "ravi-is-my-name"}, "password"),  # contains the login name
    ({"role_name": "emperor"}, "role_name"),
    ({"email": "not an address"}, "email"),
])
def test_add_user_refuses_bad_input_and_writes_nothing(admin_ctx, kwargs, field):
    args = {"login_name": "ravi", "full_name": "Ravi Kumar", "password": RAVI_PASSWORD,
            "role_name": "sales_clerk"} | kwargs
    with pytest.raises(ValidationError) as err:
        users.add_user(admin_ctx, args.pop("login_name"), args.pop("full_name"),
                       args.pop("password"), args.pop("role_name"), **args)
    assert err.value.field == field
    assert user_count(admin_ctx) == 1
    assert disk_keyfile(admin_ctx).user_slot_count() == 1
    assert events(admin_ctx, "user.added") == []


def test_when_the_key_file_cannot_be_saved_no_user_is_added(admin_ctx,
                                                           key_file_cannot_be_saved):
    with pytest.raises(KeyFileError):
        users.add_user(admin_ctx, "ravi", "Ravi Kumar", RAVI_PASSWORD, "sales_clerk")
    assert user_count(admin_ctx) == 1
    assert events(admin_ctx, "user.added") == []
    assert not admin_ctx.vault.keyfile.has_user("ravi")  # not even in memory


def test_a_user_without_users_manage_cannot_add_users(admin_ctx, ravi, login_as):
    clerk = login_as("ravi", RAVI_PASSWORD)
    with pytest.raises(PermissionDenied):
        users.add_user(clerk, "mallory", "Mallory", "a sneaky password 1", "admin")
    assert user_count(admin_ctx) == 2


# --------------------------------------------------------------- passwords


def test_change_own_password(admin_ctx, ravi, login_as):
    clerk = login_as("ravi", RAVI_PASSWORD)
    users.change_own_password(clerk, RAVI_PASSWORD, "monsoon rains 2027")
    with pytest.raises(WrongPassword):
        login_as("ravi", RAVI_PASSWORD)
    assert login_as("ravi", "monsoon rains 2027").actor.user_id == ravi.id
    (ev,) = events(admin_ctx, "user.password_changed")
    assert ev.entity_id == str(ravi.id) and json.loads(ev.details) == {}
    assert "monsoon" not in disk_keyfile(admin_ctx).to_bytes().decode()


def test_change_own_password_needs_the_current_one(admin_ctx, ravi, login_as):
    clerk = login_as("ravi", RAVI_PASSWORD)
    with pytest.raises(WrongPassword) as err:
        users.change_own_password(clerk, "a wrong guess 123", "monsoon rains 2027")
    assert err.value.field == "old_password"
    assert len(events(admin_ctx, "user.password_change_refused")) == 1
    assert login_as("ravi", RAVI_PASSWORD).actor.user_id == ravi.id  # unchanged


@pytest.mark.parametrize("new", ["short", RAVI_PASSWORD])
def test_change_own_password_keeps_the_rules(admin_ctx, ravi, login_as, new):
    clerk = login_as("ravi", RAVI_PASSWORD)
    with pytest.raises(ValidationError) as err:
        users.change_own_password(clerk, RAVI_PASSWORD, new)
    assert err.value.field == "password"
    assert login_as("ravi", RAVI_PASSWORD).actor.user_id == ravi.id


def test_after_a_reset_the_old_password_fails(admin_ctx, ravi, login_as):
    admin_ctx.clock.advance(days=1)  # password_changed_at moves, so the row changes
    row = users.reset_password(admin_ctx, ravi.id, "fresh start 2027")
    assert row.version == ravi.version + 1
    with pytest.raises(WrongPassword):
        login_as("ravi", RAVI_PASSWORD)
    assert login_as("ravi", "fresh start 2027").actor.user_id == ravi.id
    assert [e.entity_id for e in events(admin_ctx, "user.password_reset")] == [str(ravi.id)]


def test_reset_password_ends_a_lock_out(admin_ctx, ravi, login_as):
    for _ in range(10):
        with pytest.raises((WrongPassword, LoginLocked)):
            login_as("ravi", "not the password 1")
        admin_ctx.clock.advance(seconds=61)
    with pytest.raises(LoginLocked):
        login_as("ravi", RAVI_PASSWORD)
    users.reset_password(admin_ctx, ravi.id, "fresh start 2027")
    assert login_as("ravi", "fresh start 2027").actor.user_id == ravi.id


def test_reset_password_refuses_weak_passwords_and_disabled_users(admin_ctx, ravi, login_as):
    with pytest.raises(ValidationError) as err:
        users.reset_password(admin_ctx, ravi.id, "1234567890")
    assert err.value.field == "password"
    users.disable_user(admin_ctx, ravi.id)
    with pytest.raises(ValidationError, match="disabled"):
        users.reset_password(admin_ctx, ravi.id, "fresh start 2027")
    assert not disk_keyfile(admin_ctx).has_user("ravi")  # no slot came back


def test_reset_password_keeps_the_user_when_the_key_file_cannot_be_saved(
        admin_ctx, ravi, login_as, monkeypatch):
    monkeypatch.setattr(KeyFile, "save", lambda self: (_ for _ in ()).throw(
        KeyFileError("cannot save")))
    with pytest.raises(KeyFileError):
        users.reset_password(admin_ctx, ravi.id, "fresh start 2027")
    monkeypatch.undo()
    assert events(admin_ctx, "user.password_reset") == []
    assert users.get_user(admin_ctx, ravi.id).version == ravi.version
    assert login_as("ravi", RAVI_PASSWORD).actor.user_id == ravi.id


# -------------------------------------------------------------- update_user


def test_update_user_changes_details_and_bumps_the_version(admin_ctx, ravi):
    row = users.update_user(admin_ctx, ravi.id, ravi.version, full_name="Ravi K. Kumar",
                            phone="+91 98450 00000", department="  ")
    assert (row.full_name, row.phone, row.department) == ("Ravi K. Kumar", "+91 98450 00000",
                                                          None)
    assert row.version == ravi.version + 1
    (ev,) = events(admin_ctx, "user.updated")
    assert json.loads(ev.details) == {"fields": ["full_name", "phone"]}


def test_update_user_with_a_stale_version_is_a_conflict(admin_ctx, ravi):
    users.update_user(admin_ctx, ravi.id, ravi.version, job_title="Cashier")
    with pytest.raises(Conflict) as err:
        users.update_user(admin_ctx, ravi.id, ravi.version, job_title="Manager")
    assert str(err.value) == ("User 'ravi' was changed by someone else since you opened it. "
                              "Reload and try again.")
    assert users.get_user(admin_ctx, ravi.id).job_title == "Cashier"


@pytest.mark.parametrize(("fields", "field"), [
    ({"login_name": "ravi2"}, "login_name"),
    ({"active": False}, "active"),
    ({"full_name": ""}, "full_name"),
    ({"email": "ravi@"}, "email"),
    ({"phone": "9" * 41}, "phone"),
])
def test_update_user_refuses_bad_fields(admin_ctx, ravi, fields, field):
    with pytest.raises(ValidationError) as err:
        users.update_user(admin_ctx, ravi.id, ravi.version, **fields)
    assert err.value.field == field
    assert users.get_user(admin_ctx, ravi.id) == ravi


# ----------------------------------------------------------------- set_role


def test_role_change_takes_effect_at_the_next_login(admin_ctx, ravi, login_as):
    before = login_as("ravi", RAVI_PASSWORD)
    row = users.set_role(admin_ctx, ravi.id, "accountant")
    assert row.role_name == "accountant"
    assert not before.actor.can("ledger.post")  # the open session keeps its permissions
    after = login_as("ravi", RAVI_PASSWORD)
    assert after.actor.role_name == "accountant" and after.actor.can("ledger.post")
    (ev,) = events(admin_ctx, "user.role_changed")
    assert json.loads(ev.details) == {"from": "sales_clerk", "to": "accountant"}


def test_set_role_to_the_same_role_changes_nothing(admin_ctx, ravi):
    assert users.set_role(admin_ctx, ravi.id, "sales_clerk") == ravi
    assert events(admin_ctx, "user.role_changed") == []


def test_set_role_refuses_unknown_roles(admin_ctx, ravi):
    with pytest.raises(ValidationError) as err:
        users.set_role(admin_ctx, ravi.id, "emperor")
    assert err.value.field == "role_name"


def test_the_last_admin_keeps_the_admin_role(admin_ctx, ravi):
    with pytest.raises(ValidationError) as err:
        users.set_role(admin_ctx, admin_ctx.actor.user_id, "accountant")
    assert str(err.value) == LAST_ADMIN_MESSAGE
    users.set_role(admin_ctx, ravi.id, "admin")
    assert users.set_role(admin_ctx, admin_ctx.actor.user_id, "accountant").role_name == \
        "accountant"


# ------------------------------------------------------- disable and enable


def test_a_disabled_user_cannot_log_in_and_re_enabling_works(admin_ctx, ravi, login_as):
    row = users.disable_user(admin_ctx, ravi.id)
    assert row.active is False
    kf = disk_keyfile(admin_ctx)
    assert not kf.has_user("ravi") and kf.has_user("owner")
    # No slot: the password no longer decrypts anything.
    with pytest.raises(WrongPassword):
        login_as("ravi", RAVI_PASSWORD)
    assert [e.entity_id for e in events(admin_ctx, "user.disabled")] == [str(ravi.id)]
    # Disabling twice is harmless.
    assert users.disable_user(admin_ctx, ravi.id).active is False
    assert len(events(admin_ctx, "user.disabled")) == 1

    enabled = users.enable_user(admin_ctx, ravi.id, "back again 2027")
    assert enabled.active is True
    assert login_as("ravi", "back again 2027").actor.user_id == ravi.id
    with pytest.raises(WrongPassword):
        login_as("ravi", RAVI_PASSWORD)
    assert len(events(admin_ctx, "user.enabled")) == 1


class MemoryKeyring(KeyringBackend):
    priority = 1
    viable = False  # never picked by keyring's own discovery

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


def test_disabling_also_removes_remember_this_computer(admin_ctx, ravi, login_as, config,
                                                       device, clock):
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        chain = OsKeychain()
        auth.remember_on_this_computer(login_as("ravi", RAVI_PASSWORD), chain)
        assert disk_keyfile(admin_ctx).has_device_slot("ravi")
        users.disable_user(admin_ctx, ravi.id)
        assert not disk_keyfile(admin_ctx).has_device_slot("ravi")
        with pytest.raises(WrongPassword):
            auth.login_with_keychain(admin_ctx.path, "ravi", chain, config=config,
                                     device=device, clock=clock)
    finally:
        keyring.set_keyring(previous)


def test_nobody_disables_themselves(admin_ctx):
    with pytest.raises(ValidationError, match="your own login"):
        users.disable_user(admin_ctx, admin_ctx.actor.user_id)
    assert disk_keyfile(admin_ctx).has_user("owner")


def test_the_last_active_admin_cannot_be_disabled(admin_ctx, login_as):
    boss = users.add_user(admin_ctx, "boss", "Bina Boss", "big chief secret 99", "admin")
    # Boss demotes the owner; the owner's open session still holds users.manage
    # (permissions are read at login) and tries to disable the only admin left.
    boss_ctx = login_as("boss", "big chief secret 99")
    users.set_role(boss_ctx, admin_ctx.actor.user_id, "accountant")
    with pytest.raises(ValidationError) as err:
        users.disable_user(admin_ctx, boss.id)
    assert str(err.value) == LAST_ADMIN_MESSAGE
    assert users.get_user(boss_ctx, boss.id).active
    assert disk_keyfile(admin_ctx).has_user("boss")


def test_disable_keeps_the_user_active_when_the_key_file_cannot_be_saved(
        admin_ctx, ravi, key_file_cannot_be_saved):
    with pytest.raises(KeyFileError):
        users.disable_user(admin_ctx, ravi.id)
    assert users.get_user(admin_ctx, ravi.id).active
    assert events(admin_ctx, "user.disabled") == []


def test_enable_user_refuses_active_users_and_weak_passwords(admin_ctx, ravi):
    with pytest.raises(ValidationError, match="already active"):
        users.enable_user(admin_ctx, ravi.id, "back again 2027")
    users.disable_user(admin_ctx, ravi.id)
    with pytest.raises(ValidationError) as err:
        users.enable_user(admin_ctx, ravi.id, "qwertyuiop")
    assert err.value.field == "password"
    assert not users.get_user(admin_ctx, ravi.id).active
    assert not disk_keyfile(admin_ctx).has_user("ravi")


def test_a_user_disabled_elsewhere_is_refused_even_with_a_slot(admin_ctx, ravi, login_as):
    # E.g. disabled on another desktop and synced here: the slot still exists locally.
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.get(User, ravi.id).active = False
    with pytest.raises(AccountDisabled):
        login_as("ravi", RAVI_PASSWORD)
