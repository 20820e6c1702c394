"""The protocol every long computation uses to report progress and notice cancellation.

A job function takes its inputs plus a `job` handle and returns a result. It calls
`job.progress(done, total, text)` now and then and `job.check()` (or reads `job.cancelled`)
between units of work, so that cancelling takes effect promptly. The same function runs from the
CLI, from tests and from the UI's single worker thread.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Protocol, TextIO

from aldesk.core.errors import Cancelled


class Job(Protocol):
    @property
    def cancelled(self) -> bool: ...

    def progress(self, done: int, total: int | None, text: str = "") -> None: ...

    def check(self) -> None:
        """Raise `Cancelled` if cancellation was requested."""
        ...


class LocalJob:
    """A job handle for code that runs in the caller's thread (CLI, tests), and the base of the
    app's worker and compute-process handles.

    `cancel()` may be called from any thread. Progress goes to `on_progress` when given, at
    most `max_hz` times a second when set (the final `done == total` always goes through).
    """

    def __init__(self, on_progress: object = None, max_hz: float | None = None) -> None:
        self._cancel = threading.Event()
        self._on_progress = on_progress
        self._min_gap = 0.0 if not max_hz else 1.0 / max_hz
        self._last_sent = 0.0
        self.last: tuple[int, int | None, str] | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def progress(self, done: int, total: int | None, text: str = "") -> None:
        self.last = (done, total, text)
        if not callable(self._on_progress):
            return
        if self._min_gap:
            now = time.monotonic()
            final = total is not None and done >= total
            if not final and now - self._last_sent < self._min_gap:
                return
            self._last_sent = now
        self._on_progress(done, total, text)

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


class ConsoleProgress:
    """Prints throttled one-line progress to a terminal (stderr), for CLI commands."""

    def __init__(self, stream: TextIO = sys.stderr, every_s: float = 0.5) -> None:
        self._stream = stream
        self._every = every_s
        self._last = 0.0
        self._tty = stream.isatty()

    def __call__(self, done: int, total: int | None, text: str) -> None:
        now = time.monotonic()
        finished = total is not None and done >= total
        if not finished and now - self._last < self._every:
            return
        self._last = now
        if not self._tty:  # scripts and logs get results, not progress
            return
        of = f"/{total}" if total is not None else ""
        line = f"{text} {done}{of}".strip()
        self._stream.write("\r\033[K" + line + ("\n" if finished else ""))
        self._stream.flush()


def step(job: Job | None, done: int, total: int, text: str, every: int = 100) -> None:
    """The usual call inside a job's loop: honour cancellation on every item, report progress
    every `every` items (and at the end, when `done == total`). A None job does nothing."""
    if job is None:
        return
    job.check()
    if done % every == 0 or done == total:
        job.progress(done, total, text)
