"""The window, driven as a user would: keys, clicks, jobs, the start page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from aldesk.services.ingest import sync_folder
from aldesk.services.ranking import Ranking
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory):
    from conftest import make_digit_folder

    return make_digit_folder(tmp_path_factory.mktemp("digits"), 120)


@pytest.fixture
def project_path(tmp_path, digit_folder):
    path = tmp_path / "digits.aldesk"
    with Project.create(path) as p:
        store_classes.add_classes(p, [str(i) for i in range(10)])
        sync_folder(p, digit_folder)
    return path


@pytest.fixture
def window(qtbot):
    from aldesk.ui import theme
    from aldesk.ui.main_window import MainWindow

    theme.apply(QApplication.instance())
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def _idle(qtbot, window, timeout=60_000):
    qtbot.waitUntil(lambda: not window.runner.is_busy(), timeout=timeout)
    QApplication.processEvents()


def _open(qtbot, window, path):
    assert window.open_project(path)
    _idle(qtbot, window)
    ws = window.workspace
    qtbot.waitUntil(lambda: ws.labeling.rendered is not None, timeout=10_000)
    return ws


def _key(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier):
    window.activateWindow()
    qtbot.keyClick(window, key, modifier)
    QApplication.processEvents()


def test_opening_a_project_goes_straight_to_labeling(qtbot, window, project_path):
    ws = _open(qtbot, window, project_path)
    assert window.pages.currentWidget() is window.tabs
    assert ws.labeling.current is not None
    assert ws.state.ranking is not None and ws.state.ranking.strategy == "typicality"
    assert window.windowTitle().startswith("digits")
    assert ws.queue.model.rowCount() == 120
    # the ranking's first item is on screen and selected in the queue, not whichever item
    # was shown while the ranking was computed
    assert ws.labeling.current == ws.state.ranking.queue[0]
    assert ws.queue.view.currentIndex().row() == 0


@pytest.mark.parametrize("acted", [False, True])
def test_the_first_ranking_replaces_the_list_only_if_nothing_was_done(qtbot, window,
                                                                      project_path, acted):
    ws = _open(qtbot, window, project_path)
    ws.state.ranking = None  # as just after opening: the list is in unranked order
    ws.labeling.start()
    if acted:
        _key(qtbot, window, Qt.Key.Key_Right)
    on_screen = ws.labeling.current
    unlabeled = sorted(ws.state.index.rows)  # file order: not how the unranked list starts
    assert on_screen != unlabeled[0]
    ws.state.set_ranking(Ranking(None, "random", np.array(unlabeled), np.zeros(len(unlabeled))))
    if acted:  # the user's place is kept
        assert ws.labeling.current == on_screen
    else:
        assert ws.labeling.current == unlabeled[0]
        assert ws.labeling.place.rows == unlabeled


def test_class_hotkey_labels_commits_and_advances(qtbot, window, project_path):
    ws = _open(qtbot, window, project_path)
    first = ws.labeling.current
    _key(qtbot, window, Qt.Key.Key_3)
    with Project.open(project_path, readonly=True) as reader:  # another connection sees it
        state = store_ann.current(reader, first)
    assert state is not None and state.kind == "label"
    assert ws.state.class_names()[state.class_ids[0]] == "3"
    assert ws.labeling.current != first
    assert state.seconds_spent is not None


def test_skip_unsure_undo_redo_and_arrows(qtbot, window, project_path):
    ws = _open(qtbot, window, project_path)
    a = ws.labeling.current
    _key(qtbot, window, Qt.Key.Key_S)
    b = ws.labeling.current
    _key(qtbot, window, Qt.Key.Key_U)
    assert store_ann.current(ws.project, a).kind == "skip"
    assert store_ann.current(ws.project, b).kind == "unsure"
    _key(qtbot, window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert store_ann.current(ws.project, b) is None
    assert ws.labeling.current == b  # undo shows the item it took back
    _key(qtbot, window, Qt.Key.Key_Z,
         Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert store_ann.current(ws.project, b).kind == "unsure"
    _key(qtbot, window, Qt.Key.Key_Left)
    assert ws.labeling.current == a
    _key(qtbot, window, Qt.Key.Key_Right)
    assert ws.labeling.current == b


def test_mouse_labels_too(qtbot, window, project_path):
    ws = _open(qtbot, window, project_path)
    item = ws.labeling.current
    seven = next(c for c in ws.state.classes if c.name == "7")
    qtbot.mouseClick(ws.classes.buttons[seven.id], Qt.MouseButton.LeftButton)
    assert store_ann.current(ws.project, item).class_ids == (seven.id,)


def test_add_rename_and_merge_classes_mid_project(qtbot, window, project_path, monkeypatch):
    from PySide6.QtWidgets import QInputDialog

    ws = _open(qtbot, window, project_path)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("smudge", True))
    window.add_class()
    smudge = next(c for c in ws.state.classes if c.name == "smudge")
    assert smudge.id in ws.classes.buttons and smudge.hotkey  # a key of its own at once
    item = ws.labeling.current
    _key(qtbot, window, getattr(Qt.Key, f"Key_{smudge.hotkey.upper()}"))
    assert store_ann.current(ws.project, item).class_ids == (smudge.id,)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("blot", True))
    window.rename_class(smudge.id)
    assert ws.state.class_names()[smudge.id] == "blot"
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    zero = next(c for c in ws.state.classes if c.name == "0")
    window.merge_class(smudge.id, zero.id)
    assert smudge.id not in ws.classes.buttons
    assert ws.state.labels[item].class_ids == (zero.id,)


def test_a_new_ranking_keeps_the_item_on_screen(qtbot, window, project_path):
    ws = _open(qtbot, window, project_path)
    for _ in range(3):
        _key(qtbot, window, Qt.Key.Key_S)
    on_screen, seen = ws.labeling.current, ws.labeling.place.rows[:4]
    unlabeled = [i for i in ws.state.index.rows if i not in seen]
    new = Ranking(None, "random", np.array(unlabeled[::-1]), np.zeros(len(unlabeled)))
    ws.state.set_ranking(new)
    assert ws.labeling.current == on_screen
    assert ws.labeling.place.rows[:4] == seen  # the way back is kept
    assert ws.labeling.place.rows[4] == unlabeled[-1]  # ahead: the new order
    # ... and is decoded ahead of time, so the next key finds it ready
    from aldesk.ui.loader import ImageKey

    qtbot.waitUntil(lambda: ws.loader.cached(ImageKey(unlabeled[-1], None)) is not None,
                    timeout=5_000)


def test_dashboard_is_redrawn_when_it_comes_into_view(qtbot, window, project_path):
    ws = _open(qtbot, window, project_path)

    def heights() -> list[float]:
        return [float(h) for h in ws.dashboard.class_bars.opts["height"]]

    _key(qtbot, window, Qt.Key.Key_3)  # one label while the viewer is in front
    assert not ws.dashboard.isVisible() and not ws.dashboard.built  # no plots for nobody
    window.tabs.setCurrentWidget(ws.dashboard)
    QApplication.processEvents()
    assert sum(heights()) == 1  # built and drawn as it comes into view
    ws.labeling.label(ws.state.active_classes()[0].id)  # labeling with it in view
    assert sum(heights()) == 2


def test_training_in_the_background_after_n_labels(qtbot, window, project_path):
    window.settings.retrain_every = 20
    ws = _open(qtbot, window, project_path)
    names = {c.name: c.id for c in ws.state.classes}
    for _ in range(20):  # the oracle: the folder name is the digit
        item = ws.labeling.current
        ws.labeling.label(names[ws.state.index.rows[item].rel_path.split("/")[0]])
    _idle(qtbot, window)
    ranking = ws.state.ranking
    assert ranking.model_version == 1 and ranking.labels_used == 20
    assert "model v1" in ws.status.model.text()
    assert ranking.prediction(ws.labeling.current) is not None
    window.tabs.setCurrentWidget(ws.dashboard)
    QApplication.processEvents()
    assert ("When to stop:</b> needs two model versions trained at least 20"
            in ws.dashboard.stopping.text())


def test_only_acts_that_change_the_training_labels_count_towards_a_retrain(
        qtbot, window, project_path):
    window.settings.retrain_every = 3
    ws = _open(qtbot, window, project_path)
    names = {c.name: c.id for c in ws.state.classes}
    retrains = []
    window.runner.started.connect(lambda job_id, kind, title: retrains.append(title))

    def truth(item):
        return names[ws.state.index.rows[item].rel_path.split("/")[0]]

    ws.labeling.skip()
    ws.labeling.unsure()
    first = ws.labeling.current
    ws.labeling.label(truth(first))
    for _ in range(3):  # the same class again, three times: the labels are as they were
        ws.labeling.go_to(first)
        ws.labeling.label(truth(first))
    _idle(qtbot, window)
    assert retrains == []
    ws.labeling.go_to(first)
    wrong = next(c for c in names.values() if c != truth(first))
    ws.labeling.label(wrong)  # a correction changes what the model trains on: it counts
    _idle(qtbot, window)
    assert retrains == []
    ws.labeling.label(truth(ws.labeling.current))
    _idle(qtbot, window)
    assert retrains == ["Retraining (3 new labels)"]


def test_retrain_on_open_when_labels_are_newer_than_the_model(qtbot, window, project_path):
    with Project.open(project_path) as p:
        ids = {c.name: c.id for c in store_classes.list_classes(p)}
        for r in p.conn.execute("SELECT id, rel_path FROM items LIMIT 30").fetchall():
            store_ann.record(p, r[0], "label", [ids[r[1].split("/")[0]]], annotator="t")
    ws = _open(qtbot, window, project_path)
    assert ws.state.ranking.model_version == 1


def test_a_failing_job_becomes_a_dialog(qtbot, window, project_path):
    _open(qtbot, window, project_path)

    def broken(job):
        raise RuntimeError("the disk fell off")

    window.runner.submit("x", "Broken job", broken)
    qtbot.waitUntil(lambda: any(isinstance(d, QMessageBox) and d.isVisible()
                                for d in window.dialogs), timeout=5000)
    box = next(d for d in window.dialogs if isinstance(d, QMessageBox))
    assert "the disk fell off" in box.text()
    assert "Traceback" in box.detailedText()
    box.close()


def test_unreadable_file_gets_a_message_not_a_crash(qtbot, window, tmp_path):
    from PIL import Image

    folder = tmp_path / "imgs"
    folder.mkdir()
    Image.new("L", (32, 32), 90).save(folder / "good.png")
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nthis is not really a png")
    path = tmp_path / "bad.aldesk"
    with Project.create(path) as p:
        store_classes.add_classes(p, ["a", "b"])
        sync_folder(p, folder)
    assert window.open_project(path)
    _idle(qtbot, window)
    ws = window.workspace
    ws.queue.set_filter("errors")
    assert [ws.state.index.name(i) for i in ws.labeling.place.rows] == ["bad.png"]


def test_start_page_new_project_flow(qtbot, window, tmp_path, digit_folder, monkeypatch):
    from aldesk.ui.new_project import NewProjectDialog

    def fill(dialog):
        dialog.name.setText("fresh")
        dialog.location.setText(str(tmp_path))
        dialog._add(digit_folder)
        dialog.classes.setText("zero, one, two")
        assert dialog.create.isEnabled()
        return NewProjectDialog.DialogCode.Accepted

    monkeypatch.setattr(NewProjectDialog, "exec", fill)
    qtbot.mouseClick(window.start_page.new_button, Qt.MouseButton.LeftButton)
    _idle(qtbot, window)
    ws = window.workspace
    assert ws is not None and ws.state.path == tmp_path / "fresh.aldesk"
    assert len(ws.state.index) == 120  # the folder was read by the worker
    assert [c.name for c in ws.state.classes] == ["zero", "one", "two"]
    qtbot.waitUntil(lambda: ws.labeling.current is not None, timeout=10_000)


def test_new_project_form_explains_problems(qtbot, tmp_path):
    from aldesk.ui.new_project import NewProjectDialog

    dialog = NewProjectDialog()
    qtbot.addWidget(dialog)
    assert not dialog.create.isEnabled()
    assert dialog.problems.text() == ""  # nothing typed yet: no scolding
    dialog.name.setText("x")
    dialog.location.setText(str(tmp_path / "nope"))
    assert "does not exist" in dialog.problems.text()
    dialog.classes.setText("a, b, A")
    assert "listed twice" in dialog.problems.text() or not dialog.create.isEnabled()
    assert "Keys:" in dialog.keys.text()


def test_recent_projects_and_closing(qtbot, window, project_path):
    _open(qtbot, window, project_path)
    window.close_project()
    assert window.pages.currentWidget() is window.start_page
    assert window.start_page.recent.count() == 1
    item = window.start_page.recent.item(0)
    window.start_page._chosen(item)
    _idle(qtbot, window)
    assert window.workspace is not None and window.workspace.state.path == project_path


def _slow_index(monkeypatch):
    """The worker's index read waits for the returned event (as a 100k project's would)."""
    import threading

    from aldesk.ui import main_window

    go = threading.Event()
    real = main_window.read_index_at

    def read(path):
        assert go.wait(30)
        return real(path)

    monkeypatch.setattr(main_window, "read_index_at", read)
    return go


def test_the_index_is_read_by_the_worker_while_the_window_answers(qtbot, window, project_path,
                                                                   monkeypatch):
    go = _slow_index(monkeypatch)
    assert window.open_project(project_path)
    for _ in range(5):  # the UI thread goes on handling events meanwhile
        QApplication.processEvents()
    assert window.workspace is None and window.runner.is_busy()
    assert window.status.isVisible()
    go.set()
    _idle(qtbot, window)
    ws = window.workspace
    assert ws is not None and len(ws.state.index) == 120
    qtbot.waitUntil(lambda: ws.labeling.rendered is not None, timeout=10_000)
    assert ws.state.ranking is not None


def test_closing_or_switching_while_the_index_is_read(qtbot, window, project_path, tmp_path,
                                                      digit_folder, monkeypatch):
    """A project closed (or another opened) before its index arrives is let go at once: its
    lock is released and the late index installs nothing."""
    other = tmp_path / "other.aldesk"
    with Project.create(other) as p:
        store_classes.add_classes(p, ["a", "b"])
    go = _slow_index(monkeypatch)
    assert window.open_project(project_path)
    window.close_project()
    assert window.pages.currentWidget() is window.start_page
    Project.open(project_path).close()  # not locked any more
    assert window.open_project(project_path)
    assert window.open_project(other)  # switch before the first index came
    go.set()
    _idle(qtbot, window)
    assert window.workspace is not None and window.workspace.state.path == other
    assert len(window.workspace.state.index) == 0
    Project.open(project_path).close()
    window.close_project()
    go.clear()
    assert window.open_project(project_path)
    window.runner.cancel()  # the status bar's Cancel while it opens
    go.set()
    _idle(qtbot, window)
    assert window.workspace is None and window.pages.currentWidget() is window.start_page
    Project.open(project_path).close()


def test_an_index_that_cannot_be_read_leaves_the_start_page_and_a_message(
        qtbot, window, project_path, monkeypatch):
    from aldesk.core.errors import AldeskError
    from aldesk.ui import main_window

    def broken(path):
        raise AldeskError("the items table is unreadable")

    monkeypatch.setattr(main_window, "read_index_at", broken)
    assert window.open_project(project_path)
    _idle(qtbot, window)
    assert window.workspace is None
    assert window.pages.currentWidget() is window.start_page
    assert [d.text() for d in window.dialogs if d.isVisible()] == [
        "the items table is unreadable"]
    Project.open(project_path).close()  # let go
    # The index came, but the window cannot be built on it (a defect, or a damaged file)
    import sqlite3

    monkeypatch.undo()

    def damaged(*args, **kwargs):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(main_window, "Workspace", damaged)
    assert window.open_project(project_path)
    _idle(qtbot, window)
    assert window.workspace is None and window.pages.currentWidget() is window.start_page
    assert any("malformed" in d.text() for d in window.dialogs if d.isVisible())
    Project.open(project_path).close()


def test_the_demo_opens_over_an_open_project_without_waiting_out_the_worker(
        qtbot, window, project_path, tmp_path, monkeypatch):
    """The demo job's result opens the demo, closing the open project first. Closing waits
    for the worker to be idle, which it never was while it still delivered the demo's own
    result: a 10 s freeze until the wait gave up."""
    _open(qtbot, window, project_path)
    demo = tmp_path / "demo.aldesk"
    with Project.create(demo) as p:
        store_classes.add_classes(p, ["a", "b"])
    idle_after_wait = []
    wait = window._wait_idle

    def recorded(timeout_s: float = 10.0) -> None:
        wait(timeout_s)
        idle_after_wait.append(not window.runner.is_busy())

    monkeypatch.setattr(window, "_wait_idle", recorded)
    window.runner.submit("demo", "Preparing the demo project", lambda job: demo)
    qtbot.waitUntil(lambda: window.workspace is not None and window.workspace.state.path == demo,
                    timeout=20_000)
    _idle(qtbot, window)
    assert idle_after_wait and all(idle_after_wait)


def test_second_window_on_the_same_project_is_refused(qtbot, window, project_path,
                                                       monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: shown.append(a[2]))
    holder = Project.open(project_path)
    try:
        assert not window.open_project(project_path)
    finally:
        holder.close()
    assert "already open" in shown[0]


def test_no_top_level_widgets_leak(qtbot, project_path):
    from aldesk.ui.main_window import MainWindow

    before = set(QApplication.topLevelWidgets())
    w = MainWindow()
    w.show()
    assert w.open_project(project_path)
    _idle(qtbot, w)
    w.show_shortcuts()
    w.close()
    w.deleteLater()
    for _ in range(5):
        QApplication.processEvents()
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    left = [x for x in QApplication.topLevelWidgets() if x not in before and x.isVisible()]
    assert left == []


def test_window_opens_straight_from_the_command_line(tmp_path, project_path, monkeypatch):
    from aldesk import app

    opened = []
    monkeypatch.setattr("aldesk.ui.app.run", lambda project=None, demo=False:
                        opened.append((project, demo)) or 0)
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.main([str(project_path)]) == 0
    assert app.main(["demo"]) == 0
    assert opened == [(Path(project_path), False), (None, True)]


def test_stream_mode_takes_in_new_files(qtbot, window, project_path, tmp_path, digit_folder,
                                        monkeypatch):
    import shutil

    from aldesk.services.browse import ProjectIndex

    full_reads = []  # by the window itself: new files' index comes read by the worker
    refresh = ProjectIndex.refresh
    monkeypatch.setattr(ProjectIndex, "refresh", lambda self, ids=None: (
        full_reads.append(1) if ids is None else None, refresh(self, ids))[1])

    window.settings.retrain_every = 0
    ws = _open(qtbot, window, project_path)
    names = {c.name: c.id for c in ws.state.classes}
    for _ in range(30):
        item = ws.labeling.current
        ws.labeling.label(names[ws.state.index.rows[item].rel_path.split("/")[0]])
    ws.training.retrain()
    _idle(qtbot, window)
    assert ws.state.ranking.model_version == 1
    watched = tmp_path / "incoming"
    watched.mkdir()
    reports = []
    ws.stream.report.connect(reports.append)
    ws.stream.watch(watched, budget=1.0)  # a budget of 1: everything informative may queue
    assert window.status.watching.text() == "watching incoming"
    _idle(qtbot, window)
    before = len(ws.state.index)
    for k, src in enumerate(sorted(digit_folder.rglob("*.png"))[:6]):
        shutil.copy(src, watched / f"new-{k}.png")
    ws.stream.poll()
    _idle(qtbot, window)
    assert len(ws.state.index) == before + 6  # indexed, all of them
    assert full_reads == []
    arrived = [r for r in reports if r.arrived]
    assert arrived and arrived[-1].arrived == 6
    queued = set(ws.state.ranking.admitted)
    assert len(queued) == len(arrived[-1].admitted)  # the admitted ones lead the queue
    if queued:
        rows = ws.labeling.place.rows
        ahead = rows[ws.labeling.place.pos + 1:]
        assert set(ahead[:len(queued)]) == queued
    ws.stream.stop()
    assert window.status.watching.text() == ""


def test_an_idle_spell_collects_and_gives_memory_back_once(qtbot, window, project_path,
                                                           monkeypatch):
    from aldesk.core import malloc
    from aldesk.ui import workspace

    ws = _open(qtbot, window, project_path)
    calls: list[str] = []
    monkeypatch.setattr(workspace.heap, "full_collect", lambda: calls.append("collect"))
    monkeypatch.setattr(malloc, "release_freed_memory", lambda: calls.append("trim"))
    idle_for = [10.0]
    monkeypatch.setattr(ws.labeling.timer, "idle_for", lambda: idle_for[0])
    ws._collect_when_idle()  # the user is labeling
    assert calls == []
    idle_for[0] = workspace.IDLE_COLLECT_S + 1
    ws._collect_when_idle()
    ws._collect_when_idle()  # the same idle spell: nothing more to give back
    assert calls == ["collect", "trim"]
    idle_for[0] = 1.0  # a key, then idle again
    ws._collect_when_idle()
    idle_for[0] = workspace.IDLE_COLLECT_S + 1
    ws._collect_when_idle()
    assert calls == ["collect", "trim"] * 2


def test_settings_live_under_aldesk_home(aldesk_home):
    """A script or a second setup with its own ALDESK_HOME (the screenshots script, a test
    run) keeps its settings there, never in the user's."""
    from aldesk.ui.settings import Settings

    Settings().annotator = "dr.lee"
    stored = aldesk_home / "config" / "aldesk.conf"
    assert stored.is_file() and "dr.lee" in stored.read_text()
    assert Settings().annotator == "dr.lee"


def test_every_tenth_item_is_an_audit_labeled_blind_and_measured(qtbot, window,
                                                                 project_path):
    with Project.open(project_path) as p:  # a model exists: the queue holds audits
        ids = {c.name: c.id for c in store_classes.list_classes(p)}
        for r in p.conn.execute("SELECT id, rel_path FROM items LIMIT 30").fetchall():
            store_ann.record(p, r[0], "label", [ids[r[1].split("/")[0]]], annotator="t")
    ws = _open(qtbot, window, project_path)
    ranking = ws.state.ranking
    assert ranking.model_version == 1
    ahead = ws.labeling.place.rows[ws.labeling.place.pos:]
    drawn = sum(i in ws.state.audits for i in ahead)  # one in ten (give or take the item
    assert len(ahead) // 10 - 1 <= drawn <= len(ahead) // 10 + 1  # kept on screen)
    truth = {i: ids[r.rel_path.split("/")[0]] for i, r in ws.state.index.rows.items()}
    for _ in range(11):  # ordinary items, whose guess is offered, up to the first audit
        if ws.labeling.current in ws.state.audits:
            break
        assert ws.labeling.suggestion(ws.labeling.current) is not None
        ws.labeling.label(truth[ws.labeling.current])
    audit = ws.labeling.current
    assert audit in ws.state.audits
    assert ws.labeling.suggestion(audit) is None  # blind: no guess, no votes, no Space
    assert ws.classes.status.text().startswith("Audit: drawn at random")
    assert not ws.labeling.accept()
    guess = ranking.class_ids[int(ranking.prediction(audit)[0].argmax())]
    ws.labeling.label(truth[audit])
    row = ws.project.conn.execute(
        "SELECT origin, suggestion_shown, suggested_class_id, model_version FROM annotations"
        " WHERE item_id = ?", (audit,)).fetchone()
    assert tuple(row) == ("audit", 0, guess, 1)
    right = guess == truth[audit]
    assert ws.audit is not None and (ws.audit.audits, ws.audit.correct) == (1, int(right))
    assert "on 1 audit item" in ws.status.model.text() and "%-" in ws.status.model.text()
