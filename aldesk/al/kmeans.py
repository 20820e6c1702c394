"""A small seeded k-means in numpy: greedy k-means++ seeding and a few Lloyd iterations.

Fitted on a random subsample when the pool is large; every item is then assigned to its nearest
centre. Reference: Arthur & Vassilvitskii 2007, "k-means++: The Advantages of Careful Seeding".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from aldesk.al._arrays import as_f32, nearest, sq_norms


@dataclass(frozen=True, eq=False)
class KMeansResult:
    """centres (K, D) float32; labels (N,) int64 cluster of each item; sq_dists (N,) float32
    squared distance of each item to its centre."""

    centres: np.ndarray
    labels: np.ndarray
    sq_dists: np.ndarray


def kmeans_plus_plus(x: np.ndarray, k: int, rng: np.random.Generator,
                     x_sq: np.ndarray | None = None) -> np.ndarray:
    """Greedy k-means++ seeding: x (n, D) float32 -> (k,) int64 row indices of the seeds.

    Each step draws 2 + log(k) candidates with probability proportional to the squared distance
    to the nearest seed so far and keeps the one that lowers the total most.
    """
    n = len(x)
    if x_sq is None:
        x_sq = sq_norms(x)
    trials = 2 + int(math.log(max(k, 1)))
    seeds = [int(rng.integers(n))]
    d2 = np.maximum(x_sq - 2.0 * (x @ x[seeds[0]]) + x_sq[seeds[0]], 0.0).astype(np.float64)
    for _ in range(1, k):
        total = d2.sum()
        if total <= 0:  # every point coincides with a seed
            seeds.append(int(rng.integers(n)))
            continue
        cand = np.searchsorted(np.cumsum(d2), rng.random(trials) * total, side="right")
        cand = np.minimum(cand, n - 1)
        dc = np.maximum(x_sq[:, None] - 2.0 * (x @ x[cand].T) + x_sq[cand], 0.0)  # (n, trials)
        new = np.minimum(d2[:, None], dc)
        best = int(np.argmin(new.sum(axis=0)))
        seeds.append(int(cand[best]))
        d2 = new[:, best]
    return np.asarray(seeds, dtype=np.int64)


def _update_centres(x: np.ndarray, labels: np.ndarray, centres: np.ndarray,
                    d2: np.ndarray) -> np.ndarray:
    """Lloyd update: each centre moves to the mean of its points; an empty cluster is reseeded
    at the points farthest from their centres."""
    k = len(centres)
    counts = np.bincount(labels, minlength=k)
    onehot = np.zeros((k, len(x)), dtype=np.float32)
    onehot[labels, np.arange(len(x))] = 1.0
    sums = onehot @ x  # (K, D): one matrix product instead of a scatter-add
    new = centres.copy()
    present = counts > 0
    new[present] = sums[present] / counts[present, None].astype(np.float32)
    empty = np.flatnonzero(~present)
    if len(empty):
        far = np.argsort(-d2, kind="stable")[:len(empty)]
        new[empty[:len(far)]] = x[far]
    return new


def kmeans(x: np.ndarray, k: int, rng: np.random.Generator, *, n_iter: int = 10,
           max_fit: int = 5_000, max_seed: int = 2_000) -> KMeansResult:
    """Cluster x (N, D) into k clusters (k is capped at N).

    Seeds with greedy k-means++ on a random sample of max(max_seed, 10 k) rows and runs at most
    n_iter Lloyd iterations on a random sample of max(max_fit, 20 k) rows (all rows when N is
    smaller; the samples keep it fast for N = 100k, where each pass over the pool is memory
    bound), then assigns all N rows. Seeded by rng: the same rng state gives the same clusters.
    Returns a `KMeansResult`: centres (K, D), labels (N,), sq_dists (N,).
    """
    x = as_f32(x)
    n = len(x)
    if n == 0:
        return KMeansResult(np.zeros((0, x.shape[1]), np.float32), np.zeros(0, np.int64),
                            np.zeros(0, np.float32))
    k = max(1, min(int(k), n))
    fit_size = max(max_fit, 20 * k)
    fit = x if n <= fit_size else x[np.sort(rng.choice(n, fit_size, replace=False))]
    fit_sq = sq_norms(fit)
    seed_size = max(max_seed, 10 * k)
    seed_rows = (np.arange(len(fit)) if len(fit) <= seed_size
                 else np.sort(rng.choice(len(fit), seed_size, replace=False)))
    seeds = kmeans_plus_plus(fit[seed_rows], k, rng, fit_sq[seed_rows])
    centres = fit[seed_rows[seeds]].copy()
    labels = None
    for _ in range(n_iter):
        new_labels, d2 = nearest(fit, centres, fit_sq)
        if labels is not None and np.array_equal(new_labels, labels):
            break
        labels = new_labels
        centres = _update_centres(fit, labels, centres, d2)
    all_labels, all_d2 = nearest(x, centres)
    return KMeansResult(centres, all_labels, all_d2)
