"""HR and payroll commands of the command line: `payroll ...` and `employee ...`.

`register(subparsers)` adds them to `erp_desktop.cli`'s parser; the handlers
log in, call `services.payroll` / `services.hr` and print plain text, the same
way as the rest of the CLI (exit codes and error handling are `cli.run`'s).

    erp-desktop payroll run --month 2026-10            start or recompute a draft
    erp-desktop payroll leave --month 2026-10 --employee EMP-002 --days 1.5
    erp-desktop payroll show --month 2026-10           every employee's pay (audited)
    erp-desktop payroll post --month 2026-10           review, approve and post
    erp-desktop payroll paid --month 2026-10 [--on DATE] [--from bank|cash]
    erp-desktop payroll payslips --month 2026-10 -o DIR
    erp-desktop payroll register --month 2026-10 --format csv|xlsx -o FILE
    erp-desktop payroll bank-list --month 2026-10 -o FILE
    erp-desktop payroll list                           months and totals
    erp-desktop employee list [--all]

`erp_desktop.cli` is imported when `register` runs (not at import time), so
either module may import the other first.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from erp_desktop.domain.errors import ValidationError
from erp_desktop.domain.money import Money
from erp_desktop.services import hr, payroll
from erp_desktop.services.context import Context

EXIT_OK = 0


def _print(env: Any, *parts: object) -> None:
    env.print(*parts)


def _table(rows: Sequence[Sequence[object]], headers: Sequence[str],
           right: Sequence[int] = ()) -> str:
    cells = [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if i in right else v.ljust(w)
                         for i, (v, w) in enumerate(zip(values, widths, strict=True))).rstrip()

    return "\n".join([line(list(headers)), "  ".join("-" * w for w in widths),
                      *(line(r) for r in cells)])


def _amount(money: Money) -> str:
    return f"{money.amount:,.2f}"


def _date(text: str | None, what: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what} '{text}' is not a date; write it as YYYY-MM-DD.",
                              field=what.lower().replace(" ", "_")) from None


def _totals_lines(t: payroll.RunTotals) -> list[str]:
    number = f" {t.number}" if t.number else ""
    cur = t.net.currency
    return [f"Payroll {t.period_label}{number}: {payroll.STATUS_LABELS[t.status]}, "
            f"{t.employee_count} employees",
            f"  Gross {_amount(t.gross)} {cur}, deductions {_amount(t.deductions)} {cur}, "
            f"net pay {_amount(t.net)} {cur}"]


def _show_totals(env: Any, t: payroll.RunTotals) -> None:
    for text in _totals_lines(t):
        _print(env, text)


# --------------------------------------------------------------------------- handlers


def cmd_payroll_run(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    totals = payroll.start_run(ctx, args.month, _date(args.pay_date, "The pay date"))
    _show_totals(env, totals)
    _print(env, "Review it with `payroll show`, enter unpaid leave with `payroll leave`, then "
                "`payroll post`.")
    return EXIT_OK


def cmd_payroll_leave(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    employee = next((e for e in hr.list_employees(ctx, include_former=True)
                     if e.code.casefold() == args.employee.strip().casefold()), None)
    if employee is None:
        raise ValidationError(f"There is no employee with the code '{args.employee}'.",
                              field="employee")
    totals = payroll.set_unpaid_leave(ctx, args.month, employee.id, args.days)
    _print(env, f"{employee.code}: {args.days} day(s) of unpaid leave in {totals.period_label}.")
    _show_totals(env, totals)
    return EXIT_OK


def cmd_payroll_show(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    detail = payroll.get_run(ctx, args.month)
    _show_totals(env, detail.totals)
    _print(env, "")
    _print(env, _table([(e.employee_code, e.employee_name, f"{e.days_paid.normalize():f}",
                         f"{e.lop_days.normalize():f}", _amount(e.gross), _amount(e.deductions),
                         _amount(e.net)) for e in detail.entries],
                       ["code", "name", "days paid", "unpaid", "gross", "deductions", "net"],
                       right=(2, 3, 4, 5, 6)))
    return EXIT_OK


def cmd_payroll_post(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    """Take the month's run through the remaining steps, each checked and audited."""
    status = payroll.run_totals(ctx, args.month).status
    if status == payroll.DRAFT:
        payroll.submit_run(ctx, args.month)
        _print(env, "Sent for review (recomputed).")
        status = payroll.REVIEW
    if status == payroll.REVIEW:
        payroll.approve_run(ctx, args.month)
        _print(env, "Approved.")
    totals = payroll.post_run(ctx, args.month)
    _show_totals(env, totals)
    return EXIT_OK


def cmd_payroll_paid(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    totals = payroll.mark_run_paid(ctx, args.month, _date(args.on, "The payment date"),
                                   args.from_account)
    _print(env, f"Net pay for {totals.period_label} paid from {args.from_account} on "
                f"{totals.paid_on.isoformat() if totals.paid_on else '-'}.")
    return EXIT_OK


def cmd_payroll_list(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    rows = payroll.list_runs(ctx)
    _print(env, _table([(r.period, r.number or "-", r.status, r.employee_count,
                         _amount(r.gross), _amount(r.deductions), _amount(r.net))
                        for r in rows],
                       ["month", "number", "status", "employees", "gross", "deductions", "net"],
                       right=(3, 4, 5, 6)))
    return EXIT_OK


def cmd_payroll_payslips(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    files = payroll.write_payslips(ctx, args.month, Path(args.output).expanduser())
    _print(env, f"Wrote {len(files)} payslips to {Path(args.output).expanduser()}")
    return EXIT_OK


def cmd_payroll_register(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    target = Path(args.output).expanduser()
    fmt = args.format or (target.suffix.lower().lstrip(".") or "csv")
    if fmt not in ("csv", "xlsx"):
        raise ValidationError("The register is written as csv or xlsx.", field="format")
    data: str | bytes = payroll.register_csv(ctx, args.month) if fmt == "csv" \
        else payroll.register_xlsx(ctx, args.month)
    payroll.write_export(target, data)
    _print(env, f"Wrote the payroll register for {args.month} to {target}")
    return EXIT_OK


def cmd_payroll_bank_list(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    bank = payroll.bank_transfer_list(ctx, args.month)
    target = payroll.write_export(Path(args.output).expanduser(), payroll.bank_list_csv(bank))
    _print(env, f"Wrote {len(bank.rows)} transfers ({_amount(bank.total)} "
                f"{bank.total.currency}) to {target}")
    if bank.without_account:
        _print(env, f"No bank account on file, pay another way: "
                    f"{', '.join(bank.without_account)}")
    return EXIT_OK


def cmd_employee_list(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    rows = hr.list_employees(ctx, include_former=args.all)
    _print(env, _table([(e.code, e.full_name, e.department or "-", e.job_title or "-",
                         e.hire_date.isoformat(),
                         e.termination_date.isoformat() if e.termination_date else "-",
                         e.login_name or "-") for e in rows],
                       ["code", "name", "department", "job title", "joined", "left", "login"]))
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def register(subparsers: Any, login: argparse.ArgumentParser | None = None) -> None:
    """Add `payroll` and `employee` to the CLI's sub-command parser."""
    from erp_desktop import cli  # late: cli may import this module

    login = login or cli._login_options()
    parser_class = cli._Parser
    reads: Callable[[Any], Any] = cli.reads
    writes: Callable[[Any], Any] = cli.writes

    def month(q: argparse.ArgumentParser) -> None:
        q.add_argument("--month", required=True, metavar="YYYY-MM", help="e.g. 2026-10")

    p = subparsers.add_parser("payroll", help="monthly payroll, payslips and exports")
    psub = p.add_subparsers(dest="payroll_command", metavar="ACTION", parser_class=parser_class)
    psub.required = True
    q = psub.add_parser("run", parents=[login], help="start or recompute a month's payroll")
    month(q)
    q.add_argument("--pay-date", metavar="YYYY-MM-DD", help="default: the month's last day")
    q.set_defaults(handler=writes(cmd_payroll_run))
    q = psub.add_parser("leave", parents=[login], help="enter unpaid leave days (draft only)")
    month(q)
    q.add_argument("--employee", required=True, metavar="CODE")
    q.add_argument("--days", required=True, help="whole or half days, e.g. 1.5")
    q.set_defaults(handler=writes(cmd_payroll_leave))
    q = psub.add_parser("show", parents=[login], help="every employee's pay for a month")
    month(q)
    q.set_defaults(handler=reads(cmd_payroll_show))
    q = psub.add_parser("post", parents=[login],
                        help="review, approve and post a month's payroll")
    month(q)
    q.set_defaults(handler=writes(cmd_payroll_post))
    q = psub.add_parser("paid", parents=[login], help="record that net pay was paid")
    month(q)
    q.add_argument("--on", metavar="YYYY-MM-DD", help="default: the pay date")
    q.add_argument("--from", dest="from_account", choices=payroll.PAYMENT_ACCOUNTS,
                   default="bank")
    q.set_defaults(handler=writes(cmd_payroll_paid))
    q = psub.add_parser("list", parents=[login], help="payroll months and their totals")
    q.set_defaults(handler=reads(cmd_payroll_list))
    q = psub.add_parser("payslips", parents=[login], help="write a month's payslips as PDFs")
    month(q)
    q.add_argument("-o", "--output", required=True, metavar="DIR")
    q.set_defaults(handler=reads(cmd_payroll_payslips))
    q = psub.add_parser("register", parents=[login], help="the payroll register (CSV or XLSX)")
    month(q)
    q.add_argument("--format", choices=("csv", "xlsx"), help="default: from the file name")
    q.add_argument("-o", "--output", required=True, metavar="FILE")
    q.set_defaults(handler=reads(cmd_payroll_register))
    q = psub.add_parser("bank-list", parents=[login], help="bank transfer list (CSV)")
    month(q)
    q.add_argument("-o", "--output", required=True, metavar="FILE")
    q.set_defaults(handler=reads(cmd_payroll_bank_list))

    p = subparsers.add_parser("employee", help="employees")
    esub = p.add_subparsers(dest="employee_command", metavar="ACTION",
                            parser_class=parser_class)
    esub.required = True
    q = esub.add_parser("list", parents=[login], help="list employees")
    q.add_argument("--all", action="store_true", help="include former employees")
    q.set_defaults(handler=reads(cmd_employee_list))
