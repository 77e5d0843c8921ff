"""How a plan is laid out for people: custom fields, users, groups, destructive actions.

Each action says where it belongs (``section``, ``heading``) and how it reads there (``line``,
``sign``); this module only groups. Shared by every format.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from clocksync.kinds import Action
from clocksync.kinds.base import Section, Sign
from clocksync.plan.file import Plan


@dataclass
class Entry:
    """A user or a group and the actions listed under it."""

    heading: str
    actions: list[Action] = field(default_factory=list)

    @property
    def sign(self) -> Sign:
        if any(a.creates_entry for a in self.actions):
            return Sign.ADD
        signs = {a.sign for a in self.actions}
        return signs.pop() if len(signs) == 1 else Sign.CHANGE

    @property
    def items(self) -> list[Action]:
        """The actions shown under the heading (a create is shown by the heading's sign)."""
        return [a for a in self.actions if not a.creates_entry]


@dataclass
class Sections:
    fields: list[Action]
    users: list[Entry]
    groups: list[Entry]
    destructive: list[Action]


def sections(plan: Plan) -> Sections:
    fields: list[Action] = []
    users: dict[str, Entry] = {}
    groups: dict[str, Entry] = {}
    destructive: list[Action] = []
    index = {Section.USERS: users, Section.GROUPS: groups}
    for action in plan.actions:
        if action.destructive:
            destructive.append(action)
        elif action.section is Section.FIELDS:
            fields.append(action)
        else:
            entries = index[action.section]
            entries.setdefault(action.heading, Entry(action.heading)).actions.append(action)
    return Sections(fields, sorted(users.values(), key=lambda e: e.heading.casefold()),
                    sorted(groups.values(), key=lambda e: e.heading.casefold()), destructive)
