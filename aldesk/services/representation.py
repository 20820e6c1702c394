"""Which representation a project's model uses, and why (shown by `aldesk info`).

A project set to `auto` (the default) starts from what the images look like: small
glyph-like images (at most 64 px) are best served by their raw pixels, photos and scans by
ImageNet features (EfficientNet-Lite0). Once 30 labels of at least two classes exist (two of
each), both are compared by cross-validated accuracy on the labels, and the better one is used
from then on; on very large projects the comparison is skipped, since it would embed every item
twice.

The comparison is made once. Later labels are mostly items the model found hard in the
representation it used to pick them, so cross-validation on them favours the other one. On
scikit-learn's digits (simulate, 3 seeds), comparing again every round put 5 of the 60 rounds
of `auto` on ImageNet features, where accuracy fell from about 0.95 to 0.74-0.86; random labels
never switched. A project set to one representation and back to `auto` compares afresh.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from aldesk.core.jobs import Job
from aldesk.store import Project

SMALL_IMAGE = 64
MIN_LABELS_TO_COMPARE = 30
MAX_ITEMS_TO_COMPARE = 20_000
CANDIDATES = ("pixels", "efficientnet_lite0")


def _median_size(project: Project) -> int | None:
    rows = project.conn.execute(
        "SELECT MAX(width, height) FROM items WHERE status = 'ok' AND width IS NOT NULL"
    ).fetchall()
    return int(np.median([r[0] for r in rows])) if rows else None


def by_looks(project: Project) -> tuple[str, str]:
    """(name, reason): the choice before any labels, from the median image size."""
    size = _median_size(project)
    if size is not None and size <= SMALL_IMAGE:
        return "pixels", f"images are small ({size} px): raw pixels suit glyph-like images"
    shown = f"{size} px" if size else "unknown size"
    return "efficientnet_lite0", f"images of {shown}: ImageNet features (EfficientNet-Lite0)"


def choose_representation(project: Project, job: Job | None = None) -> tuple[str, str]:
    """(representation name, reason in words). Records both in the project's meta."""
    setting = project.meta("representation") or "auto"
    decided = project.meta("representation_decided")
    record = [("representation_decided", "")]  # a setting other than auto forgets a decision
    if setting != "auto":
        name, reason = setting, "chosen for this project"
    elif decided in CANDIDATES:
        name, reason = decided, project.meta("representation_reason") or ""
        record = []
    else:
        name, reason = by_looks(project)
        compared = _compare(project, job)
        if compared is not None:
            name, reason = compared[0], f"{compared[1]} (compared once)"
            record = [("representation_decided", name)]
    with project.transaction() as conn:
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         [("representation_used", name), ("representation_reason", reason),
                          *record])
    return name, reason


def better_by_cv(candidates: dict[str, tuple[np.ndarray, Any]], y: np.ndarray
                 ) -> tuple[str, str] | None:
    """(name, reason) of the candidate whose single head has the best cross-validated accuracy
    on the labels y (L,); candidates maps a name to (its (L, D) vectors of the labeled items,
    the heads' input preprocessing fitted on the pool). None while the labels are too few."""
    from aldesk.services.train import cross_validated_accuracy

    if len(y) < MIN_LABELS_TO_COMPARE or len(set(y.tolist())) < 2:
        return None
    scores = {}
    for name, (x, prep) in candidates.items():
        accuracy = cross_validated_accuracy(x, y, prep=prep)
        if accuracy is None:
            return None
        scores[name] = accuracy
    best = max(scores, key=lambda k: scores[k])
    others = " and ".join(f"{scores[k]:.3f} ({k})" for k in scores if k != best)
    return best, (f"cross-validated accuracy {scores[best]:.3f} ({best}) against {others} "
                  f"on {len(y)} labels")


def _compare(project: Project, job: Job | None) -> tuple[str, str] | None:
    from aldesk.ml.backbones import get_representation
    from aldesk.ml.committee import preprocess_for
    from aldesk.services.embedding import embed_project, project_matrix
    from aldesk.services.train import labeled_arrays
    from aldesk.store import annotations as store_ann

    n_items = project.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
    labels = [s.class_ids[0] for s in store_ann.current_all(project).values()
              if s.kind == "label" and len(s.class_ids) == 1]
    if (n_items > MAX_ITEMS_TO_COMPARE or len(labels) < MIN_LABELS_TO_COMPARE
            or len(set(labels)) < 2):
        return None
    matrices = {}
    for name in CANDIDATES:
        rep = get_representation(name)
        embed_project(project, rep, job)
        ids, x = project_matrix(project, rep.id)
        matrices[name] = (ids, x, preprocess_for(rep.id, x))
    common = np.intersect1d(*(ids for ids, _, _ in matrices.values()))  # labeled in both
    pos, y = labeled_arrays(project, common)
    labeled = common[pos]
    return better_by_cv({name: (x[np.searchsorted(ids, labeled)], prep)
                         for name, (ids, x, prep) in matrices.items()}, y)
