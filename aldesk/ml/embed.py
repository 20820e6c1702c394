"""Batched embedding of a pool of items, with decoding overlapped with the model.

`embed_items` reads and prepares (decode, display pipeline, resize) items in a thread pool
while the model runs on the batch before: Pillow, pydicom's decoders and torch's kernels
release the GIL, so both proceed at once. It is a generator: the caller stores each
(indices, vectors) batch as it comes (incremental, resumable) and may stop at any time.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

import numpy as np

from aldesk.core.errors import UnreadableFile
from aldesk.core.jobs import Job
from aldesk.ml.backbones import Pending, Representation, usable_cores

log = logging.getLogger(__name__)

#: How often waiting for decoders looks at the job's cancel flag, in seconds.
POLL_S = 0.05

_Prepared = tuple[int, np.ndarray | None, str | None]


def embed_items(load: Callable[[int], np.ndarray], n: int, rep: Representation,
                job: Job | None = None, batch_size: int = 32, workers: int | None = None, *,
                on_skip: Callable[[int, str], None] | None = None, prefetch: int = 2,
                overlap: bool = True,
                ) -> Generator[tuple[np.ndarray, np.ndarray], None, list[tuple[int, str]]]:
    """Embeds items 0..n-1; yields (indices int64 (k,), vectors float32 (k, rep.dim)) per batch.

    - `load(i)` returns item i's displayed uint8 image; it runs in `workers` threads, so it must
      be thread-safe. An item whose `load` raises `UnreadableFile` (or whose image
      `rep.prepare` rejects with ValueError) is skipped: it is absent from the yielded indices,
      passed to `on_skip(i, reason)`, logged, and listed in the generator's return value
      (`skipped = yield from embed_items(...)`). Any other exception propagates.
    - Batches come in index order; up to `prefetch` batches are decoded ahead of the model.
    - `job.check()` runs between model calls (a few images on CPU) and while waiting for
      decoders, so cancelling raises `Cancelled` promptly;
      `job.progress(done, n, "embedding (X items/s, ETA N s)")` after each batch.
    - The model's own CPU threading is the representation's (`cpu_threads`, default: the
      usable core count); `workers` decoder threads run beside it (default:
      `decode_workers(rep)`).
    - With `overlap` (the default), a representation that can queue work (`submit_prepared`)
      gets the next batch before the previous one is collected, so the model threads do not
      idle at batch boundaries; batches still come out in order.
    """
    workers = decode_workers(rep) if workers is None else workers
    if n < 0 or batch_size < 1 or workers < 1 or prefetch < 1:
        raise ValueError("n must be >= 0 and batch_size, workers, prefetch >= 1")
    skipped: list[tuple[int, str]] = []
    if job is not None:
        job.progress(0, n, "embedding")
    if n == 0:
        return skipped

    def work(i: int) -> _Prepared:
        try:
            return i, rep.prepare(load(i)), None
        except UnreadableFile as exc:
            return i, None, str(exc) or "unreadable file"
        except ValueError as exc:
            return i, None, f"cannot embed this image: {exc}"

    starts = range(0, n, batch_size)
    pending: deque[list[Future[_Prepared]]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aldesk-embed")
    # One batch stays queued on the model while the one before is collected, so the model
    # threads never idle at a batch boundary (representations that can queue: torch on CPU).
    submit = getattr(rep, "submit_prepared", None) if overlap else None
    in_model: deque[tuple[np.ndarray, np.ndarray | Pending, int]] = deque()
    t0 = time.monotonic()
    done = 0
    check = job.check if job is not None else None

    def collect() -> tuple[np.ndarray, np.ndarray]:
        nonlocal done
        indices, waiting, count = in_model.popleft()
        vectors = waiting if isinstance(waiting, np.ndarray) else waiting.result(check)
        done += count
        return indices, vectors

    try:
        next_start = iter(starts)
        for _ in range(prefetch + 1):
            _submit(pool, pending, next_start, batch_size, n, work)
        while pending:
            futures = pending.popleft()
            _wait_all(futures, job)
            _submit(pool, pending, next_start, batch_size, n, work)
            indices, arrays = [], []
            for fut in futures:
                i, arr, reason = fut.result()
                if arr is None:
                    reason = reason or "unreadable"
                    skipped.append((i, reason))
                    log.info("embedding skipped item %d: %s", i, reason)
                    if on_skip is not None:
                        on_skip(i, reason)
                else:
                    indices.append(i)
                    arrays.append(arr)
            if job is not None:
                job.check()
            ids = np.asarray(indices, dtype=np.int64)
            if not arrays:
                in_model.append((ids, np.zeros((0, rep.dim), np.float32), len(futures)))
            elif submit is not None:
                in_model.append((ids, submit(np.stack(arrays)), len(futures)))
            else:
                in_model.append((ids, rep.embed_prepared(np.stack(arrays), check=check),
                                 len(futures)))
            while len(in_model) > (1 if submit is not None and pending else 0):
                out = collect()
                if len(out[0]):
                    yield out
                if job is not None:
                    job.progress(done, n, _progress_text(done, n, time.monotonic() - t0))
    finally:
        for futures in pending:
            for fut in futures:
                fut.cancel()
        for _, waiting, _ in in_model:
            if isinstance(waiting, Pending):
                waiting.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
    return skipped


def decode_workers(rep: Representation, cores: int | None = None) -> int:
    """How many threads decode beside the model. A CPU model keeps the cores busy itself:
    two decoders (one on a single core), or half the cores on bigger machines, whose faster
    model would outrun two. A GPU model, or pixels, leave decoding as the work: every core.

    Measured on 2 cores (docs/benchmarks.md), one / two / three decoders beside the CPU model:
    JPEG 60.1 / 64.0 / 56.1 images/s, CT 62.2 / 65.7 / 61.6, PNG 55.6 / 56.2 / 55.6.
    """
    cores = cores or usable_cores()
    if getattr(rep, "device", None) == "cpu":
        return max(min(2, cores), cores // 2)
    return max(1, cores)


def _submit(pool: ThreadPoolExecutor, pending: deque[list[Future[_Prepared]]],
            starts: Iterator[int], batch_size: int, n: int,
            work: Callable[[int], _Prepared]) -> None:
    start = next(starts, None)
    if start is not None:
        pending.append([pool.submit(work, i) for i in range(start, min(start + batch_size, n))])


def _wait_all(futures: list[Future[_Prepared]], job: Job | None) -> None:
    """Waits for one batch's decoders, checking for cancellation every `POLL_S`."""
    remaining = set(futures)
    while remaining:
        if job is not None:
            job.check()
        _, remaining = wait(remaining, timeout=POLL_S, return_when=FIRST_COMPLETED)


def _progress_text(done: int, n: int, elapsed: float) -> str:
    rate = done / elapsed if elapsed > 0 else 0.0
    if rate <= 0:
        return "embedding"
    eta = (n - done) / rate
    return f"embedding ({rate:.1f} items/s, ETA {eta:.0f} s)"
