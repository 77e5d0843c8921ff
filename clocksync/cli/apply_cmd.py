"""`clocksync apply`."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import click

from clocksync.apply.admit import admit
from clocksync.apply.executor import CONFIRM_TEXT, apply_plan
from clocksync.apply.report import ApplyReport, ApplySettings, Outcome
from clocksync.apply.stop import Stop
from clocksync.cli.common import (
    Progress,
    config_of,
    config_option,
    connection,
    err,
    explicit,
    make_client,
    run_async,
)
from clocksync.cli.group import cli
from clocksync.clockify.client import api_host
from clocksync.credentials import hide_secrets
from clocksync.errors import ConfirmationRequired, FileError
from clocksync.files import write_private
from clocksync.plan.file import Plan, load_plan
from clocksync.plan.seal import SealKey
from clocksync.render import render_apply_html
from clocksync.render.output import check_writable

STOP_GRACE = 10.0  # seconds the writes in flight at Ctrl-C get for their answers
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}


@cli.command()
@click.argument("plan_file", type=click.Path(path_type=Path))
@config_option
@click.option("--confirm", help=f'Confirm destructive actions without a prompt: --confirm "{CONFIRM_TEXT}".')
@click.option("--log-dir", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="Where sync_success_log.csv and sync_error_log.csv are written.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write an HTML report of the run (each action's outcome; searchable).")
@click.option("--allow-old-plan", is_flag=True,
              help="Apply a plan older than apply.max_plan_age_hours (default 72) all the same.")
def apply(plan_file: Path, config_path: Path, confirm: str | None, log_dir: Path, report_path: Path | None,
          allow_old_plan: bool) -> None:
    """Apply an approved PLAN_FILE: exactly its actions, each checked against the live workspace.

    Ctrl-C (or SIGTERM) stops it: nothing more is sent, the writes already sent get a few seconds
    for their answers (Ctrl-C again: stop now), what finished is recorded, the report is written,
    and the exit code is 130 (143 for SIGTERM). Run the same plan again to finish.

    \b
    Examples:
      clocksync apply plans/plan.json
      clocksync apply plans/plan.json --confirm "I UNDERSTAND" --log-dir audit/ --report audit/apply.html
    """
    loaded = load_plan(plan_file)
    config = config_of(config_path, explicit("config_path"))
    conn = connection(config)
    settings = ApplySettings(retry_budget=config.apply.retry_budget_seconds,
                             consistency_window=config.apply.consistency_window_seconds,
                             max_plan_age_hours=config.apply.max_plan_age_hours, allow_old_plan=allow_old_plan)
    # Seal, workspace, host and age before the operator is asked anything (apply_plan checks them again).
    admit(loaded, workspace_id=conn.workspace_id, api_host=api_host(conn.base_url),
          seal_key=SealKey.derive(conn.api_key.reveal(), conn.workspace_id), settings=settings)
    destructive = loaded.destructive_actions
    if destructive and confirm is None:
        if not sys.stdin.isatty():
            raise ConfirmationRequired(
                f"the plan has {len(destructive)} destructive action(s) and there is no terminal to confirm on: "
                f"pass --confirm \"{CONFIRM_TEXT}\"; nothing was applied")
        err(f"This plan has {len(destructive)} destructive action(s):", "remove")
        for action in destructive[:20]:
            err(f"  ! {action.describe(loaded.shown())}", "remove")
        confirm = click.prompt(f"Type {CONFIRM_TEXT} to continue", default="", show_default=False, err=True)
    if report_path is not None:  # before any write: a report that cannot be written stops the run here
        try:
            check_writable(report_path)
        except FileError as exc:
            raise FileError(f"--report {exc}; nothing was applied") from None
    progress = Progress("applying")
    stop = Stop(grace=STOP_GRACE, notify=stopping)

    async def run() -> ApplyReport:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.request, sig.name)
        try:
            async with make_client(conn, config) as client:
                return await apply_plan(client, loaded, confirm=confirm, log_dir=log_dir, plan_file=plan_file,
                                        settings=settings, progress=progress.action, stop=stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    try:
        report = run_async(run())
    finally:
        progress.close()
    print_report(report, loaded)
    if report_path is not None:
        try:
            write_private(report_path, hide_secrets(render_apply_html(loaded, report)))
            click.echo(f"Report: {report_path}")
        except FileError as exc:  # the writes above landed; this is only the report of them
            err(f"FileError: the report was not written: {exc}; the apply itself is as summarised above and "
                f"recorded in the audit CSVs and run {report.run_id}", "remove")
    again = f"clocksync apply {plan_file}" + (f" --config {config_path}" if explicit("config_path") else "") + (
        f" --log-dir {log_dir}" if explicit("log_dir") else "")
    undo = "clocksync undo" + (f" --log-dir {log_dir}" if explicit("log_dir") else "") + f" --run {report.run_id}"
    if report.interrupted:
        err(f"Interrupted by {report.interrupted}. To finish, run the same plan again: {again}", "warn")
        err("  each action is checked against the workspace again, so what this run applied is 'already in "
            "place' and the rest is done" + ("; an action 'in flight' was sent without an answer and may have "
                                            "landed" if report.count(Outcome.IN_FLIGHT) else ""), "warn")
        err(f"  to take back what this run did instead: {undo}", "dim")
        sys.exit(EXIT_CODES.get(report.interrupted, 130))
    if report.count(Outcome.APPLIED):
        err(f"To take this run back: {undo}", "dim")
    if not report.ok:
        sys.exit(1)


def stopping(reason: str, in_flight: int) -> None:
    """What the operator sees the moment they press Ctrl-C (or the process gets SIGTERM)."""
    if in_flight:
        err(f"Stopping ({reason}): no more writes are sent; waiting up to {STOP_GRACE:g} s for the answers to "
            f"{in_flight} write(s) in flight (Ctrl-C again to stop now)", "warn")
    else:
        err(f"Stopping ({reason}): no more writes are sent", "warn")


def print_report(report: ApplyReport, plan: Plan) -> None:
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in Outcome if report.count(o))
    for result in report.problems():
        if result.outcome is not Outcome.NOT_RUN:
            err(f"  {result.outcome.value}: {result.action.describe(plan.shown())}: {result.message}", "remove")
    for problem in report.verification:
        err(f"  verification: {problem.message}", "remove")
    if report.resumed_from:
        click.echo(f"Resumed an interrupted apply (run {report.resumed_from}, which had finished "
                   f"{report.resumed} action(s)); each action was checked against the workspace again.")
    verified = ("not verified: the run was stopped" if report.interrupted else
                f"verified {report.verified} object(s) whole"
                + (f", {len(report.verification)} problem(s)" if report.verification else ""))
    click.echo(f"Apply: {counts or 'nothing to do'}. {report.writes} write(s), {report.requests} request(s); "
               f"{verified}.")
    click.echo(f"Audit: {report.log_dir / 'sync_success_log.csv'}, {report.log_dir / 'sync_error_log.csv'}; "
               f"run {report.run_id}")
    if report.count(Outcome.STALE):
        err("Stale actions were not applied: the workspace changed after the plan. Make a new plan.", "warn")
