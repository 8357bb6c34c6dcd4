"""The shared base of every table: ids, exact types, change-tracking columns.

- `UUIDType`: UUIDv7 ids stored as 16-byte blobs (compact keys and indexes).
- `UTCDateTime`: timezone-aware UTC datetimes in, the same out.
- `QuantityType`: Decimal quantities stored as integers (see domain.quantity).
- Money is two columns, `<name>_minor` (integer minor units) and a currency
  code; `money_property` reads and writes them as `domain.money.Money`.
- `Entity`: mutable, synced records: version (optimistic locking), updated_at,
  updated_by, tombstone `deleted_at`. Never hard-deleted.
- `Record`: append-only records (posted documents, journal lines, stock moves):
  written once, never updated or deleted; corrected by a reversing record.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Date, DateTime, Integer, LargeBinary, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

from erp_desktop.domain.ids import new_id
from erp_desktop.domain.money import Money
from erp_desktop.domain.quantity import qty_from_int, qty_to_int

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UUIDType(TypeDecorator[uuid.UUID]):
    impl = LargeBinary(16)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = uuid.UUID(value)
        return value.bytes

    def process_result_value(self, value: Any, dialect: Any) -> uuid.UUID | None:
        return None if value is None else uuid.UUID(bytes=bytes(value))


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC text (sortable); always returned aware, in UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class QuantityType(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else qty_to_int(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else qty_from_int(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        uuid.UUID: UUIDType(),
        datetime: UTCDateTime(),
        date: Date(),
        Decimal: QuantityType(),
        int: Integer(),
        str: String(),
    }

    # Change tracking flags, read by models.changes.
    __outbox__: ClassVar[bool] = False
    __immutable__: ClassVar[bool] = False
    __hard_delete__: ClassVar[bool] = False
    __outbox_exclude__: ClassVar[frozenset[str]] = frozenset()


class Entity:
    """Mixin for mutable, synced records (see module docstring)."""

    __outbox__: ClassVar[bool] = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[uuid.UUID | None] = mapped_column(default=None)
    version: Mapped[int] = mapped_column()  # set and bumped by SQLAlchemy (version_id_col)
    deleted_at: Mapped[datetime | None] = mapped_column(default=None)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Record:
    """Mixin for append-only records: written once, never changed or deleted."""

    __outbox__: ClassVar[bool] = True
    __immutable__: ClassVar[bool] = True

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[uuid.UUID | None] = mapped_column(default=None)


def money_property(minor_attr: str, currency_attr: str = "currency") -> property:
    """Expose `<x>_minor` + currency columns as one `Money` attribute."""

    def getter(self: Any) -> Money | None:
        minor = getattr(self, minor_attr)
        if minor is None:
            return None
        return Money.from_minor(minor, getattr(self, currency_attr))

    def setter(self: Any, value: Money | None) -> None:
        if value is None:
            setattr(self, minor_attr, None)
            return
        current = getattr(self, currency_attr, None)
        if current and current != value.currency:
            raise ValueError(f"{value.currency} amount on a {current} record")
        setattr(self, currency_attr, value.currency)
        setattr(self, minor_attr, value.minor)

    return property(getter, setter)
