"""Clockify API access: the client, its rate limiter and the wire schemas."""

from clocksync.clockify.client import DEFAULT_BASE_URL, ClockifyClient, RequestStats, RetryPolicy

__all__ = ["DEFAULT_BASE_URL", "ClockifyClient", "RequestStats", "RetryPolicy"]
