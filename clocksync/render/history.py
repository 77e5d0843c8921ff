"""`clocksync history`: one line per apply run, as text or JSON.

A run names the plan it applied by the run folder's own copy (``plan``): the file it was given
(``plan_file``, in JSON) is overwritten by the next ``clocksync plan``.
"""

from __future__ import annotations

import json
from typing import Any

from clocksync.apply.report import Outcome
from clocksync.apply.runlog import RunRecord
from clocksync.sanitize import json_safe, visible


def history_rows(runs: list[RunRecord]) -> list[dict[str, Any]]:
    return [{"run_id": r.run_id, "started_at": r.started_at, "finished_at": r.info.get("finished_at"),
             "finished": r.finished, "purpose": r.info.get("purpose", "sync"), "plan_file": r.info.get("plan_file"),
             "plan": str(r.path / "plan.json"),
             "plan_checksum": r.info.get("plan_checksum"), "workspace_id": r.info.get("workspace_id"),
             "stopped_by": r.stopped_by,
             "counts": r.info.get("counts") if r.finished or r.stopped_by else _live_counts(r)} for r in runs]


def _live_counts(run: RunRecord) -> dict[str, int]:
    """A killed run has no final counts: count its outcome lines ("sent", or "started" in runs made
    before "sent" was recorded, means in flight when it died)."""
    counts = run.counts()
    for state in (Outcome.SENT, Outcome.STARTED):
        if state in counts:
            counts["in flight when it stopped"] = counts.get("in flight when it stopped", 0) + counts.pop(state)
    return counts


def render_history(runs: list[RunRecord], fmt: str) -> str:
    rows = history_rows(runs)
    if fmt == "json":
        return json_safe(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n"
    if not rows:
        return "No apply runs here yet.\n"
    lines = []
    for row in rows:
        counts = ", ".join(f"{n} {state}" for state, n in sorted(row["counts"].items())) or "no actions"
        state = "finished" if row["finished"] else (
            f"INTERRUPTED ({row['stopped_by']})" if row["stopped_by"] else "DID NOT FINISH")
        kind = " (undo)" if row["purpose"] == "undo" else ""
        lines.append(f"{row['started_at']}  {row['run_id']}{kind}  {row['plan']}  "
                     f"{str(row['plan_checksum'] or '').removeprefix('sha256:')[:12]}  {counts}  [{state}]")
    return "\n".join(visible(line) for line in lines) + "\n"
