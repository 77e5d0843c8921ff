"""The operator at the edges, through the CLI: no silent default config, scope typos, a report that
cannot be written, and the smaller things a reviewer reads (signs, names, hints, warnings)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from clocksync.apply.runlog import list_runs
from clocksync.cli import cli
from tests.conftest import EmulatorHarness, run_cli

# ---------------------------------------------------------------------- a plan needs a config


def test_plan_without_a_config_is_an_error_that_says_how_to_make_one(harness: EmulatorHarness,
                                                                     workdir: Path) -> None:
    Path("config.yaml").unlink()
    result = run_cli(harness, "plan", "users.csv")
    assert result.exit_code == 1, result.output
    assert "ConfigError" in result.output and "no --config was given" in result.output
    assert "clocksync init" in result.output and "--config PATH" in result.output
    assert "Traceback" not in result.output
    assert not Path("plans/plan.json").exists() and harness.transport.operations == {}, "nothing read or written"
    named = run_cli(harness, "plan", "users.csv", "--config", "missing.yaml")
    assert named.exit_code == 1 and "missing.yaml: no such file" in named.output and "clocksync init" in named.output


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
def test_the_plan_header_names_the_config_it_was_made_with(harness: EmulatorHarness, workdir: Path,
                                                         fmt: str) -> None:
    Path("config.yaml").rename("acme.yaml")
    result = run_cli(harness, "plan", "users.csv", "--config", "acme.yaml", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert "users.csv with config acme.yaml" in result.stdout.replace("`", "")


def test_without_a_fallback_manager_no_warning_says_the_fallback_manager_takes_over(
        harness: EmulatorHarness, workdir: Path) -> None:
    config = Path("config.yaml").read_text()
    Path("config.yaml").write_text(config.replace('fallback_manager_email: "ops-lead@example.com"',
                                                  'fallback_manager_email: ""'))
    result = run_cli(harness, "plan", "users.csv", "--format", "json")
    assert result.exit_code == 0, result.output
    notices = [n["message"] for n in json.loads(result.stdout)["notices"]]
    assert any("fallback_manager_email is not set" in n for n in notices)
    emma = [n for n in notices if n.startswith("emma.wilson@example.com")]
    assert emma and "left as they are" in emma[0], notices
    assert not [n for n in notices if "takes over" in n], notices


# ---------------------------------------------------------------------- --only / --exclude typos


@pytest.mark.parametrize("args, named", [
    (["--only", "jnae.smith@example.com"], "--only 'jnae.smith@example.com'"),
    (["--only", "*@contractor.example"], "--only '*@contractor.example'"),
    (["--exclude", "nobody@example.com"], "--exclude 'nobody@example.com'"),
    (["--only", "jane.smith@example.com", "--only", "jane.smtih@example.com"], "--only 'jane.smtih@example.com'"),
])
def test_a_scope_pattern_that_matches_nobody_is_an_error_naming_it(harness: EmulatorHarness, workdir: Path,
                                                                  args: list[str], named: str) -> None:
    result = run_cli(harness, "plan", "users.csv", "--detailed-exitcode", *args)
    assert result.exit_code == 1, result.output
    assert named in result.output and "matches no user" in result.output
    assert "No changes" not in result.output and not Path("plans/plan.json").exists()


@pytest.mark.parametrize("pattern", ["JANE.SMITH@example.com", "*@EXAMPLE.com", "pat.leaver@example.com"])
def test_a_scope_pattern_matching_a_csv_user_or_a_member_is_fine(harness: EmulatorHarness, workdir: Path,
                                                                pattern: str) -> None:
    """Case does not matter; a member who is not in the CSV (a leaver) is someone to scope to."""
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--only", pattern)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------- smaller things a reviewer reads


def test_a_group_that_only_loses_a_member_reads_as_changed_not_deleted(harness: EmulatorHarness,
                                                                       workdir: Path) -> None:
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "  ~ Book club" in lines and "      - member pat.leaver@example.com" in lines, result.stdout
    assert "  - Book club" not in lines
    assert "  + Omar Farouk" in lines, "a group the plan creates is marked +"
    assert "  ~ john.doe@example.com" in lines and "  + ahmed.khan@example.com" not in lines
    assert "  ~ ahmed.khan@example.com" in lines, "a user who only gains a manager is changed, not added"
    html = run_cli(harness, "show", "plans/plan.json", "--format", "html").stdout
    assert '<span class="sign">~</span><b>Book club</b> <span class="sign">-</span>member pat.leaver' in html


# ---------------------------------------------------------------------- apply --report that cannot be written


@pytest.mark.parametrize("make, report", [
    (lambda: Path("reports").write_text("a file where a folder should be"), "reports/apply.html"),
    (lambda: Path("reports").write_text("a file where a folder should be"), "reports/2026/apply.html"),
])
def test_a_report_path_that_cannot_be_written_stops_apply_before_any_write(
        harness: EmulatorHarness, workdir: Path, make: Callable[[], object], report: str) -> None:
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    make()
    result = run_cli(harness, "apply", "plans/plan.json", "--report", report)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("FileError: --report reports") and "nothing was applied" in result.output
    assert harness.state.writes == 0 and "Traceback" not in result.output


class ReportTurnsIntoAFolder(httpx.AsyncBaseTransport):
    """At the first write, something takes the report's place: the report can only fail at the end."""

    def __init__(self, inner: httpx.AsyncBaseTransport, report: Path) -> None:
        self.inner, self.report = inner, report

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "GET" and not self.report.exists():
            self.report.mkdir(parents=True)
        return await self.inner.handle_async_request(request)


def test_a_report_that_fails_after_the_writes_is_one_line_under_the_summary(harness: EmulatorHarness,
                                                                            workdir: Path) -> None:
    """Exit code: the apply's outcome (0 here). The writes landed and are recorded in the audit CSVs
    and the run folder; the report is one view of them, and its failure is said on its own line."""
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    report = Path("reports/apply.html")
    result = CliRunner().invoke(cli, ["apply", "plans/plan.json", "--report", str(report)],
                                obj={"transport": ReportTurnsIntoAFolder(harness.transport, report)},
                                env=harness.env(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Apply: 39 applied" in result.stdout and "Audit:" in result.stdout
    failure = [line for line in result.stderr.splitlines() if "report" in line]
    assert len(failure) == 1 and failure[0].startswith(f"FileError: the report was not written: {report}: ")
    assert "Traceback" not in result.output and report.is_dir()
    assert run_cli(harness, "plan", "users.csv", "--detailed-exitcode", "--out", "plans/again.json").exit_code == 0


def test_the_handover_names_a_project_by_its_name_read_only_when_a_leaver_manages_one(
        harness: EmulatorHarness, workdir: Path) -> None:
    projects = "GET /workspaces/{workspaceId}/projects"
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    assert projects not in harness.transport.operations, "no deactivation: no project is read"
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing")
    assert result.exit_code == 0, result.output
    assert "        project Website relaunch -> ops-lead@example.com (fallback manager)" in result.stdout
    assert "PROJECT_MANAGER of project Website relaunch" in result.stdout
    assert harness.transport.operations[projects] == 1, "one read of the projects list, not one per user"


def test_a_world_readable_dotenv_is_warned_about_once(harness: EmulatorHarness, workdir: Path) -> None:
    env = harness.env()
    Path(".env").write_text(f"CLOCKIFY_API_KEY={env.pop('CLOCKIFY_API_KEY')}\n")
    Path(".env").chmod(0o644)
    result = CliRunner().invoke(cli, ["plan", "users.csv"], obj={"transport": harness.transport},
                                env={**env, "CLOCKIFY_API_KEY": ""}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert result.output.count("readable by other users") == 1, result.output


def test_an_exception_that_names_nobody_is_a_warning_not_an_exception_held(harness: EmulatorHarness,
                                                                           workdir: Path) -> None:
    config = Path("config.yaml").read_text().replace("\nexceptions: []\n", (
        "\nexceptions:\n  - email: maria.garcai@example.com\n    ignore: [capacity]\n    reason: typo\n"))
    Path("config.yaml").write_text(config)
    result = run_cli(harness, "plan", "users.csv", "--format", "json")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["exceptions"] == [], "it holds for nobody"
    assert any("maria.garcai@example.com" in n["message"] and "names nobody" in n["message"]
               for n in plan["notices"])
    assert "Exceptions held" not in run_cli(harness, "show", "plans/plan.json").stdout


def test_the_undo_hint_keeps_the_log_dir_and_history_names_the_run_folders_plan(harness: EmulatorHarness,
                                                                                 workdir: Path) -> None:
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    applied = run_cli(harness, "apply", "plans/plan.json", "--log-dir", "audit")
    assert applied.exit_code == 0, applied.output
    assert "To take this run back: clocksync undo --log-dir audit --run " in applied.stderr
    undone = run_cli(harness, "undo", "--log-dir", "audit")
    assert undone.exit_code == 0 and "then: clocksync apply plans/undo.json --log-dir audit" in undone.stderr
    history = run_cli(harness, "history", "--log-dir", "audit").stdout
    [run] = list_runs(Path("audit"))
    assert f"  {run.path / 'plan.json'}  " in history and "plans/plan.json" not in history
    assert json.loads((run.path / "plan.json").read_text()) == json.loads(Path("plans/plan.json").read_text())


def test_init_writes_a_config_whose_comment_says_what_to_set(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["init", "--dir", "fresh"])
    assert result.exit_code == 0, result.output
    text = Path("fresh/config.yaml").read_text()
    assert "original three sections" not in text
    assert "Set workspace.fallback_manager_email and field_mapping" in text.splitlines()[0]
