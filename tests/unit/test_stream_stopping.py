"""Stream selection respects its budget; stopping detects stable predictions."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.al.stopping import cohen_kappa, stabilized, stop_set
from aldesk.al.stream import StreamSelector


@pytest.mark.parametrize("budget", [0.05, 0.1, 0.3])
def test_stream_budget_is_respected_over_every_window(budget):
    rng = np.random.default_rng(0)
    selector = StreamSelector(budget=budget, window=100)
    taken = np.array([selector.offer(float(c)) for c in rng.uniform(0.3, 1.0, 5000)])
    windows = np.lib.stride_tricks.sliding_window_view(taken, 100).sum(axis=1)
    assert windows.max() <= budget * 100
    assert taken.mean() > budget * 0.5  # and the budget is used, not wasted


def test_stream_prefers_uncertain_items():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.2, 1.0, 4000)
    selector = StreamSelector(budget=0.1, window=200)
    taken = np.array([selector.offer(float(c)) for c in confidence])
    assert confidence[taken].mean() < confidence[~taken].mean() - 0.15


def test_stream_refuses_a_bad_budget():
    with pytest.raises(ValueError):
        StreamSelector(budget=0)


def test_kappa_and_stabilizing_predictions():
    a = np.array([0, 1, 2, 1, 0, 2, 1, 1])
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(a, (a + 1) % 3) < 0
    assert stabilized([0.5, 0.99, 0.995, 1.0])
    assert not stabilized([0.99, 0.97, 0.999])
    assert not stabilized([0.999, 0.999])
    s = stop_set(10_000, 500, seed=2)
    assert len(s) == 500 and len(np.unique(s)) == 500
    assert np.array_equal(s, stop_set(10_000, 500, 2))
