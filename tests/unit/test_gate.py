"""The write gate: a user's write never queues behind a stream of the worker's transactions."""

from __future__ import annotations

import threading
import time

from aldesk.store import Project
from aldesk.store.gate import WriteGate, gate_for


def test_a_waiting_foreground_writer_goes_before_background_writers_that_come_later():
    gate = WriteGate()
    order: list[str] = []
    holding, release = threading.Event(), threading.Event()

    def background_holder() -> None:
        with gate.hold(foreground=False, what="first"):
            holding.set()
            release.wait(5)
            order.append("first")

    def writer(name: str, foreground: bool) -> None:
        with gate.hold(foreground=foreground, what=name):
            order.append(name)

    t1 = threading.Thread(target=background_holder)
    t1.start()
    assert holding.wait(5)
    fg = threading.Thread(target=writer, args=("user", True))
    fg.start()
    time.sleep(0.05)  # the user's write is waiting now
    bg = threading.Thread(target=writer, args=("worker", False))
    bg.start()
    time.sleep(0.05)
    assert order == []  # both wait for the holder
    release.set()
    for t in (t1, fg, bg):
        t.join(5)
    assert order == ["first", "user", "worker"]


def test_background_writers_take_turns_when_no_user_waits():
    gate = WriteGate()
    done: list[int] = []

    def writer(k: int) -> None:
        for _ in range(20):
            with gate.hold(foreground=False):
                done.append(k)

    threads = [threading.Thread(target=writer, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(done) == sorted([0, 1, 2] * 20)


def test_one_gate_per_file_whatever_the_path_spelling(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert gate_for(tmp_path / "p.aldesk") is gate_for(tmp_path / "." / "p.aldesk")
    assert gate_for(tmp_path / "p.aldesk") is gate_for(tmp_path.relative_to(tmp_path) / "p.aldesk")
    assert gate_for(tmp_path / "p.aldesk") is not gate_for(tmp_path / "q.aldesk")


def test_a_label_is_written_while_the_worker_commits_transaction_after_transaction(tmp_path):
    """The app's case: the worker saves 100k scores in chunks; a label must not wait for all of
    them (SQLite's own busy handler sleeps and can lose every race to the next chunk)."""
    with Project.create(tmp_path / "p") as owner:
        owner.conn.execute("CREATE TABLE filler (k INTEGER, v BLOB)")
        started, stop = threading.Event(), threading.Event()
        chunks: list[float] = []

        def worker() -> None:
            with Project.attach(owner.path) as project:
                while not stop.is_set() and len(chunks) < 400:
                    with project.transaction() as conn:
                        started.set()
                        conn.executemany("INSERT INTO filler VALUES (?, ?)",
                                         [(k, b"x" * 200) for k in range(2000)])
                    chunks.append(time.monotonic())

        t = threading.Thread(target=worker)
        t.start()
        assert started.wait(10)
        time.sleep(0.05)
        waits = []
        for k in range(10):
            begin = time.monotonic()
            with owner.transaction() as conn:
                conn.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (f"label{k}",))
            waits.append(time.monotonic() - begin)
            time.sleep(0.01)
        stop.set()
        t.join(30)
        chunk_s = (chunks[-1] - chunks[0]) / max(1, len(chunks) - 1)
        # Each label waited for at most the chunk being written, never for the whole stream.
        assert len(chunks) > 10
        assert max(waits) < max(0.5, 4 * chunk_s), (waits, chunk_s)
