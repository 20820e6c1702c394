"""The fast DICOM header reader (`aldesk.io.dicom_header`) against pydicom itself.

Every bundled pydicom test file is read by both and every field compared; synthetic files cover
nested undefined-length sequences, files without meta, truncation at every byte, non-DICOM
input, odd values, and lengths that claim gigabytes (sparse files).
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import struct
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydicom
import pydicom.data
import pytest
from pydicom.datadict import dictionary_has_tag
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

from aldesk.io import dicom_header
from aldesk.io.dicom_header import DicomHeader, NotDicomError, read_dicom_header

TEST_FILES = Path(os.path.dirname(pydicom.data.get_testdata_file("CT_small.dcm")))
PIXEL_TAGS = {0x7FE00008: "FloatPixelData", 0x7FE00009: "DoubleFloatPixelData",
              0x7FE00010: "PixelData"}

#: Bundled files that the fast path must read without pydicom.
FAST_FILES = [
    "CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
    "MR_small_expb.dcm", "MR_small_RLE.dcm", "MR_small_jp2klossless.dcm",
    "MR_small_jpeg_ls_lossless.dcm", "MR_small_padded.dcm", "MR_truncated.dcm",
    "examples_ybr_color.dcm", "examples_jpeg2k.dcm", "examples_palette.dcm",
    "examples_overlay.dcm", "examples_rgb_color.dcm", "JPEG2000.dcm", "JPEG-lossy.dcm",
    "JPGExtended.dcm", "693_J2KI.dcm", "SC_rgb_rle_2frame.dcm", "SC_rgb_small_odd.dcm",
    "SC_rgb_small_odd_big_endian.dcm", "SC_ybr_full_422_uncompressed.dcm", "rtdose.dcm",
    "rtdose_1frame.dcm", "rtdose_expb.dcm", "rtdose_rle.dcm", "rtplan.dcm", "liver_1frame.dcm",
    "liver_expb_1frame.dcm", "waveform_ecg.dcm", "test-SR.dcm", "reportsi.dcm",
    "ExplVR_BigEndNoMeta.dcm", "ExplVR_LitEndNoMeta.dcm", "UN_sequence.dcm", "image_dfl.dcm",
    "empty_charset_LEI.dcm", "priv_SQ.dcm", "no_meta_group_length.dcm", "rtstruct.dcm",
]


def bundled_files() -> list[Path]:
    """pydicom's test files: every `.dcm`, and files without an extension (DICOMDIR series)."""
    return sorted(p for p in TEST_FILES.rglob("*")
                  if p.is_file() and (p.suffix.lower() == ".dcm" or not p.suffix))


# --- What pydicom says --------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A pydicom string value, several joined by backslashes; None when absent or empty."""
    if value is None:
        return None
    if isinstance(value, pydicom.multival.MultiValue | list):
        return "\\".join(str(v) for v in value) or None
    return str(value) or None


def _first_int(value: Any) -> int | None:
    if isinstance(value, pydicom.multival.MultiValue | list):
        value = value[0] if len(value) else None
    return int(value) if isinstance(value, int) else None


def _value(ds: Dataset, keyword: str) -> Any:
    """An attribute's value, None when absent or when pydicom cannot convert it."""
    try:
        elem = ds[keyword]
    except KeyError:
        return None
    except Exception:
        return None
    return elem.value


def expected_header(path: Path) -> dict[str, Any] | None:
    """The DicomHeader fields computed from pydicom; None where it finds no DICOM element."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=True)
        meta = ds.file_meta
        if not any(map(dictionary_has_tag, [*meta.keys(), *ds.keys()])):
            return None
        frames = _value(ds, "NumberOfFrames")
        image_type = _value(ds, "ImageType")
        fields = {
            "transfer_syntax": _text(meta.get("TransferSyntaxUID")),
            "sop_class_uid": _text(_value(ds, "SOPClassUID")),
            "modality": _text(_value(ds, "Modality")),
            "body_part": _text(_value(ds, "BodyPartExamined")),
            "view_position": _text(_value(ds, "ViewPosition")),
            "image_type": tuple(str(v) for v in image_type)
            if isinstance(image_type, pydicom.multival.MultiValue)
            else ((str(image_type),) if image_type else ()),
            "photometric": _text(_value(ds, "PhotometricInterpretation")),
            "samples_per_pixel": _first_int(_value(ds, "SamplesPerPixel")),
            "rows": _first_int(_value(ds, "Rows")),
            "columns": _first_int(_value(ds, "Columns")),
            "frames": int(frames) if isinstance(frames, int) and frames >= 1 else 1,
            "bits_allocated": _first_int(_value(ds, "BitsAllocated")),
            "bits_stored": _first_int(_value(ds, "BitsStored")),
            "pixel_representation": _first_int(_value(ds, "PixelRepresentation")),
            "burned_in_annotation": _text(_value(ds, "BurnedInAnnotation")),
            "study_uid": _text(_value(ds, "StudyInstanceUID")),
            "series_uid": _text(_value(ds, "SeriesInstanceUID")),
        }
        fields.update(expected_pixel(path, meta.get("TransferSyntaxUID")))
    return fields


def expected_pixel(path: Path, ts: str | None) -> dict[str, Any]:
    """pixel_data, pixel_length, pixel_available from pydicom's full read (values deferred).

    Where the full read finds no pixel data (pydicom drops every element when the file ends
    early), the element at which `dcmread(stop_before_pixels=True)` stops is read by hand.
    """
    size = path.stat().st_size
    if ts == DeflatedExplicitVRLittleEndian:
        size = len(inflated_data_set(path))
    try:
        full = pydicom.dcmread(path, force=True, defer_size=256)
    except Exception:
        full = Dataset()
    tag = next(filter(PIXEL_TAGS.__contains__, full.keys()), None)
    if tag is not None:
        raw = full.get_item(tag, keep_deferred=True)
        return pixel_fields(tag, raw.length, size - raw.value_tell)
    with open(path, "rb") as fp:
        ds = pydicom.dcmread(fp, force=True, stop_before_pixels=True)
        pos = fp.tell()
        data = fp.read(12)
    implicit, little = ds.original_encoding
    order = "<" if little else ">"
    if len(data) < 8:
        return pixel_fields(None, 0, 0)
    group, elem = struct.unpack(order + "HH", data[:4])
    if implicit:
        length, start = struct.unpack(order + "L", data[4:8])[0], pos + 8
    elif data[4:6] in (b"OB", b"OW", b"OF", b"OD", b"UN"):
        length, start = struct.unpack(order + "L", data[8:12])[0], pos + 12
    else:
        length, start = struct.unpack(order + "H", data[6:8])[0], pos + 8
    return pixel_fields(group << 16 | elem, length, size - start)


def pixel_fields(tag: int | None, length: int, available: int) -> dict[str, Any]:
    """The pixel fields of a DicomHeader for a pixel element (tag None: there is none)."""
    if tag not in PIXEL_TAGS:
        return {"pixel_data": None, "pixel_length": None, "pixel_available": None}
    return {"pixel_data": PIXEL_TAGS[tag],
            "pixel_length": None if length == 0xFFFFFFFF else length,
            "pixel_available": available}


def inflated_data_set(path: Path) -> bytes:
    """The inflated data set of a deflated file, as pydicom inflates it."""
    with open(path, "rb") as fp:
        fp.seek(132)
        meta = pydicom.filereader._read_file_meta_info(fp)
        assert meta.TransferSyntaxUID == DeflatedExplicitVRLittleEndian
        rest = fp.read()
        return zlib.decompress(rest, -zlib.MAX_WBITS) if rest else b""


def as_dict(header: DicomHeader) -> dict[str, Any]:
    """The header's fields, without used_fallback."""
    return {name: getattr(header, name) for name in DicomHeader.__slots__
            if name != "used_fallback"}


def assert_same_as_pydicom(path: Path) -> DicomHeader | None:
    """read_dicom_header(path) equals what pydicom says, or both find it is not DICOM."""
    expected = expected_header(path)
    if expected is None:
        with pytest.raises(NotDicomError):
            read_dicom_header(path)
        return None
    header = read_dicom_header(path)
    assert as_dict(header) == expected
    return header


# --- Bundled files -------------------------------------------------------------------------


@pytest.mark.parametrize("path", bundled_files(), ids=lambda p: str(p.relative_to(TEST_FILES)))
def test_bundled_file_matches_pydicom(path: Path) -> None:
    assert_same_as_pydicom(path)


@pytest.mark.parametrize("name", FAST_FILES)
def test_ordinary_files_use_the_fast_path(name: str) -> None:
    header = read_dicom_header(TEST_FILES / name)
    assert header.used_fallback is False


def test_known_values() -> None:
    ct = read_dicom_header(TEST_FILES / "CT_small.dcm")
    assert (ct.modality, ct.rows, ct.columns, ct.frames) == ("CT", 128, 128, 1)
    assert ct.image_type == ("ORIGINAL", "PRIMARY", "AXIAL")
    assert ct.transfer_syntax == ExplicitVRLittleEndian
    assert (ct.pixel_data, ct.pixel_length, ct.pixel_available) == ("PixelData", 32768, 32906)
    ybr = read_dicom_header(TEST_FILES / "examples_ybr_color.dcm")
    assert (ybr.frames, ybr.photometric, ybr.pixel_length) == (30, "YBR_FULL_422", None)
    assert read_dicom_header(TEST_FILES / "rtdose.dcm").frames == 15


def test_non_dicom_bundled_files() -> None:
    for name in ("README.txt", "rtplan.dump", "test1.json", "zipMR.gz", "crayons.icc"):
        with pytest.raises(NotDicomError, match=r"^not a DICOM file$"):
            read_dicom_header(TEST_FILES / name)


# --- Synthetic files -------------------------------------------------------------------------


def image_dataset(ts: str = ExplicitVRLittleEndian, rows: int = 4, columns: int = 6) -> Dataset:
    """A small MONOCHROME2 image with file meta for `ts`."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ts
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "DX"
    ds.BodyPartExamined = "CHEST"
    ds.ViewPosition = "PA"
    ds.ImageType = ["DERIVED", "SECONDARY"]
    ds.PatientName = "Doe^Jane"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.BurnedInAnnotation = "NO"
    ds.PixelData = b"\x01\x00" * rows * columns
    return ds


def undefined_sequence(depth: int) -> Sequence:
    """Nested sequences of undefined length, with undefined-length items, `depth` deep."""
    item = Dataset()
    item.CodeValue = "T-D3000"
    item.CodeMeaning = "Chest"
    if depth > 1:
        item.add_new(0x00400555, "SQ", undefined_sequence(depth - 1))
        item.add_new(0x00091010, "SQ", undefined_sequence(depth - 1))  # private
    empty = Dataset()
    seq = Sequence([item, empty])
    seq.is_undefined_length = True
    for each in seq:
        each.is_undefined_length_sequence_item = True
    return seq


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                                ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian])
def test_nested_undefined_length_sequences(tmp_path: Path, ts: str) -> None:
    ds = image_dataset(ts)
    ds.AnatomicRegionSequence = undefined_sequence(4)
    ds.add_new(0x00091010, "LO", "ACME")
    ds.add_new(0x00091020, "SQ", undefined_sequence(3))
    path = tmp_path / "nested.dcm"
    ds.save_as(path, enforce_file_format=True)
    header = assert_same_as_pydicom(path)
    assert header is not None and header.used_fallback is False
    assert (header.modality, header.body_part, header.view_position) == ("DX", "CHEST", "PA")
    assert header.image_type == ("DERIVED", "SECONDARY")
    assert (header.rows, header.columns, header.bits_stored) == (4, 6, 12)
    assert header.pixel_length == 48 and header.pixel_available == 48
    assert header.transfer_syntax == ts


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian,
                                ExplicitVRBigEndian])
def test_header_longer_than_the_first_read(tmp_path: Path, ts: str) -> None:
    """200 KB of sequences and private data before the image attributes: read in windows."""
    ds = image_dataset(ts)
    items = []
    for i in range(2500):
        item = Dataset()
        item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
        item.ReferencedSOPInstanceUID = f"1.2.3.{i}"
        items.append(item)
    ds.ReferencedImageSequence = Sequence(items)
    ds.ReferencedImageSequence.is_undefined_length = True
    for item in ds.ReferencedImageSequence:
        item.is_undefined_length_sequence_item = True
    ds.add_new(0x00191010, "OB", b"\1" * 100_000)
    path = tmp_path / "long.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert path.stat().st_size > 200_000
    header = assert_same_as_pydicom(path)
    assert header is not None and not header.used_fallback
    assert (header.rows, header.columns, header.photometric) == (4, 6, "MONOCHROME1")


@pytest.mark.parametrize(("implicit", "little"), [(True, True), (False, True), (False, False)])
def test_file_without_preamble_or_meta(tmp_path: Path, implicit: bool, little: bool) -> None:
    ds = image_dataset()
    del ds.file_meta
    path = tmp_path / "bare.dcm"
    ds.save_as(path, implicit_vr=implicit, little_endian=little)
    assert path.read_bytes()[:2] == (b"\x08\x00" if little else b"\x00\x08")
    header = assert_same_as_pydicom(path)
    assert header is not None and header.used_fallback is False
    assert header.transfer_syntax is None and header.rows == 4


def test_meta_without_preamble(tmp_path: Path) -> None:
    source = (TEST_FILES / "MR_small.dcm").read_bytes()
    path = tmp_path / "nopreamble.dcm"
    path.write_bytes(source[132:])
    header = assert_same_as_pydicom(path)
    assert header is not None and header.used_fallback is False
    assert header.transfer_syntax == ExplicitVRLittleEndian


@pytest.mark.parametrize("name", ["MR_small.dcm", "MR_small_implicit.dcm",
                                  "MR_small_bigendian.dcm", "rtplan.dcm"])
def test_truncated_anywhere_never_crashes(tmp_path: Path, name: str) -> None:
    """Cut at many points of the header: a result, or NotDicomError, never another error."""
    data = (TEST_FILES / name).read_bytes()
    path = tmp_path / name
    results = {"header": 0, "error": 0}
    for cut in range(0, min(len(data), 2600), 5):
        path.write_bytes(data[:cut])
        try:
            header = read_dicom_header(path)
        except NotDicomError as exc:
            assert "\n" not in str(exc) and str(exc)
            results["error"] += 1
        else:
            assert isinstance(header, DicomHeader)
            results["header"] += 1
    assert results["header"] and results["error"]


def test_truncated_in_the_middle_of_a_value(tmp_path: Path) -> None:
    """Cut inside the StudyInstanceUID value: pydicom reads what is there, so does the reader."""
    data = (TEST_FILES / "CT_small.dcm").read_bytes()
    at = data.index(b"\x20\x00\x0d\x00UI")
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: at + 8 + 10])
    header = assert_same_as_pydicom(path)
    assert header is not None and header.used_fallback
    assert header.modality == "CT" and header.study_uid == "1.3.6.1.4."
    assert header.series_uid is None and header.pixel_data is None


def test_truncated_in_an_element_header(tmp_path: Path) -> None:
    data = (TEST_FILES / "MR_small.dcm").read_bytes()
    at = data.index(b"\xe0\x7f\x10\x00OW")
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[: at + 10])  # the pixel element's 4-byte length is cut
    with pytest.raises(NotDicomError, match=r"^DICOM header is truncated$"):
        read_dicom_header(path)
    path.write_bytes(data[: at + 5])  # fewer than 8 bytes: pydicom ignores them
    header = assert_same_as_pydicom(path)
    assert header is not None and header.pixel_data is None and header.rows == 64


def test_pixel_data_cut_short(tmp_path: Path) -> None:
    data = (TEST_FILES / "MR_small.dcm").read_bytes()
    value_at = data.index(b"\xe0\x7f\x10\x00OW") + 12
    path = tmp_path / "short.dcm"
    path.write_bytes(data[: value_at + 1000])
    header = read_dicom_header(path)
    assert header.used_fallback is False
    assert header.pixel_length == 8192
    assert header.pixel_available == 1000 < header.pixel_length
    assert as_dict(header) == expected_header(path)


@pytest.mark.parametrize("kind", ["empty", "random", "png", "text", "dicm_only", "tiny"])
def test_not_dicom(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "file.dcm"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "random":
        path.write_bytes(random.Random(0).randbytes(5000))
    elif kind == "png":
        from PIL import Image

        Image.new("L", (16, 16), 7).save(path, format="PNG")
    elif kind == "text":
        path.write_text("Patient,Finding\nA,none\n" * 50)
    elif kind == "dicm_only":
        path.write_bytes(b"\0" * 128 + b"DICM")
    else:
        path.write_bytes(b"\x08\x00")
    with pytest.raises(NotDicomError) as info:
        read_dicom_header(path)
    message = str(info.value)
    assert message and "\n" not in message
    if kind in ("random", "png", "text"):
        assert message == "not a DICOM file"
    if kind == "empty":
        assert message == "empty file"


def test_random_files_never_crash(tmp_path: Path) -> None:
    """Random bytes, with and without a DICM preamble: NotDicomError or a header."""
    rng = random.Random(1)
    path = tmp_path / "noise.dcm"
    for n in range(60):
        body = rng.randbytes(rng.randrange(1, 3000))
        path.write_bytes(b"\0" * 128 + b"DICM" + body if n % 2 else body)
        with contextlib.suppress(NotDicomError):
            read_dicom_header(path)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """A few random byte edits (change, delete, insert) in the first 3,000 bytes."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(min(len(out), 3000))
        edit = rng.random()
        if edit < 0.6:
            out[at] = rng.randrange(256)
        elif edit < 0.8:
            del out[at : at + rng.randint(1, 8)]
        else:
            out[at:at] = rng.randbytes(rng.randint(1, 8))
    return bytes(out)


def test_mutated_files_agree_with_pydicom(tmp_path: Path) -> None:
    """Random edits to real headers: NotDicomError or a header, and every fast-path result
    equals pydicom's reading of the same bytes."""
    rng = random.Random(7)
    names = ["CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
             "JPEG2000.dcm", "rtplan.dcm", "UN_sequence.dcm", "ExplVR_BigEndNoMeta.dcm",
             "priv_SQ.dcm", "test-SR.dcm"]
    sources = [(TEST_FILES / name).read_bytes() for name in names]
    path = tmp_path / "mutated.dcm"
    compared = 0
    for _ in range(400):
        path.write_bytes(mutate(rng.choice(sources), rng))
        try:
            header = read_dicom_header(path)
        except NotDicomError as exc:
            assert str(exc) and "\n" not in str(exc)
            continue
        if not header.used_fallback:
            assert as_dict(header) == expected_header(path)
            compared += 1
    assert compared > 100


def test_unreadable_path(tmp_path: Path) -> None:
    with pytest.raises(NotDicomError, match="cannot read"):
        read_dicom_header(tmp_path / "missing.dcm")
    with pytest.raises(NotDicomError, match="cannot read"):
        read_dicom_header(tmp_path)


# --- Odd values --------------------------------------------------------------------------------


def explicit_file(elements: list[tuple[int, bytes, bytes]], pixel: bytes = b"\0\0",
                  ts: str = ExplicitVRLittleEndian) -> bytes:
    """A DICOM file assembled by hand: preamble, meta, the given (tag, VR, value) elements."""
    def element(tag: int, vr: bytes, value: bytes) -> bytes:
        head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr
        if vr in (b"OB", b"OW", b"SQ", b"UN", b"UT"):
            return head + b"\0\0" + struct.pack("<L", len(value)) + value
        return head + struct.pack("<H", len(value)) + value

    ts_bytes = ts.encode() + b"\0" * (len(ts) % 2)
    meta = element(0x00020010, b"UI", ts_bytes)
    meta = element(0x00020000, b"UL", struct.pack("<L", len(meta))) + meta
    body = b"".join(element(*e) for e in elements)
    return b"\0" * 128 + b"DICM" + meta + body + element(0x7FE00010, b"OW", pixel)


@pytest.mark.parametrize("frames", [b"1A", b"2 ", b" 3", b"2.0 ", b"2.5 ", b"0 ", b"-2",
                                    b"", b"  ", b"2\\3 ", b"1e1 ", b"nan ", b"inf ", b"7\0"])
def test_number_of_frames_like_pydicom(tmp_path: Path, frames: bytes) -> None:
    path = tmp_path / "frames.dcm"
    path.write_bytes(explicit_file([(0x00280008, b"IS", frames + b" " * (len(frames) % 2))]))
    header = assert_same_as_pydicom(path)
    assert header is not None and header.used_fallback is False
    assert header.frames >= 1


@pytest.mark.parametrize(("elements", "fast"), [
    ([(0x00080060, b"CS", b" CT\0")], True),  # leading space kept, NUL stripped
    ([(0x00080060, b"CS", b"CT\\MR ")], True),  # several values
    ([(0x00080060, b"UN", b"MR")], True),  # UN for a known tag: read with the dictionary VR
    ([(0x00280010, b"UN", b"\x00\x02")], True),
    ([(0x00280010, b"US", b"\x00\x02\x01\x00")], True),  # two values: the first
    ([(0x00280010, b"US", b"")], True),
    ([(0x00280010, b"US", b"\x05")], False),  # odd length: pydicom cannot convert it
    ([(0x00280010, b"SS", b"\x05\x00")], False),  # unexpected VR
    ([(0x00080008, b"CS", b"ORIGINAL\\PRIMARY\\ ")], True),
    ([(0x00080008, b"CS", b"\\ ")], True),
    ([(0x00080060, b"CS", b"\xc9T")], True),  # latin-1
    ([(0x00090010, b"XX", b"ab")], False),  # unknown VR
    ([(0x00091001, b"OB", b"\0" * 3 + b"\0")], True),  # private tag skipped
    ([(0x00280004, b"CS", b"MONOCHROME2 "), (0x00280004, b"CS", b"RGB ")], True),  # repeated
])
def test_odd_values_like_pydicom(tmp_path: Path, elements: list, fast: bool) -> None:
    path = tmp_path / "odd.dcm"
    path.write_bytes(explicit_file(elements))
    header = assert_same_as_pydicom(path)
    assert header is not None and header.used_fallback is (not fast)


def test_undefined_length_private_ob_before_pixels(tmp_path: Path) -> None:
    """An encapsulated-looking private OB of undefined length is walked item by item."""
    items = (struct.pack("<HHL", 0xFFFE, 0xE000, 4) + b"abcd"
             + struct.pack("<HHL", 0xFFFE, 0xE0DD, 0))
    data = explicit_file([(0x00080060, b"CS", b"OT")])
    at = data.index(b"\xe0\x7f\x10\x00")
    private = struct.pack("<HH", 0x0009, 0x1010) + b"OB\0\0" + struct.pack("<L", 0xFFFFFFFF)
    path = tmp_path / "privob.dcm"
    path.write_bytes(data[:at] + private + items + data[at:])
    header = assert_same_as_pydicom(path)
    assert header is not None and not header.used_fallback and header.modality == "OT"


# --- Huge claimed lengths -----------------------------------------------------------------------


class CountingFile(io.FileIO):
    """A file that records how many bytes were read from it."""

    total = 0
    largest = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        CountingFile.total += len(data)
        CountingFile.largest = max(CountingFile.largest, len(data))
        return data


@pytest.fixture
def counting_open(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[CountingFile]]:
    """Makes the reader's `open` count the bytes it reads."""
    CountingFile.total = CountingFile.largest = 0

    def fake_open(path: Path, mode: str = "rb", buffering: int = -1) -> CountingFile:
        return CountingFile(path, "rb")

    monkeypatch.setattr(dicom_header, "open", fake_open, raising=False)
    yield CountingFile


def sparse_copy(tmp_path: Path, data: bytes, size: int) -> Path:
    """data, then a hole up to `size` bytes (no disk space used)."""
    path = tmp_path / "huge.dcm"
    with open(path, "wb") as fp:
        fp.write(data)
        fp.truncate(size)
    return path


def test_pixel_data_claiming_4_gb(tmp_path: Path, counting_open: type[CountingFile]) -> None:
    data = bytearray((TEST_FILES / "CT_small.dcm").read_bytes())
    at = data.index(b"\xe0\x7f\x10\x00OW\0\0")
    data[at + 8 : at + 12] = struct.pack("<L", 0xFFFFFFF0)
    path = tmp_path / "claims.dcm"
    path.write_bytes(bytes(data))
    header = read_dicom_header(path)
    assert not header.used_fallback
    assert (header.modality, header.rows, header.columns) == ("CT", 128, 128)
    assert header.pixel_length == 0xFFFFFFF0
    assert header.pixel_available == len(data) - at - 12
    assert counting_open.total <= len(data)

    big = sparse_copy(tmp_path, bytes(data), at + 12 + 0xFFFFFFF0)
    counting_open.total = 0
    header = read_dicom_header(big)
    assert not header.used_fallback
    assert header.pixel_available == header.pixel_length == 0xFFFFFFF0
    assert counting_open.total <= 64 * 1024


def test_huge_private_element_before_pixels_is_seeked_over(
        tmp_path: Path, counting_open: type[CountingFile]) -> None:
    """A 3 GB private OB (a sparse hole) before the image attributes: two small reads."""
    data = (TEST_FILES / "MR_small.dcm").read_bytes()
    at = data.index(b"\x28\x00\x02\x00US")  # SamplesPerPixel: the image attributes follow
    length = 3 * 1024**3
    private = struct.pack("<HH", 0x0027, 0x1010) + b"OB\0\0" + struct.pack("<L", length)
    with open(tmp_path / "gap.dcm", "wb") as fp:
        fp.write(data[:at] + private)
        fp.seek(length, os.SEEK_CUR)
        fp.write(data[at:])
    header = read_dicom_header(tmp_path / "gap.dcm")
    assert not header.used_fallback
    assert (header.rows, header.columns, header.modality) == (64, 64, "MR")
    assert header.pixel_length == 8192
    assert header.pixel_available == read_dicom_header(TEST_FILES / "MR_small.dcm").pixel_available
    assert counting_open.total <= 2 * 64 * 1024 and counting_open.largest <= 64 * 1024


def test_private_element_claiming_more_than_the_file(
        tmp_path: Path, counting_open: type[CountingFile]) -> None:
    """A length past the end of the file goes to pydicom, which reads at most what is there."""
    data = (TEST_FILES / "MR_small.dcm").read_bytes()
    at = data.index(b"\x28\x00\x02\x00US")
    private = struct.pack("<HH", 0x0027, 0x1010) + b"OB\0\0" + struct.pack("<L", 0xFFFFFFF0)
    path = tmp_path / "liar.dcm"
    path.write_bytes(data[:at] + private + data[at:])
    header = assert_same_as_pydicom(path)
    assert header is not None and header.used_fallback
    assert header.rows is None and header.modality == "MR"
    assert counting_open.total <= 2 * len(data)


def test_deflate_bomb_is_refused(tmp_path: Path) -> None:
    """A deflated data set inflating past the limit is refused without holding it in memory."""
    data = explicit_file([(0x00080060, b"CS", b"OT")], ts=DeflatedExplicitVRLittleEndian)
    at = data.index(b"\x08\x00\x60\x00")
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    body = compressor.compress(data[at:-10]) + compressor.compress(b"\0" * (64 << 20))
    path = tmp_path / "bomb.dcm"
    path.write_bytes(data[:at] + body + compressor.flush())
    original = dicom_header._MAX_INFLATED
    try:
        dicom_header._MAX_INFLATED = 32 << 20
        with pytest.raises(NotDicomError, match="too large"):
            read_dicom_header(path)
    finally:
        dicom_header._MAX_INFLATED = original


def test_deflated_data_set_cut_or_corrupt(tmp_path: Path) -> None:
    """pydicom cannot inflate these either; the reader says so without asking it."""
    data = (TEST_FILES / "image_dfl.dcm").read_bytes()
    path = tmp_path / "dfl.dcm"
    path.write_bytes(data[:2000])
    with pytest.raises(NotDicomError, match="cut short"):
        read_dicom_header(path)
    with pytest.raises(Exception, match="truncated"):
        pydicom.dcmread(path, force=True, stop_before_pixels=True)
    meta_end = 334  # where image_dfl.dcm's file meta ends
    path.write_bytes(data[:meta_end] + b"\xff" * 200)
    with pytest.raises(NotDicomError, match="corrupt"):
        read_dicom_header(path)
    path.write_bytes(data[:meta_end])  # file meta only: an empty data set
    header = assert_same_as_pydicom(path)
    assert header is not None and header.transfer_syntax == DeflatedExplicitVRLittleEndian


def test_pydicom_is_imported_lazily() -> None:
    import subprocess
    import sys

    code = ("import sys; import aldesk.io.dicom_header as m; "
            "m.read_dicom_header(__import__('pathlib').Path(sys.argv[1])); "
            "print('pydicom' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(TEST_FILES / "CT_small.dcm")],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
