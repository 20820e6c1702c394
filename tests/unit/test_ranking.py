"""The app's round in the worker: cold start, retraining, predictions and the saved queue."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.core.errors import Cancelled
from aldesk.core.jobs import LocalJob
from aldesk.services.explain import describe_prediction, queue_line, why
from aldesk.services.ingest import sync_folder
from aldesk.services.ranking import Ranking, compute_ranking
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    from conftest import make_digit_folder

    return make_digit_folder(tmp_path_factory.mktemp("digits"), 150)


@pytest.fixture
def project(tmp_path, digit_folder):
    p = Project.create(tmp_path / "digits.aldesk")
    store_classes.add_classes(p, [str(i) for i in range(10)])
    sync_folder(p, digit_folder)
    yield p
    p.close()


def _label(project, n):
    classes = {c.name: c.id for c in store_classes.list_classes(project)}
    rows = project.conn.execute("SELECT id, rel_path FROM items ORDER BY id").fetchall()
    for r in rows[:n]:
        store_ann.record(project, r[0], "label", [classes[r[1].split("/")[0]]],
                         annotator="t")
    return {r[0] for r in rows[:n]}


def test_cold_start_ranks_every_unlabeled_item_without_predictions(project):
    ranking = compute_ranking(project.path, retrain=True)  # no labels: nothing to train
    assert ranking.model_version is None and ranking.strategy == "typicality"
    assert sorted(ranking.queue.tolist()) == sorted(
        r[0] for r in project.conn.execute("SELECT id FROM items"))
    assert ranking.prediction(int(ranking.queue[0])) is None
    assert "cold start" in why(ranking, int(ranking.queue[0]), {})


def test_retrain_gives_predictions_votes_and_a_queue_without_labeled_items(project):
    labeled = _label(project, 60)
    ranking = compute_ranking(project.path, retrain=True)
    assert ranking.model_version == 1 and ranking.members == 10
    assert ranking.labels_used == 60
    assert not labeled & set(ranking.queue.tolist())
    assert len(ranking.queue) == 150 - 60
    assert np.all(np.diff(ranking.scores) <= 1e-12)  # best first
    probs, votes = ranking.prediction(int(ranking.queue[0]))
    assert probs.shape == (len(ranking.class_ids),)
    assert votes.sum() == 10
    assert ranking.cv_accuracy is not None and ranking.cv_accuracy > 0.5
    names = {c.id: c.name for c in store_classes.list_classes(project)}
    text = describe_prediction(ranking, int(ranking.queue[0]), names)
    assert "of 10 members say" in text
    assert why(ranking, int(ranking.queue[0]), names).startswith("Why: rank 1 of 90")
    # A re-read without retraining gives the same model's queue; labels since drop out.
    more = _label(project, 61) - labeled
    again = compute_ranking(project.path, retrain=False)
    assert again.model_version == 1
    assert not more & set(again.queue.tolist())


def test_cancel_stops_the_round(project):
    _label(project, 40)
    job = LocalJob()
    job.cancel()
    with pytest.raises(Cancelled):
        compute_ranking(project.path, retrain=True, job=job)
    assert project.conn.execute("SELECT COUNT(*) FROM models").fetchone()[0] == 0


def test_scores_are_written_best_first_in_chunks(project):
    from aldesk.store import models as store_models

    _label(project, 30)
    compute_ranking(project.path, retrain=True)
    version = store_models.latest_model(project).version
    ids = np.arange(1, 91)
    store_models.put_scores(project, version, "margin", ids, np.linspace(0, 1, 90),
                            np.arange(90)[::-1], np.full((90, 10), 0.1), chunk=7)
    rows = store_models.ranked_scores(project, version, "margin", 5)
    assert [r["item_id"] for r in rows] == [90, 89, 88, 87, 86]


def test_stream_waits_for_a_retrain_when_the_model_predates_the_preprocessing(
        project, tmp_path, digit_folder):
    """A model trained before an upgrade changed the representation's id (its preprocessing)
    cannot judge vectors embedded the new way: arrivals are indexed with a note, not scored
    against the wrong vectors (nor the whole pool re-embedded by the stream job)."""
    import shutil

    from aldesk.al.stream import StreamSelector
    from aldesk.services.stream import stream_once

    _label(project, 40)
    compute_ranking(project.path, retrain=True)
    with project.transaction() as conn:
        conn.execute(
            "INSERT INTO models (version, created_at, representation, head, labels_used,"
            " last_annotation_id, params, metrics, weights, weights_format)"
            " SELECT version + 1, created_at, representation || '-before-upgrade', head,"
            " labels_used, last_annotation_id, params, metrics, weights, weights_format"
            " FROM models ORDER BY version DESC LIMIT 1")
    arrivals = tmp_path / "arrivals"
    arrivals.mkdir()
    for src in sorted((digit_folder / "3").iterdir())[:4]:
        shutil.copy(src, arrivals / f"new-{src.name}")
    report = stream_once(project, arrivals, StreamSelector(budget=1.0))
    assert report.arrived == 4 and report.indexed_only == 4 and report.admitted == []
    assert "retrain" in report.note and "-before-upgrade" in report.note


def _use_pixels(project: Project) -> None:
    """One representation, its vectors stored under its own id (a combined one, which small
    grey digits start on, stores its parts')."""
    with project.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('representation', "
                     "'pixels')")


def test_vectors_of_a_superseded_preprocessing_are_dropped_once(project):
    """After an upgrade changes a representation's preprocessing (its id's version), the old
    vectors go when the new ones are made; other representations' vectors stay."""
    from aldesk.ml.backbones import get_representation
    from aldesk.services.embedding import embed_project
    from aldesk.store import embeddings as store_emb

    _use_pixels(project)
    _label(project, 40)
    compute_ranking(project.path, retrain=True)
    current = project.conn.execute("SELECT representation FROM models").fetchone()[0]
    base = current.rpartition("/")[0]
    older, unrelated = f"{base}/v0", "other-model/64/v0"
    with project.transaction() as conn:
        for name in (older, unrelated):  # a full set of vectors under each
            conn.execute("INSERT INTO embeddings (content_key, representation, dim, vector,"
                         " created_at) SELECT content_key, ?, dim, vector, created_at"
                         " FROM embeddings WHERE representation = ?", (name, current))
        conn.execute(
            "INSERT INTO models (version, created_at, representation, head, labels_used,"
            " last_annotation_id, params, metrics, weights, weights_format)"
            " SELECT version + 1, created_at, ?, head, labels_used, last_annotation_id,"
            " params, metrics, weights, weights_format FROM models", (older,))

    def count(name: str) -> int:
        return project.conn.execute("SELECT COUNT(*) FROM embeddings WHERE representation = ?",
                                    (name,)).fetchone()[0]

    kept = count(current)
    assert store_emb.superseded(project, current) == [older]
    rep = get_representation(project.conn.execute(
        "SELECT json_extract(params, '$.representation_name') FROM models").fetchone()[0])
    assert rep.id == current
    embed_project(project, rep)
    assert count(older) == 0 and count(current) == kept and count(unrelated) == kept
    assert store_emb.superseded(project, current) == []  # nothing left to look for


def test_older_vectors_go_also_where_no_model_was_ever_trained(project):
    """A project that only ever had its cold-start ranking keeps no vectors of an older
    preprocessing either (a newer version's are never taken for older)."""
    compute_ranking(project.path, retrain=True)  # no labels: cold start, embeds every item
    current = project.conn.execute(
        "SELECT DISTINCT representation FROM embeddings").fetchone()[0]
    base, _, version = current.rpartition("/")
    older, newer = f"{base}/v0", f"{base}/v{int(version[1:]) + 1}"
    with project.transaction() as conn:
        for name in (older, newer):
            conn.execute("INSERT INTO embeddings (content_key, representation, dim, vector,"
                         " created_at) SELECT content_key, ?, dim, vector, created_at"
                         " FROM embeddings WHERE representation = ?", (name, current))
    assert project.conn.execute("SELECT COUNT(*) FROM models").fetchone()[0] == 0
    compute_ranking(project.path, retrain=True)
    left = dict(project.conn.execute(
        "SELECT representation, COUNT(*) FROM embeddings GROUP BY representation").fetchall())
    assert older not in left and left[newer] == left[current] == 150


def test_a_model_of_an_older_preprocessing_serves_until_its_vectors_go(project):
    """After an upgrade moves a representation's version, the newest model still ranks from its
    own (older) vectors until a retrain re-embeds. If that retrain dropped them and then was
    cancelled during the long re-embedding, the next round trains anew instead of reading an
    empty matrix (which failed every round after)."""
    from aldesk.services.info import format_info, project_info

    _use_pixels(project)
    _label(project, 40)
    first = compute_ranking(project.path, retrain=True)
    current = project.conn.execute("SELECT representation FROM models").fetchone()[0]
    older = current.rpartition("/")[0] + "/v0"
    with project.transaction() as conn:  # as an older aldesk left it
        conn.execute("UPDATE models SET representation = ?", (older,))
        conn.execute("UPDATE embeddings SET representation = ? WHERE representation = ?",
                     (older, current))
    assert "the next retrain re-embeds every item" in format_info(project_info(project))
    served = compute_ranking(project.path, retrain=False)
    assert served.model_version == first.model_version and served.probs is not None
    with project.transaction() as conn:  # the retrain dropped them, and was stopped
        conn.execute("DELETE FROM embeddings")
    ranking = compute_ranking(project.path, retrain=False)
    assert ranking.model_version == first.model_version + 1
    assert ranking.probs is not None and len(ranking.queue) == 150 - 40
    latest = project.conn.execute(
        "SELECT representation FROM models ORDER BY version DESC").fetchone()[0]
    assert latest == current
    assert project_info(project)["models"][-1]["current_preprocessing"]


def test_the_queue_line_shows_a_score_only_where_it_says_more_than_the_rank():
    probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]], np.float32)
    votes = np.array([[2, 8], [7, 3], [5, 5]], np.int16)

    def ranking(strategy, scores):
        return Ranking(3, strategy, np.array([12, 11, 10]), np.array(scores), class_ids=(1, 2),
                       predicted_ids=np.array([10, 11, 12]), probs=probs, votes=votes,
                       members=10)

    names = {1: "cat", 2: "dog"}
    assert queue_line(ranking("margin", [0.9, 0.4, 0.1]), 11, names) == \
        "#2 · score 0.40  ·  cat 0.60"
    # auto's batch strategy scores by rank: 1.00, 0.67, 0.33 would say nothing new
    assert queue_line(ranking("margin_diversity", [1.0, 0.67, 0.33]), 12, names) == \
        "#1  ·  cat 0.50"
    assert queue_line(ranking("margin", [0.9, 0.4, float("nan")]), 10, names) == "dog 0.80"
    assert queue_line(None, 10, names) == "not scored yet"
    bare = Ranking(None, "typicality", np.array([10, 11]), np.array([1.0, 0.5]))
    assert queue_line(bare, 99, names) == "not scored yet"
    assert queue_line(bare, 11, names) == "#2"


def test_representation_ids_are_known_without_building_the_model():
    from aldesk.ml.backbones import get_representation
    from aldesk.ml.ids import representation_id

    assert representation_id("pixels") == get_representation("pixels").id == "pixels/32/v2"
    assert representation_id("pixels", 16) == get_representation("pixels", image_size=16).id
    rep = get_representation("efficientnet_lite0", device="cpu")
    assert representation_id("efficientnet_lite0") == rep.id == "efficientnet_lite0/224/v4"
    assert representation_id("efficientnet_lite0", 160, "pad") == "efficientnet_lite0/160/pad/v4"


def test_the_queue_before_any_model_reads_cached_vectors_without_torch(project):
    import subprocess
    import sys

    compute_ranking(project.path, retrain=True)  # embeds; no labels, so no model
    script = ("import sys, json\n"
              "from aldesk.store import Project\n"
              "from aldesk.services.queue import queue\n"
              f"with Project.open({str(project.path)!r}) as p:\n"
              "    q = queue(p, 5)\n"
              "print(json.dumps([len(q['items']), 'torch' in sys.modules]))\n")
    project.close()  # the project's lock
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[5, false]"  # an answer in a fraction of a second


def test_the_combined_representation_is_its_parts_side_by_side(project):
    from aldesk.ml.backbones import get_representation
    from aldesk.ml.ids import COMBINED, family, is_current, raw_pixels, representation_id
    from aldesk.services.embedding import embed_project, project_matrix
    from aldesk.store.embeddings import get_vectors

    both = get_representation(COMBINED, device="cpu")
    assert both.id == representation_id(COMBINED) == "pixels/32/v2+efficientnet_lite0/224/v4"
    assert family(both.id) == COMBINED and is_current(both.id) and not raw_pixels(both.id)
    assert not is_current("pixels/32/v1+efficientnet_lite0/224/v3")
    pixels = get_representation("pixels")
    embed_project(project, pixels)
    ids, x_pixels = project_matrix(project, pixels.id)
    assert len(project_matrix(project, both.id)[0]) == 0  # one part is not there yet
    report = embed_project(project, both)
    assert report.embedded == 150 and report.representation == both.id
    both_ids, x = project_matrix(project, both.id)
    _, x_features = project_matrix(project, both.parts[1].id)  # stored under the part's id
    assert np.array_equal(both_ids, ids) and x.shape == (150, 1024 + 1584)
    np.testing.assert_array_equal(x, np.hstack([x_pixels, x_features]))
    key = project.conn.execute("SELECT content_key FROM items LIMIT 1").fetchone()[0]
    v, found = get_vectors(project, both.id, [key, "no such key"])
    assert found.tolist() == [True, False] and not v[1].any()
    np.testing.assert_allclose(both.embed([np.zeros((40, 40), np.uint8)]).shape, (1, 1024 + 1584))
