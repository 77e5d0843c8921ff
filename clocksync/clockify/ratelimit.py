"""The client-side rate limit shared by every request of one client: asyncio-safe, monotonic clock.

Three jobs:

- **Pacing** (GCRA): sends leave at most ``rate`` per second. Each waiter reserves the next free
  slot under a lock and sleeps outside it, so concurrent callers never busy-wait. Sends are paced
  again when they leave: when the event loop stalls (a large page being parsed), waiters whose
  slots passed would otherwise all wake at once and reach the server as a burst, which a server
  bucket refilled at exactly this rate never recovers from. The theoretical arrival time advances
  by one interval per send, so timer overshoot does not add up into a slower rate.
- **Pausing**: a 429 pauses *every* request until the pause ends (a backoff that grows while 429s
  keep coming, never shorter than the server's ``Retry-After`` when it sends one), so a storm is
  waited out by the whole client instead of being met by each request on its own.
- **Adapting** (``adaptive=True``, the ``auto`` setting): the rate starts at the given ceiling. On a
  429 (at most once per second, so one burst of answers counts once) it drops to the lower of four
  fifths of itself and 95 % of the rate the server accepted over the last two seconds, which
  reaches the server's limit in a step or two instead of many. After holding for two
  ``recover_every`` periods it climbs back by 5 % (at least 0.5 req/s) per ``recover_every``
  seconds without a 429, never above the ceiling. A workspace with a lower limit than the ceiling
  then gets a steady run, not a storm.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

from clocksync.clockify.backoff import Backoff

WINDOW = 2.0  # seconds of accepted answers the adaptive rate measures the server's limit over


class RateLimiter:
    def __init__(
        self,
        rate: float,
        *,
        adaptive: bool = False,
        min_rate: float = 1.0,
        recover_every: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.ceiling = rate
        self.rate = rate
        self.adaptive = adaptive
        self.min_rate = min(min_rate, rate)
        self.recover_every = recover_every
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        self._updated = clock()
        self._lock = asyncio.Lock()
        self._send_lock = asyncio.Lock()
        self._tat = float("-inf")  # theoretical arrival time of the next send
        self.paused_until = float("-inf")
        self._streak = 0  # 429s in a row, for the pause length
        self._last_decrease = float("-inf")
        self._last_change = clock()
        self.lowest = rate  # the lowest rate the adaptive mode went down to
        self._accepted: deque[float] = deque()  # when answers that were not 429 came (adaptive only)

    def __repr__(self) -> str:
        mode = "auto" if self.adaptive else "fixed"
        return f"RateLimiter(rate={self.rate:.1f}, {mode})"

    async def acquire(self) -> None:
        seen = await self._wait_pause()
        async with self._lock:
            now = self._clock()
            self._tokens = min(1.0, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            delay = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if delay > 0:
            await self._sleep(delay)
        async with self._send_lock:
            if self.paused_until > seen:  # a 429 started a new pause while this caller waited its turn
                await self._wait_pause()
            interval = 1.0 / self.rate
            early = self._tat - interval - self._clock()
            if early > 0:
                await self._sleep(early)
            self._tat = max(self._tat, self._clock()) + interval

    async def _wait_pause(self) -> float:
        """Sleep out the pause; again only if a later 429 extended it while this caller slept.
        Returns the end of the pause it waited through."""
        while True:
            until = self.paused_until
            left = until - self._clock()
            if left <= 0:
                return until
            await self._sleep(left)
            if self.paused_until <= until:
                return until

    def rate_limited(self, retry_after: float | None, *, backoff: Backoff, max_retry_after: float) -> float:
        """A 429 came back: pause everyone and return the pause: ``backoff`` after as many 429s in a
        row, never shorter than ``Retry-After`` (capped at ``max_retry_after``)."""
        now = self._clock()
        pause = backoff.wait(self._streak + 1)
        if retry_after is not None:
            pause = max(pause, min(retry_after, max_retry_after))
        self._streak += 1
        self.paused_until = max(self.paused_until, now + pause)
        if self.adaptive and now - self._last_decrease >= 1.0:
            target = self.rate * 0.8
            self._forget(now)
            if len(self._accepted) >= 2 and now - self._accepted[0] >= WINDOW / 2:
                target = min(target, 0.95 * len(self._accepted) / (now - self._accepted[0]))
            self.rate = max(self.min_rate, target)
            self.lowest = min(self.lowest, self.rate)
            self._last_decrease = now
            self._last_change = now + self.recover_every  # hold: the first climb comes two periods later
        return pause

    def succeeded(self) -> None:
        """An answer that was not a 429: end the streak and, adaptive, climb back slowly."""
        self._streak = 0
        if not self.adaptive:
            return
        now = self._clock()
        self._accepted.append(now)
        self._forget(now)
        if self.rate >= self.ceiling:
            return
        steps = int((now - self._last_change) / self.recover_every)
        for _ in range(min(steps, 100)):
            self.rate = min(self.ceiling, self.rate + max(0.5, self.rate * 0.05))
        if steps > 0:
            self._last_change += steps * self.recover_every

    def _forget(self, now: float) -> None:
        while self._accepted and self._accepted[0] < now - WINDOW:
            self._accepted.popleft()
