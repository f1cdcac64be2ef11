"""Talking to an emulator: form-encoded API calls and the clock control API.

Two transports carry the same requests. `HttpTransport` talks to an emulator over HTTP (one
running elsewhere, `seed --url`). `LocalTransport` hands each request to the emulator's own
ASGI application in this thread: the same routing, authentication, validation, idempotency,
handlers, events and webhooks as over HTTP, minus the socket and the server's event loop.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Coroutine, Iterator, MutableMapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

import httpx
import orjson

if TYPE_CHECKING:
    from stripe_emulator.emulator import Emulator

JsonObject = dict[str, Any]
Headers = dict[str, str]


class ScenarioError(RuntimeError):
    """The emulator refused a request the scenario needed."""


def encode(params: JsonObject, prefix: str | None = None) -> Iterator[tuple[str, str]]:
    """Form-encode nested params as the SDK does (`items[0][price]=…`)."""
    for key, value in params.items():
        name = key if prefix is None else f"{prefix}[{key}]"
        if isinstance(value, dict):
            yield from encode(value, name)
        elif isinstance(value, list):
            yield from encode({str(i): item for i, item in enumerate(value)}, name)
        elif isinstance(value, bool):
            yield name, "true" if value else "false"
        elif value is not None:
            yield name, str(value)


def form_bytes(params: JsonObject | None) -> bytes:
    """Return `params` as an `application/x-www-form-urlencoded` body (or query string)."""
    return "&".join(
        f"{quote(name, safe='')}={quote(value, safe='')}" for name, value in encode(params or {})
    ).encode()


class Transport(Protocol):
    """Carries one request to an emulator and returns (status, body)."""

    def send(
        self, method: str, path: str, *, query: bytes, body: bytes, headers: Headers
    ) -> tuple[int, bytes]:
        """Send a request; `body` is form-encoded for the API and JSON for the control API."""
        ...

    def close(self) -> None:
        """Release what the transport holds."""
        ...


class HttpTransport:
    """Requests over HTTP to an emulator at `url`."""

    def __init__(self, url: str) -> None:
        # Without TCP_NODELAY a request's body waits for the ACK of its headers (Nagle against
        # delayed ACK): tens of milliseconds per call.
        nodelay = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
        transport = httpx.HTTPTransport(socket_options=nodelay)
        self._http = httpx.Client(base_url=url, timeout=600, transport=transport)

    def send(
        self, method: str, path: str, *, query: bytes, body: bytes, headers: Headers
    ) -> tuple[int, bytes]:
        """Send one request over the connection."""
        url = f"{path}?{query.decode()}" if query else path
        response = self._http.request(method, url, content=body or None, headers=headers)
        return response.status_code, response.content

    def close(self) -> None:
        """Close the connection."""
        self._http.close()


class LocalTransport:
    """Requests handed to an emulator's ASGI application in this process and thread."""

    def __init__(self, emulator: Emulator) -> None:
        from stripe_emulator.asgi import EmulatorApp

        self.emulator = emulator
        self._app = EmulatorApp(emulator)
        # Handlers only await when fault injection delays a request; the loop serves that.
        self._loop = asyncio.new_event_loop()
        # When the calling thread already runs a loop (Playwright's sync API does), requests go
        # to a loop in a thread of its own instead (started on first need).
        self._aside: tuple[asyncio.AbstractEventLoop, threading.Thread] | None = None

    def send(
        self, method: str, path: str, *, query: bytes, body: bytes, headers: Headers
    ) -> tuple[int, bytes]:
        """Run one request through the emulator's application."""
        scope: MutableMapping[str, Any] = {
            "type": "http",
            "method": method,
            "path": path,
            "query_string": query,
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ],
        }
        sent: list[MutableMapping[str, Any]] = []

        async def receive() -> MutableMapping[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        self._run(self._app(scope, receive, send))
        status = int(sent[0]["status"])
        return status, b"".join(m.get("body", b"") for m in sent[1:])

    def _run(self, work: Coroutine[Any, Any, None]) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # the usual case: no loop runs in this thread
            self._loop.run_until_complete(work)
            return
        if self._aside is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="local-transport", daemon=True)
            thread.start()
            self._aside = (loop, thread)
        asyncio.run_coroutine_threadsafe(work, self._aside[0]).result()

    def close(self) -> None:
        """Close the event loops (the emulator stays open: its owner closes it)."""
        self._loop.close()
        if self._aside is not None:
            loop, thread = self._aside
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            self._aside = None


class Api:
    """An API and control client for one emulator, over HTTP (a URL) or a local transport."""

    def __init__(self, target: str | Transport) -> None:
        self.transport: Transport = HttpTransport(target) if isinstance(target, str) else target
        platform = self.control("GET", "/_emulator/platform")
        self.platform_account: str = platform["account_id"]
        self._auth = {"authorization": f"Bearer {platform['secret_key_test']}"}
        self.now: int = int(platform["now"])

    def close(self) -> None:
        """Close the transport."""
        self.transport.close()

    def control(self, method: str, path: str, body: JsonObject | None = None) -> JsonObject:
        """Call the control API."""
        content = b"" if body is None else orjson.dumps(body)
        headers = {"content-type": "application/json"} if body is not None else {}
        status, answer = self.transport.send(method, path, query=b"", body=content, headers=headers)
        return _decoded(method, path, status, answer)

    def call(
        self, method: str, path: str, params: JsonObject | None = None, account: str | None = None
    ) -> JsonObject:
        """Call the Stripe API as the platform, or on behalf of `account`."""
        headers = dict(self._auth)
        if account is not None:
            headers["stripe-account"] = account
        form = form_bytes(params)
        if method == "GET":
            status, answer = self.transport.send(
                method, path, query=form, body=b"", headers=headers
            )
        else:
            headers["content-type"] = "application/x-www-form-urlencoded"
            status, answer = self.transport.send(
                method, path, query=b"", body=form, headers=headers
            )
        return _decoded(method, path, status, answer)

    def advance(self, to: int, *, freeze: bool = True) -> None:
        """Move the emulator's clock to `to`, running what falls due."""
        if to < self.now:
            raise ScenarioError(f"cannot go back from {self.now} to {to}")
        self.control("POST", "/_emulator/clock/advance", {"to": to, "freeze": freeze})
        self.now = to


def _decoded(method: str, path: str, status: int, answer: bytes) -> JsonObject:
    if status != 200:
        raise ScenarioError(f"{method} {path}: {status} {answer.decode(errors='replace')}")
    decoded: JsonObject = orjson.loads(answer)
    return decoded
