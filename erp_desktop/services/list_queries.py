"""Paged list queries (`services.listing.ListQuery`) over SQL, and the lists of today.

`SqlListQuery` is the reusable part: a subclass names its table, the columns
it selects, how the search text and extra filters narrow it, how each sortable
column orders rows (an index's columns plus a unique tie-breaker), and how a
result row becomes a dataclass. `fetch` then reads one page like this:

    SELECT <columns> FROM t WHERE t.rowid IN (
        SELECT t.rowid FROM t WHERE <filters> ORDER BY <index columns>, t.rowid
        LIMIT :limit OFFSET :offset)
    ORDER BY <index columns>, t.rowid

The inner query walks only the index (SQLite's secondary indexes hold the
rowid, so `(entry_date, rowid)` is covered by the index on `entry_date`), and
the outer one reads just the page's rows from the table. Measured on an
encrypted file with 500k journal entries: the page at offset 499,800 costs
7 ms this way against 26 ms for a plain OFFSET (which reads every skipped row
from the table), and a keyset written as `a > ? OR (a = ? AND b > ?)` costs
150 ms because SQLite cannot use the index for it. Past the middle of the list
the page is read backwards from the end (`listing.plan_window`), so Ctrl+End
costs what the first page does. See docs/decisions/0006-paged-lists.md.

The concrete lists here are the ones whose services exist now: journal
entries, the audit log, login events, users and the chart of accounts. Each
asks for the same permission as the service it lists for.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, FromClause, Select, and_, func, literal_column, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.ledger import Account, JournalEntry
from erp_desktop.models.security import LoginEvent, Role, User
from erp_desktop.services.context import Context
from erp_desktop.services.listing import (
    Column,
    ColumnKind,
    Filters,
    Sort,
    check_sort,
    check_window,
    plan_window,
)


def rowid_of(table: FromClause) -> ColumnElement[Any]:
    """SQLite's rowid of `table`: the cheapest unique tie-breaker of every index."""
    return literal_column(f"{table.name}.rowid")  # type: ignore[attr-defined]


def words_match(words: Sequence[str], *columns: ColumnElement[Any]) -> list[ColumnElement[bool]]:
    """Every word appears in one of `columns` (case-insensitive for ASCII, like SQLite)."""
    return [or_(*(c.contains(w, autoescape=True) for c in columns)) for w in words]


class SqlListQuery:
    """A `ListQuery` over one table (or a join); see the module docstring.

    Subclasses set `name`, `permission`, `columns`, `default_sort` and
    `table`, and implement `selected`, `orders` and `to_rows`; they override
    `conditions` to filter and `from_clause` to join.
    """

    name: str
    permission: str
    columns: tuple[Column, ...]
    default_sort: Sort
    table: FromClause

    # ---- to implement

    def selected(self) -> Select[Any]:
        """SELECT of the columns a row needs, FROM `from_clause()`."""
        raise NotImplementedError

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        """For each sortable column key: the ORDER BY columns, ending with a unique one."""
        raise NotImplementedError

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    # ---- may override

    def from_clause(self) -> FromClause:
        return self.table

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        return []

    @property
    def key(self) -> ColumnElement[Any]:
        """The column that names a row for the deferred join (rowid by default)."""
        return rowid_of(self.table)

    # ---- the protocol

    def count(self, ctx: Context, filters: Filters) -> int:
        ctx.require(self.permission)
        with ctx.db.read() as s:
            stmt = select(func.count()).select_from(self.from_clause()) \
                .where(*self.conditions(s, filters))
            return int(s.scalar(stmt) or 0)

    def fetch(self, ctx: Context, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> list[Any]:
        ctx.require(self.permission)
        check_window(start, limit)
        check_sort(self.columns, sort)
        order = self.orders().get(sort.key)
        if not order:
            raise ValidationError(f"This list cannot be sorted by {sort.key}.", field="sort")
        backwards, offset, n = plan_window(start, limit, total)
        descending = sort.descending != backwards
        ordering = [c.desc() if descending else c.asc() for c in order]
        with ctx.db.read() as s:
            inner = (select(self.key).select_from(self.from_clause())
                     .where(*self.conditions(s, filters)).order_by(*ordering)
                     .limit(n).offset(offset).correlate(None))
            stmt = self.selected().where(self.key.in_(inner)).order_by(*ordering)
            rows = self.to_rows(s, s.execute(stmt).all())
        if backwards:
            rows.reverse()
        return rows


def _date_range(column: ColumnElement[Any], filters: Filters) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    date_from, date_to = filters.get("date_from"), filters.get("date_to")
    for value, label in ((date_from, "start date"), (date_to, "end date")):
        if value is not None and (isinstance(value, datetime) or not isinstance(value, date)):
            raise ValidationError(f"The {label} must be a date.", field="date_from")
    if date_from is not None:
        out.append(column >= date_from)
    if date_to is not None:
        out.append(column <= date_to)
    return out


# ------------------------------------------------------------- journal entries


@dataclass(frozen=True)
class JournalEntryRow:
    id: uuid.UUID
    entry_date: date
    number: str
    memo: str
    source: str
    total: Money
    is_reversal: bool


_SOURCE_LABELS = {"journal": "Manual entry"}


def source_label(source_type: str | None) -> str:
    if not source_type:
        return ""
    return _SOURCE_LABELS.get(source_type, source_type.replace("_", " ").capitalize())


class JournalEntries(SqlListQuery):
    """Journal entries, newest first by default; search by number or memo, date range."""

    name = "journal_entries"
    permission = "ledger.view"
    table = JournalEntry.__table__
    columns = (
        Column("entry_date", "Date", ColumnKind.DATE, sortable=True, width_chars=12),
        Column("number", "Number", sortable=True, width_chars=20),
        Column("memo", "Memo", stretch=True),
        Column("source", "Source", width_chars=14),
        Column("total", "Amount", ColumnKind.MONEY, width_chars=16),
    )
    default_sort = Sort("entry_date", descending=True)

    def selected(self) -> Select[Any]:
        je = JournalEntry
        return select(je.id, je.entry_date, je.number, je.memo, je.source_type, je.total_minor,
                      je.currency, je.reversal_of_id)

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"entry_date": (JournalEntry.entry_date, self.key),
                "number": (JournalEntry.number,)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out = words_match(filters.words, JournalEntry.number, JournalEntry.memo)
        out += _date_range(JournalEntry.entry_date, filters)
        source = filters.get("source_type")
        if source:
            out.append(JournalEntry.source_type == source)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [JournalEntryRow(r.id, r.entry_date, r.number, r.memo or "",
                                source_label(r.source_type),
                                Money.from_minor(r.total_minor, r.currency),
                                r.reversal_of_id is not None) for r in rows]


# ------------------------------------------------------------------- audit log


@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    actor_name: str
    device_code: str
    action: str
    entity: str
    entity_id: str
    details: str  # the JSON details, compact, as stored (no personal data by rule)


class AuditLog(SqlListQuery):
    """The audit trail in chain order (newest first by default); search action, actor, entity."""

    name = "audit_log"
    permission = "audit.view"
    table = AuditEvent.__table__
    columns = (
        # An event number names the event (like an invoice number): left, no separators.
        Column("seq", "No.", sortable=True, width_chars=8),
        Column("at", "When", ColumnKind.DATETIME, width_chars=18),
        Column("actor_name", "Who", width_chars=14),
        Column("action", "Action", sortable=True, width_chars=26),
        Column("entity", "Record", width_chars=14),
        Column("details", "Details", stretch=True),
    )
    default_sort = Sort("seq", descending=True)

    @property
    def key(self) -> ColumnElement[Any]:
        return AuditEvent.seq  # the INTEGER PRIMARY KEY is the rowid

    def selected(self) -> Select[Any]:
        a = AuditEvent
        return select(a.seq, a.at, a.actor_name, a.device_code, a.action, a.entity,
                      a.entity_id, a.details)

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"seq": (AuditEvent.seq,), "action": (AuditEvent.action, AuditEvent.seq)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out = words_match(filters.words, AuditEvent.action, AuditEvent.actor_name,
                          AuditEvent.entity)
        prefix = filters.get("action_prefix")
        if prefix:
            out.append(AuditEvent.action.startswith(prefix, autoescape=True))
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [AuditRow(r.seq, r.at, r.actor_name or "", r.device_code or "", r.action,
                         r.entity or "", r.entity_id or "", _compact(r.details))
                for r in rows]


def _compact(details: str | None) -> str:
    try:
        data = json.loads(details or "{}")
    except ValueError:
        return details or ""
    if not data:
        return ""
    return ", ".join(f"{k}: {v}" for k, v in data.items())


# ---------------------------------------------------------------- login events


@dataclass(frozen=True)
class LoginRow:
    id: uuid.UUID
    at: datetime
    login_name: str
    outcome: str
    reason: str
    host: str
    os: str


class LoginEvents(SqlListQuery):
    """Every login attempt, newest first; search login, host or reason; `success` filter."""

    name = "login_events"
    permission = "audit.view"
    table = LoginEvent.__table__
    columns = (
        Column("at", "When", ColumnKind.DATETIME, sortable=True, width_chars=18),
        Column("login_name", "Login", width_chars=14),
        Column("outcome", "Outcome", width_chars=10),
        Column("reason", "How / why", width_chars=22),
        Column("host", "Computer", width_chars=16),
        Column("os", "System", stretch=True),
    )
    default_sort = Sort("at", descending=True)

    def selected(self) -> Select[Any]:
        e = LoginEvent
        return select(e.id, e.at, e.login_name, e.success, e.reason, e.host, e.os)

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"at": (LoginEvent.at, self.key)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out = words_match(filters.words, LoginEvent.login_name, LoginEvent.host,
                          LoginEvent.reason)
        success = filters.get("success")
        if success is not None:
            out.append(LoginEvent.success.is_(bool(success)))
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [LoginRow(r.id, r.at, r.login_name, "Succeeded" if r.success else "Failed",
                         r.reason or "", r.host or "", r.os or "") for r in rows]


# ----------------------------------------------------------------------- users


@dataclass(frozen=True)
class UserListRow:
    id: uuid.UUID
    login_name: str
    full_name: str
    role_name: str
    role_label: str
    status: str
    active: bool
    last_login_at: datetime | None
    version: int


class Users(SqlListQuery):
    """The users of the company file (a short list: every column sorts)."""

    name = "users"
    permission = "users.view"
    table = User.__table__
    columns = (
        Column("login_name", "Login", sortable=True, width_chars=14),
        Column("full_name", "Name", sortable=True, stretch=True),
        Column("role_label", "Role", sortable=True, width_chars=16),
        Column("status", "Status", width_chars=10),
        Column("last_login_at", "Last login", ColumnKind.DATETIME, sortable=True,
               width_chars=18),
    )
    default_sort = Sort("login_name")

    def from_clause(self) -> FromClause:
        return User.__table__.join(Role.__table__, Role.id == User.role_id, isouter=True)

    def selected(self) -> Select[Any]:
        return select(User.id, User.login_name, User.full_name, User.active,
                      User.last_login_at, User.version, Role.name.label("role_name"),
                      Role.label.label("role_label")).select_from(self.from_clause())

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"login_name": (User.login_key,), "full_name": (User.full_name, User.login_key),
                "role_label": (Role.label, User.login_key),
                "last_login_at": (User.last_login_at, User.login_key)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [User.deleted_at.is_(None)]
        out += words_match(filters.words, User.login_name, User.full_name, Role.label)
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        return [UserListRow(r.id, r.login_name, r.full_name, r.role_name or "",
                            r.role_label or "", "Active" if r.active else "Disabled",
                            bool(r.active), r.last_login_at, r.version) for r in rows]


# -------------------------------------------------------------------- accounts


@dataclass(frozen=True)
class AccountListRow:
    id: uuid.UUID
    code: str
    name: str
    type: str
    type_label: str
    parent_code: str
    is_group: bool
    status: str
    active: bool
    system_key: str | None
    description: str
    version: int


class Accounts(SqlListQuery):
    """The chart of accounts in code order; search code or name; `type` filter."""

    name = "accounts"
    permission = "ledger.view"
    table = Account.__table__
    columns = (
        Column("code", "Code", sortable=True, width_chars=8),
        Column("name", "Account", sortable=True, stretch=True),
        Column("type_label", "Type", sortable=True, width_chars=10),
        Column("parent_code", "Under", width_chars=8),
        Column("status", "Status", width_chars=10),
    )
    default_sort = Sort("code")

    def selected(self) -> Select[Any]:
        parent = Account.__table__.alias("parent")
        return select(Account.id, Account.code, Account.name, Account.type, Account.is_group,
                      Account.active, Account.system_key, Account.description, Account.version,
                      parent.c.code.label("parent_code")).select_from(
            Account.__table__.join(parent, parent.c.id == Account.parent_id, isouter=True))

    def orders(self) -> dict[str, tuple[ColumnElement[Any], ...]]:
        return {"code": (Account.code,), "name": (Account.name, Account.code),
                "type_label": (Account.type, Account.code)}

    def conditions(self, session: Session, filters: Filters) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = [Account.deleted_at.is_(None)]
        out += words_match(filters.words, Account.code, Account.name)
        kind = filters.get("type")
        if kind:
            out.append(Account.type == kind)
        if filters.get("postable_only"):
            out.append(and_(Account.is_group.is_(False), Account.active.is_(True)))
        return out

    def to_rows(self, session: Session, rows: Sequence[Any]) -> list[Any]:
        out = []
        for r in rows:
            status = "Group" if r.is_group else ("Active" if r.active else "Inactive")
            out.append(AccountListRow(r.id, r.code, r.name, r.type, r.type.capitalize(),
                                      r.parent_code or "",
                                      bool(r.is_group), status, bool(r.active), r.system_key,
                                      r.description or "", r.version))
        return out


JOURNAL_ENTRIES = JournalEntries()
AUDIT_LOG = AuditLog()
LOGIN_EVENTS = LoginEvents()
USERS = Users()
ACCOUNTS = Accounts()
