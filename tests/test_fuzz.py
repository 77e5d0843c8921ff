"""Fuzzing every boundary that takes outside input: any input ends in a result or in a
``ClocksyncError`` whose message a person reads (never a traceback).

Boundaries: the users CSV and workbook (generated, and damaged), the config, ``.env``, the base URL, a plan file (bytes, and valid plans
with any value anywhere, re-checksummed so validation and rendering are reached), and the API's
answers (the emulator's real answers with any status, header or JSON value changed anywhere, read
by the real client and planned from by the real differ), and the sanitiser (any text).

The suite runs them with the ``suite`` profile (a few dozen examples each, derandomized: the same
examples every run, so never flaky); ``make fuzz`` runs them with the ``fuzz`` profile (thousands of
random examples). Profiles are registered in ``tests/conftest.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter
from ruamel.yaml import YAML

from clocksync.clockify.client import ClockifyClient, RetryPolicy, check_base_url
from clocksync.config import Config, load_config
from clocksync.credentials import resolve_connection
from clocksync.emulator.app import Emulator, EmulatorOptions, EmulatorTransport
from clocksync.emulator.demo import demo_workspace
from clocksync.errors import ClockifyError, ClocksyncError, ConfigError, CredentialsError, CsvError
from clocksync.load.desired import load_desired
from clocksync.plan.file import Plan, load_plan
from clocksync.plan.make import make_plan
from clocksync.plan.types import PlanOptions
from clocksync.render import render
from clocksync.sanitize import export_cell, is_dangerous, json_safe, markdown, read_cell, visible
from tests.conftest import EXAMPLES, ROOT

pytestmark = pytest.mark.fuzz

# Text as hostile as it gets: any code point (controls, bidi, surrogates excluded by UTF-8), plus
# the characters that mean something to CSV, YAML, JSON, markdown and terminals.
NASTY = st.sampled_from(["", " ", ",", ";", "\t", '"', "'", "\n", "\r\n", "\r", "\x00", "\x1b[2J", "\u202e", "\u200b",
                         "\ufeff", "=1+1", "@x", "-", "+", "#", "&", "<b>", "|", "\\", "0", "-0", "1e309", "NaN",
                         "null", "true", "~", "{", "[", "*a", "&a", "!!python/object:os.system", "%", "$x"])
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
TEXT = st.one_of(ANY_TEXT, NASTY, st.lists(NASTY, max_size=4).map("".join))
EMAILS = st.sampled_from(["a@example.com", "A@Example.com", "b@example.com", "jane.smith@example.com",
                          "ops-lead@example.com", " c@example.com ", "mailto:d@example.com", "x@y", "@", "",
                          "e\u200b@example.com", "f@exam\u0430ple.com"])
JSON = st.recursive(st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
                    | st.floats(allow_nan=True) | TEXT,
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=12)

CONFIG_KEYS = ["workspace", "field_mapping", "csv", "groups", "safety", "api", "apply", "invite", "exceptions",
               "fallback_manager_email", "fallback_group_name", "protected_groups", "never_deactivate", "email_column",
               "manager_column", "hours_column", "date_order", "delimiter", "name_template", "requests_per_second",
               "page_size", "max_plan_age_hours", "email", "ignore", "reason", "until", "source", "sha256"]


def one_line_each(exc: ClocksyncError) -> None:
    """A message a person reads: every line is text (no control characters but the line breaks);
    an API error is a single line."""
    message = str(exc)
    assert message.strip()
    if isinstance(exc, ClockifyError):
        assert "\n" not in message, message
    assert "Traceback" not in message


# ---------------------------------------------------------------------- the users CSV

CSV_COLUMNS = ["NTID email", "Manager NTID email", "Weekly Working Hours", "Company (Label)", "Country (Label)",
               "Global Id", "Start Date", "End Date", "Unknown", ""]
CSV_CONFIG = Config.model_validate({"field_mapping": {"Company (Label)": "Company", "Global Id": "Global ID"},
                                    "csv": {"date_order": "day-first"}})
CELLS = st.one_of(EMAILS, TEXT, st.sampled_from(["40", "37,5", "0", "-1", "1e3", "168", "2027-03-31", "31.02.2027",
                                                  "'=1", "''x", "=\"00123\""]))


@given(header=st.lists(st.sampled_from(CSV_COLUMNS), max_size=9), rows=st.lists(st.lists(CELLS, max_size=10),
       max_size=6), delimiter=st.sampled_from([",", ";", "\t"]), newline=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]), sep_hint=st.booleans())
def test_any_users_csv_loads_or_names_its_problems(tmp_path_factory: pytest.TempPathFactory, header: list[str],
                                                   rows: list[list[str]], delimiter: str, newline: str,
                                                   encoding: str, sep_hint: bool) -> None:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=newline).writerows([header, *rows])
    text = (f"sep={delimiter}{newline}" if sep_hint else "") + buffer.getvalue()
    path = tmp_path_factory.mktemp("csv") / "users.csv"
    path.write_bytes(text.encode(encoding, errors="replace"))
    loads_or_names_its_problems(path)


def loads_or_names_its_problems(path: Path) -> None:
    """A users file loads (one user per email key) or raises CsvError naming the file, one line a problem."""
    try:
        state = load_desired(path, CSV_CONFIG)
    except CsvError as exc:
        one_line_each(exc)
        assert str(path) in str(exc) and all("\n" not in p for p in exc.problems)
        return
    assert len({u.key for u in state.users.values()}) == len(state.users)


XLSX_CELLS = st.one_of(CELLS, st.none(), st.integers(min_value=-(10**20), max_value=10**20),
                       st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                       st.dates(min_value=datetime.date(1900, 3, 1)), st.datetimes(min_value=datetime.datetime(1900, 3, 1)),
                       st.sampled_from(["=1+1", "=A1", "=NA()", "#N/A", "=HYPERLINK(\"x\")"]))


def _workbook(header: list[str], rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in [header, *rows]:
        # openpyxl refuses control characters in cells: what a workbook cannot hold is not written.
        sheet.append([c if not isinstance(c, str) else "".join(ch for ch in c if ch >= " " or ch in "\t\n\r")
                      for c in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@given(header=st.lists(st.sampled_from(CSV_COLUMNS), max_size=9), rows=st.lists(st.lists(XLSX_CELLS, max_size=10),
       max_size=5), damage=st.one_of(st.none(), st.tuples(st.integers(min_value=0), st.binary(min_size=1, max_size=8)),
                                     st.integers(min_value=0)))
def test_any_workbook_loads_or_names_its_problems(tmp_path_factory: pytest.TempPathFactory, header: list[str],
                                                  rows: list[list[Any]], damage: Any) -> None:
    data = _workbook(header, rows)
    if isinstance(damage, tuple):  # bytes overwritten somewhere in the ZIP
        at = damage[0] % len(data)
        data = data[:at] + damage[1] + data[at + len(damage[1]):]
    elif isinstance(damage, int):  # cut short
        data = data[: damage % len(data)]
    path = tmp_path_factory.mktemp("xlsx") / "users.xlsx"
    path.write_bytes(data)
    loads_or_names_its_problems(path)


# ---------------------------------------------------------------------- the config


CONFIG_VALUES = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT | EMAILS,
                             lambda inner: st.lists(inner, max_size=3)
                             | st.dictionaries(st.sampled_from(CONFIG_KEYS) | TEXT, inner, max_size=4), max_leaves=10)


@given(document=st.dictionaries(st.sampled_from(CONFIG_KEYS) | TEXT, CONFIG_VALUES, max_size=5),
       raw=st.one_of(st.none(), st.text(max_size=120)))
def test_any_config_loads_or_names_key_and_line(tmp_path_factory: pytest.TempPathFactory,
                                                document: dict[str, Any], raw: str | None) -> None:
    path = tmp_path_factory.mktemp("config") / "config.yaml"
    if raw is None:
        buffer = io.StringIO()
        YAML().dump(document, buffer)
        raw = buffer.getvalue()
    path.write_text(raw, encoding="utf-8", errors="surrogatepass") if raw.isascii() else path.write_bytes(
        raw.encode("utf-8", errors="replace"))
    try:
        load_config(path, required=True)
    except ConfigError as exc:
        one_line_each(exc)
        assert all(line.startswith(str(path)) for line in str(exc).splitlines())


# ---------------------------------------------------------------------- .env and the base URL


@given(data=st.one_of(st.binary(max_size=200), st.lists(st.tuples(st.sampled_from(
    ["CLOCKIFY_API_KEY", "CLOCKIFY_WORKSPACE_ID", "CLOCKIFY_BASE_URL", "CLOCKSYNC_REQUESTS_PER_SECOND",
     "CLOCKSYNC_ALLOW_HOST", "export CLOCKIFY_API_KEY", "#", ""]), TEXT), max_size=6).map(
    lambda pairs: "\n".join(f"{k}={v}" for k, v in pairs).encode("utf-8", errors="replace"))))
def test_any_dotenv_gives_a_connection_or_a_credentials_error(tmp_path_factory: pytest.TempPathFactory,
                                                              data: bytes) -> None:
    path = tmp_path_factory.mktemp("env") / ".env"
    path.write_bytes(data)
    path.chmod(0o600)
    try:
        conn = resolve_connection(Config(), environ={}, dotenv_path=path)
    except CredentialsError as exc:
        one_line_each(exc)
        return
    assert "api_key=Secret(<hidden>)" in repr(conn)


@given(url=st.one_of(TEXT, st.builds(lambda scheme, host, port, path: f"{scheme}://{host}{port}{path}",
                                     st.sampled_from(["http", "https", "HTTPS", "ftp", ""]),
                                     st.one_of(TEXT, st.sampled_from(["api.clockify.me", "127.0.0.1", "[::1]",
                                                                      "localhost", "x.clockify.me.evil"])),
                                     st.sampled_from(["", ":0", ":8080", ":99999", ":-1", ":x", ":"]), TEXT)))
def test_any_base_url_is_accepted_or_refused_in_one_line(url: str) -> None:
    try:
        check_base_url(url)
    except CredentialsError as exc:
        one_line_each(exc)
        assert "\n" not in str(exc) and not any(is_dangerous(c) for c in str(exc))


# ---------------------------------------------------------------------- plan files

SAMPLE_PLAN = json.loads((ROOT / "plans" / "sample-plan.json").read_text())


def _nodes(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _nodes(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nodes(item, (*path, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        return {**value, head: _replace(value[head], rest, new)}
    copy = list(value)
    copy[head] = _replace(copy[head], rest, new)
    return copy


@given(edits=st.lists(st.tuples(st.integers(min_value=0), JSON), min_size=1, max_size=3), checksum=st.booleans())
def test_any_plan_value_anywhere_loads_and_renders_or_is_refused(tmp_path_factory: pytest.TempPathFactory,
                                                                 edits: list[tuple[int, Any]],
                                                                 checksum: bool) -> None:
    data: Any = SAMPLE_PLAN
    for selector, new in edits:
        nodes = _nodes(data)
        data = _replace(data, nodes[selector % len(nodes)], new)
    if checksum and isinstance(data, dict):
        # Re-checksummed, so validation and rendering are reached (the seal is apply's business); a
        # plan that does not validate is load_plan's to report.
        with contextlib.suppress(Exception):
            data = dict(data, checksum=TypeAdapter(Plan).validate_python(data).body_checksum())
    path = tmp_path_factory.mktemp("plan") / "plan.json"
    path.write_text(json.dumps(data, ensure_ascii=False, allow_nan=True), encoding="utf-8", errors="surrogatepass")
    try:
        plan = load_plan(path)
    except ClocksyncError as exc:
        one_line_each(exc)
        return
    for fmt in ("text", "markdown", "html", "json"):
        shown = render(plan, fmt)
        assert not [c for c in shown if is_dangerous(c) and c != "\n"], fmt


# ---------------------------------------------------------------------- the API's answers

OPERATIONS = ["/user", "/workspaces/{ws}", "/users", "/users/info", "/user-groups", "/custom-fields", "/holidays",
              "/time-off/policies", "/member-profile/"]


def _operation(path: str) -> str:
    """The operation a request path is for, as OPERATIONS names it."""
    rest = path.split("/api/v1", 1)[-1]
    parts = rest.split("/")  # "", "workspaces", id, ...
    if rest == "/user" or len(parts) < 3:
        return rest
    if len(parts) == 3:
        return "/workspaces/{ws}"
    tail = "/" + "/".join(parts[3:])
    return "/member-profile/" if tail.startswith("/member-profile/") else tail


MUTATION = st.one_of(
    st.tuples(st.just("status"), st.sampled_from([101, 200, 201, 204, 301, 302, 304, 400, 401, 403, 404, 408, 429, 500,
                                                  502, 503, 599])),
    st.tuples(st.just("header"), st.tuples(st.sampled_from(["Last-Page", "Retry-After", "Content-Type"]),
                                           st.sampled_from(["true", "false", "TRUE", "", "maybe", "-1", "nan", "inf",
                                                            "1e309", "999999", "0.001",
                                                            "Wed, 21 Oct 2015 07:28:00 GMT", "text/html"]))),
    st.tuples(st.just("body"), st.one_of(st.binary(max_size=60), st.sampled_from(
        [b"", b"[", b"[" * 5000 + b"]" * 5000, b"<html>portal</html>", b"null", b"{}", b"[]", b"\xff\xfe"]))),
    st.tuples(st.just("value"), st.tuples(st.integers(min_value=0), JSON)),
    st.tuples(st.just("raise"), st.sampled_from([httpx.ConnectError, httpx.ReadTimeout, httpx.RemoteProtocolError,
                                                 httpx.ProxyError, httpx.DecodingError, httpx.WriteError])),
)


class MutatingTransport(httpx.AsyncBaseTransport):
    """The emulator, with the n-th answer of an operation changed as drawn (keyed by operation and
    count, so the mutations do not depend on the order concurrent requests arrive in)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, mutations: dict[str, list[tuple[str, Any]]]) -> None:
        self.inner = inner
        self.mutations = mutations
        self.counts: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        op = _operation(request.url.path)
        n = self.counts[op] = self.counts.get(op, 0) + 1
        planned = self.mutations.get(op, [])
        if n > len(planned):
            return await self.inner.handle_async_request(request)
        kind, what = planned[n - 1]
        if kind == "raise":
            raise what("fuzzed", request=request)
        response = await self.inner.handle_async_request(request)
        body = await response.aread()
        status, headers = response.status_code, dict(response.headers)
        headers.pop("content-length", None)
        if kind == "status":
            status = what
        elif kind == "header":
            headers[what[0]] = what[1]
        elif kind == "body":
            body = what
        else:
            selector, new = what
            try:
                value = json.loads(body) if body else None
            except ValueError:
                value = None
            nodes = _nodes(value)
            body = json.dumps(_replace(value, nodes[selector % len(nodes)], new), allow_nan=True).encode(
                "utf-8", errors="surrogatepass")
        return httpx.Response(status, headers=headers, content=body)


FUZZ_RETRY = RetryPolicy(max_attempts=3, initial_wait=0.0001, max_wait=0.0002, max_retry_after=0.0005,
                         loopback_wait=0.0001, loopback_window=0.0003)


@given(mutations=st.dictionaries(st.sampled_from(OPERATIONS), st.lists(MUTATION, min_size=1, max_size=3),
                                 min_size=1, max_size=4))
def test_any_api_answer_ends_in_a_plan_or_a_one_line_error(mutations: dict[str, list[tuple[str, Any]]]) -> None:
    state, key = demo_workspace("fuzz-key-0123456789")
    transport = MutatingTransport(EmulatorTransport(app=Emulator(state, EmulatorOptions(rate_limit=0)).app), mutations)
    config = load_config(EXAMPLES / "config.yaml", required=True)
    desired = load_desired(EXAMPLES / "sample_users.csv", config)

    async def noop(seconds: float) -> None:
        await asyncio.sleep(0)

    async def go() -> Plan:
        async with ClockifyClient(key, state.ws.id, base_url="http://127.0.0.1/api/v1", requests_per_second=10_000,
                                  transport=transport, retry=FUZZ_RETRY, sleep=noop, page_size=3) as client:
            options = PlanOptions(deactivate_missing=True, allow_mass_deactivation=True, allow_mass_removal=True,
                                  allow_mass_group_deletion=True, allow_mass_field_change=True)
            return await make_plan(client, desired, config, options)

    try:
        plan = asyncio.run(go())
    except ClocksyncError as exc:
        one_line_each(exc)
        return
    for fmt in ("text", "markdown", "html"):
        render(plan, fmt)


# ---------------------------------------------------------------------- the sanitiser, for any text


@given(text=st.one_of(ANY_TEXT, TEXT, st.text(max_size=200)))
def test_the_sanitiser_holds_for_any_text(text: str) -> None:
    assert not [c for c in visible(text) if is_dangerous(c)]
    assert not [c for c in markdown(text) if is_dangerous(c)]
    assert json.loads(json_safe(json.dumps(text, ensure_ascii=False))) == text
    assert read_cell(export_cell(text))[0] == text
