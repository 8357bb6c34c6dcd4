"""Shared building blocks of every PDF: fonts, colours, header, money, footer.

The payslip and the invoice look like one family: the company header on the
left with the document's title in the accent colour on the right, an accent
rule, tables with an accent header row, amounts right-aligned and formatted
by babel in the company's locale, and a footer with a note and "Page x of y"
(a two-pass canvas: the page count is known only once every page is laid out).

Output is deterministic: `build_pdf` renders with reportlab's `invariant`
mode (fixed creation date and document id), so the same input gives the same
bytes, which keeps tests honest and lets a re-print be compared with the
original. Documents receive plain dataclasses; nothing here reads the database.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    Image,
    PageTemplate,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from erp_desktop.documents.fonts import draw_text, paragraph, register_fonts, text_width

ACCENT = colors.HexColor("#1F4E79")  # deep blue: headings, header rows, rules
ACCENT_LIGHT = colors.HexColor("#E8EEF5")  # totals rows and boxes
RULE = colors.HexColor("#B8C4D0")
MUTED = colors.HexColor("#5A6570")
TEXT = colors.HexColor("#1A1A1A")
WARNING = colors.HexColor("#B3261E")

PAGE_SIZE = A4
MARGIN = 16 * mm
BOTTOM_MARGIN = 18 * mm  # room for the footer
CONTENT_WIDTH = PAGE_SIZE[0] - 2 * MARGIN
CREATOR = "erp_desktop"


@dataclass(frozen=True)
class CompanyHeader:
    """The company as printed at the top of a document."""

    legal_name: str
    trade_name: str | None = None
    address_lines: tuple[str, ...] = ()
    tax_line: str | None = None  # "GSTIN 29AAKCS4821M1ZS"
    phone: str | None = None
    email: str | None = None
    logo_png: bytes | None = None


# --------------------------------------------------------------------------- text


def styles() -> dict[str, ParagraphStyle]:
    """The paragraph styles of the document family (fonts registered on first use).

    The styles are made once and shared (never change one: derive a new
    `ParagraphStyle(..., parent=...)`); the dict is the caller's own."""
    return dict(_shared_styles())


@lru_cache(maxsize=1)
def _shared_styles() -> dict[str, ParagraphStyle]:
    regular, bold = register_fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9, leading=12, textColor=TEXT)
    return {
        "base": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10,
                                textColor=MUTED),
        "company": ParagraphStyle("company", parent=base, fontName=bold, fontSize=14,
                                  leading=18, textColor=ACCENT),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=16, leading=20,
                                textColor=ACCENT, alignment=TA_RIGHT),
        "title_sub": ParagraphStyle("title_sub", parent=base, fontSize=9.5, leading=13,
                                    alignment=TA_RIGHT),
        "label": ParagraphStyle("label", parent=base, fontSize=8, leading=11, textColor=MUTED),
        "value": ParagraphStyle("value", parent=base, fontName=bold, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", parent=base, alignment=TA_LEFT),
        "cell_right": ParagraphStyle("cell_right", parent=base, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=bold, textColor=colors.white),
        "head_right": ParagraphStyle("head_right", parent=base, fontName=bold,
                                     textColor=colors.white, alignment=TA_RIGHT),
        "bold": ParagraphStyle("bold", parent=base, fontName=bold),
        "bold_right": ParagraphStyle("bold_right", parent=base, fontName=bold,
                                     alignment=TA_RIGHT),
        "big": ParagraphStyle("big", parent=base, fontName=bold, fontSize=15, leading=19,
                              textColor=ACCENT, alignment=TA_RIGHT),
        "warning": ParagraphStyle("warning", parent=base, fontName=bold, fontSize=10,
                                  leading=13, textColor=WARNING, alignment=TA_RIGHT),
    }


def escape(text: object) -> str:
    """Text for a Paragraph (which reads a little markup): &, < and > made literal.

    Plain escaping: for text that may hold a name in an Indian script use
    `fonts.markup` (same result for other text) or `fonts.paragraph`.
    """
    return (str(text if text is not None else "").replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


# --------------------------------------------------------------------------- money


def money_text(amount: Decimal, currency: str, locale: str) -> str:
    """₹1,23,456.50 or 1.234,50 € as the company's locale writes it."""
    from babel.numbers import format_currency  # late: babel is slow to load

    return format_currency(amount, currency, locale=locale)


def amount_text(amount: Decimal, currency: str, locale: str) -> str:
    """An amount without the symbol for table columns (1,23,456.50), minor-unit places."""
    from babel.numbers import format_decimal, get_currency_precision

    places = int(get_currency_precision(currency))
    pattern = "#,##0" + ("." + "0" * places if places else "")
    if locale.startswith(("en_IN", "hi_IN")):
        pattern = "#,##,##0" + ("." + "0" * places if places else "")
    return format_decimal(amount, format=pattern, locale=locale)


# --------------------------------------------------------------------------- blocks


class TextStack(Flowable):
    """Lines of plain text stacked top-down, each in a paragraph style (font, size,
    leading, colour, left or right alignment); a flowable (a logo, a Paragraph for a
    line too long for one line) may sit between them.

    What a column of one-line Paragraphs draws, without their markup parser and
    line breaker: the document header is on every invoice, and those made it a
    sixth of an invoice's rendering time."""

    def __init__(self, items: Sequence[Flowable | tuple[str, ParagraphStyle]]) -> None:
        super().__init__()
        self.items = list(items)
        self.heights: list[float] = []

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        self.heights = [item.wrap(available_width, available_height)[1]
                        if isinstance(item, Flowable) else item[1].leading
                        for item in self.items]
        self.height = sum(self.heights)
        return self.width, self.height

    def draw(self) -> None:
        canv = self.canv
        y = self.height
        for item, h in zip(self.items, self.heights, strict=True):
            y -= h
            if isinstance(item, Flowable):
                item.drawOn(canv, 0, y)
                continue
            text, style = item
            canv.setFont(style.fontName, style.fontSize)
            canv.setFillColor(style.textColor)
            right = style.alignment == TA_RIGHT
            draw_text(canv, self.width if right else 0, y + h - style.fontSize, text,
                      style.fontName, style.fontSize, "RIGHT" if right else "LEFT")


class SideBySide(Flowable):
    """Two flowables next to each other, top-aligned, kept on one page; the right one
    starts at `right_x`."""

    def __init__(self, left: Flowable | None, right: Flowable, right_x: float) -> None:
        super().__init__()
        self.left, self.right, self.right_x = left, right, right_x

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        lh = self.left.wrap(self.right_x, available_height)[1] if self.left else 0
        rw, rh = self.right.wrap(available_width - self.right_x, available_height)
        self.width, self.height = self.right_x + rw, max(lh, rh)
        return self.width, self.height

    def draw(self) -> None:
        if self.left is not None:
            self.left.drawOn(self.canv, 0, self.height - self.left.height)
        self.right.drawOn(self.canv, self.right_x, self.height - self.right.height)


def _line(text: str, style: ParagraphStyle, width: float) -> Flowable | tuple[str, ParagraphStyle]:
    """One line of `text` in `style`, or a Paragraph when it needs more than one."""
    if "\n" not in text and text_width(text, style.fontName, style.fontSize) <= width:
        return text, style
    return paragraph(text, style)


@lru_cache(maxsize=16)
def _accent_styles(accent: str) -> tuple[ParagraphStyle, ParagraphStyle]:
    """The company-name and title styles in the accent colour `accent` (hex)."""
    st = _shared_styles()
    colour = colors.HexColor(accent)
    return (ParagraphStyle("company+accent", parent=st["company"], textColor=colour),
            ParagraphStyle("title+accent", parent=st["title"], textColor=colour))


def company_block(header: CompanyHeader, title: str, subtitle_lines: Sequence[str] = (),
                  warning: str | None = None, width: float | None = None,
                  accent: colors.Color = ACCENT) -> list[Flowable]:
    """Company name, address and tax id left; the document title right; a rule in the
    accent colour (the company's own on invoices)."""
    st = styles()
    width = width or CONTENT_WIDTH
    left_w, right_w = width * 0.6, width * 0.4
    company_style, title_style = (st["company"], st["title"]) if accent == ACCENT \
        else _accent_styles(accent.hexval())
    left: list[Flowable | tuple[str, ParagraphStyle]] = []
    if header.logo_png:
        logo = Image(io.BytesIO(header.logo_png))
        scale = min(40 * mm / logo.drawWidth, 16 * mm / logo.drawHeight, 1)
        logo.drawWidth, logo.drawHeight = logo.drawWidth * scale, logo.drawHeight * scale
        left.append(logo)
    left.append(_line(header.trade_name or header.legal_name, company_style, left_w))
    if header.trade_name and header.trade_name != header.legal_name:
        left.append(_line(header.legal_name, st["bold"], left_w))
    for line in header.address_lines:
        left.append(_line(line, st["base"], left_w))
    contact = "  ·  ".join(x for x in (header.phone, header.email) if x)
    if contact:
        left.append(_line(contact, st["small"], left_w))
    if header.tax_line:
        left.append(_line(header.tax_line, st["small"], left_w))
    right: list[Flowable | tuple[str, ParagraphStyle]] = [_line(title, title_style, right_w)]
    right += [_line(line, st["title_sub"], right_w) for line in subtitle_lines]
    if warning:
        right.append(_line(warning, st["warning"], right_w))
    return [SideBySide(TextStack(left), TextStack(right), left_w),
            HRFlowable(width="100%", thickness=1.5, color=accent, spaceBefore=6,
                       spaceAfter=8)]


def details_grid(pairs: Sequence[tuple[str, str]], width: float | None = None) -> Table:
    """Label/value pairs in two columns of pairs (employee block, customer block)."""
    st = styles()
    width = width or CONTENT_WIDTH
    cells = [[paragraph(label, st["label"]), paragraph(value or "-", st["value"])]
             for label, value in pairs]
    rows = []
    for i in range(0, len(cells), 2):
        right = cells[i + 1] if i + 1 < len(cells) else ["", ""]
        rows.append([*cells[i], *right])
    table = Table(rows, colWidths=[width * 0.2, width * 0.3, width * 0.2, width * 0.3])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
        ("BACKGROUND", (0, 0), (-1, -1), colors.white),
    ]))
    return table


def table_style(header_rows: int = 1, total_rows: int = 0,
                extra: Sequence[tuple[Any, ...]] = ()) -> TableStyle:
    """Accent header row, hairline rows, light totals rows at the bottom."""
    cmds: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), ACCENT),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.3, RULE),
        ("BOX", (0, 0), (-1, -1), 0.6, RULE),
    ]
    if total_rows:
        cmds.append(("BACKGROUND", (0, -total_rows), (-1, -1), ACCENT_LIGHT))
        cmds.append(("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.8, ACCENT))
    cmds.extend(extra)
    return TableStyle(cmds)


# --------------------------------------------------------------------------- pages


def numbered_canvas(footer_note: str) -> type[Canvas]:
    """A canvas class that writes `footer_note` and "Page x of y" on every page.

    First pass: each finished page's drawing state is kept instead of being
    emitted. On save the total is known, so each page gets its footer then.
    """

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # reportlab names it so
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._footer(number, total)
                super().showPage()
            super().save()

        def _footer(self, number: int, total: int) -> None:
            regular, _ = register_fonts()
            width = self._pagesize[0]
            self.saveState()
            self.setStrokeColor(RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, 12 * mm, width - MARGIN, 12 * mm)
            self.setFont(regular, 7.5)
            self.setFillColor(MUTED)
            draw_text(self, MARGIN, 8 * mm, footer_note, regular, 7.5)
            self.drawRightString(width - MARGIN, 8 * mm, f"Page {number} of {total}")
            self.restoreState()

    return NumberedCanvas


def build_pdf(story: Sequence[Flowable], *, title: str, author: str, subject: str,
              footer_note: str, keywords: str = "") -> bytes:
    """Lay out `story` on A4 pages and return the PDF bytes (same input, same bytes)."""
    register_fonts()
    out = io.BytesIO()
    doc = BaseDocTemplate(
        out, pagesize=PAGE_SIZE, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN,
        bottomMargin=BOTTOM_MARGIN, title=title, author=author, subject=subject,
        creator=CREATOR, producer=CREATOR, keywords=keywords, invariant=1, pageCompression=1)
    # No frame padding: blocks of CONTENT_WIDTH line up exactly with the margins.
    frame = Frame(MARGIN, BOTTOM_MARGIN, CONTENT_WIDTH, PAGE_SIZE[1] - MARGIN - BOTTOM_MARGIN,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    doc.build(list(story), canvasmaker=numbered_canvas(footer_note))
    return out.getvalue()
