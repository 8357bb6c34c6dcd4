"""The OS keychain, for "unlock with this computer".

This module owns the one place where the app keeps a secret outside the company
file: the random device secret of a key file's "device" slot (see `keyfile`). It
goes only into a real OS keychain (Windows Credential Manager, macOS Keychain,
Secret Service, KWallet) through `keyring`. Plaintext or home-made encrypted-file
backends are refused: a secret that unlocks the company file must never lie on
disk beside it. Where no acceptable keychain exists the feature is simply not
offered and people log in with their password.
"""

from __future__ import annotations

import base64
import binascii
from typing import Protocol, runtime_checkable

import keyring
import keyring.backends.fail
import keyring.backends.null
from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend
from keyring.errors import PasswordDeleteError

from erp_desktop.domain.errors import UserError

__all__ = [
    "SERVICE_NAME",
    "UNAVAILABLE_MESSAGE",
    "Keychain",
    "KeychainUnavailable",
    "OsKeychain",
    "is_acceptable_backend",
]

SERVICE_NAME = "erp_desktop"

UNAVAILABLE_MESSAGE = (
    "This computer has no system keychain the app can use, so it cannot remember "
    "the company file; log in with your password."
)
_FAILED_MESSAGE = (
    "The system keychain did not answer (it may be locked or refused access), so "
    "the app cannot use it now; log in with your password."
)

# Packages whose backends keep secrets in ordinary files (plaintext or encrypted
# with a password the app would have to store somewhere): never acceptable.
_REFUSED_MODULE_PREFIXES = ("keyrings.alt", "keyrings.cryptfile")


class KeychainUnavailable(UserError):
    """No usable OS keychain, or it refused the request."""


@runtime_checkable
class Keychain(Protocol):
    """Where device secrets are kept (the OS keychain; a dict in tests)."""

    def get(self, name: str) -> bytes | None: ...

    def set(self, name: str, secret: bytes) -> None: ...

    def delete(self, name: str) -> None: ...

    def available(self) -> bool: ...

    def reason_unavailable(self) -> str: ...


def is_acceptable_backend(backend: KeyringBackend) -> bool:
    """Whether `backend` itself (not a chainer) is a real OS keychain we may use."""
    if isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring):
        return False
    if isinstance(backend, ChainerBackend):
        return False
    # Check the whole class hierarchy: a subclass of a file backend is still a file.
    for cls in type(backend).__mro__:
        module = getattr(cls, "__module__", "") or ""
        if any(module == p or module.startswith(p + ".") for p in _REFUSED_MODULE_PREFIXES):
            return False
    try:
        priority = float(backend.priority)
    except Exception:  # a backend that cannot say is not viable
        return False
    return priority > 0


def _choose_backend(backend: KeyringBackend) -> KeyringBackend | None:
    """The backend to talk to, or None when there is no acceptable one.

    A chainer is unwrapped to its best acceptable child and that child is used
    directly: the chainer would also read from, or fall through to, any
    file-based backend it chains.
    """
    if isinstance(backend, ChainerBackend):
        try:
            children = list(backend.backends)
        except Exception:  # discovery failing means there is nothing to use
            return None
        acceptable = [b for b in children if is_acceptable_backend(b)]
        if not acceptable:
            return None
        return max(acceptable, key=lambda b: float(b.priority))
    return backend if is_acceptable_backend(backend) else None


class OsKeychain:
    """`Keychain` over the `keyring` package's current backend."""

    def __init__(self, service: str = SERVICE_NAME) -> None:
        self._service = service

    def __repr__(self) -> str:
        return f"OsKeychain(service={self._service!r})"

    def _backend(self) -> KeyringBackend | None:
        # Looked up on every call (cheap): the backend can be changed at run time
        # by keyring.set_keyring, and we must judge the one actually in use.
        return _choose_backend(keyring.get_keyring())

    def _require_backend(self) -> KeyringBackend:
        backend = self._backend()
        if backend is None:
            raise KeychainUnavailable(UNAVAILABLE_MESSAGE)
        return backend

    def available(self) -> bool:
        return self._backend() is not None

    def reason_unavailable(self) -> str:
        """Why the keychain cannot be used, or "" when it can."""
        return "" if self.available() else UNAVAILABLE_MESSAGE

    def get(self, name: str) -> bytes | None:
        """The secret stored under `name`, or None if there is none."""
        backend = self._require_backend()
        try:
            stored = backend.get_password(self._service, name)
        except Exception as exc:
            # keyring.errors.KeyringError and the backends' own errors (D-Bus,
            # Win32, Security framework) all mean the same to the user.
            raise KeychainUnavailable(_FAILED_MESSAGE) from exc
        if stored is None:
            return None
        try:
            return base64.b64decode(stored.encode("ascii"), validate=True)
        except (UnicodeEncodeError, binascii.Error):
            # Not something we wrote: treat as absent; the password still works.
            return None

    def set(self, name: str, secret: bytes) -> None:
        """Store `secret` under `name`, replacing any previous one."""
        backend = self._require_backend()
        # Base64 because some backends only hold text.
        encoded = base64.b64encode(secret).decode("ascii")
        try:
            backend.set_password(self._service, name, encoded)
        except Exception as exc:
            raise KeychainUnavailable(_FAILED_MESSAGE) from exc

    def delete(self, name: str) -> None:
        """Forget the secret under `name`; nothing happens if there is none."""
        backend = self._backend()
        if backend is None:
            return  # nothing can have been stored without a keychain
        try:
            backend.delete_password(self._service, name)
        except PasswordDeleteError:
            return  # already gone
        except Exception as exc:
            raise KeychainUnavailable(_FAILED_MESSAGE) from exc
