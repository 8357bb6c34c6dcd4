"""The import's fast paths write exactly what the slow, obvious paths would.

The import builds product rows, outbox payloads and search rows itself (see
catalogue's import section); these tests hold it to the ORM's flush, the
domain's barcode and quantity rules, and the search index's invariants,
including files read over several chunks.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erp_desktop.domain.barcodes import normalise_barcode, with_check_digit
from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import parse_decimal, to_minor
from erp_desktop.domain.quantity import qty_from_int
from erp_desktop.models.changes import OutboxEntry, _payload_json, row_state
from erp_desktop.models.inventory import Product, ProductSearchKey
from erp_desktop.services import catalogue
from erp_desktop.services.importing import ImportRefused

D = Decimal

MIXED = """SKU,Name,Unit,Barcode,Category,Sale price,Purchase price,Tax category,HSN/SAC,\
Reorder level,Reorder quantity,Service,Active,Notes
CAF-1,Café crème 250 g — “spécial”,pcs,4006381333931,Grocery,110.5,72,GST18,0901,5,15,no,yes,
Q-2,"Bulb ""warm"" 9W \\ 50% off",pcs,,Lighting,99,,,,,,,no,"line one
line two"
RICE,Sona rice,kg,,Grocery,62.00,48.1,GST18,,25.5,100.250,,,Keep dry
SVC,Installation visit,hr,,,450,0,,998729,,,yes,,
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def flush_payloads(ctx) -> dict[tuple[object, int], tuple[str, str]]:
    """(product id, version) -> (the import's outbox payload, what a flush of the product
    as it now stands would write), for every product's latest outbox row."""
    with ctx.db.read() as s:
        latest = {}
        for o in s.scalars(select(OutboxEntry).where(OutboxEntry.entity == "product")
                           .order_by(OutboxEntry.id)):
            latest[o.entity_id] = o
        return {(pid, o.version): (o.payload, _payload_json(row_state(s.get(Product, pid))))
                for pid, o in latest.items()}


def test_outbox_payloads_are_byte_for_byte_what_a_flush_writes(admin_ctx, tmp_path):
    catalogue.create_tax_category(admin_ctx, "GST18", "GST 18%", hsn_sac="8539")
    report = catalogue.import_products(admin_ctx, write(tmp_path, "m.csv", MIXED))
    assert (report.created, report.errors) == (4, [])
    inserted = flush_payloads(admin_ctx)
    assert len(inserted) == 4
    for (_pid, version), (mine, flushed) in inserted.items():
        assert version == 1 and mine == flushed
    # Re-import: one price, one name, one barcode and category change, one unchanged row.
    again = (MIXED.replace("110.5,72", "115,72").replace("Sona rice", "Sona masoori rice")
             .replace(",,Lighting,", ",8901030865275,Lamps,"))
    report = catalogue.import_products(admin_ctx, write(tmp_path, "m2.csv", again))
    assert (report.created, report.updated) == (0, 4)
    updated = flush_payloads(admin_ctx)
    for (_pid, version), (mine, flushed) in updated.items():
        assert version == 2 and mine == flushed
    q2 = catalogue.get_product(admin_ctx, "Q-2")
    assert (q2.barcode, q2.category, q2.active, q2.name) == (
        "8901030865275", "Lamps", False, 'Bulb "warm" 9W \\ 50% off')
    assert catalogue.get_product(admin_ctx, "RICE").reorder_qty == D("100.25")
    assert [r.sku for r in catalogue.list_products(admin_ctx, "masoori").rows] == ["RICE"]


def test_stored_timestamps_are_the_text_the_orm_stores(admin_ctx, tmp_path):
    catalogue.import_products(admin_ctx, write(tmp_path, "m.csv", "SKU,Name\nA-1,Bulb\n"))
    catalogue.create_product(admin_ctx, catalogue.ProductInput(sku="B-1", name="Tube"))
    with admin_ctx.db.read() as s:
        rows = s.connection().exec_driver_sql(
            "SELECT p.sku, typeof(p.created_at), p.created_at, p.updated_at, typeof(o.created_at),"
            " o.created_at FROM product p JOIN outbox o ON o.entity_id = p.id "
            "ORDER BY p.sku").all()
    for _sku, kind, created, updated, outbox_kind, outbox_created in rows:
        assert kind == outbox_kind == "text"
        for stamp in (created, updated, outbox_created):  # naive UTC, as the driver writes
            assert datetime.fromisoformat(stamp).isoformat(" ") == stamp


def test_the_fast_barcode_check_agrees_with_the_domain():
    rnd = random.Random(13)
    cells = ["4006381333931", "4006381333932", " 4006381333931", "400-6381-333931",
             "\u0664\u0660\u0660\u0666\u0663\u0668\u0661\u0663\u0663\u0663\u0669\u0663\u0661",
             "12345", "abcdefghijklm", "0" * 13, "96385074", "036000291452", "00012345600012"]
    for length in (8, 12, 13, 14):
        for _ in range(300):
            body = "".join(rnd.choice("0123456789") for _ in range(length - 1))
            good = with_check_digit(body)
            cells += [good, good[:-1] + str((int(good[-1]) + rnd.randint(1, 9)) % 10)]
    for cell in cells:
        try:
            expected: object = normalise_barcode(cell)
        except ValidationError as exc:
            expected = exc.message
        try:
            got: object = catalogue._import_barcode(cell)
        except ValidationError as exc:
            got = exc.message
        assert got == expected, cell


def test_plain_numbers_and_quantities_agree_with_the_full_rules():
    for text in ("0", "7", "110.5", "72.50", "1234567890123", "1234567890123.99", "0.01",
                 "\u0661\u0662.\u0665"):
        assert catalogue._fast_minor(text, 2) == to_minor(parse_decimal(text), "INR"), text
    for text in ("12.345", "1.", ".5", "-1", "+1", "1e3", "1 000", "12345678901234", "", "١٢.٣٤٥"):
        assert catalogue._fast_minor(text, 2) is None, text  # the slow path decides
    assert catalogue._fast_minor("12", 0) == 12 and catalogue._fast_minor("12.5", 0) is None
    for milli in (0, 1, 10, 999, 1000, 25500, 100250, 10**15 + 7, -1, -2500):
        assert catalogue._milli_text(milli) == str(qty_from_int(milli))


GOOD_ROWS = ["A-{n},Bulb {n},pcs,{code},Lighting,1{n}.50,1{n},5,15".format(
    n=n, code=with_check_digit(f"890100000{n:03d}")) for n in range(7)]
HEADER = "SKU,Name,Unit,Barcode,Category,Sale price,Purchase price,Reorder level,Reorder quantity"


def test_files_read_over_several_chunks(admin_ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(catalogue, "IMPORT_CHUNK", 2)
    bad = [*GOOD_ROWS[:5], GOOD_ROWS[1].replace("Bulb 1", "Bulb again"),
           GOOD_ROWS[6].replace(GOOD_ROWS[6].split(",")[3], GOOD_ROWS[0].split(",")[3])]
    with pytest.raises(ImportRefused) as e:
        catalogue.import_products(admin_ctx, write(tmp_path, "b.csv",
                                                   "\n".join([HEADER, *bad]) + "\n"))
    assert {(err.line, err.column) for err in e.value.report.errors} == {
        (7, "SKU"), (7, "Barcode"), (8, "Barcode")}  # line 7 repeats line 3 whole
    report = catalogue.import_products(admin_ctx, write(
        tmp_path, "g.csv", "\n".join([HEADER, *GOOD_ROWS[:4]]) + "\n"))
    assert (report.rows, report.created) == (4, 4)
    # A later file mixes updates and new rows in every chunk.
    mixed = [GOOD_ROWS[4], GOOD_ROWS[0].replace("10.50", "19.00"), GOOD_ROWS[5],
             GOOD_ROWS[2], GOOD_ROWS[6]]
    report = catalogue.import_products(admin_ctx, write(tmp_path, "m.csv",
                                                        "\n".join([HEADER, *mixed]) + "\n"))
    assert (report.created, report.updated) == (3, 2)
    assert catalogue.get_product(admin_ctx, "A-0").sale_price.amount == D("19.00")
    # A barcode taken by a product from an earlier import is refused by name.
    taken = GOOD_ROWS[1].replace("A-1", "Z-9")
    with pytest.raises(ImportRefused, match="already used by another product"):
        catalogue.import_products(admin_ctx, write(tmp_path, "t.csv", f"{HEADER}\n{taken}\n"))
    with admin_ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Product)) == 7


def test_reimport_keeps_the_search_index_exact(admin_ctx, tmp_path, monkeypatch):
    monkeypatch.setattr(catalogue, "IMPORT_CHUNK", 3)
    path = write(tmp_path, "g.csv", "\n".join([HEADER, *GOOD_ROWS]) + "\n")
    catalogue.import_products(admin_ctx, path)
    with admin_ctx.db.write(admin_ctx.actor.user_id) as s:  # A-3 is deleted (tombstone)
        s.scalars(select(Product).where(Product.sku == "A-3")).one().deleted_at = \
            datetime.now(UTC)
    assert catalogue.list_products(admin_ctx, "bulb 3").rows == []
    catalogue.import_products(admin_ctx, path)  # same names: only A-3 needs its index back
    catalogue.import_products(admin_ctx, path)
    for n in range(7):
        assert [r.sku for r in catalogue.list_products(admin_ctx, f"bulb {n}").rows] == [
            f"A-{n}"]
    with admin_ctx.db.read() as s:
        conn = s.connection()
        assert s.scalar(select(func.count()).select_from(ProductSearchKey)) == 7
        assert conn.exec_driver_sql("SELECT count(*) FROM product_fts").scalar() == 7
        assert conn.exec_driver_sql(
            "SELECT count(*) FROM product_fts WHERE product_fts MATCH 'bulb'").scalar() == 7
        versions = dict(s.execute(select(Product.sku, Product.version)).all())
    assert versions == {f"A-{n}": 4 if n == 3 else 3 for n in range(7)}  # A-3 was tombstoned
