"""`apply` as a library call: run an approved plan against the live workspace.

Before any write: the plan's workspace, the safety thresholds, the confirmation for destructive
actions, preflight, and the per-workspace lock. Then, phase by phase (updates, cleanup) and step by
step inside a phase, each action is checked against a fresh read of the workspace: already at the
target -> "already in place"; at the expected value -> applied; anything else -> "stale" and not
applied. A write whose outcome is unknown (timeout, 5xx) or that the API refuses is settled by
re-reading the object, never by repeating it blindly. A verification phase re-reads everything
touched. Every action ends in the audit CSVs and in the plan's journal.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from clocksync.actions import (
    PHASES,
    AddMember,
    CreateCustomField,
    CreateGroup,
    DeactivateUser,
    DeleteGroup,
    GrantRole,
    InviteUser,
    RemoveMember,
    RevokeRole,
    UpdateProfile,
    _Action,
)
from clocksync.audit import AuditLog, AuditRow, Journal
from clocksync.clockify.client import ClockifyClient
from clocksync.config import Config
from clocksync.current import load_current, load_profiles
from clocksync.durations import parse_duration
from clocksync.errors import (
    ApiStatusError,
    ClockifyError,
    ConfirmationRequired,
    OutcomeUnknown,
    WorkspaceMismatch,
)
from clocksync.livecheck import LiveGroup, LiveView, Verdict, check, profile_parts
from clocksync.locking import workspace_lock
from clocksync.model import email_key, group_key
from clocksync.plan import Plan, check_thresholds
from clocksync.preflight import preflight

logger = logging.getLogger(__name__)

CONFIRM_TEXT = "I UNDERSTAND"
SETTLE_ATTEMPTS = 4  # tries of one write whose outcome keeps coming back unknown, each after a re-read


class Outcome(enum.Enum):
    APPLIED = "applied"
    ALREADY = "already in place"
    STALE = "stale"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def ok(self) -> bool:
        return self in (Outcome.APPLIED, Outcome.ALREADY)


@dataclass
class ActionResult:
    action: _Action
    outcome: Outcome
    message: str = ""
    http_status: int | None = None


@dataclass
class ApplyReport:
    results: list[ActionResult]
    run_id: str
    resumed: int = 0  # actions an earlier, interrupted run had finished
    verified: int = 0
    log_dir: Path = Path(".")
    requests: int = 0
    writes: int = 0

    @property
    def ok(self) -> bool:
        return all(r.outcome.ok for r in self.results)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    def problems(self) -> list[ActionResult]:
        return [r for r in self.results if not r.outcome.ok]


ProgressCallback = Callable[[ActionResult, int, int], None]


def before_after(action: _Action) -> tuple[str, str]:
    """The expected and the target value of an action, as the audit log shows them."""
    if isinstance(action, UpdateProfile):
        before, after = [], []
        if action.capacity:
            before.append(f"capacity={action.capacity.before or '(unset)'}")
            after.append(f"capacity={action.capacity.after}")
        for name, change in sorted(action.fields.items()):
            before.append(f"{name}={change.before if change.before is not None else '(unset)'}")
            after.append(f"{name}={change.after}")
        return "; ".join(before), "; ".join(after)
    if isinstance(action, AddMember):
        return f"{action.email} not in group", f"{action.email} in group"
    if isinstance(action, RemoveMember):
        return f"{action.email} in group", f"{action.email} not in group"
    if isinstance(action, GrantRole):
        return f"{action.holder_email} without {action.role}", f"{action.holder_email} {action.role}"
    if isinstance(action, RevokeRole):
        return f"{action.holder_email} {action.role}", f"{action.holder_email} without {action.role}"
    if isinstance(action, DeleteGroup):
        return f"exists ({len(action.member_ids)} members)", "deleted"
    if isinstance(action, DeactivateUser):
        return "ACTIVE", "INACTIVE"
    if isinstance(action, InviteUser):
        return "not in workspace", "invited"
    return "absent", "present"


async def apply_plan(
    client: ClockifyClient,
    plan: Plan,
    config: Config,
    *,
    confirm: str | None,
    log_dir: Path,
    progress: ProgressCallback | None = None,
) -> ApplyReport:
    """Apply ``plan`` (already loaded and checksum-verified by ``load_plan``).

    Raises WorkspaceMismatch, TooMuchChange, ConfirmationRequired, PreflightError or ApplyLocked
    before any write. Per-action problems are reported in the ApplyReport, not raised.
    """
    if plan.workspace_id != client.workspace_id:
        raise WorkspaceMismatch(f"the plan was made for workspace {plan.workspace_id}, but "
                                f"CLOCKIFY_WORKSPACE_ID is {client.workspace_id}; nothing was applied")
    check_thresholds(plan)
    destructive = plan.destructive_actions
    if destructive and confirm != CONFIRM_TEXT:
        raise ConfirmationRequired(
            f"the plan has {len(destructive)} destructive action(s) (deactivations, group deletions): type "
            f"{CONFIRM_TEXT} at the prompt or pass --confirm \"{CONFIRM_TEXT}\"; nothing was applied"
        )
    report = await preflight(client)
    with workspace_lock(client.workspace_id):
        return await _Executor(client, plan, log_dir, progress, report.user_id).run()


class _Executor:
    def __init__(self, client: ClockifyClient, plan: Plan, log_dir: Path, progress: ProgressCallback | None,
                 self_id: str) -> None:
        self.client = client
        self.self_id = self_id
        self.plan = plan
        self.log_dir = log_dir
        self.progress = progress
        self.run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.plan_short = plan.checksum.removeprefix("sha256:")[:12]
        self.results: dict[str, ActionResult] = {}
        self.view: LiveView
        self.extra_protected = {p.id for p in plan.protected_groups}
        self.reads_begun = 0  # list re-reads started; see refresh_lists
        self.fresh_as_of = 0  # the latest re-read that has finished
        self.refresh_lock = asyncio.Lock()
        self.refreshed_in_step = False
        self.audit = AuditLog(log_dir)
        self.journal = Journal(log_dir / ".clocksync" / f"journal-{self.plan_short}.jsonl")
        self.profile_ids = {a.user_id for a in plan.actions if isinstance(a, UpdateProfile)}
        self.writes_at_start = client.stats.writes
        self.requests_at_start = client.stats.requests

    # ------------------------------------------------------------------ reading

    async def read_view(self, profile_ids: set[str]) -> LiveView:
        state = await load_current(self.client, profile_ids=profile_ids, self_id=self.self_id)
        return LiveView.from_state(state, self.extra_protected)

    async def refresh_lists(self, ticket: int) -> None:
        """Re-read users, roles and groups, unless a read that began after ``ticket`` was taken has finished.

        Take the ticket (``self.reads_begun``) when a write fails: only a read begun after the
        failure can show that write's effect, so concurrent failures share one such read.
        """
        async with self.refresh_lock:
            if self.fresh_as_of > ticket:
                return
            self.reads_begun += 1
            begun = self.reads_begun
            fresh = await self.read_view(set())
            fresh.capacity, fresh.values = self.view.capacity, self.view.values
            self.view = fresh
            self.fresh_as_of = begun
            self.refreshed_in_step = True

    async def refresh_profile(self, user_id: str) -> None:
        profiles, _ = await load_profiles(self.client, [user_id])
        profile = profiles.get(user_id)
        if profile is None:  # unreadable now: the check reports the action as stale
            self.view.capacity.pop(user_id, None)
            return
        self.view.capacity[user_id] = profile.capacity_seconds
        self.view.values[user_id] = dict(profile.values)

    # ------------------------------------------------------------------ running

    async def run(self) -> ApplyReport:
        self.audit.touch()
        resumed = sum(1 for a in self.plan.actions
                      if self.journal.previous.get(a.id) in (Outcome.APPLIED.value, Outcome.ALREADY.value))
        if resumed:
            logger.info("run: resuming plan %s, %d actions finished earlier", self.plan_short, resumed)
        try:
            if not self.plan.actions:
                return ApplyReport([], self.run_id, log_dir=self.log_dir)  # nothing to check, nothing to read
            self.view = await self.read_view(self.profile_ids)
            for phase in PHASES:
                steps = sorted({a.step for a in self.plan.actions if a.phase == phase})
                for step in steps:
                    batch = [a for a in self.plan.actions if a.phase == phase and a.step == step]
                    self.refreshed_in_step = False
                    await asyncio.gather(*(self.run_one(a) for a in batch))
                    if self.refreshed_in_step:  # a read that raced this step's own writes: read once more
                        await self.refresh_lists(self.reads_begun)
                self.journal.sync()
            verified = await self.verify()
        finally:
            self.audit.close()
            self.journal.close()
        results = [self.results[a.id] for a in self.plan.actions]
        return ApplyReport(results, self.run_id, resumed, verified, self.log_dir,
                           self.client.stats.requests - self.requests_at_start,
                           self.client.stats.writes - self.writes_at_start)

    async def run_one(self, action: _Action) -> None:
        result = await self.settle(action)
        self.finish(result)

    def finish(self, result: ActionResult) -> None:
        self.results[result.action.id] = result
        self.journal.record(result.action.id, result.outcome.value)
        before, after = before_after(result.action)
        self.audit.write(AuditRow(
            time=datetime.now(UTC).isoformat(timespec="seconds"), run=self.run_id, plan=self.plan_short,
            action_id=result.action.id, kind=result.action.kind_name(), target=result.action.target,
            before=before, after=after, outcome=result.outcome.value, http_status=result.http_status,
            message=result.message,
        ), success=result.outcome.ok)
        if self.progress:
            self.progress(result, len(self.results), len(self.plan.actions))

    async def settle(self, action: _Action) -> ActionResult:
        for dep in action.depends_on:
            done = self.results.get(dep)
            if done is None or not done.outcome.ok:
                state = done.outcome.value if done else "not run"
                return ActionResult(action, Outcome.SKIPPED, f"depends on {dep}, which is {state}")
        verdict, why = check(action, self.view)
        if verdict is Verdict.DONE:
            return ActionResult(action, Outcome.ALREADY, why)
        if verdict is Verdict.STALE:
            return ActionResult(action, Outcome.STALE, f"changed since the plan: {why}")
        self.journal.record(action.id, "started")
        for attempt in range(1, SETTLE_ATTEMPTS + 1):
            try:
                await self.perform(action)
                return ActionResult(action, Outcome.APPLIED)
            except (OutcomeUnknown, ApiStatusError) as exc:
                # Unknown outcome, or a refusal that may mean "already so": re-read and decide.
                logger.info("settle: %s after %s; re-reading", exc, action.id)
                if isinstance(action, UpdateProfile):
                    await self.refresh_profile(action.user_id)
                else:
                    await self.refresh_lists(self.reads_begun)
                verdict, why = check(action, self.view)
                if verdict is Verdict.DONE:
                    return ActionResult(action, Outcome.APPLIED, f"confirmed by re-reading after: {exc}", exc.status)
                if verdict is Verdict.READY and isinstance(exc, OutcomeUnknown) and attempt < SETTLE_ATTEMPTS:
                    continue  # the re-read shows it did not happen, so trying again cannot duplicate it
                return ActionResult(action, Outcome.FAILED if verdict is Verdict.READY else Outcome.STALE,
                                    exc.message or str(exc), exc.status)
            except ClockifyError as exc:
                return ActionResult(action, Outcome.FAILED, str(exc), exc.status)
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ writes

    def _group(self, group_id: str | None, name: str) -> LiveGroup:
        group = self.view.group_for(group_id, name)
        if group is None:
            raise ApiStatusError("-", "-", None, None, f"group {name!r} not found")
        return group

    async def perform(self, action: _Action) -> None:
        client, view = self.client, self.view
        if isinstance(action, CreateCustomField):
            created = await client.create_custom_field(action.field_name, type=action.field_type,
                                                       status=action.field_status)
            view.fields[group_key(created.name)] = created.id
        elif isinstance(action, UpdateProfile):
            _, capacity, fields, _ = profile_parts(action, view)
            ids = {}
            for name, value in fields.items():
                field_id = view.fields.get(group_key(name))
                if field_id is None:
                    raise ApiStatusError("-", "-", None, None, f"custom field {name!r} does not exist")
                ids[field_id] = value
            work_capacity = action.capacity.after if capacity and action.capacity else None
            await client.update_member_profile(action.user_id, work_capacity=work_capacity, custom_fields=ids)
            if work_capacity:
                view.capacity[action.user_id] = parse_duration(work_capacity)
            view.values.setdefault(action.user_id, {}).update(ids)
        elif isinstance(action, CreateGroup):
            created_group = await client.create_group(action.group_name)
            view.groups[created_group.id] = LiveGroup(created_group.id, created_group.name, set(), set())
            view.group_ids_by_key[group_key(created_group.name)] = created_group.id
        elif isinstance(action, AddMember):
            group = self._group(action.group_id, action.group_name)
            await client.add_group_member(group.id, action.user_id)
            group.member_ids.add(action.user_id)
        elif isinstance(action, RemoveMember):
            group = self._group(action.group_id, action.group_name)
            await client.remove_group_member(group.id, action.user_id)
            group.member_ids.discard(action.user_id)
        elif isinstance(action, GrantRole | RevokeRole):
            entity_id = action.entity_id
            if action.entity_kind == "group":
                entity_id = self._group(action.entity_id, action.entity_name).id
            assert entity_id is not None
            if isinstance(action, GrantRole):
                await client.grant_role(action.holder_id, action.role, entity_id, via_group=action.via_group)
            else:
                await client.revoke_role(action.holder_id, action.role, entity_id, via_group=action.via_group)
            holders = view.holders(action)
            if holders is not None:
                (holders.add if isinstance(action, GrantRole) else holders.discard)(action.holder_id)
        elif isinstance(action, DeleteGroup):
            await client.delete_group(action.group_id)
            gone = view.groups.pop(action.group_id, None)
            if gone and view.group_ids_by_key.get(group_key(gone.name)) == gone.id:
                del view.group_ids_by_key[group_key(gone.name)]
        elif isinstance(action, DeactivateUser):
            await client.set_user_status(action.user_id, "INACTIVE")
            view.members[action.user_id] = dataclasses.replace(view.members[action.user_id], status="INACTIVE")
        elif isinstance(action, InviteUser):
            await client.add_user(action.email, send_email=action.send_email)
            view.member_ids_by_key[email_key(action.email)] = f"invited:{action.email}"
        else:  # pragma: no cover
            raise TypeError(f"unknown action {action!r}")

    # ------------------------------------------------------------------ verification

    async def verify(self) -> int:
        """Re-read what was touched and confirm each applied action holds; return how many were checked."""
        touched = [r for r in self.results.values() if r.outcome is Outcome.APPLIED]
        if not touched:
            return 0
        profile_ids = {r.action.user_id for r in touched if isinstance(r.action, UpdateProfile)}
        fresh = await self.read_view(profile_ids)
        checked = 0
        for result in touched:
            if isinstance(result.action, InviteUser):
                continue  # an invited user shows up as PENDING; nothing else to compare
            checked += 1
            verdict, why = check(result.action, fresh)
            if verdict is not Verdict.DONE:
                failed = ActionResult(result.action, Outcome.FAILED,
                                      f"verification: the change did not take effect ({why or verdict.value})")
                self.finish(failed)
        return checked
