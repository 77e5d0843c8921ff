"""`clocksync apply` SIGKILLed over real HTTP, again and again, at random points while it writes.

After the last apply: every action was written exactly once (the emulator counts its state
changes), the next plan is empty, and the audit CSV accounts for every write that succeeded,
except at most the writes in flight at each kill (``api.concurrency`` of them).
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from benchmarks.workload import Drift, generate, write_workdir
from clocksync.apply.runlog import list_runs
from clocksync.plan.file import load_plan
from tests.test_server import clocksync, free_port, start, stop

KILLS = 12
IN_FLIGHT = 2  # api.concurrency of the killed applies: at most this many writes unrecorded per kill


def _outcome_lines(workdir: Path, known: set[str]) -> tuple[str | None, int]:
    """The newest run folder not seen before, and how many outcome lines it has."""
    runs = [r for r in list_runs(workdir) if r.run_id not in known]
    if not runs:
        return None, 0
    path = runs[-1].path / "outcomes.jsonl"
    return runs[-1].run_id, len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.slow
def test_sigkill_while_writing_loses_no_audit_row_beyond_the_in_flight(tmp_path: Path) -> None:
    workload = generate(240, seed=5, drift=Drift(capacity=0.02, field=0.0, move=0.35, leave=0.02, hire=0.0),
                        api_key="kill-" + os.urandom(6).hex())
    write_workdir(tmp_path, workload, concurrency=IN_FLIGHT)
    port = free_port()
    proc, lines = start(tmp_path / "state.json", port, workload.api_key, "--latency", "0.01")
    rng = random.Random(11)
    kills = 0
    env = {**os.environ, "CLOCKIFY_BASE_URL": f"http://127.0.0.1:{port}/api/v1", "CLOCKIFY_API_KEY": workload.api_key,
           "CLOCKIFY_WORKSPACE_ID": lines[3].split("=", 1)[1], "CLOCKSYNC_REQUESTS_PER_SECOND": "80"}
    try:
        planned = clocksync(env, tmp_path, "plan", "users.csv", "--deactivate-missing")
        assert planned.returncode == 0, planned.stderr
        plan = load_plan(tmp_path / "plans" / "plan.json")
        assert len(plan.actions) > KILLS * 20, "enough writes for every kill to land mid-run"
        httpx.post(f"http://127.0.0.1:{port}/__emulator__/reset-stats")
        known: set[str] = set()
        ended_alone: list[str] = []
        for n in range(KILLS):
            errors = tmp_path / f"apply-{n}.err"
            with errors.open("w") as stderr:
                child = subprocess.Popen([sys.executable, "-m", "clocksync", "apply", "plans/plan.json", "--confirm",
                                          "I UNDERSTAND"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL,
                                         stderr=stderr)
            target = rng.randint(2, 18)  # outcome lines ("sent" and ends) this run writes before its kill
            deadline = time.monotonic() + 60
            run_id = None
            while child.poll() is None and time.monotonic() < deadline:
                run_id, count = _outcome_lines(tmp_path, known)
                if count >= target:
                    child.send_signal(signal.SIGKILL)
                    kills += 1
                    break
                time.sleep(0.005)
            if child.wait() != -signal.SIGKILL:
                ended_alone.append(f"apply {n} ended by itself ({child.returncode}): {errors.read_text()[-300:]}")
            if run_id:
                known.add(run_id)
        final = clocksync(env, tmp_path, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
        assert final.returncode == 0, final.stdout + final.stderr
        stats = httpx.get(f"http://127.0.0.1:{port}/__emulator__/stats").json()
        again = clocksync(env, tmp_path, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode",
                          "--out", "again.json")
        assert again.returncode == 0, again.stdout
    finally:
        stop(proc)
    assert kills == KILLS, ended_alone
    assert stats["state_writes"] == len(plan.actions), "every action written exactly once across all runs"
    with (tmp_path / "sync_success_log.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    applied = Counter(r["action_id"] for r in rows if r["outcome"] == "applied")
    assert max(applied.values()) == 1, "no action logged as applied twice"
    assert len(applied) <= stats["state_writes"]
    unlogged = stats["state_writes"] - len(applied)
    assert unlogged <= kills * IN_FLIGHT, f"{unlogged} successful writes have no applied row ({kills} kills)"
    logged = {r["action_id"] for r in rows}
    assert logged >= {a.id for a in plan.actions}, "every action has a row (applied, or already in place after a kill)"
    state = json.loads((tmp_path / "state.json").read_text())
    assert max(Counter(g["name"].lower() for g in state["groups"].values()).values()) == 1
    print(f"\nsigkill: {kills} kills; {stats['state_writes']} writes, {len(applied)} logged as applied, "
          f"{unlogged} in flight at a kill (bound {kills * IN_FLIGHT})")
