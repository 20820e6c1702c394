"""Stream mode in the app: a watched folder feeds the queue with its informative arrivals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from aldesk.al.stream import StreamSelector
from aldesk.services.browse import IndexRows, read_index_at
from aldesk.services.compute import ComputeProcess
from aldesk.services.stream import StreamReport, new_selector, stream_at
from aldesk.ui.state import ProjectState
from aldesk.ui.training import TrainingController
from aldesk.ui.worker import JobRunner, WorkerJob

KIND = "stream"
DEFAULT_BUDGET = 0.2


class StreamController(QObject):
    """Every `interval_s` seconds, one stream job takes in what arrived in the folder."""

    report = Signal(object)  # StreamReport
    watching_changed = Signal(object)  # folder or None

    def __init__(self, state: ProjectState, runner: JobRunner, compute: ComputeProcess,
                 training: TrainingController, interval_s: float = 3.0) -> None:
        super().__init__()
        self.state, self.runner, self.training = state, runner, training
        self.compute = compute
        self.folder: Path | None = None
        self.budget = DEFAULT_BUDGET
        self._selector: StreamSelector | None = None
        self._busy = False
        self._timer = QTimer(self)
        self._timer.setInterval(int(interval_s * 1000))
        self._timer.timeout.connect(self.poll)
        runner.finished.connect(self._finished)
        runner.failed.connect(self._ended)
        runner.cancelled.connect(self._ended)

    def watch(self, folder: Path, budget: float = DEFAULT_BUDGET) -> None:
        self.folder, self.budget = folder, budget
        self._selector = new_selector(self.state.project, budget)
        self._timer.start()
        self.watching_changed.emit(folder)
        self.poll()

    def detach(self) -> None:
        """Stop watching and listening to the worker (the project is closing)."""
        self._timer.stop()
        self.runner.finished.disconnect(self._finished)
        self.runner.failed.disconnect(self._ended)
        self.runner.cancelled.disconnect(self._ended)

    def stop(self) -> None:
        self._timer.stop()
        self.folder = None
        self.watching_changed.emit(None)

    def poll(self) -> None:
        if self.folder is None or self._busy or self._selector is None:
            return
        self._busy = True
        path, folder, selector = self.state.path, self.folder, self._selector

        def run(job: WorkerJob) -> tuple[StreamReport, StreamSelector, IndexRows | None]:
            report, chosen = self.compute.run(stream_at, job, path=path, folder=folder,
                                              selector=selector)
            # New files: the index is read again here, not by the window (100k items: ~0.4 s)
            job.check()
            rows = read_index_at(path) if report.arrived else None
            return report, chosen, rows

        self.runner.submit(KIND, f"Watching {folder.name}", run)

    def _finished(self, job_id: int, kind: str, result: object) -> None:
        if kind != KIND:
            return
        self._busy = False
        report, self._selector, rows = result  # type: ignore[misc]  # selector as computed
        if isinstance(report, StreamReport):
            self.report.emit(report)
            if report.arrived:
                self.state.reload_items(rows)
                self.training.submit(retrain=False, why="new files arrived")

    def _ended(self, job_id: int, kind: str, *rest: object) -> None:
        if kind == KIND:
            self._busy = False
