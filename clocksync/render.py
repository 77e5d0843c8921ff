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
    if isinstance(action, GrantRole | RevokeRole):
        if action.entity_kind == "group":
            return f"{action.role} {action.holder_email}"
        if action.entity_kind == "user":
            return f"manager {action.holder_email} ({action.role})"
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
    if fmt == "html":
        return render_html(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    if fmt == "json":
        return render_json(plan)
    return render_text(plan, style)




_HTML_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:980px;color:#1d2330}
h1{font-size:1.4rem;margin:0 0 .2rem} h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #dde}
.meta{color:#667;margin:0 0 1rem} .cards{display:flex;gap:.8rem;flex-wrap:wrap}
.card{border:1px solid #dde;border-radius:8px;padding:.6rem 1rem;min-width:110px}
.card b{display:block;font-size:1.5rem} .add{color:#137333} .change{color:#9a6700} .remove{color:#b3261e}
details{border:1px solid #e3e6ef;border-radius:6px;margin:.35rem 0;padding:.3rem .7rem}
summary{cursor:pointer;font-weight:600} ul{margin:.3rem 0 .3rem .4rem;padding:0;list-style:none}
li{margin:.1rem 0} .sign{font-family:ui-monospace,monospace;font-weight:700;margin-right:.4rem}
.warn{background:#fff8e1;border:1px solid #f0d48a;border-radius:6px;padding:.5rem 1rem}
.danger{background:#fdecea;border:1px solid #f3b4ae;border-radius:6px;padding:.5rem 1rem}
"""


def render_html(plan: Plan) -> str:
    """A self-contained page (no scripts, no external resources) with per-user and per-group sections."""
    from html import escape

    fields, users, groups, destructive = _sections(plan)
    s = plan.summary

    def items(actions: list[_Action], line: Callable[[_Action], str]) -> str:
        return "<ul>" + "".join(
            f'<li class="{_ROLE[a.sign]}"><span class="sign">{escape(a.sign)}</span>{escape(line(a))}</li>'
            for a in actions) + "</ul>"

    def block(title: str, grouped: dict[str, list[_Action]]) -> str:
        if not grouped:
            return ""
        parts = [f"<h2>{escape(title)} ({len(grouped)})</h2>"]
        for target in sorted(grouped, key=str.casefold):
            actions = grouped[target]
            parts.append(f"<details open><summary>{escape(target)} <small>({len(actions)})</small></summary>"
                         f"{items(actions, _line)}</details>")
        return "".join(parts)

    cards = "".join(
        f'<div class="card {cls}"><b>{value}</b>{label}</div>'
        for value, label, cls in ((s.add, "to add", "add"), (s.change, "to change", "change"),
                                  (s.remove, "to remove", "remove"), (s.destructive, "destructive", "remove")))
    body = [
        f"<h1>clocksync plan: workspace {escape(plan.workspace_id)}</h1>",
        f'<p class="meta">Made {escape(plan.created_at)} from {escape(plan.inputs["csv"].path)}; checksum '
        f'{escape(plan.checksum.removeprefix("sha256:")[:12])}</p>',
        f'<div class="cards">{cards}</div>',
    ]
    if not plan.actions:
        body.append("<p>No changes: the workspace matches the CSV.</p>")
    if destructive:
        body.append('<h2>Destructive actions (apply asks for confirmation)</h2><div class="danger">'
                    + items(destructive, lambda a: a.describe()) + "</div>")
    if fields:
        body.append("<h2>Custom fields</h2>" + items(fields, lambda a: a.describe()))
    body.append(block("Users", users))
    body.append(block("Groups", groups))
    if plan.notices:
        body.append('<h2>Warnings</h2><div class="warn"><ul>'
                    + "".join(f"<li>{escape(n.message)}</li>" for n in plan.notices) + "</ul></div>")
    if plan.protected_groups:
        body.append("<h2>Protected groups</h2><ul>" + "".join(
            f"<li>{escape(p.name)}: {escape(', '.join(p.reasons))}</li>" for p in plan.protected_groups) + "</ul>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>clocksync plan {escape(plan.workspace_id)}</title><style>{_HTML_STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


__all__ = ["render", "render_html", "render_json", "render_markdown", "render_text"]
