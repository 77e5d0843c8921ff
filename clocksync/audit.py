"""What apply leaves behind: the audit CSVs and the journal that lets a killed apply resume.

Audit files are appended to (an audit trail is never overwritten), one row per action and run,
and every cell that a spreadsheet would read as a formula is neutralised.
The journal is a JSON-lines file per plan: an entry when an action starts and when it ends.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

SUCCESS_LOG = "sync_success_log.csv"
ERROR_LOG = "sync_error_log.csv"
COLUMNS = ["time", "run", "plan", "action_id", "kind", "target", "before", "after", "outcome",
           "http_status", "message"]
_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ or control character gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA) else text


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
        directory.mkdir(parents=True, exist_ok=True)
        self.success_path = directory / SUCCESS_LOG
        self.error_path = directory / ERROR_LOG
        self._files: dict[Path, tuple[IO[str], Any]] = {}

    def _writer(self, path: Path) -> Any:
        if path not in self._files:
            new = not path.exists() or path.stat().st_size == 0
            handle = path.open("a", encoding="utf-8", newline="")
            writer = csv.writer(handle)
            if new:
                writer.writerow(COLUMNS)
            self._files[path] = (handle, writer)
        return self._files[path][1]

    def write(self, row: AuditRow, success: bool) -> None:
        writer = self._writer(self.success_path if success else self.error_path)
        writer.writerow([safe_cell(getattr(row, c)) for c in COLUMNS])

    def touch(self) -> None:
        """Make sure both files exist, with their header, even when one gets no row."""
        self._writer(self.success_path)
        self._writer(self.error_path)

    def flush(self) -> None:
        for handle, _ in self._files.values():
            handle.flush()

    def close(self) -> None:
        for handle, _ in self._files.values():
            handle.close()
        self._files.clear()


class Journal:
    """Progress of one plan, appended and flushed as it happens."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.previous = self._read(path)
        self._handle = path.open("a", encoding="utf-8")

    @staticmethod
    def _read(path: Path) -> dict[str, str]:
        """Last known state per action id from earlier runs ("started" = outcome unknown)."""
        states: dict[str, str] = {}
        if not path.exists():
            return states
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if isinstance(entry, dict) and "action" in entry:
                states[str(entry["action"])] = str(entry.get("state", ""))
        return states

    def record(self, action_id: str, state: str, **extra: Any) -> None:
        self._handle.write(json.dumps({"action": action_id, "state": state, **extra}, sort_keys=True) + "\n")
        self._handle.flush()

    def sync(self) -> None:
        self._handle.flush()
        os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()
