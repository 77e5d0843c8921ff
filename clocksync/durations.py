"""Work capacity: weekly hours from the CSV to ISO-8601 daily durations, compared by value."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

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


_HOURS = re.compile(r"^[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)$")
_EXPONENT = re.compile(r"[+-]?([0-9]+([.,][0-9]*)?|[.,][0-9]+)[eE][+-]?[0-9]+")


# 1,234: a decimal comma or a thousands separator (the same rule as a NUMBER field's).
_GROUPED = re.compile(r"^[+-]?[1-9][0-9]{0,2},[0-9]{3}$")
_MINUSES = {"\u2212": "MINUS SIGN", "\u2013": "EN DASH", "\u2014": "EM DASH", "\u2010": "HYPHEN",
            "\u2011": "NON-BREAKING HYPHEN", "\ufe63": "SMALL HYPHEN-MINUS", "\uff0d": "FULLWIDTH HYPHEN-MINUS"}


def _why_not_a_number(text: str) -> str:
    """Why a cell that looks like a number to a person is not one clocksync reads, or ""."""
    import unicodedata

    for char in text:
        if char in _MINUSES:
            return f" (it holds a {_MINUSES[char].lower()}, U+{ord(char):04X}, not the '-' key's character)"
        if not char.isascii() and unicodedata.category(char) == "Nd":
            digits = "".join(str(unicodedata.digit(c)) if not c.isascii() and unicodedata.category(c) == "Nd" else c
                             for c in text)
            kind = unicodedata.name(char, "").rsplit(" DIGIT", 1)[0].lower() or "other"
            return f" (it holds {kind} digits: write it as {digits})"
    return ""


def parse_hours(text: str) -> Decimal:
    """A weekly-hours cell: ``40``, ``37.5`` or ``37,5``. Raises ValueError if not a number >= 0
    written in digits (exponent notation such as ``4E1``, what Excel shows for a narrow column, is
    refused)."""
    cleaned = text.strip().replace(" ", "")
    if not _HOURS.match(cleaned):
        if _EXPONENT.fullmatch(cleaned):
            raise ValueError(f"hours in exponent notation: {text!r}; write the hours as a plain number (40, 37.5)")
        raise ValueError(f"not a number: {text!r}{_why_not_a_number(cleaned)}")
    if _GROUPED.match(cleaned):
        raise ValueError(f"{text!r} is ambiguous: {cleaned.replace(',', '.')} hours, or {cleaned.replace(',', '')} "
                         "with a thousands separator? Write the hours with a dot (37.5) or with one or two decimals")
    value = Decimal(cleaned.replace(",", "."))
    if value < 0:
        raise ValueError(f"negative hours: {text!r}")
    if value > 168:
        raise ValueError(f"more hours than a week has: {text!r}")
    return value


def exact_daily_seconds(weekly_hours: Decimal) -> Decimal:
    """Daily capacity for a five-day week, unrounded: 39.9 -> 28728 s."""
    return weekly_hours * 3600 / WORKING_DAYS_PER_WEEK


def whole_minutes(seconds: Decimal | int) -> int:
    """``seconds`` rounded (half up) to whole minutes, in seconds: 28728 -> 28740."""
    return int((Decimal(seconds) / 60).to_integral_value(rounding=ROUND_HALF_UP)) * 60


def daily_seconds(weekly_hours: Decimal) -> int:
    """Daily capacity in seconds for a five-day week, in whole minutes (a capacity is hours and
    minutes): 40 -> 28800 (8 h), 32 -> 23040 (6 h 24 min), 39.9 -> 28740 (7 h 58 min 48 s -> 7 h 59 min)."""
    return whole_minutes(exact_daily_seconds(weekly_hours))
