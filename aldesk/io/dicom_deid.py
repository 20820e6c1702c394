"""De-identified copies of DICOM files, built from an allow-list.

A new dataset is assembled from the attributes needed to decode and display the pixels plus a
few descriptive ones (modality, body part, view). Everything else, including patient, study,
institution and device identifiers, private tags and free-text fields, is simply not copied.
Instance UIDs are replaced by UIDs derived from a keyed hash, so copies of one series still
belong together without revealing the originals. Pixel data is copied as is: text burned into
the image is not removed (the item's burned-in flag warns about it).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

#: Attributes copied to the top level of a de-identified file.
KEEP = (
    "SOPClassUID", "Modality", "BodyPartExamined", "ViewPosition", "ImageType",
    "SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "NumberOfFrames",
    "FrameIncrementPointer", "BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation",
    "PlanarConfiguration", "PixelAspectRatio", "PixelSpacing", "ImagerPixelSpacing",
    "SliceThickness", "RescaleIntercept", "RescaleSlope", "RescaleType", "WindowCenter",
    "WindowWidth", "VOILUTFunction", "PresentationLUTShape", "BurnedInAnnotation",
    "LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod",
    "RedPaletteColorLookupTableDescriptor", "GreenPaletteColorLookupTableDescriptor",
    "BluePaletteColorLookupTableDescriptor", "RedPaletteColorLookupTableData",
    "GreenPaletteColorLookupTableData", "BluePaletteColorLookupTableData",
    "SegmentedRedPaletteColorLookupTableData", "SegmentedGreenPaletteColorLookupTableData",
    "SegmentedBluePaletteColorLookupTableData", "PixelPaddingValue", "PixelData",
    "FloatPixelData", "DoubleFloatPixelData",
)
#: Sequences copied with only these attributes in each item (no explanations, no free text).
KEEP_SEQUENCES = {
    "ModalityLUTSequence": ("LUTDescriptor", "ModalityLUTType", "LUTData"),
    "VOILUTSequence": ("LUTDescriptor", "LUTData"),
}
#: UIDs replaced by hashed ones.
HASHED_UIDS = ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID")


def hashed_uid(uid: str, salt: str) -> str:
    """A valid DICOM UID under the 2.25 root, derived from `uid` with a per-project `salt`."""
    digest = hashlib.blake2b(f"{salt}:{uid}".encode(), digest_size=16).digest()
    return "2.25." + str(int.from_bytes(digest, "big"))


def _copy(src: Any, dst: Any, keywords: tuple[str, ...]) -> None:
    for kw in keywords:
        if kw in src:
            dst[kw] = src[kw]


def deidentify(source: Path, target: Path, salt: str) -> None:
    """Write a de-identified copy of the DICOM file `source` to `target`."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.sequence import Sequence
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian

    ds = pydicom.dcmread(source, force=True)
    out = Dataset()
    _copy(ds, out, KEEP)
    for kw, inner in KEEP_SEQUENCES.items():
        if kw in ds:
            items = []
            for item in ds[kw].value:
                clean = Dataset()
                _copy(item, clean, inner)
                items.append(clean)
            setattr(out, kw, Sequence(items))
    for kw in HASHED_UIDS:
        if kw in ds:
            setattr(out, kw, hashed_uid(str(ds[kw].value), salt))
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = "aldesk allow-list copy"
    meta = FileMetaDataset()
    file_meta = getattr(ds, "file_meta", None)
    syntax = getattr(file_meta, "TransferSyntaxUID", None) or ExplicitVRLittleEndian
    meta.TransferSyntaxUID = syntax
    meta.MediaStorageSOPClassUID = out.get("SOPClassUID", "1.2.840.10008.5.1.4.1.1.7")
    meta.MediaStorageSOPInstanceUID = out.get(
        "SOPInstanceUID", hashed_uid(str(source.name), salt))
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    out.file_meta = meta
    out.preamble = b"\x00" * 128
    out.save_as(target, enforce_file_format=True)
