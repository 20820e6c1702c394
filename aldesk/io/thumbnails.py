"""Thumbnails on disk, keyed by content key, so a long queue scrolls without decoding images.

A thumbnail is the item's default view (as `render` shows it; a large JPEG decoded at a reduced
scale that still covers the thumbnail) scaled to fit a square, saved as JPEG through a temporary
file, so a half-written thumbnail never exists.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from aldesk.io.render import render

SIZE = 256


def thumbnail_path(cache: Path, content_key: str, size: int = SIZE) -> Path:
    return cache / content_key[:2] / f"{content_key}-{size}.jpg"


def make_thumbnail(path: Path, kind: str, content_key: str, cache: Path, size: int = SIZE
                   ) -> Path:
    """The cached thumbnail of a file, made now if missing. Raises `UnreadableFile`."""
    target = thumbnail_path(cache, content_key, size)
    if target.exists():
        return target
    from PIL import Image

    shown = render(path, kind, reduce_to=size)  # a big JPEG decoded at 1/2-1/8 scale
    image = Image.fromarray(shown.pixels, mode="L" if shown.pixels.ndim == 2 else "RGB")
    image.thumbnail((size, size), Image.Resampling.LANCZOS, reducing_gap=3.0)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".thumb-", suffix=".jpg", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            image.save(f, format="JPEG", quality=88)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
