"""User groups: created for managers who have none, deleted when unmanaged (on request)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import (
    HIDDEN,
    READY,
    Action,
    Answer,
    Counts,
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
from clocksync.kinds.live import LiveGroup, LiveView, ObjectKind, Ref, Snapshot
from clocksync.kinds.membership import AddMember
from clocksync.kinds.role import GrantRole
from clocksync.model import name_key

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext


class GroupSnapshot(Snapshot):
    """A group whole: its name, members and managers (ids)."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.GROUP
    name: str
    members: tuple[str, ...] = ()
    managers: tuple[str, ...] = ()

    @classmethod
    def read(cls, view: LiveView, ident: str) -> GroupSnapshot | None:
        group = view.groups.get(ident)
        if group is None:
            return None
        return cls(name=group.name, members=tuple(sorted(group.member_ids)),
                   managers=tuple(sorted(group.manager_ids)))

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        group = view.groups.get(ident)
        return f"group {group.name!r}" if group else f"group {ident}"

    def mentions(self) -> tuple[str, ...]:
        return self.members + self.managers


class GroupNameSnapshot(Snapshot):
    """The groups carrying a name (a group a plan creates is found by it)."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.GROUP_NAME
    ids: tuple[str, ...]

    @classmethod
    def read(cls, view: LiveView, ident: str) -> GroupNameSnapshot | None:
        ids = tuple(sorted(g.id for g in view.groups.values() if name_key(g.name) == ident))
        return cls(ids=ids) if ids else None

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        return f"groups named {ident!r}"

    def mentions(self) -> tuple[str, ...]:
        return self.ids


def saved_group(run: UndoContext, group_id: str | None, name: str) -> GroupSnapshot | None:
    """A group as it was before the run, by id, else by name."""
    if group_id is not None:
        found = run.snapshot(GroupSnapshot, group_id)
        if found is not None:
            return found
    return next((snap for _, snap in run.saved(GroupSnapshot) if name_key(snap.name) == name_key(name)), None)


class CreateGroup(Action):
    kind: Literal["create_group"] = "create_group"
    section: ClassVar[Section] = Section.GROUPS
    creates_entry: ClassVar[bool] = True
    order: ClassVar[int] = 2
    group_name: str

    @property
    def identity(self) -> str:
        return f"group|{name_key(self.group_name)}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"create group {self.group_name!r}"

    def line(self, shown: Shown = HIDDEN) -> str:
        return "create group"

    def provides(self) -> tuple[Key, ...]:
        return (Key(KeyKind.GROUP, name_key(self.group_name)),)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        """Delete the group the run created, as the run left it: with the members the run put in."""
        key = name_key(self.group_name)
        members = sorted({a.user_id for a in run.actions if isinstance(a, AddMember) and name_key(a.group_name) == key})
        return [DeleteGroup(group_id=run.created.get(self.id), group_name=self.group_name, member_ids=tuple(members),
                            reason=f"undo: the run created group {self.group_name!r}")], []


class DeleteGroup(Action):
    kind: Literal["delete_group"] = "delete_group"
    phase: ClassVar[Phase] = Phase.CLEANUP
    step: ClassVar[int] = 3
    order: ClassVar[int] = 8
    sign: ClassVar[Sign] = Sign.REMOVE
    destructive: ClassVar[bool] = True
    section: ClassVar[Section] = Section.GROUPS
    counts_as: ClassVar[Counts | None] = Counts.GROUP_DELETION
    group_id: str | None  # None: the group of this name (one an interrupted run created, id unknown)
    group_name: str
    member_ids: tuple[str, ...] = ()  # as planned: a group that changed since is not deleted

    @property
    def identity(self) -> str:
        return f"delete-group|{self.group_id or 'name|' + name_key(self.group_name)}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"delete group {self.group_name!r} ({len(self.member_ids)} members)"

    def audit(self) -> tuple[str, str]:
        return f"exists ({len(self.member_ids)} members)", "deleted"

    def removes(self) -> tuple[Key, ...]:
        return (Key(KeyKind.GROUP_ID, self.group_id),) if self.group_id else ()

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        """Re-create the group with the members and managers it had before the run."""
        before = saved_group(run, self.group_id, self.group_name)
        if before is None:
            return [], [f"group {self.group_name!r}: its members and managers before the run were not saved; "
                        "re-create it by hand"]
        name = before.name
        reason = f"undo: the run deleted group {name!r}"
        actions: list[Action] = [CreateGroup(group_name=name, reason=reason)]
        actions += [AddMember(group_name=name, user_id=uid, email=run.name(uid), reason=reason)
                    for uid in before.members]
        actions += [GrantRole(holder_id=uid, holder_email=run.name(uid), entity_kind="group", entity_name=name,
                              reason=reason) for uid in before.managers]
        return actions, []


@rule(order=2)
def groups(ctx: PlanContext, out: Emit) -> None:
    """Rules 2 and 6: a desired group the workspace lacks is created; with --delete-unmanaged-groups,
    groups neither managed nor protected are deleted."""
    for desired in ctx.groups.desired:
        if desired.existing is None:
            out.action(CreateGroup(group_name=desired.name, reason=f"{desired.origin.value} group"
                                   + (f" of {desired.manager.email}" if desired.manager else "")))
    for group in ctx.groups.deleted:
        out.action(DeleteGroup(group_id=group.id, group_name=group.name, member_ids=tuple(sorted(group.member_ids)),
                               reason="unmanaged (--delete-unmanaged-groups)"))


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
        return (Ref(ObjectKind.GROUP_NAME, name_key(action.group_name)),)

    def verdict(self, action: CreateGroup, view: LiveView) -> Verdict:
        gid = view.group_ids_by_key.get(name_key(action.group_name))
        if gid is None:
            return READY
        if gid in view.protected:
            return stale("a protected group now has this name")
        return in_place("the group exists")

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
        return (Ref(ObjectKind.GROUP, group.id),) if group else (Ref(ObjectKind.GROUP_NAME, name_key(action.group_name)),)

    def misnamed(self, action: DeleteGroup, view: LiveView) -> list[str]:
        return [p for p in (view.group_named(action.group_id, action.group_name),) if p]

    def verdict(self, action: DeleteGroup, view: LiveView) -> Verdict:
        group = view.group_for(action.group_id, action.group_name)
        if group is None:
            return in_place("the group no longer exists")
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
