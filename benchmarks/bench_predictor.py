"""What should the model predict with: the committee's mean, or one head on all labels?

    python benchmarks/bench_predictor.py DATASET [--representation pixels] [--seeds 3]
        [--strategies auto,random]

Runs `aldesk simulate`'s protocol (init 20, batch 20, budget 400, a stratified quarter held
out, the same seeds) and, on the very same label sets each strategy picks with the committee,
scores three predictors on the held-out items: the members' mean probabilities (what aldesk
predicts with), a single softmax head fitted on every label once at the base L2 strength (no
bootstrap), and the average of the two. Prints AUBC, accuracy at a few budgets and full-pool
accuracy per predictor as Markdown. Embeddings come from simulate's cache.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aldesk.ml.backbones import usable_cores
from aldesk.ml.committee import Committee, preprocess_for, train_committee
from aldesk.services.simulate import (
    Dataset,
    accuracy,
    aubc,
    budgets,
    load_dataset,
    rounds,
    stratified_split,
)

PREDICTORS = ("members' mean", "one head, all labels", "average of both")


def predictions(committee: Committee, head: Committee, x: np.ndarray) -> list[np.ndarray]:
    """(N, C) probabilities of each predictor in PREDICTORS order."""
    mean = committee.predict_proba(x).mean(axis=0)
    single = head.predict_proba(x)[0]
    return [mean, single, (mean + single) / 2]


def run(data: Dataset, strategy: str, seed: int, init: int, batch: int, budget: int
        ) -> np.ndarray:
    """(len(PREDICTORS), rounds) held-out accuracy; picks made as `simulate` makes them."""
    norm = None
    rows = []
    for r in rounds(data, strategy, seed, init, batch, budget):
        if r.committee is None:
            rows.append([accuracy(data, r)] * len(PREDICTORS))
            continue
        if norm is None:
            pool = np.setdiff1d(np.arange(len(data.y)), r.test)
            norm = preprocess_for(data.representation, data.x[pool])
        head = train_committee(data.x[r.labeled], data.y[r.labeled], members=1, seed=seed,
                               standardise=norm)
        rows.append([float((r.committee.classes[p.argmax(1)] == data.y[r.test]).mean())
                     for p in predictions(r.committee, head, data.x[r.test])])
    return np.array(rows).T


def full_pool(data: Dataset, seed: int) -> list[float]:
    pool, test = stratified_split(data.y, seed)
    norm = preprocess_for(data.representation, data.x[pool])
    committee = train_committee(data.x[pool], data.y[pool], seed=seed, standardise=norm)
    head = train_committee(data.x[pool], data.y[pool], members=1, seed=seed, standardise=norm)
    return [float((committee.classes[p.argmax(1)] == data.y[test]).mean())
            for p in predictions(committee, head, data.x[test])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--representation", default="pixels")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--strategies", default="auto,random")
    ap.add_argument("--init", type=int, default=20)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--budget", type=int, default=400)
    args = ap.parse_args()

    t0 = time.perf_counter()
    data, _ = load_dataset(args.dataset, args.representation)
    steps = budgets(args.init, args.batch, args.budget)
    shown = [b for b in (20, 60, 100, 200, 400) if b in steps]
    curves = {s: np.mean([run(data, s, seed, args.init, args.batch, args.budget)
                          for seed in range(args.seeds)], axis=0)
              for s in args.strategies.split(",")}
    full = np.mean([full_pool(data, seed) for seed in range(args.seeds)], axis=0)

    print(f"Command: `python benchmarks/bench_predictor.py {' '.join(sys.argv[1:])}`  ")
    print(f"Machine: {platform.machine()}, {usable_cores()} cores, Python "
          f"{platform.python_version()}; {data.representation}, {len(data.y)} items, "
          f"{args.seeds} seeds, {time.perf_counter() - t0:.0f} s\n")
    print("| strategy | predictor | AUBC | " + " | ".join(f"at {b}" for b in shown)
          + " | full pool |")
    print("|---|---|---:|" + "---:|" * len(shown) + "---:|")
    for strategy, table in curves.items():
        for k, name in enumerate(PREDICTORS):
            accs = " | ".join(f"{table[k][steps.index(b)]:.3f}" for b in shown)
            print(f"| {strategy} | {name} | {aubc(list(table[k])):.3f} | {accs} "
                  f"| {full[k]:.3f} |")


if __name__ == "__main__":
    main()
