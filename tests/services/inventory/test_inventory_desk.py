"""What the Inventory screens ask of the services: the import as a dry run with a bad-row
report, a cancel that writes nothing, refusals that name the document line, counts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import Workbook

from erp_desktop.domain.errors import NotFound, PermissionDenied, ValidationError
from erp_desktop.services import catalogue, inventory, inventory_desk
from erp_desktop.services.importing import ImportRefused
from erp_desktop.services.inventory import IssueLine, ReceiptLine
from erp_desktop.services.inventory_desk import ImportCancelled, LineRefused

D = Decimal

FILE = """Item code,Product name,UOM,EAN,Price,Group
LED-9W,Philips LED bulb 9W,pcs,8718696822821,110.00,Lighting
LED-12W,Bulb with a bad barcode,pcs,8718696822822,145,Lighting
FAN-1,Ceiling fan,pcs,,1450,Fans
"""


def write(tmp_path, text: str, name: str = "items.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def skus(ctx) -> set[str]:
    return {r.sku for r in catalogue.list_products(ctx, include_inactive=True, limit=500).rows}


# --------------------------------------------------------------------------- import


def test_the_mapping_is_guessed_from_the_file_header(admin_ctx, tmp_path):
    preview = inventory_desk.preview_product_import(admin_ctx, write(tmp_path, FILE))
    assert preview.header == ["Item code", "Product name", "UOM", "EAN", "Price", "Group"]
    assert preview.guesses["sku"] == "Item code"
    assert preview.guesses["name"] == "Product name"
    assert preview.guesses["unit"] == "UOM"
    assert preview.guesses["barcode"] == "EAN"
    assert preview.guesses["sale_price"] == "Price"
    assert preview.guesses["category"] == "Group"
    assert preview.guesses["purchase_price"] is None
    required = {t.name for t in preview.targets if t.required}
    assert required == {"sku", "name"}
    assert preview.sample[0][0] == "LED-9W" and len(preview.sample) == 3


def test_the_mapping_guess_reads_xlsx_too(admin_ctx, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["sku", "Name", "Sale_Price", "barcode"])
    ws.append(["A-1", "Thing", 10.5, 8718696822821])
    path = tmp_path / "items.xlsx"
    wb.save(path)
    preview = inventory_desk.preview_product_import(admin_ctx, path)
    assert preview.guesses["sale_price"] == "Sale_Price"
    assert preview.sample == [["A-1", "Thing", "10.5", "8718696822821"]]


def test_an_empty_or_foreign_file_is_refused_plainly(admin_ctx, tmp_path):
    with pytest.raises(ValidationError, match="empty"):
        inventory_desk.preview_product_import(admin_ctx, write(tmp_path, "\n"))
    with pytest.raises(ValidationError, match=r"\.csv and \.xlsx"):
        inventory_desk.preview_product_import(admin_ctx, write(tmp_path, "x", "items.pdf"))


def test_a_dry_run_lists_every_bad_row_and_writes_nothing(admin_ctx, tmp_path):
    path = write(tmp_path, FILE)
    mapping = inventory_desk.preview_product_import(admin_ctx, path).guesses
    seen = []
    report = inventory_desk.run_product_import(
        admin_ctx, path, mapping, dry_run=True,
        progress=lambda done, total, text: seen.append(text))
    assert report.dry_run and report.refused and report.rows == 3
    assert [(e.line, e.column) for e in report.errors] == [(3, "EAN")]
    assert "check digit" in report.errors[0].reason
    assert skus(admin_ctx) == set()
    assert any("Checking 3 rows" in t for t in seen)

    fine = inventory_desk.run_product_import(admin_ctx, path, mapping, dry_run=True,
                                             skip_bad_rows=True)
    assert fine.dry_run and not fine.refused and fine.created == 2
    assert skus(admin_ctx) == set()  # still a dry run


def test_the_import_whole_or_without_bad_rows(admin_ctx, tmp_path):
    path = write(tmp_path, FILE)
    mapping = inventory_desk.preview_product_import(admin_ctx, path).guesses
    with pytest.raises(ImportRefused) as refused:
        inventory_desk.run_product_import(admin_ctx, path, mapping)
    assert refused.value.report.bad_lines == [3]
    assert skus(admin_ctx) == set()
    report = inventory_desk.run_product_import(admin_ctx, path, mapping, skip_bad_rows=True)
    assert (report.created, report.skipped) == (2, 1) and not report.dry_run
    assert skus(admin_ctx) == {"LED-9W", "FAN-1"}
    led = catalogue.get_product(admin_ctx, "LED-9W")
    assert led.category == "Lighting" and led.sale_price.amount == D("110.00")


def test_a_mapping_chosen_by_hand_wins(admin_ctx, tmp_path):
    path = write(tmp_path, "Code,Title,Cost\nX-1,Thing one,12.5\n")
    mapping = {"sku": "Code", "name": "Title", "purchase_price": "Cost"}
    report = inventory_desk.run_product_import(admin_ctx, path, mapping)
    assert report.created == 1
    assert catalogue.get_product(admin_ctx, "X-1").purchase_price.amount == D("12.50")


def test_a_cancelled_import_writes_nothing(admin_ctx, tmp_path):
    path = write(tmp_path, FILE.replace("8718696822822", ""))
    mapping = inventory_desk.preview_product_import(admin_ctx, path).guesses
    with pytest.raises(ImportCancelled):
        inventory_desk.run_product_import(admin_ctx, path, mapping, cancelled=lambda: True)
    # Cancelled once the import is under way: its statements stop, all rolls back.
    calls = []

    def late() -> bool:
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(ImportCancelled):
        inventory_desk.run_product_import(admin_ctx, path, mapping, cancelled=late)
    assert skus(admin_ctx) == set()


def test_importing_needs_the_import_permission(shop, login_as, tmp_path):
    keeper = login_as("storekeeper")
    path = write(tmp_path, FILE)
    with pytest.raises(PermissionDenied):
        inventory_desk.preview_product_import(keeper, path)
    with pytest.raises(PermissionDenied):
        inventory_desk.run_product_import(keeper, path, {"sku": "Item code"}, dry_run=True)


# --------------------------------------------------------------------------- documents


def test_a_transfer_refused_for_negative_stock_names_the_line(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 3, "5.00"),
                                           ReceiptLine("RICE-SN", 10, "48.00")])
    with pytest.raises(LineRefused) as refused:
        inventory_desk.transfer_stock(shop, "MAIN", "BACK", [
            IssueLine("RICE-SN", 2), IssueLine("HB-M8", 2), IssueLine("HB-M8", 2)])
    assert refused.value.line == 2  # the second bolt line is one too many
    assert refused.value.line_field == "quantity" and refused.value.field == "lines"
    assert "1 pcs available" in refused.value.message
    assert "Main store" in refused.value.message
    # Nothing moved, and the tries left no trace.
    assert inventory.get_stock(shop, "HB-M8").quantity == D(3)
    assert inventory_desk.transfer_stock(shop, "MAIN", "BACK", [IssueLine("HB-M8", 3)]).number


def test_a_receipt_line_refusal_names_the_line(shop):
    with pytest.raises(LineRefused) as refused:
        inventory_desk.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 2, "5"),
                                                    ReceiptLine("HB-M8", "1.5", "5")])
    assert refused.value.line == 1 and "whole number" in refused.value.message
    with pytest.raises(LineRefused) as unknown:
        inventory_desk.receive_stock(shop, "MAIN", [ReceiptLine("NOPE", 1)])
    assert unknown.value.line == 0 and unknown.value.line_field == "product"
    # A refusal about the document itself stays as it was.
    with pytest.raises(ValidationError) as same:
        inventory_desk.transfer_stock(shop, "MAIN", "MAIN", [IssueLine("HB-M8", 1)])
    assert same.value.field == "to_warehouse"
    doc = inventory_desk.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 4, "5.00")])
    assert doc.moves[0].quantity == D(4)


def test_stock_documents_need_the_stock_permission(shop, login_as):
    clerk = login_as("sales_clerk")
    with pytest.raises(PermissionDenied):
        inventory_desk.receive_stock(clerk, "MAIN", [ReceiptLine("HB-M8", 1, "1")])


# --------------------------------------------------------------------------- stock-take


def test_a_scanned_product_gets_its_expected_quantity_and_counts_post(shop):
    inventory.receive_stock(shop, "MAIN", [ReceiptLine("HB-M8", 10, "5.00")])
    inventory.receive_stock(shop, "BACK", [ReceiptLine("RICE-SN", 4, "48.00")])
    sheet = inventory.start_stock_take(shop, "MAIN")
    bolt = inventory_desk.count_line(shop, sheet.id, "4006381333931")
    assert (bolt.sku, bolt.expected_qty, bolt.unit, bolt.unit_places) == ("HB-M8", D(10), "pcs", 0)
    rice = inventory_desk.count_line(shop, sheet.id, "rice-sn")  # not in MAIN: expect 0
    assert rice.expected_qty == D(0) and rice.unit_places == 3
    with pytest.raises(ValidationError, match="service"):
        inventory_desk.count_line(shop, sheet.id, "SVC-INST")
    with pytest.raises(NotFound):
        inventory_desk.count_line(shop, sheet.id, "0000")

    assert inventory_desk.save_counts(shop, sheet.id, {}).status == "draft"
    posted = inventory_desk.post_counts(shop, sheet.id, {bolt.product_id: 8,
                                                        rice.product_id: "1.5"})
    assert posted.status == "posted" and posted.number
    diffs = {ln.sku: ln.difference_qty for ln in posted.lines}
    assert diffs == {"HB-M8": D(-2), "RICE-SN": D("1.5")}
    assert inventory.get_stock(shop, "HB-M8").quantity == D(8)


def test_a_refused_post_keeps_the_counts_unwritten(shop):
    sheet = inventory.start_stock_take(shop, "MAIN", products=["HB-M8"])
    bolt = sheet.lines[0].product_id
    with pytest.raises(ValidationError, match="whole number"):
        inventory_desk.post_counts(shop, sheet.id, {bolt: "2.5"})
    again = inventory.get_stock_take(shop, sheet.id)
    assert again.status == "draft" and again.lines[0].counted_qty is None
