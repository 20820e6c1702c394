"""ImageNet features with or without the pooled middle blocks: which serves one head best.

    python benchmarks/bench_taps.py DATASET [--seeds 3]

On a class-per-subfolder dataset (embedded as `efficientnet_lite0` through `aldesk simulate`'s
cache), for random label sets of 20 to 400 items and for the whole pool (a stratified quarter
held out, as in `simulate`), the held-out accuracy of one class-weighted softmax head on:
the head's 1280 features alone (what efficientnet_lite0 was until its v4), the 1280 and the
pooled outputs of blocks 14 and 10 under one plain standardisation, and the same with the
three blocks weighed equally (`preprocess_for`, what aldesk does). The same label sets for
every input. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_combined import compare, print_table

from aldesk.ml.committee import preprocess_for, standardiser
from aldesk.services.simulate import load_dataset


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", default="20,50,100,200,400")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data, _ = load_dataset(args.dataset, "efficientnet_lite0", compare=False)
    rep = data.representation
    old = rep.rsplit("/", 1)[0] + "/v3"  # one block: the plain standardisation of v3
    inputs = {
        "head features alone (1280)":
            (partial(preprocess_for, old), data.x[:, :1280]),
        "with blocks 14 and 10, one standardisation (1584)": (standardiser, data.x),
        "with blocks 14 and 10, blocks weighed equally (1584, aldesk)":
            (partial(preprocess_for, rep), data.x),
    }
    acc = compare(data.y, inputs, sizes, args.seeds)
    print(f"{args.dataset.name}: {len(data.y)} items, {len(data.class_names)} classes, {rep}; "
          f"{args.seeds} seeds, the same random label sets for every input\n")
    print_table(acc, sizes)


if __name__ == "__main__":
    main()
