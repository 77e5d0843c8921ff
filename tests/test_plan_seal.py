"""A plan cannot be forged (finding 3) and is tied to its host and its age (finding 8).

- The seal is an HMAC under a key derived from the API key: a plan edited and re-sealed by
  someone without the key is refused by apply, before any write.
- Each action's ids are checked at apply against the emails and names the plan shows: a plan whose
  ids name other users or groups is refused as a whole, before any write.
- A plan made against another API host, or older than apply.max_plan_age_hours, is refused.
- Undo plans are sealed the same way; show says whether it checked the seal.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from clocksync.apply.runlog import list_runs
from clocksync.plan.file import Plan
from clocksync.plan.seal import SealKey
from tests.conftest import EmulatorHarness, run_cli

PLAN = Path("plans/plan.json")
CONFIRM = ("--confirm", "I UNDERSTAND")


def rewrite(mutate: Callable[[dict[str, Any]], None], *, key: SealKey | None = None, path: Path = PLAN) -> None:
    """Edit a plan file and make its digests agree again: the checksum always (anyone can), the seal
    only with ``key`` (someone holding the API key, or an attacker with a key of their own)."""
    data = json.loads(path.read_text())
    mutate(data)
    plan = TypeAdapter(Plan).validate_python(data)
    plan = plan.sealed(key) if key is not None else plan.model_copy(update={"checksum": plan.body_checksum()})
    path.write_text(plan.model_dump_json(indent=2))


def sealed_with(harness: EmulatorHarness) -> SealKey:
    return SealKey.derive(harness.api_key, harness.workspace_id)


def action(data: dict[str, Any], kind: str, **match: str) -> dict[str, Any]:
    return next(a for a in data["actions"] if a["kind"] == kind and all(a.get(k) == v for k, v in match.items()))


def refused(harness: EmulatorHarness, result: Any, error: str, *words: str) -> str:
    assert result.exit_code == 1, result.output
    assert harness.state.writes == 0, "nothing was written"
    assert not list_runs(Path(".")), "no run was started"
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"{error}:") and "nothing was applied" in line, line
    for word in words:
        assert word in line, (word, line)
    return line


def plan(harness: EmulatorHarness, *extra: str) -> None:
    result = run_cli(harness, "plan", "users.csv", *extra)
    assert result.exit_code == 0, result.output


# ---------------------------------------------------------------------- finding 3: the keyed seal


def test_the_owner_swap_resealed_without_the_key_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    """The review's attack: an update_profile's user_id set to the owner's, the reviewed email kept,
    the checksum recomputed. show shows the reviewed user; apply must not write the owner's profile."""
    plan(harness)
    owner = harness.state.ws.owner_id
    rewrite(lambda d: action(d, "update_profile", email="maria.garcia@example.com").update(user_id=owner))
    shown = run_cli(harness, "show", str(PLAN), env={"CLOCKIFY_API_KEY": ""})
    assert shown.exit_code == 0 and "seal not checked" in shown.stderr
    assert "maria.garcia@example.com" in shown.stdout
    warned = run_cli(harness, "show", str(PLAN))
    assert warned.exit_code == 1 and "WARNING: the seal does not match this API key" in warned.stderr
    result = run_cli(harness, "apply", str(PLAN), *CONFIRM)
    refused(harness, result, "PlanFileError", "the seal does not match")


def test_a_plan_sealed_with_another_key_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    rewrite(lambda d: action(d, "update_profile", email="maria.garcia@example.com")["capacity"].update(after="PT1H"),
            key=SealKey.derive("the attacker's own key", harness.workspace_id))
    refused(harness, run_cli(harness, "apply", str(PLAN), *CONFIRM), "PlanFileError", "seal does not match")


@pytest.mark.parametrize(("fmt", "banner"), [("text", "WARNING: the seal does not match this API key"),
                                             ("markdown", "> **WARNING: the seal does not match this API key"),
                                             ("html", '<p class="destructive" role="alert"><b>WARNING: the seal does '
                                                      "not match this API key"),
                                             ("json", None)])
@pytest.mark.parametrize("forgery", ["reason edited, checksum recomputed", "sealed with another key"])
def test_show_of_a_plan_whose_seal_fails_shows_it_marked_and_exits_1(harness: EmulatorHarness, workdir: Path,
                                                                     fmt: str, banner: str | None,
                                                                     forgery: str) -> None:
    """Review of issue 20, F12: such a plan was rendered with exit 0, the warning on stderr only, so a
    reviewer reading the HTML or markdown report (or a script trusting the exit status) was misled."""
    plan(harness)
    rewrite(lambda d: action(d, "update_profile", email="maria.garcia@example.com").update(reason="approved by HR"),
            key=SealKey.derive("the attacker's own key", harness.workspace_id)
            if forgery == "sealed with another key" else None)
    shown = run_cli(harness, "show", str(PLAN), "--format", fmt)
    assert shown.exit_code == 1 and "WARNING: the seal does not match this API key" in shown.stderr
    assert "maria.garcia@example.com" in shown.stdout, "still shown: the reviewer sees what was changed"
    if banner is None:
        assert json.loads(shown.stdout)["format"] == "clocksync-plan", "JSON stays the plan as it is"
    else:
        assert shown.stdout.lstrip().startswith(banner) or banner in shown.stdout.split("<h1>")[0], shown.stdout[:300]
    unchecked = run_cli(harness, "show", str(PLAN), "--format", fmt, env={"CLOCKIFY_API_KEY": ""})
    assert unchecked.exit_code == 0 and "seal not checked" in unchecked.stderr, "no key: nothing to say it fails"


def test_show_says_the_seal_was_checked(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    shown = run_cli(harness, "show", str(PLAN), "--format", "json")
    assert "seal checked" in shown.stderr and json.loads(shown.stdout)["seal"].startswith("hmac-sha256:")


def test_the_seal_key_is_not_the_api_key_and_hides_itself(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    text = PLAN.read_text()
    assert harness.api_key not in text
    assert repr(sealed_with(harness)) == "SealKey(<hidden>)"
    data = json.loads(text)
    body = json.dumps({k: v for k, v in data.items() if k not in ("checksum", "seal")}, sort_keys=True,
                      separators=(",", ":"), ensure_ascii=False).encode()
    assert data["checksum"] == "sha256:" + hashlib.sha256(body).hexdigest()
    assert data["seal"] != "hmac-sha256:" + hashlib.sha256(harness.api_key.encode() + body).hexdigest()


# ---------------------------------------------------------------------- identity binding


def _owner(harness: EmulatorHarness) -> str:
    return harness.state.ws.owner_id


def _other_group(harness: EmulatorHarness) -> str:
    return harness.group("Book club").id


SWAPS: dict[str, tuple[tuple[str, ...], Callable[[EmulatorHarness, dict[str, Any]], None], str]] = {
    "profile user id": ((), lambda h, d: action(d, "update_profile", email="maria.garcia@example.com").update(
        user_id=_owner(h)), "admin@example.com"),
    "deactivated user id": (("--deactivate-missing",), lambda h, d: action(d, "deactivate_user").update(
        user_id=h.user_id("jane.smith@example.com")), "jane.smith@example.com"),
    "member user id": ((), lambda h, d: action(d, "add_member").update(user_id=_owner(h)), "admin@example.com"),
    "removed from group id": ((), lambda h, d: action(d, "remove_member").update(group_id=_other_group(h)),
                              "Book club"),
    "role holder id": ((), lambda h, d: action(d, "grant_role", entity_kind="user").update(holder_id=_owner(h)),
                       "admin@example.com"),
    "role over user id": ((), lambda h, d: action(d, "revoke_role", entity_kind="user").update(
        entity_id=_owner(h)), "admin@example.com"),
    "deleted group id": (("--delete-unmanaged-groups",), lambda h, d: action(d, "delete_group").update(
        group_id=h.group("USA").id), "USA"),
}


@pytest.mark.parametrize("swap", list(SWAPS), ids=list(SWAPS))
def test_ids_that_name_someone_else_refuse_the_whole_plan(harness: EmulatorHarness, workdir: Path, swap: str) -> None:
    """Sealed with the real key (a key holder's edit, a bug): the ids are still checked against
    what the plan shows, and the plan is refused before any write."""
    flags, mutate, named = SWAPS[swap]
    plan(harness, *flags)
    rewrite(lambda d: mutate(harness, d), key=sealed_with(harness))
    line = refused(harness, run_cli(harness, "apply", str(PLAN), *CONFIRM), "IdentityMismatch", named)
    assert "the plan names" in line


def test_a_plan_whose_ids_agree_with_its_names_applies(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness, "--deactivate-missing")
    rewrite(lambda d: None, key=sealed_with(harness))  # re-sealed by the key holder, nothing changed
    assert run_cli(harness, "apply", str(PLAN), *CONFIRM).exit_code == 0


# ---------------------------------------------------------------------- finding 8: host and age


def test_a_plan_made_against_another_host_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    assert json.loads(PLAN.read_text())["api_host"] == "127.0.0.1"
    result = run_cli(harness, "apply", str(PLAN), *CONFIRM, env={"CLOCKIFY_BASE_URL": "http://localhost:8080/api/v1"})
    refused(harness, result, "HostMismatch", "127.0.0.1", "localhost:8080")


def _made(hours_ago: float) -> Callable[[dict[str, Any]], None]:
    when = (datetime.now(UTC) - timedelta(hours=hours_ago)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return lambda d: d.update(created_at=when)


@pytest.mark.parametrize("hours", [73, 24 * 365 * 3])
def test_an_old_plan_is_refused_unless_allowed(harness: EmulatorHarness, workdir: Path, hours: int) -> None:
    plan(harness, "--deactivate-missing")
    rewrite(_made(hours), key=sealed_with(harness))
    result = run_cli(harness, "apply", str(PLAN), *CONFIRM)
    refused(harness, result, "PlanTooOld", f"{hours:,} h ago", "apply.max_plan_age_hours (72 h)", "--allow-old-plan")
    allowed = run_cli(harness, "apply", str(PLAN), *CONFIRM, "--allow-old-plan")
    assert allowed.exit_code == 0, allowed.output


def test_the_age_limit_is_configurable_and_a_fresh_plan_applies(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    rewrite(_made(71), key=sealed_with(harness))
    config = Path("config.yaml").read_text()
    assert "max_plan_age_hours: 72" in config
    Path("config.yaml").write_text(config.replace("max_plan_age_hours: 72", "max_plan_age_hours: 24"))
    refused(harness, run_cli(harness, "apply", str(PLAN), *CONFIRM), "PlanTooOld", "(24 h)")
    Path("config.yaml").write_text(config)
    assert run_cli(harness, "apply", str(PLAN), *CONFIRM).exit_code == 0


# 2 days, not 1: a midnight during the test changes no outcome.
@pytest.mark.parametrize(("days", "applies"), [(30, False), (2, False), (0, True), (-3, True)])
def test_a_plan_for_a_day_after_today_waits_for_it(harness: EmulatorHarness, workdir: Path, days: int,
                                                   applies: bool) -> None:
    """Attack on issue 21/22 (F8): a plan made with --as-of 2027-01-20 applied today, landing rates,
    hires and leavers meant for January. --allow-old-plan does not override it."""
    day = (datetime.now(UTC) + timedelta(days=days)).date().isoformat()
    plan(harness, "--as-of", day)
    if applies:
        assert run_cli(harness, "apply", str(PLAN), *CONFIRM).exit_code == 0
        return
    refused(harness, run_cli(harness, "apply", str(PLAN), *CONFIRM, "--allow-old-plan"), "PlanTooEarly", day,
            "after today")


def test_a_plan_dated_days_ahead_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    rewrite(_made(-100), key=sealed_with(harness))
    refused(harness, run_cli(harness, "apply", str(PLAN), *CONFIRM), "PlanTooOld", "clock")


def test_a_version_2_plan_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    PLAN.write_text(PLAN.read_text().replace('"format_version": 3', '"format_version": 2'))
    result = run_cli(harness, "apply", str(PLAN), *CONFIRM)
    assert result.exit_code == 1 and "version 2 is not supported" in result.output and "make a new plan" in result.output
    assert harness.state.writes == 0


# ---------------------------------------------------------------------- undo plans are plans


def test_undo_plans_are_sealed_and_a_forged_one_is_refused(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    assert run_cli(harness, "apply", str(PLAN), *CONFIRM).exit_code == 0
    undo = run_cli(harness, "undo")
    assert undo.exit_code == 0, undo.output
    undo_plan = TypeAdapter(Plan).validate_python(json.loads(Path("plans/undo.json").read_text()))
    assert undo_plan.seal_verifies(sealed_with(harness)) and undo_plan.api_host == "127.0.0.1"
    writes = harness.state.writes
    rewrite(lambda d: d["actions"][0].update(reason="forged"), path=Path("plans/undo.json"))
    result = run_cli(harness, "apply", "plans/undo.json", *CONFIRM)
    assert result.exit_code == 1 and "PlanFileError" in result.output and "seal does not match" in result.output
    assert harness.state.writes == writes


def test_undo_refuses_a_run_folder_whose_plan_was_resealed(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    assert run_cli(harness, "apply", str(PLAN), *CONFIRM).exit_code == 0
    [run] = list_runs(Path("."))
    rewrite(lambda d: d["actions"][0].update(reason="forged"), path=run.path / "plan.json")
    result = run_cli(harness, "undo")
    assert result.exit_code == 1 and "seal does not match" in result.output and "Traceback" not in result.output
    assert not Path("plans/undo.json").exists()


def test_undo_needs_the_key_to_seal(harness: EmulatorHarness, workdir: Path) -> None:
    plan(harness)
    assert run_cli(harness, "apply", str(PLAN), *CONFIRM).exit_code == 0
    result = run_cli(harness, "undo", env={"CLOCKIFY_API_KEY": ""})
    assert result.exit_code == 1 and "CLOCKIFY_API_KEY is not set" in result.output
