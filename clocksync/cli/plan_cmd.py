"""`clocksync plan` and `clocksync show`."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from clocksync.cli.common import (
    FORMATS,
    Progress,
    api_key_if_any,
    config_of,
    config_option,
    connection,
    emit,
    err,
    explicit,
    make_client,
    run_async,
    say,
    style,
)
from clocksync.cli.group import cli
from clocksync.load.desired import load_desired
from clocksync.plan.compare import compare_plans, render_comparison
from clocksync.plan.file import Plan, load_plan, save_plan
from clocksync.plan.make import make_plan
from clocksync.plan.seal import SealKey
from clocksync.plan.types import PlanOptions
from clocksync.render import render


@cli.command()
@click.argument("users_csv", type=click.Path(path_type=Path))
@config_option
@click.option("--out", type=click.Path(path_type=Path), default=Path("plans/plan.json"), show_default=True,
              help="Where to write the plan file.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when there are no changes, 2 when there are.")
@click.option("--deactivate-missing", is_flag=True, help="Deactivate ACTIVE members who are not in the CSV.")
@click.option("--delete-unmanaged-groups", is_flag=True, help="Delete groups that are neither managed nor protected.")
@click.option("--allow-mass-deactivation", is_flag=True, help="Override the deactivation threshold.")
@click.option("--allow-mass-group-deletion", is_flag=True, help="Override the group-deletion threshold.")
@click.option("--allow-mass-removal", is_flag=True, help="Override the membership-removal threshold.")
@click.option("--allow-mass-field-change", is_flag=True,
              help="Override the threshold on one custom field (or capacity) overwritten for many users.")
@click.option("--as-of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Plan for this day instead of today: start and end dates, exception expiry.")
@click.option("--only", multiple=True, metavar="PATTERN",
              help="Only actions about these users (email or glob, repeatable), e.g. --only '*@contractor.example'.")
@click.option("--exclude", multiple=True, metavar="PATTERN", help="Leave out actions about these users (repeatable).")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True, help="How to print the plan.")
def plan(users_csv: Path, config_path: Path, out: Path, detailed_exitcode: bool, deactivate_missing: bool,
         delete_unmanaged_groups: bool, allow_mass_deactivation: bool, allow_mass_group_deletion: bool,
         allow_mass_removal: bool, allow_mass_field_change: bool, as_of: datetime | None, only: tuple[str, ...],
         exclude: tuple[str, ...], fmt: str) -> None:
    """Read USERS_CSV and the workspace; write the plan file and print what would change.

    Reads only: nothing is written to Clockify.

    \b
    Examples:
      clocksync plan users.csv
      clocksync plan users.csv --deactivate-missing --out plans/2026-11.json
      clocksync plan users.csv --detailed-exitcode --format markdown   # CI drift gate
      clocksync plan users.csv --only jane.smith@example.com          # fix one person now
      clocksync plan users.csv --deactivate-missing --as-of 2027-01-01
    """
    config = config_of(config_path, explicit("config_path"), required=True)
    desired = load_desired(users_csv, config)
    conn = connection(config)
    options = PlanOptions(
        deactivate_missing=deactivate_missing, delete_unmanaged_groups=delete_unmanaged_groups,
        allow_mass_deactivation=allow_mass_deactivation, allow_mass_group_deletion=allow_mass_group_deletion,
        allow_mass_removal=allow_mass_removal, allow_mass_field_change=allow_mass_field_change,
        as_of=as_of.date().isoformat() if as_of else "", only=only, exclude=exclude,
    )

    progress = Progress("reading profiles")

    async def run() -> Plan:
        async with make_client(conn, config) as client:
            return await make_plan(client, desired, config, options, progress=progress.update)

    result = run_async(run())
    progress.close()
    save_plan(result, out)
    emit(render(result, fmt, style))
    if fmt == "json":
        for notice in result.notices:
            err(f"warning: {notice.message}")
    apply = f"clocksync apply {out}" + (f" --config {config_path}" if explicit("config_path") else "")
    err(f"Plan written to {out}" + (f"; apply it with: {apply}" if result.has_changes else ""), "dim")
    if detailed_exitcode and result.has_changes:
        sys.exit(2)


SEAL_FAILS = ("the seal does not match this API key: the plan was changed after it was made, or made with "
              "another key; apply with this key refuses it")


def say_seal(plan: Plan) -> bool:
    """Tell on stderr whether the plan's seal was checked, and what it showed; False when it was
    checked and does not verify."""
    key = api_key_if_any()
    if key is None:
        err("seal not checked: no CLOCKIFY_API_KEY here (apply checks it before any write)", "dim")
    elif plan.seal_verifies(SealKey.derive(key.reveal(), plan.workspace_id)):
        err("seal checked: the plan was made with this API key and not changed since", "dim")
    else:
        err(f"WARNING: {SEAL_FAILS}", "remove")
        return False
    return True


@cli.command()
@click.argument("plan_file", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--since", "since", type=click.Path(path_type=Path),
              help="An earlier plan (the one you reviewed): show only what changed since.")
@click.option("--show-sensitive", is_flag=True,
              help="Show the values of rates and of the fields in sensitive_fields (hidden by default).")
def show(plan_file: Path, fmt: str, since: Path | None, show_sensitive: bool) -> None:
    """Render a saved PLAN_FILE (checks its checksum too).

    With an API key in the environment or .env, the plan's seal is checked too, and stderr says
    whether it matches that key; a seal that does not match heads the rendering (text, markdown,
    HTML) and the exit status is 1. Without a key the plan is rendered and stderr says the seal
    was not checked (apply always checks it).

    \b
    Examples:
      clocksync show plans/plan.json --format html > plan.html
      clocksync show plans/plan.json --since plans/reviewed.json
      clocksync show plans/plan.json --show-sensitive        # with the rates and sensitive field values
    """
    loaded = load_plan(plan_file)
    sealed = say_seal(loaded)
    if since is not None:
        say(render_comparison(compare_plans(load_plan(since), loaded), str(since), loaded.shown(show_sensitive)),
            nl=False)
    else:
        emit(render(loaded, fmt, style, reveal=show_sensitive, warning="" if sealed else SEAL_FAILS))
    if not sealed:  # shown, so a reviewer sees what was changed, but never passed as a plan to approve
        sys.exit(1)


