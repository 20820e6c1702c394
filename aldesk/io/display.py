"""Pure pixel steps from stored values to an 8-bit image on screen.

Each step is a small function of arrays, tested against pydicom's own implementation:
windowing per DICOM PS3.3 C.11.2.1.2 (LINEAR, LINEAR_EXACT, SIGMOID), lookup tables per
C.11.1/C.11.2, a robust automatic window for images that bring none, and the 8-bit mapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Common CT windows (centre, width) in Hounsfield units, as radiology viewers offer them.
CT_PRESETS: dict[str, tuple[float, float]] = {
    "brain": (40, 80),
    "subdural": (75, 215),
    "stroke": (32, 8),
    "lung": (-600, 1500),
    "mediastinum": (50, 350),
    "bone": (400, 1800),
    "abdomen": (50, 400),
    "liver": (60, 160),
}


@dataclass(frozen=True, slots=True)
class Window:
    center: float
    width: float
    function: str = "LINEAR"  # LINEAR, LINEAR_EXACT or SIGMOID

    def describe(self) -> str:
        return f"C {self.center:g} / W {self.width:g}"


def apply_window(values: np.ndarray, window: Window) -> np.ndarray:
    """Map values through a window to [0, 1] (float32), per DICOM PS3.3 C.11.2.1.2/3."""
    x = values.astype(np.float64, copy=False)
    c, w = float(window.center), float(window.width)
    fn = window.function.upper()
    if fn == "SIGMOID":
        out = 1.0 / (1.0 + np.exp(-4.0 * (x - c) / max(w, 1e-12)))
        return out.astype(np.float32)
    if fn == "LINEAR":
        c, w = c - 0.5, max(w, 1.0) - 1.0
    w = max(w, 1e-12)
    out = (x - c) / w + 0.5
    out[x <= c - w / 2] = 0.0
    out[x > c + w / 2] = 1.0
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def auto_window(values: np.ndarray, low: float = 0.5, high: float = 99.5) -> Window:
    """A window over the central percentiles of the values, robust to a few extreme pixels.

    Large images are subsampled on a regular grid, so the cost stays small and the result is
    the same every time for the same image.
    """
    flat = values.reshape(-1)
    step = max(1, flat.size // 1_000_000)
    sample = flat[::step].astype(np.float64)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return Window(0.5, 1.0, "LINEAR_EXACT")
    lo, hi = np.percentile(sample, [low, high])
    if hi <= lo:  # flat image, or nearly: fall back to the full range
        lo, hi = float(sample.min()), float(sample.max())
    if hi <= lo:
        return Window(float(lo), 1.0, "LINEAR_EXACT")
    return Window((lo + hi) / 2.0, hi - lo, "LINEAR_EXACT")


def apply_lut(values: np.ndarray, first_mapped: int, lut: np.ndarray) -> np.ndarray:
    """A DICOM lookup table: values below `first_mapped` take the first entry, values past
    the end the last entry (PS3.3 C.11.1.1)."""
    index = values.astype(np.int64) - int(first_mapped)
    np.clip(index, 0, len(lut) - 1, out=index)
    return lut[index]


def lut_output_bits(declared_bits: int, lut: np.ndarray) -> int:
    """The real bit depth of a LUT's output.

    Many files declare 16 bits but fill only 12 (a known ambiguity of the LUT Descriptor): the
    entries themselves decide when they are far below the declared range.
    """
    top = int(lut.max()) if lut.size else 0
    needed = max(8, top.bit_length())
    return min(declared_bits, needed) if declared_bits > 8 else declared_bits


def to_uint8(unit: np.ndarray) -> np.ndarray:
    """[0, 1] floats to 0..255, rounding half up."""
    return np.floor(np.clip(unit, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def scale_to_uint8(values: np.ndarray, bits: int) -> np.ndarray:
    """Integer colour samples of `bits` bits to 8 bits, keeping their full range."""
    if values.dtype == np.uint8 and bits <= 8:
        return values
    top = float(2**bits - 1)
    return to_uint8(values.astype(np.float64) / top)
