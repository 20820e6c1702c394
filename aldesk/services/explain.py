"""Why an item is in the queue, and what the committee thinks of it, in words. No Qt."""

from __future__ import annotations

import numpy as np

from aldesk.al.registry import get_strategy
from aldesk.services.ranking import Ranking

_STRATEGY_WORDS = {
    "margin_diversity": "the committee is least sure between its top two classes here, and "
                        "the pick is spread over clusters so a batch covers different looks",
    "margin_typicality": "the committee is least sure between its top two classes here, the "
                         "pick is spread over clusters, and it is typical of its cluster rather "
                         "than an odd one out",
    "typicality": "no model yet: this item is typical of a group of similar items that has "
                  "no label yet (cold start)",
    "margin": "the committee's top two classes are close",
    "least_confidence": "the committee's best guess is weak",
    "entropy": "the committee's probabilities are spread over many classes",
    "vote_entropy": "the committee members disagree",
    "consensus_kl": "the members disagree with their consensus",
    "bald": "the members disagree with confidence (mutual information)",
    "expected_gradient_length": "labeling it would change the model most",
    "density_weighted": "uncertain and in a dense region of the pool",
    "k_center": "far from everything labeled so far",
    "badge": "uncertain and unlike the rest of the batch",
    "random": "drawn at random",
}


AUDIT_WHY = ("Audit: drawn at random from the unlabeled items, with the model's guess hidden. "
             "Your answers here measure how often the model is right, without the bias of "
             "choosing hard items.")


def describe_prediction(ranking: Ranking | None, item_id: int, names: dict[int, str]
                        ) -> str:
    """'Committee: 7 of 10 say cat (p 0.62); 3 say dog.' or '' without a committee."""
    found = None if ranking is None else ranking.prediction(item_id)
    if found is None or ranking is None:
        return ""
    probs, votes = found
    order = np.argsort(-votes.astype(np.int64), kind="stable")
    cols = [int(j) for j in order if votes[j] > 0]
    if not cols:
        return ""
    first = cols[0]
    lead = (f"{int(votes[first])} of {ranking.members} members say "
            f"{names.get(ranking.class_ids[first], '?')} (p {float(probs[first]):.2f})")
    others = [f"{int(votes[j])} say {names.get(ranking.class_ids[j], '?')}" for j in cols[1:3]]
    return "; ".join([lead, *others]) + "."


def why(ranking: Ranking | None, item_id: int, names: dict[int, str]) -> str:
    """One or two sentences on why this item is shown now."""
    if ranking is None:
        return "Not ranked yet: the model is still reading the items."
    if item_id in ranking.admitted:
        reason = "it arrived in the watched folder and was informative enough to queue"
    else:
        found = ranking.rank_of(item_id)
        if found is None:
            return describe_prediction(ranking, item_id, names) or "Not in the ranked queue."
        rank, score = found
        if np.isnan(score):
            return "New since the last round: the next round will score it."
        words = _STRATEGY_WORDS.get(ranking.strategy, ranking.strategy)
        reason = f"rank {rank + 1:,} of {len(ranking.queue):,}: {words}"
    said = describe_prediction(ranking, item_id, names)
    return f"Why: {reason}." + (f" {said}" if said else "")


def queue_line(ranking: Ranking | None, item_id: int, names: dict[int, str]) -> str:
    """The queue's second line for an unlabeled item: '#3 · score 0.42  ·  cat 0.61'. The
    score only where it says more than the rank: batch strategies (auto among them) score by
    rank, so every item near the top would read 1.00."""
    if ranking is None:
        return "not scored yet"
    parts = []
    found = ranking.rank_of(item_id)
    if found is not None and not np.isnan(found[1]):
        parts.append(f"#{found[0] + 1:,}" + (f" · score {found[1]:.2f}"
                                               if _scores_say_more(ranking.strategy) else ""))
    pred = ranking.prediction(item_id)
    if pred is not None:
        j = int(pred[0].argmax())
        parts.append(f"{names.get(ranking.class_ids[j], '?')} {float(pred[0][j]):.2f}")
    return "  ·  ".join(parts) or "not scored yet"


def _scores_say_more(strategy: str) -> bool:
    try:
        return get_strategy(strategy).output == "scores"
    except ValueError:  # not a registered strategy (e.g. a stream round)
        return True
