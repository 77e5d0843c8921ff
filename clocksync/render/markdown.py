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
        f"### clocksync plan: workspace `{plan.workspace_id}`",
        "",
        f"**{s.add}** to add, **{s.change}** to change, **{s.remove}** to remove, "
        f"**{s.destructive}** destructive. Made {plan.created_at} from `{plan.inputs['csv'].path}`; "
        f"checksum `{plan.short_checksum}`.",
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
        section(":warning: Destructive (apply asks for confirmation)",
                [f"- `!` {md_escape(a.describe())}" for a in laid.destructive])
    section("Custom fields", [f"- `{a.sign}` {md_escape(a.describe())}" for a in laid.fields])
    for title, entries in (("Users", laid.users), ("Groups", laid.groups)):
        section(title, [f"- `{a.sign}` **{md_escape(e.heading)}**: {md_escape(a.line())}"
                        for e in entries for a in e.actions])
    section("Warnings", [f"- {md_escape(n.message)}" for n in plan.notices])
    if plan.protected_groups:
        section("Protected groups", [f"- {md_escape(p.name)} ({md_escape(', '.join(p.reasons))})"
                                     for p in plan.protected_groups])
    return "\n".join(out).rstrip() + "\n"
