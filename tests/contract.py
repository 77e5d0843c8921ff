"""Mechanical contract checks against the subset derived from Clockify's published spec.

``ContractTransport`` wraps any httpx transport (the in-process emulator in the tests) and checks
every exchange: the request is a declared operation, sends only declared query parameters (and
every required one), with a body valid against the request schema; the response has a declared
status (or is an error with the ``{message, code}`` body) and a body valid against its schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

SUBSET = Path(__file__).resolve().parent.parent / "clocksync" / "clockify" / "spec" / "clockify-subset.json"
API_PREFIX = "/api/v1"


@cache
def spec() -> dict[str, Any]:
    return json.loads(SUBSET.read_text(encoding="utf-8"))


@cache
def _routes() -> list[tuple[str, re.Pattern[str], str]]:
    routes = []
    for key, op in spec()["operations"].items():
        pattern = re.sub(r"\{[^/]+\}", "[^/]+", op["path"])
        routes.append((op["method"], re.compile(f"^{pattern}$"), key))
    # Literal segments first: /users/info must not be taken for /users/{userId}.
    routes.sort(key=lambda r: r[1].pattern.count("[^/]+"))
    return routes


_VALIDATORS: dict[int, OAS30Validator] = {}


def _validator(schema: dict[str, Any]) -> OAS30Validator:
    """One validator per schema of the (cached) spec: building one resolves every $ref again."""
    found = _VALIDATORS.get(id(schema))
    if found is None:
        found = _VALIDATORS[id(schema)] = OAS30Validator({**schema, "components": spec()["components"]})
    return found


_VALID_ITEMS: set[tuple[int, str]] = set()


def _errors(schema: dict[str, Any] | None, instance: Any) -> list[str]:
    """Problems of ``instance`` against ``schema``. The items of an array are checked one by one, and
    an item already found valid against the same schema is not checked again (validation is
    deterministic; list answers repeat the same users and groups read after read)."""
    if schema is None:
        return []
    items = schema.get("items")
    if schema.get("type") == "array" and isinstance(items, dict) and isinstance(instance, list):
        problems = []
        for index, item in enumerate(instance):
            key = (id(items), json.dumps(item, sort_keys=True))
            if key in _VALID_ITEMS:
                continue
            found = _errors(items, item)
            if found:
                problems += [f"{index}/{p}" for p in found]
            else:
                _VALID_ITEMS.add(key)
        return problems
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:200]}"
            for e in _validator(schema).iter_errors(instance)]


def _query_value(raw: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    if kind == "array":
        return [raw]
    return raw


def check_request(method: str, path: str, query: list[tuple[str, str]], body: bytes) -> tuple[str | None, list[str]]:
    """The operation key and the problems of one request (path relative to the base URL)."""
    matches = [key for m, rx, key in _routes() if m == method and rx.match(path)]
    if not matches:
        return None, [f"{method} {path}: not an operation of the spec"]
    key = matches[0]
    op = spec()["operations"][key]
    problems = []
    names = [name for name, _ in query]
    for name, raw in query:
        if name not in op["query"]:
            problems.append(f"{key}: query parameter {name!r} is not declared")
            continue
        for error in _errors(op["query"][name], _query_value(raw, op["query"][name])):
            problems.append(f"{key}: query {name}={raw!r}: {error}")
    for name in op["required_query"]:
        if name not in names:
            problems.append(f"{key}: required query parameter {name!r} is missing")
    if op["body"] is None:
        if body:
            problems.append(f"{key}: sends a body, the operation declares none")
    elif not body:
        if op["body_required"]:
            problems.append(f"{key}: the required body is missing")
    else:
        try:
            data = json.loads(body)
        except ValueError:
            problems.append(f"{key}: the body is not JSON")
        else:
            problems.extend(f"{key}: body {e}" for e in _errors(op["body"], data))
    return key, problems


def check_response(key: str, status: int, body: bytes) -> list[str]:
    op = spec()["operations"][key]
    if status >= 400:
        if not body:
            return []
        try:
            data = json.loads(body)
        except ValueError:
            return [f"{key}: error {status} body is not JSON"]
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return [f"{key}: error {status} body is not {{message, code}}"]
        if "code" in data and not isinstance(data["code"], int):
            return [f"{key}: error code is not a number"]
        return []
    if str(status) not in op["responses"]:
        return [f"{key}: status {status} is not declared (declared: {sorted(op['responses'])})"]
    schema = op["responses"][str(status)]
    if schema is None or not body:
        return []
    return [f"{key}: response {e}" for e in _errors(schema, json.loads(body))]


@dataclass
class ContractTransport(httpx.AsyncBaseTransport):
    """Checks every exchange that passes through; ``violations`` collects what broke the spec."""

    inner: httpx.AsyncBaseTransport
    violations: list[str] = field(default_factory=list)
    operations: dict[str, int] = field(default_factory=dict)
    writes: int = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        body = await request.aread()
        if path.startswith(API_PREFIX):
            key, problems = check_request(request.method, path[len(API_PREFIX):],
                                          list(request.url.params.multi_items()), body)
            self.violations.extend(problems)
            if key:
                self.operations[key] = self.operations.get(key, 0) + 1
                if request.method != "GET" and not key.endswith("/users/info"):
                    self.writes += 1
        response = await self.inner.handle_async_request(request)
        if path.startswith(API_PREFIX) and key:
            content = await response.aread()
            self.violations.extend(check_response(key, response.status_code, content))
            return httpx.Response(response.status_code, headers=response.headers, content=content,
                                  request=request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()
