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
import json
import os
import subprocess
import sys
import tempfile
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
    """How late a 5 ms timer fires in the UI thread (0 when the loop is free)."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self._timer = QTimer()
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(max(0.0, now - self._last - TICK_MS / 1000.0))
        self._last = now

    def start(self) -> None:
        self.gaps = []
        self._last = time.perf_counter()
        self._timer.start()

    def stop(self) -> dict[str, float]:
        self._timer.stop()
        return _percentiles(self.gaps)


def _spin_until(cond: Any, timeout_s: float) -> bool:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            return False
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
    return True


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


def measure_jobs(small: Path, big: Path) -> dict[str, Any]:
    """Stall while embedding (small project, cold) and while training + scoring (big)."""
    w = _window()
    failures: list[str] = []
    w.runner.failed.connect(lambda _i, kind, message, details: failures.append(
        f"{kind}: {message}\n{details}"))
    meter = StallMeter()
    out: dict[str, Any] = {"failures": failures}
    meter.start()
    t = time.perf_counter()
    w.open_project(small)  # cold: embeds every item, then the cold-start ranking
    _spin_until(lambda: not w.runner.is_busy(), 3600)
    out["embed"] = {**meter.stop(), "seconds": round(time.perf_counter() - t, 1),
                    "items": len(w.workspace.state.index)}
    w.close_project()
    meter.start()
    t = time.perf_counter()
    w.open_project(big)  # labels newer than any model: train + score the 100k pool
    _spin_until(lambda: not w.runner.is_busy(), 3600)
    ws = w.workspace
    out["train_and_score_100k"] = {**meter.stop(), "seconds": round(time.perf_counter() - t, 1),
                                   "items": len(ws.state.index),
                                   "model_version": None if ws.state.ranking is None
                                   else ws.state.ranking.model_version}
    if ws.state.ranking is None or ws.state.ranking.model_version is None:
        raise SystemExit("the round on the big project did not finish: "
                         + "; ".join(failures or ["no failure reported"]))
    out["next_image"] = measure_next_image(w, meter)
    w.close()
    return out


def measure_next_image(w: Any, meter: StallMeter, labels: int = 40, pace_s: float = 0.4
                       ) -> dict[str, Any]:
    """Key press to the new item's pixels in the viewer, while the worker retrains."""
    ws = w.workspace
    names = {c.name: c.id for c in ws.state.classes}
    ws.training.retrain()  # keep the worker busy meanwhile
    times, stalls = [], []
    meter.start()
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
    a = np.asarray(times) * 1000
    return {"labels": len(times), "p50_ms": round(float(np.percentile(a, 50)), 1),
            "p99_ms": round(float(np.percentile(a, 99)), 1), "max_ms": round(float(a.max()), 1),
            "stall_while_labeling": stalls[0]}


def _shown(ws: Any) -> bool:
    return ws.labeling.rendered is not None and ws.labeling.shown_item == ws.labeling.current


def measure_startup(big: Path) -> dict[str, Any]:
    """Launch to usable (first item shown) for the big project, in a fresh process."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    launched = time.time()  # wall clock: the child reports in the same clock
    done = subprocess.run([sys.executable, "-m", "aldesk", "bench", "ui", "--startup-child",
                           str(big)], capture_output=True, text=True, env=env, timeout=300)
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
    print(json.dumps({"window_at": window_at, "usable_at": usable_at, "first_item_shown": ok,
                      "queue_rows": w.workspace.queue.model.rowCount(),
                      "items": len(w.workspace.state.index)}))
    sys.stdout.flush()
    os._exit(0)  # the worker may be reading the ranking still; nothing to save


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aldesk bench ui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=2000, help="items to embed (default 2000)")
    parser.add_argument("--pool", type=int, default=100_000, help="items in the big project")
    parser.add_argument("--work", type=Path, help="folder for the generated data (kept)")
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    parser.add_argument("--startup-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.startup_child:
        return startup_child(args.startup_child)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = args.work or Path(tempfile.mkdtemp(prefix="aldesk-bench-ui-"))
    work.mkdir(parents=True, exist_ok=True)
    photos = work / "photos"
    if not photos.exists():
        print(f"writing {args.items} photos to {photos}", file=sys.stderr)
        make_photos(photos, args.items)
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
    print(f"generating the {args.pool:,}-item project", file=sys.stderr)
    make_big_project(big, photos, args.pool)
    result = {"machine": _machine(), "startup": measure_startup(big),
              **measure_jobs(small, big)}
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
