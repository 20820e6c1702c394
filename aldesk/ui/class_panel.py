"""Class buttons with their hotkeys and the committee's probability for the item on screen."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from aldesk.core.types import ClassInfo

#: After the name of the class the committee suggests, when the button has room for it.
SUGGESTED = "  ← suggested"


class ClassButton(QPushButton):
    """`[key] name` with a colour swatch and a probability bar; right-click for edits."""

    rename_requested = Signal(int)
    merge_requested = Signal(int, int)  # source, target
    archive_requested = Signal(int)

    def __init__(self, cls: ClassInfo, others: list[ClassInfo]) -> None:
        super().__init__()
        self.cls = cls
        self._others = others
        self.probability: float | None = None
        self.votes: int | None = None
        self.members = 0
        self.current = False
        self.suggested = False
        self.setMinimumHeight(40)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        key = f"key {cls.hotkey.upper()}" if cls.hotkey else "no key"
        self.setToolTip(f"Label as {cls.name} ({key}); right-click to rename, merge or archive")

    def sizeHint(self) -> QSize:
        return QSize(220, 40)

    def set_prediction(self, probability: float | None, votes: int | None, members: int,
                       suggested: bool) -> None:
        self.probability, self.votes, self.members = probability, votes, members
        self.suggested = suggested
        self.update()

    def set_current(self, current: bool) -> None:
        self.current = current
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.rect().adjusted(1, 1, -1, -1)
        base = QColor("#3a3a3a" if not self.isDown() else "#4a4a4a")
        if self.underMouse():
            base = base.lighter(115)
        p.setPen(QColor("#8fd18f") if self.current else QColor("#4a4a4a"))
        p.setBrush(base)
        p.drawRoundedRect(r, 4, 4)
        if self.probability is not None:  # the committee's probability, under the text
            bar = QRect(r.left() + 1, r.bottom() - 5, int((r.width() - 2) * self.probability),
                        4)
            p.fillRect(bar, QColor(self.cls.colour))
        p.fillRect(QRect(r.left() + 8, r.top() + 10, 10, r.height() - 22), QColor(self.cls.colour))
        key = (self.cls.hotkey or "·").upper()
        p.setPen(QColor("#bdbdbd"))
        font = p.font()
        font.setBold(True)
        p.setFont(font)
        p.drawText(QRect(r.left() + 24, r.top(), 26, r.height() - 4),
                   Qt.AlignmentFlag.AlignVCenter, key)
        font.setBold(self.current or self.suggested)
        p.setFont(font)
        p.setPen(QColor("#f2f2f2"))
        right = ""
        if self.probability is not None:
            right = f"{self.probability:.2f}"
            if self.votes is not None and self.members:
                right = f"{self.votes}/{self.members}  {right}"
        text_rect = QRect(r.left() + 50, r.top(), r.width() - 60, r.height() - 4)
        metrics = p.fontMetrics()  # the painter's font: bold text is wider
        room = text_rect.width() - (metrics.horizontalAdvance(right) + 12 if right else 0)
        name = self.cls.name
        if self.suggested and metrics.horizontalAdvance(name + SUGGESTED) <= room:
            name += SUGGESTED  # when there is no room, bold and the Accept button say it
        p.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter,
                   metrics.elidedText(name, Qt.TextElideMode.ElideRight, max(room, 0)))
        p.setPen(QColor("#bdbdbd"))
        p.drawText(text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, right)
        p.end()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.rename_requested.emit(self.cls.id))
        merge = menu.addMenu("Merge into")
        for other in self._others:
            merge.addAction(other.name, lambda o=other: self.merge_requested.emit(self.cls.id,
                                                                                  o.id))
        merge.setEnabled(bool(self._others))
        menu.addAction("Archive (hide from labeling)",
                       lambda: self.archive_requested.emit(self.cls.id))
        menu.exec(event.globalPos())


class ClassPanel(QWidget):
    """The classes of the project, plus skip, unsure and accept-suggestion buttons."""

    class_chosen = Signal(int)
    skip_requested = Signal()
    unsure_requested = Signal()
    accept_requested = Signal()
    add_requested = Signal()
    rename_requested = Signal(int)
    merge_requested = Signal(int, int)
    archive_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons: dict[int, ClassButton] = {}
        self._list = QVBoxLayout()
        self._list.setSpacing(4)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setProperty("role", "why")
        self.accept = QPushButton("Accept suggestion  (Space)")
        self.accept.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.accept.clicked.connect(self.accept_requested)
        skip = QPushButton("Skip  (S)")
        unsure = QPushButton("Unsure  (U)")
        add = QPushButton("Add class…")
        for b in (skip, unsure, add):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        skip.clicked.connect(self.skip_requested)
        unsure.clicked.connect(self.unsure_requested)
        add.clicked.connect(self.add_requested)
        row = QHBoxLayout()
        row.addWidget(skip)
        row.addWidget(unsure)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(8)
        layout.addLayout(self._list)
        layout.addWidget(self.accept)
        layout.addLayout(row)
        layout.addWidget(add)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def set_classes(self, classes: list[ClassInfo]) -> None:
        for b in self.buttons.values():
            self._list.removeWidget(b)
            b.deleteLater()
        self.buttons = {}
        for c in classes:
            others = [o for o in classes if o.id != c.id]
            b = ClassButton(c, others)
            b.clicked.connect(lambda _=False, cid=c.id: self.class_chosen.emit(cid))
            b.rename_requested.connect(self.rename_requested)
            b.merge_requested.connect(self.merge_requested)
            b.archive_requested.connect(self.archive_requested)
            self._list.addWidget(b)
            self.buttons[c.id] = b

    def show_item(self, current: tuple[int, ...], prediction: dict[int, tuple[float, int]],
                  members: int, suggested: int | None, status: str) -> None:
        """Mark the item's current classes and show the committee's view of it."""
        for cid, b in self.buttons.items():
            prob, votes = prediction.get(cid, (None, None))
            b.set_prediction(prob, votes, members, cid == suggested)
            b.set_current(cid in current)
        self.accept.setVisible(suggested is not None)
        if suggested is not None and suggested in self.buttons:
            self.accept.setText(f"Accept {self.buttons[suggested].cls.name}  (Space)")
        self.status.setText(status)
