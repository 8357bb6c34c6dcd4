"""`erp-desktop payroll ...` and `employee list` through `cli.run`, on a staffed company."""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import replace

import pytest
from openpyxl import load_workbook

from erp_desktop import cli, cli_hr
from erp_desktop.settings import Paths, UserSettings
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.services.hr.conftest import PASSWORD, World, terminate_farah


@pytest.fixture
def run(world: World, tmp_path, monkeypatch, capsys):
    original = cli.build_parser

    def with_hr() -> argparse.ArgumentParser:
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        if "payroll" not in sub.choices:  # until the lead wires cli_hr into cli
            cli_hr.register(sub)
        return parser

    monkeypatch.setattr(cli, "build_parser", with_hr)
    home = tmp_path / "home"
    paths = Paths(home / "data", home / "config", home / "logs")
    config = replace(world.config, auto_backup=False)

    def secret(login: str, password: str) -> list[str]:
        path = tmp_path / f"{login}.pw"
        path.write_text(password + "\n", encoding="utf-8")
        path.chmod(0o600)
        return ["--company", str(world.path), "--user", login, "--password-file", str(path)]

    def call(*argv: str, as_: str = ADMIN) -> tuple[int, str, str]:
        login = secret(as_, ADMIN_PASSWORD if as_ == ADMIN else PASSWORD)
        capsys.readouterr()
        code = cli.run([*argv, *login], paths=paths, settings=UserSettings(), config=config,
                       device=world.device, clock=world.clock)
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_a_month_from_the_command_line(run, world: World, tmp_path):
    terminate_farah(world)
    code, out, err = run("payroll", "run", "--month", "2026-10")
    assert code == 0, err
    assert "Payroll October 2026: a draft, 6 employees" in out
    code, out, err = run("payroll", "leave", "--month", "2026-10", "--employee", "emp-002",
                         "--days", "2")
    assert code == 0, err
    code, out, _ = run("payroll", "show", "--month", "2026-10")
    assert "EMP-002  Kiran Rao" in out and "46,774.20" in out
    code, out, err = run("payroll", "post", "--month", "2026-10")
    assert code == 0, err
    assert "PAY/2026-27/A/000001: posted" in out and "net pay 259,703.24 INR" in out

    code, out, err = run("payroll", "payslips", "--month", "2026-10", "-o",
                         str(tmp_path / "slips"))
    assert code == 0, err
    assert len(list((tmp_path / "slips").glob("payslip-2026-10-*.pdf"))) == 6
    code, _, err = run("payroll", "register", "--month", "2026-10", "-o",
                       str(tmp_path / "register.xlsx"))
    assert code == 0, err
    ws = load_workbook(tmp_path / "register.xlsx").active
    assert ws.cell(row=1, column=1).value == "Employee code"
    code, out, err = run("payroll", "bank-list", "--month", "2026-10", "-o",
                         str(tmp_path / "bank.csv"))
    assert code == 0, err
    assert "Wrote 5 transfers" in out and "pay another way: EMP-006" in out
    rows = list(csv.DictReader(io.StringIO((tmp_path / "bank.csv").read_text("utf-8-sig"))))
    assert len(rows) == 5
    code, out, _ = run("payroll", "paid", "--month", "2026-10", "--on", "2026-11-01")
    assert code == 0 and "paid from bank on 2026-11-01" in out
    code, out, _ = run("payroll", "list", as_="priya")  # the accountant sees totals
    assert "2026-10" in out and "paid" in out and "Kiran" not in out


def test_refusals_exit_with_the_right_codes(run, world: World, tmp_path):
    run("payroll", "run", "--month", "2026-10")
    code, _, err = run("payroll", "register", "--month", "2026-10", "-o",
                       str(tmp_path / "r.csv"), as_="priya")
    assert code == cli.EXIT_DENIED and "permission" in err
    assert not (tmp_path / "r.csv").exists()
    code, _, err = run("payroll", "run", "--month", "October")
    assert code == cli.EXIT_BAD_INPUT and "write it as 2026-10" in err
    code, _, err = run("payroll", "bank-list", "--month", "2026-10", "-o",
                       str(tmp_path / "b.csv"))
    assert code == cli.EXIT_BAD_INPUT and "post it before" in err
    code, _, err = run("employee", "list", as_="kiran")
    assert code == cli.EXIT_DENIED


def test_employee_list(run):
    code, out, _ = run("employee", "list")
    assert code == 0
    assert "EMP-002  Kiran Rao" in out and "kiran" in out
