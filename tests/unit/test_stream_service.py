"""Stream mode as a camera rig meets it: looks cut short, frames still being written, bursts,
restarts, duplicates and a folder that goes away for a moment."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent.parent / "cli"))
from test_engine_cli import write_digits

from aldesk.al.stream import StreamSelector
from aldesk.services.ingest import sync_folder
from aldesk.services.ranking import compute_ranking
from aldesk.services.stream import carry_admissions, new_selector, stream_once
from aldesk.services.train import train_round
from aldesk.store import Project
from aldesk.store import annotations as ann
from aldesk.store import classes as cls
from aldesk.store import items as store_items
from aldesk.store import models as store_models


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> list[Path]:
    """Digit frames the project has never seen (0, 1 and 7)."""
    return write_digits(tmp_path_factory.mktemp("frames"), (0, 1, 7), 12, offset=40)


@pytest.fixture
def project(tmp_path):
    write_digits(tmp_path / "seen", (0, 1, 7), 10)
    p = Project.create(tmp_path / "p.aldesk")
    ids = {c.name: c.id for c in cls.add_classes(p, ["0", "1", "7"])}
    sync_folder(p, tmp_path / "seen")
    for item in store_items.list_items(p):
        ann.record(p, item.id, "label", [ids[item.rel_path.split("/")[0]]], annotator="t")
    with p.transaction() as conn:
        conn.execute("INSERT INTO meta (key, value) VALUES ('representation', 'pixels')")
    train_round(p)
    (tmp_path / "robot").mkdir()
    yield p
    p.close()


def _drop(frames: list[Path], folder: Path, start: int, n: int) -> list[str]:
    names = []
    for path in frames[start:start + n]:
        name = f"{path.parent.name}-{path.name}"
        shutil.copy(path, folder / name)
        names.append(name)
    return names


def test_arrivals_of_a_look_cut_short_are_judged_by_the_next(project, frames, tmp_path):
    robot = tmp_path / "robot"
    assert stream_once(project, robot, StreamSelector(budget=1.0)).arrived == 0  # the first look
    _drop(frames, robot, 0, 6)
    sync_folder(project, robot)  # a look indexed them, then the watcher was killed
    report = stream_once(project, robot, StreamSelector(budget=1.0))
    assert report.arrived == 6 and len(report.admitted) + report.indexed_only == 6
    assert stream_once(project, robot, StreamSelector(budget=1.0)).arrived == 0  # once


def test_a_frame_still_being_written_is_judged_once_complete(project, frames, tmp_path):
    robot = tmp_path / "robot"
    stream_once(project, robot, StreamSelector(budget=1.0))
    data = frames[0].read_bytes()
    half = robot / "frame.png"
    half.write_bytes(data[: len(data) // 2])
    report = stream_once(project, robot, StreamSelector(budget=1.0))
    assert report.arrived == 1 and not report.admitted and report.indexed_only == 0
    assert report.unreadable and report.unreadable[0].startswith("frame.png: ")
    assert stream_once(project, robot, StreamSelector(budget=1.0)).unreadable  # still half
    half.write_bytes(data)
    st = half.stat()
    os.utime(half, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    report = stream_once(project, robot, StreamSelector(budget=1.0, threshold=1.01))
    assert report.arrived == 1 and report.admitted == ["frame.png"] and not report.unreadable


def test_the_budget_holds_across_restarts(project, frames, tmp_path):
    """20 files, one per run of 'aldesk stream --once' at a budget of 0.1."""
    robot = tmp_path / "robot"
    stream_once(project, robot, new_selector(project, 0.1))
    admitted = 0
    for k in range(20):
        _drop(frames, robot, k, 1)
        selector = new_selector(project, 0.1)  # a new process every time
        selector.threshold = 1.01  # every frame is worth asking: only the budget says no
        admitted += len(stream_once(project, robot, selector).admitted)
    assert 1 <= admitted <= 2


def test_a_burst_gives_its_budget_to_its_least_confident_frames():
    confidences = [0.99, 0.95, 0.2, 0.97, 0.3, 0.98, 0.99, 0.96, 0.25, 0.9] * 3
    take = StreamSelector(budget=0.1, threshold=1.0).offer_many(confidences)
    assert sum(take) == 3
    assert sorted(c for c, t in zip(confidences, take, strict=True) if t) == [0.2, 0.2, 0.2]
    one_by_one = StreamSelector(budget=0.1, threshold=1.0)
    firsts = [c for c in confidences if one_by_one.offer(c)]
    assert firsts[0] == 0.99  # the first frame of the burst takes the budget


def test_the_same_picture_twice_is_asked_once(project, frames, tmp_path):
    robot = tmp_path / "robot"
    stream_once(project, robot, StreamSelector(budget=1.0))
    shutil.copy(frames[3], robot / "a.png")
    shutil.copy(frames[3], robot / "b.png")
    shutil.copy(tmp_path / "seen" / "0" / sorted(os.listdir(tmp_path / "seen" / "0"))[0],
                robot / "labeled-already.png")
    report = stream_once(project, robot, StreamSelector(budget=1.0, threshold=1.01))
    assert report.arrived == 3 and report.duplicates == 2 and len(report.admitted) == 1


def test_a_watched_folder_that_goes_away_is_waited_for(project, frames, tmp_path):
    robot = tmp_path / "robot"
    stream_once(project, robot, StreamSelector(budget=1.0))
    robot.rename(tmp_path / "moved")
    report = stream_once(project, robot, StreamSelector(budget=1.0))
    assert report.arrived == 0 and "not there now" in report.note
    (tmp_path / "moved").rename(robot)
    _drop(frames, robot, 0, 2)
    assert stream_once(project, robot, StreamSelector(budget=1.0)).arrived == 2


def test_admissions_are_replaced_in_one_transaction(project, frames, tmp_path, monkeypatch):
    """A watcher killed while it saves new admissions leaves the earlier ones queued."""
    from aldesk.store import models as store_models

    robot = tmp_path / "robot"
    stream_once(project, robot, StreamSelector(budget=1.0))
    _drop(frames, robot, 0, 3)
    first = stream_once(project, robot, StreamSelector(budget=1.0, threshold=1.01)).admitted
    count = "SELECT COUNT(*) FROM scores WHERE strategy = 'stream'"
    assert first and project.conn.execute(count).fetchone()[0] == len(first)

    def killed(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(store_models, "_insert_scores", killed)
    _drop(frames, robot, 3, 3)
    with pytest.raises(KeyboardInterrupt):
        stream_once(project, robot, StreamSelector(budget=1.0, threshold=1.01))
    assert project.conn.execute(count).fetchone()[0] == len(first)


def test_info_says_what_watching_left(project, frames, tmp_path):
    from aldesk.services.info import format_info, project_info

    assert project_info(project)["stream"] is None  # never watched: no stream line
    assert "stream " not in format_info(project_info(project))
    robot = tmp_path / "robot"
    stream_once(project, robot, StreamSelector(budget=1.0))
    _drop(frames, robot, 0, 5)
    (robot / "half.png").write_bytes(frames[6].read_bytes()[:100])  # still being written
    selector = StreamSelector(budget=1.0, threshold=2.0)  # every readable arrival is asked
    report = stream_once(project, robot, selector)
    assert len(report.admitted) == 5 and len(report.unreadable) == 1
    first = next(i for i in store_items.list_items(project) if i.rel_path == report.admitted[0])
    ann.record(project, first.id, "label", [cls.list_classes(project)[0].id], annotator="t")
    state = project_info(project)["stream"]
    assert state == {"queued": 4, "waiting": 1, "recent_arrivals": 5, "recent_admitted": 5,
                     "threshold": pytest.approx(selector.threshold, abs=1e-6)}
    line = next(x for x in format_info(project_info(project)).splitlines()
                if x.startswith("stream "))
    assert "4 admitted arrivals to label" in line and "1 waiting to be read" in line
    assert "5 of the last 5 arrivals admitted" in line
    train_round(project)  # the new model is unsure of them still (below a threshold > 1)
    assert project_info(project)["stream"]["queued"] == 4
    ranking = compute_ranking(Path(project.path), retrain=False)
    waiting = {i.id for i in store_items.list_items(project)
               if i.rel_path in report.admitted[1:]}
    assert set(ranking.admitted) == waiting and set(ranking.queue[:4].tolist()) == waiting


def test_a_retrain_keeps_first_the_admissions_its_model_is_still_unsure_of(
        project, frames, tmp_path):
    robot = tmp_path / "robot"
    stream_once(project, robot, StreamSelector(budget=1.0))
    _drop(frames, robot, 0, 6)
    report = stream_once(project, robot, StreamSelector(budget=1.0, threshold=2.0))
    by_path = {i.rel_path: i.id for i in store_items.list_items(project)}
    admitted = [by_path[p] for p in report.admitted]
    assert len(admitted) == 6
    first_class = cls.list_classes(project)[0].id
    ann.record(project, admitted[0], "label", [first_class], annotator="t")
    ann.record(project, admitted[1], "skip", [], annotator="t")
    with project.transaction() as conn:
        conn.execute("UPDATE meta SET value = '0.8' WHERE key = 'stream_threshold'")
    version = store_models.add_model(
        project, representation="pixels", head="test", labels_used=0, last_annotation_id=None,
        params={}, metrics={}, weights=b"")
    unlabeled = np.array([i for i in by_path.values() if i != admitted[0]], np.int64)
    probs = np.full((len(unlabeled), 3), 0.25, np.float32)
    confidence = {admitted[1]: 0.3, admitted[2]: 0.95, admitted[3]: 0.7, admitted[4]: 0.5,
                  admitted[5]: 0.8}  # the skipped one is decided, whatever the model says
    for k, item_id in enumerate(unlabeled.tolist()):
        probs[k, 0] = confidence.get(item_id, 0.5)
    assert carry_admissions(project, version, unlabeled, probs) == 2
    rows = project.conn.execute("SELECT item_id, score FROM scores WHERE model_version = ?"
                                " AND strategy = 'stream' ORDER BY rank", (version,)).fetchall()
    assert [r[0] for r in rows] == [admitted[4], admitted[3]]  # the least confident first
    assert [r[1] for r in rows] == pytest.approx([0.5, 0.3])
    assert carry_admissions(project, version, unlabeled, probs) == 0  # not twice
