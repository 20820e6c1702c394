"""Regression test for PySide6-Essentials 6.12.0 on CPython 3.11: each call of a void Qt method
dropped one reference to None, and the process aborted after a few thousand calls."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QObject


def test_void_qt_calls_keep_none_alive():
    obj = QObject()
    before = sys.getrefcount(None)
    for i in range(20_000):
        result = obj.setObjectName(f"item-{i % 7}")  # a void C++ method: returns None
        assert result is None
    del result
    after = sys.getrefcount(None)
    # Other code may take or drop a handful of references meanwhile; the defect drops 20,000.
    assert after >= before - 100, f"None lost {before - after} references"


def test_pyside_is_below_the_broken_release():
    import PySide6

    major, minor = (int(x) for x in PySide6.__version__.split(".")[:2])
    assert (major, minor) < (6, 12)


def test_qsettings_never_touch_the_real_config(qsettings_in_tmp):
    from PySide6.QtCore import QSettings

    settings = QSettings("aldesk", "aldesk")
    settings.setValue("probe", 1)
    settings.sync()
    assert Path(settings.fileName()).is_relative_to(qsettings_in_tmp)
