"""Renders resources/aldesk.svg to the icon files the installers need, and commits nothing.

    QT_QPA_PLATFORM=offscreen .venv/bin/python packaging/render_icons.py

writes resources/icons/aldesk-N.png (N = 16 ... 512: the Linux hicolor theme sizes, the window
icon), resources/aldesk.ico (Windows: 16-256 px in one file) and resources/aldesk.icns (macOS:
16-1024 px). Qt's own SVG renderer draws the PNGs, so they look as the app shows the SVG; Pillow
packs the .ico and .icns. Run it again after editing the SVG, and commit the results.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "aldesk.svg"
ICONS = ROOT / "resources" / "icons"
PNG_SIZES = (16, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZE = 1024


def render(size: int) -> bytes:
    """The SVG drawn at size x size pixels, as PNG bytes."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"{SVG} is not a valid SVG file")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    return bytes(data.data())


def main() -> int:
    import io

    from PIL import Image
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - keeps Qt up
    ICONS.mkdir(parents=True, exist_ok=True)
    for size in PNG_SIZES:
        (ICONS / f"aldesk-{size}.png").write_bytes(render(size))
    big = Image.open(io.BytesIO(render(ICNS_SIZE))).convert("RGBA")
    big.save(ROOT / "resources" / "aldesk.ico", sizes=[(s, s) for s in ICO_SIZES])
    big.save(ROOT / "resources" / "aldesk.icns")
    print(f"wrote {len(PNG_SIZES)} PNG sizes to {ICONS}, aldesk.ico and aldesk.icns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
