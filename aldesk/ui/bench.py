"""`aldesk bench ui`: is the window responsive while the worker computes?

Measures, offscreen, with the real window and the real jobs:
- event-loop stall while embedding N items (EfficientNet-Lite0), training, and scoring a
  generated 100k-item pool: a 5 ms timer in the UI thread records how late each tick comes;
- next image on screen after a class key, with prefetch, at a labeler's pace, while the worker
  trains;
- time until the window is usable (first item shown, queue filled) for the 100k-item project,
  in a fresh process from launch.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

TICK_MS = 5


def _percentiles(gaps: list[float]) -> dict[str, float]:
    if not gaps:
        return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "ticks": 0}
    a = np.asarray(gaps) * 1000.0
    return {"p50_ms": round(float(np.percentile(a, 50)), 1),
            "p99_ms": round(float(np.percentile(a, 99)), 1),
            "max_ms": round(float(a.max()), 1), "ticks": len(gaps)}


class StallMeter:
    """How late a 5 ms timer fires in the UI thread (0 when the loop is free).

    With `trace`, each stall over TRACE_MS is reported with the UI thread's own CPU time during
    it (computing) versus the rest (waiting: for the GIL, a lock, the disk) and the UI thread's
    Python stacks sampled by a watcher thread while it lasted."""

    TRACE_MS = 40.0

    def __init__(self, trace: bool = False) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.stalls: list[dict[str, Any]] = []
        self.gc_pauses: list[tuple[float, int, str]] = []
        self._gc_start = 0.0
        self.trace = trace
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._samples: list[str] = []
        self._watching = False
        self._main = threading.get_ident()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        gap = max(0.0, now - self._last - TICK_MS / 1000.0)
        self.gaps.append(gap)
        if self.trace and gap * 1000 > self.TRACE_MS:
            samples, self._samples = self._samples, []
            self.stalls.append({"ms": round(gap * 1000, 1),
                                "ui_cpu_ms": round((cpu - self._last_cpu) * 1000, 1),
                                "stacks": _most_common(samples)})
        elif self._samples:
            self._samples = []
        self._last, self._last_cpu = now, cpu

    def _watch(self) -> None:
        while self._watching:
            time.sleep(0.01)
            if (time.perf_counter() - self._last) * 1000 > self.TRACE_MS / 2:
                mine = threading.get_ident()
                for ident, frame in sys._current_frames().items():
                    if ident == self._main:
                        self._samples.append("UI " + _stack(frame))
                    elif ident != mine:
                        top = _stack(frame, 5)
                        if not any(w in top.split(" < ")[0] for w in _IDLE):
                            self._samples.append("other " + top)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        ms = (time.perf_counter() - self._gc_start) * 1000
        if ms > 10:
            self.gc_pauses.append((round(ms, 1), info["generation"],
                                   threading.current_thread().name))

    def start(self) -> None:
        self.gaps, self.stalls, self.gc_pauses = [], [], []
        if self.trace and self._gc not in gc.callbacks:
            gc.callbacks.append(self._gc)
        self._last, self._last_cpu = time.perf_counter(), time.thread_time()
        self._timer.start()
        if self.trace and not self._watching:
            self._watching = True
            threading.Thread(target=self._watch, name="stall-watch", daemon=True).start()

    def stop(self) -> dict[str, Any]:
        self._timer.stop()
        self._watching = False
        out: dict[str, Any] = dict(_percentiles(self.gaps))
        if self.trace:
            out["stalls"] = sorted(self.stalls, key=lambda s: -s["ms"])[:12]
            pauses = sorted(self.gc_pauses, reverse=True)
            out["gc_pauses_over_10ms"] = {"count": len(pauses), "longest": pauses[:8]}
        return out


_IDLE = ("threading:wait", "queue:get", "thread:_worker", "selectors:select")


def _stack(frame: Any, depth: int = 8) -> str:
    parts = []
    while frame is not None and len(parts) < depth:
        code = frame.f_code
        parts.append(f"{Path(code.co_filename).stem}:{code.co_name}:{frame.f_lineno}")
        frame = frame.f_back
    return " < ".join(parts)


def _most_common(samples: list[str], n: int = 6) -> list[str]:
    from collections import Counter

    return [f"{k}x {s}" for s, k in Counter(samples).most_common(n)]


def _spin_until(cond: Any, timeout_s: float) -> bool:
    """Runs the event loop until `cond()` holds, as `app.exec()` would: waiting for events
    (the GIL released), checking after each. A loop that polled instead would take the GIL
    from the worker and the decoders it is measuring (it made reading a 100k index in the
    worker take 1.4 s instead of 0.4 s)."""
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    end = time.monotonic() + timeout_s
    wake = QTimer()  # no wait outlasts it, so the timeout is kept
    wake.start(20)
    try:
        while not cond():
            if time.monotonic() > end:
                return False
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
        return True
    finally:
        wake.stop()


# -- generated data -----------------------------------------------------------------------------


def make_photos(folder: Path, n: int, size: int = 320) -> None:
    """n distinct camera-like PNGs (smooth colour fields plus noise), in 10 class folders."""
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size] / size
    for k in range(n):
        c = k % 10
        a, b = rng.uniform(1, 6, 2)
        base = np.stack([np.sin(a * xx * np.pi + c), np.cos(b * yy * np.pi - c),
                         np.sin((xx + yy) * (c + 1))], axis=2)
        img = ((base * 0.5 + 0.5) * 200 + rng.normal(0, 12, base.shape)).clip(0, 255)
        out = folder / f"class{c}" / f"frame-{k:05d}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.astype(np.uint8)).save(out, compress_level=1)


def make_big_project(path: Path, photos: Path, n: int, dims: int = 1280,
                     labeled: int = 200) -> None:
    """A project of n items (hard links to the photos, so each is a real file), with cached
    random embeddings of `dims` and `labeled` labels in 10 classes."""
    from aldesk.services.ingest import sync_folder
    from aldesk.store import Project
    from aldesk.store import annotations as store_ann
    from aldesk.store import classes as store_classes
    from aldesk.store.embeddings import put_vectors

    folder = path.parent / "big-pool"
    sources = sorted(photos.rglob("*.png"))
    for k in range(n):
        target = folder / f"{k // 1000:03d}" / f"item-{k:06d}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            os.link(sources[k % len(sources)], target)
    rng = np.random.default_rng(1)
    with Project.create(path) as project:
        store_classes.add_classes(project, [f"class{c}" for c in range(10)])
        with project.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES "
                         "('representation', 'efficientnet_lite0')")
        sync_folder(project, folder)
        # Hard links share content: give every item its own key, as distinct files would have.
        with project.transaction() as conn:
            conn.execute("UPDATE items SET content_key = 'k' || id")
        from aldesk.ml.backbones import get_representation

        rep_id = get_representation("efficientnet_lite0").id
        centres = rng.normal(0, 1, (10, dims)).astype(np.float32)
        ids = [r[0] for r in project.conn.execute("SELECT id FROM items ORDER BY id")]
        for start in range(0, len(ids), 5000):
            chunk = ids[start:start + 5000]
            x = centres[np.array(chunk) % 10] + rng.normal(0, 2.0, (len(chunk), dims))
            put_vectors(project, rep_id, [(f"k{i}", v) for i, v in zip(chunk, x, strict=True)])
        classes = {c.name: c.id for c in store_classes.list_classes(project)}
        for i in ids[:labeled]:
            store_ann.record(project, i, "label", [classes[f"class{i % 10}"]],
                             annotator="bench")


# -- measurements ----------------------------------------------------------------------------


def _window() -> Any:
    from PySide6.QtWidgets import QApplication

    from aldesk.ui import theme
    from aldesk.ui.app import configure_process
    from aldesk.ui.main_window import MainWindow

    configure_process()
    app = QApplication.instance() or QApplication(["aldesk-bench"])
    theme.apply(app)  # type: ignore[arg-type]
    w = MainWindow()
    w.resize(1400, 880)
    w.show()
    return w


def measure_jobs(small: Path | None, big: Path | None, trace: bool = False) -> dict[str, Any]:
    """Stall while embedding (small project, cold) and while training + scoring (big)."""
    w = _window()
    failures: list[str] = []
    w.runner.failed.connect(lambda _i, kind, message, details: failures.append(
        f"{kind}: {message}\n{details}"))
    meter = StallMeter(trace)
    out: dict[str, Any] = {"failures": failures}
    if small is not None:
        t = time.perf_counter()
        opening = open_measured(w, small, meter)  # cold: embeds every item, then ranks
        meter.start()
        _spin_until(lambda: not w.runner.is_busy(), 3600)
        out["embed"] = {**meter.stop(), "open": opening,
                        "seconds": round(time.perf_counter() - t, 1),
                        "items": len(w.workspace.state.index)}
        w.close_project()
    if big is not None:
        t = time.perf_counter()
        opening = open_measured(w, big, meter)  # labels newer than any model: train + score
        meter.start()
        _spin_until(lambda: not w.runner.is_busy(), 3600)
        ws = w.workspace
        out["train_and_score_100k"] = {**meter.stop(), "open": opening,
                                       "seconds": round(time.perf_counter() - t, 1),
                                       "items": len(ws.state.index),
                                       "model_version": None if ws.state.ranking is None
                                       else ws.state.ranking.model_version}
        if ws.state.ranking is None or ws.state.ranking.model_version is None:
            raise SystemExit("the round on the big project did not finish: "
                             + "; ".join(failures or ["no failure reported"]))
        out["next_image"] = measure_next_image(w, meter)
    w.close()
    return out


def open_measured(w: Any, path: Path, meter: StallMeter) -> dict[str, Any]:
    """Opening a project until its first item is on screen: how long, and the stalls of the
    UI thread meanwhile (its index is read by the worker; building the panels is not)."""
    meter.start()
    t = time.perf_counter()
    w.open_project(path)
    if not _spin_until(lambda: w.workspace is not None and _shown(w.workspace), 300):
        raise SystemExit(f"{path.name} did not open within 300 s")
    return {"to_first_item_ms": round((time.perf_counter() - t) * 1000), **meter.stop()}


def measure_next_image(w: Any, meter: StallMeter, labels: int = 40, pace_s: float = 0.4
                       ) -> dict[str, Any]:
    """Key press to the new item's pixels in the viewer, while the worker retrains."""
    ws = w.workspace
    names = {c.name: c.id for c in ws.state.classes}
    ws.training.retrain()  # keep the worker busy meanwhile
    times, stalls, commits = [], [], []
    push = ws.labeling.undo_stack.push

    def timed_push(command: Any) -> Any:  # the label's durable commit, timed apart
        t0 = time.perf_counter()
        try:
            return push(command)
        finally:
            commits.append(time.perf_counter() - t0)

    ws.labeling.undo_stack.push = timed_push
    meter.start()
    # The first item is looked at too: the window handles what is pending (the queue view lays
    # out a new 100k list in batches) as it would before any key a person presses.
    _spin_until(lambda: False, pace_s)
    for _ in range(labels):
        item = ws.labeling.current
        if item is None:
            break
        folder_class = ws.state.index.rows[item].rel_path
        cid = names[f"class{int(folder_class.split('-')[-1].split('.')[0]) % 10}"]
        t = time.perf_counter()
        ws.labeling.label(cid)
        nxt = ws.labeling.current
        if nxt != item:
            _spin_until(lambda: _shown(ws), 5)
        times.append(time.perf_counter() - t)
        _spin_until(lambda: False, pace_s)  # a labeler's pace: look, decide
    stalls.append(meter.stop())
    ws.labeling.undo_stack.push = push
    a, c = np.asarray(times) * 1000, np.asarray(commits) * 1000
    return {"labels": len(times), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p99_ms": round(float(np.percentile(a, 99)), 1), "max_ms": round(float(a.max()), 1),
            "commit_p50_ms": round(float(np.percentile(c, 50)), 1),
            "commit_max_ms": round(float(c.max()), 1),
            "all_ms": [round(float(v), 1) for v in a],
            "commit_all_ms": [round(float(v), 1) for v in c],
            "stall_while_labeling": stalls[0]}


def _shown(ws: Any) -> bool:
    return ws.labeling.rendered is not None and ws.labeling.shown_item == ws.labeling.current


def measure_startup(big: Path) -> dict[str, Any]:
    """Launch to usable (first item shown) for the big project, in a fresh process."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    launched = time.time()  # wall clock: the child reports in the same clock
    aldesk = [sys.executable] if getattr(sys, "frozen", False) else [sys.executable, "-m",
                                                                      "aldesk"]
    done = subprocess.run([*aldesk, "bench", "ui", "--startup-child", str(big)],
                          capture_output=True, text=True, env=env, timeout=300)
    try:
        child = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"error": (done.stderr or done.stdout)[-500:]}
    return {"launch_to_window_s": round(child.pop("window_at") - launched, 2),
            "launch_to_usable_s": round(child.pop("usable_at") - launched, 2), **child}


def startup_child(project: Path) -> int:
    """`aldesk PROJECT` as the entry point does it, reporting when the first item shows."""
    w = _window()
    window_at = time.time()
    w.open_project(project)
    ok = _spin_until(lambda: w.workspace is not None and _shown(w.workspace), 60)
    usable_at = time.time()
    ws = w.workspace
    print(json.dumps({"window_at": window_at, "usable_at": usable_at, "first_item_shown": ok,
                      "queue_rows": None if ws is None else ws.queue.model.rowCount(),
                      "items": None if ws is None else len(ws.state.index)}))
    sys.stdout.flush()
    os._exit(0)  # the worker may be reading the ranking still; nothing to save


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aldesk bench ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000, help="items to embed (default 2000)")
    parser.add_argument("--pool", type=int, default=100_000, help="items in the big project")
    parser.add_argument("--work", type=Path,
                        help="folder for the generated data (kept; delete its pool-N.pristine "
                             "after a change of the representation's id, or the first round "
                             "re-embeds the whole pool)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--only", choices=["startup", "embed", "pool"], action="append",
                        help="measure only this part (repeatable; default: all)")
    parser.add_argument("--trace", action="store_true",
                        help="report each stall over 40 ms with the UI thread's stacks")
    parser.add_argument("--startup-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.startup_child:
        return startup_child(args.startup_child)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = args.work or Path(tempfile.mkdtemp(prefix="aldesk-bench-ui-"))
    work.mkdir(parents=True, exist_ok=True)
    # Settings (recent projects), logs and caches of the benchmark's windows stay in the work
    # folder, not the user's (the startup child inherits it).
    os.environ.setdefault("ALDESK_HOME", str(work / "home"))
    photos = work / "photos"
    if not photos.exists():
        print(f"writing {args.items} photos to {photos}", file=sys.stderr)
        make_photos(photos, args.items)
    parts = set(args.only or ["startup", "embed", "pool"])
    small, big = work / "embed.aldesk", work / "pool.aldesk"
    for p in (small, big):
        for leftover in (p, *p.parent.glob(p.name + "-*")):
            if leftover.is_file():
                leftover.unlink()
    from aldesk.services.ingest import sync_folder
    from aldesk.store import Project

    with Project.create(small) as project:
        with project.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES "
                         "('representation', 'efficientnet_lite0')")
        sync_folder(project, photos)
    # The generated pool is kept in the work folder; every run starts from a fresh copy of it.
    pristine = work / f"pool-{args.pool}.pristine"
    if not pristine.exists():
        print(f"generating the {args.pool:,}-item project", file=sys.stderr)
        for leftover in work.glob("pool-new.aldesk*"):  # an interrupted generation
            if leftover.is_file():
                leftover.unlink()
        make_big_project(work / "pool-new.aldesk", photos, args.pool)
        (work / "pool-new.aldesk").rename(pristine)
    shutil.copyfile(pristine, big)
    result: dict[str, Any] = {"machine": _machine()}
    if "startup" in parts:
        result["startup"] = measure_startup(big)
        shutil.copyfile(pristine, big)  # whatever the child's worker wrote is not measured on
    result.update(measure_jobs(small if "embed" in parts else None,
                               big if "pool" in parts else None, trace=args.trace))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


def _machine() -> str:
    import platform

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, " \
           f"Python {platform.python_version()}"


if __name__ == "__main__":
    sys.exit(main())
