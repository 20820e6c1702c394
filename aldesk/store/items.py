"""Sources (folders) and items (files) of a project."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aldesk.core.clock import utc_now
from aldesk.core.errors import FileGone
from aldesk.core.pathtext import from_db, to_db
from aldesk.core.types import FoundFile
from aldesk.store.project import Project


@dataclass(frozen=True, slots=True)
class Source:
    id: int
    path: str  # as stored: relative to the project's folder when possible
    abs_path: str
    root: Path  # where the folder is now: the relative path if it exists, else abs_path

    @property
    def exists(self) -> bool:
        return self.root.is_dir()


@dataclass(frozen=True, slots=True)
class Item:
    id: int
    source_id: int
    rel_path: str
    content_key: str
    kind: str
    size: int
    mtime: float
    status: str
    reason: str | None


def _stored_path(project: Project, folder: Path) -> str:
    try:
        return Path(os.path.relpath(folder, project.folder.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return folder.as_posix()


def _source(project: Project, r: sqlite3.Row) -> Source:
    stored, absolute = from_db(r["path"]), from_db(r["abs_path"])
    rel = project.folder / stored
    root = rel.resolve() if rel.is_dir() else Path(absolute)
    return Source(r["id"], stored, absolute, root)


def list_sources(project: Project) -> list[Source]:
    rows = project.conn.execute("SELECT * FROM sources ORDER BY id").fetchall()
    return [_source(project, r) for r in rows]


def source_for(project: Project, folder: Path) -> Source | None:
    folder = folder.resolve()
    return next((s for s in list_sources(project) if s.root.resolve() == folder), None)


def add_source(project: Project, folder: Path) -> Source:
    """The source for `folder`, added if the project does not have it yet."""
    folder = folder.resolve()
    found = source_for(project, folder)
    if found:
        return found
    with project.transaction() as conn:
        conn.execute(
            "INSERT INTO sources (path, abs_path, added_at) VALUES (?, ?, ?)",
            (to_db(_stored_path(project, folder)), to_db(folder.as_posix()), utc_now()),
        )
    found = source_for(project, folder)
    assert found is not None
    return found


def move_source(project: Project, source_id: int, folder: Path) -> None:
    folder = folder.resolve()
    with project.transaction() as conn:
        conn.execute("UPDATE sources SET path = ?, abs_path = ? WHERE id = ?",
                     (to_db(_stored_path(project, folder)), to_db(folder.as_posix()), source_id))


def remove_empty_sources(project: Project) -> None:
    with project.transaction() as conn:
        conn.execute("DELETE FROM sources WHERE id NOT IN (SELECT DISTINCT source_id FROM items)")


def _item(r: sqlite3.Row) -> Item:
    return Item(r["id"], r["source_id"], from_db(r["rel_path"]), r["content_key"], r["kind"],
                r["size"], r["mtime"], r["status"], r["reason"])


def list_items(project: Project, source_id: int | None = None) -> list[Item]:
    if source_id is None:
        rows = project.conn.execute("SELECT * FROM items ORDER BY id").fetchall()
    else:
        rows = project.conn.execute(
            "SELECT * FROM items WHERE source_id = ? ORDER BY id", (source_id,)
        ).fetchall()
    return [_item(r) for r in rows]


def items_by_id(project: Project, item_ids: Iterable[int]) -> list[Item]:
    """The items with these ids that exist, in id order."""
    ids = sorted(set(item_ids))
    rows: list[sqlite3.Row] = []
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        rows += project.conn.execute(
            f"SELECT * FROM items WHERE id IN ({','.join('?' * len(part))})", part).fetchall()
    return sorted((_item(r) for r in rows), key=lambda i: i.id)


def items_after(project: Project, after_id: int, also: Iterable[int] = ()) -> list[Item]:
    """Items with ids above `after_id` and those in `also`, in id order: what arrived since
    a mark, without reading every item of a large project."""
    after = [_item(r) for r in project.conn.execute(
        "SELECT * FROM items WHERE id > ? ORDER BY id", (after_id,))]
    extra = items_by_id(project, set(also) - {i.id for i in after})
    return sorted(after + extra, key=lambda i: i.id)


def get_item(project: Project, item_id: int) -> Item | None:
    r = project.conn.execute("SELECT * FROM items WHERE id = ?", (item_id,)).fetchone()
    return None if r is None else _item(r)


def items_with_key(project: Project, content_key: str) -> list[Item]:
    rows = project.conn.execute(
        "SELECT * FROM items WHERE content_key = ? ORDER BY id", (content_key,)
    ).fetchall()
    return [_item(r) for r in rows]


def item_paths(project: Project, item_ids: Iterable[int] | None = None) -> dict[int, Path]:
    """item id -> the file's current absolute path (which may no longer exist), for every
    item or for `item_ids`."""
    roots = {s.id: s.root for s in list_sources(project)}
    if item_ids is None:
        rows = project.conn.execute("SELECT id, source_id, rel_path FROM items").fetchall()
    else:
        rows = []
        wanted = list(item_ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            rows += project.conn.execute(
                "SELECT id, source_id, rel_path FROM items WHERE id IN"
                f" ({','.join('?' * len(chunk))})", chunk).fetchall()
    return {r["id"]: roots[r["source_id"]] / from_db(r["rel_path"]) for r in rows}


def insert_items(project: Project, source_id: int, files: Iterable[FoundFile]) -> int:
    now = utc_now()
    with project.transaction() as conn:
        cur = conn.executemany(
            "INSERT INTO items (source_id, rel_path, content_key, kind, size, mtime, added_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(source_id, to_db(f.rel_path), f.content_key, f.kind, f.size, f.mtime, now)
             for f in files],
        )
        return cur.rowcount


def update_file(project: Project, item_id: int, f: FoundFile, source_id: int | None = None
                ) -> None:
    """Point an item at a (new or changed) file; decoding results are reset to pending."""
    with project.transaction() as conn:
        conn.execute(
            "UPDATE items SET source_id = COALESCE(?, source_id), rel_path = ?, content_key = ?,"
            " kind = ?, size = ?, mtime = ?, status = 'pending', reason = NULL,"
            " width = NULL, height = NULL, frames = NULL WHERE id = ?",
            (source_id, to_db(f.rel_path), f.content_key, f.kind, f.size, f.mtime, item_id),
        )


def set_missing(project: Project, item_ids: Iterable[int]) -> None:
    with project.transaction() as conn:
        conn.executemany(
            "UPDATE items SET status = 'missing', reason = ? WHERE id = ?",
            [(FileGone.REASON, i) for i in item_ids],
        )


def count_by_status(project: Project) -> dict[str, int]:
    rows = project.conn.execute("SELECT status, COUNT(*) FROM items GROUP BY status").fetchall()
    return {r[0]: r[1] for r in rows}


def set_decoded(
    project: Project,
    rows: Iterable[tuple[int, str, str, str | None, int | None, int | None, int | None, str]],
) -> None:
    """Record what reading files found: (item id, kind, status, reason, width, height, frames,
    allow-listed metadata as JSON)."""
    with project.transaction() as conn:
        conn.executemany(
            "UPDATE items SET kind = ?, status = ?, reason = ?, width = ?, height = ?,"
            " frames = ?, meta = ? WHERE id = ?",
            [(kind, status, reason, w, h, f, meta, item_id)
             for item_id, kind, status, reason, w, h, f, meta in rows],
        )


def pending_items(project: Project) -> list[Item]:
    rows = project.conn.execute(
        "SELECT * FROM items WHERE status = 'pending' ORDER BY id").fetchall()
    return [_item(r) for r in rows]


def set_error(project: Project, failures: Iterable[tuple[int, str]]) -> None:
    """Mark items that could not be shown, with a one-line reason each. An item whose file
    was not found (FileGone's reason: a folder unplugged or moved) is marked missing instead:
    a re-scan or a relink that finds the file again brings it back, which it would not do for
    an unreadable file."""
    failures = list(failures)
    with project.transaction() as conn:
        conn.executemany("UPDATE items SET status = 'error', reason = ? WHERE id = ?",
                         [(reason, item_id) for item_id, reason in failures
                          if reason != FileGone.REASON])
        set_missing(project, [i for i, reason in failures if reason == FileGone.REASON])
