"""`plan` as a library call: preflight, read the workspace, diff, seal, check thresholds. Reads only."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import MappingProxyType

from clocksync.clockify.client import ClockifyClient
from clocksync.config import Config
from clocksync.kinds.profile import reads_profile
from clocksync.load.current import ProfileProgress, load_current, load_project_names
from clocksync.model import PROJECT_MANAGER, CurrentState, DesiredState
from clocksync.plan.diff import diff
from clocksync.plan.file import InputFingerprint, Plan, build_plan
from clocksync.plan.policy import Standing, standing
from clocksync.plan.safety import check_thresholds
from clocksync.plan.types import PlanOptions
from clocksync.preflight import preflight


def leavers_manage_projects(desired: DesiredState, current: CurrentState, options: PlanOptions) -> bool:
    """Whether a member who may be deactivated (active, and not a current CSV row) manages a
    project: only then are project names read, for the handover. The differ decides who leaves."""
    if not options.deactivate_missing:
        return False
    staying = {key for key, spec in desired.users.items() if standing(spec, options.as_of) is not Standing.ENDED}
    return any(grant.role == PROJECT_MANAGER and (member := current.members.get(grant.holder_id)) is not None
               and member.active and member.key not in staying for grant in current.roles)


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def make_plan(
    client: ClockifyClient,
    desired: DesiredState,
    config: Config,
    options: PlanOptions,
    *,
    created_at: str | None = None,
    progress: ProfileProgress | None = None,
) -> Plan:
    """Build a sealed plan. Raises PreflightError, ClockifyError or TooMuchChange; never writes.

    The plan is for ``options.as_of`` (ISO date), today in UTC when not given: effective dates and
    exception expiry are judged on that day, and the plan records it.
    """
    if not options.as_of:
        options = options.model_copy(update={"as_of": datetime.now(UTC).date().isoformat()})
    report = await preflight(client)
    needs_profile = [u.key for u in desired.users.values() if reads_profile(u)]
    current = await load_current(client, profile_keys=needs_profile, progress=progress, self_id=report.user_id)
    if leavers_manage_projects(desired, current, options):
        current = replace(current, project_names=MappingProxyType(await load_project_names(client)))
    plan = build_plan(
        diff(desired, current, config, options),
        workspace_id=client.workspace_id,
        inputs={
            "csv": InputFingerprint(path=desired.source, sha256=desired.sha256, sheet=desired.sheet),
            "config": InputFingerprint(path=config.source, sha256=config.sha256),
        },
        options=options,
        created_at=created_at or now_utc(),
        api_host=client.api_host,
        seal_key=client.seal_key(),
        safety=config.safety,
        cleaned=desired.cleaned,
    )
    check_thresholds(plan)
    return plan
