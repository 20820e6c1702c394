"""Selection: turn per-item scores into the full ranking, with seeded tie-breaking."""

from __future__ import annotations

import numpy as np


def rank(scores: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """scores (N,) (higher = more worth labeling) -> (N,) int64 permutation of range(N), best
    first. Equal scores are ordered by a random permutation drawn from rng, so ties never favour
    low indices; the same rng state gives the same ranking. NaN scores rank last."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim != 1:
        raise ValueError(f"scores must have shape (N,), got {s.shape}")
    perm = rng.permutation(len(s))
    key = -s[perm]
    key[np.isnan(key)] = np.inf
    return perm[np.argsort(key, kind="stable")]
