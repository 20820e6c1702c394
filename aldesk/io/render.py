"""One entry point for showing any item: `render(path)` gives what the viewer shows.

The same 8-bit image is what the model sees, so what the expert judges and what the model
scores match (same frame, window and colour; a JPEG may be decoded at a reduced scale for the
model, which shrinks it to its input size anyway: `reduce_to`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from aldesk.core.errors import FileGone, UnreadableFile
from aldesk.io.display import Window
from aldesk.io.scan import guess_kind

#: Images above this many pixels (per frame) are refused without decoding (decompression
#: bombs, or files that claim absurd sizes). `ALDESK_MAX_MEGAPIXELS` changes it.
DEFAULT_MAX_PIXELS = 200_000_000


def max_pixels() -> int:
    value = os.environ.get("ALDESK_MAX_MEGAPIXELS")
    try:
        return int(float(value) * 1e6) if value else DEFAULT_MAX_PIXELS
    except ValueError:
        return DEFAULT_MAX_PIXELS


@dataclass(frozen=True, slots=True)
class Rendered:
    pixels: np.ndarray  # uint8 (H, W) grey or (H, W, 3) RGB
    kind: str  # "image" or "dicom"
    frame: int
    frames: int
    window: Window | None  # applied to grey values (None: shown as stored, or a VOI LUT)
    default_window: Window | None
    modality: str = ""
    #: The grey real values before VOI/window (grey DICOM, deep grey images), for
    #: re-windowing with io.rewindow; None for colour and 8-bit images.
    values: np.ndarray | None = None
    invert: bool = False  # MONOCHROME1: shown inverted after the window

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])


def render(path: Path, kind: str | None = None, *, frame: int | None = None,
           window: Window | None = None, limit: int | None = None,
           reduce_to: int | None = None) -> Rendered:
    """The item at `path` as the viewer shows it by default (middle frame, file's window).

    `reduce_to`: the caller shrinks the image anyway, so a JPEG may come decoded at a reduced
    scale with both sides still >= `reduce_to` (io.images.load_image_frame); the same image
    at a lower resolution, not a different one.
    """
    path = Path(path)
    limit = limit or max_pixels()
    if not path.exists():
        raise FileGone()
    kind = kind or guess_kind(path) or "unknown"
    if kind == "image":
        return _render_image(path, frame, window, limit, reduce_to)
    from aldesk.io.dicom import load_dicom

    try:
        d = load_dicom(path, frame, window, limit)
    except UnreadableFile:
        if kind != "unknown":
            raise
        return _render_image(path, frame, window, limit, reduce_to)  # maybe an image
    index = d.frames // 2 if frame is None else frame
    return Rendered(d.pixels, "dicom", index, d.frames, d.window, d.default_window, d.modality,
                    d.values, d.invert)


def _render_image(path: Path, frame: int | None, window: Window | None, limit: int,
                  reduce_to: int | None = None) -> Rendered:
    from aldesk.io.images import load_image_frame

    index = 0 if frame is None else frame
    shown = load_image_frame(path, index, window, limit, reduce_to)
    return Rendered(shown.pixels, "image", index, shown.frames, shown.window,
                    shown.default_window, values=shown.values)


def save_png(rendered: Rendered, out: Path) -> None:
    from PIL import Image

    mode = "L" if rendered.pixels.ndim == 2 else "RGB"
    Image.fromarray(rendered.pixels, mode=mode).save(out, format="PNG")
