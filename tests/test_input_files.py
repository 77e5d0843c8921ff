"""Input files are files: a users file, config or plan that is a link into the running system
(``/proc/self/environ``: the process environment, the key in it), a FIFO, a device or a folder is
refused naming the file, and no message clocksync prints holds the key, whole or in part
(attack on issue 20, finding F1 of the second review)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from clocksync.cli import cli
from clocksync.credentials import HIDDEN_MIN_LENGTH, Secret, hide_secrets
from clocksync.files import read_input
from tests.conftest import EmulatorHarness

KEY = "KEYSECRET1234567890abcdefXYZ"


def _plan(harness: EmulatorHarness, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["plan", *args], obj={"transport": harness.transport},
                              env={**harness.env(), "CLOCKIFY_API_KEY": KEY, **(env or {})})


def _shows_no_part_of(result: Result, key: str) -> None:
    text = result.output + result.stderr
    for start in range(len(key) - HIDDEN_MIN_LENGTH + 1):
        assert key[start:start + HIDDEN_MIN_LENGTH] not in text, text


@pytest.mark.parametrize("target", ["/proc/self/environ", "/proc/self/cmdline", "/sys/devices/system/cpu/online", "/dev/null",
                                    "/dev/zero", "/dev/stdin"])
@pytest.mark.parametrize("which", ["users", "config"])
def test_an_input_linked_into_the_system_is_refused(harness: EmulatorHarness, workdir: Path, target: str,
                                                    which: str) -> None:
    if not Path(target).exists():
        pytest.skip(f"{target} is not on this machine")
    name = "users.csv" if which == "users" else "config.yaml"
    Path(name).unlink()
    Path(name).symlink_to(target)
    result = _plan(harness, "users.csv", "--config", "config.yaml")
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert name in result.stderr and "a file of the running system" in result.stderr, result.stderr
    _shows_no_part_of(result, KEY)
    assert harness.transport.operations == {} and not Path("plans").exists()


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


@pytest.mark.parametrize(("make", "said"), [(_fifo, "a FIFO"), (_folder, "a folder")])
@pytest.mark.parametrize("which", ["users", "config", "plan"])
def test_an_input_that_is_no_file_is_refused_at_once(harness: EmulatorHarness, workdir: Path, make: object,
                                                     said: str, which: str) -> None:
    name = {"users": "users.csv", "config": "config.yaml", "plan": "plan.json"}[which]
    Path(name).unlink(missing_ok=True)
    make(Path(name))  # type: ignore[operator]
    args = ["show", "plan.json"] if which == "plan" else ["plan", "users.csv", "--config", "config.yaml"]
    result = CliRunner().invoke(cli, args, obj={"transport": harness.transport},
                                env={**harness.env(), "CLOCKIFY_API_KEY": KEY})  # a FIFO would block a plain open
    assert result.exit_code == 1, result.output
    assert name in result.stderr and said in result.stderr, result.stderr


def test_a_regular_file_through_a_link_is_read(tmp_path: Path) -> None:
    (tmp_path / "real.csv").write_text("a,b\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "real.csv")
    assert read_input(tmp_path / "link.csv") == b"a,b\n"


def test_a_header_holding_the_key_never_shows_it(harness: EmulatorHarness, workdir: Path) -> None:
    """A users file that is some other file holding the key (an environment dump, a .env): the
    missing-column message quotes its header, the key cut out, whole or cut short."""
    Path("users.csv").write_text(f"SHELL=/bin/bash,CLOCKIFY_API_KEY={KEY},X={KEY[:12]},{KEY[5:]}\n")
    result = _plan(harness, "users.csv")
    assert result.exit_code == 1 and "missing required column" in result.stderr, result.stderr
    assert "SHELL=/bin/bash" in result.stderr, "the rest of the header is still shown"
    _shows_no_part_of(result, KEY)


def test_a_key_only_in_dotenv_is_hidden_too(harness: EmulatorHarness, workdir: Path) -> None:
    Path(".env").write_text(f"CLOCKIFY_API_KEY={KEY}\n")
    Path(".env").chmod(0o600)
    Path("users.csv").write_text(f"{KEY}\n")
    result = _plan(harness, "users.csv", env={"CLOCKIFY_API_KEY": ""})
    assert result.exit_code == 1, result.output
    _shows_no_part_of(result, KEY)


def test_a_long_header_is_shown_in_part(harness: EmulatorHarness, workdir: Path) -> None:
    Path("users.csv").write_text(",".join(f"column {i} " + "x" * 80 for i in range(50)) + "\n")
    result = _plan(harness, "users.csv")
    assert result.exit_code == 1
    assert "'column 0 " in result.stderr and "'column 20 " not in result.stderr and "and 30 more" in result.stderr
    assert "x" * 40 not in result.stderr


@pytest.mark.parametrize(("text", "shown"), [
    (f"key {KEY}.", "key ***."),
    (f"[{KEY[:10]}]", "[***]"),
    (f"{KEY[3:9]}", KEY[3:9]),  # shorter than HIDDEN_MIN_LENGTH: an ordinary word
    ("nothing to hide", "nothing to hide"),
])
def test_hide_secrets(text: str, shown: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CLOCKIFY_API_KEY", raising=False)
    Secret(KEY)
    assert hide_secrets(text) == shown


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "html"])
def test_a_key_in_a_cell_is_cut_out_of_every_rendered_output(harness: EmulatorHarness, workdir: Path, fmt: str) -> None:
    """Final attack (F3): a users file holding the key in a cell printed it whole in the plan (and the
    markdown a CI job posts), in show and in apply's report. What is rendered has it cut out; the plan
    file itself keeps the data it acts on."""
    key = harness.api_key
    rows = Path("users.csv").read_text().splitlines()
    rows[2] = rows[2].replace(",USA,", f",ref {key},", 1)  # after text: a key may begin with '-' (a formula cell)
    Path("users.csv").write_text("\n".join(rows) + "\n")
    planned = CliRunner().invoke(cli, ["plan", "users.csv", "--format", fmt], obj={"transport": harness.transport},
                                 env=harness.env())
    assert planned.exit_code == 0, planned.output
    _shows_no_part_of(planned, key)
    assert "***" in planned.output
    shown = CliRunner().invoke(cli, ["show", "plans/plan.json", "--format", fmt], obj={"transport": harness.transport},
                               env=harness.env())
    _shows_no_part_of(shown, key)
    if fmt == "html":
        applied = CliRunner().invoke(cli, ["apply", "plans/plan.json", "--confirm", "I UNDERSTAND", "--report",
                                           "report.html"], obj={"transport": harness.transport}, env=harness.env())
        assert applied.exit_code == 0, applied.output
        report = Path("report.html").read_text()
        assert all(key[i:i + HIDDEN_MIN_LENGTH] not in report for i in range(len(key) - HIDDEN_MIN_LENGTH + 1))
