"""Whole-object verification: what moved that the plan did not name is caught, never a silent success."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clocksync.apply.verify import COLLATERAL, NOT_IN_EFFECT, UNEXPECTED, Discrepancy, compare
from clocksync.kinds.group import GroupSnapshot
from clocksync.kinds.profile import ProfileSnapshot
from tests.conftest import EmulatorHarness, error_rows, run_cli

PROFILE = ProfileSnapshot(email="a@x.io", capacity_seconds=28800, fields={"Company": "Acme", "Cost center": "CC-7"})
PLANNED = PROFILE.model_copy(update={"capacity_seconds": 27000})


def group(*members: str, name: str = "G") -> GroupSnapshot:
    return GroupSnapshot(name=name, members=members)


@pytest.mark.parametrize(("before", "expected", "found", "problems"), [
    (PROFILE, PLANNED, PLANNED, []),
    # the planned change did not happen
    (PROFILE, PLANNED, PROFILE, [Discrepancy("capacity_seconds", 27000, 28800, NOT_IN_EFFECT)]),
    # a value the plan did not name vanished (a PATCH that replaces the field list)
    (PROFILE, PLANNED, PLANNED.model_copy(update={"fields": {"Company": "Acme"}}),
     [Discrepancy("fields.Cost center", "CC-7", None, COLLATERAL)]),
    # planned, but landed on another value
    (PROFILE, PLANNED, PLANNED.model_copy(update={"capacity_seconds": 1}),
     [Discrepancy("capacity_seconds", 27000, 1, UNEXPECTED)]),
    # an object that should exist and does not
    (None, group(), None, [Discrepancy("exists", True, False, NOT_IN_EFFECT),
                           Discrepancy("managers", [], None, NOT_IN_EFFECT),
                           Discrepancy("members", [], None, NOT_IN_EFFECT),
                           Discrepancy("name", "G", None, NOT_IN_EFFECT)]),
    # lists, element by element: planned add missing, planned removal still there, someone else's change
    (group("a", "b"), group("a", "c"), group("b", "d"),
     [Discrepancy("members", ["c"], ["b"], NOT_IN_EFFECT, delta=True),
      Discrepancy("members", ["a"], ["d"], COLLATERAL, delta=True)]),
])
def test_compare(before: Any, expected: Any, found: Any, problems: list[Discrepancy]) -> None:
    assert compare(before, expected, found) == problems


def test_collateral_change_on_patch_is_caught_and_named(harness: EmulatorHarness, workdir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator changes a second field on every PATCH: apply must say so and exit 1."""
    state = harness.state
    country = next(f.id for f in state.ws.fields.values() if f.name == "Country")
    patch = state.patch_profile

    def patch_and_meddle(user_id: str, body: dict[str, Any], caller_id: str | None = None) -> dict[str, Any]:
        patch(user_id, body, caller_id)
        state.ws.users[user_id].custom_values[country] = "Atlantis"
        return state.render_profile(state.ws.users[user_id])

    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    monkeypatch.setattr(state, "patch_profile", patch_and_meddle)
    result = run_cli(harness, "apply", "plans/plan.json")
    assert result.exit_code == 1
    assert "collateral change" in result.output
    rows = [r for r in error_rows() if r["kind"] == "verify"]
    maria = [r for r in rows if r["target"] == "profile of maria.garcia@example.com"]
    assert maria and maria[0]["outcome"] == COLLATERAL
    assert "fields.Country" in maria[0]["message"]
    assert maria[0]["before"] == "Spain" and maria[0]["after"] == "Atlantis"


def test_a_write_answered_ok_that_did_nothing_fails_verification(harness: EmulatorHarness, workdir: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    state = harness.state

    def add_nothing(group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return state.render_group(state.group(group_id), None)  # 200 with the group, unchanged

    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    monkeypatch.setattr(state, "add_member", add_nothing)
    result = run_cli(harness, "apply", "plans/plan.json")
    assert result.exit_code == 1
    rows = error_rows()
    assert not [r for r in rows if r["outcome"] in (COLLATERAL, UNEXPECTED)], "only the adds failed"
    failed = [r for r in rows if r["outcome"] == NOT_IN_EFFECT]
    assert failed and all(r["kind"] == "verify" for r in failed)
    jane = [r for r in failed if r["target"] == "group 'Jane Smith'"]
    assert jane and jane[0]["before"] == "missing: li.wei@example.com, lucas.martin@example.com, maria.garcia@example.com"
    assert "verification:" in result.output


def test_invite_path(harness: EmulatorHarness, workdir: Path) -> None:
    Path("config.yaml").write_text(Path("config.yaml").read_text().replace(
        "missing_users: false", "missing_users: true"))
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    result = run_cli(harness, "apply", "plans/plan.json")
    assert result.exit_code == 0, result.output
    hire = [u for u in harness.state.ws.users.values() if u.email == "new.hire@example.com"]
    assert [u.membership_status for u in hire] == ["PENDING"]
    success = Path("sync_success_log.csv").read_text()
    assert "invite_user" in success and "new.hire@example.com" in success
    again = run_cli(harness, "apply", "plans/plan.json")
    assert again.exit_code == 0 and "already in place" in again.output
    assert len([u for u in harness.state.ws.users.values() if u.email == "new.hire@example.com"]) == 1
