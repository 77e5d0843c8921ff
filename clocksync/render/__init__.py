"""Plans for people and programs: text (terminal), markdown (PR comment), HTML (browser), JSON."""

from __future__ import annotations

import json

from clocksync.plan.file import Plan
from clocksync.render.html import render_apply_html, render_html
from clocksync.render.markdown import render_markdown
from clocksync.render.text import Style, plain, render_text
from clocksync.sanitize import json_safe


def render_json(plan: Plan) -> str:
    """The plan's JSON; control, bidi and invisible characters in its strings as ``\\uXXXX`` escapes."""
    return json_safe(json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False)) + "\n"


def render(plan: Plan, fmt: str, style: Style = plain) -> str:
    """``fmt``: text, markdown, json or html."""
    if fmt == "html":
        return render_html(plan)
    if fmt == "markdown":
        return render_markdown(plan)
    if fmt == "json":
        return render_json(plan)
    return render_text(plan, style)


__all__ = ["Style", "plain", "render", "render_apply_html", "render_html", "render_json", "render_markdown",
           "render_text"]
