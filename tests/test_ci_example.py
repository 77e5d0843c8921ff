"""The CI example is valid YAML by yamllint and a valid GitHub Actions workflow by its published schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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
    assert "gh pr comment" in text


# ---------------------------------------------------------------------- the key in CI (issue 20, finding 1)


def _workflow() -> dict[str, Any]:
    from ruamel.yaml import YAML

    return dict(YAML(typ="safe").load(WORKFLOW.read_text()))


def _holds_the_key(job: dict[str, Any]) -> bool:
    return "secrets.CLOCKIFY_API_KEY" in json.dumps(job)


def test_the_key_is_only_in_jobs_that_pin_the_host_and_ignore_dotenv() -> None:
    workflow = _workflow()
    assert "secrets" not in json.dumps(workflow.get("env", {})), "not in the workflow-wide environment"
    holders = {name: job for name, job in workflow["jobs"].items() if _holds_the_key(job)}
    assert set(holders) == {"drift", "pr-plan", "plan", "apply"}
    for name, job in holders.items():
        env = job["env"]
        assert env["CLOCKIFY_BASE_URL"] == "https://api.clockify.me/api/v1", name
        assert env["CLOCKSYNC_NO_DOTENV"] == "1", name
        assert job["environment"] in ("clockify-read", "clockify-production"), f"{name}: an environment secret"
        assert "CLOCKSYNC_ALLOW_HOST" not in json.dumps(job), name
        for step in job["steps"]:
            assert "secrets" not in json.dumps(step), f"{name}: the key is set once, on the job"
    assert holders["apply"]["environment"] == "clockify-production"


def test_no_job_runs_pull_request_code_beside_the_key() -> None:
    workflow = _workflow()
    assert "pull_request" not in workflow["on"], "pull_request runs the pull request's own workflow file"
    assert "pull_request_target" in workflow["on"]
    for name, job in workflow["jobs"].items():
        if not _holds_the_key(job):
            continue
        text = json.dumps(job)
        if "pull_request" not in job.get("if", ""):
            assert "pull_request" not in text, name
            continue
        assert "head.repo.full_name == github.repository" in job["if"], f"{name}: no plan for forks"
        checkouts = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout")]
        for step in checkouts:
            options = step["with"]
            assert options["path"] not in ("", ".") and options["persist-credentials"] is False, name
            assert set(options["sparse-checkout"].split()) == {"users.csv", "config.yaml"}, "data only"
        runs = " ".join(str(s.get("run", "")) for s in job["steps"])
        assert "pr/users.csv" in runs and "--config pr/config.yaml" in runs
        assert "pip install \"clocksync==" in runs, "a pinned clocksync, not the pull request's"
        assert "pull-requests" not in json.dumps(job.get("permissions", {})), f"{name}: posts nothing itself"


def test_the_comment_job_posts_without_the_key() -> None:
    job = _workflow()["jobs"]["pr-comment"]
    assert not _holds_the_key(job) and job["needs"] == "pr-plan"
    assert job["permissions"] == {"pull-requests": "write"}
    assert any("gh pr comment" in str(s.get("run", "")) for s in job["steps"])


@pytest.mark.parametrize(("make", "refused"), [
    ("printf 'a\\n' > pr/users.csv; printf 'b: 1\\n' > pr/config.yaml", False),
    ("ln -s /proc/self/environ pr/users.csv; printf 'b: 1\\n' > pr/config.yaml", True),
    ("printf 'a\\n' > pr/users.csv; ln -s ../.git/config pr/config.yaml", True),
    ("printf 'a\\n' > pr/users.csv; mkdir pr/config.yaml", True),
    ("ln -s users.csv pr/users.csv", True),  # a dangling link
])
def test_the_pr_job_refuses_links_in_the_pull_request(tmp_path: Path, make: str, refused: bool) -> None:
    """The pull request chooses what pr/users.csv is: the job runs clocksync only on regular files."""
    step = next(s for s in _workflow()["jobs"]["pr-plan"]["steps"] if "regular file" in str(s.get("run", "")))
    (tmp_path / "pr").mkdir()
    subprocess.run(["bash", "-c", make], cwd=tmp_path, check=True)
    result = subprocess.run(["bash", "-e", "-c", step["run"]], cwd=tmp_path, capture_output=True, text=True)
    assert (result.returncode != 0) is refused, result.stdout
