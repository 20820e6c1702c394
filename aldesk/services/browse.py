"""What the app lists: a light index of the project's items, filters, and the place in a queue.

No Qt. The index holds one small row per item (read once when a project opens, ~100k rows in
well under a second); richer details (metadata) are read per item when it is shown.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from aldesk.core.heap import collector_paused
from aldesk.core.pathtext import ENCODED_MARK, from_db, printable
from aldesk.core.types import LabelState
from aldesk.services.ranking import Ranking
from aldesk.store import Project
from aldesk.store import items as store_items

FILTERS = ("unlabeled", "labeled", "skipped", "unsure", "disputed", "errors")


class Row(NamedTuple):
    """One item as the lists show it (a tuple: 100k of them build in a tenth of a second)."""

    id: int
    source_id: int
    rel_path: str
    content_key: str
    kind: str
    status: str
    reason: str | None
    frames: int


@dataclass(frozen=True, slots=True)
class IndexRows:
    """What a `ProjectIndex` holds, read apart from it (`read_index`), so that a window can have
    its worker read a 100k-item project (~0.3 s) while it keeps answering."""

    roots: dict[int, Path]  # source id -> folder
    rows: dict[int, Row]  # item id -> row, in id order
    unusable: set[int]  # items whose status is not "ok"
    ok: np.ndarray  # int64 ids of the items whose status is "ok", ascending


def read_index(project: Project) -> IndexRows:
    """Every item's row; one SQL pass, no per-row queries."""
    roots = {s.id: s.root for s in store_items.list_sources(project)}
    with collector_paused():
        cursor = project.conn.execute(
            "SELECT id, source_id, rel_path, content_key, kind, status, reason,"
            " COALESCE(frames, 1) FROM items ORDER BY id")
        cursor.row_factory = None  # plain tuples, whatever the connection's default
        rows: dict[int, Row] = {r[0]: r for r in map(Row._make, cursor)}
        for i, r in rows.items():  # names stored as bytes: rare, decoded here
            if r.rel_path.startswith(ENCODED_MARK):
                rows[i] = r._replace(rel_path=from_db(r.rel_path))
        unusable = {i for i, r in rows.items() if r.status != "ok"}
        ok = _ok_ids(rows, unusable)
    return IndexRows(roots, rows, unusable, ok)


def _ok_ids(rows: dict[int, Row], unusable: set[int]) -> np.ndarray:
    ids = np.fromiter(rows, np.int64, len(rows))
    if unusable:
        ids = ids[~np.isin(ids, np.fromiter(unusable, np.int64, len(unusable)))]
    return np.sort(ids)


def read_index_at(path: Path) -> IndexRows:
    """`read_index` over a connection of its own, for a worker thread while the window holds
    the project open."""
    with Project.attach(path) as project:
        return read_index(project)


class ProjectIndex:
    """Every item of the project by id, with where its file is now. `rows`, if given, were
    read from this project just before (`read_index_at` in the worker)."""

    def __init__(self, project: Project, rows: IndexRows | None = None) -> None:
        self._project = project
        #: Items this thread re-read one by one (e.g. marked unreadable as they were shown):
        #: an index the worker read may predate that, so `replace` reads them again.
        self._touched: set[int] = set()
        self._take(rows or read_index(project))

    def _take(self, data: IndexRows) -> None:
        self._roots = data.roots
        self.rows = data.rows
        self._unusable = data.unusable
        self._ok: np.ndarray | None = data.ok

    def ok_ids(self) -> np.ndarray:
        """int64 ids of the usable items (status "ok"), ascending; do not modify."""
        if self._ok is None:
            self._ok = _ok_ids(self.rows, self._unusable)
        return self._ok

    def replace(self, rows: IndexRows) -> None:
        """Takes every row as read again from this project by the worker (`read_index_at`),
        except the items this thread changed since its own last full read, read again here."""
        self._take(rows)
        self._read_rows(self._touched)

    def __len__(self) -> int:
        return len(self.rows)

    def unusable(self) -> set[int]:
        """Items that cannot be shown (error, missing) or are not read yet (pending)."""
        return self._unusable

    def path(self, item_id: int) -> Path:
        row = self.rows[item_id]
        return self._roots[row.source_id] / row.rel_path

    def name(self, item_id: int) -> str:
        """The item's path inside its folder, printable even for undecodable file names."""
        return printable(self.rows[item_id].rel_path)

    def meta(self, item_id: int) -> dict[str, Any]:
        """Allow-listed attributes plus size, read from the project when asked."""
        r = self._project.conn.execute(
            "SELECT meta, width, height, frames, size, kind, status, reason FROM items"
            " WHERE id = ?", (item_id,)).fetchone()
        if r is None:
            return {}
        meta: dict[str, Any] = json.loads(r[0] or "{}")
        out: dict[str, Any] = {"kind": r[5], "status": r[6]}
        if r[7]:
            out["problem"] = r[7]
        if r[1] and r[2]:
            out["size"] = f"{r[1]} × {r[2]}"
        if r[3] and r[3] > 1:
            out["frames"] = r[3]
        out["file size"] = _bytes(r[4])
        out.update(meta)
        return out

    def refresh(self, item_ids: Iterable[int] | None = None) -> None:
        """Re-read rows (all, or the given ones) after a scan or a job changed them."""
        if item_ids is None:
            self._take(read_index(self._project))
            self._touched.clear()
            return
        item_ids = set(item_ids)
        self._touched |= item_ids
        self._read_rows(item_ids)

    def _read_rows(self, item_ids: Iterable[int]) -> None:
        for item_id in item_ids:
            r = self._project.conn.execute(
                "SELECT id, source_id, rel_path, content_key, kind, status, reason, frames"
                " FROM items WHERE id = ?", (item_id,)).fetchone()
            if r is not None:
                self._ok = None
                self.rows[r[0]] = Row(r[0], r[1], from_db(r[2]), r[3], r[4], r[5], r[6],
                                      r[7] or 1)
                if r[5] == "ok":
                    self._unusable.discard(r[0])
                else:
                    self._unusable.add(r[0])


def _bytes(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def _without(ids: np.ndarray, drop: Iterable[int]) -> list[int]:
    """`ids` in order, less those in `drop` (vectorised: a 100k queue in ~2 ms, not ~10)."""
    gone = np.fromiter(drop, np.int64)
    if len(gone):
        ids = ids[~np.isin(ids, gone)]
    return ids.tolist()  # type: ignore[no-any-return]


def unranked_order(ids: Iterable[int]) -> list[int]:
    """The unlabeled items before any ranking exists (the model is still reading them): a
    fixed pseudo-random order, the same on every open and for each item whatever else the
    project holds. Not file order, in which a camera's consecutive frames or the first class's
    subfolder would take all the first labels."""
    arr = ids.astype(np.int64) if isinstance(ids, np.ndarray) else np.fromiter(ids, np.int64)
    return arr[np.argsort(_mix(arr), kind="stable")].tolist()  # type: ignore[no-any-return]


#: One position in this many of the ranked queue (the 10th, 20th, ...) holds an audit item,
#: within the first AUDIT_HORIZON positions (more than a session labels between two rankings).
AUDIT_EVERY = 10
AUDIT_HORIZON = 2000


def with_audits(ranked: list[int] | np.ndarray, every: int = AUDIT_EVERY,
                horizon: int = AUDIT_HORIZON, lead: int = 0) -> tuple[list[int], set[int]]:
    """The ranked queue with every `every`-th position given to an *audit* item instead: an
    unlabeled item drawn at random (the first in `unranked_order` not yet drawn, which knows
    nothing of the model), labeled with the model's guess hidden, so that the agreement
    between the two estimates the model's accuracy on the unlabeled items without bias
    (`services.audit`). The first `lead` items (stream arrivals admitted as informative) keep
    their place and are not drawn. Returns (rows, audit ids): the same items in another
    order."""
    arr = np.asarray(ranked, np.int64)  # no copy for the queue's own array
    if lead > 0:
        rows, audits = with_audits(arr[lead:], every, horizon)
        return arr[:lead].tolist() + rows, audits
    n_audits = min(len(arr), horizon) // every if every >= 2 else 0
    if n_audits == 0:
        return arr.tolist(), set()  # type: ignore[no-any-return]
    keys = _mix(arr)
    drawn = np.argpartition(keys, n_audits - 1)[:n_audits] if n_audits < len(arr) else \
        np.arange(len(arr))
    drawn = drawn[np.argsort(keys[drawn], kind="stable")]  # positions in `arr`, draw order
    audits = arr[drawn]
    rest = np.delete(arr, drawn)
    head = np.empty(n_audits * every, np.int64)
    slots = np.zeros(len(head), bool)
    slots[every - 1::every] = True
    head[slots] = audits
    head[~slots] = rest[:len(head) - n_audits]
    out = np.concatenate([head, rest[len(head) - n_audits:]])
    return out.tolist(), set(audits.tolist())


def queue_with_audits(index: ProjectIndex, labels: dict[int, LabelState], ranking: Ranking,
                      every: int = AUDIT_EVERY) -> tuple[list[int], set[int]]:
    """`filtered("unlabeled", ...)` with audit items (`with_audits`), in one pass over the
    ranking's array: a 100k queue costs the window a few ms more, not a second list."""
    done = np.fromiter(_done(labels, index), np.int64)
    queue = ranking.queue[~np.isin(ranking.queue, done)] if len(done) else ranking.queue
    lead = 0
    while lead < len(queue) and int(queue[lead]) in ranking.admitted:
        lead += 1  # stream arrivals admitted as informative stay in front, undrawn
    return with_audits(queue, every, lead=lead)


def _mix(ids: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each id (the splitmix64 finaliser; wraps around by design)."""
    z = ids.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _done(labels: dict[int, LabelState], index: ProjectIndex) -> set[int]:
    """Items the unlabeled queue leaves out: answered (label, skip, unsure) or unusable."""
    done = {i for i, s in labels.items() if s.kind in ("label", "skip", "unsure")}
    return done | index.unusable()


def filtered(name: str, index: ProjectIndex, labels: dict[int, LabelState],
             ranking: Ranking | None, class_id: int | None = None) -> list[int]:
    """Item ids a filter lists, in the order they are worked through.

    unlabeled: the ranked queue (items the model has not scored go last), or before the first
    ranking `unranked_order`; labeled / by class,
    skipped, unsure: in the order they were labeled; disputed: labels the committee doubts
    most first; errors: items that cannot be shown.
    """
    if name == "unlabeled":
        done = _done(labels, index)
        if ranking is not None:  # the worker's order already holds every usable item
            return _without(ranking.queue, done)
        ok = index.ok_ids()
        if done:
            ok = ok[~np.isin(ok, np.fromiter(done, np.int64, len(done)))]
        return unranked_order(ok)
    if name in ("labeled", "skipped", "unsure"):
        kind = {"labeled": "label", "skipped": "skip", "unsure": "unsure"}[name]
        chosen = [s for s in labels.values() if s.kind == kind
                  and (class_id is None or class_id in s.class_ids)]
        return [s.item_id for s in sorted(chosen, key=lambda s: s.annotation_id)]
    if name == "disputed":
        single = {i: s.class_ids[0] for i, s in labels.items()
                  if s.kind == "label" and len(s.class_ids) == 1}
        return [] if ranking is None else [i for i, _ in ranking.disputed(single)]
    if name == "errors":
        return [i for i, r in index.rows.items() if r.status in ("error", "missing")]
    raise ValueError(f"unknown filter {name!r}")


class Place:
    """The list being worked through and the position in it.

    A new ranking replaces what lies ahead but keeps what the user has already seen, up to and
    including the item on screen: the place is never lost.
    """

    def __init__(self, rows: list[int] | None = None) -> None:
        self.rows: list[int] = list(rows or [])
        self.pos = 0

    @property
    def current(self) -> int | None:
        return self.rows[self.pos] if 0 <= self.pos < len(self.rows) else None

    def go(self, pos: int) -> int | None:
        if self.rows:
            self.pos = max(0, min(pos, len(self.rows) - 1))
        return self.current

    def go_to_item(self, item_id: int) -> bool:
        try:
            self.pos = self.rows.index(item_id)
        except ValueError:
            return False
        return True

    def next(self) -> int | None:
        return self.go(self.pos + 1)

    def previous(self) -> int | None:
        return self.go(self.pos - 1)

    def at_end(self) -> bool:
        return self.pos >= len(self.rows) - 1

    def replace_ahead(self, ahead: list[int]) -> None:
        """Keep rows[:pos + 1]; what follows becomes `ahead` (without repeats)."""
        kept = self.rows[: self.pos + 1]
        self.rows = kept + _without(np.asarray(ahead, np.int64), kept)

    def reset(self, rows: list[int], keep: int | None = None) -> None:
        """A new list (another filter); stays on `keep` when the list has it."""
        self.rows = list(rows)
        self.pos = 0
        if keep is not None:
            self.go_to_item(keep)

