"""Rotating backups of the project file, made with SQLite's online backup API."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

KEEP = 5


def backup_dir(project_path: Path) -> Path:
    return project_path.with_name(project_path.name + "-backups")


def make_backup(conn: sqlite3.Connection, project_path: Path, tag: str = "open") -> Path:
    """Copy the live database to `NAME.aldesk-backups/` and keep the newest `KEEP` copies.

    Copies tagged other than "open" (for example "before-migration-to-2") are never rotated out.
    """
    folder = backup_dir(project_path)
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder / f"{project_path.stem}-{stamp}-{tag}.aldesk"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{project_path.stem}-{stamp}-{tag}-{n}.aldesk"
    partial = target.with_name(target.name + ".partial")
    dest = sqlite3.connect(partial)
    try:
        conn.backup(dest)
    finally:
        dest.close()
    partial.replace(target)
    rotating = sorted(
        folder.glob(f"{project_path.stem}-*-open*.aldesk"), key=lambda p: p.stat().st_mtime_ns
    )
    for old in rotating[:-KEEP]:
        old.unlink(missing_ok=True)
    return target
