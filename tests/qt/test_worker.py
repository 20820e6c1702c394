"""The one worker thread: signal order, cancellation, superseded jobs, errors."""

from __future__ import annotations

import threading
import time

import pytest

from aldesk.core.errors import InputError
from aldesk.ui.worker import JobRunner


@pytest.fixture
def runner(qtbot):
    r = JobRunner()
    yield r
    assert r.shutdown(5.0)


def _counting(n: int, delay: float = 0.0):
    def fn(job):
        for i in range(n):
            job.check()
            job.progress(i + 1, n, "counting")
            time.sleep(delay)
        return n * 10
    return fn


def test_signals_arrive_in_order(qtbot, runner):
    seen = []
    runner.started.connect(lambda *a: seen.append("started"))
    runner.progress.connect(lambda *a: seen.append("progress"))
    runner.finished.connect(lambda i, kind, result: seen.append(("finished", kind, result)))
    with qtbot.waitSignals([runner.started, runner.finished], order="strict", timeout=5000):
        runner.submit("count", "Counting", _counting(5))
    qtbot.waitUntil(lambda: ("finished", "count", 50) in seen)
    assert seen[0] == "started"
    assert seen[-1] == ("finished", "count", 50)
    assert "progress" in seen  # the final progress report is never throttled away


def test_job_runs_in_the_worker_thread_not_the_ui_thread(qtbot, runner):
    ui = threading.get_ident()
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.submit("where", "Where", lambda job: threading.get_ident())
    assert blocker.args[2] != ui


def test_cancel_takes_effect_within_half_a_second(qtbot, runner):
    started = threading.Event()

    def long(job):
        started.set()
        while True:  # a long job that checks for cancellation between units of work
            job.check()
            time.sleep(0.01)

    job_id = runner.submit("long", "Long", long)
    assert started.wait(5)
    t = time.monotonic()
    with qtbot.waitSignal(runner.cancelled, timeout=2000) as blocker:
        runner.cancel(job_id)
    assert time.monotonic() - t < 0.5
    assert blocker.args == [job_id, "long"]


def test_newer_job_of_a_kind_supersedes_the_older(qtbot, runner):
    results, cancelled = [], []
    runner.finished.connect(lambda i, kind, r: results.append(r))
    runner.cancelled.connect(lambda i, kind: cancelled.append(i))
    gate = threading.Event()

    def slow(job):
        gate.wait(5)
        return "old"

    first = runner.submit("rank", "Old", slow)
    second = runner.submit("rank", "New", lambda job: "new")
    gate.set()
    qtbot.waitUntil(lambda: "new" in results, timeout=5000)
    assert results == ["new"]  # the stale result never lands
    assert first in cancelled and second not in cancelled


def test_other_kinds_are_not_superseded(qtbot, runner):
    results = []
    runner.finished.connect(lambda i, kind, r: results.append(r))
    runner.submit("backup", "Backup", lambda job: "b")
    runner.submit("rank", "Rank", lambda job: "r")
    qtbot.waitUntil(lambda: len(results) == 2, timeout=5000)
    assert results == ["b", "r"]  # one worker: in the order submitted


def test_a_defect_becomes_a_failure_with_details(qtbot, runner):
    def broken(job):
        raise ZeroDivisionError("boom")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit("x", "Broken", broken)
    _, _kind, message, details = blocker.args
    assert "ZeroDivisionError: boom" in message
    assert "Traceback" in details


def test_a_user_error_is_a_plain_message(qtbot, runner):
    def refuse(job):
        raise InputError("folder /nope does not exist")

    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.submit("x", "Scan", refuse)
    assert blocker.args[2] == "folder /nope does not exist"
    assert blocker.args[3] == ""


def test_progress_is_throttled(qtbot, runner):
    reports = []
    runner.progress.connect(lambda *a: reports.append(a))
    with qtbot.waitSignal(runner.finished, timeout=5000):
        runner.submit("many", "Many", _counting(20_000))
    assert 1 <= len(reports) < 200
    assert reports[-1][1:3] == (20_000, 20_000)


def test_idle_after_the_queue_empties(qtbot, runner):
    with qtbot.waitSignal(runner.idle, timeout=5000):
        runner.submit("a", "A", lambda job: None)
    assert not runner.is_busy()
