"""A member's status in the workspace: deactivation of leavers, reactivation (undo), invitation."""

from __future__ import annotations

import dataclasses
from typing import ClassVar, Literal

from clocksync.apply.view import LiveView, Ref
from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import (
    READY,
    Action,
    Answer,
    Handler,
    UndoContext,
    UserAction,
    Verdict,
    done,
    stale,
)
from clocksync.model import MemberStatus, email_key


class _StatusAction(UserAction):
    status_after: ClassVar[MemberStatus]
    status_before: ClassVar[MemberStatus]
    user_id: str

    @property
    def identity(self) -> str:
        return f"status|{self.user_id}|{self.status_after.value}"

    def describe(self) -> str:
        verb = "deactivate" if self.status_after is MemberStatus.INACTIVE else "reactivate"
        return f"{verb} {self.email} ({self.status_before.value} -> {self.status_after.value})"

    def audit(self) -> tuple[str, str]:
        return self.status_before.value, self.status_after.value


class DeactivateUser(_StatusAction):
    """Deactivate a leaver (what they managed is handed over by other actions first)."""

    kind: Literal["deactivate_user"] = "deactivate_user"
    status_before: ClassVar[MemberStatus] = MemberStatus.ACTIVE
    status_after: ClassVar[MemberStatus] = MemberStatus.INACTIVE
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 3
    order: ClassVar[int] = 9
    sign: ClassVar[str] = "-"
    destructive: ClassVar[bool] = True
    counts_as: ClassVar[str | None] = "deactivation"

    def takes(self) -> tuple[str, ...]:
        return (f"user:{self.user_id}",)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [ActivateUser(user_id=self.user_id, email=self.email, reason="undo: the run deactivated them")], []


class ActivateUser(_StatusAction):
    """Reactivate a member (the undo of a deactivation)."""

    kind: Literal["activate_user"] = "activate_user"
    status_before: ClassVar[MemberStatus] = MemberStatus.INACTIVE
    status_after: ClassVar[MemberStatus] = MemberStatus.ACTIVE
    order: ClassVar[int] = 0

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [DeactivateUser(user_id=self.user_id, email=self.email, reason="undo: the run reactivated them")], []


class InviteUser(UserAction):
    kind: Literal["invite_user"] = "invite_user"
    order: ClassVar[int] = 1
    send_email: bool = True

    @property
    def identity(self) -> str:
        return f"invite|{email_key(self.email)}"

    def describe(self) -> str:
        return f"invite {self.email} to the workspace" + ("" if self.send_email else " (no email)")

    def audit(self) -> tuple[str, str]:
        return "not in workspace", "invited"

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [], [f"{self.email} was invited by the run: an invitation cannot be taken back through the API; "
                    "remove them in Clockify if needed"]


class StatusHandler(Handler[DeactivateUser | ActivateUser]):
    handles = (DeactivateUser, ActivateUser)

    def touches(self, action: DeactivateUser | ActivateUser, view: LiveView) -> tuple[Ref, ...]:
        return (("user", action.user_id),)

    def misnamed(self, action: DeactivateUser | ActivateUser, view: LiveView) -> list[str]:
        return [p for p in (view.user_named(action.user_id, action.email),) if p]

    def verdict(self, action: DeactivateUser | ActivateUser, view: LiveView) -> Verdict:
        if action.user_id in view.untouchable:
            return stale("refused: the owner and the key's own user are never deactivated or reactivated")
        member = view.members.get(action.user_id)
        if member is None:
            return stale("the user is no longer in the workspace")
        if member.status is action.status_after:
            return done(f"already {action.status_after.value}")
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
        return (("member-email", email_key(action.email)),)

    def verdict(self, action: InviteUser, view: LiveView) -> Verdict:
        return done("already a member") if email_key(action.email) in view.member_ids_by_key else READY

    async def write(self, action: InviteUser, view: LiveView, client: ClockifyClient) -> Answer:
        await client.add_user(action.email, send_email=action.send_email)
        return Answer()

    def effect(self, action: InviteUser, view: LiveView, created_id: str | None) -> None:
        view.note_invited(action.email)
