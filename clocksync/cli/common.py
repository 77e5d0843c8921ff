"""What every command shares: output styles, credentials, the client, config loading, progress."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from clocksync.clockify.client import ClockifyClient, RetryPolicy
from clocksync.config import Config, load_config
from clocksync.credentials import Connection, Secret, find_api_key, hide_secrets, resolve_connection
from clocksync.sanitize import visible_lines

T = TypeVar("T")
FORMATS = click.Choice(["text", "markdown", "json", "html"])
STYLES: dict[str, dict[str, Any]] = {"add": {"fg": "green"}, "change": {"fg": "yellow"}, "remove": {"fg": "red"},
           "warn": {"fg": "yellow"}, "bold": {"bold": True}, "dim": {"dim": True}}


def color_enabled(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def style(text: str, role: str) -> str:
    """``text`` in the colour of ``role`` on a terminal that wants colour."""
    return click.style(text, **STYLES.get(role, {})) if color_enabled() else text


def err(message: str, role: str = "warn") -> None:
    """A message on stderr; text from the workspace or a file in it is shown, never acted on."""
    message = visible_lines(hide_secrets(message))
    styled = click.style(message, **STYLES.get(role, {})) if color_enabled(sys.stderr) else message
    click.echo(styled, err=True)


def emit(rendered: str) -> None:
    """A rendered plan, report or history on stdout, as rendered (it is already safe to show), with
    any part of the key cut out: a users file can hold the key in a cell."""
    click.echo(hide_secrets(rendered), nl=False)


def say(text: str, nl: bool = True) -> None:
    """Text that may hold workspace values on stdout, line breaks kept, everything else visible."""
    click.echo(visible_lines(hide_secrets(text)), nl=nl)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def prompt_hidden(label: str, hidden: bool) -> str:
    return str(click.prompt(label, hide_input=hidden, err=True))


def _root_obj() -> dict[str, Any]:
    obj = click.get_current_context().find_root().obj
    return obj if isinstance(obj, dict) else {}


def connection(config: Config) -> Connection:
    prompt = prompt_hidden if sys.stdin.isatty() else None
    dotenv = None if _root_obj().get("no_dotenv") else Path(".env")
    return resolve_connection(config, prompt=prompt, warn=err, dotenv_path=dotenv)


def api_key_if_any() -> Secret | None:
    """The API key when the environment or .env holds one; None otherwise (no prompt)."""
    return find_api_key(dotenv_path=None if _root_obj().get("no_dotenv") else Path(".env"))


def make_client(conn: Connection, config: Config) -> ClockifyClient:
    transport: httpx.AsyncBaseTransport | None = _root_obj().get("transport")
    return ClockifyClient(
        conn.api_key.reveal(), conn.workspace_id, base_url=conn.base_url,
        requests_per_second=conn.requests_per_second, concurrency=config.api.concurrency,
        page_size=config.api.page_size, timeout=config.api.timeout_seconds,
        retry=RetryPolicy(max_attempts=config.api.max_attempts), transport=transport,
        allow_hosts=conn.allow_hosts, base_url_from=conn.base_url_from,
    )


def config_of(path: Path, explicit: bool, *, required: bool = False) -> Config:
    """The config at ``path``; ``explicit``: the user named it. A missing ``config.yaml`` gives the
    defaults unless ``required`` (``plan``: a plan from defaults would ignore the mapped columns)."""
    return load_config(path, required=explicit or required, given=explicit)


def config_option(f: Any) -> Any:
    return click.option("--config", "config_path", type=click.Path(path_type=Path), default=Path("config.yaml"),
                        show_default=True, help="YAML config (clocksync init writes one).")(f)


def explicit(name: str) -> bool:
    source = click.get_current_context().get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


class _Rate(ProgressColumn):
    """Items per second, from rich's own speed estimate."""

    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:.1f}/s" if task.speed else "-/s", style="progress.data.speed")


class Progress:
    """A bar with rate and ETA on a terminal (rich); a plain line every 10 % otherwise (200 items or more)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.next_mark = 0.1
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None

    def action(self, result: Any, done: int, total: int) -> None:
        self.update(done, total)

    def update(self, done: int, total: int) -> None:
        if total < 20 or (not self.tty and total < 200):
            return
        if self.tty:
            if self._bar is None:
                self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                         _Rate(), TimeRemainingColumn(), console=Console(stderr=True))
                self._bar.start()
                self._task = self._bar.add_task(self.label, total=total)
            assert self._task is not None
            self._bar.update(self._task, completed=done, total=total)
        elif done / total >= self.next_mark:
            rate = done / max(time.monotonic() - self.start, 1e-6)
            click.echo(f"{self.label}: {done}/{total} ({rate:.1f}/s)", err=True)
            self.next_mark += 0.1

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
