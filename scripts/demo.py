"""The demo: start the emulator, plan examples/sample_users.csv against it, show the diff.

Usage: python scripts/demo.py [--port N] [--apply]
With --apply it then applies the plan and plans again, which shows no changes.
The emulator runs as a real HTTP server in a child process and is stopped at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port(preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise SystemExit("no free port")


def wait_for(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"the emulator did not start on port {port}")


def clocksync(*args: str, env: dict[str, str]) -> int:
    print(f"\n$ clocksync {' '.join(args)}", flush=True)
    return subprocess.call([sys.executable, "-m", "clocksync", *args], env=env, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--apply", action="store_true", help="also apply the plan and plan again")
    args = parser.parse_args()
    port = free_port(args.port)
    key = secrets.token_urlsafe(24)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLOCKIFY_", "CLOCKSYNC_"))}
    server = subprocess.Popen(
        [sys.executable, "-m", "clocksync", "emulator", "--port", str(port)],
        env={**env, "CLOCKSYNC_EMULATOR_API_KEY": key}, stdout=subprocess.DEVNULL, cwd=ROOT,
    )
    try:
        wait_for(port)
        print(f"Emulator running on http://127.0.0.1:{port}/api/v1 with the demo workspace.")
        env.update({
            "CLOCKIFY_BASE_URL": f"http://127.0.0.1:{port}/api/v1",
            "CLOCKIFY_API_KEY": key,
            "CLOCKIFY_WORKSPACE_ID": "64a1f0c2e4b0d9a1c0de0001",
            "CLOCKSYNC_REQUESTS_PER_SECOND": "40",
        })
        plan = "plans/demo-plan.json"
        code = clocksync("plan", "examples/sample_users.csv", "--config", "examples/config.yaml", "--out", plan,
                         env=env)
        if code != 0:
            return code
        if args.apply:
            code = clocksync("apply", plan, "--config", "examples/config.yaml", "--log-dir", "plans", env=env)
            code = code or clocksync("plan", "examples/sample_users.csv", "--config", "examples/config.yaml",
                                     "--out", "plans/demo-replan.json", "--detailed-exitcode", env=env)
            return code
        print("\nNext: `python scripts/demo.py --apply` applies this plan on a fresh emulator and plans again;\n"
              "`clocksync emulator` serves the demo workspace for your own runs (see README).")
        return 0
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
