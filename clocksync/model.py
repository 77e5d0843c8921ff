"""Domain types: the workspace as clocksync sees it, and the desired state from the CSV.

Identity is kept apart from value: users match by ``email_key`` (the trimmed email in any case);
groups, custom fields, action identities and config lookups all use ``name_key`` (whitespace
collapsed, in any case). Both keys are the one caseless form ``chars.caseless``: NFC, without the
characters shown as nothing, in any letter case (Turkish dotted and dotless i included), so text
that looks the same is the same ("José" typed or composed, "Jane Smith" with a zero-width space,
"TÜRKİYE" and "Türkiye"). The comparable text of custom field values (``value_text``) is NFC; an
invisible character in a value is a difference, which the plan shows escaped and marks.
All types are frozen.
"""

from __future__ import annotations

import enum
import unicodedata
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from clocksync.chars import caseless, without_invisible

if TYPE_CHECKING:
    from clocksync.clockify.schemas import WireUser


class RoleName(enum.StrEnum):
    """The manager roles clocksync reads and writes (API-NOTES 7)."""

    TEAM_MANAGER = "TEAM_MANAGER"
    PROJECT_MANAGER = "PROJECT_MANAGER"


TEAM_MANAGER = RoleName.TEAM_MANAGER
PROJECT_MANAGER = RoleName.PROJECT_MANAGER


def _nfc(text: str) -> str:
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def email_key(email: str) -> str:
    """The key users match by: the address without surrounding whitespace or invisible characters,
    matched in any letter case (``chars.caseless``: ``Carol@Example.com\u200b`` and the Turkish
    ``CAROL@EXAMPLE.COM`` with a dotted ``İ`` are ``carol@example.com``)."""
    if email.isascii():
        return email.strip().lower()
    return caseless(email).strip()


def name_key(name: str) -> str:
    """The one key for names of groups, fields and countries: whitespace of any kind collapsed,
    matched in any letter case as ``email_key`` is (``chars.caseless``: ``TÜRKİYE`` is ``Türkiye``,
    ``STRASSE`` is ``Straße``)."""
    if name.isascii():
        return " ".join(name.split()).casefold()
    return " ".join(caseless(name).split())


T = TypeVar("T")


class AmbiguousName(ValueError):
    """Two or more objects fit one name equally; ``names`` holds theirs."""

    def __init__(self, name: str, names: Sequence[str]) -> None:
        super().__init__(f"{name!r} could be any of {', '.join(repr(n) for n in names)}")
        self.name = name
        self.names = tuple(names)


def pick_named(name: str, named: Iterable[tuple[T, str]]) -> T | None:
    """What ``name`` means among ``(object, its name)`` pairs: the one named exactly so (in NFC), else
    the one whose ``name_key`` is the name's; None when none is. Raises AmbiguousName when two are
    named exactly so, or when none is and two share the key ("Global ID" and "global id" for
    "Global Id"): a write never goes to a field the plan did not name exactly."""
    exact: list[tuple[T, str]] = []
    keyed: list[tuple[T, str]] = []
    wanted, key = _nfc(name), name_key(name)
    for item, item_name in named:
        if _nfc(item_name) == wanted:
            exact.append((item, item_name))
        elif name_key(item_name) == key:
            keyed.append((item, item_name))
    found = exact or keyed
    if len(found) > 1:
        raise AmbiguousName(name, [n for _, n in found])
    return found[0][0] if found else None


def value_text(value: Any) -> str | None:
    """A custom field value as the text clocksync compares: None and "" mean unset."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = _nfc(str(value).strip())
    return text or None


class MemberStatus(enum.StrEnum):
    """A member's status in this workspace (API-NOTES 3.3), not the account status."""

    ACTIVE = "ACTIVE"
    PENDING = "PENDING"
    INACTIVE = "INACTIVE"
    DECLINED = "DECLINED"
    UNKNOWN = "UNKNOWN"  # a value the API sent that clocksync does not know: reported, never acted on

    @classmethod
    def parse(cls, text: str | None) -> MemberStatus:
        try:
            return cls(str(text or "").upper())
        except ValueError:
            return cls.UNKNOWN

    @property
    def manageable(self) -> bool:
        """Profiles, groups and roles are kept for members in these states."""
        return self in (MemberStatus.ACTIVE, MemberStatus.PENDING)


# ---------------------------------------------------------------------- desired (the CSV)


V = TypeVar("V")
NOTHING: Mapping[Any, Any] = MappingProxyType({})  # one shared empty mapping (rows without fields or values)


@dataclass(frozen=True, slots=True)
class UserSpec:
    """One CSV row: who a user should be. ``fields`` maps custom field name -> value.

    ``values`` holds what the kinds read from the row's other columns, by the class that read it
    (``clocksync.columns.RowValue``): ``spec.value(Schedule)``.
    """

    key: str
    email: str
    row: int
    manager_key: str | None = None
    capacity_seconds: int | None = None
    fields: Mapping[str, str] = field(default_factory=lambda: NOTHING)
    country: str | None = None
    start: str | None = None  # ISO date the user starts (effective dating); None: already started
    end: str | None = None  # ISO date the user leaves; None: no end
    values: Mapping[type, object] = field(default_factory=lambda: NOTHING)

    def value(self, kind: type[V]) -> V | None:
        """What ``kind`` read from this row; None when its columns were blank or absent."""
        found = self.values.get(kind)
        # By exact class (each value is stored under the class that read it, load/desired.py): the
        # rules ask this per row, and isinstance against an ABC costs several times more.
        return found if found is None or type(found) is kind else None


@dataclass(frozen=True, slots=True)
class CleanedCell:
    """A cell read differently from its bytes, as a person sees it: ``cell`` is the cell as stored
    and ``read_as`` what clocksync read, both with invisible characters shown escaped
    (``'carol@example.com\\u200b'``); ``changes`` says what was removed or changed."""

    row: int
    column: str
    cell: str
    read_as: str
    changes: tuple[str, ...]

    def text(self) -> str:
        return f"row {self.row}, column {self.column!r}: {self.cell} read as {self.read_as} ({'; '.join(self.changes)})"


@dataclass(frozen=True)
class DesiredState:
    """The users file as read. ``sheet``: the worksheet of a workbook; ``cleaned``: the cells
    read differently from their bytes (what was removed), for the plan."""

    users: MappingProxyType[str, UserSpec]
    source: str
    sha256: str
    sheet: str | None = None
    cleaned: tuple[CleanedCell, ...] = ()

    @cached_property
    def countries(self) -> frozenset[str]:
        return frozenset(name_key(u.country) for u in self.users.values() if u.country)

    @cached_property
    def manager_keys(self) -> frozenset[str]:
        return frozenset(u.manager_key for u in self.users.values() if u.manager_key)


# ---------------------------------------------------------------------- current (the workspace)


@dataclass(frozen=True, slots=True)
class Member:
    id: str
    email: str
    name: str
    status: MemberStatus
    status_text: str = ""  # what the API said, when clocksync did not know it
    key: str = field(init=False, repr=False, compare=False)  # the email key, worked out once

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", email_key(self.email))

    @classmethod
    def read(cls, id: str, email: str, name: str, status: str | None) -> Member:
        """A member from the API's words; a status clocksync does not know is kept as text."""
        parsed = MemberStatus.parse(status)
        return cls(id, email, name, parsed, str(status or "") if parsed is MemberStatus.UNKNOWN else "")

    @property
    def shown_email(self) -> str:
        """The address as a person sees it: without invisible characters or surrounding whitespace,
        in NFC. Differs from ``email`` for an account an earlier tool invited with such characters."""
        if self.email.isascii() and self.email.isprintable() and self.email == self.email.strip():
            return self.email
        return _nfc(without_invisible(self.email).strip())

    @property
    def display_name(self) -> str:
        return self.name.strip() or self.email.strip()

    @property
    def active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


@dataclass(frozen=True, slots=True, order=True)
class RoleGrant:
    """``holder_id`` holds ``role`` over ``entity_id`` (a user, or a group when ``via_group``)."""

    holder_id: str
    role: str
    entity_id: str
    via_group: bool = False


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    member_ids: frozenset[str] = frozenset()
    key: str = field(init=False, repr=False, compare=False)  # the name key, worked out once

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", name_key(self.name))


@dataclass(frozen=True, slots=True)
class CustomField:
    """A USER custom field: its type (``fieldvalues.FieldType``), status (VISIBLE, INVISIBLE or
    INACTIVE), the values a dropdown allows, and whether a value is required."""

    id: str
    name: str
    type: str = "TXT"
    status: str = "VISIBLE"
    allowed_values: tuple[str, ...] = ()
    required: bool = False

    @property
    def active(self) -> bool:
        """Not INACTIVE (VISIBLE or INVISIBLE): what clocksync counts against the workspace's cap of
        active fields, the stricter of the two readings (docs/live-api.md)."""
        return self.status != "INACTIVE"


@dataclass(frozen=True, slots=True)
class LimitedMember:
    """A limited member (a kiosk user: no email, account status LIMITED). Outside clocksync's
    management: never matched, moved, verified against or deactivated; listed to be counted,
    named, and told apart from ids clocksync cannot place."""

    id: str
    name: str
    email: str = ""  # a LIMITED account may be listed with one: still not managed

    @property
    def display_name(self) -> str:
        return f"{self.name.strip() or self.id} (limited member)"


@dataclass(frozen=True, slots=True)
class Profile:
    """A member profile as clocksync reads and writes it: every USER custom-field value (raw, as the
    API sent it, so values clocksync does not manage are written back unchanged), the work
    capacity, and the working days and week start (sent back as they are on every write).
    """

    capacity_seconds: int | None
    capacity_text: str | None
    raw: MappingProxyType[str, Any]  # custom field id -> value as sent by the API (USER-sourced only)
    # What the user sees per field id, as the API sent it (workspace defaults included): what the
    # plan compares by value (``fieldvalues.same``). ``raw`` when not given.
    shown: MappingProxyType[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    working_days: tuple[str, ...] | None = None
    week_start: str | None = None

    def __post_init__(self) -> None:
        if not self.shown and self.raw:
            object.__setattr__(self, "shown", self.raw)


class StatePart(ABC):
    """What a kind reads of the workspace for itself, from the users list (no request of its own):
    kept on ``CurrentState.parts`` and, as a copy the run changes, on the live view."""

    registry: ClassVar[list[type[StatePart]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        StatePart.registry.append(cls)

    @classmethod
    @abstractmethod
    def read(cls, users: Sequence[WireUser], workspace_id: str) -> Self:
        """The part, from the users list as read (``memberships=WORKSPACE``)."""

    @abstractmethod
    def copy(self) -> Self:
        """A copy the live view may change."""


P = TypeVar("P", bound="StatePart")


@dataclass(frozen=True)
class CurrentState:
    """The workspace as read. ``protected`` maps a group id to why it is protected.

    ``roles_unknown`` holds the ids of members whose roles could not be read in a shape clocksync
    understands: what they manage is not known, so they are never deactivated. ``limited`` holds
    the limited members (no email), apart from ``members``: clocksync never manages them. ``parts``
    holds what a kind reads of the workspace for itself (member rates), by its class:
    ``state.part(MemberRates)``.

    The indexes below are built once, on first use, and read by the differ, the live view and export.
    """

    workspace_id: str
    self_id: str
    owner_ids: frozenset[str]
    members: MappingProxyType[str, Member]
    roles: frozenset[RoleGrant]
    groups: MappingProxyType[str, Group]
    fields: MappingProxyType[str, CustomField]
    profiles: MappingProxyType[str, Profile]
    protected: MappingProxyType[str, tuple[str, ...]]
    warnings: tuple[str, ...] = ()
    roles_unknown: frozenset[str] = frozenset()
    parts: Mapping[type[StatePart], StatePart] = field(default_factory=lambda: MappingProxyType({}))
    limited: MappingProxyType[str, LimitedMember] = field(default_factory=lambda: MappingProxyType({}))
    project_names: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))  # for handovers

    def part(self, kind: type[P]) -> P | None:
        found = self.parts.get(kind)
        return found if isinstance(found, kind) else None

    @cached_property
    def members_by_key(self) -> Mapping[str, Member]:
        """Members by email key. When a workspace holds an address twice (``load.current.address_warnings``
        reports it), the member whose address is as it is shown wins over one holding invisible
        characters, then the first by id."""
        index: dict[str, Member] = {}
        for member in sorted(self.members.values(), key=lambda m: (m.email != m.shown_email, m.id)):
            index.setdefault(member.key, member)
        return MappingProxyType(index)

    @cached_property
    def fields_by_key(self) -> Mapping[str, CustomField]:
        """USER custom fields by name key; the first by id wins."""
        index: dict[str, CustomField] = {}
        for f in sorted(self.fields.values(), key=lambda f: f.id):
            index.setdefault(name_key(f.name), f)
        return MappingProxyType(index)

    @cached_property
    def groups_by_key(self) -> Mapping[str, tuple[Group, ...]]:
        """Groups by name key, each list by id (a workspace may hold a name twice)."""
        index: dict[str, list[Group]] = defaultdict(list)
        for group in sorted(self.groups.values(), key=lambda g: g.id):
            index[group.key].append(group)
        return MappingProxyType({k: tuple(v) for k, v in index.items()})

    @cached_property
    def groups_of(self) -> Mapping[str, tuple[Group, ...]]:
        """The groups each user is in, by name key then id."""
        index: dict[str, list[Group]] = defaultdict(list)
        for group in sorted(self.groups.values(), key=lambda g: (g.key, g.id)):
            for member_id in group.member_ids:
                index[member_id].append(group)
        return MappingProxyType({k: tuple(v) for k, v in index.items()})

    @cached_property
    def roles_by_holder(self) -> Mapping[str, tuple[RoleGrant, ...]]:
        """Every role by the member holding it, sorted."""
        index: dict[str, list[RoleGrant]] = defaultdict(list)
        # A tuple key: sorting the dataclasses themselves calls a Python-level __lt__ per comparison.
        for grant in sorted(self.roles, key=lambda g: (g.holder_id, g.role, g.entity_id, g.via_group)):
            index[grant.holder_id].append(grant)
        return MappingProxyType({k: tuple(v) for k, v in index.items()})

    @cached_property
    def _holders(self) -> tuple[Mapping[str, tuple[str, ...]], ...]:
        groups: dict[str, list[str]] = defaultdict(list)
        direct: dict[str, list[str]] = defaultdict(list)
        projects: dict[str, list[str]] = defaultdict(list)
        for grant in self.roles:
            if grant.role == TEAM_MANAGER:
                (groups if grant.via_group else direct)[grant.entity_id].append(grant.holder_id)
            elif grant.role == PROJECT_MANAGER:
                projects[grant.entity_id].append(grant.holder_id)
        # Sorted tuples of ids: one per user at most, and (unlike a set) the collector untracks them.
        return tuple(MappingProxyType({k: tuple(sorted(set(v))) for k, v in index.items()})
                     for index in (groups, direct, projects))

    @property
    def group_managers(self) -> Mapping[str, tuple[str, ...]]:
        """Group id -> the members holding TEAM_MANAGER over the group (ids, sorted)."""
        return self._holders[0]

    @property
    def direct_managers(self) -> Mapping[str, tuple[str, ...]]:
        """User id -> the members holding TEAM_MANAGER directly over the user (ids, sorted)."""
        return self._holders[1]

    @property
    def project_managers(self) -> Mapping[str, tuple[str, ...]]:
        """Project id -> the members holding PROJECT_MANAGER over it (ids, sorted)."""
        return self._holders[2]
