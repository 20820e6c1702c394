"""The window icon and the bundled font, as the app loads them at start."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QFontDatabase

from aldesk.ui.app import add_bundled_fonts, app_icon


def test_the_window_icon_has_every_png_size(qapp):
    icon = app_icon()
    assert not icon.isNull()
    sizes = {(s.width(), s.height()) for s in icon.availableSizes()}
    assert {(16, 16), (48, 48), (256, 256), (512, 512)} <= sizes
    assert not icon.pixmap(QSize(32, 32)).isNull()


def test_the_bundled_font_registers(qapp):
    assert add_bundled_fonts() == ["DejaVu Sans"]
    assert "DejaVu Sans" in QFontDatabase.families()
