"""Working days and the week start: cells as HR writes them -> the days Clockify names.

A working-days cell lists days and ranges in any case, separated by commas, semicolons, slashes or
spaces: ``Mon-Fri``, ``Mon,Tue,Thu``, ``MONDAY;TUESDAY``, ``Sun-Thu``, ``Monday to Friday``. A day
is its English name or a prefix of it that names one day (``Tu``, ``Thurs``; ``Weds`` too); a
range runs forward through the week and wraps (``Fri-Mon`` is Friday to Monday). The result is a
set: the order and repeats of the cell do not matter, and Clockify's order (Monday first) is used.
A week-start cell is one day. Anything else raises ValueError saying what was not understood.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable


class Day(enum.StrEnum):
    """A day of the week as the API names it (``MemberProfileDtoV1.weekStart``, ``workingDays``)."""

    MONDAY = "MONDAY"
    TUESDAY = "TUESDAY"
    WEDNESDAY = "WEDNESDAY"
    THURSDAY = "THURSDAY"
    FRIDAY = "FRIDAY"
    SATURDAY = "SATURDAY"
    SUNDAY = "SUNDAY"

    @property
    def short(self) -> str:
        return self.value[:3].title()


WEEK = tuple(Day)
_ALIASES = {"weds": Day.WEDNESDAY}
_RANGE = re.compile(r"\s*(?:-|\u2010|\u2011|\u2012|\u2013|\u2014|\u2212|\bto\b|\bthrough\b|\bthru\b)\s*", re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s,;/|+&]+")
FORMS = "day names or ranges such as Mon-Fri, Mon,Tue,Thu or MONDAY;TUESDAY"


def parse_day(text: str) -> Day:
    """One day: its name or a prefix naming one day (any case, a trailing dot allowed). Raises ValueError."""
    word = text.strip().rstrip(".").casefold()
    if word in _ALIASES:
        return _ALIASES[word]
    matches = [day for day in WEEK if len(word) >= 2 and day.value.casefold().startswith(word)]
    if len(matches) != 1:
        raise ValueError(f"{text.strip()!r} is not a day of the week")
    return matches[0]


def parse_days(text: str) -> tuple[Day, ...]:
    """The working days a cell names, Monday first. Raises ValueError (nothing named, an unknown day)."""
    joined = _RANGE.sub("-", text.strip())
    days: set[Day] = set()
    for token in _SEPARATORS.split(joined):
        if not token:
            continue
        ends = [part for part in token.split("-")]
        if len(ends) > 2 or any(not end for end in ends):
            raise ValueError(f"{token!r} is not a day or a range of days (expected {FORMS})")
        try:
            first, last = parse_day(ends[0]), parse_day(ends[-1])
        except ValueError as exc:
            raise ValueError(f"{exc} (expected {FORMS})") from None
        start, stop = WEEK.index(first), WEEK.index(last)
        days.update(WEEK[(start + i) % 7] for i in range((stop - start) % 7 + 1))
    if not days:
        raise ValueError(f"names no day (expected {FORMS})")
    return in_week_order(days)


def in_week_order(days: Iterable[Day]) -> tuple[Day, ...]:
    found = set(days)
    return tuple(day for day in WEEK if day in found)


def format_days(days: Iterable[str]) -> str:
    """Days as a person writes them, and ``parse_days`` reads back: ``Mon-Fri``, ``Mon,Wed``,
    ``Sun-Thu`` (a run that wraps past Sunday is kept whole). Unknown names are kept as they are."""
    known = [Day(d) for d in days if d in Day.__members__]
    unknown = [d for d in days if d not in Day.__members__]
    chosen = set(known)
    if len(chosen) == 7:
        return "Mon-Sun"
    runs: list[list[Day]] = []
    # Start each run at a chosen day whose previous day is not chosen, so a run wraps past Sunday.
    for i, day in enumerate(WEEK):
        if day in chosen and WEEK[i - 1] not in chosen:
            run = [day]
            while WEEK[(WEEK.index(run[-1]) + 1) % 7] in chosen:
                run.append(WEEK[(WEEK.index(run[-1]) + 1) % 7])
            runs.append(run)
    parts = [f"{run[0].short}-{run[-1].short}" if len(run) > 2 else ",".join(d.short for d in run) for run in runs]
    return ",".join(parts + unknown)
