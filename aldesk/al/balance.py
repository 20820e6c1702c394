"""Class balancing: re-order a ranking so that the batch favours rarely labeled classes."""

from __future__ import annotations

import numpy as np

from aldesk.al._arrays import group_positions, put_first
from aldesk.al.select import rank


def _as_ranking(ranking_or_scores: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    arr = np.asarray(ranking_or_scores)
    if arr.ndim != 1:
        raise ValueError(f"expected a ranking or scores of shape (N,), got {arr.shape}")
    if np.issubdtype(arr.dtype, np.integer):
        seen = np.zeros(len(arr), dtype=bool)
        if len(arr) and (arr.min() < 0 or arr.max() >= len(arr)):
            raise ValueError("an integer ranking must be a permutation of range(N)")
        seen[arr] = True
        if not seen.all():
            raise ValueError("an integer ranking must be a permutation of range(N)")
        return arr.astype(np.int64)
    return rank(arr, rng if rng is not None else np.random.default_rng(0))


def class_balanced(ranking_or_scores: np.ndarray, predicted_classes: np.ndarray,
                   labeled_counts: np.ndarray, batch_size: int, *,
                   rng: np.random.Generator | None = None) -> np.ndarray:
    """Re-order the first batch_size picks towards classes that are rare in the labeled set.

    ranking_or_scores: (N,) an int permutation (best first) or float scores (higher = better,
        ranked with `rank`, ties broken by rng or a fixed seed).
    predicted_classes: (N,) int predicted class of each pool item (e.g. argmax of p̄).
    labeled_counts: (C,) labeled items per class; classes beyond C count as 0.
    Returns (N,) int64 ranking. A weighted round-robin over predicted classes: the j-th item of
    class c in the strategy's order gets the key (j + 1/2) * (n_c + 1), so a class with n_c
    labels gets a share of the batch proportional to 1 / (n_c + 1); the batch is the
    batch_size smallest keys (ties: the strategy's order). Within a class the strategy's order
    is kept, and after the batch every other item follows in the strategy's order. Reference:
    Bengar et al. 2022, "Class-Balanced Active Learning for Image Classification".
    """
    ranking = _as_ranking(ranking_or_scores, rng)
    pred = np.asarray(predicted_classes, dtype=np.int64)
    if pred.shape != ranking.shape:
        raise ValueError("predicted_classes must have the same length N as the ranking")
    if len(pred) and pred.min() < 0:
        raise ValueError("predicted_classes must be >= 0")
    given = np.asarray(labeled_counts, dtype=np.float64).ravel()
    counts = np.zeros(max(len(given), int(pred.max(initial=-1)) + 1))
    counts[:len(given)] = given
    place = np.empty(len(ranking), dtype=np.int64)
    place[ranking] = np.arange(len(ranking))
    key = (group_positions(ranking, pred) + 0.5) * (counts[pred] + 1.0)
    batch = np.lexsort((place, key))[:max(0, batch_size)]
    return put_first(batch, ranking)
