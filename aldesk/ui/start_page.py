"""The start page: new project, open, recent projects, the demo."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aldesk import __version__


class StartPage(QWidget):
    new_requested = Signal()
    open_requested = Signal()
    demo_requested = Signal()
    recent_chosen = Signal(object)  # Path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("aldesk")
        title.setProperty("role", "heading")
        font = title.font()
        font.setPointSizeF(26)
        font.setBold(True)
        title.setFont(font)
        subtitle = QLabel("Label a folder of images or DICOM files; the model picks what is "
                          "worth labeling next. Everything stays on this computer.")
        subtitle.setWordWrap(True)
        subtitle.setProperty("role", "muted")
        self.new_button = QPushButton("New project…")
        self.open_button = QPushButton("Open project…")
        self.demo_button = QPushButton("Open the demo (handwritten digits)")
        self.new_button.setDefault(True)
        for b, signal in ((self.new_button, self.new_requested),
                          (self.open_button, self.open_requested),
                          (self.demo_button, self.demo_requested)):
            b.setMinimumHeight(36)
            b.clicked.connect(signal)
        actions = QVBoxLayout()
        actions.setSpacing(10)
        actions.addWidget(self.new_button)
        actions.addWidget(self.open_button)
        actions.addWidget(self.demo_button)
        actions.addStretch(1)
        recent_title = QLabel("Recent projects")
        font = recent_title.font()
        font.setBold(True)
        recent_title.setFont(font)
        self.recent = QListWidget()
        self.recent.setObjectName("recent")
        self.recent.itemActivated.connect(self._chosen)
        self.recent.itemClicked.connect(self._chosen)
        self.recent_empty = QLabel("Projects you open appear here.")
        self.recent_empty.setProperty("role", "muted")
        right = QVBoxLayout()
        right.addWidget(recent_title)
        right.addWidget(self.recent, 1)
        right.addWidget(self.recent_empty)
        card = QFrame()
        card.setProperty("role", "card")
        row = QHBoxLayout(card)
        row.setContentsMargins(24, 24, 24, 24)
        row.setSpacing(32)
        row.addLayout(actions, 2)
        row.addLayout(right, 3)
        version = QLabel(f"aldesk {__version__} · offline: no network is used")
        version.setProperty("role", "muted")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 40, 48, 24)
        outer.setSpacing(12)
        outer.addWidget(title)
        outer.addWidget(subtitle)
        outer.addSpacing(12)
        outer.addWidget(card, 1)
        outer.addWidget(version, 0, Qt.AlignmentFlag.AlignRight)

    def set_recent(self, paths: list[Path]) -> None:
        self.recent.clear()
        for p in paths:
            item = QListWidgetItem(f"{p.stem}\n{p.parent}")
            item.setData(Qt.ItemDataRole.UserRole, str(p))
            item.setToolTip(str(p))
            self.recent.addItem(item)
        self.recent.setVisible(bool(paths))
        self.recent_empty.setVisible(not paths)

    def _chosen(self, item: QListWidgetItem) -> None:
        self.recent_chosen.emit(Path(item.data(Qt.ItemDataRole.UserRole)))
