"""Embedding a project's items once, into the cache in the project file.

The model sees what the viewer shows by default (`io.render`), grey replicated to three
channels by the representation; a JPEG may be decoded at a reduced scale that still exceeds
the model's input (`model_pixels`). Items that cannot be decoded get status 'error'.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from aldesk.core.errors import UnreadableFile
from aldesk.core.jobs import Job
from aldesk.core.pathtext import printable
from aldesk.io.render import render
from aldesk.store import Project
from aldesk.store import embeddings as store_emb
from aldesk.store import items as store_items

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from aldesk.ml.backbones import CombinedRepresentation, Representation


@dataclass
class EmbedReport:
    representation: str
    embedded: int = 0
    cached: int = 0
    failed: list[str] = field(default_factory=list)  # "path: reason" of each file not read
    seconds: float = 0.0


def model_pixels(path: Path, kind: str | None, side: int) -> np.ndarray:
    """What a representation embeds of the file: its default view, decoded no larger than
    the model needs (`side`: the representation's `source_side`).

    The same window, frame and colour as the viewer; a JPEG may come at 1/2, 1/4 or 1/8 scale
    (both sides still >= `side`), which halves the decode of a 640x480 frame.
    """
    return render(path, kind, reduce_to=side).pixels


def embed_project(project: Project, rep: Representation | CombinedRepresentation,
                  job: Job | None = None, batch_size: int = 32) -> EmbedReport:
    """Embed every readable item whose content has no vector for `rep` yet (for a combined
    representation: for each of its parts, stored under the part's own id)."""
    parts = getattr(rep, "parts", None)
    if parts is None:
        return _embed_one(project, rep, job, batch_size)  # type: ignore[arg-type]
    reports = [_embed_one(project, part, job, batch_size) for part in parts]
    return EmbedReport(rep.id,
                       embedded=max(r.embedded for r in reports),  # items, not vectors
                       cached=min(r.cached for r in reports),
                       # a file that failed is marked, and not tried by the next part
                       failed=[line for r in reports for line in r.failed],
                       seconds=sum(r.seconds for r in reports))


def _embed_one(project: Project, rep: Representation, job: Job | None, batch_size: int
               ) -> EmbedReport:
    import time

    from aldesk.ml.embed import embed_items

    start = time.perf_counter()
    rep_id = rep.id
    for old in store_emb.superseded(project, rep_id):  # freed pages take the new vectors
        # Newest items first: `superseded` probes the oldest, so an interrupted drop is
        # found and finished next time.
        keys = [r[0] for r in project.conn.execute(
            "SELECT content_key FROM items ORDER BY id DESC")]
        dropped = store_emb.drop_vectors(project, old, keys)
        log.info("dropped %d vectors of %s, superseded by %s", dropped, old, rep_id)
    # In SQL, not over a list of every item: on a 100k pool that is all cached this reads
    # nothing but the few new items (the worker then leaves the interpreter to the window).
    todo = store_emb.missing_items(project, rep_id)
    readable = project.conn.execute(
        "SELECT COUNT(*) FROM items WHERE status = 'ok'").fetchone()[0]
    report = EmbedReport(rep_id, cached=int(readable) - len(todo))
    paths = store_items.item_paths(project, [item_id for item_id, _, _ in todo])
    failures: list[tuple[int, str]] = []

    def load(i: int) -> np.ndarray:
        item_id, _, kind = todo[i]
        try:
            return model_pixels(paths[item_id], kind, rep.source_side)
        except UnreadableFile as err:
            failures.append((item_id, str(err)))
            raise

    for indices, vectors in embed_items(load, len(todo), rep, job, batch_size=batch_size):
        store_emb.put_vectors(project, rep_id,
                              [(todo[i][1], v) for i, v in zip(indices, vectors, strict=True)])
        report.embedded += len(indices)
    if failures:
        store_items.set_error(project, failures)
        report.failed = [f"{printable(str(paths[item_id]))}: {reason}"
                         for item_id, reason in failures]
    report.seconds = time.perf_counter() - start
    return report


def project_matrix(project: Project, representation: str
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(item ids (N,), embeddings (N, D) float32) of the items that have a vector."""
    ids: list[int] = []
    keys: list[str] = []
    for item_id, key in project.conn.execute(  # row by row: no 100k tuples alive at once
            "SELECT id, content_key FROM items WHERE status = 'ok' ORDER BY id"):
        ids.append(item_id)
        keys.append(key)
    x, found = store_emb.get_vectors(project, representation, keys)
    return np.array(ids, np.int64)[found], x[found]
