"""Rate limits: off by default; when on, Stripe's 429 body and headers per bucket."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import stripe

from stripe_emulator.config import FaultSettings, RateLimitSettings
from stripe_emulator.ratelimit import RateLimiter
from stripe_emulator.server import EmulatorServer
from tests.stripe_emulator.conftest import make_client


def test_off_by_default() -> None:
    limiter = RateLimiter(RateLimitSettings())
    assert all(limiter.check("acct_1", False, "GET /v1/customers") is None for _ in range(500))


def test_global_then_endpoint_buckets() -> None:
    limiter = RateLimiter(RateLimitSettings(enabled=True, global_test=3, endpoint=2))
    results = [limiter.check("acct_1", False, "GET /v1/customers") for _ in range(3)]
    assert results == [None, None, "endpoint-rate"]
    assert limiter.check("acct_1", False, "GET /v1/prices") is None
    assert limiter.check("acct_1", False, "GET /v1/products") == "global-rate"
    assert limiter.check("acct_2", False, "GET /v1/products") is None  # per account


def test_429_body_and_headers_over_http(make_server: Callable[..., EmulatorServer]) -> None:
    server = make_server(rate_limits=RateLimitSettings(enabled=True, global_test=2, endpoint=100))
    client = make_client(server)
    client.v1.customers.list()
    client.v1.customers.list()
    with pytest.raises(stripe.RateLimitError) as caught:
        client.v1.customers.list()
    error = caught.value
    assert error.http_status == 429
    assert error.error is not None
    assert error.error.code == "rate_limit"
    assert error.error.type == "invalid_request_error"
    assert error.error.message is not None
    assert error.error.message.startswith("Too many requests hit the API too quickly.")
    assert error.headers is not None
    assert error.headers["stripe-rate-limited-reason"] == "global-rate"
    assert "stripe-should-retry" not in error.headers


def test_concurrency_counts_requests_in_flight() -> None:
    limiter = RateLimiter(
        RateLimitSettings(enabled=True, concurrency=2, endpoint_concurrency=1, global_test=1000)
    )
    lists = "GET /v1/customers"
    first = limiter.enter("acct_1", False, lists, heavy=True)
    assert first.reason is None
    assert limiter.enter("acct_1", False, lists, heavy=True).reason == "endpoint-concurrency"
    second = limiter.enter("acct_1", False, "GET /v1/customers/{id}", heavy=False)
    assert second.reason is None
    assert limiter.enter("acct_1", False, "POST /v1/prices", heavy=False).reason == (
        "global-concurrency"
    )
    assert limiter.enter("acct_2", False, lists, heavy=True).reason is None  # per account
    assert limiter.in_flight("acct_1", False) == 2
    limiter.leave(first)
    limiter.leave(second)
    assert limiter.in_flight("acct_1", False) == 0
    assert limiter.enter("acct_1", False, lists, heavy=True).reason is None


def _concurrently(count: int, call: Callable[[], object]) -> list[object]:
    results: list[object] = [None] * count
    barrier = threading.Barrier(count)

    def one(index: int) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except stripe.RateLimitError as error:
            results[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def _reasons(results: list[object]) -> list[str]:
    def reason(result: object) -> str:
        if isinstance(result, stripe.RateLimitError):
            assert result.headers is not None
            return str(result.headers["stripe-rate-limited-reason"])
        return "unanswered" if result is None else "ok"

    return sorted(reason(result) for result in results)


def test_concurrency_429s_over_http_while_requests_are_slow(
    make_server: Callable[..., EmulatorServer],
) -> None:
    server = make_server(
        rate_limits=RateLimitSettings(enabled=True, concurrency=2, endpoint_concurrency=10),
        faults=FaultSettings(latency_ms=400),
    )
    client = make_client(server, max_network_retries=0)
    customer = client.v1.customers.create({"email": "slow@x.test"}).id
    results = _concurrently(4, lambda: client.v1.customers.retrieve(customer))
    assert _reasons(results) == ["global-concurrency", "global-concurrency", "ok", "ok"]
    refused = next(r for r in results if isinstance(r, stripe.RateLimitError))
    assert refused.http_status == 429
    assert refused.error is not None
    assert refused.error.code == "rate_limit"
    # Once they are answered, the slots are free again.
    assert server.emulator.rate_limiter.in_flight(server.emulator.platform.account_id, False) == 0
    assert client.v1.customers.retrieve(customer).id == customer


def test_endpoint_concurrency_applies_to_lists_and_expansions_only(
    make_server: Callable[..., EmulatorServer],
) -> None:
    server = make_server(
        rate_limits=RateLimitSettings(enabled=True, concurrency=10, endpoint_concurrency=1),
        faults=FaultSettings(latency_ms=400),
    )
    client = make_client(server, max_network_retries=0)
    customer = client.v1.customers.create({"email": "slow@x.test"}).id
    lists = _concurrently(2, lambda: client.v1.customers.list({"limit": 1}))
    assert _reasons(lists) == ["endpoint-concurrency", "ok"]
    plain = _concurrently(3, lambda: client.v1.customers.retrieve(customer))
    assert _reasons(plain) == ["ok", "ok", "ok"]
    expanding = _concurrently(
        2, lambda: client.v1.customers.retrieve(customer, {"expand": ["tax_ids"]})
    )
    assert _reasons(expanding) == ["endpoint-concurrency", "ok"]
