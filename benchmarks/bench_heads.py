"""Head-type benchmark (issue #4: "head type and M chosen by benchmark").

    python benchmarks/bench_heads.py DATASET [--representation pixels] [--seeds 5]

On a class-per-subfolder dataset (embedded once through `aldesk simulate`'s cache), compares
the committee's head type with the usual alternatives on the same inputs (the committee's own
preprocessing: standardisation, or PCA for pixels): for random label sets of each size (the
same draws for every head, a stratified quarter held out as in `simulate`), held-out accuracy,
the negative log-likelihood of the held-out labels (how trustworthy the probabilities that the
strategies rank by are), and the time to fit on the largest label set. Prints Markdown for
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aldesk.ml.backbones import usable_cores
from aldesk.ml.committee import preprocess_for, train_committee
from aldesk.services.simulate import load_dataset, stratified_split

#: fit(x, y) -> predict_proba(x) giving (N, C) over `np.unique(y)`, or None for no probabilities.
Head = Callable[[np.ndarray, np.ndarray, int], Callable[[np.ndarray], np.ndarray]]


def committee_head(members: int) -> Head:
    def fit(x: np.ndarray, y: np.ndarray, seed: int) -> Callable[[np.ndarray], np.ndarray]:
        # x is already preprocessed: an identity standardiser keeps it as it is
        from aldesk.ml.committee import Preprocess

        ident = Preprocess(np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32))
        c = train_committee(x, y, members=members, seed=seed, standardise=ident)
        return lambda z: c.predict_proba(z).mean(axis=0)
    return fit


def sklearn_head(make: Callable[[int, int], object]) -> Head:
    def fit(x: np.ndarray, y: np.ndarray, seed: int) -> Callable[[np.ndarray], np.ndarray]:
        model = make(seed, len(y))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence chatter on tiny label sets
            model.fit(x, y)  # type: ignore[attr-defined]
        # the head's own decision (its argmax of probabilities may differ, e.g. by priors)
        return lambda z: _with_proba(model, z)
    return fit


def _with_proba(model: object, z: np.ndarray) -> np.ndarray:
    """Probabilities whose argmax is the model's prediction (one-hot without probabilities)."""
    pred = _one_hot(model.predict(z), model.classes_)  # type: ignore[attr-defined]
    if not hasattr(model, "predict_proba"):
        return pred
    proba = model.predict_proba(z)  # type: ignore[attr-defined]
    agree = proba.argmax(axis=1) == pred.argmax(axis=1)
    return np.where(agree[:, None], proba, 0.999 * pred + 0.001 * proba)


def _one_hot(pred: np.ndarray, classes: np.ndarray) -> np.ndarray:
    out = np.zeros((len(pred), len(classes)))
    out[np.arange(len(pred)), np.searchsorted(classes, pred)] = 1.0
    return out


def heads() -> dict[str, tuple[Head, bool]]:
    """name -> (fit, gives probabilities)."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.neighbors import KNeighborsClassifier, NearestCentroid
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import LinearSVC

    return {
        "softmax regression, committee of 10 (aldesk)": (committee_head(10), True),
        "softmax regression, one head": (committee_head(1), True),
        "LDA, shrinkage (Ledoit-Wolf)": (sklearn_head(
            lambda s, n: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto")), True),
        "MLP, 256 hidden": (sklearn_head(
            lambda s, n: MLPClassifier((256,), alpha=1e-2, max_iter=500, random_state=s)), True),
        "random forest, 300 trees": (sklearn_head(
            lambda s, n: RandomForestClassifier(300, class_weight="balanced", random_state=s,
                                                n_jobs=1)), True),
        "k nearest neighbours, k=5, distance-weighted": (sklearn_head(
            lambda s, n: KNeighborsClassifier(min(5, n), weights="distance")), True),
        "nearest class mean": (sklearn_head(lambda s, n: NearestCentroid()), False),
        "linear SVM": (sklearn_head(
            lambda s, n: LinearSVC(class_weight="balanced", random_state=s)), False),
    }


def draw(y_pool: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """`size` random positions with at least two classes among them."""
    while True:
        pick = rng.choice(len(y_pool), size=size, replace=False)
        if len(np.unique(y_pool[pick])) >= 2:
            return pick


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--representation", default="pixels")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--sizes", default="20,50,100,200,400")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    data, _timing = load_dataset(args.dataset, args.representation)
    table = heads()
    acc = {name: np.zeros((args.seeds, len(sizes))) for name in table}
    nll = {name: np.zeros((args.seeds, len(sizes))) for name in table}
    fit_s = {name: 0.0 for name in table}
    for seed in range(args.seeds):
        pool, test = stratified_split(data.y, seed)
        prep = preprocess_for(data.representation, data.x[pool])
        xp, xt = prep.apply(data.x[pool]), prep.apply(data.x[test])
        yp, yt = data.y[pool], data.y[test]
        rng = np.random.default_rng(seed)
        draws = [draw(yp, s, rng) for s in sizes]
        for name, (fit, _probs) in table.items():
            for k, pick in enumerate(draws):
                t0 = time.perf_counter()
                predict = fit(xp[pick], yp[pick], seed)
                if k == len(sizes) - 1:
                    fit_s[name] += (time.perf_counter() - t0) / args.seeds
                p = predict(xt)
                classes = np.unique(yp[pick])
                acc[name][seed, k] = float((classes[p.argmax(axis=1)] == yt).mean())
                # probability of the true class; classes never labeled get none
                col = np.searchsorted(classes, yt)
                known = (col < len(classes)) & (classes[np.minimum(col, len(classes) - 1)] == yt)
                true_p = np.where(known, p[np.arange(len(yt)), np.minimum(col, len(classes) - 1)],
                                  0.0)
                nll[name][seed, k] = float(-np.log(np.clip(true_p, 1e-4, 1.0)).mean())

    print(f"machine: {platform.machine()}, {usable_cores()} cores, Python "
          f"{platform.python_version()}; {args.dataset.name}: {len(data.y)} items, "
          f"{len(data.class_names)} classes, representation {data.representation}, "
          f"inputs {data.x.shape[1]} dims; {args.seeds} seeds, the same random label sets for "
          "every head\n")
    head = " | ".join(f"acc. at {s}" for s in sizes)
    print(f"| head | {head} | NLL at {sizes[len(sizes) // 2]} | fit at {sizes[-1]} labels |")
    print("|---|" + "---:|" * (len(sizes) + 2))
    mid = len(sizes) // 2
    for name, (_fit, probs) in table.items():
        cells = " | ".join(f"{acc[name][:, k].mean():.3f}" for k in range(len(sizes)))
        n = f"{nll[name][:, mid].mean():.2f}" if probs else "—"
        print(f"| {name} | {cells} | {n} | {fit_s[name] * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
