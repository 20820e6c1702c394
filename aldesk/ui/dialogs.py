"""Small dialogs: job errors, the shortcut sheet, settings."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aldesk.core.paths import log_file
from aldesk.ui.settings import Settings

SHORTCUTS = (
    ("Class key (1–9, 0, letters)", "label the item and go to the next"),
    ("S", "skip"),
    ("U", "unsure"),
    ("Space", "accept the model's suggestion (when suggestions are on)"),
    ("← / →", "previous / next item"),
    ("Ctrl+Z / Ctrl+Shift+Z", "undo / redo"),
    ("Ctrl+R", "retrain now"),
    ("F", "fit the image to the window"),
    ("Ctrl+1", "actual size (1:1)"),
    ("+ / − / mouse wheel", "zoom"),
    ("left-drag", "pan"),
    ("right-drag", "window/level (grey images): sideways width, up and down centre"),
    ("W", "reset the window to the file's"),
    ("[ / ]", "previous / next frame of a multi-frame item"),
    ("Ctrl+D", "dashboard / labeling"),
    ("?", "this sheet"),
)


def error_dialog(parent: QWidget, message: str, details: str) -> QMessageBox:
    """A readable message; the traceback, if any, under 'Show Details' and in the log."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("aldesk")
    box.setText(message)
    if details:
        box.setInformativeText(f"This looks like a defect in aldesk. The details are in the "
                               f"log: {log_file()}")
        box.setDetailedText(details)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


class ShortcutSheet(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        form = QFormLayout()
        form.setHorizontalSpacing(24)
        form.setVerticalSpacing(6)
        for key, what in SHORTCUTS:
            k = QLabel(key)
            font = k.font()
            font.setBold(True)
            k.setFont(font)
            form.addRow(k, QLabel(what))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 14)
        layout.addLayout(form)
        layout.addWidget(buttons)


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.setWindowTitle("Settings")
        self.annotator = QLineEdit(settings.annotator)
        self.annotator.setToolTip("Stored with every label you make")
        self.every = QSpinBox()
        self.every.setRange(0, 10_000)
        self.every.setValue(settings.retrain_every)
        self.every.setSpecialValueText("never (Ctrl+R only)")
        self.every.setSuffix(" new labels")
        self.suggestions = QCheckBox("Show the model's suggestion (Space accepts it)")
        self.suggestions.setChecked(settings.suggestions)
        form = QFormLayout()
        form.addRow("Annotator", self.annotator)
        form.addRow("Retrain every", self.every)
        form.addRow("", self.suggestions)
        self.audits = QCheckBox("Audit the model: every 10th item is drawn at random and shown "
                                "without its guess")
        self.audits.setToolTip("Your labels on these items measure the model's accuracy on the "
                               "unlabeled items without the bias of active learning.")
        self.audits.setChecked(settings.audits)
        form.addRow("", self.audits)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def accept(self) -> None:
        if self.annotator.text().strip():
            self.settings.annotator = self.annotator.text()
        self.settings.retrain_every = self.every.value()
        self.settings.suggestions = self.suggestions.isChecked()
        self.settings.audits = self.audits.isChecked()
        super().accept()
