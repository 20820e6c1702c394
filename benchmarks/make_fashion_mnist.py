"""Fashion-MNIST as a class-per-subfolder folder of PNGs, for `aldesk simulate`.

    apt-get download dataset-fashion-mnist      # Debian's package: the original IDX files
    python benchmarks/make_fashion_mnist.py dataset-fashion-mnist_*.deb OUT [--per-class 1000]
        [--seed 0] [--split train|test|all]

Fashion-MNIST (Xiao, Rasul & Vollgraf 2017; MIT licence, Zalando SE) is 70,000 real 28 x 28
grey product photographs in 10 classes: the only real 10-class image set this offline machine
can reach (PyPI packages of CIFAR, STL-10, EuroSAT or Imagenette hold downloaders, not data).
The .deb is read directly (ar archive, data tarball, gzipped IDX), so dpkg is not needed.
Writes OUT/<class>/<n>.png, a stratified random `--per-class` images of each class.
"""

from __future__ import annotations

import argparse
import gzip
import io
import struct
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

CLASSES = ["tshirt_top", "trouser", "pullover", "dress", "coat", "sandal", "shirt",
           "sneaker", "bag", "ankle_boot"]
IDX_DIR = "usr/share/datasets/fashion-mnist/"
SPLITS = {"train": "train", "test": "t10k"}


def ar_member(deb: Path, prefix: str) -> bytes:
    """The first member of an ar archive (a .deb) whose name starts with `prefix`."""
    with deb.open("rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ValueError(f"{deb} is not a .deb (ar archive)")
        while len(header := f.read(60)) == 60:
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            data = f.read(size + size % 2)[:size]
            if name.startswith(prefix):
                return data
    raise ValueError(f"{deb} has no {prefix}* member")


def idx_files(deb: Path) -> dict[str, bytes]:
    """{file name: uncompressed IDX bytes} of the package's data tarball."""
    out = {}
    with tarfile.open(fileobj=io.BytesIO(ar_member(deb, "data.tar")), mode="r:*") as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("./")
            if name.startswith(IDX_DIR) and name.endswith("-ubyte.gz"):
                handle = tar.extractfile(member)
                assert handle is not None
                out[name.removeprefix(IDX_DIR).removesuffix(".gz")] = gzip.decompress(
                    handle.read())
    return out


def parse_idx(data: bytes) -> np.ndarray:
    """An IDX file of unsigned bytes: (n,) labels or (n, rows, cols) images."""
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2049:
        return np.frombuffer(data, np.uint8, count=n, offset=8)
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, count=n * rows * cols, offset=16).reshape(
            n, rows, cols)
    raise ValueError(f"not an IDX file of bytes (magic {magic})")


def write_folder(deb: Path, out: Path, per_class: int, seed: int = 0,
                 split: str = "train") -> dict[str, int]:
    files = idx_files(deb)
    chosen = list(SPLITS.values()) if split == "all" else [SPLITS[split]]
    x = np.concatenate([parse_idx(files[f"{s}-images-idx3-ubyte"]) for s in chosen])
    y = np.concatenate([parse_idx(files[f"{s}-labels-idx1-ubyte"]) for s in chosen])
    rng = np.random.default_rng(seed)
    counts = {}
    for c, name in enumerate(CLASSES):
        rows = np.flatnonzero(y == c)
        take = np.sort(rng.choice(rows, size=min(per_class, len(rows)), replace=False))
        (out / name).mkdir(parents=True, exist_ok=True)
        for k, row in enumerate(take):
            Image.fromarray(x[row]).save(out / name / f"{k:05d}.png")
        counts[name] = len(take)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("deb", type=Path, help="dataset-fashion-mnist_*.deb")
    ap.add_argument("out", type=Path)
    ap.add_argument("--per-class", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", choices=[*SPLITS, "all"], default="train")
    args = ap.parse_args()
    counts = write_folder(args.deb, args.out, args.per_class, args.seed, args.split)
    print(f"wrote {sum(counts.values())} images to {args.out}: {counts}")


if __name__ == "__main__":
    main()
