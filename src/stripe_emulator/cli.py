"""`revlens emulator` / `python -m stripe_emulator`: run the emulator in the foreground."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from stripe_emulator.config import ConfigError, EmulatorConfig

app = typer.Typer(
    help="A local, stateful emulator of the Stripe API.",
    add_completion=False,
    pretty_exceptions_enable=False,
)


def parse_time(value: str) -> int:
    """Parse `--now`: Unix seconds or an ISO 8601 date/time (UTC unless it says otherwise)."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--now must be Unix seconds or ISO 8601, got {value!r}") from None
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=2)


@app.callback(invoke_without_command=True)
def main(
    ctx: typer.Context,
    *,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0 picks a free one).")] = 12111,
    state: Annotated[
        str | None,
        typer.Option(help="SQLite file keeping state across restarts (in memory when absent)."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(help="Start time of the emulated clock (Unix seconds or ISO 8601)."),
    ] = None,
    secret_key: Annotated[
        str | None, typer.Option(help="Test-mode secret key sk_test_… (generated when absent).")
    ] = None,
    client_id: Annotated[
        str | None, typer.Option(help="Connect client id ca_… (generated when absent).")
    ] = None,
    redirect_uri: Annotated[
        list[str] | None, typer.Option(help="Allowed OAuth redirect URI (repeatable).")
    ] = None,
    control: Annotated[
        bool, typer.Option("--control", help="Serve the /_emulator control API.")
    ] = False,
    seed: Annotated[int | None, typer.Option(help="Seed for deterministic ids.")] = None,
) -> None:
    """Run the Stripe emulator until interrupted."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        config = EmulatorConfig(
            host=host,
            port=port,
            state_file=state,
            now=parse_time(now) if now is not None else None,
            secret_key=secret_key,
            client_id=client_id,
            redirect_uris=tuple(redirect_uri or ()),
            control=control,
            seed=seed,
        )
        from stripe_emulator.emulator import Emulator
        from stripe_emulator.server import bind_socket, serve_forever

        emulator = Emulator(config)
        sock = bind_socket(config.host, config.port)
    except (ConfigError, OSError, ValueError) as exc:
        _fail(str(exc))
        return
    actual_port = sock.getsockname()[1]
    platform = emulator.platform
    typer.echo(f"Stripe emulator listening on http://{config.host}:{actual_port}")
    typer.echo(f"  platform account  {platform.account_id}")
    typer.echo(f"  test secret key   {platform.secret_key_test}")
    typer.echo(f"  test publishable  {platform.publishable_key_test}")
    typer.echo(f"  live secret key   {platform.secret_key_live}")
    typer.echo(f"  live publishable  {platform.publishable_key_live}")
    typer.echo(f"  client_id         {platform.client_id}")
    typer.echo(f"  state             {config.state_file or 'in memory'}")
    typer.echo(f"  control API       {'on' if config.control else 'off'}")
    serve_forever(config, emulator, sock)


@app.command("seed")
def seed_command(
    *,
    accounts: Annotated[int, typer.Option(help="Connected accounts to create.")] = 3,
    customers: Annotated[int, typer.Option(help="Customers in all, spread over accounts.")] = 100,
    months: Annotated[int, typer.Option(help="Months of history before --end.")] = 12,
    seed: Annotated[int, typer.Option(help="Seed of the stories and of the emulator's ids.")] = 1,
    end: Annotated[
        str | None,
        typer.Option(
            help="End of the history (Unix seconds or ISO 8601; default today 00:00 UTC)."
        ),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="Drive a running emulator (with --control) instead of starting one."),
    ] = None,
    state: Annotated[
        str | None, typer.Option(help="SQLite file for the emulator this command starts.")
    ] = None,
    truth: Annotated[
        str, typer.Option(help="Where to write the ground truth JSON.")
    ] = "scenario-truth.json",
    processes: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Processes that play a large history's parts at once (default: one per CPU).",
        ),
    ] = None,
) -> None:
    """Build a SaaS history through the API and clock control; write its ground truth.

    A history of 200 customers or more is played in parts, each on an emulator of its own,
    and merged into --state (see the README); against --url it is played whole.
    """
    import time
    from pathlib import Path

    import orjson

    from stripe_emulator.scenario.merge import MergeError
    from stripe_emulator.scenario.run import ScenarioOptions, run
    from stripe_emulator.scenario.wire import ScenarioError

    try:
        until = parse_time(end) if end is not None else int(time.time()) // 86400 * 86400
        summary = run(
            ScenarioOptions(
                accounts=accounts,
                customers=customers,
                months=months,
                seed=seed,
                end=until,
                truth=Path(truth),
                url=url,
                state=state,
                processes=processes,
            )
        )
    except (ConfigError, ScenarioError, MergeError, OSError) as exc:
        _fail(str(exc))
        return
    typer.echo(orjson.dumps(summary).decode())
