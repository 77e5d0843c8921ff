"""A plan as a self-contained HTML page: no scripts, no external resources, a strict CSP."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from clocksync.kinds import Action
from clocksync.plan.file import Plan
from clocksync.render.sections import ROLE_OF_SIGN, Entry, sections

STYLE = """
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


def _items(actions: list[Action], line: Callable[[Action], str]) -> str:
    return "<ul>" + "".join(
        f'<li class="{ROLE_OF_SIGN[a.sign]}"><span class="sign">{escape(a.sign)}</span>{escape(line(a))}</li>'
        for a in actions) + "</ul>"


def _block(title: str, entries: list[Entry]) -> str:
    if not entries:
        return ""
    parts = [f"<h2>{escape(title)} ({len(entries)})</h2>"]
    for entry in entries:
        parts.append(f"<details open><summary>{escape(entry.heading)} <small>({len(entry.actions)})</small>"
                     f"</summary>{_items(entry.actions, lambda a: a.line())}</details>")
    return "".join(parts)


def render_html(plan: Plan) -> str:
    """Per-user and per-group sections, the destructive actions apart, warnings and protected groups."""
    laid = sections(plan)
    s = plan.summary
    cards = "".join(
        f'<div class="card {cls}"><b>{value}</b>{label}</div>'
        for value, label, cls in ((s.add, "to add", "add"), (s.change, "to change", "change"),
                                  (s.remove, "to remove", "remove"), (s.destructive, "destructive", "remove")))
    body = [
        f"<h1>{escape(plan.title)}: workspace {escape(plan.workspace_id)}</h1>",
        f'<p class="meta">Made {escape(plan.created_at)} from {escape(plan.source)}; checksum '
        f'{escape(plan.short_checksum)}' + "".join(f"; <b>{escape(f)}</b>" for f in plan.header_facts) + "</p>",
        f'<div class="cards">{cards}</div>',
    ]
    if not plan.actions:
        body.append("<p>No changes: the workspace matches the CSV.</p>")
    if laid.destructive:
        blocks = []
        for action in laid.destructive:
            handover = plan.handover_of(action.target)
            lines = "".join(f"<li>{escape(line)}</li>" for line in handover.lines()) if handover else ""
            blocks.append(f'<li class="remove"><span class="sign">!</span>{escape(action.describe())}'
                          + (f'<ul class="handover"><li><b>hands over</b></li>{lines}</ul>' if lines else "") + "</li>")
        body.append('<h2>Destructive actions (apply asks for confirmation)</h2><div class="danger"><ul>'
                    + "".join(blocks) + "</ul></div>")
    if plan.exceptions:
        body.append(f"<h2>Exceptions held ({len(plan.exceptions)})</h2><ul>"
                    + "".join(f"<li>{escape(h.text())}</li>" for h in plan.exceptions) + "</ul>")
    if plan.upcoming:
        body.append(f"<h2>Upcoming ({len(plan.upcoming)}): not provisioned before their start date</h2><ul>"
                    + "".join(f"<li>{escape(u.email)} starts {escape(u.start)} (CSV row {u.row})</li>"
                              for u in plan.upcoming) + "</ul>")
    if laid.fields:
        body.append("<h2>Custom fields</h2>" + _items(laid.fields, lambda a: a.describe()))
    body.append(_block("Users", laid.users))
    body.append(_block("Groups", laid.groups))
    if plan.notices:
        body.append('<h2>Warnings</h2><div class="warn"><ul>'
                    + "".join(f"<li>{escape(n.message)}</li>" for n in plan.notices) + "</ul></div>")
    if plan.protected_groups:
        body.append("<h2>Protected groups</h2><ul>" + "".join(
            f"<li>{escape(p.name)}: {escape(', '.join(p.reasons))}</li>" for p in plan.protected_groups) + "</ul>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>clocksync plan {escape(plan.workspace_id)}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")
