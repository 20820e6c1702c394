"""`PoolState`: the immutable snapshot of arrays that every query strategy reads.

Shapes: ``probs`` (M, N, C) committee probabilities (M members, N pool items, C classes, rows sum
to 1); ``embeddings`` (N, D) pool embeddings; ``labeled_embeddings`` (L, D) and
``labeled_classes`` (L,) for the items already labeled (L may be 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class PoolState:
    """What a strategy may know about the pool; arrays are not copied, never mutate them.

    probs: (M, N, C) committee probabilities, or None before a model exists. An (N, C) array is
        taken as a committee of one.
    embeddings: (N, D) pool embeddings, or None.
    labeled_embeddings: (L, D) embeddings of the labeled items, or None (L may be 0).
    labeled_classes: (L,) int class index of each labeled item, or None.
    n_items: N; inferred from probs or embeddings, needed only when neither is given.
    pixel_features: the embeddings are raw pixels, not learned features (`auto` then takes
        the lowest margins as they are: density among pixels follows stroke and position
        more than class).
    head_inputs: (N, K) the committee heads' own inputs (the embeddings after its
        preprocessing), or None. Gradient strategies (expected_gradient_length, badge) take
        the gradient of the head weights on these; None: on the embeddings.
    """

    probs: np.ndarray | None = None
    embeddings: np.ndarray | None = None
    labeled_embeddings: np.ndarray | None = None
    labeled_classes: np.ndarray | None = None
    n_items: int | None = None
    pixel_features: bool = False
    head_inputs: np.ndarray | None = None

    def __post_init__(self) -> None:
        sizes = {} if self.n_items is None else {"n_items": int(self.n_items)}
        if self.probs is not None:
            probs = np.asarray(self.probs)
            if probs.ndim == 2:
                probs = probs[None]
            if probs.ndim != 3 or probs.shape[0] < 1 or probs.shape[2] < 1:
                raise ValueError(f"probs must have shape (M, N, C), got {np.shape(self.probs)}")
            if not np.isfinite(probs).all():
                raise ValueError("probs contain NaN or infinite values")
            object.__setattr__(self, "probs", probs)
            sizes["probs"] = probs.shape[1]
        if self.embeddings is not None:
            if np.ndim(self.embeddings) != 2:
                raise ValueError(
                    f"embeddings must have shape (N, D), got {np.shape(self.embeddings)}")
            sizes["embeddings"] = np.shape(self.embeddings)[0]
        if self.head_inputs is not None:
            if np.ndim(self.head_inputs) != 2:
                raise ValueError(
                    f"head_inputs must have shape (N, K), got {np.shape(self.head_inputs)}")
            sizes["head_inputs"] = np.shape(self.head_inputs)[0]
        for name in ("embeddings", "labeled_embeddings", "head_inputs"):
            arr = getattr(self, name)
            if arr is not None and not np.isfinite(arr).all():
                raise ValueError(f"{name} contain NaN or infinite values")
        if len(set(sizes.values())) > 1:
            raise ValueError(f"pool sizes disagree: {sizes}")
        if not sizes:
            raise ValueError("PoolState needs probs, embeddings or n_items")
        object.__setattr__(self, "n_items", next(iter(sizes.values())))
        self._check_labeled()

    def _check_labeled(self) -> None:
        lab = self.labeled_embeddings
        if lab is not None:
            if np.ndim(lab) != 2:
                raise ValueError(f"labeled_embeddings must be (L, D), got {np.shape(lab)}")
            if self.embeddings is not None and np.shape(lab)[1] != np.shape(self.embeddings)[1]:
                raise ValueError("labeled_embeddings and embeddings differ in dimension D")
        classes = self.labeled_classes
        if classes is not None:
            if np.ndim(classes) != 1:
                raise ValueError(f"labeled_classes must be (L,), got {np.shape(classes)}")
            if lab is not None and len(classes) != len(lab):
                raise ValueError("labeled_classes and labeled_embeddings differ in length L")

    @property
    def n_labeled(self) -> int:
        """L, the number of labeled items known to the state."""
        for arr in (self.labeled_embeddings, self.labeled_classes):
            if arr is not None:
                return len(arr)
        return 0

    def labeled_counts(self, n_classes: int) -> np.ndarray:
        """(max(n_classes, largest class + 1),) int64 count of labeled items per class."""
        if self.labeled_classes is None or len(self.labeled_classes) == 0:
            return np.zeros(n_classes, dtype=np.int64)
        return np.bincount(np.asarray(self.labeled_classes, dtype=np.int64),
                           minlength=n_classes)
