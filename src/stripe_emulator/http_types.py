"""The emulator's request and response values and the handler signature (its architecture)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stripe_emulator.context import Ctx


@dataclass
class Request:
    """An HTTP request reduced to what the emulator reads."""

    method: str
    path: str
    query: bytes
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        """Return a header by lower-case name, or None."""
        return self.headers.get(name)


@dataclass
class Response:
    """A complete HTTP response; `body` is already-encoded JSON."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    # Fault injection: cut the connection after this many body bytes (None = send it all).
    truncate_at: int | None = None
    # Whether an idempotency key may remember this response (not for failed validation).
    remember: bool = True
    # Callbacks run after the response is sent (see `Ctx.after_response`).
    after: list[Callable[[], None]] = field(default_factory=list)


class RawJson:
    """Pre-serialised JSON that handlers may return to skip re-encoding (fast list pages)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data


# A handler reads the request context and returns a JSON-able dict or RawJson.
Handler = Callable[["Ctx"], "dict[str, Any] | RawJson"]
