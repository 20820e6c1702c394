"""The model's accuracy measured on audit items, without the bias of active learning. No Qt.

Accuracy cross-validated on the labels the model asked for is pessimistic: active learning
asks for the hardest items. So one position in ten of the queue goes to an *audit* item, drawn
at random from the unlabeled items (`browse.with_audits`) and labeled with the model's guess
hidden. That annotation has origin "audit" and keeps the hidden guess (`suggested_class_id`,
`suggestion_shown` 0) and the model version; the share of audit items whose label (as it
stands now, merges applied) equals the guess of their latest blind answer estimates how often
the model is right on the items still unlabeled, with a Wilson interval. Reading walks the
annotations back from the newest and stops after `RECENT` audits: a few hundred rows, however
long the project's history.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from aldesk.core.types import LabelState
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store.classes import list_classes, resolve_merges

#: The estimate uses the most recent audits: older ones judged older, weaker models.
RECENT = 50


@dataclass(frozen=True)
class AuditEstimate:
    audits: int  # audit items counted (labeled with one class)
    correct: int  # of them, the hidden guess was the label
    low: float  # 95 % Wilson interval of the accuracy
    high: float
    first_version: int  # model versions that made the guesses
    last_version: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.audits

    def text(self) -> str:
        versions = (f"model v{self.last_version}" if self.first_version == self.last_version
                    else f"models v{self.first_version}-v{self.last_version}")
        items = "item" if self.audits == 1 else "items"
        return (f"{self.accuracy:.0%} on {self.audits} random audit {items} "
                f"(95% interval {self.low:.0%}-{self.high:.0%}; {versions})")


def audit_estimate(project: Project, recent: int = RECENT,
                   labels: dict[int, LabelState] | None = None) -> AuditEstimate | None:
    """The estimate from the `recent` latest audit items that carry a label; None if none.
    `labels`: the items' current labels when the caller holds them (the app does)."""
    merged = resolve_merges(list_classes(project))
    rows = project.conn.execute(  # newest first, read lazily: stops with the loop
        "SELECT item_id, suggested_class_id, model_version FROM annotations"
        " WHERE origin = 'audit' AND suggested_class_id IS NOT NULL ORDER BY id DESC")
    judged: list[tuple[bool, int]] = []
    seen: set[int] = set()
    for item_id, guess, version in rows:
        if item_id in seen:
            continue  # answered blind twice (an undo, then again): the latest answer counts
        seen.add(item_id)
        if labels is None:
            labels = store_ann.current_all(project)
        state = labels.get(item_id)
        if state is None or state.kind != "label" or len(state.class_ids) != 1:
            continue  # undone, skipped, unsure, or a multi-label answer
        judged.append((merged.get(guess, guess) == state.class_ids[0], int(version or 0)))
        if len(judged) == recent:
            break
    if not judged:
        return None
    n = len(judged)
    correct = sum(ok for ok, _ in judged)
    low, high = wilson(correct, n)
    versions = [v for _, v in judged]
    return AuditEstimate(n, correct, low, high, min(versions), max(versions))


def was_audited(project: Project, item_id: int) -> bool:
    """Whether the item was ever answered as an audit item (one indexed lookup)."""
    return project.conn.execute(
        "SELECT 1 FROM annotations WHERE item_id = ? AND origin = 'audit' LIMIT 1",
        (item_id,)).fetchone() is not None


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k/n (n >= 1)."""
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
