"""Run an emulator under uvicorn in a background thread (tests, demo) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from types import TracebackType

import uvicorn

from stripe_emulator.asgi import EmulatorApp
from stripe_emulator.config import EmulatorConfig
from stripe_emulator.emulator import Emulator

_INCOMPLETE = "ASGI callable returned without completing response."


class _QuietInjectedFaults(logging.Filter):
    """Drop uvicorn's complaint about responses cut short on purpose by fault injection."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _INCOMPLETE


def _quiet_uvicorn() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _QuietInjectedFaults) for f in logger.filters):
        logger.addFilter(_QuietInjectedFaults())


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


def uvicorn_config(app: EmulatorApp, *, log_level: str = "warning") -> uvicorn.Config:
    """Return the uvicorn settings the emulator runs with."""
    return uvicorn.Config(
        app,
        lifespan="off",
        log_level=log_level,
        access_log=False,
        http="httptools",
        ws="none",
        server_header=False,
        date_header=False,
        # No X-Forwarded-* rewriting: the emulator never reads the client address or scheme,
        # and the middleware costs a call per request.
        proxy_headers=False,
    )


class EmulatorServer:
    """An emulator listening on a real port; use as a context manager and read `.url`."""

    def __init__(
        self, config: EmulatorConfig | None = None, *, emulator: Emulator | None = None
    ) -> None:
        self.config = config or EmulatorConfig()
        self.emulator = emulator or Emulator(self.config)
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Return the base URL, e.g. `http://127.0.0.1:12111`."""
        if self._socket is None:
            raise RuntimeError("the emulator server is not running")
        host, port = self._socket.getsockname()[:2]
        return f"http://{'[' + host + ']' if ':' in host else host}:{port}"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Start serving in a background thread and wait until it accepts connections."""
        _quiet_uvicorn()
        self._socket = bind_socket(self.config.host, self.config.port)
        self._server = uvicorn.Server(uvicorn_config(EmulatorApp(self.emulator)))
        sockets = [self._socket]
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": sockets},
            name="stripe-emulator",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the emulator server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        """Stop serving and close the store."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = None
        self._thread = None
        self.emulator.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(
    config: EmulatorConfig,
    emulator: Emulator | None = None,
    sock: socket.socket | None = None,
) -> None:
    """Serve in the foreground until interrupted (the CLI's entry point)."""
    _quiet_uvicorn()
    emulator = emulator or Emulator(config)
    sock = sock or bind_socket(config.host, config.port)
    try:
        server = uvicorn.Server(uvicorn_config(EmulatorApp(emulator)))
        server.run(sockets=[sock])
    finally:
        sock.close()
        emulator.close()
