"""train, queue, stream and simulate from the command line, on real digits."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits


def write_digits(root: Path, classes: tuple[int, ...], per_class: int, offset: int = 0
                 ) -> list[Path]:
    digits = load_digits()
    written = []
    for c in classes:
        idx = np.flatnonzero(digits.target == c)[offset:offset + per_class]
        (root / str(c)).mkdir(parents=True, exist_ok=True)
        for i in idx:
            img = Image.fromarray((digits.images[i] * 255 / 16).astype(np.uint8))
            path = root / str(c) / f"d{i:04d}.png"
            img.resize((32, 32), Image.Resampling.BICUBIC).save(path)
            written.append(path)
    return written


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("digits")
    write_digits(root, (0, 1, 7), 40)
    return root


def test_simulate_writes_the_contract_json_and_a_plot_and_reuses_embeddings(run_cli, dataset,
                                                                             tmp_path):
    args = ("simulate", dataset, "--strategies", "auto,random", "--init", "6",
            "--batch", "6", "--budget", "24", "--seeds", "2", "--representation", "pixels")
    done = run_cli(*args, "--out", tmp_path / "r.json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("stop signal at ") == 2
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["budgets"] == [6, 12, 18, 24]
    for name in ("auto", "random"):
        curve = result["curves"][name]
        assert len(curve["mean"]) == 4 and len(curve["per_seed"]) == 2
        assert all(0 <= a <= 1 for a in curve["mean"])
        assert 0 <= result["aubc"][name] <= 1
        stop = result["stopping"][name]  # where stabilizing predictions would have stopped
        assert len(stop["labels"]) == len(stop["accuracy"]) == len(stop["agreements"]) == 2
        assert all(n is None or n in result["budgets"] for n in stop["labels"])
        assert stop["final_accuracy"] == [c[-1] for c in curve["per_seed"]]
        assert [len(a) for a in stop["agreements"]] == [4, 4]
    assert result["full_pool_accuracy"] > 0.9
    assert result["timing"]["embedded"] == 120
    with Image.open(tmp_path / "r.png") as plot:
        assert plot.size[0] >= 800
    again = run_cli(*args, "--out", tmp_path / "r2.json")
    assert again.returncode == 0
    second = json.loads((tmp_path / "r2.json").read_text())
    assert second["timing"]["embedded"] == 0 and second["timing"]["cached"] == 120
    assert second["curves"] == result["curves"]  # seeded: the same experiment


def test_simulate_bad_input(run_cli, dataset, tmp_path):
    cases = [
        ("simulate", tmp_path / "nope", "--out", tmp_path / "r.json"),
        ("simulate", dataset, "--strategies", "psychic", "--out", tmp_path / "r.json"),
        ("simulate", dataset, "--budget", "5000", "--representation", "pixels",
         "--out", tmp_path / "r.json"),
        ("simulate", dataset, "--init", "0", "--out", tmp_path / "r.json"),
        ("simulate", dataset, "--out", tmp_path / "r.png"),  # the plot would overwrite it
    ]
    for args in cases:
        done = run_cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_train_queue_and_stream(run_cli, tmp_path):
    folder = tmp_path / "frames"
    write_digits(folder, (0, 1, 7), 25)
    assert run_cli("new", tmp_path / "p", "--folder", folder, "--classes", "0,1,7"
                   ).returncode == 0
    too_few = run_cli("train", tmp_path / "p.aldesk", "--representation", "pixels")
    assert too_few.returncode == 2 and "two classes" in too_few.stderr
    first = run_cli("queue", tmp_path / "p.aldesk", "--top", "4", "--json")  # a cold start
    assert first.returncode == 0, first.stderr
    cold = json.loads(first.stdout)
    assert cold["model_version"] is None and cold["strategy"] == "typicality"
    assert [i["rank"] for i in cold["items"]] == [0, 1, 2, 3]
    assert all(i["predicted"] is None and Path(i["path"]).is_file() for i in cold["items"])
    assert "most typical" in run_cli("queue", tmp_path / "p.aldesk").stdout
    text = run_cli("info", tmp_path / "p.aldesk").stdout  # embedded, no model yet
    assert "model     none trained yet\nfeatures  pixels: chosen for this project" in text
    labels = tmp_path / "labels.csv"
    rows = [f"{c}/{p.name},{c}" for c in (0, 1, 7)
            for p in sorted((folder / str(c)).iterdir())[:5]]
    labels.write_text("path,label\n" + "\n".join(rows) + "\n")
    assert run_cli("import-labels", tmp_path / "p.aldesk", labels).returncode == 0

    refused = [("--strategy", "psychic"), ("--representation", f"torchscript:{tmp_path}/no.pt")]
    for option, value in refused:  # refused before anything is stored or remembered
        bad = run_cli("train", tmp_path / "p.aldesk", option, value, "--budget", "50")
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    info = json.loads(run_cli("info", tmp_path / "p.aldesk", "--json").stdout)
    assert info["models"] == [] and info["representation"]["setting"] == "pixels"
    assert info["stopping"]["budget"] is None
    done = run_cli("train", tmp_path / "p.aldesk", "--representation", "pixels")
    assert done.returncode == 0, done.stderr
    assert "model version 1: 15 labels" in done.stdout
    assert "60 unlabeled items ranked" in done.stdout
    queue = json.loads(run_cli("queue", tmp_path / "p.aldesk", "--top", "5", "--json").stdout)
    assert queue["model_version"] == 1 and len(queue["items"]) == 5
    labeled = {str(folder / r.split(",")[0]) for r in rows}
    for item in queue["items"]:
        assert item["path"] not in labeled
        assert item["predicted"] in {"0", "1", "7"} and item["strategy"] == "auto"
        assert sum(item["votes"].values()) == 10  # ten committee members
    assert queue["resolved"] == "margin_diversity"  # what auto stands for on pixels
    info = json.loads(run_cli("info", tmp_path / "p.aldesk", "--json").stdout)
    assert info["models"][0]["labels_used"] == 15
    assert info["representation"]["used"] == "pixels"
    assert info["stopping"]["agreements"] == [] and not info["stopping"]["stable"]
    assert info["metrics"]["per_class"] == {"0": 5, "1": 5, "7": 5}  # names, not class ids
    again = run_cli("train", tmp_path / "p.aldesk", "--budget", "100")  # same labels, again
    assert again.returncode == 0, again.stderr
    info = json.loads(run_cli("info", tmp_path / "p.aldesk", "--json").stdout)
    # 15 labels: no version 20 labels before to compare with
    assert info["stopping"]["agreements"] == [] and "20 labels apart" in info["stopping"]["note"]
    assert info["stopping"]["budget"] == 100 and "85 labels left" in info["stopping"]["note"]
    more = [f"{c}/{p.name},{c}" for c in (0, 1, 7)
            for p in sorted((folder / str(c)).iterdir())[5:7]]
    labels.write_text("path,label\n" + "\n".join(more) + "\n")
    assert run_cli("import-labels", tmp_path / "p.aldesk", labels).returncode == 0
    assert run_cli("train", tmp_path / "p.aldesk").returncode == 0
    # 6 labels later the predictions barely move whatever is left to learn: not compared
    info = json.loads(run_cli("info", tmp_path / "p.aldesk", "--json").stdout)
    assert info["stopping"]["agreements"] == [] and info["models"][-1]["labels_used"] == 21
    more += [f"{c}/{p.name},{c}" for c in (0, 1, 7)
             for p in sorted((folder / str(c)).iterdir())[7:12]]
    labels.write_text("path,label\n" + "\n".join(more) + "\n")
    assert run_cli("import-labels", tmp_path / "p.aldesk", labels).returncode == 0
    assert run_cli("train", tmp_path / "p.aldesk").returncode == 0
    info = json.loads(run_cli("info", tmp_path / "p.aldesk", "--json").stdout)
    assert len(info["stopping"]["agreements"]) == 1  # 36 labels against version 2's 15
    assert info["stopping"]["compared_versions"] == [[2, 4]]
    text = run_cli("info", tmp_path / "p.aldesk").stdout
    assert "version 2 against 4); 64 labels left of a budget of 100" in text
    changed, sampled = info["models"][-1]["metrics"]["predictions_changed"]
    assert sampled == 75 and f": {changed} of 75 sampled predictions changed, version" in text
    assert run_cli("train", tmp_path / "p.aldesk").returncode == 0  # the same labels again
    info = json.loads(run_cli("info", tmp_path / "p.aldesk", "--json").stdout)
    assert "agreement_with_previous" not in info["models"][-1]["metrics"]  # says nothing new
    assert info["stopping"]["compared_versions"] == [[2, 4]]

    arrivals = tmp_path / "robot"
    arrivals.mkdir()
    first = run_cli("stream", tmp_path / "p.aldesk", "--watch", arrivals, "--once")
    assert first.returncode == 0, first.stderr
    for path in write_digits(tmp_path / "new", (0, 1, 7), 10, offset=30):
        shutil.copy(path, arrivals / f"{path.parent.name}-{path.name}")
    done = run_cli("stream", tmp_path / "p.aldesk", "--watch", arrivals, "--once",
                   "--budget", "0.2")
    assert done.returncode == 0, done.stderr
    queued = [line for line in done.stdout.splitlines() if line.startswith("queued")]
    assert "30 arrived" in done.stdout and 1 <= len(queued) <= 0.2 * 30 + 1
    queue = json.loads(run_cli("queue", tmp_path / "p.aldesk", "--top", "40", "--json").stdout)
    streamed = [i for i in queue["items"] if i["strategy"] == "stream"]
    assert len(streamed) == len(queued)
    assert queue["items"][: len(streamed)] == streamed  # arrivals are asked first
    assert [i["rank"] for i in queue["items"]] == list(range(len(queue["items"])))
    for interval in ("nan", "-1", "0"):  # bad usage, not an internal error after one look
        bad = run_cli("stream", tmp_path / "p.aldesk", "--watch", arrivals, "--interval",
                      interval)
        assert bad.returncode == 2 and "--interval" in bad.stderr
