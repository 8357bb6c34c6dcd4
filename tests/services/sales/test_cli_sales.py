"""The sales commands of the CLI: invoice list/pdf/batch and the receivables reports."""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from erp_desktop import cli, cli_sales
from erp_desktop.services import sales
from erp_desktop.services.sales import CreditLineIn, LineIn
from erp_desktop.settings import Paths, UserSettings
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.services.sales.conftest import make_shop


class NoKeychain:
    def get(self, name: str) -> bytes | None:
        return None

    def set(self, name: str, secret: bytes) -> None:
        raise AssertionError("not used")

    def delete(self, name: str) -> None:
        pass

    def available(self) -> bool:
        return False

    def reason_unavailable(self) -> str:
        return "tests"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run(admin_ctx, company_path, config, device, clock, tmp_path, capsys, monkeypatch):
    shop = make_shop(admin_ctx)
    ctx = admin_ctx
    a = sales.issue_invoice(ctx, sales.create_draft(ctx, shop.local.id, [LineIn("KETTLE", 2)],
                                                    invoice_date=date(2026, 10, 1)).id).invoice
    sales.issue_invoice(ctx, sales.create_draft(ctx, shop.remote.id, [LineIn("TV55", 1)],
                                                invoice_date=date(2026, 10, 20)).id)
    sales.record_payment(ctx, shop.local.id, "1000", "cash", payment_date=date(2026, 10, 5))
    sales.issue_credit_note(ctx, a.number, [CreditLineIn(1, 1)], note_date=date(2026, 10, 6))

    original = cli.build_parser

    def build() -> argparse.ArgumentParser:  # until cli.py registers the sales commands
        parser = original()
        sub = next(x for x in parser._actions if isinstance(x, argparse._SubParsersAction))
        if "invoice" not in sub.choices:
            cli_sales.register(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", build)
    secret = tmp_path / "pw.txt"
    secret.write_text(ADMIN_PASSWORD + "\n")
    paths = Paths(tmp_path / "home" / "data", tmp_path / "home" / "config",
                  tmp_path / "home" / "logs")

    def call(*argv: str) -> Run:
        capsys.readouterr()
        code = cli.run([*argv, "--company", str(company_path), "--user", ADMIN,
                        "--password-file", str(secret)], paths=paths, settings=UserSettings(),
                       config=config, device=device, keychain=NoKeychain(), clock=clock)
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return call


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_invoice_list_is_csv(run):
    r = run("invoice", "list", "--from", "2026-10-01", "--to", "2026-10-31")
    assert r.code == 0, r.err
    table = rows(r.out)
    assert table[0] == list(sales.INVOICE_LIST_COLUMNS)
    assert [x[0] for x in table[1:]] == ["INV/2026-27/A/000002", "INV/2026-27/A/000001"]
    only = rows(run("invoice", "list", "--customer", "Lakshmi Stores").out)
    assert len(only) == 2 and only[1][5] == "Lakshmi Stores"


def test_invoice_pdf_for_invoices_credit_notes_and_receipts(run, tmp_path: Path):
    for number in ("INV/2026-27/A/000001", "CN/2026-27/A/000001", "RCPT/2026-27/A/000001"):
        target = tmp_path / (number.replace("/", "-") + ".pdf")
        r = run("invoice", "pdf", number, "-o", str(target))
        assert r.code == 0, r.err
        assert target.read_bytes().startswith(b"%PDF")
    thermal = tmp_path / "receipt.pdf"
    assert run("invoice", "pdf", "INV/2026-27/A/000001", "-o", str(thermal),
               "--format", "thermal").code == 0
    r = run("invoice", "pdf", "INV/2026-27/A/000999", "-o", str(tmp_path / "x.pdf"))
    assert r.code == cli.EXIT_BAD_INPUT and "There is no invoice" in r.err


def test_invoice_batch(run, tmp_path: Path):
    folder = tmp_path / "october"
    r = run("invoice", "batch", "--from", "2026-10-01", "--to", "2026-10-31", "-o", str(folder))
    assert r.code == 0, r.err
    assert sorted(p.name for p in folder.iterdir()) == ["INV-2026-27-A-000001.pdf",
                                                         "INV-2026-27-A-000002.pdf"]
    assert "2 of 2 invoices" in r.err
    one = tmp_path / "all.pdf"
    r = run("invoice", "batch", "--from", "2026-10-01", "--to", "2026-10-31", "-o", str(one),
            "--one-file")
    assert r.code == 0 and one.read_bytes().startswith(b"%PDF")
    searched = tmp_path / "searched"
    r = run("invoice", "batch", "--from", "2026-10-01", "--to", "2026-10-31", "-o",
            str(searched), "--search", "000002")
    assert r.code == 0, r.err
    assert [p.name for p in searched.iterdir()] == ["INV-2026-27-A-000002.pdf"]
    r = run("invoice", "batch", "--from", "2026-10-31", "--to", "2026-10-01", "-o", str(one),
            "--one-file")
    assert r.code == cli.EXIT_BAD_INPUT and "after the end date" in r.err


def test_reports(run):
    r = run("report", "ageing", "--as-of", "2026-11-02")
    assert r.code == 0, r.err
    assert rows(r.out)[-1][-1] == "47380.00"  # (2,360 - 1,000 - 1,180) + 47,200
    r = run("report", "sales-register", "--from", "2026-10-01", "--to", "2026-10-31")
    assert [x[0] for x in rows(r.out)[1:]] == ["invoice", "credit_note", "invoice", "total"]
    r = run("report", "tax-summary", "--from", "2026-10-01", "--to", "2026-10-31")
    assert rows(r.out)[-1][-1] == "7380.00"  # 360 + 7,200 - 180
    r = run("report", "statement", "--customer", "Lakshmi Stores", "--from", "2026-10-01")
    assert rows(r.out)[-1][-1] == "180.00"
    r = run("report", "statement", "--customer", "Nobody", "--from", "2026-10-01")
    assert r.code == cli.EXIT_BAD_INPUT
    r = run("report", "ageing", "--as-of", "yesterday")
    assert r.code == cli.EXIT_BAD_INPUT and "YYYY-MM-DD" in r.err
