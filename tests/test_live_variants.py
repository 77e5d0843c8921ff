"""The end-to-end scenario under every plausible live answer (``--live-variant``) and all at once.

The workspace: the demo plus enough users and groups to need several capped pages, a leaver who
manages a group listed on a late page, and a user with an unmapped "Cost center" value that every
profile write must leave alone. A real workspace's shapes too: "Global ID" a NUMBER field holding
floats and ints, "Company" a dropdown, the owner and an invited (PENDING) member in the CSV, and
limited members (no email) in a managed group, in a group that is no longer wanted, and managed
directly by the leaver. Under each variant: plan, apply (with a deactivation), and then the
emulator's state is exactly the state before plus the plan's actions that the variant lets land
(so every value the plan did not name is unchanged, and no limited member moved), a second plan
holds only what the variant refused, a re-apply writes nothing, and no exchange broke the spec.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from clocksync.apply.executor import apply_plan
from clocksync.apply.report import ApplySettings
from clocksync.config import load_config
from clocksync.durations import parse_duration
from clocksync.emulator.app import EmulatorOptions
from clocksync.emulator.demo import demo_workspace
from clocksync.emulator.state import CustomField, Group, Role, User, WorkspaceState
from clocksync.emulator.variants import VARIANTS, Answers
from clocksync.load.desired import load_desired
from clocksync.plan.file import Plan
from clocksync.plan.make import make_plan
from clocksync.plan.types import PlanOptions
from tests.conftest import EXAMPLES, FAST_RETRY, EmulatorHarness, make_harness
from tests.facts import facts

PAGE_CAP = 3
EACH = ["profile-patch-replaces", f"page-cap={PAGE_CAP}", "group-grant-lag=0.2", "remove-nonmember-ok",
        "duplicate-add-ok", "roles-source-null", "no-retry-after", "empty-429-body", "profile-answer-stale",
        "null-value-kept", "null-value-refused", "limited-email-null", "owner-profile-readonly",
        "pending-profile-readonly", "inactive-value-refused", "invisible-fields-active"]
# The profile writes each variant refuses: planned with a warning, failed with Clockify's message.
REFUSED = {"owner-profile-readonly": ("ops-lead@example.com", "HTTP 403"),
           "pending-profile-readonly": ("new.hire@example.com", "HTTP 403"),
           "inactive-value-refused": ("li.wei@example.com", "Custom field 'Legacy code' is inactive")}
FAST = ApplySettings(retry_budget=60, consistency_window=20, backoff_initial=0.002, backoff_max=0.05)


def workspace() -> tuple[WorkspaceState, str]:
    state, key = demo_workspace("variant-key")
    ws = state.ws
    ids = {u.email: u.id for u in ws.users.values()}
    cost = CustomField(id=state.new_id(), name="Cost center")  # a USER field clocksync does not map
    ws.fields[cost.id] = cost
    ws.users[ids["maria.garcia@example.com"]].custom_values[cost.id] = "CC-7"  # her capacity and Global ID change
    desk = CustomField(id=state.new_id(), name="Desk")  # listed on her profile with no value: never sent as null
    ws.fields[desk.id] = desk
    ws.users[ids["maria.garcia@example.com"]].custom_values[desk.id] = None
    ws.users[ids["li.wei@example.com"]].custom_values[cost.id] = "CC-9"
    ws.users[ids["li.wei@example.com"]].working_days = ["MONDAY", "TUESDAY", "WEDNESDAY"]
    for n in range(1, 7):  # listed before "Book club": it lands on a late page when pages are capped
        ws.groups[f"g-aa{n}"] = Group(id=state.new_id(), name=f"Aardvarks {n}", user_ids=[ids["admin@example.com"]])
    for n in range(1, 5):  # more members than fit on two capped pages
        user = User(id=state.new_id(), email=f"zz.extra{n}@example.com", name=f"Extra {n}", membership_status="INACTIVE")
        ws.users[user.id] = user
    club = next(g for g in ws.groups.values() if g.name == "Book club")
    ws.roles.add(Role(ids["pat.leaver@example.com"], "TEAM_MANAGER", club.id, True))  # the leaver manages it
    # The owner is in the CSV (the key is an admin's); an invited member has not joined yet.
    ws.admin_ids = [ids["admin@example.com"]]
    ws.owner_id = ids["ops-lead@example.com"]
    hire = User(id=state.new_id(), email="new.hire@example.com", name="", membership_status="PENDING",
                account_status="NOT_REGISTERED")
    ws.users[hire.id] = hire
    # Global ID is a NUMBER field; the API holds Maria's as a float: the CSV's 10003 is the same number.
    gid = CustomField(id=state.new_id(), name="Global ID", type="NUMBER")
    ws.fields[gid.id] = gid
    ws.users[ids["maria.garcia@example.com"]].custom_values[gid.id] = 10003.0
    ws.users[ids["li.wei@example.com"]].custom_values[gid.id] = 99  # a real change
    # An INACTIVE field with a value: sent back as read by her profile write, so no answer loses it
    # (refused under inactive-value-refused: that write fails, the plan said it might). An INVISIBLE
    # field counts as active for the caps (invisible-fields-active): the plan creates no field.
    legacy = CustomField(id=state.new_id(), name="Legacy code", status="INACTIVE")
    ws.fields[legacy.id] = legacy
    ws.users[ids["li.wei@example.com"]].custom_values[legacy.id] = "L-1"
    hidden = CustomField(id=state.new_id(), name="Payroll key", status="INVISIBLE")
    ws.fields[hidden.id] = hidden
    # Limited members: in a group no longer wanted (the leaver's), and one the leaver manages directly.
    tablet = User(id=state.new_id(), email="", name="Warehouse tablet", account_status="LIMITED")
    ws.users[tablet.id] = tablet
    pats = Group(id=state.new_id(), name="Pat Leaver", user_ids=[ids["lucas.martin@example.com"], tablet.id])
    ws.groups[pats.id] = pats
    ws.roles |= {Role(ids["pat.leaver@example.com"], "TEAM_MANAGER", pats.id, True),
                 Role(ids["pat.leaver@example.com"], "TEAM_MANAGER", tablet.id)}
    ws.groups = {g.id: g for g in ws.groups.values()}
    state.writes = 0
    return state, key


def expected_after(before: dict[str, Any], plan: Plan, refused: set[str] = frozenset()) -> dict[str, Any]:
    """The state before, with exactly the plan's actions applied (by names), but those in ``refused``."""
    after = {"users": {k: {**v, "fields": dict(v["fields"])} for k, v in before["users"].items()},
             "groups": {k: list(v) for k, v in before["groups"].items()}, "roles": set(before["roles"]),
             "fields": list(before["fields"])}
    for action in plan.actions:
        if action.id in refused:
            continue
        data = action.model_dump()
        kind = data["kind"]
        if kind == "create_custom_field":
            after["fields"] = sorted([*after["fields"], data["field_name"]])
        elif kind == "update_profile":
            user = after["users"][data["email"]]
            if data["capacity"]:
                user["capacity"] = parse_duration(data["capacity"]["after"])
            for name, change in data["fields"].items():
                user["fields"][name] = change["after"]
        elif kind == "create_group":
            after["groups"][data["group_name"]] = []
        elif kind == "add_member":
            after["groups"][data["group_name"]] = sorted([*after["groups"][data["group_name"]], data["email"]])
        elif kind == "remove_member":
            after["groups"][data["group_name"]].remove(data["email"])
        elif kind in ("grant_role", "revoke_role"):
            fact = (data["holder_email"], data["role"], data["entity_kind"], data["entity_name"])
            (after["roles"].add if kind == "grant_role" else after["roles"].discard)(fact)
        elif kind == "deactivate_user":
            after["users"][data["email"]]["status"] = "INACTIVE"
        else:
            raise AssertionError(f"the scenario does not expect {kind}")
    return after


def scenario(h: EmulatorHarness, tmp: Path, refused_profiles: dict[str, str] | None = None) -> None:
    """``refused_profiles``: email -> what the failure message says, for each profile write a variant refuses."""
    refused_profiles = refused_profiles or {}
    config = load_config(EXAMPLES / "config.yaml", required=True)
    desired = load_desired(EXAMPLES / "sample_users.csv", config)
    options = PlanOptions(deactivate_missing=True)

    async def run() -> tuple[Plan, Any, Any, Plan, Any]:
        async with h.client(retry=FAST_RETRY, page_size=50) as client:
            plan = await make_plan(client, desired, config, options)
            before = facts(h.state)
            report = await apply_plan(client, plan, confirm="I UNDERSTAND", log_dir=tmp, settings=FAST)
            again = await make_plan(client, desired, config, options)
            writes = h.state.writes
            reapplied = await apply_plan(client, plan, confirm="I UNDERSTAND", log_dir=tmp, settings=FAST)
            assert h.state.writes == writes, "re-applying an applied plan writes nothing"
            return plan, before, report, again, reapplied

    plan, before, report, again, reapplied = asyncio.run(run())
    problems = {r.action.id: r for r in report.problems()}
    expected = {a.id for a in plan.actions if a.kind_name == "update_profile" and a.target in refused_profiles}
    assert set(problems) == expected, [(r.action.describe(), r.outcome.value, r.message) for r in report.problems()]
    for result in problems.values():  # refused with Clockify's own words, the rest landed
        assert result.outcome.value == "failed" and refused_profiles[result.action.target] in result.message
    assert report.verification == [], [p.message for p in report.verification]
    notices = {n.code for n in plan.notices}
    assert {"owner_profile", "pending_profile", "limited_members", "inactive_values"} <= notices, notices
    assert "li.wei@example.com" in next(n.message for n in plan.notices if n.code == "inactive_values")
    assert plan.figures.limited_members == 2
    assert "pat.leaver@example.com" in [a.target for a in plan.actions if a.kind_name == "deactivate_user"]
    assert facts(h.state) == expected_after(before, plan, expected), "the state before plus the plan, exactly"
    after = facts(h.state)
    assert after["users"]["maria.garcia@example.com"]["fields"]["Cost center"] == "CC-7"
    assert after["users"]["maria.garcia@example.com"]["fields"]["Global ID"] == 10003.0, "the same number: untouched"
    li_wei = 99 if "li.wei@example.com" in refused_profiles else 10004
    assert after["users"]["li.wei@example.com"]["fields"]["Global ID"] == li_wei, "written as a JSON number"
    assert after["users"]["li.wei@example.com"]["fields"]["Legacy code"] == "L-1", "an INACTIVE field's value is kept"
    assert "Warehouse tablet (limited member)" in after["groups"]["Pat Leaver"], "a limited member is never removed"
    assert "Front desk kiosk (limited member)" in after["groups"]["Jane Smith"]
    assert ("ops-lead@example.com", "TEAM_MANAGER", "user", "Warehouse tablet (limited member)") in after["roles"]
    assert {(a.kind_name, a.target) for a in again.actions} == {("update_profile", e) for e in refused_profiles}
    assert bool(reapplied.writes) == bool(expected), "a re-apply sends only the refused writes again"
    assert {r.action.id for r in reapplied.problems()} == expected


@pytest.mark.parametrize("variants", [[v] for v in EACH] + [EACH], ids=[*EACH, "all-at-once"])
def test_scenario_converges_under_the_live_variant(tmp_path: Path, variants: list[str]) -> None:
    state, key = workspace()
    answers = Answers().with_variants(variants)
    # Random 429s (with a Retry-After unless a variant removes it) exercise the rate-limit answers too.
    h = make_harness(state, key, EmulatorOptions(rate_limit=0, p_429=0.1, retry_after=0.001, seed=7, answers=answers))
    scenario(h, tmp_path, dict(REFUSED[v] for v in variants if v in REFUSED))
    assert h.transport.violations == [], h.transport.violations[:5]
    assert h.emulator.stats.rate_limited > 0


def test_every_contract_variant_is_covered() -> None:
    assert {v.split("=")[0] for v in EACH} == {v.split("=")[0] for v in VARIANTS}


def test_without_last_page_paging_the_capped_workspace_would_be_misread(tmp_path: Path) -> None:
    """The scenario needs several pages: a client trusting page length would stop after the first."""
    state, key = workspace()
    h = make_harness(state, key, EmulatorOptions(rate_limit=0, answers=Answers(page_cap=PAGE_CAP)))

    async def read() -> tuple[int, int]:
        async with h.client(page_size=50) as client:
            users = await client.list_users()
            groups = await client.list_groups()
            return len(users), len(groups)

    listed = [u for u in state.ws.users.values() if u.account_status != "LIMITED"]  # hidden unless asked for
    assert asyncio.run(read()) == (len(listed), len(state.ws.groups))
    assert len(state.ws.users) > 3 * PAGE_CAP and len(state.ws.groups) > 3 * PAGE_CAP
