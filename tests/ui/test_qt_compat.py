"""The guard against PySide6 6.12.0's lost references on CPython 3.11 (ui.qt_compat)."""

from __future__ import annotations

import sys

import pytest

from erp_desktop.ui import qt_compat

pytestmark = pytest.mark.ui


def test_only_the_affected_builds_are_guarded():
    assert qt_compat.affected("6.12.0", (3, 11), "cpython")
    assert not qt_compat.affected("6.11.3", (3, 11), "cpython")
    assert not qt_compat.affected("6.12.0", (3, 12), "cpython")
    assert not qt_compat.affected("6.12.0", (3, 11), "pypy")


@pytest.mark.skipif(not qt_compat.affected(), reason="this PySide6 and Python need no guard")
def test_none_keeps_plenty_of_references_after_many_void_calls(qapp):
    qt_compat.guard_none_refcount(qapp)
    for _ in range(50_000):
        qapp.processEvents()  # each call loses a reference to None on the affected build
    qt_compat.top_up()
    for obj in qt_compat.SINGLETONS:
        assert sys.getrefcount(obj) >= qt_compat.LOW_WATER


def test_garbage_is_collected_on_the_ui_thread_only(qtbot, qapp):
    import gc
    import threading
    import weakref

    qt_compat.collect_garbage_on_ui_thread(qapp)
    assert not gc.isenabled()  # no collection can start in a worker thread
    collected_in: list[str] = []

    class Cycle:
        def __del__(self) -> None:
            collected_in.append(threading.current_thread().name)

    def make_garbage() -> weakref.ref:
        a, b = Cycle(), Cycle()
        a.other, b.other = b, a
        return weakref.ref(a)

    ref = make_garbage()
    worker = threading.Thread(target=lambda: [[i] for i in range(50_000)], name="worker")
    worker.start()
    worker.join()
    # the worker allocated far past the threshold, yet the cycle waits for the UI thread
    junk = [[i] for i in range(2_000)]  # past generation 0's threshold
    qtbot.waitUntil(lambda: ref() is None, timeout=5_000)
    del junk
    assert collected_in and set(collected_in) == {threading.main_thread().name}
