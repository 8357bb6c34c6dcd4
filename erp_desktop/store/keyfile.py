"""The key file: who may unlock the company database, and how.

The company database (SQLCipher) is encrypted with a random 32-byte raw key that
nobody types. This module owns the small JSON file beside the database
(`<db>.key`) that keeps that key wrapped in *slots*, each the same key sealed with
AES-GCM under a key-encryption key (KEK):

- "user": KEK = argon2id(password); one slot per user, so logging in is unlocking;
- "recovery": KEK = argon2id(recovery passphrase), shown once when the company
  file is created;
- "device": KEK = HKDF-SHA256(random secret kept in the OS keychain), for
  "unlock with this computer".

It also owns what must be known *before* the database can be opened: the login
throttling counters, and failed-login audit events, sealed to a public key whose
private half lives inside the encrypted database (the app cannot write a failed
login into a database the failed password could not open).

Nothing here logs, prints or reprs key material. Python cannot wipe `bytes`
from memory, so secrets are simply kept in as few places and for as short a time
as the callers allow.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import os
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from erp_desktop.domain.errors import KeyFileError, LoginLocked, WrongPassword
from erp_desktop.store.atomic import write_atomic

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

# The cryptography and argon2 packages are imported where they are used, not
# here: this module is on the start-up path (settings, the login window) and
# importing them costs about 60 ms before the first window paints.

__all__ = [
    "DB_KEY_BYTES",
    "DEFAULT_KDF",
    "DEFAULT_THROTTLE",
    "DEVICE_SECRET_BYTES",
    "FAST_TEST_KDF",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_SEALED_EVENTS",
    "KdfParams",
    "KeyFile",
    "LoginThrottle",
    "NewKeyFile",
    "generate_device_secret",
    "generate_recovery_passphrase",
    "key_file_path",
    "normalise_login",
    "normalise_recovery_passphrase",
]

FORMAT = "erp_desktop.keyfile"
FORMAT_VERSION = 1
DB_KEY_BYTES = 32
DEVICE_SECRET_BYTES = 32
MAX_SEALED_EVENTS = 1000

_FILE_ID_BYTES = 16
_SALT_BYTES = 16
_NONCE_BYTES = 12  # AES-GCM's standard nonce; random is safe at a handful of seals per key
_KEK_BYTES = 32
# A key file is a few kilobytes (up to ~300 KB with a full event queue); refusing
# anything much larger keeps a wrong file chosen by mistake from eating memory.
_MAX_FILE_BYTES = 8 * 1024 * 1024

_KIND_USER = "user"
_KIND_RECOVERY = "recovery"
_KIND_DEVICE = "device"
_KINDS = frozenset({_KIND_USER, _KIND_RECOVERY, _KIND_DEVICE})

# Domain-separation strings: a value derived for one purpose can never be
# mistaken for one derived for another.
_AAD_PREFIX = b"erp_desktop.keyfile/v1/slot"
_DEVICE_HKDF_INFO = b"erp_desktop.keyfile/v1/device-kek"
_EVENT_HKDF_INFO = b"erp_desktop.keyfile/v1/sealed-event"
_KEY_CHECK_LABEL = b"erp_desktop.keyfile/v1/key-check"


# --------------------------------------------------------------------------- KDF


@dataclass(frozen=True)
class KdfParams:
    """argon2id cost parameters. Stored with every slot, so retuning the default
    later never stops old slots from opening."""

    time_cost: int
    memory_kib: int
    parallelism: int

    def __post_init__(self) -> None:
        # argon2 itself needs memory >= 8 KiB per lane; the upper bounds stop a
        # tampered key file from asking for 100 GB of memory or an hour of CPU.
        if not 1 <= self.parallelism <= 64:
            raise ValueError("argon2 parallelism must be between 1 and 64")
        if not 1 <= self.time_cost <= 64:
            raise ValueError("argon2 time cost must be between 1 and 64")
        if not 8 * self.parallelism <= self.memory_kib <= 4 * 1024 * 1024:
            raise ValueError("argon2 memory must be between 8*parallelism KiB and 4 GiB")

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        """A 32-byte key-encryption key from `secret` (argon2id)."""
        from argon2.low_level import Type, hash_secret_raw
        return hash_secret_raw(
            secret=secret,
            salt=salt,
            time_cost=self.time_cost,
            memory_cost=self.memory_kib,
            parallelism=self.parallelism,
            hash_len=_KEK_BYTES,
            type=Type.ID,
        )

    def to_json(self) -> dict[str, int]:
        return {"t": self.time_cost, "m": self.memory_kib, "p": self.parallelism}

    @classmethod
    def from_json(cls, data: Any) -> KdfParams:
        if not isinstance(data, dict):
            raise TypeError("kdf must be an object")
        return cls(
            time_cost=_int(data["t"]), memory_kib=_int(data["m"]), parallelism=_int(data["p"])
        )


# OWASP's argon2id floor is m=19 MiB, t=2, p=1 (or m=46 MiB, t=1). We use 128 MiB,
# 3 passes, 2 lanes: measured at ~0.33 s on the team's 2-core reference laptop and
# 0.20-0.22 s on the 2-core CI/dev container (argon2-cffi 25.1). About a third of
# a second per login is unnoticeable to a person and very costly to a guesser.
DEFAULT_KDF = KdfParams(time_cost=3, memory_kib=128 * 1024, parallelism=2)
# For tests only: the smallest parameters argon2 accepts.
FAST_TEST_KDF = KdfParams(time_cost=1, memory_kib=8, parallelism=1)


# ------------------------------------------------------------ names and passphrases


def key_file_path(db_path: Path) -> Path:
    """Where the key file of the company file `db_path` lives: `<db>.key`."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".key")


def normalise_login(login: str) -> str:
    """The form of a login name that is hashed: NFC, stripped, casefolded.

    "Anna ", "anna" and "ANNA" are the same person; NFC makes a name typed on a
    Mac (decomposed accents) match the same name typed on Windows.
    """
    name = unicodedata.normalize("NFC", login).strip().casefold()
    if not name:
        raise ValueError("login name must not be empty")
    return name


# Crockford's base32: no I, L, O or U, so nothing looks like anything else.
_RECOVERY_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RECOVERY_GROUPS = 8
_RECOVERY_GROUP_LEN = 5  # 8 x 5 characters x 5 bits = 200 bits
# Letters people write for digits they read; Crockford decoding does the same.
_RECOVERY_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def generate_recovery_passphrase() -> str:
    """A fresh recovery passphrase: 8 dash-separated groups of 5 characters (~200 bits)."""
    groups = (
        "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_GROUP_LEN))
        for _ in range(_RECOVERY_GROUPS)
    )
    return "-".join(groups)


def normalise_recovery_passphrase(passphrase: str) -> str:
    """Accept the passphrase however it is typed: any case, with or without dashes
    and spaces, and with O/I/L for 0/1/1."""
    cleaned = unicodedata.normalize("NFKC", passphrase).upper()
    cleaned = "".join(ch for ch in cleaned if not ch.isspace() and ch not in "-_")
    cleaned = cleaned.translate(_RECOVERY_LOOKALIKES)
    if not cleaned:
        raise ValueError("recovery passphrase must not be empty")
    return cleaned


def generate_device_secret() -> bytes:
    """A fresh random secret for an "unlock with this computer" slot."""
    return secrets.token_bytes(DEVICE_SECRET_BYTES)


# ---------------------------------------------------------------------- throttling


@dataclass(frozen=True)
class LoginThrottle:
    """How failed logins slow down and then lock a login name.

    After the `slow_after`-th consecutive failure every further attempt must
    wait 2**(failures - slow_after) seconds (1, 2, 4, ... capped at
    `max_delay_seconds`); after the `lock_after`-th the login is locked for
    `lock_minutes`. So with the defaults five wrong passwords in a row are free,
    the sixth attempt waits a second, and the tenth failure locks 15 minutes.
    """

    slow_after: int = 5
    lock_after: int = 10
    lock_minutes: int = 15
    max_delay_seconds: int = 60

    def delay_seconds(self, failures: int) -> int:
        """Seconds to wait after `failures` consecutive failures (0 = none)."""
        if failures < self.slow_after:
            return 0
        return min(2 ** (failures - self.slow_after), self.max_delay_seconds)

    @property
    def lock_duration(self) -> timedelta:
        return timedelta(minutes=self.lock_minutes)


DEFAULT_THROTTLE = LoginThrottle()


@dataclass
class _ThrottleRecord:
    failures: int = 0
    not_before: datetime | None = None
    locked_until: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "failures": self.failures,
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "locked_until": self.locked_until.isoformat() if self.locked_until else None,
        }

    @classmethod
    def from_json(cls, data: Any) -> _ThrottleRecord:
        if not isinstance(data, dict):
            raise TypeError("throttle record must be an object")
        return cls(
            failures=_int(data["failures"]),
            not_before=_time_or_none(data.get("not_before")),
            locked_until=_time_or_none(data.get("locked_until")),
        )


def _wait_message(seconds: int) -> str:
    if seconds >= 60:
        minutes = math.ceil(seconds / 60)
        amount = f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"
    else:
        amount = f"{seconds} second" if seconds == 1 else f"{seconds} seconds"
    return f"Too many failed attempts. Try again in {amount}."


# --------------------------------------------------------------------------- slots


@dataclass(frozen=True)
class _Slot:
    slot_id: str
    kind: str
    label_hash: bytes
    kdf: KdfParams | None  # None for device slots: their secret is already random
    salt: bytes = field(repr=False)
    nonce: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.slot_id,
            "kind": self.kind,
            "label_hash": _b64(self.label_hash),
            "kdf": self.kdf.to_json() if self.kdf else None,
            "salt": _b64(self.salt),
            "nonce": _b64(self.nonce),
            "ciphertext": _b64(self.ciphertext),
        }

    @classmethod
    def from_json(cls, data: Any) -> _Slot:
        if not isinstance(data, dict):
            raise TypeError("slot must be an object")
        kind = data["kind"]
        if kind not in _KINDS:
            raise ValueError(f"unknown slot kind {kind!r}")
        kdf_data = data.get("kdf")
        kdf = None if kdf_data is None else KdfParams.from_json(kdf_data)
        if (kdf is None) != (kind == _KIND_DEVICE):
            raise ValueError("slot kdf does not match its kind")
        slot_id = data["id"]
        if not isinstance(slot_id, str):
            raise TypeError("slot id must be a string")
        return cls(
            slot_id=slot_id,
            kind=kind,
            label_hash=_unb64(data["label_hash"]),
            kdf=kdf,
            salt=_unb64(data["salt"]),
            nonce=_unb64(data["nonce"]),
            ciphertext=_unb64(data["ciphertext"]),
        )


class NewKeyFile(NamedTuple):
    """What `KeyFile.create` hands back. Unpacks as (keyfile, db_key, events_private_key).

    `db_key` opens the database; `events_private_key` (raw X25519) must be stored
    *inside* the encrypted database, to read the sealed login events later.
    """

    keyfile: KeyFile
    db_key: bytes
    events_private_key: bytes

    def __repr__(self) -> str:
        return f"NewKeyFile(keyfile={self.keyfile!r}, db_key=<hidden>, events_private_key=<hidden>)"


# ------------------------------------------------------------------------- KeyFile


class KeyFile:
    """The key slots, throttle counters and sealed login events of one company file.

    Mutators change this object only; call `save()` to write the file.
    """

    def __init__(
        self,
        path: Path,
        *,
        file_id: bytes,
        key_check: bytes,
        events_public_key: bytes,
        slots: Iterable[_Slot] = (),
        throttle: Mapping[bytes, _ThrottleRecord] | None = None,
        sealed_events: Iterable[dict[str, str]] = (),
        sealed_events_dropped: int = 0,
        kdf: KdfParams | None = None,
        is_new: bool = False,
    ) -> None:
        """Prefer `KeyFile.create` and `KeyFile.load`; this assembles the parts.
        `kdf` None: `DEFAULT_KDF` (as everywhere here)."""
        self._path = Path(path)
        self._file_id = file_id
        self._key_check = key_check
        self._events_public_key = events_public_key
        self._slots: list[_Slot] = list(slots)
        self._throttle: dict[bytes, _ThrottleRecord] = dict(throttle or {})
        self._sealed_events: list[dict[str, str]] = list(sealed_events)
        self._sealed_events_dropped = sealed_events_dropped
        self._kdf = kdf or DEFAULT_KDF
        self._is_new = is_new

    # ------------------------------------------------------------ create, load, save

    @classmethod
    def create(cls, path: Path, kdf: KdfParams | None = None) -> NewKeyFile:
        """A key file for a new company file, with a fresh random database key and
        no slots. Nothing is written until `save()`."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        path = Path(path)
        if os.path.lexists(path):
            raise KeyFileError(
                f"A key file already exists at {path}. "
                "Choose another name for the new company file."
            )
        db_key = secrets.token_bytes(DB_KEY_BYTES)
        file_id = secrets.token_bytes(_FILE_ID_BYTES)
        events_private = X25519PrivateKey.generate()
        keyfile = cls(
            path,
            file_id=file_id,
            key_check=_key_check(db_key, file_id),
            events_public_key=_raw_public(events_private.public_key()),
            kdf=kdf,
            is_new=True,
        )
        private_bytes = events_private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return NewKeyFile(keyfile, db_key, private_bytes)

    @classmethod
    def load(cls, path: Path, kdf: KdfParams | None = None) -> KeyFile:
        """Read the key file at `path`. `kdf` is used for slots added from now on
        (existing slots keep their own parameters)."""
        path = Path(path)
        try:
            with open(path, "rb") as handle:
                raw = handle.read(_MAX_FILE_BYTES + 1)
        except FileNotFoundError:
            raise KeyFileError(
                f"The key file {path} is missing: the company file cannot be opened "
                "without it. Restore it from a backup."
            ) from None
        except PermissionError:
            raise KeyFileError(
                f"The key file {path} cannot be read: this account has no permission to open it."
            ) from None
        except OSError as exc:
            raise KeyFileError(
                f"The key file {path} cannot be read ({exc.strerror or exc})."
            ) from exc
        if len(raw) > _MAX_FILE_BYTES:
            raise _not_a_key_file(path)
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise _not_a_key_file(path) from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise _not_a_key_file(path)
        version = data.get("format_version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise _damaged(path)
        if version > FORMAT_VERSION:
            raise KeyFileError(
                "This key file was written by a newer version of erp_desktop. "
                "Update the app to open it."
            )
        try:
            return cls._from_json(path, data, kdf)
        except (KeyError, TypeError, ValueError, binascii.Error):
            raise _damaged(path) from None

    @classmethod
    def _from_json(cls, path: Path, data: dict[str, Any], kdf: KdfParams) -> KeyFile:
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey
        file_id = _unb64(data["file_id"])
        events_public_key = _unb64(data["events_public_key"])
        X25519PublicKey.from_public_bytes(events_public_key)  # validates length
        slots_data = data["slots"]
        throttle_data = data["throttle"]
        events_data = data["sealed_events"]
        if not isinstance(slots_data, list) or not isinstance(events_data, list):
            raise TypeError("slots and sealed_events must be lists")
        if not isinstance(throttle_data, dict):
            raise TypeError("throttle must be an object")
        for event in events_data:
            if not isinstance(event, dict) or not all(
                isinstance(event.get(k), str) for k in ("epk", "nonce", "ciphertext")
            ):
                raise TypeError("sealed event must hold epk, nonce and ciphertext")
        return cls(
            path,
            file_id=file_id,
            key_check=_unb64(data["key_check"]),
            events_public_key=events_public_key,
            slots=[_Slot.from_json(s) for s in slots_data],
            throttle={_unb64(k): _ThrottleRecord.from_json(v) for k, v in throttle_data.items()},
            sealed_events=[
                {"epk": e["epk"], "nonce": e["nonce"], "ciphertext": e["ciphertext"]}
                for e in events_data
            ],
            sealed_events_dropped=_int(data.get("sealed_events_dropped", 0)),
            kdf=kdf,
        )

    def to_bytes(self) -> bytes:
        """The file's serialised form (no secret in the clear)."""
        data = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "file_id": _b64(self._file_id),
            "key_check": _b64(self._key_check),
            "slots": [s.to_json() for s in self._slots],
            "throttle": {_b64(k): v.to_json() for k, v in self._throttle.items()},
            "events_public_key": _b64(self._events_public_key),
            "sealed_events": list(self._sealed_events),
            "sealed_events_dropped": self._sealed_events_dropped,
        }
        return json.dumps(data, indent=2, sort_keys=True).encode("utf-8") + b"\n"

    def save(self) -> None:
        """Write the key file atomically (old or new contents, never a mix), mode 0600."""
        # create() checked too, but another app may have made the file since;
        # silently replacing another company's key file would lose that company.
        if self._is_new and os.path.lexists(self._path):
            raise KeyFileError(
                f"A key file already exists at {self._path}. "
                "Choose another name for the new company file."
            )
        try:
            write_atomic(self._path, self.to_bytes(), mode=0o600)
        except OSError as exc:
            raise KeyFileError(
                f"The key file {self._path} could not be saved "
                f"({exc.strerror or exc}). Nothing was changed on disk."
            ) from exc
        self._is_new = False

    # ------------------------------------------------------------------ properties

    @property
    def path(self) -> Path:
        return self._path

    @property
    def file_id(self) -> str:
        """A random, non-secret identifier of this key file (hex)."""
        return self._file_id.hex()

    @property
    def keychain_entry_name(self) -> str:
        """The OS keychain entry name for this file's "unlock with this computer" secret."""
        return f"device-secret-{self._file_id.hex()}"

    @property
    def kdf(self) -> KdfParams:
        """argon2 parameters used for slots added from now on."""
        return self._kdf

    @property
    def events_public_key(self) -> bytes:
        return self._events_public_key

    def user_slot_count(self) -> int:
        return sum(1 for s in self._slots if s.kind == _KIND_USER)

    def has_recovery_slot(self) -> bool:
        return self._find(_KIND_RECOVERY, self._recovery_label()) is not None

    def key_matches(self, db_key: bytes) -> bool:
        """Whether `db_key` is this file's database key."""
        return hmac.compare_digest(_key_check(db_key, self._file_id), self._key_check)

    def __repr__(self) -> str:
        kinds = [s.kind for s in self._slots]
        counts = ", ".join(f"{k}={kinds.count(k)}" for k in sorted(set(kinds)))
        return (
            f"KeyFile(path={str(self._path)!r}, slots=[{counts}], "
            f"sealed_events={len(self._sealed_events)})"
        )

    # ----------------------------------------------------------------- user slots

    def add_user_slot(self, login: str, password: str, db_key: bytes) -> None:
        """Give `login` a slot opened by `password`, replacing any slot it had
        (that is how a password is changed or reset)."""
        if not password:
            raise ValueError("password must not be empty")
        label = self._label_hash(_KIND_USER, normalise_login(login))
        self._put_slot(self._seal_argon2(_KIND_USER, label, _password_bytes(password), db_key))

    def remove_user_slot(self, login: str) -> bool:
        """Remove `login`'s slot and throttle record; False if there was none."""
        label = self._label_hash(_KIND_USER, normalise_login(login))
        self._throttle.pop(label, None)
        return self._remove(_KIND_USER, label)

    def has_user(self, login: str) -> bool:
        label = self._label_hash(_KIND_USER, normalise_login(login))
        return self._find(_KIND_USER, label) is not None

    def unlock_with_password(self, login: str, password: str) -> bytes:
        """The database key, if `password` is `login`'s. Does not check throttling:
        call `check_login_allowed` first and `record_failure`/`record_success` after."""
        wrong = WrongPassword("Wrong login name or password.")
        slot = self._find(_KIND_USER, self._throttle_key(login))
        if slot is None:
            # Spend the same argon2 time as for a real user, so the delay does not
            # reveal which login names exist.
            kdf = next((s.kdf for s in self._slots if s.kind == _KIND_USER and s.kdf), self._kdf)
            kdf.derive(_password_bytes(password), secrets.token_bytes(_SALT_BYTES))
            raise wrong
        assert slot.kdf is not None
        kek = slot.kdf.derive(_password_bytes(password), slot.salt)
        return self._open(slot, kek, wrong)

    # -------------------------------------------------------------- recovery slot

    def set_recovery_slot(self, passphrase: str, db_key: bytes) -> None:
        """Set (or replace) the recovery slot opened by `passphrase`."""
        secret = normalise_recovery_passphrase(passphrase).encode("utf-8")
        label = self._recovery_label()
        self._put_slot(self._seal_argon2(_KIND_RECOVERY, label, secret, db_key))

    def remove_recovery_slot(self) -> bool:
        return self._remove(_KIND_RECOVERY, self._recovery_label())

    def unlock_with_recovery(self, passphrase: str) -> bytes:
        wrong = WrongPassword("That recovery passphrase does not open this company file.")
        try:
            secret = normalise_recovery_passphrase(passphrase).encode("utf-8")
        except ValueError:
            raise wrong from None
        slot = self._find(_KIND_RECOVERY, self._recovery_label())
        if slot is None:
            raise wrong
        assert slot.kdf is not None
        return self._open(slot, slot.kdf.derive(secret, slot.salt), wrong)

    # -------------------------------------------------------------- device slots

    def add_device_slot(self, device_label: str, secret: bytes, db_key: bytes) -> None:
        """Let the computer named `device_label` unlock with `secret` (kept in its
        OS keychain), replacing any slot that computer had."""
        if len(secret) < DEVICE_SECRET_BYTES:
            # HKDF adds no strength: the secret must be random and long already.
            raise ValueError(f"device secret must be at least {DEVICE_SECRET_BYTES} bytes")
        label = self._label_hash(_KIND_DEVICE, normalise_login(device_label))
        salt = secrets.token_bytes(_SALT_BYTES)
        slot = self._seal(_KIND_DEVICE, label, None, salt, _device_kek(secret, salt), db_key)
        self._put_slot(slot)

    def remove_device_slot(self, device_label: str) -> bool:
        label = self._label_hash(_KIND_DEVICE, normalise_login(device_label))
        return self._remove(_KIND_DEVICE, label)

    def has_device_slot(self, device_label: str) -> bool:
        label = self._label_hash(_KIND_DEVICE, normalise_login(device_label))
        return self._find(_KIND_DEVICE, label) is not None

    def unlock_with_device(self, device_label: str, secret: bytes) -> bytes:
        wrong = WrongPassword(
            "This computer can no longer open the company file by itself; "
            "log in with your password."
        )
        label = self._label_hash(_KIND_DEVICE, normalise_login(device_label))
        slot = self._find(_KIND_DEVICE, label)
        if slot is None:
            raise wrong
        return self._open(slot, _device_kek(secret, slot.salt), wrong)

    # ------------------------------------------------------------------ throttling

    def check_login_allowed(
        self, login: str, now: datetime, policy: LoginThrottle | None = None
    ) -> None:
        """Raise LoginLocked if `login` must wait before trying again.

        Unknown login names are counted exactly like real ones, so the answers
        never tell which names exist.
        """
        _require_aware(now)
        policy = policy or DEFAULT_THROTTLE
        record = self._throttle.get(self._throttle_key(login))
        if record is None:
            return
        # A clock set backwards (flat CMOS battery, manual change) must not turn a
        # 15-minute lock into a lock of days: never wait longer than the policy says.
        if record.locked_until and record.locked_until - now > policy.lock_duration:
            record.locked_until = now + policy.lock_duration
        cap = timedelta(seconds=policy.max_delay_seconds)
        if record.not_before and record.not_before - now > cap:
            record.not_before = now + cap
        for until in (record.locked_until, record.not_before):
            if until is not None and now < until:
                seconds = max(1, math.ceil((until - now).total_seconds()))
                raise LoginLocked(_wait_message(seconds), seconds)

    def record_failure(
        self,
        login: str,
        now: datetime,
        policy: LoginThrottle | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        """Count a failed login and seal an audit event (with `details`, e.g. the
        device name) for the database to pick up at the next successful unlock."""
        _require_aware(now)
        policy = policy or DEFAULT_THROTTLE
        key = self._throttle_key(login)
        record = self._throttle.setdefault(key, _ThrottleRecord())
        if record.locked_until is not None and now >= record.locked_until:
            # The lock has been served: start counting afresh rather than
            # re-locking on the very next typo.
            record.failures = 0
            record.locked_until = None
        record.failures += 1
        record.not_before = None
        locked = record.failures >= policy.lock_after
        if locked:
            record.locked_until = now + policy.lock_duration
        else:
            delay = policy.delay_seconds(record.failures)
            if delay:
                record.not_before = now + timedelta(seconds=delay)
        # The name is only recorded when it belongs to a user: people often type
        # their password into the login field, and that must not reach the audit log.
        known = self.has_user(login)
        event: dict[str, Any] = dict(details or {})
        event.update(
            event="login_failed",
            at=now.isoformat(),
            login=normalise_login(login) if known else None,
            known_user=known,
            failures=record.failures,
            locked=locked,
        )
        self.append_sealed_event(event)

    def record_success(self, login: str) -> None:
        """Forget `login`'s failures (the successful login is audited directly in
        the database, which is open by then)."""
        self._throttle.pop(self._throttle_key(login), None)

    def failure_count(self, login: str) -> int:
        record = self._throttle.get(self._throttle_key(login))
        return record.failures if record else 0

    # -------------------------------------------------------------- sealed events

    def append_sealed_event(self, payload: Mapping[str, Any]) -> None:
        """Encrypt `payload` (JSON-able) to the events public key and queue it.

        ECIES: a fresh X25519 key pair per event, HKDF-SHA256 of the shared secret,
        AES-GCM. Only the private key inside the database can read it back.
        """
        from cryptography.hazmat.primitives.asymmetric.x25519 import (
            X25519PrivateKey,
            X25519PublicKey,
        )
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        plaintext = json.dumps(dict(payload), sort_keys=True).encode("utf-8")
        ephemeral = X25519PrivateKey.generate()
        epk = _raw_public(ephemeral.public_key())
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(self._events_public_key))
        key = _event_key(shared, epk, self._events_public_key)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = AESGCM(key).encrypt(nonce, plaintext, self._file_id)
        self._sealed_events.append(
            {"epk": _b64(epk), "nonce": _b64(nonce), "ciphertext": _b64(ciphertext)}
        )
        # A bounded queue: an attacker hammering logins on a file nobody opens must
        # not grow it forever. The count of dropped events is itself audited.
        overflow = len(self._sealed_events) - MAX_SEALED_EVENTS
        if overflow > 0:
            del self._sealed_events[:overflow]
            self._sealed_events_dropped += overflow

    def sealed_event_count(self) -> int:
        return len(self._sealed_events)

    def take_sealed_events(self, private_key: bytes) -> list[dict[str, Any]]:
        """Decrypt and remove the queued events, oldest first (the caller saves).

        An event that does not decrypt (the file was tampered with) comes back as
        {"event": "sealed_event_unreadable"}; dropped ones as one
        {"event": "sealed_events_dropped", "count": n} first.
        """
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
        recipient = X25519PrivateKey.from_private_bytes(private_key)
        if _raw_public(recipient.public_key()) != self._events_public_key:
            raise ValueError("that private key does not belong to this key file")
        events: list[dict[str, Any]] = []
        if self._sealed_events_dropped:
            events.append({"event": "sealed_events_dropped", "count": self._sealed_events_dropped})
        for sealed in self._sealed_events:
            events.append(self._open_event(recipient, sealed))
        self._sealed_events.clear()
        self._sealed_events_dropped = 0
        return events

    def _open_event(self, recipient: X25519PrivateKey, sealed: dict[str, str]) -> dict[str, Any]:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.asymmetric.x25519 import (
            X25519PublicKey,
        )
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        try:
            epk = _unb64(sealed["epk"])
            shared = recipient.exchange(X25519PublicKey.from_public_bytes(epk))
            key = _event_key(shared, epk, self._events_public_key)
            plaintext = AESGCM(key).decrypt(
                _unb64(sealed["nonce"]), _unb64(sealed["ciphertext"]), self._file_id
            )
            payload = json.loads(plaintext)
            if not isinstance(payload, dict):
                raise TypeError("sealed event payload must be an object")
            return payload
        except (InvalidTag, KeyError, TypeError, ValueError, binascii.Error):
            return {"event": "sealed_event_unreadable"}

    # --------------------------------------------------------------------- helpers

    def _label_hash(self, kind: str, name: str) -> bytes:
        # Keyed by the file's random id so the same login gives different hashes
        # in different files. This hides names from a casual reader of the file;
        # it is not meant to resist guessing names from a list.
        message = kind.encode("ascii") + b"\x00" + name.encode("utf-8")
        return hmac.new(self._file_id, message, hashlib.sha256).digest()

    def _recovery_label(self) -> bytes:
        return self._label_hash(_KIND_RECOVERY, "recovery")

    def _throttle_key(self, login: str) -> bytes:
        # Lenient on purpose: a blank login name typed at the login screen is just
        # another unknown login, counted and refused like any other.
        try:
            name = normalise_login(login)
        except ValueError:
            name = ""
        return self._label_hash(_KIND_USER, name)

    def _aad(self, kind: str, label_hash: bytes) -> bytes:
        # Binding the file, kind and label into the AEAD means a slot copied to
        # another login, another kind or another key file no longer opens.
        return _length_prefixed(_AAD_PREFIX, self._file_id, kind.encode("ascii"), label_hash)

    def _check_db_key(self, db_key: bytes) -> None:
        # A slot sealing the wrong key would lock its user out for good; refuse.
        if len(db_key) != DB_KEY_BYTES or not self.key_matches(db_key):
            raise ValueError("that is not this company file's database key")

    def _seal_argon2(self, kind: str, label: bytes, secret: bytes, db_key: bytes) -> _Slot:
        self._check_db_key(db_key)
        salt = secrets.token_bytes(_SALT_BYTES)
        return self._seal(kind, label, self._kdf, salt, self._kdf.derive(secret, salt), db_key)

    def _seal(
        self,
        kind: str,
        label: bytes,
        kdf: KdfParams | None,
        salt: bytes,
        kek: bytes,
        db_key: bytes,
    ) -> _Slot:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        self._check_db_key(db_key)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        ciphertext = AESGCM(kek).encrypt(nonce, db_key, self._aad(kind, label))
        return _Slot(
            slot_id=secrets.token_hex(8),
            kind=kind,
            label_hash=label,
            kdf=kdf,
            salt=salt,
            nonce=nonce,
            ciphertext=ciphertext,
        )

    def _open(self, slot: _Slot, kek: bytes, wrong: WrongPassword) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        try:
            db_key = AESGCM(kek).decrypt(
                slot.nonce, slot.ciphertext, self._aad(slot.kind, slot.label_hash)
            )
        except (InvalidTag, ValueError):
            raise wrong from None
        if not self.key_matches(db_key):
            raise wrong
        return db_key

    def _find(self, kind: str, label: bytes) -> _Slot | None:
        for slot in self._slots:
            if slot.kind == kind and hmac.compare_digest(slot.label_hash, label):
                return slot
        return None

    def _put_slot(self, new: _Slot) -> None:
        for index, slot in enumerate(self._slots):
            if slot.kind == new.kind and slot.label_hash == new.label_hash:
                # Keep the slot id stable across password changes.
                self._slots[index] = replace(new, slot_id=slot.slot_id)
                return
        self._slots.append(new)

    def _remove(self, kind: str, label: bytes) -> bool:
        before = len(self._slots)
        self._slots = [s for s in self._slots if not (s.kind == kind and s.label_hash == label)]
        return len(self._slots) != before


# ------------------------------------------------------------------ module helpers


def _password_bytes(password: str) -> bytes:
    # NFC so the same password typed on macOS and Windows gives the same bytes.
    return unicodedata.normalize("NFC", password).encode("utf-8")


def _device_kek(secret: bytes, salt: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    return HKDF(
        algorithm=hashes.SHA256(), length=_KEK_BYTES, salt=salt, info=_DEVICE_HKDF_INFO
    ).derive(secret)


def _event_key(shared: bytes, epk: bytes, recipient_public: bytes) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=_EVENT_HKDF_INFO + epk + recipient_public,
    ).derive(shared)


def _key_check(db_key: bytes, file_id: bytes) -> bytes:
    # A one-way check value: lets mutators refuse a wrong key without storing it.
    return hmac.new(db_key, _KEY_CHECK_LABEL + file_id, hashlib.sha256).digest()


def _raw_public(key: X25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _length_prefixed(*parts: bytes) -> bytes:
    return b"".join(len(p).to_bytes(4, "big") + p for p in parts)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise TypeError("expected base64 text")
    return base64.b64decode(text.encode("ascii"), validate=True)


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError("expected a non-negative integer")
    return value


def _time_or_none(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError("expected an ISO time")
    parsed = datetime.fromisoformat(value)
    _require_aware(parsed)
    return parsed


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")


def _not_a_key_file(path: Path) -> KeyFileError:
    return KeyFileError(f"The file {path} is not an erp_desktop key file.")


def _damaged(path: Path) -> KeyFileError:
    return KeyFileError(
        f"The key file {path} is damaged and cannot be read. Restore it from a backup."
    )
