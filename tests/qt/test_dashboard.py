"""Dashboard widget: the three plots hold exactly the data they are given."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPalette

from aldesk.ui.dashboard import CURVE_NOTE, Dashboard

CURVE = [(40, 0.70, None), (100, 0.78, 0.61), (160, 0.84, 0.74), (220, 0.88, 0.83)]
CLASSES = [("cat", 12, "#1f77b4"), ("dog", 30, "#ff7f0e"), ("bird", 0, "#2ca02c")]


@pytest.fixture
def dash(qtbot) -> Dashboard:
    widget = Dashboard()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def xy(item) -> tuple[list[float], list[float]]:
    x, y = item.getData()
    return ([] if x is None else list(x)), ([] if y is None else list(y))


def bar_heights(bars) -> list[float]:
    return [float(h) for h in np.asarray(bars.opts["height"]).ravel()]


def tick_labels(dash: Dashboard) -> list[str]:
    ticks = dash.class_view.getAxis("bottom")._tickLevels
    return [label for _, label in ticks[0]] if ticks else []


def distinct_colours(widget) -> int:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    step = 7
    return len({image.pixel(x, y) for x in range(0, image.width(), step)
                for y in range(0, image.height(), step)})


# -- learning curve ------------------------------------------------------------------------------

def test_learning_curve_holds_accuracy_and_agreement(dash):
    dash.set_learning_curve(CURVE)
    assert xy(dash.accuracy_item) == ([40, 100, 160, 220], [0.70, 0.78, 0.84, 0.88])
    # The first version has no previous model: no agreement point for it.
    assert xy(dash.agreement_item) == ([100, 160, 220], [0.61, 0.74, 0.83])
    assert not dash.curve_note.isVisible()
    (x0, x1), (y0, y1) = dash.curve_view.getViewBox().viewRange()
    assert x0 <= 40 and x1 >= 220 and y0 <= 0.0 and y1 >= 1.0


def test_learning_curve_unsorted_input_and_missing_accuracy(dash):
    dash.set_learning_curve([(200, 0.9, 0.8), (50, None, None), (100, 0.8, float("nan"))])
    assert xy(dash.accuracy_item) == ([100, 200], [0.8, 0.9])
    assert xy(dash.agreement_item) == ([200], [0.8])


def test_learning_curve_one_point_shows_the_note(dash):
    dash.set_learning_curve([(40, 0.71, None)])
    assert xy(dash.accuracy_item) == ([40], [0.71])
    assert xy(dash.agreement_item) == ([], [])
    assert dash.curve_note.isVisible()
    assert dash.curve_note.textItem.toPlainText() == CURVE_NOTE
    (x0, x1), _ = dash.curve_view.getViewBox().viewRange()
    assert x0 < 40 < x1


def test_learning_curve_empty(dash):
    dash.set_learning_curve(CURVE)
    dash.set_learning_curve([])
    assert xy(dash.accuracy_item) == ([], [])
    assert xy(dash.agreement_item) == ([], [])
    assert dash.curve_note.isVisible()


def test_negative_kappa_stays_in_view(dash):
    dash.set_learning_curve([(40, 0.5, None), (80, 0.55, -0.2)])
    _, (y0, _) = dash.curve_view.getViewBox().viewRange()
    assert y0 <= -0.2


def test_stopping_advice_under_the_curve(dash):
    dash.set_stopping("predictions still change between model versions (agreement 0.610, "
                      "version 1 against 2); 60 labels left of a budget of <100>")
    assert dash.stopping.isVisibleTo(dash)
    assert dash.stopping.text().startswith("<b>When to stop:</b> predictions still change")
    assert "&lt;100&gt;" in dash.stopping.text()  # plain text, not markup
    dash.clear()
    assert not dash.stopping.isVisibleTo(dash)


# -- class distribution --------------------------------------------------------------------------

def test_class_counts_bars_colours_and_names(dash):
    dash.set_class_counts(CLASSES)
    assert bar_heights(dash.class_bars) == [12, 30, 0]
    assert list(dash.class_bars.opts["x"]) == [0, 1, 2]
    colours = [b.color().name() for b in dash.class_bars.opts["brushes"]]
    assert colours == ["#1f77b4", "#ff7f0e", "#2ca02c"]
    assert tick_labels(dash) == ["cat", "dog", "bird"]
    assert [t.textItem.toPlainText() for t in dash._count_labels] == ["12", "30", "0"]
    assert not dash.class_note.isVisible()
    _, (_, y1) = dash.class_view.getViewBox().viewRange()
    assert y1 > 30


def test_class_counts_empty_and_one_class(dash):
    dash.set_class_counts([])
    assert bar_heights(dash.class_bars) == []
    assert tick_labels(dash) == []
    assert dash.class_note.isVisible()
    dash.set_class_counts([("only", 5, "#123456")])
    assert bar_heights(dash.class_bars) == [5]
    assert tick_labels(dash) == ["only"]
    assert not dash.class_note.isVisible()


def test_bad_colour_falls_back_to_grey(dash):
    dash.set_class_counts([("x", 3, "not a colour")])
    assert dash.class_bars.opts["brushes"][0].color().isValid()


def test_long_class_names_are_shortened_to_fit(dash):
    names = [f"a rather long class name for finding number {i}" for i in range(12)]
    dash.set_class_counts([(n, i + 1, "#808080") for i, n in enumerate(names)])
    labels = tick_labels(dash)
    assert len(labels) == 12
    room = dash.class_view.getViewBox().width() / 12
    metrics = QFontMetrics(dash._font)
    for label in labels:
        assert label.endswith("…")
        assert metrics.horizontalAdvance(label) <= room + 2
    # The full names stay reachable.
    assert names[5] in dash.class_view.toolTip()


def test_short_names_are_not_shortened_after_a_resize(dash, qtbot):
    dash.set_class_counts(CLASSES)
    dash.resize(500, 400)
    qtbot.wait(20)
    assert tick_labels(dash) == ["cat", "dog", "bird"]


# -- score histogram -----------------------------------------------------------------------------

def test_scores_histogram(dash):
    scores = np.random.default_rng(0).beta(2, 5, 1500)
    dash.set_scores(scores, "margin")
    heights = bar_heights(dash.score_bars)
    assert sum(heights) == 1500
    assert 20 <= len(heights) <= 30
    assert min(dash.score_bars.opts["x0"]) == pytest.approx(scores.min())
    assert max(dash.score_bars.opts["x1"]) == pytest.approx(scores.max())
    assert dash.score_view.getAxis("bottom").labelText == "score (margin)"
    assert not dash.score_note.isVisible()


def test_scores_empty(dash):
    dash.set_scores(np.random.default_rng(0).random(50), "entropy")
    dash.set_scores(np.array([]), "entropy")
    assert bar_heights(dash.score_bars) == []
    assert dash.score_note.isVisible()
    assert dash.score_view.getAxis("bottom").labelText == "score (entropy)"


@pytest.mark.parametrize("value", [0.0, 0.37, 1e6, -3.0])
def test_scores_constant(dash, value):
    dash.set_scores(np.full(200, value, dtype=np.float32), "least confidence")
    heights = bar_heights(dash.score_bars)
    assert heights == [200]
    x0, x1 = dash.score_bars.opts["x0"][0], dash.score_bars.opts["x1"][0]
    assert x0 <= np.float32(value) <= x1


def test_scores_single_and_non_finite(dash):
    dash.set_scores(np.array([0.5]), "margin")
    assert bar_heights(dash.score_bars) == [1]
    dash.set_scores(np.array([0.1, np.nan, 0.9, np.inf]), "margin")
    assert sum(bar_heights(dash.score_bars)) == 2


def test_scores_100k_is_fast(dash):
    scores = np.random.default_rng(1).random(100_000).astype(np.float32)
    start = time.perf_counter()
    dash.set_scores(scores, "entropy")
    dash.grab()
    assert time.perf_counter() - start < 2.0
    assert sum(bar_heights(dash.score_bars)) == 100_000


# -- whole widget --------------------------------------------------------------------------------

def test_clear_resets_all_three(dash):
    dash.set_learning_curve(CURVE)
    dash.set_class_counts(CLASSES)
    dash.set_scores(np.random.default_rng(0).random(100), "margin")
    dash.clear()
    assert xy(dash.accuracy_item) == ([], [])
    assert xy(dash.agreement_item) == ([], [])
    assert bar_heights(dash.class_bars) == []
    assert bar_heights(dash.score_bars) == []
    assert tick_labels(dash) == []
    assert dash._count_labels == []
    assert all(n.isVisible() for n in (dash.curve_note, dash.class_note, dash.score_note))


def test_grab_is_not_blank(dash):
    dash.set_learning_curve(CURVE)
    dash.set_class_counts(CLASSES)
    dash.set_scores(np.random.default_rng(0).beta(2, 5, 1500), "margin")
    image = dash.grab().toImage()
    assert image.width() == 1000 and image.height() == 700
    assert distinct_colours(dash) > 8


def test_follows_a_dark_palette(dash, qtbot):
    palette = QPalette(dash.palette())
    palette.setColor(QPalette.ColorRole.Window, QColor("#2b2b2b"))
    palette.setColor(QPalette.ColorRole.WindowText, QColor("#e6e6e6"))
    dash.setPalette(palette)
    assert dash.curve_view.backgroundBrush().color().name() == "#2b2b2b"
    assert dash.curve_view.getAxis("left").textPen().color().name() == "#e6e6e6"
    assert dash.curve_view.getAxis("bottom").labelStyle["color"] == "#e6e6e6"


def test_import_uses_pyside6_only():
    code = (
        "import sys, aldesk.ui.dashboard, pyqtgraph\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('PyQt5', 'PyQt6', 'PySide2'))\n"
        "assert not bad, bad\n"
        "assert pyqtgraph.Qt.QT_LIB == 'PySide6', pyqtgraph.Qt.QT_LIB\n"
    )
    # Even a user's PYQTGRAPH_QT_LIB pointing elsewhere must not pull in another binding.
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYQTGRAPH_QT_LIB="PyQt5")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
