"""Webhook delivery test support: a scripted local receiver, fixture bodies and SDK helpers.

Test modules register the fixtures with `server = pytest.fixture(run_server, name="server")`
(importing fixture functions directly would shadow them in every test's parameters).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson
import stripe

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.server import EmulatorServer

from .conftest import Connected, make_client

USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"
# Compresses the retry schedule: 4 h become 14 ms.
SCALE = 1e-6
# A scripted reply that answers only after this many seconds (to provoke a timeout).
SLOW = -1
SLOW_SECONDS = 0.5
# A scripted 500 that is held back until the test calls `Sink.release()`.
HELD_500 = -2
WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Received:
    """One delivery as the receiver saw it."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> dict[str, Any]:
        """Return the decoded event."""
        loaded: dict[str, Any] = orjson.loads(self.body)
        return loaded

    @property
    def signature(self) -> str:
        """Return the Stripe-Signature header."""
        return self.headers["stripe-signature"]


class Sink:
    """Records every POST; answers 200 unless a path was scripted otherwise."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._scripts: dict[str, list[int]] = {}
        self.received: list[Received] = []
        # Set while a HELD_500 reply is waiting for `release()`.
        self.holding = threading.Event()
        self._released = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = sink._next_status(self.path)
                if status == SLOW:
                    time.sleep(SLOW_SECONDS)
                    status = 200
                elif status == HELD_500:
                    sink.holding.set()
                    sink._released.wait(WAIT_SECONDS)
                    status = 500
                headers = {k.lower(): v for k, v in self.headers.items()}
                with sink._lock:
                    sink.received.append(Received(self.path, headers, body, status))
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the emulator gave up waiting (timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def __enter__(self) -> Sink:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        """Return the URL of a path on this receiver."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def script(self, path: str, statuses: list[int]) -> None:
        """Answer the next requests to `path` with these statuses (then 200)."""
        with self._lock:
            self._scripts[path] = list(statuses)

    def release(self) -> None:
        """Let held replies go out."""
        self._released.set()

    def _next_status(self, path: str) -> int:
        with self._lock:
            script = self._scripts.get(path)
            return script.pop(0) if script else 200

    def at(self, path: str) -> list[Received]:
        """Return what arrived at `path`, in arrival order."""
        with self._lock:
            return [r for r in self.received if r.path == path]

    def wait_for(self, path: str, count: int) -> list[Received]:
        """Wait until `count` deliveries arrived at `path`; return them."""
        wait_until(lambda: len(self.at(path)) >= count, f"{count} deliveries at {path}")
        return self.at(path)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll until `condition` holds; fail after a generous bound (never a timing assertion)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.005)


# ---- fixture bodies ---------------------------------------------------------------------------


def run_server() -> Iterator[EmulatorServer]:
    """Run a private emulator, so settings, faults and the clock are the test's own."""
    with EmulatorServer(EmulatorConfig(control=True)) as running:
        yield running


def control_client(server: EmulatorServer) -> Iterator[httpx.Client]:
    """Return a client for the control API, with the retry schedule compressed."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.post("/_emulator/webhooks", json={"retry_scale": SCALE}).status_code == 200
        yield http


def sdk_client(server: EmulatorServer, control: httpx.Client) -> stripe.StripeClient:
    """Return a test-mode SDK client for the private emulator (after `control` set it up)."""
    del control
    return make_client(server)


def run_sink() -> Iterator[Sink]:
    """Run a local receiver."""
    with Sink() as running:
        yield running


# ---- SDK helpers -------------------------------------------------------------------------------


def connected(client: stripe.StripeClient) -> Connected:
    """Create a connected account."""
    created = client.v1.accounts.create({"type": "standard"})
    return Connected(created.id, {"stripe_account": created.id})


def create_endpoint(
    client: stripe.StripeClient,
    url: str,
    events: list[str] | None = None,
    options: dict[str, Any] | None = None,
    **extra: Any,
) -> stripe.WebhookEndpoint:
    """Create a webhook endpoint (all events unless told)."""
    params: dict[str, Any] = {"url": url, "enabled_events": events or ["*"], **extra}
    return client.v1.webhook_endpoints.create(params, options or {})  # type: ignore[arg-type]


def verify(received: Received, secret: str) -> stripe.Event:
    """Verify a delivery with the SDK, as a receiver would."""
    return stripe.Webhook.construct_event(received.body, received.signature, secret)


def attempt_log(control: httpx.Client, event_id: str) -> list[dict[str, Any]]:
    """Return the emulator's attempt log for one event."""
    data: list[dict[str, Any]] = control.get("/_emulator/webhooks/attempts").json()["data"]
    return [entry for entry in data if entry["event"] == event_id]


def event_for(client: stripe.StripeClient, object_id: str, **options: Any) -> stripe.Event:
    """Return the (first listed) event about an object."""
    events = client.v1.events.list({"limit": 100}, options).data  # type: ignore[arg-type]
    return next(e for e in events if e.data.object["id"] == object_id)


def pending(client: stripe.StripeClient, event_id: str, **options: Any) -> int:
    """Return an event's `pending_webhooks`."""
    event = client.v1.events.retrieve(event_id, options=options)  # type: ignore[arg-type]
    return int(event.pending_webhooks)
