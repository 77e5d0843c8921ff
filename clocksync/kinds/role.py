"""Manager roles: TEAM_MANAGER over a user or a group, PROJECT_MANAGER over a project.

A role is a fact "holder holds role over entity"; a grant makes it true and a revoke false. The
entity is a group this plan creates when ``entity_id`` is None (it is found by name at apply).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar, Literal

from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import (
    HIDDEN,
    READY,
    Action,
    Answer,
    Handler,
    Key,
    KeyKind,
    Phase,
    Section,
    Shown,
    Sign,
    UndoContext,
    Verdict,
    in_place,
    rule,
    stale,
)
from clocksync.kinds.live import LiveView, ObjectKind, Ref, Snapshot
from clocksync.model import PROJECT_MANAGER, TEAM_MANAGER, Member, RoleGrant, RoleName, name_key
from clocksync.plan.types import Handover, HandoverItem

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext


class EntityKind(enum.StrEnum):
    """What a role is held over."""

    USER = "user"
    GROUP = "group"
    PROJECT = "project"


class ProjectSnapshot(Snapshot):
    """A project's PROJECT_MANAGERs (ids)."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.PROJECT
    managers: tuple[str, ...] = ()

    @classmethod
    def read(cls, view: LiveView, ident: str) -> ProjectSnapshot:
        return cls(managers=tuple(sorted(view.projects.get(ident, set()))))

    def mentions(self) -> tuple[str, ...]:
        return self.managers


class _RoleAction(Action):
    held_after: ClassVar[bool]  # whether the holder holds the role once the action is done
    role: RoleName = RoleName.TEAM_MANAGER
    holder_id: str
    holder_email: str
    entity_kind: EntityKind
    entity_id: str | None = None  # None: a group created by this plan
    entity_name: str  # email, group name, or project name (its id when the name was not read)

    @property
    def via_group(self) -> bool:
        return self.entity_kind == "group"

    @property
    def identity(self) -> str:
        entity = self.entity_id or f"new-group|{name_key(self.entity_name)}"
        return f"role|{self.holder_id}|{self.role}|{self.entity_kind}|{entity}"

    @property
    def target(self) -> str:
        return self.entity_name

    @property
    def heading(self) -> str:
        return self.holder_email if self.entity_kind == "project" else self.entity_name

    @property
    def section(self) -> Section:  # type: ignore[override]
        return Section.GROUPS if self.entity_kind == EntityKind.GROUP else Section.USERS

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.holder_email, self.entity_name) if self.entity_kind == "user" else (self.holder_email,)

    def line(self, shown: Shown = HIDDEN) -> str:
        if self.entity_kind == "group":
            return f"{self.role} {self.holder_email}"
        if self.entity_kind == "user":
            return f"manager {self.holder_email} ({self.role})"
        return f"{self.role} of project {self.entity_name}"

    def needs(self) -> tuple[Key, ...]:
        active = Key(KeyKind.ACTIVE, self.holder_id)
        if self.entity_kind == EntityKind.GROUP and self.entity_id is None:
            return (Key(KeyKind.GROUP, name_key(self.entity_name)), active)
        return (active,)

    @property
    def entity_key(self) -> Key:
        """Whom the role is over, for failure containment: a user, or a group's or project's managers."""
        if self.entity_kind == EntityKind.USER:
            return Key(KeyKind.USER, str(self.entity_id))
        return Key(KeyKind.MANAGERS, f"{self.entity_kind.value}:{self.entity_id or 'new|' + name_key(self.entity_name)}")

    def inverse(self, run: UndoContext, kind: type[_RoleAction], why: str) -> tuple[list[Action], list[str]]:
        entity_id = run.group_id(self.entity_id) if self.entity_kind == "group" else self.entity_id
        data = self.model_dump(include={"role", "holder_id", "holder_email", "entity_kind", "entity_name"})
        return [kind(**data, entity_id=entity_id, reason=f"undo: {why}")], []


class GrantRole(_RoleAction):
    kind: Literal["grant_role"] = "grant_role"
    held_after: ClassVar[bool] = True
    step: ClassVar[int] = 1
    order: ClassVar[int] = 5

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"grant {self.holder_email} {self.role} over {self.entity_kind} {self.entity_name}"

    def provides(self) -> tuple[Key, ...]:
        return (self.entity_key,)  # the new manager: the old one's revoke waits for it

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return self.inverse(run, RevokeRole, f"the run granted {self.holder_email} this role")

    def audit(self) -> tuple[str, str]:
        return f"{self.holder_email} without {self.role}", f"{self.holder_email} {self.role}"


class RevokeRole(_RoleAction):
    kind: Literal["revoke_role"] = "revoke_role"
    held_after: ClassVar[bool] = False
    phase: ClassVar[Phase] = Phase.CLEANUP
    step: ClassVar[int] = 2
    order: ClassVar[int] = 7
    sign: ClassVar[Sign] = Sign.REMOVE

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"revoke {self.holder_email}'s {self.role} over {self.entity_kind} {self.entity_name}"

    def provides(self) -> tuple[Key, ...]:
        return (Key(KeyKind.TAKEN_FROM, self.holder_id),)

    def needs(self) -> tuple[Key, ...]:
        return (*super().needs(), self.entity_key)  # after the new manager holds it (make before break)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return self.inverse(run, GrantRole, f"the run revoked this role of {self.holder_email}")

    def audit(self) -> tuple[str, str]:
        return f"{self.holder_email} {self.role}", f"{self.holder_email} without {self.role}"


# ---------------------------------------------------------------------- rules


@rule(order=5)
def manager_roles(ctx: PlanContext, out: Emit) -> None:
    """Rules 2 to 4 and 7: each desired group's manager holds TEAM_MANAGER over it (and nobody else does);
    retired groups lose their managers; each managed user's direct TEAM_MANAGER is exactly their desired
    manager (or the fallback manager); what a leaver manages passes to the fallback manager."""
    email_of = ctx.email_of
    for desired in ctx.groups.desired:
        manager, group = desired.manager, desired.existing
        if manager is None:
            if group is not None and desired.no_manager:
                for holder in ctx.current.group_managers.get(group.id, ()):
                    out.action(RevokeRole(holder_id=holder, holder_email=email_of(holder),
                                          entity_kind=EntityKind.GROUP, entity_id=group.id, entity_name=group.name,
                                          reason="its group rule names no manager"))
            continue
        if group is None:
            out.action(GrantRole(holder_id=manager.id, holder_email=manager.email, entity_kind=EntityKind.GROUP,
                                 entity_name=desired.name, reason="manages this group"))
            continue
        holders = ctx.current.group_managers.get(group.id, ())
        if manager.id not in holders:
            out.action(GrantRole(holder_id=manager.id, holder_email=manager.email, entity_kind=EntityKind.GROUP,
                                 entity_id=group.id, entity_name=group.name, reason="manages this group"))
        for holder in holders:
            if holder == manager.id:
                continue
            out.action(RevokeRole(holder_id=holder, holder_email=email_of(holder), entity_kind=EntityKind.GROUP,
                                  entity_id=group.id, entity_name=group.name,
                                  reason=f"the group's manager is {manager.email}"))
    for retired in ctx.groups.retired:
        group = retired.group
        for holder in ctx.current.group_managers.get(group.id, ()) if retired.revoke_managers else ():
            out.action(RevokeRole(holder_id=holder, holder_email=email_of(holder), entity_kind=EntityKind.GROUP,
                                  entity_id=group.id, entity_name=group.name, reason=retired.reason))
    _direct_roles(ctx, out)
    for leaver in ctx.leavers:
        handing = hand_over(ctx, leaver)
        for action in (*handing.grants, *handing.revokes):
            out.action(action)
        for code, message in handing.notices:
            out.note(code, message)
        out.handover(Handover(email=leaver.email, items=tuple(handing.items)))


def _direct_roles(ctx: PlanContext, out: Emit) -> None:
    email_of = ctx.email_of
    for user_id in sorted(ctx.manager_of, key=email_of):
        manager = ctx.manager_of[user_id]
        if manager is None:
            if ctx.fallback is None or ctx.fallback.id == user_id:
                continue  # no usable manager: leave the roles as they are
            manager = ctx.fallback
        member = ctx.current.members[user_id]
        holders = ctx.current.direct_managers.get(user_id, ())
        if manager.id not in holders:
            out.action(GrantRole(holder_id=manager.id, holder_email=manager.email, entity_kind=EntityKind.USER,
                                 entity_id=user_id, entity_name=member.email, reason="desired manager"))
        for holder in holders:
            if holder == manager.id:
                continue
            out.action(RevokeRole(holder_id=holder, holder_email=email_of(holder), entity_kind=EntityKind.USER,
                                  entity_id=user_id, entity_name=member.email,
                                  reason=f"{member.email}'s manager is {manager.email}"))


@dataclass
class HandingOver:
    """What a leaver's roles become: grants to the fallback manager, revokes of the leaver's, the
    handover report, and warnings."""

    grants: list[GrantRole] = field(default_factory=list)
    revokes: list[RevokeRole] = field(default_factory=list)
    items: list[HandoverItem] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)


def hand_over(ctx: PlanContext, leaver: Member) -> HandingOver:
    """Rule 7: what the leaver manages passes to the fallback manager (users the CSV gives a manager, and
    groups the plan manages, get theirs from rules 2 and 3); the leaver's own roles are revoked."""
    fallback = ctx.fallback
    assert fallback is not None  # there are no leavers without one
    current = ctx.current
    result = HandingOver()
    for grant in current.roles_by_holder.get(leaver.id, ()):
        result.items += _heirs(ctx, grant, fallback)
        if grant.role == TEAM_MANAGER and not grant.via_group:
            if grant.entity_id in ctx.managed:
                continue  # rule 3 already gives this user their desired manager
            kind, name = EntityKind.USER, ctx.email_of(grant.entity_id)
            has = grant.entity_id == fallback.id or fallback.id in current.direct_managers.get(grant.entity_id, ())
        elif grant.role == TEAM_MANAGER:
            group = current.groups.get(grant.entity_id)
            if group is None:
                continue
            if grant.entity_id in ctx.protected:
                result.notices.append(("protected_role", f"{leaver.email} manages protected group {group.name!r}: "
                                       "that role is left for a person to pass on"))
                continue
            if grant.entity_id in ctx.groups.managed_ids:
                continue  # the group's desired manager is set by the group rules
            kind, name = EntityKind.GROUP, group.name
            has = fallback.id in current.group_managers.get(grant.entity_id, ())
        elif grant.role == PROJECT_MANAGER:
            kind, name = EntityKind.PROJECT, ctx.project_name(grant.entity_id)
            has = fallback.id in current.project_managers.get(grant.entity_id, ())
        else:
            continue
        role = RoleName(grant.role)
        if not has:
            result.grants.append(GrantRole(role=role, holder_id=fallback.id, holder_email=fallback.email,
                                           entity_kind=kind, entity_id=grant.entity_id, entity_name=name,
                                           reason=f"passed on from leaver {leaver.email}"))
        result.revokes.append(RevokeRole(role=role, holder_id=leaver.id, holder_email=leaver.email, entity_kind=kind,
                                         entity_id=grant.entity_id, entity_name=name, reason=f"{leaver.email} leaves"))
    order = {"report": 0, "group": 1, "project": 2}
    result.items.sort(key=lambda i: (order.get(i.what, 3), i.name.casefold()))
    return result


def _heirs(ctx: PlanContext, grant: RoleGrant, fallback: Member) -> list[HandoverItem]:
    """Who inherits what one grant of a leaver gives them (the handover report)."""
    current = ctx.current
    if grant.role == TEAM_MANAGER and not grant.via_group:
        if grant.entity_id not in current.members and grant.entity_id not in current.limited:
            return []
        manager = ctx.manager_of.get(grant.entity_id)
        if grant.entity_id in ctx.frozen:
            heir = "left as it is (an exception holds their manager)"
        elif grant.entity_id in ctx.managed and manager is not None:
            heir = f"{manager.email} (their manager in the CSV)"
        else:
            heir = f"{fallback.email} (fallback manager)"
        return [HandoverItem(what="report", name=ctx.email_of(grant.entity_id), to=heir)]
    if grant.role == TEAM_MANAGER:
        group = current.groups.get(grant.entity_id)
        if group is None:
            return []
        if grant.entity_id in ctx.protected:
            return [HandoverItem(what="group", name=group.name, to="nobody: a protected group; pass it on by hand")]
        if grant.entity_id in ctx.groups.managed_ids:
            group_heir = ctx.groups.manager_email.get(group.id)
            to = f"{group_heir} (the group's manager in the CSV)" if group_heir else "nobody: no longer a manager group"
            return [HandoverItem(what="group", name=group.name, to=to)]
        return [HandoverItem(what="group", name=group.name, to=f"{fallback.email} (fallback manager)")]
    if grant.role == PROJECT_MANAGER:
        return [HandoverItem(what="project", name=ctx.project_name(grant.entity_id),
                             to=f"{fallback.email} (fallback manager)")]
    return []


# ---------------------------------------------------------------------- apply-time behaviour


def _entity_id(action: GrantRole | RevokeRole, view: LiveView) -> str | None:
    if action.entity_kind == "group":
        group = view.group_for(action.entity_id, action.entity_name)
        return group.id if group else None
    if action.entity_kind == "user" and action.entity_id not in view.members and action.entity_id not in view.limited:
        return None  # a role over a limited member (a leaver's handover) is over someone the view knows
    return action.entity_id


def _holders(action: GrantRole | RevokeRole, view: LiveView, create: bool = False) -> set[str] | None:
    """Who holds the action's role over its entity now; None when the entity is gone."""
    entity_id = _entity_id(action, view)
    if entity_id is None:
        return None
    if action.entity_kind == "group":
        return view.groups[entity_id].manager_ids
    index = view.direct if action.entity_kind == "user" else view.projects
    return index.setdefault(entity_id, set()) if create else index.get(entity_id, set())


class RoleHandler(Handler[GrantRole | RevokeRole]):
    handles = (GrantRole, RevokeRole)

    def touches(self, action: GrantRole | RevokeRole, view: LiveView) -> tuple[Ref, ...]:
        refs: list[Ref] = [Ref(ObjectKind.USER, action.holder_id)]
        if action.entity_kind == "project" and action.entity_id:
            refs.append(Ref(ObjectKind.PROJECT, action.entity_id))
        return tuple(refs)

    def misnamed(self, action: GrantRole | RevokeRole, view: LiveView) -> list[str]:
        found = [view.user_named(action.holder_id, action.holder_email)]
        if action.entity_kind == "user" and action.entity_id is not None:
            found.append(view.user_named(action.entity_id, action.entity_name))
        elif action.entity_kind == "group":
            found.append(view.group_named(action.entity_id, action.entity_name))
        # A project is named by its id in the plan: nothing else to check it against.
        return [p for p in found if p]

    def verdict(self, action: GrantRole | RevokeRole, view: LiveView) -> Verdict:
        if action.entity_kind == "group":
            group = view.group_for(action.entity_id, action.entity_name)
            if group is not None and group.id in view.protected:
                return stale("the group is now protected")
        holders = _holders(action, view)
        if holders is None:
            if action.held_after:
                return stale(f"the {action.entity_kind} does not exist")
            return in_place(f"the {action.entity_kind} no longer exists")
        held = action.holder_id in holders
        if not action.held_after:
            return READY if held else in_place("not held")
        if held:
            return in_place("already held")
        holder = view.members.get(action.holder_id)
        if holder is None or not holder.active:
            return stale("the manager is no longer an active member")
        return READY

    async def write(self, action: GrantRole | RevokeRole, view: LiveView, client: ClockifyClient) -> Answer:
        entity_id = _entity_id(action, view)
        if entity_id is None:  # the verdict said READY against this view, so this is a bug
            raise AssertionError(f"{action.entity_kind} {action.entity_name!r} vanished from the view")
        send = client.grant_role if action.held_after else client.revoke_role
        await send(action.holder_id, action.role, entity_id, via_group=action.via_group)
        return Answer()

    def effect(self, action: GrantRole | RevokeRole, view: LiveView, created_id: str | None) -> None:
        holders = _holders(action, view, create=True)
        if holders is None:
            return
        if action.held_after:
            holders.add(action.holder_id)
        else:
            holders.discard(action.holder_id)

    def may_lag(self, action: GrantRole | RevokeRole, view: LiveView) -> bool:
        entity_id = _entity_id(action, view)
        return entity_id is not None and entity_id in view.created
