"""`clocksync undo`: apply, undo, apply the undo: every managed fact is back; undo the undo: the applied state.

Through the CLI on the emulator, with facts compared by names (a re-created group has a new id).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from clocksync.apply.executor import apply_plan
from clocksync.apply.runlog import list_runs
from clocksync.apply.verify import NOT_IN_EFFECT
from clocksync.emulator.variants import Answers
from clocksync.plan.file import Plan, load_plan
from clocksync.plan.seal import SealKey
from clocksync.undo import build_undo
from tests.conftest import EmulatorHarness, error_rows, make_harness, run_cli
from tests.facts import facts
from tests.test_resume import KillAfterWrites, Killed

FULL = ("--deactivate-missing", "--delete-unmanaged-groups")


def managed(state_facts: dict[str, Any]) -> dict[str, Any]:
    """Everything but the list of custom fields (a field the run created stays: the contract)."""
    return {k: v for k, v in state_facts.items() if k != "fields"}


def test_apply_undo_apply_restores_every_managed_fact_and_undo_of_undo_restores_the_applied_state(
        harness: EmulatorHarness, workdir: Path) -> None:
    before = facts(harness.state)
    assert run_cli(harness, "plan", "users.csv", *FULL).exit_code == 0
    plan = load_plan(Path("plans/plan.json"))
    kinds = {a.kind_name for a in plan.actions}
    assert {"deactivate_user", "create_group", "delete_group", "add_member", "remove_member", "grant_role",
            "revoke_role", "update_profile", "create_custom_field"} <= kinds
    assert run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").exit_code == 0
    applied = facts(harness.state)
    assert applied != before

    made = run_cli(harness, "undo")
    assert made.exit_code == 0, made.output
    assert "clocksync undo plan" in made.stdout and "reactivate pat.leaver@example.com" in made.stdout
    undo_plan = load_plan(Path("plans/undo.json"))
    assert undo_plan.purpose == "undo" and undo_plan.destructive_actions, "deleting created groups is destructive"
    refused = run_cli(harness, "apply", "plans/undo.json")
    assert refused.exit_code == 1 and "ConfirmationRequired" in refused.output, "the usual confirmation"
    undone = run_cli(harness, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    assert undone.exit_code == 0, undone.output
    assert managed(facts(harness.state)) == managed(before)
    assert facts(harness.state)["fields"] == applied["fields"], "custom fields the run created stay"

    again = run_cli(harness, "undo", "--out", "plans/undo2.json")
    assert again.exit_code == 0, again.output
    redone = run_cli(harness, "apply", "plans/undo2.json", "--confirm", "I UNDERSTAND")
    assert redone.exit_code == 0, redone.output
    assert facts(harness.state) == applied, "undo of the undo run restores the applied state"
    assert run_cli(harness, "plan", "users.csv", *FULL, "--detailed-exitcode", "--out", "p3.json").exit_code == 0


def test_a_value_changed_between_apply_and_undo_is_stale_and_left_alone(harness: EmulatorHarness,
                                                                        workdir: Path) -> None:
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json").exit_code == 0
    maria = harness.state.ws.users[harness.user_id("maria.garcia@example.com")]
    maria.work_capacity = "PT5H"  # someone edits her profile after the sync
    assert run_cli(harness, "undo").exit_code == 0
    result = run_cli(harness, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    assert result.exit_code == 1
    assert "stale" in result.output and "maria.garcia@example.com" in result.output
    assert maria.work_capacity == "PT5H", "not overwritten"
    john = harness.state.ws.users[harness.user_id("li.wei@example.com")]
    assert john.work_capacity == "PT8H", "the rest was taken back"


def killed_apply(h: EmulatorHarness, writes: int) -> Plan:
    """Plan the full sync and apply it until the transport dies after ``writes`` writes (a kill)."""
    assert run_cli(h, "plan", "users.csv", *FULL).exit_code == 0
    plan = load_plan(Path("plans/plan.json"))

    async def killed_run() -> None:
        async with h.client(transport=KillAfterWrites(h.transport, writes)) as client:
            await apply_plan(client, plan, confirm="I UNDERSTAND", log_dir=Path("."))

    with pytest.raises((Killed, BaseExceptionGroup)):
        asyncio.run(killed_run())
    return plan


def test_undo_of_a_killed_run_takes_back_what_it_wrote(workdir: Path) -> None:
    """Killed after a few writes: the undo restores exactly what landed, in-flight writes included."""
    h = make_harness()
    before = facts(h.state)
    killed_apply(h, writes=12)
    assert facts(h.state) != before
    [run] = list_runs(Path("."))
    assert not run.finished
    assert any(e["state"] == "sent" for e in run.outcomes.values()), "writes in flight at the kill"
    assert run_cli(h, "undo").exit_code == 0
    result = run_cli(h, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    assert result.exit_code == 0, result.output
    assert managed(facts(h.state)) == managed(before)


def test_snapshot_of_a_killed_run_is_complete_for_what_it_wrote(workdir: Path) -> None:
    h = make_harness()
    plan = killed_apply(h, writes=5)
    [run] = list_runs(Path("."))
    objects, names = run.before()
    written = [a for a in plan.actions if a.id in run.outcomes]
    assert written
    profiles = {f"profile:{getattr(a, 'user_id', '')}" for a in written if a.kind_name == "update_profile"}
    assert profiles <= set(objects), "every profile it wrote was saved before"
    assert all(objects[p] and "capacity_seconds" in objects[p] for p in profiles)
    deleted = [a for a in plan.actions if a.kind_name == "delete_group"]
    assert all(objects.get(f"group:{a.group_id}") for a in deleted), "groups it deletes, whole"
    assert "pat.leaver@example.com" in names.values()
    assert json.loads((run.path / "run.json").read_text())["finished_at"] is None


def test_history_lists_runs_with_counts_and_finish(harness: EmulatorHarness, workdir: Path) -> None:
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json").exit_code == 0
    text = run_cli(harness, "history")
    lines = text.stdout.strip().splitlines()
    assert len(lines) == 2 and all("/plan.json" in line and "[finished]" in line for line in lines)
    assert "applied" in lines[0] and "already in place" in lines[1]
    rows = json.loads(run_cli(harness, "history", "--format", "json").stdout)
    assert [r["finished"] for r in rows] == [True, True] and rows[0]["counts"]["applied"] > 0
    assert run_cli(harness, "history", "--log-dir", "nowhere").stdout == "No apply runs here yet.\n"


def test_undo_without_runs_says_where_it_looked(workdir: Path) -> None:
    h = make_harness()
    result = run_cli(h, "undo", "--log-dir", "empty")
    assert result.exit_code == 1 and "nothing to undo" in result.output and "--log-dir" in result.output


def test_undo_reads_only_the_run_folder(harness: EmulatorHarness, workdir: Path) -> None:
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json").exit_code == 0
    operations = dict(harness.transport.operations)
    [run] = list_runs(Path("."))
    plan = build_undo(run, created_at="2026-01-01T00:00:00Z",
                      seal_key=SealKey.derive(harness.api_key, harness.workspace_id))
    assert plan.checksum == plan.body_checksum() and plan.actions
    assert run_cli(harness, "undo").exit_code == 0
    assert harness.transport.operations == operations, "no request at all"


@pytest.mark.parametrize("variant", ["null-value-kept", "null-value-refused"])
def test_undo_where_null_does_not_clear_a_field_fails_loudly_and_loses_nothing(
        harness: EmulatorHarness, workdir: Path, variant: str) -> None:
    """Undo clears the Global IDs the run set by sending null. Where the API keeps the value or refuses
    null (API-NOTES section 12: unverified), the apply exits 1 naming each user and the field, the
    values are as the run left them (nothing lost), and the rest of the undo lands."""
    before = facts(harness.state)
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json").exit_code == 0
    applied = facts(harness.state)
    harness.state.answers = Answers().with_variants([variant])
    assert run_cli(harness, "undo").exit_code == 0
    result = run_cli(harness, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    assert result.exit_code == 1, result.output

    after = facts(harness.state)
    given = {email for email, user in applied["users"].items() if "Global ID" in user["fields"]}
    assert len(given) >= 9
    ids = {e: after["users"][e]["fields"]["Global ID"] for e in given}
    assert ids == {e: applied["users"][e]["fields"]["Global ID"] for e in given}, "no value lost"
    # Either way capacities and Company are back: the clear is a write of its own, so a refused null
    # does not take the rest of the profile's restore with it.
    assert {e: {**after["users"][e], "fields": {k: v for k, v in after["users"][e]["fields"].items()
                                                if k != "Global ID"}} for e in given} == \
        {e: before["users"][e] for e in given}
    assert (after["groups"], after["roles"]) == (before["groups"], before["roles"]), "the rest was taken back"

    rows = [r for r in error_rows() if r["kind"] == "update_profile" or r["target"].startswith("profile of ")]
    assert {r["target"].removeprefix("profile of ") for r in rows} == given
    if variant == "null-value-kept":  # answered 200: verification finds the value still there
        assert {(r["kind"], r["outcome"]) for r in rows} == {("verify", NOT_IN_EFFECT)}
        assert all("fields.Global ID" in r["message"] for r in rows)
    else:  # a definite refusal: failed with the API's message, the planned values in the row
        assert {(r["outcome"], r["http_status"]) for r in rows} == {("failed", "400")}
        assert all("must not be null" in r["message"] and "Global ID=(unset)" in r["after"] for r in rows)


def synced_u3(state: Any, key: str, stored: dict[str, Any], columns: dict[str, str], cells: str) -> EmulatorHarness:
    """User u3, holding ``stored``, planned and applied from a users file that maps ``columns``
    (column -> field) and gives u3 30 hours and ``cells`` (their CSV text, in column order)."""
    from clocksync.emulator.app import EmulatorOptions
    from clocksync.emulator.state import User

    state.ws.users["u3"] = User(id="u3", email="u3@example.com", name="U3", custom_values=dict(stored))
    h = make_harness(state, key, EmulatorOptions(rate_limit=0))
    mapping = "".join(f'\n  "{column}": "{name}"' for column, name in columns.items())
    Path("config.yaml").write_text(f'workspace:\n  fallback_manager_email: "ops-lead@example.com"\nfield_mapping:{mapping}\n')
    header = ",".join(["NTID email", "Manager NTID email", "Weekly Working Hours", *columns])
    Path("users.csv").write_text(f"{header}\nops-lead@example.com,,{',' * len(columns)}\n"
                                 f"u3@example.com,ops-lead@example.com,30,{cells}\n")
    assert run_cli(h, "plan", "users.csv").exit_code == 0
    assert run_cli(h, "apply", "plans/plan.json").exit_code == 0
    return h


@pytest.mark.parametrize("since", ["as at the run", "made required since", "option removed since"])
def test_undo_never_plans_a_clear_of_a_required_field_and_a_refused_field_keeps_no_restore_back(
        workdir: Path, since: str) -> None:
    """The run set two required fields and a capacity for a user who had no values. The undo cannot
    clear a field that is required (a note says so) and restores the capacity; a field that became
    required after the run is refused by the API in a write of its own, a value no longer allowed is
    not sent (stale, saying why), and the capacity is restored all the same."""
    from clocksync.emulator.demo import demo_workspace
    from clocksync.emulator.state import CustomField

    state, key = demo_workspace("undo-required")
    ws = state.ws
    ws.fields = {"f-cc": CustomField(id="f-cc", name="Cost center", required=True),
                 "f-lvl": CustomField(id="f-lvl", name="Level", type="DROPDOWN_SINGLE", allowed_values=["L1", "L2"],
                                      required=since == "as at the run"),
                 "f-team": CustomField(id="f-team", name="Team", type="DROPDOWN_SINGLE", allowed_values=["A", "B"])}
    h = synced_u3(state, key, {"f-team": "A"}, {"CC": "Cost center", "Level": "Level", "Team": "Team"}, "CC9,l2,B")
    assert ws.users["u3"].work_capacity == "PT6H" and ws.users["u3"].custom_values == {
        "f-cc": "CC9", "f-lvl": "L2", "f-team": "B"}
    if since == "made required since":
        ws.fields["f-lvl"].required = True
    if since == "option removed since":
        ws.fields["f-team"].allowed_values = ["B", "C"]

    made = run_cli(h, "undo")
    assert made.exit_code == 0, made.output
    undo = load_plan(Path("plans/undo.json"))
    notes = " ".join(n.message for n in undo.notices)
    assert "u3@example.com: cannot clear Cost center: the field is required; it stays 'CC9'" in notes
    planned = {(a.kind_name, getattr(a, "part", "")): a for a in undo.actions if a.kind_name == "update_profile"}
    assert all("Cost center" not in a.fields for a in planned.values()), "no clear of a required field is planned"
    result = run_cli(h, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    user = ws.users["u3"]
    assert user.work_capacity == "PT8H", "the capacity is restored whatever happens to the fields"
    if since == "as at the run":
        assert "cannot clear Level" in notes
        assert result.exit_code == 0, result.output
        assert user.custom_values == {"f-cc": "CC9", "f-lvl": "L2", "f-team": "A"}
    else:  # in a write of its own, nothing else held back: refused by the API (made required since),
        # or not sent at all (an option removed since: the apply-time check knows the field cannot hold it)
        assert result.exit_code == 1, result.output
        failed = [r for r in error_rows() if r["kind"] == "update_profile"]
        outcome = "failed" if since == "made required since" else "stale"
        assert len(failed) == 1 and failed[0]["outcome"] == outcome, failed
        message = "required" if since == "made required since" else \
            "Team cannot be set to 'A': 'A' is not one of the allowed values"
        assert message in failed[0]["message"]
        assert user.custom_values["f-cc"] == "CC9"
    assert h.transport.violations == []


@pytest.mark.parametrize("held", ["a form the field does not take", "a value the field cannot hold"])
def test_undo_restores_a_value_stored_in_another_form_as_the_field_takes_it(workdir: Path, held: str) -> None:
    """The run changed values that were stored before it in a form the field does not take (a
    multi-select held as the text 'Python, Go', left by an older tool) or that the field cannot hold
    at all (an option removed since). The undo sends the first in the field's own form, so the API
    does not refuse it; the second is not sent: the action says why, and the capacity is restored."""
    from clocksync.emulator.demo import demo_workspace
    from clocksync.emulator.state import CustomField

    state, key = demo_workspace("undo-held")
    ws = state.ws
    ws.fields = {"f-sk": CustomField(id="f-sk", name="Skills", type="DROPDOWN_MULTIPLE", allowed_values=["Python", "Go"]),
                 "f-dep": CustomField(id="f-dep", name="Department", type="DROPDOWN_SINGLE",
                                      allowed_values=["Engineering", "Sales"])}
    stored = {"f-sk": "Python, Go"} if held == "a form the field does not take" else {"f-dep": "Marketing"}
    h = synced_u3(state, key, stored, {"Skills": "Skills", "Department": "Department"}, "Go,Sales")
    assert ws.users["u3"].custom_values == {"f-sk": ["Go"], "f-dep": "Sales"}
    assert run_cli(h, "undo").exit_code == 0
    result = run_cli(h, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    user = ws.users["u3"]
    assert user.work_capacity == "PT8H", "the capacity is restored whatever happens to the fields"
    refused = [r for r in error_rows() if r["kind"] == "update_profile" and r["outcome"] == "failed"]
    assert refused == [], "no write the API refuses"
    if held == "a form the field does not take":
        assert result.exit_code == 0, result.output
        assert user.custom_values["f-sk"] == ["Python", "Go"], "restored, as the field takes it"
    else:
        assert result.exit_code != 0, result.output
        assert "Department cannot be set to 'Marketing': 'Marketing' is not one of the allowed values" in result.output
        assert user.custom_values["f-dep"] == "Sales", "left as the run set it; the run folder keeps 'Marketing'"
    assert h.transport.violations == []
