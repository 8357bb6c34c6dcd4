"""Words for the search index: what a product is found by, and how a query reads.

A shop counter types the start of any word of a product name ("bol m8" finds
"Hex bolt M8 x 40"), a SKU or a barcode. The index is an SQLite FTS5 table
whose tokenizer (unicode61, diacritics removed, case folded) keeps
`TOKEN_CHARS` inside words, so that a code like "HB-M8" or a size like "2.5"
is one word; `search_text` also gives it the parts of such words ("hb", "m8"),
so either is found. `fts_query` turns what was typed into an FTS5 expression
in which every word must begin some indexed word; the tokenizer reads index
and query alike, so the two always agree.
"""

from __future__ import annotations

import re

# Kept inside a word by the FTS5 tokenizer (HB-M8, 2.5, 1/2).
TOKEN_CHARS = "-./_"  # noqa: S105 (a character list, not a secret)
_SPLIT = str.maketrans({c: " " for c in TOKEN_CHARS})
_PIECES = re.compile(r"[^\W_]+(?:[-./_][^\W_]+)*", re.UNICODE)


def search_text(name: str, sku: str, barcode: str | None = None) -> str:
    """The text indexed for a product: name, SKU, barcode, and the parts of joined words."""
    text = f"{name} {sku} {barcode or ''}"
    return f"{text} {text.translate(_SPLIT)}" if any(c in text for c in TOKEN_CHARS) else text


def query_words(text: str | None) -> list[str]:
    """The words of a query as the index holds them (a word's punctuation drops off;
    o'brien gives two words), each once, case aside."""
    seen: dict[str, str] = {}
    for piece in _PIECES.findall(text or ""):
        seen.setdefault(piece.casefold(), piece)
    return list(seen.values())


def fts_query(text: str | None) -> str | None:
    """An FTS5 MATCH expression: every word of `text` as a quoted prefix, ANDed.

    Quotes are doubled, so nothing typed is read as FTS5 syntax (AND, NEAR, *).
    """
    words = query_words(text)
    if not words:
        return None
    return " AND ".join('"' + w.replace('"', '""') + '"*' for w in words)
