"""Adding a folder to a project, and finding moved files again.

`sync_folder` brings a project's view of one folder up to date: new files become items, changed
files are re-indexed, files gone from the folder are marked missing (their labels stay), and a
file that turns up elsewhere with the content key of a missing item takes that item over, so a
moved or renamed folder keeps all its labels. A labeled file overwritten with other content (a
camera that writes `latest.jpg` again) shows a picture the label was not given to: its label
is cleared, as an annotation of its own, so the history keeps it and the item is to be
labeled again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from aldesk.core.errors import InputError, require_folder
from aldesk.core.jobs import Job, step
from aldesk.core.pathtext import printable
from aldesk.core.types import FoundFile
from aldesk.io.headers import file_info
from aldesk.io.render import max_pixels
from aldesk.io.scan import index_folder
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import items as store_items


@dataclass
class SyncReport:
    folder: str
    added: int = 0
    changed: int = 0
    relinked: int = 0
    missing: int = 0
    unchanged: int = 0
    unreadable: list[str] = field(default_factory=list)
    changed_ids: list[int] = field(default_factory=list)  # items whose file changed
    #: Paths of labeled files overwritten with other content: their labels were cleared.
    relabel: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.added} new", f"{self.changed} changed", f"{self.relinked} relinked",
                 f"{self.missing} missing", f"{self.unchanged} unchanged"]
        if self.unreadable:
            parts.append(f"{len(self.unreadable)} unreadable")
        text = f"{self.folder}: " + ", ".join(parts)
        if self.relabel:
            text += (f"; {len(self.relabel)} labeled files now hold other images, their labels "
                     f"are cleared (kept in the history), e.g. {self.relabel[0]}")
        return text


def sync_folder(project: Project, folder: Path, job: Job | None = None) -> SyncReport:
    """Index `folder` into the project (adding it as a source if new); one transaction."""
    folder = Path(folder).expanduser()
    require_folder(folder)
    _refuse_overlap(project, folder)
    source = store_items.source_for(project, folder)
    known = {} if source is None else {
        i.rel_path: (i.size, i.mtime, i.content_key)
        for i in store_items.list_items(project, source.id) if i.status != "missing"}
    found, problems = index_folder(folder, job, known)
    report = _sync(project, folder, found, problems)
    read_pending_headers(project, job)
    return report


def read_pending_headers(project: Project, job: Job | None = None, batch: int = 500) -> int:
    """Read the headers of items not yet looked at: size, frames, status and the allow-listed
    metadata. Committed in batches, so a cancelled or interrupted run resumes where it was."""
    pending = store_items.pending_items(project)
    paths = store_items.item_paths(project)
    salt = project.meta("project_id") or ""
    limit = max_pixels()
    rows = []
    for n, item in enumerate(pending):
        step(job, n, len(pending), "reading headers", every=200)
        info = file_info(paths[item.id], item.kind, limit, salt)
        rows.append((item.id, info.kind, info.status, info.reason, info.width, info.height,
                     info.frames, json.dumps(info.meta, sort_keys=True)))
        if len(rows) >= batch:
            store_items.set_decoded(project, rows)
            rows = []
    if rows:
        store_items.set_decoded(project, rows)
    if job is not None:
        job.progress(len(pending), len(pending), "reading headers")
    return len(pending)


def _refuse_overlap(project: Project, folder: Path) -> None:
    """A file must belong to one source only, or it would become two items."""
    here = folder.resolve()
    for s in store_items.list_sources(project):
        there = s.root.resolve()
        if here == there:
            continue
        if here.is_relative_to(there):
            raise InputError(f"{folder} is inside {there}, which the project already has")
        if there.is_relative_to(here):
            raise InputError(f"{folder} contains {there}, which the project already has; "
                             "add the other folders next to it one by one")


def _sync(project: Project, folder: Path, found: list[FoundFile], problems: list[str]
          ) -> SyncReport:
    report = SyncReport(folder=str(folder.resolve()), unreadable=problems)
    with project.transaction():
        source = store_items.add_source(project, folder)
        known = {i.rel_path: i for i in store_items.list_items(project, source.id)}
        paths = store_items.item_paths(project)
        new: list[FoundFile] = []
        claimed: set[int] = set()
        for f in found:
            item = known.pop(f.rel_path, None)
            if item is None:
                twin = _missing_twin(project, f, paths, claimed)
                if twin is None:
                    new.append(f)
                else:
                    store_items.update_file(project, twin, f, source_id=source.id)
                    claimed.add(twin)
                    report.relinked += 1
                    # a file renamed within this folder: its old name is not "missing"
                    for rel, old in list(known.items()):
                        if old.id == twin:
                            del known[rel]
            elif item.status == "missing":  # the file came back
                store_items.update_file(project, item.id, f)
                report.relinked += 1
            elif (item.size, item.mtime) != (f.size, f.mtime):
                store_items.update_file(project, item.id, f)
                report.changed += 1
                report.changed_ids.append(item.id)
                if f.content_key != item.content_key and _clear_label(project, item.id):
                    report.relabel.append(printable(f.rel_path))
            else:
                report.unchanged += 1
        report.added = store_items.insert_items(project, source.id, new) if new else 0
        gone = [i.id for i in known.values() if i.status != "missing"]
        store_items.set_missing(project, gone)
        report.missing = len(gone)
        store_items.remove_empty_sources(project)
    return report


def _clear_label(project: Project, item_id: int) -> bool:
    """Clears the item's label, skip or unsure, if it has one; whether it had."""
    if store_ann.current(project, item_id) is None:
        return False
    store_ann.record(project, item_id, "clear", annotator="aldesk", origin="file-changed")
    return True


def _missing_twin(
    project: Project, f: FoundFile, paths: dict[int, Path], claimed: set[int]
) -> int | None:
    """An unclaimed item with the same content key whose own file is gone, if any."""
    for item in store_items.items_with_key(project, f.content_key):
        if item.id in claimed:
            continue
        if item.status == "missing" or not paths[item.id].exists():
            return item.id
    return None


def relink_source(project: Project, old_folder: str, new_folder: Path,
                  job: Job | None = None) -> SyncReport:
    """Tell the project that a source folder now lives at `new_folder`.

    Refused when `new_folder` is already one of the project's folders, or when too few of its
    files match the old folder's by content: labels must never move onto other images.
    """
    source = _find_source(project, old_folder)
    new_folder = Path(new_folder).expanduser()
    require_folder(new_folder)
    other = store_items.source_for(project, new_folder)
    if other is not None and other.id != source.id:
        raise InputError(f"{new_folder} is already a folder of this project")
    found, problems = index_folder(new_folder, job)
    keys = {f.content_key for f in found}
    old_keys = [i.content_key for i in store_items.list_items(project, source.id)]
    matching = sum(k in keys for k in old_keys)
    if old_keys and matching < max(1, len(old_keys) // 2):
        raise InputError(
            f"{new_folder} does not look like the moved folder: only {matching} of "
            f"{len(old_keys)} files match by content. Use 'aldesk add-folder' to add it as a "
            "new folder instead"
        )
    store_items.move_source(project, source.id, new_folder)
    report = _sync(project, new_folder, found, problems)
    read_pending_headers(project, job)
    return report


def _find_source(project: Project, name: str) -> store_items.Source:
    wanted = name.rstrip("/\\") or name
    for s in store_items.list_sources(project):
        candidates = {s.path.rstrip("/"), s.abs_path.rstrip("/"), str(s.root)}
        if wanted in candidates or Path(wanted).expanduser().resolve() == s.root.resolve():
            return s
    raise InputError(f"the project has no folder {name}")
