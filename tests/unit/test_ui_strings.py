"""Every user-visible string in the Qt code goes through tr() (so it can be translated).

A static check, without Qt: it reads erp_desktop/ui/*.py and flags a plain
string literal (or f-string) with letters in it that is passed straight to a Qt
call that shows text — a label, a button, a title, a tooltip, a placeholder, a
message box, a tab, a menu. Strings wrapped in `tr()`, `self.tr()`, `_tr()` or
marked with `_noop()` pass. Object names, icon names and style sheets are not
text a person reads and are not checked.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import erp_desktop

UI = Path(erp_desktop.__file__).parent / "ui"

# Qt calls whose first argument (or `text=`) is shown to the person.
SHOWN_FIRST = {
    "setText", "setToolTip", "setWindowTitle", "setPlaceholderText", "setTitle",
    "setStatusTip", "setWhatsThis", "showMessage", "setLabelText", "setSpecialValueText",
    "setSuffix", "setPrefix", "addItem", "setHeaderLabels", "setHorizontalHeaderLabels",
    "setCancelButtonText", "setSubTitle", "setButtonText", "setInformativeText",
    "setDetailedText", "addMenu", "setPlaceholder",
}
# Constructors whose first string argument is shown.
SHOWN_CTOR = {"QLabel", "QPushButton", "QCheckBox", "QRadioButton", "QGroupBox", "QAction",
              "QToolButton", "QCommandLinkButton", "heading", "hint"}
# Calls whose second string argument is shown (icon/index first).
SHOWN_SECOND = {"addTab", "insertTab", "setTabText", "addAction", "setItemText"}
# QMessageBox.x(parent, title, text, ...): title and text are shown.
MESSAGE_BOX = {"information", "warning", "critical", "question", "about"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


_MARKUP = re.compile(r"<[^>]*>|&\w+;")  # rich-text tags and entities are not words
_COLOUR = re.compile(r"^\s*#[0-9A-Fa-f]{3,8}\s*$")  # "#1F4E79": a value, not a word


def _has_words(text: str) -> bool:
    text = _MARKUP.sub("", text)
    return not _COLOUR.match(text) and any(ch.isalpha() for ch in text)


def _is_text(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _has_words(node.value)
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and _has_words(str(v.value))
                   for v in node.values)
    return False


def untranslated(source: str) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        args: list[ast.expr] = []
        if name in SHOWN_FIRST or name in SHOWN_CTOR:
            args = node.args[:1] + [k.value for k in node.keywords if k.arg == "text"]
        elif name in SHOWN_SECOND:
            args = node.args[1:2]
        elif name in MESSAGE_BOX and isinstance(node.func, ast.Attribute) and \
                _name(node.func.value) == "QMessageBox":
            args = node.args[1:3]
        if name in SHOWN_CTOR and node.args and not _is_text(node.args[0]) and len(node.args) > 1:
            args.append(node.args[1])  # QPushButton(icon, "text")
        for arg in args:
            if _is_text(arg):
                found.append((node.lineno, ast.unparse(arg)[:60]))
    return found


def test_the_checker_catches_a_plain_string_and_passes_a_translated_one():
    bad = 'label = QLabel("Customer")\nbutton.setText(f"Pay {n}")\ntabs.addTab(w, "Stock")\n'
    good = ('label = QLabel(self.tr("Customer"))\nbutton.setText(_tr("Pay"))\nQLabel("")\n'
            'title.setText(f"<b>{sku}</b> · {name}")\nedit.setPlaceholderText("#1F4E79")\n')
    assert len(untranslated(bad)) == 3
    assert untranslated(good) == []


def test_every_user_visible_string_in_the_ui_goes_through_tr():
    problems = [f"{path.name}:{line}: {text}"
                for path in sorted(UI.glob("*.py"))
                for line, text in untranslated(path.read_text(encoding="utf-8"))]
    assert problems == [], "strings shown without tr():\n" + "\n".join(problems)
