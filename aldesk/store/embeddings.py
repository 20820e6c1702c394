"""The embedding cache: one float16 vector per (content key, representation).

Keyed by content, not by item, so a moved or duplicated file is never embedded twice, and a
representation id that names its preprocessing keeps caches of different settings apart.
Batches are committed as they come, so an interrupted embedding run resumes where it stopped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from aldesk.core.clock import utc_now
from aldesk.store.project import Project


def cached_keys(project: Project, representation: str) -> set[str]:
    rows = project.conn.execute(
        "SELECT content_key FROM embeddings WHERE representation = ?", (representation,))
    return {r[0] for r in rows}


def put_vectors(project: Project, representation: str,
                rows: Iterable[tuple[str, np.ndarray]]) -> int:
    now = utc_now()
    data = [(key, representation, int(v.shape[0]), np.asarray(v, "<f2").tobytes(), now)
            for key, v in rows]
    with project.transaction() as conn:
        conn.executemany(
            "INSERT OR REPLACE INTO embeddings (content_key, representation, dim, vector,"
            " created_at) VALUES (?, ?, ?, ?, ?)", data)
    return len(data)


def get_vectors(project: Project, representation: str, keys: list[str]
                ) -> tuple[np.ndarray, np.ndarray]:
    """(matrix (N, D) float32, found (N,) bool) for `keys` in order; missing rows are zero.

    Rows are copied into the matrix as they are read: for a 100k-item pool that keeps the
    Python objects alive at once to one dict of keys (no 100k small arrays for the garbage
    collector to walk while the window waits for the interpreter).

    A combined id ("a+b", `ml.ids`) gives its parts' vectors side by side; a row is found
    when every part has it."""
    if "+" in representation:
        pieces = [get_vectors(project, part, keys) for part in representation.split("+")]
        found = np.logical_and.reduce([f for _, f in pieces])
        out = np.hstack([x for x, _ in pieces])
        out[~found] = 0.0
        return out, found
    found = np.zeros(len(keys), bool)
    first: dict[str, int] = {}
    repeats: list[tuple[int, int]] = []  # (index, index of the first item with that key)
    for i, key in enumerate(keys):
        j = first.setdefault(key, i)
        if j != i:
            repeats.append((i, j))
    row = project.conn.execute("SELECT dim FROM embeddings WHERE representation = ? LIMIT 1",
                               (representation,)).fetchone()
    out = np.zeros((len(keys), 0 if row is None else int(row[0])), np.float32)
    if row is None:
        return out, found
    cursor = project.conn.execute(
        "SELECT content_key, vector FROM embeddings WHERE representation = ?",
        (representation,))
    while batch := cursor.fetchmany(2048):
        for key, blob in batch:
            i = first.get(key)
            if i is not None:
                out[i] = np.frombuffer(blob, "<f2")
                found[i] = True
    for i, j in repeats:
        out[i], found[i] = out[j], found[j]
    return out, found


def missing_items(project: Project, representation: str) -> list[tuple[int, str, str]]:
    """(item id, content key, kind) of readable items whose content has no vector yet, one
    per content key, in id order."""
    rows = project.conn.execute(
        "SELECT MIN(i.id), i.content_key, i.kind FROM items i WHERE i.status = 'ok' AND NOT"
        " EXISTS (SELECT 1 FROM embeddings e WHERE e.content_key = i.content_key AND"
        " e.representation = ?) GROUP BY i.content_key ORDER BY 1", (representation,))
    return [(int(r[0]), r[1], r[2]) for r in rows]


def superseded(project: Project, representation: str) -> list[str]:
    """Older versions of `representation` ("name/size/v2" for ".../v3") still stored: a newer
    aldesk changed that preprocessing, so their vectors are dead weight (about 2.5 KB per item
    for EfficientNet), whether a model was trained on them or not. Found by primary key on a
    few items (the embeddings table has no index by representation): once they are dropped,
    this costs nothing."""
    base, _, version = representation.rpartition("/")
    if not base or not re.fullmatch(r"v\d+", version):
        return []
    probe = [r[0] for r in project.conn.execute(
        "SELECT content_key FROM items ORDER BY id LIMIT 50")]
    stored: set[str] = set()
    for key in probe:
        stored.update(r[0] for r in project.conn.execute(
            "SELECT representation FROM embeddings WHERE content_key = ?", (key,)))
    older = []
    for name in stored:
        match = re.fullmatch(re.escape(base) + r"/v(\d+)", name)
        if match and int(match.group(1)) < int(version[1:]):
            older.append(name)
    return sorted(older)


def drop_vectors(project: Project, representation: str, keys: Iterable[str],
                 chunk: int = 1000) -> int:
    """Deletes the vectors of `representation` for these content keys, one short transaction
    per chunk of keys (looked up by primary key), so a user's label never waits long."""
    keys = list(keys)
    dropped = 0
    for start in range(0, len(keys), chunk):
        part = keys[start:start + chunk]
        marks = ",".join("?" * len(part))
        with project.transaction() as conn:
            cur = conn.execute(f"DELETE FROM embeddings WHERE representation = ? AND "
                               f"content_key IN ({marks})", (representation, *part))
            dropped += max(cur.rowcount, 0)
    return dropped
