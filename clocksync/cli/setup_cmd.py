"""`clocksync init`, `clocksync preflight` and `clocksync emulator`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from clocksync.cli.common import (
    config_of,
    config_option,
    connection,
    explicit,
    make_client,
    run_async,
    say,
)
from clocksync.cli.group import cli
from clocksync.emulator.variants import VARIANTS, Answers
from clocksync.preflight import preflight
from clocksync.templates import write_templates


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
@config_option
def preflight_command(config_path: Path) -> None:
    """Read-only check that the API key can do what a sync needs (admin or owner, features)."""
    config = config_of(config_path, explicit("config_path"))
    conn = connection(config)

    async def run() -> list[str]:
        async with make_client(conn, config) as client:
            return list((await preflight(client)).checks)

    for line in run_async(run()):
        say(f"ok: {line}")


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
@click.option("--hold-writes-after", type=int, metavar="N",
              help="Answer N writes, then hold every later write unanswered until POST /__emulator__/release or "
                   "until its client goes away (a server that stops answering mid-run).")
@click.option("--save-every", default=0.5, show_default=True, help="With --state: seconds between saves (0: at exit).")
@click.option("--refuse-create", "refuse_creates", multiple=True, metavar="NAME",
              help="Refuse (400) creating a group or custom field of this name, to see a failed step contained "
                   "(repeatable).")
@click.option("--live-variant", "live_variants", multiple=True, metavar="NAME",
              help="Answer as one plausible live behaviour (repeatable): " + "; ".join(
                  f"{name}: {what}" for name, what in VARIANTS.items()))
def emulator(host: str, port: int, state_file: Path | None, api_key: str | None, rate_limit: float, latency: float,
             retry_after: float | None, p_429: float, p_5xx: float, p_applied_502: float, p_drop: float,
             storm_every: float, storm_length: float, seed: int, hold_writes_after: int | None, save_every: float,
             refuse_creates: tuple[str, ...], live_variants: tuple[str, ...]) -> None:
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
                                          refuse_creates=frozenset(refuse_creates), answers=answers,
                                          hold_writes_after=hold_writes_after))
    info = ServeInfo(base_url(host, port), key, state.ws.id)
    click.echo("# Clockify emulator: paste these lines into the shell that runs clocksync")
    for line in info.export_lines():
        click.echo(line)
    click.echo(f"# serving workspace {state.ws.name!r} until Ctrl-C" + (f"; state in {state_file}" if state_file else "")
               + (f"; live variants: {', '.join(live_variants)}" if live_variants else ""), err=False)
    sys.stdout.flush()
    build_server(emu, host, port, state_file, save_every=save_every).run()


