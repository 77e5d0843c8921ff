"""What a plan must be before ``apply`` reads or writes anything.

In this order, each refusal before any write: the plan is for the configured workspace; its seal
verifies under the API key (``plan/seal.py``: a plan edited and re-sealed by someone without the
key is refused); it was made against the API host the key goes to now; it is not older than
``apply.max_plan_age_hours`` (72 h by default: a person rehired since an old plan must not be
deactivated by it) unless ``--allow-old-plan``; it was not made for a day after today
(``plan --as-of``: its start and end dates and rates would land early). The CLI calls ``admit`` before it asks for
confirmation, and ``apply_plan`` calls it again, so a library caller gets the same checks.
"""

from __future__ import annotations

from datetime import UTC, datetime

from clocksync.apply.report import ApplySettings
from clocksync.errors import (
    HostMismatch,
    PlanFileError,
    PlanTooEarly,
    PlanTooOld,
    WorkspaceMismatch,
)
from clocksync.plan.file import Plan, verify_seal
from clocksync.plan.seal import SealKey


def plan_time(plan: Plan) -> datetime:
    """When the plan was made (its ``created_at``, UTC). Raises PlanFileError."""
    try:
        made = datetime.fromisoformat(plan.created_at)
    except ValueError:
        raise PlanFileError(f"the plan's created_at is not a time: {plan.created_at[:40]!r}") from None
    return made if made.tzinfo else made.replace(tzinfo=UTC)


def admit(plan: Plan, *, workspace_id: str, api_host: str, seal_key: SealKey, settings: ApplySettings,
          now: datetime | None = None) -> None:
    """Raise WorkspaceMismatch, PlanFileError (seal), HostMismatch or PlanTooOld; return when the
    plan may be applied. ``now`` defaults to the current time."""
    if plan.workspace_id != workspace_id:
        raise WorkspaceMismatch(f"the plan was made for workspace {plan.workspace_id}, but "
                                f"CLOCKIFY_WORKSPACE_ID is {workspace_id}; nothing was applied")
    verify_seal(plan, seal_key)
    if plan.api_host != api_host:
        raise HostMismatch(f"the plan was made against {plan.api_host}, but CLOCKIFY_BASE_URL points at {api_host}: "
                           "its ids belong to that server; nothing was applied; make a new plan against this one")
    today = (now or datetime.now(UTC)).date().isoformat()
    if plan.options.as_of and plan.options.as_of > today:
        raise PlanTooEarly(f"the plan was made for {plan.options.as_of} (plan --as-of), after today ({today} UTC): "
                           "its start and end dates and rates are for that day; nothing was applied; apply it on "
                           "or after that day, or make a plan for today")
    if settings.allow_old_plan:
        return
    age = ((now or datetime.now(UTC)) - plan_time(plan)).total_seconds() / 3600
    limit = settings.max_plan_age_hours
    if age > limit:
        raise PlanTooOld(f"the plan was made {age:,.0f} h ago ({plan.created_at}), more than apply.max_plan_age_hours "
                         f"({limit:g} h): what changed since (a rehire, a move) would be undone by it; nothing was "
                         "applied; make a new plan, or pass --allow-old-plan to apply it all the same")
    if age < -limit:
        raise PlanTooOld(f"the plan is dated {plan.created_at}, {-age:,.0f} h from now: the clock of the machine that "
                         "made it is wrong; nothing was applied; make a new plan, or pass --allow-old-plan")
