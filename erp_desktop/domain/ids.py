"""UUIDv7 ids (RFC 9562): time-ordered, made on the device that creates the row.

Time order keeps B-tree inserts at the right edge of the index and lets sync
merge rows from several desktops without a central counter. Within one
millisecond a monotonic counter in `rand_a` keeps ids strictly increasing on
this process.
"""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> uuid.UUID:
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2), "big") & 0x07FF  # leave room to count up
        else:
            _counter += 1
            if _counter > 0x0FFF:  # counter overflow: borrow the next millisecond
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        rand_b = int.from_bytes(os.urandom(8), "big") & 0x3FFFFFFFFFFFFFFF
        value = (ms & 0xFFFFFFFFFFFF) << 80
        value |= 0x7 << 76
        value |= _counter << 64
        value |= 0b10 << 62
        value |= rand_b
    return uuid.UUID(int=value)


def id_time_ms(value: uuid.UUID) -> int:
    """The creation time in Unix milliseconds encoded in a UUIDv7."""
    return value.int >> 80
