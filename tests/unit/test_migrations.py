"""Forward migrations: a test per step, from a frozen copy of every released schema."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from aldesk.store import Project, backup, migrations, schema
from aldesk.store import annotations as ann
from aldesk.store import classes as cls

DATA = Path(__file__).parent.parent / "data"


def signature(conn: sqlite3.Connection) -> dict[str, object]:
    """Tables with their columns, plus index and trigger names: what a migration must match."""
    out: dict[str, object] = {}
    for kind, name in conn.execute(
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY name"
    ):
        if kind == "table":
            cols = conn.execute(f"PRAGMA table_info({name})").fetchall()
            out[name] = [(c[1], c[2].upper(), c[3], c[5]) for c in cols]
        else:
            out[name] = kind
    return out


def frozen_file(tmp_path: Path, version: int) -> Path:
    """A project file of an old `version`, made from its frozen schema, with some data."""
    path = tmp_path / f"old-v{version}.aldesk"
    conn = sqlite3.connect(path)
    conn.executescript((DATA / f"schema_v{version}.sql").read_text())
    conn.execute(f"PRAGMA application_id = {schema.APPLICATION_ID}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("schema_version", str(version)), ("project_id", "0" * 32), ("created", "2026-01-01"),
        ("app_version", "0.1.0"), ("label_mode", "single")])
    conn.execute("INSERT INTO sources VALUES (1, 'data', '/data', '2026-01-01')")
    conn.execute("INSERT INTO items (id, source_id, rel_path, content_key, kind, size, mtime,"
                 " added_at) VALUES (1, 1, 'a.png', 'k', 'image', 1, 0, '2026-01-01')")
    conn.execute("INSERT INTO classes (id, name, hotkey, colour, position, created_at)"
                 " VALUES (1, 'normal', '1', '#000000', 1, '2026-01-01')")
    conn.execute("INSERT INTO annotations (id, item_id, kind, annotator, created_at)"
                 " VALUES (1, 1, 'label', 'dr a', '2026-01-01')")
    conn.execute("INSERT INTO annotation_classes VALUES (1, 1)")
    conn.commit()
    conn.close()
    return path


def test_the_current_schema_is_frozen(tmp_path):
    """A schema change needs a new version, a migration step and a frozen copy."""
    frozen = DATA / f"schema_v{schema.SCHEMA_VERSION}.sql"
    assert frozen.exists(), f"freeze the new schema as {frozen.name}"
    Project.create(tmp_path / "fresh").close()
    fresh = sqlite3.connect(tmp_path / "fresh.aldesk")
    ref = sqlite3.connect(":memory:")
    ref.executescript(frozen.read_text())
    assert signature(fresh) == signature(ref)


def test_every_old_version_has_a_step():
    assert sorted(migrations.STEPS) == list(range(1, schema.SCHEMA_VERSION))
    for version in range(1, schema.SCHEMA_VERSION + 1):
        assert (DATA / f"schema_v{version}.sql").exists()


@pytest.mark.parametrize("version", range(1, schema.SCHEMA_VERSION + 1))
def test_migrating_from_each_version_matches_a_fresh_file_and_keeps_labels(tmp_path, version):
    old = frozen_file(tmp_path, version)
    with Project.open(old) as p:
        assert p.schema_version == schema.SCHEMA_VERSION
        assert ann.current(p, 1).class_ids == (1,)
        assert cls.list_classes(p)[0].name == "normal"
    Project.create(tmp_path / "fresh").close()
    assert signature(sqlite3.connect(old)) == signature(
        sqlite3.connect(tmp_path / "fresh.aldesk"))


def _add_column(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE items ADD COLUMN burned_in INTEGER")


def _broken_step(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE items ADD COLUMN half_done INTEGER")
    raise sqlite3.OperationalError("disk I/O error, say")


def test_the_migration_machinery_steps_backs_up_and_records(tmp_path, monkeypatch):
    old = frozen_file(tmp_path, schema.SCHEMA_VERSION)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(migrations.STEPS, schema.SCHEMA_VERSION - 1, _add_column)
    with Project.open(old) as p:
        assert p.schema_version == schema.SCHEMA_VERSION
        cols = [c[1] for c in p.conn.execute("PRAGMA table_info(items)")]
        assert "burned_in" in cols
        assert ann.current(p, 1) is not None
    kept = list(backup.backup_dir(old).glob(f"*before-format-{schema.SCHEMA_VERSION}*"))
    assert len(kept) == 1
    copy = sqlite3.connect(kept[0])
    version = copy.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert int(version) == schema.SCHEMA_VERSION - 1


def test_a_failing_step_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    old = frozen_file(tmp_path, schema.SCHEMA_VERSION)
    before = signature(sqlite3.connect(old))
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(migrations.STEPS, schema.SCHEMA_VERSION - 1, _broken_step)
    with pytest.raises(sqlite3.OperationalError):
        Project.open(old)
    conn = sqlite3.connect(old)
    assert signature(conn) == before
    version = conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0]
    assert int(version) == schema.SCHEMA_VERSION - 1
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_readers_do_not_migrate(tmp_path, monkeypatch):
    from aldesk.store.project import OutdatedProjectError

    old = frozen_file(tmp_path, schema.SCHEMA_VERSION)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    monkeypatch.setitem(migrations.STEPS, schema.SCHEMA_VERSION - 1, _add_column)
    with pytest.raises(OutdatedProjectError, match=re.escape("open it once for writing")):
        Project.open(old, readonly=True)
