"""Mass-change thresholds: a plan that would change too much of the workspace is refused.

Each action says which threshold it counts against (``Action.counts_as``); a threshold trips only
past both a share and a count, unless the plan was made with its override. The thresholds are the
plan's own (those of the config it was made with, sealed by its checksum), so ``apply`` judges a
plan exactly as ``plan`` did.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from clocksync.errors import TooMuchChange
from clocksync.fieldvalues import is_unset, shown
from clocksync.plan.file import Plan


@dataclass(frozen=True)
class Threshold:
    counts_as: str
    what: str
    of: str
    flag: str


THRESHOLDS = (
    Threshold("deactivation", "deactivations", "active members", "--allow-mass-deactivation"),
    Threshold("group_deletion", "group deletions", "groups", "--allow-mass-group-deletion"),
    Threshold("membership_removal", "membership removals", "managed users", "--allow-mass-removal"),
)


def check_thresholds(plan: Plan) -> None:
    """Raise TooMuchChange, with the numbers and the way out, when a threshold trips."""
    figures, opts, safety = plan.figures, plan.options, plan.safety
    counts = Counter(a.counts_as for a in plan.actions if a.counts_as)
    limits = {
        "deactivation": (figures.active_members, safety.max_deactivation_share, safety.min_deactivation_count,
                         opts.allow_mass_deactivation),
        "group_deletion": (figures.total_groups, safety.max_group_deletion_share, safety.min_group_deletion_count,
                           opts.allow_mass_group_deletion),
        "membership_removal": (max(figures.managed_members, 1), safety.max_membership_removal_share,
                               safety.min_membership_removal_count, opts.allow_mass_removal),
    }
    problems = []
    for threshold in THRESHOLDS:
        count = counts.get(threshold.counts_as, 0)
        base, share, minimum, allowed = limits[threshold.counts_as]
        if allowed or count < minimum or base == 0:
            continue
        if count / base > share:
            problems.append(f"too many {threshold.what}: {count / base:.0%} is over {share:.0%} ({count}/{base} "
                            f"{threshold.of}); re-plan with {threshold.flag} if this is intended")
    deactivations = counts.get("deactivation", 0)
    if (not opts.allow_mass_deactivation and deactivations >= safety.min_deactivation_count
            and figures.csv_rows < figures.active_members * safety.min_csv_share):
        problems.append(
            f"the CSV looks truncated: {figures.csv_rows} rows for {figures.active_members} active members "
            f"(under {safety.min_csv_share:.0%}) with --deactivate-missing; re-plan with "
            "--allow-mass-deactivation if this is intended")
    if not opts.allow_mass_field_change:
        problems += field_change_problems(plan)
    if problems:
        raise TooMuchChange("; ".join(problems))


def field_change_problems(plan: Plan) -> list[str]:
    """One custom field (or capacity) overwritten or blanked for too many of the users the plan manages.

    Filling a value that is empty today (a first sync, a new field) is provisioning: not counted.
    """
    safety, base = plan.safety, max(plan.figures.managed_members, 1)
    overwrites: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for action in plan.actions:
        for change in action.value_changes():
            if not is_unset(change.before) and change.before != change.after:
                overwrites[change.field].append((action.target, shown(change.before), shown(change.after)))
    problems = []
    for name, changes in sorted(overwrites.items()):
        count = len(changes)
        if count < safety.min_field_change_count or count / base <= safety.max_field_change_share:
            continue
        examples = "; ".join(f"{who}: {before} -> {after}" for who, before, after in changes[:3])
        problems.append(f"too many changes to {name!r}: {count} of {base} managed users ({count / base:.0%}, over "
                        f"{safety.max_field_change_share:.0%}), e.g. {examples}; is a column shifted? re-plan with "
                        "--allow-mass-field-change if this is intended")
    return problems
