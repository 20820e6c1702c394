"""Dashboard: learning curve with the stopping advice, labels per class and the queue's score
histogram (pyqtgraph).

Callers pass plain data; this widget reads no files and touches no project.
"""

from __future__ import annotations

import html
import os

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPalette, QShowEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

# pyqtgraph picks whichever Qt binding it finds first; aldesk ships only PySide6.
os.environ["PYQTGRAPH_QT_LIB"] = "PySide6"
import pyqtgraph as pg

ACCURACY_COLOUR = "#4ea1e8"
AGREEMENT_COLOUR = "#e8a33d"
HISTOGRAM_COLOUR = "#7f9fc4"
FALLBACK_BAR_COLOUR = "#8c8c8c"
HISTOGRAM_BINS = 30
CURVE_NOTE = "The curve appears after the second model version."


class Dashboard(QWidget):
    """Three read-only plots that follow the widget's palette (dark or light)."""

    shown = Signal()  # the dashboard came into view (its owner refreshes it then)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._font = QFont(self.font())
        self._font.setPointSizeF(10)
        self._class_names: list[str] = []
        self._count_labels: list[pg.TextItem] = []
        self._layout = QGridLayout(self)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self._layout.setSpacing(8)
        self.built = False

    def build(self) -> None:
        """Creates the plots, once: when the widget is first shown or given data. pyqtgraph
        takes ~60 ms for the three, which opening a project need not wait for."""
        if self.built:
            return
        self.built = True  # first: the calls below that fill the plots come back here
        self.curve_view = self._make_plot("Learning curve")
        self.class_view = self._make_plot("Labeled images per class")
        self.score_view = self._make_plot("Scores of the unlabeled pool")
        curve = self.curve_view.getPlotItem()
        curve.showGrid(x=True, y=True, alpha=0.15)
        self.legend = curve.addLegend(offset=(-10, -10), labelTextSize="10pt")
        self.accuracy_item = curve.plot(
            [], [], name="accuracy (cross-validated)", pen=pg.mkPen(ACCURACY_COLOUR, width=2),
            symbol="o", symbolSize=7, symbolBrush=ACCURACY_COLOUR, symbolPen=None)
        self.agreement_item = curve.plot(
            [], [], name="agreement with an earlier model (κ)", symbol="s", symbolSize=5,
            pen=pg.mkPen(AGREEMENT_COLOUR, width=2, style=Qt.PenStyle.DashLine),
            symbolBrush=AGREEMENT_COLOUR, symbolPen=None)
        self.class_bars = pg.BarGraphItem(x=[], height=[], width=0.7, pen=None)
        self.class_view.addItem(self.class_bars)
        self.score_bars = pg.BarGraphItem(x0=[], x1=[], height=[], brush=HISTOGRAM_COLOUR,
                                          pen=QColor(HISTOGRAM_COLOUR).darker(160))
        self.score_view.addItem(self.score_bars)
        self.curve_note, self.class_note, self.score_note = (
            self._make_note(view) for view in (self.curve_view, self.class_view, self.score_view))
        self._set_axis_label(self.curve_view, "bottom", "labels")
        self._set_axis_label(self.curve_view, "left", "estimate")
        self._set_axis_label(self.class_view, "left", "labeled images")
        self._set_axis_label(self.score_view, "left", "unlabeled images")
        self.class_view.getViewBox().sigResized.connect(self._update_class_ticks)

        self.stopping = QLabel(self)
        self.stopping.setObjectName("stopping")
        self.stopping.setWordWrap(True)
        self.stopping.setFont(self._font)
        self.stopping.setContentsMargins(8, 0, 8, 0)
        self._layout.addWidget(self.curve_view, 0, 0, 1, 2)
        self._layout.addWidget(self.stopping, 1, 0, 1, 2)
        self._layout.addWidget(self.class_view, 2, 0)
        self._layout.addWidget(self.score_view, 2, 1)
        self._apply_palette()
        self.clear()

    def showEvent(self, event: QShowEvent) -> None:
        self.build()
        super().showEvent(event)
        self.shown.emit()

    # -- public API --------------------------------------------------------------------------

    def set_learning_curve(self, points: list[tuple[int, float | None, float | None]]) -> None:
        """One (labels used, accuracy estimate, kappa with the previous model) per version."""
        self.build()
        points = sorted(points, key=lambda p: p[0])
        acc = [(n, a) for n, a, _ in points if a is not None and np.isfinite(a)]
        agr = [(n, k) for n, _, k in points if k is not None and np.isfinite(k)]
        self.accuracy_item.setData([n for n, _ in acc], [a for _, a in acc])
        self.agreement_item.setData([n for n, _ in agr], [k for _, k in agr])
        xs = [p[0] for p in points] or [0]
        lo, hi = min(xs), max(xs)
        if hi - lo < 1:  # one version (or none): its label count in the middle of the axis
            x0, x1 = 0, max(2 * hi, 10)
        else:
            pad = (hi - lo) * 0.05
            x0, x1 = max(lo - pad, 0), hi + pad
        y0 = min([0.0, *(k for _, k in agr)])
        self.curve_view.setRange(xRange=(x0, x1), yRange=(y0 - 0.03, 1.03), padding=0)
        # the note keeps clear of the one point there may be: above it, or below a high one
        high = any(y > 0.6 for _, y in acc + agr)
        self._show_note(self.curve_note, CURVE_NOTE if len(points) < 2 else "",
                        (x0 + x1) / 2, y0 + (1.0 - y0) * (0.3 if high else 0.8))

    def set_stopping(self, advice: str) -> None:
        """The stopping advice under the learning curve ('' hides the line)."""
        self.build()
        self.stopping.setText(f"<b>When to stop:</b> {html.escape(advice)}" if advice else "")
        self.stopping.setVisible(bool(advice))

    def set_class_counts(self, counts: list[tuple[str, int, str]]) -> None:
        """One bar per class: (class name, labeled count, colour as '#rrggbb')."""
        self.build()
        self._class_names = [name for name, _, _ in counts]
        heights = [max(int(n), 0) for _, n, _ in counts]
        self.class_view.setToolTip("\n".join(
            f"{name}: {n:,}" for name, n in zip(self._class_names, heights, strict=True)))
        brushes = [pg.mkBrush(c if QColor(c).isValid() else FALLBACK_BAR_COLOUR)
                   for _, _, c in counts]
        self.class_bars.setOpts(x=np.arange(len(counts)), height=heights, width=0.7,
                                brushes=brushes)
        for item in self._count_labels:
            self.class_view.removeItem(item)
        self._count_labels = []
        top = max(heights, default=0) or 1
        text = self._text_colour()
        for i, n in enumerate(heights):
            label = pg.TextItem(f"{n:,}", color=text, anchor=(0.5, 1.0))
            label.setFont(self._font)
            label.setPos(i, n + top * 0.01)
            self.class_view.addItem(label)
            self._count_labels.append(label)
        self._integer_ticks(self.class_view, top)
        self.class_view.setRange(xRange=(-0.6, max(len(counts), 1) - 0.4),
                                 yRange=(0, top * 1.15), padding=0)
        self._update_class_ticks()
        self._show_note(self.class_note, "" if counts else "No images are labeled yet.",
                        max(len(counts), 1) / 2 - 0.5, top * 0.575)

    def set_scores(self, scores: np.ndarray, strategy: str, *, axis: str | None = None,
                   title: str = "Scores of the unlabeled pool") -> None:
        """Histogram of the unlabeled pool's scores under `strategy` (or of what `axis` says
        the values are)."""
        self.build()
        values = np.asarray(scores, dtype=np.float64).ravel()
        values = values[np.isfinite(values)]
        self._set_axis_label(self.score_view, "bottom", axis or f"score ({strategy})")
        self._set_title(self.score_view, f"{title} ({values.size:,})")
        if values.size == 0:
            self.score_bars.setOpts(x0=[], x1=[], height=[])
            self.score_view.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self._show_note(self.score_note, "No unlabeled images to score.", 0.5, 0.5)
            return
        lo, hi = float(values.min()), float(values.max())
        if hi - lo <= 1e-9 * max(1.0, abs(lo), abs(hi)):  # constant: one bar around the value
            half = max(abs(lo) * 0.05, 0.05)
            lo, hi = lo - half, hi + half
        heights, edges = np.histogram(values, bins=HISTOGRAM_BINS, range=(lo, hi))
        keep = heights > 0  # empty bins drawn would leave an outline along the axis
        self.score_bars.setOpts(x0=edges[:-1][keep], x1=edges[1:][keep], height=heights[keep])
        self._integer_ticks(self.score_view, int(heights.max()))
        self.score_view.setRange(xRange=(edges[0], edges[-1]),
                                 yRange=(0, max(int(heights.max()), 1) * 1.08), padding=0.01)
        self._show_note(self.score_note, "", 0, 0)

    def clear(self) -> None:
        """Empty all three plots."""
        self.build()
        self.set_learning_curve([])
        self.set_stopping("")
        self.set_class_counts([])
        self.set_scores(np.empty(0), "none")

    # -- internals ---------------------------------------------------------------------------

    def _make_plot(self, title: str) -> pg.PlotWidget:
        view = pg.PlotWidget()
        view.setAntialiasing(True)
        view.setMenuEnabled(False)
        view.setMouseEnabled(x=False, y=False)
        view.hideButtons()
        self._set_title(view, title)
        for name in ("left", "bottom"):
            axis = view.getAxis(name)
            axis.setStyle(tickFont=self._font, tickTextOffset=4, hideOverlappingLabels=False)
            axis.enableAutoSIPrefix(False)
        return view

    def _make_note(self, view: pg.PlotWidget) -> pg.TextItem:
        note = pg.TextItem("", anchor=(0.5, 0.5))
        note.setFont(self._font)
        view.addItem(note, ignoreBounds=True)
        return note

    def _show_note(self, note: pg.TextItem, text: str, x: float, y: float) -> None:
        note.setText(text, color=self._text_colour())
        note.setPos(x, y)
        note.setVisible(bool(text))

    def _integer_ticks(self, view: pg.PlotWidget, top: int) -> None:
        """Counts get whole-number ticks: no '0.5 images' on small charts."""
        if top < 8:
            view.getAxis("left").setTickSpacing(1, 1)
        else:
            view.getAxis("left").setTickSpacing()

    def _text_colour(self) -> QColor:
        return self.palette().color(QPalette.ColorRole.WindowText)

    def _update_class_ticks(self) -> None:
        """Class names under the bars, elided to the width each bar has on screen."""
        n = len(self._class_names)
        width = self.class_view.getViewBox().width() or self.class_view.width()
        room = max(int(width / max(n, 1)) - 6, 12)
        metrics = QFontMetrics(self._font)
        ticks = [(i, metrics.elidedText(name, Qt.TextElideMode.ElideRight, room))
                 for i, name in enumerate(self._class_names)]
        self.class_view.getAxis("bottom").setTicks([ticks, []])

    def _set_title(self, view: pg.PlotWidget, title: str) -> None:
        view.setProperty("aldesk_title", title)
        view.setTitle(title, color=self._text_colour(), size="11pt")

    def _set_axis_label(self, view: pg.PlotWidget, side: str, text: str) -> None:
        view.setLabel(side, text, color=self._text_colour().name(), **{"font-size": "10pt"})

    def _apply_palette(self) -> None:
        background = self.palette().color(QPalette.ColorRole.Window)
        text = self._text_colour()
        axis_line = QColor(text)
        axis_line.setAlpha(110)
        for view in (self.curve_view, self.class_view, self.score_view):
            view.setBackground(background)
            self._set_title(view, view.property("aldesk_title"))
            for side in ("left", "bottom"):
                axis = view.getAxis(side)
                axis.setPen(axis_line)
                axis.setTextPen(text)
                if axis.labelText:
                    self._set_axis_label(view, side, axis.labelText)
        self.legend.setLabelTextColor(text)
        for _sample, label in self.legend.items:
            label.setText(label.text, color=text, size="10pt")
        for item in (self.curve_note, self.class_note, self.score_note, *self._count_labels):
            item.setColor(text)

    def changeEvent(self, event: QEvent) -> None:  # Qt override
        if event.type() == QEvent.Type.PaletteChange and hasattr(self, "legend"):
            self._apply_palette()
        super().changeEvent(event)
