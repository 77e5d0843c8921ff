"""`clocksync undo`, `clocksync history` and `clocksync export`."""

from __future__ import annotations

from pathlib import Path

import click

from clocksync.apply.runlog import list_runs
from clocksync.cli.common import (
    FORMATS,
    config_of,
    config_option,
    connection,
    emit,
    err,
    explicit,
    make_client,
    run_async,
    style,
)
from clocksync.cli.group import cli
from clocksync.config import Config
from clocksync.export import Export, check_out_dir, export_workspace, write_export
from clocksync.plan.file import save_plan
from clocksync.plan.make import now_utc
from clocksync.plan.seal import SealKey
from clocksync.render import render
from clocksync.render.history import render_history
from clocksync.undo import build_undo, find_run

_LOG_DIR = click.option("--log-dir", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
                        show_default=True, help="The --log-dir the applies wrote to.")


@cli.command()
@_LOG_DIR
@click.option("--run", "run_id", help="The run to take back (default: the latest; see clocksync history).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("plans/undo.json"), show_default=True,
              help="Where to write the undo plan.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="How to print the plan.")
def undo(log_dir: Path, run_id: str | None, out: Path, fmt: str) -> None:
    """Build a plan that takes back what an apply run changed. Reads only.

    The undo plan is sealed with the API key, like any plan (the key and workspace are needed;
    no request is made). The plan is applied with `clocksync apply` like any other: each action is checked against the
    workspace first, so what someone changed since the run is reported stale, not overwritten.

    \b
    Examples:
      clocksync undo                                # the latest run in this folder
      clocksync undo --run 20261127T101500Z --log-dir audit/
      clocksync apply plans/undo.json
    """
    run = find_run(log_dir, run_id)
    conn = connection(Config())  # the undo plan is sealed with the key, like any plan; no request is made
    plan = build_undo(run, created_at=now_utc(), seal_key=SealKey.derive(conn.api_key.reveal(), conn.workspace_id))
    save_plan(plan, out)
    emit(render(plan, fmt, style))
    if fmt == "json":
        for notice in plan.notices:
            err(f"note: {notice.message}")
    apply = f"clocksync apply {out}" + (f" --log-dir {log_dir}" if explicit("log_dir") else "")
    err(f"Undo plan for run {run.run_id} written to {out}"
        + (f"; review it, then: {apply}" if plan.has_changes else ": nothing to take back"), "dim")


@cli.command()
@_LOG_DIR
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def history(log_dir: Path, fmt: str) -> None:
    """One line per apply run: time, run id, the plan it applied (the run folder's copy), counts by outcome,
    whether it finished."""
    emit(render_history(list_runs(log_dir), fmt))



@cli.command()
@click.argument("out_dir", type=click.Path(path_type=Path))
@config_option
@click.option("--force", is_flag=True, help="Write into a folder that is not empty.")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="csv", show_default=True,
              help="users.csv, or users.xlsx (an Excel workbook).")
def export(out_dir: Path, config_path: Path, force: bool, fmt: str) -> None:
    """Write the workspace as OUT_DIR/users.csv (or users.xlsx) and OUT_DIR/config.yaml, to adopt clocksync on it.
    Reads only.

    On a workspace clocksync has converged, a plan from the export changes nothing. What the CSV
    cannot express is listed on stderr. Settings of --config (when it exists) are kept; the rest
    is guessed and marked so in the config.

    \b
    Example:
      clocksync export adopt/ && clocksync plan adopt/users.csv --config adopt/config.yaml
      clocksync export adopt/ --format xlsx
    """
    check_out_dir(out_dir, force=force)
    config = config_of(config_path, explicit("config_path"))
    given = config if config.source != "(defaults)" else None
    conn = connection(config)

    async def run() -> Export:
        async with make_client(conn, config) as client:
            return await export_workspace(client, given)

    result = run_async(run())
    paths = write_export(result, out_dir, force=force, fmt=fmt)
    for note in result.notes:
        err(f"note: {note}")
    click.echo(f"Exported {result.rows} member(s): {paths[0]}, {paths[1]}")
    click.echo(f"Next: clocksync plan {paths[0]} --config {paths[1]} --detailed-exitcode")
