"""The CI example is valid YAML by yamllint and a valid GitHub Actions workflow by its published schema."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

WORKFLOW = Path(__file__).resolve().parent.parent / "examples" / "ci" / "clocksync.yml"
YAMLLINT = "{extends: default, rules: {line-length: {max: 110}, document-start: disable, truthy: {check-keys: false}}}"


def test_workflow_passes_yamllint() -> None:
    result = subprocess.run([sys.executable, "-m", "yamllint", "-d", YAMLLINT, str(WORKFLOW)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_workflow_matches_the_github_workflow_schema() -> None:
    # check-jsonschema ships the GitHub workflow schema (vendored): no network needed.
    result = subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                             str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_uses_the_documented_commands() -> None:
    text = WORKFLOW.read_text()
    assert "clocksync plan users.csv --config config.yaml --detailed-exitcode" in text
    assert 'clocksync apply plans/plan.json --confirm "I UNDERSTAND"' in text
    assert "secrets.CLOCKIFY_API_KEY" in text and "CLOCKIFY_API_KEY: sk" not in text
