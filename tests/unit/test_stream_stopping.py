"""Stream selection respects its budget; stopping detects stable predictions."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.al.stopping import cohen_kappa, stabilized, stop_set
from aldesk.al.stream import StreamSelector


@pytest.mark.parametrize("budget", [0.05, 0.1, 0.3])
def test_stream_budget_is_respected_over_every_window(budget):
    rng = np.random.default_rng(0)
    selector = StreamSelector(budget=budget, window=100)
    taken = np.array([selector.offer(float(c)) for c in rng.uniform(0.3, 1.0, 5000)])
    windows = np.lib.stride_tricks.sliding_window_view(taken, 100).sum(axis=1)
    assert windows.max() <= budget * 100
    assert taken.mean() > budget * 0.5  # and the budget is used, not wasted


def test_stream_prefers_uncertain_items():
    rng = np.random.default_rng(1)
    confidence = rng.uniform(0.2, 1.0, 4000)
    selector = StreamSelector(budget=0.1, window=200)
    taken = np.array([selector.offer(float(c)) for c in confidence])
    assert confidence[taken].mean() < confidence[~taken].mean() - 0.15


def test_stream_refuses_a_bad_budget():
    with pytest.raises(ValueError):
        StreamSelector(budget=0)


def test_kappa_and_stabilizing_predictions():
    a = np.array([0, 1, 2, 1, 0, 2, 1, 1])
    assert cohen_kappa(a, a) == 1.0
    assert cohen_kappa(a, (a + 1) % 3) < 0
    assert stabilized([0.5, 0.99, 0.995, 1.0])
    assert not stabilized([0.99, 0.97, 0.999])
    assert not stabilized([0.999, 0.999])
    ids = np.arange(1, 10_001)
    s = stop_set(ids, 500)
    assert len(s) == 500 and len(np.unique(s)) == 500 and np.all(np.diff(s) > 0)
    assert 0.3 < np.mean(s < 5_000) < 0.7  # spread over the ids, not the first 500
    # 100 new items later the stop set is mostly the same items (positions of ids shift)
    grown = np.concatenate([ids[:5_000], np.arange(20_001, 20_101), ids[5_000:]])
    kept = np.intersect1d(ids[s], grown[stop_set(grown, 500)])
    assert len(kept) >= 490
    assert np.array_equal(stop_set(ids[:300], 500), np.arange(300))


def _model(version: int, rep: str, kappa: float | None = None, against: int | None = None,
           last: int | None = None, digest: str | None = None, labels: int | None = None
           ) -> dict:
    """A version as `stopping_of` reads it; by default on 20 labels per version number."""
    metrics = {} if kappa is None else {"agreement_with_previous": kappa,
                                        "agreement_previous_version": against}
    return {"version": version, "representation": rep, "metrics": metrics,
            "last_annotation_id": version * 10 if last is None else last,
            "labels_digest": digest, "labels_used": version * 20 if labels is None else labels}


def test_stopping_reads_only_agreements_on_the_newest_representation():
    from aldesk.services.info import _stopping

    px, eff = "pixels/32/v2", "efficientnet_lite0/224/v3"
    models = [_model(1, px), _model(2, px, 0.995, 1), _model(3, px, 0.999, 2),
              _model(4, px, 1.0, 3), _model(5, eff)]
    fresh = _stopping(models, 50, None)  # switched: v1-v4's agreement is not v5's
    assert fresh["agreements"] == [] and not fresh["stable"]
    assert fresh["note"] == ("needs two model versions trained at least 20 labels apart since "
                             "the representation changed (version 5)")
    assert _stopping(models[:4], 50, None)["stable"]
    models += [_model(6, eff), _model(7, eff, 0.9, 6)]
    later = _stopping(models, 60, "100")
    assert later["agreements"] == [0.9] and later["compared_versions"] == [[6, 7]]
    assert later["note"] == ("predictions still change between model versions (agreement "
                             "0.900, version 6 against 7); 40 labels left of a budget of 100")
    models[-1]["metrics"]["predictions_changed"] = [23, 2000]  # newer files say how many moved
    assert _stopping(models, 60, None)["note"] == (
        "predictions still change between model versions (agreement 0.900: 23 of 2,000 "
        "sampled predictions changed, version 6 against 7)")


def test_stopping_leaves_out_agreements_of_retrains_on_the_same_labels():
    """Files written before retrains on unchanged labels stopped recording an agreement (same
    last annotation), and skips between two trainings (same labels digest)."""
    from aldesk.services.info import _stopping

    px = "pixels/32/v2"
    old_file = [_model(1, px), _model(2, px, 0.9, 1), _model(3, px, 1.0, 2, last=20),
                _model(4, px, 1.0, 3, last=20), _model(5, px, 1.0, 4, last=20)]
    assert _stopping(old_file, 30, None)["agreements"] == [0.9]
    skips = [_model(1, px, digest="a"), _model(2, px, 0.95, 1, digest="b"),
             _model(3, px, 1.0, 2, digest="b"), _model(4, px, 1.0, 3, digest="b")]
    result = _stopping(skips, 30, None)
    assert result["agreements"] == [0.95] and not result["stable"]


def test_kappa_value_against_a_hand_computed_one():
    # observed 3/4; chance .5*.25 + .25*.5 + .25*.25 = .3125; kappa = .4375 / .6875
    assert cohen_kappa(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2])) == pytest.approx(7 / 11)


@pytest.mark.parametrize("budget", [0.07, 0.3, 0.4, 0.7])
def test_stream_can_ask_the_first_item_whatever_the_budget(budget):
    assert StreamSelector(budget=budget).offer(0.0)


def test_the_version_compared_is_the_newest_at_least_20_labels_back(tmp_path):
    from aldesk.store import Project
    from aldesk.store.models import add_model, newest_before

    px, eff = "pixels/32/v2", "efficientnet_lite0/224/v3"
    with Project.create(tmp_path / "p.aldesk") as p:
        for rep, labels in [(px, 10), (px, 30), (eff, 40), (eff, 50), (eff, 55), (eff, 72)]:
            add_model(p, representation=rep, head="h", labels_used=labels,
                      last_annotation_id=labels, params={}, metrics={}, weights=b"w")
        assert newest_before(p, eff, 75 - 20).version == 5  # 55 labels
        assert newest_before(p, eff, 60 - 20).version == 3  # 40 labels
        assert newest_before(p, eff, 59 - 20) is None  # only pixels versions before 40
        assert newest_before(p, px, 90) is None  # the pixels run ended with a switch


def test_three_agreements_must_span_three_comparisons_back():
    """Retrained every 5 labels, each version compared with the one 20 labels before: five
    agreements over 0.99 in a row are only two links back from the newest version."""
    from aldesk.services.info import _stopping

    px = "pixels/32/v2"
    models = [_model(v, px, *((0.995, v - 4) if v > 4 else ()), labels=5 * v)
              for v in range(1, 10)]
    result = _stopping(models, 45, None)
    assert result["compared_versions"] == [[1, 5], [5, 9]] and not result["stable"]
    models += [_model(v, px, 0.999, v - 4, labels=5 * v) for v in range(10, 14)]
    result = _stopping(models, 65, None)
    assert result["compared_versions"] == [[1, 5], [5, 9], [9, 13]] and result["stable"]


def test_older_files_comparisons_of_versions_a_few_labels_apart_do_not_count():
    """Before versions were compared 20 labels apart, each was compared with the one before:
    those links count only where that one had at least 20 fewer labels."""
    from aldesk.services.info import _stopping

    px = "pixels/32/v2"
    old = [_model(1, px, labels=40), _model(2, px, 0.995, 1, labels=43),
           _model(3, px, 0.996, 2, labels=46), _model(4, px, 0.993, 3, labels=49)]
    assert _stopping(old, 49, None)["agreements"] == []
    new = _stopping([*old, _model(5, px, 0.991, 4, labels=69)], 69, None)
    assert new["compared_versions"] == [[4, 5]] and not new["stable"]
    spaced = [_model(1, px, labels=20), _model(2, px, 0.995, 1, labels=40),
              _model(3, px, 0.999, 2, labels=60), _model(4, px, 0.992, 3, labels=80)]
    assert _stopping(spaced, 80, None)["stable"]  # an older file, 20 labels per version


def test_a_chain_that_loops_counts_each_comparison_once():
    from aldesk.al.stopping import comparison_chain

    assert comparison_chain(2, {2: (1, 0.99), 1: (2, 0.98)}) == [(1, 2, 0.99)]
