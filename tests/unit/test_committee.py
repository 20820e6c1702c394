"""The committee of softmax heads: accurate, reproducible, imbalance-aware, stored safely."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.datasets import load_digits

from aldesk.ml.committee import Committee, standardiser, train_committee


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    return x.astype(np.float32), y


def test_accurate_on_real_digits(digits):
    x, y = digits
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    train, test = order[:1300], order[1300:]
    committee = train_committee(x[train], y[train], members=5, seed=0)
    probs = committee.predict_proba(x[test])
    assert probs.shape == (5, len(test), 10)
    assert np.allclose(probs.sum(axis=2), 1.0, atol=1e-5)
    accuracy = (committee.classes[probs.mean(0).argmax(1)] == y[test]).mean()
    assert accuracy >= 0.95


def test_seeded_reproducible_and_members_differ(digits):
    x, y = digits
    a = train_committee(x[:300], y[:300], members=4, seed=3)
    b = train_committee(x[:300], y[:300], members=4, seed=3)
    c = train_committee(x[:300], y[:300], members=4, seed=4)
    assert np.array_equal(a.coef, b.coef) and np.array_equal(a.intercept, b.intercept)
    assert not np.array_equal(a.coef, c.coef)
    spread = np.abs(a.coef[0] - a.coef[1]).mean()
    assert spread > 1e-3  # bootstrap resamples and L2 strengths make members disagree


def test_class_weights_protect_a_rare_class(digits):
    x, y = digits
    keep = np.flatnonzero((y == 0) | (y == 1))
    rare = keep[y[keep] == 1][:8]
    common = keep[y[keep] == 0][:150]
    train = np.concatenate([common, rare])
    committee = train_committee(x[train], y[train], members=3, seed=0)
    test = np.setdiff1d(keep, train)
    pred = committee.classes[committee.predict_proba(x[test]).mean(0).argmax(1)]
    recall_rare = (pred[y[test] == 1] == 1).mean()
    assert recall_rare > 0.8


def test_weights_round_trip_without_pickle(digits):
    x, y = digits
    committee = train_committee(x[:200], y[:200], members=3, seed=0,
                                standardise=standardiser(x))
    blob = committee.to_bytes()
    assert b"pickle" not in blob
    back = Committee.from_bytes(blob)
    assert np.array_equal(back.predict_proba(x[:50]), committee.predict_proba(x[:50]))


def test_needs_two_classes(digits):
    x, y = digits
    with pytest.raises(ValueError, match="two classes"):
        train_committee(x[y == 3][:10], y[y == 3][:10])


def test_combined_parts_weigh_the_same_and_fold_into_the_heads(digits):
    """Pixels and ImageNet features side by side: the pixel part through its PCA, the other
    standardised, each part with the same total variance; the heads' folded product equals
    preparing the inputs first."""
    from aldesk.ml.committee import preprocess_for

    x8, y = digits
    rng = np.random.default_rng(0)
    pixels = np.kron(x8.reshape(-1, 8, 8) / 16.0, np.ones((4, 4))).reshape(len(y), 1024)
    features = rng.gamma(0.5, 2.0, (len(y), 1280)) + np.eye(10)[y] @ rng.normal(0, 3, (10, 1280))
    x = np.hstack([pixels, features]).astype(np.float32)
    rep = "pixels/32/v2+efficientnet_lite0/224/v3"
    prep = preprocess_for(rep, x)
    z = prep.apply(x)
    assert z.shape == (len(y), 128 + 1280)
    first, second = z[:, :128].var(0).sum(), z[:, 128:].var(0).sum()
    assert first == pytest.approx(1408, rel=0.02) and second == pytest.approx(1408, rel=0.02)
    np.testing.assert_allclose(z[:, :128], preprocess_for("pixels/32/v2", pixels).apply(pixels)
                               * np.sqrt(1408 / 128), rtol=1e-3, atol=1e-3)
    committee = train_committee(x[:300], y[:300], members=3, seed=0, standardise=prep)
    by_hand = np.einsum("nk,mck->mnc", z[300:], committee.coef) + committee.intercept[:, None]
    np.testing.assert_allclose(committee.logits(x[300:]), by_hand, rtol=1e-3, atol=1e-3)
    back = Committee.from_bytes(committee.to_bytes())
    assert np.array_equal(back.predict_proba(x[300:]), committee.predict_proba(x[300:]))
    accuracy = (committee.classes[committee.predict_proba(x[300:]).mean(0).argmax(1)]
                == y[300:]).mean()
    assert accuracy > 0.9


def test_imagenet_feature_blocks_weigh_the_same_alone_and_beside_pixels(digits):
    """efficientnet_lite0 v4 vectors: the head's 1280 features and two middle blocks' 192 and
    112, each block standardised and given a third of the total variance; beside pixels the
    three blocks together weigh as much as the pixel part. A v3 vector (1280) is one block."""
    from aldesk.ml.committee import preprocess_for

    x8, y = digits
    rng = np.random.default_rng(1)
    sizes, scales = (1280, 192, 112), (0.3, 5.0, 40.0)  # wildly different raw scales
    x = np.hstack([rng.gamma(0.5, s, (len(y), n)) for n, s in zip(sizes, scales, strict=True)]
                  ).astype(np.float32)
    z = preprocess_for("efficientnet_lite0/224/v4", x).apply(x)
    bounds = np.cumsum((0, *sizes))
    totals = [z[:, a:b].var(0).sum() for a, b in itertools.pairwise(bounds)]
    assert totals == pytest.approx([1584 / 3] * 3, rel=0.02)
    within = z[:, :1280].var(0)
    assert within.min() == pytest.approx(within.max(), rel=0.02)  # standardised inside
    old = preprocess_for("efficientnet_lite0/224/v3", x[:, :1280]).apply(x[:, :1280])
    assert old.var(0).sum() == pytest.approx(1280, rel=0.02)

    pixels = np.kron(x8.reshape(-1, 8, 8) / 16.0, np.ones((4, 4))).reshape(len(y), 1024)
    both = np.hstack([pixels, x]).astype(np.float32)
    zb = preprocess_for("pixels/32/v2+efficientnet_lite0/224/v4", both).apply(both)
    k = 128 + 1584
    assert zb[:, :128].var(0).sum() == pytest.approx(k, rel=0.02)
    parts = [zb[:, 128 + a:128 + b].var(0).sum() for a, b in itertools.pairwise(bounds)]
    assert parts == pytest.approx([k / 3] * 3, rel=0.02)
