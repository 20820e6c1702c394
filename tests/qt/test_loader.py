"""The viewer's loader: decodes off the UI thread, prefetches quietly, announces what is asked."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

from aldesk.ui import loader as loader_mod
from aldesk.ui.loader import ImageKey, ImageLoader


@pytest.fixture
def images(tmp_path):
    paths = []
    for k in range(3):
        path = tmp_path / f"img-{k}.png"
        Image.fromarray(np.full((40, 60), 80 * k, np.uint8)).save(path)
        paths.append(path)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return paths, tmp_path / "broken.png"


@pytest.fixture
def loader(qtbot):
    lo = ImageLoader()
    yield lo
    lo.shutdown()


def test_request_emits_the_rendered_image(qtbot, loader, images):
    paths, _ = images
    with qtbot.waitSignal(loader.loaded, timeout=5_000) as got:
        loader.request(ImageKey(1, None), paths[1], "image")
    key, rendered, error = got.args
    assert key == ImageKey(1, None) and error == ""
    assert rendered.pixels.shape == (40, 60) and int(rendered.pixels[0, 0]) == 80


def test_prefetch_is_quiet_and_fills_the_cache(qtbot, loader, images):
    paths, _ = images
    seen = []
    loader.loaded.connect(lambda *a: seen.append(a))
    loader.prefetch([(ImageKey(2, None), paths[2], "image")])
    qtbot.waitUntil(lambda: loader.cached(ImageKey(2, None)) is not None, timeout=5_000)
    assert seen == []
    with qtbot.waitSignal(loader.loaded, timeout=1_000):  # from the cache, at once
        loader.request(ImageKey(2, None), paths[2], "image")


def test_request_during_its_prefetch_is_announced_once(qtbot, loader, images, monkeypatch):
    """A fast labeler's key can ask for the next item while its prefetch still decodes."""
    paths, _ = images
    release = threading.Event()
    real = loader_mod.render

    def slow_render(*args, **kwargs):
        release.wait(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(loader_mod, "render", slow_render)
    seen = []
    loader.loaded.connect(lambda *a: seen.append(a))
    key = ImageKey(0, None)
    loader.prefetch([(key, paths[0], "image")])
    loader.request(key, paths[0], "image")  # still decoding: no second decode, no signal yet
    assert seen == []
    release.set()
    qtbot.waitUntil(lambda: len(seen) == 1, timeout=5_000)
    assert seen[0][0] == key and seen[0][1] is not None
    qtbot.wait(100)
    assert len(seen) == 1


def test_unreadable_file_is_reported_not_raised(qtbot, loader, images):
    _, broken = images
    with qtbot.waitSignal(loader.loaded, timeout=5_000) as got:
        loader.request(ImageKey(9, None), broken, "image")
    assert got.args[1] is None and got.args[2]
