"""Domain types: the workspace as clocksync sees it, and the desired state from the CSV.

Identity is kept apart from value: users match by ``key`` (the trimmed, lower-cased email),
groups by ``group_key`` (trimmed, case-folded name). All types are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

TEAM_MANAGER = "TEAM_MANAGER"
PROJECT_MANAGER = "PROJECT_MANAGER"


def email_key(email: str) -> str:
    return email.strip().lower()


def group_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def value_text(value: Any) -> str | None:
    """A custom field value as the text clocksync compares: None and "" mean unset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


# ---------------------------------------------------------------------- desired (the CSV)


@dataclass(frozen=True, slots=True)
class UserSpec:
    """One CSV row: who a user should be. ``fields`` maps custom field name -> value."""

    key: str
    email: str
    row: int
    manager_key: str | None = None
    capacity_seconds: int | None = None
    fields: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))
    country: str | None = None


@dataclass(frozen=True)
class DesiredState:
    users: MappingProxyType[str, UserSpec]
    source: str
    sha256: str

    @property
    def countries(self) -> frozenset[str]:
        return frozenset(group_key(u.country) for u in self.users.values() if u.country)

    @property
    def manager_keys(self) -> frozenset[str]:
        return frozenset(u.manager_key for u in self.users.values() if u.manager_key)


# ---------------------------------------------------------------------- current (the workspace)


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    email: str
    name: str
    status: str  # membership status in this workspace: ACTIVE, PENDING, INACTIVE, DECLINED

    @property
    def key(self) -> str:
        return email_key(self.email)

    @property
    def display_name(self) -> str:
        return self.name.strip() or self.email.strip()

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


@dataclass(frozen=True, slots=True, order=True)
class RoleGrant:
    """``holder_id`` holds ``role`` over ``entity_id`` (a user, or a group when ``via_group``)."""

    holder_id: str
    role: str
    entity_id: str
    via_group: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    member_ids: frozenset[str] = frozenset()

    @property
    def key(self) -> str:
        return group_key(self.name)


@dataclass(frozen=True, slots=True)
class CustomField:
    id: str
    name: str
    type: str = "TXT"
    status: str = "VISIBLE"


@dataclass(frozen=True, slots=True)
class Profile:
    """What a member profile holds that clocksync manages."""

    capacity_seconds: int | None
    capacity_text: str | None
    values: MappingProxyType[str, str | None]  # custom field id -> comparable text


@dataclass(frozen=True)
class CurrentState:
    """The workspace as read. ``protected`` maps a group id to why it is protected."""

    workspace_id: str
    self_id: str
    owner_ids: frozenset[str]
    members: MappingProxyType[str, Member]
    roles: frozenset[RoleGrant]
    groups: MappingProxyType[str, Group]
    fields: MappingProxyType[str, CustomField]
    profiles: MappingProxyType[str, Profile]
    protected: MappingProxyType[str, tuple[str, ...]]
    warnings: tuple[str, ...] = ()

    def member_by_key(self) -> dict[str, Member]:
        """Members by email key; the first by id wins when a workspace holds an email twice."""
        index: dict[str, Member] = {}
        for member in sorted(self.members.values(), key=lambda m: m.id):
            index.setdefault(member.key, member)
        return index

    def field_by_name(self) -> dict[str, CustomField]:
        index: dict[str, CustomField] = {}
        for f in sorted(self.fields.values(), key=lambda f: f.id):
            index.setdefault(group_key(f.name), f)
        return index


def frozen_map(data: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(dict(data))
