"""Admin: users, roles and their permissions, the audit log, login history, backup and restore.

Every tab reads through the services on the worker and shows only what the
user's role allows (the services refuse the rest anyway). Users are a paged
list with Add (Ctrl+N), Edit, Reset password, Change role and Disable/Enable,
each a `FormDialog` whose refusals (a login name taken, a weak password, the
last admin) appear next to the field. The role editor is a checkbox tree of
the permission catalogue grouped by area; Save (Ctrl+S) replaces the role's
permissions with optimistic locking, so an edit made meanwhile by another
admin is reported with Reload. The audit log is a paged list with Verify.
Backups run with a progress dialog and Cancel; a restore asks the main
window to close the company first (`PageEnv.request("restore", ...)`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QDir, Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.passwords import password_strength_hint
from erp_desktop.services.authz import DEFAULT_ROLES, PERMISSIONS
from erp_desktop.services.listing import ListSource
from erp_desktop.ui.forms import Form, FormDialog
from erp_desktop.ui.icons import icon
from erp_desktop.ui.list_page import ListPanel
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import PageEnv, heading, hint, message_style, page_frame
from erp_desktop.ui.worker import CancelToken, Task, run_in_background


def _tr(text: str) -> str:
    return QCoreApplication.translate("admin", text)


def _noop(text: str) -> str:
    return text


# The areas of the permission editor, by the permission's first word.
PERMISSION_AREAS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (_noop("Company and administration"),
     ("company", "settings", "users", "roles", "audit", "backup", "data", "person",
      "retention")),
    (_noop("Accounting"), ("ledger", "reports")),
    (_noop("Sales"), ("sales",)),
    (_noop("Purchases"), ("purchases",)),
    (_noop("Inventory"), ("inventory",)),
    (_noop("HR and payroll"), ("hr",)),
)


def permissions_by_area() -> list[tuple[str, list[tuple[str, str]]]]:
    """The permission catalogue in editor order: (area title, [(name, meaning)])."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    placed: set[str] = set()
    for title, prefixes in PERMISSION_AREAS:
        items = [(p, d) for p, d in PERMISSIONS.items() if p.split(".", 1)[0] in prefixes]
        placed.update(p for p, _d in items)
        out.append((title, items))
    rest = [(p, d) for p, d in PERMISSIONS.items() if p not in placed]
    if rest:
        out.append((_noop("Other"), rest))
    return out


def strength_text(password: str) -> tuple[str, str]:
    """(text, kind) for the strength line under a new password."""
    if not password:
        return "", "hint"
    level = password_strength_hint(password)
    if level == "weak":
        return _tr("Strength: weak. Use at least 10 characters; a few words make a good "
                   "password."), "error"
    if level == "fair":
        return _tr("Strength: fair. Longer is stronger."), "warning"
    return _tr("Strength: strong."), "success"


def add_password_fields(form: Form, *, label: str = "", field: str = "password") -> QLineEdit:
    """A new password, its confirmation, and a live strength line under them."""
    password = form.add_text(field, label or _tr("Password"), required=True, password=True,
                             max_length=256)
    form.add_text("confirm", _tr("Repeat password"), required=True, password=True,
                  max_length=256, checks=[lambda v: None if v == password.text() else
                                          _tr("The two passwords differ.")])
    strength = QLabel()
    strength.setObjectName("strength")
    strength.setWordWrap(True)
    row = form.fields[field].row  # under the new password, above its own error line
    box = row.layout() if row is not None else None
    if isinstance(box, QVBoxLayout):
        box.insertWidget(1, strength)

    def update(text: str) -> None:
        message, kind = strength_text(text)
        strength.setText(message)
        strength.setStyleSheet(message_style(kind))
        if form.fields["confirm"].touched:
            form.field_changed("confirm")  # "the two passwords differ" may now be wrong

    password.textChanged.connect(update)
    return password


# ===================================================================== users


class UserDialog(FormDialog):
    """Add a user: login, name, e-mail, role and a first password."""

    def __init__(self, env: PageEnv, roles: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("Add a user"), locale=env.locale, parent=parent,
                         save_text=_tr("Add user"), intro=_tr(
                             "The new user logs in with this login name and password. Tell "
                             "them the password in person; they can change it later."))
        self.env = env
        self.form.add_text("login_name", _tr("Login name"), required=True, max_length=64,
                           placeholder="ravi")
        self.form.add_text("full_name", _tr("Full name"), required=True, max_length=200)
        self.form.add_text("email", _tr("E-mail"), max_length=200)
        self.form.add_choice("role_name", _tr("Role"), roles, value="sales_clerk")
        add_password_fields(self.form)

    def save(self) -> None:
        from erp_desktop.services import users

        v = self.form.values()
        self.form.submit(users.add_user, self.env.ctx, v["login_name"], v["full_name"],
                         self.form.raw("password"), v["role_name"], email=v["email"] or None,
                         on_done=self.saved)


class EditUserDialog(FormDialog):
    """Name and contact details, with optimistic locking (Reload on a conflict)."""

    FIELDS = ("full_name", "email", "phone", "job_title", "department")

    def __init__(self, env: PageEnv, user: Any, parent: QWidget | None = None) -> None:
        super().__init__(_tr("User {login}").format(login=user.login_name), locale=env.locale,
                         parent=parent)
        self.env = env
        self.user_id: uuid.UUID = user.id
        self.version: int = user.version
        labels = {"full_name": _tr("Full name"), "email": _tr("E-mail"), "phone": _tr("Phone"),
                  "job_title": _tr("Job title"), "department": _tr("Department")}
        for name in self.FIELDS:
            self.form.add_text(name, labels[name], value=getattr(user, name, "") or "",
                               required=name == "full_name", max_length=200)
        self.form.reload_requested.connect(self.reload)

    def reload(self) -> None:
        from erp_desktop.services import users

        run_in_background(users.list_users, self.env.ctx, parent=self, name="reload user",
                          on_done=self._reloaded, on_error=self.form.show_error)

    def _reloaded(self, rows: list[Any]) -> None:
        for row in rows:
            if row.id == self.user_id:
                self.version = row.version
                self.form.set_values({n: getattr(row, n) or "" for n in self.FIELDS})
                self.form.show_banner(_tr("Reloaded: these are the details as saved now."),
                                      kind="success")

    def save(self) -> None:
        from erp_desktop.services import users

        v = self.form.values()
        self.form.submit(users.update_user, self.env.ctx, self.user_id, self.version,
                         **{n: v[n] or None for n in self.FIELDS}, on_done=self.saved)


class PasswordDialog(FormDialog):
    """Reset someone's password, or enable a disabled login with a new one."""

    def __init__(self, env: PageEnv, user: Any, *, enable: bool = False,
                 parent: QWidget | None = None) -> None:
        title = _tr("Enable {login}") if enable else _tr("New password for {login}")
        super().__init__(title.format(login=user.login_name), locale=env.locale, parent=parent,
                         save_text=_tr("Enable") if enable else _tr("Set password"),
                         intro=_tr("The old password stops working at once."))
        self.env = env
        self.user_id: uuid.UUID = user.id
        self.enable = enable
        add_password_fields(self.form, label=_tr("New password"))
        self.form.alias("new_password", "password")

    def save(self) -> None:
        from erp_desktop.services import users

        fn = users.enable_user if self.enable else users.reset_password
        self.form.submit(fn, self.env.ctx, self.user_id, self.form.raw("password"),
                         on_done=self.saved)


class RoleChoiceDialog(FormDialog):
    def __init__(self, env: PageEnv, user: Any, roles: list[tuple[str, str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(_tr("Role of {login}").format(login=user.login_name),
                         locale=env.locale, parent=parent, save_text=_tr("Change role"),
                         intro=_tr("The new role applies from the user's next login."))
        self.env = env
        self.user_id: uuid.UUID = user.id
        self.form.add_choice("role_name", _tr("Role"), roles, value=user.role_name)

    def save(self) -> None:
        from erp_desktop.services import users

        self.form.submit(users.set_role, self.env.ctx, self.user_id,
                         self.form.value("role_name"), on_done=self.saved)


def _role_items(rows: list[Any] | None) -> list[tuple[str, str]]:
    if rows:
        return [(r.name, r.label) for r in rows]
    return [(name, _tr(label)) for name, (label, _d, _p) in DEFAULT_ROLES.items()]


class UsersTab(CommandPage):
    """The users (paged) with the actions an admin takes on them."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import list_queries

        self.env = env
        self.may_manage = env.can("users.manage")
        self.roles: list[Any] | None = None
        self.last_dialog: FormDialog | None = None
        self.add_action = QAction(icon("new"), self.tr("Add user…"), self)
        self.add_action.setObjectName("add_user")
        self.add_action.setToolTip(self.tr("Add a user (Ctrl+N)"))
        self.add_action.triggered.connect(lambda: self.add_user())
        self.edit_action = QAction(icon("edit"), self.tr("Edit…"), self)
        self.edit_action.setObjectName("edit_user")
        self.edit_action.triggered.connect(lambda: self.edit_user())
        self.password_action = QAction(icon("key"), self.tr("Reset password…"), self)
        self.password_action.setObjectName("reset_password")
        self.password_action.triggered.connect(lambda: self.reset_password())
        self.role_action = QAction(icon("role"), self.tr("Change role…"), self)
        self.role_action.setObjectName("change_role")
        self.role_action.triggered.connect(lambda: self.change_role())
        self.disable_action = QAction(icon("disable"), self.tr("Disable"), self)
        self.disable_action.setObjectName("disable_user")
        self.disable_action.triggered.connect(lambda: self.toggle_active())
        actions = [self.add_action, self.edit_action, self.password_action, self.role_action,
                   self.disable_action] if self.may_manage else []
        self.list = ListPanel(ListSource(list_queries.USERS, env.ctx), locale=env.locale,
                              noun=(self.tr("user"), self.tr("users")),
                              search_hint=self.tr("Search login, name or role…"),
                              actions=actions,
                              on_new=self.add_user if self.may_manage else None)
        self.list.current_row_changed.connect(self._selection)
        self.list.row_activated.connect(lambda row: self.edit_user(row))
        self.list.commands_changed.connect(self.commands_changed)
        self.model = self.list.model
        self.message = QLabel()
        self.message.setObjectName("users_message")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.message)
        self._selection(None)

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def _selection(self, row: Any) -> None:
        selected = row is not None and self.may_manage
        for action in (self.edit_action, self.password_action, self.role_action,
                       self.disable_action):
            action.setEnabled(selected)
        if row is not None:
            self.password_action.setEnabled(selected and row.active)
            self.disable_action.setText(self.tr("Disable") if row.active
                                        else self.tr("Enable…"))
            self.disable_action.setIcon(icon("disable" if row.active else "enable"))

    def _say(self, text: str, kind: str = "success") -> None:
        self.message.setStyleSheet(message_style(kind))
        self.message.setText(text)

    def _with_roles(self, then: Any) -> None:
        if self.roles is not None or not self.env.can("roles.view"):
            then(_role_items(self.roles))
            return
        from erp_desktop.services import roles

        def loaded(rows: list[Any]) -> None:
            self.roles = rows
            then(_role_items(rows))

        run_in_background(roles.list_roles, self.env.ctx, parent=self, name="roles",
                          on_done=loaded, on_error=lambda _e: then(_role_items(None)))

    def _open(self, dialog: FormDialog, done_text: str) -> FormDialog:
        def accepted() -> None:
            self.list.refresh()
            self._say(done_text.format(login=getattr(dialog.result_value, "login_name", "")))

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def add_user(self) -> None:
        self._with_roles(lambda items: self._open(
            UserDialog(self.env, items, parent=self), self.tr("User {login} added.")))

    def edit_user(self, row: Any = None) -> FormDialog | None:
        row = row or self.list.current_row()
        if row is None or not self.may_manage:
            return None
        from erp_desktop.services import users

        def loaded(rows: list[Any]) -> None:
            for full in rows:
                if full.id == row.id:
                    self.last_dialog = self._open(EditUserDialog(self.env, full, parent=self),
                                                  self.tr("User {login} saved."))

        run_in_background(users.list_users, self.env.ctx, parent=self, name="user",
                          on_done=loaded)
        return None

    def reset_password(self, row: Any = None) -> FormDialog | None:
        row = row or self.list.current_row()
        if row is None:
            return None
        return self._open(PasswordDialog(self.env, row, parent=self),
                          self.tr("The password of {login} was changed."))

    def change_role(self, row: Any = None) -> None:
        row = row or self.list.current_row()
        if row is None:
            return
        self._with_roles(lambda items: self._open(
            RoleChoiceDialog(self.env, row, items, parent=self),
            self.tr("The role of {login} was changed; it applies at their next login.")))

    def toggle_active(self, row: Any = None) -> None:
        row = row or self.list.current_row()
        if row is None:
            return
        if not row.active:
            self._open(PasswordDialog(self.env, row, enable=True, parent=self),
                       self.tr("{login} can log in again."))
            return
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Disable user"), self.tr(
            "Disable {login}? They will no longer be able to open the company file. "
            "You can enable the login again later.").format(login=row.login_name),
            QMessageBox.StandardButton.Cancel, self)
        disable = box.addButton(self.tr("Disable"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: Any) -> None:
            if button is disable:
                self.disable(row)

        box.buttonClicked.connect(answered)
        box.open()

    def disable(self, row: Any) -> Task:
        from erp_desktop.services import users

        def failed(exc: BaseException) -> None:
            self._say(getattr(exc, "message", str(exc)), "error")

        return run_in_background(
            users.disable_user, self.env.ctx, row.id, parent=self, name="disable user",
            on_done=lambda r: (self.list.refresh(),
                               self._say(self.tr("{login} is disabled.").format(
                                   login=r.login_name))),
            on_error=failed)


# ===================================================================== roles


class PermissionTree(QTreeWidget):
    """Every permission as a check box, grouped by area (parents are tri-state)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("permissions")
        self.setColumnCount(2)
        self.setHeaderLabels([self.tr("Permission"), self.tr("Allows")])
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.items: dict[str, QTreeWidgetItem] = {}
        for title, perms in permissions_by_area():
            group = QTreeWidgetItem(self, [_tr(title), ""])
            group.setFlags(group.flags() | Qt.ItemFlag.ItemIsUserCheckable
                           | Qt.ItemFlag.ItemIsAutoTristate)
            group.setCheckState(0, Qt.CheckState.Unchecked)
            font = group.font(0)
            font.setBold(True)
            group.setFont(0, font)
            for name, meaning in perms:
                item = QTreeWidgetItem(group, [name, _tr(meaning)])
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(0, Qt.CheckState.Unchecked)
                item.setToolTip(1, _tr(meaning))
                self.items[name] = item
        self.expandAll()
        self.setStyleSheet("QTreeWidget::item { padding: 2px 0px; }")  # room to click a box
        self.header().setStretchLastSection(True)
        self.setColumnWidth(0, 280)

    def set_checked(self, permissions: frozenset[str] | set[str]) -> None:
        self.blockSignals(True)
        for name, item in self.items.items():
            item.setCheckState(0, Qt.CheckState.Checked if name in permissions
                               else Qt.CheckState.Unchecked)
        self.blockSignals(False)

    def checked(self) -> frozenset[str]:
        return frozenset(n for n, item in self.items.items()
                         if item.checkState(0) == Qt.CheckState.Checked)

    def set_permission(self, name: str, on: bool) -> None:
        self.items[name].setCheckState(0, Qt.CheckState.Checked if on
                                       else Qt.CheckState.Unchecked)


class NewRoleDialog(FormDialog):
    def __init__(self, env: PageEnv, roles: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(_tr("New role"), locale=env.locale, parent=parent,
                         save_text=_tr("Create role"), intro=_tr(
                             "Start from an existing role's permissions, then adjust them "
                             "in the editor."))
        self.env = env
        self.roles = {r.name: r for r in roles}
        self.form.add_text("label", _tr("Label"), required=True, max_length=80,
                           placeholder=_tr("Cashier"))
        self.form.add_text("name", _tr("Name"), required=True, max_length=40,
                           placeholder="cashier",
                           hint=_tr("Lowercase letters, digits and _; used by the command line."))
        self.form.add_choice("copy_from", _tr("Copy permissions of"),
                             [("", _tr("(none)"))] + [(r.name, r.label) for r in roles])
        label = self.form.fields["label"].widget
        assert isinstance(label, QLineEdit)
        label.textEdited.connect(self._suggest_name)

    def _suggest_name(self, text: str) -> None:
        name = self.form.fields["name"]
        if not name.touched:
            slug = "".join(c if c.isalnum() else "_" for c in text.strip().lower()).strip("_")
            self.form.set_value("name", slug[:40])
            name.touched = False

    def save(self) -> None:
        from erp_desktop.services import roles

        v = self.form.values()
        source = self.roles.get(v["copy_from"] or "")
        perms = sorted(source.permissions) if source is not None else []
        self.form.submit(roles.create_role, self.env.ctx, v["name"], v["label"], perms,
                         on_done=self.saved)


class RolesTab(CommandPage):
    """Roles on the left; the selected role's permissions as a checkbox tree."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.may_manage = env.can("roles.manage")
        self.roles: list[Any] = []
        self.role: Any = None
        self.task: Task | None = None
        self.dirty = False
        self.role_list = QListWidget()
        self.role_list.setObjectName("roles")
        self.role_list.currentRowChanged.connect(self._role_chosen)
        self.role_list.setMaximumWidth(280)
        self.role_list.setMinimumWidth(180)
        self.new_button = QPushButton(icon("new"), self.tr("New role…"))
        self.new_button.setObjectName("new_role")
        self.new_button.clicked.connect(self.new_role)
        self.new_button.setVisible(self.may_manage)
        left = QWidget()
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(0, 0, 0, 0)
        left_box.addWidget(self.role_list, 1)
        left_box.addWidget(self.new_button)

        self.title = heading("", 1.15)
        self.title.setObjectName("role_title")
        self.description = hint()
        self.tree = PermissionTree()
        self.tree.itemChanged.connect(self._edited)
        self.tree.setEnabled(self.may_manage)
        self.form = Form(self, locale=env.locale)
        self.form.add_widget("permissions", "", self.tree, value=self.tree.checked,
                             stretch=True)
        self.form.reload_requested.connect(self.reload)
        self.save_button = QPushButton(icon("save"), self.tr("Save"))
        self.save_button.setObjectName("save_role")
        self.save_button.setToolTip(self.tr("Save the role's permissions (Ctrl+S)"))
        self.save_button.clicked.connect(self.save)
        self.save_button.setEnabled(False)
        self.save_button.setVisible(self.may_manage)
        self.status = hint()
        self.status.setObjectName("role_status")
        right = QWidget()
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(0, 0, 0, 0)
        right_box.addWidget(self.title)
        right_box.addWidget(self.description)
        right_box.addWidget(self.form.widget, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save_button)
        right_box.addLayout(bottom)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(splitter)
        QShortcut(QKeySequence("Ctrl+S"), self, activated=self.save,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self._loaded = False

    def on_shown(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.reload()

    def commands(self) -> set[Command]:
        out = {Command.REFRESH}
        if self.may_manage:
            out.add(Command.NEW)
            if self.dirty:
                out.add(Command.SAVE)
        return out

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.reload()
        elif command == Command.NEW:
            self.new_role()
        elif command == Command.SAVE:
            self.save()

    def reload(self, select: str | None = None) -> None:
        from erp_desktop.services import roles

        keep = select or (self.role.name if self.role is not None else None)
        self.status.setText(self.tr("Loading…"))
        self.task = run_in_background(roles.list_roles, self.env.ctx, parent=self,
                                      name="roles", on_done=lambda rows: self._loaded_roles(
                                          rows, keep), on_error=self.form.show_error)

    def _loaded_roles(self, rows: list[Any], keep: str | None) -> None:
        self.task = None
        self.roles = rows
        self.role = None
        self.role_list.blockSignals(True)
        self.role_list.clear()
        chosen = 0
        for i, role in enumerate(rows):
            item = QListWidgetItem(icon("role"), role.label)
            item.setData(Qt.ItemDataRole.UserRole, role.name)
            n = role.user_count
            item.setToolTip(self.tr("{name} · {n} users").format(name=role.name, n=n))
            self.role_list.addItem(item)
            if role.name == keep:
                chosen = i
        self.role_list.blockSignals(False)
        self.status.setText("")
        if rows:
            self.role_list.setCurrentRow(chosen)
            self._role_chosen(chosen)

    def select_role(self, name: str) -> None:
        for i, role in enumerate(self.roles):
            if role.name == name:
                self.role_list.setCurrentRow(i)

    def _role_chosen(self, row: int) -> None:
        if not 0 <= row < len(self.roles):
            return
        self.role = self.roles[row]
        self.title.setText(self.role.label)
        users = self.tr("1 user") if self.role.user_count == 1 else self.tr(
            "{n} users").format(n=self.role.user_count)
        about = self.role.description or ""
        self.description.setText(f"{about} · {users}" if about else users)
        self.tree.set_checked(self.role.permissions)
        self.form.clear_errors()
        self._set_dirty(False)

    def _edited(self, item: QTreeWidgetItem, _column: int) -> None:
        if self.role is None or item.childCount():
            return
        self._set_dirty(self.tree.checked() != self.role.permissions)

    def _set_dirty(self, dirty: bool) -> None:
        self.dirty = dirty
        self.save_button.setEnabled(dirty and self.may_manage)
        if dirty:
            self.status.setStyleSheet(message_style("warning"))
            self.status.setText(self.tr("Unsaved changes: they apply from each user's next "
                                        "login once saved."))
        self.commands_changed.emit()

    def save(self) -> Task | None:
        if self.role is None or not self.dirty:
            return None
        from erp_desktop.services import roles

        role = self.role
        return self.form.submit(roles.set_permissions, self.env.ctx, role.name,
                                sorted(self.tree.checked()), role.version,
                                on_done=self._saved)

    def _saved(self, row: Any) -> None:
        self.roles = [row if r.name == row.name else r for r in self.roles]
        self.role = row
        self._set_dirty(False)
        self.status.setStyleSheet(message_style("success"))
        self.status.setText(self.tr("Saved. Users of {role} get the change at their next "
                                    "login.").format(role=row.label))

    def new_role(self) -> None:
        dialog = NewRoleDialog(self.env, self.roles, parent=self)
        dialog.accepted.connect(lambda: self.reload(select=dialog.result_value.name))
        dialog.open()


# ====================================================== audit log, login history


class AuditTab(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import list_queries

        self.env = env
        self.verify_task: Task | None = None
        self.list = ListPanel(ListSource(list_queries.AUDIT_LOG, env.ctx), locale=env.locale,
                              noun=(self.tr("event"), self.tr("events")),
                              search_hint=self.tr("Search action, who or record…"))
        self.list.commands_changed.connect(self.commands_changed)
        self.verify_button = QPushButton(icon("verify"), self.tr("Verify audit log"))
        self.verify_button.setObjectName("verify_audit")
        self.verify_button.setToolTip(self.tr(
            "Check that no audit event was changed, deleted or reordered"))
        self.verify_button.clicked.connect(self.verify)
        self.verify_button.setEnabled(env.can("audit.verify"))
        self.verify_result = QLabel()
        self.verify_result.setObjectName("verify_result")
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.verify_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.verify_result, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.list, 1)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addLayout(row)

    def delegate_to(self) -> CommandPage | None:
        return self.list

    def verify(self) -> None:
        if self.verify_task is not None:
            return
        from erp_desktop.services import audit

        self.verify_button.setEnabled(False)
        self.verify_result.setStyleSheet(message_style("hint"))
        self.verify_result.setText(self.tr("Checking every event…"))
        self.verify_task = run_in_background(audit.verify, self.env.ctx, parent=self,
                                             on_done=self._verified, on_error=self._failed,
                                             name="verify audit")

    def _verified(self, report: Any) -> None:
        self.verify_task = None
        self.verify_button.setEnabled(True)
        if report.ok:
            self.verify_result.setStyleSheet(message_style("success"))
            self.verify_result.setText(self.tr(
                "The audit log is intact: {n} events checked, none changed, deleted or "
                "reordered.").format(n=report.checked))
            self.verify_result.setToolTip(self.tr("Head hash: {h}").format(h=report.head_hash))
        else:
            self.verify_result.setStyleSheet(message_style("error"))
            shown = report.problems[:5]
            more = len(report.problems) - len(shown)
            text = self.tr("The audit log has been tampered with: {n} problems.").format(
                n=len(report.problems)) + "\n" + "\n".join(shown)
            if more:
                text += "\n" + self.tr("…and {n} more.").format(n=more)
            self.verify_result.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self.verify_task = None
        self.verify_button.setEnabled(True)
        self.verify_result.setStyleSheet(message_style("error"))
        self.verify_result.setText(getattr(exc, "message", "") or str(exc))


class LoginsTab(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import list_queries

        self.outcome = QComboBox()
        self.outcome.setObjectName("outcome")
        self.outcome.addItem(self.tr("All attempts"), None)
        self.outcome.addItem(self.tr("Failed only"), False)
        self.outcome.addItem(self.tr("Succeeded only"), True)
        self.list = ListPanel(ListSource(list_queries.LOGIN_EVENTS, env.ctx),
                              locale=env.locale, noun=(self.tr("attempt"), self.tr("attempts")),
                              search_hint=self.tr("Search login, computer or reason…"),
                              extra=[self.outcome])
        self.outcome.currentIndexChanged.connect(lambda _i: self.list.set_filters(
            self.list.model.filters.with_extra(success=self.outcome.currentData())))
        self.list.commands_changed.connect(self.commands_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.list)

    def delegate_to(self) -> CommandPage | None:
        return self.list


# ===================================================================== backup


def backup_company(ctx: Any, target: Path | None, *, token: CancelToken) -> Path:
    """Runs on the worker: the backup use case with progress and Cancel wired in."""
    from erp_desktop.services import backup

    def progress(done: int, total: int) -> None:
        token.report(done, total, "")

    return backup.create_backup(ctx, target, progress=progress,
                                cancelled=lambda: token.cancelled)


@dataclass(frozen=True)
class RestoreRequest:
    """What the main window needs to restore a backup once the company is closed."""

    backup: Path
    login_name: str
    password: str = ""

    def __repr__(self) -> str:  # never print the password
        return f"RestoreRequest({self.backup.name!r}, {self.login_name!r})"


class RestoreDialog(FormDialog):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(_tr("Restore from a backup"), locale=env.locale, parent=parent,
                         save_text=_tr("Close and restore"), intro=_tr(
                             "The company file is replaced by the backup: everything entered "
                             "since the backup was taken is set aside (kept in a separate "
                             "file, not deleted). The company is closed first; log in again "
                             "afterwards. Give the login and password of an admin as they "
                             "were when the backup was taken."))
        self.env = env
        self.path = self.form.add_text("backup", _tr("Backup file"), required=True)
        browse = QPushButton(self.tr("Browse…"))
        browse.setObjectName("browse")
        browse.clicked.connect(self._browse)
        cell = self.form.fields["backup"].row
        box = cell.layout() if cell is not None else None
        if isinstance(box, QVBoxLayout):  # the button beside the path, not under it
            box.removeWidget(self.path)
            line = QHBoxLayout()
            line.addWidget(self.path, 1)
            line.addWidget(browse)
            box.insertLayout(0, line)
        self.form.add_text("login_name", _tr("Admin login"), required=True,
                           value=env.ctx.actor.login_name)
        self.form.add_text("password", _tr("Admin password"), required=True, password=True)

    def _browse(self) -> None:
        from erp_desktop.services import backup

        chosen, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a backup"), str(backup.default_backup_folder(self.env.ctx)),
            self.tr("Company backups (*.erp);;All files (*)"))
        if chosen:
            self.path.setText(QDir.toNativeSeparators(chosen))

    def save(self) -> None:
        if not self.form.validate():
            return
        path = Path(self.form.value("backup"))
        if not path.is_file():
            self.form.show_error(_field_error(_tr("There is no file {path}.").format(path=path),
                                              "backup"))
            return
        self.result_value = RestoreRequest(path, self.form.value("login_name"),
                                           self.form.raw("password"))
        self.accept()


def _field_error(message: str, name: str) -> Exception:
    from erp_desktop.domain.errors import ValidationError

    return ValidationError(message, field=name)


class BackupTab(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.run: Any = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(heading(self.tr("Back up"), 1.15))
        layout.addWidget(hint(self.tr(
            "A backup is an encrypted copy of the whole company file, opened by the same "
            "passwords. It is checked after it is written.")))
        buttons = QHBoxLayout()
        self.backup_button = QPushButton(icon("backup"), self.tr("Back up now"))
        self.backup_button.setObjectName("backup_now")
        self.backup_button.setToolTip(self.tr("Into this company's backup folder"))
        self.backup_button.clicked.connect(lambda: self.start_backup(None))
        self.backup_as_button = QPushButton(icon("save"), self.tr("Back up to a file…"))
        self.backup_as_button.setObjectName("backup_as")
        self.backup_as_button.clicked.connect(self.choose_target)
        for b in (self.backup_button, self.backup_as_button):
            b.setEnabled(env.can("backup.create"))
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.result = QLabel()
        self.result.setObjectName("backup_result")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(heading(self.tr("Restore"), 1.15))
        layout.addWidget(hint(self.tr(
            "Put a backup in place of this company file, for example after a mistake that "
            "cannot be reversed. The current file is kept aside, so a restore can be undone.")))
        self.restore_button = QPushButton(icon("restore"), self.tr("Restore from a backup…"))
        self.restore_button.setObjectName("restore")
        self.restore_button.clicked.connect(self.restore)
        self.restore_button.setEnabled(env.can("backup.restore"))
        row = QHBoxLayout()
        row.addWidget(self.restore_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(1)

    def choose_target(self) -> None:
        from erp_desktop.services import backup

        folder = backup.default_backup_folder(self.env.ctx)
        suggested = folder / f"{self.env.ctx.path.stem}-{self.env.ctx.today()}.erp"
        chosen, _ = QFileDialog.getSaveFileName(self, self.tr("Back up to a file"),
                                                str(suggested),
                                                self.tr("Company backups (*.erp)"))
        if chosen:
            self.start_backup(Path(chosen))

    def start_backup(self, target: Path | None) -> Any:
        from erp_desktop.ui.progress import run_with_progress

        self.backup_button.setEnabled(False)
        self.backup_as_button.setEnabled(False)
        self.result.setStyleSheet(message_style("hint"))
        self.result.setText(self.tr("Backing up…"))
        self.run = run_with_progress(
            self, backup_company, self.env.ctx, target, title=self.tr("Backing up"),
            label=self.tr("Copying and checking the company file…"), on_done=self._done,
            on_error=self._failed, on_cancelled=self._cancelled, name="backup")
        return self.run

    def _finish(self) -> None:
        self.run = None
        self.backup_button.setEnabled(True)
        self.backup_as_button.setEnabled(True)

    def _done(self, path: Path) -> None:
        self._finish()
        self.result.setStyleSheet(message_style("success"))
        self.result.setText(self.tr("Backed up to {path}.").format(
            path=QDir.toNativeSeparators(str(path))))

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        self.result.setStyleSheet(message_style("error"))
        if hasattr(exc, "message"):
            self.result.setText(exc.message)  # type: ignore[attr-defined]
        else:
            from erp_desktop.ui.errors import show_error

            self.result.setText(self.tr("The backup failed; no backup file was written."))
            show_error(self, exc)

    def _cancelled(self) -> None:
        self._finish()
        self.result.setStyleSheet(message_style("warning"))
        self.result.setText(self.tr("The backup was cancelled. No backup file was written."))

    def restore(self) -> RestoreDialog:
        dialog = RestoreDialog(self.env, parent=self)
        dialog.accepted.connect(lambda: self.env.request("restore", dialog.result_value))
        dialog.open()
        return dialog


# ============================================================== the area page


class AdminPage(CommandPage):
    """The Admin area: a tab per job the role allows."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        layout = page_frame(self, self.tr("Admin"), self.tr(
            "The people who can open this company file, what their roles allow, the "
            "tamper-evident audit log, backups, exports and a person's data."))
        self.tabs = QTabWidget()
        self.tabs.setObjectName("admin_tabs")
        self.tabs.setDocumentMode(True)
        self.users: UsersTab | None = None
        self.roles: RolesTab | None = None
        self.audit: AuditTab | None = None
        self.logins: LoginsTab | None = None
        self.backup: BackupTab | None = None
        if env.can("users.view"):
            self.users = UsersTab(env)
            self.tabs.addTab(self.users, icon("user"), self.tr("Users"))
        if env.can("roles.view"):
            self.roles = RolesTab(env)
            self.tabs.addTab(self.roles, icon("role"), self.tr("Roles"))
        if env.can("audit.view") or env.can("audit.verify"):
            self.audit = AuditTab(env)
            self.tabs.addTab(self.audit, icon("verify"), self.tr("Audit log"))
        if env.can("audit.view"):
            self.logins = LoginsTab(env)
            self.tabs.addTab(self.logins, icon("key"), self.tr("Login history"))
        if env.can("backup.create") or env.can("backup.restore"):
            self.backup = BackupTab(env)
            self.tabs.addTab(self.backup, icon("backup"), self.tr("Backup and restore"))
        from erp_desktop.ui.data_pages import add_data_tabs  # export, import, person data

        add_data_tabs(self, env)
        for i in range(self.tabs.count()):
            tab = self.tabs.widget(i)
            if isinstance(tab, CommandPage):
                tab.commands_changed.connect(self.commands_changed)
        self.tabs.currentChanged.connect(self._tab_changed)
        layout.addWidget(self.tabs, 1)

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

    def show_tab(self, name: str) -> QWidget:
        widget = getattr(self, name)
        if widget is None:
            raise KeyError(name)
        self.tabs.setCurrentWidget(widget)
        return widget
