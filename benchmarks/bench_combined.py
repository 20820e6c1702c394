"""Pixels, ImageNet features, or both side by side: which input serves one softmax head best.

    python benchmarks/bench_combined.py DATASET [--seeds 3]

On a class-per-subfolder dataset (embedded through `aldesk simulate`'s cache, both
representations), for random label sets of 20 to 400 items and for the whole pool (a stratified
quarter held out, as in `simulate`), the held-out accuracy of one class-weighted softmax head on
each representation with the committee's own preprocessing (`preprocess_for`: PCA for pixels,
standardisation for features, both parts weighed equally when combined). The same label sets
for every representation. Prints Markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_heads import draw

from aldesk.ml.committee import Preprocess, preprocess_for, train_committee
from aldesk.ml.ids import representation_id
from aldesk.services.representation import CANDIDATES
from aldesk.services.simulate import load_dataset, stratified_split


def accuracy(xp: np.ndarray, yp: np.ndarray, xt: np.ndarray, yt: np.ndarray, seed: int
             ) -> float:
    ident = Preprocess(np.zeros(xp.shape[1], np.float32), np.ones(xp.shape[1], np.float32))
    head = train_committee(xp, yp, members=1, seed=seed, standardise=ident)
    return float((head.classes[head.predict_proba(xt)[0].argmax(1)] == yt).mean())


def compare(y: np.ndarray, inputs: dict[str, tuple[Callable[[np.ndarray], Preprocess],
                                                    np.ndarray]],
            sizes: list[int], seeds: int) -> dict[str, np.ndarray]:
    """(seeds, len(sizes) + 1) held-out accuracies per input (name -> (fit a preprocessing on
    the pool, the (N, D) matrix)): the same random label sets for every input, then the
    whole pool."""
    acc = {name: np.zeros((seeds, len(sizes) + 1)) for name in inputs}
    for seed in range(seeds):
        pool, test = stratified_split(y, seed)
        rng = np.random.default_rng(seed)
        draws = [draw(y[pool], s, rng) for s in sizes] + [np.arange(len(pool))]
        for name, (fit, xs) in inputs.items():
            prep = fit(xs[pool])
            xp, xt = prep.apply(xs[pool]), prep.apply(xs[test])
            for k, pick in enumerate(draws):
                acc[name][seed, k] = accuracy(xp[pick], y[pool][pick], xt, y[test], seed)
    return acc


def print_table(acc: dict[str, np.ndarray], sizes: list[int]) -> None:
    print("| input of one softmax head | " + " | ".join(f"at {s}" for s in sizes)
          + " | whole pool |")
    print("|---|" + "---:|" * (len(sizes) + 1))
    for name, a in acc.items():
        print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in a.mean(0)) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--sizes", default="20,50,100,200,400")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    data, _ = load_dataset(args.dataset, "auto")  # embeds both representations (cached)
    ids = {name: representation_id(name) for name in CANDIDATES}
    acc = compare(data.y, {name: (partial(preprocess_for, rep), data.matrix(rep))
                           for name, rep in ids.items()}, sizes, args.seeds)
    print(f"{args.dataset.name}: {len(data.y)} items, {len(data.class_names)} classes; "
          f"{args.seeds} seeds, the same random label sets for every representation\n")
    print_table(acc, sizes)


if __name__ == "__main__":
    main()
