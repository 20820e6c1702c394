"""The embedding cache: one float16 vector per (content key, representation).

Keyed by content, not by item, so a moved or duplicated file is never embedded twice, and a
representation id that names its preprocessing keeps caches of different settings apart.
Batches are committed as they come, so an interrupted embedding run resumes where it stopped.
"""

from __future__ import annotations

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
    """(matrix (N, D) float32, found (N,) bool) for `keys` in order; missing rows are zero."""
    found = np.zeros(len(keys), bool)
    vectors: dict[str, np.ndarray] = {}
    wanted = set(keys)
    rows = project.conn.execute(
        "SELECT content_key, dim, vector FROM embeddings WHERE representation = ?",
        (representation,))
    dim = 0
    for key, d, blob in rows:
        if key in wanted:
            vectors[key] = np.frombuffer(blob, "<f2", count=d)
            dim = d
    out = np.zeros((len(keys), dim), np.float32)
    for i, key in enumerate(keys):
        v = vectors.get(key)
        if v is not None:
            out[i] = v
            found[i] = True
    return out, found
