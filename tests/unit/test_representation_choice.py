"""`auto` picks a representation by the images' size and colour, then by cross-validation, and
says why."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent.parent / "cli"))
from test_engine_cli import write_digits

from aldesk.ml.ids import COMBINED
from aldesk.services.ingest import sync_folder
from aldesk.services.representation import choose_representation
from aldesk.store import Project
from aldesk.store import annotations as ann
from aldesk.store import classes as cls
from aldesk.store import items as store_items


def test_small_grey_images_start_with_both_then_compare_by_cross_validation(tmp_path):
    write_digits(tmp_path / "d", (0, 1, 7), 14)
    with Project.create(tmp_path / "p") as p:
        ids = {c.name: c.id for c in cls.add_classes(p, ["0", "1", "7"])}
        sync_folder(p, tmp_path / "d")
        name, reason = choose_representation(p)
        assert name == "pixels+efficientnet_lite0" and "small (32 px) and grey" in reason
        for item in store_items.list_items(p):
            ann.record(p, item.id, "label", [ids[item.rel_path.split("/")[0]]], annotator="t")
        name, reason = choose_representation(p)
        assert name in ("pixels", "efficientnet_lite0", "pixels+efficientnet_lite0")
        assert reason.startswith("cross-validated accuracy") and "42 labels" in reason
        assert reason.count("(pixels") + reason.count("(efficientnet_lite0)") == 3  # all three
        assert "(compared once)" in reason and p.meta("representation_reason") == reason


def test_the_comparison_is_made_once_until_the_setting_changes(tmp_path, monkeypatch):
    """Labels the model picks later are hard for the representation that picked them; comparing
    on them again would favour the other one, so a project decides once."""
    import aldesk.services.representation as representation

    write_digits(tmp_path / "d", (0, 1), 20)
    with Project.create(tmp_path / "p") as p:
        ids = {c.name: c.id for c in cls.add_classes(p, ["0", "1"])}
        sync_folder(p, tmp_path / "d")
        items = store_items.list_items(p)
        for item in items[:30]:
            ann.record(p, item.id, "label", [ids[item.rel_path.split("/")[0]]], annotator="t")
        first = choose_representation(p)
        assert "30 labels" in first[1] and p.meta("representation_decided") == first[0]
        for item in items[30:]:
            ann.record(p, item.id, "label", [ids[item.rel_path.split("/")[0]]], annotator="t")
        compared = []
        real = representation._compare
        monkeypatch.setattr(representation, "_compare",
                            lambda *a: compared.append(1) or real(*a))
        assert choose_representation(p) == first and not compared
        with p.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES "
                         "('representation', 'pixels')")
        assert choose_representation(p) == ("pixels", "chosen for this project")
        with p.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES "
                         "('representation', 'auto')")
        name, reason = choose_representation(p)  # back to auto: compared afresh, on all labels
        assert compared and "40 labels" in reason and p.meta("representation_decided") == name


def test_the_start_is_kept_unless_another_is_clearly_better(monkeypatch):
    """On 40 labels two inputs differ by a few items by chance: the one in use is left only for
    one that is right where it is wrong beyond chance (McNemar's test at 5 %)."""
    import aldesk.services.train as train
    from aldesk.services.representation import better_by_cv, clearly_better

    def right_but(wrong: range) -> np.ndarray:
        out = np.ones(40, bool)
        out[list(wrong)] = False
        return out

    # only one right: 9 labels against 2 is chance at 5 % (chi-squared 3.27), 10 against 2 not
    assert not clearly_better(right_but(range(2)), right_but(range(2, 11)))
    assert clearly_better(right_but(range(2)), right_but(range(2, 12)))
    assert not clearly_better(right_but(range(2, 12)), right_but(range(2)))  # the other way

    y = np.repeat([0, 1], 20)
    outcomes: dict[int, np.ndarray] = {}
    monkeypatch.setattr(train, "cross_validated_correct",
                        lambda x, y, prep=None: outcomes[int(x[0, 0])])

    def compare(start: str | None, start_wrong: range) -> tuple[str, str] | None:
        outcomes.update({0: right_but(range(2)), 1: right_but(start_wrong)})
        return better_by_cv({"pixels": (np.zeros((40, 1)), None),
                             COMBINED: (np.ones((40, 1)), None)}, y, start)

    name, reason = compare(COMBINED, range(2, 11))  # 0.950 against 0.775: not clearly
    assert name == COMBINED and reason == (
        f"cross-validated accuracy 0.775 ({COMBINED}) against 0.950 (pixels) on 40 labels: "
        "no other clearly better (McNemar's test, 5 %)")
    assert compare(COMBINED, range(2, 12)) == (
        "pixels", f"cross-validated accuracy 0.950 (pixels) against 0.750 ({COMBINED}) on 40 "
        "labels")
    assert compare(None, range(2, 11))[0] == "pixels"  # no start: the best
    assert compare("pixels", range(2, 40))[0] == "pixels"  # the start is the best


def test_photos_start_with_imagenet_features(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(
            tmp_path / f"f{i}.jpg")
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, tmp_path)
        name, reason = choose_representation(p)
        assert name == "efficientnet_lite0" and "320 px" in reason


def test_small_colour_photos_start_with_imagenet_features(tmp_path):
    """32 px crops of a real colour photograph (CIFAR-like): grey pixels would drop the colour."""
    from sklearn.datasets import load_sample_image

    photo = load_sample_image("china.jpg")  # (427, 640, 3), ships with scikit-learn
    for i in range(12):
        y, x = divmod(i, 4)
        crop = Image.fromarray(photo[y * 100:y * 100 + 96, x * 150:x * 150 + 96])
        crop.resize((32, 32)).save(tmp_path / f"c{i}.png")
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, tmp_path)
        name, reason = choose_representation(p)
        assert name == "efficientnet_lite0" and "small (32 px) but in colour" in reason


def test_grey_glyphs_saved_as_rgb_still_start_as_grey(tmp_path):
    write_digits(tmp_path / "d", (0, 1, 7), 4)
    for path in (tmp_path / "d").rglob("*.png"):
        Image.open(path).convert("RGB").save(path)
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, tmp_path / "d")
        assert Image.open(next((tmp_path / "d").rglob("*.png"))).mode == "RGB"
        name, reason = choose_representation(p)
        assert name == "pixels+efficientnet_lite0" and "and grey" in reason


def test_the_look_at_the_images_is_taken_once_and_only_from_images_read(tmp_path, monkeypatch):
    import aldesk.services.representation as representation

    write_digits(tmp_path / "d", (0, 1), 3)
    with Project.create(tmp_path / "p") as p:
        sync_folder(p, tmp_path / "d")
        moved = tmp_path / "d-away"
        (tmp_path / "d").rename(moved)  # the folder is unplugged: nothing can be read
        name, reason = choose_representation(p)
        assert name == "pixels+efficientnet_lite0" and "none of a sample could be read" in reason
        assert not p.meta("representation_looks")
        moved.rename(tmp_path / "d")
        assert choose_representation(p)[1].endswith(
            "and grey: raw pixels and ImageNet features (EfficientNet-Lite0) side by side")
        monkeypatch.setattr(representation, "_in_colour", lambda *a: 1 / 0)  # not looked again
        assert "and grey" in choose_representation(p)[1]
