"""The sales commands of the CLI: invoices (list, PDF, batch) and receivables reports.

    erp-desktop invoice list [--from DATE] [--to DATE] [--customer NAME] [--status S]
    erp-desktop invoice pdf NUMBER -o FILE [--format A4|LETTER|THERMAL]
    erp-desktop invoice batch --from DATE --to DATE -o DIR [--one-file] [--customer NAME]
                              [--search TEXT]
    erp-desktop report ageing [--as-of DATE] [--by-invoice]
    erp-desktop report sales-register --from DATE --to DATE
    erp-desktop report tax-summary --from DATE --to DATE
    erp-desktop report statement --customer NAME [--from DATE] [--to DATE]

Lists and reports are CSV on stdout; progress of a batch goes to stderr.
`register(subparsers)` adds them to the parser of `erp_desktop.cli` (whose
login, error handling and exit codes they share); `report` is joined if the
ledger commands created it already.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path
from typing import Any

from erp_desktop.domain.errors import NotFound
from erp_desktop.domain.numbering import fiscal_year_start
from erp_desktop.services import company, invoice_pdf, sales
from erp_desktop.services.context import Context


def _cli() -> Any:
    from erp_desktop import cli  # late: cli imports this module to register the commands

    return cli


def _reads(handler: Any) -> Any:
    """Log in for a read-only command, the way `cli.reads` does (resolved at call time)."""

    def run(env: Any, args: argparse.Namespace) -> int:
        return int(_cli().reads(handler)(env, args))

    run.__doc__ = handler.__doc__
    return run


def _date(text: str | None, what: str) -> date | None:
    return _cli()._parse_date(text, what) if text else None


def _period(ctx: Context, args: argparse.Namespace) -> tuple[date, date]:
    end = _date(args.date_to, "The end date") or ctx.today()
    start = _date(args.date_from, "The start date")
    if start is None:
        start = fiscal_year_start(end, company.get_profile(ctx).fiscal_year_start_month)
    return start, end


# --------------------------------------------------------------------------- handlers


def cmd_invoice_list(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    """Invoices as CSV, newest first, streamed a page at a time."""
    rows = sales.iter_invoices(ctx, _date(args.date_from, "The start date"),
                               _date(args.date_to, "The end date"), customer=args.customer,
                               status=args.status)
    header, *_ = sales.invoice_list_csv([]).splitlines(keepends=True)
    env.out.write(header)
    batch: list[sales.InvoiceListRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) == 500:
            env.out.write(sales.invoice_list_csv(batch).split("\n", 1)[1])
            batch = []
    if batch:
        env.out.write(sales.invoice_list_csv(batch).split("\n", 1)[1])
    return 0


def cmd_invoice_pdf(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    """One invoice, credit note (CN/...) or payment receipt (RCPT/...) as a PDF file."""
    number = args.number.strip()
    fmt = args.format
    try:
        data = invoice_pdf.invoice_pdf(ctx, number, page_format=fmt)
    except NotFound:
        if number.upper().startswith("CN"):
            data = invoice_pdf.credit_note_pdf(ctx, number, page_format=fmt)
        elif number.upper().startswith("RCPT"):
            data = invoice_pdf.receipt_pdf(ctx, number, page_format=fmt)
        else:
            raise
    target = Path(args.output).expanduser()
    invoice_pdf.save_pdf(target, data)
    env.print(f"Saved {number} to {target}")
    return 0


def cmd_invoice_batch(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    """Every issued invoice of a period as PDF: one file each, or one file."""
    start = _date(args.date_from, "The start date")
    end = _date(args.date_to, "The end date")
    assert start is not None and end is not None  # required options
    target = Path(args.output).expanduser()

    def progress(done: int, total: int) -> None:
        if done == total or done % 25 == 0:
            print(f"{done} of {total} invoices", file=sys.stderr)

    if args.one_file:
        result = invoice_pdf.export_invoices(ctx, start, end, customer=args.customer,
                                             one_file=target, page_format=args.format,
                                             search=args.search, progress=progress)
        env.print(f"Saved {result.count} invoices to {target}")
    else:
        target.mkdir(parents=True, exist_ok=True)
        result = invoice_pdf.export_invoices(ctx, start, end, customer=args.customer,
                                             directory=target, page_format=args.format,
                                             search=args.search, progress=progress)
        env.print(f"Saved {result.count} invoices as PDF files in {target}")
    return 0


def cmd_report_ageing(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    as_of = _date(args.as_of, "The date") or ctx.today()
    env.out.write(sales.ageing_csv(sales.ageing(ctx, as_of, by_invoice=args.by_invoice)))
    return 0


def cmd_report_sales_register(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    start, end = _period(ctx, args)
    env.out.write(sales.sales_register_csv(sales.sales_register(ctx, start, end)))
    return 0


def cmd_report_tax_summary(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    start, end = _period(ctx, args)
    env.out.write(sales.tax_summary_csv(sales.tax_summary(ctx, start, end)))
    return 0


def cmd_report_statement(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    start, end = _period(ctx, args)
    env.out.write(sales.statement_csv(sales.customer_statement(ctx, args.customer, start,
                                                               end)))
    return 0


# --------------------------------------------------------------------------- parser


def _subparsers_of(parser: argparse.ArgumentParser) -> Any:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def register(subparsers: Any, login: argparse.ArgumentParser | None = None) -> None:
    """Add `invoice` and the sales reports to the CLI's subcommands."""
    cli = _cli()
    login = login or cli._login_options()
    parser_class = cli._Parser

    p = subparsers.add_parser("invoice", help="sales invoices: list, PDF, batch printing")
    isub = p.add_subparsers(dest="invoice_command", metavar="ACTION", parser_class=parser_class)
    isub.required = True
    q = isub.add_parser("list", parents=[login], help="invoices as CSV on stdout")
    q.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
    q.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
    q.add_argument("--customer", metavar="NAME", help="customer name or code")
    q.add_argument("--status", choices=("quote", "draft", "issued", "partially_paid", "paid"))
    q.set_defaults(handler=_reads(cmd_invoice_list))
    q = isub.add_parser("pdf", parents=[login],
                        help="save an invoice, credit note or receipt as PDF")
    q.add_argument("number", metavar="NUMBER", help="e.g. INV/2026-27/A/000042")
    q.add_argument("-o", "--output", required=True, metavar="FILE")
    q.add_argument("--format", choices=invoice_pdf.PAGE_FORMATS, type=str.upper,
                   help="paper (default: the company's setting)")
    q.set_defaults(handler=_reads(cmd_invoice_pdf))
    q = isub.add_parser("batch", parents=[login],
                        help="save every issued invoice of a period as PDF")
    q.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
    q.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")
    q.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="folder for one file per invoice (or the file with --one-file)")
    q.add_argument("--one-file", action="store_true", help="all invoices in one PDF")
    q.add_argument("--customer", metavar="NAME")
    q.add_argument("--search", metavar="TEXT", default="",
                   help="only invoices whose number or customer holds every word of TEXT "
                        "(as the invoice list's search box)")
    q.add_argument("--format", choices=("A4", "LETTER"), type=str.upper)
    q.set_defaults(handler=_reads(cmd_invoice_batch))

    report = subparsers.choices.get("report")
    if report is None:
        report = subparsers.add_parser("report", help="reports as CSV on stdout")
        rsub = report.add_subparsers(dest="report_command", metavar="REPORT",
                                     parser_class=parser_class)
        rsub.required = True
    else:
        rsub = _subparsers_of(report)
    q = rsub.add_parser("ageing", parents=[login], help="receivables by days overdue")
    q.add_argument("--as-of", metavar="YYYY-MM-DD", help="default today")
    q.add_argument("--by-invoice", action="store_true", help="one row per open invoice")
    q.set_defaults(handler=_reads(cmd_report_ageing))
    for name, handler, text in (
            ("sales-register", cmd_report_sales_register, "invoices and credit notes"),
            ("tax-summary", cmd_report_tax_summary, "output tax per rate and component"),
            ("statement", cmd_report_statement, "a customer's statement of account")):
        q = rsub.add_parser(name, parents=[login], help=text)
        if name == "statement":
            q.add_argument("--customer", required=True, metavar="NAME")
        q.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD",
                       help="default: the start of the fiscal year")
        q.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="default today")
        q.set_defaults(handler=_reads(handler))
