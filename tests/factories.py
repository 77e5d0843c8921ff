"""Literal models for pure tests of the differ and the plan (no HTTP)."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from types import MappingProxyType
from typing import Any

from clocksync.config import Config
from clocksync.model import (
    CurrentState,
    CustomField,
    DesiredState,
    Group,
    Member,
    Profile,
    RoleGrant,
    UserSpec,
)


def uid(email: str) -> str:
    return "u-" + email.split("@")[0]


def member(email: str, name: str = "", status: str = "ACTIVE") -> Member:
    return Member.read(uid(email), email, name, status)


def spec(email: str, manager: str | None = None, hours_seconds: int | None = None, row: int = 2,
         country: str | None = None, **fields: str) -> UserSpec:
    return UserSpec(key=email.lower(), email=email, row=row, manager_key=manager.lower() if manager else None,
                    capacity_seconds=hours_seconds, fields=MappingProxyType(dict(fields)), country=country)


def desired(*specs: UserSpec) -> DesiredState:
    rows = {s.key: s for s in specs}
    return DesiredState(MappingProxyType(rows), "users.csv", "0" * 64)


def current(
    members: list[Member],
    *,
    groups: list[Group] = (),  # type: ignore[assignment]
    roles: set[RoleGrant] = frozenset(),  # type: ignore[assignment]
    fields: list[CustomField] = (),  # type: ignore[assignment]
    profiles: dict[str, Profile] | None = None,
    protected: dict[str, tuple[str, ...]] | None = None,
    owner: str = "owner@example.com",
    self_email: str = "owner@example.com",
    roles_unknown: frozenset[str] = frozenset(),
) -> CurrentState:
    return CurrentState(
        workspace_id="ws",
        self_id=uid(self_email),
        owner_ids=frozenset({uid(owner)}),
        members=MappingProxyType({m.id: m for m in members}),
        roles=frozenset(roles),
        groups=MappingProxyType({g.id: g for g in groups}),
        fields=MappingProxyType({f.id: f for f in fields}),
        profiles=MappingProxyType(profiles or {}),
        protected=MappingProxyType(protected or {}),
        roles_unknown=roles_unknown,
    )


def profile(seconds: int | None = 28800, text: str | None = "PT8H", **values: Any) -> Profile:
    """A member profile; ``values`` maps custom field id -> the user's own (raw) value."""
    return Profile(seconds, text, MappingProxyType(dict(values)), working_days=("MONDAY", "TUESDAY", "WEDNESDAY",
                   "THURSDAY", "FRIDAY"), week_start="MONDAY")


def config(**sections: Any) -> Config:
    base: dict[str, Any] = {"workspace": {"fallback_manager_email": "ops@example.com"}}
    base.update(sections)
    return Config.build(base)


def group(gid: str, name: str, *emails: str) -> Group:
    return Group(gid, name, frozenset(uid(e) for e in emails))


def tm(holder: str, entity: str, via_group: bool = False) -> RoleGrant:
    """A TEAM_MANAGER role; ``entity`` is an email, or a group id when via_group."""
    return RoleGrant(uid(holder), "TEAM_MANAGER", entity if via_group else uid(entity), via_group)


def add_columns(path: Path, headers: list[str], cells: dict[str, tuple[str, ...]]) -> None:
    """Append ``headers`` to a users CSV and each row's ``cells`` (by email; blank for other rows)."""
    rows = list(csv.reader(path.read_text().splitlines()))
    rows[0] += headers
    for row in rows[1:]:
        row += list(cells.get(row[0], ("",) * len(headers)))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue())


def users_file(path: Path, headers: list[str], rows: list[dict[str, str]]) -> Path:
    """A users CSV with the three standard columns, ``headers`` after them, and ``rows`` (by header)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, ["NTID email", "Manager NTID email", "Weekly Working Hours", *headers])
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path
