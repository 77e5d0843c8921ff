"""`clocksync apply` stopped by a real signal over real HTTP: Ctrl-C (SIGINT) and SIGTERM.

The emulator runs as a server that answers ``HOLD_AFTER`` writes and then holds every later write
unanswered (``--hold-writes-after``), so when the signal comes the apply has exactly
``api.concurrency`` writes in flight and the rest queued behind them. Every step waits for an
event it can observe (the emulator's counters, the run folder's lines, the apply's own words on
stderr), never for time to pass.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from click.testing import CliRunner

from benchmarks.workload import Drift, generate, write_workdir
from clocksync.apply.runlog import list_runs
from clocksync.cli import cli
from clocksync.plan.file import load_plan
from tests.test_server import clocksync, free_port

HOLD_AFTER = 8  # writes the emulator answers before it holds the rest
CONCURRENCY = 3  # api.concurrency: the writes in flight when the signal comes


def wait_for(what: str, check: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


class Emulator:
    """``clocksync emulator`` in a child process, its log kept to read afterwards."""

    def __init__(self, workdir: Path, key: str, *extra: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log = workdir / f"emulator-{self.port}.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "clocksync", "emulator", "--port", str(self.port), "--rate-limit", "0",
                 "--state", str(workdir / "state.json"), *extra], env={**os.environ, "CLOCKSYNC_EMULATOR_API_KEY": key},
                stdout=subprocess.PIPE, stderr=log, text=True)
        assert self.proc.stdout is not None
        self.lines = [self.proc.stdout.readline().strip() for _ in range(4)]
        assert self.lines[1].startswith("export CLOCKIFY_BASE_URL="), self.log.read_text()
        wait_for("the emulator to listen", self.listening, timeout=15)

    def listening(self) -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", self.port)) == 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def stats(self) -> dict[str, Any]:
        return dict(httpx.get(self.url("/__emulator__/stats")).json())

    def stop(self) -> str:
        """Stop it (the state is saved) and return what it logged."""
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=30)
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        return self.log.read_text()


class Lines:
    """A child's stream read line by line on a thread, so a test can wait for one line with a deadline."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                pytest.fail(f"no line with {text!r} in: {''.join(self.seen)}")
            if line is None:
                pytest.fail(f"the stream ended without {text!r}: {''.join(self.seen)}")
            self.seen.append(line)
            if text in line:
                return line

    def rest(self) -> str:
        while (line := self._queue.get(timeout=60)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def outcome_states(workdir: Path) -> Counter[str]:
    runs = list_runs(workdir)
    if not runs:
        return Counter()
    return Counter(str(e["state"]) for e in runs[-1].outcomes.values())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    workload = generate(150, seed=7, drift=Drift(capacity=0.2, field=0.1, move=0.3, leave=0.02, hire=0.0),
                        api_key="stop-" + os.urandom(6).hex())
    write_workdir(tmp_path, workload, concurrency=CONCURRENCY)
    (tmp_path / "key").write_text(workload.api_key)
    return tmp_path


def env_for(emulator: Emulator, key: str) -> dict[str, str]:
    return {**os.environ, "CLOCKIFY_BASE_URL": emulator.url("/api/v1"), "CLOCKIFY_API_KEY": key,
            "CLOCKIFY_WORKSPACE_ID": emulator.lines[3].split("=", 1)[1], "CLOCKSYNC_REQUESTS_PER_SECOND": "1000",
            "NO_COLOR": "1"}


@pytest.mark.parametrize("sig, then", [(signal.SIGINT, "release"), (signal.SIGINT, "again"),
                                       (signal.SIGTERM, "again")])
def test_a_stopped_apply_records_what_finished_and_what_was_in_flight(workdir: Path, sig: signal.Signals,
                                                                      then: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """``release``: the writes in flight are answered within the grace, so each ends with its real
    outcome. ``again``: a second signal cuts them off, and they end "in flight"."""
    key = (workdir / "key").read_text()
    held = Emulator(workdir, key, "--hold-writes-after", str(HOLD_AFTER))
    env = env_for(held, key)
    try:
        assert clocksync(env, workdir, "plan", "users.csv", "--deactivate-missing", "--allow-mass-field-change").returncode == 0
        plan = load_plan(workdir / "plans" / "plan.json")
        assert len(plan.actions) > HOLD_AFTER + CONCURRENCY + 20
        child = subprocess.Popen([sys.executable, "-m", "clocksync", "apply", "plans/plan.json", "--confirm",
                                  "I UNDERSTAND", "--report", "reports/apply.html"], env=env, cwd=workdir,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert child.stdout is not None and child.stderr is not None
        stderr, stdout = Lines(child.stderr), Lines(child.stdout)
        wait_for("the answered writes to be recorded and the next ones held",
                 lambda: outcome_states(workdir)["applied"] == HOLD_AFTER and held.stats()["held"] == CONCURRENCY)
        assert outcome_states(workdir) == {"applied": HOLD_AFTER, "sent": CONCURRENCY}, "sent = left the client"
        child.send_signal(sig)
        stopping = stderr.wait_for(f"Stopping ({sig.name})")
        assert f"{CONCURRENCY} write(s) in flight" in stopping
        if then == "release":
            httpx.post(held.url("/__emulator__/release"))
        else:
            child.send_signal(sig)
        code = child.wait(timeout=60)
        err, out = stderr.rest(), stdout.rest()
        child.stdout.close()
        child.stderr.close()
        wait_for("the emulator to let go of the requests", lambda: held.stats()["held"] == 0)
        first_writes = held.stats()["state_writes"]
    finally:
        log = held.stop()
    assert code == {signal.SIGINT: 130, signal.SIGTERM: 143}[sig], err
    assert "Traceback" not in err + log, err + log
    assert "run the same plan again: clocksync apply plans/plan.json" in err
    finished = HOLD_AFTER + (CONCURRENCY if then == "release" else 0)
    in_flight = 0 if then == "release" else CONCURRENCY
    not_run = len(plan.actions) - finished - in_flight
    assert first_writes == finished, "nothing was sent after the signal"
    [run] = list_runs(workdir)
    info = json.loads((run.path / "run.json").read_text())
    assert info["finished_at"] is None and info["interrupted"] == sig.name
    assert info["counts"] == {"applied": finished, **({"in flight": in_flight} if in_flight else {}),
                              "not run": not_run}
    assert f"{finished} applied" in out and f"{not_run} not run" in out and "not verified" in out
    report = (workdir / "reports" / "apply.html").read_text()
    assert f"INTERRUPTED ({sig.name})" in report and f'data-card="not-run"><b>{not_run}</b>' in report
    monkeypatch.chdir(workdir)  # history and undo read files only: run them in this process
    assert f"INTERRUPTED ({sig.name})" in CliRunner().invoke(cli, ["history"]).stdout
    undone = CliRunner().invoke(cli, ["undo"], env=env)  # the key seals the undo plan
    assert undone.exit_code == 0, undone.output
    undo = load_plan(workdir / "plans" / "undo.json")
    wrote = {a.id for a in plan.actions if run.outcomes.get(a.id, {}).get("state") in ("applied", "in flight")}
    assert len(wrote) == finished + in_flight
    takes_back = [a for a in plan.actions if a.id in wrote and a.kind_name != "create_custom_field"]
    assert len(undo.actions) == len(takes_back), "undo holds what was applied or in flight, not what was queued"
    assert {a.target for a in undo.actions} <= {a.target for a in takes_back} | {
        a.subjects[0] for a in takes_back if a.subjects}

    fresh = Emulator(workdir, key, port=held.port)  # the same workspace at the same address, answering again
    env = env_for(fresh, key)
    try:
        again = clocksync(env, workdir, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
        assert again.returncode == 0, again.stdout + again.stderr
        assert "Resumed an interrupted apply" in again.stdout
        assert first_writes + fresh.stats()["state_writes"] == len(plan.actions), "each action written once"
        replanned = clocksync(env, workdir, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode",
                              "--out", "plans/again.json")
        assert replanned.returncode == 0, replanned.stdout
    finally:
        fresh.stop()


def test_the_emulator_ends_a_request_whose_client_went_away_without_a_traceback(tmp_path: Path) -> None:
    key = "gone-" + os.urandom(6).hex()
    emulator = Emulator(tmp_path, key)
    workspace = emulator.lines[3].split("=", 1)[1]
    try:
        with socket.create_connection(("127.0.0.1", emulator.port)) as sock:
            sock.sendall((f"POST /api/v1/workspaces/{workspace}/user-groups HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                          f"X-Api-Key: {key}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"
                          '{"name": "Half a').encode())
            wait_for("the request to reach the emulator", lambda: emulator.stats()["requests"] == 1)
        # The client is gone with the body half sent: the emulator ends the request (and counts it),
        # or (before this was handled) logs a traceback.
        wait_for("the emulator to end the request", lambda: emulator.stats().get("client_gone") == 1
                 or "Traceback" in emulator.log.read_text())
        assert httpx.get(emulator.url("/api/v1/user"), headers={"X-Api-Key": key}).status_code == 200
    finally:
        log = emulator.stop()
    assert "Traceback" not in log and "ClientDisconnect" not in log, log
