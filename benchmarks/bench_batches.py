"""How redundant are the batches each strategy picks? Near-duplicates in one batch waste labels.

    python benchmarks/bench_batches.py DATASET [--representation efficientnet_lite0]
        [--strategies auto,margin,badge,random] [--seeds 3]

Runs `aldesk simulate`'s protocol (init 20, batch 20, budget 400, the same seeds and picks) on
a folder whose files belong to *groups* of near-duplicates, as `make_scenes.py` writes them:
the frames of one camera track share their file name up to the last `-`
(`astronaut-0042-3.jpg` is frame 3 of track 42). For each strategy it prints, over all rounds
after the first, the share of picks that repeat a group already picked in the same batch, the
share that repeat a group labeled in an earlier round, the distinct groups per batch, and the
AUBC. Embeddings come from simulate's cache.
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
from aldesk.services.simulate import accuracy, aubc, load_dataset, rounds


def group_of(name: str) -> str:
    """The near-duplicate group of a file: its path up to the last `-` of its name."""
    stem = name.rsplit(".", 1)[0]
    return stem.rsplit("-", 1)[0] if "-" in stem.rsplit("/", 1)[-1] else stem


def redundancy(groups: np.ndarray, batches: list[np.ndarray]) -> tuple[float, float, float]:
    """(share repeating a group in the same batch, share repeating an earlier batch's group,
    mean distinct groups per batch) over `batches` (arrays of rows), the first batch ignored."""
    seen = set(groups[batches[0]])
    within = earlier = total = 0
    distinct = []
    for rows in batches[1:]:
        g = groups[rows]
        within += len(g) - len(set(g))
        earlier += sum(1 for x in g if x in seen)
        total += len(g)
        distinct.append(len(set(g)))
        seen.update(g)
    return within / max(total, 1), earlier / max(total, 1), float(np.mean(distinct or [0]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--representation", default="efficientnet_lite0")
    ap.add_argument("--strategies", default="auto,margin,badge,random")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--init", type=int, default=20)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--budget", type=int, default=400)
    args = ap.parse_args()

    t0 = time.perf_counter()
    data, _ = load_dataset(args.dataset, args.representation)
    groups = np.array([group_of(n) for n in data.names])
    print(f"Command: `python benchmarks/bench_batches.py {' '.join(sys.argv[1:])}`  ")
    print(f"Machine: {platform.machine()}, {usable_cores()} cores, Python "
          f"{platform.python_version()}; {data.representation}, {len(data.y)} items in "
          f"{len(set(groups))} groups, {args.seeds} seeds\n")
    print("| strategy | picks repeating a group of the same batch | picks repeating an "
          "earlier batch's group | distinct groups per batch | AUBC |")
    print("|---|---:|---:|---:|---:|")
    for strategy in args.strategies.split(","):
        stats, curves = [], []
        for seed in range(args.seeds):
            batches, curve = [], []
            for r in rounds(data, strategy, seed, args.init, args.batch, args.budget):
                batches.append(r.picked)
                curve.append(accuracy(data, r))
            stats.append(redundancy(groups, batches))
            curves.append(curve)
        within, earlier, distinct = np.mean(stats, axis=0)
        print(f"| {strategy} | {within:.1%} | {earlier:.1%} | {distinct:.1f} of {args.batch} "
              f"| {aubc(list(np.mean(curves, axis=0))):.3f} |")
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
