"""The OS keychain for the UI, which may not import `store`: get one, or hear why not.

"Unlock with this computer" keeps a device secret in the operating system's
keychain (`store.keychain.OsKeychain`: Windows Credential Manager, macOS
Keychain, Secret Service; never a plaintext file). The UI asks here whether
one is usable and passes it to `services.auth` (remember, forget, log in with
it); tests hand the UI any other `Keychain` (an in-memory one) instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from erp_desktop.services import auth
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo
from erp_desktop.store.keychain import Keychain, OsKeychain

__all__ = ["Keychain", "KeychainStatus", "forget", "is_remembered", "keychain_status",
           "log_in", "os_keychain", "remember"]


@dataclass(frozen=True)
class KeychainStatus:
    available: bool
    reason: str  # why not, in words for a person; "" when available


def os_keychain() -> Keychain:
    """The operating system's keychain (it may turn out to be unavailable)."""
    return OsKeychain()


def keychain_status(keychain: Keychain | None = None) -> KeychainStatus:
    chain = keychain if keychain is not None else os_keychain()
    if chain.available():
        return KeychainStatus(True, "")
    return KeychainStatus(False, chain.reason_unavailable())


def is_remembered(path: Path, login_name: str, config: AppConfig,
                  keychain: Keychain | None = None) -> bool:
    """Whether this computer can open `path` as `login_name` without a password."""
    chain = keychain if keychain is not None else os_keychain()
    return auth.remembered_login(Path(path), login_name, chain, config)


def remember(ctx: Context, keychain: Keychain | None = None) -> None:
    """Remember the logged-in user on this computer (audited by `auth`)."""
    auth.remember_on_this_computer(ctx, keychain if keychain is not None else os_keychain())


def forget(ctx: Context, keychain: Keychain | None = None) -> None:
    auth.forget_this_computer(ctx, keychain if keychain is not None else os_keychain())


def log_in(path: Path, login_name: str, *, config: AppConfig, device: DeviceInfo,
           keychain: Keychain | None = None) -> Context:
    """Log in with the secret this computer keeps for `login_name`."""
    chain = keychain if keychain is not None else os_keychain()
    return auth.login_with_keychain(Path(path), login_name, chain, config=config,
                                    device=device)
