"""`clocksync export`: a converged workspace exported, then planned from the export, changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clocksync.config import load_config
from clocksync.durations import whole_minutes
from clocksync.export import weekly_hours
from clocksync.load.desired import load_desired
from tests.conftest import EmulatorHarness, run_cli


@pytest.mark.parametrize("seconds", [28800, 27000, 23040, 17280, 1, 7, 29, 30, 150, 3599, 86399, 0, 26856])
def test_weekly_hours_read_back_to_the_same_capacity(seconds: int, tmp_path: Path) -> None:
    csv = tmp_path / "u.csv"
    csv.write_text(f"NTID email,Manager NTID email,Weekly Working Hours\na@x.io,,{weekly_hours(seconds)}\n")
    spec = load_desired(csv, load_config(None)).users["a@x.io"]
    assert spec.capacity_seconds == whole_minutes(seconds), "capacities are compared in whole minutes"


@pytest.mark.parametrize("with_config", [True, False], ids=["settings-from-config", "settings-guessed"])
def test_plan_from_the_export_of_a_converged_workspace_changes_nothing(harness: EmulatorHarness, workdir: Path,
                                                                       with_config: bool) -> None:
    assert run_cli(harness, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").exit_code == 0
    operations = dict(harness.transport.operations)
    writes = harness.state.writes
    if not with_config:
        Path("config.yaml").unlink()  # nothing to keep settings from: they are guessed
    result = run_cli(harness, "export", "adopt")
    assert result.exit_code == 0, result.output
    assert harness.state.writes == writes, "export reads only"
    assert all(not k.startswith(("POST", "PUT", "PATCH", "DELETE")) or k.endswith("/users/info")
               for k in set(harness.transport.operations) - set(operations))
    header = Path("adopt/users.csv").read_text().splitlines()[0]
    if with_config:
        assert header == ("NTID email,Manager NTID email,Weekly Working Hours,Company (Label),Country (Label),Global Id,"
                          "Working Days,Week Start")
        assert "guessed" not in Path("adopt/config.yaml").read_text()
    else:
        assert "# guessed" in Path("adopt/config.yaml").read_text()
    assert "Book club" in result.stderr, "a group outside the model is listed"
    again = run_cli(harness, "plan", "adopt/users.csv", "--config", "adopt/config.yaml", "--detailed-exitcode",
                    "--out", "plans/from-export.json")
    assert again.exit_code == 0, again.output


def test_export_refuses_a_non_empty_folder_without_force(harness: EmulatorHarness, workdir: Path) -> None:
    Path("adopt").mkdir()
    Path("adopt/notes.txt").write_text("mine")
    refused = run_cli(harness, "export", "adopt")
    assert refused.exit_code == 1 and "not empty" in refused.output and "--force" in refused.output
    assert harness.transport.operations == {}, "refused before any request"
    assert Path("adopt/notes.txt").read_text() == "mine"
    assert run_cli(harness, "export", "adopt", "--force").exit_code == 0
    assert Path("adopt/users.csv").exists() and Path("adopt/notes.txt").read_text() == "mine"


def test_every_active_member_is_a_row_and_what_the_csv_cannot_express_is_listed(harness: EmulatorHarness,
                                                                               workdir: Path) -> None:
    """Before any sync: Pat manages John directly beside Jane (two managers), admin has none."""
    result = run_cli(harness, "export", "adopt")
    assert result.exit_code == 0
    assert "john.doe@example.com has 2 direct managers (jane.smith@example.com, pat.leaver@example.com)" in result.stderr
    assert "admin@example.com has no manager" in result.stderr
    rows = {line.split(",")[0]: line for line in Path("adopt/users.csv").read_text().splitlines()[1:]}
    active = {u.email for u in harness.state.ws.users.values()
              if u.membership_status == "ACTIVE" and u.account_status != "LIMITED"}
    assert set(rows) == active, "every ACTIVE member with an email, and only them"
    assert "1 limited member(s) (no email) cannot be CSV rows" in result.stderr
    assert rows["john.doe@example.com"].split(",")[1] == "", "no one manager to name"
    config = load_config(Path("adopt/config.yaml"), required=True)
    held = {r.email: r.ignore for r in config.exceptions}
    assert held["john.doe@example.com"] == ("manager",) and held["admin@example.com"] == ("manager",)
    # Planning from it changes nothing about them: their managers, groups and roles are left alone.
    planned = run_cli(harness, "plan", "adopt/users.csv", "--config", "adopt/config.yaml", "--out", "p.json")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(Path("p.json").read_text())
    about_john = [a for a in plan["actions"] if "john.doe@example.com" in json.dumps(a)
                  and a["kind"] in ("grant_role", "revoke_role", "add_member", "remove_member")]
    assert about_john == [] and len(plan["exceptions"]) >= 2


@pytest.mark.parametrize("value", ["Acme\u200bCorp", "Acme\x1b[31m", "Acme\u00a0Corp", "line one\nline two", "#N/A",
                                   "9.00123E+11", "=HYPERLINK(\"http://x\")", "x" * 1001],
                         ids=lambda v: v if len(v) < 40 else f"{len(v)} characters")
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_value_a_users_file_cannot_hold_is_left_out_and_the_round_trip_holds(
        harness: EmulatorHarness, workdir: Path, value: str, fmt: str) -> None:
    assert run_cli(harness, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").exit_code == 0
    country = next(f for f in harness.state.ws.fields.values() if f.name == "Country")  # a text field
    john = harness.state.ws.users[harness.user_id("john.doe@example.com")]
    john.custom_values[country.id] = value
    result = run_cli(harness, "export", "adopt", "--format", fmt)
    assert result.exit_code == 0, result.output
    formula = value.startswith("=")
    assert ("john.doe@example.com: Country holds" in result.stderr) != formula, "a formula is written as text"
    again = run_cli(harness, "plan", f"adopt/users.{fmt}", "--config", "adopt/config.yaml", "--detailed-exitcode",
                    "--out", "plans/from-export.json")
    assert again.exit_code == 0, again.output
    assert john.custom_values[country.id] == value


@pytest.mark.parametrize(("value", "note"), [("Acme Inc", "not a value of its type DROPDOWN_SINGLE (allowed: Acme Corp, "
                                                          "Acme GmbH, Acme Ltd)"), ("", None), ("acme gmbh", None)])
def test_a_dropdown_value_that_is_no_longer_allowed_is_left_out_and_the_round_trip_holds(
        harness: EmulatorHarness, workdir: Path, value: str, note: str | None) -> None:
    assert run_cli(harness, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").exit_code == 0
    company = next(f for f in harness.state.ws.fields.values() if f.name == "Company")
    john = harness.state.ws.users[harness.user_id("john.doe@example.com")]
    john.custom_values[company.id] = value  # an allowed value removed since, or spelled in another case
    result = run_cli(harness, "export", "adopt")
    assert result.exit_code == 0 and (note is None or f"john.doe@example.com: Company holds {value!r}, which is "
                                      f"{note}" in result.stderr), result.stderr
    again = run_cli(harness, "plan", "adopt/users.csv", "--config", "adopt/config.yaml", "--detailed-exitcode",
                    "--out", "plans/from-export.json")
    assert again.exit_code == 0, again.output
    assert john.custom_values.get(company.id, "") == value
