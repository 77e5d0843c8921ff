"""Member profiles: work capacity, working days, week start and USER custom-field values, one PATCH per user.

The PATCH sends complete values: every USER custom-field value the user has (read at apply,
raw, so values clocksync does not manage go back unchanged) merged with the planned changes,
and the capacity, working days and week start (planned, else as read). Whether Clockify merges
the list it is sent or replaces the profile with it is unverified (API-NOTES 4); with complete
values both end in the same state. The PATCH answers with the whole profile, kept for verification.

A write never sends back a stored value its field cannot hold (the API would refuse the whole
write, and the user's other changes with it, on every run). When the plan is made, each value a
write would resend is checked against its field (``fieldvalues.held_as``): a value whose meaning
is certain is sent in the field's own form (``"true"`` -> ``true``, ``"engineering"`` ->
``"Engineering"``: ``normalised``, the same value); one the field cannot hold (a dropdown value no
longer allowed, text in a NUMBER field) is left out of the write (``left_out``). Clockify keeps a
value left out if it merges what it is sent; if it replaces the profile, the value is cleared:
the plan says so for each, and the run folder keeps the value. Values of INACTIVE fields are sent
back as read, so no answer loses them; if Clockify refuses them (unverified: the
``inactive-value-refused`` variant), that write fails with its message and the plan says so.

Working days and week start come from the optional columns ``csv.working_days_column`` and
``csv.week_start_column`` (``weekdays.py`` reads them); a blank cell leaves the value unmanaged,
and the exception keyword ``schedule`` leaves both alone. ``sensitive_fields`` names the custom
fields whose values reports do not show.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from clocksync.clockify.client import ClockifyClient
from clocksync.clockify.schemas import WireProfile
from clocksync.columns import Cells, ColumnError, RowValue
from clocksync.config import Config, ConfigKey, config_key, exception_keyword
from clocksync.durations import format_duration, parse_duration, whole_minutes
from clocksync.fieldvalues import CellError, FieldType, audit_text, held_as, same, shown_change
from clocksync.fieldvalues import shown as shown_value
from clocksync.kinds.base import (
    HIDDEN,
    READY,
    Action,
    Answer,
    Change,
    ExportColumns,
    FieldChange,
    Handler,
    Key,
    KeyKind,
    Shown,
    Sign,
    UndoContext,
    UserAction,
    ValueChange,
    Verdict,
    in_place,
    rule,
    stale,
)
from clocksync.kinds.live import LiveView, ObjectKind, Ref, Snapshot
from clocksync.model import (
    AmbiguousName,
    CurrentState,
    CustomField,
    Member,
    MemberStatus,
    Profile,
    UserSpec,
    name_key,
    pick_named,
)
from clocksync.weekdays import Day, format_days, in_week_order, parse_day, parse_days

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext

WORKING_DAYS_COLUMN = config_key("working_days_column", str, "Working Days", section="csv")
WEEK_START_COLUMN = config_key("week_start_column", str, "Week Start", section="csv")
SENSITIVE_FIELDS: ConfigKey[tuple[str, ...]] = config_key("sensitive_fields", tuple[str, ...], ())
SCHEDULE = exception_keyword("schedule")  # exceptions: leave someone's working days and week start alone


@dataclass(frozen=True)
class Schedule(RowValue):
    """A row's working days and week start (None: the cell is blank, the value unmanaged)."""

    working_days: tuple[Day, ...] | None
    week_start: Day | None

    @classmethod
    def columns(cls, config: Config) -> tuple[str, ...]:
        return (config.value(WORKING_DAYS_COLUMN), config.value(WEEK_START_COLUMN))

    @classmethod
    def required_columns(cls, config: Config) -> dict[str, str]:
        return config.names(WORKING_DAYS_COLUMN, WEEK_START_COLUMN)

    @classmethod
    def read(cls, cell: Cells, config: Config) -> Schedule | None:
        days_column, start_column = cls.columns(config)
        days_text, start_text = cell(days_column), cell(start_column)
        if not days_text and not start_text:
            return None
        try:
            days = parse_days(days_text) if days_text else None
        except ValueError as exc:
            raise ColumnError(days_column, str(exc)) from None
        try:
            start = parse_day(start_text) if start_text else None
        except ValueError as exc:
            raise ColumnError(start_column, f"{exc} (expected one of Monday ... Sunday)") from None
        return cls(days, start)


def reads_profile(spec: UserSpec) -> bool:
    """Whether planning this row needs the member's profile (one request per user: the cost model's C)."""
    return spec.capacity_seconds is not None or bool(spec.fields) or spec.value(Schedule) is not None


class ScheduleColumns(ExportColumns):
    """``clocksync export`` writes each member's working days (``Mon-Fri``) and week start (``Monday``)."""

    csv_keys = (WORKING_DAYS_COLUMN, WEEK_START_COLUMN)

    @classmethod
    def columns(cls, state: CurrentState, config: Config) -> list[tuple[str, Callable[[Member], str]]]:
        def days(member: Member) -> str:
            profile = state.profiles.get(member.id)
            return format_days(profile.working_days) if profile and profile.working_days else ""

        def start(member: Member) -> str:
            profile = state.profiles.get(member.id)
            return profile.week_start.title() if profile and profile.week_start else ""

        return [(config.value(WORKING_DAYS_COLUMN), days), (config.value(WEEK_START_COLUMN), start)]


    @classmethod
    def top_lines(cls, config: Config, state: CurrentState) -> list[str]:
        names = list(config.value(SENSITIVE_FIELDS))
        return [f"sensitive_fields: {json.dumps(names, ensure_ascii=False)}"] if names else []


class DaysChange(BaseModel):
    """Working days the plan expects to find (None: none set) and the ones it sets, Monday first."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    before: tuple[str, ...] | None
    after: tuple[str, ...]


def read_profile(wire: WireProfile) -> tuple[Profile, str | None]:
    """A domain profile from the API's answer (getMemberProfile), and a warning when the capacity
    cannot be read.

    ``raw`` keeps the USER-sourced values as the API sent them (a value without ``sourceType`` is
    taken as the user's own); workspace defaults are shown but never written back as user values.
    """
    seconds = None
    warning = None
    if wire.work_capacity:
        try:
            seconds = parse_duration(wire.work_capacity)
        except ValueError:
            warning = f"unreadable work capacity {wire.work_capacity!r}; capacity is left as it is"
    raw = {v.custom_field_id: v.value for v in wire.values
           if v.custom_field_id and (v.source_type or "USER") == "USER"}
    seen = {v.custom_field_id: v.value for v in wire.values if v.custom_field_id}
    return Profile(seconds, wire.work_capacity, MappingProxyType(raw), MappingProxyType(seen),
                   tuple(wire.working_days) if wire.working_days is not None else None, wire.week_start), warning


class ProfileSnapshot(Snapshot):
    """A profile whole: capacity, working days, week start and every USER field set (by name)."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.PROFILE
    email: str
    capacity_seconds: int | None = None
    working_days: tuple[str, ...] | None = None
    week_start: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def of(cls, view: LiveView, user_id: str, profile: Profile) -> ProfileSnapshot:
        values = {view.field_names.get(fid, fid): value for fid, value in profile.raw.items()
                  if value is not None and value != ""}
        return cls(email=view.email_of(user_id), capacity_seconds=profile.capacity_seconds,
                   working_days=profile.working_days, week_start=profile.week_start,
                   fields=dict(sorted(values.items())))

    @classmethod
    def read(cls, view: LiveView, ident: str) -> ProfileSnapshot | None:
        profile = view.profiles.get(ident)
        return None if profile is None else cls.of(view, ident, profile)

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        return f"profile of {view.email_of(ident)}"

    @classmethod
    def hides(cls, field: str, shown: Shown) -> bool:
        head, _, name = field.partition(".")
        return head == "fields" and shown.hides(name)


def _capacity(text: str | None) -> str:
    return text or "(unset)"


def _days(days: tuple[str, ...] | None) -> str:
    return format_days(days) if days else "(unset)"


def _day(day: str | None) -> str:
    return day.title() if day else "(unset)"


def _week_order(days: tuple[str, ...]) -> tuple[str, ...]:
    """Days Monday first (names the API may send that are not days are kept, at the end)."""
    known = in_week_order(Day(d) for d in days if d in Day.__members__)
    return (*known, *sorted(d for d in set(days) if d not in Day.__members__))


def _same_days(live: tuple[str, ...] | None, days: tuple[str, ...] | None) -> bool:
    """Working days compare as sets: the API's order is not the plan's (equal tuples first: the usual case)."""
    return live == days or (live is not None and days is not None and set(live) == set(days))


def _exactly(a: Any, b: Any) -> bool:
    """The same JSON value, in the same type (``10004`` is not ``10004.0`` here, nor ``"true"`` ``true``)."""
    return type(a) is type(b) and a == b


def _by_name(values: dict[str, Any], name: str) -> Any:
    """A value of a snapshot's fields (by field name) for ``name``: exactly, else by name key."""
    if name in values:
        return values[name]
    try:
        return values.get(pick_named(name, ((n, n) for n in values)) or "")
    except AmbiguousName:
        return None


_OPTIONAL_PARTS = ("normalised", "left_out", "required", "part")


class UpdateProfile(UserAction):
    """A user's profile write. ``fields``: the planned changes, by the field's exact name.
    ``normalised``: stored values the write sends in the field's own form (the same value);
    ``left_out``: stored values the field cannot hold, not sent (kept if Clockify merges, cleared
    if it replaces). ``required``: the changed fields that are required (an undo cannot clear them).
    ``part``: an undo's restore split in parts ("fields", "clears"), so that a refused field does
    not take the capacity restore with it."""

    kind: Literal["update_profile"] = "update_profile"
    step: ClassVar[int] = 1
    order: ClassVar[int] = 3
    sign: ClassVar[Sign] = Sign.CHANGE
    user_id: str
    capacity: Change | None = None
    working_days: DaysChange | None = None
    week_start: Change | None = None
    fields: dict[str, FieldChange] = Field(default_factory=dict)  # custom field name -> change
    normalised: dict[str, FieldChange] = Field(default_factory=dict)
    left_out: dict[str, Any] = Field(default_factory=dict)
    required: tuple[str, ...] = ()
    part: Literal["", "fields", "clears"] = ""

    @model_serializer(mode="wrap")
    def _without_empty_parts(self, handler: SerializerFunctionWrapHandler) -> Any:
        """The plan-file form: ``normalised``, ``left_out``, ``required`` and ``part`` only when
        set, so a plan without them is written (and checksummed) as before they existed."""
        data = handler(self)
        if isinstance(data, dict):
            for key in _OPTIONAL_PARTS:
                if not data.get(key):
                    data.pop(key, None)
        return data

    @property
    def identity(self) -> str:
        return f"profile|{self.user_id}" + (f"|{self.part}" if self.part else "")

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"{self.email}: {self.line(shown)}"

    def line(self, shown: Shown = HIDDEN) -> str:
        parts = []
        if self.capacity:
            parts.append(f"work capacity {_capacity(self.capacity.before)} -> {_capacity(self.capacity.after)}")
        if self.working_days:
            parts.append(f"working days {_days(self.working_days.before)} -> {_days(self.working_days.after)}")
        if self.week_start:
            parts.append(f"week start {_day(self.week_start.before)} -> {_day(self.week_start.after)}")
        for name, change in sorted(self.fields.items()):
            if shown.hides(name):
                parts.append(f"{name} changes (value hidden)")
            else:
                parts.append(f"{name} {shown_change(change.before, change.after)}")
        for name, change in sorted(self.normalised.items()):
            if shown.hides(name):
                parts.append(f"{name} sent in the field's own form (value hidden)")
            else:
                parts.append(f"{name} {shown_value(change.before)} sent as {shown_value(change.after)} (the same "
                             "value, in the field's own form)")
        for name, value in sorted(self.left_out.items()):
            held = "its value" if shown.hides(name) else shown_value(value)
            parts.append(f"{name}: {held} not sent (the field cannot hold it)")
        return "; ".join(parts)

    def hides(self, path: str, shown: Shown) -> bool:
        head, _, rest = path.partition(".")
        return head == "fields" and shown.hides(rest.rpartition(".")[0] or rest)

    def audit(self) -> tuple[str, str]:
        before, after = [], []
        if self.capacity:
            before.append(f"capacity={_capacity(self.capacity.before)}")
            after.append(f"capacity={_capacity(self.capacity.after)}")
        if self.working_days:
            before.append(f"working days={_days(self.working_days.before)}")
            after.append(f"working days={_days(self.working_days.after)}")
        if self.week_start:
            before.append(f"week start={_day(self.week_start.before)}")
            after.append(f"week start={_day(self.week_start.after)}")
        for name, change in sorted({**self.normalised, **self.fields}.items()):
            before.append(f"{name}={audit_text(change.before)}")
            after.append(f"{name}={audit_text(change.after)}")
        for name, value in sorted(self.left_out.items()):
            before.append(f"{name}={audit_text(value)}")
            after.append(f"{name} not sent")
        return "; ".join(before), "; ".join(after)

    def needs(self) -> tuple[Key, ...]:
        return (*(Key(KeyKind.FIELD, name_key(name)) for name in self.fields), Key(KeyKind.ACTIVE, self.user_id))

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        # A run may have written one profile in parts (an undo run): the first part takes them all back.
        mine = [a for a in run.actions if isinstance(a, UpdateProfile) and a.user_id == self.user_id]
        if mine and mine[0].id != self.id:
            return [], []
        return UpdateProfile.combined(mine or [self])._undo(run)

    @classmethod
    def combined(cls, parts: list[UpdateProfile]) -> UpdateProfile:
        """One action doing what the parts of one profile's write did."""
        first = parts[0]
        return first.model_copy(update={
            "capacity": next((p.capacity for p in parts if p.capacity), None),
            "working_days": next((p.working_days for p in parts if p.working_days), None),
            "week_start": next((p.week_start for p in parts if p.week_start), None),
            "fields": {k: v for p in parts for k, v in p.fields.items()},
            "normalised": {k: v for p in parts for k, v in p.normalised.items()},
            "left_out": {k: v for p in parts for k, v in p.left_out.items()},
            "required": tuple(sorted({n for p in parts for n in p.required})), "part": ""})

    def _undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        before = run.snapshot(ProfileSnapshot, self.user_id)
        if before is None:
            return [], [f"{self.email}: the profile before the run was not saved; it is not restored"]
        notes = []
        capacity = None
        if self.capacity is not None:
            seconds = before.capacity_seconds
            if seconds is None:
                notes.append(f"{self.email}: work capacity was unset before the run and cannot be unset; it stays "
                             f"{self.capacity.after}")
            else:
                capacity = Change(before=self.capacity.after, after=format_duration(seconds))
        days = None
        if self.working_days is not None:
            if before.working_days:
                days = DaysChange(before=self.working_days.after, after=_week_order(before.working_days))
            else:
                notes.append(f"{self.email}: working days were unset before the run and cannot be unset; they stay "
                             f"{_days(self.working_days.after)}")
        start = None
        if self.week_start is not None:
            if before.week_start:
                start = Change(before=self.week_start.after, after=before.week_start)
            else:
                notes.append(f"{self.email}: the week start was unset before the run and cannot be unset; it stays "
                             f"{_day(self.week_start.after)}")
        # The value as the API held it before the run (its own JSON type), or unset. A required
        # field cannot be cleared; a value the run wrote in the field's own form stays so.
        sets: dict[str, FieldChange] = {}
        clears: dict[str, FieldChange] = {}
        for name, change in sorted(self.fields.items()):
            was = _by_name(before.fields, name)
            if _empty(was) and name in self.required:
                notes.append(f"{self.email}: cannot clear {name}: the field is required; it stays "
                             f"{shown_value(change.after)}")
                continue
            (clears if _empty(was) else sets)[name] = FieldChange(before=change.after, after=was)
        for name, change in sorted(self.normalised.items()):
            notes.append(f"{self.email}: {name} stays {shown_value(change.after)}: before the run it held "
                         f"{shown_value(change.before)}, the same value in a form the field does not take")
        # Capacity, working days and week start in one write, the fields in others: one refused
        # field (made required, no longer allowed, a null the API refuses) does not take the rest.
        # What the run left out of its write stays out of the undo's (the field still cannot hold it).
        common = {"user_id": self.user_id, "email": self.email, "left_out": dict(self.left_out),
                  "reason": f"undo: restore {self.email}'s profile as it was before the run"}
        parts = [UpdateProfile(capacity=capacity, working_days=days, week_start=start, **common)] \
            if capacity or days or start else []
        for part, changes in (("fields", sets), ("clears", clears)):
            if changes:
                parts.append(UpdateProfile(fields=changes, part=part, **common))
        return list(parts), notes

    def value_changes(self) -> tuple[ValueChange, ...]:
        changes = [ValueChange("capacity", self.capacity.before, self.capacity.after)] if self.capacity else []
        if self.working_days:
            before = _days(self.working_days.before) if self.working_days.before else None
            changes.append(ValueChange("working days", before, _days(self.working_days.after)))
        if self.week_start:
            changes.append(ValueChange("week start", self.week_start.before, self.week_start.after))
        changes += [ValueChange(name, c.before, c.after) for name, c in sorted(self.fields.items())]
        return tuple(changes)


@rule(order=3)
def profiles(ctx: PlanContext, out: Emit) -> None:
    """Rule 1: each managed user's capacity, working days, week start and mapped custom fields equal the
    CSV (exceptions aside)."""
    out.hide_values_of(ctx.config.value(SENSITIVE_FIELDS))
    mapped = ctx.mapped
    ignores = ctx.exceptions.ignores
    readonly: dict[str, list[str]] = {"owner": [], "pending": []}
    # Each mapped field's id (None: created by this plan), type, exact name and whether it is
    # required, once rather than per user.
    where = {name: (f.id if f is not None else None, mapped.type_of(name), mapped.field_name(name),
                    f is not None and f.required) for name, f in mapped.fields.items()}
    no_values: dict[str, object] = {}
    resent = _Resent(ctx.current.fields)
    for user_id, (spec, member) in ctx.managed.items():
        profile = ctx.current.profiles.get(user_id)
        if profile is None:
            if reads_profile(spec):
                out.note("no_profile", f"{member.email}: member profile was not read")
            continue
        capacity = None
        unreadable = profile.capacity_text is not None and profile.capacity_seconds is None
        managed_capacity = spec.capacity_seconds is not None and not ignores(spec.email, "capacity")
        # Compared in whole minutes, the precision of a desired capacity: a capacity set to the
        # second elsewhere is not rewritten for a difference nobody sees.
        live = None if profile.capacity_seconds is None else whole_minutes(profile.capacity_seconds)
        if managed_capacity and live != spec.capacity_seconds and not unreadable:
            capacity = Change(before=profile.capacity_text, after=format_duration(spec.capacity_seconds or 0))
        changes: dict[str, FieldChange] = {}
        held = profile.shown
        changed: set[str] = set()
        required: list[str] = []
        for name, value in mapped.values.get(spec.key, no_values).items():
            field_id, kind, exact, is_required = where[name]
            current_value = held.get(field_id) if field_id is not None else None
            if not same(kind, current_value, value) and not ignores(spec.email, name):
                changes[exact] = FieldChange(before=current_value, after=value)
                if field_id is not None:
                    changed.add(field_id)
                if is_required:
                    required.append(exact)
        days, start = _schedule(spec, profile, ignores)
        if capacity or days or start or changes:
            normalised, left_out = resent.check(member.email, profile, changed)
            out.action(UpdateProfile(user_id=user_id, email=member.email, capacity=capacity, working_days=days,
                                     week_start=start, fields=changes, normalised=normalised, left_out=left_out,
                                     required=tuple(sorted(required)), reason=f"CSV row {spec.row}"))
            if member.id in ctx.current.owner_ids:
                readonly["owner"].append(member.email)
            elif member.status is MemberStatus.PENDING:
                readonly["pending"].append(member.email)
    resent.notes(out)
    for who, what in (("owner", "the workspace owner's profile"),
                      ("pending", "the profile of a member who has not joined yet (PENDING)")):
        if readonly[who]:
            out.note(f"{who}_profile", f"{', '.join(readonly[who])}: a change to {what} is planned, but Clockify "
                     "may refuse it (unverified, docs/live-api.md); if it does, that action fails with Clockify's "
                     "message and the rest of the plan still lands")


class _Resent:
    """What profile writes send back of the values the plan does not change: each stored value is
    checked against its field once per user written (``fieldvalues.held_as``), and the plan's
    notices say what is sent in the field's own form, what is left out, and which writes carry
    values of INACTIVE fields."""

    def __init__(self, fields: Mapping[str, CustomField]) -> None:
        self.fields = fields
        self.normalised: dict[str, list[str]] = defaultdict(list)  # field name -> "email: before -> after"
        self.left_out: dict[str, list[str]] = defaultdict(list)  # field name -> "email: value"
        self.why: dict[str, str] = {}  # field name -> why the first value left out cannot be held
        self.inactive: dict[str, list[str]] = defaultdict(list)  # field name -> emails

    def check(self, email: str, profile: Profile, changed: set[str]) -> tuple[dict[str, FieldChange], dict[str, Any]]:
        normalised: dict[str, FieldChange] = {}
        left_out: dict[str, Any] = {}
        for field_id, value in profile.raw.items():
            found = self.fields.get(field_id)
            if field_id in changed or found is None or _empty(value):
                continue  # a field the API does not list: sent as read
            try:
                held = held_as(found.type, value, found.allowed_values)
            except CellError as exc:
                left_out[found.name] = value
                self.left_out[found.name].append(f"{email} {shown_value(value)}")
                self.why.setdefault(found.name, str(exc))
                continue
            if found.status == "INACTIVE":
                self.inactive[found.name].append(email)
            if not _exactly(held, value):
                normalised[found.name] = FieldChange(before=value, after=held)
                self.normalised[found.name].append(f"{email} {shown_value(value)} -> {shown_value(held)}")
        return normalised, left_out

    def notes(self, out: Emit) -> None:
        for name, seen in sorted(self.normalised.items()):
            out.note("stored_value_normalised", f"custom field {name!r}: {len(seen)} profile write(s) send back a "
                     f"value stored in a form the field does not take, in the field's own form (the same value): "
                     f"{_some(seen)}")
        for name, seen in sorted(self.left_out.items()):
            out.note("stored_value_left_out", f"custom field {name!r}: {len(seen)} profile write(s) leave out a "
                     f"stored value the field cannot hold ({self.why[name]}): {_some(seen)}. Clockify keeps it if "
                     "it merges what a write sends; if it replaces the profile (unverified, docs/live-api.md) the "
                     "value is cleared, and the run folder keeps it. Correct the value in Clockify to keep it either way")
        for name, emails in sorted(self.inactive.items()):
            out.note("inactive_values", f"custom field {name!r} is INACTIVE: {len(emails)} profile write(s) send "
                     f"back its stored values as they are ({_some(emails)}), so no value is lost; if Clockify "
                     "refuses values of INACTIVE fields (unverified, docs/live-api.md), those writes fail with its "
                     "message and the rest of the plan lands: activate the field or clear those values to avoid it")


def _some(items: list[str], most: int = 5) -> str:
    return ", ".join(items[:most]) + (f" and {len(items) - most} more" if len(items) > most else "")


def _schedule(spec: UserSpec, profile: Profile,
              ignores: Callable[[str, str], bool]) -> tuple[DaysChange | None, Change | None]:
    """The planned working days and week start of one row (None: unmanaged, or already so)."""
    schedule = spec.value(Schedule)
    if schedule is None or ignores(spec.email, SCHEDULE):
        return None, None
    days = start = None
    if schedule.working_days is not None:
        wanted = tuple(schedule.working_days)
        if not _same_days(profile.working_days, wanted):
            before = _week_order(profile.working_days) if profile.working_days is not None else None
            days = DaysChange(before=before, after=wanted)
    if schedule.week_start is not None and profile.week_start != schedule.week_start:
        start = Change(before=profile.week_start, after=schedule.week_start.value)
    return days, start


def _empty(value: Any) -> bool:
    return value is None or value == ""


def _field_id(view: LiveView, name: str) -> str | None:
    """The id of the field named ``name`` (None: none, or not one: the verdict said why)."""
    try:
        return view.field_id(name)
    except AmbiguousName:
        return None


def _taken(view: LiveView, field_id: str, value: Any) -> Any:
    """``value`` as the field takes it in a write (``fieldvalues.held_as``; raises CellError when the
    field cannot hold it). A dropdown whose allowed values the view does not know: as it is."""
    kind = view.field_type(field_id)
    allowed = view.field_allowed.get(field_id)
    if allowed is None and FieldType.of(kind) in (FieldType.DROPDOWN_SINGLE, FieldType.DROPDOWN_MULTIPLE):
        return value
    return held_as(kind, value, allowed or ())


def _held(view: LiveView, field_id: str, value: Any) -> Any:
    """``value`` as the field takes it (``_taken``); as it is if it cannot (the verdict said why)."""
    try:
        return _taken(view, field_id, value)
    except CellError:
        return value


def _capacity_matches(text: str | None, seconds: int | None) -> bool:
    if text is None:
        return seconds is None
    try:
        return parse_duration(text) == seconds
    except ValueError:
        return False


class ProfileHandler(Handler[UpdateProfile]):
    handles = (UpdateProfile,)

    def touches(self, action: UpdateProfile, view: LiveView) -> tuple[Ref, ...]:
        return (Ref(ObjectKind.PROFILE, action.user_id),)

    def misnamed(self, action: UpdateProfile, view: LiveView) -> list[str]:
        return [p for p in (view.user_named(action.user_id, action.email),) if p]

    def profiles_to_reread(self, action: UpdateProfile) -> tuple[str, ...]:
        return (action.user_id,)

    def verdict(self, action: UpdateProfile, view: LiveView) -> Verdict:
        if action.user_id not in view.members:
            return stale("the user is no longer in the workspace")
        profile = view.profiles.get(action.user_id)
        if profile is None:
            return stale("the member profile could not be read, so the plan cannot be checked")
        judged: list[tuple[bool, bool, str]] = []  # (at the target, as the plan expected, what it is now)
        if action.capacity is not None:
            live, capacity = profile.capacity_seconds, action.capacity
            judged.append((_capacity_matches(capacity.after, live), _capacity_matches(capacity.before, live),
                           f"work capacity is now {_capacity(profile.capacity_text)}, the plan expected "
                           f"{_capacity(capacity.before)}"))
        if action.working_days is not None:
            days = action.working_days
            judged.append((_same_days(profile.working_days, days.after), _same_days(profile.working_days, days.before),
                           f"working days are now {_days(profile.working_days)}, the plan expected "
                           f"{_days(days.before)}"))
        if action.week_start is not None:
            start = action.week_start
            judged.append((profile.week_start == start.after, profile.week_start == start.before,
                           f"the week start is now {_day(profile.week_start)}, the plan expected {_day(start.before)}"))
        problems: list[str] = []
        for name, change in sorted(action.fields.items()):
            try:
                field_id = view.field_id(name)
            except AmbiguousName as exc:
                problems.append(f"custom field {name!r} is not one field: {exc}")
                continue
            if field_id is None:
                problems.append(f"custom field {name!r} does not exist")
                continue
            kind = view.field_type(field_id)
            live_value = profile.shown.get(field_id)
            hidden = name_key(name) in view.sensitive
            try:  # an undo's value as read before its run may be in a form the field does not take
                after = _taken(view, field_id, change.after)
            except CellError as exc:
                problems.append(f"{name} cannot be set (values hidden): the field cannot hold the value" if hidden else
                                f"{name} cannot be set to {shown_value(change.after)}: {exc}")
                continue
            judged.append((same(kind, live_value, after), same(kind, live_value, change.before),
                           f"{name} changed since the plan (values hidden; see the audit CSV)" if hidden else
                           f"{name} is now {shown_value(live_value)}, the plan expected {shown_value(change.before)}"))
        problems += [now for at_target, as_planned, now in judged if not at_target and not as_planned]
        todo = any(not at_target for at_target, _, _ in judged)
        if problems:
            return stale("; ".join(problems))
        return READY if todo else in_place("the profile already has these values")

    def exclusive(self, action: UpdateProfile) -> tuple[Ref, ...]:
        return (Ref(ObjectKind.PROFILE, action.user_id),)  # a write sends the profile's values whole

    def expected(self, action: UpdateProfile, view: LiveView) -> Profile:
        """The whole profile after the write: as read, with the planned values set, and the stored
        values the plan sends in the field's own form so (where they are still what the plan read).
        A value left out is expected to stay (Clockify merging what it is sent)."""
        profile = view.profiles[action.user_id]
        raw: dict[str, Any] = dict(profile.raw)
        for name, change in action.fields.items():
            field_id = _field_id(view, name)
            if field_id is not None:  # the verdict checked that it exists, and that the field holds the value
                raw[field_id] = _held(view, field_id, change.after)
        for name, change in action.normalised.items():
            field_id = _field_id(view, name)
            if field_id is not None and _exactly(raw.get(field_id), change.before):
                raw[field_id] = change.after
        capacity_text, seconds = profile.capacity_text, profile.capacity_seconds
        if action.capacity is not None and action.capacity.after is not None:
            capacity_text, seconds = action.capacity.after, parse_duration(action.capacity.after)
        days = action.working_days.after if action.working_days is not None else profile.working_days
        start = action.week_start.after if action.week_start is not None else profile.week_start
        return Profile(seconds, capacity_text, MappingProxyType(raw), working_days=days, week_start=start)

    async def write(self, action: UpdateProfile, view: LiveView, client: ClockifyClient) -> Answer:
        target = self.expected(action, view)
        # Every value the user is to have, and null only where the plan clears a value: a field the
        # API lists with no value is left out (the same under merge and replace), so whether the API
        # accepts null matters only to a planned clear.
        clears = {_field_id(view, name) for name, change in action.fields.items() if _empty(change.after)}
        # A value the field cannot hold is left out, where it is still the one the plan read.
        left_out = {field_id for name, value in action.left_out.items()
                    if (field_id := _field_id(view, name)) is not None and _exactly(target.raw.get(field_id), value)}
        values = {fid: value for fid, value in target.raw.items()
                  if fid not in left_out and (fid in clears or not _empty(value))}
        wire = await client.update_member_profile(
            action.user_id, work_capacity=target.capacity_text, custom_fields=values,
            working_days=list(target.working_days) if target.working_days is not None else None,
            week_start=target.week_start)
        answer = Answer()
        if wire is not None:
            seen, _ = read_profile(wire)
            answer.observed[Ref(ObjectKind.PROFILE, action.user_id)] = ProfileSnapshot.of(view, action.user_id, seen)
        return answer

    def effect(self, action: UpdateProfile, view: LiveView, created_id: str | None) -> None:
        view.profiles[action.user_id] = self.expected(action, view)
