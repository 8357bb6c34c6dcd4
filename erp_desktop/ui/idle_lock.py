"""Auto-lock: after so many minutes without a key press or a click, back to the login window.

`IdleWatcher` is an event filter on the whole application: every key press,
mouse press, wheel turn, mouse move or touch marks the moment of the last
activity (a plain timestamp: mouse moves come by the hundred, so nothing
heavier happens per event). A timer looks a few times per period; once the
app has been idle for the limit, `idle` is emitted and the app controller
logs out, which closes the company (its key leaves memory with the context)
and shows the login window. Long work with a progress dialog (a backup)
holds the lock off until it ends (`ui.progress.busy_work`).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QTimer, Signal

ACTIVITY = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate,
    QEvent.Type.TabletPress, QEvent.Type.Shortcut,
})


class IdleWatcher(QObject):
    """Emits `idle` once the app has had no input for `limit_ms` (see module docstring)."""

    idle = Signal()

    def __init__(self, limit_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if limit_ms <= 0:
            raise ValueError("limit_ms must be positive")
        self.limit_ms = limit_ms
        self._last = time.monotonic()
        self._timer = QTimer(self)
        # Look four times per period (at least every 30 s): the lock comes at most a
        # quarter period late, and an idle app wakes up rarely.
        self._timer.setInterval(max(10, min(limit_ms // 4, 30_000)))
        self._timer.timeout.connect(self._check)
        self._installed = False

    @classmethod
    def for_minutes(cls, minutes: float, parent: QObject | None = None) -> IdleWatcher:
        return cls(int(minutes * 60_000), parent)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def start(self) -> None:
        app = QCoreApplication.instance()
        if app is not None and not self._installed:
            app.installEventFilter(self)
            self._installed = True
        self.poke()
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        app = QCoreApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
            self._installed = False

    def poke(self) -> None:
        """Count as activity now."""
        self._last = time.monotonic()

    def idle_ms(self) -> int:
        return int((time.monotonic() - self._last) * 1000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in ACTIVITY:
            self._last = time.monotonic()
        return False

    def _check(self) -> None:
        from erp_desktop.ui.progress import busy_work

        if busy_work():
            self.poke()  # a backup or an export is running: never cut it short
            return
        if self.idle_ms() >= self.limit_ms:
            self.stop()
            self.idle.emit()
