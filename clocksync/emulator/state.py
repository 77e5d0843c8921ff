"""The emulated Clockify workspace: data and business rules, no HTTP.

Every method either returns JSON-ready data shaped as the spec's response schema or raises
``EmulatorError(status, code, message)`` the way API-NOTES describes the live API: business
conflicts are 400 with code 501, missing required query parameters 400 with code 3001.
Where the live answer is unverified (a member already in a group, a role already held), the
answer is set by ``answers`` (``variants.Answers``): each plausible answer can be switched on.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from clocksync.durations import parse_duration
from clocksync.emulator.variants import Answers
from clocksync.files import write_private

DAYS = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"]
ROLES = {"WORKSPACE_ADMIN", "TEAM_MANAGER", "PROJECT_MANAGER"}
FIELD_TYPES = {"TXT", "NUMBER", "DROPDOWN_SINGLE", "DROPDOWN_MULTIPLE", "CHECKBOX", "LINK"}
FIELD_STATUSES = {"INACTIVE", "VISIBLE", "INVISIBLE"}
ACTIVE_USER_FIELD_CAP = 10  # active USER custom fields: VISIBLE (and INVISIBLE under ``invisible-fields-active``)
GROUP_NAME_LIMIT = 100  # the spec's UserGroupRequest.name maxLength, counted as Java does (UTF-16 units)
DEFAULT_ACCOUNT_STATUSES = {"ACTIVE", "PENDING_EMAIL_VERIFICATION", "NOT_REGISTERED"}  # GET /users without the filter
DEFAULT_FEATURES = ["CUSTOM_FIELDS", "USER_CUSTOM_FIELDS", "MANAGER_ROLE", "EDIT_MEMBER_PROFILE",
                    "TIME_OFF", "APPROVAL"]


_RATE_SINCE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class EmulatorError(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def _bad(message: str, code: int = 501) -> EmulatorError:
    return EmulatorError(400, code, message)


@dataclass
class User:
    id: str
    email: str
    name: str
    membership_status: str = "ACTIVE"
    account_status: str = "ACTIVE"
    work_capacity: str = "PT8H"
    working_days: list[str] = field(default_factory=lambda: DAYS[:5])
    week_start: str = "MONDAY"
    custom_values: dict[str, Any] = field(default_factory=dict)  # field id -> value
    hourly_rate: int | None = None  # hundredths of the workspace currency; None: not set for the member
    cost_rate: int | None = None
    rates_since: dict[str, str] = field(default_factory=dict)  # "hourly-rate" | "cost-rate" -> since, as sent


@dataclass
class Group:
    id: str
    name: str
    user_ids: list[str] = field(default_factory=list)


@dataclass
class CustomField:
    id: str
    name: str
    type: str = "TXT"
    status: str = "VISIBLE"
    entity_type: str = "USER"
    allowed_values: list[str] = field(default_factory=list)
    required: bool = False


@dataclass(frozen=True, order=True)
class Role:
    user_id: str  # who holds the role
    role: str
    entity_id: str
    via_group: bool = False


@dataclass
class Holiday:
    id: str
    name: str
    user_group_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    start: str = "2026-12-25"


@dataclass
class Project:
    id: str
    name: str
    archived: bool = False


@dataclass
class Policy:
    id: str
    name: str
    user_group_ids: list[str] = field(default_factory=list)
    user_ids: list[str] = field(default_factory=list)
    archived: bool = False


@dataclass
class Workspace:
    """Everything the emulator knows. ``api_keys`` maps a key to its user's id."""

    id: str
    name: str
    owner_id: str
    api_keys: dict[str, str] = field(default_factory=dict)
    admin_ids: list[str] = field(default_factory=list)
    paid: bool = True
    currency: str = "USD"
    features: list[str] = field(default_factory=lambda: list(DEFAULT_FEATURES))
    users: dict[str, User] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    fields: dict[str, CustomField] = field(default_factory=dict)
    roles: set[Role] = field(default_factory=set)
    holidays: dict[str, Holiday] = field(default_factory=dict)
    policies: dict[str, Policy] = field(default_factory=dict)
    projects: dict[str, Project] = field(default_factory=dict)
    next_id: int = 1


def _type_problem(f: CustomField, value: Any) -> str | None:
    """Why ``value`` is not a value of field ``f`` (None: it is)."""
    if f.type == "NUMBER":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "value must be a number"
    if f.type == "CHECKBOX":
        return None if isinstance(value, bool) else "value must be true or false"
    if f.type == "DROPDOWN_SINGLE":
        if not isinstance(value, str):
            return "value must be one of the allowed values"
        return None if value in f.allowed_values else f"'{value}' is not one of the allowed values"
    if f.type == "DROPDOWN_MULTIPLE":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "value must be a list of allowed values"
        bad = [v for v in value if v not in f.allowed_values]
        return f"{bad} are not allowed values" if bad else None
    if not isinstance(value, str):
        return "value must be text"
    if f.type == "LINK":
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
            return "value must be a link (http or https URL)"
    return None


class WorkspaceState:
    """A thread-safe stateful workspace with Clockify's answers."""

    def __init__(self, workspace: Workspace, answers: Answers | None = None) -> None:
        self.ws = workspace
        self.answers = answers or Answers()
        self.lock = threading.RLock()
        self.writes = 0  # state changes (a write answered 200 that changes nothing is not one)
        self.dirty = False

    # ------------------------------------------------------------------ ids and persistence

    def new_id(self) -> str:
        """A 24-hex id like Clockify's, deterministic per workspace for reproducible runs."""
        self.ws.next_id += 1
        return hashlib.sha1(f"{self.ws.id}:{self.ws.next_id}".encode()).hexdigest()[:24]

    def to_json(self) -> dict[str, Any]:
        with self.lock:
            data = asdict(self.ws)
            data["roles"] = [asdict(r) for r in sorted(self.ws.roles)]
            return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkspaceState:
        data = copy.deepcopy(data)
        ws = Workspace(
            **{k: v for k, v in data.items()
               if k not in ("users", "groups", "fields", "roles", "holidays", "policies", "projects")},
            users={k: User(**v) for k, v in data.get("users", {}).items()},
            groups={k: Group(**v) for k, v in data.get("groups", {}).items()},
            fields={k: CustomField(**v) for k, v in data.get("fields", {}).items()},
            roles={Role(**r) for r in data.get("roles", [])},
            holidays={k: Holiday(**v) for k, v in data.get("holidays", {}).items()},
            policies={k: Policy(**v) for k, v in data.get("policies", {}).items()},
            projects={k: Project(**v) for k, v in data.get("projects", {}).items()},
        )
        return cls(ws)

    def save(self, path: Path) -> None:
        """Write atomically and owner-only (the state holds API keys): a crash mid-save never
        leaves a half-written state file (``files.write_private``)."""
        write_private(path, json.dumps(self.to_json(), indent=1, sort_keys=True))
        self.dirty = False

    @classmethod
    def load(cls, path: Path) -> WorkspaceState:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def _changed(self) -> None:
        self.writes += 1
        self.dirty = True

    # ------------------------------------------------------------------ lookups

    def user(self, user_id: str) -> User:
        found = self.ws.users.get(user_id)
        if found is None:
            raise _bad("User doesn't belong to Workspace")
        return found

    def group(self, group_id: str) -> Group:
        found = self.ws.groups.get(group_id)
        if found is None:
            raise _bad("User group doesn't belong to Workspace")
        return found

    def user_for_key(self, key: str) -> User | None:
        user_id = self.ws.api_keys.get(key)
        return self.ws.users.get(user_id) if user_id else None

    # ------------------------------------------------------------------ rendering (spec shapes)

    def role_index(self) -> dict[str, list[Role]]:
        """Roles by holder, built once per list call (a scan per user would be quadratic)."""
        index: dict[str, list[Role]] = {}
        for role in sorted(self.ws.roles):
            index.setdefault(role.user_id, []).append(role)
        return index

    def group_manager_index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for role in sorted(self.ws.roles):
            if role.role == "TEAM_MANAGER" and role.via_group:
                index.setdefault(role.entity_id, []).append(role.user_id)
        return index

    def render_user(self, user: User, *, memberships: str = "NONE",
                    roles: dict[str, list[Role]] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "status": user.account_status,
            "activeWorkspace": self.ws.id,
            "defaultWorkspace": self.ws.id,
            "profilePicture": "",
            "settings": {"dateFormat": "MM/DD/YYYY", "timeFormat": "HOUR12", "timeZone": "UTC",
                         "weekStart": user.week_start},
            "customFields": [
                {"customFieldId": fid, "customFieldName": self.ws.fields[fid].name,
                 "customFieldType": self.ws.fields[fid].type, "userId": user.id, "value": value}
                for fid, value in sorted(user.custom_values.items()) if fid in self.ws.fields
            ],
            "memberships": [],
        }
        if user.account_status == "LIMITED" and not user.email:
            if self.answers.limited_email_null:
                out["email"] = None
            else:
                del out["email"]  # a limited member has no email: the key is left out
        if memberships in ("WORKSPACE", "ALL"):
            membership: dict[str, Any] = {"userId": user.id, "targetId": self.ws.id, "membershipType": "WORKSPACE",
                                          "membershipStatus": user.membership_status}
            for key, amount in (("hourlyRate", user.hourly_rate), ("costRate", user.cost_rate)):
                if amount is not None:  # MembershipDtoV1: {amount, currency}; left out when not set
                    membership[key] = {"amount": amount, "currency": self.ws.currency}
            out["memberships"].append(membership)
        if memberships in ("USERGROUP", "ALL"):
            for group in self.ws.groups.values():
                if user.id in group.user_ids:
                    out["memberships"].append({"userId": user.id, "targetId": group.id,
                                               "membershipType": "USERGROUP", "membershipStatus": "ACTIVE"})
        if roles is not None:
            out["roles"] = self._roles_of(user.id, roles.get(user.id, []))
        return out

    def _roles_of(self, user_id: str, held: list[Role]) -> list[dict[str, Any]]:
        """The shape public sync code reads under include-roles=true (API-NOTES 7.4)."""
        by_role: dict[str, list[dict[str, Any]]] = {}
        if user_id == self.ws.owner_id:
            by_role["OWNER"] = []
        if user_id in self.ws.admin_ids:
            by_role.setdefault("WORKSPACE_ADMIN", []).append({"id": self.ws.id})
        for role in held:
            entity: dict[str, Any] = {"id": role.entity_id}
            if role.via_group:
                entity["source"] = None if self.answers.roles_source_null else {"type": "USER_GROUP"}
            by_role.setdefault(role.role, []).append(entity)
        return [{"role": name, "entities": entities} for name, entities in by_role.items()]

    def render_group(self, group: Group, managers: dict[str, list[str]] | None) -> dict[str, Any]:
        out: dict[str, Any] = {"id": group.id, "name": group.name, "workspaceId": self.ws.id,
                               "userIds": list(group.user_ids), "teamManagers": []}
        if managers is not None:
            out["teamManagers"] = [{"id": m, "name": self.ws.users[m].name}
                                   for m in managers.get(group.id, []) if m in self.ws.users]
        return out

    def render_field(self, f: CustomField) -> dict[str, Any]:
        return {"id": f.id, "name": f.name, "type": f.type, "entityType": f.entity_type, "status": f.status,
                "workspaceId": self.ws.id, "required": f.required, "onlyAdminCanEdit": False,
                "allowedValues": list(f.allowed_values), "placeholder": "", "description": "",
                "projectDefaultValues": []}

    def render_project(self, project: Project) -> dict[str, Any]:
        return {"id": project.id, "name": project.name, "workspaceId": self.ws.id, "archived": project.archived,
                "billable": False, "public": False, "template": False, "color": "#03A9F4", "note": "",
                "duration": "PT0S", "memberships": []}

    def render_workspace(self) -> dict[str, Any]:
        return {"id": self.ws.id, "name": self.ws.name, "features": list(self.ws.features),
                "featureSubscriptionType": "PRO" if self.ws.paid else "FREE",
                "hourlyRate": {"amount": 0, "currency": self.ws.currency},
                "costRate": {"amount": 0, "currency": self.ws.currency},
                "imageUrl": "", "memberships": []}

    def render_profile(self, user: User) -> dict[str, Any]:
        values = []
        for fid, value in sorted(user.custom_values.items()):
            f = self.ws.fields.get(fid)
            if f is None:
                continue
            values.append({"customFieldId": fid, "name": f.name, "type": f.type, "value": value,
                           "sourceType": "USER", "userId": user.id, "customField": self.render_field(f)})
        return {"email": user.email, "name": user.name, "imageUrl": "", "hasPassword": True,
                "hasPendingApprovalRequest": False, "workspaceNumber": 1, "weekStart": user.week_start,
                "workCapacity": user.work_capacity, "workingDays": list(user.working_days),
                "userCustomFieldValues": values}

    # ------------------------------------------------------------------ users

    def list_users(self, *, status: str = "ALL", email: str | None = None, name: str | None = None,
                   user_ids: set[str] | None = None, account_statuses: set[str] | None = None) -> list[User]:
        """Matching users in the API's default order (by email); rendered by the caller per page.

        Without ``account_statuses`` only ACTIVE, PENDING_EMAIL_VERIFICATION and NOT_REGISTERED
        accounts are listed (the spec): limited members are hidden unless LIMITED is asked for.
        """
        wanted = account_statuses or DEFAULT_ACCOUNT_STATUSES
        users = sorted(self.ws.users.values(), key=lambda u: (u.email.lower(), u.id))
        out = []
        for user in users:
            if user.account_status not in wanted:
                continue
            if status != "ALL" and user.membership_status != status:
                continue
            if email and email.lower() not in user.email.lower():
                continue
            if name and name.lower() not in user.name.lower():
                continue
            if user_ids is not None and user.id not in user_ids:
                continue
            out.append(user)
        return out

    def users_with_roles(self, roles: list[str]) -> set[str]:
        found: set[str] = set()
        for wanted in roles:
            if wanted == "OWNER":
                found.add(self.ws.owner_id)
            elif wanted == "WORKSPACE_ADMIN":
                found |= set(self.ws.admin_ids) | {self.ws.owner_id}  # users/info counts owners as admins
            else:
                found |= {r.user_id for r in self.ws.roles if r.role == wanted}
        return found

    def invite(self, email: str) -> None:
        email = email.strip()
        if not email or "@" not in email:
            raise _bad("email must be a valid address")
        if not self.ws.paid:
            raise EmulatorError(403, 403, "Adding users requires a paid subscription")
        if any(u.email.lower() == email.lower() for u in self.ws.users.values()):
            raise _bad("User with this email is already in the workspace")
        user = User(id=self.new_id(), email=email, name="", membership_status="PENDING",
                    account_status="NOT_REGISTERED")
        self.ws.users[user.id] = user
        self._changed()

    def set_status(self, caller_id: str, user_id: str, status: str) -> None:
        if status not in ("ACTIVE", "INACTIVE"):
            raise _bad("status must be ACTIVE or INACTIVE")
        user = self.user(user_id)
        if user_id == caller_id:
            raise EmulatorError(403, 403, "You cannot change your own status")
        if user_id == self.ws.owner_id:
            raise EmulatorError(403, 403, "The workspace owner cannot be deactivated")
        user.membership_status = status
        self._changed()

    def set_rate(self, user_id: str, rate: str, body: dict[str, Any]) -> dict[str, Any]:
        """A member's hourly or cost rate (setHourlyRateForUser / setCostRateForUser): ``amount`` an
        integer of hundredths, 0 to 2^31-1; ``since`` optional, yyyy-MM-ddThh:mm:ssZ. Answers the workspace."""
        user = self.user(user_id)
        amount = body.get("amount")
        if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= 2**31 - 1:
            raise _bad("amount must be a whole number of at least 0")
        since = body.get("since")
        if since is not None and (not isinstance(since, str) or not _RATE_SINCE.match(since)):
            raise _bad("since must be a date and time in yyyy-MM-ddThh:mm:ssZ format")
        if rate == "hourly-rate":
            user.hourly_rate = amount
        else:
            user.cost_rate = amount
        if since is not None:
            user.rates_since[rate] = since
        self._changed()
        return self.render_workspace()

    def managers_of(self, user_id: str) -> list[dict[str, Any]]:
        self.user(user_id)
        ids = sorted({r.user_id for r in self.ws.roles
                      if r.role == "TEAM_MANAGER" and not r.via_group and r.entity_id == user_id})
        return [self.render_user(self.ws.users[i]) for i in ids if i in self.ws.users]

    # ------------------------------------------------------------------ roles

    def _role(self, user_id: str, body: dict[str, Any]) -> Role:
        self.user(user_id)
        role = body.get("role")
        entity_id = body.get("entityId")
        source = body.get("sourceType")
        if role not in ROLES:
            raise _bad("role must be one of WORKSPACE_ADMIN, TEAM_MANAGER, PROJECT_MANAGER")
        if not isinstance(entity_id, str) or not entity_id:
            raise _bad("entityId must not be blank")
        if source not in (None, "USER_GROUP"):
            raise _bad("sourceType must be USER_GROUP")
        via_group = source == "USER_GROUP"
        if role == "TEAM_MANAGER":
            if via_group:
                self.group(entity_id)
            else:
                self.user(entity_id)
        if role == "PROJECT_MANAGER" and entity_id not in self.ws.projects:
            raise _bad("Project doesn't belong to Workspace")
        return Role(user_id, role, entity_id, via_group)

    def grant(self, user_id: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        role = self._role(user_id, body)
        if role.role == "WORKSPACE_ADMIN":
            if user_id in self.ws.admin_ids:
                raise _bad("User already has this role")
            self.ws.admin_ids.append(user_id)
            self._changed()
        elif role in self.ws.roles:
            if not self.answers.duplicate_add_ok:
                raise _bad("User already has this role")
        else:
            self.ws.roles.add(role)
            self._changed()
        rendered: dict[str, Any] = {"id": self.new_id(), "name": role.role}
        if role.via_group:
            rendered["source"] = {"id": role.entity_id, "type": "USER_GROUP"}
        return [{"userId": user_id, "workspaceId": self.ws.id, "role": rendered}]

    def revoke(self, user_id: str, body: dict[str, Any]) -> None:
        role = self._role(user_id, body)
        if role.role == "WORKSPACE_ADMIN":
            if user_id not in self.ws.admin_ids:
                raise _bad("User doesn't have this role")
            self.ws.admin_ids.remove(user_id)
        else:
            if role not in self.ws.roles:
                raise _bad("User doesn't have this role")
            self.ws.roles.discard(role)
        self._changed()

    # ------------------------------------------------------------------ profiles and custom fields

    def patch_profile(self, user_id: str, body: dict[str, Any], caller_id: str | None = None) -> dict[str, Any]:
        user = self.user(user_id)
        if user.id == self.ws.owner_id and self.answers.owner_profile_readonly and caller_id != user.id:
            raise EmulatorError(403, 403, "The workspace owner's profile can only be edited by the owner")
        if user.membership_status == "PENDING" and self.answers.pending_profile_readonly:
            raise EmulatorError(403, 403, "The profile of a user who has not joined the workspace cannot be edited")
        if "workCapacity" in body:
            capacity = body["workCapacity"]
            try:
                if not isinstance(capacity, str):
                    raise ValueError
                parse_duration(capacity)
            except ValueError:
                raise _bad("workCapacity must be an ISO-8601 duration") from None
        if "workingDays" in body:
            days = body["workingDays"]
            if not isinstance(days, list) or any(d not in DAYS for d in days):
                raise _bad("workingDays must be an array of day names")
            if len(set(days)) != len(days):
                raise _bad("workingDays must not name a day twice")
            if not days:
                raise _bad("workingDays must name at least one day")
        if "weekStart" in body and body["weekStart"] not in DAYS:
            raise _bad("weekStart must be a day name")
        updates = body.get("userCustomFields") or []
        if not isinstance(updates, list):
            raise _bad("userCustomFields must be an array")
        for item in updates:
            if not isinstance(item, dict) or item.get("customFieldId") not in self.ws.fields:
                raise _bad("Custom field doesn't belong to Workspace")
            self._check_value(self.ws.fields[item["customFieldId"]], item.get("value"))
            self._check_active(self.ws.fields[item["customFieldId"]], item.get("value"))
        # Validated everything: now apply, so a bad body changes nothing.
        answer_before = self.render_profile(user) if self.answers.profile_answer_stale else None
        kept = dict(user.custom_values)
        if self.answers.profile_patch_replaces:  # the body is the whole profile: what is not sent is cleared
            user.work_capacity = body.get("workCapacity", "PT0S")
            user.working_days = list(body.get("workingDays", []))
            user.week_start = body.get("weekStart", "MONDAY")
            user.custom_values = {}
        if "workCapacity" in body:
            user.work_capacity = body["workCapacity"]
        if "workingDays" in body:
            user.working_days = list(body["workingDays"])
        if "weekStart" in body:
            user.week_start = body["weekStart"]
        for item in updates:
            self._store_value(user, item["customFieldId"], item.get("value"), kept)
        self._changed()
        return answer_before or self.render_profile(user)

    def _check_value(self, f: CustomField, value: Any) -> None:
        """Refuse a value the field cannot hold (400/501), as Clockify types USER field values
        (API-NOTES 5: the JSON type per field type, dropdown values from ``allowedValues``)."""
        if value is None and self.answers.null_value_refused:
            raise _bad("value must not be null")
        if value is None and self.answers.null_value_kept:
            return  # read as "leave it": not a clear
        if value is None or value == "" or value == []:
            if f.required:
                raise _bad(f"Value of custom field '{f.name}' is required")
            return
        problem = _type_problem(f, value)
        if problem:
            raise _bad(f"Custom field '{f.name}' ({f.type}): {problem}")

    def _check_active(self, f: CustomField, value: Any) -> None:
        """Under ``inactive-value-refused``: refuse a value for an INACTIVE field (400/501)."""
        if self.answers.inactive_value_refused and f.status == "INACTIVE" and value not in (None, "", []):
            raise _bad(f"Custom field '{f.name}' is inactive")

    def _store_value(self, user: User, field_id: str, value: Any, kept: dict[str, Any]) -> None:
        """Set one USER field's value; null or "" clears it, unless null is read as "leave it"."""
        if value is None and self.answers.null_value_kept:
            if field_id in kept:
                user.custom_values[field_id] = kept[field_id]
        elif value is None or value == "":
            user.custom_values.pop(field_id, None)
        else:
            user.custom_values[field_id] = value

    def list_fields(self, entity_type: str | None, status: str | None, name: str | None) -> list[dict[str, Any]]:
        out = []
        for f in sorted(self.ws.fields.values(), key=lambda f: f.name.lower()):
            if entity_type and f.entity_type != entity_type:
                continue
            if status and f.status != status:
                continue
            if name and name.lower() not in f.name.lower():
                continue
            out.append(self.render_field(f))
        return out

    def create_field(self, body: dict[str, Any]) -> dict[str, Any]:
        name = body.get("name")
        ftype = body.get("type")
        if not isinstance(name, str) or not (2 <= len(name.strip()) <= 250):
            raise _bad("name must be between 2 and 250 characters")
        if ftype not in FIELD_TYPES:
            raise _bad("type must not be null")
        status = body.get("status", "VISIBLE")
        if status not in FIELD_STATUSES:
            raise _bad("invalid status")
        entity_type = body.get("entityType", "TIMEENTRY")
        if any(f.name.lower() == name.strip().lower() and f.entity_type == entity_type
               for f in self.ws.fields.values()):
            raise _bad("Custom field with this name already exists")
        if entity_type == "USER" and sum(f.entity_type == "USER" for f in self.ws.fields.values()) >= \
                self.answers.user_field_cap:
            raise EmulatorError(400, 4033, f"Workspace can have at most {self.answers.user_field_cap} user custom fields")
        active = ("VISIBLE", "INVISIBLE") if self.answers.invisible_fields_active else ("VISIBLE",)
        if entity_type == "USER" and status in active and sum(
                f.entity_type == "USER" and f.status in active for f in self.ws.fields.values()) >= ACTIVE_USER_FIELD_CAP:
            raise EmulatorError(400, 4033, f"Workspace can have at most {ACTIVE_USER_FIELD_CAP} active user custom fields")
        allowed = body.get("allowedValues") or []
        if not isinstance(allowed, list) or not all(isinstance(a, str) and a.strip() for a in allowed):
            raise _bad("allowedValues must be a list of non-blank strings")
        if ftype in ("DROPDOWN_SINGLE", "DROPDOWN_MULTIPLE") and not allowed:
            raise _bad("allowedValues must not be empty for a dropdown field")
        f = CustomField(id=self.new_id(), name=name.strip(), type=ftype, status=status, entity_type=entity_type,
                        allowed_values=list(allowed))
        self.ws.fields[f.id] = f
        self._changed()
        return self.render_field(f)

    def set_field_value(self, user_id: str, field_id: str, body: dict[str, Any]) -> dict[str, Any]:
        user = self.user(user_id)
        f = self.ws.fields.get(field_id)
        if f is None or f.entity_type != "USER":
            raise _bad("Custom field doesn't belong to Workspace")
        self._check_value(f, body.get("value"))
        self._check_active(f, body.get("value"))
        self._store_value(user, field_id, body.get("value"), dict(user.custom_values))
        self._changed()
        return {"customFieldId": f.id, "customFieldName": f.name, "customFieldType": f.type,
                "userId": user.id, "value": user.custom_values.get(field_id)}

    # ------------------------------------------------------------------ groups

    def list_groups(self, name: str | None) -> list[Group]:
        groups = sorted(self.ws.groups.values(), key=lambda g: (g.name.lower(), g.id))
        return [g for g in groups if not name or name.lower() in g.name.lower()]

    def _check_group_name(self, name: Any, exclude: str | None = None) -> str:
        if not isinstance(name, str) or not name.strip():
            raise _bad("name must not be blank")
        if len(name.encode("utf-16-le")) // 2 > GROUP_NAME_LIMIT:
            raise _bad(f"name size must be between 0 and {GROUP_NAME_LIMIT}")
        if any(g.name.lower() == name.strip().lower() and g.id != exclude for g in self.ws.groups.values()):
            raise _bad("User group with this name already exists")
        return name.strip()

    def create_group(self, body: dict[str, Any]) -> dict[str, Any]:
        group = Group(id=self.new_id(), name=self._check_group_name(body.get("name")))
        self.ws.groups[group.id] = group
        self._changed()
        return self.render_group(group, None)

    def rename_group(self, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        group = self.group(group_id)
        group.name = self._check_group_name(body.get("name"), exclude=group_id)
        self._changed()
        return self.render_group(group, None)

    def delete_group(self, group_id: str) -> dict[str, Any]:
        group = self.group(group_id)
        rendered = self.render_group(group, None)
        del self.ws.groups[group_id]
        self.ws.roles = {r for r in self.ws.roles if not (r.via_group and r.entity_id == group_id)}
        self._changed()
        return rendered

    def add_member(self, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        group = self.group(group_id)
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise _bad("userId must not be blank")
        self.user(user_id)
        if user_id in group.user_ids:
            if not self.answers.duplicate_add_ok:
                raise _bad("User is already a member of this group")
            return self.render_group(group, None)
        group.user_ids.append(user_id)
        self._changed()
        return self.render_group(group, None)

    def remove_member(self, group_id: str, user_id: str) -> dict[str, Any]:
        group = self.group(group_id)
        if user_id not in group.user_ids:
            if not self.answers.remove_nonmember_ok:
                raise _bad("User is not a member of this group")
            return self.render_group(group, None)  # live evidence: 200, the group unchanged
        group.user_ids.remove(user_id)
        self._changed()
        return self.render_group(group, None)

    # ------------------------------------------------------------------ holidays and policies

    def list_holidays(self) -> list[dict[str, Any]]:
        return [{"id": h.id, "name": h.name, "workspaceId": self.ws.id,
                 "datePeriod": {"startDate": h.start, "endDate": h.start}, "occursAnnually": True,
                 "everyoneIncludingNew": False, "automaticTimeEntryCreation": False,
                 "userGroupIds": list(h.user_group_ids), "userIds": list(h.user_ids)}
                for h in sorted(self.ws.holidays.values(), key=lambda h: h.id)]

    def list_policies(self, status: str) -> list[dict[str, Any]]:
        out = []
        for p in sorted(self.ws.policies.values(), key=lambda p: p.id):
            if status == "ACTIVE" and p.archived or status == "ARCHIVED" and not p.archived:
                continue
            out.append({"id": p.id, "name": p.name, "workspaceId": self.ws.id, "archived": p.archived,
                        "allowHalfDay": False, "allowNegativeBalance": False, "everyoneIncludingNew": False,
                        "timeUnit": "DAYS", "userGroupIds": list(p.user_group_ids), "userIds": list(p.user_ids),
                        "approve": {"requiresApproval": True, "teamManagers": True, "specificMembers": False,
                                    "userIds": []}})
        return out
