"""The demo listens before it prints its URL, and a taken port is one clear error."""

from __future__ import annotations

import socket

import pytest

from revlens.demo import listen
from revlens.errors import StartupError


def test_listening_socket_accepts_connections_before_any_server_runs() -> None:
    with listen("127.0.0.1", 0) as sock:
        port = sock.getsockname()[1]
        # Queued in the backlog: the connection succeeds though nothing has called accept().
        with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
            assert client.getpeername()[1] == port


def test_taken_port_is_a_startup_error_naming_the_port() -> None:
    with listen("127.0.0.1", 0) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(StartupError, match=f"cannot serve on 127.0.0.1:{port}: .*--port"):
            listen("127.0.0.1", port)
