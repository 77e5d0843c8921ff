"""End to end on the emulator: a person's cell encoded otherwise (an invisible character, a
``mailto:`` prefix) is still that person. The workspace is converged first; then the cells are
edited as a copy from a web page or a mail client would; the plan is empty but names the cleaned
rows, nobody is deactivated or invited, and carol and bob stay ACTIVE in their groups."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from clocksync.emulator.state import User
from tests.conftest import EmulatorHarness, run_cli

CAROL, BOB, DAVE = "carol@example.com", "bob@example.com", "dave@example.com"


def _add_people(harness: EmulatorHarness) -> None:
    state = harness.state
    for email, name in ((BOB, "Bob Builder"), (CAROL, "Carol Chen"), (DAVE, "Dave Diaz")):
        user = User(id=state.new_id(), email=email, name=name, work_capacity="PT8H", membership_status="ACTIVE")
        state.ws.users[user.id] = user


def _write_users(rows: list[list[str]]) -> None:
    with Path("users.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)


def _rows() -> list[list[str]]:
    with Path("users.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _converged(harness: EmulatorHarness) -> list[list[str]]:
    """The sample users (but the new hire, who would wait for their invitation) plus bob (reports to
    jane), carol and dave (report to bob), applied with invite.missing_users on."""
    _add_people(harness)
    rows = [r for r in _rows() if r[0] != "new.hire@example.com"] + [[BOB, "jane.smith@example.com", "40", "Acme Corp", "USA", "20001"],
                      [CAROL, BOB, "40", "Acme Corp", "USA", "20002"],
                      [DAVE, BOB, "40", "Acme Corp", "USA", "20003"]]
    _write_users(rows)
    Path("config.yaml").write_text(Path("config.yaml").read_text().replace("missing_users: false", "missing_users: true"))
    assert run_cli(harness, "plan", "users.csv", "--deactivate-missing").exit_code == 0
    applied = run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
    assert applied.exit_code == 0, applied.output
    again = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode", "--out", "p0.json")
    assert again.exit_code == 0, again.output
    return rows


def _row_of(rows: list[list[str]], email: str) -> int:
    return next(i for i, r in enumerate(rows) if r[0] == email)


EDITS = [
    pytest.param({(CAROL, 0): CAROL + "\u200b", (BOB, 0): "mailto:" + BOB}, id="user-column"),
    pytest.param({(CAROL, 1): "\u200b" + BOB, (DAVE, 1): "MAILTO:" + BOB}, id="manager-column"),
    pytest.param({(CAROL, 0): "Carol Chen <carol@example.com>", (BOB, 0): "\u00a0bob\uff20example.com\u2060",
                  (DAVE, 1): "\u202abob@example.com\u202c", (CAROL, 1): "bo\u00adb@example.com"}, id="the-family"),
    # Letter case a Turkish-locale system gives (İ for I, ı for i, and i + U+0307 from lower-casing İ),
    # a ligature from a PDF, in the user and manager columns.
    pytest.param({("li.wei@example.com", 0): "L\u0130.WE\u0130@EXAMPLE.COM", (BOB, 1): "JANE.SM\u0130TH@EXAMPLE.COM",
                  ("maria.garcia@example.com", 0): "mar\u0131a.garc\u0131a@example.com",
                  ("john.doe@example.com", 1): "jane.smi\u0307th@example.com",
                  ("sofia.rossi@example.com", 0): "so\ufb01a.rossi@example.com"},
                 id="turkish-case-and-ligatures"),
]


@pytest.mark.parametrize("edits", EDITS)
def test_cells_encoded_otherwise_converge_with_nobody_deactivated_or_invited(
        harness: EmulatorHarness, workdir: Path, edits: dict[tuple[str, int], str]) -> None:
    rows = _converged(harness)
    row_of = {email: _row_of(rows, email) for email, _ in edits}
    for (email, column), cell in edits.items():
        rows[row_of[email]][column] = cell
    _write_users(rows)
    writes = harness.state.writes

    for fmt in ("text", "markdown", "json", "html"):
        result = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode", "--format", fmt)
        assert result.exit_code == 0, result.output  # 0: no changes
        if fmt != "json":
            assert "Cells read as a person sees them" in result.output
            assert f"row {min(row_of.values()) + 1}, column" in result.output, "the plan names the cleaned rows"
    plan = json.loads(Path("plans/plan.json").read_text())
    assert plan["actions"] == [], "nobody deactivated, invited twice or moved to the fallback manager"
    assert plan["unmatched_users"] == []
    listed = {(c["row"], c["column"]) for c in plan["cleaned"]}
    header = rows[0]
    assert listed == {(row_of[email] + 1, header[column]) for email, column in edits}
    for cleaned in plan["cleaned"]:
        assert cleaned["changes"] and cleaned["cell"] != cleaned["read_as"]

    applied = run_cli(harness, "apply", "plans/plan.json")
    assert applied.exit_code == 0, applied.output
    assert harness.state.writes == writes, "nothing to write"
    ws = harness.state.ws
    for email in (CAROL, BOB, DAVE):
        assert ws.users[harness.user_id(email)].membership_status == "ACTIVE"
    assert sorted(u.email for u in ws.users.values()) == sorted({u.email for u in ws.users.values()}), "no second carol"
    assert not any("\u200b" in u.email or "mailto" in u.email for u in ws.users.values())
    members = lambda name: {ws.users[i].email for i in harness.group(name).user_ids}  # noqa: E731
    assert {CAROL, DAVE} == members("Bob Builder"), "the reports stay with their manager, not the fallback"
    assert BOB in members("Jane Smith")
    assert CAROL not in members("Other functions") and DAVE not in members("Other functions")


def test_on_main_before_the_fix_this_would_have_deactivated_carol(harness: EmulatorHarness, workdir: Path) -> None:
    """The same edit with a cell that is NOT carol (a real typo) is a deactivation: the test above
    can fail, and what stops it is the cleaning, not a blind spot of the differ."""
    rows = _converged(harness)
    rows[_row_of(rows, CAROL)][0] = "caro1@example.com"
    _write_users(rows)
    Path("config.yaml").write_text(Path("config.yaml").read_text().replace("missing_users: true", "missing_users: false"))
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--out", "typo.json")
    assert result.exit_code == 0, result.output
    plan = json.loads(Path("typo.json").read_text())
    assert any(a["kind"] == "deactivate_user" and a["email"] == CAROL for a in plan["actions"])


HEAD = "NTID email,Manager NTID email,Weekly Working Hours,Company (Label),Country (Label),Global Id\n"


@pytest.mark.parametrize(("body", "where"), [
    ("b\u043eb@example.com,,40,Acme,USA,1\n", "row 2, column 'NTID email'"),
    ("bob@example.com,carol@example.com\x07,40,Acme,USA,1\n", "row 2, column 'Manager NTID email'"),
    ("bob@example.com,,4E1,Acme,USA,1\n", "row 2, column 'Weekly Working Hours'"),
    ("bob@example.com,,40,Acme,USA,9.00123E+11\n", "row 2, column 'Global Id'"),
    ("bob@example.com,,40,#N/A,USA,1\n", "row 2, column 'Company (Label)'"),
    ("bob@example.com,,40,Acme\u202eproC,USA,1\n", "row 2, column 'Company (Label)'"),
    ("bob@example.com,,40,Acme,USA,1,,surprise\n", "row 2: 1 value(s) past the header's last column"),
])
@pytest.mark.parametrize("sep_line", ["", "sep=,\n"], ids=["plain", "sep-line"])
def test_every_refusal_names_file_row_and_column_exits_1_and_writes_nothing(
        harness: EmulatorHarness, workdir: Path, body: str, where: str, sep_line: str) -> None:
    Path("users.csv").write_text(sep_line + HEAD + body, encoding="utf-8")
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing")
    assert result.exit_code == 1
    assert "users.csv" in result.output and where in result.output
    assert all(c.isprintable() or c == "\n" for c in result.output), "invisible characters are shown escaped"
    assert not Path("plans/plan.json").exists()
    assert harness.transport.operations == {}, "no request before the input is valid"
    assert harness.state.writes == 0


JOHN = "john.doe@example.com"


@pytest.mark.parametrize("ghost_first", [False, True], ids=["ghost-newer", "ghost-older-id"])
@pytest.mark.parametrize("ghost", [JOHN + "\u200b", "\u00a0" + JOHN, "jo\u200dhn.doe@example.com", JOHN.upper() + "\ufeff"])
def test_a_leftover_account_with_invisible_characters_is_reported_not_silently_kept(
        harness: EmulatorHarness, workdir: Path, ghost: str, ghost_first: bool) -> None:
    """An earlier version invited ``john.doe@example.com`` + U+200B: the workspace holds the real
    john and the ghost. The plan names both ids; clocksync manages the real one, whatever the ids'
    order, and changes nothing. Before: no word (the ghost shared the real member's key)."""
    _converged(harness)
    state = harness.state
    ghost_id = "0" * 24 if ghost_first else state.new_id()
    state.ws.users[ghost_id] = User(id=ghost_id, email=ghost, name="John Doe", work_capacity="PT8H",
                                    membership_status="ACTIVE")
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode", "--out", "g.json")
    assert result.exit_code == 0, result.output
    plan = json.loads(Path("g.json").read_text())
    assert plan["actions"] == []
    warned = [n["message"] for n in plan["notices"] if "members show the same address" in n["message"]]
    assert len(warned) == 1 and ghost_id in warned[0] and harness.user_id(JOHN) in warned[0]
    assert warned[0].index(harness.user_id(JOHN)) < warned[0].index(ghost_id), "the real john is the one managed"
    assert "2 members show the same address" in result.output


def test_a_lone_leftover_account_is_matched_by_what_it_shows_and_reported(harness: EmulatorHarness,
                                                                          workdir: Path) -> None:
    """Only the ghost is there (the person accepted the unclean invitation): it is john, matched by
    the address it shows (no second invitation, no deactivation), and the plan says so."""
    _converged(harness)
    john = harness.state.ws.users[harness.user_id(JOHN)]
    john.email = JOHN + "\u200b"
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing", "--detailed-exitcode", "--out", "g.json")
    assert result.exit_code == 0, result.output
    plan = json.loads(Path("g.json").read_text())
    assert plan["actions"] == []
    assert [n for n in plan["notices"] if john.id in n["message"] and "does not see" in n["message"]
            and "\\u200b" in n["message"]]
