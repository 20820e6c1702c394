"""A file gone when it is first decoded (a folder unplugged) is missing, not unreadable, so
the scan that finds it again brings it back; a file that is there but broken stays an error."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "cli"))
from test_engine_cli import write_digits

from aldesk.ml.backbones import get_representation
from aldesk.services.embedding import embed_project
from aldesk.services.ingest import sync_folder
from aldesk.store import Project
from aldesk.store import items as store_items


def test_an_unplugged_folder_makes_items_missing_and_a_rescan_brings_them_back(tmp_path):
    folder = tmp_path / "usb"
    written = write_digits(folder, (0, 1), 3)
    broken = written[0]
    broken.write_bytes(broken.read_bytes()[:60])  # a sound header, cut short after it
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, folder)
        folder.rename(tmp_path / "away")  # unplugged after the scan, before embedding...
        (folder / "0").mkdir(parents=True)
        shutil.copy2(tmp_path / "away" / "0" / broken.name, broken)  # ...but for one file
        pixels = get_representation("pixels")
        report = embed_project(p, pixels)
        assert report.embedded == 0 and len(report.failed) == 6
        assert store_items.count_by_status(p) == {"error": 1, "missing": 5}
        shutil.rmtree(folder)
        (tmp_path / "away").rename(folder)  # plugged in again
        sync_folder(p, folder)
        assert embed_project(p, pixels).embedded == 5
        assert store_items.count_by_status(p) == {"error": 1, "ok": 5}


def test_links_whose_targets_are_unplugged_are_missing_too(tmp_path):
    drive = tmp_path / "drive"
    written = write_digits(drive, (0, 1), 2)
    links = tmp_path / "links"
    for path in written:
        (links / path.parent.name).mkdir(parents=True, exist_ok=True)
        (links / path.parent.name / path.name).symlink_to(path)
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, links)
        drive.rename(tmp_path / "away")  # the links dangle now
        pixels = get_representation("pixels")
        assert embed_project(p, pixels).embedded == 0
        assert store_items.count_by_status(p) == {"missing": 4}
        (tmp_path / "away").rename(drive)
        sync_folder(p, links)
        assert embed_project(p, pixels).embedded == 4
