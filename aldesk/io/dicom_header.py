"""Fast reading of the few DICOM header attributes that folder indexing needs.

`pydicom.dcmread(..., stop_before_pixels=True)` costs about a millisecond per file, too slow to
index thousands of files a second. This module walks the element headers itself with `struct`
over one buffered read (64 KiB, re-read on demand), keeps the values of a short allow-list of
tags (`DicomHeader`: no patient data), seeks over every other value without reading it, and stops
at the first top-level pixel data element, whose declared length and position it records.

The fast path covers the common layouts: a 128-byte preamble with "DICM" (or none) and a file
meta group, then a data set in Implicit VR Little Endian, Explicit VR Little or Big Endian, any
encapsulated syntax (explicit VR little endian before the pixel data), or Deflated Explicit VR
Little Endian (inflated here, bounded in size); and files without file meta whose first element
is in group 0008. Sequences and items of defined or undefined length, nested to any sane depth,
are skipped by walking their items and delimiters.

Anything unusual (unknown VRs, odd lengths, lengths past the end of the file, an encoding that
differs from the transfer syntax, a command group, no transfer syntax) goes to pydicom
(`dcmread(stop_before_pixels=True, force=True)`), so that both paths give the same result.
Values are decoded the way pydicom decodes them, then normalised:

- text fields: trailing spaces and NULs stripped, latin-1 decoded (as pydicom does for CS and
  UI); several values stay joined by backslashes; an empty value is None;
- `image_type`: the values split on backslashes, () when absent or empty;
- US fields: the first value, None when empty; `frames`: NumberOfFrames when it is one valid
  integer >= 1 (pydicom's IS rules), else 1;
- values of kept tags longer than 64 KiB are read as absent.

Every read is bounded (64 MiB for a header, 2 GiB of inflated data), whatever lengths the file
claims. Bad input raises `NotDicomError` with a one-line reason, never another exception.
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

__all__ = ["DicomHeader", "NotDicomError", "read_dicom_header"]


@dataclass(frozen=True, slots=True)
class DicomHeader:
    """The allow-listed header attributes of one DICOM file (no patient data)."""

    transfer_syntax: str | None  # (0002,0010); None if the file has no file meta
    sop_class_uid: str | None  # (0008,0016)
    modality: str | None  # (0008,0060)
    body_part: str | None  # (0018,0015)
    view_position: str | None  # (0018,5101)
    image_type: tuple[str, ...]  # (0008,0008), split on backslash
    photometric: str | None  # (0028,0004)
    samples_per_pixel: int | None  # (0028,0002)
    rows: int | None  # (0028,0010)
    columns: int | None  # (0028,0011)
    frames: int  # (0028,0008) NumberOfFrames, 1 when absent/empty/invalid
    bits_allocated: int | None  # (0028,0100)
    bits_stored: int | None  # (0028,0101)
    pixel_representation: int | None  # (0028,0103)
    burned_in_annotation: str | None  # (0028,0301)
    study_uid: str | None  # (0020,000D) raw; the caller hashes it
    series_uid: str | None  # (0020,000E) raw; the caller hashes it
    pixel_data: str | None  # "PixelData" | "FloatPixelData" | "DoubleFloatPixelData" | None
    pixel_length: int | None  # declared value length; None when undefined (encapsulated)
    pixel_available: int | None  # bytes in the file after the pixel element's header
    used_fallback: bool = False  # True when pydicom read it


class NotDicomError(Exception):
    """The file is not DICOM, or its header cannot be read; the message is one readable line."""


class _Unusual(Exception):
    """Raised by the fast path on anything it does not handle; pydicom reads the file instead."""


class _TooLarge(Exception):
    """A header needs more bytes than any sane header has."""


# --- Constants -----------------------------------------------------------------------------

_FIRST_READ = 64 * 1024  # one read covers the whole header of almost every file
_MAX_HEADER_BYTES = 64 * 1024 * 1024  # total bytes read for one header, whatever the file says
_MAX_VALUE = 64 * 1024  # longest value of a kept tag that is read
_MAX_INFLATED = 2 * 1024**3  # largest deflated data set inflated
_MAX_DEPTH = 32  # deepest nesting of sequences walked by the fast path
_INFLATE_STEP = 4 * 1024 * 1024  # output per inflate call, so a bomb never sits in memory

_UNDEFINED = 0xFFFFFFFF
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQUENCE_END = 0xFFFEE0DD

_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_LE = "1.2.840.10008.1.2.1"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"
_DEFLATED = "1.2.840.10008.1.2.1.99"

_PIXEL_TAGS = {
    0x7FE00008: "FloatPixelData",
    0x7FE00009: "DoubleFloatPixelData",
    0x7FE00010: "PixelData",
}
#: VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2).
_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
_SHORT_VRS = frozenset(b"AE AS AT CS DA DS DT FD FL IS LO LT PN SH SL SS ST TM UI UL US".split())
#: VRs whose undefined-length values the fast path walks as items (sequences, encapsulated).
_ITEMISED_VRS = frozenset((b"SQ", b"UN", b"OB", b"OW"))

#: The kept tags: field name and the VR the data dictionary gives them.
_KEPT: dict[int, tuple[str, bytes]] = {
    0x00080008: ("image_type", b"CS"),
    0x00080016: ("sop_class_uid", b"UI"),
    0x00080060: ("modality", b"CS"),
    0x00180015: ("body_part", b"CS"),
    0x00185101: ("view_position", b"CS"),
    0x0020000D: ("study_uid", b"UI"),
    0x0020000E: ("series_uid", b"UI"),
    0x00280002: ("samples_per_pixel", b"US"),
    0x00280004: ("photometric", b"CS"),
    0x00280008: ("frames", b"IS"),
    0x00280010: ("rows", b"US"),
    0x00280011: ("columns", b"US"),
    0x00280100: ("bits_allocated", b"US"),
    0x00280101: ("bits_stored", b"US"),
    0x00280103: ("pixel_representation", b"US"),
    0x00280301: ("burned_in_annotation", b"CS"),
}
_TRANSFER_SYNTAX_TAG = 0x00020010

_LE_EXPLICIT = struct.Struct("<HH2sH").unpack_from
_LE_IMPLICIT = struct.Struct("<HHL").unpack_from
_LE_U32 = struct.Struct("<L").unpack_from
_BE_EXPLICIT = struct.Struct(">HH2sH").unpack_from
_BE_IMPLICIT = struct.Struct(">HHL").unpack_from
_BE_U32 = struct.Struct(">L").unpack_from


# --- Public entry point ----------------------------------------------------------------------


def read_dicom_header(path: Path) -> DicomHeader:
    """Read the allow-listed header attributes of a DICOM file.

    Uses the fast parser, and pydicom for files it finds unusual. Raises NotDicomError for an
    empty, unreadable or non-DICOM file, or a header that neither can read.
    """
    try:
        with open(path, "rb", buffering=0) as fp:
            size = os.fstat(fp.fileno()).st_size
            if size == 0:
                raise NotDicomError("empty file")
            head = fp.read(min(size, _FIRST_READ))
            try:
                return _read_fast(fp, size, head)
            except (NotDicomError, OSError):
                raise
            except _Unusual as exc:
                reason = str(exc)
            except _TooLarge:
                raise NotDicomError("DICOM header is too large") from None
            except Exception as exc:  # a layout the walker misjudged: let pydicom decide
                reason = f"fast reader failed ({type(exc).__name__})"
            return _read_with_pydicom(fp, size, has_dicm=_has_dicm(head), reason=reason)
    except OSError as exc:
        raise NotDicomError(f"cannot read the file: {exc.strerror or exc}") from None


def _has_dicm(head: bytes) -> bool:
    """Whether the file has the 128-byte preamble followed by "DICM"."""
    return head[128:132] == b"DICM"


# --- Buffered access to the file -------------------------------------------------------------


class _Window:
    """A file's bytes seen through one buffer that is refilled on demand.

    `fp` None means the buffer is all there is (an inflated data set): needing bytes beyond it
    is unusual. Refills are bounded in total by _MAX_HEADER_BYTES.
    """

    __slots__ = ("_budget", "_fp", "base", "buf", "size")

    def __init__(self, fp: BinaryIO | None, size: int, buf: bytes, base: int = 0) -> None:
        self._fp = fp
        self.size = size
        self.buf = buf
        self.base = base
        self._budget = _MAX_HEADER_BYTES - len(buf)

    def at(self, pos: int, n: int) -> tuple[bytes, int]:
        """Return (buffer, offset) with the n bytes at file position pos (fewer at the end)."""
        buf = self.buf
        off = pos - self.base
        if off >= 0 and (off + n <= len(buf) or self.base + len(buf) >= self.size):
            return buf, off
        return self._refill(pos, n)

    def _refill(self, pos: int, n: int) -> tuple[bytes, int]:
        """Read a new buffer starting at pos."""
        if self._fp is None:
            raise _Unusual("header continues past the inflated buffer")
        want = max(n, _FIRST_READ)
        if want > self._budget:
            raise _TooLarge
        self._fp.seek(pos)
        self.buf = self._fp.read(want)
        self.base = pos
        self._budget -= len(self.buf)
        return self.buf, 0


# --- The fast parser -------------------------------------------------------------------------


class _Walker:
    """Walks data elements over a _Window in one byte order, keeping the allow-listed values.

    `kept` maps a tag to its raw value bytes; `pixel` is (tag, declared length, value position)
    of the first top-level pixel data element.
    """

    __slots__ = ("_explicit", "_implicit", "_u32", "kept", "little", "pixel", "win")

    def __init__(self, win: _Window, little: bool) -> None:
        self.win = win
        self.little = little
        self.kept: dict[int, bytes] = {}
        self.pixel: tuple[int, int, int] | None = None
        self._explicit = _LE_EXPLICIT if little else _BE_EXPLICIT
        self._implicit = _LE_IMPLICIT if little else _BE_IMPLICIT
        self._u32 = _LE_U32 if little else _BE_U32

    def element(self, pos: int, implicit: bool) -> tuple[int, bytes | None, int, int] | None:
        """Parse the element header at pos: (tag, VR or None, length, value position).

        None at the end of the file (fewer than 8 bytes left, which pydicom ignores too).
        Items and delimiters have no VR in either encoding.
        """
        buf, off = self.win.at(pos, 12)
        avail = len(buf) - off
        if avail < 8:
            return None
        if implicit:
            group, elem, length = self._implicit(buf, off)
            return group << 16 | elem, None, length, pos + 8
        group, elem, vr, length = self._explicit(buf, off)
        tag = group << 16 | elem
        if group == 0xFFFE:
            return tag, None, self._u32(buf, off + 4)[0], pos + 8
        if vr in _LONG_VRS:
            if avail < 12:
                raise _Unusual("element header cut short")
            return tag, vr, self._u32(buf, off + 8)[0], pos + 12
        if vr in _SHORT_VRS:
            return tag, vr, length, pos + 8
        raise _Unusual(f"unknown VR at byte {pos}")

    def check_encoding(self, pos: int, implicit: bool) -> None:
        """Fail if the first element's encoding contradicts the transfer syntax.

        pydicom looks at the first element's VR bytes and switches encoding when they disagree;
        such files go to pydicom.
        """
        buf, off = self.win.at(pos, 6)
        if len(buf) - off < 6:
            return
        if _looks_implicit(buf[off + 4], buf[off + 5]) != implicit:
            raise _Unusual("data set encoding differs from its transfer syntax")

    def walk(self, pos: int, implicit: bool) -> None:
        """Walk the top-level data set from pos to the first pixel data element or the end.

        This loop runs for every element of every file, so it parses element headers inline
        over the current buffer rather than through element(); sequences use the general code.
        """
        self.check_encoding(pos, implicit)
        win = self.win
        size = win.size
        unpack = self._implicit if implicit else self._explicit
        u32 = self._u32
        buf, base = win.buf, win.base
        blen = len(buf)
        while True:
            off = pos - base
            if off < 0 or off + 12 > blen:
                buf, off = win.at(pos, 12)
                base, blen = win.base, len(buf)
            avail = blen - off
            if avail < 8:
                return  # the end of the file (pydicom ignores a few trailing bytes too)
            if implicit:
                group, elem, length = unpack(buf, off)
                vr = None
                vpos = pos + 8
            else:
                group, elem, vr, length = unpack(buf, off)
                if vr in _SHORT_VRS:
                    vpos = pos + 8
                elif vr in _LONG_VRS and avail >= 12:
                    length = u32(buf, off + 8)[0]
                    vpos = pos + 12
                else:
                    raise _Unusual(f"unknown VR or cut element header at byte {pos}")
            tag = group << 16 | elem
            if tag >= 0x7FE00008:
                if tag in _PIXEL_TAGS:
                    self.pixel = (tag, length, vpos)
                    return
                if group == 0xFFFE:
                    raise _Unusual("item or delimiter at the top level")
            if length & 1:  # odd, or undefined (0xFFFFFFFF)
                if length != _UNDEFINED:
                    raise _Unusual("odd value length")
                if tag in _KEPT:
                    raise _Unusual("kept attribute of undefined length")
                pos = self._skip_undefined(vpos, vr, implicit, 1)
                continue
            pos = vpos + length
            if pos > size:
                raise _Unusual("value runs past the end of the file")
            if tag in _KEPT:
                self._keep(tag, vr, vpos, length)

    def _keep(self, tag: int, vr: bytes | None, vpos: int, length: int) -> None:
        """Store the raw value of a kept tag, after checking its VR and size."""
        if vr is not None and vr != _KEPT[tag][1] and vr != b"UN":
            raise _Unusual("kept attribute with an unexpected VR")
        if length > _MAX_VALUE:
            raise _Unusual("kept attribute is very long")
        buf, off = self.win.at(vpos, length)
        self.kept[tag] = buf[off : off + length]

    def _skip_undefined(self, pos: int, vr: bytes | None, implicit: bool, depth: int) -> int:
        """Skip an undefined-length value made of items; return the position after its end.

        Sequences (SQ, UN, or implicit VR followed by an item), and encapsulated OB/OW values,
        are items ended by a sequence delimiter; anything else goes to pydicom.
        """
        if depth > _MAX_DEPTH:
            raise _Unusual("sequences nested too deeply")
        if vr is not None and vr not in _ITEMISED_VRS:
            raise _Unusual("undefined length on a value that is not a sequence")
        size = self.win.size
        while True:
            header = self.element(pos, True)
            if header is None:
                raise _Unusual("sequence runs past the end of the file")
            tag, _, length, pos = header
            if tag == _SEQUENCE_END:
                return pos
            if tag != _ITEM:
                raise _Unusual("undefined-length value without item tags")
            if length == _UNDEFINED:
                pos = self._skip_item(pos, implicit, depth)
            else:
                pos += length
                if pos > size:
                    raise _Unusual("item runs past the end of the file")

    def _skip_item(self, pos: int, implicit: bool, depth: int) -> int:
        """Skip the elements of an undefined-length item; return the position after its end.

        Like pydicom, an item in an explicit VR data set may be encoded in implicit VR (as
        undefined-length UN sequences are); its first element tells.
        """
        if not implicit:
            buf, off = self.win.at(pos, 6)
            if len(buf) - off >= 6:
                implicit = _looks_implicit(buf[off + 4], buf[off + 5])
        size = self.win.size
        while True:
            header = self.element(pos, implicit)
            if header is None:
                raise _Unusual("item runs past the end of the file")
            tag, vr, length, vpos = header
            if tag == _ITEM_END:
                return vpos
            if tag >> 16 == 0xFFFE:
                raise _Unusual("misplaced item or delimiter")
            if length == _UNDEFINED:
                pos = self._skip_undefined(vpos, vr, implicit, depth + 1)
                continue
            if length & 1:
                raise _Unusual("odd value length")
            pos = vpos + length
            if pos > size:
                raise _Unusual("value runs past the end of the file")


def _looks_implicit(b0: int, b1: int) -> bool:
    """pydicom's test: an element is implicit VR unless bytes 4-5 are two capital letters."""
    return not (0x40 < b0 < 0x5B and 0x40 < b1 < 0x5B)


def _read_fast(fp: BinaryIO, size: int, head: bytes) -> DicomHeader:
    """Parse the header with the fast walker; raise _Unusual where pydicom should read it."""
    win = _Window(fp, size, head)
    has_dicm = _has_dicm(head)
    pos = 132 if has_dicm else 0
    ts, pos = _read_file_meta(_Walker(win, little=True), pos)
    buf, off = win.at(pos, 6)
    if len(buf) - off >= 2 and buf[off : off + 2] == b"\0\0":
        raise _Unusual("command group elements")
    if ts is None:
        if has_dicm:
            raise _Unusual("file meta without a transfer syntax")
        implicit, little = _guess_encoding(win, pos)
    elif ts == _DEFLATED and pos < size:
        return _read_deflated(fp, pos, ts)
    else:
        implicit, little = _encoding_of(ts)
    walker = _Walker(win, little)
    walker.walk(pos, implicit)
    return _build(ts, walker, size)


def _read_file_meta(walker: _Walker, pos: int) -> tuple[str | None, int]:
    """Parse the group 0002 elements (explicit VR little endian) at pos.

    Returns the transfer syntax (None when there is no file meta or no such element) and the
    position of the first element after the group.
    """
    ts: str | None = None
    win = walker.win
    while True:
        buf, off = win.at(pos, 12)
        if buf[off : off + 2] != b"\2\0":  # the group, before reading a VR that may be absent
            break
        header = walker.element(pos, False)
        if header is None:
            break
        tag, vr, length, vpos = header
        if length == _UNDEFINED or vpos + length > win.size:
            raise _Unusual("file meta element with an impossible length")
        if tag == _TRANSFER_SYNTAX_TAG:
            if vr not in (b"UI", b"UN") or not 0 < length <= 64:
                raise _Unusual("transfer syntax of unusual VR or length")
            buf, off = walker.win.at(vpos, length)
            ts = buf[off : off + length].decode("latin-1").rstrip("\0 ")
            if not ts:
                raise _Unusual("empty transfer syntax")
        pos = vpos + length
    return ts, pos


def _encoding_of(ts: str) -> tuple[bool, bool]:
    """(implicit VR, little endian) of a transfer syntax; others are explicit little endian."""
    if ts == _IMPLICIT_LE:
        return True, True
    if ts == _EXPLICIT_BE:
        return False, False
    return False, True


def _guess_encoding(win: _Window, pos: int) -> tuple[bool, bool]:
    """Encoding of a data set without file meta, guessed from its first element as pydicom does.

    Explicit VR when bytes 4-5 are a VR, big endian when the group read little endian is at
    least 1024. Only a first element in group 0008 counts as plainly DICOM here.
    """
    buf, off = win.at(pos, 6)
    if len(buf) - off < 6:
        raise _Unusual("too short for a data set")
    group = buf[off] | buf[off + 1] << 8
    vr = buf[off + 4 : off + 6]
    explicit = vr in _LONG_VRS or vr in _SHORT_VRS
    little = not (explicit and group >= 1024)
    if group != (0x0008 if little else 0x0800):
        raise _Unusual("no file meta and no group 0008 element first")
    return not explicit, little


def _read_deflated(fp: BinaryIO, pos: int, ts: str) -> DicomHeader:
    """Inflate a deflated data set (bounded) and walk it as explicit VR little endian.

    pixel_available counts inflated bytes. pydicom inflates the whole data set in memory, so it
    gets only the unusual ones that inflate to at most _MAX_HEADER_BYTES.
    """
    head, total = _inflate(fp, pos)
    walker = _Walker(_Window(None, total, head), little=True)
    try:
        walker.walk(0, implicit=False)
    except _Unusual:
        if total > _MAX_HEADER_BYTES:
            raise NotDicomError("deflated DICOM header cannot be read") from None
        raise
    return _build(ts, walker, total)


def _inflate(fp: BinaryIO, pos: int) -> tuple[bytes, int]:
    """Inflate the raw deflate stream from pos: the first _MAX_HEADER_BYTES and the total size.

    Output is produced in steps, so that a decompression bomb never sits in memory; more than
    _MAX_INFLATED bytes of output is refused. A corrupt or cut stream is an error here, as it is
    for pydicom (zlib.decompress).
    """
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    head = bytearray()
    total = 0
    fp.seek(pos)
    try:
        while not inflater.eof and (data := fp.read(_FIRST_READ)):
            while data and not inflater.eof:
                out = inflater.decompress(data, _INFLATE_STEP)
                total += len(out)
                if total > _MAX_INFLATED:
                    raise NotDicomError("deflated data set is too large")
                if len(head) < _MAX_HEADER_BYTES:
                    head += out[: _MAX_HEADER_BYTES - len(head)]
                data = inflater.unconsumed_tail
    except zlib.error:
        raise NotDicomError("deflated data set is corrupt") from None
    if not inflater.eof:
        raise NotDicomError("deflated data set is cut short")
    return bytes(head), total


# --- Decoding values --------------------------------------------------------------------------


_NO_VALUES: dict[str, Any] = {field: None for field, _ in _KEPT.values()}


def _build(ts: str | None, walker: _Walker, size: int) -> DicomHeader:
    """Decode the kept raw values of a walk into a DicomHeader."""
    values = _NO_VALUES.copy()
    little = walker.little
    for tag, raw in walker.kept.items():
        field, vr = _KEPT[tag]
        values[field] = _DECODERS[vr](raw, little)
    values["image_type"] = _split(values["image_type"])
    values["frames"] = _frames(values["frames"])
    values.update(_pixel_fields(walker.pixel, size))
    return DicomHeader(transfer_syntax=ts, **values)


def _pixel_fields(pixel: tuple[int, int, int] | None, size: int) -> dict[str, Any]:
    """pixel_data, pixel_length and pixel_available from (tag, length, value position)."""
    if pixel is None:
        return {"pixel_data": None, "pixel_length": None, "pixel_available": None}
    tag, length, vpos = pixel
    return {
        "pixel_data": _PIXEL_TAGS[tag],
        "pixel_length": None if length == _UNDEFINED else length,
        "pixel_available": size - vpos,
    }


def _decode_text(raw: bytes, little: bool) -> str | None:
    """A CS or UI value as pydicom reads it, trailing spaces/NULs stripped; None when empty."""
    return raw.decode("latin-1").rstrip(" \0") or None


def _decode_us(raw: bytes, little: bool) -> int | None:
    """The first unsigned 16-bit value in the given byte order; None when empty."""
    if not raw:
        return None
    return (_LE_U16 if little else _BE_U16)(raw)[0]


_LE_U16 = struct.Struct("<H").unpack_from
_BE_U16 = struct.Struct(">H").unpack_from
_DECODERS: dict[bytes, Callable[[bytes, bool], Any]] = {
    b"CS": _decode_text,
    b"UI": _decode_text,
    b"IS": _decode_text,
    b"US": _decode_us,
}


def _split(text: str | None) -> tuple[str, ...]:
    """Backslash-separated values as a tuple; () for None."""
    return tuple(text.split("\\")) if text else ()


def _frames(text: str | None) -> int:
    """NumberOfFrames from its IS text, by pydicom's rules (int, or a float without fraction).

    1 when absent, empty, multi-valued, not a number, fractional or below 1.
    """
    if text is None or "\\" in text or not text.strip():
        return 1
    try:
        value = int(text)
    except ValueError:
        try:
            number = float(text)
        except ValueError:
            return 1
        if not number.is_integer():
            return 1
        value = int(number)
    return value if value >= 1 else 1


# --- The pydicom fallback ---------------------------------------------------------------------


class _BoundedFile:
    """A read-only file wrapper for pydicom that stops reading after _MAX_HEADER_BYTES.

    Past the budget, reads return nothing (pydicom then sees the end of the file) and
    `exceeded` is set, so that the caller can refuse the result. `name` is a string, as some
    pydicom messages need one.
    """

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp
        self.name = str(getattr(fp, "name", "<file>"))
        self._left = _MAX_HEADER_BYTES
        self.exceeded = False

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0 or n > self._left:
            n = self._left + 1
        data = self._fp.read(n)
        self._left -= len(data)
        if self._left < 0:
            self.exceeded = True
            self._left = 0
            return b""
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fp.seek(offset, whence)

    def tell(self) -> int:
        return self._fp.tell()


def _read_with_pydicom(fp: BinaryIO, size: int, has_dicm: bool, reason: str) -> DicomHeader:
    """Read the header with pydicom (force=True), and the pixel element header at its stop.

    The file counts as DICOM only when pydicom finds at least one element of the DICOM
    dictionary in its file meta or data set: with force=True, pydicom "reads" text files too.
    """
    import pydicom
    from pydicom.datadict import dictionary_has_tag

    fp.seek(0)
    bounded = _BoundedFile(fp)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(
                bounded, stop_before_pixels=True, force=True, defer_size=_MAX_VALUE
            )
            stop = bounded.tell()
            implicit = _implicit_vr_used(ds)
            fields = _fields_from_dataset(ds)
            meta = getattr(ds, "file_meta", None) or {}
            known = any(map(dictionary_has_tag, [*meta.keys(), *ds.keys()]))
    except Exception as exc:
        if bounded.exceeded:
            raise NotDicomError("DICOM header is too large") from None
        raise NotDicomError(_failure_reason(has_dicm, reason, exc)) from None
    if bounded.exceeded:
        raise NotDicomError("DICOM header is too large")
    if not known:
        raise NotDicomError("DICOM file without data elements" if has_dicm else "not a DICOM file")
    fp.seek(stop)
    pixel = _pixel_element_at(fp.read(12), stop, implicit)
    return DicomHeader(**fields, **_pixel_fields(pixel, size), used_fallback=True)


def _implicit_vr_used(ds: Any) -> bool:
    """Whether pydicom read the top-level data set in implicit VR.

    A raw element records the encoding pydicom actually used (it may differ from the transfer
    syntax); the data set's original encoding is the answer otherwise.
    """
    for tag in reversed(ds.keys()):
        elem = ds.get_item(tag, keep_deferred=True)
        if tag >> 16 > 0x0002 and hasattr(elem, "is_implicit_VR"):  # not command or meta
            return bool(elem.is_implicit_VR)
    encoding = getattr(ds, "original_encoding", (True, True))
    return bool(encoding[0]) if encoding[0] is not None else True


def _failure_reason(has_dicm: bool, fast_reason: str, exc: Exception) -> str:
    """One line saying why a file could not be read by either parser."""
    if not has_dicm:
        return "not a DICOM file"
    if isinstance(exc, EOFError | struct.error | OSError) or "past the end" in fast_reason:
        return "DICOM header is truncated"
    return f"DICOM header cannot be read ({fast_reason})"


def _fields_from_dataset(ds: Any) -> dict[str, Any]:
    """The DicomHeader fields (except pixel ones) from a pydicom data set, normalised."""
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    values: dict[str, Any] = {"transfer_syntax": _text_value(ts)}
    for tag, (field, vr) in _KEPT.items():
        value = _value_of(ds, tag)
        if vr == b"US":
            values[field] = _int_value(value)
        elif field == "frames":
            values[field] = _frames_value(value)
        elif field == "image_type":
            values[field] = _split(_text_value(value))
        else:
            values[field] = _text_value(value)
    return values


def _value_of(ds: Any, tag: int) -> Any:
    """A converted value from a pydicom data set; None when absent, deferred or unreadable."""
    elem = ds.get_item(tag, keep_deferred=True)
    if elem is None:
        return None
    if getattr(elem, "is_raw", False) and elem.value is None and elem.length:
        return None  # longer than _MAX_VALUE: deferred, never read
    try:
        return ds[tag].value
    except Exception:
        return None


def _text_value(value: Any) -> str | None:
    """A pydicom string value (or several) as one string joined by backslashes; None if empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("latin-1").rstrip(" \0") or None
    if isinstance(value, str | int | float):  # numbers: a VR the dictionary does not give
        return str(value) or None
    if isinstance(value, Sequence):  # pydicom's MultiValue
        return "\\".join(str(v) for v in value) or None
    return None


def _int_value(value: Any) -> int | None:
    """A pydicom integer value; the first of several; None for anything else."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):  # MultiValue
        return _int_value(value[0]) if len(value) else None
    if isinstance(value, int) and not isinstance(value, bool):
        return int(value)
    return None


def _frames_value(value: Any) -> int:
    """NumberOfFrames from a pydicom value: a single integer >= 1, else 1."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return int(value)
    return 1


def _pixel_element_at(data: bytes, pos: int, implicit: bool) -> tuple[int, int, int] | None:
    """(tag, length, value position) of a pixel data element header in data, else None.

    The byte order is whichever makes the tag a pixel data tag. In explicit VR, VR bytes that
    are no VR are read as pydicom reads them: implicit VR unless they lie between "AA" and "ZZ",
    else an unknown VR with a 2-byte length.
    """
    if len(data) < 8:
        return None
    for order in "<>":
        group, elem = struct.unpack_from(order + "HH", data)
        tag = group << 16 | elem
        if tag in _PIXEL_TAGS:
            break
    else:
        return None
    vr = data[4:6]
    if implicit or not (vr in _LONG_VRS or vr in _SHORT_VRS or b"AA" <= vr <= b"ZZ"):
        return tag, struct.unpack_from(order + "L", data, 4)[0], pos + 8
    if vr in _LONG_VRS:
        if len(data) < 12:
            return None
        return tag, struct.unpack_from(order + "L", data, 8)[0], pos + 12
    return tag, struct.unpack_from(order + "H", data, 6)[0], pos + 8
