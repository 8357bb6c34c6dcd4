"""Data-ownership commands: export, import, a person's data, retention, wipe.

`register(subparsers, login)` adds, in the style of `erp_desktop.cli`:

- `export --format csv|xlsx|json -o PATH [--bom]`: every table the user may see;
- `import KIND FILE [--dry-run] [--skip-bad-rows] [--map COLUMN=FIELD ...]
  [--sheet NAME] [--date YYYY-MM-DD] [--report FILE]`, KIND one of customers,
  vendors, products, opening-stock, opening-balances, employees, or
  `json-export` (restore a whole JSON export into a new company file); a dry
  run with bad rows exits 1, a refused file exits 2, nothing written either way;
- `person report --kind K (--id ID | --name NAME) -o DIR` (JSON and PDF);
- `person anonymise --kind K (--id ID | --name NAME) [--yes]`;
- `retention apply`, `retention policy [--tax-years N] [--login-days N] [--audit-days N]`;
- `wipe [--backup PATH | --no-backup] [--export PATH | --no-export]`: asks for the
  company's name at the terminal (never taken as an argument), after offering a
  final backup and export.

Every command refuses what the user's role may not do (exit 3), like the rest
of the CLI; handlers are wrapped by `cli.reads`/`cli.writes` when they run.
"""

from __future__ import annotations

import argparse
import builtins
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from erp_desktop.domain.errors import ValidationError
from erp_desktop.services import backup as backup_service
from erp_desktop.services import data_import, export, person, retention, wipe
from erp_desktop.services.context import Context
from erp_desktop.services.importing import ImportRefused, write_report_csv
from erp_desktop.settings import save_settings

EXIT_OK = 0
EXIT_PROBLEMS = 1

Handler = Callable[[Any, argparse.Namespace, Context], int]
IMPORT_KINDS = (*(k.replace("_", "-") for k in data_import.KINDS), "json-export")


def _cli() -> Any:
    from erp_desktop import cli  # late: cli imports this module to build its parser

    return cli


def _reads(handler: Handler) -> Callable[[Any, argparse.Namespace], int]:
    def run(env: Any, args: argparse.Namespace) -> int:
        return _cli().reads(handler)(env, args)

    run.__doc__ = handler.__doc__
    return run


def _writes(handler: Handler) -> Callable[[Any, argparse.Namespace], int]:
    def run(env: Any, args: argparse.Namespace) -> int:
        return _cli().writes(handler)(env, args)

    run.__doc__ = handler.__doc__
    return run


def _err(*parts: object) -> None:
    builtins.print(*parts, file=sys.stderr)


def _mapping(items: list[str] | None) -> dict[str, str] | None:
    if not items:
        return None
    out: dict[str, str] = {}
    for item in items:
        column, sep, target = item.rpartition("=")
        if not sep or not column.strip() or not target.strip():
            raise ValidationError(f"'{item}' is not a mapping; write COLUMN=FIELD, e.g. "
                                  "--map \"Item No=sku\".", field="map")
        out[column.strip()] = target.strip()
    return out


def _date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"'{text}' is not a date; write it as YYYY-MM-DD.",
                              field="date") from None


# --------------------------------------------------------------------------- export


def cmd_export(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    result = export.export_data(ctx, args.format, Path(args.output), bom=args.bom)
    env.print(f"Exported {result.rows} rows of {len(result.tables)} tables to {result.path}")
    if result.skipped:
        env.print("Not included (your role may not see them): "
                  + ", ".join(s.name for s in result.skipped))
    for table, cols in result.stripped_columns.items():
        env.print(f"Left out of {table}: {', '.join(cols)}")
    env.print("Personal HR data: " + ("included" if result.hr_personal_data else "none")
              + "; salaries: " + ("included" if result.salaries else "none") + ".")
    return EXIT_OK


# --------------------------------------------------------------------------- import


def cmd_import(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    kind = args.kind.replace("-", "_")
    if kind == "json_export":
        result = data_import.import_json_export(ctx, Path(args.file))
        env.print(f"Restored {result.rows} rows of {result.tables} tables from {args.file}.")
        if result.users_without_password:
            env.print("These logins have no password in this file yet; give each one with "
                      "`user reset LOGIN`: " + ", ".join(result.users_without_password))
        if result.relogin_required:
            env.print("Your own user record was replaced by the export's: log in again.")
        return EXIT_OK
    try:
        report = data_import.import_file(ctx, kind, Path(args.file),
                                         mapping=_mapping(args.map), dry_run=args.dry_run,
                                         skip_bad_rows=args.skip_bad_rows, sheet=args.sheet,
                                         on=_date(args.date))
    except ImportRefused as exc:
        _write_report(args, exc.report)
        raise
    _write_report(args, report)
    env.print(report.summary())
    for e in report.errors:
        _err(f"line {e.line}, {e.column or 'row'}: {e.reason}")
    return EXIT_PROBLEMS if args.dry_run and report.errors else EXIT_OK


def _write_report(args: argparse.Namespace, report: Any) -> None:
    if args.report and report.errors:
        Path(args.report).expanduser().write_text(write_report_csv(report), encoding="utf-8")


# --------------------------------------------------------------------------- person


def _person_ref(args: argparse.Namespace) -> dict[str, Any]:
    if bool(args.id) == bool(args.name):
        raise ValidationError("Give the person's --id or --name (one of them).", field="id")
    return {"person_id": args.id, "name": args.name}


def cmd_person_report(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    json_path, pdf_path = person.write_person_report(ctx, args.kind, Path(args.output),
                                                     **_person_ref(args))
    env.print(f"Wrote {json_path} and {pdf_path}")
    return EXIT_OK


def cmd_person_anonymise(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    ctx.require("person.anonymise")  # before asking anything that would be refused anyway
    ref = _person_ref(args)
    if not args.yes:
        cli = _cli()
        if not cli._interactive():
            raise ValidationError("Anonymising cannot be undone: confirm with --yes (there is "
                                  "no terminal to ask).", field="yes")
        answer = builtins.input(f"Anonymise this {args.kind} for good? Type yes: ").strip()
        if answer.casefold() != "yes":
            env.print("Nothing was changed.")
            return EXIT_OK
    result = person.anonymise_person(ctx, args.kind, **ref)
    env.print(f"Anonymised the {result.kind} as '{result.placeholder}': "
              + ", ".join(f"{t} {n}" for t, n in sorted(result.changed.items()))
              + f"; {result.attachments_erased} attachment(s) erased.")
    for line in result.kept:
        env.print(f"Kept: {line}")
    return EXIT_OK


# --------------------------------------------------------------------------- retention


def cmd_retention_apply(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    result = retention.apply_retention(ctx)
    env.print(f"Purged {result.login_events_purged} login events and "
              f"{result.audit_events_purged} audit events.")
    if result.anchor:
        env.print(f"The audit trail now starts after event {result.anchor[0]}.")
    if result.due_for_anonymisation:
        env.print("Former employees due for anonymisation (`person anonymise --kind employee "
                  "--id ID`):")
        for d in result.due_for_anonymisation:
            env.print(f"  {d.code}  left {d.terminated_on.isoformat()}  "
                      f"kept until {d.retained_until.isoformat()}  id {d.employee_id}")
    return EXIT_OK


def cmd_retention_policy(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    changes = {k: v for k, v in (("tax_records_years", args.tax_years),
                                 ("login_events_days", args.login_days),
                                 ("audit_events_days", args.audit_days)) if v is not None}
    policy = retention.set_policy(ctx, **changes) if changes else retention.get_policy(ctx)
    env.print(f"Tax records: {policy.tax_records_years} years after the last document; login "
              f"events: {policy.login_events_days} days; audit events: "
              f"{policy.audit_events_days} days.")
    return EXIT_OK


# --------------------------------------------------------------------------- wipe


def _yes(prompt: str) -> bool:
    return builtins.input(f"{prompt} [Y/n]: ").strip().casefold() in ("", "y", "yes")


def cmd_wipe(env: Any, args: argparse.Namespace) -> int:
    """Not wrapped by cli.reads/writes: there is no company to back up and close after."""
    cli = _cli()
    ctx, _ = cli._login(env, args)
    try:
        plan = wipe.prepare_wipe(ctx)
        if not cli._interactive():
            raise ValidationError("Wiping asks you to type the company's name: run it at a "
                                  "terminal.", field="company_name")
        if plan.can_backup and not args.no_backup:
            target = Path(args.backup).expanduser() if args.backup else None
            if target is not None or _yes("Take a final backup first?"):
                env.print(f"Backed up to {backup_service.create_backup(ctx, target)}")
        if plan.can_export and not args.no_export:
            target = Path(args.export).expanduser() if args.export else plan.suggested_export
            if args.export or _yes(f"Take a final export (JSON) to {target} first?"):
                target.parent.mkdir(parents=True, exist_ok=True)
                env.print(f"Exported to {export.export_data(ctx, 'json', target).path}")
        env.print("This removes from this computer: " + ", ".join(str(p) for p in plan.files)
                  + f", and up to {plan.keychain_entries} keychain entries.")
        typed = builtins.input(f"Type the company's name ({plan.company_name}) to wipe it: ")
        result = wipe.wipe_company(ctx, typed.rstrip("\r\n"), env.keychain)
    except BaseException:
        ctx.close()
        raise
    env.print(f"Removed {len(result.removed_files)} files and "
              f"{result.keychain_entries_removed} keychain entries.")
    env.print(f"Backups were kept in {result.backups_kept_in}.")
    for w in result.warnings:
        _err(f"Warning: {w}")
    if env.settings.last_company and Path(env.settings.last_company) == ctx.path.resolve():
        env.settings.last_company = None
        env.settings.recent_files = [p for p in env.settings.recent_files
                                     if Path(p) != ctx.path.resolve()]
        try:
            save_settings(env.paths, env.settings)
        except OSError:
            pass  # only a convenience: the wipe itself is done
    return EXIT_OK if not result.warnings else EXIT_PROBLEMS


# --------------------------------------------------------------------------- parser


def register(subparsers: Any, login: argparse.ArgumentParser | None = None) -> None:
    """Add export, import, person, retention and wipe to the CLI's sub-command parser."""
    cli = _cli()
    login = login or cli._login_options()
    parser_class = cli._Parser

    p = subparsers.add_parser("export", parents=[login],
                              help="export every table you may see (CSV zip, XLSX, JSON)")
    p.add_argument("--format", required=True, choices=export.FORMATS)
    p.add_argument("-o", "--output", required=True, metavar="PATH",
                   help="the new file: .zip for csv, .xlsx, or .json")
    p.add_argument("--bom", action="store_true", help="CSV: a byte-order mark for Excel")
    p.set_defaults(handler=_reads(cmd_export))

    p = subparsers.add_parser("import", parents=[login],
                              help="import master data or opening balances from CSV/XLSX, or "
                                   "restore a JSON export into a new company file")
    p.add_argument("kind", metavar="KIND", choices=IMPORT_KINDS,
                   help="one of: " + ", ".join(IMPORT_KINDS))
    p.add_argument("file", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p.add_argument("--skip-bad-rows", action="store_true",
                   help="import the good rows and report the bad ones (default: all or "
                        "nothing)")
    p.add_argument("--map", action="append", metavar="COLUMN=FIELD",
                   help="which field a file column holds, e.g. --map \"Cust No=code\"")
    p.add_argument("--sheet", metavar="NAME", help="the sheet of an XLSX file")
    p.add_argument("--date", metavar="YYYY-MM-DD",
                   help="date of opening stock or balances (default today)")
    p.add_argument("--report", metavar="FILE", help="write the bad rows as CSV to FILE")
    p.set_defaults(handler=_writes(cmd_import))

    p = subparsers.add_parser("person", help="a person's data: report or anonymise")
    psub = p.add_subparsers(dest="person_command", metavar="ACTION", parser_class=parser_class)
    psub.required = True
    for action, handler, text in (
            ("report", _reads(cmd_person_report), "every record naming a person (JSON, PDF)"),
            ("anonymise", _writes(cmd_person_anonymise), "replace a person's data for good")):
        q = psub.add_parser(action, parents=[login], help=text)
        q.add_argument("--kind", required=True, choices=person.KINDS)
        q.add_argument("--id", metavar="ID")
        q.add_argument("--name", metavar="NAME", help="code, login or exact name")
        if action == "report":
            q.add_argument("-o", "--output", required=True, metavar="DIR")
        else:
            q.add_argument("--yes", action="store_true", help="do not ask to confirm")
        q.set_defaults(handler=handler)

    p = subparsers.add_parser("retention", help="purge data past its retention period")
    rsub = p.add_subparsers(dest="retention_command", metavar="ACTION",
                            parser_class=parser_class)
    rsub.required = True
    q = rsub.add_parser("apply", parents=[login],
                        help="purge old login and audit events; list who is due for "
                             "anonymisation")
    q.set_defaults(handler=_writes(cmd_retention_apply))
    q = rsub.add_parser("policy", parents=[login], help="show or change the periods")
    q.add_argument("--tax-years", type=int, metavar="N")
    q.add_argument("--login-days", type=int, metavar="N")
    q.add_argument("--audit-days", type=int, metavar="N")
    q.set_defaults(handler=_writes(cmd_retention_policy))

    p = subparsers.add_parser("wipe", parents=[login],
                              help="remove the company file, its keys and keychain entries "
                                   "from this computer")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--backup", metavar="PATH", help="take the final backup to PATH")
    group.add_argument("--no-backup", action="store_true")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--export", metavar="PATH", help="take the final JSON export to PATH")
    group.add_argument("--no-export", action="store_true")
    p.set_defaults(handler=cmd_wipe)
