"""The client-side token bucket, on a fake clock."""

from __future__ import annotations

import asyncio

from clocksync.clockify.ratelimit import TokenBucket


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
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)

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
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)

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
