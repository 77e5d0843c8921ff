"""Settling: write one action, and when the write fails, find out what happened and act on it.

A write that fails is settled by re-reading the workspace (a read begun after the failure) and
asking the kind's handler for its verdict again. Done -> applied. Not done and the failure was
transient (429, 5xx, timeout, dropped connection) -> written again after a backoff, for as long
as the run's retry budget lasts. Not done and the API refused it -> failed, except on an object
this run created moments earlier, where the refusal may be the API lagging: retried for a bounded
window. An answer that cannot be read or used (not JSON; a 1xx or 3xx status, a redirect is
never followed; bytes that are not HTTP) fails the action at once, naming the URL: it is neither
written again nor reported in flight, since it was answered. Nothing is decided on a guess.

The settler knows no kind of action: each handler says what its action touches and how to judge it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import ChainMap
from collections.abc import Awaitable, Callable
from typing import Any

from clocksync.apply.report import ActionResult, ApplySettings, Outcome
from clocksync.clockify.client import ClockifyClient
from clocksync.errors import (
    ApiShapeError,
    ApiStatusError,
    ClockifyError,
    RateLimitedError,
    UnusableAnswer,
)
from clocksync.kinds import Action, Handler
from clocksync.kinds.base import State
from clocksync.kinds.live import LiveView, Ref, Snapshot
from clocksync.load.current import load_current, load_profiles
from clocksync.model import CurrentState

logger = logging.getLogger(__name__)


def definite(error: ClockifyError) -> bool:
    """A refusal the API means (4xx), as opposed to a fault worth trying again (429, 5xx, no answer)."""
    return (isinstance(error, ApiStatusError) and not isinstance(error, RateLimitedError)
            and error.status is not None and 400 <= error.status < 500 and error.status != 408)


class Settler:
    """Writes actions against ``view`` (the run's live view, set once it is read; each write's
    effect updates it). ``observed`` collects the objects that write answers showed whole.
    """

    def __init__(self, client: ClockifyClient, *, self_id: str, protected: set[str],
                 settings: ApplySettings, sleep: Callable[[float], Awaitable[None]],
                 clock: Callable[[], float], stopping: Callable[[], bool] = lambda: False) -> None:
        self.client = client
        self.stopping = stopping  # true once the apply is asked to stop: no write is tried again
        self.view: LiveView
        self.self_id = self_id
        self.protected = protected
        self.settings = settings
        self.sleep = sleep
        self.clock = clock
        self.deadline = clock() + settings.retry_budget
        self.observed: dict[Ref, Snapshot | None] = {}
        self.reads_begun = 0  # list re-reads started; see fresh_lists
        self.lists_as_of = 0  # the latest re-read that has finished
        self.lists: CurrentState | None = None
        self.lists_lock = asyncio.Lock()

    async def settle(self, action: Action, handler: Handler[Any]) -> ActionResult:
        """Write ``action`` (judged ready by its handler) and settle the outcome (see the module doc)."""
        started = self.clock()
        lag_until: float | None = None
        attempt = 0
        while True:
            attempt += 1
            try:
                answer = await handler.write(action, self.view, self.client)
            except ClockifyError as exc:
                error = exc
            else:
                handler.effect(action, self.view, answer.created_id)
                self.observed.update(answer.observed)
                note = f"applied on attempt {attempt}" if attempt > 1 else ""
                return ActionResult(action, Outcome.APPLIED, note, created_id=answer.created_id)
            logger.info("settle: %s after %s; re-reading", error, action.id)
            if isinstance(error, (ApiShapeError, UnusableAnswer)):
                # Answered, with nothing a write can end on (a redirect, 1xx, not JSON, not HTTP):
                # the same server answers the same again, so the action has failed, now.
                return ActionResult(action, Outcome.FAILED, f"the answer could not be used: {error}", error.status)
            fresh = await self.reread_until_read(action, handler)
            if isinstance(fresh, ActionResult):
                return fresh
            verdict = handler.verdict(action, fresh)
            if verdict.state is State.IN_PLACE:
                created = handler.created_in(action, fresh)
                handler.effect(action, self.view, created)
                return ActionResult(action, Outcome.APPLIED, f"confirmed by re-reading after: {error}",
                                    error.status, created_id=created)
            lagging = definite(error) and handler.may_lag(action, self.view)
            if verdict.state is State.STALE and not lagging:
                return ActionResult(action, Outcome.STALE, f"changed since the plan: {verdict.reason}", error.status)
            now = self.clock()
            if definite(error):
                if not lagging:
                    return ActionResult(action, Outcome.FAILED, f"refused by the API: {error}", error.status)
                lag_until = lag_until if lag_until is not None else now + self.settings.consistency_window
                if now >= lag_until:
                    return ActionResult(action, Outcome.FAILED, (
                        f"refused by the API for {self.settings.consistency_window:g} s after the object was created "
                        f"in this run (eventual consistency window ran out): {error}"), error.status)
            elif now >= self.deadline:
                return ActionResult(action, Outcome.FAILED, (
                    f"gave up: the run's retry budget ({self.settings.retry_budget:g} s) ran out after {attempt} "
                    f"attempt(s) in {now - started:.1f} s; last error: {error}"), error.status)
            if self.stopping():
                return ActionResult(action, Outcome.NOT_RUN, (
                    f"its write met {error} and re-reading shows it was not applied; the apply was stopped before "
                    "it was written again"), error.status)
            await self.backoff(attempt)

    async def backoff(self, attempt: int) -> None:
        await self.sleep(self.settings.backoff.wait(attempt))

    async def reread_until_read(self, action: Action, handler: Handler[Any]) -> LiveView | ActionResult:
        """Re-read for ``action``; transient read failures are retried within the run's budget."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self.reread(action, handler, self.reads_begun)
            except (ApiShapeError, UnusableAnswer) as exc:
                return ActionResult(action, Outcome.FAILED, f"the workspace could not be read: {exc}")
            except ClockifyError as exc:
                if self.stopping():
                    return ActionResult(action, Outcome.IN_FLIGHT, (
                        "the apply was stopped before the outcome of the write could be read back; it may or may "
                        f"not have been applied: {exc}"), exc.status)
                if self.clock() >= self.deadline:
                    return ActionResult(action, Outcome.FAILED, (
                        "gave up: the run's retry budget ran out before the outcome of the write could be read "
                        f"back; it may or may not have been applied: {exc}"), exc.status)
                await self.backoff(attempt)

    async def reread(self, action: Action, handler: Handler[Any], ticket: int) -> LiveView:
        """A view to judge ``action`` by again after a failed write.

        Profiles the handler names are read into the main view (each belongs to one action, so no
        other write races it); everything else is judged on fresh lists.
        """
        profile_ids = handler.profiles_to_reread(action)
        if profile_ids:
            profiles, _ = await load_profiles(self.client, profile_ids)
            for user_id in profile_ids:
                if user_id in profiles:
                    self.view.profiles[user_id] = profiles[user_id]
                else:  # unreadable now: the verdict reports the action as stale
                    self.view.profiles.pop(user_id, None)
            return self.view
        fresh = LiveView.from_state(await self.fresh_lists(ticket), self.protected)
        fresh.profiles = ChainMap({}, self.view.profiles)
        fresh.created = self.view.created
        fresh.sensitive = self.view.sensitive
        return fresh

    async def fresh_lists(self, ticket: int) -> CurrentState:
        """Users, roles and groups from a read begun after ``ticket`` was taken.

        Take the ticket (``self.reads_begun``) when a write fails: only a read begun after the
        failure can show that write's effect, so concurrent failures share one such read.
        """
        async with self.lists_lock:
            if self.lists is not None and self.lists_as_of > ticket:
                return self.lists
            self.reads_begun += 1
            begun = self.reads_begun
            self.lists = await load_current(self.client, self_id=self.self_id)
            self.lists_as_of = begun
            return self.lists
