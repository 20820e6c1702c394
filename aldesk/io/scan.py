"""Finding candidate files in a folder and giving each a content key.

The walk is recursive, follows symbolic links to folders but visits each real folder once (so a
link loop ends), and skips hidden and operating-system files. A candidate is a file with an
image or DICOM extension, or one that DICOM might hide in: no extension, a numeric extension
(files named by UID, such as `1.2.840.10008.3`), or the `DICM` marker at byte 128.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from aldesk.core.errors import require_folder
from aldesk.core.jobs import Job, step
from aldesk.core.types import FoundFile

IMAGE_EXTENSIONS = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".tif", ".tiff", ".bmp", ".webp"}
)
DICOM_EXTENSIONS = frozenset({".dcm", ".dicom", ".dic", ".ima"})
SYSTEM_NAMES = frozenset({"thumbs.db", "desktop.ini", "__macosx", "$recycle.bin",
                          "system volume information", "lost+found"})

_CHUNK = 16 * 1024


def content_key(path: Path, size: int | None = None) -> str:
    """A 128-bit key of a file's bytes: BLAKE2b over its size and three 16 KiB samples.

    Files of up to 48 KiB are hashed whole. The samples (start, middle, end) make the key cheap
    on large DICOM series yet distinct: each instance differs in its header (its UIDs) and in
    its pixels. It identifies a file moved to another folder, not a file edited in place
    (re-scans notice edits by size and modification time).
    """
    if size is None:
        size = path.stat().st_size
    h = hashlib.blake2b(digest_size=16)
    h.update(size.to_bytes(8, "little"))
    with path.open("rb") as f:
        if size <= 3 * _CHUNK:
            h.update(f.read())
        else:
            for offset in (0, (size - _CHUNK) // 2, size - _CHUNK):
                f.seek(offset)
                h.update(f.read(_CHUNK))
    return h.hexdigest()


def _is_hidden(entry: os.DirEntry[str]) -> bool:
    if entry.name.startswith(".") or entry.name.lower() in SYSTEM_NAMES:
        return True
    attrs = getattr(entry.stat(follow_symlinks=False), "st_file_attributes", 0)
    return bool(attrs & 0x2)  # FILE_ATTRIBUTE_HIDDEN on Windows


def guess_kind(path: Path) -> str | None:
    """'image', 'dicom', or None when the file is not a candidate at all."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    if suffix in DICOM_EXTENSIONS:
        return "dicom"
    try:
        with path.open("rb") as f:
            head = f.read(132)
    except OSError:
        head = b""
    if head[128:132] == b"DICM":
        return "dicom"
    if suffix == "" or suffix[1:].isdigit():
        return "unknown"  # maybe DICOM without a preamble; decoding decides
    return None


def walk(root: Path, job: Job | None = None) -> Iterator[tuple[Path, str]]:
    """Candidate files below `root` with their guessed kind, sorted by name per folder."""
    require_folder(root)
    seen: set[tuple[int, int]] = set()
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            continue
        seen.add((st.st_dev, st.st_ino))
        if job is not None:
            job.check()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue  # unreadable folder: nothing to list
        subfolders = []
        for entry in entries:
            try:
                if _is_hidden(entry):
                    continue
                if entry.is_dir(follow_symlinks=True):
                    subfolders.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=True) or entry.is_symlink():
                    path = Path(entry.path)
                    kind = guess_kind(path)
                    if kind is not None:
                        yield path, kind
            except OSError:  # e.g. a link that points at itself: reported, not skipped
                if entry.is_symlink() and guess_kind(Path(entry.path)) is not None:
                    yield Path(entry.path), guess_kind(Path(entry.path)) or "unknown"
                continue
        stack.extend(reversed(subfolders))


def index_folder(root: Path, job: Job | None = None,
                 known: Mapping[str, tuple[int, float, str]] | None = None
                 ) -> tuple[list[FoundFile], list[str]]:
    """Every candidate file below `root` with its content key, plus files that could not be read.

    The second list holds `"rel/path: reason"` lines for files that vanished or could not be
    opened (broken links, no permission); they are reported, not fatal. `known` maps paths
    indexed before to their (size, mtime, content key): a file with the same size and time
    keeps its key unread, so a look at a watched folder of 20,000 unchanged files reads none
    of them.
    """
    root = root.resolve()
    paths = list(walk(root, job))
    found: list[FoundFile] = []
    problems: list[str] = []
    for n, (path, kind) in enumerate(paths):
        step(job, n, len(paths), "indexing files", every=200)
        rel = path.relative_to(root).as_posix()
        try:
            st = path.stat()
            before = known.get(rel) if known else None
            if before is not None and (before[0], before[1]) == (st.st_size, st.st_mtime):
                key = before[2]
            else:
                key = content_key(path, st.st_size)
        except OSError as err:
            problems.append(f"{rel}: {err.strerror or err}")
            continue
        found.append(FoundFile(rel, st.st_size, st.st_mtime, key, kind))
    if job is not None:
        job.progress(len(paths), len(paths), "indexing files")
    return found, problems
