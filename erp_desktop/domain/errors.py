"""The errors a person can meet, with messages a shop owner understands.

`UserError` and its family are expected outcomes of bad input or a refused
action: the UI shows them calmly (next to `field` when one is named) and the
CLI prints them and exits non-zero. Anything else that escapes is a bug.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the person can act on, with a plain message.

    `field` names the input it concerns; for a document with lines, `line` is the
    index (from 0) of the line it concerns, set by the use case that knows it."""

    line: int | None = None

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(UserError):
    """Input that breaks a rule ("Quantity must be greater than zero")."""


class NotFound(UserError):
    """The record asked for does not exist (or is not visible to this user)."""


class Conflict(UserError):
    """The record was changed elsewhere since it was read (optimistic locking)."""


class PermissionDenied(UserError):
    """The logged-in user's roles do not grant the permission a use case needs."""

    def __init__(self, permission: str, message: str | None = None) -> None:
        super().__init__(message or f"You do not have permission to do this ({permission}).")
        self.permission = permission


class AuthenticationError(UserError):
    """Login failed."""


class WrongPassword(AuthenticationError):
    """The password or passphrase does not open the company file."""


class LoginLocked(AuthenticationError):
    """Too many failed attempts: this login must wait."""

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class AccountDisabled(AuthenticationError):
    """The user exists but has been disabled by an admin."""


class StoreError(UserError):
    """The company file cannot be opened, written or read as asked."""


class KeyFileError(StoreError):
    """The key file beside the company file is missing, damaged or too new."""


class NotACompanyFile(StoreError):
    """The file is not an erp_desktop company file (or the key does not fit it)."""


class CorruptFile(StoreError):
    """The company file is damaged."""


class NewerVersion(StoreError):
    """The company file was written by a newer version of the app."""


class DiskProblem(StoreError):
    """The disk is full, read-only, or refuses access."""


class PostingError(ValidationError):
    """A journal entry or document cannot be posted as given."""


class PeriodLocked(PostingError):
    """The date falls in a period the accountant has locked."""
