"""Plans for people and programs: text (terminal), markdown (PR comment), HTML (browser), JSON."""

from __future__ import annotations

import json

from clocksync.plan.file import Plan
from clocksync.render.html import render_apply_html, render_html
from clocksync.render.markdown import render_markdown
from clocksync.render.text import Style, plain, render_text
from clocksync.sanitize import json_safe, markdown


def render_json(plan: Plan) -> str:
    """The plan's JSON; control, bidi and invisible characters in its strings as ``\\uXXXX`` escapes."""
    return json_safe(json.dumps(plan.model_dump(mode="json"), indent=2, ensure_ascii=False)) + "\n"


def render(plan: Plan, fmt: str, style: Style = plain, *, reveal: bool = False, warning: str = "") -> str:
    """``fmt``: text, markdown, json or html. Text, markdown and HTML say that a sensitive value
    (a rate, a field in ``sensitive_fields``) changes, not the values, unless ``reveal``; JSON is
    the plan file, which keeps them. ``warning`` (one line: the seal does not verify) heads the
    text, markdown and HTML renderings, where a reviewer reads them; JSON is the plan as it is."""
    shown = plan.shown(reveal)
    if fmt == "html":
        return render_html(plan, shown, warning=warning)
    if fmt == "markdown":
        head = f"> **WARNING: {markdown(warning)}**\n\n" if warning else ""
        return head + render_markdown(plan, shown)
    if fmt == "json":
        return render_json(plan)
    head = style(f"WARNING: {warning}", "remove") + "\n\n" if warning else ""
    return head + render_text(plan, style, shown=shown)


__all__ = ["Style", "plain", "render", "render_apply_html", "render_html", "render_json", "render_markdown",
           "render_text"]
