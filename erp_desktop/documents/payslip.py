"""The payslip PDF (A4), drawn from a plain `PayslipDoc` that payroll hands over.

Company header and period; the employee block (PAN and bank account already
masked by the service, so the full numbers never reach a PDF); days paid and
unpaid leave; earnings and deductions side by side with this month and the
year to date; gross, total deductions, net pay in figures and in words; and
the note that it is computer-generated. Same input, same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from erp_desktop.documents.base import (
    ACCENT,
    ACCENT_LIGHT,
    CONTENT_WIDTH,
    RULE,
    CompanyHeader,
    amount_text,
    build_pdf,
    company_block,
    details_grid,
    money_text,
    styles,
    table_style,
)
from erp_desktop.documents.fonts import markup, paragraph, rich
from erp_desktop.domain.words import amount_in_words

COMPUTER_GENERATED = "This is a computer-generated payslip and needs no signature."


@dataclass(frozen=True)
class PayslipLineDoc:
    label: str
    amount: Decimal
    ytd: Decimal


@dataclass(frozen=True)
class PayslipDoc:
    company: CompanyHeader
    currency: str
    locale: str
    period_label: str  # "October 2026"
    pay_date: date | None
    run_number: str | None
    employee_name: str
    employee_code: str
    department: str | None
    designation: str | None
    tax_id_masked: str | None
    bank_account_masked: str | None
    days_in_month: int
    days_paid: Decimal
    lop_days: Decimal
    earnings: tuple[PayslipLineDoc, ...]
    deductions: tuple[PayslipLineDoc, ...]
    gross: Decimal
    total_deductions: Decimal
    net: Decimal
    ytd_gross: Decimal
    ytd_deductions: Decimal
    ytd_net: Decimal
    cancelled: bool = False


def _days(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def _date(value: date | None, locale: str) -> str:
    if value is None:
        return "-"
    from babel.dates import format_date

    return format_date(value, "d MMM y", locale=locale)


def _table_styles() -> dict[str, ParagraphStyle]:
    """The line table's cells, a half point smaller than body text so that a
    seven-figure year-to-date amount fits its column without wrapping."""
    st = styles()
    small = {"fontSize": 8.5, "leading": 11}
    return {name: ParagraphStyle(f"payslip_{name}", parent=st[name], **small)
            for name in ("cell", "cell_right", "head", "head_right", "bold", "bold_right")}


def _lines_table(doc: PayslipDoc, width: float) -> Table:
    st = _table_styles()

    def amt(value: Decimal, style: str = "cell_right") -> Paragraph:
        return Paragraph(amount_text(value, doc.currency, doc.locale), st[style])

    def side(lines: tuple[PayslipLineDoc, ...], i: int) -> list[object]:
        if i >= len(lines):
            return ["", "", ""]
        ln = lines[i]
        return [paragraph(ln.label, st["cell"]), amt(ln.amount), amt(ln.ytd)]

    head = [Paragraph("Earnings", st["head"]), Paragraph("This month", st["head_right"]),
            Paragraph("YTD", st["head_right"]), Paragraph("Deductions", st["head"]),
            Paragraph("This month", st["head_right"]), Paragraph("YTD", st["head_right"])]
    rows: list[list[object]] = [head]
    earnings = tuple(ln for ln in doc.earnings if ln.amount or ln.ytd)
    deductions = tuple(ln for ln in doc.deductions if ln.amount or ln.ytd)
    for i in range(max(len(earnings), len(deductions), 1)):
        rows.append(side(earnings, i) + side(deductions, i))
    rows.append([Paragraph("Gross earnings", st["bold"]), amt(doc.gross, "bold_right"),
                 amt(doc.ytd_gross, "bold_right"), Paragraph("Total deductions", st["bold"]),
                 amt(doc.total_deductions, "bold_right"),
                 amt(doc.ytd_deductions, "bold_right")])
    label, amount = 0.19, 0.155  # of the width, per half: label, this month, year to date
    widths = [width * label, width * amount, width * amount] * 2
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(table_style(total_rows=1, extra=[
        ("LINEAFTER", (2, 0), (2, -1), 0.8, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]))
    return table


def _net_box(doc: PayslipDoc, width: float) -> Table:
    st = styles()
    words = amount_in_words(doc.net, doc.currency)
    left = [rich(f"Net pay for {markup(doc.period_label, bold=True)}", st["bold"]),
            paragraph(words, st["base"]),
            paragraph(f"Net pay this year so far: "
                      f"{money_text(doc.ytd_net, doc.currency, doc.locale)}", st["small"])]
    right = [paragraph(money_text(doc.net, doc.currency, doc.locale), st["big"])]
    table = Table([[left, right]], colWidths=[width * 0.66, width * 0.34])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), ACCENT_LIGHT),
        ("BOX", (0, 0), (-1, -1), 1, ACCENT),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 8),
        ("RIGHTPADDING", (0, 0), (-1, -1), 8),
        ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    return table


def payslip_story(doc: PayslipDoc) -> list[Flowable]:
    width = CONTENT_WIDTH
    st = styles()
    subtitle = [doc.period_label]
    if doc.run_number:
        subtitle.append(doc.run_number)
    story: list[Flowable] = company_block(
        doc.company, "PAYSLIP", subtitle,
        warning="CANCELLED: this payroll was reversed" if doc.cancelled else None, width=width)
    story.append(details_grid([
        ("Employee", doc.employee_name),
        ("Employee code", doc.employee_code),
        ("Department", doc.department or "-"),
        ("Designation", doc.designation or "-"),
        ("PAN", doc.tax_id_masked or "-"),
        ("Bank account", doc.bank_account_masked or "-"),
        ("Pay period", doc.period_label),
        ("Pay date", _date(doc.pay_date, doc.locale)),
        ("Days in month", str(doc.days_in_month)),
        ("Days paid", _days(doc.days_paid)),
        ("Unpaid leave (LOP)", _days(doc.lop_days)),
        ("Currency", doc.currency),
    ], width))
    story.append(Spacer(1, 5 * mm))
    story.append(_lines_table(doc, width))
    story.append(Spacer(1, 5 * mm))
    story.append(_net_box(doc, width))
    story.append(Spacer(1, 6 * mm))
    story.append(paragraph(COMPUTER_GENERATED, st["small"]))
    return story


def render_payslip(doc: PayslipDoc) -> bytes:
    """The payslip as PDF bytes."""
    return build_pdf(
        payslip_story(doc), title=f"Payslip {doc.period_label} - {doc.employee_code}",
        author=doc.company.legal_name, subject=f"Payslip for {doc.period_label}",
        footer_note=f"{doc.company.trade_name or doc.company.legal_name}  ·  Payslip "
                    f"{doc.period_label}  ·  {doc.employee_code}", keywords="payslip")
