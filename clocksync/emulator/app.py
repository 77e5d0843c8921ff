"""The emulator's HTTP face: a Starlette (ASGI) app over ``WorkspaceState``.

Served over real HTTP by ``clocksync emulator`` (uvicorn), and mounted in-process by the tests
through ``httpx.ASGITransport``. Paths are the spec's, under ``/api/v1``. Around every API call
it enforces auth (401), a per-key rate limit (429 with ``{message, code}``), optional latency
and injected faults (429 storms, 5xx, "write applied but answered 502").

Outside the API, ``GET /__emulator__/stats`` reports what it served (for benchmarks) and
``POST /__emulator__/reset-stats`` zeroes it. With ``hold_writes_after`` (a server that stops
answering mid-run, for the tests of an interrupted apply) every write after that many is held
unanswered until ``POST /__emulator__/release`` or until its client goes away.

A request whose client goes away before it is answered (a killed or interrupted client) ends
quietly: it is counted in the stats (``client_gone``), with no traceback in the server's log.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from clocksync.emulator.state import EmulatorError, User, WorkspaceState
from clocksync.emulator.variants import Answers

API = "/api/v1"
MAX_PAGE_SIZE = 5000


@dataclass
class EmulatorOptions:
    """Behaviour knobs. Probabilities are per API request, drawn from a seeded generator."""

    rate_limit: float = 50.0  # requests per second per API key; 0 turns the limit off
    latency: float = 0.0  # seconds added before each API answer
    retry_after: float | None = None  # send Retry-After (seconds) with every 429
    p_429: float = 0.0  # injected 429s on top of the real limit
    p_5xx: float = 0.0  # 503 before doing anything
    p_applied_502: float = 0.0  # writes only: apply, then answer 502
    p_drop: float = 0.0  # handle the request (writes are applied), then drop the connection mid-answer
    storm_every: float = 0.0  # seconds between 429 storms; 0: no storms
    storm_length: float = 0.0  # seconds each storm answers every request with 429
    seed: int = 0
    refuse_creates: frozenset[str] = frozenset()  # names of groups / custom fields whose create is refused (400)
    answers: Answers = field(default_factory=Answers)  # answers where the live API is unverified
    hold_writes_after: int | None = None  # writes after this many are held unanswered until released


@dataclass
class EmulatorStats:
    requests: int = 0
    writes: int = 0
    rate_limited: int = 0
    injected_faults: int = 0
    held: int = 0  # writes held unanswered right now (hold_writes_after)
    client_gone: int = 0  # requests whose client went away before they were answered
    by_status: dict[str, int] = field(default_factory=dict)
    by_operation: dict[str, int] = field(default_factory=dict)


class DroppedConnection(Exception):
    """Raised by the app after it started an answer it will never finish (an injected fault)."""


class _DroppedResponse(Response):
    """Starts a 200 answer, sends part of the body, then dies: the client sees the connection drop."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"4096")]})
        await send({"type": "http.response.body", "body": b"[{", "more_body": True})
        raise DroppedConnection("connection dropped on purpose")


class EmulatorTransport(httpx.ASGITransport):
    """The emulator in-process, as an httpx transport: a dropped answer becomes the httpx error a
    real dropped connection gives (``RemoteProtocolError``)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except DroppedConnection:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body",
                                            request=request) from None


class _KeyBuckets:
    """The server-side limit: a token bucket per API key holding one second of requests."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._buckets: dict[str, tuple[float, float]] = {}

    def allow(self, key: str) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (self.rate, now))
        tokens = min(self.rate, tokens + (now - updated) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1.0, now)
        return True


def _error(status: int, code: int | None, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["code"] = code
    return JSONResponse(body, status_code=status, headers=headers)


def _bool(value: str | None, name: str, default: bool | None = None) -> bool:
    if value is None:
        if default is None:
            raise EmulatorError(400, 3001, f"Required request parameter '{name}' is not present")
        return default
    if value.lower() not in ("true", "false"):
        raise EmulatorError(400, 3001, f"Parameter '{name}' must be true or false")
    return value.lower() == "true"


ACCOUNT_STATUSES = {"ACTIVE", "PENDING_EMAIL_VERIFICATION", "DELETED", "NOT_REGISTERED", "LIMITED", "LIMITED_DELETED"}


def _account_statuses(value: str | None) -> set[str] | None:
    """The ``account-statuses`` filter: one status or several separated by commas; None: the default."""
    if value is None:
        return None
    wanted = {v.strip().upper() for v in value.split(",") if v.strip()}
    unknown = wanted - ACCOUNT_STATUSES
    if not wanted or unknown:
        raise EmulatorError(400, 3001, f"account-statuses must be among {', '.join(sorted(ACCOUNT_STATUSES))}")
    return wanted


def _page(request: Request, items: list[Any], max_size: int = MAX_PAGE_SIZE,
          cap: int | None = None) -> tuple[list[Any], dict[str, str]]:
    """One page of ``items`` and its Last-Page header; ``cap`` silently lowers the page size."""
    try:
        page = int(request.query_params.get("page", "1"))
        size = int(request.query_params.get("page-size", "50"))
    except ValueError:
        raise EmulatorError(400, 3001, "page and page-size must be integers") from None
    if page < 1 or size < 1:
        raise EmulatorError(400, 3001, "page and page-size must be positive")
    if size > max_size:
        raise EmulatorError(400, 501, f"Page size cannot be larger than {max_size:,}.")
    if cap is not None:
        size = min(size, cap)
    start = (page - 1) * size
    chunk = items[start:start + size]
    last = start + size >= len(items)
    return chunk, {"Last-Page": "true" if last else "false"}


Handler = Callable[[Request, WorkspaceState, User], Awaitable[Any]]


class Emulator:
    """Holds the state, options and counters, and builds the ASGI app."""

    def __init__(self, state: WorkspaceState, options: EmulatorOptions | None = None) -> None:
        self.state = state
        self.options = options or EmulatorOptions()
        state.answers = self.options.answers
        self.stats = EmulatorStats()
        self._created_at: dict[str, float] = {}  # group id -> when this emulator created it (grant lag)
        self._limits = _KeyBuckets(self.options.rate_limit)
        self._random = random.Random(self.options.seed)
        self._started = time.monotonic()
        self._writes_seen = 0
        self._release = asyncio.Event()
        self.app = self._build()

    # ------------------------------------------------------------------ the wrapper every API call goes through

    def _route(self, method: str, path: str, handler: Handler, *, write: bool = False, ok: int = 200) -> Route:
        operation = f"{method} {path}"

        async def endpoint(request: Request) -> Response:
            self.stats.requests += 1
            self.stats.by_operation[operation] = self.stats.by_operation.get(operation, 0) + 1
            try:
                if write and not await self._hold(request):
                    raise ClientDisconnect()
                response = await self._answer(request, handler, write, ok)
            except ClientDisconnect:  # nobody to answer: end quietly (uvicorn sends nothing)
                self.stats.client_gone += 1
                return Response(status_code=499)
            key = str(response.status_code)
            self.stats.by_status[key] = self.stats.by_status.get(key, 0) + 1
            return response

        return Route(API + path, endpoint, methods=[method])

    async def _hold(self, request: Request) -> bool:
        """Past ``hold_writes_after`` writes, wait until released (True) or the client goes away (False)."""
        limit = self.options.hold_writes_after
        self._writes_seen += 1
        if limit is None or self._writes_seen <= limit or self._release.is_set():
            return True
        await request.body()  # read now, so that the next receive can only be the client going away
        self.stats.held += 1
        released = asyncio.ensure_future(self._release.wait())
        gone = asyncio.ensure_future(request.receive())
        try:
            await asyncio.wait({released, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.stats.held -= 1
            for waiter in (released, gone):
                waiter.cancel()
        return released.done() and not released.cancelled()

    async def _answer(self, request: Request, handler: Handler, write: bool, ok: int) -> Response:
        opts = self.options
        keys = request.headers.getlist("x-api-key")
        other_auth = [h for h in ("x-addon-token", "x-marketplace-token") if h in request.headers]
        if len(keys) + len(other_auth) != 1:
            return _error(401, 1000, "Multiple or none auth tokens present")
        if not keys:
            return _error(401, 4017, "Addon token is not valid")
        caller = self.state.user_for_key(keys[0])
        if caller is None:
            return _error(401, 4003, "Api key does not exist")
        if not self._limits.allow(keys[0]) or self._in_storm():
            self.stats.rate_limited += 1
            return self._too_many()
        if opts.latency:
            await asyncio.sleep(opts.latency)
        roll = self._random.random()
        if roll < opts.p_429:
            self.stats.injected_faults += 1
            self.stats.rate_limited += 1
            return self._too_many()
        roll -= opts.p_429
        if roll < opts.p_5xx:
            self.stats.injected_faults += 1
            return _error(503, None, "Service Unavailable")
        roll -= opts.p_5xx
        applied_then_502 = write and roll < opts.p_applied_502
        drop = not applied_then_502 and self._random.random() < opts.p_drop
        try:
            self._workspace_of(request, self.state)
            with self.state.lock:
                result = await handler(request, self.state, caller)
        except EmulatorError as exc:
            return _error(exc.status, exc.code, exc.message)
        if write:
            self.stats.writes += 1
        if applied_then_502:
            self.stats.injected_faults += 1
            return _error(502, None, "Bad Gateway")
        if drop:
            self.stats.injected_faults += 1
            return _DroppedResponse()
        if isinstance(result, Response):
            return result
        if result is None:
            return Response(status_code=ok if ok != 200 else 204)
        return JSONResponse(result, status_code=ok)

    def _too_many(self) -> Response:
        answers, retry_after = self.options.answers, self.options.retry_after
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None and not answers.no_retry_after else None
        if answers.empty_429_body:
            return Response(b"", status_code=429, headers=headers)
        return _error(429, 429, "Too many requests", headers)

    def _in_storm(self) -> bool:
        opts = self.options
        if opts.storm_every <= 0 or opts.storm_length <= 0:
            return False
        return (time.monotonic() - self._started) % opts.storm_every < opts.storm_length

    # ------------------------------------------------------------------ routes

    def _build(self) -> Starlette:
        ws = "/workspaces/{workspaceId}"
        r = self._route
        routes = [
            r("GET", "/user", self._current_user),
            r("GET", "/workspaces", self._workspaces),
            r("GET", ws, self._workspace),
            r("GET", ws + "/users", self._list_users),
            r("POST", ws + "/users", self._invite, write=True),
            r("POST", ws + "/users/info", self._users_info),
            r("PUT", ws + "/users/{userId}", self._set_status, write=True),
            r("GET", ws + "/users/{userId}/managers", self._managers),
            r("PUT", ws + "/users/{userId}/hourly-rate", self._set_rate("hourly-rate"), write=True),
            r("PUT", ws + "/users/{userId}/cost-rate", self._set_rate("cost-rate"), write=True),
            r("POST", ws + "/users/{userId}/roles", self._grant, write=True, ok=201),
            r("DELETE", ws + "/users/{userId}/roles", self._revoke, write=True, ok=204),
            r("GET", ws + "/member-profile/{userId}", self._profile),
            r("PATCH", ws + "/member-profile/{userId}", self._patch_profile, write=True),
            r("GET", ws + "/custom-fields", self._fields),
            r("POST", ws + "/custom-fields", self._create_field, write=True, ok=201),
            r("PUT", ws + "/users/{userId}/custom-field/{customFieldId}/value", self._field_value,
              write=True, ok=201),
            r("GET", ws + "/user-groups", self._groups),
            r("POST", ws + "/user-groups", self._create_group, write=True, ok=201),
            r("PUT", ws + "/user-groups/{id}", self._rename_group, write=True),
            r("DELETE", ws + "/user-groups/{id}", self._delete_group, write=True),
            r("POST", ws + "/user-groups/{userGroupId}/users", self._add_member, write=True),
            r("DELETE", ws + "/user-groups/{userGroupId}/users/{userId}", self._remove_member, write=True),
            r("GET", ws + "/holidays", self._holidays),
            r("GET", ws + "/time-off/policies", self._policies),
            r("GET", ws + "/projects", self._projects),
            Route("/__emulator__/stats", self._stats, methods=["GET"]),
            Route("/__emulator__/reset-stats", self._reset_stats, methods=["POST"]),
            Route("/__emulator__/release", self._release_held, methods=["POST"]),
        ]
        return Starlette(routes=routes, exception_handlers={HTTPException: _http_error})

    async def _stats(self, request: Request) -> Response:
        data = asdict(self.stats)
        data["state_writes"] = self.state.writes
        return JSONResponse(data)

    async def _release_held(self, request: Request) -> Response:
        """Answer the held writes, and hold no more."""
        self._release.set()
        return JSONResponse({})

    async def _reset_stats(self, request: Request) -> Response:
        self.stats = EmulatorStats()
        return JSONResponse({})

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def _workspace_of(request: Request, state: WorkspaceState) -> None:
        """Every route under /workspaces/{workspaceId} answers only for the emulated workspace."""
        if "workspaceId" in request.path_params and request.path_params["workspaceId"] != state.ws.id:
            raise EmulatorError(403, 1002, "Access Denied: workspace not found or not accessible")

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        """The JSON object every write of this API takes; 400/501 for anything else."""
        raw = await request.body()
        if not raw:
            raise EmulatorError(400, 501, "Required request body is missing")
        try:
            body = json.loads(raw)
        except ValueError:
            raise EmulatorError(400, 501, "Malformed JSON request") from None
        if not isinstance(body, dict):
            raise EmulatorError(400, 501, "The request body must be a JSON object")
        return body

    async def _current_user(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        memberships = "WORKSPACE" if _bool(request.query_params.get("include-memberships"),
                                          "include-memberships", False) else "NONE"
        return state.render_user(caller, memberships=memberships)

    async def _workspaces(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        wanted = request.query_params.get("roles")
        if wanted is None:
            member = caller.membership_status in ("ACTIVE", "PENDING")
        elif wanted == "OWNER":
            member = caller.id == state.ws.owner_id
        elif wanted == "WORKSPACE_ADMIN":
            member = caller.id in state.ws.admin_ids  # this filter does not count owners (API-NOTES 1)
        elif wanted in ("TEAM_MANAGER", "PROJECT_MANAGER"):
            member = any(r.user_id == caller.id and r.role == wanted for r in state.ws.roles)
        else:
            raise EmulatorError(400, 3001, "roles must be one of WORKSPACE_ADMIN, OWNER, TEAM_MANAGER, PROJECT_MANAGER")
        return [state.render_workspace()] if member else []

    async def _workspace(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        return state.render_workspace()

    async def _list_users(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        q = request.query_params
        include_roles = _bool(q.get("include-roles"), "include-roles")
        status = q.get("status", "ALL")
        if status not in ("PENDING", "ACTIVE", "DECLINED", "INACTIVE", "ALL"):
            raise EmulatorError(400, 3001, "invalid status")
        memberships = q.get("memberships", "NONE")
        if memberships not in ("ALL", "NONE", "WORKSPACE", "PROJECT", "USERGROUP"):
            raise EmulatorError(400, 3001, "invalid memberships")
        users = state.list_users(status=status, email=q.get("email"), name=q.get("name"),
                                 account_statuses=_account_statuses(q.get("account-statuses")))
        chunk, headers = _page(request, users, cap=state.answers.page_cap)
        roles = state.role_index() if include_roles else None
        body = [state.render_user(u, memberships=memberships, roles=roles) for u in chunk]
        return JSONResponse(body, headers=headers)

    async def _users_info(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        ids = state.users_with_roles(body["roles"]) if body.get("roles") else None
        statuses = body.get("accountStatuses")
        users = state.list_users(status=body.get("status", "ALL"), email=body.get("email"),
                                 name=body.get("name"), user_ids=ids,
                                 account_statuses=_account_statuses(",".join(statuses)) if statuses else None)
        page, size = int(body.get("page", 1)), int(body.get("pageSize", 50))
        if size > MAX_PAGE_SIZE:
            raise EmulatorError(400, 501, f"Page size cannot be larger than {MAX_PAGE_SIZE:,}.")
        chunk = users[(page - 1) * size: page * size]
        roles = state.role_index() if body.get("includeRoles") else None
        return [state.render_user(u, memberships=body.get("memberships", "NONE"), roles=roles) for u in chunk]

    async def _invite(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        _bool(request.query_params.get("send-email"), "send-email")
        body = await self._body(request)
        state.invite(str(body.get("email") or ""))
        return state.render_workspace()

    async def _set_status(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        state.set_status(caller.id, request.path_params["userId"], str(body.get("status")))
        return state.render_workspace()

    def _set_rate(self, rate: str) -> Handler:
        async def handler(request: Request, state: WorkspaceState, caller: User) -> Any:
            body = await self._body(request)
            return state.set_rate(request.path_params["userId"], rate, body)
        return handler

    async def _managers(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        chunk, headers = _page(request, state.managers_of(request.path_params["userId"]), cap=state.answers.page_cap)
        return JSONResponse(chunk, headers=headers)

    async def _grant(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        created = self._created_at.get(str(body.get("entityId")))
        lag = state.answers.group_grant_lag
        if body.get("sourceType") == "USER_GROUP" and created is not None and time.monotonic() - created < lag:
            raise EmulatorError(400, 501, "User group doesn't belong to Workspace")  # not yet known everywhere
        return state.grant(request.path_params["userId"], body)

    async def _revoke(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        state.revoke(request.path_params["userId"], body)
        return None

    async def _profile(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        return state.render_profile(state.user(request.path_params["userId"]))

    async def _patch_profile(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        return state.patch_profile(request.path_params["userId"], body, caller_id=caller.id)

    async def _fields(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        q = request.query_params  # not paginated: page parameters are ignored, no Last-Page
        return state.list_fields(q.get("entity-type"), q.get("status"), q.get("name"))

    def _refused(self, body: dict[str, Any]) -> None:
        """An injected fault: the API refusing one create (a definite 400, nothing created)."""
        name = body.get("name")
        if isinstance(name, str) and name.strip().casefold() in {n.strip().casefold() for n in self.options.refuse_creates}:
            self.stats.injected_faults += 1
            raise EmulatorError(400, 501, f"Creating {name.strip()!r} was refused (emulator --refuse-create)")

    async def _create_field(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        self._refused(body)
        return state.create_field(body)

    async def _field_value(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        p = request.path_params
        return state.set_field_value(p["userId"], p["customFieldId"], body)

    async def _groups(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        q = request.query_params
        include = _bool(q.get("includeTeamManagers"), "includeTeamManagers", False)
        chunk, headers = _page(request, state.list_groups(q.get("name")), cap=state.answers.page_cap)
        managers = state.group_manager_index() if include else None
        return JSONResponse([state.render_group(g, managers) for g in chunk], headers=headers)

    async def _create_group(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        self._refused(body)
        created = state.create_group(body)
        self._created_at[created["id"]] = time.monotonic()
        return created

    async def _rename_group(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        return state.rename_group(request.path_params["id"], body)

    async def _delete_group(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        return state.delete_group(request.path_params["id"])

    async def _add_member(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        body = await self._body(request)
        return state.add_member(request.path_params["userGroupId"], body)

    async def _remove_member(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        p = request.path_params
        return state.remove_member(p["userGroupId"], p["userId"])

    async def _holidays(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        return state.list_holidays()  # not paginated

    async def _policies(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        status = request.query_params.get("status", "ACTIVE")
        chunk, headers = _page(request, state.list_policies(status), max_size=200, cap=state.answers.page_cap)
        return JSONResponse(chunk, headers=headers)

    async def _projects(self, request: Request, state: WorkspaceState, caller: User) -> Any:
        archived = request.query_params.get("archived")
        projects = sorted(state.ws.projects.values(), key=lambda p: p.name.casefold())
        if archived is not None:
            projects = [p for p in projects if p.archived == _bool(archived, "archived")]
        chunk, headers = _page(request, projects, cap=state.answers.page_cap)
        return JSONResponse([state.render_project(p) for p in chunk], headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    if status == 405:
        return _error(405, 3000, f"Request method '{request.method}' is not supported")
    if status == 404:
        return _error(404, 3000, f"No static resource {request.url.path.lstrip('/')}.")
    return _error(status, None, str(getattr(exc, "detail", "")))
