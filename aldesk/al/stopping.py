"""When to stop labeling: stabilizing predictions (Bloodgood and Vijay-Shanker, "A method for
stopping active learning based on stabilizing predictions", 2009).

The predictions of successive model versions on a fixed sample of unlabeled items (the stop
set) are compared with Cohen's kappa; once they agree at or above `threshold` for `window`
successive versions, further labels are unlikely to change the model much.
"""

from __future__ import annotations

import numpy as np


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float:
    """Agreement of two (N,) label vectors beyond chance; 1 when identical."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) == 0:
        return 1.0
    observed = float((a == b).mean())
    classes = np.union1d(a, b)
    pa = np.array([(a == c).mean() for c in classes])
    pb = np.array([(b == c).mean() for c in classes])
    expected = float((pa * pb).sum())
    return 1.0 if expected >= 1.0 else (observed - expected) / (1.0 - expected)


def stop_set(n: int, size: int = 2000, seed: int = 0) -> np.ndarray:
    """A fixed random sample of at most `size` positions out of n (sorted)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=min(size, n), replace=False))


def stabilized(kappas: list[float], threshold: float = 0.99, window: int = 3) -> bool:
    """True when the last `window` agreements between successive versions reach threshold."""
    return len(kappas) >= window and all(k >= threshold for k in kappas[-window:])
