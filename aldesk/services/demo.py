"""The demo: scikit-learn's handwritten digits as PNG files, and a project over them.

The digits (1,797 real 8x8 scans, UCI) ship inside scikit-learn, so the demo needs no network.
They are written once, as 32x32 greyscale PNGs in a folder per class, to the user data folder.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from aldesk.core import paths
from aldesk.core.jobs import Job, step
from aldesk.services.ingest import sync_folder
from aldesk.store import Project
from aldesk.store import classes as store_classes

DIGIT_CLASSES = [str(d) for d in range(10)]
_DONE = ".complete"


def demo_root() -> Path:
    return paths.data_dir() / "demo"


def write_digits(folder: Path, job: Job | None = None) -> int:
    """Write the digits to `folder/<class>/digit-NNNN.png` unless already there; returns count.

    Written to a temporary folder first and renamed, so an interrupted run never leaves half
    a data set that looks complete.
    """
    done = folder / _DONE
    if done.exists():
        return int(done.read_text() or 0)
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for d in DIGIT_CLASSES:
        (tmp / d).mkdir(parents=True)
    n = len(digits.images)
    for i, (image, target) in enumerate(zip(digits.images, digits.target, strict=True)):
        step(job, i, n, "writing demo digits")
        grey = Image.fromarray((image * (255 / 16)).round().astype(np.uint8), mode="L")
        grey.resize((32, 32), Image.Resampling.BICUBIC).save(
            tmp / str(target) / f"digit-{i:04d}.png", optimize=True)
    (tmp / _DONE).write_text(str(n))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)
    return n


def demo_project(job: Job | None = None) -> Path:
    """The demo project's path, creating the data and the project on first use."""
    root = demo_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = root / "digits"
    write_digits(folder, job)
    path = root / "digits-demo.aldesk"
    if not path.exists():
        # Built under another name and renamed when closed, so that an interrupted first run
        # is simply done again next time.
        partial = root / "digits-demo-partial.aldesk"
        for leftover in root.glob("digits-demo-partial.aldesk*"):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        with Project.create(partial) as project:
            store_classes.add_classes(project, DIGIT_CLASSES)
            sync_folder(project, folder, job)
        partial.rename(path)
    return path
