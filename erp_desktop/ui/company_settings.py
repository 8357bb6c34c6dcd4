"""The Company section of Settings: profile, invoices, taxes and rounding, stock.

`CompanySettingsPanel(env)` reads everything through
`services.company_settings.get_company_settings` and shows it on four tabs:

- Profile: names, address, contacts, tax registration, and the logo (chosen
  with the system's file dialog, checked and scaled by the service on the
  worker, previewed here before it is saved);
- Invoices: paper (A4, US Letter, 80 mm receipt), the accent colour (a
  swatch that opens the colour dialog, or a #RRGGBB code), which parts print
  (logo, HSN/SAC column, discount column, bank details, signature), bank
  details, terms and the footer; Preview renders a sample invoice with the
  choices not yet saved (`sample_invoice_pdf`, on the worker) and opens it in
  `PdfPreviewDialog`;
- Taxes and rounding: per line or per invoice, half-up or half-even, the
  round-off line, and the company's tax rates (read-only);
- Stock: whether stock may go below zero, with what that means.

All fields are one `Form` spread over the tabs: Save (Ctrl+S) sends only what
changed to `save_company_settings` in one transaction; a refusal is shown
under its field, on its tab, and a change made meanwhile by someone else
comes back as a banner with Reload. The service decides who may change what:
the profile needs `company.edit`, the rest `settings.edit`; what a person may
not change is shown read-only.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QCoreApplication, QDir, Qt
from PySide6.QtGui import QColor, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import Conflict, UserError
from erp_desktop.ui.forms import Form
from erp_desktop.ui.icons import icon
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.theme import tones
from erp_desktop.ui.widgets import PageEnv, RowsModel, heading, hint, message_style, rows_table
from erp_desktop.ui.worker import Task, run_in_background


def _tr(text: str) -> str:
    return QCoreApplication.translate("company_settings", text)


def _noop(text: str) -> str:
    return text


PROFILE_TEXT = ("legal_name", "trade_name", "address", "city", "postal_code", "state",
                "state_code", "country", "phone", "email", "gstin", "vat_id", "locale")
PROFILE_FIELDS = (*PROFILE_TEXT, "tax_regime")
LAYOUT_CHECKS = (
    ("show_logo", _noop("Company &logo")),
    ("show_hsn", _noop("&HSN/SAC column")),
    ("show_discount", _noop("&Discount column")),
    ("show_bank_details", _noop("&Bank details")),
    ("show_signature", _noop("Si&gnature block")),
)
# InvoiceLayout.footer_note is not shown: services.invoice_pdf does not print it (yet).
LAYOUT_TEXT = ("signature_label", "bank_details", "default_terms")
LAYOUT_FIELDS = ("page_format", "accent_colour", *(n for n, _ in LAYOUT_CHECKS), *LAYOUT_TEXT)
ROUNDING_FIELDS = ("level", "mode", "round_off")
PAGE_FORMATS = (("A4", _noop("A4 (210 × 297 mm)")), ("LETTER", _noop("US Letter (8.5 × 11 in)")),
                ("THERMAL", _noop("80 mm thermal receipt")))
TAX_REGIMES = (("gst", _noop("GST (India)")), ("vat", _noop("VAT")),
               ("sales_tax", _noop("Sales tax (US)")), ("none", _noop("No tax")))
MONTHS = (_noop("January"), _noop("February"), _noop("March"), _noop("April"), _noop("May"),
          _noop("June"), _noop("July"), _noop("August"), _noop("September"), _noop("October"),
          _noop("November"), _noop("December"))
_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
LOGO_BOX = (220, 88)
READ_ONLY_STYLE = "background: palette(window);"


class SectionForm(Form):
    """A `Form` whose fields sit on the tabs of `tabs`.

    `section(layout)` sends the fields added next into another `QFormLayout`;
    a refusal or a failed check opens the field's tab and scrolls to it first.
    """

    def __init__(self, parent: QWidget, tabs: QTabWidget, *, locale: str) -> None:
        super().__init__(parent, locale=locale)
        self.tabs = tabs

    def section(self, layout: QFormLayout) -> QFormLayout:
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.setVerticalSpacing(6)
        layout.setHorizontalSpacing(12)
        self.layout = layout
        return layout

    def reveal(self, name: str) -> None:
        widget = self.fields[name].widget
        for i in range(self.tabs.count()):
            if self.tabs.widget(i).isAncestorOf(widget):
                self.tabs.setCurrentIndex(i)
                break
        parent = widget.parentWidget()
        while parent is not None and not isinstance(parent, QScrollArea):
            parent = parent.parentWidget()
        if isinstance(parent, QScrollArea):
            parent.ensureWidgetVisible(widget)

    def show_error(self, exc: BaseException) -> None:
        if isinstance(exc, UserError) and not isinstance(exc, Conflict) and \
                exc.field in self.fields:
            self.reveal(exc.field)
        super().show_error(exc)

    def validate(self) -> bool:
        ok = super().validate()
        if not ok:
            for name in self.fields:
                if self.field_error(name):
                    self.reveal(name)
                    self.fields[name].widget.setFocus(Qt.FocusReason.OtherFocusReason)
                    break
        return ok


class ColourField(QWidget):
    """A swatch that opens the colour dialog, beside the colour's #RRGGBB code."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.swatch = QToolButton()
        self.swatch.setObjectName("accent_swatch")
        self.swatch.setFixedSize(34, 26)
        self.swatch.setToolTip(_tr("Choose the colour…"))
        self.swatch.setAccessibleName(_tr("Choose the accent colour"))
        self.swatch.clicked.connect(self.choose)
        self.edit = QLineEdit()
        self.edit.setObjectName("accent_code")
        self.edit.setMaxLength(7)
        self.edit.setPlaceholderText("#1F4E79")
        self.edit.setFixedWidth(110)
        self.edit.textChanged.connect(self._paint)
        self.pick = QPushButton(_tr("Ch&oose…"))
        self.pick.setObjectName("accent_choose")
        self.pick.clicked.connect(self.choose)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        row.addWidget(self.swatch)
        row.addWidget(self.edit)
        row.addWidget(self.pick)
        row.addStretch(1)
        self.setFocusProxy(self.edit)
        self._paint("")

    def value(self) -> str:
        return self.edit.text().strip().upper()

    def set_value(self, text: str) -> None:
        self.edit.setText(text.upper())

    def set_read_only(self, read_only: bool) -> None:
        self.edit.setReadOnly(read_only)
        self.swatch.setEnabled(not read_only)
        self.pick.setVisible(not read_only)

    def choose(self) -> None:
        current = QColor(self.value()) if _HEX.match(self.value()) else QColor("#1F4E79")
        chosen = QColorDialog.getColor(current, self, _tr("Accent colour of invoices"))
        if chosen.isValid():
            self.set_value(chosen.name())

    def _paint(self, _text: str) -> None:
        code = self.value()
        border = tones().card_border
        if _HEX.match(code):
            self.swatch.setStyleSheet(f"QToolButton {{ background: {code}; border: 1px solid "
                                      f"{border}; border-radius: 4px; }}")
            self.swatch.setText("")
        else:
            self.swatch.setStyleSheet(f"QToolButton {{ border: 1px dashed {border}; "
                                      "border-radius: 4px; }")
            self.swatch.setText("?")


class LogoField(QWidget):
    """The logo as it will print, with Choose… and Remove."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = QLabel()
        self.preview.setObjectName("logo_preview")
        self.preview.setFixedSize(*LOGO_BOX)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setFrameShape(QFrame.Shape.StyledPanel)
        self.choose_button = QPushButton(icon("company"), _tr("Choose a logo &file…"))
        self.choose_button.setObjectName("logo_choose")
        self.remove_button = QPushButton(icon("close"), _tr("Re&move"))
        self.remove_button.setObjectName("logo_remove")
        self.note = hint(_tr("PNG or JPEG, at most 1 MB; printed at the top of invoices "
                             "and payslips."))
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.choose_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(6)
        box.addWidget(self.preview)
        box.addLayout(buttons)
        box.addWidget(self.note)
        self.setFocusProxy(self.choose_button)
        self.show_logo(None)

    def show_logo(self, png: bytes | None) -> None:
        pixmap = QPixmap()
        if png and pixmap.loadFromData(png):
            w, h = LOGO_BOX
            self.preview.setPixmap(pixmap.scaled(
                w - 12, h - 12, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
            self.preview.setStyleSheet("QLabel#logo_preview { background: white; }")
        else:
            self.preview.setPixmap(QPixmap())
            self.preview.setStyleSheet("color: palette(placeholder-text);")
            self.preview.setText(_tr("No logo"))
        self.remove_button.setEnabled(bool(png))


def _scroll(content: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setWidgetResizable(True)
    area.setWidget(content)
    area.viewport().setAutoFillBackground(False)  # the tab's own background, as unscrolled tabs
    return area


def _components_text(row: Any) -> str:
    parts = []
    for c in row.components:
        where = {"intra": _tr(" within the state"), "inter": _tr(" between states")}.get(
            c.scope, "")
        parts.append(f"{c.name} {c.rate.normalize():f}%{where}")
    return ", ".join(parts) or "—"


class CompanySettingsPanel(CommandPage):
    """See the module docstring."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("company_settings")
        self.env = env
        self.loaded: Any = None  # services.company_settings.CompanySettings
        self.task: Task | None = None
        self.preview_task: Task | None = None
        self.logo_task: Task | None = None
        self.tax_rates: list[Any] | None = None
        self._logo: bytes | None = None
        self._logo_changed = False
        self._dirty = False
        self._after_load: Any = None

        self.tabs = QTabWidget()
        self.tabs.setObjectName("company_tabs")
        self.form = SectionForm(self, self.tabs, locale=env.locale)
        self.form.widget.setSizePolicy(QSizePolicy.Policy.Preferred,
                                       QSizePolicy.Policy.Maximum)

        self.access_note = hint()
        self.access_note.setObjectName("access_note")
        self.access_note.setVisible(False)

        self.tabs.addTab(self._profile_tab(), icon("company"), _tr("Profile"))
        self.tabs.addTab(self._invoices_tab(), icon("pdf"), _tr("Invoices"))
        self.tabs.addTab(self._taxes_tab(), icon("balance"), _tr("Taxes and rounding"))
        self.tabs.addTab(self._stock_tab(), icon("inventory"), _tr("Stock"))

        self.status = QLabel()
        self.status.setObjectName("company_status")
        self.discard_button = QPushButton(icon("refresh"), _tr("Disca&rd changes"))
        self.discard_button.setObjectName("company_discard")
        self.discard_button.clicked.connect(self.reload)
        self.save_button = QPushButton(icon("save"), _tr("Save company settings"))
        self.save_button.setObjectName("company_save")
        self.save_button.setToolTip(_tr("Save (Ctrl+S)"))
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        bar = QHBoxLayout()
        bar.addWidget(self.status, 1)
        bar.addWidget(self.discard_button)
        bar.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(self.access_note)
        layout.addWidget(self.form.widget)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(bar)

        self.form.changed.connect(self._update_dirty)
        self.form.busy_changed.connect(lambda _busy: self._update_buttons())
        self.form.reload_requested.connect(self._reload_after_conflict)
        self.tabs.setEnabled(False)  # until the settings are read
        self._update_buttons()

    # ------------------------------------------------------------------ building

    def _page(self) -> tuple[QWidget, QHBoxLayout]:
        content = QWidget()
        row = QHBoxLayout(content)
        row.setContentsMargins(16, 14, 16, 14)
        row.setSpacing(28)
        return content, row

    def _column(self, row: QHBoxLayout, *, width: int | None = None,
                stretch: int = 0) -> QFormLayout:
        holder = QWidget()
        if width:
            holder.setMaximumWidth(width)
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        layout = QFormLayout()
        box.addLayout(layout)
        box.addStretch(1)
        # No alignment flag here: a layout item with one loses height-for-width, and the
        # wrapped hints and messages of the fields would overlap the rows below them.
        row.addWidget(holder, stretch)
        return self.form.section(layout)

    def _profile_tab(self) -> QWidget:
        f = self.form
        content, row = self._page()
        left = self._column(row, width=620, stretch=3)
        left.addRow(heading(_tr("The business"), 1.05))
        f.add_text("legal_name", _tr("&Legal name"), required=True, max_length=200,
                   hint=_tr("As registered; printed on every invoice."))
        f.add_text("trade_name", _tr("&Trade name"), max_length=200,
                   placeholder=_tr("The name on the shop sign, if different"))
        f.add_multiline("address", _tr("&Address"), lines=2)
        f.add_text("city", _tr("C&ity"), max_length=100)
        f.add_text("postal_code", _tr("&PIN / postal code"), max_length=20)
        f.add_text("state", _tr("&State"), max_length=100)
        f.add_text("state_code", _tr("State co&de"), max_length=8,
                   hint=_tr("For GST, the two digits of the state (Karnataka is 29)."))
        f.add_text("country", _tr("Co&untry"), max_length=2, placeholder="IN")
        left.addRow(heading(_tr("Contact"), 1.05))
        f.add_text("phone", _tr("P&hone"), max_length=40)
        f.add_text("email", _tr("&E-mail"), max_length=200)

        right = self._column(row, width=520, stretch=2)
        right.addRow(heading(_tr("Tax registration"), 1.05))
        f.add_choice("tax_regime", _tr("Ta&x regime"),
                     [(k, _tr(label)) for k, label in TAX_REGIMES])
        f.add_text("gstin", _tr("&GSTIN"), max_length=15, placeholder="29ABCDE1234F1Z5",
                   hint=_tr("15 characters; checked for typing mistakes."))
        f.add_text("vat_id", _tr("&VAT number"), max_length=20)
        locale = f.add_text("locale", _tr("L&ocale"), max_length=16, placeholder="en_IN")
        locale.setToolTip(_tr("How dates and amounts are written, such as en_IN or de_DE."))
        self.books_label = QLabel("—")
        self.books_label.setObjectName("books")
        self.books_label.setToolTip(_tr(
            "The currency and the fiscal year are set when the company is created: every "
            "posted document counts on them."))
        right.addRow(_tr("Books"), self.books_label)
        right.addRow(heading(_tr("Logo"), 1.05))
        self.logo = LogoField()
        self.logo.choose_button.clicked.connect(self.choose_logo)
        self.logo.remove_button.clicked.connect(self.remove_logo)
        f.add_widget("logo", "", self.logo, value=lambda: self._logo)
        return _scroll(content)

    def _invoices_tab(self) -> QWidget:
        f = self.form
        content, row = self._page()
        left = self._column(row, width=640, stretch=3)
        left.addRow(heading(_tr("Paper and colour"), 1.05))
        f.add_choice("page_format", _tr("&Paper"), [(k, _tr(t)) for k, t in PAGE_FORMATS])
        self.accent = ColourField()
        f.add_widget("accent_colour", _tr("&Accent colour"), self.accent,
                     value=self.accent.value)
        self.accent.edit.textChanged.connect(lambda _t: f.field_changed("accent_colour"))
        left.addRow(heading(_tr("Texts"), 1.05))
        f.add_text("signature_label", _tr("Signat&ure label"), max_length=60,
                   placeholder=_tr("Authorised signatory"))
        f.add_multiline("bank_details", _tr("Ban&k details"), lines=3,
                        placeholder=_tr("Bank, account name and number, IFSC"))
        f.add_multiline("default_terms", _tr("&Terms"), lines=3,
                        placeholder=_tr("Printed on invoices that have no terms of their own"))

        right = self._column(row, width=400, stretch=2)
        right.addRow(heading(_tr("Print on invoices"), 1.05))
        for name, text in LAYOUT_CHECKS:
            f.add_check(name, _tr(text))
        right.addRow(heading(_tr("Preview"), 1.05))
        right.addRow(hint(_tr("A sample invoice laid out with the choices on this screen, "
                              "before you save them: invoices printed after you save look "
                              "like this.")))
        self.preview_button = QPushButton(icon("pdf"), _tr("Pre&view sample invoice"))
        self.preview_button.setObjectName("preview_invoice")
        self.preview_button.setToolTip(_tr("Preview (Ctrl+P)"))
        self.preview_button.clicked.connect(self.preview)
        buttons = QHBoxLayout()
        buttons.addWidget(self.preview_button)
        buttons.addStretch(1)
        right.addRow(buttons)
        self.preview_note = QLabel()
        self.preview_note.setObjectName("preview_note")
        self.preview_note.setWordWrap(True)
        right.addRow(self.preview_note)
        return _scroll(content)

    def _taxes_tab(self) -> QWidget:
        f = self.form
        content = QWidget()
        outer = QVBoxLayout(content)
        outer.setContentsMargins(16, 14, 16, 14)
        outer.setSpacing(10)
        holder = QWidget()
        holder.setMaximumWidth(760)
        self.form.section(QFormLayout(holder))
        layout = self.form.layout
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addRow(heading(_tr("Rounding of tax"), 1.05))
        f.add_choice("level", _tr("Round &tax"), [
            ("line", _tr("On each line, then add the lines up")),
            ("invoice", _tr("Once per invoice, for each rate"))])
        f.add_choice("mode", _tr("Round &halves"), [
            ("half_up", _tr("Up: 2.345 becomes 2.35")),
            ("half_even", _tr("To even (banker's): 2.345 becomes 2.34"))])
        f.add_check("round_off", _tr("Round the invoice total to a &whole amount, with a "
                                     "“Round off” line for the difference"))
        layout.addRow(hint(_tr("These apply to invoices and credit notes issued after you "
                               "save; issued documents keep their amounts. Whether prices "
                               "include tax is set on each price list.")))
        outer.addWidget(holder)
        outer.addWidget(heading(_tr("Tax rates"), 1.05))
        self.rates_model = RowsModel([
            (_tr("Code"), lambda r: r.code, False),
            (_tr("Name"), lambda r: r.name, False),
            (_tr("Rate"), lambda r: f"{r.rate.normalize():f}%", True),
            (_tr("Components"), _components_text, False),
            (_tr("Active"), lambda r: _tr("Yes") if r.active else _tr("No"), False),
        ], self)
        self.rates = rows_table(self.rates_model)
        self.rates.setObjectName("tax_rates")
        self.rates.horizontalHeader().setStretchLastSection(True)
        self.rates.setMinimumHeight(180)
        outer.addWidget(self.rates, 1)
        self.rates_note = hint()
        self.rates_note.setObjectName("rates_note")
        outer.addWidget(self.rates_note)
        return content

    def _stock_tab(self) -> QWidget:
        f = self.form
        content, row = self._page()
        left = self._column(row, width=760, stretch=1)
        left.addRow(heading(_tr("Negative stock"), 1.05))
        f.add_check("allow_negative_stock", _tr("&Allow stock to go below zero"))
        self.negative_warning = QLabel(_tr(
            "When this is on, a sale or an issue goes through even when the books show too "
            "little stock: the figure turns negative until the goods are received, and the "
            "missing goods are costed at their last known cost. Stock figures and the value "
            "of stock are then only right once every receipt is entered. Turn it on only if "
            "you sell goods before their receipt is entered."))
        self.negative_warning.setObjectName("negative_warning")
        self.negative_warning.setWordWrap(True)
        left.addRow(self.negative_warning)
        f.fields["allow_negative_stock"].widget.toggled.connect(self._paint_warning)
        self._paint_warning(False)
        row.addStretch(0)
        return _scroll(content)

    def _paint_warning(self, on: bool) -> None:
        self.negative_warning.setStyleSheet(message_style("warning" if on else "hint"))

    # ------------------------------------------------------------------ loading

    def on_shown(self) -> None:
        if self.loaded is None and self.task is None:
            self.reload()

    def reload(self, *, then: Any = None) -> Task:
        """Read the stored settings again (unsaved changes are dropped); `then()` after."""
        from erp_desktop.services import company_settings

        self._after_load = then
        self.status.setStyleSheet(message_style("hint"))
        self.status.setText(_tr("Reading the company's settings…"))
        self.task = run_in_background(company_settings.get_company_settings, self.env.ctx,
                                      parent=self, name="company settings",
                                      on_done=self._loaded, on_error=self._load_failed)
        if self.env.can("sales.view"):
            from erp_desktop.services import taxes

            run_in_background(taxes.list_tax_rates, self.env.ctx, parent=self,
                              name="tax rates", on_done=self._rates_loaded,
                              on_error=lambda exc: self.rates_note.setText(str(exc)))
        else:
            self.rates_note.setText(_tr("Your role does not show tax rates."))
        return self.task

    def _loaded(self, settings: Any) -> None:
        self.task = None
        self.loaded = settings
        p, layout, rounding = settings.profile, settings.layout, settings.rounding
        values: dict[str, Any] = {n: getattr(p, n) or "" for n in PROFILE_TEXT}
        values["tax_regime"] = p.tax_regime
        values.update({n: getattr(layout, n) for n in LAYOUT_FIELDS})
        values.update({n: getattr(rounding, n) for n in ROUNDING_FIELDS})
        values["allow_negative_stock"] = settings.allow_negative_stock
        self.accent.set_value(layout.accent_colour)
        self._logo, self._logo_changed = settings.logo_png, False
        self.logo.show_logo(self._logo)
        self.form.set_values(values)
        self.books_label.setText(_tr("{currency}, fiscal year from {month}").format(
            currency=p.base_currency, month=_tr(MONTHS[p.fiscal_year_start_month - 1])))
        self.form.fields["round_off"].widget.setText(_tr(
            "Round the invoice total to a &whole amount in {currency}, with a “Round off” "
            "line for the difference").format(currency=p.base_currency))
        self._apply_access(settings)
        self.tabs.setEnabled(True)
        self.status.setText("")
        self._dirty = False
        self._update_dirty()
        self.commands_changed.emit()  # Print and Refresh are possible now
        after, self._after_load = self._after_load, None
        if after is not None:
            after()

    def _load_failed(self, exc: BaseException) -> None:
        self.task = None
        self.status.setStyleSheet(message_style("error"))
        self.status.setText(exc.message if isinstance(exc, UserError) else
                            _tr("The settings could not be read."))
        if not isinstance(exc, UserError):
            from erp_desktop.ui.errors import show_error

            show_error(self, exc)

    def _rates_loaded(self, rows: list[Any]) -> None:
        self.tax_rates = rows
        self.rates_model.set_rows(rows)
        self.rates.resizeColumnsToContents()
        self.rates_note.setText("" if rows else _tr(
            "No tax rates yet: the rates of the company's tax regime are set up with the "
            "first sale."))

    def _apply_access(self, settings: Any) -> None:
        groups = ((PROFILE_FIELDS, settings.may_edit_profile),
                  (LAYOUT_FIELDS + ROUNDING_FIELDS + ("allow_negative_stock",),
                   settings.may_edit_settings))
        for names, editable in groups:
            for name in names:
                self._set_editable(name, editable)
        self.logo.choose_button.setVisible(settings.may_edit_profile)
        self.logo.remove_button.setVisible(settings.may_edit_profile)
        self.logo.note.setVisible(settings.may_edit_profile)
        editable = self.editable
        self.save_button.setVisible(editable)
        self.discard_button.setVisible(editable)
        if not editable:
            self.access_note.setText(_tr(
                "You can see the company's settings; changing them needs the right to change "
                "company settings (ask the owner)."))
        elif not settings.may_edit_profile:
            self.access_note.setText(_tr(
                "You can change the invoice layout, rounding and stock settings; the company "
                "profile needs the right to change the company profile."))
        elif not settings.may_edit_settings:
            self.access_note.setText(_tr(
                "You can change the company profile; the invoice layout, rounding and stock "
                "settings need the right to change company settings."))
        self.access_note.setVisible(not (settings.may_edit_profile
                                         and settings.may_edit_settings))

    def _set_editable(self, name: str, editable: bool) -> None:
        f = self.form.fields[name]
        w = f.widget
        if isinstance(w, ColourField):
            w.set_read_only(not editable)
            w.edit.setStyleSheet("" if editable else READ_ONLY_STYLE)
        elif isinstance(w, QLineEdit | QPlainTextEdit):
            w.setReadOnly(not editable)
            # a read-only box looks like one: on the window's colour, not the typing colour
            w.setStyleSheet("" if editable else READ_ONLY_STYLE)
            if not editable:
                w.setPlaceholderText("")  # "Bank, account name…" invites typing
        elif f.row is not None:
            f.row.setEnabled(editable)

    @property
    def editable(self) -> bool:
        s = self.loaded
        return bool(s is not None and (s.may_edit_profile or s.may_edit_settings))

    # ------------------------------------------------------------------ changes

    def changes(self) -> dict[str, Any]:
        """What the person changed, as `save_company_settings` takes it."""
        s = self.loaded
        if s is None:
            return {}
        out: dict[str, Any] = {}
        if s.may_edit_profile:
            profile = {}
            for name in PROFILE_FIELDS:
                now = self.form.value(name)
                if (now or None) != (getattr(s.profile, name) or None):
                    profile[name] = now if now != "" else None
            if profile:
                out["profile"] = profile
            if self._logo_changed and self._logo != s.logo_png:
                out["logo"] = self._logo
        if s.may_edit_settings:
            layout = self._diff(s.layout, LAYOUT_FIELDS)
            if layout:
                out["layout"] = layout
            rounding = self._diff(s.rounding, ROUNDING_FIELDS)
            if rounding:
                out["rounding"] = rounding
            negative = bool(self.form.value("allow_negative_stock"))
            if negative != s.allow_negative_stock:
                out["allow_negative_stock"] = negative
        return out

    def _diff(self, stored: Any, names: tuple[str, ...]) -> dict[str, Any]:
        out = {}
        for name in names:
            now, before = self.form.value(name), getattr(stored, name)
            if isinstance(before, str):
                before = before.strip()
            if now != before:
                out[name] = now
        return out

    def _update_dirty(self) -> None:
        dirty = bool(self.changes())
        if dirty != self._dirty:
            self._dirty = dirty
            self.commands_changed.emit()
        if dirty:
            self.status.setStyleSheet(message_style("warning"))
            self.status.setText(_tr("Unsaved changes."))
        elif self.status.text() == _tr("Unsaved changes."):
            self.status.setText("")
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.form.busy
        self.save_button.setEnabled(self.editable and self._dirty and not busy)
        self.discard_button.setEnabled(self.editable and self._dirty and not busy)
        self.preview_button.setEnabled(self.loaded is not None and self.preview_task is None)

    # ------------------------------------------------------------------ logo

    def choose_logo(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, _tr("Choose the company logo"), QDir.homePath(),
            _tr("Pictures (*.png *.jpg *.jpeg)"))
        if path:
            self.use_logo_file(path)

    def use_logo_file(self, path: str) -> Task:
        """Check and scale the picture on the worker; shown here, saved with Save."""
        from erp_desktop.services import company_settings

        self.logo.choose_button.setEnabled(False)

        def done(logo: Any) -> None:
            self.logo_task = None
            self.logo.choose_button.setEnabled(True)
            self._logo, self._logo_changed = logo.png, True
            self.logo.show_logo(logo.png)
            self.form.field_changed("logo")

        def failed(exc: BaseException) -> None:
            self.logo_task = None
            self.logo.choose_button.setEnabled(True)
            self.form.show_error(exc)

        self.logo_task = run_in_background(company_settings.prepare_logo, self.env.ctx, path,
                                           parent=self, name="logo", on_done=done,
                                           on_error=failed)
        return self.logo_task

    def remove_logo(self) -> None:
        self._logo, self._logo_changed = None, True
        self.logo.show_logo(None)
        self.form.field_changed("logo")

    # ------------------------------------------------------------------ saving

    def save(self) -> Task | None:
        from erp_desktop.services import company_settings

        if self.loaded is None or not self.editable:
            return None
        changes = self.changes()
        if not changes:
            self.status.setStyleSheet(message_style("hint"))
            self.status.setText(_tr("Nothing to save: no setting was changed."))
            return None
        return self.form.submit(company_settings.save_company_settings, self.env.ctx,
                                self.loaded.versions, **changes, on_done=self._saved)

    def _saved(self, settings: Any) -> None:
        self._loaded(settings)
        self.status.setStyleSheet(message_style("success"))
        self.status.setText(_tr("Saved. Invoices printed from now on use these settings."))

    def _reload_after_conflict(self) -> None:
        self.reload(then=lambda: self.form.show_banner(
            _tr("Reloaded: these are the settings as saved now. Make your changes again."),
            kind="success"))

    # ------------------------------------------------------------------ preview

    def preview(self) -> Task | None:
        """A sample invoice with the choices on screen, saved or not."""
        from erp_desktop.services import company_settings

        if self.loaded is None or self.preview_task is not None:
            return None
        changes = self.changes()
        layout = {n: self.form.value(n) for n in LAYOUT_FIELDS}
        rounding = {n: self.form.value(n) for n in ROUNDING_FIELDS}
        self.form.clear_errors()
        self.preview_note.setStyleSheet(message_style("hint"))
        self.preview_note.setText(_tr("Laying out the sample…"))

        def done(data: bytes) -> None:
            self.preview_task = None
            self._update_buttons()
            self.preview_note.setText("")
            self.open_preview(data)

        def failed(exc: BaseException) -> None:
            self.preview_task = None
            self._update_buttons()
            self.preview_note.setText("")
            self.form.show_error(exc)

        kwargs: dict[str, Any] = {"profile": changes.get("profile")}
        if "logo" in changes:
            kwargs["logo"] = changes["logo"]
        self.preview_task = run_in_background(
            company_settings.sample_invoice_pdf, self.env.ctx, layout, rounding=rounding,
            parent=self, name="sample invoice", on_done=done, on_error=failed, **kwargs)
        self._update_buttons()
        return self.preview_task

    def open_preview(self, data: bytes) -> None:
        from erp_desktop.ui import pdf_preview

        dialog = pdf_preview.PdfPreviewDialog(data, title=_tr("Sample invoice"),
                                              file_name="sample-invoice.pdf", parent=self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.preview_dialog = dialog
        dialog.open()

    # ------------------------------------------------------------------ commands

    def commands(self) -> set[Command]:
        out = set()
        if self.loaded is not None:
            out.add(Command.PRINT)
        if self.editable and self._dirty:
            out.add(Command.SAVE)  # and no Refresh: it would drop the unsaved changes
        elif self.task is None:
            out.add(Command.REFRESH)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.SAVE:
            self.save()
        elif command == Command.PRINT:
            self.preview()
        elif command == Command.REFRESH and not self._dirty:
            self.reload()
