"""How the UI tells a person that something did not work.

Two kinds of error (STYLE.md, habit 5): a `UserError` is an expected outcome
with a plain message, shown calmly; anything else is a bug, already logged
with its traceback by the worker, shown as "Something went wrong" with the
details one click away and a button to copy them for a support request.
Dialogs are opened window-modal with `open()`, never `exec()`, so no nested
event loop runs behind the caller's back.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.ui.worker import failure_details


class UnexpectedErrorDialog(QDialog):
    """"Something went wrong", a short explanation, and the details to copy."""

    def __init__(self, exc: BaseException, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Something went wrong"))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.details = failure_details(exc)

        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MessageBoxCritical).pixmap(40, 40))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        heading = QLabel(self.tr("<b>Something went wrong.</b>"))
        self.message = QLabel(self.tr(
            "The app met a problem it did not expect, and the step you asked for was not "
            "completed. Nothing was half saved. If it happens again, copy the details and "
            "send them to whoever supports this app."))
        self.message.setWordWrap(True)
        text = QVBoxLayout()
        text.addWidget(heading)
        text.addWidget(self.message)
        top = QHBoxLayout()
        top.addWidget(icon)
        top.addLayout(text, 1)

        self.details_view = QPlainTextEdit(self.details)
        self.details_view.setReadOnly(True)
        self.details_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details_view.setMinimumHeight(160)
        self.details_view.setVisible(False)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.show_details = QPushButton(self.tr("Show details"))
        self.show_details.setCheckable(True)
        self.show_details.toggled.connect(self._toggle_details)
        self.copy_details = QPushButton(self.tr("Copy details"))
        self.copy_details.clicked.connect(self._copy)
        buttons.addButton(self.show_details, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.copy_details, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.details_view, 1)
        layout.addWidget(buttons)
        self.resize(520, 0)

    def _toggle_details(self, shown: bool) -> None:
        self.details_view.setVisible(shown)
        self.show_details.setText(self.tr("Hide details") if shown else self.tr("Show details"))
        self.adjustSize()

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.details)
        self.copy_details.setText(self.tr("Copied"))


def show_error(parent: QWidget | None, exc: BaseException,
               title: str | None = None) -> QDialog:
    """Show `exc` the right way for its kind; returns the (non-blocking) dialog."""
    if isinstance(exc, UserError):
        title = title or QCoreApplication.translate("show_error", "Cannot do that")
        box = QMessageBox(QMessageBox.Icon.Warning, title, exc.message,
                          QMessageBox.StandardButton.Ok, parent)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box
    dialog = UnexpectedErrorDialog(exc, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
