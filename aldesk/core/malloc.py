"""Keeping freed memory for reuse, so per-image buffers stop costing page faults (glibc).

Decoding an image, windowing a CT slice and running the model each allocate buffers of
0.1-10 MB and free them a moment later. glibc hands blocks above its mmap threshold straight
back to the kernel (the threshold starts at 128 KiB and adapts only partly) and trims the
heap's free top above 128 KiB, so the next image's buffers are fresh pages again: every 4 KiB
page costs a fault of ~2.4 microseconds on a virtual machine. On a 2-core workstation that was
~3,100 faults per embedded image, and the model ran 60-70 images/s instead of 100
(docs/benchmarks.md, "Embedding throughput").

`keep_freed_memory()` raises both thresholds once per process: allocations up to 32 MiB come
from the heap, and up to 64 MiB of free heap top per malloc arena is kept, so the same few
buffers are reused. The cost is resident memory: freed blocks stay with the process up to
about its peak heap use during a job (+50-100 MB for a CT embedding on 2 cores; more threads
mean more arenas). `release_freed_memory()` gives it back to the kernel; the compute process
calls it after each job. When the user set the thresholds (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_ or the malloc tunables in GLIBC_TUNABLES), their choice stands.
Elsewhere (musl, macOS, Windows) nothing happens.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 << 20  # glibc's largest accepted value on 64-bit
TRIM_THRESHOLD = 64 << 20  # twice the mmap threshold, as glibc's own adaptation keeps it
ENV_VARS = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_")
TUNABLES = ("glibc.malloc.mmap_threshold", "glibc.malloc.trim_threshold")

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (once); True when they are in effect."""
    global _done
    if _done is None:
        _done = _apply()
    return _done


def release_freed_memory() -> None:
    """Hand the free memory the raised thresholds kept back to the kernel (a job is done)."""
    if _done:
        ctypes.CDLL(None).malloc_trim(0)


def user_set() -> bool:
    """The environment sets glibc's malloc thresholds itself."""
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    return any(name in os.environ for name in ENV_VARS) or any(t in tunables for t in TUNABLES)


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def _apply() -> bool:
    if not sys.platform.startswith("linux") or not _glibc():
        return False
    if user_set():
        log.info("malloc thresholds left as set in the environment")
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    if not ok:
        log.warning("mallopt refused the thresholds; freed memory goes back to the kernel")
    return ok
