"""Kill the app mid-session: every label the window showed as saved must be in the file.

A child process opens the real window (offscreen) and labels by key presses, printing each item
once the queue shows it labeled; the parent kills it with SIGKILL at a random moment and reads
the project.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from aldesk.services.ingest import sync_folder
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes

CHILD = textwrap.dedent("""
    import sys
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication
    from aldesk.ui.main_window import MainWindow

    app = QApplication([])
    w = MainWindow()
    w.settings.retrain_every = 10  # background training while labeling, as in real use
    w.show()
    w.activateWindow()
    QTest.qWaitForWindowActive(w)
    assert w.open_project(sys.argv[1])
    while w.workspace is None:  # its index is being read by the worker
        app.processEvents()
    ws = w.workspace
    keys = [Qt.Key.Key_A, Qt.Key.Key_B, Qt.Key.Key_C]  # classes a, b, c keep their letters
    n = 0
    while ws.labeling.current is not None:
        item = ws.labeling.current
        QTest.keyClick(w, keys[n % 3])
        app.processEvents()
        label = ws.state.labels.get(item)
        if label is not None:  # the queue now shows it labeled: "saved" for the user
            print(f"saved {item} {label.class_ids[0]}", flush=True)
        n += 1
""")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from PIL import Image

    root = tmp_path_factory.mktemp("frames")
    rng = np.random.default_rng(0)
    for k in range(150):
        Image.fromarray(rng.integers(0, 255, (24, 24), dtype=np.uint8)).save(
            root / f"f{k:03d}.png")
    return root


@pytest.mark.parametrize("run", range(4))
def test_labels_shown_as_saved_survive_sigkill(tmp_path, folder, run):
    path = tmp_path / "p.aldesk"
    with Project.create(path) as p:
        store_classes.add_classes(p, ["a", "b", "c"])
        sync_folder(p, folder)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    saved: dict[int, int] = {}
    deadline = time.monotonic() + 120
    target = random.Random(run).randint(5, 60)
    assert child.stdout is not None
    while time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        _, item, cls = line.split()
        saved[int(item)] = int(cls)
        if len(saved) >= target:
            child.send_signal(signal.SIGKILL)
            break
    child.wait(30)
    err = child.stderr.read() if child.stderr else ""
    assert saved, f"the child labeled nothing: {err[-2000:]}"
    with Project.open(path) as p:  # opens for writing: the crash left no stale lock behind
        assert p.integrity_check() == "ok"
        for item, cls in saved.items():
            state = store_ann.current(p, item)
            assert state is not None and state.class_ids == (cls,), item
