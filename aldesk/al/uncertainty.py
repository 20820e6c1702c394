"""Single-model uncertainty scores, computed on the committee-mean probabilities.

Every function takes probs of shape (M, N, C) (M members, N pool items, C classes; an (N, C)
array is a committee of one) and returns scores of shape (N,), float64, where higher means more
worth labeling.
"""

from __future__ import annotations

import numpy as np

from aldesk.al._arrays import EPS, as_f32, entropy_rows, mean_probs


def random_scores(n_items: int, rng: np.random.Generator) -> np.ndarray:
    """Random sampling, the baseline every strategy must beat.

    Returns (N,) float64 uniform [0, 1) draws from rng; higher means nothing.
    """
    return rng.random(n_items)


def least_confidence(probs: np.ndarray) -> np.ndarray:
    """Least confidence: 1 - max_c p̄(c | x).

    probs (M, N, C) -> (N,) float64 in [0, 1 - 1/C]; higher = the consensus prediction is less
    sure. Reference: Lewis & Gale 1994, "A sequential algorithm for training text classifiers";
    Culotta & McCallum 2005, "Reducing labeling effort for structured prediction tasks".
    """
    return 1.0 - mean_probs(probs).max(axis=1)


def margin(probs: np.ndarray) -> np.ndarray:
    """Margin: 1 - (p̄1 - p̄2), the two most probable classes of the consensus.

    probs (M, N, C) -> (N,) float64 in [0, 1]; higher = a smaller margin, more uncertain. With
    C = 1 every score is 0. Reference: Scheffer, Decomain & Wrobel 2001, "Active hidden Markov
    models for information extraction".
    """
    p = mean_probs(probs)
    if p.shape[1] < 2:
        return np.zeros(p.shape[0])
    top2 = np.partition(p, p.shape[1] - 2, axis=1)[:, -2:]
    return 1.0 - (top2[:, 1] - top2[:, 0])


def entropy(probs: np.ndarray) -> np.ndarray:
    """Predictive entropy: H[p̄] = -sum_c p̄_c log p̄_c (nats, probabilities clipped at 1e-12).

    probs (M, N, C) -> (N,) float64 in [0, log C]; higher = the consensus is spread over more
    classes. Reference: Shannon 1948; Settles 2009, "Active Learning Literature Survey" §3.1.
    """
    return entropy_rows(mean_probs(probs))


def expected_gradient_length(probs: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Expected gradient length (expected model change) of a linear softmax head.

    For a head W of shape (C, D + 1) on input [x, 1], the cross-entropy gradient for label y is
    (p - e_y) ⊗ [x, 1], whose norm is ||p - e_y|| * sqrt(||x||^2 + 1). The score is its
    expectation over y ~ p̄ (the committee mean). The head's weights are not needed.

    probs (M, N, C), embeddings (N, D) -> (N,) float64 >= 0; higher = labeling the item is
    expected to change the head more. Reference: Settles, Craven & Ray 2008, "Multiple-Instance
    Active Learning"; Huang et al. 2016, "Active learning for speech recognition: the power of
    gradients".
    """
    p = mean_probs(probs)
    p_sq = np.einsum("nc,nc->n", p, p)
    # ||p - e_y||^2 = ||p||^2 - 2 p_y + 1, for every y at once: (N, C)
    grad_norm_y = np.sqrt(np.maximum(p_sq[:, None] - 2.0 * p + 1.0, 0.0))
    expected = np.einsum("nc,nc->n", p, grad_norm_y)
    x = as_f32(embeddings)
    x_norm = np.sqrt(np.einsum("ij,ij->i", x, x).astype(np.float64) + 1.0)
    return expected * x_norm


def information_density(embeddings: np.ndarray) -> np.ndarray:
    """Average cosine similarity of each item to the whole pool (itself included), floored at 0.

    embeddings (N, D) -> (N,) float64 in [0, 1]; higher = the item lies where the pool is dense
    (representative), lower = an outlier. Exact and O(N D): the mean of cosines equals the cosine
    to the sum of unit vectors, mean_j <x̂_i, x̂_j> = <x̂_i, mean_j x̂_j>, so no N x N matrix or
    reference subsample is needed. All-zero rows get density 0. Reference: Settles & Craven
    2008, "An Analysis of Active Learning Strategies for Sequence Labeling Tasks".
    """
    x = as_f32(embeddings)
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))
    inv = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
    centre = (inv @ x) / len(x)  # mean unit vector, (D,)
    density = (x @ centre).astype(np.float64) * inv
    return np.clip(density, 0.0, 1.0)


def density_weighted(probs: np.ndarray, embeddings: np.ndarray, beta: float = 1.0
                     ) -> np.ndarray:
    """Information density: entropy(probs) * information_density(embeddings) ** beta.

    probs (M, N, C), embeddings (N, D) -> (N,) float64 >= 0; higher = uncertain and
    representative of the pool; beta weighs the density term (0: plain entropy). Reference:
    Settles & Craven 2008, "An Analysis of Active Learning Strategies for Sequence Labeling
    Tasks".
    """
    if beta == 0:
        return entropy(probs)
    return entropy(probs) * np.maximum(information_density(embeddings), EPS) ** beta
