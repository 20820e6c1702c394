"""Plain value types shared by the layers."""

from __future__ import annotations

from dataclasses import dataclass

ITEM_KINDS = ("image", "dicom", "unknown")
ANNOTATION_KINDS = ("label", "skip", "unsure", "clear")


@dataclass(frozen=True, slots=True)
class FoundFile:
    """A candidate file found by a folder scan, before it is decoded."""

    rel_path: str  # relative to the scanned folder, with "/" separators
    size: int
    mtime: float
    content_key: str
    kind: str  # one of ITEM_KINDS


@dataclass(frozen=True, slots=True)
class ClassInfo:
    id: int
    name: str
    hotkey: str | None
    colour: str
    position: int
    archived: bool
    merged_into: int | None

    @property
    def active(self) -> bool:
        return not self.archived and self.merged_into is None


@dataclass(frozen=True, slots=True)
class Provenance:
    """What the annotator was shown when labeling: filled by the app, empty for imports."""

    model_version: int | None = None
    score: float | None = None
    rank: int | None = None
    suggestion_shown: bool | None = None
    suggested_class_id: int | None = None


@dataclass(frozen=True, slots=True)
class LabelState:
    """An item's label as of one annotation row (its newest row is its current label)."""

    annotation_id: int
    item_id: int
    kind: str  # one of ANNOTATION_KINDS
    class_ids: tuple[int, ...]  # after following class merges
    annotator: str
    created_at: str
    seconds_spent: float | None
    origin: str
