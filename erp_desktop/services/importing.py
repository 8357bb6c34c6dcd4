"""Reading CSV and XLSX files for imports: header mapping, parsing, a report of bad rows.

Generic on purpose: products use it now, customers and employees later. An
importer declares its fields (`FieldSpec`: name, label, required, a parser
that raises `ValidationError` for a bad value); `read_table` streams the
file's rows (openpyxl read-only for XLSX, so a 100k-row sheet is never held in
memory as cells), maps file columns to fields by an explicit mapping or by
matching names and labels, parses every cell and yields `ParsedRow`s with
every problem found (line number, column, reason). The importer decides what
a bad row means: `check_report` refuses the whole file unless the user asked
to skip bad rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from erp_desktop.domain.errors import UserError, ValidationError
from erp_desktop.domain.money import parse_decimal

MAX_ERRORS_SHOWN = 20  # in a message; the report itself keeps every row


@dataclass(frozen=True)
class FieldSpec:
    """One field an importer understands."""

    name: str
    label: str
    required: bool = False  # the column must exist and every row must have a value
    parse: Callable[[str], object] | None = None  # raises ValidationError; None keeps text
    aliases: tuple[str, ...] = ()  # other header spellings matched automatically


@dataclass(frozen=True)
class RowError:
    line: int  # line (CSV) or row (XLSX) number in the file, the header being 1
    column: str  # the file's column header ('' for a problem with the whole row)
    reason: str


@dataclass
class ImportReport:
    """What an import did, and every bad row it met."""

    rows: int = 0  # data rows read (blank rows not counted)
    created: int = 0
    updated: int = 0
    skipped: int = 0  # bad rows left out (skip_bad_rows)
    errors: list[RowError] = field(default_factory=list)
    refused: bool = False  # nothing was written because of bad rows

    @property
    def bad_lines(self) -> list[int]:
        return sorted({e.line for e in self.errors})

    def summary(self) -> str:
        if self.refused:
            return (f"Nothing was imported: {len(self.bad_lines)} of {self.rows} rows have "
                    "problems.")
        text = f"{self.created} created, {self.updated} updated"
        if self.skipped:
            text += f", {self.skipped} bad rows skipped"
        return text + "."


class ImportRefused(ValidationError):
    """The file has bad rows and the user did not ask to skip them; nothing written."""

    def __init__(self, report: ImportReport) -> None:
        lines = [f"line {e.line}, {e.column or 'row'}: {e.reason}"
                 for e in report.errors[:MAX_ERRORS_SHOWN]]
        more = len(report.errors) - len(lines)
        text = report.summary() + "\n" + "\n".join(lines)
        if more > 0:
            text += f"\n... and {more} more problems."
        super().__init__(text)
        self.report = report


@dataclass(slots=True)
class ParsedRow:
    line: int
    values: dict[str, object]  # field name -> parsed value (missing/blank fields absent)
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- file reading


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a person sees; floats never reach the parsers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))  # 8901234567890.0 typed as a barcode
        return repr(value)  # shortest exact text for what Excel shows (12.5, 0.1)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else \
            value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def iter_file_rows(path: Path, *, sheet: str | None = None,
                   encoding: str = "utf-8-sig") -> Iterator[list[str]]:
    """Every row of a CSV or XLSX file as text cells, the header row first."""
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise ValidationError(f"The file {path} does not exist.", field="path")
    if suffix in (".xlsx", ".xlsm"):
        yield from _xlsx_rows(path, sheet)
    elif suffix in (".csv", ".txt", ".tsv"):
        yield from _csv_rows(path, encoding)
    else:
        raise ValidationError(f"{path.name}: import reads .csv and .xlsx files.", field="path")


def _csv_rows(path: Path, encoding: str) -> Iterator[list[str]]:
    try:
        fh = open(path, newline="", encoding=encoding)
    except OSError as exc:
        raise ValidationError(f"{path.name} cannot be read: {exc.strerror}.",
                              field="path") from exc
    with fh:
        try:
            sample = fh.read(8192)
        except UnicodeDecodeError:
            raise ValidationError(f"{path.name} is not a UTF-8 text file. Save it from the "
                                  "spreadsheet as 'CSV UTF-8' and try again.",
                                  field="path") from None
        fh.seek(0)
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        except csv.Error:
            dialect = csv.excel
        try:
            strip = str.strip
            for row in csv.reader(fh, dialect):
                yield list(map(strip, row))
        except UnicodeDecodeError:
            raise ValidationError(f"{path.name} is not a UTF-8 text file. Save it from the "
                                  "spreadsheet as 'CSV UTF-8' and try again.",
                                  field="path") from None
        except csv.Error as exc:
            raise ValidationError(f"{path.name} is not a readable CSV file: {exc}.",
                                  field="path") from None


def _xlsx_rows(path: Path, sheet: str | None) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # late: openpyxl is slow to import
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ValidationError(f"{path.name} is not a readable Excel (.xlsx) file.",
                              field="path") from exc
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                raise ValidationError(f"{path.name} has no sheet named '{sheet}'.",
                                      field="sheet")
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        for row in ws.iter_rows(values_only=True):
            yield [_cell_text(v) for v in row]
    finally:
        wb.close()


# --------------------------------------------------------------------------- mapping


def _norm(header: str) -> str:
    return " ".join(header.replace("_", " ").casefold().split())


def map_header(header: Sequence[str], fields: Sequence[FieldSpec],
               mapping: Mapping[str, str] | None = None) -> dict[int, FieldSpec]:
    """Column index -> field. An explicit `mapping` (file column -> field name) wins;
    other columns are matched by field name, label or alias, ignoring case."""
    by_name = {f.name: f for f in fields}
    wanted: dict[str, FieldSpec] = {}
    for f in fields:
        for key in (f.name, f.label, *f.aliases):
            wanted.setdefault(_norm(key), f)
    explicit = {_norm(k): v for k, v in (mapping or {}).items()}
    for target in explicit.values():
        if target not in by_name:
            raise ValidationError(f"The mapping names an unknown field '{target}'. Known "
                                  f"fields: {', '.join(by_name)}.", field="mapping")
    columns: dict[int, FieldSpec] = {}
    taken: dict[str, str] = {}
    present = {_norm(h) for h in header}
    for col in explicit:
        if col not in present:
            raise ValidationError(f"The mapping names a column '{col}' that the file does not "
                                  "have.", field="mapping")
    explicit_targets = set(explicit.values())
    for i, h in enumerate(header):
        key = _norm(h)
        if not key:
            continue
        if key in explicit:
            spec = by_name[explicit[key]]
        else:
            spec = wanted.get(key)
            if spec is None or spec.name in explicit_targets:
                continue  # an extra column, or one the mapping replaced
        if spec.name in taken:
            raise ValidationError(f"Columns '{taken[spec.name]}' and '{h}' both map to "
                                  f"{spec.label}; keep one.", field="mapping")
        taken[spec.name] = h
        columns[i] = spec
    missing = [f.label for f in fields if f.required and f.name not in taken]
    if missing:
        raise ValidationError(f"The file has no column for {', '.join(missing)}. Add the "
                              "column or map it.", field="mapping")
    return columns


def read_table(path: Path, fields: Sequence[FieldSpec], *,
               mapping: Mapping[str, str] | None = None, sheet: str | None = None,
               max_rows: int | None = None) -> Iterator[ParsedRow]:
    """Parse a file against `fields`, one `ParsedRow` per non-blank data row."""
    rows = iter_file_rows(path, sheet=sheet)
    header = next(rows, None)
    if header is None or not any(header):
        raise ValidationError(f"{Path(path).name} is empty: the first row must name the "
                              "columns.", field="path")
    columns = map_header(header, fields, mapping)
    yield from parse_rows(rows, header, columns, fields, max_rows=max_rows)


def parse_rows(rows: Iterator[list[str]], header: Sequence[str],
               columns: Mapping[int, FieldSpec], fields: Sequence[FieldSpec], *,
               first_line: int = 2, max_rows: int | None = None) -> Iterator[ParsedRow]:
    # Runs once per row of a file that may have 100k: the plan is made once, and a
    # row with no problem allocates nothing but its values.
    plan = [(i, spec.name, spec.parse, header[i]) for i, spec in columns.items()]
    width = max(columns) + 1 if columns else 0
    required = [(f.name, col, f"{f.label} is required.")
                for f in fields if f.required for col in (_col_of(columns, header, f),)]
    for n, raw in enumerate(rows):
        if not any(raw):
            continue
        line = first_line + n
        if max_rows is not None and n >= max_rows:
            raise ValidationError(f"The file has more than {max_rows} rows; split it.",
                                  field="path")
        if len(raw) < width:
            raw = raw + [""] * (width - len(raw))
        values: dict[str, object] = {}
        errors: list[RowError] = []
        for i, name, parse, col in plan:
            text = raw[i]
            if text == "":
                continue
            if parse is None:
                values[name] = text
                continue
            try:
                values[name] = parse(text)
            except UserError as exc:
                errors.append(RowError(line, col, exc.message))
        for name, col, reason in required:
            if name not in values and not any(e.column == col for e in errors):
                errors.append(RowError(line, col, reason))
        yield ParsedRow(line, values, errors)


def _col_of(columns: Mapping[int, FieldSpec], header: Sequence[str], spec: FieldSpec) -> str:
    for i, s in columns.items():
        if s.name == spec.name:
            return header[i]
    return spec.label


def check_report(report: ImportReport, skip_bad_rows: bool) -> None:
    """Refuse the file (nothing written) when it has bad rows and skipping was not asked."""
    if report.errors and not skip_bad_rows:
        report.refused = True
        raise ImportRefused(report)


# --------------------------------------------------------------------------- parsers


def parse_text(max_len: int, label: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if len(text) > max_len:
            raise ValidationError(f"{label} is longer than {max_len} characters.")
        return text

    return parse


def parse_number(text: str) -> Decimal:
    return parse_decimal(text, "value")


def parse_bool(text: str) -> bool:
    key = text.strip().casefold()
    if key in ("1", "yes", "y", "true", "t", "active", "x"):
        return True
    if key in ("0", "no", "n", "false", "f", "inactive", ""):
        return False
    raise ValidationError(f"'{text}' is not yes or no.")


def parse_date(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text.strip()[:10], fmt).date()
        except ValueError:
            continue
    raise ValidationError(f"'{text}' is not a date (use YYYY-MM-DD or DD/MM/YYYY).")


def write_report_csv(report: ImportReport) -> str:
    """The bad rows as CSV (line, column, reason), for the user to fix the file."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["line", "column", "reason"])
    for e in report.errors:
        w.writerow([e.line, e.column, e.reason])
    return out.getvalue()
