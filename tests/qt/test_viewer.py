"""The image viewer: fit, zoom, pan, window/level by right-drag, presets, overlay, banner."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from aldesk.io.display import CT_PRESETS, Window
from aldesk.io.render import Rendered, render
from aldesk.ui.viewer import ImageViewer

BUNDLED = Path(os.path.dirname(get_testdata_file("CT_small.dcm")))
W, H = 400, 300


@pytest.fixture
def viewer(qtbot) -> ImageViewer:
    widget = ImageViewer()
    qtbot.addWidget(widget)
    widget.resize(W, H)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture(scope="module")
def ct() -> Rendered:
    return render(BUNDLED / "CT_small.dcm")  # 128 x 128, CT


def rgb_image() -> Rendered:
    pixels = np.zeros((60, 80, 3), np.uint8)
    pixels[..., 0] = 220
    pixels[:, :40, 1] = 200
    return Rendered(pixels, "image", 0, 1, None, None)


def mouse(widget: ImageViewer, kind: QEvent.Type, button: Qt.MouseButton, pos: QPointF,
          buttons: Qt.MouseButton) -> None:
    event = QMouseEvent(kind, pos, widget.mapToGlobal(pos), button, buttons,
                        Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def drag(widget: ImageViewer, button: Qt.MouseButton, start: QPointF, end: QPointF) -> None:
    mouse(widget, QEvent.Type.MouseButtonPress, button, start, button)
    middle = (start + end) / 2
    for pos in (middle, end):
        mouse(widget, QEvent.Type.MouseMove, Qt.MouseButton.NoButton, pos, button)
    mouse(widget, QEvent.Type.MouseButtonRelease, button, end, Qt.MouseButton.NoButton)


def wheel(widget: ImageViewer, pos: QPointF, notches: int) -> None:
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def shot(widget: ImageViewer) -> QImage:
    return widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)


def rgb(image: QImage, x: float, y: float) -> tuple[int, int, int]:
    c = image.pixelColor(int(x), int(y))
    return c.red(), c.green(), c.blue()


def test_fit_then_zoom_in_out_and_actual_size(viewer, ct):
    viewer.set_image(ct)
    fitted = min(W / 128, H / 128)
    assert viewer.zoom == pytest.approx(fitted)
    rect = viewer.image_rect()
    assert rect.center().x() == pytest.approx(W / 2) and rect.center().y() == pytest.approx(H / 2)
    assert rect.height() == pytest.approx(H)
    viewer.zoom_in()
    assert viewer.zoom > fitted
    assert viewer.image_rect().center().x() == pytest.approx(W / 2)  # about the centre
    viewer.zoom_out()
    viewer.zoom_out()
    assert viewer.zoom < fitted
    viewer.actual_size()
    assert viewer.zoom == 1.0
    assert viewer.image_rect().width() == 128
    viewer.fit()
    assert viewer.zoom == pytest.approx(fitted)


def test_fit_follows_resize_until_the_user_zooms(viewer, ct, qtbot):
    viewer.set_image(ct)
    viewer.resize(256, 256)
    qtbot.waitUntil(lambda: viewer.zoom == pytest.approx(2.0))
    viewer.zoom_in()
    zoom = viewer.zoom
    viewer.resize(300, 300)
    qtbot.wait(10)
    assert viewer.zoom == zoom


def test_wheel_zooms_about_the_cursor(viewer, ct):
    viewer.set_image(ct)
    before = viewer.zoom
    cursor = QPointF(150, 100)
    rect = viewer.image_rect()
    under = (cursor - rect.topLeft()) / before  # the image point under the cursor
    wheel(viewer, cursor, 2)
    assert viewer.zoom == pytest.approx(before * 1.25**2)
    after = viewer.image_rect().topLeft() + under * viewer.zoom
    assert after.x() == pytest.approx(cursor.x()) and after.y() == pytest.approx(cursor.y())
    wheel(viewer, cursor, -2)
    assert viewer.zoom == pytest.approx(before)


def test_left_drag_pans(viewer, ct):
    viewer.set_image(ct)
    before = viewer.image_rect()
    drag(viewer, Qt.MouseButton.LeftButton, QPointF(200, 150), QPointF(230, 110))
    after = viewer.image_rect()
    assert after.x() - before.x() == pytest.approx(30)
    assert after.y() - before.y() == pytest.approx(-40)
    assert after.size() == before.size()


def test_right_drag_asks_for_a_wider_window_when_dragging_right(viewer, ct, qtbot):
    viewer.set_image(ct)
    start = viewer.current_window
    asked: list[Window] = []
    viewer.window_requested.connect(asked.append)
    drag(viewer, Qt.MouseButton.RightButton, QPointF(200, 150), QPointF(300, 150))
    assert asked, "no window requested"
    assert asked[-1].width > start.width and asked[-1].center == pytest.approx(start.center)
    assert viewer.current_window == start  # the owner computes; nothing changed yet
    drag(viewer, Qt.MouseButton.RightButton, QPointF(200, 150), QPointF(200, 50))
    assert asked[-1].center < start.center and asked[-1].width == start.width


def test_owner_hands_back_pixels_with_set_pixels(viewer, ct):
    viewer.set_image(ct)
    viewer.zoom_in()
    zoom, rect = viewer.zoom, viewer.image_rect()
    lung = render(BUNDLED / "CT_small.dcm", window=Window(-600, 1500))
    viewer.set_pixels(lung.pixels, lung.window)
    assert viewer.current_window == Window(-600, 1500)
    assert np.array_equal(viewer.pixels, lung.pixels)
    assert viewer.zoom == zoom and viewer.image_rect() == rect


def test_without_a_listener_the_drag_rewindows_here(viewer, ct):
    viewer.set_image(ct)
    before = viewer.pixels.copy()
    drag(viewer, Qt.MouseButton.RightButton, QPointF(200, 150), QPointF(120, 150))
    window = viewer.current_window
    assert window.width < ct.default_window.width
    assert np.array_equal(viewer.pixels, render(BUNDLED / "CT_small.dcm", window=window).pixels)
    assert not np.array_equal(viewer.pixels, before)


def test_apply_window_now_matches_render(viewer, ct):
    viewer.set_image(ct)
    viewer.apply_window_now(Window(40, 80))
    assert np.array_equal(viewer.pixels,
                          render(BUNDLED / "CT_small.dcm", window=Window(40, 80)).pixels)


def test_right_drag_on_a_colour_image_asks_nothing(viewer):
    viewer.set_image(rgb_image())
    asked: list[Window] = []
    viewer.window_requested.connect(asked.append)
    drag(viewer, Qt.MouseButton.RightButton, QPointF(200, 150), QPointF(300, 150))
    viewer.reset_window()
    assert asked == [] and viewer.presets() == []


def test_reset_asks_for_the_default_window(viewer, ct, qtbot):
    viewer.set_image(ct)
    viewer.apply_window_now(Window(40, 80))
    with qtbot.waitSignal(viewer.window_requested, timeout=1000) as signal:
        viewer.reset_window()
    assert signal.args == [ct.default_window]


def test_ct_presets(viewer, ct, qtbot):
    viewer.set_image(ct)
    presets = dict(viewer.presets())
    assert set(presets) == set(CT_PRESETS)
    assert presets["lung"] == Window(-600, 1500)
    with qtbot.waitSignal(viewer.window_requested, timeout=1000) as signal:
        viewer.apply_preset("Bone")
    assert signal.args == [Window(400, 1800)]
    with pytest.raises(KeyError):
        viewer.apply_preset("no such preset")
    viewer.set_image(render(BUNDLED / "MR_small.dcm"))
    assert viewer.presets() == []


def test_background_dark_image_area_not(viewer, ct):
    viewer.set_image(ct)
    image = shot(viewer)
    rect = viewer.image_rect()
    assert rect.left() > 20
    assert max(rgb(image, 5, H / 2)) < 30  # the dark background beside the image
    assert max(rgb(image, rect.center().x(), rect.top() + 40)) > 80  # the vertebra, bright


def test_colour_pixels_shown_in_colour(viewer):
    viewer.set_image(rgb_image())
    image = shot(viewer)
    rect = viewer.image_rect()
    left = rgb(image, rect.left() + rect.width() / 4, rect.center().y())
    right = rgb(image, rect.right() - rect.width() / 4, rect.center().y())
    assert left[0] > 200 and left[1] > 180 and left[2] < 20
    assert right[0] > 200 and right[1] < 20 and right[2] < 20


def test_overlay_text_and_toggle(viewer, ct):
    viewer.set_image(ct)
    viewer.apply_window_now(Window(40, 400))
    top, bottom = viewer.overlay_lines()
    assert top == [] and bottom[0] == "C 40 / W 400" and bottom[1].endswith("%")
    corner = (8, H - 40, 90, 34)  # bottom-left, over the dark background

    def white_pixels() -> int:
        image = shot(viewer)
        return sum(min(rgb(image, x, y)) > 200 for x in range(corner[0], corner[2])
                   for y in range(corner[1], corner[1] + corner[3]))

    assert viewer.overlay_visible and white_pixels() > 20
    viewer.set_overlay_visible(False)
    assert not viewer.overlay_visible and white_pixels() == 0


def test_frame_overlay_for_multiframe(viewer, ct):
    viewer.set_image(replace(ct, frame=2, frames=30))
    assert viewer.overlay_lines()[0] == ["frame 3/30"]


def test_warning_banner(viewer, ct):
    viewer.set_image(ct)
    viewer.set_warning("Likely burned-in patient text: do not share screenshots")
    image = shot(viewer)
    red, green, blue = rgb(image, W - 3, 3)
    assert red > 200 and 120 < green < 210 and blue < 80  # amber
    assert viewer.image_rect().top() >= 15  # the image is fitted below the banner
    assert viewer.warning.startswith("Likely")
    viewer.set_warning(None)
    assert max(rgb(shot(viewer), W - 3, 3)) < 30
    assert viewer.image_rect().top() == pytest.approx(0)


def test_clear_shows_a_message_instead_of_the_image(viewer, ct):
    viewer.set_image(ct)
    viewer.clear("cannot decode the pixel data")
    assert viewer.image_rect().isEmpty() and viewer.pixels is None
    assert viewer.message == "cannot decode the pixel data"
    image = shot(viewer)
    text_row = [rgb(image, x, H / 2) for x in range(W)]
    lit = sum(max(c) > 120 for c in text_row)
    assert 0 < lit < W / 2, "the message is drawn, centred, over the dark background"
    assert max(rgb(image, 5, 5)) < 30
    viewer.zoom_in()  # harmless without an image
    drag(viewer, Qt.MouseButton.LeftButton, QPointF(10, 10), QPointF(50, 50))


def test_keep_view_keeps_zoom_and_pan(viewer, ct):
    viewer.set_image(ct)
    viewer.zoom_in()
    drag(viewer, Qt.MouseButton.LeftButton, QPointF(200, 150), QPointF(210, 160))
    zoom, rect = viewer.zoom, viewer.image_rect()
    viewer.set_image(replace(ct, frame=1), keep_view=True)
    assert viewer.zoom == zoom and viewer.image_rect() == rect
    viewer.set_image(ct)
    assert viewer.zoom == pytest.approx(min(W / 128, H / 128))


def test_bad_pixels_are_refused(viewer, ct):
    viewer.set_image(ct)
    with pytest.raises(ValueError):
        viewer.set_pixels(np.zeros((4, 4), np.uint16), None)
    with pytest.raises(ValueError):
        viewer.set_pixels(np.zeros((4, 4, 4), np.uint8), None)


def test_voi_lut_file_drags_from_its_range_and_resets_to_the_lut(viewer, tmp_path):
    import pydicom
    from pydicom.dataset import Dataset

    ds = pydicom.dcmread(BUNDLED / "MR_small.dcm")
    lut = Dataset()
    lut.LUTDescriptor = [4096, 0, 12]
    lut.add_new(0x00283006, "US", [min(4095, int(4095 * (i / 4095) ** 0.5))
                                   for i in range(4096)])  # LUTData
    ds.VOILUTSequence = pydicom.Sequence([lut])
    del ds.WindowCenter, ds.WindowWidth
    ds.save_as(tmp_path / "lut.dcm")
    shown = render(tmp_path / "lut.dcm")
    assert shown.window is None and shown.default_window is None and shown.values is not None
    viewer.set_image(shown)
    assert viewer.overlay_lines()[1][0] == "VOI LUT"
    drag(viewer, Qt.MouseButton.RightButton, QPointF(200, 150), QPointF(150, 150))
    lo, hi = float(shown.values.min()), float(shown.values.max())
    assert viewer.current_window.width < hi - lo  # narrowed from the whole range
    assert not np.array_equal(viewer.pixels, shown.pixels)
    asked: list[Window] = []
    viewer.window_requested.connect(asked.append)
    viewer.reset_window()
    assert asked == []  # nothing to compute: the LUT view is the first pixels
    assert viewer.current_window is None and np.array_equal(viewer.pixels, shown.pixels)
