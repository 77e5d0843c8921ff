"""Converge under faults: 429 storms, 5xx, writes applied but answered 502; nothing duplicated, all accounted for."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.workload import bench_config_yaml, generate
from clocksync.apply.executor import apply_plan
from clocksync.apply.report import ApplySettings
from clocksync.clockify.client import RetryPolicy
from clocksync.config import load_config
from clocksync.emulator.app import EmulatorOptions
from clocksync.load.desired import load_desired
from clocksync.plan.make import make_plan
from clocksync.plan.types import PlanOptions
from tests.conftest import make_harness

# Retries sized so that a 40 ms storm is outlasted: 12 tries with waits from 5 ms up to 50 ms.
SOAK_RETRY = RetryPolicy(max_attempts=12, initial_wait=0.005, max_wait=0.05, max_retry_after=0.01)
SOAK_SETTINGS = ApplySettings(retry_budget=120, backoff_initial=0.005, backoff_max=0.05)


@pytest.mark.parametrize(("seed", "retry_after"), [(1, None), (2, 0.001), (3, None)])
def test_soak_converges_in_one_apply(tmp_path: Path, seed: int, retry_after: float | None) -> None:
    workload = generate(150, seed=seed, api_key=f"soak-{seed}")
    faults = EmulatorOptions(rate_limit=0, p_429=0.15, retry_after=retry_after, p_5xx=0.08, p_applied_502=0.15,
                             p_drop=0.05, storm_every=0.4, storm_length=0.04, latency=0.002, seed=seed)
    h = make_harness(workload.state, workload.api_key, faults)
    (tmp_path / "users.csv").write_text(workload.csv_text)
    (tmp_path / "config.yaml").write_text(bench_config_yaml())
    config = load_config(tmp_path / "config.yaml", required=True)
    desired = load_desired(tmp_path / "users.csv", config)

    async def run() -> tuple:
        async with h.client(retry=SOAK_RETRY) as client:
            plan = await make_plan(client, desired, config, PlanOptions(deactivate_missing=True))
            report = await apply_plan(client, plan, confirm="I UNDERSTAND", log_dir=tmp_path, settings=SOAK_SETTINGS)
            opts = h.emulator.options
            opts.p_429 = opts.p_5xx = opts.p_applied_502 = opts.p_drop = opts.storm_every = 0.0
            again = await make_plan(client, desired, config, PlanOptions(deactivate_missing=True))
            return plan, report, again

    plan, report, again = asyncio.run(run())
    stats = h.emulator.stats
    print(f"\nsoak seed={seed}: {stats.requests} requests, {stats.injected_faults} injected faults "
          f"(429/503/502-after-write/drops), {stats.rate_limited} answered 429, {len(plan.actions)} actions")
    assert h.emulator.stats.injected_faults > 50, "the soak really injected faults"
    assert h.emulator.stats.rate_limited > 50, "429s, random and in storms"
    assert report.ok, [(r.action.describe(), r.outcome, r.message) for r in report.problems()][:5]
    assert again.actions == (), [a.describe() for a in again.actions][:5]
    groups = Counter(g.name.lower() for g in h.state.ws.groups.values())
    assert max(groups.values()) == 1, "no duplicate group"
    fields = Counter(f.name.lower() for f in h.state.ws.fields.values())
    assert max(fields.values()) == 1, "no duplicate custom field"
    with (tmp_path / "sync_success_log.csv").open() as handle:
        logged = {row["action_id"] for row in csv.DictReader(handle)}
    assert logged == {a.id for a in plan.actions}, "the audit log accounts for every action"
    assert h.transport.violations == []
