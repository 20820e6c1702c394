"""resources/: the icon in every size the installers use, the desktop entry, the MIME type, the
font with its license, and the locator that finds them in a checkout, a bundle or an install."""

from __future__ import annotations

import configparser
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from aldesk.core import paths

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"


@pytest.mark.parametrize("size", [16, 32, 48, 64, 128, 256, 512])
def test_each_png_icon_has_its_size(size):
    with Image.open(RESOURCES / "icons" / f"aldesk-{size}.png") as im:
        assert im.size == (size, size) and im.mode == "RGBA"


def test_windows_and_macos_icons():
    with Image.open(RESOURCES / "aldesk.ico") as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    with Image.open(RESOURCES / "aldesk.icns") as icns:
        assert icns.format == "ICNS"


def test_desktop_entry_opens_project_files():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(RESOURCES / "aldesk.desktop")
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "aldesk %f"
    assert desktop["Icon"] == "aldesk"
    assert "application/x-aldesk-project" in desktop["MimeType"].split(";")


def test_mime_type_globs_aldesk_files_over_sqlite_magic():
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    mime = ET.parse(RESOURCES / "aldesk-mime.xml").getroot().find("m:mime-type", ns)
    assert mime is not None and mime.get("type") == "application/x-aldesk-project"
    assert mime.find("m:glob", ns).get("pattern") == "*.aldesk"  # type: ignore[union-attr]
    assert mime.find("m:sub-class-of", ns).get("type") == "application/vnd.sqlite3"  # type: ignore[union-attr]


def test_the_font_ships_with_its_license():
    assert (RESOURCES / "fonts" / "DejaVuSans.ttf").stat().st_size > 100_000
    text = (RESOURCES / "fonts" / "LICENSE-DejaVu.txt").read_text()
    assert "Bitstream Vera Fonts Copyright" in text and "Arev Fonts Copyright" in text


def test_a_checkout_finds_its_resources():
    assert paths.resources_dir() == RESOURCES
    assert paths.resource("fonts/DejaVuSans.ttf") == RESOURCES / "fonts" / "DejaVuSans.ttf"
    assert paths.resource("fonts/no-such-font.ttf") is None


def test_a_bundle_prefers_its_own_resources(tmp_path, monkeypatch):
    (tmp_path / "resources").mkdir()
    (tmp_path / "resources" / paths.RESOURCE_MARK).write_text("<svg/>")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert paths.resources_dir() == tmp_path / "resources"


def test_an_install_finds_the_share_folder(tmp_path, monkeypatch):
    share = tmp_path / "share" / "aldesk"
    share.mkdir(parents=True)
    (share / paths.RESOURCE_MARK).write_text("<svg/>")
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "site-packages/aldesk/core/paths.py"))
    assert paths.resources_dir() == share
