"""The one worker thread: runs jobs one at a time, reports through signals, never touches widgets.

A job is a plain function `fn(job)` (close over an immutable snapshot of its inputs). Jobs have a
`kind`; submitting a job of a kind that is already queued or running supersedes the older one:
it is cancelled and its result, if it still comes, is dropped (the generation rule). Signals are
delivered in the UI thread, in order: `started`, any number of `progress`, then exactly one of
`finished`, `failed` or `cancelled` (a job cancelled before it starts sends only `cancelled`).
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from aldesk.core import heap
from aldesk.core.errors import AldeskError, Cancelled
from aldesk.core.jobs import LocalJob

log = logging.getLogger(__name__)

#: At most this many progress signals per second reach the UI thread.
PROGRESS_HZ = 20.0


class WorkerJob(LocalJob):
    """The `core.jobs.Job` handle a job function receives in the worker: its progress becomes
    the runner's `progress` signal, at most PROGRESS_HZ times a second."""

    def __init__(self, job_id: int, runner: JobRunner) -> None:
        super().__init__(on_progress=self._emit, max_hz=PROGRESS_HZ)
        self.id = job_id
        self._runner = runner

    def _emit(self, done: int, total: int | None, text: str) -> None:
        self._runner.progress.emit(self.id, int(done), -1 if total is None else int(total),
                                   text)


@dataclass
class _Entry:
    job_id: int
    kind: str
    title: str
    fn: Callable[[WorkerJob], Any]
    handle: WorkerJob = field(repr=False)


class _Thread(QThread):
    def __init__(self, runner: JobRunner) -> None:
        super().__init__()
        self._runner = runner

    def run(self) -> None:
        self._runner._loop()


class JobRunner(QObject):
    """Owns the worker thread. Create one per window; call `shutdown()` when closing."""

    started = Signal(int, str, str)  # job id, kind, title
    progress = Signal(int, int, int, str)  # job id, done, total (-1: unknown), text
    finished = Signal(int, str, object)  # job id, kind, result
    failed = Signal(int, str, str, str)  # job id, kind, one-line message, details
    cancelled = Signal(int, str)  # job id, kind
    idle = Signal()  # the queue ran empty
    _outcome = Signal(str, object)  # from the worker: which public signal, with what arguments

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: queue.Queue[_Entry | None] = queue.Queue()
        self._lock = threading.Lock()
        self._next_id = 1
        self._latest: dict[str, int] = {}  # kind -> newest job id
        self._pending: dict[int, _Entry] = {}
        self.current: _Entry | None = None
        self._undelivered = 0  # submitted jobs whose outcome the UI thread has not had yet
        self._outcome.connect(self._deliver)
        self._thread = _Thread(self)
        self._thread.setObjectName("aldesk-worker")
        self._thread.start()

    def submit(self, kind: str, title: str, fn: Callable[[WorkerJob], Any]) -> int:
        """Queue `fn`; a queued or running job of the same kind is superseded."""
        self._undelivered += 1
        with self._lock:
            job_id = self._next_id
            self._next_id += 1
            older = self._latest.get(kind)
            self._latest[kind] = job_id
            entry = _Entry(job_id, kind, title, fn, WorkerJob(job_id, self))
            self._pending[job_id] = entry
            stale = [e for e in self._pending.values() if e.job_id == older]
            if self.current is not None and self.current.job_id == older:
                stale.append(self.current)
        for e in stale:
            e.handle.cancel()
        self._queue.put(entry)
        return job_id

    def cancel(self, job_id: int | None = None) -> None:
        """Cancel one job, or (None) the running one and everything queued."""
        with self._lock:
            entries = list(self._pending.values())
            if self.current is not None:
                entries.append(self.current)
        for e in entries:
            if job_id is None or e.job_id == job_id:
                e.handle.cancel()

    def is_busy(self) -> bool:
        """True until the UI thread has received the outcome of every submitted job."""
        return self._undelivered > 0

    def _deliver(self, name: str, args: tuple[Any, ...]) -> None:
        """In the UI thread: every listener of the outcome runs before the job counts as
        done, so `is_busy()` never turns False ahead of a result's effects."""
        try:
            getattr(self, name).emit(*args)
        finally:
            self._undelivered = max(0, self._undelivered - 1)

    def _is_latest(self, entry: _Entry) -> bool:
        with self._lock:
            return self._latest.get(entry.kind) == entry.job_id

    def _loop(self) -> None:
        while True:
            entry = self._queue.get()
            if entry is None:
                return
            with self._lock:
                self._pending.pop(entry.job_id, None)
                self.current = entry
            try:
                self._run(entry)
            finally:
                heap.settle()  # what the job left alive is exempt from later full walks
                with self._lock:
                    self.current = None
                    empty = not self._pending
                if empty:
                    self.idle.emit()

    def _run(self, entry: _Entry) -> None:
        handle = entry.handle
        if handle.cancelled:
            self._outcome.emit("cancelled", (entry.job_id, entry.kind))
            return
        self.started.emit(entry.job_id, entry.kind, entry.title)
        try:
            result = entry.fn(handle)
        except Cancelled:
            self._outcome.emit("cancelled", (entry.job_id, entry.kind))
            return
        except AldeskError as err:  # a problem with the user's input: the message says it all
            log.warning("job %s failed: %s", entry.title, err)
            self._outcome.emit("failed", (entry.job_id, entry.kind, str(err), ""))
            return
        except Exception as err:  # a defect: the user gets a message, the log the details
            details = traceback.format_exc()
            log.error("job %s failed\n%s", entry.title, details)
            self._outcome.emit("failed", (entry.job_id, entry.kind,
                                          f"{type(err).__name__}: {err}", details))
            return
        if handle.cancelled or not self._is_latest(entry):
            self._outcome.emit("cancelled", (entry.job_id, entry.kind))  # superseded: stale
            return
        self._outcome.emit("finished", (entry.job_id, entry.kind, result))

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Cancel everything and stop the thread; True when it stopped in time."""
        self.cancel()
        self._queue.put(None)
        return self._thread.wait(int(timeout_s * 1000))
