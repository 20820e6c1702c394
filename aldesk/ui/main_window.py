"""The window: a shell of pages, docks, menus and shortcuts. Behaviour lives in controllers."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from aldesk.core.errors import AldeskError
from aldesk.services import projects
from aldesk.services.browse import IndexRows, read_index_at
from aldesk.services.compute import ComputeProcess
from aldesk.store import Project
from aldesk.store import classes as store_classes
from aldesk.ui import dialogs
from aldesk.ui.settings import Settings
from aldesk.ui.start_page import StartPage
from aldesk.ui.status_bar import StatusBar
from aldesk.ui.worker import JobRunner, WorkerJob
from aldesk.ui.workspace import Workspace

log = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.setWindowTitle("aldesk")
        self.resize(1400, 880)
        self.runner = JobRunner(self)
        self.compute = ComputeProcess()  # training and scoring run there, not in this process
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.start_page = StartPage()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.start_page)
        self.pages.addWidget(self.tabs)
        self.setCentralWidget(self.pages)
        self.docks = {name: self._dock(title, area) for name, title, area in (
            ("queue", "Queue", Qt.DockWidgetArea.LeftDockWidgetArea),
            ("classes", "Label", Qt.DockWidgetArea.RightDockWidgetArea),
            ("meta", "Details", Qt.DockWidgetArea.RightDockWidgetArea))}
        self.workspace: Workspace | None = None
        self._opening: tuple[int, Project] | None = None  # (job id, project) being read
        self._class_keys: list[QShortcut] = []
        self.dialogs: list[QWidget] = []  # open non-modal dialogs (errors), for tests
        self._build_menus()
        self._wire_runner()
        self.start_page.new_requested.connect(self.new_project)
        self.start_page.open_requested.connect(self.choose_project)
        self.start_page.demo_requested.connect(self.open_demo)
        self.start_page.recent_chosen.connect(self.open_project)
        self.show_start()

    # -- layout ------------------------------------------------------------------------------

    def _dock(self, title: str, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu_name: str, text: str, slot: Callable[[], object],
                keys: str | QKeySequence.StandardKey | None = None) -> QAction:
        menu = self._menus.get(menu_name) or self.menuBar().addMenu(menu_name)
        self._menus[menu_name] = menu
        action = menu.addAction(text)
        action.triggered.connect(lambda _=False: slot())
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        return action

    def _build_menus(self) -> None:
        self._menus: dict[str, object] = {}
        ws = self._on_workspace
        self._action("&File", "New project…", self.new_project, QKeySequence.StandardKey.New)
        self._action("&File", "Open project…", self.choose_project,
                     QKeySequence.StandardKey.Open)
        self._action("&File", "Open the demo", self.open_demo)
        self._action("&File", "Add folder…", self.add_folder)
        self._action("&File", "Rescan folders", self.rescan)
        self._action("&File", "Close project", self.close_project)
        self._action("&File", "Quit", self.close, QKeySequence.StandardKey.Quit)
        self._action("&Edit", "Undo", ws(lambda w: w.labeling.undo()), "Ctrl+Z")
        self._action("&Edit", "Redo", ws(lambda w: w.labeling.redo()), "Ctrl+Shift+Z")
        self._action("&Edit", "Add class…", self.add_class)
        self._action("&Edit", "Settings…", self.edit_settings)
        self._action("&View", "Fit", ws(lambda w: w.viewer.viewer.fit()), "F")
        self._action("&View", "Actual size (1:1)", ws(lambda w: w.viewer.viewer.actual_size()),
                     "Ctrl+1")
        self._action("&View", "Zoom in", ws(lambda w: w.viewer.viewer.zoom_in()), "+")
        self._action("&View", "Zoom out", ws(lambda w: w.viewer.viewer.zoom_out()), "-")
        self._action("&View", "Reset window", ws(lambda w: w.viewer.viewer.reset_window()), "W")
        self._action("&View", "Dashboard / labeling", self.toggle_dashboard, "Ctrl+D")
        self._action("&Model", "Retrain now", ws(lambda w: w.training.retrain()), "Ctrl+R")
        self._action("&Model", "Cancel the running job", lambda: self.runner.cancel())
        self._action("&Model", "Watch a folder (stream mode)…", self.watch_folder)
        self._action("&Model", "Stop watching", ws(lambda w: w.stream.stop()))
        self._action("&Help", "Keyboard shortcuts", self.show_shortcuts, "F1")
        keys: list[tuple[str, Callable[[], object]]] = [
            ("S", ws(lambda w: w.labeling.skip())), ("U", ws(lambda w: w.labeling.unsure())),
            ("Space", ws(lambda w: w.labeling.accept())),
            ("Right", ws(lambda w: w.labeling.next())),
            ("Left", ws(lambda w: w.labeling.previous())),
            ("=", ws(lambda w: w.viewer.viewer.zoom_in())),
            ("[", ws(lambda w: w.viewer.step_frame(-1))),
            ("]", ws(lambda w: w.viewer.step_frame(1))),
            ("?", self.show_shortcuts), ("Shift+?", self.show_shortcuts)]
        for key, slot in keys:
            QShortcut(QKeySequence(key), self, slot)
        self.status.cancel_requested.connect(lambda: self.runner.cancel())

    def _on_workspace(self, fn: Callable[[Workspace], object]) -> Callable[[], None]:
        def run() -> None:
            if self.workspace is not None and self.pages.currentWidget() is self.tabs:
                fn(self.workspace)
        return run

    def _bind_class_keys(self) -> None:
        for s in self._class_keys:
            s.setEnabled(False)
            s.deleteLater()
        self._class_keys = []
        if self.workspace is None:
            return
        for c in self.workspace.state.active_classes():
            if not c.hotkey:
                continue
            handler = self._on_workspace(lambda w, cid=c.id: w.labeling.label(cid))
            keys = [QKeySequence(c.hotkey)]
            if c.hotkey.isdigit():  # the number pad types the same digits
                keys.append(QKeySequence(Qt.KeyboardModifier.KeypadModifier.value
                                         | (Qt.Key.Key_0.value + int(c.hotkey))))
            self._class_keys += [QShortcut(k, self, handler) for k in keys]

    # -- worker feedback -------------------------------------------------------------------

    def _wire_runner(self) -> None:
        r = self.runner
        r.started.connect(lambda _id, _kind, title: self.status.job_started(title))
        r.progress.connect(lambda _id, done, total, text: self.status.job_progress(
            done, total, text))
        r.idle.connect(self.status.job_done)
        r.failed.connect(self._job_failed)
        r.finished.connect(self._job_finished)
        r.cancelled.connect(lambda job_id, kind: self._abandon_open(job_id))

    def _job_failed(self, job_id: int, kind: str, message: str, details: str) -> None:
        self._abandon_open(job_id)
        self.status.job_done()
        self.dialogs = [d for d in self.dialogs if d.isVisible()]
        self.dialogs.append(dialogs.error_dialog(self, message, details))

    def _job_finished(self, job_id: int, kind: str, result: object) -> None:
        if kind == "open" and isinstance(result, IndexRows):
            self._opened(job_id, result)
        elif kind == "scan" and self.workspace is not None and isinstance(result, IndexRows):
            self.workspace.state.reload_items(result)
            self.workspace.training.submit(retrain=False, why="new items")
        elif kind == "demo" and isinstance(result, Path):
            # After this outcome is delivered: opening first waits for the worker to be idle,
            # which it is not while it still delivers this one (a 10 s freeze).
            QTimer.singleShot(0, lambda: self.open_project(result))

    # -- pages and projects ----------------------------------------------------------------

    def show_start(self) -> None:
        self.start_page.set_recent(self.settings.recent())
        self.pages.setCurrentWidget(self.start_page)
        for dock in self.docks.values():
            dock.setVisible(False)
        self.setWindowTitle("aldesk")

    def open_project(self, path: Path) -> bool:
        """Open `path` straight into labeling; False (with a message) when it cannot be opened
        at all.

        The project is opened (and locked) here; its item index is read by the worker, about
        0.3 s for 100k items that this thread would otherwise spend unable to repaint, and
        labeling starts when it arrives (`_opened`). An index that cannot be read is reported
        then, and the project let go.
        """
        self.close_project()
        try:
            project = Project.open(path, backup_on_open=False)  # the worker backs up
        except AldeskError as err:
            QMessageBox.warning(self, "aldesk", str(err))
            return False
        path = project.path

        def read(job: WorkerJob) -> IndexRows:
            job.check()  # not if it was cancelled (closed) while queued
            return read_index_at(path)

        job_id = self.runner.submit("open", f"Opening {path.stem}", read)
        self._opening = (job_id, project)
        return True

    def _opened(self, job_id: int, rows: IndexRows) -> None:
        if self._opening is None or self._opening[0] != job_id:
            return  # closed, or another project asked for, meanwhile
        project = self._opening[1]
        self._opening = None
        try:  # no parent until built: a half-built workspace is freed with its Python object
            ws = Workspace(project, self.runner, self.compute, self.status, self.settings, None,
                           rows)
        except Exception as err:  # e.g. its labels cannot be read: say so, and let it go
            project.close()
            if isinstance(err, AldeskError):
                QMessageBox.warning(self, "aldesk", str(err))
            else:
                log.exception("opening %s failed", project.path)
                self.dialogs.append(dialogs.error_dialog(
                    self, f"{project.path.name} could not be opened: {err}",
                    traceback.format_exc()))
            return
        ws.setParent(self)
        self._install(ws)

    def _abandon_open(self, job_id: int | None = None) -> None:
        """Drops a project whose index is still being read (`job_id`: only if that job's)."""
        if self._opening is None or job_id not in (None, self._opening[0]):
            return
        pending, project = self._opening
        self._opening = None
        self.runner.cancel(pending)
        project.close()

    def _install(self, ws: Workspace) -> None:
        self.workspace = ws
        self.tabs.addTab(ws.viewer, "Label")
        self.tabs.addTab(ws.dashboard, "Dashboard")
        self.docks["queue"].setWidget(ws.queue)
        self.docks["classes"].setWidget(ws.classes)
        self.docks["meta"].setWidget(ws.meta)
        for dock in self.docks.values():
            dock.setVisible(True)
        self.pages.setCurrentWidget(self.tabs)
        self.setWindowTitle(f"{ws.state.name} — aldesk")
        self.settings.add_recent(ws.state.path)
        ws.state.classes_changed.connect(self._bind_class_keys)
        ws.classes.add_requested.connect(self.add_class)
        ws.classes.rename_requested.connect(self.rename_class)
        ws.classes.merge_requested.connect(self.merge_class)
        ws.classes.archive_requested.connect(self.archive_class)
        self._bind_class_keys()
        ws.start()
        pending = projects.pending_folders(ws.project)
        if pending:
            self._scan(pending)
        self.activateWindow()
        self.setFocus(Qt.FocusReason.OtherFocusReason)  # keys label at once

    def close_project(self) -> None:
        self._abandon_open()
        ws, self.workspace = self.workspace, None
        if ws is None:
            return
        self.runner.cancel()
        self._wait_idle()
        ws.close()
        self.tabs.clear()
        for dock in self.docks.values():
            dock.setWidget(QWidget())
        for w in (ws.viewer, ws.dashboard, ws.queue, ws.classes, ws.meta):
            w.deleteLater()
        ws.deleteLater()
        self._bind_class_keys()
        self.show_start()

    def _wait_idle(self, timeout_s: float = 10.0) -> None:
        end = time.monotonic() + timeout_s
        while self.runner.is_busy() and time.monotonic() < end:
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.01)

    def choose_project(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Open project", str(Path.home()),
                                                "aldesk projects (*.aldesk)")
        if chosen:
            self.open_project(Path(chosen))

    def new_project(self) -> None:
        from aldesk.ui.new_project import NewProjectDialog

        dialog = NewProjectDialog(self)
        if dialog.exec() != NewProjectDialog.DialogCode.Accepted:
            return
        self.close_project()
        try:
            project = projects.create_project(dialog.spec())
        except AldeskError as err:
            QMessageBox.warning(self, "aldesk", str(err))
            return
        self._install(Workspace(project, self.runner, self.compute, self.status, self.settings,
                                self))

    def open_demo(self) -> None:
        from aldesk.services.demo import demo_project

        self.runner.submit("demo", "Preparing the demo project",
                           lambda job: self.compute.run(demo_project, job))

    def _scan(self, folders: list[Path]) -> None:
        if self.workspace is None:
            return
        path = self.workspace.state.path

        def scan(job: WorkerJob) -> IndexRows:
            projects.scan_folders(path, folders, job)
            job.check()
            return read_index_at(path)  # the window takes the new index without reading it

        self.runner.submit("scan", "Reading folders", scan)

    def add_folder(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        chosen = QFileDialog.getExistingDirectory(self, "Add a folder of images or DICOM files")
        if chosen and self.workspace is ws:  # the same project after the dialog
            self._scan([Path(chosen)])

    def rescan(self) -> None:
        if self.workspace is not None:
            from aldesk.store import items as store_items

            self._scan([s.root for s in store_items.list_sources(self.workspace.project)
                        if s.exists])

    def watch_folder(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        chosen = QFileDialog.getExistingDirectory(self, "Folder to watch for new files")
        if chosen and self.workspace is ws:  # the same project after the dialog
            ws.stream.watch(Path(chosen))
            self.status.showMessage(f"Watching {chosen}: new files are scored on arrival.",
                                    8000)

    # -- classes ---------------------------------------------------------------------------

    def add_class(self) -> None:
        ws = self.workspace
        if ws is None:
            return
        name, ok = QInputDialog.getText(self, "Add class", "Name of the new class:")
        if ok and name.strip() and self.workspace is ws:
            self.class_edit(lambda p: store_classes.add_classes(p, [name]))

    def rename_class(self, class_id: int) -> None:
        ws = self.workspace
        cls = None if ws is None else ws.state.class_by_id(class_id)
        if cls is None:
            return
        name, ok = QInputDialog.getText(self, "Rename class", f"New name for {cls.name}:",
                                        text=cls.name)
        if ok and name.strip() and name.strip() != cls.name and self.workspace is ws:
            self.class_edit(lambda p: store_classes.rename_class(p, cls.name, name))

    def merge_class(self, source: int, target: int) -> None:
        ws = self.workspace
        if ws is None:
            return
        names = ws.state.class_names()
        answer = QMessageBox.question(
            self, "Merge classes", f"Merge {names[source]} into {names[target]}? Every label "
            f"of {names[source]} will count as {names[target]}. The labels themselves are kept.")
        if answer == QMessageBox.StandardButton.Yes and self.workspace is ws:
            self.class_edit(lambda p: store_classes.merge_classes(p, names[source],
                                                                  names[target]))

    def archive_class(self, class_id: int) -> None:
        ws = self.workspace
        if ws is not None:
            name = ws.state.class_names()[class_id]
            self.class_edit(lambda p: store_classes.archive_class(p, name))

    def class_edit(self, change: Callable[[Project], object]) -> bool:
        ws = self.workspace
        if ws is None:
            return False
        try:
            change(ws.project)
        except AldeskError as err:
            QMessageBox.warning(self, "aldesk", str(err))
            return False
        ws.state.reload_classes()
        return True

    # -- the rest --------------------------------------------------------------------------

    def toggle_dashboard(self) -> None:
        if self.workspace is not None:
            self.tabs.setCurrentIndex(1 - self.tabs.currentIndex())

    def show_shortcuts(self) -> None:
        sheet = dialogs.ShortcutSheet(self)
        sheet.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        sheet.show()

    def edit_settings(self) -> None:
        dialogs.SettingsDialog(self.settings, self).exec()
        if self.workspace is not None:
            self.workspace.labeling.refresh_panels()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.close_project()
        self.runner.shutdown()
        self.compute.shutdown()
        super().closeEvent(event)
