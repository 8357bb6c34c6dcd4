"""The general ledger: chart of accounts, journal entries and their lines.

Posted entries are append-only (`Record`); a mistake is corrected by a
reversing entry that points at the original. Lines carry the entry date so
that per-account reports read one covering index.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from erp_desktop.models.base import Base, Entity, Record, money_property

ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")


class Account(Entity, Base):
    __tablename__ = "account"
    __table_args__ = (CheckConstraint(
        "type IN ('asset','liability','equity','income','expense')", name="type"),)

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    type: Mapped[str] = mapped_column(String(10))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"))
    is_group: Mapped[bool] = mapped_column(default=False)
    system_key: Mapped[str | None] = mapped_column(String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    description: Mapped[str | None] = mapped_column(Text)


class JournalEntry(Record, Base):
    __tablename__ = "journal_entry"
    __table_args__ = (Index(None, "entry_date"), Index(None, "source_type", "source_id"))

    number: Mapped[str] = mapped_column(String(40), unique=True)
    entry_date: Mapped[date]
    memo: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    source_type: Mapped[str | None] = mapped_column(String(30))
    source_id: Mapped[uuid.UUID | None]
    reversal_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("journal_entry.id"), unique=True)
    lock_override: Mapped[bool] = mapped_column(default=False)

    lines: Mapped[list[JournalLine]] = relationship(
        back_populates="entry", order_by="JournalLine.line_no", lazy="selectin")

    total = money_property("total_minor")


class JournalLine(Record, Base):
    __tablename__ = "journal_line"
    __table_args__ = (
        CheckConstraint("debit_minor >= 0 AND credit_minor >= 0", name="non_negative"),
        CheckConstraint("(debit_minor = 0) <> (credit_minor = 0)", name="one_side"),
        Index("ix_journal_line_account_date", "account_id", "entry_date",
              "debit_minor", "credit_minor"),
        Index(None, "entry_id"),
        Index(None, "party_id"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal_entry.id"))
    line_no: Mapped[int]
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    entry_date: Mapped[date]
    debit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str | None] = mapped_column(Text)
    party_type: Mapped[str | None] = mapped_column(String(20))  # customer | vendor | employee
    party_id: Mapped[uuid.UUID | None]

    entry: Mapped[JournalEntry] = relationship(back_populates="lines")

    debit = money_property("debit_minor")
    credit = money_property("credit_minor")


# Posted entries are corrected by reversal, never changed: the database refuses it too.
JOURNAL_TRIGGERS = [
    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'posted journal entries are append-only'); END"
    for table in ("journal_entry", "journal_line") for op in ("UPDATE", "DELETE")
]
Base.metadata.info.setdefault("extra_ddl", []).extend(JOURNAL_TRIGGERS)
