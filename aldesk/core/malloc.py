"""Keeping freed memory for reuse, so per-image buffers stop costing page faults (glibc).

Decoding an image, windowing a CT slice and running the model each allocate buffers of
0.1-10 MB and free them a moment later. glibc hands blocks above its mmap threshold straight
back to the kernel (the threshold starts at 128 KiB and adapts only partly) and trims the
heap's free top above 128 KiB, so the next image's buffers are fresh pages again: every 4 KiB
page costs a fault of ~2 microseconds on a virtual machine. On a 2-core workstation that was
~3,100 faults per embedded CT slice, and the model ran 60-70 images/s instead of 100
(docs/benchmarks.md, "Embedding throughput").

`keep_freed_memory()` raises both thresholds once per process: allocations up to 32 MiB come
from the heap, and up to 64 MiB of free heap top is kept, so the same few buffers are reused.
The cost is that much more resident memory at most per malloc arena. It is what the glibc
variables MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_ do; when either is set, the user's
choice stands. Elsewhere (musl, macOS, Windows) nothing happens.
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

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds (once); True when they are in effect."""
    global _done
    if _done is None:
        _done = _apply()
    return _done


def _glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (AttributeError, ValueError, OSError):
        return False


def _apply() -> bool:
    if not sys.platform.startswith("linux") or not _glibc():
        return False
    if any(name in os.environ for name in ENV_VARS):
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
