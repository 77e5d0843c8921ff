"""Typed plan actions: one class per kind, discriminated by ``kind``.

Each action says what it expects to find (its precondition) and what it sets, so ``apply`` can
tell "already done" from "ready" from "stale". ``identity`` is what makes two actions the same
change; the action id is derived from it, so ids are stable across plans of the same change.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

# Phases run in this order. "updates" is additive (make before break: a user never goes without
# a manager in between), "cleanup" subtractive; the step orders kinds inside a phase.
PHASES = ("updates", "cleanup")


class Change(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    before: str | None
    after: str


class _Action(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    depends_on: tuple[str, ...] = ()
    reason: str = ""

    phase: ClassVar[str] = "updates"
    step: ClassVar[int] = 0
    sign: ClassVar[str] = "+"  # + add, ~ change, - remove
    destructive: ClassVar[bool] = False

    @property
    def identity(self) -> str:
        raise NotImplementedError

    @property
    def target(self) -> str:
        """What a reviewer recognises: an email or a group name."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def with_id(self) -> _Action:
        digest = hashlib.sha256(self.identity.encode()).hexdigest()[:10]
        return self.model_copy(update={"id": f"{self.kind_name()}-{digest}"})

    def kind_name(self) -> str:
        return str(getattr(self, "kind"))  # noqa: B009


class CreateCustomField(_Action):
    kind: Literal["create_custom_field"] = "create_custom_field"
    field_name: str
    field_type: str = "TXT"
    field_status: str = "VISIBLE"

    @property
    def identity(self) -> str:
        return f"field|{self.field_name.casefold()}"

    @property
    def target(self) -> str:
        return self.field_name

    def describe(self) -> str:
        return f"create USER custom field {self.field_name!r} ({self.field_type}, {self.field_status})"


class UpdateProfile(_Action):
    kind: Literal["update_profile"] = "update_profile"
    step: ClassVar[int] = 1
    sign: ClassVar[str] = "~"
    user_id: str
    email: str
    capacity: Change | None = None
    fields: dict[str, Change] = Field(default_factory=dict)  # custom field name -> change

    @property
    def identity(self) -> str:
        return f"profile|{self.user_id}"

    @property
    def target(self) -> str:
        return self.email

    def describe(self) -> str:
        parts = []
        if self.capacity:
            parts.append(f"work capacity {self.capacity.before or '(unset)'} -> {self.capacity.after}")
        for name, change in sorted(self.fields.items()):
            before = repr(change.before) if change.before is not None else "(unset)"
            parts.append(f"{name} {before} -> {change.after!r}")
        return "; ".join(parts)


class CreateGroup(_Action):
    kind: Literal["create_group"] = "create_group"
    group_name: str

    @property
    def identity(self) -> str:
        return f"group|{self.group_name.casefold()}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self) -> str:
        return f"create group {self.group_name!r}"


class AddMember(_Action):
    kind: Literal["add_member"] = "add_member"
    step: ClassVar[int] = 1
    group_name: str
    group_id: str | None = None  # None: the group is created by this plan
    user_id: str
    email: str

    @property
    def identity(self) -> str:
        return f"member|{self.group_name.casefold()}|{self.user_id}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self) -> str:
        return f"add {self.email} to group {self.group_name!r}"


class RemoveMember(_Action):
    kind: Literal["remove_member"] = "remove_member"
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 2
    sign: ClassVar[str] = "-"
    group_name: str
    group_id: str
    user_id: str
    email: str

    @property
    def identity(self) -> str:
        return f"member|{self.group_id}|{self.user_id}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self) -> str:
        return f"remove {self.email} from group {self.group_name!r}"


EntityKind = Literal["user", "group", "project"]


class _RoleAction(_Action):
    role: Literal["TEAM_MANAGER", "PROJECT_MANAGER"] = "TEAM_MANAGER"
    holder_id: str
    holder_email: str
    entity_kind: EntityKind
    entity_id: str | None = None  # None: a group created by this plan
    entity_name: str  # email, group name or project id

    @property
    def via_group(self) -> bool:
        return self.entity_kind == "group"

    @property
    def identity(self) -> str:
        entity = self.entity_id or f"new-group|{self.entity_name.casefold()}"
        return f"role|{self.holder_id}|{self.role}|{self.entity_kind}|{entity}"

    @property
    def target(self) -> str:
        return self.entity_name

    def _object(self) -> str:
        return f"{self.entity_kind} {self.entity_name}"


class GrantRole(_RoleAction):
    kind: Literal["grant_role"] = "grant_role"
    step: ClassVar[int] = 1

    def describe(self) -> str:
        return f"grant {self.holder_email} {self.role} over {self._object()}"


class RevokeRole(_RoleAction):
    kind: Literal["revoke_role"] = "revoke_role"
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 2
    sign: ClassVar[str] = "-"

    def describe(self) -> str:
        return f"revoke {self.holder_email}'s {self.role} over {self._object()}"


class DeleteGroup(_Action):
    kind: Literal["delete_group"] = "delete_group"
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 3
    sign: ClassVar[str] = "-"
    destructive: ClassVar[bool] = True
    group_id: str
    group_name: str
    member_ids: tuple[str, ...] = ()  # as planned: a group that changed since is not deleted

    @property
    def identity(self) -> str:
        return f"delete-group|{self.group_id}"

    @property
    def target(self) -> str:
        return self.group_name

    def describe(self) -> str:
        return f"delete unmanaged group {self.group_name!r} ({len(self.member_ids)} members)"


class DeactivateUser(_Action):
    kind: Literal["deactivate_user"] = "deactivate_user"
    phase: ClassVar[str] = "cleanup"
    step: ClassVar[int] = 3
    sign: ClassVar[str] = "-"
    destructive: ClassVar[bool] = True
    user_id: str
    email: str

    @property
    def identity(self) -> str:
        return f"deactivate|{self.user_id}"

    @property
    def target(self) -> str:
        return self.email

    def describe(self) -> str:
        return f"deactivate {self.email} (ACTIVE -> INACTIVE)"


class InviteUser(_Action):
    kind: Literal["invite_user"] = "invite_user"
    email: str
    send_email: bool = True

    @property
    def identity(self) -> str:
        return f"invite|{self.email.lower()}"

    @property
    def target(self) -> str:
        return self.email

    def describe(self) -> str:
        return f"invite {self.email} to the workspace" + ("" if self.send_email else " (no email)")


Action = Annotated[
    CreateCustomField | UpdateProfile | CreateGroup | AddMember | RemoveMember | GrantRole | RevokeRole
    | DeleteGroup | DeactivateUser | InviteUser,
    Field(discriminator="kind"),
]

KIND_ORDER = [
    "create_custom_field", "invite_user", "create_group", "update_profile", "add_member", "grant_role",
    "remove_member", "revoke_role", "delete_group", "deactivate_user",
]


def sort_key(action: _Action) -> tuple[int, int, int, str, str, str]:
    """Deterministic order: phase, step, kind, target, what it does, id."""
    return (PHASES.index(action.phase), action.step, KIND_ORDER.index(action.kind_name()),
            action.target.casefold(), action.describe().casefold(), action.id)
