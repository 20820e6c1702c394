"""No label that was reported saved is lost when the process dies, and readers run beside
a writer. A child process writes labels in a loop and reports each commit; the test kills it
with SIGKILL at a random moment and checks the file."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from aldesk.core.types import FoundFile
from aldesk.store import Project, items
from aldesk.store import annotations as ann
from aldesk.store import classes as cls

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

N_ITEMS = 300

WRITER = textwrap.dedent("""
    import sys, time
    from aldesk.store import Project
    from aldesk.store import annotations as ann
    path, n_items, n_classes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    seconds = float(sys.argv[4])
    project = Project.open(path, backup_on_open=False)
    print("ready", flush=True)
    end, i = time.monotonic() + seconds, 0
    while time.monotonic() < end:
        item, cls = i % n_items + 1, i % n_classes + 1
        ann_id = ann.record(project, item, "label", [cls], annotator="crash-test",
                            seconds_spent=0.5)
        print(f"saved {ann_id} {item} {cls}", flush=True)
        i += 1
    print("done", flush=True)
""")


def make_project(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    with Project.create(tmp_path / "crash") as p:
        source = items.add_source(p, tmp_path / "data")
        items.insert_items(p, source.id, [
            FoundFile(f"{i}.png", i, 0.0, f"k{i}", "image") for i in range(N_ITEMS)])
        cls.add_classes(p, ["a", "b", "c"])
    return tmp_path / "crash.aldesk"


def start_writer(path: Path, seconds: float) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(N_ITEMS), "3", str(seconds)],
        stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    return child


@pytest.mark.parametrize("run", range(20))
def test_sigkill_at_a_random_moment_loses_no_reported_label(tmp_path, run):
    path = make_project(tmp_path)
    child = start_writer(path, seconds=30)
    time.sleep(random.Random(run).uniform(0.02, 0.6))
    os.kill(child.pid, signal.SIGKILL)
    out, _ = child.communicate(timeout=30)
    # Only whole lines count as reports: the child may die halfway through printing one.
    reported = [line.split() for line in out.split("\n")[:-1] if line.startswith("saved ")]
    assert reported, "the writer was killed before saving anything; nothing was tested"
    with Project.open(path) as p:  # the dead writer's lock is gone
        assert p.integrity_check() == "ok"
        rows = {
            r["id"]: (r["item_id"], r["class_id"])
            for r in p.conn.execute(
                "SELECT a.id, a.item_id, ac.class_id FROM annotations a"
                " JOIN annotation_classes ac ON ac.annotation_id = a.id")
        }
        for _, ann_id, item, klass in reported:
            assert rows.get(int(ann_id)) == (int(item), int(klass)), f"label {ann_id} lost"


def test_a_reader_sees_consistent_growing_state_while_a_writer_works(tmp_path):
    path = make_project(tmp_path)
    child = start_writer(path, seconds=2.0)
    lines: list[str] = []  # drained in a thread, or the child blocks on a full pipe
    drain = threading.Thread(target=lambda: lines.extend(child.stdout), daemon=True)
    drain.start()
    seen = []
    try:
        while child.poll() is None:
            with Project.open(path, readonly=True) as reader:
                n = ann.count_rows(reader)
                state = ann.current_all(reader)
                # every annotation row visible to the reader has its class row too
                assert all(s.class_ids for s in state.values())
            seen.append(n)
            time.sleep(0.05)
    finally:
        child.wait(timeout=30)
        drain.join(timeout=30)
    out = "".join(lines)
    assert child.returncode == 0 and out.rstrip().endswith("done")
    assert len(seen) > 5 and seen == sorted(seen) and seen[-1] > seen[0]
    with Project.open(path, readonly=True) as reader:
        assert ann.count_rows(reader) == out.count("saved ")
