"""Where aldesk keeps its own files: user data (demo data), logs, settings and caches.

The platform's conventional folders come from platformdirs. Setting `ALDESK_HOME` puts all of
them under one folder instead; tests use this so that they never touch a user's real files.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP = "aldesk"


def _home_override(sub: str) -> Path | None:
    root = os.environ.get("ALDESK_HOME")
    return Path(root) / sub if root else None


def data_dir() -> Path:
    return _home_override("data") or Path(platformdirs.user_data_dir(APP, appauthor=False))


def log_dir() -> Path:
    return _home_override("logs") or Path(platformdirs.user_log_dir(APP, appauthor=False))


def config_dir() -> Path:
    return _home_override("config") or Path(platformdirs.user_config_dir(APP, appauthor=False))


def cache_dir() -> Path:
    return _home_override("cache") or Path(platformdirs.user_cache_dir(APP, appauthor=False))


def log_file() -> Path:
    return log_dir() / "aldesk.log"


#: The file that marks a folder as aldesk's resources (icon, fonts).
RESOURCE_MARK = "aldesk.svg"


def resource_dirs() -> list[Path]:
    """Where the app's resources may be, most specific first.

    A PyInstaller bundle unpacks them under `sys._MEIPASS`; a source checkout (and an editable
    install) has them in the repository's `resources/`; a regular `pip install` puts them in
    `PREFIX/share/aldesk`.
    """
    places = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        places.append(Path(bundle) / "resources")
    places.append(Path(__file__).resolve().parents[2] / "resources")
    places.append(Path(sys.prefix) / "share" / APP)
    return places


def resources_dir() -> Path | None:
    """The first folder of `resource_dirs()` that holds aldesk's resources, or None."""
    return next((p for p in resource_dirs() if (p / RESOURCE_MARK).is_file()), None)


def resource(name: str) -> Path | None:
    """A resource file by its path under resources/ (`"fonts/DejaVuSans.ttf"`), or None."""
    folder = resources_dir()
    path = folder / name if folder else None
    return path if path is not None and path.is_file() else None
