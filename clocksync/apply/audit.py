"""The audit trail: ``sync_success_log.csv`` and ``sync_error_log.csv``.

Appended to (an audit trail is never overwritten), one row per action and run, each row flushed
to the operating system as its action finishes, so a killed apply loses at most the rows of the
writes that were in flight. Every cell goes through ``sanitize.csv_cell``: control, bidi and
invisible characters are shown as escapes, and a cell a spreadsheet would read as a formula gets
a leading apostrophe. The files are private and never written through a symlink (``files``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from clocksync.errors import FileError
from clocksync.files import Appender, private_folder
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
        self._files: dict[Path, Appender] = {}

    def _file(self, path: Path) -> Appender:
        if path not in self._files:
            appender = Appender(path)  # 0600, never through a symlink planted in its place
            if appender.empty:
                appender.append(_line(COLUMNS))
            self._files[path] = appender
        return self._files[path]

    def write(self, row: AuditRow, success: bool) -> None:
        """Append the row, handed to the operating system at once (durable against a kill of this
        process as soon as the action ends). Raises FileError (a full disk): the apply stops."""
        path = self.success_path if success else self.error_path
        try:
            self._file(path).append(_line([safe_cell(getattr(row, c)) for c in COLUMNS]))
        except FileError as exc:
            raise FileError(f"{exc}; the apply stopped, since every write must have its audit row (make room, then "
                            "apply the same plan again: what was applied is already in place)") from None

    def touch(self) -> None:
        """Make sure both files exist, with their header, even when one gets no row."""
        self._file(self.success_path)
        self._file(self.error_path)

    def close(self) -> None:
        for appender in self._files.values():
            appender.close()
        self._files.clear()


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()
