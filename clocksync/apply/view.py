"""The workspace as ``apply`` sees it while it works: a mutable view of a freshly read state.

The executor updates the view after each successful write (each kind says how, in its
``effect``), so the view is always "the workspace as read, plus what this run did": the expected
state that verification compares with what the API shows afterwards.

Objects are addressed by a ``Ref`` (kind of object, id) and ``snapshot`` gives an object whole,
as plain JSON data: a profile (capacity, working days, week start, every USER custom field), a
group (name, members, managers), a user (status and every role held), a project (its managers),
a custom field, and the groups carrying a name. Snapshots are what a run saves before its first
write, what verification compares, and what ``undo`` restores.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from clocksync.model import (
    PROJECT_MANAGER,
    TEAM_MANAGER,
    CurrentState,
    Member,
    MemberStatus,
    Profile,
    email_key,
    name_key,
)

Ref = tuple[str, str]  # ("profile" | "group" | "group-name" | "user" | "project" | "field" | "member-email", id or key)
Snapshot = dict[str, Any]


def ref_text(ref: Ref) -> str:
    return f"{ref[0]}:{ref[1]}"


@dataclass
class LiveGroup:
    id: str
    name: str
    member_ids: set[str]
    manager_ids: set[str]


@dataclass
class LiveView:
    workspace_id: str
    members: dict[str, Member]
    member_ids_by_key: dict[str, str]
    groups: dict[str, LiveGroup]
    group_ids_by_key: dict[str, str]
    direct: dict[str, set[str]]  # user id -> direct TEAM_MANAGER holders
    projects: dict[str, set[str]]  # project id -> PROJECT_MANAGER holders
    fields: dict[str, str]  # field name key -> id
    field_names: dict[str, str]  # field id -> name
    profiles: MutableMapping[str, Profile]  # user id -> profile, for the users whose profile the run touches
    protected: set[str]
    untouchable: set[str]  # owner, the key's own user
    roles_unknown: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)  # ids of objects this run created
    field_types: dict[str, str] = field(default_factory=dict)  # field id -> type (TXT, NUMBER, ...)
    limited: dict[str, str] = field(default_factory=dict)  # limited member id -> name (never managed)

    @classmethod
    def from_state(cls, state: CurrentState, extra_protected: Iterable[str] = ()) -> LiveView:
        groups: dict[str, LiveGroup] = {
            g.id: LiveGroup(g.id, g.name, set(g.member_ids), set()) for g in state.groups.values()
        }
        direct: dict[str, set[str]] = {}
        projects: dict[str, set[str]] = {}
        for grant in state.roles:
            if grant.role == TEAM_MANAGER and grant.via_group:
                if grant.entity_id in groups:
                    groups[grant.entity_id].manager_ids.add(grant.holder_id)
            elif grant.role == TEAM_MANAGER:
                direct.setdefault(grant.entity_id, set()).add(grant.holder_id)
            elif grant.role == PROJECT_MANAGER:
                projects.setdefault(grant.entity_id, set()).add(grant.holder_id)
        by_key: dict[str, str] = {}
        for g in sorted(groups.values(), key=lambda g: g.id):
            by_key.setdefault(name_key(g.name), g.id)
        member_keys: dict[str, str] = {}
        for m in sorted(state.members.values(), key=lambda m: m.id):
            member_keys.setdefault(m.key, m.id)
        fields: dict[str, str] = {}
        for f in sorted(state.fields.values(), key=lambda f: f.id):
            fields.setdefault(name_key(f.name), f.id)
        return cls(
            workspace_id=state.workspace_id,
            members=dict(state.members),
            member_ids_by_key=member_keys,
            groups=groups,
            group_ids_by_key=by_key,
            direct=direct,
            projects=projects,
            fields=fields,
            field_names={f.id: f.name for f in state.fields.values()},
            profiles=dict(state.profiles),
            protected=set(state.protected) | set(extra_protected),
            untouchable=set(state.owner_ids) | {state.self_id},
            roles_unknown=set(state.roles_unknown),
            field_types={f.id: f.type for f in state.fields.values()},
            limited={m.id: m.display_name for m in state.limited.values()},
        )

    # ------------------------------------------------------------------ resolution

    def group_for(self, group_id: str | None, name: str) -> LiveGroup | None:
        """The group by id, or (for a group this plan creates) by name."""
        if group_id is not None:
            return self.groups.get(group_id)
        gid = self.group_ids_by_key.get(name_key(name))
        return self.groups.get(gid) if gid else None

    def user_named(self, user_id: str, email: str) -> str | None:
        """What is wrong when ``user_id`` is a member with another email than ``email`` (None when it is
        that member, or no member at all: a verdict judges a user who left)."""
        member = self.members.get(user_id)
        if member is None or member.key == email_key(email):
            return None
        return f"user id {user_id} is {member.email} in the workspace, the plan names {email}"

    def group_named(self, group_id: str | None, name: str) -> str | None:
        """What is wrong when ``group_id`` is a group with another name than ``name`` (None when it is that
        group, no group at all, or the plan names the group by name only)."""
        group = self.groups.get(group_id) if group_id is not None else None
        if group is None or name_key(group.name) == name_key(name):
            return None
        return f"group id {group_id} is {group.name!r} in the workspace, the plan names {name!r}"

    def field_type(self, field_id: str) -> str:
        """A field's type; a field this run created is TXT (what clocksync creates)."""
        return self.field_types.get(field_id, "TXT")

    def member_status(self, user_id: str) -> MemberStatus | None:
        member = self.members.get(user_id)
        return member.status if member else None

    def email_of(self, user_id: str) -> str:
        member = self.members.get(user_id)
        return member.email if member else self.limited.get(user_id, user_id)

    # ------------------------------------------------------------------ whole objects

    def roles_by_holder(self) -> dict[str, list[dict[str, str]]]:
        """Every role, by the user holding it (one pass; snapshots of many users share it)."""
        held: dict[str, list[dict[str, str]]] = {}
        for user_id, holders in self.direct.items():
            for holder in holders:
                held.setdefault(holder, []).append({"role": TEAM_MANAGER, "kind": "user", "id": user_id})
        for group in self.groups.values():
            for holder in group.manager_ids:
                held.setdefault(holder, []).append({"role": TEAM_MANAGER, "kind": "group", "id": group.id})
        for project_id, holders in self.projects.items():
            for holder in holders:
                held.setdefault(holder, []).append({"role": PROJECT_MANAGER, "kind": "project", "id": project_id})
        for roles in held.values():
            roles.sort(key=lambda r: (r["role"], r["kind"], r["id"]))
        return held

    def snapshots(self, refs: Iterable[Ref]) -> dict[Ref, Snapshot | None]:
        """Each object whole, as JSON data; None for an object that does not exist."""
        refs = list(dict.fromkeys(refs))
        held = self.roles_by_holder() if any(r[0] == "user" for r in refs) else {}
        return {ref: self._snapshot(ref, held) for ref in refs}

    def _snapshot(self, ref: Ref, held: dict[str, list[dict[str, str]]]) -> Snapshot | None:
        kind, ident = ref
        if kind == "profile":
            profile = self.profiles.get(ident)
            return None if profile is None else self.profile_snapshot(ident, profile)
        if kind == "group":
            group = self.groups.get(ident)
            if group is None:
                return None
            return {"name": group.name, "members": sorted(group.member_ids), "managers": sorted(group.manager_ids)}
        if kind == "group-name":
            ids = sorted(g.id for g in self.groups.values() if name_key(g.name) == ident)
            return {"ids": ids} if ids else None
        if kind == "user":
            member = self.members.get(ident)
            if member is None:
                return None
            return {"email": member.email, "status": member.status.value, "roles": held.get(ident, [])}
        if kind == "project":
            return {"managers": sorted(self.projects.get(ident, set()))}
        if kind == "field":
            field_id = self.fields.get(ident)
            return {"id": field_id} if field_id else None
        if kind == "member-email":  # an invitation: whether a member with this email exists
            return {"member": True} if ident in self.member_ids_by_key else None
        raise ValueError(f"unknown object kind {kind!r}")

    def profile_snapshot(self, user_id: str, profile: Profile) -> Snapshot:
        """A profile whole: capacity, working days, week start and every USER field set (by name)."""
        values = {self.field_names.get(fid, fid): value for fid, value in profile.raw.items()
                  if value is not None and value != ""}
        return {"email": self.email_of(user_id), "capacity_seconds": profile.capacity_seconds,
                "working_days": list(profile.working_days) if profile.working_days is not None else None,
                "week_start": profile.week_start, "fields": dict(sorted(values.items()))}

    def names_of(self, snapshots: dict[Ref, Snapshot | None]) -> dict[str, str]:
        """Every member and group id the snapshots mention, with its email or group name."""
        ids: set[str] = set()
        for (kind, ident), snap in snapshots.items():
            if kind in ("profile", "user", "group"):
                ids.add(ident)
            if snap:
                ids.update(snap.get("members", ()), snap.get("managers", ()), snap.get("ids", ()))
                ids.update(role["id"] for role in snap.get("roles", ()))
        names = {i: self.email_of(i) for i in ids if i in self.members or i in self.limited}
        names.update({i: self.groups[i].name for i in ids if i in self.groups})
        return dict(sorted(names.items()))

    def describe(self, ref: Ref) -> str:
        """A reviewer's name for an object: an email or a group name rather than an id."""
        kind, ident = ref
        if kind in ("profile", "user"):
            return f"{kind} of {self.email_of(ident)}"
        if kind == "group":
            group = self.groups.get(ident)
            return f"group {group.name!r}" if group else f"group {ident}"
        if kind == "group-name":
            return f"groups named {ident!r}"
        if kind == "member-email":
            return f"member {ident}"
        return f"{kind} {ident}"

    def note_invited(self, email: str) -> None:
        self.member_ids_by_key[email_key(email)] = f"invited:{email_key(email)}"
