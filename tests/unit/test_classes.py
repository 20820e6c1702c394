"""Adding, renaming, merging and archiving classes never loses or silently moves a label."""

from __future__ import annotations

from pathlib import Path

import pytest

from aldesk.core.errors import LabelError
from aldesk.core.types import FoundFile
from aldesk.store import Project, items
from aldesk.store import annotations as ann
from aldesk.store import classes as cls


@pytest.fixture
def project(tmp_path: Path):
    (tmp_path / "data").mkdir()
    with Project.create(tmp_path / "p", label_mode="multi") as p:
        source = items.add_source(p, tmp_path / "data")
        items.insert_items(p, source.id, [
            FoundFile(f"{i}.png", i, 0.0, f"k{i}", "image") for i in range(6)])
        yield p


def labels_by_name(p: Project) -> dict[int, set[str]]:
    names = {c.id: c.name for c in cls.list_classes(p)}
    return {i: {names[c] for c in s.class_ids} for i, s in ann.current_all(p).items()}


def test_add_assigns_hotkeys_and_colours(project):
    added = cls.add_classes(project, ["cat", "dog"])
    assert [c.hotkey for c in added] == ["1", "2"]
    later = cls.add_classes(project, ["x", "bird"])
    assert [c.hotkey for c in later] == ["x", "4"]
    assert len({c.colour for c in cls.list_classes(project)}) == 4
    with pytest.raises(LabelError, match="already exists"):
        cls.add_classes(project, ["CAT"])
    for bad in ["", "   ", "a;b", "tab\there", "x" * 65]:
        with pytest.raises(LabelError):
            cls.add_classes(project, [bad])


def test_rename_keeps_labels_on_the_class(project):
    cat, _dog = cls.add_classes(project, ["cat", "dog"])
    ann.record(project, 1, "label", [cat.id], annotator="a")
    cls.rename_class(project, "cat", "feline")
    assert labels_by_name(project) == {1: {"feline"}}
    cls.rename_class(project, "feline", "Feline")  # a change of case is a rename too
    with pytest.raises(LabelError, match="merge"):
        cls.rename_class(project, "Feline", "dog")
    with pytest.raises(LabelError, match="no class"):
        cls.rename_class(project, "cow", "bull")


def test_merge_moves_labels_explicitly_and_keeps_history(project):
    cat, dog, _fox = cls.add_classes(project, ["cat", "dog", "fox"])
    ann.record(project, 1, "label", [cat.id], annotator="a")
    ann.record(project, 2, "label", [dog.id], annotator="a")
    ann.record(project, 3, "label", [cat.id, dog.id], annotator="a")
    cls.merge_classes(project, "cat", "dog")
    assert labels_by_name(project) == {1: {"dog"}, 2: {"dog"}, 3: {"dog"}}
    merged = cls.get_class(project, "cat")
    assert merged.merged_into == dog.id and not merged.active and merged.hotkey is None
    # the rows written before the merge still say what the annotator chose
    raw = project.conn.execute(
        "SELECT class_id FROM annotation_classes WHERE annotation_id = 1").fetchone()[0]
    assert raw == cat.id
    # chains resolve to the end
    cls.merge_classes(project, "dog", "fox")
    assert labels_by_name(project) == {1: {"fox"}, 2: {"fox"}, 3: {"fox"}}
    with pytest.raises(LabelError, match="archived"):
        ann.record(project, 4, "label", [cat.id], annotator="a")
    with pytest.raises(LabelError):
        cls.merge_classes(project, "fox", "fox")


def test_archive_hides_a_class_but_keeps_its_labels(project):
    cat, _dog = cls.add_classes(project, ["cat", "dog"])
    ann.record(project, 1, "label", [cat.id], annotator="a")
    cls.archive_class(project, "cat")
    assert labels_by_name(project) == {1: {"cat"}}
    assert [c.name for c in cls.list_classes(project, include_inactive=False)] == ["dog"]
    with pytest.raises(LabelError, match="archived"):
        ann.record(project, 2, "label", [cat.id], annotator="a")
    restored = cls.archive_class(project, "cat", archived=False)
    assert restored.active and restored.hotkey
    ann.record(project, 2, "label", [cat.id], annotator="a")


def test_set_hotkey_refuses_clashes_and_reserved_keys(project):
    cls.add_classes(project, ["cat", "dog"])
    assert cls.set_hotkey(project, "cat", "C").hotkey == "c"
    with pytest.raises(LabelError, match="already labels"):
        cls.set_hotkey(project, "dog", "c")
    with pytest.raises(LabelError):
        cls.set_hotkey(project, "dog", "s")
