"""Per-user policy on the plan's day: exceptions that hold, and effective-dated rows. Pure.

Exceptions (config ``exceptions``) name what clocksync leaves alone for one user: ``capacity``,
``fields`` (every mapped field), one field by name, ``manager`` (their manager, groups and the
manager roles over them) or ``deactivation``. One past its ``until`` no longer holds and is a
warning; one naming nobody in the CSV or the workspace is a warning and is not listed as held.

Effective dates: a row whose start is after the plan's day is *upcoming* (not provisioned); a row
whose end is before it has *ended* (a leaver under ``--deactivate-missing``). Dates are ISO.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from clocksync.config import EXCEPTION_KEYWORDS, Config
from clocksync.model import UserSpec, email_key, name_key
from clocksync.plan.types import HeldException, Notice


class Standing(enum.Enum):
    CURRENT = "current"
    UPCOMING = "upcoming"
    ENDED = "ended"


def standing(spec: UserSpec, as_of: str) -> Standing:
    """Where a CSV row stands on ``as_of`` (ISO date; empty: every row is current)."""
    if as_of and spec.start and spec.start > as_of:
        return Standing.UPCOMING
    if as_of and spec.end and spec.end < as_of:
        return Standing.ENDED
    return Standing.CURRENT


@dataclass
class Exceptions:
    ignored: dict[str, set[str]] = field(default_factory=dict)  # email key -> keywords and field name keys
    held: list[HeldException] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def ignores(self, email: str, what: str) -> bool:
        """Whether ``what`` (a keyword or a field's name) is left alone for this user."""
        if not self.ignored:
            return False
        found = self.ignored.get(email_key(email), set())
        key = what if what in EXCEPTION_KEYWORDS else name_key(what)
        return key in found or (what not in EXCEPTION_KEYWORDS and "fields" in found)


def exceptions_on(config: Config, as_of: str, known: Iterable[str]) -> Exceptions:
    """The exceptions that hold on ``as_of``; ``known``: email keys in the CSV or the workspace."""
    known = set(known)
    result = Exceptions()
    for rule in config.exceptions:
        what = ", ".join(rule.ignore)
        until = rule.until.isoformat() if rule.until else None
        if until and as_of and until < as_of:
            result.notices.append(Notice(code="exception_expired", message=(
                f"the exception for {rule.email} ({what}: {rule.reason}) ended on {until}: it no longer holds; "
                "remove it from the config or extend it")))
            continue
        key = email_key(rule.email)
        if key not in known:  # holds for nobody: a warning, not an exception that held
            result.notices.append(Notice(code="exception_unknown", message=(
                f"the exception for {rule.email} ({what}) names nobody in the CSV or the workspace: it holds for "
                "no one (is the email spelled right?)")))
            continue
        entries = {i.casefold() if i.casefold() in EXCEPTION_KEYWORDS else name_key(i) for i in rule.ignore}
        result.ignored.setdefault(key, set()).update(entries)
        result.held.append(HeldException(email=rule.email, ignore=rule.ignore, reason=rule.reason, until=until))
    for email in config.workspace.never_deactivate:
        if email_key(email) not in known:  # protects nobody: a typo would leave the meant person unprotected
            result.notices.append(Notice(code="never_deactivate_unknown", message=(
                f"never_deactivate names {email}, who is neither in the CSV nor in the workspace: it protects no "
                "one (is the email spelled right?)")))
    return result
