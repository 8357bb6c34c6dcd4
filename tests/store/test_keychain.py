"""OS keychain adapter: which backends are accepted, and "unlock with this computer"."""

from __future__ import annotations

from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

from erp_desktop.domain.errors import UserError, WrongPassword
from erp_desktop.store.keychain import (
    SERVICE_NAME,
    UNAVAILABLE_MESSAGE,
    Keychain,
    KeychainUnavailable,
    OsKeychain,
    is_acceptable_backend,
)
from erp_desktop.store.keyfile import FAST_TEST_KDF, KeyFile, generate_device_secret


class MemoryKeyring(KeyringBackend):
    """An in-memory stand-in for a real OS keychain."""

    priority = 1
    # keyring registers every KeyringBackend subclass for auto-detection; not
    # viable keeps these test classes out of the process's default backend.
    viable = False

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


class LockedKeyring(MemoryKeyring):
    """A keychain that refuses every request (a locked login keychain)."""

    def get_password(self, service, username):
        raise KeyringLocked("locked")

    def set_password(self, service, username, password):
        raise KeyringLocked("locked")


class ZeroPriorityKeyring(MemoryKeyring):
    priority = 0


class AltFileKeyring(MemoryKeyring):
    """Pretends to be keyrings.alt's plaintext file backend."""


AltFileKeyring.__module__ = "keyrings.alt.file"


class SubclassOfAltKeyring(AltFileKeyring):
    """Defined here, but still a file backend underneath."""


class FakeChainer(ChainerBackend):
    """A chainer over a fixed list of children (instead of discovering installed ones)."""

    viable = False  # see MemoryKeyring
    priority = 0  # a fixed value: the real one inspects the installed backends
    children: tuple[KeyringBackend, ...] = ()

    @property
    def backends(self):
        return list(self.children)


@pytest.fixture
def use_backend():
    """Install a keyring backend for one test and put the previous one back."""
    previous = keyring.get_keyring()

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


@pytest.fixture
def memory(use_backend) -> MemoryKeyring:
    return use_backend(MemoryKeyring())


def chainer_of(*children: KeyringBackend) -> FakeChainer:
    chainer = FakeChainer()
    chainer.children = children
    return chainer


# -------------------------------------------------------------- acceptance


def test_memory_backend_is_accepted(memory):
    chain = OsKeychain()
    assert isinstance(chain, Keychain)
    assert chain.available()
    assert chain.reason_unavailable() == ""


@pytest.mark.parametrize(
    "backend",
    [
        keyring.backends.fail.Keyring(),
        keyring.backends.null.Keyring(),
        AltFileKeyring(),
        SubclassOfAltKeyring(),
        ZeroPriorityKeyring(),
    ],
    ids=["fail", "null", "keyrings.alt", "keyrings.alt-subclass", "priority-0"],
)
def test_unsuitable_backends_are_refused(use_backend, backend):
    use_backend(backend)
    chain = OsKeychain()
    assert not is_acceptable_backend(backend)
    assert not chain.available()
    assert chain.reason_unavailable() == UNAVAILABLE_MESSAGE
    with pytest.raises(KeychainUnavailable) as err:
        chain.get("x")
    assert str(err.value) == UNAVAILABLE_MESSAGE
    with pytest.raises(KeychainUnavailable):
        chain.set("x", b"secret")
    chain.delete("x")  # nothing to forget: not an error
    if isinstance(backend, MemoryKeyring):
        assert backend.store == {}  # and nothing was written through it


def test_alt_module_name_is_what_is_refused():
    assert AltFileKeyring.__module__ == "keyrings.alt.file"
    assert is_acceptable_backend(MemoryKeyring())
    assert not is_acceptable_backend(AltFileKeyring())


def test_chainer_without_acceptable_child_is_refused(use_backend):
    use_backend(chainer_of(AltFileKeyring(), keyring.backends.null.Keyring()))
    assert not OsKeychain().available()


def test_empty_chainer_is_refused(use_backend):
    use_backend(chainer_of())
    assert not OsKeychain().available()


def test_chainer_uses_its_acceptable_child_only(use_backend):
    plaintext = AltFileKeyring()
    plaintext.priority = 5  # even when it ranks higher
    real = MemoryKeyring()
    use_backend(chainer_of(plaintext, real))
    chain = OsKeychain()
    assert chain.available()
    chain.set("device", b"\x01\x02")
    assert plaintext.store == {}
    assert list(real.store) == [(SERVICE_NAME, "device")]
    plaintext.store[(SERVICE_NAME, "other")] = "AQI="
    assert chain.get("other") is None  # never read from the file backend either


# -------------------------------------------------------------- operations


def test_set_get_delete(memory):
    chain = OsKeychain()
    assert chain.get("device") is None
    chain.set("device", b"\x00\xffsecret")
    assert chain.get("device") == b"\x00\xffsecret"
    # Stored under our service name, base64 so text-only backends can hold it.
    assert memory.store[(SERVICE_NAME, "device")] != "\x00\xffsecret"
    chain.set("device", b"new")
    assert chain.get("device") == b"new"
    chain.delete("device")
    assert chain.get("device") is None
    chain.delete("device")  # deleting twice is fine


def test_entry_not_written_by_us_reads_as_absent(memory):
    memory.store[(SERVICE_NAME, "device")] = "not base64!"
    assert OsKeychain().get("device") is None


def test_keyring_errors_become_plain_user_errors(use_backend):
    use_backend(LockedKeyring())
    chain = OsKeychain()
    assert chain.available()
    with pytest.raises(KeychainUnavailable) as err:
        chain.get("device")
    assert isinstance(err.value, UserError)
    assert "log in with your password" in str(err.value)
    assert "KeyringLocked" not in str(err.value)
    with pytest.raises(KeychainUnavailable):
        chain.set("device", b"x")


def test_fixture_restores_the_previous_backend(use_backend):
    before = keyring.get_keyring()
    use_backend(MemoryKeyring())
    assert keyring.get_keyring() is not before


# -------------------------------------------------- unlock with this computer


def test_device_unlock_end_to_end(memory, tmp_path: Path):
    key_path = tmp_path / "company.erp.key"
    chain = OsKeychain()

    # Setting it up, in a session that already holds the database key.
    keyfile, db_key, _ = KeyFile.create(key_path, FAST_TEST_KDF)
    keyfile.add_user_slot("anna", "anna's password", db_key)
    secret = generate_device_secret()
    chain.set(keyfile.keychain_entry_name, secret)
    keyfile.add_device_slot("front-desk", secret, db_key)
    keyfile.save()
    assert secret not in key_path.read_bytes()

    # Next start: no password typed.
    loaded = KeyFile.load(key_path, FAST_TEST_KDF)
    stored = chain.get(loaded.keychain_entry_name)
    assert stored is not None
    assert loaded.unlock_with_device("front-desk", stored) == db_key

    # "Forget this computer": slot and secret both go.
    loaded.remove_device_slot("front-desk")
    chain.delete(loaded.keychain_entry_name)
    loaded.save()
    again = KeyFile.load(key_path, FAST_TEST_KDF)
    assert chain.get(again.keychain_entry_name) is None
    assert not again.has_device_slot("front-desk")
    with pytest.raises(WrongPassword):
        again.unlock_with_device("front-desk", secret)
