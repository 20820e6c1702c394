"""Labels: an append-only log of labeling acts, one committed transaction per act.

Nothing here updates or deletes a row (triggers in the schema forbid it). An item's current
label is its newest row; undo appends a row that restores the previous state and names the row
it takes back in `reverts`.
"""

from __future__ import annotations

import sqlite3

from aldesk.core.clock import utc_now
from aldesk.core.errors import LabelError
from aldesk.core.types import ANNOTATION_KINDS, LabelState, Provenance
from aldesk.store.classes import list_classes, resolve_merges
from aldesk.store.project import Project


def record(
    project: Project,
    item_id: int,
    kind: str,
    class_ids: tuple[int, ...] | list[int] = (),
    *,
    annotator: str,
    seconds_spent: float | None = None,
    origin: str = "app",
    provenance: Provenance | None = None,
    reverts: int | None = None,
) -> int:
    """Append one labeling act and commit it durably; returns the annotation id.

    A single-label project takes exactly one class per label, a multi-label project one or
    more. Archived and merged classes take no new labels ('clear' of an undo excepted).
    """
    if kind not in ANNOTATION_KINDS:
        raise LabelError(f"unknown annotation kind {kind!r}")
    ids = tuple(dict.fromkeys(int(c) for c in class_ids))
    if kind == "label":
        if not ids:
            raise LabelError("a label needs a class")
        if project.label_mode == "single" and len(ids) != 1:
            raise LabelError("this project takes one class per item")
    elif ids:
        raise LabelError(f"a {kind!r} annotation carries no class")
    if not annotator.strip():
        raise LabelError("an annotation needs an annotator")
    p = provenance or Provenance()
    with project.transaction() as conn:
        if conn.execute("SELECT 1 FROM items WHERE id = ?", (item_id,)).fetchone() is None:
            raise LabelError(f"there is no item {item_id}")
        if ids and not reverts:
            _check_active(conn, ids)
        cur = conn.execute(
            "INSERT INTO annotations (item_id, kind, annotator, created_at, seconds_spent,"
            " origin, model_version, score, rank, suggestion_shown, suggested_class_id, reverts)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                item_id, kind, annotator.strip(), utc_now(), seconds_spent, origin,
                p.model_version, p.score, p.rank,
                None if p.suggestion_shown is None else int(p.suggestion_shown),
                p.suggested_class_id, reverts,
            ),
        )
        ann_id = int(cur.lastrowid or 0)
        conn.executemany(
            "INSERT INTO annotation_classes (annotation_id, class_id) VALUES (?, ?)",
            [(ann_id, c) for c in ids],
        )
    return ann_id


def _check_active(conn: sqlite3.Connection, ids: tuple[int, ...]) -> None:
    marks = ",".join("?" * len(ids))
    rows = conn.execute(
        f"SELECT id, name, archived, merged_into FROM classes WHERE id IN ({marks})", ids
    ).fetchall()
    if len(rows) != len(ids):
        raise LabelError("a label names a class that does not exist")
    for r in rows:
        if r["archived"] or r["merged_into"] is not None:
            raise LabelError(f"class {r['name']!r} is archived and takes no new labels")


_SELECT = (
    "SELECT a.id, a.item_id, a.kind, a.annotator, a.created_at, a.seconds_spent, a.origin,"
    " group_concat(ac.class_id) AS class_ids FROM annotations a"
    " LEFT JOIN annotation_classes ac ON ac.annotation_id = a.id"
)


def _state(r: sqlite3.Row, merged: dict[int, int]) -> LabelState:
    raw = [int(x) for x in r["class_ids"].split(",")] if r["class_ids"] else []
    ids = tuple(sorted(dict.fromkeys(merged.get(c, c) for c in raw)))
    return LabelState(r["id"], r["item_id"], r["kind"], ids, r["annotator"], r["created_at"],
                      r["seconds_spent"], r["origin"])


def current_all(project: Project, *, include_cleared: bool = False) -> dict[int, LabelState]:
    """item id -> its current label, for every item that has one (class merges applied)."""
    merged = resolve_merges(list_classes(project))
    rows = project.conn.execute(
        _SELECT + " JOIN (SELECT item_id, MAX(id) AS last FROM annotations GROUP BY item_id) l"
        " ON l.last = a.id GROUP BY a.id"
    ).fetchall()
    states = (_state(r, merged) for r in rows)
    return {s.item_id: s for s in states if include_cleared or s.kind != "clear"}


def current(project: Project, item_id: int) -> LabelState | None:
    """The item's current label, or None if it has none (never labeled, or cleared)."""
    merged = resolve_merges(list_classes(project))
    r = project.conn.execute(
        _SELECT + " WHERE a.id = (SELECT MAX(id) FROM annotations WHERE item_id = ?)"
        " GROUP BY a.id",
        (item_id,),
    ).fetchone()
    if r is None:
        return None
    state = _state(r, merged)
    return None if state.kind == "clear" else state


def history(project: Project, item_id: int) -> list[LabelState]:
    """Every annotation row of an item, oldest first."""
    merged = resolve_merges(list_classes(project))
    rows = project.conn.execute(
        _SELECT + " WHERE a.item_id = ? GROUP BY a.id ORDER BY a.id", (item_id,)
    ).fetchall()
    return [_state(r, merged) for r in rows]


def count_rows(project: Project) -> int:
    return int(project.conn.execute("SELECT COUNT(*) FROM annotations").fetchone()[0])
