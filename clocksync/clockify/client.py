"""An asynchronous Clockify API client over httpx.

One instance talks to one workspace. Every request passes through a shared rate limiter (the
client-side rate limit) and one tenacity retry policy. The transport is injectable
(``transport=``), which is how the tests mount the emulator in-process and how respx pins odd
responses; nothing monkeypatches httpx.

Where the key goes (``check_base_url``): only to ``https://*.clockify.me``, to this machine
(loopback: the emulator), or to a host named in ``CLOCKSYNC_ALLOW_HOST`` in the process
environment; plain http only to loopback. Loopback traffic never goes through a proxy from the
environment (``HTTP_PROXY`` would receive the key in clear text); https through a proxy is a
tunnel, so the proxy never sees the key.

Retry rules (API-NOTES section 2):
- 429 is retried for every request: the server refused it, so nothing happened. It also pauses
  every other request of the client (``RateLimiter``), with or without ``Retry-After``. A
  ``Retry-After`` longer than ``RetryPolicy.max_retry_after`` is not waited out: the request fails
  at once, saying how long the server asked for. A wait of 10 s or more is logged as a warning.
- A connection that could not be made (nothing was sent) is retried for every request, within
  bounds that end it in seconds: refused on loopback (the emulator may be starting) for about
  two seconds, a timeout or other failure twice; a refused connection to another host, a host
  name that does not resolve, and a TLS failure (certificate verification, handshake) are not
  retried at all. The error names the URL and the likely cause.
- 5xx, timeouts and dropped connections after sending are retried only for reads and idempotent
  writes (PUT, PATCH with absolute values, DELETE). For a POST they raise ``OutcomeUnknown``:
  the caller re-reads state and decides, so a create is never duplicated.
- Every retry is logged at INFO (``-v``): what failed, the wait, the attempt.

Answers: a status outside 2xx/4xx/5xx (1xx, a 3xx redirect, which is never followed since the key
would go along) is an error naming the URL. A read whose answer is not JSON (an HTML page from a
portal or a proxy, an empty body) raises ``ApiShapeError`` naming the URL, as does an answer that
does not parse, naming the field, before anything is decided on it.

Paging follows ``Last-Page``, never page length: an endpoint may cap the page size below what
was asked without saying so. It is bounded: at most ``MAX_LIST_ITEMS`` items (far more than a
workspace holds), and a page that only repeats items already read while ``Last-Page`` says more
follow is an error, not an endless loop. Each page past the first is logged at INFO.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import ipaddress
import json
import logging
import math
import os
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import SplitResult, urlsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
)
from tenacity.wait import wait_base

from clocksync.clockify.backoff import Backoff
from clocksync.clockify.operations import is_write
from clocksync.clockify.ratelimit import RateLimiter
from clocksync.clockify.schemas import (
    WireCustomField,
    WireGroup,
    WireHoliday,
    WirePolicy,
    WireProfile,
    WireProject,
    WireUser,
    WireWorkspace,
)
from clocksync.errors import (
    ApiShapeError,
    ApiStatusError,
    AuthError,
    ClockifyError,
    CredentialsError,
    ForbiddenError,
    NotFoundError,
    OutcomeUnknown,
    RateLimitedError,
    TransportError,
    UnusableAnswer,
    redact,
)
from clocksync.plan.seal import SealKey
from clocksync.sanitize import visible

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.clockify.me/api/v1"
CLOCKIFY_DOMAIN = "clockify.me"
ALLOW_HOST_VARIABLE = "CLOCKSYNC_ALLOW_HOST"
MAX_PAGE_SIZE = 5000
POLICY_MAX_PAGE_SIZE = 200  # time-off policies declare page-size <= 200
# A list longer than this is an answer that does not end, not a workspace: the largest workspaces
# clocksync is built for hold tens of thousands of members (the bench goes to 50,000).
MAX_LIST_ITEMS = 250_000
# The largest answer read: a page of 5,000 members with every field is a few MB; a larger answer is
# a server that does not end, and is not read into memory.
MAX_ANSWER_BYTES = 64 * 1024 * 1024
LONG_WAIT = 10.0  # seconds: a wait this long is said at the default log level, not only at -v
AUTO = "auto"
CLOCKIFY_PAID_RATE = 50.0  # the documented limit of paid workspaces: where ``auto`` starts

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], data: Any, method: str, path: str, where: str = "") -> M:
    """Validate one wire object; an answer clocksync cannot read raises ApiShapeError naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"])
        field = ".".join(p for p in (where, loc) if p) or "(root)"
        raise ApiShapeError(method, path, None, None, f"cannot read field {field}: {first['msg']}") from None


@functools.cache
def _list_adapter(model: type[BaseModel]) -> TypeAdapter[list[Any]]:
    return TypeAdapter(list[model])  # type: ignore[valid-type]


def loads(content: bytes | str, method: str, path: str, url: str = "") -> Any:
    """JSON of an answer; anything that is not JSON (or nests too deep to read) is ApiShapeError."""
    try:
        return json.loads(content)
    except (ValueError, RecursionError):
        raise ApiShapeError(method, path, None, None, "the answer is not JSON clocksync can read", url=url) from None


def parse_page(model: type[M], content: bytes, method: str, path: str, url: str = "") -> list[M]:
    """A page of a list, validated straight from the answer's bytes (pydantic-core parses the JSON);
    when it does not validate, the slower per-item parse names the field."""
    try:
        return list(_list_adapter(model).validate_json(content))
    except ValidationError:
        return parse_list(model, loads(content, method, path, url), method, path)


def _item_id(item: Any) -> str:
    """A list item's id (a model's or a JSON object's), "" when it has none."""
    ident = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
    return ident if isinstance(ident, str) else ""


def parse_list(model: type[M], data: Any, method: str, path: str) -> list[M]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise ApiShapeError(method, path, None, None, "expected a JSON array")
    return [parse(model, item, method, path, f"[{i}]") for i, item in enumerate(data)]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first try; times are seconds; waits between
    tries follow the one ``Backoff`` policy.

    ``attempt_deadline`` bounds one attempt whole (connection, sending, the answer to its last
    byte): a server that answers one byte at a time is not waited on for ever, as the per-read
    timeout alone would. An attempt still unanswered after ``notice_after`` is said as a warning. ``connect_timeout`` bounds each attempt to open a connection; a refused connection to
    loopback is tried again every ``loopback_wait`` for ``loopback_window`` (the emulator may be
    starting); any other connection that cannot be made is tried ``connect_attempts`` times.
    """

    max_attempts: int = 8
    initial_wait: float = 0.5
    max_wait: float = 30.0
    max_retry_after: float = 120.0
    attempt_deadline: float = 120.0
    notice_after: float = LONG_WAIT
    connect_timeout: float = 5.0
    connect_attempts: int = 2
    loopback_wait: float = 0.25
    loopback_window: float = 2.0

    @property
    def backoff(self) -> Backoff:
        return Backoff(self.initial_wait, self.max_wait)


@dataclass
class RequestStats:
    """What a client sent and got back; read by benchmarks, reports and tests."""

    requests: int = 0
    writes: int = 0
    retries: int = 0
    rate_limited: int = 0


class _Retry(Exception):
    """Internal: a failed attempt that may be tried again; ``final`` is raised when tries run out.

    ``paused`` marks a 429: the rate limiter already pauses every request, so no wait of its own.
    ``attempts`` caps the tries for this kind of failure, ``wait`` fixes the wait before the next.
    """

    def __init__(self, final: ClockifyError, paused: bool = False, attempts: int | None = None,
                 wait: float | None = None, brief: str = "", loud: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.paused = paused
        self.loud = loud  # said without -v: the attempt waited long for nothing (a timeout)
        self.attempts = attempts
        self.wait = wait
        self.brief = brief or str(final)  # what a retry's log line says


def _failure(state: RetryCallState) -> _Retry | None:
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    return exc if isinstance(exc, _Retry) else None


class _WaitBackoff(wait_base):
    """The backoff policy; none after a 429 (the limiter's pause is the wait), the failure's own
    wait where it has one (a refused loopback connection)."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._backoff = policy.backoff.strategy()

    def __call__(self, retry_state: RetryCallState) -> float:
        failure = _failure(retry_state)
        if failure is not None and failure.paused:
            return 0.0
        if failure is not None and failure.wait is not None:
            return failure.wait
        return float(self._backoff(retry_state))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError, IndexError):
        return None
    try:
        return max(0.0, when.timestamp() - (time.time() if now is None else now))
    except (OverflowError, OSError, ValueError):
        return None


# ---------------------------------------------------------------------- where the key may go


def is_loopback(host: str) -> bool:
    """This machine: ``localhost`` or a loopback address (127.0.0.0/8, ::1)."""
    host = host.lower().rstrip(".")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_host(base_url: str) -> str:
    """The host (and port, when the URL names one) a base URL points at: what a plan records."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower().rstrip(".")
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{parts.port}" if parts.port else shown


def is_clockify_host(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == CLOCKIFY_DOMAIN or host.endswith("." + CLOCKIFY_DOMAIN)


def allowed_hosts(environ: dict[str, str] | None = None) -> tuple[str, ...]:
    """Hosts named in ``CLOCKSYNC_ALLOW_HOST`` (commas or spaces between them) in the process
    environment: never from ``.env`` or the config, which a checkout can bring along."""
    text = (os.environ if environ is None else environ).get(ALLOW_HOST_VARIABLE, "")
    return tuple(h.strip().lower().rstrip(".") for h in text.replace(",", " ").split() if h.strip())


def _read_url(name: str, url: str, shown: str, what: str) -> tuple[SplitResult, int | None, httpx.URL]:
    """``url`` (from the variable ``name``) as urllib and httpx read it, and its port; a URL either
    refuses, or one holding spaces or control characters, raises CredentialsError showing ``shown``."""
    if any(c.isspace() or not c.isprintable() for c in url):
        raise CredentialsError(f"{name} holds spaces or control characters: {shown!r}")
    try:
        parts = urlsplit(url)
        return parts, parts.port, httpx.URL(url)
    except (ValueError, httpx.InvalidURL) as exc:
        raise CredentialsError(f"{name} is not a usable {what} ({visible(str(exc))[:120]}): {shown!r}") from None


def check_base_url(base_url: str, allow: Collection[str] = ()) -> str:
    """Refuse to send the API key anywhere but Clockify, this machine or a host the environment allows.

    ``https://*.clockify.me`` and loopback (http or https) are accepted; any other host only over
    https and when named in ``allow`` (``CLOCKSYNC_ALLOW_HOST``). A URL with a user or password, a
    query or a fragment, or a port out of range is refused. Raises CredentialsError, before any
    connection; returns the URL without a trailing slash.
    """
    shown = visible(base_url)
    parts, port, parsed = _read_url("CLOCKIFY_BASE_URL", base_url, shown, "URL")
    sent_to = parsed.host  # where httpx would connect: both parsers must agree
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CredentialsError(f"CLOCKIFY_BASE_URL is not an http(s) URL: {shown!r}")
    if port == 0:
        raise CredentialsError(f"CLOCKIFY_BASE_URL has port 0, which no server listens on: {shown!r}")
    if parts.username is not None or parts.password is not None:
        raise CredentialsError("CLOCKIFY_BASE_URL holds a user name or password: remove it (the API key goes in "
                               "CLOCKIFY_API_KEY, and is sent as a header)")
    if parts.query or parts.fragment:
        raise CredentialsError(f"CLOCKIFY_BASE_URL has a query or fragment: {shown!r}")
    host = parts.hostname.lower().rstrip(".")
    if sent_to.lower().rstrip(".") != host:
        raise CredentialsError(f"CLOCKIFY_BASE_URL reads as two different hosts ({visible(host)!r}, "
                               f"{visible(sent_to)!r}): {shown!r}")
    loopback = is_loopback(host)
    if parts.scheme == "http" and not loopback:
        raise CredentialsError(
            f"CLOCKIFY_BASE_URL uses plain http to {visible(host)}: the API key would travel "
            "unencrypted. Use https (plain http is allowed for loopback only)."
        )
    if not loopback and not is_clockify_host(host) and host not in {a.lower().rstrip(".") for a in allow}:
        raise CredentialsError(
            f"CLOCKIFY_BASE_URL points at {visible(host)}, which is neither a Clockify host "
            f"(https://*.{CLOCKIFY_DOMAIN}) nor this machine: the API key is not sent there. If the host is "
            f"yours (a gateway you run), name it in {ALLOW_HOST_VARIABLE} in the environment "
            f"(not in .env or the config): {ALLOW_HOST_VARIABLE}={visible(host)}"
        )
    return base_url.rstrip("/")


PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")  # what https traffic goes through


def _without_user(url: str) -> str:
    """``url`` as shown in a message: a proxy URL may hold a user and password, which are cut."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    authority, slash, tail = rest.partition("/")
    authority = authority.rpartition("@")[2]
    return visible(f"{scheme}{sep}{authority}{slash}{tail}")[:200]


def check_proxy_url(name: str, value: str) -> None:
    """Refuse a proxy URL from the environment that no connection can be made through (a port out of
    range, an unclosed IPv6 bracket, an IPv4 address that is none), as httpx would only find out
    when connecting, with a traceback. Raises CredentialsError naming the variable."""
    url = value.strip() if "://" in value else f"http://{value.strip()}"  # as httpx reads it
    shown = _without_user(url)
    parts, port, _ = _read_url(name, url, shown, "proxy URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise CredentialsError(f"{name} names no proxy host: {shown!r}")
    if port == 0:
        raise CredentialsError(f"{name} has port 0, which no proxy listens on: {shown!r}")
    if ":" in host or host.replace(".", "").isdigit():
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise CredentialsError(f"{name} names {visible(host)!r}, which is not an IP address: {shown!r}") from None


def environment_proxy(base_url: str, environ: dict[str, str] | None = None) -> str:
    """The variable naming the proxy that requests to ``base_url`` go through ("" when none: loopback,
    plain http, a host ``NO_PROXY`` names). Every proxy variable https traffic may use is checked
    first (``check_proxy_url``)."""
    env = os.environ if environ is None else environ
    for name in PROXY_VARIABLES:
        if env.get(name, "").strip():
            check_proxy_url(name, env[name])
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    skipped = [h.strip().lower().lstrip(".") for h in (env.get("no_proxy") or env.get("NO_PROXY") or "").split(",")]
    if is_loopback(host) or any(h == "*" or host == h or host.endswith("." + h) for h in skipped if h):
        return ""
    for pair in (("https_proxy", "HTTPS_PROXY"), ("all_proxy", "ALL_PROXY")):
        name = next((n for n in pair if n in env), "")  # the lower-case name wins, as urllib reads them
        if name and env[name].strip():
            return name
    return ""


# ---------------------------------------------------------------------- what a failed connection means


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its causes and contexts, and the members of exception groups among them."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack += [current.__cause__, current.__context__]
        if isinstance(current, BaseExceptionGroup):
            stack += list(current.exceptions)


@dataclass(frozen=True)
class _ConnectFailure:
    reason: str
    heals: bool  # whether trying again could help
    refused: bool = False


def _connect_failure(exc: httpx.HTTPError, loopback: bool, proxy: str = "") -> _ConnectFailure:
    """Why a connection could not be made, and whether it can heal. ``proxy``: the variable naming
    the proxy the connection goes to first (a name that does not resolve is the proxy's)."""
    chain = list(_chain(exc))
    if proxy and any(isinstance(e, socket.gaierror) for e in chain):
        return _ConnectFailure(f"the proxy's host name ({proxy}) does not resolve (DNS)", heals=False)
    if proxy and any(isinstance(e, ConnectionRefusedError) for e in chain):
        return _ConnectFailure(f"the proxy ({proxy}) refused the connection", heals=False, refused=True)
    verify = next((e for e in chain if isinstance(e, ssl.SSLCertVerificationError)), None)
    if verify is not None:
        detail = getattr(verify, "verify_message", None) or "certificate verify failed"
        return _ConnectFailure(f"TLS certificate verification failed ({detail}); clocksync never turns "
                               "verification off", heals=False)
    tls = next((e for e in chain if isinstance(e, ssl.SSLError)), None)
    if tls is not None:
        detail = getattr(tls, "reason", None) or visible(str(tls))[:120]
        return _ConnectFailure(f"TLS handshake failed ({detail})", heals=False)
    if any(isinstance(e, socket.gaierror) for e in chain):
        return _ConnectFailure("the host name does not resolve (DNS)", heals=False)
    if isinstance(exc, httpx.ProxyError):
        return _ConnectFailure(f"the proxy refused to connect ({visible(str(exc))[:120]})", heals=True)
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return _ConnectFailure("connection refused", heals=loopback, refused=True)
    if isinstance(exc, httpx.TimeoutException):
        return _ConnectFailure("no answer to the connection attempt (timeout)", heals=True)
    detail = next((str(e) for e in reversed(chain) if str(e)), type(exc).__name__)
    return _ConnectFailure(f"cannot connect ({visible(detail)[:120]})", heals=True)


def _dropped(exc: httpx.RemoteProtocolError) -> bool:
    """Whether a protocol error is a connection lost before the answer was whole (worth trying
    again), rather than an answer that is not HTTP."""
    text = str(exc).lower()
    return any(word in text for word in ("disconnected", "closed", "incomplete"))


def _origin(url: str) -> str:
    """The scheme, host and port of a URL a server names (a redirect's ``Location``), "" when it
    names none: its path and query are the server's text and may carry anything, the key included."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:
        return ""
    if not host:
        return "a path on the same server"
    shown = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown}" + (f":{port}" if port else "") + ("/..." if parts.path.strip("/") or parts.query else "")


class ClockifyClient:
    """Typed calls for the parts of the Clockify API a user sync needs.

    Use as ``async with ClockifyClient(...) as client:``. Raises subclasses of ``ClockifyError``,
    and CredentialsError for a base URL the key may not go to. ``allow_hosts``: hosts besides
    Clockify and loopback the key may go to (default: ``CLOCKSYNC_ALLOW_HOST`` of the process
    environment). ``base_url_from`` says where the base URL came from, for connection errors.
    """

    def __init__(
        self,
        api_key: str,
        workspace_id: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        requests_per_second: float | Literal["auto"] = "auto",
        concurrency: int = 16,
        page_size: int = 1000,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        allow_hosts: Collection[str] | None = None,
        base_url_from: str = "",
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self._api_key = api_key
        self._timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self.workspace_id = workspace_id
        self.base_url = check_base_url(base_url, allowed_hosts() if allow_hosts is None else allow_hosts)
        self.loopback = is_loopback(urlsplit(self.base_url).hostname or "")
        self.api_host = api_host(self.base_url)
        self.base_url_from = base_url_from
        self.page_size = max(1, min(page_size, MAX_PAGE_SIZE))
        self.retry = retry or RetryPolicy()
        adaptive = requests_per_second == AUTO
        rate = CLOCKIFY_PAID_RATE if adaptive else float(requests_per_second)
        self.limiter = RateLimiter(rate, adaptive=adaptive, sleep=sleep)
        self.concurrency = asyncio.Semaphore(max(1, concurrency))
        self.stats = RequestStats()
        # Called with (method, path) as a write leaves the client: after the rate limiter and the
        # connection limit let it through, right before it is sent. What it raises, the request
        # raises, unsent (an apply that is stopping sends nothing more: apply/stop.py).
        self.before_write: Callable[[str, str], None] | None = None
        self._sleep = sleep
        # The proxy https traffic goes through, checked before any connection (loopback uses none).
        self.proxy_variable = "" if self.loopback else environment_proxy(self.base_url)
        try:
            self._http = self._http_client(api_key, timeout, transport, concurrency)
        except (ImportError, ValueError) as exc:  # a proxy in the environment httpx cannot use
            raise CredentialsError(f"the proxy set in the environment (HTTPS_PROXY, ALL_PROXY) cannot be used: "
                                   f"{visible(str(exc))[:200]}") from None
        except OSError as exc:  # ssl.SSLError included: certificates the environment names
            raise CredentialsError(f"the certificates named in the environment (SSL_CERT_FILE, SSL_CERT_DIR) cannot be "
                                   f"loaded: {visible(str(exc) or type(exc).__name__)[:200]}") from None

    def _http_client(self, api_key: str, timeout: float, transport: httpx.AsyncBaseTransport | None,
                     concurrency: int) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.base_url,
            headers={"X-Api-Key": api_key, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, self.retry.connect_timeout)),
            transport=transport,
            verify=True,
            follow_redirects=False,  # a redirect would carry the key to wherever it points
            # Loopback is plain http: a proxy from the environment (HTTP_PROXY, ALL_PROXY) would
            # read the key. Elsewhere the traffic is https, which a proxy only tunnels.
            trust_env=not self.loopback,
            limits=httpx.Limits(max_connections=max(4, concurrency)),
        )

    def __repr__(self) -> str:
        return f"ClockifyClient(base_url={self.base_url!r}, workspace_id={self.workspace_id!r}, api_key=<hidden>)"

    async def __aenter__(self) -> ClockifyClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def seal_key(self) -> SealKey:
        """The key that seals this client's plans (derived from the API key and workspace; not the key)."""
        return SealKey.derive(self._api_key, self.workspace_id)

    def url(self, path: str) -> str:
        """The whole URL of ``path`` (for messages; it never holds the key)."""
        return self.base_url + path

    # ------------------------------------------------------------------ transport and retries

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request with rate limiting and retries; return the successful (2xx) response."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "PATCH", "DELETE")
        retrying = AsyncRetrying(
            stop=self._stop,
            wait=_WaitBackoff(self.retry),
            retry=retry_if_exception_type(_Retry),
            before_sleep=self._say_retry,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    if attempt.retry_state.attempt_number > 1:
                        self.stats.retries += 1
                    return await self._attempt(method, path, params, json, idempotent)
        except _Retry as exhausted:
            raise exhausted.final from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _stop(self, state: RetryCallState) -> bool:
        return state.attempt_number >= self._limit(_failure(state))

    def _limit(self, failure: _Retry | None) -> int:
        """Attempts allowed: the failure's own bound (a connection that cannot be made), else the policy's."""
        if failure is not None and failure.attempts is not None:
            return failure.attempts
        return self.retry.max_attempts

    def _say_retry(self, state: RetryCallState) -> None:
        failure = _failure(state)
        if failure is None:
            return
        wait = state.next_action.sleep if state.next_action is not None else 0.0
        if failure.paused:
            return  # the limiter says its pauses
        logger.log(logging.WARNING if failure.loud else logging.INFO,
                   "retry: %s; trying again in %.2f s (attempt %d of at most %d)", failure.brief, wait,
                   state.attempt_number + 1, self._limit(failure))

    def _transport_error(self, method: str, path: str, exc: httpx.HTTPError, idempotent: bool) -> Exception:
        """What an httpx error means: a connection that was not made (nothing sent: retried within its
        bounds, or not at all), or one lost after sending (retried only when safe)."""
        url = self.url(path)
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.ProxyError)):
            failure = _connect_failure(exc, self.loopback, self.proxy_variable)
            error = TransportError(method, path, message=f"cannot connect: {failure.reason}{self._hint(failure)}",
                                   url=url)
            if not failure.heals:
                return error
            brief = f"{method} {url}: cannot connect: {failure.reason}"
            if self.loopback and failure.refused:
                attempts = 1 + int(self.retry.loopback_window / max(self.retry.loopback_wait, 1e-3))
                return _Retry(error, attempts=attempts, wait=self.retry.loopback_wait, brief=brief)
            return _Retry(error, attempts=self.retry.connect_attempts, brief=brief)
        if isinstance(exc, httpx.PoolTimeout):
            return _Retry(TransportError(method, path, message="no free connection in time (PoolTimeout)", url=url))
        if isinstance(exc, httpx.RemoteProtocolError) and not _dropped(exc):
            # Bytes that are not an HTTP answer (a bad status line or header, a 101 switch): the same
            # server says the same again, so it is not retried, and a write so answered has failed.
            text = str(exc)
            if "location header" in text.lower():  # httpx reads a redirect's target even when not following it
                return UnusableAnswer(method, path, None, None,
                                      "a redirect to a Location that is not a URL: clocksync does not follow "
                                      "redirects (the API key would go along); check CLOCKIFY_BASE_URL", url=url)
            return UnusableAnswer(method, path, None, None,
                                  f"the answer is not HTTP clocksync can read "
                                  f"({visible(redact(text, self._api_key))[:120]}); is CLOCKIFY_BASE_URL the API's URL?",
                                  url=url)
        if isinstance(exc, (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError, httpx.DecodingError)):
            if idempotent:
                timeout = isinstance(exc, httpx.TimeoutException)
                error = TransportError(method, path, message=type(exc).__name__, url=url)
                said = f"{method} {url}: no answer for {self._timeout:g} s ({type(exc).__name__})" if timeout else ""
                return _Retry(error, brief=said, loud=timeout)
            return OutcomeUnknown(method, path, message=f"{type(exc).__name__} after the request was sent", url=url)
        # Anything else (an unsupported protocol, a local protocol error) will not heal.
        return TransportError(method, path, message=f"{type(exc).__name__}: {visible(str(exc))[:200]}", url=url)

    async def _exchange(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> httpx.Response:
        """Send one request and read its answer whole, at most ``max_answer_bytes`` of it (decoded):
        a larger answer raises ApiShapeError naming the URL, before it fills the memory."""
        request = self._http.build_request(method, path, params=params, json=body)
        response = await self._http.send(request, stream=True)
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and len(declared) < 20 and int(declared) > self.max_answer_bytes:
                raise self._too_large(method, path, f"is {int(declared):,} bytes (Content-Length)")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_answer_bytes:
                    raise self._too_large(method, path, f"goes on past {self.max_answer_bytes:,} bytes")
                chunks.append(chunk)
        finally:
            await response.aclose()
        # The body is read and decoded: the headers that described its transfer go.
        kept = [(k, v) for k, v in response.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        return httpx.Response(response.status_code, headers=kept, content=b"".join(chunks), request=request)

    def _too_large(self, method: str, path: str, how: str) -> ApiShapeError:
        return ApiShapeError(method, path, None, None,
                             f"the answer {how}: more than the {self.max_answer_bytes:,} bytes of any answer "
                             "clocksync reads (a page of 5,000 members is a few MB); it was not read",
                             url=self.url(path))

    def _overdue(self, method: str, path: str, idempotent: bool) -> ClockifyError:
        """A request whose answer did not end within the attempt deadline (a server sending one byte
        at a time, or none): not tried again, since the next attempt would wait as long."""
        url = self.url(path)
        what = (f"no complete answer within {self.retry.attempt_deadline:g} s, the limit of one request "
                "(the server answers too slowly, or never ends its answer)")
        if idempotent:
            return TransportError(method, path, message=what, url=url)
        return OutcomeUnknown(method, path, message=f"{what}, after the request was sent", url=url)

    def _hint(self, failure: _ConnectFailure) -> str:
        """The likely cause of a connection that cannot be made, for a person to act on."""
        origin = f" (this URL is {self.base_url_from})" if self.base_url_from else ""
        if self.proxy_variable and self.proxy_variable in failure.reason:
            return f"; check {self.proxy_variable} in the environment (the proxy clocksync connects through)"
        if self.loopback and failure.refused:
            return ("; is the emulator running? Start it with `clocksync emulator` and export the "
                    f"CLOCKIFY_BASE_URL it prints{origin}")
        if self.base_url == DEFAULT_BASE_URL:
            return (f"{origin}; to use the emulator, export the CLOCKIFY_BASE_URL that `clocksync emulator` "
                    "prints")
        return f"{origin}; check CLOCKIFY_BASE_URL and the network"

    async def _attempt(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, idempotent: bool
    ) -> httpx.Response:
        await self.limiter.acquire()
        async with self.concurrency:
            if self.before_write is not None and is_write(method, path):
                self.before_write(method, path)
            # Counted here, once a connection is free: a request still waiting for one when a run is
            # stopped was never sent, and the run's figures say what was.
            self.stats.requests += 1
            if is_write(method, path):
                self.stats.writes += 1
            logger.debug("request: %s %s", method, path)
            notice = asyncio.get_running_loop().call_later(
                self.retry.notice_after, functools.partial(
                    logger.warning, "waiting: %s %s has had no complete answer for %g s (clocksync gives up at %g s)",
                    method, self.url(path), self.retry.notice_after, self.retry.attempt_deadline))
            try:
                async with asyncio.timeout(self.retry.attempt_deadline):
                    response = await self._exchange(method, path, params, body)
            except httpx.HTTPError as exc:
                raise self._transport_error(method, path, exc, idempotent) from None
            except TimeoutError:
                raise self._overdue(method, path, idempotent) from None
            except httpx.InvalidURL as exc:  # an id from an answer that no URL can hold
                raise TransportError(method, path, message=f"cannot build the request URL: {visible(str(exc))[:120]}",
                                     url=self.url(visible(path))) from None
            finally:
                notice.cancel()
        status = response.status_code
        if status != 429:
            self.limiter.succeeded()
        if 200 <= status < 300:
            return response
        url = self.url(path)
        if status < 200 or 300 <= status < 400:
            raise UnusableAnswer(method, path, status, None, self._unexpected(response), url=url)
        code, message = self._error_body(response)
        if status == 429:
            self.stats.rate_limited += 1
            raise self._rate_limited(method, path, code, message, response)
        if status >= 500:
            error = ApiStatusError(method, path, status, code, message)
            if idempotent:
                raise _Retry(error)
            raise OutcomeUnknown(method, path, status, code, message or "server error after sending")
        error_type: type[ApiStatusError] = {
            401: AuthError,
            403: ForbiddenError,
            404: NotFoundError,
        }.get(status, ApiStatusError)
        raise error_type(method, path, status, code, message)

    def _unexpected(self, response: httpx.Response) -> str:
        if 300 <= response.status_code < 400:
            where = _origin(response.headers.get("Location") or "")
            target = f" to {visible(redact(where, self._api_key))[:200]}" if where else ""
            return (f"a redirect{target}: clocksync does not follow redirects (the API key would go along); "
                    "check CLOCKIFY_BASE_URL")
        return "an informational answer where a final one was expected"

    def _rate_limited(self, method: str, path: str, code: int | None, message: str,
                      response: httpx.Response) -> Exception:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        error = RateLimitedError(method, path, 429, code, message or "too many requests")
        if retry_after is not None and retry_after > self.retry.max_retry_after:
            # Not waited out: hours of silence help no one; the server said how long to wait.
            return RateLimitedError(method, path, 429, code,
                                    f"Clockify asks to wait {retry_after:,.0f} s (Retry-After), more than the "
                                    f"{self.retry.max_retry_after:.0f} s clocksync waits; try again later",
                                    url=self.url(path))
        pause = self.limiter.rate_limited(retry_after, backoff=self.retry.backoff,
                                          max_retry_after=self.retry.max_retry_after)
        level = logging.WARNING if pause >= LONG_WAIT else logging.INFO
        logger.log(level, "rate limited: %s %s answered 429%s; every request waits %.1f s", method, path,
                   f" with Retry-After {retry_after:g} s" if retry_after is not None else "", pause)
        return _Retry(error, paused=True)

    def _error_body(self, response: httpx.Response) -> tuple[int | None, str]:
        try:
            data = json.loads(response.content) if response.content else None
        except (ValueError, RecursionError):
            data = None
        # The server's text, scrubbed of the key and made one visible line (it ends up in messages and logs).
        if isinstance(data, dict):
            code = data.get("code")
            message = str(data.get("message") or "")
            return (code if isinstance(code, int) else None), visible(redact(message, self._api_key)[:500])
        return None, visible(redact(response.text, self._api_key)[:200])

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return self._decode(response, method, path)

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        """The JSON of a 2xx answer. A write may answer with no body (None); a read must answer JSON."""
        if response.status_code == 204 or (not response.content and method != "GET"):
            return None
        try:
            return loads(response.content, method, path)
        except ApiShapeError:
            kind = response.headers.get("Content-Type", "no content type")
            what = "an empty answer" if not response.content else f"an answer that is not JSON ({visible(kind)[:60]})"
            raise ApiShapeError(method, path, response.status_code, None,
                                f"{what} where JSON was expected; is CLOCKIFY_BASE_URL the API's URL?",
                                url=self.url(path)) from None

    async def paginate(
        self, path: str, params: dict[str, Any] | None = None, page_size: int | None = None,
        model: type[M] | None = None,
    ) -> list[Any]:
        """Every item of a paginated list: instances of ``model`` when given, else JSON values.

        With a ``Last-Page`` header, reads until it says true, whatever the page length (an
        endpoint may cap the page size silently). Without it, reads until an empty page. Stops
        when a page repeats the previous one, which is what an endpoint that ignores paging does.
        Raises ApiShapeError for a list that does not end: more than ``MAX_LIST_ITEMS`` items, or
        a page of items already read while ``Last-Page`` says more follow.
        """
        size = page_size or self.page_size
        items: list[Any] = []
        seen: set[str] = set()
        previous = b""
        for page in range(1, MAX_LIST_ITEMS // size + 2):
            if page > 1:
                logger.info("paginate: GET %s page %d (%d items so far)", path, page, len(items))
            query = dict(params or {}, page=page, **{"page-size": size})
            response = await self.request("GET", path, params=query)
            content = response.content
            if not content:
                self._decode(response, "GET", path)  # raises: a read must answer JSON
            if model is not None:
                batch: list[Any] = parse_page(model, content, "GET", path, self.url(path))
            else:
                data = self._decode(response, "GET", path)
                if data is not None and not isinstance(data, list):
                    raise ApiShapeError("GET", path, response.status_code, None, "expected a JSON array")
                batch = data or []
            if not batch or content == previous:
                return items
            ids = {_item_id(item) for item in batch} - {""}
            last_page = (response.headers.get("Last-Page") or "").strip().lower()
            if ids and ids <= seen and last_page == "false":
                raise ApiShapeError("GET", path, None, None,
                                    f"page {page} repeats items already read while Last-Page says more follow: the "
                                    "list does not end, and clocksync does not plan from part of a list",
                                    url=self.url(path))
            seen |= ids
            items.extend(batch)
            if last_page == "true":
                return items
            previous = content
        raise ApiShapeError("GET", path, None, None,
                            f"more than {MAX_LIST_ITEMS:,} items without Last-Page: true: the list does not end",
                            url=self.url(path))

    @property
    def _ws(self) -> str:
        return f"/workspaces/{self.workspace_id}"

    # ------------------------------------------------------------------ identity and workspace

    async def get_current_user(self) -> WireUser:
        return parse(WireUser, await self._json("GET", "/user"), "GET", "/user")

    async def list_workspaces(self, role: str | None = None) -> list[WireWorkspace]:
        params = {"roles": role} if role else None
        data = await self._json("GET", "/workspaces", params=params)  # not paginated
        return parse_list(WireWorkspace, data, "GET", "/workspaces")

    async def get_workspace(self) -> WireWorkspace:
        return parse(WireWorkspace, await self._json("GET", self._ws), "GET", self._ws)

    # ------------------------------------------------------------------ users

    async def list_users(self, *, status: str = "ALL", include_roles: bool = True,
                         account_status: str | None = None) -> list[WireUser]:
        """Members, in every membership status. Without ``account_status`` the API lists accounts that
        are ACTIVE, PENDING_EMAIL_VERIFICATION or NOT_REGISTERED (the spec), so limited members are
        not in the answer; ``account_status="LIMITED"`` lists only them (the spec's own example value:
        one value, so the unverified form of a list of them is never relied on)."""
        params = {
            "status": status,
            "memberships": "WORKSPACE",
            "include-roles": "true" if include_roles else "false",
        }
        if account_status is not None:
            params["account-statuses"] = account_status
        return await self.paginate(f"{self._ws}/users", params, model=WireUser)

    async def find_owners(self) -> list[WireUser]:
        """The workspace's owner(s), by the documented role filter rather than the undocumented roles array."""
        path = f"{self._ws}/users/info"
        body = {"roles": ["OWNER"], "page": 1, "pageSize": 50, "status": "ALL"}
        return parse_list(WireUser, await self._json("POST", path, json=body, idempotent=True), "POST", path)

    async def add_user(self, email: str, *, send_email: bool = True) -> None:
        """Invite ``email``. The answer is the workspace, not the user (API-NOTES 3.4)."""
        await self._json(
            "POST", f"{self._ws}/users",
            params={"send-email": "true" if send_email else "false"}, json={"email": email},
        )

    async def set_user_status(self, user_id: str, status: str) -> None:
        await self._json("PUT", f"{self._ws}/users/{user_id}", json={"status": status})

    async def set_member_rate(self, user_id: str, rate: str, amount: int, *,
                              since: str | None = None) -> None:
        """Set a member's billable (``hourly-rate``) or cost rate (``cost-rate``): ``amount`` in
        hundredths, ``since`` the time it applies from (yyyy-MM-ddThh:mm:ssZ). setHourlyRateForUser,
        setCostRateForUser; the answer is the workspace (not read)."""
        body: dict[str, Any] = {"amount": amount}
        if since is not None:
            body["since"] = since
        await self._json("PUT", f"{self._ws}/users/{user_id}/{rate}", json=body)

    # ------------------------------------------------------------------ roles

    @staticmethod
    def _role_body(role: str, entity_id: str, via_group: bool) -> dict[str, str]:
        body = {"role": role, "entityId": entity_id}
        if via_group:
            body["sourceType"] = "USER_GROUP"
        return body

    async def grant_role(self, user_id: str, role: str, entity_id: str, *, via_group: bool = False) -> None:
        await self._json("POST", f"{self._ws}/users/{user_id}/roles",
                         json=self._role_body(role, entity_id, via_group))

    async def revoke_role(self, user_id: str, role: str, entity_id: str, *, via_group: bool = False) -> None:
        await self._json("DELETE", f"{self._ws}/users/{user_id}/roles",
                         json=self._role_body(role, entity_id, via_group))

    # ------------------------------------------------------------------ member profiles

    async def get_member_profile(self, user_id: str) -> WireProfile:
        path = f"{self._ws}/member-profile/{user_id}"
        return parse(WireProfile, await self._json("GET", path), "GET", path)

    async def update_member_profile(
        self,
        user_id: str,
        *,
        work_capacity: str | None,
        custom_fields: dict[str, Any],
        working_days: list[str] | None = None,
        week_start: str | None = None,
    ) -> WireProfile | None:
        """PATCH a profile with complete values: the capacity, working days and week start, and
        every USER custom-field value the user is to have (not only the changed ones).

        Returns the profile the API answers with (None if it sent no body).
        """
        body: dict[str, Any] = {
            "userCustomFields": [{"customFieldId": fid, "value": value} for fid, value in sorted(custom_fields.items())],
        }
        if work_capacity is not None:
            body["workCapacity"] = work_capacity
        if working_days is not None:
            body["workingDays"] = working_days
        if week_start is not None:
            body["weekStart"] = week_start
        path = f"{self._ws}/member-profile/{user_id}"
        data = await self._json("PATCH", path, json=body)
        return None if data is None else parse(WireProfile, data, "PATCH", path)

    # ------------------------------------------------------------------ custom fields

    async def list_custom_fields(self, entity_type: str = "USER") -> list[WireCustomField]:
        path = f"{self._ws}/custom-fields"
        data = await self._json("GET", path, params={"entity-type": entity_type})  # not paginated
        fields = parse_list(WireCustomField, data, "GET", path)
        return [f for f in fields if (f.entity_type or entity_type) == entity_type]

    async def create_custom_field(self, name: str, *, type: str = "TXT", status: str = "VISIBLE") -> WireCustomField:
        path = f"{self._ws}/custom-fields"
        body = {"name": name, "type": type, "entityType": "USER", "status": status}
        return parse(WireCustomField, await self._json("POST", path, json=body), "POST", path)

    # ------------------------------------------------------------------ groups

    async def list_groups(self, *, include_team_managers: bool = True) -> list[WireGroup]:
        params = {"includeTeamManagers": "true" if include_team_managers else "false"}
        return await self.paginate(f"{self._ws}/user-groups", params, model=WireGroup)

    async def create_group(self, name: str) -> WireGroup:
        path = f"{self._ws}/user-groups"
        return parse(WireGroup, await self._json("POST", path, json={"name": name}), "POST", path)

    async def delete_group(self, group_id: str) -> None:
        await self._json("DELETE", f"{self._ws}/user-groups/{group_id}")

    async def add_group_member(self, group_id: str, user_id: str) -> None:
        await self._json("POST", f"{self._ws}/user-groups/{group_id}/users", json={"userId": user_id})

    async def remove_group_member(self, group_id: str, user_id: str) -> None:
        await self._json("DELETE", f"{self._ws}/user-groups/{group_id}/users/{user_id}")

    # ------------------------------------------------------------------ projects

    async def list_projects(self) -> list[WireProject]:
        """Every project, archived ones included (getProjects; one request per page)."""
        return await self.paginate(f"{self._ws}/projects", model=WireProject)

    # ------------------------------------------------------------------ protected-group sources

    async def list_holidays(self) -> list[WireHoliday]:
        path = f"{self._ws}/holidays"
        return parse_list(WireHoliday, await self._json("GET", path), "GET", path)  # not paginated: call once

    async def list_time_off_policies(self) -> list[WirePolicy]:
        return await self.paginate(f"{self._ws}/time-off/policies", {"status": "ALL"}, POLICY_MAX_PAGE_SIZE,
                                   model=WirePolicy)
