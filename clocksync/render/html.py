"""Plans and apply results as self-contained HTML pages a reviewer can use at 10,000 users.

One file, no external resources, a strict Content-Security-Policy that allows exactly the page's
own script (by its SHA-256 hash) and nothing else. Every text is escaped.

Laid out for a review of the whole plan without a click per row: the counts (the plan's summary,
the same numbers as every other format), destructive actions first (a leaver who hands over
nothing takes one line), then custom fields, users and groups. A user or group with one action is
one row; one with more is an entry whose collapsed line gives the gist of its actions (and, in an
apply report, any outcome that is not a success), so a collapsed section still reads as the plan.
Sections start collapsed past ``COLLAPSE_OVER`` entries; "Expand all" and "Collapse all" open or
close every entry; a search over emails and group names and filters by kind and by change (or, for
an apply, outcome) narrow the page, and the counts follow the filter (``assets.py``). Every text
passes through ``sanitize.html``: escaped, and every control, bidi or invisible character shown as
its escape.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from collections.abc import Mapping

from clocksync.apply.report import ActionResult, ApplyReport, Outcome
from clocksync.kinds import Action
from clocksync.kinds.base import Shown, Sign
from clocksync.plan.file import Plan
from clocksync.plan.types import Handover, Summary
from clocksync.render.assets import SCRIPT, STYLE
from clocksync.render.sections import Entry, sections
from clocksync.sanitize import html as safe

COLLAPSE_OVER = 50  # sections with more entries than this start collapsed
GIST_CHARS = 140  # the collapsed line of an entry gives this much of its actions
CHANGES = tuple(sign.role for sign in Sign)
# How an action ended -> its filter and CSS name (the run folder's own marks are not endings).
OUTCOMES = {o.value: o.name.lower().replace("_", "-") for o in Outcome if o not in (Outcome.SENT, Outcome.STARTED)}


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    return f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'"


def _attr(text: str) -> str:
    return safe(text)


def _badge(result: ActionResult | None) -> str:
    if result is None:
        return ""
    slug = OUTCOMES[result.outcome.value]
    message = f'<span class="msg">{safe(result.message)}</span>' if result.message else ""
    return f'<span class="outcome {slug}">{safe(result.outcome.value)}</span>{message}'


def _item(action: Action, result: ActionResult | None, text: str, after: str = "", sign: str | None = None) -> str:
    """One action as a list item the filters read (kind, change, outcome); ``text`` is escaped HTML.
    ``sign``: the sign the line starts with (a one-action row starts with its entry's)."""
    change = action.sign.role  # the class is the change the filter reads
    outcome = f' data-outcome="{OUTCOMES[result.outcome.value]}"' if result is not None else ""
    return (f'<li class="{change}" data-kind="{_attr(action.kind_name)}"{outcome}>'
            f'<span class="sign">{safe(sign or action.sign)}</span>{text}{_badge(result)}{after}</li>')


def _search_text(heading: str, actions: list[Action]) -> str:
    words = {heading, *(s for a in actions for s in a.subjects), *(a.target for a in actions)}
    return " ".join(sorted(words))


def _gist(entry: Entry, shown: Shown) -> str:
    """The one line a collapsed entry shows: its actions, as far as ``GIST_CHARS`` allows."""
    text = "; ".join(f"{a.sign} {a.line(shown)}" for a in entry.items)
    if len(text) <= GIST_CHARS:
        return text
    return text[:GIST_CHARS].rsplit(" ", 1)[0] + " …"


def _problems(actions: list[Action], results: Mapping[str, ActionResult]) -> str:
    """Badges for the outcomes of a collapsed entry that are not a success (e.g. "1 failed")."""
    counts = Counter(results[a.id].outcome.value for a in actions if a.id in results and not results[a.id].outcome.ok)
    return "".join(f'<span class="outcome {OUTCOMES[o]}">{n} {safe(o)}</span>' for o, n in sorted(counts.items()))


def _entry(entry: Entry, results: Mapping[str, ActionResult], opened: str, shown: Shown) -> str:
    search = _attr(_search_text(entry.heading, entry.actions))
    heading = f"<b>{safe(entry.heading)}</b> "
    if len(entry.actions) == 1:
        action = entry.actions[0]
        text = f'{heading}<span class="sign">{safe(action.sign)}</span>{safe(action.line(shown))}'
        return (f'<div class="row" data-entry data-search="{search}"><ul>'
                f"{_item(action, results.get(action.id), text, sign=entry.sign)}</ul></div>")
    items = "".join(_item(a, results.get(a.id), safe(a.line(shown))) for a in entry.actions)
    return (f'<details data-entry data-search="{search}"{opened}><summary><span class="sign">{safe(entry.sign)}'
            f"</span>{heading}<small>({len(entry.actions)})</small> <span class=\"gist\">{safe(_gist(entry, shown))}</span>"
            f"{_problems(entry.actions, results)}</summary><ul>{items}</ul></details>")


def _title(summary: Summary, key: str, suffix: str = "") -> str:
    """The section's heading from the plan's summary, its numbers in spans the filters update."""
    spans = iter(("count", "acount"))
    text = re.sub(r"\d[\d,]*", lambda m: f'<span class="{next(spans)}">{m.group(0)}</span>',
                  safe(summary.title(key)), count=2)
    return f'<h2 id="s-{key}">{text}{safe(suffix)}</h2>'


def _entries(summary: Summary, key: str, entries: list[Entry], results: Mapping[str, ActionResult],
             shown: Shown) -> str:
    if not entries:
        return ""
    opened = " open" if len(entries) <= COLLAPSE_OVER else ""
    rows = "".join(_entry(e, results, opened, shown) for e in entries)
    return f'<section data-section="{key}">{_title(summary, key)}{rows}</section>'


def _destructive(plan: Plan, actions: list[Action], results: Mapping[str, ActionResult], suffix: str,
                 shown: Shown) -> str:
    """Destructive actions, each on one line; what a leaver hands over under it (nothing: said inline)."""
    if not actions:
        return ""
    rows = []
    nothing = 0
    for action in actions:
        handover = plan.handover_of(action.target)
        after = ""
        if handover is not None and handover.items:
            after = '<ul class="handover">' + "".join(f"<li>hands over {safe(line)}</li>"
                                                      for line in handover.lines()) + "</ul>"
        elif handover is not None:
            after = f'<span class="msg">{safe(handover.NOTHING)}</span>'
            nothing += 1
        rows.append(f'<div data-entry data-search="{_attr(_search_text(action.target, [action]))}"><ul>'
                    f"{_item(action, results.get(action.id), safe(action.describe(shown)), after)}</ul></div>")
    intro = (f'<p class="meta">{safe(Handover.NOTHING.capitalize())} ({nothing:,} of {len(actions):,}): '
             f"{safe(Handover.NOTHING_MEANS)}.</p>") if nothing else ""
    return (f'<section data-section="destructive">{_title(plan.summary, "destructive", suffix)}{intro}'
            f'<div class="danger">{"".join(rows)}</div></section>')


def _fields(plan: Plan, actions: list[Action], results: Mapping[str, ActionResult], shown: Shown) -> str:
    if not actions:
        return ""
    rows = "".join(f'<div data-entry data-search="{_attr(_search_text(a.target, [a]))}"><ul>'
                   f"{_item(a, results.get(a.id), safe(a.describe(shown)))}</ul></div>" for a in actions)
    return f'<section data-section="fields">{_title(plan.summary, "fields")}{rows}</section>'


def _controls(plan: Plan, changes: tuple[str, ...]) -> str:
    kinds = sorted({a.kind_name for a in plan.actions})
    kind_options = "".join(f'<option value="{_attr(k)}">{safe(k.replace("_", " "))}</option>' for k in kinds)
    change_options = "".join(f'<option value="{c}">{c.replace("-", " ")}</option>' for c in changes)
    return ('<div class="controls"><input id="q" type="search" placeholder="Search an email or a group" '
            'aria-label="Search an email or a group">'
            f'<select id="kind" aria-label="Kind"><option value="">every kind</option>{kind_options}</select>'
            f'<select id="change" aria-label="Change"><option value="">every change</option>{change_options}</select>'
            '<button type="button" id="expand">Expand all</button><button type="button" id="collapse">Collapse all'
            '</button><span class="shown" id="shown"></span></div>')


def _cards(counts: list[tuple[str, int, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card {cls}{" zero" if value == 0 else ""}" data-card="{cls}"><b>{value:,}</b>{safe(label)}'
        "</div>" for label, value, cls in counts) + "</div>"


def _contents(plan: Plan) -> str:
    """Links to each section with its counts (buttons: the URL fragment holds the filters)."""
    keys = [k for k in ("destructive", "fields", "users", "groups") if plan.summary.count(k).actions]
    if len(keys) < 2:
        return ""
    links = "".join(f'<button type="button" data-goto="s-{k}">{safe(plan.summary.title(k))}</button>' for k in keys)
    return f'<nav class="contents" aria-label="Sections">{links}</nav>'


NOTES_OPEN_UP_TO = 20  # notes sections with more lines than this start collapsed


def _note_section(title: str, lines: list[str], css: str = "") -> str:
    if not lines:
        return ""
    opened = " open" if len(lines) <= NOTES_OPEN_UP_TO else ""
    items = "".join(f"<li>{safe(line)}</li>" for line in lines)
    return (f'<h2>{safe(title)} ({len(lines)})</h2><details{opened} class="{css}"><summary>'
            f"{len(lines)} line{'' if len(lines) == 1 else 's'}</summary><ul>{items}</ul></details>")


def _notes(plan: Plan) -> list[str]:
    return [
        _note_section("Exceptions held", [h.text() for h in plan.exceptions]),
        _note_section("Upcoming: not provisioned before their start date",
                      [f"{u.email} starts {u.start} (CSV row {u.row})" for u in plan.upcoming]),
        _note_section("Cells read as a person sees them", [c.text() for c in plan.cleaned]),
        _note_section("Warnings", [n.message for n in plan.notices], "warn"),
        _note_section("Protected groups", [f"{p.name}: {', '.join(p.reasons)}" for p in plan.protected_groups]),
    ]


def _page(title: str, body: list[str]) -> str:
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{_csp()}\">"
            f"<title>{safe(title)}</title><style>{STYLE}</style></head>"
            f"<body>{''.join(body)}<script>{SCRIPT}</script></body></html>\n")


def _actions_body(plan: Plan, results: Mapping[str, ActionResult], destructive_suffix: str,
                  shown: Shown) -> list[str]:
    laid = sections(plan)
    return [
        _destructive(plan, laid.destructive, results, destructive_suffix, shown),
        _fields(plan, laid.fields, results, shown),
        _entries(plan.summary, "users", laid.users, results, shown),
        _entries(plan.summary, "groups", laid.groups, results, shown),
    ]


def _meta(plan: Plan, lead: str) -> str:
    facts = "".join(f"; <b>{safe(f)}</b>" for f in plan.header_facts)
    return (f'<p class="meta">{lead}Made {safe(plan.created_at)} from {safe(plan.made_from)}; checksum '
            f"{safe(plan.short_checksum)}{facts}</p>")


def render_html(plan: Plan, shown: Shown | None = None, *, warning: str = "") -> str:
    """The plan as a page: cards, sections, the filter bar, destructive actions, fields, users, groups,
    notes; sensitive values as ``shown`` says (hidden by default). ``warning`` heads the page."""
    s = plan.summary
    body = [
        *([f'<p class="destructive" role="alert"><b>WARNING: {safe(warning)}</b></p>'] if warning else []),
        f"<h1>{safe(plan.title)}: workspace {safe(plan.workspace_id)}</h1>",
        _meta(plan, ""),
        _cards([("to add", s.add, "add"), ("to change", s.change, "change"), ("to remove", s.remove, "remove"),
                ("destructive", s.destructive, "destructive")]),
        _contents(plan),
        _controls(plan, CHANGES),
    ]
    if not plan.actions:
        body.append("<p>No changes: the workspace matches the CSV.</p>")
    body += _actions_body(plan, {}, ": apply asks for confirmation", shown or plan.shown())
    body += _notes(plan)
    return _page(f"{plan.title} {plan.workspace_id}", body)


def _run_state(report: ApplyReport) -> str:
    if report.interrupted:
        return (f"<b>INTERRUPTED ({safe(report.interrupted)})</b>: not everything was applied; run the same plan "
                "again to finish (each action is checked against the workspace again)")
    return "<b>every action applied or already in place</b>" if report.ok else "<b>NOT everything is in place</b>"


def render_apply_html(plan: Plan, report: ApplyReport) -> str:
    """An apply run as a page: each action with its outcome and message, and what verification found."""
    results = {r.action.id: r for r in report.results}
    seen = Counter(r.outcome.value for r in report.results)
    counts = [(label, seen.get(label, 0), slug) for label, slug in OUTCOMES.items()
              if seen.get(label) or label not in (Outcome.IN_FLIGHT, Outcome.NOT_RUN)]
    resumed = ""
    if report.resumed_from:
        resumed = (f'<p class="meta">Resumed an interrupted apply (run {safe(report.resumed_from)}, which had '
                   f"finished {report.resumed} action(s)); each action was checked against the workspace again.</p>")
    body = [
        f"<h1>clocksync apply: workspace {safe(plan.workspace_id)}</h1>",
        f'<p class="meta">Run {safe(report.run_id)} of plan {safe(plan.short_checksum)}: '
        f"{_run_state(report)}; {report.writes} write(s), {report.requests} request(s); "
        f"{report.verified} object(s) verified whole</p>",
        resumed,
        _meta(plan, "The plan: "),
        _cards(counts),
        _contents(plan),
        _controls(plan, CHANGES + tuple(slug for label, _, slug in counts)),
    ]
    if report.verification:
        rows = "".join(
            f'<div data-entry data-search="{_attr(p.description)}"><ul><li class="change failed" data-kind="verify" '
            f'data-outcome="failed"><span class="sign">!</span>{safe(p.message)}</li></ul></div>'
            for p in report.verification)
        body.append(f'<section data-section="verification"><h2>Verification problems (<span class="count">'
                    f'{len(report.verification)}</span>)</h2><div class="danger">{rows}</div></section>')
    body += _actions_body(plan, results, "", plan.shown())
    return _page(f"clocksync apply {report.run_id}", body)


__all__ = ["COLLAPSE_OVER", "render_apply_html", "render_html"]
