"""The open project as the window sees it: items, labels, classes and the newest ranking.

One object, owned by the UI thread, that panels read and controllers change; it says what
changed through signals. Writes of user actions go through the store in this thread, committed
before the signal goes out.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from aldesk.core.types import ClassInfo, LabelState
from aldesk.services.browse import IndexRows, ProjectIndex
from aldesk.services.ranking import Ranking
from aldesk.services.thumbnails import thumbnail_cache
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes


class ProjectState(QObject):
    labels_changed = Signal(int)  # item id
    classes_changed = Signal()
    ranking_changed = Signal()
    items_changed = Signal()

    def __init__(self, project: Project, parent: QObject | None = None,
                 rows: IndexRows | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.index = ProjectIndex(project, rows)
        self._cleared_seen = int(project.conn.execute(
            "SELECT COALESCE(MAX(id), 0) FROM annotations").fetchone()[0])
        self.labels: dict[int, LabelState] = store_ann.current_all(project)
        self.classes: list[ClassInfo] = store_classes.list_classes(project)
        self.ranking: Ranking | None = None
        self.audits: set[int] = set()  # queued items drawn at random, labeled blind
        self.thumbnails = thumbnail_cache(project)
        self._count_items()

    def _count_items(self) -> None:
        rows = self.index.rows
        self.broken: set[int] = {i for i in self.index.unusable()
                                 if rows[i].status in ("error", "missing")}
        self.error_items = len(self.broken)

    @property
    def path(self) -> Path:
        return self.project.path

    @property
    def name(self) -> str:
        return self.project.path.stem

    # -- classes -----------------------------------------------------------------------------

    def active_classes(self) -> list[ClassInfo]:
        return [c for c in self.classes if c.active]

    def class_names(self) -> dict[int, str]:
        return {c.id: c.name for c in self.classes}

    def class_by_id(self, class_id: int) -> ClassInfo | None:
        return next((c for c in self.classes if c.id == class_id), None)

    def reload_classes(self) -> None:
        self.classes = store_classes.list_classes(self.project)
        self.labels = store_ann.current_all(self.project)  # merges change what labels count as
        self.classes_changed.emit()

    # -- labels ------------------------------------------------------------------------------

    def reload_label(self, item_id: int) -> None:
        state = store_ann.current(self.project, item_id)
        if state is None:
            self.labels.pop(item_id, None)
        else:
            self.labels[item_id] = state
        self.labels_changed.emit(item_id)

    def label_of(self, item_id: int) -> LabelState | None:
        return self.labels.get(item_id)

    def counts(self) -> dict[str, int]:
        """Label counts as `aldesk info` gives them: "unlabeled" is what is left to label,
        readable (or not yet read) items without a label, skip or unsure."""
        kinds = [s.kind for s in self.labels.values()]
        labeled, skipped, unsure = (kinds.count(k) for k in ("label", "skip", "unsure"))
        rows, broken = self.index.rows, self.broken
        decided = sum(1 for i in self.labels if i in rows and i not in broken)
        return {"labeled": labeled, "skipped": skipped, "unsure": unsure,
                "items": len(self.index), "errors": self.error_items,
                "unlabeled": len(rows) - len(broken) - decided}

    def labels_since_model(self) -> int:
        """Label acts newer than the newest ranking's model (all of them without a model)."""
        last = 0 if self.ranking is None else self.ranking.last_annotation_id
        row = self.project.conn.execute(
            "SELECT COUNT(*) FROM annotations WHERE id > ? AND kind = 'label'",
            (last,)).fetchone()
        return int(row[0])

    # -- ranking -----------------------------------------------------------------------------

    def set_ranking(self, ranking: Ranking) -> None:
        self.ranking = ranking
        self.ranking_changed.emit()

    def reload_items(self, rows: IndexRows | None = None) -> None:
        """After a scan or new arrivals: `rows`, the index as the worker just read it, or
        (None) read here."""
        if rows is not None:
            self.index.replace(rows)
        else:
            self.index.refresh()
        self._count_items()
        self._take_cleared_labels()
        self.items_changed.emit()

    def _take_cleared_labels(self) -> None:
        """Labels a scan cleared (files overwritten with other images), read by annotation id
        past the last look: a few rows, not every label, on this thread."""
        rows = self.project.conn.execute(
            "SELECT id, item_id FROM annotations WHERE id > ? AND origin = 'file-changed'",
            (self._cleared_seen,)).fetchall()
        for annotation_id, item_id in rows:
            self._cleared_seen = max(self._cleared_seen, annotation_id)
            state = store_ann.current(self.project, item_id)
            if state is None:
                self.labels.pop(item_id, None)
            else:
                self.labels[item_id] = state
