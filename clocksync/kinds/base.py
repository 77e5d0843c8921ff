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
import json
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Generic, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict

from clocksync.kinds.live import LiveView, Ref, Snapshot
from clocksync.model import name_key

if TYPE_CHECKING:
    from clocksync.clockify.client import ClockifyClient
    from clocksync.config import Config, ConfigKey
    from clocksync.model import CurrentState, Member
    from clocksync.plan.context import Emit, PlanContext

class Phase(enum.StrEnum):
    """Phases run in this order. UPDATES is additive (make before break: a user never goes without a
    manager in between), CLEANUP subtractive; ``Action.step`` orders kinds inside a phase."""

    UPDATES = "updates"
    CLEANUP = "cleanup"


PHASES = tuple(Phase)


class Section(enum.StrEnum):
    """Where a reviewer finds an action in a report."""

    FIELDS = "fields"
    USERS = "users"
    GROUPS = "groups"


class Sign(enum.StrEnum):
    """What an action does to what it is listed under."""

    ADD = "+"
    CHANGE = "~"
    REMOVE = "-"

    @property
    def role(self) -> str:
        """The word reports filter and colour by: add, change or remove."""
        return self.name.lower()


class Counts(enum.StrEnum):
    """The mass-change threshold an action counts against."""

    DEACTIVATION = "deactivation"
    GROUP_DELETION = "group_deletion"
    MEMBERSHIP_REMOVAL = "membership_removal"


class KeyKind(enum.StrEnum):
    """What a dependency key names (``Action.provides`` / ``needs`` / ``removes``)."""

    FIELD = "field"  # a USER custom field a plan creates, by name key
    GROUP = "group"  # a group a plan creates, by name key
    GROUP_ID = "group-id"  # a group a plan deletes, by id
    TAKEN_FROM = "taken-from"  # a user loses a group membership or a role, by user id
    ACTIVE = "active"  # a user is reactivated (an undo), by user id: what is given back to them waits
    # Failure containment (make before break even when a step fails): what takes a group or manager
    # from a user waits for what gives them their new one (USER, by user id); a group's or project's
    # old manager loses the role after the new one has it and its leaving members have left
    # (MANAGERS, by "group:<id>", "group:new|<name key>" or "project:<id>").
    USER = "user"
    MANAGERS = "managers"


class Key(NamedTuple):
    kind: KeyKind
    ident: str


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
    """A value of a user that an action overwrites (for the mass field-change guard). ``sensitive``:
    always hidden in reports (a rate); a custom field is hidden when ``sensitive_fields`` names it."""

    field: str
    before: Any
    after: Any
    sensitive: bool = False


@dataclass(frozen=True)
class Shown:
    """What reports show of sensitive values. Rates are always sensitive, custom fields when the
    config's ``sensitive_fields`` names them (``fields``: their name keys): a report says that such
    a value changes, not the values, unless ``reveal`` (``clocksync show --show-sensitive``). The
    plan file and the audit CSV keep every value."""

    reveal: bool = False
    fields: frozenset[str] = frozenset()

    def hides(self, field: str | None = None) -> bool:
        """Whether a value is hidden: a custom field's by its name, else (None) an always-sensitive one."""
        if self.reveal:
            return False
        return field is None or name_key(field) in self.fields


HIDDEN = Shown()  # what a report shows when it does not know the plan's sensitive fields: rates hidden
REVEALED = Shown(reveal=True)


class Action(BaseModel):
    """Base of every plan action. Subclasses set ``kind`` (a Literal) and the class variables."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    depends_on: tuple[str, ...] = ()
    reason: str = ""

    phase: ClassVar[Phase] = Phase.UPDATES
    step: ClassVar[int] = 0
    order: ClassVar[int] = 0  # order of kinds within a step, for a deterministic plan
    sign: ClassVar[Sign] = Sign.ADD
    destructive: ClassVar[bool] = False
    section: ClassVar[Section] = Section.USERS
    creates_entry: ClassVar[bool] = False  # creates what it is listed under (a new group): shown in the heading
    counts_as: ClassVar[Counts | None] = None  # the mass-change threshold this action counts against

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

    def describe(self, shown: Shown = HIDDEN) -> str:
        """One sentence a reviewer reads on its own (sensitive values as ``shown`` says)."""
        raise NotImplementedError

    def line(self, shown: Shown = HIDDEN) -> str:
        """The short form shown under the action's heading."""
        return self.describe(shown)

    def hides(self, path: str, shown: Shown) -> bool:
        """Whether the value at ``path`` in the action's data (``fields.Name.after``) is hidden."""
        return False

    def audit(self) -> tuple[str, str]:
        """The value the action expects and the one it sets, as the audit log shows them."""
        return "absent", "present"

    def provides(self) -> tuple[Key, ...]:
        """Keys of what this action does that other actions wait for (see ``needs``)."""
        return ()

    def needs(self) -> tuple[Key, ...]:
        """Keys of what must be done before this action can run: it depends on every action providing
        one, and is skipped when one of them does not succeed (``KeyKind`` says what each key means)."""
        return ()

    def removes(self) -> tuple[Key, ...]:
        """Keys of what this action deletes (a group by id), for undo."""
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

    def sort_key(self) -> tuple[int, int, int, str, str, str]:
        """Deterministic order: phase, step, kind, target, what it does, id."""
        return (PHASES.index(self.phase), self.step, self.order, self.target.casefold(),
                self.describe(REVEALED).casefold(), self.id)


S = TypeVar("S", bound=Snapshot)


@dataclass
class UndoContext:
    """What an apply run left behind that its actions' inverses need (``clocksync undo``)."""

    before: dict[Ref, Snapshot | None]  # each object whole, as read before the run's first write
    names: dict[str, str]  # id -> email or group name, for the ids those objects mention
    created: dict[str, str]  # action id -> id of what it created
    created_groups: dict[str, str | None]  # name key -> id of a group the run created (None: id unknown)
    deleted_groups: set[str]  # ids of groups the run deleted
    actions: list[Action]  # the run's actions that wrote (or may have written)

    def snapshot(self, kind: type[S], ident: str) -> S | None:
        """The object of ``kind`` with this id as it was before the run (None: absent or not saved)."""
        found = self.before.get(Ref(kind.object_kind, ident))
        return found if isinstance(found, kind) else None

    def saved(self, kind: type[S]) -> list[tuple[str, S]]:
        """Every saved object of ``kind``, with its id."""
        return [(ref.ident, snap) for ref, snap in self.before.items() if isinstance(snap, kind)]

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


# ---------------------------------------------------------------------- plan-time behaviour

RuleFunction = Callable[["PlanContext", "Emit"], None]


@dataclass(frozen=True)
class Rule:
    """A kind's rule: a pure function of the plan context that emits the kind's actions and notices."""

    order: int  # the differ runs rules by this number (then by name), so notices come out in one order
    function: RuleFunction

    @property
    def name(self) -> str:
        return f"{self.function.__module__}.{self.function.__name__}"


RULES: list[Rule] = []


def rule(order: int) -> Callable[[RuleFunction], RuleFunction]:
    """Register a kind's rule (a decorator). The differ runs every registered rule."""
    def register(function: RuleFunction) -> RuleFunction:
        RULES.append(Rule(order, function))
        return function
    return register


class ExportColumns(ABC):
    """What a kind adds to ``clocksync export`` (subclasses register themselves): columns of the
    users CSV, read back by the kind's ``RowValue`` so that a plan from the export of a converged
    workspace is empty, and the config lines that name them."""

    registry: ClassVar[list[type[ExportColumns]]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        ExportColumns.registry.append(cls)

    @classmethod
    @abstractmethod
    def columns(cls, state: CurrentState, config: Config) -> list[tuple[str, Callable[[Member], str]]]:
        """Each column's header and its cell for a member."""

    csv_keys: ClassVar[tuple[ConfigKey[str], ...]] = ()  # the csv: keys naming the columns

    @classmethod
    def csv_lines(cls, config: Config) -> list[str]:
        """Lines of the exported config under ``csv:`` (indented): each of ``csv_keys`` and its column."""
        return [f"  {key.name}: {json.dumps(config.value(key), ensure_ascii=False)}" for key in cls.csv_keys]

    @classmethod
    def top_lines(cls, config: Config, state: CurrentState) -> list[str]:
        """Top-level lines of the exported config."""
        return []


# ---------------------------------------------------------------------- apply-time behaviour


class State(enum.Enum):
    """A kind's verdict on an action against the live view (the apply outcome of the same name follows)."""

    IN_PLACE = "already in place"  # already at the target
    READY = "ready"  # at the value the plan expected: apply
    STALE = "stale"  # anything else: changed since the plan, do not overwrite


@dataclass(frozen=True)
class Verdict:
    state: State
    reason: str = ""


READY = Verdict(State.READY)


def in_place(reason: str) -> Verdict:
    return Verdict(State.IN_PLACE, reason)


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

    def exclusive(self, action: A) -> tuple[Ref, ...]:
        """Objects no other action may write while this one is judged and written (a profile: its
        write sends the profile's values whole, so two at once would undo each other)."""
        return ()

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
