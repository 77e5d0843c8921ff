"""`apply` as a library call: run an approved plan against the live workspace.

Before any write: the plan's workspace, the safety thresholds, the confirmation for destructive
actions, preflight, and the per-workspace lock. Then the run folder is started and every object
the plan touches is saved whole (``runlog``). Phase by phase (updates, then cleanup), each action
as soon as the actions it depends on are done, is judged by its kind's handler against the live
view: already at the target -> "already in place"; at the expected value -> written; anything
else -> "stale", not written.

A write that fails is *settled* (``settle``): the workspace is re-read and the handler's verdict
decides, within the run's retry budget.

After the run every object an applied action touched is compared whole with what the run
expected (``verify``): a write's own answer where the API returns the object, else one re-read.
Each action ends in the audit CSVs and the run folder as soon as it finishes; a write is recorded
as "sent" in the run folder when it leaves the client, so a run that dies knows what was in flight.

A ``Stop`` (Ctrl-C, SIGTERM; ``stop.py``) ends the run early: nothing more is sent, what was not
sent ends "not run", what was sent ends with its answer (or "in flight" when it had none), the run
is recorded as interrupted (not finished, so the next run of the plan resumes it) and is not
verified.

The executor knows no kind of action: ``clocksync.kinds`` holds that.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from clocksync.apply.admit import admit
from clocksync.apply.audit import AuditLog, AuditRow
from clocksync.apply.lock import workspace_lock
from clocksync.apply.report import (
    ActionResult,
    ApplyReport,
    ApplySettings,
    Outcome,
    ProgressCallback,
    VerificationProblem,
)
from clocksync.apply.runlog import RunLog
from clocksync.apply.settle import Settler
from clocksync.apply.stop import Stop, StopRequested
from clocksync.apply.verify import NOT_IN_EFFECT, Discrepancy, Finding, compare, describe_values
from clocksync.clockify.client import ClockifyClient
from clocksync.errors import (
    ClockifyError,
    ClocksyncError,
    ConfirmationRequired,
    IdentityMismatch,
    Interrupted,
)
from clocksync.kinds import Action, handler_for
from clocksync.kinds.base import PHASES, Sign, State
from clocksync.kinds.live import LiveView, ObjectKind, Ref, Snapshot
from clocksync.load.current import load_current
from clocksync.plan.file import Plan
from clocksync.plan.safety import check_thresholds
from clocksync.preflight import preflight

logger = logging.getLogger(__name__)

CONFIRM_TEXT = "I UNDERSTAND"
_ACTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("clocksync_action", default=None)


async def apply_plan(
    client: ClockifyClient,
    plan: Plan,
    *,
    confirm: str | None,
    log_dir: Path,
    plan_file: Path | None = None,
    settings: ApplySettings | None = None,
    progress: ProgressCallback | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    stop: Stop | None = None,
) -> ApplyReport:
    """Apply ``plan`` (already loaded and checksum-verified by ``load_plan``).

    Raises, before any write: WorkspaceMismatch, PlanFileError (the seal), HostMismatch,
    PlanTooOld (``admit``), TooMuchChange, ConfirmationRequired, PreflightError, ApplyLocked, and
    IdentityMismatch (an action's ids name other users or groups than the plan shows);
    ClockifyError if the workspace cannot be read before the first write; and Interrupted when
    ``stop`` is requested before the first write (nothing applied). Per-action problems,
    verification problems and a stop during the run are reported in the ApplyReport.
    """
    settings = settings or ApplySettings()
    admit(plan, workspace_id=client.workspace_id, api_host=client.api_host, seal_key=client.seal_key(),
          settings=settings)
    check_thresholds(plan)
    destructive = plan.destructive_actions
    if destructive and confirm != CONFIRM_TEXT:
        raise ConfirmationRequired(
            f"the plan has {len(destructive)} destructive action(s) (deactivations, group deletions): type "
            f"{CONFIRM_TEXT} at the prompt or pass --confirm \"{CONFIRM_TEXT}\"; nothing was applied"
        )
    stop = stop or Stop()
    try:
        report = await stop.guard(preflight(client))
    except StopRequested:
        raise Interrupted(f"stopped by {stop.reason} before any write; nothing was applied",
                          stop.reason or "SIGINT") from None
    with workspace_lock(client.workspace_id):
        executor = _Executor(client, plan, log_dir, report.user_id, settings, progress,
                             sleep, clock, plan_file, stop)
        return await executor.run()


class _Executor:
    def __init__(self, client: ClockifyClient, plan: Plan, log_dir: Path, self_id: str, settings: ApplySettings,
                 progress: ProgressCallback | None, sleep: Callable[[float], Awaitable[None]],
                 clock: Callable[[], float], plan_file: Path | None, stop: Stop) -> None:
        self.client = client
        self.stop = stop
        self.sent: set[str] = set()  # actions whose write left the client
        self.plan = plan
        self.log_dir = log_dir
        self.self_id = self_id
        self.progress = progress
        self.plan_file = plan_file
        self.results: dict[str, ActionResult] = {}
        self.turns: dict[Ref, asyncio.Lock] = {}  # objects actions write whole, one at a time (Handler.exclusive)
        self.before: dict[Ref, Snapshot | None] = {}
        self.view: LiveView
        self.extra_protected = {p.id for p in plan.protected_groups}
        # The retry budget runs from the start of the run.
        self.settler = Settler(client, self_id=self_id, protected=self.extra_protected, settings=settings,
                               sleep=sleep, clock=clock, stopping=lambda: stop.requested)
        self.audit = AuditLog(log_dir)
        self.requests_at_start = client.stats.requests
        self.writes_at_start = client.stats.writes
        self.run_log: RunLog
        self.verified = 0

    # ------------------------------------------------------------------ running

    async def run(self) -> ApplyReport:
        plan = self.plan
        if plan.actions:
            try:
                await self.read_workspace()  # before the run starts: a plan refused here leaves no run behind
            except StopRequested:
                raise Interrupted(f"stopped by {self.stop.reason} before any write; nothing was applied",
                                  self.stop.reason or "SIGINT") from None
        self.run_log = RunLog.start(
            self.log_dir, plan.model_dump_json(indent=1), checksum=plan.checksum, workspace_id=plan.workspace_id,
            plan_file=str(self.plan_file) if self.plan_file else None, purpose=plan.purpose)
        if self.run_log.interrupted:
            logger.info("run: resuming plan %s after run %s, which finished %d actions", plan.short_checksum,
                        self.run_log.interrupted.run_id, self.run_log.resumed)
        previous_hook, self.client.before_write = self.client.before_write, self.sending
        try:
            self.audit.touch()
            if plan.actions:
                await self.apply_all()
            stopped = self.stop.reason
            problems = await self.verify() if plan.actions and not stopped else []
        finally:
            self.client.before_write = previous_hook
            self.stop.close()
            self.audit.close()
            self.run_log.close()
        for action in plan.actions:
            self.results.setdefault(action.id, ActionResult(action, Outcome.NOT_RUN))
        counts: dict[str, int] = {}
        for result in self.results.values():
            counts[result.outcome.value] = counts.get(result.outcome.value, 0) + 1
        if problems:
            counts["verification problems"] = len(problems)
        if stopped:
            self.run_log.interrupted_by(stopped, counts)
        else:
            self.run_log.finish(counts)
        return ApplyReport(
            results=[self.results[a.id] for a in plan.actions], run_id=self.run_log.run_id, verified=self.verified,
            resumed_from=self.run_log.interrupted.run_id if self.run_log.interrupted else None,
            resumed=self.run_log.resumed,
            verification=problems, log_dir=self.log_dir,
            requests=self.client.stats.requests - self.requests_at_start,
            writes=self.client.stats.writes - self.writes_at_start, rate=self.client.limiter.rate,
            interrupted=stopped)

    def sending(self, method: str, path: str) -> None:
        """``client.before_write``: a write of the current action leaves the client (or, after a stop, not)."""
        if self.stop.requested:
            raise StopRequested(self.stop.reason)
        action_id = _ACTION.get()
        if action_id is not None and action_id not in self.sent:
            self.sent.add(action_id)
            self.run_log.record(action_id, Outcome.SENT)

    async def read_workspace(self) -> None:
        """Read the live view, and refuse the whole plan when an action's ids are other users or groups
        than its emails and names say (IdentityMismatch, before any write).

        Whole plan, not the action alone: such a plan does not say what it would do (it was altered
        by someone holding the key, or identities moved since it was made), and its other actions
        were reviewed together with this one (a handover before a deactivation). Make a new plan.
        """
        actions = self.plan.actions
        profile_ids = {uid for a in actions for uid in handler_for(a).profiles_to_reread(a)}
        state = await self.stop.guard(load_current(self.client, profile_ids=profile_ids, self_id=self.self_id))
        self.view = LiveView.from_state(state, self.extra_protected)
        self.view.sensitive = self.plan.shown().fields  # messages do not show these fields' values
        self.settler.view = self.view
        wrong = [f"{a.id}: {problem}" for a in actions for problem in handler_for(a).misnamed(a, self.view)]
        if wrong:
            shown = "; ".join(wrong[:10]) + (f"; and {len(wrong) - 10} more" if len(wrong) > 10 else "")
            raise IdentityMismatch(f"{len(wrong)} id(s) in the plan name other users or groups than the plan shows: "
                                   f"{shown}. The plan does not say what it would do (it was altered, or emails and "
                                   "names moved since it was made); nothing was applied; make a new plan")

    async def apply_all(self) -> None:
        actions = self.plan.actions
        refs = [ref for a in actions for ref in handler_for(a).touches(a, self.view)]
        self.before = self.view.snapshots(refs)
        self.run_log.save_before({ref.text(): snap.model_dump(mode="json") if snap else None
                                  for ref, snap in self.before.items()}, self.view.names_of(self.before))
        for phase in PHASES:
            if self.stop.requested:
                return
            await self.run_phase([a for a in actions if a.phase == phase])

    async def run_phase(self, batch: list[Action]) -> None:
        """Run a phase's actions, each as soon as the actions it depends on are finished.

        Phases are barriers (every "updates" action ends before any "cleanup" one starts: make
        before break); inside a phase only the plan's own dependencies order the work, so the
        requests keep flowing instead of draining at each step. A TaskGroup: should one action
        raise (a bug), the others are cancelled and waited for, so the run never ends with writes
        left running unattended.
        """
        finished = {a.id: asyncio.Event() for a in batch}

        async def when_ready(action: Action) -> None:
            _ACTION.set(action.id)  # this task's own context: its writes are this action's
            try:
                for dep in action.depends_on:
                    if dep in finished:
                        await finished[dep].wait()
                await self.run_one(action)
            except (asyncio.CancelledError, StopRequested):
                if not self.stop.requested:
                    raise  # cancelled for another reason (a sibling's bug): let the group end
                self.finish(self.stopped(action))
            finally:
                finished[action.id].set()

        try:
            async with asyncio.TaskGroup() as group:
                for action in batch:
                    self.stop.track(group.create_task(when_ready(action)),
                                    functools.partial(self.sent.__contains__, action.id))
        except BaseExceptionGroup as failed:
            # A record that cannot be written (a full disk) stops the run: the first such error is
            # raised as itself, so the operator reads one line; anything else is a bug and stays whole.
            first = next((e for e in failed.exceptions if isinstance(e, ClocksyncError)), None)
            if first is None:
                raise
            raise first from None

    def stopped(self, action: Action) -> ActionResult:
        """The outcome of an action the stop cut short: "in flight" if its write was sent, else "not run"."""
        if action.id in self.sent:
            return ActionResult(action, Outcome.IN_FLIGHT, (
                f"sent, and the apply was stopped ({self.stop.reason}) before the answer came: it may or may not "
                "have been applied; running the plan again finds out"))
        return ActionResult(action, Outcome.NOT_RUN)  # the report's heading says why

    async def run_one(self, action: Action) -> None:
        # Actions writing one object whole (an undo's profile restore in parts) take turns: each is
        # judged against, and writes on top of, what the one before it did.
        async with contextlib.AsyncExitStack() as turns:
            for ref in sorted(handler_for(action).exclusive(action)):
                await turns.enter_async_context(self.turns.setdefault(ref, asyncio.Lock()))
            self.finish(await self.decide(action))

    def finish(self, result: ActionResult) -> None:
        self.results[result.action.id] = result
        if result.outcome is Outcome.NOT_RUN and result.action.id not in self.sent:
            return  # nothing was sent: no line in the run folder, no audit row
        self.run_log.record(result.action.id, result.outcome, created_id=result.created_id,
                            message=result.message)
        before, after = result.action.audit()
        self.write_row(result.action.id, result.action.kind_name, result.action.target, before, after,
                       result.outcome.value, result.http_status, result.message, result.outcome.ok)
        if self.progress:
            self.progress(result, len(self.results), len(self.plan.actions))

    def write_row(self, action_id: str, kind: str, target: str, before: str, after: str, outcome: str,
                  status: int | None, message: str, success: bool) -> None:
        self.audit.write(AuditRow(
            time=datetime.now(UTC).isoformat(timespec="seconds"), run=self.run_log.run_id,
            plan=self.plan.short_checksum, action_id=action_id, kind=kind, target=target, before=before,
            after=after, outcome=outcome, http_status=status, message=message), success=success)

    def blocker(self, action: Action) -> str | None:
        """Why ``action`` cannot run: the first action it depends on that did not succeed, traced back
        through skipped ones to the one that failed (or was stale), as a reviewer reads it."""
        for dep in action.depends_on:
            done = self.results.get(dep)
            if done is not None and done.outcome.ok:
                continue
            if done is None:
                return f"it waits for {dep}, which did not run"
            cause = done
            seen = {dep}
            while cause.outcome is Outcome.SKIPPED:
                upstream = next((d for d in cause.action.depends_on if d not in seen and d in self.results
                                 and not self.results[d].outcome.ok), None)
                if upstream is None:
                    break
                seen.add(upstream)
                cause = self.results[upstream]
            via = "" if cause is done else f" (through {done.action.describe()}, skipped)"
            ended = {Outcome.FAILED: "failed", Outcome.STALE: "was stale"}.get(cause.outcome, "was skipped")
            return f"it waits for {cause.action.describe()} [{cause.action.id}], which {ended}{via}"
        return None

    async def decide(self, action: Action) -> ActionResult:
        blocked = self.blocker(action)
        if blocked is not None:
            kept = " nothing is taken away before what replaces it is in place;" if action.sign is Sign.REMOVE else ""
            return ActionResult(action, Outcome.SKIPPED, f"not applied:{kept} {blocked}")
        handler = handler_for(action)
        verdict = handler.verdict(action, self.view)
        if verdict.state is State.IN_PLACE:
            return ActionResult(action, Outcome.IN_PLACE, verdict.reason)
        if verdict.state is State.STALE:
            return ActionResult(action, Outcome.STALE, f"changed since the plan: {verdict.reason}")
        return await self.settler.settle(action, handler)

    # ------------------------------------------------------------------ verification

    async def verify(self) -> list[VerificationProblem]:
        """Compare every object an applied action touched, whole, with what the run expected."""
        applied = [r.action for r in self.results.values() if r.outcome is Outcome.APPLIED]
        if not applied:
            return []
        touching: dict[Ref, list[str]] = {}
        for action in applied:
            for ref in handler_for(action).touches(action, self.view):
                touching.setdefault(ref, []).append(action.id)
        expected = self.view.snapshots(touching)
        observed = self.settler.observed  # objects as write answers showed them
        found: dict[Ref, Snapshot | None] = {ref: observed[ref] for ref in touching if ref in observed}
        # An answer is the API's word just after its write. Where it disagrees with what the run
        # expected (an answer that lags or leaves parts out), a fresh read decides, so only what the
        # workspace really holds is reported.
        unseen = [ref for ref in touching
                  if ref not in found or compare(self.before.get(ref), expected[ref], found[ref])]
        if unseen:
            profile_ids = {ref.ident for ref in unseen if ref.kind is ObjectKind.PROFILE}
            try:
                state = await load_current(self.client, profile_ids=profile_ids, self_id=self.self_id)
            except ClockifyError as exc:
                self.write_row("-", "verify", "workspace", "", "", "not verified", exc.status,
                               f"the workspace could not be read back after the run: {exc}", False)
                reason = Discrepancy("read", None, None, Finding.NOT_VERIFIED)
                return [VerificationProblem(ref, self.view.describe(ref), tuple(ids), reason, "-", str(exc))
                        for ref, ids in touching.items() if ref in unseen]
            found.update(LiveView.from_state(state, self.extra_protected).snapshots(unseen))
        self.verified = len(touching)
        problems: list[VerificationProblem] = []
        shown = self.plan.shown()
        for ref, action_ids in sorted(touching.items()):
            snapshot_type = Snapshot.registry[ref.kind]
            for discrepancy in compare(self.before.get(ref), expected[ref], found[ref]):
                want, got = describe_values(discrepancy, self.view.name_of)
                problem = VerificationProblem(ref, self.view.describe(ref), tuple(action_ids), discrepancy, want, got,
                                              hidden=snapshot_type.hides(discrepancy.field, shown))
                problems.append(problem)
                self.write_row(action_ids[0], "verify", problem.description, want, got, discrepancy.kind, None,
                               problem.full_message, False)
                if discrepancy.kind == NOT_IN_EFFECT:
                    for action_id in action_ids:
                        result = self.results[action_id]
                        self.results[action_id] = ActionResult(result.action, Outcome.FAILED,
                                                               f"verification: {problem.message}")
        return problems
