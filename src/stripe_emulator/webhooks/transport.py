"""A small asyncio HTTP/1.1 client for webhook POSTs, with keep-alive connections per origin.

httpx's async client manages a few hundred requests per second here; deliveries need thousands,
and only need: send one POST, read the status, drain the body, never follow redirects.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

MAX_IDLE_PER_ORIGIN = 32
MAX_HEADER_LINES = 200

Origin = tuple[str, str, int]


class DeliveryError(Exception):
    """The request failed before a complete response arrived (refused, reset, malformed)."""


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class Target:
    """A parsed endpoint URL."""

    origin: Origin
    host_header: str
    path: str


@lru_cache(maxsize=1024)
def parse_url(url: str) -> Target:
    """Split an endpoint URL into where to connect and what to request."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryError(f"unsupported webhook URL: {url}")
    default = 443 if scheme == "https" else 80
    port = parts.port or default
    host = parts.hostname
    shown = f"[{host}]" if ":" in host else host
    host_header = shown if port == default else f"{shown}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target((scheme, host, port), host_header, path)


class HttpPoster:
    """POSTs over pooled connections; use from one event loop only."""

    def __init__(self) -> None:
        self._idle: dict[Origin, list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None

    async def post(
        self, url: str, headers: list[tuple[str, str]], body: bytes, timeout: float
    ) -> int:
        """Send one POST and return the response status; raise on timeout or I/O failure."""
        target = parse_url(url)
        head = [f"POST {target.path} HTTP/1.1", f"Host: {target.host_header}"]
        head.extend(f"{name}: {value}" for name, value in headers)
        head.append(f"Content-Length: {len(body)}")
        request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        async with asyncio.timeout(timeout):
            reused = self._take(target.origin)
            if reused is not None:
                try:
                    return await self._exchange(target.origin, reused, request)
                except (DeliveryError, OSError, asyncio.IncompleteReadError):
                    # A kept-alive connection the receiver closed meanwhile: use a fresh one.
                    reused.close()
                except BaseException:
                    reused.close()
                    raise
            connection = await self._open(target.origin)
            try:
                return await self._exchange(target.origin, connection, request)
            except asyncio.IncompleteReadError as exc:
                connection.close()
                raise DeliveryError("connection closed before a complete response") from exc
            except BaseException:
                connection.close()
                raise

    def close(self) -> None:
        """Close every idle connection."""
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _take(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if not connection.reader.at_eof() and not connection.writer.is_closing():
                return connection
            connection.close()
        return None

    async def _open(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        tls = None
        if scheme == "https":
            if self._tls is None:
                self._tls = ssl.create_default_context()
            tls = self._tls
        reader, writer = await asyncio.open_connection(host, port, ssl=tls)
        return _Connection(reader, writer)

    async def _exchange(self, origin: Origin, connection: _Connection, request: bytes) -> int:
        connection.writer.write(request)
        await connection.writer.drain()
        status, keep_alive = await _read_response(connection.reader)
        if keep_alive:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < MAX_IDLE_PER_ORIGIN:
                idle.append(connection)
                return status
        connection.close()
        return status


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; return its status and whether the connection can be reused."""
    while True:
        status_line = await reader.readuntil(b"\r\n")
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
            raise DeliveryError("malformed status line")
        status = int(parts[1])
        headers = await _read_headers(reader)
        if status >= 200 or status == 101:
            break
        # 1xx informational responses precede the real one.
    version_11 = parts[0] == b"HTTP/1.1"
    connection = headers.get(b"connection", b"").lower()
    keep_alive = (version_11 and connection != b"close") or connection == b"keep-alive"
    if status in (204, 304):
        return status, keep_alive
    if b"chunked" in headers.get(b"transfer-encoding", b"").lower():
        await _read_chunked(reader)
    elif b"content-length" in headers:
        await reader.readexactly(int(headers[b"content-length"]))
    else:
        await reader.read()
        keep_alive = False
    return status, keep_alive


async def _read_headers(reader: asyncio.StreamReader) -> dict[bytes, bytes]:
    headers: dict[bytes, bytes] = {}
    for _ in range(MAX_HEADER_LINES):
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            return headers
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    raise DeliveryError("too many response headers")


async def _read_chunked(reader: asyncio.StreamReader) -> None:
    while True:
        size_line = await reader.readuntil(b"\r\n")
        size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            await _read_headers(reader)  # trailers
            return
        await reader.readexactly(size + 2)
