"""The project file: creation, round trips, durability settings, refusals."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from aldesk.core.errors import (
    InputError,
    LabelError,
    NewerProjectError,
    NotAProjectError,
    ProjectLockedError,
)
from aldesk.core.types import FoundFile, Provenance
from aldesk.store import Project, backup, items, schema
from aldesk.store import annotations as ann
from aldesk.store import classes as cls


def new_project(tmp_path: Path, n_items: int = 5, mode: str = "single") -> Project:
    project = Project.create(tmp_path / "p", label_mode=mode)
    (tmp_path / "data").mkdir(exist_ok=True)
    source = items.add_source(project, tmp_path / "data")
    items.insert_items(project, source.id, [
        FoundFile(f"img{i}.png", 100 + i, 1.0, f"key{i}", "image") for i in range(n_items)
    ])
    return project


def test_round_trip_of_classes_items_and_labels(tmp_path):
    with new_project(tmp_path) as p:
        _normal, abnormal = cls.add_classes(p, ["normal", "abnormal"])
        prov = Provenance(model_version=3, score=0.7, rank=1, suggestion_shown=True,
                          suggested_class_id=abnormal.id)
        a = ann.record(p, 1, "label", [abnormal.id], annotator="dr a", seconds_spent=4.5,
                       provenance=prov)
        ann.record(p, 2, "skip", annotator="dr a")
        ann.record(p, 3, "unsure", annotator="dr b")
    with Project.open(tmp_path / "p.aldesk", readonly=True) as p:
        assert p.schema_version == schema.SCHEMA_VERSION
        assert [c.name for c in cls.list_classes(p)] == ["normal", "abnormal"]
        assert len(items.list_items(p)) == 5
        cur = ann.current_all(p)
        assert cur[1].class_ids == (abnormal.id,) and cur[1].seconds_spent == 4.5
        assert cur[1].annotator == "dr a" and cur[1].created_at.endswith("Z")
        assert cur[2].kind == "skip" and cur[3].kind == "unsure" and 4 not in cur
        row = p.conn.execute("SELECT * FROM annotations WHERE id = ?", (a,)).fetchone()
        assert (row["model_version"], row["score"], row["rank"], row["suggestion_shown"],
                row["suggested_class_id"]) == (3, 0.7, 1, 1, abnormal.id)


def test_durability_settings(tmp_path):
    with new_project(tmp_path) as p:
        assert p.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert p.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert p.conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    with Project.open(tmp_path / "p.aldesk") as p:
        assert p.conn.execute("PRAGMA synchronous").fetchone()[0] == 2


def test_annotations_are_append_only(tmp_path):
    with new_project(tmp_path) as p:
        c = cls.add_classes(p, ["a"])[0]
        ann.record(p, 1, "label", [c.id], annotator="x")
        for sql in ("UPDATE annotations SET annotator = 'y'", "DELETE FROM annotations",
                    "DELETE FROM annotation_classes"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                p.conn.execute(sql)
        assert ann.current(p, 1).annotator == "x"


def test_a_failed_action_leaves_nothing_behind(tmp_path):
    with new_project(tmp_path) as p:
        c = cls.add_classes(p, ["a"])[0]
        with pytest.raises(RuntimeError), p.transaction():
            ann.record(p, 1, "label", [c.id], annotator="x")
            raise RuntimeError("power cut in the middle of an action")
        assert ann.count_rows(p) == 0


def test_labels_follow_the_project_mode(tmp_path):
    with new_project(tmp_path) as p:
        a, b = cls.add_classes(p, ["a", "b"])
        with pytest.raises(LabelError, match="one class"):
            ann.record(p, 1, "label", [a.id, b.id], annotator="x")
        with pytest.raises(LabelError, match="needs a class"):
            ann.record(p, 1, "label", [], annotator="x")
        with pytest.raises(LabelError, match="no item"):
            ann.record(p, 99, "label", [a.id], annotator="x")
        with pytest.raises(LabelError, match="carries no class"):
            ann.record(p, 1, "skip", [a.id], annotator="x")
    (tmp_path / "p.aldesk").unlink()
    with new_project(tmp_path, mode="multi") as p:
        a, b = cls.add_classes(p, ["effusion", "nodule"])
        ann.record(p, 1, "label", [b.id, a.id], annotator="x")
        assert ann.current(p, 1).class_ids == (a.id, b.id)


def test_undo_appends_and_history_keeps_everything(tmp_path):
    with new_project(tmp_path) as p:
        a, b = cls.add_classes(p, ["a", "b"])
        first = ann.record(p, 1, "label", [a.id], annotator="x")
        second = ann.record(p, 1, "label", [b.id], annotator="x")
        ann.record(p, 1, "label", [a.id], annotator="x", reverts=second)
        assert ann.current(p, 1).class_ids == (a.id,)
        ann.record(p, 1, "clear", annotator="x", reverts=first)
        assert ann.current(p, 1) is None
        assert [h.kind for h in ann.history(p, 1)] == ["label", "label", "label", "clear"]


def test_refuses_a_file_from_a_newer_aldesk(tmp_path):
    new_project(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "p.aldesk")
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.execute("UPDATE meta SET value = '9.0' WHERE key = 'app_version'")
    conn.commit()
    conn.close()
    before = (tmp_path / "p.aldesk").read_bytes()
    for readonly in (False, True):
        with pytest.raises(NewerProjectError, match=r"aldesk 9\.0 .*format 99.*Update aldesk"):
            Project.open(tmp_path / "p.aldesk", readonly=readonly)
    assert (tmp_path / "p.aldesk").read_bytes() == before


@pytest.mark.parametrize("content", [b"", b"hello", b"SQLite format 3\x00" + b"\x00" * 200])
def test_refuses_files_that_are_not_projects(tmp_path, content):
    path = tmp_path / "x.aldesk"
    path.write_bytes(content)
    with pytest.raises(NotAProjectError):
        Project.open(path)


def test_refuses_a_plain_sqlite_database(tmp_path):
    conn = sqlite3.connect(tmp_path / "other.aldesk")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAProjectError):
        Project.open(tmp_path / "other.aldesk", readonly=True)


def test_create_refuses_to_overwrite_and_needs_a_folder(tmp_path):
    new_project(tmp_path).close()
    with pytest.raises(InputError, match="already exists"):
        Project.create(tmp_path / "p.aldesk")
    with pytest.raises(InputError, match="does not exist"):
        Project.create(tmp_path / "nowhere" / "p")
    with pytest.raises(InputError, match="does not exist"):
        Project.open(tmp_path / "missing.aldesk")


def test_second_writer_in_this_process_is_refused(tmp_path):
    with new_project(tmp_path), pytest.raises(ProjectLockedError, match="already open"):
        Project.open(tmp_path / "p.aldesk")
    Project.open(tmp_path / "p.aldesk").close()  # free again once closed


def test_second_aldesk_process_gets_a_clear_message(tmp_path):
    new_project(tmp_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from aldesk.store import Project
            p = Project.open({str(tmp_path / 'p.aldesk')!r})
            print('open', flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(ProjectLockedError, match=rf"pid {holder.pid} on"):
            Project.open(tmp_path / "p.aldesk")
        with Project.open(tmp_path / "p.aldesk", readonly=True) as reader:
            assert len(items.list_items(reader)) == 5
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    Project.open(tmp_path / "p.aldesk").close()


def test_lock_is_released_when_the_holder_is_killed(tmp_path):
    new_project(tmp_path).close()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time; from aldesk.store import Project; "
         f"p = Project.open({str(tmp_path / 'p.aldesk')!r}); print('open', flush=True); "
         "time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "open"
    holder.kill()
    holder.wait(timeout=30)
    Project.open(tmp_path / "p.aldesk").close()


def test_backups_rotate_on_every_writable_open(tmp_path):
    new_project(tmp_path).close()
    for _ in range(backup.KEEP + 3):
        Project.open(tmp_path / "p.aldesk").close()
    Project.open(tmp_path / "p.aldesk", readonly=True).close()  # readers make no backup
    copies = sorted(backup.backup_dir(tmp_path / "p.aldesk").glob("*.aldesk"))
    assert len(copies) == backup.KEEP
    with Project.open(copies[-1], readonly=True) as old:
        assert len(items.list_items(old)) == 5
        assert old.integrity_check() == "ok"
