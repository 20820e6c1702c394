"""Labeling acts as commands (undo/redo in the append-only store), time per item, the place."""

from __future__ import annotations

import numpy as np
import pytest

from aldesk.core.commands import UndoStack
from aldesk.core.errors import LabelError
from aldesk.core.types import Provenance
from aldesk.services.browse import Place, ProjectIndex, filtered, unranked_order
from aldesk.services.ingest import sync_folder
from aldesk.services.labeling import ActiveTimer, LabelCommand, SessionStats
from aldesk.services.ranking import Ranking
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes


@pytest.fixture
def project(tmp_path, image_folder):
    p = Project.create(tmp_path / "p.aldesk")
    store_classes.add_classes(p, ["cup", "mug"])
    sync_folder(p, image_folder)
    yield p
    p.close()


def _ids(project):
    return [r[0] for r in project.conn.execute("SELECT id FROM items ORDER BY id")]


def _cmd(project, item, kind="label", classes=(1,), **kw):
    return LabelCommand(project, item, kind, classes, "alice", f"{kind} {item}", **kw)


def test_label_undo_redo_append_rows_and_restore_state(project):
    cup, mug = (c.id for c in store_classes.list_classes(project))
    item = _ids(project)[0]
    stack = UndoStack()
    stack.push(_cmd(project, item, classes=(cup,), seconds=3.5,
                    provenance=Provenance(model_version=None, score=0.7, rank=2,
                                          suggestion_shown=True, suggested_class_id=mug)))
    assert store_ann.current(project, item).class_ids == (cup,)
    stack.push(_cmd(project, item, classes=(mug,)))
    assert store_ann.current(project, item).class_ids == (mug,)
    stack.undo()
    assert store_ann.current(project, item).class_ids == (cup,)
    stack.undo()
    assert store_ann.current(project, item) is None
    stack.redo()
    assert store_ann.current(project, item).class_ids == (cup,)
    rows = project.conn.execute(
        "SELECT kind, origin, reverts, seconds_spent, suggestion_shown, suggested_class_id, rank"
        " FROM annotations ORDER BY id").fetchall()
    assert [tuple(r)[:2] for r in rows] == [
        ("label", "app"), ("label", "app"), ("label", "undo"), ("clear", "undo"),
        ("label", "redo")]
    first = rows[0]
    assert first["seconds_spent"] == 3.5 and first["suggestion_shown"] == 1
    assert first["suggested_class_id"] == mug and first["rank"] == 2
    assert rows[3]["reverts"] is not None  # undo names the row it takes back


def test_skip_and_unsure_are_acts_too(project):
    a, b = _ids(project)[:2]
    stack = UndoStack()
    stack.push(_cmd(project, a, "skip", ()))
    stack.push(_cmd(project, b, "unsure", ()))
    assert store_ann.current(project, a).kind == "skip"
    assert store_ann.current(project, b).kind == "unsure"
    stack.undo()
    assert store_ann.current(project, b) is None


def test_a_failed_act_never_enters_the_history(project):
    cup = store_classes.list_classes(project)[0]
    store_classes.archive_class(project, cup.name)
    stack = UndoStack()
    with pytest.raises(LabelError):
        stack.push(_cmd(project, _ids(project)[0], classes=(cup.id,)))
    assert not stack.can_undo
    assert store_ann.count_rows(project) == 0


def test_new_act_clears_redo(project):
    item = _ids(project)[0]
    stack = UndoStack()
    stack.push(_cmd(project, item))
    stack.undo()
    assert stack.can_redo
    stack.push(_cmd(project, item, "skip", ()))
    assert not stack.can_redo and stack.undo_text() == f"skip {item}"


class FakeClock:
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def test_time_per_item_caps_idle_gaps():
    clock = FakeClock()
    timer = ActiveTimer(clock, idle_cap=60)
    timer.start_item()
    clock.t += 4
    timer.touch()
    clock.t += 3600  # lunch
    assert timer.item_seconds() == 64
    timer.start_item()
    clock.t += 2.5
    assert timer.item_seconds() == 2.5
    assert timer.session_seconds == pytest.approx(66.5)


def test_labels_per_minute_of_active_time():
    clock = FakeClock()
    timer = ActiveTimer(clock)
    stats = SessionStats(timer)
    assert stats.per_minute() is None
    for _ in range(30):
        clock.t += 2
        timer.touch()
        stats.add()
    assert stats.per_minute() == pytest.approx(30.0)


def test_place_keeps_what_was_seen_when_the_ranking_changes():
    place = Place([5, 6, 7, 8])
    place.next()
    place.next()  # on 7
    place.replace_ahead([9, 6, 8, 10])
    assert place.current == 7
    assert place.rows == [5, 6, 7, 9, 8, 10]
    place.previous()
    assert place.current == 6


def test_place_bounds():
    place = Place([])
    assert place.current is None and place.next() is None
    place.reset([1, 2, 3], keep=3)
    assert place.current == 3 and place.at_end()
    assert place.next() == 3


def test_filters(project):
    ids = _ids(project)
    cup, mug = (c.id for c in store_classes.list_classes(project))
    stack = UndoStack()
    stack.push(_cmd(project, ids[0], classes=(cup,)))
    stack.push(_cmd(project, ids[1], classes=(mug,)))
    stack.push(_cmd(project, ids[2], "skip", ()))
    project.conn.execute("UPDATE items SET status = 'error', reason = 'broken' WHERE id = ?",
                         (ids[3],))
    index = ProjectIndex(project)
    labels = store_ann.current_all(project)
    ranking = Ranking(1, "margin", np.array(ids[::-1]), np.linspace(1, 0, len(ids)),
                      class_ids=(cup, mug), predicted_ids=np.array(ids),
                      probs=np.tile([[0.05, 0.95]], (len(ids), 1)).astype(np.float32),
                      votes=np.tile([[0, 10]], (len(ids), 1)).astype(np.int16), members=10)
    unlabeled = filtered("unlabeled", index, labels, ranking)
    assert unlabeled == [i for i in ids[::-1] if i not in ids[:4]]  # ranked order, errors out
    assert filtered("labeled", index, labels, ranking) == [ids[0], ids[1]]
    assert filtered("labeled", index, labels, ranking, class_id=mug) == [ids[1]]
    assert filtered("skipped", index, labels, ranking) == [ids[2]]
    assert filtered("errors", index, labels, ranking) == [ids[3]]
    # The committee says mug with 0.95 everywhere: the cup label is disputed, mug is not.
    assert filtered("disputed", index, labels, ranking) == [ids[0]]
    before_ranking = filtered("unlabeled", index, labels, None)
    assert sorted(before_ranking) == [i for i in ids if i not in ids[:4]]
    assert before_ranking == unranked_order(before_ranking)


def test_an_index_read_by_the_worker_keeps_what_the_window_changed_since(project):
    """A scan's index, read by the worker, replaces the window's; an item the window marked
    unreadable meanwhile (it failed to decode as it was shown) stays so, and the usable ids
    follow both."""
    from aldesk.services.browse import read_index_at
    from aldesk.store import items as store_items

    ids = _ids(project)
    index = ProjectIndex(project)
    assert index.ok_ids().tolist() == ids
    from_worker = read_index_at(project.path)  # read before the window's change below
    store_items.set_error(project, [(ids[0], "damaged image data")])
    index.refresh([ids[0]])
    assert ids[0] in index.unusable() and ids[0] not in index.ok_ids()
    index.replace(from_worker)
    assert ids[0] in index.unusable() and index.rows[ids[0]].status == "error"
    assert index.ok_ids().tolist() == ids[1:]
    assert len(index) == len(ids)


def test_before_any_ranking_the_queue_is_spread_not_in_file_order():
    # 1,000 items in tracks of 8 consecutive ids (a camera's frames, in file order)
    order = unranked_order(range(1, 1001))
    assert sorted(order) == list(range(1, 1001))
    assert len({(i - 1) // 8 for i in order[:20]}) >= 18  # file order: 3 tracks
    assert len({(i - 1) // 100 for i in order[:20]}) >= 7  # ten class folders of 100
    # each item keeps its place relative to the others, whatever else the project holds
    assert unranked_order(range(1, 1001, 2)) == [i for i in order if i % 2 == 1]
    assert unranked_order(range(1, 1001)) == order
