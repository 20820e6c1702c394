"""Broken files are data, never a crash: each gets status 'error' and a one-line reason, the
scan goes on, and what a file claims about its size never decides how much memory is used."""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from aldesk.core.errors import UnreadableFile
from aldesk.io.render import render
from aldesk.services.scan import scan_folder


def png_claiming(path: Path, width: int, height: int) -> None:
    """A PNG whose header claims width x height but whose data is a few bytes (a bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))


def garble_idat(png: bytes) -> bytes:
    """The same PNG with the middle of its compressed data overwritten (the chunk's CRC made
    right again, so only the zlib stream is broken)."""
    at = png.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", png[at:at + 4])
    data = bytearray(png[at + 8:at + 8 + length])
    data[len(data) // 3:2 * len(data) // 3] = b"\xa5" * (len(data) // 3)
    crc = struct.pack(">I", zlib.crc32(b"IDAT" + bytes(data)) & 0xFFFFFFFF)
    return png[:at + 8] + bytes(data) + crc + png[at + 12 + length:]


def dicom_bytes(name: str = "CT_small.dcm") -> bytes:
    return Path(get_testdata_file(name)).read_bytes()


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    root = tmp_path / "broken"
    root.mkdir()
    rng = np.random.default_rng(0)
    (root / "empty.png").write_bytes(b"")
    (root / "empty.dcm").write_bytes(b"")
    (root / "noise.png").write_bytes(rng.bytes(5000))
    (root / "noise").write_bytes(rng.bytes(5000))  # no extension: DICOM or image candidate
    (root / "notes.jpg").write_text("this is text, not a JPEG\n" * 20)
    good = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(good).save(root / "whole.jpg", quality=90)
    data = (root / "whole.jpg").read_bytes()
    (root / "cut.jpg").write_bytes(data[: len(data) // 2])
    Image.fromarray(good).save(root / "whole.png")
    data = (root / "whole.png").read_bytes()
    (root / "cut.png").write_bytes(data[: len(data) // 2])
    (root / "garbled.png").write_bytes(garble_idat(data))
    ct = dicom_bytes()
    (root / "cut-pixels.dcm").write_bytes(ct[: len(ct) - 5000])
    (root / "cut-header.dcm").write_bytes(ct[:400])
    png_claiming(root / "bomb.png", 40_000, 40_000)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.Rows = ds.Columns = 65535
    ds.save_as(root / "bomb.dcm")
    (root / "report.dcm").write_bytes(dicom_bytes("rtplan.dcm"))
    (root / "dangling.png").symlink_to(root / "nowhere.png")
    (root / "ünïcödé ✓.png").write_bytes((root / "whole.png").read_bytes())
    odd = os.fsdecode(b"odd-\xff\xfe.png")
    (root / odd).write_bytes((root / "whole.png").read_bytes())
    return root


EXPECTED = {
    "empty.png": "empty file (0 bytes)",
    "empty.dcm": "",
    "noise.png": "not an image",
    "noise": "neither a DICOM file nor an image",
    "notes.jpg": "not an image",
    "cut.jpg": "",
    "cut.png": "",
    "garbled.png": "damaged image data",
    "cut-pixels.dcm": "truncated",
    "cut-header.dcm": "",
    "bomb.png": "over the limit",
    "bomb.dcm": "over the limit",
    "report.dcm": "no image data (RT Plan Storage)",
    "dangling.png": "broken symbolic link",
}


def test_scan_lists_every_broken_file_with_a_reason(broken):
    result = scan_folder(broken)
    by_path = {i["path"]: i for i in result["items"]}
    for name, reason in EXPECTED.items():
        item = by_path[name]
        if name in ("cut.jpg", "cut.png", "garbled.png"):
            continue  # header intact: found out when decoded (below)
        assert item["status"] == "error", name
        assert reason in item["reason"] and "\n" not in item["reason"], (name, item["reason"])
    for good in ("whole.jpg", "whole.png", "ünïcödé ✓.png", "odd-\\xff\\xfe.png"):
        assert by_path[good]["status"] == "ok", good
        assert (by_path[good]["width"], by_path[good]["height"]) == (64, 64)
    assert result["summary"]["files"] == len(by_path)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_render_refuses_each_broken_file_with_one_line(broken, name):
    with pytest.raises(UnreadableFile) as err:
        render(broken / name)
    assert str(err.value) and "\n" not in str(err.value)
    if name == "garbled.png":  # the header is fine: only decoding finds the damage
        assert "damaged image data" in str(err.value)


def test_bombs_are_refused_without_allocating(broken):
    import tracemalloc

    tracemalloc.start()
    for name in ("bomb.png", "bomb.dcm"):
        with pytest.raises(UnreadableFile, match="over the limit"):
            render(broken / name)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50_000_000, f"{peak / 1e6:.0f} MB allocated for a refused file"


def test_unreadable_permissions_are_reported(tmp_path, monkeypatch):
    root = tmp_path / "locked"
    root.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / "secret.png")
    if os.geteuid() != 0:  # root reads anything: simulate the refusal instead
        (root / "secret.png").chmod(0)
    else:
        real_open = Image.open

        def refuse(fp, *args, **kwargs):
            if str(fp).endswith("secret.png"):
                raise PermissionError(13, "Permission denied", str(fp))
            return real_open(fp, *args, **kwargs)

        monkeypatch.setattr(Image, "open", refuse)
    item = scan_folder(root)["items"][0]
    assert item["status"] == "error" and "ermission denied" in item["reason"]
