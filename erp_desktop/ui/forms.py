"""Forms that check as you type and show a service's refusal where it belongs.

`Form` builds the fields of a form into a `QFormLayout` (text, password,
decimal, integer, date, choice, check box, or any widget), each with a red
message line under it. While a person types, a field checks what the UI can
know without the database: required, a number where a number belongs (read
in the company's locale, never as a float), within bounds, a custom rule. A
field that was never touched does not complain until the form is submitted.

Business rules stay in the services: `Form.submit(fn, ...)` runs the use case
on the worker, and its refusal is shown by `show_error`: a `UserError` with a
`field` the form knows (or an alias of it: `alias("lines", "grid")`) goes
under that field, which takes the focus; any other message goes into the
banner at the top. A `Conflict` (someone else changed the record since it was
read) is shown in the banner with a Reload button (`reload_requested`): the
form never retries, so the other person's change is never overwritten.

`FormDialog` is the usual frame: title, a `Form`, Save (Ctrl+S) and Cancel
(Esc). Tab order follows the order the fields were added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from PySide6.QtCore import QDate, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QSpacerItem,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import Conflict, UserError
from erp_desktop.ui.icons import icon
from erp_desktop.ui.theme import tones
from erp_desktop.ui.worker import Task, run_in_background

Check = Callable[[Any], str | None]  # a custom rule: the message, or None when fine


def parse_number(text: str, locale: str = "en_IN") -> Decimal:
    """A number as typed in `locale` ("1,23,456.50", "1.234,50"); ValueError if not one."""
    text = (text or "").strip().replace(" ", "").replace("\u00a0", "")
    if not text:
        raise ValueError("empty")
    from babel.numbers import NumberFormatError
    from babel.numbers import parse_decimal as babel_parse

    try:
        value = babel_parse(text, locale=locale, strict=False)
    except (NumberFormatError, InvalidOperation, ValueError):
        try:
            value = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def find_data(combo: QComboBox, value: Any) -> int:
    """The index of the item whose data equals `value`, or -1.

    `QComboBox.findData` compares the wrapped Python objects by identity, so an
    equal UUID or date made elsewhere is not found; this compares with ==.
    """
    for index in range(combo.count()):
        if combo.itemData(index) == value:
            return index
    return -1


@dataclass
class Field:
    """One field of a `Form`: its widget, message line and rules."""

    name: str
    label: str
    widget: QWidget
    error: QLabel
    kind: str  # text | password | multiline | decimal | integer | date | choice | check | widget
    required: bool = False
    places: int | None = None  # decimals allowed
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    checks: list[Check] = field(default_factory=list)
    touched: bool = False
    row: QWidget | None = None


class Form(QObject):
    """See the module docstring. Build it, then put `form.widget` in a layout."""

    changed = Signal()  # any field changed
    validity_changed = Signal(bool)
    reload_requested = Signal()  # the Reload button of a version conflict
    busy_changed = Signal(bool)

    def __init__(self, parent: QWidget, *, locale: str = "en_IN") -> None:
        super().__init__(parent)
        self.locale = locale
        self.fields: dict[str, Field] = {}
        self._aliases: dict[str, str] = {}
        self._valid: bool | None = None
        self.task: Task | None = None
        self._order: list[QWidget] = []
        self._readers: dict[str, Callable[[], Any] | None] = {}

        self.widget = QWidget(parent)
        self.widget.setObjectName("form")
        outer = QVBoxLayout(self.widget)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(10)
        self.banner = QFrame()
        self.banner.setObjectName("banner")
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_icon = QLabel()
        self.banner_text = QLabel()
        self.banner_text.setObjectName("banner_text")
        self.banner_text.setWordWrap(True)
        self.banner_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload_button = QPushButton(icon("refresh"), self.tr("Reload"))
        self.reload_button.setObjectName("reload")
        self.reload_button.setToolTip(self.tr("Read the record again, with the other change"))
        self.reload_button.clicked.connect(self._reload_clicked)
        row = QHBoxLayout(self.banner)
        row.setContentsMargins(10, 8, 10, 8)
        row.addWidget(self.banner_icon, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.reload_button, 0, Qt.AlignmentFlag.AlignTop)
        self.banner.setVisible(False)
        outer.addWidget(self.banner)
        self.layout = QFormLayout()
        self.layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        self.layout.setVerticalSpacing(6)
        outer.addLayout(self.layout)
        # Spare height goes below the fields, unless a stretching field takes it.
        self._tail: QSpacerItem | None = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum,
                                                     QSizePolicy.Policy.Expanding)
        outer.addItem(self._tail)

    # ------------------------------------------------------------ building

    def _add(self, name: str, label: str, widget: QWidget, kind: str, *, required: bool = False,
             hint: str | None = None, checks: Sequence[Check] = (), stretch: bool = False,
             **extra: Any) -> Field:
        if name in self.fields:
            raise ValueError(f"field {name} added twice")
        widget.setObjectName(name)
        error = QLabel()
        error.setObjectName(f"{name}_error")
        error.setWordWrap(True)
        error.setVisible(False)
        error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        cell = QWidget()
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(widget)
        if hint:
            note = QLabel(hint)
            note.setObjectName(f"{name}_hint")
            note.setWordWrap(True)
            note.setStyleSheet("color: palette(placeholder-text);")
            box.addWidget(note)
        box.addWidget(error)
        shown = label + (" *" if required and label else "")
        if stretch:  # below the other fields, taking the spare height (a grid, a tree)
            outer = self.widget.layout()
            assert isinstance(outer, QVBoxLayout)
            if self._tail is not None:
                outer.removeItem(self._tail)
                self._tail = None
            if shown:
                caption = QLabel(shown)
                caption.setBuddy(widget)
                outer.addWidget(caption)
            outer.addWidget(cell, 1)
        else:
            self.layout.addRow(shown, cell)
        caption = None if stretch else self.layout.labelForField(cell)
        if isinstance(caption, QLabel):
            caption.setBuddy(widget)
            # As tall as its field and at the top of the row: level with the field even
            # when a message line opens below it.
            # A field of fixed height (a multi-line text) reports its default size hint,
            # far taller than itself: take the smaller, and put its caption at the top.
            field_height = min(widget.sizeHint().height(), widget.maximumHeight())
            caption.setFixedHeight(max(field_height, caption.sizeHint().height()))
            tall = kind == "multiline"
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | (
                Qt.AlignmentFlag.AlignTop if tall else Qt.AlignmentFlag.AlignVCenter))
            if tall:
                caption.setContentsMargins(0, 4, 0, 0)
        f = Field(name, label, widget, error, kind, required=required, checks=list(checks),
                  row=cell, **extra)
        self.fields[name] = f
        # chained within one window: a form split over tabs starts each tab's page on
        # its own (Tab does not cross tab pages; Qt refuses the pair with a warning)
        if self._order and self._order[-1].window() is widget.window():
            QWidget.setTabOrder(self._order[-1], widget)
        self._order.append(widget)
        return f

    def _line(self, text: str, placeholder: str, max_length: int | None) -> QLineEdit:
        edit = QLineEdit(text)
        if placeholder:
            edit.setPlaceholderText(placeholder)
        if max_length:
            edit.setMaxLength(max_length)
        return edit

    def _watch_line(self, f: Field) -> None:
        edit = f.widget
        assert isinstance(edit, QLineEdit)
        edit.textEdited.connect(lambda _t: self._edited(f))
        edit.textChanged.connect(lambda _t: self._changed(f))
        edit.editingFinished.connect(lambda: self._edited(f))

    def add_text(self, name: str, label: str, *, value: str = "", required: bool = False,
                 max_length: int | None = None, placeholder: str = "", hint: str | None = None,
                 password: bool = False, checks: Sequence[Check] = ()) -> QLineEdit:
        edit = self._line(value, placeholder, max_length)
        if password:
            edit.setEchoMode(QLineEdit.EchoMode.Password)
        f = self._add(name, label, edit, "password" if password else "text", required=required,
                      hint=hint, checks=checks)
        self._watch_line(f)
        return edit

    def add_multiline(self, name: str, label: str, *, value: str = "", required: bool = False,
                      placeholder: str = "", lines: int = 3) -> QPlainTextEdit:
        edit = QPlainTextEdit(value)
        edit.setPlaceholderText(placeholder)
        edit.setTabChangesFocus(True)  # Tab moves on, as in every other field
        edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 16)
        f = self._add(name, label, edit, "multiline", required=required)
        edit.textChanged.connect(lambda: (self._edited(f), self._changed(f)))
        return edit

    def add_decimal(self, name: str, label: str, *, value: Decimal | str | None = None,
                    required: bool = False, places: int = 2, minimum: Decimal | None = None,
                    maximum: Decimal | None = None, placeholder: str = "",
                    checks: Sequence[Check] = ()) -> QLineEdit:
        edit = self._line("" if value is None else str(value), placeholder, 32)
        edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        f = self._add(name, label, edit, "decimal", required=required, checks=checks,
                      places=places, minimum=minimum, maximum=maximum)
        self._watch_line(f)
        return edit

    def add_integer(self, name: str, label: str, *, value: int | None = None,
                    required: bool = False, minimum: int | None = None,
                    maximum: int | None = None, checks: Sequence[Check] = ()) -> QLineEdit:
        edit = self._line("" if value is None else str(value), "", 18)
        edit.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        f = self._add(name, label, edit, "integer", required=required, checks=checks, places=0,
                      minimum=None if minimum is None else Decimal(minimum),
                      maximum=None if maximum is None else Decimal(maximum))
        self._watch_line(f)
        return edit

    def add_date(self, name: str, label: str, *, value: date | None = None,
                 checks: Sequence[Check] = ()) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("d MMM yyyy")  # unambiguous in every locale
        edit.setDate(QDate(value) if value is not None else QDate.currentDate())
        f = self._add(name, label, edit, "date", checks=checks)
        edit.dateChanged.connect(lambda _d: (self._edited(f), self._changed(f)))
        return edit

    def add_choice(self, name: str, label: str, items: Sequence[tuple[Any, str]], *,
                   value: Any = None, editable: bool = False, required: bool = False,
                   checks: Sequence[Check] = ()) -> QComboBox:
        combo = QComboBox()
        combo.setEditable(editable)
        for data, text in items:
            combo.addItem(text, data)
        if value is not None:
            index = find_data(combo, value)
            if index >= 0:
                combo.setCurrentIndex(index)
        f = self._add(name, label, combo, "choice", required=required, checks=checks)
        combo.currentIndexChanged.connect(lambda _i: (self._edited(f), self._changed(f)))
        if editable:
            combo.editTextChanged.connect(lambda _t: (self._edited(f), self._changed(f)))
        return combo

    def add_check(self, name: str, text: str, *, value: bool = False,
                  checks: Sequence[Check] = ()) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(value)
        f = self._add(name, "", box, "check", checks=checks)
        box.toggled.connect(lambda _on: (self._edited(f), self._changed(f)))
        return box

    def add_widget(self, name: str, label: str, widget: QWidget, *,
                   value: Callable[[], Any] | None = None,
                   checks: Sequence[Check] = (), stretch: bool = False) -> QWidget:
        """Any widget (a grid of lines, a tree of checkboxes); `value` reads it.

        Call `field_changed(name)` when it changes, so its rules run again. With
        `stretch`, it goes below the other fields and takes the spare height.
        """
        self._add(name, label, widget, "widget", checks=checks, stretch=stretch)
        self._readers[name] = value
        return widget

    def alias(self, service_field: str, form_field: str) -> None:
        """Show a service's refusal about `service_field` under `form_field`."""
        self._aliases[service_field] = form_field

    def field_changed(self, name: str) -> None:
        f = self.fields[name]
        self._edited(f)
        self._changed(f)

    # ------------------------------------------------------------ values

    def raw(self, name: str) -> Any:
        f = self.fields[name]
        w = f.widget
        if isinstance(w, QLineEdit):
            return w.text()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        if isinstance(w, QDateEdit):
            return w.date().toPython()
        if isinstance(w, QComboBox):
            if w.isEditable():
                text = w.currentText()
                index = w.findText(text)
                return w.itemData(index) if index >= 0 else text
            return w.currentData()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        reader = self._readers.get(name)
        return reader() if reader is not None else None

    def value(self, name: str) -> Any:
        """The field's value, parsed: Decimal, int, date, str (stripped), bool."""
        f = self.fields[name]
        raw = self.raw(name)
        if f.kind in ("decimal", "integer"):
            if not str(raw).strip():
                return None
            number = parse_number(str(raw), self.locale)
            return int(number) if f.kind == "integer" else number
        if f.kind in ("text", "multiline"):
            return str(raw).strip()
        return raw

    def values(self) -> dict[str, Any]:
        return {name: self.value(name) for name in self.fields}

    def set_value(self, name: str, value: Any) -> None:
        w = self.fields[name].widget
        if isinstance(w, QLineEdit):
            w.setText("" if value is None else str(value))
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText("" if value is None else str(value))
        elif isinstance(w, QDateEdit) and value is not None:
            w.setDate(QDate(value))
        elif isinstance(w, QComboBox):
            index = find_data(w, value)
            if index >= 0:
                w.setCurrentIndex(index)
            elif w.isEditable():
                w.setEditText("" if value is None else str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))

    def set_values(self, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in self.fields:
                self.set_value(name, value)
        for f in self.fields.values():
            f.touched = False
        self.clear_errors()

    # ------------------------------------------------------------ checking

    def problem(self, name: str) -> str | None:
        """What is wrong with the field now, or None (the UI's own checks only)."""
        f = self.fields[name]
        raw = self.raw(name)
        empty = raw is None or (isinstance(raw, str) and not raw.strip()) or \
            (f.kind == "check" and f.required and not raw)
        if empty:
            if f.required:
                return self.tr("Enter {label}.").format(label=f.label.lower()) if f.label \
                    else self.tr("This is required.")
            return None
        if f.kind in ("decimal", "integer"):
            try:
                number = parse_number(str(raw), self.locale)
            except ValueError:
                return self.tr("Enter a number, such as 1,250.50.") if f.kind == "decimal" \
                    else self.tr("Enter a whole number.")
            if f.kind == "integer" and number != number.to_integral_value():
                return self.tr("Enter a whole number.")
            exponent = number.normalize().as_tuple().exponent
            if f.places is not None and isinstance(exponent, int) and -exponent > f.places:
                return self.tr("Use at most {n} decimal places.").format(n=f.places)
            if f.minimum is not None and number < f.minimum:
                return self.tr("Enter {n} or more.").format(n=f.minimum)
            if f.maximum is not None and number > f.maximum:
                return self.tr("Enter {n} or less.").format(n=f.maximum)
        value = self.value(name)
        for check in f.checks:
            message = check(value)
            if message:
                return message
        return None

    def is_valid(self) -> bool:
        return all(self.problem(n) is None for n in self.fields)

    def validate(self) -> bool:
        """Check every field, show every message, focus the first bad field."""
        first: Field | None = None
        for f in self.fields.values():
            f.touched = True
            message = self.problem(f.name)
            self._show_field(f, message)
            if message and first is None:
                first = f
        if first is not None:
            first.widget.setFocus(Qt.FocusReason.OtherFocusReason)
        self._emit_validity()
        return first is None

    def _edited(self, f: Field) -> None:
        f.touched = True

    def _changed(self, f: Field) -> None:
        message = self.problem(f.name)
        # A bad number shows at once; "required" waits until the field was touched.
        if f.touched or (message and f.kind in ("decimal", "integer")):
            self._show_field(f, message)
        self.changed.emit()
        self._emit_validity()

    def _emit_validity(self) -> None:
        valid = self.is_valid()
        if valid != self._valid:
            self._valid = valid
            self.validity_changed.emit(valid)

    def _show_field(self, f: Field, message: str | None) -> None:
        f.error.setStyleSheet(f"color: {tones().error};")
        f.error.setText(message or "")
        f.error.setVisible(bool(message))
        f.widget.setProperty("erp_invalid", bool(message))
        f.widget.setAccessibleDescription(message or "")
        if message:
            QTimer.singleShot(0, f.error, lambda: _fit_height(f.error))  # (not once deleted)

    def field_error(self, name: str) -> str:
        """The message shown under a field ("" when none)."""
        f = self.fields[name]
        return f.error.text() if f.error.isVisible() or f.error.text() else ""

    # ------------------------------------------------------------ refusals

    def clear_errors(self) -> None:
        for f in self.fields.values():
            self._show_field(f, None)
        self.hide_banner()

    def show_banner(self, text: str, *, kind: str = "error", reload: bool = False) -> None:
        tone = tones()
        color = {"error": tone.error, "success": tone.success, "warning": tone.warning}.get(
            kind, "palette(window-text)")
        self.banner.setStyleSheet(
            f"QFrame#banner {{ border: 1px solid {color}; border-radius: 4px;"
            f" background: {tone.card}; }} QLabel#banner_text {{ color: {color}; }}")
        self.banner_icon.setPixmap(icon("warning" if kind != "success" else "enable",
                                        color).pixmap(20, 20))
        self.banner_text.setText(text)
        self.reload_button.setVisible(reload)
        self.banner.setVisible(True)

    def hide_banner(self) -> None:
        self.banner.setVisible(False)
        self.reload_button.setVisible(False)

    @property
    def banner_message(self) -> str:
        return self.banner_text.text() if self.banner.isVisible() else ""

    def show_error(self, exc: BaseException) -> None:
        """A refusal from a service: under its field, else in the banner; bugs as bugs."""
        if not isinstance(exc, UserError):
            from erp_desktop.ui.errors import show_error

            self.show_banner(self.tr("Something went wrong; nothing was saved."))
            show_error(self.widget, exc)
            return
        if isinstance(exc, Conflict):
            self.show_banner(exc.message, reload=True)
            self.reload_button.setFocus()
            return
        name = self._aliases.get(exc.field or "", exc.field or "")
        f = self.fields.get(name)
        if f is None or not f.widget.isVisibleTo(self.widget.window()):
            self.show_banner(exc.message)
            return
        self._show_field(f, exc.message)
        f.widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def _reload_clicked(self) -> None:
        self.hide_banner()
        self.reload_requested.emit()

    # ------------------------------------------------------------ submitting

    @property
    def busy(self) -> bool:
        return self.task is not None

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_done: Callable[[Any], None] | None = None, validate: bool = True,
               discard: Callable[[Any], None] | None = None, **kwargs: Any) -> Task | None:
        """Check, then run the use case `fn(*args, **kwargs)` on the worker.

        While it runs the form is disabled; a refusal comes back through
        `show_error`. `discard` receives a result that arrives after the form
        was closed (an opened company to close again). Returns the task, or
        None when the form's own checks fail or a submit is already running.
        """
        if self.task is not None:
            return None
        if validate and not self.validate():
            return None
        self.clear_errors()
        self._set_busy(True)

        def done(result: Any) -> None:
            self.task = None
            self._set_busy(False)
            if on_done is not None:
                on_done(result)

        def failed(exc: BaseException) -> None:
            self.task = None
            self._set_busy(False)
            self.show_error(exc)

        # Bound here, so that the use case may take keywords such as `name` or
        # `parent` that run_in_background itself would claim.
        call = partial(fn, *args, **kwargs)
        self.task = run_in_background(call, on_done=done, on_error=failed,
                                      on_cancelled=lambda: self._set_busy(False),
                                      parent=self, discard=discard,
                                      name=getattr(fn, "__name__", "form"))
        return self.task

    def _set_busy(self, busy: bool) -> None:
        for f in self.fields.values():
            f.widget.setEnabled(not busy)
        self.busy_changed.emit(busy)


class FormDialog(QDialog):
    """A dialog around a `Form`: Save (Ctrl+S, Enter) and Cancel (Esc).

    Subclasses add fields to `self.form` and implement `save()`, which usually
    calls `self.form.submit(service_fn, ..., on_done=self.saved)`.
    """

    def __init__(self, title: str, *, locale: str = "en_IN", intro: str | None = None,
                 save_text: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.result_value: Any = None
        self.form = Form(self, locale=locale)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(12)
        if intro:
            text = QLabel(intro)
            text.setWordWrap(True)
            text.setObjectName("intro")
            text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            layout.addWidget(text)
        layout.addWidget(self.form.widget, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setObjectName("save")
        if save_text:
            self.save_button.setText(save_text)
        self.save_button.setToolTip(self.tr("Save (Ctrl+S)"))
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save)
        self.form.busy_changed.connect(lambda busy: self.save_button.setEnabled(not busy))
        self.setMinimumWidth(460)

    def save(self) -> None:
        raise NotImplementedError

    def saved(self, result: Any) -> None:
        """The use case succeeded: keep its result and close."""
        self.result_value = result
        self.accept()

    def reject(self) -> None:
        if self.form.task is not None:
            self.form.task.cancel()
        super().reject()


def _fit_height(widget: QWidget) -> None:
    """Grow the dialog holding `widget` to the height its layout needs at its width: a
    wrapped message that opens under a field needs more lines than the dialog had."""
    window = widget.window()
    layout = window.layout() if isinstance(window, QDialog) else None
    if layout is None or not window.isVisible():
        return
    need = layout.totalHeightForWidth(window.width()) if layout.hasHeightForWidth() \
        else layout.totalSizeHint().height()
    if need > window.height():
        window.resize(window.width(), need)
