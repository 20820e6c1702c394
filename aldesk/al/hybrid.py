"""Hybrid strategies: uncertainty first, then diversity within the most uncertain items."""

from __future__ import annotations

import numpy as np

from aldesk.al._arrays import as_f32, put_first
from aldesk.al.kmeans import kmeans
from aldesk.al.select import rank
from aldesk.al.typicality import pool_typicality
from aldesk.al.uncertainty import margin


def margin_diversity(probs: np.ndarray, embeddings: np.ndarray, batch_size: int,
                     rng: np.random.Generator, *, pre_factor: int = 10) -> np.ndarray:
    """Margin pre-filter, then k-means for diversity.

    probs (M, N, C), embeddings (N, D) -> (N,) int64 ranking. Takes the pre_factor * batch_size
    items with the smallest margin (most uncertain), clusters their embeddings into batch_size
    clusters and picks the most uncertain item of each cluster (in margin order), so the batch
    covers different regions; then all other items follow by margin (higher `margin` score =
    more uncertain). Stochastic: rng seeds the k-means and breaks margin ties. Reference:
    Zhdanov 2019, "Diverse mini-batch Active Learning"; Citovsky et al. 2021, "Batch Active
    Learning at Scale" (cluster-margin).
    """
    by_margin = rank(margin(probs), rng)
    top = by_margin[:min(len(by_margin), max(1, pre_factor) * batch_size)]
    labels = kmeans(as_f32(np.asarray(embeddings)[top]), batch_size, rng).labels
    _, first_of_cluster = np.unique(labels, return_index=True)  # positions in margin order
    picks = top[np.sort(first_of_cluster)]
    return put_first(picks, by_margin)


def margin_typicality(probs: np.ndarray, embeddings: np.ndarray, batch_size: int,
                      rng: np.random.Generator, *, pre_factor: int = 10) -> np.ndarray:
    """Margin pre-filter, k-means for diversity, and the most typical of the uncertain.

    probs (M, N, C), embeddings (N, D) -> (N,) int64 ranking. As margin_diversity, but each
    cluster's pick is the most typical item (densest part of the pool, see pool_typicality) of
    the more uncertain half of the cluster, not its single most uncertain item: among learned
    features the most uncertain items are often atypical images (odd crops, clutter,
    ambiguous shapes) whose label teaches the heads little about the rest. Then all other items
    follow by margin. Stochastic: rng seeds the k-means, the pool sample and margin ties.
    Reference: Settles & Craven 2008 (information density); Hacohen et al. 2022 (typicality).
    """
    by_margin = rank(margin(probs), rng)
    top = by_margin[:min(len(by_margin), max(1, pre_factor) * batch_size)]
    x = as_f32(np.asarray(embeddings))
    labels = kmeans(x[top], batch_size, rng).labels
    typical = pool_typicality(x, top, rng)
    picks = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)  # positions in `top`, most uncertain first
        half = members[:(len(members) + 1) // 2]
        picks.append(half[np.argmax(typical[half])])  # a position in `top`
    return put_first(top[np.sort(np.asarray(picks, dtype=np.int64))], by_margin)  # margin order
