"""Member profiles: work capacity, working days, week start and USER custom-field values, one PATCH per user.

The PATCH sends complete values: every USER custom-field value the user has (read at apply,
raw, so values clocksync does not manage go back unchanged) merged with the planned changes,
and the capacity, working days and week start (planned, else as read). Whether Clockify merges
the list it is sent or replaces the profile with it is unverified (API-NOTES 4); with complete
values both end in the same state. The PATCH answers with the whole profile, kept for verification.

Working days and week start come from the optional columns ``csv.working_days_column`` and
``csv.week_start_column`` (``weekdays.py`` reads them); a blank cell leaves the value unmanaged,
and the exception keyword ``schedule`` leaves both alone. ``sensitive_fields`` names the custom
fields whose values reports do not show.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from clocksync.clockify.client import ClockifyClient
from clocksync.clockify.schemas import WireProfile
from clocksync.columns import Cells, ColumnError, RowValue
from clocksync.config import Config, ConfigKey, config_key, exception_keyword
from clocksync.durations import format_duration, parse_duration, whole_minutes
from clocksync.fieldvalues import audit_text, same, shown_change
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
from clocksync.model import CurrentState, Member, MemberStatus, Profile, UserSpec, name_key
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


class UpdateProfile(UserAction):
    kind: Literal["update_profile"] = "update_profile"
    step: ClassVar[int] = 1
    order: ClassVar[int] = 3
    sign: ClassVar[Sign] = Sign.CHANGE
    user_id: str
    capacity: Change | None = None
    working_days: DaysChange | None = None
    week_start: Change | None = None
    fields: dict[str, FieldChange] = Field(default_factory=dict)  # custom field name -> change

    @property
    def identity(self) -> str:
        return f"profile|{self.user_id}"

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
        for name, change in sorted(self.fields.items()):
            before.append(f"{name}={audit_text(change.before)}")
            after.append(f"{name}={audit_text(change.after)}")
        return "; ".join(before), "; ".join(after)

    def needs(self) -> tuple[Key, ...]:
        return (*(Key(KeyKind.FIELD, name_key(name)) for name in self.fields), Key(KeyKind.ACTIVE, self.user_id))

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
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
        # The value as the API held it before the run (its own JSON type), or unset.
        fields = {name: FieldChange(before=change.after, after=before.fields.get(name))
                  for name, change in self.fields.items()}
        if capacity is None and days is None and start is None and not fields:
            return [], notes
        undo = UpdateProfile(user_id=self.user_id, email=self.email, capacity=capacity, working_days=days,
                             week_start=start, fields=fields,
                             reason=f"undo: restore {self.email}'s profile as it was before the run")
        return [undo], notes

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
    # Each mapped field's id (None: created by this plan) and type, once rather than per user.
    where = {name: (f.id if f is not None else None, mapped.type_of(name)) for name, f in mapped.fields.items()}
    no_values: dict[str, object] = {}
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
        for name, value in mapped.values.get(spec.key, no_values).items():
            field_id, kind = where[name]
            current_value = held.get(field_id) if field_id is not None else None
            if not same(kind, current_value, value) and not ignores(spec.email, name):
                changes[name] = FieldChange(before=current_value, after=value)
        days, start = _schedule(spec, profile, ignores)
        if capacity or days or start or changes:
            out.action(UpdateProfile(user_id=user_id, email=member.email, capacity=capacity, working_days=days,
                                     week_start=start, fields=changes, reason=f"CSV row {spec.row}"))
            if member.id in ctx.current.owner_ids:
                readonly["owner"].append(member.email)
            elif member.status is MemberStatus.PENDING:
                readonly["pending"].append(member.email)
    for who, what in (("owner", "the workspace owner's profile"),
                      ("pending", "the profile of a member who has not joined yet (PENDING)")):
        if readonly[who]:
            out.note(f"{who}_profile", f"{', '.join(readonly[who])}: a change to {what} is planned, but Clockify "
                     "may refuse it (unverified, docs/live-api.md); if it does, that action fails with Clockify's "
                     "message and the rest of the plan still lands")


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
            field_id = view.fields.get(name_key(name))
            if field_id is None:
                problems.append(f"custom field {name!r} does not exist")
                continue
            kind = view.field_type(field_id)
            live_value = profile.shown.get(field_id)
            hidden = name_key(name) in view.sensitive
            judged.append((same(kind, live_value, change.after), same(kind, live_value, change.before),
                           f"{name} changed since the plan (values hidden; see the audit CSV)" if hidden else
                           f"{name} is now {shown_value(live_value)}, the plan expected {shown_value(change.before)}"))
        problems += [now for at_target, as_planned, now in judged if not at_target and not as_planned]
        todo = any(not at_target for at_target, _, _ in judged)
        if problems:
            return stale("; ".join(problems))
        return READY if todo else in_place("the profile already has these values")

    def expected(self, action: UpdateProfile, view: LiveView) -> Profile:
        """The whole profile after the write: as read, with the planned values set."""
        profile = view.profiles[action.user_id]
        raw: dict[str, Any] = dict(profile.raw)
        for name, change in action.fields.items():
            raw[view.fields[name_key(name)]] = change.after  # the verdict checked that it exists
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
        clears = {view.fields[name_key(name)] for name, change in action.fields.items() if _empty(change.after)}
        values = {fid: value for fid, value in target.raw.items() if fid in clears or not _empty(value)}
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
