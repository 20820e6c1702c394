"""The ranked queue, read from saved scores of the newest model version."""

from __future__ import annotations

from typing import Any

import numpy as np

from aldesk.ml.ids import raw_pixels
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes
from aldesk.store import items as store_items
from aldesk.store import models as store_models
from aldesk.store.embeddings import get_vectors

STREAM = "stream"
NO_MODEL = ("no model yet: these are the most typical items (typicality), the ones to label "
            "first; once two classes have labels, 'aldesk train' ranks by what the model needs")


def cold_start_queue(project: Project, top: int) -> dict[str, Any]:
    """The queue before any model: the `top` most typical items with no label, skip or
    unsure yet, among those already embedded (by 'aldesk train', or the app), with no
    predictions. Reads only: a project the app has open is not disturbed."""
    from aldesk.al.policy import COLD_START
    from aldesk.ml.ids import representation_id
    from aldesk.services.ranking import cold_start_order
    from aldesk.services.representation import by_looks

    name = project.meta("representation_used") or by_looks(project)[0]
    if name.startswith("torchscript:"):  # its id hashes the user's file: build it
        from aldesk.ml.backbones import get_representation

        rep_id = get_representation(name).id
    else:
        rep_id = representation_id(name)
    order, scores = cold_start_order(project, rep_id, set(store_ann.current_all(project)))
    readable = project.conn.execute(
        "SELECT COUNT(*) FROM items WHERE status = 'ok'").fetchone()[0]
    paths = store_items.item_paths(project, order[:top].tolist())
    items = [{"item": int(i), "path": str(paths[int(i)]), "rank": k,
              "score": round(float(scores[k]), 6), "strategy": COLD_START,
              "predicted": None, "probability": None, "votes": {}}
             for k, i in enumerate(order[:top].tolist())]
    if not readable:
        note = "nothing to label: the project has no readable items"
    elif not len(order) and not project.meta("representation_used"):
        note = ("no model and nothing embedded yet: 'aldesk train' embeds the items (and "
                "trains once two classes have labels), or open the project in the app")
    else:
        note = NO_MODEL
    return {"model_version": None, "strategy": COLD_START, "labels_since": 0,
            "items": items, "note": note}


def queue(project: Project, top: int) -> dict[str, Any]:
    """The `top` unlabeled items by rank, with the model's prediction and committee votes.

    Items labeled since the scores were computed are left out; the ranking is otherwise the
    saved one, so its staleness is honest (`model_version`, `labels_since`).
    """
    model = store_models.latest_model(project)
    if model is None:
        return cold_start_queue(project, top)
    from aldesk.al.policy import stands_for
    from aldesk.ml.committee import Committee  # torch: not needed before any model

    strategy = str(model.params.get("strategy", "auto"))
    labeled = set(store_ann.current_all(project))
    names = {c.id: c.name for c in store_classes.list_classes(project)}
    class_ids = [int(c) for c in model.params.get("classes", [])]
    # Informative arrivals admitted by stream mode come first, then the full ranking.
    arrivals = [(r, STREAM) for r in store_models.ranked_scores(
        project, model.version, STREAM, top + len(labeled))]
    ranked = [(r, strategy) for r in store_models.ranked_scores(
        project, model.version, strategy, top + len(labeled) + len(arrivals))]
    seen: set[int] = set()
    rows = []
    for r, why in arrivals + ranked:
        if r["item_id"] in labeled or r["item_id"] in seen:
            continue
        seen.add(r["item_id"])
        rows.append((r, why))
    rows = rows[:top]
    committee = Committee.from_bytes(model.weights) if model.weights else None
    votes_of: dict[int, list[int]] = {}
    if committee is not None and rows:
        keys = {}
        for r, _ in rows:
            item = store_items.get_item(project, r["item_id"])
            if item is not None:
                keys[r["item_id"]] = item.content_key
        x, found = get_vectors(project, model.representation, list(keys.values()))
        ids = [i for i, ok in zip(keys, found, strict=True) if ok]
        if ids:
            member_votes = committee.predict_proba(x[found]).argmax(axis=2)  # (M, n)
            for k, item_id in enumerate(ids):
                counts = np.bincount(member_votes[:, k], minlength=len(class_ids))
                votes_of[item_id] = counts.tolist()
    paths = store_items.item_paths(project)
    items = []
    for r, why in rows:
        probs = np.frombuffer(r["probabilities"], "<f2").astype(float)
        best = int(probs.argmax())
        votes = votes_of.get(r["item_id"], [])
        items.append({
            "item": r["item_id"],
            "path": str(paths[r["item_id"]]),
            "rank": len(items),  # in this queue: stream arrivals first, then the ranking
            "score": round(float(r["score"]), 6),
            "strategy": why,
            "predicted": names.get(class_ids[best], str(class_ids[best])),
            "probability": round(float(probs[best]), 4),
            "votes": {names.get(c, str(c)): v for c, v in zip(class_ids, votes, strict=False)
                      if v},
        })
    newest = project.conn.execute("SELECT MAX(id) FROM annotations").fetchone()[0] or 0
    since = project.conn.execute(
        "SELECT COUNT(*) FROM annotations WHERE id > ?", (model.last_annotation_id or 0,)
    ).fetchone()[0]
    return {"model_version": model.version, "strategy": strategy,
            "resolved": model.params.get("resolved_strategy") or stands_for(
                strategy, raw_pixels(model.representation)),
            "labels_since": since,
            "newest_annotation": newest, "items": items}
