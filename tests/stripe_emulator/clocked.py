"""A private emulator whose clock a test moves by hand, with SDK and control helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import stripe

from stripe_emulator.server import EmulatorServer

from .conftest import make_client

DAY = 86400
# 2024-01-31 00:00 UTC: a month-end start shows anchoring on short months.
T0 = int(datetime(2024, 1, 31, tzinfo=UTC).timestamp())


def at(year: int, month: int, day: int, hour: int = 0) -> int:
    """Return a UTC instant."""
    return int(datetime(year, month, day, hour, tzinfo=UTC).timestamp())


@dataclass
class Clocked:
    """An emulator stopped at T0, a client for it and a control client."""

    server: EmulatorServer
    client: stripe.StripeClient
    control: httpx.Client
    opts: dict[str, Any]

    def advance(self, to: int) -> dict[str, Any]:
        """Move the clock to `to` (kept frozen there) and return the control answer."""
        response = self.control.post("/_emulator/clock/advance", json={"to": to, "freeze": True})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def customer(self, card: str | None = "pm_card_visa") -> str:
        """Create a customer, with `card` as default payment method when given."""
        customer = self.client.v1.customers.create({"email": "c@x.test"}, self.opts)
        if card is not None:
            self.set_card(customer.id, card)
        return customer.id

    def set_card(self, customer: str, card: str) -> str:
        """Attach `card` and make it the customer's default payment method."""
        method = self.client.v1.payment_methods.attach(card, {"customer": customer}, self.opts)
        self.client.v1.customers.update(
            customer, {"invoice_settings": {"default_payment_method": method.id}}, self.opts
        )
        return method.id

    def price(
        self, amount: int = 1000, interval: str = "month", count: int = 1, currency: str = "usd"
    ) -> str:
        """Create a recurring price."""
        product = self.client.v1.products.create({"name": "Plan"}, self.opts)
        return self.client.v1.prices.create(
            {
                "product": product.id,
                "unit_amount": amount,
                "currency": currency,
                "recurring": {"interval": interval, "interval_count": count},
            },
            self.opts,
        ).id

    def subscribe(self, customer: str, price: str, **extra: Any) -> stripe.Subscription:
        """Subscribe a customer to one price."""
        return self.client.v1.subscriptions.create(
            {"customer": customer, "items": [{"price": price}], **extra}, self.opts
        )

    def subscription(self, sub_id: str) -> stripe.Subscription:
        """Retrieve a subscription."""
        return self.client.v1.subscriptions.retrieve(sub_id, options=self.opts)

    def invoices(self, sub_id: str) -> list[stripe.Invoice]:
        """Return a subscription's invoices, oldest first."""
        found = self.client.v1.invoices.list({"subscription": sub_id, "limit": 100}, self.opts)
        return list(reversed(found.data))

    def events(self, type_: str) -> list[stripe.Event]:
        """Return the retained events of a type, oldest first."""
        found = self.client.v1.events.list({"type": type_, "limit": 100}, self.opts)
        return list(reversed(found.data))


@pytest.fixture
def clocked(make_server: Callable[..., EmulatorServer]) -> Iterator[Clocked]:
    """Start a private emulator at T0 with its clock frozen, acting as a connected account."""
    server = make_server(control=True, now=T0)
    client = make_client(server)
    with httpx.Client(base_url=server.url, timeout=30) as control:
        control.post("/_emulator/clock/advance", json={"to": T0, "freeze": True})
        account = client.v1.accounts.create({"type": "standard"})
        yield Clocked(server, client, control, {"stripe_account": account.id})
