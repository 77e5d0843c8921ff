"""A plan as markdown for a pull-request comment: a summary, then collapsible sections.

GitHub refuses comments over 65,536 characters; a plan whose markdown would be longer is
summarised (counts by section and kind, the destructive actions, the warnings) with a pointer to
the artefact. Every foreign text passes through ``sanitize.markdown`` (or ``markdown_code``): shown
as written, no markup, no live @mention, #reference or link.
"""

from __future__ import annotations

from clocksync.kinds.base import Shown
from clocksync.plan.file import Plan
from clocksync.plan.types import Handover
from clocksync.render.sections import SECTIONS, sections
from clocksync.sanitize import markdown as md
from clocksync.sanitize import markdown_code as code

GITHUB_COMMENT_LIMIT = 65_536


def render_markdown(plan: Plan, shown: Shown | None = None, *, collapse_over: int = 20,
                    limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The whole plan, or (past ``limit`` characters) a summary that points at the plan file."""
    shown = shown or plan.shown()
    full = _full(plan, shown, collapse_over)
    return full if len(full) <= limit else _summary(plan, shown, len(full), limit)


def _head(plan: Plan) -> list[str]:
    s = plan.summary
    return [
        f"### {plan.title}: workspace {code(plan.workspace_id)}",
        "",
        f"**{s.add}** to add, **{s.change}** to change, **{s.remove}** to remove, "
        f"**{s.destructive}** destructive. Made {md(plan.created_at)} from {md(plan.made_from)}; "
        f"checksum {code(plan.short_checksum)}." + "".join(f" {md(f[0].upper() + f[1:])}." for f in plan.header_facts),
        "",
    ]


CLEANED_IN_SUMMARY = 10  # cleaned cells shown in a summarised comment; the artefact has them all


def _summary(plan: Plan, shown: Shown, size: int, limit: int) -> str:
    what = [f"{len(plan.actions):,} actions"] if plan.actions else ["no action"]
    if plan.cleaned:
        what.append(f"{len(plan.cleaned):,} cells read as a person sees them")
    out = _head(plan) + [
        f"The plan is too large for one comment ({size:,} characters: {' and '.join(what)}): below are its "
        "counts, its destructive actions, its warnings and the first cleaned cells. Review the whole plan in the "
        "workflow's artefact: `clocksync show plan.json --format html > plan.html` (searchable, with filters).",
        "",
        *(f"- {plan.summary.title(key)}" for key in SECTIONS if plan.summary.count(key).actions),
        "",
    ]
    if plan.summary.by_kind:
        out += ["| kind | actions |", "|---|---:|",
                *(f"| {kind.replace('_', ' ')} | {count:,} |" for kind, count in plan.summary.by_kind.items()), ""]
    if plan.cleaned:
        out += [f"#### Cells read as a person sees them ({len(plan.cleaned):,})", "",
                *(f"- {md(c.text())}" for c in plan.cleaned[:CLEANED_IN_SUMMARY])]
        if len(plan.cleaned) > CLEANED_IN_SUMMARY:
            out.append(f"- ... and {len(plan.cleaned) - CLEANED_IN_SUMMARY:,} more in the artefact")
        out.append("")
    tail = [f"- `!` {md(a.describe(shown))}" for a in plan.destructive_actions]
    tail += [f"- {md(n.message)}" for n in plan.notices]
    budget = limit - len("\n".join(out)) - 200
    kept: list[str] = []
    for line in tail:
        if budget - len(line) - 1 < 0:
            kept.append(f"- ... and {len(tail) - len(kept)} more in the artefact")
            break
        kept.append(line)
        budget -= len(line) + 1
    if kept:
        out += ["#### Destructive actions and warnings", "", *kept]
    return "\n".join(out).rstrip() + "\n"


def _full(plan: Plan, shown: Shown, collapse_over: int) -> str:
    laid = sections(plan)
    summary = plan.summary
    out = _head(plan)
    if not plan.actions:
        out.append("No changes: the workspace matches the CSV.")

    def section(title: str, lines: list[str]) -> None:
        """``title`` carries its count (from the plan's summary, or of notes); ``lines`` are what is shown."""
        if not lines:
            return
        if len(lines) > collapse_over:
            out.extend([f"<details><summary>{title}</summary>", "", *lines, "", "</details>", ""])
        else:
            out.extend([f"#### {title}", "", *lines, ""])

    if laid.destructive:
        lines = []
        for action in laid.destructive:
            handover = plan.handover_of(action.target)
            nothing = handover is not None and not handover.items
            lines.append(f"- `!` {md(action.describe(shown))}" + (f"; {Handover.NOTHING}" if nothing else ""))
            if handover is not None:
                lines += [f"  - hands over {md(line)}" for line in handover.lines()]
        if any(not h.items for h in plan.handovers):
            lines.append(f"- ({Handover.NOTHING}: {Handover.NOTHING_MEANS})")
        section(f":warning: {summary.title('destructive')}: apply asks for confirmation", lines)
    section(f"Exceptions held ({len(plan.exceptions)})", [f"- {md(h.text())}" for h in plan.exceptions])
    section(f"Upcoming: not provisioned before their start date ({len(plan.upcoming)})",
            [f"- {md(u.email)} starts {u.start} (CSV row {u.row})" for u in plan.upcoming])
    section(f"Cells read as a person sees them ({len(plan.cleaned)})", [f"- {md(c.text())}" for c in plan.cleaned])
    section(summary.title("fields"), [f"- `{a.sign}` {md(a.describe(shown))}" for a in laid.fields])
    for key, entries in (("users", laid.users), ("groups", laid.groups)):
        section(summary.title(key), [f"- `{a.sign}` **{md(e.heading)}**: {md(a.line(shown))}"
                                     for e in entries for a in e.actions])
    section(f"Warnings ({len(plan.notices)})", [f"- {md(n.message)}" for n in plan.notices])
    if plan.protected_groups:
        section(f"Protected groups ({len(plan.protected_groups)})",
                [f"- {md(p.name)} ({md(', '.join(p.reasons))})" for p in plan.protected_groups])
    return "\n".join(out).rstrip() + "\n"
