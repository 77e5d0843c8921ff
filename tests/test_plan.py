"""The plan file: sealed, versioned, refused when edited; thresholds refuse mass changes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from clocksync.config import SafetyConfig
from clocksync.errors import PlanFileError, TooMuchChange
from clocksync.kinds.group import DeleteGroup
from clocksync.kinds.membership import RemoveMember
from clocksync.kinds.user_status import DeactivateUser
from clocksync.plan.diff import Diff
from clocksync.plan.file import InputFingerprint, Plan, build_plan, load_plan, save_plan
from clocksync.plan.safety import check_thresholds
from clocksync.plan.seal import SealKey
from clocksync.plan.types import PlanOptions, WorkspaceFigures
from scripts.plan_schema import OUT, schema_text

TEST_SEAL = SealKey.derive("test-key", "ws")


def make(actions: list, *, active: int = 100, groups: int = 20, managed: int = 100, rows: int = 100,
         options: PlanOptions | None = None, safety: SafetyConfig | None = None) -> Plan:
    figures = WorkspaceFigures(active_members=active, total_groups=groups, managed_members=managed, csv_rows=rows)
    found = Diff([a for a in actions], [], [], [], figures)
    return build_plan(found, workspace_id="ws", inputs={"csv": InputFingerprint(path="u.csv", sha256="0")},
                      options=options or PlanOptions(), created_at="2026-01-01T00:00:00Z", safety=safety,
                      api_host="127.0.0.1", seal_key=TEST_SEAL)


def deactivations(n: int) -> list:
    return [DeactivateUser(user_id=f"u{i}", email=f"u{i}@example.com") for i in range(n)]


def test_round_trip_and_checksum(tmp_path: Path) -> None:
    plan = make(deactivations(2))
    path = tmp_path / "plan.json"
    save_plan(plan, path)
    assert load_plan(path) == plan
    assert plan.summary.destructive == 2 and plan.summary.remove == 2


@pytest.mark.parametrize("edit", [
    lambda d: d["actions"][0].update(email="someone.else@example.com"),
    lambda d: d.update(workspace_id="other"),
    lambda d: d["actions"].append(dict(d["actions"][0], id="x")),
])
def test_edited_plan_refused(tmp_path: Path, edit) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "plan.json"
    save_plan(make(deactivations(1)), path)
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))
    with pytest.raises(PlanFileError, match="checksum|key"):
        load_plan(path)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda t: t[: len(t) // 2], "not valid JSON"),
    (lambda t: t.replace('"format_version": 3', '"format_version": 99'), "version 99"),
    (lambda t: "[]", "not a clocksync plan"),
    (lambda t: t.replace('"kind": "deactivate_user"', '"kind": "format_disk"'), "key actions"),
    # review of issue 20, F9: a number Python will not read was a 40-line ValueError traceback
    (lambda t: t.replace('"format_version": 3', '"format_version": ' + "9" * 5000), "number too long"),
    (lambda t: t.replace('"format_version": 3', '"format_version": -' + "9" * 4301), "number too long"),
    (lambda t: t.replace('"format_version": 3', '"format_version": 3, "x": [' + "1" * 10_000 + "]"),
     "number too long"),
])
def test_damaged_plan_refused(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "plan.json"
    save_plan(make(deactivations(1)), path)
    path.write_text(mutate(path.read_text()))
    with pytest.raises(PlanFileError, match=message):
        load_plan(path)


def test_small_changes_never_trip_defaults() -> None:
    check_thresholds(make(deactivations(4), active=5))  # 80% but fewer than 5 people
    check_thresholds(make(deactivations(20), active=100))  # 5 or more, but 20%


def test_mass_deactivation_refused_with_numbers_and_override() -> None:
    with pytest.raises(TooMuchChange) as info:
        check_thresholds(make(deactivations(30), active=100))
    assert "30% is over 25% (30/100 active members)" in str(info.value)
    assert "--allow-mass-deactivation" in str(info.value)
    check_thresholds(make(deactivations(30), active=100, options=PlanOptions(allow_mass_deactivation=True)))
    check_thresholds(make(deactivations(30), active=100, safety=SafetyConfig(max_deactivation_share=0.5)))


def test_mass_group_deletion_and_removal_refused() -> None:
    deletes = [DeleteGroup(group_id=f"g{i}", group_name=f"G{i}") for i in range(6)]
    with pytest.raises(TooMuchChange, match="group deletions"):
        check_thresholds(make(deletes, groups=10))
    removals = [RemoveMember(group_name="G", group_id="g", user_id=f"u{i}", email=f"u{i}@x.io") for i in range(60)]
    with pytest.raises(TooMuchChange, match="membership removals"):
        check_thresholds(make(removals, managed=100))


def test_truncated_csv_refused_with_deactivation() -> None:
    plan = make(deactivations(10), active=100, rows=20, options=PlanOptions(deactivate_missing=True),
                safety=SafetyConfig(max_deactivation_share=1.0))
    with pytest.raises(TooMuchChange, match="truncated"):
        check_thresholds(plan)


def test_published_schema_is_current_and_validates_a_plan() -> None:
    assert OUT.read_text() == schema_text(), "run: python scripts/plan_schema.py"
    jsonschema.validate(make(deactivations(1)).model_dump(mode="json"), json.loads(schema_text()))


def test_sample_plan_in_repo_loads() -> None:
    sample = Path(__file__).resolve().parent.parent / "plans" / "sample-plan.json"
    assert load_plan(sample).summary.total > 0
