"""The app's view of a round: the ranked queue plus the committee's opinion of every item.

`compute_ranking` runs in the worker (it embeds, may train, and predicts); its `Ranking` is an
immutable value the UI reads. Before two classes have labels there is no committee: the queue
is then the cold-start order (typicality over the embeddings), with no predictions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from aldesk.core.errors import Cancelled
from aldesk.core.idindex import IdIndex
from aldesk.core.jobs import Job
from aldesk.ml.ids import is_current, raw_pixels
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import models as store_models

STREAM = "stream"
#: A labeled item is "disputed" when the committee gives its label at most this probability.
DISPUTE_BELOW = 0.2


@dataclass(frozen=True, eq=False)
class Ranking:
    """queue: unlabeled item ids, best first, with their `scores`; predictions for every item
    the committee saw: `predicted_ids` (P,), `probs` (P, C) mean probabilities over the members,
    `votes` (P, C) how many members put each class first, columns in `class_ids` order."""

    model_version: int | None
    strategy: str
    queue: np.ndarray
    scores: np.ndarray
    class_ids: tuple[int, ...] = ()
    predicted_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    probs: np.ndarray | None = None
    votes: np.ndarray | None = None
    members: int = 0
    cv_accuracy: float | None = None
    labels_used: int = 0
    last_annotation_id: int = 0
    admitted: frozenset[int] = frozenset()  # stream arrivals queued as informative
    seconds: float = 0.0
    uncertainty: np.ndarray | None = None  # (len(queue),) 1 - margin of the mean probs, or NaN

    def _index(self, name: str, ids: np.ndarray) -> IdIndex:
        """Built on first use and never pickled: a ranking crosses from the compute process
        to the window as arrays only."""
        index = self.__dict__.get(name)
        if index is None:
            index = IdIndex(ids)
            object.__setattr__(self, name, index)
        return index

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def prediction(self, item_id: int) -> tuple[np.ndarray, np.ndarray] | None:
        """(probabilities (C,), votes (C,)) for an item, or None without a committee."""
        if self.probs is None or self.votes is None:
            return None
        k = self._index("_rows", self.predicted_ids).get(item_id)
        return None if k is None else (self.probs[k], self.votes[k])

    def rank_of(self, item_id: int) -> tuple[int, float] | None:
        """(rank from 0, score) of a queued item."""
        k = self._index("_ranks", self.queue).get(item_id)
        return None if k is None else (k, float(self.scores[k]))

    def disputed(self, labels: dict[int, int]) -> list[tuple[int, float]]:
        """Labeled items (item id -> class id) whose label the committee gives a probability
        below DISPUTE_BELOW, lowest first: likely mislabels, or hard cases worth a second look."""
        if self.probs is None:
            return []
        col = {c: j for j, c in enumerate(self.class_ids)}
        rows = self._index("_rows", self.predicted_ids)
        out = []
        for item_id, cls in labels.items():
            k = rows.get(item_id)
            if k is None or cls not in col:
                continue
            p = float(self.probs[k, col[cls]])
            if p < DISPUTE_BELOW:
                out.append((item_id, p))
        return sorted(out, key=lambda t: t[1])


def compute_ranking(path: Path, *, retrain: bool, strategy: str = "auto", members: int = 10,
                    job: Job | None = None) -> Ranking:
    """Open the project beside its owner, train a new round when asked (and possible), and
    return the ranking of the newest model, or the cold-start order when there is none."""
    start = time.perf_counter()
    with Project.attach(path) as project:
        if retrain and _trainable(project):
            _train(project, strategy, members, job)
        if job is not None:
            job.check()
        model = store_models.latest_model(project)
        ranking = None
        if model is not None and model.weights:
            ranking = _from_model(project, model, job)
            if ranking is None and not is_current(model.representation) and _trainable(project):
                # Its vectors are gone: an upgrade changed its representation's preprocessing
                # and a retrain dropped them, then stopped during the long re-embedding.
                model = _train(project, strategy, members, job)
                ranking = None if model is None else _from_model(project, model, job)
        if ranking is None:
            ranking = _cold_start(project, job)
    object.__setattr__(ranking, "seconds", time.perf_counter() - start)
    return ranking


def _train(project: Project, strategy: str, members: int, job: Job | None
           ) -> store_models.ModelRow | None:
    from aldesk.services.train import train_round

    train_round(project, strategy=strategy, members=members, job=job)
    return store_models.latest_model(project)


def _trainable(project: Project) -> bool:
    classes = {s.class_ids[0] for s in store_ann.current_all(project).values()
               if s.kind == "label" and len(s.class_ids) == 1}
    return len(classes) >= 2


def _labeled_ids(project: Project) -> set[int]:
    return {i for i, s in store_ann.current_all(project).items() if s.kind == "label"}


def _cold_start(project: Project, job: Job | None) -> Ranking:
    from aldesk.al.policy import COLD_START
    from aldesk.ml.backbones import get_representation
    from aldesk.services.embedding import embed_project
    from aldesk.services.representation import choose_representation

    name, _ = choose_representation(project, job)
    rep = get_representation(name)
    embed_project(project, rep, job)
    if job is not None:
        job.check()
        job.progress(0, None, "ranking for a cold start")
    ids, scores = cold_start_order(project, rep.id, _labeled_ids(project))
    return Ranking(None, COLD_START, ids, scores)


def cold_start_order(project: Project, rep_id: str, leave_out: set[int]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(item ids, scores), best first: the typicality order of the items with a cached vector
    of `rep_id`, those in `leave_out` excepted. Reads only."""
    from aldesk.al.context import PoolState
    from aldesk.al.policy import COLD_START, score_pool
    from aldesk.services.embedding import project_matrix

    item_ids, x = project_matrix(project, rep_id)
    out = np.isin(item_ids, list(leave_out))
    pool = np.flatnonzero(~out)
    if len(pool) == 0:
        return np.zeros(0, np.int64), np.zeros(0)
    state = PoolState(embeddings=x[pool], labeled_embeddings=x[out])
    scores, order = score_pool(COLD_START, state, np.random.default_rng(0))
    return item_ids[pool][order], scores[order]


def _from_model(project: Project, model: store_models.ModelRow, job: Job | None
                ) -> Ranking | None:
    """The model's predictions and its saved queue; None when its vectors are gone (a model
    of an older preprocessing, whose vectors a retrain dropped before making the new ones).
    A model of an older preprocessing whose vectors are still there serves until the next
    retrain, which re-embeds."""
    from aldesk.al.policy import AUTO, stands_for
    from aldesk.ml.committee import Committee
    from aldesk.services.embedding import project_matrix

    committee = Committee.from_bytes(model.weights or b"")
    if job is not None:
        job.progress(0, None, "reading the committee's predictions")
    item_ids, x = project_matrix(project, model.representation)
    if len(item_ids) == 0:
        return None
    probs_m = _predict(committee, x, job)  # (M, P, C)
    votes = _votes(probs_m)
    mean = probs_m.mean(axis=0).astype(np.float32)
    strategy = str(model.params.get("strategy", AUTO))
    labeled = _labeled_ids(project)
    queue, scores, admitted = _saved_queue(project, model.version, strategy, labeled)
    return Ranking(
        model.version,
        stands_for(strategy, raw_pixels(model.representation)), queue, scores,
        tuple(int(c) for c in committee.classes), item_ids, mean, votes, committee.members,
        model.metrics.get("cv_accuracy"), model.labels_used, model.last_annotation_id or 0,
        frozenset(admitted), uncertainty=_uncertainty(queue, item_ids, mean))


def _uncertainty(queue: np.ndarray, item_ids: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """1 - (top - second) of the mean probabilities for each queued item (NaN: not predicted).
    Computed here, in the worker, so the window only draws its histogram."""
    out = np.full(len(queue), np.nan)
    if len(item_ids) == 0 or mean.shape[1] == 0:
        return out
    order = np.argsort(item_ids)
    at = np.searchsorted(item_ids[order], queue)
    at = np.clip(at, 0, len(order) - 1)
    found = item_ids[order][at] == queue
    top = np.sort(mean[order[at[found]]], axis=1)
    second = top[:, -2] if top.shape[1] > 1 else np.zeros(len(top))
    out[found] = 1.0 - (top[:, -1] - second)
    return out


def _predict(committee: object, x: np.ndarray, job: Job | None, chunk: int = 8192
             ) -> np.ndarray:
    parts = []
    for start in range(0, len(x), chunk):
        if job is not None and job.cancelled:
            raise Cancelled()
        parts.append(committee.predict_proba(x[start:start + chunk]))  # type: ignore[attr-defined]
    if not parts:
        return np.zeros((getattr(committee, "members", 1), 0, 0), np.float32)
    return np.concatenate(parts, axis=1)


def _votes(probs_m: np.ndarray) -> np.ndarray:
    """(P, C) counts of members whose top class is each class."""
    m, p, c = probs_m.shape
    top = probs_m.argmax(axis=2)  # (M, P)
    votes = np.zeros((p, c), np.int16)
    for member in range(m):
        votes[np.arange(p), top[member]] += 1
    return votes


def _saved_queue(project: Project, version: int, strategy: str, labeled: set[int]
                 ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """The saved ranking of a model version, stream admissions first, labeled items out."""
    rows = project.conn.execute(  # read row by row: no 100k tuples alive at once
        "SELECT item_id, score, strategy FROM scores WHERE model_version = ?"
        " AND strategy IN (?, ?) ORDER BY strategy = ? DESC, rank",
        (version, strategy, STREAM, STREAM))
    ids, scores, admitted, seen = [], [], [], set()
    for item_id, score, kind in rows:
        if item_id in labeled or item_id in seen:
            continue
        seen.add(item_id)
        ids.append(item_id)
        scores.append(score)
        if kind == STREAM:
            admitted.append(item_id)
    # Items the model has not scored yet (new arrivals, decoded since) go last, oldest first.
    ok = project.conn.execute("SELECT id FROM items WHERE status = 'ok' ORDER BY id")
    rest = [i for (i,) in ok if i not in seen and i not in labeled]
    ids.extend(rest)
    scores.extend([float("nan")] * len(rest))
    return np.array(ids, np.int64), np.array(scores, np.float64), admitted
