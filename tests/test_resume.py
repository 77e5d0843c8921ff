"""An apply killed mid-way, run again with the same plan, finishes the job: nothing duplicated, nothing lost."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import httpx
import pytest

from clocksync.apply.executor import apply_plan
from clocksync.apply.runlog import list_runs
from clocksync.plan.file import load_plan
from tests.conftest import EmulatorHarness, make_harness, run_cli


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
