"""Label import and export in-process: matching rules, all-or-nothing, and no patient data."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from aldesk.core.errors import InputError
from aldesk.services.export import export_labels
from aldesk.services.ingest import sync_folder
from aldesk.services.labels_io import import_labels
from aldesk.store import Project
from aldesk.store import annotations as ann
from aldesk.store import classes as cls


def write_csv(path: Path, rows: list[tuple[str, str]], header: str = "path,label") -> Path:
    path.write_text(header + "\n" + "".join(f"{p},{lab}\n" for p, lab in rows),
                    encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path, image_folder):
    with Project.create(tmp_path / "proj") as p:
        cls.add_classes(p, ["left", "right"])
        sync_folder(p, image_folder)
        yield p


def current_names(p: Project) -> dict[str, str]:
    names = {c.id: c.name for c in cls.list_classes(p)}
    paths = {r["id"]: r["rel_path"] for r in p.conn.execute("SELECT id, rel_path FROM items")}
    return {paths[i]: ";".join(names[c] for c in s.class_ids)
            for i, s in ann.current_all(p).items()}


def test_import_matches_source_relative_csv_relative_and_absolute_paths(project, tmp_path,
                                                                        image_folder):
    sheet = write_csv(tmp_path / "labels.csv", [
        ("left/frame-000.png", "left"),                       # relative to the folder
        ("images/left/frame-001.png", "left"),                # relative to the CSV / project
        (str(image_folder / "right/frame-006.png"), "right"),  # absolute
        ("right\\frame-007.png", "RIGHT"),                     # Windows separator, other case
    ])
    report = import_labels(project, sheet, annotator="dr a")
    assert report.labeled == 4
    assert current_names(project) == {"left/frame-000.png": "left", "left/frame-001.png": "left",
                                      "right/frame-006.png": "right",
                                      "right/frame-007.png": "right"}
    again = import_labels(project, sheet, annotator="dr a")
    assert (again.labeled, again.unchanged) == (0, 4)
    assert ann.count_rows(project) == 4


def test_unknown_classes_and_unmatched_paths_import_nothing(project, tmp_path):
    sheet = write_csv(tmp_path / "l.csv", [("left/frame-000.png", "left"),
                                           ("left/frame-001.png", "blurry")])
    with pytest.raises(InputError, match=r"unknown classes blurry.*--add-classes"):
        import_labels(project, sheet, annotator="a")
    assert ann.count_rows(project) == 0
    report = import_labels(project, sheet, annotator="a", add_classes=True)
    assert report.added_classes == ["blurry"] and report.labeled == 2

    missing = write_csv(tmp_path / "m.csv", [("left/frame-002.png", "left"),
                                             ("left/nope.png", "left")])
    with pytest.raises(InputError, match=r"1 paths are not in the project.*--skip-unmatched"):
        import_labels(project, missing, annotator="a")
    report = import_labels(project, missing, annotator="a", skip_unmatched=True)
    assert report.labeled == 1 and report.skipped_unmatched == ["left/nope.png"]


def test_conflicting_and_malformed_rows_are_refused(project, tmp_path):
    conflict = write_csv(tmp_path / "c.csv", [("left/frame-000.png", "left"),
                                              ("left/frame-000.png", "right")])
    with pytest.raises(InputError, match="another label"):
        import_labels(project, conflict, annotator="a")
    with pytest.raises(InputError, match="one class per item"):
        import_labels(project, write_csv(tmp_path / "d.csv", [("left/frame-000.png",
                                                                "left;right")]),
                      annotator="a")
    with pytest.raises(InputError, match=r"path.*label"):
        import_labels(project, write_csv(tmp_path / "e.csv", [("a", "b")], header="file,cls"),
                      annotator="a")
    (tmp_path / "bin.csv").write_bytes(b"path,label\n\xff\xfe\x00bad")
    with pytest.raises(InputError, match="UTF-8"):
        import_labels(project, tmp_path / "bin.csv", annotator="a")
    assert ann.count_rows(project) == 0


def test_csv_round_trip_into_a_second_project(project, tmp_path, image_folder):
    sheet = write_csv(tmp_path / "labels.csv", [(f"left/frame-00{i}.png", "left")
                                                for i in range(3)])
    import_labels(project, sheet, annotator="dr a")
    out = tmp_path / "out.csv"
    report = export_labels(project, "csv", out)
    assert report.items == 3
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {"path", "label", "annotator", "labeled_at"} <= set(rows[0])
    assert rows[0]["annotator"] == "dr a"
    with Project.create(tmp_path / "second") as other:
        sync_folder(other, image_folder)
        import_labels(other, out, annotator="b", add_classes=True)
        assert current_names(other) == current_names(project)
        assert {s.annotator for s in ann.current_all(other).values()} == {"dr a"}


def test_json_and_folder_exports(project, tmp_path):
    import_labels(project, write_csv(tmp_path / "l.csv", [("left/frame-000.png", "left"),
                                                          ("right/frame-006.png", "right")]),
                  annotator="a")
    export_labels(project, "json", tmp_path / "labels.json")
    doc = json.loads((tmp_path / "labels.json").read_text(encoding="utf-8"))
    assert doc["format"] == "aldesk-labels"
    assert [i["classes"] for i in doc["items"]] == [["left"], ["right"]]
    out = tmp_path / "by-class"
    export_labels(project, "folders", out)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png")) == [
        "left/frame-000.png", "right/frame-006.png"]
    with pytest.raises(InputError, match="not an empty folder"):
        export_labels(project, "folders", out)


PHI = {
    "PatientName": "Doe^Jane^Q",
    "PatientID": "MRN-4471-99812",
    "PatientBirthDate": "19450317",
    "InstitutionName": "St Elsewhere General Hospital",
    "AccessionNumber": "ACC-2026-555123",
    "ReferringPhysicianName": "House^Gregory",
    "StudyDescription": "CHEST PA Jane's followup",
}


def test_exports_carry_no_patient_data(tmp_path):
    import pydicom
    from pydicom.data import get_testdata_file

    folder = tmp_path / "dicom"
    folder.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        ds = pydicom.dcmread(get_testdata_file(name))
        for keyword, value in PHI.items():
            setattr(ds, keyword, value)
        ds.save_as(folder / name)
    with Project.create(tmp_path / "rad") as p:
        cls.add_classes(p, ["normal", "abnormal"])
        sync_folder(p, folder)
        import_labels(p, write_csv(tmp_path / "l.csv", [("CT_small.dcm", "normal"),
                                                        ("MR_small.dcm", "abnormal")]),
                      annotator="dr a")
        export_labels(p, "csv", tmp_path / "x.csv")
        export_labels(p, "json", tmp_path / "x.json")
        export_labels(p, "folders", tmp_path / "x-folders")
    outputs = [tmp_path / "x.csv", tmp_path / "x.json", tmp_path / "rad.aldesk",
               *(tmp_path / "x-folders").rglob("*")]
    files = [f for f in outputs if f.is_file()]
    assert len(files) == 5
    for f in files:
        data = f.read_bytes()
        for value in PHI.values():
            for needle in {value, value.replace("^", " "), value.split("^")[0]}:
                assert needle.encode() not in data, f"{needle!r} leaked into {f.name}"
    copy = pydicom.dcmread(next((tmp_path / "x-folders" / "normal").iterdir()))
    original = pydicom.dcmread(folder / "CT_small.dcm")
    assert copy.PatientIdentityRemoved == "YES"
    assert copy.SOPInstanceUID != original.SOPInstanceUID
    assert (copy.pixel_array == original.pixel_array).all()
    shutil.rmtree(tmp_path / "x-folders")
