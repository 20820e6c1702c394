"""`aldesk simulate`: an active-learning experiment with an oracle on a labeled folder.

The folder holds one subfolder per class. Its files are embedded once into a cache project
under the user cache folder, so a second simulate of the same folder reuses the vectors. A
stratified quarter of the items is held out for testing; every strategy starts from zero
labels, picks its own first `init` items, then `batch` items per round until `budget`, and the
committee trained on its labels is scored on the held-out items after each round.

With `--representation auto` each run chooses its representation as a project does: first by
the images' size, then, from 30 labels on, by cross-validated accuracy on the labels it has
(so both candidates are embedded, unless the folder is too large to compare in a project).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from aldesk.core import paths
from aldesk.core.errors import InputError, require_folder
from aldesk.core.jobs import Job
from aldesk.core.pathtext import from_db, printable
from aldesk.ml.ids import raw_pixels
from aldesk.services.embedding import embed_project, project_matrix
from aldesk.services.ingest import sync_folder
from aldesk.store import Project
from aldesk.store import items as store_items

if TYPE_CHECKING:
    from aldesk.ml.committee import Committee

TEST_FRACTION = 0.25


@dataclass(frozen=True)
class Dataset:
    x: np.ndarray  # (N, D) float32 embeddings
    y: np.ndarray  # (N,) int class index
    class_names: list[str]
    representation: str
    names: list[str] = field(default_factory=list)  # each row's path in the folder
    representation_reason: str = ""  # why this representation (`auto`: the images' size)
    #: The other candidates of an `auto` run, by representation id: (N, D) rows like x.
    others: dict[str, np.ndarray] = field(default_factory=dict)
    #: (path in the folder, reason) of the files left out because they could not be read.
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def matrix(self, representation: str) -> np.ndarray:
        return self.x if representation == self.representation else self.others[
            representation]


def _cache_project(folder: Path) -> Path:
    digest = hashlib.blake2b(str(folder.resolve()).encode(), digest_size=8).hexdigest()
    root = paths.cache_dir() / "simulate"
    root.mkdir(parents=True, exist_ok=True)
    return root / f"{folder.name}-{digest}.aldesk"


def load_dataset(folder: Path, representation: str, job: Job | None = None, *,
                 compare: bool = True) -> tuple[Dataset, dict[str, float]]:
    """Embeddings and oracle labels of a class-per-subfolder dataset (cached). `auto` starts
    from the representation the images' size suggests and, with `compare`, also embeds the
    other candidates (as a project would, up to its size limit for comparing)."""
    from aldesk.ml.backbones import get_representation
    from aldesk.services.representation import CANDIDATES, MAX_ITEMS_TO_COMPARE, by_looks

    folder = Path(folder).expanduser()
    require_folder(folder)
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not
                     p.name.startswith("."))
    if len(classes) < 2:
        raise InputError(f"{folder} needs one subfolder per class, at least two")
    timing: dict[str, float] = {}
    start = time.perf_counter()
    cache = _cache_project(folder)
    project = Project.open(cache, backup_on_open=False) if cache.exists() else Project.create(
        cache)
    with project:
        sync_folder(project, folder, job)
        timing["index_s"] = time.perf_counter() - start
        reason = "chosen for this run"
        names = [representation]
        if representation == "auto":
            representation, reason = by_looks(project)
            n_items = project.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            names = [representation]
            if compare and n_items <= MAX_ITEMS_TO_COMPARE:
                names += [c for c in CANDIDATES if c != representation]
        matrices = {}
        for k, name in enumerate(names):
            rep = get_representation(name)
            report = embed_project(project, rep, job)
            suffix = "" if k == 0 else f"_{name}"
            timing[f"embed{suffix}_s"] = report.seconds
            timing[f"embedded{suffix}"] = report.embedded
            timing[f"cached{suffix}"] = report.cached
            matrices[rep.id] = project_matrix(project, rep.id)
        rel = {i.id: i.rel_path for i in store_items.list_items(project)}
        unreadable = [(printable(from_db(r[0])), r[1] or "") for r in project.conn.execute(
            "SELECT rel_path, reason FROM items WHERE status = 'error' ORDER BY rel_path")]
    ids = matrices[next(iter(matrices))][0]
    for other_ids, _ in matrices.values():  # rows every representation has
        ids = np.intersect1d(ids, other_ids)
    aligned = {r: x[np.searchsorted(r_ids, ids)] for r, (r_ids, x) in matrices.items()}
    first, *rest = aligned
    x = aligned[first]
    index = {name: k for k, name in enumerate(classes)}
    y = np.array([index.get(rel[i].split("/", 1)[0], -1) for i in ids])
    keep = y >= 0
    paths_ = [rel[i] for i, k in zip(ids, keep, strict=True) if k]
    return Dataset(x[keep], y[keep], classes, first, paths_, reason,
                   {r: aligned[r][keep] for r in rest}, unreadable), timing


def _reason(data: Dataset, most: str, ended: list[str]) -> str:
    """Why the runs ended with `most`, the representation most of them ended with."""
    if not data.others:
        return data.representation_reason
    if most == data.representation:
        return (f"{data.representation_reason}; {ended.count(most)} of {len(ended)} runs kept "
                "it after comparing by cross-validated accuracy on their labels")
    return (f"started with {data.representation} ({data.representation_reason}); "
            f"{ended.count(most)} of {len(ended)} runs ended with {most} by cross-validated "
            "accuracy on their labels")


def stratified_split(y: np.ndarray, seed: int, fraction: float = TEST_FRACTION
                     ) -> tuple[np.ndarray, np.ndarray]:
    """(pool indices, test indices): `fraction` of each class held out, at random."""
    rng = np.random.default_rng(seed)
    test = []
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        test.extend(idx[: max(1, round(len(idx) * fraction))])
    test_arr = np.sort(np.array(test, np.int64))
    pool = np.setdiff1d(np.arange(len(y)), test_arr)
    return pool, test_arr


def budgets(init: int, batch: int, budget: int) -> list[int]:
    out = [init]
    while out[-1] < budget:
        out.append(min(budget, out[-1] + batch))
    return out


@dataclass(frozen=True)
class Round:
    """The state after one round of a simulated experiment (rows index the Dataset)."""
    labeled: np.ndarray  # (L,) rows labeled so far, in the order they were picked
    picked: np.ndarray  # (k,) rows picked in this round: the tail of `labeled`
    committee: Committee | None  # trained on `labeled`; None while one class is labeled
    test: np.ndarray  # (T,) held-out rows
    representation: str  # the representation id the committee was trained on


def rounds(data: Dataset, strategy: str, seed: int, init: int, batch: int, budget: int,
           job: Job | None = None, members: int = 10) -> Iterator[Round]:
    """Runs one strategy and seed: picks `init` items, then `batch` per round until `budget`,
    training the committee on the labels after each round. With other candidate
    representations in `data`, each round first chooses among them by cross-validated
    accuracy on its labels, as a project's training round does."""
    from aldesk.al.context import PoolState
    from aldesk.al.policy import choose
    from aldesk.al.registry import HEAD_GRADIENT
    from aldesk.ml.committee import preprocess_for, train_committee
    from aldesk.ml.ids import family
    from aldesk.services.representation import CANDIDATES, better_by_cv

    pool, test = stratified_split(data.y, seed)
    rng = np.random.default_rng(seed + 1000)
    norms = {r: preprocess_for(r, data.matrix(r)[pool])
             for r in [data.representation, *data.others]}
    # In a project's order, so that a tie for the best goes where a project's would (the
    # cheapest); others (a test's) after them, as given.
    order = [*CANDIDATES, *(family(r) for r in norms)]
    compared = sorted(norms, key=lambda r: order.index(family(r))) if data.others else []
    current, decided = data.representation, False
    labeled: list[int] = []  # positions in `pool`
    committee = None
    for target in budgets(init, batch, budget):
        if job is not None:
            job.check()
        need = min(target, len(pool)) - len(labeled)
        before = len(labeled)
        if need > 0:
            unlabeled = np.setdiff1d(np.arange(len(pool)), labeled)
            x = data.matrix(current)
            state = PoolState(
                probs=None if committee is None else committee.predict_proba(
                    x[pool[unlabeled]]),
                embeddings=x[pool[unlabeled]],
                labeled_embeddings=x[pool[labeled]],
                labeled_classes=data.y[pool[labeled]],
                pixel_features=raw_pixels(current),
                head_inputs=(committee.prepare(x[pool[unlabeled]])
                             if committee is not None and strategy in HEAD_GRADIENT else None),
            )
            picks = choose(strategy, state, need, rng)
            labeled.extend(int(unlabeled[p]) for p in picks)
        rows = pool[np.asarray(labeled, np.int64)]
        lab_y = data.y[rows]
        if data.others and not decided:
            chosen = better_by_cv({r: (data.matrix(r)[rows], norms[r]) for r in compared},
                                  lab_y, start=data.representation)
            if chosen is not None:
                current, decided = chosen[0], True
        committee = (train_committee(data.matrix(current)[rows], lab_y, seed=seed,
                                     standardise=norms[current], members=members)
                     if len(np.unique(lab_y)) >= 2 else None)
        yield Round(rows, rows[before:], committee, test, current)


def accuracy(data: Dataset, state: Round) -> float:
    """Held-out accuracy of the round's committee (its members' mean); with one class
    labeled, of predicting that class."""
    if state.committee is None:
        lab_y = data.y[state.labeled]
        predicted = np.full(len(state.test), lab_y[0] if len(lab_y) else 0)
    else:
        x = data.matrix(state.representation)
        probs = state.committee.predict_proba(x[state.test]).mean(axis=0)
        predicted = state.committee.classes[probs.argmax(axis=1)]
    return float((predicted == data.y[state.test]).mean())


@dataclass(frozen=True)
class Run:
    """One strategy and seed, round by round."""
    curve: list[float]  # held-out accuracy after each round
    seconds: float
    representations: list[str]  # the representation id of each round's committee
    #: Per round, Cohen's kappa of its committee's predictions on the stop set with those of
    #: the newest earlier round on the same representation and at least MIN_LABELS_APART
    #: fewer labels (`compared`), as a project's training round records it (al.stopping);
    #: None when there is none, and while only one class is labeled.
    agreements: list[float | None]
    compared: list[int | None]  # the index of the round each round was compared with

    @property
    def representation(self) -> str:
        """The representation of the last round."""
        return self.representations[-1]


def run_curve(data: Dataset, strategy: str, seed: int, init: int, batch: int, budget: int,
              job: Job | None = None, members: int = 10) -> Run:
    """Test accuracy after each round of one strategy and seed, the seconds it took, each
    round's representation, and how much each round's predictions moved."""
    from aldesk.al.stopping import MIN_LABELS_APART, cohen_kappa, stop_set

    start = time.perf_counter()
    pool, _ = stratified_split(data.y, seed)
    sample = pool[stop_set(pool)]
    curve: list[float] = []
    reps: list[str] = []
    agreements: list[float | None] = []
    compared: list[int | None] = []
    earlier: list[tuple[int, int, np.ndarray]] = []  # (round, labels, predictions), this rep
    for k, r in enumerate(rounds(data, strategy, seed, init, batch, budget, job, members)):
        curve.append(accuracy(data, r))
        if reps and r.representation != reps[-1]:
            earlier = []
        reps.append(r.representation)
        agreements.append(None)
        compared.append(None)
        if r.committee is None:
            continue
        probs = r.committee.predict_proba(data.matrix(r.representation)[sample])
        now = r.committee.classes[probs.mean(axis=0).argmax(axis=1)]
        before = [(j, p) for j, n, p in earlier if n <= len(r.labeled) - MIN_LABELS_APART]
        if before:
            compared[k] = before[-1][0]
            agreements[k] = round(cohen_kappa(before[-1][1], now), 5)
        earlier.append((k, len(r.labeled), now))
    return Run(curve, time.perf_counter() - start, reps, agreements, compared)


def stopped_at(run: Run) -> int | None:
    """The index of the first round at which stabilizing predictions says to stop, read as
    `aldesk info` reads a project's versions: along the chain of comparisons back from it."""
    from aldesk.al.stopping import comparison_chain, stabilized

    links: dict[int, tuple[int, float]] = {}
    for k, (a, j) in enumerate(zip(run.agreements, run.compared, strict=True)):
        if a is None or j is None:
            continue
        links[k] = (j, a)
        if stabilized([kappa for _, _, kappa in comparison_chain(k, links)]):
            return k
    return None


def full_pool_accuracy(data: Dataset, seed: int, representation: str | None = None) -> float:
    from aldesk.ml.committee import preprocess_for, train_committee

    representation = representation or data.representation
    x = data.matrix(representation)
    pool, test = stratified_split(data.y, seed)
    committee = train_committee(x[pool], data.y[pool], seed=seed,
                                standardise=preprocess_for(representation, x[pool]))
    probs = committee.predict_proba(x[test]).mean(axis=0)
    return float((committee.classes[probs.argmax(axis=1)] == data.y[test]).mean())


def aubc(curve: list[float]) -> float:
    """Area under the budget curve, normalised to [0, 1] (the mean over evenly spaced
    budgets, by the trapezoid rule)."""
    if len(curve) == 1:
        return curve[0]
    c = np.asarray(curve)
    return float(((c[1:] + c[:-1]) / 2).mean())


def _stopping(runs: list[Run], steps: list[int]) -> dict[str, Any]:
    """Where stabilizing predictions would have said to stop in each run: the labels then
    (None: not within the budget), the held-out accuracy then and at the end of the budget,
    and the agreements round by round."""
    at = [stopped_at(run) for run in runs]
    return {"labels": [None if k is None else steps[k] for k in at],
            "accuracy": [None if k is None else round(run.curve[k], 5)
                         for k, run in zip(at, runs, strict=True)],
            "final_accuracy": [round(run.curve[-1], 5) for run in runs],
            "agreements": [run.agreements for run in runs]}


def simulate(folder: Path, strategies: list[str], *, init: int, batch: int, budget: int,
             seeds: int, representation: str = "auto", job: Job | None = None,
             members: int = 10) -> dict[str, Any]:
    if init < 1 or batch < 1 or budget < init:
        raise InputError("need --init >= 1, --batch >= 1 and --budget >= --init")
    if seeds < 1:
        raise InputError("--seeds must be at least 1")
    if members < 1:
        raise InputError("--members must be at least 1")
    from aldesk.services.train import check_strategies

    check_strategies(strategies)
    from aldesk.services.representation import MIN_LABELS_TO_COMPARE

    data, timing = load_dataset(folder, representation, job,
                                compare=budget >= MIN_LABELS_TO_COMPARE)
    if budget > len(data.y) * (1 - TEST_FRACTION):
        raise InputError(f"--budget {budget} is more than the pool of "
                         f"{int(len(data.y) * (1 - TEST_FRACTION))} items")
    curves: dict[str, Any] = {}
    stopping: dict[str, Any] = {}
    final: dict[str, list[str]] = {}  # the representation each run ended with
    steps = budgets(init, batch, budget)
    for name in strategies:
        runs = [run_curve(data, name, seed, init, batch, budget, job, members)
                for seed in range(seeds)]
        per_seed = [run.curve for run in runs]
        final[name] = [run.representation for run in runs]
        curves[name] = {"mean": np.mean(per_seed, axis=0).round(5).tolist(),
                        "per_seed": [[round(a, 5) for a in c] for c in per_seed]}
        stopping[name] = _stopping(runs, steps)
        timing[f"{name}_s"] = sum(run.seconds for run in runs)
    ended = [r for runs in final.values() for r in runs]
    most = max(dict.fromkeys(ended), key=ended.count)  # ties: the first run's
    full = float(np.mean([full_pool_accuracy(data, s, most) for s in range(seeds)]))
    return {
        "dataset": str(Path(folder).resolve()),
        "representation": most,
        "representation_reason": _reason(data, most, ended),
        "representation_per_run": final,
        "items": len(data.y),
        "classes": data.class_names,
        "init": init, "batch": batch, "budget": budget, "seeds": seeds, "members": members,
        "budgets": steps,
        "curves": curves,
        "stopping": stopping,
        "aubc": {k: round(aubc(v["mean"]), 5) for k, v in curves.items()},
        "full_pool_accuracy": round(full, 5),
        "unreadable": [{"path": path, "reason": why} for path, why in data.unreadable],
        "timing": {k: round(v, 3) for k, v in timing.items()},
    }

