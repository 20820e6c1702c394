"""Stream-based selective sampling: decide for each arriving item, once, whether to queue it.

Variable-uncertainty sampling with a budget (Zliobaite et al., "Active learning with drifting
streaming data", 2014): an item is queued when the committee's confidence in it is below a
threshold and the labeling budget allows; the threshold moves down after each queued item
(ask only for harder ones) and up after each passed one (ask again sooner), so the rate of
questions follows the budget. The budget is a fraction of arrivals over a sliding window.

Items that arrive together (a burst of camera frames seen in one look at the folder) are
decided together: the least confident first, as many as the budget allows over the window
with the burst in it; one by one, the first frames of a burst would take the budget whatever
the later ones hold.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass
class StreamSelector:
    """budget: the largest fraction of arrivals queued over the last `window` arrivals.
    step: how fast the confidence threshold moves. threshold: the starting threshold."""

    budget: float = 0.1
    window: int = 200
    step: float = 0.02
    threshold: float = 0.9
    _recent: deque[bool] = field(default_factory=deque, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 < self.budget <= 1.0:
            raise ValueError("the stream budget is a fraction of arrivals in (0, 1]")

    @property
    def spent(self) -> float:
        """Fraction of the recent arrivals that were queued."""
        return sum(self._recent) / len(self._recent) if self._recent else 0.0

    def recent(self) -> str:
        """The decisions of the window as "0"/"1", oldest first: to save and `restore`."""
        return "".join("1" if t else "0" for t in self._recent)

    def restore(self, recent: str) -> None:
        """Takes back a window saved by `recent` (a restarted watcher keeps its budget)."""
        self._recent = deque((c == "1" for c in recent[-self.window:]), maxlen=None)

    def offer_many(self, confidences: list[float]) -> list[bool]:
        """Whether to queue each of items that arrived together, given their top-class
        probabilities: the least confident first, within the budget over the window that
        ends with them. The window records them in arrival order."""
        n = len(confidences)
        if n <= 1:
            return [self.offer(c) for c in confidences]
        before = list(self._recent)[max(0, len(self._recent) + n - self.window):]
        seen = max(len(before) + n, math.ceil(1 / self.budget - 1e-9))
        allowed = math.floor(self.budget * seen + 1e-9) - sum(before)
        take = [False] * n
        for k in sorted(range(n), key=lambda k: confidences[k]):
            if allowed <= 0:
                break
            if confidences[k] < self.threshold:
                take[k] = True
                allowed -= 1
                self.threshold *= 1.0 - self.step
            else:  # could have been asked: ask sooner next
                self.threshold = min(1.0, self.threshold * (1.0 + self.step))
        self._recent.extend(take)
        while len(self._recent) > self.window:
            self._recent.popleft()
        return take

    def offer(self, confidence: float) -> bool:
        """Whether to queue an item whose top-class probability is `confidence` (0..1)."""
        # Queued items stay within `budget` of the recent arrivals (of at least 1/budget of
        # them, so the very first item can be asked), never a burst at the start.
        seen = max(len(self._recent) + 1, math.ceil(1 / self.budget - 1e-9))
        within_budget = sum(self._recent) + 1 <= self.budget * seen + 1e-9
        take = within_budget and confidence < self.threshold
        if take:
            self.threshold *= 1.0 - self.step
        elif within_budget:  # passed although it could have been asked: ask sooner next
            self.threshold = min(1.0, self.threshold * (1.0 + self.step))
        self._recent.append(take)
        if len(self._recent) > self.window:
            self._recent.popleft()
        return take
