"""The common commands, their keyboard shortcuts, and how a page takes them.

One table (`COMMANDS`) says what each common action is called, which keys
trigger it and which icon it shows: New (Ctrl+N), Find (Ctrl+F: focuses the
list's search box), Save (Ctrl+S), Print (Ctrl+P), Refresh (F5), Next and
Previous record (Ctrl+PgDown/Ctrl+PgUp, Alt+Right/Alt+Left) and Log out
(Ctrl+L). The main window makes one `QAction` per command for its menu and
toolbar and hands each trigger to the page on screen.

A page takes commands by deriving from `CommandPage`: `commands()` says
which it can run now (the toolbar greys out the rest) and `run_command()`
runs one; `commands_changed` tells the window to look again (a selection
appeared, a form became valid). A page made of tabs passes both on to the
tab on top (`delegate_to`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from erp_desktop.ui.icons import icon


class Command(StrEnum):
    NEW = "new"
    FIND = "find"
    SAVE = "save"
    PRINT = "print"
    REFRESH = "refresh"
    NEXT = "next"
    PREVIOUS = "previous"
    LOGOUT = "logout"


def _noop(text: str) -> str:
    return text


@dataclass(frozen=True)
class CommandSpec:
    command: Command
    title: str  # with an & accelerator; translated in context "commands"
    keys: tuple[str, ...]  # portable text ("Ctrl" is ⌘ on macOS)
    icon: str
    tip: str


COMMANDS: dict[Command, CommandSpec] = {s.command: s for s in (
    CommandSpec(Command.NEW, _noop("&New"), ("Ctrl+N",), "new",
                _noop("Create a new record here")),
    CommandSpec(Command.FIND, _noop("&Find"), ("Ctrl+F",), "find",
                _noop("Search this list")),
    CommandSpec(Command.SAVE, _noop("&Save"), ("Ctrl+S",), "save",
                _noop("Save the changes")),
    CommandSpec(Command.PRINT, _noop("&Print…"), ("Ctrl+P",), "print",
                _noop("Preview, print or save as PDF")),
    CommandSpec(Command.REFRESH, _noop("&Refresh"), ("F5", "Ctrl+R"), "refresh",
                _noop("Read the list again")),
    CommandSpec(Command.NEXT, _noop("Ne&xt record"), ("Ctrl+PgDown", "Alt+Right"), "next",
                _noop("Go to the next record")),
    CommandSpec(Command.PREVIOUS, _noop("Pre&vious record"), ("Ctrl+PgUp", "Alt+Left"),
                "previous", _noop("Go to the previous record")),
    CommandSpec(Command.LOGOUT, _noop("&Log out"), ("Ctrl+L",), "logout",
                _noop("Close the company file and return to the login window")),
)}


def tr_command(text: str) -> str:
    return QCoreApplication.translate("commands", text)


def make_action(command: Command, parent: QObject) -> QAction:
    """A QAction for `command` with its keys, icon and a tooltip naming the shortcut."""
    spec = COMMANDS[command]
    action = QAction(icon(spec.icon), tr_command(spec.title), parent)
    action.setObjectName(f"command_{command.value}")
    action.setShortcuts([QKeySequence(k) for k in spec.keys])
    shortcut = QKeySequence(spec.keys[0]).toString(QKeySequence.SequenceFormat.NativeText)
    plain = tr_command(spec.title).replace("&", "")
    action.setToolTip(f"{plain} ({shortcut})")
    action.setStatusTip(tr_command(spec.tip))
    action.setIconText(plain.rstrip("…"))
    return action


class CommandPage(QWidget):
    """A page (or a tab of one) that takes the common commands; see module docstring."""

    commands_changed = Signal()

    def commands(self) -> set[Command]:
        """The commands this page can run right now."""
        target = self.delegate_to()
        return target.commands() if target is not None else set()

    def run_command(self, command: Command) -> None:
        target = self.delegate_to()
        if target is not None and command in target.commands():
            target.run_command(command)

    def delegate_to(self) -> CommandPage | None:
        """The tab on top, for a page made of tabs; None for a page that acts itself."""
        return None

    def on_shown(self) -> None:
        """Called when the page comes on screen (first load, refresh if stale)."""


def find_command_target(widget: QWidget | None) -> CommandPage | None:
    """The nearest `CommandPage` at or above `widget`."""
    while widget is not None:
        if isinstance(widget, CommandPage):
            return widget
        widget = widget.parentWidget()
    return None
