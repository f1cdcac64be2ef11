"""A local HTTP receiver for webhook deliveries, scripted per path (status codes, slow replies)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson

# A scripted reply that answers only after this many seconds (to provoke a timeout).
SLOW = -1
SLOW_SECONDS = 0.5
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
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                status = sink._next_status(self.path)
                if status == SLOW:
                    time.sleep(SLOW_SECONDS)
                    status = 200
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


def sink_server() -> Iterator[Sink]:
    """Yield a running sink (for fixtures)."""
    with Sink() as sink:
        yield sink
