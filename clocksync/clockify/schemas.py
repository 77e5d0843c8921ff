"""Wire payloads as Clockify sends them: parsed leniently, never seen by the differ.

Only the fields clocksync reads are declared; unknown fields are ignored so that a new field on
the API never breaks a sync. A list the API sends as ``null`` reads as empty. What cannot be read
at all (a list that is an object, an id that is a number) fails validation, which the client turns
into an ``ApiShapeError`` naming the field. ``load/current.py`` maps these to the domain model.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator


def _empty_if_null(value: Any) -> Any:
    return [] if value is None else value


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class WireRate(Wire):
    """A rate (MembershipDtoV1.hourlyRate / costRate): an amount in hundredths, and a currency label."""

    amount: int
    currency: str | None = None


class WireMembership(Wire):
    user_id: str | None = Field(default=None, alias="userId")
    target_id: str | None = Field(default=None, alias="targetId")
    membership_type: str | None = Field(default=None, alias="membershipType")
    membership_status: str | None = Field(default=None, alias="membershipStatus")
    hourly_rate: WireRate | None = Field(default=None, alias="hourlyRate")
    cost_rate: WireRate | None = Field(default=None, alias="costRate")


class WireRoleEntity(Wire):
    """One object a role applies to. ``source`` arrives as an object, a string, null or not at all."""

    id: str | None = None
    entity_id: str | None = Field(default=None, alias="entityId")
    source: Any = None
    source_type: str | None = Field(default=None, alias="sourceType")

    @property
    def target(self) -> str | None:
        return self.id or self.entity_id

    @property
    def says_group(self) -> bool:
        """Whether the answer itself marks this a group grant (it often does not: API-NOTES 7.4)."""
        source = self.source
        if isinstance(source, dict):
            source = source.get("type")
        return source == "USER_GROUP" or self.source_type == "USER_GROUP"


class WireRole(Wire):
    """An entry of the undocumented ``roles`` array that ``include-roles=true`` adds (API-NOTES 7.4).

    Public code reads it as ``{role, entities: [{id, source}]}``; other clients guard against a
    flat ``{role, entityId, sourceType}`` or a single ``entity``. All three are read.
    """

    role: Any = None
    entities: Annotated[list[WireRoleEntity], BeforeValidator(_empty_if_null)] = Field(default_factory=list)
    entity: WireRoleEntity | None = None
    entity_id: str | None = Field(default=None, alias="entityId")
    source_type: str | None = Field(default=None, alias="sourceType")

    def targets(self) -> list[WireRoleEntity]:
        found = list(self.entities)
        if self.entity is not None:
            found.append(self.entity)
        if self.entity_id:
            found.append(WireRoleEntity(id=self.entity_id, sourceType=self.source_type))
        return found

    @property
    def name(self) -> str:
        role = self.role
        if isinstance(role, dict):
            role = role.get("name") or role.get("role")
        return str(role or "")


def _blank_if_null(value: Any) -> Any:
    return "" if value is None else value


class WireUser(Wire):
    id: str
    # A limited member has no email: the key is missing, or null (live variant limited-email-null).
    email: Annotated[str, BeforeValidator(_blank_if_null)] = ""
    name: str | None = None
    status: str | None = None
    memberships: Annotated[list[WireMembership], BeforeValidator(_empty_if_null)] = Field(default_factory=list)
    # None: the answer has no ``roles`` at all (not asked, or ignored): what the user manages is unknown.
    roles: list[WireRole] | None = None

    @field_validator("roles", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        return [] if value is None else value  # present but null: no roles

    @property
    def limited(self) -> bool:
        """A limited member (kiosk user): account status LIMITED, or no email at all."""
        return (self.status or "").upper() in ("LIMITED", "LIMITED_DELETED") or not self.email.strip()

    def workspace_status(self, workspace_id: str) -> str:
        """Membership status in this workspace (API-NOTES 3.3), else the account status."""
        for membership in self.memberships:
            if membership.membership_type == "WORKSPACE" and membership.target_id == workspace_id:
                return membership.membership_status or "ACTIVE"
        return self.status or "ACTIVE"


class WireProfileValue(Wire):
    custom_field_id: str | None = Field(default=None, alias="customFieldId")
    name: str | None = None
    value: Any = None
    source_type: str | None = Field(default=None, alias="sourceType")


class WireProfile(Wire):
    email: str | None = None
    name: str | None = None
    work_capacity: str | None = Field(default=None, alias="workCapacity")
    working_days: list[str] | None = Field(default=None, alias="workingDays")
    week_start: str | None = Field(default=None, alias="weekStart")
    values: Annotated[list[WireProfileValue], BeforeValidator(_empty_if_null)] = Field(
        default_factory=list, alias="userCustomFieldValues")


class WireCustomField(Wire):
    id: str
    name: str
    type: str | None = None
    entity_type: str | None = Field(default=None, alias="entityType")
    status: str | None = None
    allowed_values: Annotated[list[str], BeforeValidator(_empty_if_null)] = Field(
        default_factory=list, alias="allowedValues")
    required: bool | None = None


class WireTeamManager(Wire):
    id: str
    name: str | None = None


class WireGroup(Wire):
    id: str
    name: str
    user_ids: Annotated[list[str], BeforeValidator(_empty_if_null)] = Field(default_factory=list, alias="userIds")
    team_managers: Annotated[list[WireTeamManager], BeforeValidator(_empty_if_null)] = Field(
        default_factory=list, alias="teamManagers")


class WireProject(Wire):
    id: str
    name: str = ""


class WireHoliday(Wire):
    id: str | None = None
    name: str | None = None
    user_group_ids: Annotated[list[str], BeforeValidator(_empty_if_null)] = Field(
        default_factory=list, alias="userGroupIds")


class WirePolicy(Wire):
    id: str | None = None
    name: str | None = None
    user_group_ids: Annotated[list[str], BeforeValidator(_empty_if_null)] = Field(
        default_factory=list, alias="userGroupIds")


class WireWorkspace(Wire):
    id: str
    name: str | None = None
    features: Annotated[list[str], BeforeValidator(_empty_if_null)] = Field(default_factory=list)
