"""User groups: created for managers who have none, deleted when unmanaged (on request)."""

from __future__ import annotations

from typing import ClassVar, Literal

from clocksync.apply.view import LiveGroup, LiveView, Ref
from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import READY, Action, Answer, Handler, UndoContext, Verdict, done, stale
from clocksync.kinds.membership import AddMember
from clocksync.kinds.role import GrantRole
from clocksync.model import name_key


class CreateGroup(Action):
    kind: Literal["create_group"] = "create_group"
    section: ClassVar = "groups"
    creates_entry: ClassVar[bool] = True
    order: ClassVar[int] = 2
    group_name: str

    @property
    def identity(self) -> str:
        return f"group|{name_key(self.group_name)}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self) -> str:
        return f"create group {self.group_name!r}"

    def line(self) -> str:
        return "create group"

    def provides(self) -> tuple[str, ...]:
        return (f"group:{name_key(self.group_name)}",)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        """Delete the group the run created, as the run left it: with the members the run put in."""
        key = name_key(self.group_name)
        members = sorted({a.user_id for a in run.actions if isinstance(a, AddMember) and name_key(a.group_name) == key})
        return [DeleteGroup(group_id=run.created.get(self.id), group_name=self.group_name, member_ids=tuple(members),
                            reason=f"undo: the run created group {self.group_name!r}")], []


class DeleteGroup(Action):
    kind: Literal["delete_group"] = "delete_group"
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 3
    order: ClassVar[int] = 8
    sign: ClassVar[str] = "-"
    destructive: ClassVar[bool] = True
    section: ClassVar = "groups"
    counts_as: ClassVar[str | None] = "group_deletion"
    group_id: str | None  # None: the group of this name (one an interrupted run created, id unknown)
    group_name: str
    member_ids: tuple[str, ...] = ()  # as planned: a group that changed since is not deleted

    @property
    def identity(self) -> str:
        return f"delete-group|{self.group_id or 'name|' + name_key(self.group_name)}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self) -> str:
        return f"delete group {self.group_name!r} ({len(self.member_ids)} members)"

    def audit(self) -> tuple[str, str]:
        return f"exists ({len(self.member_ids)} members)", "deleted"

    def removes(self) -> tuple[str, ...]:
        return (f"group-id:{self.group_id}",) if self.group_id else ()

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        """Re-create the group with the members and managers it had before the run."""
        _, before = run.group_snapshot(self.group_id, self.group_name)
        if before is None:
            return [], [f"group {self.group_name!r}: its members and managers before the run were not saved; "
                        "re-create it by hand"]
        name = before["name"]
        reason = f"undo: the run deleted group {name!r}"
        actions: list[Action] = [CreateGroup(group_name=name, reason=reason)]
        actions += [AddMember(group_name=name, user_id=uid, email=run.name(uid), reason=reason)
                    for uid in before["members"]]
        actions += [GrantRole(holder_id=uid, holder_email=run.name(uid), entity_kind="group", entity_name=name,
                              reason=reason) for uid in before["managers"]]
        return actions, []


def _index(view: LiveView, key: str) -> None:
    """Point the name key at the remaining group with that name (lowest id), if any."""
    remaining = sorted(g.id for g in view.groups.values() if name_key(g.name) == key)
    if remaining:
        view.group_ids_by_key[key] = remaining[0]
    else:
        view.group_ids_by_key.pop(key, None)


class CreateGroupHandler(Handler[CreateGroup]):
    handles = (CreateGroup,)

    def touches(self, action: CreateGroup, view: LiveView) -> tuple[Ref, ...]:
        return (("group-name", name_key(action.group_name)),)

    def verdict(self, action: CreateGroup, view: LiveView) -> Verdict:
        gid = view.group_ids_by_key.get(name_key(action.group_name))
        if gid is None:
            return READY
        if gid in view.protected:
            return stale("a protected group now has this name")
        return done("the group exists")

    async def write(self, action: CreateGroup, view: LiveView, client: ClockifyClient) -> Answer:
        created = await client.create_group(action.group_name)
        return Answer(created_id=created.id)

    def effect(self, action: CreateGroup, view: LiveView, created_id: str | None) -> None:
        if created_id is None:
            return
        view.groups[created_id] = LiveGroup(created_id, action.group_name, set(), set())
        _index(view, name_key(action.group_name))
        view.created.add(created_id)

    def created_in(self, action: CreateGroup, view: LiveView) -> str | None:
        return view.group_ids_by_key.get(name_key(action.group_name))


class DeleteGroupHandler(Handler[DeleteGroup]):
    handles = (DeleteGroup,)

    def touches(self, action: DeleteGroup, view: LiveView) -> tuple[Ref, ...]:
        group = view.group_for(action.group_id, action.group_name)
        return (("group", group.id),) if group else (("group-name", name_key(action.group_name)),)

    def misnamed(self, action: DeleteGroup, view: LiveView) -> list[str]:
        return [p for p in (view.group_named(action.group_id, action.group_name),) if p]

    def verdict(self, action: DeleteGroup, view: LiveView) -> Verdict:
        group = view.group_for(action.group_id, action.group_name)
        if group is None:
            return done("the group no longer exists")
        if group.id in view.protected:
            return stale("the group is now protected")
        if name_key(group.name) != name_key(action.group_name) or group.member_ids != set(action.member_ids):
            return stale("the group's name or members changed since the plan")
        return READY

    async def write(self, action: DeleteGroup, view: LiveView, client: ClockifyClient) -> Answer:
        group = view.group_for(action.group_id, action.group_name)
        if group is None:  # the verdict said READY against this view, so this is a bug
            raise AssertionError(f"group {action.group_name!r} vanished from the view")
        await client.delete_group(group.id)
        return Answer()

    def effect(self, action: DeleteGroup, view: LiveView, created_id: str | None) -> None:
        group = view.group_for(action.group_id, action.group_name)
        if group is not None:
            view.groups.pop(group.id)  # its managers' grants over it go with it
            _index(view, name_key(group.name))
