"""The HTML reports (plan and apply) in a real headless Chromium, at the demo's size and at 10,000
users; screenshots are kept in test-artifacts/. And the markdown comment's size limit."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from benchmarks.workload import offline_plan
from clocksync.apply.report import ActionResult, ApplyReport, Outcome
from clocksync.plan.file import Plan, load_plan
from clocksync.render import render_apply_html, render_html, render_markdown
from clocksync.render.assets import SCRIPT
from clocksync.render.markdown import GITHUB_COMMENT_LIMIT
from clocksync.render.sections import sections
from tests.browser import Browser

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plans" / "sample-plan.json"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")


@cache
def big_plan(n: int = 10_000) -> Plan:
    """A plan of an n-user workspace with realistic drift (the benchmark workload), made without HTTP."""
    return offline_plan(n)


def fake_apply(plan: Plan) -> ApplyReport:
    """An apply report with every outcome represented (for rendering; nothing is applied)."""
    cycle = [Outcome.APPLIED] * 6 + [Outcome.IN_PLACE, Outcome.STALE, Outcome.FAILED, Outcome.SKIPPED]
    results = [ActionResult(a, cycle[i % len(cycle)], "changed since the plan: x" if i % 10 == 7 else "")
               for i, a in enumerate(plan.actions)]
    return ApplyReport(results, run_id="20261127T120000Z", requests=len(results) + 20, writes=len(results))


def browse(page: Path, tmp: Path, fragment: str = "", shot: str | None = None) -> str:
    """The DOM after the page's script ran (optionally with a URL fragment), and a screenshot."""
    url = page.as_uri() + (f"#{fragment}" if fragment else "")
    profile = ["--user-data-dir=" + str(tmp / "profile")]
    dom = subprocess.run([CHROMIUM, *FLAGS, *profile, "--dump-dom", url], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    if shot:
        ARTIFACTS.mkdir(exist_ok=True)
        target = ARTIFACTS / shot
        target.unlink(missing_ok=True)
        subprocess.run([CHROMIUM, *FLAGS, *profile, "--window-size=1200,1600", f"--screenshot={target}", url],
                       capture_output=True, timeout=120, check=True)
        data = target.read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 20_000, "a real screenshot, not a blank page"
    return dom


def shown(dom: str) -> int:
    found = re.search(r'<body[^>]*data-shown="(\d+)"', dom)
    assert found, "the page's script ran"
    return int(found.group(1))


def test_html_escapes_and_runs_only_its_own_script() -> None:
    plan = load_plan(SAMPLE)
    page = render_html(plan)
    assert page.startswith("<!doctype html>") and page.count("<script") == 1
    digest = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page and "default-src 'none'" in page
    assert 'Users (<span class="count">12</span> users, <span class="acount">24</span> actions)' in page
    assert "Destructive actions" in page
    hostile = plan.model_copy(update={"workspace_id": "<img src=x onerror=alert(1)>"})
    assert "<img" not in render_html(hostile)


def test_small_sections_open_large_ones_collapsed() -> None:
    assert "<details data-entry" in render_html(load_plan(SAMPLE)) and " open>" in render_html(load_plan(SAMPLE))
    big = render_html(big_plan())
    users = big[big.index('data-section="users"'):big.index('data-section="groups"')]
    assert users.count("<details data-entry") > 50 and " open>" not in users


@needs_chromium
def test_plan_report_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(load_plan(SAMPLE)), encoding="utf-8")
    dom = browse(page, tmp_path, shot="plan-report.png")
    assert "pat.leaver@example.com" in dom and shown(dom) == len(load_plan(SAMPLE).actions)
    narrowed = browse(page, tmp_path, "change=remove")
    removes = sum(1 for a in load_plan(SAMPLE).actions if a.sign == "-")
    assert shown(narrowed) == removes
    assert re.search(r'data-card="remove"><b>' + str(removes), narrowed)
    assert re.search(r'data-card="add"><b>0<', narrowed), "the counts follow the filter"


@needs_chromium
def test_10k_user_plan_report_loads_and_its_search_finds_a_user(tmp_path: Path) -> None:
    plan = big_plan()
    page = tmp_path / "big.html"
    page.write_text(render_html(plan), encoding="utf-8")
    dom = browse(page, tmp_path)
    assert shown(dom) == len(plan.actions) > 3000
    target = next(a for a in plan.actions if a.kind_name == "update_profile").target
    found = browse(page, tmp_path, f"q={target}", shot="plan-report-10k-search.png")
    assert 0 < shown(found) < 10, "the search narrows 10,000 users down to one"
    tags = re.findall(r"<(?:details|div) [^>]*data-entry[^>]*>", found)
    visible = [t for t in tags if "hidden" not in t]
    assert len(tags) > 1000 and 0 < len(visible) < 10, "a handful of the entries stay visible"
    assert any(target in t and ("<div" in t or 'open=""' in t) for t in visible), "the user's entry is found and shown"


@needs_chromium
def test_10k_user_apply_report_filters_by_outcome(tmp_path: Path) -> None:
    plan = big_plan()
    report = fake_apply(plan)
    page = tmp_path / "apply.html"
    page.write_text(render_apply_html(plan, report), encoding="utf-8")
    failed = sum(1 for r in report.results if r.outcome is Outcome.FAILED)
    dom = browse(page, tmp_path, "change=failed", shot="apply-report-10k-failed.png")
    assert shown(dom) == failed > 0
    assert re.search(r'data-card="failed"><b>' + str(failed), dom)
    stale = browse(page, tmp_path, "change=stale&kind=update_profile")
    assert shown(stale) == sum(1 for r in report.results
                               if r.outcome is Outcome.STALE and r.action.kind_name == "update_profile")


def test_markdown_collapses_long_sections() -> None:
    text = render_markdown(load_plan(SAMPLE), collapse_over=5)
    assert "<details><summary>Users (12 users, 24 actions)</summary>" in text


def test_markdown_of_a_large_plan_fits_a_github_comment_and_points_at_the_artefact() -> None:
    plan = big_plan()
    text = render_markdown(plan)
    assert len(text) <= GITHUB_COMMENT_LIMIT
    assert "too large for one comment" in text and "clocksync show" in text
    assert f"{plan.summary.add}" in text, "the summary is there"
    small = render_markdown(load_plan(SAMPLE))
    assert "too large" not in small


# ---------------------------------------------------------------------- a review at 10,000 users


def sections_in_order(dom: str) -> list[str]:
    return re.findall(r'<section data-section="(\w+)"', dom)


@needs_chromium
def test_10k_plan_report_reads_without_a_click_per_row(tmp_path: Path) -> None:
    """Destructive actions first; a leaver who hands over nothing is one line; a user or group with one
    action is one row, one with more a collapsed entry whose line gives the gist of its actions."""
    plan = big_plan()
    page = tmp_path / "big.html"
    page.write_text(render_html(plan), encoding="utf-8")
    dom = browse(page, tmp_path, shot="plan-report-10k.png")
    assert sections_in_order(dom)[0] == "destructive"
    leavers = [h for h in plan.handovers if not h.items]
    assert len(leavers) > 12 and "nothing to hand over" not in dom
    destructive = dom[dom.index('data-section="destructive"'):dom.index('data-section="users"')]
    assert destructive.count("hands over nothing") == len(leavers) and 'class="handover"' not in destructive
    entries = re.findall(r"<details data-entry[^>]*>(.*?)</summary>", dom)
    rows = re.findall(r'<div class="row" data-entry', dom)
    multi = sum(1 for e in sections(plan).users + sections(plan).groups if len(e.actions) > 1)
    assert len(entries) == multi > 300 and len(rows) > 1000
    for summary in entries:
        gist = re.search(r'<span class="gist">([^<]+)</span>', summary)
        assert gist and len(gist.group(1)) > 10, summary


@needs_chromium
def test_expand_all_and_collapse_all_are_buttons_that_work(tmp_path: Path) -> None:
    plan = big_plan()
    page = tmp_path / "big.html"
    page.write_text(render_html(plan), encoding="utf-8")
    opened = "document.querySelectorAll('details[data-entry][open]').length"
    with Browser(tmp_path / "cdp") as browser:
        browser.open(page)
        total = browser.evaluate("document.querySelectorAll('details[data-entry]').length")
        assert total > 300 and browser.evaluate(opened) == 0, "past 50 entries a section starts collapsed"
        browser.click("#expand")
        assert browser.evaluate(opened) == total
        browser.screenshot(ARTIFACTS / "plan-report-10k-expanded.png")
        browser.click("#collapse")
        assert browser.evaluate(opened) == 0
        browser.click('[data-card="remove"]')  # a card filters the page to what it counts
        assert int(browser.evaluate("document.body.dataset.shown")) == plan.summary.remove
        assert "zero" in browser.evaluate("document.querySelector('[data-card=add]').className")
        (tmp_path / "small.html").write_text(render_html(load_plan(SAMPLE)), encoding="utf-8")
        browser.open(tmp_path / "small.html")
        small = browser.evaluate("document.querySelectorAll('details[data-entry]').length")
        assert browser.evaluate(opened) == small > 0, "a small plan starts open"
        browser.click("#collapse")
        assert browser.evaluate(opened) == 0


@needs_chromium
def test_apply_report_says_it_resumed_and_greys_the_outcomes_at_zero(tmp_path: Path) -> None:
    plan = load_plan(SAMPLE)
    results = [ActionResult(a, Outcome.APPLIED if i % 3 else Outcome.IN_PLACE) for i, a in enumerate(plan.actions)]
    report = ApplyReport(results, run_id="20261127T130000Z", resumed_from="20261127T120000Z", resumed=7,
                         requests=60, writes=20)
    page = tmp_path / "apply.html"
    page.write_text(render_apply_html(plan, report), encoding="utf-8")
    color = "getComputedStyle(document.querySelector('[data-card={}] b')).color"
    with Browser(tmp_path / "cdp") as browser:
        browser.open(page)
        text = browser.evaluate("document.body.innerText")
        assert "Resumed an interrupted apply (run 20261127T120000Z, which had finished 7 action(s))" in text
        assert "apply asks for confirmation" not in text and "Destructive actions (2)" in text
        assert "every action applied or already in place" in text
        red = "rgb(179, 38, 30)"
        for zero in ("stale", "failed", "skipped"):
            assert browser.evaluate(color.format(zero)) != red, f"{zero} at 0 is not red"
        assert browser.evaluate(color.format("applied")) == "rgb(19, 115, 51)"
        browser.screenshot(ARTIFACTS / "apply-report-resumed.png")
    failing = ApplyReport([ActionResult(plan.actions[0], Outcome.FAILED, "refused")] + results[1:], run_id="x")
    page.write_text(render_apply_html(plan, failing), encoding="utf-8")
    with Browser(tmp_path / "cdp") as browser:
        browser.open(page)
        assert browser.evaluate(color.format("failed")) == "rgb(179, 38, 30)", "a failure is red"


def test_a_summarised_markdown_plan_keeps_its_cleaned_cells() -> None:
    """3,000 email cells ending in a no-break space and nothing to change: the comment is too large,
    and its summary says why, counts the cleaned cells and shows the first ones (before: an empty
    kind table and no word about them)."""
    from clocksync.model import CleanedCell
    from clocksync.plan.summary import summarize

    plan = load_plan(SAMPLE).model_copy(update={"actions": (), "summary": summarize(()), "cleaned": tuple(
        CleanedCell(row, "NTID email", f"'user{row}@example.com\\xa0'", f"'user{row}@example.com'",
                    ("removed U+00A0 NO-BREAK SPACE",)) for row in range(2, 3002))})
    text = render_markdown(plan)
    assert len(text) <= GITHUB_COMMENT_LIMIT and "too large for one comment" in text
    assert "3,000 cells read as a person sees them" in text
    assert "#### Cells read as a person sees them (3,000)" in text
    assert "row 2, column 'NTID email'" in text and "... and 2,990 more in the artefact" in text
    assert "| kind | actions |" not in text, "no empty table"
