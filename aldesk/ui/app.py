"""Starting the window: `aldesk`, `aldesk PROJECT`, `aldesk demo`."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)


#: How long a thread may hold the GIL while another waits. Python's default (5 ms) lets the
#: worker's pure-Python stretches delay every slot the window runs; 1 ms keeps it responsive.
GIL_SWITCH_S = 0.001


def configure_process() -> None:
    sys.setswitchinterval(GIL_SWITCH_S)


def run(project: Path | None = None, *, demo: bool = False) -> int:
    """Show the window (on the start page, a project, or the demo) and run the event loop."""
    if sys.platform == "win32":  # torch must initialise before Qt there (pytorch #166628)
        import torch  # noqa: F401

    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from aldesk.core.logs import setup_logging
    from aldesk.ui import theme
    from aldesk.ui.main_window import MainWindow

    setup_logging()
    configure_process()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("aldesk")
    app.setOrganizationName("aldesk")
    icon = Path(__file__).resolve().parents[2] / "resources" / "aldesk.svg"
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    theme.apply(app)  # type: ignore[arg-type]
    window = MainWindow()
    window.show()
    if project is not None:
        window.open_project(project)
    elif demo:
        window.open_demo()
    log.info("window shown")
    return int(app.exec())
