"""The record of each apply run: ``LOG_DIR/.clocksync/runs/RUN_ID/``.

One folder per run, written as the run goes (documented in docs/runs.md):

- ``run.json``: run id, workspace, plan file and checksum, start and end time, counts by outcome.
  ``finished_at`` stays null for a run that did not finish: one that was killed, or one that was
  stopped (Ctrl-C, SIGTERM), which also records ``interrupted`` (the signal), ``stopped_at`` and
  its counts (including "in flight" and "not run").
- ``plan.json``: the plan the run applied (a copy; plans hold no secrets).
- ``before.json``: every object the plan touches, whole, as read right before the first write
  (profiles with every USER field and capacity, groups with members and managers, users with
  their status and roles, projects with their managers). Written, atomically, before any write.
- ``outcomes.jsonl``: a line when an action's write is sent ("sent": it left the client) and a
  line when the action ends, each flushed at once, so a killed run's record is complete for what
  it wrote. An action with no line was not sent (runs before this release wrote "started" when an
  action was queued, so "started" may or may not have been sent).

``undo`` builds its plan from these files and ``history`` lists the runs. Nothing here holds the
API key: plans, snapshots and outcomes are workspace data only. Every file is private (0600, the
folders 0700) and written without following a symlink (``clocksync.files``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clocksync.apply.report import Outcome
from clocksync.files import Appender, new_private_folder, private_folder, write_private

RUNS = Path(".clocksync") / "runs"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _write_json(path: Path, data: Any) -> None:
    write_private(path, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


@dataclass
class RunRecord:
    """A run as read back from its folder."""

    path: Path
    info: dict[str, Any]
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)  # action id -> last entry

    @property
    def run_id(self) -> str:
        return str(self.info.get("run_id", self.path.name))

    @property
    def finished(self) -> bool:
        return self.info.get("finished_at") is not None

    @property
    def stopped_by(self) -> str | None:
        """The signal that stopped the run (it did not finish), if it recorded one."""
        found = self.info.get("interrupted")
        return str(found) if found else None

    @property
    def started_at(self) -> str:
        return str(self.info.get("started_at", ""))

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry in self.outcomes.values():
            state = str(entry.get("state", ""))
            counts[state] = counts.get(state, 0) + 1
        return dict(sorted(counts.items()))

    def plan_data(self) -> dict[str, Any]:
        return dict(json.loads((self.path / "plan.json").read_text(encoding="utf-8")))

    def before(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The objects saved before the first write (by ref text), and the names of the ids they mention."""
        path = self.path / "before.json"
        if not path.exists():
            return {}, {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data.get("objects", {})), dict(data.get("names", {}))


def read_run(path: Path) -> RunRecord | None:
    """A run folder read back; None when it has no readable run.json."""
    try:
        info = json.loads((path / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    record = RunRecord(path, info)
    outcomes = path / "outcomes.jsonl"
    if outcomes.exists():
        for line in outcomes.read_text(encoding="utf-8").splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a kill
            if isinstance(entry, dict) and "action" in entry:
                record.outcomes[str(entry["action"])] = entry
    return record


def list_runs(log_dir: Path) -> list[RunRecord]:
    """Every run under ``log_dir``, oldest first."""
    root = log_dir / RUNS
    if not root.is_dir():
        return []
    runs = [r for r in (read_run(p) for p in root.iterdir() if p.is_dir()) if r is not None]
    return sorted(runs, key=lambda r: (r.started_at, r.run_id))


class RunLog:
    """The folder of the run in progress."""

    def __init__(self, path: Path, info: dict[str, Any], interrupted: RunRecord | None) -> None:
        self.path = path
        self.info = info
        self.interrupted = interrupted  # the last run of this plan, when it did not finish
        self.resumed = 0 if interrupted is None else sum(
            1 for e in interrupted.outcomes.values() if e.get("state") in (Outcome.APPLIED, Outcome.IN_PLACE))
        self._outcomes = Appender(path / "outcomes.jsonl")

    @property
    def run_id(self) -> str:
        return str(self.info["run_id"])

    @classmethod
    def start(cls, log_dir: Path, plan_json: str, *, checksum: str, workspace_id: str, plan_file: str | None,
              purpose: str) -> RunLog:
        earlier = [r for r in list_runs(log_dir) if r.info.get("plan_checksum") == checksum]
        interrupted = earlier[-1] if earlier and not earlier[-1].finished else None
        root = log_dir / RUNS
        private_folder(log_dir)
        private_folder(log_dir / RUNS.parent, strict=True)
        private_folder(root, strict=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        for n in range(1, 10_000):
            run_id = stamp if n == 1 else f"{stamp}-{n}"
            if new_private_folder(root / run_id):
                break
        path = root / run_id
        info: dict[str, Any] = {"run_id": run_id, "workspace_id": workspace_id, "plan_file": plan_file, "plan_checksum": checksum,
                "purpose": purpose, "started_at": now_iso(), "finished_at": None, "counts": {}}
        write_private(path / "plan.json", plan_json)
        _write_json(path / "run.json", info)
        return cls(path, info, interrupted)

    def save_before(self, objects: dict[str, Any], names: dict[str, str]) -> None:
        _write_json(self.path / "before.json", {"taken_at": now_iso(), "objects": objects, "names": names})

    def record(self, action_id: str, state: Outcome, **extra: Any) -> None:
        entry = {"action": action_id, "state": state, "at": now_iso(), **{k: v for k, v in extra.items() if v}}
        self._outcomes.append(json.dumps(entry, sort_keys=True) + "\n")  # handed to the OS at once

    def finish(self, counts: dict[str, int]) -> None:
        self._outcomes.close()
        self.info.update(finished_at=now_iso(), counts=dict(sorted(counts.items())))
        _write_json(self.path / "run.json", self.info)

    def interrupted_by(self, signal_name: str, counts: dict[str, int]) -> None:
        """Record that the run was stopped (it stays unfinished: the next run of its plan resumes it)."""
        self._outcomes.close()
        self.info.update(interrupted=signal_name, stopped_at=now_iso(), counts=dict(sorted(counts.items())))
        _write_json(self.path / "run.json", self.info)

    def close(self) -> None:
        self._outcomes.close()
