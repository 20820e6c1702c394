"""Small vectorised helpers shared by the strategies. numpy only.

Shapes follow the package: probs (M, N, C), embeddings (N, D).
"""

from __future__ import annotations

import numpy as np

#: Probabilities are clipped to at least this before a log.
EPS = 1e-12
#: Rows of X processed per block when a (rows x centres) distance matrix is built.
CHUNK = 8192


def as_committee(probs: np.ndarray) -> np.ndarray:
    """probs (M, N, C), or (N, C) taken as M = 1 -> a (M, N, C) view, never a copy."""
    p = np.asarray(probs)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3:
        raise ValueError(f"probs must have shape (M, N, C), got {p.shape}")
    return p


def mean_probs(probs: np.ndarray) -> np.ndarray:
    """probs (M, N, C) -> (N, C) float64 committee-mean (consensus) probabilities."""
    return as_committee(probs).mean(axis=0, dtype=np.float64)


def entropy_rows(p: np.ndarray) -> np.ndarray:
    """p (..., C) -> (...,) float64 Shannon entropy in nats; zero entries contribute 0."""
    p = np.asarray(p, dtype=np.float64)
    return -np.einsum("...c,...c->...", p, np.log(np.clip(p, EPS, 1.0)))


def as_f32(x: np.ndarray) -> np.ndarray:
    """Any float array -> C-contiguous float32 (no copy when it already is)."""
    return np.ascontiguousarray(x, dtype=np.float32)


def sq_norms(x: np.ndarray) -> np.ndarray:
    """x (N, D) -> (N,) float32 squared Euclidean norms."""
    return np.einsum("ij,ij->i", x, x)


def sq_dists_to(x: np.ndarray, x_sq: np.ndarray, c: np.ndarray) -> np.ndarray:
    """x (N, D), x_sq (N,), one point c (D,) -> (N,) float32 squared distances, >= 0."""
    d2 = x_sq - 2.0 * (x @ c) + float(c @ c)
    return np.maximum(d2, 0.0, out=d2)


def nearest(x: np.ndarray, centres: np.ndarray, x_sq: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray]:
    """x (N, D), centres (K, D), float32 -> (index (N,) int64, squared distance (N,) float32)
    of each row's nearest centre, in blocks of CHUNK rows so memory stays O(CHUNK * K)."""
    if x_sq is None:
        x_sq = sq_norms(x)
    c_sq = sq_norms(centres)
    idx = np.empty(len(x), dtype=np.int64)
    d2 = np.empty(len(x), dtype=np.float32)
    for start in range(0, len(x), CHUNK):
        block = c_sq - 2.0 * (x[start:start + CHUNK] @ centres.T)
        j = np.argmin(block, axis=1)
        idx[start:start + CHUNK] = j
        d2[start:start + CHUNK] = block[np.arange(len(j)), j] + x_sq[start:start + CHUNK]
    return idx, np.maximum(d2, 0.0, out=d2)


def argmax_random_ties(values: np.ndarray, perm: np.ndarray) -> int:
    """values (N,), perm a permutation of range(N) -> index of a maximum; among equal maxima
    the one that comes first in perm (so ties do not favour low indices)."""
    return int(perm[np.argmax(values[perm])])


def group_positions(ranking: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """ranking (N,) a permutation, groups (N,) int label per item -> (N,) int64: for each item,
    how many items of its group come before it in the ranking."""
    g = groups[ranking]
    idx = np.argsort(g, kind="stable")
    gs = g[idx]
    starts = np.flatnonzero(np.r_[True, gs[1:] != gs[:-1]])
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(gs)]))
    pos = np.empty(len(ranking), dtype=np.int64)
    pos[ranking[idx]] = np.arange(len(gs)) - run_start
    return pos


def put_first(picks: np.ndarray, rest_order: np.ndarray) -> np.ndarray:
    """picks (B,) distinct indices, rest_order (N,) a permutation -> (N,) permutation: picks in
    their order, then the others in rest_order's order."""
    picks = np.asarray(picks, dtype=np.int64)
    taken = np.zeros(len(rest_order), dtype=bool)
    taken[picks] = True
    return np.concatenate([picks, rest_order[~taken[rest_order]]])
