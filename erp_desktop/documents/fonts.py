"""The fonts every PDF uses: DejaVu Sans (regular and bold), embedded.

reportlab's built-in Helvetica has no ₹ (and no Devanagari or most accents a
name can hold), so documents embed DejaVu Sans, shipped in
`erp_desktop/resources/fonts/` under its own licence. Registration happens
once per process and is safe to call from several worker threads.
"""

from __future__ import annotations

import threading
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

FONT_DIR = Path(__file__).resolve().parent.parent / "resources" / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
_FILES = {REGULAR: "DejaVuSans.ttf", BOLD: "DejaVuSans-Bold.ttf"}

_lock = threading.Lock()
_registered = False


def register_fonts() -> tuple[str, str]:
    """Register the embedded fonts (once); returns (regular, bold) font names."""
    global _registered
    with _lock:
        if not _registered:
            for name, file in _FILES.items():
                path = FONT_DIR / file
                if not path.is_file():
                    raise FileNotFoundError(f"the font file {path} is missing from the install")
                pdfmetrics.registerFont(TTFont(name, str(path)))
            # <b> inside a Paragraph picks the bold face.
            addMapping(REGULAR, 0, 0, REGULAR)
            addMapping(REGULAR, 1, 0, BOLD)
            addMapping(REGULAR, 0, 1, REGULAR)
            addMapping(REGULAR, 1, 1, BOLD)
            _registered = True
    return REGULAR, BOLD
