"""DICOM header reading: `aldesk.io.dicom_header.read_dicom_header` against pydicom.

    python benchmarks/bench_header.py [--files 20000] [--folder DIR] [--pydicom-files 2000]

Generates (once: an existing folder with enough files is reused) N small DICOM files by copying
a few of pydicom's test files (explicit and implicit VR little endian, big endian, RLE, JPEG
2000, multi-frame RT dose) and patching their SOPInstanceUID in place so that every file
differs. Then times, in one run, `read_dicom_header` over all N files and
`pydicom.dcmread(stop_before_pixels=True)` over a subset, and prints files/s for both and the
ratio. The files are read once before timing, so both run from the page cache.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

from aldesk.io.dicom_header import read_dicom_header

TEMPLATES = (
    "CT_small.dcm", "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm",
    "MR_small_RLE.dcm", "JPEG2000.dcm", "rtdose.dcm", "SC_rgb_rle.dcm",
)


def uid_slot(data: bytes, path: str) -> tuple[int, int]:
    """Offset and length of the SOPInstanceUID value in a template's bytes."""
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    raw = ds.get_item(0x00080018)
    return raw.value_tell, raw.length


def patched(data: bytes, slot: tuple[int, int], n: int) -> bytes:
    """The template with its SOPInstanceUID's last digits replaced by n (same length)."""
    at, length = slot
    uid = data[at : at + length].rstrip(b"\0")
    digits = str(n).encode()
    new = (uid[: len(uid) - len(digits)] + digits).ljust(length, b"\0")
    return data[:at] + new + data[at + length :]


def make_folder(folder: Path, n: int) -> list[Path]:
    """Write n files into folder (1,000 per subfolder) unless they are there already."""
    paths = [folder / f"s{i // 1000:03d}" / f"IM{i:06d}.dcm" for i in range(n)]
    if all(p.exists() for p in (paths[0], paths[-1])):
        return paths
    templates = []
    for name in TEMPLATES:
        path = get_testdata_file(name)
        data = Path(path).read_bytes()
        templates.append((data, uid_slot(data, path)))
    for i, path in enumerate(paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        data, slot = templates[i % len(templates)]
        path.write_bytes(patched(data, slot, 10_000_000 + i))
    return paths


def warm(paths: list[Path]) -> int:
    """Read every file once (page cache); return the total size."""
    return sum(len(p.read_bytes()) for p in paths)


def time_fast(paths: list[Path]) -> tuple[float, int]:
    """Seconds to read every header with read_dicom_header, and how many used pydicom."""
    start = time.perf_counter()
    fallbacks = sum(read_dicom_header(p).used_fallback for p in paths)
    return time.perf_counter() - start, fallbacks


def time_pydicom(paths: list[Path]) -> float:
    """Seconds to read every header with pydicom.dcmread(stop_before_pixels=True)."""
    start = time.perf_counter()
    for p in paths:
        pydicom.dcmread(p, stop_before_pixels=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--folder", type=Path, default=None,
                        help="where the files are generated (default: a temp folder, reused)")
    parser.add_argument("--pydicom-files", type=int, default=2_000,
                        help="how many of the files pydicom reads (it is slow)")
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.gettempdir()) / f"aldesk-bench-header-{args.files}"

    t0 = time.perf_counter()
    paths = make_folder(folder, args.files)
    size = warm(paths)
    print(f"{len(paths)} files, {size / 1e6:.1f} MB in {folder} "
          f"(ready in {time.perf_counter() - t0:.1f} s)")
    print(f"python {platform.python_version()}, pydicom {pydicom.__version__}, "
          f"{os.cpu_count()} CPUs, {platform.platform()}")

    fast_s, fallbacks = time_fast(paths)
    subset = paths[: args.pydicom_files]
    pydicom.dcmread(subset[0], stop_before_pixels=True)  # import and first-call costs
    slow_s = time_pydicom(subset)
    fast_rate = len(paths) / fast_s
    slow_rate = len(subset) / slow_s
    print(f"read_dicom_header : {fast_rate:10,.0f} files/s  ({len(paths)} files in "
          f"{fast_s:.2f} s, {fallbacks} via pydicom)")
    print(f"pydicom dcmread   : {slow_rate:10,.0f} files/s  ({len(subset)} files in "
          f"{slow_s:.2f} s, stop_before_pixels=True)")
    print(f"ratio             : {fast_rate / slow_rate:10.1f} x")


if __name__ == "__main__":
    main()
