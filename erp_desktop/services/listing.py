"""The list-query protocol: how a service serves a long list a page at a time.

Every list screen (journal entries, audit log, products, invoices ...) reads
through a `ListQuery` that a service module implements:

- `columns`: what the list shows (`Column`: key, title, kind). The kind says
  how a cell is formatted and aligned (money and quantities right-aligned);
  `sortable` marks the columns the database can sort by an index.
- `count(ctx, filters) -> int`: how many rows match the filters.
- `fetch(ctx, filters, sort, start, limit, total=None) -> list[row]`: the rows
  `start .. start+limit` in `sort` order, as plain frozen dataclasses whose
  attributes are the column keys. Filtering and sorting happen in SQL;
  `total` (the count the caller already knows) lets the query read the far
  end of a long list backwards instead of skipping most of it.

Like every use case, `count` and `fetch` take the `Context` first and call
`ctx.require(...)` first. `ListSource` binds a query to a context so that a
UI model only ever calls `count(filters)` and `fetch(filters, sort, start,
limit)`, and never sees a session. Filters and sorts are frozen and hashable,
so a model can tell a stale result (asked under other filters) from a fresh
one. `format_cell` formats a value for its column kind in the company's
locale; list models and CSV exports share it. Nothing here imports Qt or
SQLAlchemy (`services.list_queries` has the SQL side).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money

if TYPE_CHECKING:
    from erp_desktop.services.context import Context

MAX_FETCH = 1000  # rows per fetch: a page of a list, never a whole table


class ColumnKind(StrEnum):
    TEXT = "text"
    MONEY = "money"  # a Money: formatted with its currency, right-aligned
    QTY = "qty"  # a Decimal quantity, right-aligned
    NUMBER = "number"  # an int or Decimal without a currency, right-aligned
    DATE = "date"
    DATETIME = "datetime"  # shown in the computer's local time
    BOOL = "bool"

    @property
    def right_aligned(self) -> bool:
        return self in (ColumnKind.MONEY, ColumnKind.QTY, ColumnKind.NUMBER)


@dataclass(frozen=True)
class Column:
    """One column of a list: the row attribute `key`, its heading, how to show it."""

    key: str
    title: str  # English; the UI translates it
    kind: ColumnKind = ColumnKind.TEXT
    sortable: bool = False  # only where an index makes sorting cheap on a long list
    width_chars: int | None = None  # a hint for the first layout, in characters
    stretch: bool = False  # takes the spare width (a name, a memo)


@dataclass(frozen=True)
class Sort:
    key: str
    descending: bool = False

    def reversed(self) -> Sort:
        return Sort(self.key, not self.descending)


@dataclass(frozen=True)
class Filters:
    """What narrows a list: the search box text and named extras (dates, a status).

    `extra` is a sorted tuple of (name, value) pairs so that filters compare and
    hash by value; build it with `Filters.of(text, status="paid", ...)`.
    """

    text: str = ""
    extra: tuple[tuple[str, Any], ...] = field(default=())

    @classmethod
    def of(cls, text: str = "", **extra: Any) -> Filters:
        return cls((text or "").strip(),
                   tuple(sorted((k, v) for k, v in extra.items() if v is not None)))

    def get(self, name: str, default: Any = None) -> Any:
        for key, value in self.extra:
            if key == name:
                return value
        return default

    def with_text(self, text: str) -> Filters:
        return Filters((text or "").strip(), self.extra)

    def with_extra(self, **changes: Any) -> Filters:
        merged = dict(self.extra)
        merged.update(changes)
        return Filters.of(self.text, **merged)

    @property
    def words(self) -> list[str]:
        """The search text split into words, each of which must match."""
        return [w for w in self.text.split() if w]


@runtime_checkable
class ListQuery(Protocol):
    """What a service implements for one list (see module docstring)."""

    name: str
    columns: tuple[Column, ...]
    default_sort: Sort

    def count(self, ctx: Context, filters: Filters) -> int: ...

    def fetch(self, ctx: Context, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> Sequence[Any]: ...


@runtime_checkable
class RowSource(Protocol):
    """A list as a UI model sees it: a `ListQuery` bound to one context."""

    @property
    def columns(self) -> tuple[Column, ...]: ...

    @property
    def default_sort(self) -> Sort: ...

    def count(self, filters: Filters) -> int: ...

    def fetch(self, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> Sequence[Any]: ...


@dataclass(frozen=True)
class ListSource:
    """A `ListQuery` bound to the logged-in user's context (thread-safe: no state)."""

    query: ListQuery
    ctx: Context

    @property
    def columns(self) -> tuple[Column, ...]:
        return self.query.columns

    @property
    def default_sort(self) -> Sort:
        return self.query.default_sort

    @property
    def name(self) -> str:
        return self.query.name

    def count(self, filters: Filters) -> int:
        return self.query.count(self.ctx, filters)

    def fetch(self, filters: Filters, sort: Sort, start: int, limit: int,
              total: int | None = None) -> Sequence[Any]:
        return self.query.fetch(self.ctx, filters, sort, start, limit, total)


def check_window(start: int, limit: int) -> None:
    """Refuse a nonsensical page request (a bug in the caller, said plainly)."""
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise ValidationError("A list starts at row 0 or later.", field="start")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_FETCH:
        raise ValidationError(f"A page holds 1 to {MAX_FETCH} rows.", field="limit")


def check_sort(columns: Sequence[Column], sort: Sort) -> Column:
    """The column `sort` names, if the list may be sorted by it."""
    for column in columns:
        if column.key == sort.key:
            if not column.sortable:
                raise ValidationError(f"This list cannot be sorted by {column.title}.",
                                      field="sort")
            return column
    raise ValidationError(f"This list has no column '{sort.key}'.", field="sort")


def plan_window(start: int, limit: int, total: int | None) -> tuple[bool, int, int]:
    """How to read rows `start..start+limit`: (backwards?, offset, limit).

    Past the middle of a list of known length the rows are read in reverse
    order from the end, so the last page costs what the first one does.
    """
    if total is None or total <= 0 or start + limit <= total // 2:
        return False, start, limit
    end = min(start + limit, total)
    if end <= start:
        return False, start, limit
    return True, total - end, end - start


# ------------------------------------------------------------------ formatting


def format_date(value: date, locale: str) -> str:
    from babel.dates import format_date as babel_date  # late: babel is slow to load

    return babel_date(value, "d MMM y", locale=locale)


def format_datetime(value: datetime, locale: str) -> str:
    from babel.dates import format_datetime as babel_datetime

    local = value.astimezone() if value.tzinfo is not None else value
    return babel_datetime(local, "d MMM y, HH:mm", locale=locale)


def format_number(value: int | Decimal, locale: str) -> str:
    from babel.numbers import format_decimal

    return format_decimal(value, locale=locale)


def format_cell(value: Any, kind: ColumnKind, locale: str) -> str:
    """A cell's text: money with its currency in the company's locale, dates unambiguous."""
    if value is None or value == "":
        return ""
    if kind is ColumnKind.MONEY and isinstance(value, Money):
        from erp_desktop.domain.money import format_money

        return format_money(value, locale)
    if kind is ColumnKind.DATETIME and isinstance(value, datetime):
        return format_datetime(value, locale)
    if kind is ColumnKind.DATE and isinstance(value, date):
        return format_date(value, locale)
    if kind in (ColumnKind.QTY, ColumnKind.NUMBER) and isinstance(value, int | Decimal) \
            and not isinstance(value, bool):
        return format_number(value, locale)
    if kind is ColumnKind.BOOL:
        return "✓" if value else ""
    return str(value)


def format_row(row: Any, columns: Sequence[Column], locale: str) -> tuple[str, ...]:
    """Every cell of `row` formatted (done on the worker thread, not while painting)."""
    return tuple(format_cell(getattr(row, c.key, None), c.kind, locale) for c in columns)


def columns_by_key(columns: Sequence[Column]) -> Mapping[str, Column]:
    return {c.key: c for c in columns}
