"""services.compute: job functions in a child process, with progress, cancel, errors and crashes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import compute_jobs
import pytest

from aldesk.core.errors import Cancelled, InputError
from aldesk.core.jobs import LocalJob
from aldesk.services.compute import ComputeError, ComputeProcess

pytestmark = pytest.mark.slow  # each child imports torch: a few seconds


class Recorder(LocalJob):
    """A caller-side job that keeps every progress report."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int | None, str]] = []
        super().__init__(on_progress=lambda *p: self.seen.append(p))


@pytest.fixture(scope="module")
def compute():
    c = ComputeProcess()
    yield c
    c.shutdown()
    from aldesk.store import gate

    gate.unshare()


def test_runs_in_another_process_and_returns_the_result(compute):
    assert compute.run(compute_jobs.add, None, a=2, b=3) == 5
    assert compute.run(compute_jobs.pid, None) == compute.pid != os.getpid()


def test_the_child_keeps_freed_memory_like_the_window(compute):
    from aldesk.core.malloc import _glibc, user_set

    expected = bool(sys.platform.startswith("linux") and _glibc() and not user_set())
    assert compute.run(compute_jobs.malloc_kept, None) is expected


def test_progress_reaches_the_caller_and_cancel_reaches_the_child(compute):
    job = Recorder()
    threading.Timer(0.8, job.cancel).start()
    start = time.monotonic()
    with pytest.raises(Cancelled):
        compute.run(compute_jobs.count_until_cancelled, job, seconds=30)
    assert time.monotonic() - start < 5  # cancelled within a check, not after 30 s
    assert job.seen and job.seen[-1][2].startswith("step")
    assert len(job.seen) <= 0.8 * 20 + 5  # throttled to ~20 per second
    assert compute.run(compute_jobs.add, None, a=1, b=1) == 2  # and the child goes on


def test_input_errors_keep_their_class_and_defects_carry_the_child_traceback(compute):
    with pytest.raises(InputError, match="no images"):
        compute.run(compute_jobs.refuse, None)
    with pytest.raises(ComputeError, match="ValueError: a defect") as info:
        compute.run(compute_jobs.fail, None)
    assert "compute_jobs.py" in "".join(info.value.__notes__)


def test_a_child_that_dies_is_reported_and_replaced(compute):
    first = compute.run(compute_jobs.pid, None)
    with pytest.raises(ComputeError, match="exit code 7"):
        compute.run(compute_jobs.die, None, code=7)
    second = compute.run(compute_jobs.pid, None)
    assert second != first


def test_a_real_round_gives_the_same_ranking_as_in_process(tmp_path, compute):
    from conftest import make_digit_folder

    from aldesk.services.ingest import sync_folder
    from aldesk.services.ranking import compute_ranking
    from aldesk.store import Project
    from aldesk.store import annotations as store_ann
    from aldesk.store import classes as store_classes

    make_digit_folder(tmp_path / "d", 60)
    path = tmp_path / "p.aldesk"
    with Project.create(path) as p:
        ids = {c.name: c.id for c in store_classes.add_classes(p, ["0", "1", "2"])}
        sync_folder(p, tmp_path / "d")
        for item in range(1, 13):
            store_ann.record(p, item, "label", [ids[str(item % 3)]], annotator="t")
    with Project.open(path) as owner:  # the app holds the project open meanwhile
        job = Recorder()
        remote = compute.run(compute_ranking, job, path=path, retrain=True)
        local = compute_ranking(path, retrain=False)  # reads the model the child saved
        assert owner.integrity_check() == "ok"
    assert remote.model_version == local.model_version == 1
    assert remote.queue.tolist() == local.queue.tolist()
    assert job.seen  # the child's progress came through


def test_the_child_never_outlives_the_app(tmp_path):
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parents[1])!r})
        import compute_jobs
        from aldesk.services.compute import ComputeProcess
        if __name__ == "__main__":
            c = ComputeProcess()
            print(c.run(compute_jobs.pid, None), flush=True)
            import time
            time.sleep(60)
    """)
    (tmp_path / "parent.py").write_text(script)
    parent = subprocess.Popen([sys.executable, str(tmp_path / "parent.py")],
                              stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait(10)
    end = time.monotonic() + 10
    while time.monotonic() < end and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "zombie" in status.read_text())


def test_a_late_cancel_of_one_call_does_not_cancel_the_next(compute):
    compute.run(compute_jobs.add, None, a=1, b=2)
    finished = compute._calls
    with compute._lock:  # what run() does, with the previous call's cancel arriving late
        compute._calls += 1
        compute._to_child.send(("call", compute._calls, "compute_jobs",
                                "count_until_cancelled", {"seconds": 0.5}))
        compute._to_child.send(("cancel", finished))
        assert compute._wait(None) > 0  # ran to its end, not Cancelled
