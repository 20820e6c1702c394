"""Hybrid strategies: uncertainty first, then diversity within the most uncertain items."""

from __future__ import annotations

import numpy as np

from aldesk.al._arrays import as_f32, put_first
from aldesk.al.kmeans import kmeans
from aldesk.al.select import rank
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
