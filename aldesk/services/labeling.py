"""Labeling acts as undoable commands, and the clock of time spent per item. No Qt.

Every act is one committed transaction before the caller moves on (`store.annotations.record`).
Undo never deletes: it appends a row that restores the item's previous state and names the row it
takes back; redo appends the act again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from aldesk.core.types import LabelState, Provenance
from aldesk.store import Project
from aldesk.store import annotations as store_ann

#: Gaps between two inputs longer than this count as this much: a coffee break is not labeling.
IDLE_CAP_S = 60.0


@dataclass
class LabelCommand:
    """Label, skip or mark unsure one item (kind "label", "skip" or "unsure")."""

    project: Project
    item_id: int
    kind: str
    class_ids: tuple[int, ...]
    annotator: str
    text: str
    seconds: float | None = None
    provenance: Provenance = field(default_factory=Provenance)
    origin: str = "app"  # of the first act: "app", or "audit" for an item drawn at random
    annotation_id: int | None = None
    _before: LabelState | None = None
    _times: int = 0

    def do(self) -> None:
        if self._times == 0:
            self._before = store_ann.current(self.project, self.item_id)
        self.annotation_id = store_ann.record(
            self.project, self.item_id, self.kind, self.class_ids, annotator=self.annotator,
            seconds_spent=self.seconds if self._times == 0 else None,
            origin=self.origin if self._times == 0 else "redo", provenance=self.provenance)
        self._times += 1

    def undo(self) -> None:
        before = self._before
        kind, ids = ("clear", ()) if before is None else (before.kind, before.class_ids)
        store_ann.record(self.project, self.item_id, kind, ids, annotator=self.annotator,
                         origin="undo", reverts=self.annotation_id)

    @property
    def previous(self) -> LabelState | None:
        """The item's label before this command (what undo restores)."""
        return self._before


class ActiveTimer:
    """Seconds of attention: the time between inputs, each gap capped at `idle_cap`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 idle_cap: float = IDLE_CAP_S) -> None:
        self._clock = clock
        self._cap = idle_cap
        self._last = clock()
        self._item_seconds = 0.0
        self.session_seconds = 0.0

    def touch(self) -> None:
        """Any input (key, click, wheel) counts the time since the previous one."""
        now = self._clock()
        gap = min(max(0.0, now - self._last), self._cap)
        self._item_seconds += gap
        self.session_seconds += gap
        self._last = now

    def idle_for(self) -> float:
        """Seconds since the last input."""
        return max(0.0, self._clock() - self._last)

    def start_item(self) -> None:
        """A new item is on screen: its count starts at zero."""
        self.touch()
        self._item_seconds = 0.0

    def item_seconds(self) -> float:
        self.touch()
        return round(self._item_seconds, 3)


class SessionStats:
    """Labels made in this sitting and the rate per active minute."""

    def __init__(self, timer: ActiveTimer) -> None:
        self._timer = timer
        self.labels = 0

    def add(self, n: int = 1) -> None:
        self.labels = max(0, self.labels + n)

    def per_minute(self) -> float | None:
        minutes = self._timer.session_seconds / 60.0
        return None if minutes < 0.25 else self.labels / minutes
