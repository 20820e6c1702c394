"""Opening a project in the window: time to the first item on screen, and the UI thread's
stalls meanwhile (DESIGN.md: the UI never freezes).

    python benchmarks/bench_open.py PROJECT [--rounds 3] [--tree DIR]

Each round opens a fresh copy of PROJECT (so nothing the previous round's worker wrote is
measured) in one offscreen window, waits in the event loop until the first item is shown, and
closes it. A 5 ms timer measures how late each tick comes, as `aldesk bench ui` does. `--tree`
runs the aldesk of another checkout (e.g. a `git worktree` of an older commit), so two versions
can be compared alternately on the same machine. `aldesk bench ui` builds a 100k-item project
(`--work DIR` keeps it as DIR/pool-100000.pristine).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1],
                    help="the checkout whose aldesk is measured")
    args = ap.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    work = Path(tempfile.mkdtemp(prefix="aldesk-bench-open-"))
    os.environ["ALDESK_HOME"] = str(work / "home")  # not the user's settings or caches
    sys.path.insert(0, str(args.tree.resolve()))
    from PySide6.QtCore import QCoreApplication, QEventLoop, QTimer

    from aldesk.ui.bench import StallMeter, _shown, _window

    # As app.exec() waits. aldesk.ui.bench has the same loop, but an older tree's version
    # polls, which starves the worker it measures (its docstring); this one is the same for
    # every tree compared.
    def wait_until(cond: object, timeout_s: float) -> bool:
        end = time.monotonic() + timeout_s
        wake = QTimer()
        wake.start(20)
        try:
            while not cond():  # type: ignore[operator]
                if time.monotonic() > end:
                    return False
                QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents)
            return True
        finally:
            wake.stop()

    w = _window()
    meter = StallMeter()
    rounds = []
    for k in range(args.rounds):
        copy = work / f"open-{k}.aldesk"
        shutil.copyfile(args.project, copy)
        meter.start()
        t = time.perf_counter()
        w.open_project(copy)
        shown = wait_until(lambda: w.workspace is not None and _shown(w.workspace), 300)
        first = time.perf_counter() - t
        stalls = meter.stop()
        rounds.append({"first_item_ms": round(first * 1000) if shown else None,
                       "max_stall_ms": stalls["max_ms"], "p99_stall_ms": stalls["p99_ms"]})
        w.close_project()  # waits for the worker (its backup of the copy)
        for leftover in work.glob(f"open-{k}.aldesk*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    print(json.dumps({"tree": str(args.tree), "project": str(args.project), "rounds": rounds}))
    sys.stdout.flush()
    shutil.rmtree(work, ignore_errors=True)
    os._exit(0)  # skips Qt's teardown of the window; nothing is left to save


if __name__ == "__main__":
    raise SystemExit(main())
