"""Accounting pages: the journal, a manual entry checked by the ledger as typed, accounts."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import QDate, Qt

from erp_desktop.services import ledger
from erp_desktop.ui.accounting_pages import (
    AccountDialog,
    EditAccountDialog,
    JournalEntryDialog,
)
from erp_desktop.ui.shortcuts import Command
from erp_desktop.ui.widgets import PageEnv

pytestmark = pytest.mark.ui


def post(ctx, day: date, amount: str, memo: str) -> None:
    ledger.post_entry(ctx, day, [ledger.LineInput("1100", debit=Decimal(amount)),
                                 ledger.LineInput("4100", credit=Decimal(amount))], memo)


def entry_dialog(qtbot, ctx) -> JournalEntryDialog:
    dialog = JournalEntryDialog(PageEnv(ctx, "en_IN", "Template Traders Pvt Ltd"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: bool(dialog.editor.accounts), timeout=15_000)
    return dialog


def test_the_journal_lists_entries_and_shows_the_selected_entrys_lines(
        qtbot, admin_ctx, open_main):
    post(admin_ctx, date(2026, 10, 1), "500.00", "Opening cash sale")
    post(admin_ctx, date(2026, 11, 2), "123456.50", "Counter sales")
    main = open_main(admin_ctx, area="accounting")
    journal = main.page("accounting").journal
    model = journal.list.model
    qtbot.waitUntil(lambda: model.total == 2 and model.is_loaded(1), timeout=15_000)
    assert model.index(0, 2).data() == "Counter sales"  # newest first
    assert model.index(0, 4).data() == "₹1,23,456.50"
    assert model.index(0, 4).data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight

    journal.list.view.select_row(0)
    qtbot.waitUntil(lambda: journal.lines_model.rowCount() == 3, timeout=15_000)
    assert journal.lines_model.index(0, 0).data() == "1100 · Cash in hand"
    assert journal.lines_model.index(2, 2).data() == "₹1,23,456.50"
    assert "Counter sales" in journal.detail_title.text()
    assert journal.reverse_button.isEnabled()

    main.run_command(Command.FIND)
    journal.list.search.setText("opening")
    journal.list.model.search_now()
    qtbot.waitUntil(lambda: model.total == 1, timeout=15_000)


def test_the_ledger_says_as_you_type_why_an_entry_would_not_post(qtbot, admin_ctx):
    dialog = entry_dialog(qtbot, admin_ctx)
    dialog.date.setDate(QDate(2026, 11, 2))
    dialog.editor.set_row(0, "1100", debit="1,000.00")
    dialog.editor.set_row(1, "4100", credit="900")
    assert "Difference ₹100.00" in dialog.editor.totals.text()

    dialog.check_now()  # what the pause after typing starts
    qtbot.waitUntil(lambda: dialog.form.field_error("lines") != "", timeout=15_000)
    assert dialog.form.field_error("lines") == (
        "The entry does not balance: debits ₹1,000.00, credits ₹900.00.")
    assert ledger.list_entries(admin_ctx).rows == []  # a check never writes

    dialog.editor.set_row(1, "4100", credit="1000")
    dialog.check_now()
    qtbot.waitUntil(lambda: "ready to post" in dialog.check_status.text(), timeout=15_000)
    assert not dialog.form.fields["lines"].error.isVisible()
    assert ledger.list_entries(admin_ctx).rows == []


def test_posting_an_entry_and_a_refusal_under_the_date(qtbot, admin_ctx):
    ledger.lock_books(admin_ctx, date(2026, 10, 31))
    dialog = entry_dialog(qtbot, admin_ctx)
    dialog.date.setDate(QDate(2026, 10, 15))  # inside the locked period
    dialog.memo.setText("Bank charges")
    dialog.editor.set_row(0, "6600", debit="250")
    dialog.editor.set_row(1, "1200", credit="250")
    dialog.save()
    qtbot.waitUntil(lambda: dialog.form.field_error("entry_date") != "", timeout=15_000)
    assert "locked up to" in dialog.form.field_error("entry_date")
    assert dialog.isVisible()

    dialog.date.setDate(QDate(2026, 11, 2))
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result() == dialog.DialogCode.Accepted, timeout=15_000)
    (entry,) = ledger.list_entries(admin_ctx).rows
    assert (entry.memo, entry.total.amount) == ("Bank charges", Decimal("250.00"))


def test_a_number_that_is_not_a_number_is_caught_before_the_ledger_is_asked(
        qtbot, admin_ctx):
    dialog = entry_dialog(qtbot, admin_ctx)
    dialog.editor.set_row(0, "1100", debit="12x")
    assert not dialog.form.validate()
    assert dialog.form.field_error("lines") == "Line 1: the debit “12x” is not a number."
    assert dialog.save() is None


def test_new_entry_from_the_journal_with_ctrl_n_and_the_list_follows(qtbot, admin_ctx,
                                                                     open_main):
    main = open_main(admin_ctx, area="accounting")
    journal = main.page("accounting").journal
    qtbot.waitUntil(lambda: journal.list.model.total == 0, timeout=15_000)
    assert Command.NEW in main.available_commands()
    main.run_command(Command.NEW)
    dialog = journal.findChild(JournalEntryDialog)
    qtbot.waitUntil(lambda: bool(dialog.editor.accounts), timeout=15_000)
    dialog.editor.set_row(0, "6200", debit="25000")
    dialog.editor.set_row(1, "1200", credit="25000")
    dialog.save()
    qtbot.waitUntil(lambda: journal.list.model.total == 1, timeout=15_000)


def test_chart_of_accounts_add_and_rename_with_conflict(qtbot, admin_ctx, open_main):
    main = open_main(admin_ctx, area="accounting")
    page = main.page("accounting")
    page.show_tab("accounts")
    tab = page.accounts
    qtbot.waitUntil(lambda: tab.list.model.total is not None, timeout=15_000)
    before = tab.list.model.total

    groups = [("6000", "expense", "6000 · Operating expenses")]
    dialog = AccountDialog(PageEnv(admin_ctx), groups)
    qtbot.addWidget(dialog)
    dialog.form.fields["code"].widget.setText("6150")
    dialog.form.fields["name"].widget.setText("Shop maintenance")
    dialog.form.set_value("type", "expense")
    assert dialog.form.value("parent_code") == "6000"
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result() == dialog.DialogCode.Accepted, timeout=15_000)
    tab.list.refresh()
    qtbot.waitUntil(lambda: tab.list.model.total == before + 1, timeout=15_000)

    row = next(a for a in ledger.list_accounts(admin_ctx) if a.code == "6150")
    edit = EditAccountDialog(PageEnv(admin_ctx), row)
    qtbot.addWidget(edit)
    edit.show()
    ledger.update_account(admin_ctx, row.id, name="Repairs", version=row.version)  # meanwhile
    edit.form.fields["name"].widget.setText("Shop upkeep")
    edit.save()
    qtbot.waitUntil(lambda: edit.form.banner_message != "", timeout=15_000)
    assert edit.form.reload_button.isVisible()
    assert next(a for a in ledger.list_accounts(admin_ctx) if a.code == "6150").name \
        == "Repairs"


def test_trial_balance_is_read_in_the_background_and_right_aligned(qtbot, admin_ctx,
                                                                   open_main):
    post(admin_ctx, date(2026, 11, 2), "123456.50", "Counter sales")
    main = open_main(admin_ctx, area="accounting")
    page = main.page("accounting")
    page.show_tab("trial_balance")
    tb = page.trial_balance
    qtbot.waitUntil(lambda: tb.model.rowCount() == 3, timeout=15_000)
    cells = [[tb.model.index(r, c).data() for c in range(4)] for r in range(3)]
    assert cells[0] == ["1100", "Cash in hand", "₹1,23,456.50", ""]
    assert cells[1] == ["4100", "Sales", "", "₹1,23,456.50"]
    assert cells[2][1:] == ["Total", "₹1,23,456.50", "₹1,23,456.50"]
    assert tb.model.index(0, 2).data(Qt.ItemDataRole.TextAlignmentRole) \
        & Qt.AlignmentFlag.AlignRight
    assert "balanced" in tb.status.text()
    assert Command.PRINT in main.available_commands()
    html = tb.report_html()
    assert "Trial balance as of 2 Nov 2026" in html and "₹1,23,456.50" in html


def test_reversing_a_manual_entry_after_confirming(qtbot, admin_ctx, open_main):
    post(admin_ctx, date(2026, 11, 2), "300.00", "Wrong till count")
    main = open_main(admin_ctx, area="accounting")
    journal = main.page("accounting").journal
    qtbot.waitUntil(lambda: journal.list.model.is_loaded(0), timeout=15_000)
    journal.list.view.select_row(0)
    qtbot.waitUntil(lambda: journal.reverse_button.isEnabled(), timeout=15_000)
    journal.reverse_now()
    qtbot.waitUntil(lambda: journal.list.model.total == 2, timeout=15_000)
    rows = ledger.list_entries(admin_ctx).rows
    assert sum(1 for r in rows if r.reversal_of_id is not None) == 1
