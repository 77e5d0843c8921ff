"""The `clocksync` command: parse options, call one library function, render, pick the exit code.

Exit codes: 0 success; 1 error (bad input, refused, failed or stale actions); with
``plan --detailed-exitcode``: 0 no changes, 2 changes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import click
import httpx

from clocksync import __version__
from clocksync.apply.executor import (
    CONFIRM_TEXT,
    ActionResult,
    ApplyReport,
    ApplySettings,
    Outcome,
    apply_plan,
)
from clocksync.clockify.client import ClockifyClient, RetryPolicy
from clocksync.config import Config, load_config
from clocksync.credentials import Connection, resolve_connection
from clocksync.emulator.variants import VARIANTS, Answers
from clocksync.errors import ClocksyncError, ConfirmationRequired
from clocksync.load.desired import load_desired
from clocksync.plan.compare import compare_plans, render_comparison
from clocksync.plan.file import Plan, load_plan, save_plan
from clocksync.plan.make import make_plan
from clocksync.plan.types import PlanOptions
from clocksync.preflight import preflight
from clocksync.render import render
from clocksync.templates import write_templates

T = TypeVar("T")
FORMATS = click.Choice(["text", "markdown", "json", "html"])
_STYLES: dict[str, dict[str, Any]] = {"add": {"fg": "green"}, "change": {"fg": "yellow"}, "remove": {"fg": "red"},
           "warn": {"fg": "yellow"}, "bold": {"bold": True}, "dim": {"dim": True}}


def _color_enabled(stream: Any = None) -> bool:
    stream = stream or sys.stdout
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def _style(text: str, role: str) -> str:
    return click.style(text, **_STYLES.get(role, {})) if _color_enabled() else text


def _err(message: str, role: str = "warn") -> None:
    styled = click.style(message, **_STYLES.get(role, {})) if _color_enabled(sys.stderr) else message
    click.echo(styled, err=True)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _prompt(label: str, hidden: bool) -> str:
    return str(click.prompt(label, hide_input=hidden, err=True))


def _connection(config: Config) -> Connection:
    prompt = _prompt if sys.stdin.isatty() else None
    return resolve_connection(config, prompt=prompt, warn=_err)


def _client(conn: Connection, config: Config) -> ClockifyClient:
    ctx = click.get_current_context()
    transport: httpx.AsyncBaseTransport | None = (ctx.find_root().obj or {}).get("transport")
    return ClockifyClient(
        conn.api_key.reveal(), conn.workspace_id, base_url=conn.base_url,
        requests_per_second=conn.requests_per_second, concurrency=config.api.concurrency,
        page_size=config.api.page_size, timeout=config.api.timeout_seconds,
        retry=RetryPolicy(max_attempts=config.api.max_attempts), transport=transport,
    )


def _config(path: Path, explicit: bool) -> Config:
    return load_config(path, required=explicit)


def _config_option(f: Any) -> Any:
    return click.option("--config", "config_path", type=click.Path(path_type=Path), default=Path("config.yaml"),
                        show_default=True, help="YAML config (the defaults apply if the default file is absent).")(f)


def _explicit(name: str) -> bool:
    source = click.get_current_context().get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


class _Group(click.Group):
    """Turns a ClocksyncError into `ClassName: message` on stderr and exit 1 (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ClocksyncError as exc:
            _err(f"{type(exc).__name__}: {exc}", "remove")
            ctx.exit(1)


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


@cli.command()
@click.argument("users_csv", type=click.Path(path_type=Path))
@_config_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("plans/plan.json"), show_default=True,
              help="Where to write the plan file.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are.")
@click.option("--deactivate-missing", is_flag=True, help="Deactivate ACTIVE members who are not in the CSV.")
@click.option("--delete-unmanaged-groups", is_flag=True, help="Delete groups that are neither managed nor protected.")
@click.option("--allow-mass-deactivation", is_flag=True, help="Override the deactivation threshold.")
@click.option("--allow-mass-group-deletion", is_flag=True, help="Override the group-deletion threshold.")
@click.option("--allow-mass-removal", is_flag=True, help="Override the membership-removal threshold.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="How to print the plan.")
def plan(users_csv: Path, config_path: Path, out: Path, detailed_exitcode: bool, deactivate_missing: bool,
         delete_unmanaged_groups: bool, allow_mass_deactivation: bool, allow_mass_group_deletion: bool,
         allow_mass_removal: bool, fmt: str) -> None:
    """Read USERS_CSV and the workspace; write the plan file and print what would change.

    Reads only: nothing is written to Clockify.

    \b
    Examples:
      clocksync plan users.csv
      clocksync plan users.csv --deactivate-missing --out plans/2026-11.json
      clocksync plan users.csv --detailed-exitcode --format markdown   # CI drift gate
    """
    config = _config(config_path, _explicit("config_path"))
    desired = load_desired(users_csv, config)
    conn = _connection(config)
    options = PlanOptions(
        deactivate_missing=deactivate_missing, delete_unmanaged_groups=delete_unmanaged_groups,
        allow_mass_deactivation=allow_mass_deactivation, allow_mass_group_deletion=allow_mass_group_deletion,
        allow_mass_removal=allow_mass_removal,
    )

    progress = _Progress("reading profiles")

    async def run() -> Plan:
        async with _client(conn, config) as client:
            return (await make_plan(client, desired, config, options, progress=progress.update)).plan

    result = _run(run())
    progress.close()
    save_plan(result, out)
    click.echo(render(result, fmt, _style), nl=False)
    if fmt == "json":
        for notice in result.notices:
            _err(f"warning: {notice.message}")
    _err(f"Plan written to {out}" + (f"; apply it with: clocksync apply {out}" if result.has_changes else ""), "dim")
    if detailed_exitcode and result.has_changes:
        sys.exit(2)


@cli.command()
@click.argument("plan_file", type=click.Path(path_type=Path))
@_config_option
@click.option("--confirm", help=f'Confirm destructive actions without a prompt: --confirm "{CONFIRM_TEXT}".')
@click.option("--log-dir", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Where sync_success_log.csv and sync_error_log.csv are written.")
def apply(plan_file: Path, config_path: Path, confirm: str | None, log_dir: Path) -> None:
    """Apply an approved PLAN_FILE: exactly its actions, each checked against the live workspace.

    \b
    Examples:
      clocksync apply plans/plan.json
      clocksync apply plans/plan.json --confirm "I UNDERSTAND" --log-dir audit/
    """
    loaded = load_plan(plan_file)
    config = _config(config_path, _explicit("config_path"))
    conn = _connection(config)
    destructive = loaded.destructive_actions
    if destructive and confirm is None:
        if not sys.stdin.isatty():
            raise ConfirmationRequired(
                f"the plan has {len(destructive)} destructive action(s) and there is no terminal to confirm on: "
                f"pass --confirm \"{CONFIRM_TEXT}\"; nothing was applied")
        _err(f"This plan has {len(destructive)} destructive action(s):", "remove")
        for action in destructive[:20]:
            _err(f"  ! {action.describe()}", "remove")
        confirm = click.prompt(f"Type {CONFIRM_TEXT} to continue", default="", show_default=False, err=True)
    progress = _Progress("applying")

    settings = ApplySettings(retry_budget=config.apply.retry_budget_seconds,
                             consistency_window=config.apply.consistency_window_seconds)

    async def run() -> ApplyReport:
        async with _client(conn, config) as client:
            return await apply_plan(client, loaded, confirm=confirm, log_dir=log_dir, plan_file=plan_file,
                                    settings=settings, progress=progress.action)

    report = _run(run())
    progress.close()
    _print_report(report)
    if not report.ok:
        sys.exit(1)


class _Progress:
    """A one-line bar with rate and ETA on a terminal; a line every 10% otherwise (200 items or more)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.total = 0
        self.tty = sys.stderr.isatty()
        self.start = time.monotonic()
        self.next_mark = 0.1

    def action(self, result: ActionResult, done: int, total: int) -> None:
        self.update(done, total)

    def update(self, done: int, total: int) -> None:
        self.total = total
        if total < 20 or (not self.tty and total < 200):
            return
        elapsed = max(time.monotonic() - self.start, 1e-6)
        rate = done / elapsed
        eta = (total - done) / rate if rate else 0
        if self.tty:
            width = 30
            filled = int(width * min(done / total, 1))
            sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} "
                             f"{rate:.1f}/s ETA {eta:.0f}s ")
            sys.stderr.flush()
        elif done / total >= self.next_mark:
            click.echo(f"{self.label}: {done}/{total} ({rate:.1f}/s)", err=True)
            self.next_mark += 0.1

    def close(self) -> None:
        if self.tty and self.total >= 20:
            sys.stderr.write("\n")


def _print_report(report: ApplyReport) -> None:
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome if report.count(o))
    for result in report.problems():
        _err(f"  {result.outcome.value}: {result.action.describe()}: {result.message}", "remove")
    for problem in report.verification:
        _err(f"  verification: {problem.message}", "remove")
    if report.resumed_from:
        click.echo(f"Resumed an interrupted apply (run {report.resumed_from}, which had finished "
                   f"{report.resumed} action(s)); each action was checked against the workspace again.")
    click.echo(f"Apply: {counts or 'nothing to do'}. {report.writes} write(s), {report.requests} request(s); "
               f"verified {report.verified} object(s) whole"
               + (f", {len(report.verification)} problem(s)" if report.verification else "") + ".")
    click.echo(f"Audit: {report.log_dir / 'sync_success_log.csv'}, {report.log_dir / 'sync_error_log.csv'}; "
               f"run {report.run_id}")
    if report.count(Outcome.STALE):
        _err("Stale actions were not applied: the workspace changed after the plan. Make a new plan.", "warn")


@cli.command()
@click.argument("plan_file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--since", "since", type=click.Path(path_type=Path),
              help="An earlier plan (the one you reviewed): show only what changed since.")
def show(plan_file: Path, fmt: str, since: Path | None) -> None:
    """Render a saved PLAN_FILE (checks its checksum too).

    \b
    Examples:
      clocksync show plans/plan.json --format html > plan.html
      clocksync show plans/plan.json --since plans/reviewed.json
    """
    loaded = load_plan(plan_file)
    if since is not None:
        click.echo(render_comparison(compare_plans(load_plan(since), loaded), str(since)), nl=False)
        return
    click.echo(render(loaded, fmt, _style), nl=False)


@cli.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Where to write config.yaml and .env.example.")
@click.option("--force", is_flag=True, help="Overwrite existing files.")
def init(directory: Path, force: bool) -> None:
    """Write a commented config.yaml and a .env.example to start from.

    \b
    Example:
      clocksync init && cp .env.example .env && chmod 600 .env
    """
    for path in write_templates(directory, force=force):
        click.echo(f"wrote {path}")
    click.echo("Next: set workspace.fallback_manager_email in config.yaml, fill in .env, run clocksync preflight.")


@cli.command(name="preflight")
@_config_option
def preflight_command(config_path: Path) -> None:
    """Read-only check that the API key can do what a sync needs (admin or owner, features)."""
    config = _config(config_path, _explicit("config_path"))
    conn = _connection(config)

    async def run() -> list[str]:
        async with _client(conn, config) as client:
            return list((await preflight(client)).checks)

    for line in _run(run()):
        click.echo(f"ok: {line}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--state", "state_file", type=click.Path(path_type=Path), help="Load and save the workspace here.")
@click.option("--api-key", envvar="CLOCKSYNC_EMULATOR_API_KEY", help="Use this API key (default: a random one).")
@click.option("--rate-limit", default=50.0, show_default=True, help="Requests per second per key; 0 = none.")
@click.option("--latency", default=0.0, show_default=True, help="Seconds added to every answer.")
@click.option("--retry-after", type=float, help="Send Retry-After (seconds) with 429 answers.")
@click.option("--p-429", default=0.0, help="Share of requests answered 429 on purpose.")
@click.option("--p-5xx", default=0.0, help="Share of requests answered 503.")
@click.option("--p-applied-502", default=0.0, help="Share of writes applied, then answered 502.")
@click.option("--p-drop", default=0.0, help="Share of requests handled, then dropped mid-answer.")
@click.option("--storm-every", default=0.0, help="Seconds between 429 storms (0: none).")
@click.option("--storm-length", default=0.0, help="Seconds each 429 storm lasts.")
@click.option("--seed", default=0, help="Seed of the fault injector.")
@click.option("--save-every", default=0.5, show_default=True, help="With --state: seconds between saves (0: at exit).")
@click.option("--live-variant", "live_variants", multiple=True, metavar="NAME",
              help="Answer as one plausible live behaviour (repeatable): " + "; ".join(
                  f"{name}: {what}" for name, what in VARIANTS.items()))
def emulator(host: str, port: int, state_file: Path | None, api_key: str | None, rate_limit: float, latency: float,
             retry_after: float | None, p_429: float, p_5xx: float, p_applied_502: float, p_drop: float,
             storm_every: float, storm_length: float, seed: int, save_every: float,
             live_variants: tuple[str, ...]) -> None:
    """Serve a local Clockify emulator (a demo workspace unless --state names a saved one).

    \b
    Examples:
      clocksync emulator --state /tmp/acme.json
      clocksync emulator --live-variant profile-patch-replaces --live-variant page-cap=200
    """
    from clocksync.emulator.server import (
        Emulator,
        EmulatorOptions,
        ServeInfo,
        base_url,
        build_server,
        load_or_create,
    )

    try:
        answers = Answers().with_variants(live_variants)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--live-variant") from None
    state, key = load_or_create(state_file, api_key)
    emu = Emulator(state, EmulatorOptions(rate_limit=rate_limit, latency=latency, retry_after=retry_after,
                                          p_429=p_429, p_5xx=p_5xx, p_applied_502=p_applied_502, p_drop=p_drop,
                                          storm_every=storm_every, storm_length=storm_length, seed=seed,
                                          answers=answers))
    info = ServeInfo(base_url(host, port), key, state.ws.id)
    click.echo("# Clockify emulator: paste these lines into the shell that runs clocksync")
    for line in info.export_lines():
        click.echo(line)
    click.echo(f"# serving workspace {state.ws.name!r} until Ctrl-C" + (f"; state in {state_file}" if state_file else "")
               + (f"; live variants: {', '.join(live_variants)}" if live_variants else ""), err=False)
    sys.stdout.flush()
    build_server(emu, host, port, state_file, save_every=save_every).run()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="clocksync")
