"""Retraining a project's committee and scoring its unlabeled pool (one round).

A round: embed what is new (cached), train the committee on the current labels, store it as a
new model version, score every unlabeled item with the query strategy, and store the ranking
tagged with that model version. The queue reads saved scores only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aldesk.core.errors import InputError
from aldesk.core.jobs import Job
from aldesk.ml.ids import raw_pixels
from aldesk.services.embedding import embed_project, project_matrix
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import models as store_models

HEAD = "softmax-committee"
DEFAULT_REPRESENTATION = "efficientnet_lite0"


@dataclass
class RoundReport:
    version: int
    representation: str
    labels: int
    unlabeled_scored: int
    cv_accuracy: float | None
    seconds: dict[str, float]
    unreadable: list[str] = field(default_factory=list)  # reasons, for files found bad now


def labeled_arrays(project: Project, item_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions in `item_ids` of labeled items, their class ids); single-label classes."""
    states = store_ann.current_all(project)
    pos, cls = [], []
    for k, item_id in enumerate(item_ids):
        s = states.get(int(item_id))
        if s is not None and s.kind == "label" and len(s.class_ids) == 1:
            pos.append(k)
            cls.append(s.class_ids[0])
    return np.array(pos, np.int64), np.array(cls, np.int64)


def check_strategies(names: list[str]) -> None:
    """InputError naming the valid strategies when one of `names` is unknown."""
    from aldesk.al.policy import known_strategies

    unknown = [n for n in names if n not in known_strategies()]
    if unknown:
        raise InputError(f"unknown strategy {', '.join(map(repr, unknown))}; valid "
                         f"strategies: {', '.join(known_strategies())}")


def labels_digest(item_ids: np.ndarray, classes: np.ndarray) -> str:
    """A fingerprint of a training set, (item, class) pairs in any order: two models with the
    same one were trained on the same labels, whatever skips or undos came between."""
    import hashlib

    order = np.argsort(item_ids, kind="stable")
    pairs = np.stack([np.asarray(item_ids)[order], np.asarray(classes)[order]]).astype("<i8")
    return hashlib.blake2b(pairs.tobytes(), digest_size=8).hexdigest()


def cross_validated_accuracy(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0,
                             prep: Any = None) -> float | None:
    """Accuracy of a single head by stratified k-fold on the labels, when there are enough.
    `prep` is the heads' input preprocessing, fitted on the whole pool."""
    correct = cross_validated_correct(x, y, folds, seed, prep)
    return None if correct is None else float(correct.mean())


def cross_validated_correct(x: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0,
                            prep: Any = None) -> np.ndarray | None:
    """(L,) bool: whether a single head trained without each label's fold (stratified k-fold)
    predicts it right; None while a class has fewer than two labels. The folds depend only on
    y and seed, so two inputs with the same labels are judged on the same folds (paired)."""
    from aldesk.ml.committee import train_committee

    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2 or counts.min() < 2:
        return None
    folds = int(min(folds, counts.min()))
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(y), np.int64)
    for c in classes:
        idx = rng.permutation(np.flatnonzero(y == c))
        fold_of[idx] = np.arange(len(idx)) % folds
    correct = np.zeros(len(y), bool)
    for f in range(folds):
        test = fold_of == f
        if len(np.unique(y[~test])) < 2:
            continue  # no head: the fold counts as wrong
        head = train_committee(x[~test], y[~test], members=1, seed=seed, standardise=prep)
        correct[test] = head.classes[head.predict_proba(x[test])[0].argmax(axis=1)] == y[test]
    return correct


def train_round(project: Project, *, strategy: str = "auto", members: int = 10,
                job: Job | None = None) -> RoundReport:
    from aldesk.al.context import PoolState
    from aldesk.al.policy import resolve, score_pool, stands_for
    from aldesk.al.registry import HEAD_GRADIENT
    from aldesk.al.stopping import MIN_LABELS_APART, cohen_kappa, stop_set
    from aldesk.ml.backbones import get_representation
    from aldesk.ml.committee import Committee, preprocess_for, train_committee
    from aldesk.services.representation import choose_representation
    from aldesk.services.stream import carry_admissions  # stream imports this module

    check_strategies([strategy])  # before any work, and before a version is stored
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    rep_name, rep_reason = choose_representation(project, job)
    rep = get_representation(rep_name)
    embedded = embed_project(project, rep, job)
    seconds["embed"] = time.perf_counter() - t
    item_ids, x = project_matrix(project, rep.id)
    # Read before the labels: a label the window writes meanwhile is newer than this model.
    last = project.conn.execute("SELECT MAX(id) FROM annotations").fetchone()[0]
    pos, y = labeled_arrays(project, item_ids)
    digest = labels_digest(item_ids[pos], y)
    if len(np.unique(y)) < 2:
        raise InputError("training needs labels of at least two classes; label a few items "
                         "of each class first (the queue starts with the most typical ones)")
    t = time.perf_counter()
    norm = preprocess_for(rep.id, x)
    committee = train_committee(x[pos], y, members=members, standardise=norm)
    cv = cross_validated_accuracy(x[pos], y, prep=norm)
    seconds["train"] = time.perf_counter() - t
    metrics: dict[str, Any] = {"cv_accuracy": cv, "labels": len(y),
                               "per_class": {int(c): int(n) for c, n in
                                             zip(*np.unique(y, return_counts=True), strict=True)},
                               "representation_reason": rep_reason}
    # Stopping: how much the predictions on a fixed sample of items moved since the newest
    # model on at least MIN_LABELS_APART fewer labels (al.stopping). A retrain on the labels
    # of the model before it says nothing new: it records no agreement.
    previous = (None if store_models.latest_digest(project) == digest else
                store_models.newest_before(project, rep.id, len(y) - MIN_LABELS_APART))
    if previous is not None:
        sample = stop_set(item_ids)
        before = Committee.from_bytes(previous.weights)
        old = before.classes[before.predict_proba(x[sample]).mean(0).argmax(1)]
        new = committee.classes[committee.predict_proba(x[sample]).mean(0).argmax(1)]
        metrics["agreement_with_previous"] = round(cohen_kappa(old, new), 5)
        metrics["agreement_previous_version"] = previous.version
        metrics["predictions_changed"] = [int((old != new).sum()), len(sample)]
    t = time.perf_counter()
    unlabeled = np.setdiff1d(np.arange(len(item_ids)), pos)
    probs = committee.predict_proba(x[unlabeled])
    state = PoolState(probs=probs, embeddings=x[unlabeled], labeled_embeddings=x[pos],
                      labeled_classes=y, pixel_features=raw_pixels(rep_name),
                      head_inputs=(committee.prepare(x[unlabeled])
                                   if stands_for(strategy, raw_pixels(rep_name))
                                   in HEAD_GRADIENT else None))
    version = store_models.add_model(
        project, representation=rep.id, head=HEAD, labels_used=len(y),
        last_annotation_id=last,
        params={"members": members, "strategy": strategy, "labels_digest": digest,
                "resolved_strategy": resolve(strategy, state),
                "classes": committee.classes.tolist(),
                "representation_name": rep_name},
        metrics=metrics, weights=committee.to_bytes())
    scores, ranking = score_pool(strategy, state, np.random.default_rng(version))
    ranks = np.empty(len(unlabeled), np.int64)
    ranks[ranking] = np.arange(len(unlabeled))
    mean = probs.mean(axis=0)
    store_models.put_scores(project, version, strategy, item_ids[unlabeled], scores, ranks, mean)
    carry_admissions(project, version, item_ids[unlabeled], mean)
    seconds["score"] = time.perf_counter() - t
    return RoundReport(version, rep.id, len(y), len(unlabeled), cv, seconds,
                       list(embedded.failed))
