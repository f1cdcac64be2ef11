"""The ground truth a scenario writes: every subscription's intended timeline.

Format (`stripe-emulator-scenario/1`), all instants Unix seconds (UTC), amounts minor units:

```
{"format": "stripe-emulator-scenario/1", "seed": S, "start": t0, "end": t1,
 "billing_settings": {"retry_days": [3, 5, 7], "subscription_after_retries": "canceled"},
 "accounts": [{
   "id": "acct_…", "currency": "usd",
   "prices": {"price_…": {"currency", "type": "recurring", "billing_scheme", "unit_amount_decimal",
              "tiers_mode", "tiers": [{"up_to", "unit_amount_decimal", "flat_amount_decimal"}],
              "transform_quantity", "interval", "interval_count", "usage_type"}},
   "coupons": {"ID": {"duration", "duration_in_months", "percent_off", "amount_off", "currency"}},
   "customers": [{"id": "cus_…", "story": "upgrade", "subscriptions": [{
       "id": "sub_…", "currency": "usd",
       "timeline": [{"at": t, "status": "active",
                     "items": [{"price": "price_…", "quantity": 2}],
                     "discounts": [{"coupon": "ID", "start": t, "end": null}]}, …]}]}]}]}
```

Each timeline entry is the subscription's whole state from `at` until the next entry's `at`
(before the first entry the subscription does not exist; after `end` nothing is promised).
Statuses are Stripe's; a discount applies to the subscription from its `start`, and a
`repeating` one stops at its `end`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]
FORMAT = "stripe-emulator-scenario/1"


@dataclass
class SubscriptionTruth:
    """Changes to one subscription, folded into whole-state entries when written."""

    id: str
    currency: str
    changes: list[tuple[int, int, JsonObject]] = field(default_factory=list)

    def change(self, at: int, seq: int, **fields: Any) -> None:
        """Record that from `at` some of status, items, discounts are as given."""
        self.changes.append((at, seq, fields))

    def timeline(self, end: int) -> list[JsonObject]:
        """Return the whole-state entries up to `end`, in time order."""
        state: JsonObject = {"status": None, "items": [], "discounts": []}
        entries: list[JsonObject] = []
        for at, _seq, fields in sorted(self.changes, key=lambda c: (c[0], c[1])):
            if at > end:
                break
            state = {**state, **fields}
            entry = {"at": at, **state}
            if entries and entries[-1]["at"] == at:
                entries[-1] = entry
            else:
                entries.append(entry)
        return entries


@dataclass
class CustomerTruth:
    """A customer, the story the generator told, and its subscriptions."""

    id: str
    story: str
    subscriptions: list[SubscriptionTruth] = field(default_factory=list)


def price_truth(price: JsonObject) -> JsonObject:
    """Return what the truth keeps of a stored price (enough to compute its MRR)."""
    recurring = price.get("recurring") or {}
    tiers = price.get("tiers")
    return {
        "currency": price["currency"],
        "type": price["type"],
        "billing_scheme": price["billing_scheme"],
        "unit_amount_decimal": price.get("unit_amount_decimal"),
        "tiers_mode": price.get("tiers_mode"),
        "tiers": None
        if tiers is None
        else [
            {
                "up_to": tier["up_to"],
                "unit_amount_decimal": tier.get("unit_amount_decimal"),
                "flat_amount_decimal": tier.get("flat_amount_decimal"),
            }
            for tier in tiers
        ],
        "transform_quantity": price.get("transform_quantity"),
        "interval": recurring.get("interval"),
        "interval_count": recurring.get("interval_count"),
        "usage_type": recurring.get("usage_type"),
    }


def coupon_truth(coupon: JsonObject) -> JsonObject:
    """Return what the truth keeps of a coupon."""
    return {
        key: coupon.get(key)
        for key in ("duration", "duration_in_months", "percent_off", "amount_off", "currency")
    }
