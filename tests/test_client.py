"""Client behaviour pinned with respx: retries, Retry-After, ambiguous writes, pagination, secrets."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest
import respx

from clocksync.clockify.client import ClockifyClient, RetryPolicy, check_base_url, parse_retry_after
from clocksync.errors import (
    ApiShapeError,
    AuthError,
    CredentialsError,
    OutcomeUnknown,
    RateLimitedError,
    TransportError,
)

BASE = "https://api.clockify.me/api/v1"
KEY = "k-" + "x" * 30
WS = "ws1"


def run(make: Callable[[ClockifyClient], Coroutine[Any, Any, Any]], sleeps: list[float] | None = None,
        retry: RetryPolicy | None = None) -> Any:
    async def fake_sleep(seconds: float) -> None:
        if sleeps is not None and seconds >= 0.05:  # retry waits; the rate limiter's ms waits are not counted
            sleeps.append(seconds)

    async def go() -> Any:
        async with ClockifyClient(KEY, WS, base_url=BASE, requests_per_second=1000, sleep=fake_sleep,
                                  retry=retry or RetryPolicy(max_attempts=5, initial_wait=0.5)) as client:
            return await make(client), client.stats

    return asyncio.run(go())


@respx.mock
def test_429_then_200() -> None:
    route = respx.get(f"{BASE}/workspaces/{WS}/custom-fields").mock(side_effect=[
        httpx.Response(429, json={"message": "Too many requests", "code": 429}),
        httpx.Response(200, json=[]),
    ])
    sleeps: list[float] = []
    result, stats = run(lambda c: c.list_custom_fields(), sleeps)
    assert result == [] and route.call_count == 2
    assert stats.rate_limited == 1 and stats.retries == 1
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0, "exponential backoff with jitter"


@respx.mock
def test_503s_back_off_exponentially() -> None:
    """Waits of 0.5, 1 and 2 s plus up to 0.5 s of jitter each: a constant wait cannot pass."""
    route = respx.get(f"{BASE}/workspaces/{WS}/holidays").mock(side_effect=[
        httpx.Response(503), httpx.Response(503), httpx.Response(503), httpx.Response(200, json=[]),
    ])
    sleeps: list[float] = []
    run(lambda c: c.list_holidays(), sleeps)
    assert route.call_count == 4 and len(sleeps) == 3
    for wait, low in zip(sleeps, (0.5, 1.0, 2.0), strict=True):
        assert low <= wait <= low + 0.5, sleeps


@respx.mock
def test_retry_after_is_honoured() -> None:
    respx.get(f"{BASE}/workspaces/{WS}/holidays").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "7"}, json={"message": "slow down", "code": 429}),
        httpx.Response(200, json=[]),
    ])
    sleeps: list[float] = []
    run(lambda c: c.list_holidays(), sleeps)
    assert sleeps == [pytest.approx(7.0, abs=0.05)], "the pause ends Retry-After seconds after the 429"


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None


@respx.mock
def test_rate_limit_gives_up_after_max_attempts() -> None:
    route = respx.get(f"{BASE}/workspaces/{WS}/holidays").mock(
        return_value=httpx.Response(429, json={"message": "Too many requests", "code": 429}))
    with pytest.raises(RateLimitedError) as info:
        run(lambda c: c.list_holidays(), retry=RetryPolicy(max_attempts=3, initial_wait=0.01))
    assert route.call_count == 3
    assert info.value.status == 429


@respx.mock
def test_ambiguous_create_is_not_repeated() -> None:
    route = respx.post(f"{BASE}/workspaces/{WS}/user-groups").mock(return_value=httpx.Response(502))
    with pytest.raises(OutcomeUnknown):
        run(lambda c: c.create_group("Team"))
    assert route.call_count == 1, "a POST whose outcome is unknown is never sent twice"


@respx.mock
def test_timeout_on_post_is_outcome_unknown_but_get_retries() -> None:
    post = respx.post(f"{BASE}/workspaces/{WS}/user-groups/g1/users").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        run(lambda c: c.add_group_member("g1", "u1"))
    assert post.call_count == 1
    get = respx.get(f"{BASE}/workspaces/{WS}/holidays").mock(side_effect=[httpx.ReadTimeout("slow"),
                                                                          httpx.Response(200, json=[])])
    run(lambda c: c.list_holidays())
    assert get.call_count == 2


@respx.mock
def test_idempotent_put_retries_on_5xx() -> None:
    route = respx.put(f"{BASE}/workspaces/{WS}/users/u1").mock(side_effect=[httpx.Response(500),
                                                                             httpx.Response(200, json={})])
    run(lambda c: c.set_user_status("u1", "INACTIVE"))
    assert route.call_count == 2


@respx.mock
def test_connect_error_retries_even_for_post() -> None:
    route = respx.post(f"{BASE}/workspaces/{WS}/user-groups").mock(side_effect=[
        httpx.ConnectError("refused"), httpx.Response(201, json={"id": "g1", "name": "Team"})])
    group, _ = run(lambda c: c.create_group("Team"))
    assert group.id == "g1" and route.call_count == 2


@respx.mock
def test_connection_failures_end_in_transport_error() -> None:
    respx.get(f"{BASE}/workspaces/{WS}/holidays").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(TransportError):
        run(lambda c: c.list_holidays(), retry=RetryPolicy(max_attempts=2, initial_wait=0.01))


@respx.mock
def test_pagination_stops_on_last_page_header() -> None:
    route = respx.get(f"{BASE}/workspaces/{WS}/user-groups").mock(side_effect=[
        httpx.Response(200, json=[{"id": "a", "name": "A"}, {"id": "b", "name": "B"}], headers={"Last-Page": "false"}),
        httpx.Response(200, json=[{"id": "c", "name": "C"}, {"id": "d", "name": "D"}], headers={"Last-Page": "true"}),
    ])
    groups, _ = run(lambda c: c.paginate(f"/workspaces/{WS}/user-groups", page_size=2))
    assert [g["id"] for g in groups] == ["a", "b", "c", "d"] and route.call_count == 2
    assert route.calls[0].request.url.params["page-size"] == "2"


@respx.mock
def test_a_short_page_is_not_the_end_last_page_is() -> None:
    """An endpoint that silently caps page-size (asked 3, got 2) is read to Last-Page: true."""
    capped = respx.get(f"{BASE}/capped").mock(side_effect=[
        httpx.Response(200, json=[{"id": "a"}, {"id": "b"}], headers={"Last-Page": "false"}),
        httpx.Response(200, json=[{"id": "c"}, {"id": "d"}], headers={"Last-Page": "false"}),
        httpx.Response(200, json=[{"id": "e"}], headers={"Last-Page": "true"}),
    ])
    items, _ = run(lambda c: c.paginate("/capped", page_size=3))
    assert [i["id"] for i in items] == ["a", "b", "c", "d", "e"] and capped.call_count == 3


@respx.mock
def test_without_last_page_read_until_an_empty_page() -> None:
    route = respx.get(f"{BASE}/plain").mock(side_effect=[
        httpx.Response(200, json=[{"id": "a"}]), httpx.Response(200, json=[{"id": "b"}]), httpx.Response(200, json=[]),
    ])
    items, _ = run(lambda c: c.paginate("/plain", page_size=5))
    assert [i["id"] for i in items] == ["a", "b"] and route.call_count == 3


@respx.mock
def test_a_repeated_page_ends_the_list() -> None:
    """An endpoint that ignores paging returns the same full list every time: stop, do not loop."""
    same = respx.get(f"{BASE}/same").mock(return_value=httpx.Response(200, json=[{"id": "a"}, {"id": "b"}]))
    items, _ = run(lambda c: c.paginate("/same", page_size=2))
    assert same.call_count == 2 and len(items) == 2


@respx.mock
def test_an_answer_that_cannot_be_read_names_the_field() -> None:
    respx.get(f"{BASE}/workspaces/{WS}/user-groups").mock(return_value=httpx.Response(
        200, json=[{"id": "g1", "name": "G", "userIds": None}, {"id": "g2", "name": "H", "userIds": {"u": 1}}],
        headers={"Last-Page": "true"}))
    with pytest.raises(ApiShapeError, match=r"\[1\]\.userIds"):
        run(lambda c: c.list_groups())


@respx.mock
def test_delete_role_sends_a_json_body() -> None:
    route = respx.delete(f"{BASE}/workspaces/{WS}/users/m1/roles").mock(return_value=httpx.Response(204))
    run(lambda c: c.revoke_role("m1", "TEAM_MANAGER", "g1", via_group=True))
    assert route.calls[0].request.content == b'{"role":"TEAM_MANAGER","entityId":"g1","sourceType":"USER_GROUP"}'


@respx.mock
def test_key_is_sent_as_header_and_absent_from_every_error_text() -> None:
    route = respx.get(f"{BASE}/user").mock(
        return_value=httpx.Response(401, json={"message": f"Api key does not exist: {KEY}", "code": 4003}))
    with pytest.raises(AuthError) as info:
        run(lambda c: c.get_current_user())
    assert route.calls[0].request.headers["X-Api-Key"] == KEY
    assert KEY not in str(info.value) and KEY not in repr(info.value) and KEY not in info.value.message
    assert info.value.code == 4003 and info.value.status == 401

    async def client_repr() -> str:
        async with ClockifyClient(KEY, WS, base_url=BASE) as client:
            return repr(client)

    assert KEY not in asyncio.run(client_repr())


def test_plain_http_is_refused_except_on_loopback() -> None:
    with pytest.raises(CredentialsError):
        check_base_url("http://api.clockify.me/api/v1")
    assert check_base_url("http://127.0.0.1:8080/api/v1/") == "http://127.0.0.1:8080/api/v1"


def test_a_request_waiting_for_a_connection_when_stopped_is_not_counted_as_sent() -> None:
    """Attack on issue 21 (F1): a stopped run said '549 write(s)' when 66 were sent; the requests parked on
    the connection limit were counted. Deterministic: the first write holds the only connection."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def slow(request: httpx.Request) -> httpx.Response:
        entered.set()
        await release.wait()
        return httpx.Response(200, json={})

    async def go() -> tuple[int, int]:
        with respx.mock:
            respx.put(url__regex=rf"{BASE}/workspaces/{WS}/users/u\d$").mock(side_effect=slow)
            async with ClockifyClient(KEY, WS, base_url=BASE, requests_per_second=1000, concurrency=1) as client:
                tasks = [asyncio.create_task(client.set_user_status(f"u{i}", "INACTIVE")) for i in range(5)]
                await asyncio.wait_for(entered.wait(), 10)  # a mismatched route fails, never hangs
                for _ in range(20):  # let the other four reach the connection limit
                    await asyncio.sleep(0)
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                return client.stats.writes, client.stats.requests

    assert asyncio.run(go()) == (1, 1)
