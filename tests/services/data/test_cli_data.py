"""`erp-desktop export | import | person | retention | wipe` through `cli.run`: output, exit
codes, refusals by role, and the wipe's typed confirmation."""

from __future__ import annotations

import builtins
import json
import zipfile
from dataclasses import replace
from pathlib import Path

import keyring
import pytest

from erp_desktop import cli
from erp_desktop.settings import Paths, UserSettings
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.keychain import OsKeychain
from tests.conftest import ADMIN, ADMIN_PASSWORD
from tests.services.data.conftest import PASSWORD, World
from tests.store.test_keychain import MemoryKeyring


@pytest.fixture
def run(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]):
    home = tmp_path / "home"
    paths = Paths(home / "data", home / "config", home / "logs")
    config = replace(world.config, auto_backup=False)

    def call(*argv: str, as_: str = ADMIN, keychain: object = None) -> tuple[int, str, str]:
        pw = tmp_path / f"{as_}.pw"
        pw.write_text((ADMIN_PASSWORD if as_ == ADMIN else PASSWORD) + "\n", encoding="utf-8")
        pw.chmod(0o600)
        capsys.readouterr()
        code = cli.run([*argv, "--company", str(world.path), "--user", as_,
                        "--password-file", str(pw)], paths=paths, settings=UserSettings(),
                       config=config, device=world.device, clock=world.clock,
                       keychain=keychain)  # type: ignore[arg-type]
        out, err = capsys.readouterr()
        return code, out, err

    return call


def test_export_from_the_command_line(run, tmp_path: Path):
    code, out, err = run("export", "--format", "csv", "-o", str(tmp_path / "all.zip"), "--bom")
    assert code == 0, err
    assert "Exported" in out and "Personal HR data: included" in out
    with zipfile.ZipFile(tmp_path / "all.zip") as zf:
        assert "manifest.json" in zf.namelist()
    code, _, err = run("export", "--format", "csv", "-o", str(tmp_path / "c.zip"), as_="ravi")
    assert code == 3 and "data.export" in err


def test_a_clerks_export_says_what_was_left_out(run, world: World, tmp_path: Path):
    from erp_desktop.services import roles

    roles.grant(world.admin, "sales_clerk", ["data.export"])
    code, out, err = run("export", "--format", "json", "-o", str(tmp_path / "c.json"),
                         as_="ravi")
    assert code == 0, err
    assert "hr_employee" in out and "Personal HR data: none; salaries: none." in out


def test_import_dry_run_and_refusal_exit_codes(run, tmp_path: Path):
    bad = tmp_path / "c.csv"
    bad.write_text("Cust No,Name,Credit limit\nC-1,Good,10\nC-2,Bad,abc\n", encoding="utf-8")
    code, out, err = run("import", "customers", str(bad), "--dry-run", "--map", "Cust No=code",
                         "--report", str(tmp_path / "bad-rows.csv"))
    assert code == 1
    assert "Dry run" in out and "line 3, Credit limit: 'abc' is not a number." in err
    assert "line,column,reason" in (tmp_path / "bad-rows.csv").read_text()
    code, _, err = run("import", "customers", str(bad), "--map", "Cust No=code")
    assert code == 2 and "Nothing was imported" in err
    code, out, err = run("import", "customers", str(bad), "--map", "Cust No=code",
                         "--skip-bad-rows")
    assert code == 0 and "1 created" in out
    code, _, err = run("import", "customers", str(bad), as_="ravi")
    assert code == 3
    code, _, err = run("import", "planets", str(bad))
    assert code == 2


def test_opening_balances_with_a_date(run, tmp_path: Path):
    f = tmp_path / "ob.csv"
    f.write_text("Account,Debit,Credit\n1200,1000,\n", encoding="utf-8")
    code, out, err = run("import", "opening-balances", str(f), "--date", "2026-04-01")
    assert code == 0, err
    assert "1 created" in out


def test_person_report_and_anonymise(run, world: World, tmp_path: Path):
    code, out, err = run("person", "report", "--kind", "customer", "--name", "Meena Iyer",
                         "-o", str(tmp_path))
    assert code == 0, err
    json_file = next(tmp_path.glob("person-customer-*.json"))
    assert json.loads(json_file.read_text())["name"] == "Meena Iyer"
    assert next(tmp_path.glob("person-customer-*.pdf")).stat().st_size > 1000
    code, _, err = run("person", "anonymise", "--kind", "customer", "--name", "Meena Iyer",
                       "--yes")
    assert code == 2 and "8 years" in err
    code, _, err = run("person", "anonymise", "--kind", "vendor", "--name", "Suresh Babu")
    assert code == 2 and "--yes" in err  # no terminal to confirm on
    code, out, err = run("person", "anonymise", "--kind", "vendor", "--name", "Suresh Babu",
                         "--yes")
    assert code == 0, err
    assert "Anonymised the vendor" in out
    code, _, err = run("person", "report", "--kind", "customer", "--name", "Meena Iyer",
                       "-o", str(tmp_path), as_="ravi")
    assert code == 3


def test_retention_from_the_command_line(run):
    code, out, err = run("retention", "policy", "--login-days", "90")
    assert code == 0, err
    assert "login events: 90 days" in out
    code, out, err = run("retention", "apply")
    assert code == 0, err
    assert "Purged 0 login events and 0 audit events." in out
    code, _, _ = run("retention", "apply", as_="priya")
    assert code == 3


@pytest.fixture
def memory_keychain():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_wipe_asks_for_the_name_and_removes_everything(run, world: World, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       memory_keychain: MemoryKeyring):
    from erp_desktop.services import auth

    auth.remember_on_this_computer(world.admin, OsKeychain())
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    answers = iter(["Template Traders"])  # a wrong name first
    monkeypatch.setattr(builtins, "input", lambda prompt="": next(answers))
    code, _, err = run("wipe", "--no-backup", "--no-export", keychain=OsKeychain())
    assert code == 2 and "nothing was removed" in err
    assert world.path.exists()

    answers = iter(["Template Traders Pvt Ltd"])
    final = tmp_path / "final.json"
    code, out, err = run("wipe", "--backup", str(tmp_path / "final-backup.erp"), "--export",
                         str(final), keychain=OsKeychain())
    assert code == 0, err
    assert "Removed 4 files and 1 keychain entries." in out
    assert final.exists() and (tmp_path / "final-backup.erp").exists()
    assert not any(p.exists() for p in sidecar_paths(world.path))
    assert memory_keychain.store == {}


def test_wipe_refuses_without_a_terminal_or_the_right(run, world: World):
    code, _, err = run("wipe", "--no-backup", "--no-export")
    assert code == 2 and "terminal" in err
    code, _, _ = run("wipe", as_="priya")
    assert code == 3
    assert world.path.exists()
