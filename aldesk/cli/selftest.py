"""`aldesk --self-test`: checks an installation and prints a readable report (exit 0 or 1)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from aldesk import __version__
from aldesk.core import paths

Check = Callable[[], str]


def _python() -> str:
    return f"Python {sys.version.split()[0]} on {sys.platform}"


def _libraries() -> str:
    import numpy
    import PIL
    import platformdirs
    import pydicom
    import sklearn

    return (f"numpy {numpy.__version__}, pillow {PIL.__version__}, pydicom {pydicom.__version__},"
            f" scikit-learn {sklearn.__version__}, platformdirs {platformdirs.__version__}")


def _torch() -> str:
    import torch

    x = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    if float((x @ x.T).sum()) != 1134.0:
        raise RuntimeError("a small matrix product gave a wrong result")
    devices = ["CPU"]
    if torch.cuda.is_available():
        devices.append(f"CUDA ({torch.cuda.get_device_name(0)})")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        devices.append("MPS")
    return f"torch {torch.__version__}; devices: {', '.join(devices)}"


def _probe_command() -> list[str]:
    if getattr(sys, "frozen", False):  # a bundled app: the executable is aldesk itself
        return [sys.executable, "_qt-probe"]
    return [sys.executable, "-m", "aldesk", "_qt-probe"]


def _qt() -> str:
    try:
        done = subprocess.run(_probe_command(), capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError("Qt did not start within 120 s") from err
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        hint = "" if os.environ.get("QT_QPA_PLATFORM") else (
            "; without a screen, set QT_QPA_PLATFORM=offscreen")
        raise RuntimeError(f"Qt could not start: {tail}{hint}")
    r = json.loads(done.stdout.strip().splitlines()[-1])
    major, minor = (int(x) for x in r["pyside"].split(".")[:2])
    if (major, minor) >= (6, 12):
        raise RuntimeError(f"PySide6 {r['pyside']} is known to crash on CPython 3.11; use 6.11")
    if not r["fonts"] or not r["glyphs_distinct"]:
        raise RuntimeError("Qt starts but finds no usable font: text would show as boxes")
    return f"Qt {r['qt']} (PySide6 {r['pyside']}), platform {r['platform']}, {r['fonts']} fonts"


def _dicom() -> str:
    import numpy as np
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID, ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPClassUID, generate_uid()
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 4, 5, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    pixels = np.arange(20, dtype=np.uint16).reshape(4, 5) * 200
    ds.PixelData = pixels.tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    back = pydicom.dcmread(io.BytesIO(buf.getvalue())).pixel_array
    if not np.array_equal(back, pixels):
        raise RuntimeError("an uncompressed DICOM sample decoded wrongly")
    return f"pydicom {pydicom.__version__}: uncompressed little-endian sample decodes"


def _project_file() -> str:
    from aldesk.core.types import FoundFile
    from aldesk.store import Project
    from aldesk.store import annotations as store_ann
    from aldesk.store import classes as store_classes
    from aldesk.store import items as store_items

    with tempfile.TemporaryDirectory(prefix="aldesk-selftest-") as tmp:
        (Path(tmp) / "data").mkdir()
        with Project.create(Path(tmp) / "check") as project:
            source = store_items.add_source(project, Path(tmp) / "data")
            store_items.insert_items(project, source.id, [FoundFile("a.png", 1, 0.0, "k", "image")])
            cls = store_classes.add_classes(project, ["normal", "abnormal"])[1]
            store_ann.record(project, 1, "label", [cls.id], annotator="self-test")
        with Project.open(Path(tmp) / "check.aldesk", readonly=True) as project:
            state = store_ann.current(project, 1)
            if state is None or state.class_ids != (cls.id,):
                raise RuntimeError("a label written to a project file did not read back")
            if project.integrity_check() != "ok":
                raise RuntimeError("a new project file fails SQLite's integrity check")
    import sqlite3

    return f"created, written and read back (SQLite {sqlite3.sqlite_version})"


def _logs() -> str:
    folder = paths.log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=folder):
        pass
    return f"log folder {folder} is writable"


CHECKS: list[tuple[str, Check]] = [
    ("python", _python),
    ("libraries", _libraries),
    ("torch", _torch),
    ("qt", _qt),
    ("dicom", _dicom),
    ("project file", _project_file),
    ("logs", _logs),
]


def run_self_test() -> int:
    print(f"aldesk {__version__} self-test")
    failed = 0
    for name, check in CHECKS:
        try:
            detail, ok = check(), True
        except Exception as err:  # every failure is reported, none stops the others
            detail, ok = f"{type(err).__name__}: {err}", False
        failed += not ok
        print(f"  {'ok  ' if ok else 'FAIL'}  {name:<13} {detail}")
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 0 if not failed else 1
