"""The command line: the desktop app's services for admins, scripts and `make run`.

`run(argv, ...)` parses a command, logs in when the command opens a company,
calls one service and prints plain text (tables) or CSV (reports) on stdout.
Passwords are read from a hidden prompt or from a file named by
`--password-file`; never from an argument, which would end up in shell history
and in every process list.

Exit codes: 0 done; 1 `audit verify` found problems; 2 bad input or a refused
file (a `UserError`); 3 permission denied; 4 login failed or locked; 70 a bug
(the traceback goes to the log file, one line to stderr); 130 interrupted.
"""

from __future__ import annotations

import argparse
import builtins
import getpass
import logging
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from erp_desktop import __version__
from erp_desktop.domain.errors import (
    AuthenticationError,
    NotFound,
    PermissionDenied,
    UserError,
    ValidationError,
)
from erp_desktop.domain.numbering import fiscal_year_start
from erp_desktop.services import admin, auth, company, demo, ledger, roles, users
from erp_desktop.services import audit as audit_service
from erp_desktop.services import backup as backup_service
from erp_desktop.services.config import AppConfig
from erp_desktop.services.context import Context, DeviceInfo, system_clock
from erp_desktop.settings import Paths, UserSettings, save_settings
from erp_desktop.store.company_file import check_new_path
from erp_desktop.store.keychain import Keychain, OsKeychain

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_BAD_INPUT = 2
EXIT_DENIED = 3
EXIT_LOGIN = 4
EXIT_BUG = 70
EXIT_INTERRUPTED = 130

ARGUMENT_REFUSED_MESSAGE = (
    "Passwords are never taken as command-line arguments (they would be kept in the shell "
    "history and shown in process lists). Type it at the prompt, or put it in a file that "
    "only you can read and give --password-file FILE.")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@dataclass
class _Env:
    """What every command handler gets: the installation, and the streams."""

    paths: Paths
    settings: UserSettings
    config: AppConfig
    device: DeviceInfo
    keychain: Keychain
    clock: Callable[[], datetime]
    out: TextIO = field(default_factory=lambda: sys.stdout)

    def print(self, *parts: object) -> None:
        builtins.print(*parts, file=self.out)


# ---------------------------------------------------------------------- input


def _interactive() -> bool:
    """True when a person can answer prompts (stdin is a terminal)."""
    stdin = sys.stdin
    try:
        return stdin is not None and stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _read_secret_file(path: str, what: str) -> str:
    file = Path(path).expanduser()
    try:
        text = file.read_text(encoding="utf-8-sig")  # -sig: Notepad may add a BOM
    except FileNotFoundError:
        raise ValidationError(f"The {what} file {file} does not exist.",
                              field="password_file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"The {what} file {file} cannot be read ({exc.__class__.__name__}).",
                              field="password_file") from None
    lines = text.splitlines()
    # The first line, as typed: a trailing newline is the editor's, not the password's.
    secret = lines[0] if lines else ""
    if not secret:
        raise ValidationError(f"The {what} file {file} is empty.", field="password_file")
    return secret


def _ask_secret(prompt: str, *, file: str | None, what: str, confirm: bool = False) -> str:
    """A password from `file` or, on a terminal, from a hidden prompt."""
    if file:
        return _read_secret_file(file, what)
    if not _interactive():
        option = "--new-password-file" if what == "new password" else "--password-file"
        raise ValidationError(f"There is no terminal to ask for the {what}: give {option} FILE "
                              "(a file holding just the password, readable only by you).",
                              field="password")
    secret = getpass.getpass(prompt)
    if confirm:
        again = getpass.getpass("Type it again: ")
        if again != secret:
            raise ValidationError("The two passwords typed differ; nothing was changed.",
                                  field="password")
    return secret


def _ask(prompt: str, default: str | None = None, *, option: str) -> str:
    """A value typed at a terminal (with a default), or a clear error without one."""
    if not _interactive():
        if default is not None:
            return default
        raise ValidationError(f"Give {option} (there is no terminal to ask for it).")
    suffix = f" [{default}]" if default else ""
    answer = builtins.input(f"{prompt}{suffix}: ").strip()
    return answer or (default or "")


def _parse_date(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValidationError(f"{what} '{text}' is not a date; write it as YYYY-MM-DD, e.g. "
                              "2026-04-01.", field=what.lower().replace(" ", "_")) from None


def _safe_file_stem(name: str) -> str:
    stem = re.sub(r"[^\w.&' -]+", "", name).strip(" .")
    return stem or "company"


def _table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "\n".join(lines)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


# --------------------------------------------------------------------- company


def _company_path(env: _Env, args: argparse.Namespace) -> Path:
    given = getattr(args, "company", None) or env.settings.last_company
    if not given:
        raise ValidationError("Which company file? Give --company PATH (or create one first "
                              "with `erp-desktop init`, or `erp-desktop demo`).", field="company")
    return Path(given).expanduser()


def _remember(env: _Env, path: Path, login: str) -> None:
    env.settings.remember_company(path, login)
    try:
        save_settings(env.paths, env.settings)
    except OSError:
        # Only a convenience: the command itself succeeded.
        log.warning("could not save the settings file", exc_info=True)


def _login(env: _Env, args: argparse.Namespace) -> tuple[Context, str]:
    """Log in as --user (or the last login); returns the context and the password typed."""
    path = _company_path(env, args)
    login = args.user or env.settings.last_login or _ask("Login name", option="--user LOGIN")
    password = _ask_secret(f"Password for {login}: ", file=args.password_file, what="password")
    ctx = auth.login(path, login, password, config=env.config, device=env.device,
                     clock=env.clock)
    _remember(env, path, ctx.actor.login_name)
    return ctx, password


def _close(ctx: Context, changed: bool) -> None:
    """The automatic backup at the end of a command, then close the company.

    After a command that changed the books or the users, the on-close backup
    (as the desktop app takes when a person closes the company; ~0.05 s on the
    demo, so cheap enough). Read-only commands take none: a script running
    twenty reports would otherwise fill the backup folder and prune the daily
    copies away (`keep_backups` counts them all); they only take the daily
    backup when none was taken in the last 24 hours. The command's own work is
    committed by then, so a failed backup is a warning, not a failed command.
    """
    try:
        taken = backup_service.on_close_backup(ctx) if changed else None
        if taken is None:
            backup_service.daily_backup_if_due(ctx)
    except UserError as exc:
        print(f"Warning: the automatic backup failed: {exc.message}", file=sys.stderr)
    finally:
        ctx.close()


Handler = Callable[[_Env, argparse.Namespace, Context], int]


def _with_company(changes: bool) -> Callable[[Handler], Callable[[_Env, argparse.Namespace], int]]:
    """Log in, run the handler, back up if due and close the company (see `_close`)."""

    def wrap(handler: Handler) -> Callable[[_Env, argparse.Namespace], int]:
        def run_logged_in(env: _Env, args: argparse.Namespace) -> int:
            ctx, _ = _login(env, args)
            try:
                code = handler(env, args, ctx)
            except BaseException:
                ctx.close()
                raise
            _close(ctx, changes)
            return code

        run_logged_in.__doc__ = handler.__doc__
        return run_logged_in

    return wrap


reads = _with_company(changes=False)
writes = _with_company(changes=True)


def _user_id(ctx: Context, login: str) -> uuid.UUID:
    key = login.strip().casefold()
    for row in users.list_users(ctx):
        if row.login_name.casefold() == key:
            return row.id
    raise NotFound(f"There is no user '{login}'.", field="login_name")


# -------------------------------------------------------------------- commands


def cmd_init(env: _Env, args: argparse.Namespace) -> int:
    name = args.name or _ask("Company legal name", option="--name NAME")
    country = (args.country or _ask("Country (two letters)", "IN", option="--country")).upper()
    india = country == "IN"
    currency = args.currency or _ask("Currency", "INR" if india else None, option="--currency")
    regime = args.tax_regime or _ask("Tax regime (gst, vat, sales_tax, none)",
                                     "gst" if india else "none", option="--tax-regime")
    fy_text = args.fy_start_month or _ask("Fiscal year starts in month (1-12)",
                                          "4" if india else "1", option="--fy-start-month")
    try:
        fy_month = int(fy_text)
    except ValueError:
        raise ValidationError("The fiscal year start month is a number from 1 to 12.",
                              field="fiscal_year_start_month") from None
    state = args.state if args.state is not None else _ask("State or region", "",
                                                           option="--state")
    state_code = args.state_code if args.state_code is not None else (
        _ask("State code (GST)", "", option="--state-code") if regime == "gst" else "")
    gstin = args.gstin if args.gstin is not None else (
        _ask("GSTIN (blank if not registered)", "", option="--gstin") if regime == "gst" else "")
    login = args.admin or _ask("Admin login name", "admin", option="--admin LOGIN")
    admin_name = args.admin_name or _ask("Admin's full name", option="--admin-name NAME")

    path = Path(args.company).expanduser() if args.company else \
        env.paths.companies_dir / f"{_safe_file_stem(name)}.erp"
    if not args.company:
        env.paths.companies_dir.mkdir(parents=True, exist_ok=True)
    new_company = company.NewCompany(
        legal_name=name, country=country, base_currency=currency, tax_regime=regime,
        fiscal_year_start_month=fy_month, state=state or None, state_code=state_code or None,
        gstin=(gstin or "").upper() or None)
    # Checked before the password is asked for, so nobody types it for nothing.
    check_new_path(path)
    company.validate_login_name(login)
    if not admin_name.strip():
        raise ValidationError("Give the admin's full name (--admin-name).", field="full_name")
    password = _ask_secret(f"Password for {login}: ", file=args.password_file, what="password",
                           confirm=True)
    created = company.create_company(
        path, new_company, company.NewAdmin(login, admin_name, password, args.admin_email),
        config=env.config, device=env.device, clock=env.clock)
    created.context.close()
    _remember(env, path, login)
    env.print(f"Created the company file {path}")
    env.print(f"Log in as '{login}' with the password you chose.")
    env.print()
    env.print("RECOVERY PASSPHRASE: write it down now and keep it somewhere safe, away from "
              "this computer.")
    env.print()
    env.print(f"    {created.recovery_passphrase}")
    env.print()
    env.print("It is shown this once and cannot be shown again. If every admin password is "
              "lost, it is the only way back into this company file.")
    return EXIT_OK


def cmd_demo(env: _Env, args: argparse.Namespace) -> int:
    path = Path(args.company).expanduser() if args.company else \
        env.paths.companies_dir / demo.DEMO_FILE_NAME
    if path.exists() and args.if_missing:
        # Leave the settings alone: the person may have moved on to their own company.
        last = env.settings.last_company
        if not last or not Path(last).exists():
            _remember(env, path, demo.OWNER_LOGIN)
        return EXIT_OK
    path.parent.mkdir(parents=True, exist_ok=True)
    info = demo.create_demo_company(path, config=env.config, device=env.device, clock=env.clock)
    _remember(env, path, info.owner_login)
    env.print(f"Created the demo company {info.company_name} in {path}")
    env.print("Demo logins (demo only; never use these passwords for real data):")
    env.print(_table([(u.login, u.password, u.role, u.full_name) for u in info.users],
                     ["login", "password", "role", "name"]))
    env.print(f"Recovery passphrase (demo): {info.recovery_passphrase}")
    return EXIT_OK


@reads
def cmd_info(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    info = admin.company_info(ctx, env.keychain)
    p = info.profile
    size_mb = info.file_bytes / (1024 * 1024)
    schema = info.schema_revision or "-"
    schema += " (current)" if info.schema_revision == info.latest_schema_revision else \
        f" (this app: {info.latest_schema_revision})"
    rows = [
        ("Company", p.legal_name + (f" ({p.trade_name})" if p.trade_name else "")),
        ("File", f"{info.path} ({size_mb:.1f} MB)"),
        ("Country", f"{p.country}, currency {p.base_currency}, tax regime {p.tax_regime}"),
        ("Fiscal year", f"starts in {_MONTHS[p.fiscal_year_start_month - 1]}"),
        ("State", " ".join(x for x in (p.state, f"({p.state_code})" if p.state_code else "")
                           if x) or "-"),
        ("GSTIN", p.gstin or "-"),
        ("Books locked until", p.books_locked_until.isoformat() if p.books_locked_until
         else "-"),
        ("Schema revision", schema),
        ("Users", f"{info.user_count} ({info.active_user_count} active)"),
        ("Audit events", str(info.audit_events)),
        ("Audit head hash", info.audit_head_hash),
        ("Logged in as", f"{ctx.actor.login_name} ({ctx.actor.role_name})"),
        ("This computer remembers the login", "yes" if info.remembered_on_this_computer
         else "no"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        env.print(f"{key + ':':<{width + 1}} {value}")
    return EXIT_OK


# ---------------------------------------------------------------------- users


@reads
def cmd_user_list(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    rows = users.list_users(ctx)
    env.print(_table([(u.login_name, u.full_name, u.role_name, "yes" if u.active else "no",
                       _when(u.last_login_at)) for u in rows],
                     ["login", "name", "role", "active", "last login (UTC)"]))
    return EXIT_OK


@writes
def cmd_user_add(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    ctx.require("users.manage")  # before asking for a password that would be refused anyway
    password = _ask_secret(f"New password for {args.login}: ", file=args.new_password_file,
                           what="new password", confirm=True)
    row = users.add_user(ctx, args.login, args.name, password, args.role, email=args.email)
    env.print(f"Added user '{row.login_name}' ({row.role_label}).")
    return EXIT_OK


def cmd_user_passwd(env: _Env, args: argparse.Namespace) -> int:
    ctx, current = _login(env, args)  # the password that just opened the file is the current one
    try:
        new = _ask_secret("New password: ", file=args.new_password_file, what="new password",
                          confirm=True)
        users.change_own_password(ctx, current, new)
    except BaseException:
        ctx.close()
        raise
    _close(ctx, changed=True)
    env.print(f"Changed the password of '{ctx.actor.login_name}'. Use it from now on.")
    return EXIT_OK


@writes
def cmd_user_reset(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    ctx.require("users.manage")
    user_id = _user_id(ctx, args.login)
    new = _ask_secret(f"New password for {args.login}: ", file=args.new_password_file,
                      what="new password", confirm=True)
    row = users.reset_password(ctx, user_id, new)
    env.print(f"Set a new password for '{row.login_name}'; the old one no longer works.")
    return EXIT_OK


@writes
def cmd_user_disable(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    ctx.require("users.manage")
    row = users.disable_user(ctx, _user_id(ctx, args.login))
    env.print(f"Disabled '{row.login_name}': that login can no longer open the company file.")
    return EXIT_OK


@writes
def cmd_user_enable(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    ctx.require("users.manage")
    user_id = _user_id(ctx, args.login)
    new = _ask_secret(f"New password for {args.login}: ", file=args.new_password_file,
                      what="new password", confirm=True)
    row = users.enable_user(ctx, user_id, new)
    env.print(f"Enabled '{row.login_name}' with a new password.")
    return EXIT_OK


@writes
def cmd_user_set_role(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    ctx.require("users.manage")
    row = users.set_role(ctx, _user_id(ctx, args.login), args.role)
    env.print(f"'{row.login_name}' is now {row.role_label}; it takes effect at their next "
              "login.")
    return EXIT_OK


# --------------------------------------------------------------------- backup


@reads  # the command is itself a backup
def cmd_backup(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    target = Path(args.output).expanduser() if args.output else None
    path = backup_service.create_backup(ctx, target)
    env.print(f"Backed up to {path}")
    return EXIT_OK


def cmd_restore(env: _Env, args: argparse.Namespace) -> int:
    path = _company_path(env, args)
    backup = Path(args.backup).expanduser()
    login = args.user or env.settings.last_login or _ask("Admin login name (in the backup)",
                                                          option="--user LOGIN")
    password = _ask_secret(f"Password of {login} when the backup was taken: ",
                           file=args.password_file, what="password")
    result = backup_service.restore_backup(path, backup, login, password, config=env.config,
                                           device=env.device, clock=env.clock)
    _remember(env, path, login)
    env.print(f"Restored {path} from {backup}.")
    if result.set_aside is not None:
        env.print(f"The replaced company file is kept as {result.set_aside} (with its key "
                  "file); it opens like any company file if you need to go back.")
    return EXIT_OK


# ---------------------------------------------------------------------- audit


@reads
def cmd_audit_verify(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    report = audit_service.verify(ctx)
    if report.ok:
        env.print(f"The audit trail is intact: {report.checked} events, head hash "
                  f"{report.head_hash}.")
        return EXIT_OK
    for problem in report.problems:
        print(problem, file=sys.stderr)
    print(f"The audit trail has been tampered with: {len(report.problems)} problem(s) in "
          f"{report.checked} events.", file=sys.stderr)
    return EXIT_PROBLEMS


@reads
def cmd_audit_list(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    rows = admin.latest_audit_events(ctx, args.limit)
    env.print(_table([(e.seq, _when(e.at), e.actor_name or "-", e.device_code or "-", e.action,
                       f"{e.entity}:{e.entity_id}" if e.entity_id else (e.entity or ""),
                       _details(e.details)) for e in rows],
                     ["seq", "at (UTC)", "actor", "device", "action", "entity", "details"]))
    return EXIT_OK


def _details(details: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(details.items()) if v is not None)


# ---------------------------------------------------------------------- roles


@reads
def cmd_role_list(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    rows = roles.list_roles(ctx)
    env.print(_table([(r.name, r.label, r.user_count, len(r.permissions),
                       "built-in" if r.builtin else "") for r in rows],
                     ["role", "label", "users", "permissions", ""]))
    return EXIT_OK


def cmd_role_permissions(env: _Env, args: argparse.Namespace) -> int:
    catalogue = roles.list_permissions()
    if not args.role:  # the catalogue is no secret: no login needed
        env.print(_table(catalogue, ["permission", "allows"]))
        return EXIT_OK
    return _role_permissions(env, args)


@reads
def _role_permissions(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    role = roles.get_role(ctx, args.role)
    env.print(f"{role.label} ({role.name}): {len(role.permissions)} permissions; takes effect "
              "at each user's next login after a change.")
    env.print(_table([(name, text) for name, text in roles.list_permissions()
                      if name in role.permissions], ["permission", "allows"]))
    return EXIT_OK


@writes
def cmd_role_grant(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    role = roles.grant(ctx, args.role, args.permissions)
    env.print(f"{role.label} now has {len(role.permissions)} permissions; its users get the "
              "change at their next login.")
    return EXIT_OK


@writes
def cmd_role_revoke(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    role = roles.revoke(ctx, args.role, args.permissions)
    env.print(f"{role.label} now has {len(role.permissions)} permissions; its users get the "
              "change at their next login.")
    return EXIT_OK


# --------------------------------------------------------------------- ledger


def _parse_line(text: str) -> ledger.LineInput:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[0].strip():
        raise ValidationError(f"'{text}' is not a journal line; write ACCOUNT:DEBIT:CREDIT, e.g. "
                              "6200:85000: for a debit or 1200::85000 for a credit.",
                              field="lines")
    code, debit, credit = (p.strip() for p in parts)
    return ledger.LineInput(code, debit=debit or "0", credit=credit or "0")


@writes
def cmd_ledger_post(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    lines = [_parse_line(t) for t in args.line]
    entry = ledger.post_entry(ctx, _parse_date(args.date, "The date"), lines, args.memo)
    env.print(f"Posted {entry.number} dated {entry.entry_date.isoformat()} for "
              f"{entry.total.amount} {entry.total.currency}.")
    return EXIT_OK


@writes
def cmd_ledger_reverse(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    entry_id = admin.journal_entry_id(ctx, args.number)
    on = _parse_date(args.date, "The date") if args.date else None
    entry = ledger.reverse_entry(ctx, entry_id, on, args.memo)
    env.print(f"Posted {entry.number}, reversing {args.number.strip()}.")
    return EXIT_OK


@writes
def cmd_ledger_lock(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    until = None if args.unlock else _parse_date(args.until, "The lock date")
    result = ledger.lock_books(ctx, until)
    if result.locked_until is None:
        env.print("The books are unlocked: entries can be posted on any date.")
    else:
        env.print(f"The books are locked up to and including "
                  f"{result.locked_until.isoformat()}.")
    return EXIT_OK


def _period(ctx: Context, args: argparse.Namespace) -> tuple[date, date]:
    """--from/--to; by default the fiscal year to date."""
    end = _parse_date(args.date_to, "The end date") if args.date_to else ctx.today()
    if args.date_from:
        return _parse_date(args.date_from, "The start date"), end
    return fiscal_year_start(end, company.get_profile(ctx).fiscal_year_start_month), end


@reads
def cmd_report_trial_balance(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    as_of = _parse_date(args.as_of, "The date") if args.as_of else ctx.today()
    env.out.write(ledger.trial_balance_csv(ledger.trial_balance(ctx, as_of)))
    return EXIT_OK


@reads
def cmd_report_gl(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    start, end = _period(ctx, args)
    env.out.write(ledger.general_ledger_csv(
        ledger.iter_general_ledger(ctx, args.account, start, end)))
    return EXIT_OK


@reads
def cmd_report_pnl(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    start, end = _period(ctx, args)
    env.out.write(ledger.profit_and_loss_csv(ledger.profit_and_loss(ctx, start, end)))
    return EXIT_OK


@reads
def cmd_report_balance_sheet(env: _Env, args: argparse.Namespace, ctx: Context) -> int:
    as_of = _parse_date(args.as_of, "The date") if args.as_of else ctx.today()
    env.out.write(ledger.balance_sheet_csv(ledger.balance_sheet(ctx, as_of)))
    return EXIT_OK


# ---------------------------------------------------------------------- parser


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so `run` stays in charge."""

    def error(self, message: str) -> Any:
        raise ValidationError(f"{message[:1].upper()}{message[1:]}. See `{self.prog} --help`.")

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            # argparse would echo them all; a stray word may be a password typed in
            # the wrong place, so only option names are repeated.
            options = " ".join(a.split("=", 1)[0] for a in extras if a.startswith("-"))
            self.error(f"unknown options: {options}" if options else
                       "unexpected words on the command line (not repeated here, in case "
                       "one is a password)")
        return parsed


def _login_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("company and login")
    group.add_argument("--company", metavar="PATH",
                       help="the company file (default: the last one opened)")
    group.add_argument("--user", metavar="LOGIN", help="login name (default: the last one used)")
    group.add_argument("--password-file", metavar="FILE",
                       help="read the password from the first line of FILE instead of a prompt")
    return common


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="erp-desktop",
                     description="Desktop ERP for small businesses. Without a command it opens "
                                 "the desktop app.")
    parser.add_argument("--version", action="version", version=f"erp-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    login = _login_options()

    p = sub.add_parser("init", help="create a new company file")
    p.add_argument("--company", metavar="PATH",
                   help="where to create it (default: <data folder>/companies/<name>.erp)")
    p.add_argument("--name", help="the company's legal name")
    p.add_argument("--country", help="two-letter country code (default IN)")
    p.add_argument("--currency", help="base currency (default INR in India)")
    p.add_argument("--tax-regime", choices=company.TAX_REGIMES)
    p.add_argument("--fy-start-month", metavar="1-12", help="fiscal year start month")
    p.add_argument("--state")
    p.add_argument("--state-code")
    p.add_argument("--gstin")
    p.add_argument("--admin", metavar="LOGIN", help="the first admin's login name")
    p.add_argument("--admin-name", metavar="NAME", help="the first admin's full name")
    p.add_argument("--admin-email", metavar="EMAIL")
    p.add_argument("--password-file", metavar="FILE", help="the admin's password, first line")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("demo", help="create the demo company (Sharma Electronics & Home)")
    p.add_argument("--company", metavar="PATH", help="where to create it")
    p.add_argument("--if-missing", action="store_true", help="do nothing if it already exists")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("info", parents=[login], help="what the company file holds (no secrets)")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("user", help="users and passwords")
    usub = p.add_subparsers(dest="user_command", metavar="ACTION", parser_class=_Parser)
    usub.required = True
    q = usub.add_parser("list", parents=[login], help="list users")
    q.set_defaults(handler=cmd_user_list)
    q = usub.add_parser("add", parents=[login], help="add a user")
    q.add_argument("login")
    q.add_argument("--name", required=True, help="full name")
    q.add_argument("--role", required=True, help="role name, see `role list`")
    q.add_argument("--email")
    q.add_argument("--new-password-file", metavar="FILE")
    q.set_defaults(handler=cmd_user_add)
    q = usub.add_parser("passwd", parents=[login], help="change your own password")
    q.add_argument("--new-password-file", metavar="FILE")
    q.set_defaults(handler=cmd_user_passwd)
    q = usub.add_parser("reset", parents=[login], help="give a user a new password (admin)")
    q.add_argument("login")
    q.add_argument("--new-password-file", metavar="FILE")
    q.set_defaults(handler=cmd_user_reset)
    q = usub.add_parser("disable", parents=[login], help="stop a login")
    q.add_argument("login")
    q.set_defaults(handler=cmd_user_disable)
    q = usub.add_parser("enable", parents=[login], help="let a disabled login back in")
    q.add_argument("login")
    q.add_argument("--new-password-file", metavar="FILE")
    q.set_defaults(handler=cmd_user_enable)
    q = usub.add_parser("set-role", parents=[login], help="give a user another role")
    q.add_argument("login")
    q.add_argument("role")
    q.set_defaults(handler=cmd_user_set_role)

    p = sub.add_parser("backup", parents=[login], help="back up the company file")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="the new backup file (default: the company's backup folder)")
    p.set_defaults(handler=cmd_backup)

    p = sub.add_parser("restore", parents=[login],
                       help="replace the company file with a backup (log in as an admin of "
                            "the backup)")
    p.add_argument("backup", metavar="BACKUP")
    p.set_defaults(handler=cmd_restore)

    p = sub.add_parser("audit", help="the audit trail")
    asub = p.add_subparsers(dest="audit_command", metavar="ACTION", parser_class=_Parser)
    asub.required = True
    q = asub.add_parser("verify", parents=[login], help="check the hash chain")
    q.set_defaults(handler=cmd_audit_verify)
    q = asub.add_parser("list", parents=[login], help="the newest events")
    q.add_argument("--limit", type=int, default=50)
    q.set_defaults(handler=cmd_audit_list)

    _add_role_commands(sub, login)
    _add_ledger_commands(sub, login)
    # The areas add their own commands (after the ledger's, whose `report` they extend).
    from erp_desktop import cli_data, cli_hr, cli_inventory, cli_sales

    cli_inventory.register(sub, login)
    cli_hr.register(sub, login)
    cli_sales.register(sub, login)
    cli_data.register(sub, login)
    return parser


def _add_role_commands(sub: Any, login: argparse.ArgumentParser) -> None:
    p = sub.add_parser("role", help="roles and what they may do")
    rsub = p.add_subparsers(dest="role_command", metavar="ACTION", parser_class=_Parser)
    rsub.required = True
    q = rsub.add_parser("list", parents=[login], help="list roles")
    q.set_defaults(handler=cmd_role_list)
    q = rsub.add_parser("permissions", parents=[login],
                        help="every permission there is, or what ROLE grants")
    q.add_argument("role", nargs="?")
    q.set_defaults(handler=cmd_role_permissions)
    for action, handler, text in (("grant", cmd_role_grant, "let a role do more"),
                                  ("revoke", cmd_role_revoke, "let a role do less")):
        q = rsub.add_parser(action, parents=[login], help=text)
        q.add_argument("role")
        q.add_argument("permissions", nargs="+", metavar="PERMISSION")
        q.set_defaults(handler=handler)


def _add_ledger_commands(sub: Any, login: argparse.ArgumentParser) -> None:
    p = sub.add_parser("ledger", help="journal entries and the period lock")
    lsub = p.add_subparsers(dest="ledger_command", metavar="ACTION", parser_class=_Parser)
    lsub.required = True
    q = lsub.add_parser("post", parents=[login], help="post a journal entry")
    q.add_argument("--date", required=True, metavar="YYYY-MM-DD")
    q.add_argument("--line", action="append", required=True, metavar="ACCOUNT:DEBIT:CREDIT",
                   help="one line per option, e.g. --line 6200:85000: --line 1200::85000")
    q.add_argument("--memo")
    q.set_defaults(handler=cmd_ledger_post)
    q = lsub.add_parser("reverse", parents=[login], help="reverse a journal entry")
    q.add_argument("number", metavar="NUMBER", help="e.g. JV/2026-27/A/000012")
    q.add_argument("--date", metavar="YYYY-MM-DD", help="date of the reversal (default today)")
    q.add_argument("--memo")
    q.set_defaults(handler=cmd_ledger_reverse)
    q = lsub.add_parser("lock", parents=[login], help="lock the books up to a date")
    group = q.add_mutually_exclusive_group(required=True)
    group.add_argument("--until", metavar="YYYY-MM-DD")
    group.add_argument("--unlock", action="store_true", help="remove the lock")
    q.set_defaults(handler=cmd_ledger_lock)

    p = sub.add_parser("report", help="financial reports as CSV on stdout")
    rsub = p.add_subparsers(dest="report_command", metavar="REPORT", parser_class=_Parser)
    rsub.required = True
    q = rsub.add_parser("trial-balance", parents=[login], help="trial balance")
    q.add_argument("--as-of", metavar="YYYY-MM-DD", help="default today")
    q.set_defaults(handler=cmd_report_trial_balance)
    q = rsub.add_parser("balance-sheet", parents=[login], help="balance sheet")
    q.add_argument("--as-of", metavar="YYYY-MM-DD", help="default today")
    q.set_defaults(handler=cmd_report_balance_sheet)
    for name, handler, text in (("gl", cmd_report_gl, "one account's ledger"),
                                ("pnl", cmd_report_pnl, "profit and loss")):
        q = rsub.add_parser(name, parents=[login], help=text)
        if name == "gl":
            q.add_argument("--account", required=True, metavar="CODE")
        q.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                       help="default: the start of the fiscal year")
        q.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="default today")
        q.set_defaults(handler=handler)


# ------------------------------------------------------------------------- run


_PASSWORD_ARG = re.compile(r"^--?(new-)?(password|passwd|pass|pw)(=.*)?$", re.IGNORECASE)


def _log_file() -> str:
    for handler in logging.getLogger().handlers:
        name = getattr(handler, "baseFilename", None)
        if name:
            return str(name)
    return "(logging is not set up)"


def run(argv: Sequence[str], *, paths: Paths, settings: UserSettings, config: AppConfig,
        device: DeviceInfo, keychain: Keychain | None = None,
        clock: Callable[[], datetime] = system_clock) -> int:
    """Run one CLI command; returns the process exit code (see module docstring)."""
    argv = list(argv)
    command = "(not parsed)"
    try:
        if any(_PASSWORD_ARG.match(a) for a in argv):
            raise ValidationError(ARGUMENT_REFUSED_MESSAGE, field="password")
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help and --version print and "exit" 0
            return exc.code if isinstance(exc.code, int) else EXIT_OK
        # Only the command's name is logged, never its arguments.
        command = " ".join(str(v) for k, v in vars(args).items()
                           if k == "command" or k.endswith("_command"))
        env = _Env(paths=paths, settings=settings, config=config, device=device,
                   keychain=keychain if keychain is not None else OsKeychain(), clock=clock)
        return int(args.handler(env, args))
    except PermissionDenied as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_DENIED
    except AuthenticationError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_LOGIN
    except UserError as exc:
        print(exc.message, file=sys.stderr)
        return EXIT_BAD_INPUT
    except (KeyboardInterrupt, EOFError):  # Ctrl+C, or Ctrl+D at a prompt
        print("\nCancelled.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        log.exception("CLI command '%s' failed", command)
        print(f"Something went wrong: {type(exc).__name__}; details are in the log file "
              f"{_log_file()}", file=sys.stderr)
        return EXIT_BUG


