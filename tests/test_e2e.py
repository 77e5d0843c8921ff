"""End to end on the emulator, through the CLI: plan, apply, the state equals the CSV, plan again is empty."""

from __future__ import annotations

import json
from pathlib import Path

from clocksync.durations import parse_duration
from clocksync.emulator.state import Role
from tests.conftest import EmulatorHarness, run_cli


def _plan(harness: EmulatorHarness, *extra: str, out: str = "plans/plan.json") -> tuple[int, dict]:
    result = run_cli(harness, "plan", "users.csv", "--out", out, "--detailed-exitcode", *extra)
    data = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    return result.exit_code, data


def _kinds(plan: dict) -> list[str]:
    return [a["kind"] for a in plan["actions"]]


def test_plan_apply_converges_and_second_plan_is_empty(harness: EmulatorHarness, workdir: Path) -> None:
    code, plan = _plan(harness)
    assert code == 2
    assert plan["summary"]["destructive"] == 0
    writes_before = harness.state.writes
    assert writes_before == 0, "plan must not write"

    applied = run_cli(harness, "apply", "plans/plan.json")
    assert applied.exit_code == 0, applied.output

    ws = harness.state.ws
    uid = harness.user_id
    # Profiles: capacities by value and custom fields equal the CSV.
    assert parse_duration(ws.users[uid("maria.garcia@example.com")].work_capacity) == 7 * 3600 + 1800
    assert parse_duration(ws.users[uid("li.wei@example.com")].work_capacity) == 6 * 3600 + 24 * 60
    assert parse_duration(ws.users[uid("sofia.rossi@example.com")].work_capacity) == 7 * 3600 + 1800
    global_id = next(f.id for f in ws.fields.values() if f.name == "Global ID")
    assert ws.users[uid("li.wei@example.com")].custom_values[global_id] == "10004"
    company = next(f.id for f in ws.fields.values() if f.name == "Company")
    assert ws.users[uid("li.wei@example.com")].custom_values[company] == "Acme GmbH"
    # Manager groups hold exactly the direct reports; the fallback group the rest.
    members = lambda name: {ws.users[i].email or ws.users[i].name for i in harness.group(name).user_ids}  # noqa: E731
    assert members("Jane Smith") == {"john.doe@example.com", "maria.garcia@example.com", "li.wei@example.com",
                                     "lucas.martin@example.com", "Front desk kiosk"}, "the limited member stays"
    assert members("Olivia Ops") == {"jane.smith@example.com", "omar.farouk@example.com"}
    assert members("Omar Farouk") == {"ahmed.khan@example.com", "sofia.rossi@example.com"}
    assert members("Other functions") == {"noah.brown@example.com", "emma.wilson@example.com"}
    # Roles: group role and a direct role per report; the stale direct roles are gone.
    roles = ws.roles
    assert Role(uid("ops-lead@example.com"), "TEAM_MANAGER", harness.group("Other functions").id, True) in roles
    assert Role(uid("omar.farouk@example.com"), "TEAM_MANAGER", uid("sofia.rossi@example.com")) in roles
    assert Role(uid("ops-lead@example.com"), "TEAM_MANAGER", uid("emma.wilson@example.com")) in roles
    assert not [r for r in roles if r.user_id == uid("pat.leaver@example.com") and r.role == "TEAM_MANAGER"]
    assert [r.role for r in roles if r.user_id == uid("pat.leaver@example.com")] == ["PROJECT_MANAGER"], \
        "not deactivated, so the project stays theirs"
    # Protected and unmanaged groups are untouched.
    assert members("USA") == {"ops-lead@example.com", "jane.smith@example.com", "john.doe@example.com"}
    assert members("Book club") == {"maria.garcia@example.com", "pat.leaver@example.com"}
    assert ws.users[uid("pat.leaver@example.com")].membership_status == "ACTIVE"

    code, again = _plan(harness, out="plans/again.json")
    assert code == 0, again["actions"]
    assert again["actions"] == []

    # Re-applying the already applied plan makes no writes and succeeds.
    writes = harness.state.writes
    reapplied = run_cli(harness, "apply", "plans/plan.json")
    assert reapplied.exit_code == 0, reapplied.output
    assert harness.state.writes == writes
    assert "already in place" in reapplied.output


def test_audit_logs_account_for_every_action(harness: EmulatorHarness, workdir: Path) -> None:
    _, plan = _plan(harness)
    run_cli(harness, "apply", "plans/plan.json", "--log-dir", "audit")
    success = Path("audit/sync_success_log.csv").read_text().splitlines()
    errors = Path("audit/sync_error_log.csv").read_text().splitlines()
    assert success[0].startswith("time,run,plan,action_id,kind,target,before,after,outcome")
    ids = {line.split(",")[3] for line in success[1:]}
    assert ids == {a["id"] for a in plan["actions"]}
    assert errors == [errors[0]]


def test_deactivation_needs_confirmation_and_reassigns_first(harness: EmulatorHarness, workdir: Path) -> None:
    code, plan = _plan(harness, "--deactivate-missing")
    assert code == 2
    deactivations = [a for a in plan["actions"] if a["kind"] == "deactivate_user"]
    assert [a["email"] for a in deactivations] == ["pat.leaver@example.com"]
    assert deactivations[0]["depends_on"], "deactivation waits for its reassignments"

    refused = run_cli(harness, "apply", "plans/plan.json")
    assert refused.exit_code == 1
    assert "ConfirmationRequired" in refused.output
    assert harness.state.writes == 0

    wrong = run_cli(harness, "apply", "plans/plan.json", "--confirm", "i understand")
    assert wrong.exit_code == 1
    assert harness.state.writes == 0

    ok = run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
    assert ok.exit_code == 0, ok.output
    ws = harness.state.ws
    pat = harness.user_id("pat.leaver@example.com")
    assert ws.users[pat].membership_status == "INACTIVE"
    assert not [g.name for g in ws.groups.values() if pat in g.user_ids]
    assert not [r for r in ws.roles if r.user_id == pat]
    # Owner, the key's user and the fallback manager are never deactivated.
    for email in ("admin@example.com", "ops-lead@example.com"):
        assert ws.users[harness.user_id(email)].membership_status == "ACTIVE"
    code, again = _plan(harness, "--deactivate-missing", out="plans/again.json")
    assert code == 0, again["actions"]


def test_delete_unmanaged_groups_keeps_protected(harness: EmulatorHarness, workdir: Path) -> None:
    code, plan = _plan(harness, "--delete-unmanaged-groups", "--deactivate-missing")
    deleted = [a["group_name"] for a in plan["actions"] if a["kind"] == "delete_group"]
    assert deleted == ["Book club"]
    ok = run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
    assert ok.exit_code == 0, ok.output
    assert harness.group("Book club") is None
    assert harness.group("USA") is not None and harness.group("Germany Holidays") is not None
    code, again = _plan(harness, "--delete-unmanaged-groups", "--deactivate-missing", out="plans/again.json")
    assert code == 0, again["actions"]


def test_value_changed_after_plan_is_stale_not_overwritten(harness: EmulatorHarness, workdir: Path) -> None:
    _plan(harness)
    maria = harness.state.ws.users[harness.user_id("maria.garcia@example.com")]
    maria.work_capacity = "PT5H"  # someone edits the workspace after the plan was reviewed
    result = run_cli(harness, "apply", "plans/plan.json")
    assert result.exit_code == 1
    assert "stale" in result.output
    assert maria.work_capacity == "PT5H"
    errors = Path("sync_error_log.csv").read_text()
    assert "maria.garcia@example.com" in errors and "stale" in errors


def test_edited_plan_is_refused_without_writes(harness: EmulatorHarness, workdir: Path) -> None:
    _plan(harness)
    path = Path("plans/plan.json")
    data = json.loads(path.read_text())
    data["actions"][0]["reason"] = "edited by hand"
    path.write_text(json.dumps(data))
    result = run_cli(harness, "apply", str(path))
    assert result.exit_code == 1
    assert "checksum" in result.output
    assert harness.state.writes == 0


def test_plan_for_another_workspace_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    _plan(harness)
    result = run_cli(harness, "apply", "plans/plan.json", env={"CLOCKIFY_WORKSPACE_ID": "ffffffffffffffffffffffff"})
    assert result.exit_code == 1
    assert "WorkspaceMismatch" in result.output
    assert harness.state.writes == 0


def test_bad_csv_exits_1_and_writes_nothing(harness: EmulatorHarness, workdir: Path) -> None:
    Path("users.csv").write_text("NTID email,Manager NTID email,Weekly Working Hours,Company (Label),"
                                 "Country (Label),Global Id\nnot-an-email,,abc,Acme,USA,1\n")
    result = run_cli(harness, "plan", "users.csv")
    assert result.exit_code == 1
    assert "users.csv" in result.output and "row 2" in result.output
    assert "'NTID email'" in result.output and "'Weekly Working Hours'" in result.output
    assert not Path("plans/plan.json").exists()
    assert harness.transport.operations == {}, "no request before the input is valid"


def test_api_key_never_in_artefacts(harness: EmulatorHarness, workdir: Path) -> None:
    """Scan every file and every output of a verbose run, and of failing runs, for the key."""
    outputs = run_cli(harness, "-vv", "plan", "users.csv", "--deactivate-missing").output
    harness.state.ws.users[harness.user_id("maria.garcia@example.com")].work_capacity = "PT1H"  # one stale
    outputs += run_cli(harness, "-vv", "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").output
    outputs += run_cli(harness, "apply", "plans/plan.json", env={"CLOCKIFY_WORKSPACE_ID": "x" * 24}).output
    wrong = harness.api_key[::-1]
    outputs += run_cli(harness, "-vv", "preflight", env={"CLOCKIFY_API_KEY": wrong}).output
    assert wrong not in outputs and "rejected" in outputs
    for path in workdir.rglob("*"):
        if path.is_file():
            assert harness.api_key not in path.read_text(errors="replace"), path
    assert harness.api_key not in outputs


def test_second_apply_at_once_gets_a_clear_message(harness: EmulatorHarness, workdir: Path) -> None:
    from clocksync.apply.lock import workspace_lock

    _plan(harness)
    with workspace_lock(harness.workspace_id):  # another apply holds the workspace
        result = run_cli(harness, "apply", "plans/plan.json")
    assert result.exit_code == 1
    assert "ApplyLocked: another apply is running" in result.output
    assert harness.state.writes == 0


def test_unreadable_profile_is_a_warning_and_stale_at_apply(harness: EmulatorHarness, workdir: Path,
                                                             monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from clocksync.emulator.state import EmulatorError

    maria = harness.user_id("maria.garcia@example.com")
    render = harness.state.render_profile
    refusing = [True]

    def refuse_maria(user):  # type: ignore[no-untyped-def]
        if user.id == maria and refusing[0]:
            raise EmulatorError(404, 404, "Member profile not found")
        return render(user)

    monkeypatch.setattr(harness.state, "render_profile", refuse_maria)
    code, plan = _plan(harness)
    assert code == 2
    assert "maria.garcia@example.com" not in [a.get("email") for a in plan["actions"] if a["kind"] == "update_profile"]
    assert any("member profile could not be read" in n["message"] for n in plan["notices"])
    refusing[0] = False
    _plan(harness)  # readable again: maria's update is planned...
    refusing[0] = True
    result = run_cli(harness, "apply", "plans/plan.json")  # ...but unreadable at apply: stale, not blind
    assert result.exit_code == 1 and "member profile could not be read" in result.output
    assert harness.state.ws.users[maria].work_capacity == "PT8H"


def test_the_51st_user_field_is_refused_and_what_needs_it_is_skipped(workdir: Path) -> None:
    import dataclasses

    from clocksync.emulator.app import EmulatorOptions
    from clocksync.emulator.variants import Answers
    from tests.conftest import make_harness

    h = make_harness(options=EmulatorOptions(rate_limit=0, answers=dataclasses.replace(Answers(), user_field_cap=2)))
    assert run_cli(h, "plan", "users.csv").exit_code == 0  # plans "Global ID", the third USER field
    result = run_cli(h, "apply", "plans/plan.json")
    assert result.exit_code == 1
    errors = Path("sync_error_log.csv").read_text()
    assert "refused by the API" in errors and "code 4033" in errors
    assert "skipped" in errors and "waits for create USER custom field 'Global ID'" in errors
    assert not [f for f in h.state.ws.fields.values() if f.name == "Global ID"]
    assert h.transport.violations == []


def test_an_invite_refused_on_an_unpaid_workspace_fails_with_the_reason(workdir: Path) -> None:
    from tests.conftest import make_harness

    h = make_harness()
    h.state.ws.paid = False
    Path("config.yaml").write_text(Path("config.yaml").read_text().replace("missing_users: false", "missing_users: true"))
    assert run_cli(h, "plan", "users.csv").exit_code == 0
    result = run_cli(h, "apply", "plans/plan.json")
    assert result.exit_code == 1
    assert "invite new.hire@example.com" in result.output and "refused by the API" in result.output
    assert "HTTP 403" in result.output


def test_apply_report_names_each_action_and_its_outcome(harness: EmulatorHarness, workdir: Path) -> None:
    _plan(harness)
    harness.state.ws.users[harness.user_id("maria.garcia@example.com")].work_capacity = "PT5H"  # one stale
    result = run_cli(harness, "apply", "plans/plan.json", "--report", "out/apply.html")
    assert result.exit_code == 1 and "Report: out/apply.html" in result.output
    page = Path("out/apply.html").read_text()
    assert page.count("<script") == 1 and 'data-outcome="stale"' in page and 'data-outcome="applied"' in page
    assert "maria.garcia@example.com" in page and "changed since the plan" in page
