"""`revlens demo`: the web app, a worker and live activity, wired to a seeded emulator.

The emulator itself is started by the CLI (the only module that imports it) and handed in as
plain values and callables, so this module knows revlens and nothing else.
"""

from __future__ import annotations

import os
import secrets
import socket
import string
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from revlens.config import Settings, load_settings
from revlens.db import migrate
from revlens.db.session import Database
from revlens.errors import StartupError
from revlens.stripe_api.client import StripeClients
from revlens.subprocess_runner import revlens_process
from revlens.webhooks.service import setup_endpoints

# Three single-threaded processes: a backfill worker's threads share one core through the GIL
# (decoding what Stripe sends is much of its work), and SQLite writers of every process queue on
# one file lock. The demo's largest backfill took 38 s on two processes of two threads and 29-37 s
# on three of one (2 cores, 27 Nov, before its events and history were trimmed). They are forked
# from one `revlens worker --processes`, which loads the modules (some 2 CPU-s) once for all.
WORKER_PROCESSES = 3


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket for the web app, or a one-line error if the port is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise StartupError(
            f"cannot serve on {host}:{port}: {exc.strerror}; choose another --port"
        ) from exc
    return sock


@dataclass(frozen=True)
class DemoStripe:
    """Where the demo's Stripe is and who the platform is there."""

    url: str
    secret_key: str
    client_id: str


def origin(host: str, port: int) -> str:
    """Return the http origin of a host and port (an IPv6 address in brackets)."""
    return f"http://{'[' + host + ']' if ':' in host else host}:{port}"


_KEY_ALPHABET = string.ascii_letters + string.digits


def new_platform(url: str) -> DemoStripe:
    """Choose the platform's test key and client id for an emulator not started yet.

    The demo's emulator is started with them (explicit keys win over its state file, which
    then keeps them), so the workers can start before it does.
    """
    suffix = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(24))
    client = "".join(secrets.choice(_KEY_ALPHABET) for _ in range(32))
    return DemoStripe(url, f"sk_test_{suffix}", f"ca_{client}")


def demo_environ(*, data_dir: Path, host: str, port: int, stripe: DemoStripe) -> dict[str, str]:
    """Return the REVLENS_* variables of the demo (the worker process gets the same)."""
    return {
        "REVLENS_DATA_DIR": str(data_dir),
        "REVLENS_PUBLIC_URL": f"http://{host}:{port}",
        "REVLENS_STRIPE_SECRET_KEY": stripe.secret_key,
        "REVLENS_STRIPE_CLIENT_ID": stripe.client_id,
        "REVLENS_STRIPE_API_BASE": stripe.url,
        "REVLENS_STRIPE_CONNECT_BASE": stripe.url,
        # The demo's businesses stand for live accounts and its emulator limits nothing:
        # revlens paces itself as Stripe's live mode allows (100 requests/s), not at the 25/s
        # of a test key, which would make every backfill of the demo wait on the budget.
        "REVLENS_STRIPE_RATE_LIMIT": "100",
        "REVLENS_BRANDING_NAME": "revlens demo",
        "REVLENS_LOG_LEVEL": "warning",
    }


def migrated(environ: dict[str, str]) -> tuple[Settings, Database]:
    """Load the settings and bring the database to the current schema (workers check it)."""
    settings = load_settings(environ)
    database = Database.from_url(settings.database_url)
    migrate.upgrade(database.engine)
    return settings, database


def prepare(environ: dict[str, str]) -> tuple[Settings, Database]:
    """Migrate the database and register the webhook endpoints (the emulator must be up)."""
    settings, database = migrated(environ)
    setup_endpoints(database, StripeClients(settings), settings)
    return settings, database


@contextmanager
def worker_processes(environ: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run `revlens worker` (its worker processes) beside the web app, its output in `log`."""
    with revlens_process(
        "worker",
        "--workers",
        str(WORKER_PROCESSES),
        "--processes",
        env={**os.environ, **environ},
        log=log,
    ) as process:
        yield process


@contextmanager
def live_activity(
    step: Callable[[], str], *, every: float, log: Callable[[str], None]
) -> Iterator[None]:
    """Call `step` every `every` seconds in the background until the block ends."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(every):
            try:
                log(step())
            except Exception as error:
                # A failed step (a race with the billing engine, say) must not stop the demo.
                log(f"activity step failed: {error}")

    thread = threading.Thread(target=loop, name="demo-activity", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)
