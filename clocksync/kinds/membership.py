"""Group memberships: a user added to or removed from a group, one request each."""

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
from clocksync.kinds.live import LiveGroup, LiveView, ObjectKind, Ref
from clocksync.model import name_key

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext


class _Membership(Action):
    section: ClassVar[Section] = Section.GROUPS
    member_after: ClassVar[bool]  # whether the user is in the group once the action is done
    group_name: str
    user_id: str
    email: str
    into_protected: bool = False  # a protected group an into_protected group rule may add to and move from

    @property
    def target(self) -> str:
        return self.group_name

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.email,)

    def line(self, shown: Shown = HIDDEN) -> str:
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

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"add {self.email} to group {self.group_name!r}"

    def audit(self) -> tuple[str, str]:
        return f"{self.email} not in group", f"{self.email} in group"

    def needs(self) -> tuple[Key, ...]:
        group = (Key(KeyKind.GROUP, name_key(self.group_name)),) if self.group_id is None else ()
        return (*group, Key(KeyKind.ACTIVE, self.user_id))

    def provides(self) -> tuple[Key, ...]:
        return (Key(KeyKind.USER, self.user_id),)  # the user's new group: their removal elsewhere waits for it

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        if name_key(self.group_name) in run.created_groups:
            return [], []  # the run created the group: undoing that deletes it, members and all
        return [RemoveMember(group_name=self.group_name, group_id=run.group_id(self.group_id), user_id=self.user_id,
                             email=self.email, into_protected=self.into_protected,
                             reason=f"undo: the run added {self.email}")], []


class RemoveMember(_Membership):
    kind: Literal["remove_member"] = "remove_member"
    member_after: ClassVar[bool] = False
    phase: ClassVar[Phase] = Phase.CLEANUP
    step: ClassVar[int] = 2
    order: ClassVar[int] = 6
    sign: ClassVar[Sign] = Sign.REMOVE
    counts_as: ClassVar[Counts | None] = Counts.MEMBERSHIP_REMOVAL
    group_id: str | None  # None: the group of this name (found at apply)

    @property
    def identity(self) -> str:
        return f"member|{name_key(self.group_name)}|{self.user_id}|remove"

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"remove {self.email} from group {self.group_name!r}"

    def audit(self) -> tuple[str, str]:
        return f"{self.email} in group", f"{self.email} not in group"

    def provides(self) -> tuple[Key, ...]:
        # Taken from the user (their deactivation waits); the group's manager role is revoked only
        # once the members leaving it have left.
        group = (Key(KeyKind.MANAGERS, f"group:{self.group_id}"),) if self.group_id else ()
        return (Key(KeyKind.TAKEN_FROM, self.user_id), *group)

    def needs(self) -> tuple[Key, ...]:
        return (Key(KeyKind.ACTIVE, self.user_id), Key(KeyKind.USER, self.user_id))

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [AddMember(group_name=self.group_name, group_id=run.group_id(self.group_id), user_id=self.user_id,
                          email=self.email, into_protected=self.into_protected,
                          reason=f"undo: the run removed {self.email}")], []


@rule(order=4)
def memberships(ctx: PlanContext, out: Emit) -> None:
    """Rules 2, 4 and 7: each desired group's members are exactly the users it wants (those an exception
    leaves alone stay); retired groups lose their members; leavers leave every group but protected ones."""
    email_of = ctx.email_of
    for desired in ctx.groups.desired:
        group = desired.existing
        present = group.member_ids if group is not None else frozenset()
        name = group.name if group is not None else desired.name
        for uid in sorted(desired.member_ids - present, key=email_of):
            out.action(AddMember(group_name=name, group_id=group.id if group else None, user_id=uid,
                                 email=email_of(uid), into_protected=desired.into_protected, reason=desired.why_in))
        if group is not None:
            for uid in sorted(group.member_ids - desired.member_ids - desired.keep, key=email_of):
                out.action(RemoveMember(group_name=group.name, group_id=group.id, user_id=uid, email=email_of(uid),
                                        into_protected=desired.into_protected, reason=desired.why_out))
    for retired in ctx.groups.retired:
        group = retired.group
        for uid in sorted(group.member_ids - ctx.frozen - ctx.unplaced, key=email_of):
            out.action(RemoveMember(group_name=group.name, group_id=group.id, user_id=uid, email=email_of(uid),
                                    reason=retired.reason))
    deleted = {g.id for g in ctx.groups.deleted}  # their members need no removal
    for leaver in ctx.leavers:
        for group in ctx.current.groups_of.get(leaver.id, ()):
            if group.id not in ctx.protected and group.id not in deleted:
                out.action(RemoveMember(group_name=group.name, group_id=group.id, user_id=leaver.id,
                                        email=leaver.email, reason=f"{leaver.email} leaves"))


def _group(action: AddMember | RemoveMember, view: LiveView) -> LiveGroup | None:
    return view.group_for(action.group_id, action.group_name)


class MembershipHandler(Handler[AddMember | RemoveMember]):
    handles = (AddMember, RemoveMember)

    def touches(self, action: AddMember | RemoveMember, view: LiveView) -> tuple[Ref, ...]:
        group = _group(action, view)
        return (Ref(ObjectKind.GROUP, group.id),) if group else (Ref(ObjectKind.GROUP_NAME, name_key(action.group_name)),)

    def misnamed(self, action: AddMember | RemoveMember, view: LiveView) -> list[str]:
        found = (view.user_named(action.user_id, action.email), view.group_named(action.group_id, action.group_name))
        return [p for p in found if p]

    def verdict(self, action: AddMember | RemoveMember, view: LiveView) -> Verdict:
        group = _group(action, view)
        adding = action.member_after
        if group is None:
            return stale("the group does not exist") if adding else in_place("the group no longer exists")
        if group.id in view.protected and not action.into_protected:
            return stale("the group is now protected")
        if name_key(group.name) != name_key(action.group_name):
            return stale(f"the group was renamed to {group.name!r}")
        present = action.user_id in group.member_ids
        if not adding:
            return READY if present else in_place("not a member")
        if present:
            return in_place("already a member")
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
