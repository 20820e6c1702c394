"""Shrink a class-per-subfolder image set to small colour thumbnails (CIFAR-like sets).

    python benchmarks/shrink_images.py SRC DST [--per-class 300] [--side 32]

Takes the first `--per-class` files of each class of SRC in a seeded shuffle and writes them
as `--side` x `--side` RGB PNGs under DST/CLASS/. Used to check which representation `auto`
starts small colour photographs on (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image


def shrink(src: Path, dst: Path, per_class: int, side: int, seed: int = 0) -> int:
    written = 0
    for folder in sorted(p for p in src.iterdir() if p.is_dir() and p.name[0] != "."):
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.name[0] != ".")
        random.Random(seed).shuffle(files)
        (dst / folder.name).mkdir(parents=True, exist_ok=True)
        stems = [p.stem for p in files]
        taken = 0
        for path in files:
            if taken == per_class:
                break
            try:
                with Image.open(path) as img:
                    small = img.convert("RGB").resize((side, side), Image.Resampling.BILINEAR)
            except (OSError, ValueError):
                continue  # not an image (Thumbs.db and the like)
            name = path.stem if stems.count(path.stem) == 1 else path.name  # a.jpg and a.png
            small.save(dst / folder.name / f"{name}.png")
            taken += 1
        written += taken
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--side", type=int, default=32)
    args = ap.parse_args()
    print(f"wrote {shrink(args.src, args.dst, args.per_class, args.side)} images to {args.dst}")


if __name__ == "__main__":
    main()
