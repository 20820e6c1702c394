"""The strategy registry: every query strategy by name, what it needs, and one entry point that
returns the full ranking for any of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from aldesk.al import committee, uncertainty
from aldesk.al.context import PoolState
from aldesk.al.diversity import badge, k_center
from aldesk.al.hybrid import margin_diversity, margin_typicality
from aldesk.al.select import rank
from aldesk.al.typicality import typicality

#: run(state, batch_size, rng) -> (N,) scores or (N,) ranking, see Strategy.output.
Runner = Callable[[PoolState, int, np.random.Generator], np.ndarray]


@dataclass(frozen=True)
class Strategy:
    """A registered query strategy.

    output: "scores" ((N,) float64, higher = more worth labeling; `rank` orders them) or
        "ranking" ((N,) int64 permutation, best first; batch-aware, uses batch_size).
    needs_probs / needs_embeddings: `rank_pool` refuses a state that lacks them.
    uses_labeled: reads state.labeled_embeddings when present (none *requires* labeled data).
    stochastic: the ranking depends on rng beyond breaking ties of equal scores.
    """

    name: str
    run: Runner
    output: Literal["scores", "ranking"]
    needs_probs: bool
    needs_embeddings: bool
    uses_labeled: bool
    stochastic: bool
    summary: str


def _scores(name: str, fn: Callable[[PoolState], np.ndarray], *, embeddings: bool = False,
            summary: str) -> Strategy:
    return Strategy(name, lambda state, _batch, _rng: fn(state), "scores", needs_probs=True,
                    needs_embeddings=embeddings, uses_labeled=False, stochastic=False,
                    summary=summary)


def _head_inputs(state: PoolState) -> np.ndarray:
    """What the heads see: their gradient is taken w.r.t. weights on these inputs."""
    return state.embeddings if state.head_inputs is None else state.head_inputs


#: Strategies whose scores are gradients of the head weights: they read state.head_inputs.
HEAD_GRADIENT = frozenset({"expected_gradient_length", "badge"})

_ALL = [
    Strategy("random", lambda s, _b, rng: uncertainty.random_scores(s.n_items, rng), "scores",
             needs_probs=False, needs_embeddings=False, uses_labeled=False, stochastic=True,
             summary="uniformly at random (baseline)"),
    _scores("least_confidence", lambda s: uncertainty.least_confidence(s.probs),
            summary="1 - max class probability"),
    _scores("margin", lambda s: uncertainty.margin(s.probs),
            summary="1 - (top1 - top2) probability margin"),
    _scores("entropy", lambda s: uncertainty.entropy(s.probs), summary="predictive entropy"),
    _scores("vote_entropy", lambda s: committee.vote_entropy(s.probs),
            summary="entropy of the committee's votes (QBC)"),
    _scores("consensus_kl", lambda s: committee.consensus_kl(s.probs),
            summary="mean KL of members from the consensus (QBC)"),
    _scores("bald", lambda s: committee.bald(s.probs),
            summary="committee mutual information (BALD)"),
    _scores("expected_gradient_length",
            lambda s: uncertainty.expected_gradient_length(s.probs, _head_inputs(s)),
            embeddings=True, summary="expected gradient length of the softmax head"),
    _scores("density_weighted", lambda s: uncertainty.density_weighted(s.probs, s.embeddings),
            embeddings=True, summary="entropy x average cosine similarity to the pool"),
    Strategy("k_center", lambda s, b, rng: k_center(s.embeddings, s.labeled_embeddings, b, rng),
             "ranking", needs_probs=False, needs_embeddings=True, uses_labeled=True,
             stochastic=False, summary="greedy k-center core-set"),
    Strategy("badge", lambda s, b, rng: badge(s.probs, _head_inputs(s), b, rng), "ranking",
             needs_probs=True, needs_embeddings=True, uses_labeled=False, stochastic=True,
             summary="k-means++ on gradient embeddings (BADGE)"),
    Strategy("typicality",
             lambda s, b, rng: typicality(s.embeddings, s.labeled_embeddings, b, rng),
             "ranking", needs_probs=False, needs_embeddings=True, uses_labeled=True,
             stochastic=True, summary="most typical item per uncovered cluster (TypiClust)"),
    Strategy("margin_diversity", lambda s, b, rng: margin_diversity(s.probs, s.embeddings, b, rng),
             "ranking", needs_probs=True, needs_embeddings=True, uses_labeled=False,
             stochastic=True, summary="lowest margins, one per k-means cluster"),
    Strategy("margin_typicality",
             lambda s, b, rng: margin_typicality(s.probs, s.embeddings, b, rng), "ranking",
             needs_probs=True, needs_embeddings=True, uses_labeled=False, stochastic=True,
             summary="lowest margins, one per k-means cluster: its most typical uncertain item"),
]

#: Every query strategy by name.
STRATEGIES: dict[str, Strategy] = {s.name: s for s in _ALL}


def get_strategy(name: str) -> Strategy:
    """The registered strategy called name; ValueError listing the valid names otherwise."""
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(f"unknown strategy {name!r}; valid strategies: "
                         f"{', '.join(STRATEGIES)}") from None


def check_state(strategy: Strategy, state: PoolState) -> None:
    """ValueError when state lacks the arrays the strategy needs."""
    if strategy.needs_probs and state.probs is None:
        raise ValueError(f"strategy {strategy.name!r} needs model probabilities "
                         "(state.probs is None): train a model first")
    if strategy.needs_embeddings and state.embeddings is None:
        raise ValueError(f"strategy {strategy.name!r} needs embeddings "
                         "(state.embeddings is None)")


def score_pool(name: str, state: PoolState, rng: np.random.Generator) -> np.ndarray:
    """(N,) float64 scores (higher = more worth labeling) of a scoring strategy; ValueError for
    a batch-aware strategy, which only ranks."""
    strategy = get_strategy(name)
    if strategy.output != "scores":
        raise ValueError(f"strategy {name!r} returns a ranking, not scores")
    check_state(strategy, state)
    return np.asarray(strategy.run(state, 1, rng), dtype=np.float64)


def rank_pool(name: str, state: PoolState, batch_size: int, rng: np.random.Generator
              ) -> np.ndarray:
    """The full ranking of the pool under strategy name: (N,) int64 permutation of range(N),
    best first. batch_size (>= 1, capped at N) is used by the batch-aware strategies; rng seeds
    tie-breaking and any randomness, so the same rng state gives the same ranking.
    ValueError for an unknown name or a state lacking what the strategy needs."""
    strategy = get_strategy(name)
    check_state(strategy, state)
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    n = state.n_items
    if n == 0:
        return np.empty(0, dtype=np.int64)
    out = strategy.run(state, min(batch_size, n), rng)
    if strategy.output == "scores":
        return rank(out, rng)
    return np.asarray(out, dtype=np.int64)
