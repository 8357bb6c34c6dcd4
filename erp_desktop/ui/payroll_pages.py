"""Payroll: the monthly runs and the wizard that takes a month from computing to paid.

`PayrollTab` (`hr.payroll.view`) lists the runs; Run payroll opens
`PayrollWizard`, which walks a month through choose month → compute (on the
worker, with progress) → review (unpaid leave and one-off lines) → submit and
approve → post → payslips (preview, write all to a folder with Cancel,
register and bank list exports) → paid. Each step's button is enabled only
for the roles the service allows; otherwise the page says who may.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, QDir, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import format_money
from erp_desktop.domain.payroll_calc import PayPeriod
from erp_desktop.ui.common_widgets import (
    StatusLine,
    bold_caption,
    button,
    current_row,
    date_text,
    days_text,
    error_text,
    fit_columns,
    money_text,
    month_choices,
    preview_pdf,
    set_rows_keeping,
    top_caption,
    who_may,
    wrapped_label,
)
from erp_desktop.ui.forms import FormDialog
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import (
    Card,
    PageEnv,
    RowsModel,
    heading,
    hint,
    message_style,
    rows_table,
)
from erp_desktop.ui.worker import CancelToken, Task, run_in_background

RUN_STATUS = {"draft": "Draft", "review": "In review", "approved": "Approved",
              "posted": "Posted", "paid": "Paid", "reversed": "Reversed"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("hr", text)


MONTH, REVIEW, APPROVE, POST, PAYSLIPS, PAID = range(6)
_RANK = {"draft": 0, "review": 1, "approved": 2, "posted": 3, "paid": 4, "reversed": 3}
STEPS = ((MONTH, "Month"), (REVIEW, "Review"), (APPROVE, "Approve"), (POST, "Post"),
         (PAYSLIPS, "Payslips"), (PAID, "Paid"))


def start_page_for(status: str) -> int:
    """The wizard page a run in `status` opens at."""
    return {"draft": REVIEW, "review": APPROVE, "approved": POST}.get(status, PAYSLIPS)


def compute_month(ctx: Any, month: str, pay_date: date | None, *,
                  token: CancelToken) -> Any:
    """Start or recompute a month's draft, then read it for review (worker)."""
    from erp_desktop.services import payroll

    token.report(0, 2, _tr("Working out each employee's pay…"))
    token.check()
    payroll.start_run(ctx, month, pay_date)
    token.report(1, 2, _tr("Reading the results…"))
    token.check()
    detail = payroll.get_run(ctx, month)
    token.report(2, 2, "")
    return detail


def write_all_payslips(ctx: Any, month: str, number: str | None, folder: Path,
                       written: list[Path], *, token: CancelToken) -> list[Path]:
    """Every payslip of the month's posted run as a PDF in `folder` (worker, cancellable).

    `written` collects the files as they are made, so that a cancel can say
    how far it got.
    """
    from erp_desktop.services import payroll

    slips = [s for s in payroll.list_payslips(ctx, month) if s.run_number == number]
    total = len(slips)
    for n, slip in enumerate(slips):
        token.check()
        token.report(n, total, _tr("Payslip {n} of {total}: {name}").format(
            n=n + 1, total=total, name=slip.employee_name))
        data = payroll.payslip_pdf(ctx, slip.id)
        written.append(payroll.write_export(Path(folder) / payroll.payslip_file_name(slip),
                                            data))
    token.report(total, total, "")
    return list(written)


class UnpaidLeaveDialog(FormDialog):
    def __init__(self, env: PageEnv, month: str, entry: Any,
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("Unpaid leave of {name}").format(name=entry.employee_name),
                         locale=env.locale, parent=parent, intro=_tr(
                             "Days of leave without pay this month (half days allowed). The "
                             "pay of every component that follows attendance goes down."))
        self.env = env
        self.month = month
        self.entry = entry
        self.form.add_decimal("lop_days", _tr("Unpaid &days"), value=days_text(entry.lop_days),
                              required=True, places=1, minimum=Decimal(0),
                              maximum=Decimal(entry.days_in_month))
        self.setMinimumWidth(420)

    def save(self) -> None:
        from erp_desktop.services import payroll

        self.form.submit(payroll.set_unpaid_leave, self.env.ctx, self.month,
                         self.entry.employee_id, self.form.value("lop_days"),
                         on_done=self.saved)


class AdjustmentDialog(FormDialog):
    """A one-off line this month: bonus, overtime, a loan recovery, a correction."""

    def __init__(self, env: PageEnv, month: str, entry: Any, components: Sequence[Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("One-off line for {name}").format(name=entry.employee_name),
                         locale=env.locale, parent=parent, save_text=_tr("Add line"))
        self.env = env
        self.month = month
        self.entry = entry
        kinds = {"earning": _tr("earning"), "deduction": _tr("deduction")}
        fixed = [(c.code, f"{c.name} ({kinds.get(c.kind, c.kind)})")
                 for c in components if c.method == "fixed"]
        self.form.add_choice("component_code", _tr("&Component"), fixed)
        self.form.add_decimal("amount", _tr("&Amount"), required=True,
                              minimum=Decimal("0.01"), placeholder="0.00")
        self.form.add_text("note", _tr("&Note"), max_length=500)

    def save(self) -> None:
        from erp_desktop.services import payroll

        v = self.form.values()
        self.form.submit(payroll.add_adjustment, self.env.ctx, self.month,
                         self.entry.employee_id, v["component_code"], v["amount"],
                         v["note"] or None, on_done=self.saved)


class ReverseRunDialog(FormDialog):
    def __init__(self, env: PageEnv, totals: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Reverse payroll {number}").format(number=totals.number or ""),
                         locale=env.locale, parent=parent, save_text=_tr("Reverse"), intro=_tr(
                             "The journal entry is reversed and the month can be run again. "
                             "The payslips stay on file, marked as cancelled. A paid payroll "
                             "cannot be reversed; correct it in a later month instead."))
        self.env = env
        self.totals = totals
        self.form.add_multiline("reason", _tr("&Why"), required=True, lines=3)
        top_caption(self.form, "reason")
        self.form.add_date("on", _tr("Reversal &date"),
                           value=PayPeriod.parse(totals.period).end)

    def save(self) -> None:
        from erp_desktop.services import payroll

        v = self.form.values()
        self.form.submit(payroll.reverse_run, self.env.ctx, self.totals.period, v["reason"],
                         v["on"], on_done=self.saved)


def _totals_text(totals: Any, locale: str) -> str:
    number = f" · {totals.number}" if totals.number else ""
    return _tr("{month}{number} · {status} · {n} employees · gross {gross} · deductions "
               "{deductions} · net pay {net}").format(
        month=_tr(totals.period_label), number=number,
        status=_tr(RUN_STATUS.get(totals.status, totals.status)).lower(),
        n=totals.employee_count, gross=format_money(totals.gross, locale),
        deductions=format_money(totals.deductions, locale),
        net=format_money(totals.net, locale))


class _RunPage(QWizardPage):
    """A step of the payroll wizard. Where the run is still at `action_from`, Next
    performs the step (if the user may: `permission`), then moves on."""

    action_from: str | None = None
    permission: str | None = None
    next_text: str = ""

    def __init__(self, wizard: PayrollWizard) -> None:
        super().__init__()
        self.wiz = wizard
        self.env = wizard.env
        self.busy = False
        self._go = False
        self.note = StatusLine("page_note")
        wizard.run_changed.connect(self._run_changed)

    # ---- state

    @property
    def totals(self) -> Any:
        return self.wiz.detail.totals if self.wiz.detail is not None else None

    def action_needed(self) -> bool:
        return self.action_from is not None and self.totals is not None \
            and self.totals.status == self.action_from

    def may_act(self) -> bool:
        return self.permission is None or self.env.can(self.permission)

    def can_pass(self) -> bool:
        return True

    def isComplete(self) -> bool:
        if self.busy or self.totals is None:
            return False
        if self.action_needed():
            return self.may_act()
        return self.can_pass()

    def initializePage(self) -> None:
        self.note.say("")
        if self.next_text:
            self.setButtonText(QWizard.WizardButton.NextButton,
                               self.next_text if self.action_needed() else _tr("&Next >"))
        self.refresh()

    def _run_changed(self) -> None:
        if self.wiz.currentPage() is self:
            if self.next_text:
                self.setButtonText(QWizard.WizardButton.NextButton,
                                   self.next_text if self.action_needed() else _tr("&Next >"))
            self.refresh()
            self.completeChanged.emit()

    def refresh(self) -> None:
        """Show the run as it is now."""

    # ---- the step

    def validatePage(self) -> bool:
        if self._go:
            self._go = False
            return True
        if not self.action_needed():
            return True
        if not self.may_act():
            return False
        self.act()
        return False

    def act(self) -> None:
        """Start the step's service call (through `self.run_step`)."""

    def set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.completeChanged.emit()

    def run_step(self, fn: Callable[..., Any], *args: Any, advance: bool = True,
                 then: Callable[[], None] | None = None, **kwargs: Any) -> Task:
        """`fn(ctx, *args, **kwargs)`, then the run read again; on success, Next."""
        from erp_desktop.services import payroll

        ctx, month = self.env.ctx, self.wiz.month

        def work() -> Any:
            fn(ctx, *args, **kwargs)
            return payroll.get_run(ctx, month)

        def done(detail: Any) -> None:
            self.set_busy(False)
            self.wiz.set_detail(detail)
            if then is not None:
                then()
            if advance:
                self._go = True
                self.wiz.next()

        self.set_busy(True)
        self.note.say(_tr("Working…"), "hint")
        return run_in_background(work, parent=self, name=getattr(fn, "__name__", "payroll"),
                                 on_done=done, on_error=self.failed)

    def return_to_draft(self) -> Task:
        """Unfreeze the figures (review or approved -> draft) and start again at Review."""
        from erp_desktop.services import payroll

        def restart() -> None:
            if self.wiz.currentId() != REVIEW:
                self.wiz.setStartId(REVIEW)
                self.wiz.restart()

        return self.run_step(payroll.return_run, self.wiz.month, advance=False, then=restart)

    def frozen_layout(self, cards: Sequence[tuple[str, str]], state_name: str) -> QLabel:
        """The page of a step on frozen figures: cards of totals, a line saying where
        the run stands (returned), who may act, and Send back to draft."""
        self.cards = {key: Card(text) for key, text in cards}
        row = QHBoxLayout()
        for card in self.cards.values():
            row.addWidget(card)
        state = wrapped_label(state_name)
        self.who = wrapped_label("who_may")
        self.back_to_draft = self.return_button()
        bar = QHBoxLayout()
        bar.addWidget(self.back_to_draft)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(state)
        layout.addWidget(self.who)
        layout.addLayout(bar)
        layout.addStretch(1)
        layout.addWidget(self.note)
        return state

    def return_button(self) -> QPushButton:
        back = button("return_to_draft", _tr("Send back to &draft"), "reverse",
                      _tr("Unfreeze the figures to change them"))
        back.clicked.connect(self.return_to_draft)
        return back

    def failed(self, exc: BaseException) -> None:
        self.set_busy(False)
        if isinstance(exc, UserError):
            self.note.say(exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            self.note.say(_tr("Something went wrong; nothing was changed."), "error")
            show_error(self, exc)


class MonthPage(_RunPage):
    """Which month to pay, and on which day."""

    def __init__(self, wizard: PayrollWizard) -> None:
        super().__init__(wizard)
        self.setTitle(_tr("Choose the month"))
        self.setSubTitle(_tr("One payroll run per month. Computing it works out every "
                             "employee's pay from their salary, the days they were employed "
                             "and any unpaid leave."))
        today = self.env.ctx.today()
        self.by_month = {r.period: r for r in wizard.runs if r.status != "reversed"}
        self.month = QComboBox()
        self.month.setObjectName("month")
        choices = list(reversed(month_choices(today, back=12, ahead=1)))
        for start, label in choices:
            key = PayPeriod.of(start).key
            run = self.by_month.get(key)
            text = label if run is None else _tr("{month} — {status}").format(
                month=label, status=_tr(RUN_STATUS.get(run.status, run.status)).lower())
            self.month.addItem(text, key)
        self.month.setCurrentIndex(self.month.findData(self._suggested(today)))
        self.month.currentIndexChanged.connect(self._month_changed)
        self.pay_date = QDateEdit()
        self.pay_date.setObjectName("pay_date")
        self.pay_date.setCalendarPopup(True)
        self.pay_date.setDisplayFormat("d MMM yyyy")
        self.info = wrapped_label("month_info")
        form = QGridLayout()
        month_label = QLabel(_tr("&Month:"))
        month_label.setBuddy(self.month)
        pay_label = QLabel(_tr("&Pay date:"))
        pay_label.setBuddy(self.pay_date)
        form.addWidget(month_label, 0, 0)
        form.addWidget(self.month, 0, 1)
        form.addWidget(pay_label, 1, 0)
        form.addWidget(self.pay_date, 1, 1)
        form.setColumnStretch(2, 1)
        self.month.setMinimumWidth(280)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.info)
        layout.addStretch(1)
        layout.addWidget(self.note)
        self._month_changed()

    def _suggested(self, today: date) -> str:
        """The month after the last one posted, else this month."""
        done = [k for k, r in self.by_month.items() if r.status in ("posted", "paid")]
        if done:
            return PayPeriod.parse(max(done)).next().key
        return PayPeriod.of(today).key

    @property
    def chosen(self) -> str:
        return str(self.month.currentData())

    def _month_changed(self) -> None:
        period = PayPeriod.parse(self.chosen)
        run = self.by_month.get(period.key)
        self.pay_date.setDate(QDate(run.pay_date if run is not None else period.end))
        self.pay_date.setEnabled(run is None or run.status == "draft")
        may = self.env.can("hr.payroll.manage")
        if run is None:
            text = _tr("No payroll for {month} yet. Next computes it for everyone employed "
                       "that month.") if may else _tr(
                "No payroll for {month} yet, and your role may not start one.")
        elif run.status == "draft":
            text = _tr("{month} is a draft: Next computes it again with today's salaries "
                       "and leave.") if may else _tr("{month} is a draft: Next opens it.")
        else:
            text = _tr("{month} is {status}: Next opens it.").format(
                month="{month}", status=_tr(RUN_STATUS[run.status]).lower())
        self.info.setText(text.format(month=_tr(period.label)))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return not self.busy and (self.env.can("hr.payroll.manage")
                                  or self.chosen in self.by_month)

    def validatePage(self) -> bool:
        if self._go:
            self._go = False
            return True
        self.start()
        return False

    def start(self) -> Any:
        """Compute the chosen month (or open it, past draft), then go to its step."""
        from erp_desktop.services import payroll

        month = self.chosen
        run = self.by_month.get(month)
        self.wiz.month = month
        self.note.say("")
        if (run is None or run.status == "draft") and self.env.can("hr.payroll.manage"):
            from erp_desktop.ui.progress import run_with_progress

            self.set_busy(True)
            self.wiz.progress = run_with_progress(
                self, compute_month, self.env.ctx, month, self.pay_date.date().toPython(),
                title=_tr("Computing payroll"),
                label=_tr("Working out each employee's pay…"), on_done=self._ready,
                on_error=self.failed, on_cancelled=lambda: (self.set_busy(False),
                                                            self.note.say(_tr("Cancelled."),
                                                                          "warning")),
                name="compute payroll")
            return self.wiz.progress
        self.set_busy(True)
        return run_in_background(payroll.get_run, self.env.ctx, month, parent=self,
                                 name="open payroll", on_done=self._ready, on_error=self.failed)

    def _ready(self, detail: Any) -> None:
        self.set_busy(False)
        self.wiz.set_detail(detail)
        self._go = True
        self.wiz.next()

    def nextId(self) -> int:
        totals = self.totals
        return start_page_for(totals.status) if totals is not None else REVIEW


class ReviewPage(_RunPage):
    """Every employee's pay; unpaid leave and one-off lines while it is a draft."""

    action_from = "draft"
    permission = "hr.payroll.manage"

    def __init__(self, wizard: PayrollWizard) -> None:
        super().__init__(wizard)
        self.next_text = _tr("&Submit for approval >")
        self.setTitle(_tr("Review"))
        self.setSubTitle(_tr("Check each employee's pay. While the run is a draft, enter "
                             "unpaid leave and one-off lines; it is computed again at once."))
        locale = self.env.locale
        self.summary = wrapped_label("review_summary")
        self.entries_model = RowsModel([
            (_tr("Code"), lambda r: r.employee_code, False),
            (_tr("Name"), lambda r: r.employee_name, False),
            (_tr("Days paid"), lambda r: f"{days_text(r.days_paid)} / {r.days_in_month}", True),
            (_tr("Unpaid leave"), lambda r: days_text(r.lop_days) if r.lop_days else "", True),
            (_tr("Gross"), lambda r: format_money(r.gross, locale), True),
            (_tr("Deductions"), lambda r: format_money(r.deductions, locale), True),
            (_tr("Net pay"), lambda r: format_money(r.net, locale), True),
            (_tr("Reimbursed"), lambda r: money_text(r.reimbursements, locale)
             if r.reimbursements else "", True),
        ], self)
        self.entries = rows_table(self.entries_model)
        self.entries.setObjectName("run_entries")
        fit_columns(self.entries, 1, {0: 90, 2: 90, 3: 100, 4: 120, 5: 110, 6: 120, 7: 100})
        self.entries.selectionModel().currentRowChanged.connect(lambda *_a: self._entry())
        self.entries.doubleClicked.connect(lambda _i: self.unpaid_leave())
        self.lines_model = RowsModel([
            (_tr("Pay line"), lambda ln: ln.name + (_tr(" (one-off)") if ln.one_off else ""),
             False),
            (_tr("Earnings"), lambda ln: format_money(ln.amount, locale)
             if ln.kind == "earning" else "", True),
            (_tr("Deductions"), lambda ln: format_money(ln.amount, locale)
             if ln.kind == "deduction" else "", True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("entry_lines")
        fit_columns(self.lines, 0, {1: 120, 2: 120})
        self.adjustments = QListWidget()
        self.adjustments.setObjectName("adjustments")
        self.leave_button = button("unpaid_leave", _tr("Unpaid &leave…"), "edit",
                                   _tr("Days without pay this month (Enter on a row)"))
        self.leave_button.clicked.connect(self.unpaid_leave)
        self.adjust_button = button("add_adjustment", _tr("&One-off line…"), "new",
                                    _tr("A bonus, overtime, a recovery this month only"))
        self.adjust_button.clicked.connect(self.add_adjustment)
        self.remove_button = button("remove_adjustment", _tr("&Remove one-off"), "close")
        self.remove_button.clicked.connect(self.remove_adjustment)
        self.recompute_button = button("recompute", _tr("Re&compute"), "refresh",
                                       _tr("Compute again after salary or employee changes"))
        self.recompute_button.clicked.connect(self.recompute)
        self.back_to_draft = self.return_button()
        buttons = QVBoxLayout()
        for b in (self.leave_button, self.adjust_button, self.remove_button,
                  self.recompute_button, self.back_to_draft):
            buttons.addWidget(b)
        buttons.addStretch(1)
        detail = QHBoxLayout()
        left = QVBoxLayout()
        self.entry_caption = bold_caption("")
        left.addWidget(self.entry_caption)
        left.addWidget(self.lines, 1)
        middle = QVBoxLayout()
        caption = bold_caption(_tr("One-off lines this month"))
        middle.addWidget(caption)
        middle.addWidget(self.adjustments, 1)
        detail.addLayout(left, 3)
        detail.addLayout(middle, 2)
        detail.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.entries, 1)
        layout.addLayout(detail, 1)
        layout.addWidget(self.note)
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.entries,
                  activated=self.unpaid_leave, context=Qt.ShortcutContext.WidgetShortcut)

    def editable(self) -> bool:
        return self.totals is not None and self.totals.status == "draft" \
            and self.env.can("hr.payroll.manage")

    def refresh(self) -> None:
        detail = self.wiz.detail
        if detail is None:
            return
        self.summary.setText(_totals_text(detail.totals, self.env.locale))
        set_rows_keeping(self.entries, self.entries_model, detail.entries,
                         lambda a, b: a.employee_id == b.employee_id)
        self._entry()
        editable = self.editable()
        for b in (self.leave_button, self.adjust_button, self.remove_button,
                  self.recompute_button):
            b.setEnabled(editable)
        self.back_to_draft.setVisible(detail.totals.status in ("review", "approved")
                                      and self.env.can("hr.payroll.manage"))
        if detail.totals.status == "draft" and not self.env.can("hr.payroll.manage"):
            self.note.say(who_may("hr.payroll.manage"), "warning")
        elif detail.totals.status in ("review", "approved"):
            self.note.say(_tr("The figures are frozen for approval; send the run back to "
                              "draft to change them."), "hint")
        elif detail.totals.status not in ("draft",):
            self.note.say(_tr("This payroll is {status}; it can no longer be changed.").format(
                status=_tr(RUN_STATUS[detail.totals.status]).lower()), "hint")

    def current_entry(self) -> Any | None:
        return current_row(self.entries)

    def _entry(self) -> None:
        entry = self.current_entry()
        self.adjustments.clear()
        if entry is None:
            self.lines_model.set_rows([])
            self.entry_caption.setText("")
            return
        self.entry_caption.setText(_tr("{name}: pay lines").format(name=entry.employee_name))
        self.lines_model.set_rows(entry.lines)
        for adj in entry.adjustments:
            text = f"{adj.name}: {format_money(adj.amount, self.env.locale)}" + \
                (f" — {adj.note}" if adj.note else "")
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, adj.id)
            self.adjustments.addItem(item)
        if entry.adjustments:
            self.adjustments.setCurrentRow(0)

    def _after_dialog(self, dialog: QDialog) -> QDialog:
        dialog.accepted.connect(lambda: self.wiz.reload())
        dialog.open()
        return dialog

    def unpaid_leave(self) -> QDialog | None:
        entry = self.current_entry()
        if entry is None or not self.editable():
            return None
        return self._after_dialog(UnpaidLeaveDialog(self.env, self.wiz.month, entry,
                                                    parent=self))

    def add_adjustment(self) -> Task | None:
        entry = self.current_entry()
        if entry is None or not self.editable():
            return None
        from erp_desktop.services import payroll

        def open_dialog(components: list[Any]) -> None:
            self.wiz.last_dialog = self._after_dialog(AdjustmentDialog(
                self.env, self.wiz.month, entry, components, parent=self))

        return run_in_background(payroll.list_components, self.env.ctx, parent=self,
                                 name="components", on_done=open_dialog, on_error=self.failed)

    def remove_adjustment(self) -> Task | None:
        item = self.adjustments.currentItem()
        if item is None or not self.editable():
            return None
        from erp_desktop.services import payroll

        adjustment_id = item.data(Qt.ItemDataRole.UserRole)
        return self.run_step(lambda ctx: payroll.remove_adjustment(ctx, adjustment_id),
                             advance=False)

    def act(self) -> None:
        from erp_desktop.services import payroll

        self.run_step(payroll.submit_run, self.wiz.month)

    def recompute(self) -> Task | None:
        if not self.editable():
            return None
        from erp_desktop.services import payroll

        return self.run_step(payroll.compute_run, self.wiz.month, advance=False)


class ApprovePage(_RunPage):
    """Submitted figures, approved by someone allowed to post payroll."""

    action_from = "review"
    permission = "hr.payroll.post"

    def __init__(self, wizard: PayrollWizard) -> None:
        super().__init__(wizard)
        self.next_text = _tr("&Approve >")
        self.setTitle(_tr("Approve"))
        self.setSubTitle(_tr("The figures are frozen for approval: what is approved is "
                             "exactly what will be posted."))
        self.state = self.frozen_layout((
            ("employees", _tr("Employees")), ("gross", _tr("Gross pay")),
            ("deductions", _tr("Deductions")), ("net", _tr("Net pay to transfer"))),
            "approval_state")

    def refresh(self) -> None:
        totals = self.totals
        if totals is None:
            return
        locale = self.env.locale
        self.cards["employees"].set(str(totals.employee_count), _tr(totals.period_label))
        self.cards["gross"].set(format_money(totals.gross, locale))
        self.cards["deductions"].set(format_money(totals.deductions, locale))
        self.cards["net"].set(format_money(totals.net, locale),
                              _tr("Paid on {date}").format(date=date_text(totals.pay_date, locale)))
        status = totals.status
        if status == "review":
            self.state.setText(_tr("Waiting for approval."))
        elif status == "draft":
            self.state.setText(_tr("Back in draft: review it and submit it again."))
        else:
            self.state.setText(_tr("Approved.") if status == "approved"
                               else _tr("This payroll is {status}.").format(
                                   status=_tr(RUN_STATUS[status]).lower()))
        self.who.setText(who_may("hr.payroll.post"))
        self.who.setStyleSheet(message_style("warning" if not self.may_act() else "hint"))
        self.who.setVisible(status == "review")
        self.back_to_draft.setVisible(status in ("review", "approved")
                                      and self.env.can("hr.payroll.manage"))

    def can_pass(self) -> bool:
        return self.totals is not None and self.totals.status != "draft"

    def act(self) -> None:
        from erp_desktop.services import payroll

        self.run_step(payroll.approve_run, self.wiz.month, version=self.totals.version)


class PostPage(_RunPage):
    """Posting: the run's number, the payslips and one journal entry of totals."""

    action_from = "approved"
    permission = "hr.payroll.post"

    def __init__(self, wizard: PayrollWizard) -> None:
        super().__init__(wizard)
        self.next_text = _tr("&Post payroll >")
        self.setTitle(_tr("Post"))
        self.setSubTitle(_tr("Posting gives the run its number, writes each employee's "
                             "payslip and one journal entry with the totals (salary expense "
                             "against salaries and deductions payable). A posted payroll is "
                             "never changed: it is corrected in a later month or reversed."))
        self.summary = self.frozen_layout((
            ("gross", _tr("Salary expense")), ("deductions", _tr("Deductions payable")),
            ("net", _tr("Salaries payable"))), "post_summary")

    def refresh(self) -> None:
        totals = self.totals
        if totals is None:
            return
        locale = self.env.locale
        expense = totals.gross
        self.cards["gross"].set(format_money(expense, locale),
                                _tr("including {r} reimbursed claims").format(
                                    r=format_money(totals.reimbursements, locale))
                                if totals.reimbursements else "")
        self.cards["deductions"].set(format_money(totals.deductions, locale))
        self.cards["net"].set(format_money(totals.net, locale))
        if totals.status == "approved":
            self.summary.setText(_tr("Approved and ready to post."))
        elif totals.number:
            self.summary.setText(_tr("Posted as {number}.").format(number=totals.number))
        else:
            self.summary.setText(_totals_text(totals, locale))
        self.who.setText(who_may("hr.payroll.post"))
        self.who.setStyleSheet(message_style("warning"))
        self.who.setVisible(totals.status == "approved" and not self.may_act())
        self.back_to_draft.setVisible(totals.status == "approved"
                                      and self.env.can("hr.payroll.manage"))

    def can_pass(self) -> bool:
        return self.totals is not None and self.totals.status in ("posted", "paid", "reversed")

    def act(self) -> None:
        from erp_desktop.services import payroll

        self.run_step(payroll.post_run, self.wiz.month)


class PayslipsPage(_RunPage):
    """The month's payslips: preview one, write all to a folder, registers and bank list."""

    def __init__(self, wizard: PayrollWizard) -> None:
        super().__init__(wizard)
        self.setTitle(_tr("Payslips"))
        self.setSubTitle(_tr("Preview or print a payslip, write them all to a folder as PDF "
                             "files, and export the payroll register and the bank transfer "
                             "list."))
        self.payslips: list[Any] = []
        self.progress: Any = None
        self.model = RowsModel([
            (_tr("Code"), lambda r: r.employee_code, False),
            (_tr("Employee"), lambda r: r.employee_name, False),
            (_tr("Month"), lambda r: _tr(r.period_label), False),
            (_tr("Run"), lambda r: r.run_number or "", False),
        ], self)
        self.table = rows_table(self.model)
        self.table.setObjectName("payslips")
        fit_columns(self.table, 1, {0: 100, 2: 150, 3: 220})
        self.table.doubleClicked.connect(lambda _i: self.preview())
        self.preview_button = button("preview_payslip", _tr("Pre&view…"), "pdf",
                                     _tr("Preview, print or save the payslip as PDF"))
        self.preview_button.clicked.connect(lambda: self.preview())
        self.folder_button = button("write_payslips", _tr("Write all to a &folder…"), "save",
                                    _tr("One PDF per employee"))
        self.folder_button.clicked.connect(self.choose_folder)
        self.csv_button = button("register_csv", _tr("Register (&CSV)…"), "journal")
        self.csv_button.clicked.connect(lambda: self.choose_export("register_csv"))
        self.xlsx_button = button("register_xlsx", _tr("Register (E&xcel)…"), "journal")
        self.xlsx_button.clicked.connect(lambda: self.choose_export("register_xlsx"))
        self.bank_button = button("bank_list", _tr("&Bank transfer list…"), "balance")
        self.bank_button.clicked.connect(lambda: self.choose_export("bank_csv"))
        bar = QHBoxLayout()
        for b in (self.preview_button, self.folder_button, self.csv_button, self.xlsx_button,
                  self.bank_button):
            bar.addWidget(b)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note)
        QShortcut(QKeySequence("Ctrl+P"), self, activated=lambda: self.preview())

    def can_pass(self) -> bool:
        return self.totals is not None and self.totals.status in ("posted", "paid")

    def refresh(self) -> None:
        from erp_desktop.services import payroll

        totals = self.totals
        if totals is None:
            return
        posted = totals.status in ("posted", "paid")
        for b in (self.folder_button, self.bank_button):
            b.setEnabled(posted)
        if totals.status == "reversed":
            self.note.say(_tr("This payroll was reversed; its payslips are marked cancelled."),
                          "warning")
        run_in_background(payroll.list_payslips, self.env.ctx, totals.period, parent=self,
                          name="payslips", on_done=self._listed, on_error=self.failed)

    def _listed(self, rows: list[Any]) -> None:
        number = self.totals.number if self.totals is not None else None
        self.payslips = [r for r in rows if r.run_number == number]
        self.model.set_rows(self.payslips)
        if self.payslips:
            self.table.selectRow(0)
        self.preview_button.setEnabled(bool(self.payslips))

    def current(self) -> Any | None:
        return current_row(self.table)

    def preview(self, row: Any = None) -> Task | None:
        row = row or self.current()
        if row is None:
            return None
        from erp_desktop.services import payroll

        def show(data: bytes) -> None:
            self.wiz.last_dialog = preview_pdf(
                self, data, _tr("Payslip of {name}, {month}").format(
                    name=row.employee_name, month=_tr(row.period_label)),
                payroll.payslip_file_name(row))

        return run_in_background(payroll.payslip_pdf, self.env.ctx, row.id, parent=self,
                                 name="payslip pdf", on_done=show, on_error=self.failed)

    def choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, _tr("Write the payslips to"),
                                                  str(Path.home()))
        if chosen:
            self.write_all_to(Path(chosen))

    def write_all_to(self, folder: Path) -> Any:
        from erp_desktop.ui.progress import run_with_progress

        totals = self.totals
        written: list[Path] = []
        shown = QDir.toNativeSeparators(str(folder))

        def done(paths: list[Path]) -> None:
            self.set_busy(False)
            self.note.say(_tr("Wrote {n} payslips to {folder}.").format(n=len(paths),
                                                                        folder=shown))

        def cancelled() -> None:
            self.set_busy(False)
            self.note.say(_tr("Cancelled after {n} payslips; those are in {folder}.").format(
                n=len(written), folder=shown), "warning")

        self.set_busy(True)
        self.progress = run_with_progress(
            self, write_all_payslips, self.env.ctx, totals.period, totals.number, folder,
            written, title=_tr("Writing payslips"), label=_tr("Preparing the payslips…"),
            on_done=done, on_error=self.failed, on_cancelled=cancelled, name="write payslips")
        return self.progress

    def choose_export(self, kind: str) -> None:
        month = self.totals.period
        name, pattern = {
            "register_csv": (f"payroll-register-{month}.csv", _tr("CSV files (*.csv)")),
            "register_xlsx": (f"payroll-register-{month}.xlsx", _tr("Excel files (*.xlsx)")),
            "bank_csv": (f"bank-transfers-{month}.csv", _tr("CSV files (*.csv)")),
        }[kind]
        chosen, _ = QFileDialog.getSaveFileName(self, _tr("Export"), str(Path.home() / name),
                                                pattern)
        if chosen:
            self.export_to(kind, Path(chosen))

    def export_to(self, kind: str, path: Path) -> Task:
        from erp_desktop.services import payroll

        ctx, month, locale = self.env.ctx, self.totals.period, self.env.locale

        def work() -> str:
            if kind == "register_csv":
                saved = payroll.write_export(path, payroll.register_csv(ctx, month))
            elif kind == "register_xlsx":
                saved = payroll.write_export(path, payroll.register_xlsx(ctx, month))
            else:
                bank = payroll.bank_transfer_list(ctx, month)
                saved = payroll.write_export(path, payroll.bank_list_csv(bank))
                text = _tr("Saved the bank list ({n} transfers, {total}) to {path}.").format(
                    n=len(bank.rows), total=format_money(bank.total, locale),
                    path=QDir.toNativeSeparators(str(saved)))
                if bank.without_account:
                    text += " " + _tr("No bank account on file, pay another way: "
                                      "{codes}.").format(codes=", ".join(bank.without_account))
                return text
            return _tr("Saved to {path}.").format(path=QDir.toNativeSeparators(str(saved)))

        self.note.say(_tr("Exporting…"), "hint")
        return run_in_background(work, parent=self, name="payroll export",
                                 on_done=lambda text: self.note.say(text),
                                 on_error=self.failed)


class PaidPage(_RunPage):
    """Net pay leaves the bank: mark the run paid (or reverse a posted run)."""

    def __init__(self, wizard: PayrollWizard) -> None:
        super().__init__(wizard)
        self.setTitle(_tr("Paid"))
        self.setSubTitle(_tr("Once the salaries have left the bank, mark the payroll paid: "
                             "salaries payable is cleared against the bank or cash account."))
        self.state = wrapped_label("paid_state")
        self.paid_on = QDateEdit()
        self.paid_on.setObjectName("paid_on")
        self.paid_on.setCalendarPopup(True)
        self.paid_on.setDisplayFormat("d MMM yyyy")
        self.paid_from = QComboBox()
        self.paid_from.setObjectName("paid_from")
        self.paid_from.addItem(_tr("Bank"), "bank")
        self.paid_from.addItem(_tr("Cash"), "cash")
        self.paid_button = button("mark_paid", _tr("&Mark paid"), "enable")
        self.paid_button.clicked.connect(self.mark_paid)
        self.reverse_button = button("reverse_run", _tr("&Reverse…"), "reverse",
                                     _tr("Cancel a posted, unpaid payroll"))
        self.reverse_button.clicked.connect(self.reverse)
        grid = QGridLayout()
        on_label = QLabel(_tr("Paid &on:"))
        on_label.setBuddy(self.paid_on)
        from_label = QLabel(_tr("&From:"))
        from_label.setBuddy(self.paid_from)
        grid.addWidget(on_label, 0, 0)
        grid.addWidget(self.paid_on, 0, 1)
        grid.addWidget(from_label, 1, 0)
        grid.addWidget(self.paid_from, 1, 1)
        grid.setColumnStretch(2, 1)
        bar = QHBoxLayout()
        bar.addWidget(self.paid_button)
        bar.addWidget(self.reverse_button)
        bar.addStretch(1)
        self.who = wrapped_label("who_may")
        layout = QVBoxLayout(self)
        layout.addWidget(self.state)
        layout.addLayout(grid)
        layout.addLayout(bar)
        layout.addWidget(self.who)
        layout.addStretch(1)
        layout.addWidget(self.note)
        self.setFinalPage(True)

    def refresh(self) -> None:
        totals = self.totals
        if totals is None:
            return
        locale = self.env.locale
        may = self.env.can("hr.payroll.post")
        posted = totals.status == "posted"
        self.paid_on.setDate(QDate(totals.paid_on or totals.pay_date))
        for w in (self.paid_on, self.paid_from, self.paid_button):
            w.setEnabled(posted and may)
        self.reverse_button.setVisible(may)
        self.reverse_button.setEnabled(posted)
        self.who.setText(who_may("hr.payroll.post"))
        self.who.setStyleSheet(message_style("warning"))
        self.who.setVisible(posted and not may)
        if totals.status == "paid":
            self.state.setText(_tr("{number}: {net} paid on {date}.").format(
                number=totals.number, net=format_money(totals.net, locale),
                date=date_text(totals.paid_on, locale)))
        elif totals.status == "reversed":
            self.state.setText(_tr("{number} was reversed; the month can be run again.").format(
                number=totals.number))
        else:
            self.state.setText(_tr("{number}: {net} net pay to transfer.").format(
                number=totals.number or "", net=format_money(totals.net, locale)))

    def mark_paid(self) -> Task:
        from erp_desktop.services import payroll

        return self.run_step(payroll.mark_run_paid, self.wiz.month,
                             self.paid_on.date().toPython(), str(self.paid_from.currentData()),
                             advance=False, then=lambda: self.note.say(_tr("Marked paid.")))

    def reverse(self) -> QDialog:
        dialog = ReverseRunDialog(self.env, self.totals, parent=self)
        self.wiz.last_dialog = dialog
        dialog.accepted.connect(lambda: (self.wiz.reload(), self.note.say(
            _tr("Reversed."), "warning")))
        dialog.open()
        return dialog


class PayrollWizard(QWizard):
    """A month's payroll from computing to paid; see the module docstring."""

    run_changed = Signal()

    def __init__(self, env: PageEnv, runs: Sequence[Any], detail: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.runs = list(runs)
        self.detail = detail
        self.month: str = detail.totals.period if detail is not None else ""
        self.progress: Any = None
        self.last_dialog: QDialog | None = None
        self.setObjectName("payroll_wizard")
        self.setWindowTitle(_tr("Payroll"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.NoDefaultButton, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, _tr("&Close"))
        self.month_page = MonthPage(self)
        self.review_page = ReviewPage(self)
        self.approve_page = ApprovePage(self)
        self.post_page = PostPage(self)
        self.payslips_page = PayslipsPage(self)
        self.paid_page = PaidPage(self)
        for page_id, page in ((MONTH, self.month_page), (REVIEW, self.review_page),
                              (APPROVE, self.approve_page), (POST, self.post_page),
                              (PAYSLIPS, self.payslips_page), (PAID, self.paid_page)):
            self.setPage(page_id, page)
        self.steps: dict[int, QLabel] = {}
        side = QWidget()
        side.setObjectName("steps")
        box = QVBoxLayout(side)
        box.setContentsMargins(8, 12, 16, 12)
        box.addWidget(heading(_tr("Steps"), 1.1))
        for number, (page_id, title) in enumerate(STEPS, start=1):
            label = QLabel(f"{number}. {_tr(title)}")
            label.setObjectName(f"step_{page_id}")
            self.steps[page_id] = label
            box.addWidget(label)
        box.addStretch(1)
        self.run_label = wrapped_label("run_label")
        self.run_label.setStyleSheet("color: palette(placeholder-text);")
        box.addWidget(self.run_label)
        side.setMinimumWidth(170)
        self.side = side  # setSideWidget does not take the wrapper's ownership
        self.setSideWidget(side)
        if detail is not None:
            self.setStartId(start_page_for(detail.totals.status))
        self.currentIdChanged.connect(lambda _i: self._show_steps())
        self.run_changed.connect(self._show_steps)
        self.resize(1140, 700)
        self._show_steps()

    @property
    def totals(self) -> Any:
        return self.detail.totals if self.detail is not None else None

    def set_detail(self, detail: Any) -> None:
        self.detail = detail
        self.month = detail.totals.period
        self.run_changed.emit()

    def reload(self) -> Task | None:
        if not self.month:
            return None
        from erp_desktop.services import payroll

        page = self.currentPage()
        on_error = page.failed if isinstance(page, _RunPage) else None
        return run_in_background(payroll.get_run, self.env.ctx, self.month, parent=self,
                                 name="payroll", on_done=self.set_detail, on_error=on_error)

    def _show_steps(self) -> None:
        current = self.currentId()
        rank = _RANK.get(self.totals.status, -1) if self.totals is not None else -1
        done_by = {MONTH: 0, REVIEW: 1, APPROVE: 2, POST: 3, PAYSLIPS: 3, PAID: 4}
        for page_id, label in self.steps.items():
            done = self.totals is not None and rank >= done_by[page_id] and \
                not (page_id == PAID and self.totals.status == "reversed")
            base = label.text().lstrip("✓ ").strip()
            label.setText(("✓ " if done else "   ") + base)
            label.setStyleSheet("font-weight: bold;" if page_id == current else
                                "" if done else "color: palette(placeholder-text);")
        totals = self.totals
        self.run_label.setText("" if totals is None else "\n".join(x for x in (
            _tr(totals.period_label), _tr(RUN_STATUS.get(totals.status, totals.status)),
            totals.number or "") if x))


class PayrollTab(CommandPage):
    """The monthly payroll runs; Run payroll opens the wizard."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.may_manage = env.can("hr.payroll.manage")
        self.may_post = env.can("hr.payroll.post")
        self.runs: list[Any] = []
        self.wizard: PayrollWizard | None = None
        self.last_dialog: QDialog | None = None
        self.loads = 0  # lists read so far (tests wait on it)
        locale = env.locale
        self.run_button = button("run_payroll", _tr("&Run payroll…"), "new",
                                 _tr("Compute a month's payroll (Ctrl+N)"))
        self.run_button.clicked.connect(lambda: self.run_payroll())
        self.run_button.setVisible(self.may_manage)
        self.open_button = button("open_run", _tr("&Open…"), "edit",
                                  _tr("Continue with the month selected (Enter)"))
        self.open_button.clicked.connect(lambda: self.open_run())
        self.reverse_button = button("reverse_run", _tr("Re&verse…"), "reverse",
                                     _tr("Cancel a posted, unpaid payroll"))
        self.reverse_button.clicked.connect(lambda: self.reverse())
        self.reverse_button.setVisible(self.may_post)
        bar = QHBoxLayout()
        for b in (self.run_button, self.open_button, self.reverse_button):
            bar.addWidget(b)
        bar.addStretch(1)
        self.model = RowsModel([
            (_tr("Month"), lambda r: _tr(r.period_label), False),
            (_tr("Number"), lambda r: r.number or "", False),
            (_tr("Status"), lambda r: _tr(RUN_STATUS.get(r.status, r.status)), False),
            (_tr("Employees"), lambda r: str(r.employee_count), True),
            (_tr("Gross"), lambda r: format_money(r.gross, locale), True),
            (_tr("Deductions"), lambda r: format_money(r.deductions, locale), True),
            (_tr("Net pay"), lambda r: format_money(r.net, locale), True),
            (_tr("Pay date"), lambda r: date_text(r.paid_on or r.pay_date, locale), False),
        ], self)
        self.table = rows_table(self.model)
        self.table.setObjectName("runs")
        fit_columns(self.table, 1, {0: 150, 2: 100, 3: 100, 4: 140, 5: 130, 6: 140, 7: 120})
        self.table.doubleClicked.connect(lambda _i: self.open_run())
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._enable())
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, activated=self.open_run,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.message = StatusLine("payroll_message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(hint(_tr("A month moves draft → in review → approved → posted → "
                                  "paid. Double-click a month to continue with it.")))
        layout.addWidget(self.message)
        self._enable()

    def on_shown(self) -> None:
        self.reload()  # a short list: read again whenever it comes on screen

    def commands(self) -> set[Command]:
        out = {Command.REFRESH}
        if self.may_manage:
            out.add(Command.NEW)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.NEW:
            self.run_payroll()
        elif command == Command.REFRESH:
            self.reload()

    def reload(self) -> Task:
        from erp_desktop.services import payroll

        return run_in_background(payroll.list_runs, self.env.ctx, parent=self, name="runs",
                                 on_done=self._listed,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))

    def _listed(self, runs: list[Any]) -> None:
        self.loads += 1
        self.runs = runs
        set_rows_keeping(self.table, self.model, runs)
        self._enable()

    def current(self) -> Any | None:
        return current_row(self.table)

    def _enable(self) -> None:
        run = self.current()
        self.open_button.setEnabled(run is not None and run.status != "reversed")
        self.reverse_button.setEnabled(run is not None and run.status == "posted")

    def _show_wizard(self, detail: Any = None) -> PayrollWizard:
        wizard = PayrollWizard(self.env, self.runs, detail, parent=self)
        wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        wizard.run_changed.connect(self.reload)
        wizard.finished.connect(lambda _r: self.reload())
        self.wizard = wizard
        wizard.open()
        return wizard

    def run_payroll(self) -> PayrollWizard | None:
        if not self.may_manage:
            return None
        return self._show_wizard()

    def open_run(self, run: Any = None) -> Task | None:
        run = run or self.current()
        if run is None or run.status == "reversed":  # its month is run again, if at all
            return None
        from erp_desktop.services import payroll

        return run_in_background(payroll.get_run, self.env.ctx, run.period, parent=self,
                                 name="open payroll", on_done=self._show_wizard,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))

    def reverse(self, run: Any = None) -> QDialog | None:
        run = run or self.current()
        if run is None or run.status != "posted" or not self.may_post:
            return None
        dialog = ReverseRunDialog(self.env, run, parent=self)
        self.last_dialog = dialog
        dialog.accepted.connect(lambda: (self.message.say(_tr(
            "{number} reversed; {month} can be run again.").format(
                number=run.number, month=_tr(run.period_label)), "warning"), self.reload()))
        dialog.open()
        return dialog

