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
