"""`revlens serve --workers N`: N processes answer, each delivery lands exactly once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from revlens.mirror.models import StripeEvent
from revlens.stripe_api.webhooks import sign_payload
from tests.live_server import free_port
from tests.mirror.conftest import Mirror
from tests.processes import process_environ, revlens_process


def _environ(mirror: Mirror, port: int, secret: str) -> dict[str, str]:
    return {
        **process_environ(mirror.settings),
        "REVLENS_STRIPE_SECRET_KEY": mirror.emulator.emulator.platform.secret_key_test,
        "REVLENS_STRIPE_CLIENT_ID": mirror.emulator.emulator.platform.client_id,
        "REVLENS_STRIPE_API_BASE": mirror.emulator.url,
        "REVLENS_STRIPE_CONNECT_BASE": mirror.emulator.url,
        "REVLENS_STRIPE_WEBHOOK_SECRETS": secret,
        "REVLENS_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "REVLENS_LOG_LEVEL": "warning",
    }


@pytest.fixture
def endpoint_secret(mirror: Mirror) -> Iterator[tuple[int, str]]:
    """A Connect endpoint at the emulator delivering to a port `revlens serve` will listen on."""
    port = free_port()
    made = mirror.platform.v1.webhook_endpoints.create(
        {
            "url": f"http://127.0.0.1:{port}/webhooks/stripe",
            "enabled_events": ["*"],
            "connect": True,
        }
    )
    assert made.secret is not None
    yield port, made.secret
    mirror.platform.v1.webhook_endpoints.delete(made.id)


def _sockets(port: int, state: str) -> set[str]:
    """Return the inodes of TCP sockets on local `port` in a state (01 established, 0A listen)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                found.add(fields[9])
    return found


def _wait_ready(url: str, port: int, processes: int) -> None:
    """Wait until the app answers and every process listens (each has a socket of its own)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            answered = httpx.get(url + "/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            answered = False
        if answered and len(_sockets(port, "0A")) == processes:
            return
        time.sleep(0.1)
    raise AssertionError("revlens serve did not answer")


def _tree(pid: int) -> list[int]:
    found, index = [pid], 0
    while index < len(found):
        children = Path(f"/proc/{found[index]}/task/{found[index]}/children").read_text()
        found += [int(child) for child in children.split()]
        index += 1
    return found


def _connections_held(pid: int, port: int) -> int:
    """Count the established connections to `port` whose server side this process holds."""
    established = _sockets(port, "01")
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in established:
            held += 1
    return held


def _post(sock: socket.socket, body: bytes, secret: str) -> tuple[int, dict[str, Any]]:
    """Send one delivery on a keep-alive connection; return status and JSON answer."""
    signature = sign_payload(body, secret, timestamp=int(time.time()))
    sock.sendall(
        b"POST /webhooks/stripe HTTP/1.1\r\nHost: revlens\r\nContent-Type: application/json\r\n"
        + f"Stripe-Signature: {signature}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, rest = answer.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if b"content-length" in line.lower()
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return int(head.split()[1]), orjson.loads(rest)


def _stored_counts(mirror: Mirror) -> dict[str, int]:
    with mirror.database.read() as session:
        rows = session.execute(
            select(StripeEvent.event_id, func.count())
            .where(StripeEvent.account_id == mirror.account)
            .group_by(StripeEvent.event_id)
        ).all()
    return {str(event_id): int(count) for event_id, count in rows}


def test_two_processes_answer_and_each_delivery_lands_once(
    mirror: Mirror, endpoint_secret: tuple[int, str], tmp_path: Path
) -> None:
    port, secret = endpoint_secret
    url = f"http://127.0.0.1:{port}"
    environ = _environ(mirror, port, secret)
    args = ("serve", "--port", str(port), "--workers", "2")
    with revlens_process(*args, env=environ, log=tmp_path / "serve.log") as server:
        _wait_ready(url, port, 2)
        before = {e.id for e in mirror.platform.v1.events.list({"limit": 100}, mirror.opts).data}
        # The emulator delivers the events of these changes to the server.
        for number in range(12):
            customer = mirror.platform.v1.customers.create(
                {"email": f"w{number}@serve.example"}, mirror.opts
            )
            mirror.platform.v1.customers.update(customer.id, {"name": f"W {number}"}, mirror.opts)
        events = mirror.platform.v1.events.list({"limit": 100}, mirror.opts).data
        expected = {event.id for event in events} - before
        assert len(expected) >= 24
        deadline = time.monotonic() + 60
        while set(_stored_counts(mirror)) != expected and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _stored_counts(mirror) == dict.fromkeys(expected, 1)

        # Stripe delivering the same events again, on 24 connections of its own: every one is
        # answered as a duplicate, and both processes took connections.
        with mirror.database.read() as session:
            bodies = [orjson.dumps(data) for data in session.scalars(select(StripeEvent.data))]
        connections = [socket.create_connection(("127.0.0.1", port)) for _ in bodies]
        try:
            answers = [
                _post(sock, body, secret) for sock, body in zip(connections, bodies, strict=True)
            ]
            processes = [pid for pid in _tree(server.pid) if pid != server.pid]
            held = {pid: _connections_held(pid, port) for pid in processes}
        finally:
            for sock in connections:
                sock.close()
        assert answers == [(200, {"received": True, "duplicate": True})] * len(bodies)
        assert sum(1 for count in held.values() if count) == 2, held
        assert sum(held.values()) >= len(bodies)  # and the emulator's own connection
        assert _stored_counts(mirror) == dict.fromkeys(expected, 1)
    assert server.returncode == 0


@pytest.mark.parametrize("value", ["0", "-1", "65", "two", ""])
def test_a_bad_worker_count_is_one_clear_line(tmp_path: Path, value: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "revlens", "serve", "--workers", value],
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"revlens: error: --workers: expected a whole number from 1 to 64, got {value!r}\n"
    )


def test_a_taken_port_is_one_clear_line(tmp_path: Path) -> None:
    environ = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    run = {"env": environ, "cwd": tmp_path, "capture_output": True, "text": True, "timeout": 120}
    migrated = subprocess.run([sys.executable, "-m", "revlens", "migrate"], check=True, **run)
    assert migrated.returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "revlens", "serve", "--port", str(port), "--workers", "2"],
            check=False,
            **run,
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"revlens: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )
