"""The create-company wizard: company, first admin, file, then the recovery passphrase.

Reached from the login window. Four pages:

1. the company: legal name, country, base currency, tax regime and the month
   its fiscal year starts (choosing a country suggests the usual currency,
   regime and fiscal year, which stay editable);
2. the first admin: full name, login name and password, with a strength hint;
3. where the company file goes (the app's companies folder by default); its
   button "Create company" runs `services.company.create_company` on the
   worker and, once it succeeds, there is no way back (a commit page);
4. the recovery passphrase, shown this once, with a warning that nobody can
   recover it and a check box "I have written it down" that Finish needs.

On Finish the wizard forgets the passphrase (the label is cleared) and emits
`created(LoginOutcome)`: the admin is already logged in, and the app opens
the main window. Closed before the company was made, nothing is left behind;
once it is made, the wizard cannot be closed without the check box.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDir, Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QFontDatabase, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from erp_desktop.settings import Paths, UserSettings, save_settings
from erp_desktop.ui.admin_pages import add_password_fields
from erp_desktop.ui.forms import Form
from erp_desktop.ui.icons import icon
from erp_desktop.ui.theme import tones
from erp_desktop.ui.worker import Task, run_in_background

if TYPE_CHECKING:
    from erp_desktop.services.config import AppConfig
    from erp_desktop.services.context import DeviceInfo
    from erp_desktop.ui.login import LoginOutcome

log = logging.getLogger(__name__)

# country: (name, currency, tax regime, fiscal year start month, locale)
COUNTRIES: dict[str, tuple[str, str, str, int, str]] = {
    "IN": ("India", "INR", "gst", 4, "en_IN"),
    "GB": ("United Kingdom", "GBP", "vat", 4, "en_GB"),
    "IE": ("Ireland", "EUR", "vat", 1, "en_IE"),
    "DE": ("Germany", "EUR", "vat", 1, "de_DE"),
    "FR": ("France", "EUR", "vat", 1, "fr_FR"),
    "NL": ("Netherlands", "EUR", "vat", 1, "nl_NL"),
    "AE": ("United Arab Emirates", "AED", "vat", 1, "en_AE"),
    "SG": ("Singapore", "SGD", "gst", 4, "en_SG"),
    "AU": ("Australia", "AUD", "gst", 7, "en_AU"),
    "NZ": ("New Zealand", "NZD", "gst", 4, "en_NZ"),
    "CA": ("Canada", "CAD", "gst", 1, "en_CA"),
    "US": ("United States", "USD", "sales_tax", 1, "en_US"),
    "KE": ("Kenya", "KES", "vat", 7, "en_KE"),
    "ZA": ("South Africa", "ZAR", "vat", 3, "en_ZA"),
}
REGIMES = (("gst", "GST"), ("vat", "VAT"), ("sales_tax", "Sales tax"), ("none", "No sales tax"))
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


def file_name_for(company: str) -> str:
    """A safe file name from a company name: "Acme Traders" -> "Acme Traders.erp"."""
    text = unicodedata.normalize("NFC", company).strip()
    text = re.sub(r'[<>:"/\\|?*\x00-\x1f]', "", text).strip(" .") or "Company"
    return text[:80] + ".erp"


def create_company_file(path: Path, values: dict[str, Any], *, config: AppConfig,
                        device: DeviceInfo, settings: UserSettings,
                        paths: Paths | None) -> tuple[LoginOutcome, str]:
    """Runs on the worker: make the company and its first admin, remember the file."""
    from erp_desktop.services.company import NewAdmin, NewCompany, create_company
    from erp_desktop.ui.login import LoginOutcome

    path.parent.mkdir(parents=True, exist_ok=True)
    company = NewCompany(legal_name=values["legal_name"], country=values["country"],
                         base_currency=values["currency"], tax_regime=values["tax_regime"],
                         fiscal_year_start_month=values["fy_month"], locale=values["locale"])
    admin = NewAdmin(values["login_name"], values["full_name"], values["password"],
                     values.get("email") or None)
    created = create_company(path, company, admin, config=config, device=device)
    updated = replace(settings, recent_files=list(settings.recent_files))
    updated.remember_company(path, created.context.actor.login_name)
    if paths is not None:
        try:
            save_settings(paths, updated)
        except OSError:  # the company exists; remembering it is a nicety
            log.warning("could not save the settings file", exc_info=True)
    outcome = LoginOutcome(created.context, company.legal_name.strip(), company.locale, updated)
    return outcome, created.recovery_passphrase


def _close_created(result: tuple[Any, str]) -> None:
    """The wizard was closed while the company was being made: close it again."""
    result[0].context.close()


class _FormPage(QWizardPage):
    """A wizard page holding a `Form`; Next needs the form's own checks to pass."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(title)
        self.setSubTitle(subtitle)
        self.form = Form(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form.widget)
        layout.addStretch(1)
        self.form.validity_changed.connect(lambda _v: self.completeChanged.emit())

    def isComplete(self) -> bool:
        return self.form.is_valid()

    def validatePage(self) -> bool:
        return self.form.validate()


class CompanyPage(_FormPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Your company"), self.tr(
            "The name and country go on every invoice; the currency and tax regime decide "
            "how documents are computed."), parent)
        f = self.form
        self.name = f.add_text("legal_name", self.tr("Legal name"), required=True,
                               max_length=200, placeholder=self.tr("Acme Traders Pvt Ltd"))
        countries = [(code, f"{name} ({code})") for code, (name, *_r) in COUNTRIES.items()]
        self.country = f.add_choice("country", self.tr("Country"), countries, value="IN",
                                    editable=True)
        self.currency = f.add_choice(
            "currency", self.tr("Currency"),
            [(c, c) for c in sorted({v[1] for v in COUNTRIES.values()})], value="INR",
            editable=True, checks=[self._check_currency])
        self.regime = f.add_choice("tax_regime", self.tr("Tax regime"),
                                   [(k, self.tr(v)) for k, v in REGIMES], value="gst")
        self.fy = f.add_choice("fy_month", self.tr("Fiscal year starts in"),
                               [(i + 1, self.tr(m)) for i, m in enumerate(MONTHS)], value=4)
        self.country.currentIndexChanged.connect(self._country_chosen)
        self.country.setToolTip(self.tr("Choose from the list, or type a two-letter code"))
        f.fields["country"].checks.append(self._check_country)

    def _check_country(self, value: Any) -> str | None:
        code = self.country_code()
        if len(code) != 2 or not code.isalpha():
            return self.tr("Choose a country, or type its two-letter code (e.g. IN).")
        return None

    def _check_currency(self, value: Any) -> str | None:
        text = str(value or "").strip()
        if len(text) != 3 or not text.isalpha():
            return self.tr("A currency is a three-letter code such as INR, EUR or USD.")
        return None

    def country_code(self) -> str:
        data = self.form.value("country")
        text = str(data or "").strip()
        if text in COUNTRIES:
            return text
        match = re.search(r"\(([A-Za-z]{2})\)\s*$", text)
        return (match.group(1) if match else text).upper()

    def _country_chosen(self) -> None:
        found = COUNTRIES.get(self.country_code())
        if found is None:
            return
        _name, currency, regime, fy, _locale = found
        self.form.set_value("currency", currency)
        self.form.set_value("tax_regime", regime)
        self.form.set_value("fy_month", fy)

    def values(self) -> dict[str, Any]:
        code = self.country_code()
        return {"legal_name": self.form.value("legal_name"), "country": code,
                "currency": str(self.form.value("currency")).strip().upper(),
                "tax_regime": self.form.value("tax_regime"),
                "fy_month": int(self.form.value("fy_month")),
                "locale": COUNTRIES.get(code, ("", "", "", 1, "en_IN"))[4]}


class AdminPage(_FormPage):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("The first admin"), self.tr(
            "The person who sets the app up: they can add users and change roles. Their "
            "password also unlocks the encrypted company file."), parent)
        f = self.form
        f.add_text("full_name", self.tr("Full name"), required=True, max_length=200)
        self.login = f.add_text("login_name", self.tr("Login name"), required=True,
                                max_length=64, placeholder="owner")
        f.add_text("email", self.tr("E-mail"), max_length=200)
        self.password = add_password_fields(f)

    def values(self) -> dict[str, Any]:
        return {"full_name": self.form.value("full_name"),
                "login_name": self.form.value("login_name"),
                "email": self.form.value("email"), "password": self.form.raw("password")}


class FilePage(QWizardPage):
    """Where the file goes; "Create company" runs the use case (a commit page)."""

    def __init__(self, wizard: CompanyWizard) -> None:
        super().__init__(wizard)
        self.wizard_ = wizard
        self.setTitle(self.tr("The company file"))
        self.setSubTitle(self.tr(
            "Everything is kept in one encrypted file on this computer. Back it up "
            "regularly (Admin → Backup)."))
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, self.tr("Create company"))
        self.path = QLineEdit()
        self.path.setObjectName("file_path")
        self.path.textChanged.connect(lambda _t: self.completeChanged.emit())
        browse = QPushButton(self.tr("Change…"))
        browse.setObjectName("browse")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.summary = QLabel()
        self.summary.setObjectName("summary")
        self.summary.setWordWrap(True)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(8)
        self.busy.setVisible(False)
        self.error = QLabel()
        self.error.setObjectName("create_error")
        self.error.setWordWrap(True)
        self.error.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Save the company file as:")))
        layout.addLayout(row)
        layout.addSpacing(8)
        layout.addWidget(self.summary)
        layout.addStretch(1)
        layout.addWidget(self.busy)
        layout.addWidget(self.error)
        self.created = False

    def initializePage(self) -> None:
        w = self.wizard_
        if not self.path.text():
            self.path.setText(QDir.toNativeSeparators(str(
                w.companies_dir / file_name_for(w.company_page.values()["legal_name"]))))
        c, a = w.company_page.values(), w.admin_page.values()
        regime = dict(REGIMES).get(c["tax_regime"], c["tax_regime"])
        self.summary.setText(self.tr(
            "<b>{name}</b> ({country}), books in {currency}, {regime}, fiscal year from "
            "{month}.<br>First admin: {admin} (login “{login}”).").format(
            name=c["legal_name"], country=c["country"], currency=c["currency"],
            regime=self.tr(regime), month=self.tr(MONTHS[c["fy_month"] - 1]),
            admin=a["full_name"], login=a["login_name"]))

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, self.tr("Save the company file as"),
                                                self.path.text(),
                                                self.tr("Company files (*.erp)"))
        if chosen:
            if not chosen.lower().endswith(".erp"):
                chosen += ".erp"
            self.path.setText(QDir.toNativeSeparators(chosen))

    def target(self) -> Path:
        return Path(QDir.fromNativeSeparators(self.path.text().strip()))

    def isComplete(self) -> bool:
        return bool(self.path.text().strip()) and self.wizard_.task is None

    def validatePage(self) -> bool:
        if self.created:
            return True
        target = self.target()
        if target.exists():
            self.show_error(self.tr("{path} already exists. Choose another name.").format(
                path=QDir.toNativeSeparators(str(target))))
            return False
        self.wizard_.start_create(target)
        return False  # the wizard moves on by itself when the company exists

    def set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.path.setEnabled(not busy)
        if busy:
            self.error.setVisible(False)
        self.completeChanged.emit()

    def show_error(self, text: str) -> None:
        self.error.setStyleSheet(f"color: {tones().error};")
        self.error.setText(text)
        self.error.setVisible(True)


class PassphrasePage(QWizardPage):
    """The recovery passphrase, this once; Finish needs "I have written it down"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Your recovery passphrase"))
        self.setSubTitle(self.tr("The company is ready. One last, important step."))
        tone = tones()
        warning = QLabel(self.tr(
            "<b>Write this passphrase down now and keep it somewhere safe, away from this "
            "computer.</b> It is shown only this once. If every admin forgets their "
            "password, it is the only way to open the company file. Nobody can recover it "
            "for you, not even the makers of this app: without it, the data is lost."))
        warning.setObjectName("warning")
        warning.setWordWrap(True)
        warning.setStyleSheet(f"QLabel#warning {{ color: {tone.error}; border: 1px solid "
                              f"{tone.error}; border-radius: 4px; padding: 10px;"
                              f" background: {tone.card}; }}")
        self.passphrase = QLabel()
        self.passphrase.setObjectName("passphrase")
        self.passphrase.setWordWrap(True)
        self.passphrase.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.passphrase.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(QFont().pointSizeF() * 1.5)
        font.setBold(True)
        self.passphrase.setFont(font)
        self.passphrase.setStyleSheet("padding: 16px; border: 1px dashed palette(mid);")
        self.passphrase.setAccessibleName(self.tr("Recovery passphrase"))
        self.written = QCheckBox(self.tr("I have written it down and put it somewhere safe"))
        self.written.setObjectName("written_down")
        self.written.toggled.connect(lambda _on: self.completeChanged.emit())
        layout = QVBoxLayout(self)
        layout.addWidget(warning)
        layout.addSpacing(8)
        layout.addWidget(self.passphrase)
        layout.addSpacing(8)
        layout.addWidget(self.written)
        layout.addStretch(1)

    def isComplete(self) -> bool:
        return self.written.isChecked()


class CompanyWizard(QWizard):
    """See the module docstring. `created(LoginOutcome)` on Finish."""

    created = Signal(object)

    def __init__(self, *, config: AppConfig, device: DeviceInfo, settings: UserSettings,
                 paths: Paths | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.device = device
        self.settings = settings
        self.paths = paths
        self.companies_dir = paths.companies_dir if paths is not None \
            else Path(QDir.homePath())
        self.task: Task | None = None
        self.outcome: LoginOutcome | None = None
        self.setWindowTitle(self.tr("Create a company — erp_desktop"))
        self.setObjectName("CompanyWizard")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setWindowIcon(icon("company"))
        self.company_page = CompanyPage()
        self.admin_page = AdminPage()
        self.file_page = FilePage(self)
        self.passphrase_page = PassphrasePage()
        for page in (self.company_page, self.admin_page, self.file_page, self.passphrase_page):
            self.addPage(page)
        self.setMinimumSize(640, 560)

    # ---- creating

    def start_create(self, target: Path) -> Task:
        values = {**self.company_page.values(), **self.admin_page.values()}
        self.file_page.set_busy(True)
        self.button(QWizard.WizardButton.BackButton).setEnabled(False)
        self.task = run_in_background(
            create_company_file, target, values, config=self.config, device=self.device,
            settings=replace(self.settings, recent_files=list(self.settings.recent_files)),
            paths=self.paths, parent=self, name="create company", discard=_close_created,
            on_done=self._created, on_error=self._failed)
        self.file_page.completeChanged.emit()
        return self.task

    def _created(self, result: tuple[LoginOutcome, str]) -> None:
        self.task = None
        self.outcome, passphrase = result
        self.passphrase_page.passphrase.setText(passphrase)
        self.file_page.created = True
        self.file_page.set_busy(False)
        self.next()

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.file_page.set_busy(False)
        self.button(QWizard.WizardButton.BackButton).setEnabled(True)
        from erp_desktop.domain.errors import UserError

        if isinstance(exc, UserError):
            page = {"legal_name": self.company_page, "country": self.company_page,
                    "currency": self.company_page, "tax_regime": self.company_page,
                    "login_name": self.admin_page, "password": self.admin_page,
                    "full_name": self.admin_page}.get(exc.field or "")
            self.file_page.show_error(exc.message)
            if isinstance(page, _FormPage):
                page.form.show_error(exc)
        else:
            from erp_desktop.ui.errors import show_error

            self.file_page.show_error(self.tr("The company could not be created."))
            show_error(self, exc)

    @property
    def shown_passphrase(self) -> str:
        return self.passphrase_page.passphrase.text()

    # ---- finishing

    def accept(self) -> None:
        if self.outcome is None or not self.passphrase_page.written.isChecked():
            return
        outcome, self.outcome = self.outcome, None
        self.passphrase_page.passphrase.clear()  # shown once: not kept in the window
        super().accept()
        self.created.emit(outcome)

    def reject(self) -> None:
        if self.outcome is not None:
            return  # the company exists: Finish (after writing the passphrase down) only
        if self.task is not None:
            self.task.cancel()  # a company made after all is closed again (discard)
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.outcome is not None:
            event.ignore()
            return
        super().closeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.outcome is not None:
            return
        super().keyPressEvent(event)
