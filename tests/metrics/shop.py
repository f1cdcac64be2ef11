"""A small shop on the emulator: prices, customers, subscriptions, and webhook delivery."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import stripe

from revlens.mirror.ingest import receive
from revlens.tasks.jobs import apply_event_job, sync_account
from stripe_emulator.clock import WallClock
from tests.mirror.conftest import Mirror

START = int(datetime(2025, 3, 3, 9, 0, tzinfo=UTC).timestamp())
DAY = 86_400


def clock(mirror: Mirror) -> WallClock:
    """Return the emulator's clock."""
    found = mirror.emulator.emulator.clock
    assert isinstance(found, WallClock)
    return found


def today(mirror: Mirror) -> date:
    """Return the emulator's current UTC date."""
    return datetime.fromtimestamp(clock(mirror).now(), UTC).date()


class Shop:
    """Creates what a business sells and who buys it, on the mirror's connected account."""

    def __init__(self, mirror: Mirror) -> None:
        self.mirror = mirror
        self.client: stripe.StripeClient = mirror.platform
        self.opts = mirror.opts
        self.product = self.client.v1.products.create({"name": "Plan"}, self.opts).id

    def price(self, amount: int, interval: str = "month", count: int = 1) -> str:
        """Create a recurring price."""
        recurring = {"interval": interval, "interval_count": count}
        params: dict[str, Any] = {
            "product": self.product,
            "unit_amount": amount,
            "currency": "usd",
            "recurring": recurring,
        }
        return str(self.client.v1.prices.create(params, self.opts).id)  # type: ignore[arg-type]

    def customer(self, name: str, **extra: Any) -> str:
        """Create a customer who pays by card."""
        customer = self.client.v1.customers.create(
            {"name": name, "email": f"{name.lower()}@shop.example", **extra}, self.opts
        )
        method = self.client.v1.payment_methods.attach(
            "pm_card_visa", {"customer": customer.id}, self.opts
        )
        self.client.v1.customers.update(
            customer.id, {"invoice_settings": {"default_payment_method": method.id}}, self.opts
        )
        return str(customer.id)

    def subscribe(self, customer: str, price: str, quantity: int = 1, **extra: Any) -> Any:
        """Subscribe a customer to a price."""
        params = {"customer": customer, "items": [{"price": price, "quantity": quantity}]}
        return self.client.v1.subscriptions.create({**params, **extra}, self.opts)

    def coupon(self, percent: int, duration: str = "forever") -> str:
        """Create a percent-off coupon."""
        params: dict[str, Any] = {"percent_off": percent, "duration": duration}
        return str(self.client.v1.coupons.create(params, self.opts).id)

    def set_quantity(self, subscription: Any, quantity: int) -> None:
        """Change the quantity of a subscription's only item."""
        item = subscription["items"].data[0].id
        self.client.v1.subscriptions.update(
            subscription.id, {"items": [{"id": item, "quantity": quantity}]}, self.opts
        )

    def cancel(self, subscription: Any) -> None:
        """Cancel a subscription at once."""
        self.client.v1.subscriptions.cancel(subscription.id, options=self.opts)


def sync(mirror: Mirror) -> None:
    """Backfill the account (jobs run inline); its completion recomputes the metrics."""
    mirror.queue.enqueue(sync_account, account_id=mirror.account)


def deliver_events_since(mirror: Mirror, since: int) -> int:
    """Deliver the account's events created at or after `since` as webhooks would be handled."""
    events = mirror.stripe_list("/v1/events", **{"created[gte]": since})
    ordered = sorted(events.values(), key=lambda e: (e["created"], e["id"]))
    for event in ordered:
        with mirror.database.unit_of_work() as session:
            account, new = receive(session, {**event, "account": mirror.account})
        if new:
            mirror.queue.enqueue(apply_event_job, account_id=account, event_id=event["id"])
    return len(ordered)
