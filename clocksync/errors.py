"""Exceptions raised by clocksync.

The tree (catch ``ClocksyncError`` once at the top; everything else is a bug)::

    ClocksyncError
    ├── InputError                 bad CSV, config, .env or plan file: names file, row/line, column/key
    │   ├── CsvError
    │   ├── ConfigError
    │   └── PlanFileError          truncated, edited (checksum, seal), wrong version
    ├── CredentialsError           no API key / workspace id and no terminal to ask on
    ├── SafetyError                the plan or apply is refused before any write
    │   ├── TooMuchChange          a mass-change threshold was crossed
    │   ├── ConfirmationRequired   destructive actions without "I UNDERSTAND"
    │   ├── WorkspaceMismatch      plan made for another workspace
    │   ├── HostMismatch           plan made against another API host
    │   ├── PlanTooOld             plan older than apply.max_plan_age_hours
    │   ├── PlanTooEarly           plan made --as-of a day after today
    │   ├── IdentityMismatch       an action's ids name other objects than the plan shows
    │   ├── LimitExceeded          the plan needs more than the API allows (the active-field cap)
    │   └── ApplyLocked            another apply holds the lock
    ├── PreflightError             the key cannot do what a sync needs
    ├── FileError                  a file clocksync writes cannot be written safely (names path and reason)
    └── ClockifyError              an HTTP call failed (method, path, status, code, message)
        ├── ApiStatusError         the API answered with an error status
        │   ├── AuthError          401
        │   ├── ForbiddenError     403
        │   ├── NotFoundError      404
        │   ├── RateLimitedError   429 (after retries ran out)
        │   └── UnusableAnswer     1xx, 3xx, or an answer that breaks HTTP: never retried, names the URL
        ├── TransportError         no usable answer (refused, DNS, TLS, proxy, reset): names the URL
        ├── OutcomeUnknown         a write was sent, but whether it took effect is unknown
        └── ApiShapeError          an answer clocksync cannot interpret (names the field)

No message ever contains the API key: the client never puts headers in an error, and
``redact`` is applied to server-provided text (in any common encoding of the key) before it is stored.
"""

from __future__ import annotations

import base64
import re
import urllib.parse
from dataclasses import dataclass


class ClocksyncError(Exception):
    """Root of every error clocksync raises on purpose."""


class InputError(ClocksyncError):
    """A file given by the user is unusable."""


class CsvError(InputError):
    """The users CSV is unreadable or has bad rows. ``problems`` lists every one found."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        shown = problems[:50]
        more = f"\n  ... and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        lines = "\n  ".join(shown)
        super().__init__(f"{path}: {len(problems)} problem(s)\n  {lines}{more}")


class ConfigError(InputError):
    """The YAML config is invalid."""


class PlanFileError(InputError):
    """A plan file cannot be applied as it is."""


class Interrupted(ClocksyncError):
    """The operator stopped the run (Ctrl-C, SIGTERM). ``exit_code``: 130 for SIGINT, 143 for SIGTERM."""

    def __init__(self, message: str, signal_name: str = "SIGINT") -> None:
        super().__init__(message)
        self.signal_name = signal_name

    @property
    def exit_code(self) -> int:
        return 143 if self.signal_name == "SIGTERM" else 130


class CredentialsError(ClocksyncError):
    """The API key or workspace id is missing and cannot be asked for."""


class SafetyError(ClocksyncError):
    """A safety rule refused the operation before any write."""


class TooMuchChange(SafetyError):
    """A plan would change more than the configured share of the workspace."""


class LimitExceeded(SafetyError):
    """The plan would need a write the API refuses for a workspace limit (the numbers are in the message)."""


class ConfirmationRequired(SafetyError):
    """Destructive actions need the operator to confirm with the exact text."""


class WorkspaceMismatch(SafetyError):
    """The plan targets another workspace than the one configured."""


class HostMismatch(SafetyError):
    """The plan was made against another API host than the one configured."""


class PlanTooOld(SafetyError):
    """The plan is older than ``apply.max_plan_age_hours`` (and ``--allow-old-plan`` was not given)."""


class PlanTooEarly(SafetyError):
    """The plan was made for a day after today (``plan --as-of``): its effective dates are not due yet."""


class IdentityMismatch(SafetyError):
    """An action's ids name other users or groups in the workspace than the plan shows by email or name."""


class ApplyLocked(SafetyError):
    """Another apply on the same workspace is running."""


class PreflightError(ClocksyncError):
    """The API key cannot do what a sync needs."""


class FileError(ClocksyncError):
    """A file or folder clocksync writes cannot be written safely (disk full, a symlink in its place,
    another user's file): the message names the path and the reason in one line."""


@dataclass(eq=False)
class ClockifyError(ClocksyncError):
    """An HTTP call to Clockify failed."""

    method: str
    path: str
    status: int | None = None
    code: int | None = None
    message: str = ""
    url: str = ""  # the whole URL, for errors about where the request went (never holds the key)

    def __post_init__(self) -> None:
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"{self.method} {self.url or self.path}"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.code is not None:
            parts.append(f"code {self.code}")
        text = " ".join(parts)
        return f"{text}: {self.message}" if self.message else text


class ApiStatusError(ClockifyError):
    """Clockify answered with an error status."""


class AuthError(ApiStatusError):
    """401: the API key is missing or unknown."""


class ForbiddenError(ApiStatusError):
    """403: the key's user may not do this (or the feature is not on the plan)."""


class NotFoundError(ApiStatusError):
    """404: unknown route or object."""


class RateLimitedError(ApiStatusError):
    """429 after every retry was used."""


class UnusableAnswer(ApiStatusError):
    """The server answered, but with nothing a request can end on: a 1xx or 3xx status (a redirect
    is never followed: the key would go along) or bytes that are not HTTP. Trying again would get
    the same answer, so it fails at once, naming the URL; a write so answered has failed."""


class TransportError(ClockifyError):
    """No answer could be had: a connection that could not be made (refused, DNS, TLS verification,
    a proxy's refusal) or was lost, after the retries its kind allows. Names the URL."""


class OutcomeUnknown(ClockifyError):
    """A write reached the server but its outcome is unknown (timeout, 5xx): re-read to decide."""


class ApiShapeError(ClockifyError):
    """An answer in a shape clocksync cannot interpret; raised before any write decision rests on it."""


# Characters that show as nothing: a copy of a secret split by them still reads as the secret.
_INVISIBLE = "[\u00ad\u034f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]*"


def redact(text: str, *secrets: str) -> str:
    """``text`` (a server's words) with every copy of each non-empty secret replaced by ``***``: as
    written, in any case, URL-encoded, in base64 (padded or not, standard or URL-safe) and
    reversed, also when characters that show as nothing are put between its characters."""
    for secret in secrets:
        if not secret:
            continue
        encoded = base64.b64encode(secret.encode()).decode()
        every = "".join(c if c.isalnum() else "".join(f"%{b:02X}" for b in c.encode()) for c in secret)
        forms = {secret, urllib.parse.quote(secret, safe=""), every, encoded, encoded.rstrip("="),
                 base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="), secret[::-1]}
        for form in sorted(forms, key=len, reverse=True):
            pattern = _INVISIBLE.join(re.escape(c) for c in form)
            text = re.sub(pattern, "***", text, flags=re.IGNORECASE)
    return text
