"""Fault injection: 5xx, dropped connections, truncated bodies, lock timeouts, latency."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

import httpx
import pytest
import stripe

from stripe_emulator.config import FaultSettings
from stripe_emulator.server import EmulatorServer
from tests.stripe_emulator.conftest import make_client


def test_error_rate_one_gives_api_errors_without_changing_state(
    make_server: Callable[..., EmulatorServer],
) -> None:
    server = make_server(faults=FaultSettings(error_rate=1.0, error_statuses=(503,)))
    client = make_client(server)
    with pytest.raises(stripe.APIError) as caught:
        client.v1.customers.create({"email": "x@x.test"})
    assert caught.value.http_status == 503
    assert server.emulator.store.count(_platform_scope(server), "customer") == 0


def test_lock_timeout_is_a_retryable_429(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(faults=FaultSettings(lock_timeout_rate=1.0))
    with pytest.raises(stripe.RateLimitError) as caught:
        make_client(server).v1.customers.list()
    assert caught.value.error is not None
    assert caught.value.error.code == "lock_timeout"
    assert caught.value.headers is not None
    assert caught.value.headers["stripe-should-retry"] == "true"


def test_dropped_connection_is_a_connection_error(
    make_server: Callable[..., EmulatorServer],
) -> None:
    server = make_server(faults=FaultSettings(drop_rate=1.0))
    with pytest.raises(stripe.APIConnectionError):
        make_client(server).v1.customers.list()


def test_truncated_body_after_the_write_replays_with_the_same_key(
    make_server: Callable[..., EmulatorServer],
) -> None:
    server = make_server(control=True, faults=FaultSettings(truncate_rate=1.0))
    client = make_client(server)
    key = str(uuid.uuid4())
    with pytest.raises(stripe.APIConnectionError):
        client.v1.customers.create({"email": "t@x.test"}, {"idempotency_key": key})
    httpx.post(server.url + "/_emulator/faults", json={"truncate_rate": 0})
    replay = client.v1.customers.create({"email": "t@x.test"}, {"idempotency_key": key})
    assert replay.email == "t@x.test"
    assert server.emulator.store.count(_platform_scope(server), "customer") == 1


def test_latency_is_added(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(faults=FaultSettings(latency_ms=120, jitter_ms=10, seed=1))
    began = time.perf_counter()
    make_client(server).v1.customers.list()
    assert time.perf_counter() - began >= 0.12


def test_faults_only_hit_the_configured_prefix(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(faults=FaultSettings(error_rate=1.0, path_prefix="/v1/prices"))
    assert make_client(server).v1.customers.list().data == []


def _platform_scope(server: EmulatorServer) -> object:
    from stripe_emulator.store import Scope

    return Scope(server.emulator.platform.account_id, False)
