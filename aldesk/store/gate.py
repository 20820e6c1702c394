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


_gates: dict[Path, WriteGate] = {}
_gates_lock = threading.Lock()


def gate_for(path: Path) -> WriteGate:
    """The one gate of the project file at `path` in this process."""
    key = path.resolve()
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriteGate()
        return gate
