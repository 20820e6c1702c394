"""Re-windowing grey values fast enough for an interactive window/level drag.

`rewindow(values, window, invert)` gives exactly the 8-bit pixels that the display pipeline
(`render(path, window=window)`) gives for the same real values, but through a lookup table
when the values are integers: the window is computed once per possible value instead of once
per pixel. `drag_window` turns a mouse drag into a new window, as PACS viewers do.
"""

from __future__ import annotations

import math

import numpy as np

from aldesk.io.display import Window, apply_window, to_uint8

#: Integer values spanning at most this many levels go through a lookup table.
MAX_LUT_RANGE = 2**17

#: A drag this many pixels long sweeps the whole value range (width or centre).
DRAG_PIXELS_PER_RANGE = 1000.0


def _native(values: np.ndarray) -> np.ndarray:
    return values if values.dtype.isnative else values.astype(values.dtype.newbyteorder("="))


def compact_values(values: np.ndarray) -> np.ndarray:
    """The same values in an integer dtype when they are all integers (exactly), else as given.

    The modality rescale gives float64 even for slope 1: stored as int16 they take a quarter
    of the memory and re-window through a lookup table. Byte order becomes native.
    """
    values = _native(values)
    if values.dtype.kind != "f" or values.size == 0:
        return values
    lo, hi = float(values.min()), float(values.max())
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo < -(2**31) or hi >= 2**31:
        return values
    ints = values.astype(np.int32)
    if not np.array_equal(ints, values):
        return values
    if lo >= -(2**15) and hi < 2**15:
        return ints.astype(np.int16)
    return ints


def _window_unit(values: np.ndarray, window: Window, invert: bool) -> np.ndarray:
    """The pipeline's own steps (display.apply_window, inversion, to_uint8), unchanged."""
    unit = apply_window(values, window)
    if invert:
        unit = 1.0 - unit
    return to_uint8(unit)


def rewindow(values: np.ndarray, window: Window, invert: bool) -> np.ndarray:
    """uint8 pixels of grey real values (before VOI) through `window`, inverted if asked.

    Pixel for pixel what the display pipeline gives. Integer values of 8 or 16 bits index a
    table over their [min, max]; wider integers, and floats that are all integers, too when
    that spans at most MAX_LUT_RANGE levels. Other values are
    windowed directly (slower, same result).
    """
    values = _native(values)
    kind, size = values.dtype.kind, values.dtype.itemsize
    if values.size == 0:
        return np.zeros(values.shape, np.uint8)
    if kind in "iu" and size <= 2:
        # A table over [min, max] only (a CT slice: ~4,000 levels, not 65,536); the offsets
        # from min are taken in the values' own width, which cannot overflow unsigned.
        unsigned = np.dtype(f"u{size}")
        lo, hi = int(values.min()), int(values.max())
        table = _window_unit(np.arange(lo, hi + 1, dtype=np.int64), window, invert)
        return np.take(table, (values - values.dtype.type(lo)).view(unsigned))
    if kind == "f":
        ints = compact_values(values)
        if ints.dtype.kind == "f":
            return _window_unit(values, window, invert)
        values = ints
        if values.dtype.itemsize <= 2:
            return rewindow(values, window, invert)
    if kind in "iuf":
        lo, hi = values.min(), values.max()
        if int(hi) - int(lo) < MAX_LUT_RANGE:
            table = _window_unit(np.arange(int(lo), int(hi) + 1, dtype=np.int64), window,
                                 invert)
            return np.take(table, values - lo)
    return _window_unit(values, window, invert)


def _step(per_pixel: float) -> float:
    """A round number close below `per_pixel`, at most 1 (so the overlay reads cleanly)."""
    return min(1.0, 10.0 ** math.floor(math.log10(per_pixel)))


def drag_window(start: Window, dx: float, dy: float, value_range: tuple[float, float]
                ) -> Window:
    """The window after a right-drag of (dx, dy) screen pixels from `start`.

    Horizontal changes the width (right: wider, less contrast), vertical the centre (down:
    higher centre, darker image), each by the value range per DRAG_PIXELS_PER_RANGE pixels, so
    a 100-pixel drag moves a tenth of the range on 8-bit and 12-bit data alike. The width
    never goes below 1; the window function is kept.
    """
    lo, hi = float(value_range[0]), float(value_range[1])
    span = hi - lo if math.isfinite(hi - lo) and hi > lo else 1.0
    per_pixel = span / DRAG_PIXELS_PER_RANGE
    step = _step(per_pixel)
    digits = max(0, -math.floor(math.log10(step)))
    center = round(float(start.center) + dy * per_pixel, digits)
    width = max(1.0, round(float(start.width) + dx * per_pixel, digits))
    return Window(center, width, start.function)
