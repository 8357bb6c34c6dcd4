"""The general ledger: chart of accounts, journal entries, period lock, reports.

Everything that reaches the books goes through one posting path,
`post_in_session`: manual journal vouchers (`post_entry`), reversals, and the
balanced entries that invoicing, stock and payroll write inside their own
transactions. It checks that the entry balances to the paisa, that every
account can take postings and that the date is not in a locked period, then
takes the entry's gapless number in the same transaction. The entry and its
lines are written with one executemany each, outbox rows included
(`models.changes.insert_records`), and the accounts and company row it checks
against are read once per transaction (`models.database.tx_cache`), so a
batch of invoices posts at the cost of its rows, not of the ORM.

Posted entries are never edited or deleted (the models refuse it); a mistake
is corrected by `reverse_entry`. Reports are read-only sessions that let
SQLite add up journal lines per account (GROUP BY over the covering index
`ix_journal_line_account_date`), so no report loads every line into Python.
All amounts are `Money` in the company's base currency.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, TextIO

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from erp_desktop.domain.errors import (
    Conflict,
    NotFound,
    PeriodLocked,
    PostingError,
    ValidationError,
)
from erp_desktop.domain.ids import new_id
from erp_desktop.domain.money import (
    Money,
    format_money,
    parse_decimal,
    to_minor,
)
from erp_desktop.domain.numbering import fiscal_year_start
from erp_desktop.models.changes import (
    check_before_write,
    deferring,
    insert_records,
    pending_check,
    pending_records,
)
from erp_desktop.models.company import Company
from erp_desktop.models.database import reference_cache, remember, tx_cache
from erp_desktop.models.ledger import ACCOUNT_TYPES, Account, JournalEntry, JournalLine
from erp_desktop.services import audit
from erp_desktop.services.context import Context
from erp_desktop.services.numbering import next_number

PARTY_TYPES = ("customer", "vendor", "employee")
DEBIT_NORMAL = ("asset", "expense")  # balances read as debit minus credit; the rest the reverse
JOURNAL_DOC_TYPE = "journal"
JOURNAL_PREFIX = "JV"
MANUAL_SOURCE = "journal"  # source_type of entries typed in by hand
MAX_PAGE = 5000
_ACCOUNTS = "ledger.accounts"  # tx_cache keys of the posting path
_COMPANY = "ledger.company"


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class AccountRow:
    id: uuid.UUID
    code: str
    name: str
    type: str
    parent_code: str | None
    is_group: bool
    system_key: str | None
    active: bool
    description: str | None
    version: int


@dataclass(frozen=True)
class LineInput:
    """One line of an entry to post: an account (code or id) and a debit or a credit."""

    account_code_or_id: str | uuid.UUID
    debit: Decimal | Money | str | int | None = Decimal(0)
    credit: Decimal | Money | str | int | None = Decimal(0)
    memo: str | None = None
    party_type: str | None = None
    party_id: uuid.UUID | None = None


@dataclass(frozen=True)
class EntryLine:
    line_no: int
    account_id: uuid.UUID
    account_code: str
    account_name: str
    debit: Money
    credit: Money
    memo: str | None
    party_type: str | None
    party_id: uuid.UUID | None


@dataclass(frozen=True)
class EntryResult:
    id: uuid.UUID
    number: str
    entry_date: date
    memo: str | None
    total: Money
    lines: list[EntryLine]
    source_type: str | None
    source_id: uuid.UUID | None
    reversal_of_id: uuid.UUID | None
    reversal_of_number: str | None
    reversed_by_number: str | None
    lock_override: bool


@dataclass(frozen=True)
class EntryCursor:
    """Where a page of entries ended: resume strictly after this entry."""

    entry_date: date
    entry_id: uuid.UUID


@dataclass(frozen=True)
class EntrySummary:
    id: uuid.UUID
    number: str
    entry_date: date
    memo: str | None
    total: Money
    source_type: str | None
    reversal_of_id: uuid.UUID | None


@dataclass(frozen=True)
class EntryPage:
    rows: list[EntrySummary]
    next_cursor: EntryCursor | None


@dataclass(frozen=True)
class BooksLock:
    locked_until: date | None
    previous: date | None


@dataclass(frozen=True)
class TBRow:
    code: str
    name: str
    type: str
    debit: Money
    credit: Money


@dataclass(frozen=True)
class TrialBalance:
    as_of: date
    rows: list[TBRow]
    total_debit: Money
    total_credit: Money

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit


@dataclass(frozen=True)
class GLCursor:
    """Where a page of the general ledger ended: resume strictly after this line."""

    entry_date: date
    line_id: uuid.UUID


@dataclass(frozen=True)
class GLRow:
    entry_id: uuid.UUID
    entry_number: str
    date: date
    memo: str | None
    debit: Money
    credit: Money
    running_balance: Money


@dataclass(frozen=True)
class GLPage:
    """One page of an account's ledger.

    Balances are on the account's normal side: debit minus credit for assets
    and expenses, credit minus debit for liabilities, equity and income, so a
    healthy bank or sales account reads positive.
    """

    account_code: str
    account_name: str
    account_type: str
    normal_side: str  # "debit" | "credit"
    date_from: date
    date_to: date
    opening_balance: Money  # balance before this page's first row
    rows: list[GLRow]
    closing_balance: Money  # balance at the end of date_to
    next_cursor: GLCursor | None


@dataclass(frozen=True)
class ReportRow:
    code: str | None  # None for computed lines ("Current year earnings")
    name: str
    group: str | None
    amount: Money


@dataclass(frozen=True)
class ProfitAndLoss:
    date_from: date
    date_to: date
    income: list[ReportRow]
    expenses: list[ReportRow]
    total_income: Money
    total_expense: Money
    net_profit: Money


@dataclass(frozen=True)
class BalanceSheet:
    as_of: date
    assets: list[ReportRow]
    liabilities: list[ReportRow]
    equity: list[ReportRow]
    total_assets: Money
    total_liabilities: Money
    total_equity: Money
    total_liabilities_and_equity: Money

    @property
    def balanced(self) -> bool:
        return self.total_assets == self.total_liabilities_and_equity


# --------------------------------------------------------------------------- helpers


@dataclass(frozen=True)
class _Books:
    currency: str
    locale: str
    fy_start_month: int
    locked_until: date | None


def _books(s: Session) -> _Books:
    row = s.execute(select(Company.base_currency, Company.locale, Company.fiscal_year_start_month,
                           Company.books_locked_until)).first()
    if row is None:
        raise NotFound("This company file has no company profile.")
    return _Books(*row)


def company_in_session(s: Session) -> Company:
    """The company row, read once per transaction (`tx_cache`) for the posting paths.

    The session's own object: a change made to it earlier in the transaction
    is seen, exactly as a fresh query would see it after autoflush.
    """
    cache = tx_cache(s)
    company = cache.get(_COMPANY)
    if company is None or company not in s:
        company = s.scalars(select(Company)).first()
        if company is None:
            raise NotFound("This company file has no company profile.")
        cache[_COMPANY] = company
    return company


@dataclass(frozen=True)
class CompanyFacts:
    """What the posting paths read from the company row, as a plain value that may be
    kept across transactions (`models.database.reference_cache`)."""

    id: uuid.UUID
    base_currency: str
    locale: str
    fiscal_year_start_month: int
    books_locked_until: date | None
    country: str
    state: str | None
    state_code: str | None
    tax_regime: str


def company_facts(s: Session) -> Company | CompanyFacts:
    """The company row for the posting paths: kept across transactions where the
    transaction uses the reference cache (a `CompanyFacts`), else `company_in_session`."""
    cache = reference_cache(s)
    if cache is None:
        return company_in_session(s)
    facts = cache.get(_COMPANY)
    if facts is None:
        c = company_in_session(s)
        facts = remember(s, _COMPANY, CompanyFacts(
            c.id, c.base_currency, c.locale, c.fiscal_year_start_month, c.books_locked_until,
            c.country, c.state, c.state_code, c.tax_regime))
    return facts  # type: ignore[no-any-return]


def _posting_books(s: Session) -> _Books:
    """`_books` for the posting path, from the transaction's company row."""
    company = company_facts(s)
    return _Books(company.base_currency, company.locale, company.fiscal_year_start_month,
                  company.books_locked_until)


def _fmt_date(d: date, locale: str) -> str:
    from babel.dates import format_date  # late: babel is slow to load

    return format_date(d, "d MMM y", locale=locale)


def _check_date(value: object, field: str, label: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError(f"{label} must be a date.", field=field)
    return value


def _as_uuid(value: object) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            return None
    return None


def _find_account(s: Session, code_or_id: object) -> Account | None:
    acc = None
    if isinstance(code_or_id, str):
        code = code_or_id.strip()
        acc = s.scalars(select(Account).where(Account.code == code)).one_or_none()
    if acc is None:
        acc_id = _as_uuid(code_or_id)
        if acc_id is not None:
            acc = s.get(Account, acc_id)
    if acc is None or acc.deleted_at is not None:
        return None
    return acc


def _normal_side(account_type: str) -> str:
    return "debit" if account_type in DEBIT_NORMAL else "credit"


def _natural(account_type: str, debit_minor: int, credit_minor: int) -> int:
    """A balance in minor units on the account type's normal side."""
    net = debit_minor - credit_minor
    return net if account_type in DEBIT_NORMAL else -net


def _account_row(acc: Account, parent_code: str | None) -> AccountRow:
    return AccountRow(id=acc.id, code=acc.code, name=acc.name, type=acc.type,
                      parent_code=parent_code, is_group=acc.is_group,
                      system_key=acc.system_key, active=acc.active,
                      description=acc.description, version=acc.version)


def _parent_code(s: Session, acc: Account) -> str | None:
    if acc.parent_id is None:
        return None
    return s.scalar(select(Account.code).where(Account.id == acc.parent_id))


# --------------------------------------------------------------------------- accounts


def list_accounts(ctx: Context, *, include_inactive: bool = True) -> list[AccountRow]:
    """The chart of accounts in code order."""
    ctx.require("ledger.view")
    with ctx.db.read() as s:
        accounts = s.scalars(select(Account).where(Account.deleted_at.is_(None))
                             .order_by(Account.code)).all()
        codes = {a.id: a.code for a in accounts}
        return [_account_row(a, codes.get(a.parent_id) if a.parent_id else None)
                for a in accounts if include_inactive or a.active]


def _validate_code(code: str) -> str:
    code = (code or "").strip()
    if not code:
        raise ValidationError("Enter an account code.", field="code")
    if len(code) > 20 or not all(c.isalnum() or c in ".-_" for c in code):
        raise ValidationError("An account code is up to 20 letters, digits, dots or dashes.",
                              field="code")
    return code


def _validate_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError("Enter the account's name.", field="name")
    if len(name) > 120:
        raise ValidationError("An account name is at most 120 characters.", field="name")
    return name


def create_account(ctx: Context, code: str, name: str, type: str,
                   parent_code: str | None = None, *, is_group: bool = False,
                   description: str | None = None) -> AccountRow:
    """Add an account (or a group of accounts) to the chart."""
    ctx.require("ledger.accounts.manage")
    code = _validate_code(code)
    name = _validate_name(name)
    kind = (type or "").strip().lower()
    if kind not in ACCOUNT_TYPES:
        raise ValidationError(f"Account type must be one of {', '.join(ACCOUNT_TYPES)}.",
                              field="type")
    with ctx.db.write(ctx.actor.user_id) as s:
        existing = s.scalars(select(Account).where(Account.code == code)).one_or_none()
        if existing is not None:
            raise ValidationError(f"Account code {code} is already used by "
                                  f"'{existing.name}'. Choose another code.", field="code")
        parent = None
        if parent_code is not None and parent_code.strip():
            parent = _find_account(s, parent_code.strip())
            if parent is None:
                raise ValidationError(f"There is no account {parent_code.strip()} to put this "
                                      "account under.", field="parent_code")
            if not parent.is_group:
                raise ValidationError(f"{parent.code} {parent.name} is not a group account; "
                                      "put the account under a group.", field="parent_code")
            if parent.type != kind:
                raise ValidationError(f"An {kind} account cannot go under {parent.code} "
                                      f"{parent.name}, which is a group of {parent.type} "
                                      "accounts.", field="parent_code")
        acc = Account(code=code, name=name, type=kind, is_group=is_group,
                      parent_id=parent.id if parent else None,
                      description=(description or "").strip() or None, active=True)
        s.add(acc)
        s.flush()
        audit.record(s, ctx, "ledger.account_created", entity="account", entity_id=acc.id,
                     details={"code": code, "type": kind, "group": is_group})
        return _account_row(acc, parent.code if parent else None)


def update_account(ctx: Context, account_id: uuid.UUID, *, name: str | None = None,
                   active: bool | None = None, description: str | None = None,
                   version: int) -> AccountRow:
    """Rename, describe, deactivate or reactivate an account (optimistic locking)."""
    ctx.require("ledger.accounts.manage")
    with ctx.db.write(ctx.actor.user_id) as s:
        acc = _find_account(s, account_id)
        if acc is None:
            raise NotFound("That account does not exist.")
        if acc.version != version:
            raise Conflict(f"Account {acc.code} {acc.name} was changed by someone else since "
                           "you opened it. Open it again to see the change, then retry.")
        changed: list[str] = []
        if name is not None:
            new_name = _validate_name(name)
            if new_name != acc.name:
                acc.name = new_name
                changed.append("name")
        if description is not None:
            new_desc = description.strip() or None
            if new_desc != acc.description:
                acc.description = new_desc
                changed.append("description")
        if active is not None and bool(active) != acc.active:
            if not active and acc.system_key:
                raise ValidationError(f"{acc.code} {acc.name} is used by the app to post "
                                      "documents and cannot be deactivated.", field="active")
            acc.active = bool(active)
            changed.append("active")
        if changed:
            s.flush()
            audit.record(s, ctx, "ledger.account_updated", entity="account", entity_id=acc.id,
                         details={"code": acc.code, "fields": changed,
                                  "active": acc.active})
        return _account_row(acc, _parent_code(s, acc))


# --------------------------------------------------------------------------- posting


@dataclass(frozen=True)
class _Checked:
    account: Account | _AccountFacts
    debit_minor: int
    credit_minor: int
    memo: str | None
    party_type: str | None
    party_id: uuid.UUID | None


def _line_amount(value: object, line_no: int, side: str, currency: str) -> int:
    if value is None:
        return 0
    if isinstance(value, Money):
        if value.currency != currency:
            raise PostingError(f"Line {line_no}: the {side} is in {value.currency}; the books "
                               f"are kept in {currency}.", field="lines")
        amount = value.amount
    else:
        try:
            amount = parse_decimal(value, side)
        except ValidationError as exc:
            raise PostingError(f"Line {line_no}: {exc.message}", field="lines") from None
    if amount < 0:
        raise PostingError(f"Line {line_no}: a {side} cannot be negative; use the other "
                           "column instead.", field="lines")
    try:
        return to_minor(amount, currency)
    except ValidationError:
        raise PostingError(f"Line {line_no}: {amount} has more decimal places than "
                           f"{currency} allows.", field="lines") from None


@dataclass(frozen=True)
class _AccountFacts:
    """What posting checks of an account, kept across transactions (reference cache)."""

    id: uuid.UUID
    code: str
    name: str
    is_group: bool
    active: bool
    deleted_at: datetime | None

    @classmethod
    def of(cls, acc: Account) -> _AccountFacts:
        return cls(acc.id, acc.code, acc.name, acc.is_group, acc.active, acc.deleted_at)


def _posting_account(s: Session, ref: object) -> Account | _AccountFacts | None:
    """`_find_account`, remembered for the transaction: a batch of invoices posts to the
    same few accounts hundreds of times. The object is the session's own, so a
    change made to it earlier in the transaction is seen, as with a fresh lookup.
    In a transaction that uses the reference cache, remembered across transactions."""
    shared = reference_cache(s)
    if shared is not None:
        facts = shared.get((_ACCOUNTS, ref))
        if facts is None:
            acc = _find_account(s, ref)
            if acc is None:
                return None
            facts = remember(s, (_ACCOUNTS, ref), _AccountFacts.of(acc))
        return None if facts.deleted_at is not None else facts  # type: ignore[no-any-return]
    known: dict[object, Account] = tx_cache(s).setdefault(_ACCOUNTS, {})
    acc = known.get(ref)
    if acc is None or acc not in s:
        acc = _find_account(s, ref)
        if acc is None:
            return None
        known[ref] = acc
    return None if acc.deleted_at is not None else acc


def _prefetch_accounts(s: Session, lines: Sequence[LineInput]) -> None:
    """The accounts given by id that this transaction has not looked up yet, in one
    query (what `_find_account` would get one by one with `Session.get`)."""
    shared = reference_cache(s)
    if shared is not None:
        ids = {ln.account_code_or_id for ln in lines if isinstance(ln, LineInput)
               and isinstance(ln.account_code_or_id, uuid.UUID)
               and (_ACCOUNTS, ln.account_code_or_id) not in shared}
        if len(ids) > 1:
            for acc in s.scalars(select(Account).where(Account.id.in_(ids))):
                remember(s, (_ACCOUNTS, acc.id), _AccountFacts.of(acc))
        return
    known: dict[object, Account] = tx_cache(s).setdefault(_ACCOUNTS, {})
    ids = {ln.account_code_or_id for ln in lines if isinstance(ln, LineInput)
           and isinstance(ln.account_code_or_id, uuid.UUID)
           and ln.account_code_or_id not in known}
    if len(ids) > 1:
        for acc in s.scalars(select(Account).where(Account.id.in_(ids))):
            known[acc.id] = acc


def _check_lines(s: Session, lines: Sequence[LineInput], books: _Books,
                 allow_inactive: bool) -> list[_Checked]:
    if len(lines) < 2:
        raise PostingError("A journal entry needs at least two lines: one debit and one "
                           "credit.", field="lines")
    _prefetch_accounts(s, lines)
    checked: list[_Checked] = []
    for no, line in enumerate(lines, start=1):
        if not isinstance(line, LineInput):
            raise PostingError(f"Line {no}: not a journal line.", field="lines")
        debit = _line_amount(line.debit, no, "debit", books.currency)
        credit = _line_amount(line.credit, no, "credit", books.currency)
        if debit and credit:
            raise PostingError(f"Line {no}: enter a debit or a credit, not both.",
                               field="lines")
        if not debit and not credit:
            raise PostingError(f"Line {no}: enter a debit or a credit.", field="lines")
        ref = line.account_code_or_id
        acc = _posting_account(s, ref) if ref not in (None, "") else None
        if acc is None:
            shown = ref if ref not in (None, "") else "(none)"
            raise PostingError(f"Line {no}: there is no account {shown}.", field="lines")
        if acc.is_group:
            raise PostingError(f"Line {no}: {acc.code} {acc.name} is a group of accounts; "
                               "post to one of the accounts under it.", field="lines")
        if not acc.active and not allow_inactive:
            raise PostingError(f"Line {no}: account {acc.code} {acc.name} is inactive.",
                               field="lines")
        if line.party_type is not None and line.party_type not in PARTY_TYPES:
            raise PostingError(f"Line {no}: a party is a {', '.join(PARTY_TYPES)}.",
                               field="lines")
        if (line.party_id is None) != (line.party_type is None):
            raise PostingError(f"Line {no}: give both the party and its type, or neither.",
                               field="lines")
        memo = (line.memo or "").strip() or None
        checked.append(_Checked(acc, debit, credit, memo, line.party_type, line.party_id))
    total_debit = sum(c.debit_minor for c in checked)
    total_credit = sum(c.credit_minor for c in checked)
    if total_debit != total_credit:
        d = format_money(Money.from_minor(total_debit, books.currency), books.locale)
        c = format_money(Money.from_minor(total_credit, books.currency), books.locale)
        raise PostingError(f"The entry does not balance: debits {d}, credits {c}.",
                           field="lines")
    return checked


def _check_period(ctx: Context, books: _Books, entry_date: date, override_lock: bool) -> bool:
    """True when the posting goes into a locked period by an allowed override."""
    locked = books.locked_until
    if locked is None or entry_date > locked:
        return False
    shown = _fmt_date(locked, books.locale)
    if override_lock and ctx.actor.can("ledger.period.override"):
        return True
    raise PeriodLocked(f"The books are locked up to {shown}. Choose a date after {shown}, or "
                       "ask someone allowed to post into a locked period.", field="entry_date")


def _entry_result(entry: JournalEntry, currency: str,
                  reversal_of_number: str | None = None,
                  reversed_by_number: str | None = None,
                  accounts: dict[uuid.UUID, tuple[str, str]] | None = None) -> EntryResult:
    lines: list[EntryLine] = []
    for ln in entry.lines:
        code, name = accounts[ln.account_id] if accounts else ("", "")
        lines.append(EntryLine(
            line_no=ln.line_no, account_id=ln.account_id, account_code=code, account_name=name,
            debit=Money.from_minor(ln.debit_minor, currency),
            credit=Money.from_minor(ln.credit_minor, currency), memo=ln.memo,
            party_type=ln.party_type, party_id=ln.party_id))
    return EntryResult(
        id=entry.id, number=entry.number, entry_date=entry.entry_date, memo=entry.memo,
        total=Money.from_minor(entry.total_minor, currency), lines=lines,
        source_type=entry.source_type, source_id=entry.source_id,
        reversal_of_id=entry.reversal_of_id, reversal_of_number=reversal_of_number,
        reversed_by_number=reversed_by_number, lock_override=entry.lock_override)


def _number_taken(session: Session, number: str) -> bool:
    """An entry with this number exists in the table or among this transaction's rows.

    While an issuing path holds rows deferred (`models.changes.deferred_records`),
    a plain query on the connection plus a look at the deferred entries: an ORM
    query would write them out once per invoice.
    """
    if not deferring(session):
        return session.scalar(select(JournalEntry.id).where(JournalEntry.number == number)) \
            is not None
    if any(isinstance(obj, JournalEntry) for obj in session.new):
        session.flush()  # what an ORM query would have done first (autoflush)
    if any(row["number"] == number for row in pending_records(session, JournalEntry)):
        return True
    # Against the table: once for all the entries deferred, just before they are written
    check = pending_check(session, _CHECK_NUMBERS)
    if check is None:
        check = partial(_numbers_free, [])
        check_before_write(session, _CHECK_NUMBERS, check)
    check.args[0].append(number)
    return False


_CHECK_NUMBERS = "ledger.numbers_free"


def _numbers_free(numbers: list[str], session: Session) -> None:
    """The entries about to be written have numbers no entry in the table has."""
    conn = session.connection()
    for i in range(0, len(numbers), 500):
        chunk = numbers[i:i + 500]
        taken = conn.exec_driver_sql(
            f"SELECT number FROM journal_entry WHERE number IN ({', '.join('?' * len(chunk))})",
            tuple(chunk)).first()
        if taken is not None:
            raise PostingError(f"There is already a journal entry numbered {taken[0]}.",
                               field="number")


@dataclass(frozen=True)
class Posted:
    """An entry `post_rows_in_session` wrote: its id and number."""

    id: uuid.UUID
    number: str


def post_in_session(session: Session, ctx: Context, entry_date: date, lines: Sequence[LineInput],
                    memo: str | None = None, *, doc_type: str = JOURNAL_DOC_TYPE,
                    prefix: str = JOURNAL_PREFIX, number: str | None = None,
                    source_type: str | None = None, source_id: uuid.UUID | None = None,
                    override_lock: bool = False, reversal_of_id: uuid.UUID | None = None,
                    audit_action: str | None = "ledger.entry_posted",
                    allow_inactive: bool = False) -> EntryResult:
    """Validate and write one balanced entry inside the caller's write transaction.

    The one posting path: invoicing, stock and payroll call it with their own
    `doc_type`/`prefix` (or a `number` they already took from their series)
    and `source_type`/`source_id`, so their document and its entry commit
    together. It does not check a permission (the calling use case did);
    a posting into a locked period needs `override_lock` and the actor's
    `ledger.period.override`, and is audited. `audit_action=None` leaves the
    audit event to the caller (which records its own document event).
    """
    entry, rows, checked = _post(session, ctx, entry_date, lines, memo, doc_type=doc_type,
                                 prefix=prefix, number=number, source_type=source_type,
                                 source_id=source_id, override_lock=override_lock,
                                 reversal_of_id=reversal_of_id, audit_action=audit_action,
                                 allow_inactive=allow_inactive)
    cur = entry["currency"]
    return EntryResult(
        id=entry["id"], number=entry["number"], entry_date=entry["entry_date"],
        memo=entry["memo"], total=Money.from_minor(entry["total_minor"], cur),
        lines=[EntryLine(line_no=r["line_no"], account_id=c.account.id,
                         account_code=c.account.code, account_name=c.account.name,
                         debit=Money.from_minor(c.debit_minor, cur),
                         credit=Money.from_minor(c.credit_minor, cur), memo=c.memo,
                         party_type=c.party_type, party_id=c.party_id)
               for r, c in zip(rows, checked, strict=True)],
        source_type=source_type, source_id=source_id, reversal_of_id=reversal_of_id,
        reversal_of_number=None, reversed_by_number=None,
        lock_override=entry["lock_override"])


def post_rows_in_session(session: Session, ctx: Context, entry_date: date,
                         lines: Sequence[LineInput], memo: str | None = None, *,
                         number: str | None = None, source_type: str | None = None,
                         source_id: uuid.UUID | None = None,
                         audit_action: str | None = "ledger.entry_posted") -> Posted:
    """`post_in_session` for posting paths that need only the entry's id and number
    (issuing invoices): the same checks and rows, without building the entry's view."""
    entry, _rows, _checked = _post(session, ctx, entry_date, lines, memo, number=number,
                                   source_type=source_type, source_id=source_id,
                                   audit_action=audit_action)
    return Posted(entry["id"], entry["number"])


def _post(session: Session, ctx: Context, entry_date: date, lines: Sequence[LineInput],
          memo: str | None = None, *, doc_type: str = JOURNAL_DOC_TYPE,
          prefix: str = JOURNAL_PREFIX, number: str | None = None,
          source_type: str | None = None, source_id: uuid.UUID | None = None,
          override_lock: bool = False, reversal_of_id: uuid.UUID | None = None,
          audit_action: str | None = "ledger.entry_posted", allow_inactive: bool = False
          ) -> tuple[dict[str, Any], list[dict[str, Any]], list[_Checked]]:
    """Check and write one entry (see `post_in_session`): (entry row, line rows, checked
    lines)."""
    entry_date = _check_date(entry_date, "entry_date", "The entry date")
    books = _posting_books(session)
    checked = _check_lines(session, lines, books, allow_inactive)
    overridden = _check_period(ctx, books, entry_date, override_lock)
    memo = (memo or "").strip() or None
    if source_type is not None and not (0 < len(source_type) <= 30):
        raise PostingError("A source type is one to thirty characters.", field="source_type")
    if number is None:
        number = next_number(session, doc_type, prefix, ctx.device.code, entry_date,
                             books.fy_start_month)
    elif _number_taken(session, number):
        raise PostingError(f"There is already a journal entry numbered {number}.",
                           field="number")
    total = sum(c.debit_minor for c in checked)
    cur = books.currency
    entry_id = new_id()
    entry = {"id": entry_id, "created_at": None, "created_by": None, "number": number,
             "entry_date": entry_date, "memo": memo, "currency": cur, "total_minor": total,
             "source_type": source_type, "source_id": source_id,
             "reversal_of_id": reversal_of_id, "lock_override": overridden}
    rows = [{"id": None, "created_at": None, "created_by": None, "entry_id": entry_id,
             "line_no": no, "account_id": c.account.id, "entry_date": entry_date,
             "debit_minor": c.debit_minor, "credit_minor": c.credit_minor, "currency": cur,
             "memo": c.memo, "party_type": c.party_type, "party_id": c.party_id}
            for no, c in enumerate(checked, start=1)]
    # Written at once with Core, outbox rows included (models.changes.insert_records):
    # the entry is append-only and nothing here needs it as an ORM object again.
    insert_records(session, (JournalEntry, [entry]), (JournalLine, rows))
    if overridden:
        audit.record(session, ctx, "ledger.period_lock_overridden", entity="journal_entry",
                     entity_id=entry_id,
                     details={"number": number, "entry_date": entry_date,
                              "locked_until": books.locked_until})
    if audit_action:
        audit.record(session, ctx, audit_action, entity="journal_entry", entity_id=entry_id,
                     details={"number": number, "entry_date": entry_date,
                              "lines": len(checked), "source_type": source_type,
                              "reversal_of": reversal_of_id})
    return entry, rows, checked


def post_entry(ctx: Context, entry_date: date, lines: Sequence[LineInput],
               memo: str | None = None, *, source_type: str | None = None,
               source_id: uuid.UUID | None = None, override_lock: bool = False) -> EntryResult:
    """Post a manual journal voucher (JV/…): balanced, numbered, audited."""
    ctx.require("ledger.post")
    if override_lock:
        # Asked for up front, outside the posting transaction, so a refusal is audited.
        ctx.require("ledger.period.override")
    with ctx.db.write(ctx.actor.user_id) as s:
        return post_in_session(s, ctx, entry_date, lines, memo,
                               source_type=source_type or MANUAL_SOURCE, source_id=source_id,
                               override_lock=override_lock)


def reverse_in_session(session: Session, ctx: Context, entry_id: uuid.UUID,
                       on: date | None = None, memo: str | None = None, *,
                       doc_type: str = JOURNAL_DOC_TYPE, prefix: str = JOURNAL_PREFIX,
                       number: str | None = None, source_type: str | None = None,
                       source_id: uuid.UUID | None = None, override_lock: bool = False,
                       audit_action: str | None = "ledger.entry_reversed") -> EntryResult:
    """Write the reversing entry of `entry_id` inside the caller's transaction.

    For documents that cancel their own postings (a voided payment, a
    cancelled payroll run); `reverse_entry` is the manual use case.
    """
    eid = _as_uuid(entry_id)
    original = session.get(JournalEntry, eid) if eid else None
    if original is None:
        raise NotFound("That journal entry does not exist.")
    if original.reversal_of_id is not None:
        first = session.scalar(select(JournalEntry.number)
                               .where(JournalEntry.id == original.reversal_of_id))
        raise PostingError(f"{original.number} is itself the reversal of {first} and cannot "
                           f"be reversed. Post a new entry instead.")
    already = session.scalar(select(JournalEntry.number)
                             .where(JournalEntry.reversal_of_id == original.id))
    if already is not None:
        raise PostingError(f"{original.number} is already reversed by {already}.")
    on = _check_date(on if on is not None else ctx.today(), "on", "The reversal date")
    if on < original.entry_date:
        books = _books(session)
        raise PostingError(f"A reversal cannot be dated before the entry it reverses "
                           f"({_fmt_date(original.entry_date, books.locale)}).", field="on")
    swapped = [LineInput(ln.account_id, debit=Money.from_minor(ln.credit_minor, ln.currency),
                         credit=Money.from_minor(ln.debit_minor, ln.currency), memo=ln.memo,
                         party_type=ln.party_type, party_id=ln.party_id)
               for ln in original.lines]
    result = post_in_session(
        session, ctx, on, swapped, memo or f"Reversal of {original.number}", doc_type=doc_type,
        prefix=prefix, number=number, source_type=source_type or original.source_type,
        source_id=source_id if source_id is not None else original.source_id,
        override_lock=override_lock, reversal_of_id=original.id, audit_action=audit_action,
        allow_inactive=True)  # undoing a posting must work even if an account was retired
    return replace(result, reversal_of_number=original.number)


def reverse_entry(ctx: Context, entry_id: uuid.UUID, on: date | None = None,
                  memo: str | None = None, *, override_lock: bool = False) -> EntryResult:
    """Reverse a manual journal entry with a new one, debits and credits swapped.

    An entry is reversed once; a reversal is not reversed again (post anew).
    Entries written by a document (an invoice, a payslip ...) are corrected
    through that document (a credit note, a cancellation), never here, so the
    document and its ledger entry cannot drift apart.
    """
    ctx.require("ledger.post")
    if override_lock:
        ctx.require("ledger.period.override")
    with ctx.db.write(ctx.actor.user_id) as s:
        eid = _as_uuid(entry_id)
        original = s.get(JournalEntry, eid) if eid else None
        if original is None:
            raise NotFound("That journal entry does not exist.")
        if original.source_type not in (None, MANUAL_SOURCE) and original.reversal_of_id is None:
            doc = original.source_type.replace("_", " ")
            raise PostingError(f"{original.number} was posted by the {doc} it belongs to; "
                               f"correct it through that {doc} instead.")
        return reverse_in_session(s, ctx, original.id, on, memo, override_lock=override_lock)


def get_entry(ctx: Context, entry_id: uuid.UUID) -> EntryResult:
    """One journal entry with its lines, and what reverses it, if anything."""
    ctx.require("ledger.view")
    with ctx.db.read() as s:
        eid = _as_uuid(entry_id)
        entry = s.get(JournalEntry, eid) if eid else None
        if entry is None:
            raise NotFound("That journal entry does not exist.")
        ids = {ln.account_id for ln in entry.lines}
        accounts = {r.id: (r.code, r.name) for r in s.execute(
            select(Account.id, Account.code, Account.name).where(Account.id.in_(ids)))}
        rev_of = (s.scalar(select(JournalEntry.number)
                           .where(JournalEntry.id == entry.reversal_of_id))
                  if entry.reversal_of_id else None)
        rev_by = s.scalar(select(JournalEntry.number)
                          .where(JournalEntry.reversal_of_id == entry.id))
        return _entry_result(entry, entry.currency, reversal_of_number=rev_of,
                             reversed_by_number=rev_by, accounts=accounts)


def list_entries(ctx: Context, date_from: date | None = None, date_to: date | None = None, *,
                 after: EntryCursor | None = None, limit: int = 100) -> EntryPage:
    """Journal entries in date order, a page at a time (keyset on date and id)."""
    ctx.require("ledger.view")
    limit = _check_limit(limit)
    if date_from is not None:
        date_from = _check_date(date_from, "date_from", "The start date")
    if date_to is not None:
        date_to = _check_date(date_to, "date_to", "The end date")
    with ctx.db.read() as s:
        books = _books(s)
        stmt = select(JournalEntry.id, JournalEntry.number, JournalEntry.entry_date,
                      JournalEntry.memo, JournalEntry.total_minor, JournalEntry.source_type,
                      JournalEntry.reversal_of_id)
        if date_from is not None:
            stmt = stmt.where(JournalEntry.entry_date >= date_from)
        if date_to is not None:
            stmt = stmt.where(JournalEntry.entry_date <= date_to)
        if after is not None:
            stmt = stmt.where(or_(JournalEntry.entry_date > after.entry_date,
                                  and_(JournalEntry.entry_date == after.entry_date,
                                       JournalEntry.id > after.entry_id)))
        rows = s.execute(stmt.order_by(JournalEntry.entry_date, JournalEntry.id)
                         .limit(limit + 1)).all()
        more = len(rows) > limit
        rows = rows[:limit]
        out = [EntrySummary(id=r.id, number=r.number, entry_date=r.entry_date, memo=r.memo,
                            total=Money.from_minor(r.total_minor, books.currency),
                            source_type=r.source_type, reversal_of_id=r.reversal_of_id)
               for r in rows]
        cursor = EntryCursor(rows[-1].entry_date, rows[-1].id) if more and rows else None
        return EntryPage(out, cursor)


def lock_books(ctx: Context, until: date | None) -> BooksLock:
    """Lock the books up to and including `until` (None unlocks them)."""
    ctx.require("ledger.period.lock")
    if until is not None:
        until = _check_date(until, "until", "The lock date")
        if until > ctx.today():
            raise ValidationError("The books can only be locked up to today or an earlier "
                                  "date.", field="until")
    with ctx.db.write(ctx.actor.user_id) as s:
        company = s.scalars(select(Company)).one()
        previous = company.books_locked_until
        if previous != until:
            company.books_locked_until = until
            s.flush()
        audit.record(s, ctx, "ledger.books_locked" if until else "ledger.books_unlocked",
                     entity="company", entity_id=company.id,
                     details={"locked_until": until, "previous": previous})
        return BooksLock(until, previous)


# --------------------------------------------------------------------------- reports


def _check_limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError(f"A page holds 1 to {MAX_PAGE} rows.", field="limit")
    return limit


def _check_range(date_from: object, date_to: object) -> tuple[date, date]:
    start = _check_date(date_from, "date_from", "The start date")
    end = _check_date(date_to, "date_to", "The end date")
    if start > end:
        raise ValidationError("The start date is after the end date.", field="date_from")
    return start, end


@dataclass(frozen=True)
class _AccountInfo:
    code: str
    name: str
    type: str
    group: str | None


def _account_info(s: Session) -> dict[uuid.UUID, _AccountInfo]:
    """The chart (a few hundred rows at most), with each account's group name."""
    rows = s.execute(select(Account.id, Account.code, Account.name, Account.type,
                            Account.parent_id)).all()
    names = {r.id: r.name for r in rows}
    return {r.id: _AccountInfo(r.code, r.name, r.type,
                               names.get(r.parent_id) if r.parent_id else None) for r in rows}


def _sums_stmt(date_from: date | None, date_to: date | None,
               types: Sequence[str] | None = None) -> Any:
    """Debit and credit totals per account, added up by SQLite.

    Driven from the (small) account table, each account's lines are one range
    seek on the covering index (account_id, entry_date, debit, credit).
    """
    cond = [JournalLine.account_id == Account.id]
    if date_from is not None:
        cond.append(JournalLine.entry_date >= date_from)
    if date_to is not None:
        cond.append(JournalLine.entry_date <= date_to)
    stmt = (select(Account.id, func.sum(JournalLine.debit_minor),
                   func.sum(JournalLine.credit_minor))
            .select_from(Account).join(JournalLine, and_(*cond)).group_by(Account.id))
    if types is not None:
        stmt = stmt.where(Account.type.in_(list(types)))
    return stmt


def _sums(s: Session, date_from: date | None, date_to: date | None,
          types: Sequence[str] | None = None) -> dict[uuid.UUID, tuple[int, int]]:
    return {r[0]: (int(r[1] or 0), int(r[2] or 0))
            for r in s.execute(_sums_stmt(date_from, date_to, types))}


def trial_balance(ctx: Context, as_of: date) -> TrialBalance:
    """Every account's balance up to and including `as_of`, as a debit or a credit."""
    ctx.require("reports.financial")
    as_of = _check_date(as_of, "as_of", "The date")
    with ctx.db.read() as s:
        books = _books(s)
        info = _account_info(s)
        cur = books.currency
        rows: list[TBRow] = []
        total_dr = total_cr = 0
        for acc_id, (dr, cr) in _sums(s, None, as_of).items():
            net = dr - cr
            if net == 0:
                continue
            a = info[acc_id]
            debit, credit = (net, 0) if net > 0 else (0, -net)
            total_dr += debit
            total_cr += credit
            rows.append(TBRow(a.code, a.name, a.type, Money.from_minor(debit, cur),
                              Money.from_minor(credit, cur)))
        rows.sort(key=lambda r: r.code)
        return TrialBalance(as_of, rows, Money.from_minor(total_dr, cur),
                            Money.from_minor(total_cr, cur))


def general_ledger(ctx: Context, account: str | uuid.UUID, date_from: date, date_to: date, *,
                   after: GLCursor | None = None, limit: int = 200) -> GLPage:
    """An account's lines between two dates with a running balance, one page at a time.

    Pages follow (entry_date, line id); ids are time-ordered, so lines of one
    day appear in posting order. Pass the previous page's `next_cursor` as
    `after` for the next page; its opening balance is computed by SQLite.
    """
    ctx.require("ledger.view")
    date_from, date_to = _check_range(date_from, date_to)
    limit = _check_limit(limit)
    with ctx.db.read() as s:
        books = _books(s)
        cur = books.currency
        acc = _find_account(s, account)
        if acc is None:
            raise NotFound(f"There is no account {account}.")
        L = JournalLine

        def net(*where: Any) -> int:
            dr, cr = s.execute(select(func.coalesce(func.sum(L.debit_minor), 0),
                                      func.coalesce(func.sum(L.credit_minor), 0))
                               .where(L.account_id == acc.id, *where)).one()
            return _natural(acc.type, int(dr), int(cr))

        opening = net(L.entry_date < date_from)
        if after is not None:
            opening += net(L.entry_date >= date_from, L.entry_date <= date_to,
                           or_(L.entry_date < after.entry_date,
                               and_(L.entry_date == after.entry_date, L.id <= after.line_id)))
        closing = net(L.entry_date <= date_to)
        stmt = (select(L.id, L.entry_date, L.debit_minor, L.credit_minor,
                       func.coalesce(L.memo, JournalEntry.memo).label("memo"),
                       JournalEntry.number, JournalEntry.id.label("entry_id"))
                .join(JournalEntry, JournalEntry.id == L.entry_id)
                .where(L.account_id == acc.id, L.entry_date >= date_from,
                       L.entry_date <= date_to))
        if after is not None:
            stmt = stmt.where(or_(L.entry_date > after.entry_date,
                                  and_(L.entry_date == after.entry_date, L.id > after.line_id)))
        found = s.execute(stmt.order_by(L.entry_date, L.id).limit(limit + 1)).all()
        more = len(found) > limit
        found = found[:limit]
        running = opening
        rows: list[GLRow] = []
        for r in found:
            running += _natural(acc.type, r.debit_minor, r.credit_minor)
            rows.append(GLRow(r.entry_id, r.number, r.entry_date, r.memo,
                              Money.from_minor(r.debit_minor, cur),
                              Money.from_minor(r.credit_minor, cur),
                              Money.from_minor(running, cur)))
        cursor = GLCursor(found[-1].entry_date, found[-1].id) if more and found else None
        return GLPage(acc.code, acc.name, acc.type, _normal_side(acc.type), date_from, date_to,
                      Money.from_minor(opening, cur), rows, Money.from_minor(closing, cur),
                      cursor)


def iter_general_ledger(ctx: Context, account: str | uuid.UUID, date_from: date, date_to: date,
                        *, page_size: int = 1000) -> Iterator[GLPage]:
    """Every page of an account's ledger in turn (for exports)."""
    after: GLCursor | None = None
    while True:
        page = general_ledger(ctx, account, date_from, date_to, after=after, limit=page_size)
        yield page
        if page.next_cursor is None:
            return
        after = page.next_cursor


def _report_rows(sums: dict[uuid.UUID, tuple[int, int]], info: dict[uuid.UUID, _AccountInfo],
                 account_type: str, currency: str) -> tuple[list[ReportRow], int]:
    rows: list[ReportRow] = []
    total = 0
    for acc_id, (dr, cr) in sums.items():
        a = info[acc_id]
        if a.type != account_type:
            continue
        amount = _natural(a.type, dr, cr)
        if amount == 0:
            continue
        total += amount
        rows.append(ReportRow(a.code, a.name, a.group, Money.from_minor(amount, currency)))
    rows.sort(key=lambda r: r.code or "")
    return rows, total


def profit_and_loss(ctx: Context, date_from: date, date_to: date) -> ProfitAndLoss:
    """Income and expenses between two dates (inclusive) and the net profit."""
    ctx.require("reports.financial")
    date_from, date_to = _check_range(date_from, date_to)
    with ctx.db.read() as s:
        books = _books(s)
        cur = books.currency
        info = _account_info(s)
        sums = _sums(s, date_from, date_to, ("income", "expense"))
        income, total_income = _report_rows(sums, info, "income", cur)
        expenses, total_expense = _report_rows(sums, info, "expense", cur)
        return ProfitAndLoss(date_from, date_to, income, expenses,
                             Money.from_minor(total_income, cur),
                             Money.from_minor(total_expense, cur),
                             Money.from_minor(total_income - total_expense, cur))


CURRENT_YEAR_EARNINGS = "Current year earnings"
EARLIER_EARNINGS = "Earlier years' earnings (not closed)"


def balance_sheet(ctx: Context, as_of: date) -> BalanceSheet:
    """Assets, liabilities and equity at the end of `as_of`.

    Income and expense still sitting in their accounts (no closing entry has
    moved them to retained earnings) appear under equity as computed lines:
    this fiscal year's as "Current year earnings", earlier years' apart, so
    the sheet balances whether or not a year has been closed.
    """
    ctx.require("reports.financial")
    as_of = _check_date(as_of, "as_of", "The date")
    with ctx.db.read() as s:
        books = _books(s)
        cur = books.currency
        info = _account_info(s)
        sums = _sums(s, None, as_of)
        assets, total_assets = _report_rows(sums, info, "asset", cur)
        liabilities, total_liabilities = _report_rows(sums, info, "liability", cur)
        equity, total_equity = _report_rows(sums, info, "equity", cur)

        def earnings(values: dict[uuid.UUID, tuple[int, int]]) -> int:
            # income less expense: both read as credit minus debit
            return sum(cr - dr for k, (dr, cr) in values.items()
                       if info[k].type in ("income", "expense"))

        all_earnings = earnings(sums)
        fy_start = fiscal_year_start(as_of, books.fy_start_month)
        earlier = earnings(_sums(s, None, fy_start - timedelta(days=1), ("income", "expense")))
        if earlier:
            equity.append(ReportRow(None, EARLIER_EARNINGS, None, Money.from_minor(earlier, cur)))
        equity.append(ReportRow(None, CURRENT_YEAR_EARNINGS, None,
                                Money.from_minor(all_earnings - earlier, cur)))
        total_equity += all_earnings
        return BalanceSheet(as_of, assets, liabilities, equity,
                            Money.from_minor(total_assets, cur),
                            Money.from_minor(total_liabilities, cur),
                            Money.from_minor(total_equity, cur),
                            Money.from_minor(total_liabilities + total_equity, cur))


# --------------------------------------------------------------------------- CSV

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Money):
        return str(value.amount)  # plain decimal, no symbol or grouping
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (Decimal, int)):
        return str(value)
    if isinstance(value, (date, uuid.UUID)):
        return str(value)
    text = str(value)
    # A name typed as "=HYPERLINK(...)" must not run as a formula in a spreadsheet.
    return "'" + text if text.startswith(_FORMULA_START) else text


def rows_to_csv(rows: Iterable[Any], stream: TextIO, *,
                columns: Sequence[str] | None = None) -> int:
    """Write dataclass rows as CSV with a header row; returns the number of rows.

    Money is written as a plain decimal string ("1234.50", "-10.00"), dates
    as ISO dates. `columns` picks and orders fields (default: all fields of
    the first row); the header is written even when there are no rows only if
    `columns` is given.
    """
    writer = csv.writer(stream, lineterminator="\n")
    it = iter(rows)
    first = next(it, None)
    if first is None:
        if columns:
            writer.writerow(columns)
        return 0
    if not is_dataclass(first):
        raise TypeError("rows_to_csv writes dataclass rows")
    names = list(columns) if columns else [f.name for f in fields(first)]
    writer.writerow(names)
    count = 0
    for row in _chain(first, it):
        writer.writerow([_cell(getattr(row, n)) for n in names])
        count += 1
    return count


def _chain(first: Any, rest: Iterator[Any]) -> Iterator[Any]:
    yield first
    yield from rest


def trial_balance_csv(report: TrialBalance) -> str:
    out = io.StringIO()
    cols = ["code", "name", "type", "debit", "credit"]
    rows_to_csv(report.rows, out, columns=cols)
    csv.writer(out, lineterminator="\n").writerow(
        ["", "Total", "", _cell(report.total_debit), _cell(report.total_credit)])
    return out.getvalue()


def general_ledger_csv(pages: GLPage | Iterable[GLPage]) -> str:
    """One account's ledger (one page, or all pages of `iter_general_ledger`)."""
    page_list = [pages] if isinstance(pages, GLPage) else list(pages)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["entry_number", "date", "memo", "debit", "credit", "running_balance"])
    if not page_list:
        return out.getvalue()
    first, last = page_list[0], page_list[-1]
    w.writerow(["", _cell(first.date_from), "Opening balance", "", "",
                _cell(first.opening_balance)])
    for page in page_list:
        for r in page.rows:
            w.writerow([_cell(r.entry_number), _cell(r.date), _cell(r.memo), _cell(r.debit),
                        _cell(r.credit), _cell(r.running_balance)])
    if last.next_cursor is None:
        w.writerow(["", _cell(last.date_to), "Closing balance", "", "",
                    _cell(last.closing_balance)])
    return out.getvalue()


def _section_csv(sections: Sequence[tuple[str, Sequence[ReportRow], Money]],
                 totals: Sequence[tuple[str, Money]]) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["section", "code", "name", "group", "amount"])
    for section, rows, total in sections:
        for r in rows:
            w.writerow([section, _cell(r.code), _cell(r.name), _cell(r.group), _cell(r.amount)])
        w.writerow([section, "", f"Total {section}", "", _cell(total)])
    for label, amount in totals:
        w.writerow(["", "", label, "", _cell(amount)])
    return out.getvalue()


def profit_and_loss_csv(report: ProfitAndLoss) -> str:
    return _section_csv([("income", report.income, report.total_income),
                         ("expenses", report.expenses, report.total_expense)],
                        [("Net profit", report.net_profit)])


def balance_sheet_csv(report: BalanceSheet) -> str:
    return _section_csv([("assets", report.assets, report.total_assets),
                         ("liabilities", report.liabilities, report.total_liabilities),
                         ("equity", report.equity, report.total_equity)],
                        [("Total liabilities and equity", report.total_liabilities_and_equity)])
