"""Regenerate plans/sample-plan.json: the demo workspace planned from examples/sample_users.csv.

Usage: python scripts/sample_plan.py
The emulator runs in-process; the plan's time is fixed so the file only changes when the format does.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from clocksync.clockify.client import ClockifyClient  # noqa: E402
from clocksync.config import load_config  # noqa: E402
from clocksync.emulator.app import Emulator, EmulatorOptions, EmulatorTransport  # noqa: E402
from clocksync.emulator.demo import demo_workspace  # noqa: E402
from clocksync.load.desired import load_desired  # noqa: E402
from clocksync.plan.file import Plan, save_plan  # noqa: E402
from clocksync.plan.make import make_plan  # noqa: E402
from clocksync.plan.types import PlanOptions  # noqa: E402

OUT = ROOT / "plans" / "sample-plan.json"
CREATED_AT = "2026-11-27T12:00:00Z"


async def sample() -> Plan:
    state, key = demo_workspace("sample-key")
    transport = EmulatorTransport(app=Emulator(state, EmulatorOptions(rate_limit=0)).app)
    config = load_config(Path("examples/config.yaml"), required=True)
    desired = load_desired(Path("examples/sample_users.csv"), config)
    options = PlanOptions(deactivate_missing=True, delete_unmanaged_groups=True, as_of=CREATED_AT[:10])
    async with ClockifyClient(key, state.ws.id, base_url="http://127.0.0.1/api/v1", requests_per_second=1000,
                              transport=transport) as client:
        return await make_plan(client, desired, config, options, created_at=CREATED_AT)


def main() -> int:
    import os

    os.chdir(ROOT)  # the plan records input paths relative to the repository
    plan = asyncio.run(sample())
    save_plan(plan, OUT)
    print(f"wrote {OUT.relative_to(ROOT)}: {plan.summary.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
