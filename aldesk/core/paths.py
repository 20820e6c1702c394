"""Where aldesk keeps its own files: user data (demo data), logs, settings and caches.

The platform's conventional folders come from platformdirs. Setting `ALDESK_HOME` puts all of
them under one folder instead; tests use this so that they never touch a user's real files.
"""

from __future__ import annotations

import os
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
