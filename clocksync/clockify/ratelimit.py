"""A token bucket shared by every request of one client: asyncio-safe, monotonic clock."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class TokenBucket:
    """Allows ``rate`` acquisitions per second on average, with bursts up to ``burst``.

    Waiters are served in arrival order: each one reserves the next free slot under a lock and
    then sleeps outside it, so concurrent callers never busy-wait and never exceed the rate.

    With ``burst`` 1 (the default) sends are also paced when they leave (GCRA, tolerance one
    interval): when the event loop stalls (a large page being parsed), waiters whose slots passed
    would otherwise all wake at once and reach the server as a burst, and a server bucket refilled
    at exactly this rate never recovers from one. The theoretical arrival time advances by exactly
    one interval per send, so timer overshoot does not accumulate into a slower rate.
    """

    def __init__(
        self,
        rate: float,
        burst: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._tat = float("-inf")  # theoretical arrival time of the next send
        self.waited = 0.0  # total seconds callers spent waiting, for benchmarks

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate}, burst={self.burst})"

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            delay = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if delay > 0:
            self.waited += delay
            await self._sleep(delay)
        if self.burst > 1:
            return
        interval = 1.0 / self.rate
        async with self._send_lock:
            early = self._tat - interval - self._clock()
            if early > 0:
                self.waited += early
                await self._sleep(early)
            self._tat = max(self._tat, self._clock()) + interval
