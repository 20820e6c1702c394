"""Creating a project from the app's form: checks in words, then the file. No Qt."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from aldesk.core.errors import InputError, LabelError
from aldesk.core.hotkeys import assign_hotkeys
from aldesk.core.jobs import Job
from aldesk.services.ingest import SyncReport, sync_folder
from aldesk.store import Project
from aldesk.store import classes as store_classes
from aldesk.store.project import project_path

REPRESENTATIONS = {
    "auto": "Automatic (recommended): chosen from the images, then by accuracy",
    "efficientnet_lite0": "EfficientNet-Lite0: photos, radiographs, scans",
    "pixels": "Raw pixels: fast; small glyph-like images",
    "pixels+efficientnet_lite0": "Both side by side: small grey images",
}


@dataclass
class NewProject:
    name: str
    location: Path
    folders: list[Path] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    representation: str = "auto"

    @property
    def path(self) -> Path:
        return project_path(self.location / self.name.strip())


def split_classes(text: str) -> list[str]:
    return [n.strip() for n in text.replace("\n", ",").split(",") if n.strip()]


def hotkey_preview(names: list[str]) -> list[tuple[str, str | None]]:
    return list(zip(names, assign_hotkeys(names), strict=True))


def problems(spec: NewProject) -> list[str]:
    """What stops the project from being created, in words; empty when all is well."""
    out = []
    name = spec.name.strip()
    if not name:
        out.append("Give the project a name.")
    elif any(ch in name for ch in '/\\:*?"<>|') or name.startswith("."):
        out.append("A project name cannot contain / \\ : * ? \" < > | or start with a dot.")
    if not spec.location.is_dir():
        out.append(f"The folder {spec.location} does not exist.")
    elif name and spec.path.exists():
        out.append(f"{spec.path.name} already exists there: open it, or choose another name.")
    if not spec.folders:
        out.append("Add at least one folder of images or DICOM files.")
    out += [f"{f} is not a folder." for f in spec.folders if not f.is_dir()]
    try:
        cleaned = [store_classes.clean_name(n) for n in spec.classes]
    except LabelError as err:
        out.append(str(err).capitalize() + ".")
        cleaned = []
    lower = [n.lower() for n in cleaned]
    out += [f"Class {n!r} is listed twice." for n in sorted({n for n in lower
                                                                if lower.count(n) > 1})]
    if spec.representation not in REPRESENTATIONS and not spec.representation.startswith(
            "torchscript:"):
        out.append(f"Unknown representation {spec.representation!r}.")
    elif spec.representation.startswith("torchscript:"):
        model = Path(spec.representation.split(":", 1)[1])
        if not model.is_file():
            out.append(f"The TorchScript model {model} does not exist.")
    return out


def create_project(spec: NewProject) -> Project:
    """The new project file with its classes and representation; folders are scanned later
    (`scan_folders`, a job). Raises InputError with the first problem."""
    found = problems(spec)
    if found:
        raise InputError(found[0])
    project = Project.create(spec.path)
    try:
        if spec.classes:
            store_classes.add_classes(project, spec.classes)
        with project.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('representation', ?)",
                         (spec.representation,))
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('pending_folders', ?)",
                         ("\n".join(str(f.resolve()) for f in spec.folders),))
    except BaseException:
        project.close()
        spec.path.unlink(missing_ok=True)
        raise
    return project


def pending_folders(project: Project) -> list[Path]:
    """Folders chosen for a new project and not scanned yet (a scan may be cancelled)."""
    text = project.meta("pending_folders") or ""
    return [Path(line) for line in text.splitlines() if line.strip()]


def scan_folders(path: Path, folders: list[Path], job: Job | None = None) -> list[SyncReport]:
    """Add (or re-scan) folders from the worker, beside the window's connection."""
    reports = []
    with Project.attach(path) as project:
        for folder in folders:
            reports.append(sync_folder(project, folder, job))
        with project.transaction() as conn:
            conn.execute("DELETE FROM meta WHERE key = 'pending_folders'")
    return reports
