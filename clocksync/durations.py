"""Work capacity: weekly hours from the CSV to ISO-8601 daily durations, compared by value."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

WORKING_DAYS_PER_WEEK = 5

_ISO = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> int:
    """Seconds in an ISO-8601 duration such as ``PT8H``, ``PT7H30M`` or ``PT8H0M``.

    Raises ValueError for anything else (weeks, months and years have no fixed length).
    """
    match = _ISO.match(text.strip().upper())
    if not match or text.strip().upper() in ("P", "PT") or text.strip().upper().endswith("T"):
        raise ValueError(f"not an ISO-8601 duration: {text!r}")
    parts = {k: Decimal(v) for k, v in match.groupdict().items() if v is not None}
    total = (
        parts.get("days", Decimal(0)) * 86400
        + parts.get("hours", Decimal(0)) * 3600
        + parts.get("minutes", Decimal(0)) * 60
        + parts.get("seconds", Decimal(0))
    )
    return int(total.to_integral_value(rounding=ROUND_HALF_UP))


def format_duration(seconds: int) -> str:
    """The canonical form: ``PT8H``, ``PT7H30M``, ``PT6H24M``, ``PT0S``."""
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if secs or text == "PT":
        text += f"{secs}S"
    return text


def parse_hours(text: str) -> Decimal:
    """A weekly-hours cell: ``40``, ``37.5`` or ``37,5``. Raises ValueError if not a number >= 0."""
    cleaned = text.strip().replace(" ", "")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    if value < 0:
        raise ValueError(f"negative hours: {text!r}")
    if value > 168:
        raise ValueError(f"more hours than a week has: {text!r}")
    return value


def daily_seconds(weekly_hours: Decimal) -> int:
    """Daily capacity in seconds for a five-day week: 40 -> 28800 (8 h), 32 -> 23040 (6 h 24 min)."""
    seconds = weekly_hours * 3600 / WORKING_DAYS_PER_WEEK
    return int(seconds.to_integral_value(rounding=ROUND_HALF_UP))
