"""Classes: add, rename, archive, merge, hotkeys.

Classes are never deleted, so no label ever loses its class. Merging A into B marks A as
merged; A's labels then count as B everywhere, while the annotation rows keep saying A.
"""

from __future__ import annotations

import sqlite3

from aldesk.core.clock import utc_now
from aldesk.core.errors import LabelError
from aldesk.core.hotkeys import RESERVED, assign_hotkeys
from aldesk.core.types import ClassInfo
from aldesk.store.project import Project

#: Okabe-Ito and Tableau hues, readable on dark and light backgrounds; reused cyclically.
PALETTE = (
    "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2",
    "#d55e00", "#cc79a7", "#8c8c8c", "#9467bd", "#17becf",
)
MAX_NAME = 64


def _row(r: sqlite3.Row) -> ClassInfo:
    return ClassInfo(r["id"], r["name"], r["hotkey"], r["colour"], r["position"],
                     bool(r["archived"]), r["merged_into"])


def list_classes(project: Project, *, include_inactive: bool = True) -> list[ClassInfo]:
    rows = project.conn.execute("SELECT * FROM classes ORDER BY position, id").fetchall()
    out = [_row(r) for r in rows]
    return out if include_inactive else [c for c in out if c.active]


def get_class(project: Project, name: str) -> ClassInfo:
    r = project.conn.execute("SELECT * FROM classes WHERE name = ?", (name.strip(),)).fetchone()
    if r is None:
        raise LabelError(f"there is no class named {name!r}")
    return _row(r)


def clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise LabelError("a class name cannot be empty")
    if len(name) > MAX_NAME:
        raise LabelError(f"class name {name[:20]!r}... is longer than {MAX_NAME} characters")
    if any(not ch.isprintable() for ch in name) or ";" in name:
        raise LabelError(f"class name {name!r} contains a control character or ';'")
    return name


def _exists(project: Project, name: str) -> bool:
    q = "SELECT 1 FROM classes WHERE name = ?"
    return project.conn.execute(q, (name,)).fetchone() is not None


def add_classes(project: Project, names: list[str]) -> list[ClassInfo]:
    """Add classes in order, with hotkeys per `core.hotkeys`. Names must be new."""
    names = [clean_name(n) for n in names]
    seen: set[str] = set()
    for n in names:
        if n.lower() in seen:
            raise LabelError(f"class {n!r} is listed twice")
        if _exists(project, n):
            raise LabelError(f"class {n!r} already exists")
        seen.add(n.lower())
    existing = list_classes(project)
    keys = assign_hotkeys(names, [c.hotkey for c in existing if c.hotkey],
                          first_position=len([c for c in existing if c.active]) + 1)
    start = max((c.position for c in existing), default=0) + 1
    now = utc_now()
    with project.transaction() as conn:
        for i, (name, key) in enumerate(zip(names, keys, strict=True)):
            pos = start + i
            conn.execute(
                "INSERT INTO classes (name, hotkey, colour, position, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (name, key, PALETTE[(pos - 1) % len(PALETTE)], pos, now),
            )
    return [get_class(project, n) for n in names]


def rename_class(project: Project, old: str, new: str) -> ClassInfo:
    """Rename a class; its labels follow it (they point at the class, not the name)."""
    cls = get_class(project, old)
    new = clean_name(new)
    if new.lower() != cls.name.lower() and _exists(project, new):
        raise LabelError(f"class {new!r} already exists; merge {cls.name!r} into it instead")
    with project.transaction() as conn:
        conn.execute("UPDATE classes SET name = ? WHERE id = ?", (new, cls.id))
    return get_class(project, new)


def set_hotkey(project: Project, name: str, key: str | None) -> ClassInfo:
    cls = get_class(project, name)
    if key is not None:
        key = key.lower()
        if len(key) != 1 or key in RESERVED:
            raise LabelError(f"{key!r} cannot be a class hotkey (one key, not S, U, F, W, ?)")
        clash = project.conn.execute(
            "SELECT name FROM classes WHERE hotkey = ? AND id != ?", (key, cls.id)
        ).fetchone()
        if clash:
            raise LabelError(f"key {key!r} already labels class {clash['name']!r}")
    with project.transaction() as conn:
        conn.execute("UPDATE classes SET hotkey = ? WHERE id = ?", (key, cls.id))
    return get_class(project, cls.name)


def archive_class(project: Project, name: str, archived: bool = True) -> ClassInfo:
    """Hide a class from labeling (its hotkey is freed); its labels stay as they are."""
    cls = get_class(project, name)
    if cls.merged_into is not None and not archived:
        raise LabelError(f"class {cls.name!r} was merged into another class")
    with project.transaction() as conn:
        if archived:
            conn.execute("UPDATE classes SET archived = 1, hotkey = NULL WHERE id = ?", (cls.id,))
        else:
            taken = [c.hotkey for c in list_classes(project) if c.hotkey]
            key = assign_hotkeys([cls.name], taken, first_position=cls.position)[0]
            conn.execute("UPDATE classes SET archived = 0, hotkey = ? WHERE id = ?",
                         (key, cls.id))
    return get_class(project, cls.name)


def merge_classes(project: Project, source: str, target: str) -> ClassInfo:
    """Merge `source` into `target`: every label of `source` now counts as `target`."""
    src, dst = get_class(project, source), get_class(project, target)
    if src.id == dst.id:
        raise LabelError("a class cannot be merged into itself")
    if not src.active or not dst.active:
        inactive = src if not src.active else dst
        raise LabelError(f"class {inactive.name!r} is archived or merged; restore it first")
    with project.transaction() as conn:
        conn.execute(
            "UPDATE classes SET merged_into = ?, archived = 1, hotkey = NULL WHERE id = ?",
            (dst.id, src.id),
        )
    return get_class(project, dst.name)


def resolve_merges(classes: list[ClassInfo]) -> dict[int, int]:
    """class id -> the id its labels count as, following merges to the end of the chain."""
    parent = {c.id: c.merged_into for c in classes}
    out: dict[int, int] = {}
    for cid in parent:
        seen, cur = {cid}, cid
        while parent.get(cur) is not None and parent[cur] not in seen:
            cur = parent[cur]  # type: ignore[assignment]
            seen.add(cur)
        out[cid] = cur
    return out
