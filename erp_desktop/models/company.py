"""The company profile, its branches and devices, settings and number series."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.models.base import Base, Entity


class Company(Entity, Base):
    """The one business this file belongs to (exactly one row)."""

    __tablename__ = "company"

    legal_name: Mapped[str] = mapped_column(String(200))
    trade_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(100))
    state_code: Mapped[str | None] = mapped_column(String(8))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    gstin: Mapped[str | None] = mapped_column(String(15))
    vat_id: Mapped[str | None] = mapped_column(String(20))
    other_tax_id: Mapped[str | None] = mapped_column(String(40))
    base_currency: Mapped[str] = mapped_column(String(3))
    locale: Mapped[str] = mapped_column(String(16))
    tax_regime: Mapped[str] = mapped_column(String(16))  # gst | vat | sales_tax | none
    fiscal_year_start_month: Mapped[int]
    books_locked_until: Mapped[date | None]  # period lock: no postings on or before
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)


class Branch(Entity, Base):
    __tablename__ = "branch"

    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str | None] = mapped_column(String(100))
    state_code: Mapped[str | None] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)


class Device(Entity, Base):
    """A desktop that may post offline; its code is part of its number series."""

    __tablename__ = "device"

    code: Mapped[str] = mapped_column(String(4), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branch.id"))


class Setting(Entity, Base):
    """Company-wide settings stored in the company file (JSON values)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(100), unique=True)
    value: Mapped[str] = mapped_column(Text)  # JSON


class LocalSecret(Base):
    """Secrets that exist only inside the encrypted file and never sync."""

    __tablename__ = "local_secret"
    __hard_delete__ = True

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[bytes] = mapped_column(LargeBinary)


class NumberSeries(Entity, Base):
    """A gapless counter per document type, device and fiscal year."""

    __tablename__ = "number_series"
    __table_args__ = (UniqueConstraint("doc_type", "device_code", "fy_token"),)

    doc_type: Mapped[str] = mapped_column(String(20))
    device_code: Mapped[str] = mapped_column(String(4))
    fy_token: Mapped[str] = mapped_column(String(9))
    prefix: Mapped[str] = mapped_column(String(10))
    next_counter: Mapped[int] = mapped_column(default=1)
