"""One writer per project, across processes.

The writer holds an OS lock on `NAME.aldesk-lock` beside the project file. The operating system
drops the lock when the process dies, even on kill -9 or power loss, so a lock is never stale.
The file holds the owner's pid and host, for the message a second process shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from pathlib import Path

from aldesk.core.errors import ProjectLockedError

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl


def _try_lock(fd: int) -> bool:
    try:
        if sys.platform == "win32":
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _owner(path: Path) -> str:
    try:
        info = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return "another aldesk process"
    return f"aldesk (pid {info.get('pid', '?')} on {info.get('host', '?')})"


class ProjectLock:
    """An exclusive, process-wide lock for writing to one project file."""

    def __init__(self, project_path: Path) -> None:
        self.path = project_path.with_name(project_path.name + "-lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        # Loop because a closing owner unlinks the file: a lock taken on an unlinked inode is
        # worthless, so check that the file we locked is still the one at `self.path`.
        for _ in range(10):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(fd):
                os.close(fd)
                raise ProjectLockedError(
                    f"{self.path.name.removesuffix('-lock')} is already open in "
                    f"{_owner(self.path)}. Close it there first."
                )
            try:
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:
            raise ProjectLockedError(f"could not lock {self.path}")
        info = json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode()
        if sys.platform != "win32":  # Windows forbids writing the locked byte range
            os.ftruncate(fd, 0)
            os.write(fd, info)
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        if sys.platform != "win32":
            with contextlib.suppress(OSError):
                self.path.unlink()
        os.close(self._fd)
        self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None
