"""The HTML plan report, opened in a real headless Chromium; a screenshot is kept in test-artifacts/."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from clocksync.plan.file import load_plan
from clocksync.render import render_html, render_markdown

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "plans" / "sample-plan.json"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_html_escapes_and_has_sections() -> None:
    plan = load_plan(SAMPLE)
    page = render_html(plan)
    assert page.startswith("<!doctype html>") and "<script" not in page
    assert "Users (11)" in page and "Groups (" in page and "Destructive actions" in page
    hostile = plan.model_copy(update={"workspace_id": "<img src=x onerror=alert(1)>"})
    assert "<img" not in render_html(hostile)


def test_markdown_collapses_long_sections() -> None:
    text = render_markdown(load_plan(SAMPLE), collapse_over=5)
    assert "<details><summary>Users (22)</summary>" in text


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_html(load_plan(SAMPLE)), encoding="utf-8")
    profile = ["--user-data-dir=" + str(tmp_path / "profile")]
    dom = subprocess.run([CHROMIUM, *FLAGS, *profile, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=90, check=True).stdout
    assert "pat.leaver@example.com" in dom and "Users (11)" in dom, "the browser parsed the page"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "plan-report.png"
    shot.unlink(missing_ok=True)
    subprocess.run([CHROMIUM, *FLAGS, *profile, "--window-size=1100,1600", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=90, check=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 20_000, "a real screenshot, not a blank page"
