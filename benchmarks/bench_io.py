"""Ingest and display benchmarks (issue: image and DICOM ingest).

    python benchmarks/bench_io.py [--files 20000] [--keep DIR]

Measures, on this machine, in one run:
- header indexing: `aldesk scan` (walk, kind, header, status) and adding the same folder to a
  project (walk, content keys, headers, one transaction) over a generated folder of DICOM and
  PNG files;
- decode + display of a 2048x2048 16-bit radiograph and a 512x512 CT slice (median of runs);
- thumbnails per second over a mixed set.
Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid


def make_folder(root: Path, n: int) -> None:
    """n files: 3/4 DICOM (CT, MR, RLE, JPEG 2000 copies with new UIDs), 1/4 small PNGs."""
    sources = [pydicom.dcmread(get_testdata_file(f)) for f in
               ("CT_small.dcm", "MR_small.dcm", "MR_small_RLE.dcm", "JPEG2000.dcm")]
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = root / f"series-{i // 1000:03d}"
        sub.mkdir(parents=True, exist_ok=True)
        if i % 4 == 3:
            Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(
                sub / f"frame-{i:06d}.png", compress_level=1)
            continue
        ds = sources[i % 3 if i % 50 else 3]
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(sub / f"IM{i:06d}.dcm")


def radiograph(path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    yy, xx = np.mgrid[0:2048, 0:2048]
    body = (2000 + 1500 * np.sin(xx / 300.0) * np.cos(yy / 400.0)).astype(np.uint16)
    ds.Rows = ds.Columns = 2048
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.Modality = "DX"
    ds.WindowCenter, ds.WindowWidth = 2000, 3000
    del ds.RescaleSlope, ds.RescaleIntercept
    ds.PixelData = (body & 0x0FFF).tobytes()
    ds.save_as(path)


def ct_slice(path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    big = np.kron(ds.pixel_array, np.ones((4, 4), dtype=ds.pixel_array.dtype))
    ds.Rows = ds.Columns = 512
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = big.tobytes()
    ds.save_as(path)


def median_ms(fn, runs: int = 15) -> float:  # noqa: ANN001
    fn()  # warm caches and imports
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--keep", type=Path, help="reuse/keep the generated folder here")
    args = parser.parse_args()

    from aldesk.io.render import render
    from aldesk.io.thumbnails import make_thumbnail
    from aldesk.services.ingest import sync_folder
    from aldesk.services.scan import scan_folder
    from aldesk.store import Project

    work = Path(tempfile.mkdtemp(prefix="aldesk-bench-"))
    folder = args.keep or work / "data"
    if not (folder / ".complete").exists():
        t = time.perf_counter()
        make_folder(folder, args.files)
        (folder / ".complete").write_text(str(args.files))
        print(f"generated {args.files} files in {time.perf_counter() - t:.0f} s")
    os.sync()
    rows = []

    t = time.perf_counter()
    result = scan_folder(folder)
    scan_s = time.perf_counter() - t
    n = result["summary"]["files"]
    rows.append(("aldesk scan (headers, no project)", f"{n / scan_s:,.0f} files/s",
                 f"{n} files in {scan_s:.1f} s, {result['summary']['error']} errors"))

    t = time.perf_counter()
    with Project.create(work / "bench") as project:
        report = sync_folder(project, folder)
    sync_s = time.perf_counter() - t
    rows.append(("add folder to a project (content keys + headers)",
                 f"{report.added / sync_s:,.0f} files/s",
                 f"{report.added} items in {sync_s:.1f} s"))

    radiograph(work / "dx.dcm")
    ct_slice(work / "ct.dcm")
    rows.append(("decode + display, 2048x2048 16-bit radiograph",
                 f"{median_ms(lambda: render(work / 'dx.dcm')):.0f} ms", "median of 15"))
    rows.append(("decode + display, 512x512 CT slice",
                 f"{median_ms(lambda: render(work / 'ct.dcm')):.1f} ms", "median of 15"))

    files = sorted(p for p in folder.rglob("*") if p.suffix in (".dcm", ".png"))[:400]
    cache = work / "thumbs"
    t = time.perf_counter()
    for i, p in enumerate(files):
        make_thumbnail(p, "image" if p.suffix == ".png" else "dicom", f"{i:032x}", cache)
    thumb_s = time.perf_counter() - t
    rows.append(("thumbnails (256 px, mixed DICOM/PNG, cold)", f"{len(files) / thumb_s:,.0f} /s",
                 f"{len(files)} files"))
    t = time.perf_counter()
    dx_thumb = make_thumbnail(work / "dx.dcm", "dicom", "f" * 32, cache)
    dx_ms = (time.perf_counter() - t) * 1000
    rows.append(("thumbnail of the 2048x2048 radiograph", f"{dx_ms:.0f} ms", dx_thumb.name))

    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    print("\n| measure | result | notes |\n|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
