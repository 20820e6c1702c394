"""Ordinary images: every format and mode a camera or a scanner writes, shown correctly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.core.errors import UnreadableFile
from aldesk.io.display import Window
from aldesk.io.images import read_image_header
from aldesk.io.render import render


def gradient(h: int = 40, w: int = 60) -> np.ndarray:
    return (np.arange(h * w).reshape(h, w) % 256).astype(np.uint8)


@pytest.mark.parametrize("ext", ["png", "bmp", "tif", "webp"])
def test_lossless_grey_formats_round_trip(tmp_path, ext):
    path = tmp_path / f"g.{ext}"
    kwargs = {"lossless": True} if ext == "webp" else {}
    Image.fromarray(gradient()).save(path, **kwargs)
    shown = render(path)
    assert shown.kind == "image" and shown.frames == 1
    pixels = shown.pixels if shown.pixels.ndim == 2 else shown.pixels[..., 0]
    assert np.array_equal(pixels, gradient())


def test_jpeg_colour(tmp_path):
    ramp = np.tile(np.linspace(0, 250, 60), (40, 1)).astype(np.uint8)
    rgb = np.dstack([ramp, ramp[:, ::-1], np.full((40, 60), 90, np.uint8)])
    Image.fromarray(rgb).save(tmp_path / "c.jpg", quality=98, subsampling=0)
    shown = render(tmp_path / "c.jpg")
    assert shown.pixels.shape == (40, 60, 3)
    assert np.abs(shown.pixels.astype(int) - rgb).mean() < 3


def test_16_bit_grey_is_windowed_not_truncated(tmp_path):
    values = np.linspace(1000, 3000, 64 * 64).reshape(64, 64).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "deep.png")
    Image.fromarray(values).save(tmp_path / "deep.tif")
    for name in ("deep.png", "deep.tif"):
        shown = render(tmp_path / name)
        assert shown.pixels.dtype == np.uint8
        assert shown.pixels.min() <= 5 and shown.pixels.max() >= 250  # full contrast
        assert shown.window is not None and 1000 <= shown.window.center <= 3000
        assert np.all(np.diff(shown.pixels.astype(int).ravel()) >= 0)  # order kept
    narrow = render(tmp_path / "deep.png", window=Window(2000, 200))
    assert (narrow.pixels == 0).mean() > 0.4 and (narrow.pixels == 255).mean() > 0.4


def test_multipage_tiff_is_one_item_with_frames(tmp_path):
    pages = [Image.fromarray(np.full((20, 30), 40 * i, np.uint8)) for i in range(4)]
    pages[0].save(tmp_path / "stack.tif", save_all=True, append_images=pages[1:])
    assert read_image_header(tmp_path / "stack.tif").frames == 4
    assert render(tmp_path / "stack.tif").frames == 4
    assert render(tmp_path / "stack.tif", frame=2).pixels.mean() == 80
    with pytest.raises(UnreadableFile, match="frame 4 does not exist"):
        render(tmp_path / "stack.tif", frame=4)


def test_exif_orientation_is_applied(tmp_path):
    image = Image.fromarray(np.zeros((20, 50, 3), np.uint8))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    image.save(tmp_path / "phone.jpg", exif=exif.tobytes())
    header = read_image_header(tmp_path / "phone.jpg")
    assert (header.width, header.height) == (20, 50)
    assert render(tmp_path / "phone.jpg").pixels.shape[:2] == (50, 20)


def test_palette_and_alpha(tmp_path):
    pal = Image.fromarray(gradient()).convert("P")
    pal.info["transparency"] = 0
    pal.save(tmp_path / "pal.png", transparency=0)
    shown = render(tmp_path / "pal.png")
    assert shown.pixels.shape == (40, 60, 3)
    rgba = np.zeros((10, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:5, :, 3] = 255  # top half opaque red, bottom half transparent
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "a.png")
    shown = render(tmp_path / "a.png").pixels
    assert shown[0, 0].tolist() == [255, 0, 0] and shown[9, 9].tolist() == [0, 0, 0]


def test_bilevel_and_cmyk(tmp_path):
    Image.fromarray(gradient() > 128).save(tmp_path / "bw.png")
    assert set(np.unique(render(tmp_path / "bw.png").pixels)) <= {0, 255}
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    px = render(tmp_path / "cmyk.jpg").pixels
    assert px.shape == (8, 8, 3) and px[..., 0].mean() > 200 and px[..., 1].mean() < 60


def test_pixel_limit_refuses_before_decoding(tmp_path, monkeypatch):
    Image.fromarray(gradient(100, 100)).save(tmp_path / "big.png")
    monkeypatch.setenv("ALDESK_MAX_MEGAPIXELS", "0.005")
    with pytest.raises(UnreadableFile, match="over the limit"):
        render(Path(tmp_path / "big.png"))


def photo_like(h: int, w: int) -> np.ndarray:
    """A smooth colour scene with edges and mild noise, as a camera frame has."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    rgb = np.stack([128 + 90 * np.sin(xx / (23 + 9 * c) + c) * np.cos(yy / 31) for c in range(3)],
                   axis=-1)
    rgb[h // 3: h // 2, w // 4: w // 2] = (230, 40, 40)
    noise = np.random.default_rng(0).normal(0, 3, rgb.shape)
    return np.clip(rgb + noise, 0, 255).astype(np.uint8)


def test_a_jpeg_for_the_model_is_decoded_at_the_smallest_scale_that_keeps_its_size(tmp_path):
    """`reduce_to` (what the embedding job asks) decodes a JPEG at 1/2, 1/4 or 1/8 with both
    sides still >= reduce_to: the same picture as the full decode shrunk, at less cost."""
    from aldesk.ml.backbones import prepare_rgb

    Image.fromarray(photo_like(480, 640)).save(tmp_path / "frame.jpg", quality=90)
    full = render(tmp_path / "frame.jpg")
    assert full.pixels.shape == (480, 640, 3)
    for side, shape in ((224, (240, 320, 3)), (100, (120, 160, 3)), (50, (60, 80, 3)),
                        (241, (480, 640, 3)), (600, (480, 640, 3))):
        shown = render(tmp_path / "frame.jpg", reduce_to=side)
        assert shown.pixels.shape == shape, side
        assert min(shown.pixels.shape[:2]) >= min(side, 480)
    # What the model gets after its own resize hardly differs (grey levels of 255).
    model_full = prepare_rgb(full.pixels, 224, "crop").astype(int)
    model_reduced = prepare_rgb(render(tmp_path / "frame.jpg", reduce_to=224).pixels,
                                224, "crop").astype(int)
    assert np.abs(model_full - model_reduced).mean() < 1.5


def test_reduced_decoding_keeps_orientation_and_leaves_other_formats_alone(tmp_path):
    image = Image.fromarray(photo_like(480, 960))
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to view
    image.save(tmp_path / "phone.jpg", exif=exif.tobytes())
    assert render(tmp_path / "phone.jpg").pixels.shape[:2] == (960, 480)
    assert render(tmp_path / "phone.jpg", reduce_to=224).pixels.shape[:2] == (480, 240)
    image.save(tmp_path / "frame.png")
    assert render(tmp_path / "frame.png", reduce_to=224).pixels.shape[:2] == (480, 960)
    Image.fromarray(photo_like(480, 640)).convert("L").save(tmp_path / "grey.jpg")
    grey = render(tmp_path / "grey.jpg", reduce_to=224).pixels
    assert grey.shape == (240, 320) and grey.dtype == np.uint8
