"""What every resource kind provides: its plan actions (data) and its handler (behaviour at apply).

An ``Action`` is one typed change in a plan, discriminated by ``kind``. It says what it expects to
find (its precondition) and what it sets, which lets ``apply`` tell "already in place" from
"ready" from "stale". It also carries what rendering needs (section, heading, one-line text,
sign) and what the audit trail shows (``audit``), so neither needs to know the kind.

A ``Handler`` holds the apply-time behaviour of one kind: which workspace objects an action
touches, its verdict against the live view, the write, the write's effect on the view, and how
to find what a write created when its outcome had to be settled by re-reading. The executor
only schedules, settles and records.

``identity`` is what makes two actions the same change; the action id is derived from it, so ids
are stable across plans of the same change.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from clocksync.apply.view import LiveView, Ref, Snapshot
    from clocksync.clockify.client import ClockifyClient

# Phases run in this order. "updates" is additive (make before break: a user never goes without
# a manager in between), "cleanup" subtractive; the step orders kinds inside a phase.
PHASES = ("updates", "cleanup")

Section = Literal["fields", "users", "groups"]


class Change(BaseModel):
    """One value an action changes: what the plan expected to find, and what it sets."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    before: str | None
    after: str | None


class FieldChange(BaseModel):
    """A custom field's value an action changes, as the JSON the API holds for the field's type
    (``fieldvalues.FieldValue``: text, a number, a boolean, a list of dropdown values; None: unset)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    before: str | bool | int | float | list[str] | None
    after: str | bool | int | float | list[str] | None


@dataclass(frozen=True)
class ValueChange:
    """A field of a user that an action overwrites (for the mass field-change guard)."""

    field: str
    before: Any
    after: Any


class Action(BaseModel):
    """Base of every plan action. Subclasses set ``kind`` (a Literal) and the class variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    depends_on: tuple[str, ...] = ()
    reason: str = ""

    phase: ClassVar[str] = "updates"
    step: ClassVar[int] = 0
    order: ClassVar[int] = 0  # order of kinds within a step, for a deterministic plan
    sign: ClassVar[str] = "+"  # + add, ~ change, - remove
    destructive: ClassVar[bool] = False
    section: ClassVar[Section] = "users"
    creates_entry: ClassVar[bool] = False  # creates what it is listed under (a new group): shown in the heading
    counts_as: ClassVar[str | None] = None  # the mass-change threshold this action counts against

    registry: ClassVar[dict[str, type[Action]]] = {}

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        kind_field = cls.model_fields.get("kind")
        if kind_field is not None and isinstance(kind_field.default, str):
            Action.registry[kind_field.default] = cls

    @property
    def kind_name(self) -> str:
        return str(getattr(self, "kind"))  # noqa: B009

    @property
    def identity(self) -> str:
        raise NotImplementedError

    @property
    def target(self) -> str:
        """What a reviewer recognises: an email or a group name."""
        raise NotImplementedError

    @property
    def heading(self) -> str:
        """The entry of its section this action is listed under (a user's email, a group's name)."""
        return self.target

    @property
    def subjects(self) -> tuple[str, ...]:
        """Emails of the users this action is about (for scoped plans and per-user rendering)."""
        return ()

    def describe(self) -> str:
        """One sentence a reviewer reads on its own."""
        raise NotImplementedError

    def line(self) -> str:
        """The short form shown under the action's heading."""
        return self.describe()

    def audit(self) -> tuple[str, str]:
        """The value the action expects and the one it sets, as the audit log shows them."""
        return "absent", "present"

    def provides(self) -> tuple[str, ...]:
        """Keys of what this action creates, for actions that need it (see ``needs``)."""
        return ()

    def needs(self) -> tuple[str, ...]:
        """Keys of what must be created before this action can run."""
        return ()

    def removes(self) -> tuple[str, ...]:
        """Keys of what this action deletes (``group-id:<id>``), for undo."""
        return ()

    def gives(self) -> tuple[str, ...]:
        """Keys of what this action secures, which actions that ``take`` the same key wait for: an
        addition gives a user their new group or manager (``user:<id>``) or a group or project its
        new manager (``managers:<kind>:<id or new|name>``); a removal from a group gives that the
        group's manager role no longer has to cover the member (``managers:group:<id>``)."""
        return ()

    def takes(self) -> tuple[str, ...]:
        """Keys (as ``gives``) of whom this subtractive action takes something from. It runs only
        after every action that gives the same key succeeded (make before break, even when a step
        fails: ``plan.diff.link_needs``)."""
        return ()

    def value_changes(self) -> tuple[ValueChange, ...]:
        return ()

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        """Actions that take this one back, given the run that applied it, and notes for the reviewer.

        Their preconditions are this action's after-values, so an undo is stale-checked like any plan.
        """
        return [], [f"{self.describe()}: cannot be undone through the API"]

    def model_post_init(self, context: Any) -> None:
        """An action made without an id gets the one derived from its identity (read ones keep theirs)."""
        if not self.id:
            digest = hashlib.sha256(self.identity.encode()).hexdigest()[:10]
            object.__setattr__(self, "id", f"{self.kind_name}-{digest}")

    def with_id(self) -> Action:
        """The action with its id (every action has it from construction; kept for readability)."""
        return self

    def sort_key(self) -> tuple[int, int, int, str, str, str]:
        """Deterministic order: phase, step, kind, target, what it does, id."""
        return (PHASES.index(self.phase), self.step, self.order, self.target.casefold(),
                self.describe().casefold(), self.id)


@dataclass
class UndoContext:
    """What an apply run left behind that its actions' inverses need (``clocksync undo``)."""

    before: dict[str, Any]  # ref text -> the object whole, as read before the run's first write
    names: dict[str, str]  # id -> email or group name, for the ids those objects mention
    created: dict[str, str]  # action id -> id of what it created
    created_groups: dict[str, str | None]  # name key -> id of a group the run created (None: id unknown)
    deleted_groups: set[str]  # ids of groups the run deleted
    actions: list[Action]  # the run's actions that wrote (or may have written)

    def snapshot(self, kind: str, ident: str) -> Any:
        return self.before.get(f"{kind}:{ident}")

    def group_snapshot(self, group_id: str | None, name: str) -> tuple[str | None, Any]:
        """A group as it was before the run, by id, else by name."""
        if group_id is not None and self.snapshot("group", group_id):
            return group_id, self.snapshot("group", group_id)
        from clocksync.model import name_key

        for ref, snap in self.before.items():
            if ref.startswith("group:") and snap and name_key(snap.get("name", "")) == name_key(name):
                return ref.split(":", 1)[1], snap
        return group_id, None

    def group_id(self, group_id: str | None) -> str | None:
        """The id to address a group by in the undo plan: None (by name) if the run deleted it."""
        return None if group_id in self.deleted_groups else group_id

    def name(self, ident: str) -> str:
        return self.names.get(ident, ident)


class UserAction(Action):
    """An action about one user, named by email (a profile, a status, an invitation)."""

    email: str

    @property
    def target(self) -> str:
        return self.email

    @property
    def subjects(self) -> tuple[str, ...]:
        return (self.email,)


# ---------------------------------------------------------------------- apply-time behaviour


class State(enum.Enum):
    DONE = "done"  # already at the target
    READY = "ready"  # at the value the plan expected: apply
    STALE = "stale"  # anything else: changed since the plan, do not overwrite


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str = ""


READY = Verdict(State.READY)


def done(reason: str) -> Verdict:
    return Verdict(State.DONE, reason)


def stale(reason: str) -> Verdict:
    return Verdict(State.STALE, reason)


@dataclass
class Answer:
    """What a successful write taught: the id of what it created, and objects the API returned whole."""

    created_id: str | None = None
    observed: dict[Ref, Snapshot | None] = field(default_factory=dict)


A = TypeVar("A", bound=Action)


class Handler(Generic[A]):
    """Apply-time behaviour of the actions in ``handles``."""

    handles: ClassVar[tuple[type[Action], ...]] = ()
    registry: ClassVar[dict[type[Action], Handler[Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for action_type in cls.handles:
            Handler.registry[action_type] = cls()

    def touches(self, action: A, view: LiveView) -> tuple[Ref, ...]:
        """The workspace objects the action changes (saved before the run, verified after)."""
        raise NotImplementedError

    def misnamed(self, action: A, view: LiveView) -> list[str]:
        """Where an id of the action is another user or group in the workspace than the email or name
        the plan shows for it (checked for every action before any write: a plan whose ids and names
        disagree does not say what it would do)."""
        return []

    def verdict(self, action: A, view: LiveView) -> Verdict:
        raise NotImplementedError

    async def write(self, action: A, view: LiveView, client: ClockifyClient) -> Answer:
        """Send the write. Raises ClockifyError; the executor settles what that means."""
        raise NotImplementedError

    def effect(self, action: A, view: LiveView, created_id: str | None) -> None:
        """Make the view show the action as done (after a write, or a re-read that confirmed it)."""
        raise NotImplementedError

    def created_in(self, action: A, view: LiveView) -> str | None:
        """For a create confirmed by re-reading: the id of what it created."""
        return None

    def profiles_to_reread(self, action: A) -> tuple[str, ...]:
        """Member profiles a re-read must fetch to judge this action (lists are always re-read)."""
        return ()

    def may_lag(self, action: A, view: LiveView) -> bool:
        """Whether a refusal may be the API not yet knowing an object this run just created."""
        return False
