"""Thumbnails: made lazily, cached on disk by content key, never re-decoded."""

from __future__ import annotations

import shutil

from PIL import Image
from pydicom.data import get_testdata_file

from aldesk.services.ingest import sync_folder
from aldesk.services.thumbnails import make_thumbnails, thumbnail_cache
from aldesk.store import Project
from aldesk.store import items as store_items


def test_thumbnails_are_cached_by_content_key(tmp_path, image_folder, aldesk_home, monkeypatch):
    shutil.copy(get_testdata_file("examples_ybr_color.dcm"), image_folder / "us.dcm")
    (image_folder / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, image_folder)
        items = {i.rel_path: i for i in store_items.list_items(p)}
        assert items["fake.png"].status == "error"  # found by the header pass already
        ids = [i.id for i in items.values()]
        made = make_thumbnails(p, ids)
        assert len(made) == len(ids) - 1
        cache = thumbnail_cache(p)
        assert cache.is_relative_to(aldesk_home)
        for item_id, path in made.items():
            item = store_items.get_item(p, item_id)
            assert item.content_key in path.name and path.is_relative_to(cache)
            with Image.open(path) as im:
                assert max(im.size) <= 256
        with Image.open(made[items["us.dcm"].id]) as im:
            assert im.size == (256, 192) and im.mode == "RGB"

        import aldesk.io.thumbnails as thumbs

        def no_decoding(*args, **kwargs):
            raise AssertionError("a cached thumbnail was decoded again")

        monkeypatch.setattr(thumbs, "render", no_decoding)
        assert make_thumbnails(p, ids) == made


def test_an_item_that_fails_to_decode_gets_an_error(tmp_path, image_folder):
    good = (image_folder / "left" / "frame-000.png").read_bytes()
    (image_folder / "cut.png").write_bytes(good[: len(good) // 2])  # header intact
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, image_folder)
        cut = next(i for i in store_items.list_items(p) if i.rel_path == "cut.png")
        assert cut.status == "ok"
        assert make_thumbnails(p, [cut.id]) == {}
        after = store_items.get_item(p, cut.id)
        assert after.status == "error" and after.reason


def test_a_large_jpeg_thumbnail_is_made_from_a_reduced_decode(tmp_path, monkeypatch):
    """A 2048 x 1536 camera photo is decoded at 1/4 scale (512 x 384, still over the 256 px
    thumbnail) and makes the same-sized thumbnail with the picture where it was."""
    import numpy as np

    import aldesk.io.thumbnails as thumbs
    from aldesk.io.render import render

    photo = np.zeros((1536, 2048, 3), np.uint8)
    photo[:, 1024:] = (220, 40, 40)  # right half red
    Image.fromarray(photo).save(tmp_path / "big.jpg", quality=90)
    decoded = []

    def recording(path, kind=None, **kwargs):
        shown = render(path, kind, **kwargs)
        decoded.append(shown.pixels.shape)
        return shown

    monkeypatch.setattr(thumbs, "render", recording)
    made = thumbs.make_thumbnail(tmp_path / "big.jpg", "image", "k" * 40, tmp_path / "cache")
    assert decoded == [(384, 512, 3)]
    with Image.open(made) as im:
        assert im.size == (256, 192)
        left, right = np.asarray(im)[96, 60], np.asarray(im)[96, 200]
        assert left.max() < 30 and right[0] > 180 and right[1] < 80
