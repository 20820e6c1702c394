"""Memory the window keeps after viewing large images, and what an idle trim gives back.

    python benchmarks/bench_view_memory.py [--views 150] [--keep DIR]

The window decodes for the screen in two loader threads (`ui.loader.ImageLoader`: `io.render`,
12 decoded images cached). Freed decode buffers stay with the process (glibc keeps them in its
arenas; `core.malloc.keep_freed_memory`, which the window turns on, keeps more of them), so
after a stretch of large radiographs its resident memory stays high. The workspace gives it
back when the user has been idle two minutes (`ui.workspace`, `malloc.release_freed_memory`).

Each mode runs in a fresh Python: `default` (glibc as it comes) and `keep` (the window's
setting). Both view the same random sequence of 24 DX radiographs (about 3000 x 2500, 14-bit)
and 24 photos (4000 x 3000 JPEG), two at a time, keeping the 12 latest, then drop the cache
and trim. Prints resident memory (MB) at each step, the peak, and the trim's duration.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CACHE = 12  # ui.loader.ImageLoader's cache_items
THREADS = 2  # its pool


def make_files(out: Path) -> None:
    from PIL import Image
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(24):
        path = out / f"dx-{i:02d}.dcm"
        if not path.exists():
            h, w = 3000 + 40 * i, 2500 + 30 * i
            meta = FileMetaDataset()
            meta.TransferSyntaxUID = ExplicitVRLittleEndian
            meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
            meta.MediaStorageSOPInstanceUID = generate_uid()
            ds = Dataset()
            ds.file_meta = meta
            ds.SOPClassUID = meta.MediaStorageSOPClassUID
            ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
            ds.Modality = "DX"
            ds.Rows, ds.Columns = h, w
            ds.SamplesPerPixel = 1
            ds.PhotometricInterpretation = "MONOCHROME1" if i % 2 else "MONOCHROME2"
            ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 14, 13, 0
            ds.PixelData = rng.integers(0, 2**14, (h, w), dtype=np.uint16).tobytes()
            ds.save_as(path, enforce_file_format=True)
        photo = out / f"photo-{i:02d}.jpg"
        if not photo.exists():
            pixels = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(photo, quality=90)


def resident_mb() -> tuple[int, int]:
    """(current, peak) resident memory of this process in MB (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text()
                  .splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


def child(mode: str, folder: Path, views: int) -> dict[str, float]:
    from aldesk.core import malloc

    if mode == "keep":
        malloc.keep_freed_memory()
    from aldesk.io.render import render

    paths = sorted(folder.iterdir())
    order = random.Random(0).choices(paths, k=views)
    cache: OrderedDict[int, object] = OrderedDict()
    start = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        for i in range(0, len(order), THREADS):
            for j, image in enumerate(pool.map(render, order[i:i + THREADS])):
                cache[i + j] = image
                while len(cache) > CACHE:
                    cache.popitem(last=False)
    seconds = time.perf_counter() - start
    viewing, _ = resident_mb()
    cache.clear()
    dropped, _ = resident_mb()
    t = time.perf_counter()
    malloc.release_freed_memory()  # does nothing in "default" (the window never runs that)
    trim_ms = (time.perf_counter() - t) * 1e3
    trimmed, peak = resident_mb()
    return {"seconds": seconds, "viewing": viewing, "dropped": dropped,
            "trimmed": trimmed, "trim_ms": trim_ms if mode == "keep" else 0.0, "peak": peak}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--views", type=int, default=150)
    ap.add_argument("--keep", type=Path, help="keep the generated files here (reused)")
    ap.add_argument("--child", nargs=2, metavar=("MODE", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.views)))
        return
    folder = args.keep or Path(tempfile.mkdtemp(prefix="aldesk-viewmem-"))
    try:
        make_files(folder)
        print(f"{args.views} images viewed, {THREADS} threads, {CACHE} cached; resident MB\n")
        print("| malloc | viewing | cache dropped | after trim | trim | peak | time |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for mode in ("default", "keep", "default", "keep"):
            out = subprocess.run([sys.executable, __file__, "--views", str(args.views),
                                  "--child", mode, str(folder)],
                                 check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            trim = f"{r['trim_ms']:.0f} ms" if mode == "keep" else "(none)"
            print(f"| {mode} | {r['viewing']} | {r['dropped']} | {r['trimmed']} | {trim} | "
                  f"{r['peak']} | {r['seconds']:.1f} s |")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
