"""Exporting everything a user may see: the table registry, the three formats, permissions,
streaming (progress, cancel, keyset pages), checksums, and LibreOffice reading the XLSX."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.base import Base
from erp_desktop.services import export, ledger, roles, users
from erp_desktop.services.authz import PERMISSIONS
from tests.services.data.conftest import PASSWORD, World

HR_SECRETS = ("Meera Pillai", "AFZPP4417K", "50100234567812", "Kiran Rao", "002301554521",
              "1990-05-17")


def zip_text(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "\n".join(zf.read(n).decode("utf-8-sig") for n in zf.namelist())


def csv_rows(path: Path, table: str) -> list[dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        text = zf.read(f"{table}.csv").decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# ----------------------------------------------------------------- the registry


def test_every_table_is_classified():
    """A new table must get a rule in export.TABLE_RULES: who may see it, what is personal."""
    assert export.unclassified_tables() == []
    names = {t.name for t in Base.metadata.sorted_tables}
    assert set(export.TABLE_RULES) <= names, "rules for tables that no longer exist"
    for name, rule in export.TABLE_RULES.items():
        assert rule.view is None or rule.view in PERMISSIONS, name
        table = Base.metadata.tables[name]
        assert set(rule.personal) <= set(table.c.keys()), name


def test_local_secrets_and_queues_are_never_exported():
    for name in ("local_secret", "outbox", "audit_purge_guard", "product_search_key"):
        assert export.TABLE_RULES[name].local_only


def test_an_unclassified_table_falls_back_to_its_areas_permission():
    assert export.rule_for("hr_new_benefit").view == "hr.employees.view"
    assert export.rule_for("hr_payslip_extra").view == "hr.payroll.view"
    assert export.rule_for("invoice_attachment").view == "sales.view"
    assert export.rule_for("something_else") is None  # no area: never exported


# ----------------------------------------------------------------- formats


def test_admin_exports_everything_in_three_formats_with_matching_checksums(
        world: World, tmp_path: Path):
    results = {fmt: export.export_data(world.admin, fmt, tmp_path / f"all{suffix}")
               for fmt, suffix in export.SUFFIXES.items()}
    for r in results.values():
        assert r.complete and r.skipped == [] and r.hr_personal_data and r.salaries
        assert r.path.exists()
        assert not list(tmp_path.glob(".*partial"))
    # The same snapshot has the same content checksum in every format (money, ids
    # and dates are hashed as stored, before formatting).
    sums = {fmt: {t.name: t.sha256 for t in r.tables} for fmt, r in results.items()}
    for table in ("account", "journal_line", "stock_move", "hr_payslip", "invoice"):
        assert sums["csv"][table] == sums["xlsx"][table] == sums["json"][table]
    assert export.verify_export(results["csv"].path) == []
    assert export.verify_export(results["json"].path) == []

    with zipfile.ZipFile(results["csv"].path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = set(zf.namelist())
    assert manifest["company"]["legal_name"] == "Template Traders Pvt Ltd"
    assert manifest["app_version"] and manifest["schema_revision"]
    by_name = {t["name"]: t for t in manifest["tables"]}
    assert {"journal_line.csv", "hr_employee.csv", "manifest.json"} <= names
    assert "local_secret.csv" not in names and "outbox.csv" not in names
    with world.admin.db.read() as s:
        from sqlalchemy import func

        from erp_desktop.models.ledger import JournalLine
        lines = s.scalar(select(func.count()).select_from(JournalLine))
    assert by_name["journal_line"]["rows"] == lines == len(
        csv_rows(results["csv"].path, "journal_line"))
    assert by_name["hr_attachment"]["omitted_columns"] == ["data"]  # binary: JSON only


def test_a_damaged_csv_export_is_noticed(world: World, tmp_path: Path):
    r = export.export_data(world.admin, "csv", tmp_path / "all.zip")
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(r.path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "customer.csv":
                data = data.replace(b"Lakshmi", b"Lakshmu")
            dst.writestr(name, data)
    assert export.verify_export(damaged) == [
        "customer.csv: its checksum does not match the manifest"]


def test_csv_values_are_exact_and_formula_text_is_defused(world: World, tmp_path: Path):
    ledger.post_entry(world.admin, date(2026, 10, 6),
                      [ledger.LineInput("6500", debit="10.05", memo="=HYPERLINK(\"x\")"),
                       ledger.LineInput("1100", credit="10.05")], "Petty cash")
    r = export.export_data(world.admin, "csv", tmp_path / "all.zip", bom=True)
    with zipfile.ZipFile(r.path) as zf:
        assert zf.read("journal_line.csv").startswith(b"\xef\xbb\xbf")
    rows = csv_rows(r.path, "journal_line")
    petty = [row for row in rows if row["memo"].endswith('HYPERLINK("x")')]
    assert petty[0]["memo"] == "'=HYPERLINK(\"x\")"
    assert petty[0]["debit_minor"] == "1005" and petty[0]["currency"] == "INR"
    moves = csv_rows(r.path, "stock_move")
    assert {m["quantity"] for m in moves} >= {"5.000", "20.000"}


def test_xlsx_cells_are_typed(world: World, tmp_path: Path):
    r = export.export_data(world.admin, "xlsx", tmp_path / "all.xlsx")
    wb = load_workbook(r.path, read_only=True)
    try:
        assert wb.sheetnames[0] == "manifest"
        ws = wb["journal_line"]
        rows = list(ws.iter_rows())
        header = [c.value for c in rows[0]]
        assert "debit" in header and "debit_minor" not in header  # money as an amount
        i_debit, i_date, i_id = header.index("debit"), header.index("entry_date"), \
            header.index("id")
        rent = next(row for row in rows[1:] if row[i_debit].value == 85000)
        assert rent[i_debit].number_format == "#,##0.00"
        assert isinstance(rent[i_date].value, datetime)  # a date cell, not text
        assert rent[i_date].value.date() == date(2026, 10, 5)
        assert isinstance(rent[i_id].value, str) and len(rent[i_id].value) == 36
        moves = list(wb["stock_move"].iter_rows(values_only=True))
        q = moves[0].index("quantity")
        assert {row[q] for row in moves[1:]} >= {5, 20}  # numbers, not text
    finally:
        wb.close()


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed; tools/system-deps.sh "
                           "installs it")
def test_libreoffice_opens_the_xlsx_and_its_amounts_sum_to_the_ledger(world: World,
                                                                     tmp_path: Path):
    r = export.export_data(world.admin, "xlsx", tmp_path / "books.xlsx")
    out = tmp_path / "csv"
    out.mkdir()
    # Token 12 = -1: every sheet to its own CSV; raw values, not as displayed.
    filt = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"
    done = subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
         "--convert-to", filt, "--outdir", str(out), str(r.path)],
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr
    sheet = out / "books-journal_line.csv"
    assert sheet.exists(), done.stdout + done.stderr  # it opened: no repair, no refusal
    with open(sheet, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    with open(out / "books-account.csv", encoding="utf-8", newline="") as fh:
        codes = {row["id"]: row["code"] for row in csv.DictReader(fh)}
    debit = sum(Decimal(row["debit"]) for row in rows)
    credit = sum(Decimal(row["credit"]) for row in rows)
    assert debit == credit > 0
    net: dict[str, Decimal] = {}
    for row in rows:
        code = codes[row["account_id"]]
        net[code] = net.get(code, Decimal(0)) + Decimal(row["debit"]) - Decimal(row["credit"])
    tb = ledger.trial_balance(world.admin, date(2026, 12, 31))
    assert {c: v for c, v in net.items() if v} == {
        r.code: r.debit.amount - r.credit.amount for r in tb.rows
        if r.debit.amount - r.credit.amount}


def test_json_export_is_one_document_with_a_schema_version(world: World, tmp_path: Path):
    r = export.export_data(world.admin, "json", tmp_path / "all.json")
    doc = json.loads(r.path.read_text(encoding="utf-8"))
    assert doc["format"] == "erp_desktop.export" and doc["schema_version"] == 1
    accounts = doc["data"]["account"]
    assert "code" in accounts["columns"] and len(accounts["rows"]) == 42
    assert doc["manifest"]["tables"][0]["sha256"]
    att = doc["data"]["hr_attachment"]
    assert att["rows"][0][att["columns"].index("data")]  # the contract, base64


# ----------------------------------------------------------------- permissions


def test_a_sales_clerk_without_export_rights_is_refused(world: World, tmp_path: Path):
    with pytest.raises(PermissionDenied):
        export.export_data(world.login("ravi"), "csv", tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_a_sales_clerks_export_holds_no_hr_data_and_no_salaries(world: World, tmp_path: Path):
    roles.grant(world.admin, "sales_clerk", ["data.export"])
    r = export.export_data(world.login("ravi"), "csv", tmp_path / "clerk.zip")
    assert not r.hr_personal_data and not r.salaries and not r.complete
    skipped = {s.name: s.reason for s in r.skipped}
    for table in ("hr_employee", "hr_payslip", "hr_salary_structure", "hr_attachment",
                  "app_user", "journal_line", "audit_event"):
        assert table in skipped
    assert skipped["hr_employee"] == "needs the permission hr.employees.view"
    exported = {t.name for t in r.tables}
    assert "customer" in exported and "product" in exported
    assert not any(name.startswith("hr_") for name in exported)
    text = zip_text(r.path)
    for secret in HR_SECRETS:
        assert secret not in text
    with zipfile.ZipFile(r.path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["hr_personal_data"] is False and manifest["salaries"] is False
    assert {"name": "hr_payslip", "reason": "needs the permission hr.payroll.view"} in \
        manifest["skipped"]


def test_an_hr_managers_export_has_hr_data_and_salaries(world: World, tmp_path: Path):
    r = export.export_data(world.login("anita"), "json", tmp_path / "hr.json")
    assert r.hr_personal_data and r.salaries
    exported = {t.name for t in r.tables}
    assert {"hr_employee", "hr_payslip", "hr_salary_structure_line"} <= exported
    assert "journal_line" not in exported  # no ledger rights
    text = r.path.read_text(encoding="utf-8")
    assert "Meera Pillai" in text and "AFZPP4417K" in text


def test_payroll_without_personal_rights_strips_names_from_payslips(world: World,
                                                                    tmp_path: Path):
    roles.create_role(world.admin, "payroll_clerk", "Payroll clerk",
                      ["hr.payroll.view", "data.export"])
    users.add_user(world.admin, "tara", "Tara Shetty", PASSWORD, "payroll_clerk")
    r = export.export_data(world.login("tara"), "csv", tmp_path / "pay.zip")
    assert r.stripped_columns == {"hr_payslip": ["department", "designation", "employee_name",
                                                 "tax_id_masked", "bank_account_masked"]} or \
        set(r.stripped_columns["hr_payslip"]) == set(export.TABLE_RULES["hr_payslip"].personal)
    assert not r.hr_personal_data and r.salaries
    slips = csv_rows(r.path, "hr_payslip")
    assert slips and "employee_name" not in slips[0] and "net_minor" in slips[0]
    assert "Meera Pillai" not in zip_text(r.path)


def test_every_export_is_audited_with_its_scope_never_its_content(world: World, tmp_path: Path):
    roles.grant(world.admin, "sales_clerk", ["data.export"])
    export.export_data(world.login("ravi"), "xlsx", tmp_path / "clerk.xlsx")
    with world.admin.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "data.exported")
                       .order_by(AuditEvent.seq.desc())).first()
    details = json.loads(ev.details)
    assert ev.actor_name == "ravi"
    assert details["format"] == "xlsx" and details["hr_personal_data"] is False
    assert "customer" in details["tables"] and "hr_employee" in details["skipped"]
    assert "Lakshmi" not in ev.details and "Meena" not in ev.details


# ----------------------------------------------------------------- streaming


def test_progress_is_reported_and_small_pages_give_the_same_export(world: World,
                                                                   tmp_path: Path):
    seen: list[tuple[int, int, str]] = []
    small = export.export_data(world.admin, "json", tmp_path / "small.json", batch_rows=3,
                               progress=lambda d, t, name: seen.append((d, t, name)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] == small.rows
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)
    big = export.export_data(world.admin, "json", tmp_path / "big.json")
    # Same rows and checksums (the second export adds one audit event: the first's).
    a = {t.name: t.sha256 for t in small.tables if t.name != "audit_event"}
    b = {t.name: t.sha256 for t in big.tables if t.name != "audit_event"}
    assert a == b
    balance = next(t for t in small.tables if t.name == "stock_balance")
    # A two-column key pages by (product_id, warehouse_id), one row at a time here.
    one = export.export_data(world.admin, "json", tmp_path / "one.json", batch_rows=1,
                             tables=["stock_balance"])
    assert one.tables[0].rows == balance.rows == 2 and not one.complete
    assert one.tables[0].sha256 == balance.sha256


def test_a_cancelled_export_leaves_no_file(world: World, tmp_path: Path):
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    out = tmp_path / "out"
    out.mkdir()
    for fmt, suffix in export.SUFFIXES.items():
        calls["n"] = 0
        with pytest.raises(export.ExportCancelled):
            export.export_data(world.admin, fmt, out / f"c{suffix}", cancelled=cancelled)
        assert list(out.iterdir()) == []


@pytest.mark.parametrize("fmt, name, message", [
    ("pdf", "x.pdf", "Export as csv, xlsx, json"),
    ("csv", "x.csv", "A CSV export is a .zip file"),
    ("xlsx", "missing/x.xlsx", "does not exist"),
])
def test_bad_targets_are_refused(world: World, tmp_path: Path, fmt: str, name: str,
                                 message: str):
    with pytest.raises(ValidationError, match=message):
        export.export_data(world.admin, fmt, tmp_path / name)


def test_an_export_never_replaces_a_file(world: World, tmp_path: Path):
    target = tmp_path / "keep.json"
    target.write_text("precious")
    with pytest.raises(ValidationError, match="already exists"):
        export.export_data(world.admin, "json", target)
    assert target.read_text() == "precious"


def test_export_scope_tells_the_ui_what_would_be_left_out(world: World):
    roles.grant(world.admin, "sales_clerk", ["data.export"])
    scope = export.export_scope(world.login("ravi"))
    assert not scope.complete and not scope.hr_personal_data
    assert "customer" in scope.tables and "hr_employee" not in scope.tables
    assert export.export_scope(world.admin).complete
