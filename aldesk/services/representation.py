"""Which representation a project's model uses, and why (shown by `aldesk info`).

A project set to `auto` (the default) starts from what the images look like: photos and scans
(over 64 px) and small images in colour on ImageNet features (EfficientNet-Lite0); small grey
images on raw pixels and ImageNet features side by side (COMBINED). Small images in colour
count as photos: the pixels representation is grey, and ImageNet features were learned on
colour photographs. Both side by side beat either alone on grey glyphs and grey photographs of
clothing from the first labels on (Fashion-MNIST: `auto` at 20 labels 0.71 instead of 0.60
when starting on pixels; digits: 0.89 instead of 0.86) and lose to ImageNet features where
raw pixels carry nothing (colour photographs); see docs/benchmarks.md.

Once 30 labels of at least two classes exist, three candidates are compared by
cross-validated accuracy on the labels: pixels, ImageNet features, and both. The one in use
is kept unless another is clearly better on the same folds (McNemar's test at 5 %): on 30-40
labels accuracies differ by a few items by chance. Without that rule 5 of 12 Fashion-MNIST
runs (simulate, 6 seeds) left both side by side on such a difference, one of them for raw
pixels, after which it fell 0.056 below random sampling. On very large projects the comparison
is skipped, since it would embed every item twice.

The comparison is made once. Later labels are mostly items the model found hard in the
representation it used to pick them, so cross-validation on them favours the other one. On
scikit-learn's digits (simulate, 3 seeds), comparing again every round put 5 of the 60 rounds
of `auto` on ImageNet features, where accuracy fell from about 0.95 to 0.74-0.86; random labels
never switched. A project set to one representation and back to `auto` compares afresh.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

import numpy as np

from aldesk.core.jobs import Job
from aldesk.ml.ids import COMBINED
from aldesk.store import Project

SMALL_IMAGE = 64
COLOUR_SAMPLE = 32
COLOUR_SPREAD = 8.0  # mean max-min over R, G, B, of 255
MIN_LABELS_TO_COMPARE = 30
MAX_ITEMS_TO_COMPARE = 20_000
#: Compared in this order: on equal accuracy the first (the cheapest) is the best, though the
#: one in use stays unless the best is clearly better (`better_by_cv`).
CANDIDATES = ("pixels", "efficientnet_lite0", COMBINED)
#: The chi-squared (1 degree of freedom) a paired difference must exceed to count (5 %).
MCNEMAR_5_PERCENT = 3.841


def _median_size(project: Project) -> int | None:
    rows = project.conn.execute(
        "SELECT MAX(width, height) FROM items WHERE status = 'ok' AND width IS NOT NULL"
    ).fetchall()
    return int(np.median([r[0] for r in rows])) if rows else None


def _in_colour(project: Project, sample: int = COLOUR_SAMPLE) -> bool | None:
    """Whether most of an even sample of the readable items show colour, as the model sees
    them: the mean spread between an image's RGB channels is above COLOUR_SPREAD of 255, so a
    grey image stored as RGB counts as grey. None when none of the sample can be read now."""
    from aldesk.core.errors import UnreadableFile
    from aldesk.services.embedding import model_pixels
    from aldesk.store import items as store_items

    rows = project.conn.execute(
        "SELECT id, kind FROM items WHERE status = 'ok' ORDER BY id").fetchall()
    if not rows:
        return None
    picks = [rows[i] for i in np.unique(np.linspace(0, len(rows) - 1, sample).astype(int))]
    paths = store_items.item_paths(project, [r["id"] for r in picks])
    coloured = seen = 0
    for r in picks:
        try:
            px = model_pixels(paths[r["id"]], r["kind"], SMALL_IMAGE)
        except (UnreadableFile, OSError):
            continue  # a file gone or broken since the scan says nothing about the others
        seen += 1
        if px.ndim == 3:
            spread = px.max(axis=2).astype(np.int16) - px.min(axis=2)
            coloured += float(spread.mean()) > COLOUR_SPREAD
    return None if seen == 0 else coloured * 2 > seen


def _looks(project: Project) -> tuple[str, str, bool]:
    """(name, reason, settled): the choice before any labels, from the median image size and,
    for small images, whether they are in colour; settled once it rests on images read."""
    size = _median_size(project)
    features = "ImageNet features (EfficientNet-Lite0)"
    if size is None:
        return "efficientnet_lite0", f"no images read yet: {features}", False
    if size > SMALL_IMAGE:
        return "efficientnet_lite0", f"images of {size} px: {features}", True
    colour = _in_colour(project)
    both = f"raw pixels and {features} side by side"
    if colour is None:
        return COMBINED, (f"images are small ({size} px); none of a sample could be read to "
                          f"see their colour, so {both} for now"), False
    if colour:
        return "efficientnet_lite0", f"images are small ({size} px) but in colour: {features}", True
    return COMBINED, f"images are small ({size} px) and grey: {both}", True


def by_looks(project: Project) -> tuple[str, str]:
    """(name, reason): the choice before any labels, from the median image size and, for
    small images, whether they are in colour. Reads only."""
    name, reason, _ = _looks(project)
    return name, reason


def choose_representation(project: Project, job: Job | None = None) -> tuple[str, str]:
    """(representation name, reason in words). Records both in the project's meta."""
    setting = project.meta("representation") or "auto"
    decided = project.meta("representation_decided")
    # A setting other than auto forgets a decision, and the look at the images.
    record = [("representation_decided", ""), ("representation_looks", "")]
    if setting != "auto":
        name, reason = setting, "chosen for this project"
    elif decided in CANDIDATES:
        name, reason = decided, project.meta("representation_reason") or ""
        record = []
    else:
        looked = (project.meta("representation_looks") or "").split("\t", 1)
        if looked[0] in CANDIDATES and len(looked) == 2:  # looked once: no decoding each round
            name, reason = looked
            record = []
        else:
            name, reason, settled = _looks(project)
            record = [("representation_looks", f"{name}\t{reason}")] if settled else []
        compared = _compare(project, name, job)
        if compared is not None:
            name, reason = compared[0], f"{compared[1]} (compared once)"
            record.append(("representation_decided", name))
    with project.transaction() as conn:
        conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                         [("representation_used", name), ("representation_reason", reason),
                          *record])
    return name, reason


def clearly_better(better: np.ndarray, worse: np.ndarray) -> bool:
    """Whether paired right/wrong outcomes (L,) bool on the same labels show `better` ahead of
    `worse` beyond chance: McNemar's test (continuity-corrected, 5 %) on the labels where only
    one of the two is right."""
    b, c = int((better & ~worse).sum()), int((worse & ~better).sum())
    return b > c and (b - c - 1) ** 2 > MCNEMAR_5_PERCENT * (b + c)


def better_by_cv(candidates: dict[str, tuple[np.ndarray, Any]], y: np.ndarray,
                 start: str | None = None) -> tuple[str, str] | None:
    """(name, reason) of the candidate whose single head has the best cross-validated accuracy
    on the labels y (L,); candidates maps a name to (its (L, D) vectors of the labeled items,
    the heads' input preprocessing fitted on the pool), and the first of equal scores wins.
    The `start` candidate, the one in use, is kept unless the best is clearly better on the
    same folds (`clearly_better`): on 30-40 labels accuracies differ by a few items by chance,
    and the labels the start's model picked are the ones it found hard. None while the labels
    are too few."""
    from aldesk.services.train import cross_validated_correct

    if len(y) < MIN_LABELS_TO_COMPARE or len(set(y.tolist())) < 2:
        return None
    correct = {}
    for name, (x, prep) in candidates.items():
        right = cross_validated_correct(x, y, prep=prep)
        if right is None:
            return None
        correct[name] = right
    scores = {k: float(v.mean()) for k, v in correct.items()}
    best = max(scores, key=lambda k: scores[k])
    kept = (start is not None and start in correct and best != start
            and not clearly_better(correct[best], correct[start]))
    chosen = start if kept and start is not None else best
    others = " and ".join(f"{scores[k]:.3f} ({k})" for k in scores if k != chosen)
    why = ": no other clearly better (McNemar's test, 5 %)" if kept else ""
    return chosen, (f"cross-validated accuracy {scores[chosen]:.3f} ({chosen}) against "
                    f"{others} on {len(y)} labels{why}")


def _compare(project: Project, start: str, job: Job | None
             ) -> tuple[str, str] | None:
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
    common = reduce(np.intersect1d, (ids for ids, _, _ in matrices.values()))  # in all
    pos, y = labeled_arrays(project, common)
    labeled = common[pos]
    return better_by_cv({name: (x[np.searchsorted(ids, labeled)], prep)
                         for name, (ids, x, prep) in matrices.items()}, y, start)
