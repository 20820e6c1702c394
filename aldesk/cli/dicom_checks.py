"""Self-test checks: each DICOM decoder aldesk relies on, each on a tiny sample.

pydicom chooses a decoding plugin per transfer syntax and quietly falls back to the next one
when the first is missing. These checks name the plugin aldesk actually gets first (pylibjpeg
before Pillow for JPEG and JPEG 2000; pydicom's own RLE decoder), so a missing or broken
decoder fails its own line instead of hiding behind a fallback.

The samples are made at run time where an encoder is at hand (RLE: pydicom; JPEG 2000:
pylibjpeg-openjpeg; JPEG baseline: Pillow). JPEG Lossless and JPEG-LS have no encoder among
aldesk's dependencies, so their codestreams of `SAMPLE` are embedded below. They were made with
DCMTK 3.6.7 (not shipped with aldesk) from `SAMPLE` written as an uncompressed 8x8 MONOCHROME2
file with 16 bits allocated and 12 stored: `dcmcjpeg +e1 in.dcm out.dcm` (Process 14, SV1) and
`dcmcjpls +el in.dcm out.dcm` (lossless), keeping the single fragment's bytes.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import numpy as np

#: 8x8 values over the whole 12-bit range: what every lossless sample must decode to.
SAMPLE = ((np.arange(64, dtype=np.uint16).reshape(8, 8) * 61) % 4096).astype(np.uint16)

JPEG_LOSSLESS_SV1 = base64.b64decode(
    "/9j/4AAQSkZJRgABAQAAAQABAAD/wwALEAAIAAgBAREA/8QAFgABAQEAAAAAAAAAAAAAAAAABgkQ/9oACAEBAAEA"
    "AM9evXr169vQ9evXr169vQ9evXr169vQ9evXr169vQ9evXr169vQ9evXr169vQ9evXr169vQ9evXr169/9k=")
JPEG_LS_LOSSLESS = base64.b64decode(
    "/9j/9wALEAAIAAgBAREA//gADQH//wASAEMBFABA/9oACAEBAAAAAKPMeY8x3nWPMd/oR6jxO06XK4R6+hbrZarR"
    "ZrJHj51i4N7c2tidvma2ppaGdmTp8rKyMbEwsC5fIvry6uLa0uHxrKysLCurLcD//9k=")

#: Largest difference allowed between pylibjpeg's and Pillow's decoding of one baseline JPEG:
#: two IDCT implementations may round differently, never by more than this.
JPEG_BASELINE_TOLERANCE = 2


def _dataset(syntax: str, pixels: np.ndarray, fragment: bytes | None = None) -> Any:
    """A minimal single-frame MONOCHROME2 dataset holding `pixels`, or `fragment` as its
    encapsulated pixel data when given."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.uid import generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"  # secondary capture
    ds.SOPInstanceUID = generate_uid()
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    eight_bit = pixels.dtype == np.uint8
    ds.BitsAllocated = 8 if eight_bit else 16
    ds.BitsStored = 8 if eight_bit else 12
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 0
    ds.PixelData = encapsulate([fragment]) if fragment is not None else pixels.tobytes()
    return ds


def _decode(ds: Any, plugin: str) -> np.ndarray:
    """The pixels of `ds`, decoded by `plugin` only (no fallback to another plugin)."""
    from pydicom.pixels.decoders.base import get_decoder

    decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
    if plugin not in decoder.available_plugins:
        missing = "; ".join(decoder.missing_dependencies) or "not installed"
        raise RuntimeError(f"the {plugin} decoder is not available ({missing})")
    array, _ = decoder.as_array(ds, decoding_plugin=plugin)
    return array


def _expect_exact(decoded: np.ndarray, name: str, expected: np.ndarray = SAMPLE) -> None:
    if decoded.shape != expected.shape or not np.array_equal(decoded, expected):
        raise RuntimeError(f"the {name} sample decoded to different values")


def _version(module: str) -> str:
    from importlib import import_module

    return str(getattr(import_module(module), "__version__", "?"))


def rle() -> str:
    from pydicom.uid import ExplicitVRLittleEndian, RLELossless

    ds = _dataset(ExplicitVRLittleEndian, SAMPLE)
    ds.compress(RLELossless, encoding_plugin="pydicom", generate_instance_uid=False)
    _expect_exact(_decode(ds, "pydicom"), "RLE")
    return f"RLE Lossless: pydicom {_version('pydicom')}'s decoder, 12-bit sample exact"


def jpeg_baseline() -> str:
    from PIL import Image
    from pydicom.uid import JPEGBaseline8Bit

    pixels = (SAMPLE >> 4).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels, mode="L").save(buf, format="JPEG", quality=95)
    ds = _dataset(JPEGBaseline8Bit, pixels, buf.getvalue())
    decoded = _decode(ds, "pylibjpeg")
    with Image.open(io.BytesIO(buf.getvalue())) as im:
        reference = np.asarray(im, dtype=np.int16)
    if decoded.shape != pixels.shape:
        raise RuntimeError(f"the JPEG sample decoded to shape {decoded.shape}")
    worst = int(np.abs(decoded.astype(np.int16) - reference).max())
    if worst > JPEG_BASELINE_TOLERANCE:
        raise RuntimeError(f"the JPEG sample decoded {worst} grey levels away from Pillow's")
    return (f"JPEG Baseline: pylibjpeg-libjpeg {_version('libjpeg')}, 8-bit sample within "
            f"{worst} of Pillow's decoding")


def jpeg_lossless() -> str:
    from pydicom.uid import JPEGLosslessSV1

    _expect_exact(_decode(_dataset(JPEGLosslessSV1, SAMPLE, JPEG_LOSSLESS_SV1), "pylibjpeg"),
                  "JPEG Lossless")
    return f"JPEG Lossless SV1: pylibjpeg-libjpeg {_version('libjpeg')}, 12-bit sample exact"


def jpeg_ls() -> str:
    from pydicom.uid import JPEGLSLossless

    _expect_exact(_decode(_dataset(JPEGLSLossless, SAMPLE, JPEG_LS_LOSSLESS), "pylibjpeg"),
                  "JPEG-LS")
    return f"JPEG-LS Lossless: pylibjpeg-libjpeg {_version('libjpeg')}, 12-bit sample exact"


def jpeg_2000() -> str:
    from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless

    pixels = np.tile(SAMPLE, (4, 4))  # OpenJPEG's encoder refuses images under 32 x 32
    ds = _dataset(ExplicitVRLittleEndian, pixels)
    ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg", generate_instance_uid=False)
    _expect_exact(_decode(ds, "pylibjpeg"), "JPEG 2000", pixels)
    return (f"JPEG 2000 Lossless: pylibjpeg-openjpeg {_version('openjpeg')}, "
            "12-bit sample exact")


CHECKS: list[tuple[str, Callable[[], str]]] = [
    ("dicom rle", rle),
    ("dicom jpeg", jpeg_baseline),
    ("dicom jpeg-lossless", jpeg_lossless),
    ("dicom jpeg-ls", jpeg_ls),
    ("dicom jpeg2000", jpeg_2000),
]
