"""The main window: a sidebar of the areas this user may open, a page per area.

The sidebar shows only the areas the user's role allows (the services refuse
the rest anyway; hiding them just spares people a door that will not open).
Most pages still say which features arrive with which issue; two are real:
Accounting shows the trial balance, Admin shows the users and verifies the
audit log. Every database call goes through `ui.worker`, so the window keeps
painting while a report is computed.

Ctrl+L logs out (`logout_requested`; the app controller closes the company and
shows the login window again). Window geometry and the last area are kept in
the per-installation `QSettings` handed in by the controller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QFont, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.services.authz import DEFAULT_ROLES
from erp_desktop.ui.worker import Task, run_in_background

if TYPE_CHECKING:
    from erp_desktop.services.context import Context

HINT_STYLE = "color: palette(placeholder-text);"
GOOD_STYLE = "color: #1b6e20;"
BAD_STYLE = "color: #b3261e;"


def _tr(text: str) -> str:
    return QCoreApplication.translate("MainWindow", text)


def _noop(text: str) -> str:
    """Marks a string for translation where it is defined (QT_TRANSLATE_NOOP)."""
    return text


@dataclass(frozen=True)
class Area:
    """One entry of the sidebar."""

    key: str
    title: str  # translated when shown
    any_of: tuple[str, ...]  # the area shows when the user has one of these; () = everyone
    summary: str
    arrives: tuple[tuple[str, str], ...] = ()  # (issue, features) still to come


AREAS: tuple[Area, ...] = (
    Area("dashboard", _noop("Dashboard"), (),
         _noop("Today at a glance: sales, payments due, low stock."),
         (("dashboard", _noop("Today's sales, receivables due, low-stock list, quick actions")),)),
    Area("sales", _noop("Sales"), ("sales.view",),
         _noop("Customers, quotes, invoices, payments and credit notes."),
         (("sales", _noop("Customers, quotes, draft and issued invoices with gapless numbers, "
                          "payments, credit notes")),
          ("documents", _noop("PDF invoices and credit notes, batch printing")))),
    Area("purchases", _noop("Purchases"), ("purchases.view",),
         _noop("Vendors, purchase orders, goods received and vendor bills."),
         (("purchases", _noop("Vendors, purchase orders, receiving goods, bills, debit "
                              "notes, vendor payments")),)),
    Area("inventory", _noop("Inventory"), ("inventory.view",),
         _noop("Products, warehouses, stock moves and stock-takes."),
         (("inventory", _noop("Products with barcodes, warehouses, stock moves, transfers, "
                              "adjustments, stock-takes, low-stock alerts")),)),
    Area("hr", _noop("HR"), ("hr.employees.view", "hr.payroll.view"),
         _noop("Employees, departments, payroll, payslips and expense claims."),
         (("hr", _noop("Employees and departments")),
          ("payroll", _noop("Salary structures, monthly payroll, payslips, expense claims")))),
    Area("accounting", _noop("Accounting"), ("ledger.view",),
         _noop("The ledger: chart of accounts, journal entries and the trial balance."),
         (("ledger", _noop("Chart of accounts, manual journal entries, general ledger, "
                           "locking the books")),)),
    Area("reports", _noop("Reports"), ("reports.financial", "sales.reports"),
         _noop("Profit and loss, balance sheet, tax summary, ageing, sales register."),
         (("reports", _noop("Profit and loss, balance sheet, GST/VAT summary, receivables "
                            "ageing, exports to CSV and XLSX")),)),
    Area("admin", _noop("Admin"), ("users.view",),
         _noop("Users and roles, backups, exports and the audit log."),
         (("admin", _noop("Adding and disabling users, editing roles, backup and restore, "
                          "export of all data, audit log viewer")),)),
    Area("settings", _noop("Settings"), (),
         _noop("Your password, this computer, and the company's settings."),
         (("settings", _noop("Change your password, unlock with this computer, company "
                             "profile and tax settings")),
          ("sync", _noop("Sync with the cloud tenant (off until it is set up)")))),
)


def visible_areas(permissions: frozenset[str] | set[str]) -> list[Area]:
    """The areas a user with `permissions` sees, in sidebar order."""
    return [a for a in AREAS if not a.any_of or any(p in permissions for p in a.any_of)]


def role_label(role_name: str) -> str:
    builtin = DEFAULT_ROLES.get(role_name)
    return _tr(builtin[0]) if builtin else role_name


# --------------------------------------------------------------------- pages


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.5)
    font.setBold(True)
    label.setFont(font)
    return label


def _hint(text: str = "") -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(HINT_STYLE)
    label.setWordWrap(True)
    return label


def _coming_text(area: Area) -> str:
    items = "".join(
        "<li>" + _tr("{features} — with the “{issue}” issue").format(
            features=_tr(features), issue=issue) + "</li>"
        for issue, features in area.arrives)
    return "<p>" + _tr("Coming here:") + "</p><ul>" + items + "</ul>"


class PlaceholderPage(QWidget):
    """An area that is not built yet, saying honestly what will come and when."""

    def __init__(self, area: Area, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(_heading(_tr(area.title)))
        layout.addWidget(_hint(_tr(area.summary)))
        body = QLabel(_coming_text(area))
        body.setObjectName("coming")
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(body)
        layout.addStretch(1)


class DashboardPage(QWidget):
    def __init__(self, ctx: Context, company_name: str, areas: Sequence[Area],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(_heading(self.tr("Welcome, {name}").format(name=ctx.actor.full_name)))
        layout.addWidget(_hint(self.tr("{company} · logged in as {login} ({role})").format(
            company=company_name, login=ctx.actor.login_name,
            role=role_label(ctx.actor.role_name))))
        names = ", ".join(_tr(a.title) for a in areas if a.key != "dashboard")
        layout.addWidget(QLabel(self.tr("You can open: {areas}.").format(areas=names)))
        dashboard = next(a for a in AREAS if a.key == "dashboard")
        coming = QLabel(_coming_text(dashboard))
        coming.setTextFormat(Qt.TextFormat.RichText)
        coming.setWordWrap(True)
        layout.addWidget(coming)
        layout.addWidget(_hint(self.tr(
            "Sync is off: this computer works on the company file alone.")))
        layout.addStretch(1)


class RowsModel(QAbstractTableModel):
    """A read-only table of plain rows: columns are (title, getter, align right?)."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[Any], str], bool]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns = list(columns)
        self._rows: list[Any] = []
        self._bold_rows: set[int] = set()

    def set_rows(self, rows: Sequence[Any], bold_rows: set[int] | None = None) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self._bold_rows = set(bold_rows or ())
        self.endResetModel()

    def row_at(self, row: int) -> Any:
        return self._rows[row]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        _title, getter, right = self._columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return getter(self._rows[index.row()])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            horizontal = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
            return int(horizontal | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and index.row() in self._bold_rows:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[section][0]
        if role == Qt.ItemDataRole.TextAlignmentRole and self._columns[section][2]:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _table(model: QAbstractTableModel) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    # Cells and headers share one horizontal padding, so headings sit over their figures.
    view.setStyleSheet(
        "QTableView::item { padding: 0px 8px; }"
        "QHeaderView::section { padding: 4px 8px; border: none;"
        " border-bottom: 1px solid palette(mid); background: palette(window); }")
    view.verticalHeader().setVisible(False)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    return view


class _LoadingPage(QWidget):
    """A page that loads its data through the worker the first time it is shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.task: Task | None = None
        self._loaded = False

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            self.reload()

    def reload(self) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class _TBLine:
    code: str
    name: str
    debit: str
    credit: str


class TrialBalancePage(_LoadingPage):
    """Accounting: the trial balance as of a date, read-only."""

    def __init__(self, ctx: Context, locale: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.locale = locale
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(_heading(self.tr("Accounting")))
        layout.addWidget(_hint(self.tr(
            "Trial balance: every account's balance up to the date, as a debit or a credit. "
            "The two totals are always equal.")))

        self.can_read = ctx.actor.can("reports.financial")
        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("As of:")))
        self.as_of = QDateEdit()
        self.as_of.setObjectName("as_of")
        self.as_of.setCalendarPopup(True)
        self.as_of.setDisplayFormat("d MMM yyyy")  # unambiguous in every locale
        self.as_of.setDate(ctx.today())
        self.as_of.dateChanged.connect(lambda _d: self.reload())
        bar.addWidget(self.as_of)
        self.refresh = QPushButton(self.tr("Refresh"))
        self.refresh.clicked.connect(self.reload)
        bar.addWidget(self.refresh)
        bar.addStretch(1)
        self.status = _hint()
        self.status.setWordWrap(False)
        self.status.setObjectName("tb_status")
        bar.addWidget(self.status)
        layout.addLayout(bar)

        self.model = RowsModel([
            (self.tr("Code"), lambda r: r.code, False),
            (self.tr("Account"), lambda r: r.name, False),
            (self.tr("Debit"), lambda r: r.debit, True),
            (self.tr("Credit"), lambda r: r.credit, True),
        ], self)
        self.table = _table(self.model)
        self.table.setObjectName("trial_balance")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (2, 3):  # wide enough for ₹99,99,99,999.00 before the first load
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, 160)
        layout.addWidget(self.table, 1)
        layout.addWidget(_hint(self.tr(
            "Journal entries, the general ledger and the chart of accounts arrive with the "
            "“ledger” issue.")))
        if not self.can_read:
            for w in (self.as_of, self.refresh, self.table):
                w.setEnabled(False)
            self.status.setText(self.tr("Your role does not include financial reports."))

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

    def _money(self, money: Money) -> str:
        return "" if not money else format_money(money, self.locale)

    def _loaded_rows(self, report: Any) -> None:
        self.task = None
        self.refresh.setEnabled(True)
        lines = [_TBLine(r.code, r.name, self._money(r.debit), self._money(r.credit))
                 for r in report.rows]
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

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        self.refresh.setEnabled(True)
        if isinstance(exc, UserError):
            self.status.setText(exc.message)
        else:
            from erp_desktop.ui.errors import show_error

            self.status.setText(self.tr("The trial balance could not be computed."))
            show_error(self, exc)


def _when(moment: datetime | None) -> str:
    if moment is None:
        return QCoreApplication.translate("AdminPage", "never")
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


class AdminPage(_LoadingPage):
    """Admin: the users of this company file and the audit-log check."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.verify_task: Task | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.addWidget(_heading(self.tr("Admin")))
        layout.addWidget(_hint(self.tr("The people who can open this company file, and the "
                                       "tamper-evident audit log.")))

        bar = QHBoxLayout()
        bar.addWidget(QLabel(self.tr("<b>Users</b>")))
        bar.addStretch(1)
        self.status = _hint()
        self.status.setWordWrap(False)
        self.status.setObjectName("users_status")
        bar.addWidget(self.status)
        layout.addLayout(bar)
        self.model = RowsModel([
            (self.tr("Login"), lambda u: u.login_name, False),
            (self.tr("Name"), lambda u: u.full_name, False),
            (self.tr("Role"), lambda u: u.role_label, False),
            (self.tr("Status"), lambda u: self.tr("active") if u.active else self.tr("disabled"),
             False),
            (self.tr("Last login"), lambda u: _when(u.last_login_at), False),
        ], self)
        self.table = _table(self.model)
        self.table.setObjectName("users")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        audit_row = QHBoxLayout()
        self.verify_button = QPushButton(self.tr("Verify audit log"))
        self.verify_button.setObjectName("verify_audit")
        self.verify_button.setToolTip(self.tr(
            "Check that no audit event was changed, deleted or reordered"))
        self.verify_button.clicked.connect(self.verify)
        self.verify_button.setEnabled(ctx.actor.can("audit.verify"))
        audit_row.addWidget(self.verify_button)
        self.verify_result = QLabel()
        self.verify_result.setObjectName("verify_result")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        audit_row.addWidget(self.verify_result, 1)
        layout.addLayout(audit_row)
        layout.addWidget(_hint(self.tr(
            "Adding users, editing roles, backups and exports arrive with the “admin” issue.")))

    def reload(self) -> None:
        from erp_desktop.services import users

        self.status.setText(self.tr("Loading…"))
        self.task = run_in_background(users.list_users, self.ctx, parent=self,
                                      on_done=self._loaded_users, on_error=self._users_failed,
                                      name="list users")

    def _loaded_users(self, rows: list[Any]) -> None:
        self.task = None
        self.model.set_rows(rows)
        active = sum(1 for u in rows if u.active)
        if len(rows) == 1:
            self.status.setText(self.tr("1 user, {a} active").format(a=active))
        else:
            self.status.setText(self.tr("{n} users, {a} active").format(n=len(rows), a=active))

    def _users_failed(self, exc: BaseException) -> None:
        self.task = None
        if isinstance(exc, UserError):
            self.status.setText(exc.message)
        else:
            from erp_desktop.ui.errors import show_error

            self.status.setText(self.tr("The users could not be read."))
            show_error(self, exc)

    def verify(self) -> None:
        if self.verify_task is not None:
            return
        from erp_desktop.services import audit

        self.verify_button.setEnabled(False)
        self.verify_result.setStyleSheet(HINT_STYLE)
        self.verify_result.setText(self.tr("Checking every event…"))
        self.verify_task = run_in_background(audit.verify, self.ctx, parent=self,
                                             on_done=self._verified, on_error=self._verify_failed,
                                             name="verify audit")

    def _verified(self, report: Any) -> None:
        self.verify_task = None
        self.verify_button.setEnabled(True)
        if report.ok:
            self.verify_result.setStyleSheet(GOOD_STYLE)
            self.verify_result.setText(self.tr(
                "The audit log is intact: {n} events checked, none changed, deleted or "
                "reordered.").format(n=report.checked))
            self.verify_result.setToolTip(self.tr("Head hash: {h}").format(h=report.head_hash))
        else:
            self.verify_result.setStyleSheet(BAD_STYLE)
            shown = report.problems[:5]
            more = len(report.problems) - len(shown)
            text = self.tr("The audit log has been tampered with: {n} problems.").format(
                n=len(report.problems)) + "\n" + "\n".join(shown)
            if more:
                text += "\n" + self.tr("…and {n} more.").format(n=more)
            self.verify_result.setText(text)

    def _verify_failed(self, exc: BaseException) -> None:
        self.verify_task = None
        self.verify_button.setEnabled(True)
        if isinstance(exc, UserError):
            self.verify_result.setStyleSheet(BAD_STYLE)
            self.verify_result.setText(exc.message)
        else:
            from erp_desktop.ui.errors import show_error

            self.verify_result.setText("")
            show_error(self, exc)


# --------------------------------------------------------------- the window


class MainWindow(QMainWindow):
    """See the module docstring."""

    logout_requested = Signal()
    closed = Signal()  # the controller then logs out and closes the company

    def __init__(self, ctx: Context, *, company_name: str, locale: str = "en_IN",
                 ui_state: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.company_name = company_name
        self.locale = locale
        self.ui_state = ui_state
        self.setObjectName("MainWindow")
        self.setWindowTitle(self.tr("{company} — erp_desktop").format(company=company_name))

        self.areas = visible_areas(ctx.actor.permissions)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFrameShape(QFrame.Shape.NoFrame)
        self.sidebar.setSpacing(2)
        self.sidebar.setMinimumWidth(170)
        self.sidebar.setMaximumWidth(260)
        font = QFont(self.sidebar.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.sidebar.setFont(font)
        self.sidebar.setStyleSheet(
            "QListWidget#sidebar { background: palette(window); outline: 0; }"
            "QListWidget#sidebar::item { padding: 6px 10px; border-radius: 4px; }"
            "QListWidget#sidebar::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); }")
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        for area in self.areas:
            item = QListWidgetItem(_tr(area.title))
            item.setData(Qt.ItemDataRole.UserRole, area.key)
            item.setToolTip(_tr(area.summary))
            self.sidebar.addItem(item)
            self.pages.addWidget(self._page_for(area))
        self.sidebar.currentRowChanged.connect(self.pages.setCurrentIndex)

        splitter = QSplitter()
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([200, 1000])
        self.setCentralWidget(splitter)

        self._build_menu()
        self._build_status_bar()
        self.resize(1200, 760)
        self._restore_state()

    # ---- construction

    def _page_for(self, area: Area) -> QWidget:
        if area.key == "dashboard":
            return DashboardPage(self.ctx, self.company_name, self.areas)
        if area.key == "accounting":
            return TrialBalancePage(self.ctx, self.locale)
        if area.key == "admin":
            return AdminPage(self.ctx)
        return PlaceholderPage(area)

    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.logout_action = QAction(self.tr("&Log out"), self)
        self.logout_action.setObjectName("logout")
        self.logout_action.setShortcut(QKeySequence(self.tr("Ctrl+L")))
        self.logout_action.setStatusTip(self.tr("Close the company file and return to the "
                                                "login window"))
        self.logout_action.triggered.connect(self.logout_requested)
        file_menu.addAction(self.logout_action)
        file_menu.addSeparator()
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        about = QAction(self.tr("&About erp_desktop"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.status_user = QLabel(self.ctx.actor.full_name)
        self.status_user.setObjectName("status_user")
        self.status_role = QLabel(role_label(self.ctx.actor.role_name))
        self.status_role.setObjectName("status_role")
        self.status_company = QLabel(self.company_name)
        self.status_company.setObjectName("status_company")
        self.status_sync = QLabel(self.tr("Sync: off"))
        self.status_sync.setObjectName("status_sync")
        self.status_sync.setToolTip(self.tr("This computer is not connected to a cloud tenant."))
        bar.setSizeGripEnabled(True)
        widgets = (self.status_user, self.status_role, self.status_company, self.status_sync)
        for i, widget in enumerate(widgets):
            widget.setContentsMargins(6, 0, 6, 0)
            if i:
                separator = QFrame()
                separator.setFrameShape(QFrame.Shape.VLine)
                separator.setFrameShadow(QFrame.Shadow.Sunken)
                bar.addPermanentWidget(separator)
            bar.addPermanentWidget(widget)

    def _about(self) -> None:
        from erp_desktop import __version__

        QMessageBox.about(self, self.tr("About erp_desktop"), self.tr(
            "<b>erp_desktop</b> {version}<br>Inventory, invoicing, ledger and HR for a small "
            "business, in an encrypted company file.").format(version=__version__))

    # ---- navigation

    def area_keys(self) -> list[str]:
        return [a.key for a in self.areas]

    def show_area(self, key: str) -> None:
        keys = self.area_keys()
        if key in keys:
            self.sidebar.setCurrentRow(keys.index(key))

    def current_area(self) -> str | None:
        row = self.sidebar.currentRow()
        return self.areas[row].key if 0 <= row < len(self.areas) else None

    def page(self, key: str) -> QWidget:
        return self.pages.widget(self.area_keys().index(key))

    # ---- state

    def _restore_state(self) -> None:
        start = "dashboard"
        if self.ui_state is not None:
            geometry = self.ui_state.value("main_window/geometry")
            if geometry is not None:
                self.restoreGeometry(geometry)
            saved = self.ui_state.value("main_window/area")
            if isinstance(saved, str) and saved in self.area_keys():
                start = saved
        self.show_area(start)

    def save_state(self) -> None:
        if self.ui_state is None:
            return
        self.ui_state.setValue("main_window/geometry", self.saveGeometry())
        self.ui_state.setValue("main_window/area", self.current_area() or "dashboard")
        self.ui_state.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        super().closeEvent(event)
        self.closed.emit()
