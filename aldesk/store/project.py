"""Opening, creating and closing a project file.

Durability rules (DESIGN.md, "The project file"): WAL journal, `synchronous=FULL`, one
transaction per user action committed before the caller moves on, one writing process at a time
(`lock.ProjectLock`), rotating backups on every writable open. Readers (`readonly=True`) take no
lock and see a consistent snapshot while a writer works.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from aldesk import __version__
from aldesk.core.clock import utc_now
from aldesk.core.errors import InputError, NewerProjectError, NotAProjectError
from aldesk.store import backup, migrations, schema
from aldesk.store.gate import gate_for
from aldesk.store.lock import ProjectLock

log = logging.getLogger(__name__)

PROJECT_SUFFIX = ".aldesk"
LABEL_MODES = ("single", "multi")


class OutdatedProjectError(InputError):
    """A read-only open met a file of an older format, which only a writer may migrate."""


def project_path(name: str | Path) -> Path:
    """`NAME` or `NAME.aldesk` as a path that ends in `.aldesk`."""
    path = Path(name).expanduser()
    return path if path.suffix == PROJECT_SUFFIX else path.with_name(path.name + PROJECT_SUFFIX)


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro", uri=True,
                               isolation_level=None)
    else:
        conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    if not readonly:
        conn.execute("PRAGMA synchronous = FULL")
    return conn


class Project:
    """An open project file. Use as a context manager, or call `close()`."""

    def __init__(self, path: Path, conn: sqlite3.Connection, lock: ProjectLock | None,
                 *, attached: bool = False) -> None:
        self.path = path
        self.conn = conn
        self._lock = lock
        self._attached = attached

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def create(cls, path: str | Path, *, label_mode: str = "single") -> Project:
        path = project_path(path)
        if label_mode not in LABEL_MODES:
            raise InputError(f"label mode must be one of {', '.join(LABEL_MODES)}")
        if path.exists():
            raise InputError(f"{path} already exists; open it, or choose another name")
        if not path.parent.is_dir():
            raise InputError(f"folder {path.parent} does not exist")
        lock = ProjectLock(path)
        lock.acquire()
        try:
            conn = _connect(path, readonly=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
            conn.execute("BEGIN IMMEDIATE")
            for statement in _statements(schema.SCHEMA):
                conn.execute(statement)
            now = utc_now()
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [
                    ("schema_version", str(schema.SCHEMA_VERSION)),
                    ("project_id", uuid.uuid4().hex),
                    ("created", now),
                    ("created_by", __version__),
                    ("app_version", __version__),
                    ("label_mode", label_mode),
                ],
            )
            conn.execute("COMMIT")
        except BaseException:
            lock.release()
            path.unlink(missing_ok=True)
            raise
        log.info("created project %s", path)
        return cls(path, conn, lock)

    @classmethod
    def open(cls, path: str | Path, *, readonly: bool = False, backup_on_open: bool = True
             ) -> Project:
        path = Path(path).expanduser()
        if not path.exists() and path.suffix != PROJECT_SUFFIX:
            path = project_path(path)
        _check_is_sqlite(path)
        lock = None if readonly else ProjectLock(path)
        if lock:
            lock.acquire()
        conn = None
        try:
            try:
                conn = _connect(path, readonly)
            except sqlite3.DatabaseError as err:
                raise NotAProjectError(
                    f"{path} is damaged or not an aldesk project file ({err})") from err
            version = _schema_version(conn, path)
            if version > schema.SCHEMA_VERSION:
                writer = _meta(conn, "app_version") or "a newer version"
                raise NewerProjectError(
                    f"{path.name} was written by aldesk {writer} (project format {version}); "
                    f"this aldesk {__version__} reads formats up to {schema.SCHEMA_VERSION}. "
                    "Update aldesk to open it."
                )
            if version < schema.SCHEMA_VERSION:
                if readonly:
                    raise OutdatedProjectError(
                        f"{path.name} uses project format {version}; open it once for writing "
                        f"to upgrade it to format {schema.SCHEMA_VERSION}"
                    )
                _upgrade(conn, path, version)
            project = cls(path, conn, lock)
            if not readonly:
                if backup_on_open:
                    backup.make_backup(conn, path)
                with project.transaction():
                    conn.execute("UPDATE meta SET value = ? WHERE key = 'app_version'",
                                 (__version__,))
        except BaseException:
            if conn is not None:
                conn.close()
            if lock:
                lock.release()
            raise
        return project

    @classmethod
    def attach(cls, path: str | Path) -> Project:
        """A second writable connection to a project this process already holds open (and
        locked) for writing: for the app's worker thread, which must not share the UI
        thread's connection. No lock, no backup, no migration: the owner did those."""
        path = Path(path)
        _check_is_sqlite(path)
        conn = _connect(path, readonly=False)
        if _schema_version(conn, path) != schema.SCHEMA_VERSION:
            conn.close()
            raise NotAProjectError(f"{path} is not open in this aldesk")
        return cls(path, conn, None, attached=True)

    def backup(self) -> Path:
        """A rotating backup now (the app makes it in the worker, after the window is up)."""
        return backup.make_backup(self.conn, self.path)

    # -- use ---------------------------------------------------------------------------------

    @property
    def readonly(self) -> bool:
        return self._lock is None and not self._attached

    @property
    def folder(self) -> Path:
        return self.path.parent

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic, durable unit of work. Re-entrant: an inner block joins the outer one."""
        if self.conn.in_transaction:
            yield self.conn
            return
        # This process's (and its compute process's) writers to the file: a user's action first.
        with gate_for(self.path).hold(foreground=not self._attached):
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.conn
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def meta(self, key: str) -> str | None:
        return _meta(self.conn, key)

    @property
    def label_mode(self) -> str:
        return self.meta("label_mode") or "single"

    @property
    def schema_version(self) -> int:
        return int(self.meta("schema_version") or 0)

    def integrity_check(self) -> str:
        return str(self.conn.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None  # type: ignore[assignment]
        if self._lock:
            self._lock.release()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (triggers contain `;` inside BEGIN ... END)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


def _check_is_sqlite(path: Path) -> None:
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if not path.is_file():
        raise NotAProjectError(f"{path} is not an aldesk project file")
    if not os.access(path, os.R_OK):
        raise InputError(f"cannot read {path}: permission denied")
    # The header is left to SQLite (`_schema_version` says "not an aldesk project file").
    # Opening and closing the file here would drop every POSIX lock this process holds on it,
    # and another process's connection could then delete the WAL that this one still uses
    # (sqlite.org/howtocorrupt.html, 2.2).


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def _schema_version(conn: sqlite3.Connection, path: Path) -> int:
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        value = _meta(conn, "schema_version") if app_id == schema.APPLICATION_ID else None
    except sqlite3.DatabaseError as err:
        raise NotAProjectError(
            f"{path} is damaged or not an aldesk project file ({err})") from err
    if value is None or not value.isdigit():
        raise NotAProjectError(f"{path} is not an aldesk project file")
    return int(value)


def _upgrade(conn: sqlite3.Connection, path: Path, version: int) -> None:
    backup.make_backup(conn, path, tag=f"before-format-{schema.SCHEMA_VERSION}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        migrations.migrate(conn, version, schema.SCHEMA_VERSION)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    log.info("migrated %s from format %d to %d", path, version, schema.SCHEMA_VERSION)
