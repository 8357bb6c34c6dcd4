"""UUIDv7 ids (RFC 9562): time-ordered, made on the device that creates the row.

Time order keeps B-tree inserts at the right edge of the index and lets sync
merge rows from several desktops without a central counter. Within one
millisecond a monotonic counter in `rand_a` keeps ids strictly increasing on
this process.

Issuing an invoice makes some forty ids, so `new_id` is kept cheap: the
random bits come from the OS's CSPRNG (`os.urandom`) a few kilobytes at a
time rather than one system call per id, and the `UUID` is built without
re-validating the integer it was just given (`uuid_from_int`).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0
_POOL_BYTES = 4096
_pool = b""
_pos = _POOL_BYTES
_SAFE_UNKNOWN = uuid.SafeUUID.unknown
_set = object.__setattr__


def uuid_from_int(value: int) -> uuid.UUID:
    """`uuid.UUID(int=value)` for a value known to fit in 128 bits, set the way
    `UUID.__init__` sets it, without its argument checks."""
    result = uuid.UUID.__new__(uuid.UUID)
    _set(result, "int", value)
    _set(result, "is_safe", _SAFE_UNKNOWN)
    return result


def _random(n: int) -> int:
    """`n` random bytes (n <= 8) as an int, from the pool (call with `_lock` held)."""
    global _pool, _pos
    if _pos + n > _POOL_BYTES:
        _pool, _pos = os.urandom(_POOL_BYTES), 0
    start = _pos
    _pos += n
    return int.from_bytes(_pool[start:_pos], "big")


def new_id() -> uuid.UUID:
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = _random(2) & 0x07FF  # leave room to count up
        else:
            _counter += 1
            if _counter > 0x0FFF:  # counter overflow: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        value = ((ms & 0xFFFFFFFFFFFF) << 80 | 0x7 << 76 | _counter << 64 | 0b10 << 62
                 | _random(8) & 0x3FFFFFFFFFFFFFFF)
    return uuid_from_int(value)


def id_time_ms(value: uuid.UUID) -> int:
    """The creation time in Unix milliseconds encoded in a UUIDv7."""
    return value.int >> 80
