"""A plan as markdown for a pull-request comment: a summary, then collapsible sections."""

from __future__ import annotations

from clocksync.plan.file import Plan
from clocksync.render.sections import sections


def md_escape(text: str) -> str:
    """Escape what would turn a table cell or list item into markup."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def render_markdown(plan: Plan, *, collapse_over: int = 20) -> str:
    laid = sections(plan)
    s = plan.summary
    out = [
        f"### {plan.title}: workspace `{plan.workspace_id}`",
        "",
        f"**{s.add}** to add, **{s.change}** to change, **{s.remove}** to remove, "
        f"**{s.destructive}** destructive. Made {plan.created_at} from `{plan.source}`; "
        f"checksum `{plan.short_checksum}`." + "".join(f" {md_escape(f[0].upper() + f[1:])}." for f in plan.header_facts),
        "",
    ]
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
