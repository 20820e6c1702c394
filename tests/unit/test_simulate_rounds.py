"""simulate's rounds on real digits: what each round picks, and the benchmark set of camera
tracks (benchmarks/make_scenes.py) with its near-duplicate groups (bench_batches.py)."""

from __future__ import annotations

import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from conftest import make_digit_folder
from PIL import Image
from sklearn.datasets import load_digits

from aldesk.services.simulate import (
    Dataset,
    Round,
    accuracy,
    budgets,
    load_dataset,
    rounds,
    run_curve,
    simulate,
)

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


def bench(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def digits() -> Dataset:
    d = load_digits()
    x = (d.data / 16).astype(np.float32)
    return Dataset(x, d.target, [str(c) for c in range(10)], "pixels",
                   [f"{t}/d{k:04d}.png" for k, t in enumerate(d.target)])


@pytest.mark.parametrize("strategy", ["auto", "random", "margin"])
def test_each_round_adds_its_batch_to_the_labels(digits, strategy):
    steps = budgets(10, 15, 55)
    out = list(rounds(digits, strategy, 0, 10, 15, 55, members=3))
    assert [len(r.labeled) for r in out] == steps
    seen: set[int] = set()
    for r in out:
        assert np.array_equal(r.labeled[len(r.labeled) - len(r.picked):], r.picked)
        assert seen.isdisjoint(r.picked.tolist())  # never picked twice
        seen.update(r.picked.tolist())
        assert set(r.labeled.tolist()) == seen
        assert not set(r.labeled.tolist()) & set(r.test.tolist())  # test items stay hidden
        assert r.committee is not None
    # the same seed picks the same items; run_curve scores exactly these rounds
    again = list(rounds(digits, strategy, 0, 10, 15, 55, members=3))
    assert all(np.array_equal(a.labeled, b.labeled) for a, b in zip(out, again, strict=True))
    run = run_curve(digits, strategy, 0, 10, 15, 55, members=3)
    assert run.curve == [accuracy(digits, r) for r in out]
    assert run.representation == "pixels" and {r.representation for r in out} == {"pixels"}
    assert run.curve[-1] > 0.6  # ten classes: chance is 0.1
    # how far each round's predictions moved on the stop set since 20 or more labels before
    assert run.agreements[:2] == [None, None] and len(run.agreements) == len(out)
    assert all(a is not None and -1 <= a <= 1 for a in run.agreements[2:])


def _stop_set_predictions(data: Dataset, out: list[Round]) -> list[np.ndarray]:
    """Each round's predicted classes on seed 0's stop set, worked out here by hand."""
    from aldesk.al.stopping import stop_set
    from aldesk.services.simulate import stratified_split

    pool, _ = stratified_split(data.y, 0)
    sample = pool[stop_set(pool)]
    return [r.committee.classes[r.committee.predict_proba(data.x[sample]).mean(0).argmax(1)]
            for r in out]


def test_agreements_are_kappas_of_successive_rounds_on_the_stop_set(digits):
    from aldesk.al.stopping import cohen_kappa

    out = list(rounds(digits, "margin", 0, 10, 20, 70, members=3))
    predicted = _stop_set_predictions(digits, out)
    run = run_curve(digits, "margin", 0, 10, 20, 70, members=3)
    expected = [cohen_kappa(a, b) for a, b in itertools.pairwise(predicted)]
    assert run.agreements[1:] == pytest.approx(expected, abs=1e-5)
    assert len(set(np.round(expected, 3))) > 1  # not a constant


def test_stopped_at_reads_the_window_along_the_chain_of_comparisons():
    from aldesk.services.simulate import Run, stopped_at

    def run(agreements: list[float | None], compared: list[int | None]) -> Run:
        return Run([0.5] * len(agreements), 0.0, ["a"] * len(agreements), agreements, compared)

    assert stopped_at(run([None, 0.995, 0.999, 0.99], [None, 0, 1, 2])) == 3
    assert stopped_at(run([None, 0.995, 0.999, 0.98, 0.99, 0.991, 0.999],
                          [None, 0, 1, 2, 3, 4, 5])) == 6
    # batches of 5: each round compared with the one 20 labels (4 rounds) before; five
    # agreements over 0.99 in a row, but only two links back from the last: not yet
    every5 = run([None] * 4 + [0.995, 0.999, 0.999, 0.992, 0.999],
                 [None] * 4 + [0, 1, 2, 3, 4])
    assert stopped_at(every5) is None
    longer = run([*every5.agreements, *[0.999] * 4], [*every5.compared, 5, 6, 7, 8])
    assert stopped_at(longer) == 12  # 12 -> 8 -> 4 -> 0
    assert stopped_at(run([None], [None])) is None


def test_rounds_a_few_labels_apart_are_not_compared(digits):
    """Batches of 5: each round is compared with the round 20 labels before it, as a
    project's version is with the newest one trained on 20 fewer labels."""
    from aldesk.al.stopping import cohen_kappa

    out = list(rounds(digits, "random", 0, 10, 5, 50, members=3))
    predicted = _stop_set_predictions(digits, out)
    run = run_curve(digits, "random", 0, 10, 5, 50, members=3)
    assert [len(r.labeled) for r in out] == [10, 15, 20, 25, 30, 35, 40, 45, 50]
    assert run.agreements[:4] == [None] * 4  # 10-25 labels: nothing 20 labels before
    assert run.compared == [None] * 4 + [0, 1, 2, 3, 4]
    assert run.agreements[4:] == pytest.approx(
        [cohen_kappa(predicted[k - 4], predicted[k]) for k in range(4, 9)], abs=1e-5)


def test_a_run_compares_representations_once_by_cross_validation(digits, monkeypatch):
    """With candidates, a run starts with the first, and from 30 labels (two of each class) on
    uses whichever cross-validates better on its labels, without comparing again: later labels
    are the ones the model found hard, which would bias the comparison."""
    noise = np.random.default_rng(0).normal(size=digits.x.shape).astype(np.float32)
    starts_bad = Dataset(noise, digits.y, digits.class_names, "noise",
                         others={"pixels": digits.x})
    out = list(rounds(starts_bad, "auto", 0, 20, 20, 120, members=3))
    reps = [r.representation for r in out]
    switch = reps.index("pixels")
    assert reps[:switch] == ["noise"] * switch and set(reps[switch:]) == {"pixels"}
    counts = np.bincount(digits.y[out[switch].labeled], minlength=10)
    assert len(out[switch].labeled) >= 30 and counts.min() >= 2
    assert switch == 0 or np.bincount(digits.y[out[switch - 1].labeled], minlength=10).min() < 2
    assert accuracy(starts_bad, out[-1]) > 0.85  # scored in the representation it trained on
    import aldesk.services.representation as representation

    real, outcomes = representation.better_by_cv, []
    monkeypatch.setattr(representation, "better_by_cv", lambda candidates, y, start: (
        outcomes.append(real(candidates, y, start)) or outcomes[-1]))
    kept = list(rounds(Dataset(digits.x, digits.y, digits.class_names, "pixels",
                               others={"noise": noise}), "auto", 0, 20, 20, 120, members=3))
    assert {r.representation for r in kept} == {"pixels"}
    assert outcomes[-1] is not None and outcomes[-1][0] == "pixels"
    assert all(o is None for o in outcomes[:-1]) and len(outcomes) < len(kept)  # then never


def test_a_tie_between_representations_goes_where_a_projects_would(digits, monkeypatch):
    """The comparison sees the candidates in a project's order (pixels, ImageNet features,
    both), whatever the run started on: better_by_cv takes the first of equal scores as the
    best (the start still stays unless the best is clearly better), as in a project."""
    from aldesk.ml.ids import COMBINED, representation_id
    from aldesk.services.representation import better_by_cv

    pixels, features, both = (representation_id(n) for n in
                              ("pixels", "efficientnet_lite0", COMBINED))
    seen: list[list[str]] = []

    def tie(candidates, y, start):
        seen.append(list(candidates))
        return None if len(y) < 30 else (next(iter(candidates)), "a tie")

    import aldesk.services.representation as representation

    monkeypatch.setattr(representation, "better_by_cv", tie)
    for start, others in ((both, (features, pixels)), (features, (both, pixels))):
        data = Dataset(digits.x, digits.y, digits.class_names, start,
                       others=dict.fromkeys(others, digits.x))
        seen.clear()
        out = list(rounds(data, "random", 0, 20, 20, 60, members=3))
        assert seen[0] == [pixels, features, both]
        assert [r.representation for r in out] == [start, pixels, pixels]
    # and better_by_cv itself keeps the first of equal scores
    x = digits.x[:200]
    same = better_by_cv({"a": (x, None), "b": (x, None)}, digits.y[:200])
    assert same is not None and same[0] == "a"


def test_one_labeled_class_predicts_that_class(digits):
    first = next(rounds(digits, "random", 0, 1, 1, 1))
    assert first.committee is None and len(first.labeled) == 1
    expected = float((digits.y[first.test] == digits.y[first.labeled[0]]).mean())
    assert accuracy(digits, first) == pytest.approx(expected)


def test_loaded_dataset_names_each_row_by_its_path(tmp_path):
    folder = make_digit_folder(tmp_path / "digits", 30)
    data, _ = load_dataset(folder, "pixels")
    assert len(data.names) == len(data.y) == 30
    for name, y in zip(data.names, data.y, strict=True):
        assert name.split("/", 1)[0] == data.class_names[y]
        assert (folder / name).is_file()


def test_auto_representation_is_chosen_by_the_images_size_as_in_a_project(tmp_path):
    """`simulate` without --representation: small grey digits get pixels and ImageNet features
    side by side, photos ImageNet features (it once used pixels for every dataset)."""
    from sklearn.datasets import load_sample_images

    from aldesk.ml.ids import COMBINED, representation_id

    digits, _ = load_dataset(make_digit_folder(tmp_path / "digits", 20), "auto")
    assert digits.representation == representation_id(COMBINED)
    assert "small" in digits.representation_reason
    photos = tmp_path / "photos"
    for name, image in zip(("china", "flower"), load_sample_images().images, strict=True):
        (photos / name).mkdir(parents=True)
        for k in range(4):  # 160 x 120 crops of a real photograph
            crop = image[60 * k:60 * k + 120, 80 * k:80 * k + 160]
            Image.fromarray(crop).save(photos / name / f"{k}.jpg", quality=90)
    result = simulate(photos, ["random"], init=2, batch=2, budget=4, seeds=1)
    assert result["representation"].startswith("efficientnet_lite0/")
    assert "160 px" in result["representation_reason"]


def test_camera_tracks_are_near_duplicates_and_tracks_differ(tmp_path):
    scenes = bench("make_scenes")
    rng = np.random.default_rng(0)
    photo = Image.open(scenes.photo_path("sklearn", "china.jpg")).convert("RGB")
    first, second = (scenes.track(photo, 4, rng) for _ in range(2))
    assert all(im.size == scenes.FRAME for im in first + second)
    a = [np.asarray(im, np.float32).ravel() for im in first + second]
    within = np.corrcoef(a[0], a[1])[0, 1]
    across = abs(np.corrcoef(a[0], a[4])[0, 1])
    assert within > 0.8 and within > across + 0.2


def test_make_scenes_writes_class_folders_of_tracks(tmp_path, monkeypatch):
    scenes = bench("make_scenes")
    monkeypatch.setattr(scenes, "PHOTOS", {"temple": ("sklearn", "china.jpg"),
                                           "flower": ("sklearn", "flower.jpg")})
    assert scenes.make_scenes(tmp_path, per_class=10, frames_per_track=4) == 20
    names = sorted(p.name for p in (tmp_path / "temple").iterdir())
    assert len(names) == 10 and names[0] == "temple-0000-0.jpg" and names[-1] == "temple-0002-1.jpg"
    batches = bench("bench_batches")
    groups = np.array([batches.group_of(f"temple/{n}") for n in names])
    assert len(set(groups)) == 3 and groups[0] == "temple/temple-0000"
    # one batch of three frames of track 0, then one with a repeat of track 0 and track 1
    within, earlier, distinct = batches.redundancy(groups, [np.array([0, 1, 2]),
                                                            np.array([3, 4, 5])])
    assert (within, earlier, distinct) == (pytest.approx(1 / 3), pytest.approx(1 / 3), 2.0)


def _deb(path: Path, members: dict[str, bytes]) -> None:
    """A .deb as Debian builds one: an ar archive whose data.tar.xz holds `members`."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    parts = [("debian-binary", b"2.0\n"), ("control.tar.xz", b""), ("data.tar.xz",
                                                                    buf.getvalue())]
    with path.open("wb") as f:
        f.write(b"!<arch>\n")
        for name, data in parts:
            f.write(f"{name:<16}{0:<12}{0:<6}{0:<6}{100644:<8}{len(data):<10}`\n".encode())
            f.write(data + b"\n" * (len(data) % 2))


def test_make_fashion_mnist_reads_the_debian_package(tmp_path):
    import gzip
    import struct

    fm = bench("make_fashion_mnist")
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10, dtype=np.uint8), 3)  # 3 images of each class
    images = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = labels  # each image says its class
    idx = fm.IDX_DIR
    _deb(tmp_path / "fm.deb", {
        f"{idx}train-images-idx3-ubyte.gz": gzip.compress(
            struct.pack(">IIII", 2051, 30, 28, 28) + images.tobytes()),
        f"{idx}train-labels-idx1-ubyte.gz": gzip.compress(
            struct.pack(">II", 2049, 30) + labels.tobytes()),
        "usr/share/doc/dataset-fashion-mnist/copyright": b"MIT",
    })
    counts = fm.write_folder(tmp_path / "fm.deb", tmp_path / "out", per_class=2)
    assert counts == dict.fromkeys(fm.CLASSES, 2)
    for c, name in enumerate(fm.CLASSES):
        for png in (tmp_path / "out" / name).iterdir():
            pixels = np.asarray(Image.open(png))
            assert pixels.shape == (28, 28) and pixels[0, 0] == c
            assert any((pixels == im).all() for im in images[labels == c])
    with pytest.raises(ValueError, match=r"not a \.deb"):
        fm.write_folder(tmp_path / "out" / "bag" / "00000.png", tmp_path / "x", 1)
