"""Cold-start selection without a model: the most typical item of each uncovered cluster."""

from __future__ import annotations

import numpy as np

from aldesk.al._arrays import (
    as_f32,
    group_positions,
    nearest,
    put_first,
    sq_norms,
)
from aldesk.al.kmeans import kmeans
from aldesk.al.select import rank


def typicality_scores(x: np.ndarray, k_neighbours: int = 20) -> np.ndarray:
    """x (n, D) float32 -> (n,) float64 typicality: 1 / mean Euclidean distance to the item's
    k nearest neighbours in x (itself excluded); higher = in a denser part of x. A lone item
    gets +inf. Builds an n x n matrix: call it on one cluster (or a sample of it)."""
    return pool_typicality(x, np.arange(len(x)), None, k_neighbours=k_neighbours,
                           max_pool=len(x))


def pool_typicality(x: np.ndarray, idx: np.ndarray, rng: np.random.Generator | None, *,
                    k_neighbours: int = 20, max_pool: int = 5000) -> np.ndarray:
    """x (N, D) pool, idx (n,) positions in it -> (n,) float64 typicality of those items within
    the whole pool: 1 / mean Euclidean distance to their k nearest neighbours (themselves
    excluded) among the pool, or among a random max_pool of it when N is larger (and rng is
    given). Higher = in a denser part of the pool. n x min(N, max_pool) distances: keep idx
    small."""
    x = as_f32(x)
    idx = np.asarray(idx, dtype=np.int64)
    if len(idx) == 0 or len(x) < 2:
        return np.full(len(idx), np.inf)
    if len(x) <= max_pool or rng is None:
        ref = np.arange(len(x))
    else:
        ref = np.sort(rng.choice(len(x), max_pool, replace=False))
    cand = x[idx]
    d2 = np.maximum(sq_norms(cand)[:, None] - 2.0 * (cand @ x[ref].T)
                    + sq_norms(x[ref])[None, :], 0.0)
    d2[ref[None, :] == idx[:, None]] = np.inf  # not its own neighbour
    k = max(1, min(k_neighbours, len(ref) - 1))
    knn = np.partition(d2, k - 1, axis=1)[:, :k]
    mean_dist = np.sqrt(knn.astype(np.float64)).mean(axis=1)
    return 1.0 / np.maximum(mean_dist, 1e-12)


#: Cap on the number of clusters and the smallest cluster worth a pick, as in TypiClust.
MAX_CLUSTERS = 500
MIN_CLUSTER_SIZE = 5


def typicality(embeddings: np.ndarray, labeled_embeddings: np.ndarray | None,
               batch_size: int, rng: np.random.Generator, *, k_neighbours: int = 20,
               max_candidates: int = 1000) -> np.ndarray:
    """TypiClust: cluster the pool into min(L + batch_size, 500) clusters, then take the most
    typical item of the least covered cluster, largest first, batch_size times.

    embeddings (N, D), labeled_embeddings (L, D) or None (L may be 0) -> (N,) int64 ranking.
    Needs no model, so it suits the cold start. Each pick goes to the cluster holding the fewest
    labeled-or-picked items (ties: the larger cluster; clusters under 5 items only when no other
    is left). Typicality is 1 / mean distance to the k = 20 nearest neighbours within the
    cluster (within a random sample of max_candidates items of a larger cluster); higher = more
    typical. After the picks the rest go round-robin over the clusters in that priority, each
    cluster's items nearest its centre first. Stochastic: rng seeds the k-means. Reference:
    Hacohen, Dekel & Weinshall 2022, "Active Learning on a Budget: Opposite Strategies Suit High
    and Low Budgets".
    """
    x = as_f32(embeddings)
    n = len(x)
    if n == 0:
        return np.empty(0, dtype=np.int64)
    n_labeled = 0 if labeled_embeddings is None else len(labeled_embeddings)
    clusters = kmeans(x, min(n_labeled + batch_size, MAX_CLUSTERS), rng)
    k = len(clusters.centres)
    sizes = np.bincount(clusters.labels, minlength=k)
    coverage = np.zeros(k, dtype=np.int64)
    if n_labeled:
        coverage += np.bincount(nearest(as_f32(labeled_embeddings), clusters.centres)[0],
                                minlength=k)
    members = np.argsort(clusters.labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    tiebreak = rng.permutation(k)
    small = sizes < min(MIN_CLUSTER_SIZE, sizes.max())
    available = sizes.copy()  # candidates not yet picked, per cluster
    candidates: dict[int, np.ndarray] = {}  # cluster -> its candidates, most typical first
    picks: list[int] = []
    for _ in range(batch_size):  # a loop over the batch, not over the pool
        c = int(np.lexsort((tiebreak, -sizes, coverage, small, available == 0))[0])
        if available[c] == 0:
            break
        if c not in candidates:
            idx = members[starts[c]:starts[c] + sizes[c]]
            if len(idx) > max_candidates:
                idx = np.sort(rng.choice(idx, max_candidates, replace=False))
            candidates[c] = idx[rank(typicality_scores(x[idx], k_neighbours), rng)]
            available[c] = len(idx)
        picks.append(int(candidates[c][len(candidates[c]) - available[c]]))
        available[c] -= 1
        coverage[c] += 1
    priority = np.empty(k, dtype=np.int64)
    priority[np.lexsort((tiebreak, -sizes, coverage))] = np.arange(k)
    perm = rng.permutation(n)
    by_distance = perm[np.argsort(clusters.sq_dists[perm], kind="stable")]
    pos = group_positions(by_distance, clusters.labels)
    rest = np.lexsort((priority[clusters.labels], pos))
    return put_first(np.asarray(picks, dtype=np.int64), rest)
