"""Patient data never reaches the project file or an export; only allow-listed attributes do,
and images likely to carry burned-in text are flagged."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file

from aldesk.services.export import export_labels
from aldesk.services.ingest import sync_folder
from aldesk.services.labels_io import import_labels
from aldesk.store import Project
from aldesk.store import classes as cls

PHI = {
    "PatientName": "Doe^Jane^Quinn",
    "PatientID": "MRN-4471-99812",
    "PatientBirthDate": "19450317",
    "InstitutionName": "St Elsewhere General Hospital",
    "AccessionNumber": "ACC2026555123",
    "OtherPatientIDs": "ALT-ID-0042-77",
    "InstitutionAddress": "1 Hospital Road Springfield",
    "ReferringPhysicianName": "House^Gregory",
}
SOURCES = {
    "ct.dcm": "CT_small.dcm",
    "mr-rle.dcm": "MR_small_RLE.dcm",
    "us-multiframe.dcm": "examples_ybr_color.dcm",
    "sc.dcm": "SC_rgb_jpeg_gdcm.dcm",
    "no-extension": "MR_small_implicit.dcm",
}


def write_with_phi(folder: Path) -> None:
    folder.mkdir()
    for target, source in SOURCES.items():
        ds = pydicom.dcmread(get_testdata_file(source))
        for keyword, value in PHI.items():
            setattr(ds, keyword, value)
        if target == "ct.dcm":
            ds.BurnedInAnnotation = "NO"
        ds.save_as(folder / target)


def needles() -> list[bytes]:
    out = []
    for value in PHI.values():
        for form in {value, value.replace("^", " "), *value.split("^")}:
            if len(form) >= 5:
                out += [form.encode(), form.encode("utf-16-le")]
    return out


def test_no_patient_data_in_the_project_file_or_exports(tmp_path):
    write_with_phi(tmp_path / "study")
    with Project.create(tmp_path / "rad") as p:
        cls.add_classes(p, ["normal", "abnormal"])
        report = sync_folder(p, tmp_path / "study")
        assert report.added == len(SOURCES)
        rows = {r["rel_path"]: (r["status"], json.loads(r["meta"]))
                for r in p.conn.execute("SELECT rel_path, status, meta FROM items")}
        sheet = tmp_path / "labels.csv"
        sheet.write_text("path,label\n" + "".join(f"{n},normal\n" for n in SOURCES))
        import_labels(p, sheet, annotator="dr a")
        export_labels(p, "csv", tmp_path / "x.csv")
        export_labels(p, "json", tmp_path / "x.json")
        export_labels(p, "folders", tmp_path / "x-folders")
    Project.open(tmp_path / "rad.aldesk").close()  # and a backup copy is made on open

    assert all(status == "ok" for status, _ in rows.values()), rows
    ct = rows["ct.dcm"][1]
    assert ct["modality"] == "CT" and ct["burned_in"] == "no"
    assert ct["sop_class"] == "CT Image Storage" and len(ct["study"]) == 16
    assert rows["us-multiframe.dcm"][1]["burned_in"] == "likely"  # ultrasound
    assert rows["sc.dcm"][1]["burned_in"] == "likely"  # secondary capture
    allowed = {"modality", "body_part", "view", "photometric", "bits_allocated", "bits_stored",
               "transfer_syntax", "sop_class", "study", "series", "burned_in"}
    assert all(set(meta) <= allowed for _, meta in rows.values())

    written = [tmp_path / "x.csv", tmp_path / "x.json", *tmp_path.glob("rad.aldesk*"),
               *(tmp_path / "rad.aldesk-backups").glob("*"), *(tmp_path / "x-folders").rglob("*")]
    files = [f for f in written if f.is_file()]
    assert len(files) >= 3 + 1 + len(SOURCES)
    for f in files:
        data = f.read_bytes()
        for needle in needles():
            assert needle not in data, f"{needle!r} leaked into {f.relative_to(tmp_path)}"
