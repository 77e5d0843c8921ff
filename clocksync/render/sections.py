"""How a plan is laid out for people (``clocksync.plan.summary``), for the renderers."""

from __future__ import annotations

from clocksync.plan.file import Plan
from clocksync.plan.summary import SECTIONS, Entry, Layout, lay_out


def sections(plan: Plan) -> Layout:
    """The plan's actions grouped as every format shows them: destructive, fields, users, groups."""
    return lay_out(plan.actions)


__all__ = ["SECTIONS", "Entry", "Layout", "sections"]
