"""The audit trail: ``sync_success_log.csv`` and ``sync_error_log.csv``.

Appended to (an audit trail is never overwritten), one row per action and run, each row flushed
to the operating system as its action finishes, so a killed apply loses at most the rows of the
writes that were in flight. Every cell goes through ``sanitize.csv_cell``: control, bidi and
invisible characters are shown as escapes, and a cell a spreadsheet would read as a formula gets
a leading apostrophe. The files are private and never written through a symlink (``files``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from clocksync.files import append_private, private_folder
from clocksync.sanitize import csv_cell

SUCCESS_LOG = "sync_success_log.csv"
ERROR_LOG = "sync_error_log.csv"
COLUMNS = ["time", "run", "plan", "action_id", "kind", "target", "before", "after", "outcome",
           "http_status", "message"]
safe_cell = csv_cell  # one rule for every cell (clocksync.sanitize)


@dataclass(frozen=True)
class AuditRow:
    time: str
    run: str
    plan: str
    action_id: str
    kind: str
    target: str
    before: str
    after: str
    outcome: str
    http_status: int | None
    message: str


class AuditLog:
    """Appends rows to the success and error CSVs in ``directory``."""

    def __init__(self, directory: Path) -> None:
        private_folder(directory)
        self.success_path = directory / SUCCESS_LOG
        self.error_path = directory / ERROR_LOG
        self._files: dict[Path, tuple[IO[str], Any]] = {}

    def _writer(self, path: Path) -> Any:
        if path not in self._files:
            handle, new = append_private(path)  # 0600, never through a symlink planted in its place
            writer = csv.writer(handle)
            if new:
                writer.writerow(COLUMNS)
            self._files[path] = (handle, writer)
        return self._files[path][1]

    def write(self, row: AuditRow, success: bool) -> None:
        path = self.success_path if success else self.error_path
        writer = self._writer(path)
        writer.writerow([safe_cell(getattr(row, c)) for c in COLUMNS])
        self._files[path][0].flush()  # durable against a kill of this process as soon as the action ends

    def touch(self) -> None:
        """Make sure both files exist, with their header, even when one gets no row."""
        self._writer(self.success_path)
        self._writer(self.error_path)
        for handle, _ in self._files.values():
            handle.flush()

    def close(self) -> None:
        for handle, _ in self._files.values():
            handle.close()
        self._files.clear()
