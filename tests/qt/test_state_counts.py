"""The window's label counts agree with `aldesk info`'s."""

from __future__ import annotations

from PIL import Image

from aldesk.services.info import project_info
from aldesk.services.ingest import sync_folder
from aldesk.store import Project
from aldesk.store import annotations as store_ann
from aldesk.store import classes as store_classes
from aldesk.store import items as store_items


def test_to_go_counts_what_info_calls_unlabeled(qtbot, tmp_path):
    from aldesk.ui.state import ProjectState

    folder = tmp_path / "imgs"
    folder.mkdir()
    for k in range(5):
        Image.new("L", (16, 16), 40 * k).save(folder / f"ok{k}.png")
    (folder / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    path = tmp_path / "p.aldesk"
    with Project.create(path) as p:
        a, _b = (c.id for c in store_classes.add_classes(p, ["a", "b"]))
        sync_folder(p, folder)
        ids = {i.rel_path: i.id for i in store_items.list_items(p)}
        assert store_items.get_item(p, ids["bad.png"]).status == "error"
        with p.transaction() as conn:  # as if the scan was cut short before ok4.png was read
            conn.execute("UPDATE items SET status = 'pending' WHERE id = ?", (ids["ok4.png"],))
        store_ann.record(p, ids["bad.png"], "label", [a], annotator="t")
        store_ann.record(p, ids["ok0.png"], "label", [a], annotator="t")
        store_ann.record(p, ids["ok1.png"], "skip", annotator="t")
        info = project_info(p)
        state = ProjectState(p)
        counts = state.counts()
    # ok2, ok3 and the pending ok4 are left; the label on bad.png is not one of them
    assert info["labels"]["unlabeled"] == counts["unlabeled"] == 3
    assert counts["labeled"] == 2 and counts["errors"] == 1


def test_a_label_a_scan_cleared_leaves_the_window_too(qtbot, tmp_path):
    import os

    from aldesk.ui.state import ProjectState

    folder = tmp_path / "imgs"
    folder.mkdir()
    for k in range(3):
        Image.new("L", (16, 16), 40 * k).save(folder / f"f{k}.png")
    with Project.create(tmp_path / "p.aldesk") as p:
        a = store_classes.add_classes(p, ["a", "b"])[0].id
        sync_folder(p, folder)
        ids = {i.rel_path: i.id for i in store_items.list_items(p)}
        for name in ("f0.png", "f1.png"):
            store_ann.record(p, ids[name], "label", [a], annotator="t")
        state = ProjectState(p)
        assert state.counts()["labeled"] == 2
        Image.new("L", (17, 17), 200).save(folder / "f0.png")  # the camera wrote it again
        st = (folder / "f0.png").stat()
        os.utime(folder / "f0.png", ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
        assert sync_folder(p, folder).relabel == ["f0.png"]
        state.reload_items()
        assert ids["f0.png"] not in state.labels and ids["f1.png"] in state.labels
        assert state.counts()["labeled"] == 1 and state.counts()["unlabeled"] == 2
