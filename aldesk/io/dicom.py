"""DICOM pixels to the image a radiologist expects, as on a PACS viewer.

Pipeline (DESIGN.md): stored values -> modality LUT (rescale slope/intercept, or the Modality
LUT Sequence) -> VOI (the file's VOI LUT Sequence, else its first window, else a robust
automatic window) -> MONOCHROME1 inverted -> 8 bits. PALETTE COLOR and YBR become RGB.
Only the frame shown is decoded; enhanced multi-frame files take rescale and window from their
functional groups. Every failure becomes `UnreadableFile` with a one-line reason.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from aldesk.core.errors import UnreadableFile
from aldesk.io.display import (
    Window,
    apply_lut,
    apply_window,
    auto_window,
    lut_output_bits,
    scale_to_uint8,
    to_uint8,
)
from aldesk.io.rewindow import compact_values, rewindow

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
GREY = ("MONOCHROME1", "MONOCHROME2")


@dataclass(frozen=True, slots=True)
class DicomFrame:
    pixels: np.ndarray  # uint8, (H, W) grey or (H, W, 3) RGB
    frames: int
    window: Window | None  # the window applied (grey images)
    default_window: Window | None  # what the file asks for (or the automatic one)
    voi_lut: bool  # the default view comes from a VOI LUT, not a window
    modality: str
    values: np.ndarray | None = None  # grey real values before VOI (for re-windowing)
    invert: bool = False  # MONOCHROME1: shown inverted after the VOI


def _one_line(err: BaseException) -> str:
    text = " ".join(line.strip() for line in str(err).splitlines() if line.strip())
    return (text or type(err).__name__)[:240]


def _fix_transfer_syntax(ds: Any) -> None:
    """Files without (or with an incomplete) file meta: state the encoding they were read in."""
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import (
        ExplicitVRBigEndian,
        ExplicitVRLittleEndian,
        ImplicitVRLittleEndian,
    )

    meta = getattr(ds, "file_meta", None)
    if meta is None:
        ds.file_meta = meta = FileMetaDataset()
    if "TransferSyntaxUID" in meta:
        return
    implicit, little = ds.original_encoding
    if implicit:
        meta.TransferSyntaxUID = ImplicitVRLittleEndian
    else:
        meta.TransferSyntaxUID = ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def no_image_reason(ds: Any) -> str:
    sop = ds.get("SOPClassUID")
    name = getattr(sop, "name", None) or (str(sop) if sop else "unknown SOP class")
    return f"no image data ({name})"


def read_frame_values(path: Path, frame: int | None, max_pixels: int
                      ) -> tuple[Any, np.ndarray, int]:
    """(dataset without pixels, the frame's stored values, number of frames).

    `frame` None means the middle frame. Size is checked before anything is decoded.
    """
    import pydicom
    from pydicom.pixels import pixel_array

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True, defer_size=1024)
    except Exception as err:
        raise UnreadableFile(f"not a readable DICOM file: {_one_line(err)}") from err
    if not any(k in ds for k in PIXEL_KEYWORDS):
        raise UnreadableFile(no_image_reason(ds))
    missing = [k for k in ("Rows", "Columns", "BitsAllocated") if k not in ds and
               "PixelData" in ds]
    if missing:
        raise UnreadableFile(f"image attributes missing: {', '.join(missing)}")
    try:
        rows, cols = int(ds.Rows), int(ds.Columns)
        frames = int(ds.get("NumberOfFrames") or 1)
    except (TypeError, ValueError) as err:
        raise UnreadableFile(f"image attributes invalid: {_one_line(err)}") from err
    frames = max(frames, 1)
    if rows * cols > max_pixels:
        raise UnreadableFile(
            f"{cols}x{rows} = {rows * cols / 1e6:.0f} megapixels per frame is over the limit "
            f"of {max_pixels / 1e6:.0f}; not decoded")
    index = frames // 2 if frame is None else frame
    if not 0 <= index < frames:
        raise UnreadableFile(f"frame {index} does not exist (the file has {frames})")
    _fix_transfer_syntax(ds)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = pixel_array(ds, index=index if frames > 1 else None)
    except NotImplementedError as err:
        syntax = ds.file_meta.TransferSyntaxUID
        raise UnreadableFile(
            f"compressed as {getattr(syntax, 'name', syntax)}, which this installation cannot"
            f" decode ({_one_line(err)})") from err
    except Exception as err:
        text = _one_line(err)
        if "less than expected" in text or "truncated" in text.lower():
            raise UnreadableFile(f"pixel data is truncated: {text}") from err
        raise UnreadableFile(f"cannot decode the pixel data: {text}") from err
    if frames > 1 and values.ndim == (4 if int(ds.get("SamplesPerPixel", 1)) > 1 else 3):
        values = values[0]
    return ds, values, frames


def _group_item(ds: Any, frame: int, sequence: str) -> Any | None:
    """The first item of `sequence` in the per-frame, else shared, functional groups."""
    for groups, i in (("PerFrameFunctionalGroupsSequence", frame),
                      ("SharedFunctionalGroupsSequence", 0)):
        items = ds.get(groups)
        if items and len(items) > i and sequence in items[i] and items[i][sequence].value:
            return items[i][sequence].value[0]
    return None


def _first(value: Any) -> float:
    try:
        return float(value[0])
    except TypeError:
        return float(value)


def file_window(ds: Any, frame: int) -> Window | None:
    """The first window the file gives (top level, else in its functional groups)."""
    source = ds if "WindowCenter" in ds and "WindowWidth" in ds else _group_item(
        ds, frame, "FrameVOILUTSequence")
    if source is None or "WindowCenter" not in source or "WindowWidth" not in source:
        return None
    try:
        center, width = _first(source.WindowCenter), _first(source.WindowWidth)
    except (TypeError, ValueError, IndexError):
        return None
    function = str(source.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
    if function not in ("LINEAR", "LINEAR_EXACT", "SIGMOID") or width <= 0:
        return None
    return Window(center, width, function)


def _integer_shift(values: np.ndarray, slope: Any, intercept: Any) -> np.ndarray | None:
    """Integer values with slope 1 and an integer intercept (most CT): the real values as
    int16 when they fit, computed without the float64 pass of the general rescale (the same
    numbers); None when that does not apply."""
    try:
        slope_f, intercept_f = float(slope), float(intercept)
    except (TypeError, ValueError):
        return None
    if (values.dtype.kind not in "iu" or values.dtype.itemsize > 2 or slope_f != 1.0
            or not intercept_f.is_integer() or values.size == 0):
        return None
    b = int(intercept_f)
    lo, hi = int(values.min()), int(values.max())
    if lo + b < -(2**15) or hi + b >= 2**15:
        return None
    if values.dtype.itemsize == 2 and values.dtype.isnative and -(2**15) <= b < 2**15:
        # One pass, no int32 copies: 16-bit addition wraps modulo 2**16, and the true sums
        # fit int16 (checked above), so reading uint16 as int16 and adding gives them exactly.
        return values.view(np.int16) + np.int16(b)
    return (values.astype(np.int32) + b).astype(np.int16)


def modality_values(ds: Any, values: np.ndarray, frame: int) -> np.ndarray:
    """Stored values through the modality LUT or rescale (functional groups included)."""
    from pydicom.pixels import apply_modality_lut

    if "ModalityLUTSequence" not in ds and "RescaleSlope" in ds and "RescaleIntercept" in ds:
        shifted = _integer_shift(values, ds.RescaleSlope, ds.RescaleIntercept)
        if shifted is not None:
            return shifted
    if "ModalityLUTSequence" in ds or ("RescaleSlope" in ds and "RescaleIntercept" in ds):
        return apply_modality_lut(values, ds)
    item = _group_item(ds, frame, "PixelValueTransformationSequence")
    if item is not None and "RescaleSlope" in item and "RescaleIntercept" in item:
        return values.astype(np.float64) * float(item.RescaleSlope) + float(
            item.RescaleIntercept)
    return values


def _voi_lut(ds: Any) -> tuple[int, np.ndarray, int] | None:
    """(first mapped value, LUT, output bits) of the file's first VOI LUT, if it has one."""
    seq = ds.get("VOILUTSequence")
    if not seq or "LUTDescriptor" not in seq[0] or "LUTData" not in seq[0]:
        return None
    item = seq[0]
    entries, first, bits = (int(v) for v in item.LUTDescriptor)
    data = item.LUTData
    if isinstance(data, bytes):
        order = "<" if ds.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.2" else ">"
        lut = np.frombuffer(data, dtype=f"{order}u2")
    else:
        lut = np.asarray(data if isinstance(data, list | tuple) else [data])
    lut = lut[: entries or 65536].astype(np.int64)
    if first >= 32768 and int(ds.get("PixelRepresentation", 0)) == 1:
        first -= 65536  # US descriptor holding a signed first value
    return first, lut, lut_output_bits(bits, lut)


def display_frame(ds: Any, values: np.ndarray, frame: int, frames: int,
                  window: Window | None = None) -> DicomFrame:
    """Stored values of one frame to 8-bit display pixels."""
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    modality = str(ds.get("Modality", "") or "")
    float_data = "PixelData" not in ds
    if photometric in GREY or float_data:
        real = modality_values(ds, values, frame)
        lut = _voi_lut(ds)
        default = file_window(ds, frame)
        invert = photometric == "MONOCHROME1"
        compact = compact_values(real)
        if window is None and lut is not None:
            first, table, bits = lut
            unit = apply_lut(real, first, table).astype(np.float64) / float(2**bits - 1)
            if invert:
                unit = 1.0 - unit
            return DicomFrame(to_uint8(unit), frames, None, default, True, modality, compact,
                              invert)
        default = default or auto_window(real)
        used = window or default
        # Through a table over the integer values when they are integers: the same pixels as
        # windowing each one (io.rewindow), in a fraction of the time.
        return DicomFrame(rewindow(compact, used, invert), frames, used, default, False,
                          modality, compact, invert)
    if photometric == "PALETTE COLOR":
        from pydicom.pixels import apply_color_lut

        rgb = apply_color_lut(values, ds)
        bits = 16 if rgb.dtype == np.uint16 else 8
        if bits == 16 and int(rgb.max(initial=0)) < 256:
            bits = 8  # some files store 8-bit entries in a 16-bit table
        return DicomFrame(scale_to_uint8(rgb, bits), frames, None, None, False, modality)
    if photometric in ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_ICT", "YBR_RCT",
                       "YBR_PARTIAL_420", "YBR_PARTIAL_422"):
        bits = int(ds.get("BitsStored") or 8)
        pixels = scale_to_uint8(values, bits)
        if window is not None:
            pixels = to_uint8(apply_window(values, window))
        return DicomFrame(pixels, frames, window, None, False, modality)
    raise UnreadableFile(f"photometric interpretation {photometric} is not supported")


def load_dicom(path: Path, frame: int | None, window: Window | None, max_pixels: int
               ) -> DicomFrame:
    ds, values, frames = read_frame_values(path, frame, max_pixels)
    index = frames // 2 if frame is None else frame
    try:
        return display_frame(ds, values, index, frames, window)
    except UnreadableFile:
        raise
    except Exception as err:
        raise UnreadableFile(f"cannot display the pixel data: {_one_line(err)}") from err
