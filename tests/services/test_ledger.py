"""The ledger: posting and its refusals, reversals, period lock, accounts, reports.

The company is Indian (INR, en_IN, fiscal year from April); the fixture clock
says 2 Nov 2026, so manual entries are numbered JV/2026-27/A/….
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp_desktop.domain.errors import (
    Conflict,
    NotFound,
    PeriodLocked,
    PermissionDenied,
    PostingError,
    ValidationError,
)
from erp_desktop.domain.money import Money
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.changes import ImmutableRecordError
from erp_desktop.models.ledger import JournalEntry, JournalLine
from erp_desktop.services import ledger
from erp_desktop.services.ledger import LineInput as L


def inr(value: str) -> Money:
    return Money(Decimal(value), "INR")


def as_user(ctx, *permissions: str):
    """The same session, acting as someone granted only `permissions`."""
    return dataclasses.replace(ctx, actor=dataclasses.replace(
        ctx.actor, permissions=frozenset(permissions)))


def audit_actions(ctx) -> list[str]:
    with ctx.db.read() as s:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))


def entry_count(ctx) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(func.count()).select_from(JournalEntry))


def cash_sale(ctx, day=date(2026, 10, 1), amount="1000.00", **kw):
    return ledger.post_entry(ctx, day, [L("1100", debit=amount), L("4100", credit=amount)],
                             "Cash sale", **kw)


# --------------------------------------------------------------------------- posting


def test_post_entry_writes_a_numbered_balanced_entry_and_audits_it(admin_ctx):
    sale = ledger.post_entry(admin_ctx, date(2026, 10, 1), [
        L("1300", debit=Decimal("1180.00"), party_type="customer", party_id=uuid.uuid4()),
        L("4100", credit="1000"),
        L("2200", credit=inr("180.00"), memo="GST 18%"),
    ], "Invoice to Ravi & Co")
    assert sale.number == "JV/2026-27/A/000001"
    assert sale.total == inr("1180.00")
    assert [(ln.account_code, ln.debit, ln.credit) for ln in sale.lines] == [
        ("1300", inr("1180.00"), inr("0")), ("4100", inr("0"), inr("1000.00")),
        ("2200", inr("0"), inr("180.00"))]
    assert sale.lines[2].memo == "GST 18%"
    assert sale.source_type == "journal"
    with admin_ctx.db.read() as s:
        rows = s.scalars(select(JournalLine).order_by(JournalLine.line_no)).all()
        assert {(r.entry_date, r.currency) for r in rows} == {(date(2026, 10, 1), "INR")}
        assert [r.debit_minor - r.credit_minor for r in rows] == [118000, -100000, -18000]
        entry = s.get(JournalEntry, sale.id)
        assert entry.created_by == admin_ctx.actor.user_id
    assert audit_actions(admin_ctx)[-1] == "ledger.entry_posted"
    again = ledger.get_entry(admin_ctx, sale.id)
    assert again.lines == sale.lines and again.reversed_by_number is None


def test_accounts_can_be_named_by_id(admin_ctx):
    cash = next(a for a in ledger.list_accounts(admin_ctx) if a.code == "1100")
    e = ledger.post_entry(admin_ctx, date(2026, 10, 1),
                          [L(cash.id, debit="5"), L(str(cash.id), credit="5")])
    assert {ln.account_code for ln in e.lines} == {"1100"}


@pytest.mark.parametrize(("lines", "message"), [
    ([L("1100", debit="10")], "A journal entry needs at least two lines"),
    ([L("1100", debit="10"), L("4100", debit="5", credit="5")],
     "Line 2: enter a debit or a credit, not both."),
    ([L("1100", debit="10"), L("4100")], "Line 2: enter a debit or a credit."),
    ([L("1100", debit="0"), L("4100", credit="0")], "Line 1: enter a debit or a credit."),
    ([L("1100", debit="-10"), L("4100", credit="-10")], "Line 1: a debit cannot be negative"),
    ([L("1100", debit="10"), L("9999", credit="10")], "Line 2: there is no account 9999."),
    ([L("1000", debit="10"), L("4100", credit="10")],
     "Line 1: 1000 Assets is a group of accounts; post to one of the accounts under it."),
    ([L("1100", debit="10.005"), L("4100", credit="10.005")],
     "Line 1: 10.005 has more decimal places than INR allows."),
    ([L("1100", debit=10.5), L("4100", credit="10.5")],
     "Line 1: Debit must be given exactly, not as a float."),
    ([L("1100", debit="ten"), L("4100", credit="10")], "Line 1: 'ten' is not a number."),
    ([L("1100", debit=Money(Decimal(10), "USD")), L("4100", credit="10")],
     "Line 1: the debit is in USD; the books are kept in INR."),
    ([L("1100", debit="1000"), L("4100", credit="900")],
     "The entry does not balance: debits ₹1,000.00, credits ₹900.00."),
    ([L("1100", debit="10", party_type="friend", party_id=uuid.uuid4()),
      L("4100", credit="10")], "Line 1: a party is a customer, vendor, employee."),
    ([L("1100", debit="10", party_type="customer"), L("4100", credit="10")],
     "Line 1: give both the party and its type, or neither."),
])
def test_bad_entries_are_refused_with_a_clear_message(admin_ctx, lines, message):
    with pytest.raises(PostingError) as err:
        ledger.post_entry(admin_ctx, date(2026, 10, 1), lines)
    assert err.value.message.startswith(message)
    assert entry_count(admin_ctx) == 0


def test_an_inactive_account_takes_no_postings(admin_ctx):
    rent = ledger.create_account(admin_ctx, "6250", "Shop rent", "expense", "6000")
    ledger.update_account(admin_ctx, rent.id, active=False, version=rent.version)
    with pytest.raises(PostingError, match=r"Line 1: account 6250 Shop rent is inactive\."):
        ledger.post_entry(admin_ctx, date(2026, 10, 1), [L("6250", debit="1"),
                                                          L("1100", credit="1")])


def test_a_datetime_is_not_an_entry_date(admin_ctx):
    from datetime import datetime

    with pytest.raises(ValidationError, match="The entry date must be a date"):
        ledger.post_entry(admin_ctx, datetime(2026, 10, 1, 12, 0),
                          [L("1100", debit="1"), L("4100", credit="1")])


def test_posting_needs_the_ledger_post_permission_and_the_denial_is_audited(admin_ctx):
    viewer = as_user(admin_ctx, "ledger.view", "reports.financial")
    with pytest.raises(PermissionDenied) as err:
        cash_sale(viewer)
    assert err.value.permission == "ledger.post"
    assert audit_actions(admin_ctx)[-1] == "permission.denied"
    assert entry_count(admin_ctx) == 0


# --------------------------------------------------------------------------- immutability


def test_posted_entries_and_lines_cannot_be_edited_or_deleted(admin_ctx):
    e = cash_sale(admin_ctx)
    with pytest.raises(ImmutableRecordError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.get(JournalEntry, e.id).memo = "changed"
    with pytest.raises(ImmutableRecordError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.scalars(select(JournalLine)).first().debit_minor = 1
    with pytest.raises(ImmutableRecordError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.delete(s.scalars(select(JournalLine)).first())
    with pytest.raises(ImmutableRecordError), admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        s.delete(s.get(JournalEntry, e.id))
    assert ledger.get_entry(admin_ctx, e.id) == e


# --------------------------------------------------------------------------- reversal


def test_reversal_swaps_debits_and_credits_and_links_back(admin_ctx):
    e = cash_sale(admin_ctx)
    r = ledger.reverse_entry(admin_ctx, e.id, date(2026, 10, 5))
    assert r.number == "JV/2026-27/A/000002"
    assert r.reversal_of_id == e.id and r.reversal_of_number == e.number
    assert r.memo == f"Reversal of {e.number}"
    assert [(ln.account_code, ln.debit, ln.credit) for ln in r.lines] == [
        ("1100", inr("0"), inr("1000")), ("4100", inr("1000"), inr("0"))]
    assert ledger.get_entry(admin_ctx, e.id).reversed_by_number == r.number
    assert ledger.get_entry(admin_ctx, r.id).reversal_of_number == e.number
    assert ledger.trial_balance(admin_ctx, date(2026, 10, 31)).rows == []
    # Before the reversal date the sale still shows.
    assert len(ledger.trial_balance(admin_ctx, date(2026, 10, 4)).rows) == 2
    assert audit_actions(admin_ctx)[-1] == "ledger.entry_reversed"


def test_reversal_defaults_to_today(admin_ctx, clock):
    r = ledger.reverse_entry(admin_ctx, cash_sale(admin_ctx).id)
    assert r.entry_date == clock.now.date()


def test_an_entry_is_reversed_once_and_a_reversal_is_not_reversed(admin_ctx):
    e = cash_sale(admin_ctx)
    r = ledger.reverse_entry(admin_ctx, e.id)
    with pytest.raises(PostingError,
                       match=f"^{e.number} is already reversed by {r.number}.$"):
        ledger.reverse_entry(admin_ctx, e.id)
    with pytest.raises(PostingError, match=f"{r.number} is itself the reversal of {e.number}"):
        ledger.reverse_entry(admin_ctx, r.id)
    assert entry_count(admin_ctx) == 2


def test_reversal_refusals(admin_ctx):
    e = cash_sale(admin_ctx, day=date(2026, 10, 10))
    with pytest.raises(PostingError, match=r"cannot be dated before the entry it reverses "
                                           r"\(10 Oct 2026\)"):
        ledger.reverse_entry(admin_ctx, e.id, date(2026, 10, 9))
    with pytest.raises(NotFound):
        ledger.reverse_entry(admin_ctx, uuid.uuid4())
    with pytest.raises(PermissionDenied):
        ledger.reverse_entry(as_user(admin_ctx, "ledger.view"), e.id)
    assert entry_count(admin_ctx) == 1


def test_a_documents_entry_is_corrected_through_the_document_not_reversed_by_hand(admin_ctx):
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        inv = ledger.post_in_session(s, admin_ctx, date(2026, 10, 1),
                                     [L("1300", debit="50"), L("4100", credit="50")],
                                     doc_type="invoice", prefix="INV", source_type="invoice",
                                     source_id=uuid.uuid4())
    assert inv.number == "INV/2026-27/A/000001"
    with pytest.raises(PostingError, match=r"was posted by the invoice it belongs to; "
                                           r"correct it through that invoice instead\."):
        ledger.reverse_entry(admin_ctx, inv.id)
    # The document's own service reverses it inside its transaction.
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:
        rev = ledger.reverse_in_session(s, admin_ctx, inv.id, date(2026, 10, 2),
                                        doc_type="credit_note", prefix="CN")
    assert rev.number == "CN/2026-27/A/000001" and rev.source_id == inv.source_id


def test_a_retired_account_can_still_be_reversed(admin_ctx):
    rent = ledger.create_account(admin_ctx, "6250", "Shop rent", "expense", "6000")
    e = ledger.post_entry(admin_ctx, date(2026, 10, 1), [L("6250", debit="100"),
                                                          L("1100", credit="100")])
    ledger.update_account(admin_ctx, rent.id, active=False, version=rent.version)
    assert ledger.reverse_entry(admin_ctx, e.id).reversal_of_id == e.id


# --------------------------------------------------------------------------- period lock


def test_locked_books_refuse_postings_on_or_before_the_lock_date(admin_ctx):
    lock = ledger.lock_books(admin_ctx, date(2026, 3, 31))
    assert lock == ledger.BooksLock(date(2026, 3, 31), None)
    assert audit_actions(admin_ctx)[-1] == "ledger.books_locked"
    with pytest.raises(PeriodLocked) as err:
        cash_sale(admin_ctx, day=date(2026, 3, 31))
    assert err.value.message.startswith("The books are locked up to 31 Mar 2026.")
    assert entry_count(admin_ctx) == 0
    assert cash_sale(admin_ctx, day=date(2026, 4, 1)).number == "JV/2026-27/A/000001"


def test_the_lock_applies_to_the_reversal_date(admin_ctx):
    e = cash_sale(admin_ctx, day=date(2026, 3, 1))
    ledger.lock_books(admin_ctx, date(2026, 3, 31))
    with pytest.raises(PeriodLocked):
        ledger.reverse_entry(admin_ctx, e.id, date(2026, 3, 15))
    assert ledger.reverse_entry(admin_ctx, e.id, date(2026, 4, 1)).entry_date == date(2026, 4, 1)


def test_an_admin_may_override_the_lock_and_it_is_audited(admin_ctx):
    ledger.lock_books(admin_ctx, date(2026, 3, 31))
    e = cash_sale(admin_ctx, day=date(2026, 3, 31), override_lock=True)
    assert e.lock_override
    with admin_ctx.db.read() as s:
        ev = s.scalars(select(AuditEvent)
                       .where(AuditEvent.action == "ledger.period_lock_overridden")).one()
    assert ev.entity_id == str(e.id)
    assert '"locked_until":"2026-03-31"' in ev.details
    # An override flag on an open date changes nothing and records nothing more.
    assert not cash_sale(admin_ctx, day=date(2026, 4, 2), override_lock=True).lock_override
    assert audit_actions(admin_ctx).count("ledger.period_lock_overridden") == 1


def test_an_accountant_cannot_override_the_lock(admin_ctx):
    ledger.lock_books(admin_ctx, date(2026, 3, 31))
    accountant = as_user(admin_ctx, "ledger.view", "ledger.post", "ledger.period.lock")
    with pytest.raises(PermissionDenied) as err:
        cash_sale(accountant, day=date(2026, 3, 31), override_lock=True)
    assert err.value.permission == "ledger.period.override"
    assert audit_actions(admin_ctx)[-1] == "permission.denied"
    # A document service asking for an override it was not granted gets the lock message.
    with pytest.raises(PeriodLocked), accountant.db.write(accountant.actor.user_id) as s:
        ledger.post_in_session(s, accountant, date(2026, 3, 31),
                               [L("1100", debit="1"), L("4100", credit="1")],
                               override_lock=True)
    assert entry_count(admin_ctx) == 0


def test_lock_books_rules(admin_ctx, clock):
    with pytest.raises(ValidationError, match="only be locked up to today"):
        ledger.lock_books(admin_ctx, date(2026, 11, 3))
    with pytest.raises(PermissionDenied):
        ledger.lock_books(as_user(admin_ctx, "ledger.post"), date(2026, 3, 31))
    ledger.lock_books(admin_ctx, clock.now.date())
    assert ledger.lock_books(admin_ctx, None) == ledger.BooksLock(None, clock.now.date())
    assert audit_actions(admin_ctx)[-1] == "ledger.books_unlocked"
    assert cash_sale(admin_ctx, day=date(2026, 3, 1)).number == "JV/2025-26/A/000001"


# --------------------------------------------------------------------------- accounts


def test_create_and_update_accounts(admin_ctx):
    acc = ledger.create_account(admin_ctx, "6250", "Shop rent", "expense", "6000")
    assert (acc.code, acc.type, acc.parent_code, acc.active) == ("6250", "expense", "6000", True)
    assert "6250" in [a.code for a in ledger.list_accounts(admin_ctx)]
    renamed = ledger.update_account(admin_ctx, acc.id, name="Shop rent (MG Road)",
                                    version=acc.version)
    assert renamed.name == "Shop rent (MG Road)" and renamed.version == acc.version + 1
    off = ledger.update_account(admin_ctx, acc.id, active=False, version=renamed.version)
    assert not off.active
    assert "6250" not in [a.code for a in ledger.list_accounts(admin_ctx,
                                                                include_inactive=False)]
    actions = audit_actions(admin_ctx)
    assert actions.count("ledger.account_created") == 1
    assert actions.count("ledger.account_updated") == 2


def test_a_group_takes_sub_accounts_of_its_own_type(admin_ctx):
    group = ledger.create_account(admin_ctx, "1900", "Deposits", "asset", "1000", is_group=True)
    child = ledger.create_account(admin_ctx, "1910", "Rent deposit", "asset", "1900")
    assert group.is_group and child.parent_code == "1900"


@pytest.mark.parametrize(("args", "message", "field"), [
    (("1100", "Petty cash", "asset", None), "Account code 1100 is already used by 'Cash in hand'",
     "code"),
    (("", "Petty cash", "asset", None), "Enter an account code.", "code"),
    (("11 00", "Petty cash", "asset", None), "An account code is up to 20", "code"),
    (("1150", "  ", "asset", None), "Enter the account's name.", "name"),
    (("1150", "Petty cash", "assets", None),
     "Account type must be one of asset, liability, equity, income, expense.", "type"),
    (("1150", "Petty cash", "asset", "1999"), "There is no account 1999", "parent_code"),
    (("1150", "Petty cash", "asset", "1100"), "1100 Cash in hand is not a group account",
     "parent_code"),
    (("4600", "Commission", "income", "1000"),
     "An income account cannot go under 1000 Assets, which is a group of asset accounts.",
     "parent_code"),
])
def test_bad_accounts_are_refused(admin_ctx, args, message, field):
    with pytest.raises(ValidationError) as err:
        ledger.create_account(admin_ctx, *args)
    assert err.value.message.startswith(message)
    assert err.value.field == field


def test_a_stale_version_is_a_conflict(admin_ctx):
    acc = ledger.create_account(admin_ctx, "6250", "Shop rent", "expense", "6000")
    ledger.update_account(admin_ctx, acc.id, name="Rent of the shop", version=acc.version)
    with pytest.raises(Conflict, match="changed by someone else since you opened it"):
        ledger.update_account(admin_ctx, acc.id, name="Shop rent 2", version=acc.version)
    assert next(a for a in ledger.list_accounts(admin_ctx)
                if a.code == "6250").name == "Rent of the shop"


def test_a_system_account_cannot_be_deactivated(admin_ctx):
    recv = next(a for a in ledger.list_accounts(admin_ctx) if a.code == "1300")
    assert recv.system_key == "receivables"
    with pytest.raises(ValidationError, match="1300 Accounts receivable is used by the app"):
        ledger.update_account(admin_ctx, recv.id, active=False, version=recv.version)
    # Renaming it is fine.
    assert ledger.update_account(admin_ctx, recv.id, name="Debtors",
                                 version=recv.version).name == "Debtors"


def test_managing_accounts_needs_its_permission(admin_ctx):
    viewer = as_user(admin_ctx, "ledger.view")
    assert ledger.list_accounts(viewer)
    with pytest.raises(PermissionDenied):
        ledger.create_account(viewer, "6250", "Shop rent", "expense", "6000")
    acc = next(a for a in ledger.list_accounts(viewer) if a.code == "6200")
    with pytest.raises(PermissionDenied):
        ledger.update_account(viewer, acc.id, name="x", version=acc.version)
    with pytest.raises(PermissionDenied):
        ledger.list_accounts(as_user(admin_ctx, "sales.view"))


def test_update_of_a_missing_account(admin_ctx):
    with pytest.raises(NotFound):
        ledger.update_account(admin_ctx, uuid.uuid4(), name="x", version=1)


# --------------------------------------------------------------------------- reports


def post_a_few_months(ctx):
    """A small shop's first quarter of FY 2026-27, plus one sale in March 2026."""
    p = ledger.post_entry
    p(ctx, date(2026, 3, 15), [L("1100", debit="200"), L("4300", credit="200")], "Scrap sold")
    p(ctx, date(2026, 4, 1), [L("1200", debit="100000"), L("3100", credit="100000")], "Capital")
    p(ctx, date(2026, 4, 10), [L("1300", debit="11800"), L("4100", credit="10000"),
                               L("2200", credit="1800")], "Invoice")
    p(ctx, date(2026, 4, 15), [L("6200", debit="3000"), L("1200", credit="3000")], "Rent")
    p(ctx, date(2026, 5, 1), [L("6100", debit="5000"), L("2300", credit="5000")], "Salaries")
    p(ctx, date(2026, 5, 20), [L("1200", debit="11800"), L("1300", credit="11800")], "Receipt")
    p(ctx, date(2026, 6, 1), [L("1100", debit="500"), L("4300", credit="500")], "Scrap sold")


def amounts(rows) -> dict[str | None, str]:
    return {r.code or r.name: str(r.amount.amount) for r in rows}


def test_trial_balance_by_hand(admin_ctx):
    post_a_few_months(admin_ctx)
    tb = ledger.trial_balance(admin_ctx, date(2026, 6, 30))
    assert [(r.code, str(r.debit.amount), str(r.credit.amount)) for r in tb.rows] == [
        ("1100", "700.00", "0.00"), ("1200", "108800.00", "0.00"),
        ("2200", "0.00", "1800.00"), ("2300", "0.00", "5000.00"),
        ("3100", "0.00", "100000.00"), ("4100", "0.00", "10000.00"),
        ("4300", "0.00", "700.00"), ("6100", "5000.00", "0.00"), ("6200", "3000.00", "0.00")]
    assert tb.total_debit == tb.total_credit == inr("117500")
    assert tb.balanced
    assert ledger.trial_balance(admin_ctx, date(2026, 3, 31)).total_debit == inr("200")


def test_profit_and_loss_by_hand(admin_ctx):
    post_a_few_months(admin_ctx)
    pl = ledger.profit_and_loss(admin_ctx, date(2026, 4, 1), date(2026, 5, 31))
    assert amounts(pl.income) == {"4100": "10000.00"}
    assert amounts(pl.expenses) == {"6100": "5000.00", "6200": "3000.00"}
    assert pl.expenses[0].group == "Operating expenses"
    assert (pl.total_income, pl.total_expense, pl.net_profit) == (
        inr("10000"), inr("8000"), inr("2000"))
    year = ledger.profit_and_loss(admin_ctx, date(2026, 4, 1), date(2027, 3, 31))
    assert year.net_profit == inr("2500")
    with pytest.raises(ValidationError, match="start date is after the end date"):
        ledger.profit_and_loss(admin_ctx, date(2026, 5, 1), date(2026, 4, 1))


def test_balance_sheet_by_hand_balances(admin_ctx):
    post_a_few_months(admin_ctx)
    bs = ledger.balance_sheet(admin_ctx, date(2026, 6, 30))
    assert amounts(bs.assets) == {"1100": "700.00", "1200": "108800.00"}  # receivable settled
    assert amounts(bs.liabilities) == {"2200": "1800.00", "2300": "5000.00"}
    assert amounts(bs.equity) == {"3100": "100000.00",
                                  ledger.EARLIER_EARNINGS: "200.00",
                                  ledger.CURRENT_YEAR_EARNINGS: "2500.00"}
    assert bs.total_assets == inr("109500")
    assert bs.total_liabilities == inr("6800") and bs.total_equity == inr("102700")
    assert bs.total_liabilities_and_equity == bs.total_assets
    assert bs.balanced
    # Mid-April: the invoice is still owed and the profit so far is 10000 - 3000.
    mid = ledger.balance_sheet(admin_ctx, date(2026, 4, 30))
    assert amounts(mid.assets)["1300"] == "11800.00"
    assert amounts(mid.equity)[ledger.CURRENT_YEAR_EARNINGS] == "7000.00"
    assert mid.balanced


def test_an_empty_company_has_empty_balanced_reports(admin_ctx):
    tb = ledger.trial_balance(admin_ctx, date(2026, 11, 2))
    assert tb.rows == [] and tb.total_debit == inr("0") and tb.balanced
    bs = ledger.balance_sheet(admin_ctx, date(2026, 11, 2))
    assert bs.balanced and bs.total_assets == inr("0")
    assert amounts(bs.equity) == {ledger.CURRENT_YEAR_EARNINGS: "0.00"}


def test_financial_reports_need_their_permission(admin_ctx):
    clerk = as_user(admin_ctx, "sales.view", "ledger.view")
    for report, args in [(ledger.trial_balance, (date(2026, 6, 30),)),
                         (ledger.balance_sheet, (date(2026, 6, 30),)),
                         (ledger.profit_and_loss, (date(2026, 4, 1), date(2026, 6, 30)))]:
        with pytest.raises(PermissionDenied) as err:
            report(clerk, *args)
        assert err.value.permission == "reports.financial"
    with pytest.raises(PermissionDenied):
        ledger.general_ledger(as_user(admin_ctx, "reports.financial"), "1100",
                              date(2026, 4, 1), date(2026, 6, 30))


def test_general_ledger_pages_return_every_line_once_with_running_balance(admin_ctx):
    # 23 bank movements over a few days, several on the same day.
    expected = []
    for i in range(23):
        day = date(2026, 5, 1 + i // 4)
        amount = Decimal(100 + i)
        if i % 3 == 2:
            e = ledger.post_entry(admin_ctx, day, [L("6600", debit=amount),
                                                    L("1200", credit=amount)], f"charge {i}")
            expected.append((e.number, -amount))
        else:
            e = ledger.post_entry(admin_ctx, day, [L("1200", debit=amount),
                                                    L("3100", credit=amount)], f"capital {i}")
            expected.append((e.number, amount))
    # The first day falls before the report: it becomes the opening balance.
    opening = sum(a for n, a in expected[:4])
    rest = expected[4:]
    seen, pages, after = [], 0, None
    while True:
        page = ledger.general_ledger(admin_ctx, "1200", date(2026, 5, 2), date(2026, 5, 31),
                                     after=after, limit=5)
        pages += 1
        balance_before = opening + sum(a for _, a in rest[:len(seen)])
        assert page.opening_balance == inr(str(balance_before))
        seen.extend(page.rows)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == 4  # 19 rows, 5 a page
    assert [r.entry_number for r in seen] == [n for n, _ in rest]
    running = opening
    for row, (_, amount) in zip(seen, rest, strict=True):
        running += amount
        assert row.running_balance == inr(str(running))
        assert row.debit.amount - row.credit.amount == amount
    assert page.closing_balance == inr(str(running))
    assert page.normal_side == "debit" and seen[0].memo == "capital 4"


def test_general_ledger_reads_credit_accounts_on_their_credit_side(admin_ctx):
    post_a_few_months(admin_ctx)
    page = ledger.general_ledger(admin_ctx, "4300", date(2026, 4, 1), date(2027, 3, 31))
    assert page.normal_side == "credit"
    assert page.opening_balance == inr("200")
    assert [r.running_balance for r in page.rows] == [inr("700")]
    assert page.next_cursor is None and page.closing_balance == inr("700")


def test_general_ledger_refusals(admin_ctx):
    with pytest.raises(NotFound, match="There is no account 9999"):
        ledger.general_ledger(admin_ctx, "9999", date(2026, 4, 1), date(2026, 5, 1))
    with pytest.raises(ValidationError, match="A page holds"):
        ledger.general_ledger(admin_ctx, "1100", date(2026, 4, 1), date(2026, 5, 1), limit=0)
    with pytest.raises(ValidationError, match="start date is after"):
        ledger.general_ledger(admin_ctx, "1100", date(2026, 5, 2), date(2026, 5, 1))


def test_list_entries_pages_in_date_order(admin_ctx):
    made = [cash_sale(admin_ctx, day=date(2026, 10, d), amount="10") for d in (3, 1, 2, 1, 5)]
    got, after = [], None
    while True:
        page = ledger.list_entries(admin_ctx, date(2026, 10, 1), date(2026, 10, 4),
                                   after=after, limit=2)
        got.extend(page.rows)
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert [g.entry_date.day for g in got] == [1, 1, 2, 3]
    assert {g.number for g in got} == {m.number for m in made[:4]}


def test_reports_add_up_in_sqlite_over_the_covering_index(admin_ctx):
    post_a_few_months(admin_ctx)
    stmt = ledger._sums_stmt(date(2026, 4, 1), date(2026, 6, 30), ("income", "expense"))
    sql = str(stmt.compile(admin_ctx.db.engine, compile_kwargs={"literal_binds": True}))
    with admin_ctx.db.read() as s:
        plan = " | ".join(str(r[-1]) for r in s.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN " + sql))
    assert "USING COVERING INDEX ix_journal_line_account_date" in plan, plan
    assert "SCAN journal_line" not in plan, plan


# --------------------------------------------------------------------------- CSV


def test_report_csv_has_a_header_and_plain_decimals(admin_ctx):
    post_a_few_months(admin_ctx)
    tb_csv = ledger.trial_balance_csv(ledger.trial_balance(admin_ctx, date(2026, 6, 30)))
    lines = tb_csv.splitlines()
    assert lines[0] == "code,name,type,debit,credit"
    assert lines[1] == "1100,Cash in hand,asset,700.00,0.00"
    assert lines[-1] == ",Total,,117500.00,117500.00"
    assert "₹" not in tb_csv
    pl_csv = ledger.profit_and_loss_csv(
        ledger.profit_and_loss(admin_ctx, date(2026, 4, 1), date(2026, 6, 30)))
    assert pl_csv.splitlines()[-1] == ",,Net profit,,2500.00"
    bs_csv = ledger.balance_sheet_csv(ledger.balance_sheet(admin_ctx, date(2026, 6, 30)))
    assert "equity,,Current year earnings,,2500.00" in bs_csv.splitlines()
    gl_csv = ledger.general_ledger_csv(ledger.iter_general_ledger(
        admin_ctx, "1200", date(2026, 4, 1), date(2026, 6, 30), page_size=1))
    gl = gl_csv.splitlines()
    assert gl[0] == "entry_number,date,memo,debit,credit,running_balance"
    assert gl[1] == ",2026-04-01,Opening balance,,,0.00"
    assert gl[2].endswith(",Capital,100000.00,0.00,100000.00")
    assert gl[-1] == ",2026-06-30,Closing balance,,,108800.00"
    assert len(gl) == 2 + 3 + 1


def test_rows_to_csv_guards_against_spreadsheet_formulas(admin_ctx):
    ledger.create_account(admin_ctx, "6950", "=HYPERLINK(\"x\")", "expense", "6000")
    ledger.post_entry(admin_ctx, date(2026, 10, 1), [L("6950", debit="1.50"),
                                                      L("1100", credit="1.50")])
    out = io.StringIO()
    n = ledger.rows_to_csv(ledger.trial_balance(admin_ctx, date(2026, 10, 31)).rows, out)
    assert n == 2
    text = out.getvalue().splitlines()
    assert text[0] == "code,name,type,debit,credit"
    assert text[1] == "1100,Cash in hand,asset,0.00,1.50"
    assert text[2] == "6950,\"'=HYPERLINK(\"\"x\"\")\",expense,1.50,0.00"
    empty = io.StringIO()
    assert ledger.rows_to_csv([], empty, columns=["code"]) == 0 and empty.getvalue() == "code\n"
