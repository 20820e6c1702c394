"""Test set-up: Qt offscreen, and every aldesk user folder in a temporary place.

No test may touch the user's real settings, logs or data, nor the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def aldesk_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                ) -> Path:
    """Points ALDESK_HOME (data, logs, settings, cache) and XDG folders at a temp folder."""
    home = tmp_path_factory.mktemp("aldesk-home")
    monkeypatch.setenv("ALDESK_HOME", str(home))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.setenv(var, str(home / var.lower()))
    from aldesk.core import logs

    logs._configured = None  # the next setup_logging() points at this test's folder
    return home


@pytest.fixture(autouse=True, scope="session")
def qsettings_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """QSettings written under a temp folder, never the user's real config."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for fmt in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(folder))
    return folder


@pytest.fixture(autouse=True)
def fresh_settings(qsettings_in_tmp: Path) -> None:
    """Each test starts with no saved settings (recent projects, annotator, ...)."""
    from PySide6.QtCore import QSettings

    QSettings("aldesk", "aldesk").clear()


RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def run_cli(aldesk_home: Path) -> RunCli:
    """Runs `python -m aldesk ARGS...` in a child process, as a user's shell would."""

    def run(*args: str, cwd: Path | None = None, timeout: float = 120
            ) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, ALDESK_HOME=str(aldesk_home), PYTHONIOENCODING="utf-8")
        return subprocess.run(
            [sys.executable, "-m", "aldesk", *map(str, args)],
            capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout,
        )

    return run


def make_png(path: Path, value: int = 0, size: tuple[int, int] = (8, 8)) -> Path:
    """Write a small real greyscale PNG whose pixels (and so bytes) depend on `value`."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    Image.fromarray(rng.integers(0, 255, size, dtype=np.uint8), mode="L").save(path)
    return path


def make_digit_folder(root: Path, n: int) -> Path:
    """The first n of scikit-learn's digits as 32x32 PNGs in class folders (0-9): real data,
    with the folder name as the oracle's label."""
    import numpy as np
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    for k in range(n):
        img = (digits.images[k] * 255 / 16).astype(np.uint8)
        out = root / str(digits.target[k]) / f"d{k:04d}.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).resize((32, 32)).save(out)
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder of 12 small PNGs in two subfolders, plus a hidden file and a text file."""
    root = tmp_path / "images"
    for i in range(12):
        make_png(root / ("left" if i < 6 else "right") / f"frame-{i:03d}.png", value=i)
    (root / ".hidden.png").write_bytes(b"not scanned")
    (root / "notes.txt").write_text("not an image")
    return root


def selftest_status(report: str) -> dict[str, str]:
    """{check name: "ok" or "FAIL"} from a self-test report (lines "  ok    NAME  detail")."""
    from aldesk.cli.selftest import CHECKS

    names = sorted((name for name, _ in CHECKS), key=len, reverse=True)
    found = {}
    for line in report.splitlines():
        name = next((n for n in names if line[8:].startswith(n + " ")), None)
        if name:
            found[name] = line[2:6].strip()
    return found
