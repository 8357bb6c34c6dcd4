"""The one way the UI runs work off its thread: `Task` and `run_in_background`.

A `Task` runs a plain callable on a `QThreadPool` thread and delivers what
happened back on the UI thread, through signals: `finished(result)`,
`failed(exception)`, `progress(done, total, text)` or `cancelled()`. The
callable gets nothing from Qt; when it wants to report progress or honour
cancel it asks for a `CancelToken` (`pass_token=True`) and polls
`token.cancelled` / calls `token.report(...)` / `token.check()`.

Rules this module keeps (see docs/ARCHITECTURE: the UI thread never waits on
the database):
- The callable opens its own sessions (every service does, through
  `ctx.db.read()/write()`); no session or Qt object crosses threads. A failure
  reaches the UI thread with its traceback already rendered to text and
  detached, so no frame (and no session in one) travels with it.
- A `UserError` is an expected outcome, delivered as is and shown calmly. Any
  other exception is a bug: logged with its traceback on the worker thread,
  then delivered so the UI can say "Something went wrong" with the details.
- A result that arrives after `cancel()` is not delivered; `discard`, when
  given, receives it on the worker thread so nothing is leaked (an opened
  company, a temporary file).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal, Slot

from erp_desktop.domain.errors import UserError

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]

# Progress reports closer together than this are merged: a loop over 100k rows
# must not flood the UI thread's event queue with repaints.
_PROGRESS_INTERVAL_S = 0.05

# Tasks in flight, so that one started without a parent is not garbage
# collected before its result arrives. Keyed by id; entries leave when the task
# has delivered its outcome or its Qt object is destroyed.
_IN_FLIGHT: dict[int, Task] = {}


class Cancelled(Exception):  # a normal outcome, hence no "Error" in the name
    """Raised inside a task by `CancelToken.check()` once the user cancelled."""


class CancelToken:
    """Handed to a background callable: poll `cancelled`, `report()` progress."""

    def __init__(self, report: ProgressFn | None = None) -> None:
        self._event = threading.Event()
        self._report = report
        self._last_report = 0.0

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def cancel(self) -> None:
        self._event.set()

    def check(self) -> None:
        """Raise `Cancelled` if cancel was asked; call it between units of work."""
        if self._event.is_set():
            raise Cancelled()

    def report(self, done: int, total: int, text: str = "") -> None:
        """Progress so far; cheap to call often (reports are coalesced)."""
        if self._report is None:
            return
        now = time.monotonic()
        if done < total and now - self._last_report < _PROGRESS_INTERVAL_S:
            return
        self._last_report = now
        self._report(int(done), int(total), str(text))


def failure_details(exc: BaseException) -> str:
    """The traceback text of a failure delivered by a task (or of any exception)."""
    details = getattr(exc, "erp_details", None)
    if isinstance(details, str):
        return details
    return "".join(traceback.format_exception(exc))


def _detach(exc: BaseException) -> None:
    """Render the traceback to text and drop the frames before crossing threads."""
    try:
        exc.erp_details = "".join(traceback.format_exception(exc))  # type: ignore[attr-defined]
    except Exception:  # e.g. an exception type with __slots__: the details are optional
        log.debug("could not attach details to %s", type(exc).__name__)
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


class _Bridge(QObject):
    """The one object that carries every worker's news to the UI thread.

    It lives on the UI thread for the life of the application. Workers emit its
    signals from the pool threads with the task's key; Qt queues each emission
    to the UI thread, where the slot finds the `Task` by key. No QObject is ever
    created or destroyed on a pool thread: an earlier design made one relay
    object per task on the worker, and after a few thousand tasks PySide6
    crashed the process (docs/known-issues, decision 0007).
    """

    done = Signal(object, object)  # key, (result, discard)
    error = Signal(object, object)  # key, exception
    progress = Signal(object, int, int, str)  # key, done, total, text
    cancelled = Signal(object)  # key

    def __init__(self) -> None:
        super().__init__()
        self.done.connect(self._deliver_done)
        self.error.connect(self._deliver_error)
        self.progress.connect(self._deliver_progress)
        self.cancelled.connect(self._deliver_cancelled)

    @staticmethod
    def _task(key: int) -> Task | None:
        task = _IN_FLIGHT.get(key)
        return task if task is not None and shiboken6.isValid(task) else None

    @Slot(object, object)
    def _deliver_done(self, key: int, payload: tuple[object, Callable[[Any], None] | None]
                      ) -> None:
        result, discard = payload
        task = self._task(key)
        if task is not None:
            task._on_done(result)
        elif discard is not None:  # its window closed: nobody listens
            try:
                discard(result)
            except Exception:
                log.exception("discarding an unwanted result failed")

    @Slot(object, object)
    def _deliver_error(self, key: int, exc: BaseException) -> None:
        task = self._task(key)
        if task is not None:
            task._on_error(exc)

    @Slot(object, int, int, str)
    def _deliver_progress(self, key: int, done: int, total: int, text: str) -> None:
        task = self._task(key)
        if task is not None:
            task._on_progress(done, total, text)

    @Slot(object)
    def _deliver_cancelled(self, key: int) -> None:
        task = self._task(key)
        if task is not None:
            task._on_cancelled()


_BRIDGE: list[_Bridge] = []
_KEYS = itertools.count(1)  # task keys are never reused, unlike id()


def _bridge() -> _Bridge:
    """The bridge, made on first use; `Task.start` runs on the UI thread."""
    if not _BRIDGE:
        bridge = _Bridge()
        app = QCoreApplication.instance()
        if app is not None and bridge.thread() is not app.thread():
            bridge.moveToThread(app.thread())
        _BRIDGE.append(bridge)
    return _BRIDGE[0]


class _Runnable(QRunnable):
    def __init__(self, task: Task, bridge: _Bridge) -> None:
        super().__init__()
        self.setAutoDelete(True)
        # Only plain Python values and the long-lived bridge are kept here; the
        # Task (a UI-thread QObject) is found again by key on the UI thread.
        self._fn = task._fn
        self._args = task._args
        self._kwargs = task._kwargs
        self._token = task.token
        self._pass_token = task._pass_token
        self._discard = task._discard
        self._name = task.name
        self._key = task.key
        self._bridge = bridge

    def run(self) -> None:
        bridge, key = self._bridge, self._key
        self._token._report = lambda done, total, text: bridge.progress.emit(
            key, done, total, text)
        try:
            if self._token.cancelled:
                raise Cancelled()
            kwargs = dict(self._kwargs)
            if self._pass_token:
                kwargs["token"] = self._token
            result = self._fn(*self._args, **kwargs)
        except Cancelled:
            bridge.cancelled.emit(key)
        except UserError as exc:
            _detach(exc)
            bridge.error.emit(key, exc)
        except Exception as exc:
            log.exception("background task %s failed", self._name)
            _detach(exc)
            bridge.error.emit(key, exc)
        else:
            if self._token.cancelled:
                self._throw_away(result)
                bridge.cancelled.emit(key)
            else:
                bridge.done.emit(key, (result, self._discard))
        finally:
            self._token._report = None
            self._fn = self._args = self._kwargs = None  # type: ignore[assignment]

    def _throw_away(self, result: object) -> None:
        if self._discard is None:
            return
        try:
            self._discard(result)
        except Exception:
            log.exception("discarding the result of cancelled task %s failed", self._name)


class Task(QObject):
    """One piece of background work and what became of it (see module docstring).

    Give it a `parent` (the widget that waits for it): if the parent is closed
    first, the task is cancelled and its result discarded. Once it has
    delivered its outcome the Task deletes itself (`deleteLater`).
    """

    finished = Signal(object)
    failed = Signal(object)
    progress = Signal(int, int, str)
    cancelled = Signal()

    def __init__(self, fn: Callable[..., Any], *args: Any, parent: QObject | None = None,
                 pass_token: bool = False, discard: Callable[[Any], None] | None = None,
                 name: str | None = None, **kwargs: Any) -> None:
        super().__init__(parent)
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._pass_token = pass_token
        self._discard = discard
        self.name = name or getattr(fn, "__qualname__", repr(fn))
        self.token = CancelToken()
        self._running = False
        self._outcome: str | None = None
        self.key = next(_KEYS)
        key, token = self.key, self.token

        def gone() -> None:  # the window waiting for this work was closed
            token.cancel()
            _IN_FLIGHT.pop(key, None)

        # Captures neither self nor the Task: it runs while the object is dying.
        self.destroyed.connect(gone)

    @property
    def running(self) -> bool:
        return self._running

    @property
    def outcome(self) -> str | None:
        """None while running or not started; then "finished", "failed" or "cancelled"."""
        return self._outcome

    def start(self, pool: QThreadPool | None = None) -> Task:
        if self._running or self._outcome is not None:
            raise RuntimeError(f"task {self.name} was already started")
        bridge = _bridge()
        self._running = True
        _IN_FLIGHT[self.key] = self
        (pool or QThreadPool.globalInstance()).start(_Runnable(self, bridge))
        return self

    def cancel(self) -> None:
        """Ask the callable to stop; it stops at its next `token.check()`."""
        self.token.cancel()

    # ---- on the UI thread (queued through the bridge)

    def _on_done(self, result: object) -> None:
        if not shiboken6.isValid(self):  # its window closed: nobody listens
            if self._discard is not None:
                self._discard(result)
            return
        if self.token.cancelled:  # cancelled after the worker finished
            self._finish("cancelled")
            if self._discard is not None:
                self._discard(result)
            self.cancelled.emit()
            return
        self._finish("finished")
        self.finished.emit(result)

    def _on_error(self, exc: object) -> None:
        if not shiboken6.isValid(self):  # its window closed: nobody listens
            return
        if self.token.cancelled:  # nobody waits for it any more (a bug was logged already)
            self._finish("cancelled")
            self.cancelled.emit()
            return
        self._finish("failed")
        self.failed.emit(exc)

    def _on_progress(self, done: int, total: int, text: str) -> None:
        if not shiboken6.isValid(self):  # its window closed: nobody listens
            return
        if self._running and not self.token.cancelled:
            self.progress.emit(done, total, text)

    def _on_cancelled(self) -> None:
        if not shiboken6.isValid(self):  # its window closed: nobody listens
            return
        self._finish("cancelled")
        self.cancelled.emit()

    def _finish(self, outcome: str) -> None:
        self._running = False
        self._outcome = outcome
        _IN_FLIGHT.pop(self.key, None)
        # The task has said everything; let Qt free it with the next event loop turn.
        self.deleteLater()


def run_in_background(fn: Callable[..., Any], *args: Any,
                      on_done: Callable[[Any], None] | None = None,
                      on_error: Callable[[BaseException], None] | None = None,
                      on_progress: ProgressFn | None = None,
                      on_cancelled: Callable[[], None] | None = None,
                      parent: QObject | None = None, pass_token: bool = False,
                      discard: Callable[[Any], None] | None = None,
                      name: str | None = None, pool: QThreadPool | None = None,
                      **kwargs: Any) -> Task:
    """Run `fn(*args, **kwargs)` on the thread pool; callbacks run on the UI thread.

    Without `on_error`, a failure is shown in a message box over `parent`: calmly
    for a `UserError`, as "Something went wrong" with copyable details otherwise.
    """
    task = Task(fn, *args, parent=parent, pass_token=pass_token, discard=discard, name=name,
                **kwargs)
    if on_done is not None:
        task.finished.connect(on_done)
    if on_error is not None:
        task.failed.connect(on_error)
    else:
        def show(exc: BaseException) -> None:
            from erp_desktop.ui.errors import show_error

            widget = parent if parent is not None and parent.isWidgetType() else None
            show_error(widget, exc)  # type: ignore[arg-type]

        task.failed.connect(show)
    if on_progress is not None:
        task.progress.connect(on_progress)
    if on_cancelled is not None:
        task.cancelled.connect(on_cancelled)
    return task.start(pool)
