"""The differ: (desired, current, config, options) -> the plan's actions and notices. Pure: no I/O, no clock.

It holds no rule of its own. It resolves the plan context once (``plan.context``: matched users,
exceptions, effective dates, managers, protected and desired groups, leavers), runs every kind's
registered rule over it in their declared order, links each action to what it needs (the
actions that provide it), sorts the actions into the plan's fixed order, and applies the scope of
``--only`` / ``--exclude``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from clocksync.config import Config
from clocksync.kinds import RULES, Action
from clocksync.kinds.base import Counts, Key
from clocksync.model import CurrentState, DesiredState
from clocksync.plan.context import Emit, plan_context
from clocksync.plan.scope import check_patterns, scope_actions
from clocksync.plan.types import (
    Handover,
    HeldException,
    Notice,
    PlanOptions,
    ProtectedGroup,
    Upcoming,
    WorkspaceFigures,
)


@dataclass
class Diff:
    """What the differ found: sorted actions, notices, protected groups, unmatched CSV users, sizes,
    the exceptions that held, upcoming hires, and what each leaver hands over."""

    actions: list[Action]
    notices: list[Notice]
    protected: list[ProtectedGroup]
    unmatched: list[str]
    figures: WorkspaceFigures
    exceptions: list[HeldException] = field(default_factory=list)
    upcoming: list[Upcoming] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)
    sensitive_fields: list[str] = field(default_factory=list)  # custom fields whose values reports hide


def diff(desired: DesiredState, current: CurrentState, config: Config, options: PlanOptions | None = None) -> Diff:
    """Everything that must change in ``current`` for it to match ``desired``."""
    options = options or PlanOptions()
    check_patterns(options.only, options.exclude,
                   [*(u.email for u in desired.users.values()), *(m.email for m in current.members.values())])
    ctx = plan_context(desired, current, config, options)
    out = Emit(notices=list(ctx.notices))
    for found in sorted(RULES, key=lambda r: (r.order, r.name)):
        found.function(ctx, out)
    actions = sorted(link_needs(out.actions.values()), key=lambda a: a.sort_key())
    actions, left_out = scope_actions(actions, options.only, options.exclude)
    if options.scoped:
        out.note("scope", f"scoped plan ({options.scope_text()}): {left_out} action(s) about other users left out; "
                 "the thresholds judge the whole workspace")
    deactivated = {a.target for a in actions if a.counts_as is Counts.DEACTIVATION}
    protected = sorted((ProtectedGroup(id=gid, name=current.groups[gid].name, reasons=reasons)
                        for gid, reasons in sorted(ctx.protected.items()) if gid in current.groups),
                       key=lambda p: p.name.casefold())
    return Diff(
        actions=actions,
        notices=out.notices + [Notice(code="current_state", message=w) for w in current.warnings],
        protected=protected,
        unmatched=[spec.email for spec in ctx.unmatched],
        figures=WorkspaceFigures(
            active_members=sum(1 for m in current.members.values() if m.active),
            total_groups=len(current.groups),
            managed_members=len(ctx.managed),
            csv_rows=len(desired.users),
            limited_members=len(current.limited),
        ),
        exceptions=list(ctx.exceptions.held),
        upcoming=list(ctx.upcoming),
        handovers=sorted((h for h in out.handovers if h.email in deactivated), key=lambda h: h.email),
        sensitive_fields=sorted(out.sensitive, key=str.casefold),
    )


def link_needs(actions: Iterable[Action]) -> list[Action]:
    """The actions, each depending on every action that provides a key it ``needs``."""
    actions = list(actions)
    providers: dict[Key, list[str]] = defaultdict(list)
    for action in actions:
        for key in action.provides():
            providers[key].append(action.id)
    linked = []
    for action in actions:
        needs = set(action.depends_on)
        for key in action.needs():
            needs.update(p for p in providers.get(key, ()) if p != action.id)
        linked.append(action if needs == set(action.depends_on)
                      else action.model_copy(update={"depends_on": tuple(sorted(needs))}))
    return linked


__all__ = ["Diff", "diff", "link_needs"]
