"""The workspace as ``apply`` sees it while it works, and each action's precondition check.

``LiveView`` is a mutable copy of a freshly read ``CurrentState`` that the executor updates after
each successful write, so later checks see earlier effects without re-reading.

``check(action, view)`` answers DONE (already at the target), READY (at the expected value: apply)
or STALE (anything else: someone changed it since the plan; do not overwrite).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from clocksync.actions import (
    AddMember,
    CreateCustomField,
    CreateGroup,
    DeactivateUser,
    DeleteGroup,
    GrantRole,
    InviteUser,
    RemoveMember,
    RevokeRole,
    UpdateProfile,
    _Action,
    _RoleAction,
)
from clocksync.durations import parse_duration
from clocksync.model import CurrentState, Member, email_key, group_key


class Verdict(enum.Enum):
    DONE = "done"
    READY = "ready"
    STALE = "stale"


@dataclass
class LiveGroup:
    id: str
    name: str
    member_ids: set[str]
    manager_ids: set[str]


@dataclass
class LiveView:
    members: dict[str, Member]
    member_ids_by_key: dict[str, str]
    groups: dict[str, LiveGroup]
    group_ids_by_key: dict[str, str]
    direct: dict[str, set[str]]  # user id -> direct TEAM_MANAGER holders
    projects: dict[str, set[str]]  # project id -> PROJECT_MANAGER holders
    fields: dict[str, str]  # field name key -> id
    capacity: dict[str, int | None]  # user id -> seconds
    values: dict[str, dict[str, str | None]]  # user id -> field id -> text
    protected: set[str]
    untouchable: set[str]  # owner, the key's own user
    protected_reasons: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_state(cls, state: CurrentState, extra_protected: set[str] = frozenset()) -> LiveView:  # type: ignore[assignment]
        groups: dict[str, LiveGroup] = {
            g.id: LiveGroup(g.id, g.name, set(g.member_ids), set()) for g in state.groups.values()
        }
        direct: dict[str, set[str]] = {}
        projects: dict[str, set[str]] = {}
        for grant in state.roles:
            if grant.role == "TEAM_MANAGER" and grant.via_group:
                if grant.entity_id in groups:
                    groups[grant.entity_id].manager_ids.add(grant.holder_id)
            elif grant.role == "TEAM_MANAGER":
                direct.setdefault(grant.entity_id, set()).add(grant.holder_id)
            elif grant.role == "PROJECT_MANAGER":
                projects.setdefault(grant.entity_id, set()).add(grant.holder_id)
        by_key: dict[str, str] = {}
        for g in sorted(groups.values(), key=lambda g: g.id):
            by_key.setdefault(group_key(g.name), g.id)
        members = dict(state.members)
        member_keys: dict[str, str] = {}
        for m in sorted(members.values(), key=lambda m: m.id):
            member_keys.setdefault(m.key, m.id)
        return cls(
            members=members,
            member_ids_by_key=member_keys,
            groups=groups,
            group_ids_by_key=by_key,
            direct=direct,
            projects=projects,
            fields={group_key(f.name): f.id for f in sorted(state.fields.values(), key=lambda f: f.id, reverse=True)},
            capacity={uid: p.capacity_seconds for uid, p in state.profiles.items()},
            values={uid: dict(p.values) for uid, p in state.profiles.items()},
            protected=set(state.protected) | set(extra_protected),
            untouchable=set(state.owner_ids) | {state.self_id},
            protected_reasons=dict(state.protected),
        )

    # ------------------------------------------------------------------ resolution

    def group_for(self, group_id: str | None, name: str) -> LiveGroup | None:
        if group_id is not None:
            return self.groups.get(group_id)
        gid = self.group_ids_by_key.get(group_key(name))
        return self.groups.get(gid) if gid else None

    def holders(self, action: _RoleAction) -> set[str] | None:
        """Who holds the action's role over its entity now; None when the entity is gone."""
        if action.entity_kind == "group":
            group = self.group_for(action.entity_id, action.entity_name)
            return group.manager_ids if group else None
        if action.entity_kind == "user":
            if action.entity_id not in self.members:
                return None
            return self.direct.setdefault(action.entity_id or "", set())
        return self.projects.setdefault(action.entity_id or "", set())


def _capacity_matches(text: str | None, seconds: int | None) -> bool:
    if text is None:
        return seconds is None
    try:
        return parse_duration(text) == seconds
    except ValueError:
        return False


def profile_parts(action: UpdateProfile, view: LiveView) -> tuple[Verdict, bool, dict[str, str], str]:
    """The verdict, whether capacity still needs writing, the fields still to write, and why if stale."""
    if action.user_id not in view.members:
        return Verdict.STALE, False, {}, "the user is no longer in the workspace"
    if action.user_id not in view.capacity:
        return Verdict.STALE, False, {}, "the member profile could not be read, so the plan cannot be checked"
    todo_capacity = False
    todo_fields: dict[str, str] = {}
    stale: list[str] = []
    if action.capacity is not None:
        live = view.capacity.get(action.user_id)
        if _capacity_matches(action.capacity.after, live):
            pass
        elif _capacity_matches(action.capacity.before, live):
            todo_capacity = True
        else:
            stale.append(f"work capacity is now {live}s, the plan expected {action.capacity.before}")
    live_values = view.values.get(action.user_id, {})
    for name, change in action.fields.items():
        field_id = view.fields.get(group_key(name))
        live_value = live_values.get(field_id) if field_id else None
        if live_value == change.after:
            continue
        if live_value == change.before:
            todo_fields[name] = change.after
        else:
            stale.append(f"{name} is now {live_value!r}, the plan expected {change.before!r}")
    if stale:
        return Verdict.STALE, False, {}, "; ".join(stale)
    if not todo_capacity and not todo_fields:
        return Verdict.DONE, False, {}, ""
    return Verdict.READY, todo_capacity, todo_fields, ""


def check(action: _Action, view: LiveView) -> tuple[Verdict, str]:
    """DONE, READY or STALE for ``action`` against ``view``, with the reason when not READY."""
    if isinstance(action, CreateCustomField):
        return (Verdict.DONE, "the field exists") if group_key(action.field_name) in view.fields else (Verdict.READY, "")
    if isinstance(action, CreateGroup):
        gid = view.group_ids_by_key.get(group_key(action.group_name))
        if gid is None:
            return Verdict.READY, ""
        if gid in view.protected:
            return Verdict.STALE, "a protected group now has this name"
        return Verdict.DONE, "the group exists"
    if isinstance(action, InviteUser):
        return (Verdict.DONE, "already a member") if email_key(action.email) in view.member_ids_by_key else (Verdict.READY, "")
    if isinstance(action, UpdateProfile):
        verdict, _, _, why = profile_parts(action, view)
        return verdict, why
    if isinstance(action, AddMember | RemoveMember):
        return _check_membership(action, view)
    if isinstance(action, GrantRole | RevokeRole):
        return _check_role(action, view)
    if isinstance(action, DeleteGroup):
        group = view.groups.get(action.group_id)
        if group is None:
            return Verdict.DONE, "the group no longer exists"
        if action.group_id in view.protected:
            return Verdict.STALE, "the group is now protected"
        if group_key(group.name) != group_key(action.group_name) or group.member_ids != set(action.member_ids):
            return Verdict.STALE, "the group's name or members changed since the plan"
        return Verdict.READY, ""
    if isinstance(action, DeactivateUser):
        if action.user_id in view.untouchable:
            return Verdict.STALE, "refused: the owner and the key's own user are never deactivated"
        member = view.members.get(action.user_id)
        if member is None:
            return Verdict.STALE, "the user is no longer in the workspace"
        if member.status == "INACTIVE":
            return Verdict.DONE, "already inactive"
        if member.status == "ACTIVE":
            return Verdict.READY, ""
        return Verdict.STALE, f"the user is now {member.status}"
    raise TypeError(f"unknown action {action!r}")  # pragma: no cover


def _check_membership(action: AddMember | RemoveMember, view: LiveView) -> tuple[Verdict, str]:
    group = view.group_for(action.group_id, action.group_name)
    if group is None:
        if isinstance(action, RemoveMember):
            return Verdict.DONE, "the group no longer exists"
        return Verdict.STALE, "the group does not exist"
    if group.id in view.protected:
        return Verdict.STALE, "the group is now protected"
    if group_key(group.name) != group_key(action.group_name):
        return Verdict.STALE, f"the group was renamed to {group.name!r}"
    present = action.user_id in group.member_ids
    if isinstance(action, AddMember):
        member = view.members.get(action.user_id)
        if present:
            return Verdict.DONE, "already a member"
        if member is None or member.status not in ("ACTIVE", "PENDING"):
            return Verdict.STALE, "the user is no longer an active member"
        return Verdict.READY, ""
    return (Verdict.READY, "") if present else (Verdict.DONE, "not a member")


def _check_role(action: GrantRole | RevokeRole, view: LiveView) -> tuple[Verdict, str]:
    holders = view.holders(action)
    if action.entity_kind == "group":
        group = view.group_for(action.entity_id, action.entity_name)
        if group is not None and group.id in view.protected:
            return Verdict.STALE, "the group is now protected"
    if holders is None:
        if isinstance(action, RevokeRole):
            return Verdict.DONE, f"the {action.entity_kind} no longer exists"
        return Verdict.STALE, f"the {action.entity_kind} does not exist"
    held = action.holder_id in holders
    if isinstance(action, GrantRole):
        holder = view.members.get(action.holder_id)
        if held:
            return Verdict.DONE, "already held"
        if holder is None or not holder.active:
            return Verdict.STALE, "the manager is no longer an active member"
        return Verdict.READY, ""
    return (Verdict.READY, "") if held else (Verdict.DONE, "not held")
