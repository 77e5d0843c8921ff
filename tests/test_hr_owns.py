"""End to end on the emulator: a users file with schedules, rates and two group rules plans, applies,
verifies whole and plans empty again; undo restores every value; export round-trips; reports hide
the amounts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import EmulatorHarness, run_cli
from tests.factories import add_columns
from tests.facts import facts

# email -> Department, Working Days, Week Start, Hourly Rate, Cost Rate
HR = {
    "ops-lead@example.com": ("Operations", "Mon-Fri", "Monday", "150.00", "90.00"),
    "jane.smith@example.com": ("Engineering", "Mon-Thu", "Monday", "120.00", "70.00"),
    "john.doe@example.com": ("Engineering", "Mon-Fri", "Sunday", "85.50", "50.00"),
    "maria.garcia@example.com": ("sales", "Sun-Thu", "Sunday", "80,25", "45"),
    "li.wei@example.com": ("Engineering", "Mon,Wed,Fri", "", "99.99", ""),
    "omar.farouk@example.com": ("Sales", "", "", "", "60.00"),
    "ahmed.khan@example.com": ("Sales", "Tue-Sat", "Tuesday", "75.00", "40.00"),
    "sofia.rossi@example.com": ("SALES", "Mon-Fri", "Monday", "70.00", "35.50"),
    "noah.brown@example.com": ("Operations", "", "", "", ""),
    "emma.wilson@example.com": ("", "Mon-Wed", "", "60.00", "30.00"),
    "lucas.martin@example.com": ("Engineering", "", "", "", ""),
}
CONFIG_TAIL = """
group_rules:
  - column: "Department"
    name: "Dept: {value}"
    manager: "ops-lead@example.com"
  - column: "Country (Label)"
    name: "{value}"
    into_protected: true
sensitive_fields: ["Global ID"]
"""


def hr_file(path: Path) -> None:
    add_columns(path, ["Department", "Working Days", "Week Start", "Hourly Rate", "Cost Rate"], HR)


def rates(h: EmulatorHarness) -> dict[str, tuple[int | None, int | None]]:
    return {u.email: (u.hourly_rate, u.cost_rate) for u in h.state.ws.users.values()}


def seed_rates(h: EmulatorHarness) -> None:
    """Every member has rates before the sync (a rate once set cannot be unset through the API, so
    undo can restore every rate only where there was one)."""
    for i, user in enumerate(sorted(h.state.ws.users.values(), key=lambda u: u.email)):
        user.hourly_rate, user.cost_rate = 5000 + i, 2000 + i


def everything(h: EmulatorHarness) -> dict[str, Any]:
    found = facts(h.state)
    found["rates"] = rates(h)
    found["days"] = {e: (sorted(u["days"]), u["week"]) for e, u in found["users"].items()}
    return found


def test_schedules_rates_and_two_group_rules_converge_undo_and_export(harness: EmulatorHarness,
                                                                     workdir: Path) -> None:
    hr_file(Path("users.csv"))
    text = Path("config.yaml").read_text().replace("group_rules: []\n", "").replace("sensitive_fields: []\n", "")
    Path("config.yaml").write_text(text + CONFIG_TAIL)
    seed_rates(harness)
    before = everything(harness)

    planned = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode")
    assert planned.exit_code == 2, planned.output
    for secret in ("150.00", "85.50", "80.25"):
        assert secret not in planned.output, "the terminal report hides the amounts"
    for fmt in ("markdown", "html"):
        shown = run_cli(harness, "show", "plans/plan.json", "--format", fmt).output
        assert "150.00" not in shown and "amounts hidden" in shown
    assert "150.00" in run_cli(harness, "show", "plans/plan.json", "--show-sensitive").output
    plan = json.loads(Path("plans/plan.json").read_text())
    assert any(a["kind"] == "set_member_rate" and a["after"] == 15000 for a in plan["actions"]), "the file keeps them"

    applied = run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
    assert applied.exit_code == 0, applied.output
    assert "verified" in applied.output and "problem" not in applied.output, "verified whole"
    ws = harness.state.ws
    users = {u.email: u for u in ws.users.values()}
    members = lambda name: {ws.users[i].email for i in harness.group(name).user_ids}  # noqa: E731
    # Group rule 1: one group per department (any case), members exactly its rows, managed by ops-lead.
    assert members("Dept: Engineering") == {"jane.smith@example.com", "john.doe@example.com", "li.wei@example.com",
                                            "lucas.martin@example.com"}
    assert members("Dept: sales") == {"maria.garcia@example.com", "omar.farouk@example.com",
                                      "ahmed.khan@example.com", "sofia.rossi@example.com"}
    assert members("Dept: Operations") == {"ops-lead@example.com", "noah.brown@example.com"}
    managers = {(r.user_id, r.entity_id) for r in ws.roles if r.via_group}
    assert (users["ops-lead@example.com"].id, harness.group("Dept: Engineering").id) in managers
    # Group rule 2 into protected groups: CSV users added, nobody else removed, no manager.
    assert members("USA") >= {"ops-lead@example.com", "jane.smith@example.com", "john.doe@example.com",
                              "noah.brown@example.com", "emma.wilson@example.com", "lucas.martin@example.com"}
    assert members("Spain") == {"maria.garcia@example.com", "sofia.rossi@example.com"}
    assert not [r for r in ws.roles if r.via_group and r.entity_id in (harness.group("USA").id,
                                                                       harness.group("Spain").id)]
    assert members("Germany Holidays") == set(before["groups"]["Germany Holidays"]), "not a rule's name: untouched"
    # Schedules and rates.
    assert set(users["maria.garcia@example.com"].working_days) == {"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY",
                                                                    "THURSDAY"}
    assert users["ahmed.khan@example.com"].week_start == "TUESDAY"
    assert rates(harness)["maria.garcia@example.com"] == (8025, 4500)
    assert rates(harness)["omar.farouk@example.com"][0] == before["rates"]["omar.farouk@example.com"][0], \
        "a blank cell leaves the rate alone"
    again = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode", "--out",
                    "plans/again.json")
    assert again.exit_code == 0, again.output

    # Export round-trips: a plan from the export of the converged workspace is empty.
    assert run_cli(harness, "export", "adopt").exit_code == 0
    header = Path("adopt/users.csv").read_text().splitlines()[0]
    assert "Department" in header and "Hourly Rate" in header and "Working Days" in header
    assert "group_rules:" in Path("adopt/config.yaml").read_text()
    from_export = run_cli(harness, "plan", "adopt/users.csv", "--config", "adopt/config.yaml", "--deactivate-missing",
                          "--detailed-exitcode", "--out", "plans/export.json")
    assert from_export.exit_code == 0, from_export.output

    # Undo restores every value (and its plan hides what the run's plan hid).
    undo = run_cli(harness, "undo")
    assert undo.exit_code == 0 and "10001" not in undo.output and "Global ID changes (value hidden)" in undo.output
    undone = run_cli(harness, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    assert undone.exit_code == 0, undone.output
    after = everything(harness)
    assert {e: u["status"] for e, u in after["users"].items()} == {e: u["status"] for e, u in before["users"].items()}
    assert after["rates"] == before["rates"]
    assert after["days"] == before["days"]
    assert after["groups"] == before["groups"]
    assert after["roles"] == before["roles"]
