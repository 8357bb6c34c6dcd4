"""The fonts every PDF uses, and how text in Indian scripts reaches them.

Latin, Greek, Cyrillic and ₹ € £ $ print in DejaVu Sans (regular and bold).
DejaVu has no Indian scripts, so names and addresses in Devanagari, Bengali,
Gurmukhi, Gujarati, Tamil, Telugu, Kannada and Malayalam print in the Noto
Sans font of their script. All of them are shipped in
`erp_desktop/resources/fonts/` under their own licences and embedded (as
subsets) in the PDF, so a document prints the same on every machine.

Indian scripts need shaping (conjuncts, half forms, reordered and stacked
vowel signs): reportlab does it with HarfBuzz (`uharfbuzz`) for a TTFont when
a paragraph style has `shaping=1` or when a `ShapedStr` from `shapeStr` is
drawn. Only text that holds an Indian-script character takes that path:
everything else renders exactly as before, byte for byte.

- `markup(text)` splits a text into runs by script and returns Paragraph
  markup with `<font name="…">` around the runs DejaVu cannot print;
  `paragraph(text, style)` / `rich(markup, style)` build the Paragraph, with
  shaping switched on only when it is needed.
- `draw_text(canvas, x, y, text, font, size)` and `text_width(...)` do the
  same for code that draws strings on the canvas itself.

Registration happens once per process (the Indian fonts on first use) and is
safe to call from several worker threads. Two things reportlab does not do
on its own are done here: glyphs without a character get their private-use
characters up front (so the bytes do not depend on what was printed before),
and a word mixing scripts ("USB-केबल") is shaped one font at a time.
See docs/decisions/0021-indic-scripts-in-pdfs.md.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from reportlab.lib.fonts import addMapping, ps2tt
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import ShapedStr, TTFont, makeShapedFragWord, shapeStr
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph
from reportlab.platypus import paragraph as rl_paragraph

FONT_DIR = Path(__file__).resolve().parent.parent / "resources" / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}

# The Noto Sans family that prints each Indian script, and the Unicode blocks it covers.
SCRIPT_FONTS: dict[str, tuple[tuple[int, int], ...]] = {
    "NotoSansDevanagari": ((0x0900, 0x097F), (0x1CD0, 0x1CFF), (0xA8E0, 0xA8FF)),
    "NotoSansBengali": ((0x0980, 0x09FF),),
    "NotoSansGurmukhi": ((0x0A00, 0x0A7F),),
    "NotoSansGujarati": ((0x0A80, 0x0AFF),),
    "NotoSansTamil": ((0x0B80, 0x0BFF),),
    "NotoSansTelugu": ((0x0C00, 0x0C7F),),
    "NotoSansKannada": ((0x0C80, 0x0CFF),),
    "NotoSansMalayalam": ((0x0D00, 0x0D7F),),
}
_DEVANAGARI = "NotoSansDevanagari"
# The danda and double danda (full stops) are shared by most Indian scripts.
_DANDAS = frozenset({0x0964, 0x0965})
_RANGES = sorted((lo, hi, family) for family, blocks in SCRIPT_FONTS.items()
                 for lo, hi in blocks)
_STARTS = [lo for lo, _hi, _f in _RANGES]
_LOW, _HIGH = _RANGES[0][0], _RANGES[-1][1]
_TOKENS = re.compile(r"\s+|\S+")

_log = logging.getLogger(__name__)
_lock = threading.Lock()
_registered = False
_families: set[str] = set()  # the Indian-script families registered so far
_shaped_faces: frozenset[str] = frozenset()  # font names that are shaped (the Noto faces)


# --------------------------------------------------------------------------- registration


def register_fonts() -> tuple[str, str]:
    """Register the embedded fonts (once); returns (regular, bold) font names."""
    global _registered
    if _registered:
        return REGULAR, BOLD
    with _lock:
        if not _registered:
            for name, file in _FILES.items():
                pdfmetrics.registerFont(TTFont(name, str(_font_path(file))))
            # <b> inside a Paragraph picks the bold face.
            _map_family(REGULAR, BOLD)
            if ttfonts.uharfbuzz is not None:
                rl_paragraph.shapeFragWord = _shape_per_font  # type: ignore[attr-defined]
            _registered = True
    return REGULAR, BOLD


def _font_path(file: str) -> Path:
    path = FONT_DIR / file
    if not path.is_file():
        raise FileNotFoundError(f"the font file {path} is missing from the install")
    return path


def _map_family(regular: str, bold: str) -> None:
    addMapping(regular, 0, 0, regular)
    addMapping(regular, 1, 0, bold)
    addMapping(regular, 0, 1, regular)
    addMapping(regular, 1, 1, bold)


def _register_family(family: str) -> None:
    """Register an Indian-script family (regular and bold) on first use."""
    global _shaped_faces
    if family in _families:
        return
    register_fonts()
    with _lock:
        if family in _families:
            return
        if ttfonts.uharfbuzz is None:
            _log.warning("uharfbuzz is not installed: text in %s prints unshaped "
                         "(conjuncts and vowel signs wrong)", family)
        names = (family, f"{family}-Bold")
        for name, weight in zip(names, ("Regular", "Bold"), strict=True):
            font = TTFont(name, str(_font_path(f"{family}-{weight}.ttf")))
            _prepare_for_shaping(font)
            pdfmetrics.registerFont(font)
        _map_family(*names)
        _shaped_faces = _shaped_faces | set(names)
        _families.add(family)


def _prepare_for_shaping(font: TTFont) -> None:
    """Give every glyph without a character of its own (conjuncts, half forms,
    vowel-sign variants) a private-use character now, in glyph order.

    reportlab hands such glyphs private-use characters as shaping first meets
    them; doing it up front makes the characters, and so the PDF's bytes, the
    same whatever was printed before in the process, and means shaping never
    changes the font's tables afterwards (worker threads share the font).
    """
    if ttfonts.uharfbuzz is None:
        return
    font.hbFont(10)  # creates the HarfBuzz face and reportlab's private-use table
    face = font.face
    for gid, (advance, _lsb) in enumerate(face.hmetrics):
        if gid not in face.glyphToChar:
            font.hbAddPrivate(f"gid{gid}", gid, font.pdfScale(advance))


def face_for(family: str | None, bold: bool = False) -> str:
    """The registered font name of `family` (None: DejaVu Sans) in the weight asked."""
    if family is None:
        register_fonts()
        return BOLD if bold else REGULAR
    _register_family(family)
    return f"{family}-Bold" if bold else family


def _is_bold(font_name: str) -> bool:
    try:
        return bool(ps2tt(font_name)[1])
    except ValueError:  # a font registered without a family mapping
        return font_name.endswith("-Bold")


# --------------------------------------------------------------------------- runs


def _family_of(code: int) -> str | None:
    if code < _LOW or code > _HIGH:
        return None
    i = bisect_right(_STARTS, code) - 1
    if i >= 0 and code <= _RANGES[i][1]:
        return _RANGES[i][2]
    return None


_LOW_CHR = chr(_LOW)


def needs_shaping(text: str) -> bool:
    """True when `text` holds a character of an Indian script."""
    # Most text has none and every character below the first script: `max` answers that
    # in C (called for every string an invoice draws).
    if not text or max(text) < _LOW_CHR:
        return False
    return any(_LOW <= ord(ch) <= _HIGH and _family_of(ord(ch)) for ch in text)


@lru_cache(maxsize=8)
def _cmap(family: str) -> frozenset[int]:
    """The characters the regular face of `family` has a glyph for (its real cmap)."""
    _register_family(family)
    font = pdfmetrics.getFont(family)
    return frozenset(c for c in font.face.charToGlyph if not 0xE000 <= c <= 0xF8FF)


def _strong(ch: str) -> str | bool | None:
    """A character's own font: a Noto family (Indian script), None (DejaVu: other
    letters) or False (neutral: punctuation, digits, symbols, signs, dandas)."""
    code = ord(ch)
    family = _family_of(code)
    if family is not None:
        return False if code in _DANDAS else family
    return None if unicodedata.category(ch)[0] == "L" else False


def _word_families(word: str, kinds: list[str | bool | None],
                   context: str | None) -> list[str | None]:
    """The family of each character of one word (no white space in it).

    Letters and signs of an Indian script take their script's font; other
    letters (Latin, Greek, Cyrillic ...) DejaVu. Punctuation, digits and
    symbols go with the script before them in the word (else the one after
    it, else `context`, the script of the words around) when its font has
    them, so that "(श्री)" or "गणेश," is one run in one font, as shaping needs.
    """
    out: list[str | None] = []
    last: str | bool | None = False
    for i, (ch, kind) in enumerate(zip(word, kinds, strict=True)):
        if kind is not False:
            out.append(kind)  # type: ignore[arg-type]
            last = kind
            continue
        near = last
        if near is False:
            near = next((k for k in kinds[i + 1:] if k is not False), context)
        code = ord(ch)
        if isinstance(near, str) and code in _cmap(near):
            out.append(near)
        elif code in _DANDAS:
            out.append(_DEVANAGARI)
        else:
            out.append(None)
    return out


def script_runs(text: str) -> list[tuple[str | None, str]]:
    """`text` cut into runs of one font each: (Noto family or None for DejaVu, text).

    Text without an Indian-script character is one DejaVu run. A word of
    digits or punctuation alone, and the white space between two words of
    one script, go with the script of the words around them.
    """
    if not needs_shaping(text):
        return [(None, text)]
    tokens = [m.group(0) for m in _TOKENS.finditer(text)]
    kinds = [[_strong(ch) for ch in t] for t in tokens]
    firsts = [next((k for k in ks if k is not False), False) for ks in kinds]
    lasts = [next((k for k in reversed(ks) if k is not False), False) for ks in kinds]
    families: list[list[str | None]] = []
    for k, t in enumerate(tokens):
        if t[0].isspace():
            families.append([None] * len(t))
            continue
        # the script of the nearest word before with letters, else of the one after
        context = next((x for x in reversed(lasts[:k]) if x is not False),
                       next((x for x in firsts[k + 1:] if x is not False), None))
        families.append(_word_families(t, kinds[k], context))  # type: ignore[arg-type]
    for k, t in enumerate(tokens):
        if t[0].isspace() and 0 < k < len(tokens) - 1:
            before, after = families[k - 1][-1], families[k + 1][0]
            if before is not None and before == after and all(
                    ord(ch) in _cmap(before) for ch in t):
                families[k] = [before] * len(t)
    runs: list[tuple[str | None, str]] = []
    for t, fams in zip(tokens, families, strict=True):
        for ch, fam in zip(t, fams, strict=True):
            if runs and runs[-1][0] == fam:
                runs[-1] = (fam, runs[-1][1] + ch)
            else:
                runs.append((fam, ch))
    return runs


# --------------------------------------------------------------------------- paragraphs


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markup(text: object, *, bold: bool = False) -> str:
    """Paragraph markup for plain `text`: &, < and > made literal, and each run
    that DejaVu cannot print inside `<font name="…">` of the font that can.

    `bold` picks the bold faces (a `<font name>` sets the weight itself, so
    inside a bold style or `<b>` pass bold=True). Text without an Indian
    script comes back exactly as `documents.base.escape` gives it.
    """
    plain = str(text if text is not None else "")
    runs = script_runs(plain)
    if len(runs) == 1 and runs[0][0] is None:
        return _escape(plain)
    return "".join(_escape(part) if family is None
                   else f'<font name="{face_for(family, bold)}">{_escape(part)}</font>'
                   for family, part in runs)


def shaping_style(style: ParagraphStyle) -> ParagraphStyle:
    """`style` with HarfBuzz shaping switched on (for text in Indian scripts)."""
    if getattr(style, "shaping", 0):
        return style
    return ParagraphStyle(f"{style.name}+shaping", parent=style, shaping=1)


def rich(text: str, style: ParagraphStyle) -> Paragraph:
    """A Paragraph of ready `text` markup (built with `markup`), shaped when it
    holds an Indian script."""
    register_fonts()
    return Paragraph(text, shaping_style(style) if needs_shaping(text) else style)


def paragraph(text: object, style: ParagraphStyle, *, line_breaks: bool = False) -> Paragraph:
    """A Paragraph of plain `text` in `style`, each script in a font that has it.

    `line_breaks` keeps the text's line breaks (else they are spaces, as
    Paragraph takes them).
    """
    body = markup(text, bold=_is_bold(style.fontName))
    if line_breaks:
        body = body.replace("\n", "<br/>")
    return rich(body, style)


def _shape_per_font(word: list[Any], *args: Any, **kwargs: Any) -> list[Any]:
    """reportlab's `shapeFragWord`, one font at a time, and only for the Noto faces.

    reportlab shapes a whole word (the text between two spaces) with the font
    of its first piece, so "USB-केबल" would come out as boxes; here each run of
    one font is shaped on its own and Latin runs are left as they are (DejaVu
    text prints exactly as it does outside a shaped paragraph).
    """
    if isinstance(word, ttfonts.ShapedFragWord):
        return word
    items = word[1:]
    if any(hasattr(f, "cbDefn") for f, _t in items) or not items:
        return _SHAPE(word, *args, **kwargs) if items and \
            items[0][0].fontName in _shaped_faces else word
    groups: list[list[Any]] = []
    for item in items:
        if groups and groups[-1][0][0].fontName == item[0].fontName:
            groups[-1].append(item)
        else:
            groups.append([item])
    if len(groups) == 1:
        return _SHAPE(word, *args, **kwargs) if items[0][0].fontName in _shaped_faces \
            else word
    width = 0.0
    pieces: list[Any] = []
    changed = False
    for group in groups:
        font = group[0][0]
        sub = [sum(pdfmetrics.stringWidth(t, f.fontName, f.fontSize) for f, t in group),
               *group]
        if font.fontName in _shaped_faces:
            shaped = _SHAPE(sub, *args, **kwargs)
            changed = changed or shaped is not sub
            sub = shaped
        width += sub[0]
        pieces.extend(sub[1:])
    if not changed:
        return word
    return makeShapedFragWord(word)([width, *pieces])  # type: ignore[no-any-return]


_SHAPE: Callable[..., list[Any]] = ttfonts.shapeFragWord


# --------------------------------------------------------------------------- canvas


def _shaped_runs(text: str, font: str, size: float) -> list[tuple[str, str, float]]:
    """(font name, text to draw, width) per run of `text` set in `font`."""
    bold = _is_bold(font)
    out: list[tuple[str, str, float]] = []
    for family, part in script_runs(text):
        if family is None:
            out.append((font, part, pdfmetrics.stringWidth(part, font, size)))
            continue
        name = face_for(family, bold)
        shaped = shapeStr(part, name, size)
        if isinstance(shaped, ShapedStr):
            width = sum(sd.x_advance for sd in shaped.__shapeData__) * size / 1000
        else:
            width = pdfmetrics.stringWidth(shaped, name, size)
        out.append((name, shaped, width))
    return out


def text_width(text: str, font: str, size: float) -> float:
    """The printed width of `text` in `font` at `size`, Indian scripts shaped."""
    if not needs_shaping(text):
        return pdfmetrics.stringWidth(text, font, size)
    return sum(w for _f, _t, w in _shaped_runs(text, font, size))


def draw_text(canv: Canvas, x: float, y: float, text: str, font: str, size: float,
              align: str = "LEFT") -> None:
    """Draw one line of `text` as `canvas.drawString` (LEFT: from x; RIGHT: ending
    at x; CENTER: centred on x) would, each script in a font that has it.

    The canvas's font must be `font` at `size` already; it is again afterwards.
    Text without an Indian script is drawn by the canvas as it always was.
    """
    if not needs_shaping(text):
        if align == "RIGHT":
            canv.drawRightString(x, y, text)
        elif align == "CENTER":
            canv.drawCentredString(x, y, text)
        else:
            canv.drawString(x, y, text)
        return
    runs = _shaped_runs(text, font, size)
    total = sum(w for _f, _t, w in runs)
    if align == "RIGHT":
        x -= total
    elif align == "CENTER":
        x -= total / 2
    for name, part, width in runs:
        canv.setFont(name, size)
        canv.drawString(x, y, part)
        x += width
    canv.setFont(font, size)
