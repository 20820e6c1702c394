"""aldesk.core.malloc: freed per-image buffers are reused instead of faulted in again."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aldesk.core.malloc import ENV_VARS, _glibc

GLIBC = pytest.mark.skipif(not (sys.platform.startswith("linux") and _glibc()),
                           reason="glibc only")

# A CT slice's worth of work, as the windowing did it before: two 1 MiB int32 temporaries
# per slice, freed at once. Prints minor page faults per slice over 40 slices.
PIPELINE = """
import resource, sys
import numpy as np
from aldesk.core.malloc import keep_freed_memory
kept = keep_freed_memory() if sys.argv[1] == "keep" else None
rng = np.random.default_rng(0)
slices = [rng.integers(0, 4096, (512, 512), dtype=np.uint16) for _ in range(40)]
(slices[0].astype(np.int32) - 1024).astype(np.int16)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for s in slices:
    (s.astype(np.int32) - 1024).astype(np.int16)
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print(kept, (after - before) / len(slices))
"""


def _run(mode: str, code: str = PIPELINE, **env: str) -> tuple[str, float]:
    clean = {k: v for k, v in os.environ.items() if k not in (*ENV_VARS, "GLIBC_TUNABLES")}
    out = subprocess.run([sys.executable, "-c", code, mode], env={**clean, **env},
                         capture_output=True, text=True, check=True).stdout.split()
    return out[0], float(out[1])


@GLIBC
def test_freed_buffers_are_reused_not_faulted_again():
    kept, faults = _run("keep")
    assert kept == "True"
    # 2 MiB of fresh pages would be ~512 faults per slice; reused buffers need none.
    assert faults < 20


@GLIBC
def test_the_users_own_malloc_settings_stand():
    kept, _ = _run("keep", MALLOC_TRIM_THRESHOLD_="131072")
    assert kept == "False"
    kept, _ = _run("keep", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072")
    assert kept == "False"


# 40 MB of 1 MB buffers freed together: kept by the raised thresholds, then released. Prints
# the resident MB freed by release_freed_memory.
RELEASE = """
import os, sys
import numpy as np
from aldesk.core.malloc import keep_freed_memory, release_freed_memory
assert keep_freed_memory()
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
buffers = [np.ones(1 << 20, np.uint8) for _ in range(40)]
del buffers
before = resident()
release_freed_memory()
print(True, before - resident())
"""


@GLIBC
def test_kept_memory_goes_back_to_the_kernel_after_a_job():
    _, released = _run("keep", RELEASE)
    assert released > 30  # of the 40 MB the buffers took
