"""A bare ASGI application around the pipeline (no framework: list pages must be cheap)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from email.utils import formatdate
from typing import Any

from stripe_emulator.emulator import Emulator
from stripe_emulator.errors import invalid
from stripe_emulator.http_types import Request, Response
from stripe_emulator.pipeline import error_response, handle

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY = 1024 * 1024
log = logging.getLogger("stripe_emulator")


class EmulatorApp:
    """The ASGI callable serving one `Emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        # The Date header of the last second served: formatted once per emulated second.
        self._date: tuple[int, str] = (-1, "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one ASGI connection scope."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        body = bytearray()
        too_large = False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            if not too_large:
                body.extend(message.get("body", b""))
                too_large = len(body) > MAX_BODY
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        request = Request(
            scope["method"], scope["path"], scope["query_string"], headers, bytes(body)
        )
        if too_large:
            error = invalid("Request body too large.")
            response = error_response(error, self.emulator.ids.request_id())
        else:
            response = await handle(self.emulator, request)
        # Clients learn Stripe's clock from Date, as from api.stripe.com: here the emulated one.
        if "date" not in response.headers:
            response.headers["date"] = self._date_header()
        await _send(send, response)
        for callback in response.after:
            try:
                callback()
            except Exception:  # read-ahead is an optimisation; never fail a request on it
                log.exception("after-response callback failed")

    def _date_header(self) -> str:
        now = self.emulator.clock.now()
        cached = self._date
        if cached[0] != now:
            cached = self._date = (now, formatdate(now, usegmt=True))
        return cached[1]


async def _send(send: Send, response: Response) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()]
    headers.append((b"content-length", str(len(response.body)).encode()))
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    if response.truncate_at is None:
        await send({"type": "http.response.body", "body": response.body})
        return
    # Fault injection: announce the full length, send part of it, and let the server close the
    # connection because the response never completed.
    if response.truncate_at:
        await send(
            {
                "type": "http.response.body",
                "body": response.body[: response.truncate_at],
                "more_body": True,
            }
        )


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
