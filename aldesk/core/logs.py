"""Logging to a rotating file in the user log directory."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from aldesk.core import paths

_configured: Path | None = None


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send aldesk's log records to `paths.log_file()`; returns that path, or None if unwritable.

    Safe to call more than once. A log folder that cannot be created must not stop the app, so
    failure is reported to the caller rather than raised.
    """
    global _configured
    target = paths.log_file()
    if _configured == target:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            target, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    )
    root = logging.getLogger("aldesk")
    for old in list(root.handlers):
        if isinstance(old, logging.handlers.RotatingFileHandler):
            root.removeHandler(old)
            old.close()
    root.addHandler(handler)
    root.setLevel(level)
    _configured = target
    return target
