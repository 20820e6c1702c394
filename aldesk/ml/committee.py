"""The committee: M softmax-regression heads on cached embeddings, trained together.

Each member sees a bootstrap resample of the labels (as sample weights, so every member trains
on the same matrix) and its own L2 strength, spread log-uniformly around a base; classes are
weighted against imbalance. All M heads are fitted at once by full-batch L-BFGS on a (M, C, D)
weight tensor, which takes well under a second for thousands of labels on a CPU. Training is
seeded and reproducible. Weights are stored as an npz blob, never a pickle.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from aldesk.ml.ids import blocks, parts


@dataclass(frozen=True)
class Committee:
    """Trained heads. `classes` are the class ids the columns stand for."""

    classes: np.ndarray  # (C,) int64
    mean: np.ndarray  # (D,) float32: input centring
    scale: np.ndarray  # (K,) float32: scale after the projection
    coef: np.ndarray  # (M, C, K) float32
    intercept: np.ndarray  # (M, C) float32
    #: (P, Kp) PCA basis of the first P input dimensions (the rest pass through, so
    #: K = Kp + D - P), or None (K = D)
    projection: np.ndarray | None = None

    @property
    def members(self) -> int:
        return int(self.coef.shape[0])

    @cached_property
    def _folded(self) -> tuple[np.ndarray, np.ndarray]:
        """The preprocessing folded into the heads: logits = x @ W + b in one product, with no
        pass over the embeddings to centre, project or scale them (a 100k pool is 500 MB)."""
        m, c, k = self.coef.shape
        w = self.coef.reshape(m * c, k).T.astype(np.float64) / self.scale[:, None]  # (K, M*C)
        if self.projection is not None:
            kp = self.projection.shape[1]
            w = np.vstack([self.projection.astype(np.float64) @ w[:kp], w[kp:]])  # (D, M*C)
        b = self.intercept.reshape(m * c).astype(np.float64) - self.mean.astype(np.float64) @ w
        return w.astype(np.float32), b.astype(np.float32)

    def logits(self, x: np.ndarray, chunk: int = 32768) -> np.ndarray:
        """(N, D) embeddings -> (M, N, C) logits, float32, computed in chunks."""
        m, c, _ = self.coef.shape
        w, b = self._folded
        out = np.empty((m, len(x), c), np.float32)
        for start in range(0, len(x), chunk):
            z = np.asarray(x[start:start + chunk], np.float32) @ w
            z += b
            out[:, start:start + chunk] = z.reshape(len(z), m, c).transpose(1, 0, 2)
        return out

    def prepare(self, x: np.ndarray) -> np.ndarray:
        """(N, D) embeddings -> (N, K) standardised inputs of the heads."""
        return Preprocess(self.mean, self.scale, self.projection).apply(x)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, D) -> committee probabilities (M, N, C), each row summing to 1."""
        z = self.logits(x)
        z -= z.max(axis=2, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=2, keepdims=True)
        return z

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        extra = {} if self.projection is None else {"projection": self.projection}
        np.savez_compressed(buf, classes=self.classes, mean=self.mean, scale=self.scale,
                            coef=self.coef, intercept=self.intercept, **extra)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> Committee:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            projection = z["projection"] if "projection" in z.files else None
            return cls(z["classes"], z["mean"], z["scale"], z["coef"], z["intercept"],
                       projection)


@dataclass(frozen=True)
class Preprocess:
    """How embeddings become head inputs: centre, optionally project (PCA) the first P
    dimensions (all of them, or a combined representation's pixel part), scale."""

    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (K,)
    projection: np.ndarray | None = None  # (P, Kp), P <= D; K = Kp + D - P

    def apply(self, x: np.ndarray) -> np.ndarray:
        z = np.asarray(x, np.float32) - self.mean
        if self.projection is not None:
            p = self.projection.shape[0]
            head = z[:, :p] @ self.projection
            z = head if p == z.shape[1] else np.hstack([head, z[:, p:]])
        return z / self.scale


def standardiser(x: np.ndarray, dims: int | None = None, sample: int = 20_000) -> Preprocess:
    """Fitted on the whole pool (N, D), no labels needed: per-dimension standardisation, or
    with `dims` a PCA to that many components (for raw pixels: faster and no less accurate)."""
    x = np.asarray(x, np.float32)
    mean = x.mean(axis=0)
    projection = None
    z = x - mean
    if dims is not None and dims < x.shape[1]:
        step = max(1, len(z) // sample)
        _, _, vt = np.linalg.svd(z[::step], full_matrices=False)
        projection = vt[:dims].T.astype(np.float32)
        z = z @ projection
        # One scale for all components: whitening would blow the faint ones up to the same
        # weight as the main ones, which costs accuracy when labels are few.
        scale = np.full(z.shape[1], max(float(z.std()), 1e-6), np.float32)
        return Preprocess(mean.astype(np.float32), scale, projection)
    scale = z.std(axis=0)
    scale[scale < 1e-6] = 1.0
    return Preprocess(mean.astype(np.float32), scale.astype(np.float32), projection)


#: Representations whose raw dimensions are reduced by PCA before the heads (K components).
PCA_DIMS = {"pixels": 128}


def preprocess_for(representation: str, pool: np.ndarray) -> Preprocess:
    """The input preprocessing of the heads for a representation, fitted on the pool (N, D).

    Each block of inputs weighs as much as every other: a representation made of blocks
    (`ml.ids.blocks`: EfficientNet-Lite0's head features and two middle blocks' pooled
    outputs) has each block standardised, then scaled so that the blocks' total variances are
    equal (and sum to D, as after a plain standardisation); a combined representation
    ("pixels/...+efficientnet_lite0/...", `ml.ids`) has each part prepared as on its own, then
    scaled so that each part's total variance is K, the number of inputs of both. Raw pixels
    (128 PCA components) so weigh as much as the 1584 ImageNet features, whose larger number
    would otherwise drown them, and the 112 inputs of a middle block as much as the head's
    1280 (measured on digits, Fashion-MNIST, camera frames and small colour photos,
    docs/benchmarks.md)."""
    names = parts(representation)
    pool = np.asarray(pool, np.float32)
    if len(names) == 1:
        sizes = blocks(representation, pool.shape[1])
        if len(sizes) == 1:
            return standardiser(pool, PCA_DIMS.get(representation.split("/", 1)[0]))
        # Each block gets an equal share of the total variance D a plain standardisation
        # would give: the overall scale, which the L2 strength was chosen at, stays.
        return _equal_blocks([standardiser(part) for part in _split(pool, sizes)],
                             pool.shape[1] / len(sizes))
    if len(names) != 2 or not names[0].startswith("pixels/"):
        raise ValueError(f"no preprocessing for {representation}")
    d = pool.shape[1] - int(names[0].split("/")[1]) ** 2  # the pixel part is side x side
    first = standardiser(pool[:, :-d], PCA_DIMS["pixels"])
    second = preprocess_for(names[1], pool[:, -d:])
    k = len(first.scale) + len(second.scale)
    return _equal_blocks([first, second], k)


def _split(pool: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    ends = np.cumsum(sizes)
    return [pool[:, end - size:end] for size, end in zip(sizes, ends, strict=True)]


def _equal_blocks(preps: list[Preprocess], each: float) -> Preprocess:
    """Blocks' preprocessings side by side, each rescaled to a total variance of `each`. The
    inputs of every block have unit variance after its own preprocessing (a block's total is
    its number of inputs), so a factor sqrt(inputs / each) on its scale does it. Only the
    first block may project (it is first in the vector)."""
    if any(p.projection is not None for p in preps[1:]):
        raise ValueError("only the first block of a representation may be projected")
    scales = [p.scale * np.sqrt(len(p.scale) / each) for p in preps]
    return Preprocess(np.concatenate([p.mean for p in preps]),
                      np.concatenate(scales).astype(np.float32), preps[0].projection)


def train_committee(
    x: np.ndarray,
    y: np.ndarray,
    *,
    members: int = 10,
    l2: float = 1.0,
    spread: float = 4.0,
    seed: int = 0,
    standardise: Preprocess | None = None,
    max_iter: int = 100,
) -> Committee:
    """Fit `members` heads on labeled embeddings `x` (L, D) with class ids `y` (L,).

    `l2` is the base L2 strength per label (the loss is a weighted mean), members use
    `l2 * spread**u` with u evenly spread in [-1/2, 1/2]. With one member the resample is the
    identity, which is plain class-weighted logistic regression.
    """
    classes, y_index = np.unique(np.asarray(y), return_inverse=True)
    if len(classes) < 2:
        raise ValueError("a committee needs labels of at least two classes")
    prep = standardise or standardiser(x)
    xs = torch.from_numpy(prep.apply(x).astype(np.float32))
    n, d = xs.shape
    c = len(classes)
    rng = np.random.default_rng(seed)
    counts = np.bincount(y_index, minlength=c).astype(np.float64)
    class_w = (n / (c * counts))[y_index]
    weights = np.empty((members, n), np.float64)
    for k in range(members):
        if members == 1:
            draw = np.ones(n)
        else:  # bootstrap within each class, so every member sees every class
            draw = np.zeros(n)
            for cls in range(c):
                idx = np.flatnonzero(y_index == cls)
                np.add.at(draw, rng.choice(idx, size=len(idx)), 1.0)
        weights[k] = draw * class_w
    weights /= weights.sum(axis=1, keepdims=True)
    u = np.linspace(-0.5, 0.5, members) if members > 1 else np.zeros(1)
    lam = torch.tensor(l2 * spread**u / n, dtype=torch.float32)  # per member
    sw = torch.from_numpy(weights.astype(np.float32))  # (M, N)
    target = torch.from_numpy(y_index.astype(np.int64))
    torch.manual_seed(seed)
    w = torch.zeros(members, c, d, requires_grad=True)
    b = torch.zeros(members, c, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6)

    def closure() -> torch.Tensor:
        opt.zero_grad()
        z = torch.einsum("nd,mcd->mnc", xs, w) + b[:, None, :]
        nll = torch.nn.functional.cross_entropy(
            z.reshape(-1, c), target.repeat(members), reduction="none").reshape(members, n)
        loss = (sw * nll).sum() + 0.5 * (lam[:, None, None] * w * w).sum()
        loss.backward()
        return loss

    # These products are small: one thread is far faster than a pool that forks and joins
    # per kernel (measured on 2 cores: 12.4 s -> 2.2 s for 400 labels x 1280 dims, 4.3 s ->
    # 0.17 s for 12 labels), and denormal floats, common once weights settle, are flushed to
    # zero rather than emulated. Flushing stays on for the process.
    threads = torch.get_num_threads()
    torch.set_flush_denormal(True)
    torch.set_num_threads(1)
    try:
        with torch.set_grad_enabled(True):
            opt.step(closure)
    finally:
        torch.set_num_threads(threads)
    return Committee(classes.astype(np.int64), prep.mean, prep.scale,
                     w.detach().numpy().astype(np.float32), b.detach().numpy().astype(np.float32),
                     prep.projection)
