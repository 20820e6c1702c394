"""The viewer with its tool row (fit, 1:1, window presets, reset, overlay) and frame slider."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aldesk.io.render import Rendered
from aldesk.ui.viewer import ImageViewer


def _tool(text: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    b.setAutoRaise(True)
    return b


class ViewerPanel(QWidget):
    frame_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = ImageViewer()
        self.title = QLabel()
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        fit = _tool("Fit", "Fit the image to the window (F)")
        one = _tool("1:1", "One image pixel per screen pixel (Ctrl+1)")
        zin = _tool("+", "Zoom in (+ or the mouse wheel)")
        zout = _tool("−", "Zoom out (−)")
        self.presets = QComboBox()
        self.presets.setToolTip("Window presets (right-drag on the image to set your own)")
        self.presets.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.presets.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.presets.setMinimumContentsLength(12)
        self.reset = _tool("Reset window", "Back to the file's window (W)")
        self.overlay = _tool("Overlay", "Show or hide the text over the image")
        self.overlay.setCheckable(True)
        self.overlay.setChecked(True)
        fit.clicked.connect(self.viewer.fit)
        one.clicked.connect(self.viewer.actual_size)
        zin.clicked.connect(self.viewer.zoom_in)
        zout.clicked.connect(self.viewer.zoom_out)
        self.reset.clicked.connect(self.viewer.reset_window)
        self.overlay.toggled.connect(self.viewer.set_overlay_visible)
        self.presets.activated.connect(self._preset_picked)
        tools = QHBoxLayout()
        tools.setContentsMargins(8, 4, 8, 4)
        tools.addWidget(self.title, 1)
        for w in (fit, one, zin, zout, self.presets, self.reset, self.overlay):
            tools.addWidget(w)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self._slider_moved)
        self.frame_label = QLabel()
        frames = QHBoxLayout()
        frames.setContentsMargins(8, 0, 8, 4)
        frames.addWidget(QLabel("Frame"))
        frames.addWidget(self.slider, 1)
        frames.addWidget(self.frame_label)
        self._frames_row = QWidget()
        self._frames_row.setLayout(frames)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(tools)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(self._frames_row)
        self._frames_row.setVisible(False)
        self._grey = False

    def show_image(self, rendered: Rendered, title: str, warning: str | None,
                   keep_view: bool = False) -> None:
        self.viewer.set_image(rendered, keep_view=keep_view)
        self.viewer.set_warning(warning)
        self.title.setText(title)
        self._grey = rendered.values is not None
        self.reset.setEnabled(self._grey)
        self.presets.clear()
        names = [name for name, _ in self.viewer.presets()]
        self.presets.addItem("Presets" if names else "No presets")
        self.presets.addItems(names)
        self.presets.setEnabled(bool(names))
        many = rendered.frames > 1
        self._frames_row.setVisible(many)
        if many:
            self.slider.blockSignals(True)
            self.slider.setRange(0, rendered.frames - 1)
            self.slider.setValue(rendered.frame)
            self.slider.blockSignals(False)
            self.frame_label.setText(f"{rendered.frame + 1} / {rendered.frames}")

    def show_message(self, title: str, message: str) -> None:
        self.title.setText(title)
        self.viewer.set_warning(None)
        self.viewer.clear(message)
        self._frames_row.setVisible(False)

    def _preset_picked(self, index: int) -> None:
        if index > 0:
            self.viewer.apply_preset(self.presets.itemText(index))
        self.presets.setCurrentIndex(0)

    def _slider_moved(self, value: int) -> None:
        self.frame_label.setText(f"{value + 1} / {self.slider.maximum() + 1}")
        self.frame_changed.emit(value)

    def step_frame(self, delta: int) -> None:
        if self._frames_row.isVisible():
            self.slider.setValue(self.slider.value() + delta)
