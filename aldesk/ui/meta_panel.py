"""The item's allow-listed attributes (never patient data: the project holds none)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

_TITLES = {
    "kind": "Kind", "status": "Status", "problem": "Problem", "size": "Size (px)",
    "frames": "Frames", "file size": "File size", "modality": "Modality",
    "body_part": "Body part", "view": "View", "photometric": "Photometric",
    "bits_allocated": "Bits allocated", "bits_stored": "Bits stored",
    "transfer_syntax": "Transfer syntax", "sop_class": "SOP class", "study": "Study (hashed)",
    "series": "Series (hashed)", "burned_in": "Burned-in text",
}


class MetadataPanel(QTableWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 2, parent)
        self.setHorizontalHeaderLabels(["Attribute", "Value"])
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setWordWrap(False)
        self.setAlternatingRowColors(True)

    def show_meta(self, name: str, meta: dict[str, Any]) -> None:
        rows = [("File", name)] + [(_TITLES.get(k, k), str(v)) for k, v in meta.items()
                                   if k in _TITLES]
        self.setRowCount(len(rows))
        for r, (key, value) in enumerate(rows):
            self.setItem(r, 0, QTableWidgetItem(key))
            cell = QTableWidgetItem(value)
            cell.setToolTip(value)
            self.setItem(r, 1, cell)
