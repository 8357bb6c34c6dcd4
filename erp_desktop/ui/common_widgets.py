"""Widgets and small helpers shared by the HR, payroll, claims and self-service pages.

Formatting for tables (money, dates, days, sizes, amounts to edit), a named
push button, column fitting, a one-line status message, "who may do this"
texts from the default roles, and attachments (receipts, employee documents):
read a file to upload and save a copy on the worker, open one inside the app
(PDF preview or an image view, never a temporary file: they are personal data
that must stay in the encrypted file), and a table of them with Open and Save
a copy. `TabbedAreaPage` is an area page made of tabs that hands the common
commands to the tab on top.
"""

from __future__ import annotations

import html
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDir, Qt
from PySide6.QtGui import QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTableView,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.domain.payroll_calc import PayPeriod
from erp_desktop.services.authz import DEFAULT_ROLES, PERMISSIONS
from erp_desktop.services.listing import format_date
from erp_desktop.ui.icons import icon
from erp_desktop.ui.shortcuts import CommandPage
from erp_desktop.ui.widgets import RowsModel, heading, message_style, page_frame, rows_table
from erp_desktop.ui.worker import Task, run_in_background

ATTACH_FILTER = "PDF and images (*.pdf *.png *.jpg *.jpeg *.gif *.webp *.tif *.tiff);;All files (*)"
DOCUMENT_KINDS = (("contract", "Contract"), ("id_scan", "ID scan"),
                  ("certificate", "Certificate"), ("other", "Other"))


def _tr(text: str) -> str:
    return QCoreApplication.translate("common_widgets", text)


def money_text(value: Money | None, locale: str) -> str:
    return "" if value is None else format_money(value, locale)


def date_text(value: date | None, locale: str) -> str:
    return "" if value is None else format_date(value, locale)


def days_text(value: Decimal | int) -> str:
    """30 rather than 30.000; a half day keeps one place (1.5)."""
    number = Decimal(value)
    if number == number.to_integral_value():
        return str(int(number))
    return str(number.normalize())


def size_text(n: int) -> str:
    if n < 1024:
        return _tr("{n} bytes").format(n=n)
    if n < 1024 * 1024:
        return _tr("{n} KB").format(n=round(n / 1024))
    return _tr("{n} MB").format(n=f"{n / (1024 * 1024):.1f}")


def amount_text(value: Decimal, locale: str) -> str:
    """An amount to edit, grouped as the locale writes it: 1,23,456.50 or 123.456,50."""
    from babel import Locale
    from babel.numbers import format_decimal

    pattern = Locale.parse(locale).decimal_formats[None].pattern.split(";")[0]
    return format_decimal(value, format=pattern.split(".")[0] + ".00", locale=locale)


def top_caption(form: Any, name: str) -> None:
    """A multi-line field's caption level with its first line, not its middle."""
    f = form.fields[name]
    caption = form.layout.labelForField(f.row)
    if isinstance(caption, QLabel):
        caption.setFixedHeight(QLineEdit().sizeHint().height())


def error_text(exc: BaseException) -> str:
    return getattr(exc, "message", None) or str(exc)


def button(name: str, text: str, icon_name: str | None = None, tip: str = "") -> QPushButton:
    button = QPushButton(icon(icon_name), text) if icon_name else QPushButton(text)
    button.setObjectName(name)
    if tip:
        button.setToolTip(tip)
    return button


def fit_columns(view: QTableView, stretch: int, widths: dict[int, int]) -> None:
    header = view.horizontalHeader()
    for column, width in widths.items():
        header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(column, width)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def right_headers(view: QTableWidget, columns: Sequence[int]) -> None:
    for column in columns:
        item = view.horizontalHeaderItem(column)
        if item is not None:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def wrapped_label(name: str, text: str = "") -> QLabel:
    """A named label that wraps its text (states, notes, summaries)."""
    widget = QLabel(text)
    widget.setObjectName(name)
    widget.setWordWrap(True)
    return widget


def bold_caption(text: str) -> QLabel:
    """A bold caption over a table."""
    widget = QLabel(text)
    widget.setStyleSheet("font-weight: bold;")
    return widget


def panel_title(text: str, name: str) -> QLabel:
    """The heading of a detail panel, wrapping a long name."""
    widget = heading(text, 1.2)
    widget.setObjectName(name)
    widget.setWordWrap(True)
    return widget


def facts_label(name: str) -> QLabel:
    """A label for `facts_html`: rich text, selectable, wrapping."""
    widget = wrapped_label(name)
    widget.setTextFormat(Qt.TextFormat.RichText)
    widget.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return widget


def facts_html(rows: Sequence[tuple[str, str]]) -> str:
    """(caption, HTML text) rows as a two-column table, the captions greyed."""
    return "<table cellspacing='0' cellpadding='2'>" + "".join(
        f"<tr><td style='color: palette(placeholder-text); padding-right: 12px'>"
        f"{html.escape(name)}</td><td>{text}</td></tr>" for name, text in rows) + "</table>"


def current_row(table: QTableView) -> Any | None:
    """The row object under the cursor of a `rows_table`, or None."""
    index = table.currentIndex()
    model = table.model()
    return model.row_at(index.row()) if index.isValid() and isinstance(model, RowsModel) \
        else None


def set_rows_keeping(table: QTableView, model: RowsModel, rows: Sequence[Any],
                     same: Callable[[Any, Any], bool] = lambda a, b: a.id == b.id) -> None:
    """Show `rows`, keeping the row that was selected (by `same`) or else the first."""
    keep = current_row(table)
    model.set_rows(rows)
    row = 0
    if keep is not None:
        for i, r in enumerate(rows):
            if same(r, keep):
                row = i
    if rows:
        table.selectRow(row)


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



# ----------------------------------------------------------------- attachments


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
        save = button("save_copy", _tr("Save a copy…"), "save")
        save.clicked.connect(self.save_as)
        close = button("close", _tr("Close"))
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
            on_error=lambda exc: self.status.say(error_text(exc), "error"))


def preview_pdf(parent: QWidget, data: bytes, title: str, file_name: str) -> QDialog:
    """Open a PDF in the preview (Save as PDF, Print); it deletes itself when closed."""
    from erp_desktop.ui import pdf_preview

    dialog: QDialog = pdf_preview.PdfPreviewDialog(data, title=title, file_name=file_name,
                                                   parent=parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog


def show_attachment(parent: QWidget, file: Any) -> QDialog:
    """Open an attachment inside the app: PDFs in the preview, images in a viewer."""
    if file.content_type == "application/pdf":
        return preview_pdf(parent, file.data, file.filename, file.filename)
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
            (_tr("Size"), lambda r: size_text(r.size_bytes), True),
            (_tr("Added"), lambda r: date_text(r.added_at.date(), self.locale), False),
        ], self)
        self.table = rows_table(self.model)
        self.table.setObjectName(name)
        fit_columns(self.table, 0, {1: 80, 2: 90, 3: 100})
        self.table.doubleClicked.connect(lambda _i: self.open_current())
        self.open_button = button(f"{name}_open", _tr("Open"), "pdf",
                                  _tr("Show the file (Enter)"))
        self.open_button.clicked.connect(self.open_current)
        self.save_button = button(f"{name}_save", _tr("Save a copy…"), "save")
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
        return current_row(self.table)

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
                                 on_error=lambda e: self.say(error_text(e), "error"))

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
                                 on_error=lambda e: self.say(error_text(e), "error"))


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




class TabbedAreaPage(CommandPage):
    """An area page of tabs (each a `CommandPage` or a plain widget) under a title.

    The common commands go to the tab on top; a tab coming on top is told
    (`on_shown`). Tabs are kept as attributes by name, so `show_tab(name)`
    brings one to the top.
    """

    def __init__(self, title: str, subtitle: str, name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frame = page_frame(self, title, subtitle)
        self.tabs = QTabWidget()
        self.tabs.setObjectName(name)
        self.tabs.setDocumentMode(True)
        self.frame.addWidget(self.tabs, 1)

    def add_tab(self, name: str, widget: QWidget, icon_name: str, text: str) -> None:
        setattr(self, name, widget)
        self.tabs.addTab(widget, icon(icon_name), text)
        if self.tabs.count() == 1:  # after the first tab, which is on top without a show
            self.tabs.currentChanged.connect(self._tab_changed)
        if isinstance(widget, CommandPage):
            widget.commands_changed.connect(self.commands_changed)

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
        widget = getattr(self, name, None)
        if widget is None:
            raise KeyError(name)
        self.tabs.setCurrentWidget(widget)
        return widget
