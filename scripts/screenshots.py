"""Screenshots of the app for the README, taken from a real window.

    xvfb-run -s "-screen 0 1600x1000x24" .venv/bin/python scripts/screenshots.py [--out docs/img]

(without xvfb-run it falls back to Qt's offscreen platform). Everything happens in a temporary
ALDESK_HOME: the digits demo, labeled in part by the folder names (the oracle) and trained, and
a small radiology project of pydicom's real CR radiographs (from the pydicom-data package, a dev
dependency) with a CT slice.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def _spin(seconds: float) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def _wait(window: object, cond: object = None, timeout: float = 600) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _spin(0.1)
        busy = window.runner.is_busy()  # type: ignore[attr-defined]
        if not busy and (cond is None or cond()):  # type: ignore[operator]
            break
    _spin(0.5)


def _radiology_folder(root: Path) -> Path:
    import shutil

    from pydicom.data import get_testdata_file

    folder = root / "radiographs"
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("RG1_J2KR.dcm", "RG3_J2KR.dcm", "693_J2KI.dcm", "CT_small.dcm",
                 "MR_small.dcm", "US1_J2KR.dcm"):
        found = get_testdata_file(name)
        if found:
            shutil.copy(found, folder / name)
    return folder


def _label_by_folder(ws: object, n: int) -> None:
    """Label the first n items of the queue with their folder's class, as the expert would."""
    names = {c.name: c.id for c in ws.state.classes}  # type: ignore[attr-defined]
    for _ in range(n):
        item = ws.labeling.current  # type: ignore[attr-defined]
        folder = ws.state.index.rows[item].rel_path.split("/")[0]  # type: ignore[attr-defined]
        ws.labeling.label(names[folder])  # type: ignore[attr-defined]
        _spin(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    home = Path(tempfile.mkdtemp(prefix="aldesk-shots-"))
    os.environ["ALDESK_HOME"] = str(home)
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(home / "qs"))
    from aldesk.services.demo import demo_project
    from aldesk.services.projects import NewProject, create_project, scan_folders
    from aldesk.ui import theme
    from aldesk.ui.main_window import MainWindow
    from aldesk.ui.settings import Settings

    app = QApplication(sys.argv[:1])
    theme.apply(app)
    settings = Settings()
    settings.annotator = "dr.lee"
    settings.retrain_every = 0  # the script decides when to train

    digits = demo_project()
    rad_folder = _radiology_folder(home)
    spec = NewProject("chest-and-extremity", home, [rad_folder],
                      ["normal", "effusion", "fracture", "other"], "efficientnet_lite0")
    with create_project(spec) as project:
        path = project.path
    scan_folders(path, [rad_folder])

    w = MainWindow(settings)
    w.resize(1480, 920)
    w.show()
    settings.add_recent(path)
    settings.add_recent(digits)
    w.show_start()
    _spin(0.5)
    w.grab().save(str(args.out / "app-start.png"))

    w.open_project(path)
    _wait(w, lambda: w.workspace.labeling.shown_item is not None)
    ws = w.workspace
    rg1 = next(i for i, r in ws.state.index.rows.items() if r.rel_path == "RG1_J2KR.dcm")
    ws.labeling.go_to(rg1)
    _wait(w, lambda: ws.labeling.shown_item == rg1)
    from aldesk.io.display import Window

    ws.viewer.viewer.apply_window_now(Window(17000, 22000))  # as a right-drag leaves it
    _spin(0.5)
    w.grab().save(str(args.out / "app-radiograph.png"))
    w.close_project()

    w.open_project(digits)
    _wait(w, lambda: w.workspace.labeling.shown_item is not None)
    ws = w.workspace
    _label_by_folder(ws, 60)
    ws.training.retrain()
    _wait(w)
    _label_by_folder(ws, 60)
    ws.training.retrain()
    _wait(w)
    _label_by_folder(ws, 60)
    ws.training.retrain()
    _wait(w, lambda: ws.labeling.shown_item is not None)
    w.grab().save(str(args.out / "app-digits.png"))
    w.toggle_dashboard()
    _spin(0.8)
    w.grab().save(str(args.out / "app-dashboard.png"))
    w.close()
    print(f"screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
