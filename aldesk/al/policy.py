"""What to label next: cold start, the `auto` policy, and scores for the saved queue.

Every strategy that needs a model starts cold: while no committee exists (fewer than two
classes labeled), it picks the most typical items of uncovered clusters (TypiClust), which
beats random picks on the first labels. `auto` is the policy we recommend and default to:
typicality for the cold start, then the committee's lowest margins spread over k-means
clusters of the candidates (margin + diversity), taking in each cluster the most typical of its
more uncertain half (margin_typicality). On raw pixels it takes each cluster's most uncertain
item instead (margin_diversity): there, on digits and Fashion-MNIST, typicality cost labels,
while on ImageNet features of Fashion-MNIST and camera frames it saved them. The benchmark in
docs/benchmarks.md (`aldesk simulate`) is why: see there for the curves and the alternatives
it beat.
"""

from __future__ import annotations

import numpy as np

from aldesk.al.context import PoolState
from aldesk.al.registry import STRATEGIES, get_strategy, rank_pool
from aldesk.al.registry import score_pool as registry_scores
from aldesk.al.select import rank

AUTO = "auto"
COLD_START = "typicality"
AUTO_WARM = "margin_typicality"
AUTO_WARM_PIXELS = "margin_diversity"
#: Batch size the batch-aware strategies assume when ranking a whole queue.
QUEUE_BATCH = 20


def warm_strategy(pixel_features: bool) -> str:
    """The strategy `auto` stands for once a committee exists."""
    return AUTO_WARM_PIXELS if pixel_features else AUTO_WARM


def stands_for(name: str, pixel_features: bool) -> str:
    """The strategy `name` means once a committee exists (`auto` resolved)."""
    return warm_strategy(pixel_features) if name == AUTO else name


def known_strategies() -> list[str]:
    return [AUTO, *STRATEGIES]


def resolve(name: str, state: PoolState) -> str:
    """The registered strategy `name` stands for now (`auto` and cold starts resolved)."""
    name = stands_for(name, state.pixel_features)
    strategy = get_strategy(name)
    if strategy.needs_probs and state.probs is None:
        return COLD_START if state.embeddings is not None else "random"
    return name


def choose(name: str, state: PoolState, need: int, rng: np.random.Generator) -> np.ndarray:
    """The next `need` picks (positions in the pool of `state`), best first."""
    return rank_pool(resolve(name, state), state, max(1, need), rng)[:need]


def score_pool(name: str, state: PoolState, rng: np.random.Generator
               ) -> tuple[np.ndarray, np.ndarray]:
    """((N,) scores, (N,) ranking) for the saved queue. For batch-aware strategies the score
    is derived from the rank (1 for the first item, falling to 0 for the last)."""
    resolved = resolve(name, state)
    if get_strategy(resolved).output == "scores":
        scores = registry_scores(resolved, state, rng)
        return scores, rank(scores, rng)
    ranking = rank_pool(resolved, state, QUEUE_BATCH, rng)
    n = len(ranking)
    scores = np.empty(n, np.float64)
    scores[ranking] = 1.0 - np.arange(n) / max(n, 1)
    return scores, ranking
