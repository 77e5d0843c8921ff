"""USER custom fields: created when a mapped field does not exist (TXT, VISIBLE), within the
workspace's caps (checked when the plan is made: ``plan.fields``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from clocksync.clockify.client import ClockifyClient
from clocksync.kinds.base import (
    HIDDEN,
    READY,
    Action,
    Answer,
    Handler,
    Key,
    KeyKind,
    Section,
    Shown,
    UndoContext,
    Verdict,
    in_place,
    rule,
)
from clocksync.kinds.live import LiveView, ObjectKind, Ref, Snapshot
from clocksync.model import name_key
from clocksync.plan.fields import NEW_FIELD_STATUS, NEW_FIELD_TYPE

if TYPE_CHECKING:
    from clocksync.plan.context import Emit, PlanContext


class CreateCustomField(Action):
    kind: Literal["create_custom_field"] = "create_custom_field"
    section: ClassVar[Section] = Section.FIELDS
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

    def describe(self, shown: Shown = HIDDEN) -> str:
        return f"create USER custom field {self.field_name!r} ({self.field_type}, {self.field_status})"

    def provides(self) -> tuple[Key, ...]:
        return (Key(KeyKind.FIELD, name_key(self.field_name)),)

    def undo(self, run: UndoContext) -> tuple[list[Action], list[str]]:
        return [], [f"custom field {self.field_name!r}, created by the run, stays (the values the run set are restored)"]


@rule(order=0)
def mapped_fields(ctx: PlanContext, out: Emit) -> None:
    """Rule 1: a mapped USER custom field that does not exist is created (TXT, VISIBLE), within the
    workspace's caps (``plan.fields`` checked them when it resolved the mapped fields)."""
    for name in ctx.mapped.creates:
        out.action(CreateCustomField(field_name=name, field_type=NEW_FIELD_TYPE, field_status=NEW_FIELD_STATUS,
                                     reason="mapped in field_mapping"))


class FieldSnapshot(Snapshot):
    """Whether a USER custom field of a name exists, and its id."""

    object_kind: ClassVar[ObjectKind] = ObjectKind.FIELD
    id: str

    @classmethod
    def read(cls, view: LiveView, ident: str) -> FieldSnapshot | None:
        field_id = view.fields.get(ident)
        return cls(id=field_id) if field_id else None

    @classmethod
    def describe(cls, view: LiveView, ident: str) -> str:
        return f"custom field {ident!r}"


class CustomFieldHandler(Handler[CreateCustomField]):
    handles = (CreateCustomField,)

    def touches(self, action: CreateCustomField, view: LiveView) -> tuple[Ref, ...]:
        return (Ref(ObjectKind.FIELD, name_key(action.field_name)),)

    def verdict(self, action: CreateCustomField, view: LiveView) -> Verdict:
        return in_place("the field exists") if name_key(action.field_name) in view.fields else READY

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
