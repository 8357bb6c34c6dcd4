"""HR: employees and their documents, salary structures; the area page.

`HrPage` is a tab per job, each shown only when the user's role allows it
(the services refuse the rest anyway):

- Employees (`hr.employees.view`): a paged list (`services.hr_lists`) with a
  status filter, the selected person's record and documents beside it; New,
  Edit, Leaving, Link login and attaching documents need `hr.employees.manage`.
  PAN and bank account numbers are shown masked (as the payslip prints them)
  until Show is pressed.
- Salaries (`hr.payroll.view`): pick an employee, see their salary structures
  with start dates and components; New structure needs `hr.payroll.manage`.
- Payroll (`hr.payroll.view`): the monthly runs and the wizard
  (`ui.payroll_pages`).
- Claims to approve (`hr.claims.approve` or `hr.claims.reimburse`): approve or
  reject with a comment, pay back, or send to payroll (`ui.claims_pages`).

One's own claims and payslips are in the Me area (`ui.self_service`), which
every employee sees, not here. Every read and write goes through the services
on the worker (`ui.worker`, `Form.submit`); files are read and written there
too; attachments open inside the app (`ui.common_widgets`).
"""

from __future__ import annotations

import html
import itertools
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.money import format_money
from erp_desktop.domain.payroll_calc import PayPeriod
from erp_desktop.services.listing import Filters, ListSource
from erp_desktop.ui.claims_pages import ApproveClaimsTab
from erp_desktop.ui.common_widgets import (
    ATTACH_FILTER,
    DOCUMENT_KINDS,
    AttachmentList,
    StatusLine,
    TabbedAreaPage,
    amount_text,
    bold_caption,
    button,
    date_text,
    days_text,
    error_text,
    facts_html,
    facts_label,
    fit_columns,
    money_text,
    month_choices,
    panel_title,
    read_upload,
    right_headers,
    top_caption,
)
from erp_desktop.ui.forms import FormDialog, parse_number
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import TABLE_STYLE, ListPanel
from erp_desktop.ui.payroll_pages import PayrollTab
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import (
    Card,
    PageEnv,
    RowsModel,
    heading,
    hint,
    rows_table,
)
from erp_desktop.ui.worker import Task, run_in_background


def _tr(text: str) -> str:
    return QCoreApplication.translate("hr", text)



# =================================================================== employees


class OptionalDate(QWidget):
    """A date that may be unknown: a check box and a date field."""

    def __init__(self, value: date | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.known = QCheckBox(_tr("Known"))
        self.edit = QDateEdit()
        self.edit.setCalendarPopup(True)
        self.edit.setDisplayFormat("d MMM yyyy")
        self.edit.setDate(QDate(value) if value else QDate(1990, 1, 1))
        self.known.setChecked(value is not None)
        self.edit.setEnabled(value is not None)
        self.known.toggled.connect(self.edit.setEnabled)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.known)
        layout.addWidget(self.edit, 1)
        self.setFocusProxy(self.known)
        QWidget.setTabOrder(self.known, self.edit)

    def value(self) -> date | None:
        return self.edit.date().toPython() if self.known.isChecked() else None

    def set_value(self, value: date | None) -> None:
        self.known.setChecked(value is not None)
        if value is not None:
            self.edit.setDate(QDate(value))


class MaskedField(QWidget):
    """A PAN or bank account number shown like a payslip prints it until Show is pressed."""

    def __init__(self, value: str | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services.hr import mask_tail

        self.edit = QLineEdit()
        self.edit.setMaxLength(40)
        self.show_button = QToolButton()
        self.show_button.setObjectName("show")
        self.show_button.setText(_tr("Show"))
        self.show_button.setToolTip(_tr("Show the full number to read or change it"))
        self.show_button.clicked.connect(self.reveal)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.show_button)
        self.setFocusProxy(self.edit)
        self._mask = mask_tail
        self.set_original(value)

    def set_original(self, value: str | None) -> None:
        """Show `value` masked (or an empty field to type into when there is none)."""
        self.original = value or ""
        self.masked = bool(self.original)
        self.edit.setReadOnly(self.masked)
        self.edit.setText(self._mask(self.original) or "" if self.masked else "")
        self.show_button.setVisible(self.masked)

    def reveal(self) -> None:
        if not self.masked:
            return
        self.masked = False
        self.edit.setReadOnly(False)
        self.edit.setText(self.original)
        self.show_button.setVisible(False)
        self.edit.setFocus()

    def value(self) -> str:
        return self.original if self.masked else self.edit.text().strip()


@dataclass(frozen=True)
class EmployeeChoices:
    departments: list[Any]
    job_titles: list[Any]
    employees: list[Any]
    detail: Any  # the employee being edited, or None for a new one


def load_employee_choices(ctx: Any, employee_id: uuid.UUID | None) -> EmployeeChoices:
    """What the employee dialog offers; runs on the worker."""
    from erp_desktop.services import hr

    detail = hr.get_employee(ctx, employee_id) if employee_id is not None else None
    return EmployeeChoices(hr.list_departments(ctx), hr.list_job_titles(ctx),
                           hr.list_employees(ctx), detail)


class NameDialog(FormDialog):
    """One name (a new department or job title), added through `fn(ctx, name)`."""

    def __init__(self, env: PageEnv, title: str, label: str, fn: Callable[..., Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(title, locale=env.locale, parent=parent, save_text=_tr("Add"))
        self.env = env
        self.fn = fn
        self.form.add_text("name", label, required=True, max_length=120)
        self.setMinimumWidth(380)

    def save(self) -> None:
        self.form.submit(self.fn, self.env.ctx, self.form.value("name"), on_done=self.saved)


# Field name -> label of the dialog's later sections.
_BANK = (("bank_account_name", "Account holder"), ("bank_account_number", "Account number"),
         ("bank_ifsc", "IFSC"), ("bank_name", "Bank"), ("tax_id", "PAN"), ("social_id", "UAN"))
_EMERGENCY = (("emergency_contact_name", "Contact name"),
              ("emergency_contact_phone", "Contact phone"))
_MASKED = ("bank_account_number", "tax_id")
_IDS = ("department_id", "job_title_id", "manager_id")


class EmployeeDialog(FormDialog):
    """A new employee, or the changes to one: every field of `services.hr`.

    The PAN and bank account number of an existing employee are masked until
    Show is pressed; saving sends only the fields that changed.
    """

    def __init__(self, env: PageEnv, choices: EmployeeChoices,
                 parent: QWidget | None = None) -> None:
        detail = choices.detail
        title = _tr("New employee") if detail is None else \
            _tr("Employee {code}").format(code=detail.code)
        super().__init__(title, locale=env.locale, parent=parent,
                         save_text=_tr("Add employee") if detail is None else None)
        self.env = env
        self.detail = detail
        f = self.form
        value = (lambda name: getattr(detail, name)) if detail is not None \
            else (lambda _name: None)

        self._section(_tr("Employment"))
        f.add_text("code", _tr("&Code"), value=value("code") or "", required=True,
                   max_length=20, placeholder="EMP-007")
        f.add_text("full_name", _tr("Full &name"), value=value("full_name") or "",
                   required=True, max_length=200)
        # Ids travel through the lists as text: a combo box finds text by value.
        def key(name: str) -> str | None:
            found = value(name)
            return str(found) if found is not None else None

        self.department = self._choice_with_new(
            "department_id", _tr("&Department"),
            [(str(d.id), d.name) for d in choices.departments], key("department_id"),
            _tr("New department"), _tr("Department"), "add_department")
        self.job_title = self._choice_with_new(
            "job_title_id", _tr("&Job title"),
            [(str(t.id), t.name) for t in choices.job_titles], key("job_title_id"),
            _tr("New job title"), _tr("Job title"), "add_job_title")
        managers = [(str(e.id), f"{e.code} · {e.full_name}") for e in choices.employees
                    if detail is None or e.id != detail.id]
        f.add_choice("manager_id", _tr("&Manager"), [(None, _tr("(none)")), *managers],
                     value=key("manager_id"))
        f.add_date("hire_date", _tr("Joining &date"),
                   value=value("hire_date") or env.ctx.today())

        self._section(_tr("Personal"))
        self.birth = OptionalDate(value("date_of_birth"))
        f.add_widget("date_of_birth", _tr("Date of &birth"), self.birth,
                     value=self.birth.value)
        self.birth.known.toggled.connect(lambda _on: f.field_changed("date_of_birth"))
        self.birth.edit.dateChanged.connect(lambda _d: f.field_changed("date_of_birth"))
        f.add_text("email", _tr("&Email"), value=value("email") or "", max_length=200)
        f.add_text("phone", _tr("&Phone"), value=value("phone") or "", max_length=40)
        f.add_multiline("address", _tr("&Address"), value=value("address") or "", lines=2)
        top_caption(f, "address")

        self._section(_tr("Bank and tax"))
        self.masked: dict[str, MaskedField] = {}
        for name, label in _BANK:
            if name in _MASKED:
                field = MaskedField(value(name))
                self.masked[name] = field
                f.add_widget(name, _tr(label), field, value=field.value)
                field.edit.textChanged.connect(lambda _t, n=name: f.field_changed(n))
            else:
                f.add_text(name, _tr(label), value=value(name) or "", max_length=200)

        self._section(_tr("Emergency contact"))
        for name, label in _EMERGENCY:
            f.add_text(name, _tr(label), value=value(name) or "", max_length=200)

        # Tall: scroll the fields, keep Save and Cancel in view.
        layout = self.layout()
        self.scroll = QScrollArea()
        self.scroll.setObjectName("employee_scroll")
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setWidgetResizable(True)
        layout.replaceWidget(f.widget, self.scroll)
        self.scroll.setWidget(f.widget)
        f.widget.setContentsMargins(0, 0, 12, 0)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_moved)
        self.form.reload_requested.connect(self.reload)
        self.resize(640, 660)

    def reload(self) -> Task | None:
        """After a conflict: show the record as saved now (the other person's change)."""
        if self.detail is None:
            return None
        from erp_desktop.services import hr

        def reloaded(detail: Any) -> None:
            self.detail = detail
            values = {name: getattr(detail, name) for name in self.form.fields
                      if name not in self.masked and name != "date_of_birth"}
            for name in _IDS:
                values[name] = str(values[name]) if values[name] is not None else None
            self.form.set_values({k: "" if v is None and k not in _IDS else v
                                  for k, v in values.items()})
            for name, field in self.masked.items():
                field.set_original(getattr(detail, name))
            self.birth.set_value(detail.date_of_birth)
            self.form.show_banner(_tr("Reloaded: these are the details as saved now."),
                                  kind="success")

        return run_in_background(hr.get_employee, self.env.ctx, self.detail.id, parent=self,
                                 name="reload employee", on_done=reloaded,
                                 on_error=self.form.show_error)

    def _section(self, title: str) -> None:
        label = QLabel(title)
        label.setObjectName("section")
        label.setStyleSheet("font-weight: bold; padding-top: 6px;")
        self.form.layout.addRow(label)

    def _choice_with_new(self, name: str, label: str, items: list[tuple[Any, str]],
                         value: Any, dialog_title: str, dialog_label: str,
                         service: str) -> QComboBox:
        combo = self.form.add_choice(name, label, [(None, _tr("(none)")), *items], value=value)
        add = QToolButton()
        add.setObjectName(f"{name}_new")
        add.setIcon(icon("new"))
        add.setToolTip(_tr("Add a new one to the list"))
        add.setEnabled(self.env.can("hr.employees.manage"))
        row = self.form.fields[name].row
        box = row.layout() if row is not None else None
        if isinstance(box, QVBoxLayout):  # the button beside the list, not under it
            box.removeWidget(combo)
            line = QHBoxLayout()
            line.addWidget(combo, 1)
            line.addWidget(add)
            box.insertLayout(0, line)

        def added(result: Any) -> None:
            combo.addItem(result.name, str(result.id))
            combo.setCurrentIndex(combo.count() - 1)

        def open_dialog() -> None:
            from erp_desktop.services import hr

            dialog = NameDialog(self.env, dialog_title, dialog_label, getattr(hr, service),
                                parent=self)
            dialog.accepted.connect(lambda: added(dialog.result_value))
            dialog.open()

        add.clicked.connect(open_dialog)
        return combo

    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        if new is not None and self.form.widget.isAncestorOf(new):
            self.scroll.ensureWidgetVisible(new, 20, 30)

    def field_values(self) -> dict[str, Any]:
        """The values for `services.hr` (blanks as None)."""
        v = self.form.values()
        out: dict[str, Any] = {}
        for name, value in v.items():
            if name in _IDS:
                out[name] = uuid.UUID(value) if value else None
            else:
                out[name] = value if value != "" else None
        return out

    def save(self) -> None:
        from erp_desktop.services import hr

        values = self.field_values()
        if self.detail is None:
            code, name, hired = values.pop("code"), values.pop("full_name"), \
                values.pop("hire_date")
            self.form.submit(hr.add_employee, self.env.ctx, code or "", name or "", hired,
                             **values, on_done=self.saved)
            return
        changed = {k: v for k, v in values.items() if getattr(self.detail, k) != v}
        if not changed:
            self.saved(self.detail)
            return
        self.form.submit(hr.update_employee, self.env.ctx, self.detail.id, self.detail.version,
                         **changed, on_done=self.saved)


class LeavingDialog(FormDialog):
    """Record that an employee leaves: the last working day and why."""

    def __init__(self, env: PageEnv, row: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("{name} leaves").format(name=row.full_name), locale=env.locale,
                         parent=parent, save_text=_tr("Record leaving"), intro=_tr(
                             "Their record stays on file. They are paid up to the last "
                             "working day and drop off the payroll after it."))
        self.env = env
        self.row = row
        self.version: int = row.version
        self.form.add_date("termination_date", _tr("&Last working day"),
                           value=env.ctx.today())
        self.form.add_multiline("termination_reason", _tr("&Reason"), required=True, lines=3)
        top_caption(self.form, "termination_reason")
        self.form.reload_requested.connect(self.reload)

    def reload(self) -> Task:
        """After a conflict: take the record's version as it is now (the fields stay)."""
        from erp_desktop.services import hr

        def reloaded(detail: Any) -> None:
            self.version = detail.version
            self.form.show_banner(_tr("Reloaded; record the leaving again if it still "
                                      "applies."), kind="success")

        return run_in_background(hr.get_employee, self.env.ctx, self.row.id, parent=self,
                                 name="reload employee", on_done=reloaded,
                                 on_error=self.form.show_error)

    def save(self) -> None:
        from erp_desktop.services import hr

        v = self.form.values()
        self.form.submit(hr.terminate_employee, self.env.ctx, self.row.id, self.version,
                         v["termination_date"], v["termination_reason"], on_done=self.saved)


class LinkLoginDialog(FormDialog):
    """Link an employee to a login, so they see their own payslips and file claims."""

    def __init__(self, env: PageEnv, detail: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Login of {name}").format(name=detail.full_name),
                         locale=env.locale, parent=parent, save_text=_tr("Link"), intro=_tr(
                             "With a linked login the employee sees their own payslips and "
                             "files expense claims. Leave the login empty to unlink."))
        self.env = env
        self.detail = detail
        self.form.add_text("login_name", _tr("&Login name"), value=detail.login_name or "",
                           max_length=64, placeholder="kiran")

    def save(self) -> None:
        from erp_desktop.services import hr

        login = self.form.value("login_name") or None
        self.form.submit(hr.link_user, self.env.ctx, self.detail.id, login, on_done=self.saved)


class EmployeePanel(QWidget):
    """The selected employee: who, where, since when, their login and documents."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import hr

        self.env = env
        self.detail: Any = None
        self.title = panel_title(_tr("No employee selected"), "employee_title")
        self.facts = facts_label("employee_facts")
        self.facts.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.status = StatusLine("documents_status")
        self.documents = AttachmentList("documents", lambda attachment_id:
                                        hr.get_employee_document(env.ctx, attachment_id),
                                        self.status.say, env.locale)
        self.kind = QComboBox()
        self.kind.setObjectName("document_kind")
        for key, label in DOCUMENT_KINDS:
            self.kind.addItem(_tr(label), key)
        self.kind.setToolTip(_tr("What the next attached file is"))
        self.attach_button = button("attach", _tr("Attach…"), "new",
                                    _tr("Attach a PDF or an image of at most 10 MB"))
        self.attach_button.clicked.connect(self.attach)
        self.remove_button = button("remove_document", _tr("Remove"), "close")
        self.remove_button.clicked.connect(self.remove_current)
        may = env.can("hr.employees.manage")
        for w in (self.kind, self.attach_button, self.remove_button):
            w.setVisible(may)
        self.documents.buttons.insertWidget(2, self.remove_button)
        attach_row = QHBoxLayout()
        attach_row.addWidget(self.kind)
        attach_row.addWidget(self.attach_button)
        attach_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(bold_caption(_tr("Documents")))
        layout.addWidget(self.documents, 1)
        layout.addLayout(attach_row)
        layout.addWidget(self.status)
        self.show_detail(None)

    def _refused(self, exc: BaseException) -> None:
        self.status.say(error_text(exc), "error")

    def show_detail(self, detail: Any) -> None:
        self.detail = detail
        locale = self.env.locale
        enabled = detail is not None
        self.attach_button.setEnabled(enabled)
        self.remove_button.setEnabled(enabled)
        if detail is None:
            self.title.setText(_tr("No employee selected"))
            self.facts.setText(_tr("Select an employee to see their record and documents."))
            self.documents.set_rows([])
            return
        self.title.setText(f"{detail.full_name} · {detail.code}")
        e = html.escape
        rows = [
            (_tr("Department"), e(detail.department or "—")),
            (_tr("Job title"), e(detail.job_title or "—")),
            (_tr("Manager"), e(detail.manager or "—")),
            (_tr("Joined"), date_text(detail.hire_date, locale)),
        ]
        if detail.termination_date is not None:
            rows.append((_tr("Last day"), date_text(detail.termination_date, locale)
                         + (f" · {e(detail.termination_reason)}"
                            if detail.termination_reason else "")))
        rows += [(_tr("Email"), e(detail.email or "—")), (_tr("Phone"), e(detail.phone or "—")),
                 (_tr("Login"), e(detail.login_name or _tr("not linked")))]
        self.facts.setText(facts_html(rows))
        self.documents.set_rows(detail.attachments)

    # ---- documents

    def attach(self) -> None:
        if self.detail is None:
            return
        chosen, _ = QFileDialog.getOpenFileName(self, _tr("Attach a document"),
                                                str(Path.home()), _tr(ATTACH_FILTER))
        if chosen:
            self.attach_file(Path(chosen))

    def attach_file(self, path: Path) -> Task | None:
        """Read `path` on the worker and keep it with the employee (the service checks it)."""
        if self.detail is None:
            return None
        from erp_desktop.services import hr

        ctx, employee_id, kind = self.env.ctx, self.detail.id, str(self.kind.currentData())

        def attach() -> Any:
            name, data = read_upload(path)
            hr.add_employee_document(ctx, employee_id, name, data, kind)
            return hr.get_employee(ctx, employee_id)

        self.status.say(_tr("Attaching {name}…").format(name=Path(path).name), "hint")
        return run_in_background(attach, parent=self, name="attach document",
                                 on_done=self._attached, on_error=self._refused)

    def _attached(self, detail: Any) -> None:
        self.show_detail(detail)
        self.status.say(_tr("Attached."))

    def remove_current(self) -> Task | None:
        row = self.documents.current()
        if row is None or self.detail is None:
            return None
        from erp_desktop.services import hr

        ctx, employee_id = self.env.ctx, self.detail.id

        def remove() -> Any:
            hr.remove_employee_document(ctx, row.id)
            return hr.get_employee(ctx, employee_id)

        return run_in_background(remove, parent=self, name="remove document",
                                 on_done=lambda d: (self.show_detail(d), self.status.say(
                                     _tr("{name} removed.").format(name=row.filename))),
                                 on_error=self._refused)


class EmployeesTab(CommandPage):
    """The employees (paged, searchable, current or former) beside the selected record."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import hr_lists

        self.env = env
        self.may_manage = env.can("hr.employees.manage")
        self.detail_task: Task | None = None
        self.last_dialog: QDialog | None = None
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("status_filter")
        for key, text in (("current", _tr("Current employees")),
                          ("former", _tr("Former employees")), ("", _tr("Everyone"))):
            self.status_filter.addItem(text, key)
        self.status_filter.setToolTip(_tr("Show current or former employees"))
        self.status_filter.currentIndexChanged.connect(self._filter_changed)

        def action(name: str, text: str, icon_name: str, slot: Callable[[], Any]) -> QAction:
            act = QAction(icon(icon_name), text, self)
            act.setObjectName(name)
            act.triggered.connect(lambda: slot())
            return act

        self.new_action = action("new_employee", _tr("New…"), "new", self.new_employee)
        self.new_action.setToolTip(_tr("Add an employee (Ctrl+N)"))
        self.edit_action = action("edit_employee", _tr("Edit…"), "edit", self.edit_employee)
        self.leave_action = action("leaving", _tr("Leaving…"), "disable", self.record_leaving)
        self.link_action = action("link_login", _tr("Login…"), "key", self.link_login)
        actions = [self.new_action, self.edit_action, self.leave_action, self.link_action] \
            if self.may_manage else []
        self.list = ListPanel(ListSource(hr_lists.EMPLOYEES, env.ctx), locale=env.locale,
                              noun=(_tr("employee"), _tr("employees")),
                              search_hint=_tr("Search code, name, department…"),
                              filters=Filters.of(status="current"),
                              extra=[self.status_filter], actions=actions,
                              on_new=self.new_employee if self.may_manage else None)
        self.list.current_row_changed.connect(self._selected)
        self.list.row_activated.connect(lambda row: self.edit_employee(row))
        self.list.commands_changed.connect(self.commands_changed)
        self.panel = EmployeePanel(env)
        self.message = StatusLine("employees_message")
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([760, 480])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        self._selected(None)

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def _filter_changed(self) -> None:
        self.list.set_filters(self.list.model.filters.with_extra(
            status=self.status_filter.currentData() or None))

    def _selected(self, row: Any) -> None:
        chosen = row is not None
        self.edit_action.setEnabled(chosen)
        self.link_action.setEnabled(chosen)
        self.leave_action.setEnabled(chosen and row.termination_date is None)
        if row is None:
            return
        if self.panel.detail is not None and self.panel.detail.id == row.id \
                and self.panel.detail.version == row.version:
            return
        from erp_desktop.services import hr

        if self.detail_task is not None:
            self.detail_task.cancel()
        self.detail_task = run_in_background(hr.get_employee, self.env.ctx, row.id,
                                             parent=self, name="employee",
                                             on_done=self._loaded,
                                             on_error=lambda e: self.message.say(
                                                 error_text(e), "error"))

    def _loaded(self, detail: Any) -> None:
        self.detail_task = None
        self.panel.show_detail(detail)

    def _changed(self, text: str) -> Callable[[], None]:
        def done() -> None:
            dialog = self.last_dialog
            result = getattr(dialog, "result_value", None)
            self.message.say(text.format(name=getattr(result, "full_name", "")))
            if result is not None and hasattr(result, "attachments"):
                self.panel.show_detail(result)
            self.list.refresh()
        return done

    def _open(self, dialog: QDialog, text: str) -> QDialog:
        self.last_dialog = dialog
        dialog.accepted.connect(self._changed(text))
        dialog.open()
        return dialog

    def _with_choices(self, employee_id: uuid.UUID | None,
                      then: Callable[[EmployeeChoices], Any]) -> Task:
        return run_in_background(load_employee_choices, self.env.ctx, employee_id,
                                 parent=self, name="employee choices", on_done=then,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))

    def new_employee(self) -> Task | None:
        if not self.may_manage:
            return None
        return self._with_choices(None, lambda c: self._open(
            EmployeeDialog(self.env, c, parent=self), _tr("{name} added.")))

    def edit_employee(self, row: Any = None) -> Task | None:
        row = row or self.list.current_row()
        if row is None or not self.may_manage:
            return None
        return self._with_choices(row.id, lambda c: self._open(
            EmployeeDialog(self.env, c, parent=self), _tr("{name} saved.")))

    def record_leaving(self, row: Any = None) -> QDialog | None:
        row = row or self.list.current_row()
        if row is None or not self.may_manage:
            return None
        return self._open(LeavingDialog(self.env, row, parent=self),
                          _tr("{name}'s leaving is recorded."))

    def link_login(self) -> QDialog | None:
        detail = self.panel.detail
        if detail is None or not self.may_manage:
            return None
        return self._open(LinkLoginDialog(self.env, detail, parent=self),
                          _tr("The login of {name} is saved."))


# =================================================================== salaries


def _how(component: Any, locale: str) -> str:
    """'Fixed monthly amount' or '40% of BASIC, at most ₹1,800.00'."""
    if component.method == "fixed":
        return _tr("Fixed monthly amount")
    text = _tr("{pct}% of {base}").format(pct=days_text(component.percent or Decimal(0)),
                                        base=", ".join(component.base))
    if component.cap is not None:
        text += _tr(", at most {cap}").format(cap=format_money(component.cap, locale))
    return text


class StructureGrid(QWidget):
    """Every active salary component: tick it in, and its monthly amount or percent."""

    def __init__(self, components: Sequence[Any], current: Any, locale: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.components = list(components)
        self.locale = locale
        self.on_change: list[Callable[[], None]] = []
        lines = {ln.code: ln for ln in (current.lines if current is not None else ())}
        self.table = QTableWidget(len(self.components), 4)
        self.table.setObjectName("components_grid")
        self.table.setStyleSheet(TABLE_STYLE)
        self.table.setHorizontalHeaderLabels([_tr("Component"), _tr("Kind"), _tr("How"),
                                              _tr("Amount or %")])
        right_headers(self.table, [3])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 230)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 90)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(3, 130)
        self.checks: list[QCheckBox] = []
        self.edits: list[QLineEdit] = []
        for row, comp in enumerate(self.components):
            line = lines.get(comp.code)
            check = QCheckBox(comp.name if f"({comp.code})" in comp.name
                              else f"{comp.name} ({comp.code})")
            check.setObjectName(f"include_{comp.code}")
            check.setChecked(line is not None)
            check.setStyleSheet("QCheckBox { padding-left: 6px; }")
            self.table.setCellWidget(row, 0, check)
            self.table.setItem(row, 1, _item(_tr("Earning") if comp.kind == "earning"
                                             else _tr("Deduction")))
            self.table.setItem(row, 2, _item(_how(comp, locale)))
            edit = QLineEdit()
            edit.setObjectName(f"amount_{comp.code}")
            edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if comp.method == "fixed":
                edit.setPlaceholderText("0.00")
                if line is not None and line.amount is not None:
                    edit.setText(amount_text(line.amount.amount, locale))
            else:
                edit.setPlaceholderText(f"{days_text(comp.percent or Decimal(0))} %")
                edit.setToolTip(_tr("Leave empty for the usual percentage"))
                if line is not None and line.percent is not None \
                        and line.percent != comp.percent:
                    edit.setText(days_text(line.percent))
            self.table.setCellWidget(row, 3, edit)
            # Typing an amount ticks the component in.
            edit.textEdited.connect(lambda t, c=check: c.setChecked(True) if t.strip() else None)
            edit.textChanged.connect(lambda _t: self._changed())
            check.toggled.connect(lambda _on: self._changed())
            self.checks.append(check)
            self.edits.append(edit)
        for a, b in itertools.pairwise(w for pair in zip(self.checks, self.edits, strict=True)
                                       for w in pair):
            QWidget.setTabOrder(a, b)
        self.table.setMinimumHeight(260)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)

    def _changed(self) -> None:
        for callback in self.on_change:
            callback()

    def set_amount(self, code: str, text: str) -> None:
        for comp, check, edit in zip(self.components, self.checks, self.edits, strict=True):
            if comp.code == code:
                check.setChecked(True)
                edit.setText(text)

    def problem(self) -> str | None:
        for comp, check, edit in zip(self.components, self.checks, self.edits, strict=True):
            text = edit.text().strip().rstrip("%").strip()
            if check.isChecked() and text:
                try:
                    parse_number(text, self.locale)
                except ValueError:
                    return _tr("{name}: “{text}” is not a number.").format(name=comp.name,
                                                                         text=edit.text())
        return None

    def lines(self) -> list[Any]:
        from erp_desktop.services import payroll

        out = []
        for comp, check, edit in zip(self.components, self.checks, self.edits, strict=True):
            if not check.isChecked():
                continue
            text = edit.text().strip().rstrip("%").strip()
            try:
                number = parse_number(text, self.locale) if text else None
            except ValueError:
                number = None
            if comp.method == "fixed":
                out.append(payroll.StructureLineInput(comp.code, amount=number))
            else:
                out.append(payroll.StructureLineInput(comp.code, percent=number))
        return out


def _item(text: str, right: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(Qt.ItemFlag.ItemIsEnabled)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


class StructureDialog(FormDialog):
    """A salary structure from the first of a month: which components, how much."""

    def __init__(self, env: PageEnv, employee: Any, components: Sequence[Any], current: Any,
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("New salary for {name}").format(name=employee.employee_name),
                         locale=env.locale, parent=parent, save_text=_tr("Save salary"),
                         intro=_tr("The salary applies from the first day of the month chosen "
                                   "until the next change; a raise is a new structure. "
                                   "Percentages apply to the components named."))
        self.env = env
        self.employee = employee
        today = env.ctx.today()
        start = PayPeriod.of(today).start
        self.form.add_choice("effective_from", _tr("&From"),
                             [(d.isoformat(), label) for d, label in month_choices(today)],
                             value=start.isoformat())
        self.grid = StructureGrid(components, current, env.locale)
        self.form.add_widget("lines", _tr("Components"), self.grid, value=self.grid.lines,
                             checks=[lambda _v: self.grid.problem()], stretch=True)
        self.grid.on_change.append(lambda: self.form.field_changed("lines"))
        self.form.add_text("note", _tr("&Note"), max_length=500,
                           placeholder=_tr("e.g. Annual raise"))
        self.resize(760, 620)

    def save(self) -> None:
        from erp_desktop.services import payroll

        v = self.form.values()
        self.form.submit(payroll.set_salary_structure, self.env.ctx, self.employee.employee_id,
                         date.fromisoformat(v["effective_from"]), self.grid.lines(),
                         v["note"] or None,
                         on_done=self.saved)


@dataclass(frozen=True)
class _LineView:
    name: str
    kind: str
    how: str
    amount: str


class SalaryTab(CommandPage):
    """Pick an employee; see their salary structures and what each is made of."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import hr_lists

        self.env = env
        self.may_manage = env.can("hr.payroll.manage")
        self.salary: Any = None
        self.components: list[Any] | None = None
        self._shown_once = False
        self.task: Task | None = None
        self.last_dialog: QDialog | None = None
        self.former = QCheckBox(_tr("Former too"))
        self.former.setObjectName("include_former")
        self.former.toggled.connect(lambda on: self.list.set_filters(
            self.list.model.filters.with_extra(status=None if on else "current")))
        self.list = ListPanel(ListSource(hr_lists.EMPLOYEE_PICKER, env.ctx), locale=env.locale,
                              noun=(_tr("employee"), _tr("employees")),
                              search_hint=_tr("Find an employee…"),
                              filters=Filters.of(status="current"), extra=[self.former])
        self.list.search.setMinimumWidth(160)
        self.list.current_row_changed.connect(self._selected)
        self.list.commands_changed.connect(self.commands_changed)

        self.title = heading(_tr("Choose an employee"), 1.2)
        self.title.setObjectName("salary_title")
        self.new_button = button("new_structure", _tr("New salary…"), "new",
                                 _tr("A new salary structure from a month on (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_structure)
        self.new_button.setVisible(self.may_manage)
        self.new_button.setEnabled(False)
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.new_button)
        self.cards = {key: Card(caption) for key, caption in (
            ("gross", _tr("Monthly gross")), ("deductions", _tr("Monthly deductions")),
            ("net", _tr("Monthly net pay")))}
        cards = QHBoxLayout()
        for card in self.cards.values():
            card.set("—")
            cards.addWidget(card)
        self.history_model = RowsModel([
            (_tr("From"), lambda v: date_text(v.effective_from, env.locale), False),
            (_tr("Gross"), lambda v: money_text(v.monthly_gross, env.locale), True),
            (_tr("Deductions"), lambda v: money_text(v.monthly_deductions, env.locale), True),
            (_tr("Net pay"), lambda v: money_text(v.monthly_net, env.locale), True),
            (_tr("Note"), lambda v: v.note or "", False),
        ], self)
        self.history = rows_table(self.history_model)
        self.history.setObjectName("salary_history")
        fit_columns(self.history, 4, {0: 110, 1: 130, 2: 130, 3: 130})
        self.history.selectionModel().currentRowChanged.connect(self._history_row)
        self.lines_model = RowsModel([
            (_tr("Component"), lambda r: r.name, False),
            (_tr("Kind"), lambda r: r.kind, False),
            (_tr("How"), lambda r: r.how, False),
            (_tr("Monthly"), lambda r: r.amount, True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("structure_lines")
        fit_columns(self.lines, 2, {0: 220, 1: 90, 3: 130})
        self.lines_caption = bold_caption(_tr("Components"))
        self.message = StatusLine("salary_message")

        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(12, 0, 0, 0)
        box.setSpacing(8)
        box.addLayout(top)
        box.addLayout(cards)
        history_caption = bold_caption(_tr("Salary history (newest first)"))
        box.addWidget(history_caption)
        box.addWidget(self.history, 2)
        box.addWidget(self.lines_caption)
        box.addWidget(self.lines, 3)
        box.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([440, 800])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(splitter)

    def on_shown(self) -> None:
        if self._shown_once:  # employees may have been added or left meanwhile
            self.list.refresh()
        self._shown_once = True

    def commands(self) -> set[Command]:
        out = self.list.commands() - {Command.NEW}
        if self.may_manage and self.salary is not None:
            out.add(Command.NEW)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.NEW:
            self.new_structure()
        elif command == Command.REFRESH:
            self.list.refresh()
            self.reload()
        else:
            self.list.run_command(command)

    def _selected(self, row: Any) -> None:
        if row is None or (self.salary is not None and self.salary.employee_id == row.id):
            return
        self.salary = None
        self.title.setText(f"{row.full_name} · {row.code}")
        self.message.say("")
        self.reload(row.id)

    def reload(self, employee_id: uuid.UUID | None = None) -> None:
        from erp_desktop.services import payroll

        employee_id = employee_id or (self.salary.employee_id if self.salary else None)
        if employee_id is None:
            return
        if self.task is not None:
            self.task.cancel()
        self.task = run_in_background(payroll.get_salary, self.env.ctx, employee_id,
                                      parent=self, name="salary", on_done=self._loaded,
                                      on_error=lambda e: self.message.say(error_text(e), "error"))

    def _loaded(self, salary: Any) -> None:
        self.task = None
        self.salary = salary
        locale = self.env.locale
        self.title.setText(f"{salary.employee_name} · {salary.employee_code}")
        self.new_button.setEnabled(True)
        current = salary.current
        if current is None:
            for card in self.cards.values():
                card.set("—", _tr("No salary yet") if not salary.history else
                         _tr("Starts {date}").format(
                             date=date_text(salary.history[-1].effective_from, locale)))
        else:
            since = _tr("Since {date}").format(date=date_text(current.effective_from, locale))
            self.cards["gross"].set(format_money(current.monthly_gross, locale), since)
            self.cards["deductions"].set(format_money(current.monthly_deductions, locale),
                                         since)
            self.cards["net"].set(format_money(current.monthly_net, locale), since)
        self.history_model.set_rows(salary.history)
        if salary.history:
            index = salary.history.index(current) if current in salary.history else 0
            self.history.selectRow(index)
            self._show_lines(salary.history[index])
        else:
            self.lines_model.set_rows([])
            self.lines_caption.setText(_tr("Components"))
        self.commands_changed.emit()

    def _history_row(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self._show_lines(self.history_model.row_at(current.row()))

    def _show_lines(self, view: Any) -> None:
        locale = self.env.locale
        rows = []
        for ln in view.lines:
            if ln.method == "fixed":
                how, amount = _tr("Fixed"), money_text(ln.amount, locale)
            else:
                how = _tr("{pct}% of {base}").format(pct=days_text(ln.percent or Decimal(0)),
                                                    base=", ".join(ln.base))
                if ln.cap is not None:
                    how += _tr(", at most {cap}").format(cap=format_money(ln.cap, locale))
                amount = ""
            rows.append(_LineView(ln.name, _tr("Earning") if ln.kind == "earning"
                                  else _tr("Deduction"), how, amount))
        rows.append(_LineView(_tr("Net pay (a full month)"), "", "",
                              format_money(view.monthly_net, locale)))
        self.lines_model.set_rows(rows, bold_rows={len(rows) - 1})
        self.lines_caption.setText(_tr("Components from {date}").format(
            date=date_text(view.effective_from, locale)))

    def new_structure(self) -> Task | None:
        if not self.may_manage or self.salary is None:
            return None
        from erp_desktop.services import payroll

        salary = self.salary

        def open_dialog(components: list[Any]) -> None:
            self.components = components
            dialog = StructureDialog(self.env, salary, components,
                                     salary.current or (salary.history[0]
                                                        if salary.history else None),
                                     parent=self)
            self.last_dialog = dialog
            dialog.accepted.connect(lambda: (self.message.say(_tr(
                "Salary saved; it applies from {date}.").format(date=date_text(
                    dialog.result_value.effective_from, self.env.locale))), self.reload()))
            dialog.open()

        return run_in_background(payroll.list_components, self.env.ctx, parent=self,
                                 name="components", on_done=open_dialog,
                                 on_error=lambda e: self.message.say(error_text(e), "error"))


# =================================================================== the area page


class HrPage(TabbedAreaPage):
    """The HR area: a tab per job the role allows (see the module docstring)."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(_tr("HR"), _tr(
            "Employees and their documents, salaries, the monthly payroll with payslips, "
            "and expense claims to approve or pay back."), "hr_tabs", parent)
        self.env = env
        self.employees: EmployeesTab | None = None
        self.salaries: SalaryTab | None = None
        self.payroll: PayrollTab | None = None
        self.approve_claims: ApproveClaimsTab | None = None
        if env.can("hr.employees.view"):
            self.add_tab("employees", EmployeesTab(env), "hr", _tr("Employees"))
        if env.can("hr.payroll.view"):
            self.add_tab("salaries", SalaryTab(env), "balance", _tr("Salaries"))
            self.add_tab("payroll", PayrollTab(env), "journal", _tr("Payroll"))
        # Any claim, for HR and the accountant; a line manager without these
        # permissions decides their reports' claims in the Me area (decision 0040).
        if env.can("hr.claims.approve") or env.can("hr.claims.reimburse"):
            self.add_tab("approve_claims", ApproveClaimsTab(env), "verify",
                         _tr("Claims to approve"))
        if self.tabs.count() == 0:
            self.frame.addWidget(hint(_tr("Your role does not include any HR work.")))
