"""Folder indexing and syncing: `aldesk.io.scan` and `aldesk.services.ingest`, on real files."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from aldesk.core.errors import Cancelled, InputError
from aldesk.core.jobs import LocalJob
from aldesk.io.scan import content_key, guess_kind, index_folder, walk
from aldesk.services.ingest import relink_source, sync_folder
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes
from aldesk.store import items as store_items

needs_symlinks = pytest.mark.skipif(sys.platform == "win32",
                                    reason="symbolic links need privileges on Windows")


def write_png(path: Path, value: int = 0, size: tuple[int, int] = (8, 8)) -> Path:
    """A small real greyscale PNG whose bytes depend on `value` (as conftest's make_png)."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    Image.fromarray(rng.integers(0, 255, size, dtype=np.uint8), mode="L").save(path)
    return path


def write_dicm(path: Path, extra: bytes = b"") -> Path:
    """A file with the DICOM preamble: 128 bytes, then `DICM`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00" + extra)
    return path


def rel_paths(folder: Path) -> list[str]:
    return [p.relative_to(folder).as_posix() for p, _kind in walk(folder)]


@pytest.fixture
def project(tmp_path: Path):
    """A project file in its own folder, with classes cat and dog."""
    (tmp_path / "project").mkdir()
    with Project.create(tmp_path / "project" / "p") as p:
        store_classes.add_classes(p, ["cat", "dog"])
        yield p


def class_id(project: Project, name: str) -> int:
    return store_classes.get_class(project, name).id


def item_by_path(project: Project, rel_path: str) -> store_items.Item:
    [item] = [i for i in store_items.list_items(project) if i.rel_path == rel_path]
    return item


def label(project: Project, rel_path: str, cls: str) -> int:
    item = item_by_path(project, rel_path)
    store_ann.record(project, item.id, "label", [class_id(project, cls)], annotator="tester")
    return item.id


def label_of(project: Project, item_id: int) -> str | None:
    state = store_ann.current(project, item_id)
    if state is None:
        return None
    names = {c.id: c.name for c in store_classes.list_classes(project)}
    return names[state.class_ids[0]]


# -- scan: walk, guess_kind, content_key, index_folder ----------------------------------------


def test_walk_lists_image_candidates_sorted(image_folder):
    assert rel_paths(image_folder) == (
        [f"left/frame-{i:03d}.png" for i in range(6)]
        + [f"right/frame-{i:03d}.png" for i in range(6, 12)])
    assert {kind for _p, kind in walk(image_folder)} == {"image"}


def test_hidden_and_system_files_are_skipped(tmp_path):
    root = tmp_path / "root"
    write_png(root / "visible.png", 1)
    for name in (".hidden.png", ".git/objects/x.png", "__MACOSX/visible.png",
                 "$RECYCLE.BIN/x.png", "System Volume Information/x.png", "lost+found/x.png",
                 "sub/._visible.png", ".cache/deep/er/x.png"):
        write_png(root / name, 2)
    for name in ("Thumbs.db", "desktop.ini", "sub/thumbs.db", "sub/Desktop.ini",
                 "sub/.DS_Store", ".hidden-no-extension"):
        (root / name).write_bytes(b"\0" * 200)
    assert rel_paths(root) == ["visible.png"]
    found, problems = index_folder(root)
    assert [f.rel_path for f in found] == ["visible.png"] and problems == []


def test_non_image_files_are_ignored_and_image_extensions_any_case(tmp_path):
    root = tmp_path / "root"
    for name in ("notes.txt", "table.csv", "paper.pdf", "script.py", "bundle.zip",
                 "meta.json", "movie.mp4", "file.v2", "backup.png.bak"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"x" * 300)
    images = ["a.PNG", "b.jpg", "c.JPEG", "d.jpe", "e.tif", "f.TIFF", "g.bmp", "h.webp"]
    for i, name in enumerate(images):
        write_png(root / name, i)  # the bytes need not match the extension to be a candidate
    dicoms = ["i.dcm", "j.DICOM", "k.dic", "l.ima"]
    for name in dicoms:
        (root / name).write_bytes(b"x" * 300)
    got = {p.name: kind for p, kind in walk(root)}
    assert got == {**dict.fromkeys(images, "image"), **dict.fromkeys(dicoms, "dicom")}


def test_dicom_may_hide_without_an_extension(tmp_path):
    noext = tmp_path / "IM0001"
    noext.write_bytes(b"random bytes, no preamble")
    uid = tmp_path / "1.2.840.113619.2.55.3"
    uid.write_bytes(b"\0" * 64)
    marked = write_dicm(tmp_path / "scan.bin")
    marked_noext = write_dicm(tmp_path / "IM0002")
    marked_txt = write_dicm(tmp_path / "export.dat")
    unmarked = tmp_path / "other.bin"
    unmarked.write_bytes(b"\0" * 200)
    short = tmp_path / "tiny.bin"
    short.write_bytes(b"DICM")
    assert guess_kind(noext) == "unknown"
    assert guess_kind(uid) == "unknown"
    assert guess_kind(marked) == "dicom"
    assert guess_kind(marked_noext) == "dicom"
    assert guess_kind(marked_txt) == "dicom"
    assert guess_kind(unmarked) is None
    assert guess_kind(short) is None
    assert guess_kind(tmp_path / "gone") == "unknown"  # unreadable: decoding decides later
    assert dict((p.name, k) for p, k in walk(tmp_path)) == {
        "IM0001": "unknown", uid.name: "unknown", "scan.bin": "dicom", "IM0002": "dicom",
        "export.dat": "dicom"}


def test_content_key_follows_bytes_not_names(tmp_path):
    a = write_png(tmp_path / "a.png", 1)
    b = tmp_path / "sub" / "renamed.png"
    b.parent.mkdir()
    shutil.copyfile(a, b)
    c = write_png(tmp_path / "c.png", 2)
    key = content_key(a)
    assert len(key) == 32 and int(key, 16) >= 0
    assert content_key(b) == key
    assert content_key(a, a.stat().st_size) == key
    assert content_key(c) != key
    longer = tmp_path / "longer.png"
    longer.write_bytes(a.read_bytes() + b"\0")
    assert content_key(longer) != key


def test_content_key_samples_large_files(tmp_path):
    size = 200_000
    data = bytearray(os.urandom(size))
    big = tmp_path / "big.dcm"
    big.write_bytes(bytes(data))
    key = content_key(big)
    for offset in (0, 10, size // 2, size - 1):  # inside the start, middle and end samples
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        big.write_bytes(bytes(changed))
        assert content_key(big) != key, offset
    unsampled = bytearray(data)
    unsampled[40_000] ^= 0xFF  # between the start and middle samples: documented as unseen
    big.write_bytes(bytes(unsampled))
    assert content_key(big) == key


def test_index_folder_records_files(image_folder):
    found, problems = index_folder(image_folder)
    assert problems == []
    assert len(found) == 12
    for f in found:
        path = image_folder / f.rel_path
        st = path.stat()
        assert "\\" not in f.rel_path
        assert (f.size, f.mtime, f.kind) == (st.st_size, st.st_mtime, "image")
        assert f.content_key == content_key(path)
    assert len({f.content_key for f in found}) == 12


def test_a_file_indexed_before_keeps_its_key_unread_while_size_and_time_hold(image_folder,
                                                                             monkeypatch):
    import aldesk.io.scan as scan

    found, _ = index_folder(image_folder)
    known = {f.rel_path: (f.size, f.mtime, f.content_key) for f in found}
    edited = image_folder / "left" / "frame-001.png"
    write_png(edited, 77, size=(9, 9))  # a new size: read again
    read = []
    real = scan.content_key
    monkeypatch.setattr(scan, "content_key", lambda p, s=None: read.append(p) or real(p, s))
    again, _ = index_folder(image_folder, known=known)
    assert read == [edited]
    assert {f.rel_path: f.content_key for f in again} == {
        **{f.rel_path: f.content_key for f in found}, "left/frame-001.png": real(edited)}


def test_index_folder_reports_progress_and_honours_cancel(image_folder):
    job = LocalJob()
    index_folder(image_folder, job)
    assert job.last == (12, 12, "indexing files")
    job.cancel()
    with pytest.raises(Cancelled):
        index_folder(image_folder, job)


def test_missing_folder_is_an_input_error(tmp_path, project):
    with pytest.raises(InputError):
        list(walk(tmp_path / "nowhere"))
    with pytest.raises(InputError):
        sync_folder(project, tmp_path / "nowhere")
    (tmp_path / "a-file.png").write_bytes(b"x")
    with pytest.raises(InputError):
        sync_folder(project, tmp_path / "a-file.png")
    assert store_items.list_sources(project) == []


@needs_symlinks
def test_symlink_loop_ends_and_lists_each_file_once(tmp_path):
    root = tmp_path / "root"
    write_png(root / "a.png", 1)
    write_png(root / "sub" / "b.png", 2)
    write_png(root / "sub" / "deeper" / "c.png", 3)
    (root / "sub" / "loop").symlink_to("..", target_is_directory=True)
    (root / "sub" / "deeper" / "up").symlink_to(root, target_is_directory=True)
    listed = rel_paths(root)
    assert listed == ["a.png", "sub/b.png", "sub/deeper/c.png"]
    found, problems = index_folder(root, LocalJob())
    assert [f.rel_path for f in found] == listed and problems == []


@needs_symlinks
def test_linked_folder_outside_the_root_is_followed_once(tmp_path):
    outside = tmp_path / "outside"
    write_png(outside / "o.png", 1)
    root = tmp_path / "root"
    write_png(root / "r.png", 2)
    (root / "link1").symlink_to(outside, target_is_directory=True)
    (root / "link2").symlink_to(outside, target_is_directory=True)
    listed = rel_paths(root)
    assert sorted(listed) == ["link1/o.png", "r.png"]


@needs_symlinks
def test_broken_symlinks_are_unreadable_not_a_crash(tmp_path, project):
    root = tmp_path / "root"
    write_png(root / "ok.png", 1)
    (root / "dangling.png").symlink_to(tmp_path / "gone.png")
    (root / "IM0001").symlink_to(tmp_path / "gone-too")
    (root / "self.png").symlink_to(root / "self.png")  # a link to itself: no crash either
    found, problems = index_folder(root)
    assert [f.rel_path for f in found] == ["ok.png"]
    assert sorted(p.split(":")[0] for p in problems if not p.startswith("self.png")) == [
        "IM0001", "dangling.png"]
    assert all(p.split(":", 1)[1].strip() for p in problems)  # each with a reason

    report = sync_folder(project, root)
    assert report.added == 1
    assert len(report.unreadable) == len(problems)
    assert f"{len(problems)} unreadable" in report.summary()
    assert [i.rel_path for i in store_items.list_items(project)] == ["ok.png"]


def test_unicode_file_names(tmp_path, project):
    root = tmp_path / "Ordner ü"
    names = ["café.png", "日本語/画像 1.png", "emoji-😀.png", "Ωmega.PNG", "ñandú/ñ.jpg"]
    for i, name in enumerate(names):
        write_png(root / name, i)
    found, _ = index_folder(root)
    assert sorted(f.rel_path for f in found) == sorted(names)
    report = sync_folder(project, root)
    assert report.added == 5
    item_id = label(project, "日本語/画像 1.png", "cat")
    (root / "日本語" / "画像 1.png").rename(root / "日本語" / "画像 2.png")
    report = sync_folder(project, root)
    assert (report.added, report.relinked) == (0, 1)
    assert store_items.get_item(project, item_id).rel_path == "日本語/画像 2.png"
    assert label_of(project, item_id) == "cat"
    report = sync_folder(project, root)
    assert (report.added, report.missing, report.changed) == (0, 0, 0)


# -- sync_folder -------------------------------------------------------------------------------


def test_first_sync_adds_candidates_only(image_folder, project):
    report = sync_folder(project, image_folder)
    assert (report.added, report.changed, report.relinked, report.missing,
            report.unchanged) == (12, 0, 0, 0, 0)
    assert report.unreadable == []
    assert report.folder == str(image_folder.resolve())
    items = store_items.list_items(project)
    assert [i.rel_path for i in items] == rel_paths(image_folder)
    assert {i.status for i in items} == {"ok"}  # headers read as part of the sync
    [source] = store_items.list_sources(project)
    assert source.root == image_folder.resolve()
    # Stored relative to the project file, so the two can move together.
    assert source.path == os.path.relpath(image_folder, project.folder).replace(os.sep, "/")


def test_resync_counts_new_changed_missing_unchanged(image_folder, project):
    sync_folder(project, image_folder)
    report = sync_folder(project, image_folder)
    assert (report.added, report.changed, report.relinked, report.missing,
            report.unchanged) == (0, 0, 0, 0, 12)

    edited = image_folder / "left" / "frame-001.png"
    old_key = item_by_path(project, "left/frame-001.png").content_key
    write_png(edited, 1001, size=(9, 9))
    st = edited.stat()
    os.utime(edited, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    write_png(image_folder / "right" / "new-frame.png", 1002)
    (image_folder / "left" / "frame-002.png").unlink()
    report = sync_folder(project, image_folder)
    assert (report.added, report.changed, report.relinked, report.missing,
            report.unchanged) == (1, 1, 0, 1, 10)
    assert report.summary().endswith("1 new, 1 changed, 0 relinked, 1 missing, 10 unchanged")
    changed = item_by_path(project, "left/frame-001.png")
    assert changed.content_key == content_key(edited) != old_key
    assert changed.status == "ok"  # its header read again
    assert item_by_path(project, "left/frame-002.png").status == "missing"
    assert store_items.count_by_status(project) == {"ok": 12, "missing": 1}

    # Nothing happened since: the missing file is not counted again.
    report = sync_folder(project, image_folder)
    assert (report.added, report.changed, report.relinked, report.missing,
            report.unchanged) == (0, 0, 0, 0, 12)


def test_a_labeled_file_overwritten_with_another_image_loses_its_label(image_folder, project):
    """A camera writing `latest.png` again: the label was given to the old picture."""
    sync_folder(project, image_folder)
    item_id = label(project, "left/frame-001.png", "cat")
    kept = label(project, "left/frame-003.png", "cat")
    path = image_folder / "left" / "frame-001.png"
    write_png(path, 4242, size=(9, 9))
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    touched = image_folder / "left" / "frame-003.png"  # same bytes, new time: label stays
    os.utime(touched, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    report = sync_folder(project, image_folder)
    assert report.changed == 2 and sorted(report.changed_ids) == sorted([item_id, kept])
    assert report.relabel == ["left/frame-001.png"]
    assert "1 labeled files now hold other images" in report.summary()
    assert store_ann.current(project, item_id) is None
    assert [s.kind for s in store_ann.history(project, item_id)] == ["label", "clear"]
    assert store_ann.current(project, kept).kind == "label"
    assert sync_folder(project, image_folder).relabel == []  # once


def test_deleted_file_becomes_missing_and_keeps_its_label(image_folder, project):
    sync_folder(project, image_folder)
    item_id = label(project, "right/frame-008.png", "dog")
    saved = (image_folder / "right" / "frame-008.png").read_bytes()
    (image_folder / "right" / "frame-008.png").unlink()
    report = sync_folder(project, image_folder)
    assert report.missing == 1
    item = store_items.get_item(project, item_id)
    assert item.status == "missing" and item.reason
    assert label_of(project, item_id) == "dog"
    assert len(store_items.list_items(project)) == 12

    # The file comes back: the same item, with its label, is found again.
    (image_folder / "right" / "frame-008.png").write_bytes(saved)
    report = sync_folder(project, image_folder)
    assert (report.relinked, report.added, report.missing) == (1, 0, 0)
    assert store_items.get_item(project, item_id).status == "ok"
    assert label_of(project, item_id) == "dog"


@pytest.mark.parametrize("new_name", ["left/renamed.png", "elsewhere/deep/frame-000.png"],
                         ids=["renamed", "moved-into-subfolder"])
def test_renamed_file_keeps_its_item_and_label(image_folder, project, new_name):
    sync_folder(project, image_folder)
    item_id = label(project, "left/frame-000.png", "cat")
    target = image_folder / new_name
    target.parent.mkdir(parents=True, exist_ok=True)
    (image_folder / "left" / "frame-000.png").rename(target)
    report = sync_folder(project, image_folder)
    assert (report.added, report.relinked) == (0, 1)
    assert len(store_items.list_items(project)) == 12
    item = store_items.get_item(project, item_id)
    assert item.rel_path == new_name
    assert store_items.item_paths(project)[item_id] == target.resolve()
    assert label_of(project, item_id) == "cat"


@pytest.mark.parametrize("new_name", ["left/renamed.png", "elsewhere/deep/frame-000.png"],
                         ids=["renamed", "moved-into-subfolder"])
def test_renamed_file_is_not_reported_missing(image_folder, project, new_name):
    sync_folder(project, image_folder)
    item_id = label(project, "left/frame-000.png", "cat")
    target = image_folder / new_name
    target.parent.mkdir(parents=True, exist_ok=True)
    (image_folder / "left" / "frame-000.png").rename(target)
    report = sync_folder(project, image_folder)
    assert report.missing == 0
    assert store_items.get_item(project, item_id).status != "missing"
    assert store_items.count_by_status(project).get("missing", 0) == 0


def test_copied_file_is_a_new_item_and_the_label_stays_put(image_folder, project):
    sync_folder(project, image_folder)
    item_id = label(project, "left/frame-003.png", "dog")
    shutil.copy2(image_folder / "left" / "frame-003.png", image_folder / "copy.png")
    report = sync_folder(project, image_folder)
    assert (report.added, report.relinked, report.missing) == (1, 0, 0)
    assert item_by_path(project, "left/frame-003.png").id == item_id
    assert label_of(project, item_id) == "dog"
    assert label_of(project, item_by_path(project, "copy.png").id) is None


def test_moved_folder_is_relinked_by_content_key(image_folder, project, tmp_path):
    sync_folder(project, image_folder)
    labels = {label(project, "left/frame-000.png", "cat"): "cat",
              label(project, "right/frame-007.png", "dog"): "dog",
              label(project, "right/frame-011.png", "cat"): "cat"}
    before = {i.id: (i.rel_path, i.content_key) for i in store_items.list_items(project)}

    moved = tmp_path / "archive" / "renamed images"
    moved.parent.mkdir()
    shutil.move(image_folder, moved)
    assert not store_items.list_sources(project)[0].exists
    job = LocalJob()
    report = sync_folder(project, moved, job)
    assert (report.added, report.changed, report.relinked, report.missing,
            report.unchanged) == (0, 0, 12, 0, 0)
    assert job.last is not None and job.last[0] == job.last[1]

    [source] = store_items.list_sources(project)  # the old, now empty, source is gone
    assert source.root == moved.resolve() and source.exists
    after = {i.id: (i.rel_path, i.content_key) for i in store_items.list_items(project)}
    assert after == before
    paths = store_items.item_paths(project)
    assert all(p.is_file() for p in paths.values())
    for item_id, name in labels.items():
        assert label_of(project, item_id) == name
    assert sync_folder(project, moved).unchanged == 12


def test_moved_folder_keeps_labels_of_identical_files(tmp_path, project):
    root = tmp_path / "frames"
    write_png(root / "a" / "dup.png", 7)
    (root / "b").mkdir()
    shutil.copyfile(root / "a" / "dup.png", root / "b" / "dup.png")
    write_png(root / "c.png", 8)
    sync_folder(project, root)
    a = label(project, "a/dup.png", "cat")
    b = label(project, "b/dup.png", "dog")
    shutil.move(root, tmp_path / "frames-moved")
    report = sync_folder(project, tmp_path / "frames-moved")
    assert (report.relinked, report.added) == (3, 0)
    assert store_items.get_item(project, a).rel_path == "a/dup.png"
    assert store_items.get_item(project, b).rel_path == "b/dup.png"
    assert (label_of(project, a), label_of(project, b)) == ("cat", "dog")


def test_file_moved_to_another_source_takes_its_label_along(tmp_path, project):
    first, second = tmp_path / "first", tmp_path / "second"
    write_png(first / "x.png", 1)
    write_png(first / "y.png", 2)
    write_png(second / "z.png", 3)
    sync_folder(project, first)
    sync_folder(project, second)
    item_id = label(project, "x.png", "dog")
    shutil.move(first / "x.png", second / "from-first.png")
    report = sync_folder(project, second)
    assert (report.relinked, report.added, report.unchanged) == (1, 0, 1)
    item = store_items.get_item(project, item_id)
    assert item.rel_path == "from-first.png"
    assert store_items.item_paths(project)[item_id] == (second / "from-first.png").resolve()
    assert label_of(project, item_id) == "dog"
    report = sync_folder(project, first)  # x.png is no longer the first folder's business
    assert (report.missing, report.unchanged) == (0, 1)
    assert len(store_items.list_items(project)) == 3


# -- relink_source -----------------------------------------------------------------------------


def test_relink_source_points_the_folder_at_its_new_place(image_folder, project, tmp_path):
    sync_folder(project, image_folder)
    item_id = label(project, "left/frame-004.png", "cat")
    [source] = store_items.list_sources(project)
    new = tmp_path / "new place"
    shutil.move(image_folder, new)
    report = relink_source(project, source.abs_path, new)
    assert (report.added, report.relinked, report.missing, report.unchanged) == (0, 0, 0, 12)
    [after] = store_items.list_sources(project)
    assert after.id == source.id and after.root == new.resolve()
    assert label_of(project, item_id) == "cat"
    assert store_items.item_paths(project)[item_id].is_file()


def test_relink_source_by_stored_path(image_folder, project, tmp_path):
    sync_folder(project, image_folder)
    [source] = store_items.list_sources(project)
    new = tmp_path / "again"
    shutil.move(image_folder, new)
    relink_source(project, source.path, new)
    assert store_items.list_sources(project)[0].root == new.resolve()


def test_relink_source_refusals(image_folder, project, tmp_path):
    sync_folder(project, image_folder)
    with pytest.raises(InputError, match="no folder"):
        relink_source(project, str(tmp_path / "never-added"), image_folder)
    with pytest.raises(InputError, match="does not exist"):
        relink_source(project, str(image_folder.resolve()), tmp_path / "nowhere")
    [source] = store_items.list_sources(project)
    assert source.root == image_folder.resolve()
