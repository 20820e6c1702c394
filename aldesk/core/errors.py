"""Errors that reach the user as one readable line.

`AldeskError` and its subclasses carry a message written for the person at the keyboard; the CLI
prints it and exits 2, the app shows it in a dialog. Anything else is an internal error: it is
logged with its traceback and reported with the log file's path (exit 1).
"""

from __future__ import annotations

from pathlib import Path


class AldeskError(Exception):
    """An error the user can act on; `str(err)` is a complete sentence for them."""


class UsageError(AldeskError):
    """The command line or a request is malformed."""


class InputError(AldeskError):
    """An input file or folder is missing or unusable."""


class NotAProjectError(InputError):
    """The file is not an aldesk project file."""


class ProjectLockedError(AldeskError):
    """Another aldesk process has the project open for writing."""


class NewerProjectError(AldeskError):
    """The project file was written by a newer aldesk than this one."""


class LabelError(AldeskError):
    """A label or class change that the project's rules do not allow."""


class Cancelled(Exception):
    """Raised inside a job when the user cancelled it; not an error."""


class UnreadableFile(InputError):
    """A file that cannot be shown: its item gets status 'error' and this one-line reason."""


class FileGone(UnreadableFile):
    """The file is not there (its folder unplugged or moved): its item gets status 'missing',
    which a re-scan or relink that finds the file again undoes."""

    REASON = "file not found"

    def __init__(self) -> None:
        super().__init__(self.REASON)


def require_folder(path: Path) -> None:
    """InputError unless `path` is a folder, saying what it is instead."""
    if path.is_dir():
        return
    if path.exists():
        raise InputError(f"{path} is a file, not a folder; give the folder that holds it")
    raise InputError(f"folder {path} does not exist")
