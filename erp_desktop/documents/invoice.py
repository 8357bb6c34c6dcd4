"""Invoices, credit notes, quotes and payment receipts as PDF, from plain data.

Services hand over an `InvoiceDoc` (or a `ReceiptDoc`); nothing here reads the
database. The look is the document family of `documents.base` (the payslip's
header, fonts, table style and "Page x of y" footer), with the company's
accent colour and chosen fields (`InvoiceOptions`):

- A4 and US Letter: company header (logo, name, address, tax ids), the
  document title, number and dates; bill-to / ship-to / details block with the
  place of supply; the line table (HSN/SAC, quantity, unit, price, discount,
  tax and amount) whose header repeats on every page; the tax breakdown per
  rate and component beside the totals; the amount in words; the payment
  status; bank details, terms and the signature.
- An 80 mm thermal receipt for the counter: one long page, sized to fit.

Text goes through the embedded fonts (`documents.fonts`): DejaVu Sans for
₹ € £ $, Latin, Greek and Cyrillic, and the Noto Sans font of its script,
shaped, for names, addresses and descriptions in Indian scripts. Rendering
is deterministic (reportlab's invariant mode, no clock): the same document
renders to the same bytes. `render_invoices` writes many invoices into one
PDF, numbering the pages of each invoice on its own ("Page 2 of 3"), and
reports progress and honours cancel.

Performance: cells are plain strings with table-level fonts wherever the text
fits its column; a Paragraph (slow to lay out) is used only for text that must
wrap.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import HRFlowable

from erp_desktop.documents import base
from erp_desktop.documents.base import (
    ACCENT,
    MARGIN,
    RULE,
    CompanyHeader,
    SideBySide,
    amount_text,
    company_block,
    money_text,
    numbered_canvas,
    styles,
)
from erp_desktop.documents.fonts import (
    draw_text,
    markup,
    needs_shaping,
    paragraph,
    register_fonts,
    rich,
    text_width,
)

PAGE_SIZES = {"A4": A4, "LETTER": LETTER}
THERMAL_WIDTH = 80 * mm
THERMAL_MARGIN = 4 * mm
BOTTOM_MARGIN = 18 * mm
CELL_FONT_SIZE = 8
HEAD_FONT_SIZE = 7.5


@dataclass(frozen=True)
class InvoiceOptions:
    """What the company chose to print (from its settings)."""

    page_format: str = "A4"  # A4 | LETTER | THERMAL
    accent_colour: str = "#1F4E79"
    show_logo: bool = True
    show_hsn: bool = True
    show_discount: bool = True
    show_bank_details: bool = True
    show_signature: bool = True


@dataclass(frozen=True)
class PartyDoc:
    name: str
    address_lines: tuple[str, ...] = ()
    tax_ids: tuple[str, ...] = ()  # "GSTIN 27AAPFU0939F1ZV", "VAT DE123456789"
    contact: str | None = None


@dataclass(frozen=True)
class LineDoc:
    no: int
    description: str
    hsn_sac: str | None
    quantity: str  # already formatted ("2", "1.25")
    unit: str | None
    unit_price: Decimal
    discount: Decimal
    tax_rate: str  # "18%", "Exempt"
    tax: Decimal
    amount: Decimal  # the line's total including tax


@dataclass(frozen=True)
class TaxRowDoc:
    label: str  # "CGST", "IGST", "VAT", "Exempt"
    rate: str  # "9%"
    taxable: Decimal
    tax: Decimal


@dataclass(frozen=True)
class TotalDoc:
    label: str
    amount: Decimal
    strong: bool = False


@dataclass(frozen=True)
class InvoiceDoc:
    title: str  # TAX INVOICE, INVOICE, CREDIT NOTE, QUOTATION, DRAFT INVOICE
    number: str
    company: CompanyHeader
    customer: PartyDoc
    currency: str
    locale: str
    details: tuple[tuple[str, str], ...]  # (label, value): dates, place of supply ...
    lines: tuple[LineDoc, ...]
    tax_rows: tuple[TaxRowDoc, ...]
    totals: tuple[TotalDoc, ...]
    grand_total: Decimal
    amount_in_words: str
    ship_to: tuple[str, ...] = ()
    status: str | None = None  # "Paid", "Balance due ₹1,000.00 by 2 Dec 2026"
    status_warning: bool = False
    warning: str | None = None  # "DRAFT - not a tax invoice"
    notes: str | None = None
    terms: str | None = None
    bank_details: str | None = None
    signature_label: str = "Authorised signatory"
    footer_note: str = ""
    options: InvoiceOptions = field(default_factory=InvoiceOptions)
    subject: str = ""


@dataclass(frozen=True)
class ReceiptLineDoc:
    label: str  # the invoice number, or "Kept as credit"
    amount: Decimal


@dataclass(frozen=True)
class ReceiptDoc:
    number: str
    company: CompanyHeader
    customer: PartyDoc
    currency: str
    locale: str
    details: tuple[tuple[str, str], ...]  # date, method, reference
    lines: tuple[ReceiptLineDoc, ...]
    amount: Decimal
    amount_in_words: str
    footer_note: str = ""
    options: InvoiceOptions = field(default_factory=InvoiceOptions)


# --------------------------------------------------------------------------- text helpers


@lru_cache(maxsize=4096)
def _amt(amount: Decimal, currency: str, locale: str) -> str:
    return amount_text(amount, currency, locale)


@lru_cache(maxsize=1024)
def _money(amount: Decimal, currency: str, locale: str) -> str:
    return money_text(amount, currency, locale)


def _colour(hex_text: str) -> colors.Color:
    try:
        return colors.HexColor(hex_text)
    except (ValueError, TypeError):
        return ACCENT


def _tint(accent: colors.Color) -> colors.Color:
    """The light background that goes with an accent (the family's own for its accent)."""
    if accent == ACCENT:
        return base.ACCENT_LIGHT
    return colors.Color(*(c + (1 - c) * 0.9 for c in (accent.red, accent.green, accent.blue)))


def _fits(text: str, font: str, size: float, width: float) -> bool:
    return "\n" not in text and text_width(text, font, size) <= width


# --------------------------------------------------------------------------- A4 / Letter


@dataclass(frozen=True)
class _Cell:
    """One cell's text (lines split on \\n) and how it is set."""

    text: str
    font: str = "regular"  # regular | bold
    size: float = 9
    colour: colors.Color | None = None  # None: the row's colour
    align: str | None = None  # None: the column's alignment


CellValue = _Cell | Paragraph | str


class _Grid(Flowable):
    """A table of text drawn straight onto the canvas.

    platypus `Table` with `Paragraph` cells costs several times a plain
    drawString per cell; an invoice is mostly short one-line texts in fixed
    columns, so this grid measures rows from the line count (a Paragraph only
    where a text must wrap), draws backgrounds, rules and strings itself, and
    splits between rows at a page break repeating its header rows.
    """

    def __init__(self, rows: Sequence[Sequence[CellValue]], widths: Sequence[float], *,
                 aligns: Sequence[str] | None = None, head: int = 0,
                 head_bg: colors.Color | None = None, head_colour: colors.Color = colors.white,
                 font_size: float = CELL_FONT_SIZE, head_size: float = HEAD_FONT_SIZE,
                 stripes: colors.Color | None = None, rules: bool = True, box: bool = True,
                 vlines: Sequence[int] = (), pad_x: float = 4, pad_y: float = 2.5,
                 total_rows: int = 0, total_bg: colors.Color | None = None,
                 total_rule: colors.Color | None = None, total_size: float | None = None,
                 total_colour: colors.Color | None = None) -> None:
        super().__init__()
        self.rows = [list(r) for r in rows]
        self.widths = list(widths)
        self.aligns = list(aligns) if aligns else ["LEFT"] * len(widths)
        self.head, self.head_bg, self.head_colour = head, head_bg, head_colour
        self.font_size, self.head_size = font_size, head_size
        self.stripes, self.rules, self.box, self.vlines = stripes, rules, box, tuple(vlines)
        self.pad_x, self.pad_y = pad_x, pad_y
        self.total_rows, self.total_bg, self.total_rule = total_rows, total_bg, total_rule
        self.total_size, self.total_colour = total_size, total_colour
        self.heights: list[float] = []
        self.width = sum(self.widths)

    def _copy(self, rows: list[list[CellValue]], total_rows: int) -> _Grid:
        g = _Grid.__new__(_Grid)
        Flowable.__init__(g)
        # only the grid's own settings: reportlab's bookkeeping (canv, _postponed,
        # _frame ...) belongs to this piece, not to the pieces split from it
        g.__dict__.update({k: v for k, v in self.__dict__.items()
                           if not k.startswith("_") and k != "canv"})
        g.rows, g.total_rows, g.heights = rows, total_rows, []
        return g

    def _style(self, r: int) -> tuple[bool, float, colors.Color]:
        """(bold, size, colour) of row r."""
        if r < self.head:
            return True, self.head_size, self.head_colour
        if self.total_rows and r >= len(self.rows) - self.total_rows:
            return True, self.total_size or self.font_size, self.total_colour or base.TEXT
        return False, self.font_size, base.TEXT

    def _row_height(self, r: int) -> float:
        _bold, size, _c = self._style(r)
        h = 0.0
        for c, cell in enumerate(self.rows[r]):
            if isinstance(cell, Paragraph):
                h = max(h, cell.wrap(self.widths[c] - 2 * self.pad_x, 10_000)[1])
            else:
                s = cell.size if isinstance(cell, _Cell) else size
                text = cell.text if isinstance(cell, _Cell) else cell
                h = max(h, (text.count("\n") + 1) * s * 1.25)
        return h + 2 * self.pad_y

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        if not self.heights:
            self.heights = [self._row_height(r) for r in range(len(self.rows))]
        self.height = sum(self.heights)
        return self.width, self.height

    def split(self, available_width: float, available_height: float) -> list[Flowable]:
        self.wrap(available_width, available_height)
        if self.height <= available_height:
            return [self]
        used = sum(self.heights[:self.head])
        body_end = len(self.rows) - self.total_rows
        k = self.head
        while k < body_end and used + self.heights[k] <= available_height:
            used += self.heights[k]
            k += 1
        if k == self.head:
            return []  # not even one row fits: the whole grid moves on
        head = self.rows[:self.head]
        first = self._copy(head + self.rows[self.head:k], 0)
        rest = self._copy(head + self.rows[k:], self.total_rows)
        return [first, rest]

    def draw(self) -> None:
        regular, bold = register_fonts()
        canv = self.canv
        xs = [0.0]
        for w in self.widths:
            xs.append(xs[-1] + w)
        y = self.height
        n = len(self.rows)
        state: list[Any] = [None, None]  # the font and fill colour set last
        for r, row in enumerate(self.rows):
            h = self.heights[r]
            bottom = y - h
            is_total = self.total_rows and r >= n - self.total_rows
            bg = None
            if r < self.head:
                bg = self.head_bg
            elif is_total:
                bg = self.total_bg
            elif self.stripes is not None and (r - self.head) % 2 == 1:
                bg = self.stripes
            if bg is not None:
                canv.setFillColor(bg)
                state[1] = bg
                canv.rect(0, bottom, self.width, h, stroke=0, fill=1)
            row_bold, size, colour = self._style(r)
            for c, cell in enumerate(row):
                x0, w = xs[c], self.widths[c]
                if isinstance(cell, Paragraph):
                    cell.wrap(w - 2 * self.pad_x, 10_000)
                    cell.drawOn(canv, x0 + self.pad_x, y - self.pad_y - cell.height)
                    continue
                if isinstance(cell, _Cell):
                    text, s = cell.text, cell.size
                    font = bold if (cell.font == "bold" or row_bold) else regular
                    col = cell.colour or colour
                    align = cell.align or self.aligns[c]
                else:
                    text, s, col, align = cell, size, colour, self.aligns[c]
                    font = bold if row_bold else regular
                if not text:
                    continue
                if (font, s) != state[0]:  # only what changes: each call is PDF operators
                    canv.setFont(font, s)
                    state[0] = (font, s)
                if col is not state[1]:
                    canv.setFillColor(col)
                    state[1] = col
                base_y = y - self.pad_y - s * 0.95
                x = (x0 + w - self.pad_x if align == "RIGHT" else
                     x0 + w / 2 if align == "CENTER" else x0 + self.pad_x)
                for line in text.split("\n"):
                    draw_text(canv, x, base_y, line, font, s, align)
                    base_y -= s * 1.25
            if is_total and r == n - self.total_rows and self.total_rule is not None:
                canv.setStrokeColor(self.total_rule)
                canv.setLineWidth(0.8)
                canv.line(0, y, self.width, y)
            elif self.rules and r >= self.head and r < n - 1:
                canv.setStrokeColor(RULE)
                canv.setLineWidth(0.3)
                canv.line(0, bottom, self.width, bottom)
            y = bottom
        canv.setStrokeColor(RULE)
        if self.vlines:
            canv.setLineWidth(0.3)
            for c in self.vlines:
                canv.line(xs[c + 1], 0, xs[c + 1], self.height)
        if self.box:
            canv.setLineWidth(0.6)
            canv.rect(0, 0, self.width, self.height, stroke=1, fill=0)


def _fit(text: str, width: float, font_size: float = CELL_FONT_SIZE,
         bold: bool = False) -> CellValue:
    """The text as is when it fits its column, else a wrapping Paragraph."""
    regular, bold_font = register_fonts()
    font = bold_font if bold else regular
    if _fits(text, font, font_size, width):
        return text
    style = ParagraphStyle("inv_wrap", fontName=font, fontSize=font_size,
                           leading=font_size * 1.25, textColor=base.TEXT)
    return paragraph(text, style, line_breaks=True)


def _fit_cell(cell: _Cell, width: float) -> CellValue:
    regular, bold_font = register_fonts()
    font = bold_font if cell.font == "bold" else regular
    if _fits(cell.text, font, cell.size, width):
        return cell
    style = ParagraphStyle("inv_wrap", fontName=font, fontSize=cell.size,
                           leading=cell.size * 1.25, textColor=cell.colour or base.TEXT)
    return paragraph(cell.text, style, line_breaks=True)


def _cells_column(title: str, lines: Sequence[_Cell]) -> list[_Cell]:
    return [_Cell(title, size=7.5, colour=base.MUTED), *lines]


class _Columns(Flowable):
    """Independent columns side by side (each a one-column grid), top-aligned, with
    an optional box and rules between them: a tall cell in one column leaves the
    others alone."""

    def __init__(self, columns: Sequence[Flowable], widths: Sequence[float], *, box: bool,
                 rules: bool, pad_y: float) -> None:
        super().__init__()
        self.columns, self.widths = list(columns), list(widths)
        self.box, self.rules, self.pad_y = box, rules, pad_y

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        heights = [c.wrap(w, available_height)[1] for c, w in zip(self.columns, self.widths,
                                                                 strict=True)]
        self.width = sum(self.widths)
        self.height = max(heights) + 2 * self.pad_y
        return self.width, self.height

    def draw(self) -> None:
        x = 0.0
        canv = self.canv
        canv.setStrokeColor(RULE)
        for i, (c, w) in enumerate(zip(self.columns, self.widths, strict=True)):
            c.drawOn(canv, x, self.height - self.pad_y - c.height)
            x += w
            if self.rules and i < len(self.columns) - 1:
                canv.setLineWidth(0.3)
                canv.line(x, 0, x, self.height)
        if self.box:
            canv.setLineWidth(0.6)
            canv.rect(0, 0, self.width, self.height, stroke=1, fill=0)


def _columns_grid(columns: Sequence[Sequence[_Cell]], widths: Sequence[float],
                  pad_x: float = 5, *, box: bool = True, rules: bool = True,
                  pairs: Sequence[int] = ()) -> Flowable:
    """Columns of one-line cells. Columns listed in `pairs` are label columns laid
    out together with the column after them (label and value stay on one row)."""
    parts: list[Flowable] = []
    part_widths: list[float] = []
    i = 0
    while i < len(columns):
        if i in pairs:
            lw, vw = widths[i], widths[i + 1]
            rows = [["", _fit_cell(a, lw - pad_x - 2), _fit_cell(b, vw - pad_x)]
                    for a, b in zip(columns[i], columns[i + 1], strict=True)]
            parts.append(_Grid(rows, [pad_x, lw - pad_x, vw], rules=False, box=False, pad_x=0,
                               pad_y=1))
            part_widths.append(lw + vw)
            i += 2
            continue
        rows = [[_fit_cell(cell, widths[i] - 2 * pad_x)] for cell in columns[i]]
        parts.append(_Grid(rows, [widths[i]], rules=False, box=False, pad_x=pad_x, pad_y=1))
        part_widths.append(widths[i])
        i += 1
    return _Columns(parts, part_widths, box=box, rules=rules, pad_y=3 if box else 0)


def _party_lines(party: PartyDoc) -> list[_Cell]:
    out = [_Cell(party.name, "bold")]
    out += [_Cell(x) for x in party.address_lines]
    out += [_Cell(x) for x in party.tax_ids]
    if party.contact:
        out.append(_Cell(party.contact, size=7.5, colour=base.MUTED))
    return out


def _parties(doc: InvoiceDoc | ReceiptDoc, width: float, st: dict[str, ParagraphStyle],
             ship_to: Sequence[str] = ()) -> Flowable:
    """Bill to (and ship to) on the left; the document's details on the right."""
    regular, _bold = register_fonts()
    label_w = max([text_width(k, regular, 8) for k, _ in doc.details] or [0]) + 14
    detail_w = width * 0.42
    bill = _cells_column("BILL TO" if isinstance(doc, InvoiceDoc) else "RECEIVED FROM",
                         _party_lines(doc.customer))
    labels = [_Cell(k, size=8, colour=base.MUTED) for k, _ in doc.details]
    values = [_Cell(v, "bold") for _, v in doc.details]
    if ship_to:
        columns = [bill, _cells_column("SHIP TO", [_Cell(x) for x in ship_to]), labels, values]
        widths = [width * 0.31, width * 0.27, label_w, detail_w - label_w]
    else:
        columns = [bill, labels, values]
        widths = [width - detail_w, label_w, detail_w - label_w]
    return _columns_grid(columns, widths, pairs=(len(columns) - 2,))


def _line_columns(opts: InvoiceOptions) -> list[tuple[str, str, float, str]]:
    """(key, header, width in mm, alignment); the description takes what is left."""
    cols = [("no", "#", 7.0, "LEFT"), ("description", "Description", 0.0, "LEFT")]
    if opts.show_hsn:
        cols.append(("hsn", "HSN/SAC", 16.0, "LEFT"))
    cols += [("qty", "Qty", 13.0, "RIGHT"), ("unit", "Unit", 10.0, "LEFT"),
             ("price", "Price", 21.0, "RIGHT")]
    if opts.show_discount:
        cols.append(("discount", "Disc.", 17.0, "RIGHT"))
    cols += [("tax", "Tax", 20.0, "RIGHT"), ("amount", "Amount", 24.0, "RIGHT")]
    return cols


def _lines_table(doc: InvoiceDoc, width: float, accent: colors.Color) -> Flowable:
    cols = _line_columns(doc.options)
    fixed = sum(w for _, _, w, _ in cols) * mm
    widths = [w * mm if w else width - fixed for _, _, w, _ in cols]
    desc_room = widths[[k for k, *_ in cols].index("description")] - 8
    cur, loc = doc.currency, doc.locale
    rows: list[list[CellValue]] = [[h for _, h, _, _ in cols]]
    for ln in doc.lines:
        values: dict[str, CellValue] = {
            "no": str(ln.no),
            "description": _fit(ln.description, desc_room),
            "hsn": ln.hsn_sac or "",
            "qty": ln.quantity,
            "unit": ln.unit or "",
            "price": _amt(ln.unit_price, cur, loc),
            "discount": _amt(ln.discount, cur, loc) if ln.discount else "",
            "tax": f"{ln.tax_rate}\n{_amt(ln.tax, cur, loc)}" if ln.tax else ln.tax_rate,
            "amount": _amt(ln.amount, cur, loc),
        }
        rows.append([values[k] for k, *_ in cols])
    return _Grid(rows, widths, aligns=[a for *_, a in cols], head=1, head_bg=accent,
                 stripes=colors.HexColor("#F7F9FB"))


def _tax_table(doc: InvoiceDoc, width: float, accent: colors.Color) -> Flowable | None:
    if not doc.tax_rows:
        return None
    cur, loc = doc.currency, doc.locale
    rows: list[list[CellValue]] = [["Tax", "Rate", "Taxable value", "Tax amount"]]
    rows += [[r.label, r.rate, _amt(r.taxable, cur, loc), _amt(r.tax, cur, loc)]
             for r in doc.tax_rows]
    total_tax = sum((r.tax for r in doc.tax_rows), Decimal(0))
    rows.append(["Total tax", "", "", _amt(total_tax, cur, loc)])
    return _Grid(rows, [width * 0.3, width * 0.16, width * 0.28, width * 0.26],
                 aligns=["LEFT", "RIGHT", "RIGHT", "RIGHT"], head=1, head_bg=accent,
                 total_rows=1, total_bg=_tint(accent), total_rule=accent, pad_x=5, pad_y=3)


def _totals_table(doc: InvoiceDoc, width: float, accent: colors.Color) -> Flowable:
    cur, loc = doc.currency, doc.locale
    rows: list[list[CellValue]] = [
        [_Cell(t.label, "bold" if t.strong else "regular", 8.5),
         _Cell(_amt(t.amount, cur, loc), "bold" if t.strong else "regular", 8.5)]
        for t in doc.totals]
    rows.append(["Total", _money(doc.grand_total, cur, loc)])
    return _Grid(rows, [width * 0.55, width * 0.45], aligns=["LEFT", "RIGHT"], rules=False,
                 total_rows=1, total_bg=_tint(accent), total_rule=accent, total_size=11,
                 total_colour=accent, pad_x=5, pad_y=2.5)


def _summary(doc: InvoiceDoc, width: float, accent: colors.Color) -> Flowable:
    """Tax breakdown (left) beside the totals (right), kept on one page."""
    gap = 6 * mm
    left_w = width * 0.58 - gap
    right_w = width * 0.42
    tax = _tax_table(doc, left_w, accent)
    totals = _totals_table(doc, right_w, accent)
    return SideBySide(tax, totals, width - right_w)


def _footer_blocks(doc: InvoiceDoc, width: float, st: dict[str, ParagraphStyle],
                   accent: colors.Color) -> list[Flowable]:
    out: list[Flowable] = []
    regular, _bold = register_fonts()
    label = "Amount in words:"
    label_w = text_width(label, regular, 9) + 4
    words = _fit_cell(_Cell(doc.amount_in_words, "bold"), width - label_w)
    out.append(_Grid([[_Cell(label, colour=base.MUTED), words]], [label_w, width - label_w],
                     rules=False, box=False, pad_x=0, pad_y=0))
    if doc.status:
        out.append(Spacer(1, 2 * mm))
        status = _Cell(doc.status, "bold", colour=base.WARNING if doc.status_warning
                       else accent)
        out.append(_Grid([[_fit_cell(status, width)]], [width], rules=False, box=False,
                         pad_x=0, pad_y=0))
    if doc.notes:
        out.append(Spacer(1, 3 * mm))
        out.append(rich(f"<b>Notes:</b> {markup(doc.notes)}".replace("\n", "<br/>"),
                        st["base"]))
    opts = doc.options
    left: list[_Cell] = []
    if opts.show_bank_details and doc.bank_details:
        left += _cells_column("BANK DETAILS", [_Cell(x) for x in doc.bank_details.splitlines()])
    if doc.terms:
        if left:
            left.append(_Cell("", size=4))
        left += _cells_column("TERMS", [_Cell(x, size=7.5, colour=base.MUTED)
                                        for x in doc.terms.splitlines()])
    right: list[_Cell] = []
    if opts.show_signature:
        name = doc.company.trade_name or doc.company.legal_name
        right = [_Cell(f"For {name}", "bold", align="CENTER"), *[_Cell("", size=9)] * 3,
                 _Cell("_" * 30, colour=RULE, align="CENTER"),
                 _Cell(doc.signature_label, size=7.5, colour=base.MUTED, align="CENTER")]
    if left or right:
        out.append(Spacer(1, 3 * mm))
        out.append(KeepTogether([
            HRFlowable(width="100%", thickness=0.3, color=RULE, spaceAfter=4),
            _columns_grid([left or [_Cell("")], right or [_Cell("")]],
                          [width * 0.62, width * 0.38], pad_x=0, box=False, rules=False)]))
    return out


def invoice_story(doc: InvoiceDoc, width: float) -> list[Flowable]:
    """The flowables of one invoice on A4 or Letter (no page template)."""
    st = styles()
    accent = _colour(doc.options.accent_colour)
    header = doc.company if doc.options.show_logo else CompanyHeader(
        **{**doc.company.__dict__, "logo_png": None})
    story: list[Flowable] = company_block(header, doc.title, (doc.number,),
                                          warning=doc.warning, width=width, accent=accent)
    story.append(_parties(doc, width, st, doc.ship_to))
    story.append(Spacer(1, 4 * mm))
    story.append(_lines_table(doc, width, accent))
    story.append(Spacer(1, 4 * mm))
    story.append(CondPageBreak(40 * mm))
    story.append(_summary(doc, width, accent))
    story.append(Spacer(1, 3 * mm))
    story += _footer_blocks(doc, width, st, accent)
    return story


def receipt_story(doc: ReceiptDoc, width: float) -> list[Flowable]:
    """A payment receipt on A4 or Letter."""
    st = styles()
    accent = _colour(doc.options.accent_colour)
    header = doc.company if doc.options.show_logo else CompanyHeader(
        **{**doc.company.__dict__, "logo_png": None})
    story = company_block(header, "PAYMENT RECEIPT", (doc.number,), width=width, accent=accent)
    story.append(_parties(doc, width, st))
    story.append(Spacer(1, 4 * mm))
    rows: list[list[CellValue]] = [["Settles", "Amount"]]
    rows += [[ln.label, _amt(ln.amount, doc.currency, doc.locale)] for ln in doc.lines]
    rows.append(["Total received", _money(doc.amount, doc.currency, doc.locale)])
    table = _Grid(rows, [width * 0.7, width * 0.3], aligns=["LEFT", "RIGHT"], head=1,
                  head_bg=accent, font_size=9, head_size=8.5, total_rows=1,
                  total_bg=_tint(accent), total_rule=accent, total_size=10, pad_x=5, pad_y=3)
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    story.append(rich(f"Amount in words: <b>{markup(doc.amount_in_words, bold=True)}</b>",
                      st["base"]))
    return story


# --------------------------------------------------------------------------- thermal


def _table_text(text: str, style: ParagraphStyle) -> str | Paragraph:
    """A platypus Table cell: the plain string (drawn by the table in its font),
    or a Paragraph when it holds an Indian script (which needs shaping)."""
    if not needs_shaping(text):
        return text
    body = text.lstrip(" ")  # a Paragraph drops leading spaces: keep the indent
    return paragraph("\u00a0" * (len(text) - len(body)) + body, style)


def _thermal_story(doc: InvoiceDoc | ReceiptDoc, width: float) -> list[Flowable]:
    regular, bold = register_fonts()
    st = styles()
    small = ParagraphStyle("th_small", parent=st["base"], fontSize=7, leading=8.6,
                           alignment=TA_CENTER)
    centre = ParagraphStyle("th_centre", parent=st["base"], fontSize=7.5, leading=9.5,
                            alignment=TA_CENTER)
    name = ParagraphStyle("th_name", parent=st["bold"], fontSize=10, leading=12,
                          alignment=TA_CENTER)
    title = ParagraphStyle("th_title", parent=st["bold"], fontSize=8.5, leading=11,
                           alignment=TA_CENTER)
    body = ParagraphStyle("th_body", parent=st["base"], fontSize=7.5, leading=9.5)
    c = doc.company
    story: list[Flowable] = [paragraph(c.trade_name or c.legal_name, name)]
    story += [paragraph(x, small) for x in c.address_lines]
    if c.phone:
        story.append(paragraph(c.phone, small))
    if c.tax_line:
        story.append(paragraph(c.tax_line, small))
    rule = HRFlowable(width="100%", thickness=0.5, color=colors.black, dash=(1, 1),
                      spaceBefore=3, spaceAfter=3)
    story.append(rule)
    is_invoice = isinstance(doc, InvoiceDoc)
    story.append(paragraph(doc.title if is_invoice else "PAYMENT RECEIPT", title))
    story.append(paragraph(doc.number, centre))
    if is_invoice and doc.warning:
        story.append(paragraph(doc.warning, centre))
    cell = ParagraphStyle("th_cell", parent=st["base"], fontSize=7, leading=8.6)
    line_cell = ParagraphStyle("th_line", parent=st["base"], fontSize=7.5, leading=9.2)
    details = [[_table_text(k, cell), _table_text(v, cell)] for k, v in doc.details]
    details.insert(0, ["Customer", _table_text(doc.customer.name, cell)])
    details += [["", _table_text(t, cell)] for t in doc.customer.tax_ids]
    t = Table(details, colWidths=[width * 0.32, width * 0.68])
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), regular, 7, 8.6),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0),
                           ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                           ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                           ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5)]))
    story += [Spacer(1, 2), t, rule]
    cur, loc = doc.currency, doc.locale
    rows: list[list[Any]] = []
    cmds: list[tuple[Any, ...]] = [("FONT", (0, 0), (-1, -1), regular, 7.5, 9.2),
                                   ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                   ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                   ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                                   ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
                                   ("ALIGN", (1, 0), (1, -1), "RIGHT")]
    if is_invoice:
        for ln in doc.lines:
            desc = ln.description if _fits(ln.description, regular, 7.5, width) and \
                not needs_shaping(ln.description) else paragraph(ln.description, body)
            rows.append([desc, ""])
            cmds.append(("SPAN", (0, len(rows) - 1), (1, len(rows) - 1)))
            qty = f"  {ln.quantity} {ln.unit or ''} x {_amt(ln.unit_price, cur, loc)}"
            if ln.discount:
                qty += f"  less {_amt(ln.discount, cur, loc)}"
            qty += f"  ({ln.tax_rate})"
            rows.append([_table_text(qty, line_cell), _amt(ln.amount, cur, loc)])
        body_rows = len(rows)
        for tot in doc.totals:
            rows.append([_table_text(tot.label, line_cell), _amt(tot.amount, cur, loc)])
        rows.append(["TOTAL", _money(doc.grand_total, cur, loc)])
        cmds += [("LINEABOVE", (0, body_rows), (-1, body_rows), 0.5, colors.black),
                 ("FONT", (0, -1), (-1, -1), bold, 10, 13),
                 ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black)]
    else:
        for rl in doc.lines:
            rows.append([_table_text(rl.label, line_cell), _amt(rl.amount, cur, loc)])
        rows.append(["RECEIVED", _money(doc.amount, cur, loc)])
        cmds += [("FONT", (0, -1), (-1, -1), bold, 10, 13),
                 ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black)]
    lines = Table(rows, colWidths=[width * 0.66, width * 0.34])
    lines.setStyle(TableStyle(cmds))
    story.append(lines)
    if is_invoice and doc.tax_rows:
        story.append(rule)
        tax_rows = [["Tax", "Taxable", "Amount"]]
        tax_rows += [[f"{r.label} {r.rate}", _amt(r.taxable, cur, loc), _amt(r.tax, cur, loc)]
                     for r in doc.tax_rows]
        tt = Table(tax_rows, colWidths=[width * 0.36, width * 0.34, width * 0.30])
        tt.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), regular, 6.8, 8.4),
                                ("FONT", (0, 0), (-1, 0), bold, 6.8, 8.4),
                                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                                ("TOPPADDING", (0, 0), (-1, -1), 0.3),
                                ("BOTTOMPADDING", (0, 0), (-1, -1), 0.3)]))
        story.append(tt)
    story.append(rule)
    story.append(paragraph(doc.amount_in_words, small))
    if is_invoice and doc.status:
        story.append(rich(f"<b>{markup(doc.status, bold=True)}</b>", centre))
    story.append(Spacer(1, 3))
    story.append(Paragraph("Thank you for shopping with us!", centre))
    return story


def _thermal_pdf(doc: InvoiceDoc | ReceiptDoc, meta: dict[str, str]) -> bytes:
    register_fonts()
    width = THERMAL_WIDTH - 2 * THERMAL_MARGIN
    story = _thermal_story(doc, width)
    height = 0.0
    for f in story:  # a roll: the page is as long as what is printed on it
        _w, h = f.wrap(width, 10_000)
        height += h + f.getSpaceBefore() + f.getSpaceAfter()
    page = (THERMAL_WIDTH, height + 2 * THERMAL_MARGIN + 4 * mm)
    out = io.BytesIO()
    tpl = BaseDocTemplate(out, pagesize=page, leftMargin=THERMAL_MARGIN,
                          rightMargin=THERMAL_MARGIN, topMargin=THERMAL_MARGIN,
                          bottomMargin=THERMAL_MARGIN, invariant=1, pageCompression=1,
                          creator=base.CREATOR, producer=base.CREATOR, **meta)
    frame = Frame(THERMAL_MARGIN, THERMAL_MARGIN, width, page[1] - 2 * THERMAL_MARGIN,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="roll")
    tpl.addPageTemplates([PageTemplate(id="roll", frames=[frame])])
    tpl.build(_thermal_story(doc, width))  # fresh flowables: wrap() above measured a copy
    return out.getvalue()


# --------------------------------------------------------------------------- documents


def _template(out: io.BytesIO, page_format: str, meta: dict[str, str]) -> tuple[
        BaseDocTemplate, float]:
    size = PAGE_SIZES.get(page_format.upper(), A4)
    width = size[0] - 2 * MARGIN
    tpl = BaseDocTemplate(out, pagesize=size, leftMargin=MARGIN, rightMargin=MARGIN,
                          topMargin=MARGIN, bottomMargin=BOTTOM_MARGIN, invariant=1,
                          pageCompression=1, creator=base.CREATOR, producer=base.CREATOR,
                          **meta)
    frame = Frame(MARGIN, BOTTOM_MARGIN, width, size[1] - MARGIN - BOTTOM_MARGIN,
                  leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    tpl.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    return tpl, width


def _meta(doc: InvoiceDoc | ReceiptDoc, title: str, subject: str) -> dict[str, str]:
    return {"title": title, "author": doc.company.legal_name, "subject": subject,
            "keywords": doc.number}


def render_invoice(doc: InvoiceDoc) -> bytes:
    """One invoice (or credit note, quote) as PDF bytes; same input, same bytes."""
    meta = _meta(doc, f"{doc.title.title()} {doc.number}",
                 doc.subject or f"{doc.title.title()} {doc.number} to {doc.customer.name}")
    if doc.options.page_format.upper() == "THERMAL":
        return _thermal_pdf(doc, meta)
    out = io.BytesIO()
    tpl, width = _template(out, doc.options.page_format, meta)
    tpl.build(invoice_story(doc, width), canvasmaker=numbered_canvas(doc.footer_note))
    return out.getvalue()


def render_receipt(doc: ReceiptDoc) -> bytes:
    """A payment receipt as PDF bytes."""
    meta = _meta(doc, f"Payment receipt {doc.number}",
                 f"Payment receipt {doc.number} from {doc.customer.name}")
    if doc.options.page_format.upper() == "THERMAL":
        return _thermal_pdf(doc, meta)
    out = io.BytesIO()
    tpl, width = _template(out, doc.options.page_format, meta)
    tpl.build(receipt_story(doc, width), canvasmaker=numbered_canvas(doc.footer_note))
    return out.getvalue()


class Cancelled(Exception):
    """The person cancelled a batch; nothing was written."""


class _GroupStart(Flowable):
    """Where the next invoice starts: its pages are numbered on their own, and
    drawing it reports the progress of the invoice before (layout is the slow part)."""

    def __init__(self, done: int, total: int | None,
                 progress: Callable[[int, int], None] | None,
                 cancelled: Callable[[], bool] | None, *, last: bool = False) -> None:
        super().__init__()
        self.done, self.total, self.last = done, total, last
        self.progress, self.cancelled = progress, cancelled

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return (0, 0)

    def draw(self) -> None:
        if not self.last and self.cancelled is not None and self.cancelled():
            raise Cancelled("The batch was cancelled.")
        if not self.last:
            self.canv._group_starts.append(len(self.canv._pages))  # type: ignore[attr-defined]
        if self.progress is not None and self.done:
            self.progress(self.done, self.total if self.total is not None else self.done)


class _LazyStory(list):  # type: ignore[type-arg]
    """A story that pulls the next invoices' flowables only as layout reaches them.

    reportlab's build loop asks `len(story)` before every flowable; refilling
    there keeps a batch of thousands of invoices from sitting in memory as
    flowables all at once (the data classes stream in from the caller too).
    """

    def __init__(self, chunks: Iterable[list[Flowable]]) -> None:
        super().__init__()
        self._chunks = iter(chunks)
        self._exhausted = False

    def __len__(self) -> int:
        while not self._exhausted and super().__len__() < 32:
            try:
                self.extend(next(self._chunks))
            except StopIteration:
                self._exhausted = True
        return super().__len__()


def _grouped_canvas(footer_note: str) -> type[Canvas]:
    numbered = numbered_canvas(footer_note)

    class GroupedCanvas(numbered):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._group_starts: list[int] = []

        def save(self) -> None:
            pages = self._pages
            starts = sorted(set(self._group_starts)) or [0]
            if starts[0] != 0:
                starts.insert(0, 0)
            bounds = [*starts, len(pages)]
            for g in range(len(starts)):
                first, end = bounds[g], bounds[g + 1]
                for i in range(first, end):
                    self.__dict__.update(pages[i])
                    self._footer(i - first + 1, end - first)
                    Canvas.showPage(self)
            Canvas.save(self)

    return GroupedCanvas


def render_invoices(docs: Iterable[InvoiceDoc], *, page_format: str = "A4",
                    title: str = "Invoices", author: str = "", footer_note: str = "",
                    total: int | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    cancelled: Callable[[], bool] | None = None) -> bytes:
    """Many invoices in one PDF, each starting on a new page with its own page count.

    `docs` is consumed lazily, as layout reaches each invoice; `progress(done,
    total)` is called as each invoice is laid out and `cancelled()` before
    each, raising `Cancelled` (nothing is returned then). The thermal format
    is for single receipts; a batch is laid out on A4 or Letter.
    """
    fmt = "A4" if page_format.upper() == "THERMAL" else page_format
    out = io.BytesIO()
    tpl, width = _template(out, fmt, {"title": title, "author": author, "subject": title,
                                      "keywords": ""})
    done = 0

    def chunks() -> Iterable[list[Flowable]]:
        nonlocal done
        for doc in docs:
            if cancelled is not None and cancelled():
                raise Cancelled("The batch was cancelled.")
            chunk: list[Flowable] = [PageBreak()] if done else []
            chunk.append(_GroupStart(done, total, progress, cancelled))
            chunk += invoice_story(doc, width)
            done += 1
            yield chunk
        if done == 0:
            yield [Paragraph("No invoices match.", styles()["base"])]
        else:
            yield [_GroupStart(done, total, progress, None, last=True)]

    tpl.build(_LazyStory(chunks()), canvasmaker=_grouped_canvas(footer_note))
    return out.getvalue()


def quantity_text(qty: Decimal) -> str:
    """2.000 -> '2', 1.250 -> '1.25' (as typed, without trailing zeros)."""
    text = f"{qty.normalize():f}"
    return text


def date_text(day: date | None, locale: str) -> str:
    if day is None:
        return "-"
    from babel.dates import format_date

    return format_date(day, "d MMM y", locale=locale)
