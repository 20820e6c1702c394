"""Stream mode: files arriving in a watched folder are indexed, embedded and scored on
arrival, and queued only when informative enough under the labeling budget.

Admitted items are saved as scores of strategy "stream" under the newest model version, so
the queue shows them next; the others are indexed and wait for the next full ranking. Without
a model nothing can be judged yet: new files are indexed only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aldesk.al.stream import StreamSelector
from aldesk.core.jobs import Job
from aldesk.services.embedding import embed_project
from aldesk.services.ingest import sync_folder
from aldesk.services.train import DEFAULT_REPRESENTATION
from aldesk.store import Project
from aldesk.store import items as store_items
from aldesk.store import models as store_models
from aldesk.store.embeddings import get_vectors

STRATEGY = "stream"


@dataclass
class StreamReport:
    arrived: int = 0
    admitted: list[str] = field(default_factory=list)
    indexed_only: int = 0
    note: str = ""


def new_selector(project: Project, budget: float) -> StreamSelector:
    saved = project.meta("stream_threshold")
    return StreamSelector(budget=budget, threshold=float(saved) if saved else 0.9)


def stream_at(path: Path, folder: Path, selector: StreamSelector, job: Job | None = None
              ) -> tuple[StreamReport, StreamSelector]:
    """`stream_once` on the project at `path` (open in this process or its parent), with the
    selector as it stands afterwards: for a caller in another process (`services.compute`)."""
    with Project.attach(path) as project:
        return stream_once(project, folder, selector, job), selector


def stream_once(project: Project, folder: Path, selector: StreamSelector,
                job: Job | None = None) -> StreamReport:
    """Take in whatever arrived in `folder` since the last call."""
    from aldesk.ml.backbones import get_representation
    from aldesk.ml.committee import Committee

    before = {i.id for i in store_items.list_items(project)}
    sync_folder(project, folder, job)
    new = [i for i in store_items.list_items(project) if i.id not in before]
    report = StreamReport(arrived=len(new))
    if not new:
        return report
    model = store_models.latest_model(project)
    if model is None or not model.weights:
        report.indexed_only = len(new)
        report.note = "no model yet: new files are indexed; train to start selecting"
        return report
    rep = get_representation(str(model.params.get("representation_name",
                                                  DEFAULT_REPRESENTATION)))
    if rep.id != model.representation:  # e.g. a newer aldesk changed the preprocessing
        report.indexed_only = len(new)
        report.note = (f"the model was trained on {model.representation}, this aldesk embeds "
                       f"as {rep.id}: retrain to judge new files")
        return report
    embed_project(project, rep, job)
    x, found = get_vectors(project, model.representation, [i.content_key for i in new])
    order = sorted((k for k in range(len(new)) if found[k]),
                   key=lambda k: (new[k].mtime, new[k].id))
    if not order:
        report.indexed_only = len(new)
        return report
    arrived = [new[k] for k in order]
    committee = Committee.from_bytes(model.weights)
    probs = committee.predict_proba(x[order]).mean(axis=0)
    admitted_ids, admitted_scores, admitted_probs = [], [], []
    for item, p in zip(arrived, probs, strict=True):
        confidence = float(p.max())
        if selector.offer(confidence):
            admitted_ids.append(item.id)
            admitted_scores.append(1.0 - confidence)
            admitted_probs.append(p)
            report.admitted.append(item.rel_path)
    report.indexed_only = len(new) - len(admitted_ids)
    if admitted_ids:
        existing = project.conn.execute(
            "SELECT item_id, score, rank, probabilities FROM scores WHERE model_version = ?"
            " AND strategy = ?", (model.version, STRATEGY)).fetchall()
        ids_all = [r["item_id"] for r in existing] + admitted_ids
        scores_all = [r["score"] for r in existing] + admitted_scores
        probs_all = [np.frombuffer(r["probabilities"], "<f2") for r in existing] + admitted_probs
        order = np.argsort(-np.asarray(scores_all), kind="stable")
        ranks = np.empty(len(order), np.int64)
        ranks[order] = np.arange(len(order))
        store_models.put_scores(project, model.version, STRATEGY, np.asarray(ids_all),
                                np.asarray(scores_all), ranks, np.asarray(probs_all))
    with project.transaction() as conn:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('stream_threshold', ?)",
                     (f"{selector.threshold:.6f}",))
    return report


def watch(project: Project, folder: Path, budget: float, interval: float,
          rounds: int | None = None, job: Job | None = None,
          on_report: object = None) -> None:
    """Poll `folder` every `interval` seconds (forever, or `rounds` times)."""
    selector = new_selector(project, budget)
    done = 0
    while rounds is None or done < rounds:
        report = stream_once(project, folder, selector, job)
        if callable(on_report):
            on_report(report)
        done += 1
        if rounds is None or done < rounds:
            time.sleep(interval)
