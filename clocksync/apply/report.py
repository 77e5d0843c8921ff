"""What an apply reports: each action's outcome, verification problems, and the run's figures."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clocksync.apply.verify import Discrepancy
from clocksync.apply.view import Ref
from clocksync.kinds import Action


class Outcome(enum.Enum):
    APPLIED = "applied"
    ALREADY = "already in place"
    STALE = "stale"
    FAILED = "failed"
    SKIPPED = "skipped"
    IN_FLIGHT = "in flight"  # sent, with no answer before the run was stopped: may have been applied
    NOT_RUN = "not run"  # the run was stopped before this action's write was sent

    @property
    def ok(self) -> bool:
        return self in (Outcome.APPLIED, Outcome.ALREADY)


@dataclass(frozen=True)
class ApplySettings:
    """How hard apply tries. Seconds are wall-clock seconds of the run."""

    retry_budget: float = 900.0  # how long the run keeps settling writes that meet transient faults
    consistency_window: float = 30.0  # how long a refusal on an object created in this run may be lag
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_plan_age_hours: float = 72.0  # an older plan is refused (a rehire since must not be undone by it)
    allow_old_plan: bool = False  # apply it all the same (--allow-old-plan)


@dataclass
class ActionResult:
    action: Action
    outcome: Outcome
    message: str = ""
    http_status: int | None = None
    created_id: str | None = None


@dataclass(frozen=True)
class VerificationProblem:
    """An object that, after the run, is not what the run expected."""

    ref: Ref
    description: str  # e.g. "profile of maria@example.com"
    action_ids: tuple[str, ...]  # the applied actions that touched it
    discrepancy: Discrepancy
    expected_text: str
    found_text: str

    @property
    def message(self) -> str:
        d = self.discrepancy
        return (f"{self.description}: {d.field}: {d.kind}: expected {self.expected_text}, found {self.found_text}")


@dataclass
class ApplyReport:
    results: list[ActionResult]
    run_id: str
    run_dir: Path | None = None
    resumed_from: str | None = None  # the run of this plan that was interrupted, which this one finishes
    resumed: int = 0  # actions that interrupted run had finished
    verified: int = 0  # objects compared whole after the run
    verification: list[VerificationProblem] = field(default_factory=list)
    log_dir: Path = Path(".")
    requests: int = 0
    writes: int = 0
    rate: float = 0.0  # the client's rate at the end (the adaptive rate it settled on)
    interrupted: str | None = None  # the signal that stopped the run ("SIGINT", "SIGTERM"), None if it ran to the end

    @property
    def ok(self) -> bool:
        return all(r.outcome.ok for r in self.results) and not self.verification

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def problems(self) -> list[ActionResult]:
        return [r for r in self.results if not r.outcome.ok]


ProgressCallback = Callable[[ActionResult, int, int], None]
