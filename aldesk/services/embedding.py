"""Embedding a project's items once, into the cache in the project file.

The model sees exactly what the viewer shows by default (`io.render`), grey replicated to
three channels by the representation. Items that cannot be decoded get status 'error'.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.errors import UnreadableFile
from aldesk.core.jobs import Job
from aldesk.io.render import render
from aldesk.store import Project
from aldesk.store import embeddings as store_emb
from aldesk.store import items as store_items

if TYPE_CHECKING:
    from aldesk.ml.backbones import Representation


@dataclass
class EmbedReport:
    representation: str
    embedded: int = 0
    cached: int = 0
    failed: list[str] = field(default_factory=list)
    seconds: float = 0.0


def embed_project(project: Project, rep: Representation, job: Job | None = None,
                  batch_size: int = 32) -> EmbedReport:
    """Embed every readable item whose content has no vector for `rep` yet."""
    import time

    from aldesk.ml.embed import embed_items

    start = time.perf_counter()
    rep_id = rep.id
    have = store_emb.cached_keys(project, rep_id)
    items = [i for i in store_items.list_items(project) if i.status == "ok"]
    todo_by_key = {}
    for item in items:
        if item.content_key not in have:
            todo_by_key.setdefault(item.content_key, item)
    todo = list(todo_by_key.values())
    report = EmbedReport(rep_id, cached=len(items) - len(todo))
    paths = store_items.item_paths(project)
    failures: list[tuple[int, str]] = []

    def load(i: int) -> np.ndarray:
        item = todo[i]
        try:
            return render(paths[item.id], item.kind).pixels
        except UnreadableFile as err:
            failures.append((item.id, str(err)))
            raise

    for indices, vectors in embed_items(load, len(todo), rep, job, batch_size=batch_size):
        store_emb.put_vectors(project, rep_id,
                              [(todo[i].content_key, v) for i, v in zip(indices, vectors,
                                                                        strict=True)])
        report.embedded += len(indices)
    if failures:
        store_items.set_error(project, failures)
        report.failed = [reason for _, reason in failures]
    report.seconds = time.perf_counter() - start
    return report


def project_matrix(project: Project, representation: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(item ids (N,), embeddings (N, D) float32) of the items that have a vector."""
    items = [i for i in store_items.list_items(project) if i.status == "ok"]
    x, found = store_emb.get_vectors(project, representation, [i.content_key for i in items])
    ids = np.array([i.id for i in items], np.int64)
    return ids[found], x[found]
