"""Decoding for the screen, off the UI thread: the viewer's image, its prefetch, thumbnails.

This is not the worker: a training job may run for minutes, and the next image must be on screen
within 50 ms regardless. Two small pool threads decode with `io.render` (pure functions, no
project file, no widgets) and hand back results through a signal; the UI thread keeps a small
cache of decoded images, so going back and forth never decodes twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QImage

from aldesk.core.errors import UnreadableFile
from aldesk.io.display import Window
from aldesk.io.render import Rendered, render

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ImageKey:
    item_id: int
    frame: int | None  # None: the default (middle) frame


class ImageLoader(QObject):
    """`request()` an item; `loaded` comes back in the UI thread (at once when cached)."""

    loaded = Signal(object, object, str)  # ImageKey, Rendered or None, error text
    rewindowed = Signal(int, object, object)  # item id, uint8 pixels, Window
    thumbnail_ready = Signal(int, object)  # item id, QImage or None
    _arrived = Signal(object, object, str, bool)  # from a pool thread to the UI thread

    def __init__(self, cache_items: int = 12, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="aldesk-loader")
        self._thumbs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aldesk-thumbs")
        self._cache: OrderedDict[ImageKey, Rendered] = OrderedDict()
        self._cache_items = cache_items
        self._inflight: dict[ImageKey, Future[Rendered]] = {}
        self._wanted: set[ImageKey] = set()  # requested while a quiet prefetch decodes them
        self._thumb_wanted: set[int] = set()
        self._window_seq = 0
        self._closed = False
        self._arrived.connect(self._store)

    # -- display images ---------------------------------------------------------------------

    def cached(self, key: ImageKey) -> Rendered | None:
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
        return found

    def request(self, key: ImageKey, path: Path, kind: str) -> None:
        """Decode an item for display; `loaded` is emitted when it is ready (or failed)."""
        found = self.cached(key)
        if found is not None:
            self.loaded.emit(key, found, "")
            return
        if self._closed:
            return
        if key in self._inflight:  # being prefetched: announce it when it lands
            self._wanted.add(key)
            return
        future = self._pool.submit(render, path, kind, frame=key.frame)
        self._inflight[key] = future
        future.add_done_callback(lambda f, k=key: self._done(k, f))

    def prefetch(self, items: list[tuple[ImageKey, Path, str]]) -> None:
        """Decode the next items ahead of time, into the cache, without a signal."""
        for key, path, kind in items:
            if key not in self._cache and key not in self._inflight and not self._closed:
                future = self._pool.submit(render, path, kind, frame=key.frame)
                self._inflight[key] = future
                future.add_done_callback(lambda f, k=key: self._done(k, f, quiet=True))

    def _done(self, key: ImageKey, future: Future[Rendered], quiet: bool = False) -> None:
        # Runs in a pool thread: only emit; the UI thread stores the result.
        if self._closed:
            return
        try:
            rendered, error = future.result(), ""
        except UnreadableFile as err:
            rendered, error = None, str(err)
        except Exception as err:  # a decoder defect must not kill the viewer
            log.exception("decoding %s failed", key)
            rendered, error = None, f"cannot show this file: {type(err).__name__}: {err}"
        self._arrived.emit(key, rendered, error, quiet)

    def _store(self, key: ImageKey, rendered: Rendered | None, error: str, quiet: bool
               ) -> None:
        if self._closed:  # queued before shutdown: its project is gone
            return
        self._inflight.pop(key, None)
        if key in self._wanted:
            self._wanted.discard(key)
            quiet = False
        if rendered is not None:
            self._cache[key] = rendered
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_items:
                self._cache.popitem(last=False)
        if not quiet:
            self.loaded.emit(key, rendered, error)

    # -- window/level ----------------------------------------------------------------------

    def rewindow(self, item_id: int, rendered: Rendered, window: Window) -> None:
        """Recompute the display pixels for a new window; only the newest request lands."""
        from aldesk.io.rewindow import rewindow

        if rendered.values is None or self._closed:
            return
        self._window_seq += 1
        seq = self._window_seq

        def work() -> None:
            if seq != self._window_seq:
                return  # a newer drag position came in meanwhile
            pixels = rewindow(rendered.values, window, rendered.invert)
            if seq == self._window_seq and not self._closed:
                self.rewindowed.emit(item_id, pixels, window)

        self._pool.submit(work)

    # -- thumbnails ------------------------------------------------------------------------

    def thumbnail(self, item_id: int, path: Path, kind: str, content_key: str, cache: Path
                  ) -> None:
        if item_id in self._thumb_wanted or self._closed:
            return
        self._thumb_wanted.add(item_id)

        def work() -> None:
            from aldesk.io.thumbnails import make_thumbnail

            image: QImage | None = None
            try:
                made = make_thumbnail(path, kind, content_key, cache)
                image = QImage(str(made))  # QImage (not QPixmap) is safe outside the UI thread
            except UnreadableFile:
                image = None
            except Exception:
                log.exception("thumbnail of %s failed", path)
            if not self._closed:
                self.thumbnail_ready.emit(item_id, image)

        self._thumbs.submit(work)

    def shutdown(self) -> None:
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._thumbs.shutdown(wait=True, cancel_futures=True)
