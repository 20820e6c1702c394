"""`aldesk scan` and `aldesk render` as a user runs them, bad input included."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.data import get_testdata_file


def test_scan_json_lists_every_file_and_exits_0_with_broken_ones(run_cli, tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for name in ("CT_small.dcm", "MR_small_RLE.dcm", "rtplan.dcm", "examples_ybr_color.dcm"):
        shutil.copy(get_testdata_file(name), folder / name)
    shutil.copy(get_testdata_file("MR_small.dcm"), folder / "1.2.840.113619.2.55")  # UID name
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(folder / "frame.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 not really")
    (folder / "readme.txt").write_text("ignored")
    done = run_cli("scan", folder, "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    items = {i["path"]: i for i in doc["items"]}
    assert set(items) == {"CT_small.dcm", "MR_small_RLE.dcm", "rtplan.dcm",
                          "examples_ybr_color.dcm", "1.2.840.113619.2.55", "frame.png",
                          "broken.jpg"}
    for item in items.values():
        assert set(item) >= {"path", "kind", "status", "reason", "width", "height", "frames"}
    assert items["CT_small.dcm"] | {} == {"path": "CT_small.dcm", "kind": "dicom", "status": "ok",
                                          "reason": None, "width": 128, "height": 128,
                                          "frames": 1}
    assert items["examples_ybr_color.dcm"]["frames"] == 30
    assert items["1.2.840.113619.2.55"]["kind"] == "dicom"
    assert items["frame.png"]["width"] == 40 and items["frame.png"]["kind"] == "image"
    assert items["rtplan.dcm"]["status"] == "error"
    assert "no image data" in items["rtplan.dcm"]["reason"]
    assert items["broken.jpg"]["status"] == "error"
    summary = doc["summary"]
    assert (summary["files"], summary["ok"], summary["error"]) == (7, 5, 2)
    assert summary["seconds"] >= 0 and summary["files_per_second"] > 0


def test_scan_of_a_missing_folder_is_bad_usage(run_cli, tmp_path):
    done = run_cli("scan", tmp_path / "nope", "--json")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "does not exist" in done.stderr
    (tmp_path / "one.png").write_bytes(b"")
    done = run_cli("scan", tmp_path / "one.png")  # a file where a folder belongs
    assert done.returncode == 2 and "is a file, not a folder" in done.stderr


def test_render_writes_the_default_view_at_native_resolution(run_cli, tmp_path):
    out = tmp_path / "ct.png"
    done = run_cli("render", get_testdata_file("CT_small.dcm"), "--out", out)
    assert done.returncode == 0, done.stderr
    image = np.asarray(Image.open(out))
    assert image.shape == (128, 128) and image.dtype == np.uint8
    from aldesk.io.render import render

    assert np.array_equal(image, render(Path(get_testdata_file("CT_small.dcm"))).pixels)


def test_render_frames_windows_and_presets(run_cli, tmp_path):
    multi = get_testdata_file("examples_ybr_color.dcm")
    ds = pydicom.dcmread(multi)
    for frame in ("0", "29"):
        out = tmp_path / f"f{frame}.png"
        assert run_cli("render", multi, "--out", out, "--frame", frame).returncode == 0
        assert np.array_equal(np.asarray(Image.open(out)), ds.pixel_array[int(frame)])
    single = get_testdata_file("CT_small.dcm")
    assert run_cli("render", single, "--out", tmp_path / "z.png", "--frame", "0").returncode == 0
    lung = run_cli("render", single, "--out", tmp_path / "lung.png", "--window", "lung")
    custom = run_cli("render", single, "--out", tmp_path / "c.png", "--window=-600,1500")
    assert lung.returncode == custom.returncode == 0
    assert Image.open(tmp_path / "lung.png").tobytes() == Image.open(tmp_path / "c.png").tobytes()


def test_render_bad_input_exits_2_with_one_line(run_cli, tmp_path):
    (tmp_path / "text.dcm").write_text("hello")
    cases = [
        ("render", tmp_path / "missing.dcm", "--out", tmp_path / "o.png"),
        ("render", tmp_path / "text.dcm", "--out", tmp_path / "o.png"),
        ("render", get_testdata_file("rtplan.dcm"), "--out", tmp_path / "o.png"),
        ("render", get_testdata_file("CT_small.dcm"), "--out", tmp_path / "o.png", "--frame", "1"),
        ("render", get_testdata_file("CT_small.dcm"), "--out", tmp_path / "o.png", "--frame", "-1"),
        ("render", get_testdata_file("CT_small.dcm"), "--out", tmp_path / "o.png", "--window", "x"),
        ("render", get_testdata_file("CT_small.dcm"), "--out", tmp_path / "no" / "o.png"),
    ]
    for args in cases:
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
        assert not (tmp_path / "o.png").exists()
    unreadable = run_cli("render", tmp_path / "text.dcm", "--out", tmp_path / "o.png")
    assert f"{tmp_path / 'text.dcm'}: " in unreadable.stderr  # names the file it could not read
