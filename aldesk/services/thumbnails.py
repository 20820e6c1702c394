"""Making an item's thumbnail, in the worker, for the queue and the gallery."""

from __future__ import annotations

from pathlib import Path

from aldesk.core import paths
from aldesk.core.errors import UnreadableFile
from aldesk.core.jobs import Job, step
from aldesk.io.thumbnails import make_thumbnail
from aldesk.store import Project
from aldesk.store import items as store_items


def thumbnail_cache(project: Project) -> Path:
    """Per project, under the user cache folder: a cache, never part of the project file."""
    return paths.cache_dir() / "thumbnails" / (project.meta("project_id") or "unknown")


def make_thumbnails(project: Project, item_ids: list[int], job: Job | None = None
                    ) -> dict[int, Path]:
    """Thumbnails for `item_ids` (cached ones are reused). An item that cannot be shown gets
    status 'error' with the reason, and no thumbnail."""
    cache = thumbnail_cache(project)
    where = store_items.item_paths(project)
    done: dict[int, Path] = {}
    failed = []
    for n, item_id in enumerate(item_ids):
        step(job, n, len(item_ids), "making thumbnails", every=20)
        item = store_items.get_item(project, item_id)
        if item is None or item.status in ("error", "missing"):
            continue
        try:
            done[item_id] = make_thumbnail(where[item_id], item.kind, item.content_key, cache)
        except UnreadableFile as err:
            failed.append((item_id, str(err)))
    if failed:
        store_items.set_error(project, failed)
    if job is not None:
        job.progress(len(item_ids), len(item_ids), "making thumbnails")
    return done
