"""Keeping Python's cyclic garbage collector out of the window's way.

A full collection walks every tracked object and holds the interpreter meanwhile, in whichever
thread triggered it. With a 100k-item project open (its index, labels, torch and scikit-learn
loaded) that took 150-250 ms on two cores, triggered by the worker's allocations while the
window waited: the longest event-loop stalls `aldesk bench ui --trace` found. (Training and
scoring have since moved to a compute process, `services.compute`, which uses the same remedies;
the window's process still builds its index and runs the lighter jobs.)

Two remedies, both cheap: build big long-lived structures with the collector paused, and move
what has survived into the permanent generation (`gc.freeze`) once it is built and whenever a
job finishes, so later collections walk only what is new. Garbage frozen with the
survivors is reclaimed by `full_collect` while the user is idle, and `thaw` returns everything
to the collector when a project closes.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collection while the block builds many objects that will live on."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def settle() -> None:
    """Collect the young generations, then exempt every survivor from later full walks."""
    gc.collect(1)
    gc.freeze()


def full_collect() -> None:
    """A full collection of everything, frozen included, then freeze again: for moments when
    nobody waits (the user idle, the worker idle), so garbage frozen meanwhile is not kept."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def thaw() -> None:
    """Give the frozen objects back to the collector (a project closed: many are garbage)."""
    gc.unfreeze()
