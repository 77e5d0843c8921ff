"""A real workspace's shapes, through the CLI on the emulator: typed USER fields, field status and
caps, limited members, long group names. Each is checked when the plan is made: a plan never
holds a write the API is known to refuse, and a cell the field cannot hold stops the plan with the
file, row, column (and allowed values) before anything is written.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from clocksync.emulator.app import EmulatorOptions
from clocksync.emulator.demo import demo_workspace
from clocksync.emulator.state import CustomField, Role, User, WorkspaceState
from clocksync.emulator.variants import Answers
from tests.conftest import EmulatorHarness, make_harness, run_cli

HEADER = ["NTID email", "Manager NTID email", "Weekly Working Hours", "Global Id", "Part-time", "Department"]
CONFIG = """\
workspace:
  fallback_manager_email: "ops@example.com"
field_mapping:
  "Global Id": "Global ID"
  "Part-time": "Part-time"
  "Department": "Department"
"""


def typed_workspace(answers: Answers | None = None) -> EmulatorHarness:
    """The issue's workspace: Global ID a NUMBER, Part-time a CHECKBOX, Department a dropdown."""
    state, key = demo_workspace("typed-key")
    ws = state.ws
    gid = CustomField(id="f-gid", name="Global ID", type="NUMBER")
    part = CustomField(id="f-part", name="Part-time", type="CHECKBOX")
    dept = CustomField(id="f-dept", name="Department", type="DROPDOWN_SINGLE", allowed_values=["Engineering", "Sales"])
    ws.fields.update({f.id: f for f in (gid, part, dept)})
    for email, values in {"ops-lead@example.com": {}, "jane.smith@example.com": {"f-gid": 10004, "f-part": False,
                                                                                  "f-dept": "Engineering"},
                          "john.doe@example.com": {"f-gid": 10003, "f-dept": "Sales"}}.items():
        user = next(u for u in ws.users.values() if u.email == email)
        user.custom_values.update(values)
    ws.users["ops"] = User(id="ops", email="ops@example.com", name="Ops")
    state.writes = 0
    return make_harness(state, key, EmulatorOptions(rate_limit=0, answers=answers or Answers()))


def write_csv(rows: list[list[str]], path: str = "users.csv") -> None:
    with Path(path).open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def plan(h: EmulatorHarness, *args: str) -> tuple[int, dict[str, Any], str]:
    Path("plans/plan.json").unlink(missing_ok=True)
    result = run_cli(h, "plan", "users.csv", "--detailed-exitcode", *args)
    data = json.loads(Path("plans/plan.json").read_text()) if Path("plans/plan.json").exists() else {}
    return result.exit_code, data, result.output


def value(h: EmulatorHarness, email: str, field_id: str) -> Any:
    return next(u for u in h.state.ws.users.values() if u.email == email).custom_values.get(field_id)


@pytest.fixture
def typed(workdir: Path) -> Iterator[EmulatorHarness]:
    Path("config.yaml").write_text(CONFIG)
    h = typed_workspace()
    yield h
    assert h.transport.violations == [], h.transport.violations[:5]


def test_typed_cells_are_planned_by_value_and_written_as_the_api_types_them(typed: EmulatorHarness) -> None:
    """The issue's first example: only the real change is planned, and it is written typed."""
    write_csv([["jane.smith@example.com", "ops@example.com", "40", "10004.0", "Yes", "engineering"],
               ["john.doe@example.com", "jane.smith@example.com", "40", "010003", "x", " SALES"]])
    code, data, output = plan(typed)
    assert code == 2, output
    profiles = {a["email"]: a["fields"] for a in data["actions"] if a["kind"] == "update_profile"}
    assert profiles["jane.smith@example.com"] == {"Part-time": {"before": False, "after": True}}
    assert profiles["john.doe@example.com"] == {"Part-time": {"before": None, "after": True}}
    assert "Part-time false -> true" in output and "Global ID" not in json.dumps(profiles)
    assert any(n["code"] == "number_leading_zeros" and "row 3" in n["message"] for n in data["notices"])
    assert run_cli(typed, "apply", "plans/plan.json").exit_code == 0
    assert value(typed, "jane.smith@example.com", "f-part") is True, "a JSON boolean"
    assert value(typed, "jane.smith@example.com", "f-gid") == 10004 and value(typed, "john.doe@example.com",
                                                                              "f-dept") == "Sales"
    assert plan(typed)[0] == 0, "the second plan is empty"


@pytest.mark.parametrize(("cells", "message"), [
    ({"Department": "Eng."}, "row 2, column 'Department': 'Eng.' is not allowed; allowed values: 'Engineering', "
                             "'Sales'"),
    ({"Global Id": "10,004"}, "row 2, column 'Global Id': '10,004' is ambiguous"),
    ({"Global Id": "9.00123E+11"}, "row 2, column 'Global Id': 9.00123E+11 is a number in E-notation"),
    ({"Part-time": "maybe"}, "row 2, column 'Part-time': 'maybe' is not a checkbox value"),
])
def test_a_cell_the_field_cannot_hold_stops_the_plan_naming_file_row_and_column(typed: EmulatorHarness,
                                                                                 cells: dict[str, str],
                                                                                 message: str) -> None:
    row = dict(zip(HEADER, ["jane.smith@example.com", "ops@example.com", "40", "10004", "no", "Sales"], strict=True))
    row.update(cells)
    write_csv([list(row.values()), ["john.doe@example.com", "", "40", "1", "no", "Sales"]])
    code, data, output = plan(typed)
    assert code == 1 and "users.csv" in output and message in output, output
    assert data == {} and typed.state.writes == 0, "no plan written, nothing sent"


def test_an_inactive_mapped_field_is_a_warning_and_its_values_are_not_planned(typed: EmulatorHarness) -> None:
    typed.state.ws.fields["f-dept"].status = "INACTIVE"
    write_csv([["jane.smith@example.com", "ops@example.com", "40", "10004", "no", "Sales"]])
    code, data, output = plan(typed)
    assert code == 2
    assert "custom field 'Department' (column 'Department') is INACTIVE" in output
    assert not [a for a in data["actions"] if "Department" in a.get("fields", {})]


ACTIVE_CAP = "make a field INACTIVE in Clockify"
TOTAL_CAP = "delete a field in Clockify (making it INACTIVE does not lower this count)"


@pytest.mark.parametrize(("visible", "invisible", "inactive", "message", "advice"), [
    (10, 0, 0, "the workspace has 10 of its 10 active USER fields: 10 + 3 = 13 is over 10", ACTIVE_CAP),
    (8, 0, 0, "the workspace has 8 of its 10 active USER fields: 8 + 3 = 11 is over 10", ACTIVE_CAP),
    # INVISIBLE fields are active but hidden: whether Clockify counts them is unverified, so they count.
    (7, 1, 0, "the workspace has 8 of its 10 active USER fields (7 VISIBLE and 1 INVISIBLE: Clockify may count "
              "INVISIBLE fields as active, so clocksync does): 8 + 3 = 11 is over 10", ACTIVE_CAP),
    (0, 8, 30, "8 of its 10 active USER fields (0 VISIBLE and 8 INVISIBLE", ACTIVE_CAP),
    # INACTIVE fields count against the 50 only: making one INACTIVE does not help there.
    (5, 0, 43, "the workspace has 48 of its 50 USER fields in all (INACTIVE ones count): 48 + 3 = 51 is over 50",
     TOTAL_CAP),
    (7, 41, 0, "48 of its 50 USER fields in all", TOTAL_CAP),
    (7, 0, 40, None, None),  # 7 + 3 active, 47 + 3 in all: both caps reached, neither passed
])
def test_a_field_past_the_caps_is_refused_at_plan_time_with_the_numbers(workdir: Path, visible: int, invisible: int,
                                                                        inactive: int, message: str | None,
                                                                        advice: str | None) -> None:
    state, key = demo_workspace("cap-key")
    ws = state.ws
    ws.fields = {}
    statuses = ["VISIBLE"] * visible + ["INVISIBLE"] * invisible + ["INACTIVE"] * inactive
    for n, status in enumerate(statuses):
        f = CustomField(id=f"f{n}", name=f"Field {n}", status=status)
        ws.fields[f.id] = f
    h = make_harness(state, key)
    result = run_cli(h, "plan", "users.csv")  # maps Company, Country and Global ID: none exist
    if message is None:
        assert result.exit_code == 0, result.output
        assert run_cli(h, "apply", "plans/plan.json").exit_code == 0, "the emulator takes every create"
        return
    assert result.exit_code == 1 and "LimitExceeded" in result.output and message in result.output, result.output
    assert advice in result.output and "or map the column to an existing field" in result.output
    if advice == TOTAL_CAP and visible + invisible + 3 <= 10:
        assert ACTIVE_CAP not in result.output, "INACTIVE fields are not active: no advice to make more of them"
    assert "'Company', 'Country', 'Global ID'" in result.output and not Path("plans/plan.json").exists()


def long_named(state: WorkspaceState, *names: str) -> list[str]:
    """Managers with these names, each with one report in the CSV written to users.csv."""
    rows = []
    for n, name in enumerate(names):
        manager = User(id=f"m{n}", email=f"m{n}@example.com", name=name)
        report = User(id=f"r{n}", email=f"r{n}@example.com", name=f"Report {n}")
        state.ws.users.update({manager.id: manager, report.id: report})
        rows += [[manager.email, "ops-lead@example.com", "40"], [report.email, manager.email, "40"]]
    with Path("users.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["NTID email", "Manager NTID email", "Weekly Working Hours"])
        writer.writerows([["ops-lead@example.com", "", "40"], *rows])
    Path("config.yaml").write_text('workspace:\n  fallback_manager_email: "ops-lead@example.com"\n')
    return [f"m{n}" for n in range(len(names))]


def test_a_long_group_name_is_shortened_unique_and_recognised_next_time(workdir: Path) -> None:
    state, key = demo_workspace("long-key")
    base = "Maximiliane " + "Wolkenstein-Rodenegg " * 5  # 117 characters
    long_named(state, base + "Senior", base + "Junior", "Zoë 🙂" * 30)
    h = make_harness(state, key)
    result = run_cli(h, "plan", "users.csv")
    assert result.exit_code == 0, result.output
    data = json.loads(Path("plans/plan.json").read_text())
    created = [a["group_name"] for a in data["actions"] if a["kind"] == "create_group"]
    long_ones = [n for n in created if n.startswith(("Maximiliane", "Zoë"))]
    assert len(long_ones) == 3 and len({n.casefold() for n in long_ones}) == 3, long_ones
    for name in long_ones:
        assert len(name.encode("utf-16-le")) // 2 <= 100 and "…" in name, name
    assert any("(m0@example.com)" in n for n in long_ones), "two names alike once shortened: told apart by email"
    assert run_cli(h, "apply", "plans/plan.json").exit_code == 0
    assert run_cli(h, "plan", "users.csv", "--detailed-exitcode").exit_code == 0, "recognised as ours: no change"
    assert h.transport.violations == []


def test_limited_members_are_counted_and_never_moved_matched_or_deactivated(workdir: Path) -> None:
    """The issue's second example, with the kiosk in a group that is emptied and managed by a leaver."""
    state, key = demo_workspace("kiosk-key")
    ws = state.ws
    kiosk = next(u for u in ws.users.values() if u.account_status == "LIMITED")
    club = next(g for g in ws.groups.values() if g.name == "Book club")
    club.user_ids.append(kiosk.id)
    pat = next(u for u in ws.users.values() if u.email == "pat.leaver@example.com")
    ws.roles.add(Role(pat.id, "TEAM_MANAGER", kiosk.id))
    h = make_harness(state, key)
    result = run_cli(h, "plan", "users.csv", "--deactivate-missing", "--delete-unmanaged-groups",
                     "--allow-mass-group-deletion")
    assert result.exit_code == 0, result.output
    assert "1 limited member(s) (no email: Front desk kiosk) are outside clocksync's management" in result.output
    assert "unmanaged group 'Book club' is not deleted" in result.output
    data = json.loads(Path("plans/plan.json").read_text())
    assert data["figures"]["limited_members"] == 1
    about_kiosk = [a for a in data["actions"] if kiosk.id in json.dumps(a)]
    assert {a["kind"] for a in about_kiosk} == {"grant_role", "revoke_role"}, "only the leaver's role passes on"
    assert not [a for a in data["actions"] if a["kind"] == "deactivate_user" and a["user_id"] == kiosk.id]
    assert run_cli(h, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").exit_code == 0
    assert kiosk.id in next(g for g in ws.groups.values() if g.name == "Jane Smith").user_ids
    assert kiosk.id in club.user_ids and kiosk.membership_status == "ACTIVE"
    ops = next(u for u in ws.users.values() if u.email == "ops-lead@example.com")
    assert Role(ops.id, "TEAM_MANAGER", kiosk.id) in ws.roles, "the kiosk still has an active manager"
    assert h.transport.violations == []


def test_a_group_member_the_users_list_does_not_show_is_left_in_place(workdir: Path) -> None:
    state, key = demo_workspace("ghost-key")
    jane = next(g for g in state.ws.groups.values() if g.name == "Jane Smith")
    jane.user_ids.append("0123456789abcdef01234567")  # a deleted account: in the group, not in any listing
    h = make_harness(state, key)
    result = run_cli(h, "plan", "users.csv")
    assert result.exit_code == 0 and "1 group member id(s) are not in the API's users list" in result.output
    assert "0123456789abcdef01234567" not in json.dumps(
        [a for a in json.loads(Path("plans/plan.json").read_text())["actions"] if a["kind"] == "remove_member"])


def test_export_writes_typed_values_and_a_plan_from_it_is_empty(workdir: Path) -> None:
    """The demo (Company a dropdown) with Global ID a NUMBER, a checkbox and a multi-select, converged."""
    state, key = demo_workspace("export-key")
    ws = state.ws
    ws.fields.update({"f-gid": CustomField(id="f-gid", name="Global ID", type="NUMBER"),
                      "f-part": CustomField(id="f-part", name="Part-time", type="CHECKBOX"),
                      "f-skills": CustomField(id="f-skills", name="Skills", type="DROPDOWN_MULTIPLE",
                                              allowed_values=["Python", "SQL", "Go"])})
    h = make_harness(state, key)
    with Path("users.csv").open() as handle:
        rows = list(csv.reader(handle))
    rows[0] += ["Part-time", "Skills"]
    for n, row in enumerate(rows[1:]):
        row[5] = f"{row[5]}.5" if n % 3 == 0 else row[5]  # some decimals
        row += ["x" if n % 2 else "", ["python; sql", "GO", ""][n % 3]]
    with Path("users.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    Path("config.yaml").write_text(Path("config.yaml").read_text().replace(
        '  "Global Id": "Global ID"\n', '  "Global Id": "Global ID"\n  "Part-time": "Part-time"\n  "Skills": "Skills"\n'))
    assert run_cli(h, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    assert run_cli(h, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND").exit_code == 0
    maria = next(u for u in ws.users.values() if u.email == "maria.garcia@example.com")
    assert maria.custom_values["f-gid"] == 10003.5 and maria.custom_values["f-skills"] == ["Python", "SQL"]
    assert run_cli(h, "export", "adopt").exit_code == 0
    with Path("adopt/users.csv").open() as handle:
        exported = {r["NTID email"]: r for r in csv.DictReader(handle)}
    assert exported["ops-lead@example.com"]["Global Id"] == "10000.5"
    assert exported["maria.garcia@example.com"]["Skills"] == "Python; SQL"
    assert exported["li.wei@example.com"]["Company (Label)"] == "Acme GmbH"
    assert {exported[e]["Part-time"] for e in exported} <= {"yes", ""}
    replanned = run_cli(h, "plan", "adopt/users.csv", "--config", "adopt/config.yaml", "--detailed-exitcode",
                        "--out", "p.json")
    assert replanned.exit_code == 0, replanned.output
    assert h.transport.violations == []


def test_owner_and_pending_profiles_are_planned_with_a_warning(workdir: Path) -> None:
    state, key = demo_workspace("owner-key")
    ws = state.ws
    ops = next(u for u in ws.users.values() if u.email == "ops-lead@example.com")
    admin = ws.owner_id
    ws.owner_id, ws.admin_ids = ops.id, [admin]
    h = make_harness(state, key, EmulatorOptions(rate_limit=0, answers=Answers(owner_profile_readonly=True)))
    result = run_cli(h, "plan", "users.csv")
    assert result.exit_code == 0 and "ops-lead@example.com: a change to the workspace owner's profile is planned, but"\
        " Clockify may refuse it" in result.output
    applied = run_cli(h, "apply", "plans/plan.json")
    assert applied.exit_code == 1
    errors = Path("sync_error_log.csv").read_text()
    assert "ops-lead@example.com" in errors and "HTTP 403" in errors and "owner's profile" in errors
    successes = Path("sync_success_log.csv").read_text()
    assert "jane.smith@example.com" in successes, "the rest of the plan landed"
    assert h.transport.violations == []


def test_groups_of_the_emulator_hold_at_most_100_characters() -> None:
    """The emulator refuses what Clockify refuses: the 101st character of a group name."""
    state, key = demo_workspace("len-key")
    h = make_harness(state, key)
    import asyncio

    from clocksync.errors import ApiStatusError

    async def create(name: str) -> None:
        async with h.client() as client:
            await client.create_group(name)

    asyncio.run(create("x" * 100))
    with pytest.raises(ApiStatusError, match="HTTP 400 code 501"):
        asyncio.run(create("y" * 101))
    with pytest.raises(ApiStatusError, match="HTTP 400 code 501"):
        asyncio.run(create("🙂" * 51))  # 51 characters, 102 UTF-16 code units: Java's length
    # The request of 101 characters breaks the spec (the point of the test); the refusals do not.
    assert [v for v in h.transport.violations if "is too long" not in v] == []
    assert len(h.transport.violations) == 1
    assert {g.name for g in state.ws.groups.values()} >= {"x" * 100}
    assert not [g for g in state.ws.groups.values() if g.name.startswith(("y", "🙂"))]


def test_a_state_file_from_before_typed_fields_still_loads(tmp_path: Path) -> None:
    state, _ = demo_workspace("old-key")
    data = state.to_json()
    for f in data["fields"].values():
        f.pop("allowed_values"), f.pop("required")
    loaded = WorkspaceState.from_json(data)
    assert all(f.allowed_values == [] and not f.required for f in loaded.ws.fields.values() if f.type == "TXT")


def test_a_workbook_types_its_cells_like_a_csv_and_refusals_name_the_sheet(typed: EmulatorHarness) -> None:
    """Excel hands a number as a number and a checkbox as TRUE/FALSE; both are the values a CSV gives."""
    import openpyxl

    def book(rows: list[list[Any]]) -> None:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = "People"
        for row in [HEADER, *rows]:
            sheet.append(row)
        workbook.save("users.xlsx")

    book([["jane.smith@example.com", "ops@example.com", 40, 10004.0, True, "ENGINEERING"]])
    result = run_cli(typed, "plan", "users.xlsx", "--detailed-exitcode")
    assert result.exit_code == 2, result.output
    data = json.loads(Path("plans/plan.json").read_text())
    assert [a["fields"] for a in data["actions"] if a["kind"] == "update_profile"] == [
        {"Part-time": {"before": False, "after": True}}]
    book([["jane.smith@example.com", "ops@example.com", 40, 10004, False, "Marketing"]])
    refused = run_cli(typed, "plan", "users.xlsx")
    assert refused.exit_code == 1
    assert "sheet 'People', row 2, column 'Department': 'Marketing' is not allowed; allowed values: 'Engineering', " \
           "'Sales'" in refused.output


def test_undo_restores_typed_values_in_their_own_type(typed: EmulatorHarness) -> None:
    write_csv([["jane.smith@example.com", "ops@example.com", "40", "7", "yes", "Sales"],
               ["john.doe@example.com", "jane.smith@example.com", "40", "8.5", "x", "Engineering"]])
    before = {e: dict(next(u for u in typed.state.ws.users.values() if u.email == e).custom_values)
              for e in ("jane.smith@example.com", "john.doe@example.com")}
    assert plan(typed)[0] == 2
    assert run_cli(typed, "apply", "plans/plan.json").exit_code == 0
    assert value(typed, "john.doe@example.com", "f-gid") == 8.5 and value(typed, "jane.smith@example.com",
                                                                           "f-part") is True
    assert run_cli(typed, "undo").exit_code == 0
    undone = run_cli(typed, "apply", "plans/undo.json", "--confirm", "I UNDERSTAND")
    assert undone.exit_code == 0, undone.output
    for email, values in before.items():
        now = next(u for u in typed.state.ws.users.values() if u.email == email).custom_values
        for field_id in ("f-gid", "f-part", "f-dept"):
            assert now.get(field_id) == values.get(field_id) and type(now.get(field_id)) is type(values.get(field_id))


NFD_CAFE, NFC_CAFE = "Cafe\u0301 code", "Café code"
# (fields of the workspace: id, name, type, status), the mapped name -> the field written, or the error
RESOLVED: list[tuple[list[tuple[str, str, str, str]], str, str]] = [
    ([("f-a", "Global ID", "NUMBER", "VISIBLE"), ("f-b", "global id", "TXT", "VISIBLE")], "Global ID", "f-a"),
    ([("f-a", "Global ID", "NUMBER", "VISIBLE"), ("f-b", "global id", "TXT", "VISIBLE")], "global id", "f-b"),
    ([("f-b", "global id", "TXT", "VISIBLE"), ("f-a", "Global ID", "NUMBER", "VISIBLE")], "Global Id",
     "'Global ID' (NUMBER, VISIBLE) and 'global id' (TXT, VISIBLE)"),
    ([("f-a", "Global ID", "NUMBER", "VISIBLE"), ("f-b", "Global ID\u200b", "TXT", "VISIBLE")], "Global ID", "f-a"),
    ([("f-a", "Global ID", "NUMBER", "VISIBLE"), ("f-b", "Global ID\u200b", "TXT", "VISIBLE")], "GLOBAL ID",
     "2 USER fields of that name"),
    ([("f-a", NFC_CAFE, "TXT", "VISIBLE"), ("f-b", NFD_CAFE, "TXT", "VISIBLE")], NFC_CAFE, "2 USER fields"),
    ([("f-a", "Global ID", "NUMBER", "VISIBLE"), ("f-b", "Global ID", "NUMBER", "INACTIVE")], "Global ID",
     "'Global ID' (NUMBER, VISIBLE) and 'Global ID' (NUMBER, INACTIVE); rename one in Clockify"),
    ([("f-a", "Global  ID", "NUMBER", "VISIBLE")], "global id", "f-a"),  # one field: its key is enough
    ([("f-a", NFD_CAFE, "TXT", "VISIBLE")], NFC_CAFE, "f-a"),  # the same text, composed or not
]


@pytest.mark.parametrize(("fields", "mapped", "expected"), RESOLVED, ids=range(len(RESOLVED)))
def test_a_mapped_name_writes_only_to_the_field_it_names_exactly_or_is_refused_as_ambiguous(
        workdir: Path, fields: list[tuple[str, str, str, str]], mapped: str, expected: str) -> None:
    state, key = demo_workspace("resolve-key")
    state.ws.fields = {fid: CustomField(id=fid, name=name, type=kind, status=status)
                       for fid, name, kind, status in fields}
    state.ws.users["ops"] = User(id="ops", email="ops@example.com", name="Ops")
    h = make_harness(state, key, EmulatorOptions(rate_limit=0))
    Path("config.yaml").write_text(f'workspace:\n  fallback_manager_email: "ops@example.com"\n'
                                   f'field_mapping:\n  "Global Id": {json.dumps(mapped)}\n')
    with Path("users.csv").open("w", newline="") as handle:
        csv.writer(handle).writerows([HEADER[:4], ["jane.smith@example.com", "ops@example.com", "40", "12"]])
    code, data, output = plan(h)
    if not expected.startswith("f-"):
        assert code == 1 and "ConfigError" in output and expected in output and "rename one in Clockify" in output, output
        assert data == {} and h.state.writes == 0
        return
    assert code == 2, output
    name = state.ws.fields[expected].name
    [action] = [a for a in data["actions"] if a["kind"] == "update_profile"]
    assert list(action["fields"]) == [name], "the plan names the field exactly"
    assert run_cli(h, "apply", "plans/plan.json").exit_code == 0
    written = {fid: value(h, "jane.smith@example.com", fid) for fid in state.ws.fields}
    want = 12 if state.ws.fields[expected].type == "NUMBER" else "12"
    assert written == {fid: (want if fid == expected else None) for fid in state.ws.fields}, "no other field"
    assert plan(h)[0] == 0


@pytest.mark.parametrize("change", ["namesakes leave", "namesakes arrive"])
def test_a_manager_group_keeps_its_name_when_a_namesake_comes_or_goes(workdir: Path, change: str) -> None:
    """README, "Group names": a group told apart by email keeps that name when its namesakes leave,
    and a group holding the plain name keeps it when namesakes arrive (they are told apart by
    email): the group is never replaced by a new one, so what is attached to it stays."""
    state, key = demo_workspace("namesake-key")
    long_named(state, "Alex Kim", "Alex Kim", "Alex Kim")
    rows = Path("users.csv").read_text().splitlines()

    def managers(*kept: int) -> None:
        gone = [f"{p}{n}@" for n in range(3) if n not in kept for p in "mr"]
        Path("users.csv").write_text("\n".join(r for r in rows if not any(g in r for g in gone)) + "\n")

    first, then = ((0, 1, 2), (0,)) if change == "namesakes leave" else ((0,), (0, 1, 2))
    h = make_harness(state, key)
    managers(*first)
    result = run_cli(h, "plan", "users.csv")
    assert result.exit_code == 0, result.output
    if len(first) == 3:
        assert "3 groups would be named 'Alex Kim': the groups of m0@example.com, m1@example.com, " \
            "m2@example.com are named with their emails" in result.output, result.output
    assert run_cli(h, "apply", "plans/plan.json").exit_code == 0
    group = next(g for g in state.ws.groups.values() if "r0" in g.user_ids)
    name, group_id = group.name, group.id
    assert name == ("Alex Kim (m0@example.com)" if len(first) == 3 else "Alex Kim")

    managers(*then)
    result = run_cli(h, "plan", "users.csv")
    assert result.exit_code == 0, result.output
    actions = json.loads(Path("plans/plan.json").read_text())["actions"]
    created = sorted(a["group_name"] for a in actions if a["kind"] == "create_group")
    assert created == ([] if len(then) == 1 else ["Alex Kim (m1@example.com)", "Alex Kim (m2@example.com)"])
    assert not [a for a in actions if a.get("group_id") == group_id or a.get("entity_id") == group_id], \
        "m0's group is neither emptied nor replaced"
    assert run_cli(h, "apply", "plans/plan.json").exit_code == 0
    assert state.ws.groups[group_id].name == name and "r0" in state.ws.groups[group_id].user_ids
    assert run_cli(h, "plan", "users.csv", "--detailed-exitcode").exit_code == 0, "stable: no change"
    assert h.transport.violations == []


@pytest.mark.parametrize("name", ["e\u0301" * 70, "Jose\u0301 " * 20])
def test_a_decomposed_manager_name_is_measured_and_sent_composed(workdir: Path, name: str) -> None:
    """README: letters compare in NFC. A name typed decomposed (NFD) is the same name composed: it
    is measured and sent in NFC, so it is not shortened when its composed form fits."""
    state, key = demo_workspace("nfd-key")
    long_named(state, name)
    h = make_harness(state, key)
    assert run_cli(h, "plan", "users.csv").exit_code == 0
    created = [a["group_name"] for a in json.loads(Path("plans/plan.json").read_text())["actions"]
               if a["kind"] == "create_group"]
    composed = unicodedata.normalize("NFC", name).strip()
    assert composed in created, created
    assert run_cli(h, "apply", "plans/plan.json").exit_code == 0
    assert run_cli(h, "plan", "users.csv", "--detailed-exitcode").exit_code == 0



def test_a_row_naming_a_limited_account_with_an_email_is_reported_never_invited(workdir: Path) -> None:
    """A LIMITED account listed with an email is still outside management: a CSV row naming it is
    not an invitation (the workspace refuses to invite an address it holds, on every run); the plan
    says so, and the next plan is empty."""
    state, key = demo_workspace("kiosk-email-key")
    kiosk = User(id="k4", email="kiosk4@example.com", name="Kiosk four", account_status="LIMITED")
    state.ws.users[kiosk.id] = kiosk
    Path("config.yaml").write_text('workspace:\n  fallback_manager_email: "ops-lead@example.com"\n'
                                   'invite:\n  missing_users: true\n')
    Path("users.csv").write_text("NTID email,Manager NTID email,Weekly Working Hours\nops-lead@example.com,,\n"
                                 "Kiosk4@Example.com,ops-lead@example.com,40\n")
    h = make_harness(state, key)
    result = run_cli(h, "plan", "users.csv")
    assert result.exit_code == 0, result.output
    data = json.loads(Path("plans/plan.json").read_text())
    assert not [a for a in data["actions"] if a["kind"] == "invite_user"], data["actions"]
    notes = {n["code"]: n["message"] for n in data["notices"]}
    assert notes["limited_user"].startswith("Kiosk4@Example.com (CSV row 3) is a limited (kiosk) account")
    assert "(kiosk accounts: Front desk kiosk, Kiosk four <kiosk4@example.com>)" in notes["limited_members"]
    assert run_cli(h, "apply", "plans/plan.json").exit_code == 0
    assert run_cli(h, "plan", "users.csv", "--detailed-exitcode").exit_code == 0
    assert kiosk.account_status == "LIMITED" and h.transport.violations == []
