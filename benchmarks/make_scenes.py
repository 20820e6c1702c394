"""Writes a class-per-subfolder set of camera frames cut from real photographs, for `simulate`.

The issue's real ~10k photo set cannot be fetched on these machines (no network), and digits are
not photos. This set stands between them: ten colour photographs that ship inside the
scikit-image and scikit-learn wheels (an astronaut, a cat, coffee, a rocket, a motorcycle, the
Hubble deep field, a retina, a stained tissue slide, a Chinese temple, a flower) are the ten
classes; each item is a 320x240 JPEG frame of a small part of one of them, as a robot's camera
would see it while panning over the scene:

- frames come in *tracks*: a track starts on a random part of the photo (0.5-5 % of its
  area by default, `--area`) and drifts and zooms a little from frame to frame, so
  consecutive frames are near-duplicates (what makes plain uncertainty sampling pick the same
  thing several times in one batch);
- each track has its own lighting (brightness, contrast, colour cast), each frame its own
  sensor noise and JPEG quality (70-95); one frame in five is out of focus;
- a class is many different-looking parts of one scene (a helmet and a flag are both
  "astronaut"), and small crops of plain regions (sky, background) are truly ambiguous.

Command: `python benchmarks/make_scenes.py OUT [--per-class 1000] [--track 8] [--seed 0]
[--area 0.005,0.05]`.
Needs the `bench` extra (`pip install -c constraints.txt -e '.[bench]'`) for scikit-image's
photos; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

#: class name → (package, file in its data folder)
PHOTOS: dict[str, tuple[str, str]] = {
    "astronaut": ("skimage", "astronaut.png"),
    "cat": ("skimage", "chelsea.png"),
    "coffee": ("skimage", "coffee.png"),
    "rocket": ("skimage", "rocket.jpg"),
    "motorcycle": ("skimage", "motorcycle_left.png"),
    "galaxies": ("skimage", "hubble_deep_field.jpg"),
    "retina": ("skimage", "retina.jpg"),
    "tissue": ("skimage", "ihc.png"),
    "temple": ("sklearn", "china.jpg"),
    "flower": ("sklearn", "flower.jpg"),
}
FRAME = (320, 240)


def photo_path(package: str, name: str) -> Path:
    """The bundled photo's file, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{package} is not installed: pip install -c constraints.txt "
                         "-e '.[bench]'")
    root = Path(next(iter(spec.submodule_search_locations)))
    folder = root / ("data" if package == "skimage" else "datasets/images")
    return folder / name


def track(photo: Image.Image, frames: int, rng: np.random.Generator,
          area: tuple[float, float] = (0.005, 0.05)) -> list[Image.Image]:
    """`frames` camera frames drifting over one part of `photo` (`area`: the smallest and the
    largest part of the photo a frame shows)."""
    w, h = photo.size
    area_px = rng.uniform(*area) * w * h
    aspect = FRAME[0] / FRAME[1]
    cw = min(w, np.sqrt(area_px * aspect))
    ch = min(h, cw / aspect)
    cx, cy = rng.uniform(cw / 2, w - cw / 2), rng.uniform(ch / 2, h - ch / 2)
    step = rng.normal(0, 0.04, 2) * (cw, ch)  # drift per frame
    zoom = rng.uniform(0.97, 1.03)
    gain, bias = rng.uniform(0.7, 1.3), rng.uniform(-25, 25)
    cast = rng.uniform(0.9, 1.1, 3)
    out = []
    for _ in range(frames):
        box = (cx - cw / 2, cy - ch / 2, cx + cw / 2, cy + ch / 2)
        im = photo.resize(FRAME, Image.Resampling.BILINEAR, box=box, reducing_gap=2.0)
        if rng.random() < 0.2:
            im = im.filter(ImageFilter.GaussianBlur(rng.uniform(0.8, 2.0)))
        a = np.asarray(im, dtype=np.float32) * gain * cast + bias
        a += rng.normal(0, rng.uniform(2, 8), a.shape)
        out.append(Image.fromarray(np.clip(a, 0, 255).astype(np.uint8)))
        cw = min(w, cw * zoom)
        ch = min(h, cw / aspect)
        cx = float(np.clip(cx + step[0] + rng.normal(0, 0.01 * cw), cw / 2, w - cw / 2))
        cy = float(np.clip(cy + step[1] + rng.normal(0, 0.01 * ch), ch / 2, h - ch / 2))
    return out


def make_scenes(out: Path, per_class: int = 1000, frames_per_track: int = 8, seed: int = 0,
                area: tuple[float, float] = (0.005, 0.05)) -> int:
    """Writes OUT/<class>/<class>-TTTT-F.jpg; returns the number of frames written."""
    rng = np.random.default_rng(seed)
    written = 0
    for name, (package, file) in PHOTOS.items():
        photo = Image.open(photo_path(package, file)).convert("RGB")
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        t = 0
        while t * frames_per_track < per_class:
            frames = track(photo, min(frames_per_track, per_class - t * frames_per_track), rng,
                           area)
            for f, im in enumerate(frames):
                buf = io.BytesIO()
                im.save(buf, "JPEG", quality=int(rng.integers(70, 96)))
                (folder / f"{name}-{t:04d}-{f}.jpg").write_bytes(buf.getvalue())
                written += 1
            t += 1
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder to write (one subfolder per class)")
    ap.add_argument("--per-class", type=int, default=1000, help="frames per class")
    ap.add_argument("--track", type=int, default=8, help="frames per track")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--area", default="0.005,0.05",
                    help="smallest,largest part of a photo one frame shows")
    args = ap.parse_args()
    lo, hi = (float(x) for x in args.area.split(","))
    n = make_scenes(args.out, args.per_class, args.track, args.seed, (lo, hi))
    print(f"wrote {n} frames in {len(PHOTOS)} classes to {args.out}")


if __name__ == "__main__":
    main()
