"""The user's settings (QSettings): annotator, retraining, suggestions, recent projects."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from PySide6.QtCore import QSettings

from aldesk.core import paths

RECENT_MAX = 8
RETRAIN_EVERY_DEFAULT = 20


def _settings() -> QSettings:
    """The user's settings; under ALDESK_HOME when it is set, like every other aldesk folder
    (a script or a second setup that points it elsewhere never touches the real ones)."""
    if os.environ.get("ALDESK_HOME"):
        return QSettings(str(paths.config_dir() / "aldesk.conf"), QSettings.Format.IniFormat)
    return QSettings("aldesk", "aldesk")


def default_annotator() -> str:
    """The operating-system account name: right for a personal login, changeable later."""
    try:
        return getpass.getuser() or "annotator"
    except (KeyError, OSError):  # no passwd entry (containers) or no login name
        return "annotator"


class Settings:
    """Typed access to the stored settings; every read has a sensible default."""

    def __init__(self) -> None:
        self._s = _settings()

    @property
    def annotator(self) -> str:
        value = str(self._s.value("annotator", "") or "").strip()
        return value or default_annotator()

    @annotator.setter
    def annotator(self, name: str) -> None:
        self._s.setValue("annotator", name.strip())

    @property
    def retrain_every(self) -> int:
        try:
            return max(0, int(self._s.value("retrain_every", RETRAIN_EVERY_DEFAULT)))
        except (TypeError, ValueError):
            return RETRAIN_EVERY_DEFAULT

    @retrain_every.setter
    def retrain_every(self, n: int) -> None:
        self._s.setValue("retrain_every", int(n))

    def _flag(self, key: str) -> bool:
        """An on/off setting, on unless turned off (QSettings stores it as text)."""
        return str(self._s.value(key, "true")).lower() == "true"

    def _set_flag(self, key: str, on: bool) -> None:
        self._s.setValue(key, "true" if on else "false")

    @property
    def suggestions(self) -> bool:
        return self._flag("suggestions")

    @suggestions.setter
    def suggestions(self, on: bool) -> None:
        self._set_flag("suggestions", on)

    @property
    def audits(self) -> bool:
        """One queue position in ten for an item drawn at random, labeled blind."""
        return self._flag("audits")

    @audits.setter
    def audits(self, on: bool) -> None:
        self._set_flag("audits", on)

    def recent(self) -> list[Path]:
        """Recent projects, newest first, those that still exist."""
        raw = self._s.value("recent", []) or []
        names = [raw] if isinstance(raw, str) else list(raw)
        return [Path(n) for n in names if Path(n).exists()]

    def add_recent(self, path: Path) -> None:
        path = path.resolve()
        names = [str(path)] + [str(p) for p in self.recent() if p.resolve() != path]
        self._s.setValue("recent", names[:RECENT_MAX])
