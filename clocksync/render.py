"""Plans as text (terminal), markdown (pull-request comment) and JSON. Rendering only: no I/O.

The text form groups actions by user and by group, marks them ``+``/``~``/``-``, sets the
destructive ones apart and ends with a Terraform-style summary line.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable

from clocksync.actions import (
    AddMember,
    CreateCustomField,
    CreateGroup,
    DeactivateUser,
    GrantRole,
    InviteUser,
    RemoveMember,
    RevokeRole,
    UpdateProfile,
    _Action,
)
from clocksync.plan import Plan

Style = Callable[[str, str], str]  # (text, role) -> styled text; roles: add change remove warn bold dim


def plain(text: str, role: str) -> str:
    return text


def _sections(plan: Plan) -> tuple[list[_Action], dict[str, list[_Action]], dict[str, list[_Action]], list[_Action]]:
    """Custom fields; per-user actions; per-group actions; destructive actions."""
    fields: list[_Action] = []
    users: dict[str, list[_Action]] = defaultdict(list)
    groups: dict[str, list[_Action]] = defaultdict(list)
    destructive: list[_Action] = []
    for action in plan.actions:
        if action.destructive:
            destructive.append(action)
        elif isinstance(action, CreateCustomField):
            fields.append(action)
        elif isinstance(action, UpdateProfile | InviteUser):
            users[action.target].append(action)
        elif isinstance(action, GrantRole | RevokeRole) and action.entity_kind != "group":
            users[action.entity_name].append(action)
        else:
            groups[action.target].append(action)
    return fields, users, groups, destructive


def _line(action: _Action) -> str:
    if isinstance(action, UpdateProfile):
        return action.describe()
    if isinstance(action, AddMember | RemoveMember):
        return f"member {action.email}"
    if isinstance(action, GrantRole):
        return f"{action.role} {action.holder_email}" if action.entity_kind == "group" else (
            f"manager {action.holder_email} ({action.role})" if action.entity_kind == "user" else action.describe())
    if isinstance(action, RevokeRole):
        return f"{action.role} {action.holder_email}" if action.entity_kind == "group" else (
            f"manager {action.holder_email} ({action.role})" if action.entity_kind == "user" else action.describe())
    if isinstance(action, CreateGroup):
        return "create group"
    return action.describe()


_ROLE = {"+": "add", "~": "change", "-": "remove"}


def render_text(plan: Plan, style: Style = plain, *, verbose: bool = True) -> str:
    out: list[str] = []
    fields, users, groups, destructive = _sections(plan)
    out.append(style(f"clocksync plan for workspace {plan.workspace_id}", "bold"))
    out.append(style(f"  made {plan.created_at} from {plan.inputs['csv'].path}", "dim"))
    out.append("")
    if not plan.actions:
        out.append(style("No changes. The workspace matches the CSV.", "add"))
    if fields:
        out.append(style("Custom fields", "bold"))
        out.extend(style(f"  + {a.describe()}", "add") for a in fields)
        out.append("")
    if users:
        out.append(style(f"Users ({len(users)})", "bold"))
        for target in sorted(users, key=str.casefold):
            actions = users[target]
            signs = {a.sign for a in actions}
            head = "~" if len(signs) > 1 or "~" in signs else next(iter(signs))
            out.append(style(f"  {head} {target}", _ROLE[head]))
            if verbose:
                out.extend(style(f"      {a.sign} {_line(a)}", _ROLE[a.sign]) for a in actions)
        out.append("")
    if groups:
        out.append(style(f"Groups ({len(groups)})", "bold"))
        for target in sorted(groups, key=str.casefold):
            actions = groups[target]
            creating = any(isinstance(a, CreateGroup) for a in actions)
            head = "+" if creating else "~"
            out.append(style(f"  {head} {target}", _ROLE[head]))
            if verbose:
                out.extend(style(f"      {a.sign} {_line(a)}", _ROLE[a.sign])
                           for a in actions if not isinstance(a, CreateGroup))
        out.append("")
    if destructive:
        out.append(style(f"Destructive actions ({len(destructive)}): apply asks for confirmation", "warn"))
        for action in destructive:
            out.append(style(f"  ! {action.describe()}", "remove"))
            if isinstance(action, DeactivateUser) and action.depends_on:
                out.append(style(f"      after {len(action.depends_on)} reassignment/cleanup action(s)", "dim"))
        out.append("")
    if plan.protected_groups:
        names = ", ".join(p.name for p in plan.protected_groups)
        out.append(style(f"Protected groups (never changed): {names}", "dim"))
    if plan.notices:
        out.append(style(f"Warnings ({len(plan.notices)})", "warn"))
        out.extend(style(f"  - {n.message}", "warn") for n in plan.notices)
        out.append("")
    out.append(style(plan.summary.line(), "bold"))
    return "\n".join(out) + "\n"


def render_markdown(plan: Plan, *, collapse_over: int = 20) -> str:
    """A pull-request comment: a summary table, then collapsible sections for long lists."""
    fields, users, groups, destructive = _sections(plan)
    s = plan.summary
    out = [
        f"### clocksync plan: workspace `{plan.workspace_id}`",
        "",
        f"**{s.add}** to add, **{s.change}** to change, **{s.remove}** to remove, "
        f"**{s.destructive}** destructive. Made {plan.created_at} from `{plan.inputs['csv'].path}`; "
        f"checksum `{plan.checksum.removeprefix('sha256:')[:12]}`.",
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

    if destructive:
        section(":warning: Destructive (apply asks for confirmation)", [f"- `!` {_md(a.describe())}" for a in destructive])
    section("Custom fields", [f"- `+` {_md(a.describe())}" for a in fields])
    section("Users", [f"- `{a.sign}` **{_md(t)}**: {_md(_line(a))}"
                      for t in sorted(users, key=str.casefold) for a in users[t]])
    section("Groups", [f"- `{a.sign}` **{_md(t)}**: {_md(_line(a))}"
                       for t in sorted(groups, key=str.casefold) for a in groups[t]])
    section("Warnings", [f"- {_md(n.message)}" for n in plan.notices])
    if plan.protected_groups:
        section("Protected groups", [f"- {_md(p.name)} ({_md(', '.join(p.reasons))})" for p in plan.protected_groups])
    return "\n".join(out).rstrip() + "\n"


def _md(text: str) -> str:
    """Escape what would turn a table cell or list item into markup."""
    for char in "\\`*_[]<>|":
        text = text.replace(char, "\\" + char)
    return text


def render_json(plan: Plan) -> str:
    return json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


def render(plan: Plan, fmt: str, style: Style = plain) -> str:
    if fmt == "markdown":
        return render_markdown(plan)
    if fmt == "json":
        return render_json(plan)
    return render_text(plan, style)


__all__ = ["render", "render_json", "render_markdown", "render_text"]
