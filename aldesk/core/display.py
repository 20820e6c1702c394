"""Whether this session has a screen for Qt (no Qt imported here)."""

from __future__ import annotations

import os
import sys


def no_display() -> bool:
    """A Linux session with no screen (a server, ssh without X forwarding) and no platform
    chosen for Qt: a window cannot open, the command line works."""
    return (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"))
