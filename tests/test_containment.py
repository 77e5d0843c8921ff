"""Failure containment: a failed step never half-moves anyone.

A user's subtractive steps (leaving an old group, losing an old manager, a deactivation) run only
after that user's additive steps succeeded; a group's manager role is revoked only after the
members leaving it have left. Shown over real requests: the emulator refuses one create, and every
user it concerns keeps a group with a manager; the run names the failed create for each step it
held back; once the refusal is gone, the same plan lands and converges.
"""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

from clocksync.apply.executor import apply_plan
from clocksync.apply.report import ApplyReport, ApplySettings, Outcome
from clocksync.config import Config
from clocksync.emulator.app import EmulatorOptions
from clocksync.emulator.state import Group, Role, User, Workspace, WorkspaceState
from clocksync.load.desired import load_desired
from clocksync.plan.diff import link_needs
from clocksync.plan.file import Plan
from clocksync.plan.make import make_plan
from clocksync.plan.types import PlanOptions
from tests.conftest import EmulatorHarness, make_harness
from tests.facts import facts

FAST = ApplySettings(retry_budget=30, consistency_window=0.05, backoff_initial=0.001, backoff_max=0.01)
PEOPLE = ["owner", "ops", "alice", "bob", "u1", "u2", "u3", "leaver", "kid"]


def workspace() -> tuple[WorkspaceState, str]:
    """Alice manages u1, u2, u3 (group and direct roles); the leaver manages kid and their own group."""
    state = WorkspaceState(Workspace(id="ws-contain", name="Containment", owner_id=""))
    ws = state.ws
    ids = {}
    for who in PEOPLE:
        user = User(id=state.new_id(), email=f"{who}@example.com", name=who.title())
        ws.users[user.id] = user
        ids[who] = user.id
    ws.owner_id = ids["owner"]
    ws.api_keys = {"contain-key": ids["owner"]}
    alice = Group(id=state.new_id(), name="Alice", user_ids=[ids["u1"], ids["u2"], ids["u3"]])
    leavers = Group(id=state.new_id(), name="Leaver", user_ids=[ids["kid"]])
    ws.groups = {alice.id: alice, leavers.id: leavers}
    ws.roles = {Role(ids["alice"], "TEAM_MANAGER", alice.id, True), Role(ids["leaver"], "TEAM_MANAGER", leavers.id, True),
                *(Role(ids["alice"], "TEAM_MANAGER", ids[u]) for u in ("u1", "u2", "u3")),
                Role(ids["leaver"], "TEAM_MANAGER", ids["kid"])}
    state.writes = 0
    return state, "contain-key"


def csv_file(tmp: Path) -> Path:
    """u1 and u2 now report to Bob (who has no group yet); kid to Bob too; the leaver is gone."""
    rows = [("ops", ""), ("alice", "ops"), ("bob", "ops"), ("u1", "bob"), ("u2", "bob"), ("u3", "alice"),
            ("kid", "bob")]
    path = tmp / "users.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["NTID email", "Manager NTID email", "Weekly Working Hours"])
        writer.writerows((f"{u}@example.com", f"{m}@example.com" if m else "", "40") for u, m in rows)
    return path


def managed_groups_of(state: WorkspaceState) -> dict[str, set[str]]:
    """Each user's groups that have a TEAM_MANAGER (by email and group name)."""
    ws = state.ws
    managed = {r.entity_id for r in ws.roles if r.via_group and r.role == "TEAM_MANAGER"}
    found: dict[str, set[str]] = {u.email: set() for u in ws.users.values()}
    for group in ws.groups.values():
        for uid in group.user_ids:
            if group.id in managed:
                found[ws.users[uid].email].add(group.name)
    return found


def run(h: EmulatorHarness, tmp: Path, plan: Plan | None = None) -> tuple[Plan, ApplyReport]:
    config = Config.model_validate({"workspace": {"fallback_manager_email": "ops@example.com"}})
    desired = load_desired(csv_file(tmp), config)

    async def go() -> tuple[Plan, ApplyReport]:
        async with h.client() as client:
            made = plan or (await make_plan(client, desired, config,
                                            PlanOptions(deactivate_missing=True))).plan
            report = await apply_plan(client, made, confirm="I UNDERSTAND", log_dir=tmp, settings=FAST)
            return made, report

    return asyncio.run(go())


def test_a_refused_group_create_leaves_everyone_it_concerns_where_they_were(tmp_path: Path) -> None:
    state, key = workspace()
    h = make_harness(state, key, EmulatorOptions(rate_limit=0, refuse_creates=frozenset({"Bob"})))
    before = facts(state)
    had = managed_groups_of(state)
    plan, report = run(h, tmp_path)
    assert any(a.kind_name == "create_group" and a.target == "Bob" for a in plan.actions)

    results = {r.action.describe(): r for r in report.results}
    assert results["create group 'Bob'"].outcome is Outcome.FAILED
    assert "HTTP 400" in results["create group 'Bob'"].message and "refused" in results["create group 'Bob'"].message
    # Everyone who had a managed group still has one: nobody was half-moved.
    after = managed_groups_of(state)
    for email, groups in had.items():
        if groups and email != "leaver@example.com":
            assert after[email], f"{email} was left without a managed group"
    assert after["u1@example.com"] == {"Alice"} and after["u2@example.com"] == {"Alice"}
    assert after["kid@example.com"] == {"Leaver"}, "kid keeps the leaver's group until the new one exists"
    roles = facts(state)["roles"]
    for user in ("u1", "u2"):  # the old manager stays until the new group is in place
        assert ("alice@example.com", "TEAM_MANAGER", "user", f"{user}@example.com") in roles
        assert ("bob@example.com", "TEAM_MANAGER", "user", f"{user}@example.com") in roles, "additions still land"
    assert state.ws.users[h.user_id("leaver@example.com")].membership_status == "ACTIVE", \
        "the leaver is not deactivated while what they managed has not passed on"
    # The run says so: each step held back names the create that failed.
    held = [r for r in report.results if r.outcome is Outcome.SKIPPED]
    assert {r.action.describe() for r in held} >= {
        "add u1@example.com to group 'Bob'", "remove u1@example.com from group 'Alice'",
        "revoke alice@example.com's TEAM_MANAGER over user u1@example.com",
        "remove kid@example.com from group 'Leaver'", "deactivate leaver@example.com (ACTIVE -> INACTIVE)"}
    for result in held:
        assert "create group 'Bob'" in result.message and "which failed" in result.message, result.message
    removals = [r for r in held if r.action.takes()]
    assert all("nothing is taken away before what replaces it is in place" in r.message for r in removals)
    errors = (tmp_path / "sync_error_log.csv").read_text()
    assert errors.count("create group 'Bob'") >= len(held)
    # Only what does not depend on the refused create changed.
    assert facts(state)["groups"]["Alice"] == before["groups"]["Alice"]

    # The refusal gone, the same plan lands the rest and the workspace converges.
    h.emulator.options.refuse_creates = frozenset()
    _, second = run(h, tmp_path, plan)
    assert second.ok, [(r.action.describe(), r.message) for r in second.problems()]
    assert managed_groups_of(state)["u1@example.com"] == {"Bob"}
    (tmp_path / "again").mkdir()
    again, _ = run(h, tmp_path / "again")
    assert again.actions == (), [a.describe() for a in again.actions]
    assert h.transport.violations == []


def test_every_removal_waits_for_the_additions_of_the_same_user() -> None:
    """The linking rule itself, on the plan made for the workspace above."""
    state, key = workspace()
    h = make_harness(state, key)
    config = Config.model_validate({"workspace": {"fallback_manager_email": "ops@example.com"}})

    async def plan_it(tmp: Path) -> Plan:
        async with h.client() as client:
            return (await make_plan(client, load_desired(csv_file(tmp), config), config,
                                    PlanOptions(deactivate_missing=True))).plan

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        plan = asyncio.run(plan_it(Path(tmp)))
    by_id = {a.id: a for a in plan.actions}
    for action in plan.actions:
        for key_taken in action.takes():
            givers = {a.id for a in plan.actions if key_taken in a.gives() and a.id != action.id}
            assert givers <= set(action.depends_on), f"{action.describe()} does not wait for {givers}"
    assert link_needs(plan.actions) == list(plan.actions), "linking is stable"
    revoke = next(a for a in plan.actions if a.describe() == "revoke leaver@example.com's TEAM_MANAGER over group Leaver")
    assert {by_id[d].describe() for d in revoke.depends_on} >= {"remove kid@example.com from group 'Leaver'"}
