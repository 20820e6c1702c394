"""The status bar: counts, pace, the model and the running job (with its cancel button)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from aldesk.services.audit import AuditEstimate


class StatusBar(QStatusBar):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeGripEnabled(False)
        self.counts = QLabel()
        self.pace = QLabel()
        self.model = QLabel()
        self.watching = QLabel()
        self.job = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(12)
        self.cancel = QToolButton()
        self.cancel.setText("Cancel")
        self.cancel.setToolTip("Stop the running job (the work done so far is kept)")
        self.cancel.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cancel.clicked.connect(self.cancel_requested)
        for w in (self.counts, self.pace, self.model, self.watching):
            self.addWidget(w)
        for w in (self.job, self.bar, self.cancel):
            self.addPermanentWidget(w)
        self.job_done()

    def set_counts(self, labeled: int, unlabeled: int, skipped: int, errors: int) -> None:
        parts = [f"{labeled:,} labeled", f"{unlabeled:,} to go"]
        if skipped:
            parts.append(f"{skipped:,} skipped/unsure")
        if errors:
            parts.append(f"{errors:,} unreadable")
        self.counts.setText(" · ".join(parts))

    def set_pace(self, per_minute: float | None, session_labels: int) -> None:
        rate = "" if per_minute is None else f" · {per_minute:.1f}/min"
        self.pace.setText(f"this session: {session_labels} labels{rate}")

    def set_model(self, version: int | None, accuracy: float | None, since: int,
                  audit: AuditEstimate | None = None) -> None:
        if version is None:
            self.model.setText("no model yet")
            return
        cv = ("Cross-validated on the labeled items: "
              + ("not estimated yet." if accuracy is None else f"{accuracy:.0%}.")
              + " Active learning picks hard items to label, so this tends to understate "
              "accuracy on the whole pool.")
        if audit is not None:
            acc = (f"accuracy {audit.accuracy:.0%} ({audit.low:.0%}-{audit.high:.0%}) on "
                   f"{audit.audits} audit item" + ("" if audit.audits == 1 else "s"))
            tip = f"Measured on {audit.text()}: items drawn at random, labeled blind. {cv}"
        else:
            acc = ("accuracy not estimated yet" if accuracy is None
                   else f"cross-validated accuracy {accuracy:.0%}")
            tip = cv + " Audit items (every 10th in the queue) will measure it without bias."
        stale = f" · {since} new labels since" if since else ""
        self.model.setText(f"model v{version}: {acc}{stale}")
        self.model.setToolTip(tip)

    def set_watching(self, folder: object) -> None:
        """Stream mode stays visible while it is on: 'watching FOLDER'."""
        name = getattr(folder, "name", None)
        self.watching.setText(f"watching {name}" if name else "")
        self.watching.setToolTip(str(folder) if folder else "")

    def job_started(self, title: str) -> None:
        self.job.setText(title)
        self.bar.setRange(0, 0)  # busy until the first progress report
        for w in (self.job, self.bar, self.cancel):
            w.setVisible(True)

    def job_progress(self, done: int, total: int, text: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
            self.job.setText(f"{text} {done:,}/{total:,}" if text else f"{done:,}/{total:,}")
        else:
            self.bar.setRange(0, 0)
            if text:
                self.job.setText(text)

    def job_done(self) -> None:
        for w in (self.job, self.bar, self.cancel):
            w.setVisible(False)
