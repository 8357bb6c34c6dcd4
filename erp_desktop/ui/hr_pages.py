"""HR: employees and their documents, salary structures, the monthly payroll, expense claims.

`HrPage` is a tab per job, each shown only when the user's role allows it
(the services refuse the rest anyway):

- Employees (`hr.employees.view`): a paged list (`services.hr_lists`) with a
  status filter, the selected person's record and documents beside it; New,
  Edit, Leaving, Link login and attaching documents need `hr.employees.manage`.
  PAN and bank account numbers are shown masked (as the payslip prints them)
  until Show is pressed.
- Salaries (`hr.payroll.view`): pick an employee, see their salary structures
  with start dates and components; New structure needs `hr.payroll.manage`.
- Payroll (`hr.payroll.view`): the monthly runs and `PayrollWizard`, which
  walks a month through choose month → compute (on the worker, with
  progress) → review (unpaid leave and one-off lines) → submit and approve →
  post → payslips (preview, write all to a folder with Cancel, register and
  bank list exports) → paid. Each step's button is enabled only for the roles
  the service allows; otherwise the page says who may.
- My claims (`hr.claims.own`): one's own expense claims with lines and
  receipts; To approve (`hr.claims.approve` or `hr.claims.reimburse`):
  approve or reject with a comment, pay back, or send to payroll.

Every read and write goes through the services on the worker (`ui.worker`,
`Form.submit`); files are read and written there too. Attachments are opened
inside the app (PDF preview or an image view), never written to a temporary
file, since they are personal data that must stay in the encrypted file.
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

from PySide6.QtCore import QCoreApplication, QDate, QDir, Qt, Signal
from PySide6.QtGui import QAction, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from erp_desktop.domain.errors import UserError, ValidationError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.domain.payroll_calc import PayPeriod
from erp_desktop.services.authz import DEFAULT_ROLES, PERMISSIONS
from erp_desktop.services.listing import Filters, ListSource, format_date, format_datetime
from erp_desktop.ui.forms import FormDialog, parse_number
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import TABLE_STYLE, ListPanel
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import (
    Card,
    PageEnv,
    RowsModel,
    heading,
    hint,
    message_style,
    page_frame,
    rows_table,
)
from erp_desktop.ui.worker import CancelToken, Task, run_in_background

ATTACH_FILTER = "PDF and images (*.pdf *.png *.jpg *.jpeg *.gif *.webp *.tif *.tiff);;All files (*)"
DOCUMENT_KINDS = (("contract", "Contract"), ("id_scan", "ID scan"),
                  ("certificate", "Certificate"), ("other", "Other"))
RUN_STATUS = {"draft": "Draft", "review": "In review", "approved": "Approved",
              "posted": "Posted", "paid": "Paid", "reversed": "Reversed"}
CLAIM_STATUS = {"draft": "Draft", "submitted": "Waiting for approval", "approved": "Approved",
                "rejected": "Rejected", "reimbursed": "Reimbursed",
                "in_payroll": "With the next salary", "paid_in_payroll": "Paid with salary"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("hr", text)


def _money(value: Money | None, locale: str) -> str:
    return "" if value is None else format_money(value, locale)


def _date(value: date | None, locale: str) -> str:
    return "" if value is None else format_date(value, locale)


def _days(value: Decimal | int) -> str:
    """30 rather than 30.000; a half day keeps one place (1.5)."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return str(number.normalize())


def _size(n: int) -> str:
    if n < 1024:
        return _tr("{n} bytes").format(n=n)
    if n < 1024 * 1024:
        return _tr("{n} KB").format(n=round(n / 1024))
    return _tr("{n} MB").format(n=f"{n / (1024 * 1024):.1f}")


def _amount_text(value: Decimal, locale: str) -> str:
    """An amount to edit, grouped as the locale writes it: 1,23,456.50 or 123.456,50."""
    from babel import Locale
    from babel.numbers import format_decimal

    pattern = Locale.parse(locale).decimal_formats[None].pattern.split(";")[0]
    return format_decimal(value, format=pattern.split(".")[0] + ".00", locale=locale)


def _top_caption(form: Any, name: str) -> None:
    """A multi-line field's caption level with its first line, not its middle."""
    f = form.fields[name]
    caption = form.layout.labelForField(f.row)
    if isinstance(caption, QLabel):
        caption.setFixedHeight(QLineEdit().sizeHint().height())


def _message(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc)


def _button(name: str, text: str, icon_name: str | None = None, tip: str = "") -> QPushButton:
    button = QPushButton(icon(icon_name), text) if icon_name else QPushButton(text)
    button.setObjectName(name)
    if tip:
        button.setToolTip(tip)
    return button


def _fit_columns(view: QTableView, stretch: int, widths: dict[int, int]) -> None:
    header = view.horizontalHeader()
    for column, width in widths.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def _right_headers(view: QTableWidget, columns: Sequence[int]) -> None:
    for column in columns:
        item = view.horizontalHeaderItem(column)
        if item is not None:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def roles_with(permission: str) -> list[str]:
    """The default roles that hold `permission` (to say who may do a step)."""
    return [_tr(label) for _name, (label, _d, perms) in DEFAULT_ROLES.items()
            if permission in perms]


def who_may(permission: str) -> str:
    roles = roles_with(permission)
    return _tr("This step needs the permission “{what}”. Roles that have it unless an admin "
               "changed them: {roles}.").format(what=_tr(PERMISSIONS[permission]),
                                                roles=", ".join(roles))


class StatusLine(QLabel):
    """A one-line message under a tab: success, warning or error."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.setObjectName(name)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def say(self, text: str, kind: str = "success") -> None:
        self.setStyleSheet(message_style(kind))
        self.setText(text)


# =================================================================== attachments


def read_upload(path: Path) -> tuple[str, bytes]:
    """(file name, bytes) of a file chosen to attach; runs on the worker."""
    path = Path(path)
    try:
        return path.name, path.read_bytes()
    except OSError as exc:
        raise ValidationError(_tr("Could not read {path}: {reason}.").format(
            path=path, reason=exc.strerror or exc), field="data") from None


def save_bytes(path: Path, data: bytes) -> Path:
    """Write a copy of an attachment where the person chose (atomically; worker)."""
    from erp_desktop.ui.pdf_preview import write_file

    try:
        write_file(Path(path), data)
    except OSError as exc:
        raise ValidationError(_tr("Could not save to {path}: {reason}.").format(
            path=path, reason=exc.strerror or exc), field="path") from None
    return Path(path)


class ImageViewDialog(QDialog):
    """A receipt or a scan that is an image, scaled to the window, with Save as."""

    def __init__(self, file: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.file = file
        self.setObjectName("image_view")
        self.setWindowTitle(file.filename)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        image = QImage.fromData(file.data)
        self.picture = QLabel()
        self.picture.setObjectName("picture")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if image.isNull():
            self.picture.setText(_tr("This image cannot be shown here; save it to open it "
                                     "elsewhere."))
        else:
            pixmap = QPixmap.fromImage(image)
            if pixmap.width() > 760 or pixmap.height() > 640:  # shrink a big scan, never blow up
                pixmap = pixmap.scaled(760, 640, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
            self.picture.setPixmap(pixmap)
        scroll = QScrollArea()
        scroll.setWidget(self.picture)
        scroll.setWidgetResizable(True)
        self.status = StatusLine("image_status")
        save = _button("save_copy", _tr("Save a copy…"), "save")
        save.clicked.connect(self.save_as)
        close = _button("close", _tr("Close"))
        close.clicked.connect(self.accept)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(save)
        bar.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(bar)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save_as)
        self.resize(820, 760)

    def save_as(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, _tr("Save a copy"),
                                                str(Path.home() / self.file.filename))
        if chosen:
            self.save_to(Path(chosen))

    def save_to(self, path: Path) -> Task:
        return run_in_background(
            save_bytes, path, self.file.data, parent=self, name="save attachment",
            on_done=lambda p: self.status.say(_tr("Saved to {path}.").format(
                path=QDir.toNativeSeparators(str(p)))),
            on_error=lambda exc: self.status.say(_message(exc), "error"))


def show_attachment(parent: QWidget, file: Any) -> QDialog:
    """Open an attachment inside the app: PDFs in the preview, images in a viewer."""
    from erp_desktop.ui import pdf_preview

    if file.content_type == "application/pdf":
        dialog: QDialog = pdf_preview.PdfPreviewDialog(file.data, title=file.filename,
                                                       file_name=file.filename, parent=parent)
    else:
        dialog = ImageViewDialog(file, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


class AttachmentList(QWidget):
    """A table of attachments (name, kind, size, added) with Open and Save a copy.

    `fetch(attachment_id)` is the service that returns the file (and audits
    the opening); `say(text, kind)` shows what happened (saved, or a refusal).
    """

    def __init__(self, name: str, fetch: Callable[[uuid.UUID], Any],
                 say: Callable[[str, str], None], locale: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fetch = fetch
        self.say = say
        self.locale = locale
        self.model = RowsModel([
            (_tr("File"), lambda r: r.filename, False),
            (_tr("Kind"), lambda r: dict(DOCUMENT_KINDS).get(r.kind, r.kind.capitalize()),
             False),
            (_tr("Size"), lambda r: _size(r.size_bytes), True),
            (_tr("Added"), lambda r: _date(r.added_at.date(), self.locale), False),
        ], self)
        self.table = rows_table(self.model)
        self.table.setObjectName(name)
        _fit_columns(self.table, 0, {1: 80, 2: 90, 3: 100})
        self.table.doubleClicked.connect(lambda _i: self.open_current())
        self.open_button = _button(f"{name}_open", _tr("Open"), "pdf",
                                   _tr("Show the file (Enter)"))
        self.open_button.clicked.connect(self.open_current)
        self.save_button = _button(f"{name}_save", _tr("Save a copy…"), "save")
        self.save_button.clicked.connect(self.save_current)
        self.buttons = QHBoxLayout()
        self.buttons.setContentsMargins(0, 0, 0, 0)
        self.buttons.addWidget(self.open_button)
        self.buttons.addWidget(self.save_button)
        self.buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.table, 1)
        layout.addLayout(self.buttons)
        self.table.selectionModel().currentRowChanged.connect(lambda *_a: self._enable())
        self._enable()

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.model.set_rows(rows)
        if rows:
            self.table.selectRow(0)
        self._enable()

    def current(self) -> Any | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        chosen = self.current() is not None
        self.open_button.setEnabled(chosen)
        self.save_button.setEnabled(chosen)

    def open_current(self) -> Task | None:
        row = self.current()
        if row is None:
            return None
        return run_in_background(self.fetch, row.id, parent=self, name="open attachment",
                                 on_done=lambda f: show_attachment(self, f),
                                 on_error=lambda e: self.say(_message(e), "error"))

    def save_current(self) -> None:
        row = self.current()
        if row is None:
            return
        chosen, _ = QFileDialog.getSaveFileName(self, _tr("Save a copy"),
                                                str(Path.home() / row.filename))
        if chosen:
            self.save_to(row, Path(chosen))

    def save_to(self, row: Any, path: Path) -> Task:
        def fetch_and_save() -> Path:
            return save_bytes(path, self.fetch(row.id).data)

        return run_in_background(fetch_and_save, parent=self, name="save attachment",
                                 on_done=lambda p: self.say(_tr("Saved a copy to {path}.").format(
                                     path=QDir.toNativeSeparators(str(p))), "success"),
                                 on_error=lambda e: self.say(_message(e), "error"))


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
        _top_caption(f, "address")

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
        _top_caption(self.form, "termination_reason")
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
        self.title = heading(_tr("No employee selected"), 1.2)
        self.title.setObjectName("employee_title")
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setObjectName("employee_facts")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = StatusLine("documents_status")
        self.documents = AttachmentList("documents", lambda attachment_id:
                                        hr.get_employee_document(env.ctx, attachment_id),
                                        self.status.say, env.locale)
        self.kind = QComboBox()
        self.kind.setObjectName("document_kind")
        for key, label in DOCUMENT_KINDS:
            self.kind.addItem(_tr(label), key)
        self.kind.setToolTip(_tr("What the next attached file is"))
        self.attach_button = _button("attach", _tr("Attach…"), "new",
                                     _tr("Attach a PDF or an image of at most 10 MB"))
        self.attach_button.clicked.connect(self.attach)
        self.remove_button = _button("remove_document", _tr("Remove"), "close")
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
        caption = QLabel(_tr("Documents"))
        caption.setStyleSheet("font-weight: bold;")
        layout.addWidget(caption)
        layout.addWidget(self.documents, 1)
        layout.addLayout(attach_row)
        layout.addWidget(self.status)
        self.show_detail(None)

    def _refused(self, exc: BaseException) -> None:
        self.status.say(_message(exc), "error")

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
            (_tr("Joined"), _date(detail.hire_date, locale)),
        ]
        if detail.termination_date is not None:
            rows.append((_tr("Last day"), _date(detail.termination_date, locale)
                         + (f" · {e(detail.termination_reason)}"
                            if detail.termination_reason else "")))
        rows += [(_tr("Email"), e(detail.email or "—")), (_tr("Phone"), e(detail.phone or "—")),
                 (_tr("Login"), e(detail.login_name or _tr("not linked")))]
        self.facts.setText("<table cellspacing='0' cellpadding='2'>" + "".join(
            f"<tr><td style='color: palette(placeholder-text); padding-right: 12px'>"
            f"{e(label)}</td><td>{text}</td></tr>" for label, text in rows) + "</table>")
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
                                                 _message(e), "error"))

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
                                 on_error=lambda e: self.message.say(_message(e), "error"))

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
    text = _tr("{pct}% of {base}").format(pct=_days(component.percent or Decimal(0)),
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
        _right_headers(self.table, [3])
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
                    edit.setText(_amount_text(line.amount.amount, locale))
            else:
                edit.setPlaceholderText(f"{_days(comp.percent or Decimal(0))} %")
                edit.setToolTip(_tr("Leave empty for the usual percentage"))
                if line is not None and line.percent is not None \
                        and line.percent != comp.percent:
                    edit.setText(_days(line.percent))
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


def month_choices(today: date, back: int = 12, ahead: int = 12) -> list[tuple[date, str]]:
    """The first days of the months around `today`, newest last, for a month list."""
    period = PayPeriod.of(today)
    for _ in range(back):
        period = period.previous()
    out = []
    for _ in range(back + ahead + 1):
        out.append((period.start, _tr(period.label)))
        period = period.next()
    return out


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
        self.new_button = _button("new_structure", _tr("New salary…"), "new",
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
            (_tr("From"), lambda v: _date(v.effective_from, env.locale), False),
            (_tr("Gross"), lambda v: _money(v.monthly_gross, env.locale), True),
            (_tr("Deductions"), lambda v: _money(v.monthly_deductions, env.locale), True),
            (_tr("Net pay"), lambda v: _money(v.monthly_net, env.locale), True),
            (_tr("Note"), lambda v: v.note or "", False),
        ], self)
        self.history = rows_table(self.history_model)
        self.history.setObjectName("salary_history")
        _fit_columns(self.history, 4, {0: 110, 1: 130, 2: 130, 3: 130})
        self.history.selectionModel().currentRowChanged.connect(self._history_row)
        self.lines_model = RowsModel([
            (_tr("Component"), lambda r: r.name, False),
            (_tr("Kind"), lambda r: r.kind, False),
            (_tr("How"), lambda r: r.how, False),
            (_tr("Monthly"), lambda r: r.amount, True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("structure_lines")
        _fit_columns(self.lines, 2, {0: 220, 1: 90, 3: 130})
        self.lines_caption = QLabel(_tr("Components"))
        self.lines_caption.setStyleSheet("font-weight: bold;")
        self.message = StatusLine("salary_message")

        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(12, 0, 0, 0)
        box.setSpacing(8)
        box.addLayout(top)
        box.addLayout(cards)
        history_caption = QLabel(_tr("Salary history (newest first)"))
        history_caption.setStyleSheet("font-weight: bold;")
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
                                      on_error=lambda e: self.message.say(_message(e), "error"))

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
                             date=_date(salary.history[-1].effective_from, locale)))
        else:
            since = _tr("Since {date}").format(date=_date(current.effective_from, locale))
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
                how, amount = _tr("Fixed"), _money(ln.amount, locale)
            else:
                how = _tr("{pct}% of {base}").format(pct=_days(ln.percent or Decimal(0)),
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
            date=_date(view.effective_from, locale)))

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
                "Salary saved; it applies from {date}.").format(date=_date(
                    dialog.result_value.effective_from, self.env.locale))), self.reload()))
            dialog.open()

        return run_in_background(payroll.list_components, self.env.ctx, parent=self,
                                 name="components", on_done=open_dialog,
                                 on_error=lambda e: self.message.say(_message(e), "error"))


# =================================================================== payroll


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
        self.form.add_decimal("lop_days", _tr("Unpaid &days"), value=_days(entry.lop_days),
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
        _top_caption(self.form, "reason")
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

    def return_button(self) -> QPushButton:
        button = _button("return_to_draft", _tr("Send back to &draft"), "reverse",
                         _tr("Unfreeze the figures to change them"))
        button.clicked.connect(self.return_to_draft)
        return button

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
        self.info = QLabel()
        self.info.setObjectName("month_info")
        self.info.setWordWrap(True)
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
        self.summary = QLabel()
        self.summary.setObjectName("review_summary")
        self.summary.setWordWrap(True)
        self.entries_model = RowsModel([
            (_tr("Code"), lambda r: r.employee_code, False),
            (_tr("Name"), lambda r: r.employee_name, False),
            (_tr("Days paid"), lambda r: f"{_days(r.days_paid)} / {r.days_in_month}", True),
            (_tr("Unpaid leave"), lambda r: _days(r.lop_days) if r.lop_days else "", True),
            (_tr("Gross"), lambda r: format_money(r.gross, locale), True),
            (_tr("Deductions"), lambda r: format_money(r.deductions, locale), True),
            (_tr("Net pay"), lambda r: format_money(r.net, locale), True),
            (_tr("Reimbursed"), lambda r: _money(r.reimbursements, locale)
             if r.reimbursements else "", True),
        ], self)
        self.entries = rows_table(self.entries_model)
        self.entries.setObjectName("run_entries")
        _fit_columns(self.entries, 1, {0: 90, 2: 90, 3: 100, 4: 120, 5: 110, 6: 120, 7: 100})
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
        _fit_columns(self.lines, 0, {1: 120, 2: 120})
        self.adjustments = QListWidget()
        self.adjustments.setObjectName("adjustments")
        self.leave_button = _button("unpaid_leave", _tr("Unpaid &leave…"), "edit",
                                    _tr("Days without pay this month (Enter on a row)"))
        self.leave_button.clicked.connect(self.unpaid_leave)
        self.adjust_button = _button("add_adjustment", _tr("&One-off line…"), "new",
                                     _tr("A bonus, overtime, a recovery this month only"))
        self.adjust_button.clicked.connect(self.add_adjustment)
        self.remove_button = _button("remove_adjustment", _tr("&Remove one-off"), "close")
        self.remove_button.clicked.connect(self.remove_adjustment)
        self.recompute_button = _button("recompute", _tr("Re&compute"), "refresh",
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
        self.entry_caption = QLabel()
        self.entry_caption.setStyleSheet("font-weight: bold;")
        left.addWidget(self.entry_caption)
        left.addWidget(self.lines, 1)
        middle = QVBoxLayout()
        caption = QLabel(_tr("One-off lines this month"))
        caption.setStyleSheet("font-weight: bold;")
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
        keep = self.current_entry()
        self.summary.setText(_totals_text(detail.totals, self.env.locale))
        self.entries_model.set_rows(detail.entries)
        row = 0
        if keep is not None:
            for i, e in enumerate(detail.entries):
                if e.employee_id == keep.employee_id:
                    row = i
        if detail.entries:
            self.entries.selectRow(row)
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
        index = self.entries.currentIndex()
        return self.entries_model.row_at(index.row()) if index.isValid() else None

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
        self.cards = {key: Card(caption) for key, caption in (
            ("employees", _tr("Employees")), ("gross", _tr("Gross pay")),
            ("deductions", _tr("Deductions")), ("net", _tr("Net pay to transfer")))}
        row = QHBoxLayout()
        for card in self.cards.values():
            row.addWidget(card)
        self.state = QLabel()
        self.state.setObjectName("approval_state")
        self.state.setWordWrap(True)
        self.who = QLabel()
        self.who.setObjectName("who_may")
        self.who.setWordWrap(True)
        self.back_to_draft = self.return_button()
        bar = QHBoxLayout()
        bar.addWidget(self.back_to_draft)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.state)
        layout.addWidget(self.who)
        layout.addLayout(bar)
        layout.addStretch(1)
        layout.addWidget(self.note)

    def refresh(self) -> None:
        totals = self.totals
        if totals is None:
            return
        locale = self.env.locale
        self.cards["employees"].set(str(totals.employee_count), _tr(totals.period_label))
        self.cards["gross"].set(format_money(totals.gross, locale))
        self.cards["deductions"].set(format_money(totals.deductions, locale))
        self.cards["net"].set(format_money(totals.net, locale),
                              _tr("Paid on {date}").format(date=_date(totals.pay_date, locale)))
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
        self.summary = QLabel()
        self.summary.setObjectName("post_summary")
        self.summary.setWordWrap(True)
        self.cards = {key: Card(caption) for key, caption in (
            ("gross", _tr("Salary expense")), ("deductions", _tr("Deductions payable")),
            ("net", _tr("Salaries payable")))}
        row = QHBoxLayout()
        for card in self.cards.values():
            row.addWidget(card)
        self.who = QLabel()
        self.who.setObjectName("who_may")
        self.who.setWordWrap(True)
        self.back_to_draft = self.return_button()
        bar = QHBoxLayout()
        bar.addWidget(self.back_to_draft)
        bar.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.who)
        layout.addLayout(bar)
        layout.addStretch(1)
        layout.addWidget(self.note)

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
        _fit_columns(self.table, 1, {0: 100, 2: 150, 3: 220})
        self.table.doubleClicked.connect(lambda _i: self.preview())
        self.preview_button = _button("preview_payslip", _tr("Pre&view…"), "pdf",
                                      _tr("Preview, print or save the payslip as PDF"))
        self.preview_button.clicked.connect(lambda: self.preview())
        self.folder_button = _button("write_payslips", _tr("Write all to a &folder…"), "save",
                                     _tr("One PDF per employee"))
        self.folder_button.clicked.connect(self.choose_folder)
        self.csv_button = _button("register_csv", _tr("Register (&CSV)…"), "journal")
        self.csv_button.clicked.connect(lambda: self.choose_export("register_csv"))
        self.xlsx_button = _button("register_xlsx", _tr("Register (E&xcel)…"), "journal")
        self.xlsx_button.clicked.connect(lambda: self.choose_export("register_xlsx"))
        self.bank_button = _button("bank_list", _tr("&Bank transfer list…"), "balance")
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
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

    def preview(self, row: Any = None) -> Task | None:
        row = row or self.current()
        if row is None:
            return None
        from erp_desktop.services import payroll

        def show(data: bytes) -> None:
            from erp_desktop.ui import pdf_preview

            dialog = pdf_preview.PdfPreviewDialog(
                data, title=_tr("Payslip of {name}, {month}").format(
                    name=row.employee_name, month=_tr(row.period_label)),
                file_name=payroll.payslip_file_name(row), parent=self)
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.open()
            self.wiz.last_dialog = dialog

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
        self.state = QLabel()
        self.state.setObjectName("paid_state")
        self.state.setWordWrap(True)
        self.paid_on = QDateEdit()
        self.paid_on.setObjectName("paid_on")
        self.paid_on.setCalendarPopup(True)
        self.paid_on.setDisplayFormat("d MMM yyyy")
        self.paid_from = QComboBox()
        self.paid_from.setObjectName("paid_from")
        self.paid_from.addItem(_tr("Bank"), "bank")
        self.paid_from.addItem(_tr("Cash"), "cash")
        self.paid_button = _button("mark_paid", _tr("&Mark paid"), "enable")
        self.paid_button.clicked.connect(self.mark_paid)
        self.reverse_button = _button("reverse_run", _tr("&Reverse…"), "reverse",
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
        self.who = QLabel()
        self.who.setObjectName("who_may")
        self.who.setWordWrap(True)
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
                date=_date(totals.paid_on, locale)))
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
        self.run_label = QLabel()
        self.run_label.setObjectName("run_label")
        self.run_label.setWordWrap(True)
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
        self.run_button = _button("run_payroll", _tr("&Run payroll…"), "new",
                                  _tr("Compute a month's payroll (Ctrl+N)"))
        self.run_button.clicked.connect(lambda: self.run_payroll())
        self.run_button.setVisible(self.may_manage)
        self.open_button = _button("open_run", _tr("&Open…"), "edit",
                                   _tr("Continue with the month selected (Enter)"))
        self.open_button.clicked.connect(lambda: self.open_run())
        self.reverse_button = _button("reverse_run", _tr("Re&verse…"), "reverse",
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
            (_tr("Pay date"), lambda r: _date(r.paid_on or r.pay_date, locale), False),
        ], self)
        self.table = rows_table(self.model)
        self.table.setObjectName("runs")
        _fit_columns(self.table, 1, {0: 150, 2: 100, 3: 100, 4: 140, 5: 130, 6: 140, 7: 120})
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
                                 on_error=lambda e: self.message.say(_message(e), "error"))

    def _listed(self, runs: list[Any]) -> None:
        keep = self.current()
        self.loads += 1
        self.runs = runs
        self.model.set_rows(runs)
        row = 0
        for i, r in enumerate(runs):
            if keep is not None and r.id == keep.id:
                row = i
        if runs:
            self.table.selectRow(row)
        self._enable()

    def current(self) -> Any | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

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
                                 on_error=lambda e: self.message.say(_message(e), "error"))

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


# =================================================================== expense claims


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
        _right_headers(self.table, [2])
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
        self.add_button = _button("add_line", _tr("&Add line"), "new",
                                  _tr("Add a line (Ctrl+Enter)"))
        self.add_button.clicked.connect(lambda: self.add_row(focus=True))
        self.remove_button = _button("remove_line", _tr("Remove line"), "close")
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
        self.total.setText(_tr("Total {amount}").format(amount=_amount_text(total,
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
                                    _amount_text(ln.amount.amount, env.locale),
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
        _top_caption(self.form, "comment")

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
        self.title = heading(_tr("No claim selected"), 1.2)
        self.title.setObjectName("claim_title")
        self.title.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setObjectName("claim_facts")
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.facts.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.lines_model = RowsModel([
            (_tr("Date"), lambda ln: _date(ln.expense_date, locale) if ln.expense_date else "",
             False),
            (_tr("Category"), lambda ln: ln.category_label, False),
            (_tr("What for"), lambda ln: ln.description or "", False),
            (_tr("Amount"), lambda ln: format_money(ln.amount, locale), True),
        ], self)
        self.lines = rows_table(self.lines_model)
        self.lines.setObjectName("claim_detail_lines")
        _fit_columns(self.lines, 2, {0: 100, 1: 130, 3: 100})
        self.status = StatusLine("receipts_status")
        self.receipts = AttachmentList("receipts", lambda attachment_id: claims.get_receipt(
            env.ctx, attachment_id), self.status.say, locale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.title)
        layout.addWidget(self.facts)
        layout.addWidget(self.lines, 3)
        caption = QLabel(_tr("Receipts"))
        caption.setStyleSheet("font-weight: bold;")
        layout.addWidget(caption)
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
        self.facts.setText("<table cellspacing='0' cellpadding='2'>" + "".join(
            f"<tr><td style='color: palette(placeholder-text); padding-right: 12px'>"
            f"{e(label)}</td><td>{text}</td></tr>" for label, text in rows) + "</table>")
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
        _fit_columns(self.table, 2 if self.with_employee else 1, widths)
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
                                 on_error=lambda e: self.message.say(_message(e), "error"))

    def _listed(self, rows: list[Any]) -> None:
        keep = self.current()
        self.loads += 1
        self.claims = rows
        self.model.set_rows(rows)
        row = 0
        for i, c in enumerate(rows):
            if keep is not None and c.id == keep.id:
                row = i
        if rows:
            self.table.selectRow(row)
        else:
            self.panel.show_claim(None)
        self._selected()
        self.commands_changed.emit()

    def current(self) -> Any | None:
        index = self.table.currentIndex()
        return self.model.row_at(index.row()) if index.isValid() else None

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
                                      on_error=lambda e: self.message.say(_message(e), "error"))

    def _shown(self, detail: Any) -> None:
        self.task = None
        self.panel.show_claim(detail)
        self.enable(detail)

    def enable(self, detail: Any) -> None:
        """Enable the buttons that fit the claim shown."""

    def step(self, fn: Callable[..., Any], *args: Any, done_text: str,
             **kwargs: Any) -> Task | None:
        """`fn(ctx, claim_id, *args)` on the claim shown, then show it as it is now."""
        detail = self.panel.detail
        if detail is None:
            return None
        ctx = self.env.ctx

        def work() -> Any:
            return fn(ctx, detail.id, *args, **kwargs)

        def done(result: Any) -> None:
            self.message.say(done_text.format(name=result.number or result.title))
            self._shown(result)
            self.reload()

        return run_in_background(work, parent=self, name=getattr(fn, "__name__", "claim"),
                                 on_done=done,
                                 on_error=lambda e: self.message.say(_message(e), "error"))

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
        self.new_button = _button("new_claim", _tr("&New claim…"), "new",
                                  _tr("A new expense claim (Ctrl+N)"))
        self.new_button.clicked.connect(lambda: self.new_claim())
        self.edit_button = _button("edit_claim", _tr("&Edit…"), "edit")
        self.edit_button.clicked.connect(lambda: self.edit_claim())
        self.receipt_button = _button("attach_receipt", _tr("Attach &receipt…"), "pdf",
                                      _tr("A photo or PDF of the receipt, at most 10 MB"))
        self.receipt_button.clicked.connect(self.attach_receipt)
        self.submit_button = _button("submit_claim", _tr("&Submit"), "enable",
                                     _tr("Send the claim for approval"))
        self.submit_button.clicked.connect(lambda: self.submit())
        self.reopen_button = _button("reopen_claim", _tr("Re&open"), "reverse",
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

        detail = self.panel.detail
        if detail is None:
            return None
        return self.step(claims.submit_claim, version=detail.version,
                         done_text=_tr("Claim {name} submitted for approval."))

    def reopen(self) -> Task | None:
        from erp_desktop.services import claims

        return self.step(claims.reopen_claim, done_text=_tr("Claim {name} is a draft again."))


class ApproveClaimsTab(_ClaimsTab):
    """Claims to decide (HR, line managers) and to pay back (the accountant)."""

    with_employee = True

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(env, parent)
        self.may_approve = env.can("hr.claims.approve")
        self.may_reimburse = env.can("hr.claims.reimburse")
        self.show_box = QComboBox()
        self.show_box.setObjectName("claims_filter")
        if self.may_approve:
            self.show_box.addItem(_tr("Waiting for approval"), "submitted")
        self.show_box.addItem(_tr("Approved, to pay back"), "approved")
        self.show_box.addItem(_tr("All claims"), "")
        self.show_box.currentIndexChanged.connect(lambda _i: self.reload())
        self.approve_button = _button("approve_claim", _tr("&Approve…"), "enable")
        self.approve_button.clicked.connect(lambda: self.decide(True))
        self.reject_button = _button("reject_claim", _tr("Re&ject…"), "disable")
        self.reject_button.clicked.connect(lambda: self.decide(False))
        self.reimburse_button = _button("reimburse_claim", _tr("&Pay back…"), "balance",
                                        _tr("Pay the claim back now from the bank or cash"))
        self.reimburse_button.clicked.connect(lambda: self.reimburse())
        self.payroll_button = _button("claim_to_payroll", _tr("With next &salary"), "hr",
                                      _tr("Pay the claim back with the next payroll"))
        self.payroll_button.clicked.connect(lambda: self.to_payroll())
        show_label = QLabel(_tr("S&how:"))
        show_label.setBuddy(self.show_box)
        self.bar.addWidget(show_label)
        self.bar.addWidget(self.show_box)
        self.bar.addSpacing(12)
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

        detail = self.panel.detail
        if detail is None:
            return None
        return self.step(claims.send_claim_to_payroll, version=detail.version,
                         done_text=_tr("Claim {name} will be paid with the next salary."))


# =================================================================== the area page


class HrPage(CommandPage):
    """The HR area: a tab per job the role allows (see the module docstring)."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        layout = page_frame(self, _tr("HR"), _tr(
            "Employees and their documents, salaries, the monthly payroll with payslips, "
            "and expense claims."))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("hr_tabs")
        self.tabs.setDocumentMode(True)
        self.employees: EmployeesTab | None = None
        self.salaries: SalaryTab | None = None
        self.payroll: PayrollTab | None = None
        self.my_claims: MyClaimsTab | None = None
        self.approve_claims: ApproveClaimsTab | None = None
        if env.can("hr.employees.view"):
            self.employees = EmployeesTab(env)
            self.tabs.addTab(self.employees, icon("hr"), _tr("Employees"))
        if env.can("hr.payroll.view"):
            self.salaries = SalaryTab(env)
            self.tabs.addTab(self.salaries, icon("balance"), _tr("Salaries"))
            self.payroll = PayrollTab(env)
            self.tabs.addTab(self.payroll, icon("journal"), _tr("Payroll"))
        if env.can("hr.claims.own"):
            self.my_claims = MyClaimsTab(env)
            self.tabs.addTab(self.my_claims, icon("pdf"), _tr("My claims"))
        if env.can("hr.claims.approve") or env.can("hr.claims.reimburse"):
            self.approve_claims = ApproveClaimsTab(env)
            self.tabs.addTab(self.approve_claims, icon("verify"), _tr("Claims to approve"))
        for i in range(self.tabs.count()):
            tab = self.tabs.widget(i)
            if isinstance(tab, CommandPage):
                tab.commands_changed.connect(self.commands_changed)
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)
        if self.tabs.count() == 0:
            layout.addWidget(hint(_tr("Your role does not include any HR work.")))

    def _tab_changed(self, _index: int) -> None:
        current = self.tabs.currentWidget()
        if isinstance(current, CommandPage):
            current.on_shown()
        self.commands_changed.emit()

    def on_shown(self) -> None:
        self._tab_changed(self.tabs.currentIndex())

    def delegate_to(self) -> CommandPage | None:
        current = self.tabs.currentWidget()
        return current if isinstance(current, CommandPage) else None

    def tab_names(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    def show_tab(self, name: str) -> QWidget:
        widget = getattr(self, name)
        if widget is None:
            raise KeyError(name)
        self.tabs.setCurrentWidget(widget)
        return widget
