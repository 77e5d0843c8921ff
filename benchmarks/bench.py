"""clocksync benchmarks (`make bench`): a benchmark, not a test; it prints figures and asserts nothing.

For each workspace size N it starts the emulator as a real HTTP server in a child process with a
rate limit (default 50 req/s) and latency (default 25 ms), then measures plan, apply and a no-op
sync (plan + apply on the converged workspace): wall time, requests, 429s, writes, the ratio of
wall time to the time floor (requests / rate limit), and for apply the ratio of requests to the
request floor (writes + one read per changed profile + one read of every list + preflight).
Then: ``auto`` (the adaptive rate) planning 1,000 users against a server that enforces 20 req/s;
the 10,000-user HTML report's render time and its load time in headless Chromium; and the differ
and plan rendering for a large workspace in CPU seconds and peak memory.

    python benchmarks/bench.py                       # N = 100, 1000 (3 runs each) and 10000 (1 run)
    python benchmarks/bench.py --sizes 1000 --runs 5 --rate 50 --latency 0.025

Output: a markdown table on stdout and a JSON file under benchmarks/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.workload import bench_config_yaml, generate, offline_inputs, offline_plan  # noqa: E402
from clocksync.apply.executor import apply_plan  # noqa: E402
from clocksync.clockify.client import ClockifyClient  # noqa: E402
from clocksync.config import load_config  # noqa: E402
from clocksync.load.desired import load_desired  # noqa: E402
from clocksync.plan.diff import diff  # noqa: E402
from clocksync.plan.file import InputFingerprint, build_plan  # noqa: E402
from clocksync.plan.make import make_plan  # noqa: E402
from clocksync.plan.seal import SealKey  # noqa: E402
from clocksync.plan.types import PlanOptions  # noqa: E402
from clocksync.render import render_json, render_text  # noqa: E402

LIST_OPERATIONS = ("GET /workspaces/{workspaceId}/users", "GET /workspaces/{workspaceId}/user-groups",
                   "GET /workspaces/{workspaceId}/custom-fields", "GET /workspaces/{workspaceId}/holidays",
                   "GET /workspaces/{workspaceId}/time-off/policies", "POST /workspaces/{workspaceId}/users/info")
PREFLIGHT = 4  # GET /user, GET /workspaces twice (admin, owner), GET the workspace


@dataclass
class Phase:
    wall: float
    requests: int
    rate_limited: int
    writes: int
    actions: int = 0
    floor_requests: int = 0  # apply: writes + changed profiles + one read of every list + preflight
    list_pages: int = 0

    def floor(self, rate: float) -> float:
        return self.requests / rate

    def ratio(self, rate: float) -> float:
        return self.wall / self.floor(rate) if self.requests else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    def __init__(self, state_file: Path, key: str, rate: float, latency: float) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "clocksync", "emulator", "--port", str(self.port), "--state", str(state_file),
             "--rate-limit", str(rate), "--latency", str(latency), "--save-every", "0"],
            env={**os.environ, "CLOCKSYNC_EMULATOR_API_KEY": key}, stdout=subprocess.DEVNULL, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise SystemExit("emulator did not start")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(f"http://127.0.0.1:{self.port}/__emulator__/stats").json())

    def reset(self) -> None:
        httpx.post(f"http://127.0.0.1:{self.port}/__emulator__/reset-stats")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def _measure(server: Server, key: str, ws_id: str, rate: float, work: Any) -> tuple[Any, Phase]:
    server.reset()
    async with ClockifyClient(key, ws_id, base_url=server.base_url, requests_per_second=rate, concurrency=16,
                              page_size=5000) as client:
        start = time.perf_counter()
        result = await work(client)
        wall = time.perf_counter() - start
    stats = server.stats()
    lists = sum(count for op, count in stats["by_operation"].items() if op in LIST_OPERATIONS)
    return result, Phase(wall, stats["requests"], stats["rate_limited"], stats["writes"], list_pages=lists)


def one_run(n: int, rate: float, latency: float, seed: int) -> dict[str, Any]:
    key = secrets.token_urlsafe(16)
    workload = generate(n, seed=seed, api_key=key)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        state_file = tmpdir / "state.json"
        workload.state.save(state_file)
        (tmpdir / "users.csv").write_text(workload.csv_text)
        (tmpdir / "config.yaml").write_text(bench_config_yaml())
        config = load_config(tmpdir / "config.yaml", required=True)
        desired = load_desired(tmpdir / "users.csv", config)
        ws_id = workload.state.ws.id
        options = PlanOptions(deactivate_missing=True)
        server = Server(state_file, key, rate, latency)
        try:
            async def plan_work(client: ClockifyClient) -> Any:
                return (await make_plan(client, desired, config, options)).plan

            def apply_work(plan: Any) -> Any:
                async def work(client: ClockifyClient) -> Any:
                    return await apply_plan(client, plan, confirm="I UNDERSTAND", log_dir=tmpdir / "logs")
                return work

            plan, plan_phase = asyncio.run(_measure(server, key, ws_id, rate, plan_work))
            plan_phase.actions = len(plan.actions)
            report, apply_phase = asyncio.run(_measure(server, key, ws_id, rate, apply_work(plan)))
            apply_phase.actions = len(plan.actions)
            profiles = plan.summary.by_kind.get("update_profile", 0)
            apply_phase.floor_requests = len(plan.actions) + profiles + plan_phase.list_pages + PREFLIGHT
            assert report.ok, [r.message for r in report.problems()][:5]
            noop_plan, noop_plan_phase = asyncio.run(_measure(server, key, ws_id, rate, plan_work))
            noop_plan_phase.actions = len(noop_plan.actions)
            _, noop_apply_phase = asyncio.run(_measure(server, key, ws_id, rate, apply_work(noop_plan)))
        finally:
            server.stop()
    return {"n": n, "plan": asdict(plan_phase), "apply": asdict(apply_phase), "noop_plan": asdict(noop_plan_phase),
            "noop_apply": asdict(noop_apply_phase), "by_kind": dict(plan.summary.by_kind)}


def auto_bench(n: int, server_rate: float, latency: float, seed: int = 1) -> dict[str, Any]:
    """``requests_per_second: auto`` planning n users against a server that enforces ``server_rate``."""
    key = secrets.token_urlsafe(16)
    workload = generate(n, seed=seed, api_key=key)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        workload.state.save(tmpdir / "state.json")
        (tmpdir / "users.csv").write_text(workload.csv_text)
        (tmpdir / "config.yaml").write_text(bench_config_yaml())
        config = load_config(tmpdir / "config.yaml", required=True)
        desired = load_desired(tmpdir / "users.csv", config)
        server = Server(tmpdir / "state.json", key, server_rate, latency)
        try:
            async def run() -> tuple[float, float, float]:
                async with ClockifyClient(key, workload.state.ws.id, base_url=server.base_url,
                                          requests_per_second="auto", concurrency=16, page_size=5000) as client:
                    start = time.perf_counter()
                    await make_plan(client, desired, config, PlanOptions(deactivate_missing=True))
                    return time.perf_counter() - start, client.limiter.rate, client.limiter.lowest
            server.reset()
            wall, settled, lowest = asyncio.run(run())
            stats = server.stats()
        finally:
            server.stop()
    floor = stats["requests"] / server_rate
    return {"n": n, "server_rate": server_rate, "requests": stats["requests"], "rate_limited": stats["rate_limited"],
            "share_429": stats["rate_limited"] / stats["requests"], "wall": wall, "floor": floor,
            "ratio": wall / floor, "settled_rate": settled, "lowest_rate": lowest}


def html_bench(n: int) -> dict[str, Any]:
    """Render the n-user plan as HTML, and load it in headless Chromium (if installed)."""
    import shutil

    from clocksync.render import render_html

    plan = offline_plan(n)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        page = render_html(plan)
        render_s = time.perf_counter() - start
        path = Path(tmp) / "report.html"
        path.write_text(page, encoding="utf-8")
        result: dict[str, Any] = {"users": n, "actions": len(plan.actions), "render_s": round(render_s, 3),
                                  "html_kb": len(page.encode()) // 1024}
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium:
            loads = []
            for _ in range(3):
                dom = subprocess.run(
                    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     f"--user-data-dir={tmp}/profile", "--dump-dom", path.as_uri()],
                    capture_output=True, text=True, timeout=120, check=True).stdout
                found = re.search(r'data-ready-ms="(\d+)"', dom)
                loads.append(int(found.group(1)) / 1000 if found else float("nan"))
            result["load_s"] = statistics.median(loads)
    return result


def differ_bench(n: int) -> dict[str, Any]:
    """CPU seconds and peak memory of diff + plan + rendering for n users (run in a child process)."""
    code = (
        "import json, resource, sys, time, tempfile\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from benchmarks.bench import _differ_inner\n"
        f"print(json.dumps(_differ_inner({n})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _differ_inner(n: int) -> dict[str, Any]:
    desired, current, config = offline_inputs(n)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu0 = time.process_time()
    options = PlanOptions(deactivate_missing=True)
    plan = build_plan(diff(desired, current, config, options), workspace_id=current.workspace_id,
                      inputs={"csv": InputFingerprint(path="users.csv", sha256=desired.sha256)},
                      options=options, created_at="2026-01-01T00:00:00Z", api_host="127.0.0.1",
                      seal_key=SealKey.derive("bench", current.workspace_id))
    text = render_text(plan)
    cpu_diff = time.process_time() - cpu0
    blob = render_json(plan)
    cpu_total = time.process_time() - cpu0
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"users": n, "actions": len(plan.actions), "cpu_diff_plan_text": round(cpu_diff, 3),
            "cpu_with_json": round(cpu_total, 3), "rss_peak_mb": round(peak_rss / 1024, 1),
            "rss_growth_mb": round((peak_rss - base_rss) / 1024, 1), "text_kb": len(text) // 1024,
            "json_kb": len(blob) // 1024}


def table(results: list[dict[str, Any]], rate: float) -> str:
    lines = ["| N | phase | actions | requests | request floor | requests/floor | writes | 429s | wall s (median) "
             "| time floor s | wall/floor |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    by_n: dict[int, list[dict[str, Any]]] = {}
    for r in results:
        by_n.setdefault(r["n"], []).append(r)
    for n, runs in sorted(by_n.items()):
        for phase in ("plan", "apply", "noop_plan", "noop_apply"):
            walls = [r[phase]["wall"] for r in runs]
            wall = statistics.median(walls)
            requests = statistics.median(r[phase]["requests"] for r in runs)
            floor = requests / rate
            actions = statistics.median(r[phase]["actions"] for r in runs)
            req_floor = statistics.median(r[phase].get("floor_requests", 0) for r in runs)
            req_cells = (f"{req_floor:,.0f} | {requests / req_floor:.3f}" if req_floor else "- | -")
            lines.append(f"| {n:,} | {phase} | {actions:,.0f} | {requests:,.0f} | {req_cells} | "
                         f"{statistics.median(r[phase]['writes'] for r in runs):,.0f} | "
                         f"{max(r[phase]['rate_limited'] for r in runs)} | {wall:.2f} | {floor:.2f} | "
                         f"{wall / floor if floor else 0:.3f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (10,000 users: one run unless --runs-large)")
    parser.add_argument("--runs-large", type=int, default=1)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--latency", type=float, default=0.025)
    parser.add_argument("--differ-users", type=int, default=50_000)
    parser.add_argument("--auto-users", type=int, default=1000, help="users planned with rate auto (0: skip)")
    parser.add_argument("--auto-server-rate", type=float, default=20.0)
    parser.add_argument("--html-users", type=int, default=10_000, help="users in the HTML report timed (0: skip)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = []
    for n in sizes:
        runs = args.runs if n < 10_000 else args.runs_large
        for run in range(runs):
            print(f"... N={n:,} run {run + 1}/{runs}", file=sys.stderr, flush=True)
            results.append(one_run(n, args.rate, args.latency, seed=run + 1))
            print(table([results[-1]], args.rate).split("\n", 2)[2], file=sys.stderr, flush=True)
    auto = auto_bench(args.auto_users, args.auto_server_rate, args.latency) if args.auto_users else None
    html = html_bench(args.html_users) if args.html_users else None
    differ = differ_bench(args.differ_users) if args.differ_users else None
    print(f"## clocksync benchmark: rate limit {args.rate:g} req/s, latency {args.latency * 1000:g} ms\n")
    print(table(results, args.rate))
    if auto:
        print(f"\nauto rate, plan of {auto['n']:,} users against a server enforcing {auto['server_rate']:g} req/s: "
              f"{auto['requests']:,} requests, {auto['rate_limited']} answered 429 ({auto['share_429']:.1%}), "
              f"{auto['wall']:.1f} s for a floor of {auto['floor']:.1f} s ({auto['ratio']:.3f}x); the rate went down "
              f"to {auto['lowest_rate']:.1f} req/s and ended at {auto['settled_rate']:.1f} req/s.")
    if html:
        load = f", loaded in headless Chromium in {html['load_s']:.2f} s (median of 3)" if "load_s" in html else ""
        print(f"\nHTML report of {html['users']:,} users ({html['actions']:,} actions, {html['html_kb']:,} KB): "
              f"rendered in {html['render_s']:.2f} s{load}.")
    if differ:
        print(f"\nDiffer + plan + text rendering for {differ['users']:,} users ({differ['actions']:,} actions): "
              f"{differ['cpu_diff_plan_text']:.2f} s CPU ({differ['cpu_with_json']:.2f} s with the JSON file), "
              f"peak RSS {differ['rss_peak_mb']:.0f} MB (growth {differ['rss_growth_mb']:.0f} MB).")
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = args.out / f"bench-{stamp}.json"
    path.write_text(json.dumps({"rate": args.rate, "latency": args.latency, "runs": results, "differ": differ,
                               "auto": auto, "html": html}, indent=2))
    print(f"\nJSON: {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
