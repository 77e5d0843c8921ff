"""The emulator answers as the spec and API-NOTES say: auth, limits, errors, paging, persistence."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from clocksync.emulator.app import EmulatorOptions
from clocksync.emulator.demo import demo_workspace
from clocksync.emulator.server import load_or_create
from clocksync.emulator.state import CustomField, WorkspaceState
from clocksync.emulator.variants import Answers
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
    h = make_harness(options=EmulatorOptions(rate_limit=0, p_drop=1.0))
    with pytest.raises(httpx.RemoteProtocolError):
        call(h, "POST", f"{WS}/user-groups", json={"name": "Dropped"})
    assert h.group("Dropped") is not None, "the write was applied before the connection dropped"


def test_429_storm_windows() -> None:
    h = make_harness(options=EmulatorOptions(rate_limit=0, storm_every=10.0, storm_length=5.0))
    assert call(h, "GET", "/api/v1/user").status_code == 429, "the first seconds are a storm"
    h.emulator.options.storm_length = 0.0
    assert call(h, "GET", "/api/v1/user").status_code == 200


# ---------------------------------------------------------------------- what a real workspace refuses


def typed_harness(**answers: bool) -> EmulatorHarness:
    state, key = demo_workspace("typed-emulator")
    for f in (CustomField(id="f-num", name="Global ID", type="NUMBER"),
              CustomField(id="f-box", name="Part-time", type="CHECKBOX"),
              CustomField(id="f-one", name="Department", type="DROPDOWN_SINGLE", allowed_values=["Engineering", "Sales"]),
              CustomField(id="f-many", name="Skills", type="DROPDOWN_MULTIPLE", allowed_values=["Python", "SQL"]),
              CustomField(id="f-link", name="Wiki", type="LINK"),
              CustomField(id="f-txt", name="Badge", type="TXT", required=True)):
        state.ws.fields[f.id] = f
    return make_harness(state, key, EmulatorOptions(rate_limit=0, answers=Answers(**answers)))


VALUES = [
    ("f-num", 10004, 200), ("f-num", 10004.5, 200), ("f-num", "10004", 400), ("f-num", True, 400),
    ("f-box", True, 200), ("f-box", "Yes", 400), ("f-box", 1, 400),
    ("f-one", "Engineering", 200), ("f-one", "engineering", 400), ("f-one", "Eng.", 400), ("f-one", ["Sales"], 400),
    ("f-many", ["Python", "SQL"], 200), ("f-many", "Python", 400), ("f-many", ["Python", "Go"], 400),
    ("f-link", "https://wiki.example.com/x", 200), ("f-link", "wiki.example.com", 400), ("f-link", 7, 400),
    ("f-txt", "B-7", 200), ("f-txt", 7, 400), ("f-txt", None, 400), ("f-txt", "", 400),
]


@pytest.mark.parametrize(("field_id", "value", "status"), VALUES, ids=[f"{f}={v!r}" for f, v, _ in VALUES])
def test_a_user_field_takes_only_values_of_its_type(field_id: str, value: object, status: int) -> None:
    """Both writes of a value refuse what the field cannot hold (400/501), and every answer is the spec's."""
    h = typed_harness()
    uid = h.user_id("john.doe@example.com")
    before = dict(h.state.ws.users[uid].custom_values)
    patch = call(h, "PATCH", f"{WS}/member-profile/{uid}", json={"userCustomFields": [
        {"customFieldId": field_id, "value": value}]})
    put = call(h, "PUT", f"{WS}/users/{uid}/custom-field/{field_id}/value", json={"value": value})
    assert patch.status_code == status and put.status_code in (status, 201 if status == 200 else status)
    if status == 400:
        assert patch.json()["code"] == 501 and "Custom field" in patch.json()["message"] or "required" in patch.text
        assert h.state.ws.users[uid].custom_values == before, "a refused value changes nothing"
    else:
        assert h.state.ws.users[uid].custom_values[field_id] == value
    assert h.transport.violations == []


def test_field_caps_and_dropdowns_without_values_are_refused() -> None:
    h = typed_harness()  # 2 demo fields + 6 VISIBLE: 8 active
    created = [call(h, "POST", f"{WS}/custom-fields", json={"name": f"Extra {n}", "type": "TXT", "entityType": "USER",
                                                            "status": "VISIBLE"}) for n in range(3)]
    assert [c.status_code for c in created] == [201, 201, 400], "the 11th active USER field is refused"
    assert "at most 10 active" in created[2].json()["message"] and created[2].json()["code"] == 4033
    hidden = call(h, "POST", f"{WS}/custom-fields", json={"name": "Hidden", "type": "TXT", "entityType": "USER",
                                                          "status": "INVISIBLE"})
    assert hidden.status_code == 201, "an INVISIBLE field is not active: only the 50 in all limits it"
    empty = call(h, "POST", f"{WS}/custom-fields", json={"name": "Level", "type": "DROPDOWN_SINGLE",
                                                         "entityType": "USER", "status": "INVISIBLE"})
    assert empty.status_code == 400 and "allowedValues" in empty.json()["message"]
    listed = {f["name"]: f for f in call(h, "GET", f"{WS}/custom-fields", params={"entity-type": "USER"}).json()}
    assert listed["Department"]["allowedValues"] == ["Engineering", "Sales"] and listed["Badge"]["required"] is True
    assert h.transport.violations == []


@pytest.mark.parametrize("email_null", [False, True], ids=["email-missing", "limited-email-null"])
def test_limited_members_are_hidden_unless_asked_for(email_null: bool) -> None:
    h = typed_harness(limited_email_null=email_null)
    base = {"include-roles": "false", "page-size": "100"}
    default = call(h, "GET", f"{WS}/users", params=base).json()
    assert all(u.get("email") for u in default), "the default listing hides limited members"
    limited = call(h, "GET", f"{WS}/users", params={**base, "account-statuses": "LIMITED"}).json()
    assert [u["name"] for u in limited] == ["Front desk kiosk"] and limited[0]["status"] == "LIMITED"
    assert ("email" in limited[0] and limited[0]["email"] is None) if email_null else "email" not in limited[0]
    both = call(h, "GET", f"{WS}/users", params={**base, "account-statuses": "ACTIVE,LIMITED"}).json()
    assert len(both) == len(default) + 1
    jane = next(g for g in call(h, "GET", f"{WS}/user-groups").json() if g["name"] == "Jane Smith")
    assert limited[0]["id"] in jane["userIds"], "present in the groups"
    assert call(h, "GET", f"{WS}/users", params={**base, "account-statuses": "KIOSK"}).status_code == 400
    assert h.transport.violations == []


ADMIN_KEY = "admin-key-of-jane-smith-000000000"


@pytest.mark.parametrize(("variant", "email"), [("owner_profile_readonly", "admin@example.com"),
                                                 ("pending_profile_readonly", "new.hire@example.com")])
def test_readonly_profile_variants_refuse_with_403(variant: str, email: str) -> None:
    h = typed_harness(**{variant: True})
    h.state.ws.api_keys[ADMIN_KEY] = h.user_id("jane.smith@example.com")  # an admin who is not the owner
    h.state.ws.admin_ids.append(h.user_id("jane.smith@example.com"))
    if email == "new.hire@example.com":
        assert call(h, "POST", f"{WS}/users", params={"send-email": "false"}, json={"email": email}).status_code == 200
    uid = h.user_id(email)
    answer = call(h, "PATCH", f"{WS}/member-profile/{uid}", json={"workCapacity": "PT6H"}, key=ADMIN_KEY)
    assert answer.status_code == 403 and answer.json()["code"] == 403 and "profile" in answer.json()["message"]
    other = h.user_id("john.doe@example.com")
    assert call(h, "PATCH", f"{WS}/member-profile/{other}", json={"workCapacity": "PT6H"}, key=ADMIN_KEY).status_code == 200
    if variant == "owner_profile_readonly":  # the documented case: the owner edits their own profile
        assert call(h, "PATCH", f"{WS}/member-profile/{uid}", json={"workCapacity": "PT7H"}).status_code == 200
        assert h.state.ws.users[uid].work_capacity == "PT7H"
    assert h.transport.violations == []


@pytest.mark.parametrize("refused", [False, True], ids=["default", "inactive-value-refused"])
def test_a_value_of_an_inactive_field_is_taken_or_refused_as_the_variant_says(refused: bool) -> None:
    h = typed_harness(inactive_value_refused=refused)
    h.state.ws.fields["f-txt"].required = False
    h.state.ws.fields["f-txt"].status = "INACTIVE"
    uid = h.user_id("john.doe@example.com")
    patch = call(h, "PATCH", f"{WS}/member-profile/{uid}", json={"workCapacity": "PT6H", "userCustomFields": [
        {"customFieldId": "f-txt", "value": "B-7"}]})
    put = call(h, "PUT", f"{WS}/users/{uid}/custom-field/f-txt/value", json={"value": "B-8"})
    if refused:
        assert (patch.status_code, put.status_code) == (400, 400) and "inactive" in patch.json()["message"]
        assert h.state.ws.users[uid].work_capacity == "PT8H", "a refused PATCH changes nothing"
    else:
        assert (patch.status_code, put.status_code) == (200, 201)
        assert h.state.ws.users[uid].custom_values["f-txt"] == "B-8"
    cleared = call(h, "PATCH", f"{WS}/member-profile/{uid}", json={"userCustomFields": [
        {"customFieldId": "f-txt", "value": None}]})
    assert cleared.status_code == 200, "a clear is not a value"
    assert h.transport.violations == []


@pytest.mark.parametrize("counted", [False, True], ids=["default", "invisible-fields-active"])
def test_invisible_fields_count_as_active_under_the_variant(counted: bool) -> None:
    h = typed_harness(invisible_fields_active=counted)  # 2 demo fields + 6 VISIBLE: 8 active
    hidden = [call(h, "POST", f"{WS}/custom-fields", json={"name": f"Hidden {n}", "type": "TXT", "entityType": "USER",
                                                           "status": "INVISIBLE"}) for n in range(3)]
    assert [r.status_code for r in hidden] == ([201, 201, 400] if counted else [201, 201, 201])
    visible = call(h, "POST", f"{WS}/custom-fields", json={"name": "Shown", "type": "TXT", "entityType": "USER",
                                                           "status": "VISIBLE"})
    assert visible.status_code == (400 if counted else 201)
    assert h.transport.violations == []
