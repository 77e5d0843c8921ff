"""Plans and apply results as self-contained HTML pages a reviewer can use at 10,000 users.

One file, no external resources, a strict Content-Security-Policy that allows exactly the page's
own script (by its SHA-256 hash) and nothing else. Per-user and per-group sections start
collapsed past ``COLLAPSE_OVER`` entries; a search over emails and group names and filters by kind
and by change (or, for an apply, outcome) narrow the page, and the counts follow the filter
(``assets.py``). Every text is escaped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from html import escape
from typing import TYPE_CHECKING

from clocksync.kinds import Action
from clocksync.plan.file import Plan
from clocksync.render.assets import SCRIPT, STYLE
from clocksync.render.sections import ROLE_OF_SIGN, Entry, sections

if TYPE_CHECKING:
    from clocksync.apply.report import ActionResult, ApplyReport

COLLAPSE_OVER = 50  # sections with more entries than this start collapsed
CHANGES = ("add", "change", "remove")
OUTCOMES = {"applied": "applied", "already in place": "already", "stale": "stale", "failed": "failed",
            "skipped": "skipped"}


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _item(action: Action, result: ActionResult | None, line: Callable[[Action], str]) -> str:
    change = ROLE_OF_SIGN[action.sign]
    outcome = ""
    extra = ""
    if result is not None:
        outcome = OUTCOMES[result.outcome.value]
        extra = f'<span class="outcome {outcome}">{escape(result.outcome.value)}</span>'
        if result.message:
            extra += f'<span class="msg">{escape(result.message)}</span>'
    return (f'<li class="{change}" data-kind="{_attr(action.kind_name)}" data-change="{change}" '
            f'data-outcome="{outcome}"><span class="sign">{escape(action.sign)}</span>{escape(line(action))}'
            f"{extra}</li>")


def _search_text(heading: str, actions: list[Action]) -> str:
    words = {heading, *(s for a in actions for s in a.subjects), *(a.target for a in actions)}
    return " ".join(sorted(words))


def _entries(title: str, key: str, entries: list[Entry], results: Mapping[str, ActionResult]) -> str:
    if not entries:
        return ""
    opened = " open" if len(entries) <= COLLAPSE_OVER else ""
    parts = [f'<section data-section="{key}"><h2>{escape(title)} (<span class="count">{len(entries)}</span>)</h2>']
    for entry in entries:
        items = "".join(_item(a, results.get(a.id), lambda a: a.line()) for a in entry.actions)
        parts.append(f'<details data-entry data-search="{_attr(_search_text(entry.heading, entry.actions))}"{opened}>'
                     f"<summary>{escape(entry.sign)} {escape(entry.heading)} <small>({len(entry.actions)})</small>"
                     f"</summary><ul>{items}</ul></details>")
    parts.append("</section>")
    return "".join(parts)


def _flat(title: str, key: str, actions: list[Action], results: Mapping[str, ActionResult], css: str = "",
          after: Callable[[Action], str] = lambda a: "") -> str:
    """A section of actions each shown on its own (custom fields, destructive actions)."""
    if not actions:
        return ""
    rows = "".join(f'<div data-entry data-search="{_attr(_search_text(a.target, [a]))}"><ul>'
                   f"{_item(a, results.get(a.id), lambda a: a.describe())}</ul>{after(a)}</div>" for a in actions)
    box = f'<div class="{css}">{rows}</div>' if css else rows
    return f'<section data-section="{key}"><h2>{escape(title)} (<span class="count">{len(actions)}</span>)</h2>{box}</section>'


def _controls(plan: Plan, changes: tuple[str, ...]) -> str:
    kinds = sorted({a.kind_name for a in plan.actions})
    kind_options = "".join(f'<option value="{_attr(k)}">{escape(k.replace("_", " "))}</option>' for k in kinds)
    change_options = "".join(f'<option value="{c}">{c}</option>' for c in changes)
    return ('<div class="controls"><input id="q" type="search" placeholder="Search an email or a group" '
            'aria-label="Search an email or a group">'
            f'<select id="kind" aria-label="Kind"><option value="">every kind</option>{kind_options}</select>'
            f'<select id="change" aria-label="Change"><option value="">every change</option>{change_options}</select>'
            '<span class="shown" id="shown"></span></div>')


def _cards(counts: list[tuple[str, int, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card {cls}" data-card="{cls}"><b>{value}</b>{escape(label)}</div>' for label, value, cls in counts
    ) + "</div>"


def _handover(plan: Plan) -> Callable[[Action], str]:
    def block(action: Action) -> str:
        handover = plan.handover_of(action.target)
        if handover is None:
            return ""
        lines = "".join(f"<li>{escape(line)}</li>" for line in handover.lines())
        return f'<ul class="handover"><li><b>hands over</b></li>{lines}</ul>'
    return block


NOTES_OPEN_UP_TO = 20  # notes sections with more lines than this start collapsed


def _note_section(title: str, lines: list[str], css: str = "") -> str:
    if not lines:
        return ""
    opened = " open" if len(lines) <= NOTES_OPEN_UP_TO else ""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return (f'<h2>{escape(title)} ({len(lines)})</h2><details{opened} class="{css}"><summary>'
            f"{len(lines)} line{'' if len(lines) == 1 else 's'}</summary><ul>{items}</ul></details>")


def _notes(plan: Plan) -> list[str]:
    return [
        _note_section("Exceptions held", [h.text() for h in plan.exceptions]),
        _note_section("Upcoming: not provisioned before their start date",
                      [f"{u.email} starts {u.start} (CSV row {u.row})" for u in plan.upcoming]),
        _note_section("Warnings", [n.message for n in plan.notices], "warn"),
        _note_section("Protected groups", [f"{p.name}: {', '.join(p.reasons)}" for p in plan.protected_groups]),
    ]


def _page(title: str, body: list[str]) -> str:
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_csp()}\">"
            f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n")


def _actions_body(plan: Plan, results: Mapping[str, ActionResult]) -> list[str]:
    laid = sections(plan)
    return [
        _flat("Destructive actions (apply asks for confirmation)", "destructive", laid.destructive, results, "danger",
              _handover(plan)),
        _flat("Custom fields", "fields", laid.fields, results),
        _entries("Users", "users", laid.users, results),
        _entries("Groups", "groups", laid.groups, results),
    ]


def render_html(plan: Plan) -> str:
    """The plan as a page: cards, the filter bar, destructive actions, fields, users, groups, notes."""
    s = plan.summary
    facts = "".join(f"; <b>{escape(f)}</b>" for f in plan.header_facts)
    body = [
        f"<h1>{escape(plan.title)}: workspace {escape(plan.workspace_id)}</h1>",
        f'<p class="meta">Made {escape(plan.created_at)} from {escape(plan.made_from)}; checksum '
        f"{escape(plan.short_checksum)}{facts}; {s.destructive} destructive</p>",
        _cards([("to add", s.add, "add"), ("to change", s.change, "change"), ("to remove", s.remove, "remove")]),
        _controls(plan, CHANGES),
    ]
    if not plan.actions:
        body.append("<p>No changes: the workspace matches the CSV.</p>")
    body += _actions_body(plan, {})
    body += _notes(plan)
    return _page(f"{plan.title} {plan.workspace_id}", body)


def render_apply_html(plan: Plan, report: ApplyReport) -> str:
    """An apply run as a page: each action with its outcome and message, and what verification found."""
    results = {r.action.id: r for r in report.results}
    counts = [(label, sum(1 for r in report.results if r.outcome.value == label), slug)
              for label, slug in OUTCOMES.items()]
    state = "every action applied or already in place" if report.ok else "NOT everything is in place"
    body = [
        f"<h1>clocksync apply: workspace {escape(plan.workspace_id)}</h1>",
        f'<p class="meta">Run {escape(report.run_id)} of plan {escape(plan.short_checksum)} (made '
        f"{escape(plan.created_at)} from {escape(plan.source)}): <b>{escape(state)}</b>; {report.writes} write(s), "
        f"{report.requests} request(s); {report.verified} object(s) verified whole</p>",
        _cards([(label, value, slug) for label, value, slug in counts]),
        _controls(plan, CHANGES + tuple(OUTCOMES.values())),
    ]
    if report.verification:
        rows = "".join(
            f'<div data-entry data-search="{_attr(p.description)}"><ul><li class="failed" data-kind="verify" '
            f'data-change="change" data-outcome="failed"><span class="sign">!</span>{escape(p.message)}</li></ul></div>'
            for p in report.verification)
        body.append(f'<section data-section="verification"><h2>Verification problems (<span class="count">'
                    f'{len(report.verification)}</span>)</h2><div class="danger">{rows}</div></section>')
    body += _actions_body(plan, results)
    return _page(f"clocksync apply {report.run_id}", body)
