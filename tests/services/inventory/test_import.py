"""Importing products from CSV and XLSX: mapping, the bad-row report, skipping, re-import."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from erp_desktop.domain.errors import PermissionDenied, ValidationError
from erp_desktop.models.changes import OutboxEntry
from erp_desktop.models.inventory import Product
from erp_desktop.services import catalogue, importing
from erp_desktop.services.importing import FieldSpec, ImportRefused

D = Decimal

GOOD = """SKU,Name,Unit,Barcode,Category,Sale price,Purchase price,Reorder level,Reorder quantity
LED-9W,Philips LED bulb 9W cool day light,pcs,8718696822821,Lighting,110.00,72.50,20,100
LED-12W,Philips LED bulb 12W warm white,pcs,,Lighting,145,96,10,50
DAL-1KG,Toor dal 1 kg pack,pcs,8901030865275,Grocery,178.00,150.00,,
SUGAR,Sugar loose,kg,,Grocery,44.00,39.50,"25.500",100
"""

BAD = """SKU,Name,Unit,Barcode,Sale price,Reorder level
LED-9W,Philips LED bulb 9W,pcs,8718696822821,110.00,20
,No SKU here,pcs,,10,
LED-12W,Bulb with a bad barcode,pcs,8718696822822,145,10
FAN-1,Ceiling fan,pcs,,twelve,
LED-9W,Same SKU again,pcs,,110,
SUGAR,Sugar loose,kg,,44.00,2.5555
ROPE,Nylon rope,furlong,,10,
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def product_count(ctx) -> int:
    with ctx.db.read() as s:
        return s.scalar(select(func.count()).select_from(Product))


def test_a_good_csv_is_imported_with_categories_and_search(admin_ctx, tmp_path):
    report = catalogue.import_products(admin_ctx, write(tmp_path, "p.csv", GOOD))
    assert (report.rows, report.created, report.updated, report.errors) == (4, 4, 0, [])
    led = catalogue.get_product(admin_ctx, "8718696822821")
    assert led.sku == "LED-9W" and led.category == "Lighting"
    assert led.purchase_price.amount == D("72.50") and led.reorder_qty == D(100)
    sugar = catalogue.get_product(admin_ctx, "SUGAR")
    assert sugar.unit == "kg" and sugar.reorder_level == D("25.5")
    assert [r.sku for r in catalogue.list_products(admin_ctx, "philips warm").rows] == [
        "LED-12W"]
    assert {c.name for c in catalogue.list_categories(admin_ctx)} == {"Lighting", "Grocery"}
    with admin_ctx.db.read() as s:
        outbox = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "product")).all()
    assert len(outbox) == 4 and {o.op for o in outbox} == {"insert"}
    assert json.loads(outbox[0].payload)["currency"] == "INR"


def test_a_file_with_bad_rows_is_refused_whole_with_every_bad_row(admin_ctx, tmp_path):
    with pytest.raises(ImportRefused) as e:
        catalogue.import_products(admin_ctx, write(tmp_path, "bad.csv", BAD))
    report = e.value.report
    assert report.refused and report.rows == 7
    problems = {(err.line, err.column) for err in report.errors}
    assert problems == {(3, "SKU"), (4, "Barcode"), (5, "Sale price"), (6, "SKU"),
                        (7, "Reorder level"), (8, "Unit")}
    by_line = {err.line: err.reason for err in report.errors}
    assert "SKU is required" in by_line[3]
    assert "check digit should be 1" in by_line[4]
    assert "'twelve' is not a number" in by_line[5]
    assert "also on line 2" in by_line[6]
    assert "2.5555 has more than 3 decimal places" in by_line[7]
    assert "no unit 'furlong'" in by_line[8]
    assert "Nothing was imported: 6 of 7 rows have problems." in e.value.message
    assert product_count(admin_ctx) == 0  # nothing half written
    csv_report = importing.write_report_csv(report)
    assert csv_report.splitlines()[0] == "line,column,reason" and csv_report.count("\n") == 7


def test_bad_rows_can_be_skipped_on_request(admin_ctx, tmp_path):
    report = catalogue.import_products(admin_ctx, write(tmp_path, "bad.csv", BAD),
                                       skip_bad_rows=True)
    assert (report.created, report.skipped, report.refused) == (1, 6, False)
    assert len(report.errors) == 6
    assert [r.sku for r in catalogue.list_products(admin_ctx).rows] == ["LED-9W"]


def test_reimporting_updates_by_sku_instead_of_duplicating(admin_ctx, tmp_path):
    catalogue.import_products(admin_ctx, write(tmp_path, "p.csv", GOOD))
    before = catalogue.get_product(admin_ctx, "LED-9W")
    again = GOOD.replace("Philips LED bulb 9W cool day light", "Havells LED lamp 9W") \
                .replace("110.00,72.50", "115.00,74.00")
    report = catalogue.import_products(admin_ctx, write(tmp_path, "p2.csv", again))
    assert (report.created, report.updated) == (0, 4)
    assert product_count(admin_ctx) == 4
    after = catalogue.get_product(admin_ctx, "LED-9W")
    assert after.id == before.id and after.version == before.version + 1
    assert after.name == "Havells LED lamp 9W" and after.sale_price.amount == D("115.00")
    assert catalogue.list_products(admin_ctx, "philips cool").rows == []  # old words gone
    assert [r.sku for r in catalogue.list_products(admin_ctx, "havells").rows] == ["LED-9W"]
    with admin_ctx.db.read() as s:
        ops = s.scalars(select(OutboxEntry.op).where(OutboxEntry.entity_id == after.id)).all()
    assert ops == ["insert", "update"]
    # an ORM edit after a bulk update sees the bulk version (optimistic locking intact)
    edited = catalogue.update_product(admin_ctx, after.id, version=after.version, notes="ok")
    assert edited.version == after.version + 1


def test_reimport_keeps_fields_the_file_does_not_have(admin_ctx, tmp_path):
    catalogue.import_products(admin_ctx, write(tmp_path, "p.csv", GOOD))
    report = catalogue.import_products(admin_ctx, write(
        tmp_path, "prices.csv", "SKU,Name,Sale price\nSUGAR,Sugar loose,46.00\n"))
    assert report.updated == 1
    sugar = catalogue.get_product(admin_ctx, "SUGAR")
    assert sugar.sale_price.amount == D("46.00")
    assert (sugar.unit, sugar.purchase_price.amount, sugar.category) == ("kg", D("39.50"),
                                                                         "Grocery")


def test_header_mapping_and_xlsx(admin_ctx, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Item No", "Description", "UOM", "EAN", "MRP", "Cost"])
    ws.append(["FAN-48", "Usha ceiling fan 48 inch", "pcs", 8901234567890, 2450, 1980.5])
    ws.append(["WIRE-1", "Finolex wire 1 sq mm", "m", None, 12.4, 9])
    ws.append([None, None, None, None, None, None])  # blank rows are ignored
    path = tmp_path / "items.xlsx"
    wb.save(path)
    mapping = {"Item No": "sku", "Description": "name", "MRP": "sale_price",
               "Cost": "purchase_price"}
    report = catalogue.import_products(admin_ctx, path, mapping=mapping)
    assert (report.rows, report.created) == (2, 2)
    fan = catalogue.get_product(admin_ctx, "8901234567890")  # a number cell, read exactly
    assert fan.sale_price.amount == D("2450.00") and fan.purchase_price.amount == D("1980.50")
    assert catalogue.get_product(admin_ctx, "WIRE-1").sale_price.amount == D("12.40")


def test_mapping_problems_are_reported_before_anything_is_read(admin_ctx, tmp_path):
    path = write(tmp_path, "p.csv", GOOD)
    with pytest.raises(ValidationError, match="unknown field 'colour'"):
        catalogue.import_products(admin_ctx, path, mapping={"Name": "colour"})
    with pytest.raises(ValidationError, match="does not have"):
        catalogue.import_products(admin_ctx, path, mapping={"Item": "sku"})
    with pytest.raises(ValidationError, match="no column for SKU"):
        catalogue.import_products(admin_ctx, write(tmp_path, "n.csv", "Name\nBulb\n"))
    with pytest.raises(ValidationError, match="both map to Name"):
        catalogue.import_products(admin_ctx, write(tmp_path, "d.csv",
                                                   "SKU,Name,Product name\nA,B,C\n"))
    with pytest.raises(ValidationError, match="is empty"):
        catalogue.import_products(admin_ctx, write(tmp_path, "e.csv", ""))
    with pytest.raises(ValidationError, match=r"reads \.csv and \.xlsx"):
        catalogue.import_products(admin_ctx, write(tmp_path, "p.pdf", "x"))
    with pytest.raises(ValidationError, match="not a readable Excel"):
        catalogue.import_products(admin_ctx, write(tmp_path, "fake.xlsx", "not a zip"))
    (tmp_path / "latin.csv").write_bytes("SKU,Name\nA,Caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValidationError, match="not a UTF-8 text file"):
        catalogue.import_products(admin_ctx, tmp_path / "latin.csv")
    assert product_count(admin_ctx) == 0


def test_semicolon_csv_from_a_european_spreadsheet(admin_ctx, tmp_path):
    text = "SKU;Name;Sale price\nA-1;Bulb;10.50\nA-2;Tube light;99\n"
    assert catalogue.import_products(admin_ctx, write(tmp_path, "s.csv", text)).created == 2


def test_importing_needs_the_import_permission(shop, login_as, tmp_path):
    keeper = login_as("storekeeper")  # manages products, but may not import files
    with pytest.raises(PermissionDenied):
        catalogue.import_products(keeper, write(tmp_path, "p.csv", GOOD))


def test_the_reader_is_generic(tmp_path):
    fields = [FieldSpec("code", "Employee code", required=True),
              FieldSpec("joined", "Joined", parse=importing.parse_date),
              FieldSpec("active", "Active", parse=importing.parse_bool)]
    path = write(tmp_path, "staff.csv", "Employee code,Joined,Active,Ignored\n"
                                        "E1,01/04/2026,yes,x\nE2,someday,no,\n,,,\n")
    rows = list(importing.read_table(path, fields))
    assert [r.values for r in rows[:1]] == [{"code": "E1", "joined": importing.parse_date(
        "2026-04-01"), "active": True}]
    assert rows[1].errors[0].column == "Joined" and rows[1].line == 3
    assert len(rows) == 2  # the blank line is skipped
