"""The real thing over loopback HTTP: `clocksync emulator --state` in a child process, the CLI in another."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(state: Path, port: int, key: str, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "clocksync", "emulator", "--port", str(port), "--state", str(state),
                             *extra],
                            env={**os.environ, "CLOCKSYNC_EMULATOR_API_KEY": key}, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = [proc.stdout.readline().strip() for _ in range(4)]
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return proc, lines
        time.sleep(0.05)
    proc.kill()
    stop(proc)
    pytest.fail("emulator did not start")


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=15)
    if proc.stdout is not None:
        proc.stdout.close()


def clocksync(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "clocksync", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_plan_apply_over_http_and_state_survives_restart(tmp_path: Path) -> None:
    port, key = free_port(), secrets.token_urlsafe(16)
    state = tmp_path / "state.json"
    proc, lines = start(state, port, key)
    try:
        assert lines[1] == f"export CLOCKIFY_BASE_URL=http://127.0.0.1:{port}/api/v1"
        assert lines[2] == f"export CLOCKIFY_API_KEY={key}"
        assert lines[3].startswith("export CLOCKIFY_WORKSPACE_ID=")
        env = {**os.environ, "CLOCKIFY_BASE_URL": f"http://127.0.0.1:{port}/api/v1", "CLOCKIFY_API_KEY": key,
               "CLOCKIFY_WORKSPACE_ID": lines[3].split("=", 1)[1], "CLOCKSYNC_REQUESTS_PER_SECOND": "40"}
        csv, config = str(EXAMPLES / "sample_users.csv"), str(EXAMPLES / "config.yaml")
        planned = clocksync(env, tmp_path, "plan", csv, "--config", config, "--detailed-exitcode")
        assert planned.returncode == 2, planned.stderr
        applied = clocksync(env, tmp_path, "apply", "plans/plan.json", "--config", config)
        assert applied.returncode == 0, applied.stdout + applied.stderr
    finally:
        stop(proc)
    proc, _ = start(state, port, key)
    try:
        again = clocksync(env, tmp_path, "plan", csv, "--config", config, "--detailed-exitcode", "--out", "p2.json")
        assert again.returncode == 0, again.stdout
        wrong = clocksync({**env, "CLOCKIFY_API_KEY": "wrong"}, tmp_path, "preflight")
        assert wrong.returncode == 1 and "rejected" in wrong.stderr and "Traceback" not in wrong.stderr
    finally:
        stop(proc)


def test_dropped_connection_over_real_http(tmp_path: Path) -> None:
    import httpx

    port, key = free_port(), secrets.token_urlsafe(16)
    proc, _ = start(tmp_path / "state.json", port, key, "--p-drop", "1", "--rate-limit", "0")
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.get(f"http://127.0.0.1:{port}/api/v1/user", headers={"X-Api-Key": key})
    finally:
        stop(proc)
