"""What an apply reports: each action's outcome, verification problems, and the run's figures."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from clocksync.apply.verify import Discrepancy
from clocksync.clockify.backoff import Backoff
from clocksync.kinds import Action
from clocksync.kinds.live import Ref


class Outcome(enum.StrEnum):
    """How an action ended. The run folder also records SENT when an action's write leaves the
    client (runs before that recorded STARTED when an action was queued)."""

    SENT = "sent"  # its write left the client; its outcome line follows when it ends
    STARTED = "started"  # (earlier runs) queued to write: may or may not have been sent
    APPLIED = "applied"
    IN_PLACE = "already in place"
    STALE = "stale"
    FAILED = "failed"
    SKIPPED = "skipped"
    IN_FLIGHT = "in flight"  # sent, with no answer before the run was stopped: may have been applied
    NOT_RUN = "not run"  # the run was stopped before this action's write was sent

    @property
    def ok(self) -> bool:
        return self in (Outcome.APPLIED, Outcome.IN_PLACE)

    @property
    def may_have_written(self) -> bool:
        """Whether the workspace may have changed: applied; sent, in flight or started with no answer;
        failed (a write may land before its answer is lost). Already in place, stale, skipped and not
        run wrote nothing."""
        return self in (Outcome.APPLIED, Outcome.SENT, Outcome.IN_FLIGHT, Outcome.STARTED, Outcome.FAILED)


@dataclass(frozen=True)
class ApplySettings:
    """How hard apply tries. Seconds are wall-clock seconds of the run."""

    retry_budget: float = 900.0  # how long the run keeps settling writes that meet transient faults
    consistency_window: float = 30.0  # how long a refusal on an object created in this run may be lag
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_plan_age_hours: float = 72.0  # an older plan is refused (a rehire since must not be undone by it)
    allow_old_plan: bool = False  # apply it all the same (--allow-old-plan)

    @property
    def backoff(self) -> Backoff:
        """Between re-writes of a failed action: the client's backoff policy, with these waits."""
        return Backoff(self.backoff_initial, self.backoff_max)


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
    hidden: bool = False  # a sensitive value (a rate, a field in sensitive_fields): reports do not show it

    @property
    def message(self) -> str:
        """What reports show: the values, unless they are hidden (the audit CSV keeps them)."""
        d = self.discrepancy
        if self.hidden:
            return f"{self.description}: {d.field}: {d.kind} (values hidden; see the audit CSV)"
        return f"{self.description}: {d.field}: {d.kind}: expected {self.expected_text}, found {self.found_text}"

    @property
    def full_message(self) -> str:
        d = self.discrepancy
        return f"{self.description}: {d.field}: {d.kind}: expected {self.expected_text}, found {self.found_text}"


@dataclass
class ApplyReport:
    results: list[ActionResult]
    run_id: str
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
