"""A child-process check that Qt can start and draw text with the bundled font, for
`aldesk --self-test`.

Qt aborts the process when its platform plugin cannot load, so the self-test runs this in a
child and reads one JSON line from it.
"""

from __future__ import annotations

import json


def _glyph_image(text: str) -> bytes:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFont, QImage, QPainter

    image = QImage(64, 48, QImage.Format.Format_Grayscale8)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    painter.setFont(QFont("Sans", 24))
    painter.setPen(Qt.GlobalColor.black)
    painter.drawText(image.rect(), Qt.AlignmentFlag.AlignCenter, text)
    painter.end()
    return bytes(image.constBits())


def _desktop_plugin_problem(platform: str) -> str | None:
    """On Linux, run offscreen: why the X11 platform plugin a desktop would use does not
    load ('' when it loads; None where this is not checked)."""
    import sys

    if platform != "offscreen" or not sys.platform.startswith("linux"):
        return None
    from PySide6.QtCore import QLibraryInfo, QPluginLoader

    plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    loader = QPluginLoader(f"{plugins}/platforms/libqxcb.so")
    return "" if loader.load() else loader.errorString()


def main() -> int:
    import PySide6
    from PySide6.QtCore import qVersion
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtWidgets import QApplication

    from aldesk.ui.app import add_bundled_fonts

    app = QApplication.instance() or QApplication(["aldesk-probe"])
    system_fonts = len(QFontDatabase.families())
    bundled = add_bundled_fonts()  # as the app does at start
    # Without a usable font every glyph is drawn as the same box: two letters then look alike.
    a, b = _glyph_image("a"), _glyph_image("g")
    result = {
        "qt": qVersion(),
        "pyside": PySide6.__version__,
        "platform": app.platformName(),  # type: ignore[attr-defined]
        "fonts": system_fonts,
        "bundled_fonts": bundled,
        "glyphs_distinct": a != b and min(a) < 128,
        "desktop_plugin": _desktop_plugin_problem(app.platformName()),  # type: ignore[attr-defined]
    }
    print(json.dumps(result))
    return 0
