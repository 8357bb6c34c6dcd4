"""Inventory commands for the command line: product import and list, stock check, reports.

`register(sub, login)` adds, in the style of `erp_desktop.cli`:

- `product import FILE [--map "File column=field" ...] [--skip-bad-rows] [--sheet NAME]
  [--report FILE]`: a refused file prints every bad row (line, column, reason),
  or writes them as CSV to `--report`, and exits 2 with nothing imported;
- `product list [--search TEXT] [--limit N]`;
- `stock verify [--repair]`: exits 1 when a balance differs from its moves;
- `report stock-on-hand|low-stock|stock-card|valuation`: CSV on stdout.

Handlers take `(env, args, ctx)` like the other commands and are wrapped by
`cli.reads`/`cli.writes` when they run (imported then, so that `cli` can
import this module while it builds its parser).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from erp_desktop.domain.errors import ValidationError
from erp_desktop.services import catalogue, importing, inventory
from erp_desktop.services.context import Context

EXIT_OK = 0
EXIT_PROBLEMS = 1

Handler = Callable[[Any, argparse.Namespace, Context], int]


def _logged_in(handler: Handler, changes: bool | Callable[[argparse.Namespace], bool]
               ) -> Callable[[Any, argparse.Namespace], int]:
    """Log in around the handler; `changes` (or changes(args)) picks cli.writes, which
    takes the on-close backup, over cli.reads."""

    def run(env: Any, args: argparse.Namespace) -> int:
        from erp_desktop import cli  # late: cli imports this module to build its parser

        writes = changes(args) if callable(changes) else changes
        return (cli.writes if writes else cli.reads)(handler)(env, args)

    run.__doc__ = handler.__doc__
    return run


def _date(text: str | None, what: str) -> Any:
    if not text:
        return None
    from datetime import date

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"{what} '{text}' is not a date; write it as YYYY-MM-DD, e.g. "
                              "2026-04-01.") from None


def _mapping(pairs: list[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    out: dict[str, str] = {}
    for pair in pairs:
        column, sep, field = pair.rpartition("=")
        if not sep or not column.strip() or not field.strip():
            raise ValidationError(f"'{pair}' is not a mapping; write \"File column=field\", e.g. "
                                  "--map \"Item No=sku\".", field="map")
        out[column.strip()] = field.strip()
    return out


# --------------------------------------------------------------------------- handlers


def cmd_product_import(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    """Import products from a CSV or XLSX file."""
    try:
        report = catalogue.import_products(ctx, Path(args.file).expanduser(),
                                           mapping=_mapping(args.map),
                                           skip_bad_rows=args.skip_bad_rows, sheet=args.sheet)
    except importing.ImportRefused as exc:
        _write_bad_rows(exc.report, args.report, refused=True)
        raise ValidationError(exc.report.summary() + (
            f" The bad rows are listed in {args.report}." if args.report else
            " Fix the rows above, or import the others with --skip-bad-rows.")) from None
    if report.errors:
        _write_bad_rows(report, args.report, refused=False)
    env.print(f"Imported {Path(args.file).name}: {report.summary()}")
    return EXIT_OK


def _write_bad_rows(report: importing.ImportReport, path: str | None, refused: bool) -> None:
    text = importing.write_report_csv(report)
    if path:
        Path(path).expanduser().write_text(text, encoding="utf-8")
        return
    print("Rows not imported:" if not refused else "Bad rows:", file=sys.stderr)
    for err in report.errors:
        print(f"  line {err.line}, {err.column or 'row'}: {err.reason}", file=sys.stderr)


def cmd_product_list(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    """Products in name order (optionally matching a search)."""
    from erp_desktop.cli import _table

    page = catalogue.list_products(ctx, args.search, limit=args.limit,
                                   include_inactive=args.all)
    env.print(_table([(p.sku, p.name, p.unit, p.barcode or "", p.sale_price.amount, p.on_hand,
                       "" if p.active else "inactive") for p in page.rows],
                     ["SKU", "Name", "Unit", "Barcode", "Price", "On hand", ""]))
    if page.next_cursor is not None:
        env.print(f"(first {len(page.rows)} shown; narrow the search or raise --limit)")
    return EXIT_OK


def cmd_stock_verify(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    """Rebuild the stock balances from the moves and report any difference."""
    check = inventory.verify_stock(ctx, repair=args.repair)
    if check.ok:
        env.print(f"Stock balances agree with the stock moves ({check.balances_checked} "
                  "product and warehouse balances checked).")
        return EXIT_OK
    env.print(f"{len(check.differences)} stock balances differ from their moves:")
    for d in check.differences:
        env.print(f"  {d.sku} in {d.warehouse_code}: balance says {d.cached_quantity} worth "
                  f"{d.cached_value.amount}, the moves add up to {d.moves_quantity} worth "
                  f"{d.moves_value.amount}")
    if check.repaired:
        env.print("The balances were rebuilt from the moves.")
        return EXIT_OK
    env.print("Run `erp-desktop stock verify --repair` to rebuild them from the moves.")
    return EXIT_PROBLEMS


def cmd_report_stock_on_hand(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    env.out.write(inventory.rows_csv(inventory.iter_stock_on_hand(ctx, args.warehouse),
                                     inventory.STOCK_ON_HAND_COLUMNS))
    return EXIT_OK


def cmd_report_low_stock(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    env.out.write(inventory.rows_csv(inventory.low_stock(ctx, args.warehouse),
                                     inventory.LOW_STOCK_COLUMNS))
    return EXIT_OK


def cmd_report_stock_card(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    env.out.write(inventory.stock_card_csv(inventory.iter_stock_card(
        ctx, args.product, args.warehouse, date_from=_date(args.date_from, "The start date"),
        date_to=_date(args.date_to, "The end date"))))
    return EXIT_OK


def cmd_report_valuation(env: Any, args: argparse.Namespace, ctx: Context) -> int:
    env.out.write(inventory.valuation_csv(inventory.valuation(
        ctx, _date(args.as_of, "The date"), args.warehouse)))
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def _subcommands(parser: argparse.ArgumentParser) -> Any:
    """The sub-command group of an existing parser (to add reports to `report`)."""
    for action in parser._actions:  # argparse offers no public way to find it
        if isinstance(action, argparse._SubParsersAction):
            return action
    raise LookupError(f"{parser.prog} has no sub-commands")


def register(sub: Any, login: argparse.ArgumentParser, reports: Any = None) -> None:
    """Add the inventory commands to the CLI's sub-parsers.

    `reports` is the `report` command's sub-parsers; by default it is found
    among `sub`'s choices (the ledger reports must be registered first).
    """
    parser_class = getattr(sub, "_parser_class", argparse.ArgumentParser)  # cli's _Parser

    p = sub.add_parser("product", help="the product catalogue")
    psub = p.add_subparsers(dest="product_command", metavar="ACTION", parser_class=parser_class)
    psub.required = True
    q = psub.add_parser("import", parents=[login], help="import products from CSV or XLSX")
    q.add_argument("file", metavar="FILE", help="a .csv or .xlsx file; the first row names "
                   "the columns")
    q.add_argument("--map", action="append", metavar="COLUMN=FIELD",
                   help="which field a file column holds, e.g. --map \"Item No=sku\" (fields: "
                        + ", ".join(catalogue.PRODUCT_IMPORT_FIELDS) + ")")
    q.add_argument("--skip-bad-rows", action="store_true",
                   help="import the good rows and report the bad ones (default: refuse the "
                        "whole file)")
    q.add_argument("--sheet", metavar="NAME", help="the sheet of an XLSX file (default: first)")
    q.add_argument("--report", metavar="FILE", help="write the bad rows as CSV to FILE")
    q.set_defaults(handler=_logged_in(cmd_product_import, changes=True))
    q = psub.add_parser("list", parents=[login], help="list or search products")
    q.add_argument("--search", metavar="TEXT", help="SKU, barcode or beginnings of name words")
    q.add_argument("--limit", type=int, default=100, metavar="N")
    q.add_argument("--all", action="store_true", help="include inactive products")
    q.set_defaults(handler=_logged_in(cmd_product_list, changes=False))

    p = sub.add_parser("stock", help="stock balances")
    ssub = p.add_subparsers(dest="stock_command", metavar="ACTION", parser_class=parser_class)
    ssub.required = True
    q = ssub.add_parser("verify", parents=[login],
                        help="rebuild stock balances from the moves and report differences")
    q.add_argument("--repair", action="store_true", help="rewrite differing balances")
    q.set_defaults(handler=_logged_in(cmd_stock_verify, changes=lambda a: a.repair))

    if reports is None:
        reports = _subcommands(sub.choices["report"])
    for name, handler, text in (
            ("stock-on-hand", cmd_report_stock_on_hand, "stock on hand per warehouse"),
            ("low-stock", cmd_report_low_stock, "products below their reorder level"),
            ("stock-card", cmd_report_stock_card, "every move of a product, running balance"),
            ("valuation", cmd_report_valuation, "stock value at a date")):
        q = reports.add_parser(name, parents=[login], help=text)
        q.add_argument("--warehouse", metavar="CODE", help="one warehouse (default: all)")
        if name == "stock-card":
            q.add_argument("--product", required=True, metavar="SKU",
                           help="SKU or barcode")
            q.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD")
            q.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD")
        if name == "valuation":
            q.add_argument("--as-of", metavar="YYYY-MM-DD", help="default today")
        q.set_defaults(handler=_logged_in(handler, changes=False))
