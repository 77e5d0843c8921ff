"""An apply killed mid-way, run again with the same plan, finishes the job: nothing duplicated, nothing lost."""

from __future__ import annotations

import asyncio
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

from clocksync.apply.executor import apply_plan
from clocksync.apply.runlog import list_runs
from clocksync.plan.file import load_plan
from tests.conftest import EXAMPLES, EmulatorHarness, make_harness, run_cli
from tests.test_server import clocksync, free_port, start, stop


class Killed(BaseException):
    """Stands for the process dying: not an Exception, so nothing in clocksync catches it."""


class KillAfterWrites(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, writes: int) -> None:
        self.inner = inner
        self.left = writes

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != "GET" and not request.url.path.endswith("/users/info"):
            self.left -= 1
            if self.left < 0:
                raise Killed()  # the write reached the server; its answer never reaches clocksync
        return response


def assert_no_duplicates(h: EmulatorHarness) -> None:
    names = Counter(g.name.lower() for g in h.state.ws.groups.values())
    assert [n for n, c in names.items() if c > 1] == []
    fields = Counter(f.name.lower() for f in h.state.ws.fields.values())
    assert [n for n, c in fields.items() if c > 1] == []


@pytest.mark.parametrize("kill_after", [0, 1, 3, 7, 12, 20, 30, 38])
def test_killed_apply_resumes_without_duplicates(workdir: Path, kill_after: int) -> None:
    h = make_harness()
    assert run_cli(h, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    plan = load_plan(Path("plans/plan.json"))

    async def killed_run() -> None:
        transport = KillAfterWrites(h.transport, kill_after)
        async with h.client(transport=transport) as client:
            await apply_plan(client, plan, confirm="I UNDERSTAND", log_dir=Path("."))

    with pytest.raises((Killed, BaseExceptionGroup)) as info:
        asyncio.run(killed_run())
    if isinstance(info.value, BaseExceptionGroup):
        killed, other = info.value.split(Killed)
        assert killed is not None and other is None, other
    first_writes = h.state.writes
    assert first_writes >= kill_after + 1  # requests in flight at the kill may land too

    resumed = run_cli(h, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
    assert resumed.exit_code == 0, resumed.output
    assert h.state.writes == len(plan.actions), "every action written exactly once across both runs"
    assert_no_duplicates(h)
    assert run_cli(h, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode",
                   "--out", "plans/again.json").exit_code == 0
    assert h.transport.violations == []
    runs = list_runs(Path("."))
    assert len(runs) == 2 and not runs[0].finished and runs[1].finished
    assert "Resumed an interrupted apply" in resumed.output
    assert set(runs[0].outcomes) | set(runs[1].outcomes) >= {a.id for a in plan.actions}


@pytest.mark.slow
def test_sigkill_at_random_points_converges(tmp_path: Path) -> None:
    """Real processes: the emulator over HTTP, `clocksync apply` SIGKILLed at random moments."""
    port, key = free_port(), "k-" + os.urandom(8).hex()
    proc, lines = start(tmp_path / "state.json", port, key)
    rng = random.Random(7)
    kills = 0
    try:
        env = {**os.environ, "CLOCKIFY_BASE_URL": f"http://127.0.0.1:{port}/api/v1", "CLOCKIFY_API_KEY": key,
               "CLOCKIFY_WORKSPACE_ID": lines[3].split("=", 1)[1], "CLOCKSYNC_REQUESTS_PER_SECOND": "20"}
        csv, config = str(EXAMPLES / "sample_users.csv"), str(EXAMPLES / "config.yaml")
        planned = clocksync(env, tmp_path, "plan", csv, "--config", config, "--deactivate-missing",
                            "--delete-unmanaged-groups")
        assert planned.returncode == 0, planned.stderr
        for _ in range(6):
            child = subprocess.Popen([sys.executable, "-m", "clocksync", "apply", "plans/plan.json", "--config",
                                      config, "--confirm", "I UNDERSTAND"], env=env, cwd=tmp_path,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.4, 1.6))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)
                kills += 1
            child.wait()
        final = clocksync(env, tmp_path, "apply", "plans/plan.json", "--config", config, "--confirm", "I UNDERSTAND")
        assert final.returncode == 0, final.stdout + final.stderr
        again = clocksync(env, tmp_path, "plan", csv, "--config", config, "--deactivate-missing",
                          "--delete-unmanaged-groups", "--detailed-exitcode", "--out", "again.json")
        assert again.returncode == 0, again.stdout
    finally:
        stop(proc)
    state = json.loads((tmp_path / "state.json").read_text())
    names = Counter(g["name"].lower() for g in state["groups"].values())
    assert max(names.values()) == 1
    assert kills >= 1
    print(f"\nsigkill: {kills} kills of `clocksync apply` survived; converged with no duplicate group")
