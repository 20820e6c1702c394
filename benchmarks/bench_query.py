"""One query round over a large pool: committee probabilities + strategy ranking.

    python benchmarks/bench_query.py [--items 100000] [--dim 1280] [--members 10]

Target (DESIGN.md): scoring and ranking 100k items x 1280 dims with a 10-member committee in at
most 1 s on 2 CPU cores. Embeddings are synthetic (class blobs); the timing does not depend on
their content.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=1280)
    parser.add_argument("--members", type=int, default=10)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--labels", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from aldesk.al.context import PoolState
    from aldesk.al.policy import score_pool
    from aldesk.ml.committee import standardiser, train_committee

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((args.classes, args.dim)).astype(np.float32)
    y = rng.integers(0, args.classes, args.items)
    x = (centres[y] + 2.0 * rng.standard_normal((args.items, args.dim))).astype(np.float32)
    labeled = rng.choice(args.items, args.labels, replace=False)
    prep = standardiser(x)
    t = time.perf_counter()
    committee = train_committee(x[labeled], y[labeled], members=args.members, standardise=prep)
    train_s = time.perf_counter() - t
    pool = np.setdiff1d(np.arange(args.items), labeled)
    rows = []
    for strategy in ("auto", "margin", "entropy", "bald", "badge"):
        times, probs_times = [], []
        for r in range(args.repeat):
            t = time.perf_counter()
            probs = committee.predict_proba(x[pool])
            t_probs = time.perf_counter() - t
            state = PoolState(probs=probs, embeddings=x[pool], labeled_embeddings=x[labeled],
                              labeled_classes=y[labeled])
            score_pool(strategy, state, np.random.default_rng(r))
            times.append(time.perf_counter() - t)
            probs_times.append(t_probs)
        rows.append((strategy, statistics.median(probs_times), statistics.median(times)))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; pool {len(pool):,} x {args.dim}, committee of "
          f"{args.members}, {args.classes} classes; training on {args.labels} labels took "
          f"{train_s:.2f} s\n")
    print("| strategy | committee probabilities | probabilities + score + rank |")
    print("|---|---|---|")
    for name, p, total in rows:
        print(f"| {name} | {p:.2f} s | {total:.2f} s |")


if __name__ == "__main__":
    main()
