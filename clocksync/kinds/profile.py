"""Member profiles: work capacity and USER custom-field values, one PATCH per user.

The PATCH sends complete values: every USER custom-field value the user has (read at apply,
raw, so values clocksync does not manage go back unchanged) merged with the planned changes,
and the capacity, working days and week start as read. Whether Clockify merges the list it is
sent or replaces the profile with it is unverified (API-NOTES 4); with complete values both end
in the same state. The PATCH answers with the whole profile, which is kept for verification.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, ClassVar, Literal

from pydantic import Field

from clocksync.apply.view import LiveView, Ref
from clocksync.clockify.client import ClockifyClient
from clocksync.durations import format_duration, parse_duration
from clocksync.fieldvalues import audit_text, same, shown
from clocksync.kinds.base import (
    READY,
    Action,
    Answer,
    Change,
    FieldChange,
    Handler,
    UndoContext,
    UserAction,
    ValueChange,
    Verdict,
    done,
    stale,
)
from clocksync.load.current import profile_from
from clocksync.model import Profile, name_key


def _capacity(text: str | None) -> str:
    return text or "(unset)"


class UpdateProfile(UserAction):
    kind: Literal["update_profile"] = "update_profile"
    step: ClassVar[int] = 1
    order: ClassVar[int] = 3
    sign: ClassVar[str] = "~"
    user_id: str
    capacity: Change | None = None
    fields: dict[str, FieldChange] = Field(default_factory=dict)  # custom field name -> change

    @property
    def identity(self) -> str:
        return f"profile|{self.user_id}"

    def describe(self) -> str:
        return f"{self.email}: {self.line()}"

    def line(self) -> str:
        parts = []
        if self.capacity:
            parts.append(f"work capacity {_capacity(self.capacity.before)} -> {_capacity(self.capacity.after)}")
        for name, change in sorted(self.fields.items()):
            parts.append(f"{name} {shown(change.before)} -> {shown(change.after)}")
        return "; ".join(parts)

    def audit(self) -> tuple[str, str]:
        before, after = [], []
        if self.capacity:
            before.append(f"capacity={_capacity(self.capacity.before)}")
            after.append(f"capacity={_capacity(self.capacity.after)}")
        for name, change in sorted(self.fields.items()):
            before.append(f"{name}={audit_text(change.before)}")
            after.append(f"{name}={audit_text(change.after)}")
        return "; ".join(before), "; ".join(after)

    def needs(self) -> tuple[str, ...]:
        return tuple(f"field:{name_key(name)}" for name in self.fields)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        before = run.snapshot("profile", self.user_id)
        if before is None:
            return [], [f"{self.email}: the profile before the run was not saved; it is not restored"]
        notes = []
        capacity = None
        if self.capacity is not None:
            seconds = before.get("capacity_seconds")
            if seconds is None:
                notes.append(f"{self.email}: work capacity was unset before the run and cannot be unset; it stays "
                             f"{self.capacity.after}")
            else:
                capacity = Change(before=self.capacity.after, after=format_duration(seconds))
        # The value as the API held it before the run (its own JSON type), or unset.
        fields = {name: FieldChange(before=change.after, after=before.get("fields", {}).get(name))
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
        return (("profile", action.user_id),)

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
        for name, change in sorted(action.fields.items()):
            field_id = view.fields.get(name_key(name))
            if field_id is None:
                problems.append(f"custom field {name!r} does not exist")
                continue
            kind = view.field_type(field_id)
            live_value = profile.shown.get(field_id)
            if same(kind, live_value, change.after):
                continue
            if same(kind, live_value, change.before):
                todo = True
            else:
                problems.append(f"{name} is now {shown(live_value)}, the plan expected {shown(change.before)}")
        if problems:
            return stale("; ".join(problems))
        return READY if todo else done("the profile already has these values")

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
            seen, _ = profile_from(wire)
            answer.observed[("profile", action.user_id)] = view.profile_snapshot(action.user_id, seen)
        return answer

    def effect(self, action: UpdateProfile, view: LiveView, created_id: str | None) -> None:
        view.profiles[action.user_id] = self.expected(action, view)
