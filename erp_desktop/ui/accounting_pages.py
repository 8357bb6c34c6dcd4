"""Accounting: the journal, a manual journal entry, the chart of accounts, the trial balance.

`AccountingPage` is a tab per screen; the common commands go to the tab on
top (`CommandPage.delegate_to`). The journal and the chart of accounts are
paged lists (`ListPanel` over `services.list_queries`); the selected entry's
lines load on the worker. A manual entry is typed in `JournalEntryDialog`:
the totals and the difference update as you type (arithmetic for display),
and once typing pauses the ledger itself is asked whether the entry would
post (`services.journal_check`, a rolled-back dry run), so its refusal ("the
entry does not balance", "the books are locked up to ...") shows under the
lines or the date before Post is pressed. Post runs `ledger.post_entry`.
"""

from __future__ import annotations

import html
import itertools
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QCompleter,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.services.listing import ListSource
from erp_desktop.ui.common_widgets import TabbedAreaPage
from erp_desktop.ui.forms import FormDialog, parse_number
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import ListPanel
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.theme import tones
from erp_desktop.ui.widgets import (
    PageEnv,
    RowsModel,
    hint,
    message_style,
    rows_table,
)
from erp_desktop.ui.worker import Task, run_in_background

ACCOUNT_TYPES = (("asset", "Asset"), ("liability", "Liability"), ("equity", "Equity"),
                 ("income", "Income"), ("expense", "Expense"))


def _tr(text: str) -> str:
    return QCoreApplication.translate("accounting", text)


def _money(value: Money | None, locale: str) -> str:
    return "" if not value else format_money(value, locale)


# =================================================================== journal


def _period_filters(key: str, today: date) -> dict[str, date | None]:
    first = today.replace(day=1)
    if key == "this_month":
        return {"date_from": first, "date_to": None}
    if key == "last_month":
        end = first - timedelta(days=1)
        return {"date_from": end.replace(day=1), "date_to": end}
    if key == "this_year":
        return {"date_from": today.replace(month=1, day=1), "date_to": None}
    if key == "last_30":
        return {"date_from": today - timedelta(days=30), "date_to": None}
    return {"date_from": None, "date_to": None}


@dataclass(frozen=True)
class _LineRow:
    account: str
    memo: str
    debit: str
    credit: str


class JournalTab(CommandPage):
    """Journal entries (paged) above the selected entry's lines."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import list_queries

        self.env = env
        self.detail_task: Task | None = None
        self.entry: Any = None
        self.period = QComboBox()
        self.period.setObjectName("period")
        for key, text in (("all", self.tr("All dates")), ("this_month", self.tr("This month")),
                          ("last_month", self.tr("Last month")),
                          ("last_30", self.tr("Last 30 days")),
                          ("this_year", self.tr("This calendar year"))):
            self.period.addItem(text, key)
        self.period.setToolTip(self.tr("Show the entries of a period"))
        self.period.currentIndexChanged.connect(self._period_changed)
        self.list = ListPanel(ListSource(list_queries.JOURNAL_ENTRIES, env.ctx),
                              locale=env.locale, noun=(self.tr("entry"), self.tr("entries")),
                              search_hint=self.tr("Search number or memo…"),
                              extra=[self.period],
                              on_new=self.new_entry if env.can("ledger.post") else None)
        self.list.current_row_changed.connect(self._show_entry)
        self.list.commands_changed.connect(self.commands_changed)

        self.detail_title = QLabel(self.tr("Select an entry to see its lines."))
        self.detail_title.setObjectName("entry_title")
        self.detail_title.setWordWrap(True)
        self.detail_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reverse_button = QPushButton(icon("reverse"), self.tr("Reverse…"))
        self.reverse_button.setObjectName("reverse")
        self.reverse_button.setToolTip(self.tr(
            "Post a new entry with debits and credits swapped, dated today"))
        self.reverse_button.setEnabled(False)
        self.reverse_button.clicked.connect(self.reverse)
        self.new_button = QPushButton(icon("new"), self.tr("New entry"))
        self.new_button.setObjectName("new_entry")
        self.new_button.setToolTip(self.tr("Type a manual journal entry (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_entry)
        self.new_button.setVisible(env.can("ledger.post"))
        self.reverse_button.setVisible(env.can("ledger.post"))
        self.lines_model = RowsModel([
            (self.tr("Account"), lambda r: r.account, False),
            (self.tr("Memo"), lambda r: r.memo, False),
            (self.tr("Debit"), lambda r: r.debit, True),
            (self.tr("Credit"), lambda r: r.credit, True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("entry_lines")
        header = self.lines.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, 150)

        detail = QWidget()
        box = QVBoxLayout(detail)
        box.setContentsMargins(0, 6, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.detail_title, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.reverse_button)
        box.addLayout(top)
        box.addWidget(self.lines, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.list)
        splitter.addWidget(detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(splitter)

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def _period_changed(self) -> None:
        key = str(self.period.currentData())
        self.list.set_filters(self.list.model.filters.with_extra(
            **_period_filters(key, self.env.ctx.today())))

    def _show_entry(self, row: Any) -> None:
        if row is None:
            return
        if self.entry is not None and self.entry.id == row.id:
            return
        from erp_desktop.services import ledger

        if self.detail_task is not None:
            self.detail_task.cancel()
        self.detail_title.setText(self.tr("Loading {number}…").format(number=row.number))
        self.detail_task = run_in_background(ledger.get_entry, self.env.ctx, row.id,
                                             parent=self, name="journal entry",
                                             on_done=self._entry_loaded,
                                             on_error=self._entry_failed)

    def _entry_loaded(self, entry: Any) -> None:
        self.detail_task = None
        self.entry = entry
        locale = self.env.locale
        lines = [_LineRow(f"{ln.account_code} · {ln.account_name}", ln.memo or "",
                          _money(ln.debit, locale), _money(ln.credit, locale))
                 for ln in entry.lines]
        lines.append(_LineRow(self.tr("Total"), "", format_money(entry.total, locale),
                              format_money(entry.total, locale)))
        self.lines_model.set_rows(lines, bold_rows={len(lines) - 1})
        from erp_desktop.services.listing import format_date

        parts = [f"<b>{html.escape(entry.number)}</b>", format_date(entry.entry_date, locale)]
        if entry.memo:
            parts.append(html.escape(entry.memo))
        if entry.reversal_of_number:
            parts.append(self.tr("reverses {n}").format(n=html.escape(entry.reversal_of_number)))
        if entry.reversed_by_number:
            parts.append(self.tr("reversed by {n}").format(
                n=html.escape(entry.reversed_by_number)))
        self.detail_title.setText(" · ".join(parts))
        manual = entry.source_type in (None, "journal")
        self.reverse_button.setEnabled(
            self.env.can("ledger.post") and manual and not entry.reversal_of_number
            and not entry.reversed_by_number)

    def _entry_failed(self, exc: BaseException) -> None:
        self.detail_task = None
        if isinstance(exc, UserError):
            self.detail_title.setText(exc.message)
        else:
            from erp_desktop.ui.errors import show_error

            show_error(self, exc)

    def new_entry(self) -> JournalEntryDialog:
        dialog = JournalEntryDialog(self.env, parent=self)
        dialog.accepted.connect(self._posted)
        dialog.open()
        return dialog

    def _posted(self) -> None:
        self.entry = None
        self.list.refresh()

    def reverse(self) -> None:
        entry = self.entry
        if entry is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Reverse entry"), self.tr(
            "Post a new entry dated today that swaps the debits and credits of {number}? "
            "The original stays in the books.").format(number=entry.number),
            QMessageBox.StandardButton.Cancel, self)
        confirm = box.addButton(self.tr("Reverse"), QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self.reverse_now() if button is confirm
                                  else None)
        box.open()

    def reverse_now(self) -> None:
        """Post the reversal of the entry shown (after the person confirmed)."""
        entry = self.entry
        if entry is None:
            return
        from erp_desktop.services import ledger

        self.reverse_button.setEnabled(False)
        run_in_background(ledger.reverse_entry, self.env.ctx, entry.id, parent=self,
                          name="reverse entry", on_done=lambda _r: self._posted(),
                          on_error=self._reverse_failed)

    def _reverse_failed(self, exc: BaseException) -> None:
        from erp_desktop.ui.errors import show_error

        self.reverse_button.setEnabled(True)
        show_error(self, exc, self.tr("Cannot reverse"))


class LinesEditor(QWidget):
    """The grid of a journal entry: account, memo, debit, credit; rows added as needed."""

    def __init__(self, accounts: list[tuple[str, str]], locale: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts  # (code, "code · name")
        self.locale = locale
        self.on_change: list[Any] = []
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("lines_grid")
        self.table.setHorizontalHeaderLabels([self.tr("Account"), self.tr("Memo"),
                                              self.tr("Debit"), self.tr("Credit")])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 170)
        for column in (2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, 130)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column in (2, 3):  # headings over their figures
            item = self.table.horizontalHeaderItem(column)
            if item is not None:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.add_button = QPushButton(icon("new"), self.tr("Add line"))
        self.add_button.setObjectName("add_line")
        self.add_button.setToolTip(self.tr("Add a line (Ctrl+Enter)"))
        self.add_button.clicked.connect(lambda: self.add_row(focus=True))
        self.remove_button = QPushButton(icon("close"), self.tr("Remove line"))
        self.remove_button.setObjectName("remove_line")
        self.remove_button.clicked.connect(self.remove_current)
        self.totals = QLabel()
        self.totals.setObjectName("totals")
        self.totals.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.totals)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.table.setMinimumHeight(180)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=lambda: self.add_row(focus=True))
        self.add_row()
        self.add_row()

    def _widgets(self, row: int) -> tuple[QComboBox, QLineEdit, QLineEdit, QLineEdit]:
        t = self.table
        return (t.cellWidget(row, 0), t.cellWidget(row, 1), t.cellWidget(row, 2),  # type: ignore[return-value]
                t.cellWidget(row, 3))

    def add_row(self, focus: bool = False) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        account = QComboBox()
        account.setEditable(True)
        account.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        account.addItem("", "")
        for code, text in self.accounts:
            account.addItem(text, code)
        completer = QCompleter([text for _code, text in self.accounts], account)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        account.setCompleter(completer)
        account.lineEdit().setPlaceholderText(self.tr("Code or name"))
        account.setObjectName(f"account_{row}")
        memo = QLineEdit()
        memo.setObjectName(f"memo_{row}")
        debit, credit = QLineEdit(), QLineEdit()
        debit.setObjectName(f"debit_{row}")
        credit.setObjectName(f"credit_{row}")
        for edit in (debit, credit):
            edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            edit.setPlaceholderText("0.00")
        for column, widget in enumerate((account, memo, debit, credit)):
            self.table.setCellWidget(row, column, widget)
        account.currentTextChanged.connect(lambda _t: self._changed())
        for edit in (memo, debit, credit):
            edit.textChanged.connect(lambda _t: self._changed())
        # Typing a debit clears the credit of the same line and back: a line has one side.
        debit.textEdited.connect(lambda t: credit.clear() if t.strip() else None)
        credit.textEdited.connect(lambda t: debit.clear() if t.strip() else None)
        self._chain_tabs()
        if focus:
            account.setFocus()
        self._changed()
        return row

    def remove_current(self) -> None:
        focused = self.focusWidget()
        row = self.table.rowCount() - 1
        for r in range(self.table.rowCount()):
            if focused in self._widgets(r):
                row = r
        if self.table.rowCount() > 2 and row >= 0:
            self.table.removeRow(row)
            self._chain_tabs()
            self._changed()

    def _chain_tabs(self) -> None:
        widgets: list[QWidget] = []
        for r in range(self.table.rowCount()):
            widgets.extend(self._widgets(r))
        widgets += [self.add_button, self.remove_button]
        for a, b in itertools.pairwise(widgets):
            QWidget.setTabOrder(a, b)

    def first_widget(self) -> QWidget:
        return self._widgets(0)[0]

    def set_row(self, row: int, account: str, debit: str = "", credit: str = "",
                memo: str = "") -> None:
        while self.table.rowCount() <= row:
            self.add_row()
        acc, memo_edit, debit_edit, credit_edit = self._widgets(row)
        index = acc.findData(account)
        if index >= 0:
            acc.setCurrentIndex(index)
        else:
            acc.setEditText(account)
        memo_edit.setText(memo)
        debit_edit.setText(debit)
        credit_edit.setText(credit)

    def _account_code(self, combo: QComboBox) -> str:
        text = combo.currentText().strip()
        index = combo.findText(text)
        if index >= 0:
            return str(combo.itemData(index) or "")
        return text.split(" ", 1)[0] if text else ""  # a code typed by hand

    def _amount(self, edit: QLineEdit) -> Decimal | None:
        text = edit.text().strip()
        if not text:
            return None
        return parse_number(text, self.locale)

    def problem(self) -> str | None:
        """Only what the form can tell without the ledger: numbers that are not numbers."""
        for r in range(self.table.rowCount()):
            _acc, _memo, debit, credit = self._widgets(r)
            for edit, side in ((debit, self.tr("debit")), (credit, self.tr("credit"))):
                try:
                    self._amount(edit)
                except ValueError:
                    return self.tr("Line {n}: the {side} “{text}” is not a number.").format(
                        n=r + 1, side=side, text=edit.text())
        return None

    def filled_lines(self) -> list[Any]:
        """The lines typed so far, as the ledger takes them (empty rows left out)."""
        from erp_desktop.services import ledger

        out = []
        for r in range(self.table.rowCount()):
            acc, memo, debit, credit = self._widgets(r)
            code = self._account_code(acc)
            try:
                d, c = self._amount(debit), self._amount(credit)
            except ValueError:
                d = c = None
            if not code and d is None and c is None:
                continue
            out.append(ledger.LineInput(code, debit=d or Decimal(0), credit=c or Decimal(0),
                                        memo=memo.text().strip() or None))
        return out

    def sums(self) -> tuple[Decimal, Decimal]:
        debit = credit = Decimal(0)
        for r in range(self.table.rowCount()):
            _acc, _memo, d, c = self._widgets(r)
            for edit, is_debit in ((d, True), (c, False)):
                try:
                    value = self._amount(edit) or Decimal(0)
                except ValueError:
                    continue
                if is_debit:
                    debit += value
                else:
                    credit += value
        return debit, credit

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()


class JournalEntryDialog(FormDialog):
    """A manual journal voucher; see the module docstring."""

    CHECK_DELAY_MS = 400

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(_tr("New journal entry"), locale=env.locale, parent=parent,
                         save_text=_tr("Post"), intro=_tr(
                             "Each line is a debit or a credit to one account. The entry "
                             "posts when debits and credits are equal; posted entries are "
                             "never changed, only reversed."))
        self.env = env
        self.currency = "INR"
        self.check_task: Task | None = None
        self.last_check: Any = None
        self.date = self.form.add_date("entry_date", _tr("Date"), value=env.ctx.today())
        self.date.setMaximumWidth(220)
        self.memo = self.form.add_text("memo", _tr("Memo"), max_length=500,
                                       placeholder=_tr("What this entry is for"))
        self.editor = LinesEditor([], env.locale)
        self.form.add_widget("lines", _tr("Lines"), self.editor,
                             value=self.editor.filled_lines,
                             checks=[lambda _v: self.editor.problem()], stretch=True)
        self.editor.on_change.append(lambda: self.form.field_changed("lines"))
        self.form.changed.connect(self._changed)
        self.check_timer = QTimer(self)
        self.check_timer.setSingleShot(True)
        self.check_timer.setInterval(self.CHECK_DELAY_MS)
        self.check_timer.timeout.connect(self.check_now)
        self.check_status = QLabel()
        self.check_status.setObjectName("check_status")
        self.check_status.setWordWrap(True)
        self.layout().insertWidget(self.layout().count() - 1, self.check_status)
        self.resize(820, 560)
        self._load_accounts()

    def _load_accounts(self) -> None:
        from erp_desktop.services import ledger

        run_in_background(ledger.list_accounts, self.env.ctx, include_inactive=False,
                          parent=self, name="accounts for entry", on_done=self._accounts_loaded,
                          on_error=self.form.show_error)

    def _accounts_loaded(self, accounts: list[Any]) -> None:
        postable = [(a.code, f"{a.code} · {a.name}") for a in accounts if not a.is_group]
        self.editor.accounts = postable
        for r in range(self.editor.table.rowCount()):
            combo = self.editor._widgets(r)[0]
            keep = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem("", "")
            for code, text in postable:
                combo.addItem(text, code)
            completer = QCompleter([text for _c, text in postable], combo)
            completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
            completer.setFilterMode(Qt.MatchFlag.MatchContains)
            combo.setCompleter(completer)
            combo.setEditText(keep)
            combo.blockSignals(False)

    def _changed(self) -> None:
        debit, credit = self.editor.sums()
        difference = debit - credit
        tone = tones()

        def fmt(value: Decimal) -> str:
            try:
                return format_money(Money.of(value, self.currency), self.env.locale)
            except UserError:
                return str(value)

        text = self.tr("Debits {d} · Credits {c}").format(d=fmt(debit), c=fmt(credit))
        if difference:
            text += " · " + self.tr("Difference {x}").format(x=fmt(abs(difference)))
            self.editor.totals.setStyleSheet(f"color: {tone.error}; font-weight: bold;")
        else:
            self.editor.totals.setStyleSheet(f"color: {tone.success};" if debit else "")
        self.editor.totals.setText(text)
        self.check_status.setText("")
        self.check_timer.start()

    def check_now(self) -> None:
        """Ask the ledger whether the entry as typed would post (a dry run)."""
        self.check_timer.stop()
        if self.form.busy or self.editor.problem() is not None:
            return
        lines = self.editor.filled_lines()
        if len(lines) < 2 or not all(ln.account_code_or_id for ln in lines):
            return  # still being typed: nothing useful to ask yet
        from erp_desktop.services import journal_check

        if self.check_task is not None:
            self.check_task.cancel()
        self.check_task = run_in_background(
            journal_check.check_entry, self.env.ctx, self.date.date().toPython(), lines,
            self.memo.text(), parent=self, name="check entry", on_done=self._checked,
            on_error=lambda exc: setattr(self, "check_task", None))

    def _checked(self, result: Any) -> None:
        self.check_task = None
        self.last_check = result
        if result.ok:
            self.form.fields["lines"].error.setVisible(False)
            self.form.fields["entry_date"].error.setVisible(False)
            self.check_status.setStyleSheet(message_style("success"))
            self.check_status.setText(self.tr("Balanced: ready to post ({total}).").format(
                total=format_money(result.total, self.env.locale)))
        else:
            self.check_status.setText("")
            self.form.show_error(UserError(result.message, field=result.field or "lines"))

    def save(self) -> None:
        from erp_desktop.services import ledger

        self.check_timer.stop()
        self.form.submit(ledger.post_entry, self.env.ctx, self.date.date().toPython(),
                         self.editor.filled_lines(), self.memo.text().strip() or None,
                         on_done=self.saved)


# =========================================================== chart of accounts


class AccountsTab(CommandPage):
    """The chart of accounts; new accounts and edits for those who may change it."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import list_queries

        self.env = env
        self.may_edit = env.can("ledger.accounts.manage")
        self.type_filter = QComboBox()
        self.type_filter.setObjectName("type_filter")
        self.type_filter.addItem(self.tr("All types"), "")
        for key, label in ACCOUNT_TYPES:
            self.type_filter.addItem(_tr(label), key)
        self.type_filter.currentIndexChanged.connect(
            lambda _i: self.list.set_filters(self.list.model.filters.with_extra(
                type=self.type_filter.currentData() or None)))
        self.list = ListPanel(ListSource(list_queries.ACCOUNTS, env.ctx), locale=env.locale,
                              noun=(self.tr("account"), self.tr("accounts")),
                              search_hint=self.tr("Search code or name…"),
                              extra=[self.type_filter],
                              on_new=self.new_account if self.may_edit else None)
        self.list.row_activated.connect(self.edit_account)
        self.list.commands_changed.connect(self.commands_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.list)
        if self.may_edit:
            layout.addWidget(hint(self.tr(
                "Double-click an account (or press Enter) to rename or deactivate it.")))

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def new_account(self) -> None:
        from erp_desktop.services import ledger

        run_in_background(ledger.list_accounts, self.env.ctx, parent=self,
                          name="groups", on_done=self._open_new)

    def _open_new(self, accounts: list[Any]) -> AccountDialog:
        groups = [(a.code, a.type, f"{a.code} · {a.name}") for a in accounts if a.is_group]
        dialog = AccountDialog(self.env, groups, parent=self)
        dialog.accepted.connect(self.list.refresh)
        dialog.open()
        return dialog

    def edit_account(self, row: Any) -> EditAccountDialog | None:
        if not self.may_edit or row is None:
            return None
        dialog = EditAccountDialog(self.env, row, parent=self)
        dialog.accepted.connect(self.list.refresh)
        dialog.open()
        return dialog


class AccountDialog(FormDialog):
    def __init__(self, env: PageEnv, groups: list[tuple[str, str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("New account"), locale=env.locale, parent=parent,
                         save_text=_tr("Add account"))
        self.env = env
        self.groups = groups
        self.form.add_text("code", _tr("Code"), required=True, max_length=20,
                           placeholder="1150")
        self.form.add_text("name", _tr("Name"), required=True, max_length=120)
        self.kind = self.form.add_choice("type", _tr("Type"),
                                         [(k, _tr(v)) for k, v in ACCOUNT_TYPES])
        self.parent_box = self.form.add_choice("parent_code", _tr("Under"), [])
        self.form.add_check("is_group", _tr("This is a group of accounts (no postings)"))
        self.form.add_multiline("description", _tr("Description"), lines=2)
        self.kind.currentIndexChanged.connect(self._fill_groups)
        self._fill_groups()

    def _fill_groups(self) -> None:
        kind = self.kind.currentData()
        self.parent_box.clear()
        self.parent_box.addItem(_tr("(top level)"), "")
        for code, group_type, text in self.groups:
            if group_type == kind:
                self.parent_box.addItem(text, code)
        if self.parent_box.count() > 1:
            self.parent_box.setCurrentIndex(1)

    def save(self) -> None:
        from erp_desktop.services import ledger

        v = self.form.values()
        self.form.submit(ledger.create_account, self.env.ctx, v["code"], v["name"], v["type"],
                         v["parent_code"] or None, is_group=v["is_group"],
                         description=v["description"] or None, on_done=self.saved)


class EditAccountDialog(FormDialog):
    """Rename, describe, (de)activate an account; a change made elsewhere meanwhile is
    reported with Reload, never overwritten."""

    def __init__(self, env: PageEnv, row: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Account {code}").format(code=row.code), locale=env.locale,
                         parent=parent)
        self.env = env
        self.account_id: uuid.UUID = row.id
        self.version: int = row.version
        self.form.add_text("name", _tr("Name"), value=row.name, required=True, max_length=120)
        self.form.add_multiline("description", _tr("Description"), value=row.description,
                                lines=2)
        self.form.add_check("active", _tr("Active (can take postings)"), value=row.active)
        self.form.reload_requested.connect(self.reload)

    def reload(self) -> None:
        from erp_desktop.services import ledger

        run_in_background(ledger.list_accounts, self.env.ctx, parent=self, name="reload account",
                          on_done=self._reloaded, on_error=self.form.show_error)

    def _reloaded(self, accounts: list[Any]) -> None:
        for a in accounts:
            if a.id == self.account_id:
                self.version = a.version
                self.form.set_values({"name": a.name, "description": a.description or "",
                                      "active": a.active})

    def save(self) -> None:
        from erp_desktop.services import ledger

        v = self.form.values()
        self.form.submit(ledger.update_account, self.env.ctx, self.account_id, name=v["name"],
                         description=v["description"], active=v["active"],
                         version=self.version, on_done=self.saved)


# ============================================================= trial balance


@dataclass(frozen=True)
class _TBLine:
    code: str
    name: str
    debit: str
    credit: str


class TrialBalanceTab(CommandPage):
    """The trial balance as of a date, read-only; Print previews it as a PDF."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.ctx = env.ctx
        self.locale = env.locale
        self.task: Task | None = None
        self.report: Any = None
        self._loaded = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(hint(self.tr(
            "Every account's balance up to the date, as a debit or a credit. "
            "The two totals are always equal.")))
        self.can_read = env.can("reports.financial")
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("As of:")))
        self.as_of = QDateEdit()
        self.as_of.setObjectName("as_of")
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("d MMM yyyy")  # unambiguous in every locale
        self.as_of.setDate(self.ctx.today())
        self.as_of.dateChanged.connect(lambda _d: self.reload())
        bar.addWidget(self.as_of)
        self.refresh = QPushButton(icon("refresh"), self.tr("Refresh"))
        self.refresh.clicked.connect(self.reload)
        bar.addWidget(self.refresh)
        self.print_button = QPushButton(icon("print"), self.tr("Print…"))
        self.print_button.setObjectName("print_tb")
        self.print_button.setToolTip(self.tr("Preview, print or save as PDF (Ctrl+P)"))
        self.print_button.clicked.connect(self.print_preview)
        bar.addWidget(self.print_button)
        bar.addStretch(1)
        self.status = hint(wrap=False)
        self.status.setObjectName("tb_status")
        bar.addWidget(self.status)
        layout.addLayout(bar)

        self.model = RowsModel([
            (self.tr("Code"), lambda r: r.code, False),
            (self.tr("Account"), lambda r: r.name, False),
            (self.tr("Debit"), lambda r: r.debit, True),
            (self.tr("Credit"), lambda r: r.credit, True),
        ], self)
        self.table = rows_table(self.model)
        self.table.setObjectName("trial_balance")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 90)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3):  # wide enough for ₹99,99,99,999.00 before the first load
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, 170)
        layout.addWidget(self.table, 1)
        if not self.can_read:
            for w in (self.as_of, self.refresh, self.table, self.print_button):
                w.setEnabled(False)
            self.status.setText(self.tr("Your role does not include financial reports."))

    def on_shown(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.reload()

    def commands(self) -> set[Command]:
        if not self.can_read:
            return set()
        out = {Command.REFRESH}
        if self.report is not None:
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.reload()
        elif command == Command.PRINT:
            self.print_preview()

    def reload(self) -> None:
        if not self.can_read:
            return
        if self.task is not None:
            self.task.cancel()
        from erp_desktop.services import ledger

        as_of = self.as_of.date().toPython()
        self.status.setText(self.tr("Loading…"))
        self.refresh.setEnabled(False)
        self.task = run_in_background(ledger.trial_balance, self.ctx, as_of, parent=self,
                                      on_done=self._loaded_rows, on_error=self._failed,
                                      name="trial balance")

    def _loaded_rows(self, report: Any) -> None:
        self.task = None
        self.report = report
        self.refresh.setEnabled(True)
        lines = [_TBLine(r.code, r.name, _money(r.debit, self.locale),
                         _money(r.credit, self.locale)) for r in report.rows]
        lines.append(_TBLine("", self.tr("Total"), format_money(report.total_debit, self.locale),
                             format_money(report.total_credit, self.locale)))
        self.model.set_rows(lines, bold_rows={len(lines) - 1})
        as_of: date = report.as_of
        if not report.rows:
            self.status.setText(self.tr("No postings up to {date} yet.").format(
                date=as_of.isoformat()))
        elif report.total_debit == report.total_credit:
            self.status.setText(self.tr("{n} accounts · balanced").format(n=len(report.rows)))
        else:  # the ledger service guarantees this never happens; say so if it does
            self.status.setText(self.tr("Debits and credits differ: check the ledger."))
        self.commands_changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.refresh.setEnabled(True)
        if isinstance(exc, UserError):
            self.status.setText(exc.message)
        else:
            from erp_desktop.ui.errors import show_error

            self.status.setText(self.tr("The trial balance could not be computed."))
            show_error(self, exc)

    def report_html(self) -> str:
        from erp_desktop.services.listing import format_date

        r = self.report
        rows = "".join(
            f"<tr><td>{html.escape(ln.code)}</td><td>{html.escape(ln.name)}</td>"
            f"<td align='right'>{html.escape(_money(ln.debit, self.locale))}</td>"
            f"<td align='right'>{html.escape(_money(ln.credit, self.locale))}</td></tr>"
            for ln in r.rows)
        total = (f"<tr><td></td><td><b>{html.escape(self.tr('Total'))}</b></td>"
                 f"<td align='right'><b>{format_money(r.total_debit, self.locale)}</b></td>"
                 f"<td align='right'><b>{format_money(r.total_credit, self.locale)}</b></td></tr>")
        head = "".join(f"<th align='{a}'>{html.escape(t)}</th>" for t, a in (
            (self.tr("Code"), "left"), (self.tr("Account"), "left"),
            (self.tr("Debit"), "right"), (self.tr("Credit"), "right")))
        title = self.tr("Trial balance as of {date}").format(
            date=format_date(r.as_of, self.locale))
        return (f"<h2>{html.escape(self.env.company_name)}</h2>"
                f"<h3>{html.escape(title)}</h3>"
                f"<table width='100%' cellspacing='0' cellpadding='4' border='0'>"
                f"<tr>{head}</tr>{rows}{total}</table>")

    def print_preview(self) -> None:
        if self.report is None:
            return
        from erp_desktop.ui.pdf_preview import PdfPreviewDialog, html_to_pdf

        data = html_to_pdf(self.report_html(), title=self.tr("Trial balance"))
        dialog = PdfPreviewDialog(data, title=self.tr("Trial balance"),
                                  file_name=f"trial-balance-{self.report.as_of}.pdf",
                                  parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()


# ============================================================== the area page


class AccountingPage(TabbedAreaPage):
    """The Accounting area: journal, chart of accounts, trial balance (and, for the
    accountant, the expense claims to pay back)."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Accounting"), self.tr(
            "The ledger: journal entries, the chart of accounts and the trial balance."),
            "accounting_tabs", parent)
        self.env = env
        self.journal = JournalTab(env)
        self.accounts = AccountsTab(env)
        self.trial_balance = TrialBalanceTab(env)
        self.add_tab("journal", self.journal, "journal", self.tr("Journal"))
        self.add_tab("accounts", self.accounts, "accounting", self.tr("Chart of accounts"))
        self.add_tab("trial_balance", self.trial_balance, "balance", self.tr("Trial balance"))
        self.claims: CommandPage | None = None
        if env.can("hr.claims.reimburse") and not env.can("hr.claims.approve"):
            # The accountant pays approved expense claims back; HR managers do it in HR.
            from erp_desktop.ui.claims_pages import ApproveClaimsTab

            self.add_tab("claims", ApproveClaimsTab(env), "balance",
                         self.tr("Claims to pay back"))
