"""Everything the window shows for one open project: panels, controllers and their wiring.

The main window places the panels; this object connects them. Closing it releases the project.
"""

from __future__ import annotations

import logging

import numpy as np
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from aldesk.core import heap, malloc
from aldesk.services.audit import AuditEstimate, audit_estimate, was_audited
from aldesk.services.browse import IndexRows
from aldesk.services.compute import ComputeProcess
from aldesk.services.info import stopping_of
from aldesk.services.ranking import Ranking
from aldesk.store import Project
from aldesk.ui.class_panel import ClassPanel
from aldesk.ui.dashboard import Dashboard
from aldesk.ui.labeling import LabelingController
from aldesk.ui.loader import ImageLoader
from aldesk.ui.meta_panel import MetadataPanel
from aldesk.ui.queue_panel import QueuePanel
from aldesk.ui.settings import Settings
from aldesk.ui.state import ProjectState
from aldesk.ui.status_bar import StatusBar
from aldesk.ui.stream_ctl import StreamController
from aldesk.ui.training import TrainingController
from aldesk.ui.viewer_panel import ViewerPanel
from aldesk.ui.worker import JobRunner, WorkerJob

log = logging.getLogger(__name__)


UNCERTAINTY = "uncertainty"
#: After this long without input (and no job running), the heap is collected in full.
IDLE_COLLECT_S = 120.0


def pool_uncertainty(ranking: Ranking | None) -> tuple[np.ndarray, str]:
    """What the pool's histogram shows: the committee's uncertainty (1 - margin between its
    top two classes) on the queued items when there is a committee, else the queue's scores.
    (Batch strategies score by rank, whose histogram is flat by construction.)"""
    if ranking is None:
        return np.zeros(0), ""
    if ranking.uncertainty is not None:
        return ranking.uncertainty[np.isfinite(ranking.uncertainty)], UNCERTAINTY
    return ranking.scores[np.isfinite(ranking.scores)], ranking.strategy


class Workspace(QObject):
    def __init__(self, project: Project, runner: JobRunner, compute: ComputeProcess,
                 status: StatusBar, settings: Settings, parent: QWidget | None = None,
                 rows: IndexRows | None = None) -> None:
        super().__init__(parent)
        self.runner, self.status, self.settings = runner, status, settings
        self.compute = compute
        self.state = ProjectState(project, self, rows)
        self.loader = ImageLoader(parent=self)
        self.viewer = ViewerPanel()
        self.dashboard = Dashboard()
        self.queue = QueuePanel(self.state, self.loader)
        self.classes = ClassPanel()
        self.meta = MetadataPanel()
        self.labeling = LabelingController(self.state, self.loader, self.viewer, self.classes,
                                           self.queue, self.meta, settings)
        self.training = TrainingController(self.state, runner, compute, settings)
        self.stream = StreamController(self.state, runner, compute, self.training)
        self.labeling.labeled.connect(self.training.label_added)
        self.labeling.labeled.connect(self.update_status)
        self.audit: AuditEstimate | None = None
        self.state.labels_changed.connect(self._label_changed)
        self.state.ranking_changed.connect(self.refresh_audit)
        self.labeling.message.connect(lambda text: status.showMessage(text, 6000))
        self.state.labels_changed.connect(lambda _: self.update_status())
        self.state.ranking_changed.connect(self.update_status)
        self.state.ranking_changed.connect(self.update_dashboard)
        self.state.labels_changed.connect(lambda _: self.update_dashboard())
        self.state.classes_changed.connect(self.update_dashboard)
        self.dashboard.shown.connect(self._dashboard_shown)
        self._dashboard_stale = True
        self.state.items_changed.connect(self.update_status)
        self.stream.report.connect(self._stream_report)
        self.stream.watching_changed.connect(status.set_watching)
        self._pace = QTimer(self)  # the labels-per-minute figure moves even while idle
        self._pace.timeout.connect(self.update_status)
        self._pace.timeout.connect(self._collect_when_idle)
        self._pace.start(15_000)
        self._collected_at_idle = False

    @property
    def project(self) -> Project:
        return self.state.project

    def start(self) -> None:
        """The window is up: show the first item, then let the worker catch up."""
        self.compute.start()  # it imports torch while the first item is looked at
        self.labeling.start()
        self.refresh_audit()
        self.update_dashboard()
        heap.settle()  # the index and labels live as long as the project: no more full walks
        path = self.state.path

        def backup(job: WorkerJob) -> str:
            with Project.attach(path) as project:
                return str(project.backup())

        self.runner.submit("backup", "Backing up the project", backup)
        self.training.on_open()

    def update_status(self) -> None:
        c = self.state.counts()
        self.status.set_counts(c["labeled"], c["unlabeled"], c["skipped"] + c["unsure"],
                               c["errors"])
        self.status.set_pace(self.labeling.stats.per_minute(), self.labeling.stats.labels)
        r = self.state.ranking
        self.status.set_model(None if r is None else r.model_version,
                              None if r is None else r.cv_accuracy,
                              self.state.labels_since_model(), self.audit)

    def refresh_audit(self) -> None:
        """Re-reads the audit estimate (at open, after a new model, and when an audit item's
        label changes: answered, undone, corrected)."""
        self.audit = audit_estimate(self.project, labels=self.state.labels)
        self.update_status()

    def _label_changed(self, item_id: int) -> None:
        if item_id in self.state.audits or was_audited(self.project, item_id):
            self.refresh_audit()

    def update_dashboard(self) -> None:
        """Redraws the dashboard when it is in view; otherwise when it comes into view (a new
        100k ranking would cost the window ~20 ms for plots nobody looks at)."""
        if not self.dashboard.isVisible():
            self._dashboard_stale = True
            return
        self._dashboard_stale = False
        self._draw_dashboard()

    def _dashboard_shown(self) -> None:
        if self._dashboard_stale:
            self.update_dashboard()

    def _draw_dashboard(self) -> None:
        rows = self.project.conn.execute(
            "SELECT labels_used, metrics FROM models ORDER BY version").fetchall()
        import json

        points = []
        for labels_used, metrics in rows:
            m = json.loads(metrics or "{}")
            points.append((int(labels_used), m.get("cv_accuracy"),
                           m.get("agreement_with_previous")))
        self.dashboard.set_learning_curve(points)
        counts = self.state.counts()
        self.dashboard.set_stopping(
            stopping_of(self.project, counts["labeled"])["note"] if rows else "")
        per_class: dict[int, int] = {}
        for s in self.state.labels.values():
            if s.kind == "label":
                for cid in s.class_ids:
                    per_class[cid] = per_class.get(cid, 0) + 1
        self.dashboard.set_class_counts([(c.name, per_class.get(c.id, 0), c.colour)
                                         for c in self.state.active_classes()])
        values, what = pool_uncertainty(self.state.ranking)
        if what == UNCERTAINTY:
            self.dashboard.set_scores(values, "", axis="1 − margin (top two classes)",
                                      title="Committee uncertainty on the queue")
        else:
            self.dashboard.set_scores(values, what)

    def _stream_report(self, report: object) -> None:
        arrived = getattr(report, "arrived", 0)
        note = getattr(report, "note", "")
        if arrived:
            admitted = len(getattr(report, "admitted", []))
            unreadable = len(getattr(report, "unreadable", []))
            later = (f" {unreadable} cannot be read yet (still being written?) and will be "
                     "judged once they can." if unreadable else "")
            self.status.showMessage(
                f"{arrived} new file(s) in the watched folder; {admitted} queued as "
                f"informative, the rest indexed.{later}", 8000)
        elif note:  # e.g. the watched folder is gone for now
            self.status.showMessage(note, 8000)

    def _collect_when_idle(self) -> None:
        """Once per idle spell (no input for IDLE_COLLECT_S, no job), a full garbage
        collection, then the freed memory back to the system: nobody waits for either then.

        The loader threads' decode buffers stay with the process once freed (glibc, more so
        with `core.malloc`'s raised thresholds): after 150 large radiographs and photos, the
        trim took resident memory from 322-411 MB to 91-153 MB, in 8-18 ms
        (benchmarks/bench_view_memory.py).
        """
        idle = self.labeling.timer.idle_for() >= IDLE_COLLECT_S and not self.runner.is_busy()
        if idle and not self._collected_at_idle:
            heap.full_collect()
            malloc.release_freed_memory()
        self._collected_at_idle = idle

    def close(self) -> None:
        heap.thaw()
        self.stream.detach()
        self.training.detach()
        self._pace.stop()
        self.loader.shutdown()
        self.state.project.close()
