"""Job functions for tests/unit/test_compute.py, importable by the compute process (tests/ is
on the path the child inherits)."""

from __future__ import annotations

import os
import time

from aldesk.core.errors import InputError
from aldesk.core.jobs import Job


def add(a: int, b: int, job: Job | None = None) -> int:
    return a + b


def count_until_cancelled(seconds: float, job: Job) -> int:
    end, n = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        job.check()
        n += 1
        job.progress(n, None, f"step {n}")
        time.sleep(0.01)
    return n


def refuse(job: Job | None = None) -> None:
    raise InputError("the folder holds no images")


def fail(job: Job | None = None) -> None:
    raise ValueError("a defect")


def die(code: int, job: Job | None = None) -> None:
    os._exit(code)


def pid(job: Job | None = None) -> int:
    return os.getpid()


def malloc_kept(job: Job | None = None) -> bool | None:
    """Whether the compute process raised glibc's malloc thresholds at its start."""
    from aldesk.core import malloc

    return malloc._done
