"""Crisp icons at any scale: the app's SVG line icons, drawn in the palette's colours.

The icons under `erp_desktop/resources/icons/` are 24×24 outline drawings in
one placeholder colour (#000000). `icon(name)` returns a `QIcon` whose engine
renders the SVG at exactly the size and device pixel ratio asked for (no
blurry scaled bitmaps on a 150 % screen) and swaps the placeholder for the
current palette's text colour when it paints, so the same icon reads on the
light and the dark palette and follows a theme switch without reloading.
Disabled icons take the palette's disabled text colour, selected ones the
highlighted text colour.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore
from PySide6.QtCore import QByteArray, QRect, QRectF, QSize
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QIconEngine, QPainter, QPalette, QPixmap

if TYPE_CHECKING:
    from PySide6.QtSvg import QSvgRenderer

# QtSvg is imported when the first icon is painted, and PySide's `Qt` namespace
# (`QtCore.Qt`) is not named before then: both are on the way to the login window.

ICON_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"
PLACEHOLDER = b"#000000"


@cache
def _svg(name: str) -> bytes:
    path = ICON_DIR / f"{name}.svg"
    return path.read_bytes()


def icon_names() -> list[str]:
    return sorted(p.stem for p in ICON_DIR.glob("*.svg"))


def _color_for(mode: QIcon.Mode, color: QColor | None) -> QColor:
    if color is not None and mode in (QIcon.Mode.Normal, QIcon.Mode.Active):
        return color
    palette = QGuiApplication.palette()
    if mode == QIcon.Mode.Disabled:
        return palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.WindowText)
    if mode == QIcon.Mode.Selected:
        return palette.color(QPalette.ColorRole.HighlightedText)
    return palette.color(QPalette.ColorRole.WindowText)


@cache
def _renderer(name: str, rgb: str) -> QSvgRenderer:
    from PySide6.QtSvg import QSvgRenderer

    return QSvgRenderer(QByteArray(_svg(name).replace(PLACEHOLDER, rgb.encode("ascii"))))


class SvgIconEngine(QIconEngine):
    """Renders one of the app's SVG icons at any size, coloured at paint time."""

    def __init__(self, name: str, color: QColor | None = None) -> None:
        super().__init__()
        _svg(name)  # fail early (FileNotFoundError) on a misspelt icon name
        self.name = name
        self.color = color

    def paint(self, painter: QPainter, rect: QRect, mode: QIcon.Mode,
              state: QIcon.State) -> None:
        rgb = _color_for(mode, self.color).name()
        side = min(rect.width(), rect.height())
        target = QRectF(rect.x() + (rect.width() - side) / 2,
                        rect.y() + (rect.height() - side) / 2, side, side)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        _renderer(self.name, rgb).render(painter, target)
        painter.restore()

    def pixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QPixmap:
        pixmap = QPixmap(size)
        pixmap.fill(QtCore.Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        self.paint(painter, QRect(0, 0, size.width(), size.height()), mode, state)
        painter.end()
        return pixmap

    def scaledPixmap(self, size: QSize, mode: QIcon.Mode, state: QIcon.State,
                     scale: float) -> QPixmap:
        # Drawn at the device's pixels, then labelled with its ratio: sharp on HiDPI.
        pixmap = self.pixmap(QSize(round(size.width() * scale), round(size.height() * scale)),
                             mode, state)
        pixmap.setDevicePixelRatio(scale)
        return pixmap

    def actualSize(self, size: QSize, mode: QIcon.Mode, state: QIcon.State) -> QSize:
        side = min(size.width(), size.height())
        return QSize(side, side)

    def clone(self) -> QIconEngine:
        return SvgIconEngine(self.name, self.color)

    def key(self) -> str:
        return "erp_desktop_svg"

    def isNull(self) -> bool:
        return False


def icon(name: str, color: QColor | str | None = None) -> QIcon:
    """The app icon `name` (see `icon_names()`), optionally in a fixed colour."""
    fixed = QColor(color) if isinstance(color, str) else color
    return QIcon(SvgIconEngine(name, fixed))
