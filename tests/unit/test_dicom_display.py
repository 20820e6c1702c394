"""The DICOM display pipeline, pixel for pixel against pydicom's own LUT functions, on
pydicom's bundled files and on files written here for the cases the bundle lacks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut

from aldesk.core.errors import UnreadableFile
from aldesk.io.display import CT_PRESETS, Window, apply_window, to_uint8
from aldesk.io.render import render

BUNDLED = Path(os.path.dirname(get_testdata_file("CT_small.dcm")))
WITH_PIXELS = sorted(
    p.name for p in BUNDLED.glob("*.dcm")
    if "PixelData" in pydicom.dcmread(p, force=True, stop_before_pixels=False, defer_size=64)
)
#: Bundled files that are broken on purpose or need a decoder pydicom's pure-Python stack
#: lacks (the JPEG-lossy sample needs GDCM): they must fail with a reason, never crash.
EXPECTED_ERRORS = {
    "JPEG-lossy.dcm": "cannot decode",
    "JPEG2000-embedded-sequence-delimiter.dcm": "cannot decode",
    "MR_truncated.dcm": "truncated",
    "badVR.dcm": "invalid",
    "meta_missing_tsyntax.dcm": "attributes missing",
    "nested_priv_SQ.dcm": "attributes missing",
}


@pytest.mark.parametrize("name", WITH_PIXELS)
def test_every_bundled_file_with_pixels_renders_or_says_why(name):
    if name in EXPECTED_ERRORS:
        with pytest.raises(UnreadableFile, match=EXPECTED_ERRORS[name]) as err:
            render(BUNDLED / name)
        assert "\n" not in str(err.value)
        return
    shown = render(BUNDLED / name)
    ds = pydicom.dcmread(BUNDLED / name, force=True)
    assert shown.pixels.dtype == np.uint8
    assert shown.pixels.shape[:2] == (ds.Rows, ds.Columns)
    assert shown.frame == shown.frames // 2
    assert shown.pixels.max() > shown.pixels.min(), "a blank image"


def expected_grey(ds: pydicom.Dataset, frame: int | None = None) -> np.ndarray:
    """pydicom's modality LUT and VOI, scaled to 8 bits as aldesk documents it."""
    arr = ds.pixel_array if frame is None else ds.pixel_array[frame]
    values = apply_modality_lut(arr, ds)
    out = apply_voi_lut(values, ds, prefer_lut=True).astype(np.float64)
    if ds.get("VOILUTSequence"):
        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        unit = out / (2**bits - 1)
    else:  # pydicom's output range for windowing (PS3.3 C.11.2.1.2)
        bits = int(ds.BitsStored)
        if ds.PixelRepresentation == 0:
            y_min, y_max = 0.0, 2.0**bits - 1
        else:
            y_min, y_max = -(2.0 ** (bits - 1)), 2.0 ** (bits - 1) - 1
        if "RescaleSlope" in ds and "RescaleIntercept" in ds:
            slope, intercept = float(ds.RescaleSlope), float(ds.RescaleIntercept)
            y_min, y_max = y_min * slope + intercept, y_max * slope + intercept
        unit = (out - y_min) / (y_max - y_min)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        unit = 1.0 - unit
    return to_uint8(unit)


def assert_same_pixels(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    diff = np.abs(got.astype(int) - want.astype(int))
    # Identical but for float rounding exactly at a step between two grey levels.
    assert diff.max() <= 1 and (diff > 0).mean() < 0.001, (diff.max(), (diff > 0).mean())


def write_variant(tmp_path: Path, name: str, source: str = "CT_small.dcm", **changes) -> Path:
    ds = pydicom.dcmread(get_testdata_file(source))
    for keyword, value in changes.items():
        if value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    path = tmp_path / name
    ds.save_as(path)
    return path


@pytest.mark.parametrize("name", ["MR_small.dcm", "MR_small_bigendian.dcm", "MR_small_RLE.dcm",
                                  "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
                                  "693_J2KI.dcm", "examples_overlay.dcm"])
def test_bundled_windows_match_pydicom(name):
    ds = pydicom.dcmread(BUNDLED / name)
    assert_same_pixels(render(BUNDLED / name).pixels, expected_grey(ds))


@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("photometric", ["MONOCHROME2", "MONOCHROME1"])
def test_windows_rescale_and_monochrome1_match_pydicom(tmp_path, function, photometric):
    path = write_variant(tmp_path, "ct.dcm", WindowCenter=40, WindowWidth=400,
                         VOILUTFunction=function, PhotometricInterpretation=photometric)
    ds = pydicom.dcmread(path)
    assert "RescaleSlope" in ds and ds.PixelRepresentation == 1  # signed and rescaled
    assert_same_pixels(render(path).pixels, expected_grey(ds))


def test_voi_lut_sequence_wins_over_the_window_as_in_pydicom(tmp_path):
    from pydicom.dataset import Dataset

    lut = Dataset()
    lut.LUTDescriptor = [4096, 0, 12]
    lut.add_new(0x00283006, "US", [min(4095, int(4095 * (i / 4095) ** 0.5))
                                   for i in range(4096)])  # LUTData
    path = write_variant(tmp_path, "lut.dcm", source="MR_small.dcm",
                         VOILUTSequence=pydicom.Sequence([lut]))
    ds = pydicom.dcmread(path)
    shown = render(path)
    assert shown.window is None
    assert_same_pixels(shown.pixels, expected_grey(ds))


def test_modality_lut_sequence_matches_pydicom(tmp_path):
    from pydicom.dataset import Dataset

    mlut = Dataset()
    mlut.LUTDescriptor = [2048, 0, 16]
    mlut.ModalityLUTType = "US"
    mlut.add_new(0x00283006, "US", [i * 3 for i in range(2048)])  # LUTData
    path = write_variant(tmp_path, "mlut.dcm", source="MR_small.dcm",
                         ModalityLUTSequence=pydicom.Sequence([mlut]),
                         WindowCenter=1500, WindowWidth=3000)
    ds = pydicom.dcmread(path)
    got = render(path).pixels
    values = apply_modality_lut(ds.pixel_array, ds)
    want = to_uint8(apply_window(values, Window(1500, 3000)))
    assert_same_pixels(got, want)


def test_file_without_window_gets_a_robust_automatic_one(tmp_path):
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    arr = ds.pixel_array.copy()
    arr[0, :4] = [-2000, 4000, 4000, 4000]  # a few wild pixels must not squash the image
    ds.PixelData = arr.tobytes()
    ds.save_as(tmp_path / "wild.dcm")
    shown = render(tmp_path / "wild.dcm")
    clean = render(get_testdata_file("CT_small.dcm"))
    assert abs(shown.window.center - clean.window.center) < 50
    assert abs(shown.window.width - clean.window.width) < 100
    assert np.std(shown.pixels.astype(float)) > 40  # contrast, not a flat grey


def test_ct_presets_and_an_explicit_window(tmp_path):
    path = write_variant(tmp_path, "ct.dcm", WindowCenter=40, WindowWidth=400)
    ds = pydicom.dcmread(path)
    hu = apply_modality_lut(ds.pixel_array, ds)
    for name, (c, w) in CT_PRESETS.items():
        shown = render(path, window=Window(c, w))
        assert_same_pixels(shown.pixels, to_uint8(apply_window(hu, Window(c, w))))
        assert shown.default_window == Window(40, 400), name


def test_multiframe_is_one_item_shown_at_the_middle_frame():
    path = BUNDLED / "examples_ybr_color.dcm"
    shown = render(path)
    assert (shown.frames, shown.frame) == (30, 15)
    ds = pydicom.dcmread(path)
    assert np.array_equal(shown.pixels, ds.pixel_array[15])
    assert np.array_equal(render(path, frame=0).pixels, ds.pixel_array[0])
    with pytest.raises(UnreadableFile, match="frame 30 does not exist"):
        render(path, frame=30)
    rtdose = BUNDLED / "rtdose.dcm"
    ds = pydicom.dcmread(rtdose)
    assert_same_pixels(render(rtdose, frame=3).pixels,
                       to_uint8(apply_window(apply_modality_lut(ds.pixel_array[3], ds),
                                             render(rtdose, frame=3).window)))


def test_palette_colour_becomes_rgb_like_pydicom():
    path = BUNDLED / "examples_palette.dcm"
    ds = pydicom.dcmread(path)
    rgb = apply_color_lut(ds.pixel_array, ds)
    want = (rgb // 257).astype(np.uint8) if rgb.max() > 255 else rgb.astype(np.uint8)
    got = render(path).pixels
    assert got.shape == (*ds.pixel_array.shape, 3)
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


@pytest.mark.parametrize("name", ["SC_ybr_full_422_uncompressed.dcm", "SC_rgb_dcmtk_+eb+cy+np.dcm",
                                  "examples_jpeg2k.dcm", "SC_rgb_rle_16bit.dcm"])
def test_ybr_and_deep_colour_become_8_bit_rgb(name):
    ds = pydicom.dcmread(BUNDLED / name)
    arr = ds.pixel_array
    want = arr if arr.dtype == np.uint8 else to_uint8(arr / (2.0**ds.BitsStored - 1))
    assert np.array_equal(render(BUNDLED / name).pixels, want)


def test_files_without_image_data_name_their_sop_class():
    for name, sop in [("rtplan.dcm", "RT Plan Storage"), ("test-SR.dcm", "Comprehensive SR"),
                      ("waveform_ecg.dcm", "12-lead ECG")]:
        with pytest.raises(UnreadableFile, match=f"no image data \\({sop}"):
            render(BUNDLED / name)


def test_file_meta_missing_and_big_endian_files_still_render(tmp_path):
    for name in ("ExplVR_BigEnd.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm",
                 "image_dfl.dcm"):
        assert render(BUNDLED / name).pixels.size
    ds = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    raw = tmp_path / "raw"  # no preamble, no file meta, no extension
    pydicom.dcmwrite(raw, ds, enforce_file_format=False, write_like_original=True)
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    with raw.open("wb") as f:
        ds.save_as(f, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert_same_pixels(render(raw).pixels, expected_grey(pydicom.dcmread(
        get_testdata_file("MR_small.dcm"))))


@pytest.mark.parametrize("name,syntax", [
    ("MR_small_RLE.dcm", "1.2.840.10008.1.2.5"),               # RLE Lossless
    ("MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90"),   # JPEG 2000 lossless
    ("MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80"),  # JPEG-LS lossless
    ("MR_small_bigendian.dcm", "1.2.840.10008.1.2.2"),         # big endian
    ("MR_small_implicit.dcm", "1.2.840.10008.1.2"),            # implicit VR
])
def test_each_lossless_decoder_gives_exactly_the_uncompressed_image(name, syntax):
    assert pydicom.dcmread(BUNDLED / name).file_meta.TransferSyntaxUID == syntax
    assert np.array_equal(render(BUNDLED / name).pixels, render(BUNDLED / "MR_small.dcm").pixels)


@pytest.mark.parametrize("name,syntax", [
    ("SC_rgb_jpeg_dcmtk.dcm", "1.2.840.10008.1.2.4.50"),      # JPEG baseline
    ("JPGExtended.dcm", "1.2.840.10008.1.2.4.51"),            # JPEG extended (12 bit)
    ("SC_rgb_jpeg_gdcm.dcm", "1.2.840.10008.1.2.4.70"),       # JPEG lossless
    ("JPEGLSNearLossless_16.dcm", "1.2.840.10008.1.2.4.81"),  # JPEG-LS near-lossless
    ("JPEG2000.dcm", "1.2.840.10008.1.2.4.91"),               # JPEG 2000
    ("image_dfl.dcm", "1.2.840.10008.1.2.1.99"),              # deflated
])
def test_each_compressed_syntax_decodes(name, syntax):
    ds = pydicom.dcmread(BUNDLED / name)
    assert ds.file_meta.TransferSyntaxUID == syntax
    shown = render(BUNDLED / name)
    assert shown.pixels.shape[:2] == (ds.Rows, ds.Columns) and shown.pixels.std() > 1


def synthetic(tmp_path: Path, name: str, arr: np.ndarray, *, signed: bool, floating: bool = False,
              **extra) -> Path:
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns = arr.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    bits = arr.dtype.itemsize * 8
    ds.BitsAllocated = bits
    if floating:
        ds.FloatPixelData = arr.astype("<f4").tobytes()
    else:
        ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits - 1, int(signed)
        ds.PixelData = arr.tobytes()
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    path = tmp_path / name
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "uint32"])
def test_signed_and_unsigned_8_to_32_bit_pixels(tmp_path, dtype):
    info = np.iinfo(dtype)
    ramp = np.linspace(max(info.min, -30000), min(info.max, 60000), 32 * 32)
    arr = ramp.reshape(32, 32).astype(dtype)
    path = synthetic(tmp_path, f"{dtype}.dcm", arr, signed=info.min < 0)
    shown = render(path)
    assert np.array_equal(pydicom.dcmread(path).pixel_array, arr)
    assert shown.pixels.min() <= 3 and shown.pixels.max() >= 252  # the automatic window
    assert np.all(np.diff(shown.pixels.astype(int).ravel()) >= 0)
    windowed = synthetic(tmp_path, f"w-{dtype}.dcm", arr, signed=info.min < 0,
                         WindowCenter=float(arr.mean()),
                         WindowWidth=float(np.ptp(arr.astype(float))) / 2)
    assert_same_pixels(render(windowed).pixels, expected_grey(pydicom.dcmread(windowed)))


def test_float_pixel_data(tmp_path):
    arr = np.linspace(-1.5, 2.5, 24 * 24).reshape(24, 24).astype(np.float32)
    shown = render(synthetic(tmp_path, "float.dcm", arr, signed=True, floating=True))
    assert shown.pixels.shape == (24, 24)
    assert shown.pixels.min() <= 3 and shown.pixels.max() >= 252


@pytest.mark.parametrize("sop,name", [
    ("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage"),
    ("1.2.840.10008.5.1.4.1.1.88.59", "Key Object Selection Document Storage"),
    ("1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage"),
])
def test_documents_without_pixels_name_their_sop_class(tmp_path, sop, name):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.Modality = "DOC"
    ds.save_as(tmp_path / "doc.dcm", enforce_file_format=True)
    with pytest.raises(UnreadableFile, match=f"no image data \\({name}\\)"):
        render(tmp_path / "doc.dcm")
    from aldesk.io.headers import file_info

    info = file_info(tmp_path / "doc.dcm", "dicom", 10**8)
    assert info.status == "error" and info.reason == f"no image data ({name})"


def test_integer_rescale_shortcut_gives_pydicoms_real_values():
    """Slope 1 and an integer intercept (most CT) skip the float64 rescale: same numbers, as
    int16; anything else falls back to pydicom's modality LUT."""
    from aldesk.io.dicom import _integer_shift

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    stored = ds.pixel_array
    expected = apply_modality_lut(stored, ds)
    got = _integer_shift(stored, ds.RescaleSlope, ds.RescaleIntercept)
    assert got is not None and got.dtype == np.int16
    assert np.array_equal(got, expected)
    unsigned = np.array([[0, 40000]], np.uint16)
    assert _integer_shift(unsigned, 1, -1024) is None  # 38976 does not fit int16
    wrapped = _integer_shift(unsigned, 1, -32768)
    assert wrapped is not None and wrapped.dtype == np.int16
    assert np.array_equal(wrapped, [[-32768, 7232]])
    high = np.array([[40000, 50000]], np.uint16)  # an intercept beyond int16 itself
    assert np.array_equal(_integer_shift(high, 1, -40000), [[0, 10000]])
    swapped = np.array([[0, 40000]], ">u2")  # not native: read by value, not by bytes
    assert np.array_equal(_integer_shift(swapped, 1, -32768), [[-32768, 7232]])
    assert np.array_equal(_integer_shift(np.array([[3, 250]], np.uint8), 1, -1024),
                          [[-1021, -774]])
    before = unsigned.copy()
    _integer_shift(unsigned, 1, -32768)
    assert np.array_equal(unsigned, before)  # the stored values are left as they were
    assert _integer_shift(stored, 2, 0) is None
    assert _integer_shift(stored, 1, -1024.5) is None
    assert _integer_shift(stored.astype(np.float32), 1, 0) is None
    assert _integer_shift(stored, "bad", 0) is None
