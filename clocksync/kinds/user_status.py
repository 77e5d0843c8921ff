"""A member's status in the workspace: deactivation of leavers, reactivation (undo), invitation."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

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
    Shown,
    Sign,
    UndoContext,
    UserAction,
    Verdict,
    in_place,
    rule,
    stale,
)
from clocksync.kinds.live import LiveView, ObjectKind, Ref, Snapshot
from clocksync.kinds.role import EntityKind, hand_over
from clocksync.model import PROJECT_MANAGER, TEAM_MANAGER, MemberStatus, email_key

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext


class HeldRole(BaseModel):
    """A role a member holds: ``role`` over the ``kind`` of entity with ``id``."""

    model_config = ConfigDict(frozen=True)
    role: str
    kind: EntityKind
    id: str

    def text(self, name: Callable[[str], str]) -> str:
        return f"{self.role} over {self.kind.value} {name(self.id)}"


class UserSnapshot(Snapshot):
    """A member whole, as a status change or a role change sees them: status and every role held."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.USER
    email: str
    status: str
    roles: tuple[HeldRole, ...] = ()

    @classmethod
    def read(cls, view: LiveView, ident: str) -> UserSnapshot | None:
        found = cls.read_all(view, [ident])[ident]
        return found if isinstance(found, cls) else None

    @classmethod
    def read_all(cls, view: LiveView, idents: list[str]) -> dict[str, Snapshot | None]:
        held = _roles_by_holder(view)  # one pass for every user asked for
        found: dict[str, Snapshot | None] = {}
        for ident in idents:
            member = view.members.get(ident)
            found[ident] = None if member is None else cls(
                email=member.email, status=member.status.value,
                roles=tuple(sorted(held.get(ident, []), key=lambda r: (r.role, r.kind.value, r.id))))
        return found

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        return f"user of {view.email_of(ident)}"

    def mentions(self) -> tuple[str, ...]:
        return tuple(r.id for r in self.roles)


def _roles_by_holder(view: LiveView) -> dict[str, list[HeldRole]]:
    held: dict[str, list[HeldRole]] = {}
    for user_id, holders in view.direct.items():
        for holder in holders:
            held.setdefault(holder, []).append(HeldRole(role=TEAM_MANAGER, kind=EntityKind.USER, id=user_id))
    for group in view.groups.values():
        for holder in group.manager_ids:
            held.setdefault(holder, []).append(HeldRole(role=TEAM_MANAGER, kind=EntityKind.GROUP, id=group.id))
    for project_id, holders in view.projects.items():
        for holder in holders:
            held.setdefault(holder, []).append(HeldRole(role=PROJECT_MANAGER, kind=EntityKind.PROJECT, id=project_id))
    return held


class MemberEmailSnapshot(Snapshot):
    """That a member with an email exists (what an invitation changes)."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.MEMBER_EMAIL
    member: bool = True

    @classmethod
    def read(cls, view: LiveView, ident: str) -> MemberEmailSnapshot | None:
        return cls() if ident in view.member_ids_by_key else None

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        return f"member {ident}"


class _StatusAction(UserAction):
    status_after: ClassVar[MemberStatus]
    status_before: ClassVar[MemberStatus]
    user_id: str

    @property
    def identity(self) -> str:
        return f"status|{self.user_id}|{self.status_after.value}"

    def describe(self, shown: Shown = HIDDEN) -> str:
        verb = "deactivate" if self.status_after is MemberStatus.INACTIVE else "reactivate"
        return f"{verb} {self.email} ({self.status_before.value} -> {self.status_after.value})"

    def audit(self) -> tuple[str, str]:
        return self.status_before.value, self.status_after.value


class DeactivateUser(_StatusAction):
    """Deactivate a leaver (what they managed is handed over by other actions first)."""

    kind: Literal["deactivate_user"] = "deactivate_user"
    status_before: ClassVar[MemberStatus] = MemberStatus.ACTIVE
    status_after: ClassVar[MemberStatus] = MemberStatus.INACTIVE
    phase: ClassVar[Phase] = Phase.CLEANUP
    step: ClassVar[int] = 3
    order: ClassVar[int] = 9
    sign: ClassVar[Sign] = Sign.REMOVE
    destructive: ClassVar[bool] = True
    counts_as: ClassVar[Counts | None] = Counts.DEACTIVATION

    def needs(self) -> tuple[Key, ...]:
        # Everything taken from them first; and after what replaces it is in place.
        return (Key(KeyKind.TAKEN_FROM, self.user_id), Key(KeyKind.USER, self.user_id))

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [ActivateUser(user_id=self.user_id, email=self.email, reason="undo: the run deactivated them")], []


class ActivateUser(_StatusAction):
    """Reactivate a member (the undo of a deactivation)."""

    kind: Literal["activate_user"] = "activate_user"
    status_before: ClassVar[MemberStatus] = MemberStatus.INACTIVE
    status_after: ClassVar[MemberStatus] = MemberStatus.ACTIVE
    order: ClassVar[int] = 0

    def provides(self) -> tuple[Key, ...]:
        return (Key(KeyKind.ACTIVE, self.user_id),)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [DeactivateUser(user_id=self.user_id, email=self.email, reason="undo: the run reactivated them")], []


class InviteUser(UserAction):
    kind: Literal["invite_user"] = "invite_user"
    order: ClassVar[int] = 1
    send_email: bool = True

    @property
    def identity(self) -> str:
        return f"invite|{email_key(self.email)}"

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"invite {self.email} to the workspace" + ("" if self.send_email else " (no email)")

    def audit(self) -> tuple[str, str]:
        return "not in workspace", "invited"

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [], [f"{self.email} was invited by the run: an invitation cannot be taken back through the API; "
                    "remove them in Clockify if needed"]


@rule(order=1)
def invitations(ctx: PlanContext, out: Emit) -> None:
    """Rule 8: CSV users missing from the workspace are reported, and invited if config asks. A row
    naming a limited (kiosk) account is reported, never invited: the workspace refuses to invite an
    address it holds, so the invitation would fail on every run."""
    limited = {email_key(m.email): m for m in ctx.current.limited.values() if m.email}
    for spec in ctx.unmatched:
        kiosk = limited.get(spec.key)
        if kiosk is not None:
            out.note("limited_user", f"{spec.email} (CSV row {spec.row}) is a limited (kiosk) account in the "
                     f"workspace ({kiosk.name or kiosk.id}): clocksync does not manage limited accounts, so it is "
                     "neither invited nor changed; remove the row, or make the account a full member in Clockify")
            continue
        if ctx.config.invite.missing_users:
            out.action(InviteUser(email=spec.email, send_email=ctx.config.invite.send_email,
                                  reason=f"CSV row {spec.row}"))
        else:
            out.note("unmatched_user", f"{spec.email} (CSV row {spec.row}) is not a member of the workspace")


@rule(order=9)
def deactivations(ctx: PlanContext, out: Emit) -> None:
    """Rule 7: each leaver is deactivated after what they managed is handed over and taken from them."""
    for leaver in ctx.leavers:
        grants = tuple(sorted(g.id for g in hand_over(ctx, leaver).grants))
        out.action(DeactivateUser(user_id=leaver.id, email=leaver.email, depends_on=grants,
                                  reason="ACTIVE in the workspace, not in the CSV (--deactivate-missing)"))


class StatusHandler(Handler[DeactivateUser | ActivateUser]):
    handles = (DeactivateUser, ActivateUser)

    def touches(self, action: DeactivateUser | ActivateUser, view: LiveView) -> tuple[Ref, ...]:
        return (Ref(ObjectKind.USER, action.user_id),)

    def misnamed(self, action: DeactivateUser | ActivateUser, view: LiveView) -> list[str]:
        return [p for p in (view.user_named(action.user_id, action.email),) if p]

    def verdict(self, action: DeactivateUser | ActivateUser, view: LiveView) -> Verdict:
        if action.user_id in view.untouchable:
            return stale("refused: the owner and the key's own user are never deactivated or reactivated")
        member = view.members.get(action.user_id)
        if member is None:
            return stale("the user is no longer in the workspace")
        if member.status is action.status_after:
            return in_place(f"already {action.status_after.value}")
        if member.status is action.status_before:
            return READY
        return stale(f"the user is now {member.status_text or member.status.value}")

    async def write(self, action: DeactivateUser | ActivateUser, view: LiveView, client: ClockifyClient) -> Answer:
        await client.set_user_status(action.user_id, action.status_after.value)
        return Answer()

    def effect(self, action: DeactivateUser | ActivateUser, view: LiveView, created_id: str | None) -> None:
        member = view.members.get(action.user_id)
        if member is not None:
            view.members[action.user_id] = dataclasses.replace(member, status=action.status_after, status_text="")


class InviteHandler(Handler[InviteUser]):
    handles = (InviteUser,)

    def touches(self, action: InviteUser, view: LiveView) -> tuple[Ref, ...]:
        return (Ref(ObjectKind.MEMBER_EMAIL, email_key(action.email)),)

    def verdict(self, action: InviteUser, view: LiveView) -> Verdict:
        return in_place("already a member") if email_key(action.email) in view.member_ids_by_key else READY

    async def write(self, action: InviteUser, view: LiveView, client: ClockifyClient) -> Answer:
        await client.add_user(action.email, send_email=action.send_email)
        return Answer()

    def effect(self, action: InviteUser, view: LiveView, created_id: str | None) -> None:
        view.note_invited(action.email)
