"""core.heap: the collector paused, survivors frozen, frozen garbage reclaimed when idle."""

from __future__ import annotations

import gc
import weakref

import pytest

from aldesk.core import heap


@pytest.fixture(autouse=True)
def _restore_gc():
    yield
    gc.unfreeze()
    gc.enable()


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> Node:
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a


def test_collector_paused_restores_the_collector_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), heap.collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    with heap.collector_paused():
        pass
    assert not gc.isenabled()  # it was off before: it stays off


def test_settle_freezes_survivors_and_full_collect_reclaims_frozen_garbage():
    keep = [Node() for _ in range(100)]
    heap.settle()
    assert gc.get_freeze_count() >= len(keep)
    ref = weakref.ref(_cycle())
    heap.settle()  # young garbage is collected before freezing
    assert ref() is None
    alive = _cycle()
    ref = weakref.ref(alive)
    heap.settle()  # frozen while in use...
    del alive  # ...garbage now, but ordinary collections no longer walk it
    gc.collect()
    assert ref() is not None
    heap.full_collect()
    assert ref() is None
    assert gc.get_freeze_count() > 0  # the survivors are frozen again
    heap.thaw()
    assert gc.get_freeze_count() == 0
