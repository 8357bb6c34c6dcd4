"""The inventory commands through `cli.run`: import, list, stock verify and the CSV reports."""

from __future__ import annotations

import csv
import io

import pytest

from erp_desktop import cli, cli_inventory
from erp_desktop.services import auth, inventory
from erp_desktop.store.engine import connect_raw
from tests.cli.test_cli import as_owner, run  # noqa: F401  (fixtures)
from tests.conftest import ADMIN, ADMIN_PASSWORD

PRODUCTS = """SKU,Name,Unit,Sale price,Purchase price,Reorder level,Reorder quantity
LED-9W,Philips LED bulb 9W,pcs,110.00,72.50,20,100
SUGAR,Sugar loose,kg,44.00,39.50,25,100
"""


@pytest.fixture(autouse=True)
def wired(monkeypatch):
    """The lead wires `register` into cli.build_parser; until then, do it here."""
    original = cli.build_parser

    def build():
        parser = original()
        sub = cli_inventory._subcommands(parser)
        if "product" not in sub.choices:
            cli_inventory.register(sub, cli._login_options())
        return parser

    monkeypatch.setattr(cli, "build_parser", build)


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_import_then_reports(run, as_owner, company_path, config, device, clock):  # noqa: F811
    path = run.tmp / "products.csv"
    path.write_text(PRODUCTS, encoding="utf-8")
    r = run("product", "import", str(path), *as_owner)
    assert r.code == 0, r.err
    assert "2 created, 0 updated" in r.out
    r = run("product", "list", "--search", "phil", *as_owner)
    assert "LED-9W" in r.out and "SUGAR" not in r.out

    ctx = auth.login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device,
                     clock=clock)
    try:
        inventory.create_warehouse(ctx, "MAIN", "Main store")
        inventory.receive_stock(ctx, "MAIN", [inventory.ReceiptLine("LED-9W", 12, "72.50"),
                                              inventory.ReceiptLine("SUGAR", "30.5", "39.50")])
        inventory.issue_stock(ctx, "MAIN", [inventory.IssueLine("LED-9W", 2)])
    finally:
        ctx.close()

    soh = rows(run("report", "stock-on-hand", *as_owner).out)
    assert [(x["sku"], x["quantity"], x["value"]) for x in soh] == [
        ("LED-9W", "10.000", "725.00"), ("SUGAR", "30.500", "1204.75")]
    low = rows(run("report", "low-stock", *as_owner).out)
    assert [(x["sku"], x["suggested_qty"]) for x in low] == [("LED-9W", "100.000")]
    card = rows(run("report", "stock-card", "--product", "LED-9W", *as_owner).out)
    assert [x["balance_quantity"] for x in card] == ["0.000", "12.000", "10.000"]
    val = run("report", "valuation", "--as-of", "2026-11-02", *as_owner)
    assert val.code == 0 and val.out.rstrip().endswith("Total,,,,,1929.75")
    r = run("report", "stock-card", "--product", "NOPE", *as_owner)
    assert r.code == 2 and "no product 'NOPE'" in r.err

    assert run("stock", "verify", *as_owner).code == 0
    con = connect_raw(company_path, ctx.vault.db_key)
    try:
        con.execute("UPDATE stock_balance SET quantity = 1")
    finally:
        con.close()
    r = run("stock", "verify", *as_owner)
    assert r.code == 1 and "2 stock balances differ" in r.out
    assert run("stock", "verify", "--repair", *as_owner).code == 0
    assert run("stock", "verify", *as_owner).code == 0


def test_a_refused_import_lists_every_bad_row_and_exits_2(run, as_owner):  # noqa: F811
    path = run.tmp / "bad.csv"
    path.write_text("SKU,Name,Sale price\nA,Bulb,ten\n,Tube,5\nC,Fan,12\n", encoding="utf-8")
    r = run("product", "import", str(path), *as_owner)
    assert r.code == 2
    assert "line 2, Sale price: 'ten' is not a number." in r.err
    assert "line 3, SKU: SKU is required." in r.err
    assert "Nothing was imported: 2 of 3 rows have problems." in r.err
    report = run.tmp / "bad-rows.csv"
    r = run("product", "import", str(path), "--skip-bad-rows", "--report", str(report),
            "--map", "Sale price=sale_price", *as_owner)
    assert r.code == 0 and "1 created, 0 updated, 2 bad rows skipped" in r.out
    assert [x["line"] for x in rows(report.read_text())] == ["2", "3"]
    r = run("product", "import", str(path), "--map", "nonsense", *as_owner)
    assert r.code == 2 and "is not a mapping" in r.err
