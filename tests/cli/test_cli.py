"""The command line, end to end on real encrypted files: what it prints, what it refuses.

Every command runs through `cli.run` with the fast test KDF, a private home
folder, passwords in files (never arguments) and pytest's captured streams.
"""

from __future__ import annotations

import csv
import io
import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from erp_desktop import cli
from erp_desktop.models.audit import AuditEvent
from erp_desktop.services import admin, auth
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import DeviceInfo
from erp_desktop.settings import Paths, UserSettings, load_settings
from erp_desktop.store.company_file import sidecar_paths
from erp_desktop.store.engine import connect_raw
from erp_desktop.store.keyfile import KeyFile, LoginThrottle, key_file_path
from tests.conftest import ADMIN, ADMIN_PASSWORD, FakeClock

RAVI_PASSWORD = "mango season 2026"


class DictKeychain:
    """An OS keychain stand-in (the real one is tested in tests/store)."""

    def __init__(self) -> None:
        self.entries: dict[str, bytes] = {}

    def get(self, name: str) -> bytes | None:
        return self.entries.get(name)

    def set(self, name: str, secret: bytes) -> None:
        self.entries[name] = secret

    def delete(self, name: str) -> None:
        self.entries.pop(name, None)

    def available(self) -> bool:
        return True

    def reason_unavailable(self) -> str:
        return ""


@dataclass
class Result:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    paths: Paths
    settings: UserSettings
    config: AppConfig
    device: DeviceInfo
    keychain: DictKeychain
    clock: FakeClock
    capsys: pytest.CaptureFixture[str]
    tmp: Path

    def __call__(self, *argv: str) -> Result:
        self.capsys.readouterr()
        code = cli.run(list(argv), paths=self.paths, settings=self.settings,
                       config=self.config, device=self.device, keychain=self.keychain,
                       clock=self.clock)
        out, err = self.capsys.readouterr()
        return Result(code, out, err)

    def secret(self, text: str, name: str | None = None) -> str:
        """A password file (0600, one line) for --password-file / --new-password-file."""
        path = self.tmp / (name or f"pw-{abs(hash(text))}.txt")
        path.write_text(text + "\n", encoding="utf-8")
        path.chmod(0o600)
        return str(path)


@pytest.fixture
def run(tmp_path, config, device, clock, capsys) -> Cli:
    home = tmp_path / "home"
    paths = Paths(home / "data", home / "config", home / "logs")
    return Cli(paths, UserSettings(), replace(config, auto_backup=False), device, DictKeychain(),
               clock, capsys, tmp_path)


@pytest.fixture
def as_owner(run, company_path) -> list[str]:
    """The login options of the template company's owner."""
    return ["--company", str(company_path), "--user", ADMIN, "--password-file",
            run.secret(ADMIN_PASSWORD, "owner.txt")]


@pytest.fixture
def with_ravi(run, as_owner, company_path) -> list[str]:
    """Adds the sales clerk 'ravi' and returns his login options."""
    r = run("user", "add", "ravi", "--name", "Ravi Kumar", "--role", "sales_clerk",
            "--new-password-file", run.secret(RAVI_PASSWORD, "ravi.txt"), *as_owner)
    assert r.code == 0, r.err
    return ["--company", str(company_path), "--user", "ravi", "--password-file",
            run.secret(RAVI_PASSWORD, "ravi.txt")]


def files_of(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sidecar_paths(path) if p.exists()}


def audit_actions(company_path: Path, config, device, clock) -> list[str]:
    ctx = auth.login(company_path, ADMIN, ADMIN_PASSWORD, config=config, device=device,
                     clock=clock)
    try:
        with ctx.db.read() as s:
            return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.seq)))
    finally:
        ctx.close()


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# ------------------------------------------------------------------------ init


def test_init_with_flags_creates_the_file_and_shows_the_passphrase_once(run, config, device):
    target = run.tmp / "Kaveri Traders.erp"
    r = run("init", "--company", str(target), "--name", "Kaveri Traders", "--country", "IN",
            "--currency", "INR", "--tax-regime", "gst", "--fy-start-month", "4",
            "--state", "Karnataka", "--state-code", "29", "--gstin", "29abcde1234f1zw",
            "--admin", "lakshmi", "--admin-name", "Lakshmi Rao",
            "--password-file", run.secret("river stone 2026"))
    assert r.code == 0, r.err
    assert r.err == ""
    assert target.exists() and key_file_path(target).exists()
    lines = r.out.splitlines()
    marker = lines.index("RECOVERY PASSPHRASE: write it down now and keep it somewhere safe, "
                         "away from this computer.")
    passphrase = lines[marker + 2].strip()
    assert len(passphrase) > 20
    assert r.out.count(passphrase) == 1
    assert "cannot be shown again" in r.out and "only way back in" in r.out
    assert "river stone 2026" not in r.out
    # The passphrase really opens the file, and the admin's password too.
    ctx = auth.recover_admin(target, passphrase, "lakshmi", "new river stone 26", config=config,
                             device=device)
    ctx.close()
    # Remembered for the next command.
    saved = load_settings(run.paths)
    assert saved.last_company == str(target.resolve()) and saved.last_login == "lakshmi"
    info = run("info", "--password-file", run.secret("new river stone 26"))
    assert info.code == 0, info.err
    assert "Kaveri Traders" in info.out and "29ABCDE1234F1ZW" in info.out


def test_init_defaults_to_the_companies_folder(run):
    r = run("init", "--name", "Blue Lotus Cafe", "--country", "DE", "--currency", "EUR",
            "--tax-regime", "vat", "--fy-start-month", "1", "--state", "", "--admin", "anna",
            "--admin-name", "Anna Weber", "--password-file", run.secret("kaffee und kuchen"))
    assert r.code == 0, r.err
    assert (run.paths.companies_dir / "Blue Lotus Cafe.erp").exists()


def test_init_refuses_an_existing_file_and_leaves_it_alone(run, company_path):
    before = files_of(company_path)
    r = run("init", "--company", str(company_path), "--name", "Other Co", "--admin", "boss",
            "--admin-name", "The Boss", "--password-file", run.secret("another secret 99"))
    assert r.code == cli.EXIT_BAD_INPUT
    assert "already exists" in r.err
    assert r.out == ""
    assert files_of(company_path) == before


def test_init_without_a_terminal_names_the_missing_option(run):
    r = run("init", "--company", str(run.tmp / "x.erp"), "--admin", "boss",
            "--admin-name", "The Boss", "--password-file", run.secret("another secret 99"))
    assert r.code == cli.EXIT_BAD_INPUT
    assert "--name" in r.err
    assert not (run.tmp / "x.erp").exists()


def test_init_interactive_asks_and_refuses_mismatched_passwords(run, monkeypatch):
    answers = iter(["Green Leaf Stores", "", "", "", "", "Kerala", "32", "", "meera",
                    "Meera Menon"])
    monkeypatch.setattr(cli, "_interactive", lambda: True)
    monkeypatch.setattr("builtins.input", lambda prompt="": next(answers))
    typed = iter(["tea garden 2026", "tea garden 2027"])
    monkeypatch.setattr(cli.getpass, "getpass", lambda prompt="": next(typed))
    target = run.tmp / "green.erp"
    r = run("init", "--company", str(target))
    assert r.code == cli.EXIT_BAD_INPUT
    assert "differ" in r.err
    assert not target.exists() and not key_file_path(target).exists()

    answers = iter(["Green Leaf Stores", "", "", "", "", "Kerala", "32", "", "meera",
                    "Meera Menon"])
    typed = iter(["tea garden 2026", "tea garden 2026"])
    r = run("init", "--company", str(target))
    assert r.code == 0, r.err
    info = run("info", "--company", str(target), "--user", "meera", "--password-file",
               run.secret("tea garden 2026"))
    assert "Green Leaf Stores" in info.out
    assert "IN, currency INR, tax regime gst" in info.out
    assert "Kerala (32)" in info.out


# ------------------------------------------------------------------------ info


def test_info_shows_the_file_without_secrets(run, as_owner, company_path):
    r = run("info", *as_owner)
    assert r.code == 0, r.err
    assert "Template Traders Pvt Ltd" in r.out
    assert "Schema revision:" in r.out and "(current)" in r.out
    assert "Users:" in r.out and "1 (1 active)" in r.out
    assert "Audit head hash:" in r.out
    assert "This computer remembers the login: no" in r.out
    db_key = KeyFile.load(key_file_path(company_path), kdf=run.config.kdf) \
        .unlock_with_password(ADMIN, ADMIN_PASSWORD)
    assert ADMIN_PASSWORD not in r.out and db_key.hex() not in r.out.lower()


def test_info_says_when_this_computer_remembers_the_login(run, as_owner, company_path):
    ctx = auth.login(company_path, ADMIN, ADMIN_PASSWORD, config=run.config, device=run.device,
                     clock=run.clock)
    auth.remember_on_this_computer(ctx, run.keychain)
    ctx.close()
    r = run("info", *as_owner)
    assert "This computer remembers the login: yes" in r.out


# ------------------------------------------------------------------ login rules


def test_wrong_password_is_exit_4_with_the_message_on_stderr(run, company_path):
    r = run("info", "--company", str(company_path), "--user", ADMIN, "--password-file",
            run.secret("not the password"))
    assert r.code == cli.EXIT_LOGIN
    assert "Wrong login name or password" in r.err
    assert r.out == ""
    assert load_settings(run.paths).last_company is None  # only a good login is remembered


def test_a_locked_login_is_exit_4_even_with_the_right_password(run, as_owner, company_path):
    run.config = replace(run.config, throttle=LoginThrottle(slow_after=5, lock_after=2))
    wrong = ["--company", str(company_path), "--user", ADMIN, "--password-file",
             run.secret("not the password")]
    assert run("info", *wrong).code == cli.EXIT_LOGIN
    assert run("info", *wrong).code == cli.EXIT_LOGIN
    r = run("info", *as_owner)
    assert r.code == cli.EXIT_LOGIN
    assert "minutes" in r.err and r.out == ""


def test_missing_company_is_a_clear_message(run):
    r = run("info", "--user", ADMIN, "--password-file", run.secret(ADMIN_PASSWORD))
    assert r.code == cli.EXIT_BAD_INPUT
    assert "--company PATH" in r.err
    r = run("info", "--company", str(run.tmp / "nowhere.erp"), "--user", ADMIN,
            "--password-file", run.secret(ADMIN_PASSWORD))
    assert r.code == cli.EXIT_BAD_INPUT
    assert "does not exist" in r.err


@pytest.mark.parametrize("argv", [
    ["info", "--password", "correct horse battery"],
    ["info", "--password=correct horse battery"],
    ["user", "add", "x", "--name", "X", "--role", "employee", "--new-password", "abcdefghijk"],
])
def test_a_password_is_never_accepted_as_an_argument(run, as_owner, argv):
    r = run(*argv)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "--password-file" in r.err
    assert "correct horse battery" not in r.err + r.out
    assert "abcdefghijk" not in r.err + r.out


@pytest.mark.parametrize("argv", [
    ["info", "--pasword", "correct horse battery"],
    ["info", "correct horse battery"],
    ["info", "--typo=correct horse battery"],
])
def test_stray_arguments_are_not_echoed(run, argv):
    r = run(*argv)
    assert r.code == cli.EXIT_BAD_INPUT
    assert r.err.strip()
    assert "correct horse battery" not in r.err + r.out


def test_no_option_takes_a_password_itself():
    def options(parser):
        for action in parser._actions:
            yield from action.option_strings
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):
                for sub in choices.values():
                    yield from options(sub)

    names = set(options(cli.build_parser()))
    assert "--password-file" in names
    assert {n for n in names if "pass" in n} <= {"--password-file", "--new-password-file"}


def test_without_a_terminal_the_password_file_is_required(run, company_path):
    r = run("info", "--company", str(company_path), "--user", ADMIN)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "--password-file" in r.err and "no terminal" in r.err


def test_last_company_and_login_are_remembered(run, as_owner, company_path):
    assert run("info", *as_owner).code == 0
    assert run.settings.last_company == str(company_path.resolve())
    r = run("info", "--password-file", run.secret(ADMIN_PASSWORD))
    assert r.code == 0, r.err


def test_an_unexpected_error_is_logged_not_shown(run, as_owner, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail 1234")

    monkeypatch.setattr(admin, "company_info", broken)
    with caplog.at_level(logging.ERROR):
        r = run("info", *as_owner)
    assert r.code == cli.EXIT_BUG
    assert r.err.startswith("Something went wrong: RuntimeError; details are in the log file")
    assert "internal detail" not in r.err and "Traceback" not in r.err
    assert any(rec.exc_info and "internal detail" in str(rec.exc_info[1])
               for rec in caplog.records)


# ------------------------------------------------------------------------ users


def test_user_add_list_and_the_new_user_can_log_in(run, as_owner, with_ravi):
    r = run("user", "list", *as_owner)
    assert r.code == 0, r.err
    ravi = next(line for line in r.out.splitlines() if line.startswith("ravi "))
    assert "Ravi Kumar" in ravi and "sales_clerk" in ravi and "yes" in ravi
    assert run("info", *with_ravi).code == 0


def test_a_sales_clerk_cannot_add_users(run, as_owner, with_ravi, company_path, config,
                                        device, clock):
    r = run("user", "add", "sneaky", "--name", "Sneaky", "--role", "admin",
            "--new-password-file", run.secret("let me in 2026"), *with_ravi)
    assert r.code == cli.EXIT_DENIED
    assert "permission" in r.err and "users.manage" in r.err
    assert r.out == ""
    assert "sneaky" not in run("user", "list", *as_owner).out
    assert "permission.denied" in audit_actions(company_path, config, device, clock)


def test_user_passwd_changes_the_own_password(run, with_ravi, company_path):
    new = run.secret("papaya monsoon 2026", "ravi-new.txt")
    r = run("user", "passwd", "--new-password-file", new, *with_ravi)
    assert r.code == 0, r.err
    assert run("info", *with_ravi).code == cli.EXIT_LOGIN  # the old password no longer opens
    r = run("info", "--company", str(company_path), "--user", "ravi", "--password-file", new)
    assert r.code == 0, r.err


def test_user_passwd_refuses_a_weak_password(run, with_ravi):
    r = run("user", "passwd", "--new-password-file", run.secret("short"), *with_ravi)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "at least 10 characters" in r.err
    assert run("info", *with_ravi).code == 0


def test_user_reset_disable_and_enable(run, as_owner, with_ravi, company_path):
    fresh = run.secret("guava harvest 2026", "ravi-reset.txt")
    assert run("user", "reset", "ravi", "--new-password-file", fresh, *as_owner).code == 0
    as_ravi = ["--company", str(company_path), "--user", "ravi", "--password-file", fresh]
    assert run("info", *as_ravi).code == 0

    r = run("user", "disable", "ravi", *as_owner)
    assert r.code == 0, r.err
    r = run("info", *as_ravi)
    assert r.code == cli.EXIT_LOGIN
    listed = run("user", "list", *as_owner).out
    assert next(ln for ln in listed.splitlines() if ln.startswith("ravi ")).split()[-3] == "no"

    assert run("user", "enable", "ravi", "--new-password-file", fresh, *as_owner).code == 0
    assert run("info", *as_ravi).code == 0


def test_user_commands_name_unknown_users(run, as_owner):
    r = run("user", "disable", "nobody", *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "There is no user 'nobody'" in r.err


def test_the_last_admin_cannot_be_disabled(run, as_owner):
    r = run("user", "disable", ADMIN, *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT


# ------------------------------------------------------------------------ roles


def test_role_list_and_grant(run, as_owner, with_ravi):
    r = run("role", "list", *as_owner)
    assert r.code == 0, r.err
    assert "sales_clerk" in r.out and "Sales clerk" in r.out

    assert run("user", "list", *with_ravi).code == cli.EXIT_DENIED
    r = run("role", "grant", "sales_clerk", "users.view", *as_owner)
    assert r.code == 0, r.err
    r = run("user", "list", *with_ravi)  # effective at ravi's next login: this one
    assert r.code == 0, r.err
    assert "ravi" in r.out

    r = run("role", "permissions", "sales_clerk", *as_owner)
    assert "users.view" in r.out and "users.manage" not in r.out
    assert run("role", "revoke", "sales_clerk", "users.view", *as_owner).code == 0
    assert run("user", "list", *with_ravi).code == cli.EXIT_DENIED


def test_role_grant_refuses_unknown_permissions(run, as_owner):
    r = run("role", "grant", "sales_clerk", "launch.rockets", *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "launch.rockets" in r.err


def test_role_permissions_catalogue_needs_no_login(run):
    r = run("role", "permissions")
    assert r.code == 0, r.err
    assert "ledger.post" in r.out and "backup.restore" in r.out


# ------------------------------------------------------------------------ audit


def test_audit_verify_ok_and_list(run, as_owner):
    r = run("audit", "verify", *as_owner)
    assert r.code == 0, r.err
    assert "intact" in r.out
    r = run("audit", "list", "--limit", "3", *as_owner)
    assert r.code == 0, r.err
    rows = r.out.splitlines()[2:]
    assert len(rows) == 3
    assert any("login.succeeded" in row for row in rows)


def test_audit_verify_finds_tampering(run, as_owner, company_path):
    db_key = KeyFile.load(key_file_path(company_path), kdf=run.config.kdf) \
        .unlock_with_password(ADMIN, ADMIN_PASSWORD)
    con = connect_raw(company_path, db_key)
    try:
        # Someone with the key and a SQL shell: drop the guard and rewrite history.
        con.execute("DROP TRIGGER audit_event_no_update")
        con.execute("UPDATE audit_event SET actor_name = 'nobody' WHERE seq = 1")
    finally:
        con.close()
    r = run("audit", "verify", *as_owner)
    assert r.code == cli.EXIT_PROBLEMS
    assert "event 1: its content was changed" in r.err
    assert "tampered" in r.err
    assert r.out == ""


# ------------------------------------------------------------------------ ledger


def test_ledger_post_and_reports_parse_back(run, as_owner):
    r = run("ledger", "post", "--date", "2026-04-01", "--line", "1200:500000:",
            "--line", "3100::500000", "--memo", "Capital introduced", *as_owner)
    assert r.code == 0, r.err
    assert "JV/2026-27/A/000001" in r.out
    r = run("ledger", "post", "--date", "2026-04-05", "--line", "6200:45000:0",
            "--line", "1200:0:45000", "--memo", "Rent", *as_owner)
    assert r.code == 0, r.err

    tb = run("report", "trial-balance", "--as-of", "2026-04-30", *as_owner)
    assert tb.code == 0, tb.err
    rows = parse_csv(tb.out)
    by_code = {row["code"]: row for row in rows}
    assert Decimal(by_code["1200"]["debit"]) == Decimal("455000.00")
    assert Decimal(by_code["3100"]["credit"]) == Decimal("500000.00")
    total = next(row for row in rows if row["name"] == "Total")
    assert Decimal(total["debit"]) == Decimal(total["credit"]) == Decimal("500000.00")

    pnl = parse_csv(run("report", "pnl", "--from", "2026-04-01", "--to", "2026-04-30",
                        *as_owner).out)
    net = next(row for row in pnl if row["name"] == "Net profit")
    assert Decimal(net["amount"]) == Decimal("-45000.00")

    bs = parse_csv(run("report", "balance-sheet", "--as-of", "2026-04-30", *as_owner).out)
    assets = next(row for row in bs if row["name"] == "Total assets")
    both = next(row for row in bs if row["name"] == "Total liabilities and equity")
    assert Decimal(assets["amount"]) == Decimal(both["amount"]) == Decimal("455000.00")

    gl = parse_csv(run("report", "gl", "--account", "1200", "--from", "2026-04-01", "--to",
                       "2026-04-30", *as_owner).out)
    assert [row["running_balance"] for row in gl] == ["0.00", "500000.00", "455000.00",
                                                       "455000.00"]


def test_ledger_post_refuses_an_unbalanced_entry(run, as_owner):
    r = run("ledger", "post", "--date", "2026-04-01", "--line", "1200:1000:",
            "--line", "3100::999", *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT
    assert r.err.strip() and r.out == ""
    tb = parse_csv(run("report", "trial-balance", "--as-of", "2026-12-31", *as_owner).out)
    assert [row["name"] for row in tb] == ["Total"]


def test_ledger_post_names_a_malformed_line(run, as_owner):
    r = run("ledger", "post", "--date", "2026-04-01", "--line", "1200-1000", *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "ACCOUNT:DEBIT:CREDIT" in r.err
    r = run("ledger", "post", "--date", "1st April", "--line", "1200:1:", "--line", "3100::1",
            *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "YYYY-MM-DD" in r.err


def test_ledger_reverse_and_lock(run, as_owner):
    run("ledger", "post", "--date", "2026-05-02", "--line", "6300:1200:", "--line",
        "1100::1200", *as_owner)
    r = run("ledger", "reverse", "JV/2026-27/A/000001", "--date", "2026-05-03", *as_owner)
    assert r.code == 0, r.err
    assert "JV/2026-27/A/000002" in r.out
    assert run("ledger", "reverse", "JV/2026-27/A/000099", *as_owner).code == cli.EXIT_BAD_INPUT

    assert run("ledger", "lock", "--until", "2026-05-31", *as_owner).code == 0
    r = run("ledger", "post", "--date", "2026-05-10", "--line", "6300:10:", "--line",
            "1100::10", *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "lock" in r.err.lower()


# ------------------------------------------------------------------------ backup


def test_backup_and_restore_round_trip(run, as_owner, company_path, config, device, clock):
    run("ledger", "post", "--date", "2026-04-01", "--line", "1200:1000:", "--line",
        "3100::1000", *as_owner)
    target = run.tmp / "before-rent.erp"
    r = run("backup", "-o", str(target), *as_owner)
    assert r.code == 0, r.err
    assert target.exists() and key_file_path(target).exists()
    run("ledger", "post", "--date", "2026-04-05", "--line", "6200:300:", "--line",
        "1200::300", *as_owner)

    r = run("restore", str(target), *as_owner)
    assert r.code == 0, r.err
    assert "kept as" in r.out
    tb = parse_csv(run("report", "trial-balance", "--as-of", "2026-12-31", *as_owner).out)
    assert {row["code"] for row in tb} == {"1200", "3100", ""}  # the rent is gone
    set_aside = [p for p in company_path.parent.iterdir() if ".before-restore-" in p.name
                 and not p.name.endswith((".key", "-wal", "-shm"))]
    assert len(set_aside) == 1
    actions = audit_actions(company_path, config, device, clock)
    assert "backup.restored" in actions


def test_backup_to_the_default_folder(run, as_owner):
    r = run("backup", *as_owner)
    assert r.code == 0, r.err
    made = Path(r.out.split("Backed up to ", 1)[1].strip())
    assert made.exists() and made.parent.parent == run.config.backup_dir
    assert "manual" in made.name


def test_restore_needs_an_admin_of_the_backup(run, as_owner, with_ravi, company_path):
    target = run.tmp / "b.erp"
    assert run("backup", "-o", str(target), *as_owner).code == 0
    before = files_of(company_path)
    r = run("restore", str(target), *with_ravi)
    assert r.code == cli.EXIT_DENIED
    assert "admin" in r.err
    r = run("restore", str(target), "--company", str(company_path), "--user", ADMIN,
            "--password-file", run.secret("wrong password here"))
    assert r.code == cli.EXIT_LOGIN
    assert files_of(company_path) == before


def test_restore_of_a_missing_backup_is_bad_input(run, as_owner):
    r = run("restore", str(run.tmp / "nope.erp"), *as_owner)
    assert r.code == cli.EXIT_BAD_INPUT
    assert "does not exist" in r.err


def backups_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.erp"))


def test_commands_back_up_automatically(run, as_owner):
    run.config = replace(run.config, auto_backup=True)
    assert run("info", *as_owner).code == 0
    assert len(backups_in(run.config.backup_dir)) == 1  # the daily one
    assert run("info", *as_owner).code == 0
    assert len(backups_in(run.config.backup_dir)) == 1  # reading changes nothing: no more
    r = run("ledger", "post", "--date", "2026-04-01", "--line", "1200:10:", "--line",
            "3100::10", *as_owner)
    assert r.code == 0, r.err
    names = backups_in(run.config.backup_dir)
    assert len(names) == 2 and any("on-close" in n for n in names)
    assert "reason=on-close" in run("audit", "list", "--limit", "20", *as_owner).out


def test_a_failed_automatic_backup_is_a_warning(run, as_owner, monkeypatch):
    from erp_desktop.domain.errors import DiskProblem
    from erp_desktop.store import backup as store_backup

    def full(*args, **kwargs):
        raise DiskProblem("The disk holding the backups is full.")

    monkeypatch.setattr(store_backup, "auto_backup", full)
    run.config = replace(run.config, auto_backup=True)
    r = run("ledger", "post", "--date", "2026-04-01", "--line", "1200:10:", "--line",
            "3100::10", *as_owner)
    assert r.code == 0
    assert "Posted JV/2026-27/A/000001" in r.out
    assert "Warning: the automatic backup failed: The disk holding the backups is full." in r.err


# -------------------------------------------------------------------------- demo


def test_demo_if_missing_creates_once(run, monkeypatch):
    built: list[Path] = []

    def fake_demo(path, *, config, device, clock=None):
        from erp_desktop.services import demo

        built.append(path)
        path.write_bytes(b"x" * 16)
        return demo.DemoInfo(path=path, company_name=demo.TRADE_NAME,
                             owner_login=demo.OWNER_LOGIN, users=demo.DEMO_USERS,
                             recovery_passphrase="DEMO-PASSPHRASE")

    monkeypatch.setattr(cli.demo, "create_demo_company", fake_demo)
    r = run("demo", "--if-missing")
    assert r.code == 0, r.err
    assert built == [run.paths.companies_dir / cli.demo.DEMO_FILE_NAME]
    assert "admin-demo-2026" in r.out  # the demo logins are printed
    assert run.settings.last_company == str(built[0].resolve())
    assert run.settings.last_login == "owner"

    run.settings.last_company = str(run.tmp / "my own company.erp")
    (run.tmp / "my own company.erp").write_bytes(b"y")
    r = run("demo", "--if-missing")
    assert r.code == 0 and r.out == ""
    assert len(built) == 1
    assert run.settings.last_company == str(run.tmp / "my own company.erp")  # left alone


def test_demo_refuses_to_overwrite_without_if_missing(run, company_path):
    before = files_of(company_path)
    r = run("demo", "--company", str(company_path))
    assert r.code == cli.EXIT_BAD_INPUT
    assert "already exists" in r.err
    assert files_of(company_path) == before


def test_help_exits_cleanly(run):
    r = run("--help")
    assert r.code == 0
    assert "init" in r.out and "report" in r.out
    r = run("frobnicate")
    assert r.code == cli.EXIT_BAD_INPUT
    assert "invalid choice" in r.err
