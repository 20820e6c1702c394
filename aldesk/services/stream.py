"""Stream mode: files arriving in a watched folder are indexed, embedded and scored on
arrival, and queued only when informative enough under the labeling budget.

Admitted items are saved as scores of strategy "stream" under the newest model version, so
the queue shows them next; the others are indexed and wait for the next full ranking. Without
a model nothing can be judged yet: new files are indexed only. A retrain keeps at the front
the admissions still waiting for a label that its new model is still unsure of
(`carry_admissions`); the ones it has become sure of join the full ranking.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.al.stream import StreamSelector
from aldesk.core.jobs import Job
from aldesk.core.pathtext import printable
from aldesk.services.embedding import embed_project
from aldesk.services.ingest import sync_folder
from aldesk.services.train import DEFAULT_REPRESENTATION
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import items as store_items
from aldesk.store import models as store_models
from aldesk.store.embeddings import get_vectors

STRATEGY = "stream"


@dataclass
class StreamReport:
    arrived: int = 0
    admitted: list[str] = field(default_factory=list)
    indexed_only: int = 0
    #: "path: reason" of arrivals that cannot be read now (still being written, broken): they
    #: are judged once a later look finds them readable.
    unreadable: list[str] = field(default_factory=list)
    duplicates: int = 0  # arrivals whose content is already labeled or queued
    note: str = ""


#: Meta keys: the newest item id looked at, arrivals not judged yet, the selector's state.
_UPTO, _WAITING, _THRESHOLD, _RECENT = ("stream_judged_upto", "stream_waiting",
                                        "stream_threshold", "stream_recent")
MAX_WAITING = 10_000


def new_selector(project: Project, budget: float) -> StreamSelector:
    """The selector as the last watcher of this project left it: its threshold and the window
    of its recent decisions, so a restarted watcher keeps to the budget."""
    saved = project.meta(_THRESHOLD)
    selector = StreamSelector(budget=budget, threshold=float(saved) if saved else 0.9)
    selector.restore(project.meta(_RECENT) or "")
    return selector


def stream_state(project: Project, unlabeled: Iterable[int]) -> dict[str, Any] | None:
    """What watching a folder left in the project, for `aldesk info`; None if no folder was
    ever watched. `unlabeled`: the ids of the items with no label, skip or unsure."""
    if project.meta(_UPTO) is None:
        return None
    recent = project.meta(_RECENT) or ""
    threshold = project.meta(_THRESHOLD)
    admitted = {r[0] for r in project.conn.execute(  # under the newest model, no weights read
        "SELECT item_id FROM scores WHERE strategy = ? AND model_version ="
        " (SELECT MAX(version) FROM models)", (STRATEGY,))}
    return {"queued": len(admitted & set(unlabeled)),
            "waiting": sum(1 for i in (project.meta(_WAITING) or "").split(",") if i),
            "recent_arrivals": len(recent), "recent_admitted": recent.count("1"),
            "threshold": None if threshold is None else float(threshold)}


def carry_admissions(project: Project, version: int, item_ids: np.ndarray,
                     probs: np.ndarray) -> int:
    """Admissions of the model version before `version` that are still unlabeled (no label,
    skip or unsure) and whose top-class probability under the new model `probs` (N, C), rows
    in `item_ids` order, is below the stream's saved threshold: saved as `version`'s stream
    scores, beside any it has, so the queue keeps them first. Returns how many were carried.

    Why re-judged, not all carried: an admission spent the budget because the model of its
    time was unsure; an expert's time should not go to frames a better model now gets right.
    """
    threshold = project.meta(_THRESHOLD)
    row = project.conn.execute("SELECT MAX(version) FROM models WHERE version < ?",
                               (version,)).fetchone()
    if threshold is None or row[0] is None:
        return 0
    before = [r[0] for r in project.conn.execute(
        "SELECT item_id FROM scores WHERE model_version = ? AND strategy = ? ORDER BY rank",
        (int(row[0]), STRATEGY))]
    decided = store_ann.current_all(project)
    at = {int(i): k for k, i in enumerate(np.asarray(item_ids).tolist())}
    carried = [i for i in before if i not in decided and i in at
               and float(probs[at[i]].max()) < float(threshold)]
    if not carried:
        return 0
    existing = project.conn.execute(
        "SELECT item_id, score, probabilities FROM scores WHERE model_version = ?"
        " AND strategy = ?", (version, STRATEGY)).fetchall()
    have = {r["item_id"] for r in existing}
    carried = [i for i in carried if i not in have]
    ids = [r["item_id"] for r in existing] + carried
    scores = [r["score"] for r in existing] + [1.0 - float(probs[at[i]].max()) for i in carried]
    rows = ([np.frombuffer(r["probabilities"], "<f2").astype(np.float32) for r in existing]
            + [np.asarray(probs[at[i]], np.float32) for i in carried])
    order = np.argsort(-np.asarray(scores), kind="stable")
    ranks = np.empty(len(order), np.int64)
    ranks[order] = np.arange(len(order))
    store_models.put_scores(project, version, STRATEGY, np.asarray(ids), np.asarray(scores),
                            ranks, np.asarray(rows), atomic=True)
    return len(carried)


def stream_at(path: Path, folder: Path, selector: StreamSelector, job: Job | None = None
              ) -> tuple[StreamReport, StreamSelector]:
    """`stream_once` on the project at `path` (open in this process or its parent), with the
    selector as it stands afterwards: for a caller in another process (`services.compute`)."""
    with Project.attach(path) as project:
        return stream_once(project, folder, selector, job), selector


def _arrivals(project: Project, folder: Path, job: Job | None) -> list[store_items.Item]:
    """Items to judge: new since the last look (by id, so that items indexed by a look that
    was interrupted before judging them are not lost), files changed since (a frame that was
    still being written), and earlier arrivals that could not be judged yet."""
    upto = project.meta(_UPTO)
    if upto is None:  # the first look: what is there already is not an arrival
        row = project.conn.execute("SELECT MAX(id) FROM items").fetchone()
        upto = str(row[0] or 0)
    synced = sync_folder(project, folder, job)
    waiting = {int(i) for i in (project.meta(_WAITING) or "").split(",") if i}
    return store_items.items_after(project, int(upto), waiting | set(synced.changed_ids))


def _remember(project: Project, items: list[store_items.Item], waiting: list[int],
              selector: StreamSelector | None) -> None:
    values = [(_WAITING, ",".join(str(i) for i in waiting[-MAX_WAITING:]))]
    if items:
        row = project.conn.execute("SELECT MAX(id) FROM items").fetchone()
        values.append((_UPTO, str(max(row[0] or 0, *(i.id for i in items)))))
    elif project.meta(_UPTO) is None:
        row = project.conn.execute("SELECT MAX(id) FROM items").fetchone()
        values.append((_UPTO, str(row[0] or 0)))
    if selector is not None:
        values += [(_THRESHOLD, f"{selector.threshold:.6f}"), (_RECENT, selector.recent())]
    with project.transaction() as conn:
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values)


def _keys_of(project: Project, item_ids: Iterable[int]) -> set[str]:
    ids = list(item_ids)
    keys: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start:start + 500]
        keys.update(r[0] for r in project.conn.execute(
            f"SELECT content_key FROM items WHERE id IN ({','.join('?' * len(part))})", part))
    return keys


def stream_once(project: Project, folder: Path, selector: StreamSelector,
                job: Job | None = None) -> StreamReport:
    """Take in whatever arrived in `folder` since the last look, and judge it."""
    from aldesk.ml.backbones import get_representation
    from aldesk.ml.committee import Committee

    if not folder.is_dir():  # unplugged or renamed for a moment: keep watching
        return StreamReport(note=f"{printable(str(folder))} is not there now; still watching "
                                 "for it")
    arrivals = _arrivals(project, folder, job)
    if not arrivals:  # an idle look reads no labels
        _remember(project, arrivals, [], None)
        return StreamReport()
    labeled = store_ann.current_all(project)
    new = [i for i in arrivals if i.id not in labeled and i.status != "missing"]
    report = StreamReport(arrived=len(new))
    if not new:
        _remember(project, arrivals, [], None)
        return report
    model = store_models.latest_model(project)
    if model is None or not model.weights:
        report.indexed_only = len(new)
        report.note = "no model yet: new files are indexed; train to start selecting"
        _remember(project, arrivals, [], None)
        return report
    rep = get_representation(str(model.params.get("representation_name",
                                                  DEFAULT_REPRESENTATION)))
    if rep.id != model.representation:  # e.g. a newer aldesk changed the preprocessing
        report.indexed_only = len(new)
        report.note = (f"the model was trained on {model.representation}, this aldesk embeds "
                       f"as {rep.id}: retrain to judge new files")
        _remember(project, arrivals, [], None)
        return report
    embed_project(project, rep, job)
    fresh = {i.id: i for i in store_items.items_by_id(project, [i.id for i in new])}
    new = [fresh[i.id] for i in new if i.id in fresh]  # their statuses after decoding
    x, found = get_vectors(project, model.representation, [i.content_key for i in new])
    waiting = [i.id for i, ok in zip(new, found, strict=True)
               if not ok and i.status != "missing"]
    report.unreadable = [f"{printable(i.rel_path)}: {i.reason or 'not read yet'}"
                         for i, ok in zip(new, found, strict=True) if not ok]
    # Same bytes as an item labeled or queued already, or as an earlier one of these: one
    # question is enough.
    existing = project.conn.execute(
        "SELECT item_id, score, rank, probabilities FROM scores WHERE model_version = ?"
        " AND strategy = ?", (model.version, STRATEGY)).fetchall()
    taken = {r[0] for r in project.conn.execute(
        "SELECT content_key FROM items WHERE id IN (SELECT item_id FROM scores WHERE"
        " model_version = ? AND strategy = ?)", (model.version, STRATEGY))}
    taken |= _keys_of(project, labeled)
    order = []
    for k in sorted(np.flatnonzero(found).tolist(), key=lambda k: (new[k].mtime, new[k].id)):
        if new[k].content_key in taken:
            report.duplicates += 1
            continue
        taken.add(new[k].content_key)
        order.append(k)
    admitted_ids, admitted_scores, admitted_probs = [], [], []
    if order:
        probs = Committee.from_bytes(model.weights).predict_proba(x[order]).mean(axis=0)
        take = selector.offer_many([float(p.max()) for p in probs])
        for k, p, yes in zip(order, probs, take, strict=True):
            if yes:
                admitted_ids.append(new[k].id)
                admitted_scores.append(1.0 - float(p.max()))
                admitted_probs.append(p)
                report.admitted.append(new[k].rel_path)
    report.indexed_only = len(new) - len(admitted_ids) - len(waiting)
    if admitted_ids:
        ids_all = [r["item_id"] for r in existing] + admitted_ids
        scores_all = [r["score"] for r in existing] + admitted_scores
        probs_all = [np.frombuffer(r["probabilities"], "<f2") for r in existing] + admitted_probs
        ranking = np.argsort(-np.asarray(scores_all), kind="stable")
        ranks = np.empty(len(ranking), np.int64)
        ranks[ranking] = np.arange(len(ranking))
        store_models.put_scores(project, model.version, STRATEGY, np.asarray(ids_all),
                                np.asarray(scores_all), ranks, np.asarray(probs_all),
                                atomic=True)  # never a moment with the arrivals gone
    _remember(project, arrivals, waiting, selector)
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
