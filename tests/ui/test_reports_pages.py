"""The Reports area: reports the role allows, totals as the services compute them, CSV export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont

from erp_desktop.domain.money import format_money
from erp_desktop.services import auth, ledger, roles, users
from erp_desktop.ui import reports_pages
from erp_desktop.ui.reports_pages import ReportsPage, available_reports, period_dates
from erp_desktop.ui.shortcuts import Command

pytestmark = pytest.mark.ui

READER_PASSWORD = "sales figures 2026 ok"
TODAY = date(2026, 11, 2)  # the test clock


def post(ctx, day, debit, credit, amount, memo):
    ledger.post_entry(ctx, day, [ledger.LineInput(debit, debit=Decimal(amount)),
                                 ledger.LineInput(credit, credit=Decimal(amount))], memo)


@pytest.fixture
def books(admin_ctx):
    """A month of cash sales, rent and a service; one sale in October."""
    post(admin_ctx, date(2026, 10, 20), "1100", "4100", "999.00", "October sale")
    post(admin_ctx, date(2026, 11, 1), "1100", "4100", "5000.00", "Counter sales")
    post(admin_ctx, date(2026, 11, 2), "1200", "4100", "2500.50", "Card sales")
    post(admin_ctx, date(2026, 11, 2), "6200", "1200", "1800.00", "Rent for November")
    return admin_ctx


def reports_page(qtbot, open_main, ctx) -> ReportsPage:
    main = open_main(ctx, area="reports")
    page = main.page("reports")
    assert isinstance(page, ReportsPage)
    qtbot.waitUntil(lambda: page.shown is not None and page.task is None, timeout=15_000)
    return page


def show(qtbot, page: ReportsPage, key: str) -> None:
    page.show_report(key)
    qtbot.waitUntil(lambda: page.task is None and page.shown is not None
                    and page.spec is not None and page.spec.key == key, timeout=15_000)


def cells(page: ReportsPage, row: int) -> list[str]:
    model = page.table.model()
    return [model.index(row, c).data() for c in range(model.columnCount())]


def is_bold(page: ReportsPage, row: int) -> bool:
    font = page.table.model().index(row, 1).data(Qt.ItemDataRole.FontRole)
    return isinstance(font, QFont) and font.bold()


def test_profit_and_loss_shows_the_totals_the_ledger_computes(qtbot, books, open_main):
    page = reports_page(qtbot, open_main, books)
    assert page.spec.key == "profit_and_loss"  # the first report the owner may run
    assert page.period.currentData() == "this_month"
    params = page.shown_params
    assert (params.date_from, params.date_to) == (date(2026, 11, 1), date(2026, 11, 30))

    pnl = ledger.profit_and_loss(books, params.date_from, params.date_to)
    assert pnl.net_profit.amount == Decimal("5700.50")  # October's sale is outside the month
    rows = [cells(page, r) for r in range(page.table.model().rowCount())]
    by_label = {r[1]: r for r in rows}
    assert by_label["Total income"][3] == format_money(pnl.total_income, "en_IN") \
        == "₹7,500.50"
    assert by_label["Total expenses"][3] == format_money(pnl.total_expense, "en_IN")
    assert rows[-1][1:] == ["Net profit", "", format_money(pnl.net_profit, "en_IN")]
    assert is_bold(page, len(rows) - 1) and not is_bold(page, 1)
    amount = page.table.model().index(len(rows) - 1, 3)
    assert amount.data(Qt.ItemDataRole.TextAlignmentRole) & Qt.AlignmentFlag.AlignRight
    assert "Net profit: ₹5,700.50" in page.status.text()

    page.period.setCurrentIndex(page.period.findData("this_fy"))  # April to March
    qtbot.waitUntil(lambda: page.shown_params.date_from == date(2026, 4, 1)
                    and page.task is None, timeout=15_000)
    assert page.shown_params.date_to == date(2027, 3, 31)
    fy = ledger.profit_and_loss(books, date(2026, 4, 1), date(2027, 3, 31))
    assert cells(page, page.table.model().rowCount() - 1)[3] == format_money(fy.net_profit,
                                                                               "en_IN")


def test_trial_balance_totals_match_and_the_csv_is_the_services_text(qtbot, books, open_main,
                                                                     tmp_path):
    page = reports_page(qtbot, open_main, books)
    show(qtbot, page, "trial_balance")
    tb = ledger.trial_balance(books, page.shown_params.as_of)
    last = cells(page, page.table.model().rowCount() - 1)
    assert last[1] == "Total"
    assert last[3] == last[4] == format_money(tb.total_debit, "en_IN") == "₹8,499.50"
    assert page.table.model().rowCount() == len(tb.rows) + 1
    assert "balanced" in page.status.text()

    target = tmp_path / "tb.csv"
    page.export_to(target, "csv")
    qtbot.waitUntil(lambda: page.export_task is None, timeout=15_000)
    assert target.read_bytes().decode("utf-8") == ledger.trial_balance_csv(tb)
    assert "Saved to" in page.status.text()

    show(qtbot, page, "profit_and_loss")
    pnl_file = tmp_path / "pnl.csv"
    page.export_to(pnl_file, "csv")
    qtbot.waitUntil(lambda: page.export_task is None, timeout=15_000)
    params = page.shown_params
    assert pnl_file.read_text(encoding="utf-8") == ledger.profit_and_loss_csv(
        ledger.profit_and_loss(books, params.date_from, params.date_to))
    assert not page.xlsx_button.isVisible()  # the ledger offers no spreadsheet


def test_a_long_general_ledger_comes_a_page_at_a_time_and_exports_whole(
        qtbot, books, open_main, tmp_path, monkeypatch):
    monkeypatch.setattr(reports_pages, "GL_PAGE", 1)
    page = reports_page(qtbot, open_main, books)
    show(qtbot, page, "general_ledger")
    page.account.setCurrentIndex(page.account.findData("1100"))
    qtbot.waitUntil(lambda: page.task is None and page.shown_params.account == "1100",
                    timeout=15_000)
    page.period.setCurrentIndex(page.period.findData("this_fy"))
    qtbot.waitUntil(lambda: page.task is None and page.shown_params.date_from
                    == date(2026, 4, 1), timeout=15_000)
    # the opening balance and a first page of one line; more to come
    assert page.table.model().rowCount() == 2 and page.shown.cursor is not None
    assert page.more_button.isVisibleTo(page)
    page.load_more()
    qtbot.waitUntil(lambda: page.task is None and page.shown.cursor is None, timeout=15_000)
    last = cells(page, page.table.model().rowCount() - 1)
    assert page.table.model().rowCount() == 4  # opening, two sales, closing
    assert last[2] == "Closing balance" and last[5] == "₹5,999.00"
    assert not page.more_button.isVisibleTo(page)

    target = tmp_path / "gl.csv"
    page.export_to(target)
    qtbot.waitUntil(lambda: page.export_task is None, timeout=15_000)
    expected = ledger.general_ledger_csv(ledger.iter_general_ledger(
        books, "1100", date(2026, 4, 1), date(2027, 3, 31)))
    assert target.read_text(encoding="utf-8") == expected
    assert expected.count("\n") == 5  # header, opening, two sales, closing


def test_a_user_without_financial_reports_does_not_see_them(qtbot, admin_ctx, open_main,
                                                             company_path, config, device,
                                                             clock):
    roles.create_role(admin_ctx, "sales_reader", "Sales reader",
                      ["company.view", "sales.view", "sales.reports"])
    users.add_user(admin_ctx, "sunita", "Sunita Rao", READER_PASSWORD, "sales_reader")
    ctx = auth.login(company_path, "sunita", READER_PASSWORD, config=config, device=device,
                     clock=clock)
    try:
        page = reports_page(qtbot, open_main, ctx)
        keys = page.report_keys()
        assert keys == ["sales_register", "tax_summary", "ageing", "customer_statement"]
        titles = [page.list.item(i).text() for i in range(page.list.count())]
        assert "Profit and loss" not in titles and "Trial balance" not in titles
        assert "Balance sheet" not in titles and "Sales register" in titles
        assert page.spec.key == "sales_register"

        page.run_command(Command.NEXT)  # Next record moves to the next report
        qtbot.waitUntil(lambda: page.task is None and page.spec.key == "tax_summary",
                        timeout=15_000)
    finally:
        ctx.close()
    # the owner's list, by contrast, holds every report
    assert [r.key for r in available_reports(admin_ctx.actor.can)] == \
        [r.key for r in reports_pages.REPORTS]


def test_period_presets_follow_the_fiscal_year():
    assert period_dates("last_month", TODAY, 4) == (date(2026, 10, 1), date(2026, 10, 31))
    assert period_dates("this_fy", date(2026, 2, 10), 4) == (date(2025, 4, 1),
                                                             date(2026, 3, 31))
    assert period_dates("last_fy", TODAY, 1) == (date(2025, 1, 1), date(2025, 12, 31))
    assert period_dates("this_month", date(2026, 12, 31), 1) == (date(2026, 12, 1),
                                                                 date(2026, 12, 31))
