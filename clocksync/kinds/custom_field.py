"""USER custom fields: created when a mapped field does not exist (TXT, VISIBLE), within the
workspace's caps (checked when the plan is made: ``plan.fields``)."""

from __future__ import annotations

from typing import ClassVar, Literal

from clocksync.apply.view import LiveView, Ref
from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import READY, Action, Answer, Handler, UndoContext, Verdict, done
from clocksync.model import name_key


class CreateCustomField(Action):
    kind: Literal["create_custom_field"] = "create_custom_field"
    section: ClassVar = "fields"
    order: ClassVar[int] = 0
    field_name: str
    field_type: str = "TXT"
    field_status: str = "VISIBLE"

    @property
    def identity(self) -> str:
        return f"field|{name_key(self.field_name)}"

    @property
    def target(self) -> str:
        return self.field_name

    def describe(self) -> str:
        return f"create USER custom field {self.field_name!r} ({self.field_type}, {self.field_status})"

    def provides(self) -> tuple[str, ...]:
        return (f"field:{name_key(self.field_name)}",)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [], [f"custom field {self.field_name!r}, created by the run, stays (the values the run set are restored)"]


class CustomFieldHandler(Handler[CreateCustomField]):
    handles = (CreateCustomField,)

    def touches(self, action: CreateCustomField, view: LiveView) -> tuple[Ref, ...]:
        return (("field", name_key(action.field_name)),)

    def verdict(self, action: CreateCustomField, view: LiveView) -> Verdict:
        return done("the field exists") if name_key(action.field_name) in view.fields else READY

    async def write(self, action: CreateCustomField, view: LiveView, client: ClockifyClient) -> Answer:
        created = await client.create_custom_field(action.field_name, type=action.field_type,
                                                   status=action.field_status)
        return Answer(created_id=created.id)

    def effect(self, action: CreateCustomField, view: LiveView, created_id: str | None) -> None:
        if created_id is None:
            return
        view.fields[name_key(action.field_name)] = created_id
        view.field_names[created_id] = action.field_name
        view.field_types[created_id] = action.field_type
        view.created.add(created_id)

    def created_in(self, action: CreateCustomField, view: LiveView) -> str | None:
        return view.fields.get(name_key(action.field_name))
