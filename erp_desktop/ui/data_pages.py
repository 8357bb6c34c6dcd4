"""Admin tabs for data: export everything, import master data, a person's data.

`ExportTab` runs `services.export.export_data` into a new file in a chosen
folder (CSV zip, XLSX or JSON) with a progress dialog and Cancel (a cancelled
export leaves no file), then shows the manifest (tables, rows, what was left
out for this role and why) and offers Verify (`export.verify_export`).
`ImportTab` imports a CSV or XLSX file of one kind (`data_import.KINDS`): the
file's columns are mapped to fields (`import_fields`), a dry run lists every
bad row (line, column, reason) without writing anything, and then the file is
imported whole or without its bad rows. `PersonTab` finds a customer, a
vendor's contact, an employee or a user, shows every record that names them
(`person.person_report`), saves the report as JSON and PDF, and anonymises
them after a confirmation that says what it changes and what it keeps.

`add_data_tabs` puts the tabs the role allows into the Admin page.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QDate, QDir, QStandardPaths, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.ui.icons import icon
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.widgets import PageEnv, RowsModel, heading, hint, message_style, rows_table
from erp_desktop.ui.worker import Cancelled, CancelToken, Task, run_in_background

if TYPE_CHECKING:
    from erp_desktop.services.context import Context


def _tr(text: str) -> str:
    return QCoreApplication.translate("data", text)


def _noop(text: str) -> str:
    return text


def _documents() -> Path:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(folder) if folder else Path.home()


def _native(path: Path | str) -> str:
    return QDir.toNativeSeparators(str(path))


def _message(label: QLabel, text: str, kind: str = "hint") -> None:
    label.setStyleSheet(message_style(kind))
    label.setText(text)


def _error_text(exc: BaseException) -> str:
    return getattr(exc, "message", "") or str(exc)


def _path_row(edit: QLineEdit, browse: QPushButton) -> QHBoxLayout:
    row = QHBoxLayout()
    row.setContentsMargins(0, 0, 0, 0)
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


# =================================================================== export

FORMAT_CHOICES = (("csv", _noop("CSV (a zip of one file per table)")),
                  ("xlsx", _noop("XLSX (one workbook, a sheet per table)")),
                  ("json", _noop("JSON (can be restored into a new company file)")))


def export_file_path(folder: Path, company: str, on: date, fmt: str) -> Path:
    """A new file name in `folder` for an export (an export never replaces a file)."""
    from erp_desktop.services.export import SUFFIXES

    stem = re.sub(r"[^A-Za-z0-9]+", "-", company).strip("-").lower() or "company"
    suffix = SUFFIXES[fmt]
    path = Path(folder) / f"{stem}-export-{on.isoformat()}{suffix}"
    n = 2
    while path.exists():
        path = Path(folder) / f"{stem}-export-{on.isoformat()}-{n}{suffix}"
        n += 1
    return path


def export_in_background(ctx: Context, fmt: str, path: Path, bom: bool, *,
                         token: CancelToken) -> Any:
    """Runs on the worker: the export use case with progress and Cancel wired in."""
    from erp_desktop.services import export

    return export.export_data(ctx, fmt, path, bom=bom, progress=token.report,
                              cancelled=lambda: token.cancelled)


@dataclass(frozen=True)
class _TableLine:
    name: str
    rows: str
    note: str


class ExportTab(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.run: Any = None
        self.result: Any = None
        self.verify_task: Task | None = None
        self._scope_loaded = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(heading(self.tr("Export all data"), 1.15))
        layout.addWidget(hint(self.tr(
            "Every table your role may see, in one new file. The file is not encrypted: "
            "keep it somewhere safe and delete it when it is no longer needed.")))
        self.scope = hint()
        self.scope.setObjectName("export_scope")
        layout.addWidget(self.scope)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.format = QComboBox()
        self.format.setObjectName("export_format")
        for key, text in FORMAT_CHOICES:
            self.format.addItem(_tr(text), key)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.bom = QCheckBox(self.tr("Start each file with a byte-order mark (for Excel)"))
        self.bom.setObjectName("export_bom")
        self.folder = QLineEdit(_native(_documents()))
        self.folder.setObjectName("export_folder")
        browse = QPushButton(self.tr("&Browse…"))
        browse.setObjectName("export_browse")
        browse.clicked.connect(self._browse)
        format_label = QLabel(self.tr("For&mat:"))
        format_label.setBuddy(self.format)
        folder_label = QLabel(self.tr("F&older:"))
        folder_label.setBuddy(self.folder)
        form.addRow(format_label, self.format)
        form.addRow("", self.bom)
        form.addRow(folder_label, _path_row(self.folder, browse))
        layout.addLayout(form)

        buttons = QHBoxLayout()
        self.export_button = QPushButton(icon("export"), self.tr("E&xport"))
        self.export_button.setObjectName("export_now")
        self.export_button.setToolTip(self.tr("Write the export into the folder"))
        self.export_button.clicked.connect(lambda: self.start_export())
        self.export_button.setDefault(True)
        buttons.addWidget(self.export_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.message = QLabel()
        self.message.setObjectName("export_result")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        self.manifest_model = RowsModel([
            (self.tr("Table"), lambda r: r.name, False),
            (self.tr("Rows"), lambda r: r.rows, True),
            (self.tr("Note"), lambda r: r.note, False),
        ], self)
        self.manifest = rows_table(self.manifest_model)
        self.manifest.setObjectName("export_manifest")
        header = self.manifest.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 240)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 100)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.manifest.setVisible(False)
        layout.addWidget(self.manifest, 1)
        verify_row = QHBoxLayout()
        self.verify_button = QPushButton(icon("verify"), self.tr("&Verify the export"))
        self.verify_button.setObjectName("verify_export")
        self.verify_button.setToolTip(self.tr(
            "Read the file back and check every table against its manifest"))
        self.verify_button.clicked.connect(self.verify)
        self.verify_button.setVisible(False)
        self.verify_result = QLabel()
        self.verify_result.setObjectName("verify_export_result")
        self.verify_result.setWordWrap(True)
        verify_row.addWidget(self.verify_button, 0, Qt.AlignmentFlag.AlignTop)
        verify_row.addWidget(self.verify_result, 1)
        layout.addLayout(verify_row)
        layout.addStretch(1)
        self._format_changed()

    def on_shown(self) -> None:
        if self._scope_loaded:
            return
        self._scope_loaded = True
        from erp_desktop.services import export

        run_in_background(export.export_scope, self.env.ctx, parent=self, name="export scope",
                          on_done=self._scope, on_error=lambda e: _message(
                              self.scope, _error_text(e), "error"))

    def _scope(self, scope: Any) -> None:
        text = self.tr("Your export holds {n} tables.").format(n=len(scope.tables))
        if scope.complete:
            text += " " + self.tr("That is everything in this company file.")
        else:
            left = ", ".join(s.name for s in scope.skipped[:8])
            if len(scope.skipped) > 8:
                left += ", …"
            if scope.skipped:
                text += " " + self.tr("Left out for your role: {tables}.").format(tables=left)
            if scope.stripped_columns:
                text += " " + self.tr("Personal HR columns are left out of {n} tables.").format(
                    n=len(scope.stripped_columns))
        if scope.salaries:
            text += " " + self.tr("It includes salaries.")
        self.scope.setText(text)

    def _format_changed(self) -> None:
        self.bom.setVisible(self.format.currentData() == "csv")

    def _browse(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Export into"),
                                                  self.folder.text())
        if chosen:
            self.folder.setText(_native(chosen))

    def start_export(self, folder: Path | None = None, fmt: str | None = None) -> Any:
        """Export into `folder` (default: the one on screen) with progress and Cancel."""
        from erp_desktop.ui.progress import run_with_progress

        if self.run is not None:
            return self.run
        fmt = fmt or str(self.format.currentData())
        target_folder = Path(folder) if folder is not None else Path(self.folder.text().strip())
        if not target_folder.is_dir():
            _message(self.message, self.tr("The folder {path} does not exist.").format(
                path=_native(target_folder)), "error")
            return None
        path = export_file_path(target_folder, self.env.company_name or "company",
                                self.env.ctx.today(), fmt)
        self.export_button.setEnabled(False)
        self.manifest.setVisible(False)
        self.verify_button.setVisible(False)
        self.verify_result.clear()
        _message(self.message, self.tr("Exporting…"))
        self.run = run_with_progress(
            self, export_in_background, self.env.ctx, fmt, path,
            self.bom.isChecked() and fmt == "csv", title=self.tr("Exporting data"),
            label=self.tr("Reading every table…"), on_done=self._done, on_error=self._failed,
            on_cancelled=self._cancelled, name="export data")
        return self.run

    def _finish(self) -> None:
        self.run = None
        self.export_button.setEnabled(True)

    def _done(self, result: Any) -> None:
        self._finish()
        self.result = result
        _message(self.message, self.tr(
            "Exported {rows} rows of {tables} tables to {path}.").format(
                rows=f"{result.rows:,}", tables=len(result.tables), path=_native(result.path)),
            "success")
        lines = [_TableLine(t.name, f"{t.rows:,}",
                            self.tr("without {columns}").format(
                                columns=", ".join(result.stripped_columns[t.name]))
                            if t.name in result.stripped_columns else "")
                 for t in result.tables]
        lines += [_TableLine(s.name, "", self.tr("left out: {reason}").format(reason=s.reason))
                  for s in result.skipped]
        self.manifest_model.set_rows(lines)
        self.manifest.setVisible(True)
        self.verify_button.setVisible(True)
        can_verify = result.format in ("csv", "json")
        self.verify_button.setEnabled(can_verify)
        if not can_verify:
            _message(self.verify_result, self.tr(
                "An XLSX export carries no checksums to check; export as CSV or JSON to "
                "verify."))

    def _failed(self, exc: BaseException) -> None:
        self._finish()
        if isinstance(exc, UserError):
            _message(self.message, exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            _message(self.message, self.tr("The export failed; no file was written."), "error")
            show_error(self, exc)

    def _cancelled(self) -> None:
        self._finish()
        _message(self.message, self.tr("The export was cancelled. No file was written."),
                 "warning")

    def verify(self) -> None:
        if self.result is None or self.verify_task is not None:
            return
        from erp_desktop.services import export

        self.verify_button.setEnabled(False)
        _message(self.verify_result, self.tr("Checking every table…"))
        self.verify_task = run_in_background(export.verify_export, self.result.path,
                                             parent=self, name="verify export",
                                             on_done=self._verified, on_error=self._not_verified)

    def _verified(self, problems: list[str]) -> None:
        self.verify_task = None
        self.verify_button.setEnabled(True)
        if not problems:
            _message(self.verify_result, self.tr(
                "The export matches its manifest: every table has its rows and checksum."),
                "success")
        else:
            _message(self.verify_result, self.tr("The export does not match its manifest:")
                     + "\n" + "\n".join(problems[:8]), "error")

    def _not_verified(self, exc: BaseException) -> None:
        self.verify_task = None
        self.verify_button.setEnabled(True)
        _message(self.verify_result, _error_text(exc), "error")


# =================================================================== import

AUTOMATIC = ""  # the mapping choice "match by the column's name"


def read_header(path: Path) -> list[str]:
    """Runs on the worker: the first row of a CSV or XLSX file (its column names)."""
    from erp_desktop.domain.errors import ValidationError
    from erp_desktop.services.importing import iter_file_rows

    rows = iter_file_rows(Path(path))
    header = next(rows, None)
    if header is None or not any(header):
        raise ValidationError(_tr("{name} is empty: the first row must name the columns.")
                              .format(name=Path(path).name), field="path")
    return [h for h in header]


def automatic_matches(kind: str, header: list[str]) -> dict[int, str]:
    """Column index -> the label of the field the import service matches it to by name
    (for the kinds whose fields `data_import.KINDS` declares; products match in the
    catalogue service, so their columns show no automatic match here)."""
    from dataclasses import replace

    from erp_desktop.domain.errors import ValidationError
    from erp_desktop.services.data_import import KINDS
    from erp_desktop.services.importing import map_header

    spec = KINDS.get(kind)
    if spec is None or not spec.fields:
        return {}
    try:  # not required here: a missing column is the dry run's to report
        columns = map_header(header, [replace(f, required=False) for f in spec.fields])
    except ValidationError:
        return {}
    return {i: f.label for i, f in columns.items()}


class _Outcome:
    """What a real import did, kept even if Cancel came too late to stop it."""

    def __init__(self) -> None:
        self.report: Any = None
        self.error: BaseException | None = None


def import_in_background(ctx: Context, kind: str, path: Path, mapping: dict[str, str],
                         dry_run: bool, skip_bad_rows: bool, on: date | None,
                         outcome: _Outcome, *, token: CancelToken) -> Any:
    """Runs on the worker: one import (or dry run) in one transaction.

    The service reads the token between rows: Cancel rolls the whole import back.
    A products import checks it only before it starts; once started it runs to its
    end (all or nothing) and `outcome` says what it did, so the tab can tell the
    truth when Cancel came too late.
    """
    from erp_desktop.services import data_import

    token.check()
    token.report(0, 0, _tr("Checking every row…") if dry_run else _tr("Importing…"))
    try:
        report = data_import.import_file(
            ctx, kind, path, mapping=mapping or None, dry_run=dry_run,
            skip_bad_rows=skip_bad_rows, on=on, progress=token.report,
            cancelled=lambda: token.cancelled)
    except data_import.ImportCancelled:
        raise Cancelled() from None
    except BaseException as exc:
        outcome.error = exc
        raise
    outcome.report = report
    return report


@dataclass(frozen=True)
class _Problem:
    line: str
    column: str
    reason: str


class ImportTab(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services import data_import

        self.env = env
        self.header: list[str] = []
        self.report: Any = None
        self.checked = False  # a dry run of this file, kind and mapping passed
        self.run: Any = None
        self.outcome: _Outcome | None = None
        self.header_task: Task | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(heading(self.tr("Import data"), 1.15))
        layout.addWidget(hint(self.tr(
            "Bring customers, vendors, products, opening stock, opening balances or employees "
            "in from a CSV or Excel file. Check the file first: the check writes nothing and "
            "lists every row that would be refused. Importing the same file again changes "
            "only what differs.")))

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.kind = QComboBox()
        self.kind.setObjectName("import_kind")
        for k in data_import.KINDS.values():
            if env.can(k.permission):
                self.kind.addItem(_tr(k.label.capitalize()), k.name)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.file = QLineEdit()
        self.file.setObjectName("import_file")
        self.file.setPlaceholderText(self.tr("A .csv or .xlsx file whose first row names the "
                                             "columns"))
        self.file.editingFinished.connect(lambda: self.set_file(self.file.text().strip()))
        browse = QPushButton(self.tr("&Browse…"))
        browse.setObjectName("import_browse")
        browse.clicked.connect(self._browse)
        self.on = QDateEdit()
        self.on.setObjectName("import_on")
        self.on.setCalendarPopup(True)
        self.on.setDisplayFormat("d MMM yyyy")
        self.on.setDate(QDate(env.ctx.today()))
        self.on.dateChanged.connect(lambda _d: self._changed())
        kind_label = QLabel(self.tr("&What:"))
        kind_label.setBuddy(self.kind)
        file_label = QLabel(self.tr("F&ile:"))
        file_label.setBuddy(self.file)
        self.on_label = QLabel(self.tr("&Dated:"))
        self.on_label.setBuddy(self.on)
        form.addRow(kind_label, self.kind)
        form.addRow(file_label, _path_row(self.file, browse))
        form.addRow(self.on_label, self.on)
        layout.addLayout(form)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        mapping_box = QWidget()
        mbox = QVBoxLayout(mapping_box)
        mbox.setContentsMargins(0, 0, 0, 0)
        mbox.addWidget(QLabel(self.tr("Columns of the file")))
        self.mapping = QTableWidget(0, 2)
        self.mapping.setObjectName("import_mapping")
        self.mapping.setHorizontalHeaderLabels([self.tr("Column in the file"),
                                                self.tr("Imports as")])
        self.mapping.verticalHeader().setVisible(False)
        self.mapping.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.mapping.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.mapping.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.mapping.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch)
        mbox.addWidget(self.mapping, 1)
        problems_box = QWidget()
        pbox = QVBoxLayout(problems_box)
        pbox.setContentsMargins(0, 0, 0, 0)
        pbox.addWidget(QLabel(self.tr("Rows with problems")))
        self.problems_model = RowsModel([
            (self.tr("Line"), lambda r: r.line, True),
            (self.tr("Column"), lambda r: r.column, False),
            (self.tr("Problem"), lambda r: r.reason, False),
        ], self)
        self.problems = rows_table(self.problems_model)
        self.problems.setObjectName("import_problems")
        header = self.problems.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, 60)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(1, 130)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        pbox.addWidget(self.problems, 1)
        splitter.addWidget(mapping_box)
        splitter.addWidget(problems_box)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        buttons = QHBoxLayout()
        self.check_button = QPushButton(icon("verify"), self.tr("&Check the file"))
        self.check_button.setObjectName("import_check")
        self.check_button.setToolTip(self.tr("A dry run: every row is tried, nothing is "
                                             "written"))
        self.check_button.clicked.connect(lambda: self.dry_run())
        self.import_button = QPushButton(icon("import"), self.tr("&Import"))
        self.import_button.setObjectName("import_all")
        self.import_button.setToolTip(self.tr("Import every row (refused if any row is bad)"))
        self.import_button.clicked.connect(lambda: self.start_import(skip_bad_rows=False))
        self.skip_button = QPushButton(self.tr("Import &without the bad rows"))
        self.skip_button.setObjectName("import_skip")
        self.skip_button.setToolTip(self.tr("Import the good rows; the rows listed as "
                                            "problems are left out"))
        self.skip_button.clicked.connect(lambda: self.start_import(skip_bad_rows=True))
        self.save_problems_button = QPushButton(icon("save"), self.tr("&Save the problems…"))
        self.save_problems_button.setObjectName("import_save_problems")
        self.save_problems_button.setToolTip(self.tr("The list of bad rows as a CSV file, "
                                                     "to fix the file"))
        self.save_problems_button.clicked.connect(self._save_problems)
        for b in (self.check_button, self.import_button, self.skip_button,
                  self.save_problems_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.message = QLabel()
        self.message.setObjectName("import_result")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        if self.kind.count() == 0:
            _message(self.message, self.tr("Your role may not import any kind of data."),
                     "warning")
        self._kind_changed()

    # ---- choosing

    def current_kind(self) -> str:
        return str(self.kind.currentData() or "")

    def set_kind(self, kind: str) -> None:
        index = self.kind.findData(kind)
        if index < 0:
            raise KeyError(kind)
        self.kind.setCurrentIndex(index)

    def _kind_changed(self) -> None:
        dated = self.current_kind() in ("opening_stock", "opening_balances")
        self.on_label.setVisible(dated)
        self.on.setVisible(dated)
        self._fill_mapping()
        self._changed()

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a file to import"), self.file.text() or str(_documents()),
            self.tr("Spreadsheets (*.csv *.xlsx);;All files (*)"))
        if chosen:
            self.set_file(chosen)

    def set_file(self, path: str | Path) -> None:
        """Take `path` as the file to import and read its column names (on the worker)."""
        text = str(path)
        self.file.setText(_native(text) if text else "")
        self.header = []
        self._fill_mapping()
        self._changed()
        if not text:
            return
        if self.header_task is not None:
            self.header_task.cancel()
        _message(self.message, self.tr("Reading the columns…"))
        self.header_task = run_in_background(read_header, Path(text), parent=self,
                                             name="import header", on_done=self._header,
                                             on_error=self._header_failed)

    def _header(self, header: list[str]) -> None:
        self.header_task = None
        self.header = header
        self._fill_mapping()
        _message(self.message, self.tr(
            "{n} columns. Columns are matched to fields by their names; choose another field "
            "where the match is wrong or missing, then check the file.").format(n=len(header)))

    def _header_failed(self, exc: BaseException) -> None:
        self.header_task = None
        _message(self.message, _error_text(exc), "error")

    def _auto_text(self) -> str:
        return self.tr("match by name")

    def _fill_mapping(self) -> None:
        from erp_desktop.services import data_import

        self.mapping.setRowCount(0)
        kind = self.current_kind()
        if not kind or not self.header:
            return
        fields = data_import.import_fields(kind)
        auto = automatic_matches(kind, self.header)
        self.mapping.setRowCount(len(self.header))
        for row, column in enumerate(self.header):
            item = QTableWidgetItem(column)
            self.mapping.setItem(row, 0, item)
            choice = QComboBox()
            choice.setObjectName(f"map_{row}")
            if row in auto:
                first = self.tr("{field} (matched by name)").format(field=_tr(auto[row]))
            elif fields and kind in data_import.KINDS and data_import.KINDS[kind].fields:
                first = self.tr("not imported")
            else:
                first = self._auto_text()
            choice.addItem(first, AUTOMATIC)
            for name, label, required in fields:
                choice.addItem(_tr(label) + (" *" if required else ""), name)
            choice.currentIndexChanged.connect(lambda _i: self._changed())
            self.mapping.setCellWidget(row, 1, choice)

    def mapping_choices(self) -> dict[str, str]:
        """File column -> field, for the columns given an explicit choice."""
        out: dict[str, str] = {}
        for row, column in enumerate(self.header):
            widget = self.mapping.cellWidget(row, 1)
            if isinstance(widget, QComboBox) and widget.currentData():
                out[column] = str(widget.currentData())
        return out

    def map_column(self, column: str, field_name: str) -> None:
        row = self.header.index(column)
        widget = self.mapping.cellWidget(row, 1)
        assert isinstance(widget, QComboBox)
        widget.setCurrentIndex(widget.findData(field_name))

    def _changed(self) -> None:
        """The file, kind, mapping or date changed: the last check no longer holds."""
        self.checked = False
        self.report = None
        self.problems_model.set_rows([])
        self._update_buttons()

    def _update_buttons(self) -> None:
        busy = self.run is not None
        ready = bool(self.current_kind() and self.header) and not busy
        self.check_button.setEnabled(ready)
        report = self.report
        bad = bool(report is not None and report.errors)
        self.import_button.setEnabled(ready and self.checked and not bad)
        some_good = bool(report is not None and report.rows > len(report.bad_lines))
        self.skip_button.setEnabled(ready and self.checked and bad and some_good)
        self.save_problems_button.setEnabled(bad)

    # ---- running

    def dry_run(self) -> Any:
        """Check the file: every row tried in a transaction that is rolled back."""
        return self._start(dry_run=True, skip_bad_rows=False)

    def start_import(self, skip_bad_rows: bool = False) -> Any:
        return self._start(dry_run=False, skip_bad_rows=skip_bad_rows)

    def _start(self, *, dry_run: bool, skip_bad_rows: bool) -> Any:
        from erp_desktop.ui.progress import run_with_progress

        if self.run is not None or not self.header:
            return None
        kind = self.current_kind()
        path = Path(self.file.text().strip())
        on = self.on.date().toPython() if kind in ("opening_stock", "opening_balances") else None
        self.outcome = _Outcome()
        _message(self.message, self.tr("Checking…") if dry_run else self.tr("Importing…"))
        self.run = run_with_progress(
            self, import_in_background, self.env.ctx, kind, path, self.mapping_choices(),
            dry_run, skip_bad_rows, on, self.outcome,
            title=self.tr("Checking the file") if dry_run else self.tr("Importing"),
            label=self.tr("Reading {name}…").format(name=path.name),
            on_done=lambda report: self._done(report, dry_run),
            on_error=lambda exc: self._failed(exc, dry_run),
            on_cancelled=lambda: self._cancelled(dry_run), name="import")
        self._update_buttons()
        return self.run

    def _show_problems(self, report: Any) -> None:
        self.problems_model.set_rows([_Problem(str(e.line), e.column, e.reason)
                                      for e in report.errors])

    def _done(self, report: Any, dry_run: bool) -> None:
        self.run = None
        self.report = report
        self._show_problems(report)
        if dry_run:
            self.checked = True
            if report.errors:
                _message(self.message, self.tr(
                    "{bad} of {rows} rows have problems (listed on the right). Fix the file "
                    "and check it again, or import without the bad rows.").format(
                        bad=len(report.bad_lines), rows=report.rows), "warning")
            else:
                _message(self.message, self.tr(
                    "The file is fine: {summary} Nothing was written yet; press Import.")
                    .format(summary=report.summary().removeprefix(
                        "Dry run (nothing was written): ")), "success")
        else:
            self.checked = False
            _message(self.message, self.tr("Imported: {summary}").format(
                summary=report.summary()), "success")
        self._update_buttons()

    def _failed(self, exc: BaseException, dry_run: bool) -> None:
        from erp_desktop.services.importing import ImportRefused

        self.run = None
        if isinstance(exc, ImportRefused):
            self.report = exc.report
            self._show_problems(exc.report)
            _message(self.message, self.tr(
                "Nothing was imported: {bad} rows have problems (listed on the right).")
                .format(bad=len(exc.report.bad_lines)), "error")
        elif isinstance(exc, UserError):
            _message(self.message, exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            _message(self.message, self.tr("The import failed; nothing was written."), "error")
            show_error(self, exc)
        self._update_buttons()

    def _cancelled(self, dry_run: bool) -> None:
        self.run = None
        outcome = self.outcome
        if not dry_run and outcome is not None and outcome.report is not None:
            # Cancel came after the import had already been written: say what it did.
            self._done(outcome.report, dry_run=False)
            _message(self.message, self.tr(
                "The import had already finished when Cancel was pressed: {summary}").format(
                    summary=outcome.report.summary()), "warning")
            return
        _message(self.message, self.tr("Cancelled. Nothing was imported.") if not dry_run
                 else self.tr("The check was cancelled."), "warning")
        self._update_buttons()

    def _save_problems(self) -> None:
        if self.report is None or not self.report.errors:
            return
        from erp_desktop.services.importing import write_report_csv
        from erp_desktop.ui.pdf_preview import write_file

        source = Path(self.file.text().strip() or "import")
        chosen, _ = QFileDialog.getSaveFileName(
            self, self.tr("Save the problems"),
            str(source.with_name(source.stem + "-problems.csv")),
            self.tr("CSV files (*.csv)"))
        if not chosen:
            return
        try:
            write_file(Path(chosen), write_report_csv(self.report).encode("utf-8"))
        except OSError as exc:
            _message(self.message, self.tr("Could not write {path}: {reason}").format(
                path=_native(chosen), reason=exc.strerror or str(exc)), "error")
            return
        _message(self.message, self.tr("The problems were saved to {path}.").format(
            path=_native(chosen)), "success")


# =================================================================== person

PERSON_KINDS = (("customer", _noop("Customer")), ("vendor", _noop("Vendor's contact")),
                ("employee", _noop("Employee")), ("user", _noop("User (login)")))

# What anonymising changes, per kind, in a shop owner's words.
CONSEQUENCES = {
    "customer": _noop(
        "The customer's name becomes “{placeholder}”; their addresses, e-mail, phone, tax "
        "ids and notes are erased, on the customer record and on every invoice, quote and "
        "payment note."),
    "vendor": _noop(
        "The contact person becomes “{placeholder}” and their e-mail, phone and notes are "
        "erased. The vendor's business details, orders and bills stay."),
    "employee": _noop(
        "The employee's name becomes “{placeholder}”; their contact details, date of birth, "
        "bank account, tax and social ids and emergency contact are erased; documents kept "
        "with them and receipts of their expense claims are deleted; payslips keep their "
        "amounts but lose the name."),
    "user": _noop(
        "The login and full name become “{placeholder}” and the login can never open this "
        "company file again (its key slot is removed)."),
}
KEPT = _noop("Amounts, dates, document numbers and the audit log stay as they are. This "
             "cannot be undone.")


@dataclass(frozen=True)
class PersonMatch:
    kind: str
    id: uuid.UUID
    name: str
    detail: str


def find_people(ctx: Context, kind: str, text: str) -> list[PersonMatch]:
    """Runs on the worker: people of `kind` whose name, code or login contains `text`."""
    needle = " ".join(text.split()).casefold()
    out: list[PersonMatch] = []
    if kind == "customer":
        from erp_desktop.services import customers

        for c in customers.list_customers(ctx, text or None, limit=50,
                                          include_inactive=True).rows:
            detail = " · ".join(x for x in (c.code, c.city, c.phone) if x)
            out.append(PersonMatch(kind, c.id, c.name, detail))
    elif kind == "vendor":
        from erp_desktop.services import purchasing

        # A vendor is found by its business name or its contact's name (the person).
        by_name = purchasing.list_vendors(ctx, text or None, limit=50, include_inactive=True)
        seen: set[uuid.UUID] = set()
        more = purchasing.list_vendors(ctx, None, limit=500, include_inactive=True).rows \
            if needle else []
        for v in [*by_name.rows, *[x for x in more
                                   if needle in (x.contact_person or "").casefold()]]:
            if v.id in seen:
                continue
            seen.add(v.id)
            out.append(PersonMatch(kind, v.id, v.contact_person or v.name,
                                   _tr("contact of {vendor}").format(vendor=v.name)
                                   if v.contact_person else
                                   _tr("no contact person recorded")))
    elif kind == "employee":
        from erp_desktop.services import hr

        for e in hr.list_employees(ctx, include_former=True):
            if needle in e.full_name.casefold() or needle in e.code.casefold():
                state = _tr("left") if not e.active else (e.department or "")
                out.append(PersonMatch(kind, e.id, e.full_name,
                                       " · ".join(x for x in (e.code, state) if x)))
    elif kind == "user":
        from erp_desktop.services import users

        for u in users.list_users(ctx):
            if needle in u.full_name.casefold() or needle in u.login_name.casefold():
                state = _tr("active") if u.active else _tr("disabled")
                out.append(PersonMatch(kind, u.id, u.full_name,
                                       f"{u.login_name} · {state}"))
    return out[:200]


def _record_summary(fields: dict[str, Any], limit: int = 6) -> str:
    shown = []
    for key, value in fields.items():
        if value in (None, "", [], {}) or key in ("id", "version", "number", "code") \
                or key.endswith("_id") \
                or key.endswith("_key") or key.endswith("_at") or key.endswith("_by"):
            continue
        shown.append(f"{key.replace('_', ' ')}: {value}")
        if len(shown) >= limit:
            break
    return " · ".join(shown)


def _record_label(table: str, record: Any) -> str:
    """A record's own number, code or login where it has one, else its table and id."""
    for key in ("number", "code", "login_name", "period", "filename"):
        value = record.fields.get(key)
        if value:
            return str(value)
    return f"{table.replace('_', ' ')} …{record.id[-6:]}"


class AnonymiseDialog(QDialog):
    """Says what anonymising changes and keeps; Anonymise only once the box is ticked."""

    def __init__(self, kind: str, name: str, placeholder: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("anonymise_dialog")
        self.setWindowTitle(self.tr("Anonymise {name}").format(name=name))
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = QVBoxLayout(self)
        layout.addWidget(heading(self.tr("Anonymise {name}?").format(name=name), 1.15))
        text = QLabel(_tr(CONSEQUENCES[kind]).format(placeholder=placeholder) + "\n\n"
                      + _tr(KEPT))
        text.setObjectName("consequences")
        text.setWordWrap(True)
        layout.addWidget(text)
        self.confirm = QCheckBox(self.tr("I understand that this cannot be undone"))
        self.confirm.setObjectName("confirm_anonymise")
        layout.addWidget(self.confirm)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.anonymise_button = self.buttons.addButton(
            self.tr("Anonymise"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.anonymise_button.setObjectName("anonymise_confirm")
        self.anonymise_button.setEnabled(False)
        self.confirm.toggled.connect(self.anonymise_button.setEnabled)
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setDefault(True)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def _accept(self) -> None:
        if self.confirm.isChecked():
            self.accept()


class PersonTab(CommandPage):
    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from erp_desktop.services.person import VIEW_PERMISSION

        self.env = env
        self.report: Any = None
        self.match: PersonMatch | None = None
        self.search_task: Task | None = None
        self.report_task: Task | None = None
        self.may_report = env.can("person.report")
        self.may_anonymise = env.can("person.anonymise")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        layout.addWidget(heading(self.tr("A person's data"), 1.15))
        layout.addWidget(hint(self.tr(
            "When someone asks what this business keeps about them, or asks to be forgotten: "
            "find them, see every record that names them, save the report for them, and "
            "anonymise them once the law no longer requires keeping their records.")))
        bar = QHBoxLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("person_kind")
        for key, text in PERSON_KINDS:
            if env.can(VIEW_PERMISSION[key]):
                self.kind.addItem(_tr(text), key)
        self.kind.currentIndexChanged.connect(lambda _i: self.search())
        self.search_box = QLineEdit()
        self.search_box.setObjectName("person_search")
        self.search_box.setPlaceholderText(self.tr("Name, code or login…"))
        self.search_box.setClearButtonEnabled(True)
        self.search_box.returnPressed.connect(self.search)
        find = QPushButton(icon("find"), self.tr("Fi&nd"))
        find.setObjectName("person_find")
        find.clicked.connect(self.search)
        kind_label = QLabel(self.tr("&Who:"))
        kind_label.setBuddy(self.kind)
        bar.addWidget(kind_label)
        bar.addWidget(self.kind)
        bar.addWidget(self.search_box, 1)
        bar.addWidget(find)
        layout.addLayout(bar)

        self.matches_model = RowsModel([
            (self.tr("Name"), lambda m: m.name, False),
            (self.tr("Details"), lambda m: m.detail, False),
        ], self)
        self.matches = rows_table(self.matches_model)
        self.matches.setObjectName("person_matches")
        self.matches.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.matches.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch)
        self.matches.activated.connect(lambda _i: self.show_report())

        right = QWidget()
        rbox = QVBoxLayout(right)
        rbox.setContentsMargins(0, 0, 0, 0)
        self.report_title = QLabel(self.tr("Find a person, then show their report."))
        self.report_title.setObjectName("person_title")
        self.report_title.setWordWrap(True)
        self.report_title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        rbox.addWidget(self.report_title)
        self.tree = QTreeWidget()
        self.tree.setObjectName("person_report")
        self.tree.setHeaderLabels([self.tr("Record"), self.tr("What it holds")])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.tree.header().resizeSection(0, 260)
        rbox.addWidget(self.tree, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.matches)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        buttons = QHBoxLayout()
        self.report_button = QPushButton(icon("find"), self.tr("Show the &report"))
        self.report_button.setObjectName("person_show")
        self.report_button.clicked.connect(lambda: self.show_report())
        self.save_button = QPushButton(icon("save"), self.tr("&Save report (JSON and PDF)…"))
        self.save_button.setObjectName("person_save")
        self.save_button.setToolTip(self.tr("Two files for the person: the data as JSON and "
                                            "a readable PDF"))
        self.save_button.clicked.connect(self._choose_folder)
        self.anonymise_button = QPushButton(icon("disable"), self.tr("&Anonymise…"))
        self.anonymise_button.setObjectName("person_anonymise")
        self.anonymise_button.clicked.connect(lambda: self.anonymise())
        self.report_button.setVisible(self.may_report)
        self.save_button.setVisible(self.may_report)
        self.anonymise_button.setVisible(self.may_anonymise)
        for b in (self.report_button, self.save_button, self.anonymise_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.message = QLabel()
        self.message.setObjectName("person_result")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)
        self.matches.selectionModel().currentRowChanged.connect(lambda _c, _p: self._picked())
        self._update_buttons()

    def on_shown(self) -> None:
        self.search_box.setFocus()

    def commands(self) -> set[Command]:
        return {Command.FIND}

    def run_command(self, command: Command) -> None:
        if command == Command.FIND:
            self.search_box.setFocus()
            self.search_box.selectAll()

    # ---- finding

    def current_kind(self) -> str:
        return str(self.kind.currentData() or "")

    def set_kind(self, kind: str) -> None:
        index = self.kind.findData(kind)
        if index < 0:
            raise KeyError(kind)
        self.kind.setCurrentIndex(index)

    def search(self, text: str | None = None, *, quiet: bool = False) -> None:
        """Find people of the chosen kind (`quiet`: keep the message shown)."""
        if text is not None:
            self.search_box.setText(text)
        kind = self.current_kind()
        if not kind:
            return
        if self.search_task is not None:
            self.search_task.cancel()
        if not quiet:
            _message(self.message, self.tr("Searching…"))
        self.search_task = run_in_background(find_people, self.env.ctx, kind,
                                             self.search_box.text().strip(), parent=self,
                                             name="find person",
                                             on_done=lambda m: self._found(m, quiet),
                                             on_error=self._search_failed)

    def _found(self, matches: list[PersonMatch], quiet: bool = False) -> None:
        self.search_task = None
        self.matches_model.set_rows(matches)
        if matches:
            self.matches.selectRow(0)
        if not quiet and matches:
            _message(self.message, self.tr("{n} found. Select one and show the report.")
                     .format(n=len(matches)) if len(matches) > 1 else "")
        elif not quiet:
            _message(self.message, self.tr("Nobody of that name was found."), "warning")
        self._picked()

    def _search_failed(self, exc: BaseException) -> None:
        self.search_task = None
        _message(self.message, _error_text(exc), "error")

    def _picked(self) -> None:
        index = self.matches.currentIndex()
        rows = self.matches_model.rows
        self.match = rows[index.row()] if index.isValid() and index.row() < len(rows) else None
        self._update_buttons()

    def _update_buttons(self) -> None:
        chosen = self.match is not None
        self.report_button.setEnabled(chosen and self.may_report)
        self.save_button.setEnabled(chosen and self.may_report)
        self.anonymise_button.setEnabled(chosen and self.may_anonymise)

    # ---- the report

    def show_report(self) -> Task | None:
        match = self.match
        if match is None or not self.may_report:
            return None
        from erp_desktop.services import person

        if self.report_task is not None:
            self.report_task.cancel()
        self.report_title.setText(self.tr("Gathering every record of {name}…").format(
            name=match.name))
        self.report_task = run_in_background(person.person_report, self.env.ctx, match.kind,
                                             person_id=match.id, parent=self,
                                             name="person report", on_done=self._report,
                                             on_error=self._report_failed)
        return self.report_task

    def _report(self, report: Any) -> None:
        from erp_desktop.services.listing import format_date

        self.report_task = None
        self.report = report
        records = sum(len(s.records) for s in report.sections)
        parts = [f"<b>{report.name}</b>",
                 self.tr("{n} records").format(n=records)]
        if report.last_document:
            parts.append(self.tr("last document {date}").format(
                date=format_date(report.last_document, self.env.locale)))
        if report.retained_until:
            parts.append(self.tr("records must be kept until {date}").format(
                date=format_date(report.retained_until, self.env.locale)))
        if report.anonymised:
            parts.append(self.tr("already anonymised"))
        self.report_title.setText(" · ".join(parts))
        self.tree.clear()
        for section in report.sections:
            top = QTreeWidgetItem([_tr(section.label)])
            if section.withheld:
                top.setText(1, self.tr("withheld: {reason}").format(reason=section.withheld))
            else:
                note = f" · {section.note}" if section.note else ""
                top.setText(1, self.tr("{n} records").format(n=len(section.records)) + note)
            font = top.font(0)
            font.setBold(True)
            top.setFont(0, font)
            for record in section.records[:500]:
                child = QTreeWidgetItem([_record_label(section.table, record),
                                         _record_summary(record.fields)])
                child.setToolTip(1, "\n".join(f"{k}: {v}" for k, v in record.fields.items()
                                              if v not in (None, "")))
                top.addChild(child)
            self.tree.addTopLevelItem(top)
            top.setExpanded(bool(section.records) and len(section.records) <= 20)
        _message(self.message, "")
        self._update_buttons()

    def _report_failed(self, exc: BaseException) -> None:
        self.report_task = None
        self.report_title.setText("")
        if isinstance(exc, UserError):
            _message(self.message, exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            show_error(self, exc)

    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, self.tr("Save the report into"),
                                                  str(_documents()))
        if chosen:
            self.save_report(Path(chosen))

    def save_report(self, folder: Path) -> Task | None:
        """Write the chosen person's report as JSON and PDF into `folder` (on the worker)."""
        match = self.match
        if match is None or not self.may_report:
            return None
        from erp_desktop.services import person

        self.save_button.setEnabled(False)
        _message(self.message, self.tr("Saving the report…"))

        def saved(paths: tuple[Path, Path]) -> None:
            self._update_buttons()
            _message(self.message, self.tr("Saved {json} and {pdf}.").format(
                json=_native(paths[0]), pdf=_native(paths[1])), "success")

        def failed(exc: BaseException) -> None:
            self._update_buttons()
            _message(self.message, _error_text(exc), "error")

        return run_in_background(person.write_person_report, self.env.ctx, match.kind,
                                 Path(folder), person_id=match.id, parent=self,
                                 name="save person report", on_done=saved, on_error=failed)

    # ---- anonymising

    def anonymise(self) -> AnonymiseDialog | None:
        match = self.match
        if match is None or not self.may_anonymise:
            return None
        from erp_desktop.services.person import placeholder_for

        dialog = AnonymiseDialog(match.kind, match.name, placeholder_for(match.id), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.anonymise_now(match))
        dialog.open()
        return dialog

    def anonymise_now(self, match: PersonMatch) -> Task:
        """Anonymise `match` (after the person confirmed in `AnonymiseDialog`)."""
        from erp_desktop.services import person

        self.anonymise_button.setEnabled(False)
        _message(self.message, self.tr("Anonymising…"))
        return run_in_background(person.anonymise_person, self.env.ctx, match.kind,
                                 person_id=match.id, parent=self, name="anonymise",
                                 on_done=self._anonymised, on_error=self._not_anonymised)

    def _anonymised(self, result: Any) -> None:
        changed = sum(result.changed.values())
        text = self.tr("Anonymised: now “{placeholder}”; {n} records changed.").format(
            placeholder=result.placeholder, n=changed)
        if result.attachments_erased:
            text += " " + self.tr("{n} documents erased.").format(n=result.attachments_erased)
        if result.kept:
            text += "\n" + self.tr("Still naming them:") + "\n• " + "\n• ".join(result.kept)
        _message(self.message, text, "success")
        self.search(quiet=True)  # the list shows the new name

    def _not_anonymised(self, exc: BaseException) -> None:
        self._update_buttons()
        if isinstance(exc, UserError):
            _message(self.message, exc.message, "error")
        else:
            from erp_desktop.ui.errors import show_error

            show_error(self, exc)


# =================================================================== admin


def add_data_tabs(page: Any, env: PageEnv) -> None:
    """Add the data tabs the role allows to the Admin page (its `tabs`), as attributes
    `export_data`, `import_data` and `person_data` (None when not allowed)."""
    tabs: list[tuple[str, Callable[[PageEnv], CommandPage] | None, str, str]] = [
        ("export_data", ExportTab if env.can("data.export") else None, "export",
         _tr("Export data")),
        ("import_data", ImportTab if env.can("data.import") else None, "import",
         _tr("Import data")),
        ("person_data", PersonTab if env.can("person.report") or env.can("person.anonymise")
         else None, "person_data", _tr("Person data")),
    ]
    for attr, make, icon_name, title in tabs:
        tab = make(env) if make is not None else None
        setattr(page, attr, tab)
        if tab is not None:
            page.tabs.addTab(tab, icon(icon_name), title)
