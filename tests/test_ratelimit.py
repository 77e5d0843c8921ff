"""The client-side rate limiter on a fake clock: pacing, pauses after 429s, the adaptive rate."""

from __future__ import annotations

import asyncio

import pytest

from clocksync.clockify.backoff import Backoff
from clocksync.clockify.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sends: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Wake no earlier than asked, and late if the clock jumped meanwhile (a stalled loop)."""
        target = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, target)


def test_rate_is_kept_by_concurrent_callers() -> None:
    clock = FakeClock()
    bucket = RateLimiter(10, clock=clock, sleep=clock.sleep)

    async def caller() -> None:
        await bucket.acquire()
        clock.sends.append(clock.now)

    async def run() -> None:
        await asyncio.gather(*(caller() for _ in range(30)))

    asyncio.run(run())
    assert len(clock.sends) == 30
    assert clock.sends[-1] >= 2.9 - 1e-9, "30 sends at 10/s take at least 2.9 s after the first"
    gaps = [b - a for a, b in zip(sorted(clock.sends), sorted(clock.sends)[1:], strict=False)]
    assert min(gaps) >= 0.1 - 1e-9


def test_no_burst_after_a_stall() -> None:
    """Waiters whose slots passed while the loop was blocked still leave 1/rate apart."""
    clock = FakeClock()
    bucket = RateLimiter(10, clock=clock, sleep=clock.sleep)

    async def caller() -> None:
        await bucket.acquire()
        clock.sends.append(clock.now)

    async def stall() -> None:
        clock.now += 5.0  # the event loop was blocked for 5 s while the callers slept

    async def run() -> None:
        await asyncio.gather(*(caller() for _ in range(6)), stall())

    asyncio.run(run())
    sends = sorted(t for t in clock.sends if t >= 5.0)  # those whose slots passed during the stall
    assert len(sends) == 5
    # At most two leave together (the tolerance of one interval); then they are paced again.
    assert all(sends[k] - sends[0] >= (k - 1) * 0.1 - 1e-9 for k in range(1, 5)), sends


def backoff(initial: float, max_wait: float) -> Backoff:
    return Backoff(initial, max_wait, jitter=False)


def test_a_429_pauses_every_request_until_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)

    async def caller() -> None:
        await limiter.acquire()
        clock.sends.append(clock.now)

    async def run() -> None:
        await caller()
        assert limiter.rate_limited(3.0, backoff=backoff(0.5, 30), max_retry_after=120) == 3.0, "Retry-After"
        await asyncio.gather(*(caller() for _ in range(5)))

    asyncio.run(run())
    assert clock.sends[0] == 0.0 and min(clock.sends[1:]) >= 3.0, "no one sends during the pause"


def test_pause_without_retry_after_doubles_while_429s_continue_and_resets() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    pauses = [limiter.rate_limited(None, backoff=backoff(0.5, 3), max_retry_after=120) for _ in range(5)]
    assert pauses == [0.5, 1.0, 2.0, 3.0, 3.0]
    limiter.succeeded()
    assert limiter.rate_limited(None, backoff=backoff(0.5, 3), max_retry_after=120) == 0.5
    limiter.rate_limited(None, backoff=backoff(0.5, 3), max_retry_after=120)
    assert limiter.rate_limited(0.1, backoff=backoff(0.5, 3), max_retry_after=120) == 2.0, "Retry-After is a floor"


def test_adaptive_rate_drops_on_429s_once_a_second_and_climbs_back_slowly() -> None:
    clock = FakeClock()
    limiter = RateLimiter(50, adaptive=True, recover_every=2.0, clock=clock, sleep=clock.sleep)
    limiter.rate_limited(None, backoff=backoff(0.1, 1), max_retry_after=1)
    limiter.rate_limited(None, backoff=backoff(0.1, 1), max_retry_after=1)  # same burst: counted once
    assert limiter.rate == 40
    clock.now = 1.5
    limiter.rate_limited(None, backoff=backoff(0.1, 1), max_retry_after=1)
    assert limiter.rate == 32 and limiter.lowest == 32
    clock.now = 1.5 + 2 * 2.0 - 0.1  # still holding after the drop
    limiter.succeeded()
    assert limiter.rate == 32
    clock.now = 1.5 + 2 * 2.0 + 0.1  # two periods after the drop: the first climb, 5 % up
    limiter.succeeded()
    assert limiter.rate == pytest.approx(33.6)
    clock.now = 1000.0
    limiter.succeeded()
    assert limiter.rate == 50, "never above the ceiling"


def test_fixed_rate_never_changes() -> None:
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=clock.sleep)
    limiter.rate_limited(None, backoff=backoff(0.1, 1), max_retry_after=1)
    clock.now = 100.0
    limiter.succeeded()
    assert limiter.rate == 10


def test_adaptive_rate_drops_to_what_the_server_accepted() -> None:
    """Against a server that accepts 10 req/s, one 429 takes the rate from 50 to about 9.5, not 40."""
    clock = FakeClock()
    limiter = RateLimiter(50, adaptive=True, clock=clock, sleep=clock.sleep)
    for i in range(21):  # 10 answers a second for two seconds
        clock.now = i / 10
        limiter.succeeded()
    limiter.rate_limited(None, backoff=backoff(0.1, 1), max_retry_after=1)
    assert 9.0 <= limiter.rate <= 10.0, limiter.rate
