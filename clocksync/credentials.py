"""Where the API key, workspace and connection settings come from.

Order: environment, then a ``.env`` file in the working directory, then config, then (for the key
and workspace only) a hidden prompt when stdin is a terminal. The key is held in ``Secret`` so it
never shows in a repr, a log line or a traceback's locals summary.

Where the key may go is decided by the process environment alone: ``CLOCKSYNC_ALLOW_HOST`` is
never read from ``.env`` (a checkout can bring a ``.env`` along), and ``CLOCKSYNC_NO_DOTENV=1``
(or ``clocksync --no-dotenv``) ignores ``.env`` altogether, as a CI job that plans a pull
request's files does.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

from dotenv import dotenv_values

from clocksync.clockify.client import DEFAULT_BASE_URL, allowed_hosts, check_base_url
from clocksync.config import Config
from clocksync.errors import CredentialsError
from clocksync.sanitize import visible

logger = logging.getLogger(__name__)


KEY_VARIABLE = "CLOCKIFY_API_KEY"
HIDDEN_MIN_LENGTH = 8  # a shorter "secret" would blank out ordinary words of a message


class Secret:
    """A string that does not print itself. Every value made a Secret is also cut out of whatever
    the CLI prints (``hide_secrets``)."""

    __slots__ = ("_value",)
    _held: ClassVar[set[str]] = set()

    def __init__(self, value: str) -> None:
        self._value = value
        if len(value) >= HIDDEN_MIN_LENGTH:
            Secret._held.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret(<hidden>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def hide_secrets(text: str) -> str:
    """``text`` with every key this process holds (as a Secret, as ``CLOCKIFY_API_KEY`` in its
    environment, or in the ``.env`` it would read) cut out: each run of 8 or more characters that
    is part of a key becomes ``***``. A message can quote a file that turned out to hold the key,
    cut to a few characters: the part is hidden too."""
    held = set(Secret._held)
    keys = [os.environ.get(KEY_VARIABLE, "")]
    if not dotenv_disabled():
        with contextlib.suppress(OSError):
            info = os.stat(".env")
            keys.append(_dotenv_key(os.path.abspath(".env"), info.st_mtime_ns, info.st_size))
    held.update(key.strip() for key in keys if len(key.strip()) >= HIDDEN_MIN_LENGTH)
    for secret in sorted(held, key=len, reverse=True):
        text = _cut_parts(text, secret)
    return text


@functools.lru_cache(maxsize=4)
def _dotenv_key(path: str, mtime_ns: int, size: int) -> str:
    """The key in a .env file, read once per version of the file ("" when none or unreadable)."""
    try:
        return read_dotenv(Path(path), warn=lambda _: None).get(KEY_VARIABLE, "")  # the caller warns, once
    except (CredentialsError, OSError, ValueError):
        return ""


def _cut_parts(text: str, secret: str) -> str:
    """``text`` with every run of ``HIDDEN_MIN_LENGTH`` or more characters that ``secret`` holds
    replaced by ``***`` (found window by window with ``str.find``: a report of megabytes costs
    milliseconds; two matches that touch are cut as one)."""
    spans: list[tuple[int, int]] = []
    for k in range(len(secret) - HIDDEN_MIN_LENGTH + 1):
        window = secret[k:k + HIDDEN_MIN_LENGTH]
        at = text.find(window)
        while at != -1:
            spans.append((at, at + HIDDEN_MIN_LENGTH))
            at = text.find(window, at + 1)
    if not spans:
        return text
    out: list[str] = []
    done = 0
    for begin, stop in sorted(spans):
        if begin > done or not out:
            out.append(text[done:begin])
            out.append("***")
        done = max(done, stop)
    out.append(text[done:])
    return "".join(out)


@dataclass(frozen=True)
class Connection:
    """Everything needed to build a client. ``api_key`` is a Secret."""

    api_key: Secret
    workspace_id: str
    base_url: str
    requests_per_second: float | Literal["auto"]
    allow_hosts: tuple[str, ...] = ()  # CLOCKSYNC_ALLOW_HOST of the process environment
    base_url_from: str = ""  # where the base URL came from, for connection errors


_KEY = re.compile(r"[\x21-\x7e]{1,512}")  # printable ASCII, no spaces: what an HTTP header can carry
_WORKSPACE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # Clockify ids are 24 hex digits; a path segment either way


def read_dotenv(path: Path, warn: Callable[[str], None] | None = None) -> dict[str, str]:
    """KEY=VALUE lines of a .env file, read by python-dotenv (``export`` prefixes, quotes and
    comments allowed; no ``$VAR`` expansion, so a key holding a ``$`` is read as written).

    Warns (through ``warn``, else the log) when other users of the machine can read the file:
    once, where the caller shows warnings. Raises CredentialsError for a file that cannot be read or
    is not UTF-8.
    """
    if not path.is_file():
        return {}
    mode = path.stat().st_mode
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        message = f"{path} is readable by other users of this machine; run: chmod 600 {path}"
        if warn:
            warn(message)
        else:
            logger.warning("read_dotenv: %s", message)
    try:
        values = dotenv_values(path, interpolate=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise CredentialsError(f"{path}: not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise CredentialsError(f"{path}: cannot read: {exc.strerror}") from None
    return {key: value for key, value in values.items() if value is not None}


def resolve_connection(
    config: Config,
    *,
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = Path(".env"),
    prompt: Callable[[str, bool], str] | None = None,
    warn: Callable[[str], None] | None = None,
) -> Connection:
    """Build the connection settings, prompting (hidden) only if ``prompt`` is given.

    ``dotenv_path`` None: no ``.env`` is read. Raises CredentialsError when the key or workspace is
    missing and cannot be asked for, is not what a key or workspace id can be, or when the base
    URL is one the key may not go to (``check_base_url``).
    """
    env = dict(os.environ if environ is None else environ)
    dotenv = read_dotenv(dotenv_path, warn) if dotenv_path is not None and not dotenv_disabled(env) else {}

    def lookup(name: str) -> str:
        return (env.get(name) or dotenv.get(name) or "").strip()

    def required(name: str, label: str, hidden: bool) -> str:
        value = lookup(name)
        if value:
            return value
        if prompt is None:
            raise CredentialsError(f"{name} is not set: export it, put it in .env, or run in a terminal to be asked")
        return prompt(label, hidden).strip()

    api_key = required("CLOCKIFY_API_KEY", "Clockify API key", True)
    workspace_id = required("CLOCKIFY_WORKSPACE_ID", "Clockify workspace id", False)
    if not api_key or not workspace_id:
        raise CredentialsError("an API key and a workspace id are both needed")
    if not _KEY.fullmatch(api_key):
        raise CredentialsError("CLOCKIFY_API_KEY is not an API key: up to 512 printable ASCII characters without "
                               "spaces are expected (a paste that took a line break or a quote?)")
    if not _WORKSPACE.fullmatch(workspace_id):
        raise CredentialsError(f"CLOCKIFY_WORKSPACE_ID is not a workspace id: {visible(workspace_id)[:80]!r} "
                               "(letters, digits, - and _ expected)")
    allow = allowed_hosts(env)
    base_url = check_base_url(lookup("CLOCKIFY_BASE_URL") or DEFAULT_BASE_URL, allow)
    if env.get("CLOCKIFY_BASE_URL", "").strip():
        origin = "CLOCKIFY_BASE_URL in the environment"
    elif dotenv.get("CLOCKIFY_BASE_URL", "").strip():
        origin = f"CLOCKIFY_BASE_URL in {dotenv_path}"
    else:
        origin = "the default: CLOCKIFY_BASE_URL is not set"
    rate_text = lookup("CLOCKSYNC_REQUESTS_PER_SECOND")
    rate: float | Literal["auto"] = config.api.requests_per_second
    if rate_text.lower() == "auto":
        rate = "auto"
    elif rate_text:
        try:
            rate = float(rate_text)
        except ValueError:
            raise CredentialsError(f"CLOCKSYNC_REQUESTS_PER_SECOND is not a number or auto: {rate_text!r}") from None
        if not 0 < rate <= 1000:
            raise CredentialsError("CLOCKSYNC_REQUESTS_PER_SECOND must be between 0 and 1000, or auto")
    return Connection(Secret(api_key), workspace_id, base_url, rate, allow, origin)


def find_api_key(*, environ: Mapping[str, str] | None = None, dotenv_path: Path | None = Path(".env")) -> Secret | None:
    """The API key from the environment or ``.env`` if there is one; never asks (``show`` uses it)."""
    env = os.environ if environ is None else environ
    value = env.get("CLOCKIFY_API_KEY", "").strip()
    if not value and dotenv_path is not None and not dotenv_disabled(env):
        value = read_dotenv(dotenv_path).get("CLOCKIFY_API_KEY", "").strip()
    return Secret(value) if value else None


def dotenv_disabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether ``CLOCKSYNC_NO_DOTENV`` (process environment) says not to read ``.env``."""
    value = (os.environ if environ is None else environ).get("CLOCKSYNC_NO_DOTENV", "")
    return value.strip().lower() in ("1", "true", "yes", "on")
