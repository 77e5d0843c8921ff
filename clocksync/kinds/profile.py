"""Member profiles: work capacity and USER custom-field values, one PATCH per user.

The PATCH sends complete values: every USER custom-field value the user has (read at apply,
raw, so values clocksync does not manage go back unchanged) merged with the planned changes,
and the capacity, working days and week start as read. Whether Clockify merges the list it is
sent or replaces the profile with it is unverified (API-NOTES 4); with complete values both end
in the same state. The PATCH answers with the whole profile, which is kept for verification.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from clocksync.clockify.client import ClockifyClient
from clocksync.clockify.schemas import WireProfile
from clocksync.durations import format_duration, parse_duration, whole_minutes
from clocksync.kinds.base import (
    HIDDEN,
    READY,
    Action,
    Answer,
    Change,
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
from clocksync.model import Profile, UserSpec, name_key, value_text

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext


def reads_profile(spec: UserSpec) -> bool:
    """Whether planning this row needs the member's profile (one request per user: the cost model's C)."""
    return spec.capacity_seconds is not None or bool(spec.fields)


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
    shown = {v.custom_field_id: value_text(v.value) for v in wire.values if v.custom_field_id}
    return Profile(seconds, wire.work_capacity, MappingProxyType(raw), MappingProxyType(shown),
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


def _unset(text: str | None) -> str:
    return repr(text) if text is not None else "(unset)"


class UpdateProfile(UserAction):
    kind: Literal["update_profile"] = "update_profile"
    step: ClassVar[int] = 1
    order: ClassVar[int] = 3
    sign: ClassVar[Sign] = Sign.CHANGE
    user_id: str
    capacity: Change | None = None
    fields: dict[str, Change] = Field(default_factory=dict)  # custom field name -> change

    @property
    def identity(self) -> str:
        return f"profile|{self.user_id}"

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"{self.email}: {self.line(shown)}"

    def line(self, shown: Shown = HIDDEN) -> str:
        parts = []
        if self.capacity:
            parts.append(f"work capacity {self.capacity.before or '(unset)'} -> {self.capacity.after or '(unset)'}")
        for name, change in sorted(self.fields.items()):
            if shown.hides(name):
                parts.append(f"{name} changes (value hidden)")
            else:
                parts.append(f"{name} {_unset(change.before)} -> {_unset(change.after)}")
        return "; ".join(parts)

    def hides(self, path: str, shown: Shown) -> bool:
        head, _, rest = path.partition(".")
        return head == "fields" and shown.hides(rest.rpartition(".")[0] or rest)

    def audit(self) -> tuple[str, str]:
        before, after = [], []
        if self.capacity:
            before.append(f"capacity={self.capacity.before or '(unset)'}")
            after.append(f"capacity={self.capacity.after or '(unset)'}")
        for name, change in sorted(self.fields.items()):
            before.append(f"{name}={change.before if change.before is not None else '(unset)'}")
            after.append(f"{name}={change.after if change.after is not None else '(unset)'}")
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
        fields = {name: Change(before=change.after, after=value_text(before.fields.get(name)))
                  for name, change in self.fields.items()}
        if capacity is None and not fields:
            return [], notes
        undo = UpdateProfile(user_id=self.user_id, email=self.email, capacity=capacity, fields=fields,
                             reason=f"undo: restore {self.email}'s profile as it was before the run")
        return [undo], notes

    def value_changes(self) -> tuple[ValueChange, ...]:
        changes = [ValueChange("capacity", self.capacity.before, self.capacity.after)] if self.capacity else []
        changes += [ValueChange(name, c.before, c.after) for name, c in sorted(self.fields.items())]
        return tuple(changes)


@rule(order=3)
def profiles(ctx: PlanContext, out: Emit) -> None:
    """Rule 1: each managed user's capacity and mapped custom fields equal the CSV (exceptions aside)."""
    fields = ctx.current.fields_by_key
    field_ids = {name: fields[name_key(name)].id for name in ctx.config.field_mapping.values()
                 if name_key(name) in fields}
    ignores = ctx.exceptions.ignores
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
        changes: dict[str, Change] = {}
        for name, value in spec.fields.items():
            if ignores(spec.email, name):
                continue
            field_id = field_ids.get(name)
            current_value = profile.values.get(field_id) if field_id else None
            if current_value != value:
                changes[name] = Change(before=current_value, after=value)
        if capacity or changes:
            out.action(UpdateProfile(user_id=user_id, email=member.email, capacity=capacity, fields=changes,
                                     reason=f"CSV row {spec.row}"))


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
        todo = False
        problems: list[str] = []
        if action.capacity is not None:
            live = profile.capacity_seconds
            if _capacity_matches(action.capacity.after, live):
                pass
            elif _capacity_matches(action.capacity.before, live):
                todo = True
            else:
                problems.append(f"work capacity is now {profile.capacity_text or '(unset)'}, "
                                f"the plan expected {action.capacity.before or '(unset)'}")
        values = profile.values
        for name, change in sorted(action.fields.items()):
            field_id = view.fields.get(name_key(name))
            if field_id is None:
                problems.append(f"custom field {name!r} does not exist")
                continue
            live_value = values.get(field_id)
            if live_value == change.after:
                continue
            if live_value == change.before:
                todo = True
            else:
                problems.append(f"{name} is now {_unset(live_value)}, the plan expected {_unset(change.before)}")
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
        return Profile(seconds, capacity_text, MappingProxyType(raw), working_days=profile.working_days,
                       week_start=profile.week_start)

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
