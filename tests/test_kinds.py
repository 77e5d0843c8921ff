"""Each kind's verdict as a table: (live workspace, action) -> already in place / ready / stale.

Literal models, no HTTP: the verdicts are what keeps apply from overwriting anyone's change.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clocksync.kinds import ACTION_TYPES, Action, Handler, handler_for
from clocksync.kinds.base import Change, FieldChange, State
from clocksync.kinds.custom_field import CreateCustomField
from clocksync.kinds.group import CreateGroup, DeleteGroup
from clocksync.kinds.live import LiveView
from clocksync.kinds.membership import AddMember, RemoveMember
from clocksync.kinds.profile import UpdateProfile
from clocksync.kinds.role import GrantRole, RevokeRole
from clocksync.kinds.user_status import ActivateUser, DeactivateUser, InviteUser
from clocksync.model import CustomField, RoleGrant
from tests.factories import current, group, member, profile, tm, uid

OWNER = member("owner@example.com", "Owner")
OPS = member("ops@example.com", "Ops")
JANE = member("jane@example.com", "Jane")
JOHN = member("john@example.com", "John")
GONE = member("gone@example.com", "Gone", "INACTIVE")
ODD = member("odd@example.com", "Odd", "SUSPENDED")


def view(**changes: Any) -> LiveView:
    """The workspace every row starts from; ``changes`` edits it (callables get the view)."""
    state = current(
        [OWNER, OPS, JANE, JOHN, GONE, ODD],
        groups=[group("g-jane", "Jane Smith", "john@example.com"), group("g-hol", "Holidays", "john@example.com")],
        roles={tm("jane@example.com", "g-jane", True), tm("jane@example.com", "john@example.com"),
               RoleGrant(uid("jane@example.com"), "PROJECT_MANAGER", "p1")},
        fields=[CustomField("f-co", "Company")],
        profiles={uid("john@example.com"): profile(28800, "PT8H", **{"f-co": "Acme"})},
        protected={"g-hol": ("holiday 'X'",)},
    )
    live = LiveView.from_state(state)
    for edit in changes.values():
        edit(live)
    return live


def renamed(live: LiveView) -> None:
    live.groups["g-jane"].name = "Jane's team"


def john_leaves_group(live: LiveView) -> None:
    live.groups["g-jane"].member_ids.discard(uid("john@example.com"))


def john_capacity(seconds: int, text: str) -> Callable[[LiveView], None]:
    def edit(live: LiveView) -> None:
        live.profiles[uid("john@example.com")] = profile(seconds, text, **{"f-co": "Acme"})
    return edit


def no_profile(live: LiveView) -> None:
    live.profiles.pop(uid("john@example.com"))


def john_gone(live: LiveView) -> None:
    del live.members[uid("john@example.com")]


def jane_inactive(live: LiveView) -> None:
    import dataclasses

    from clocksync.model import MemberStatus
    live.members[JANE.id] = dataclasses.replace(JANE, status=MemberStatus.INACTIVE)


def typed(kind: str, value: Any) -> Callable[[LiveView], None]:
    """John holds ``value`` in a "Global ID" field of type ``kind``."""
    def edit(live: LiveView) -> None:
        live.fields["global id"] = "f-gid"
        live.field_types["f-gid"] = kind
        john = uid("john@example.com")
        live.profiles[john] = profile(28800, "PT8H", **{"f-co": "Acme", "f-gid": value})
    return edit


def second_company(name: str) -> Callable[[LiveView], None]:
    """A second field whose name differs from "Company" only in case."""
    def edit(live: LiveView) -> None:
        live.field_names["f-co2"] = name
        live.shared_field_keys.add("company")
    return edit


def company_field(name: str = "Company") -> dict[str, FieldChange]:
    return {name: FieldChange(before="Acme", after="Acme GmbH")}


JOHN_PROFILE = dict(user_id=uid("john@example.com"), email="john@example.com")
ADD_JOHN = dict(group_name="Jane Smith", group_id="g-jane", user_id=uid("john@example.com"), email="john@example.com")
JANE_OVER_JOHN = dict(holder_id=JANE.id, holder_email=JANE.email, entity_kind="user", entity_id=uid("john@example.com"),
                      entity_name="john@example.com")
JANE_OVER_GROUP = dict(holder_id=JANE.id, holder_email=JANE.email, entity_kind="group", entity_id="g-jane",
                       entity_name="Jane Smith")

ROWS: list[tuple[str, Action, dict[str, Callable[[LiveView], None]], State, str]] = [
    # custom fields
    ("field missing", CreateCustomField(field_name="Global ID"), {}, State.READY, ""),
    ("field exists, any spacing and case", CreateCustomField(field_name="  company "), {}, State.IN_PLACE, "exists"),
    # profiles
    ("capacity at the expected value", UpdateProfile(**JOHN_PROFILE, capacity=Change(before="PT8H", after="PT7H")),
     {}, State.READY, ""),
    ("capacity compared by value", UpdateProfile(**JOHN_PROFILE, capacity=Change(before="PT8H0M", after="PT7H")),
     {}, State.READY, ""),
    ("capacity already at the target", UpdateProfile(**JOHN_PROFILE, capacity=Change(before="PT6H", after="PT8H")),
     {}, State.IN_PLACE, "already"),
    ("capacity changed since the plan", UpdateProfile(**JOHN_PROFILE, capacity=Change(before="PT8H", after="PT7H")),
     {"edit": john_capacity(18000, "PT5H")}, State.STALE, "work capacity is now PT5H"),
    ("field at the expected value", UpdateProfile(**JOHN_PROFILE, fields=company_field()), {}, State.READY, ""),
    ("field already at the target", UpdateProfile(**JOHN_PROFILE, fields={"Company": FieldChange(before="X", after="Acme")}),
     {}, State.IN_PLACE, ""),
    ("field changed since the plan", UpdateProfile(**JOHN_PROFILE, fields={"Company": FieldChange(before="X", after="Y")}),
     {}, State.STALE, "Company is now 'Acme'"),
    ("a field that does not exist", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(before=None,
     after="7")}), {}, State.STALE, "custom field 'Global ID' does not exist"),
    ("a field that exists, unset for the user", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(
     before=None, after="7")}), {"edit": lambda v: v.fields.update({"global id": "f-gid"})}, State.READY, ""),
    # a name: the field named exactly so, else the one field of its name key, else none (never a guess)
    ("another field of the name in another case: the exact name decides", UpdateProfile(**JOHN_PROFILE,
     fields=company_field()), {"edit": second_company("COMPANY")}, State.READY, ""),
    ("a name two fields fit equally", UpdateProfile(**JOHN_PROFILE, fields=company_field("company")),
     {"edit": second_company("COMPANY")}, State.STALE, "custom field 'company' is not one field"),
    # values resent in the field's own form, or left out, never make a write due on their own
    ("only a stored value to send in its own form", UpdateProfile(**JOHN_PROFILE, capacity=Change(
     before="PT6H", after="PT8H"), normalised={"Company": FieldChange(before="acme", after="Acme")}),
     {}, State.IN_PLACE, "already"),
    ("only a stored value to leave out", UpdateProfile(**JOHN_PROFILE, capacity=Change(before="PT6H", after="PT8H"),
     left_out={"Company": "Acme"}), {}, State.IN_PLACE, "already"),
    # typed fields: the live value is judged by value, as the field's type reads it
    ("number: 10004.0 is the planned 10004", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(
     before=None, after=10004)}), {"edit": typed("NUMBER", 10004.0)}, State.IN_PLACE, ""),
    ("number: text '010003' is the planned before 10003", UpdateProfile(**JOHN_PROFILE, fields={
     "Global ID": FieldChange(before=10003, after=10005)}), {"edit": typed("NUMBER", "010003")}, State.READY, ""),
    ("number: another number since the plan", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(
     before=10003, after=10005)}), {"edit": typed("NUMBER", 10004)}, State.STALE, "Global ID is now 10004"),
    ("checkbox: never set is the planned false", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(
     before=True, after=False)}), {"edit": typed("CHECKBOX", None)}, State.IN_PLACE, ""),
    ("checkbox: off, to be switched on", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(
     before=False, after=True)}), {"edit": typed("CHECKBOX", None)}, State.READY, ""),
    ("dropdown: any case is the planned value", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(
     before="Sales", after="Engineering")}), {"edit": typed("DROPDOWN_SINGLE", "ENGINEERING")}, State.IN_PLACE, ""),
    ("multi-select: a set, in any order", UpdateProfile(**JOHN_PROFILE, fields={"Global ID": FieldChange(
     before=None, after=["A", "B"])}), {"edit": typed("DROPDOWN_MULTIPLE", ["b", "A"])}, State.IN_PLACE, ""),
    ("multi-select: one more value since the plan", UpdateProfile(**JOHN_PROFILE, fields={
     "Global ID": FieldChange(before=["A"], after=["A", "B"])}), {"edit": typed("DROPDOWN_MULTIPLE", ["A", "C"])},
     State.STALE, "Global ID is now ['A', 'C']"),
    ("profile could not be read", UpdateProfile(**JOHN_PROFILE, fields=company_field()), {"edit": no_profile},
     State.STALE, "could not be read"),
    ("user left the workspace", UpdateProfile(**JOHN_PROFILE, fields=company_field()), {"edit": john_gone},
     State.STALE, "no longer in the workspace"),
    # groups
    ("group to create", CreateGroup(group_name="Ops"), {}, State.READY, ""),
    ("group exists (name key)", CreateGroup(group_name="jane  SMITH"), {}, State.IN_PLACE, "exists"),
    ("a protected group has the name", CreateGroup(group_name="Holidays"), {}, State.STALE, "protected"),
    ("delete as planned", DeleteGroup(group_id="g-jane", group_name="Jane Smith",
                                      member_ids=(uid("john@example.com"),)), {}, State.READY, ""),
    ("delete: already gone", DeleteGroup(group_id="g-nope", group_name="Nope"), {}, State.IN_PLACE, "no longer exists"),
    ("delete: members changed", DeleteGroup(group_id="g-jane", group_name="Jane Smith"), {}, State.STALE, "members"),
    ("delete: renamed", DeleteGroup(group_id="g-jane", group_name="Jane Smith", member_ids=(uid("john@example.com"),)),
     {"edit": renamed}, State.STALE, "name"),
    ("delete: now protected", DeleteGroup(group_id="g-hol", group_name="Holidays",
                                          member_ids=(uid("john@example.com"),)), {}, State.STALE, "protected"),
    # memberships
    ("add: already a member", AddMember(**ADD_JOHN), {}, State.IN_PLACE, "already a member"),
    ("add: ready", AddMember(**ADD_JOHN), {"edit": john_leaves_group}, State.READY, ""),
    ("add to a group this plan creates, not yet created", AddMember(group_name="Ops", user_id=JOHN.id,
     email=JOHN.email), {}, State.STALE, "does not exist"),
    ("add: group renamed", AddMember(**ADD_JOHN), {"edit": renamed, "out": john_leaves_group}, State.STALE, "renamed"),
    ("add: protected group", AddMember(group_name="Holidays", group_id="g-hol", user_id=JANE.id, email=JANE.email),
     {}, State.STALE, "protected"),
    ("add: the user is no longer active", AddMember(group_name="Jane Smith", group_id="g-jane", user_id=GONE.id,
     email=GONE.email), {}, State.STALE, "no longer an active member"),
    ("add: a status clocksync does not know", AddMember(group_name="Jane Smith", group_id="g-jane", user_id=ODD.id,
     email=ODD.email), {}, State.STALE, "no longer an active member"),
    ("remove: ready", RemoveMember(**ADD_JOHN), {}, State.READY, ""),
    ("remove: not a member", RemoveMember(**ADD_JOHN), {"edit": john_leaves_group}, State.IN_PLACE, "not a member"),
    ("remove: group gone", RemoveMember(group_name="Nope", group_id="g-nope", user_id=JOHN.id, email=JOHN.email),
     {}, State.IN_PLACE, "no longer exists"),
    # roles
    ("grant: already held", GrantRole(**JANE_OVER_JOHN), {}, State.IN_PLACE, "already held"),
    ("grant: ready", GrantRole(**{**JANE_OVER_JOHN, "holder_id": OPS.id, "holder_email": OPS.email}), {},
     State.READY, ""),
    ("grant: the manager is no longer active", GrantRole(**{**JANE_OVER_JOHN, "holder_id": OPS.id}),
     {"edit": lambda v: v.members.pop(OPS.id)}, State.STALE, "no longer an active member"),
    ("grant over a user who left", GrantRole(**{**JANE_OVER_JOHN, "holder_id": OPS.id}), {"edit": john_gone},
     State.STALE, "user does not exist"),
    ("grant over a group: held", GrantRole(**JANE_OVER_GROUP), {}, State.IN_PLACE, "already held"),
    ("grant over a protected group", GrantRole(**{**JANE_OVER_GROUP, "entity_id": "g-hol", "entity_name": "Holidays"}),
     {}, State.STALE, "protected"),
    ("grant over a group the plan creates, by name", GrantRole(**{**JANE_OVER_GROUP, "entity_id": None}), {},
     State.IN_PLACE, "already held"),
    ("grant project", GrantRole(holder_id=OPS.id, holder_email=OPS.email, role="PROJECT_MANAGER",
     entity_kind="project", entity_id="p1", entity_name="p1"), {}, State.READY, ""),
    ("revoke: ready", RevokeRole(**JANE_OVER_JOHN), {}, State.READY, ""),
    ("revoke: not held", RevokeRole(**{**JANE_OVER_JOHN, "holder_id": OPS.id}), {}, State.IN_PLACE, "not held"),
    ("revoke over a user who left", RevokeRole(**JANE_OVER_JOHN), {"edit": john_gone}, State.IN_PLACE, "no longer exists"),
    ("revoke project: held", RevokeRole(holder_id=JANE.id, holder_email=JANE.email, role="PROJECT_MANAGER",
     entity_kind="project", entity_id="p1", entity_name="p1"), {}, State.READY, ""),
    # statuses
    ("deactivate: ready", DeactivateUser(user_id=JANE.id, email=JANE.email), {}, State.READY, ""),
    ("deactivate: already inactive", DeactivateUser(user_id=GONE.id, email=GONE.email), {}, State.IN_PLACE, "INACTIVE"),
    ("deactivate the owner", DeactivateUser(user_id=OWNER.id, email=OWNER.email), {}, State.STALE, "never"),
    ("deactivate: status unknown to clocksync", DeactivateUser(user_id=ODD.id, email=ODD.email), {}, State.STALE,
     "SUSPENDED"),
    ("deactivate: left", DeactivateUser(user_id=JOHN.id, email=JOHN.email), {"edit": john_gone}, State.STALE,
     "no longer in the workspace"),
    ("reactivate: ready", ActivateUser(user_id=GONE.id, email=GONE.email), {}, State.READY, ""),
    ("reactivate: already active", ActivateUser(user_id=JANE.id, email=JANE.email), {}, State.IN_PLACE, "ACTIVE"),
    ("reactivate someone deactivated since the plan", ActivateUser(user_id=JANE.id, email=JANE.email),
     {"edit": jane_inactive}, State.READY, ""),
    ("invite: not a member", InviteUser(email="new@example.com"), {}, State.READY, ""),
    ("invite: already a member (any case)", InviteUser(email="John@Example.com"), {}, State.IN_PLACE, "already a member"),
]


@pytest.mark.parametrize(("name", "action", "edits", "state", "reason"), ROWS, ids=[r[0] for r in ROWS])
def test_verdict(name: str, action: Action, edits: dict[str, Callable[[LiveView], None]], state: State,
                 reason: str) -> None:
    verdict = handler_for(action).verdict(action, view(**edits))
    assert verdict.state is state, verdict.reason
    assert reason in verdict.reason


def verdict_tables() -> set[type[Action]]:
    """The action types with verdict rows here, or in a kind's own test module (``VERDICT_CASES``: a
    kind added later keeps its table beside its test)."""
    import importlib
    import pkgutil

    import tests

    covered = {type(row[1]) for row in ROWS}
    for found in pkgutil.iter_modules(tests.__path__):
        if found.name.startswith("test_") and found.name != "test_kinds":
            module = importlib.import_module(f"tests.{found.name}")
            covered |= {type(action) for action in getattr(module, "VERDICT_CASES", ())}
    return covered


def test_every_kind_has_verdict_rows_and_a_handler() -> None:
    assert verdict_tables() == set(ACTION_TYPES)
    assert all(isinstance(Handler.registry.get(cls), Handler) for cls in ACTION_TYPES)


@pytest.mark.parametrize(("name", "action", "edits", "state", "reason"),
                         [r for r in ROWS if r[3] is State.READY], ids=[r[0] for r in ROWS if r[3] is State.READY])
def test_effect_makes_the_action_done(name: str, action: Action, edits: dict[str, Callable[[LiveView], None]],
                                      state: State, reason: str) -> None:
    """After a write, the handler's effect on the view is exactly "this action is done"."""
    live = view(**edits)
    handler = handler_for(action)
    created = "new-id" if action.provides() else None
    handler.effect(action, live, created)
    assert handler.verdict(action, live).state is State.IN_PLACE


def test_ids_use_one_name_key() -> None:
    """"Jane  Smith" and "jane smith" are one group to every rule, and one action id."""
    a = AddMember(group_name="Jane  Smith", user_id="u1", email="u@x.io")
    b = AddMember(group_name="jane smith", user_id="u1", email="u@x.io")
    assert a.id == b.id
    assert CreateGroup(group_name="Jane  Smith").id == CreateGroup(group_name="JANE SMITH").id


KINDS = Path(__file__).resolve().parent.parent / "clocksync" / "kinds"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (type-checking blocks too), relative ones resolved."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = "clocksync.kinds".rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(part for part in (base, node.module or "") if part)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(KINDS.glob("*.py")), ids=lambda p: p.name)
def test_kinds_import_neither_apply_nor_load(path: Path) -> None:
    """A kind owns its rule: nothing under clocksync/kinds/ reaches into the executor or the loaders."""
    banned = sorted(m for m in imported_modules(path)
                    if m.split(".")[:2] in (["clocksync", "apply"], ["clocksync", "load"]))
    assert banned == []


def test_the_import_check_sees_every_form(tmp_path: Path) -> None:
    """The check above cannot pass by missing an import form."""
    source = tmp_path / "kind.py"
    source.write_text("import clocksync.apply.verify\nfrom ..load import desired\n"
                      "if TYPE_CHECKING:\n    from clocksync.apply.view import X\n", encoding="utf-8")
    assert {"clocksync.apply.verify", "clocksync.load.desired", "clocksync.apply.view.X"} <= imported_modules(source)
