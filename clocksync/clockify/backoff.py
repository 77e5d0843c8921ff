"""The one backoff policy: how long to wait after the n-th failed try, everywhere clocksync waits.

tenacity's exponential wait plus random jitter: ``initial * 2 ** (n - 1)`` seconds, at most
``max_wait``, plus up to ``initial`` of jitter so that clients spread out. The client's retries
(its tenacity ``AsyncRetrying``), the rate limiter's pause of every request after a 429 (``n``:
the 429s in a row) and the settler's re-writes of a failed action all use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tenacity import RetryCallState, Retrying, wait_exponential, wait_none, wait_random
from tenacity.wait import wait_base

_RETRYING = Retrying()  # what a RetryCallState belongs to; its wait strategies read only the attempt number


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5  # seconds after the first failed try; also the most jitter added
    max_wait: float = 30.0  # seconds, before jitter
    jitter: bool = True

    def strategy(self) -> wait_base:
        """The policy as a tenacity wait strategy."""
        spread = wait_random(0, self.initial) if self.jitter else wait_none()
        return wait_exponential(multiplier=self.initial, max=self.max_wait) + spread

    def wait(self, attempt: int) -> float:
        """Seconds to wait after ``attempt`` failed tries (1 for the first)."""
        state = RetryCallState(_RETRYING, None, (), {})
        state.attempt_number = max(1, attempt)
        return float(self.strategy()(state))
