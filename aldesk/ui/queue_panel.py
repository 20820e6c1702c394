"""The queue: a virtualised list of items with thumbnail, score, prediction and votes."""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from aldesk.core.idindex import IdIndex
from aldesk.services.browse import FILTERS
from aldesk.services.explain import queue_line
from aldesk.ui.loader import ImageLoader
from aldesk.ui.state import ProjectState

ROW_HEIGHT = 64
THUMB = 56
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1
_FILTER_TITLES = {
    "unlabeled": "Queue: unlabeled, best first",
    "labeled": "Labeled",
    "skipped": "Skipped",
    "unsure": "Unsure",
    "disputed": "Disputed by the model",
    "errors": "Cannot be shown",
}
_Index = QModelIndex | QPersistentModelIndex


class QueueModel(QAbstractListModel):
    """Rows are item ids; everything shown is read from the state when painted."""

    def __init__(self, state: ProjectState, loader: ImageLoader) -> None:
        super().__init__()
        self.state = state
        self.loader = loader
        self.ids: list[int] = []
        self._row_of = IdIndex([])
        self._thumbs: OrderedDict[int, QPixmap | None] = OrderedDict()
        loader.thumbnail_ready.connect(self._thumbnail_ready)

    def set_ids(self, ids: list[int]) -> None:
        self.beginResetModel()
        self.ids = list(ids)
        self._row_of = IdIndex(self.ids)
        self.endResetModel()

    def row_of(self, item_id: int) -> int | None:
        return self._row_of.get(item_id)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or index.row() >= len(self.ids):
            return None
        item_id = self.ids[index.row()]
        if role == ITEM_ROLE:
            return item_id
        if role == Qt.ItemDataRole.DisplayRole:
            return self.state.index.name(item_id)
        if role == Qt.ItemDataRole.ToolTipRole:
            row = self.state.index.rows.get(item_id)
            return None if row is None else (row.reason or self.state.index.name(item_id))
        return None

    def changed(self, item_id: int) -> None:
        row = self._row_of.get(item_id)
        if row is not None:
            index = self.index(row)
            self.dataChanged.emit(index, index)

    # -- thumbnails, made on demand by the loader --------------------------------------------

    def thumbnail(self, item_id: int) -> QPixmap | None:
        if item_id in self._thumbs:
            self._thumbs.move_to_end(item_id)
            return self._thumbs[item_id]
        row = self.state.index.rows.get(item_id)
        if row is not None and row.status == "ok":
            self.loader.thumbnail(item_id, self.state.index.path(item_id), row.kind,
                                  row.content_key, self.state.thumbnails)
        return None

    def _thumbnail_ready(self, item_id: int, image: QImage | None) -> None:
        pixmap = None
        if image is not None and not image.isNull():
            pixmap = QPixmap.fromImage(image.scaled(
                THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        self._thumbs[item_id] = pixmap
        while len(self._thumbs) > 3000:
            self._thumbs.popitem(last=False)
        self.changed(item_id)


class QueueDelegate(QStyledItemDelegate):
    def __init__(self, model: QueueModel) -> None:
        super().__init__()
        self.model = model

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        return QSize(200, ROW_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        state = self.model.state
        item_id = int(index.data(ITEM_ROLE))
        rect: QRect = option.rect  # type: ignore[attr-defined]
        selected = bool(option.state & QStyle.StateFlag.State_Selected)  # type: ignore[attr-defined]
        painter.save()
        painter.fillRect(rect, QColor("#3d7ab8" if selected else (
            "#202020" if index.row() % 2 else "#1c1c1c")))
        thumb_rect = QRect(rect.left() + 4, rect.top() + 4, THUMB, THUMB)
        painter.fillRect(thumb_rect, QColor("#0c0c0c"))
        pixmap = self.model.thumbnail(item_id)
        if pixmap is not None:
            x = thumb_rect.left() + (THUMB - pixmap.width()) // 2
            y = thumb_rect.top() + (THUMB - pixmap.height()) // 2
            painter.drawPixmap(x, y, pixmap)
        left = thumb_rect.right() + 8
        width = rect.right() - left - 4
        metrics = QFontMetrics(option.font)  # type: ignore[attr-defined]
        line = metrics.height()
        painter.setPen(QColor("#f0f0f0"))
        name = metrics.elidedText(state.index.name(item_id), Qt.TextElideMode.ElideMiddle,
                                  width)
        painter.drawText(QRect(left, rect.top() + 6, width, line), 0, name)
        second, colour = _second_line(state, item_id)
        painter.setPen(QColor(colour if not selected else "#ffffff"))
        painter.drawText(QRect(left, rect.top() + 8 + line, width, line), 0,
                         metrics.elidedText(second, Qt.TextElideMode.ElideRight, width))
        _draw_votes(painter, state, item_id, QRect(left, rect.top() + 12 + 2 * line, width, 5))
        painter.restore()


def _second_line(state: ProjectState, item_id: int) -> tuple[str, str]:
    row = state.index.rows.get(item_id)
    if row is not None and row.status in ("error", "missing"):
        return (row.reason or "cannot be shown"), "#e08a7a"
    label = state.labels.get(item_id)
    names = state.class_names()
    if label is not None and label.kind == "label":
        return "✓ " + ", ".join(names.get(c, "?") for c in label.class_ids), "#8fd18f"
    if label is not None and label.kind in ("skip", "unsure"):
        return ("skipped" if label.kind == "skip" else "unsure"), "#d0b060"
    if item_id in state.audits:
        return "audit: drawn at random, guess hidden", "#c8a2e0"
    return queue_line(state.ranking, item_id, names), "#a8a8a8"


def _draw_votes(painter: QPainter, state: ProjectState, item_id: int, rect: QRect) -> None:
    """The committee's votes as a bar of class colours (width proportional to votes)."""
    ranking = state.ranking
    pred = None if ranking is None or item_id in state.audits else ranking.prediction(item_id)
    if pred is None or ranking is None or ranking.members == 0:
        return
    colours = {c.id: c.colour for c in state.classes}
    x = rect.left()
    for j, n in enumerate(pred[1]):
        if n <= 0:
            continue
        w = round(rect.width() * int(n) / ranking.members)
        painter.fillRect(QRect(x, rect.top(), w, rect.height()),
                         QColor(colours.get(ranking.class_ids[j], "#888888")))
        x += w


def _key(name: str, class_id: int | None) -> str:
    return f"{name}:{'' if class_id is None else class_id}"


class QueuePanel(QWidget):
    """Filter, list and count. Emits `item_chosen` when the user picks a row."""

    item_chosen = Signal(int)
    filter_changed = Signal(str, object)  # filter name, class id or None

    def __init__(self, state: ProjectState, loader: ImageLoader,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state
        self.model = QueueModel(state, loader)
        self.filter = QComboBox()
        self.filter.setToolTip("Which items to list and work through")
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(QueueDelegate(self.model))
        self.view.setUniformItemSizes(True)
        # Lay out 100k rows in batches between events, never in one go (a reset of 100k rows
        # in the default mode stalls the window for a quarter of a second).
        self.view.setLayoutMode(QListView.LayoutMode.Batched)
        self.view.setBatchSize(1000)
        self.view.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to labeling
        self.view.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.view.clicked.connect(lambda ix: self.item_chosen.emit(int(ix.data(ITEM_ROLE))))
        self.count = QLabel()
        self.count.setProperty("role", "muted")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.filter)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.count)
        self.rebuild_filters()
        self.filter.currentIndexChanged.connect(self._filter_picked)
        state.labels_changed.connect(self.model.changed)
        state.ranking_changed.connect(self.view.viewport().update)
        state.classes_changed.connect(self.rebuild_filters)

    def rebuild_filters(self) -> None:
        current = self.filter.currentData()
        self.filter.blockSignals(True)
        self.filter.clear()
        for name in FILTERS:
            self.filter.addItem(_FILTER_TITLES[name], _key(name, None))
        for c in self.state.active_classes():
            self.filter.addItem(f"Labeled as {c.name}", _key("labeled", c.id))
        found = self.filter.findData(current) if current else 0
        self.filter.setCurrentIndex(max(0, found))
        self.filter.blockSignals(False)

    def current_filter(self) -> tuple[str, int | None]:
        name, _, class_id = str(self.filter.currentData() or "unlabeled:").partition(":")
        return name, int(class_id) if class_id else None

    def set_filter(self, name: str, class_id: int | None = None) -> None:
        found = self.filter.findData(_key(name, class_id))
        if found >= 0:
            self.filter.setCurrentIndex(found)

    def _filter_picked(self, _: int) -> None:
        name, class_id = self.current_filter()
        self.filter_changed.emit(name, class_id)

    def show_rows(self, ids: list[int], current: int | None) -> None:
        self.model.set_ids(ids)
        self.count.setText(f"{len(ids):,} items")
        self.select(current)

    def select(self, item_id: int | None) -> None:
        row = None if item_id is None else self.model.row_of(item_id)
        if row is None:
            self.view.clearSelection()
            return
        index = self.model.index(row)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index, QListView.ScrollHint.EnsureVisible)
