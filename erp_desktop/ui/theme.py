"""Light and dark palettes that follow the operating system, on the Fusion style.

Fusion looks the same on Windows, macOS and Linux and honours a palette fully,
so one pair of palettes gives the app one look everywhere. `apply_theme`
picks light or dark from `QStyleHints.colorScheme()` (or as forced: "light",
"dark") and, when following the system, switches again when the person
changes the OS setting. A few semantic colours that palettes lack (an error
red, a success green, a card background) are in `Tones`, chosen per scheme so
that text on them keeps a readable contrast. Icons recolour themselves
(`ui.icons`), so nothing else has to repaint by hand.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from PySide6 import QtCore
from PySide6.QtCore import QObject
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

LIGHT = "light"
DARK = "dark"
SYSTEM = "system"
# an application property: True once the Fusion style is in use (make_application starts
# the QApplication with "-style Fusion")
FUSION_FROM_START = "erp_fusion"


@dataclass(frozen=True)
class Tones:
    """Colours the palette has no role for, per scheme (CSS colour strings)."""

    error: str
    success: str
    warning: str
    card: str  # a raised surface (dashboard cards, banners)
    card_border: str
    accent: str  # charts
    accent_2: str


LIGHT_TONES = Tones(error="#b3261e", success="#1b6e20", warning="#8a5a00", card="#ffffff",
                    card_border="#d9dce1", accent="#2f6fcf", accent_2="#e08a1e")
DARK_TONES = Tones(error="#ff8a80", success="#7bd88f", warning="#ffcc66", card="#262a30",
                   card_border="#3d434c", accent="#79a8ff", accent_2="#ffb25c")


def _palette(scheme: str) -> QPalette:
    p = QPalette()
    role, group = QPalette.ColorRole, QPalette.ColorGroup
    if scheme == DARK:
        colors = {
            # Fields and tables a shade lighter than the window: Fusion draws their
            # frames darker than the window, which alone would vanish on a dark one.
            role.Window: "#1e2126", role.WindowText: "#e6e8eb", role.Base: "#2a2e35",
            role.AlternateBase: "#30353c", role.ToolTipBase: "#2b2f36",
            role.ToolTipText: "#e6e8eb", role.PlaceholderText: "#8b929b", role.Text: "#e6e8eb",
            role.Button: "#30353d", role.ButtonText: "#e6e8eb", role.BrightText: "#ffffff",
            role.Light: "#3a3f47", role.Midlight: "#30353c", role.Mid: "#4a5059",
            role.Dark: "#121417", role.Shadow: "#000000", role.Highlight: "#3d6fb6",
            role.HighlightedText: "#ffffff", role.Link: "#79a8ff", role.LinkVisited: "#b392f0",
        }
        disabled = "#6b717a"
    else:
        colors = {
            role.Window: "#f3f4f6", role.WindowText: "#1d2025", role.Base: "#ffffff",
            role.AlternateBase: "#f6f7f9", role.ToolTipBase: "#ffffff",
            role.ToolTipText: "#1d2025", role.PlaceholderText: "#6b717a", role.Text: "#1d2025",
            role.Button: "#f7f8fa", role.ButtonText: "#1d2025", role.BrightText: "#ffffff",
            role.Light: "#ffffff", role.Midlight: "#e9ebef", role.Mid: "#c3c8cf",
            role.Dark: "#9aa1ab", role.Shadow: "#5f6670", role.Highlight: "#2f6fcf",
            role.HighlightedText: "#ffffff", role.Link: "#2457a6", role.LinkVisited: "#6b3fa0",
        }
        disabled = "#9aa1ab"
    for r, c in colors.items():
        p.setColor(r, QColor(c))
    for r in (role.WindowText, role.Text, role.ButtonText, role.PlaceholderText):
        p.setColor(group.Disabled, r, QColor(disabled))
    p.setColor(group.Disabled, role.Highlight, QColor(colors[role.Mid]))
    return p


def system_scheme() -> str:
    """The OS's light or dark setting, as Qt reports it (light when it does not know)."""
    return _qt_scheme() or LIGHT


def _qt_scheme() -> str | None:
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme == QtCore.Qt.ColorScheme.Unknown:
        return None
    return DARK if scheme == QtCore.Qt.ColorScheme.Dark else LIGHT


def _windows_apps_use_light_theme() -> bool | None:
    """Windows' "app mode" setting (Settings → Personalisation → Colours), read where Qt
    reads it; None when it cannot be read."""
    import winreg  # type: ignore[import-not-found,unused-ignore]

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows"
                            r"\CurrentVersion\Themes\Personalize") as key:
            value, _kind = winreg.QueryValueEx(key, "AppsUseLightTheme")
    except OSError:
        return None
    return bool(value)


def quick_system_scheme(app: QGuiApplication, platform: str = sys.platform,
                        windows_light: Callable[[], bool | None] = _windows_apps_use_light_theme
                        ) -> str:
    """A guess at the OS's scheme for the first paint, without `system_scheme()`: its
    answer is an enum of PySide's `Qt` namespace, whose first use builds all of that
    namespace's enums (~20 ms, a sixth of a bare window's start). On Windows the
    registry value Qt itself reads; elsewhere the platform's own palette, which
    follows the OS setting on macOS (dark window colour in dark mode). Call it before
    the app's palette is set. `confirm_theme` checks the guess once the window is up."""
    if platform == "win32":
        light = windows_light()
        if light is not None:
            return LIGHT if light else DARK
    window = app.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT


class _Follower(QObject):
    """Re-applies the palette when the OS switches between light and dark."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.app = app
        app.styleHints().colorSchemeChanged.connect(self._changed)

    def _changed(self, _scheme: object) -> None:
        if self.app.property("erp_theme_mode") == SYSTEM:
            _apply(self.app, system_scheme())


def _apply(app: QApplication, scheme: str) -> None:
    app.setPalette(_palette(scheme))
    app.setProperty("erp_theme", scheme)


def apply_theme(app: QApplication, mode: str = SYSTEM) -> str:
    """Fusion plus the light or dark palette; returns the scheme now in use."""
    if mode not in (SYSTEM, LIGHT, DARK):
        raise ValueError(f"unknown theme {mode!r}")
    if not app.property(FUSION_FROM_START):  # (not app.style(): see ui.main.make_application)
        app.setStyle("Fusion")
        app.setProperty(FUSION_FROM_START, True)
    app.setProperty("erp_theme_mode", mode)
    if mode != SYSTEM:
        scheme = mode
    elif app.property("erp_theme") is None:  # the first time: the platform's palette
        scheme = quick_system_scheme(app)     # is still in place
    else:
        scheme = system_scheme()
    _apply(app, scheme)
    if not app.property("erp_theme_follows"):  # not findChild: see ui.qt_compat
        _Follower(app)
        app.setProperty("erp_theme_follows", True)
    return scheme


def confirm_theme() -> None:
    """Once the first window is painted: when following the OS, check the quick guess
    (`quick_system_scheme`) against Qt's own answer, when Qt knows, and switch if they
    differ."""
    app = QApplication.instance()
    if isinstance(app, QApplication) and app.property("erp_theme_mode") == SYSTEM:
        scheme = _qt_scheme()
        if scheme is not None and scheme != app.property("erp_theme"):
            _apply(app, scheme)


def current_scheme() -> str:
    app = QApplication.instance()
    value = app.property("erp_theme") if app is not None else None
    return value if value in (LIGHT, DARK) else LIGHT


def tones() -> Tones:
    """The semantic colours of the scheme in use."""
    return DARK_TONES if current_scheme() == DARK else LIGHT_TONES
