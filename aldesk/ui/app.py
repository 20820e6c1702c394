"""Starting the window: `aldesk`, `aldesk PROJECT`, `aldesk demo`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

log = logging.getLogger(__name__)


#: How long a thread may hold the GIL while another waits. Python's default (5 ms) lets the
#: worker's pure-Python stretches delay every slot the window runs; 1 ms keeps it responsive.
GIL_SWITCH_S = 0.001


def configure_process() -> None:
    sys.setswitchinterval(GIL_SWITCH_S)


def app_icon() -> QIcon:
    """The window icon from the PNG sizes in resources/icons (no SVG plugin needed), else the
    SVG; an empty icon when no resources are found."""
    from PySide6.QtGui import QIcon

    from aldesk.core import paths

    icon = QIcon()
    folder = paths.resources_dir()
    if folder is None:
        log.warning("no resources folder found; the window has no icon")
        return icon
    for png in sorted((folder / "icons").glob("aldesk-*.png")):
        icon.addFile(str(png))
    if icon.isNull():
        icon.addFile(str(folder / paths.RESOURCE_MARK))
    return icon


def add_bundled_fonts() -> list[str]:
    """Registers the fonts in resources/fonts with Qt, so text shows on a workstation without
    fonts; returns the font families added (empty when none could be loaded)."""
    from PySide6.QtGui import QFontDatabase

    from aldesk.core import paths

    folder = paths.resources_dir()
    families: list[str] = []
    for font in sorted((folder / "fonts").glob("*.ttf")) if folder else []:
        font_id = QFontDatabase.addApplicationFont(str(font))
        if font_id < 0:
            log.warning("Qt could not load the font %s", font)
            continue
        families += [f for f in QFontDatabase.applicationFontFamilies(font_id)
                     if f not in families]
    return families


def run(project: Path | None = None, *, demo: bool = False) -> int:
    """Show the window (on the start page, a project, or the demo) and run the event loop."""
    if sys.platform == "win32":  # torch must initialise before Qt there (pytorch #166628)
        import torch  # noqa: F401

    from PySide6.QtWidgets import QApplication

    from aldesk.core.logs import setup_logging
    from aldesk.ui import theme
    from aldesk.ui.main_window import MainWindow

    setup_logging()
    configure_process()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("aldesk")
    app.setOrganizationName("aldesk")
    app.setWindowIcon(app_icon())
    add_bundled_fonts()
    theme.apply(app)  # type: ignore[arg-type]
    window = MainWindow()
    window.show()
    if project is not None:
        window.open_project(project)
    elif demo:
        window.open_demo()
    log.info("window shown")
    return int(app.exec())
