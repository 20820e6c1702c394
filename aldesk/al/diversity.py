"""Batch-aware diversity strategies that return a full ranking: k-center (core-set) and BADGE.

Both greedily pick `batch_size` items one after another (each pick depends on the earlier ones),
then rank the rest by their squared distance to the nearest picked (or labeled) point, farthest
first. Shapes: embeddings (N, D), labeled embeddings (L, D), probs (M, N, C). Each returns an
(N,) int64 permutation of range(N), best first. Work is float32 and vectorised over N; the only
Python loop runs over the batch_size picks.
"""

from __future__ import annotations

import numpy as np

from aldesk.al._arrays import (
    argmax_random_ties,
    as_f32,
    mean_probs,
    nearest,
    put_first,
    sq_dists_to,
    sq_norms,
)
from aldesk.al.select import rank


def k_center(embeddings: np.ndarray, labeled_embeddings: np.ndarray | None, batch_size: int,
             rng: np.random.Generator) -> np.ndarray:
    """Greedy k-center (core-set): repeatedly pick the item farthest from every centre so far.

    embeddings (N, D), labeled_embeddings (L, D) or None (L may be 0) -> (N,) int64 ranking.
    The labeled items are the initial centres; with none, the first pick is the item nearest the
    pool mean. After batch_size exact greedy picks the rest are ranked by squared distance to the
    nearest labeled or picked centre, descending (higher = less covered). Equal distances are
    broken by rng. Reference: Sener & Savarese 2018, "Active Learning for Convolutional Neural
    Networks: A Core-Set Approach"; Gonzalez 1985 (farthest-first traversal).
    """
    x = as_f32(embeddings)
    n = len(x)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    perm = rng.permutation(n)
    x_sq = sq_norms(x)
    picks: list[int] = []
    if labeled_embeddings is not None and len(labeled_embeddings):
        _, d2 = nearest(x, as_f32(labeled_embeddings), x_sq)
    else:
        centre = x.mean(axis=0, dtype=np.float64).astype(np.float32)
        first = int(perm[np.argmin(sq_dists_to(x, x_sq, centre)[perm])])
        picks.append(first)
        d2 = sq_dists_to(x, x_sq, x[first])
    d2 = d2.astype(np.float64)
    d2[picks] = -np.inf
    while len(picks) < min(batch_size, n):
        i = argmax_random_ties(d2, perm)
        picks.append(i)
        np.minimum(d2, sq_dists_to(x, x_sq, x[i]), out=d2)
        d2[i] = -np.inf
    return put_first(np.asarray(picks), rank(d2, rng))


def badge_gradients(probs: np.ndarray) -> np.ndarray:
    """probs (M, N, C) -> (N, C) float64 a = p̄ - onehot(argmax p̄): the factor of the last
    layer's gradient embedding g = a ⊗ [x, 1] under the model's own hypothesised label."""
    a = mean_probs(probs)
    a[np.arange(len(a)), a.argmax(axis=1)] -= 1.0
    return a


def badge(probs: np.ndarray, embeddings: np.ndarray, batch_size: int,
          rng: np.random.Generator) -> np.ndarray:
    """BADGE: k-means++ seeding on gradient embeddings g_i = (p̄_i - onehot(argmax p̄_i)) ⊗ [x_i, 1].

    probs (M, N, C), embeddings (N, D) -> (N,) int64 ranking. The first pick is the largest
    gradient (the most uncertain in gradient norm), each next one is drawn with probability
    proportional to its squared distance to the nearest pick, so the batch is both uncertain and
    diverse. The N x C(D+1) matrix is never built: ||a ⊗ x||^2 = ||a||^2 ||x||^2 and
    <a ⊗ x, b ⊗ y> = <a, b><x, y>. After batch_size picks the rest are ranked by that squared
    distance, descending (higher = a gradient unlike any picked). Stochastic: rng drives the
    draws. Reference: Ash et al. 2020, "Deep Batch Active Learning by Diverse, Uncertain Gradient
    Lower Bounds".
    """
    a = badge_gradients(probs)
    x = as_f32(embeddings)
    n = len(x)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    perm = rng.permutation(n)
    x_sq1 = sq_norms(x).astype(np.float64) + 1.0  # ||[x, 1]||^2
    g_sq = np.einsum("nc,nc->n", a, a) * x_sq1

    def sq_dist_to(i: int) -> np.ndarray:
        inner = (a @ a[i]) * ((x @ x[i]).astype(np.float64) + 1.0)
        return np.maximum(g_sq + g_sq[i] - 2.0 * inner, 0.0)

    first = argmax_random_ties(g_sq, perm)
    picks = [first]
    d2 = sq_dist_to(first)
    d2[first] = 0.0
    taken = np.zeros(n, dtype=bool)
    taken[first] = True
    while len(picks) < min(batch_size, n):
        total = d2.sum()
        if total > 0:
            i = int(np.searchsorted(np.cumsum(d2), rng.random() * total, side="right"))
            i = min(i, n - 1)
            if taken[i]:  # only by rounding at the very end of the cumsum
                i = int(np.flatnonzero(~taken)[-1])
        else:  # every remaining gradient coincides with a pick: draw uniformly
            i = int(rng.choice(np.flatnonzero(~taken)))
        picks.append(i)
        taken[i] = True
        np.minimum(d2, sq_dist_to(i), out=d2)
        d2[taken] = 0.0
    d2[taken] = -np.inf
    return put_first(np.asarray(picks), rank(d2, rng))
