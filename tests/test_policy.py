"""HR-grade policy on the emulator: exceptions, effective dates, the mass field-change guard, scoped
plans and the handover report, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EmulatorHarness, run_cli

EXCEPTION = """
exceptions:
  - email: maria.garcia@example.com
    ignore: [capacity]
    reason: "Part-time until spring"
    until: {until}
"""


def add_config(text: str) -> None:
    """Replace the config's (empty) exceptions with ``text``."""
    config = Path("config.yaml").read_text()
    assert "\nexceptions: []\n" in config
    Path("config.yaml").write_text(config.replace("\nexceptions: []\n", text))


def with_dates(dates: dict[str, tuple[str, str]]) -> None:
    """Add Start Date and End Date columns to users.csv: email -> (start, end)."""
    lines = Path("users.csv").read_text().splitlines()
    out = [lines[0] + ",Start Date,End Date"]
    for line in lines[1:]:
        start, end = dates.get(line.split(",")[0], ("", ""))
        out.append(f"{line},{start},{end}")
    Path("users.csv").write_text("\n".join(out) + "\n")


def plan_json(h: EmulatorHarness, *args: str, out: str = "plans/p.json") -> tuple[int, dict[str, Any], str]:
    Path(out).unlink(missing_ok=True)
    result = run_cli(h, "plan", "users.csv", "--out", out, *args)
    data = json.loads(Path(out).read_text()) if Path(out).exists() else {}
    return result.exit_code, data, result.output


def about(plan: dict[str, Any], email: str) -> list[dict[str, Any]]:
    return [a for a in plan["actions"] if email in json.dumps(a)]


def test_an_active_exception_keeps_the_value_and_is_shown_with_its_reason(harness: EmulatorHarness,
                                                                          workdir: Path) -> None:
    add_config(EXCEPTION.format(until="2099-12-31"))
    code, plan, output = plan_json(harness)
    assert code == 0
    maria = [a for a in about(plan, "maria.garcia@example.com") if a["kind"] == "update_profile"]
    assert maria and maria[0]["capacity"] is None, "capacity left alone; the Global ID is still set"
    assert plan["exceptions"] == [{"email": "maria.garcia@example.com", "ignore": ["capacity"],
                                   "reason": "Part-time until spring", "until": "2099-12-31"}]
    assert "Exceptions held (1)" in output and "Part-time until spring" in output
    for fmt, marker in (("markdown", "Exceptions held"), ("html", "<h2>Exceptions held (1)</h2>")):
        shown = run_cli(harness, "plan", "users.csv", "--out", "plans/x.json", "--format", fmt).stdout
        assert marker in shown and "Part-time until spring" in shown
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    assert run_cli(harness, "apply", "plans/plan.json").exit_code == 0
    assert harness.state.ws.users[harness.user_id("maria.garcia@example.com")].work_capacity == "PT8H"


def test_an_expired_exception_no_longer_holds_and_warns(harness: EmulatorHarness, workdir: Path) -> None:
    add_config(EXCEPTION.format(until="2026-01-31"))
    code, plan, output = plan_json(harness, "--as-of", "2026-11-27")
    maria = [a for a in about(plan, "maria.garcia@example.com") if a["kind"] == "update_profile"]
    assert maria[0]["capacity"] == {"before": "PT8H", "after": "PT7H30M"}
    assert plan["exceptions"] == []
    assert any(n["code"] == "exception_expired" and "2026-01-31" in n["message"] for n in plan["notices"])
    code, plan, _ = plan_json(harness, "--as-of", "2026-01-31")  # the last day it holds
    assert plan["exceptions"] and [a for a in about(plan, "maria.garcia@example.com")
                                   if a["kind"] == "update_profile"][0]["capacity"] is None


def test_an_exception_naming_nobody_warns(harness: EmulatorHarness, workdir: Path) -> None:
    add_config(EXCEPTION.format(until="2099-01-01").replace("maria.garcia", "mario.garcia"))
    _, plan, _ = plan_json(harness)
    assert any(n["code"] == "exception_unknown" and "mario.garcia" in n["message"] for n in plan["notices"])


def test_a_bad_exception_is_a_config_error_with_key_and_line(harness: EmulatorHarness, workdir: Path) -> None:
    add_config(EXCEPTION.format(until="2099-01-01").replace("[capacity]", "[capcity]"))
    result = run_cli(harness, "plan", "users.csv")
    assert result.exit_code == 1 and "ConfigError" in result.output
    assert "key exceptions.0.ignore" in result.output and "'capcity'" in result.output and "line " in result.output
    assert harness.transport.operations == {}


def test_effective_dates_ended_rows_leave_future_rows_wait_and_as_of_moves_both(harness: EmulatorHarness,
                                                                              workdir: Path) -> None:
    Path("config.yaml").write_text(Path("config.yaml").read_text().replace("missing_users: false",
                                                                           "missing_users: true"))
    with_dates({"lucas.martin@example.com": ("", "2026-06-30"), "new.hire@example.com": ("2027-01-04", ""),
                "sofia.rossi@example.com": ("2027-02-01", "")})
    code, plan, output = plan_json(harness, "--deactivate-missing", "--as-of", "2026-11-27")
    assert plan["options"]["as_of"] == "2026-11-27" and "for 2026-11-27" in output
    deactivated = [a["email"] for a in plan["actions"] if a["kind"] == "deactivate_user"]
    assert "lucas.martin@example.com" in deactivated, "an ended row is a leaver"
    assert [u["email"] for u in plan["upcoming"]] == ["sofia.rossi@example.com", "new.hire@example.com"]
    assert about(plan, "new.hire@example.com") == [], "no invite before the start date"
    assert [a for a in about(plan, "sofia.rossi@example.com") if a["kind"] != "revoke_role"] == [], \
        "no profile write, no group before the start date"
    assert "Upcoming (2)" in output
    without = plan_json(harness, "--as-of", "2026-11-27")[1]
    assert not [a for a in without["actions"] if a["kind"] == "deactivate_user"]
    assert any(n["code"] == "ended" for n in without["notices"])
    # A day before the end and long after the starts: both move.
    code, later, _ = plan_json(harness, "--deactivate-missing", "--as-of", "2026-06-30")
    assert "lucas.martin@example.com" not in [a["email"] for a in later["actions"] if a["kind"] == "deactivate_user"]
    code, later, _ = plan_json(harness, "--deactivate-missing", "--as-of", "2027-03-01")
    assert later["upcoming"] == []
    assert [a["email"] for a in later["actions"] if a["kind"] == "invite_user"] == ["new.hire@example.com"]
    assert [a for a in about(later, "sofia.rossi@example.com") if a["kind"] == "update_profile"]


def test_a_date_that_cannot_be_read_names_file_row_and_column(harness: EmulatorHarness, workdir: Path) -> None:
    with_dates({"maria.garcia@example.com": ("31.12.2026", "")})
    result = run_cli(harness, "plan", "users.csv")
    assert result.exit_code == 1
    assert "users.csv" in result.output and "row 5, column 'Start Date'" in result.output
    Path("config.yaml").write_text(Path("config.yaml").read_text().replace("date_order: iso", "date_order: day-first"))
    assert run_cli(harness, "plan", "users.csv").exit_code == 0, "the day-first form, when configured"


def test_the_shifted_column_is_refused_naming_the_field_and_passes_with_the_override(harness: EmulatorHarness,
                                                                                    workdir: Path) -> None:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(Path("users.csv").read_text())))
    for cells in rows[1:]:
        cells[4] = cells[3]  # the export had Company pasted into Country (a text field) for everyone
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    Path("users.csv").write_text(out.getvalue())
    refused = run_cli(harness, "plan", "users.csv")
    assert refused.exit_code == 1 and "TooMuchChange" in refused.output
    assert "too many changes to 'Country'" in refused.output and "'USA' -> 'Acme Corp'" in refused.output
    assert "--allow-mass-field-change" in refused.output and not Path("plans/plan.json").exists()
    allowed = run_cli(harness, "plan", "users.csv", "--allow-mass-field-change")
    assert allowed.exit_code == 0
    plan = json.loads(Path("plans/plan.json").read_text())
    assert plan["options"]["allow_mass_field_change"] and plan["safety"]["max_field_change_share"] == 0.25
    assert run_cli(harness, "apply", "plans/plan.json").exit_code == 0


def test_a_shifted_column_into_a_dropdown_is_an_input_error_before_any_threshold(harness: EmulatorHarness,
                                                                                 workdir: Path) -> None:
    """Country pasted into Company (a dropdown of company names): no value fits, every row says so."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO(Path("users.csv").read_text())))
    for cells in rows[1:]:
        cells[3] = cells[4]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    Path("users.csv").write_text(out.getvalue())
    refused = run_cli(harness, "plan", "users.csv", "--allow-mass-field-change")
    assert refused.exit_code == 1 and "CsvError: users.csv: 12 problem(s)" in refused.output
    assert ("row 2, column 'Company (Label)': 'USA' is not allowed; allowed values: 'Acme Corp', 'Acme GmbH', 'Acme Ltd'"
            in refused.output)
    assert not Path("plans/plan.json").exists() and harness.state.writes == 0


def test_filling_empty_values_is_provisioning_not_a_mass_change(harness: EmulatorHarness, workdir: Path) -> None:
    code, plan, _ = plan_json(harness)  # "Global ID" is new: every user gets a first value
    assert code == 0 and sum(1 for a in plan["actions"] if a["kind"] == "update_profile") >= 10


@pytest.mark.parametrize(("flag", "pattern"), [("--only", "maria.garcia@example.com"),
                                               ("--exclude", "maria.garcia@example.com"),
                                               ("--only", "*@example.com"), ("--exclude", "*.rossi@*")])
def test_scoped_plans_leave_exactly_the_named_users_in_or_out(harness: EmulatorHarness, workdir: Path, flag: str,
                                                             pattern: str) -> None:
    from fnmatch import fnmatchcase

    _, whole, _ = plan_json(harness, "--deactivate-missing")
    code, scoped, output = plan_json(harness, "--deactivate-missing", flag, pattern, out="plans/scoped.json")
    assert code == 0
    assert scoped["options"]["only" if flag == "--only" else "exclude"] == [pattern]
    assert f"scoped: {'only' if flag == '--only' else 'excluding'} {pattern}" in output

    def mine(action: dict[str, Any]) -> bool:
        people = {v for k, v in action.items() if k in ("email", "holder_email") or
                  (k == "entity_name" and action.get("entity_kind") == "user")}
        return any(fnmatchcase(p, pattern) for p in people)

    ids = {a["id"] for a in scoped["actions"]}
    if flag == "--only":
        assert ids and all(mine(a) or a["kind"] in ("create_group", "create_custom_field") for a in scoped["actions"])
        assert {a["id"] for a in whole["actions"] if mine(a)} <= ids
    else:
        assert not [a for a in scoped["actions"] if mine(a)]
        assert ids == {a["id"] for a in whole["actions"] if not mine(a)} - {
            a["id"] for a in whole["actions"] if any(d not in ids for d in a["depends_on"])}
    assert scoped["figures"] == whole["figures"], "thresholds judge the whole workspace"
    shown = run_cli(harness, "show", "plans/scoped.json")
    assert shown.exit_code == 0 and "scoped: " in shown.stdout.splitlines()[3] and pattern in shown.stdout.splitlines()[3]


def test_the_handover_block_in_every_format(harness: EmulatorHarness, workdir: Path) -> None:
    code, plan, output = plan_json(harness, "--deactivate-missing", out="plans/plan.json")
    [handover] = plan["handovers"]
    assert handover["email"] == "pat.leaver@example.com"
    assert {(i["what"], i["name"]) for i in handover["items"]} == {("report", "john.doe@example.com"),
                                                                  ("report", "lucas.martin@example.com"),
                                                                  ("project", "Website relaunch")}
    heirs = {i["name"]: i["to"] for i in handover["items"]}
    assert "jane.smith@example.com" in heirs["john.doe@example.com"] + heirs["lucas.martin@example.com"]
    assert heirs["Website relaunch"] == "ops-lead@example.com (fallback manager)"
    assert "hands over:" in output and "report john.doe@example.com -> jane.smith@example.com" in output
    md = run_cli(harness, "show", "plans/plan.json", "--format", "markdown").stdout
    html = run_cli(harness, "show", "plans/plan.json", "--format", "html").stdout
    assert "hands over report john.doe@example.com" in md and 'class="handover"' in html


def test_the_documented_demo_plan_shows_an_exception_an_upcoming_hire_and_a_handover(harness: EmulatorHarness,
                                                                                   workdir: Path) -> None:
    from tests.conftest import EXAMPLES

    result = run_cli(harness, "plan", str(EXAMPLES / "policy" / "users.csv"), "--config",
                     str(EXAMPLES / "policy" / "config.yaml"), "--deactivate-missing", "--as-of", "2026-11-27")
    assert result.exit_code == 0, result.output
    documented = (Path(__file__).resolve().parent.parent / "docs" / "policy.md").read_text()
    for line in ("Exceptions held (1)", "Upcoming (1): not provisioned before their start date",
                 "  > new.hire@example.com starts 2027-01-04 (CSV row 13)", "      hands over:",
                 "        report john.doe@example.com -> jane.smith@example.com (their manager in the CSV)",
                 "        project Website relaunch -> ops-lead@example.com (fallback manager)",
                 "Plan: 26 to add, 11 to change, 6 to remove (1 destructive)."):
        assert line in result.stdout and line in documented, line


@pytest.mark.parametrize("entry", ["mailto:noah.brown@example.com", "Noah Brown <noah.brown@example.com>",
                                   "NOAH.BROWN@EXAMPLE.COM", "noah.brown@example.com\\u200b"])
def test_never_deactivate_protects_the_person_however_the_entry_is_written(harness: EmulatorHarness, workdir: Path,
                                                                           entry: str) -> None:
    """Before: a never_deactivate entry copied with mailto: or a display name protected nobody and
    noah was deactivated, without a word."""
    config = Path("config.yaml").read_text()
    assert "never_deactivate: []" in config
    Path("config.yaml").write_text(config.replace("never_deactivate: []", f'never_deactivate: ["{entry}"]'))
    Path("users.csv").write_text("".join(line for line in Path("users.csv").read_text().splitlines(keepends=True)
                                         if not line.startswith("noah.brown")))
    _, plan, _ = plan_json(harness, "--deactivate-missing")
    assert not [a for a in about(plan, "noah.brown@example.com") if a["kind"] == "deactivate_user"]
    assert not [n for n in plan["notices"] if n["code"] == "never_deactivate_unknown"]


def test_a_never_deactivate_entry_naming_nobody_warns(harness: EmulatorHarness, workdir: Path) -> None:
    config = Path("config.yaml").read_text()
    Path("config.yaml").write_text(config.replace("never_deactivate: []", 'never_deactivate: ["noah.brwn@example.com"]'))
    _, plan, _ = plan_json(harness)
    assert [n for n in plan["notices"] if n["code"] == "never_deactivate_unknown" and "noah.brwn" in n["message"]]
