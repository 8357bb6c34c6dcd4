"""Users, roles (named permission sets) and login events."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erp_desktop.domain.ids import new_id
from erp_desktop.models.base import Base, Entity, utcnow


class Role(Entity, Base):
    __tablename__ = "role"

    name: Mapped[str] = mapped_column(String(40), unique=True)  # e.g. "accountant"
    label: Mapped[str] = mapped_column(String(80))
    description: Mapped[str | None] = mapped_column(Text)
    permissions: Mapped[str] = mapped_column(Text, default="[]")  # JSON list, sorted
    builtin: Mapped[bool] = mapped_column(default=False)


class User(Entity, Base):
    __tablename__ = "app_user"

    login_name: Mapped[str] = mapped_column(String(64))
    login_key: Mapped[str] = mapped_column(String(64), unique=True)  # casefolded login
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    job_title: Mapped[str | None] = mapped_column(String(120))
    department: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    role_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("role.id"))
    last_login_at: Mapped[datetime | None]
    password_changed_at: Mapped[datetime | None]


class LoginEvent(Base):
    """Every login attempt, good or bad, with time and device."""

    __tablename__ = "login_event"
    __immutable__ = True
    __hard_delete__ = True  # purged by the retention rules, never edited

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    login_name: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[uuid.UUID | None]
    success: Mapped[bool]
    reason: Mapped[str | None] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(120))
    os: Mapped[str | None] = mapped_column(String(120))
    app_version: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (Index(None, "at"),)
