"""Importing labels from a CSV file (columns `path,label`), all or nothing."""

from __future__ import annotations

import contextlib
import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

from aldesk.core.errors import InputError
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes
from aldesk.store import items as store_items

#: Separates the classes of one item in multi-label projects, in CSV files both ways.
MULTI_SEPARATOR = ";"


@dataclass
class ImportReport:
    rows: int = 0
    labeled: int = 0
    unchanged: int = 0
    added_classes: list[str] = field(default_factory=list)
    skipped_unmatched: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (f"{self.rows} rows: {self.labeled} labels written, {self.unchanged} unchanged "
                "(already labeled so)")
        if self.added_classes:
            text += f"; new classes: {', '.join(self.added_classes)}"
        if self.skipped_unmatched:
            text += f"; {len(self.skipped_unmatched)} paths not in the project were skipped"
        return text


def read_label_csv(path: Path) -> list[dict[str, str]]:
    """Rows of a label CSV with lower-case column names; needs `path` and `label` columns."""
    if not path.is_file():
        raise InputError(f"{path} does not exist")
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            fields = [(h or "").strip().lower() for h in reader.fieldnames or []]
            if "path" not in fields or "label" not in fields:
                raise InputError(f"{path.name} needs a header row with columns 'path' and 'label'")
            reader.fieldnames = fields
            return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    except UnicodeDecodeError as err:
        raise InputError(f"{path.name} is not UTF-8 text") from err
    except csv.Error as err:
        raise InputError(f"{path.name} is not a readable CSV file: {err}") from err


def _norm(path: str | Path) -> str:
    return os.path.normcase(os.path.normpath(str(path)))


class _PathIndex:
    """Finds the item a CSV path means: absolute, or relative to a source folder, the
    project's folder or the CSV file's folder. A `content_key` column wins when present."""

    def __init__(self, project: Project, csv_folder: Path) -> None:
        self.csv_folder = csv_folder
        self.by_abs: dict[str, int] = {}
        self.by_rel: dict[str, set[int]] = {}
        self.by_key: dict[str, set[int]] = {}
        project_dir = project.folder.resolve()
        roots = {s.id: s.root for s in store_items.list_sources(project)}
        for item in store_items.list_items(project):
            full = roots[item.source_id] / item.rel_path
            self.by_abs[_norm(full)] = item.id
            self.by_rel.setdefault(_norm(item.rel_path), set()).add(item.id)
            with contextlib.suppress(ValueError):
                self.by_rel.setdefault(_norm(os.path.relpath(full, project_dir)), set()).add(
                    item.id)
            self.by_key.setdefault(item.content_key, set()).add(item.id)

    def find(self, raw: str, key: str = "") -> set[int]:
        if key and key in self.by_key:
            return self.by_key[key]
        raw = raw.replace("\\", "/")
        if os.path.isabs(raw):
            hit = self.by_abs.get(_norm(Path(raw).resolve()))
            return {hit} if hit else set()
        ids = set(self.by_rel.get(_norm(raw), set()))
        hit = self.by_abs.get(_norm((self.csv_folder / raw).resolve()))
        if hit:
            ids.add(hit)
        return ids


def _listing(problems: list[str], limit: int = 3) -> str:
    more = f" and {len(problems) - limit} more" if len(problems) > limit else ""
    return "; ".join(problems[:limit]) + more


def import_labels(
    project: Project,
    csv_path: Path,
    *,
    annotator: str,
    add_classes: bool = False,
    skip_unmatched: bool = False,
) -> ImportReport:
    """Label items from a CSV file in one transaction: every row is valid, or nothing changes.

    An `annotator` column, when present and filled, names who gave each label.
    """
    rows = read_label_csv(csv_path)
    index = _PathIndex(project, csv_path.resolve().parent)
    known = {c.name.lower(): c for c in store_classes.list_classes(project)}
    report = ImportReport(rows=len(rows))
    wanted: dict[int, tuple[tuple[str, ...], str, int]] = {}
    unmatched, ambiguous, invalid, conflicts, unknown = [], [], [], [], []
    for line, row in enumerate(rows, start=2):
        where = f"line {line} ({row['path'] or 'no path'})"
        names = tuple(dict.fromkeys(n.strip() for n in row["label"].split(MULTI_SEPARATOR)
                                    if n.strip()))
        if not row["path"] or not names:
            invalid.append(f"{where}: path and label are both needed")
            continue
        if project.label_mode == "single" and len(names) > 1:
            invalid.append(f"{where}: one class per item in this project")
            continue
        ids = index.find(row["path"], row.get("content_key", ""))
        if not ids:
            unmatched.append(row["path"])
            continue
        if len(ids) > 1:
            ambiguous.append(f"{where}: matches {len(ids)} items")
            continue
        item_id = ids.pop()
        unknown += [n for n in names if n.lower() not in known and n not in unknown]
        who = row.get("annotator") or annotator
        previous = wanted.get(item_id)
        if previous and {n.lower() for n in previous[0]} != {n.lower() for n in names}:
            conflicts.append(f"{where}: line {previous[2]} gives the same item another label")
        wanted[item_id] = (names, who, line)
    if invalid:
        raise InputError(f"{csv_path.name}: {_listing(invalid)}")
    if ambiguous:
        raise InputError(f"{csv_path.name}: ambiguous paths, {_listing(ambiguous)}")
    if conflicts:
        raise InputError(f"{csv_path.name}: {_listing(conflicts)}")
    if unmatched and not skip_unmatched:
        raise InputError(
            f"{csv_path.name}: {len(unmatched)} paths are not in the project "
            f"({_listing(unmatched)}); nothing imported. Use --skip-unmatched to import the rest"
        )
    if unknown and not add_classes:
        raise InputError(
            f"{csv_path.name}: unknown classes {', '.join(unknown)}; nothing imported. "
            "Use --add-classes to create them"
        )
    report.skipped_unmatched = unmatched
    with project.transaction():
        if unknown:
            store_classes.add_classes(project, unknown)
            report.added_classes = unknown
            known = {c.name.lower(): c for c in store_classes.list_classes(project)}
        current = store_ann.current_all(project)
        # A class merged into another since the CSV was written: its labels go to the target.
        merged = store_classes.resolve_merges(list(known.values()))
        for item_id, (names, who, _line) in wanted.items():
            class_ids = tuple(sorted({merged[known[n.lower()].id] for n in names}))
            state = current.get(item_id)
            if state and state.kind == "label" and state.class_ids == class_ids:
                report.unchanged += 1
                continue
            store_ann.record(project, item_id, "label", class_ids, annotator=who,
                             origin="import")
            report.labeled += 1
    return report
