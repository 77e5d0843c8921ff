"""The emulator answers as the spec and API-NOTES say: auth, limits, errors, paging, persistence."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx

from clocksync.emulator.app import EmulatorOptions
from clocksync.emulator.demo import demo_workspace
from clocksync.emulator.server import load_or_create
from clocksync.emulator.state import WorkspaceState
from tests.conftest import EmulatorHarness, make_harness

WS = "/api/v1/workspaces/64a1f0c2e4b0d9a1c0de0001"


def call(h: EmulatorHarness, method: str, path: str, *, key: str | None = "default", **kwargs) -> httpx.Response:  # type: ignore[no-untyped-def]
    headers = dict(kwargs.pop("headers", {}))
    if key is not None:
        headers["X-Api-Key"] = h.api_key if key == "default" else key

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(transport=h.transport, base_url="http://127.0.0.1") as client:
            return await client.request(method, path, headers=headers, **kwargs)

    return asyncio.run(go())


def test_auth_errors(harness: EmulatorHarness) -> None:
    none = call(harness, "GET", "/api/v1/user", key=None)
    assert none.status_code == 401 and none.json() == {"message": "Multiple or none auth tokens present", "code": 1000}
    wrong = call(harness, "GET", "/api/v1/user", key="not-a-key")
    assert wrong.status_code == 401 and wrong.json()["code"] == 4003


def test_unknown_route_and_method(harness: EmulatorHarness) -> None:
    missing = call(harness, "GET", f"{WS}/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == 3000
    wrong_verb = call(harness, "PUT", f"{WS}/member-profile/abc", json={})
    assert wrong_verb.status_code == 405 and wrong_verb.json()["code"] == 3000
    assert len(harness.transport.violations) == 2, "the contract check saw both off-spec requests"
    harness.transport.violations.clear()


def test_paging_headers_and_limits(harness: EmulatorHarness) -> None:
    first = call(harness, "GET", f"{WS}/users", params={"page-size": "5", "include-roles": "false"})
    assert len(first.json()) == 5 and first.headers["Last-Page"] == "false"
    last = call(harness, "GET", f"{WS}/users", params={"page-size": "5", "page": "3", "include-roles": "false"})
    assert last.headers["Last-Page"] == "true"
    too_big = call(harness, "GET", f"{WS}/users", params={"page-size": "5001", "include-roles": "true"})
    assert too_big.status_code == 400 and too_big.json()["code"] == 501
    missing = call(harness, "GET", f"{WS}/users")
    assert missing.status_code == 400 and missing.json()["code"] == 3001, "include-roles is required"
    assert harness.transport.violations == [
        "GET /workspaces/{workspaceId}/users: required query parameter 'include-roles' is missing"]
    harness.transport.violations.clear()
    fields = call(harness, "GET", f"{WS}/custom-fields")
    assert "Last-Page" not in fields.headers, "custom fields are not paginated"


def test_business_conflicts_are_400_501(harness: EmulatorHarness) -> None:
    created = call(harness, "POST", f"{WS}/user-groups", json={"name": "Team"})
    assert created.status_code == 201
    again = call(harness, "POST", f"{WS}/user-groups", json={"name": "team"})
    assert again.status_code == 400 and again.json()["code"] == 501
    grant = {"role": "TEAM_MANAGER", "entityId": created.json()["id"], "sourceType": "USER_GROUP"}
    owner = harness.state.ws.owner_id
    assert call(harness, "POST", f"{WS}/users/{owner}/roles", json=grant).status_code == 201
    assert call(harness, "DELETE", f"{WS}/users/{owner}/roles", json=grant).status_code == 204
    assert call(harness, "DELETE", f"{WS}/users/{owner}/roles", json=grant).status_code == 400
    assert call(harness, "PUT", f"{WS}/users/{owner}", json={"status": "INACTIVE"}).status_code == 403


def test_profile_patch_validates_before_writing(harness: EmulatorHarness) -> None:
    uid = harness.user_id("john.doe@example.com")
    bad = call(harness, "PATCH", f"{WS}/member-profile/{uid}", json={"workCapacity": "PT7H", "workingDays": "MONDAY"})
    assert bad.status_code == 400
    assert harness.state.ws.users[uid].work_capacity == "PT8H", "a rejected body changes nothing"
    assert len(harness.transport.violations) == 1, "the off-spec body was seen by the contract check"
    harness.transport.violations.clear()


def test_rate_limit_answers_429_with_body() -> None:
    h = make_harness(options=EmulatorOptions(rate_limit=5, retry_after=2))
    codes = [call(h, "GET", "/api/v1/user").status_code for _ in range(12)]
    assert codes.count(429) >= 5
    limited = call(h, "GET", "/api/v1/user")
    assert limited.status_code == 429 and limited.json()["code"] == 429 and limited.headers["Retry-After"] == "2"


def test_applied_then_502_fault(harness: EmulatorHarness) -> None:
    h = make_harness(options=EmulatorOptions(rate_limit=0, p_applied_502=1.0))
    answer = call(h, "POST", f"{WS}/user-groups", json={"name": "Ghost"})
    assert answer.status_code == 502
    assert h.group("Ghost") is not None, "the write was applied"


def test_state_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    state, key = load_or_create(path, None)
    assert path.exists()
    state.create_group({"name": "Persisted"})
    state.save(path)
    again, key2 = load_or_create(path, None)
    assert key2 == key
    assert any(g.name == "Persisted" for g in again.ws.groups.values())
    assert json.loads(path.read_text())["id"] == state.ws.id


def test_demo_workspace_fits_the_sample_csv() -> None:
    state, _ = demo_workspace("k")
    emails = {u.email for u in state.ws.users.values()}
    sample = (Path(__file__).resolve().parent.parent / "examples" / "sample_users.csv").read_text().splitlines()[1:]
    in_csv = {line.split(",")[0] for line in sample}
    assert in_csv - emails == {"new.hire@example.com"}, "one new hire is missing on purpose"


def test_state_survives_json(tmp_path: Path) -> None:
    state, _ = demo_workspace("k")
    copy = WorkspaceState.from_json(json.loads(json.dumps(state.to_json())))
    assert copy.to_json() == state.to_json()
    assert copy.ws.users and copy.ws.groups and copy.ws.roles and copy.ws.holidays and copy.ws.policies


def test_dropped_connection_after_a_write() -> None:
    import pytest

    h = make_harness(options=EmulatorOptions(rate_limit=0, p_drop=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        call(h, "POST", f"{WS}/user-groups", json={"name": "Dropped"})
    assert h.group("Dropped") is not None, "the write was applied before the connection dropped"


def test_429_storm_windows() -> None:
    h = make_harness(options=EmulatorOptions(rate_limit=0, storm_every=10.0, storm_length=5.0))
    assert call(h, "GET", "/api/v1/user").status_code == 429, "the first seconds are a storm"
    h.emulator.options.storm_length = 0.0
    assert call(h, "GET", "/api/v1/user").status_code == 200
