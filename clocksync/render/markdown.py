"""A plan as markdown for a pull-request comment: a summary, then collapsible sections.

GitHub refuses comments over 65,536 characters; a plan whose markdown would be longer is
summarised (counts by kind, the destructive actions, the warnings) with a pointer to the artefact.
"""

from __future__ import annotations

from clocksync.plan.file import Plan
from clocksync.render.sections import sections


def md_escape(text: str) -> str:
    """Escape what would turn a table cell or list item into markup."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


GITHUB_COMMENT_LIMIT = 65_536


def render_markdown(plan: Plan, *, collapse_over: int = 20, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The whole plan, or (past ``limit`` characters) a summary that points at the plan file."""
    full = _full(plan, collapse_over)
    return full if len(full) <= limit else _summary(plan, len(full), limit)


def _head(plan: Plan) -> list[str]:
    s = plan.summary
    return [
        f"### {plan.title}: workspace `{plan.workspace_id}`",
        "",
        f"**{s.add}** to add, **{s.change}** to change, **{s.remove}** to remove, "
        f"**{s.destructive}** destructive. Made {plan.created_at} from {md_escape(plan.made_from)}; "
        f"checksum `{plan.short_checksum}`." + "".join(f" {md_escape(f[0].upper() + f[1:])}." for f in plan.header_facts),
        "",
    ]


def _summary(plan: Plan, size: int, limit: int) -> str:
    out = _head(plan) + [
        f"The plan is too large for one comment ({size:,} characters): below are its counts, its destructive "
        "actions and its warnings. Review the whole plan in the workflow's artefact: "
        "`clocksync show plan.json --format html > plan.html` (searchable, with filters).",
        "",
        "| kind | actions |", "|---|---:|",
        *(f"| {kind.replace('_', ' ')} | {count:,} |" for kind, count in plan.summary.by_kind.items()),
        "",
    ]
    tail = [f"- `!` {md_escape(a.describe())}" for a in plan.destructive_actions]
    tail += [f"- {md_escape(n.message)}" for n in plan.notices]
    budget = limit - len("\n".join(out)) - 200
    shown: list[str] = []
    for line in tail:
        if budget - len(line) - 1 < 0:
            shown.append(f"- ... and {len(tail) - len(shown)} more in the artefact")
            break
        shown.append(line)
        budget -= len(line) + 1
    if shown:
        out += ["#### Destructive actions and warnings", "", *shown]
    return "\n".join(out).rstrip() + "\n"


def _full(plan: Plan, collapse_over: int) -> str:
    laid = sections(plan)
    out = _head(plan)
    if not plan.actions:
        out.append("No changes: the workspace matches the CSV.")

    def section(title: str, lines: list[str]) -> None:
        if not lines:
            return
        if len(lines) > collapse_over:
            out.extend([f"<details><summary>{title} ({len(lines)})</summary>", "", *lines, "", "</details>", ""])
        else:
            out.extend([f"#### {title}", "", *lines, ""])

    if laid.destructive:
        lines = []
        for action in laid.destructive:
            lines.append(f"- `!` {md_escape(action.describe())}")
            handover = plan.handover_of(action.target)
            if handover is not None:
                lines += [f"  - hands over {md_escape(line)}" for line in handover.lines()]
        section(":warning: Destructive (apply asks for confirmation)", lines)
    section("Exceptions held", [f"- {md_escape(h.text())}" for h in plan.exceptions])
    section("Upcoming: not provisioned before their start date",
            [f"- {md_escape(u.email)} starts {u.start} (CSV row {u.row})" for u in plan.upcoming])
    section("Custom fields", [f"- `{a.sign}` {md_escape(a.describe())}" for a in laid.fields])
    for title, entries in (("Users", laid.users), ("Groups", laid.groups)):
        section(title, [f"- `{a.sign}` **{md_escape(e.heading)}**: {md_escape(a.line())}"
                        for e in entries for a in e.actions])
    section("Warnings", [f"- {md_escape(n.message)}" for n in plan.notices])
    if plan.protected_groups:
        section("Protected groups", [f"- {md_escape(p.name)} ({md_escape(', '.join(p.reasons))})"
                                     for p in plan.protected_groups])
    return "\n".join(out).rstrip() + "\n"
