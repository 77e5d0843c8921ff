"""A profile write never sends back a stored value its field cannot hold.

A profile PATCH sends every value the user has (complete values). A value stored in a form the
field does not take (left by an older tool, or a dropdown option removed since) would make the API
refuse the whole write, and with it the user's capacity and field changes, on every run. Through
the CLI on the emulator, each user below holds one such value, of every field type, mapped or not,
and has a capacity change: the plan sends the value in the field's own form where its meaning is
certain, and leaves it out otherwise, saying so; the writes all land; and the next plan is empty.
Under ``profile-patch-replaces`` a value left out is cleared, as the plan warned: verification
names it, and nothing else is lost.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from clocksync.apply.verify import COLLATERAL
from clocksync.emulator.app import EmulatorOptions
from clocksync.emulator.demo import demo_workspace
from clocksync.emulator.state import CustomField, User
from clocksync.emulator.variants import Answers
from tests.conftest import EmulatorHarness, error_rows, make_harness, run_cli

CONFIG = """\
workspace:
  fallback_manager_email: "ops@example.com"
field_mapping:
  "Global Id": "Global ID"
  "Part-time": "Part-time"
  "Department": "Department"
"""
HEADER = ["NTID email", "Manager NTID email", "Weekly Working Hours", "Global Id", "Part-time", "Department"]
FIELDS = [
    CustomField(id="f-gid", name="Global ID", type="NUMBER"),
    CustomField(id="f-part", name="Part-time", type="CHECKBOX"),
    CustomField(id="f-dept", name="Department", type="DROPDOWN_SINGLE", allowed_values=["Engineering", "Sales"]),
    # not mapped: values clocksync does not manage, sent back by every write
    CustomField(id="f-region", name="Region", type="DROPDOWN_SINGLE", allowed_values=["EMEA", "APAC"]),
    CustomField(id="f-skills", name="Skills", type="DROPDOWN_MULTIPLE", allowed_values=["Python", "Go", "C, C++"]),
    CustomField(id="f-wiki", name="Wiki", type="LINK"),
    CustomField(id="f-note", name="Note", type="TXT"),
    CustomField(id="f-flag", name="Flag", type="CHECKBOX"),
    CustomField(id="f-size", name="Size", type="NUMBER"),
]
# user -> (field id, the value stored, what the write sends: the field's own form, or None: left out)
STORED: dict[str, tuple[str, Any, Any]] = {
    "n01": ("f-gid", "10004", 10004),  # a number stored as text (an older tool)
    "n02": ("f-gid", "010003", None),  # text whose leading zeros a number cannot keep: not certain
    "n03": ("f-part", "true", True),  # a checkbox stored as text
    "n04": ("f-part", "maybe", None),
    "n05": ("f-dept", "engineering", "Engineering"),  # a dropdown value in another case
    "n06": ("f-dept", "Marketing", None),  # an option removed since
    "n07": ("f-region", "LATAM", None),  # ... in a field that is not mapped
    "n08": ("f-region", "emea", "EMEA"),
    "n09": ("f-skills", "Python, Go", ["Python", "Go"]),  # a multi-select written as text
    "n10": ("f-skills", "C, C++", ["C, C++"]),  # one value holding a comma
    "n11": ("f-skills", ["Python", "Rust"], None),
    "n12": ("f-wiki", "wiki.example.com/n12", None),
    "n13": ("f-note", 42, "42"),  # a number in a text field
    "n14": ("f-flag", 1, True),
    "n15": ("f-size", ["7"], None),
    "n16": ("f-dept", ["Sales"], "Sales"),  # a single dropdown held as a list
}


def harness(variants: list[str]) -> EmulatorHarness:
    state, key = demo_workspace("stored-key")
    ws = state.ws
    ws.fields.update({f.id: f for f in FIELDS})
    ws.users["ops"] = User(id="ops", email="ops@example.com", name="Ops")
    for name, (field_id, value, _) in STORED.items():
        ws.users[name] = User(id=name, email=f"{name}@example.com", name=name.upper(),
                              custom_values={field_id: value, "f-note": "kept"} if field_id != "f-note"
                              else {field_id: value})
    state.writes = 0
    return make_harness(state, key, EmulatorOptions(rate_limit=0, answers=Answers().with_variants(variants)))


def write_csv() -> None:
    with Path("users.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerow(["ops@example.com", "", "40", "", "", ""])
        for name in STORED:  # 32 hours: a capacity change for everyone; every mapped cell blank
            writer.writerow([f"{name}@example.com", "ops@example.com", "32", "", "", ""])


@pytest.mark.parametrize("variants", [[], ["profile-patch-replaces"]], ids=["merge", "profile-patch-replaces"])
def test_a_stored_value_the_field_cannot_hold_never_blocks_the_users_changes(workdir: Path,
                                                                            variants: list[str]) -> None:
    Path("config.yaml").write_text(CONFIG)
    write_csv()
    h = harness(variants)
    planned = run_cli(h, "plan", "users.csv", "--allow-mass-field-change")
    assert planned.exit_code == 0, planned.output
    plan = json.loads(Path("plans/plan.json").read_text())
    actions = {a["email"].split("@")[0]: a for a in plan["actions"] if a["kind"] == "update_profile"}
    field_name = {f.id: f.name for f in FIELDS}
    for name, (field_id, value, sent) in STORED.items():
        action = actions[name]
        if sent is None:  # written only when set: a plan without them reads as before they existed
            assert action["left_out"] == {field_name[field_id]: value} and "normalised" not in action, name
        else:
            assert action["normalised"] == {field_name[field_id]: {"before": value, "after": sent}}, name
            assert "left_out" not in action, name
    notices: dict[str, str] = {}
    for notice in plan["notices"]:  # one per field
        notices[notice["code"]] = notices.get(notice["code"], "") + notice["message"] + "\n"
    assert "n07@example.com 'LATAM'" in notices["stored_value_left_out"]
    assert "if it replaces the profile" in notices["stored_value_left_out"]
    assert "n03@example.com 'true' -> true" in notices["stored_value_normalised"]
    assert "Region: 'LATAM' not sent (the field cannot hold it)" in planned.output
    assert "Department 'engineering' sent as 'Engineering' (the same value" in planned.output

    applied = run_cli(h, "apply", "plans/plan.json")
    assert not [r for r in error_rows() if r["kind"] == "update_profile"], "no write was refused"
    users = h.state.ws.users
    assert all(users[name].work_capacity == "PT6H24M" for name in STORED), "every capacity change landed"
    replaces = bool(variants)
    for name, (field_id, value, sent) in STORED.items():
        held = users[name].custom_values.get(field_id)
        if sent is not None:
            assert held == sent and type(held) is type(sent), name
        else:
            assert held == (None if replaces else value), name
        if field_id != "f-note":
            assert users[name].custom_values["f-note"] == "kept", "a value that fits is sent back as it is"
    if replaces:  # cleared as the plan warned: verification names each, and only those
        assert applied.exit_code == 1, applied.output
        rows = [r for r in error_rows() if r["kind"] == "verify"]
        left_out = {f"{n}@example.com" for n, (_, _, sent) in STORED.items() if sent is None}
        assert {r["target"].removeprefix("profile of ") for r in rows} == left_out
        assert {r["outcome"] for r in rows} == {COLLATERAL}
    else:
        assert applied.exit_code == 0, applied.output
    again = run_cli(h, "plan", "users.csv", "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert h.transport.violations == []
