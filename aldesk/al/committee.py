"""Query-by-committee scores: disagreement between the members of the committee.

Every function takes probs of shape (M, N, C) (M members, N pool items, C classes, rows sum to
1) and returns scores of shape (N,), float64, where higher means the members disagree more. With
M = 1 every score is 0.
"""

from __future__ import annotations

import numpy as np

from aldesk.al._arrays import EPS, as_committee, entropy_rows, mean_probs


def vote_entropy(probs: np.ndarray) -> np.ndarray:
    """Vote entropy: the entropy of the members' hard votes (argmax), in nats.

    probs (M, N, C) -> (N,) float64 in [0, log min(M, C)]; 0 when all members vote alike, the
    maximum when the votes split evenly. Takes few distinct values, so ties are common (the
    selection breaks them at random). Reference: Dagan & Engelson 1995, "Committee-based
    sampling for training probabilistic classifiers".
    """
    p = as_committee(probs)
    m, _, c = p.shape
    votes = p.argmax(axis=2)  # (M, N)
    counts = (votes[:, :, None] == np.arange(c)).sum(axis=0)  # (N, C)
    return entropy_rows(counts / m)


def consensus_kl(probs: np.ndarray) -> np.ndarray:
    """Mean Kullback-Leibler divergence of each member from the consensus (the mean):
    (1/M) sum_m KL(p_m || p̄), probabilities clipped at 1e-12 inside logs.

    probs (M, N, C) -> (N,) float64 >= 0; 0 when the members agree exactly, higher = they
    disagree more. Mathematically equal to `bald` (both are the generalised Jensen-Shannon
    divergence of the members); computed here from the KL form. Reference: McCallum & Nigam
    1998, "Employing EM and pool-based active learning for text classification".
    """
    p = as_committee(probs)
    log_mean = np.log(np.clip(mean_probs(p), EPS, 1.0))
    total = np.zeros(p.shape[1])
    for member in p:  # M is small; each step is vectorised over (N, C)
        pm = np.asarray(member, dtype=np.float64)
        total += np.einsum("nc,nc->n", pm, np.log(np.clip(pm, EPS, 1.0)) - log_mean)
    return np.maximum(total / p.shape[0], 0.0)


def bald(probs: np.ndarray) -> np.ndarray:
    """Committee mutual information (BALD): H[p̄] - (1/M) sum_m H[p_m], in nats.

    The information the label would give about which member is right: high when each member is
    confident but they disagree, low when they agree (even if all are unsure). probs (M, N, C)
    -> (N,) float64 >= 0. Reference: Houlsby et al. 2011, "Bayesian Active Learning for
    Classification and Preference Learning"; Gal, Islam & Ghahramani 2017, "Deep Bayesian
    Active Learning with Image Data".
    """
    p = as_committee(probs)
    mean_member_entropy = np.zeros(p.shape[1])
    for member in p:  # M is small; each step is vectorised over (N, C)
        mean_member_entropy += entropy_rows(member)
    mean_member_entropy /= p.shape[0]
    return np.maximum(entropy_rows(mean_probs(p)) - mean_member_entropy, 0.0)
