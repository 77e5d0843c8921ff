"""The `clocksync` command line: parse options, call one library function, render, pick the exit code.

Exit codes: 0 success; 1 error (bad input, refused, failed or stale actions); with
``plan --detailed-exitcode``: 0 no changes, 2 changes. Each command lives in a small module here;
the library under it never prints.
"""

from __future__ import annotations

from clocksync.cli import apply_cmd, plan_cmd, recover_cmd, setup_cmd  # noqa: F401  (registers the commands)
from clocksync.cli.group import cli


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="clocksync")


__all__ = ["cli", "main"]
