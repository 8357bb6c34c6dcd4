"""A guard against a PySide6 6.12.0 bug on CPython 3.11: `None` loses a reference per call.

(`True` and `False` were seen to run out too, at the end of a long benchmark:
they are guarded the same way.)

The PySide6 6.12.0 wheels (abi3, built for interpreters where `None` is
immortal) return `None` from every void Qt method without taking a
reference, so on CPython 3.11 each call such as `widget.show()`,
`label.setText()` or `QCoreApplication.processEvents()` leaves `None` one
reference short. After some thousands of calls its count reaches zero and
the interpreter aborts ("none_dealloc: deallocating None"). 6.11.x does not
do this, nor does any CPython from 3.12 on (where `None` is immortal).

The real fix is a PySide6 pin (`!=6.12.0`) or Python 3.12+. Until then
`guard_none_refcount` keeps `None`'s count far from zero: a timer gives back
the lost references whenever the count falls below a margin, by raising
CPython's reference count field of `None` directly (the first word of the
object on CPython 3.11). Holding a list of references instead would not do:
the list is freed when the interpreter exits, and its decrements would then
take `None` below zero. On any other PySide6 or Python it does nothing.
"""

from __future__ import annotations

import sys

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import QCoreApplication, QObject, QTimer

AFFECTED_PYSIDE = frozenset({"6.12.0"})
LOW_WATER = 2_000_000  # top up when None has fewer references than this
HIGH_WATER = 4_000_000  # ... back to this many
CHECK_MS = 200
_GUARDED = "erp_none_guard"


def affected(pyside: str = PYSIDE_VERSION, python: tuple[int, int] = sys.version_info[:2],
             implementation: str = sys.implementation.name) -> bool:
    return pyside in AFFECTED_PYSIDE and python < (3, 12) and implementation == "cpython"


SINGLETONS = (None, True, False, NotImplemented, Ellipsis)


def top_up() -> int:
    """Give the singletons references back up to `HIGH_WATER`; returns how many."""
    import ctypes  # (not at start-up: the first top-up runs on the timer)

    added = 0
    for obj in SINGLETONS:
        have = sys.getrefcount(obj)
        if have >= LOW_WATER:
            continue
        missing = HIGH_WATER - have
        # ob_refcnt is the first field of every object on CPython before 3.12.
        ctypes.c_ssize_t.from_address(id(obj)).value += missing
        added += missing
    return added


class _Keeper(QObject):
    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(top_up)
        self.timer.start()


def guard_none_refcount(app: QCoreApplication | None = None, *, now: bool = True) -> bool:
    """Install the guard on the running application when this build needs it.

    `now` False leaves the first top-up to the guard's timer (`CHECK_MS`): at
    start-up `None` has thousands of references to lose before then, and the
    window paints sooner."""
    if not affected():
        return False
    if now:
        top_up()
    target = app if app is not None else QCoreApplication.instance()
    # a property, not findChild(_Keeper): the first findChild by a Python class loads
    # shiboken's signature module, some 20 ms of start-up
    if target is not None and not target.property(_GUARDED):
        _Keeper(target)
        target.setProperty(_GUARDED, True)
    return True


# ---------------------------------------------------------------- garbage collection

GC_CHECK_MS = 100
_GC_ON_UI = "erp_gc_on_ui_thread"


class _UiThreadCollector(QObject):
    """Python's cyclic garbage collector, run by a timer on the UI thread only.

    Left automatic, a collection starts in whichever thread happens to allocate
    past the threshold: a worker reading rows can then free a cycle that holds
    a Qt object (a closed dialog and the lambdas its signals held), and the
    C++ object is deleted off the thread that owns it. PySide crashes on that
    ("Garbage-collecting" in the dump of a worker thread). Same thresholds as
    the automatic collector, checked every `GC_CHECK_MS` on the UI thread
    (what pyqtgraph's GarbageCollector does for the same reason)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        import gc

        self._gc = gc
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(GC_CHECK_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def check(self) -> None:
        gc = self._gc
        first, second, third = gc.get_count()
        if first > self.threshold[0]:
            gc.collect(0)
            if second > self.threshold[1]:
                gc.collect(1)
                if third > self.threshold[2]:
                    gc.collect(2)


def collect_garbage_on_ui_thread(app: QCoreApplication | None = None) -> bool:
    """Move Python's garbage collection to the UI thread (see `_UiThreadCollector`);
    once per application."""
    target = app if app is not None else QCoreApplication.instance()
    if target is None or target.property(_GC_ON_UI):
        return False
    _UiThreadCollector(target)
    target.setProperty(_GC_ON_UI, True)
    return True
