"""Active learning: query strategies as pure functions of arrays, and batch selection.

numpy only: this package receives arrays (committee probabilities (M, N, C), embeddings (N, D))
and never imports torch, sklearn or the ml layer. Start at `rank_pool`.
"""

from aldesk.al.balance import class_balanced
from aldesk.al.committee import bald, consensus_kl, vote_entropy
from aldesk.al.context import PoolState
from aldesk.al.diversity import badge, k_center
from aldesk.al.hybrid import margin_diversity, margin_typicality
from aldesk.al.kmeans import kmeans
from aldesk.al.registry import STRATEGIES, Strategy, get_strategy, rank_pool, score_pool
from aldesk.al.select import rank
from aldesk.al.typicality import typicality
from aldesk.al.uncertainty import (
    density_weighted,
    entropy,
    expected_gradient_length,
    information_density,
    least_confidence,
    margin,
    random_scores,
)

__all__ = [
    "STRATEGIES",
    "PoolState",
    "Strategy",
    "badge",
    "bald",
    "class_balanced",
    "consensus_kl",
    "density_weighted",
    "entropy",
    "expected_gradient_length",
    "get_strategy",
    "information_density",
    "k_center",
    "kmeans",
    "least_confidence",
    "margin",
    "margin_diversity",
    "margin_typicality",
    "random_scores",
    "rank",
    "rank_pool",
    "score_pool",
    "typicality",
    "vote_entropy",
]
