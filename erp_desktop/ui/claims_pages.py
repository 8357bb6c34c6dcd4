"""Expense claims: one's own (file, receipts, submit) and those to approve or pay back.

- `MyClaimsTab` (`hr.claims.own`, shown in the Me area): one's own claims with
  lines and receipts; New, Edit a draft, Attach receipt, Submit, Reopen a
  rejected claim.
- `ApproveClaimsTab`: HR (`hr.claims.approve`) approves or rejects any claim
  with a comment, the accountant (`hr.claims.reimburse`) pays an approved one
  back or sends it to the next payroll; with `team_only` it is a line
  manager's list of their direct reports' claims waiting for a decision.

Both list the claims beside the selected one (`ClaimPanel`: facts, lines,
receipts opened inside the app). Every read and write goes through
`services.claims` on the worker.
"""

from __future__ import annotations

import html
import itertools
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.money import format_money
from erp_desktop.services.listing import format_datetime
from erp_desktop.ui.common_widgets import (
    ATTACH_FILTER,
    AttachmentList,
    StatusLine,
    amount_text,
    bold_caption,
    button,
    current_row,
    date_text,
    error_text,
    facts_html,
    facts_label,
    fit_columns,
    panel_title,
    read_upload,
    right_headers,
    set_rows_keeping,
    top_caption,
)
from erp_desktop.ui.forms import FormDialog, parse_number
from erp_desktop.ui.list_page import TABLE_STYLE
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import (
    PageEnv,
    RowsModel,
    rows_table,
)
from erp_desktop.ui.worker import Task, run_in_background

CLAIM_STATUS = {"draft": "Draft", "submitted": "Waiting for approval", "approved": "Approved",
                "rejected": "Rejected", "reimbursed": "Reimbursed",
                "in_payroll": "With the next salary", "paid_in_payroll": "Paid with salary"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("hr", text)


class ClaimLinesEditor(QWidget):
    """The lines of a claim: date, category, amount, what for; rows added as needed."""

    def __init__(self, locale: str, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import claims

        self.locale = locale
        self.today = today
        self.categories = [(key, _tr(label)) for key, (label, _acc) in claims.CATEGORIES.items()]
        self.on_change: list[Callable[[], None]] = []
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("claim_lines")
        self.table.setStyleSheet(TABLE_STYLE)
        self.table.setHorizontalHeaderLabels([_tr("Date"), _tr("Category"), _tr("Amount"),
                                              _tr("What for")])
        right_headers(self.table, [2])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in ((0, 130), (1, 200), (2, 120)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, width)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(170)
        self.add_button = button("add_line", _tr("&Add line"), "new",
                                 _tr("Add a line (Ctrl+Enter)"))
        self.add_button.clicked.connect(lambda: self.add_row(focus=True))
        self.remove_button = button("remove_line", _tr("Remove line"), "close")
        self.remove_button.clicked.connect(self.remove_current)
        self.total = QLabel()
        self.total.setObjectName("claim_total")
        self.total.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        bar = QHBoxLayout()
        bar.addWidget(self.add_button)
        bar.addWidget(self.remove_button)
        bar.addStretch(1)
        bar.addWidget(self.total)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(bar)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=lambda: self.add_row(focus=True))
        self.add_row()

    def _widgets(self, row: int) -> tuple[QDateEdit, QComboBox, QLineEdit, QLineEdit]:
        t = self.table
        return (t.cellWidget(row, 0), t.cellWidget(row, 1), t.cellWidget(row, 2),  # type: ignore[return-value]
                t.cellWidget(row, 3))

    def add_row(self, focus: bool = False) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        day = QDateEdit()
        day.setObjectName(f"date_{row}")
        day.setCalendarPopup(True)
        day.setDisplayFormat("d MMM yyyy")
        day.setDate(QDate(self.today))
        day.setMaximumDate(QDate(self.today))
        category = QComboBox()
        category.setObjectName(f"category_{row}")
        for key, label in self.categories:
            category.addItem(label, key)
        amount = QLineEdit()
        amount.setObjectName(f"amount_{row}")
        amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        amount.setPlaceholderText("0.00")
        what = QLineEdit()
        what.setObjectName(f"description_{row}")
        what.setMaxLength(500)
        for column, widget in enumerate((day, category, amount, what)):
            self.table.setCellWidget(row, column, widget)
        amount.textChanged.connect(lambda _t: self._changed())
        what.textChanged.connect(lambda _t: self._changed())
        day.dateChanged.connect(lambda _d: self._changed())
        category.currentIndexChanged.connect(lambda _i: self._changed())
        self._chain_tabs()
        if focus:
            day.setFocus()
        self._changed()
        return row

    def remove_current(self) -> None:
        focused = self.focusWidget()
        row = self.table.rowCount() - 1
        for r in range(self.table.rowCount()):
            if focused in self._widgets(r):
                row = r
        if self.table.rowCount() > 1 and row >= 0:
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

    def set_row(self, row: int, day: date, category: str, amount: str,
                description: str = "") -> None:
        while self.table.rowCount() <= row:
            self.add_row()
        d, c, a, w = self._widgets(row)
        d.setDate(QDate(day))
        index = c.findData(category)
        if index >= 0:
            c.setCurrentIndex(index)
        a.setText(amount)
        w.setText(description)

    def _amount(self, edit: QLineEdit) -> Decimal | None:
        text = edit.text().strip()
        return parse_number(text, self.locale) if text else None

    def problem(self) -> str | None:
        for r in range(self.table.rowCount()):
            amount = self._widgets(r)[2]
            try:
                self._amount(amount)
            except ValueError:
                return _tr("Line {n}: the amount “{text}” is not a number.").format(
                    n=r + 1, text=amount.text())
        return None

    def lines(self) -> list[Any]:
        """The lines typed so far, as `services.claims` takes them (empty rows left out)."""
        from erp_desktop.services import claims

        out = []
        for r in range(self.table.rowCount()):
            d, c, a, w = self._widgets(r)
            try:
                amount = self._amount(a)
            except ValueError:
                amount = None
            if amount is None and not w.text().strip():
                continue
            out.append(claims.ClaimLineInput(d.date().toPython(), str(c.currentData()),
                                             amount if amount is not None else "",
                                             w.text().strip() or None))
        return out

    def _changed(self) -> None:
        total = Decimal(0)
        for r in range(self.table.rowCount()):
            try:
                total += self._amount(self._widgets(r)[2]) or Decimal(0)
            except ValueError:
                continue
        self.total.setText(_tr("Total {amount}").format(amount=amount_text(total,
                                                                           self.locale)))
        for callback in self.on_change:
            callback()


class ClaimDialog(FormDialog):
    """A new expense claim, or a draft's changes: a title and its lines."""

    def __init__(self, env: PageEnv, detail: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(_tr("New expense claim") if detail is None else
                         _tr("Claim {name}").format(name=detail.number or detail.title),
                         locale=env.locale, parent=parent,
                         save_text=_tr("Save draft"), intro=_tr(
                             "One line per expense. Save the draft, attach the receipts, then "
                             "submit it for approval."))
        self.env = env
        self.detail = detail
        self.form.add_text("title", _tr("&Title"), value=detail.title if detail else "",
                           required=True, max_length=200,
                           placeholder=_tr("e.g. Client visit to Mysuru"))
        self.editor = ClaimLinesEditor(env.locale, env.ctx.today())
        self.form.add_widget("lines", _tr("Expenses"), self.editor, value=self.editor.lines,
                             checks=[lambda _v: self.editor.problem()], stretch=True)
        self.editor.on_change.append(lambda: self.form.field_changed("lines"))
        if detail is not None:
            for n, ln in enumerate(detail.lines):
                self.editor.set_row(n, ln.expense_date, ln.category,
                                    amount_text(ln.amount.amount, env.locale),
                                    ln.description or "")
        self.resize(780, 480)

    def save(self) -> None:
        from erp_desktop.services import claims

        v = self.form.values()
        if self.detail is None:
            self.form.submit(claims.create_claim, self.env.ctx, v["title"], v["lines"],
                             on_done=self.saved)
        else:
            self.form.submit(claims.update_claim, self.env.ctx, self.detail.id,
                             self.detail.version, title=v["title"], lines=v["lines"],
                             on_done=self.saved)


class DecisionDialog(FormDialog):
    """Approve a claim (a comment if you like) or reject it (say why)."""

    def __init__(self, env: PageEnv, detail: Any, approve: bool,
                 parent: QWidget | None = None) -> None:
        name = detail.number or detail.title
        super().__init__(
            _tr("Approve {name}").format(name=name) if approve
            else _tr("Reject {name}").format(name=name),
            locale=env.locale, parent=parent,
            save_text=_tr("Approve") if approve else _tr("Reject"),
            intro=_tr("{employee} claims {total} for “{title}”.").format(
                employee=detail.employee_name, total=format_money(detail.total, env.locale),
                title=detail.title))
        self.env = env
        self.detail = detail
        self.approve = approve
        self.form.add_multiline("comment", _tr("&Comment") if approve else _tr("&Why"),
                                required=not approve, lines=3,
                                placeholder="" if approve else
                                _tr("So the employee can correct it"))
        top_caption(self.form, "comment")

    def save(self) -> None:
        from erp_desktop.services import claims

        fn = claims.approve_claim if self.approve else claims.reject_claim
        self.form.submit(fn, self.env.ctx, self.detail.id, self.form.value("comment") or None,
                         version=self.detail.version, on_done=self.saved)


class ReimburseDialog(FormDialog):
    def __init__(self, env: PageEnv, detail: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Pay back {name}").format(name=detail.number),
                         locale=env.locale, parent=parent, save_text=_tr("Pay back"),
                         intro=_tr("{total} to {employee}, booked to the claim's expense "
                                   "accounts.").format(
                             total=format_money(detail.total, env.locale),
                             employee=detail.employee_name))
        self.env = env
        self.detail = detail
        self.form.add_choice("paid_from", _tr("Paid &from"), [("bank", _tr("Bank")),
                                                               ("cash", _tr("Cash"))])
        self.form.add_date("on", _tr("&Date"), value=env.ctx.today())

    def save(self) -> None:
        from erp_desktop.services import claims

        v = self.form.values()
        self.form.submit(claims.reimburse_claim, self.env.ctx, self.detail.id, v["paid_from"],
                         v["on"], version=self.detail.version, on_done=self.saved)


class ClaimPanel(QWidget):
    """A claim: who, what, where it stands, its lines and receipts."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import claims

        self.env = env
        self.detail: Any = None
        locale = env.locale
        self.title = panel_title(_tr("No claim selected"), "claim_title")
        self.facts = facts_label("claim_facts")
        self.lines_model = RowsModel([
            (_tr("Date"), lambda ln: date_text(ln.expense_date, locale) if ln.expense_date else "",
             False),
            (_tr("Category"), lambda ln: ln.category_label, False),
            (_tr("What for"), lambda ln: ln.description or "", False),
            (_tr("Amount"), lambda ln: format_money(ln.amount, locale), True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("claim_detail_lines")
        fit_columns(self.lines, 2, {0: 100, 1: 130, 3: 100})
        self.status = StatusLine("receipts_status")
        self.receipts = AttachmentList("receipts", lambda attachment_id: claims.get_receipt(
            env.ctx, attachment_id), self.status.say, locale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.lines, 3)
        layout.addWidget(bold_caption(_tr("Receipts")))
        layout.addWidget(self.receipts, 2)
        layout.addWidget(self.status)
        self.show_claim(None)

    def show_claim(self, detail: Any) -> None:
        self.detail = detail
        locale = self.env.locale
        if detail is None:
            self.title.setText(_tr("No claim selected"))
            self.facts.setText(_tr("Select a claim to see its lines and receipts."))
            self.lines_model.set_rows([])
            self.receipts.set_rows([])
            return
        e = html.escape
        self.title.setText(f"{detail.title} · {detail.number or _tr('draft')}")
        rows = [(_tr("Employee"), e(f"{detail.employee_name} ({detail.employee_code})")),
                (_tr("Status"), e(_tr(CLAIM_STATUS.get(detail.status, detail.status)))),
                (_tr("Total"), e(format_money(detail.total, locale)))]
        if detail.submitted_at:
            rows.append((_tr("Submitted"), e(format_datetime(detail.submitted_at, locale))))
        if detail.decided_at:
            decided = format_datetime(detail.decided_at, locale)
            if detail.decided_by:
                decided += " " + _tr("by {who}").format(who=detail.decided_by)
            rows.append((_tr("Decided"), e(decided)))
        if detail.decision_comment:
            rows.append((_tr("Comment"), e(detail.decision_comment)))
        if detail.settled_at or detail.payroll_period:
            via = {"bank": _tr("from the bank"), "cash": _tr("in cash"),
                   "payroll": _tr("with the salary")}.get(detail.settled_via or "", "")
            rows.append((_tr("Paid back"), e(" ".join(x for x in (
                format_datetime(detail.settled_at, locale) if detail.settled_at else "",
                via, f"({detail.payroll_period})" if detail.payroll_period else "") if x))))
        self.facts.setText(facts_html(rows))
        self.lines_model.set_rows(detail.lines)
        self.receipts.set_rows(detail.receipts)


class _ClaimsTab(CommandPage):
    """A list of claims beside the selected one (shared by My claims and To approve)."""

    with_employee = False

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.claims: list[Any] = []
        self.task: Task | None = None
        self.last_dialog: QDialog | None = None
        self.loads = 0  # lists read so far (tests wait on it)
        locale = env.locale
        columns: list[tuple[str, Callable[[Any], str], bool]] = [
            (_tr("Number"), lambda c: c.number or _tr("(draft)"), False)]
        if self.with_employee:
            columns.append((_tr("Employee"), lambda c: c.employee_name, False))
        columns += [
            (_tr("Title"), lambda c: c.title, False),
            (_tr("Status"), lambda c: _tr(CLAIM_STATUS.get(c.status, c.status)), False),
            (_tr("Total"), lambda c: format_money(c.total, locale), True),
        ]
        self.model = RowsModel(columns, self)
        self.table = rows_table(self.model)
        self.table.setObjectName("claims")
        metrics = self.table.fontMetrics()
        widths = {0: metrics.horizontalAdvance("EXP/2026-27/A/000000") + 24,
                  len(columns) - 2: metrics.horizontalAdvance(_tr("Waiting for approval")) + 24,
                  len(columns) - 1: 100}
        if self.with_employee:
            widths[1] = 105
        fit_columns(self.table, 2 if self.with_employee else 1, widths)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._selected())
        self.panel = ClaimPanel(env)
        self.message = StatusLine("claims_message")
        self.bar = QHBoxLayout()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([640, 500])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(self.bar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)

    def on_shown(self) -> None:
        self.reload()  # a short list: read again whenever it comes on screen

    def commands(self) -> set[Command]:
        return {Command.REFRESH}

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.reload()

    def load(self) -> list[Any]:
        raise NotImplementedError

    def reload(self) -> Task:
        return run_in_background(self.load, parent=self, name="claims", on_done=self._listed,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))

    def _listed(self, rows: list[Any]) -> None:
        self.loads += 1
        self.claims = rows
        set_rows_keeping(self.table, self.model, rows)
        if not rows:
            self.panel.show_claim(None)
        self._selected()
        self.commands_changed.emit()

    def current(self) -> Any | None:
        return current_row(self.table)

    def _selected(self) -> None:
        row = self.current()
        self.enable(self.panel.detail if row is not None and self.panel.detail is not None
                    and self.panel.detail.id == row.id else None)
        if row is None:
            return
        if self.panel.detail is not None and self.panel.detail.id == row.id \
                and self.panel.detail.status == row.status \
                and self.panel.detail.total == row.total:
            return
        from erp_desktop.services import claims

        if self.task is not None:
            self.task.cancel()
        self.task = run_in_background(claims.get_claim, self.env.ctx, row.id, parent=self,
                                      name="claim", on_done=self._shown,
                                      on_error=lambda e: self.message.say(error_text(e), "error"))

    def _shown(self, detail: Any) -> None:
        self.task = None
        self.panel.show_claim(detail)
        self.enable(detail)

    def enable(self, detail: Any) -> None:
        """Enable the buttons that fit the claim shown."""

    def step(self, fn: Callable[..., Any], *args: Any, done_text: str,
             versioned: bool = False, **kwargs: Any) -> Task | None:
        """`fn(ctx, claim_id, *args)` on the claim shown, then show it as it is now.

        `versioned` passes the version shown, so a change made meanwhile is refused.
        """
        detail = self.panel.detail
        if detail is None:
            return None
        ctx = self.env.ctx
        if versioned:
            kwargs["version"] = detail.version

        def work() -> Any:
            return fn(ctx, detail.id, *args, **kwargs)

        def done(result: Any) -> None:
            self.message.say(done_text.format(name=result.number or result.title))
            self._shown(result)
            self.reload()

        return run_in_background(work, parent=self, name=getattr(fn, "__name__", "claim"),
                                 on_done=done,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))

    def _after(self, dialog: QDialog, text: str) -> QDialog:
        self.last_dialog = dialog

        def accepted() -> None:
            result = getattr(dialog, "result_value", None)
            if result is not None:
                self.message.say(text.format(name=result.number or result.title))
                self._shown(result)
            self.reload()

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog


class MyClaimsTab(_ClaimsTab):
    """One's own expense claims: new, edit a draft, receipts, submit, reopen."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, parent)
        self.new_button = button("new_claim", _tr("&New claim…"), "new",
                                 _tr("A new expense claim (Ctrl+N)"))
        self.new_button.clicked.connect(lambda: self.new_claim())
        self.edit_button = button("edit_claim", _tr("&Edit…"), "edit")
        self.edit_button.clicked.connect(lambda: self.edit_claim())
        self.receipt_button = button("attach_receipt", _tr("Attach &receipt…"), "pdf",
                                     _tr("A photo or PDF of the receipt, at most 10 MB"))
        self.receipt_button.clicked.connect(self.attach_receipt)
        self.submit_button = button("submit_claim", _tr("&Submit"), "enable",
                                    _tr("Send the claim for approval"))
        self.submit_button.clicked.connect(lambda: self.submit())
        self.reopen_button = button("reopen_claim", _tr("Re&open"), "reverse",
                                    _tr("Take a rejected claim back to draft to correct it"))
        self.reopen_button.clicked.connect(lambda: self.reopen())
        for b in (self.new_button, self.edit_button, self.receipt_button, self.submit_button,
                  self.reopen_button):
            self.bar.addWidget(b)
        self.bar.addStretch(1)
        self.enable(None)

    def load(self) -> list[Any]:
        from erp_desktop.services import claims

        return claims.list_my_claims(self.env.ctx)

    def commands(self) -> set[Command]:
        return {Command.REFRESH, Command.NEW}

    def run_command(self, command: Command) -> None:
        if command == Command.NEW:
            self.new_claim()
        else:
            super().run_command(command)

    def enable(self, detail: Any) -> None:
        draft = detail is not None and detail.status == "draft"
        self.edit_button.setEnabled(draft)
        self.receipt_button.setEnabled(draft)
        self.submit_button.setEnabled(draft)
        self.reopen_button.setEnabled(detail is not None and detail.status == "rejected")

    def new_claim(self) -> QDialog:
        return self._after(ClaimDialog(self.env, parent=self), _tr("Claim {name} saved as a "
                                                                   "draft."))

    def edit_claim(self) -> QDialog | None:
        detail = self.panel.detail
        if detail is None or detail.status != "draft":
            return None
        return self._after(ClaimDialog(self.env, detail, parent=self),
                           _tr("Claim {name} saved."))

    def attach_receipt(self) -> None:
        if self.panel.detail is None:
            return
        chosen, _ = QFileDialog.getOpenFileName(self, _tr("Attach a receipt"),
                                                str(Path.home()), _tr(ATTACH_FILTER))
        if chosen:
            self.attach_receipt_file(Path(chosen))

    def attach_receipt_file(self, path: Path) -> Task | None:
        """Read `path` on the worker and attach it to the draft shown."""
        from erp_desktop.services import claims

        def attach(ctx: Any, claim_id: uuid.UUID) -> Any:
            name, data = read_upload(path)
            claims.add_receipt(ctx, claim_id, name, data)
            return claims.get_claim(ctx, claim_id)

        return self.step(attach, done_text=_tr("Receipt {file} attached.").replace(
            "{file}", Path(path).name))

    def submit(self) -> Task | None:
        from erp_desktop.services import claims

        return self.step(claims.submit_claim, versioned=True,
                         done_text=_tr("Claim {name} submitted for approval."))

    def reopen(self) -> Task | None:
        from erp_desktop.services import claims

        return self.step(claims.reopen_claim, done_text=_tr("Claim {name} is a draft again."))


class ApproveClaimsTab(_ClaimsTab):
    """Claims to decide (HR, line managers) and to pay back (the accountant)."""

    with_employee = True

    def __init__(self, env: PageEnv, parent: QWidget | None = None, *,
                 team_only: bool = False) -> None:
        super().__init__(env, parent)
        # `team_only`: a line manager deciding their direct reports' claims (the
        # service checks whose); there is nothing else for them to list.
        self.team_only = team_only
        self.may_approve = team_only or env.can("hr.claims.approve")
        self.may_reimburse = not team_only and env.can("hr.claims.reimburse")
        self.show_box = QComboBox()
        self.show_box.setObjectName("claims_filter")
        if self.may_approve:
            self.show_box.addItem(_tr("Waiting for approval"), "submitted")
        if not team_only:
            self.show_box.addItem(_tr("Approved, to pay back"), "approved")
            self.show_box.addItem(_tr("All claims"), "")
        self.show_box.currentIndexChanged.connect(lambda _i: self.reload())
        self.approve_button = button("approve_claim", _tr("&Approve…"), "enable")
        self.approve_button.clicked.connect(lambda: self.decide(True))
        self.reject_button = button("reject_claim", _tr("Re&ject…"), "disable")
        self.reject_button.clicked.connect(lambda: self.decide(False))
        self.reimburse_button = button("reimburse_claim", _tr("&Pay back…"), "balance",
                                       _tr("Pay the claim back now from the bank or cash"))
        self.reimburse_button.clicked.connect(lambda: self.reimburse())
        self.payroll_button = button("claim_to_payroll", _tr("With next &salary"), "hr",
                                     _tr("Pay the claim back with the next payroll"))
        self.payroll_button.clicked.connect(lambda: self.to_payroll())
        show_label = QLabel(_tr("S&how:"))
        show_label.setBuddy(self.show_box)
        if not team_only:
            self.bar.addWidget(show_label)
            self.bar.addWidget(self.show_box)
            self.bar.addSpacing(12)
        else:
            show_label.hide()
            self.show_box.hide()
        for b in (self.approve_button, self.reject_button):
            b.setVisible(self.may_approve)
            self.bar.addWidget(b)
        for b in (self.reimburse_button, self.payroll_button):
            b.setVisible(self.may_reimburse)
            self.bar.addWidget(b)
        self.bar.addStretch(1)
        self.enable(None)

    def load(self) -> list[Any]:
        from erp_desktop.services import claims

        which = self.show_box.currentData()
        if which == "submitted":
            return claims.claims_to_approve(self.env.ctx)
        return claims.list_claims(self.env.ctx, which or None)

    def enable(self, detail: Any) -> None:
        status = detail.status if detail is not None else None
        self.approve_button.setEnabled(status == "submitted")
        self.reject_button.setEnabled(status == "submitted")
        self.reimburse_button.setEnabled(status == "approved")
        self.payroll_button.setEnabled(status == "approved")

    def decide(self, approve: bool) -> QDialog | None:
        detail = self.panel.detail
        if detail is None or detail.status != "submitted":
            return None
        return self._after(DecisionDialog(self.env, detail, approve, parent=self),
                           _tr("Claim {name} approved.") if approve
                           else _tr("Claim {name} rejected."))

    def reimburse(self) -> QDialog | None:
        detail = self.panel.detail
        if detail is None or detail.status != "approved":
            return None
        return self._after(ReimburseDialog(self.env, detail, parent=self),
                           _tr("Claim {name} paid back."))

    def to_payroll(self) -> Task | None:
        from erp_desktop.services import claims

        return self.step(claims.send_claim_to_payroll, versioned=True,
                         done_text=_tr("Claim {name} will be paid with the next salary."))

