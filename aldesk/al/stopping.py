"""When to stop labeling: stabilizing predictions (Bloodgood and Vijay-Shanker, "A method for
stopping active learning based on stabilizing predictions", 2009).

The predictions of successive model versions on a fixed sample of unlabeled items (the stop
set) are compared with Cohen's kappa; once they agree at or above `threshold` for `window`
successive versions, further labels are unlikely to change the model much.

A version is compared with the newest one trained on at least `MIN_LABELS_APART` fewer
labels, not simply with the one before it: versions a few labels apart (a retrain asked for
after three labels) agree whatever is left to learn, and three of them in a row would say
"stop" early. The window is read along the chain of those comparisons (the newest version,
the one it was compared with, the one that one was compared with, ...), so three agreements
always span at least 3 × MIN_LABELS_APART labels, however often the model was retrained. On
scikit-learn's digits in batches of 5 labels, comparing each version with the one before
said "stop" at 135-155 labels (3 seeds); in batches of 20, at 240-280 (docs/benchmarks.md).
20 is the window's default retraining interval and simulate's usual batch.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import TypeVar

import numpy as np

MIN_LABELS_APART = 20
K = TypeVar("K", bound=Hashable)


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Agreement of two (N,) label vectors beyond chance; 1 when identical."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0:
        return 1.0
    observed = float((a == b).mean())
    classes = np.union1d(a, b)
    pa = np.array([(a == c).mean() for c in classes])
    pb = np.array([(b == c).mean() for c in classes])
    expected = float((pa * pb).sum())
    return 1.0 if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def stop_set(item_ids: np.ndarray, size: int = 2000) -> np.ndarray:
    """Positions in `item_ids` (N,) of the stop set: the at most `size` items whose ids hash
    lowest, a pseudo-random sample that stays the same from one model version to the next as
    long as the items do, and loses only a share of new items' size when items are added (a
    sample of positions would be a different set after every arrival). Sorted."""
    ids = np.asarray(item_ids, np.uint64)
    with np.errstate(over="ignore"):  # multiplicative hashing wraps around on purpose
        h = (ids * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(17)
    if len(ids) <= size:
        return np.arange(len(ids))
    return np.sort(np.argpartition(h, size - 1)[:size])


def stabilized(kappas: list[float], threshold: float = 0.99, window: int = 3) -> bool:
    """True when the last `window` agreements between successive versions reach threshold."""
    return len(kappas) >= window and all(k >= threshold for k in kappas[-window:])


def comparison_chain(newest: K, links: Mapping[K, tuple[K, float]]
                     ) -> list[tuple[K, K, float]]:
    """The comparisons back from `newest` along `links` (a version -> (the version it was
    compared with, kappa)), as (before, after, kappa), oldest first; `stabilized` reads the
    kappas. Ends where a version has no link (and at a version seen before)."""
    chain: list[tuple[K, K, float]] = []
    seen = {newest}
    at = newest
    while at in links:
        before, kappa = links[at]
        if before in seen:  # only a damaged file links in a circle
            break
        chain.append((before, at, kappa))
        seen.add(before)
        at = before
    chain.reverse()
    return chain
