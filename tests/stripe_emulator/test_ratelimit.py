"""Rate limits: off by default; when on, Stripe's 429 body and headers per bucket."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import stripe

from stripe_emulator.config import RateLimitSettings
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
