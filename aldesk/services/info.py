"""A summary of a project: counts, classes, sources, model versions."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from aldesk.core.pathtext import printable
from aldesk.ml.ids import is_current
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes
from aldesk.store import items as store_items


def project_info(project: Project) -> dict[str, Any]:
    from aldesk.services.stream import stream_state

    conn = project.conn
    status = store_items.count_by_status(project)
    total = sum(status.values())
    kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM items GROUP BY kind").fetchall())
    states = store_ann.current_all(project)
    by_kind = Counter(s.kind for s in states.values())
    per_class = Counter(c for s in states.values() if s.kind == "label" for c in s.class_ids)
    classes = store_classes.list_classes(project)
    names = {c.id: c.name for c in classes}
    per_source = dict(conn.execute(
        "SELECT source_id, COUNT(*) FROM items GROUP BY source_id").fetchall())
    models = [
        {
            "version": r["version"], "created_at": r["created_at"],
            "representation": r["representation"], "head": r["head"],
            "labels_used": r["labels_used"], "last_annotation_id": r["last_annotation_id"],
            "labels_digest": json.loads(r["params"] or "{}").get("labels_digest"),
            "metrics": _named_counts(json.loads(r["metrics"]), names),
            "current_preprocessing": is_current(r["representation"]),
        }
        for r in conn.execute(
            "SELECT version, created_at, representation, head, labels_used,"
            " last_annotation_id, params, metrics FROM models ORDER BY version")
    ]
    annotators = Counter(s.annotator for s in states.values() if s.kind == "label")
    unlabeled = _unlabeled(project, states)
    return {
        "project": str(project.path.resolve()),
        "project_id": project.meta("project_id"),
        "created": project.meta("created"),
        "app_version": project.meta("app_version"),
        "schema_version": project.schema_version,
        "label_mode": project.label_mode,
        "items": {"total": total, **{k: status.get(k, 0) for k in
                                      ("pending", "ok", "error", "missing")}, "by_kind": kinds},
        "labels": {
            "labeled": by_kind.get("label", 0),
            "skipped": by_kind.get("skip", 0),
            "unsure": by_kind.get("unsure", 0),
            "unlabeled": len(unlabeled),
            "annotation_rows": store_ann.count_rows(project),
            "annotators": dict(annotators),
        },
        "classes": [
            {
                "name": c.name, "hotkey": c.hotkey, "colour": c.colour, "labels": per_class[c.id],
                "archived": c.archived,
                "merged_into": names.get(c.merged_into) if c.merged_into else None,
            }
            for c in classes
        ],
        "sources": [
            {"path": printable(s.path), "location": printable(str(s.root)), "exists": s.exists,
             "items": per_source.get(s.id, 0)}
            for s in store_items.list_sources(project)
        ],
        "models": models,
        "metrics": models[-1]["metrics"] if models else {},
        "representation": {
            "setting": project.meta("representation") or "auto",
            "used": project.meta("representation_used"),
            "reason": project.meta("representation_reason"),
        },
        "stopping": stopping_of(project, by_kind.get("label", 0)),
        "audit": _audit(project),
        "stream": stream_state(project, unlabeled),
    }


def _unlabeled(project: Project, states: dict[int, Any]) -> list[int]:
    """Readable (or not yet decoded) items with no label, skip or unsure: what is left to
    label. Unreadable and missing files are counted under items, not here."""
    rows = project.conn.execute("SELECT id FROM items WHERE status IN ('ok', 'pending')")
    return [item_id for (item_id,) in rows if item_id not in states]


def _named_counts(metrics: dict[str, Any], names: dict[int, str]) -> dict[str, Any]:
    """A model's metrics with its labels per class keyed by class name, as the user knows them
    now (the project stores class ids, which survive a rename)."""
    counts = metrics.get("per_class")
    if isinstance(counts, dict):
        metrics["per_class"] = {names.get(int(c), f"class {c}"): n for c, n in counts.items()}
    return metrics


def _audit(project: Project) -> dict[str, Any] | None:
    """The accuracy measured on audit items (random, labeled blind), or None before any."""
    from aldesk.services.audit import audit_estimate

    est = audit_estimate(project)
    if est is None:
        return None
    return {"accuracy": round(est.accuracy, 4), "audits": est.audits, "correct": est.correct,
            "interval": [round(est.low, 4), round(est.high, 4)],
            "model_versions": [est.first_version, est.last_version], "text": est.text()}


def stopping_of(project: Project, labeled: int) -> dict[str, Any]:
    """When to stop, for a project with `labeled` labels: see `_stopping`. Light enough for
    the window to ask after each training round."""
    models = [
        {"version": r["version"], "representation": r["representation"],
         "last_annotation_id": r["last_annotation_id"], "labels_used": r["labels_used"],
         "labels_digest": json.loads(r["params"] or "{}").get("labels_digest"),
         "metrics": json.loads(r["metrics"] or "{}")}
        for r in project.conn.execute(
            "SELECT version, representation, last_annotation_id, labels_used, params, metrics"
            " FROM models ORDER BY version")
    ]
    return _stopping(models, labeled, project.meta("label_budget"))


def _stopping(models: list[dict[str, Any]], labeled: int, budget: str | None
              ) -> dict[str, Any]:
    """Stabilizing predictions and the labeling budget, when the project has one. The
    agreements (kappa) are those along the chain of comparisons back from the newest version
    that has one, among the versions on the newest model's representation (al.stopping);
    versions with too few labels since an earlier one record none."""
    from aldesk.al.stopping import MIN_LABELS_APART, comparison_chain, stabilized

    by_version = {m["version"]: m for m in models}
    links: dict[int, tuple[int, float]] = {}  # version -> (version compared with, kappa)
    switched = None
    for m in reversed(models):
        if m["representation"] != models[-1]["representation"]:
            switched = m["version"] + 1  # its agreements say nothing about the newest model
            break
        if "agreement_with_previous" not in m["metrics"]:
            continue
        before = m["metrics"].get("agreement_previous_version", m["version"] - 1)
        if _far_enough(by_version.get(before), m, MIN_LABELS_APART):
            links[m["version"]] = (before, m["metrics"]["agreement_with_previous"])
    run = comparison_chain(max(links), links) if links else []
    kappas = [k for _, _, k in run]
    changed = by_version[run[-1][1]]["metrics"].get("predictions_changed") if run else None
    stable = stabilized(kappas)
    limit = int(budget) if budget and budget.isdigit() else None
    spent = limit is not None and labeled >= limit
    if spent:
        note = f"the labeling budget of {limit} is spent"
    elif not kappas:
        note = f"needs two model versions trained at least {MIN_LABELS_APART} labels apart"
        if switched is not None:
            note += f" since the representation changed (version {switched})"
    elif stable:
        note = "predictions have stabilized: further labels change little; consider stopping"
    else:
        note = "predictions still change between model versions"
    if run:
        before, after, kappa = run[-1]
        moved = ("" if not changed else
                 f": {changed[0]:,} of {changed[1]:,} sampled predictions changed")
        note += f" (agreement {kappa:.3f}{moved}, version {before} against {after})"
    if limit is not None and not spent:
        note += f"; {limit - labeled} labels left of a budget of {limit}"
    return {"agreements": kappas, "compared_versions": [[b, a] for b, a, _ in run],
            "stable": stable, "budget": limit, "budget_spent": spent, "note": note}


def _far_enough(a: dict[str, Any] | None, b: dict[str, Any], apart: int) -> bool:
    """Whether version b's comparison with version a counts: a was trained on other labels,
    at least `apart` fewer (older files compared each version with the one before it, a few
    labels or none apart)."""
    if a is None or _same_labels(a, b):
        return False
    return bool(a["labels_used"] <= b["labels_used"] - apart)


def _same_labels(a: dict[str, Any] | None, b: dict[str, Any]) -> bool:
    """Whether two model versions were trained on the same labels."""
    if a is None:
        return False
    if a.get("labels_digest") and b.get("labels_digest"):
        return bool(a["labels_digest"] == b["labels_digest"])
    return a.get("last_annotation_id") == b.get("last_annotation_id")


def format_info(info: dict[str, Any]) -> str:
    """The summary as text for a terminal."""
    items, labels = info["items"], info["labels"]
    lines = [
        f"project   {info['project']}",
        f"items     {items['total']} ({items['ok']} ok, {items['pending']} not yet decoded, "
        f"{items['error']} unreadable, {items['missing']} missing)",
        f"labels    {labels['labeled']} labeled, {labels['unlabeled']} unlabeled, "
        f"{labels['skipped']} skipped, {labels['unsure']} unsure",
    ]
    active = [c for c in info["classes"] if not c["archived"]]
    if active:
        lines.append("classes   " + ", ".join(
            f"{c['name']} [{c['hotkey'] or '-'}] {c['labels']}" for c in active))
    else:
        lines.append("classes   none yet")
    inactive = [c for c in info["classes"] if c["archived"]]
    for c in inactive:
        where = f"merged into {c['merged_into']}" if c["merged_into"] else "archived"
        lines.append(f"          {c['name']} ({where}) {c['labels']}")
    for s in info["sources"]:
        flag = "" if s["exists"] else "  (NOT FOUND: use 'aldesk relink')"
        lines.append(f"folder    {s['location']}: {s['items']} items{flag}")
    if info["models"]:
        m = info["models"][-1]
        cv = m["metrics"].get("cv_accuracy")
        acc = f", cross-validated accuracy {cv:.3f}" if cv is not None else ""
        lines.append(f"model     version {m['version']} on {m['labels_used']} labels{acc}")
        if not m["current_preprocessing"]:
            lines.append(f"          trained on {m['representation']}, which this aldesk "
                         "embeds differently now: the next retrain re-embeds every item")
    else:
        lines.append("model     none trained yet")
    rep = info["representation"]
    if rep["used"]:  # chosen when the items were first embedded, model or not
        lines.append(f"features  {rep['used']}: {rep['reason']}")
    if info["models"]:
        lines.append(f"stopping  {info['stopping']['note']}")
        audit = info["audit"]
        lines.append("audit     " + ("none yet: every 10th item of the app's queue is drawn at "
                                     "random and labeled without the model's guess"
                                     if audit is None else f"accuracy {audit['text']}"))
    if info["stream"] is not None:
        lines.append(f"stream    {stream_words(info['stream'])}")
    return "\n".join(lines)


def stream_words(stream: dict[str, Any]) -> str:
    """What watching a folder left, in words: e.g. '3 admitted arrivals to label; 12 of the
    last 200 arrivals admitted (confidence threshold 0.83)'."""
    parts = [f"{stream['queued']} admitted arrival{'s' * (stream['queued'] != 1)} to label"]
    if stream["waiting"]:
        parts.append(f"{stream['waiting']} waiting to be read (still being written or "
                     "unreadable)")
    if stream["recent_arrivals"]:
        threshold = ("" if stream["threshold"] is None
                     else f" (confidence threshold {stream['threshold']:.2f})")
        parts.append(f"{stream['recent_admitted']} of the last {stream['recent_arrivals']} "
                     f"arrivals admitted{threshold}")
    return "; ".join(parts)
