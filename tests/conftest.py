"""Fixtures: an in-process emulator behind a contract-checking transport, and a CLI runner over it."""

from __future__ import annotations

import csv
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from clocksync.cli import cli
from clocksync.clockify.client import ClockifyClient, RetryPolicy
from clocksync.emulator.app import Emulator, EmulatorOptions, EmulatorTransport
from clocksync.emulator.demo import demo_workspace
from clocksync.emulator.state import WorkspaceState
from tests.contract import ContractTransport

# Hypothesis: the suite runs a few dozen derandomized examples per property (the same every run,
# no example database: never flaky); `make fuzz` (CLOCKSYNC_HYPOTHESIS=fuzz) runs thousands of random ones.
_QUIET = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("suite", max_examples=40, derandomize=True, database=None, deadline=None,
                          suppress_health_check=_QUIET)
settings.register_profile("fuzz", max_examples=3000, derandomize=False, database=None, deadline=None,
                          suppress_health_check=_QUIET)
settings.load_profile(os.environ.get("CLOCKSYNC_HYPOTHESIS", "suite"))

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BASE_URL = "http://127.0.0.1/api/v1"
FAST_RETRY = RetryPolicy(max_attempts=8, initial_wait=0.001, max_wait=0.01, max_retry_after=0.01)


@dataclass
class EmulatorHarness:
    """An emulator mounted in-process; every exchange is checked against the spec."""

    emulator: Emulator
    api_key: str
    transport: ContractTransport

    @property
    def state(self) -> WorkspaceState:
        return self.emulator.state

    @property
    def workspace_id(self) -> str:
        return self.state.ws.id

    def client(self, **kwargs: Any) -> ClockifyClient:
        options: dict[str, Any] = {"requests_per_second": 10_000, "retry": FAST_RETRY, "transport": self.transport}
        options.update(kwargs)
        return ClockifyClient(self.api_key, self.workspace_id, base_url=BASE_URL, **options)

    def env(self) -> dict[str, str]:
        return {"CLOCKIFY_API_KEY": self.api_key, "CLOCKIFY_WORKSPACE_ID": self.workspace_id,
                "CLOCKIFY_BASE_URL": BASE_URL, "CLOCKSYNC_REQUESTS_PER_SECOND": "1000", "NO_COLOR": "1"}

    def user_id(self, email: str) -> str:
        return next(u.id for u in self.state.ws.users.values() if u.email == email)

    def group(self, name: str) -> Any:
        matches = [g for g in self.state.ws.groups.values() if g.name.lower() == name.lower()]
        assert len(matches) <= 1, f"duplicate groups named {name!r}"
        return matches[0] if matches else None


def make_harness(state: WorkspaceState | None = None, key: str | None = None,
                 options: EmulatorOptions | None = None) -> EmulatorHarness:
    if state is None:
        state, key = demo_workspace(secrets.token_urlsafe(16))
    assert key is not None
    emulator = Emulator(state, options or EmulatorOptions(rate_limit=0))
    transport = ContractTransport(EmulatorTransport(app=emulator.app))
    return EmulatorHarness(emulator, key, transport)


@pytest.fixture(autouse=True, scope="session")
def private_apply_locks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """This test session's apply locks, apart from any other run on the machine (children inherit it)."""
    previous = os.environ.get("CLOCKSYNC_LOCK_DIR")
    os.environ["CLOCKSYNC_LOCK_DIR"] = str(tmp_path_factory.mktemp("locks"))
    yield
    if previous is None:
        os.environ.pop("CLOCKSYNC_LOCK_DIR", None)
    else:
        os.environ["CLOCKSYNC_LOCK_DIR"] = previous


@pytest.fixture
def harness() -> Iterator[EmulatorHarness]:
    h = make_harness()
    yield h
    assert h.transport.violations == [], "\n".join(h.transport.violations[:20])


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding copies of the examples (the CLI reads ./config.yaml and ./.env)."""
    shutil.copy(EXAMPLES / "sample_users.csv", tmp_path / "users.csv")
    shutil.copy(EXAMPLES / "config.yaml", tmp_path / "config.yaml")
    monkeypatch.chdir(tmp_path)
    for name in ("CLOCKIFY_API_KEY", "CLOCKIFY_WORKSPACE_ID", "CLOCKIFY_BASE_URL", "CLOCKSYNC_REQUESTS_PER_SECOND"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run_cli(harness: EmulatorHarness, *args: str, env: dict[str, str] | None = None,
            input: str | None = None) -> Result:
    runner = CliRunner()
    return runner.invoke(cli, list(args), obj={"transport": harness.transport},
                         env={**harness.env(), **(env or {})}, input=input, catch_exceptions=False)


def error_rows(path: Path = Path("sync_error_log.csv")) -> list[dict[str, str]]:
    """The rows of an apply's error audit CSV (in the working directory unless a path is given)."""
    with path.open() as handle:
        return list(csv.DictReader(handle))
