"""The one background helper: results, failures, progress and cancel, on the right threads."""

from __future__ import annotations

import logging
import threading

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication, QWidget

from erp_desktop.domain.errors import ValidationError
from erp_desktop.ui.errors import UnexpectedErrorDialog, show_error
from erp_desktop.ui.worker import CancelToken, Task, failure_details, run_in_background

pytestmark = pytest.mark.ui


def test_the_callable_runs_off_the_ui_thread_and_the_result_arrives_on_it(qtbot):
    seen = {}

    def work(a, b, *, c):
        seen["work"] = threading.current_thread()
        return a + b + c

    def done(result):
        seen["done"] = threading.current_thread()
        seen["result"] = result

    task = run_in_background(work, 1, 2, c=3, on_done=done)
    qtbot.waitUntil(lambda: "result" in seen)
    assert seen["result"] == 6
    assert seen["work"] is not threading.main_thread()
    assert seen["done"] is threading.main_thread()
    assert task.outcome == "finished"


def test_a_user_error_arrives_as_is_without_its_frames(qtbot):
    failures = []

    def work():
        raise ValidationError("Quantity must be greater than zero", field="quantity")

    task = run_in_background(work, on_done=lambda r: pytest.fail("no result expected"),
                             on_error=failures.append)
    qtbot.waitUntil(lambda: bool(failures))
    exc = failures[0]
    assert isinstance(exc, ValidationError) and exc.field == "quantity"
    assert exc.__traceback__ is None  # no frame (and no session in one) crossed threads
    assert "Quantity must be greater than zero" in failure_details(exc)
    assert task.outcome == "failed"


def test_a_bug_is_logged_with_its_traceback_and_delivered(qtbot, caplog):
    failures = []

    def work():
        return {}["missing"]

    with caplog.at_level(logging.ERROR, logger="erp_desktop.ui.worker"):
        run_in_background(work, on_error=failures.append, name="broken report")
        qtbot.waitUntil(lambda: bool(failures))
    assert isinstance(failures[0], KeyError)
    assert "broken report" in caplog.text
    assert "KeyError" in caplog.text
    assert "in work" in failure_details(failures[0])


def test_without_on_error_a_bug_opens_something_went_wrong(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()

    def work():
        raise RuntimeError("boom")

    run_in_background(work, parent=parent)
    qtbot.waitUntil(lambda: parent.findChild(UnexpectedErrorDialog) is not None)
    dialog = parent.findChild(UnexpectedErrorDialog)
    assert "boom" in dialog.details
    dialog.close()


def test_show_error_is_calm_for_a_user_error(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    box = show_error(parent, ValidationError("Enter a name."))
    assert not isinstance(box, UnexpectedErrorDialog)
    assert box.text() == "Enter a name."
    box.close()


def test_cancel_stops_the_work_at_its_next_check_and_no_result_arrives(qtbot):
    started = threading.Event()
    results, cancelled, steps = [], [], []

    def work(*, token: CancelToken):
        started.set()
        for i in range(10_000):
            token.check()
            steps.append(i)
            threading.Event().wait(0.001)
        return "finished anyway"

    task = run_in_background(work, pass_token=True, on_done=results.append,
                             on_cancelled=lambda: cancelled.append(True))
    assert started.wait(10)
    task.cancel()
    qtbot.waitUntil(lambda: bool(cancelled))
    assert results == []
    assert len(steps) < 10_000
    assert task.outcome == "cancelled"


def test_a_result_that_arrives_after_cancel_is_discarded_not_leaked(qtbot):
    started, release = threading.Event(), threading.Event()
    discarded, results, cancelled = [], [], []

    def work():
        started.set()
        assert release.wait(10)
        return "an open company"

    task = run_in_background(work, on_done=results.append, discard=discarded.append,
                             on_cancelled=lambda: cancelled.append(True))
    assert started.wait(10)
    task.cancel()
    release.set()
    qtbot.waitUntil(lambda: bool(cancelled))
    assert discarded == ["an open company"]
    assert results == []


def test_closing_the_waiting_widget_cancels_the_task(qtbot):
    started, release = threading.Event(), threading.Event()
    discarded, results = [], []
    parent = QWidget()

    def work():
        started.set()
        assert release.wait(10)
        return "report"

    task = run_in_background(work, parent=parent, on_done=results.append,
                             discard=discarded.append)
    token = task.token
    assert started.wait(10)
    parent.deleteLater()
    qtbot.waitUntil(lambda: token.cancelled)
    release.set()
    qtbot.waitUntil(lambda: bool(discarded))
    assert results == []


def test_progress_is_reported_on_the_ui_thread_and_the_last_step_always_arrives(qtbot):
    reports, threads, results = [], [], []

    def work(n, *, token: CancelToken):
        for i in range(1, n + 1):
            token.report(i, n, f"row {i}")
        return n

    def progress(done, total, text):
        threads.append(threading.current_thread())
        reports.append((done, total, text))

    run_in_background(work, 5000, pass_token=True, on_progress=progress, on_done=results.append)
    qtbot.waitUntil(lambda: bool(results))
    assert reports[-1] == (5000, 5000, "row 5000")
    assert len(reports) < 5000  # coalesced, not one repaint per row
    assert set(threads) == {threading.main_thread()}


def test_cancel_before_the_work_starts_skips_it(qtbot):
    gate = threading.Event()
    ran, cancelled = [], []
    # Fill the pool so the second task waits in the queue, then cancel it there.
    blockers = [run_in_background(gate.wait, 10)
                for _ in range(QThreadPool.globalInstance().maxThreadCount())]
    task = run_in_background(lambda: ran.append(True), on_cancelled=lambda: cancelled.append(1))
    task.cancel()
    gate.set()
    qtbot.waitUntil(lambda: bool(cancelled))
    assert ran == []
    qtbot.waitUntil(lambda: all(b.outcome == "finished" for b in blockers))


def test_a_task_starts_once(qtbot):
    task = Task(lambda: 1)
    done = []
    task.finished.connect(done.append)
    task.start()
    with pytest.raises(RuntimeError):
        task.start()
    qtbot.waitUntil(lambda: bool(done))


def _many_tasks(qtbot, count: int, concurrency: int) -> list[int]:
    """Run `count` small tasks, `concurrency` at a time, each started by the last's result."""
    from functools import partial

    from PySide6.QtCore import QObject

    holder = QObject()
    results: list[int] = []
    started = [0]

    def work(n: int) -> int:
        return sum(range(n % 97))

    def finished(_n: int, result: int) -> None:
        results.append(result)
        launch()

    def launch() -> None:
        if started[0] < count:
            started[0] += 1
            run_in_background(work, started[0], parent=holder,
                              on_done=partial(finished, started[0]))

    for _ in range(concurrency):
        launch()
    qtbot.waitUntil(lambda: len(results) == count, timeout=120_000)
    return results


def test_every_task_reports_through_one_bridge_on_the_ui_thread(qtbot):
    from erp_desktop.ui import worker

    results = _many_tasks(qtbot, 300, 4)
    assert len(results) == 300
    assert len(worker._BRIDGE) == 1
    assert worker._BRIDGE[0].thread() == QApplication.instance().thread()
    assert not worker._IN_FLIGHT  # every task left once it had delivered


def test_task_keys_are_never_reused(qtbot):
    first = Task(lambda: 1)
    second = Task(lambda: 2)
    assert first.key != second.key
    first.start()
    second.start()
    qtbot.waitUntil(lambda: first.outcome == second.outcome == "finished")


@pytest.mark.slow
def test_thousands_of_tasks_do_not_crash_the_process(qtbot):
    # The old design made a QObject per task on a pool thread; PySide6 crashed the
    # process after a few thousand (docs/decisions/0007-one-worker-bridge.md).
    assert len(_many_tasks(qtbot, 6000, 4)) == 6000
