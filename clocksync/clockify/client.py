"""An asynchronous Clockify API client over httpx.

One instance talks to one workspace. Every request passes through a shared rate limiter (the
client-side rate limit) and one tenacity retry policy. The transport is injectable
(``transport=``), which is how the tests mount the emulator in-process and how respx pins odd
responses; nothing monkeypatches httpx.

Retry rules (API-NOTES section 2):
- 429 is retried for every request: the server refused it, so nothing happened. It also pauses
  every other request of the client (``RateLimiter``), with or without ``Retry-After``.
- A connection that could not be made is retried for every request: nothing was sent.
- 5xx, timeouts and dropped connections after sending are retried only for reads and idempotent
  writes (PUT, PATCH with absolute values, DELETE). For a POST they raise ``OutcomeUnknown``:
  the caller re-reads state and decides, so a create is never duplicated.

Paging follows ``Last-Page``, never page length: an endpoint may cap the page size below what
was asked without saying so. An answer that does not parse raises ``ApiShapeError`` naming the
field, before anything is decided on it.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

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
    redact,
)

logger = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.clockify.me/api/v1"
MAX_PAGE_SIZE = 5000
POLICY_MAX_PAGE_SIZE = 200  # time-off policies declare page-size <= 200
MAX_PAGES = 100_000  # a list that never says Last-Page: true nor runs dry is a broken answer
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
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


def parse_page(model: type[M], content: bytes, method: str, path: str) -> list[M]:
    """A page of a list, validated straight from the answer's bytes (pydantic-core parses the JSON);
    when it does not validate, the slower per-item parse names the field."""
    if not content:
        return []
    try:
        return list(_list_adapter(model).validate_json(content))
    except ValidationError:
        try:
            data = json.loads(content)
        except ValueError:
            raise ApiShapeError(method, path, None, None, "the answer is not JSON") from None
        return parse_list(model, data, method, path)


def parse_list(model: type[M], data: Any, method: str, path: str) -> list[M]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise ApiShapeError(method, path, None, None, "expected a JSON array")
    return [parse(model, item, method, path, f"[{i}]") for i, item in enumerate(data)]


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. ``max_attempts`` counts the first try."""

    max_attempts: int = 8
    initial_wait: float = 0.5
    max_wait: float = 30.0
    max_retry_after: float = 120.0


@dataclass
class RequestStats:
    """What a client sent and got back; read by benchmarks and reports."""

    requests: int = 0
    reads: int = 0
    writes: int = 0
    retries: int = 0
    rate_limited: int = 0
    server_errors: int = 0


class _Retry(Exception):
    """Internal: a failed attempt that may be tried again; ``final`` is raised when tries run out.

    ``paused`` marks a 429: the rate limiter already pauses every request, so no wait of its own.
    """

    def __init__(self, final: ClockifyError, paused: bool = False) -> None:
        super().__init__(str(final))
        self.final = final
        self.paused = paused


class _WaitBackoff(wait_base):
    """Exponential backoff with jitter; none after a 429 (the limiter's pause is the wait)."""

    def __init__(self, policy: RetryPolicy) -> None:
        # 0.5 s, 1 s, 2 s, ... capped, plus up to one initial wait of jitter so clients spread out.
        self._backoff = wait_exponential(multiplier=policy.initial_wait, max=policy.max_wait) + wait_random(
            0, policy.initial_wait
        )

    def __call__(self, retry_state: Any) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, _Retry) and exc.paused:
            return 0.0
        return float(self._backoff(retry_state))


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), else None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def check_base_url(base_url: str) -> str:
    """Refuse to send an API key in clear text to anything but this machine."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CredentialsError(f"CLOCKIFY_BASE_URL is not an http(s) URL: {base_url!r}")
    if parts.scheme == "http" and (parts.hostname or "") not in _LOOPBACK:
        raise CredentialsError(
            f"CLOCKIFY_BASE_URL uses plain http to {parts.hostname}: the API key would travel "
            "unencrypted. Use https (plain http is allowed for loopback only)."
        )
    return base_url.rstrip("/")


class ClockifyClient:
    """Typed calls for the parts of the Clockify API a user sync needs.

    Use as ``async with ClockifyClient(...) as client:``. Raises subclasses of ``ClockifyError``.
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
    ) -> None:
        self._api_key = api_key
        self.workspace_id = workspace_id
        self.base_url = check_base_url(base_url)
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
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"X-Api-Key": api_key, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
            verify=True,
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
        """Send one request with rate limiting and retries; return the successful response."""
        method = method.upper()
        if idempotent is None:
            idempotent = method in ("GET", "PUT", "PATCH", "DELETE")
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.retry.max_attempts),
            wait=_WaitBackoff(self.retry),
            retry=retry_if_exception_type(_Retry),
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

    async def _attempt(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any, idempotent: bool
    ) -> httpx.Response:
        await self.limiter.acquire()
        self.stats.requests += 1
        if is_write(method, path):
            self.stats.writes += 1
        else:
            self.stats.reads += 1
        logger.debug("request: %s %s", method, path)
        async with self.concurrency:
            if self.before_write is not None and is_write(method, path):
                self.before_write(method, path)
            try:
                response = await self._http.request(method, path, params=params, json=body)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                raise _Retry(TransportError(method, path, message=type(exc).__name__)) from None
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                if idempotent:
                    raise _Retry(TransportError(method, path, message=type(exc).__name__)) from None
                raise OutcomeUnknown(
                    method, path, message=f"{type(exc).__name__} after the request was sent"
                ) from None
        status = response.status_code
        if status != 429:
            self.limiter.succeeded()
        if status < 400:
            return response
        code, message = self._error_body(response)
        if status == 429:
            self.stats.rate_limited += 1
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            self.limiter.rate_limited(retry_after, initial=self.retry.initial_wait, max_wait=self.retry.max_wait,
                                      max_retry_after=self.retry.max_retry_after)
            raise _Retry(RateLimitedError(method, path, status, code, message or "too many requests"), paused=True)
        if status >= 500:
            self.stats.server_errors += 1
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

    def _error_body(self, response: httpx.Response) -> tuple[int | None, str]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict):
            code = data.get("code")
            message = str(data.get("message") or "")
            return (code if isinstance(code, int) else None), redact(message, self._api_key)[:500]
        return None, redact(response.text, self._api_key)[:200]

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        return self._decode(response, method, path)

    @staticmethod
    def _decode(response: httpx.Response, method: str, path: str) -> Any:
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiShapeError(method, path, response.status_code, None, "the answer is not JSON") from None

    async def paginate(
        self, path: str, params: dict[str, Any] | None = None, page_size: int | None = None,
        model: type[M] | None = None,
    ) -> list[Any]:
        """Every item of a paginated list: instances of ``model`` when given, else JSON values.

        With a ``Last-Page`` header, reads until it says true, whatever the page length (an
        endpoint may cap the page size silently). Without it, reads until an empty page. Stops
        when a page repeats the previous one, which is what an endpoint that ignores paging does.
        """
        size = page_size or self.page_size
        items: list[Any] = []
        previous = b""
        for page in range(1, MAX_PAGES + 1):
            query = dict(params or {}, page=page, **{"page-size": size})
            response = await self.request("GET", path, params=query)
            content = response.content
            if model is not None:
                batch: list[Any] = parse_page(model, content, "GET", path)
            else:
                data = self._decode(response, "GET", path)
                if data is not None and not isinstance(data, list):
                    raise ApiShapeError("GET", path, response.status_code, None, "expected a JSON array")
                batch = data or []
            if not batch or content == previous:
                return items
            items.extend(batch)
            last_page = response.headers.get("Last-Page")
            if last_page is not None and last_page.strip().lower() == "true":
                return items
            previous = content
        raise ApiShapeError("GET", path, None, None, f"more than {MAX_PAGES} pages without Last-Page: true")

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

    async def list_users(self, *, status: str = "ALL", include_roles: bool = True) -> list[WireUser]:
        params = {
            "status": status,
            "memberships": "WORKSPACE",
            "include-roles": "true" if include_roles else "false",
        }
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
