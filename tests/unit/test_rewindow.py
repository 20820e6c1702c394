"""Re-windowing for window/level drags: pixel for pixel what `render(path, window=...)` gives,
through a lookup table when the values are integers, and a PACS-like drag."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.data import get_testdata_file

from aldesk.io import rewindow as rw
from aldesk.io.display import Window, apply_window, to_uint8
from aldesk.io.render import render
from aldesk.io.rewindow import compact_values, drag_window, rewindow

BUNDLED = Path(os.path.dirname(get_testdata_file("CT_small.dcm")))
#: A real MONOCHROME1 CR (12 bits, rescale slope 0.684: non-integer real values).
CR_MONO1 = BUNDLED / "dicomdirtests" / "77654033" / "CR1" / "6154"

WINDOWS = [
    Window(40, 400),
    Window(-600, 1500, "LINEAR"),
    Window(100, 1, "LINEAR"),
    Window(100.5, 0.5, "LINEAR_EXACT"),
    Window(1234.5, 777, "LINEAR_EXACT"),
    Window(1000, 3000, "SIGMOID"),
    Window(2300, 600),
]


def reference(values: np.ndarray, window: Window, invert: bool) -> np.ndarray:
    unit = apply_window(values, window)
    return to_uint8(1.0 - unit if invert else unit)


@pytest.fixture
def spy(monkeypatch):
    """The sizes of the arrays that rewindow windows: a table, or every pixel."""
    sizes: list[int] = []
    original = rw.apply_window

    def recording(values, window):
        sizes.append(int(values.size))
        return original(values, window)

    monkeypatch.setattr(rw, "apply_window", recording)
    return sizes


def mono1_copy(tmp_path: Path) -> Path:
    """CT_small as MONOCHROME1 (integer real values: the lookup-table path, inverted)."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.PhotometricInterpretation = "MONOCHROME1"
    out = tmp_path / "mono1.dcm"
    ds.save_as(out)
    return out


def deep_png(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    values = (rng.normal(2000, 600, (48, 64)).clip(0, 4095)).astype(np.uint16)
    out = tmp_path / "deep16.png"
    Image.frombytes("I;16", (64, 48), values.astype("<u2").tobytes()).save(out)
    return out


def assert_matches_render(path: Path, *, invert: bool, integer: bool) -> None:
    shown = render(path)
    assert shown.values is not None and shown.invert is invert
    assert shown.values.shape == shown.pixels.shape
    assert (shown.values.dtype.kind in "iu") is integer
    for window in WINDOWS:
        want = render(path, window=window).pixels
        got = rewindow(shown.values, window, shown.invert)
        assert got.dtype == np.uint8 and got.shape == want.shape
        assert np.array_equal(got, want), (window, int((got != want).sum()))


def test_ct_small_matches_render_pixel_for_pixel(spy):
    assert_matches_render(BUNDLED / "CT_small.dcm", invert=False, integer=True)
    values = render(BUNDLED / "CT_small.dcm").values
    assert values.dtype == np.int16
    assert spy and set(spy) == {span(values)}, "int16 values go through a table of their range"


def test_monochrome1_with_integer_values_matches_render(tmp_path, spy):
    path = mono1_copy(tmp_path)
    assert_matches_render(path, invert=True, integer=True)
    values = render(path).values
    assert set(spy) == {span(values)}
    assert not np.array_equal(rewindow(values, Window(40, 400), True),
                              rewindow(values, Window(40, 400), False))


def test_real_monochrome1_cr_with_float_values_matches_render(spy):
    shown = render(CR_MONO1)
    assert shown.values.dtype == np.float64  # slope 0.684: no table possible
    assert_matches_render(CR_MONO1, invert=True, integer=False)
    assert set(spy) == {shown.values.size}, "non-integer values are windowed directly"


def test_16_bit_png_matches_render(tmp_path, spy):
    path = deep_png(tmp_path)
    assert render(path).values.dtype == np.uint16
    assert_matches_render(path, invert=False, integer=True)
    assert set(spy) == {span(render(path).values)}


def test_colour_and_8_bit_images_have_no_values(tmp_path):
    Image.fromarray(np.full((8, 8), 7, np.uint8)).save(tmp_path / "g.png")
    Image.fromarray(np.full((8, 8, 3), 7, np.uint8)).save(tmp_path / "c.png")
    for name in ("g.png", "c.png"):
        assert render(tmp_path / name).values is None
    assert render(BUNDLED / "SC_rgb_small_odd.dcm").values is None


def span(values: np.ndarray) -> int:
    return int(values.max()) - int(values.min()) + 1


@pytest.mark.parametrize("dtype", ["int16", "uint16", ">i2", "int8", "uint8"])
def test_a_16_bit_table_over_the_whole_dtype_range(dtype, spy):
    """Values from the dtype's minimum to its maximum: the offsets from the minimum are taken
    in the values' own width and must not wrap into wrong table entries."""
    info = np.iinfo(np.dtype(dtype))
    values = np.linspace(info.min, info.max, 4001).round().astype(dtype)
    for window in [*WINDOWS, Window(float(info.min), 3.0), Window(float(info.max), 3.0)]:
        for invert in (False, True):
            assert np.array_equal(rewindow(values, window, invert),
                                  reference(values, window, invert))
    assert set(spy) == {info.max - info.min + 1}


@pytest.mark.parametrize("dtype", ["uint8", "int8", "uint16", "int16", ">i2", "int32",
                                   "uint32", "int64"])
@pytest.mark.parametrize("invert", [False, True])
def test_integer_dtypes_match_the_direct_computation(dtype, invert, spy):
    rng = np.random.default_rng(1)
    info = np.iinfo(np.dtype(dtype))
    lo, hi = max(info.min, -5000), min(info.max, 60000)
    values = rng.integers(lo, hi, (37, 53), endpoint=True).astype(dtype)
    values.flat[:2] = [lo, hi]  # the extremes of the range, too
    for window in WINDOWS:
        assert np.array_equal(rewindow(values, window, invert), reference(values, window, invert))
    assert max(spy) <= 65536, "every integer dtype here goes through a table"


def test_integer_valued_floats_take_the_table(spy):
    rng = np.random.default_rng(2)
    values = rng.integers(-1024, 3071, (64, 64)).astype(np.float64)
    got = rewindow(values, Window(40, 400), True)
    assert np.array_equal(got, reference(values, Window(40, 400), True))
    assert spy == [span(values)]  # compacted to int16, then a table of its range
    assert compact_values(values).dtype == np.int16
    assert compact_values(values * 100).dtype == np.int32


@pytest.mark.parametrize("values", [
    np.linspace(-3.5, 1000.25, 4096).reshape(64, 64),  # fractions
    np.array([[0.0, 1.0, np.inf, 4000.0]]),  # not finite
    np.array([[0, 2**20, 7, 13]], dtype=np.int64),  # integers over too wide a range
])
def test_other_values_fall_back_to_direct_windowing(values, spy):
    for window in WINDOWS:
        assert np.array_equal(rewindow(values, window, False), reference(values, window, False))
    assert set(spy) == {values.size}


def test_empty_values():
    assert rewindow(np.zeros((0, 4), np.int16), Window(0, 10), False).shape == (0, 4)


def test_drag_right_widens_left_narrows_down_raises_centre():
    start = Window(40, 400, "LINEAR_EXACT")
    ct = (-1024.0, 3071.0)
    assert drag_window(start, 100, 0, ct).width > 400
    assert drag_window(start, -100, 0, ct).width < 400
    assert drag_window(start, 0, 100, ct).center > 40
    assert drag_window(start, 0, -100, ct).center < 40
    assert drag_window(start, 0, 100, ct).width == 400
    assert drag_window(start, 100, 0, ct).center == 40
    assert drag_window(start, 100, 0, ct).function == "LINEAR_EXACT"
    assert drag_window(start, -100_000, 0, ct).width == 1.0  # never below 1
    assert drag_window(start, 0, 0, ct) == start


@pytest.mark.parametrize("value_range", [(0.0, 255.0), (0.0, 4095.0), (-1024.0, 3071.0)])
def test_drag_sensitivity_follows_the_value_range(value_range):
    span = value_range[1] - value_range[0]
    start = Window(value_range[0] + span / 2, span / 2)
    moved = drag_window(start, 100, 100, value_range)
    # a 100-pixel drag moves a tenth of the range: visible, never a jump over all of it
    assert moved.width - start.width == pytest.approx(span / 10, rel=0.02)
    assert moved.center - start.center == pytest.approx(span / 10, rel=0.02)


def test_drag_on_a_flat_image_still_moves():
    assert drag_window(Window(5, 1), 50, 0, (5.0, 5.0)).width > 1
