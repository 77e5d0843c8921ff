"""Group memberships: a user added to or removed from a group, one request each."""

from __future__ import annotations

from typing import ClassVar, Literal

from clocksync.apply.view import LiveGroup, LiveView, Ref
from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import READY, Action, Answer, Handler, UndoContext, Verdict, done, stale
from clocksync.model import name_key


class _Membership(Action):
    section: ClassVar = "groups"
    member_after: ClassVar[bool]  # whether the user is in the group once the action is done
    group_name: str
    user_id: str
    email: str

    @property
    def target(self) -> str:
        return self.group_name

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.email,)

    def line(self) -> str:
        return f"member {self.email}"


class AddMember(_Membership):
    kind: Literal["add_member"] = "add_member"
    member_after: ClassVar[bool] = True
    step: ClassVar[int] = 1
    order: ClassVar[int] = 4
    group_id: str | None = None  # None: the group is created by this plan

    @property
    def identity(self) -> str:
        return f"member|{name_key(self.group_name)}|{self.user_id}"

    def describe(self) -> str:
        return f"add {self.email} to group {self.group_name!r}"

    def audit(self) -> tuple[str, str]:
        return f"{self.email} not in group", f"{self.email} in group"

    def needs(self) -> tuple[str, ...]:
        return (f"group:{name_key(self.group_name)}",) if self.group_id is None else ()

    def gives(self) -> tuple[str, ...]:
        return (f"user:{self.user_id}",)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        if name_key(self.group_name) in run.created_groups:
            return [], []  # the run created the group: undoing that deletes it, members and all
        return [RemoveMember(group_name=self.group_name, group_id=run.group_id(self.group_id), user_id=self.user_id,
                             email=self.email, reason=f"undo: the run added {self.email}")], []


class RemoveMember(_Membership):
    kind: Literal["remove_member"] = "remove_member"
    member_after: ClassVar[bool] = False
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 2
    order: ClassVar[int] = 6
    sign: ClassVar[str] = "-"
    counts_as: ClassVar[str | None] = "membership_removal"
    group_id: str | None  # None: the group of this name (found at apply)

    @property
    def identity(self) -> str:
        return f"member|{name_key(self.group_name)}|{self.user_id}|remove"

    def describe(self) -> str:
        return f"remove {self.email} from group {self.group_name!r}"

    def takes(self) -> tuple[str, ...]:
        return (f"user:{self.user_id}",)

    def gives(self) -> tuple[str, ...]:
        # The group's manager role is revoked only once the members leaving it have left.
        return (f"managers:group:{self.group_id}",) if self.group_id else ()

    def audit(self) -> tuple[str, str]:
        return f"{self.email} in group", f"{self.email} not in group"

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [AddMember(group_name=self.group_name, group_id=run.group_id(self.group_id), user_id=self.user_id,
                          email=self.email, reason=f"undo: the run removed {self.email}")], []


def _group(action: AddMember | RemoveMember, view: LiveView) -> LiveGroup | None:
    return view.group_for(action.group_id, action.group_name)


class MembershipHandler(Handler[AddMember | RemoveMember]):
    handles = (AddMember, RemoveMember)

    def touches(self, action: AddMember | RemoveMember, view: LiveView) -> tuple[Ref, ...]:
        group = _group(action, view)
        return (("group", group.id),) if group else (("group-name", name_key(action.group_name)),)

    def misnamed(self, action: AddMember | RemoveMember, view: LiveView) -> list[str]:
        found = (view.user_named(action.user_id, action.email), view.group_named(action.group_id, action.group_name))
        return [p for p in found if p]

    def verdict(self, action: AddMember | RemoveMember, view: LiveView) -> Verdict:
        group = _group(action, view)
        adding = action.member_after
        if group is None:
            return stale("the group does not exist") if adding else done("the group no longer exists")
        if group.id in view.protected:
            return stale("the group is now protected")
        if name_key(group.name) != name_key(action.group_name):
            return stale(f"the group was renamed to {group.name!r}")
        present = action.user_id in group.member_ids
        if not adding:
            return READY if present else done("not a member")
        if present:
            return done("already a member")
        status = view.member_status(action.user_id)
        if status is None or not status.manageable:
            return stale("the user is no longer an active member")
        return READY

    async def write(self, action: AddMember | RemoveMember, view: LiveView, client: ClockifyClient) -> Answer:
        group = _group(action, view)
        if group is None:  # the verdict said READY against this view, so this is a bug
            raise AssertionError(f"group {action.group_name!r} vanished from the view")
        if action.member_after:
            await client.add_group_member(group.id, action.user_id)
        else:
            await client.remove_group_member(group.id, action.user_id)
        return Answer()

    def effect(self, action: AddMember | RemoveMember, view: LiveView, created_id: str | None) -> None:
        group = _group(action, view)
        if group is None:
            return
        if action.member_after:
            group.member_ids.add(action.user_id)
        else:
            group.member_ids.discard(action.user_id)

    def may_lag(self, action: AddMember | RemoveMember, view: LiveView) -> bool:
        group = _group(action, view)
        return group is not None and group.id in view.created
