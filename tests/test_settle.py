"""Settling writes whose outcome is unknown or refused, against a scripted transport over the emulator.

Each test plans one action on the demo workspace, scripts what the network does to its write, and
checks the emulator's state and the action's outcome: applied exactly once, failed with the reason,
or stale. No timing: the executor's clock and sleep are fakes where a budget matters.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from clocksync.apply.executor import apply_plan
from clocksync.apply.report import ApplyReport, ApplySettings, Outcome
from clocksync.kinds import Action
from clocksync.kinds.base import Change
from clocksync.kinds.group import CreateGroup
from clocksync.kinds.membership import AddMember
from clocksync.kinds.profile import UpdateProfile
from clocksync.kinds.role import GrantRole
from clocksync.plan.diff import Diff
from clocksync.plan.file import InputFingerprint, Plan, build_plan
from clocksync.plan.make import now_utc
from clocksync.plan.seal import SealKey
from clocksync.plan.types import PlanOptions, WorkspaceFigures
from tests.conftest import BASE_URL, EmulatorHarness, make_harness

FAST = ApplySettings(retry_budget=60, consistency_window=60, backoff_initial=0.001, backoff_max=0.002)


@dataclass
class Rule:
    method: str
    path: str  # a regex matched against the path after /api/v1
    script: list[str]  # one behaviour per matching request, in order; "ok" once it runs out

    def matches(self, request: httpx.Request) -> bool:
        return request.method == self.method and re.search(self.path, request.url.path) is not None


@dataclass
class ScriptedTransport(httpx.AsyncBaseTransport):
    """Does to each matching request what its script says:

    ok: forward; 502-after: forward, then answer 502; lost: raise ReadTimeout without forwarding
    (the request never arrived); timeout-after: forward, then ReadTimeout; 400: answer 400 without
    forwarding; 1xx/3xx (101, 302, ...): answer so without forwarding; not-http: an answer httpx
    cannot parse; 400-after: forward, then answer 400; 503 / 429: answer so without forwarding.
    """

    inner: httpx.AsyncBaseTransport
    rules: list[Rule]
    sent: list[str] = field(default_factory=list)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        rule = next((r for r in self.rules if r.matches(request)), None)
        step = rule.script.pop(0) if rule and rule.script else "ok"
        self.sent.append(f"{request.method} {request.url.path} {step}")
        error = {"message": "scripted refusal", "code": 501}
        if step == "lost":
            raise httpx.ReadTimeout("scripted: no answer", request=request)
        if step.isdigit() and int(step) < 400:  # answered with no final answer: 1xx, a redirect
            return httpx.Response(int(step), headers={"Location": "https://login.example/sso?next=x"}, request=request)
        if step == "not-http":
            raise httpx.RemoteProtocolError("illegal header line: bytearray(b'X-Evil: \\x01')", request=request)
        if step in ("400", "503", "429"):
            return httpx.Response(int(step), json=error if step != "503" else None, request=request)
        response = await self.inner.handle_async_request(request)
        if step == "502-after":
            return httpx.Response(502, request=request)
        if step == "timeout-after":
            raise httpx.ReadTimeout("scripted: answer lost", request=request)
        if step == "400-after":
            return httpx.Response(400, json=error, request=request)
        return response


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


def plan_of(h: EmulatorHarness, *actions: Action) -> Plan:
    found = Diff([a for a in actions], [], [], [], WorkspaceFigures(active_members=20, total_groups=10))
    return build_plan(found, workspace_id=h.workspace_id, inputs={"csv": InputFingerprint(path="x.csv", sha256="0")},
                      options=PlanOptions(), created_at=now_utc(), api_host="127.0.0.1",
                      seal_key=SealKey.derive(h.api_key, h.workspace_id))


def apply(h: EmulatorHarness, plan: Plan, rules: Iterable[Rule], tmp: Path, settings: ApplySettings = FAST,
          clock: FakeClock | None = None, max_attempts: int = 8) -> tuple[ApplyReport, ScriptedTransport]:
    from clocksync.clockify.client import RetryPolicy

    transport = ScriptedTransport(h.transport, list(rules))
    retry = RetryPolicy(max_attempts=max_attempts, initial_wait=0.001, max_wait=0.002, max_retry_after=0.002)

    async def run() -> ApplyReport:
        async with h.client(transport=transport, retry=retry) as client:
            extra = {"sleep": clock.sleep, "clock": clock} if clock else {}
            return await apply_plan(client, plan, confirm=None, log_dir=tmp, settings=settings, **extra)

    return asyncio.run(run()), transport


def writes(transport: ScriptedTransport, method: str, path: str) -> int:
    return sum(1 for line in transport.sent if line.startswith(method) and re.search(path, line.split()[1]))


def test_applied_then_502_is_applied_exactly_once(tmp_path: Path) -> None:
    h = make_harness()
    report, transport = apply(h, plan_of(h, CreateGroup(group_name="Settled")),
                              [Rule("POST", r"/user-groups$", ["502-after"])], tmp_path)
    [result] = report.results
    assert result.outcome is Outcome.APPLIED and "confirmed by re-reading" in result.message
    assert [g.name for g in h.state.ws.groups.values()].count("Settled") == 1
    assert writes(transport, "POST", r"/user-groups$") == 1, "the re-read showed it landed: not sent again"
    assert report.ok and report.verified >= 1


def test_timeouts_then_success(tmp_path: Path) -> None:
    h = make_harness()
    noah, group = h.user_id("noah.brown@example.com"), h.group("USA")
    h.state.ws.holidays.clear()
    h.state.ws.policies.clear()  # USA is protected through a policy; free it for this test
    plan = plan_of(h, AddMember(group_name="USA", group_id=group.id, user_id=noah, email="noah.brown@example.com"))
    report, transport = apply(h, plan, [Rule("POST", r"/user-groups/.*/users$", ["lost", "lost", "ok"])], tmp_path)
    [result] = report.results
    assert result.outcome is Outcome.APPLIED and "attempt 3" in result.message, result.message
    assert h.group("USA").user_ids.count(noah) == 1
    assert writes(transport, "POST", r"/users$") == 3


@pytest.mark.parametrize(("script", "outcome", "message"), [
    (["400-after"], Outcome.APPLIED, "confirmed by re-reading"),  # refused, yet done: the re-read decides
    (["400"], Outcome.FAILED, "refused by the API"),  # refused and not done: a definite refusal
])
def test_a_refusal_is_decided_by_re_reading(tmp_path: Path, script: list[str], outcome: Outcome, message: str) -> None:
    h = make_harness()
    noah, group = h.user_id("noah.brown@example.com"), h.group("Book club")
    plan = plan_of(h, AddMember(group_name="Book club", group_id=group.id, user_id=noah, email="noah.brown@example.com"))
    report, _ = apply(h, plan, [Rule("POST", r"/user-groups/.*/users$", script)], tmp_path)
    [result] = report.results
    assert result.outcome is outcome and message in result.message, result.message
    assert (noah in h.group("Book club").user_ids) is (outcome is Outcome.APPLIED)


def test_transient_faults_are_retried_until_the_budget_runs_out(tmp_path: Path) -> None:
    h = make_harness()
    maria = h.user_id("maria.garcia@example.com")
    plan = plan_of(h, UpdateProfile(user_id=maria, email="maria.garcia@example.com",
                                    capacity=Change(before="PT8H", after="PT7H30M")))
    clock = FakeClock()
    settings = ApplySettings(retry_budget=30, backoff_initial=0.5, backoff_max=2)
    report, transport = apply(h, plan, [Rule("PATCH", r"/member-profile/", ["503"] * 1000)], tmp_path, settings,
                              clock, max_attempts=2)
    [result] = report.results
    assert result.outcome is Outcome.FAILED
    assert "retry budget (30 s) ran out" in result.message and "503" in result.message, result.message
    attempts = int(re.search(r"after (\d+) attempt", result.message).group(1))  # type: ignore[union-attr]
    assert attempts > 4, "kept settling while the run had time, not a fixed four tries"
    assert 30 <= clock.now < 40
    assert h.state.ws.users[maria].work_capacity == "PT8H"


ANSWERS_NO_WRITE_ENDS_ON = ["100", "101", "199", "300", "301", "302", "303", "304", "307", "308", "not-http"]


@pytest.mark.parametrize("answer", ANSWERS_NO_WRITE_ENDS_ON)
@pytest.mark.parametrize("kind", ["PATCH profile", "POST group"])
def test_a_write_answered_with_no_final_answer_fails_at_once_naming_the_url(tmp_path: Path, answer: str,
                                                                             kind: str) -> None:
    """Review of issue 20, F4/F11: a PATCH answered 302 was sent again for the whole retry budget
    (11 writes sent 204 times in 300 s) and reported "in flight" on Ctrl-C though it was answered."""
    h = make_harness()
    maria = h.user_id("maria.garcia@example.com")
    if kind == "PATCH profile":
        plan = plan_of(h, UpdateProfile(user_id=maria, email="maria.garcia@example.com",
                                        capacity=Change(before="PT8H", after="PT7H30M")))
        rule, path = Rule("PATCH", r"/member-profile/", [answer] * 50), f"/member-profile/{maria}"
    else:
        plan = plan_of(h, CreateGroup(group_name="Settled"))
        rule, path = Rule("POST", r"/user-groups$", [answer] * 50), "/user-groups"
    clock = FakeClock()
    report, transport = apply(h, plan, [rule], tmp_path, ApplySettings(retry_budget=900), clock)
    [result] = report.results
    assert result.outcome is Outcome.FAILED, result.message
    assert f"{BASE_URL}/workspaces/{h.workspace_id}{path}" in result.message, result.message
    assert writes(transport, rule.method, rule.path) == 1, "answered: never sent again"
    assert clock.now == 0, "no backoff: nothing was waited for"
    if answer.startswith("3"):
        assert "redirect to https://login.example/..." in result.message and "next=x" not in result.message
    assert h.state.ws.users[maria].work_capacity == "PT8H"
    assert "Settled" not in [g.name for g in h.state.ws.groups.values()]
    assert not report.ok


def test_a_429_storm_longer_than_the_request_retries_pauses_and_resumes(tmp_path: Path) -> None:
    h = make_harness()
    maria = h.user_id("maria.garcia@example.com")
    plan = plan_of(h, UpdateProfile(user_id=maria, email="maria.garcia@example.com",
                                    capacity=Change(before="PT8H", after="PT7H30M")))
    report, transport = apply(h, plan, [Rule("PATCH", r"/member-profile/", ["429"] * 12)], tmp_path, max_attempts=3)
    [result] = report.results
    assert result.outcome is Outcome.APPLIED, result.message
    assert h.state.ws.users[maria].work_capacity == "PT7H30M"
    assert writes(transport, "PATCH", r"/member-profile/") == 13


def grant_on_a_new_group(h: EmulatorHarness, holder_id: str) -> Plan:
    """A plan that creates group "Fresh" and grants ops-lead TEAM_MANAGER over it."""
    return plan_of(h, CreateGroup(group_name="Fresh"),
                   GrantRole(holder_id=holder_id, holder_email="ops-lead@example.com", entity_kind="group",
                             entity_name="Fresh"))


def test_refusal_on_a_group_created_in_this_run_is_retried_in_the_window(tmp_path: Path) -> None:
    h = make_harness()
    ops = h.user_id("ops-lead@example.com")
    plan = grant_on_a_new_group(h, ops)
    report, _ = apply(h, plan, [Rule("POST", r"/users/.*/roles$", ["400", "400", "ok"])], tmp_path)
    assert [r.outcome for r in report.results] == [Outcome.APPLIED, Outcome.APPLIED], [r.message for r in report.results]
    fresh = h.group("Fresh")
    assert any(r.user_id == ops and r.entity_id == fresh.id and r.via_group for r in h.state.ws.roles)


def test_refusal_past_the_window_fails_and_says_why(tmp_path: Path) -> None:
    h = make_harness()
    ops = h.user_id("ops-lead@example.com")
    plan = grant_on_a_new_group(h, ops)
    clock = FakeClock()
    settings = ApplySettings(retry_budget=600, consistency_window=10, backoff_initial=0.5, backoff_max=2)
    report, _ = apply(h, plan, [Rule("POST", r"/users/.*/roles$", ["400"] * 1000)], tmp_path, settings, clock)
    grant = report.results[1]
    assert grant.outcome is Outcome.FAILED and "eventual consistency window" in grant.message, grant.message


def test_a_refusal_on_an_older_object_is_not_retried(tmp_path: Path) -> None:
    h = make_harness()
    ops, club = h.user_id("ops-lead@example.com"), h.group("Book club")
    plan = plan_of(h, GrantRole(holder_id=ops, holder_email="ops-lead@example.com", entity_kind="group",
                                entity_id=club.id, entity_name="Book club"))
    report, transport = apply(h, plan, [Rule("POST", r"/users/.*/roles$", ["400", "ok"])], tmp_path)
    assert report.results[0].outcome is Outcome.FAILED
    assert writes(transport, "POST", r"/roles$") == 1
