"""Model versions (trained committees) and the scores they gave the pool."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

import numpy as np

from aldesk.core.clock import utc_now
from aldesk.store.project import Project


@dataclass(frozen=True)
class ModelRow:
    version: int
    created_at: str
    representation: str
    head: str
    labels_used: int
    last_annotation_id: int | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    weights: bytes | None
    weights_format: str | None


def _row(r: sqlite3.Row) -> ModelRow:
    return ModelRow(r["version"], r["created_at"], r["representation"], r["head"],
                    r["labels_used"], r["last_annotation_id"], json.loads(r["params"]),
                    json.loads(r["metrics"]), r["weights"], r["weights_format"])


def add_model(project: Project, *, representation: str, head: str, labels_used: int,
              last_annotation_id: int | None, params: dict[str, Any], metrics: dict[str, Any],
              weights: bytes, weights_format: str = "npz") -> int:
    with project.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO models (created_at, representation, head, labels_used,"
            " last_annotation_id, params, metrics, weights, weights_format)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (utc_now(), representation, head, labels_used, last_annotation_id,
             json.dumps(params, sort_keys=True), json.dumps(metrics, sort_keys=True), weights,
             weights_format))
        return int(cur.lastrowid or 0)


def latest_model(project: Project) -> ModelRow | None:
    r = project.conn.execute("SELECT * FROM models ORDER BY version DESC LIMIT 1").fetchone()
    return None if r is None else _row(r)


def latest_digest(project: Project) -> str | None:
    """The labels digest of the newest model version (None: no version, or none recorded),
    without reading its weights."""
    r = project.conn.execute("SELECT params FROM models ORDER BY version DESC LIMIT 1"
                             ).fetchone()
    return None if r is None else json.loads(r[0] or "{}").get("labels_digest")


def newest_before(project: Project, representation: str, max_labels: int) -> ModelRow | None:
    """The newest model version with weights trained on at most `max_labels` labels, among
    the versions on `representation` since the last one on another (an older run on the same
    representation was trained before a switch and back). Reads one version's weights."""
    found = None
    for r in project.conn.execute(
            "SELECT version, representation, labels_used, weights IS NOT NULL AND"
            " length(weights) > 0 FROM models ORDER BY version DESC"):
        if r[1] != representation:
            break
        if r[2] <= max_labels and r[3]:
            found = r[0]
            break
    if found is None:
        return None
    return _row(project.conn.execute("SELECT * FROM models WHERE version = ?",
                                     (found,)).fetchone())


def put_scores(project: Project, version: int, strategy: str, item_ids: np.ndarray,
               scores: np.ndarray, ranks: np.ndarray, probs: np.ndarray, chunk: int = 1000,
               atomic: bool = False) -> None:
    """Scores of one model version and strategy (replacing those it had); `probs` (N, C)
    stored as float16 blobs.

    Written best rank first in transactions of `chunk` rows, so a label written meanwhile by
    the UI thread never waits long for the database, and a reader that comes in between sees
    a prefix of the ranking, never a ranking with holes. `atomic`: in one transaction, for a
    short list that must never be seen half replaced (stream mode's arrivals).
    """
    order = np.argsort(np.asarray(ranks), kind="stable")
    half = np.asarray(probs, "<f2")
    ids, values, places = (np.asarray(item_ids).tolist(), np.asarray(scores).tolist(),
                           np.asarray(ranks).tolist())
    step = max(1, len(order)) if atomic else chunk
    with project.transaction() as conn:
        conn.execute("DELETE FROM scores WHERE model_version = ? AND strategy = ?",
                     (version, strategy))
        if atomic:
            _insert_scores(conn, version, strategy, ids, values, places, half, order)
            return
    for start in range(0, len(order), step):  # rows made per chunk: few objects alive at once
        with project.transaction() as conn:
            _insert_scores(conn, version, strategy, ids, values, places, half,
                           order[start:start + step])


def _insert_scores(conn: sqlite3.Connection, version: int, strategy: str, ids: list[int],
                   values: list[float], places: list[int], half: np.ndarray,
                   order: np.ndarray) -> None:
    rows = [(version, strategy, ids[k], values[k], places[k], half[k].tobytes())
            for k in order.tolist()]
    conn.executemany("INSERT INTO scores (model_version, strategy, item_id, score, rank,"
                     " probabilities) VALUES (?, ?, ?, ?, ?, ?)", rows)


def ranked_scores(project: Project, version: int, strategy: str, limit: int
                  ) -> list[sqlite3.Row]:
    return project.conn.execute(
        "SELECT item_id, score, rank, probabilities FROM scores WHERE model_version = ?"
        " AND strategy = ? ORDER BY rank LIMIT ?", (version, strategy, limit)).fetchall()
