"""Roles read in every shape public evidence shows, and what cannot be read is never acted on."""

from __future__ import annotations

from typing import Any

import pytest

from clocksync.clockify.schemas import WireGroup, WireUser
from clocksync.load.current import roles_from
from clocksync.model import RoleGrant
from tests.conftest import EXAMPLES

GROUPS = [{"id": "g1", "name": "G1", "teamManagers": [{"id": "m1", "name": "M"}]},
          {"id": "g2", "name": "G2", "teamManagers": []}]
MEMBERS = [{"id": "u1", "email": "u1@x.io"}, {"id": "u2", "email": "u2@x.io"}]


def read(roles: Any, groups: list[dict[str, Any]] = GROUPS) -> tuple[set[RoleGrant], set[str]]:
    holder: dict[str, Any] = {"id": "m1", "email": "m@x.io"}
    if roles != "absent":
        holder["roles"] = roles
    users = [WireUser.model_validate(holder), *(WireUser.model_validate({**m, "roles": []}) for m in MEMBERS)]
    reading = roles_from(users, [WireGroup.model_validate(g) for g in groups])
    return set(reading.grants), reading.unknown


DIRECT = RoleGrant("m1", "TEAM_MANAGER", "u1")
GROUP = RoleGrant("m1", "TEAM_MANAGER", "g1", True)


@pytest.mark.parametrize(("roles", "grants", "unknown"), [
    # the shape public sync code reads: {role, entities: [{id, source}]}
    ([{"role": "TEAM_MANAGER", "entities": [{"id": "u1"}, {"id": "g1", "source": {"type": "USER_GROUP"}}]}],
     {DIRECT, GROUP}, set()),
    # source as a string, null, or absent: a known group id is a group grant whatever it says
    ([{"role": "TEAM_MANAGER", "entities": [{"id": "g1", "source": "USER_GROUP"}, {"id": "u1"}]}], {DIRECT, GROUP}, set()),
    ([{"role": "TEAM_MANAGER", "entities": [{"id": "g1", "source": None}, {"id": "u1", "source": None}]}],
     {DIRECT, GROUP}, set()),
    ([{"role": "TEAM_MANAGER", "entities": [{"id": "g1"}]}], {GROUP}, set()),
    # the group's teamManagers is the authority: a roles entry for a group not managed there is not a grant
    ([{"role": "TEAM_MANAGER", "entities": [{"id": "g2", "source": None}]}], {GROUP}, set()),
    # flat and single-entity shapes other clients guard against
    ([{"role": {"name": "TEAM_MANAGER"}, "entityId": "u1"}], {DIRECT, GROUP}, set()),
    ([{"role": "TEAM_MANAGER", "entity": {"id": "u1"}}], {DIRECT, GROUP}, set()),
    # a ghost role (no entities), entities null, roles null: nothing held
    ([{"role": "TEAM_MANAGER", "entities": []}], {GROUP}, set()),
    ([{"role": "TEAM_MANAGER", "entities": None}], {GROUP}, set()),
    (None, {GROUP}, set()),
    # PROJECT_MANAGER keeps its project id
    ([{"role": "PROJECT_MANAGER", "entities": [{"id": "p1"}]}], {GROUP, RoleGrant("m1", "PROJECT_MANAGER", "p1")}, set()),
    # an entity that is neither a member nor a group, or a group grant on an unseen group: unknown
    ([{"role": "TEAM_MANAGER", "entities": [{"id": "zz"}]}], {GROUP}, {"m1"}),
    ([{"role": "TEAM_MANAGER", "entities": [{"id": "g9", "source": {"type": "USER_GROUP"}}]}], {GROUP}, {"m1"}),
    # no roles in the answer at all: what m1 manages cannot be established
    ("absent", {GROUP}, {"m1"}),
])
def test_roles_in_every_shape(roles: Any, grants: set[RoleGrant], unknown: set[str]) -> None:
    assert read(roles) == (grants, unknown)


def test_unknown_role_names_are_reported_not_fatal() -> None:
    users = [WireUser.model_validate({"id": "m1", "email": "m@x.io", "roles": [{"role": "TEAM_OVERLORD", "entities": []},
                                                                               {"role": "WORKSPACE_OWN"}]})]
    reading = roles_from(users, [])
    assert reading.owners == {"m1"}
    assert any("TEAM_OVERLORD" in w for w in reading.warnings)


def test_an_answer_that_cannot_be_read_stops_plan_and_apply_before_any_write(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import make_harness, run_cli

    h = make_harness()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "users.csv").write_text((EXAMPLES / "sample_users.csv").read_text())
    assert run_cli(h, "plan", "users.csv", "--config", str(EXAMPLES / "config.yaml")).exit_code == 0
    render = h.state.render_group

    def broken(group, managers):  # type: ignore[no-untyped-def]
        return {**render(group, managers), "userIds": {"not": "a list"}}

    monkeypatch.setattr(h.state, "render_group", broken)
    planned = run_cli(h, "plan", "users.csv", "--config", str(EXAMPLES / "config.yaml"), "--out", "p2.json")
    assert planned.exit_code == 1 and "ApiShapeError" in planned.output and "userIds" in planned.output
    applied = run_cli(h, "apply", "plans/plan.json", "--config", str(EXAMPLES / "config.yaml"))
    assert applied.exit_code == 1 and "userIds" in applied.output
    assert h.state.writes == 0
    h.transport.violations.clear()  # the broken answers are off-spec on purpose
