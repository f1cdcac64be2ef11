"""Shared machinery of the mirror benchmarks: a seeded emulator process, revlens workers as
processes, and waiting for backfills. Every child process logs to a file in the work folder.

Not a benchmark itself (it prints nothing).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import stripe
from sqlalchemy import select

from revlens.accounts.service import Grant, record_connection
from revlens.config import Settings, load_settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.db.types import utcnow
from revlens.mirror.models import SyncStream
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer
from stripe_emulator.store import Scope

SECRET_KEY = "sk_test_benchmarkbenchmarkbench"  # noqa: S105 (a throwaway test key)
CLIENT_ID = "ca_benchmarkbenchmarkbenchmark"
WEBHOOK_SECRET = "whsec_benchmark_0123456789abcdef"  # noqa: S105
BATCH = 20_000
DAY = 86400


def free_port() -> int:
    """Return a TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def peak_rss_mb(pid: int) -> float:
    """Return a live process's peak resident set size in MiB (Linux VmHWM)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"VmHWM:\s+(\d+)", text)
    return int(found.group(1)) / 1024 if found else 0.0


def cpu_seconds(pid: int) -> float:
    """Return the user + system CPU time a live process has used so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(pid: int) -> list[int]:
    """Return a live process and all its descendants (e.g. `revlens serve --workers`)."""
    found, index = [pid], 0
    while index < len(found):
        try:
            text = Path(f"/proc/{found[index]}/task/{found[index]}/children").read_text()
        except OSError:
            text = ""
        found.extend(int(child) for child in text.split())
        index += 1
    return found


# ---- seeding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Templates:
    """One real customer and charge, as the emulator lists them, to clone."""

    customer: dict[str, Any]
    charge: dict[str, Any]


def _client(url: str, key: str = SECRET_KEY) -> stripe.StripeClient:
    return stripe.StripeClient(
        key, base_addresses={"api": url, "connect": url}, max_network_retries=0
    )


def seed(
    state: Path, sizes: Sequence[int], *, livemode: bool = False, charge_share: float = 0.4
) -> tuple[list[str], str]:
    """Create one connected account per size, holding that many customers and charges.

    Returns the accounts and the platform key to read them with: live mode when `livemode`
    (revlens then budgets 100 requests/s per account, 25 per endpoint, as for live keys).
    """
    config = EmulatorConfig(state_file=str(state), secret_key=SECRET_KEY, client_id=CLIENT_ID)
    accounts: list[str] = []
    with EmulatorServer(config) as server:
        emulator = server.emulator
        client = _client(server.url)
        key = emulator.platform.secret_key_live if livemode else SECRET_KEY
        creator = _client(server.url, key)
        templates = _templates(client)
        store = emulator.store
        now = emulator.clock.now()
        for number, size in enumerate(sizes):
            account = creator.v1.accounts.create({"type": "standard"}).id
            span = 2 * 365 * DAY
            start = now - span - DAY
            scope = Scope(account, livemode)
            _clone(
                store,
                scope,
                templates=templates,
                number=number,
                size=size,
                start=start,
                span=span,
                charge_share=charge_share,
            )
            platform = Scope(emulator.platform.account_id, livemode)
            with store.transaction():
                row = store.get(platform, "account", account)
                assert row is not None
                store.update(platform, "account", {**row.load(), "created": start - DAY})
            accounts.append(account)
    return accounts, key


def _templates(client: stripe.StripeClient) -> Templates:
    """A real customer and charge of a scratch test-mode account."""
    account = client.v1.accounts.create({"type": "standard"}).id
    opts: Any = {"stripe_account": account}
    customer = client.v1.customers.create(
        {
            "email": "template@bench.test",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        },
        opts,
    )
    charge = client.v1.charges.create(
        {"amount": 2500, "currency": "usd", "customer": customer.id}, opts
    )
    return Templates(
        _listed(client, account, "/v1/customers", customer.id),
        _listed(client, account, "/v1/charges", charge.id),
    )


def _listed(client: stripe.StripeClient, account: str, path: str, oid: str) -> dict[str, Any]:
    body = client.raw_request("get", path, stripe_account=account, limit=100).data
    return next(obj for obj in body["data"] if obj["id"] == oid)


def _clone(
    store: Any,
    scope: Scope,
    *,
    templates: Templates,
    number: int,
    size: int,
    start: int,
    span: int,
    charge_share: float,
) -> None:
    """Insert `size` objects, their `created` spread over `span` with bursts of ten a second."""
    charges = int(size * charge_share)
    customers = size - charges
    for type_, count, template in (
        ("customer", customers, templates.customer),
        ("charge", charges, templates.charge),
    ):
        prefix = "cus" if type_ == "customer" else "ch"
        for offset in range(0, count, BATCH):
            rows = []
            for index in range(offset, min(offset + BATCH, count)):
                oid = f"{prefix}_b{number:03d}x{index:09d}"
                created = start + (index * span) // max(1, count) // 10 * 10
                common = {"id": oid, "created": created, "livemode": scope.livemode}
                if type_ == "customer":
                    obj = {**template, **common, "email": f"{oid}@b.test"}
                    slots: tuple[str | None, ...] = (obj["email"], None)
                else:
                    obj = {**template, **common}
                    slots = (obj["customer"], obj["payment_intent"])
                rows.append((obj, slots))
            with store.transaction():
                store.insert_many(scope, type_, rows)


# ---- processes -------------------------------------------------------------------------


@contextmanager
def process(
    args: Sequence[str], log: Path, env: dict[str, str] | None = None, *, group: bool = False
) -> Iterator[Any]:
    """Run a child process with its output in `log`; SIGINT (then SIGKILL) when the block ends.

    With `group`, the child leads a process group of its own, and the signals go to the group
    (every process a supervisor such as `revlens serve --workers` started).
    """
    with log.open("ab") as sink:
        child = subprocess.Popen(
            list(args),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env or dict(os.environ),
            start_new_session=group,
        )

        def signal_child(number: int) -> None:
            if group:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, number)
            else:
                child.send_signal(number)

        try:
            yield child
        finally:
            if child.poll() is None:
                signal_child(signal.SIGINT)
                try:
                    child.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    signal_child(signal.SIGKILL)
                    child.wait()
            elif group:
                signal_child(signal.SIGKILL)  # whatever the leader left behind


@contextmanager
def emulator_process(state: Path, folder: Path) -> Iterator[tuple[str, int]]:
    """Run `python -m stripe_emulator --control --state …` on a free port; yield URL and pid."""
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "stripe_emulator",
        "--port",
        str(port),
        "--state",
        str(state),
        "--secret-key",
        SECRET_KEY,
        "--client-id",
        CLIENT_ID,
        "--control",
    ]
    url = f"http://127.0.0.1:{port}"
    with process(args, folder / "emulator.log") as child:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/_emulator/platform", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the emulator did not start") from None
                time.sleep(0.1)
        yield url, child.pid


def control(url: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Call the emulator's control API."""
    address = f"{url}/_emulator/{path}"
    response = httpx.post(address, json=body) if body is not None else httpx.get(address)
    response.raise_for_status()
    return response.json()


def revlens_environ(
    folder: Path, database_url: str, emulator_url: str, key: str = SECRET_KEY
) -> dict[str, str]:
    """Return the environment of revlens processes wired to this emulator."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "REVLENS_DATA_DIR": str(folder / "data"),
        "REVLENS_DATABASE_URL": database_url,
        "REVLENS_SECRET_KEY": "bench-secret-key-bench-secret-key-0123456789",
        "REVLENS_STRIPE_SECRET_KEY": key,
        "REVLENS_STRIPE_CLIENT_ID": CLIENT_ID,
        "REVLENS_STRIPE_API_BASE": emulator_url,
        "REVLENS_STRIPE_CONNECT_BASE": emulator_url,
        "REVLENS_STRIPE_WEBHOOK_SECRETS": WEBHOOK_SECRET,
        "REVLENS_STRIPE_CLIENT_ID_MODE": "live" if key.startswith("sk_live_") else "test",
        "REVLENS_LOG_LEVEL": "warning",
    }


def prepare_revlens(environ: dict[str, str], accounts: Sequence[str]) -> tuple[Settings, Database]:
    """Migrate the database and connect the accounts; return the settings and database."""
    settings = load_settings({k: v for k, v in environ.items() if k.startswith("REVLENS_")})
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database.engine)
    with database.unit_of_work() as session:
        for account in accounts:
            livemode = settings.stripe_secret_key is not None and (
                settings.stripe_secret_key.get_secret_value().startswith("sk_live_")
            )
            grant = Grant(account, f"Bench {account}", livemode, "read_only", "read_only")
            record_connection(session, grant=grant, now=utcnow())
    return settings, database


def worker_args(threads: int) -> list[str]:
    """Return the command line of one `revlens worker`."""
    return [sys.executable, "-m", "revlens", "worker", "--workers", str(threads)]


def stream_rows(database: Database) -> list[SyncStream]:
    """Return every stream row (detached)."""
    with database.read() as session:
        rows = list(session.scalars(select(SyncStream)))
        for row in rows:
            session.expunge(row)
    return rows


def database_url(kind: str, folder: Path) -> tuple[str, Any]:
    """Return a fresh database URL of this kind and a function that drops it afterwards."""
    if kind == "sqlite":
        return f"sqlite:///{folder / 'revlens.db'}", lambda: None
    import secrets

    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(os.environ["REVLENS_TEST_POSTGRES_URL"]).set(drivername="postgresql")
    name = f"revlens_bench_{secrets.token_hex(4)}"
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    url = admin.set(database=name, drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False), drop
