"""Stopping an apply on request (Ctrl-C, SIGTERM): send nothing more, and find out what was sent.

The CLI turns SIGINT and SIGTERM into ``Stop.request``; the library takes a ``Stop`` and never
installs signal handlers itself. After a request no write is sent: an action whose write had not
gone out (waiting for the actions it depends on, for the rate limiter or for a free connection)
is cancelled and ends "not run". A write already sent is given ``grace`` seconds for its answer,
so its outcome is known; a second request, or the grace running out, cancels it too and it ends
"in flight": sent and unanswered, so it may have been applied. Reads before the first write are
cancelled at once (nothing has changed yet).

"Sent" means the request left the client (``ClockifyClient.before_write``), after the rate
limiter and the connection limit let it through: what waits in those queues is not in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class StopRequested(Exception):
    """A write was about to be sent, or a read before the first write was running, after a stop."""


class Stop:
    """A request to stop an apply, and the tasks it cancels.

    ``notify(reason, in_flight)`` is called once, when the first request arrives, with the number
    of writes sent and not yet answered (the CLI says what happens next). Seconds are wall-clock.
    """

    def __init__(self, grace: float = 10.0, notify: Callable[[str, int], None] | None = None) -> None:
        self.reason: str | None = None  # the signal's name ("SIGINT", "SIGTERM") once requested
        self.forced = False
        self.grace = grace
        self.notify = notify
        self._tasks: dict[asyncio.Task[Any], Callable[[], bool]] = {}  # task -> has it sent a write?
        self._timer: asyncio.TimerHandle | None = None

    @property
    def requested(self) -> bool:
        return self.reason is not None

    def request(self, reason: str) -> None:
        """Stop sending; cancel what has not been sent; after ``grace`` seconds (or a second request),
        cancel what has."""
        if self.reason is not None:
            self.force()
            return
        self.reason = reason
        in_flight = 0
        for task, sent in list(self._tasks.items()):
            if task.done():
                continue
            if sent():
                in_flight += 1
            else:
                task.cancel()
        if self.notify is not None:
            self.notify(reason, in_flight)
        with contextlib.suppress(RuntimeError):  # no running loop: nothing to time
            self._timer = asyncio.get_running_loop().call_later(self.grace, self.force)

    def force(self) -> None:
        """Cancel every task still running, sent or not."""
        self.forced = True
        for task in list(self._tasks):
            task.cancel()

    def track(self, task: asyncio.Task[Any], sent: Callable[[], bool]) -> None:
        """Have ``task`` cancelled by a stop: at once while ``sent()`` is false, after the grace once true."""
        if self.reason is not None and (self.forced or not sent()):
            task.cancel()
        self._tasks[task] = sent
        task.add_done_callback(self._tasks.pop)

    async def guard(self, work: Awaitable[T]) -> T:
        """Await ``work`` (reads before any write); a stop cancels it and raises StopRequested."""
        if self.reason is not None:
            raise StopRequested(self.reason)
        task = asyncio.ensure_future(work)
        self.track(task, lambda: False)
        try:
            return await task
        except asyncio.CancelledError:
            if self.reason is None or not task.cancelled():
                raise
            raise StopRequested(self.reason) from None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()


__all__ = ["Stop", "StopRequested"]
