"""Manager roles: TEAM_MANAGER over a user or a group, PROJECT_MANAGER over a project.

A role is a fact "holder holds role over entity"; a grant makes it true and a revoke false. The
entity is a group this plan creates when ``entity_id`` is None (it is found by name at apply).
"""

from __future__ import annotations

from typing import ClassVar, Literal

from clocksync.apply.view import LiveView, Ref
from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import READY, Action, Answer, Handler, UndoContext, Verdict, done, stale
from clocksync.model import name_key

EntityKind = Literal["user", "group", "project"]


class _RoleAction(Action):
    held_after: ClassVar[bool]  # whether the holder holds the role once the action is done
    role: Literal["TEAM_MANAGER", "PROJECT_MANAGER"] = "TEAM_MANAGER"
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
    def section(self) -> str:  # type: ignore[override]
        return "groups" if self.entity_kind == "group" else "users"

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.holder_email, self.entity_name) if self.entity_kind == "user" else (self.holder_email,)

    def line(self) -> str:
        if self.entity_kind == "group":
            return f"{self.role} {self.holder_email}"
        if self.entity_kind == "user":
            return f"manager {self.holder_email} ({self.role})"
        return f"{self.role} of project {self.entity_name}"

    def needs(self) -> tuple[str, ...]:
        if self.entity_kind == "group" and self.entity_id is None:
            return (f"group:{name_key(self.entity_name)}",)
        return ()

    @property
    def entity_key(self) -> str:
        """Whom the role is over: ``user:<id>``, or ``managers:<kind>:<id>`` for a group or project."""
        if self.entity_kind == "user":
            return f"user:{self.entity_id}"
        return f"managers:{self.entity_kind}:{self.entity_id or 'new|' + name_key(self.entity_name)}"

    def inverse(self, run: UndoContext, kind: type[_RoleAction], why: str) -> tuple[list[Action], list[str]]:
        entity_id = run.group_id(self.entity_id) if self.entity_kind == "group" else self.entity_id
        data = self.model_dump(include={"role", "holder_id", "holder_email", "entity_kind", "entity_name"})
        return [kind(**data, entity_id=entity_id, reason=f"undo: {why}")], []


class GrantRole(_RoleAction):
    kind: Literal["grant_role"] = "grant_role"
    held_after: ClassVar[bool] = True
    step: ClassVar[int] = 1
    order: ClassVar[int] = 5

    def describe(self) -> str:
        return f"grant {self.holder_email} {self.role} over {self.entity_kind} {self.entity_name}"

    def gives(self) -> tuple[str, ...]:
        return (self.entity_key,)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return self.inverse(run, RevokeRole, f"the run granted {self.holder_email} this role")

    def audit(self) -> tuple[str, str]:
        return f"{self.holder_email} without {self.role}", f"{self.holder_email} {self.role}"


class RevokeRole(_RoleAction):
    kind: Literal["revoke_role"] = "revoke_role"
    held_after: ClassVar[bool] = False
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 2
    order: ClassVar[int] = 7
    sign: ClassVar[str] = "-"

    def describe(self) -> str:
        return f"revoke {self.holder_email}'s {self.role} over {self.entity_kind} {self.entity_name}"

    def takes(self) -> tuple[str, ...]:
        return (self.entity_key,)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return self.inverse(run, GrantRole, f"the run revoked this role of {self.holder_email}")

    def audit(self) -> tuple[str, str]:
        return f"{self.holder_email} {self.role}", f"{self.holder_email} without {self.role}"


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
        refs: list[Ref] = [("user", action.holder_id)]
        if action.entity_kind == "project" and action.entity_id:
            refs.append(("project", action.entity_id))
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
            return done(f"the {action.entity_kind} no longer exists")
        held = action.holder_id in holders
        if not action.held_after:
            return READY if held else done("not held")
        if held:
            return done("already held")
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
