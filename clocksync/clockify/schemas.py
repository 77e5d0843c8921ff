"""Wire payloads as Clockify sends them: parsed leniently, never seen by the differ.

Only the fields clocksync reads are declared; unknown fields are ignored so that a new field on
the API never breaks a sync. ``current.py`` maps these to the domain model.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class WireMembership(Wire):
    user_id: str | None = Field(default=None, alias="userId")
    target_id: str | None = Field(default=None, alias="targetId")
    membership_type: str | None = Field(default=None, alias="membershipType")
    membership_status: str | None = Field(default=None, alias="membershipStatus")


class WireRoleEntity(Wire):
    """One object a role applies to. ``source`` arrives as an object, a string or not at all."""

    id: str | None = None
    entity_id: str | None = Field(default=None, alias="entityId")
    source: Any = None
    source_type: str | None = Field(default=None, alias="sourceType")

    @property
    def target(self) -> str | None:
        return self.id or self.entity_id

    @property
    def via_group(self) -> bool:
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
    entities: list[WireRoleEntity] = Field(default_factory=list)
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


class WireCustomFieldValue(Wire):
    custom_field_id: str | None = Field(default=None, alias="customFieldId")
    value: Any = None


class WireUser(Wire):
    id: str
    email: str = ""
    name: str | None = None
    status: str | None = None
    memberships: list[WireMembership] = Field(default_factory=list)
    roles: list[WireRole] = Field(default_factory=list)
    custom_fields: list[WireCustomFieldValue] = Field(default_factory=list, alias="customFields")

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


class WireProfile(Wire):
    email: str | None = None
    name: str | None = None
    work_capacity: str | None = Field(default=None, alias="workCapacity")
    values: list[WireProfileValue] = Field(default_factory=list, alias="userCustomFieldValues")


class WireCustomField(Wire):
    id: str
    name: str
    type: str | None = None
    entity_type: str | None = Field(default=None, alias="entityType")
    status: str | None = None


class WireTeamManager(Wire):
    id: str
    name: str | None = None


class WireGroup(Wire):
    id: str
    name: str
    user_ids: list[str] = Field(default_factory=list, alias="userIds")
    team_managers: list[WireTeamManager] = Field(default_factory=list, alias="teamManagers")


class WireHoliday(Wire):
    id: str | None = None
    name: str | None = None
    user_group_ids: list[str] = Field(default_factory=list, alias="userGroupIds")


class WirePolicy(Wire):
    id: str | None = None
    name: str | None = None
    user_group_ids: list[str] = Field(default_factory=list, alias="userGroupIds")


class WireWorkspace(Wire):
    id: str
    name: str | None = None
    features: list[str] = Field(default_factory=list)
    memberships: list[WireMembership] = Field(default_factory=list)
