"""The new-project form: name, location, folders, classes with their keys, representation."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aldesk.services.projects import (
    REPRESENTATIONS,
    NewProject,
    hotkey_preview,
    problems,
    split_classes,
)


class NewProjectDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, folders: list[Path] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.setMinimumWidth(620)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. chest-xray-effusion")
        self.location = QLineEdit(str(Path.home()))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_location)
        where = QHBoxLayout()
        where.addWidget(self.location, 1)
        where.addWidget(browse)
        self.folders = QListWidget()
        self.folders.setMinimumHeight(90)
        add = QPushButton("Add folder…")
        remove = QPushButton("Remove")
        add.clicked.connect(self._add_folder)
        remove.clicked.connect(self._remove_folder)
        folder_buttons = QVBoxLayout()
        folder_buttons.addWidget(add)
        folder_buttons.addWidget(remove)
        folder_buttons.addStretch(1)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folders, 1)
        folder_row.addLayout(folder_buttons)
        self.classes = QLineEdit()
        self.classes.setPlaceholderText("comma-separated, e.g. normal, effusion, pneumothorax")
        self.keys = QLabel()
        self.keys.setProperty("role", "muted")
        self.keys.setWordWrap(True)
        self.representation = QComboBox()
        for key, text in REPRESENTATIONS.items():
            self.representation.addItem(text, key)
        self.representation.addItem("My own TorchScript model…", "torchscript")
        self.representation.activated.connect(self._representation_picked)
        self._torchscript: Path | None = None
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #e8a87c;")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setVerticalSpacing(10)
        form.addRow("Name", self.name)
        form.addRow("Save in", where)
        form.addRow("Folders", folder_row)
        form.addRow("Classes", self.classes)
        form.addRow("", self.keys)
        form.addRow("Model features", self.representation)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.create = self.buttons.addButton("Create", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 18, 18, 14)
        layout.addLayout(form)
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)
        for f in folders or []:
            self._add(f)
        self.name.textChanged.connect(self._check)
        self.location.textChanged.connect(self._check)
        self.classes.textChanged.connect(self._check)
        self._check()

    def spec(self) -> NewProject:
        rep = self.representation.currentData()
        if rep == "torchscript":
            rep = f"torchscript:{self._torchscript}" if self._torchscript else "auto"
        folders = [Path(self.folders.item(i).text()) for i in range(self.folders.count())]
        return NewProject(self.name.text(), Path(self.location.text()).expanduser(), folders,
                          split_classes(self.classes.text()), str(rep))

    def _check(self) -> None:
        spec = self.spec()
        preview = hotkey_preview(spec.classes)
        self.keys.setText("Keys: " + ", ".join(f"{k.upper() if k else '—'} {n}"
                                               for n, k in preview) if preview else
                          "Classes can also be added while labeling.")
        found = problems(spec)
        # Before anything is typed, say what to do, not what is wrong.
        untouched = not spec.name.strip() and not spec.folders and not spec.classes
        shown = [] if untouched else found
        self.problems.setText("\n".join(shown[:3]))
        self.create.setEnabled(not found)

    def _add(self, folder: Path) -> None:
        existing = {self.folders.item(i).text() for i in range(self.folders.count())}
        if str(folder) not in existing:
            self.folders.addItem(str(folder))
        if not self.name.text():
            self.name.setText(folder.name)
        self._check()

    def _add_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Folder of images or DICOM files")
        if chosen:
            self._add(Path(chosen))

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))
        self._check()

    def _choose_location(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Where to save the project file",
                                                  self.location.text())
        if chosen:
            self.location.setText(chosen)

    def _representation_picked(self, _: int) -> None:
        if self.representation.currentData() == "torchscript":
            chosen, _filter = QFileDialog.getOpenFileName(
                self, "TorchScript model (image batch → vectors)", "",
                "TorchScript (*.pt *.pth *.ts);;All files (*)")
            if chosen:
                self._torchscript = Path(chosen)
                self.representation.setItemText(self.representation.currentIndex(),
                                                 f"TorchScript: {Path(chosen).name}")
            else:
                self.representation.setCurrentIndex(0)
        self._check()
