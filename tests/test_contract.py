"""Contract tests: the client's requests and the emulator's responses against Clockify's spec."""

from __future__ import annotations

import asyncio
import json

from tests.conftest import EmulatorHarness
from tests.contract import check_request, check_response, spec


def test_every_client_call_matches_the_spec(harness: EmulatorHarness) -> None:
    """Exercise every wrapper; the harness fixture fails the test on any violation."""

    async def run() -> None:
        async with harness.client() as client:
            users = await client.list_users()
            uid = next(u.id for u in users if u.email == "john.doe@example.com")
            other = next(u.id for u in users if u.email == "noah.brown@example.com")
            await client.get_current_user()
            await client.list_workspaces("WORKSPACE_ADMIN")
            await client.list_workspaces("OWNER")
            await client.get_workspace()
            await client.find_owners()
            await client.get_member_profile(uid)
            field = await client.create_custom_field("Cost centre")
            await client.list_custom_fields()
            await client.update_member_profile(uid, work_capacity="PT7H30M", custom_fields={field.id: "CC-2"},
                                               working_days=["MONDAY", "TUESDAY"], week_start="MONDAY")
            group = await client.create_group("Contract test")
            await client.add_group_member(group.id, uid)
            await client.grant_role(other, "TEAM_MANAGER", group.id, via_group=True)
            await client.grant_role(other, "TEAM_MANAGER", uid)
            await client.list_groups()
            await client.revoke_role(other, "TEAM_MANAGER", uid)
            await client.remove_group_member(group.id, uid)
            await client.delete_group(group.id)
            await client.list_holidays()
            await client.list_time_off_policies()
            assert [p.name for p in await client.list_projects()] == ["Website relaunch"]
            await client.add_user("someone.new@example.com", send_email=False)
            await client.set_member_rate(uid, "hourly-rate", 8550, since="2026-01-01T00:00:00Z")
            await client.set_member_rate(uid, "cost-rate", 4000)
            await client.set_user_status(uid, "INACTIVE")

    asyncio.run(run())
    # Served by the emulator but never called by clocksync: its answers are checked in test_emulator.
    served_only = {"PUT /workspaces/{workspaceId}/users/{userId}/custom-field/{customFieldId}/value"}
    assert set(harness.transport.operations) == set(spec()["operations"]) - served_only, \
        "every derived operation clocksync calls is exercised"


def test_wrong_path_is_caught() -> None:
    _, problems = check_request("GET", "/workspaces/w1/usergroups", [], b"")
    assert problems and "not an operation" in problems[0]


def test_undeclared_query_parameter_is_caught() -> None:
    key, problems = check_request("GET", "/workspaces/w1/custom-fields", [("page-size", "50")], b"")
    assert key == "GET /workspaces/{workspaceId}/custom-fields"
    assert any("'page-size' is not declared" in p for p in problems)


def test_missing_required_query_parameter_is_caught() -> None:
    _, problems = check_request("GET", "/workspaces/w1/users", [("page", "1")], b"")
    assert any("'include-roles' is missing" in p for p in problems)


def test_malformed_body_is_caught() -> None:
    body = json.dumps({"role": "TEAM_BOSS", "entityId": "u1"}).encode()
    _, problems = check_request("POST", "/workspaces/w1/users/u2/roles", [], body)
    assert any("TEAM_BOSS" in p for p in problems)
    _, problems = check_request("POST", "/workspaces/w1/user-groups/g1/users", [], b"{}")
    assert any("userId" in p for p in problems)


def test_body_on_a_bodiless_operation_is_caught() -> None:
    _, problems = check_request("DELETE", "/workspaces/w1/user-groups/g1", [], b'{"x": 1}')
    assert problems


def test_bad_response_is_caught() -> None:
    key = "GET /workspaces/{workspaceId}/user-groups"
    assert check_response(key, 200, json.dumps([{"id": 1, "userIds": "u1"}]).encode())
    assert check_response(key, 201, b"[]"), "an undeclared status is a violation"
    assert check_response(key, 400, b'{"message": "x", "code": "501"}'), "code must be a number"
    assert not check_response(key, 400, b'{"message": "x", "code": 501}')


def test_derived_subset_has_no_prose_and_lists_its_patches() -> None:
    def prose(node: object) -> list[str]:
        if isinstance(node, dict):
            found = [k for k, v in node.items() if k in ("description", "example", "summary") and isinstance(v, str)]
            return found + [p for v in node.values() for p in prose(v)]
        if isinstance(node, list):
            return [p for v in node for p in prose(v)]
        return []

    assert prose(spec()["operations"]) == [] and prose(spec()["components"]) == []
    assert any("workingDays" in p for p in spec()["patches"])
