"""The image viewer: one rendered item on a dark background, zoom, pan and window/level.

The widget only paints. It does no file I/O and starts no threads: a right-drag asks for a new
window through `window_requested`, the owner computes the pixels where it likes (a loader
thread, with io.rewindow) and hands them back with `set_pixels`. When nothing listens to the
signal, the widget re-windows synchronously itself (`apply_window_now`), fine for small images.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMetaMethod, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from aldesk.io.display import CT_PRESETS, Window
from aldesk.io.render import Rendered
from aldesk.io.rewindow import drag_window, rewindow

BACKGROUND = QColor("#111111")
BANNER = QColor("#f2b01e")
BANNER_TEXT = QColor("#1a1a1a")
MESSAGE_TEXT = QColor("#c8c8c8")
MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
WHEEL_FACTOR = 1.25  # per wheel notch
BUTTON_FACTOR = 1.5  # zoom_in / zoom_out
MARGIN = 8


def to_qimage(pixels: np.ndarray) -> tuple[QImage, np.ndarray]:
    """A QImage over uint8 grey (H, W) or RGB (H, W, 3) pixels, and the buffer it reads.

    The image shares the pixels' memory, which may be read-only (decoded images are not
    copied): only read or convert it (QPixmap.fromImage), never paint on it."""
    if pixels.dtype != np.uint8 or not (
            pixels.ndim == 2 or (pixels.ndim == 3 and pixels.shape[2] == 3)):
        raise ValueError(f"expected uint8 (H, W) or (H, W, 3) pixels, got {pixels.dtype}"
                         f" {pixels.shape}")
    buffer = np.ascontiguousarray(pixels)
    h, w = buffer.shape[:2]
    fmt = (QImage.Format.Format_Grayscale8 if buffer.ndim == 2
           else QImage.Format.Format_RGB888)
    return QImage(buffer.data, w, h, int(buffer.strides[0]), fmt), buffer


#: Largest enlargement that is still drawn smoothed when fitted.
SMOOTH_UP_TO = 4.0


class ImageViewer(QWidget):
    """Shows a `Rendered` item. Left-drag pans, wheel zooms about the cursor, right-drag
    windows grey images, double-click fits."""

    #: A Window the user asked for (drag, preset, reset): compute the pixels, `set_pixels`.
    window_requested = Signal(object)
    #: The scale factor, after every zoom or fit.
    zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(64, 64)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._rendered: Rendered | None = None
        self._buffer: np.ndarray | None = None  # the pixels on screen, kept with their QImage
        self._qimage: QImage | None = None
        self._pixmap: QPixmap | None = None
        self._scaled: tuple[tuple[int, int, int], QPixmap] | None = None
        self._window: Window | None = None
        self._value_range: tuple[float, float] | None = None
        self._scale = 1.0
        self._offset = QPointF(0.0, 0.0)
        self._fit_mode = True
        self._message = ""
        self._warning: str | None = None
        self._overlay = True
        self._drag: tuple[Qt.MouseButton, QPointF, QPointF, Window | None] | None = None

    # --- content -------------------------------------------------------------------------
    def set_image(self, rendered: Rendered, *, keep_view: bool = False) -> None:
        """Show `rendered`; fitted to the widget unless `keep_view` (same zoom and pan)."""
        had_image = self._pixmap is not None
        self._rendered, self._message, self._value_range = rendered, "", None
        self._show(rendered.pixels, rendered.window)
        if keep_view and had_image:
            self.update()
        else:
            self.fit()

    def set_pixels(self, pixels: np.ndarray, window: Window | None) -> None:
        """New pixels for the current item (re-windowed elsewhere); the view is kept."""
        if self._rendered is not None:
            self._show(pixels, window)
            self.update()

    def clear(self, message: str = "") -> None:
        """No image (and no warning); `message` (a load error, say) centred instead."""
        self._rendered = self._qimage = self._pixmap = self._buffer = None
        self._scaled = self._window = self._value_range = self._drag = self._warning = None
        self._message = message
        self.update()

    def _show(self, pixels: np.ndarray, window: Window | None) -> None:
        self._qimage, self._buffer = to_qimage(pixels)
        self._pixmap = QPixmap.fromImage(self._qimage)
        self._scaled, self._window = None, window

    @property
    def rendered(self) -> Rendered | None:
        return self._rendered

    @property
    def pixels(self) -> np.ndarray | None:
        """The 8-bit pixels on screen."""
        return self._buffer

    @property
    def message(self) -> str:
        return self._message

    # --- window / level ------------------------------------------------------------------
    @property
    def current_window(self) -> Window | None:
        """The window of the pixels on screen (None: as stored, or the file's VOI LUT)."""
        return self._window

    def can_window(self) -> bool:
        return self._rendered is not None and self._rendered.values is not None

    def value_range(self) -> tuple[float, float]:
        """(min, max) of the grey values, which set the drag's sensitivity."""
        values = self._rendered.values if self._rendered is not None else None
        if self._value_range is None and values is not None and values.size:
            self._value_range = (float(np.nanmin(values)), float(np.nanmax(values)))
        return self._value_range or (0.0, 255.0)

    def apply_window_now(self, window: Window | None) -> None:
        """Re-window here, synchronously (None: the item's default view)."""
        if not self.can_window():
            return
        r = self._rendered
        if window is None and r.default_window is None:
            self.set_pixels(r.pixels, r.window)  # the file's VOI LUT, as first shown
            return
        window = window or r.default_window
        self.set_pixels(rewindow(r.values, window, r.invert), window)

    def request_window(self, window: Window) -> None:
        """Ask the owner for `window`; applied here when nobody listens."""
        if not self.can_window():
            return
        self.window_requested.emit(window)
        if not self.isSignalConnected(QMetaMethod.fromSignal(self.window_requested)):
            self.apply_window_now(window)

    def reset_window(self) -> None:
        """Back to the item's default window (a file whose default is its VOI LUT and no
        window: the pixels first shown, restored here without asking)."""
        if self._rendered is None:
            return
        if self._rendered.default_window is None:
            self.apply_window_now(None)
        else:
            self.request_window(self._rendered.default_window)

    def presets(self) -> list[tuple[str, Window]]:
        """Named windows for this item: the CT presets for a CT, else none."""
        r = self._rendered
        if r is None or r.values is None or r.modality.upper() != "CT":
            return []
        return [(name, Window(c, w)) for name, (c, w) in CT_PRESETS.items()]

    def apply_preset(self, name: str) -> None:
        for preset, window in self.presets():
            if preset.lower() == name.lower():
                self.request_window(window)
                return
        raise KeyError(f"no window preset {name!r} for this image")

    # --- view ----------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self._scale

    def image_rect(self) -> QRectF:
        """Where the image lies in widget coordinates (empty without an image)."""
        if self._pixmap is None:
            return QRectF()
        w, h = self._pixmap.width(), self._pixmap.height()
        return QRectF(self._offset.x(), self._offset.y(), w * self._scale, h * self._scale)

    def _content_rect(self) -> QRectF:
        """The widget below the warning banner."""
        return QRectF(self.rect()).adjusted(0, self._banner_height(), 0, 0)

    def fit(self) -> None:
        """The whole image in the widget, centred (kept so on resize)."""
        self._fit_mode = True
        if self._pixmap is None:
            self.update()
            return
        area = self._content_rect()
        w, h = self._pixmap.width(), self._pixmap.height()
        scale = min(area.width() / max(w, 1), area.height() / max(h, 1))
        self._scale = min(max(scale, MIN_ZOOM), MAX_ZOOM)
        self._offset = QPointF(area.center().x() - w * self._scale / 2,
                               area.center().y() - h * self._scale / 2)
        self.update()
        self.zoom_changed.emit(self._scale)

    def actual_size(self) -> None:
        """One image pixel per screen pixel, about the centre."""
        self.zoom_by(1.0 / self._scale)

    def zoom_in(self) -> None:
        self.zoom_by(BUTTON_FACTOR)

    def zoom_out(self) -> None:
        self.zoom_by(1.0 / BUTTON_FACTOR)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Scale by `factor`, keeping the image point under `anchor` (default: centre) put."""
        if self._pixmap is None:
            return
        anchor = self._content_rect().center() if anchor is None else anchor
        scale = min(max(self._scale * factor, MIN_ZOOM), MAX_ZOOM)
        ratio = scale / self._scale
        self._offset = anchor - (anchor - self._offset) * ratio
        self._scale, self._fit_mode = scale, False
        self.update()
        self.zoom_changed.emit(self._scale)

    # --- overlay and banner --------------------------------------------------------------
    @property
    def overlay_visible(self) -> bool:
        return self._overlay

    def set_overlay_visible(self, visible: bool) -> None:
        self._overlay = bool(visible)
        self.update()

    @property
    def warning(self) -> str | None:
        return self._warning

    def set_warning(self, text: str | None) -> None:
        """A banner along the top (e.g. burned-in patient text); None or "" hides it."""
        self._warning = text or None
        if self._fit_mode:
            self.fit()
        self.update()

    def _banner_height(self) -> int:
        return QFontMetrics(self.font()).height() + 10 if self._warning else 0

    def overlay_lines(self) -> tuple[list[str], list[str]]:
        """(top-left, bottom-left) overlay text."""
        r = self._rendered
        if r is None:
            return [], []
        top = [f"frame {r.frame + 1}/{r.frames}"] if r.frames > 1 else []
        bottom = []
        if self._window is not None:
            bottom.append(self._window.describe())
        elif r.values is not None:
            bottom.append("VOI LUT")
        bottom.append(f"zoom {self._scale * 100:.0f}%")
        return top, bottom

    # --- events --------------------------------------------------------------------------
    def sizeHint(self) -> QSize:
        return QSize(640, 480)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120.0
        if self._pixmap is None or steps == 0:
            event.ignore()
            return
        self.zoom_by(WHEEL_FACTOR**steps, event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        button = event.button()
        if self._pixmap is None or button not in (Qt.MouseButton.LeftButton,
                                                  Qt.MouseButton.RightButton):
            super().mousePressEvent(event)
            return
        start: Window | None = None
        if button == Qt.MouseButton.LeftButton:
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif not self.can_window():
            event.ignore()
            return
        else:
            start = self._window or self._rendered.default_window
            if start is None:  # a VOI LUT view: start from the whole range
                lo, hi = self.value_range()
                start = Window((lo + hi) / 2, max(hi - lo, 1.0))
        self._drag = (button, event.position(), QPointF(self._offset), start)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is None:
            return
        button, origin, offset, start = self._drag
        delta = event.position() - origin
        if button == Qt.MouseButton.LeftButton:
            self._offset, self._fit_mode = offset + delta, False
            self.update()
        elif start is not None:
            window = drag_window(start, delta.x(), delta.y(), self.value_range())
            if window != self._window:
                self.request_window(window)
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None and event.button() == self._drag[0]:
            self._drag = None
            self.unsetCursor()
        event.accept()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.fit()

    # --- painting ------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._pixmap is not None:
            self._paint_image(painter)
            if self._overlay:
                self._paint_overlay(painter)
        elif self._message:
            painter.setPen(MESSAGE_TEXT)
            box = self._content_rect().adjusted(2 * MARGIN, 0, -2 * MARGIN, 0)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self._message)
        if self._warning:
            self._paint_banner(painter)
        painter.end()

    def _paint_image(self, painter: QPainter) -> None:
        pixmap, target = self._pixmap, self.image_rect()
        if self._scale < 1.0:  # zoomed out: area-averaged, cached until pixels or zoom change
            size = (max(1, round(target.width())), max(1, round(target.height())))
            key = (pixmap.cacheKey(), *size)
            if self._scaled is None or self._scaled[0] != key:
                scaled = pixmap.scaled(QSize(*size), Qt.AspectRatioMode.IgnoreAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
                self._scaled = (key, scaled)
            painter.drawPixmap(target.topLeft(), self._scaled[1])
            return
        visible = target.intersected(QRectF(self.rect()))
        if visible.isEmpty():
            return
        s = self._scale
        source = QRectF((visible.x() - target.x()) / s, (visible.y() - target.y()) / s,
                        visible.width() / s, visible.height() / s)
        # Fitted and enlarged a little: interpolated, as a reading view. Zoomed in by hand, or a
        # tiny image blown up (a 32-px glyph at 25x is a blur when smoothed): the pixels.
        smooth = self._fit_mode and s <= SMOOTH_UP_TO
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, smooth)
        painter.drawPixmap(visible, pixmap, source)

    def _paint_overlay(self, painter: QPainter) -> None:
        top, bottom = self.overlay_lines()
        fm = QFontMetrics(self.font())
        self._text_block(painter, fm, top, self._banner_height() + MARGIN)
        self._text_block(painter, fm, bottom,
                         self.height() - MARGIN - len(bottom) * fm.lineSpacing())

    @staticmethod
    def _text_block(painter: QPainter, fm: QFontMetrics, lines: list[str], top: float) -> None:
        """White lines with a dark shadow on a translucent box: readable on any image."""
        if not lines:
            return
        width = max(fm.horizontalAdvance(line) for line in lines)
        box = QRectF(MARGIN - 4, top - 3, width + 8, len(lines) * fm.lineSpacing() + 6)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 130))
        painter.drawRoundedRect(box, 3, 3)
        y = top + fm.ascent()
        for line in lines:
            painter.setPen(QColor(0, 0, 0, 220))
            painter.drawText(QPointF(MARGIN + 1, y + 1), line)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(QPointF(MARGIN, y), line)
            y += fm.lineSpacing()

    def _paint_banner(self, painter: QPainter) -> None:
        band = QRectF(0, 0, self.width(), self._banner_height())
        painter.fillRect(band, BANNER)
        painter.setPen(BANNER_TEXT)
        font = QFont(self.font())
        font.setBold(True)
        painter.setFont(font)
        text = QFontMetrics(font).elidedText(
            self._warning or "", Qt.TextElideMode.ElideRight, self.width() - 2 * MARGIN)
        painter.drawText(band.adjusted(MARGIN, 0, -MARGIN, 0),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, text)
