"""The `clocksync` group: options every command shares, and errors as `ClassName: message`."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from clocksync import __version__
from clocksync.cli.common import err
from clocksync.credentials import hide_secrets
from clocksync.errors import ClocksyncError, Interrupted
from clocksync.sanitize import visible_lines


class _VisibleFormatter(logging.Formatter):
    """Log lines carry server messages and names: shown, never acted on by the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        return visible_lines(hide_secrets(super().format(record)))


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the stderr of the moment (a test runner swaps it per command)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr  # not setStream: it would flush the stream of the moment before, maybe closed
        super().emit(record)


def _log_to_stderr(level: int) -> None:
    """The root logger at ``level`` through one handler of ours (replaced, not added, per command)."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "clocksync"]:
        root.removeHandler(old)
    handler = _Stderr(sys.stderr)
    handler.set_name("clocksync")
    handler.setFormatter(_VisibleFormatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)


class _Group(click.Group):
    """Turns a ClocksyncError into `ClassName: message` on stderr and exit 1 (no traceback); an
    interruption (Ctrl-C outside an apply's writes) exits 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Interrupted as exc:
            err(f"{type(exc).__name__}: {exc}", "remove")
            ctx.exit(exc.exit_code)
        except ClocksyncError as exc:
            err(f"{type(exc).__name__}: {exc}", "remove")
            ctx.exit(1)
        except KeyboardInterrupt:
            err("Interrupted (SIGINT).", "remove")
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clocksync")
@click.option("-v", "--verbose", count=True, help="More log output on stderr: retries, waits and pages (-vv for "
              "HTTP requests).")
@click.option("--no-dotenv", is_flag=True, envvar="CLOCKSYNC_NO_DOTENV",
              help="Do not read .env (a CI job that plans a pull request's files sets CLOCKSYNC_NO_DOTENV=1).")
@click.pass_context
def cli(ctx: click.Context, verbose: int, no_dotenv: bool) -> None:
    """Keep a Clockify workspace in line with an HR CSV: plan, review, apply.

    \b
    Quick start on the emulator:
      clocksync emulator &            # prints the export lines to paste
      clocksync plan examples/sample_users.csv --config examples/config.yaml
      clocksync apply plans/plan.json
    """
    _log_to_stderr(max(logging.WARNING - 10 * verbose, logging.DEBUG))
    logging.getLogger("httpx").setLevel(logging.NOTSET if verbose >= 2 else logging.WARNING)
    if not isinstance(ctx.obj, dict):
        ctx.obj = {}
    ctx.obj["no_dotenv"] = no_dotenv


