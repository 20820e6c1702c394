"""When the model retrains, and what happens to its result.

Triggers (the desktop-app issue): a project opens with labels newer than its model; Ctrl+R; and
every `retrain_every` new labels in the background. Each submits one "rank" job to the worker
(a newer one supersedes an older one), which trains and ranks in the compute process
(`services.compute`); its `Ranking` replaces the queue ahead of the user.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from aldesk.services.compute import ComputeProcess
from aldesk.services.ranking import Ranking, compute_ranking
from aldesk.ui.settings import Settings
from aldesk.ui.state import ProjectState
from aldesk.ui.worker import JobRunner, WorkerJob

log = logging.getLogger(__name__)
KIND = "rank"


class TrainingController(QObject):
    ranked = Signal(object)  # the Ranking that was applied

    def __init__(self, state: ProjectState, runner: JobRunner, compute: ComputeProcess,
                 settings: Settings) -> None:
        super().__init__()
        self.state, self.runner, self.settings = state, runner, settings
        self.compute = compute
        self.since_submit = 0
        self.job_id: int | None = None
        self._retraining: int | None = None  # id of a queued or running retrain
        runner.finished.connect(self._finished)
        runner.failed.connect(self._ended)
        runner.cancelled.connect(self._ended)

    def detach(self) -> None:
        """Stop listening to the worker (the project is closing; the worker lives on)."""
        self.runner.finished.disconnect(self._finished)
        self.runner.failed.disconnect(self._ended)
        self.runner.cancelled.disconnect(self._ended)

    def on_open(self) -> None:
        """Read the saved ranking at once; retrain first when labels are newer than it."""
        stale = self._labels_newer_than_model()
        self.submit(retrain=stale, why="labels newer than the model" if stale else "")

    def _labels_newer_than_model(self) -> bool:
        row = self.state.project.conn.execute(
            "SELECT COALESCE(MAX(last_annotation_id), 0) FROM models").fetchone()
        newest = self.state.project.conn.execute(
            "SELECT COUNT(*) FROM annotations WHERE id > ? AND kind = 'label'",
            (int(row[0]),)).fetchone()
        return int(newest[0]) > 0

    def retrain(self) -> None:
        self.submit(retrain=True, why="on request")

    def label_added(self) -> None:
        self.since_submit += 1
        every = self.settings.retrain_every
        if every and self.since_submit >= every:
            self.submit(retrain=True, why=f"{self.since_submit} new labels")

    def submit(self, *, retrain: bool, why: str = "") -> int:
        """Queue a round. A plain re-read never supersedes a pending retrain: the retrain's
        ranking will include whatever the re-read was for."""
        if not retrain and self._retraining is not None:
            return self._retraining
        self.since_submit = 0
        path: Path = self.state.path
        title = "Retraining" if retrain else "Reading the ranking"
        if why:
            title += f" ({why})"

        def run(job: WorkerJob) -> Ranking:  # in the compute process: the window keeps the GIL
            return self.compute.run(compute_ranking, job, path=path, retrain=retrain)

        self.job_id = self.runner.submit(KIND, title, run)
        self._retraining = self.job_id if retrain else None
        return self.job_id

    def _ended(self, job_id: int, kind: str, *rest: object) -> None:
        if job_id == self._retraining:
            self._retraining = None

    def _finished(self, job_id: int, kind: str, result: object) -> None:
        self._ended(job_id, kind)
        if kind != KIND or not isinstance(result, Ranking):
            return
        self.state.set_ranking(result)
        self.ranked.emit(result)
