"""`aldesk --self-test`: checks an installation and prints a readable report (exit 0 or 1)."""

from __future__ import annotations

import functools
import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aldesk import __version__
from aldesk.cli import dicom_checks
from aldesk.core import paths

Check = Callable[[], str]


def _where() -> str:
    """How this aldesk runs: a bundle, or a Python environment."""
    if getattr(sys, "frozen", False):
        return f"bundled app at {Path(sys.executable).parent}"
    return f"Python environment at {sys.prefix}"


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


@functools.cache
def _probe() -> dict[str, Any]:
    """What the Qt probe child reports (run once; the qt and font checks both read it). With no
    screen it runs on Qt's offscreen platform: the command line works there, and Qt, its
    plugins and the fonts can still be checked."""
    from aldesk.core.display import no_display

    headless = no_display()
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen") if headless else None
    try:
        done = subprocess.run(_probe_command(), capture_output=True, text=True, timeout=120,
                              env=env)
    except subprocess.TimeoutExpired as err:
        raise RuntimeError("Qt did not start within 120 s") from err
    if done.returncode != 0 or not done.stdout.strip():
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        hint = "" if headless or os.environ.get("QT_QPA_PLATFORM") else (
            "; if this session has no screen, set QT_QPA_PLATFORM=offscreen")
        raise RuntimeError(f"Qt could not start: {tail}{hint}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["headless"] = headless
    return result


def _qt() -> str:
    r = _probe()
    major, minor = (int(x) for x in r["pyside"].split(".")[:2])
    if (major, minor) >= (6, 12):
        raise RuntimeError(f"PySide6 {r['pyside']} is known to crash on CPython 3.11; use 6.11")
    line = f"Qt {r['qt']} (PySide6 {r['pyside']}), platform {r['platform']}"
    if not r["headless"]:
        return line
    desktop = r.get("desktop_plugin")  # None where the probe does not check it
    plugin = "" if desktop in (None, "") else (
        f"; on a desktop the window would not start either: {desktop}")
    return (f"{line}; no screen in this session: the window needs a desktop, the command "
            f"line does not{plugin}")


def _font() -> str:
    r = _probe()
    bundled = r.get("bundled_fonts") or []
    if not bundled:
        where = paths.resources_dir()
        raise RuntimeError("the bundled font did not load "
                           f"({'no resources folder found' if where is None else where})")
    if not r["glyphs_distinct"]:
        raise RuntimeError("Qt starts but draws no usable text: every glyph is the same box")
    return (f"bundled {', '.join(bundled)} registered, text draws; "
            f"{r['fonts']} font families on the system")


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


def _images() -> str:
    """PNG, JPEG, 16-bit TIFF, BMP and WebP written by Pillow, read through aldesk's viewer
    pipeline."""
    import numpy as np
    import PIL
    from PIL import Image

    from aldesk.io.render import render

    grey16 = (np.arange(32 * 48, dtype=np.uint32).reshape(32, 48) * 41 % 65536).astype(np.uint16)
    grey = Image.fromarray((grey16 >> 8).astype(np.uint8))
    samples = {"PNG": grey, "JPEG": grey, "TIFF": Image.fromarray(grey16),
               "BMP": grey.convert("RGB"), "WEBP": grey.convert("RGB")}
    with tempfile.TemporaryDirectory(prefix="aldesk-selftest-") as tmp:
        for fmt, image in samples.items():
            path = Path(tmp) / f"sample.{fmt.lower()}"
            image.save(path, format=fmt)
            shown = render(path)
            if shown.pixels.shape[:2] != (32, 48):
                raise RuntimeError(f"a {fmt} sample showed as {shown.pixels.shape}")
    return f"{', '.join(samples)} read through the viewer's pipeline (Pillow {PIL.__version__})"


def _weights() -> str:
    import torch

    from aldesk.ml.efficientnet import (
        frozen_features,
        fuse_batchnorm,
        load_efficientnet_lite0,
        weights_path,
    )

    model = load_efficientnet_lite0()
    x = torch.linspace(-1, 1, 3 * 64 * 64).reshape(1, 3, 64, 64)
    with torch.no_grad():
        logits = model(x)
    if logits.shape != (1, 1000) or not bool(torch.isfinite(logits).all()):
        raise RuntimeError(f"a forward pass gave {tuple(logits.shape)} values, not 1000 finite")
    tensors = len(model.state_dict())
    size = weights_path().stat().st_size / 1e6
    # Not a failure when tracing is unavailable: the module then runs eagerly, only slower.
    graph = frozen_features(fuse_batchnorm(model), 64) is not None
    how = "as a frozen graph" if graph else "eagerly (tracing failed: slower; see the log)"
    return (f"EfficientNet-Lite0 ({tensors} tensors, {size:.0f} MB) loads; forward is finite; "
            f"features run {how}")


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
    ("weights", _weights),
    ("qt", _qt),
    ("font", _font),
    ("images", _images),
    ("dicom", _dicom),
    *dicom_checks.CHECKS,
    ("project file", _project_file),
    ("logs", _logs),
]


def run_self_test(checks: list[tuple[str, Check]] | None = None) -> int:
    """Runs every check, prints one line each, and returns 0 when all passed, else 1."""
    checks = CHECKS if checks is None else checks
    width = max(len(name) for name, _ in checks) + 1
    print(f"aldesk {__version__} self-test ({_where()})")
    failed = 0
    for name, check in checks:
        try:
            detail, ok = check(), True
        except Exception as err:  # every failure is reported, none stops the others
            detail, ok = f"{type(err).__name__}: {err}", False
        failed += not ok
        print(f"  {'ok  ' if ok else 'FAIL'}  {name:<{width}} {detail}", flush=True)
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 0 if not failed else 1
