"""The plan's own value types. The differ emits them and the plan file stores them: one family."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PlanOptions(Frozen):
    """How a plan was asked for (``clocksync plan`` flags)."""

    deactivate_missing: bool = False
    delete_unmanaged_groups: bool = False
    allow_mass_deactivation: bool = False
    allow_mass_group_deletion: bool = False
    allow_mass_removal: bool = False
    allow_mass_field_change: bool = False
    as_of: str = ""  # the day the plan is for (ISO date): effective dates and exception expiry
    only: tuple[str, ...] = ()  # scope: emails or globs of the users whose actions are kept
    exclude: tuple[str, ...] = ()  # scope: emails or globs of the users whose actions are left out

    @property
    def scoped(self) -> bool:
        return bool(self.only or self.exclude)

    def scope_text(self) -> str:
        parts = [f"only {', '.join(self.only)}"] if self.only else []
        parts += [f"excluding {', '.join(self.exclude)}"] if self.exclude else []
        return "; ".join(parts)


class Notice(Frozen):
    """A warning for the reviewer: ``code`` is stable (for scripts), ``message`` is for people."""

    code: str
    message: str


class HeldException(Frozen):
    """A per-user exception (config ``exceptions``) that held for this plan."""

    email: str
    ignore: tuple[str, ...]
    reason: str
    until: str | None = None

    def text(self) -> str:
        until = f" (until {self.until})" if self.until else ""
        return f"{self.email}: {', '.join(self.ignore)} left alone{until}: {self.reason}"


class Upcoming(Frozen):
    """A CSV row whose start date is after the plan's day: not provisioned yet."""

    email: str
    start: str
    row: int


class HandoverItem(Frozen):
    what: str  # "report", "group" or "project"
    name: str  # an email, a group name or a project id
    to: str  # who takes it over, or what happens to it


class Handover(Frozen):
    """What a leaver manages and who inherits each."""

    email: str
    items: tuple[HandoverItem, ...] = ()

    NOTHING: ClassVar[str] = "hands over nothing"  # what every format says of a leaver who manages nothing
    NOTHING_MEANS: ClassVar[str] = "manages no one, no group and no project"

    def lines(self) -> list[str]:
        """One line per item handed over; none when the leaver manages nothing (``NOTHING``)."""
        return [f"{item.what} {item.name} -> {item.to}" for item in self.items]


class ProtectedGroup(Frozen):
    id: str
    name: str
    reasons: tuple[str, ...]


class WorkspaceFigures(Frozen):
    """Sizes the safety thresholds are measured against."""

    active_members: int = 0
    total_groups: int = 0
    managed_members: int = 0
    csv_rows: int = 0
    limited_members: int = 0  # limited members (no email): counted, never managed


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


class SectionCount(Frozen):
    """One section of the plan as every format shows it."""

    entries: int = 0  # users or groups listed (destructive actions and custom fields: one per action)
    actions: int = 0
    add: int = 0
    change: int = 0
    remove: int = 0


SECTION_TITLES = {"destructive": "Destructive actions", "fields": "Custom fields", "users": "Users",
                  "groups": "Groups"}
_ENTRY_WORDS = {"users": "user", "groups": "group"}


class Summary(Frozen):
    """A plan's counts (``plan.summary.summarize``), sealed into the plan: every format reads these."""

    add: int = 0
    change: int = 0
    remove: int = 0
    destructive: int = 0
    by_kind: dict[str, int] = Field(default_factory=dict)
    sections: dict[str, SectionCount] = Field(default_factory=dict)  # destructive, fields, users, groups

    def count(self, section: str) -> SectionCount:
        return self.sections.get(section, SectionCount())

    def title(self, section: str) -> str:
        """A section's heading with its counts, e.g. "Users (370 users, 457 actions)"."""
        count = self.count(section)
        word = _ENTRY_WORDS.get(section)
        inside = f"{plural(count.entries, word)}, {plural(count.actions, 'action')}" if word else f"{count.actions:,}"
        return f"{SECTION_TITLES[section]} ({inside})"

    @property
    def total(self) -> int:
        return self.add + self.change + self.remove

    def line(self) -> str:
        return (f"Plan: {self.add} to add, {self.change} to change, {self.remove} to remove"
                f" ({self.destructive} destructive).")
