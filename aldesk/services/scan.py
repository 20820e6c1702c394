"""`aldesk scan`: what a folder holds, file by file, without a project."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from aldesk.core.errors import require_folder
from aldesk.core.jobs import Job, step
from aldesk.core.pathtext import printable
from aldesk.io.headers import file_info
from aldesk.io.render import max_pixels
from aldesk.io.scan import walk


def scan_folder(root: Path, job: Job | None = None) -> dict[str, Any]:
    """Every candidate file below `root` with status, reason, kind and size; broken files are
    listed like the others, with the reason they cannot be shown."""
    root = Path(root).expanduser()
    require_folder(root)
    start = time.perf_counter()
    paths = list(walk(root, job))
    limit = max_pixels()
    items = []
    for n, (path, kind) in enumerate(paths):
        step(job, n, len(paths), "reading headers", every=500)
        info = file_info(path, kind, limit)
        items.append({
            "path": printable(path.relative_to(root).as_posix()),
            "kind": info.kind,
            "status": info.status,
            "reason": info.reason,
            "width": info.width,
            "height": info.height,
            "frames": info.frames,
        })
    seconds = time.perf_counter() - start
    if job is not None:
        job.progress(len(paths), len(paths), "reading headers")
    status = Counter(i["status"] for i in items)
    return {
        "items": items,
        "summary": {
            "folder": str(root.resolve()),
            "files": len(items),
            "ok": status.get("ok", 0),
            "error": status.get("error", 0),
            "by_kind": dict(Counter(i["kind"] for i in items)),
            "seconds": round(seconds, 3),
            "files_per_second": round(len(items) / seconds, 1) if seconds > 0 else None,
        },
    }
