"""Crash-safe replacement of small files (the key file, settings).

This module owns one promise: after `write_atomic` returns, the target holds the
new bytes and survives a power cut; if it raises (or the process dies half way),
the target still holds the old bytes. It does that the classic way: write a
temporary file in the same directory, fsync it, rename it over the target, then
fsync the directory so the rename itself is durable.

OSError is re-raised unchanged; callers translate it into a message that fits
what they were saving.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path

__all__ = ["temp_name_prefix", "write_atomic"]

# Errors from fsync on a directory that only mean "this file system cannot do
# that" (some network and FUSE file systems); the rename has already happened.
_DIR_FSYNC_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOTSUP, errno.EBADF})


def temp_name_prefix(path: Path) -> str:
    """The prefix of temporary files `write_atomic` creates next to `path`.

    A hidden name in the same directory: the rename must stay on one file system
    to be atomic, and a stray temp file left by a hard crash is recognisable.
    """
    return f".{path.name}."


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data` atomically and durably, with permissions `mode`."""
    path = Path(path)
    directory = path.parent
    tmp = directory / f"{temp_name_prefix(path)}{secrets.token_hex(8)}.tmp"
    # O_EXCL: never reuse or follow an existing file (or symlink) at the temp
    # name. The restrictive mode is given at creation so the secret-bearing
    # bytes are never readable by others, not even for a moment.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, mode)
    try:
        if os.name != "nt":
            # os.open's mode is filtered by the umask; set exactly what was asked.
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb", closefd=True) as handle:
            fd = -1  # the file object owns the descriptor now
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename durable: on POSIX it lives in the directory entry."""
    if os.name == "nt":
        # Windows cannot open a directory for fsync; NTFS journals the rename.
        return
    dir_fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(dir_fd)
    except OSError as exc:
        if exc.errno not in _DIR_FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(dir_fd)
