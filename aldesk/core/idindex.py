"""Where an id sits in an array of ids, found by binary search.

A dict {id: position} over a 100k-item queue costs tens of milliseconds of interpreter time to
build (in the window's thread, or wherever it is unpickled); sorting the ids with numpy takes a
few milliseconds and a lookup is still microseconds.
"""

from __future__ import annotations

import numpy as np


class IdIndex:
    """Positions of ids in `ids` (unique integers, any order)."""

    def __init__(self, ids: np.ndarray | list[int]) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        self._order = np.argsort(ids, kind="stable")
        self._sorted = ids[self._order]

    def __len__(self) -> int:
        return len(self._sorted)

    def get(self, item_id: int) -> int | None:
        """The position of `item_id` in the ids, or None when it is not there."""
        k = int(np.searchsorted(self._sorted, item_id))
        if k < len(self._sorted) and int(self._sorted[k]) == item_id:
            return int(self._order[k])
        return None
