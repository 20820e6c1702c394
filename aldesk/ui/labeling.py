"""Labeling: what is on screen, keyboard acts as commands, and the place in the list.

Every act is committed to the project file before the next item shows (the command's `do()`
returns only after SQLite's commit with synchronous=FULL).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from aldesk.core.commands import UndoStack
from aldesk.core.errors import AldeskError
from aldesk.core.types import Provenance
from aldesk.io.render import Rendered
from aldesk.services.browse import Place, filtered, queue_with_audits
from aldesk.services.explain import AUDIT_WHY, why
from aldesk.services.labeling import ActiveTimer, LabelCommand, SessionStats
from aldesk.store import items as store_items
from aldesk.ui.class_panel import ClassPanel
from aldesk.ui.loader import ImageKey, ImageLoader
from aldesk.ui.meta_panel import MetadataPanel
from aldesk.ui.queue_panel import QueuePanel
from aldesk.ui.settings import Settings
from aldesk.ui.state import ProjectState
from aldesk.ui.viewer_panel import ViewerPanel

log = logging.getLogger(__name__)
PREFETCH = 3
BURNED_IN_WARNING = ("This image probably carries burned-in patient text: "
                     "do not share screenshots of it.")


class LabelingController(QObject):
    labeled = Signal()  # the labels the model trains on changed (the trainer counts these)
    message = Signal(str)  # something the user should read in the status bar

    def __init__(self, state: ProjectState, loader: ImageLoader, viewer: ViewerPanel,
                 classes: ClassPanel, queue: QueuePanel, meta: MetadataPanel,
                 settings: Settings) -> None:
        super().__init__()
        self.state, self.loader, self.viewer = state, loader, viewer
        self.classes, self.queue, self.meta, self.settings = classes, queue, meta, settings
        self.place = Place()
        self.undo_stack = UndoStack()
        self.timer = ActiveTimer()
        self.stats = SessionStats(self.timer)
        self.filter: tuple[str, int | None] = ("unlabeled", None)
        self.rendered: Rendered | None = None
        self.shown_item: int | None = None  # the item whose pixels are in the viewer
        # The list on screen was built before any ranking and nobody has acted on it yet: the
        # first ranking may replace all of it, so a project opens on its best item.
        self._placeholder = False
        loader.loaded.connect(self._image_loaded)
        loader.rewindowed.connect(self._rewindowed)
        viewer.viewer.window_requested.connect(self._window_requested)
        viewer.frame_changed.connect(self._frame_changed)
        queue.item_chosen.connect(self.go_to)
        queue.filter_changed.connect(self.set_filter)
        classes.class_chosen.connect(self.label)
        classes.skip_requested.connect(self.skip)
        classes.unsure_requested.connect(self.unsure)
        classes.accept_requested.connect(self.accept)
        state.ranking_changed.connect(self.apply_ranking)
        state.classes_changed.connect(self._classes_changed)
        state.items_changed.connect(self.refilter)
        self._classes_changed(show=False)

    # -- the list ------------------------------------------------------------------------

    @property
    def current(self) -> int | None:
        return self.place.current

    def _rows(self, keep_current: bool = True) -> list[int]:
        """The list to work through; in the ranked queue, one position in ten is an audit
        item (`browse.with_audits`) when a committee exists and audits are on. The item on
        screen (when it stays there) keeps whatever it was when it came up."""
        name, class_id = self.filter
        ranking = self.state.ranking
        shown = self.current if keep_current else None
        was_audit = shown is not None and shown in self.state.audits
        audits: set[int] = set()
        if (name == "unlabeled" and ranking is not None and ranking.probs is not None
                and self.settings.audits):
            rows, audits = queue_with_audits(self.state.index, self.state.labels, ranking)
        else:
            rows = filtered(name, self.state.index, self.state.labels, ranking, class_id)
        if shown is not None and was_audit:
            audits.add(shown)
        elif shown is not None:
            audits.discard(shown)
        self.state.audits = audits
        return rows

    def start(self) -> None:
        self._placeholder = self.state.ranking is None and self.filter[0] == "unlabeled"
        self.place.reset(self._rows())
        self.queue.show_rows(self.place.rows, self.current)
        self.show_current()

    def set_filter(self, name: str, class_id: int | None) -> None:
        self._acted()
        self.filter = (name, class_id)
        self.refilter()

    def refilter(self) -> None:
        keep = self.current
        self.place.reset(self._rows(), keep=keep)
        self.queue.show_rows(self.place.rows, self.current)
        if self.current != keep:
            self.show_current()

    def apply_ranking(self) -> None:
        """A new ranking replaces what lies ahead; the item on screen and the way back stay
        (unless nothing has been done yet since the project opened: then it starts at the top)."""
        if self._placeholder:
            self._placeholder = False
            self.place.reset(self._rows(keep_current=False))
            self.queue.show_rows(self.place.rows, self.current)
            self.show_current()
            return
        if self.filter[0] == "unlabeled":
            self.place.replace_ahead(self._rows())
            self.queue.show_rows(self.place.rows, self.current)
        else:
            self.refilter()
        if self.current is None and self.place.rows:
            self.place.go(0)
            self.show_current()
        else:
            self._update_panels(self.current)
            self._prefetch()  # what lies ahead has changed: the next key must find it decoded

    # -- navigation ----------------------------------------------------------------------

    def _acted(self) -> None:
        """The user did something (moved, labeled, changed the window or the list)."""
        self._placeholder = False
        self.timer.touch()

    def go_to(self, item_id: int) -> None:
        self._acted()
        if not self.place.go_to_item(item_id):
            self.place.rows.insert(self.place.pos + 1, item_id)
            self.place.next()
            self.queue.show_rows(self.place.rows, item_id)
        self.show_current()

    def next(self) -> None:
        self._acted()
        if self.place.at_end():
            self.message.emit("End of the list.")
            return
        self.place.next()
        self.show_current()

    def previous(self) -> None:
        self._acted()
        if self.place.pos > 0:
            self.place.previous()
            self.show_current()

    def show_current(self, keep_view: bool = False) -> None:
        item_id = self.current
        self.shown_item = None
        self.queue.select(item_id)
        self.timer.start_item()
        if item_id is None:
            self.rendered = None
            name = self.filter[0]
            done = ("Nothing left to label here. Retrain (Ctrl+R) for a new ranking, or pick "
                    "another list on the left." if name == "unlabeled"
                    else "This list is empty.")
            self.viewer.show_message("", done)
            self.classes.show_item((), {}, 0, None, "")
            self.meta.show_meta("", {})
            return
        self.loader.request(ImageKey(item_id, None), self.state.index.path(item_id),
                            self.state.index.rows[item_id].kind)
        self._update_panels(item_id)
        self._prefetch()

    def _prefetch(self) -> None:
        index = self.state.index
        ahead = self.place.rows[self.place.pos + 1: self.place.pos + 1 + PREFETCH]
        if self.place.pos > 0:
            ahead.append(self.place.rows[self.place.pos - 1])
        self.loader.prefetch([(ImageKey(i, None), index.path(i), index.rows[i].kind)
                              for i in ahead if index.rows.get(i) and
                              index.rows[i].status == "ok"])

    def _image_loaded(self, key: ImageKey, rendered: Rendered | None, error: str) -> None:
        if key.item_id != self.current:
            return
        name = self.state.index.name(key.item_id)
        if rendered is None:
            self.rendered = None
            self.viewer.show_message(name, f"This file cannot be shown: {error}")
            self.shown_item = key.item_id
            self._mark_error(key.item_id, error)
            return
        keep = key.frame is not None  # a frame change keeps zoom and pan
        self.rendered = rendered
        self.viewer.show_image(rendered, name, self._warning(key.item_id), keep_view=keep)
        self.shown_item = key.item_id

    def _mark_error(self, item_id: int, error: str) -> None:
        row = self.state.index.rows.get(item_id)
        if row is not None and row.status == "ok":
            store_items.set_error(self.state.project, [(item_id, error)])
            self.state.index.refresh([item_id])
            self.queue.model.changed(item_id)

    def _warning(self, item_id: int) -> str | None:
        meta = self.state.index.meta(item_id)
        return BURNED_IN_WARNING if meta.get("burned_in") in ("yes", "likely") else None

    def _frame_changed(self, frame: int) -> None:
        self._placeholder = False
        item_id = self.current
        if item_id is not None:
            self.loader.request(ImageKey(item_id, frame), self.state.index.path(item_id),
                                self.state.index.rows[item_id].kind)

    def _window_requested(self, window: object) -> None:
        self._placeholder = False
        if self.current is not None and self.rendered is not None:
            self.loader.rewindow(self.current, self.rendered, window)  # type: ignore[arg-type]

    def _rewindowed(self, item_id: int, pixels: object, window: object) -> None:
        if item_id == self.current:
            self.viewer.viewer.set_pixels(pixels, window)

    # -- panels --------------------------------------------------------------------------

    def suggestion(self, item_id: int | None) -> int | None:
        """The committee's class for the item, when suggestions are on and one exists."""
        if item_id is None or not self.settings.suggestions or item_id in self.state.audits:
            return None
        cid = self._guess(item_id)
        active = {c.id for c in self.state.active_classes()}
        return cid if cid in active else None

    def _guess(self, item_id: int) -> int | None:
        """The committee's top class for the item, shown or not; None without a committee."""
        ranking = self.state.ranking
        found = None if ranking is None else ranking.prediction(item_id)
        if found is None or ranking is None:
            return None
        return ranking.class_ids[int(found[0].argmax())]

    def _update_panels(self, item_id: int | None) -> None:
        if item_id is None:
            return
        ranking = self.state.ranking
        names = self.state.class_names()
        prediction: dict[int, tuple[float, int]] = {}
        audit = item_id in self.state.audits
        found = None if ranking is None or audit else ranking.prediction(item_id)
        if found is not None and ranking is not None:
            for j, cid in enumerate(ranking.class_ids):
                prediction[cid] = (float(found[0][j]), int(found[1][j]))
        label = self.state.label_of(item_id)
        current = label.class_ids if label is not None and label.kind == "label" else ()
        status = AUDIT_WHY if audit else why(ranking, item_id, names)
        if label is not None:
            what = {"label": "Labeled " + ", ".join(names.get(c, "?") for c in current),
                    "skip": "Skipped", "unsure": "Marked unsure"}.get(label.kind, "")
            status = f"{what} by {label.annotator}. " + status
        self.classes.show_item(current, prediction, 0 if ranking is None else ranking.members,
                               self.suggestion(item_id), status)
        self.meta.show_meta(self.state.index.name(item_id), self.state.index.meta(item_id))

    def refresh_panels(self) -> None:
        self._update_panels(self.current)

    def _classes_changed(self, show: bool = True) -> None:
        self.classes.set_classes(self.state.active_classes())
        if show:
            self._update_panels(self.current)

    # -- acts ----------------------------------------------------------------------------

    def _provenance(self, item_id: int, suggested: int | None) -> Provenance:
        ranking = self.state.ranking
        found = None if ranking is None else ranking.rank_of(item_id)
        score = None if found is None or found[1] != found[1] else found[1]
        shown = suggested is not None
        if item_id in self.state.audits:  # the hidden guess, to compare with the blind label
            suggested, shown = self._guess(item_id), False
        return Provenance(
            model_version=None if ranking is None else ranking.model_version,
            score=score, rank=None if found is None else found[0],
            suggestion_shown=shown, suggested_class_id=suggested)

    def _act(self, kind: str, class_ids: tuple[int, ...], text: str) -> bool:
        self._placeholder = False
        item_id = self.current
        if item_id is None:
            return False
        suggested = self.suggestion(item_id)
        audit = item_id in self.state.audits
        before = self.state.label_of(item_id)
        # A skip, an unsure mark or the same class again leaves the training set as it was:
        # counting them would retrain early, on fewer new labels than the setting says.
        changes_training = kind == "label" and (
            before is None or before.kind != "label" or tuple(before.class_ids) != class_ids)
        command = LabelCommand(
            self.state.project, item_id, kind, class_ids, self.settings.annotator, text,
            seconds=self.timer.item_seconds(), provenance=self._provenance(item_id, suggested),
            origin="audit" if audit else "app")
        try:
            self.undo_stack.push(command)  # committed to disk when this returns
        except AldeskError as err:
            self.message.emit(str(err))
            return False
        self.state.reload_label(item_id)
        self.stats.add(1)
        if changes_training:
            self.labeled.emit()
        if self.place.at_end():
            self._update_panels(item_id)
            self.message.emit("Saved. That was the last item of this list.")
        else:
            self.place.next()
            self.show_current()
        return True

    def label(self, class_id: int) -> bool:
        cls = self.state.class_by_id(class_id)
        if cls is None or not cls.active:
            return False
        return self._act("label", (class_id,), f"label as {cls.name}")

    def skip(self) -> bool:
        return self._act("skip", (), "skip")

    def unsure(self) -> bool:
        return self._act("unsure", (), "mark unsure")

    def accept(self) -> bool:
        suggested = self.suggestion(self.current)
        if suggested is None:
            self.message.emit("No suggestion for this item (suggestions are off, or no model "
                              "yet).")
            return False
        return self.label(suggested)

    def undo(self) -> None:
        self._history(self.undo_stack.undo, -1, "Nothing to undo.", "Undid")

    def redo(self) -> None:
        self._history(self.undo_stack.redo, 1, "Nothing to redo.", "Redid")

    def _history(self, step: object, delta: int, nothing: str, verb: str) -> None:
        try:
            command = step()  # type: ignore[operator]
        except AldeskError as err:
            self.message.emit(str(err))
            return
        if command is None:
            self.message.emit(nothing)
            return
        assert isinstance(command, LabelCommand)
        self.state.reload_label(command.item_id)
        self.stats.add(delta)
        self.message.emit(f"{verb} {command.text} of {self.state.index.name(command.item_id)}.")
        self.go_to(command.item_id)

