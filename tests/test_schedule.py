"""Working days and week start: read from the users file, planned, written with capacity in one
complete-values PATCH, verified, undone and exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clocksync.config import load_config
from clocksync.errors import CsvError
from clocksync.kinds.base import Change, State
from clocksync.kinds.live import LiveView
from clocksync.kinds.profile import DaysChange, Schedule, UpdateProfile
from clocksync.load.desired import load_desired
from clocksync.plan.diff import diff
from clocksync.plan.types import PlanOptions
from clocksync.weekdays import Day, format_days, parse_day, parse_days
from tests.conftest import EmulatorHarness, run_cli
from tests.factories import add_columns, config, current, desired, member, profile, spec, users_file

MON_FRI = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
D = Day


@pytest.mark.parametrize(("cell", "days"), [
    ("Mon-Fri", (D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY, D.FRIDAY)),
    ("Mon,Tue,Thu", (D.MONDAY, D.TUESDAY, D.THURSDAY)),
    ("MONDAY;TUESDAY", (D.MONDAY, D.TUESDAY)),
    ("monday; tuesday", (D.MONDAY, D.TUESDAY)),
    ("Mon, Wed ,Fri", (D.MONDAY, D.WEDNESDAY, D.FRIDAY)),
    ("Mon / Wed / Fri", (D.MONDAY, D.WEDNESDAY, D.FRIDAY)),
    ("Tu Th", (D.TUESDAY, D.THURSDAY)),
    ("Tues,Thurs,Weds", (D.TUESDAY, D.WEDNESDAY, D.THURSDAY)),
    ("Mon.-Fri.", (D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY, D.FRIDAY)),
    ("Mon – Fri", (D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY, D.FRIDAY)),  # an en dash, as Word types it
    ("Monday to Friday", (D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY, D.FRIDAY)),
    ("Sun-Thu", (D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY, D.SUNDAY)),  # wraps past Sunday
    ("Fri-Mon", (D.MONDAY, D.FRIDAY, D.SATURDAY, D.SUNDAY)),
    ("Sat", (D.SATURDAY,)),
    ("Mon,Mon,Mon-Tue", (D.MONDAY, D.TUESDAY)),  # repeats are one day
    ("Fri,Mon", (D.MONDAY, D.FRIDAY)),  # any order: a set
])
def test_working_days_cells(cell: str, days: tuple[Day, ...]) -> None:
    assert parse_days(cell) == days
    assert parse_days(format_days(days)) == days, "what export writes reads back"


@pytest.mark.parametrize(("cell", "message"), [
    ("M", "'M' is not a day"),  # one letter names no single day
    ("T-F", "'T' is not a day"),
    ("Mon-", "not a day or a range"),
    ("Mon--Fri", "not a day or a range"),
    ("Mon-Wed-Fri", "not a day or a range"),
    (",,;", "names no day"),
    ("Lundi", "'Lundi' is not a day"),
    ("5", "'5' is not a day"),
    ("Mon & Holidays", "'Holidays' is not a day"),
])
def test_working_days_refused(cell: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_days(cell)


@pytest.mark.parametrize(("cell", "day"), [("Monday", D.MONDAY), ("SUNDAY", D.SUNDAY), ("sun", D.SUNDAY),
                                           ("Sa.", D.SATURDAY), (" tuesday ", D.TUESDAY)])
def test_week_start_cells(cell: str, day: Day) -> None:
    assert parse_day(cell) == day


@pytest.mark.parametrize("cell", ["S", "T", "Mon-Fri", "Funday", "1"])
def test_week_start_refused(cell: str) -> None:
    with pytest.raises(ValueError):
        parse_day(cell)


def write_users(path: Path, rows: list[dict[str, str]]) -> Path:
    return users_file(path, ["Working Days", "Week Start"], rows)


def test_the_loader_reads_schedules_and_a_blank_cell_leaves_them_unmanaged(tmp_path: Path) -> None:
    path = write_users(tmp_path / "users.csv", [
        {"NTID email": "a@example.com", "Working Days": "Mon-Thu", "Week Start": "Sunday"},
        {"NTID email": "b@example.com", "Working Days": "", "Week Start": "monday"},
        {"NTID email": "c@example.com"},
    ])
    users = load_desired(path, config()).users
    assert users["a@example.com"].value(Schedule) == Schedule((D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY),
                                                               D.SUNDAY)
    assert users["b@example.com"].value(Schedule) == Schedule(None, D.MONDAY)
    assert users["c@example.com"].value(Schedule) is None


def test_bad_schedule_cells_name_file_row_and_column(tmp_path: Path) -> None:
    path = write_users(tmp_path / "users.csv", [
        {"NTID email": "a@example.com", "Working Days": "Mon-Fry"},
        {"NTID email": "b@example.com", "Week Start": "Mon-Fri"},
    ])
    with pytest.raises(CsvError) as caught:
        load_desired(path, config())
    text = str(caught.value)
    assert "row 2, column 'Working Days': 'Fry' is not a day of the week" in text
    assert "row 3, column 'Week Start'" in text and "Monday ... Sunday" in text


def test_the_columns_are_configurable(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text('csv:\n  working_days_column: "Days"\n  week_start_column: "First day"\n')
    cfg = load_config(tmp_path / "config.yaml", required=True)
    path = tmp_path / "users.csv"
    path.write_text("NTID email,Manager NTID email,Weekly Working Hours,Days,First day\na@example.com,,,Mon-Wed,Wed\n")
    assert load_desired(path, cfg).users["a@example.com"].value(Schedule) == Schedule(
        (D.MONDAY, D.TUESDAY, D.WEDNESDAY), D.WEDNESDAY)


def test_a_bad_schedule_key_names_key_and_line(tmp_path: Path) -> None:
    from clocksync.errors import ConfigError

    (tmp_path / "config.yaml").write_text("csv:\n  email_column: x\n  working_days_column: [1, 2]\n")
    with pytest.raises(ConfigError, match="line 3, key csv.working_days_column"):
        load_config(tmp_path / "config.yaml", required=True)


# ---------------------------------------------------------------------- the rule, with literal models

JOHN = member("john@example.com", "John")
OPS = member("ops@example.com", "Ops")


def plan_for(row_schedule: Schedule | None, live_days: tuple[str, ...] | None = MON_FRI, live_start: str = "MONDAY",
             **cfg: object) -> list[UpdateProfile]:
    from dataclasses import replace
    from types import MappingProxyType

    row = spec("john@example.com", "ops@example.com", 28800)
    row = replace(row, values=MappingProxyType({Schedule: row_schedule} if row_schedule else {}))
    live = replace(profile(28800, "PT8H"), working_days=live_days, week_start=live_start)
    state = current([member("owner@example.com"), OPS, JOHN], profiles={JOHN.id: live})
    found = diff(desired(row, spec("ops@example.com")), state, config(**cfg), PlanOptions())
    return [a for a in found.actions if isinstance(a, UpdateProfile)]


def test_working_days_compare_as_a_set_and_change_when_they_differ() -> None:
    assert plan_for(Schedule((D.FRIDAY, D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY), None)) == []
    assert plan_for(Schedule(None, D.MONDAY)) == []
    assert plan_for(Schedule((D.MONDAY,), None), live_days=("FRIDAY", "MONDAY")) != []
    [update] = plan_for(Schedule((D.MONDAY, D.TUESDAY, D.WEDNESDAY, D.THURSDAY), D.SUNDAY))
    assert update.working_days == DaysChange(before=MON_FRI, after=MON_FRI[:4])
    assert update.week_start == Change(before="MONDAY", after="SUNDAY")
    assert update.capacity is None
    assert update.line() == "working days Mon-Fri -> Mon-Thu; week start Monday -> Sunday"


def test_unset_working_days_are_filled() -> None:
    [update] = plan_for(Schedule(MON_FRI_DAYS := (D.MONDAY, D.TUESDAY), None), live_days=None)
    assert update.working_days == DaysChange(before=None, after=tuple(d.value for d in MON_FRI_DAYS))
    assert update.value_changes()[0].before is None, "filling an unset value is not an overwrite"


def test_the_schedule_exception_leaves_them_alone() -> None:
    rules = [{"email": "john@example.com", "ignore": ["schedule"], "reason": "works shifts"}]
    assert plan_for(Schedule((D.MONDAY,), D.SUNDAY), exceptions=rules) == []


@pytest.mark.parametrize(("change", "live_days", "live_start", "state", "reason"), [
    ({"working_days": DaysChange(before=MON_FRI, after=MON_FRI[:4])}, MON_FRI, "MONDAY", State.READY, ""),
    ({"working_days": DaysChange(before=MON_FRI, after=MON_FRI[:4])}, ("THURSDAY", "MONDAY", "TUESDAY",
     "WEDNESDAY"), "MONDAY", State.IN_PLACE, "already"),
    ({"working_days": DaysChange(before=MON_FRI, after=MON_FRI[:4])}, ("MONDAY",), "MONDAY", State.STALE,
     "working days are now Mon, the plan expected Mon-Fri"),
    ({"working_days": DaysChange(before=None, after=MON_FRI)}, None, "MONDAY", State.READY, ""),
    ({"week_start": Change(before="MONDAY", after="SUNDAY")}, MON_FRI, "MONDAY", State.READY, ""),
    ({"week_start": Change(before="MONDAY", after="SUNDAY")}, MON_FRI, "SUNDAY", State.IN_PLACE, ""),
    ({"week_start": Change(before="MONDAY", after="SUNDAY")}, MON_FRI, "SATURDAY", State.STALE,
     "the week start is now Saturday"),
])
def test_schedule_verdicts(change: dict[str, object], live_days: tuple[str, ...] | None, live_start: str,
                           state: State, reason: str) -> None:
    from dataclasses import replace

    from clocksync.kinds import handler_for

    live = replace(profile(28800, "PT8H"), working_days=live_days, week_start=live_start)
    view = LiveView.from_state(current([member("owner@example.com"), JOHN], profiles={JOHN.id: live}))
    action = UpdateProfile(user_id=JOHN.id, email=JOHN.email, **change)  # type: ignore[arg-type]
    handler = handler_for(action)
    verdict = handler.verdict(action, view)
    assert verdict.state is state and reason in verdict.reason, verdict
    if state is State.READY:
        handler.effect(action, view, None)
        assert handler.verdict(action, view).state is State.IN_PLACE


# ---------------------------------------------------------------------- on the emulator

SCHEDULES = {"john.doe@example.com": ("Mon-Thu", "Sunday"), "maria.garcia@example.com": ("Sun-Thu", "Sunday"),
             "li.wei@example.com": ("Mon,Wed,Fri", ""), "sofia.rossi@example.com": ("", "Tuesday")}


def with_schedules(path: Path, schedules: dict[str, tuple[str, str]]) -> None:
    add_columns(path, ["Working Days", "Week Start"], schedules)


def test_schedules_apply_in_the_profile_patch_verify_and_plan_empty_again(harness: EmulatorHarness,
                                                                           workdir: Path) -> None:
    with_schedules(Path("users.csv"), SCHEDULES)
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    plan = json.loads(Path("plans/plan.json").read_text())
    maria = next(a for a in plan["actions"] if a["kind"] == "update_profile" and a["email"] == "maria.garcia@example.com")
    assert maria["capacity"] and maria["working_days"] and maria["week_start"], "one action: capacity and schedule"
    profile_writes_before = harness.emulator.stats.by_operation.get("PATCH /workspaces/{workspaceId}/member-profile/"
                                                                    "{userId}", 0)
    applied = run_cli(harness, "apply", "plans/plan.json")
    assert applied.exit_code == 0, applied.output
    patches = harness.emulator.stats.by_operation["PATCH /workspaces/{workspaceId}/member-profile/{userId}"]
    updates = [a for a in plan["actions"] if a["kind"] == "update_profile"]
    assert patches - profile_writes_before == len(updates), "one PATCH per user: capacity and schedule together"
    users = {u.email: u for u in harness.state.ws.users.values()}
    assert set(users["john.doe@example.com"].working_days) == {"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY"}
    assert users["john.doe@example.com"].week_start == "SUNDAY"
    assert set(users["maria.garcia@example.com"].working_days) == {"SUNDAY", "MONDAY", "TUESDAY", "WEDNESDAY",
                                                                    "THURSDAY"}
    assert users["maria.garcia@example.com"].work_capacity == "PT7H30M"
    assert set(users["li.wei@example.com"].working_days) == {"MONDAY", "WEDNESDAY", "FRIDAY"}
    assert users["li.wei@example.com"].week_start == "MONDAY", "a blank cell leaves the week start alone"
    assert users["sofia.rossi@example.com"].week_start == "TUESDAY"
    assert users["sofia.rossi@example.com"].working_days == list(MON_FRI), "a blank cell leaves the days alone"
    assert users["noah.brown@example.com"].working_days == list(MON_FRI), "rows without a schedule are untouched"
    again = run_cli(harness, "plan", "users.csv", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_the_emulator_refuses_schedules_clockify_would_not_hold(harness: EmulatorHarness) -> None:
    import asyncio

    from clocksync.emulator.state import EmulatorError
    from clocksync.errors import ApiStatusError

    uid = harness.user_id("john.doe@example.com")

    async def patch(days: object) -> None:
        async with harness.client() as client:
            await client.request("PATCH", f"/workspaces/{harness.workspace_id}/member-profile/{uid}",
                                 json={"workingDays": days})

    for days in (["MONDAY", "MONDAY"], []):  # bodies the spec allows, over HTTP (each exchange contract-checked)
        with pytest.raises(ApiStatusError) as refused:
            asyncio.run(patch(days))
        assert refused.value.status == 400
    for days in (["Monday"], "MONDAY", ["FUNDAY"]):  # bodies the spec does not allow: the emulator refuses them too
        with pytest.raises(EmulatorError):
            harness.state.patch_profile(uid, {"workingDays": days, "workCapacity": "PT1H"})
    user = harness.state.ws.users[uid]
    assert (user.working_days, user.work_capacity) == (list(MON_FRI), "PT8H"), "a refused body changes nothing"
