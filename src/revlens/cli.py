"""The `revlens` command line."""

from __future__ import annotations

import contextlib
import importlib
import logging
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

import revlens
from revlens.config import CONFIG_FILE_VARIABLE, Settings, load_settings
from revlens.db import migrate as migrations
from revlens.db.session import Database
from revlens.errors import ConfigError, RevlensError, StartupError
from stripe_emulator.cli import app as emulator_app

if TYPE_CHECKING:
    from revlens.demo import DemoStripe

app = typer.Typer(
    name="revlens",
    help="revlens: subscription analytics for the Stripe accounts that connect to it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
errors = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="A revlens.toml file (default: $REVLENS_CONFIG or ./revlens.toml)."
    ),
]


def _settings(config: Path | None) -> Settings:
    settings = load_settings(config_file=config)
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if settings.log_level != "debug":
        # A line per migration step, Stripe request or queued task drowns what matters.
        for noisy in ("alembic", "stripe", "huey"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return settings


def _database(settings: Settings) -> Database:
    database = Database.from_url(settings.database_url, pool_size=settings.database_pool_size)
    database.check()
    return database


@app.command()
def version() -> None:
    """Print the version of revlens."""
    console.print(f"revlens {revlens.__version__}")


@app.command()
def migrate(
    config: ConfigOption = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Bring the database schema up to date (or to --revision)."""
    settings = _settings(config)
    database = _database(settings)
    before = migrations.current_revision(database.engine)
    migrations.upgrade(database.engine, revision)
    after = migrations.current_revision(database.engine)
    database.dispose()
    if before == after:
        console.print(f"database already at {after}")
    else:
        console.print(f"database migrated from {before or 'nothing'} to {after}")


@app.command()
def worker(
    config: ConfigOption = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker threads.")] = 2,
    processes: Annotated[
        bool,
        typer.Option(
            "--processes",
            help="Run the workers as processes forked from this one (a core each), not threads.",
        ),
    ] = False,
) -> None:
    """Run the queue consumer until interrupted."""
    from revlens.tasks.queue import make_queue

    settings = _settings(config)
    database = _database(settings)
    migrations.check_schema(database.engine)
    queue = make_queue(settings, database=database)
    queue.check()
    kind = "processes" if processes else "threads"
    console.print(f"worker: {workers} {kind} on {settings.queue_url}")
    queue.run_worker(workers=workers, processes=processes)


MAX_WEB_WORKERS = 64


def _web_workers(value: str | int) -> int:
    # One clear line for a bad count (a typer range check prints a framed usage error).
    text = str(value).strip()
    count = int(text) if text.isdecimal() else 0
    if not 1 <= count <= MAX_WEB_WORKERS:
        raise ConfigError(
            "--workers", f"expected a whole number from 1 to {MAX_WEB_WORKERS}, got {value!r}"
        )
    return count


@app.command()
def serve(
    config: ConfigOption = None,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            parser=_web_workers,
            metavar="N",
            help="Web processes sharing the port; each builds its own app (default 1).",
        ),
    ] = 1,
) -> None:
    """Serve the web app."""
    import os

    import uvicorn

    from revlens.tasks.queue import make_queue
    from revlens.web.app import create_app

    settings = _settings(config)
    database = _database(settings)
    migrations.check_schema(database.engine)
    queue = make_queue(settings, database=database)
    queue.check()
    processes = f", {workers} processes" if workers > 1 else ""
    console.print(f"serving on http://{host}:{port}{processes} (public URL {settings.public_url})")
    options: dict[str, Any] = {"log_level": settings.log_level, "proxy_headers": True}
    if workers == 1:
        uvicorn.run(
            create_app(settings, database=database, queue=queue), host=host, port=port, **options
        )
        return
    from revlens.web.serve import serve_processes

    database.dispose()
    if config is not None:
        # Each process reads the settings again (web_app), from the same file.
        os.environ[CONFIG_FILE_VARIABLE] = str(config.resolve())
    try:
        status = serve_processes(host=host, port=port, workers=workers, options=options)
    except OSError as exc:
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    if status:
        sys.exit(status)


def web_app() -> Callable[..., Awaitable[None]]:
    """Build the app of one `revlens serve --workers` process from the environment's settings."""
    from revlens.web.app import create_app

    return create_app(_settings(None))


@app.command()
def sync(
    account: Annotated[str, typer.Argument(help="The connected account (acct_…).")],
    config: ConfigOption = None,
    full: Annotated[bool, typer.Option("--full", help="Re-backfill every stream.")] = False,
    wait: Annotated[bool, typer.Option(help="Show progress until the backfill completes.")] = True,
) -> None:
    """Queue a backfill of ACCOUNT (a worker runs it) and show its progress per stream."""
    import time

    from rich.progress import BarColumn, Progress, TaskID, TextColumn

    from revlens.accounts.service import get_account
    from revlens.mirror.sync import account_status
    from revlens.tasks.jobs import sync_account
    from revlens.tasks.queue import make_queue

    settings = _settings(config)
    database = _database(settings)
    migrations.check_schema(database.engine)
    with database.read() as session:
        found = get_account(session, account)
        if found is None or not found.is_connected:
            raise RevlensError(f"{account} is not a connected account")
    queue = make_queue(settings, database=database)
    queue.check()
    queue.enqueue(sync_account, account_id=account, full=full)
    console.print(f"backfill of {account} queued{' (full)' if full else ''}")
    if not wait:
        return
    columns = (TextColumn("{task.description:<22}"), BarColumn(), TextColumn("{task.fields[info]}"))
    with Progress(*columns, console=console) as progress:
        tasks: dict[str, TaskID] = {}
        started = time.monotonic()
        while True:
            with database.read() as session:
                status = account_status(session, account_id=account)
            for stream in status.streams:
                info = (
                    f"{stream.status:<8} {stream.objects:>8} objects  {stream.requests} requests"
                    f"  {stream.rate_limited} rate-limited"
                )
                if stream.stream not in tasks:
                    tasks[stream.stream] = progress.add_task(stream.stream, total=100, info=info)
                progress.update(tasks[stream.stream], completed=stream.percent, info=info)
            if status.complete:
                break
            if not status.streams and time.monotonic() - started > 15:
                raise RevlensError("nothing happened for 15 s: is `revlens worker` running?")
            time.sleep(0.5)
    console.print(f"{account}: every stream complete")


webhooks_app = typer.Typer(help="revlens' webhook endpoints at Stripe.", no_args_is_help=True)
app.add_typer(webhooks_app, name="webhooks")
# The emulator is its own program; `revlens emulator …` runs it (this module is the only place
# revlens imports stripe_emulator).
app.add_typer(emulator_app, name="emulator", help="Run the Stripe emulator (see its README).")


@webhooks_app.command("setup")
def webhooks_setup(config: ConfigOption = None) -> None:
    """Create (or keep) the Connect and account endpoints that deliver to revlens."""
    from revlens.stripe_api.client import StripeClients
    from revlens.webhooks.service import setup_endpoints

    settings = _settings(config)
    database = _database(settings)
    migrations.check_schema(database.engine)
    result = setup_endpoints(database, StripeClients(settings), settings)
    console.print(f"webhook endpoints for {result.url}:")
    for label, ids in (("created", result.created), ("kept", result.kept)):
        for stripe_id in ids:
            console.print(f"  {label} {stripe_id}")
    for stripe_id in result.replaced:
        console.print(f"  replaced {stripe_id} (its secret was unknown)")


billing_app = typer.Typer(help="Charging for revlens: plans and prices.", no_args_is_help=True)
app.add_typer(billing_app, name="billing")


@billing_app.command("setup")
def billing_setup(config: ConfigOption = None) -> None:
    """Create (or find) a product and recurring price per paid plan in revlens' own account."""
    from revlens.billing.service import setup_prices
    from revlens.stripe_api.client import StripeClients

    settings = _settings(config)
    if not settings.billing.enabled:
        raise RevlensError("no plan is configured: add [billing.plans.KEY] tables to revlens.toml")
    database = _database(settings)
    migrations.check_schema(database.engine)
    for line in setup_prices(database, StripeClients(settings), settings.billing):
        console.print(f"  {line.plan}: {line.action} {line.price_id}")
    database.dispose()


@billing_app.command("fee-subscription")
def billing_fee_subscription(
    account: Annotated[str, typer.Argument(help="The connected account (acct_…).")],
    customer: Annotated[str, typer.Option(help="The connected account's customer (cus_…).")],
    price: Annotated[str, typer.Option(help="The connected account's price (price_…).")],
    percent: Annotated[str, typer.Option(help="application_fee_percent, e.g. 10 or 2.5.")],
    config: ConfigOption = None,
) -> None:
    """Subscribe a connected account's customer with an application fee (read_write only)."""
    from revlens.billing.fees import create_fee_subscription
    from revlens.stripe_api.client import StripeClients

    settings = _settings(config)
    database = _database(settings)
    migrations.check_schema(database.engine)
    created = create_fee_subscription(
        database,
        StripeClients(settings),
        settings,
        account_id=account,
        customer=customer,
        price=price,
        application_fee_percent=percent,
    )
    console.print(
        f"{created['id']} on {account}: {created['status']}, "
        f"application_fee_percent {created['application_fee_percent']}"
    )
    database.dispose()


# The largest business has over 2,000 of the demo's 2,400 customers.
DEMO_WEIGHTS = (85, 10, 5)
# Monthly growth of each business's signups: a young one growing fast (8 % a month, 6.3 times
# over two years), a steadier one, and a mature one whose signups are flat.
DEMO_GROWTH = (0.08, 0.03, 0.0)


def _seed_demo(
    folder: Path,
    state: Path,
    *,
    customers: int,
    months: int,
    on_played: Callable[[], None] | None = None,
) -> bool:
    """Seed the demo's three businesses into `state`; False if the person interrupted it.

    `on_played` runs when every customer has played, while the parts are merged.
    """
    import time

    from stripe_emulator.scenario.run import ScenarioOptions
    from stripe_emulator.scenario.run import run as seed_scenario

    console.print(f"seeding three businesses: {customers} customers, {months} months …")
    # Seeded into a side file, renamed when complete: an interrupted seeding starts over.
    partial = folder / "emulator.db.partial"
    for leftover in folder.glob("emulator.db.partial*"):
        leftover.unlink()
    try:
        summary = seed_scenario(
            ScenarioOptions(
                accounts=3,
                customers=customers,
                months=months,
                seed=7,
                # The history ends when seeding starts: the emulator's clock then has only the
                # seconds seeding took to catch up on, not every renewal since midnight (a
                # burst of some 800 webhooks that competed with the first backfill).
                end=int(time.time()),
                truth=folder / "truth.json",
                state=str(partial),
                weights=DEMO_WEIGHTS,
                growth=DEMO_GROWTH,
            ),
            on_played=on_played,
        )
    except KeyboardInterrupt:
        console.print("seeding interrupted; the next run starts it again")
        return False
    for suffix in ("-wal", "-shm"):  # SQLite's side files, if the store left any
        side = folder / f"emulator.db.partial{suffix}"
        if side.exists():
            side.rename(folder / f"emulator.db{suffix}")
    partial.rename(state)
    console.print(f"seeded in {summary['seconds']} s")
    return True


_DEMO_MODULES = (
    "uvicorn",
    "revlens.demo",
    "revlens.web.app",
    "stripe_emulator.config",
    "stripe_emulator.scenario.activity",
    "stripe_emulator.scenario.wire",
    "stripe_emulator.server",
)


def _import_in_background(modules: Sequence[str]) -> threading.Thread:
    """Import modules in a thread; whoever imports them next waits for it, or finds them loaded.

    A module that fails to import here is imported again, and fails loudly, where it is used.
    """

    def load() -> None:
        for name in modules:
            with contextlib.suppress(Exception):
                importlib.import_module(name)

    thread = threading.Thread(target=load, name="demo-imports", daemon=True)
    thread.start()
    return thread


@app.command()
def demo(
    *,
    host: Annotated[
        str, typer.Option(help="Interface for the app and the emulator.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the web app.")] = 8000,
    emulator_port: Annotated[
        int, typer.Option(min=1, max=65535, help="Port of the Stripe emulator.")
    ] = 12111,
    data_dir: Annotated[
        Path | None, typer.Option(help="Where the demo keeps its data (default: printed).")
    ] = None,
    reset: Annotated[bool, typer.Option("--reset", help="Start over with fresh data.")] = False,
    customers: Annotated[
        int, typer.Option(min=3, help="Customers across the three businesses (85/10/5 %).")
    ] = 2_400,
    months: Annotated[int, typer.Option(min=1, max=60, help="Months of history.")] = 24,
    activity_every: Annotated[
        float, typer.Option(min=0.5, help="Seconds between live changes on the businesses.")
    ] = 5.0,
) -> None:
    """Run revlens end to end on a seeded Stripe emulator: open the URL it prints."""
    import shutil

    from revlens.config import default_data_dir

    # The web app's modules load (a second of CPU) while the seeding plays in other processes.
    warming = _import_in_background(_DEMO_MODULES)
    folder = (data_dir or default_data_dir() / "demo").expanduser().resolve()
    if reset and folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    console.print(f"demo data in {folder}")
    state = folder / "emulator.db"
    # The worker processes, however they were started: stopped before the emulator is.
    with contextlib.ExitStack() as workers:
        chosen: list[DemoStripe] = []
        if not state.exists():

            def start_workers() -> None:
                # The workers load their modules (some 2 CPU-s) while the seeding merges its
                # parts on one core, not while the person connects. They need the platform's
                # key before the emulator starts: the demo chooses it, and starts the emulator
                # with it.
                from revlens import demo as demo_setup

                stripe = demo_setup.new_platform(demo_setup.origin(host, emulator_port))
                chosen.append(stripe)
                environ = demo_setup.demo_environ(
                    data_dir=folder, host=host, port=port, stripe=stripe
                )
                _, database = demo_setup.migrated(environ)
                database.dispose()  # the workers open their own
                workers.enter_context(demo_setup.worker_processes(environ, folder / "worker.log"))

            seeded = _seed_demo(
                folder, state, customers=customers, months=months, on_played=start_workers
            )
            if not seeded:
                return
        warming.join()
        _serve_demo(
            workers,
            folder=folder,
            state=state,
            host=host,
            port=port,
            emulator_port=emulator_port,
            chosen=chosen[0] if chosen else None,
            activity_every=activity_every,
        )
    console.print("demo stopped")


def _serve_demo(
    workers: contextlib.ExitStack,
    *,
    folder: Path,
    state: Path,
    host: str,
    port: int,
    emulator_port: int,
    chosen: DemoStripe | None,
    activity_every: float,
) -> None:
    """Serve the seeded demo until Ctrl-C: emulator, workers (unless started), app, activity."""
    import uvicorn

    from revlens import demo as demo_setup
    from revlens.web.app import create_app
    from stripe_emulator.config import EmulatorConfig
    from stripe_emulator.scenario.activity import Activity
    from stripe_emulator.scenario.wire import Api
    from stripe_emulator.server import EmulatorServer

    callback = f"http://{host}:{port}/oauth/callback"
    config = EmulatorConfig(
        host=host,
        port=emulator_port,
        state_file=str(state),
        control=True,
        redirect_uris=(callback,),
        platform_name="revlens demo",
        secret_key=None if chosen is None else chosen.secret_key,
        client_id=None if chosen is None else chosen.client_id,
    )
    # Leaving `workers` stops them while the emulator still answers their last requests.
    with EmulatorServer(config) as emulator, workers:
        platform = emulator.emulator.platform
        stripe = demo_setup.DemoStripe(
            demo_setup.origin(host, emulator_port), platform.secret_key_test, platform.client_id
        )
        environ = demo_setup.demo_environ(data_dir=folder, host=host, port=port, stripe=stripe)
        settings, database = demo_setup.prepare(environ)
        if chosen is None:
            workers.enter_context(demo_setup.worker_processes(environ, folder / "worker.log"))
        api = Api(emulator.url)
        businesses = [a["id"] for a in api.call("GET", "/v1/accounts", {"limit": 10})["data"]]
        activity = Activity(api, businesses)
        with demo_setup.live_activity(activity.step, every=activity_every, log=lambda _: None):
            # Listening before the URL is printed: a browser that opens it at once is queued
            # in the backlog instead of refused while uvicorn starts.
            listener = demo_setup.listen(host, port)
            console.print(f"Stripe emulator on {emulator.url}; revlens on http://{host}:{port}")
            console.print(f"open http://{host}:{port} and connect one of the three businesses")
            server = uvicorn.Server(
                uvicorn.Config(
                    create_app(settings, database=database),
                    host=host,
                    port=port,
                    log_level="warning",
                )
            )
            with contextlib.suppress(KeyboardInterrupt), listener:
                server.run(sockets=[listener])
        api.close()


@app.command()
def metrics(
    account: Annotated[str, typer.Argument(help="The connected account (acct_…).")],
    *,
    config: ConfigOption = None,
    start: Annotated[str | None, typer.Option(help="YYYY-MM-DD; rows cover (start, end].")] = None,
    end: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today, UTC).")] = None,
    interval: Annotated[str, typer.Option(help="day, week or month.")] = "month",
    preset: Annotated[
        str, typer.Option(help="standard, stripe, chartmogul, baremetrics or profitwell.")
    ] = "standard",
    currency: Annotated[str | None, typer.Option(help="ISO code (default: main one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the API's JSON.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print the API's CSV.")] = False,
    recompute: Annotated[
        bool, typer.Option("--recompute", help="Recompute from the mirror first.")
    ] = False,
) -> None:
    """Print an account's metrics: the numbers of the API, as a table, JSON or CSV."""
    import json

    from rich.table import Table

    from revlens.accounts.service import get_account
    from revlens.metrics import export, queries
    from revlens.metrics.params import BadParameter, query
    from revlens.metrics.service import recompute_account

    try:
        checked = query(start=start, end=end, interval=interval, preset=preset, currency=currency)
    except BadParameter as error:
        raise typer.BadParameter(str(error)) from None
    settings = _settings(config)
    database = _database(settings)
    migrations.check_schema(database.engine)
    with database.read() as session:
        if get_account(session, account) is None:
            raise RevlensError(f"no account {account} is connected to revlens")
        state = queries.state_of(session, account_id=account, preset=checked.preset)
    if recompute or state is None or state.status != "ready":
        errors.print(f"computing the {checked.preset} metrics of {account} from the mirror…")
        with database.unit_of_work() as session:
            recompute_account(session, account_id=account, presets=[checked.preset])
    with database.read() as session:
        report = queries.series(session, account_id=account, query=checked)
    document = export.series_document(report)
    if as_json:
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    elif as_csv:
        sys.stdout.write(export.to_csv(document["series"], export.SERIES_FIELDS))
    else:
        chosen = report.series.currency
        table = Table(
            title=f"{account} · {chosen.upper()} · preset {checked.preset} · by {interval}",
            caption=f"data as of {document['as_of']}",
        )
        for name, kind in export.TABLE_COLUMNS:
            table.add_column(name, justify="left" if kind == "date" else "right")
        for row in document["series"]:
            table.add_row(*export.table_cells(row, chosen))
        console.print(table)
    database.dispose()


@app.command()
def heartbeat(config: ConfigOption = None) -> None:
    """Enqueue a heartbeat job; a running worker writes its row (a queue round-trip check)."""
    from revlens.tasks.jobs import heartbeat as heartbeat_job
    from revlens.tasks.queue import make_queue

    settings = _settings(config)
    queue = make_queue(settings)
    queue.check()
    queue.enqueue(heartbeat_job, source="cli")
    console.print(f"heartbeat enqueued on {settings.queue_url}")


def main() -> None:
    """Run the CLI; a RevlensError ends it with one line on stderr and exit status 2."""
    try:
        app()
    except RevlensError as exc:
        errors.print(f"revlens: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(2)
