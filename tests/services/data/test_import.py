"""Importing master data and opening balances: mapping, dry runs, all-or-nothing, bad files,
idempotent re-imports, and each area's own rules and permissions."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.models.audit import AuditEvent
from erp_desktop.models.hr import Employee
from erp_desktop.models.ledger import JournalEntry
from erp_desktop.models.sales import Customer
from erp_desktop.services import catalogue, customers, hr, inventory, ledger, purchasing
from erp_desktop.services.data_import import import_fields, import_file
from erp_desktop.services.importing import ImportRefused
from tests.services.data.conftest import World


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


def count(world: World, model: type) -> int:
    with world.admin.db.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


CUSTOMERS = """
Code,Name,GSTIN,Email,Phone,City,State,Payment terms,Credit limit
C-900,Asha Traders,27AAPFU0939F1ZV,asha@example.com,98450 00001,Mumbai,Maharashtra,30,50000
C-901,Ramesh Kumar,,ramesh@example.com,,Hubballi,Karnataka,0,
"""


# ----------------------------------------------------------------- customers


def test_customers_import_then_reimport_changes_nothing(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "customers.csv", CUSTOMERS)
    before = count(world, Customer)
    report = import_file(world.admin, "customers", f)
    assert (report.rows, report.created, report.updated, report.unchanged) == (2, 2, 0, 0)
    asha = customers.get_customer(world.admin, "C-900")
    assert asha.name == "Asha Traders" and asha.credit_limit.amount == Decimal("50000.00")
    assert asha.state_code == "27"  # the customers service's own rules ran
    again = import_file(world.admin, "customers", f)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert count(world, Customer) == before + 2
    changed = write_csv(tmp_path / "c2.csv", CUSTOMERS.replace("Mumbai", "Pune"))
    third = import_file(world.admin, "customers", changed)
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    assert customers.get_customer(world.admin, "C-900").city == "Pune"


def test_a_customer_without_a_code_is_matched_by_name_and_tax_id(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "c.csv", "Name,GSTIN,City\nLakshmi Stores,29AAKCS4821M1ZS,Mysore")
    report = import_file(world.admin, "customers", f)
    assert (report.created, report.updated) == (0, 1)
    assert customers.get_customer(world.admin, world.ids.customers["Lakshmi Stores"]).city == \
        "Mysore"


def test_a_dry_run_reports_every_bad_row_and_writes_nothing(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "bad.csv", """
Code,Name,GSTIN,Payment terms,Credit limit
C-910,Good One,,10,100
C-911,Bad Number,,10,lots
C-912,Bad GSTIN,29ABCDE1234F1Z9,10,
C-910,Duplicate,,10,
C-913,,,5,
C-914,Bad terms,,400,
""")
    before = count(world, Customer)
    with world.admin.db.read() as s:
        events = s.scalar(select(func.count()).select_from(AuditEvent))
    report = import_file(world.admin, "customers", f, dry_run=True)
    assert report.dry_run and report.refused
    assert report.bad_lines == [3, 4, 5, 6, 7]
    by_line = {e.line: (e.column, e.reason) for e in report.errors}
    assert by_line[3] == ("Credit limit", "'lots' is not a number.")
    assert by_line[4][0] == "GSTIN" and "wrong check character" in by_line[4][1]
    assert by_line[5] == ("Code", "C-910 is also on line 2.")
    assert by_line[6] == ("Name", "Name is required.")
    assert by_line[7] == ("Payment terms", "Payment terms is 0 to 365.")
    assert count(world, Customer) == before
    with world.admin.db.read() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert report.summary().startswith("Dry run (nothing was written)")


def test_bad_rows_refuse_the_whole_file_unless_skipping_is_asked(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "mixed.csv", "Code,Name,Credit limit\nC-920,Fine,10\nC-921,Bad,x")
    before = count(world, Customer)
    with pytest.raises(ImportRefused) as caught:
        import_file(world.admin, "customers", f)
    assert caught.value.report.bad_lines == [3]
    assert "line 3, Credit limit: 'x' is not a number." in caught.value.message
    assert count(world, Customer) == before  # the good row was rolled back too
    report = import_file(world.admin, "customers", f, skip_bad_rows=True)
    assert (report.created, report.skipped) == (1, 1)
    assert count(world, Customer) == before + 1


def test_a_dry_run_of_a_good_file_finds_nothing_and_writes_nothing(world: World,
                                                                   tmp_path: Path):
    f = write_csv(tmp_path / "customers.csv", CUSTOMERS)
    before = count(world, Customer)
    report = import_file(world.admin, "customers", f, dry_run=True)
    assert (report.created, report.errors, report.refused) == (2, [], False)
    assert count(world, Customer) == before


def test_headers_are_mapped_explicitly(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "m.csv", "Cust No,Customer Title,Town\nC-930,Mapped Ltd,Udupi")
    with pytest.raises(ValidationError, match="no column for Name"):
        import_file(world.admin, "customers", f)
    report = import_file(world.admin, "customers", f,
                         mapping={"Cust No": "code", "Customer Title": "name", "Town": "city"})
    assert report.created == 1
    assert customers.get_customer(world.admin, "C-930").city == "Udupi"
    assert ("code", "Code", False) in import_fields("customers")


@pytest.mark.parametrize("name, content, message", [
    ("fake.xlsx", b"Code,Name\nC-1,Not a workbook\n", "is not a readable Excel"),
    ("empty.csv", b"", "is empty"),
    ("latin.csv", "Code,Name\nC-1,Caf\xe9".encode("latin-1"), "not a UTF-8 text file"),
    ("notes.txt.pdf", b"%PDF-1.4", "import reads .csv and .xlsx"),
])
def test_bad_files_are_refused_with_a_plain_reason(world: World, tmp_path: Path, name: str,
                                                   content: bytes, message: str):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationError, match=message):
        import_file(world.admin, "customers", path)


def test_an_xlsx_file_imports_like_a_csv(world: World, tmp_path: Path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Code", "Name", "Payment terms", "Credit limit"])
    ws.append(["C-940", "Sheet Traders", 15, 2500.5])
    path = tmp_path / "customers.xlsx"
    wb.save(path)
    report = import_file(world.admin, "customers", path)
    assert report.created == 1
    row = customers.get_customer(world.admin, "C-940")
    assert row.payment_terms_days == 15 and row.credit_limit.amount == Decimal("2500.50")


def test_unknown_kind_and_missing_rights_are_refused(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "c.csv", CUSTOMERS)
    with pytest.raises(ValidationError, match="Import one of"):
        import_file(world.admin, "planets", f)
    with pytest.raises(PermissionDenied):  # a clerk has no data.import
        import_file(world.login("ravi"), "customers", f)
    with pytest.raises(PermissionDenied):  # an HR manager may not create customers
        from erp_desktop.services import roles

        roles.grant(world.admin, "hr_manager", ["data.import"])
        import_file(world.login("anita"), "customers", f)


# ----------------------------------------------------------------- vendors, products


def test_vendors_import_and_reimport(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "v.csv", """
Name,Tax id,Contact person,Email,Payment terms
Kaveri Distributors,29AABCK1234L1Z5,Suresh Babu,suresh@kaveri.example,45
Nandi Wholesale,,Latha R,latha@nandi.example,30
""")
    report = import_file(world.admin, "vendors", f)
    assert (report.created, report.updated) == (1, 1)  # Kaveri existed: terms changed
    assert purchasing.get_vendor(world.admin, "Kaveri Distributors").payment_terms_days == 45
    again = import_file(world.admin, "vendors", f)
    assert again.unchanged == 2
    clash = write_csv(tmp_path / "v2.csv", "Name,Tax id\nKaveri Distributors,27AAAAA0000A1Z5")
    with pytest.raises(ImportRefused, match="another tax id"):
        import_file(world.admin, "vendors", clash)


def test_products_go_through_the_catalogue_import_and_dry_run_writes_nothing(
        world: World, tmp_path: Path):
    f = write_csv(tmp_path / "p.csv", "SKU,Name,Sale price\nIRON,Steam iron,1800\n"
                                      "FAN,Ceiling fan,2400")
    dry = import_file(world.admin, "products", f, dry_run=True)
    assert dry.created == 2 and dry.dry_run
    assert catalogue.find_by_code(world.admin, "IRON") is None
    report = import_file(world.admin, "products", f)
    assert report.created == 2
    assert catalogue.find_by_code(world.admin, "IRON").name == "Steam iron"
    bad = write_csv(tmp_path / "b.csv", "SKU,Name,Sale price\nX1,Thing,abc")
    dry_bad = import_file(world.admin, "products", bad, dry_run=True)
    assert dry_bad.refused and dry_bad.bad_lines == [2]


# ----------------------------------------------------------------- opening stock


def test_opening_stock_posts_one_receipt_per_warehouse_and_is_idempotent(world: World,
                                                                        tmp_path: Path):
    inventory.create_warehouse(world.admin, "BR2", "Branch store")
    f = write_csv(tmp_path / "s.csv", "SKU,Warehouse,Quantity,Unit cost\n"
                                      "TV55,BR2,3,29000\nKETTLE,BR2,10,600")
    before = inventory.valuation(world.admin).total_value.amount
    report = import_file(world.admin, "opening-stock", f, on=date(2026, 10, 31))
    assert report.created == 2
    after = inventory.valuation(world.admin).total_value.amount
    assert after - before == Decimal("93000.00")
    assert import_file(world.admin, "opening_stock", f).unchanged == 2
    changed = write_csv(tmp_path / "s2.csv", "SKU,Warehouse,Quantity\nTV55,BR2,4")
    with pytest.raises(ImportRefused, match="already has opening stock"):
        import_file(world.admin, "opening_stock", changed)
    bad = write_csv(tmp_path / "s3.csv", "SKU,Warehouse,Quantity\nNOPE,BR2,1\nTV55,XX,1\n"
                                         "TV55,MAIN,-2\nTV55,MAIN,abc")
    dry = import_file(world.admin, "opening_stock", bad, dry_run=True)
    assert [e.column for e in dry.errors] == ["SKU", "Warehouse", "Quantity", "Quantity"]


# ----------------------------------------------------------------- opening balances


def test_opening_balances_post_one_balanced_entry_against_equity(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "ob.csv", "Account,Debit,Credit\n1200,250000,\n2500,,100000")

    def equity() -> Decimal:
        tb = ledger.trial_balance(world.admin, date(2026, 12, 31))
        assert tb.balanced
        row = next(r for r in tb.rows if r.code == "3300")
        return row.credit.amount - row.debit.amount

    start = equity()  # opening stock already went there
    report = import_file(world.admin, "opening_balances", f, on=date(2026, 4, 1))
    assert report.created == 2
    with world.admin.db.read() as s:
        entries = s.scalars(select(JournalEntry).where(
            JournalEntry.source_type == "opening_balance")).all()
    assert len(entries) == 1 and entries[0].total_minor == 25_000_000
    assert equity() - start == Decimal("150000.00")
    assert import_file(world.admin, "opening_balances", f).unchanged == 2
    # A corrected file replaces the entry: the old one is reversed, never edited.
    fixed = write_csv(tmp_path / "ob2.csv", "Account,Debit,Credit\n1200,260000,\n2500,,100000")
    assert import_file(world.admin, "opening_balances", fixed, on=date(2026, 4, 1)).updated == 2
    assert equity() - start == Decimal("160000.00")


def test_opening_balances_refuse_bad_accounts_and_amounts(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "ob.csv", "Account,Debit,Credit\n9999,10,\n1000,10,\n"
                                       "1200,10,10\n1200,,\n2500,1.001,")
    with pytest.raises(ImportRefused) as caught:
        import_file(world.admin, "opening_balances", f)
    reasons = [e.reason for e in caught.value.report.errors]
    assert reasons[0] == "There is no account 9999."
    assert "is a group" in reasons[1]
    assert reasons[2] == "Give a debit or a credit, not both."
    assert "1200 / " not in reasons[3]  # a duplicate account is reported as such
    with world.admin.db.read() as s:
        assert not s.scalar(select(JournalEntry.id).where(
            JournalEntry.source_type == "opening_balance"))


def test_opening_balances_need_posting_rights(world: World, tmp_path: Path):
    from erp_desktop.services import roles

    roles.grant(world.admin, "storekeeper", ["data.import"])
    f = write_csv(tmp_path / "ob.csv", "Account,Debit,Credit\n1200,10,")
    with pytest.raises(PermissionDenied):
        import_file(world.login("sunil"), "opening_balances", f)


# ----------------------------------------------------------------- employees


def test_employees_import_with_departments_titles_and_managers(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "e.csv", """
Employee code,Full name,Joining date,Department,Job title,Manager code,Email,PAN
EMP-010,Deepa Menon,01/07/2025,Service,Service lead,,deepa@example.com,ABCPM1234F
EMP-011,Arjun Shetty,2025-08-15,Service,Technician,EMP-010,,
EMP-001,Meera Pillai,2021-06-01,Sales,,,meera.pillai@example.com,
""")
    report = import_file(world.admin, "employees", f)
    assert (report.created, report.updated) == (2, 1)
    with world.admin.db.read() as s:
        arjun = s.scalars(select(Employee).where(Employee.code == "EMP-011")).one()
        deepa = s.scalars(select(Employee).where(Employee.code == "EMP-010")).one()
    assert arjun.manager_id == deepa.id and deepa.hire_date == date(2025, 7, 1)
    assert hr.get_employee(world.admin, world.ids.emp["EMP-001"]).email == \
        "meera.pillai@example.com"
    assert import_file(world.admin, "employees", f).unchanged == 3


def test_employee_rows_with_bad_dates_or_ids_are_reported(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "e.csv", """
Employee code,Full name,Joining date,PAN,Date of birth
EMP-020,Bad Date,31/02/2025,,
EMP-021,Bad Pan,2025-01-01,12345,
EMP-022,No Date,,,
EMP-023,Born Later,2025-01-01,,2030-01-01
""")
    dry = import_file(world.admin, "employees", f, dry_run=True)
    errors = {e.line: (e.column, e.reason) for e in dry.errors}
    assert errors[2][0] == "Joining date" and "is not a date" in errors[2][1]
    assert errors[3][0] == "PAN" and "A PAN is ten characters" in errors[3][1]
    assert errors[4] == ("Joining date", "A new employee needs a joining date.")
    assert errors[5][0] == "Date of birth"
    assert count(world, Employee) == 2


def test_employees_import_needs_hr_rights(world: World, tmp_path: Path):
    f = write_csv(tmp_path / "e.csv", "Employee code,Full name,Joining date\nE1,A B,2025-01-01")
    with pytest.raises(PermissionDenied):
        import_file(world.login("priya"), "employees", f)  # accountant: no HR, no import
    with world.admin.db.read() as s:
        ev = s.scalars(select(AuditEvent).where(AuditEvent.action == "permission.denied")
                       .order_by(AuditEvent.seq.desc())).first()
    assert json.loads(ev.details)["permission"] == "data.import"


def test_an_import_reports_progress_and_a_cancel_writes_nothing(world: World, tmp_path: Path):
    from erp_desktop.services.data_import import PROGRESS_EVERY, ImportCancelled

    rows = "\n".join(f"C-{i:04d},Customer {i},,,,Pune,Maharashtra,0,"
                     for i in range(PROGRESS_EVERY * 2 + 5))
    f = write_csv(tmp_path / "many.csv", CUSTOMERS.strip().splitlines()[0] + "\n" + rows)
    before = count(world, Customer)
    seen: list[int] = []
    report = import_file(world.admin, "customers", f,
                         progress=lambda done, _total, _text: seen.append(done))
    assert report.created == PROGRESS_EVERY * 2 + 5
    assert seen == [PROGRESS_EVERY, PROGRESS_EVERY * 2]

    other = write_csv(tmp_path / "more.csv", CUSTOMERS.strip().splitlines()[0] + "\n" + "\n".join(
        f"D-{i:04d},Buyer {i},,,,Pune,Maharashtra,0," for i in range(PROGRESS_EVERY * 2)))
    after_first = count(world, Customer)
    assert after_first == before + PROGRESS_EVERY * 2 + 5
    reported: list[int] = []
    with pytest.raises(ImportCancelled):
        import_file(world.admin, "customers", other,
                    progress=lambda done, _t, _x: reported.append(done),
                    cancelled=lambda: bool(reported))  # cancel after the first report
    assert reported == [PROGRESS_EVERY]
    assert count(world, Customer) == after_first  # rolled back whole
