"""Audit items: drawn at random into the queue, labeled blind, and the accuracy they measure."""

from __future__ import annotations

import pytest

from aldesk.core.commands import UndoStack
from aldesk.core.types import Provenance
from aldesk.services.audit import audit_estimate, was_audited, wilson
from aldesk.services.browse import unranked_order, with_audits
from aldesk.services.ingest import sync_folder
from aldesk.services.labeling import LabelCommand
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes


def test_every_tenth_position_is_a_random_draw_whatever_the_ranking():
    ranked = list(range(500, 0, -1))
    rows, audits = with_audits(ranked)
    assert sorted(rows) == sorted(ranked) and len(audits) == 50
    assert [k for k, i in enumerate(rows) if i in audits][:3] == [9, 19, 29]
    assert [rows[k] for k in range(9, 500, 10)] == unranked_order(ranked)[:50]  # draw order
    rest = [i for i in rows if i not in audits]
    assert rest == [i for i in ranked if i not in audits]  # the ranking's order otherwise
    # the draw knows nothing of the model: another ranking of the same items, same audits
    assert with_audits(sorted(ranked))[1] == audits


def test_audits_stop_at_the_horizon_and_spare_the_lead():
    ranked = list(range(1, 5001))
    rows, audits = with_audits(ranked, horizon=1000)
    assert len(audits) == 100 and all(rows.index(a) < 1000 for a in audits)
    assert with_audits(list(range(9)))[1] == set()  # fewer than ten: none
    rows, audits = with_audits([7, 8, *range(100, 130)], lead=2)
    assert rows[:2] == [7, 8] and not {7, 8} & audits and len(audits) == 3
    assert rows[11] in audits  # slots count after the lead


def test_wilson_interval():
    low, high = wilson(8, 10)
    assert low == pytest.approx(0.490, abs=1e-3) and high == pytest.approx(0.943, abs=1e-3)
    assert wilson(0, 5)[0] == 0.0 and wilson(5, 5)[1] == 1.0


@pytest.fixture
def project(tmp_path, image_folder):
    p = Project.create(tmp_path / "p.aldesk")
    store_classes.add_classes(p, ["cup", "mug", "bowl"])
    sync_folder(p, image_folder)
    yield p
    p.close()


def _audit(project, stack, item, label, guess, version=1):
    command = LabelCommand(project, item, "label", (label,), "alice", "label", origin="audit",
                           provenance=Provenance(model_version=version,
                                                 suggestion_shown=False,
                                                 suggested_class_id=guess))
    stack.push(command)
    return command


def test_the_estimate_compares_blind_labels_with_the_hidden_guesses(project):
    cup, mug, bowl = (c.id for c in store_classes.list_classes(project))
    items = [r[0] for r in project.conn.execute("SELECT id FROM items ORDER BY id")]
    assert audit_estimate(project) is None
    stack = UndoStack()
    _audit(project, stack, items[0], cup, cup)
    _audit(project, stack, items[1], mug, mug, version=2)
    _audit(project, stack, items[2], mug, cup, version=2)  # the model was wrong here
    stack.push(LabelCommand(project, items[3], "label", (cup,), "alice", "ordinary"))
    est = audit_estimate(project)
    assert (est.audits, est.correct, est.first_version, est.last_version) == (3, 2, 1, 2)
    assert est.accuracy == pytest.approx(2 / 3)
    assert "67% on 3 random audit items" in est.text()
    assert [was_audited(project, i) for i in items[:4]] == [True, True, True, False]
    # an undone audit answer no longer counts; redone, it counts again
    stack.undo()
    stack.undo()
    assert audit_estimate(project).audits == 2
    stack.redo()
    assert audit_estimate(project).audits == 3
    # a corrected label is judged as it stands now
    stack.push(LabelCommand(project, items[2], "label", (cup,), "alice", "fix"))
    assert audit_estimate(project).correct == 3
    # merging the guessed class into another counts the guess as the merged class
    store_classes.merge_classes(project, "mug", "bowl")
    assert store_ann.current(project, items[1]).class_ids == (bowl,)  # guessed as mug
    assert audit_estimate(project).correct == 3
    # only the most recent audits count
    assert audit_estimate(project, recent=1).audits == 1
    # answered blind again (a later model guessed mug): the latest answer is judged
    _audit(project, stack, items[0], cup, mug, version=3)
    est = audit_estimate(project)
    assert (est.audits, est.correct, est.last_version) == (3, 2, 3)
