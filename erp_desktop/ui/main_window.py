"""The main window: a sidebar of the areas this user may open, a toolbar, a page per area.

The sidebar shows only the areas the user's role allows (the services refuse
the rest anyway; hiding them just spares people a door that will not open).
Each area's page is built the first time it is opened (`PAGES`: the area key
and a factory taking a `PageEnv`); an area without a factory yet shows a
placeholder saying what arrives with which issue. To add an area page, write
a `CommandPage` subclass and register its factory in `PAGES`.

The toolbar and the menus hold the common commands (`ui.shortcuts`: New
Ctrl+N, Find Ctrl+F, Save Ctrl+S, Print Ctrl+P, Refresh F5, Next/Previous
record Ctrl+PgDown/PgUp or Alt+Right/Left, Log out Ctrl+L); each goes to the
page on screen, and a command that page cannot run now is greyed out.
Ctrl+1 … Ctrl+9 open the areas in sidebar order. Every database call goes
through `ui.worker`, so the window keeps painting while a report is computed.

Window geometry, the last area and the chosen theme are kept in the
per-installation `QSettings` handed in by the controller.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QSettings, QSize, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QFont, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.services.authz import DEFAULT_ROLES
from erp_desktop.ui.icons import icon
from erp_desktop.ui.shortcuts import COMMANDS, Command, CommandPage, make_action
from erp_desktop.ui.widgets import PageEnv, heading, hint

if TYPE_CHECKING:
    from erp_desktop.services.context import Context


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
    icon: str = "dashboard"


AREAS: tuple[Area, ...] = (
    Area("dashboard", _noop("Dashboard"), (),
         _noop("Today at a glance: sales, payments due, low stock."), (), "dashboard"),
    Area("sales", _noop("Sales"), ("sales.view",),
         _noop("The counter, customers, invoices, payments and credit notes."), (), "sales"),
    Area("purchases", _noop("Purchases"), ("purchases.view",),
         _noop("Vendors, purchase orders, goods received and vendor bills."), (), "purchases"),
    Area("inventory", _noop("Inventory"), ("inventory.view",),
         _noop("Products, warehouses, stock moves and stock-takes."), (), "inventory"),
    Area("hr", _noop("HR"), ("hr.employees.view", "hr.payroll.view", "hr.claims.approve"),
         _noop("Employees, salary structures, payroll, payslips and expense claims."), (), "hr"),
    # Self-service: one's own claims and payslips, and a line manager's claims to decide.
    Area("me", _noop("Me"), ("hr.claims.own",),
         _noop("Your own expense claims and payslips."), (), "user"),
    Area("accounting", _noop("Accounting"), ("ledger.view",),
         _noop("The ledger: chart of accounts, journal entries and the trial balance."),
         (), "accounting"),
    # Each report shows only to the roles that may read it (ui.reports_pages).
    Area("reports", _noop("Reports"), ("reports.financial", "sales.reports", "inventory.view",
                                       "hr.payroll.view"),
         _noop("Profit and loss, balance sheet, tax summary, ageing, stock and payroll."),
         (), "reports"),
    Area("admin", _noop("Admin"), ("users.view", "roles.view", "audit.view", "audit.verify",
                                   "backup.create", "backup.restore", "data.export",
                                   "data.import", "person.report", "person.anonymise"),
         _noop("Users and roles, the audit log, backups, data exports and a person's data."),
         (), "admin"),
    Area("settings", _noop("Settings"), (),
         _noop("Your password, this computer, and the company's settings."),
         (("sync", _noop("Sync with the cloud tenant (off until it is set up)")),), "settings"),
)


def visible_areas(permissions: frozenset[str] | set[str]) -> list[Area]:
    """The areas a user with `permissions` sees, in sidebar order."""
    return [a for a in AREAS if not a.any_of or any(p in permissions for p in a.any_of)]


def role_label(role_name: str) -> str:
    builtin = DEFAULT_ROLES.get(role_name)
    return _tr(builtin[0]) if builtin else role_name


# --------------------------------------------------------------------- pages


def _coming_text(area: Area) -> str:
    items = "".join(
        "<li>" + _tr("{features} — with the “{issue}” issue").format(
            features=_tr(features), issue=issue) + "</li>"
        for issue, features in area.arrives)
    return "<p>" + _tr("Coming here:") + "</p><ul>" + items + "</ul>"


class PlaceholderPage(CommandPage):
    """An area that is not built yet, saying honestly what will come and when."""

    def __init__(self, area: Area, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 18)
        layout.addWidget(heading(_tr(area.title)))
        layout.addWidget(hint(_tr(area.summary)))
        body = QLabel(_coming_text(area))
        body.setObjectName("coming")
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(body)
        layout.addStretch(1)


def _dashboard(env: PageEnv) -> QWidget:
    from erp_desktop.ui.dashboard import DashboardPage

    return DashboardPage(env)


def _accounting(env: PageEnv) -> QWidget:
    from erp_desktop.ui.accounting_pages import AccountingPage

    return AccountingPage(env)


def _admin(env: PageEnv) -> QWidget:
    from erp_desktop.ui.admin_pages import AdminPage

    return AdminPage(env)


def _settings(env: PageEnv) -> QWidget:
    from erp_desktop.ui.settings_page import SettingsPage

    return SettingsPage(env)


def _sales(env: PageEnv) -> QWidget:
    from erp_desktop.ui.sales_pages import SalesPage

    return SalesPage(env)


def _purchases(env: PageEnv) -> QWidget:
    from erp_desktop.ui.purchase_pages import PurchasesPage

    return PurchasesPage(env)


def _inventory(env: PageEnv) -> QWidget:
    from erp_desktop.ui.inventory_pages import InventoryPage

    return InventoryPage(env)


def _hr(env: PageEnv) -> QWidget:
    from erp_desktop.ui.hr_pages import HrPage

    return HrPage(env)


def _me(env: PageEnv) -> QWidget:
    from erp_desktop.ui.self_service import SelfServicePage

    return SelfServicePage(env)


def _reports(env: PageEnv) -> QWidget:
    from erp_desktop.ui.reports_pages import ReportsPage

    return ReportsPage(env)


# Area key -> page factory; each area's module is imported when first opened.
PAGES: dict[str, Callable[[PageEnv], QWidget]] = {
    "dashboard": _dashboard,
    "sales": _sales,
    "purchases": _purchases,
    "inventory": _inventory,
    "hr": _hr,
    "me": _me,
    "accounting": _accounting,
    "reports": _reports,
    "admin": _admin,
    "settings": _settings,
}


# --------------------------------------------------------------- the window


class MainWindow(QMainWindow):
    """See the module docstring."""

    logout_requested = Signal()
    closed = Signal()  # the controller then logs out and closes the company
    restore_requested = Signal(object)  # an admin_pages.RestoreRequest
    theme_changed = Signal(str)
    idle_lock_changed = Signal(int)  # minutes; 0: never

    def __init__(self, ctx: Context, *, company_name: str, locale: str = "en_IN",
                 ui_state: QSettings | None = None, keychain: Any = None,
                 idle_lock_minutes: int = 15, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.company_name = company_name
        self.locale = locale
        self.ui_state = ui_state
        self.env = PageEnv(ctx, locale, company_name, self._page_request, keychain,
                           idle_lock_minutes, ui_state)
        self.setObjectName("MainWindow")
        self.setWindowTitle(self.tr("{company} — erp_desktop").format(company=company_name))
        self.setWindowIcon(icon("company"))

        self.areas = visible_areas(ctx.actor.permissions)
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFrameShape(QFrame.Shape.NoFrame)
        self.sidebar.setSpacing(2)
        self.sidebar.setIconSize(QSize(20, 20))
        self.sidebar.setMinimumWidth(170)
        self.sidebar.setMaximumWidth(260)
        font = QFont(self.sidebar.font())
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.sidebar.setFont(font)
        self.sidebar.setStyleSheet(
            "QListWidget#sidebar { background: palette(window); outline: 0; }"
            "QListWidget#sidebar::item { padding: 7px 10px; border-radius: 4px; }"
            "QListWidget#sidebar::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); }")
        self.pages = QStackedWidget()
        self.pages.setObjectName("pages")
        self._built: dict[str, QWidget] = {}
        for number, area in enumerate(self.areas, start=1):
            item = QListWidgetItem(icon(area.icon), _tr(area.title))
            item.setData(Qt.ItemDataRole.UserRole, area.key)
            tip = _tr(area.summary)
            if number <= 9:
                tip += f" (Ctrl+{number})"
            item.setToolTip(tip)
            self.sidebar.addItem(item)
            self.pages.addWidget(QWidget())  # replaced by the real page when first opened
        self.sidebar.currentRowChanged.connect(self._area_changed)

        splitter = QSplitter()
        splitter.addWidget(self.sidebar)
        splitter.addWidget(self.pages)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(0, False)
        splitter.setSizes([200, 1000])
        self.setCentralWidget(splitter)

        self.actions_by_command: dict[Command, QAction] = {}
        self._build_actions()
        self._build_menu()
        self._build_toolbar()
        self._build_status_bar()
        self.resize(1200, 760)
        self._restore_state()

    # ---- construction

    def _page_for(self, area: Area) -> QWidget:
        factory = PAGES.get(area.key)
        page = factory(self.env) if factory is not None else PlaceholderPage(area)
        page.setObjectName(f"page_{area.key}")
        return page

    def _build_actions(self) -> None:
        for command in COMMANDS:
            action = make_action(command, self)
            if command == Command.LOGOUT:
                action.triggered.connect(self.logout_requested)
            else:
                action.triggered.connect(lambda _c=False, cmd=command: self.run_command(cmd))
            self.actions_by_command[command] = action
            self.addAction(action)
        self.logout_action = self.actions_by_command[Command.LOGOUT]
        self.area_actions: list[QAction] = []
        for number, area in enumerate(self.areas[:9], start=1):
            action = QAction(icon(area.icon), _tr(area.title), self)
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            action.triggered.connect(lambda _c=False, key=area.key: self.show_area(key))
            self.addAction(action)
            self.area_actions.append(action)

    def _build_menu(self) -> None:
        a = self.actions_by_command
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        for command in (Command.NEW, Command.SAVE, Command.PRINT):
            file_menu.addAction(a[command])
        file_menu.addSeparator()
        file_menu.addAction(a[Command.LOGOUT])
        quit_action = QAction(self.tr("&Quit"), self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        edit_menu = self.menuBar().addMenu(self.tr("&Edit"))
        edit_menu.addAction(a[Command.FIND])
        go_menu = self.menuBar().addMenu(self.tr("&Go"))
        for command in (Command.PREVIOUS, Command.NEXT, Command.REFRESH):
            go_menu.addAction(a[command])
        go_menu.addSeparator()
        for action in self.area_actions:
            go_menu.addAction(action)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        theme_menu = view_menu.addMenu(self.tr("&Theme"))
        self.theme_group = QActionGroup(self)
        saved = self.ui_state.value("theme") if self.ui_state is not None else None
        for key, text in (("system", self.tr("Follow the system")),
                          ("light", self.tr("Light")), ("dark", self.tr("Dark"))):
            action = QAction(text, self)
            action.setCheckable(True)
            action.setChecked(key == (saved or "system"))
            action.setData(key)
            action.triggered.connect(lambda _c=False, k=key: self.set_theme(k))
            self.theme_group.addAction(action)
            theme_menu.addAction(action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        keys = QAction(self.tr("&Keyboard shortcuts"), self)
        keys.triggered.connect(self._show_shortcuts)
        help_menu.addAction(keys)
        about = QAction(self.tr("&About erp_desktop"), self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _build_toolbar(self) -> None:
        bar = QToolBar(self.tr("Main"))
        bar.setObjectName("main_toolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(18, 18))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        a = self.actions_by_command
        for command in (Command.NEW, Command.SAVE, Command.PRINT):
            bar.addAction(a[command])
        bar.addSeparator()
        for command in (Command.FIND, Command.REFRESH):
            bar.addAction(a[command])
        bar.addSeparator()
        for command in (Command.PREVIOUS, Command.NEXT):
            bar.addAction(a[command])
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(a[Command.LOGOUT])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.toolbar = bar

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

    def _show_shortcuts(self) -> None:
        rows = []
        for spec in COMMANDS.values():
            keys = ", ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText)
                             for k in spec.keys)
            title = QCoreApplication.translate("commands", spec.title).replace("&", "")
            rows.append(f"<tr><td>{title}</td><td><b>{keys}</b></td></tr>")
        rows.append("<tr><td>" + self.tr("Open an area") + "</td><td><b>Ctrl+1 … Ctrl+9</b>"
                    "</td></tr>")
        rows.append("<tr><td>" + self.tr("First / last row of a list") +
                    "</td><td><b>Ctrl+Home, Ctrl+End</b></td></tr>")
        box = QMessageBox(QMessageBox.Icon.NoIcon, self.tr("Keyboard shortcuts"),
                          "<table cellpadding='4'>" + "".join(rows) + "</table>",
                          QMessageBox.StandardButton.Close, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

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
        """The page of area `key`, built on first use."""
        if key in self._built:
            return self._built[key]
        index = self.area_keys().index(key)
        page = self._page_for(self.areas[index])
        old = self.pages.widget(index)
        current = self.pages.currentIndex()
        self.pages.insertWidget(index, page)
        self.pages.removeWidget(old)
        old.deleteLater()
        if current == index:
            self.pages.setCurrentIndex(index)
        self._built[key] = page
        if isinstance(page, CommandPage):
            page.commands_changed.connect(self._update_commands)
        return page

    def _area_changed(self, row: int) -> None:
        if not 0 <= row < len(self.areas):
            return
        page = self.page(self.areas[row].key)
        self.pages.setCurrentIndex(row)
        if isinstance(page, CommandPage):
            page.on_shown()
        self._update_commands()

    def current_page(self) -> QWidget | None:
        key = self.current_area()
        return self._built.get(key) if key is not None else None

    # ---- commands

    def command_target(self) -> CommandPage | None:
        page = self.current_page()
        return page if isinstance(page, CommandPage) else None

    def available_commands(self) -> set[Command]:
        target = self.command_target()
        return target.commands() if target is not None else set()

    def run_command(self, command: Command) -> None:
        target = self.command_target()
        if target is not None and command in target.commands():
            target.run_command(command)

    def _update_commands(self) -> None:
        available = self.available_commands()
        for command, action in self.actions_by_command.items():
            if command != Command.LOGOUT:
                action.setEnabled(command in available)

    # ---- requests from pages

    def _page_request(self, what: str, payload: Any) -> None:
        if what == "restore":
            self.restore_requested.emit(payload)
        elif what == "idle_lock_minutes":
            self.env.idle_lock_minutes = int(payload)
            self.idle_lock_changed.emit(int(payload))

    def set_theme(self, mode: str) -> None:
        from erp_desktop.ui.theme import apply_theme

        app = QApplication.instance()
        if isinstance(app, QApplication):
            apply_theme(app, mode)
        if self.ui_state is not None:
            self.ui_state.setValue("theme", mode)
        for action in self.theme_group.actions():
            action.setChecked(action.data() == mode)
        self.theme_changed.emit(mode)

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
