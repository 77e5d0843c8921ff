"""How a plan is laid out for people, and its counts: computed once, read by every format.

Each action says where it belongs (``section``, ``heading``) and how it reads there (``line``,
``sign``); ``lay_out`` only groups: destructive actions first, then custom fields, users and
groups, each user or group one ``Entry`` with its actions under it. ``summarize`` counts that
layout (by add/change/remove, destructive, per kind, per section) into the plan's ``Summary``,
which is sealed into the plan file, so text, markdown, HTML and JSON all show the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from clocksync.kinds import Action
from clocksync.kinds.base import Section, Sign
from clocksync.plan.types import SectionCount, Summary

SECTIONS = ("destructive", "fields", "users", "groups")  # the order every format shows them in


@dataclass
class Entry:
    """A user or a group and the actions listed under it."""

    heading: str
    actions: list[Action] = field(default_factory=list)

    @property
    def sign(self) -> Sign:
        """``+`` when an action creates the entry itself (a new group, an invitation), else ``~``.

        An entry in these sections is never removed (deactivations and group deletions are
        destructive actions, listed apart), so a group that only loses a member reads as changed.
        """
        return Sign.ADD if any(a.creates_entry for a in self.actions) else Sign.CHANGE

    @property
    def items(self) -> list[Action]:
        """The actions shown under the heading: a create is shown by the heading's sign, unless it
        is all there is (an invitation)."""
        rest = [a for a in self.actions if not a.creates_entry]
        return rest or list(self.actions)


@dataclass
class Layout:
    destructive: list[Action]
    fields: list[Action]
    users: list[Entry]
    groups: list[Entry]


def lay_out(actions: Sequence[Action]) -> Layout:
    fields: list[Action] = []
    users: dict[str, Entry] = {}
    groups: dict[str, Entry] = {}
    destructive: list[Action] = []
    index = {Section.USERS: users, Section.GROUPS: groups}
    for action in actions:
        if action.destructive:
            destructive.append(action)
        elif action.section is Section.FIELDS:
            fields.append(action)
        else:
            entries = index[action.section]
            entries.setdefault(action.heading, Entry(action.heading)).actions.append(action)
    return Layout(destructive, fields, sorted(users.values(), key=lambda e: e.heading.casefold()),
                  sorted(groups.values(), key=lambda e: e.heading.casefold()))


def _count(actions: Sequence[Action], entries: int) -> SectionCount:
    signs = [a.sign for a in actions]
    return SectionCount(entries=entries, actions=len(actions), add=signs.count(Sign.ADD),
                        change=signs.count(Sign.CHANGE), remove=signs.count(Sign.REMOVE))


def summarize(actions: Sequence[Action]) -> Summary:
    """The counts of a plan's actions: totals by sign, destructive, by kind, and per section."""
    by_kind: dict[str, int] = {}
    for action in actions:
        by_kind[action.kind_name] = by_kind.get(action.kind_name, 0) + 1
    laid = lay_out(actions)
    sections = {
        "destructive": _count(laid.destructive, len(laid.destructive)),
        "fields": _count(laid.fields, len(laid.fields)),
        "users": _count([a for e in laid.users for a in e.actions], len(laid.users)),
        "groups": _count([a for e in laid.groups for a in e.actions], len(laid.groups)),
    }
    signs = [a.sign for a in actions]
    return Summary(add=signs.count(Sign.ADD), change=signs.count(Sign.CHANGE), remove=signs.count(Sign.REMOVE),
                   destructive=sum(1 for a in actions if a.destructive), by_kind=dict(sorted(by_kind.items())),
                   sections=sections)


__all__ = ["SECTIONS", "Entry", "Layout", "lay_out", "summarize"]
