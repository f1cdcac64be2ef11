"""Gentle live activity for a running demo: new subscribers, upgrades and cancellations.

Runs through the public API as the connected accounts' own business would, so every change
makes the same objects and events as the seeded history.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from stripe_emulator.scenario.wire import Api, ScenarioError

JsonObject = dict[str, Any]


@dataclass
class Activity:
    """Makes one small change per `step()` on one of the accounts, chosen at random."""

    api: Api
    accounts: list[str]
    rng: random.Random = field(default_factory=lambda: random.Random(20261127))
    _prices: dict[str, list[str]] = field(default_factory=dict)

    def _licensed_prices(self, account: str) -> list[str]:
        if account not in self._prices:
            listed = self.api.call(
                "GET", "/v1/prices", {"active": True, "type": "recurring", "limit": 100}, account
            )
            self._prices[account] = [
                p["id"]
                for p in listed["data"]
                if p["recurring"]["usage_type"] == "licensed" and p["billing_scheme"] == "per_unit"
            ]
        return self._prices[account]

    def step(self) -> str:
        """Make one change; return what it was (for the demo's log)."""
        account = self.rng.choice(self.accounts)
        roll = self.rng.random()
        try:
            if roll < 0.6:
                return self._subscribe(account)
            if roll < 0.85:
                return self._upgrade(account)
            return self._cancel(account)
        except ScenarioError as error:
            return f"{account}: skipped ({error})"

    def _subscribe(self, account: str) -> str:
        prices = self._licensed_prices(account)
        if not prices:
            return f"{account}: no price to subscribe to"
        n = self.rng.randrange(1_000_000)
        customer = self.api.call(
            "POST",
            "/v1/customers",
            {"email": f"live{n}@demo.example", "name": f"Live customer {n}"},
            account,
        )
        method = self.api.call(
            "POST",
            "/v1/payment_methods/pm_card_visa/attach",
            {"customer": customer["id"]},
            account,
        )
        self.api.call(
            "POST",
            "/v1/subscriptions",
            {
                "customer": customer["id"],
                "items": [{"price": self.rng.choice(prices), "quantity": self.rng.randint(1, 5)}],
                "default_payment_method": method["id"],
            },
            account,
        )
        return f"{account}: {customer['id']} subscribed"

    def _active(self, account: str) -> JsonObject | None:
        listed = self.api.call(
            "GET", "/v1/subscriptions", {"status": "active", "limit": 50}, account
        )
        return self.rng.choice(listed["data"]) if listed["data"] else None

    def _upgrade(self, account: str) -> str:
        subscription = self._active(account)
        if subscription is None:
            return self._subscribe(account)
        item = subscription["items"]["data"][0]
        self.api.call(
            "POST",
            f"/v1/subscription_items/{item['id']}",
            {"quantity": int(item.get("quantity") or 1) + 1, "proration_behavior": "none"},
            account,
        )
        return f"{account}: {subscription['id']} gained a seat"

    def _cancel(self, account: str) -> str:
        subscription = self._active(account)
        if subscription is None:
            return self._subscribe(account)
        self.api.call("DELETE", f"/v1/subscriptions/{subscription['id']}", {}, account)
        return f"{account}: {subscription['id']} canceled"
