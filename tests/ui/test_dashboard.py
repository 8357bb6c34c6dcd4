"""The dashboard page: cards in the company's money format, charts of 12 months."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from erp_desktop.services import ledger

pytestmark = pytest.mark.ui


def test_cards_and_the_twelve_month_chart(qtbot, admin_ctx, open_main):
    # The test clock says 2 Nov 2026.
    ledger.post_entry(admin_ctx, date(2026, 11, 2), [
        ledger.LineInput("1100", debit=Decimal("1500.50")),
        ledger.LineInput("4100", credit=Decimal("1500.50"))], "Counter sales")
    ledger.post_entry(admin_ctx, date(2026, 6, 10), [
        ledger.LineInput("1300", debit=Decimal("250000")),
        ledger.LineInput("4100", credit=Decimal("250000"))], "Credit sale")
    main = open_main(admin_ctx, area="dashboard")
    page = main.page("dashboard")
    qtbot.waitUntil(lambda: page.data is not None, timeout=15_000)
    assert page.cards["sales_today"].value.text() == "₹1,500.50"
    assert page.cards["sales_month"].value.text() == "₹1,500.50"
    assert page.cards["receivables"].value.text() == "₹2,50,000.00"
    series = page.sales_chart.chart().series()[0]
    values = [series.barSets()[0].at(i) for i in range(12)]
    assert values[-1] == pytest.approx(1.5005)  # November, in thousands
    assert values[6] == pytest.approx(250.0)  # June (December 2025 is the first bar)
    assert "thousands" in page.sales_chart.chart().title()
    assert page.top_stack.currentIndex() == 1  # no invoices yet: a sentence, not an empty chart
