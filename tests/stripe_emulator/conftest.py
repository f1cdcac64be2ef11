"""Fixtures for emulator tests: a session-wide running emulator, SDK clients, and a fresh
connected account per test so tests never see each other's objects."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe

from stripe_emulator.config import EmulatorConfig
from stripe_emulator.platform import Platform
from stripe_emulator.server import EmulatorServer


@dataclass(frozen=True)
class Connected:
    """A connected account and the request options that act as it."""

    id: str
    opts: dict[str, Any]


def make_client(
    server: EmulatorServer, *, live: bool = False, **kwargs: Any
) -> stripe.StripeClient:
    """Return an SDK client for the platform pointed at `server`."""
    platform = server.emulator.platform
    return stripe.StripeClient(
        platform.secret_key(live),
        client_id=platform.client_id,
        base_addresses={"api": server.url, "connect": server.url},
        **kwargs,
    )


def paying_customer(client: stripe.StripeClient, account: Connected) -> str:
    """Create a customer of `account` whose invoices are paid with a test Visa card."""
    card = "pm_card_visa"
    params: dict[str, Any] = {
        "payment_method": card,
        "invoice_settings": {"default_payment_method": card},
    }
    return str(client.v1.customers.create(params, account.opts).id)  # type: ignore[arg-type]


def monthly_price(client: stripe.StripeClient, account: Connected, unit_amount: int) -> str:
    """Create a product and a monthly USD price of `unit_amount` for it; return the price."""
    product = client.v1.products.create({"name": "Plan"}, account.opts).id
    recurring: dict[str, Any] = {"interval": "month"}
    params: dict[str, Any] = {
        "product": product,
        "currency": "usd",
        "unit_amount": unit_amount,
        "recurring": recurring,
    }
    return str(client.v1.prices.create(params, account.opts).id)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[EmulatorServer]:
    """Run one emulator (control API on) for the whole session."""
    with EmulatorServer(EmulatorConfig(control=True)) as server:
        yield server


@pytest.fixture(scope="session")
def platform(emulator_server: EmulatorServer) -> Platform:
    """Return the session emulator's platform identity."""
    return emulator_server.emulator.platform


@pytest.fixture(scope="session")
def client(emulator_server: EmulatorServer) -> stripe.StripeClient:
    """Return a test-mode SDK client for the session emulator."""
    return make_client(emulator_server)


@pytest.fixture(scope="session")
def live_client(emulator_server: EmulatorServer) -> stripe.StripeClient:
    """Return a live-mode SDK client for the session emulator."""
    return make_client(emulator_server, live=True)


@pytest.fixture
def account(client: stripe.StripeClient) -> Connected:
    """Create a fresh connected account (test mode) for one test."""
    created = client.v1.accounts.create({"type": "standard"})
    return Connected(created.id, {"stripe_account": created.id})


@pytest.fixture
def http(emulator_server: EmulatorServer, platform: Platform) -> Iterator[httpx.Client]:
    """Return a raw HTTP client authenticated with the test secret key."""
    headers = {"Authorization": f"Bearer {platform.secret_key_test}"}
    with httpx.Client(base_url=emulator_server.url, headers=headers, timeout=10) as raw:
        yield raw


@pytest.fixture
def make_server() -> Iterator[Callable[..., EmulatorServer]]:
    """Start private emulators (for settings a test changes); all stop at teardown."""
    started: list[EmulatorServer] = []

    def start(**config: Any) -> EmulatorServer:
        server = EmulatorServer(EmulatorConfig(**config)).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
