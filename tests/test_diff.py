"""The differ as a pure function over literal models: every domain rule of CONTRACT.md."""

from __future__ import annotations

from clocksync.kinds.custom_field import CreateCustomField
from clocksync.kinds.group import CreateGroup, DeleteGroup
from clocksync.kinds.membership import AddMember, RemoveMember
from clocksync.kinds.profile import UpdateProfile
from clocksync.kinds.role import GrantRole, RevokeRole
from clocksync.kinds.user_status import DeactivateUser, InviteUser
from clocksync.model import CustomField, RoleGrant
from clocksync.plan.diff import diff
from clocksync.plan.types import PlanOptions
from tests.factories import config, current, desired, group, member, profile, spec, tm, uid

OWNER = member("owner@example.com", "Owner")
OPS = member("ops@example.com", "Olivia Ops")
JANE = member("jane@example.com", "Jane Smith")
JOHN = member("john@example.com", "John Doe")
MARY = member("mary@example.com", "")


def kinds(result: object) -> list[str]:
    return [a.kind_name for a in result.actions]  # type: ignore[attr-defined]


def of(result: object, cls: type) -> list:
    return [a for a in result.actions if isinstance(a, cls)]  # type: ignore[attr-defined]


def converged_state():
    """Jane manages John; Ops manages Jane; everything already in place."""
    return current(
        [OWNER, OPS, JANE, JOHN],
        groups=[group("g-jane", "Jane Smith", "john@example.com"), group("g-ops", "Olivia Ops", "jane@example.com")],
        roles={tm("jane@example.com", "g-jane", True), tm("jane@example.com", "john@example.com"),
               tm("ops@example.com", "g-ops", True), tm("ops@example.com", "jane@example.com")},
        profiles={uid("john@example.com"): profile(), uid("jane@example.com"): profile()},
    )


def converged_desired():
    return desired(spec("jane@example.com", "ops@example.com", 28800), spec("john@example.com", "jane@example.com", 28800),
                   spec("ops@example.com"))


def test_converged_workspace_gives_no_actions() -> None:
    result = diff(converged_desired(), converged_state(), config())
    assert result.actions == []


def test_capacity_compared_by_value_and_fields_coalesced_into_one_update() -> None:
    state = current([OWNER, OPS, JOHN], fields=[CustomField("f1", "Company")],
                    profiles={uid("john@example.com"): profile(28800, "PT8H0M", f1="Old")})
    wanted = desired(spec("john@example.com", None, 28800, Company="Acme"))
    result = diff(wanted, state, config(field_mapping={"Company (Label)": "Company", "Global Id": "Global ID"}))
    updates = of(result, UpdateProfile)
    assert len(updates) == 1
    assert updates[0].capacity is None, "PT8H0M equals 8 h"
    assert updates[0].fields["Company"].before == "Old" and updates[0].fields["Company"].after == "Acme"
    creates = of(result, CreateCustomField)
    assert [c.field_name for c in creates] == ["Global ID"]


def test_profile_update_waits_for_the_field_it_needs() -> None:
    state = current([OWNER, OPS, JOHN], profiles={uid("john@example.com"): profile()})
    result = diff(desired(spec("john@example.com", None, None, **{"Global ID": "7"})), state,
                  config(field_mapping={"Global Id": "Global ID"}))
    create = of(result, CreateCustomField)[0]
    update = of(result, UpdateProfile)[0]
    assert create.id in update.depends_on
    assert kinds(result).index("create_custom_field") < kinds(result).index("update_profile")


def test_blank_hours_leave_capacity_unmanaged() -> None:
    state = current([OWNER, OPS, JOHN], profiles={uid("john@example.com"): profile(3600, "PT1H")})
    result = diff(desired(spec("john@example.com", "ops@example.com")), state, config())
    assert of(result, UpdateProfile) == []


def test_manager_group_is_created_with_members_and_roles() -> None:
    state = current([OWNER, OPS, JANE, JOHN, MARY])
    wanted = desired(spec("john@example.com", "jane@example.com"), spec("mary@example.com", "jane@example.com"))
    result = diff(wanted, state, config())
    create = [c for c in of(result, CreateGroup) if c.group_name == "Jane Smith"][0]
    adds = [a for a in of(result, AddMember) if a.group_name == "Jane Smith"]
    assert {a.email for a in adds} == {"john@example.com", "mary@example.com"}
    assert all(create.id in a.depends_on for a in adds), "members are added after the group exists"
    grants = of(result, GrantRole)
    assert any(g.entity_kind == "group" and g.entity_name == "Jane Smith" and g.holder_id == JANE.id
               and create.id in g.depends_on for g in grants)
    assert {g.entity_name for g in grants if g.entity_kind == "user"} == {"john@example.com", "mary@example.com"}


def test_display_name_falls_back_to_email() -> None:
    state = current([OWNER, OPS, MARY, JOHN])
    result = diff(desired(spec("john@example.com", "mary@example.com")), state, config())
    assert "mary@example.com" in [c.group_name for c in of(result, CreateGroup)]


def test_blank_unknown_inactive_or_self_manager_goes_to_fallback_group() -> None:
    gone = member("gone@example.com", "Gone", status="INACTIVE")
    ann = member("ann@example.com", "Ann")
    bob = member("bob@example.com", "Bob")
    cid = member("cid@example.com", "Cid")
    state = current([OWNER, OPS, gone, ann, bob, cid, JOHN])
    wanted = desired(spec("john@example.com"), spec("ann@example.com", "nobody@example.com", row=3),
                     spec("bob@example.com", "gone@example.com", row=4), spec("cid@example.com", "cid@example.com", row=5))
    result = diff(wanted, state, config())
    fallback = {a.email for a in of(result, AddMember) if a.group_name == "Other functions"}
    assert fallback == {"john@example.com", "ann@example.com", "bob@example.com", "cid@example.com"}
    assert {g.holder_id for g in of(result, GrantRole)} == {OPS.id}
    codes = {n.code for n in result.notices}
    assert {"unknown_manager", "inactive_manager"} <= codes


def test_stale_members_removed_and_other_direct_managers_revoked() -> None:
    pat = member("pat@example.com", "Pat")
    state = current(
        [OWNER, OPS, JANE, JOHN, MARY, pat],
        groups=[group("g-jane", "Jane Smith", "john@example.com", "mary@example.com")],
        roles={tm("jane@example.com", "g-jane", True), tm("jane@example.com", "john@example.com"),
               tm("pat@example.com", "john@example.com"), tm("pat@example.com", "g-jane", True)},
    )
    wanted = desired(spec("john@example.com", "jane@example.com"), spec("mary@example.com", "ops@example.com"),
                     spec("pat@example.com"))
    result = diff(wanted, state, config())
    assert [(r.email, r.group_name) for r in of(result, RemoveMember)] == [("mary@example.com", "Jane Smith")]
    revokes = {(r.holder_email, r.entity_kind, r.entity_name) for r in of(result, RevokeRole)}
    assert revokes == {("pat@example.com", "user", "john@example.com"), ("pat@example.com", "group", "Jane Smith")}
    assert "pat@example.com" not in [r.email for r in of(result, DeactivateUser)], "no deactivation by default"


def test_grants_come_before_revokes() -> None:
    pat = member("pat@example.com", "Pat")
    state = current([OWNER, OPS, JANE, JOHN, pat], roles={tm("pat@example.com", "john@example.com")})
    result = diff(desired(spec("john@example.com", "jane@example.com")), state, config())
    order = kinds(result)
    assert order.index("grant_role") < order.index("revoke_role")


def test_protected_groups_are_never_written_nor_used_as_manager_groups() -> None:
    state = current(
        [OWNER, OPS, JANE, JOHN, MARY],
        groups=[group("g-hol", "Holiday DE", "john@example.com"), group("g-usa", "usa", "john@example.com"),
                group("g-cfg", "Payroll", "mary@example.com"), group("g-jane", "Jane Smith", "mary@example.com")],
        protected={"g-hol": ("holiday 'Unity Day'",), "g-jane": ("time-off policy 'PTO'",)},
    )
    wanted = desired(spec("john@example.com", "jane@example.com", country="USA"),
                     spec("mary@example.com", "ops@example.com", country="USA"))
    result = diff(wanted, state, config(workspace={"fallback_manager_email": "ops@example.com",
                                                   "protected_groups": ["payroll"]}),
                  PlanOptions(delete_unmanaged_groups=True))
    touched = {getattr(a, "group_id", None) for a in result.actions} | {getattr(a, "entity_id", None) for a in result.actions}
    assert not touched & {"g-hol", "g-usa", "g-cfg", "g-jane"}
    assert {p.name for p in result.protected} == {"Holiday DE", "usa", "Payroll", "Jane Smith"}
    assert "protected_collision" in {n.code for n in result.notices}
    assert of(result, DeleteGroup) == []


def test_unmanaged_groups_left_alone_unless_asked() -> None:
    state = current([OWNER, OPS, JOHN], groups=[group("g-club", "Book club", "john@example.com")])
    wanted = desired(spec("john@example.com", "ops@example.com"))
    assert of(diff(wanted, state, config()), DeleteGroup) == []
    result = diff(wanted, state, config(), PlanOptions(delete_unmanaged_groups=True))
    [delete] = of(result, DeleteGroup)
    assert delete.group_name == "Book club" and delete.member_ids == (uid("john@example.com"),)
    assert delete.destructive


def test_managed_group_no_longer_desired_is_emptied_not_deleted() -> None:
    state = current([OWNER, OPS, JANE, JOHN], groups=[group("g-jane", "Jane Smith", "john@example.com")],
                    roles={tm("jane@example.com", "g-jane", True)})
    wanted = desired(spec("john@example.com", "ops@example.com"), spec("jane@example.com", "ops@example.com"))
    result = diff(wanted, state, config(), PlanOptions(delete_unmanaged_groups=True))
    assert [(r.email, r.group_name) for r in of(result, RemoveMember)] == [("john@example.com", "Jane Smith")]
    assert [(r.holder_email, r.entity_name) for r in of(result, RevokeRole)] == [("jane@example.com", "Jane Smith")]
    assert of(result, DeleteGroup) == []


def test_deactivation_reassigns_first_and_spares_owner_self_fallback() -> None:
    pat = member("pat@example.com", "Pat")
    me = member("me@example.com", "Key User")
    outsider = member("contractor@example.com", "Contractor")
    state = current(
        [OWNER, OPS, JANE, JOHN, pat, me, outsider],
        groups=[group("g-club", "Club", "pat@example.com"), group("g-hol", "Holidays", "pat@example.com")],
        roles={tm("pat@example.com", "contractor@example.com"), tm("pat@example.com", "g-club", True),
               RoleGrant(uid("pat@example.com"), "PROJECT_MANAGER", "p1")},
        protected={"g-hol": ("holiday 'X'",)},
        self_email="me@example.com",
    )
    wanted = desired(spec("john@example.com", "jane@example.com"), spec("contractor@example.com", "ops@example.com"))
    result = diff(wanted, state, config(), PlanOptions(deactivate_missing=True))
    deactivated = {d.email for d in of(result, DeactivateUser)}
    assert deactivated == {"pat@example.com"}, "owner, the key's user, fallback and CSV-named managers stay"
    [deactivate] = of(result, DeactivateUser)
    grants = {(g.holder_email, g.role, g.entity_kind, g.entity_id) for g in of(result, GrantRole)
              if "pat" in g.reason}
    assert grants == {("ops@example.com", "TEAM_MANAGER", "group", "g-club"),
                      ("ops@example.com", "PROJECT_MANAGER", "project", "p1")}
    pat_actions = [a for a in result.actions if a.id in deactivate.depends_on]
    assert {a.kind_name for a in pat_actions} >= {"grant_role", "revoke_role", "remove_member"}
    assert [(r.group_name) for r in of(result, RemoveMember) if r.email == "pat@example.com"] == ["Club"]
    assert kinds(result)[-1] == "deactivate_user"


def test_no_fallback_manager_means_no_deactivation() -> None:
    pat = member("pat@example.com", "Pat")
    state = current([OWNER, JOHN, pat])
    result = diff(desired(spec("john@example.com")), state, config(), PlanOptions(deactivate_missing=True))
    assert of(result, DeactivateUser) == []
    assert "deactivation_skipped" in {n.code for n in result.notices}


def test_unmatched_users_reported_or_invited() -> None:
    state = current([OWNER, OPS])
    wanted = desired(spec("new@example.com"))
    assert "unmatched_user" in {n.code for n in diff(wanted, state, config()).notices}
    result = diff(wanted, state, config(invite={"missing_users": True}))
    assert [i.email for i in of(result, InviteUser)] == ["new@example.com"]


def test_inactive_csv_user_is_left_alone() -> None:
    gone = member("gone@example.com", "Gone", "INACTIVE")
    result = diff(desired(spec("gone@example.com", "ops@example.com", 3600)), current([OWNER, OPS, gone]), config())
    assert result.actions == []
    assert "inactive_user" in {n.code for n in result.notices}


def test_same_display_name_managers_get_distinct_groups() -> None:
    a = member("a@example.com", "Sam Lee")
    b = member("b@example.com", "Sam Lee")
    x, y = member("x@example.com"), member("y@example.com")
    result = diff(desired(spec("x@example.com", "a@example.com"), spec("y@example.com", "b@example.com")),
                  current([OWNER, OPS, a, b, x, y]), config())
    names = sorted(c.group_name for c in of(result, CreateGroup))
    assert names == ["Sam Lee (a@example.com)", "Sam Lee (b@example.com)"]


def test_output_is_deterministic() -> None:
    state, wanted = converged_state(), desired(spec("john@example.com", "ops@example.com", 3600),
                                               spec("jane@example.com", "john@example.com"))
    first = [a.model_dump() for a in diff(wanted, state, config()).actions]
    second = [a.model_dump() for a in diff(wanted, state, config()).actions]
    assert first == second and first


def test_a_leaver_whose_management_cannot_be_read_is_not_deactivated() -> None:
    pat = member("pat@example.com", "Pat")
    state = current([OWNER, OPS, JOHN, pat], roles_unknown=frozenset({pat.id}))
    result = diff(desired(spec("john@example.com", "ops@example.com")), state, config(),
                  PlanOptions(deactivate_missing=True))
    assert of(result, DeactivateUser) == []
    [notice] = [n for n in result.notices if n.code == "management_unknown"]
    assert "pat@example.com" in notice.message and "could not be read" in notice.message


def test_a_status_clocksync_does_not_know_is_left_alone() -> None:
    odd = member("odd@example.com", "Odd", "SUSPENDED")
    state = current([OWNER, OPS, odd], profiles={odd.id: profile(3600, "PT1H")})
    result = diff(desired(spec("odd@example.com", "ops@example.com", 28800)), state, config(),
                  PlanOptions(deactivate_missing=True))
    assert result.actions == []
    assert any("SUSPENDED" in n.message for n in result.notices if n.code == "inactive_user")
