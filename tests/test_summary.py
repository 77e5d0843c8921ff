"""One summary of a plan, computed once: every format shows the same counts (per section, by sign,
destructive), and they are the counts of the plan's actions, counted here independently."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from benchmarks.workload import offline_plan
from clocksync.plan.file import Plan, load_plan
from clocksync.render import render
from clocksync.render.markdown import render_markdown

ROOT = Path(__file__).resolve().parent.parent
SECTION = re.compile(r"(Destructive actions|Custom fields|Users|Groups) \((\d[\d,]*)(?: \w+, (\d[\d,]*) actions?)?\)")
TITLES = {"destructive": "Destructive actions", "fields": "Custom fields", "users": "Users", "groups": "Groups"}


def expected(plan: Plan) -> dict[str, tuple[int, int]]:
    """Section -> (entries listed, actions), from the actions themselves."""
    found: dict[str, tuple[int, int]] = {}
    destructive = [a for a in plan.actions if a.destructive]
    fields = [a for a in plan.actions if not a.destructive and a.section == "fields"]
    if destructive:
        found["Destructive actions"] = (len(destructive), len(destructive))
    if fields:
        found["Custom fields"] = (len(fields), len(fields))
    for key in ("users", "groups"):
        mine = [a for a in plan.actions if not a.destructive and a.section == key]
        if mine:
            found[TITLES[key]] = (len({a.heading for a in mine}), len(mine))
    return found


def shown(text: str) -> dict[str, tuple[int, int]]:
    """Every section heading in ``text`` (tags stripped) -> (entries, actions); one count means both."""
    counts: dict[str, tuple[int, int]] = {}
    for title, first, second in SECTION.findall(unescape(re.sub(r"<[^>]+>", "", text))):
        value = (int(first.replace(",", "")), int((second or first).replace(",", "")))
        assert counts.setdefault(title, value) == value, f"{title} shown with two counts: {counts[title]}, {value}"
    return counts


def totals(plan: Plan) -> tuple[int, int, int, int]:
    return (sum(a.sign == "+" for a in plan.actions), sum(a.sign == "~" for a in plan.actions),
            sum(a.sign == "-" for a in plan.actions), sum(a.destructive for a in plan.actions))


@pytest.fixture(scope="module", params=["sample", "1000"])
def plan(request: pytest.FixtureRequest) -> Plan:
    """The demo's plan (a leaver who hands over two reports and a project, a group deletion) and a
    1,000-user one."""
    return load_plan(ROOT / "plans" / "sample-plan.json") if request.param == "sample" else offline_plan(1000)


def test_every_format_shows_the_same_section_counts_and_totals(plan: Plan) -> None:
    want = expected(plan)
    assert "Destructive actions" in want and "Users" in want and "Groups" in want
    text = render(plan, "text")
    assert shown(text) == want
    assert f"Plan: {totals(plan)[0]} to add, {totals(plan)[1]} to change, {totals(plan)[2]} to remove " \
           f"({totals(plan)[3]} destructive)." in text
    for collapse_over in (0, 20, 10**6):  # every section collapsed, some, none: the heading carries the count
        markdown = render_markdown(plan, collapse_over=collapse_over)
        assert shown(markdown) == want, collapse_over
    add, change, remove, destructive = totals(plan)
    assert f"**{add}** to add, **{change}** to change, **{remove}** to remove, **{destructive}** destructive" in markdown
    summarised = render_markdown(plan, limit=3000)
    assert "too large for one comment" in summarised and shown(summarised) == want
    html = render(plan, "html")
    assert shown(html) == want
    for value, card in zip(totals(plan), ("add", "change", "remove", "destructive"), strict=True):
        assert re.search(rf'data-card="{card}"><b>{value:,}</b>', html), card
    data = json.loads(render(plan, "json"))["summary"]
    assert (data["add"], data["change"], data["remove"], data["destructive"]) == totals(plan)
    assert {TITLES[k]: (v["entries"], v["actions"]) for k, v in data["sections"].items() if v["actions"]} == want


def test_handover_lines_are_not_counted_as_destructive_actions() -> None:
    plan = load_plan(ROOT / "plans" / "sample-plan.json")
    leaver = plan.handover_of("pat.leaver@example.com")
    assert leaver is not None and len(leaver.items) == 3
    markdown = render_markdown(plan, collapse_over=0)
    assert "Destructive actions (2)" in markdown and "hands over report john.doe@example.com" in markdown
