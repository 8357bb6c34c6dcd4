"""Me: a person's own expense claims and payslips, and a line manager's claims to decide.

Every role that may file claims (`hr.claims.own`: the sales clerk, the
storekeeper, the accountant, the plain employee, HR) sees this area; none of
it shows anyone else's pay. The page first asks `services.self_service` who
the login is as an employee:

- not linked to an employee record: it says so plainly, and nothing else;
- linked: "My claims" (`claims_pages.MyClaimsTab`) and "My payslips" (the
  person's own payslips with their figures; Preview, Enter or Ctrl+P, shows
  one to print or save, and Save as PDF writes it straight to a file);
- a line manager without HR's `hr.claims.approve` also gets "Claims to
  approve" with their direct reports' claims (decision 0040).

Every read goes through the services on the worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDir, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QSizePolicy,
    QSpacerItem,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.money import format_money
from erp_desktop.ui.claims_pages import ApproveClaimsTab, MyClaimsTab
from erp_desktop.ui.common_widgets import (
    StatusLine,
    TabbedAreaPage,
    button,
    current_row,
    date_text,
    error_text,
    fit_columns,
    preview_pdf,
    save_bytes,
    set_rows_keeping,
    wrapped_label,
)
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import PageEnv, RowsModel, hint, message_style, rows_table
from erp_desktop.ui.worker import Task, run_in_background

PAYSLIP_STATUS = {"posted": "Posted", "paid": "Paid", "reversed": "Cancelled"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("self_service", text)


class MyPayslipsTab(CommandPage):
    """The person's own payslips, newest first; each previewed, printed or saved as PDF."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.last_dialog: Any = None
        self.loads = 0  # lists read so far (tests wait on it)
        locale = env.locale
        self.preview_button = button("preview_payslip", _tr("Pre&view…"), "pdf",
                                     _tr("Show the payslip to print or save it (Enter)"))
        self.preview_button.clicked.connect(lambda: self.preview())
        self.save_button = button("save_payslip", _tr("&Save as PDF…"), "save",
                                  _tr("Write the payslip to a PDF file"))
        self.save_button.clicked.connect(self.choose_file)
        bar = QHBoxLayout()
        bar.addWidget(self.preview_button)
        bar.addWidget(self.save_button)
        bar.addStretch(1)
        self.model = RowsModel([
            (_tr("Month"), lambda r: _tr(r.period_label), False),
            (_tr("Reference"), lambda r: r.run_number or "", False),
            (_tr("Status"), lambda r: _tr(PAYSLIP_STATUS.get(r.run_status, r.run_status)),
             False),
            (_tr("Pay date"), lambda r: date_text(r.paid_on or r.pay_date, locale), False),
            (_tr("Gross"), lambda r: format_money(r.gross, locale), True),
            (_tr("Deductions"), lambda r: format_money(r.deductions, locale), True),
            (_tr("Net pay"), lambda r: format_money(r.net, locale), True),
        ], self)
        self.table = rows_table(self.model)
        self.table.setObjectName("my_payslips")
        fit_columns(self.table, 1, {0: 160, 2: 100, 3: 120, 4: 140, 5: 130, 6: 140})
        self.table.doubleClicked.connect(lambda _i: self.preview())
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._enable())
        QShortcut(QKeySequence(Qt.Key.Key_Return), self.table, activated=self.preview,
                  context=Qt.ShortcutContext.WidgetShortcut)
        self.empty = wrapped_label("no_payslips", _tr(
            "No payslips yet: each month's payslip appears here once the month's pay is "
            "posted."))
        self.empty.setStyleSheet(message_style("hint"))
        self.empty.hide()
        self.message = StatusLine("payslips_message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(hint(_tr("Figures as posted. A cancelled payslip was withdrawn by HR; "
                                  "its month is paid on a new one.")))
        layout.addWidget(self.message)
        self._enable()

    def on_shown(self) -> None:
        self.reload()  # a short list: read again whenever it comes on screen

    def commands(self) -> set[Command]:
        out = {Command.REFRESH}
        if self.current() is not None:
            out.add(Command.PRINT)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.reload()
        elif command == Command.PRINT:
            self.preview()

    def reload(self) -> Task:
        from erp_desktop.services import self_service

        return run_in_background(self_service.my_payslips, self.env.ctx, parent=self,
                                 name="my payslips", on_done=self._listed,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))

    def _listed(self, rows: list[Any]) -> None:
        self.loads += 1
        set_rows_keeping(self.table, self.model, rows)
        self.empty.setVisible(not rows)
        self._enable()

    def current(self) -> Any | None:
        return current_row(self.table)

    def _enable(self) -> None:
        chosen = self.current() is not None
        self.preview_button.setEnabled(chosen)
        self.save_button.setEnabled(chosen)
        self.commands_changed.emit()

    def preview(self, row: Any = None) -> Task | None:
        row = row or self.current()
        if row is None:
            return None
        from erp_desktop.services import self_service

        def show(data: bytes) -> None:
            self.last_dialog = preview_pdf(self, data, _tr("Your payslip, {month}").format(
                month=_tr(row.period_label)), row.file_name)

        return run_in_background(self_service.my_payslip_pdf, self.env.ctx, row.id,
                                 parent=self, name="payslip pdf", on_done=show,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))

    def choose_file(self) -> None:
        row = self.current()
        if row is None:
            return
        chosen, _ = QFileDialog.getSaveFileName(self, _tr("Save the payslip"),
                                                str(Path.home() / row.file_name),
                                                _tr("PDF files (*.pdf)"))
        if chosen:
            self.save_to(row, Path(chosen))

    def save_to(self, row: Any, path: Path) -> Task:
        """Make the payslip's PDF and write it to `path`, both on the worker."""
        from erp_desktop.services import self_service

        ctx = self.env.ctx

        def work() -> Path:
            return save_bytes(path, self_service.my_payslip_pdf(ctx, row.id))

        return run_in_background(work, parent=self, name="save payslip",
                                 on_done=lambda p: self.message.say(_tr(
                                     "Saved to {path}.").format(
                                         path=QDir.toNativeSeparators(str(p)))),
                                 on_error=lambda e: self.message.say(error_text(e), "error"))


class SelfServicePage(TabbedAreaPage):
    """The Me area; its tabs depend on who the login is (see the module docstring)."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Me"), "", "me_tabs", parent)
        self.env = env
        self.record: Any = None
        self.my_claims: MyClaimsTab | None = None
        self.payslips: MyPayslipsTab | None = None
        self.approve_claims: ApproveClaimsTab | None = None
        self.title_label = self.frame.itemAt(0).widget()
        self.about = hint()
        self.about.setObjectName("me_about")
        self.about.hide()  # until it is known whose page this is
        self.frame.insertWidget(1, self.about)
        self.notice = wrapped_label("me_notice")
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.hide()
        self.frame.insertWidget(2, self.notice)
        self.tabs.hide()
        self.spacer: QSpacerItem | None = None
        self.task = self.reload()

    def reload(self) -> Task:
        """Ask who the login is as an employee; the tabs follow from the answer."""
        from erp_desktop.services import self_service

        return run_in_background(self_service.my_record, self.env.ctx, parent=self,
                                 name="my record", on_done=self._known,
                                 on_error=self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.notice.setStyleSheet(message_style("error"))
        self.notice.setText(error_text(exc))
        self.notice.show()

    def _known(self, record: Any) -> None:
        self.record = record
        if not record.linked:
            self.notice.setStyleSheet(message_style("warning"))
            self.notice.setText(_tr("Your login is not linked to an employee record; ask HR "
                                    "to link it."))
            self.notice.show()
            if self.spacer is None:  # the notice at the top, not in the middle
                self.spacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum,
                                          QSizePolicy.Policy.Expanding)
                self.frame.addItem(self.spacer)
            self.commands_changed.emit()
            return
        self.notice.hide()
        if self.spacer is not None:  # linked meanwhile (Refresh after HR linked it)
            self.frame.removeItem(self.spacer)
            self.spacer = None
        if self.tabs.count():
            return
        env = self.env
        team = record.is_line_manager and not env.can("hr.claims.approve")
        self.title_label.setText(_tr("My claims and payslips"))
        about = _tr("{name} · {code}. File expense claims with their receipts and see your "
                    "payslips.").format(name=record.full_name, code=record.employee_code)
        if team:
            about += " " + _tr("As a manager you also decide your team's claims.")
        self.about.setText(about)
        self.about.show()
        self.add_tab("my_claims", MyClaimsTab(env), "pdf", _tr("My claims"))
        self.add_tab("payslips", MyPayslipsTab(env), "pay", _tr("My payslips"))
        if team:
            self.add_tab("approve_claims", ApproveClaimsTab(env, team_only=True), "verify",
                         _tr("Claims to approve"))
        self.tabs.show()
        if self.isVisible():  # already on screen: the first tab reads its list now
            self.on_shown()
        self.commands_changed.emit()

    def on_shown(self) -> None:
        if self.tabs.count():
            super().on_shown()

    def commands(self) -> set[Command]:
        if self.tabs.count():
            return super().commands()
        return {Command.REFRESH} if self.record is not None else set()

    def run_command(self, command: Command) -> None:
        if self.tabs.count():
            super().run_command(command)
        elif command == Command.REFRESH:
            self.reload()  # HR may have linked the login meanwhile
