"""The workspace as ``apply`` sees it while it works, and its objects whole (snapshots).

``LiveView`` is a mutable view of a freshly read ``CurrentState``. After each successful write the
action's kind updates it (``Handler.effect``), so the view is always "the workspace as read, plus
what this run did": the expected state that verification compares with what the API shows after.

An object of the workspace is addressed by a ``Ref`` (its ``ObjectKind`` and an id or name key).
Each object kind has a typed ``Snapshot``, defined in the kind module that owns it and found here
by its ``object_kind``: the object whole, as a run saves it before its first write
(``before.json``), as verification expects and finds it (compared field by field), and as
``undo`` restores it.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Self, TypeVar

from pydantic import BaseModel, ConfigDict

from clocksync.model import (
    CurrentState,
    Member,
    MemberStatus,
    Profile,
    StatePart,
    email_key,
    name_key,
    pick_named,
)

if TYPE_CHECKING:
    from clocksync.kinds.base import Shown

P = TypeVar("P", bound=StatePart)


class ObjectKind(enum.StrEnum):
    """The kinds of workspace object a run saves, verifies and restores."""

    PROFILE = "profile"
    GROUP = "group"
    GROUP_NAME = "group-name"  # the groups carrying a name (a group a plan creates)
    USER = "user"  # a member's status and the roles they hold
    PROJECT = "project"
    FIELD = "field"
    MEMBER_EMAIL = "member-email"  # whether a member with this email exists (an invitation)
    RATES = "rates"


class Ref(NamedTuple):
    kind: ObjectKind
    ident: str  # an id, or a name or email key

    def text(self) -> str:
        return f"{self.kind.value}:{self.ident}"

    @classmethod
    def parse(cls, text: str) -> Ref | None:
        kind, _, ident = text.partition(":")
        try:
            return cls(ObjectKind(kind), ident)
        except ValueError:
            return None


class Snapshot(BaseModel):
    """An object whole. Subclasses set ``object_kind`` and ``read`` it from the view.

    Collections are sorted tuples (compared as sets by verification); a mapping field (a profile's
    custom fields) is compared key by key as ``name.key``.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    object_kind: ClassVar[ObjectKind]
    registry: ClassVar[dict[ObjectKind, type[Snapshot]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "object_kind" in cls.__dict__:
            Snapshot.registry[cls.object_kind] = cls

    @classmethod
    def read(cls, view: LiveView, ident: str) -> Self | None:
        """The object as the view shows it; None when it does not exist."""
        raise NotImplementedError

    @classmethod
    def read_all(cls, view: LiveView, idents: list[str]) -> dict[str, Snapshot | None]:
        return {ident: cls.read(view, ident) for ident in idents}

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        """A reviewer's name for the object: an email or a group name rather than an id."""
        return f"{cls.object_kind.value} {ident}"

    def mentions(self) -> Iterable[str]:
        """Ids of members and groups the snapshot names (resolved to emails and names for undo)."""
        return ()

    @classmethod
    def hides(cls, field: str, shown: Shown) -> bool:
        """Whether reports hide the values of ``field`` (a name of ``flat``): see ``kinds.base.Shown``."""
        return False

    def flat(self) -> dict[str, Any]:
        """Field name -> value, with mappings spread out as ``field.key`` (what verification compares)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, Mapping):
                out.update((f"{name}.{key}", sub) for key, sub in value.items())
            else:
                out[name] = value
        return out


def parse_snapshot(ref: Ref, data: Any) -> Snapshot | None:
    """A saved snapshot (``before.json``) read back as its type; None for no object or an unknown kind."""
    kind = Snapshot.registry.get(ref.kind)
    if kind is None or not data:
        return None
    return kind.model_validate(data)


@dataclass
class LiveGroup:
    id: str
    name: str
    member_ids: set[str]
    manager_ids: set[str]


@dataclass
class LiveView:
    members: dict[str, Member]
    member_ids_by_key: dict[str, str]
    groups: dict[str, LiveGroup]
    group_ids_by_key: dict[str, str]
    direct: dict[str, set[str]]  # user id -> direct TEAM_MANAGER holders
    projects: dict[str, set[str]]  # project id -> PROJECT_MANAGER holders
    fields: dict[str, str]  # field name key -> id
    field_names: dict[str, str]  # field id -> name
    profiles: MutableMapping[str, Profile]  # user id -> profile, for the users whose profile the run touches
    protected: set[str]
    untouchable: set[str]  # owner, the key's own user
    parts: dict[type[StatePart], StatePart] = field(default_factory=dict)  # kinds' own (CurrentState.parts)
    created: set[str] = field(default_factory=set)  # ids of objects this run created
    field_types: dict[str, str] = field(default_factory=dict)  # field id -> type (TXT, NUMBER, ...)
    field_allowed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field id -> a dropdown's allowed values
    sensitive: frozenset[str] = frozenset()  # name keys of fields whose values messages do not show
    limited: dict[str, str] = field(default_factory=dict)  # limited member id -> name (never managed)
    shared_field_keys: set[str] = field(default_factory=set)  # name keys two or more fields have

    @classmethod
    def from_state(cls, state: CurrentState, extra_protected: Iterable[str] = ()) -> LiveView:
        """A view of ``state``, from the indexes built once on it."""
        groups = {g.id: LiveGroup(g.id, g.name, set(g.member_ids), set(state.group_managers.get(g.id, ())))
                  for g in state.groups.values()}
        return cls(
            members=dict(state.members),
            member_ids_by_key={key: m.id for key, m in state.members_by_key.items()},
            groups=groups,
            group_ids_by_key={key: found[0].id for key, found in state.groups_by_key.items()},
            direct={uid: set(holders) for uid, holders in state.direct_managers.items()},
            projects={pid: set(holders) for pid, holders in state.project_managers.items()},
            fields={key: f.id for key, f in state.fields_by_key.items()},
            field_names={f.id: f.name for f in state.fields.values()},
            profiles=dict(state.profiles),
            protected=set(state.protected) | set(extra_protected),
            untouchable=set(state.owner_ids) | {state.self_id},
            parts={kind: part.copy() for kind, part in state.parts.items()},
            field_types={f.id: f.type for f in state.fields.values()},
            field_allowed={f.id: tuple(f.allowed_values) for f in state.fields.values() if f.allowed_values},
            limited={m.id: m.display_name for m in state.limited.values()},
            shared_field_keys={k for k, n in Counter(name_key(f.name) for f in state.fields.values()).items() if n > 1},
        )

    def part(self, kind: type[P]) -> P | None:
        """What a kind keeps of its own in the view (a copy of ``CurrentState.part``)."""
        found = self.parts.get(kind)
        return found if isinstance(found, kind) else None

    # ------------------------------------------------------------------ resolution

    def group_for(self, group_id: str | None, name: str) -> LiveGroup | None:
        """The group by id, or (for a group this plan creates) by name."""
        if group_id is not None:
            return self.groups.get(group_id)
        gid = self.group_ids_by_key.get(name_key(name))
        return self.groups.get(gid) if gid else None

    def user_named(self, user_id: str, email: str) -> str | None:
        """What is wrong when ``user_id`` is a member with another email than ``email`` (None when it is
        that member, or no member at all: a verdict judges a user who left)."""
        member = self.members.get(user_id)
        if member is None or member.key == email_key(email):
            return None
        return f"user id {user_id} is {member.email} in the workspace, the plan names {email}"

    def group_named(self, group_id: str | None, name: str) -> str | None:
        """What is wrong when ``group_id`` is a group with another name than ``name`` (None when it is that
        group, no group at all, or the plan names the group by name only)."""
        group = self.groups.get(group_id) if group_id is not None else None
        if group is None or name_key(group.name) == name_key(name):
            return None
        return f"group id {group_id} is {group.name!r} in the workspace, the plan names {name!r}"

    def field_id(self, name: str) -> str | None:
        """The id of the USER field ``name`` means: the one named exactly so, else the one field whose
        name key is the name's (``model.pick_named``); None when there is none. Raises AmbiguousName."""
        key = name_key(name)
        found = self.fields.get(key)
        if found is None or key not in self.shared_field_keys:
            return found
        return pick_named(name, sorted(self.field_names.items()))

    def field_type(self, field_id: str) -> str:
        """A field's type; a field this run created is TXT (what clocksync creates)."""
        return self.field_types.get(field_id, "TXT")

    def member_status(self, user_id: str) -> MemberStatus | None:
        member = self.members.get(user_id)
        return member.status if member else None

    def email_of(self, user_id: str) -> str:
        member = self.members.get(user_id)
        return member.email if member else self.limited.get(user_id, user_id)

    def name_of(self, ident: str) -> str:
        """An id as a reviewer recognises it: a member's email (a limited member's name), a group's
        name, else the id."""
        if ident in self.members or ident in self.limited:
            return self.email_of(ident)
        group = self.groups.get(ident)
        return group.name if group else ident

    def note_invited(self, email: str) -> None:
        self.member_ids_by_key[email_key(email)] = f"invited:{email_key(email)}"

    # ------------------------------------------------------------------ whole objects

    def snapshots(self, refs: Iterable[Ref]) -> dict[Ref, Snapshot | None]:
        """Each object whole; None for an object that does not exist."""
        by_kind: dict[ObjectKind, list[str]] = {}
        for ref in dict.fromkeys(refs):
            by_kind.setdefault(ref.kind, []).append(ref.ident)
        found: dict[Ref, Snapshot | None] = {}
        for kind, idents in by_kind.items():
            found.update((Ref(kind, i), snap) for i, snap in Snapshot.registry[kind].read_all(self, idents).items())
        return found

    def names_of(self, snapshots: Mapping[Ref, Snapshot | None]) -> dict[str, str]:
        """Every member and group id the snapshots mention, with its email or group name."""
        ids = {ref.ident for ref in snapshots}
        for snap in snapshots.values():
            if snap is not None:
                ids.update(snap.mentions())
        names = {i: self.email_of(i) for i in ids if i in self.members or i in self.limited}
        names.update({i: self.groups[i].name for i in ids if i in self.groups})
        return dict(sorted(names.items()))

    def describe(self, ref: Ref) -> str:
        return Snapshot.registry[ref.kind].describe(self, ref.ident)
