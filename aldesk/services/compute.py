"""Running heavy job functions in a child process, behind the same job interface.

The window's worker thread shares the interpreter with the UI thread. Training, scoring and
embedding there cost the window up to a second at a time (`aldesk bench ui --trace`): torch's
import holds the interpreter ~200 ms, full garbage collections of a heap holding torch,
scikit-learn and a 100k pool take as long, and every Python-level loop competes for it.
`ComputeProcess.run(fn, job, **kwargs)` runs `fn(job=..., **kwargs)` in a child Python instead;
the calling thread waits on a pipe, without the interpreter lock.

- `fn` is a module-level function, its arguments and result are picklable (paths, numbers,
  small dataclasses, numpy arrays); it opens the project itself (`Project.attach`).
- The job handle works across: `job.progress(...)` in the child reaches the caller's job (at
  most 20 per second); `job.cancel()` on the caller's side makes the child's `job.check()`
  raise `Cancelled`, which comes back as `Cancelled`.
- A problem with the user's input (`AldeskError`) comes back as the same exception; any other
  exception as `ComputeError` whose notes hold the child's traceback.
- The child is started on first use (or by `start()`, ahead of time) and reused. If it dies (a
  crash, the out-of-memory killer), the call raises `ComputeError` and the next call starts a
  new one. It exits when the parent closes the pipe, or dies: it never outlives the app.
- The child's writes to a project yield to the parent's (a user's label) through a gate shared
  by both processes (`store.gate.share`), and it runs at a lower CPU priority than the window.
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from aldesk.core.errors import AldeskError, Cancelled
from aldesk.core.jobs import Job, LocalJob

log = logging.getLogger(__name__)

PROGRESS_HZ = 20.0
#: How much lower than the app the compute process runs (POSIX nice increment).
NICENESS = 10


class ComputeError(Exception):
    """A job failed in the compute process (a defect there, or the process died)."""


class ComputeProcess:
    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._proc: Any = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self._lock = threading.Lock()  # one call at a time
        self._calls = 0  # numbers each call, so a late cancel never reaches the next one

    def start(self) -> None:
        """Start the child now (it imports the libraries while nobody waits for it)."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            return
        self._close_pipes()
        from aldesk.store import gate

        lock, waiting = self._ctx.Lock(), self._ctx.Value("i", 0)
        gate.share(lock, waiting)  # a fresh gate: a dead child may have held the old one
        calls_r, calls_w = self._ctx.Pipe(duplex=False)
        results_r, results_w = self._ctx.Pipe(duplex=False)
        self._proc = self._ctx.Process(target=child_main, name="aldesk-compute", daemon=True,
                                       args=(calls_r, results_w, lock, waiting))
        self._proc.start()
        calls_r.close()
        results_w.close()
        self._to_child, self._from_child = calls_w, results_r

    def run(self, fn: Callable[..., Any], job: Job | None = None, **kwargs: Any) -> Any:
        with self._lock:
            self._ensure()
            assert self._to_child is not None and self._from_child is not None
            try:
                self._calls += 1
                self._to_child.send(("call", self._calls, fn.__module__, fn.__qualname__,
                                     kwargs))
                return self._wait(job)
            except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as err:
                code = self._stop_child()
                raise ComputeError(f"the compute process stopped unexpectedly (exit code "
                                   f"{code}); the next job starts a new one") from err

    def _wait(self, job: Job | None) -> Any:
        assert self._to_child is not None and self._from_child is not None
        cancel_sent = False
        while True:
            if self._from_child.poll(0.05):
                message = self._from_child.recv()
                what = message[0]
                if what == "progress":
                    if job is not None:
                        job.progress(*message[1:])
                    continue
                if what == "result":
                    return message[1]
                if what == "cancelled":
                    raise Cancelled()
                if what == "input-error":
                    raise _input_error(message[1], message[2])
                err = ComputeError(message[1])
                err.add_note(f"in the compute process:\n{message[2]}")
                raise err
            if job is not None and job.cancelled and not cancel_sent:
                self._to_child.send(("cancel", self._calls))
                cancel_sent = True
            if not self._proc.is_alive():
                raise EOFError("the compute process is gone")

    def _stop_child(self) -> int | None:
        proc, self._proc = self._proc, None
        self._close_pipes()
        if proc is None:
            return None
        proc.join(1.0)
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
        return proc.exitcode

    def _close_pipes(self) -> None:
        for conn in (self._to_child, self._from_child):
            if conn is not None:
                conn.close()
        self._to_child = self._from_child = None

    def shutdown(self, timeout_s: float = 3.0) -> None:
        """Ask the child to finish (it stops between jobs, or at once when idle)."""
        proc = self._proc
        if proc is None:
            return
        try:
            if self._to_child is not None:
                self._to_child.send(None)
        except OSError:
            pass
        proc.join(timeout_s)
        if proc.is_alive():
            proc.kill()
            proc.join(1.0)
        self._proc = None
        self._close_pipes()
        from aldesk.store import gate

        gate.unshare()

    @property
    def pid(self) -> int | None:
        return None if self._proc is None else self._proc.pid


def _input_error(type_name: str, message: str) -> AldeskError:
    """The child's AldeskError as the same class when it is one of ours, else the base."""
    from aldesk.core import errors

    cls = getattr(errors, type_name, None)
    if isinstance(cls, type) and issubclass(cls, AldeskError):
        try:
            return cls(message)
        except TypeError:
            pass
    return AldeskError(message)


# -- the child ----------------------------------------------------------------------------------


def child_main(calls: Connection, results: Connection, lock: Any, waiting: Any) -> None:
    """The compute process: run calls one at a time until the parent says stop or goes."""
    from aldesk.core import heap
    from aldesk.core.malloc import keep_freed_memory, release_freed_memory
    from aldesk.services.warmup import load_libraries
    from aldesk.store import gate

    keep_freed_memory()  # a spawned process: the parent's setting is not inherited
    gate.share(lock, waiting)
    if hasattr(os, "nice"):
        # Below the window: on a workstation whose cores the model keeps busy, the scheduler
        # then gives the window the CPU the moment it needs it (a key, a paint, a timer).
        os.nice(NICENESS)
    pending: list[tuple[int, str, str, dict[str, Any]]] = []
    arrived = threading.Condition()
    current: dict[int, LocalJob] = {}  # call number -> its job, while it runs
    send_lock = threading.Lock()

    def send(message: tuple[Any, ...]) -> None:
        with send_lock:
            results.send(message)

    def listen() -> None:  # the only reader of the pipe: calls, cancels, the end
        while True:
            try:
                message = calls.recv()
            except (EOFError, OSError):
                os._exit(0)  # the app is gone: stop at once, mid-job or not
            if message is None:
                with arrived:
                    pending.append((0, "stop", "", {}))
                    arrived.notify()
                continue
            if message[0] == "cancel":
                job = current.get(message[1])
                if job is not None:
                    job.cancel()
                continue
            with arrived:
                pending.append(message[1:])
                arrived.notify()

    threading.Thread(target=listen, name="compute-listen", daemon=True).start()
    load_libraries()
    heap.settle()
    while True:
        with arrived:
            while not pending:
                arrived.wait()
            number, module, name, kwargs = pending.pop(0)
        if module == "stop":
            return
        job = LocalJob(on_progress=lambda *p: send(("progress", *p)), max_hz=PROGRESS_HZ)
        current[number] = job
        try:
            fn = getattr(importlib.import_module(module), name)
            result = fn(job=job, **kwargs)
            send(("cancelled",) if job.cancelled else ("result", result))
        except Cancelled:
            send(("cancelled",))
        except AldeskError as err:
            send(("input-error", type(err).__name__, str(err)))
        except Exception as err:  # a defect, or a result that cannot be sent back
            send(("error", f"{type(err).__name__}: {err}", traceback.format_exc()))
        finally:
            current.clear()
            heap.settle()
            release_freed_memory()  # kept for reuse during the job, not while idle

