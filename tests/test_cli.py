"""The CLI's contract: commands, exit codes, errors without tracebacks, credentials, formats."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from clocksync.apply.audit import safe_cell
from clocksync.apply.lock import workspace_lock
from clocksync.cli import cli
from clocksync.config import Config
from clocksync.credentials import read_dotenv, resolve_connection
from clocksync.errors import ApplyLocked, CredentialsError
from tests.conftest import EmulatorHarness, run_cli


def test_help_lists_the_commands() -> None:
    """Each contract command is a line of the Commands section (not just a word in the docstring)."""
    result = CliRunner().invoke(cli, ["--help"])
    listed = result.output.split("\nCommands:\n", 1)[1]
    commands = {line.split()[0] for line in listed.splitlines() if line.startswith("  ") and line.strip()}
    assert {"plan", "apply", "show", "preflight", "emulator", "init"} <= commands, commands
    for command in sorted(commands):
        assert CliRunner().invoke(cli, [command, "--help"]).exit_code == 0, command
    assert CliRunner().invoke(cli, ["--version"]).output.startswith("clocksync, version ")


def test_bad_config_exits_1_without_plan(harness: EmulatorHarness, workdir: Path) -> None:
    Path("config.yaml").write_text("workspace:\n  fallback_manager_email: [1, 2]\n")
    result = run_cli(harness, "plan", "users.csv")
    assert result.exit_code == 1
    assert "ConfigError" in result.output and "line 2" in result.output
    assert "Traceback" not in result.output
    assert not Path("plans/plan.json").exists() and harness.transport.operations == {}


def test_missing_credentials_without_a_terminal(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "users.csv"], env={"CLOCKIFY_API_KEY": "", "CLOCKIFY_WORKSPACE_ID": ""})
    assert result.exit_code == 1 and "CLOCKIFY_API_KEY is not set" in result.output


def test_env_overrides_dotenv_and_world_readable_dotenv_warns(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# comment\nexport CLOCKIFY_API_KEY='from-dotenv'\nCLOCKIFY_WORKSPACE_ID=ws-dotenv # note\n")
    os.chmod(dotenv, 0o644)
    warnings: list[str] = []
    conn = resolve_connection(Config(), environ={"CLOCKIFY_WORKSPACE_ID": "ws-env"}, dotenv_path=dotenv,
                              warn=warnings.append)
    assert conn.api_key.reveal() == "from-dotenv" and conn.workspace_id == "ws-env"
    assert "from-dotenv" not in repr(conn) and warnings and "chmod 600" in warnings[0]
    os.chmod(dotenv, 0o600)
    warnings.clear()
    read_dotenv(dotenv, warnings.append)
    assert warnings == []


def test_rate_limit_from_env_overrides_config() -> None:
    conn = resolve_connection(Config.model_validate({"api": {"requests_per_second": 7}}),
                              environ={"CLOCKIFY_API_KEY": "k", "CLOCKIFY_WORKSPACE_ID": "w",
                                       "CLOCKSYNC_REQUESTS_PER_SECOND": "45"}, dotenv_path=Path("/nonexistent"))
    assert conn.requests_per_second == 45
    with pytest.raises(CredentialsError):
        resolve_connection(Config(), environ={"CLOCKIFY_API_KEY": "k", "CLOCKIFY_WORKSPACE_ID": "w",
                                              "CLOCKSYNC_REQUESTS_PER_SECOND": "fast"}, dotenv_path=Path("/nonexistent"))


def test_json_format_keeps_stdout_pure(harness: EmulatorHarness, workdir: Path) -> None:
    result = run_cli(harness, "plan", "users.csv", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["format"] == "clocksync-plan"
    assert "warning:" in result.stderr


def test_markdown_and_show(harness: EmulatorHarness, workdir: Path) -> None:
    result = run_cli(harness, "plan", "users.csv", "--format", "markdown")
    assert result.stdout.startswith("### clocksync plan")
    shown = run_cli(harness, "show", "plans/plan.json")
    assert "Plan: 25 to add, 11 to change, 3 to remove (0 destructive)." in shown.stdout


def test_preflight_ok_and_not_admin(harness: EmulatorHarness, workdir: Path) -> None:
    ok = run_cli(harness, "preflight")
    assert ok.exit_code == 0 and "OWNER of workspace" in ok.output
    john = harness.user_id("john.doe@example.com")
    harness.state.ws.api_keys["john-key-" + "x" * 8] = john
    denied = run_cli(harness, "preflight", env={"CLOCKIFY_API_KEY": "john-key-" + "x" * 8})
    assert denied.exit_code == 1 and "is not an admin or owner" in denied.output


def test_second_apply_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "ws.lock"
    with workspace_lock("ws", lock), pytest.raises(ApplyLocked, match="another apply is running"), \
            workspace_lock("ws", lock):
        pass
    with workspace_lock("ws", lock):
        pass  # released when the first one ends


def test_audit_cells_are_formula_safe() -> None:
    assert safe_cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert safe_cell("+1") == "'+1" and safe_cell("@x") == "'@x" and safe_cell("-2+3") == "'-2+3"
    assert safe_cell("-2") == "-2", "a negative number is a number"
    assert safe_cell("plain") == "plain" and safe_cell(None) == ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_any_plan_file_bytes_fail_cleanly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "plan.json"
    path.write_bytes(data)
    result = CliRunner().invoke(cli, ["show", str(path)])
    assert result.exit_code == 1
    assert "PlanFileError" in result.output and "Traceback" not in result.output


def test_init_writes_starter_files_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["init", "--dir", str(tmp_path)])
    assert first.exit_code == 0, first.output
    from clocksync.config import load_config

    assert load_config(tmp_path / "config.yaml", required=True).workspace.fallback_group_name == "Other functions"
    assert "CLOCKIFY_API_KEY=" in (tmp_path / ".env.example").read_text()
    again = runner.invoke(cli, ["init", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "not overwriting" in again.output
    assert runner.invoke(cli, ["init", "--dir", str(tmp_path), "--force"]).exit_code == 0


def test_example_config_is_the_init_template() -> None:
    root = Path(__file__).resolve().parent.parent
    assert (root / "examples" / "config.yaml").read_text() == (root / "clocksync" / "templates" / "config.yaml").read_text()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10_000), offset=st.integers(min_value=0, max_value=10_000),
       byte=st.integers(min_value=32, max_value=126))
def test_truncated_or_edited_plans_are_refused_without_writes(harness: EmulatorHarness, workdir: Path, cut: int,
                                                               offset: int, byte: int) -> None:
    plan_path = Path("plans/plan.json")
    if not plan_path.exists():
        assert run_cli(harness, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    original = plan_path.read_bytes()
    damaged = bytearray(original[: max(1, cut % len(original))]) if cut % 2 else bytearray(original)
    if not cut % 2:
        position = offset % len(damaged)
        if damaged[position] == byte:
            byte = byte + 1 if byte < 126 else 32
        damaged[position] = byte
    try:
        same = json.loads(bytes(damaged)) == json.loads(original)
    except ValueError:
        same = False
    assume(not same)  # a space for a newline changes no byte of meaning: that plan is intact
    Path("plans/damaged.json").write_bytes(bytes(damaged))
    writes = harness.state.writes
    result = run_cli(harness, "apply", "plans/damaged.json", "--confirm", "I UNDERSTAND")
    assert result.exit_code == 1
    assert "PlanFileError" in result.output and "Traceback" not in result.output
    assert harness.state.writes == writes == 0


def test_missing_credentials_are_asked_for_with_a_hidden_key_prompt(tmp_path: Path) -> None:
    asked: list[tuple[str, bool]] = []

    def prompt(label: str, hidden: bool) -> str:
        asked.append((label, hidden))
        return "typed-key" if hidden else "typed-ws"

    conn = resolve_connection(Config(), environ={}, dotenv_path=tmp_path / "none", prompt=prompt)
    assert asked == [("Clockify API key", True), ("Clockify workspace id", False)]
    assert conn.api_key.reveal() == "typed-key" and conn.workspace_id == "typed-ws"
