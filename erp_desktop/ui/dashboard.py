"""The dashboard: today's figures in cards, sales of the last 12 months, top products.

Everything comes from `services.dashboard.dashboard` on the worker; a figure
the user's role may not see is left out (its card hidden), and an empty
company shows zeros and empty charts rather than an error. Money is
formatted with the company's locale; the charts (QtCharts) follow the light
or dark palette. F5 (Refresh) reads the figures again.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from erp_desktop.domain.errors import UserError
from erp_desktop.domain.money import Money, format_money
from erp_desktop.ui.shortcuts import Command, CommandPage
from erp_desktop.ui.theme import DARK, current_scheme, tones
from erp_desktop.ui.widgets import Card, PageEnv, hint, page_frame
from erp_desktop.ui.worker import Task, run_in_background


def _role_label(role_name: str) -> str:
    from erp_desktop.ui.main_window import role_label

    return role_label(role_name)


def _major(money: Money) -> float:
    """A chart needs a plotting coordinate; the figure shown is always `format_money`."""
    return float(money.amount)


def axis_scale(top: float) -> tuple[float, str]:
    """Divide chart values by this so the axis reads 250, not 250000; and its unit word."""
    if top >= 10_000_000:
        return 1_000_000.0, "millions"
    if top >= 10_000:
        return 1_000.0, "thousands"
    return 1.0, ""


def _nice_top(top: float) -> float:
    """The axis end: 1, 2 or 5 times a power of ten, just above `top`."""
    if top <= 0:
        return 1.0
    import math

    power = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= top:
            return step * power
    return 10 * power


class DashboardPage(CommandPage):
    """See the module docstring."""

    def __init__(self, env: PageEnv, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.env = env
        self.task: Task | None = None
        self.top_task: Task | None = None
        self.data: Any = None
        self._loaded = False
        ctx = env.ctx
        layout = page_frame(self, self.tr("Welcome, {name}").format(name=ctx.actor.full_name),
                            self.tr("{company} · logged in as {login} ({role})").format(
                                company=env.company_name, login=ctx.actor.login_name,
                                role=_role_label(ctx.actor.role_name)))
        self.cards = {
            "sales_today": Card(self.tr("Sales today")),
            "sales_month": Card(self.tr("Sales this month")),
            "receivables": Card(self.tr("Receivables")),
            "low_stock": Card(self.tr("Low-stock products")),
            "payroll": Card(self.tr("Payroll due")),
        }
        for key, card in self.cards.items():
            card.setProperty("key", key)
        cards = QHBoxLayout()
        cards.setSpacing(12)
        for card in self.cards.values():
            cards.addWidget(card)
        layout.addLayout(cards)

        self.sales_chart = QChartView()
        self.sales_chart.setObjectName("sales_chart")
        self.sales_chart.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.sales_chart.setMinimumHeight(240)
        self.top_chart = QChartView()
        self.top_chart.setObjectName("top_chart")
        self.top_chart.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.top_chart.setMinimumHeight(240)
        self.top_empty_text = self.tr("The best-selling products appear here once invoices "
                                      "are issued.")
        self.top_empty = QLabel(self.top_empty_text)
        self.top_empty.setObjectName("top_empty")
        self.top_empty.setWordWrap(True)
        self.top_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.top_empty.setStyleSheet(f"color: palette(placeholder-text); background: "
                                     f"{tones().card}; border: 1px solid {tones().card_border};"
                                     " border-radius: 6px; padding: 24px;")
        empty = QWidget()  # inset like a chart, whose scene sits inside the view's frame
        inset = QVBoxLayout(empty)
        inset.setContentsMargins(9, 9, 9, 9)
        inset.addWidget(self.top_empty)
        self.top_stack = QStackedWidget()
        self.top_stack.addWidget(self.top_chart)
        self.top_stack.addWidget(empty)
        for view in (self.sales_chart, self.top_chart):
            view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            view.setStyleSheet("background: transparent; border: none;")
        charts = QGridLayout()
        charts.setHorizontalSpacing(16)
        charts.addWidget(self.sales_chart, 0, 0)
        charts.addWidget(self.top_stack, 0, 1)
        charts.setColumnStretch(0, 3)
        charts.setColumnStretch(1, 2)
        layout.addLayout(charts, 1)
        self.status = hint()
        self.status.setObjectName("dashboard_status")
        layout.addWidget(self.status)

    # ---- loading

    def on_shown(self) -> None:
        if not self._loaded:
            self._loaded = True
            self.reload()

    def commands(self) -> set[Command]:
        return {Command.REFRESH}

    def run_command(self, command: Command) -> None:
        if command == Command.REFRESH:
            self.reload()

    def reload(self) -> None:
        from erp_desktop.services import dashboard

        if self.task is not None:
            self.task.cancel()
        if self.top_task is not None:
            self.top_task.cancel()
            self.top_task = None
        self.status.setText(self.tr("Loading…"))
        # The cards first; the top products read a year of invoice lines, so their
        # chart follows in a task of its own (services.dashboard.top_products).
        self.task = run_in_background(dashboard.dashboard, self.env.ctx, parent=self,
                                      name="dashboard", on_done=self._loaded_data,
                                      on_error=self._failed, with_top_products=False)

    def _failed(self, exc: BaseException) -> None:
        self.task = None
        if isinstance(exc, UserError):
            self.status.setText(exc.message)
        else:
            from erp_desktop.ui.errors import show_error

            self.status.setText(self.tr("The figures could not be read."))
            show_error(self, exc)

    def _money(self, money: Money | None) -> str:
        return "" if money is None else format_money(money, self.env.locale)

    def _loaded_data(self, d: Any) -> None:
        self.task = None
        self.data = d
        c = self.cards
        c["sales_today"].setVisible(d.sales_today is not None)
        c["sales_today"].set(self._money(d.sales_today))
        c["sales_month"].setVisible(d.sales_month is not None)
        c["sales_month"].set(self._money(d.sales_month))
        c["receivables"].setVisible(d.receivables is not None)
        overdue = ""
        if d.receivables_overdue is not None and d.receivables_overdue:
            overdue = self.tr("{amount} overdue").format(
                amount=self._money(d.receivables_overdue))
        c["receivables"].set(self._money(d.receivables), overdue)
        c["low_stock"].setVisible(d.low_stock_count is not None)
        if d.low_stock_count is not None:
            c["low_stock"].set(f"{d.low_stock_count:,}", self.tr("below their reorder level")
                               if d.low_stock_count else self.tr("all stocked"))
        c["payroll"].setVisible(d.payroll_due is not None)
        c["payroll"].set(self._money(d.payroll_due), d.payroll_note)
        self._sales_chart(d)
        self.sales_chart.setVisible(bool(d.monthly_sales))
        self.top_stack.setVisible(bool(d.monthly_sales))
        if d.monthly_sales and self.env.can("sales.view"):
            self.top_empty.setText(self.tr("Adding up the best sellers…"))
            self.top_stack.setCurrentIndex(1)
            self._load_top_products()
        else:
            self._show_top_products(d.top_products)
        notes = list(d.notes)
        from erp_desktop.services.listing import format_date

        self.status.setText(" ".join(notes) if notes else self.tr(
            "Figures as of {date}; sales are net of returns, before tax.").format(
            date=format_date(d.as_of, self.env.locale)))

    def _load_top_products(self) -> None:
        from erp_desktop.services import dashboard

        self.top_task = run_in_background(
            dashboard.top_products, self.env.ctx, parent=self, name="top products",
            on_done=self._show_top_products, on_error=self._top_failed)

    def _show_top_products(self, top: list[Any]) -> None:
        self.top_task = None
        if self.data is None:
            return
        from dataclasses import replace

        self.data = replace(self.data, top_products=list(top))
        self._top_chart(self.data)
        self.top_empty.setText(self.top_empty_text)
        self.top_stack.setCurrentIndex(0 if top else 1)

    def _top_failed(self, exc: BaseException) -> None:
        self.top_task = None
        self.top_empty.setText(exc.message if isinstance(exc, UserError) else self.tr(
            "The best sellers could not be read."))

    # ---- charts

    def _chart(self, title: str) -> QChart:
        chart = QChart()
        chart.setTheme(QChart.ChartTheme.ChartThemeDark if current_scheme() == DARK
                       else QChart.ChartTheme.ChartThemeLight)
        chart.setBackgroundBrush(QBrush(QColor(tones().card)))
        chart.setBackgroundRoundness(6)
        chart.setTitle(title)
        font = QFont(self.font())
        font.setBold(True)
        chart.setTitleFont(font)
        chart.setTitleBrush(QBrush(self.palette().color(QPalette.ColorRole.WindowText)))
        chart.legend().setVisible(False)
        chart.setMargins(QMargins(8, 8, 8, 8))
        chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        return chart

    def _style_axis(self, axis: Any) -> None:
        text = self.palette().color(QPalette.ColorRole.WindowText)
        axis.setLabelsBrush(QBrush(text))
        axis.setLabelsFont(self.font())
        grid = self.palette().color(QPalette.ColorRole.Mid)
        axis.setGridLineColor(grid)
        axis.setLinePenColor(grid)

    def _unit_title(self, title: str, currency: str, unit: str) -> str:
        if unit == "thousands":
            return self.tr("{title} ({currency}, thousands)").format(title=title,
                                                                    currency=currency)
        if unit == "millions":
            return self.tr("{title} ({currency}, millions)").format(title=title,
                                                                   currency=currency)
        return f"{title} ({currency})"

    def _sales_chart(self, d: Any) -> None:
        top = max((_major(m.amount) for m in d.monthly_sales), default=0.0)
        scale, unit = axis_scale(top)
        chart = self._chart(self._unit_title(self.tr("Sales, last 12 months"), d.currency,
                                             unit))
        values = QBarSet(self.tr("Sales"))
        values.setColor(QColor(tones().accent))
        values.setBorderColor(QColor(tones().accent))
        months = []
        top /= scale
        for m in d.monthly_sales:
            values.append(_major(m.amount) / scale)
            months.append(m.month.strftime("%b"))
        series = QBarSeries()
        series.append(values)
        series.setBarWidth(0.65)
        chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append(months)
        y = QValueAxis()
        y.setRange(0, _nice_top(top))
        y.setTickCount(6)
        y.setLabelFormat("%.0f" if _nice_top(top) >= 5 else "%.1f")
        for axis, side in ((x, Qt.AlignmentFlag.AlignBottom), (y, Qt.AlignmentFlag.AlignLeft)):
            self._style_axis(axis)
            chart.addAxis(axis, side)
            series.attachAxis(axis)
        self.sales_chart.setChart(chart)

    def _top_chart(self, d: Any) -> None:
        top = max((_major(p.amount) for p in d.top_products), default=0.0)
        scale, unit = axis_scale(top)
        chart = self._chart(self._unit_title(self.tr("Top products, last 12 months"),
                                             d.currency, unit))
        values = QBarSet(self.tr("Sold"))
        values.setColor(QColor(tones().accent_2))
        values.setBorderColor(QColor(tones().accent_2))
        names = []
        top /= scale
        for p in reversed(d.top_products):  # the best at the top
            values.append(_major(p.amount) / scale)
            names.append(p.name if len(p.name) <= 24 else p.name[:23] + "…")
        if not names:
            names = [self.tr("No sales yet")]
            values.append(0)
        series = QHorizontalBarSeries()
        series.append(values)
        series.setBarWidth(0.6)
        chart.addSeries(series)
        y = QBarCategoryAxis()
        y.append(names)
        x = QValueAxis()
        x.setRange(0, _nice_top(top))
        x.setTickCount(3)
        x.setLabelFormat("%.0f")
        for axis, side in ((y, Qt.AlignmentFlag.AlignLeft), (x, Qt.AlignmentFlag.AlignBottom)):
            self._style_axis(axis)
            chart.addAxis(axis, side)
            series.attachAxis(axis)
        self.top_chart.setChart(chart)

