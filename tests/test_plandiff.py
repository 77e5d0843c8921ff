"""Comparing two plans: what a reviewer needs to see when a plan is made again."""

from __future__ import annotations

from pathlib import Path

from clocksync.plan.compare import compare_plans, render_comparison
from clocksync.plan.file import load_plan
from tests.conftest import EmulatorHarness, run_cli


def test_two_plans_of_the_same_change_compare_equal(harness: EmulatorHarness, workdir: Path) -> None:
    """Made separately (different times and checksums), the same actions compare equal; one less does not."""
    assert run_cli(harness, "plan", "users.csv", "--out", "plans/a.json").exit_code == 0
    assert run_cli(harness, "plan", "users.csv", "--out", "plans/b.json").exit_code == 0
    first, second = load_plan(Path("plans/a.json")), load_plan(Path("plans/b.json"))
    assert compare_plans(first, second).same
    fewer = second.model_copy(update={"actions": second.actions[1:]})
    comparison = compare_plans(first, fewer)
    assert not comparison.same and comparison.removed == [first.actions[0]]


def test_changes_between_two_plans(harness: EmulatorHarness, workdir: Path) -> None:
    assert run_cli(harness, "plan", "users.csv", "--out", "plans/reviewed.json").exit_code == 0
    csv = Path("users.csv").read_text()
    csv = csv.replace("maria.garcia@example.com,jane.smith@example.com,37.5", "maria.garcia@example.com,jane.smith@example.com,30")
    csv = csv.replace("emma.wilson@example.com,former.manager@example.com,24", "emma.wilson@example.com,jane.smith@example.com,24")
    Path("users.csv").write_text(csv)
    assert run_cli(harness, "plan", "users.csv", "--out", "plans/new.json").exit_code == 0
    comparison = compare_plans(load_plan(Path("plans/reviewed.json")), load_plan(Path("plans/new.json")))
    changed = {a.target: fields for a, fields in comparison.changed}
    maria = changed["maria.garcia@example.com"]
    assert [(c.field, c.old, c.new) for c in maria if c.field == "capacity.after"] == [
        ("capacity.after", "PT7H30M", "PT6H")]
    added = {a.describe() for a in comparison.added}
    assert "add emma.wilson@example.com to group 'Jane Smith'" in added
    removed = {a.describe() for a in comparison.removed}
    assert "add emma.wilson@example.com to group 'Other functions'" in removed
    text = render_comparison(comparison, "plans/reviewed.json")
    assert "capacity.after: 'PT7H30M' -> 'PT6H'" in text
    shown = run_cli(harness, "show", "plans/new.json", "--since", "plans/reviewed.json")
    assert shown.exit_code == 0 and "Changes since plans/reviewed.json" in shown.stdout
