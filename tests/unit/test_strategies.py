"""Query strategies (aldesk.al): one shared template for every registered strategy, then
hand-built inputs whose answers are known."""

from __future__ import annotations

import ast
import math
import sys
from pathlib import Path

import numpy as np
import pytest

from aldesk.al import (
    STRATEGIES,
    PoolState,
    badge,
    bald,
    class_balanced,
    consensus_kl,
    density_weighted,
    entropy,
    expected_gradient_length,
    k_center,
    kmeans,
    least_confidence,
    margin,
    margin_diversity,
    margin_typicality,
    rank,
    rank_pool,
    score_pool,
    typicality,
    vote_entropy,
)

ALL = sorted(STRATEGIES)
N, D, M, C = 40, 5, 4, 3


def make_state(n: int = N, dtype: type = np.float64, seed: int = 0, **overrides) -> PoolState:
    """Continuous random inputs: no two items tie on any score."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(C), size=(M, n)).astype(dtype)
    arrays = {
        "probs": probs,
        "embeddings": rng.normal(size=(n, D)).astype(dtype),
        "labeled_embeddings": rng.normal(size=(3, D)).astype(dtype),
        "labeled_classes": np.array([0, 1, 1]),
    }
    arrays.update(overrides)
    return PoolState(**arrays)


def rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def is_permutation(ranking: np.ndarray, n: int) -> bool:
    return ranking.shape == (n,) and np.array_equal(np.sort(ranking), np.arange(n))


# --- the shared template, over every registered strategy -------------------------------------


@pytest.mark.parametrize("name", ALL)
def test_ranking_is_a_permutation(name):
    state = make_state()
    for batch in (1, 5, N, 3 * N):
        ranking = rank_pool(name, state, batch, rng())
        assert ranking.dtype == np.int64
        assert is_permutation(ranking, N)


@pytest.mark.parametrize("name", ALL)
def test_same_seed_same_ranking(name):
    state = make_state()
    assert np.array_equal(rank_pool(name, state, 5, rng(7)), rank_pool(name, state, 5, rng(7)))


@pytest.mark.parametrize("name", ALL)
def test_different_seeds_differ_only_in_ties(name):
    strategy = STRATEGIES[name]
    state = make_state()
    a, b = rank_pool(name, state, 5, rng(1)), rank_pool(name, state, 5, rng(2))
    if strategy.stochastic:  # the rng drives the strategy itself (sampling, k-means seeding)
        assert is_permutation(a, N) and is_permutation(b, N)
    elif strategy.output == "scores":
        scores = score_pool(name, state, rng(0))
        assert np.array_equal(scores[a], scores[b])
        assert np.all(np.diff(scores[a]) <= 0)
    else:  # continuous inputs have no ties
        assert np.array_equal(a, b)


def test_ties_do_change_with_the_seed():
    """vote_entropy takes few values, so its ties are visible: seeds reorder them."""
    state = make_state(n=200)
    rankings = {tuple(rank_pool("vote_entropy", state, 5, rng(s))) for s in range(3)}
    assert len(rankings) > 1


@pytest.mark.parametrize("name", ALL)
def test_works_with_one_item(name):
    state = make_state(n=1)
    assert rank_pool(name, state, 5, rng()).tolist() == [0]


@pytest.mark.parametrize("name", ALL)
def test_works_with_float32(name):
    s32, s64 = make_state(dtype=np.float32), make_state(dtype=np.float64)
    ranking = rank_pool(name, s32, 5, rng())
    assert is_permutation(ranking, N)
    if STRATEGIES[name].output == "scores":
        scores = score_pool(name, s32, rng())
        assert scores.dtype == np.float64
        np.testing.assert_allclose(scores, score_pool(name, s64, rng()), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_needs_probs_refuses_none(name):
    state = make_state(probs=None)
    if STRATEGIES[name].needs_probs:
        with pytest.raises(ValueError, match="needs model probabilities"):
            rank_pool(name, state, 5, rng())
    else:
        assert is_permutation(rank_pool(name, state, 5, rng()), N)


@pytest.mark.parametrize("name", ALL)
def test_needs_embeddings_refuses_none(name):
    state = make_state(embeddings=None, labeled_embeddings=None)
    if STRATEGIES[name].needs_embeddings:
        with pytest.raises(ValueError, match="needs embeddings"):
            rank_pool(name, state, 5, rng())
    else:
        assert is_permutation(rank_pool(name, state, 5, rng()), N)


@pytest.mark.parametrize("name", ALL)
def test_works_without_labeled_items(name):
    state = make_state(labeled_embeddings=np.zeros((0, D)), labeled_classes=np.zeros(0, int))
    assert is_permutation(rank_pool(name, state, 5, rng()), N)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("classes", [1, 3])
def test_works_when_every_item_is_the_same(name, classes):
    """All ties: identical probabilities and embeddings (zero vectors too), or a single class."""
    probs = np.full((M, N, classes), 1 / classes)
    for x in (np.ones((N, D)), np.zeros((N, D))):
        state = PoolState(probs=probs, embeddings=x, labeled_embeddings=x[:2])
        ranking = rank_pool(name, state, 5, rng())
        assert is_permutation(ranking, N)


def test_unknown_strategy_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"unknown strategy 'nope'.*entropy.*badge"):
        rank_pool("nope", make_state(), 5, rng())


def test_bad_batch_size_and_empty_pool():
    with pytest.raises(ValueError, match="batch_size"):
        rank_pool("entropy", make_state(), 0, rng())
    empty = PoolState(probs=np.zeros((M, 0, C)), embeddings=np.zeros((0, D)))
    assert rank_pool("k_center", empty, 5, rng()).shape == (0,)
    probs, x = np.zeros((M, 0, C)), np.zeros((0, D))
    for ranking in (k_center(x, None, 5, rng()), badge(probs, x, 5, rng()),
                    typicality(x, None, 5, rng()), margin_diversity(probs, x, 5, rng()),
                    margin_typicality(probs, x, 5, rng())):
        assert ranking.shape == (0,) and ranking.dtype == np.int64


def test_pool_state_checks_shapes():
    probs = np.full((M, N, C), 1 / C)
    with pytest.raises(ValueError, match="disagree"):
        PoolState(probs=probs, embeddings=np.zeros((N + 1, D)))
    with pytest.raises(ValueError, match=r"\(M, N, C\)"):
        PoolState(probs=np.zeros(N))
    with pytest.raises(ValueError, match="NaN"):
        PoolState(probs=np.full((M, N, C), np.nan))
    with pytest.raises(ValueError, match="needs probs"):
        PoolState()
    assert PoolState(n_items=7).n_items == 7
    assert PoolState(probs=probs[0]).probs.shape == (1, N, C)  # (N, C): a committee of one
    state = make_state()
    assert state.n_items == N and state.n_labeled == 3
    assert state.labeled_counts(4).tolist() == [1, 2, 0, 0]


def test_score_pool_refuses_ranking_strategies():
    with pytest.raises(ValueError, match="returns a ranking"):
        score_pool("badge", make_state(), rng())


# --- rank() -----------------------------------------------------------------------------------


def test_rank_breaks_ties_by_seed():
    scores = np.zeros(50)
    assert np.array_equal(rank(scores, rng(3)), rank(scores, rng(3)))
    assert not np.array_equal(rank(scores, rng(3)), rank(scores, rng(4)))
    assert not np.array_equal(rank(scores, rng(3)), np.arange(50))  # no low-index favour


def test_rank_strict_order_is_seed_independent():
    scores = np.random.default_rng(0).permutation(50).astype(float)
    expected = np.argsort(-scores)
    for seed in range(5):
        assert np.array_equal(rank(scores, rng(seed)), expected)


def test_rank_puts_nan_last_and_ties_within_their_level():
    scores = np.array([1.0, np.nan, 3.0, 1.0, 3.0])
    ranking = rank(scores, rng())
    assert set(ranking[:2]) == {2, 4} and set(ranking[2:4]) == {0, 3} and ranking[4] == 1


# --- hand-built probabilities with known answers ---------------------------------------------


def test_uncertainty_ranks_the_uniform_item_first():
    probs = np.array([[[0.9, 0.05, 0.05], [1 / 3, 1 / 3, 1 / 3], [0.05, 0.9, 0.05]]])
    for fn in (least_confidence, margin, entropy):
        assert rank(fn(probs), rng())[0] == 1
    np.testing.assert_allclose(least_confidence(probs), [0.1, 2 / 3, 0.1])


def test_margin_and_entropy_disagree_by_design():
    a, b = [0.5, 0.5, 0.0], [0.4, 0.3, 0.3]
    probs = np.array([[a, b]])
    np.testing.assert_allclose(margin(probs), [1 - (0.5 - 0.5), 1 - (0.4 - 0.3)])
    h = [-2 * 0.5 * math.log(0.5), -(0.4 * math.log(0.4) + 2 * 0.3 * math.log(0.3))]
    np.testing.assert_allclose(entropy(probs), h)
    assert margin(probs)[0] > margin(probs)[1]  # a tie between two classes is the least sure
    assert entropy(probs)[1] > entropy(probs)[0]  # mass over three classes is the most spread


def test_scores_use_the_committee_mean():
    probs = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # the mean is (0.5, 0.5)
    np.testing.assert_allclose(entropy(probs), [math.log(2)])
    np.testing.assert_allclose(margin(probs), [1.0])


def test_vote_entropy_zero_when_agreeing_max_when_split():
    agree = [[0.6, 0.4], [0.9, 0.1], [0.7, 0.3], [0.55, 0.45]]
    split = [[0.6, 0.4], [0.9, 0.1], [0.3, 0.7], [0.45, 0.55]]
    probs = np.array([agree, split]).transpose(1, 0, 2)  # (M=4, N=2, C=2)
    np.testing.assert_allclose(vote_entropy(probs), [0.0, math.log(2)], atol=1e-12)


def test_consensus_kl_and_bald_see_disagreement_behind_an_equal_mean():
    same = [[0.5, 0.5], [0.5, 0.5]]  # members identical (and unsure)
    differ = [[0.9, 0.1], [0.1, 0.9]]  # members sure but opposed; the mean is also (0.5, 0.5)
    identical_confident = [[0.8, 0.2], [0.8, 0.2]]
    probs = np.array([same, differ, identical_confident]).transpose(1, 0, 2)  # (2, 3, 2)
    for fn in (consensus_kl, bald):
        s = fn(probs)
        assert s[0] == pytest.approx(0, abs=1e-12) and s[2] == pytest.approx(0, abs=1e-12)
        assert s[1] > 0.3
    expected = math.log(2) - (-(0.9 * math.log(0.9) + 0.1 * math.log(0.1)))
    assert bald(probs)[1] == pytest.approx(expected)
    np.testing.assert_allclose(entropy(probs)[:2], [math.log(2)] * 2)  # entropy can't tell


def test_consensus_kl_equals_bald():
    probs = make_state().probs
    np.testing.assert_allclose(consensus_kl(probs), bald(probs), atol=1e-12)


def test_egl_grows_with_the_embedding_norm():
    probs = np.full((1, 2, 2), 0.5)
    x = np.array([[3.0, 4.0], [0.3, 0.4]])
    s = expected_gradient_length(probs, x)
    assert s[0] > s[1]
    # ||p - e_y|| = sqrt(0.5) for both y; ||[x, 1]|| = sqrt(26)
    assert s[0] == pytest.approx(math.sqrt(0.5) * math.sqrt(26))
    sure = expected_gradient_length(np.array([[[1.0, 0.0]]]), x[:1])
    assert sure[0] == pytest.approx(0.0)


def test_density_weighted_prefers_the_dense_cluster():
    g = np.random.default_rng(0)
    cluster = np.array([1.0, 0.0, 0.0]) + 0.05 * g.normal(size=(30, 3))
    outlier = np.array([[0.0, 0.0, 1.0]])
    x = np.vstack([cluster, outlier])
    probs = np.full((1, 31, 2), 0.5)  # all equally uncertain
    s = density_weighted(probs, x)
    assert s[-1] < s[:-1].min()
    np.testing.assert_allclose(density_weighted(probs, x, beta=0), entropy(probs))


# --- batch-aware strategies ------------------------------------------------------------------


def test_k_center_picks_the_farthest_point_first():
    x = np.arange(11.0)[:, None] * np.array([[1.0, 0.0]])  # points 0..10 on a line
    ranking = k_center(x, x[:1], 3, rng())  # point 0 is labeled
    assert ranking[0] == 10 and ranking[1] == 5
    assert ranking[2] in {2, 3, 7, 8}  # all at distance 2 from the centres: a tie
    assert ranking[-1] == 0  # the labeled point itself is covered


def test_k_center_without_labels_starts_central():
    x = np.arange(11.0)[:, None]
    ranking = k_center(x, None, 2, rng())
    assert ranking[0] == 5 and ranking[1] in {0, 10}  # the mean, then an end (a tie)


def test_badge_first_picks_come_from_different_gradient_directions():
    """3 groups of 10 equally unsure items; within a group the gradient embeddings nearly
    coincide (same probabilities, embeddings 1e-3 apart), across groups they point elsewhere."""
    g = np.random.default_rng(0)
    groups = np.repeat([0, 1, 2], 10)
    x = np.eye(3)[groups] * 2 + 1e-3 * g.normal(size=(30, 3))
    probs = np.tile([0.4, 0.35, 0.25], (1, 30, 1))
    for seed in range(5):
        picks = badge(probs, x, 3, rng(seed))[:3]
        assert sorted(groups[picks]) == [0, 1, 2]


def test_badge_starts_with_the_largest_gradient():
    probs = np.array([[[0.9, 0.1], [0.5, 0.5], [0.6, 0.4], [0.99, 0.01]]])
    x = np.ones((4, 2))
    assert badge(probs, x, 2, rng())[0] == 1


def _blobs(n_per: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    g = np.random.default_rng(seed)
    centres = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0], [20.0, 20.0]])
    blob = np.repeat(np.arange(4), n_per)
    return centres[blob] + g.normal(size=(4 * n_per, 2)), blob, centres


def test_typicality_picks_one_typical_point_per_blob():
    x, blob, centres = _blobs()
    for seed in range(3):
        picks = typicality(x, None, 4, rng(seed))[:4]
        assert sorted(blob[picks]) == [0, 1, 2, 3]
        dist = np.linalg.norm(x - centres[blob], axis=1)
        for p in picks:
            assert dist[p] < np.median(dist[blob == blob[p]])


def test_typicality_skips_blobs_that_are_already_labeled():
    x, blob, _ = _blobs()
    picks = typicality(x, x[blob == 0][:2], 3, rng())[:3]
    assert sorted(blob[picks]) == [1, 2, 3]


def test_margin_diversity_covers_different_clusters():
    g = np.random.default_rng(0)
    cluster = np.repeat([0, 1, 2, 3], 10)  # clusters 0-2 unsure, in that order; 3 confident
    x = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]])[cluster]
    x = x + 0.1 * g.normal(size=x.shape)
    gap = np.linspace(0.0, 0.6, 40)  # the margin grows with the index: item 0 least sure
    probs = np.stack([0.5 + gap / 2, 0.5 - gap / 2], axis=1)[None]
    assert set(cluster[rank(margin(probs), rng())[:3]]) == {0}  # plain margin: one cluster
    picks = margin_diversity(probs, x, 3, rng(), pre_factor=10)[:3]
    assert sorted(cluster[picks]) == [0, 1, 2]
    assert picks[0] == 0  # the most uncertain item leads


def test_margin_typicality_takes_the_typical_of_the_uncertain_not_the_odd_one_out():
    """Two blobs; the least sure item of the left one lies off it. margin_diversity takes that
    odd item, margin_typicality an uncertain item inside the blob, and both cover both."""
    g = np.random.default_rng(0)
    blob = np.repeat([0, 1], 20)
    x = np.array([[0.0, 0.0], [10.0, 0.0]])[blob] + 0.1 * g.normal(size=(40, 2))
    x[0] = [0.0, 1.5]  # off the left blob, still nearer it than the right one
    gap = np.concatenate([np.linspace(0.0, 0.6, 20), np.linspace(0.01, 0.61, 20)])
    probs = np.stack([0.5 + gap / 2, 0.5 - gap / 2], axis=1)[None]
    assert rank(margin(probs), rng())[0] == 0  # the odd item is the least sure
    plain = margin_diversity(probs, x, 2, rng())[:2]
    typical = margin_typicality(probs, x, 2, rng())[:2]
    assert 0 in plain and sorted(blob[plain]) == [0, 1]
    assert 0 not in typical and sorted(blob[typical]) == [0, 1]
    uncertain_half = set(range(1, 6))  # of the left blob's 10 candidates, by margin
    assert set(typical.tolist()) & uncertain_half


def test_auto_is_typical_margins_on_learned_features_and_plain_margins_on_pixels():
    from aldesk.al.policy import AUTO, choose, resolve

    state = make_state()
    pixels = make_state(pixel_features=True)
    assert resolve(AUTO, state) == "margin_typicality"
    assert resolve(AUTO, pixels) == "margin_diversity"
    assert resolve(AUTO, make_state(probs=None)) == "typicality"  # cold start
    assert resolve("margin", pixels) == "margin"
    assert np.array_equal(choose(AUTO, state, 5, rng()),
                          rank_pool("margin_typicality", state, 5, rng())[:5])


def test_class_balanced_favours_rare_classes():
    ranking = np.arange(10)
    predicted = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1])
    out = class_balanced(ranking, predicted, np.array([10, 0]), 3)
    assert out[:3].tolist() == [6, 7, 8]  # class 1 has no labels yet
    assert out[3:].tolist() == [0, 1, 2, 3, 4, 5, 9]  # then the strategy's order
    even = class_balanced(ranking, predicted, np.array([5, 5]), 4)
    assert even[:4].tolist() == [0, 6, 1, 7]  # equal counts: round-robin, order kept
    unseen = class_balanced(ranking, np.array([0] * 8 + [2, 2]), np.array([3, 3]), 3)
    assert unseen[:3].tolist() == [8, 9, 0]  # a class beyond labeled_counts counts as 0


def test_class_balanced_accepts_scores():
    scores = np.array([0.1, 0.9, 0.5, 0.7])
    out = class_balanced(scores, np.array([0, 0, 1, 0]), np.array([4, 0]), 1, rng=rng())
    assert out.tolist() == [2, 1, 3, 0]
    with pytest.raises(ValueError, match="permutation"):
        class_balanced(np.array([0, 0, 1]), np.zeros(3, int), np.zeros(1), 1)


def test_kmeans_is_seeded_and_finds_blobs():
    x, blob, _ = _blobs()
    a, b = kmeans(x, 4, rng(5)), kmeans(x, 4, rng(5))
    assert np.array_equal(a.labels, b.labels)
    # each found cluster is exactly one blob
    assert len({(i, j) for i, j in zip(a.labels, blob, strict=True)}) == 4


# --- the layer rule ---------------------------------------------------------------------------


def test_al_imports_numpy_and_the_standard_library_only():
    package = Path(__file__).resolve().parents[2] / "aldesk" / "al"
    allowed = {"numpy", "scipy", "aldesk"} | set(sys.stdlib_module_names)
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
                if name.startswith("aldesk."):
                    assert name.split(".")[1] in {"al", "core"}, f"{path.name} imports {name}"


# --- tests that a wrong formula would fail (review) ------------------------------------------


def test_egl_is_an_expectation_over_labels_not_the_predicted_label():
    # p = (0.8, 0.2), x = (1, 0): ||[x, 1]|| = sqrt 2;
    # ||p - e_0|| = 0.2 sqrt 2, ||p - e_1|| = 0.8 sqrt 2
    s = expected_gradient_length(np.array([[[0.8, 0.2]]]), np.array([[1.0, 0.0]]))
    r2 = math.sqrt(2)
    assert s[0] == pytest.approx((0.8 * 0.2 * r2 + 0.2 * 0.8 * r2) * r2)


def test_egl_and_badge_use_the_heads_inputs_when_given():
    state = make_state()
    head = state.embeddings * 10.0 + 3.0
    with_head = PoolState(probs=state.probs, embeddings=state.embeddings, head_inputs=head)
    np.testing.assert_allclose(score_pool("expected_gradient_length", with_head, rng()),
                               expected_gradient_length(state.probs, head))
    assert np.array_equal(rank_pool("badge", with_head, 5, rng()),
                          badge(state.probs, head, 5, rng()))


def test_density_weighted_is_entropy_times_density_to_the_beta():
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])  # mean cosines 2/3, 2/3, 1/3
    probs = np.full((1, 3, 2), 0.5)
    for beta in (1.0, 2.0):
        np.testing.assert_allclose(density_weighted(probs, x, beta),
                                   math.log(2) * np.array([2 / 3, 2 / 3, 1 / 3]) ** beta)


def test_least_confidence_uses_the_committee_mean():
    probs = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])  # the mean is (0.5, 0.5)
    np.testing.assert_allclose(least_confidence(probs), [0.5])


def test_badge_gradient_has_a_bias_term():
    # x = 0 for item 0: without the bias its gradient embedding is 0, with it (p - e) ⊗ [0, 1]
    probs = np.array([[[0.5, 0.5], [0.9, 0.1]]])
    x = np.array([[0.0], [1.0]])
    assert badge(probs, x, 1, rng())[0] == 0  # ||(-.5,.5)|| * 1 > ||(-.1,.1)|| * sqrt 2


def test_pool_state_refuses_non_finite_embeddings():
    x = np.zeros((N, D))
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="embeddings contain NaN"):
        PoolState(embeddings=x)


def test_margin_typicality_batch_comes_in_margin_order():
    g = np.random.default_rng(0)
    probs = g.dirichlet(np.ones(3), size=(3, 400))
    x = g.normal(size=(400, 4))
    place = np.empty(400, int)
    for seed in range(3):
        by_margin = rank(margin(probs), rng(seed))
        place[by_margin] = np.arange(400)
        picks = margin_typicality(probs, x, 8, rng(seed))[:8]
        assert np.all(np.diff(place[picks]) > 0)
