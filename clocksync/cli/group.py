"""The `clocksync` group: options every command shares, and errors as `ClassName: message`."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from clocksync import __version__
from clocksync.cli.common import err
from clocksync.errors import ClocksyncError, Interrupted


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
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for HTTP requests).")
def cli(verbose: int) -> None:
    """Keep a Clockify workspace in line with an HR CSV: plan, review, apply.

    \b
    Quick start on the emulator:
      clocksync emulator &            # prints the export lines to paste
      clocksync plan examples/sample_users.csv --config examples/config.yaml
      clocksync apply plans/plan.json
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        logging.getLogger("httpx").setLevel(logging.WARNING)


