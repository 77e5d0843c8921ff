"""A plan as text for a terminal: grouped by user and group, marked +/~/-, Terraform-style summary.

Every line passes through ``sanitize.visible`` before it is styled: a value cannot move the
cursor, erase lines, link, or reorder the text around it.
"""

from __future__ import annotations

from collections.abc import Callable

from clocksync.kinds.base import Shown
from clocksync.plan.file import Plan
from clocksync.plan.types import Handover
from clocksync.render.sections import sections
from clocksync.sanitize import visible

CLEANED_SHOWN = 50  # cleaned cells listed on a terminal; the plan file has them all

Style = Callable[[str, str], str]  # (text, role) -> styled text; roles: add change remove warn bold dim


def plain(text: str, role: str) -> str:
    return text


def safe_style(style: Style) -> Style:
    """``style`` applied to the line's text made visible (our colours stay; a value's escapes do not)."""
    return lambda text, role: style(visible(text), role)


def render_text(plan: Plan, style: Style = plain, *, verbose: bool = True, shown: Shown | None = None) -> str:
    """The plan for a terminal; sensitive values as ``shown`` says (hidden by default)."""
    shown = shown or plan.shown()
    style = safe_style(style)
    out: list[str] = []
    laid = sections(plan)
    out.append(style(f"{plan.title} for workspace {plan.workspace_id}", "bold"))
    out.append(style(f"  made {plan.created_at} from {plan.made_from}", "dim"))
    out.extend(style(f"  {fact}", "warn" if fact.startswith("scoped") else "dim") for fact in plan.header_facts)
    out.append("")
    if not plan.actions:
        out.append(style("No changes. The workspace matches the CSV.", "add"))
    summary = plan.summary
    if laid.fields:
        out.append(style(summary.title("fields"), "bold"))
        out.extend(style(f"  {a.sign} {a.describe(shown)}", a.sign.role) for a in laid.fields)
        out.append("")
    for key, entries in (("users", laid.users), ("groups", laid.groups)):
        if not entries:
            continue
        out.append(style(summary.title(key), "bold"))
        for entry in entries:
            out.append(style(f"  {entry.sign} {entry.heading}", entry.sign.role))
            if verbose:
                out.extend(style(f"      {a.sign} {a.line(shown)}", a.sign.role) for a in entry.items)
        out.append("")
    if laid.destructive:
        out.append(style(f"{summary.title('destructive')}: apply asks for confirmation", "warn"))
        for action in laid.destructive:
            handover = plan.handover_of(action.target)
            nothing = handover is not None and not handover.items
            out.append(style(f"  ! {action.describe(shown)}" + (f"; {Handover.NOTHING}" if nothing else ""), "remove"))
            if handover is not None and handover.items:
                out.append(style("      hands over:", "dim"))
                out.extend(style(f"        {line}", "dim") for line in handover.lines())
            elif handover is None and action.depends_on:
                out.append(style(f"      after {len(action.depends_on)} reassignment/cleanup action(s)", "dim"))
        if any(not h.items for h in plan.handovers):
            out.append(style(f"  ({Handover.NOTHING}: {Handover.NOTHING_MEANS})", "dim"))
        out.append("")
    if plan.exceptions:
        out.append(style(f"Exceptions held ({len(plan.exceptions)})", "bold"))
        out.extend(style(f"  = {held.text()}", "dim") for held in plan.exceptions)
        out.append("")
    if plan.upcoming:
        out.append(style(f"Upcoming ({len(plan.upcoming)}): not provisioned before their start date", "bold"))
        out.extend(style(f"  > {u.email} starts {u.start} (CSV row {u.row})", "dim") for u in plan.upcoming)
        out.append("")
    if plan.cleaned:
        out.append(style(f"Cells read as a person sees them ({len(plan.cleaned)}): what was removed or changed", "bold"))
        out.extend(style(f"  ~ {cell.text()}", "dim") for cell in plan.cleaned[:CLEANED_SHOWN])
        if len(plan.cleaned) > CLEANED_SHOWN:
            out.append(style(f"  ... and {len(plan.cleaned) - CLEANED_SHOWN} more (every one: clocksync show PLAN "
                             "--format json)", "dim"))
        out.append("")
    if plan.protected_groups:
        names = ", ".join(p.name for p in plan.protected_groups)
        out.append(style(f"Protected groups (never emptied, renamed, deleted or given a manager; only a group "
                         f"rule with into_protected adds or moves CSV users): {names}", "dim"))
    if plan.notices:
        out.append(style(f"Warnings ({len(plan.notices)})", "warn"))
        out.extend(style(f"  - {n.message}", "warn") for n in plan.notices)
        out.append("")
    out.append(style(plan.summary.line(), "bold"))
    return "\n".join(out) + "\n"
