"""Exporting labels: CSV, JSON, or a folder per class with copies of the files.

Exports carry no patient data: paths, classes, annotators and times only, and DICOM files in a
folder export are de-identified copies (`io.dicom_deid`).
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from aldesk import __version__
from aldesk.core.errors import InputError
from aldesk.core.jobs import Job, step
from aldesk.core.pathtext import printable
from aldesk.io.dicom_deid import deidentify
from aldesk.services.labels_io import MULTI_SEPARATOR
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes
from aldesk.store import items as store_items

FORMATS = ("csv", "json", "folders")
CSV_COLUMNS = ("path", "label", "annotator", "labeled_at", "seconds_spent", "content_key", "kind")


@dataclass
class ExportReport:
    out: Path
    items: int = 0
    files_missing: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"wrote {self.items} labeled items to {self.out}"
        if self.files_missing:
            text += f"; {len(self.files_missing)} files were not found and left out"
        return text


def labeled_rows(project: Project) -> Iterator[dict[str, object]]:
    """One row per item whose current label is a class, in item order."""
    names = {c.id: c.name for c in store_classes.list_classes(project)}
    paths = store_items.item_paths(project)
    states = store_ann.current_all(project)
    base = project.folder.resolve()
    for item in store_items.list_items(project):
        state = states.get(item.id)
        if state is None or state.kind != "label":
            continue
        full = paths[item.id]
        try:
            shown = Path(os.path.relpath(full, base)).as_posix()
        except ValueError:
            shown = full.as_posix()
        yield {
            "path": printable(shown),
            "label": MULTI_SEPARATOR.join(names[c] for c in state.class_ids),
            "classes": [names[c] for c in state.class_ids],
            "annotator": state.annotator,
            "labeled_at": state.created_at,
            "seconds_spent": state.seconds_spent,
            "content_key": item.content_key,
            "kind": item.kind,
            "_file": full,
        }


def _atomic_write(out: Path, write: Callable[[TextIO], object]) -> None:
    """Write through a temporary file beside `out`, replacing `out` only when complete."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            write(f)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_labels(project: Project, fmt: str, out: Path, job: Job | None = None) -> ExportReport:
    if fmt not in FORMATS:
        raise InputError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    out = Path(out).expanduser()
    if not out.parent.is_dir():
        raise InputError(f"folder {out.parent} does not exist")
    if fmt != "folders" and out.is_dir():
        raise InputError(f"{out} is a folder; give the {fmt} file's name")
    rows = list(labeled_rows(project))
    report = ExportReport(out=out, items=len(rows))
    if fmt == "csv":
        def write_csv(f: TextIO) -> None:
            w = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
        _atomic_write(out, write_csv)
    elif fmt == "json":
        doc = {
            "format": "aldesk-labels",
            "format_version": 1,
            "aldesk_version": __version__,
            "project_id": project.meta("project_id"),
            "label_mode": project.label_mode,
            "classes": [
                {"name": c.name, "hotkey": c.hotkey, "archived": c.archived}
                for c in store_classes.list_classes(project) if c.merged_into is None
            ],
            "items": [{k: v for k, v in r.items() if k not in ("_file", "label")} for r in rows],
        }
        _atomic_write(out, lambda f: json.dump(doc, f, indent=1, ensure_ascii=False))
    else:
        _export_folders(project, rows, out, report, job)
    return report


def _safe_name(name: str) -> str:
    bad = '<>:"/\\|?*'
    cleaned = "".join("_" if ch in bad or ord(ch) < 32 else ch for ch in name).strip(". ")
    return cleaned or "_"


def _class_folders(project: Project) -> dict[str, str]:
    """class name -> a folder name of its own, even when two names clean up alike."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for c in store_classes.list_classes(project):
        name, n = _safe_name(c.name), 1
        while name.lower() in taken:
            n += 1
            name = f"{_safe_name(c.name)}-{n}"
        taken.add(name.lower())
        out[c.name] = name
    return out


def _export_folders(project: Project, rows: list[dict[str, object]], out: Path,
                    report: ExportReport, job: Job | None) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out} exists and is not an empty folder")
    out.mkdir(exist_ok=True)
    salt = project.meta("project_id") or ""
    folders = _class_folders(project)
    used: set[str] = set()
    for n, row in enumerate(rows):
        step(job, n, len(rows), "copying files", every=1)
        src = Path(str(row["_file"]))
        if not src.is_file():
            report.files_missing.append(str(row["path"]))
            continue
        for cls in row["classes"]:  # type: ignore[attr-defined]
            folder = out / folders[str(cls)]
            folder.mkdir(exist_ok=True)
            # DICOM file names often carry patient names or IDs: name copies by content key.
            is_image = row["kind"] == "image"
            name = _safe_name(src.name) if is_image else f"{row['content_key']}.dcm"
            target = folder / name
            stem, suffix = target.stem, target.suffix
            k = 1
            while target.as_posix().lower() in used:
                k += 1
                target = folder / f"{stem}-{k}{suffix}"
            used.add(target.as_posix().lower())
            if is_image:
                shutil.copyfile(src, target)
            else:
                try:
                    deidentify(src, target, salt)
                except Exception as err:  # unreadable DICOM: leave it out, say so
                    report.files_missing.append(f"{row['path']} ({err})")
    report.items -= len(report.files_missing)
    if job is not None:
        job.progress(len(rows), len(rows), "copying files")
