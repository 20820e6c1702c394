"""The command line as a user meets it: `python -m aldesk ...` in a child process.

Exit codes (DESIGN.md, "CLI contract"): 0 success; 2 bad usage or unusable input, with a
one-line message and no traceback; 1 an internal error, with the log file's path.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from aldesk import __version__


def write_png(path: Path, value: int = 0, size: tuple[int, int] = (8, 8)) -> Path:
    """A small real greyscale PNG whose bytes depend on `value` (as conftest's make_png)."""
    import numpy as np
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(value)
    Image.fromarray(rng.integers(0, 255, size, dtype=np.uint8), mode="L").save(path)
    return path


def write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("path", "label")
              ) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if header:
            w.writerow(header)
        w.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def assert_ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr
    return done


def assert_refused(done: subprocess.CompletedProcess[str]) -> str:
    """Exit 2, exactly one line on stderr, no traceback anywhere; returns that line."""
    assert done.returncode == 2, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{done.stderr}"
    assert lines[0].startswith("aldesk: error:"), lines[0]
    return lines[0]


def info_json(run_cli, project: Path) -> dict:
    done = assert_ok(run_cli("info", project, "--json"))
    return json.loads(done.stdout)


def export_labels(run_cli, project: Path, out: Path) -> dict[str, str]:
    """file name -> label, through `aldesk export --format csv`."""
    assert_ok(run_cli("export", project, "--format", "csv", "--out", out))
    return {Path(r["path"]).name: r["label"] for r in read_csv(out)}


@pytest.fixture
def project(run_cli, image_folder: Path, tmp_path: Path) -> Path:
    """A project over `image_folder` (12 PNGs in left/ and right/) with classes a, b, c."""
    path = tmp_path / "proj.aldesk"
    assert_ok(run_cli("new", path, "--folder", image_folder, "--classes", "a,b,c"))
    return path


# -- version, help ---------------------------------------------------------------------------


def test_version(run_cli):
    done = assert_ok(run_cli("--version"))
    assert done.stdout.strip() == f"aldesk {__version__}"
    assert re.fullmatch(r"aldesk \d+\.\d+\.\d+\S*", done.stdout.strip())


def test_help_lists_the_commands(run_cli):
    done = assert_ok(run_cli("--help"))
    for command in ("new", "info", "import-labels", "export", "relink", "demo"):
        assert command in done.stdout
    assert_ok(run_cli("import-labels", "--help"))


# -- new, info -------------------------------------------------------------------------------


def test_new_creates_a_project_and_info_describes_it(run_cli, image_folder, tmp_path):
    done = assert_ok(run_cli("new", tmp_path / "first", "--folder", image_folder,
                             "--classes", "7,cat,x,dog"))
    path = tmp_path / "first.aldesk"
    assert path.is_file()
    assert "12 new" in done.stdout

    info = info_json(run_cli, path)
    assert info["items"]["total"] == 12  # the hidden file and the text file are not items
    assert info["items"]["missing"] == 0
    assert info["items"]["by_kind"] == {"image": 12}
    assert info["labels"]["labeled"] == 0
    assert info["labels"]["unlabeled"] == 12
    assert info["label_mode"] == "single"
    keys = {c["name"]: c["hotkey"] for c in info["classes"]}
    assert list(keys) == ["7", "cat", "x", "dog"]
    assert keys["7"] == "7" and keys["x"] == "x"  # one-character names keep their own key
    assert len(set(keys.values())) == 4 and None not in keys.values()
    assert all(k not in "sufw? " for k in keys.values())
    [source] = info["sources"]
    assert Path(source["location"]) == image_folder.resolve()
    assert source["exists"] is True and source["items"] == 12

    text = assert_ok(run_cli("info", path)).stdout
    assert "12" in text and "cat" in text and str(image_folder.resolve()) in text


def test_digit_classes_get_their_own_digit_as_hotkey(run_cli, image_folder, tmp_path):
    path = tmp_path / "digits.aldesk"
    assert_ok(run_cli("new", path, "--folder", image_folder,
                      "--classes", "9,8,7,6,5,4,3,2,1,0"))
    classes = info_json(run_cli, path)["classes"]
    assert [(c["name"], c["hotkey"]) for c in classes] == [(d, d) for d in "9876543210"]


def test_new_without_classes_and_a_unicode_folder(run_cli, tmp_path):
    folder = tmp_path / "Bilder – ünïcødé 画像"
    write_png(folder / "röntgen 1.png", 1)
    write_png(folder / "日本.png", 2)
    path = tmp_path / "ü project"
    assert_ok(run_cli("new", path, "--folder", folder))
    info = info_json(run_cli, tmp_path / "ü project.aldesk")
    assert info["items"]["total"] == 2 and info["classes"] == []
    assert Path(info["sources"][0]["location"]) == folder.resolve()


# -- import-labels ---------------------------------------------------------------------------


def test_import_labels_accepts_relative_and_absolute_paths(run_cli, project, image_folder,
                                                           tmp_path):
    elsewhere = tmp_path / "sheets" / "deep"
    labels = write_csv(elsewhere / "labels.csv", [
        ("left/frame-000.png", "a"),  # relative to the source folder
        (os.path.relpath(image_folder / "left/frame-001.png", elsewhere), "b"),  # to the CSV
        (str(image_folder / "right/frame-006.png"), "c"),  # absolute
        (str(image_folder / "right/frame-007.png"), "A"),  # class names in any case
    ])
    done = assert_ok(run_cli("import-labels", project, labels, "--annotator", "dr-who"))
    assert "4 labels written" in done.stdout
    got = export_labels(run_cli, project, tmp_path / "out.csv")
    assert got == {"frame-000.png": "a", "frame-001.png": "b", "frame-006.png": "c",
                   "frame-007.png": "a"}
    rows = read_csv(tmp_path / "out.csv")
    assert {r["annotator"] for r in rows} == {"dr-who"}

    # Importing the same file again changes nothing.
    again = assert_ok(run_cli("import-labels", project, labels, "--annotator", "dr-who"))
    assert "0 labels written" in again.stdout and "4 unchanged (already labeled so)" in again.stdout
    assert info_json(run_cli, project)["labels"]["annotation_rows"] == 4


def test_import_labels_path_relative_to_the_project_folder(run_cli, project, image_folder):
    labels = write_csv(image_folder.parent / "sub" / "l.csv",
                       [(os.path.relpath(image_folder / "left/frame-002.png", project.parent),
                         "b")])
    assert_ok(run_cli("import-labels", project, labels))
    assert info_json(run_cli, project)["labels"]["labeled"] == 1


def test_import_labels_unknown_class_refused_then_added(run_cli, project, tmp_path):
    labels = write_csv(tmp_path / "l.csv", [("left/frame-000.png", "a"),
                                            ("left/frame-001.png", "zebra")])
    line = assert_refused(run_cli("import-labels", project, labels))
    assert "zebra" in line and "--add-classes" in line
    info = info_json(run_cli, project)
    assert info["labels"]["annotation_rows"] == 0  # all or nothing: "a" was not written either
    assert [c["name"] for c in info["classes"]] == ["a", "b", "c"]

    done = assert_ok(run_cli("import-labels", project, labels, "--add-classes"))
    assert "zebra" in done.stdout
    info = info_json(run_cli, project)
    assert [c["name"] for c in info["classes"]] == ["a", "b", "c", "zebra"]
    assert {c["name"]: c["labels"] for c in info["classes"]} == {"a": 1, "b": 0, "c": 0,
                                                                  "zebra": 1}


def test_import_labels_unmatched_path_refused_unless_skipped(run_cli, project, tmp_path):
    labels = write_csv(tmp_path / "l.csv", [("left/frame-000.png", "a"),
                                            ("left/no-such-frame.png", "b")])
    line = assert_refused(run_cli("import-labels", project, labels))
    assert "no-such-frame.png" in line and "--skip-unmatched" in line
    assert info_json(run_cli, project)["labels"]["annotation_rows"] == 0

    done = assert_ok(run_cli("import-labels", project, labels, "--skip-unmatched"))
    assert "1 labels written" in done.stdout
    assert export_labels(run_cli, project, tmp_path / "out.csv") == {"frame-000.png": "a"}


@pytest.mark.parametrize("content", [
    "file,class\nleft/frame-000.png,a\n",  # other column names
    "left/frame-000.png,a\n",  # no header row at all
    "path\nleft/frame-000.png\n",  # no label column
    "",  # empty file
], ids=["other-names", "no-header", "no-label-column", "empty"])
def test_import_labels_needs_path_and_label_columns(run_cli, project, tmp_path, content):
    labels = tmp_path / "l.csv"
    labels.write_text(content, encoding="utf-8")
    line = assert_refused(run_cli("import-labels", project, labels))
    assert "path" in line and "label" in line
    assert info_json(run_cli, project)["labels"]["annotation_rows"] == 0


def test_import_labels_extra_columns_bom_and_crlf(run_cli, project, tmp_path):
    labels = tmp_path / "l.csv"
    labels.write_bytes("\ufeffLabel,Notes,Path\r\nb,first,left/frame-003.png\r\n"
                       "c,,right/frame-010.png\r\n".encode())
    assert_ok(run_cli("import-labels", project, labels))
    assert export_labels(run_cli, project, tmp_path / "out.csv") == {
        "frame-003.png": "b", "frame-010.png": "c"}


@pytest.mark.parametrize("rows", [
    [("left/frame-000.png", "a"), ("left/frame-001.png", "b"), ("left/frame-000.png", "b")],
    [("left/frame-000.png", "a"), ("left/frame-001.png", "")],
    [("left/frame-000.png", "a"), ("", "b")],
    [("left/frame-000.png", "a;b")],
], ids=["same-item-two-labels", "empty-label", "empty-path", "two-classes-single-label"])
def test_import_labels_rejects_bad_rows_all_or_nothing(run_cli, project, tmp_path, rows):
    labels = write_csv(tmp_path / "l.csv", rows)
    line = assert_refused(run_cli("import-labels", project, labels))
    assert "l.csv" in line
    assert info_json(run_cli, project)["labels"]["annotation_rows"] == 0


def test_import_labels_annotator_column_wins(run_cli, project, tmp_path):
    labels = write_csv(tmp_path / "l.csv", [("left/frame-000.png", "a", "alice"),
                                            ("left/frame-001.png", "b", "")],
                       header=("path", "label", "annotator"))
    assert_ok(run_cli("import-labels", project, labels, "--annotator", "bob"))
    assert_ok(run_cli("export", project, "--format", "csv", "--out", tmp_path / "o.csv"))
    assert {Path(r["path"]).name: r["annotator"] for r in read_csv(tmp_path / "o.csv")} == {
        "frame-000.png": "alice", "frame-001.png": "bob"}


# -- export ----------------------------------------------------------------------------------


def _label_some(run_cli, project: Path, tmp_path: Path) -> dict[str, str]:
    rows = [("left/frame-000.png", "a"), ("left/frame-001.png", "b"),
            ("right/frame-006.png", "b"), ("right/frame-011.png", "c")]
    assert_ok(run_cli("import-labels", project, write_csv(tmp_path / "in.csv", rows),
                      "--annotator", "expert"))
    return {Path(p).name: label for p, label in rows}


def test_export_csv_and_json(run_cli, project, tmp_path):
    wanted = _label_some(run_cli, project, tmp_path)
    out = tmp_path / "labels.csv"
    done = assert_ok(run_cli("export", project, "--format", "csv", "--out", out))
    assert "4" in done.stdout
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert {"path", "label", "annotator", "labeled_at"} <= set(header)
    rows = read_csv(out)
    assert {Path(r["path"]).name: r["label"] for r in rows} == wanted
    assert all(r["annotator"] == "expert" and r["labeled_at"] for r in rows)

    out_json = tmp_path / "labels.json"
    assert_ok(run_cli("export", project, "--format", "json", "--out", out_json))
    doc = json.loads(out_json.read_text(encoding="utf-8"))
    assert [c["name"] for c in doc["classes"]] == ["a", "b", "c"]
    assert {Path(i["path"]).name: i["classes"] for i in doc["items"]} == {
        k: [v] for k, v in wanted.items()}


def test_export_import_round_trip_into_a_second_project(run_cli, project, image_folder,
                                                        tmp_path):
    wanted = _label_some(run_cli, project, tmp_path)
    exported = project.parent / "exported.csv"
    assert_ok(run_cli("export", project, "--format", "csv", "--out", exported))

    second = tmp_path / "elsewhere" / "second.aldesk"
    second.parent.mkdir()
    assert_ok(run_cli("new", second, "--folder", image_folder))  # no classes yet
    assert_refused(run_cli("import-labels", second, exported))  # classes are unknown there
    assert_ok(run_cli("import-labels", second, exported, "--add-classes"))

    again = tmp_path / "again.csv"
    assert export_labels(run_cli, second, again) == wanted
    first_rows = {Path(r["path"]).name: r for r in read_csv(exported)}
    for r in read_csv(again):
        before = first_rows[Path(r["path"]).name]
        assert (r["label"], r["annotator"], r["content_key"]) == (
            before["label"], before["annotator"], before["content_key"])
        assert (second.parent / r["path"]).resolve() == (
            project.parent / before["path"]).resolve()


def test_export_folders_copies_files_per_class(run_cli, project, image_folder, tmp_path):
    wanted = _label_some(run_cli, project, tmp_path)
    out = tmp_path / "by-class"
    assert_ok(run_cli("export", project, "--format", "folders", "--out", out))
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "c"]
    copies = {p.name: p for p in out.rglob("*") if p.is_file()}
    assert {name: p.parent.name for name, p in copies.items()} == wanted
    for name, p in copies.items():
        [original] = image_folder.rglob(name)
        assert p.read_bytes() == original.read_bytes()
    assert (image_folder / "left/frame-000.png").is_file()  # copied, not moved

    # An existing empty folder is fine; a non-empty one is refused and left alone.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_ok(run_cli("export", project, "--format", "folders", "--out", empty))
    line = assert_refused(run_cli("export", project, "--format", "folders", "--out", out))
    assert str(out.name) in line
    assert sorted(p.name for p in out.iterdir()) == ["a", "b", "c"]


def test_export_folders_into_a_folder_with_a_file(run_cli, project, tmp_path):
    _label_some(run_cli, project, tmp_path)
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert_refused(run_cli("export", project, "--format", "folders", "--out", out))
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_file_onto_an_existing_folder_is_refused(run_cli, project, tmp_path, fmt):
    _label_some(run_cli, project, tmp_path)
    out = tmp_path / "a-folder"
    out.mkdir()
    assert_refused(run_cli("export", project, "--format", fmt, "--out", out))


def test_export_folders_keeps_same_named_files_apart(run_cli, tmp_path):
    write_png(tmp_path / "data" / "day1" / "img.png", 1)
    write_png(tmp_path / "data" / "day2" / "img.png", 2)
    project = tmp_path / "p.aldesk"
    assert_ok(run_cli("new", project, "--folder", tmp_path / "data", "--classes", "x"))
    assert_ok(run_cli("import-labels", project, write_csv(tmp_path / "l.csv", [
        ("day1/img.png", "x"), ("day2/img.png", "x")])))
    out = tmp_path / "out"
    assert_ok(run_cli("export", project, "--format", "folders", "--out", out))
    copies = sorted((out / "x").iterdir())
    assert len(copies) == 2
    assert {p.read_bytes() for p in copies} == {
        (tmp_path / "data" / d / "img.png").read_bytes() for d in ("day1", "day2")}


def test_export_folders_one_folder_per_class_even_for_odd_names(run_cli, tmp_path):
    for i in range(2):
        write_png(tmp_path / "data" / f"{i}.png", i)
    project = tmp_path / "p.aldesk"
    assert_ok(run_cli("new", project, "--folder", tmp_path / "data", "--classes", "a/b,a_b"))
    assert_ok(run_cli("import-labels", project, write_csv(tmp_path / "l.csv", [
        ("0.png", "a/b"), ("1.png", "a_b")])))
    out = tmp_path / "out"
    assert_ok(run_cli("export", project, "--format", "folders", "--out", out))
    folders = [p for p in out.iterdir() if p.is_dir()]
    assert len(folders) == 2
    assert all(len(list(f.iterdir())) == 1 for f in folders)


def test_export_import_round_trip_with_awkward_file_names(run_cli, tmp_path):
    names = ['comma, and "quotes".png', "space s.png", "ünï 名前.png", "semi;colon.png"]
    if os.name != "nt":
        names.append("new\nline.png")
    for i, name in enumerate(names):
        write_png(tmp_path / "data" / name, 300 + i)
    first = tmp_path / "one" / "p.aldesk"
    first.parent.mkdir()
    assert_ok(run_cli("new", first, "--folder", tmp_path / "data", "--classes", "odd,even"))
    rows = [(name, "odd" if i % 2 else "even") for i, name in enumerate(names)]
    assert_ok(run_cli("import-labels", first, write_csv(tmp_path / "data" / "l.csv", rows)))
    exported = tmp_path / "one" / "out.csv"
    assert_ok(run_cli("export", first, "--format", "csv", "--out", exported))

    second = tmp_path / "two" / "p.aldesk"
    second.parent.mkdir()
    assert_ok(run_cli("new", second, "--folder", tmp_path / "data", "--classes", "odd,even"))
    assert_ok(run_cli("import-labels", second, exported))
    assert export_labels(run_cli, second, tmp_path / "again.csv") == dict(rows)


def test_export_folders_with_a_file_gone(run_cli, project, image_folder, tmp_path):
    _label_some(run_cli, project, tmp_path)
    (image_folder / "left" / "frame-001.png").unlink()
    out = tmp_path / "out"
    done = assert_ok(run_cli("export", project, "--format", "folders", "--out", out))
    assert "not found" in done.stdout
    assert sorted(p.name for p in out.rglob("*.png")) == [
        "frame-000.png", "frame-006.png", "frame-011.png"]
    # The label itself is kept: the CSV export still has it.
    assert export_labels(run_cli, project, tmp_path / "o.csv")["frame-001.png"] == "b"


# -- bad input for every command --------------------------------------------------------------


@pytest.fixture
def bad(tmp_path: Path, image_folder: Path) -> dict[str, str]:
    """Paths for refusals: a real project (built in-process: fast), and many wrong things."""
    from aldesk.services.ingest import sync_folder
    from aldesk.store import Project
    from aldesk.store import classes as store_classes

    good = tmp_path / "good.aldesk"
    with Project.create(good) as p:
        store_classes.add_classes(p, ["a", "b"])
        sync_folder(p, image_folder)
    (tmp_path / "notes.txt").write_text("just some text\n")
    (tmp_path / "random.aldesk").write_bytes(os.urandom(4096))
    (tmp_path / "empty.aldesk").write_bytes(b"")
    (tmp_path / "dir.aldesk").mkdir()
    conn = sqlite3.connect(tmp_path / "other.aldesk")  # SQLite, but not aldesk's
    conn.execute("CREATE TABLE meta (key TEXT, value TEXT)")
    conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    conn.commit()
    conn.close()
    write_csv(tmp_path / "labels.csv", [("left/frame-000.png", "a")])
    (tmp_path / "latin1.csv").write_bytes(b"path,label\nleft/frame-000.png,caf\xe9\n")
    return {
        "good": str(good), "folder": str(image_folder), "csv": str(tmp_path / "labels.csv"),
        "missing": str(tmp_path / "missing.aldesk"), "missing_noext": str(tmp_path / "missing"),
        "text": str(tmp_path / "notes.txt"), "random": str(tmp_path / "random.aldesk"),
        "empty": str(tmp_path / "empty.aldesk"), "dir": str(tmp_path / "dir.aldesk"),
        "sqlite": str(tmp_path / "other.aldesk"), "nofolder": str(tmp_path / "no-such-folder"),
        "nocsv": str(tmp_path / "no-such.csv"), "latin1": str(tmp_path / "latin1.csv"),
        "new": str(tmp_path / "brand-new"), "out": str(tmp_path / "out.csv"),
    }


BAD_INPUT = {
    # info
    "info-missing-project": ("info", "{missing}"),
    "info-missing-project-no-suffix": ("info", "{missing_noext}"),
    "info-text-file": ("info", "{text}"),
    "info-random-bytes": ("info", "{random}"),
    "info-empty-file": ("info", "{empty}"),
    "info-a-folder": ("info", "{dir}"),
    "info-foreign-sqlite": ("info", "{sqlite}"),
    "info-no-args": ("info",),
    "info-unknown-option": ("info", "{good}", "--nope"),
    # new
    "new-no-folder-arg": ("new", "{new}"),
    "new-missing-folder": ("new", "{new}", "--folder", "{nofolder}"),
    "new-folder-is-a-file": ("new", "{new}", "--folder", "{text}"),
    "new-project-exists": ("new", "{good}", "--folder", "{folder}"),
    "new-parent-missing": ("new", "{nofolder}/p", "--folder", "{folder}"),
    "new-bad-label-mode": ("new", "{new}", "--folder", "{folder}", "--label-mode", "many"),
    "new-no-args": ("new",),
    # import-labels
    "import-missing-project": ("import-labels", "{missing}", "{csv}"),
    "import-text-project": ("import-labels", "{text}", "{csv}"),
    "import-random-project": ("import-labels", "{random}", "{csv}"),
    "import-foreign-sqlite": ("import-labels", "{sqlite}", "{csv}"),
    "import-missing-csv": ("import-labels", "{good}", "{nocsv}"),
    "import-csv-is-a-folder": ("import-labels", "{good}", "{folder}"),
    "import-csv-not-utf8": ("import-labels", "{good}", "{latin1}"),
    "import-no-csv-arg": ("import-labels", "{good}"),
    # export
    "export-missing-project": ("export", "{missing}", "--format", "csv", "--out", "{out}"),
    "export-random-project": ("export", "{random}", "--format", "csv", "--out", "{out}"),
    "export-bad-format": ("export", "{good}", "--format", "xml", "--out", "{out}"),
    "export-no-out": ("export", "{good}", "--format", "csv"),
    "export-no-format": ("export", "{good}", "--out", "{out}"),
    "export-out-parent-missing": ("export", "{good}", "--format", "csv", "--out",
                                  "{nofolder}/x.csv"),
    "export-folders-onto-a-file": ("export", "{good}", "--format", "folders", "--out",
                                   "{text}"),
    # relink
    "relink-missing-project": ("relink", "{missing}", "{folder}", "{folder}"),
    "relink-unknown-old-folder": ("relink", "{good}", "{nofolder}", "{folder}"),
    "relink-missing-new-folder": ("relink", "{good}", "{folder}", "{nofolder}"),
    "relink-too-few-args": ("relink", "{good}", "{folder}"),
    # add-folder
    "add-folder-missing-folder": ("add-folder", "{good}", "{nofolder}"),
    "add-folder-not-a-project": ("add-folder", "{text}", "{folder}"),
    # demo, and the command word itself
    "demo-extra-arg": ("demo", "extra"),
    "unknown-command": ("frobnicate",),
    "unknown-command-with-args": ("labelz", "{good}"),
    "unknown-option": ("--frobnicate",),
}


@pytest.mark.parametrize("classes", ["a,a", "a;b", "x,X"])
def test_new_with_a_bad_class_list_leaves_no_project(run_cli, image_folder, tmp_path, classes):
    path = tmp_path / "p.aldesk"
    assert_refused(run_cli("new", path, "--folder", image_folder, "--classes", classes))
    assert not path.exists()
    assert_ok(run_cli("new", path, "--folder", image_folder, "--classes", "a,b"))


@pytest.mark.parametrize("args", list(BAD_INPUT.values()), ids=list(BAD_INPUT))
def test_bad_input_is_refused_in_one_line(run_cli, bad, args, tmp_path):
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run_cli(*(a.format(**bad) for a in args), cwd=tmp_path)
    assert_refused(done)
    assert done.stdout == ""
    after = sorted(p.name for p in tmp_path.iterdir())
    assert [n for n in after if n not in before and not n.startswith("good.aldesk")] == []


def test_refusals_leave_the_project_untouched(run_cli, bad):
    for args in BAD_INPUT.values():
        if "{good}" in args:
            run_cli(*(a.format(**bad) for a in args))
    info = info_json(run_cli, Path(bad["good"]))
    assert info["items"]["total"] == 12
    assert info["labels"]["annotation_rows"] == 0
    assert [c["name"] for c in info["classes"]] == ["a", "b"]


@pytest.mark.parametrize("which", ["missing", "text", "random"])
def test_opening_a_bad_project_in_the_app_form(run_cli, bad, which):
    """`aldesk PROJECT` (the app's form) refuses bad files with exit 2 and no traceback,
    before any window opens."""
    done = run_cli(bad[which])
    assert done.returncode == 2
    assert "Traceback" not in done.stdout + done.stderr
    errors = [ln for ln in done.stderr.splitlines() if ln.startswith("aldesk: error:")]
    assert len(errors) == 1


# -- internal errors -------------------------------------------------------------------------


@pytest.fixture
def quiet_logging():
    """Close the log file handler a test's in-process main() opened."""
    import logging
    import logging.handlers

    from aldesk.core import logs

    yield
    root = logging.getLogger("aldesk")
    for handler in list(root.handlers):
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            root.removeHandler(handler)
            handler.close()
    logs._configured = None


def test_internal_error_exits_1_with_the_log_path(monkeypatch, capsys, aldesk_home, tmp_path,
                                                  quiet_logging):
    from aldesk import cli
    from aldesk.cli import commands

    def boom(args):
        raise RuntimeError("the flux capacitor broke")

    monkeypatch.setattr(commands, "cmd_info", boom)
    code = cli.main(["info", str(tmp_path / "whatever.aldesk")])
    assert code == 1
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    log_file = aldesk_home / "logs" / "aldesk.log"
    assert str(log_file) in err
    assert "RuntimeError" in err and "flux capacitor" in err
    text = log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: the flux capacitor broke" in text
    assert "in boom" in text


def test_internal_error_through_the_app_entry_point(monkeypatch, capsys, aldesk_home,
                                                    quiet_logging):
    from aldesk import app
    from aldesk.cli import commands

    def boom(args):
        raise KeyError("no such thing")

    monkeypatch.setattr(commands, "cmd_demo", boom)
    assert app.main(["demo", "--no-window"]) == 1
    _out, err = capsys.readouterr()
    assert str(aldesk_home / "logs") in err
    assert "Traceback" in (aldesk_home / "logs" / "aldesk.log").read_text(encoding="utf-8")


# -- one writer at a time ----------------------------------------------------------------------


def test_project_open_elsewhere_refuses_writes_but_allows_reads(run_cli, project, tmp_path):
    labels = write_csv(tmp_path / "l.csv", [("left/frame-000.png", "a")])
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""
            import sys
            from aldesk.store import Project
            project = Project.open(sys.argv[1])
            print("ready", flush=True)
            sys.stdin.read()  # hold the project until the test closes our stdin
            project.close()
        """), str(project)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr.read()
        line = assert_refused(run_cli("import-labels", project, labels))
        assert "already open" in line
        assert project.name in line
        line = assert_refused(run_cli("relink", project, "x", tmp_path))
        assert "already open" in line
        info = info_json(run_cli, project)  # reading needs no lock
        assert info["items"]["total"] == 12 and info["labels"]["labeled"] == 0
        assert_ok(run_cli("export", project, "--format", "csv", "--out", tmp_path / "o.csv"))
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0, holder.stderr.read()
    assert_ok(run_cli("import-labels", project, labels))  # free again once it is closed
    assert info_json(run_cli, project)["labels"]["labeled"] == 1


# -- demo, self-test ---------------------------------------------------------------------------


def test_demo_builds_the_digits_once(run_cli, aldesk_home):
    done = assert_ok(run_cli("demo", "--no-window"))
    for digit in range(10):
        assert f"{digit} [{digit}]" in done.stdout  # each digit class with its hotkey
    assert "1797" in done.stdout
    root = aldesk_home / "data" / "demo"
    folders = sorted(p for p in root.rglob("*") if p.is_dir())
    class_folders = [p for p in folders if any(p.glob("*.png"))]
    assert sorted(p.name for p in class_folders) == [str(d) for d in range(10)]
    pngs = sorted(root.rglob("*.png"))
    assert len(pngs) == 1797
    from PIL import Image

    with Image.open(pngs[0]) as im:
        im.load()
        assert im.mode == "L" and min(im.size) >= 8
    [project] = root.glob("*.aldesk")
    info = info_json(run_cli, project)
    assert info["items"]["total"] == 1797
    assert [c["name"] for c in info["classes"]] == [str(d) for d in range(10)]

    mtimes = {p: p.stat().st_mtime_ns for p in pngs[:50]}
    start = time.monotonic()
    second = assert_ok(run_cli("demo", "--no-window"))
    assert time.monotonic() - start < 10
    assert second.stdout == done.stdout
    assert len(list(root.rglob("*.png"))) == 1797
    assert {p: p.stat().st_mtime_ns for p in pngs[:50]} == mtimes  # not written again
    assert info_json(run_cli, project)["items"]["total"] == 1797


def test_self_test_passes(run_cli):
    assert os.environ.get("QT_QPA_PLATFORM") == "offscreen"
    done = assert_ok(run_cli("--self-test", timeout=240))
    assert "all checks passed" in done.stdout
    assert "FAIL" not in done.stdout


# -- add-folder ------------------------------------------------------------------------------


def test_add_folder_adds_and_rescans(run_cli, project, image_folder, tmp_path):
    more = tmp_path / "more"
    for i in range(3):
        write_png(more / f"m{i}.png", 500 + i)
    done = assert_ok(run_cli("add-folder", project, more))
    assert "3 new" in done.stdout
    info = info_json(run_cli, project)
    assert info["items"]["total"] == 15
    assert sorted(s["items"] for s in info["sources"]) == [3, 12]

    (image_folder / "right" / "frame-009.png").unlink()
    write_png(image_folder / "right" / "late.png", 600)
    done = assert_ok(run_cli("add-folder", project, image_folder))
    assert "1 new" in done.stdout and "1 missing" in done.stdout and "11 unchanged" in done.stdout
    info = info_json(run_cli, project)
    assert (info["items"]["total"], info["items"]["missing"]) == (16, 1)
    assert len(info["sources"]) == 2


# -- relink ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name_by", ["location", "path"])
def test_relink_a_moved_folder_keeps_the_labels(run_cli, tmp_path, name_by):
    folder = tmp_path / "data" / "scans"
    for i in range(6):
        write_png(folder / ("a" if i < 3 else "b") / f"img-{i}.png", value=100 + i)
    project = tmp_path / "projects" / "p.aldesk"
    project.parent.mkdir()
    assert_ok(run_cli("new", project, "--folder", folder, "--classes", "yes,no"))
    assert_ok(run_cli("import-labels", project, write_csv(tmp_path / "l.csv", [
        ("a/img-0.png", "yes"), ("a/img-1.png", "no"), ("b/img-4.png", "yes")])))
    before = export_labels(run_cli, project, tmp_path / "before.csv")
    assert len(before) == 3

    moved = tmp_path / "archive" / "2024" / "scans-moved"
    moved.parent.mkdir(parents=True)
    shutil.move(folder, moved)
    [source] = info_json(run_cli, project)["sources"]
    assert source["exists"] is False
    assert "NOT FOUND" in assert_ok(run_cli("info", project)).stdout

    assert_ok(run_cli("relink", project, source[name_by], moved))
    info = info_json(run_cli, project)
    [source] = info["sources"]
    assert source["exists"] is True
    assert Path(source["location"]) == moved.resolve()
    assert info["items"]["total"] == 6 and info["items"]["missing"] == 0
    assert info["labels"]["labeled"] == 3
    assert export_labels(run_cli, project, tmp_path / "after.csv") == before
    for row in read_csv(tmp_path / "after.csv"):
        assert (project.parent / row["path"]).resolve().is_file()


def test_relink_onto_a_folder_the_project_already_has(run_cli, tmp_path):
    write_png(tmp_path / "A" / "x.png", 1)
    write_png(tmp_path / "A" / "only-a.png", 2)
    write_png(tmp_path / "B" / "x.png", 3)
    project = tmp_path / "p.aldesk"
    assert_ok(run_cli("new", project, "--folder", tmp_path / "A", "--folder", tmp_path / "B",
                      "--classes", "cat,dog"))
    assert_ok(run_cli("import-labels", project, write_csv(tmp_path / "l.csv", [
        ("A/x.png", "cat"), ("B/x.png", "dog")])))
    assert_ok(run_cli("export", project, "--format", "csv", "--out", tmp_path / "before.csv"))
    before = {r["content_key"]: r["label"] for r in read_csv(tmp_path / "before.csv")}

    done = run_cli("relink", project, tmp_path / "A", tmp_path / "B")
    if done.returncode == 2:  # refusing is right
        assert_refused(done)
        return
    assert_ok(done)
    locations = [s["location"] for s in info_json(run_cli, project)["sources"]]
    assert len(locations) == len(set(locations)), locations
    assert_ok(run_cli("export", project, "--format", "csv", "--out", tmp_path / "after.csv"))
    after = read_csv(tmp_path / "after.csv")
    assert len({r["path"] for r in after}) == len(after)  # no file labeled twice
    for r in after:  # no label moved onto another image
        assert before.get(r["content_key"], r["label"]) == r["label"]


def test_moving_project_and_folder_together_needs_no_relink(run_cli, tmp_path):
    work = tmp_path / "work"
    for i in range(3):
        write_png(work / "imgs" / f"{i}.png", value=200 + i)
    assert_ok(run_cli("new", work / "p", "--folder", work / "imgs", "--classes", "x,y"))
    assert_ok(run_cli("import-labels", work / "p.aldesk",
                      write_csv(tmp_path / "l.csv", [("0.png", "y")])))
    shutil.move(work, tmp_path / "renamed-work")
    project = tmp_path / "renamed-work" / "p.aldesk"
    [source] = info_json(run_cli, project)["sources"]
    assert source["exists"] is True
    assert export_labels(run_cli, project, tmp_path / "o.csv") == {"0.png": "y"}
