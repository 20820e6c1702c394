"""One process's writers to one project file, in order: a user's action first.

The app writes to a project through two connections: the window's (labels, class edits: one
short transaction per user action) and the worker's (embeddings, models, scores: many
transactions in a row). SQLite lets one of them write at a time and makes the other wait in its
busy handler, which sleeps in growing steps (up to 100 ms) and can lose the race to a worker that
commits and begins again at once: a label could wait a second behind a ranking being saved.

The gate decides instead, in the process: a foreground writer (the owner's connection) waits at
most for the transaction that holds the gate now, and wakes the moment it ends; background
writers (attached connections) do not start a new transaction while a foreground one waits.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: A foreground writer that waits longer than this is logged with what held the gate.
SLOW_WAIT_S = 0.05


class WriteGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._holder: str | None = None
        self._since = 0.0
        self._waiting_foreground = 0

    @contextmanager
    def hold(self, foreground: bool, what: str = "") -> Iterator[None]:
        start = time.monotonic()
        with self._cond:
            if foreground:
                self._waiting_foreground += 1
            try:
                while self._holder is not None or (not foreground and self._waiting_foreground):
                    self._cond.wait()
            finally:
                if foreground:
                    self._waiting_foreground -= 1
            self._holder, self._since = what or threading.current_thread().name, time.monotonic()
        waited = self._since - start
        if foreground and waited > SLOW_WAIT_S:
            log.info("a foreground write waited %.0f ms for the project", waited * 1000)
        try:
            yield
        finally:
            held = time.monotonic() - self._since
            with self._cond:
                if not foreground and held > 0.25:
                    log.info("background write '%s' held the project %.0f ms",
                             self._holder, held * 1000)
                self._holder = None
                self._cond.notify_all()


#: The longest a writer waits for a gate shared with another process before it goes on
#: without it (that process may have died holding it; SQLite's own locking still holds).
SHARED_MAX_WAIT_S = 2.0


class SharedGate:
    """The same rule across the app and its compute process (`services.compute`): a
    multiprocessing lock, and a shared count of foreground writers waiting for it."""

    def __init__(self, lock: Any, waiting: Any) -> None:
        self._lock, self._waiting = lock, waiting

    def _count(self, delta: int) -> None:
        with self._waiting.get_lock():
            self._waiting.value += delta

    @contextmanager
    def hold(self, foreground: bool, what: str = "") -> Iterator[None]:
        start = time.monotonic()
        if foreground:
            self._count(1)
            try:
                got = self._lock.acquire(timeout=SHARED_MAX_WAIT_S)
            finally:
                self._count(-1)
        else:
            while self._waiting.value > 0 and time.monotonic() - start < SHARED_MAX_WAIT_S:
                time.sleep(0.002)
            got = self._lock.acquire(timeout=SHARED_MAX_WAIT_S)
        waited = time.monotonic() - start
        if not got:
            log.warning("the project's write gate was not free after %.1f s; writing without "
                        "it ('%s')", waited, what)
        elif foreground and waited > SLOW_WAIT_S:
            log.info("a foreground write waited %.0f ms for the project", waited * 1000)
        try:
            yield
        finally:
            if got:
                self._lock.release()


_gates: dict[Path, WriteGate] = {}
_gates_lock = threading.Lock()
_shared: SharedGate | None = None


def share(lock: Any, waiting: Any) -> None:
    """From now on every project in this process uses the gate made of `lock` and `waiting`
    (a multiprocessing Lock and Value('i')), which another process shares."""
    global _shared
    _shared = SharedGate(lock, waiting)


def unshare() -> None:
    global _shared
    _shared = None


def gate_for(path: Path) -> WriteGate | SharedGate:
    """The gate of the project file at `path`: the shared one when there is one, else this
    process's own for that file."""
    if _shared is not None:
        return _shared
    key = path.resolve()
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate()
        return gate
