"""One dark look for the whole app: readers of radiographs work in dim rooms."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

VIEWER_BACKGROUND = "#101010"
ACCENT = "#3d7ab8"
WARNING = "#e0a030"
MUTED = "#9a9a9a"

_COLOURS = {
    QPalette.ColorRole.Window: "#262626",
    QPalette.ColorRole.WindowText: "#e6e6e6",
    QPalette.ColorRole.Base: "#1c1c1c",
    QPalette.ColorRole.AlternateBase: "#232323",
    QPalette.ColorRole.ToolTipBase: "#333333",
    QPalette.ColorRole.ToolTipText: "#f0f0f0",
    QPalette.ColorRole.Text: "#e6e6e6",
    QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#e6e6e6",
    QPalette.ColorRole.BrightText: "#ffffff",
    QPalette.ColorRole.Highlight: ACCENT,
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.Link: "#6ea8e0",
    QPalette.ColorRole.PlaceholderText: "#7a7a7a",
    QPalette.ColorRole.Mid: "#3a3a3a",
    QPalette.ColorRole.Dark: "#1a1a1a",
}

STYLE = f"""
QToolTip {{ border: 1px solid #555; padding: 4px; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QPushButton {{ padding: 6px 14px; border-radius: 4px; background: #383838;
               border: 1px solid #4d4d4d; }}
QPushButton:hover {{ background: #424242; }}
QPushButton:pressed {{ background: #2f2f2f; }}
QPushButton:disabled {{ color: #777; background: #303030; border-color: #3a3a3a; }}
QPushButton:default {{ border: 1px solid {ACCENT}; background: #2f4a66; }}
QListWidget#recent::item {{ padding: 8px 6px; border-bottom: 1px solid #2c2c2c; }}
QListWidget#recent::item:hover {{ background: #2a2a2a; }}
QDockWidget::title {{ padding: 4px 8px; background: #2e2e2e; }}
QLabel[role="heading"] {{ font-size: 15pt; font-weight: 600; }}
QLabel[role="muted"] {{ color: {MUTED}; }}
QLabel[role="why"] {{ color: #cfcfcf; padding: 4px 2px; }}
QFrame[role="card"] {{ background: #2c2c2c; border: 1px solid #3a3a3a; border-radius: 6px; }}
"""


def apply(app: QApplication) -> None:
    app.setStyle("Fusion")
    palette = QPalette()
    for role, colour in _COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#777777"))
    app.setPalette(palette)
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    app.setStyleSheet(STYLE)
