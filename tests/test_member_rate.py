"""Member rates: cells to hundredths, read from the users list, planned, written, hidden in reports."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from clocksync.errors import CsvError, TooMuchChange
from clocksync.kinds import handler_for
from clocksync.kinds.base import HIDDEN, REVEALED, State
from clocksync.kinds.live import LiveView
from clocksync.kinds.member_rate import (
    DesiredRates,
    MemberRates,
    RateKind,
    Rates,
    SetMemberRate,
    format_amount,
    parse_amount,
)
from clocksync.load.desired import load_desired
from clocksync.plan.diff import diff
from clocksync.plan.file import InputFingerprint, build_plan
from clocksync.plan.safety import check_thresholds
from clocksync.plan.seal import SealKey
from clocksync.plan.types import PlanOptions
from clocksync.render import render
from tests.conftest import EmulatorHarness, error_rows, run_cli
from tests.factories import add_columns, config, current, desired, member, spec, users_file

HOURLY, COST = RateKind.HOURLY, RateKind.COST
SEAL = SealKey.derive("test-key", "ws")


@pytest.mark.parametrize(("cell", "amount"), [
    ("85.50", 8550), ("85,50", 8550), ("85.5", 8550), ("85", 8500), ("0", 0), ("0.01", 1), ("007.10", 710),
    ("21474836.47", 2**31 - 1),
])
def test_amounts(cell: str, amount: int) -> None:
    assert parse_amount(cell) == amount
    assert parse_amount(format_amount(amount)) == amount, "what export writes reads back"


@pytest.mark.parametrize(("cell", "message"), [
    ("85.505", "more than two decimals"),  # never rounded
    ("0.001", "more than two decimals"),
    ("-5", "not an amount"),
    ("$85", "not an amount"),
    ("85 EUR", "not an amount"),
    ("1,234.50", "not an amount"),  # a thousands separator: which one is the decimal mark?
    ("1 234,50", "not an amount"),
    ("1.234,50", "not an amount"),
    ("8.5E+1", "not an amount"),
    ("85.", "not an amount"),
    (".5", "not an amount"),
    ("NaN", "not an amount"),
    ("85.50.1", "not an amount"),
    ("21474836.48", "more than Clockify holds"),
    ("99999999999999999999", "more than Clockify holds"),
])
def test_amounts_refused(cell: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(cell)


def write_users(path: Path, rows: list[dict[str, str]]) -> Path:
    return users_file(path, ["Hourly Rate", "Cost Rate", "Rates Since"], rows)


def test_the_loader_reads_rates(tmp_path: Path) -> None:
    path = write_users(tmp_path / "users.csv", [
        {"NTID email": "a@example.com", "Hourly Rate": "85.50", "Cost Rate": "40", "Rates Since": "2027-01-01"},
        {"NTID email": "b@example.com", "Cost Rate": "12,75"},
        {"NTID email": "c@example.com"},
    ])
    users = load_desired(path, config()).users
    assert users["a@example.com"].value(DesiredRates) == DesiredRates(8550, 4000, "2027-01-01")
    assert users["b@example.com"].value(DesiredRates) == DesiredRates(None, 1275, None)
    assert users["c@example.com"].value(DesiredRates) is None


def test_bad_rate_cells_name_file_row_and_column(tmp_path: Path) -> None:
    path = write_users(tmp_path / "users.csv", [
        {"NTID email": "a@example.com", "Hourly Rate": "85.505"},
        {"NTID email": "b@example.com", "Cost Rate": "$40"},
        {"NTID email": "c@example.com", "Hourly Rate": "1", "Rates Since": "01/02/2027"},
    ])
    with pytest.raises(CsvError) as caught:
        load_desired(path, config())
    text = str(caught.value)
    assert "row 2, column 'Hourly Rate': '85.505' has more than two decimals" in text
    assert "row 3, column 'Cost Rate': '$40' is not an amount" in text
    assert "row 4, column 'Rates Since': not a date" in text


# ---------------------------------------------------------------------- the rule, with literal models

JOHN = member("john@example.com", "John")
OPS = member("ops@example.com", "Ops")


def with_rates(row: object, rates: DesiredRates) -> object:
    return replace(row, values=MappingProxyType({DesiredRates: rates}))  # type: ignore[type-var]


def rate_actions(rates: DesiredRates, live: Rates | None = None, as_of: str = "2026-12-01",
                 **cfg: object) -> list[SetMemberRate]:
    part = MemberRates({JOHN.id: live} if live else {}, "USD")
    state = replace(current([member("owner@example.com"), OPS, JOHN]), parts=MappingProxyType({MemberRates: part}))
    rows = desired(with_rates(spec("john@example.com", "ops@example.com"), rates), spec("ops@example.com"))  # type: ignore[arg-type]
    found = diff(rows, state, config(**cfg), PlanOptions(as_of=as_of))
    return [a for a in found.actions if isinstance(a, SetMemberRate)]


def test_a_rate_is_set_when_it_differs_and_left_when_equal() -> None:
    assert rate_actions(DesiredRates(8550, None, None), Rates(8550, 100)) == []
    [hourly] = rate_actions(DesiredRates(9000, None, None), Rates(8550, 100))
    assert (hourly.rate, hourly.before, hourly.after, hourly.since) == (HOURLY, 8550, 9000, None)
    both = rate_actions(DesiredRates(9000, 4000, "2026-11-01"))
    assert {(a.rate, a.before, a.after, a.since) for a in both} == {(HOURLY, None, 9000, "2026-11-01"),
                                                                     (COST, None, 4000, "2026-11-01")}


def test_a_since_date_ahead_waits_for_its_day() -> None:
    assert rate_actions(DesiredRates(9000, None, "2027-01-01")) == []
    assert len(rate_actions(DesiredRates(9000, None, "2027-01-01"), as_of="2027-01-01")) == 1


def test_the_rates_exception_leaves_them_alone() -> None:
    rules = [{"email": "john@example.com", "ignore": ["rates"], "reason": "negotiated"}]
    assert rate_actions(DesiredRates(9000, 100, None), exceptions=rules) == []


ACTION = SetMemberRate(user_id=JOHN.id, email=JOHN.email, rate=HOURLY, before=8550, after=9000)
VERDICT_CASES = [ACTION]  # the kind's verdict table is below (tests/test_kinds.py checks every kind has one)


@pytest.mark.parametrize(("live", "state", "reason"), [
    (Rates(8550, None), State.READY, ""),
    (Rates(9000, None), State.IN_PLACE, "already set"),
    (Rates(7000, None), State.STALE, "changed since the plan (amounts in the audit CSV)"),
    (None, State.STALE, "changed since the plan"),
])
def test_rate_verdicts(live: Rates | None, state: State, reason: str) -> None:
    view = LiveView.from_state(replace(current([member("owner@example.com"), JOHN]), parts=MappingProxyType(
        {MemberRates: MemberRates({JOHN.id: live} if live else {})})))
    handler = handler_for(ACTION)
    verdict = handler.verdict(ACTION, view)
    assert verdict.state is state and reason in verdict.reason
    assert "85" not in verdict.reason and "90" not in verdict.reason, "no amount in what reports show"
    if state is State.READY:
        handler.effect(ACTION, view, None)
        assert handler.verdict(ACTION, view).state is State.IN_PLACE


def test_reports_hide_amounts_unless_revealed_and_the_plan_keeps_them() -> None:
    assert ACTION.line(HIDDEN) == "hourly rate changes (amounts hidden)"
    assert ACTION.line(REVEALED) == "hourly rate 85.50 -> 90.00"
    assert ACTION.audit() == ("hourly rate=85.50", "hourly rate=90.00")
    assert json.loads(ACTION.model_dump_json())["after"] == 9000


def test_the_mass_change_guard_covers_rates_without_showing_amounts() -> None:
    people = [member(f"u{i}@example.com") for i in range(20)]
    part = MemberRates({m.id: Rates(8000 + i, None) for i, m in enumerate(people)})
    state = replace(current([member("owner@example.com"), member("ops@example.com"), *people]),
                    parts=MappingProxyType({MemberRates: part}))
    rows = desired(spec("ops@example.com"), *(with_rates(spec(m.email, "ops@example.com"),  # type: ignore[misc]
                                                         DesiredRates(9999, None, None)) for m in people))
    found = diff(rows, state, config(), PlanOptions(as_of="2026-12-01"))
    plan = build_plan(found, workspace_id="ws", inputs={"csv": InputFingerprint(path="u.csv", sha256="0")},
                      options=PlanOptions(as_of="2026-12-01"), created_at="2026-12-01T00:00:00Z", api_host="x",
                      seal_key=SEAL)
    with pytest.raises(TooMuchChange) as caught:
        check_thresholds(plan)
    message = str(caught.value)
    assert "too many changes to 'hourly rate'" in message and "(hidden)" in message
    assert "99.99" not in message and "80.00" not in message


# ---------------------------------------------------------------------- on the emulator

RATES = {"jane.smith@example.com": ("120.00", "70.00", ""), "john.doe@example.com": ("85.50", "", ""),
         "maria.garcia@example.com": ("", "55,25", "2026-01-01")}


def with_rate_columns(path: Path, rates: dict[str, tuple[str, str, str]]) -> None:
    add_columns(path, ["Hourly Rate", "Cost Rate", "Rates Since"], rates)


def test_rates_plan_apply_verify_and_plan_empty_without_a_request_per_user(harness: EmulatorHarness,
                                                                            workdir: Path) -> None:
    harness.state.ws.users[harness.user_id("jane.smith@example.com")].hourly_rate = 10000
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    reads_without = harness.emulator.stats.requests
    with_rate_columns(Path("users.csv"), RATES)
    harness.emulator.stats.requests = 0
    planned = run_cli(harness, "plan", "users.csv")
    assert planned.exit_code == 0, planned.output
    assert harness.emulator.stats.requests == reads_without, "rates come from the users list: no request of their own"
    assert "hourly rate changes (amounts hidden)" in planned.output and "120.00" not in planned.output
    plan = json.loads(Path("plans/plan.json").read_text())
    rates = {(a["email"], a["rate"]): (a["before"], a["after"], a["since"]) for a in plan["actions"]
             if a["kind"] == "set_member_rate"}
    assert rates == {("jane.smith@example.com", "hourly-rate"): (10000, 12000, None),
                     ("jane.smith@example.com", "cost-rate"): (None, 7000, None),
                     ("john.doe@example.com", "hourly-rate"): (None, 8550, None),
                     ("maria.garcia@example.com", "cost-rate"): (None, 5525, "2026-01-01")}
    shown = run_cli(harness, "show", "plans/plan.json", "--show-sensitive")
    assert "hourly rate 100.00 -> 120.00" in shown.output
    for fmt in ("markdown", "html"):
        hidden = run_cli(harness, "show", "plans/plan.json", "--format", fmt)
        assert "120.00" not in hidden.output and "amounts hidden" in hidden.output
    applied = run_cli(harness, "apply", "plans/plan.json")
    assert applied.exit_code == 0, applied.output
    assert "120.00" not in applied.output
    users = {u.email: u for u in harness.state.ws.users.values()}
    assert (users["jane.smith@example.com"].hourly_rate, users["jane.smith@example.com"].cost_rate) == (12000, 7000)
    assert users["john.doe@example.com"].hourly_rate == 8550 and users["john.doe@example.com"].cost_rate is None
    assert users["maria.garcia@example.com"].rates_since == {"cost-rate": "2026-01-01T00:00:00Z"}
    audit = Path("sync_success_log.csv").read_text()
    assert "hourly rate=100.00" in audit and "hourly rate=120.00" in audit, "the audit CSV keeps the amounts"
    assert run_cli(harness, "plan", "users.csv", "--detailed-exitcode").exit_code == 0


def test_a_rate_changed_since_the_plan_is_stale_and_not_overwritten(harness: EmulatorHarness, workdir: Path) -> None:
    with_rate_columns(Path("users.csv"), RATES)
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    harness.state.ws.users[harness.user_id("john.doe@example.com")].hourly_rate = 7777
    applied = run_cli(harness, "apply", "plans/plan.json")
    assert applied.exit_code == 1
    assert harness.state.ws.users[harness.user_id("john.doe@example.com")].hourly_rate == 7777
    stale = [r for r in error_rows() if r["kind"] == "set_member_rate"]
    assert stale and stale[0]["outcome"] == "stale" and "77.77" not in applied.output


def test_the_emulator_serves_rates_as_the_spec_says(harness: EmulatorHarness) -> None:
    from clocksync.emulator.state import EmulatorError
    from clocksync.errors import ApiStatusError

    uid = harness.user_id("john.doe@example.com")

    async def put(rate: str, body: dict[str, object]) -> None:
        async with harness.client() as client:
            await client.request("PUT", f"/workspaces/{harness.workspace_id}/users/{uid}/{rate}", json=body)

    asyncio.run(put("hourly-rate", {"amount": 8550, "since": "2026-01-01T00:00:00Z"}))
    asyncio.run(put("cost-rate", {"amount": 0}))
    user = harness.state.ws.users[uid]
    assert (user.hourly_rate, user.cost_rate) == (8550, 0)

    async def rates() -> dict[str, object]:
        async with harness.client() as client:
            users = await client.list_users()
        found = next(u for u in users if u.id == uid).memberships[0]
        return {"hourly": found.hourly_rate, "cost": found.cost_rate}

    read = asyncio.run(rates())
    assert read["hourly"].amount == 8550 and read["hourly"].currency == "USD"  # type: ignore[union-attr]
    with pytest.raises(ApiStatusError):
        asyncio.run(put("hourly-rate", {"amount": 1, "since": "2026-01-01"}))  # spec-valid, not the format
    for body in ({"amount": -1}, {"amount": 85.5}, {"amount": "85"}, {}):  # bodies the spec does not allow
        with pytest.raises(EmulatorError):
            harness.state.set_rate(uid, "hourly-rate", body)
    assert harness.state.ws.users[uid].hourly_rate == 8550, "a refused write changes nothing"


def test_rates_render_hidden_in_every_report_format() -> None:
    from clocksync.plan.diff import Diff
    from clocksync.plan.types import WorkspaceFigures

    found = Diff([ACTION], [], [], [], WorkspaceFigures())
    plan = build_plan(found, workspace_id="ws", inputs={}, options=PlanOptions(), created_at="2026-12-01T00:00:00Z",
                      api_host="x", seal_key=SEAL)
    for fmt in ("text", "markdown", "html"):
        assert "85.50" not in render(plan, fmt) and "90.00" not in render(plan, fmt)
        assert "90.00" in render(plan, fmt, reveal=True)
    assert '"after": 9000' in render(plan, "json")
