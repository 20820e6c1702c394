"""What a scan learns about a file without decoding its pixels: kind, size, frames, status,
and the allow-listed attributes that may be stored (DESIGN.md, "PHI").

Nothing here keeps a patient's name, IDs, birth date, institution or accession number: the
DICOM reader extracts only the allow-listed fields, and UIDs are stored as salted hashes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aldesk.core.errors import UnreadableFile
from aldesk.io.dicom_header import DicomHeader, NotDicomError, read_dicom_header
from aldesk.io.images import check_pixels, read_image_header

SECONDARY_CAPTURE = "1.2.840.10008.5.1.4.1.1.7"
#: Modalities whose images usually carry text burned into the pixels.
BURNED_IN_MODALITIES = frozenset({"US", "SC", "XC", "ES", "OT", "DOC"})


@dataclass(frozen=True, slots=True)
class FileInfo:
    kind: str  # "image" | "dicom" | "unknown"
    status: str  # "ok" | "error"
    reason: str | None = None
    width: int | None = None
    height: int | None = None
    frames: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def hash_uid(uid: str, salt: str) -> str:
    return hashlib.blake2b(f"{salt}:{uid}".encode(), digest_size=8).hexdigest()


def burned_in(h: DicomHeader) -> str:
    """'yes', 'no', 'likely' (ultrasound, secondary capture and the like) or 'unknown'."""
    flag = (h.burned_in_annotation or "").upper()
    if flag == "YES":
        return "yes"
    if (h.sop_class_uid or "").startswith(SECONDARY_CAPTURE) or (
        h.modality or "").upper() in BURNED_IN_MODALITIES or "SECONDARY" in h.image_type:
        return "likely"
    return "no" if flag == "NO" else "unknown"


def _syntax_name(uid: str | None) -> str | None:
    if not uid:
        return None
    from pydicom.uid import UID

    name = UID(uid).name
    return name if name and name != uid else uid


def dicom_meta(h: DicomHeader, salt: str) -> dict[str, Any]:
    """The allow-listed attributes of a DICOM file, as stored in the project."""
    from pydicom.uid import UID

    meta: dict[str, Any] = {
        "modality": h.modality,
        "body_part": h.body_part,
        "view": h.view_position,
        "photometric": h.photometric,
        "bits_allocated": h.bits_allocated,
        "bits_stored": h.bits_stored,
        "transfer_syntax": _syntax_name(h.transfer_syntax),
        "sop_class": UID(h.sop_class_uid).name if h.sop_class_uid else None,
        "study": hash_uid(h.study_uid, salt) if h.study_uid else None,
        "series": hash_uid(h.series_uid, salt) if h.series_uid else None,
        "burned_in": burned_in(h),
    }
    return {k: v for k, v in meta.items() if v is not None}


def _decoder_problem(syntax: str | None) -> str | None:
    """Why pixels in this transfer syntax cannot be decoded here, or None if they can."""
    if not syntax:
        return None
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    uid = UID(syntax)
    if not uid.is_compressed:
        return None
    try:
        decoder = get_decoder(uid)
    except NotImplementedError:
        return f"compressed as {uid.name or uid}, which aldesk cannot decode"
    if not decoder.is_available:
        return f"compressed as {uid.name or uid}, but no decoder for it is installed"
    return None


def dicom_info(path: Path, max_pixels: int, salt: str = "") -> FileInfo:
    try:
        h = read_dicom_header(path)
    except NotDicomError as err:
        raise UnreadableFile(str(err)) from err
    meta = dicom_meta(h, salt)
    size = {"width": h.columns, "height": h.rows, "frames": h.frames, "meta": meta}
    if h.pixel_data is None:
        sop = meta.get("sop_class") or "unknown SOP class"
        return FileInfo("dicom", "error", f"no image data ({sop})", meta=meta)
    if not h.rows or not h.columns or not h.bits_allocated:
        return FileInfo("dicom", "error", "image attributes missing (rows, columns or bits)",
                        **size)
    if h.rows * h.columns > max_pixels:
        return FileInfo("dicom", "error", f"{h.columns}x{h.rows} is over the limit of "
                        f"{max_pixels / 1e6:.0f} megapixels; not decoded", **size)
    if (h.pixel_length is not None and h.pixel_available is not None
            and h.pixel_available < h.pixel_length):
        return FileInfo("dicom", "error", f"pixel data is truncated: {h.pixel_available} of "
                        f"{h.pixel_length} bytes", **size)
    problem = _decoder_problem(h.transfer_syntax)
    if problem:
        return FileInfo("dicom", "error", problem, **size)
    return FileInfo("dicom", "ok", None, **size)


def image_info(path: Path, max_pixels: int) -> FileInfo:
    h = read_image_header(path)
    meta = {"format": h.format, "mode": h.mode}
    try:
        check_pixels(h.width, h.height, max_pixels)
    except UnreadableFile as err:
        return FileInfo("image", "error", str(err), h.width, h.height, h.frames, meta)
    return FileInfo("image", "ok", None, h.width, h.height, h.frames, meta)


def file_info(path: Path, kind: str, max_pixels: int, salt: str = "") -> FileInfo:
    """Header facts about one file; never raises for bad input (the reason says why)."""
    if path.is_symlink() and not path.exists():
        return FileInfo(kind, "error", "broken symbolic link")
    try:
        if kind == "image":
            return image_info(path, max_pixels)
        try:
            return dicom_info(path, max_pixels, salt)
        except UnreadableFile:
            if kind != "unknown":
                raise
        try:
            return image_info(path, max_pixels)  # no extension: maybe an image after all
        except UnreadableFile:
            return FileInfo(kind, "error", "neither a DICOM file nor an image aldesk can read")
    except UnreadableFile as err:
        return FileInfo(kind, "error", str(err))
    except PermissionError:
        return FileInfo(kind, "error", "permission denied")
    except OSError as err:
        return FileInfo(kind, "error", f"cannot read: {err.strerror or err}")
    except Exception as err:  # a decoder library's own failure: data, not a crash
        return FileInfo(kind, "error", f"unreadable: {type(err).__name__}: {err}"[:240])
