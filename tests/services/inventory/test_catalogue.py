"""The catalogue: product rules, barcodes, the counter's search, paging and permissions."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select

from erp_desktop.domain.barcodes import gs1_check_digit, normalise_barcode, with_check_digit
from erp_desktop.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from erp_desktop.domain.search import fts_query, query_words, search_text
from erp_desktop.models.changes import OutboxEntry
from erp_desktop.models.inventory import clear_search_index
from erp_desktop.services import catalogue, inventory
from erp_desktop.services.catalogue import ProductInput

# --------------------------------------------------------------------------- barcodes


@pytest.mark.parametrize("code", ["4006381333931", "5901234123457", "036000291452",
                                  "96385074", "00012345600012"])
def test_real_world_barcodes_pass_their_check_digit(code):
    assert normalise_barcode(code) == code


def test_check_digit_worked_by_hand():
    # 400638133393, read from the right, weights 3,1,3,1...:
    # 3*3 + 9 + 3*3 + 3 + 3*3 + 1 + 8*3 + 3 + 6*3 + 0 + 0*3 + 4 = 89 -> 10 - 9 = 1
    assert gs1_check_digit("400638133393") == 1
    # 9*3+8+7*3+6+5*3+4+3*3+2+1*3+0+9*3+8 = 130 -> 0
    assert with_check_digit("890123456789") == "8901234567890"


@pytest.mark.parametrize("code, words", [
    ("4006381333932", "check digit should be 1"),
    ("40063813339", "11 digits"),
    ("40063A1333931", "digits only"),
])
def test_bad_barcodes_are_refused_with_the_reason(code, words):
    with pytest.raises(ValidationError) as e:
        normalise_barcode(code)
    assert words in e.value.message
    assert e.value.field == "barcode"


def test_barcode_spaces_and_dashes_are_ignored_and_empty_is_none():
    assert normalise_barcode(" 4006381-333931 ") == "4006381333931"
    assert normalise_barcode("  ") is None
    assert normalise_barcode(None) is None


def test_search_text_and_query_words():
    text = search_text("Hex bolt M8 x 40 (zinc-plated)", "HB-M8", "4006381333931")
    assert "zinc-plated" in text and "zinc plated" in text  # the word, and its parts
    assert "HB-M8" in text and "HB M8" in text and "4006381333931" in text
    assert search_text("Plain name", "ABC1") == "Plain name ABC1 "
    assert query_words("  Bolt  HEX bolt, (o'brien) HB-M8- ") == ["Bolt", "HEX", "o", "brien",
                                                                  "HB-M8"]
    # quotes are doubled: nothing typed is read as FTS5 syntax
    assert fts_query('a"b NEAR') == '"a"* AND "b"* AND "NEAR"*'
    assert fts_query(" -- ") is None


# --------------------------------------------------------------------------- products


def test_product_is_created_with_its_unit_category_and_prices(shop):
    p = catalogue.get_product(shop, "hb-m8")  # SKU in any case
    assert p.name == "Hex bolt M8 x 40"
    assert p.unit == "pcs" and p.unit_places == 0
    assert p.category == "Fasteners"
    assert p.sale_price.amount == Decimal("12.50") and p.sale_price.currency == "INR"
    assert p.reorder_level == Decimal(50)
    assert catalogue.get_product(shop, "4006381333931").id == p.id  # by barcode
    rice = catalogue.get_product(shop, "RICE-SN")
    assert rice.unit == "kg" and rice.unit_places == 3
    assert rice.reorder_level == Decimal("25.5")


@pytest.mark.parametrize("changes, field, words", [
    ({"sku": "HB-M8"}, "sku", "already used by 'Hex bolt M8 x 40'"),
    ({"sku": "hb-m8"}, "sku", "already used"),  # SKUs are unique whatever the case
    ({"barcode": "4006381333931"}, "barcode", "already used"),
    ({"barcode": "4006381333930"}, "barcode", "check digit"),
    ({"sku": "HB M8"}, "sku", "spaces"),
    ({"sku": ""}, "sku", "Enter the SKU"),
    ({"name": "  "}, "name", "Enter the product's name"),
    ({"sale_price": "-1"}, "sale_price", "cannot be negative"),
    ({"sale_price": "1.005"}, "sale_price", "decimal places"),
    ({"unit": "pcs", "reorder_level": "2.5"}, "reorder_level", "whole number"),
    ({"unit": "furlong"}, "unit", "no unit 'furlong'"),
    ({"tax_category": "GST99"}, "tax_category", "no tax category"),
    ({"hsn_sac": "85-44"}, "hsn_sac", "letters or digits"),
])
def test_bad_products_are_refused_and_nothing_is_written(shop, changes, field, words):
    base = {"sku": "NEW-1", "name": "New thing"}
    before = catalogue.list_products(shop, limit=100).rows
    with pytest.raises(ValidationError) as e:
        catalogue.create_product(shop, ProductInput(**{**base, **changes}))
    assert e.value.field == field
    assert words in e.value.message
    assert catalogue.list_products(shop, limit=100).rows == before


def test_float_prices_are_refused(shop):
    with pytest.raises(ValidationError, match="not as a float"):
        catalogue.create_product(shop, ProductInput(sku="F-1", name="Float", sale_price=1.1))


def test_tax_category_gives_the_product_its_default_hsn(shop):
    catalogue.create_tax_category(shop, "GST18", "Standard goods 18%", hsn_sac="8544")
    p = catalogue.create_product(shop, ProductInput(sku="CBL-4", name="Copper cable 4 sq mm",
                                                    unit="m", tax_category="gst18"))
    assert p.tax_category == "GST18" and p.hsn_sac == "8544"
    own = catalogue.create_product(shop, ProductInput(sku="CBL-6", name="Cable 6", unit="m",
                                                      tax_category="GST18", hsn_sac="85444999"))
    assert own.hsn_sac == "85444999"
    with pytest.raises(ValidationError, match="already a tax category"):
        catalogue.create_tax_category(shop, "gst18", "Again")


def test_update_checks_the_version_and_keeps_search_in_step(shop):
    p = catalogue.get_product(shop, "HB-M8")
    changed = catalogue.update_product(shop, p.id, version=p.version,
                                       name="Carriage bolt M8 x 40", sale_price="13.00")
    assert changed.version == p.version + 1
    assert changed.sale_price.amount == Decimal("13.00")
    assert catalogue.list_products(shop, "hex").rows == []
    assert [r.sku for r in catalogue.list_products(shop, "carr").rows] == ["HB-M8"]
    with pytest.raises(Conflict, match="changed by someone else"):
        catalogue.update_product(shop, p.id, version=p.version, name="Stale edit")
    with pytest.raises(ValidationError, match="Unknown product fields"):
        catalogue.update_product(shop, p.id, version=changed.version, colour="red")


def test_unit_and_service_flag_are_frozen_once_stock_has_moved(shop):
    inventory.receive_stock(shop, "MAIN", [inventory.ReceiptLine("HB-M8", 10, "5")])
    p = catalogue.get_product(shop, "HB-M8")
    with pytest.raises(ValidationError, match="cannot change") as e:
        catalogue.update_product(shop, p.id, version=p.version, unit="box")
    assert e.value.field == "unit"
    with pytest.raises(ValidationError, match="cannot become a service"):
        catalogue.update_product(shop, p.id, version=p.version, is_service=True)
    rice = catalogue.get_product(shop, "RICE-SN")  # never moved: may change
    assert catalogue.update_product(shop, rice.id, version=rice.version, unit="pack",
                                    reorder_level=30).unit == "pack"


def test_products_write_outbox_rows_for_sync(shop):
    p = catalogue.get_product(shop, "HB-M8")
    with shop.db.read() as s:
        rows = s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "product",
                                                   OutboxEntry.entity_id == p.id)).all()
    assert [r.op for r in rows] == ["insert"]
    assert json.loads(rows[0].payload)["sku"] == "HB-M8"


# --------------------------------------------------------------------------- search


def test_search_by_sku_barcode_and_name_word_prefixes(shop):
    def skus(text):
        return [r.sku for r in catalogue.list_products(shop, text).rows]

    assert skus("HB-M8") == ["HB-M8"]  # whole SKU
    assert skus("hb-m") == ["HB-M8"]  # SKU prefix
    assert skus("4006381333931") == ["HB-M8"]  # barcode
    assert skus("bol") == ["HB-M8"]  # start of a name word
    assert skus("BOLT hex") == ["HB-M8"]  # every word, any order, any case
    assert skus("olt") == []  # the middle of a word is not a prefix
    assert skus("m8") == ["HB-M8"]  # a part of the SKU
    assert skus('bolt" OR "rice') == []  # typed quotes are text, not FTS5 syntax
    assert skus("AND") == []
    assert skus("bolt rice") == []  # every word must match
    assert skus("sona ri") == ["RICE-SN"]
    assert skus("2.5") == ["CBL-2.5"]
    assert skus("") == ["CBL-2.5", "HB-M8", "SVC-INST", "RICE-SN"]  # name order
    assert [r.sku for r in catalogue.list_products(shop, include_services=False).rows] == [
        "CBL-2.5", "HB-M8", "RICE-SN"]


def test_counter_search_puts_the_exact_code_first(shop):
    catalogue.create_product(shop, ProductInput(sku="M8", name="Allen key for hex bolts"))
    rows = catalogue.search_products(shop, "m8")
    assert rows[0].sku == "M8"  # the exact SKU
    assert {r.sku for r in rows} == {"M8", "HB-M8"}  # and names starting with it
    assert catalogue.find_by_code(shop, "4006381333931").sku == "HB-M8"
    assert catalogue.find_by_code(shop, "HB-M") is None  # a scanner needs the exact code


def test_inactive_and_tombstoned_products_leave_the_list(shop):
    p = catalogue.get_product(shop, "CBL-2.5")
    catalogue.update_product(shop, p.id, version=p.version, active=False)
    assert "CBL-2.5" not in [r.sku for r in catalogue.list_products(shop).rows]
    assert "CBL-2.5" in [r.sku for r in catalogue.list_products(shop,
                                                                include_inactive=True).rows]


def test_keyset_pages_walk_the_whole_catalogue_once(shop):
    for i in range(23):
        catalogue.create_product(shop, ProductInput(sku=f"SCR-{i:02d}",
                                                    name=f"Wood screw {i % 5} mm"))
    seen, after = [], None
    while True:
        page = catalogue.list_products(shop, "screw", after=after, limit=5)
        seen += [r.sku for r in page.rows]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert len(seen) == 23 and len(set(seen)) == 23
    names = [catalogue.get_product(shop, s).name.casefold() for s in seen]
    assert names == sorted(names)


def test_search_index_is_rebuilt_from_products(shop):
    with shop.db.write() as s:
        clear_search_index(s)
    assert catalogue.list_products(shop, "bolt").rows == []
    assert catalogue.rebuild_search_index(shop) == 4
    assert [r.sku for r in catalogue.list_products(shop, "bolt").rows] == ["HB-M8"]


def test_units_and_categories(shop):
    unit = catalogue.create_unit(shop, "bag", "Bag of 25 kg", 0)
    assert unit.code == "bag"
    with pytest.raises(ValidationError, match="0 to 3 decimal places"):
        catalogue.create_unit(shop, "tn", "Tonne", 4)
    with pytest.raises(ValidationError, match="already a unit"):
        catalogue.create_unit(shop, "BAG", "Bag", 0)
    assert {"pcs", "kg", "m", "hr", "bag"} <= {u.code for u in catalogue.list_units(shop)}
    cat = catalogue.create_category(shop, "Bolts", parent="Fasteners")
    assert cat.parent_id is not None
    with pytest.raises(ValidationError, match="already a category"):
        catalogue.create_category(shop, "fasteners")
    with pytest.raises(NotFound):
        catalogue.get_product(shop, "NO-SUCH-SKU")


def test_a_sales_clerk_may_search_but_not_change_products(shop, login_as):
    clerk = login_as("sales_clerk")
    assert [r.sku for r in catalogue.search_products(clerk, "bolt")] == ["HB-M8"]
    with pytest.raises(PermissionDenied):
        catalogue.create_product(clerk, ProductInput(sku="X-1", name="Sneaky"))
    p = catalogue.get_product(clerk, "HB-M8")
    with pytest.raises(PermissionDenied):
        catalogue.update_product(clerk, p.id, version=p.version, sale_price="1.00")
    assert catalogue.get_product(shop, "HB-M8").sale_price.amount == Decimal("12.50")
