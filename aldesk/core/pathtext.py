"""File names that are not valid UTF-8 (possible on Linux), stored and shown safely.

Python hands such names over with surrogate escapes, which neither SQLite nor a UTF-8 file
can hold. In the project file they are stored as a NUL (which no file name contains) followed
by the raw bytes in base64, so the exact file is found again; for people they are shown with
the odd bytes as backslash escapes.
"""

from __future__ import annotations

import base64
import os

ENCODED_MARK = "\x00"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def to_db(name: str) -> str:
    if _encodable(name):
        return name
    return ENCODED_MARK + base64.urlsafe_b64encode(os.fsencode(name)).decode("ascii")


def from_db(stored: str) -> str:
    if not stored.startswith(ENCODED_MARK):
        return stored
    return os.fsdecode(base64.urlsafe_b64decode(stored[1:].encode("ascii")))


def printable(name: str) -> str:
    """`name` as UTF-8-safe text, undecodable bytes written as \\xNN."""
    if _encodable(name):
        return name
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
