"""Where the key goes and what an answer means (findings 1, 5 and 9 of issue 20; issue 21's item 1).

- The key goes only to ``https://*.clockify.me``, loopback, or a host named in CLOCKSYNC_ALLOW_HOST
  of the process environment; never through a proxy in clear text.
- A 1xx or 3xx answer, or a read answered with something that is not JSON, is an error naming the URL.
- Failures that will not heal (TLS verification, DNS, a refused connection to another host) fail at
  once; a refused loopback connection (the emulator may be starting) is tried for about two seconds;
  paging and waits are bounded and said. Each ends in one line naming the URL, never a traceback.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip
import logging
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from click.testing import CliRunner, Result

from clocksync.cli import cli
from clocksync.clockify.client import MAX_LIST_ITEMS, ClockifyClient, RetryPolicy, check_base_url
from clocksync.errors import (
    ApiShapeError,
    ApiStatusError,
    ClockifyError,
    CredentialsError,
    OutcomeUnknown,
    RateLimitedError,
    TransportError,
    UnusableAnswer,
)
from tests.conftest import BASE_URL, EmulatorHarness, run_cli

KEY = "k-" + "x" * 30
WS = "ws1"
CLOCKIFY = "https://api.clockify.me/api/v1"


def run(make: Callable[[ClockifyClient], Coroutine[Any, Any, Any]], *, base_url: str = CLOCKIFY,
        sleeps: list[float] | None = None, retry: RetryPolicy | None = None, **kwargs: Any) -> Any:
    async def fake_sleep(seconds: float) -> None:
        if sleeps is not None and seconds >= 0.05:  # retry waits; the rate limiter's ms waits are not counted
            sleeps.append(seconds)

    async def go() -> Any:
        async with ClockifyClient(KEY, WS, base_url=base_url, requests_per_second=1000, sleep=fake_sleep,
                                  retry=retry or RetryPolicy(), **kwargs) as client:
            return await make(client)

    return asyncio.run(go())


def one_line(result: Result, *names: str) -> str:
    """The CLI failed with one line naming each of ``names`` (no traceback)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith(("INFO ", "WARNING "))]
    assert len(lines) == 1, result.stderr
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


# ---------------------------------------------------------------------- finding 1: where the key goes

ACCEPTED = ["https://api.clockify.me/api/v1", "https://euc1.clockify.me/api/v1", "https://global.api.clockify.me/api/v1",
            "https://API.Clockify.ME/api/v1", "https://clockify.me/api/v1", "http://127.0.0.1:8080/api/v1",
            "http://localhost:1/api/v1", "http://[::1]:8080/api/v1", "https://127.0.0.5/api/v1",
            "https://api.clockify.me./api/v1"]
REFUSED = {
    "another host": "https://attacker.example/api/v1",
    "clockify.me as a prefix": "https://api.clockify.me.attacker.example/api/v1",
    "clockify.me as a suffix": "https://evilclockify.me/api/v1",
    "userinfo trick": "https://api.clockify.me@attacker.example/api/v1",
    "user and password": "https://user:secret@api.clockify.me/api/v1",
    "plain http to clockify": "http://api.clockify.me/api/v1",
    "plain http elsewhere": "http://attacker.example/api/v1",
    "port out of range": "http://127.0.0.1:99999/api/v1",
    "port 0": "http://127.0.0.1:0/api/v1",
    "not a number port": "http://127.0.0.1:80a/api/v1",
    "no scheme": "api.clockify.me/api/v1",
    "another scheme": "ftp://api.clockify.me/api/v1",
    "a query": "https://api.clockify.me/api/v1?x=1",
    "a fragment": "https://api.clockify.me/api/v1#x",
    "no host": "https:///api/v1",
    "IPv4 that is not loopback": "https://10.0.0.1/api/v1",
    "loopback look-alike": "https://127.0.0.1.attacker.example/api/v1",
    "a tab in the host": "https://attacker.example\t.clockify.me/api/v1",
    "a space": "https://api.clockify.me /api/v1",
    "brackets and a name": "https://[::1].clockify.me/api/v1",
    "fragment before the domain": "https://attacker.example#.clockify.me/api/v1",
    "query before the domain": "https://attacker.example?.clockify.me/api/v1",
}


@pytest.mark.parametrize("url", ACCEPTED)
def test_clockify_hosts_and_loopback_are_accepted(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize("url", list(REFUSED.values()), ids=list(REFUSED))
def test_other_base_urls_are_refused_in_one_line(url: str) -> None:
    with pytest.raises(CredentialsError) as info:
        check_base_url(url)
    assert "\n" not in str(info.value) and "secret" not in str(info.value)


def test_a_named_host_is_allowed_over_https_only() -> None:
    assert check_base_url("https://gateway.corp.example/api/v1", ["Gateway.corp.example"])
    with pytest.raises(CredentialsError):
        check_base_url("http://gateway.corp.example/api/v1", ["gateway.corp.example"])
    with pytest.raises(CredentialsError):
        check_base_url("https://other.corp.example/api/v1", ["gateway.corp.example"])


def test_a_dotenv_in_the_checkout_cannot_send_the_key_elsewhere(harness: EmulatorHarness, workdir: Path) -> None:
    """Finding 1: a pull request adds a .env that points the key at its author's server."""
    Path(".env").write_text("CLOCKIFY_BASE_URL=https://attacker.example/api/v1\n"
                            "CLOCKSYNC_ALLOW_HOST=attacker.example\n")  # a .env cannot allow a host
    Path(".env").chmod(0o600)
    env = {**harness.env(), "CLOCKIFY_BASE_URL": ""}
    result = CliRunner().invoke(cli, ["plan", "users.csv", "--detailed-exitcode"], env=env,
                                obj={"transport": harness.transport})
    line = one_line(result, "attacker.example", "CLOCKSYNC_ALLOW_HOST")
    assert line.startswith("CredentialsError:")
    assert harness.transport.operations == {}, "refused before any connection"
    assert not Path("plans/plan.json").exists()


def test_the_process_environment_can_allow_a_host(harness: EmulatorHarness, workdir: Path) -> None:
    result = run_cli(harness, "plan", "users.csv", env={"CLOCKIFY_BASE_URL": "https://gateway.corp.example/api/v1",
                                                         "CLOCKSYNC_ALLOW_HOST": "gateway.corp.example"})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("switch", ["flag", "environment"])
def test_no_dotenv_ignores_the_dotenv_file(harness: EmulatorHarness, workdir: Path, switch: str) -> None:
    Path(".env").write_text(f"CLOCKIFY_API_KEY={harness.api_key}\nCLOCKIFY_WORKSPACE_ID={harness.workspace_id}\n"
                            f"CLOCKIFY_BASE_URL={BASE_URL}\n")
    Path(".env").chmod(0o600)
    args = ["--no-dotenv", "plan", "users.csv"] if switch == "flag" else ["plan", "users.csv"]
    env = {"CLOCKSYNC_NO_DOTENV": "1"} if switch == "environment" else {}
    result = CliRunner().invoke(cli, args, env={"CLOCKIFY_API_KEY": "", "CLOCKIFY_WORKSPACE_ID": "",
                                                "CLOCKIFY_BASE_URL": "", **env}, obj={"transport": harness.transport})
    one_line(result, "CLOCKIFY_API_KEY is not set")
    used = CliRunner().invoke(cli, ["plan", "users.csv"], env={"CLOCKIFY_API_KEY": "", "CLOCKIFY_WORKSPACE_ID": "",
                                                                "CLOCKIFY_BASE_URL": "", "NO_COLOR": "1"},
                              obj={"transport": harness.transport})
    assert used.exit_code == 0, used.output  # without the switch the same .env is read


@pytest.mark.parametrize(("name", "value"), [("CLOCKIFY_API_KEY", "key with spaces"),
                                             ("CLOCKIFY_API_KEY", "ключ"),
                                             ("CLOCKIFY_WORKSPACE_ID", "../../admin"),
                                             ("CLOCKIFY_WORKSPACE_ID", "ws\x1b[2J")])
def test_a_key_or_workspace_that_cannot_be_one_is_refused_before_any_request(
        harness: EmulatorHarness, workdir: Path, name: str, value: str) -> None:
    result = run_cli(harness, "plan", "users.csv", env={name: value})
    line = one_line(result, name)
    assert "\x1b" not in line
    assert harness.transport.operations == {}


# ---------------------------------------------------------------------- proxies


class _Answers(BaseHTTPRequestHandler):
    """A loopback server answering every GET with the JSON of ``body``; records the requests."""

    seen: list[dict[str, str]]
    body = b'{"id": "u1", "email": "owner@example.com", "name": "Owner"}'

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.seen.append(dict(self.headers))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def loopback_api() -> Iterator[tuple[str, list[dict[str, str]]]]:
    seen: list[dict[str, str]] = []
    handler = type("Handler", (_Answers,), {"seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1", seen
    server.shutdown()
    server.server_close()


@contextlib.contextmanager
def tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A loopback TCP server calling ``handle`` with each connection; yields its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.1)
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            # OSError includes ssl.SSLError: a handshake the client refused.
            with conn, contextlib.suppress(OSError):
                conn.settimeout(2)
                handle(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        sock.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        part = conn.recv(65536)
        if not part:
            return
        data += part


def _until_closed(conn: socket.socket, send: Callable[[int], bytes], every: float = 0.02) -> None:
    """Send ``send(i)`` every ``every`` seconds until the client hangs up (at most a minute, so a
    test that goes wrong ends)."""
    for i in range(int(60 / every)):
        conn.sendall(send(i))
        with contextlib.suppress(TimeoutError):
            conn.settimeout(every)
            if conn.recv(1) == b"":
                return


def _hostile(mode: str) -> Callable[[socket.socket], None]:
    """A server that accepts the connection, then: trickle (200, then one byte at a time, never
    ending), silent (never answers), declared (Content-Length 2 GiB), endless (a chunked body that
    never ends), bomb (1 MB of gzip-compressed zeros), small (a short valid answer)."""
    def handle(conn: socket.socket) -> None:
        _read_request(conn)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        if mode == "trickle":
            conn.sendall(head + b"Content-Length: 100\r\n\r\n[")
            _until_closed(conn, lambda i: b" ")
        elif mode == "silent":
            _until_closed(conn, lambda i: b"")
        elif mode == "declared":
            conn.sendall(head + b"Content-Length: 2147483648\r\n\r\n" + b" " * 65536)
            _until_closed(conn, lambda i: b" " * 65536)
        elif mode == "endless":
            conn.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
            _until_closed(conn, lambda i: b"400\r\n" + b" " * 1024 + b"\r\n", every=0.001)
        elif mode == "bomb":
            body = gzip.compress(b" " * 1_000_000)
            conn.sendall(head + b"Content-Encoding: gzip\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                         + body)
            _until_closed(conn, lambda i: b"")
        else:
            body = b'{"id": "u1", "email": "a@example.com"}' + b" " * 900
            conn.sendall(head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
            _until_closed(conn, lambda i: b"")
    return handle


HOSTILE = {
    "trickle": (TransportError, "no complete answer within 0.3 s"),
    "silent": (TransportError, "no complete answer within 0.3 s"),
    "declared": (ApiShapeError, "is 2,147,483,648 bytes (Content-Length): more than the 5,000 bytes"),
    "endless": (ApiShapeError, "goes on past 5,000 bytes"),
    "bomb": (ApiShapeError, "goes on past 5,000 bytes"),
}


@pytest.mark.parametrize("mode", list(HOSTILE), ids=list(HOSTILE))
@pytest.mark.parametrize("method", ["GET", "PATCH", "POST"])
def test_a_server_that_never_ends_its_answer_fails_the_request_naming_the_url(mode: str, method: str) -> None:
    """Review of issue 20, F5: a 2 GiB body was read whole (RSS 4.8 GB), and one byte every 5 s was
    waited on for ever. Tiny limits stand in for the real ones (120 s, 64 MiB); nothing is timed."""
    error_type, text = HOSTILE[mode]
    sleeps: list[float] = []
    with tcp_server(_hostile(mode)) as port:
        base = f"http://127.0.0.1:{port}/api/v1"
        with pytest.raises(ClockifyError) as info:
            run(lambda c: c.request(method, "/user", json={} if method != "GET" else None), base_url=base,
                sleeps=sleeps, retry=RetryPolicy(attempt_deadline=0.3), max_answer_bytes=5000)
    if method == "POST" and error_type is TransportError:
        error_type = OutcomeUnknown  # sent, and no answer came: the caller re-reads to decide
    assert type(info.value) is error_type and text in str(info.value), str(info.value)
    assert f"{method} {base}/user" in str(info.value) and sleeps == [], "not tried again: it would wait as long"


@pytest.mark.parametrize("mode", ["trickle", "silent"])
def test_a_request_long_without_an_answer_is_said_without_verbose(mode: str, caplog: pytest.LogCaptureFixture) -> None:
    """F5: 'clocksync -v preflight' printed nothing at all for 400 s. The notice is a timer of the
    event loop due before the deadline's, so it comes first however loaded the machine is."""
    with (tcp_server(_hostile(mode)) as port, caplog.at_level(logging.WARNING, logger="clocksync.clockify.client"),
          pytest.raises(TransportError)):
        run(lambda c: c.get_current_user(), base_url=f"http://127.0.0.1:{port}/api/v1",
            retry=RetryPolicy(attempt_deadline=0.5, notice_after=0.01))
    [notice] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting:")]
    assert f"GET http://127.0.0.1:{port}/api/v1/user has had no complete answer for 0.01 s" in notice


def test_an_answer_within_the_limits_is_read() -> None:
    with tcp_server(_hostile("small")) as port:
        user = run(lambda c: c.get_current_user(), base_url=f"http://127.0.0.1:{port}/api/v1",
                   retry=RetryPolicy(attempt_deadline=30), max_answer_bytes=5000)
    assert user.id == "u1"


@pytest.fixture
def listening_proxy() -> Iterator[tuple[str, list[bytes]]]:
    """A 'proxy' that records what reaches it and answers nothing useful."""
    received: list[bytes] = []

    def record(conn: socket.socket) -> None:
        received.append(conn.recv(65536))
        conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")

    with tcp_server(record) as port:
        yield f"http://127.0.0.1:{port}", received


def test_a_proxy_in_the_environment_never_sees_loopback_traffic(
        loopback_api: tuple[str, list[dict[str, str]]], listening_proxy: tuple[str, list[bytes]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    base, seen = loopback_api
    proxy, received = listening_proxy
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    user = run(lambda c: c.get_current_user(), base_url=base)
    assert user.id == "u1"
    assert received == [], "the proxy received the plain-http request, API key and all"
    assert seen and seen[0]["X-Api-Key"] == KEY


BAD_PROXIES = {
    "port over 65535": "http://127.0.0.1:99999",
    "port 65536": "http://127.0.0.1:65536",
    "port 0": "http://127.0.0.1:0",
    "a port that is no number": "http://127.0.0.1:80a",
    "an unclosed IPv6 bracket": "http://[::1",
    "an IPv6 address that is none": "http://[::zz]:3128",
    "an IPv4 address that is none": "http://256.1.1.1:80",
    "too few parts": "http://1.2.3:80",
    "no host": "http://:8080",
    "no scheme, bad port": "127.0.0.1:99999",
    "a password, bad port": "http://user:hunter2secret@127.0.0.1:99999",
    "a space": "http://proxy .example:3128",
}


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])
@pytest.mark.parametrize("proxy", list(BAD_PROXIES.values()), ids=list(BAD_PROXIES))
def test_a_proxy_url_no_connection_can_use_is_one_line_naming_the_variable(
        proxy: str, variable: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Review of issue 20, F6: these ended in 80-146-line tracebacks when the first request connected."""
    for name in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(variable, proxy)
    with pytest.raises(CredentialsError) as info:
        ClockifyClient(KEY, WS, base_url=CLOCKIFY)
    message = str(info.value)
    assert message.startswith(variable) and "\n" not in message and "hunter2secret" not in message, message


def test_a_bad_proxy_is_one_line_from_the_cli(harness: EmulatorHarness, workdir: Path) -> None:
    result = run_cli(harness, "preflight", env={"CLOCKIFY_BASE_URL": CLOCKIFY, "HTTPS_PROXY": "http://127.0.0.1:99999"})
    assert one_line(result, "HTTPS_PROXY", "99999").startswith("CredentialsError:")


@pytest.mark.parametrize(("cause", "reason"), [(socket.gaierror(-2, "Name or service not known"), "does not resolve"),
                                               (ConnectionRefusedError(111, "Connection refused"), "refused")])
def test_a_proxy_that_cannot_be_reached_is_blamed_not_the_base_url(cause: BaseException, reason: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """F6: HTTPS_PROXY=notaurl was reported as 'CLOCKIFY_BASE_URL ... the host name does not resolve'."""
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "notaurl")
    calls: list[str] = []
    with pytest.raises(TransportError) as info:
        run(lambda c: c.get_current_user(), transport=httpx.MockTransport(failing(cause, calls)),
            base_url_from="CLOCKIFY_BASE_URL in the environment")
    message = str(info.value)
    assert "proxy (HTTPS_PROXY)" in message or "proxy's host name (HTTPS_PROXY)" in message, message
    assert reason in message and "check HTTPS_PROXY" in message and "CLOCKIFY_BASE_URL" not in message, message
    assert len(calls) == 1


@pytest.mark.parametrize("proxy", ["socks5://127.0.0.1:1", "ftp://proxy.example"])
def test_a_proxy_httpx_cannot_use_is_one_line(proxy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy)
    monkeypatch.setenv("ALL_PROXY", proxy)
    with pytest.raises(CredentialsError, match="proxy set in the environment"):
        ClockifyClient(KEY, WS, base_url=CLOCKIFY)


def test_certificates_the_environment_names_but_cannot_load_are_one_line(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    for cafile in (tmp_path / "bad.pem", tmp_path / "missing.pem"):
        monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
        with pytest.raises(CredentialsError, match="SSL_CERT_FILE"):
            ClockifyClient(KEY, WS, base_url=CLOCKIFY)


# ---------------------------------------------------------------------- finding 5: statuses


@respx.mock
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308, 304, 300])
def test_a_redirect_is_an_error_naming_the_url(status: int) -> None:
    respx.get(f"{CLOCKIFY}/workspaces/{WS}/users").mock(return_value=httpx.Response(
        status, headers={"Location": "https://attacker.example/collect"}))
    with pytest.raises(ApiStatusError) as info:
        run(lambda c: c.list_users())
    message = str(info.value)
    assert f"{CLOCKIFY}/workspaces/{WS}/users" in message and "redirect" in message and KEY not in message


@respx.mock
def test_an_informational_answer_is_an_error() -> None:
    respx.get(f"{CLOCKIFY}/user").mock(return_value=httpx.Response(101))
    with pytest.raises(ApiStatusError, match=rf"GET {CLOCKIFY}/user HTTP 101"):
        run(lambda c: c.get_current_user())


@respx.mock
@pytest.mark.parametrize(("body", "content_type"), [(b"<html>Sign in to the Wi-Fi</html>", "text/html"),
                                                    (b"", "application/json"), (b"OK", "text/plain"),
                                                    (b'{"id": "u1"', "application/json")])
def test_a_read_answered_with_something_else_than_json_is_an_error(body: bytes, content_type: str) -> None:
    respx.get(f"{CLOCKIFY}/user").mock(return_value=httpx.Response(200, content=body,
                                                                   headers={"Content-Type": content_type}))
    respx.get(f"{CLOCKIFY}/workspaces/{WS}/users").mock(return_value=httpx.Response(
        200, content=body, headers={"Content-Type": content_type, "Last-Page": "true"}))
    with pytest.raises(ApiShapeError) as info:
        run(lambda c: c.get_current_user())
    assert f"{CLOCKIFY}/user" in str(info.value)
    with pytest.raises(ApiShapeError) as listed:
        run(lambda c: c.list_users())
    assert f"{CLOCKIFY}/workspaces/{WS}/users" in str(listed.value)


PROTOCOL_ERRORS = {
    "a bad header": ("illegal header line: bytearray(b'X: \\x01')", False),
    "a bad status line": ("illegal status line: bytearray(b'HTTP/1.1 2OO OK')", False),
    "no line end": ("malformed data: no CRLF after the status line", False),
    "disconnected before the answer": ("Server disconnected without sending a response.", True),
    "closed mid-body": ("peer closed connection without sending complete message body: incomplete chunked read",
                        True),
}


@respx.mock
@pytest.mark.parametrize(("text", "dropped"), list(PROTOCOL_ERRORS.values()), ids=list(PROTOCOL_ERRORS))
def test_an_answer_that_is_not_http_fails_at_once_and_a_dropped_one_is_retried(text: str, dropped: bool) -> None:
    """Review of issue 20, F11: a malformed answer was retried for a minute before its one line."""
    route = respx.get(f"{CLOCKIFY}/user").mock(side_effect=httpx.RemoteProtocolError(text))
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=3)
    with pytest.raises((TransportError, ApiStatusError)) as info:
        run(lambda c: c.get_current_user(), sleeps=sleeps, retry=policy)
    assert f"GET {CLOCKIFY}/user" in str(info.value)
    if dropped:
        assert isinstance(info.value, TransportError) and route.call_count == policy.max_attempts
    else:
        assert isinstance(info.value, UnusableAnswer) and "not HTTP" in str(info.value)
        assert route.call_count == 1 and sleeps == []


B64_KEY = base64.b64encode(KEY.encode()).decode()
LOCATIONS = {
    "key in the query": (f"http://127.0.0.1:8921/steal?k={KEY}&b={B64_KEY}", "http://127.0.0.1:8921/..."),
    "key in the path": (f"https://attacker.example/{KEY}", "https://attacker.example/..."),
    "key as user info": (f"https://{KEY}:x@attacker.example/", "https://attacker.example"),
    "key in the fragment": (f"https://attacker.example#{KEY}", "https://attacker.example"),
    "key as the host": (f"https://{KEY}.example/", f"https://{KEY}.example/..."),
    "relative": (f"/login?k={KEY}", "a path on the same server"),
    "unparsable": (f"http://[::1{KEY}", ""),
    "control characters": ("https://login.example/\x1b[2J\r\n", ""),
}


@respx.mock
@pytest.mark.parametrize(("location", "shown"), list(LOCATIONS.values()), ids=list(LOCATIONS))
def test_a_redirect_shows_where_it_points_never_its_text(location: str, shown: str) -> None:
    """Review of issue 20, F10: a Location holding the key (and its base64) was printed whole."""
    respx.get(f"{CLOCKIFY}/user").mock(return_value=httpx.Response(302, headers={"Location": location}))
    with pytest.raises(UnusableAnswer) as info:
        run(lambda c: c.get_current_user())
    message = str(info.value)
    assert KEY not in message and B64_KEY not in message and "\x1b" not in message, message
    if shown and KEY not in shown:
        assert f"a redirect to {shown}:" in message, message
    elif not shown:  # httpx refuses the Location itself
        assert "a Location that is not a URL" in message, message


ECHOES = {
    "as sent": KEY,
    "lower case": KEY.lower(),
    "upper case": KEY.upper(),
    "URL-encoded": "k%2D" + "x" * 30,
    "base64": B64_KEY,
    "base64 unpadded": B64_KEY.rstrip("="),
    "URL-safe base64": base64.urlsafe_b64encode(KEY.encode()).decode(),
    "reversed": KEY[::-1],
    "split by a zero-width space": KEY[:14] + "\u200b" + KEY[14:],
    "split by a soft hyphen and a BOM": KEY[:5] + "\u00ad" + KEY[5:20] + "\ufeff" + KEY[20:],
}


@respx.mock
@pytest.mark.parametrize("echo", list(ECHOES.values()), ids=list(ECHOES))
@pytest.mark.parametrize("body", ["json", "text"])
def test_a_server_that_echoes_the_key_has_it_cut_in_any_common_form(echo: str, body: str) -> None:
    """Review of issue 20, F10: base64, lower-case, reversed and zero-width-split echoes passed."""
    text = f"bad key {echo} given"
    answer = (httpx.Response(400, json={"message": text, "code": 400}) if body == "json"
              else httpx.Response(500, text=f"<html>{text}</html>"))
    respx.get(f"{CLOCKIFY}/user").mock(return_value=answer)
    with pytest.raises(ApiStatusError) as info:
        run(lambda c: c.get_current_user(), retry=RetryPolicy(max_attempts=1))
    message = str(info.value)
    assert "bad key *** given" in message, message
    assert "x" * 8 not in message.lower() and B64_KEY[:12] not in message, message


class _RedirectUsers(httpx.AsyncBaseTransport):
    """The emulator, except that the users list is answered 302 (a portal, a misrouted proxy)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and request.url.path.endswith("/users"):
            return httpx.Response(302, headers={"Location": "https://login.example/"})
        return await self.inner.handle_async_request(request)


def test_the_drift_gate_is_not_green_on_an_unreadable_workspace(harness: EmulatorHarness, workdir: Path) -> None:
    """Finding 5: /users answered 302 used to read as an empty workspace and exit 0."""
    result = CliRunner().invoke(cli, ["plan", "users.csv", "--detailed-exitcode", "--deactivate-missing"],
                                env=harness.env(), obj={"transport": _RedirectUsers(harness.transport)})
    one_line(result, "HTTP 302", f"{BASE_URL}/workspaces/{harness.workspace_id}/users", "redirect")
    assert not Path("plans/plan.json").exists()


# ---------------------------------------------------------------------- finding 9: failures, one line each


@respx.mock
@pytest.mark.parametrize("shape", ["array", "object"])
def test_deeply_nested_json_is_one_error(shape: str) -> None:
    depth = 200_000
    body = "[" * depth + "]" * depth if shape == "array" else '{"a":' * depth + "1" + "}" * depth
    respx.get(f"{CLOCKIFY}/user").mock(return_value=httpx.Response(200, content=body.encode()))
    respx.get(f"{CLOCKIFY}/workspaces/{WS}/users").mock(return_value=httpx.Response(
        200, content=body.encode(), headers={"Last-Page": "true"}))
    with pytest.raises(ApiShapeError):
        run(lambda c: c.get_current_user())
    with pytest.raises(ApiShapeError):
        run(lambda c: c.list_users())
    respx.get(f"{CLOCKIFY}/workspaces/{WS}/custom-fields").mock(return_value=httpx.Response(
        400, content=body.encode()))
    with pytest.raises(ApiStatusError):  # an error answer nested too deep still gives its status
        run(lambda c: c.list_custom_fields())


def _connect_error(cause: BaseException) -> httpx.ConnectError:
    try:
        raise httpx.ConnectError(str(cause)) from cause
    except httpx.ConnectError as exc:
        return exc


def failing(cause: BaseException, calls: list[str] | None = None) -> Callable[[httpx.Request], httpx.Response]:
    """A handler raising a ConnectError caused by ``cause``, as httpx raises them. (Through
    httpx.MockTransport: respx re-raises a side effect's exception with its own cause.)"""
    def fail(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(str(request.url))
        raise _connect_error(cause)
    return fail


UNHEALING = {
    "DNS": socket.gaierror(-2, "Name or service not known"),
    "TLS verification": ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
    "TLS handshake": ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number"),
    "refused, not loopback": ConnectionRefusedError(111, "Connection refused"),
}


@pytest.mark.parametrize("cause", list(UNHEALING.values()), ids=list(UNHEALING))
def test_failures_that_will_not_heal_fail_at_once_naming_the_url(cause: BaseException) -> None:
    calls: list[str] = []
    sleeps: list[float] = []
    with pytest.raises(TransportError) as info:
        run(lambda c: c.get_current_user(), sleeps=sleeps, transport=httpx.MockTransport(failing(cause, calls)))
    assert calls == [f"{CLOCKIFY}/user"] and sleeps == []
    assert f"GET {CLOCKIFY}/user" in str(info.value) and KEY not in str(info.value)


@respx.mock
@pytest.mark.parametrize("failure", [httpx.ConnectTimeout("timed out"), httpx.ProxyError("502 Bad Gateway"),
                                     httpx.ConnectError("Network is unreachable")], ids=["timeout", "proxy", "other"])
def test_other_connection_failures_are_tried_twice_within_15_seconds(failure: httpx.HTTPError) -> None:
    route = respx.get(f"{CLOCKIFY}/user").mock(side_effect=failure)
    sleeps: list[float] = []
    policy = RetryPolicy()
    with pytest.raises(TransportError) as info:
        run(lambda c: c.get_current_user(), sleeps=sleeps, retry=policy)
    assert route.call_count == policy.connect_attempts == 2
    # Worst case: each attempt waits the whole connect timeout, plus the backoff between them.
    assert policy.connect_attempts * policy.connect_timeout + sum(sleeps) < 15
    assert f"GET {CLOCKIFY}/user: cannot connect" in str(info.value)


def test_a_refused_loopback_connection_is_tried_for_two_seconds(caplog: pytest.LogCaptureFixture) -> None:
    base = "http://127.0.0.1:8765/api/v1"
    calls: list[str] = []
    refused = httpx.MockTransport(failing(ConnectionRefusedError(111, "Connection refused"), calls))
    sleeps: list[float] = []
    policy = RetryPolicy()
    with caplog.at_level(logging.INFO, logger="clocksync.clockify.client"), pytest.raises(TransportError) as info:
        run(lambda c: c.get_current_user(), base_url=base, sleeps=sleeps, retry=policy, transport=refused)
    assert sum(sleeps) == pytest.approx(policy.loopback_window) and len(calls) == len(sleeps) + 1
    assert "is the emulator running" in str(info.value) and f"{base}/user" in str(info.value)
    retries = [r.getMessage() for r in caplog.records if r.getMessage().startswith("retry:")]
    assert len(retries) == len(sleeps), "each retry is said at -v"


def test_the_emulator_starting_is_waited_for() -> None:
    base = "http://127.0.0.1:8765/api/v1"
    calls: list[str] = []
    refused = failing(ConnectionRefusedError(111, "Connection refused"), calls)
    answers = iter([refused, refused, lambda request: httpx.Response(
        200, json={"id": "u1", "email": "a@example.com", "name": "A"})])
    starting = httpx.MockTransport(lambda request: next(answers)(request))
    assert run(lambda c: c.get_current_user(), base_url=base, transport=starting).id == "u1" and len(calls) == 2


def test_no_emulator_running_fails_fast_naming_the_url_and_the_cause(workdir: Path) -> None:
    """Issue 21 item 1: a real refused connection, through the CLI, with retries said at -v."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens once the socket is closed
    url = f"http://127.0.0.1:{port}/api/v1"
    env = {**os.environ, "CLOCKIFY_API_KEY": KEY, "CLOCKIFY_WORKSPACE_ID": WS, "CLOCKIFY_BASE_URL": url,
           "NO_COLOR": "1"}
    done = subprocess.run([sys.executable, "-m", "clocksync", "-v", "plan", "users.csv"], env=env, cwd=workdir,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith(("INFO ", "WARNING "))]
    assert len(errors) == 1 and errors[0].startswith("TransportError:"), done.stderr
    for name in (f"{url}/user", "connection refused", "is the emulator running", "CLOCKIFY_BASE_URL in the environment"):
        assert name in errors[0], (name, errors[0])
    retries = [line for line in done.stderr.splitlines() if line.startswith("INFO clocksync.clockify.client: retry:")]
    assert len(retries) == RetryPolicy().loopback_window / RetryPolicy().loopback_wait, "each retry said at -v"


def test_an_unset_base_url_says_so(workdir: Path) -> None:
    unreachable = failing(socket.gaierror(-3, "Temporary failure in name resolution"))
    result = CliRunner().invoke(cli, ["plan", "users.csv"], env={
        "CLOCKIFY_API_KEY": KEY, "CLOCKIFY_WORKSPACE_ID": WS, "CLOCKIFY_BASE_URL": "", "NO_COLOR": "1"},
        obj={"transport": httpx.MockTransport(unreachable)})
    one_line(result, f"{CLOCKIFY}/user", "does not resolve", "CLOCKIFY_BASE_URL is not set", "clocksync emulator")


@pytest.fixture
def self_signed_tls() -> Iterator[tuple[str, list[int]]]:
    """A loopback TLS server with a certificate no one signed; counts the connections it gets."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a certificate")
    import tempfile

    folder = Path(tempfile.mkdtemp())
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")], check=True,
                   capture_output=True)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    accepted: list[int] = []

    def handshake(conn: socket.socket) -> None:
        accepted.append(1)
        with context.wrap_socket(conn, server_side=True):
            pass

    with tcp_server(handshake) as port:
        yield f"https://127.0.0.1:{port}/api/v1", accepted
    shutil.rmtree(folder)


def test_tls_verification_failure_fails_at_once(self_signed_tls: tuple[str, list[int]]) -> None:
    """Finding 9: a certificate that does not verify was tried 8 times over 65 s."""
    base, accepted = self_signed_tls
    with pytest.raises(TransportError) as info:
        run(lambda c: c.get_current_user(), base_url=base)
    assert accepted == [1], "one connection, no retry"
    assert f"{base}/user" in str(info.value) and "certificate verification failed" in str(info.value)


def test_port_99999_is_one_line(workdir: Path) -> None:
    result = CliRunner().invoke(cli, ["plan", "users.csv"], env={
        "CLOCKIFY_API_KEY": KEY, "CLOCKIFY_WORKSPACE_ID": WS, "CLOCKIFY_BASE_URL": "http://127.0.0.1:99999/api/v1"})
    one_line(result, "CLOCKIFY_BASE_URL", "99999")


# ---------------------------------------------------------------------- bounded paging and waits


@respx.mock
def test_last_page_false_forever_ends_in_an_error_not_80_minutes() -> None:
    served = []

    def endless(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        served.append(page)
        items = [{"id": f"g{page}-{i}", "name": f"G{page}-{i}"} for i in range(5000)]
        return httpx.Response(200, json=items, headers={"Last-Page": "false"})

    respx.get(f"{CLOCKIFY}/workspaces/{WS}/user-groups").mock(side_effect=endless)
    with pytest.raises(ApiShapeError, match="does not end"):
        run(lambda c: c.paginate(f"/workspaces/{WS}/user-groups", page_size=5000))
    assert len(served) <= MAX_LIST_ITEMS // 5000 + 1


@respx.mock
def test_a_page_that_repeats_what_was_read_while_more_is_promised_is_an_error() -> None:
    respx.get(f"{CLOCKIFY}/cycling").mock(side_effect=[
        httpx.Response(200, json=[{"id": "a"}, {"id": "b"}], headers={"Last-Page": "false"}),
        httpx.Response(200, json=[{"id": "c"}], headers={"Last-Page": "false"}),
        httpx.Response(200, json=[{"id": "a"}, {"id": "b"}], headers={"Last-Page": "false"}),
    ])
    with pytest.raises(ApiShapeError, match="page 3 repeats items already read"):
        run(lambda c: c.paginate("/cycling", page_size=2))


@respx.mock
def test_paging_says_what_it_waits_for(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(f"{CLOCKIFY}/paged").mock(side_effect=[
        httpx.Response(200, json=[{"id": "a"}], headers={"Last-Page": "false"}),
        httpx.Response(200, json=[{"id": "b"}], headers={"Last-Page": "true"}),
    ])
    with caplog.at_level(logging.INFO, logger="clocksync.clockify.client"):
        run(lambda c: c.paginate("/paged", page_size=1))
    assert "paginate: GET /paged page 2 (1 items so far)" in caplog.text


@respx.mock
def test_a_retry_after_past_the_cap_is_not_waited_out_in_silence() -> None:
    route = respx.get(f"{CLOCKIFY}/user").mock(return_value=httpx.Response(
        429, headers={"Retry-After": "999999"}, json={"message": "Too many requests", "code": 429}))
    sleeps: list[float] = []
    with pytest.raises(RateLimitedError) as info:
        run(lambda c: c.get_current_user(), sleeps=sleeps)
    assert route.call_count == 1 and sleeps == []
    assert "asks to wait 999,999 s" in str(info.value) and f"{CLOCKIFY}/user" in str(info.value)


@respx.mock
def test_a_long_wait_is_said(caplog: pytest.LogCaptureFixture) -> None:
    respx.get(f"{CLOCKIFY}/user").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "30"}, json={"message": "Too many requests", "code": 429}),
        httpx.Response(200, json={"id": "u1", "email": "a@example.com", "name": "A"})])
    sleeps: list[float] = []
    with caplog.at_level(logging.WARNING, logger="clocksync.clockify.client"):
        run(lambda c: c.get_current_user(), sleeps=sleeps)
    assert sleeps == [pytest.approx(30.0, abs=0.05)]
    assert "every request waits 30.0 s" in caplog.text, "a wait of 10 s or more is a warning (shown without -v)"
